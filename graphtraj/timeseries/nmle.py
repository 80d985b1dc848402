"""The network maximum Lyapunov exponent (nMLE) of a temporal network.

Caligiuri, Eguíluz, Di Gaetano, Galla & Lacasa, Phys. Rev. E 107, 044305 (2023):
a temporal network is a trajectory in graph space; how fast nearby graphs separate
along it is measured with a graph distance instead of a Euclidean norm.

* single-trajectory mode: the Kantz-style curve of one trajectory,
  ``S(τ) = < ln mean_{j in U_i} D(A_{i+τ}, A_{j+τ}) >_i`` over neighbourhoods ``U_i``
  in graph space (within a radius or the k nearest, outside the Theiler window);
* two-trajectory mode: reference and perturbed trajectories,
  ``S(t) = < ln D(A_t, Ã_t) >`` over perturbed copies.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from graphtraj._checks import (
    as_float_array,
    check_finite,
    check_int,
    check_magnitude,
    check_option,
    check_real,
    require_length,
)
from graphtraj._progress import progress_bar
from graphtraj.exceptions import ValidationError
from graphtraj.timeseries._neighbours import (
    decorrelated_level,
    follow_pairs,
    knn_outside,
    matrix_distance,
    radius_outside,
    rowwise_distance,
)
from graphtraj.timeseries._recurrence_source import METRIC_ALIASES, resolve_metric
from graphtraj.timeseries._recurrence_source import METRICS as NATIVE_METRICS
from graphtraj.timeseries._scaling import LineFit, fit_auto, fit_given, warn_if_undefined
from graphtraj.timeseries.embedding_params import theiler_window
from graphtraj.timeseries.lyapunov import (
    LyapunovResult,
    check_dt,
    check_fit_range,
    explain_failure,
)
from graphtraj.timeseries.min_length import _rule_network_mle

__all__ = ["network_mle"]

#: Metrics computed directly on the flat snapshot vectors (KD-tree, O(T) memory).
_VECTOR_METRICS = {"l1": 1.0, "l2": 2.0, "chebyshev": np.inf}
#: Registry / vector name of each native metric, so that the names (and aliases) of
#: the recurrence and Lyapunov functions work here too.
_NATIVE_TO_VECTOR = {"manhattan": "l1", "euclidean": "l2", "chebyshev": "chebyshev"}
_N_PARTNERS = 10


# --------------------------------------------------------------------------- inputs
def _is_graph_series(x: Any) -> bool:
    from graphtraj.snapshots import GraphSeries

    return isinstance(x, GraphSeries)


def _as_series_obj(x: Any, name: str) -> Any:
    """GraphSeries, Trajectory → GraphSeries; arrays → float arrays (T,P) or (T,N,N)."""
    from graphtraj.trajectory import Trajectory

    if _is_graph_series(x):
        return x
    if isinstance(x, Trajectory):
        from graphtraj.snapshots import GraphSeries

        return GraphSeries.from_trajectory(x)
    arr = as_float_array(x, name, (2, 3))
    if arr.ndim == 3:
        from graphtraj.snapshots import GraphSeries

        return GraphSeries.from_adjacency(np.arange(arr.shape[0]), arr)
    return check_magnitude(arr, name)


def _vectors(x: Any) -> np.ndarray:
    """Flat snapshot vectors: ``GraphSeries.vectors()`` or the (T, P) array itself."""
    if _is_graph_series(x):
        v = np.asarray(x.vectors(), dtype=np.float64)
        check_finite(v, "series")
        return v
    return x


def _snapshots(x: Any) -> Callable[[int], Any]:
    """``get(t)``: the snapshot handed to a callable metric (dense matrix or vector)."""
    if _is_graph_series(x):
        return lambda t: x.dense(t)[0]
    return lambda t: x[t]


def _length(x: Any) -> int:
    return len(x) if _is_graph_series(x) else int(x.shape[0])


def _as_distance(value: Any) -> float:
    """A callable metric's return value as a float; anything else is a ValidationError."""
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ValidationError(
            f"`metric(a, b)` must return a real number (a distance); got {value!r} of type "
            f"{type(value).__name__}. Make the callable return a float."
        ) from None


def _callable_matrix(x: Any, fn: Callable[[Any, Any], float], progress: bool | None) -> np.ndarray:
    n = _length(x)
    get = _snapshots(x)
    snaps = [get(t) for t in range(n)]
    d = np.zeros((n, n))
    for i in progress_bar(range(n), total=n, desc="distances", progress=progress):
        for j in range(i + 1, n):
            d[i, j] = d[j, i] = _as_distance(fn(snaps[i], snaps[j]))
    _check_distances(d, "metric(a, b)")
    return d


def _check_distances(d: np.ndarray, name: str) -> np.ndarray:
    check_finite(d, name)
    if np.any(d < 0):
        raise ValidationError(f"`{name}` must give non-negative distances; got min {d.min():g}")
    return d


def _registry_matrix(x: Any, metric: str, progress: bool | None) -> np.ndarray:
    from graphtraj.measures import distance_matrix

    return distance_matrix(x, metric=metric, progress=progress)


def _paired(x: Any, y: Any, metric: Any) -> np.ndarray:
    """Distances ``D(x_t, y_t)`` for two series under ``metric``."""
    if callable(metric):
        gx, gy = _snapshots(x), _snapshots(y)
        return np.array([_as_distance(metric(gx(t), gy(t))) for t in range(_length(x))])
    if metric in _VECTOR_METRICS:
        vx, vy = _vectors(x), _vectors(y)
        if vx.shape != vy.shape:
            raise ValidationError(
                f"`perturbed` must match `series` in shape; got {vy.shape} and {vx.shape}"
            )
        return np.linalg.norm(vx - vy, ord=_VECTOR_METRICS[metric], axis=1)
    from graphtraj.measures import paired_distances

    return paired_distances(x, y, metric=metric)


# ---------------------------------------------------------------------- the function
def network_mle(
    series: Any,
    perturbed: Any = None,
    *,
    metric: str | Callable[[Any, Any], float] = "l1",
    mode: str | None = None,
    theiler: int | None = None,
    trajectory_len: int | None = None,
    eps: float | None = None,
    n_neighbors: int | None = None,
    dt: float | None = None,
    fit_range: tuple[int, int] | None = None,
    n_references: int | None = None,
    progress: bool | None = None,
) -> LyapunovResult:
    """Network maximum Lyapunov exponent (nMLE) of a temporal network.

    Parameters
    ----------
    series : GraphSeries, Trajectory, array or distance matrix
        The (reference) trajectory of graphs: a :class:`~graphtraj.GraphSeries`, a
        :class:`~graphtraj.trajectory.Trajectory` (turned into its layered graph
        series), an array of adjacency matrices ``(T, N, N)`` or of flat snapshots
        ``(T, P)``. With ``metric="precomputed"``: the ``(T, T)`` matrix of graph
        distances (single-trajectory mode), or the ``(T,)`` / ``(K, T)`` distances
        between reference and perturbed copies (``mode="two"``).
    perturbed : same kind as ``series``, or a sequence of them, optional
        Perturbed copies recorded at the same steps; switches to two-trajectory mode.
        When ``series`` is a list of K references, ``perturbed`` is a list of K
        entries, each one perturbed series or a list of copies of that reference
        (several pairs average out the fluctuations of one orbit).
    metric : str or callable, default "l1"
        A key of :data:`graphtraj.measures.METRICS` (``"l1"`` and ``"l2"`` are
        computed directly on the flat snapshot vectors — the fixed edge weights, plus
        biases for layered series — with a KD-tree and O(T) memory, and so is
        ``"chebyshev"``; the native metric names and aliases of the recurrence and
        Lyapunov functions, ``"euclidean"``, ``"manhattan"``, ``"cityblock"``,
        ``"max"``, ... (case-insensitive), are accepted for these three; other keys via
        :func:`graphtraj.measures.distance_matrix` with O(T²) memory), a callable
        ``f(a, b) -> float`` on two snapshots (dense ``(N, N)`` adjacency for graph
        series, the row for arrays; T²/2 calls), or ``"precomputed"``.
    mode : {"single", "two"}, optional
        Default ``"two"`` when ``perturbed`` is given, else ``"single"``.
    theiler : int, optional
        Single mode: snapshots with ``|i - j| < theiler`` are never neighbours.
        Default :func:`theiler_window` of the flat snapshot vectors (1 for
        precomputed or callable distances).
    trajectory_len : int, optional
        Points of the curve. Single mode default 20; two mode default (and maximum)
        the series length.
    eps : float, optional
        Single mode: neighbourhood radius in graph distance units.
    n_neighbors : int, optional
        Single mode: k nearest neighbours (default 5 when ``eps`` is not given).
    dt : float, optional
        Time per snapshot (e.g. training steps between records); the exponent is then
        per time unit.
    fit_range : (int, int), optional
        Fit ``curve[start:stop]`` instead of the automatic region.
    n_references : int, optional
        Single mode: number of evenly spaced reference snapshots (default all).
    progress : bool, optional
        Progress bar.

    Returns
    -------
    LyapunovResult
        ``method`` is ``"nmle_single"`` or ``"nmle_two"``; ``exponent`` is the nMLE
        (NaN with ``scaling_region=False`` when the curve has no scaling region).

    Raises
    ------
    InsufficientDataError
        Single mode: ``T < (trajectory_len - 1) + 2 theiler - 1 + k``; two mode: T < 2.
    NonFiniteInputError
        NaN or inf in the graphs or distances.
    ValidationError, UnknownOptionError
        Invalid parameters; mismatched shapes of reference and perturbed series;
        negative distances.

    Warns
    -----
    UndefinedResultWarning
        No scaling region: exponent NaN, ``reason`` says why.

    Notes
    -----
    Caligiuri et al., Phys. Rev. E 107, 044305 (2023), doi:10.1103/PhysRevE.107.044305:
    the nMLE is the slope of ``S(τ) = < ln mean_{j in U_i} D(A_{i+τ}, A_{j+τ}) >_i``
    (Kantz's Eq. 2.3 with the graph distance D), or in two-trajectory mode of
    ``< ln D(A_t, Ã_t) >`` over perturbed copies (zero distances are left out, never
    logged; a point with fewer than half the copies at positive distance is NaN).

    *No scaling region* (the documented criterion of
    :mod:`graphtraj.timeseries._scaling`): with ``y0`` the first point, ``P`` the
    maximum of the curve and ``S`` the decorrelated level (the same statistic for
    snapshots spread far apart in time along the reference), the exponent is NaN when
    ``S - y0 < 0.5`` (neighbours are not closer than unrelated graphs — a sequence of
    i.i.d. graphs in two-trajectory mode), or when the curve passes 0.75 of its rise
    within fewer than 4 points (an uncorrelated sequence jumps to its plateau at
    τ = 1), or when R² < 0.9 in the region. A curve that climbs less than 0.2 of
    ``S - y0`` is flat (periodic networks): fitted over all points, exponent ≈ 0.
    With precomputed two-mode distances S is unknown and the curve's maximum is used.

    Complexity: single mode O(T k τ F) time and O(T (k + F)) memory for ``l1``/``l2``;
    O(T²) memory for other metrics. Two mode O(K T F).

    References
    ----------
    .. [1] A. Caligiuri, V. M. Eguíluz, L. Di Gaetano, T. Galla, L. Lacasa, "Lyapunov
       exponents for temporal networks", Phys. Rev. E 107, 044305 (2023).
       doi:10.1103/PhysRevE.107.044305

    Examples
    --------
    >>> import numpy as np
    >>> from graphtraj.datasets.networks import logistic_network
    >>> g = logistic_network(1500)
    >>> res = network_mle(g, theiler=1)
    >>> bool(abs(res.exponent - np.log(2)) < 0.05)      # the driving logistic map: ln 2
    True
    """
    if mode is None:
        mode = "single" if perturbed is None else "two"
    mode = check_option(mode, "mode", ("single", "two"))
    precomputed = isinstance(metric, str) and metric == "precomputed"
    if not callable(metric) and not isinstance(metric, str):
        raise ValidationError(
            f"`metric` must be a registry key, a callable f(a, b) or 'precomputed'; got {metric!r}"
        )
    if isinstance(metric, str) and not precomputed:
        from graphtraj.measures import METRICS

        native = resolve_metric(metric)
        if metric not in METRICS and native is not None:
            metric = _NATIVE_TO_VECTOR[native]
        else:
            names = (*METRICS, "precomputed", *NATIVE_METRICS, *sorted(METRIC_ALIASES))
            check_option(metric, "metric", dict.fromkeys(names))
    dt = check_dt(dt)
    if n_references is not None:
        n_references = check_int(n_references, "n_references", minimum=1)
    if mode == "two":
        return _two_mode(series, perturbed, metric, precomputed, trajectory_len, dt, fit_range)
    if perturbed is not None:
        raise ValidationError("`perturbed` must be None in single-trajectory mode (mode='single')")
    return _single_mode(series, metric, precomputed, theiler, trajectory_len, eps,
                        n_neighbors, dt, fit_range, n_references, progress)


def _single_mode(series, metric, precomputed, theiler, trajectory_len, eps, n_neighbors,
                 dt, fit_range, n_references, progress) -> LyapunovResult:
    trajectory_len = 20 if trajectory_len is None else check_int(trajectory_len, "trajectory_len", minimum=2)
    if eps is not None and n_neighbors is not None:
        raise ValidationError(
            f"give either `eps` or `n_neighbors`, not both; got eps={eps!r}, n_neighbors={n_neighbors!r}"
        )
    if eps is not None:
        eps = check_real(eps, "eps", minimum=0.0, strict_min=True)
        k = 1
    else:
        k = 5 if n_neighbors is None else check_int(n_neighbors, "n_neighbors", minimum=1)
    fr = check_fit_range(fit_range, trajectory_len)

    vectors = None
    if precomputed:
        dmat = as_float_array(series, "series", 2)
        if dmat.shape[0] != dmat.shape[1]:
            raise ValidationError(
                f"`series` must be a square (T, T) distance matrix with metric='precomputed'; "
                f"got shape {dmat.shape}"
            )
        _check_distances(dmat, "series")
        n = dmat.shape[0]
    else:
        x = _as_series_obj(series, "series")
        n = _length(x)
        if isinstance(metric, str) and metric in _VECTOR_METRICS:
            vectors = _vectors(x)
    if theiler is None:
        theiler = theiler_window(vectors) if vectors is not None and n >= 2 else 1
    else:
        theiler = check_int(theiler, "theiler", minimum=1)
    n_min, how = _rule_network_mle(trajectory_len, theiler, k, "single")
    require_length(n, n_min, "series", how)
    if not precomputed and vectors is None:
        dmat = (_callable_matrix(x, metric, progress) if callable(metric)
                else _registry_matrix(x, metric, progress))

    n_traj = n - trajectory_len + 1
    rows = (np.arange(n_traj) if n_references is None or n_references >= n_traj
            else np.unique(np.linspace(0, n_traj - 1, n_references).round().astype(np.int64)))
    if vectors is not None:
        p = _VECTOR_METRICS[metric]
        pts = np.ascontiguousarray(vectors)
        if eps is None:
            nb, _ = knn_outside(pts[:n_traj], theiler, k, p=p, rows=rows)
            g = np.repeat(np.arange(rows.size), k)
            j = nb.reshape(-1)
            keep = j >= 0
            g, j = g[keep], j[keep]
        else:
            g, j = radius_outside(pts[:n_traj], eps, theiler, p=p, rows=rows)
        dist = rowwise_distance(pts, p)
    else:
        g, j = _matrix_neighbours(dmat, rows, n_traj, theiler, eps, k)
        dist = matrix_distance(dmat)
    i = rows[g]
    n_ref = int(np.unique(g).size)
    bar = lambda it: progress_bar(it, total=trajectory_len, desc="nmle", progress=progress)  # noqa: E731
    curve, n_valid = follow_pairs(dist, i, j, g, rows.size, trajectory_len, progress_iter=bar)
    xs = np.arange(trajectory_len, dtype=np.float64) * (1.0 if dt is None else dt)
    saturation = decorrelated_level(dist, n_traj, n_partners=max(k, _N_PARTNERS), log_of_mean=True)
    fit = fit_given(xs, curve, *fr) if fr is not None else fit_auto(xs, curve, saturation)
    fit = explain_failure(fit, n_valid, n_ref)
    if n_ref == 0:
        fit = LineFit(0, trajectory_len, np.nan, np.nan, np.nan, "no_scaling_region",
                      "no reference snapshot has a neighbour at positive distance "
                      + (f"within eps={eps:g}" if eps is not None else "outside the Theiler window"))
    warn_if_undefined(fit, "network_mle", stacklevel=4)
    params = {"mode": "single", "metric": metric if isinstance(metric, str) else getattr(metric, "__name__", "callable"),
              "theiler": theiler, "trajectory_len": trajectory_len, "eps": eps,
              "n_neighbors": None if eps is not None else k, "dt": dt, "fit_range": fr,
              "n_references": n_references, "min_length": n_min,
              "mean_neighbourhood": float(g.size / n_ref) if n_ref else 0.0}
    return _make(fit, curve, n_valid, xs, n_ref, saturation, "nmle_single", params)


def _matrix_neighbours(dmat: np.ndarray, rows: np.ndarray, n_traj: int, theiler: int,
                       eps: float | None, k: int) -> tuple[np.ndarray, np.ndarray]:
    groups, js = [], []
    cols = np.arange(n_traj)
    for gi, r in enumerate(rows):
        d = dmat[r, :n_traj]
        ok = (np.abs(cols - r) >= theiler) & (d > 0)
        if eps is not None:
            sel = cols[ok & (d <= eps)]
        else:
            cand = cols[ok]
            order = np.lexsort((cand, d[cand]))
            sel = cand[order[:k]]
        groups.append(np.full(sel.size, gi, dtype=np.int64))
        js.append(sel.astype(np.int64))
    if not groups:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    return np.concatenate(groups), np.concatenate(js)


def _two_mode(series, perturbed, metric, precomputed, trajectory_len, dt, fit_range) -> LyapunovResult:
    if precomputed:
        if perturbed is not None:
            raise ValidationError(
                "`perturbed` must be None with metric='precomputed' in two-trajectory mode: "
                "pass the (T,) or (K, T) reference-perturbed distances as `series`"
            )
        dists = as_float_array(series, "series", (1, 2))
        dists = dists[None, :] if dists.ndim == 1 else dists
        _check_distances(dists, "series")
        n = dists.shape[1]
        saturation = np.nan
        metric_name = "precomputed"
    else:
        if perturbed is None:
            raise ValidationError("`perturbed` must be given in two-trajectory mode (mode='two')")
        if isinstance(series, (list, tuple)):
            if not isinstance(perturbed, (list, tuple)) or len(perturbed) != len(series):
                raise ValidationError(
                    "`perturbed` must be a list as long as `series` when `series` is a list "
                    f"of references; got {type(perturbed).__name__} for {len(series)} references"
                )
            refs = [_as_series_obj(r, f"series[{q}]") for q, r in enumerate(series)]
            groups = [p if isinstance(p, (list, tuple)) else [p] for p in perturbed]
        else:
            refs = [_as_series_obj(series, "series")]
            groups = [list(perturbed) if isinstance(perturbed, (list, tuple)) else [perturbed]]
        if not refs or any(len(g) == 0 for g in groups):
            raise ValidationError("`series` and `perturbed` must hold at least one trajectory each")
        n = _length(refs[0])
        rows = []
        for q, (x, g) in enumerate(zip(refs, groups, strict=True)):
            for c, p in enumerate(g):
                cp = _as_series_obj(p, f"perturbed[{q}][{c}]")
                if _length(x) != n or _length(cp) != n:
                    raise ValidationError(
                        f"every reference and perturbed series must have {n} snapshots; got "
                        f"{_length(x)} and {_length(cp)} (pair {q}, copy {c})"
                    )
                rows.append(_paired(x, cp, metric))
        dists = np.stack(rows)
        _check_distances(dists, "distances")
        metric_name = metric if isinstance(metric, str) else getattr(metric, "__name__", "callable")
        levels = [_reference_level(x, metric) for x in refs]
        saturation = float(np.nanmean(levels)) if np.isfinite(levels).any() else np.nan
    n_min, how = _rule_network_mle(2, 1, 1, "two")
    require_length(n, n_min, "series", how)
    trajectory_len = n if trajectory_len is None else check_int(trajectory_len, "trajectory_len", minimum=2, maximum=n)
    fr = check_fit_range(fit_range, trajectory_len)
    dists = dists[:, :trajectory_len]
    pos = dists > 0
    n_valid = pos.sum(axis=0).astype(np.int64)
    logs = np.where(pos, np.log(np.where(pos, dists, 1.0)), 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        curve = logs.sum(axis=0) / n_valid
    curve[(n_valid == 0) | (n_valid < 0.5 * dists.shape[0])] = np.nan
    xs = np.arange(trajectory_len, dtype=np.float64) * (1.0 if dt is None else dt)
    if not np.isfinite(saturation):
        saturation = float(np.nanmax(curve)) if np.isfinite(curve).any() else np.nan
    fit = fit_given(xs, curve, *fr) if fr is not None else fit_auto(xs, curve, saturation)
    warn_if_undefined(fit, "network_mle", stacklevel=4)
    params = {"mode": "two", "metric": metric_name, "n_copies": int(dists.shape[0]),
              "trajectory_len": trajectory_len, "dt": dt, "fit_range": fr}
    return _make(fit, curve, n_valid, xs, int(dists.shape[0]), saturation, "nmle_two", params)


def _reference_level(x: Any, metric: Any) -> float:
    """Decorrelated level of two-trajectory curves: ``<ln D>`` between far-apart snapshots."""
    n = _length(x)
    if n < 2:
        return np.nan
    if isinstance(metric, str) and metric in _VECTOR_METRICS:
        dist = rowwise_distance(np.ascontiguousarray(_vectors(x)), _VECTOR_METRICS[metric])
        return decorrelated_level(dist, n, n_partners=_N_PARTNERS, log_of_mean=False)

    def dist(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        if callable(metric):
            get = _snapshots(x)
            return np.array([_as_distance(metric(get(int(s)), get(int(t))))
                             for s, t in zip(a, b, strict=True)])
        from graphtraj.measures import paired_distances

        return paired_distances(x[a], x[b], metric=metric)

    return decorrelated_level(dist, n, n_partners=_N_PARTNERS, log_of_mean=False, max_refs=200)


def _make(fit, curve, n_valid, xs, n_ref, saturation, method, params) -> LyapunovResult:
    return LyapunovResult(
        exponent=fit.slope, intercept=fit.intercept, r2=fit.r2, fit_start=fit.start,
        fit_stop=fit.stop, scaling_region=fit.accepted, status=fit.status, reason=fit.reason,
        steps=np.arange(curve.size), times=xs, curve=curve, n_valid=n_valid,
        n_references=n_ref, saturation=float(saturation), method=method, params=params,
    )
