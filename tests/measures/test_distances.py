"""Tests for graphtraj.measures.distances (pairs, blocked matrices, series of distances)."""

import importlib.util
import pathlib

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.spatial.distance import cdist

from graphtraj.exceptions import (
    InsufficientDataError,
    NonFiniteInputError,
    UnknownOptionError,
    UnsupportedModelError,
    ValidationError,
)
from graphtraj.measures import (
    METRICS,
    cross_distance_matrix,
    distance,
    distance_matrix,
    paired_distances,
    reference_distances,
    successive_distances,
)
from graphtraj.snapshots import GraphSeries
from graphtraj.trajectory import ParamLayout, Trajectory

_spec = importlib.util.spec_from_file_location("h4_graphs", pathlib.Path(__file__).with_name("graphs.py"))
graphs = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(graphs)


def _walk(rng, t=9, sizes=(3, 4, 2)):
    """A random-walk layered series (a toy training trajectory)."""
    lay = ParamLayout.for_mlp(sizes)
    states = np.cumsum(rng.normal(scale=0.3, size=(t, lay.size)), 0)
    return GraphSeries.from_trajectory(Trajectory(np.arange(t), states, lay))


def _general(rng, t=7, n=5):
    m = rng.normal(size=(t, n, n)) * (rng.random((t, n, n)) < 0.7)
    m[:, np.arange(n), np.arange(n)] = 0
    return GraphSeries.from_adjacency(np.arange(t), m)


@pytest.mark.parametrize("name", sorted(METRICS))
def test_matrix_equals_pairwise_loop_and_blocks_do_not_matter(name):
    """D[i, j] equals distance(x_i, x_j) for every pair; any block size gives the same D."""
    rng = np.random.default_rng(11)
    gs = _walk(rng) if METRICS[name].layered_only else _general(rng)
    d = distance_matrix(gs, name)
    t = len(gs)
    if name == "aligned_l1_chained":
        from graphtraj.measures import chain_align

        al = chain_align(gs)
        ref = np.array([[np.abs(a - b).sum() for b in al.vectors()] for a in al.vectors()])
    else:
        ref = np.array([[distance(gs[i], gs[j], name) if i != j else 0.0 for j in range(t)]
                        for i in range(t)])
    np.testing.assert_allclose(d, ref, rtol=1e-10, atol=1e-13)
    assert np.array_equal(d, d.T) and np.all(np.diag(d) == 0)
    np.testing.assert_allclose(distance_matrix(gs, name, block=2), d, rtol=1e-12, atol=1e-14)
    # successive and reference distances are the matrix's off-diagonal and columns
    np.testing.assert_allclose(successive_distances(gs, name), np.diag(d, 1), rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(successive_distances(gs, name, lag=3), np.diag(d, 3), rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(reference_distances(gs, name), d[:, 0], rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(reference_distances(gs, name, reference="final"), d[:, -1],
                               rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(reference_distances(gs, name, reference=2), d[:, 2], rtol=1e-10, atol=1e-13)


@pytest.mark.parametrize("name", ["l1", "laplacian", "aligned_l1", "strength_js"])
def test_cross_and_paired_distances(name):
    """Cross matrices and paired distances agree with pairwise calls."""
    rng = np.random.default_rng(3)
    a = _walk(rng, t=5) if name == "aligned_l1" else _general(rng, t=5)
    b = _walk(rng, t=4) if name == "aligned_l1" else _general(rng, t=4)
    c = cross_distance_matrix(a, b, name, block=3)
    ref = np.array([[distance(a[i], b[j], name) for j in range(4)] for i in range(5)])
    np.testing.assert_allclose(c, ref, rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(paired_distances(a[:4], b, name), np.diag(ref), rtol=1e-10, atol=1e-13)


def test_l1_matrix_is_exact_for_tiny_distances(rng):
    """Distances of 1e-9 (perturbation runs) keep their digits: no Gram-matrix trick."""
    x = rng.normal(size=(1, 50)) + np.zeros((3, 50))
    x[1, 7] += 1e-9
    x[2, 3] -= 3e-9
    d2 = distance_matrix(x, "l2")
    np.testing.assert_allclose(d2, cdist(x, x), rtol=1e-12, atol=0)
    assert abs(d2[0, 1] - 1e-9) < 1e-15
    d1 = distance_matrix(x, "l1")
    np.testing.assert_allclose(d1, cdist(x, x, "cityblock"), rtol=1e-12, atol=0)


def test_accepted_inputs_agree(rng):
    """States, Trajectory, GraphSeries, (T,N,N) stacks and lists of sparse matrices agree."""
    lay = ParamLayout.for_mlp([2, 3, 2])
    states = rng.normal(size=(6, lay.size))
    traj = Trajectory(np.arange(6), states, lay)
    gs = GraphSeries.from_trajectory(traj)
    ref = distance_matrix(states, "l1")
    np.testing.assert_array_equal(distance_matrix(traj, "l1"), ref)
    np.testing.assert_array_equal(distance_matrix(gs, "l1"), ref)
    np.testing.assert_allclose(distance_matrix(traj, "laplacian"), distance_matrix(gs, "laplacian"))
    m = rng.normal(size=(4, 3, 3))
    g = GraphSeries.from_adjacency(np.arange(4), m)
    np.testing.assert_array_equal(distance_matrix(m, "deltacon"), distance_matrix(g, "deltacon"))
    np.testing.assert_array_equal(
        distance_matrix([sp.csr_array(x) for x in m], "deltacon"), distance_matrix(g, "deltacon"))
    assert distance(sp.csr_array(m[0]), m[1], "frobenius") == distance(g[0], g[1], "frobenius")
    assert distance(states[0], states[1]) == ref[0, 1]


def test_validation_errors(rng):
    """Unknown metrics, node-set mismatches, wrong inputs and bad options are our errors."""
    gs = _walk(rng)
    with pytest.raises(UnknownOptionError, match="'l1'"):
        distance_matrix(gs, "manhattan")
    other = GraphSeries.from_adjacency([0], np.zeros((1, 9, 9)))
    with pytest.raises(ValidationError, match="share one node set"):
        distance(gs[0], other, "laplacian")
    with pytest.raises(ValidationError, match="share one node set"):
        cross_distance_matrix(gs, _walk(rng, sizes=(3, 5, 2)), "l1")
    with pytest.raises(ValidationError, match="same number of parameters"):
        distance(np.zeros(3), np.zeros(4))
    with pytest.raises(ValidationError, match="both be graph series or both"):
        distance(gs[0], gs.vectors()[0])
    with pytest.raises(ValidationError, match="graph metric"):
        distance_matrix(np.zeros((3, 4)), "laplacian")
    with pytest.raises(ValidationError, match="single snapshot"):
        distance(gs, gs[0])
    with pytest.raises(ValidationError, match="layered GraphSeries"):
        distance_matrix(_general(rng), "aligned_l1")
    with pytest.raises(UnsupportedModelError, match="aligned_l1_layerwise"):
        distance_matrix(_walk(rng, sizes=(2, 3, 3, 2)), "aligned_l1")
    with pytest.raises(ValidationError, match="chain runs"):
        cross_distance_matrix(gs, gs, "aligned_l1_chained")
    with pytest.raises(ValidationError, match="chain runs"):
        paired_distances(gs, gs, "aligned_l1_chained")
    with pytest.raises(ValidationError, match="same number of snapshots"):
        paired_distances(gs, gs[:3])
    with pytest.raises(InsufficientDataError, match="lag \\+ 1"):
        successive_distances(gs[:2], lag=2)
    with pytest.raises(UnknownOptionError, match="initial"):
        reference_distances(gs, reference="middle")
    with pytest.raises(ValidationError, match="reference"):
        reference_distances(gs, reference=99)
    with pytest.raises(ValidationError, match="block"):
        distance_matrix(gs, block=0)
    bad = np.zeros((3, 4))
    bad[1, 1] = np.nan
    with pytest.raises(NonFiniteInputError, match="finite"):
        distance_matrix(bad)
    with pytest.raises(NonFiniteInputError, match="finite"):
        distance(np.array([[0, np.nan], [0, 0]]), np.zeros((2, 2)), "laplacian")
    with pytest.raises(ValidationError, match="GraphSeries, a Trajectory"):
        distance_matrix(np.zeros(4))
    with pytest.raises(ValidationError, match="must not be empty"):
        distance_matrix(np.zeros((3, 0)))


def test_layerwise_uses_pairs_for_deep_networks(rng):
    """For two hidden layers the layerwise matrix is the min over both alignment directions."""
    from graphtraj.measures.alignment import layerwise_distance

    gs = _walk(rng, t=4, sizes=(2, 3, 3, 2))
    d = distance_matrix(gs, "aligned_l1_layerwise")
    for i in range(4):
        for j in range(4):
            if i != j:
                assert d[i, j] == min(layerwise_distance(gs, i, gs, j), layerwise_distance(gs, j, gs, i))
    assert np.all(d <= distance_matrix(gs, "l1") + 1e-12)


def test_mixed_edge_sets_are_compared_on_their_union(rng):
    """Hypothesis: an undirected graph and a directed one, or a graph with self-loops
    and one without, are compared on the union of their fixed edge sets (an undirected
    edge counts in both directions; the diagonal enters when either has a loop): every
    metric equals its value on the two matrices stacked into one series — never a
    numpy broadcast error from mismatched edge-weight vectors."""
    n = 5
    und = rng.normal(size=(n, n))
    und = (und + und.T) * (1 - np.eye(n))
    dirg = rng.normal(size=(n, n)) * (1 - np.eye(n))
    loops = und + np.diag(rng.normal(size=n))
    for a, b in [(und, dirg), (und, loops), (dirg, loops)]:
        mixed = not (np.array_equal(a, a.T) and np.array_equal(b, b.T))
        ref = GraphSeries.from_adjacency([0, 1], np.stack([a, b]), directed=mixed or None)
        ga = GraphSeries.from_adjacency([0], a[None])
        gb = GraphSeries.from_adjacency([0], b[None])
        for name, info in METRICS.items():
            if info.layered_only:
                continue
            want = distance(ref[0], ref[1], name)
            assert distance(a, b, name) == pytest.approx(want, rel=1e-12, abs=1e-14), name
            assert distance(gb, ga, name) == pytest.approx(want, rel=1e-12, abs=1e-14), name
            np.testing.assert_allclose(cross_distance_matrix(ga, gb, name), [[want]], rtol=1e-12)
            np.testing.assert_allclose(paired_distances(ga, gb, name), [want], rtol=1e-12)
