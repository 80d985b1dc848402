"""Visibility graphs of a scalar time series: natural and horizontal, (un)directed.

A visibility graph has one node per sample; two samples are linked when the straight
segment between their bars is not blocked by the bars in between (Lacasa et al. 2008),
or, for the horizontal graph, when every sample in between lies strictly below both
(Luque et al. 2009). :func:`visibility_graph` builds either with a compiled kernel and
returns a :class:`VisibilityGraph` holding the edge list, degrees and conversions.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from graphtraj._checks import as_series, check_option, check_real
from graphtraj._result import Result
from graphtraj.exceptions import UnreliableResultWarning, ValidationError

if TYPE_CHECKING:  # pragma: no cover
    import networkx
    import scipy.sparse

    from graphtraj.timeseries.visibility_measures import DegreeTailFit

__all__ = [
    "VISIBILITY_KINDS",
    "VISIBILITY_WEIGHTS",
    "DEFAULT_RTOL",
    "VisibilityGraph",
    "visibility_graph",
]

#: Graph kinds accepted by :func:`visibility_graph` (``kind=``).
VISIBILITY_KINDS = ("natural", "horizontal")

#: Edge weights accepted by ``weighted=``; each is computed from the earlier endpoint
#: ``(t_a, y_a)`` to the later one ``(t_b, y_b)`` with ``dt = t_b - t_a > 0`` and
#: ``dy = y_b - y_a``. Names follow ts2vg's so results can be compared directly.
VISIBILITY_WEIGHTS = {
    "distance": "sqrt(dt**2 + dy**2)",
    "sq_distance": "dt**2 + dy**2",
    "v_distance": "dy",
    "abs_v_distance": "|dy|",
    "h_distance": "dt",
    "slope": "dy / dt",
    "abs_slope": "|dy / dt|",
    "angle": "arctan(dy / dt)",
    "abs_angle": "arctan(|dy / dt|)",
}

#: Default relative tolerance of the natural criterion (see :func:`visibility_graph`).
DEFAULT_RTOL = 1e-9

_DIRECTIONS = ("total", "in", "out")


def _edge_weights(t: np.ndarray, y: np.ndarray, src: np.ndarray, dst: np.ndarray, how: str) -> np.ndarray:
    """The weights named ``how``; overflow beyond float64 gives inf (the caller warns)."""
    with np.errstate(over="ignore", invalid="ignore"):
        return _edge_weights_raw(t, y, src, dst, how)


def _edge_weights_raw(t: np.ndarray, y: np.ndarray, src: np.ndarray, dst: np.ndarray, how: str) -> np.ndarray:
    dt = t[dst] - t[src]
    dy = y[dst] - y[src]
    if how == "distance":
        return np.hypot(dt, dy)
    if how == "sq_distance":
        return dt * dt + dy * dy
    if how == "v_distance":
        return dy
    if how == "abs_v_distance":
        return np.abs(dy)
    if how == "h_distance":
        return dt
    slope = dy / dt
    if how == "slope":
        return slope
    if how == "abs_slope":
        return np.abs(slope)
    if how == "angle":
        return np.arctan(slope)
    return np.arctan(np.abs(slope))  # abs_angle


def check_times(times: Any, n: int) -> np.ndarray | None:
    """Validate sample times: finite, shape (n,), strictly increasing (None passes)."""
    if times is None:
        return None
    t = as_series(times, "times")
    if t.shape[0] != n:
        raise ValidationError(
            f"`times` must have one entry per sample ({n}); got {t.shape[0]}. "
            "Pass the time (e.g. training step) of each sample, or None for 0, 1, 2, ..."
        )
    if n > 1 and np.any(np.diff(t) <= 0):
        first = int(np.flatnonzero(np.diff(t) <= 0)[0])
        raise ValidationError(
            f"`times` must be strictly increasing; got times[{first}] = {t[first]} >= "
            f"times[{first + 1}] = {t[first + 1]}. Sort the samples or drop duplicates."
        )
    return t


def graph_edges(y: np.ndarray, t: np.ndarray, kind: str, rtol: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sorted forward edges ``(src, dst)`` and CSR offsets from the compiled kernels.

    Trusts validated input (finite float64 ``y`` and increasing ``t`` of equal length).
    """
    from graphtraj.timeseries import _visibility_kernels as kernels

    if kind == "horizontal":
        return kernels.hvg_edges(y)
    return kernels.nvg_edges(t, y, rtol)


@dataclass(frozen=True, eq=False)
class VisibilityGraph(Result):
    """A visibility graph: one node per sample, edges between mutually visible samples.

    Built by :func:`visibility_graph`; not meant to be constructed by hand.

    Attributes
    ----------
    series : ndarray, shape (n,)
        The values (float64).
    times : ndarray, shape (n,)
        The sample times (``0, 1, ..., n-1`` when none were given).
    kind : {"natural", "horizontal"}
        Visibility criterion.
    directed : bool
        If True every edge points forward in time (earlier -> later).
    weighted : str or None
        Edge weight name from :data:`VISIBILITY_WEIGHTS`, or None (unweighted).
    rtol : float
        Relative tolerance of the natural criterion (unused by the horizontal one).
    edges : ndarray of int64, shape (E, 2)
        Pairs ``(i, j)`` with ``i < j``, sorted lexicographically.
    weights : ndarray of float64, shape (E,), or None
        Edge weights aligned with ``edges`` (None when unweighted).

    Examples
    --------
    >>> g = visibility_graph([3, 1, 2, 0, 4], kind="horizontal", directed=True)
    >>> g.n_edges, g.out_degrees.tolist(), g.in_degrees.tolist()
    (7, [3, 1, 2, 1, 0], [0, 1, 2, 1, 3])
    >>> g.adjacency().toarray()[0].tolist()
    [0.0, 1.0, 1.0, 0.0, 1.0]
    """

    series: np.ndarray
    times: np.ndarray
    kind: str
    directed: bool
    weighted: str | None
    rtol: float
    edges: np.ndarray
    weights: np.ndarray | None = field(default=None)

    @property
    def n_nodes(self) -> int:
        """Number of nodes (= samples)."""
        return int(self.series.shape[0])

    @property
    def n_edges(self) -> int:
        """Number of edges E."""
        return int(self.edges.shape[0])

    @property
    def in_degrees(self) -> np.ndarray:
        """Number of neighbours in the past of each node, shape (n,), int64.

        For a directed graph this is the in-degree (edges point forward in time); for an
        undirected one it is the backward degree.
        """
        return np.bincount(self.edges[:, 1], minlength=self.n_nodes).astype(np.int64)

    @property
    def out_degrees(self) -> np.ndarray:
        """Number of neighbours in the future of each node, shape (n,), int64."""
        return np.bincount(self.edges[:, 0], minlength=self.n_nodes).astype(np.int64)

    @property
    def degrees(self) -> np.ndarray:
        """Total degree (past plus future neighbours) of each node, shape (n,), int64."""
        return self.in_degrees + self.out_degrees

    @property
    def mean_degree(self) -> float:
        """Mean total degree ``2E / n`` (NaN-free: n >= 1 always)."""
        return 2.0 * self.n_edges / self.n_nodes

    def degree_distribution(self, direction: str = "total") -> tuple[np.ndarray, np.ndarray]:
        """Empirical degree distribution P(k).

        Parameters
        ----------
        direction : {"total", "in", "out"}, default "total"
            Which degree: total, past neighbours ("in") or future neighbours ("out").

        Returns
        -------
        k : ndarray of int64, shape (kmax + 1,)
            ``0, 1, ..., max degree``.
        pk : ndarray of float64, shape (kmax + 1,)
            Fraction of nodes with degree ``k`` (sums to 1).

        Examples
        --------
        >>> g = visibility_graph([3, 4, 2, 1], kind="horizontal")
        >>> k, pk = g.degree_distribution()
        >>> k.tolist(), pk.tolist()
        ([0, 1, 2], [0.0, 0.5, 0.5])
        """
        deg = self._degrees(direction)
        counts = np.bincount(deg)
        return np.arange(counts.size, dtype=np.int64), counts / deg.size

    def _degrees(self, direction: str) -> np.ndarray:
        direction = check_option(direction, "direction", _DIRECTIONS)
        if direction == "in":
            return self.in_degrees
        if direction == "out":
            return self.out_degrees
        return self.degrees

    def adjacency(self) -> scipy.sparse.csr_array:
        """Adjacency matrix as a scipy.sparse CSR array, shape (n, n).

        Entries are the edge weights (1.0 when unweighted; a weight that happens to be
        0, e.g. ``v_distance`` between equal values, is stored explicitly). Undirected
        graphs give a symmetric matrix; directed ones the upper triangle
        ``A[i, j]`` for the edge ``i -> j`` (i < j).

        Examples
        --------
        >>> visibility_graph([1, 3, 2], directed=True).adjacency().toarray().tolist()
        [[0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [0.0, 0.0, 0.0]]
        """
        import scipy.sparse

        n = self.n_nodes
        src, dst = self.edges[:, 0], self.edges[:, 1]
        data = np.ones(self.n_edges) if self.weights is None else self.weights
        if not self.directed:
            src, dst = np.concatenate([src, dst]), np.concatenate([dst, src])
            data = np.concatenate([data, data])
        return scipy.sparse.csr_array((data, (src, dst)), shape=(n, n))

    def to_networkx(self) -> networkx.Graph:
        """The graph as a networkx ``Graph`` (``DiGraph`` when directed).

        Nodes are ``0 .. n-1`` with attributes ``time`` and ``value``; edges carry
        ``weight`` when the graph is weighted.

        Examples
        --------
        >>> g = visibility_graph([1, 3, 2], weighted="v_distance").to_networkx()
        >>> sorted(g.edges(data="weight")), g.nodes[1]["value"]
        ([(0, 1, 2.0), (1, 2, -1.0)], 3.0)
        """
        import networkx as nx

        g = nx.DiGraph() if self.directed else nx.Graph()
        g.add_nodes_from(
            (i, {"time": float(t), "value": float(v)})
            for i, (t, v) in enumerate(zip(self.times, self.series, strict=True))
        )
        pairs = self.edges.tolist()
        if self.weights is None:
            g.add_edges_from(pairs)
        else:
            g.add_weighted_edges_from((i, j, float(w)) for (i, j), w in zip(pairs, self.weights, strict=True))
        return g

    def clustering(self) -> np.ndarray:
        """Local clustering coefficient of every node (undirected, unweighted), shape (n,).

        ``C_i = 2 T_i / (k_i (k_i - 1))`` with ``T_i`` the triangles through ``i``;
        0 for nodes of degree below 2 (networkx's convention). Cost O(sum_i k_i^2).

        Examples
        --------
        >>> visibility_graph([2, 1, 2, 0]).clustering().tolist()   # triangle 0-1-2
        [1.0, 1.0, 0.3333333333333333, 0.0]
        """
        import scipy.sparse

        n = self.n_nodes
        src, dst = self.edges[:, 0], self.edges[:, 1]
        ones = np.ones(2 * self.n_edges)
        a = scipy.sparse.csr_array(
            (ones, (np.concatenate([src, dst]), np.concatenate([dst, src]))), shape=(n, n)
        )
        triangles = np.asarray((a @ a).multiply(a).sum(axis=1)).ravel() / 2.0
        k = self.degrees.astype(np.float64)
        out = np.zeros(n)
        ok = k >= 2
        out[ok] = 2.0 * triangles[ok] / (k[ok] * (k[ok] - 1.0))
        return out

    def clustering_by_degree(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Mean local clustering C(k) of the nodes of each degree k.

        Returns
        -------
        k : ndarray of int64
            Degrees present in the graph, increasing.
        c_k : ndarray of float64
            Mean clustering of the nodes with degree ``k``.
        n_k : ndarray of int64
            Number of nodes with degree ``k``.

        Notes
        -----
        For the horizontal graph of an i.i.d. series C(k) = 2/k (Luque et al. 2009).

        Examples
        --------
        >>> g = visibility_graph([3, 1, 2, 0, 4], kind="horizontal")
        >>> k, c_k, n_k = g.clustering_by_degree()
        >>> dict(zip(k.tolist(), c_k.round(3).tolist()))
        {2: 1.0, 3: 0.667, 4: 0.5}
        """
        k = self.degrees
        c = self.clustering()
        ks, inverse, n_k = np.unique(k, return_inverse=True, return_counts=True)
        c_k = np.bincount(inverse, weights=c) / n_k
        return ks.astype(np.int64), c_k, n_k.astype(np.int64)

    def tail_fit(self, k_min: int = 4, k_max: int | None = None, direction: str = "total") -> DegreeTailFit:
        """Exponential fit of the degree tail; see :func:`degree_tail_fit`.

        Examples
        --------
        >>> g = visibility_graph(np.random.default_rng(0).random(20000), "horizontal")
        >>> round(g.tail_fit(k_min=4).lam, 1)   # i.i.d. noise: ln(3/2) = 0.41
        0.4
        """
        from graphtraj.timeseries.visibility_measures import degree_tail_fit

        return degree_tail_fit(self, k_min=k_min, k_max=k_max, direction=direction)


def visibility_graph(
    series: Any,
    kind: str = "natural",
    *,
    directed: bool = False,
    weighted: str | None = None,
    times: Any = None,
    rtol: float = DEFAULT_RTOL,
) -> VisibilityGraph:
    """Natural or horizontal visibility graph of a scalar time series.

    Each sample ``(t_i, y_i)`` is a node. The graph turns the shape of the series into
    network structure: i.i.d. noise, chaos and periodic orbits give distinct degree
    distributions (see :func:`graphtraj.timeseries.visibility_measures.degree_tail_fit`)
    and the directed horizontal graph measures time irreversibility
    (:func:`graphtraj.timeseries.time_irreversibility.irreversibility`).

    Parameters
    ----------
    series : array_like, shape (n,)
        The values; integer input is cast to float64. n >= 1.
    kind : {"natural", "horizontal"}, default "natural"
        Visibility criterion (Notes).
    directed : bool, default False
        If True, every edge points forward in time, ``i -> j`` for ``i < j``.
    weighted : str or None, default None
        Edge weight from :data:`VISIBILITY_WEIGHTS` ("distance", "sq_distance",
        "v_distance", "abs_v_distance", "h_distance", "slope", "abs_slope", "angle",
        "abs_angle"), measured from the earlier to the later endpoint with the sample
        times; None for an unweighted graph.
    times : array_like, shape (n,), optional
        Strictly increasing sample times (e.g. training steps of unevenly recorded
        states). They enter the natural criterion and the weights; the horizontal
        criterion does not depend on them. Default ``0, 1, ..., n - 1``.
    rtol : float, default 1e-9
        Relative tolerance of the natural criterion, ``0 <= rtol <= 1e-3``.

    Returns
    -------
    VisibilityGraph
        Edges (sorted ``(i, j)``, ``i < j``), weights, degrees, degree distribution,
        clustering, sparse adjacency and ``to_networkx()``.

    Raises
    ------
    InsufficientDataError
        If the series is empty.
    NonFiniteInputError
        If ``series`` or ``times`` has NaN or inf.
    UnknownOptionError
        If ``kind`` or ``weighted`` is not one of the listed options.
    ValidationError
        If ``series`` is not 1-D, ``times`` has the wrong length or is not strictly
        increasing, ``directed`` is not a bool, or ``rtol`` is out of range.

    Warns
    -----
    UnreliableResultWarning
        If some edge weight exceeds the float64 range (values or times ~1e308 apart):
        it is returned as inf. The graph itself is exact at any magnitude.

    Notes
    -----
    **Horizontal** (Luque et al. 2009): ``a < b`` are linked iff every ``c`` with
    ``a < c < b`` has ``y_c < min(y_a, y_b)``; a point blocks as soon as it is ``>=``
    the lower endpoint. Only exact comparisons are used, so the graph is the same for
    ``f(y)`` with any strictly increasing ``f``. Neighbours always see each other.

    **Natural** (Lacasa et al. 2008): ``a < b`` are linked iff every ``c`` between lies
    strictly below the segment joining ``(t_a, y_a)`` and ``(t_b, y_b)``. A point on the
    segment blocks. Collinearity is decided with a relative tolerance: let ``h`` be the
    higher endpoint (the earlier one when ``y_a = y_b``), ``l`` the other, and
    ``g_c = (y_h - y_c) / |t_c - t_h|`` the descent from the apex to ``c``. Then ``c``
    blocks iff

    .. math:: g_c \\le (1 + \\mathrm{rtol})\\, g_l .

    Both sides scale alike under ``y -> alpha y + beta`` (alpha > 0) and
    ``t -> gamma t + delta`` (gamma > 0), so a rescaled or shifted series gives the same
    graph up to rounding of ``y_h - y_c`` (relative error ~1e-16 times
    ``|y| / |y_h - y_c|``), which ``rtol`` absorbs. The ramps 0, 0.1, ..., 0.9 and
    0, 1, ..., 9 both give the path graph (9 edges). Points within a relative ``rtol``
    of a segment count as on it. Magnitudes at the ends of the float64 range (values
    near 1e308, whose differences overflow; subnormal values or time steps) are handled
    by an exact power-of-two rescaling inside the kernel, so ``c * y`` gives the graph
    of ``y`` for any power of two ``c``; neighbours are always linked.

    Algorithms: the horizontal graph by one left-to-right pass with a stack of the
    samples still visible, O(n) time and memory; the natural graph by divide and
    conquer on the maximum of each interval (Lan et al. 2015), O(n log n) for typical
    series and O(n^2) at worst (monotone or convex series; a convex series has n^2 / 2
    edges anyway). Edges are sorted by a two-pass counting sort, O(n + E).

    Degenerate cases: one sample gives one node and no edges; a constant series gives
    the path graph ``0-1-2-...`` in both kinds (equal values block).

    References
    ----------
    .. [1] L. Lacasa, B. Luque, F. Ballesteros, J. Luque, J. C. Nuño, "From time series
       to complex networks: the visibility graph", PNAS 105, 4972 (2008),
       doi:10.1073/pnas.0709247105
    .. [2] B. Luque, L. Lacasa, F. Ballesteros, J. Luque, "Horizontal visibility graphs:
       exact results for random time series", Phys. Rev. E 80, 046103 (2009),
       doi:10.1103/PhysRevE.80.046103
    .. [3] X. Lan, H. Mo, S. Chen, Q. Liu, Y. Deng, "Fast transformation from time
       series to visibility graphs", Chaos 25, 083105 (2015), doi:10.1063/1.4927835

    Examples
    --------
    >>> g = visibility_graph([3, 4, 2, 1], kind="horizontal")
    >>> g.edges.tolist()
    [[0, 1], [1, 2], [2, 3]]
    >>> visibility_graph([5, 2, 4, 1, 5, 6, 4, 7, 2, 5]).n_edges
    17
    >>> visibility_graph([0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]).n_edges
    9
    >>> d = visibility_graph([2, 1, 3], directed=True)
    >>> d.out_degrees.tolist(), d.in_degrees.tolist()
    ([2, 1, 0], [0, 1, 2])
    """
    y = as_series(series, "series")
    kind = check_option(kind, "kind", VISIBILITY_KINDS)
    if not isinstance(directed, (bool, np.bool_)):
        raise ValidationError(f"`directed` must be True or False; got {directed!r}")
    if weighted is not None:
        weighted = check_option(weighted, "weighted", tuple(VISIBILITY_WEIGHTS))
    rtol = check_real(rtol, "rtol", minimum=0.0, maximum=1e-3)
    n = y.shape[0]
    t_given = check_times(times, n)
    t = np.arange(n, dtype=np.float64) if t_given is None else t_given
    src, dst, _ = graph_edges(np.ascontiguousarray(y), np.ascontiguousarray(t), kind, rtol)
    edges = np.column_stack([src, dst]) if src.size else np.empty((0, 2), np.int64)
    weights = None if weighted is None else _edge_weights(t, y, src, dst, weighted)
    if weights is not None and not np.all(np.isfinite(weights)):
        n_bad = int(np.sum(~np.isfinite(weights)))
        warnings.warn(
            f"{n_bad} of {weights.size} edge weights ({weighted!r}) exceed the float64 "
            "range and are not finite (inf, or NaN for inf/inf); the values or times "
            "differ by more than ~1.8e308. Rescale the series (the graph does not change).",
            UnreliableResultWarning,
            stacklevel=2,
        )
    return VisibilityGraph(
        series=y,
        times=t,
        kind=kind,
        directed=bool(directed),
        weighted=weighted,
        rtol=rtol,
        edges=edges,
        weights=weights,
    )
