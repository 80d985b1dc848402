"""Neighbour search outside a Theiler window and divergence curves of neighbour pairs.

Private kernels shared by the Lyapunov estimators, the network MLE and the embedding
parameter estimators. They trust their input (validated by the public functions).

Memory is O(N k) for k neighbours per point: scipy's KD-tree answers the queries in
chunks, and distances along the followed pairs are computed one step at a time. No
N x N matrix is ever formed.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy.spatial import cKDTree

#: Rows of queries answered at once (bounds the memory of one KD-tree query).
CHUNK = 8192

PairDistance = Callable[[np.ndarray, np.ndarray], np.ndarray]


def minkowski_p(metric: str) -> float:
    """The Minkowski exponent of a metric name."""
    return {"euclidean": 2.0, "chebyshev": np.inf, "manhattan": 1.0}[metric]


def rowwise_distance(points: np.ndarray, p: float) -> PairDistance:
    """``f(a, b)`` = distances between ``points[a]`` and ``points[b]`` (index arrays)."""

    def dist(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        out = np.empty(a.size, dtype=np.float64)
        for s in range(0, a.size, 4 * CHUNK):
            diff = points[a[s : s + 4 * CHUNK]] - points[b[s : s + 4 * CHUNK]]
            if p == 2.0:
                # the same expression as nolds' rowwise_euclidean (bitwise-equal results)
                out[s : s + 4 * CHUNK] = np.sqrt(np.sum(diff**2, axis=1))
            elif p == 1.0:
                out[s : s + 4 * CHUNK] = np.sum(np.abs(diff), axis=1)
            else:
                out[s : s + 4 * CHUNK] = np.max(np.abs(diff), axis=1)
        return out

    return dist


def matrix_distance(dmat: np.ndarray) -> PairDistance:
    """``f(a, b)`` = ``dmat[a, b]`` for a precomputed distance matrix."""
    return lambda a, b: dmat[a, b]


def knn_outside(
    points: np.ndarray,
    theiler: int,
    k: int = 1,
    *,
    p: float = 2.0,
    exclude_zero: bool = True,
    rows: np.ndarray | None = None,
    tree: cKDTree | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` nearest neighbours of ``points[rows]`` among ``points`` with ``|i-j| >= theiler``.

    Ties are broken by the lower index (as ``np.argmin`` does). With ``exclude_zero``
    neighbours at distance exactly 0 are skipped. Returns ``(idx, dist)`` of shape
    ``(len(rows), k)``; rows without ``k`` admissible neighbours hold ``-1`` / ``inf``
    in the missing places.
    """
    n = points.shape[0]
    rows = np.arange(n) if rows is None else np.asarray(rows, dtype=np.int64)
    tree = cKDTree(points) if tree is None else tree
    out_idx = np.full((rows.size, k), -1, dtype=np.int64)
    out_d = np.full((rows.size, k), np.inf)
    pending = np.arange(rows.size)
    kk = min(n, k + 2 * max(theiler, 1) + 1)
    while pending.size:
        still = []
        for s in range(0, pending.size, CHUNK):
            block = pending[s : s + CHUNK]
            r = rows[block]
            d, j = tree.query(points[r], kk, p=p)
            d = np.asarray(d, dtype=np.float64).reshape(block.size, kk)
            j = np.asarray(j, dtype=np.int64).reshape(block.size, kk)
            valid = (j < n) & (np.abs(j - r[:, None]) >= theiler)
            if exclude_zero:
                valid &= d > 0
            dm = np.where(valid, d, np.inf)
            order = np.lexsort((np.where(valid, j, n), dm), axis=1)
            d_sorted = np.take_along_axis(dm, order, axis=1)
            j_sorted = np.take_along_axis(j, order, axis=1)
            kth = d_sorted[:, k - 1]
            # complete: k admissible found and no unseen candidate can tie with the k-th
            complete = np.isfinite(kth) & ((kk >= n) | (d[:, -1] > kth))
            if kk >= n:
                complete[:] = True
            done = block[complete]
            out_d[done] = d_sorted[complete, :k]
            jj = j_sorted[complete, :k]
            out_idx[done] = np.where(np.isfinite(d_sorted[complete, :k]), jj, -1)
            still.append(block[~complete])
        pending = np.concatenate(still) if still else np.empty(0, dtype=np.int64)
        if kk >= n:
            break
        kk = min(n, 2 * kk)
    return out_idx, out_d


def radius_outside(
    points: np.ndarray,
    eps: float,
    theiler: int,
    *,
    p: float = 2.0,
    rows: np.ndarray | None = None,
    tree: cKDTree | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """All pairs ``(row position, j)`` with ``0 < d(points[rows], points[j]) <= eps``,
    ``|i - j| >= theiler``. Returns flat arrays ``(group, j)`` (group = position in rows)."""
    rows = np.arange(points.shape[0]) if rows is None else np.asarray(rows, dtype=np.int64)
    tree = cKDTree(points) if tree is None else tree
    groups, js = [], []
    for s in range(0, rows.size, CHUNK):
        r = rows[s : s + CHUNK]
        lists = tree.query_ball_point(points[r], eps, p=p, return_sorted=True)
        lens = np.fromiter((len(x) for x in lists), dtype=np.int64, count=len(lists))
        if lens.sum() == 0:
            continue
        j = np.concatenate([np.asarray(x, dtype=np.int64) for x in lists if len(x)])
        g = np.repeat(np.arange(s, s + r.size), lens)
        i = rows[g]
        keep = np.abs(j - i) >= theiler
        diff = points[i[keep]] - points[j[keep]]
        nz = np.any(diff != 0, axis=1)
        groups.append(g[keep][nz])
        js.append(j[keep][nz])
    if not groups:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    return np.concatenate(groups), np.concatenate(js)


def follow_pairs(
    pair_dist: PairDistance,
    i_idx: np.ndarray,
    j_idx: np.ndarray,
    group: np.ndarray,
    n_groups: int,
    n_steps: int,
    *,
    min_valid_fraction: float = 0.5,
    progress_iter: Callable | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Kantz-style divergence curve S(k) = < ln mean_{j in U_i} d(x_{i+k}, x_{j+k}) >_i.

    ``i_idx[q]``, ``j_idx[q]`` is the q-th neighbour pair; ``group[q]`` its reference
    (0 .. n_groups - 1). With one pair per group this is Rosenstein's ``<ln d>``.
    References whose mean distance is 0 at step k are left out of that step (never a
    log of 0); the point is NaN when fewer than ``min_valid_fraction`` of the
    references remain (and when none does). Returns ``(curve, n_valid)``.
    """
    counts = np.bincount(group, minlength=n_groups).astype(np.float64)
    has = counts > 0
    n_ref = int(has.sum())
    curve = np.full(n_steps, np.nan)
    n_valid = np.zeros(n_steps, dtype=np.int64)
    steps = range(n_steps) if progress_iter is None else progress_iter(range(n_steps))
    for k in steps:
        d = pair_dist(i_idx + k, j_idx + k)
        sums = np.bincount(group, weights=d, minlength=n_groups)[has]
        means = sums / counts[has]
        pos = means > 0
        n_valid[k] = int(pos.sum())
        if n_valid[k] and n_valid[k] >= min_valid_fraction * n_ref:
            curve[k] = float(np.mean(np.log(means[pos])))
    return curve, n_valid


def decorrelated_level(
    pair_dist: PairDistance,
    n_points: int,
    *,
    n_partners: int,
    log_of_mean: bool,
    max_refs: int = 2000,
) -> float:
    """The divergence statistic for pairs spread evenly far apart in time.

    Each of up to ``max_refs`` evenly spaced points is paired with ``n_partners``
    points at offsets spread over the whole series (cyclically). With ``log_of_mean``
    the statistic is ``< ln mean_j d >`` (Kantz), else ``< ln d >`` (Rosenstein).
    Zero distances are skipped. NaN when there are fewer than 2 points.
    """
    if n_points < 2:
        return np.nan
    refs = np.unique(np.linspace(0, n_points - 1, min(n_points, max_refs)).round().astype(np.int64))
    q = np.arange(1, n_partners + 1)
    offs = np.unique((q * n_points) // (n_partners + 1))
    offs = offs[(offs > 0) & (offs < n_points)]
    if offs.size == 0:
        offs = np.array([1])
    i = np.repeat(refs, offs.size)
    j = (i + np.tile(offs, refs.size)) % n_points
    d = pair_dist(i, j).reshape(refs.size, offs.size)
    if log_of_mean:
        m = d.mean(axis=1)
        m = m[m > 0]
        return float(np.mean(np.log(m))) if m.size else np.nan
    d = d[d > 0]
    return float(np.mean(np.log(d))) if d.size else np.nan
