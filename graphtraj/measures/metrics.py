"""The distance registry: one function per distance between two graph snapshots.

Every metric states, in a ``Metric properties:`` line of its docstring (and in its
:class:`MetricInfo` flags, which a contract test keeps equal), whether it is

* **weight-aware** or **structure-only** (depends on weight magnitudes, or only on which
  edges are present and their signs),
* **sign-aware** or **sign-blind** (a negative weight is not the same as its absolute
  value),
* **scale-invariant** or **scale-sensitive** (multiplying every weight and bias of both
  graphs by c > 0 leaves it unchanged),
* **relabel-invariant** or **relabel-sensitive** (relabelling the hidden neurons of one
  layered network — or any nodes of a general graph — leaves it unchanged).

Graph metrics read the *symmetrized* ``|W|`` where they need an undirected graph:
``|W| + |W|ᵀ`` for directed series (each directed edge contributes its magnitude to
its link) and ``|W|`` for undirected ones.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from graphtraj.measures._graphs import (
    laplacian,
    map_dense,
    normalized_laplacian,
    strengths,
    sym_abs,
)
from graphtraj.snapshots import GraphSeries

__all__ = [
    "METRICS",
    "MetricInfo",
    "HEAT_TIMES",
    "l1_distance",
    "l2_distance",
    "cosine_distance",
    "frobenius_distance",
    "sign_hamming_distance",
    "weighted_jaccard_distance",
    "strength_wasserstein_distance",
    "strength_js_distance",
    "singular_value_distance",
    "laplacian_spectral_distance",
    "heat_trace_distance",
    "deltacon_distance",
    "aligned_l1_distance",
    "aligned_l1_layerwise_distance",
    "aligned_l1_chained_distance",
]

#: Diffusion times of the heat-trace signature (NetLSD's default range, 64 points).
HEAT_TIMES = np.logspace(-2, 2, 64)


@dataclass(frozen=True)
class MetricInfo:
    """A registered distance and its documented properties.

    Attributes
    ----------
    name : str
        Registry key, e.g. ``"l1"``.
    function : callable
        The pairwise function ``f(a, b) -> float`` whose docstring documents it.
    weighted, signed, scale_invariant, relabel_invariant : bool
        The properties listed in the module docstring.
    vector : bool
        Whether plain ``(T, P)`` state arrays are accepted (weight-space metrics).
    layered_only : bool
        Whether only layered (MLP) series are accepted.
    kind : str
        ``"features"`` (blocked feature distances), ``"aligned"``,
        ``"aligned_layerwise"`` or ``"aligned_chained"``.

    Examples
    --------
    >>> info = METRICS["heat_trace"]
    >>> info.weighted, info.signed, info.scale_invariant, info.relabel_invariant
    (True, False, True, True)
    """

    name: str
    function: Callable[..., float]
    weighted: bool
    signed: bool
    scale_invariant: bool
    relabel_invariant: bool
    vector: bool = False
    layered_only: bool = False
    kind: str = "features"
    features: Callable[[Any, bool], list] | None = None


# ----------------------------------------------------------------- feature makers
def _vectors(x: Any) -> np.ndarray:
    return x.vectors() if isinstance(x, GraphSeries) else x


def _f_l1(x: Any, directed: bool) -> list:
    return [(_vectors(x), "cityblock", 1.0)]


def _f_l2(x: Any, directed: bool) -> list:
    return [(_vectors(x), "euclidean", 1.0)]


def _f_cosine(x: Any, directed: bool) -> list:
    v = _vectors(x)
    # scale each row by the power of two that brings its largest |entry| to [0.5, 1)
    # (exact), so the norm neither overflows (weights ~1e200) nor underflows (~1e-200)
    top = np.max(np.abs(v), axis=1, keepdims=True) if v.shape[1] else np.zeros((len(v), 1))
    u = np.ldexp(v, -np.frexp(top)[1])
    norm = np.sqrt((u * u).sum(1, keepdims=True))
    return [(np.divide(u, norm, out=np.zeros_like(u), where=norm > 0), "cosine", 1.0)]


def _f_frobenius(x: GraphSeries, directed: bool) -> list:
    if x.is_layered:
        return [(w.reshape(len(x), -1), "euclidean", 1.0) for w in x._layers]
    return [(map_dense(x, lambda w: w.reshape(w.shape[0], -1)), "euclidean", 1.0)]


def _f_sign_hamming(x: GraphSeries, directed: bool) -> list:
    return [(np.sign(x.edge_weights()), "hamming", 1.0)]


def _f_jaccard(x: GraphSeries, directed: bool) -> list:
    e = x.edge_weights()
    return [(np.hstack([np.maximum(e, 0.0), np.maximum(-e, 0.0)]), "jaccard", 1.0)]


def _strength_profiles(x: GraphSeries) -> list[np.ndarray]:
    parts = map_dense(x, lambda w: np.stack(list(strengths(w).values()), axis=1))
    return [parts[:, k] for k in range(4)]


def _f_wasserstein(x: GraphSeries, directed: bool) -> list:
    n = x.n_nodes
    return [(np.sort(s, axis=1) / n, "cityblock", 1.0) for s in _strength_profiles(x)]


def _f_js(x: GraphSeries, directed: bool) -> list:
    out = []
    for s in _strength_profiles(x):
        tot = s.sum(1, keepdims=True)
        out.append((np.divide(s, tot, out=np.zeros_like(s), where=tot > 0), "js", 0.25))
    return out


def _f_singular(x: GraphSeries, directed: bool) -> list:
    if x.is_layered:
        return [(np.linalg.svd(w, compute_uv=False), "euclidean", 1.0) for w in x._layers]
    return [(map_dense(x, lambda w: np.linalg.svd(w, compute_uv=False)), "euclidean", 1.0)]


def _f_laplacian(x: GraphSeries, directed: bool) -> list:
    return [(map_dense(x, lambda w: np.linalg.eigvalsh(laplacian(sym_abs(w, directed)))),
             "euclidean", 1.0)]


def heat_trace(mu: np.ndarray, times: np.ndarray = HEAT_TIMES) -> np.ndarray:
    """Heat trace ``h(t) = Σ_j exp(-t μ_j)`` of eigenvalues ``mu`` (..., N) at ``times``."""
    return np.exp(-mu[..., None, :] * times[:, None]).sum(-1)


def _f_heat(x: GraphSeries, directed: bool) -> list:
    def fn(w: np.ndarray) -> np.ndarray:
        mu = np.linalg.eigvalsh(normalized_laplacian(sym_abs(w, directed)))
        return heat_trace(np.clip(mu, 0.0, 2.0))

    return [(map_dense(x, fn), "euclidean", 1.0)]


def deltacon_affinity(s: np.ndarray) -> np.ndarray:
    """FaBP affinity ``[I + ε² D - ε S]⁻¹`` with ε = 1 / (1 + max degree), per snapshot."""
    deg = s.sum(-1)
    eps = 1.0 / (1.0 + deg.max(-1))
    n = s.shape[-1]
    m = -eps[:, None, None] * s
    idx = np.arange(n)
    m[:, idx, idx] += 1.0 + (eps**2)[:, None] * deg
    return np.linalg.inv(m)


def _f_deltacon(x: GraphSeries, directed: bool) -> list:
    def fn(w: np.ndarray) -> np.ndarray:
        aff = deltacon_affinity(sym_abs(w, directed))
        return np.sqrt(np.maximum(aff, 0.0)).reshape(w.shape[0], -1)

    return [(map_dense(x, fn), "euclidean", 1.0)]


# ------------------------------------------------------------ pairwise functions
def _pair(a: Any, b: Any, name: str) -> float:
    from graphtraj.measures.distances import distance

    return distance(a, b, metric=name)


def l1_distance(a: Any, b: Any) -> float:
    """L1 (Manhattan) distance between the parameter vectors: the paper's distance.

    ``d = Σ_k |θ_a,k - θ_b,k|`` over every weight and bias (layered series, or plain
    state vectors) or over the fixed edge set (general graphs).

    Parameters
    ----------
    a, b : GraphSeries, array or scipy.sparse matrix
        One snapshot each: a one-snapshot :class:`GraphSeries` (e.g. ``series[t]``),
        an (N, N) adjacency matrix, or a 1-D parameter vector.

    Returns
    -------
    float
        The distance (same units as the weights).

    Raises
    ------
    ValidationError
        If the two snapshots have different node sets or parameter counts.

    Notes
    -----
    Metric properties: weight-aware, sign-aware, scale-sensitive, relabel-sensitive.

    The paper's perturbation distance ``d(t) = Σ_i |w_i(t) - w̃_i(t)|`` (Danovski et al.
    2024). O(P).

    References
    ----------
    .. [1] K. Danovski, M. C. Soriano, L. Lacasa, "Dynamical stability and chaos in
       artificial neural network trajectories along training", Front. Complex Syst. 2
       (2024). doi:10.3389/fcpxs.2024.1367957

    Examples
    --------
    >>> l1_distance([1.0, -2.0], [0.0, 1.0])
    4.0
    """
    return _pair(a, b, "l1")


def l2_distance(a: Any, b: Any) -> float:
    """Euclidean distance between the parameter vectors.

    Parameters
    ----------
    a, b : GraphSeries, array or scipy.sparse matrix
        One snapshot each (see :func:`l1_distance`).

    Returns
    -------
    float
        ``sqrt(Σ_k (θ_a,k - θ_b,k)²)``.

    Raises
    ------
    ValidationError
        If the two snapshots have different node sets or parameter counts.

    Notes
    -----
    Metric properties: weight-aware, sign-aware, scale-sensitive, relabel-sensitive.

    Computed exactly from differences (never from Gram matrices), so distances of
    order 1e-8 between nearby training runs keep their digits. O(P).

    Examples
    --------
    >>> l2_distance([0.0, 0.0], [3.0, 4.0])
    5.0
    """
    return _pair(a, b, "l2")


def cosine_distance(a: Any, b: Any) -> float:
    """Cosine distance ``1 - cos(θ_a, θ_b)`` between the parameter vectors.

    Parameters
    ----------
    a, b : GraphSeries, array or scipy.sparse matrix
        One snapshot each (see :func:`l1_distance`).

    Returns
    -------
    float
        In [0, 2]; 0 for parallel vectors. NaN (with
        :class:`~graphtraj.exceptions.UndefinedResultWarning`) when exactly one vector
        is zero; 0 when both are.

    Raises
    ------
    ValidationError
        If the two snapshots have different node sets or parameter counts.

    Notes
    -----
    Metric properties: weight-aware, sign-aware, scale-invariant, relabel-sensitive.

    Computed as ``½ ‖θ_a/‖θ_a‖ - θ_b/‖θ_b‖‖²``, which equals ``1 - cos`` and is exactly
    0 for identical vectors. O(P).

    Examples
    --------
    >>> cosine_distance([1.0, 0.0], [0.0, 2.0])
    1.0
    """
    return _pair(a, b, "cosine")


def frobenius_distance(a: Any, b: Any) -> float:
    """Sum over layers of the Frobenius norms of the weight differences.

    ``d = Σ_l ‖W_l^a - W_l^b‖_F`` over the dense layers of a layered network (biases
    excluded: they are node attributes, not edges); for a general graph, the Frobenius
    norm of the difference of the adjacency matrices.

    Parameters
    ----------
    a, b : GraphSeries, array or scipy.sparse matrix
        One snapshot each (an (N, N) matrix or a one-snapshot series).

    Returns
    -------
    float
        The distance.

    Raises
    ------
    ValidationError
        If the snapshots have different node sets, or a plain vector is given.

    Notes
    -----
    Metric properties: weight-aware, sign-aware, scale-sensitive, relabel-sensitive.

    O(E).

    Examples
    --------
    >>> import numpy as np
    >>> frobenius_distance(np.eye(2), np.zeros((2, 2)))
    1.4142135623730951
    """
    return _pair(a, b, "frobenius")


def sign_hamming_distance(a: Any, b: Any) -> float:
    """Fraction of the fixed edge set whose edge sign (−, 0, +) differs.

    Parameters
    ----------
    a, b : GraphSeries or array or scipy.sparse matrix
        One snapshot each.

    Returns
    -------
    float
        In [0, 1].

    Raises
    ------
    ValidationError
        If the snapshots have different node sets, or a plain vector is given.

    Notes
    -----
    Metric properties: structure-only, sign-aware, scale-invariant, relabel-sensitive.

    ``d = (1/E) Σ_e [sign w_e^a ≠ sign w_e^b]`` over the E edges of the fixed edge set
    (layer pairs of a layered network; all ordered node pairs of a general graph).
    Biases are not edges. O(E).

    Examples
    --------
    >>> import numpy as np
    >>> a = np.array([[0, 1, -1], [0, 0, 2], [0, 0, 0]])
    >>> b = np.array([[0, 5, 1], [0, 0, 2], [0, 0, 0]])
    >>> sign_hamming_distance(a, b)   # 1 of 6 ordered pairs differs
    0.16666666666666666
    """
    return _pair(a, b, "sign_hamming")


def weighted_jaccard_distance(a: Any, b: Any) -> float:
    """Weighted Jaccard distance of the positive and negative edge weights.

    Each snapshot becomes the non-negative vector ``x = [max(w, 0), max(-w, 0)]`` over
    the fixed edge set; ``d = 1 - Σ min(x_a, x_b) / Σ max(x_a, x_b)``.

    Parameters
    ----------
    a, b : GraphSeries or array or scipy.sparse matrix
        One snapshot each.

    Returns
    -------
    float
        In [0, 1]; 0 when both graphs have no nonzero edge.

    Raises
    ------
    ValidationError
        If the snapshots have different node sets, or a plain vector is given.

    Notes
    -----
    Metric properties: weight-aware, sign-aware, scale-invariant, relabel-sensitive.

    The weighted Jaccard (Ruzicka) distance; an edge whose sign flips contributes
    nothing to the numerator. O(E).

    References
    ----------
    .. [1] S. Ioffe, "Improved consistent sampling, weighted minhash and L1 sketching",
       ICDM 2010. doi:10.1109/ICDM.2010.80

    Examples
    --------
    >>> import numpy as np
    >>> weighted_jaccard_distance(np.array([[0, 2], [0, 0]]), np.array([[0, 1], [0, 0]]))
    0.5
    """
    return _pair(a, b, "weighted_jaccard")


def strength_wasserstein_distance(a: Any, b: Any) -> float:
    """Wasserstein distance between node-strength distributions, ± parts separately.

    For each of the four profiles — in-strength and out-strength of the positive part
    ``max(w, 0)`` and of the negative part ``max(-w, 0)`` — the N node values form an
    empirical distribution; ``d`` is the sum of the four 1-Wasserstein distances.

    Parameters
    ----------
    a, b : GraphSeries or array or scipy.sparse matrix
        One snapshot each.

    Returns
    -------
    float
        The distance (units of weights).

    Raises
    ------
    ValidationError
        If the snapshots have different node sets, or a plain vector is given.

    Notes
    -----
    Metric properties: weight-aware, sign-aware, scale-sensitive, relabel-invariant.

    For two empirical distributions of N equally weighted atoms,
    ``W₁ = (1/N) Σ_k |x_(k) - y_(k)|`` over the sorted values. O(N²) per snapshot for
    the strengths, O(N log N) for the sort.

    References
    ----------
    .. [1] C. Villani, *Optimal Transport: Old and New*, Springer (2009), chap. 6.
       doi:10.1007/978-3-540-71050-9

    Examples
    --------
    >>> import numpy as np
    >>> strength_wasserstein_distance(np.array([[0, 2], [0, 0]]), np.array([[0, 1], [0, 0]]))
    1.0
    """
    return _pair(a, b, "strength_wasserstein")


def strength_js_distance(a: Any, b: Any) -> float:
    """Jensen–Shannon distance between node-strength shares, ± parts separately.

    Each of the four strength profiles (in/out × positive/negative part, see
    :func:`strength_wasserstein_distance`) is normalised to the share of the total
    strength held by each node, ``p_i = s_i / Σ_j s_j``; ``d`` is the mean over the four
    profiles of the Jensen–Shannon distance (base-2 logarithms).

    Parameters
    ----------
    a, b : GraphSeries or array or scipy.sparse matrix
        One snapshot each.

    Returns
    -------
    float
        In [0, 1]. A profile that is zero in both graphs contributes 0; one that is
        zero in exactly one graph makes the distance NaN (with
        :class:`~graphtraj.exceptions.UndefinedResultWarning`).

    Raises
    ------
    ValidationError
        If the snapshots have different node sets, or a plain vector is given.

    Notes
    -----
    Metric properties: weight-aware, sign-aware, scale-invariant, relabel-sensitive.

    ``JS(p, q) = sqrt(½ KL(p‖m) + ½ KL(q‖m))`` with ``m = (p + q)/2`` and KL in bits
    (Endres & Schindelin 2003). O(N²) per snapshot.

    References
    ----------
    .. [1] D. M. Endres, J. E. Schindelin, "A new metric for probability
       distributions", IEEE Trans. Inf. Theory 49, 1858 (2003).
       doi:10.1109/TIT.2003.813506

    Examples
    --------
    >>> import numpy as np
    >>> a = np.array([[0, 1, 0], [0, 0, 0], [0, 0, 0]])
    >>> b = np.array([[0, 0, 0], [0, 0, 0], [1, 0, 0]])
    >>> strength_js_distance(a, b)   # disjoint in- and out-shares: 2 of 4 profiles at 1
    0.5
    """
    return _pair(a, b, "strength_js")


def singular_value_distance(a: Any, b: Any) -> float:
    """Distance between the singular-value spectra of the layers.

    ``d = Σ_l ‖σ(W_l^a) - σ(W_l^b)‖₂`` with singular values in descending order, over
    the dense layers of a layered network; for a general graph, of its adjacency
    matrix. A layered network's adjacency is nilpotent (all eigenvalues zero), so its
    singular values are its natural spectrum.

    Parameters
    ----------
    a, b : GraphSeries or array or scipy.sparse matrix
        One snapshot each.

    Returns
    -------
    float
        The distance.

    Raises
    ------
    ValidationError
        If the snapshots have different node sets, or a plain vector is given.

    Notes
    -----
    Metric properties: weight-aware, sign-aware, scale-sensitive, relabel-invariant.

    Singular values are invariant under permutations of rows and columns (any
    relabelling of neurons) but not under flipping the sign of a single weight.
    Batched SVD, O(Σ_l m_l n_l min(m_l, n_l)) per snapshot.

    Examples
    --------
    >>> import numpy as np
    >>> singular_value_distance(np.diag([3.0, 1.0]), np.diag([1.0, 3.0]))
    0.0
    """
    return _pair(a, b, "singular_values")


def laplacian_spectral_distance(a: Any, b: Any) -> float:
    """Euclidean distance between the Laplacian spectra of the symmetrized ``|W|`` graphs.

    Parameters
    ----------
    a, b : GraphSeries or array or scipy.sparse matrix
        One snapshot each.

    Returns
    -------
    float
        ``‖λ(L_a) - λ(L_b)‖₂`` with eigenvalues in ascending order.

    Raises
    ------
    ValidationError
        If the snapshots have different node sets, or a plain vector is given.

    Notes
    -----
    Metric properties: weight-aware, sign-blind, scale-sensitive, relabel-invariant.

    ``L = D - S`` with ``S`` the symmetrized ``|W|`` (module docstring) and ``D`` its
    strengths. Signs are dropped explicitly by taking ``|w|`` (the plain Laplacian of a
    signed graph is not positive semi-definite). Dense ``eigvalsh``, O(N³) per
    snapshot. Disconnected graphs are fine (one zero eigenvalue per component).

    References
    ----------
    .. [1] P. Wills, F. G. Meyer, "Metrics for graph comparison: a practitioner's
       guide", PLoS ONE 15, e0228728 (2020). doi:10.1371/journal.pone.0228728

    Examples
    --------
    >>> import numpy as np
    >>> path = np.array([[0, 1, 0], [1, 0, 1], [0, 1, 0]])  # spectrum 0, 1, 3
    >>> tri = np.ones((3, 3)) - np.eye(3)                    # spectrum 0, 3, 3
    >>> laplacian_spectral_distance(path, tri)
    2.0
    """
    return _pair(a, b, "laplacian")


def heat_trace_distance(a: Any, b: Any) -> float:
    """NetLSD-style distance between heat-trace signatures.

    ``h(t) = tr exp(-t 𝓛) = Σ_j exp(-t μ_j)`` of the normalized Laplacian
    ``𝓛 = I - D^{-1/2} S D^{-1/2}`` of the symmetrized ``|W|``, sampled at the 64
    log-spaced times :data:`HEAT_TIMES` in [10⁻², 10²]; ``d = ‖h_a - h_b‖₂``.

    Parameters
    ----------
    a, b : GraphSeries or array or scipy.sparse matrix
        One snapshot each.

    Returns
    -------
    float
        The distance (dimensionless).

    Raises
    ------
    ValidationError
        If the snapshots have different node sets, or a plain vector is given.

    Notes
    -----
    Metric properties: weight-aware, sign-blind, scale-invariant, relabel-invariant.

    The normalized Laplacian does not change when all weights are scaled, hence scale
    invariance. Isolated nodes contribute eigenvalue 0 (an all-zero row). No
    signature normalisation is applied (NetLSD's "none" option). O(N³) per snapshot.

    References
    ----------
    .. [1] A. Tsitsulin, D. Mottin, P. Karras, A. Bronstein, E. Müller, "NetLSD:
       hearing the shape of a graph", KDD 2018, Eq. (3). doi:10.1145/3219819.3219991

    Examples
    --------
    >>> import numpy as np
    >>> tri = np.ones((3, 3)) - np.eye(3)
    >>> heat_trace_distance(tri, 7.0 * tri)
    0.0
    """
    return _pair(a, b, "heat_trace")


def deltacon_distance(a: Any, b: Any) -> float:
    """DeltaCon (root Euclidean) distance between node affinities of symmetrized ``|W|``.

    ``S = [I + ε² D - ε A]⁻¹`` is the fast-belief-propagation affinity matrix of the
    undirected graph ``A`` (symmetrized ``|W|``) with ``ε = 1/(1 + max_i d_i)`` computed for
    each graph; ``d = sqrt(Σ_ij (sqrt S^a_ij - sqrt S^b_ij)²)``.

    Parameters
    ----------
    a, b : GraphSeries or array or scipy.sparse matrix
        One snapshot each.

    Returns
    -------
    float
        The distance; the DeltaCon similarity is ``1 / (1 + d)``.

    Raises
    ------
    ValidationError
        If the snapshots have different node sets, or a plain vector is given.

    Notes
    -----
    Metric properties: weight-aware, sign-blind, scale-sensitive, relabel-sensitive.

    Koutra et al. (2016) Eqs. (2) and (4)–(5): exact inverse (no power-series
    truncation), O(N³) per snapshot. The chosen ε makes ``I + ε² D - ε A`` strictly
    diagonally dominant, so ``S`` is entry-wise non-negative and the inverse exists
    for every graph, disconnected or empty.

    References
    ----------
    .. [1] D. Koutra, N. Shah, J. T. Vogelstein, B. Gallagher, C. Faloutsos,
       "DeltaCon: principled massive-graph similarity function with attribution",
       ACM TKDD 10, 28 (2016). doi:10.1145/2824443

    Examples
    --------
    >>> import numpy as np
    >>> tri = np.ones((3, 3)) - np.eye(3)
    >>> deltacon_distance(tri, tri)
    0.0
    """
    return _pair(a, b, "deltacon")


def aligned_l1_distance(a: Any, b: Any) -> float:
    """L1 distance modulo relabelling of hidden units — exact, one hidden layer.

    ``d = min_π Σ_k |θ_a,k - (π θ_b)_k|`` over all permutations π of the hidden
    units of ``b`` (rows of the first layer's weights and biases together with the
    columns of the second layer's weights). Two networks that differ only by such a
    relabelling compute the same function and are at distance 0.

    Parameters
    ----------
    a, b : GraphSeries
        One-snapshot layered series with exactly one hidden layer.

    Returns
    -------
    float
        The distance; ``0 <= d <= l1_distance(a, b)``.

    Raises
    ------
    ValidationError
        If the snapshots are not layered series with the same layer sizes.
    UnsupportedModelError
        For networks with more than one hidden layer; use
        ``"aligned_l1_layerwise"`` (approximation) there.

    Notes
    -----
    Metric properties: weight-aware, sign-aware, scale-sensitive, relabel-invariant.

    The L1 norm decomposes over hidden units, so the minimum is a linear assignment
    problem on the cost ``C_jk = ‖u_j^a - u_k^b‖₁`` between the units' vectors
    ``u = (incoming weights, bias, outgoing weights)``, solved exactly by
    :func:`scipy.optimize.linear_sum_assignment` in O(h³). A T×T matrix costs
    T²/2 assignments.

    References
    ----------
    .. [1] S. K. Ainsworth, J. Hayase, S. Srinivasa, "Git Re-Basin: merging models
       modulo permutation symmetries", ICLR 2023. arXiv:2209.04836

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> gs = GraphSeries.from_layers([0], [rng.normal(size=(1, 5, 4)), rng.normal(size=(1, 3, 5))])
    >>> relabelled = gs.permute_nodes(np.r_[0:4, 4 + rng.permutation(5), 9:12])
    >>> aligned_l1_distance(gs, relabelled)
    0.0
    """
    return _pair(a, b, "aligned_l1")


def aligned_l1_layerwise_distance(a: Any, b: Any) -> float:
    """L1 distance after layer-by-layer hidden-unit alignment — an approximation.

    Hidden layers are aligned first to last (:func:`~graphtraj.measures.hidden_permutations`):
    each by an exact assignment given the alignment of the previous layer, with the
    outgoing weights into a further hidden layer summarised by their sorted values.
    The result is ``min(d(a, b aligned to a), d(b, a aligned to b))``.

    Parameters
    ----------
    a, b : GraphSeries
        One-snapshot layered series with the same layer sizes (any depth).

    Returns
    -------
    float
        An upper bound of the exact aligned distance; equal to
        :func:`aligned_l1_distance` for one hidden layer.

    Raises
    ------
    ValidationError
        If the snapshots are not layered series with the same layer sizes.

    Notes
    -----
    Metric properties: weight-aware, sign-aware, scale-sensitive, relabel-invariant.

    With two or more hidden layers the joint minimum over all layers' permutations is
    a hard (quadratic assignment) problem; the layer-by-layer greedy solution is the
    usual approximation ("weight matching", Ainsworth et al. 2023). Relabelling
    invariance holds up to ties between equal-cost assignments. O(Σ_l h_l³) per pair.

    References
    ----------
    .. [1] S. K. Ainsworth, J. Hayase, S. Srinivasa, "Git Re-Basin: merging models
       modulo permutation symmetries", ICLR 2023. arXiv:2209.04836

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> ws = [rng.normal(size=(1, 4, 3)), rng.normal(size=(1, 4, 4)), rng.normal(size=(1, 2, 4))]
    >>> gs = GraphSeries.from_layers([0], ws)
    >>> order = np.r_[0:3, 3 + rng.permutation(4), 7 + rng.permutation(4), 11:13]
    >>> aligned_l1_layerwise_distance(gs, gs.permute_nodes(order))
    0.0
    """
    return _pair(a, b, "aligned_l1_layerwise")


def aligned_l1_chained_distance(a: Any, b: Any) -> float:
    """L1 distance after chained hidden-unit alignment along a trajectory.

    In a distance matrix every snapshot is first relabelled to match the previous,
    already aligned snapshot (:func:`~graphtraj.measures.chain_align`), then plain L1
    distances are taken. For a pair ``(a, b)`` the chain has one link: ``b`` is aligned
    to ``a`` layer by layer.

    Parameters
    ----------
    a, b : GraphSeries
        One-snapshot layered series with the same layer sizes.

    Returns
    -------
    float
        The distance.

    Raises
    ------
    ValidationError
        If the snapshots are not layered series with the same layer sizes.

    Notes
    -----
    Metric properties: weight-aware, sign-aware, scale-sensitive, relabel-invariant.

    A different, cheaper approximation than :func:`aligned_l1_distance`: T - 1
    assignments for a T×T matrix instead of T²/2. Entries far from the diagonal are
    upper bounds of the pairwise-aligned distance. For more than one hidden layer the
    pair value aligns ``b`` to ``a`` only, so ``d(a, b)`` and ``d(b, a)`` may differ;
    distance matrices are symmetric by construction.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> gs = GraphSeries.from_layers([0], [rng.normal(size=(1, 5, 4)), rng.normal(size=(1, 3, 5))])
    >>> aligned_l1_chained_distance(gs, gs.permute_nodes(np.r_[0:4, 4 + rng.permutation(5), 9:12]))
    0.0
    """
    return _pair(a, b, "aligned_l1_chained")


def _info(name, function, flags, **kw) -> MetricInfo:
    weighted, signed, scale, relabel = flags
    return MetricInfo(name, function, weighted, signed, scale, relabel, **kw)


#: The registry: metric name → :class:`MetricInfo`.
METRICS: dict[str, MetricInfo] = {
    m.name: m
    for m in (
        _info("l1", l1_distance, (True, True, False, False), vector=True, features=_f_l1),
        _info("l2", l2_distance, (True, True, False, False), vector=True, features=_f_l2),
        _info("cosine", cosine_distance, (True, True, True, False), vector=True,
              features=_f_cosine),
        _info("frobenius", frobenius_distance, (True, True, False, False),
              features=_f_frobenius),
        _info("sign_hamming", sign_hamming_distance, (False, True, True, False),
              features=_f_sign_hamming),
        _info("weighted_jaccard", weighted_jaccard_distance, (True, True, True, False),
              features=_f_jaccard),
        _info("strength_wasserstein", strength_wasserstein_distance,
              (True, True, False, True), features=_f_wasserstein),
        _info("strength_js", strength_js_distance, (True, True, True, False),
              features=_f_js),
        _info("singular_values", singular_value_distance, (True, True, False, True),
              features=_f_singular),
        _info("laplacian", laplacian_spectral_distance, (True, False, False, True),
              features=_f_laplacian),
        _info("heat_trace", heat_trace_distance, (True, False, True, True),
              features=_f_heat),
        _info("deltacon", deltacon_distance, (True, False, False, False),
              features=_f_deltacon),
        _info("aligned_l1", aligned_l1_distance, (True, True, False, True),
              layered_only=True, kind="aligned"),
        _info("aligned_l1_layerwise", aligned_l1_layerwise_distance,
              (True, True, False, True), layered_only=True, kind="aligned_layerwise"),
        _info("aligned_l1_chained", aligned_l1_chained_distance,
              (True, True, False, True), layered_only=True, kind="aligned_chained"),
    )
}
