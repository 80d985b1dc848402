"""Compiled kernels for tiles of pairwise distances (private; inputs are trusted).

Everything recurrence-related in graphtraj sees distances through these kernels, one
tile at a time, so the dense and the streaming paths threshold bit-identical numbers.

A tile covers rows ``r0 .. r0 + nr - 1`` and columns ``c0 .. c0 + nc - 1`` of the
distance matrix and is stored column-major: ``tile[cj, ri] = d(x[r0 + ri], y[c0 + cj])``.

The *scanned region* of a tile depends on two flags shared by every kernel here:

- ``upper``: the matrix is symmetric and only cells with ``i <= j`` are visited;
- ``w``: the Theiler window; cells with ``|i - j| < w`` are skipped.

Cell weights turn a scan of the upper triangle into statistics of the ordered pairs
(``wd`` for a diagonal cell ``i == j``, ``wo`` for every other cell).

This module imports numba; it is imported only inside functions that need it.
"""

from __future__ import annotations

import math

import numba
import numpy as np

EUCLIDEAN, MANHATTAN, CHEBYSHEV = 0, 1, 2


@numba.njit(cache=True)
def tile_distances(xt, y, r0, nr, c0, nc, metric, out):
    """Fill ``out[:nc, :nr]`` with distances between rows of ``xt.T`` and ``y``.

    ``xt`` is (P, N) (the row points, transposed so the inner loop is contiguous),
    ``y`` is (M, P). Components are accumulated in index order, so every call gives
    bit-identical results.
    """
    p = xt.shape[0]
    for cj in range(nc):
        j = c0 + cj
        row = out[cj]
        if metric == EUCLIDEAN:
            for ri in range(nr):
                row[ri] = 0.0
            for k in range(p):
                yk = y[j, k]
                xk = xt[k]
                for ri in range(nr):
                    diff = xk[r0 + ri] - yk
                    row[ri] += diff * diff
            for ri in range(nr):
                row[ri] = math.sqrt(row[ri])
        elif metric == MANHATTAN:
            for ri in range(nr):
                row[ri] = 0.0
            for k in range(p):
                yk = y[j, k]
                xk = xt[k]
                for ri in range(nr):
                    row[ri] += abs(xk[r0 + ri] - yk)
        else:
            for ri in range(nr):
                row[ri] = 0.0
            for k in range(p):
                yk = y[j, k]
                xk = xt[k]
                for ri in range(nr):
                    a = abs(xk[r0 + ri] - yk)
                    if a > row[ri]:
                        row[ri] = a


@numba.njit(cache=True)
def _row_bounds(j, r0, nr, upper, w):
    """Row ranges ``[a0, a1)`` (rows with ``j - i >= w``) and ``[b0, b1)`` (``i - j >= w``)."""
    r1 = r0 + nr
    a1 = min(r1, j - w + 1)
    a0 = r0
    if upper:
        return a0, a1, r1, r1
    b0 = max(r0, j + w) if w > 0 else max(r0, j + 1)
    return a0, a1, b0, r1


@numba.njit(cache=True)
def tile_stats(tile, r0, nr, c0, nc, upper, w, wd, wo, stats):
    """Accumulate ``stats = [weighted count, weighted sum, max]`` over scanned cells."""
    for cj in range(nc):
        j = c0 + cj
        t = tile[cj]
        a0, a1, b0, b1 = _row_bounds(j, r0, nr, upper, w)
        for rng in range(2):
            lo = a0 if rng == 0 else b0
            hi = a1 if rng == 0 else b1
            for i in range(lo, hi):
                d = t[i - r0]
                wt = wd if i == j else wo
                stats[0] += wt
                stats[1] += wt * d
                if d > stats[2]:
                    stats[2] = d


@numba.njit(cache=True)
def tile_max(tile, r0, nr, c0, nc, upper, out):
    """``out[0] = max(out[0], largest distance of the tile)`` (upper: cells ``i <= j``)."""
    m = out[0]
    for cj in range(nc):
        t = tile[cj]
        hi = min(nr, c0 + cj + 1 - r0) if upper else nr
        for ri in range(hi):
            v = t[ri]
            m = v if v > m else m
    out[0] = m


@numba.njit(cache=True)
def _in_chain(d, levels, nlev):
    """Whether ``d`` falls in the selected bin of each of the first ``nlev`` levels.

    Row ``lv`` of ``levels`` is ``(lo, scale, selected bin, number of bins)``.
    """
    for lv in range(nlev):
        b = (d - levels[lv, 0]) * levels[lv, 1]
        nbins = levels[lv, 3]
        if b >= nbins - 1:
            bi = int(nbins) - 1
        elif b < 0.0:
            bi = 0
        else:
            bi = int(b)
        if bi != int(levels[lv, 2]):
            return False
    return True


@numba.njit(cache=True)
def tile_histogram(tile, r0, nr, c0, nc, upper, w, wd, wo, levels, nlev, lo, scale,
                   hist, minmax):
    """Weighted histogram of the scanned distances that lie in the current chain of bins.

    Bin of ``d`` is ``clip(int((d - lo) * scale), 0, nbins - 1)``, a non-decreasing
    function of ``d``, so order statistics can be located bin by bin. ``minmax``
    records the smallest and largest value seen inside the chain.
    """
    nbins = hist.size
    for cj in range(nc):
        j = c0 + cj
        t = tile[cj]
        a0, a1, b0, b1 = _row_bounds(j, r0, nr, upper, w)
        for rng in range(2):
            lo_i = a0 if rng == 0 else b0
            hi_i = a1 if rng == 0 else b1
            for i in range(lo_i, hi_i):
                d = t[i - r0]
                if nlev > 0 and not _in_chain(d, levels, nlev):
                    continue
                b = (d - lo) * scale
                if b < 0.0:
                    bi = 0
                elif b >= nbins - 1:
                    bi = nbins - 1
                else:
                    bi = int(b)
                hist[bi] += wd if i == j else wo
                if d < minmax[0]:
                    minmax[0] = d
                if d > minmax[1]:
                    minmax[1] = d


@numba.njit(cache=True)
def tile_collect(tile, r0, nr, c0, nc, upper, w, wd, wo, levels, nlev, values, weights,
                 count):
    """Append the scanned distances inside the chain of bins to ``values``/``weights``."""
    n = count[0]
    for cj in range(nc):
        j = c0 + cj
        t = tile[cj]
        a0, a1, b0, b1 = _row_bounds(j, r0, nr, upper, w)
        for rng in range(2):
            lo_i = a0 if rng == 0 else b0
            hi_i = a1 if rng == 0 else b1
            for i in range(lo_i, hi_i):
                d = t[i - r0]
                if not _in_chain(d, levels, nlev):
                    continue
                values[n] = d
                weights[n] = wd if i == j else wo
                n += 1
    count[0] = n


@numba.njit(cache=True)
def tile_window(tile, r0, nr, c0, nc, upper, w, wd, wo, lo, hi, below, values, weights,
                count):
    """Weighted count of scanned distances ``< lo``; collect those in ``[lo, hi]``.

    Values beyond the capacity of ``values`` are counted in ``count`` but not stored.
    """
    cap = values.size
    n = count[0]
    b = below[0]
    for cj in range(nc):
        j = c0 + cj
        t = tile[cj]
        a0, a1, b0, b1 = _row_bounds(j, r0, nr, upper, w)
        for rng in range(2):
            lo_i = a0 if rng == 0 else b0
            hi_i = a1 if rng == 0 else b1
            for i in range(lo_i, hi_i):
                d = t[i - r0]
                if d < lo:
                    b += wd if i == j else wo
                elif d <= hi:
                    if n < cap:
                        values[n] = d
                        weights[n] = wd if i == j else wo
                    n += 1
    count[0] = n
    below[0] = b


def lower_compare_values(lo: float, metric: int) -> float:
    """``c`` with ``s < c`` iff ``sqrt(s) < lo`` (Euclidean; else ``lo``): the smallest
    sum of squares whose root reaches ``lo``."""
    if metric != EUCLIDEAN or not np.isfinite(lo):
        return lo
    if lo <= 0:
        return lo
    return float(np.nextafter(compare_values(np.array([np.nextafter(lo, -np.inf)]),
                                             metric)[0], np.inf))


def compare_values(eps: np.ndarray, metric: int) -> np.ndarray:
    """Thresholds in the units the point kernels compare: for the Euclidean metric the
    largest sum of squares ``s`` with ``sqrt(s) <= eps`` (so ``s <= that`` is exactly
    ``sqrt(s) <= eps``, sqrt being correctly rounded and monotone); else ``eps`` itself.
    Negative ε (nothing recurs) maps to -1."""
    eps = np.asarray(eps, dtype=np.float64)
    if metric != EUCLIDEAN:
        return eps.copy()
    s = np.where(eps > 0, eps * eps, 0.0)
    for _ in range(8):
        up = np.nextafter(s, np.inf)
        grow = (np.sqrt(up) <= eps) & np.isfinite(s)
        shrink = (np.sqrt(s) > eps) & (eps >= 0)  # negative ε is mapped to -1 below
        if not grow.any() and not shrink.any():
            break
        s = np.where(grow, up, np.where(shrink, np.nextafter(s, -np.inf), s))
    return np.where(eps < 0, -1.0, s)


@numba.njit(cache=True)
def candidates(xst, a, b, y, j, metric, acc):
    """``acc[t]`` for rows ``a + t`` of ``xst.T`` against ``y[j]``, ``t < b - a``: the
    sum of squares (Euclidean) or the distance (Manhattan, Chebyshev), with the
    arithmetic of :func:`tile_distances` so comparisons agree bit for bit."""
    m = b - a
    p = xst.shape[0]
    for t in range(m):
        acc[t] = 0.0
    for q in range(p):
        yq = y[j, q]
        row = xst[q]
        if metric == EUCLIDEAN:
            for t in range(m):
                diff = row[a + t] - yq
                acc[t] += diff * diff
        elif metric == MANHATTAN:
            for t in range(m):
                acc[t] += abs(row[a + t] - yq)
        else:
            for t in range(m):
                v = abs(row[a + t] - yq)
                if v > acc[t]:
                    acc[t] = v


@numba.njit(cache=True)
def key_range(key, v, eps):
    """Sorted positions whose key lies within ``eps`` of ``v`` (with a safety margin
    that covers the rounding of the distance arithmetic)."""
    r = eps * (1.0 + 1e-9) + 1e-9 * (abs(v) + eps) + 1e-300
    return np.searchsorted(key, v - r), np.searchsorted(key, v + r, side="right")


@numba.njit(cache=True)
def points_window(xst, order, key, y, keycol, metric, symmetric, w, lo, hi, lo_cmp,
                  hi_cmp, below, values, weights, count, acc):
    """:func:`tile_window` for point sources, with a sorted-coordinate candidate filter.

    Rows are the points ``xst.T`` sorted by coordinate ``keycol`` (``order`` maps back
    to original indices). Symmetric sources (then ``y`` is ``xst.T`` in sorted order)
    visit each unordered pair once, by sorted position (weight 2; a point with itself
    weight 1). ``lo_cmp``/``hi_cmp`` are ``lo``/``hi`` in compare units: ``s < lo_cmp``
    iff ``d < lo`` and ``s <= hi_cmp`` iff ``d <= hi``.
    """
    n = order.size
    cap = values.size
    cnt = count[0]
    b_acc = below[0]
    # With no Theiler band to skip, distinct points need no index check.
    fast = w <= 1 if symmetric else w == 0
    for jj in range(y.shape[0]):
        if hi == np.inf:
            a, b = 0, n
        else:
            a, b = key_range(key, y[jj, keycol], hi)
        j = order[jj] if symmetric else jj
        wt = 1
        if symmetric:
            wt = 2
            b = min(b, jj)  # pairs (k, jj) with k < jj, each unordered pair once
            a = min(a, b)
            if w == 0:  # the point with itself: distance 0
                if 0.0 < lo:
                    b_acc += 1
                elif 0.0 <= hi:
                    if cnt < cap:
                        values[cnt] = 0.0
                        weights[cnt] = 1
                    cnt += 1
        candidates(xst, a, b, y, jj, metric, acc)
        if fast:
            nlow = 0
            for t in range(b - a):
                nlow += acc[t] < lo_cmp
            b_acc += wt * nlow
            for t in range(b - a):
                s = acc[t]
                if s >= lo_cmp and s <= hi_cmp:
                    if cnt < cap:
                        values[cnt] = math.sqrt(s) if metric == EUCLIDEAN else s
                        weights[cnt] = wt
                    cnt += 1
        else:
            for t in range(b - a):
                s = acc[t]
                if s > hi_cmp:
                    continue
                i = order[a + t]
                if abs(i - j) < w:
                    continue
                if s < lo_cmp:
                    b_acc += wt
                else:
                    if cnt < cap:
                        values[cnt] = math.sqrt(s) if metric == EUCLIDEAN else s
                        weights[cnt] = wt
                    cnt += 1
    count[0] = cnt
    below[0] = b_acc
