"""Spectra of graph snapshots as time series: singular values, adjacency and Laplacian.

Everything is batched over snapshots with numpy's stacked linear algebra
(``np.linalg.svd`` / ``eigvalsh`` on (T, N, N) stacks). Graphs larger than
``dense_max`` nodes use sparse iterative eigensolvers with an iteration cap and a
dense fallback (field case C16).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from graphtraj._checks import check_int, check_option
from graphtraj._progress import progress_bar
from graphtraj._result import Result
from graphtraj.exceptions import (
    ConvergenceWarning,
    UndefinedResultWarning,
    ValidationError,
)
from graphtraj.measures._graphs import (
    laplacian,
    map_dense,
    normalized_laplacian,
    sym_abs,
)
from graphtraj.snapshots import GraphSeries

__all__ = ["SpectralStats", "spectral_stats", "laplacian_spectrum", "algebraic_connectivity"]


@dataclass(frozen=True)
class SpectralStats(Result):
    """Spectral statistics of every snapshot of a graph series.

    Attributes
    ----------
    times : ndarray (T,)
        Snapshot times.
    layer_names : tuple of str
        ``"layers.<l>"`` per dense layer (layered series) or ``("W",)`` (the whole
        adjacency of a general series).
    singular_values : tuple of ndarray (T, k_l)
        Singular values of each layer's weight matrix, descending (empty tuple when
        the iterative path was used for a large general graph).
    spectral_norm, stable_rank, effective_rank : ndarray (T, L)
        Per layer: ``σ_max``; ``‖W‖_F² / σ_max²``; ``exp(H(p))`` with
        ``p_i = σ_i / Σ σ_j`` (Roy & Vetterli 2007). NaN for an all-zero layer, and
        effective rank NaN on the iterative path.
    adjacency_spectrum : ndarray (T, N) or None
        Eigenvalues (ascending) of the symmetrized ``|W|``; None on the iterative path.
    spectral_radius : ndarray (T,)
        Largest eigenvalue of the symmetrized ``|W|`` (its Perron root).
    laplacian_spectrum : ndarray (T, N) or None
        Eigenvalues (ascending) of ``L = D - S``; None on the iterative path.
    algebraic_connectivity : ndarray (T,)
        Second-smallest Laplacian eigenvalue (0 for disconnected graphs; NaN for N=1).
    params : dict
        ``method`` used, ``dense_max``, ``maxiter``, ``fallbacks`` (snapshots where
        the iterative solver gave up and dense ``eigvalsh`` was used), ``symmetrization``.

    Examples
    --------
    >>> import numpy as np
    >>> st = spectral_stats(GraphSeries.from_layers([0, 1], [np.stack([np.eye(2), 2 * np.eye(2)])]))
    >>> st.spectral_norm[:, 0].tolist(), st.stable_rank[:, 0].tolist()
    ([1.0, 2.0], [2.0, 2.0])
    """

    times: np.ndarray
    layer_names: tuple[str, ...]
    singular_values: tuple[np.ndarray, ...]
    spectral_norm: np.ndarray
    stable_rank: np.ndarray
    effective_rank: np.ndarray
    adjacency_spectrum: np.ndarray | None
    spectral_radius: np.ndarray
    laplacian_spectrum: np.ndarray | None
    algebraic_connectivity: np.ndarray
    params: dict[str, Any] = field(default_factory=dict)


def _rank_stats(sv: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Spectral norm, stable rank and effective rank from singular values (T, k)."""
    top = sv[:, 0] if sv.shape[1] else np.zeros(sv.shape[0])
    total = sv.sum(1)
    with np.errstate(invalid="ignore", divide="ignore", under="ignore"):
        # Σ (σ_i / σ_max)²: scale-free, so weights of 1e±200 neither overflow nor
        # underflow in the squares
        ratio = sv / np.where(top > 0, top, 1.0)[:, None]
        stable = np.where(top > 0, (ratio**2).sum(1), np.nan)
        p = sv / np.where(total > 0, total, 1.0)[:, None]
        ent = -(np.where(p > 0, p * np.log(np.where(p > 0, p, 1.0)), 0.0)).sum(1)
    eff = np.where(total > 0, np.exp(ent), np.nan)
    return top, stable, eff


def _check_series(series: Any) -> GraphSeries:
    if not isinstance(series, GraphSeries):
        raise ValidationError(
            f"`series` must be a GraphSeries (GraphSeries.from_trajectory or "
            f"from_adjacency); got {type(series).__name__}"
        )
    return series


def _sparse_sym(series: GraphSeries, t: int) -> Any:
    a = abs(series.adjacency(t))
    s = (a + a.T) if series.directed else a
    return s.tocsr()


def _pow2_exponent(data: np.ndarray) -> int:
    """``e`` with ``max|data| = f 2^e``, ``f`` in [0.5, 1) (0 for all-zero data)."""
    top = float(np.max(np.abs(data))) if data.size else 0.0
    return int(np.frexp(top)[1]) if top > 0 else 0


def _iterative_one(s: Any, maxiter: int) -> tuple[float, float, bool]:
    """(spectral radius, algebraic connectivity, fell_back) of one sparse S.

    Both are homogeneous of degree 1 in the weights, so S is first scaled by the power
    of two that brings its largest weight to [0.5, 1) (exact) and the results scaled
    back: the solver's shift and tolerances then work at any weight scale.
    """
    e = _pow2_exponent(s.data)
    if e:
        s = s.copy()
        s.data = np.ldexp(s.data, -e)
    rad, conn, fell_back = _iterative_unit(s, maxiter)
    return float(np.ldexp(rad, e)), float(np.ldexp(conn, e)), fell_back


def _iterative_unit(s: Any, maxiter: int) -> tuple[float, float, bool]:
    import scipy.sparse as sp
    from scipy.sparse.linalg import ArpackError, ArpackNoConvergence, eigsh

    n = s.shape[0]
    deg = np.asarray(s.sum(axis=1)).ravel()
    lap = (sp.diags(deg) - s).tocsc()
    shift = -1e-3 * max(float(deg.mean()), 1e-12)
    try:
        lam = eigsh(lap, k=2, sigma=shift, which="LM", maxiter=maxiter, tol=0,
                    return_eigenvectors=False)
        rad = eigsh(s.astype(float), k=1, which="LA", maxiter=maxiter, tol=0,
                    return_eigenvectors=False)
        return float(rad[0]), float(np.sort(lam)[1]), False
    except (ArpackNoConvergence, ArpackError, RuntimeError):
        dense = s.toarray()
        ev = np.linalg.eigvalsh(dense)
        lev = np.linalg.eigvalsh(laplacian(dense))
        return float(max(ev[-1], -ev[0])), float(lev[1]) if n > 1 else np.nan, True


def spectral_stats(
    series: GraphSeries,
    *,
    method: str = "auto",
    dense_max: int = 500,
    maxiter: int | None = None,
    progress: bool | None = None,
) -> SpectralStats:
    """Per-snapshot spectral statistics of a graph series, batched over time.

    Per layer (each dense layer of a layered network; the whole adjacency of a
    general graph): the singular values, spectral norm, stable rank and effective rank.
    For the whole graph, on the symmetrized ``|W|`` (``|W| + |W|ᵀ`` if directed, ``|W|``
    if undirected — an explicit transform, since the Laplacian of signed weights is
    not positive semi-definite): the adjacency spectrum and spectral radius, the
    Laplacian spectrum and the algebraic connectivity.

    Parameters
    ----------
    series : GraphSeries
        The series.
    method : {"auto", "dense", "iterative"}
        ``"auto"`` uses dense stacked solvers up to ``dense_max`` nodes and iterative
        ones above; ``"iterative"`` forces the sparse solvers (graphs of >= 3 nodes).
    dense_max : int
        Largest N handled densely by ``"auto"`` (default 500).
    maxiter : int, optional
        Iteration cap of the iterative solvers (default ``20 N``); when it is hit the
        snapshot falls back to dense ``eigvalsh`` and a
        :class:`~graphtraj.exceptions.ConvergenceWarning` says how often.
    progress : bool, optional
        Progress bar over snapshots on the iterative path.

    Returns
    -------
    SpectralStats
        The statistics, with per-layer arrays in ``(T, L)`` layout.

    Raises
    ------
    ValidationError
        If ``series`` is not a GraphSeries or an option is invalid.

    Warns
    -----
    UndefinedResultWarning
        When a layer is all-zero (stable and effective rank NaN) or N = 1 (algebraic
        connectivity NaN).

    Notes
    -----
    Stable rank ``‖W‖_F²/‖W‖₂²`` (Rudelson & Vershynin 2007); effective rank
    ``exp(-Σ p_i ln p_i)``, ``p_i = σ_i/‖σ‖₁`` (Roy & Vetterli 2007, Eq. 2); algebraic
    connectivity = second-smallest eigenvalue of ``D - S`` (Fiedler 1973), 0 exactly
    when the graph is disconnected. Dense cost O(T N³) in one stacked call per chunk;
    iterative cost per snapshot O(E) per Lanczos step (shift-invert for the smallest
    Laplacian eigenvalues).

    References
    ----------
    .. [1] O. Roy, M. Vetterli, "The effective rank: a measure of effective
       dimensionality", EUSIPCO 2007. doi:10.5281/zenodo.40275
    .. [2] M. Fiedler, "Algebraic connectivity of graphs", Czech. Math. J. 23, 298
       (1973). doi:10.21136/CMJ.1973.101168

    Examples
    --------
    >>> import numpy as np
    >>> path = np.diag([1.0, 1.0], 1) + np.diag([1.0, 1.0], -1)  # P3: L-spectrum 0, 1, 3
    >>> st = spectral_stats(GraphSeries.from_adjacency([0], path[None]))
    >>> st.laplacian_spectrum.round(12).tolist(), float(st.algebraic_connectivity[0])
    ([[0.0, 1.0, 3.0]], 1.0)
    >>> round(float(st.spectral_radius[0]), 12)   # sqrt(2)
    1.414213562373
    """
    series = _check_series(series)
    method = check_option(method, "method", ("auto", "dense", "iterative"))
    dense_max = check_int(dense_max, "dense_max", minimum=0)
    n = series.n_nodes
    if maxiter is not None:
        maxiter = check_int(maxiter, "maxiter", minimum=1)
    iterative = (method == "iterative" or (method == "auto" and n > dense_max)) and n >= 3
    t = len(series)
    if series.is_layered:
        names = tuple(f"layers.{li}" for li in range(len(series._layers)))
        svs = tuple(np.linalg.svd(w, compute_uv=False) for w in series._layers)
    elif not iterative:
        names = ("W",)
        svs = (map_dense(series, lambda w: np.linalg.svd(w, compute_uv=False)),)
    else:
        names, svs = ("W",), ()
    if svs:
        cols = [_rank_stats(sv) for sv in svs]
        norm = np.stack([c[0] for c in cols], 1)
        stable = np.stack([c[1] for c in cols], 1)
        eff = np.stack([c[2] for c in cols], 1)
    else:
        norm, stable, eff = _iterative_norms(series, maxiter or 20 * n)
        warnings.warn(
            f"the iterative path (method={method!r}, N = {n} nodes, dense_max = "
            f"{dense_max}) does not compute every singular value, so effective_rank is "
            "NaN (and the eigenvalue arrays None); pass method='dense' (O(N^3) per "
            "snapshot) if you need them",
            UndefinedResultWarning,
            stacklevel=2,
        )
    if np.isnan(stable).any():
        warnings.warn(
            "some layer is all-zero in some snapshot: its stable and effective rank are "
            "undefined (NaN)",
            UndefinedResultWarning,
            stacklevel=2,
        )
    fallbacks = 0
    if not iterative:
        def both(w: np.ndarray) -> np.ndarray:
            s = sym_abs(w, series.directed)
            return np.concatenate([np.linalg.eigvalsh(s), np.linalg.eigvalsh(laplacian(s))], 1)

        ev = map_dense(series, both)
        adj, lap = ev[:, :n], ev[:, n:]
        radius = np.maximum(adj[:, -1], -adj[:, 0])
        conn = lap[:, 1] if n > 1 else np.full(t, np.nan)
    else:
        adj = lap = None
        radius = np.empty(t)
        conn = np.empty(t)
        cap = maxiter or 20 * n
        for k in progress_bar(range(t), total=t, desc="spectra", progress=progress):
            radius[k], conn[k], fb = _iterative_one(_sparse_sym(series, k), cap)
            fallbacks += fb
        if fallbacks:
            warnings.warn(
                f"the iterative eigensolver stopped at maxiter={cap} for {fallbacks} of "
                f"{t} snapshots; dense eigvalsh was used for those",
                ConvergenceWarning,
                stacklevel=2,
            )
    if n == 1:
        warnings.warn(
            "algebraic connectivity is undefined for a one-node graph; NaN returned",
            UndefinedResultWarning,
            stacklevel=2,
        )
    return SpectralStats(
        times=series.times,
        layer_names=names,
        singular_values=svs,
        spectral_norm=norm,
        stable_rank=stable,
        effective_rank=eff,
        adjacency_spectrum=adj,
        spectral_radius=radius,
        laplacian_spectrum=lap,
        algebraic_connectivity=conn,
        params={
            "method": "iterative" if iterative else "dense",
            "dense_max": dense_max,
            "maxiter": maxiter,
            "fallbacks": fallbacks,
            "symmetrization": "|W| + |W|^T" if series.directed else "|W|",
        },
    )


def _iterative_norms(series: GraphSeries, maxiter: int):
    """Spectral norm, stable rank and (NaN) effective rank, (T, 1) each, by ``svds``."""
    from scipy.sparse.linalg import ArpackError, ArpackNoConvergence, svds

    t = len(series)
    norm = np.zeros((t, 1))
    stable = np.full((t, 1), np.nan)  # NaN for an all-zero snapshot
    for k in range(t):
        a = series.adjacency(k)
        if not np.any(a.data):
            continue
        # scale by a power of two (exact) so that ‖W‖_F² and the solver work at any scale
        e = _pow2_exponent(a.data)
        a = a.copy()
        a.data = np.ldexp(a.data, -e)
        try:
            unit = float(svds(a, k=1, maxiter=maxiter, return_singular_vectors=False)[0])
        except (ArpackNoConvergence, ArpackError):
            unit = float(np.linalg.norm(a.toarray(), 2))
        norm[k, 0] = float(np.ldexp(unit, e))
        if unit > 0:
            stable[k, 0] = float((a.data**2).sum()) / unit**2
    return norm, stable, np.full((t, 1), np.nan)


def _as_graphs(x: Any) -> tuple[GraphSeries, bool]:
    """``(series, single)`` from a GraphSeries, one (N, N) matrix (dense or sparse), a
    (T, N, N) stack or a list of sparse matrices; anything else is our error."""
    import scipy.sparse as sp

    if isinstance(x, GraphSeries):
        return x, False
    if sp.issparse(x):
        return GraphSeries.from_adjacency([0], [x]), True
    if isinstance(x, (list, tuple)) and x and all(sp.issparse(m) for m in x):
        return GraphSeries.from_adjacency(np.arange(len(x)), list(x)), False
    try:
        arr = np.asarray(x)
    except (TypeError, ValueError) as exc:  # ragged nested lists and the like
        raise ValidationError(
            "`x` must be a GraphSeries, an (N, N) adjacency matrix, a (T, N, N) stack or "
            f"a scipy.sparse matrix; got {type(x).__name__} that is not a regular array "
            f"({exc})"
        ) from None
    if arr.ndim == 2:
        return GraphSeries.from_adjacency([0], arr[None]), True
    if arr.ndim == 3:
        return GraphSeries.from_adjacency(np.arange(arr.shape[0]), arr), False
    raise ValidationError(
        "`x` must be a GraphSeries, an (N, N) adjacency matrix, a (T, N, N) stack or a "
        f"scipy.sparse matrix; got {type(x).__name__} of shape {arr.shape}"
    )


def _as_matrices(x: Any) -> tuple[np.ndarray, bool, bool]:
    """(stack (T, N, N), directed, single) from any input :func:`_as_graphs` accepts."""
    gs, single = _as_graphs(x)
    return gs.dense(), gs.directed, single


def laplacian_spectrum(
    x: Any, *, kind: str = "combinatorial", negative: str = "reject"
) -> np.ndarray:
    """Laplacian eigenvalues (ascending) of a graph or of every snapshot of a series.

    Parameters
    ----------
    x : GraphSeries, array (N, N) or (T, N, N), or scipy.sparse matrix
        The graph(s). Directed graphs are symmetrized as ``A + Aᵀ`` (undirected ones,
        i.e. symmetric matrices, are used as they are).
    kind : {"combinatorial", "normalized", "signed"}
        ``D - A``; ``I - D^{-1/2} A D^{-1/2}``; or the signed Laplacian
        ``D̄ - A`` with ``D̄_ii = Σ_j |A_ij|`` (Kunegis et al. 2010), which is positive
        semi-definite for any signs.
    negative : {"reject", "abs"}
        What the unsigned kinds do with negative weights: raise (default) or use ``|w|``.
        Ignored for ``kind="signed"``.

    Returns
    -------
    ndarray, shape (N,) for one graph or (T, N) for a series
        The eigenvalues.

    Raises
    ------
    ValidationError
        If there are negative weights with ``negative="reject"`` and an unsigned kind.
    UnknownOptionError
        On an unknown option.

    Notes
    -----
    Dense ``eigvalsh``, O(N³) per graph. The plain Laplacian of a signed graph can
    have negative eigenvalues (field case C17), which is why it is refused by default.
    A path on n nodes has eigenvalues ``2 - 2 cos(πk/n)``, a cycle ``2 - 2 cos(2πk/n)``.

    References
    ----------
    .. [1] J. Kunegis, S. Schmidt, A. Lommatzsch, J. Lerner, E. W. De Luca,
       S. Albayrak, "Spectral analysis of signed graphs for clustering, prediction
       and visualization", SDM 2010. doi:10.1137/1.9781611972801.49

    Examples
    --------
    >>> import numpy as np
    >>> tri = np.array([[0, 1, -1], [1, 0, 1], [-1, 1, 0]])
    >>> laplacian_spectrum(tri, kind="signed").round(12).tolist()
    [1.0, 1.0, 4.0]
    """
    kind = check_option(kind, "kind", ("combinatorial", "normalized", "signed"))
    negative = check_option(negative, "negative", ("reject", "abs"))
    w, directed, single = _as_matrices(x)
    if directed:
        w = w + w.transpose(0, 2, 1)
    if kind == "signed":
        lap = -w
        idx = np.arange(w.shape[-1])
        lap[:, idx, idx] += np.abs(w).sum(-1)
    else:
        if negative == "reject" and np.any(w < 0):
            raise ValidationError(
                f"`x` must have non-negative weights for the {kind} Laplacian; got "
                f"{int((w < 0).sum())} negative entries (min {w.min():g}). Pass "
                "negative='abs' to use |w|, or kind='signed' for the signed Laplacian."
            )
        w = np.abs(w)
        lap = laplacian(w) if kind == "combinatorial" else normalized_laplacian(w)
    ev = np.linalg.eigvalsh(lap)
    return ev[0] if single else ev


def algebraic_connectivity(
    x: Any, *, method: str = "auto", dense_max: int = 500, maxiter: int | None = None
) -> np.ndarray | float:
    """Algebraic connectivity (Fiedler value) of the symmetrized ``|W|`` of each snapshot.

    Parameters
    ----------
    x : GraphSeries, array (N, N) or (T, N, N), or scipy.sparse matrix
        The graph(s).
    method, dense_max, maxiter
        As for :func:`spectral_stats`: dense ``eigvalsh`` for small graphs, a capped
        shift-invert Lanczos solver (``scipy.sparse.linalg.eigsh``) with a dense
        fallback for large ones.

    Returns
    -------
    float or ndarray (T,)
        ``λ₂(D - S)``; 0 for disconnected graphs.

    Raises
    ------
    ValidationError, UnknownOptionError
        On invalid input or options.

    Notes
    -----
    Field case C16: the iterative path never runs unbounded (``maxiter``, default
    20 N) and agrees with dense ``eigvalsh`` to about 1e-10 on random regular graphs.

    References
    ----------
    .. [1] M. Fiedler, "Algebraic connectivity of graphs", Czech. Math. J. 23, 298
       (1973). doi:10.21136/CMJ.1973.101168

    Examples
    --------
    >>> import numpy as np
    >>> ring = np.roll(np.eye(6), 1, 1) + np.roll(np.eye(6), -1, 1)   # C6: 2 - 2cos(pi/3)
    >>> round(float(algebraic_connectivity(ring)), 12)
    1.0
    """
    gs, single = _as_graphs(x)
    st = spectral_stats(gs, method=method, dense_max=dense_max, maxiter=maxiter)
    return float(st.algebraic_connectivity[0]) if single else st.algebraic_connectivity
