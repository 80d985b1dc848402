"""Tests for hidden-unit alignment (graphtraj.measures.alignment and the aligned metrics)."""

import itertools

import numpy as np
import pytest

from graphtraj.exceptions import ValidationError
from graphtraj.measures import (
    align_hidden,
    chain_align,
    distance,
    distance_matrix,
    hidden_permutations,
)
from graphtraj.snapshots import GraphSeries


def _net(rng, sizes=(3, 5, 2), t=1, bias=True):
    ws = [rng.normal(size=(t, o, i)) for i, o in zip(sizes[:-1], sizes[1:], strict=True)]
    bs = [rng.normal(size=(t, o)) for o in sizes[1:]] if bias else None
    return GraphSeries.from_layers(np.arange(t), ws, bs)


def _hidden_order(gs, perms):
    offs, sizes = gs.layer_offsets, gs.layer_sizes
    parts = [np.arange(sizes[0])] + [offs[k + 1] + p for k, p in enumerate(perms)]
    return np.concatenate(parts + [offs[-1] + np.arange(sizes[-1])])


@pytest.mark.parametrize("bias", [True, False])
def test_exact_alignment_is_zero_under_any_hidden_permutation(rng, bias):
    """A network and any relabelling of its hidden units are at aligned distance 0."""
    gs = _net(rng, sizes=(4, 10, 3), bias=bias)
    for _ in range(5):
        moved = gs.permute_nodes(_hidden_order(gs, [rng.permutation(10)]))
        assert distance(gs, moved, "l1") > 1.0
        assert distance(gs, moved, "aligned_l1") == 0.0
        assert distance(moved, gs, "aligned_l1_layerwise") == 0.0


def test_exact_alignment_equals_brute_force_over_120_permutations(rng):
    """With 5 hidden units the exact distance is the minimum over all 120 relabellings."""
    for _ in range(3):
        a = _net(rng)
        b = _net(rng)
        brute = min(
            distance(a, b.permute_nodes(_hidden_order(b, [np.array(p)])), "l1")
            for p in itertools.permutations(range(5))
        )
        assert np.isclose(distance(a, b, "aligned_l1"), brute, rtol=1e-12)
        assert np.isclose(distance(a, b, "aligned_l1_layerwise"), brute, rtol=1e-12)
        assert distance(a, b, "aligned_l1") <= distance(a, b, "l1")


def test_hidden_permutations_inverts_the_relabelling(rng):
    """hidden_permutations returns the inverse relabelling, so applying it restores a."""
    gs = _net(rng, sizes=(2, 6, 4, 3))
    p1, p2 = rng.permutation(6), rng.permutation(4)
    moved = gs.permute_nodes(_hidden_order(gs, [p1, p2]))
    q1, q2 = hidden_permutations(gs, moved)
    np.testing.assert_array_equal(p1[q1], np.arange(6))
    np.testing.assert_array_equal(p2[q2], np.arange(4))
    restored = moved.permute_nodes(_hidden_order(moved, [q1, q2]))
    np.testing.assert_allclose(restored.dense(), gs.dense())
    assert distance(gs, moved, "aligned_l1_layerwise") == 0.0


def test_layerwise_is_an_upper_bound_for_deep_nets(rng):
    """For two hidden layers the layerwise value lies between 0 and the plain L1."""
    a, b = _net(rng, sizes=(3, 4, 4, 2)), _net(rng, sizes=(3, 4, 4, 2))
    brute = min(
        distance(a, b.permute_nodes(_hidden_order(b, [np.array(p), np.array(q)])), "l1")
        for p in itertools.permutations(range(4)) for q in itertools.permutations(range(4))
    )
    lw = distance(a, b, "aligned_l1_layerwise")
    assert brute - 1e-12 <= lw <= distance(a, b, "l1") + 1e-12


def test_chain_align_undoes_per_step_relabelling(rng):
    """A slowly drifting run whose hidden units are shuffled at every step is restored."""
    t = 12
    w0 = np.cumsum(rng.normal(scale=0.01, size=(t, 6, 3)), 0) + rng.normal(size=(1, 6, 3))
    w1 = np.cumsum(rng.normal(scale=0.01, size=(t, 2, 6)), 0) + rng.normal(size=(1, 2, 6))
    b0 = np.cumsum(rng.normal(scale=0.01, size=(t, 6)), 0)
    gs = GraphSeries.from_layers(np.arange(t), [w0, w1], [b0, np.zeros((t, 2))])
    perms = [np.arange(6)] + [rng.permutation(6) for _ in range(t - 1)]
    sw0 = np.stack([w0[k][p] for k, p in enumerate(perms)])
    sw1 = np.stack([w1[k][:, p] for k, p in enumerate(perms)])
    sb0 = np.stack([b0[k][p] for k, p in enumerate(perms)])
    shuffled = GraphSeries.from_layers(np.arange(t), [sw0, sw1], [sb0, np.zeros((t, 2))])
    np.testing.assert_allclose(chain_align(shuffled).dense(), gs.dense())
    np.testing.assert_allclose(distance_matrix(shuffled, "aligned_l1_chained"),
                               distance_matrix(gs, "l1"), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(align_hidden(shuffled, gs[0]).dense(), gs.dense())


def test_exact_matrix_matches_brute_force_pairs(rng):
    """The blocked exact matrix equals per-pair brute force on a short series."""
    gs = _net(rng, sizes=(2, 4, 2), t=4)
    d = distance_matrix(gs, "aligned_l1", block=3)
    for i in range(4):
        for j in range(4):
            brute = min(
                distance(gs[i], gs[j].permute_nodes(_hidden_order(gs, [np.array(p)])), "l1")
                for p in itertools.permutations(range(4))
            ) if i != j else 0.0
            assert np.isclose(d[i, j], brute, rtol=1e-12, atol=1e-14)


def test_alignment_validation(rng):
    """Non-layered series and mismatched layer sizes are rejected with our errors."""
    g = GraphSeries.from_adjacency([0], np.zeros((1, 3, 3)))
    a = _net(rng)
    with pytest.raises(ValidationError, match="layered GraphSeries"):
        hidden_permutations(g, a)
    with pytest.raises(ValidationError, match="same layer sizes"):
        hidden_permutations(a, _net(rng, sizes=(3, 4, 2)))
    with pytest.raises(ValidationError, match="same layer sizes"):
        align_hidden(a, _net(rng, bias=False))
    with pytest.raises(ValidationError, match="layered GraphSeries"):
        chain_align(g)
