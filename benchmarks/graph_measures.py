"""Benchmark of graphtraj.measures on snapshots of the paper's 4-10-3 network.

Runs, in one invocation, each graphtraj computation next to a named baseline:

* ``distance_matrix(series, "l1")`` (blocked upper triangle) vs ``scipy`` ``pdist`` +
  ``squareform`` (condensed temporary, then the square copy) — time and peak memory
  beyond the T×T result (``tracemalloc``, which sees numpy's allocations);
* ``distance_matrix(series, "laplacian")`` (batched ``eigvalsh`` + blocked distances)
  vs a per-snapshot networkx loop for the spectra followed by ``pdist``;
* ``distance_matrix(series, "aligned_l1")`` vs a naive per-pair loop (build the cost
  matrix, ``linear_sum_assignment``), the latter timed on a subsample and scaled by the
  number of pairs;
* ``spectral_stats(series)`` vs a per-snapshot loop of networkx spectra and numpy SVDs.

Usage: ``python benchmarks/graph_measures.py [--quick]`` (``--quick``: T = 1000 / 200,
finishes in well under 30 s). The snapshots are a random walk in the 83 parameters of
the 4-10-3 MLP (what matters for cost is the network size and T, not the dynamics).
"""

from __future__ import annotations

import argparse
import time
import tracemalloc

import networkx as nx
import numpy as np
from scipy.optimize import linear_sum_assignment
from scipy.spatial.distance import cdist, pdist, squareform

from graphtraj.measures import distance_matrix, spectral_stats
from graphtraj.snapshots import GraphSeries
from graphtraj.trajectory import ParamLayout, Trajectory


def paper_series(t: int, seed: int = 0) -> GraphSeries:
    rng = np.random.default_rng(seed)
    lay = ParamLayout.for_mlp([4, 10, 3])
    states = np.cumsum(rng.normal(scale=0.01, size=(t, lay.size)), 0) + rng.normal(size=lay.size)
    return GraphSeries.from_trajectory(Trajectory(np.arange(t), states, lay))


def timed(fn, *, memory: bool = False):
    """(result, seconds, peak bytes allocated during the call or None)."""
    if memory:
        tracemalloc.start()
    t0 = time.perf_counter()
    out = fn()
    dt = time.perf_counter() - t0
    peak = None
    if memory:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    return out, dt, peak


def baseline_l1(x: np.ndarray) -> np.ndarray:
    return squareform(pdist(x, "cityblock"))


def baseline_laplacian(gs: GraphSeries) -> np.ndarray:
    spectra = []
    for t in range(len(gs)):
        w = np.abs(gs.dense(t)[0])
        g = nx.from_numpy_array(w + w.T)
        spectra.append(np.sort(nx.laplacian_spectrum(g)))
    return squareform(pdist(np.array(spectra), "euclidean"))


def baseline_aligned(gs: GraphSeries, idx: np.ndarray) -> float:
    """Seconds per pair of a naive exact alignment loop over the pairs of ``idx``."""
    w0, w1 = gs.layers
    b0, b1 = gs.biases
    t0 = time.perf_counter()
    n = 0
    for a in idx:
        for b in idx:
            if b <= a:
                continue
            ua = np.hstack([w0[a], b0[a][:, None], w1[a].T])
            ub = np.hstack([w0[b], b0[b][:, None], w1[b].T])
            cost = cdist(ua, ub, "cityblock")
            r, c = linear_sum_assignment(cost)
            _ = cost[r, c].sum() + np.abs(b1[a] - b1[b]).sum()
            n += 1
    return (time.perf_counter() - t0) / n


def baseline_spectral(gs: GraphSeries) -> None:
    for t in range(len(gs)):
        for w in gs.layers:
            s = np.linalg.svd(w[t], compute_uv=False)
            _ = (s[0], (s**2).sum() / s[0] ** 2)
        a = np.abs(gs.dense(t)[0])
        g = nx.from_numpy_array(a + a.T)
        _ = nx.adjacency_spectrum(g)
        lap = np.sort(nx.laplacian_spectrum(g))
        _ = lap[1]


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small sizes for a smoke run")
    args = ap.parse_args(argv)
    t_big = 1000 if args.quick else 10_000
    t_align = 200 if args.quick else 1000
    t_base_align = 60 if args.quick else 150
    rows = []

    gs = paper_series(t_big)
    x = gs.vectors()
    res = t_big * t_big * 8
    d, t_ours, m_ours = timed(lambda: distance_matrix(gs, "l1"), memory=True)
    ref, t_base, m_base = timed(lambda: baseline_l1(x), memory=True)
    assert np.allclose(d, ref, rtol=1e-12)
    del ref
    rows.append((f"distance_matrix l1, T={t_big}", "pdist+squareform", t_ours, t_base,
                 f"extra memory {(m_ours - res) / 2**20:.0f} MiB vs {(m_base - res) / 2**20:.0f} MiB"))
    del d

    d, t_ours, m_ours = timed(lambda: distance_matrix(gs, "laplacian"), memory=True)
    ref, t_base, _ = timed(lambda: baseline_laplacian(gs))
    assert np.allclose(d, ref, rtol=1e-8, atol=1e-10)
    del ref
    rows.append((f"distance_matrix laplacian, T={t_big}", "networkx loop+pdist", t_ours, t_base,
                 f"extra memory {(m_ours - res) / 2**20:.0f} MiB"))
    del d

    ga = gs[:t_align]
    _, t_ours, _ = timed(lambda: distance_matrix(ga, "aligned_l1"))
    per_pair = baseline_aligned(ga, np.arange(t_base_align))
    pairs = t_align * (t_align - 1) / 2
    rows.append((f"distance_matrix aligned_l1, T={t_align}", "per-pair LAP loop (scaled)",
                 t_ours, per_pair * pairs, f"baseline timed on {t_base_align} snapshots"))

    st, t_ours, _ = timed(lambda: spectral_stats(gs))
    _, t_base, _ = timed(lambda: baseline_spectral(gs))
    rows.append((f"spectral_stats, T={t_big}", "per-snapshot networkx/numpy loop", t_ours, t_base, ""))

    print(f"{'computation':40s} {'baseline':34s} {'graphtraj s':>11s} {'baseline s':>11s} {'speed-up':>9s}  notes")
    for name, base, a, b, note in rows:
        print(f"{name:40s} {base:34s} {a:11.3f} {b:11.3f} {b / a:8.1f}x  {note}")


if __name__ == "__main__":
    main()
