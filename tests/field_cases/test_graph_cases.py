"""Field cases C14–C17 (graph distances and spectra) from shared/cases/CASES.md."""

import re
import warnings

import networkx as nx
import numpy as np
import pytest

from graphtraj.exceptions import (
    ConvergenceWarning,
    GraphTrajError,
    UndefinedResultWarning,
    ValidationError,
)
from graphtraj.measures import (
    METRICS,
    algebraic_connectivity,
    distance,
    distance_matrix,
    laplacian_spectrum,
    motif_stats,
    spectral_stats,
)
from graphtraj.snapshots import GraphSeries


def _paper_pair(rng):
    ws = [rng.normal(size=(2, 10, 4)), rng.normal(size=(2, 3, 10))]
    bs = [rng.normal(size=(2, 10)), rng.normal(size=(2, 3))]
    return GraphSeries.from_layers([0, 1], ws, bs)


def _scaled(gs, c):
    if gs.is_layered:
        return GraphSeries.from_layers(gs.times, [c * w for w in gs.layers], [c * b for b in gs.biases])
    return GraphSeries.from_adjacency(gs.times, c * gs.dense())


@pytest.mark.parametrize("c", [0.5, 3.0])
def test_c14_weights_are_never_silently_dropped(rng, c):
    """C14: every metric declares weights/signs/scale; scaling all weights by c changes
    exactly the scale-sensitive metrics, on the paper's network and a weighted digraph."""
    general = rng.normal(size=(2, 6, 6)) * (1 - np.eye(6))
    for gs in (_paper_pair(rng), GraphSeries.from_adjacency([0, 1], general)):
        sc = _scaled(gs, c)
        for name, info in METRICS.items():
            doc = info.function.__doc__
            assert re.search(r"(weight-aware|structure-only), (sign-aware|sign-blind), "
                             r"(scale-invariant|scale-sensitive), (relabel-\w+)\.", doc), name
            if info.layered_only and not gs.is_layered:
                continue
            d0 = distance(gs[0], gs[1], name)
            d1 = distance(sc[0], sc[1], name)
            assert np.isclose(d0, d1, rtol=1e-9, atol=1e-12) == info.scale_invariant, name
            if info.weighted:  # a weight-aware metric sees a change of magnitude only
                w = gs.dense()
                k = tuple(np.argwhere((w[0] != 0) & (w[1] != 0))[0])
                if gs.is_layered:
                    layers = [x.copy() for x in gs.layers]
                    layers[0][0, 0, 0] *= 1.5
                    g2 = GraphSeries.from_layers(gs.times, layers, gs.biases)
                else:
                    w[(0, *k)] *= 1.5
                    g2 = GraphSeries.from_adjacency(gs.times, w)
                assert distance(g2[0], g2[1], name) != d0, name


def _c15_graphs(directed=False):
    tri = nx.to_numpy_array(nx.disjoint_union(nx.complete_graph(3), nx.complete_graph(3)))
    cyc = nx.to_numpy_array(nx.cycle_graph(6))
    if directed:
        tri, cyc = np.triu(tri), np.triu(cyc)
        cyc[5, 0], cyc[0, 5] = 1.0, 0.0
    return GraphSeries.from_adjacency([0, 1], np.stack([tri, cyc]), directed=directed or None)


@pytest.mark.parametrize("directed", [False, True])
def test_c15_disconnected_and_directed_graphs(directed):
    """C15: two disjoint triangles vs a 6-cycle: each metric is finite or raises our
    documented error, never a silent NaN; d(G, G) = 0 for the disconnected G."""
    gs = _c15_graphs(directed)
    assert gs.directed == directed
    for name, info in METRICS.items():
        if info.layered_only:
            with pytest.raises(ValidationError, match="layered GraphSeries"):
                distance(gs[0], gs[1], name)
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # no NaN-with-warning either
            d = distance(gs[0], gs[1], name)
            assert np.isfinite(d) and d >= 0, name
            assert distance(gs[0], gs[0], name) == 0.0, name
    st = spectral_stats(gs)
    assert st.algebraic_connectivity[0] == pytest.approx(0.0, abs=1e-12)
    assert st.algebraic_connectivity[1] == pytest.approx(1.0, abs=1e-12)  # C6: 2 - 2cos(pi/3)
    with pytest.warns(UndefinedResultWarning, match="no triangle"):  # the 6-cycle: NaN coherence
        ms = motif_stats(gs)
    assert ms.triangle_count.tolist() == [2.0, 0.0]
    assert np.isnan(ms.triangle_coherence[1])
    if not directed:
        # the two graphs share every strength and the adjacency spectrum's radius (2)
        np.testing.assert_allclose(st.spectral_radius, [2.0, 2.0])


@pytest.mark.parametrize("seed", range(6))
def test_c16_eigensolver_is_capped_and_matches_dense(seed):
    """C16: algebraic connectivity of random 5-regular graphs on 100 nodes: the capped
    iterative solver (and its fallback) agrees with dense eigvalsh to 1e-8."""
    a = nx.to_numpy_array(nx.random_regular_graph(5, 100, seed=seed))
    dense = np.linalg.eigvalsh(np.diag(a.sum(1)) - a)[1]
    it = algebraic_connectivity(a, method="iterative")
    assert abs(it - dense) < 1e-8
    assert abs(algebraic_connectivity(a) - dense) < 1e-12  # small graph: dense path
    with pytest.warns(ConvergenceWarning, match="maxiter=2"):
        fb = algebraic_connectivity(a, method="iterative", maxiter=2)
    assert abs(fb - dense) < 1e-8


def test_c17_signed_weights_in_a_laplacian():
    """C17: triangle 0–1 = +1, 1–2 = +1, 0–2 = −1: the default Laplacian refuses the
    negative weight, |w| is an explicit option, the signed Laplacian gives [1, 1, 4]."""
    a = np.array([[0, 1, -1], [1, 0, 1], [-1, 1, 0]], dtype=float)
    with pytest.raises(ValidationError, match="non-negative weights.*kind='signed'"):
        laplacian_spectrum(a)
    with pytest.raises(GraphTrajError, match="negative='abs'"):
        laplacian_spectrum(a, kind="normalized")
    np.testing.assert_allclose(laplacian_spectrum(a, kind="signed"), [1.0, 1.0, 4.0], atol=1e-14)
    np.testing.assert_allclose(laplacian_spectrum(a, negative="abs"), [0.0, 3.0, 3.0], atol=1e-14)
    # the spectral statistics use the documented |W| transform: never a negative eigenvalue
    st = spectral_stats(GraphSeries.from_adjacency([0], a[None]))
    assert st.params["symmetrization"] == "|W|"
    assert st.laplacian_spectrum.min() > -1e-12
    np.testing.assert_allclose(st.laplacian_spectrum[0], [0.0, 3.0, 3.0], atol=1e-14)


#: Metrics homogeneous of degree 1 in the weights: d(cA, cB) = c d(A, B) for c > 0.
_HOMOGENEOUS = {"l1", "l2", "frobenius", "strength_wasserstein", "singular_values", "laplacian",
                "aligned_l1", "aligned_l1_layerwise", "aligned_l1_chained"}


@pytest.mark.parametrize("c", [2.0**-600, 2.0**600, 1e-200, 1e200])
def test_c14_extreme_weight_scales(rng, c):
    """C14 at extreme scales. Hypothesis: multiplying every weight by c = 1e±200 (or
    2^±600) leaves each scale-invariant metric unchanged and multiplies each
    degree-1-homogeneous one by exactly c — squares of the differences must not
    underflow to 0 or overflow to inf on the way (l2, Frobenius, spectra), and the
    cosine's norms must not turn the vectors into 'zero vectors'."""
    general = rng.normal(size=(2, 6, 6)) * (1 - np.eye(6))
    for gs in (_paper_pair(rng), GraphSeries.from_adjacency([0, 1], general)):
        sc = _scaled(gs, c)
        for name, info in METRICS.items():
            if info.layered_only and not gs.is_layered:
                continue
            d0 = distance(gs[0], gs[1], name)
            with warnings.catch_warnings():
                warnings.simplefilter("error")
                d1 = distance(sc[0], sc[1], name)
            if info.scale_invariant:
                assert d1 == pytest.approx(d0, rel=1e-9, abs=1e-12), name
            elif name in _HOMOGENEOUS:
                assert d1 == pytest.approx(c * d0, rel=1e-9), name
            else:
                assert np.isfinite(d1), name
    x = rng.normal(size=(5, 7))
    for name in ("l1", "l2", "cosine"):
        want = distance_matrix(x, name)
        got = distance_matrix(c * x, name)
        np.testing.assert_allclose(got, want if name == "cosine" else c * want, rtol=1e-12)
