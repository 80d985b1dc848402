"""Tests for graphtraj.timeseries.multiplex (multiplex visibility graphs)."""

import math

import numpy as np
import pytest

from graphtraj.exceptions import (
    InsufficientDataError,
    NonFiniteInputError,
    UndefinedResultWarning,
    UnknownOptionError,
    ValidationError,
)
from graphtraj.timeseries import irreversibility, multiplex_visibility, visibility_graph
from graphtraj.timeseries import multiplex as multiplex_module


def naive_overlap(x, kind, times=None):
    """Average edge overlap from Python sets of each layer's edges."""
    sets = [set(map(tuple, visibility_graph(x[:, a], kind, times=times).edges.tolist())) for a in range(x.shape[1])]
    union = set().union(*sets)
    return sum(len(s) for s in sets) / (len(sets) * len(union)), len(union)


def naive_mi(ka, kb):
    """Plug-in mutual information (nats) of two integer sequences from a joint histogram."""
    n = ka.size
    joint = {}
    for a, b in zip(ka.tolist(), kb.tolist(), strict=True):
        joint[(a, b)] = joint.get((a, b), 0) + 1
    pa = {a: c / n for a, c in zip(*np.unique(ka, return_counts=True), strict=True)}
    pb = {b: c / n for b, c in zip(*np.unique(kb, return_counts=True), strict=True)}
    return sum((c / n) * math.log((c / n) / (pa[a] * pb[b])) for (a, b), c in joint.items())


@pytest.mark.filterwarnings("ignore:irreversibility. .n_surrogates. is 0")
@pytest.mark.parametrize("kind", ["horizontal", "natural"])
def test_overlap_and_mi_match_naive(rng, kind):
    """Overlap, union size, every pair's information and the per-layer summary match naive loops."""
    x = rng.normal(size=(400, 5))
    x[:, 1] = x[:, 0] + 0.3 * x[:, 1]  # a correlated pair
    m = multiplex_visibility(x, kind)
    want, n_union = naive_overlap(x, kind)
    assert m.edge_overlap == pytest.approx(want, rel=1e-14)
    assert m.n_edges_union == n_union
    assert m.all_pairs and m.mi_pairs.tolist() == [[a, b] for a in range(5) for b in range(a + 1, 5)]
    graphs = [visibility_graph(x[:, a], kind) for a in range(5)]
    for (a, b), v in zip(m.mi_pairs, m.mi_values, strict=True):
        assert v == pytest.approx(naive_mi(graphs[a].degrees, graphs[b].degrees), abs=1e-12)
    assert m.mutual_information == pytest.approx(m.mi_values.mean())
    for a, g in enumerate(graphs):
        assert m.layer_n_edges[a] == g.n_edges
        assert m.layer_mean_degree[a] == pytest.approx(g.mean_degree)
        assert m.layer_max_degree[a] == g.degrees.max()
        lam = g.tail_fit(k_min=4).lam
        assert m.layer_tail_lambda[a] == pytest.approx(lam)
        assert m.layer_irreversibility[a] == pytest.approx(irreversibility(x[:, a], kind=kind, n_surrogates=0).kld)
        assert m.layer_entropy[a] == pytest.approx(naive_mi(g.degrees, g.degrees), abs=1e-12)
    # the correlated pair shares more than an independent one
    assert m.mi_matrix()[0, 1] > m.mi_matrix()[2, 3]


def test_identical_layers_overlap_one_and_information_is_entropy(rng):
    """Layers related by increasing maps have identical HVGs: overlap 1, I(a;b) = H(k)."""
    y = rng.random(600)
    m = multiplex_visibility(np.column_stack([y, np.exp(y), 3 * y - 1]))
    assert m.edge_overlap == 1.0
    assert np.allclose(m.mi_values, m.layer_entropy[0], atol=1e-12)
    mat = m.mi_matrix()
    assert np.allclose(mat, mat.T) and np.allclose(np.diag(mat), m.layer_entropy)


def test_overlap_bounds_for_independent_layers(rng):
    """Independent noise layers share only the always-present neighbour edges: 1/P < o < 1."""
    x = rng.random((2000, 8))
    m = multiplex_visibility(x)
    assert 1 / 8 < m.edge_overlap < 1
    # neighbours (T - 1 pairs) are in every layer; other edges rarely coincide
    assert m.n_edges_union > m.layer_n_edges.max()


def test_natural_layers_with_uneven_times(rng):
    """Times reach every natural layer: overlap equals the naive value with the same times."""
    x = rng.integers(0, 5, size=(150, 3)).astype(float)
    t = np.cumsum(rng.uniform(0.2, 2.0, size=150))
    m = multiplex_visibility(x, "natural", times=t)
    assert m.edge_overlap == pytest.approx(naive_overlap(x, "natural", times=t)[0], rel=1e-14)


def test_sampled_pairs_are_seeded_distinct_and_correct(rng):
    """Above all_pairs_up_to, n_pairs distinct pairs are drawn with the seed; values stay exact."""
    x = rng.random((300, 30))
    a = multiplex_visibility(x, all_pairs_up_to=10, n_pairs=50, rng=4)
    b = multiplex_visibility(x, all_pairs_up_to=10, n_pairs=50, rng=4)
    assert not a.all_pairs and a.mi_pairs.shape == (50, 2)
    assert np.array_equal(a.mi_pairs, b.mi_pairs) and np.array_equal(a.mi_values, b.mi_values)
    assert np.all(a.mi_pairs[:, 0] < a.mi_pairs[:, 1])
    assert len({tuple(p) for p in a.mi_pairs.tolist()}) == 50
    full = multiplex_visibility(x).mi_matrix()
    assert np.allclose(a.mi_values, full[a.mi_pairs[:, 0], a.mi_pairs[:, 1]], atol=1e-14)
    assert np.isnan(a.mi_matrix()).sum() == 30 * 29 - 100
    # asking for more pairs than exist gives all of them
    assert multiplex_visibility(x[:, :6], all_pairs_up_to=2, n_pairs=100).all_pairs


def test_sorted_branch_equals_dense_branch(rng, monkeypatch):
    """The sort-based joint count (used for huge degree ranges) equals the dense table."""
    x = rng.random((500, 4))
    dense = multiplex_visibility(x, "natural").mi_values
    monkeypatch.setattr(multiplex_module, "_DENSE_CAP", 1)
    assert np.allclose(multiplex_visibility(x, "natural").mi_values, dense, atol=1e-13)


def test_many_layers_runs_without_quadratic_work(rng):
    """P = 2000 layers of T = 300 steps: overlap and a sample of pair informations, all finite."""
    x = rng.random((300, 2000))
    m = multiplex_visibility(x, n_pairs=500, rng=0)
    assert m.n_layers == 2000 and m.mi_pairs.shape == (500, 2)
    assert np.isfinite(m.edge_overlap) and np.all(np.isfinite(m.mi_values))


def test_single_layer_and_names(rng):
    """A 1-D series is one layer: overlap 1, information NaN with a warning; names are kept."""
    with pytest.warns(UndefinedResultWarning, match="at least two layers"):
        m = multiplex_visibility(rng.random(100), names=["loss"])
    assert m.n_layers == 1 and m.edge_overlap == 1.0 and math.isnan(m.mutual_information)
    assert m.names == ("loss",)


def test_layers_without_tail_warn():
    """Ramps have no degree above 2: their lambda is NaN and one warning says so."""
    x = np.column_stack([np.arange(50.0), np.arange(50.0) ** 2])
    with pytest.warns(UndefinedResultWarning, match="in 2 of 2 layers"):
        m = multiplex_visibility(x)
    assert np.all(np.isnan(m.layer_tail_lambda))


def test_validation(rng):
    """Non-finite, too-short and badly-parametrized input get our errors."""
    x = rng.random((20, 3))
    bad = x.copy()
    bad[4, 1] = np.nan
    with pytest.raises(NonFiniteInputError, match="`states` must contain only finite values"):
        multiplex_visibility(bad)
    with pytest.raises(InsufficientDataError, match="at least 2 samples"):
        multiplex_visibility(x[:1])
    with pytest.raises(ValidationError, match="`names` must have one entry per column"):
        multiplex_visibility(x, names=["a"])
    with pytest.raises(UnknownOptionError, match="`kind` must be one of"):
        multiplex_visibility(x, kind="ordinal")
    with pytest.raises(ValidationError, match="`all_pairs_up_to` must be >= 1"):
        multiplex_visibility(x, all_pairs_up_to=0)
    with pytest.raises(ValidationError, match="`n_pairs` must be >= 1"):
        multiplex_visibility(x, n_pairs=0)
    with pytest.raises(ValidationError, match="`times` must be strictly increasing"):
        multiplex_visibility(x, times=np.zeros(20))


@pytest.mark.parametrize("names", [5, "ab"])
def test_names_must_be_a_sequence_of_labels(rng, names):
    """Hypothesis: `names` that is not a sequence of labels (an int, or one string that
    would be split into characters) raises our ValidationError, not a TypeError."""
    with pytest.raises(ValidationError, match="`names` must be a sequence of P labels"):
        multiplex_visibility(rng.random((20, 2)), names=names)
