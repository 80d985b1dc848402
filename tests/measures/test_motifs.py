"""Tests for graphtraj.measures.motifs against naive enumerations."""

import itertools
from math import comb

import numpy as np
import pytest

from graphtraj.exceptions import UndefinedResultWarning, ValidationError
from graphtraj.measures import motif_stats
from graphtraj.measures.motifs import PATH_PATTERNS, TRIAD_TYPES, balance_fraction
from graphtraj.snapshots import GraphSeries


def _layered(rng, sizes=(3, 5, 4, 3), t=3):
    ws = [rng.normal(size=(t, o, i)) for i, o in zip(sizes[:-1], sizes[1:], strict=True)]
    ws[0][0, 1, 2] = 0.0  # a zero weight: its paths belong to no pattern
    return GraphSeries.from_layers(np.arange(t), ws, [rng.normal(size=(t, o)) for o in sizes[1:]])


@pytest.mark.filterwarnings("ignore::graphtraj.exceptions.UndefinedResultWarning")
def test_path_patterns_match_enumeration(rng):
    """Fractions and mean intensities of ++, +-, -+, -- equal a loop over all paths."""
    gs = _layered(rng)
    ms = motif_stats(gs, rng=0)
    for t in range(len(gs)):
        for h in range(2):
            a, b = gs.layers[h][t], gs.layers[h + 1][t]
            found = {p: [] for p in PATH_PATTERNS}
            for i in range(a.shape[1]):
                for j in range(a.shape[0]):
                    for k in range(b.shape[0]):
                        x, y = a[j, i], b[k, j]
                        if x == 0 or y == 0:
                            continue
                        key = ("+" if x > 0 else "-") + ("+" if y > 0 else "-")
                        found[key].append(np.sqrt(abs(x) * abs(y)))
            total = sum(len(v) for v in found.values())
            for q, p in enumerate(PATH_PATTERNS):
                assert np.isclose(ms.path_fraction[t, h, q], len(found[p]) / total)
                if found[p]:
                    assert np.isclose(ms.path_intensity[t, h, q], np.mean(found[p]), rtol=1e-12)
                else:
                    assert np.isnan(ms.path_intensity[t, h, q])


def test_balance_matches_enumeration_of_4_cycles(rng):
    """The closed form counts balanced 4-cycles exactly like a loop over row/column pairs."""
    s = np.sign(rng.normal(size=(4, 5, 6)))
    s[0, 1, 1] = 0
    frac = balance_fraction(s)
    for t in range(4):
        bal = tot = 0
        for j, jj in itertools.combinations(range(5), 2):
            for i, ii in itertools.combinations(range(6), 2):
                prod = s[t, j, i] * s[t, j, ii] * s[t, jj, i] * s[t, jj, ii]
                if prod != 0:
                    tot += 1
                    bal += prod > 0
        assert np.isclose(frac[t], bal / tot)


def test_balanced_layer_scores_above_null(rng):
    """A rank-one sign pattern (u_j v_i) is perfectly balanced and far above the null."""
    u, v = np.sign(rng.normal(size=6)), np.sign(rng.normal(size=8))
    w0 = (np.outer(u, v) * rng.uniform(0.5, 1.5, size=(6, 8)))[None]
    w1 = rng.normal(size=(1, 3, 6))
    ms = motif_stats(GraphSeries.from_layers([0], [w0, w1]), n_null=50, rng=1)
    assert ms.balance[0, 0] == 1.0
    assert ms.balance_z[0, 0] > 3.0
    assert 0.4 < ms.balance_null_mean[0, 0] < 0.8


@pytest.mark.filterwarnings("ignore::graphtraj.exceptions.UndefinedResultWarning")
def test_null_model_is_seeded_and_label_free(rng):
    """Same seed → same z; relabelling hidden units changes no motif statistic."""
    gs = _layered(rng)
    a = motif_stats(gs, rng=5)
    b = motif_stats(gs, rng=5)
    np.testing.assert_array_equal(a.balance_z, b.balance_z)
    order = np.r_[0:3, 3 + rng.permutation(5), 8 + rng.permutation(4), 12:15]
    c = motif_stats(gs.permute_nodes(order), rng=5)
    for f in ("path_fraction", "path_intensity", "balance", "balance_null_mean", "balance_z"):
        np.testing.assert_allclose(getattr(c, f), getattr(a, f), rtol=1e-12)
    for k, v in a.node_strength.items():
        np.testing.assert_allclose(np.sort(c.node_strength[k], 1), np.sort(v, 1), rtol=1e-12)


def test_node_strengths(rng):
    """In/out strengths of positive and negative parts equal row/column sums."""
    m = rng.normal(size=(2, 4, 4))
    ms = motif_stats(GraphSeries.from_adjacency([0, 1], m))
    np.testing.assert_allclose(ms.node_strength["in_pos"], np.maximum(m, 0).sum(1))
    np.testing.assert_allclose(ms.node_strength["out_neg"], np.maximum(-m, 0).sum(2))
    assert np.all(ms.node_strength["in_neg"] >= 0)


def _undirected(rng, n=7, p=0.6):
    a = np.triu((rng.random((n, n)) < p) * rng.uniform(0.1, 2.0, (n, n)), 1)
    return a + a.T


def test_triangles_equal_trace_and_onnela_enumeration(rng):
    """Triangle count = tr(A³)/6; intensity and coherence equal a loop over triangles."""
    mats = np.stack([_undirected(rng) for _ in range(3)])
    mats[1, 0, 3] *= -1  # signs are dropped (|w|) for triangles
    mats[1, 3, 0] *= -1
    ms = motif_stats(GraphSeries.from_adjacency(np.arange(3), mats))
    for t, w in enumerate(np.abs(mats)):
        b = (w > 0).astype(float)
        assert ms.triangle_count[t] == np.trace(b @ b @ b) / 6
        wn = w / w.max()
        inten, arith = 0.0, 0.0
        for i, j, k in itertools.combinations(range(7), 3):
            if b[i, j] and b[j, k] and b[i, k]:
                inten += (wn[i, j] * wn[j, k] * wn[i, k]) ** (1 / 3)
                arith += (wn[i, j] + wn[j, k] + wn[i, k]) / 3
        assert np.isclose(ms.triangle_intensity[t], inten, rtol=1e-12)
        if arith:
            assert np.isclose(ms.triangle_coherence[t], inten / arith, rtol=1e-12)
        else:
            assert np.isnan(ms.triangle_coherence[t])
    assert ms.triangle_count.sum() > 0


def test_feed_forward_loops_match_enumeration(rng):
    """FFL counts, intensity and coherence of a directed graph equal a loop over triples."""
    n = 6
    w = rng.uniform(0.2, 1.0, (n, n)) * (rng.random((n, n)) < 0.45) * (1 - np.eye(n))
    ms = motif_stats(GraphSeries.from_adjacency([0], w[None]))
    wn = w / w.max()
    cnt = inten = arith = 0.0
    for i, j, k in itertools.permutations(range(n), 3):
        if wn[i, j] and wn[j, k] and wn[i, k]:
            cnt += 1
            inten += (wn[i, j] * wn[j, k] * wn[i, k]) ** (1 / 3)
            arith += (wn[i, j] + wn[j, k] + wn[i, k]) / 3
    assert cnt > 0 and ms.ffl_count[0] == cnt
    assert np.isclose(ms.ffl_intensity[0], inten, rtol=1e-12)
    assert np.isclose(ms.ffl_coherence[0], inten / arith, rtol=1e-12)


@pytest.mark.filterwarnings("ignore::graphtraj.exceptions.UndefinedResultWarning")  # no FFL
def test_triad_census_of_hand_drawn_graphs():
    """A 3-cycle is 030C, a feed-forward loop 030T; the threshold drops weak edges."""
    cyc = np.zeros((4, 4))
    cyc[0, 1] = cyc[1, 2] = cyc[2, 0] = 1.0
    ffl = np.zeros((4, 4))
    ffl[0, 1] = ffl[1, 2] = 1.0
    ffl[0, 2] = 0.05
    ms = motif_stats(GraphSeries.from_adjacency([0, 1], np.stack([cyc, ffl])), triad_threshold=0.0)
    census = dict(zip(TRIAD_TYPES, ms.triad_census[0], strict=True))
    # {0,1,2} is the cycle; each triad with the isolated node 3 holds one edge
    assert census["030C"] == 1 and census["012"] == 3 and census["003"] == 0
    assert census["021D"] + census["021U"] + census["021C"] == 0
    assert ms.triad_census.sum(1).tolist() == [comb(4, 3)] * 2
    assert dict(zip(TRIAD_TYPES, ms.triad_census[1], strict=True))["030T"] == 1
    ms = motif_stats(GraphSeries.from_adjacency([0, 1], np.stack([cyc, ffl])), triad_threshold=0.1)
    assert dict(zip(TRIAD_TYPES, ms.triad_census[1], strict=True))["021C"] == 1


def test_motif_validation_and_undefined():
    """Bad arguments raise; a layer without 4-cycles gives NaN with a warning."""
    with pytest.raises(ValidationError, match="GraphSeries"):
        motif_stats(np.zeros((1, 3, 3)))
    gs = GraphSeries.from_layers([0], [np.ones((1, 2, 1)), np.ones((1, 1, 2))])
    with pytest.raises(ValidationError, match="n_null"):
        motif_stats(gs, n_null=1)
    with pytest.raises(ValidationError, match="triad_threshold"):
        motif_stats(gs, triad_threshold=-1.0)
    with pytest.warns(UndefinedResultWarning, match="no 4-cycle"):
        ms = motif_stats(gs)
    assert np.isnan(ms.balance[0, 0])
    assert ms.triangle_count is None and ms.triad_census is None


def test_general_series_without_triangles_warns():
    """Hypothesis: a general graph with no triangle and no feed-forward loop (a path)
    has undefined coherences: NaN with an UndefinedResultWarning naming them, as for
    the layered statistics — never a silent NaN."""
    path = np.diag(np.ones(3), 1)
    with pytest.warns(UndefinedResultWarning, match="triangle.*feed-forward"):
        ms = motif_stats(GraphSeries.from_adjacency([0], path[None]))
    assert np.isnan(ms.triangle_coherence[0]) and np.isnan(ms.ffl_coherence[0])
    assert ms.triangle_count[0] == 0.0 and ms.ffl_count[0] == 0.0
