"""Tests for graphtraj.timeseries.visibility (graph construction and the graph object)."""

import json

import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from graphtraj.exceptions import (
    InsufficientDataError,
    NonFiniteInputError,
    UnknownOptionError,
    ValidationError,
)
from graphtraj.timeseries import VisibilityGraph, visibility_graph
from graphtraj.timeseries.visibility import DEFAULT_RTOL, VISIBILITY_WEIGHTS

# --------------------------------------------------------------------------- references


def naive_hvg(y):
    """O(n^3) horizontal criterion: every point between is strictly below both ends."""
    n = len(y)
    return {
        (a, b)
        for a in range(n)
        for b in range(a + 1, n)
        if all(y[c] < min(y[a], y[b]) for c in range(a + 1, b))
    }


def naive_nvg(y, t=None, rtol=DEFAULT_RTOL):
    """O(n^3) natural criterion exactly as the docstring states it.

    Apex h = higher endpoint (the earlier on ties), l = the other; c blocks iff
    (y_h - y_c) / |t_c - t_h| <= (1 + rtol) (y_h - y_l) / |t_l - t_h|.
    """
    y = np.asarray(y, dtype=float)
    n = len(y)
    t = np.arange(n, dtype=float) if t is None else np.asarray(t, dtype=float)
    edges = set()
    for a in range(n):
        for b in range(a + 1, n):
            h, lo = (a, b) if y[a] >= y[b] else (b, a)
            g_l = (y[h] - y[lo]) / abs(t[lo] - t[h])
            blocked = False
            for c in range(a + 1, b):
                g_c = (y[h] - y[c]) / abs(t[c] - t[h])
                if g_c <= (1.0 + rtol) * g_l:
                    blocked = True
                    break
            if not blocked:
                edges.add((a, b))
    return edges


def exact_nvg_int(y, t=None):
    """Natural graph of integer data in exact integer arithmetic (a point on the segment blocks)."""
    n = len(y)
    t = list(range(n)) if t is None else list(t)
    return {
        (a, b)
        for a in range(n)
        for b in range(a + 1, n)
        if all(
            (y[c] - y[a]) * (t[b] - t[a]) < (y[b] - y[a]) * (t[c] - t[a])
            for c in range(a + 1, b)
        )
    }


def edge_set(g):
    return set(map(tuple, g.edges.tolist()))


# --------------------------------------------------------------------------- exact cases


def test_hvg_small_exact_case():
    """The HVG of [3, 4, 2, 1] has exactly the edges (0,1), (1,2), (2,3)."""
    g = visibility_graph([3, 4, 2, 1], kind="horizontal")
    assert g.edges.tolist() == [[0, 1], [1, 2], [2, 3]]
    assert g.degrees.tolist() == [1, 2, 2, 1]


def test_nvg_of_range_is_a_path():
    """Collinear points block: the natural graph of range(10) is the 9-edge path."""
    g = visibility_graph(range(10))
    assert g.edges.tolist() == [[i, i + 1] for i in range(9)]


def test_hand_drawn_natural_graph():
    """A 5-point series whose natural edges were worked out by hand."""
    # y = 1 3 2 4 1: (0,1) (1,2) (1,3) (2,3) (3,4) and (0,2)? line 1->2 at t=1 is 1.5 < 3: blocked
    g = visibility_graph([1, 3, 2, 4, 1])
    assert edge_set(g) == {(0, 1), (1, 2), (1, 3), (2, 3), (3, 4)}


@pytest.mark.parametrize("kind", ["natural", "horizontal"])
def test_constant_series_is_a_path(kind):
    """Equal values block each other: a constant series gives the path graph (documented)."""
    g = visibility_graph(np.full(7, 2.5), kind=kind)
    assert g.edges.tolist() == [[i, i + 1] for i in range(6)]


@pytest.mark.parametrize("kind", ["natural", "horizontal"])
def test_one_and_two_samples(kind):
    """One sample: one node, no edge; two samples: one edge."""
    g1 = visibility_graph([4.0], kind=kind)
    assert (g1.n_nodes, g1.n_edges, g1.edges.shape) == (1, 0, (0, 2))
    assert g1.mean_degree == 0.0
    assert visibility_graph([1, 2], kind=kind).edges.tolist() == [[0, 1]]


def test_uneven_times_change_the_natural_graph():
    """Times enter the natural criterion: moving the middle sample towards the first unblocks (0,2)."""
    y = [2.0, 1.9, 1.0]
    assert (0, 2) not in edge_set(visibility_graph(y))  # line at t=1 is 1.5 <= 1.9
    g = visibility_graph(y, times=[0.0, 0.05, 2.0])  # line at t=0.05 is 1.975 > 1.9
    assert (0, 2) in edge_set(g)
    assert np.array_equal(g.times, [0.0, 0.05, 2.0])


def test_horizontal_graph_ignores_times(rng):
    """The horizontal criterion compares values only, so sample times do not change it."""
    y = rng.random(200)
    t = np.cumsum(rng.exponential(size=200))
    assert edge_set(visibility_graph(y, "horizontal", times=t)) == edge_set(visibility_graph(y, "horizontal"))


# --------------------------------------------------------------------------- naive reference


@pytest.mark.parametrize("seed", range(6))
def test_fast_kernels_match_naive_reference_with_ties(seed):
    """Edge for edge, the fast kernels equal the O(n^3) definitions on random series with many ties."""
    gen = np.random.default_rng(seed)
    y = gen.integers(0, 5, size=70).astype(float)
    assert edge_set(visibility_graph(y, "horizontal")) == naive_hvg(y)
    assert edge_set(visibility_graph(y, "natural")) == naive_nvg(y)
    # integer data: the tolerance criterion agrees with exact integer arithmetic
    assert edge_set(visibility_graph(y, "natural")) == exact_nvg_int(y.astype(int).tolist())


@pytest.mark.parametrize("seed", range(4))
def test_fast_kernels_match_naive_reference_continuous(seed):
    """Edge for edge on continuous values, with uneven sample times for the natural graph."""
    gen = np.random.default_rng(100 + seed)
    y = gen.normal(size=90)
    t = np.cumsum(gen.uniform(0.1, 3.0, size=90))
    assert edge_set(visibility_graph(y, "horizontal")) == naive_hvg(y)
    assert edge_set(visibility_graph(y, "natural", times=t)) == naive_nvg(y, t)


@settings(max_examples=60, deadline=None, derandomize=True)
@given(st.lists(st.integers(-3, 3), min_size=1, max_size=25))
def test_property_kernels_match_naive(values):
    """For any short integer series (ties everywhere) both kernels equal the definitions."""
    y = np.asarray(values, dtype=float)
    assert edge_set(visibility_graph(y, "horizontal")) == naive_hvg(y)
    assert edge_set(visibility_graph(y, "natural")) == exact_nvg_int(values)


def test_edges_sorted_and_forward(rng):
    """Edges satisfy i < j and come sorted lexicographically; neighbours are always linked."""
    for kind in ("natural", "horizontal"):
        e = visibility_graph(rng.random(500), kind).edges
        assert np.all(e[:, 0] < e[:, 1])
        order = np.lexsort((e[:, 1], e[:, 0]))
        assert np.array_equal(order, np.arange(len(e)))
        assert {(i, i + 1) for i in range(499)} <= set(map(tuple, e.tolist()))


def test_horizontal_is_subgraph_of_natural(rng):
    """Every horizontal edge is a natural edge (unit times)."""
    y = rng.integers(0, 6, size=400).astype(float)
    assert edge_set(visibility_graph(y, "horizontal")) <= edge_set(visibility_graph(y, "natural"))


def test_monotone_series_worst_case():
    """A convex decreasing series is complete (n(n-1)/2 edges); a concave one a path."""
    x = np.arange(60.0)
    assert visibility_graph(np.exp(-x / 10)).n_edges == 60 * 59 // 2
    assert visibility_graph(-(x**2)).n_edges == 59
    assert visibility_graph(-(x**2), "horizontal").n_edges == 59


# --------------------------------------------------------------------------- invariances


@pytest.mark.parametrize(
    "f",
    [np.exp, np.cbrt, np.arctan, lambda v: 1e-9 * v**3 - 5.0, lambda v: np.floor(v * 3)],
    ids=["exp", "cbrt", "arctan", "cubic", "floor(3v)"],
)
def test_horizontal_invariant_under_increasing_maps(rng, f):
    """HVG(f(y)) == HVG(y) for strictly increasing f (floor(3v) is checked on integer data)."""
    y = rng.integers(-8, 9, size=600).astype(float)  # ties included
    assert edge_set(visibility_graph(f(y), "horizontal")) == edge_set(visibility_graph(y, "horizontal"))


@pytest.mark.parametrize(
    ("scale", "shift"),
    [(1e-12, 0.0), (1e12, 0.0), (1.0, 1e3), (3.7, -2.1), (1e-6, 5e-6), (0.1, 7.3)],
)
def test_natural_invariant_under_affine_values(rng, scale, shift):
    """NVG(a y + b) == NVG(y) for a > 0, with and without exact collinearities (integer ties)."""
    cont = rng.random(1500)
    ties = rng.integers(0, 6, size=400).astype(float)
    for y in (cont, ties):
        assert edge_set(visibility_graph(scale * y + shift)) == edge_set(visibility_graph(y))


@pytest.mark.parametrize(("scale", "shift"), [(1e-9, 0.0), (1e6, 0.0), (0.5, 1e4)])
def test_natural_invariant_under_affine_times(rng, scale, shift):
    """NVG with times g t + d (g > 0) equals NVG with times t."""
    y = rng.integers(0, 6, size=400).astype(float)
    t = np.arange(400.0)
    assert edge_set(visibility_graph(y, times=scale * t + shift)) == edge_set(visibility_graph(y))


def test_integer_input_equals_float_input(rng):
    """Integer input is cast to float64: identical graphs."""
    y = rng.integers(0, 9, size=300)
    assert edge_set(visibility_graph(y)) == edge_set(visibility_graph(y.astype(float)))


# --------------------------------------------------------------------------- graph object


def test_directed_degrees_and_adjacency(rng):
    """Directed edges point forward: out = future neighbours, in = past; A is upper triangular."""
    y = rng.random(300)
    g = visibility_graph(y, directed=True)
    e = g.edges
    assert np.array_equal(g.out_degrees, np.bincount(e[:, 0], minlength=300))
    assert np.array_equal(g.in_degrees, np.bincount(e[:, 1], minlength=300))
    a = g.adjacency()
    assert a.shape == (300, 300)
    dense = a.toarray()
    assert np.all(np.tril(dense) == 0)
    assert np.array_equal(dense.sum(axis=1), g.out_degrees)
    assert g.in_degrees[0] == 0 and g.out_degrees[-1] == 0
    assert isinstance(g.to_networkx(), nx.DiGraph)


def test_undirected_adjacency_and_networkx(rng):
    """Undirected adjacency is symmetric, row sums are degrees, networkx has the same edges."""
    y = rng.normal(size=250)
    g = visibility_graph(y)
    a = g.adjacency()
    assert (a != a.T).nnz == 0
    assert np.array_equal(np.asarray(a.sum(axis=1)).ravel(), g.degrees)
    h = g.to_networkx()
    assert isinstance(h, nx.Graph) and not h.is_directed()
    assert h.number_of_nodes() == 250 and h.number_of_edges() == g.n_edges
    assert set(h.edges()) == edge_set(g)
    assert h.nodes[3]["value"] == y[3] and h.nodes[3]["time"] == 3.0
    assert dict(h.degree()) == dict(enumerate(g.degrees.tolist()))
    assert g.mean_degree == pytest.approx(g.degrees.mean())


def test_degree_distribution_hand_case():
    """P(k) of the HVG of [3, 4, 2, 1] (degrees 1 2 2 1), total, in and out."""
    g = visibility_graph([3, 4, 2, 1], kind="horizontal")
    k, pk = g.degree_distribution()
    assert k.tolist() == [0, 1, 2] and pk.tolist() == [0.0, 0.5, 0.5]
    assert g.degree_distribution("out")[1].tolist() == [0.25, 0.75]
    assert g.degree_distribution("in")[1].tolist() == [0.25, 0.75]
    with pytest.raises(UnknownOptionError, match="`direction` must be one of"):
        g.degree_distribution("both")


def test_clustering_matches_networkx(rng):
    """Local clustering equals networkx.clustering on natural and horizontal graphs."""
    for kind in ("natural", "horizontal"):
        g = visibility_graph(rng.random(300), kind)
        ref = nx.clustering(g.to_networkx())
        assert np.allclose(g.clustering(), [ref[i] for i in range(300)], atol=1e-12)
        k, c_k, n_k = g.clustering_by_degree()
        c = g.clustering()
        for kk, ck, nk in zip(k, c_k, n_k, strict=True):
            sel = g.degrees == kk
            assert nk == sel.sum() and ck == pytest.approx(c[sel].mean())


def test_weights_formulas(rng):
    """Every weight option follows its formula, from the earlier to the later endpoint."""
    y = rng.normal(size=60)
    t = np.cumsum(rng.uniform(0.5, 2.0, size=60))
    base = visibility_graph(y, times=t)
    i, j = base.edges[:, 0], base.edges[:, 1]
    dt, dy = t[j] - t[i], y[j] - y[i]
    expected = {
        "distance": np.sqrt(dt**2 + dy**2),
        "sq_distance": dt**2 + dy**2,
        "v_distance": dy,
        "abs_v_distance": np.abs(dy),
        "h_distance": dt,
        "slope": dy / dt,
        "abs_slope": np.abs(dy / dt),
        "angle": np.arctan(dy / dt),
        "abs_angle": np.arctan(np.abs(dy / dt)),
    }
    assert set(expected) == set(VISIBILITY_WEIGHTS)
    for name, want in expected.items():
        g = visibility_graph(y, times=t, weighted=name)
        assert np.array_equal(g.edges, base.edges)
        assert np.allclose(g.weights, want, rtol=1e-14, atol=0)
        a = g.adjacency().toarray()
        assert np.allclose(a[i, j], want) and np.allclose(a[j, i], want)
        h = g.to_networkx()
        assert h.edges[int(i[0]), int(j[0])]["weight"] == pytest.approx(want[0])
    assert base.weights is None


def test_result_as_dict_is_json(rng):
    """as_dict() gives JSON-able data carrying the edges and parameters."""
    g = visibility_graph(rng.random(20), "horizontal", weighted="abs_slope")
    d = g.as_dict()
    json.dumps(d)
    assert d["kind"] == "horizontal" and d["edges"] == g.edges.tolist()
    assert isinstance(g, VisibilityGraph)


# --------------------------------------------------------------------------- validation


def test_rejects_non_finite():
    """NaN and inf get NonFiniteInputError up front, in the series and in the times."""
    with pytest.raises(NonFiniteInputError, match="`series` must contain only finite values"):
        visibility_graph([1.0, np.nan, 2.0])
    with pytest.raises(NonFiniteInputError, match="`series` must contain only finite values"):
        visibility_graph([1.0, np.inf, 2.0], kind="horizontal")
    with pytest.raises(NonFiniteInputError, match="`times` must contain only finite values"):
        visibility_graph([1.0, 2.0, 3.0], times=[0.0, np.inf, 1.0])


def test_rejects_empty_and_bad_shapes():
    """Empty input and 2-D input get our errors."""
    with pytest.raises(InsufficientDataError, match="`series` must have at least 1 sample"):
        visibility_graph([])
    with pytest.raises(ValidationError, match="`series` must be 1-D"):
        visibility_graph(np.zeros((5, 2)))
    with pytest.raises(ValidationError, match="`series` must hold real numbers"):
        visibility_graph(["a", "b"])


def test_rejects_bad_options():
    """Unknown kind/weight, non-bool directed and out-of-range rtol are rejected with our errors."""
    with pytest.raises(UnknownOptionError, match="`kind` must be one of 'natural', 'horizontal'"):
        visibility_graph([1, 2, 3], kind="penetrable")
    with pytest.raises(UnknownOptionError, match="`weighted` must be one of"):
        visibility_graph([1, 2, 3], weighted="num_penetrations")
    with pytest.raises(ValidationError, match="`directed` must be True or False"):
        visibility_graph([1, 2, 3], directed="yes")
    with pytest.raises(ValidationError, match="`rtol` must be >= 0.0"):
        visibility_graph([1, 2, 3], rtol=-1e-9)
    with pytest.raises(ValidationError, match="`rtol` must be <= 0.001"):
        visibility_graph([1, 2, 3], rtol=0.5)


def test_rejects_bad_times():
    """Times of the wrong length or not strictly increasing are rejected."""
    with pytest.raises(ValidationError, match="`times` must have one entry per sample"):
        visibility_graph([1, 2, 3], times=[0, 1])
    with pytest.raises(ValidationError, match="`times` must be strictly increasing"):
        visibility_graph([1, 2, 3], times=[0, 1, 1])


# --------------------------------------------------------------------------- ts2vg cross-check


def _ts2vg_edges(ts2vg, cls, y, **kw):
    g = getattr(ts2vg, cls)(**kw)
    g.build(np.asarray(y, dtype=float))
    return g


@pytest.mark.parametrize("kind", ["natural", "horizontal"])
def test_crosscheck_ts2vg_edges(crosscheck, rng, kind):
    """Same edges as ts2vg on white noise and on integer series with ties (conventions agree there)."""
    ts2vg = crosscheck("ts2vg")
    cls = "NaturalVG" if kind == "natural" else "HorizontalVG"
    for y in (rng.random(3000), rng.integers(0, 5, size=800).astype(float)):
        theirs = set(map(tuple, _ts2vg_edges(ts2vg, cls, y).edges))
        assert edge_set(visibility_graph(y, kind)) == theirs


def test_crosscheck_ts2vg_directed_and_weighted(crosscheck, rng):
    """Directed degrees and weights match ts2vg's left_to_right graphs."""
    ts2vg = crosscheck("ts2vg")
    y = rng.normal(size=1000)
    for kind, cls in (("natural", "NaturalVG"), ("horizontal", "HorizontalVG")):
        theirs = _ts2vg_edges(ts2vg, cls, y, directed="left_to_right")
        ours = visibility_graph(y, kind, directed=True)
        assert np.array_equal(ours.in_degrees, theirs.degrees_in)
        assert np.array_equal(ours.out_degrees, theirs.degrees_out)
        for w in ("distance", "v_distance", "slope", "angle"):
            tg = _ts2vg_edges(ts2vg, cls, y, weighted=w)
            ref = {(int(a), int(b)): wt for a, b, wt in tg.edges}
            g = visibility_graph(y, kind, weighted=w)
            got = np.array([ref[(a, b)] for a, b in g.edges.tolist()])
            assert np.allclose(g.weights, got, rtol=1e-12, atol=1e-15)


def test_crosscheck_ts2vg_scale_convention(crosscheck, rng):
    """Where ts2vg's absolute slope tolerance breaks scale invariance, graphtraj does not.

    ts2vg compares slopes with tolerance 1e-14 * max(|t|, |y|), so a series of size 1e-12
    loses most edges there; graphtraj's relative criterion gives the unscaled graph.
    """
    ts2vg = crosscheck("ts2vg")
    y = rng.random(1000)
    ref = set(map(tuple, _ts2vg_edges(ts2vg, "NaturalVG", y).edges))
    assert edge_set(visibility_graph(1e-12 * y)) == ref
    tiny = set(map(tuple, _ts2vg_edges(ts2vg, "NaturalVG", 1e-12 * y).edges))
    assert len(tiny) < len(ref)


# --------------------------------------------------------------------------- extreme magnitudes


@pytest.mark.parametrize("kind", ["natural", "horizontal"])
@pytest.mark.parametrize("scale", [2.0**1000, 2.0**-1000, 2.0**-1070])
def test_graph_unchanged_by_extreme_value_scales(rng, kind, scale):
    """Hypothesis: values near the float64 limits (|y| ~ 1e301 or subnormal ~ 1e-301
    and below) give the same graph as the unscaled series: the descents (y_h - y_c)/dt
    must neither overflow to inf (which compares equal to inf and hides edges, even
    between neighbours) nor underflow to 0."""
    y = rng.integers(-8, 9, size=300).astype(float)  # exact ties: scaling is exact
    if scale < 2.0**-1022:  # subnormal: keep values exactly representable
        y = rng.integers(1, 9, size=300).astype(float)
    assert edge_set(visibility_graph(scale * y, kind)) == edge_set(visibility_graph(y, kind))


def test_neighbours_always_visible_at_float_limits():
    """Hypothesis: adjacent samples are always linked, even when their difference
    overflows float64 (1e308 - (-1e308) = inf)."""
    big = np.finfo(float).max
    g = visibility_graph([big, -big, big, -big / 2, 0.0])
    assert {(0, 1), (1, 2), (2, 3), (3, 4)} <= edge_set(g)
    assert edge_set(g) == edge_set(visibility_graph([2.0, -2.0, 2.0, -1.0, 0.0]))


@pytest.mark.parametrize("unit", [1e-310, 1e300])
def test_natural_graph_unchanged_by_extreme_time_units(unit):
    """Hypothesis: times in subnormal (1e-310) or huge (1e300) units give the graph of
    the times 0, 1, 2, ... (the natural criterion is invariant under t -> g t)."""
    y = [5, 2, 4, 1, 5, 6, 4, 7, 2, 5]
    g = visibility_graph(y, times=np.arange(10) * unit)
    assert g.n_edges == 17
    assert edge_set(g) == edge_set(visibility_graph(y))


def test_weights_that_overflow_warn_with_our_warning():
    """Hypothesis: an edge weight whose true value exceeds float64 (a rise from -1.7e308
    to 1.7e308) is returned as inf with our UnreliableResultWarning, not numpy's bare
    'overflow encountered' RuntimeWarning; representable weights stay exact."""
    import warnings

    from graphtraj.exceptions import UnreliableResultWarning

    big = 1.7e308
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        warnings.simplefilter("always", UnreliableResultWarning)
        with pytest.warns(UnreliableResultWarning, match="1 of 2 edge weights"):
            g = visibility_graph([-big, big, 0.0], weighted="v_distance")
        assert g.weights.tolist() == [np.inf, -big]
        a = visibility_graph([-big, big], weighted="angle")
    assert a.weights[0] == pytest.approx(np.pi / 2)
