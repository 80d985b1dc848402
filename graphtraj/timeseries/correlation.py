"""Correlation sum and correlation dimension (Grassberger-Procaccia) in O(N) memory.

The correlation sum counts pairs of delay vectors closer than r, never a vector with
itself and never two vectors closer in time than the Theiler window. A compiled kernel
(:mod:`graphtraj.timeseries._correlation_kernels`) sweeps the points sorted along one
coordinate, visits each admissible pair that can be within the largest radius once and
bins its distance into the radius histogram (on all cores for long series): exact
counts, memory O(N + R) — no N x N distance matrix (nolds 0.6.2 builds one, and counts
the N self-pairs, which flattens log C(r) at small r).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from graphtraj._checks import as_float_array, check_int, require_length, scaled_std
from graphtraj._result import Result
from graphtraj.exceptions import UndefinedResultWarning, UnreliableResultWarning, ValidationError
from graphtraj.timeseries._recurrence_source import native_metric
from graphtraj.timeseries._scaling import least_squares
from graphtraj.timeseries.embedding import delay_embed
from graphtraj.timeseries.min_length import _rule_correlation_sum
from graphtraj.timeseries.nolds_measures import ScalingResult

__all__ = ["CorrelationSum", "correlation_sum", "correlation_dimension", "default_radii"]


@dataclass(frozen=True)
class CorrelationSum(Result):
    """Correlation sum C(r) over radii.

    Attributes
    ----------
    radii : ndarray, shape (R,)
        Radii, increasing.
    c : ndarray, shape (R,)
        ``C(r)`` = fraction of admissible pairs at distance <= r.
    counts : ndarray of int, shape (R,)
        Admissible unordered pairs at distance <= r.
    n_pairs : int
        Admissible unordered pairs: ``N (N - 1) / 2 - Σ_{d=1}^{w-1} (N - d)``.
    n_vectors : int
        Delay vectors N.
    params : dict
        Parameters used.
    """

    radii: np.ndarray
    c: np.ndarray
    counts: np.ndarray
    n_pairs: int
    n_vectors: int
    params: dict[str, Any] = field(default_factory=dict)


def default_radii(series: Any) -> np.ndarray:
    """nolds' default radii: from 0.1 sd to 0.5 sd by factors of 1.03 (sd with ddof=1).

    Examples
    --------
    >>> r = default_radii([0.0, 1.0, 2.0, 3.0])
    >>> bool(np.isclose(r[0], 0.1 * np.std([0, 1, 2, 3], ddof=1)))
    True
    """
    x = as_float_array(series, "series", (1, 2), min_len=2)
    sd = scaled_std(x)
    if sd == 0:
        raise ValidationError(
            "`series` must not be constant for the default radii (they scale with its "
            "standard deviation); pass `radii` explicitly"
        )
    n = int(np.floor(np.log(5.0) / np.log(1.03)))
    return 0.1 * sd * 1.03 ** np.arange(n + 1)


def _prepare(series: Any, emb_dim: int, lag: int, theiler: int) -> tuple[np.ndarray, np.ndarray, int, int, int]:
    x = as_float_array(series, "series", (1, 2))
    emb_dim = check_int(emb_dim, "emb_dim", minimum=1)
    lag = check_int(lag, "lag", minimum=1)
    theiler = check_int(theiler, "theiler", minimum=1)
    n_min, how = _rule_correlation_sum(emb_dim, lag, theiler)
    require_length(x.shape[0], n_min, "series", how)
    return x, delay_embed(x, emb_dim, lag), emb_dim, lag, theiler


def _check_radii(radii: Any) -> np.ndarray:
    r = as_float_array(radii, "radii", 1)
    if np.any(r <= 0):
        raise ValidationError(f"`radii` must be positive; got min {r.min():g}")
    if np.any(np.diff(r) <= 0):
        raise ValidationError("`radii` must be strictly increasing")
    return r


def correlation_sum(
    series: Any,
    radii: Any = None,
    *,
    emb_dim: int = 1,
    lag: int = 1,
    theiler: int = 1,
    metric: str = "euclidean",
) -> CorrelationSum:
    """Correlation sum C(r) without self-pairs and with a Theiler band, in O(N) memory.

    Parameters
    ----------
    series : array_like, shape (T,) or (T, P)
        Series or states (delay-embedded when ``emb_dim > 1``).
    radii : array_like, optional
        Positive, increasing radii; default :func:`default_radii` (nolds' choice).
    emb_dim, lag : int, default 1
        Embedding.
    theiler : int, default 1
        Pairs with ``|i - j| < theiler`` are not counted (1 = only self-pairs, which
        are never counted).
    metric : {"euclidean", "chebyshev", "manhattan"}, default "euclidean"
        Norm. Case-insensitive aliases, as for
        :func:`~graphtraj.timeseries.recurrence_matrix`: ``"l2"`` (euclidean);
        ``"l1"``, ``"cityblock"`` (manhattan); ``"max"``, ``"linf"``, ``"supremum"``
        (chebyshev).

    Returns
    -------
    CorrelationSum

    Raises
    ------
    InsufficientDataError
        If ``T < span + theiler`` (no admissible pair).
    NonFiniteInputError
        If the input has NaN or inf.
    ValidationError, UnknownOptionError
        For invalid parameters (``theiler`` must be >= 1).

    Notes
    -----
    Grassberger & Procaccia, Physica D 9, 189 (1983),
    doi:10.1016/0167-2789(83)90298-1, Eq. 2.3, with Theiler's correction (Phys. Rev. A
    34, 2427, 1986, doi:10.1103/PhysRevA.34.2427): ``C(r) = #{i < j, j - i >= w,
    ||X_i - X_j|| <= r} / #{i < j, j - i >= w}``. Each admissible pair is visited once
    (compiled; a sweep along the first coordinate skips pairs farther apart than the
    largest radius) and binned by binary search among the radii: time at most
    O(N² (m + log R)), memory O(N + R). Distances are computed as scipy's
    ``cdist`` computes them, so counts equal the dense computation.

    Examples
    --------
    >>> cs = correlation_sum([0.0, 1.0, 3.0], [0.5, 1.0, 2.5])
    >>> cs.counts.tolist(), cs.n_pairs        # distances 1, 2, 3
    ([0, 1, 2], 3)
    """
    metric = native_metric(metric)
    x, pts, emb_dim, lag, theiler = _prepare(series, emb_dim, lag, theiler)
    r = default_radii(x) if radii is None else _check_radii(radii)
    from graphtraj.timeseries._correlation_kernels import pair_counts

    n = pts.shape[0]
    counts = pair_counts(pts, r, theiler, metric)
    excluded = sum(n - d for d in range(1, min(theiler, n)))
    n_pairs = n * (n - 1) // 2 - excluded
    c = counts / n_pairs
    return CorrelationSum(r, c, counts, int(n_pairs), int(n),
                          {"emb_dim": emb_dim, "lag": lag, "theiler": theiler, "metric": metric})


def correlation_dimension(
    series: Any,
    *,
    emb_dim: int,
    lag: int = 1,
    theiler: int = 1,
    radii: Any = None,
    metric: str = "euclidean",
) -> ScalingResult:
    """Correlation dimension D2: the slope of ln C(r) against ln r.

    Parameters
    ----------
    series : array_like, shape (T,) or (T, P)
        Series or states.
    emb_dim : int
        Embedding dimension.
    lag : int, default 1
        Delay.
    theiler : int, default 1
        Theiler window (see :func:`correlation_sum`).
    radii : array_like, optional
        Radii of the fit; default :func:`default_radii`. Choose them inside the
        scaling range (above the noise level, below the attractor size).
    metric : {"euclidean", "chebyshev", "manhattan"}, default "euclidean"
        Norm. Case-insensitive aliases, as for
        :func:`~graphtraj.timeseries.recurrence_matrix`: ``"l2"`` (euclidean);
        ``"l1"``, ``"cityblock"`` (manhattan); ``"max"``, ``"linf"``, ``"supremum"``
        (chebyshev).

    Returns
    -------
    ScalingResult
        ``value`` = D2; ``log_x = ln r`` and ``log_y = ln C(r)`` over all radii (NaN
        where C(r) = 0; the fit uses the finite points).

    Raises
    ------
    InsufficientDataError
        If ``T < span + theiler``.
    NonFiniteInputError
        If the input has NaN or inf.
    ValidationError, UnknownOptionError
        For invalid parameters.

    Warns
    -----
    UndefinedResultWarning
        Radii with C(r) = 0 (their ln C is NaN, left out of the fit), and a NaN
        dimension when fewer than two radii have pairs — never a slope near 0 from
        counting self-pairs.
        When ln C(r) is the same at every radius (up to round-off; discrete data or
        too few distinct values): ``r2`` is NaN (0/0) and the dimension 0.
    UnreliableResultWarning
        Radii with C(r) = 1 (at or beyond the diameter of the point set), whose zero
        slope biases the dimension towards 0.

    Notes
    -----
    Grassberger & Procaccia (1983), doi:10.1016/0167-2789(83)90298-1. Least-squares
    fit over all radii with C(r) > 0 (nolds' ``fit="poly"``); ``r2`` is the
    coefficient of determination 1 − SS_res/SS_tot of that fit, in [0, 1]. A flat
    ln C(r) (SS_tot = 0 up to round-off) has slope exactly 0 and ``r2`` NaN.
    Memory O(N).

    Examples
    --------
    >>> import numpy as np
    >>> u = np.random.default_rng(0).uniform(size=3000)
    >>> d2 = correlation_dimension(u, emb_dim=2).value   # uniform noise fills the plane
    >>> bool(abs(d2 - 2) < 0.2)
    True
    """
    cs = correlation_sum(series, radii, emb_dim=emb_dim, lag=lag, theiler=theiler, metric=metric)
    lx = np.log(cs.radii)
    with np.errstate(divide="ignore"):
        ly = np.where(cs.counts > 0, np.log(np.where(cs.c > 0, cs.c, 1.0)), np.nan)
    ok = np.isfinite(ly)
    if not ok.all():
        warnings.warn(
            f"correlation_dimension: C(r) = 0 at {int((~ok).sum())} of {ok.size} radii "
            f"(r <= {cs.radii[~ok].max():.3g}); they are NaN and left out of the fit. "
            "Use larger radii or a longer series.",
            UndefinedResultWarning,
            stacklevel=2,
        )
    full = ok & (cs.counts == cs.n_pairs)
    if full.any():
        warnings.warn(
            f"correlation_dimension: C(r) = 1 (every pair within r) at {int(full.sum())} of "
            f"{ok.size} radii (r >= {cs.radii[full].min():.3g}); the slope there is 0 and "
            "biases the dimension towards 0. Use radii below the attractor's diameter.",
            UnreliableResultWarning,
            stacklevel=2,
        )
    slope, intercept, r2 = least_squares(lx[ok], ly[ok])
    if ok.sum() < 2:
        warnings.warn(
            f"correlation_dimension: fewer than 2 radii with C(r) > 0 ({int(ok.sum())}); "
            "the dimension is NaN",
            UndefinedResultWarning,
            stacklevel=2,
        )
    elif np.isnan(r2):
        if full[ok].all():
            cause = ("every pair lies within the smallest radius (radii at or beyond the "
                     "diameter of the point set)")
        else:
            cause = ("no pair distance lies between the radii, as for discrete data or a "
                     "series with too few distinct values")
        warnings.warn(
            f"correlation_dimension: the correlation sum is flat, C(r) = "
            f"{float(cs.c[ok][0]):.6g} at all {int(ok.sum())} radii from "
            f"{cs.radii[ok].min():.3g} to {cs.radii[ok].max():.3g}: {cause}. R² is "
            "undefined (NaN) and the dimension is 0, that of isolated points, not of an "
            "attractor. Choose radii that span the pair distances.",
            UndefinedResultWarning,
            stacklevel=2,
        )
    params = dict(cs.params)
    params.update({"n_vectors": cs.n_vectors, "n_pairs": cs.n_pairs, "counts": cs.counts})
    return ScalingResult(slope, slope, intercept, r2, lx, ly, "correlation_dimension", params)
