"""Compiled kernels for visibility graphs (private; inputs are trusted).

Every kernel takes validated, C-contiguous float64/int arrays. The public layer in
:mod:`graphtraj.timeseries.visibility` and :mod:`graphtraj.timeseries.multiplex` checks
the input once and calls these. This module imports numba, so it is imported only
inside the functions that need it.

Edge lists are returned as two int64 arrays ``(src, dst)`` with ``src < dst``, sorted
lexicographically by ``(src, dst)``, plus the CSR row offsets of the forward
(upper-triangular) adjacency: the neighbours of ``i`` in the future are
``dst[offsets[i]:offsets[i + 1]]``.
"""

from __future__ import annotations

import math

import numba
import numpy as np

#: Magnitudes outside [2^-_SAFE_EXP, 2^_SAFE_EXP] make the natural kernel rescale (exactly,
#: by powers of two) before it forms the descents, so they cannot overflow or underflow.
_SAFE_EXP = 400


@numba.njit(cache=True)
def _counting_sort(key, other, n):
    """Stable counting sort of the pairs ``(key, other)`` by ``key`` in ``[0, n)``."""
    m = key.size
    offsets = np.zeros(n + 1, np.int64)
    for e in range(m):
        offsets[key[e] + 1] += 1
    for i in range(n):
        offsets[i + 1] += offsets[i]
    pos = offsets[:-1].copy()
    key_out = np.empty(m, np.int64)
    other_out = np.empty(m, np.int64)
    for e in range(m):
        k = key[e]
        p = pos[k]
        key_out[p] = k
        other_out[p] = other[e]
        pos[k] = p + 1
    return key_out, other_out, offsets


@numba.njit(cache=True)
def hvg_edges(y):
    """Horizontal visibility edges by one left-to-right pass with a stack, O(n).

    ``a < b`` are linked iff every ``c`` strictly between has ``y[c] < min(y[a], y[b])``
    (exact comparisons). The stack holds the indices still visible from the right;
    their values decrease strictly from bottom to top.
    """
    n = y.size
    cap = 2 * n + 1  # an HVG has at most 2n - 3 edges; each step adds pops + 1
    src = np.empty(cap, np.int64)
    dst = np.empty(cap, np.int64)
    stack = np.empty(n + 1, np.int64)
    top = 0
    ne = 0
    for j in range(n):
        yj = y[j]
        while top > 0 and y[stack[top - 1]] < yj:
            src[ne] = stack[top - 1]
            dst[ne] = j
            ne += 1
            top -= 1
        if top > 0:
            src[ne] = stack[top - 1]
            dst[ne] = j
            ne += 1
            if y[stack[top - 1]] == yj:  # an equal point is blocked from now on
                top -= 1
        stack[top] = j
        top += 1
    # edges came out ordered by dst; a stable sort by src makes them lexicographic
    return _counting_sort(src[:ne], dst[:ne], n)


@numba.njit(cache=True)
def hvg_directed_degrees(y):
    """In-degree (past neighbours) and out-degree (future neighbours) of the HVG, O(n)."""
    n = y.size
    k_in = np.zeros(n, np.int64)
    k_out = np.zeros(n, np.int64)
    stack = np.empty(n + 1, np.int64)
    top = 0
    for j in range(n):
        yj = y[j]
        while top > 0 and y[stack[top - 1]] < yj:
            k_out[stack[top - 1]] += 1
            k_in[j] += 1
            top -= 1
        if top > 0:
            k_out[stack[top - 1]] += 1
            k_in[j] += 1
            if y[stack[top - 1]] == yj:
                top -= 1
        stack[top] = j
        top += 1
    return k_in, k_out


@numba.njit(cache=True)
def _pow2_shift(a):
    """Exponent ``k`` such that ``ldexp(a, k)`` lies in [0.5, 1); 0 when ``a`` is 0 or
    already of moderate size (within 2^+-_SAFE_EXP)."""
    if a == 0.0 or (a > 2.0**-_SAFE_EXP and a < 2.0**_SAFE_EXP):
        return 0
    return -math.frexp(a)[1]


@numba.njit(cache=True)
def _is_moderate(x):
    """Whether every nonzero ``|x|`` lies strictly within 2^+-_SAFE_EXP."""
    lo = 2.0**-_SAFE_EXP
    hi = 2.0**_SAFE_EXP
    for v in x:
        a = abs(v)
        if a != 0.0 and not (a > lo and a < hi):
            return False
    return True


@numba.njit(cache=True)
def _sweep(t, y, m, stop, step, scale, src, dst, ne):
    """Edges from apex ``m`` to the points ``m + step, ..., stop - step`` (step = +-1).

    ``c`` is visible iff the running minimum of the descents ``(y[m] - y[c']) /
    |t[c'] - t[m]|`` over the points between exceeds ``scale`` times its own descent;
    the neighbour ``m + step`` always is. Returns the new edge count.
    """
    c = m + step
    if c == stop:
        return ne
    ym = y[m]
    tm = t[m]
    sgn = float(step)
    src[ne] = min(m, c)
    dst[ne] = max(m, c)
    ne += 1
    gmin = (ym - y[c]) / ((t[c] - tm) * sgn)
    c += step
    while c != stop:
        g = (ym - y[c]) / ((t[c] - tm) * sgn)
        if gmin > scale * g:
            src[ne] = min(m, c)
            dst[ne] = max(m, c)
            ne += 1
        if g < gmin:
            gmin = g
        c += step
    return ne


@numba.njit(cache=True)
def _sweep_scaled(t, y, m, stop, step, scale, ey, et, src, dst, ne):
    """:func:`_sweep` on ``ldexp(y, ey)`` and ``ldexp(t, et)`` (exact rescaling)."""
    c = m + step
    if c == stop:
        return ne
    ym = math.ldexp(y[m], ey)
    tm = math.ldexp(t[m], et)
    sgn = float(step)
    src[ne] = min(m, c)
    dst[ne] = max(m, c)
    ne += 1
    gmin = (ym - math.ldexp(y[c], ey)) / ((math.ldexp(t[c], et) - tm) * sgn)
    c += step
    while c != stop:
        g = (ym - math.ldexp(y[c], ey)) / ((math.ldexp(t[c], et) - tm) * sgn)
        if gmin > scale * g:
            src[ne] = min(m, c)
            dst[ne] = max(m, c)
            ne += 1
        if g < gmin:
            gmin = g
        c += step
    return ne


@numba.njit(cache=True)
def nvg_edges(t, y, rtol):
    """Natural visibility edges by divide and conquer on the maximum.

    The first maximum ``m`` of an interval is the apex of every edge that crosses or
    ends at it; sweeping away from ``m`` with the running minimum of the descent
    ``g_c = (y[m] - y[c]) / |t[c] - t[m]|``, point ``b`` is visible iff
    ``min_c g_c > (1 + rtol) * g_b`` over the points ``c`` strictly between. The two
    halves are independent. O(n log n) for typical series, O(n^2) when the maximum
    sits at an interval end at every level (monotone series).

    Extreme magnitudes: when some nonzero value or time lies outside 2^+-_SAFE_EXP
    (e.g. |y| ~ 1e308, whose differences overflow, or subnormal values or time steps,
    whose differences underflow), each interval whose own values or end times are
    extreme is multiplied by powers of two (``ldexp``, exact) that bring them to order
    1 before its descents are formed. A power-of-two scaling commutes with IEEE
    rounding, so every comparison is the one the unscaled arithmetic would make
    without overflow; moderate input takes the plain path, unchanged. Neighbours
    ``m, m +- 1`` are always linked (nothing lies between them), even if a descent
    still overflows.
    """
    n = y.size
    cap = 4 * n + 16
    src = np.empty(cap, np.int64)
    dst = np.empty(cap, np.int64)
    ne = 0
    scale = 1.0 + rtol
    # on moderate input (every nonzero |y| and |t| within 2^+-_SAFE_EXP) no descent can
    # overflow or underflow, and no interval needs the (slower) rescaled sweep
    moderate = _is_moderate(y) and _is_moderate(t)
    ey = 0
    et = 0
    lo_stack = np.empty(n + 2, np.int64)
    hi_stack = np.empty(n + 2, np.int64)
    sp = 0
    if n >= 2:
        lo_stack[0] = 0
        hi_stack[0] = n
        sp = 1
    while sp > 0:
        sp -= 1
        lo = lo_stack[sp]
        hi = hi_stack[sp]
        m = lo
        ym = y[lo]
        rescale = False
        if moderate:
            for c in range(lo + 1, hi):
                if y[c] > ym:
                    ym = y[c]
                    m = c
        else:
            ymin = y[lo]
            for c in range(lo + 1, hi):
                if y[c] > ym:
                    ym = y[c]
                    m = c
                elif y[c] < ymin:
                    ymin = y[c]
            ey = _pow2_shift(max(abs(ym), abs(ymin)))
            et = _pow2_shift(max(abs(t[lo]), abs(t[hi - 1])))
            rescale = ey != 0 or et != 0
        if ne + (hi - lo) > cap:
            while ne + (hi - lo) > cap:
                cap *= 2
            new_src = np.empty(cap, np.int64)
            new_dst = np.empty(cap, np.int64)
            new_src[:ne] = src[:ne]
            new_dst[:ne] = dst[:ne]
            src = new_src
            dst = new_dst
        if rescale:
            ne = _sweep_scaled(t, y, m, hi, 1, scale, ey, et, src, dst, ne)
            ne = _sweep_scaled(t, y, m, lo - 1, -1, scale, ey, et, src, dst, ne)
        else:
            ne = _sweep(t, y, m, hi, 1, scale, src, dst, ne)
            ne = _sweep(t, y, m, lo - 1, -1, scale, src, dst, ne)
        if m - lo >= 2:
            lo_stack[sp] = lo
            hi_stack[sp] = m
            sp += 1
        if hi - m - 1 >= 2:
            lo_stack[sp] = m + 1
            hi_stack[sp] = hi
            sp += 1
    # two stable counting passes: by dst, then by src -> lexicographic (src, dst)
    d_sorted, s_by_d, _ = _counting_sort(dst[:ne], src[:ne], n)
    return _counting_sort(s_by_d, d_sorted, n)


@numba.njit(cache=True)
def dense_codes(values, max_value):
    """Relabel non-negative ints to ``0..m-1`` in increasing order; return codes, m."""
    seen = np.zeros(max_value + 1, np.int64)
    for v in values:
        seen[v] = 1
    m = 0
    for v in range(max_value + 1):
        if seen[v]:
            seen[v] = m
            m += 1
    codes = np.empty(values.size, np.int32)
    for i in range(values.size):
        codes[i] = seen[values[i]]
    return codes, m


@numba.njit(cache=True)
def entropy_of_codes(codes, m):
    """Plug-in Shannon entropy (nats) of integer codes in ``[0, m)``."""
    counts = np.zeros(m, np.int64)
    for c in codes:
        counts[c] += 1
    n = codes.size
    h = 0.0
    for k in range(m):
        if counts[k] > 0:
            p = counts[k] / n
            h -= p * np.log(p)
    return h


@numba.njit(cache=True)
def pair_mutual_information(codes, m, entropies, pairs, dense_cap):
    """Plug-in mutual information (nats) of code rows ``codes[a]``, ``codes[b]`` per pair.

    I(a; b) = H(a) + H(b) - H(a, b); the joint counts use a scratch table of
    ``m[a] * m[b]`` cells (cleared as it is read) or, above ``dense_cap`` cells, a sort
    of the joint codes. O(T) per pair (O(T log T) in the sorted branch).
    """
    n_pairs = pairs.shape[0]
    T = codes.shape[1]
    out = np.empty(n_pairs, np.float64)
    scratch = np.zeros(dense_cap, np.int64)
    for q in range(n_pairs):
        a = pairs[q, 0]
        b = pairs[q, 1]
        mb = m[b]
        h = 0.0
        if m[a] * mb <= dense_cap:
            for i in range(T):
                scratch[codes[a, i] * mb + codes[b, i]] += 1
            for i in range(T):
                c = codes[a, i] * mb + codes[b, i]
                k = scratch[c]
                if k > 0:
                    p = k / T
                    h -= p * np.log(p)
                    scratch[c] = 0
        else:
            joint = np.empty(T, np.int64)
            for i in range(T):
                joint[i] = np.int64(codes[a, i]) * mb + codes[b, i]
            joint.sort()
            run = 1
            for i in range(1, T + 1):
                if i < T and joint[i] == joint[i - 1]:
                    run += 1
                else:
                    p = run / T
                    h -= p * np.log(p)
                    run = 1
        value = entropies[a] + entropies[b] - h
        out[q] = value if value > 0.0 else 0.0
    return out


@numba.njit(cache=True)
def union_edge_count(offsets, base, dst):
    """Number of node pairs linked in at least one layer.

    ``offsets`` (T + 1, P) holds each layer's CSR row offsets (column p) relative to
    ``base[p]`` in the concatenated targets ``dst``. One pass over all edges with a
    marker array, O(P T + E).
    """
    T = offsets.shape[0] - 1
    P = offsets.shape[1]
    mark = np.full(T, -1, np.int64)
    total = 0
    for i in range(T):
        for p in range(P):
            b = base[p]
            for e in range(b + offsets[i, p], b + offsets[i + 1, p]):
                j = dst[e]
                if mark[j] != i:
                    mark[j] = i
                    total += 1
    return total
