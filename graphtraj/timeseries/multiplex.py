"""Multiplex visibility graph of a multivariate series (one layer per component).

A (T, P) array — e.g. every weight of a network along training — becomes P visibility
graphs on the same T nodes (Lacasa, Nicosia & Latora 2015). How many edges the layers
share (average edge overlap) and how much the degree of a time step in one layer tells
about its degree in another (interlayer mutual information) summarize how coherently
the components move.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from graphtraj._checks import as_rng, as_states, check_int, check_option, check_real
from graphtraj._progress import progress_bar
from graphtraj._result import Result
from graphtraj.exceptions import UndefinedResultWarning, ValidationError
from graphtraj.timeseries.time_irreversibility import degree_kld
from graphtraj.timeseries.visibility import (
    DEFAULT_RTOL,
    VISIBILITY_KINDS,
    check_times,
    graph_edges,
)
from graphtraj.timeseries.visibility_measures import tail_mle

__all__ = ["MultiplexVisibility", "multiplex_visibility"]

_DENSE_CAP = 1 << 22  # joint-count table cells before falling back to sorting


@dataclass(frozen=True)
class MultiplexVisibility(Result):
    """Multiplex visibility graph summary: overlap, interlayer information, layers.

    Attributes
    ----------
    n_layers, n_nodes : int
        P components (layers) and T time steps (nodes).
    kind : str
        Visibility criterion of every layer.
    edge_overlap : float
        Average edge overlap in ``[1/P, 1]`` (see :func:`multiplex_visibility`).
    n_edges_union : int
        Node pairs linked in at least one layer.
    mutual_information : float
        Mean interlayer mutual information of degree sequences (nats) over the pairs
        in ``mi_pairs``; NaN for a single layer.
    mi_pairs : ndarray of int64, shape (M, 2)
        Layer pairs ``(a, b)``, ``a < b``, whose information was computed.
    mi_values : ndarray, shape (M,)
        I(k_a; k_b) for each pair (nats).
    all_pairs : bool
        True when ``mi_pairs`` holds every pair; False when they were sampled.
    layer_n_edges : ndarray of int64, shape (P,)
    layer_mean_degree : ndarray, shape (P,)
    layer_max_degree : ndarray of int64, shape (P,)
    layer_tail_lambda : ndarray, shape (P,)
        Tail exponent of each layer (unbounded fit from ``k_min``; NaN if undefined).
    layer_irreversibility : ndarray, shape (P,)
        KL divergence between out- and in-degree distributions of each layer.
    layer_entropy : ndarray, shape (P,)
        Shannon entropy (nats) of each layer's degree sequence (= I(k_a; k_a)).
    k_min : int
        Lower end of the per-layer tail fits.
    names : tuple of str or None
        Layer names, when given.

    Examples
    --------
    >>> x = np.array([[0.0, 5.0], [2.0, 4.0], [1.0, 6.0], [3.0, 3.0]])
    >>> m = multiplex_visibility(x, k_min=1)
    >>> m.layer_n_edges.tolist(), m.n_edges_union, m.edge_overlap
    ([4, 4], 5, 0.8)
    """

    n_layers: int
    n_nodes: int
    kind: str
    edge_overlap: float
    n_edges_union: int
    mutual_information: float
    mi_pairs: np.ndarray
    mi_values: np.ndarray
    all_pairs: bool
    layer_n_edges: np.ndarray
    layer_mean_degree: np.ndarray
    layer_max_degree: np.ndarray
    layer_tail_lambda: np.ndarray
    layer_irreversibility: np.ndarray
    layer_entropy: np.ndarray
    k_min: int
    names: tuple[str, ...] | None = None

    def mi_matrix(self) -> np.ndarray:
        """(P, P) matrix of interlayer information; entropies on the diagonal.

        Pairs that were not computed (sampled mode) are NaN.

        Examples
        --------
        >>> x = np.random.default_rng(0).random((50, 3))
        >>> m = multiplex_visibility(x, k_min=1).mi_matrix()
        >>> m.shape, bool(np.allclose(m, m.T))
        ((3, 3), True)
        """
        p = self.n_layers
        out = np.full((p, p), np.nan)
        out[self.mi_pairs[:, 0], self.mi_pairs[:, 1]] = self.mi_values
        out[self.mi_pairs[:, 1], self.mi_pairs[:, 0]] = self.mi_values
        out[np.arange(p), np.arange(p)] = self.layer_entropy
        return out


def _sample_pairs(p: int, n_pairs: int, gen: np.random.Generator) -> np.ndarray:
    """``n_pairs`` distinct unordered pairs of ``range(p)``, uniformly, sorted."""
    found = np.empty((0, 2), np.int64)
    while found.shape[0] < n_pairs:
        need = n_pairs - found.shape[0]
        draw = gen.integers(0, p, size=(2 * need + 16, 2))
        draw = draw[draw[:, 0] != draw[:, 1]]
        draw.sort(axis=1)
        found = np.unique(np.concatenate([found, draw]), axis=0)
        if found.shape[0] > n_pairs:
            keep = gen.choice(found.shape[0], size=n_pairs, replace=False)
            found = found[np.sort(keep)]
    return found


def multiplex_visibility(
    states: Any,
    kind: str = "horizontal",
    *,
    times: Any = None,
    names: Any = None,
    all_pairs_up_to: int = 200,
    n_pairs: int = 19900,
    k_min: int = 4,
    rtol: float = DEFAULT_RTOL,
    rng: Any = None,
    progress: bool | None = None,
) -> MultiplexVisibility:
    """Multiplex visibility graph: one visibility layer per column of a (T, P) array.

    Tells how coherently the P components of a multivariate series (the weights of a
    network along training) move: layers that share most edges and whose degree
    sequences inform each other are driven by one common motion.

    Parameters
    ----------
    states : array_like, shape (T, P)
        One column per component; a 1-D series is one layer.
    kind : {"horizontal", "natural"}, default "horizontal"
        Visibility criterion of every layer (see :func:`visibility_graph`).
    times : array_like, shape (T,), optional
        Strictly increasing sample times (natural kind and weights only).
    names : sequence of str, optional
        P layer names (e.g. from ``ParamLayout``), stored in the result.
    all_pairs_up_to : int, default 200
        Compute the interlayer information of every pair when ``P <= all_pairs_up_to``.
    n_pairs : int, default 19900
        Above that, the number of distinct pairs sampled uniformly at random
        (19 900 = all pairs of 200 layers).
    k_min : int, default 4
        Lower end of each layer's tail fit.
    rtol : float, default 1e-9
        Natural-criterion tolerance.
    rng : None, int or numpy.random.Generator
        Seed or generator for the pair sample (unused when all pairs are computed).
    progress : bool, optional
        Progress bar over layers (default: when interactive).

    Returns
    -------
    MultiplexVisibility

    Raises
    ------
    InsufficientDataError
        If ``T < 2``.
    NonFiniteInputError
        If ``states`` has NaN or inf.
    ValidationError, UnknownOptionError
        For invalid options, or ``names`` of the wrong length.

    Warns
    -----
    UndefinedResultWarning
        Once, if some layers have no degree tail above ``k_min`` (their lambda is NaN).

    Notes
    -----
    With ``a_ij^alpha`` the adjacency of layer alpha (M = P layers), the average edge
    overlap is (Battiston et al. 2014; Lacasa et al. 2015)

    .. math:: o = \\frac{\\sum_{i<j} \\sum_\\alpha a^\\alpha_{ij}}
                       {M \\sum_{i<j} [1 - \\delta_{0, \\sum_\\alpha a^\\alpha_{ij}}]},

    the mean fraction of layers that hold an edge, over the node pairs linked in at
    least one layer: 1 when all layers coincide, 1/M when they share nothing. The
    interlayer information of layers alpha, beta is the plug-in mutual information of
    their degree sequences (Lacasa et al. 2015),

    .. math:: I_{\\alpha\\beta} = \\sum_{k, k'} P(k, k') \\ln \\frac{P(k, k')}{P(k) P(k')},

    with ``P(k, k')`` the fraction of time steps whose degree is k in alpha and k' in
    beta; ``mutual_information`` averages it over pairs. The plug-in estimate is biased
    upward by about ``(m_alpha - 1)(m_beta - 1) / (2T)`` nats (m = distinct degrees).

    Cost: each layer is built once (O(T) horizontal, O(T log T) typical natural) and
    only its forward edge targets (int32), row offsets (int32) and degree codes (int32)
    are kept — about twice the memory of the float64 input for horizontal layers; the
    overlap takes one pass over all edges with a marker array, O(P T + E), and each
    interlayer pair O(T) — never O(P T^2). Pairs: all ``P(P-1)/2`` when
    ``P <= all_pairs_up_to``, else ``n_pairs`` distinct pairs drawn uniformly with
    ``rng`` (or all of them, if fewer).

    References
    ----------
    .. [1] L. Lacasa, V. Nicosia, V. Latora, "Network structure of multivariate time
       series", Sci. Rep. 5, 15508 (2015), doi:10.1038/srep15508
    .. [2] F. Battiston, V. Nicosia, V. Latora, "Structural measures for multiplex
       networks", Phys. Rev. E 89, 032804 (2014), doi:10.1103/PhysRevE.89.032804

    Examples
    --------
    Two layers related by an increasing map overlap fully; an independent third one
    shares fewer edges:

    >>> rng = np.random.default_rng(1)
    >>> x = rng.random(500)
    >>> multiplex_visibility(np.column_stack([x, 2 * x + 1])).edge_overlap
    1.0
    >>> m = multiplex_visibility(np.column_stack([x, x, rng.random(500)]))
    >>> 1 / 3 < m.edge_overlap < 1, m.mi_pairs.tolist()
    (True, [[0, 1], [0, 2], [1, 2]])
    """
    from graphtraj.timeseries import _visibility_kernels as kernels

    x = as_states(states, "states", min_len=2)
    kind = check_option(kind, "kind", VISIBILITY_KINDS)
    all_pairs_up_to = check_int(all_pairs_up_to, "all_pairs_up_to", minimum=1)
    n_pairs = check_int(n_pairs, "n_pairs", minimum=1)
    k_min = check_int(k_min, "k_min", minimum=0)
    rtol = check_real(rtol, "rtol", minimum=0.0, maximum=1e-3)
    T, P = x.shape
    t_given = check_times(times, T)
    t = np.arange(T, dtype=np.float64) if t_given is None else t_given
    if names is not None:
        if isinstance(names, (str, bytes)) or not isinstance(names, Iterable):
            raise ValidationError(
                f"`names` must be a sequence of P labels (one per column); got {names!r}"
            )
        names = tuple(str(s) for s in names)
        if len(names) != P:
            raise ValidationError(f"`names` must have one entry per column ({P}); got {len(names)}")
    gen = as_rng(rng)

    # per layer keep only what the summaries need: forward CSR (offsets, int32 targets)
    # for the overlap and dense degree codes for the information
    offsets = np.empty((T + 1, P), np.int32)
    codes = np.empty((P, T), np.int32)
    m = np.empty(P, np.int64)
    entropy = np.empty(P)
    dst_parts: list[np.ndarray] = []
    n_edges = np.empty(P, np.int64)
    max_degree = np.empty(P, np.int64)
    lam = np.empty(P)
    irrev = np.empty(P)
    for a in progress_bar(range(P), total=P, desc="layers", progress=progress):
        src, dst, off = graph_edges(np.ascontiguousarray(x[:, a]), t, kind, rtol)
        k_out = np.bincount(src, minlength=T)
        k_in = np.bincount(dst, minlength=T)
        deg = k_out + k_in
        offsets[:, a] = off
        dst_parts.append(dst.astype(np.int32))
        n_edges[a] = src.size
        max_degree[a] = deg.max()
        codes[a], m[a] = kernels.dense_codes(deg, int(max_degree[a]))
        entropy[a] = kernels.entropy_of_codes(codes[a], m[a])
        lam[a] = tail_mle(deg, k_min, None)[0]
        irrev[a] = degree_kld(k_out, k_in)[0]
    base = np.concatenate([[0], np.cumsum(n_edges)[:-1]]).astype(np.int64)
    dst_all = np.concatenate(dst_parts)
    del dst_parts
    n_union = int(kernels.union_edge_count(offsets, base, dst_all))
    del dst_all, offsets
    total = int(n_edges.sum())
    overlap = total / (P * n_union) if n_union else math.nan

    n_all = P * (P - 1) // 2
    if P <= all_pairs_up_to or n_pairs >= n_all:
        ia, ib = np.triu_indices(P, k=1)
        pairs = np.column_stack([ia, ib]).astype(np.int64)
        exhaustive = True
    else:
        pairs = _sample_pairs(P, n_pairs, gen)
        exhaustive = False
    cap = int(min(int(m.max()) ** 2, _DENSE_CAP))
    mi = kernels.pair_mutual_information(codes, m, entropy, pairs, max(cap, 1))
    if P == 1:
        warnings.warn(
            "interlayer mutual information needs at least two layers; got one column, "
            "returning NaN.",
            UndefinedResultWarning,
            stacklevel=2,
        )
    n_bad = int(np.isnan(lam).sum())
    if n_bad:
        warnings.warn(
            f"degree tail exponent undefined (NaN) in {n_bad} of {P} layers (no degree "
            f"above k_min = {k_min}); lower `k_min` or use longer series.",
            UndefinedResultWarning,
            stacklevel=2,
        )
    return MultiplexVisibility(
        n_layers=P,
        n_nodes=T,
        kind=kind,
        edge_overlap=float(overlap),
        n_edges_union=n_union,
        mutual_information=float(mi.mean()) if mi.size else math.nan,
        mi_pairs=pairs,
        mi_values=mi,
        all_pairs=exhaustive,
        layer_n_edges=n_edges,
        layer_mean_degree=2.0 * n_edges / T,
        layer_max_degree=max_degree,
        layer_tail_lambda=lam,
        layer_irreversibility=irrev,
        layer_entropy=entropy,
        k_min=k_min,
        names=names,
    )
