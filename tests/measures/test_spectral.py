"""Tests for graphtraj.measures.spectral."""

import networkx as nx
import numpy as np
import pytest

from graphtraj.exceptions import (
    UndefinedResultWarning,
    UnknownOptionError,
    ValidationError,
)
from graphtraj.measures import algebraic_connectivity, laplacian_spectrum, spectral_stats
from graphtraj.snapshots import GraphSeries


@pytest.mark.parametrize("n", [2, 5, 8])
def test_path_and_cycle_laplacian_spectra(n):
    """Paths give 2 - 2cos(pi k/n), cycles 2 - 2cos(2 pi k/n) (k = 0..n-1)."""
    k = np.arange(n)
    path = nx.to_numpy_array(nx.path_graph(n))
    np.testing.assert_allclose(laplacian_spectrum(path), np.sort(2 - 2 * np.cos(np.pi * k / n)),
                               atol=1e-12)
    if n >= 3:
        cyc = nx.to_numpy_array(nx.cycle_graph(n))
        st = spectral_stats(GraphSeries.from_adjacency([0], cyc[None]))
        np.testing.assert_allclose(st.laplacian_spectrum[0],
                                   np.sort(2 - 2 * np.cos(2 * np.pi * k / n)), atol=1e-12)
        assert np.isclose(st.algebraic_connectivity[0], 2 - 2 * np.cos(2 * np.pi / n), atol=1e-12)
        assert np.isclose(st.spectral_radius[0], 2.0, atol=1e-12)


def test_layer_statistics_match_per_snapshot_definitions(rng):
    """Singular values, spectral norm, stable and effective rank per layer and snapshot."""
    ws = [rng.normal(size=(4, 6, 3)), rng.normal(size=(4, 2, 6))]
    gs = GraphSeries.from_layers(np.arange(4), ws, [rng.normal(size=(4, 6)), rng.normal(size=(4, 2))])
    st = spectral_stats(gs)
    assert st.layer_names == ("layers.0", "layers.1")
    for t in range(4):
        for li, w in enumerate(ws):
            sv = np.linalg.svd(w[t], compute_uv=False)
            np.testing.assert_allclose(st.singular_values[li][t], sv, rtol=1e-12)
            assert np.isclose(st.spectral_norm[t, li], np.linalg.norm(w[t], 2), rtol=1e-12)
            assert np.isclose(st.stable_rank[t, li], np.linalg.norm(w[t]) ** 2 / sv[0] ** 2, rtol=1e-12)
            p = sv / sv.sum()
            assert np.isclose(st.effective_rank[t, li], np.exp(-(p * np.log(p)).sum()), rtol=1e-12)
        g = nx.Graph()
        g.add_nodes_from(range(gs.n_nodes))
        for (s, d), x in zip(gs.edge_index, gs.edge_weights(t)[0], strict=True):
            g.add_edge(int(s), int(d), weight=abs(x))
        np.testing.assert_allclose(st.adjacency_spectrum[t], np.sort(nx.adjacency_spectrum(g).real), atol=1e-10)
        np.testing.assert_allclose(st.laplacian_spectrum[t], np.sort(nx.laplacian_spectrum(g)), atol=1e-10)
        assert np.isclose(st.spectral_radius[t], np.abs(nx.adjacency_spectrum(g)).max(), rtol=1e-10)
    assert st.params["method"] == "dense"


def test_effective_rank_of_known_matrices():
    """Identity of size k has effective rank k and stable rank k; rank one gives 1."""
    eye = np.eye(3)[None]
    one = np.outer([1.0, 2.0, 3.0], [1.0, -1.0, 0.5])[None]
    st = spectral_stats(GraphSeries.from_layers([0, 1], [np.concatenate([eye, one])]))
    np.testing.assert_allclose(st.effective_rank[:, 0], [3.0, 1.0], atol=1e-8)
    np.testing.assert_allclose(st.stable_rank[:, 0], [3.0, 1.0], atol=1e-12)


def test_spectral_stats_are_relabel_invariant(rng):
    """Relabelling hidden neurons leaves every spectrum unchanged."""
    gs = GraphSeries.from_layers(np.arange(3), [rng.normal(size=(3, 5, 4)), rng.normal(size=(3, 3, 5))])
    moved = gs.permute_nodes(np.r_[0:4, 4 + rng.permutation(5), 9:12])
    a, b = spectral_stats(gs), spectral_stats(moved)
    for f in ("spectral_norm", "stable_rank", "effective_rank", "adjacency_spectrum",
              "laplacian_spectrum", "spectral_radius", "algebraic_connectivity"):
        np.testing.assert_allclose(getattr(a, f), getattr(b, f), rtol=1e-10, atol=1e-12)


def test_normalized_laplacian_matches_networkx(rng):
    """kind='normalized' equals networkx's normalized Laplacian spectrum."""
    g = nx.gnp_random_graph(9, 0.4, seed=3)
    for u, v in g.edges:
        g[u][v]["weight"] = float(rng.random() + 0.1)
    a = nx.to_numpy_array(g)
    np.testing.assert_allclose(laplacian_spectrum(a, kind="normalized"),
                               np.sort(nx.normalized_laplacian_spectrum(g)), atol=1e-12)


def test_directed_input_is_symmetrized(rng):
    """A directed graph's Laplacian is that of A + Aᵀ."""
    a = np.abs(rng.normal(size=(5, 5))) * (1 - np.eye(5))
    np.testing.assert_allclose(laplacian_spectrum(a), laplacian_spectrum(a + a.T), atol=1e-12)


def test_disconnected_graph_has_zero_connectivity():
    """Two disjoint edges: algebraic connectivity exactly 0, dense and iterative."""
    a = np.zeros((4, 4))
    a[0, 1] = a[1, 0] = a[2, 3] = a[3, 2] = 1.0
    assert algebraic_connectivity(a) == 0.0
    assert abs(algebraic_connectivity(a, method="iterative")) < 1e-10


def test_iterative_path_on_a_series(rng):
    """method='iterative' agrees with dense on a short series of random graphs."""
    m = (rng.random((3, 30, 30)) < 0.2) * rng.random((3, 30, 30))
    gs = GraphSeries.from_adjacency(np.arange(3), m)
    dense = spectral_stats(gs)
    with pytest.warns(UndefinedResultWarning, match="effective_rank is NaN"):
        it = spectral_stats(gs, method="iterative")
    assert np.isnan(it.effective_rank).all()
    np.testing.assert_allclose(it.algebraic_connectivity, dense.algebraic_connectivity, atol=1e-9)
    np.testing.assert_allclose(it.spectral_radius, dense.spectral_radius, rtol=1e-10)
    np.testing.assert_allclose(it.spectral_norm, dense.spectral_norm, rtol=1e-8)
    np.testing.assert_allclose(it.stable_rank, dense.stable_rank, rtol=1e-8)
    assert it.laplacian_spectrum is None and it.params["method"] == "iterative"
    np.testing.assert_allclose(algebraic_connectivity(m), dense.algebraic_connectivity)


def test_spectral_validation_and_undefined_values():
    """Bad inputs and options raise; undefined ranks and one-node graphs give NaN + warning."""
    with pytest.raises(ValidationError, match="GraphSeries"):
        spectral_stats(np.zeros((2, 3, 3)))
    with pytest.raises(UnknownOptionError, match="'dense'"):
        spectral_stats(GraphSeries.from_adjacency([0], np.zeros((1, 2, 2))), method="lanczos")
    with pytest.raises(ValidationError, match="maxiter"):
        spectral_stats(GraphSeries.from_adjacency([0], np.zeros((1, 2, 2))), maxiter=0)
    with pytest.raises(ValidationError, match="non-negative weights"):
        laplacian_spectrum(np.array([[0, -1.0], [-1.0, 0]]))
    with pytest.raises(UnknownOptionError, match="'signed'"):
        laplacian_spectrum(np.eye(2), kind="magnetic")
    with pytest.warns(UndefinedResultWarning, match="all-zero"):
        st = spectral_stats(GraphSeries.from_layers([0], [np.zeros((1, 2, 2))]))
    assert np.isnan(st.stable_rank[0, 0]) and np.isnan(st.effective_rank[0, 0])
    assert st.spectral_norm[0, 0] == 0.0
    with pytest.warns(UndefinedResultWarning, match="one-node"):
        st = spectral_stats(GraphSeries.from_adjacency([0], np.ones((1, 1, 1))))
    assert np.isnan(st.algebraic_connectivity[0])


@pytest.mark.parametrize("bad", [5.0, [[0, 1], [1]], np.array([[0, 1], [1, "a"]], dtype=object)])
def test_spectral_functions_reject_non_matrices_with_our_error(bad):
    """Hypothesis: a scalar, a ragged nested list or an object matrix given to
    laplacian_spectrum / algebraic_connectivity raises our ValidationError naming `x`,
    not a TypeError from len() or a numpy 'inhomogeneous shape' ValueError."""
    with pytest.raises(ValidationError, match="`x` must be|`matrices"):
        laplacian_spectrum(bad)
    with pytest.raises(ValidationError, match="`x` must be|`matrices"):
        algebraic_connectivity(bad)


@pytest.mark.parametrize("c", [1e-300, 1e-150, 1e150, 1e300])
def test_iterative_path_at_extreme_weight_scales(rng, c):
    """Hypothesis: the iterative (large-graph) path is homogeneous like the dense one:
    weights times c = 1e±300 give c times the algebraic connectivity, spectral radius
    and spectral norm, and the same stable rank — the shift-invert shift must not
    swamp eigenvalues of 1e-300, nor ‖W‖_F² overflow for weights of 1e300."""
    a = np.abs(rng.normal(size=(30, 30)))
    a = (a + a.T) * (1 - np.eye(30))
    ref = spectral_stats(GraphSeries.from_adjacency([0], a[None]))
    with np.errstate(all="raise"):
        st = spectral_stats(GraphSeries.from_adjacency([0], c * a[None]), method="iterative")
    np.testing.assert_allclose(st.algebraic_connectivity, c * ref.algebraic_connectivity, rtol=1e-8)
    np.testing.assert_allclose(st.spectral_radius, c * ref.spectral_radius, rtol=1e-8)
    np.testing.assert_allclose(st.spectral_norm, c * ref.spectral_norm, rtol=1e-8)
    np.testing.assert_allclose(st.stable_rank, ref.stable_rank, rtol=1e-8)
    dense = spectral_stats(GraphSeries.from_adjacency([0], c * a[None]))  # dense path too
    np.testing.assert_allclose(dense.stable_rank, ref.stable_rank, rtol=1e-12)
    np.testing.assert_allclose(dense.effective_rank, ref.effective_rank, rtol=1e-12)
    np.testing.assert_allclose(dense.algebraic_connectivity, c * ref.algebraic_connectivity, rtol=1e-10)
