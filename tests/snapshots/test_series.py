"""Tests for graphtraj.snapshots.series (GraphSeries)."""

import networkx as nx
import numpy as np
import pytest
import scipy.sparse as sp

from graphtraj.exceptions import (
    InsufficientDataError,
    NonFiniteInputError,
    UnsupportedModelError,
    ValidationError,
)
from graphtraj.snapshots import GraphSeries, mlp_sizes
from graphtraj.trajectory import ParamLayout, Trajectory


def _traj(rng, sizes=(4, 10, 3), t=6, **meta):
    lay = ParamLayout.for_mlp(sizes)
    return Trajectory(np.arange(0, 2 * t, 2), rng.normal(size=(t, lay.size)), lay, metadata=meta)


def test_from_trajectory_edges_are_the_weights(rng):
    """Edge i→j of the layered graph carries W_l[j, i] and biases sit on output nodes."""
    traj = _traj(rng, model={"sizes": [4, 10, 3]})
    gs = GraphSeries.from_trajectory(traj)
    assert gs.is_layered and gs.layer_sizes == (4, 10, 3) and gs.n_nodes == 17
    assert len(gs) == 6 and gs.times.tolist() == [0, 2, 4, 6, 8, 10]
    p = traj.params(3)
    a = gs.dense()[3]
    # naive reference: fill the adjacency entry by entry
    ref = np.zeros((17, 17))
    for o in range(10):
        for i in range(4):
            ref[i, 4 + o] = p["layers.0.weight"][o, i]
    for o in range(3):
        for i in range(10):
            ref[4 + i, 14 + o] = p["layers.1.weight"][o, i]
    np.testing.assert_array_equal(a, ref)
    np.testing.assert_array_equal(gs.adjacency(3).toarray(), ref)
    assert gs.adjacency(3).nnz == gs.n_edges == 70
    bias = gs.node_biases(3)[0]
    np.testing.assert_array_equal(bias[4:14], p["layers.0.bias"])
    np.testing.assert_array_equal(bias[14:], p["layers.1.bias"])
    assert np.all(bias[:4] == 0)
    np.testing.assert_array_equal(gs.layers[1][3], p["layers.1.weight"])
    np.testing.assert_array_equal(gs.biases[0][3], p["layers.0.bias"])
    # vectors are the states in for_mlp order
    np.testing.assert_array_equal(gs.vectors(), np.asarray(traj.states))


def test_from_trajectory_infers_sizes_without_metadata(rng):
    """Without metadata the layer widths come from the layout shapes."""
    gs = GraphSeries.from_trajectory(_traj(rng, sizes=(3, 5, 4, 2)))
    assert gs.layer_sizes == (3, 5, 4, 2)
    assert gs.nodes[:4] == ("L0:0", "L0:1", "L0:2", "L1:0")
    assert gs.node_layer.tolist() == [0] * 3 + [1] * 5 + [2] * 4 + [3] * 2


def test_from_trajectory_max_snapshots_subsamples(rng):
    """max_snapshots keeps every k-th record (k = ceil(11 / 3) = 4) from the first."""
    tr = _traj(rng, t=11)
    gs = GraphSeries.from_trajectory(tr, max_snapshots=3)
    assert gs.times.tolist() == tr.times[[0, 4, 8]].tolist()


def test_from_trajectory_without_bias(rng):
    """A layout without biases gives biases None and vectors equal to the weights."""
    lay = ParamLayout.for_mlp([2, 3, 1], bias=False)
    traj = Trajectory(np.arange(2), rng.normal(size=(2, lay.size)), lay)
    gs = GraphSeries.from_trajectory(traj)
    assert gs.biases is None
    np.testing.assert_array_equal(gs.vectors(), traj.states)


def test_from_trajectory_rejects_non_mlp_layouts(rng):
    """Layouts that are not chains of dense layers raise UnsupportedModelError."""
    lay = ParamLayout(["w", "scale"], [(3, 2), (4,)], ["weight", "other"])
    traj = Trajectory(np.arange(2), np.zeros((2, lay.size)), lay)
    with pytest.raises(UnsupportedModelError, match="other parameters"):
        GraphSeries.from_trajectory(traj)
    lay = ParamLayout(["a.weight", "b.weight"], [(3, 2), (1, 4)])
    with pytest.raises(UnsupportedModelError, match="must chain"):
        GraphSeries.from_trajectory(Trajectory(np.arange(1), np.zeros((1, 10)), lay))
    lay = ParamLayout(["a"], [(3,)])
    with pytest.raises(UnsupportedModelError, match="layered network"):
        mlp_sizes(lay)


def test_from_trajectory_validation(rng):
    """Metadata sizes must agree; NaN states and empty runs are our errors."""
    with pytest.raises(ValidationError, match="must match the layout"):
        GraphSeries.from_trajectory(_traj(rng, model={"sizes": [4, 9, 3]}))
    traj = _traj(rng)
    bad = np.array(traj.states)
    bad[2, 5] = np.nan
    with pytest.raises(NonFiniteInputError, match="finite"):
        GraphSeries.from_trajectory(Trajectory(traj.times, bad, traj.layout))
    empty = Trajectory(np.arange(0), np.zeros((0, traj.layout.size)), traj.layout)
    with pytest.raises(InsufficientDataError, match="at least 1 record"):
        GraphSeries.from_trajectory(empty)
    with pytest.raises(ValidationError, match="Trajectory"):
        GraphSeries.from_trajectory(np.zeros((3, 83)))
    with pytest.raises(ValidationError, match="max_snapshots"):
        GraphSeries.from_trajectory(traj, max_snapshots=0)


def test_from_adjacency_dense_and_sparse_agree(rng):
    """Dense stacks and lists of sparse matrices give the same series."""
    mats = rng.normal(size=(3, 5, 5)) * (rng.random((3, 5, 5)) < 0.4)
    a = GraphSeries.from_adjacency([0, 1, 5], mats)
    b = GraphSeries.from_adjacency([0, 1, 5], [sp.csr_array(m) for m in mats])
    np.testing.assert_array_equal(a.dense(), b.dense())
    np.testing.assert_array_equal(a.edge_weights(), b.edge_weights())
    assert a.directed and not a.is_layered and a.layers is None and a.biases is None
    assert a.nodes == ("0", "1", "2", "3", "4")
    for i in range(3):
        np.testing.assert_array_equal(a.adjacency(i).toarray(), mats[i])


def test_from_adjacency_edge_set(rng):
    """The fixed edge set lists ordered pairs (directed) or i<j pairs (undirected)."""
    m = rng.normal(size=(2, 4, 4))
    gs = GraphSeries.from_adjacency([0, 1], m)
    assert gs.has_self_loops and gs.n_edges == 16
    np.testing.assert_array_equal(gs.edge_weights()[0], m[0].ravel())
    no_loops = GraphSeries.from_adjacency([0, 1], m * (1 - np.eye(4)))
    assert not no_loops.has_self_loops and no_loops.n_edges == 12
    sym = m + m.transpose(0, 2, 1)
    sym[:, np.arange(4), np.arange(4)] = 0
    us = GraphSeries.from_adjacency([0, 1], sym)
    assert not us.directed and us.n_edges == 6
    assert len(us.edge_index) == 6 and np.all(us.edge_index[:, 0] < us.edge_index[:, 1])
    np.testing.assert_array_equal(us.edge_weights()[1], sym[1][np.triu_indices(4, 1)])
    d = GraphSeries.from_adjacency([0, 1], sym, directed=True)
    assert d.directed and d.n_edges == 12 and not d.has_self_loops


def test_to_networkx_matches_adjacency(rng):
    """to_networkx returns the same weighted graph with node attributes."""
    gs = GraphSeries.from_trajectory(_traj(rng, sizes=(2, 3, 2)))
    g = gs.to_networkx(4)
    a = nx.to_numpy_array(g, nodelist=list(gs.nodes), weight="weight")
    np.testing.assert_array_equal(a, gs.dense()[4])
    assert g.number_of_edges() == gs.n_edges
    assert g.nodes["L1:2"]["layer"] == 1
    assert g.nodes["L1:2"]["bias"] == gs.biases[0][4, 2]
    sym = np.array([[0, 2.0, 0], [2.0, 0, -1.0], [0, -1.0, 0]])
    ug = GraphSeries.from_adjacency([0], sym[None], nodes=["a", "b", "c"]).to_networkx(0)
    assert isinstance(ug, nx.Graph) and not ug.is_directed()
    assert ug["b"]["c"]["weight"] == -1.0 and ug.number_of_edges() == 2


def test_getitem_and_permute_nodes(rng):
    """Indexing keeps snapshots; permute_nodes gives P W Pᵀ and moves biases."""
    gs = GraphSeries.from_trajectory(_traj(rng))
    sub = gs[1:4]
    np.testing.assert_array_equal(sub.dense(), gs.dense()[1:4])
    assert len(gs[-1]) == 1 and gs[-1].times.tolist() == [10]
    order = np.r_[0:4, 4 + rng.permutation(10), 14:17]
    pg = gs.permute_nodes(order)
    np.testing.assert_array_equal(pg.dense(), gs.dense()[:, order][:, :, order])
    np.testing.assert_array_equal(pg.node_biases(), gs.node_biases()[:, order])
    with pytest.raises(ValidationError, match="within its layer"):
        gs.permute_nodes(np.r_[1, 0, 2, 3, 14, 5:14, 4, 15, 16])
    with pytest.raises(ValidationError, match="permutation"):
        gs.permute_nodes([0, 1])
    with pytest.raises(ValidationError, match="snapshot index"):
        gs[6]
    with pytest.raises(InsufficientDataError, match="at least 1 snapshot"):
        gs[3:3]
    m = rng.normal(size=(2, 3, 3))
    g2 = GraphSeries.from_adjacency([0, 1], m)
    np.testing.assert_array_equal(g2.permute_nodes([2, 0, 1]).dense(), m[:, [2, 0, 1]][:, :, [2, 0, 1]])


def test_inputs_are_not_mutated_and_series_is_read_only(rng):
    """The series copies user arrays; its stored arrays are read-only."""
    m = rng.normal(size=(2, 3, 3))
    keep = m.copy()
    gs = GraphSeries.from_adjacency([0, 1], m)
    m[0, 0, 1] = 99.0
    assert gs.dense()[0, 0, 1] == keep[0, 0, 1]
    assert m.flags.writeable
    w = [rng.normal(size=(1, 2, 2))]
    layered = GraphSeries.from_layers([0], w)
    assert w[0].flags.writeable
    with pytest.raises(ValueError, match="read-only"):
        layered.layers[0][0, 0, 0] = 1.0


def test_from_adjacency_validation(rng):
    """Different node sets, NaN weights, empty graphs and bad labels are our errors."""
    with pytest.raises(ValidationError, match="share one node set"):
        GraphSeries.from_adjacency([0, 1], [np.zeros((3, 3)), np.zeros((4, 4))])
    with pytest.raises(ValidationError, match="share one node set"):
        GraphSeries.from_adjacency([0, 1], [sp.csr_array((3, 3)), sp.csr_array((4, 4))])
    bad = np.zeros((2, 3, 3))
    bad[1, 0, 2] = np.nan
    with pytest.raises(NonFiniteInputError, match="finite"):
        GraphSeries.from_adjacency([0, 1], bad)
    sbad = sp.csr_array(np.array([[0, np.inf], [0, 0]]))
    with pytest.raises(NonFiniteInputError, match="finite"):
        GraphSeries.from_adjacency([0], [sbad])
    with pytest.raises(ValidationError, match="at least one node"):
        GraphSeries.from_adjacency([0], np.zeros((1, 0, 0)))
    with pytest.raises(InsufficientDataError, match="at least 1 snapshot"):
        GraphSeries.from_adjacency([], [])
    with pytest.raises(ValidationError, match="square"):
        GraphSeries.from_adjacency([0], np.zeros((1, 2, 3)))
    with pytest.raises(ValidationError, match="unique labels"):
        GraphSeries.from_adjacency([0], np.zeros((1, 2, 2)), nodes=["a", "a"])
    with pytest.raises(ValidationError, match="strictly increasing"):
        GraphSeries.from_adjacency([1, 1], np.zeros((2, 2, 2)))
    with pytest.raises(ValidationError, match="one entry per snapshot"):
        GraphSeries.from_adjacency([0], np.zeros((2, 2, 2)))
    with pytest.raises(ValidationError, match="directed"):
        GraphSeries.from_adjacency([0], np.array([[[0, 1], [0, 0]]]), directed=False)
    with pytest.raises(ValidationError, match="real numbers"):
        GraphSeries.from_adjacency([0], np.zeros((1, 2, 2), dtype=complex))
    with pytest.raises(ValidationError, match=r"\(T, N, N\)"):
        GraphSeries.from_adjacency([0], np.zeros((2, 2)))
    with pytest.raises(ValidationError, match="real 2-D"):
        GraphSeries.from_adjacency([0], [np.zeros(3)])


def test_from_layers_validation(rng):
    """from_layers checks chaining, shapes and finiteness."""
    with pytest.raises(ValidationError, match="must chain"):
        GraphSeries.from_layers([0], [np.zeros((1, 3, 2)), np.zeros((1, 1, 4))])
    with pytest.raises(ValidationError, match="non-empty list"):
        GraphSeries.from_layers([0], [])
    with pytest.raises(ValidationError, match=r"\(T, out, in\)"):
        GraphSeries.from_layers([0], [np.zeros((3, 2))])
    with pytest.raises(ValidationError, match="snapshots like"):
        GraphSeries.from_layers([0], [np.zeros((1, 3, 2)), np.zeros((2, 1, 3))])
    with pytest.raises(ValidationError, match="biases"):
        GraphSeries.from_layers([0], [np.zeros((1, 3, 2))], [np.zeros((1, 2))])
    with pytest.raises(ValidationError, match="one entry per layer"):
        GraphSeries.from_layers([0], [np.zeros((1, 3, 2))], [])
    w = np.zeros((1, 3, 2))
    w[0, 1, 1] = np.inf
    with pytest.raises(NonFiniteInputError, match="finite"):
        GraphSeries.from_layers([0], [w])
    with pytest.raises(InsufficientDataError, match="at least 1 snapshot"):
        GraphSeries.from_layers([], [np.zeros((0, 3, 2))])


def test_from_adjacency_rejects_complex_sparse_matrices():
    """Hypothesis: complex sparse snapshots are rejected like complex dense ones —
    not cast to float with a numpy ComplexWarning that silently drops the imaginary
    part."""
    import warnings

    m = sp.csr_array(np.array([[0, 1 + 2j], [1 - 2j, 0]]))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValidationError, match=r"`matrices\[0\]` must hold real numbers"):
            GraphSeries.from_adjacency([0], [m])


def test_unsorted_times_message_says_where():
    """Hypothesis: duplicate or unsorted snapshot times are reported with the offending
    positions and values ("must be ...; got ..."), for int and float times."""
    with pytest.raises(ValidationError, match=r"strictly increasing; got times\[1\] = 5 >= times\[2\] = 5"):
        GraphSeries.from_adjacency([0, 5, 5], np.zeros((3, 2, 2)))
    with pytest.raises(ValidationError, match=r"got times\[0\] = 1.5 >= times\[1\] = 0.5"):
        GraphSeries.from_layers([1.5, 0.5], [np.ones((2, 1, 1))])


@pytest.mark.parametrize("sparse", [False, True])
def test_mixed_symmetry_warns_that_the_series_is_directed(sparse):
    """Symmetric and non-symmetric snapshots together: directedness is inferred for the
    whole series, so a warning says so (l1 between two symmetric snapshots doubles:
    1 undirected, 2 directed); all-symmetric or directed=True series do not warn."""
    import warnings

    from graphtraj.exceptions import GraphTrajWarning
    from graphtraj.measures import distance_matrix

    a = np.array([[0, 1, 0], [1, 0, 2], [0, 2, 0.0]])
    z = a.copy()
    z[0, 1] += 1
    z[1, 0] += 1
    e = np.zeros((3, 3))
    e[0, 2] = 1
    mats = [a, a + e, z]
    if sparse:
        mats = [sp.csr_matrix(m) for m in mats]
    with pytest.warns(GraphTrajWarning, match="2 of 3 snapshots are symmetric"):
        gs = GraphSeries.from_adjacency([0, 1, 2], mats)
    assert gs.directed and distance_matrix(gs)[0, 2] == 2.0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        pair = GraphSeries.from_adjacency([0, 1], [mats[0], mats[2]])
        GraphSeries.from_adjacency([0, 1, 2], mats, directed=True)
    assert not pair.directed and distance_matrix(pair)[0, 1] == 1.0
