"""`GraphSeries`: a time series of weighted, signed graphs on one fixed node list."""

from __future__ import annotations

import numbers
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from graphtraj._checks import check_finite, check_int
from graphtraj.exceptions import (
    GraphTrajWarning,
    InsufficientDataError,
    UnsupportedModelError,
    ValidationError,
)
from graphtraj.trajectory import ParamLayout, Trajectory

__all__ = ["GraphSeries", "mlp_sizes"]


def mlp_sizes(
    layout: ParamLayout, metadata: Mapping[str, Any] | None = None
) -> tuple[tuple[int, ...], tuple[str, ...], tuple[str | None, ...]]:
    """Layer widths of a layered (MLP) parameter layout, and its weight/bias names.

    The weights are the 2-D parameters of kind ``"weight"`` in layout order; each has
    shape ``(out, in)`` and the widths must chain (``in`` of one layer equals ``out``
    of the previous). A weight ``X.weight`` owns the bias ``X.bias`` when present.

    Parameters
    ----------
    layout : ParamLayout
        The parameter layout, e.g. ``ParamLayout.for_mlp([4, 10, 3])``.
    metadata : mapping, optional
        Trajectory metadata; when ``metadata["model"]["sizes"]`` is given it must agree
        with the layout.

    Returns
    -------
    sizes : tuple of int
        Layer widths, input first (e.g. ``(4, 10, 3)``).
    weights : tuple of str
        Names of the weight matrices, one per layer transition.
    biases : tuple of str or None
        Name of each transition's bias, or None where it has none.

    Raises
    ------
    UnsupportedModelError
        If the layout is not a chain of dense layers (other parameters, or widths
        that do not chain).
    ValidationError
        If the metadata's sizes disagree with the layout.

    Examples
    --------
    >>> mlp_sizes(ParamLayout.for_mlp([4, 10, 3]))[0]
    (4, 10, 3)
    """
    names = layout.names
    shapes = dict(zip(layout.names, layout.shapes, strict=True))
    weights = [
        n for n, s, k in zip(layout.names, layout.shapes, layout.kinds, strict=True)
        if k == "weight" and len(s) == 2
    ]
    if not weights:
        raise UnsupportedModelError(
            "`traj.layout` must describe a layered network (2-D weight matrices); got "
            f"parameters {list(names)}. Use GraphSeries.from_adjacency for other graphs."
        )
    biases: list[str | None] = []
    for w in weights:
        b = w[: -len("weight")] + "bias" if w.endswith("weight") else None
        biases.append(b if b in shapes and shapes[b] == (shapes[w][0],) else None)
    used = set(weights) | {b for b in biases if b is not None}
    extra = [n for n in names if n not in used]
    if extra:
        raise UnsupportedModelError(
            "`traj.layout` must hold only dense-layer weights and their biases to become "
            f"a layered graph; got other parameters {extra}. Use "
            "GraphSeries.from_adjacency with adjacency matrices you build yourself."
        )
    sizes = [shapes[weights[0]][1]]
    for w in weights:
        n_out, n_in = shapes[w]
        if n_in != sizes[-1]:
            raise UnsupportedModelError(
                f"layer widths must chain: `{w}` has {n_in} inputs but the previous layer "
                f"has {sizes[-1]} outputs (shapes {[shapes[v] for v in weights]})"
            )
        sizes.append(n_out)
    model = (metadata or {}).get("model") or {}
    declared = model.get("sizes") if isinstance(model, Mapping) else None
    if declared is not None and [int(s) for s in declared] != sizes:
        raise ValidationError(
            f"`metadata['model']['sizes']` must match the layout's layer widths {sizes}; "
            f"got {list(declared)}"
        )
    return tuple(sizes), tuple(weights), tuple(biases)


def _as_times(times: Any, n: int) -> np.ndarray:
    arr = np.asarray(times)
    if arr.dtype.kind not in "iuf" or arr.ndim != 1:
        raise ValidationError(
            f"`times` must be a 1-D array of real numbers; got shape {arr.shape}, "
            f"dtype {arr.dtype}"
        )
    if arr.shape[0] != n:
        raise ValidationError(
            f"`times` must have one entry per snapshot ({n}); got {arr.shape[0]}"
        )
    if arr.dtype.kind == "f":
        check_finite(arr, "times")
    else:
        arr = arr.astype(np.int64)
    bad = np.flatnonzero(np.diff(arr) <= 0)
    if bad.size:
        i = int(bad[0])
        raise ValidationError(
            f"`times` must be strictly increasing; got times[{i}] = {arr[i]} >= "
            f"times[{i + 1}] = {arr[i + 1]}. Sort the snapshots and drop duplicates."
        )
    return arr


class GraphSeries:
    """A time series of weighted, signed graphs that share one fixed node list.

    Snapshot ``t`` is a graph on :attr:`nodes` whose adjacency ``W`` has
    ``W[i, j]`` = weight of the edge ``i → j`` (signed). Two kinds exist:

    * **layered** (:meth:`from_trajectory`, :meth:`from_layers`): the graph of a
      multilayer perceptron. Nodes are neurons labelled ``"L<layer>:<unit>"``, the
      edges are all input→output pairs of each dense layer with the weight as edge
      weight (a weight of exactly 0 is still an edge of the fixed edge set), and each
      neuron's bias is a node attribute (input neurons have none; they report 0.0).
    * **general** (:meth:`from_adjacency`): any sequence of adjacency matrices, e.g. a
      temporal network; the fixed edge set is every ordered pair ``i != j`` (every
      unordered pair when undirected), plus self-loops when any snapshot has one.

    Build instances with the class methods, not the constructor.

    Attributes
    ----------
    times : ndarray, shape (T,)
        Time (training step) of each snapshot, strictly increasing.
    nodes : tuple of str
        Node labels, in the order of the adjacency rows and columns.
    directed : bool
        False only for general series whose every snapshot is symmetric (or that were
        declared undirected).
    layer_sizes : tuple of int or None
        Layer widths of a layered series, input first.

    Examples
    --------
    >>> import numpy as np
    >>> from graphtraj.trajectory import ParamLayout, Trajectory
    >>> lay = ParamLayout.for_mlp([2, 3, 1])
    >>> traj = Trajectory(np.arange(4), np.ones((4, lay.size)), lay)
    >>> gs = GraphSeries.from_trajectory(traj)
    >>> len(gs), gs.n_nodes, gs.nodes[:3]
    (4, 6, ('L0:0', 'L0:1', 'L1:0'))
    >>> int(gs.adjacency(0).nnz)   # 2*3 + 3*1 edges
    9
    """

    __slots__ = (
        "_biases", "_layers", "_matrices", "_self_loops", "directed", "layer_sizes",
        "nodes", "times",
    )

    def __init__(
        self,
        times: np.ndarray,
        nodes: tuple[str, ...],
        *,
        layers: list[np.ndarray] | None = None,
        biases: list[np.ndarray] | None = None,
        matrices: Any = None,
        directed: bool = True,
        self_loops: bool = False,
    ) -> None:
        self.times = times
        self.nodes = nodes
        self._layers = layers
        self._biases = biases
        self._matrices = matrices
        self.directed = bool(directed)
        self._self_loops = bool(self_loops)
        self.layer_sizes = (
            None if layers is None
            else tuple([layers[0].shape[2]] + [w.shape[1] for w in layers])
        )

    # ------------------------------------------------------------ constructors
    @classmethod
    def from_trajectory(
        cls, traj: Trajectory, *, max_snapshots: int | None = None
    ) -> GraphSeries:
        """Layered graphs of an MLP training trajectory, one per recorded state.

        Parameters
        ----------
        traj : Trajectory
            A run of a layered network: the layout must hold only dense-layer weights
            ``(out, in)`` and their biases (as :meth:`ParamLayout.for_mlp` makes).
            Layer widths come from ``traj.metadata["model"]["sizes"]`` when present
            (checked against the layout) and from the layout shapes otherwise.
        max_snapshots : int, optional
            Keep at most this many records, every k-th from the first (constant
            stride, via :meth:`Trajectory.subsample`); None keeps all.

        Returns
        -------
        GraphSeries
            A layered series with ``times == traj.times`` (subsampled).

        Raises
        ------
        UnsupportedModelError
            If the layout is not a chain of dense layers.
        InsufficientDataError
            If the trajectory has no records.
        NonFiniteInputError
            If a recorded state has NaN or infinite parameters.

        Notes
        -----
        Cost O(T P) time and memory.

        Examples
        --------
        >>> import numpy as np
        >>> from graphtraj.trajectory import ParamLayout, Trajectory
        >>> lay = ParamLayout.for_mlp([4, 10, 3])
        >>> traj = Trajectory(np.arange(50), np.zeros((50, 83)), lay)
        >>> gs = GraphSeries.from_trajectory(traj, max_snapshots=5)
        >>> len(gs), gs.layer_sizes, gs.times.tolist()
        (5, (4, 10, 3), [0, 10, 20, 30, 40])
        """
        if not isinstance(traj, Trajectory):
            raise ValidationError(
                f"`traj` must be a graphtraj Trajectory; got {type(traj).__name__}"
            )
        if len(traj) == 0:
            raise InsufficientDataError("`traj` must have at least 1 record; got 0")
        sizes, wnames, bnames = mlp_sizes(traj.layout, traj.metadata)
        if max_snapshots is not None:
            traj = traj.subsample(check_int(max_snapshots, "max_snapshots", minimum=1))
        states = np.asarray(traj.states[:], dtype=np.float64)
        check_finite(states, "traj.states")
        parts = traj.layout.unflatten(states)
        layers = [np.ascontiguousarray(parts[w]) for w in wnames]
        biases = None
        if any(b is not None for b in bnames):
            biases = [
                np.ascontiguousarray(parts[b]) if b is not None
                else np.zeros((len(traj), w.shape[1]))
                for b, w in zip(bnames, layers, strict=True)
            ]
        return cls._layered(np.asarray(traj.times), layers, biases)

    @classmethod
    def from_layers(
        cls,
        times: Any,
        weights: Sequence[Any],
        biases: Sequence[Any] | None = None,
    ) -> GraphSeries:
        """Layered graphs from stacks of layer weight matrices.

        Parameters
        ----------
        times : array of int or float, shape (T,)
            Strictly increasing snapshot times.
        weights : sequence of arrays, shapes (T, out_l, in_l)
            Weight matrices of each dense layer (PyTorch's ``(out, in)`` order); the
            widths must chain (``in_{l+1} == out_l``).
        biases : sequence of arrays, shapes (T, out_l), optional
            Biases of each layer (node attributes of the layer's output neurons).

        Returns
        -------
        GraphSeries
            A layered series.

        Raises
        ------
        ValidationError
            On shapes that do not chain or do not match ``times``.
        NonFiniteInputError
            On NaN or infinite weights.

        Examples
        --------
        >>> import numpy as np
        >>> gs = GraphSeries.from_layers([0], [np.ones((1, 3, 2)), np.ones((1, 1, 3))])
        >>> gs.layer_sizes, gs.n_nodes
        ((2, 3, 1), 6)
        """
        if isinstance(weights, np.ndarray) or not isinstance(weights, Sequence) or not weights:
            raise ValidationError(
                "`weights` must be a non-empty list of (T, out, in) arrays; got "
                f"{type(weights).__name__}"
            )
        layers = []
        for k, w in enumerate(weights):
            arr = np.asarray(w)
            if arr.dtype.kind not in "biuf" or arr.ndim != 3:
                raise ValidationError(
                    f"`weights[{k}]` must be a real (T, out, in) array; got shape "
                    f"{arr.shape}, dtype {arr.dtype}"
                )
            arr = np.array(arr, dtype=np.float64, order="C")
            check_finite(arr, f"weights[{k}]")
            layers.append(arr)
        n = layers[0].shape[0]
        if n == 0:
            raise InsufficientDataError("`weights` must hold at least 1 snapshot; got 0")
        for k, w in enumerate(layers):
            if w.shape[0] != n:
                raise ValidationError(
                    f"`weights[{k}]` must have {n} snapshots like `weights[0]`; got {w.shape[0]}"
                )
            if min(w.shape[1:]) < 1:
                raise ValidationError(f"`weights[{k}]` must have no empty layer; got {w.shape}")
            if k and w.shape[2] != layers[k - 1].shape[1]:
                raise ValidationError(
                    f"layer widths must chain: `weights[{k}]` has {w.shape[2]} inputs but "
                    f"`weights[{k - 1}]` has {layers[k - 1].shape[1]} outputs"
                )
        bl = None
        if biases is not None:
            if len(biases) != len(layers):
                raise ValidationError(
                    f"`biases` must have one entry per layer ({len(layers)}); got {len(biases)}"
                )
            bl = []
            for k, (b, w) in enumerate(zip(biases, layers, strict=True)):
                arr = np.asarray(b, dtype=np.float64) if b is not None else np.zeros(w.shape[:2])
                if arr.shape != w.shape[:2]:
                    raise ValidationError(
                        f"`biases[{k}]` must have shape {w.shape[:2]}; got {arr.shape}"
                    )
                check_finite(arr, f"biases[{k}]")
                bl.append(np.array(arr, order="C"))
        return cls._layered(_as_times(times, n), layers, bl)

    @classmethod
    def _layered(
        cls, times: np.ndarray, layers: list[np.ndarray], biases: list[np.ndarray] | None
    ) -> GraphSeries:
        sizes = [layers[0].shape[2]] + [w.shape[1] for w in layers]
        nodes = tuple(f"L{li}:{k}" for li, n in enumerate(sizes) for k in range(n))
        for a in layers + (biases or []):
            a.setflags(write=False)
        return cls(times, nodes, layers=layers, biases=biases, directed=True)

    @classmethod
    def from_adjacency(
        cls,
        times: Any,
        matrices: Any,
        nodes: Sequence[Any] | None = None,
        *,
        directed: bool | None = None,
    ) -> GraphSeries:
        """General graph series from adjacency matrices on one fixed node list.

        Parameters
        ----------
        times : array of int or float, shape (T,)
            Strictly increasing snapshot times.
        matrices : array (T, N, N) or sequence of (N, N) arrays / scipy.sparse matrices
            ``matrices[t][i, j]`` is the (signed) weight of edge ``i → j`` at time
            ``t``; 0 means no edge. Sparse input stays sparse in memory.
        nodes : sequence, optional
            N unique node labels (converted with ``str``); default ``"0" … "N-1"``.
        directed : bool, optional
            None (default) treats the series as undirected exactly when every snapshot
            is symmetric (with a :class:`~graphtraj.exceptions.GraphTrajWarning` when
            some snapshots are symmetric and others not: the whole series is then
            directed); False requires symmetric snapshots; True keeps it directed.

        Returns
        -------
        GraphSeries
            A general (non-layered) series.

        Raises
        ------
        ValidationError
            If the snapshots have different shapes (node sets), are not square, have no
            nodes, or the labels are not unique; if ``directed=False`` and a snapshot
            is not symmetric.
        InsufficientDataError
            If there are no snapshots.
        NonFiniteInputError
            On NaN or infinite weights.

        Examples
        --------
        >>> import numpy as np
        >>> tri = np.array([[0, 1, 1], [1, 0, 1], [1, 1, 0]])
        >>> gs = GraphSeries.from_adjacency([0, 1], [tri, 2 * tri], nodes="abc")
        >>> gs.nodes, gs.directed, gs.n_edges
        (('a', 'b', 'c'), False, 3)
        >>> gs.adjacency(1)[0, 1]
        np.float64(2.0)
        """
        import scipy.sparse as sp

        if isinstance(matrices, np.ndarray):
            arr = np.asarray(matrices)
            if arr.dtype.kind not in "biuf":
                raise ValidationError(
                    f"`matrices` must hold real numbers; got dtype {arr.dtype}"
                )
            if arr.ndim != 3:
                raise ValidationError(
                    f"`matrices` must be a (T, N, N) array or a list of (N, N) matrices; "
                    f"got shape {arr.shape}"
                )
            items: list[Any] = list(arr)
            stacked: Any = np.array(arr, dtype=np.float64, order="C")
        elif isinstance(matrices, Sequence) and not isinstance(matrices, str):
            items = list(matrices)
            stacked = None
        else:
            raise ValidationError(
                "`matrices` must be a (T, N, N) array or a list of (N, N) matrices; got "
                f"{type(matrices).__name__}"
            )
        if not items:
            raise InsufficientDataError("`matrices` must hold at least 1 snapshot; got 0")
        if stacked is None:
            if all(sp.issparse(m) for m in items):
                for k, m in enumerate(items):
                    if m.dtype.kind not in "biuf":
                        raise ValidationError(
                            f"`matrices[{k}]` must hold real numbers; got a sparse matrix "
                            f"of dtype {m.dtype}"
                        )
                mats = [sp.csr_array(m, dtype=np.float64).copy() for m in items]
                shapes = [m.shape for m in mats]
            else:
                mats = []
                for k, m in enumerate(items):
                    try:
                        a = m.toarray() if sp.issparse(m) else np.asarray(m)
                    except (TypeError, ValueError) as exc:  # ragged nested lists
                        raise ValidationError(
                            f"`matrices[{k}]` must be a real 2-D matrix; got "
                            f"{type(m).__name__} that is not a regular array ({exc})"
                        ) from None
                    if a.dtype.kind not in "biuf" or a.ndim != 2:
                        raise ValidationError(
                            f"`matrices[{k}]` must be a real 2-D matrix; got shape "
                            f"{a.shape}, dtype {a.dtype}"
                        )
                    mats.append(a)
                shapes = [m.shape for m in mats]
            if len(set(shapes)) > 1:
                raise ValidationError(
                    "all snapshots must share one node set (the same N x N shape); got "
                    f"shapes {sorted(set(shapes))}. Pad absent nodes with zero rows and "
                    "columns on a common node list."
                )
            if not sp.issparse(mats[0]):
                stacked = np.ascontiguousarray(np.stack(mats), dtype=np.float64)
            else:
                stacked = mats
        shape = stacked.shape[1:] if isinstance(stacked, np.ndarray) else stacked[0].shape
        if shape[0] != shape[1]:
            raise ValidationError(f"each adjacency matrix must be square; got {shape}")
        n = shape[0]
        if n == 0:
            raise ValidationError(
                "each graph must have at least one node; got empty (0 x 0) adjacency "
                "matrices"
            )
        if isinstance(stacked, np.ndarray):
            check_finite(stacked, "matrices")
            per_snapshot = (stacked == stacked.transpose(0, 2, 1)).all(axis=(1, 2))
            loops = bool(np.any(np.diagonal(stacked, axis1=1, axis2=2)))
        else:
            for k, m in enumerate(stacked):
                check_finite(m.data, f"matrices[{k}]")
                m.eliminate_zeros()
            per_snapshot = np.array([(m != m.T).nnz == 0 for m in stacked], dtype=bool)
            loops = any(bool(np.any(m.diagonal())) for m in stacked)
        symmetric = bool(per_snapshot.all())
        times = _as_times(times, len(items))
        if directed is None:
            directed = not symmetric
            if directed and per_snapshot.any():
                n_sym = int(per_snapshot.sum())
                warnings.warn(
                    f"{n_sym} of {per_snapshot.size} snapshots are symmetric but the others "
                    "are not, so the whole series is treated as directed: an undirected "
                    "edge counts in both directions, and distances between the symmetric "
                    "snapshots are those of directed graphs (e.g. l1 twice the undirected "
                    "value). Pass directed=True to keep this, or symmetrize the matrices.",
                    GraphTrajWarning, stacklevel=2,
                )
        elif not isinstance(directed, (bool, np.bool_)):
            raise ValidationError(f"`directed` must be None, True or False; got {directed!r}")
        elif not directed and not symmetric:
            raise ValidationError(
                "`directed` must be True (or None) for non-symmetric adjacency matrices; "
                "got directed=False. Symmetrize the matrices first if the graph is "
                "undirected."
            )
        if nodes is None:
            labels = tuple(str(i) for i in range(n))
        else:
            labels = tuple(str(v) for v in nodes)
            if len(labels) != n or len(set(labels)) != n:
                raise ValidationError(
                    f"`nodes` must list {n} unique labels (one per row); got "
                    f"{len(labels)} labels, {len(set(labels))} unique"
                )
        if isinstance(stacked, np.ndarray):
            stacked.setflags(write=False)
        return cls(times, labels, matrices=stacked, directed=bool(directed), self_loops=loops)

    # ---------------------------------------------------------------- basics
    def __len__(self) -> int:
        return int(self.times.shape[0])

    def __repr__(self) -> str:
        kind = f"layered {list(self.layer_sizes)}" if self.is_layered else (
            "directed" if self.directed else "undirected")
        return f"GraphSeries({len(self)} snapshots, {self.n_nodes} nodes, {kind})"

    @property
    def n_nodes(self) -> int:
        """Number of nodes N."""
        return len(self.nodes)

    @property
    def is_layered(self) -> bool:
        """True for the layered graph of an MLP."""
        return self._layers is not None

    @property
    def layers(self) -> list[np.ndarray] | None:
        """Weight stacks ``(T, out, in)`` per dense layer (layered series), else None."""
        return None if self._layers is None else list(self._layers)

    @property
    def biases(self) -> list[np.ndarray] | None:
        """Bias stacks ``(T, out)`` per layer, or None (general series, or no biases)."""
        return None if self._biases is None else list(self._biases)

    @property
    def layer_offsets(self) -> tuple[int, ...] | None:
        """Index of the first node of each layer (layered series), else None."""
        if self.layer_sizes is None:
            return None
        return tuple(int(v) for v in np.concatenate([[0], np.cumsum(self.layer_sizes)[:-1]]))

    @property
    def node_layer(self) -> np.ndarray | None:
        """Layer index of each node (layered series), else None."""
        if self.layer_sizes is None:
            return None
        return np.repeat(np.arange(len(self.layer_sizes)), self.layer_sizes)

    @property
    def has_self_loops(self) -> bool:
        """Whether the fixed edge set includes self-loops (some snapshot has one)."""
        return self._self_loops

    @property
    def edge_index(self) -> np.ndarray:
        """(E, 2) integer array of the fixed edge set as (source, target) node indices.

        Layered: every input→output pair of each layer, in the layout order of the
        weights (layer by layer, output-major). General: every ordered pair ``i != j``
        (``i < j`` when undirected), plus the diagonal when the series has self-loops.
        """
        if self.is_layered:
            offs = self.layer_offsets
            parts = []
            for li, w in enumerate(self._layers):
                n_out, n_in = w.shape[1:]
                o, i = np.meshgrid(np.arange(n_out), np.arange(n_in), indexing="ij")
                parts.append(np.stack([offs[li] + i.ravel(), offs[li + 1] + o.ravel()], 1))
            return np.concatenate(parts)
        n = self.n_nodes
        if self.directed:
            mask = ~np.eye(n, dtype=bool) | (np.eye(n, dtype=bool) & self._self_loops)
        else:
            mask = np.triu(np.ones((n, n), dtype=bool), 0 if self._self_loops else 1)
        r, c = np.nonzero(mask)
        return np.stack([r, c], 1)

    @property
    def n_edges(self) -> int:
        """Size E of the fixed edge set."""
        if self.is_layered:
            return int(sum(w.shape[1] * w.shape[2] for w in self._layers))
        n = self.n_nodes
        if self.directed:
            return n * (n - 1) + (n if self._self_loops else 0)
        return n * (n - 1) // 2 + (n if self._self_loops else 0)

    # -------------------------------------------------------------- indexing
    def _index(self, index: Any) -> np.ndarray:
        t = len(self)
        if isinstance(index, numbers.Integral) and not isinstance(index, bool):
            i = int(index)
            if not -t <= i < t:
                raise ValidationError(f"snapshot index must be in [{-t}, {t - 1}]; got {i}")
            return np.array([i % t])
        if isinstance(index, slice):
            return np.arange(t)[index]
        idx = np.asarray(index)
        if idx.dtype == bool:
            if idx.shape != (t,):
                raise ValidationError(f"a boolean index must have shape ({t},); got {idx.shape}")
            return np.flatnonzero(idx)
        if idx.dtype.kind not in "iu" or idx.ndim != 1:
            raise ValidationError(
                f"snapshot index must be an int, slice or 1-D integer array; got {index!r}"
            )
        if idx.size and (idx.min() < -t or idx.max() >= t):
            raise ValidationError(f"snapshot indices must be in [{-t}, {t - 1}]")
        return idx % t

    def __getitem__(self, index: Any) -> GraphSeries:
        """The sub-series at ``index`` (an int gives a one-snapshot series)."""
        idx = self._index(index)
        if idx.size == 0:
            raise InsufficientDataError("the selection must keep at least 1 snapshot; got 0")
        if self.is_layered:
            return GraphSeries._layered(
                self.times[idx],
                [np.ascontiguousarray(w[idx]) for w in self._layers],
                None if self._biases is None else [np.ascontiguousarray(b[idx]) for b in self._biases],
            )
        mats = (
            np.ascontiguousarray(self._matrices[idx]) if isinstance(self._matrices, np.ndarray)
            else [self._matrices[i] for i in idx]
        )
        if isinstance(mats, np.ndarray):
            mats.setflags(write=False)
        return GraphSeries(
            self.times[idx], self.nodes, matrices=mats, directed=self.directed,
            self_loops=self._self_loops,
        )

    # ------------------------------------------------------------- matrices
    def dense(self, index: Any = None) -> np.ndarray:
        """Dense adjacency stack ``(T, N, N)`` (or of the snapshots at ``index``).

        ``W[t, i, j]`` is the weight of edge ``i → j``. For a layered series the block
        ``W[t, layer l, layer l+1]`` is the transpose of the layer's ``(out, in)``
        weight matrix. Costs O(T N²) memory.

        Examples
        --------
        >>> gs = GraphSeries.from_layers([0], [np.array([[[1.0, 2.0]]])])   # 2 -> 1
        >>> gs.dense()[0].tolist()
        [[0.0, 0.0, 1.0], [0.0, 0.0, 2.0], [0.0, 0.0, 0.0]]
        """
        idx = np.arange(len(self)) if index is None else self._index(index)
        n = self.n_nodes
        if self.is_layered:
            out = np.zeros((idx.size, n, n))
            offs = self.layer_offsets
            for li, w in enumerate(self._layers):
                n_out, n_in = w.shape[1:]
                out[:, offs[li]:offs[li] + n_in, offs[li + 1]:offs[li + 1] + n_out] = (
                    w[idx].transpose(0, 2, 1)
                )
            return out
        if isinstance(self._matrices, np.ndarray):
            return np.array(self._matrices[idx])
        return np.stack([self._matrices[i].toarray() for i in idx]) if idx.size else np.zeros((0, n, n))

    def adjacency(self, i: int) -> Any:
        """Adjacency of snapshot ``i`` as a ``scipy.sparse.csr_array`` (N, N).

        For a layered series every edge of the fixed edge set is stored, even with
        weight 0 (so ``nnz`` equals :attr:`n_edges`).

        Examples
        --------
        >>> gs = GraphSeries.from_layers([0], [np.array([[[0.0, 2.0]]])])
        >>> a = gs.adjacency(0)
        >>> a.nnz, a[1, 2]
        (2, np.float64(2.0))
        """
        import scipy.sparse as sp

        (j,) = self._index(i)
        if self.is_layered:
            e = self.edge_index
            w = self.edge_weights(j)[0]
            return sp.csr_array((w, (e[:, 0], e[:, 1])), shape=(self.n_nodes,) * 2)
        if isinstance(self._matrices, np.ndarray):
            return sp.csr_array(self._matrices[j])
        return self._matrices[j].copy()

    def edge_weights(self, index: Any = None) -> np.ndarray:
        """Weights on the fixed edge set, ``(T, E)`` in :attr:`edge_index` order.

        Examples
        --------
        >>> gs = GraphSeries.from_adjacency([0], np.array([[[0, 3], [0, 0]]]))
        >>> gs.edge_index.tolist(), gs.edge_weights().tolist()
        ([[0, 1], [1, 0]], [[3.0, 0.0]])
        """
        idx = np.arange(len(self)) if index is None else self._index(index)
        if self.is_layered:
            return np.concatenate([w[idx].reshape(idx.size, -1) for w in self._layers], axis=1)
        e = self.edge_index
        if isinstance(self._matrices, np.ndarray):
            return self._matrices[idx][:, e[:, 0], e[:, 1]]
        return np.stack([np.asarray(self._matrices[i][e[:, 0], e[:, 1]]).ravel() for i in idx])

    def vectors(self, index: Any = None) -> np.ndarray:
        """Flat parameter vector of each snapshot, ``(T, P)``.

        Layered: ``layers.0.weight, layers.0.bias, layers.1.weight, …`` in
        :meth:`ParamLayout.for_mlp` order (the trajectory's states when its layout is
        that one). General: :meth:`edge_weights`.

        Examples
        --------
        >>> gs = GraphSeries.from_layers([0], [np.array([[[1.0, 2.0]]])], [np.array([[0.5]])])
        >>> gs.vectors().tolist()
        [[1.0, 2.0, 0.5]]
        """
        idx = np.arange(len(self)) if index is None else self._index(index)
        if not self.is_layered:
            return self.edge_weights(idx)
        parts = []
        for li, w in enumerate(self._layers):
            parts.append(w[idx].reshape(idx.size, -1))
            if self._biases is not None:
                parts.append(self._biases[li][idx])
        return np.concatenate(parts, axis=1)

    def node_biases(self, index: Any = None) -> np.ndarray:
        """Bias of every node, ``(T, N)``; 0.0 for input neurons and general series.

        Examples
        --------
        >>> gs = GraphSeries.from_layers([0], [np.array([[[1.0, 2.0]]])], [np.array([[0.5]])])
        >>> gs.node_biases().tolist()
        [[0.0, 0.0, 0.5]]
        """
        idx = np.arange(len(self)) if index is None else self._index(index)
        out = np.zeros((idx.size, self.n_nodes))
        if self._biases is not None:
            offs = self.layer_offsets
            for li, b in enumerate(self._biases):
                out[:, offs[li + 1]:offs[li + 1] + b.shape[1]] = b[idx]
        return out

    def to_networkx(self, i: int) -> Any:
        """Snapshot ``i`` as a networkx ``DiGraph`` (``Graph`` when undirected).

        Nodes are added in :attr:`nodes` order with attributes ``layer`` and ``bias``
        (layered series); edges carry the signed ``weight``. Layered graphs include
        every edge of the fixed edge set; general graphs only the nonzero entries.

        Examples
        --------
        >>> import numpy as np
        >>> gs = GraphSeries.from_layers([0], [np.array([[[1.0, -2.0]]])], [np.array([[0.5]])])
        >>> g = gs.to_networkx(0)
        >>> g["L0:1"]["L1:0"]["weight"], g.nodes["L1:0"]["bias"]
        (-2.0, 0.5)
        """
        import networkx as nx

        (j,) = self._index(i)
        g = nx.DiGraph() if self.directed else nx.Graph()
        g.graph["time"] = self.times[j].item()
        if self.is_layered:
            bias = self.node_biases(j)[0]
            layer = self.node_layer
            for k, name in enumerate(self.nodes):
                g.add_node(name, layer=int(layer[k]), bias=float(bias[k]))
            e = self.edge_index
            w = self.edge_weights(j)[0]
        else:
            g.add_nodes_from(self.nodes)
            a = self.adjacency(j).tocoo()
            keep = a.row <= a.col if not self.directed else np.ones(a.nnz, dtype=bool)
            e = np.stack([a.row[keep], a.col[keep]], 1)
            w = a.data[keep]
        g.add_weighted_edges_from(
            (self.nodes[s], self.nodes[d], float(x)) for (s, d), x in zip(e, w, strict=True)
        )
        return g

    # ---------------------------------------------------------- relabelling
    def permute_nodes(self, order: Any) -> GraphSeries:
        """The series with node roles permuted: new node ``k`` is old node ``order[k]``.

        Labels stay positional, so ``dense()[t, i, j]`` of the result equals
        ``dense()[t, order[i], order[j]]`` of this series (``P W Pᵀ``). For a layered
        series the permutation must keep every node within its layer (typically it
        relabels hidden neurons); biases move with their neurons.

        Raises
        ------
        ValidationError
            If ``order`` is not a permutation of ``range(N)`` or moves a neuron to
            another layer.

        Examples
        --------
        >>> import numpy as np
        >>> gs = GraphSeries.from_adjacency([0], np.array([[[0, 1], [0, 0]]]))
        >>> gs.permute_nodes([1, 0]).dense()[0].tolist()
        [[0.0, 0.0], [1.0, 0.0]]
        """
        order = np.asarray(order)
        n = self.n_nodes
        if order.shape != (n,) or order.dtype.kind not in "iu" or not np.array_equal(
            np.sort(order), np.arange(n)
        ):
            raise ValidationError(
                f"`order` must be a permutation of range({n}); got {order.tolist()}"
            )
        if self.is_layered:
            layer = self.node_layer
            if np.any(layer[order] != layer):
                raise ValidationError(
                    "`order` must keep every neuron within its layer for a layered series"
                )
            offs = self.layer_offsets
            sizes = self.layer_sizes
            local = [order[offs[li]:offs[li] + sizes[li]] - offs[li] for li in range(len(sizes))]
            layers = [
                np.ascontiguousarray(w[:, local[li + 1]][:, :, local[li]])
                for li, w in enumerate(self._layers)
            ]
            biases = None if self._biases is None else [
                np.ascontiguousarray(b[:, local[li + 1]]) for li, b in enumerate(self._biases)
            ]
            return GraphSeries._layered(self.times, layers, biases)
        if isinstance(self._matrices, np.ndarray):
            mats: Any = np.ascontiguousarray(self._matrices[:, order][:, :, order])
            mats.setflags(write=False)
        else:
            mats = [m[order][:, order] for m in self._matrices]
        return GraphSeries(
            self.times, self.nodes, matrices=mats, directed=self.directed,
            self_loops=self._self_loops,
        )

    def _on_edge_set(self, directed: bool, self_loops: bool) -> GraphSeries:
        """This general series on a fixed edge set at least as large (same matrices).

        Used to compare two series whose edge sets differ (one undirected, the other
        directed; self-loops in one only): an undirected edge becomes the two directed
        edges it stands for, and the diagonal joins the edge set. Layered series and
        series that already have these flags are returned unchanged.
        """
        directed = bool(directed) or self.directed
        self_loops = bool(self_loops) or self._self_loops
        if self.is_layered or (directed == self.directed and self_loops == self._self_loops):
            return self
        return GraphSeries(
            self.times, self.nodes, matrices=self._matrices, directed=directed,
            self_loops=self_loops,
        )

    def same_nodes(self, other: GraphSeries) -> bool:
        """Whether ``other`` has the same node list and layering as this series.

        Examples
        --------
        >>> a = GraphSeries.from_adjacency([0], np.zeros((1, 3, 3)))
        >>> a.same_nodes(a[0]), a.same_nodes(GraphSeries.from_adjacency([0], np.zeros((1, 4, 4))))
        (True, False)
        """
        return (
            isinstance(other, GraphSeries)
            and self.nodes == other.nodes
            and self.layer_sizes == other.layer_sizes
            and (self._biases is None) == (other._biases is None)
        )
