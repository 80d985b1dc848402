"""Distances between snapshots, over a whole series, and between two series.

Every function takes a ``metric`` name from :data:`graphtraj.measures.METRICS`.
Distance matrices are filled in blocks over the upper triangle: for T snapshots the
only T×T array ever allocated is the result.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from graphtraj._checks import as_float_array, check_int, check_option
from graphtraj.exceptions import UnsupportedModelError, ValidationError
from graphtraj.measures import _pairwise
from graphtraj.measures import alignment as _al
from graphtraj.measures.metrics import METRICS, MetricInfo
from graphtraj.snapshots import GraphSeries
from graphtraj.trajectory import Trajectory

__all__ = [
    "distance",
    "distance_matrix",
    "cross_distance_matrix",
    "successive_distances",
    "reference_distances",
    "paired_distances",
]

_DEFAULT_BLOCK = 1024
_ALIGNED_BLOCK = 16


# ---------------------------------------------------------------- input handling
def _metric(metric: Any) -> MetricInfo:
    return METRICS[check_option(metric, "metric", METRICS)]


def _as_input(x: Any, name: str, info: MetricInfo) -> GraphSeries | np.ndarray:
    """A GraphSeries, or a finite (T, P) state array for weight-space metrics."""
    import scipy.sparse as sp

    if isinstance(x, GraphSeries):
        out: GraphSeries | np.ndarray = x
    elif isinstance(x, Trajectory):
        if info.vector:
            out = as_float_array(x.states[:], f"{name}.states", 2)
        else:
            out = GraphSeries.from_trajectory(x)
    elif sp.issparse(x):
        out = GraphSeries.from_adjacency([0], [x])
    elif isinstance(x, (list, tuple)) and x and (sp.issparse(x[0]) or np.ndim(x[0]) == 2):
        out = GraphSeries.from_adjacency(np.arange(len(x)), list(x))
    else:
        arr = np.asarray(x) if not isinstance(x, np.ndarray) else x
        if arr.ndim == 3:
            out = GraphSeries.from_adjacency(np.arange(arr.shape[0]), arr)
        elif arr.ndim == 2:
            out = as_float_array(arr, name, 2)
        else:
            raise ValidationError(
                f"`{name}` must be a GraphSeries, a Trajectory, a (T, P) state array or a "
                f"(T, N, N) adjacency stack; got {type(x).__name__} of shape {arr.shape}"
            )
    return _check_metric_input(out, name, info)


def _as_snapshot(x: Any, name: str, info: MetricInfo) -> GraphSeries | np.ndarray:
    """One snapshot: a one-snapshot series, an (N, N) matrix or a 1-D vector."""
    import scipy.sparse as sp

    if isinstance(x, GraphSeries):
        if len(x) != 1:
            raise ValidationError(
                f"`{name}` must be a single snapshot (a one-snapshot GraphSeries such as "
                f"series[t]); got a series of {len(x)} snapshots"
            )
        out: GraphSeries | np.ndarray = x
    elif sp.issparse(x):
        out = GraphSeries.from_adjacency([0], [x])
    else:
        arr = as_float_array(x, name, (1, 2), finite=False)
        if arr.ndim == 2:
            out = GraphSeries.from_adjacency([0], arr[None])
        else:
            out = as_float_array(arr[None], name, 2)
    return _check_metric_input(out, name, info)


def _check_metric_input(x: GraphSeries | np.ndarray, name: str, info: MetricInfo):
    if isinstance(x, np.ndarray):
        if not info.vector:
            raise ValidationError(
                f"`{name}` must be a GraphSeries (or adjacency matrices) for metric "
                f"{info.name!r}: it is a graph metric; got a plain state array. Wrap "
                "MLP states with GraphSeries.from_trajectory."
            )
        return x
    if info.layered_only and not x.is_layered:
        raise ValidationError(
            f"`{name}` must be a layered GraphSeries for metric {info.name!r} (hidden "
            "units exist only in layered networks); got a general graph series"
        )
    if info.kind == "aligned" and len(x.layer_sizes) != 3:
        raise UnsupportedModelError(
            f"metric 'aligned_l1' is exact only for one hidden layer; `{name}` has layer "
            f"sizes {list(x.layer_sizes)}. Use metric='aligned_l1_layerwise' (the "
            "layer-by-layer approximation) or 'aligned_l1_chained'."
        )
    return x


def _compatible(a: Any, b: Any, na: str, nb: str) -> tuple[Any, Any, bool]:
    """Check two inputs share a node set / parameter count.

    Returns ``(a, b, directed)`` with general graph series put on the union of their
    fixed edge sets (directed if either is; with the diagonal if either has a
    self-loop), so that edge-weight vectors line up.
    """
    if isinstance(a, np.ndarray) != isinstance(b, np.ndarray):
        raise ValidationError(
            f"`{na}` and `{nb}` must both be graph series or both be state arrays; got "
            f"{type(a).__name__} and {type(b).__name__}"
        )
    if isinstance(a, np.ndarray):
        if a.shape[1] != b.shape[1]:
            raise ValidationError(
                f"`{na}` and `{nb}` must have the same number of parameters; got "
                f"{a.shape[1]} and {b.shape[1]}"
            )
        return a, b, True
    if not a.same_nodes(b):
        raise ValidationError(
            f"`{na}` and `{nb}` must share one node set (same node labels, layer sizes and "
            f"biases); got {a!r} with nodes {_short(a.nodes)} and {b!r} with nodes "
            f"{_short(b.nodes)}"
        )
    directed = a.directed or b.directed
    loops = a.has_self_loops or b.has_self_loops
    return a._on_edge_set(directed, loops), b._on_edge_set(directed, loops), directed


def _short(nodes: tuple[str, ...]) -> str:
    return str(list(nodes)) if len(nodes) <= 6 else f"[{', '.join(nodes[:3])}, ..., {nodes[-1]}]"


def _features(info: MetricInfo, x: Any, directed: bool) -> list:
    return info.features(x, directed)


def _directed(x: Any) -> bool:
    return True if isinstance(x, np.ndarray) else x.directed


def _fast(info: MetricInfo, s: Any) -> MetricInfo:
    """Layer-by-layer alignment with one hidden layer is the exact one: use its kernel."""
    if info.kind == "aligned_layerwise" and len(s.layer_sizes) == 3:
        return METRICS["aligned_l1"]
    return info


def _block(block: Any, default: int) -> int:
    return default if block is None else check_int(block, "block", minimum=1)


# ------------------------------------------------------------------ public API
def distance(a: Any, b: Any, metric: str = "l1") -> float:
    """Distance between two snapshots under a registered metric.

    Parameters
    ----------
    a, b : GraphSeries, array or scipy.sparse matrix
        One snapshot each: a one-snapshot :class:`~graphtraj.GraphSeries` (e.g.
        ``series[t]``), an (N, N) adjacency matrix (dense or sparse), or a 1-D
        parameter vector (weight-space metrics only).
    metric : str
        A key of :data:`~graphtraj.measures.METRICS` (default ``"l1"``, the paper's).

    Returns
    -------
    float
        The distance (NaN only where the metric's docstring says so, with a warning).

    Raises
    ------
    UnknownOptionError
        If ``metric`` is not registered (the message lists the names).
    ValidationError
        If the snapshots have different node sets or parameter counts, or the metric
        does not accept this kind of input.
    NonFiniteInputError
        On NaN or infinite weights.

    Notes
    -----
    Each metric's docstring (``METRICS[name].function``) gives its formula, reference
    and properties. Two general graphs with different fixed edge sets — one undirected
    and one directed, or self-loops in only one — are compared on the union of the
    edge sets: an undirected edge counts as the two directed edges it stands for, and
    the diagonal enters when either graph has a self-loop (the same convention as
    stacking both matrices into one series). This holds for
    :func:`cross_distance_matrix` and :func:`paired_distances` too.

    Examples
    --------
    >>> import numpy as np
    >>> distance(np.array([1.0, 2.0]), np.array([0.0, 0.0]))
    3.0
    >>> ring = np.roll(np.eye(4), 1, axis=1) + np.roll(np.eye(4), -1, axis=1)
    >>> distance(ring, ring, metric="laplacian")
    0.0
    """
    info = _metric(metric)
    sa = _as_snapshot(a, "a", info)
    sb = _as_snapshot(b, "b", info)
    sa, sb, directed = _compatible(sa, sb, "a", "b")
    if info.kind == "features":
        return float(_pairwise.rows(_features(info, sa, directed), _features(info, sb, directed))[0])
    if info.kind == "aligned":
        ua, fa = _al.unit_features(sa)
        ub, fb = _al.unit_features(sb)
        return float(min(_al.exact_block(ua, fa, ub, fb)[0, 0], _al.exact_block(ub, fb, ua, fa)[0, 0]))
    if info.kind == "aligned_layerwise":
        return min(_al.layerwise_distance(sa, 0, sb, 0), _al.layerwise_distance(sb, 0, sa, 0))
    return _al.layerwise_distance(sa, 0, sb, 0)


def distance_matrix(
    x: Any, metric: str = "l1", *, block: int | None = None, progress: bool | None = None
) -> np.ndarray:
    """Symmetric T×T matrix of distances between all snapshots of a series.

    Parameters
    ----------
    x : GraphSeries, Trajectory, array (T, P) or array (T, N, N)
        The series. A plain (T, P) array (or a Trajectory) is a series of parameter
        vectors, accepted by the weight-space metrics (``l1``, ``l2``, ``cosine``);
        a Trajectory is turned into a layered series for graph metrics; a (T, N, N)
        array is a general graph series.
    metric : str
        A key of :data:`~graphtraj.measures.METRICS` (default ``"l1"``).
    block : int, optional
        Rows per block (default 1024; 16 for ``aligned_l1``). Memory beyond the
        result is O(block² + T·F) for F features per snapshot.
    progress : bool, optional
        Show a progress bar over blocks (default: when interactive).

    Returns
    -------
    ndarray, shape (T, T)
        ``D[i, j] = d(x_i, x_j)``; symmetric, zero diagonal, float64.

    Raises
    ------
    UnknownOptionError
        If ``metric`` is not registered.
    ValidationError
        If the metric does not accept this input (a graph metric on plain vectors, an
        alignment metric on a general graph).
    UnsupportedModelError
        For ``aligned_l1`` on networks with more than one hidden layer.

    Notes
    -----
    Per-snapshot features (spectra, strengths, affinities) are computed once, batched
    with numpy's stacked linear algebra; pairwise distances are then computed in
    blocks of the upper triangle and mirrored. L1/L2 use exact differences
    (:func:`scipy.spatial.distance.cdist`), not Gram-matrix identities. Cost
    O(T² F / 2) for feature metrics, O(T² h³ / 2) for ``aligned_l1``, and O(T h³ + T² P)
    for ``aligned_l1_chained``. ``aligned_l1_layerwise`` loops over pairs in Python
    (meant for modest T).

    Examples
    --------
    >>> import numpy as np
    >>> d = distance_matrix(np.array([[0.0, 0.0], [1.0, 1.0], [1.0, 3.0]]))
    >>> d.tolist()
    [[0.0, 2.0, 4.0], [2.0, 0.0, 2.0], [4.0, 2.0, 0.0]]
    """
    info = _metric(metric)
    s = _as_input(x, "x", info)
    info = _fast(info, s)
    n = len(s)
    if info.kind == "features":
        groups = _features(info, s, _directed(s))
        return _pairwise.matrix(groups, n, _block(block, _DEFAULT_BLOCK), progress)
    if info.kind == "aligned":
        return _al.exact_matrix(s, _block(block, _ALIGNED_BLOCK), progress)
    if info.kind == "aligned_chained":
        aligned = _al.chain_align(s, progress=progress)
        return distance_matrix(aligned, "l1", block=block, progress=progress)
    out = np.zeros((n, n))
    for i in range(n):
        for j in range(i + 1, n):
            out[i, j] = out[j, i] = min(
                _al.layerwise_distance(s, i, s, j), _al.layerwise_distance(s, j, s, i)
            )
    return out


def cross_distance_matrix(
    x: Any, y: Any, metric: str = "l1", *, block: int | None = None
) -> np.ndarray:
    """T₁×T₂ matrix of distances between the snapshots of two series.

    Parameters
    ----------
    x, y : GraphSeries, Trajectory or array
        Two series on the same node set (or with the same parameter count); see
        :func:`distance_matrix` for the accepted forms.
    metric : str
        A key of :data:`~graphtraj.measures.METRICS` other than
        ``"aligned_l1_chained"`` (a chain runs along one series).
    block : int, optional
        Rows per block (default 1024; 16 for ``aligned_l1``).

    Returns
    -------
    ndarray, shape (T₁, T₂)
        ``D[i, j] = d(x_i, y_j)``.

    Raises
    ------
    UnknownOptionError
        If ``metric`` is not registered.
    ValidationError
        If the series have different node sets, or ``metric`` is the chained alignment.

    Notes
    -----
    O(T₁ T₂ F). The memory beyond the result is one block.

    Examples
    --------
    >>> import numpy as np
    >>> cross_distance_matrix(np.zeros((2, 3)), np.ones((1, 3))).tolist()
    [[3.0], [3.0]]
    """
    info = _metric(metric)
    if info.kind == "aligned_chained":
        raise ValidationError(
            "`metric` must not be 'aligned_l1_chained' for two series: the chain runs "
            "along one series. Use 'aligned_l1' or chain_align each series first."
        )
    sx = _as_input(x, "x", info)
    sy = _as_input(y, "y", info)
    sx, sy, directed = _compatible(sx, sy, "x", "y")
    info = _fast(info, sx)
    if info.kind == "features":
        return _pairwise.cross(
            _features(info, sx, directed), _features(info, sy, directed), len(sx), len(sy),
            _block(block, _DEFAULT_BLOCK),
        )
    if info.kind == "aligned":
        ua, fa = _al.unit_features(sx)
        ub, fb = _al.unit_features(sy)
        return _al.exact_block(ua, fa, ub, fb)
    return np.array([
        [min(_al.layerwise_distance(sx, i, sy, j), _al.layerwise_distance(sy, j, sx, i))
         for j in range(len(sy))]
        for i in range(len(sx))
    ])


def _pairs(s: Any, t: Any, ia: np.ndarray, ib: np.ndarray, info: MetricInfo, directed: bool):
    """d(s[ia[k]], t[ib[k]]) for each k."""
    info = _fast(info, s)
    if info.kind == "features":
        ga = _pairwise.take(_features(info, s, directed), ia)
        gb = _pairwise.take(_features(info, t, directed), ib) if t is not s else _pairwise.take(
            _features(info, s, directed), ib
        )
        return _pairwise.rows(ga, gb)
    if info.kind == "aligned":
        ua, fa = _al.unit_features(s)
        ub, fb = _al.unit_features(t)
        return np.array([
            min(_al.exact_block(ua[i:i + 1], fa[i:i + 1], ub[j:j + 1], fb[j:j + 1])[0, 0],
                _al.exact_block(ub[j:j + 1], fb[j:j + 1], ua[i:i + 1], fa[i:i + 1])[0, 0])
            for i, j in zip(ia, ib, strict=True)
        ])
    return np.array([
        min(_al.layerwise_distance(s, i, t, j), _al.layerwise_distance(t, j, s, i))
        for i, j in zip(ia, ib, strict=True)
    ])


def successive_distances(x: Any, metric: str = "l1", *, lag: int = 1) -> np.ndarray:
    """Distances between snapshots ``lag`` apart: ``d(x_t, x_{t+lag})``.

    With ``lag=1`` this is the speed of the trajectory in the chosen metric.

    Parameters
    ----------
    x : GraphSeries, Trajectory or array
        The series (see :func:`distance_matrix`).
    metric : str
        A key of :data:`~graphtraj.measures.METRICS`.
    lag : int
        Separation in snapshots (>= 1).

    Returns
    -------
    ndarray, shape (T - lag,)
        The distances.

    Raises
    ------
    InsufficientDataError
        If the series has at most ``lag`` snapshots.
    UnknownOptionError, ValidationError
        As for :func:`distance_matrix`.

    Notes
    -----
    O(T F) for feature metrics; no T×T matrix is formed. For
    ``aligned_l1_chained`` the series is chain-aligned first.

    Examples
    --------
    >>> import numpy as np
    >>> successive_distances(np.array([[0.0], [1.0], [3.0]])).tolist()
    [1.0, 2.0]
    """
    from graphtraj._checks import require_length

    info = _metric(metric)
    lag = check_int(lag, "lag", minimum=1)
    s = _as_input(x, "x", info)
    require_length(len(s), lag + 1, "x", f"lag + 1 = {lag + 1}")
    if info.kind == "aligned_chained":
        s, info = _al.chain_align(s), METRICS["l1"]
    idx = np.arange(len(s) - lag)
    return _pairs(s, s, idx, idx + lag, info, _directed(s))


def reference_distances(
    x: Any, metric: str = "l1", *, reference: str | int = "initial"
) -> np.ndarray:
    """Distance of every snapshot to the initial, the final or a chosen snapshot.

    Parameters
    ----------
    x : GraphSeries, Trajectory or array
        The series (see :func:`distance_matrix`).
    metric : str
        A key of :data:`~graphtraj.measures.METRICS`.
    reference : {"initial", "final"} or int
        The reference snapshot (an int is a position in the series).

    Returns
    -------
    ndarray, shape (T,)
        ``d(x_t, x_ref)``; zero at the reference.

    Raises
    ------
    UnknownOptionError, ValidationError
        On an unknown metric or reference, or an out-of-range position.

    Notes
    -----
    O(T F). For ``aligned_l1_chained`` the series is chain-aligned first.

    Examples
    --------
    >>> import numpy as np
    >>> reference_distances(np.array([[0.0], [1.0], [3.0]]), reference="final").tolist()
    [3.0, 2.0, 0.0]
    """
    info = _metric(metric)
    s = _as_input(x, "x", info)
    n = len(s)
    if isinstance(reference, str):
        ref = {"initial": 0, "final": n - 1}[check_option(reference, "reference", ("initial", "final"))]
    else:
        ref = check_int(reference, "reference", minimum=-n, maximum=n - 1) % n
    if info.kind == "aligned_chained":
        s, info = _al.chain_align(s), METRICS["l1"]
    idx = np.arange(n)
    out = _pairs(s, s, idx, np.full(n, ref), info, _directed(s))
    out[ref] = 0.0
    return out


def paired_distances(x: Any, y: Any, metric: str = "l1") -> np.ndarray:
    """Distances between two series at equal positions: ``d(x_t, y_t)``.

    The perturbation-divergence curve of two training runs (reference and perturbed
    copy) in any metric.

    Parameters
    ----------
    x, y : GraphSeries, Trajectory or array
        Two series of equal length on the same node set (or parameter count).
    metric : str
        A key of :data:`~graphtraj.measures.METRICS` other than
        ``"aligned_l1_chained"``.

    Returns
    -------
    ndarray, shape (T,)
        The distances.

    Raises
    ------
    ValidationError
        If the lengths or node sets differ, or on the chained metric.
    UnknownOptionError
        On an unknown metric.

    Notes
    -----
    O(T F).

    Examples
    --------
    >>> import numpy as np
    >>> paired_distances(np.zeros((2, 2)), np.array([[1.0, 1.0], [0.0, -3.0]])).tolist()
    [2.0, 3.0]
    """
    info = _metric(metric)
    if info.kind == "aligned_chained":
        raise ValidationError(
            "`metric` must not be 'aligned_l1_chained' for two series: the chain runs "
            "along one series. Use 'aligned_l1'."
        )
    sx = _as_input(x, "x", info)
    sy = _as_input(y, "y", info)
    sx, sy, directed = _compatible(sx, sy, "x", "y")
    if len(sx) != len(sy):
        raise ValidationError(
            f"`x` and `y` must have the same number of snapshots; got {len(sx)} and {len(sy)}"
        )
    idx = np.arange(len(sx))
    return _pairs(sx, sy, idx, idx, info, directed)
