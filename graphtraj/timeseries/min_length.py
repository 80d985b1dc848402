"""Minimum series lengths of the estimators in :mod:`graphtraj.timeseries`.

Every estimator that follows neighbours, lags or windows needs a minimum number of
samples for its parameters. The helpers here return that number; the estimators raise
:class:`~graphtraj.exceptions.InsufficientDataError` one sample below it, with a message
that states the number and how it was computed (the same text as :func:`explain`).

Conventions: ``span = (emb_dim - 1) * lag + 1`` samples make one delay vector;
``theiler = w`` excludes neighbour pairs with ``|i - j| < w``, so a vector in the middle
of the admissible range loses ``2 w - 1`` candidates (itself included) and needs
``2 w - 1 + k`` candidates to keep ``k`` neighbours.

Examples
--------
>>> min_length_rosenstein(emb_dim=10, lag=5, trajectory_len=20, theiler=11)
86
>>> print(explain("rosenstein", emb_dim=10, lag=5, trajectory_len=20, theiler=11))
(span - 1) + (trajectory_len - 1) + 2 * theiler = 45 + 19 + 22 = 86 (span = (emb_dim - 1) * lag + 1 = 46; ...)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from graphtraj._checks import check_int, check_option
from graphtraj.exceptions import ValidationError

__all__ = [
    "explain",
    "min_length_rosenstein",
    "min_length_kantz",
    "min_length_network_mle",
    "min_length_correlation_sum",
    "min_length_sample_entropy",
    "min_length_false_nearest_neighbors",
    "min_length_cao",
    "min_length_lag_search",
    "min_length_lyapunov_eckmann",
    "min_length_hurst_rs",
    "min_length_dfa",
]


def _span(emb_dim: int, lag: int) -> int:
    return (emb_dim - 1) * lag + 1


def _rule_neighbour_follow(
    emb_dim: int, lag: int, trajectory_len: int, theiler: int, n_neighbors: int
) -> tuple[int, str]:
    emb_dim = check_int(emb_dim, "emb_dim", minimum=1)
    lag = check_int(lag, "lag", minimum=1)
    trajectory_len = check_int(trajectory_len, "trajectory_len", minimum=1)
    theiler = check_int(theiler, "theiler", minimum=1)
    n_neighbors = check_int(n_neighbors, "n_neighbors", minimum=1)
    span = _span(emb_dim, lag)
    cand = 2 * theiler - 1 + n_neighbors
    n = (span - 1) + (trajectory_len - 1) + cand
    if n_neighbors == 1:
        how = (
            f"(span - 1) + (trajectory_len - 1) + 2 * theiler = {span - 1} + "
            f"{trajectory_len - 1} + {cand} = {n} (span = (emb_dim - 1) * lag + 1 = {span}; "
            f"each of the first N - span - trajectory_len + 2 delay vectors, which can be "
            f"followed for trajectory_len - 1 steps, needs a neighbour among them outside "
            f"the Theiler window |i - j| < {theiler})"
        )
    else:
        how = (
            f"(span - 1) + (trajectory_len - 1) + 2 * theiler - 1 + n_neighbors = "
            f"{span - 1} + {trajectory_len - 1} + {2 * theiler - 1} + {n_neighbors} = {n} "
            f"(span = (emb_dim - 1) * lag + 1 = {span}; each followable delay vector needs "
            f"{n_neighbors} neighbours outside the Theiler window |i - j| < {theiler})"
        )
    return n, how


def _rule_rosenstein(emb_dim: int, lag: int, trajectory_len: int, theiler: int) -> tuple[int, str]:
    return _rule_neighbour_follow(emb_dim, lag, trajectory_len, theiler, 1)


def _rule_kantz(
    emb_dim: int, lag: int, trajectory_len: int, theiler: int, n_neighbors: int = 1
) -> tuple[int, str]:
    return _rule_neighbour_follow(emb_dim, lag, trajectory_len, theiler, n_neighbors)


def _rule_network_mle(
    trajectory_len: int, theiler: int, n_neighbors: int = 1, mode: str = "single"
) -> tuple[int, str]:
    mode = check_option(mode, "mode", ("single", "two"))
    if mode == "two":
        return 2, "2 snapshots: a divergence curve needs at least two points"
    n, how = _rule_neighbour_follow(1, 1, trajectory_len, theiler, n_neighbors)
    return n, how.replace("delay vector", "snapshot")


def _rule_correlation_sum(emb_dim: int, lag: int, theiler: int) -> tuple[int, str]:
    emb_dim = check_int(emb_dim, "emb_dim", minimum=1)
    lag = check_int(lag, "lag", minimum=1)
    theiler = check_int(theiler, "theiler", minimum=1)
    span = _span(emb_dim, lag)
    n = span + theiler
    return n, (
        f"span + theiler = {span} + {theiler} = {n} (span = (emb_dim - 1) * lag + 1; "
        f"at least one pair of delay vectors with |i - j| >= theiler)"
    )


def _rule_sample_entropy(emb_dim: int, lag: int = 1) -> tuple[int, str]:
    emb_dim = check_int(emb_dim, "emb_dim", minimum=1)
    lag = check_int(lag, "lag", minimum=1)
    n = emb_dim * lag + 2
    return n, (
        f"emb_dim * lag + 2 = {emb_dim} * {lag} + 2 = {n} (two templates of length "
        f"emb_dim + 1, the Richman-Moorman template set of N - emb_dim * lag vectors)"
    )


def _rule_fnn(max_dim: int, lag: int, theiler: int) -> tuple[int, str]:
    max_dim = check_int(max_dim, "max_dim", minimum=1)
    lag = check_int(lag, "lag", minimum=1)
    theiler = check_int(theiler, "theiler", minimum=1)
    n = max_dim * lag + 2 * theiler
    return n, (
        f"max_dim * lag + 2 * theiler = {max_dim} * {lag} + 2 * {theiler} = {n} "
        f"(vectors of dimension max_dim with a next coordinate, each with a neighbour "
        f"outside the Theiler window)"
    )


def _rule_cao(max_dim: int, lag: int, theiler: int) -> tuple[int, str]:
    max_dim = check_int(max_dim, "max_dim", minimum=1)
    lag = check_int(lag, "lag", minimum=1)
    theiler = check_int(theiler, "theiler", minimum=1)
    n = (max_dim + 1) * lag + 2 * theiler
    return n, (
        f"(max_dim + 1) * lag + 2 * theiler = ({max_dim} + 1) * {lag} + 2 * {theiler} = {n} "
        f"(E1(max_dim) needs vectors of dimension max_dim + 2, each with a neighbour "
        f"outside the Theiler window)"
    )


def _rule_lag_search(max_lag: int) -> tuple[int, str]:
    max_lag = check_int(max_lag, "max_lag", minimum=1)
    n = max_lag + 2
    return n, f"max_lag + 2 = {n} (two sample pairs at the largest lag)"


def _rule_eckmann(emb_dim: int, matrix_dim: int, min_nb: int, theiler: int) -> tuple[int, str]:
    emb_dim = check_int(emb_dim, "emb_dim", minimum=2)
    matrix_dim = check_int(matrix_dim, "matrix_dim", minimum=2)
    min_nb = check_int(min_nb, "min_nb", minimum=1)
    theiler = check_int(theiler, "theiler", minimum=1)
    if (emb_dim - 1) % (matrix_dim - 1):
        raise ValidationError(
            f"`emb_dim - 1` must be divisible by `matrix_dim - 1`; got emb_dim={emb_dim}, "
            f"matrix_dim={matrix_dim}"
        )
    m = (emb_dim - 1) // (matrix_dim - 1)
    min_tsep = theiler - 1
    n = emb_dim + m + 2 * min_tsep + min_nb
    return n, (
        f"emb_dim + m + 2 * (theiler - 1) + min_nb = {emb_dim} + {m} + {2 * min_tsep} + "
        f"{min_nb} = {n} (nolds.lyap_e_len, m = (emb_dim - 1) / (matrix_dim - 1))"
    )


def _rule_hurst_rs(nvals: Sequence[int] | None = None) -> tuple[int, str]:
    if nvals is None:
        return 10, "10 for the default subseries lengths (at least two lengths >= 2)"
    n = max(int(v) for v in nvals)
    return n, f"max(nvals) = {n} (one subseries of the longest length)"


def _rule_dfa(nvals: Sequence[int] | None = None) -> tuple[int, str]:
    if nvals is None:
        return 11, "11 for the default window sizes 4..9 (window < N)"
    n = max(int(v) for v in nvals) + 1
    return n, f"max(nvals) + 1 = {n} (every window shorter than the series)"


_RULES: dict[str, Callable[..., tuple[int, str]]] = {
    "rosenstein": _rule_rosenstein,
    "kantz": _rule_kantz,
    "network_mle": _rule_network_mle,
    "correlation_sum": _rule_correlation_sum,
    "sample_entropy": _rule_sample_entropy,
    "false_nearest_neighbors": _rule_fnn,
    "cao": _rule_cao,
    "lag_search": _rule_lag_search,
    "lyapunov_eckmann": _rule_eckmann,
    "hurst_rs": _rule_hurst_rs,
    "dfa": _rule_dfa,
}


def explain(estimator: str, **params: Any) -> str:
    """How the minimum length of ``estimator`` follows from ``params`` (one line).

    Parameters
    ----------
    estimator : str
        One of ``"rosenstein"``, ``"kantz"``, ``"network_mle"``, ``"correlation_sum"``,
        ``"sample_entropy"``, ``"false_nearest_neighbors"``, ``"cao"``,
        ``"lag_search"``, ``"lyapunov_eckmann"``, ``"hurst_rs"``, ``"dfa"``.
    **params
        The parameters of the matching ``min_length_*`` function.

    Returns
    -------
    str
        The formula with the numbers filled in, as quoted by the estimator's error.

    Raises
    ------
    UnknownOptionError
        For an unknown estimator name.
    """
    estimator = check_option(estimator, "estimator", tuple(_RULES))
    return _RULES[estimator](**params)[1]


def min_length_rosenstein(emb_dim: int, lag: int, trajectory_len: int, theiler: int) -> int:
    """Minimum series length of :func:`~graphtraj.timeseries.lyapunov_rosenstein`.

    Parameters
    ----------
    emb_dim, lag : int
        Embedding dimension and delay (samples).
    trajectory_len : int
        Points of the divergence curve (steps 0 .. trajectory_len - 1).
    theiler : int
        Theiler window w >= 1 (pairs with ``|i - j| < w`` are not neighbours).

    Returns
    -------
    int
        ``(span - 1) + (trajectory_len - 1) + 2 w``, equal to nolds' ``lyap_r_len``
        with ``min_tsep = w - 1``.

    Examples
    --------
    >>> min_length_rosenstein(10, 5, 20, 11)   # nolds: lyap_r_len(..., min_tsep=10)
    86
    """
    return _rule_rosenstein(emb_dim, lag, trajectory_len, theiler)[0]


def min_length_kantz(
    emb_dim: int, lag: int, trajectory_len: int, theiler: int, n_neighbors: int = 1
) -> int:
    """Minimum series length of :func:`~graphtraj.timeseries.lyapunov_kantz`.

    ``(span - 1) + (trajectory_len - 1) + 2 w - 1 + n_neighbors``; with a radius
    neighbourhood use ``n_neighbors=1`` (at least one neighbour must be possible).

    Examples
    --------
    >>> min_length_kantz(2, 1, 10, 1, n_neighbors=10)
    21
    """
    return _rule_kantz(emb_dim, lag, trajectory_len, theiler, n_neighbors)[0]


def min_length_network_mle(
    trajectory_len: int, theiler: int, n_neighbors: int = 1, mode: str = "single"
) -> int:
    """Minimum number of snapshots of :func:`~graphtraj.timeseries.network_mle`.

    Single-trajectory mode as :func:`min_length_kantz` with ``emb_dim = 1``;
    two-trajectory mode needs 2 snapshots.

    Examples
    --------
    >>> min_length_network_mle(20, 5, n_neighbors=10)
    38
    """
    return _rule_network_mle(trajectory_len, theiler, n_neighbors, mode)[0]


def min_length_correlation_sum(emb_dim: int, lag: int, theiler: int) -> int:
    """Minimum series length of :func:`~graphtraj.timeseries.correlation_sum`: span + w.

    Examples
    --------
    >>> min_length_correlation_sum(5, 1, 1)
    6
    """
    return _rule_correlation_sum(emb_dim, lag, theiler)[0]


def min_length_sample_entropy(emb_dim: int, lag: int = 1) -> int:
    """Minimum series length of :func:`~graphtraj.timeseries.sample_entropy`: m lag + 2.

    Examples
    --------
    >>> min_length_sample_entropy(2)
    4
    """
    return _rule_sample_entropy(emb_dim, lag)[0]


def min_length_false_nearest_neighbors(max_dim: int, lag: int, theiler: int) -> int:
    """Minimum series length of :func:`~graphtraj.timeseries.false_nearest_neighbors`.

    Examples
    --------
    >>> min_length_false_nearest_neighbors(10, 1, 1)
    12
    """
    return _rule_fnn(max_dim, lag, theiler)[0]


def min_length_cao(max_dim: int, lag: int, theiler: int) -> int:
    """Minimum series length of :func:`~graphtraj.timeseries.cao_embedding`.

    Examples
    --------
    >>> min_length_cao(10, 1, 1)
    13
    """
    return _rule_cao(max_dim, lag, theiler)[0]


def min_length_lag_search(max_lag: int) -> int:
    """Minimum series length of the lag estimators (mutual information, autocorrelation).

    Examples
    --------
    >>> min_length_lag_search(20)
    22
    """
    return _rule_lag_search(max_lag)[0]


def min_length_lyapunov_eckmann(
    emb_dim: int = 10, matrix_dim: int = 4, min_nb: int = 8, theiler: int = 1
) -> int:
    """Minimum series length of :func:`~graphtraj.timeseries.lyapunov_eckmann` (nolds).

    Examples
    --------
    >>> min_length_lyapunov_eckmann(10, 4, 8, 1)
    21
    """
    return _rule_eckmann(emb_dim, matrix_dim, min_nb, theiler)[0]


def min_length_hurst_rs(nvals: Sequence[int] | None = None) -> int:
    """Minimum series length of :func:`~graphtraj.timeseries.hurst_rs`.

    Examples
    --------
    >>> min_length_hurst_rs([8, 16, 32])
    32
    """
    return _rule_hurst_rs(nvals)[0]


def min_length_dfa(nvals: Sequence[int] | None = None) -> int:
    """Minimum series length of :func:`~graphtraj.timeseries.dfa`.

    Examples
    --------
    >>> min_length_dfa()
    11
    """
    return _rule_dfa(nvals)[0]
