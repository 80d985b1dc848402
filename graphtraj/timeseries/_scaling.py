"""Straight-line fits to divergence curves and detection of their linear (scaling) region.

Shared by :mod:`graphtraj.timeseries.lyapunov` and :mod:`graphtraj.timeseries.nmle`.
Private: the public functions validate their input and document the rule in their
Notes; this module trusts its input.

The automatic rule (documented once here, quoted by the estimators)
-------------------------------------------------------------------
Let ``y_k`` (k = 0 .. K-1) be the mean log divergence, ``y_0`` its first finite value,
``P = max_k y_k`` its plateau (or last value when it has not saturated) and ``S_inf``
the *decorrelated level*: the same statistic for pairs of points far apart in time
(what the curve reaches once neighbours have forgotten each other).

1. If ``S_inf - y_0 < min_headroom`` (neighbours are not even ``e**min_headroom``
   times closer than unrelated pairs), there is nothing to follow: *no scaling region*.
2. If the curve climbs less than ``flat_fraction`` of the headroom,
   ``P - y_0 < flat_fraction * (S_inf - y_0)``, there are two cases. When a line over
   all finite points rises steadily (positive slope, R^2 >= ``min_r2``) and the curve
   is highest in its last quarter, separations are still growing when the horizon
   ends: the horizon is too short to locate the linear region (the early rise mixes
   in the transient alignment with the unstable direction): *no scaling region*, with
   a reason that says to lengthen the horizon. Otherwise separations do not grow over
   the horizon (periodic or stable dynamics): the line is fitted over all finite
   points (status ``"flat"``; the slope is then close to zero or negative).
3. Otherwise the fit region runs from the first k with ``y_k >= y_0 + lo (P - y_0)``
   to the last k before the curve first exceeds ``y_0 + hi (P - y_0)``. Fewer than
   ``min_points`` points there (the curve jumps to its plateau within a step or two,
   as for uncorrelated data), or an R^2 below ``min_r2``: *no scaling region*.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from graphtraj.exceptions import UndefinedResultWarning, UnreliableResultWarning

#: Defaults of the automatic linear-region rule (see the module docstring).
AUTO_RULE = {
    "lo": 0.2,
    "hi": 0.75,
    "flat_fraction": 0.2,
    "min_headroom": 0.5,
    "min_points": 4,
    "min_r2": 0.9,
}


@dataclass(frozen=True)
class LineFit:
    """A least-squares line over ``curve[start:stop]`` and why it was chosen."""

    start: int
    stop: int
    slope: float
    intercept: float
    r2: float
    status: str  # "linear", "flat", "given", "no_scaling_region"
    reason: str
    #: Automatic linear fits only: the fraction of the headroom to the decorrelated
    #: level that the curve climbed within the horizon (1: it levelled off there).
    climbed: float = 1.0

    @property
    def accepted(self) -> bool:
        return self.status != "no_scaling_region"


#: A log-curve counts as constant when its range is at most this times
#: ``max(1, max|y|)``. Every caller fits a logarithm (ln d, ln C(r), ln F(n), ...),
#: whose round-off is absolute (about eps per logarithm, more after averaging many):
#: a range this small is a change of the underlying quantity by a factor 1 + 1e-12
#: over the whole fit, which no estimator here can resolve.
FLAT_RTOL = 1e-12


#: An automatic linear fit warns (UnreliableResultWarning) when the curve climbed less
#: than this fraction of the headroom to the decorrelated level within the horizon.
LEVELLED = 0.75


def is_flat(y: np.ndarray) -> bool:
    """True when the log-curve ``y`` is constant up to round-off (see :data:`FLAT_RTOL`)."""
    if y.size == 0:
        return True
    scale = max(1.0, float(np.max(np.abs(y))))
    return float(np.ptp(y)) <= FLAT_RTOL * scale


def least_squares(x: np.ndarray, y: np.ndarray) -> tuple[float, float, float]:
    """Slope, intercept and R^2 of the ordinary least-squares line (``np.polyfit``).

    R^2 = 1 - SS_res / SS_tot is computed from the centred data, so it lies in
    [0, 1] (a least-squares line with intercept never fits worse than the mean); it is
    clipped there against round-off. When ``y`` is constant up to round-off
    (:func:`is_flat`), SS_tot is 0 and R^2 = 0/0 is undefined: the fit is then the
    horizontal line through the mean (slope exactly 0) and R^2 is NaN; the public
    function warns. Fewer than two points: all NaN.
    """
    if x.size < 2:
        return np.nan, np.nan, np.nan
    if is_flat(y):
        return 0.0, float(np.mean(y)), np.nan
    slope, intercept = np.polyfit(x, y, 1)
    return float(slope), float(intercept), r_squared(x, y, float(slope))


def r_squared(x: np.ndarray, y: np.ndarray, slope: float) -> float:
    """R^2 of the least-squares line of slope ``slope`` through the means, in [0, 1].

    Two-pass and centred: the residuals ``(y - ȳ) - slope (x - x̄)`` carry no
    round-off from the intercept. NaN when ``y`` is constant up to round-off.
    """
    if is_flat(y):
        return np.nan
    dx = x - x.mean()
    dy = y - y.mean()
    scale = float(np.max(np.abs(dy)))  # R² is scale-free; dividing avoids under/overflow
    dy = dy / scale
    ss_tot = float(dy @ dy)
    resid = dy - (slope / scale) * dx
    ss_res = float(resid @ resid)
    return float(min(1.0, max(0.0, 1.0 - ss_res / ss_tot)))


def _failed(start: int, stop: int, reason: str) -> LineFit:
    return LineFit(start, stop, np.nan, np.nan, np.nan, "no_scaling_region", reason)


def fit_given(x: np.ndarray, y: np.ndarray, start: int, stop: int) -> LineFit:
    """Fit over ``[start, stop)``, using the finite points only."""
    sl = slice(start, stop)
    xs, ys = x[sl], y[sl]
    ok = np.isfinite(ys)
    if ok.sum() < 2:
        return _failed(start, stop, f"fewer than 2 finite curve points in [{start}, {stop})")
    slope, intercept, r2 = least_squares(xs[ok], ys[ok])
    return LineFit(start, stop, slope, intercept, r2, "given", f"fit over given range [{start}, {stop})")


def fit_auto(
    x: np.ndarray,
    y: np.ndarray,
    saturation: float,
    *,
    lo: float = AUTO_RULE["lo"],
    hi: float = AUTO_RULE["hi"],
    flat_fraction: float = AUTO_RULE["flat_fraction"],
    min_headroom: float = AUTO_RULE["min_headroom"],
    min_points: int = AUTO_RULE["min_points"],
    min_r2: float = AUTO_RULE["min_r2"],
) -> LineFit:
    """Apply the automatic linear-region rule of this module to the curve ``y(x)``."""
    k = y.size
    finite = np.flatnonzero(np.isfinite(y))
    if finite.size < min_points:
        return _failed(0, k, f"only {finite.size} finite curve points (need {min_points})")
    first = int(finite[0])
    y0 = float(y[first])
    plateau = float(np.nanmax(y))
    headroom = float(saturation) - y0
    if not np.isfinite(headroom) or headroom < min_headroom:
        return _failed(
            0, k,
            f"neighbours start at log-distance {y0:.3g}, only {headroom:.3g} below the "
            f"decorrelated level {saturation:.3g} (need >= {min_headroom}): they are not "
            "closer than unrelated pairs",
        )
    rise = plateau - y0
    if rise < flat_fraction * headroom:
        xs, ys = x[finite], y[finite]
        slope, intercept, r2 = least_squares(xs, ys)
        peak = int(finite[np.argmax(ys)])
        if slope > 0 and r2 >= min_r2 and peak >= first + 0.75 * (k - 1 - first):
            return _failed(
                first, k,
                f"the curve is still rising steadily when the horizon ends (by {rise:.3g} "
                f"over {k - first} steps, less than {flat_fraction:g} of the headroom "
                f"{headroom:.3g} to the decorrelated level): the horizon is too short to "
                "locate the linear region; lengthen it (trajectory_len)",
            )
        trend = (f"rises by only {rise:.3g}, less than {flat_fraction:g} of" if rise > 0
                 else "does not rise above its start, against")
        return LineFit(
            first, k, slope, intercept, r2, "flat",
            f"the curve {trend} the headroom {headroom:.3g} to the decorrelated level: no "
            "growth over the horizon; fitted over all points",
        )
    lo_level = y0 + lo * rise
    hi_level = y0 + hi * rise
    above_hi = np.flatnonzero(np.nan_to_num(y, nan=-np.inf) > hi_level)
    stop = int(above_hi[0]) if above_hi.size else k
    reach_lo = np.flatnonzero(np.nan_to_num(y[:stop], nan=-np.inf) >= lo_level)
    start = int(reach_lo[0]) if reach_lo.size else first
    sl = slice(start, stop)
    ok = np.isfinite(y[sl])
    if ok.sum() < min_points:
        return _failed(
            start, stop,
            f"the curve rises from {y0:.3g} past {hi:g} of its rise to {plateau:.3g} "
            f"within {stop - first} step(s): fewer than {min_points} points grow linearly",
        )
    slope, intercept, r2 = least_squares(x[sl][ok], y[sl][ok])
    if not r2 >= min_r2:  # NaN (a constant curve) fails too
        fit = _failed(start, stop, f"R^2 = {r2:.3f} < {min_r2} over [{start}, {stop})")
        return LineFit(start, stop, np.nan, np.nan, r2, fit.status, fit.reason)
    return LineFit(
        start, stop, slope, intercept, r2, "linear",
        f"linear region [{start}, {stop}): from {lo:g} to {hi:g} of the rise "
        f"{y0:.3g} -> {plateau:.3g}",
        climbed=min(1.0, rise / headroom),
    )


def warn_if_undefined(fit: LineFit, what: str, stacklevel: int = 3) -> None:
    """Warn when ``fit`` has a NaN exponent or R^2, or an automatic linear region
    on a curve that has not levelled off.

    :class:`UndefinedResultWarning` when no scaling region was found (the exponent is
    NaN) or the fitted curve is constant up to round-off (R^2 = 0/0 is NaN; the
    exponent is 0); :class:`UnreliableResultWarning` when the curve climbed less than
    :data:`LEVELLED` of its headroom within the horizon. ``stacklevel`` is that of
    ``warnings.warn`` here: 3 points at the caller of a public function that calls
    this directly; one more per private helper in between.
    """
    if not fit.accepted:
        warnings.warn(
            f"{what}: no scaling region, the exponent is NaN ({fit.reason}). "
            "Pass `fit_range=(start, stop)` to fit a range of your choice.",
            UndefinedResultWarning,
            stacklevel=stacklevel,
        )
    elif fit.status == "linear" and fit.climbed < LEVELLED:
        warnings.warn(
            f"{what}: within the horizon the divergence curve climbed only "
            f"{100 * fit.climbed:.0f}% of the way to its decorrelated level, so it has not "
            "levelled off: the fitted region may still hold the transient alignment with "
            "the unstable direction, which biases the exponent upward (for the Lorenz "
            "system about 2x at 30% and 1.1x at 70%). Lengthen the horizon "
            "(trajectory_len) until the curve levels off.",
            UnreliableResultWarning,
            stacklevel=stacklevel,
        )
    elif np.isnan(fit.r2) and np.isfinite(fit.slope):
        warnings.warn(
            f"{what}: the divergence curve is constant over the fitted steps "
            f"[{fit.start}, {fit.stop}) (up to round-off), so R^2 is undefined (NaN); "
            "the exponent is 0: separations neither grow nor shrink (points on a line, "
            "a rigid pattern, or a series with too few distinct values).",
            UndefinedResultWarning,
            stacklevel=stacklevel,
        )


def partner_offsets(n: int, n_partners: int) -> np.ndarray:
    """Offsets spread evenly over a series of ``n`` points (for decorrelated pairs)."""
    q = np.arange(1, n_partners + 1)
    off = (q * n) // (n_partners + 1)
    return np.unique(off[(off > 0) & (off < n)])
