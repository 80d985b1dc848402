"""Field graphs shared by the measures tests (plain helpers, not fixtures)."""

import numpy as np

from graphtraj.snapshots import GraphSeries


def layered_pair(rng, sizes=(4, 10, 3), bias=True):
    """Two random snapshots of a layered network as a 2-snapshot series."""
    ws = [rng.normal(size=(2, o, i)) for i, o in zip(sizes[:-1], sizes[1:], strict=True)]
    bs = [rng.normal(size=(2, o)) for o in sizes[1:]] if bias else None
    return GraphSeries.from_layers([0, 1], ws, bs)


def two_triangles_and_cycle():
    """C15: two disjoint triangles vs a 6-cycle, undirected, unit weights."""
    tri = np.zeros((6, 6))
    for a, b in [(0, 1), (1, 2), (0, 2), (3, 4), (4, 5), (3, 5)]:
        tri[a, b] = tri[b, a] = 1.0
    cyc = np.roll(np.eye(6), 1, 1) + np.roll(np.eye(6), -1, 1)
    return GraphSeries.from_adjacency([0, 1], np.stack([tri, cyc]))


def signed_directed_pair(rng, n=6, density=0.85):
    """Two random signed, weighted, directed graphs without self-loops."""
    m = rng.normal(size=(2, n, n)) * (rng.random((2, n, n)) < density)
    m[:, np.arange(n), np.arange(n)] = 0.0
    return GraphSeries.from_adjacency([0, 1], m)


def field_pairs(rng):
    """(name, 2-snapshot series) pairs covering every kind of input."""
    return [
        ("paper_mlp", layered_pair(rng)),
        ("deep_mlp", layered_pair(rng, sizes=(3, 5, 4, 2))),
        ("mlp_no_bias", layered_pair(rng, sizes=(2, 4, 2), bias=False)),
        ("triangles_vs_cycle", two_triangles_and_cycle()),
        ("signed_directed", signed_directed_pair(rng)),
    ]


def hidden_relabel(series, rng):
    """A node order that permutes every hidden layer (layered) or all nodes (general)."""
    if not series.is_layered:
        return rng.permutation(series.n_nodes)
    offs, sizes = series.layer_offsets, series.layer_sizes
    parts = [np.arange(sizes[0])]
    for li in range(1, len(sizes) - 1):
        p = rng.permutation(sizes[li])
        while sizes[li] > 1 and np.all(p == np.arange(sizes[li])):
            p = rng.permutation(sizes[li])
        parts.append(offs[li] + p)
    parts.append(offs[-1] + np.arange(sizes[-1]))
    return np.concatenate(parts)


def transformed(series, fn_w, fn_b=None):
    """A copy of ``series`` with every weight array mapped by ``fn_w`` (and biases)."""
    if series.is_layered:
        bs = series.biases
        return GraphSeries.from_layers(
            series.times, [fn_w(w.copy()) for w in series.layers],
            None if bs is None else [(fn_b or fn_w)(b.copy()) for b in bs],
        )
    return GraphSeries.from_adjacency(series.times, fn_w(series.dense()),
                                      directed=series.directed)
