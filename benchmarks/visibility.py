"""Visibility graphs: graphtraj's compiled kernels against ts2vg, in one invocation.

    python benchmarks/visibility.py           # 10^4, 10^5, 10^6 points; multiplex 83 x 10^4
    python benchmarks/visibility.py --quick   # 10^4, 10^5 points; multiplex 83 x 1000

Part 1 builds natural and horizontal visibility graphs of white noise with
``graphtraj.timeseries.visibility_graph`` and with ts2vg (``NaturalVG`` /
``HorizontalVG``, the baseline), reports the best of a few runs, the ratio
ts2vg / graphtraj, and whether the edge sets agree. ts2vg is timed twice: building its
edge list (what a user gets) and with ``only_degrees=True`` (its fastest path).

Part 2 builds the multiplex visibility graph of the weight series of the paper's
4-10-3 MLP trained on Iris (full-batch GD, lr = 1, 10^4 steps; a random walk if the
capture module is unavailable) and compares with a baseline made of ts2vg layers plus
numpy set operations (np.unique of edge keys for the overlap, np.unique of joint
degree codes per pair for the mutual information).
"""

from __future__ import annotations

import argparse
import math
import time
import warnings

import numpy as np


def best_of(fn, repeats):
    times = []
    out = None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return min(times), out


def edges_of_ts2vg(g):
    e = np.asarray(g.edges, dtype=np.int64).reshape(-1, 2)
    e = np.sort(e, axis=1)
    return e[np.lexsort((e[:, 1], e[:, 0]))]


def part_graphs(sizes, repeats):
    import ts2vg

    from graphtraj.timeseries import visibility_graph

    visibility_graph(np.random.default_rng(0).random(100))  # compile / load kernels
    visibility_graph(np.random.default_rng(0).random(100), "horizontal")
    rows = []
    for n in sizes:
        y = np.random.default_rng(n).random(n)
        reps = repeats if n <= 10**5 else 1
        for kind, cls in (("natural", ts2vg.NaturalVG), ("horizontal", ts2vg.HorizontalVG)):
            t_ours, g = best_of(lambda y=y, kind=kind: visibility_graph(y, kind), reps)

            def build_theirs(only_degrees=False, y=y, cls=cls):
                h = cls()
                h.build(y, only_degrees=only_degrees)
                return h

            t_theirs, h = best_of(build_theirs, reps)
            t_deg, _ = best_of(lambda: build_theirs(True), reps)
            theirs = edges_of_ts2vg(h)
            ours = g.edges
            if theirs.shape == ours.shape and np.array_equal(theirs, ours):
                diff = 0
            else:
                a = set(map(tuple, ours.tolist()))
                b = set(map(tuple, theirs.tolist()))
                diff = len(a ^ b)
            rows.append((kind, n, g.n_edges, t_ours, t_theirs, t_deg, diff))
    print("\nPart 1: visibility graph of white noise (best of runs; seconds)")
    print(f"{'kind':<11}{'n':>9}{'edges':>10}{'graphtraj':>11}{'ts2vg':>9}{'ts2vg deg':>11}"
          f"{'ratio':>8}{'ratio deg':>11}  same edges")
    for kind, n, ne, a, b, c, diff in rows:
        same = "yes" if diff == 0 else f"no ({diff} differ)"
        print(f"{kind:<11}{n:>9}{ne:>10}{a:>11.4f}{b:>9.4f}{c:>11.4f}{b / a:>8.1f}{c / a:>11.1f}  {same}")
    # worst case of divide and conquer: a monotone series (the maximum sits at an end)
    n = 20000
    ramp = np.sqrt(np.arange(n, dtype=float))  # increasing and concave: natural graph = path
    for kind, cls in (("natural", ts2vg.NaturalVG), ("horizontal", ts2vg.HorizontalVG)):
        t_ours, g = best_of(lambda kind=kind: visibility_graph(ramp, kind), 1)
        h = cls()
        t0 = time.perf_counter()
        h.build(ramp)
        t_theirs = time.perf_counter() - t0
        same = "yes" if np.array_equal(edges_of_ts2vg(h), g.edges) else "no"
        print(f"{kind + '*':<11}{n:>9}{g.n_edges:>10}{t_ours:>11.4f}{t_theirs:>9.4f}{'':>11}"
              f"{t_theirs / t_ours:>8.1f}{'':>11}  {same}")
    print("* monotone series sqrt(0..n-1): worst case of divide and conquer, O(n^2) for")
    print("  ts2vg's both kinds and graphtraj's natural kind; graphtraj's horizontal kind is O(n).")
    print("ratio = ts2vg time / graphtraj time (> 1: graphtraj faster); target >= 1/1.5.")
    print("Differing natural edges at large n come from ts2vg's absolute slope tolerance")
    print("(1e-14 * max|t|, |y|): graphtraj's edges there were checked visible in exact arithmetic.")
    return rows


def weight_series(n_steps):
    """(n_steps + 1, 83) parameter series of the paper MLP under full-batch GD, and its source.

    A plain torch loop (softmax cross-entropy, lr = 1, float64) on the package's
    ``paper_mlp`` and Iris; a random walk of the same shape if torch or the capture
    module is unavailable.
    """
    try:
        import torch

        from graphtraj.capture import paper_mlp
        from graphtraj.datasets import load_iris

        threads = torch.get_num_threads()
        torch.set_num_threads(1)  # tiny model: threads only add contention
        X, y = load_iris()
        X, y = torch.as_tensor(X), torch.as_tensor(y)
        model = paper_mlp(seed=0)
        params = list(model.parameters())
        out = np.empty((n_steps + 1, sum(p.numel() for p in params)))
        for step in range(n_steps + 1):
            out[step] = torch.cat([p.detach().reshape(-1) for p in params]).numpy()
            if step == n_steps:
                break
            loss = torch.nn.functional.cross_entropy(model(X), y)
            grads = torch.autograd.grad(loss, params)
            with torch.no_grad():
                for p, g in zip(params, grads, strict=True):
                    p -= 1.0 * g
        torch.set_num_threads(threads)
        return out, "paper 4-10-3 MLP, Iris, full-batch GD lr=1"
    except Exception as exc:  # capture not available: a stand-in with the same shape
        gen = np.random.default_rng(0)
        return np.cumsum(gen.normal(size=(n_steps + 1, 83)), axis=0), f"random walk ({type(exc).__name__})"


def baseline_multiplex(x):
    """ts2vg layers + numpy: overlap via unique edge keys, MI via unique joint codes."""
    import ts2vg

    T, P = x.shape
    keys = []
    degrees = np.empty((P, T), np.int64)
    for a in range(P):
        h = ts2vg.HorizontalVG()
        h.build(np.ascontiguousarray(x[:, a]))
        e = np.asarray(h.edges, dtype=np.int64)
        e.sort(axis=1)
        keys.append(e[:, 0] * T + e[:, 1])
        degrees[a] = h.degrees
    allk = np.concatenate(keys)
    overlap = allk.size / (P * np.unique(allk).size)
    mis = []
    for a in range(P):
        for b in range(a + 1, P):
            _, ca = np.unique(degrees[a], return_counts=True)
            _, cb = np.unique(degrees[b], return_counts=True)
            _, cj = np.unique(degrees[a] * (T + 1) + degrees[b], return_counts=True)
            h = lambda c: -np.sum((c / T) * np.log(c / T))  # noqa: E731
            mis.append(h(ca) + h(cb) - h(cj))
    return overlap, float(np.mean(mis))


def part_multiplex(n_steps):
    from graphtraj.exceptions import UndefinedResultWarning
    from graphtraj.timeseries import multiplex_visibility

    x, source = weight_series(n_steps)
    with warnings.catch_warnings():  # layers without a degree tail are expected here
        warnings.simplefilter("ignore", UndefinedResultWarning)
        multiplex_visibility(x[:50, :3])  # compile / load kernels
        t_ours, m = best_of(lambda: multiplex_visibility(x), 1)
    t_base, (o_base, mi_base) = best_of(lambda: baseline_multiplex(x), 1)
    print(f"\nPart 2: multiplex HVG of {x.shape[1]} parameter series x {x.shape[0]} steps ({source})")
    print(f"{'':<12}{'seconds':>9}{'overlap':>10}{'mean MI':>10}")
    print(f"{'graphtraj':<12}{t_ours:>9.3f}{m.edge_overlap:>10.4f}{m.mutual_information:>10.4f}")
    print(f"{'baseline':<12}{t_base:>9.3f}{o_base:>10.4f}{mi_base:>10.4f}")
    print(f"ratio baseline / graphtraj = {t_base / t_ours:.1f}; "
          f"same numbers: {math.isclose(o_base, m.edge_overlap, rel_tol=1e-12) and math.isclose(mi_base, m.mutual_information, rel_tol=1e-9)}")
    return t_ours, t_base


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes (smoke run, < 30 s)")
    args = parser.parse_args(argv)
    sizes = (10**4, 10**5) if args.quick else (10**4, 10**5, 10**6)
    part_graphs(sizes, repeats=3)
    part_multiplex(1000 if args.quick else 10**4)


if __name__ == "__main__":
    main()
