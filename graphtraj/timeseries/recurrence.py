"""Recurrence matrices: recurrence, cross-recurrence and joint-recurrence plots.

``R[i, j] = 1`` when state ``i`` of one trajectory and state ``j`` of another (or the
same) trajectory are closer than a threshold ε. The threshold rule is a small value
object (:mod:`graphtraj.timeseries.recurrence_spec`); the distances come from a metric
on series or states, from a graph-space metric on a
:class:`~graphtraj.GraphSeries`, or from a precomputed distance matrix. Matrices are
stored bit-packed (N·M/8 bytes) or sparse, never as N x M float arrays, and record the
spec, ε, metric, Theiler window and convention that made them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from graphtraj._checks import check_finite, check_int, check_option
from graphtraj._result import Result, to_builtin
from graphtraj.exceptions import ValidationError
from graphtraj.timeseries._recurrence_source import (
    TILE,
    DistanceSource,
    make_source,
)
from graphtraj.timeseries._recurrence_threshold import Thresholds, resolve_thresholds
from graphtraj.timeseries.recurrence_spec import RecurrenceSpec, as_spec

__all__ = [
    "CONVENTIONS",
    "KINDS",
    "STORAGES",
    "RecurrenceMatrix",
    "recurrence_matrix",
    "cross_recurrence_matrix",
    "joint_recurrence_matrix",
]

#: Conventions for what counts as a recurrence and how RQA counts it.
CONVENTIONS = ("recurrenceanalysis", "pyunicorn")
#: Kinds of recurrence matrix.
KINDS = ("recurrence", "cross", "joint")
#: Storage formats of a :class:`RecurrenceMatrix`.
STORAGES = ("bitpacked", "sparse")


_POPCOUNT = np.array([bin(v).count("1") for v in range(256)], dtype=np.uint8)


def default_theiler(kind: str, convention: str) -> int:
    """RecurrenceAnalysis.jl's default: 1 (LOI excluded) for one series, 0 for cross."""
    if convention == "pyunicorn" or kind == "cross":
        return 0
    return 1


def check_theiler(theiler: Any, kind: str, convention: str) -> int:
    """Validate ``theiler`` (None → the default for ``kind`` and ``convention``)."""
    if theiler is None:
        return default_theiler(kind, convention)
    theiler = check_int(theiler, "theiler", minimum=0)
    if convention == "pyunicorn" and theiler != 0:
        raise ValidationError(
            f"`theiler` must be None or 0 under convention='pyunicorn' (pyunicorn has no "
            f"Theiler window); got {theiler}. Use the default convention for a window."
        )
    return theiler


@dataclass(frozen=True, eq=False)
class RecurrenceMatrix(Result):
    """A binary recurrence matrix and how it was made.

    Attributes
    ----------
    shape : tuple of int
        ``(N, M)``; ``N == M`` for recurrence and joint-recurrence matrices.
    kind : {"recurrence", "cross", "joint"}
        What the rows and columns index.
    theiler : int
        Theiler window used by default in RQA: pairs with ``|i - j| < theiler`` are not
        counted (the matrix itself keeps them, so plots show the line of identity).
    spec : RecurrenceSpec or None
        The threshold rule (None for a matrix built from a user array).
    eps : float, ndarray or None
        The threshold ε (one per row for a local recurrence rate).
    metric : str or None
        Distance used.
    convention : {"recurrenceanalysis", "pyunicorn"}
        ``"recurrenceanalysis"``: recurrence when ``d <= ε``; ``"pyunicorn"``:
        ``d < ε`` and pyunicorn's RQA counting.
    symmetric : bool
        Whether ``R == R.T`` (then RQA scans only the upper triangle).
    storage : {"bitpacked", "sparse"}
        How ``data`` holds the matrix.
    data : ndarray of uint8 or scipy.sparse array
        Row-wise ``numpy.packbits`` of the boolean matrix (shape ``(N, ceil(M/8))``),
        or a boolean CSR array.

    Examples
    --------
    >>> import numpy as np
    >>> rm = RecurrenceMatrix.from_array(np.eye(3, dtype=bool))
    >>> rm.nnz, rm.kind, rm.theiler
    (3, 'recurrence', 1)
    """

    shape: tuple[int, int]
    kind: str
    theiler: int
    spec: RecurrenceSpec | None
    eps: float | np.ndarray | None
    metric: str | None
    convention: str
    symmetric: bool
    storage: str
    data: Any

    def __len__(self) -> int:
        return self.shape[0]

    @property
    def nnz(self) -> int:
        """Number of recurrent cells (the line of identity included)."""
        if self.storage == "sparse":
            return int(self.data.nnz)
        return int(_POPCOUNT[self.data].sum(dtype=np.int64))  # padding bits are zero

    def toarray(self) -> np.ndarray:
        """The matrix as a dense boolean array (N x M bytes)."""
        if self.storage == "sparse":
            return self.data.toarray().astype(bool)
        return np.unpackbits(self.data, axis=1, count=self.shape[1]).astype(bool)

    def to_sparse(self) -> Any:
        """The matrix as a boolean ``scipy.sparse.csr_array``."""
        import scipy.sparse as sp

        if self.storage == "sparse":
            return self.data.tocsr()
        return sp.csr_array(self.toarray())

    def to_packed(self) -> np.ndarray:
        """Row-wise bit-packed storage (``numpy.packbits(R, axis=1)``)."""
        if self.storage == "bitpacked":
            return self.data
        return np.packbits(self.toarray(), axis=1)

    def submatrix(self, start: int, stop: int) -> RecurrenceMatrix:
        """The diagonal block ``R[start:stop, start:stop]`` with the same metadata."""
        if self.storage == "sparse":
            data = self.data.tocsr()[start:stop, start:stop]
        else:
            dense = np.unpackbits(self.data[start:stop], axis=1, count=self.shape[1])
            data = np.packbits(dense[:, start:stop], axis=1)
        eps = self.eps[start:stop] if isinstance(self.eps, np.ndarray) else self.eps
        return RecurrenceMatrix(
            shape=(stop - start, stop - start), kind=self.kind, theiler=self.theiler,
            spec=self.spec, eps=eps, metric=self.metric, convention=self.convention,
            symmetric=self.symmetric, storage=self.storage, data=data,
        )

    def title(self) -> str:
        """A one-line description for plot titles: kind, spec, ε, metric, Theiler."""
        parts = [self.kind]
        if self.spec is not None:
            parts.append(self.spec.describe())
        from graphtraj.timeseries.recurrence_spec import FixedThreshold

        if isinstance(self.eps, float) and not isinstance(self.spec, FixedThreshold):
            parts.append(f"ε = {self.eps:.3g}")
        if self.metric:
            parts.append(self.metric)
        parts.append(f"Theiler {self.theiler}")
        return ", ".join(parts)

    def as_dict(self) -> dict[str, Any]:
        """Metadata and the recurrent cells as ``(rows, cols)`` index lists."""
        rows, cols = np.nonzero(self.toarray())
        return {
            "shape": list(self.shape), "kind": self.kind, "theiler": self.theiler,
            "spec": None if self.spec is None else {
                "type": type(self.spec).__name__, **self.spec.as_dict()
            },
            "eps": to_builtin(self.eps), "metric": self.metric,
            "convention": self.convention, "symmetric": self.symmetric,
            "storage": self.storage, "rows": rows.tolist(), "cols": cols.tolist(),
        }

    @classmethod
    def from_array(
        cls,
        mask: Any,
        *,
        kind: str | None = None,
        theiler: int | None = None,
        convention: str = "recurrenceanalysis",
        storage: str = "bitpacked",
    ) -> RecurrenceMatrix:
        """Wrap a boolean (or 0/1) array or scipy sparse matrix as a RecurrenceMatrix.

        Parameters
        ----------
        mask : array_like of bool or 0/1, or scipy sparse, shape (N, M)
            The recurrence matrix.
        kind : {"recurrence", "cross", "joint"}, optional
            Default: ``"recurrence"`` if square, ``"cross"`` otherwise.
        theiler : int, optional
            Default Theiler window for RQA (1 for recurrence/joint, 0 for cross).
        convention : {"recurrenceanalysis", "pyunicorn"}
            Default convention for RQA of this matrix.
        storage : {"bitpacked", "sparse"}
            Storage format.

        Raises
        ------
        ValidationError
            If the array is not 2-D or holds values other than 0 and 1, or a recurrence
            or joint matrix is not square.
        NonFiniteInputError
            If the array holds NaN or inf.

        Examples
        --------
        >>> RecurrenceMatrix.from_array([[1, 0, 1], [0, 1, 1]]).kind
        'cross'
        """
        import scipy.sparse as sp

        if sp.issparse(mask):
            dense = np.asarray(mask.toarray())
        else:
            dense = np.asarray(mask)
        if dense.ndim != 2:
            raise ValidationError(
                f"`mask` must be a 2-D recurrence matrix; got shape {dense.shape}"
            )
        if dense.dtype != bool:
            if dense.dtype.kind == "f":
                check_finite(dense, "mask")
            if dense.dtype.kind not in "biuf" or not np.all((dense == 0) | (dense == 1)):
                raise ValidationError(
                    "`mask` must hold only 0/1 or booleans; got values outside {0, 1}"
                )
            dense = dense.astype(bool)
        kind = ("recurrence" if dense.shape[0] == dense.shape[1] else "cross") if kind is None else kind
        kind = check_option(kind, "kind", KINDS)
        check_option(convention, "convention", CONVENTIONS)
        check_option(storage, "storage", STORAGES)
        if kind != "cross" and dense.shape[0] != dense.shape[1]:
            raise ValidationError(
                f"`mask` must be square for kind={kind!r}; got shape {dense.shape}"
            )
        theiler = check_theiler(theiler, kind, convention)
        symmetric = dense.shape[0] == dense.shape[1] and bool(np.array_equal(dense, dense.T))
        data = sp.csr_array(dense) if storage == "sparse" else np.packbits(dense, axis=1)
        return cls(
            shape=dense.shape, kind=kind, theiler=theiler, spec=None, eps=None, metric=None,
            convention=convention, symmetric=symmetric, storage=storage, data=data,
        )


def _build(
    source: DistanceSource,
    thresholds: Thresholds,
    storage: str,
    other: list[tuple[DistanceSource, Thresholds]] | None = None,
) -> Any:
    """Threshold ``source`` one block of rows at a time (AND-ed with ``other``)."""
    import scipy.sparse as sp

    n_rows, n_cols = source.n_rows, source.n_cols
    rows_per_block = max(1, min(n_rows, (1 << 21) // max(n_cols, 1)))
    buf = np.empty((rows_per_block, n_cols))
    blocks = []
    for r0 in range(0, n_rows, rows_per_block):
        nr = min(rows_per_block, n_rows - r0)
        block = source.row_block(r0, nr, buf)
        mask = (block <= thresholds.rows[r0 : r0 + nr, None]) & (block <= thresholds.cols[None, :])
        for src, thr in other or ():
            block = src.row_block(r0, nr, buf)
            mask &= (block <= thr.rows[r0 : r0 + nr, None]) & (block <= thr.cols[None, :])
        blocks.append(sp.csr_array(mask) if storage == "sparse" else np.packbits(mask, axis=1))
    if storage == "sparse":
        return sp.vstack(blocks, format="csr") if blocks else sp.csr_array((0, n_cols), dtype=bool)
    return np.concatenate(blocks, axis=0)


def _checked_common(spec, convention, storage, tile):
    spec = as_spec(spec)
    convention = check_option(convention, "convention", CONVENTIONS)
    storage = check_option(storage, "storage", STORAGES)
    tile = TILE if tile is None else (
        check_int(tile[0], "tile[0]", minimum=1), check_int(tile[1], "tile[1]", minimum=1)
    )
    return spec, convention, storage, tile


def recurrence_matrix(
    x: Any,
    spec: RecurrenceSpec | float,
    *,
    metric: str | None = None,
    theiler: int | None = None,
    precomputed: bool = False,
    convention: str = "recurrenceanalysis",
    storage: str = "bitpacked",
    tile: tuple[int, int] | None = None,
) -> RecurrenceMatrix:
    """The recurrence matrix ``R[i, j] = 1  iff  d(x_i, x_j) <= ε`` of one trajectory.

    Parameters
    ----------
    x : array_like (T,) or (T, P), Trajectory, GraphSeries, or (T, T) distances
        A scalar series (embed it first with :func:`~graphtraj.timeseries.delay_embed`
        if needed), a state array, a :class:`~graphtraj.trajectory.Trajectory` (its
        states), a :class:`~graphtraj.GraphSeries` (distances from
        :func:`graphtraj.measures.distance_matrix` with ``metric``), or, with
        ``precomputed=True``, a square non-negative distance matrix.
    spec : RecurrenceSpec or float
        Threshold rule; a bare number is a :class:`FixedThreshold`.
    metric : str, optional
        For arrays: ``"euclidean"`` (default), ``"manhattan"`` or ``"chebyshev"``
        (aliases ``"l2"``, ``"l1"``, ``"cityblock"``, ``"supremum"``, ``"linf"``,
        ``"max"``), computed natively and tile by tile; any other name of
        :data:`graphtraj.measures.METRICS` is delegated to the graph-measures package.
        For a GraphSeries: a graph-measures registry name (default: its default).
    theiler : int, optional
        Theiler window recorded for RQA and used to define admissible pairs for
        :class:`GlobalRecurrenceRate`, :class:`LocalRecurrenceRate` and
        ``ScaledThreshold(scale="mean")``. Default 1 (line of identity excluded); 0
        under ``convention="pyunicorn"``.
    precomputed : bool, default False
        Whether ``x`` is a distance matrix.
    convention : {"recurrenceanalysis", "pyunicorn"}, default "recurrenceanalysis"
        ``"pyunicorn"`` reproduces pyunicorn's ``RecurrencePlot``: recurrence when
        ``d < ε`` (strict), fixed recurrence rate from the sorted full matrix at index
        ``int(rate · (N² − 1))``, no Theiler window.
    storage : {"bitpacked", "sparse"}, default "bitpacked"
        Bit-packed rows (N²/8 bytes) or a boolean CSR array.
    tile : (int, int), optional
        Tile shape (rows, columns) of the streaming passes that resolve ε.

    Returns
    -------
    RecurrenceMatrix
        The matrix with its spec, ε, metric, Theiler window and convention.

    Raises
    ------
    ValidationError
        Bad shapes, a non-square or negative precomputed matrix, a spec that cannot be
        met (e.g. ``k`` larger than the admissible neighbours).
    NonFiniteInputError
        If the input holds NaN or inf.
    UnknownOptionError
        Unknown ``metric``, ``convention`` or ``storage``.

    Notes
    -----
    Eckmann, Kamphorst & Ruelle (1987), doi:10.1209/0295-5075/4/9/004; Marwan et al.
    (2007), Eq. (3), doi:10.1016/j.physrep.2006.11.001. Distances are computed in
    tiles (:mod:`graphtraj.timeseries._recurrence_kernels`) and thresholded block by
    block: time O(N² P), memory O(N²/8) for the result plus O(N) working memory. The
    line of identity is kept in the matrix; RQA excludes it through ``theiler``.
    A constant input gives an all-ones matrix for any ε >= 0.

    References
    ----------
    .. [1] N. Marwan, M. C. Romano, M. Thiel, J. Kurths, "Recurrence plots for the
       analysis of complex systems", Phys. Rep. 438, 237 (2007),
       doi:10.1016/j.physrep.2006.11.001.

    Examples
    --------
    >>> import numpy as np
    >>> rm = recurrence_matrix(np.array([0.0, 1.0, 0.1, 5.0]), 0.2)
    >>> rm.toarray().astype(int)
    array([[1, 0, 1, 0],
           [0, 1, 0, 0],
           [1, 0, 1, 0],
           [0, 0, 0, 1]])
    """
    spec, convention, storage, tile = _checked_common(spec, convention, storage, tile)
    source = make_source(x, metric=metric, precomputed=precomputed)
    if source.n_rows != source.n_cols:
        raise ValidationError(
            f"`x` must be a square distance matrix when precomputed=True; got shape "
            f"({source.n_rows}, {source.n_cols}). Use cross_recurrence_matrix."
        )
    theiler = check_theiler(theiler, "recurrence", convention)
    thresholds = resolve_thresholds(source, spec, theiler, convention, tile)
    data = _build(source, thresholds, storage)
    return RecurrenceMatrix(
        shape=(source.n_rows, source.n_cols), kind="recurrence", theiler=theiler, spec=spec,
        eps=thresholds.eps, metric=source.metric, convention=convention,
        symmetric=bool(source.symmetric and spec.symmetric), storage=storage, data=data,
    )


def cross_recurrence_matrix(
    x: Any,
    y: Any,
    spec: RecurrenceSpec | float,
    *,
    metric: str | None = None,
    theiler: int | None = None,
    precomputed: bool = False,
    convention: str = "recurrenceanalysis",
    storage: str = "bitpacked",
    tile: tuple[int, int] | None = None,
) -> RecurrenceMatrix:
    """The cross-recurrence matrix ``CR[i, j] = 1  iff  d(x_i, y_j) <= ε``.

    Parameters
    ----------
    x, y : array_like, Trajectory or GraphSeries
        Two trajectories with the same number of components (lengths may differ). With
        ``precomputed=True`` pass the (N, M) cross-distance matrix as ``x`` and
        ``y=None``.
    spec, metric, precomputed, convention, storage, tile
        As in :func:`recurrence_matrix`.
    theiler : int, optional
        Default 0 (RecurrenceAnalysis.jl): in a cross plot the diagonal does not pair a
        state with itself.

    Returns
    -------
    RecurrenceMatrix
        Of kind ``"cross"``, shape (N, M).

    Raises
    ------
    ValidationError
        If the inputs have different numbers of components.

    Notes
    -----
    Marwan & Kurths (2002), doi:10.1016/S0375-9601(02)01170-2. Same cost as
    :func:`recurrence_matrix`; a fixed recurrence rate is a quantile over all N·M pairs
    (minus the Theiler band, if any).

    Examples
    --------
    >>> import numpy as np
    >>> cross_recurrence_matrix([0.0, 1.0], [0.05, 0.9, 2.0], 0.1).toarray().astype(int)
    array([[1, 0, 0],
           [0, 1, 0]])
    """
    spec, convention, storage, tile = _checked_common(spec, convention, storage, tile)
    source = make_source(x, y, metric=metric, precomputed=precomputed)
    theiler = check_theiler(theiler, "cross", convention)
    thresholds = resolve_thresholds(source, spec, theiler, convention, tile)
    data = _build(source, thresholds, storage)
    symmetric = (
        source.n_rows == source.n_cols and spec.symmetric and source.symmetric
    )
    return RecurrenceMatrix(
        shape=(source.n_rows, source.n_cols), kind="cross", theiler=theiler, spec=spec,
        eps=thresholds.eps, metric=source.metric, convention=convention,
        symmetric=bool(symmetric), storage=storage, data=data,
    )


def joint_recurrence_matrix(
    x: Any,
    y: Any,
    spec: RecurrenceSpec | float,
    spec_y: RecurrenceSpec | float | None = None,
    *,
    metric: str | None = None,
    metric_y: str | None = None,
    theiler: int | None = None,
    precomputed: bool = False,
    convention: str = "recurrenceanalysis",
    storage: str = "bitpacked",
    tile: tuple[int, int] | None = None,
) -> RecurrenceMatrix:
    """The joint-recurrence matrix ``JR = R(x) AND R(y)`` of two simultaneous trajectories.

    Parameters
    ----------
    x, y : array_like, Trajectory, GraphSeries, or (T, T) distances
        Two trajectories of the same length T, each in its own space (their component
        counts may differ).
    spec : RecurrenceSpec or float
        Threshold rule for ``x`` (and for ``y`` unless ``spec_y`` is given).
    spec_y : RecurrenceSpec or float, optional
        Threshold rule for ``y``.
    metric, metric_y : str, optional
        Metrics for ``x`` and ``y`` (``metric_y`` defaults to ``metric``).
    theiler, precomputed, convention, storage, tile
        As in :func:`recurrence_matrix`; ``precomputed`` applies to both inputs.

    Returns
    -------
    RecurrenceMatrix
        Of kind ``"joint"``; ``eps`` is the pair ``(eps_x, eps_y)``.

    Raises
    ------
    ValidationError
        If ``x`` and ``y`` have different lengths.

    Notes
    -----
    Romano et al. (2004), doi:10.1209/epl/i2004-10174-5, Eq. (2). Each ε is resolved on
    its own trajectory (so a fixed recurrence rate holds for each, not for the joint
    matrix).

    Examples
    --------
    >>> import numpy as np
    >>> jr = joint_recurrence_matrix([0.0, 0.05, 1.0], [0.0, 3.0, 3.0], 0.1)
    >>> jr.toarray().astype(int)
    array([[1, 0, 0],
           [0, 1, 0],
           [0, 0, 1]])
    """
    spec, convention, storage, tile = _checked_common(spec, convention, storage, tile)
    spec_y = spec if spec_y is None else as_spec(spec_y)
    sx = make_source(x, metric=metric, precomputed=precomputed)
    sy = make_source(y, metric=metric if metric_y is None else metric_y, precomputed=precomputed)
    for name, s in (("x", sx), ("y", sy)):
        if s.n_rows != s.n_cols:
            raise ValidationError(
                f"`{name}` must be a square distance matrix when precomputed=True; got "
                f"shape ({s.n_rows}, {s.n_cols})"
            )
    if sx.n_rows != sy.n_rows:
        raise ValidationError(
            f"`y` must have the same length as `x` ({sx.n_rows}) for joint recurrence; "
            f"got {sy.n_rows}"
        )
    theiler = check_theiler(theiler, "joint", convention)
    tx = resolve_thresholds(sx, spec, theiler, convention, tile)
    ty = resolve_thresholds(sy, spec_y, theiler, convention, tile)
    data = _build(sx, tx, storage, other=[(sy, ty)])
    symmetric = sx.symmetric and sy.symmetric and spec.symmetric and spec_y.symmetric
    return RecurrenceMatrix(
        shape=(sx.n_rows, sx.n_cols), kind="joint", theiler=theiler, spec=spec,
        eps=(tx.eps, ty.eps), metric=f"{sx.metric} & {sy.metric}", convention=convention,
        symmetric=bool(symmetric), storage=storage, data=data,
    )
