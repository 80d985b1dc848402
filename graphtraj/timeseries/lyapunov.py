"""Largest Lyapunov exponent from data: Rosenstein's and Kantz's divergence curves.

Both follow pairs of close points of a reconstructed (or measured) state space and
average the logarithm of their separation over the steps that follow; the slope of the
linear part of that curve estimates the largest Lyapunov exponent.

* :func:`lyapunov_rosenstein`: the nearest neighbour of each point, ``<ln d>``
  (Rosenstein, Collins & De Luca 1993). ``convention="nolds"`` reproduces
  ``nolds.lyap_r(..., fit="poly")``.
* :func:`lyapunov_kantz`: a neighbourhood of each point, ``<ln mean d>`` (Kantz 1994,
  Eq. 2.3).

Neighbours are searched with scipy's KD-tree outside a Theiler window, so memory grows
as O(N), not O(N²). Pairs at distance zero never enter a logarithm.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from graphtraj._checks import (
    as_float_array,
    check_int,
    check_magnitude,
    check_option,
    check_real,
    require_length,
)
from graphtraj._progress import progress_bar
from graphtraj._result import Result
from graphtraj.exceptions import UnreliableResultWarning, ValidationError
from graphtraj.timeseries._neighbours import (
    decorrelated_level,
    follow_pairs,
    knn_outside,
    minkowski_p,
    radius_outside,
    rowwise_distance,
)
from graphtraj.timeseries._recurrence_source import native_metric
from graphtraj.timeseries._scaling import (
    LineFit,
    fit_auto,
    fit_given,
    warn_if_undefined,
)
from graphtraj.timeseries.embedding import delay_embed
from graphtraj.timeseries.embedding_params import theiler_window
from graphtraj.timeseries.min_length import _rule_kantz, _rule_rosenstein

__all__ = ["LyapunovResult", "lyapunov_rosenstein", "lyapunov_kantz"]

_CONVENTIONS = ("graphtraj", "nolds")
#: Partner offsets used for the decorrelated level of the automatic fit.
_N_PARTNERS = 10


@dataclass(frozen=True)
class LyapunovResult(Result):
    """A largest-Lyapunov-exponent estimate with its divergence curve and fit.

    Attributes
    ----------
    exponent : float
        Slope of the fitted line: per sample, or per time unit when ``dt`` was given.
        NaN when there is no scaling region (see ``status``/``reason``).
    intercept : float
        Intercept of the fitted line (log-distance units).
    r2 : float
        Coefficient of determination of the fit.
    fit_start, fit_stop : int
        The fitted curve points are ``curve[fit_start:fit_stop]`` (finite ones).
    scaling_region : bool
        False when no linear region was found (``exponent`` is then NaN).
    status : str
        ``"linear"`` (automatic region), ``"flat"`` (no growth: fit over all points),
        ``"given"`` (``fit_range`` or nolds convention), ``"no_scaling_region"``.
    reason : str
        Plain-words account of how the fit region was chosen or why none exists.
    steps : ndarray of int, shape (K,)
        Steps k of the curve.
    times : ndarray, shape (K,)
        ``k * dt`` (``k`` when ``dt`` is None): the x-axis of the fit.
    curve : ndarray, shape (K,)
        Mean log divergence (NaN where undefined).
    n_valid : ndarray of int, shape (K,)
        References (pairs or neighbourhoods) with a positive distance at each step.
    n_references : int
        References that had neighbours.
    saturation : float
        Decorrelated level: the curve statistic for pairs far apart in time.
    method : str
        ``"rosenstein"``, ``"kantz"``, ``"nmle_single"`` or ``"nmle_two"``.
    params : dict
        Parameters used (after defaults were resolved).
    """

    exponent: float
    intercept: float
    r2: float
    fit_start: int
    fit_stop: int
    scaling_region: bool
    status: str
    reason: str
    steps: np.ndarray
    times: np.ndarray
    curve: np.ndarray
    n_valid: np.ndarray
    n_references: int
    saturation: float
    method: str
    params: dict[str, Any] = field(default_factory=dict)

    def __repr__(self) -> str:
        return (
            f"LyapunovResult(method={self.method!r}, exponent={self.exponent:.6g}, "
            f"r2={self.r2:.4g}, fit=[{self.fit_start}, {self.fit_stop}), "
            f"status={self.status!r})"
        )


def _result(
    fit: LineFit,
    curve: np.ndarray,
    n_valid: np.ndarray,
    x: np.ndarray,
    n_ref: int,
    saturation: float,
    method: str,
    params: dict[str, Any],
) -> LyapunovResult:
    return LyapunovResult(
        exponent=fit.slope,
        intercept=fit.intercept,
        r2=fit.r2,
        fit_start=fit.start,
        fit_stop=fit.stop,
        scaling_region=fit.accepted,
        status=fit.status,
        reason=fit.reason,
        steps=np.arange(curve.size),
        times=x,
        curve=curve,
        n_valid=n_valid,
        n_references=n_ref,
        saturation=saturation,
        method=method,
        params=params,
    )


def zero_separation_note(n_valid: np.ndarray, n_ref: int) -> str:
    """Plain-words note when many separations are exactly zero (too few distinct values)."""
    if n_ref == 0:
        return ""
    few = np.flatnonzero(n_valid < 0.5 * n_ref)
    if few.size == 0:
        return ""
    return (f"at {few.size} of {n_valid.size} steps fewer than half of the {n_ref} "
            "references have a positive separation: the series has too few distinct "
            "values (nearly constant or coarsely quantised)")


def explain_failure(fit: LineFit, n_valid: np.ndarray, n_ref: int) -> LineFit:
    """Append the zero-separation note to the reason of a failed fit."""
    note = zero_separation_note(n_valid, n_ref)
    if fit.accepted or not note:
        return fit
    return LineFit(fit.start, fit.stop, fit.slope, fit.intercept, fit.r2, fit.status,
                   f"{fit.reason}; {note}", fit.climbed)


def check_fit_range(fit_range: Any, n_points: int) -> tuple[int, int] | None:
    """Validate ``fit_range=(start, stop)`` against a curve of ``n_points`` points."""
    if fit_range is None:
        return None
    try:
        start, stop = fit_range
    except (TypeError, ValueError):
        raise ValidationError(
            f"`fit_range` must be a pair (start, stop) of curve steps; got {fit_range!r}"
        ) from None
    start = check_int(start, "fit_range[0]", minimum=0)
    stop = check_int(stop, "fit_range[1]", minimum=start + 2, maximum=n_points)
    return start, stop


def check_dt(dt: Any) -> float | None:
    """``dt`` must be None or a positive real number."""
    return None if dt is None else check_real(dt, "dt", minimum=0.0, strict_min=True)


def _prepare(
    series: Any, emb_dim: int, lag: int, theiler: Any, trajectory_len: int
) -> tuple[np.ndarray, int, int, int, int]:
    x = check_magnitude(as_float_array(series, "series", (1, 2), min_len=1), "series")
    emb_dim = check_int(emb_dim, "emb_dim", minimum=1)
    lag = check_int(lag, "lag", minimum=1)
    trajectory_len = check_int(trajectory_len, "trajectory_len", minimum=2)
    if theiler is None:
        theiler = theiler_window(x) if x.shape[0] >= 2 else 1
    else:
        theiler = check_int(theiler, "theiler", minimum=1)
    return x, emb_dim, lag, theiler, trajectory_len


def _candidates(x: np.ndarray, emb_dim: int, lag: int, trajectory_len: int) -> tuple[np.ndarray, int]:
    pts = delay_embed(x, emb_dim, lag)
    n_traj = pts.shape[0] - trajectory_len + 1
    return pts, n_traj


def _reference_rows(n_traj: int, n_references: int | None) -> np.ndarray:
    if n_references is None or n_references >= n_traj:
        return np.arange(n_traj)
    return np.unique(np.linspace(0, n_traj - 1, n_references).round().astype(np.int64))


def lyapunov_rosenstein(
    series: Any,
    *,
    emb_dim: int = 1,
    lag: int = 1,
    theiler: int | None = None,
    trajectory_len: int = 20,
    metric: str = "euclidean",
    dt: float | None = None,
    fit_range: tuple[int, int] | None = None,
    n_references: int | None = None,
    convention: str = "graphtraj",
    progress: bool | None = None,
) -> LyapunovResult:
    """Largest Lyapunov exponent by Rosenstein's method (nearest-neighbour divergence).

    Each delay vector ``X_i`` that can be followed for ``trajectory_len - 1`` steps gets
    its nearest neighbour ``X_j`` among those vectors with ``|i - j| >= theiler``; the
    curve is ``y(k) = <ln ||X_{i+k} - X_{j+k}||>_i`` and its slope over the linear
    region estimates λ₁.

    Parameters
    ----------
    series : array_like, shape (T,) or (T, P)
        Scalar series, or states (multivariate series; delay-embedded delay-major when
        ``emb_dim > 1``). Integer input is cast to float64.
    emb_dim : int, default 1
        Embedding dimension (see :func:`false_nearest_neighbors`, :func:`cao_embedding`).
    lag : int, default 1
        Delay in samples (see :func:`lag_by_mutual_information`).
    theiler : int, optional
        Theiler window w >= 1: pairs with ``|i - j| < w`` are never neighbours.
        Default :func:`theiler_window` of the input. nolds' ``min_tsep`` is ``w - 1``.
    trajectory_len : int, default 20
        Points of the divergence curve (steps 0 .. trajectory_len - 1), as in nolds.
    metric : {"euclidean", "chebyshev", "manhattan"}, default "euclidean"
        Norm of the separations. Case-insensitive aliases, as for
        :func:`~graphtraj.timeseries.recurrence_matrix`: ``"l2"`` (euclidean);
        ``"l1"``, ``"cityblock"`` (manhattan); ``"max"``, ``"linf"``, ``"supremum"``
        (chebyshev).
    dt : float, optional
        Time per sample; the exponent is then per time unit.
    fit_range : (int, int), optional
        Fit ``curve[start:stop]`` instead of the automatic region.
    n_references : int, optional
        Follow only this many evenly spaced reference vectors (neighbours are still
        searched among all); default all.
    convention : {"graphtraj", "nolds"}, default "graphtraj"
        ``"graphtraj"``: neighbours at distance 0 are skipped in the search, a curve
        point is NaN when fewer than half of the pairs have a positive separation, and
        the fit region is automatic. ``"nolds"``: ``nolds.lyap_r``'s choices — the
        nearest neighbour may be at distance 0 (ties to the lower index), zero
        distances are dropped from each step's mean, the line is fitted by least
        squares over all finite steps; requires ``metric="euclidean"``.
    progress : bool, optional
        Progress bar over steps (default: when interactive).

    Returns
    -------
    LyapunovResult
        ``exponent`` (per sample or per ``dt``), the curve, fit and parameters.

    Raises
    ------
    InsufficientDataError
        If ``T < (span - 1) + (trajectory_len - 1) + 2 * theiler`` (see
        :func:`min_length_rosenstein`); the message states the number and formula.
    NonFiniteInputError
        If the input has NaN or inf.
    ValidationError, UnknownOptionError
        For invalid parameters.

    Warns
    -----
    UndefinedResultWarning
        No scaling region (uncorrelated data jump to their plateau at once; too few
        finite curve points, e.g. a nearly constant series whose separations are
        mostly exactly zero): the exponent is NaN and ``reason`` says why.
    UnreliableResultWarning
        ``convention="nolds"`` when at some step most separations are exactly zero
        (nolds drops them silently and returns a number).

    Notes
    -----
    Rosenstein, Collins & De Luca, Physica D 65, 117 (1993),
    doi:10.1016/0167-2789(93)90009-P, Eq. 10: ``y(k) = <ln d_j(k)>``. The automatic
    fit region (``convention="graphtraj"``, no ``fit_range``) is documented in
    :mod:`graphtraj.timeseries._scaling`: with ``y0`` the first point, ``P`` the
    maximum and ``S`` the decorrelated level (``<ln d>`` for pairs spread far apart in
    time), the fit runs from ``y0`` to the last step before the curve passes
    ``y0 + 0.7 (P - y0)``, needs >= 4 points and R² >= 0.9; a curve climbing less than
    0.2 of ``S - y0`` is *flat* and fitted over all points (periodic data give ≈ 0).

    KD-tree neighbour search, O(N log N) time for low dimensions, O(N) memory (no
    N x N matrix). Degenerate cases: coinciding vectors are never neighbours
    (graphtraj convention), so a constant series has no references and gives NaN
    with a warning.

    References
    ----------
    .. [1] M. T. Rosenstein, J. J. Collins, C. J. De Luca, "A practical method for
       calculating largest Lyapunov exponents from small data sets", Physica D 65
       (1993) 117-134. doi:10.1016/0167-2789(93)90009-P

    Examples
    --------
    >>> import numpy as np
    >>> x = np.empty(2000); x[0] = 0.3
    >>> for t in range(1999): x[t + 1] = 4 * x[t] * (1 - x[t])
    >>> res = lyapunov_rosenstein(x, theiler=1)
    >>> bool(abs(res.exponent - np.log(2)) < 0.05)      # logistic map r = 4: λ = ln 2
    True
    """
    x, emb_dim, lag, theiler, trajectory_len = _prepare(series, emb_dim, lag, theiler, trajectory_len)
    metric = native_metric(metric)
    convention = check_option(convention, "convention", _CONVENTIONS)
    if convention == "nolds" and metric != "euclidean":
        raise ValidationError(
            f"`metric` must be 'euclidean' with convention='nolds' (nolds.lyap_r uses "
            f"the Euclidean norm); got {metric!r}"
        )
    dt = check_dt(dt)
    fr = check_fit_range(fit_range, trajectory_len)
    if n_references is not None:
        n_references = check_int(n_references, "n_references", minimum=1)
    n_min, how = _rule_rosenstein(emb_dim, lag, trajectory_len, theiler)
    require_length(x.shape[0], n_min, "series", how)

    pts, n_traj = _candidates(x, emb_dim, lag, trajectory_len)
    p = minkowski_p(metric)
    nolds = convention == "nolds"
    rows = _reference_rows(n_traj, n_references)
    nb, _ = knn_outside(pts[:n_traj], theiler, 1, p=p, exclude_zero=not nolds, rows=rows)
    nb = nb[:, 0]
    ok = nb >= 0
    i_idx, j_idx = rows[ok], nb[ok]
    dist = rowwise_distance(pts, p)
    bar = lambda it: progress_bar(it, total=trajectory_len, desc="rosenstein", progress=progress)  # noqa: E731
    curve, n_valid = follow_pairs(
        dist, i_idx, j_idx, np.arange(i_idx.size), i_idx.size, trajectory_len,
        min_valid_fraction=0.0 if nolds else 0.5, progress_iter=bar,
    )
    xs = np.arange(trajectory_len, dtype=np.float64) * (1.0 if dt is None else dt)
    saturation = decorrelated_level(dist, n_traj, n_partners=_N_PARTNERS, log_of_mean=False)
    if fr is not None:
        fit = fit_given(xs, curve, *fr)
    elif nolds:
        fit = fit_given(xs, curve, 0, trajectory_len)
    else:
        fit = fit_auto(xs, curve, saturation)
    fit = explain_failure(fit, n_valid, int(i_idx.size))
    if i_idx.size == 0:
        fit = LineFit(0, trajectory_len, np.nan, np.nan, np.nan, "no_scaling_region",
                      "no delay vector has a neighbour at positive distance outside the "
                      "Theiler window (constant or nearly constant series)")
    elif nolds and fit.accepted and zero_separation_note(n_valid, int(i_idx.size)):
        warnings.warn(
            "lyapunov_rosenstein(convention='nolds'): "
            + zero_separation_note(n_valid, int(i_idx.size))
            + "; nolds drops the zeros silently, so this exponent is unreliable",
            UnreliableResultWarning,
            stacklevel=2,
        )
    warn_if_undefined(fit, "lyapunov_rosenstein")
    params = {"emb_dim": emb_dim, "lag": lag, "theiler": theiler,
              "trajectory_len": trajectory_len, "metric": metric, "dt": dt,
              "fit_range": fr, "n_references": n_references, "convention": convention,
              "min_length": n_min}
    return _result(fit, curve, n_valid, xs, int(i_idx.size), saturation, "rosenstein", params)


def lyapunov_kantz(
    series: Any,
    *,
    emb_dim: int = 1,
    lag: int = 1,
    theiler: int | None = None,
    trajectory_len: int = 20,
    eps: float | None = None,
    n_neighbors: int | None = None,
    metric: str = "euclidean",
    dt: float | None = None,
    fit_range: tuple[int, int] | None = None,
    n_references: int | None = None,
    progress: bool | None = None,
) -> LyapunovResult:
    """Largest Lyapunov exponent by Kantz's method (log of the mean neighbourhood divergence).

    For each reference vector ``X_i`` (followable for ``trajectory_len - 1`` steps),
    ``U_i`` is its neighbourhood: the vectors within distance ``eps`` or its
    ``n_neighbors`` nearest, outside the Theiler window and at positive distance. The
    curve is ``S(k) = <ln( mean_{j in U_i} ||X_{i+k} - X_{j+k}|| )>_i``.

    Parameters
    ----------
    series : array_like, shape (T,) or (T, P)
        Scalar series or states (as for :func:`lyapunov_rosenstein`).
    emb_dim, lag : int, default 1
        Embedding dimension and delay.
    theiler : int, optional
        Theiler window w >= 1; default :func:`theiler_window`.
    trajectory_len : int, default 20
        Points of the curve (steps 0 .. trajectory_len - 1).
    eps : float, optional
        Neighbourhood radius (same units as the series). References without any
        neighbour within ``eps`` are skipped.
    n_neighbors : int, optional
        Size of k-nearest-neighbour neighbourhoods. Give ``eps`` or ``n_neighbors``,
        not both; with neither, ``n_neighbors = 5``.
    metric : {"euclidean", "chebyshev", "manhattan"}, default "euclidean"
        Norm for neighbourhoods and separations. Case-insensitive aliases, as for
        :func:`~graphtraj.timeseries.recurrence_matrix`: ``"l2"`` (euclidean);
        ``"l1"``, ``"cityblock"`` (manhattan); ``"max"``, ``"linf"``, ``"supremum"``
        (chebyshev).
    dt : float, optional
        Time per sample; the exponent is then per time unit.
    fit_range : (int, int), optional
        Fit ``curve[start:stop]`` instead of the automatic region.
    n_references : int, optional
        Use this many evenly spaced references (default all).
    progress : bool, optional
        Progress bar over steps.

    Returns
    -------
    LyapunovResult

    Raises
    ------
    InsufficientDataError
        If ``T < (span - 1) + (trajectory_len - 1) + 2 w - 1 + k`` (k = n_neighbors,
        1 with ``eps``); see :func:`min_length_kantz`.
    NonFiniteInputError
        If the input has NaN or inf.
    ValidationError, UnknownOptionError
        For invalid parameters (including both ``eps`` and ``n_neighbors``).

    Warns
    -----
    UndefinedResultWarning
        No scaling region, or no reference has a neighbour (``eps`` too small):
        exponent NaN.

    Notes
    -----
    Kantz, Phys. Lett. A 185, 77-87 (1994), doi:10.1016/0375-9601(94)90991-1,
    Eq. 2.3 (log of the mean over the neighbourhood, then the mean over references).
    Separations are measured between full delay vectors with ``metric``. The fit
    region rule is that of :func:`lyapunov_rosenstein` with the decorrelated level
    ``<ln mean_j d>`` over far-apart partners. A reference whose mean separation is 0
    at step k is left out of that step; the point is NaN when fewer than half remain.
    KD-tree search, O(N k) memory.

    References
    ----------
    .. [1] H. Kantz, "A robust method to estimate the maximal Lyapunov exponent of a
       time series", Phys. Lett. A 185 (1994) 77-87. doi:10.1016/0375-9601(94)90991-1

    Examples
    --------
    >>> import numpy as np
    >>> x = np.empty(3000); x[0] = 0.3
    >>> for t in range(2999): x[t + 1] = 4 * x[t] * (1 - x[t])
    >>> res = lyapunov_kantz(x, theiler=1, eps=1e-3)
    >>> bool(abs(res.exponent - np.log(2)) < 0.05)
    True
    """
    x, emb_dim, lag, theiler, trajectory_len = _prepare(series, emb_dim, lag, theiler, trajectory_len)
    metric = native_metric(metric)
    if eps is not None and n_neighbors is not None:
        raise ValidationError(
            f"give either `eps` or `n_neighbors`, not both; got eps={eps!r}, "
            f"n_neighbors={n_neighbors!r}"
        )
    if eps is not None:
        eps = check_real(eps, "eps", minimum=0.0, strict_min=True)
        k = 1
    else:
        k = 5 if n_neighbors is None else check_int(n_neighbors, "n_neighbors", minimum=1)
    dt = check_dt(dt)
    fr = check_fit_range(fit_range, trajectory_len)
    if n_references is not None:
        n_references = check_int(n_references, "n_references", minimum=1)
    n_min, how = _rule_kantz(emb_dim, lag, trajectory_len, theiler, k)
    require_length(x.shape[0], n_min, "series", how)

    pts, n_traj = _candidates(x, emb_dim, lag, trajectory_len)
    p = minkowski_p(metric)
    rows = _reference_rows(n_traj, n_references)
    if eps is None:
        nb, _ = knn_outside(pts[:n_traj], theiler, k, p=p, rows=rows)
        g = np.repeat(np.arange(rows.size), k)
        j = nb.reshape(-1)
        keep = j >= 0
        g, j = g[keep], j[keep]
    else:
        g, j = radius_outside(pts[:n_traj], eps, theiler, p=p, rows=rows)
    i = rows[g]
    n_ref = int(np.unique(g).size)
    dist = rowwise_distance(pts, p)
    bar = lambda it: progress_bar(it, total=trajectory_len, desc="kantz", progress=progress)  # noqa: E731
    curve, n_valid = follow_pairs(dist, i, j, g, rows.size, trajectory_len, progress_iter=bar)
    xs = np.arange(trajectory_len, dtype=np.float64) * (1.0 if dt is None else dt)
    saturation = decorrelated_level(dist, n_traj, n_partners=max(k, _N_PARTNERS), log_of_mean=True)
    fit = fit_given(xs, curve, *fr) if fr is not None else fit_auto(xs, curve, saturation)
    fit = explain_failure(fit, n_valid, n_ref)
    if n_ref == 0:
        fit = LineFit(0, trajectory_len, np.nan, np.nan, np.nan, "no_scaling_region",
                      "no reference vector has a neighbour at positive distance "
                      + (f"within eps={eps:g}" if eps is not None else "outside the Theiler window"))
    warn_if_undefined(fit, "lyapunov_kantz")
    params = {"emb_dim": emb_dim, "lag": lag, "theiler": theiler,
              "trajectory_len": trajectory_len, "eps": eps,
              "n_neighbors": None if eps is not None else k, "metric": metric, "dt": dt,
              "fit_range": fr, "n_references": n_references, "min_length": n_min,
              "mean_neighbourhood": float(g.size / n_ref) if n_ref else 0.0}
    return _result(fit, curve, n_valid, xs, n_ref, saturation, "kantz", params)
