"""Graph space against weight space: the Mantel test and distance-view comparisons."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.stats import rankdata

from graphtraj._checks import as_float_array, as_rng, check_int, check_option
from graphtraj._result import Result
from graphtraj.exceptions import InsufficientDataError, UndefinedResultWarning, ValidationError
from graphtraj.snapshots import GraphSeries
from graphtraj.trajectory.core import every_kth

__all__ = ["MantelResult", "mantel", "DistanceComparison", "compare_to_weight_distance"]


@dataclass(frozen=True)
class MantelResult(Result):
    """Result of a Mantel test between two distance matrices.

    Attributes
    ----------
    statistic : float
        Pearson or Spearman correlation of the upper-triangle entries.
    p_value : float
        Permutation p-value ``(1 + #{r_perm ≥ r}) / (1 + permutations)`` (for
        ``alternative="greater"``; ``≤`` for "less", ``|r_perm| ≥ |r|`` for
        "two-sided"); NaN when ``permutations == 0``.
    permutations : int
        Number of random joint row/column permutations of the second matrix.
    method, alternative : str
        The options used.
    n : int
        Matrix size.
    null : ndarray (permutations,)
        The permutation statistics.

    Examples
    --------
    >>> import numpy as np
    >>> d = np.abs(np.arange(5.0)[:, None] - np.arange(5.0))
    >>> res = mantel(d, 2 * d, permutations=9, rng=0)
    >>> res.statistic, res.null.shape, res.as_dict()["method"]
    (1.0, (9,), 'pearson')
    """

    statistic: float
    p_value: float
    permutations: int
    method: str
    alternative: str
    n: int
    null: np.ndarray = field(repr=False, default_factory=lambda: np.empty(0))


def _unit_scaled(m: np.ndarray) -> np.ndarray:
    """``m`` times the power of two that brings its largest ``|entry|`` to [0.5, 1).

    Exact, and a correlation does not see it; it keeps the variances of matrices in
    units of 1e300 or 1e-170 from overflowing or underflowing.
    """
    top = float(np.max(np.abs(m))) if m.size else 0.0
    return m if top == 0.0 else np.ldexp(m, -np.frexp(top)[1])


def _square(d: Any, name: str) -> np.ndarray:
    arr = as_float_array(d, name, 2)
    if arr.shape[0] != arr.shape[1]:
        raise ValidationError(f"`{name}` must be a square distance matrix; got shape {arr.shape}")
    if not np.allclose(arr, arr.T, rtol=1e-10, atol=1e-12 * max(np.abs(arr).max(), 1e-300)):
        raise ValidationError(f"`{name}` must be symmetric; got a non-symmetric matrix")
    return arr


def mantel(
    d1: Any,
    d2: Any,
    *,
    permutations: int = 999,
    method: str = "pearson",
    alternative: str = "greater",
    rng: Any = None,
) -> MantelResult:
    """Mantel test: correlation between two distance matrices, with a permutation p-value.

    Parameters
    ----------
    d1, d2 : array (n, n)
        Symmetric distance matrices over the same n objects (e.g. the same snapshots
        under two metrics). Diagonals are ignored.
    permutations : int
        Number of random relabellings of ``d2`` (rows and columns together), >= 0.
    method : {"pearson", "spearman"}
        Correlation of the ``n(n-1)/2`` upper-triangle entries (Spearman: of their
        ranks, ties averaged).
    alternative : {"greater", "less", "two-sided"}
        Direction of the test.
    rng : int, Generator or None
        Randomness of the permutations.

    Returns
    -------
    MantelResult
        Statistic, p-value and the permutation distribution.

    Raises
    ------
    ValidationError
        If the matrices are not square, symmetric, finite or of equal size.
    InsufficientDataError
        If n < 3.

    Warns
    -----
    UndefinedResultWarning
        When one matrix has constant off-diagonal entries (statistic and p NaN).

    Notes
    -----
    Mantel (1967). Both matrices are first scaled by a power of two (exact, and
    invisible to a correlation) so that entries of any magnitude, 1e-300 to 1e300,
    give the same statistic. A joint permutation maps the set of off-diagonal pairs onto itself,
    so the mean and spread of the permuted entries are those of the original; each
    permutation then costs one gather and one dot product, O(n²). Total
    O(permutations · n²).

    References
    ----------
    .. [1] N. Mantel, "The detection of disease clustering and a generalized
       regression approach", Cancer Res. 27, 209 (1967).
    .. [2] P. Legendre, L. Legendre, *Numerical Ecology*, 3rd ed., Elsevier (2012),
       sect. 10.5.1.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.arange(6.0)
    >>> d = np.abs(x[:, None] - x[None, :])
    >>> res = mantel(d, d ** 2, method="spearman", permutations=99, rng=0)
    >>> res.statistic, res.p_value
    (1.0, 0.01)
    """
    a = _square(d1, "d1")
    b = _square(d2, "d2")
    if a.shape != b.shape:
        raise ValidationError(
            f"`d1` and `d2` must have the same shape; got {a.shape} and {b.shape}"
        )
    n = a.shape[0]
    if n < 3:
        raise InsufficientDataError(
            f"`d1` must be at least 3 x 3 for a Mantel test; got {n} x {n}"
        )
    a, b = _unit_scaled(a), _unit_scaled(b)
    permutations = check_int(permutations, "permutations", minimum=0)
    method = check_option(method, "method", ("pearson", "spearman"))
    alternative = check_option(alternative, "alternative", ("greater", "less", "two-sided"))
    gen = as_rng(rng)
    iu = np.triu_indices(n, 1)
    x, y = a[iu], b[iu]
    if method == "spearman":
        x, y = rankdata(x), rankdata(y)
        # rank the full matrix of d2 so permuted gathers read ranks
        rb = np.zeros((n, n))
        rb[iu] = y
        b = rb + rb.T
    xs, ys = x.std(), y.std()
    if xs == 0 or ys == 0:
        warnings.warn(
            "a distance matrix has constant off-diagonal entries; the Mantel "
            "correlation is undefined (NaN)",
            UndefinedResultWarning,
            stacklevel=2,
        )
        return MantelResult(np.nan, np.nan, permutations, method, alternative, n,
                            np.full(permutations, np.nan))
    xz = (x - x.mean()) / (xs * x.size)
    ym = y.mean()
    r = float(xz @ (y - ym) / ys)
    r = min(max(r, -1.0), 1.0)
    # Σ xz = 0, so the statistic of a permutation p is Σ_{i<j} xz_ij b[p_i, p_j] / σ_y;
    # a dense masked product beats gathering the triangle entry by entry.
    xmat = np.zeros((n, n))
    xmat[iu] = xz
    null = np.empty(permutations)
    for k in range(permutations):
        p = gen.permutation(n)
        null[k] = np.einsum("ij,ij->", xmat, b[p][:, p]) / ys
    if permutations == 0:
        pval = np.nan
        warnings.warn(
            "the Mantel p-value needs permutations; with permutations=0 it is NaN "
            "(the statistic is computed). Pass permutations >= 99 for a p-value.",
            UndefinedResultWarning,
            stacklevel=2,
        )
    else:
        tol = 1e-12
        if alternative == "greater":
            hits = np.sum(null >= r - tol)
        elif alternative == "less":
            hits = np.sum(null <= r + tol)
        else:
            hits = np.sum(np.abs(null) >= abs(r) - tol)
        pval = float((hits + 1) / (permutations + 1))
    return MantelResult(r, pval, permutations, method, alternative, n, null)


@dataclass(frozen=True)
class DistanceComparison(Result):
    """How graph-space distances track a reference weight-space distance over time.

    Attributes
    ----------
    times : ndarray (T,)
        Times of the (subsampled) snapshots used.
    reference : str
        Reference metric (the paper's ``"l1"`` by default).
    metrics : tuple of str
        Compared metrics.
    mantel_r, mantel_p : dict of str to float
        Spearman Mantel statistic and p-value of each metric's distance matrix against
        the reference's.
    initial_corr : dict of str to float
        Spearman correlation over time of the distances to the initial snapshot.
    successive_corr : dict of str to float
        Spearman correlation over time of the successive distances (speeds).
    disagreement_time : dict of str to int or float
        Time where the two speed curves disagree most: the largest absolute
        difference of their rank-normalised values (ranks / (T - 1)); NaN when the
        two curves have the same ranks throughout (they never disagree).
    disagreement : dict of str to float
        That largest difference, in [0, 1].
    matrices : dict of str to ndarray (T, T)
        The distance matrices, the reference included.
    params : dict
        ``max_snapshots``, ``permutations``.

    Examples
    --------
    >>> import numpy as np
    >>> w = np.cumsum(np.random.default_rng(2).normal(size=(12, 2, 2)), 0)
    >>> cmp = compare_to_weight_distance(GraphSeries.from_layers(np.arange(12), [w]),
    ...                                  "frobenius", permutations=9, rng=0)
    >>> cmp.metrics, sorted(cmp.matrices), cmp.matrices["l1"].shape
    (('frobenius',), ['frobenius', 'l1'], (12, 12))
    """

    times: np.ndarray
    reference: str
    metrics: tuple[str, ...]
    mantel_r: dict[str, float]
    mantel_p: dict[str, float]
    initial_corr: dict[str, float]
    successive_corr: dict[str, float]
    disagreement_time: dict[str, Any]
    disagreement: dict[str, float]
    matrices: dict[str, np.ndarray] = field(repr=False, default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)


def _spearman(a: np.ndarray, b: np.ndarray) -> float:
    if np.ptp(a) == 0 or np.ptp(b) == 0:
        return float("nan")
    return float(np.corrcoef(rankdata(a), rankdata(b))[0, 1])


def compare_to_weight_distance(
    series: GraphSeries,
    metrics: Sequence[str] = ("frobenius", "singular_values", "laplacian", "heat_trace"),
    *,
    reference: str = "l1",
    max_snapshots: int = 200,
    permutations: int = 199,
    rng: Any = None,
) -> DistanceComparison:
    """Summarise how each graph-space distance tracks weight-space distance along a run.

    For the snapshots of ``series`` (evenly subsampled to ``max_snapshots``), each
    metric's T×T distance matrix is compared with the reference metric's by a Spearman
    Mantel test; the distances to the initial snapshot and the successive distances
    (speeds) are correlated over time, and the time where the speeds disagree most is
    reported.

    Parameters
    ----------
    series : GraphSeries
        The graph series (typically ``GraphSeries.from_trajectory(traj)``).
    metrics : str or sequence of str
        Metric(s) to compare (keys of :data:`~graphtraj.measures.METRICS`).
    reference : str
        The reference metric (default ``"l1"``, the paper's).
    max_snapshots : int
        At most this many snapshots (>= 3): every k-th from the first, with one
        stride k = ceil(T / max_snapshots), so that speeds span equal intervals.
    permutations : int
        Mantel permutations.
    rng : int, Generator or None
        Randomness of the Mantel permutations.

    Returns
    -------
    DistanceComparison
        The summary (see its attributes).

    Raises
    ------
    ValidationError, UnknownOptionError
        On invalid input or metric names.
    InsufficientDataError
        If fewer than 3 snapshots are available.

    Warns
    -----
    UndefinedResultWarning
        Once, naming the metrics whose distances do not vary over the snapshots (or
        whose reference does not): their correlations, p-value and disagreement are
        NaN, since a correlation with a constant is undefined.

    Notes
    -----
    O(M · (T² F + permutations · T²)) for M metrics.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> w = np.cumsum(rng.normal(size=(30, 1, 3, 2)), 0)[:, 0]
    >>> gs = GraphSeries.from_layers(np.arange(30), [w, np.ones((30, 1, 3))])
    >>> cmp = compare_to_weight_distance(gs, ["frobenius"], permutations=19, rng=1)
    >>> bool(cmp.mantel_r["frobenius"] > 0.5)
    True
    """
    from graphtraj.measures.distances import (
        distance_matrix,
        reference_distances,
        successive_distances,
    )
    from graphtraj.measures.metrics import METRICS

    if not isinstance(series, GraphSeries):
        raise ValidationError(f"`series` must be a GraphSeries; got {type(series).__name__}")
    max_snapshots = check_int(max_snapshots, "max_snapshots", minimum=3)
    reference = check_option(reference, "reference", METRICS)
    if isinstance(metrics, str):
        metrics = (metrics,)
    metrics = tuple(check_option(m, "metrics", METRICS) for m in metrics)
    gen = as_rng(rng)
    if len(series) < 3:
        raise InsufficientDataError(
            f"`series` must have at least 3 snapshots to compare distances; got {len(series)}"
        )
    if len(series) > max_snapshots:
        # one stride, so that the successive distances (speeds) span equal intervals
        idx = every_kth(len(series), max_snapshots)
        if idx.size < 3:  # e.g. 4 snapshots, at most 3: first, middle, last
            idx = np.unique(np.linspace(0, len(series) - 1, 3).round().astype(int))
        series = series[idx]
    times = series.times
    mats = {reference: distance_matrix(series, reference)}
    init = {reference: reference_distances(series, reference)}
    succ = {reference: successive_distances(series, reference)}
    out: dict[str, dict] = {k: {} for k in ("r", "p", "ic", "sc", "dt", "dv")}
    t = succ[reference].size
    for m in metrics:
        mats[m] = distance_matrix(series, m)
        init[m] = reference_distances(series, m)
        succ[m] = successive_distances(series, m)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UndefinedResultWarning)
            res = mantel(mats[reference], mats[m], permutations=permutations,
                         method="spearman", rng=gen)
        out["r"][m], out["p"][m] = res.statistic, res.p_value
        out["ic"][m] = _spearman(init[reference], init[m])
        out["sc"][m] = _spearman(succ[reference], succ[m])
        if np.ptp(succ[reference]) == 0 or np.ptp(succ[m]) == 0:
            out["dt"][m], out["dv"][m] = float("nan"), float("nan")
        else:
            ra = (rankdata(succ[reference]) - 1) / max(t - 1, 1)
            rb = (rankdata(succ[m]) - 1) / max(t - 1, 1)
            k = int(np.argmax(np.abs(ra - rb)))
            out["dv"][m] = float(abs(ra[k] - rb[k]))
            # rank-identical speed curves never disagree: no time to point at
            out["dt"][m] = times[k + 1].item() if out["dv"][m] > 0 else float("nan")
    undefined = [
        m for m in metrics
        if any(np.isnan(out[key][m]) for key in ("r", "ic", "sc", "dv"))
    ]
    if undefined:
        warnings.warn(
            f"comparison undefined (NaN) for {', '.join(map(repr, undefined))}: its "
            f"distances (or those of the reference {reference!r}) do not vary over the "
            "snapshots, and a correlation with a constant is undefined",
            UndefinedResultWarning,
            stacklevel=2,
        )
    return DistanceComparison(
        times=times, reference=reference, metrics=metrics,
        mantel_r=out["r"], mantel_p=out["p"], initial_corr=out["ic"],
        successive_corr=out["sc"], disagreement_time=out["dt"], disagreement=out["dv"],
        matrices=mats,
        params={"max_snapshots": max_snapshots, "permutations": permutations},
    )
