"""Finite-time Lyapunov exponents from perturbation experiments.

A perturbation experiment trains a reference network and K copies whose weights were
displaced by ε; the distances d_k(t) of the copies to the reference form K divergence
curves. :func:`ftle_from_divergence` averages them, takes the logarithm and fits the
slope of ln d(t) over a window: the finite-time Lyapunov exponent (FTLE).
"""

from __future__ import annotations

import numbers
import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from graphtraj._checks import as_float_array, check_option, check_real
from graphtraj._result import Result
from graphtraj.exceptions import (
    InsufficientDataError,
    NonFiniteInputError,
    UndefinedResultWarning,
    ValidationError,
)
from graphtraj.timeseries._scaling import is_flat, r_squared

__all__ = ["FTLEResult", "ftle_from_divergence"]

_MIN_POINTS = 3  # a window needs at least this many valid points to be fitted
_R2_TIE = 1e-12  # R² values closer than this count as tied (the earlier window wins)


@dataclass(frozen=True, eq=False)
class FTLEResult(Result):
    """A finite-time Lyapunov exponent fitted to a mean divergence curve.

    Attributes
    ----------
    times : ndarray of int, shape (S,)
        Training step of each point of the curve.
    curve : ndarray of float, shape (S,)
        ln of the mean distance at each step (NaN where no distance could be used,
        see ``n_used``).
    n_used : ndarray of int, shape (S,)
        Number of perturbations that entered the mean at each step.
    window : tuple of int
        ``(start, stop)``: the fit used the points with ``start <= times < stop``.
        ``(-1, -1)`` when no window could be fitted.
    slope : float
        The FTLE: slope of ``curve`` against time in the window, per step (per unit
        of time when ``dt`` was given). NaN when no window could be fitted.
    intercept : float
        Intercept of the fitted line at time 0.
    r2 : float
        Coefficient of determination of the fit, in [0, 1] (1.0 for a perfect fit,
        also of a curve constant up to round-off).
    accepted : bool
        ``r2 > min_r2 and slope > min_slope``: the curve grows exponentially.
    n_points : int
        Number of curve points in the fitted window.
    mean : str
        ``"arithmetic"`` or ``"geometric"``.
    params : dict
        The parameters of the fit (``min_r2``, ``min_slope``, ``starts``, ``widths``,
        ``dt``, ``zeros``, ``nan``, ``window`` requested).
    """

    times: np.ndarray
    curve: np.ndarray
    n_used: np.ndarray
    window: tuple[int, int]
    slope: float
    intercept: float
    r2: float
    accepted: bool
    n_points: int
    mean: str
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def ratio(self) -> np.ndarray:
        """The mean divergence relative to its first valid value, d(t)/d(t_0)."""
        valid = np.flatnonzero(np.isfinite(self.curve))
        if valid.size == 0:
            return np.full(self.curve.shape, np.nan)
        return np.exp(self.curve - self.curve[valid[0]])


def _as_int_grid(values: Iterable[int], name: str, minimum: int) -> tuple[int, ...]:
    try:
        grid = tuple(values)
    except TypeError:
        raise ValidationError(
            f"`{name}` must be an iterable of integers; got {values!r}"
        ) from None
    if not grid:
        raise ValidationError(f"`{name}` must not be empty; got {grid!r}")
    out = []
    for v in grid:
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < minimum:
            raise ValidationError(
                f"`{name}` must hold integers >= {minimum}; got {v!r} in {name}"
            )
        out.append(int(v))
    return tuple(out)


def _check_window(window: Any, t: np.ndarray) -> tuple[int, int]:
    """Validate ``window=(start, stop)`` against the recorded steps ``t`` (non-empty)."""
    try:
        pair = tuple(window)
    except TypeError:
        pair = ()
    if len(pair) != 2 or not all(
        isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in pair
    ):
        raise ValidationError(
            f"`window` must be a pair of integers (start, stop); got {window!r}"
        )
    w0, w1 = int(pair[0]), int(pair[1])
    if w1 <= w0:
        raise ValidationError(f"`window` must satisfy start < stop; got {window!r}")
    first, end = int(t[0]), int(t[-1]) + 1
    if w0 < first or w1 > end:
        raise ValidationError(
            f"`window` must lie within the recorded steps, {first} <= start < stop <= "
            f"{end} (the fit uses start <= times < stop); got {window!r}. Pass a window "
            f"inside [{first}, {end}] or record more steps."
        )
    return w0, w1


def _mean_log_curve(
    d: np.ndarray, mean: str, zeros: str, nan: str
) -> tuple[np.ndarray, np.ndarray, int]:
    """ln of the mean over axis 0 of ``d`` (K, S); returns (curve, n_used, n_steps_kept)."""
    n_steps = d.shape[1]
    missing = np.isnan(d)
    if missing.any():
        if nan == "raise":
            k, s = np.argwhere(missing)[0]
            raise NonFiniteInputError(
                f"`distances` must be finite with nan='raise'; got NaN at perturbation "
                f"{k}, step index {s}. Diverged replicas give NaN after they diverge: "
                "pass nan='omit' to average over the finite ones or nan='truncate' to "
                "stop the curve before the first NaN."
            )
        if nan == "truncate":
            n_steps = int(np.argmax(missing.any(axis=0)))
            d = d[:, :n_steps]
            missing = missing[:, :n_steps]
    present = ~missing
    if mean == "arithmetic":
        n_used = present.sum(axis=0)
        total = np.where(present, d, 0.0).sum(axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            m = total / n_used
        zero_steps = (n_used > 0) & (m == 0.0)
        if zero_steps.any() and zeros == "raise":
            s = int(np.flatnonzero(zero_steps)[0])
            raise ValidationError(
                f"`distances` must have a positive mean at every step (its logarithm is "
                f"taken); got a mean of 0 at step index {s}. Start the curve after the "
                "perturbation, or pass zeros='mask' to leave such steps out of the fit."
            )
        curve = np.full(n_steps, np.nan)
        ok = (n_used > 0) & (m > 0.0)
        curve[ok] = np.log(m[ok])
        n_used = np.where(ok, n_used, 0)
    else:  # geometric: mean of logs over the positive entries
        zero = present & (d == 0.0)
        if zero.any() and zeros == "raise":
            k, s = np.argwhere(zero)[0]
            raise ValidationError(
                f"`distances` must be positive for the geometric mean (each is passed "
                f"to a logarithm); got 0 at perturbation {k}, step index {s}. Pass "
                "zeros='mask' to leave zero distances out of the mean."
            )
        use = present & (d > 0.0)
        n_used = use.sum(axis=0)
        logs = np.zeros_like(d)
        np.log(d, out=logs, where=use)
        with np.errstate(invalid="ignore", divide="ignore"):
            curve = np.where(n_used > 0, logs.sum(axis=0) / np.maximum(n_used, 1), np.nan)
    return curve, n_used.astype(np.int64), n_steps


def _fit(x: np.ndarray, y: np.ndarray) -> tuple[float, float, float]:
    """Least-squares line through (x, y): slope, intercept, R² (two-pass, exact).

    A curve constant up to round-off is fitted perfectly: slope 0, R² = 1 (the
    documented convention of :func:`ftle_from_divergence`).
    """
    xm, ym = x.mean(), y.mean()
    if is_flat(y):
        return 0.0, float(ym), 1.0
    dx, dy = x - xm, y - ym
    slope = float(dx @ dy) / float(dx @ dx)
    intercept = ym - slope * xm
    return slope, float(intercept), r_squared(x, y, slope)


def ftle_from_divergence(
    distances: Any,
    *,
    times: Any = None,
    window: tuple[int, int] | None = None,
    mean: str = "arithmetic",
    starts: Iterable[int] = range(0, 101, 5),
    widths: Iterable[int] = range(30, 101, 5),
    min_r2: float = 0.9,
    min_slope: float = 0.05,
    dt: float | None = None,
    zeros: str = "raise",
    nan: str = "omit",
) -> FTLEResult:
    """Finite-time Lyapunov exponent from the divergence of perturbed copies.

    Averages the distance curves d_k(t) of K perturbed copies to their reference,
    takes the natural logarithm and fits a straight line to ln d(t) over a window.
    The slope is the finite-time Lyapunov exponent; the fit is *accepted* as
    exponential divergence when its R² exceeds ``min_r2`` and its slope exceeds
    ``min_slope``.

    Parameters
    ----------
    distances : array_like, shape (K, S) or (S,)
        Distance of each of K perturbed copies to its reference at each of S
        recorded steps (e.g. ``Ensemble.observables["dist_l1"][copies]``). Must be
        non-negative; NaN marks a diverged copy (see ``nan``).
    times : array_like of int, shape (S,), optional
        Training step of each column, strictly increasing. Default ``0 … S-1``.
    window : (int, int), optional
        Fit exactly over the points with ``start <= times < stop`` (steps, in the
        units of ``times``); it must lie within the recorded steps,
        ``times[0] <= start < stop <= times[-1] + 1``. Default: search the paper's grid of windows given by
        ``starts`` and ``widths`` and keep the fit with the largest R².
    mean : {"arithmetic", "geometric"}, default "arithmetic"
        ``"arithmetic"``: ln of the mean distance, ln((1/K) Σ_k d_k(t)) — the
        paper's choice. ``"geometric"``: mean of the logs, (1/K) Σ_k ln d_k(t).
    starts : iterable of int, default ``range(0, 101, 5)``
        Window starts, in steps after ``times[0]``.
    widths : iterable of int, default ``range(30, 101, 5)``
        Window widths in steps; window ``[times[0] + s, times[0] + s + w)``. Windows
        reaching past the last step are skipped.
    min_r2 : float, default 0.9
        Acceptance threshold on R² (strict).
    min_slope : float, default 0.05
        Acceptance threshold on the slope (strict), per step (per unit of time with
        ``dt``).
    dt : float, optional
        Time per step; the slope is then per unit of time. Default: per step.
    zeros : {"raise", "mask"}, default "raise"
        What to do with zero distances that would enter a logarithm (field case
        C21): with the arithmetic mean, steps whose mean is 0; with the geometric
        mean, every zero entry. ``"raise"`` raises :class:`ValidationError`;
        ``"mask"`` leaves them out (a step with nothing left gets ``curve`` NaN and
        is skipped by the fit).
    nan : {"omit", "truncate", "raise"}, default "omit"
        NaN distances mark diverged copies. ``"omit"``: average over the finite
        copies at each step (a step where all are NaN is skipped; note that this
        averages over the survivors only); ``"truncate"``: end the curve before the
        first step with any NaN; ``"raise"``: raise :class:`NonFiniteInputError`.

    Returns
    -------
    FTLEResult
        ``curve``, ``n_used``, ``window``, ``slope``, ``intercept``, ``r2``,
        ``accepted``, ``n_points`` and the parameters.

    Raises
    ------
    ValidationError
        Wrong shape, negative distances, non-increasing ``times``, a window that is
        not a pair of integers with ``start < stop`` or that reaches outside the
        recorded steps (``times[0] <= start`` and ``stop <= times[-1] + 1``),
        invalid grids or thresholds, zero distances with ``zeros="raise"``.
    NonFiniteInputError
        Infinite distances, or NaN with ``nan="raise"``.
    InsufficientDataError
        The curve is shorter than the smallest window of the grid
        (``min(starts) + min(widths)`` steps), or an explicit ``window`` holds
        fewer than 3 points.
    UnknownOptionError
        ``mean``, ``zeros`` or ``nan`` is not one of the listed options.

    Warns
    -----
    UndefinedResultWarning
        When no window has 3 valid points (everything masked or NaN): the result then
        has ``slope`` NaN and ``accepted`` False.

    Notes
    -----
    With the arithmetic mean the curve is

    .. math:: y(t) = \\ln \\frac{1}{K} \\sum_{k=1}^{K} d_k(t),

    the average divergence of Danovski et al. (2024), Sect. 2 ("dynamical
    stability"); for each candidate window W the least-squares line
    y ≈ a + λ t is fitted and its coefficient of determination
    R² = 1 − Σ(y − a − λt)² / Σ(y − ȳ)² computed (R² = 1 and λ = 0 for a curve
    that is constant up to round-off — a range of at most 1e-12 max(1, max|y|) —
    following scikit-learn's ``r2_score`` for a perfect fit of a constant). The paper's rule keeps
    the window with the largest R² among starts 0, 5, …, 100 and widths
    30, 35, …, 100 and accepts λ when R² > 0.9 and λ > 0.05. R² values within 1e-12 of each
    other count as tied; ties keep the earliest start, then the shortest width.

    The arithmetic mean of the distances is dominated by the fastest-diverging
    copy; the geometric mean (mean of logs) is the usual estimator of the average
    exponent. Both are offered because studies differ.

    Complexity: O(K·S) for the mean plus O(Σ widths) per candidate window
    (21 × 15 windows of at most 100 points by default).

    References
    ----------
    .. [1] K. Danovski, M. C. Soriano, L. Lacasa, "Dynamical stability and chaos in
       artificial neural network trajectories along training", Front. Complex
       Syst. 2, 1367957 (2024). https://doi.org/10.3389/fcpxs.2024.1367957

    Examples
    --------
    A pure exponential d(t) = 1e-8·e^{0.3 t} gives exactly λ = 0.3:

    >>> import numpy as np
    >>> t = np.arange(200)
    >>> res = ftle_from_divergence(1e-8 * np.exp(0.3 * t))
    >>> round(res.slope, 12), res.accepted
    (0.3, True)

    A flat curve is rejected:

    >>> ftle_from_divergence(np.full(200, 3e-7)).accepted
    False
    """
    mean = check_option(mean, "mean", ("arithmetic", "geometric"))
    zeros = check_option(zeros, "zeros", ("raise", "mask"))
    nan = check_option(nan, "nan", ("omit", "truncate", "raise"))
    min_r2 = check_real(min_r2, "min_r2", maximum=1.0)
    min_slope = check_real(min_slope, "min_slope")
    if dt is not None:
        dt = check_real(dt, "dt", minimum=0.0, strict_min=True)
    starts_t = _as_int_grid(starts, "starts", 0)
    widths_t = _as_int_grid(widths, "widths", 1)

    d = as_float_array(distances, "distances", (1, 2), finite=False)
    if d.ndim == 1:
        d = d[None, :]
    if np.isinf(d).any():
        k, s = np.argwhere(np.isinf(d))[0]
        raise NonFiniteInputError(
            f"`distances` must not be infinite; got inf at perturbation {k}, step index "
            f"{s}. Infinite distances come from overflowing weights: mark such replicas "
            "as diverged (NaN) instead."
        )
    if (d < 0).any():
        k, s = np.argwhere(d < 0)[0]
        raise ValidationError(
            f"`distances` must be non-negative; got {d[k, s]} at perturbation {k}, "
            f"step index {s}"
        )
    n_total = d.shape[1]
    if times is None:
        t = np.arange(n_total, dtype=np.int64)
    else:
        t_arr = np.asarray(times)
        if t_arr.shape != (n_total,) or t_arr.dtype.kind not in "iu":
            raise ValidationError(
                f"`times` must be an integer array of shape ({n_total},), one step per "
                f"column of `distances`; got shape {t_arr.shape} and dtype {t_arr.dtype}"
            )
        t = t_arr.astype(np.int64)
        if n_total > 1 and np.any(np.diff(t) <= 0):
            raise ValidationError("`times` must be strictly increasing")
    if window is not None:
        w0, w1 = _check_window(window, t)

    curve_full = np.full(n_total, np.nan)
    n_used_full = np.zeros(n_total, dtype=np.int64)
    curve, n_used, n_kept = _mean_log_curve(d, mean, zeros, nan)
    curve_full[:n_kept] = curve
    n_used_full[:n_kept] = n_used
    t_kept = t[:n_kept]
    x = t_kept.astype(np.float64) * (1.0 if dt is None else dt)
    valid = np.isfinite(curve)

    params = {
        "min_r2": min_r2, "min_slope": min_slope, "starts": list(starts_t),
        "widths": list(widths_t), "dt": dt, "zeros": zeros, "nan": nan,
        "window": None if window is None else [w0, w1],
    }

    if window is not None:
        candidates = [(w0, w1)]
    else:
        span = int(t[-1] - t[0]) + 1 if n_total else 0
        smallest = min(starts_t) + min(widths_t)
        if span < smallest:
            raise InsufficientDataError(
                f"`distances` must span at least {smallest} steps for these windows; got "
                f"{span}. The minimum is min(starts) + min(widths) = {min(starts_t)} + "
                f"{min(widths_t)}. Record more steps or pass smaller `starts`/`widths` or "
                "an explicit `window`."
            )
        origin = int(t[0])
        last = int(t_kept[-1]) if n_kept else origin - 1
        candidates = [
            (origin + s, origin + s + w)
            for s in starts_t
            for w in sorted(widths_t)
            if origin + s + w - 1 <= last
        ]

    best: tuple[float, float, float, tuple[int, int], int] | None = None
    for lo, hi in candidates:
        a = int(np.searchsorted(t_kept, lo, "left"))
        b = int(np.searchsorted(t_kept, hi, "left"))
        sel = valid[a:b]
        n_pts = int(sel.sum())
        if n_pts < _MIN_POINTS:
            if window is not None:
                raise InsufficientDataError(
                    f"`window` must hold at least {_MIN_POINTS} valid points of the "
                    f"curve; got {n_pts} in {window!r}"
                )
            continue
        slope, intercept, r2 = _fit(x[a:b][sel], curve[a:b][sel])
        if best is None or r2 > best[2] + _R2_TIE:
            best = (slope, intercept, r2, (lo, hi), n_pts)

    if best is None:
        warnings.warn(
            "no window of the divergence curve has 3 valid points (all distances "
            "masked or NaN); the exponent is undefined and set to NaN",
            UndefinedResultWarning,
            stacklevel=2,
        )
        return FTLEResult(
            times=t, curve=curve_full, n_used=n_used_full, window=(-1, -1),
            slope=float("nan"), intercept=float("nan"), r2=float("nan"),
            accepted=False, n_points=0, mean=mean, params=params,
        )
    slope, intercept, r2, win, n_pts = best
    accepted = bool(r2 > min_r2 and slope > min_slope)
    return FTLEResult(
        times=t, curve=curve_full, n_used=n_used_full, window=win, slope=float(slope),
        intercept=float(intercept), r2=float(r2), accepted=accepted, n_points=n_pts,
        mean=mean, params=params,
    )
