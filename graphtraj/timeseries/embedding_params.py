"""Embedding parameters from data: delay, dimension and Theiler window.

* delay ``lag``: first minimum of the average mutual information
  (:func:`lag_by_mutual_information`) or the decay of the autocorrelation
  (:func:`lag_by_autocorrelation`: first zero, 1/e or 1 - 1/e);
* dimension ``emb_dim``: false nearest neighbours (:func:`false_nearest_neighbors`,
  Kennel et al.) and Cao's E1/E2 (:func:`cao_embedding`);
* Theiler window (:func:`theiler_window`): the decorrelation time, so that neighbours
  are not simply the previous and next samples.

When a criterion is not met within the searched range, every function returns a
documented fallback, sets ``criterion_met=False`` and emits
:class:`~graphtraj.exceptions.UnreliableResultWarning` naming the criterion and range.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from graphtraj._checks import (
    as_float_array,
    as_series,
    check_int,
    check_magnitude,
    check_option,
    check_real,
    require_length,
)
from graphtraj._result import Result
from graphtraj.exceptions import UnreliableResultWarning, ValidationError
from graphtraj.timeseries._neighbours import knn_outside
from graphtraj.timeseries.min_length import _rule_cao, _rule_fnn, _rule_lag_search

__all__ = [
    "LagResult",
    "DimensionResult",
    "autocorrelation",
    "mutual_information",
    "lag_by_autocorrelation",
    "lag_by_mutual_information",
    "false_nearest_neighbors",
    "cao_embedding",
    "theiler_window",
]

_ACF_CRITERIA = ("zero", "1/e", "1-1/e")


@dataclass(frozen=True)
class LagResult(Result):
    """A delay chosen from a curve over lags.

    Attributes
    ----------
    lag : int
        The chosen delay in samples (>= 1).
    criterion_met : bool
        False when the criterion was not met within ``1 .. max_lag`` and ``lag`` is
        the documented fallback.
    criterion : str
        ``"first_minimum"`` (mutual information) or the autocorrelation criterion.
    method : str
        ``"mutual_information"`` or ``"autocorrelation"``.
    lags : ndarray of int, shape (max_lag + 1,)
        ``0 .. max_lag``.
    values : ndarray, shape (max_lag + 1,)
        The curve (mutual information in nats, or autocorrelation).
    reason : str
        How ``lag`` was chosen.
    params : dict
        Parameters used.
    """

    lag: int
    criterion_met: bool
    criterion: str
    method: str
    lags: np.ndarray
    values: np.ndarray
    reason: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class DimensionResult(Result):
    """An embedding dimension chosen from a statistic over dimensions.

    Attributes
    ----------
    emb_dim : int
        The chosen embedding dimension.
    criterion_met : bool
        False when no dimension up to ``max_dim`` met the criterion (fallback).
    method : str
        ``"false_nearest_neighbors"`` or ``"cao"``.
    dims : ndarray of int, shape (max_dim,)
        ``1 .. max_dim``.
    values : ndarray, shape (max_dim,)
        Fraction of false nearest neighbours, or Cao's E1(d).
    extra : dict of ndarray
        Cao: ``{"E2": ..., "E": ..., "E_star": ...}``; FNN: ``{"n_points": ...}``.
    reason : str
        How ``emb_dim`` was chosen.
    params : dict
        Parameters used.
    """

    emb_dim: int
    criterion_met: bool
    method: str
    dims: np.ndarray
    values: np.ndarray
    extra: dict[str, np.ndarray]
    reason: str
    params: dict[str, Any] = field(default_factory=dict)


def _default_max_lag(n: int) -> int:
    return max(1, min(n // 10, 200))


def _acf(x: np.ndarray, max_lag: int) -> np.ndarray:
    xc = x - x.mean()
    n = xc.size
    nfft = 1 << int(math.ceil(math.log2(2 * n)))
    f = np.fft.rfft(xc, nfft)
    ac = np.fft.irfft(f * np.conj(f), nfft)[: max_lag + 1]
    return ac / ac[0]


def autocorrelation(series: Any, max_lag: int | None = None) -> np.ndarray:
    """Sample autocorrelation r(τ), τ = 0 .. max_lag (biased estimator, by FFT).

    Parameters
    ----------
    series : array_like, shape (T,)
        Scalar series; must not be constant.
    max_lag : int, optional
        Largest lag; default ``min(T // 10, 200)`` (at least 1).

    Returns
    -------
    ndarray, shape (max_lag + 1,)
        ``r(τ) = Σ_t (x_t - x̄)(x_{t+τ} - x̄) / Σ_t (x_t - x̄)²``; ``r(0) = 1``.

    Raises
    ------
    InsufficientDataError
        If ``T < max_lag + 2``.
    NonFiniteInputError
        If the series has NaN or inf.
    ValidationError
        If the series is constant (the autocorrelation is undefined).

    Notes
    -----
    Box & Jenkins' biased estimator (denominator T at every lag), so ``|r| <= 1``.
    O(T log T) time, O(T) memory.

    Examples
    --------
    >>> import numpy as np
    >>> r = autocorrelation(np.sin(2 * np.pi * np.arange(4000) / 40), max_lag=10)
    >>> bool(abs(r[10]) < 0.01)
    True
    """
    x = as_series(series)
    max_lag = _default_max_lag(x.size) if max_lag is None else check_int(max_lag, "max_lag", minimum=1)
    n_min, how = _rule_lag_search(max_lag)
    require_length(x.size, n_min, "series", how)
    if np.ptp(x) == 0:
        raise ValidationError(
            "`series` must not be constant: its autocorrelation is undefined (zero variance)"
        )
    return _acf(x, max_lag)


def _bin_index(x: np.ndarray, n_bins: int) -> np.ndarray:
    lo, hi = float(x.min()), float(x.max())
    if hi == lo:
        return np.zeros(x.size, dtype=np.int64)
    idx = np.floor((x - lo) / (hi - lo) * n_bins).astype(np.int64)
    # the maximum lies exactly on the last edge: it belongs to the last bin (closed)
    return np.clip(idx, 0, n_bins - 1)


def _mi_from_bins(a: np.ndarray, b: np.ndarray, n_bins: int) -> float:
    joint = np.bincount(a * n_bins + b, minlength=n_bins * n_bins).astype(np.float64)
    joint /= joint.sum()
    pa = joint.reshape(n_bins, n_bins).sum(axis=1)
    pb = joint.reshape(n_bins, n_bins).sum(axis=0)
    pj = joint.reshape(n_bins, n_bins)
    nz = pj > 0
    outer = np.outer(pa, pb)[nz]
    return float(max(0.0, np.sum(pj[nz] * np.log(pj[nz] / outer))))


def mutual_information(
    series: Any, max_lag: int | None = None, *, n_bins: int | None = None
) -> np.ndarray:
    """Average mutual information I(τ) between x_t and x_{t+τ}, τ = 0 .. max_lag (nats).

    Parameters
    ----------
    series : array_like, shape (T,)
        Scalar series.
    max_lag : int, optional
        Largest lag; default ``min(T // 10, 200)``.
    n_bins : int, optional
        Number of equal-width bins over ``[min, max]``; default Sturges,
        ``ceil(log2 T) + 1``.

    Returns
    -------
    ndarray, shape (max_lag + 1,)
        ``I(τ) = Σ p_ij ln(p_ij / (p_i p_j))`` with the marginals of the pairs at lag
        τ (so ``I >= 0``); ``I(0)`` is the binned entropy.

    Raises
    ------
    InsufficientDataError
        If ``T < max_lag + 2``.
    NonFiniteInputError
        If the series has NaN or inf.

    Notes
    -----
    Fraser & Swinney (1986), doi:10.1103/PhysRevA.33.1134. Bins are closed on the
    right at the maximum: a sample equal to the maximum lands in the last bin (every
    sample is counted). A constant series has one occupied bin and I = 0 at every lag.
    O(T max_lag) time, O(T + n_bins²) memory.

    Examples
    --------
    >>> import numpy as np
    >>> mi = mutual_information(np.arange(99) / 98.0, max_lag=3, n_bins=4)
    >>> bool(np.all(np.isfinite(mi)) and np.all(mi >= 0))
    True
    """
    x = as_series(series)
    max_lag = _default_max_lag(x.size) if max_lag is None else check_int(max_lag, "max_lag", minimum=1)
    n_min, how = _rule_lag_search(max_lag)
    require_length(x.size, n_min, "series", how)
    n_bins = (
        int(math.ceil(math.log2(x.size))) + 1 if n_bins is None else check_int(n_bins, "n_bins", minimum=1)
    )
    idx = _bin_index(x, n_bins)
    n = x.size
    return np.array(
        [_mi_from_bins(idx[: n - t], idx[t:], n_bins) for t in range(max_lag + 1)]
    )


def _fallback_warning(what: str, criterion: str, max_lag: int, lag: int) -> None:
    warnings.warn(
        f"{what}: criterion {criterion!r} not met for lags 1..{max_lag}; returning the "
        f"fallback lag {lag} (lowest value in the range). Increase `max_lag` or check "
        "the series for trends.",
        UnreliableResultWarning,
        stacklevel=3,
    )


def lag_by_mutual_information(
    series: Any, *, max_lag: int | None = None, n_bins: int | None = None
) -> LagResult:
    """Delay at the first minimum of the average mutual information.

    Parameters
    ----------
    series : array_like, shape (T,)
        Scalar series.
    max_lag : int, optional
        Largest lag searched; default ``min(T // 10, 200)``.
    n_bins : int, optional
        Histogram bins (see :func:`mutual_information`).

    Returns
    -------
    LagResult
        ``lag`` = the first τ >= 1 with ``I(τ-1) > I(τ)`` that is the lowest value of
        ``I`` over the window ``[τ - w, τ + w]``, ``w = max(1, ceil(τ / 2))`` (the
        window must fit below ``max_lag``). The window keeps the wiggles of the
        histogram estimator — e.g. on a slowly decreasing random-walk curve — from
        passing as a minimum.

    Raises
    ------
    InsufficientDataError
        If ``T < max_lag + 2``.
    NonFiniteInputError
        If the series has NaN or inf.

    Warns
    -----
    UnreliableResultWarning
        No first minimum in ``1 .. max_lag`` (e.g. a random walk, whose mutual
        information decreases monotonically, or a constant series): the fallback is
        the lag with the lowest I in the range (``max_lag`` for a decreasing curve),
        with ``criterion_met=False``. Short series (~1000 samples) of a random walk can
        still show a statistically spurious minimum at tens of lags.

    Notes
    -----
    Fraser & Swinney (1986), doi:10.1103/PhysRevA.33.1134.

    Examples
    --------
    >>> from graphtraj.datasets import lorenz
    >>> lag = lag_by_mutual_information(lorenz(3000)[:, 0], max_lag=40).lag
    >>> 15 <= lag <= 22      # about 0.17 time units at dt = 0.01
    True
    """
    x = as_series(series)
    max_lag = _default_max_lag(x.size) if max_lag is None else check_int(max_lag, "max_lag", minimum=1)
    mi = mutual_information(x, max_lag, n_bins=n_bins)
    lag = None
    for t in range(1, max_lag):
        w = max(1, math.ceil(t / 2))
        if t + w > max_lag:
            break
        if mi[t - 1] > mi[t] and mi[t] <= mi[max(0, t - w) : t + w + 1].min():
            lag = t
            break
    params = {"max_lag": max_lag, "n_bins": n_bins}
    lags = np.arange(max_lag + 1)
    if lag is not None:
        return LagResult(lag, True, "first_minimum", "mutual_information", lags, mi,
                         f"first minimum of the mutual information at lag {lag}", params)
    lag = int(np.argmin(mi[1:]) + 1)
    _fallback_warning("lag_by_mutual_information", "first_minimum", max_lag, lag)
    return LagResult(lag, False, "first_minimum", "mutual_information", lags, mi,
                     f"no first minimum in 1..{max_lag}; fallback: lowest value at lag {lag}",
                     params)


def lag_by_autocorrelation(
    series: Any, *, criterion: str = "zero", max_lag: int | None = None
) -> LagResult:
    """Delay from the decay of the autocorrelation.

    Parameters
    ----------
    series : array_like, shape (T,)
        Scalar series (not constant).
    criterion : {"zero", "1/e", "1-1/e"}, default "zero"
        ``"zero"``: the lag nearest the first zero crossing (of the two lags that
        bracket it, the one with the smaller ``|r|``); ``"1/e"``: the first lag with
        ``r <= 1/e``; ``"1-1/e"``: the first lag with ``r <= 1 - 1/e`` (Rosenstein et
        al. 1993's suggestion, used by nolds).
    max_lag : int, optional
        Largest lag searched; default ``min(T // 10, 200)``.

    Returns
    -------
    LagResult

    Raises
    ------
    InsufficientDataError
        If ``T < max_lag + 2``.
    NonFiniteInputError
        If the series has NaN or inf.
    UnknownOptionError
        For an unknown ``criterion``.
    ValidationError
        If the series is constant.

    Warns
    -----
    UnreliableResultWarning
        Criterion not met in ``1 .. max_lag`` (a sine of period 400 has no zero below
        lag 100): fallback = the lag with the lowest r in range, ``criterion_met=False``.

    Notes
    -----
    See :func:`autocorrelation`. O(T log T).

    Examples
    --------
    >>> import numpy as np
    >>> lag_by_autocorrelation(np.sin(2 * np.pi * np.arange(4000) / 40)).lag
    10
    """
    criterion = check_option(criterion, "criterion", _ACF_CRITERIA)
    x = as_series(series)
    max_lag = _default_max_lag(x.size) if max_lag is None else check_int(max_lag, "max_lag", minimum=1)
    r = autocorrelation(x, max_lag)
    params = {"max_lag": max_lag, "criterion": criterion}
    lags = np.arange(max_lag + 1)
    level = {"zero": 0.0, "1/e": 1 / math.e, "1-1/e": 1 - 1 / math.e}[criterion]
    below = np.flatnonzero(r[1:] <= level) + 1
    if below.size:
        lag = int(below[0])
        if criterion == "zero" and lag > 1 and abs(r[lag - 1]) < abs(r[lag]):
            lag -= 1
        return LagResult(lag, True, criterion, "autocorrelation", lags, r,
                         f"autocorrelation reaches {criterion} at lag {lag}", params)
    lag = int(np.argmin(r[1:]) + 1)
    _fallback_warning("lag_by_autocorrelation", criterion, max_lag, lag)
    return LagResult(lag, False, criterion, "autocorrelation", lags, r,
                     f"criterion {criterion} not met in 1..{max_lag}; fallback: lowest "
                     f"autocorrelation at lag {lag}", params)


def theiler_window(series: Any, *, method: str = "autocorrelation", max_lag: int | None = None) -> int:
    """A Theiler window w from the decorrelation time of the series.

    Neighbour searches then exclude pairs with ``|i - j| < w``.

    Parameters
    ----------
    series : array_like, shape (T,) or (T, P)
        Series or states; for states the largest window over the non-constant columns.
    method : {"autocorrelation", "mean_period"}, default "autocorrelation"
        ``"autocorrelation"``: the first lag with r <= 1/e (no warning if not met: then
        ``max_lag``); ``"mean_period"``: ``ceil(1 / f̄) + 1`` with f̄ the power-weighted
        mean frequency, i.e. nolds' default ``min_tsep + 1`` (capped at T / 4).
    max_lag : int, optional
        Largest lag for the autocorrelation; default ``min(T // 10, 200)``.

    Returns
    -------
    int
        ``w >= 1`` (1 = only the point itself is excluded; also for constant input).

    Raises
    ------
    NonFiniteInputError
        If the input has NaN or inf.
    UnknownOptionError
        For an unknown ``method``.

    Notes
    -----
    Theiler (1986), doi:10.1103/PhysRevA.34.2427. O(T log T) per column.

    Examples
    --------
    >>> import numpy as np
    >>> theiler_window(np.random.default_rng(0).normal(size=500))
    1
    """
    method = check_option(method, "method", ("autocorrelation", "mean_period"))
    x = check_magnitude(as_float_array(series, "series", (1, 2), min_len=2), "series")
    cols = x[:, None] if x.ndim == 1 else x
    n = cols.shape[0]
    max_lag = _default_max_lag(n) if max_lag is None else check_int(max_lag, "max_lag", minimum=1)
    max_lag = min(max_lag, n - 2) if n > 2 else 1
    w = 1
    for c in range(cols.shape[1]):
        col = cols[:, c]
        if np.ptp(col) == 0:
            continue
        if method == "autocorrelation":
            r = _acf(col, max_lag)
            below = np.flatnonzero(r[1:] <= 1 / math.e) + 1
            w = max(w, int(below[0]) if below.size else max_lag)
        else:
            f = np.fft.rfft(col, 2 * n - 1)
            freqs = np.fft.rfftfreq(2 * n - 1)
            psd = np.abs(f) ** 2
            mf = np.sum(freqs[1:] * psd[1:]) / np.sum(psd[1:])
            min_tsep = int(np.ceil(1.0 / mf))
            min_tsep = min(min_tsep, int(0.25 * n))
            w = max(w, min_tsep + 1)
    return int(w)


def _embed_cols(x: np.ndarray, d: int, lag: int, n: int) -> np.ndarray:
    return np.stack([x[k * lag : k * lag + n] for k in range(d)], axis=1)


def false_nearest_neighbors(
    series: Any,
    *,
    lag: int = 1,
    max_dim: int = 10,
    theiler: int = 1,
    rtol: float = 10.0,
    atol: float = 2.0,
    threshold: float = 0.01,
) -> DimensionResult:
    """Embedding dimension by false nearest neighbours (Kennel, Brown & Abarbanel 1992).

    For each dimension d, the nearest neighbour ``j`` of every delay vector ``y_i(d)``
    (Euclidean, outside the Theiler window, at positive distance R_d) is *false* when
    adding the next coordinate separates the pair: ``|x_{i+d lag} - x_{j+d lag}| / R_d
    > rtol`` (criterion 1, Eq. 4) or ``R_{d+1} / R_A > atol`` with R_A the standard
    deviation of the series (criterion 2).

    Parameters
    ----------
    series : array_like, shape (T,)
        Scalar series.
    lag : int, default 1
        Delay in samples.
    max_dim : int, default 10
        Largest dimension tested.
    theiler : int, default 1
        Neighbours satisfy ``|i - j| >= theiler`` (1 = only the point itself excluded).
    rtol, atol : float, default 10, 2
        Kennel's thresholds.
    threshold : float, default 0.01
        The chosen dimension is the first whose false fraction is <= threshold.

    Returns
    -------
    DimensionResult
        ``values`` = false fraction per dimension 1 .. max_dim.

    Raises
    ------
    InsufficientDataError
        If ``T < max_dim * lag + 2 * theiler``.
    NonFiniteInputError
        If the series has NaN or inf.

    Warns
    -----
    UnreliableResultWarning
        No dimension meets ``threshold`` (noise): fallback = the dimension with the
        lowest fraction, ``criterion_met=False``.

    Notes
    -----
    Kennel, Brown & Abarbanel, Phys. Rev. A 45, 3403 (1992),
    doi:10.1103/PhysRevA.45.3403, Eqs. 4-5. KD-tree search: O(max_dim T log T) time,
    O(T) memory. Points whose vectors all coincide (zero distance) have no neighbour
    and are not counted; a constant series therefore gives a NaN fraction.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.empty(3000); x[0] = 0.3
    >>> for t in range(2999): x[t + 1] = 4 * x[t] * (1 - x[t])
    >>> false_nearest_neighbors(x, max_dim=4).emb_dim
    1
    """
    x = as_series(series)
    lag = check_int(lag, "lag", minimum=1)
    max_dim = check_int(max_dim, "max_dim", minimum=1)
    theiler = check_int(theiler, "theiler", minimum=1)
    rtol = check_real(rtol, "rtol", minimum=0, strict_min=True)
    atol = check_real(atol, "atol", minimum=0, strict_min=True)
    threshold = check_real(threshold, "threshold", minimum=0, maximum=1)
    n_min, how = _rule_fnn(max_dim, lag, theiler)
    require_length(x.size, n_min, "series", how)
    r_a = float(np.std(x))
    dims = np.arange(1, max_dim + 1)
    frac = np.full(max_dim, np.nan)
    n_pts = np.zeros(max_dim, dtype=np.int64)
    for d in dims:
        n = x.size - d * lag
        pts = _embed_cols(x, d, lag, n)
        nb, dist = knn_outside(pts, theiler, 1)
        nb, dist = nb[:, 0], dist[:, 0]
        ok = nb >= 0
        i = np.flatnonzero(ok)
        j = nb[ok]
        rd = dist[ok]
        extra = np.abs(x[i + d * lag] - x[j + d * lag])
        false = (extra / rd > rtol) | (np.sqrt(rd**2 + extra**2) / r_a > atol)
        n_pts[d - 1] = i.size
        if i.size:
            frac[d - 1] = float(false.mean())
    params = {"lag": lag, "max_dim": max_dim, "theiler": theiler, "rtol": rtol,
              "atol": atol, "threshold": threshold}
    meets = np.flatnonzero(frac <= threshold)
    if meets.size:
        dim = int(dims[meets[0]])
        return DimensionResult(dim, True, "false_nearest_neighbors", dims, frac,
                               {"n_points": n_pts},
                               f"first dimension with false fraction <= {threshold}", params)
    finite = np.isfinite(frac)
    dim = int(dims[np.nanargmin(frac)]) if finite.any() else max_dim
    warnings.warn(
        f"false_nearest_neighbors: no dimension in 1..{max_dim} has a false fraction <= "
        f"{threshold}; returning the dimension with the lowest fraction ({dim}). "
        "The series may be noisy or need a larger `max_dim`.",
        UnreliableResultWarning,
        stacklevel=2,
    )
    return DimensionResult(dim, False, "false_nearest_neighbors", dims, frac,
                           {"n_points": n_pts},
                           f"criterion not met in 1..{max_dim}; fallback: lowest fraction",
                           params)


def cao_embedding(
    series: Any,
    *,
    lag: int = 1,
    max_dim: int = 10,
    theiler: int = 1,
    e1_threshold: float = 0.85,
) -> DimensionResult:
    """Embedding dimension by Cao's method (E1 and E2).

    With the maximum norm and the nearest neighbour ``n(i, d)`` of ``y_i(d)`` (outside
    the Theiler window, at positive distance):
    ``a(i, d) = ||y_i(d+1) - y_n(d+1)|| / ||y_i(d) - y_n(d)||``, ``E(d) = <a(i, d)>_i``,
    ``E1(d) = E(d+1) / E(d)``; ``E*(d) = <|x_{i+d lag} - x_{n+d lag}|>_i``,
    ``E2(d) = E*(d+1) / E*(d)``.

    Parameters
    ----------
    series : array_like, shape (T,)
        Scalar series.
    lag : int, default 1
        Delay in samples.
    max_dim : int, default 10
        E1 and E2 are computed for d = 1 .. max_dim.
    theiler : int, default 1
        Neighbours satisfy ``|i - j| >= theiler``.
    e1_threshold : float, default 0.85
        The chosen dimension is the first d with ``E1(d) >= e1_threshold`` (E1 has
        saturated near 1: adding coordinates no longer unfolds the attractor). E1
        approaches 1 slowly for strongly expanding maps (logistic map: E1(1) ~ 0.89),
        hence a threshold below 0.9.

    Returns
    -------
    DimensionResult
        ``values`` = E1(d); ``extra`` holds ``"E2"``, ``"E"`` and ``"E_star"``.
        E2 close to 1 at every d indicates a stochastic series (Cao, Sec. 3).

    Raises
    ------
    InsufficientDataError
        If ``T < (max_dim + 1) * lag + 2 * theiler``.
    NonFiniteInputError
        If the series has NaN or inf.

    Warns
    -----
    UnreliableResultWarning
        E1 never reaches the threshold: fallback = the d with the largest E1,
        ``criterion_met=False``.

    Notes
    -----
    Cao, Physica D 110, 43-50 (1997), doi:10.1016/S0167-2789(97)00118-8, Eqs. 1-5.
    O(max_dim T log T) time, O(T) memory. E(d) is NaN when no vector has a neighbour at
    positive distance (constant series); the ratios are then NaN.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.empty(3000); x[0] = 0.3
    >>> for t in range(2999): x[t + 1] = 4 * x[t] * (1 - x[t])
    >>> cao_embedding(x, max_dim=4).emb_dim
    1
    """
    x = as_series(series)
    lag = check_int(lag, "lag", minimum=1)
    max_dim = check_int(max_dim, "max_dim", minimum=1)
    theiler = check_int(theiler, "theiler", minimum=1)
    e1_threshold = check_real(e1_threshold, "e1_threshold", minimum=0, strict_min=True)
    n_min, how = _rule_cao(max_dim, lag, theiler)
    require_length(x.size, n_min, "series", how)
    e = np.full(max_dim + 1, np.nan)
    es = np.full(max_dim + 1, np.nan)
    for d in range(1, max_dim + 2):
        n = x.size - d * lag
        pts = _embed_cols(x, d, lag, n)
        nb, dist = knn_outside(pts, theiler, 1, p=np.inf)
        ok = nb[:, 0] >= 0
        i = np.flatnonzero(ok)
        j = nb[ok, 0]
        rd = dist[ok, 0]
        if i.size == 0:
            continue
        extra = np.abs(x[i + d * lag] - x[j + d * lag])
        e[d - 1] = float(np.mean(np.maximum(rd, extra) / rd))
        es[d - 1] = float(np.mean(extra))
    with np.errstate(divide="ignore", invalid="ignore"):
        e1 = e[1:] / e[:-1]
        e2 = es[1:] / es[:-1]
    dims = np.arange(1, max_dim + 1)
    params = {"lag": lag, "max_dim": max_dim, "theiler": theiler, "e1_threshold": e1_threshold}
    extra_out = {"E2": e2, "E": e[:-1], "E_star": es[:-1]}
    meets = np.flatnonzero(e1 >= e1_threshold)
    if meets.size:
        dim = int(dims[meets[0]])
        return DimensionResult(dim, True, "cao", dims, e1, extra_out,
                               f"first dimension with E1 >= {e1_threshold}", params)
    dim = int(dims[np.nanargmax(e1)]) if np.isfinite(e1).any() else max_dim
    warnings.warn(
        f"cao_embedding: E1 does not reach {e1_threshold} for d in 1..{max_dim}; "
        f"returning the dimension with the largest E1 ({dim}).",
        UnreliableResultWarning,
        stacklevel=2,
    )
    return DimensionResult(dim, False, "cao", dims, e1, extra_out,
                           f"criterion not met in 1..{max_dim}; fallback: largest E1", params)
