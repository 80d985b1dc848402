"""Tests for graphtraj.measures.metrics: the registry contract and each metric's oracle."""

import importlib.util
import pathlib
import re
import warnings

import networkx as nx
import numpy as np
import pytest
import scipy.linalg
from scipy.spatial.distance import cityblock, cosine, euclidean, jensenshannon
from scipy.stats import wasserstein_distance

from graphtraj.exceptions import UndefinedResultWarning
from graphtraj.measures import METRICS, distance
from graphtraj.measures.metrics import HEAT_TIMES

_spec = importlib.util.spec_from_file_location("h4_graphs", pathlib.Path(__file__).with_name("graphs.py"))
graphs = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(graphs)

_WORDS = {
    "weighted": ("weight-aware", "structure-only"),
    "signed": ("sign-aware", "sign-blind"),
    "scale_invariant": ("scale-invariant", "scale-sensitive"),
    "relabel_invariant": ("relabel-invariant", "relabel-sensitive"),
}


def _applicable(info, series):
    if info.layered_only and not series.is_layered:
        return False
    if info.name == "aligned_l1" and series.is_layered and len(series.layer_sizes) != 3:
        return False
    return True


def _d(name, series, i=0, j=1):
    return distance(series[i], series[j], metric=name)


def _same(a, b):
    return np.isclose(a, b, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("name", sorted(METRICS))
def test_docstring_properties_equal_registry_flags(name):
    """Each metric's 'Metric properties:' line states exactly its registry flags."""
    info = METRICS[name]
    m = re.search(r"Metric properties: ([^.]*)\.", info.function.__doc__)
    assert m, f"{name} has no 'Metric properties:' line"
    words = [w.strip() for w in m.group(1).split(",")]
    expected = [_WORDS[f][0] if getattr(info, f) else _WORDS[f][1] for f in _WORDS]
    assert words == expected
    for section in ("Parameters", "Returns", "Raises", "Notes", "Examples"):
        assert section in info.function.__doc__


@pytest.mark.parametrize("name", sorted(METRICS))
def test_registry_contract(name):
    """d(G,G)=0, symmetry, non-negativity and finiteness on every field graph; the
    relabel, scale, sign and weight flags hold exactly as documented."""
    info = METRICS[name]
    rng = np.random.default_rng(7)
    for label, gs in graphs.field_pairs(rng):
        if not _applicable(info, gs):
            continue
        d = _d(name, gs)
        assert np.isfinite(d) and d >= 0, (label, d)
        # equal strength sequences (all 2) make strength metrics 0 on C15's pair
        assert d > 0 or label == "triangles_vs_cycle", (label, d)
        assert distance(gs[0], gs[0], metric=name) == 0.0
        assert distance(gs[1], gs[1], metric=name) == 0.0
        if not (name == "aligned_l1_chained" and len(gs.layer_sizes or ()) > 3):
            assert _same(_d(name, gs, 1, 0), d), label
        if label in ("triangles_vs_cycle",):
            continue  # symmetric unit-weight graphs: flags are checked on random ones
        # relabelling hidden neurons (all nodes for general graphs) of one snapshot
        order = graphs.hidden_relabel(gs, rng)
        relabelled = gs.permute_nodes(order)
        d_rel = distance(relabelled[0], gs[1], metric=name)
        assert _same(d_rel, d) == info.relabel_invariant, (label, d, d_rel)
        # scaling every weight and bias of both snapshots by c
        scaled = graphs.transformed(gs, lambda w: 2.5 * w)
        assert _same(_d(name, scaled), d) == info.scale_invariant, label
        # flipping the sign (or changing the magnitude) of one weight of snapshot 0,
        # for several weights: "aware" metrics change for some, "blind" ones for none
        for op, flag in ((-1.0, info.signed), (1.7, info.weighted)):
            changed = [
                not _same(_d(name, graphs.transformed(gs, _first_only(_edit(k, op)), _keep)), d)
                for k in range(4)
            ]
            assert any(changed) == flag and (flag or not any(changed)), (label, op, changed)


def _keep(x):
    return x


def _edit(k, factor):
    """Multiply the k-th weight that is nonzero in both snapshots by ``factor``."""
    def fn(w):
        idx = tuple(np.argwhere((w[0] != 0) & (w[1] != 0))[k])
        w[(0, *idx)] *= factor
        return w

    return fn


def _first_only(fn):
    """Apply ``fn`` to the first weight array only (the first layer of an MLP)."""
    state = {"done": False}

    def g(w):
        if state["done"]:
            return w
        state["done"] = True
        return fn(w)

    return g


def test_relabel_invariant_metrics_ignore_any_node_permutation(rng):
    """On general graphs, relabel-invariant metrics give d(PGPᵀ, G) = 0."""
    gs = graphs.signed_directed_pair(rng, n=7)
    perm = rng.permutation(7)
    moved = gs.permute_nodes(perm)
    for name, info in METRICS.items():
        if info.layered_only:
            continue
        d = distance(gs[0], moved[0], metric=name)
        assert (abs(d) < 1e-10) == info.relabel_invariant, name


# ------------------------------------------------------------- per-metric oracles
def _pair_general(rng):
    return graphs.signed_directed_pair(rng, n=6)


def test_weight_space_metrics_match_scipy(rng):
    """l1, l2 and cosine equal scipy's cityblock, euclidean and cosine on the vectors."""
    gs = graphs.layered_pair(rng)
    a, b = gs.vectors()
    assert np.isclose(_d("l1", gs), cityblock(a, b), rtol=1e-13)
    assert np.isclose(_d("l2", gs), euclidean(a, b), rtol=1e-13)
    assert np.isclose(_d("cosine", gs), cosine(a, b), rtol=1e-10)
    assert np.isclose(distance(a, b, "l1"), cityblock(a, b), rtol=1e-13)


def test_frobenius_hamming_jaccard_match_naive(rng):
    """Per-layer Frobenius, sign Hamming and weighted Jaccard equal their definitions."""
    gs = graphs.layered_pair(rng, sizes=(3, 5, 2))
    fro = sum(np.linalg.norm(x[0] - x[1]) for x in gs.layers)
    assert np.isclose(_d("frobenius", gs), fro, rtol=1e-13)
    g = _pair_general(rng)
    wa, wb = g.dense()
    off = ~np.eye(6, dtype=bool)
    ham = np.mean(np.sign(wa[off]) != np.sign(wb[off]))  # absent vs present counts
    assert 0 < ham < 1 and _d("sign_hamming", g) == ham
    x, y = wa[off], wb[off]
    xp = np.r_[np.maximum(x, 0), np.maximum(-x, 0)]
    yp = np.r_[np.maximum(y, 0), np.maximum(-y, 0)]
    jac = 1 - np.minimum(xp, yp).sum() / np.maximum(xp, yp).sum()
    assert np.isclose(_d("weighted_jaccard", g), jac, rtol=1e-12)
    assert np.isclose(_d("frobenius", g), np.linalg.norm(wa - wb), rtol=1e-13)


def _strength_profiles(w):
    pos, neg = np.maximum(w, 0), np.maximum(-w, 0)
    return [pos.sum(0), neg.sum(0), pos.sum(1), neg.sum(1)]


def test_strength_distances_match_scipy(rng):
    """Wasserstein = Σ scipy.stats.wasserstein_distance; JS = mean scipy jensenshannon."""
    g = _pair_general(rng)
    wa, wb = g.dense()
    pa, pb = _strength_profiles(wa), _strength_profiles(wb)
    wass = sum(wasserstein_distance(x, y) for x, y in zip(pa, pb, strict=True))
    assert np.isclose(_d("strength_wasserstein", g), wass, rtol=1e-12)
    js = np.mean([jensenshannon(x / x.sum(), y / y.sum(), base=2) for x, y in zip(pa, pb, strict=True)])
    assert np.isclose(_d("strength_js", g), js, rtol=1e-10)


def test_strength_js_zero_profile_conventions():
    """A profile zero in both graphs adds 0; zero in only one gives NaN with a warning."""
    a = np.array([[0, 1.0], [0, 0]])
    assert distance(a, 2 * a, "strength_js") == 0.0
    b = np.array([[0, -1.0], [0, 0]])
    with pytest.warns(UndefinedResultWarning, match="Jensen"):
        assert np.isnan(distance(a, b, "strength_js"))
    with pytest.warns(UndefinedResultWarning, match="cosine"):
        assert np.isnan(distance(np.zeros(3), np.ones(3), "cosine"))
    assert distance(np.zeros(3), np.zeros(3), "cosine") == 0.0
    assert distance(np.zeros((2, 2)), np.zeros((2, 2)), "weighted_jaccard") == 0.0


def test_spectral_distances_match_networkx_and_expm(rng):
    """Singular-value, Laplacian and heat-trace distances from independent oracles."""
    g = _pair_general(rng)
    wa, wb = g.dense()
    sv = np.linalg.norm(np.linalg.svd(wa, compute_uv=False) - np.linalg.svd(wb, compute_uv=False))
    assert np.isclose(_d("singular_values", g), sv, rtol=1e-12)

    def nxgraph(w):
        s = np.abs(w) + np.abs(w).T
        return nx.from_numpy_array(s)

    la = np.sort(nx.laplacian_spectrum(nxgraph(wa)))
    lb = np.sort(nx.laplacian_spectrum(nxgraph(wb)))
    assert np.isclose(_d("laplacian", g), np.linalg.norm(la - lb), rtol=1e-10)

    def heat(w):
        nl = nx.normalized_laplacian_matrix(nxgraph(w)).toarray()
        return np.array([np.trace(scipy.linalg.expm(-t * nl)) for t in HEAT_TIMES])

    assert np.isclose(_d("heat_trace", g), np.linalg.norm(heat(wa) - heat(wb)), rtol=1e-8)


def test_layered_singular_values_are_per_layer(rng):
    """For layered networks the spectral distance sums per-layer SV distances."""
    gs = graphs.layered_pair(rng)
    ref = sum(
        np.linalg.norm(np.linalg.svd(w[0], compute_uv=False) - np.linalg.svd(w[1], compute_uv=False))
        for w in gs.layers
    )
    assert np.isclose(_d("singular_values", gs), ref, rtol=1e-12)


def test_deltacon_matches_naive_formula(rng):
    """DeltaCon equals the root-ED of sqrt FaBP affinities computed pair by pair."""
    g = _pair_general(rng)

    def affinity(w):
        s = np.abs(w) + np.abs(w).T
        d = np.diag(s.sum(1))
        eps = 1 / (1 + s.sum(1).max())
        return np.linalg.inv(np.eye(len(s)) + eps**2 * d - eps * s)

    wa, wb = g.dense()
    sa, sb = affinity(wa), affinity(wb)
    assert sa.min() >= 0 and sb.min() >= 0
    ref = np.sqrt(((np.sqrt(sa) - np.sqrt(sb)) ** 2).sum())
    assert np.isclose(_d("deltacon", g), ref, rtol=1e-10)


def test_spectral_metrics_of_known_graphs():
    """Path P3 (0,1,3) vs triangle (0,3,3): Laplacian distance 2; heat trace ignores scale."""
    path = np.array([[0, 1, 0], [1, 0, 1], [0, 1, 0]])
    tri = np.ones((3, 3)) - np.eye(3)
    assert np.isclose(distance(path, tri, "laplacian"), 2.0, rtol=1e-12)
    assert np.isclose(distance(tri, 5 * tri, "laplacian"), np.linalg.norm([0, 12, 12]), rtol=1e-12)
    assert distance(tri, 5 * tri, "heat_trace") < 1e-12
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert np.isfinite(distance(np.zeros((3, 3)), tri, "deltacon"))
