"""Where recurrence distances come from: points with a metric, or a precomputed matrix.

A *distance source* hands out tiles of the (possibly never materialised) distance
matrix ``D[i, j] = d(x_i, y_j)``. Every recurrence computation in graphtraj -- dense
matrices, thresholds, streaming RQA -- reads distances only through
:meth:`DistanceSource.tile`, so all paths threshold identical numbers.

Input coercion lives here too: scalar series, (T, P) state arrays, a
:class:`~graphtraj.trajectory.Trajectory` (its states), a
:class:`~graphtraj.GraphSeries` (distances from :func:`graphtraj.measures.distance_matrix`
with any graph-measures registry metric), or a precomputed distance matrix.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from graphtraj._checks import as_float_array, as_states, check_finite, check_magnitude
from graphtraj.exceptions import UnknownOptionError, ValidationError

__all__ = [
    "METRICS",
    "METRIC_ALIASES",
    "DistanceSource",
    "iter_tiles",
    "make_source",
    "native_metric",
    "resolve_metric",
]

#: Default tile shape (rows, columns): a few MB of float64, cache-friendly.
TILE = (2048, 128)

#: Metrics computed natively (and streamed) for series and state arrays.
METRICS = ("euclidean", "manhattan", "chebyshev")
#: Other names of the native metrics, accepted wherever a native metric is (recurrence,
#: RQA, Lyapunov exponents, correlation sums); names are case-insensitive.
METRIC_ALIASES = {
    "l2": "euclidean",
    "l1": "manhattan",
    "cityblock": "manhattan",
    "supremum": "chebyshev",
    "linf": "chebyshev",
    "max": "chebyshev",
}
_CODES = {"euclidean": 0, "manhattan": 1, "chebyshev": 2}


def resolve_metric(metric: str | None) -> str | None:
    """The native metric name for ``metric`` (aliases allowed), or None if not native."""
    if metric is None:
        return "euclidean"
    if not isinstance(metric, str):
        raise UnknownOptionError(
            f"`metric` must be a string; got {metric!r}. Native metrics: "
            f"{', '.join(METRICS)} (aliases {', '.join(sorted(METRIC_ALIASES))})"
        )
    name = metric.lower()
    name = METRIC_ALIASES.get(name, name)
    return name if name in _CODES else None


def native_metric(metric: Any, name: str = "metric") -> str:
    """The native metric name for ``metric``; :class:`UnknownOptionError` otherwise.

    For estimators that only work with the native metrics (KD-tree neighbour searches,
    compiled pair counts): accepts :data:`METRICS` and :data:`METRIC_ALIASES`, in any
    case, and returns the canonical name.
    """
    native = resolve_metric(metric) if isinstance(metric, str) else None
    if native is None:
        raise UnknownOptionError(
            f"`{name}` must be one of {', '.join(repr(m) for m in METRICS)} (aliases "
            f"{', '.join(repr(a) for a in sorted(METRIC_ALIASES))}); got {metric!r}"
        )
    return native


class DistanceSource:
    """Tiles of a distance matrix between row points and column points (private).

    Attributes
    ----------
    n_rows, n_cols : int
        Shape of the distance matrix.
    symmetric : bool
        True when ``D`` equals its transpose exactly (same point set, or a symmetric
        precomputed matrix): scans may then visit only the upper triangle.
    metric : str
        Name of the metric (for the record).
    value_std : float or None
        Population standard deviation of all entries of the input array(s); None for
        precomputed distances.
    """

    n_rows: int
    n_cols: int
    symmetric: bool
    metric: str
    value_std: float | None

    def tile(self, r0: int, nr: int, c0: int, nc: int, out: np.ndarray) -> np.ndarray:
        """Fill and return ``out[:nc, :nr]`` with ``D[r0:r0+nr, c0:c0+nc].T``."""
        raise NotImplementedError

    def row_block(self, r0: int, nr: int, out: np.ndarray) -> np.ndarray:
        """Fill and return ``out[:nr, :n_cols]`` with ``D[r0:r0+nr, :]``."""
        raise NotImplementedError

    def upper_bound(self) -> float:
        """A number >= every distance (used to place histogram bins)."""
        raise NotImplementedError

    def pair_distances(self, i: np.ndarray, j: np.ndarray) -> np.ndarray:
        """Distances of the pairs ``(i[k], j[k])`` (for estimates only)."""
        raise NotImplementedError

    def window(
        self, theiler: int, lo: float, hi: float, capacity: int, tile: tuple[int, int]
    ) -> tuple[int, np.ndarray, np.ndarray, int]:
        """One pass over the admissible cells (the upper triangle when symmetric, with
        weights 1 on the diagonal and 2 elsewhere): the weighted count of distances
        ``< lo`` and the distances in ``[lo, hi]`` with their weights (at most
        ``capacity`` stored; the returned count may exceed it)."""
        from graphtraj.timeseries._recurrence_kernels import tile_window

        upper = self.symmetric
        wo = 2 if upper else 1
        buf = np.empty((tile[1], tile[0]))
        values = np.empty(capacity)
        weights = np.empty(capacity, np.uint8)
        below = np.zeros(1, np.int64)
        count = np.zeros(1, np.int64)
        for r0, nr, c0, nc in iter_tiles(self.n_rows, self.n_cols, upper, tile):
            t = self.tile(r0, nr, c0, nc, buf)
            tile_window(t, r0, nr, c0, nc, upper, theiler, 1, wo, lo, hi, below, values,
                        weights, count)
        return int(below[0]), values, weights, int(count[0])

    def transposed(self) -> DistanceSource:
        """The source of ``D.T``."""
        raise NotImplementedError


class PointSource(DistanceSource):
    """Distances computed on the fly from point arrays with a native metric."""

    def __init__(self, x: np.ndarray, y: np.ndarray | None, metric: str) -> None:
        self.x = np.ascontiguousarray(x, dtype=np.float64)
        self.y = self.x if y is None else np.ascontiguousarray(y, dtype=np.float64)
        self.xt = np.ascontiguousarray(self.x.T)
        self.yt = self.xt if y is None else np.ascontiguousarray(self.y.T)
        self.metric = metric
        self.code = _CODES[metric]
        self.n_rows = self.x.shape[0]
        self.n_cols = self.y.shape[0]
        self.symmetric = y is None
        self._sorted = None
        both = self.x if y is None else np.concatenate([self.x.ravel(), self.y.ravel()])
        self.value_std = float(np.std(both))

    def tile(self, r0: int, nr: int, c0: int, nc: int, out: np.ndarray) -> np.ndarray:
        from graphtraj.timeseries._recurrence_kernels import tile_distances

        tile_distances(self.xt, self.y, r0, nr, c0, nc, self.code, out)
        return out[:nc, :nr]

    def row_block(self, r0: int, nr: int, out: np.ndarray) -> np.ndarray:
        from graphtraj.timeseries._recurrence_kernels import tile_distances

        # d(y_j, x_i) is bit-identical to d(x_i, y_j) for these metrics.
        tile_distances(self.yt, self.x, 0, self.n_cols, r0, nr, self.code, out)
        return out[:nr, : self.n_cols]

    def upper_bound(self) -> float:
        both = self.x if self.symmetric else np.concatenate([self.x, self.y])
        span = both.max(axis=0) - both.min(axis=0)
        if self.metric == "euclidean":
            bound = float(np.sqrt(np.sum(span * span)))
        elif self.metric == "manhattan":
            bound = float(np.sum(span))
        else:
            bound = float(np.max(span))
        return bound * (1 + 1e-12)

    def pair_distances(self, i: np.ndarray, j: np.ndarray) -> np.ndarray:
        diff = np.abs(self.x[i] - self.y[j])
        if self.metric == "euclidean":
            return np.sqrt(np.sum(diff * diff, axis=1))
        if self.metric == "manhattan":
            return np.sum(diff, axis=1)
        return np.max(diff, axis=1)

    def transposed(self) -> DistanceSource:
        if self.symmetric:
            return self
        return PointSource(self.y, self.x, self.metric)

    def sorted_rows(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
        """Row points sorted by their most spread coordinate: ``(xst, order, key, col)``
        with ``xst`` the sorted points transposed to (P, N).

        Any pair farther apart than ε in one coordinate is farther than ε in all three
        metrics, so a column only needs the rows whose key lies within ε of its own.
        """
        if self._sorted is None:
            col = int(np.argmax(self.x.std(axis=0))) if self.x.shape[1] else 0
            order = np.argsort(self.x[:, col], kind="stable").astype(np.int64)
            xst = np.ascontiguousarray(self.x[order].T)
            self._sorted = (xst, order, np.ascontiguousarray(xst[col]), col)
        return self._sorted

    def window(
        self, theiler: int, lo: float, hi: float, capacity: int, tile: tuple[int, int]
    ) -> tuple[int, np.ndarray, np.ndarray, int]:
        from graphtraj.timeseries._recurrence_kernels import (
            compare_values,
            lower_compare_values,
            points_window,
        )

        xst, order, key, col = self.sorted_rows()
        y = np.ascontiguousarray(xst.T) if self.symmetric else self.y
        values = np.empty(capacity)
        weights = np.empty(capacity, np.uint8)
        below = np.zeros(1, np.int64)
        count = np.zeros(1, np.int64)
        acc = np.empty(self.n_rows)
        hi_cmp = float(compare_values(np.array([hi]), self.code)[0])
        lo_cmp = lower_compare_values(lo, self.code)
        points_window(xst, order, key, y, col, self.code, self.symmetric, theiler, lo, hi,
                      lo_cmp, hi_cmp, below, values, weights, count, acc)
        return int(below[0]), values, weights, int(count[0])


class MatrixSource(DistanceSource):
    """Tiles read from a precomputed (N, M) distance matrix."""

    def __init__(self, d: np.ndarray, metric: str, symmetric: bool | None = None) -> None:
        self.d = d
        self.metric = metric
        self.n_rows, self.n_cols = d.shape
        if symmetric is None:
            symmetric = d.shape[0] == d.shape[1] and bool(np.array_equal(d, d.T))
        self.symmetric = symmetric
        self.value_std = None

    def tile(self, r0: int, nr: int, c0: int, nc: int, out: np.ndarray) -> np.ndarray:
        out[:nc, :nr] = self.d[r0 : r0 + nr, c0 : c0 + nc].T
        return out[:nc, :nr]

    def row_block(self, r0: int, nr: int, out: np.ndarray) -> np.ndarray:
        out[:nr, : self.n_cols] = self.d[r0 : r0 + nr]
        return out[:nr, : self.n_cols]

    def upper_bound(self) -> float:
        return float(np.max(self.d)) if self.d.size else 0.0

    def pair_distances(self, i: np.ndarray, j: np.ndarray) -> np.ndarray:
        return self.d[i, j]

    def transposed(self) -> DistanceSource:
        if self.symmetric:
            return self
        return MatrixSource(np.ascontiguousarray(self.d.T), self.metric, False)


def iter_tiles(
    n_rows: int, n_cols: int, upper: bool, tile: tuple[int, int] = TILE
) -> list[tuple[int, int, int, int]]:
    """Tiles ``(r0, nr, c0, nc)`` in scan order: column strips left to right, row blocks
    top to bottom. With ``upper`` only tiles touching ``i <= j`` are listed."""
    tr, tc = tile
    out = []
    for c0 in range(0, n_cols, tc):
        nc = min(tc, n_cols - c0)
        r_end = min(n_rows, c0 + nc) if upper else n_rows
        for r0 in range(0, r_end, tr):
            out.append((r0, min(tr, r_end - r0), c0, nc))
    return out


def _is_graph_series(x: Any) -> bool:
    try:
        from graphtraj.snapshots import GraphSeries
    except ImportError:  # pragma: no cover - snapshots is part of the package
        return False
    return isinstance(x, GraphSeries)


def _graph_distances(x: Any, y: Any, metric: str | None) -> tuple[np.ndarray, str]:
    try:
        from graphtraj import measures
    except ImportError as exc:  # pragma: no cover - measures is part of the package
        raise ValidationError(
            "graph-space recurrence needs graphtraj.measures, which failed to import "
            f"({exc})"
        ) from None
    kwargs = {} if metric is None else {"metric": metric}
    if y is None:
        d = measures.distance_matrix(x, **kwargs)
    else:
        d = measures.cross_distance_matrix(x, y, **kwargs)
    name = metric if metric is not None else "graph-measures default"
    return np.asarray(d, dtype=np.float64), name


def _as_points(x: Any, name: str) -> np.ndarray:
    from graphtraj.trajectory import Trajectory

    if isinstance(x, Trajectory):
        x = np.asarray(x.states[:], dtype=np.float64)
    return check_magnitude(as_states(x, name, min_len=1), name)


def check_distance_matrix(d: Any, name: str, square: bool) -> np.ndarray:
    """A finite, non-negative float64 distance matrix (square when ``square``)."""
    d = as_float_array(d, name, 2)
    if square and d.shape[0] != d.shape[1]:
        raise ValidationError(
            f"`{name}` must be a square distance matrix when precomputed=True; got shape "
            f"{d.shape}. For two different series use cross_recurrence_matrix."
        )
    if np.any(d < 0):
        raise ValidationError(
            f"`{name}` must hold non-negative distances; got minimum {float(d.min())}"
        )
    return d


def make_source(
    x: Any, y: Any = None, *, metric: str | None = None, precomputed: bool = False
) -> DistanceSource:
    """Validate the input(s) once and return the matching :class:`DistanceSource`.

    ``y`` is None for the recurrence matrix of one input and the second input for a
    cross-recurrence matrix.
    """
    if precomputed:
        if y is not None:
            raise ValidationError(
                "`y` must be None when precomputed=True; pass the (N, M) cross-distance "
                "matrix as `x`"
            )
        d = check_distance_matrix(x, "x", square=False)
        return MatrixSource(d, "precomputed")
    if _is_graph_series(x) or (y is not None and _is_graph_series(y)):
        if y is not None and not (_is_graph_series(x) and _is_graph_series(y)):
            raise ValidationError(
                "`x` and `y` must both be GraphSeries for graph-space cross recurrence; "
                f"got {type(x).__name__} and {type(y).__name__}"
            )
        d, name = _graph_distances(x, y, metric)
        check_finite(d, "graph distances")
        return MatrixSource(d, name, True if y is None else None)
    native = resolve_metric(metric)
    xs = _as_points(x, "x")
    ys = None if y is None else _as_points(y, "y")
    if ys is not None and ys.shape[1] != xs.shape[1]:
        raise ValidationError(
            f"`y` must have the same number of components as `x` ({xs.shape[1]}); got "
            f"{ys.shape[1]}. Embed both with the same emb_dim."
        )
    if native is not None:
        return PointSource(xs, ys, native)
    # A non-native metric on arrays: ask the graph-measures registry (dense).
    try:
        from graphtraj import measures

        registry = measures.METRICS
    except (ImportError, AttributeError):
        registry = {}
    if metric not in registry:
        raise UnknownOptionError(
            f"`metric` must be one of {', '.join(repr(m) for m in METRICS)} (aliases "
            f"{', '.join(repr(a) for a in sorted(METRIC_ALIASES))}) for arrays, or a name in "
            f"graphtraj.measures.METRICS; got {metric!r}"
        )
    if registry[metric].scale_invariant and xs.shape[1] == 1:
        raise ValidationError(
            f"metric {metric!r} ignores the scale of each point, so on one-component "
            "points (a scalar series) it only sees their signs and every pair of values of "
            "one sign recurs. Embed the series first (delay_embed(x, emb_dim, lag)) or use "
            f"a native metric ({', '.join(repr(m) for m in METRICS)})."
        )
    d, name = _graph_distances(xs, ys, metric)
    return MatrixSource(d, name, True if ys is None else None)
