"""Tests for graphtraj.timeseries.recurrence_networks (recurrence_network)."""

import json
import warnings

import networkx as nx
import numpy as np
import pytest

from graphtraj.exceptions import UndefinedResultWarning, ValidationError
from graphtraj.timeseries import LocalRecurrenceRate, recurrence_matrix, recurrence_network


def _walk(rng, n=200):
    return np.cumsum(rng.normal(size=(n, 2)), axis=0)


def _apl_networkx(g):
    total = pairs = 0
    for src, dist in nx.all_pairs_shortest_path_length(g):
        for dst, length in dist.items():
            if dst != src:
                total += length
                pairs += 1
    return total / pairs


@pytest.mark.parametrize("eps", [0.8, 2.0, 4.0])
def test_measures_equal_networkx(rng, eps):
    """Density, transitivity, clustering, path length, components and degrees equal
    networkx on the same graph (R minus the line of identity)."""
    x = _walk(rng)
    rm = recurrence_matrix(x, eps)
    net = recurrence_network(rm)
    g = nx.from_numpy_array(rm.toarray().astype(int) - np.eye(200, dtype=int))
    assert (net.n_nodes, net.n_edges) == (200, g.number_of_edges())
    assert net.density == pytest.approx(nx.density(g), rel=1e-14)
    assert net.transitivity == pytest.approx(nx.transitivity(g), rel=1e-12)
    assert net.global_clustering == pytest.approx(nx.average_clustering(g), rel=1e-12)
    assert net.average_path_length == pytest.approx(_apl_networkx(g), rel=1e-12)
    assert net.n_components == nx.number_connected_components(g)
    assert net.degrees.tolist() == [d for _, d in sorted(g.degree())]
    hist = nx.degree_histogram(g)
    np.testing.assert_allclose(net.degree_distribution, np.array(hist) / 200)
    exported = net.to_networkx()
    assert sorted(exported.nodes) == sorted(g.nodes)
    assert {frozenset(e) for e in exported.edges} == {frozenset(e) for e in g.edges}
    json.dumps(net.as_dict())


def test_agrees_with_pyunicorn(crosscheck, rng):
    """The measures equal pyunicorn's RecurrenceNetwork on the same threshold."""
    timeseries = crosscheck("pyunicorn.timeseries")
    x = _walk(rng, 150)
    eps = 1.5
    rn = timeseries.RecurrenceNetwork(x, threshold=np.nextafter(eps, np.inf),
                                      metric="euclidean", silence_level=3)
    net = recurrence_network(recurrence_matrix(x, eps))
    assert net.density == pytest.approx(rn.link_density, rel=1e-12)
    assert net.transitivity == pytest.approx(rn.transitivity(), rel=1e-12)
    assert net.global_clustering == pytest.approx(rn.global_clustering(), rel=1e-12)
    assert net.average_path_length == pytest.approx(rn.average_path_length(), rel=1e-12)


def test_asymmetric_matrix_is_symmetrised(rng):
    """A local-recurrence-rate matrix becomes the undirected graph R | R.T."""
    x = _walk(rng, 80)
    rm = recurrence_matrix(x, LocalRecurrenceRate(k=3))
    dense = rm.toarray()
    net = recurrence_network(rm)
    sym = (dense | dense.T) & ~np.eye(80, dtype=bool)
    assert np.array_equal(net.adjacency.toarray(), sym)


@pytest.mark.filterwarnings("ignore::graphtraj.exceptions.UndefinedResultWarning")
def test_degenerate_networks_warn():
    """No triples, no connected pairs, a single node: NaN with a warning."""
    with pytest.warns(UndefinedResultWarning, match="transitivity is undefined"):
        net = recurrence_network(np.eye(4, dtype=bool))
    assert net.n_edges == 0 and np.isnan(net.average_path_length)
    assert net.n_components == 4 and net.global_clustering == 0.0
    with pytest.warns(UndefinedResultWarning, match="density is undefined"):
        recurrence_network(np.ones((1, 1), bool))


def test_empty_matrix_warns_only_through_graphtraj():
    """A 0 x 0 matrix: density, transitivity, path length and global clustering are NaN
    with graphtraj's warnings, and numpy's "invalid value encountered in divide" (from
    0/0 in the degree distribution) no longer leaks out."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        net = recurrence_network(np.zeros((0, 0)))
    foreign = [w for w in caught if not issubclass(w.category, UndefinedResultWarning)]
    assert foreign == [], [str(w.message) for w in foreign]
    msgs = " | ".join(str(w.message) for w in caught)
    for name in ("density", "transitivity", "average path length", "global clustering"):
        assert f"{name} is undefined" in msgs
    assert net.n_nodes == 0 and net.degrees.size == 0 and net.degree_distribution.size == 0
    for value in (net.density, net.transitivity, net.average_path_length,
                  net.global_clustering):
        assert np.isnan(value)


def test_cross_matrix_is_rejected():
    """A cross-recurrence matrix is not a recurrence network."""
    with pytest.raises(ValidationError, match="must be a square recurrence matrix"):
        recurrence_network(np.ones((3, 4), bool))
