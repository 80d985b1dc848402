"""Compiled line scanner for RQA (private; inputs are trusted).

The matrix is scanned column by column, left to right. For each column the scanner
receives the sorted rows of its admissible recurrent cells (``|i - j| >= w``) and

- closes the column's vertical lines, recurrence times and white vertical lines at once
  (that state never leaves the column);
- extends the diagonal runs through its cells: a cell ``(i, j)`` continues the run of
  diagonal ``d = j - i`` when that diagonal was last recurrent in column ``j - 1``.
  Only this O(N) per-diagonal state is carried from column to column.

In ``symmetric`` mode (``R == R.T``) diagonal runs are followed only on and above the
line of identity (``i <= j``); the assembly step doubles them.

Three column providers feed :func:`_column`: points with a sorted-coordinate candidate
filter (:func:`scan_points`), blocks of dense distances (:func:`scan_dense`), and
bit-packed columns (:func:`scan_packed`).

Histogram rows (index = length or time):

====  ======================================================
0     diagonal lines on diagonals ``d > 0`` (above the LOI)
1     diagonal lines on diagonals ``d < 0`` (below the LOI)
2     diagonal lines on the line of identity ``d = 0``
3     vertical lines
4     recurrence times (RecurrenceAnalysis.jl's distance between consecutive lines)
5     white vertical lines (maximal runs of admissible non-recurrent cells)
====  ======================================================

Diagonal state ``dstate[d + n_rows - 1]`` packs (last recurrent column << 32) | run
length in one int64 (dense, cache-friendly); ``dcount[d + n_rows - 1]`` holds the
recurrent cells of the diagonal and those inside the leading ``nsq x nsq`` square, added
when a run closes.
"""

from __future__ import annotations

import numba
import numpy as np

from graphtraj.timeseries._recurrence_kernels import candidates, key_range

H_UP, H_LO, H_LOI, H_VERT, H_RT, H_WHITE = 0, 1, 2, 3, 4, 5
N_HIST = 6
_LOW = np.int64(0xFFFFFFFF)
_HIGH = ~np.int64(0xFFFFFFFF)

# Index of the lowest set bit by de Bruijn multiplication (Leiserson et al. 1998).
_DEBRUIJN = np.uint64(0x03F79D71B4CB0A89)
_BIT_INDEX = np.zeros(64, np.int64)
for _b in range(64):
    _BIT_INDEX[((1 << _b) * 0x03F79D71B4CB0A89 % (1 << 64)) >> 58] = _b


@numba.njit(cache=True)
def _close_diagonal(dstate, dcount, hist, idx, off, nsq):
    packed = dstate[idx]
    run = packed & _LOW
    last = packed >> 32
    d = idx - off
    if d > 0:
        hist[H_UP, run] += 1
    elif d < 0:
        hist[H_LO, run] += 1
    else:
        hist[H_LOI, run] += 1
    dcount[idx, 0] += run
    # cells (j - d, j) for j in [last - run + 1, last]; inside the square iff
    # j < nsq and j - d < nsq.
    j1 = min(last, min(nsq, nsq + d) - 1)
    j0 = last - run + 1
    if j1 >= j0:
        dcount[idx, 1] += j1 - j0 + 1
    dstate[idx] = 0


@numba.njit(cache=True)
def _column(j, rows, nb, w, n, symmetric, off, nsq, dstate, dcount, hist):
    """Process column ``j`` (``n`` positions) whose admissible recurrent rows are
    ``rows[:nb]`` in increasing order.

    Bin 0 of the vertical, white and recurrence-time histograms is a dump for the
    branch-free updates below (it is cleared once the scan ends).
    """
    # --- diagonal runs: state packs (last recurrent column << 32) | run length ---
    cont = np.int64(j - 1) << 32
    head = np.int64(j) << 32
    for t in range(nb):
        i = rows[t]
        if symmetric and i > j:
            break
        idx = j - i + off
        packed = dstate[idx]
        run = packed & _LOW
        if (packed & _HIGH) == cont:
            dstate[idx] = head | (run + 1)
        else:
            if run > 0:
                _close_diagonal(dstate, dcount, hist, idx, off, nsq)
            dstate[idx] = head | 1
    # --- vertical lines, recurrence times, white lines, segment by segment ---
    # Segments: [0, n - 1] without a Theiler window; else [0, j - w] above the band
    # and [j + w, n - 1] below it (each only if non-empty).
    t = 0
    prev_e = -1
    prev_len = 0
    for seg in range(2):
        if seg == 0:
            if w > 0 and j - w < 0:
                continue
            s_start = 0
            s_end = n - 1 if w == 0 else min(j - w, n - 1)
        else:
            if w == 0 or j + w > n - 1:
                continue
            s_start = j + w
            s_end = n - 1
        last = s_start - 1
        while t < nb and rows[t] <= s_end:
            s = rows[t]
            e = s
            t += 1
            while t < nb and rows[t] == e + 1:
                e = rows[t]
                t += 1
            length = e - s + 1
            hist[H_VERT, length] += 1
            hist[H_WHITE, s - last - 1] += 1
            has_prev = prev_len > 0
            hist[H_RT, (s - prev_e - 1 + prev_len // 2 + length // 2) * has_prev] += 1
            last = e
            prev_e = e
            prev_len = length
        hist[H_WHITE, s_end - last] += 1


@numba.njit(cache=True)
def flush(off, nsq, dstate, dcount, hist):
    """Close the diagonal runs still open after the last column."""
    for idx in range(dstate.shape[0]):
        if dstate[idx] & _LOW > 0:
            _close_diagonal(dstate, dcount, hist, idx, off, nsq)


@numba.njit(cache=True)
def _collect_bits(bitmap, wlo, whi, rows):
    """Rows of the set bits of ``bitmap[wlo:whi + 1]``, ascending; clears them."""
    nb = 0
    for wi in range(wlo, whi + 1):
        word = bitmap[wi]
        if word == 0:
            continue
        bitmap[wi] = 0
        base = wi * 64
        while word != 0:
            low = word & (~word + np.uint64(1))
            rows[nb] = base + _BIT_INDEX[(low * _DEBRUIJN) >> np.uint64(58)]
            nb += 1
            word ^= low
    return nb


@numba.njit(cache=True)
def scan_points(xst, order, key, thr_sorted, radius_rows, uniform, y, keycol, c0, c1,
                thr_cols, eps_cols, metric, w, symmetric, off, nsq, bitmap, rows, acc,
                hits, dstate, dcount, hist):
    """Columns ``c0 .. c1 - 1`` of the recurrence matrix of row points ``xst.T`` (sorted
    by coordinate ``keycol``; ``order`` maps sorted to original rows) and column points
    ``y``. Only rows whose key lies within ε of the column's are candidates: a pair
    farther apart in one coordinate is farther apart in every metric here.

    ``thr_sorted`` (per sorted row; all equal when ``uniform``) and ``thr_cols`` are
    thresholds in compare units (see
    :func:`~graphtraj.timeseries._recurrence_kernels.compare_values`); ``radius_rows``
    and ``eps_cols`` the same in distance units, for the filter.
    """
    n = order.size
    for j in range(c0, c1):
        eps_j = min(radius_rows, eps_cols[j])
        nb = 0
        if eps_j >= 0.0:
            a, b = key_range(key, y[j, keycol], eps_j)
            candidates(xst, a, b, y, j, metric, acc)
            tc = thr_cols[j]
            m = 0
            if uniform:
                tu = min(tc, thr_sorted[0]) if n > 0 else tc
                for t in range(b - a):
                    hits[m] = a + t
                    m += acc[t] <= tu
            else:
                for t in range(b - a):
                    hits[m] = a + t
                    m += (acc[t] <= tc) & (acc[t] <= thr_sorted[a + t])
            wlo = n
            whi = -1
            for h in range(m):
                i = order[hits[h]]
                if abs(i - j) >= w:
                    wi = i >> 6
                    bitmap[wi] |= np.uint64(1) << np.uint64(i & 63)
                    wlo = min(wlo, wi)
                    whi = max(whi, wi)
            if whi >= 0:
                nb = _collect_bits(bitmap, wlo, whi, rows)
        _column(j, rows, nb, w, n, symmetric, off, nsq, dstate, dcount, hist)


@numba.njit(cache=True)
def scan_dense(block, c0, nc, thr_rows, thr_cols, w, symmetric, off, nsq, rows, dstate,
               dcount, hist):
    """Columns ``c0 .. c0 + nc - 1`` from ``block[cj, i]`` (distances, or ``1 - R`` with
    zero thresholds): cell ``(i, j)`` recurs when ``block <= min(thr_rows[i], thr_cols[j])``."""
    n = block.shape[1]
    for cj in range(nc):
        j = c0 + cj
        col = block[cj]
        tc = thr_cols[j]
        nb = 0
        for i in range(n):
            v = col[i]
            if v <= thr_rows[i] and v <= tc and abs(i - j) >= w:
                rows[nb] = i
                nb += 1
        _column(j, rows, nb, w, n, symmetric, off, nsq, dstate, dcount, hist)


@numba.njit(cache=True)
def scan_packed(packed, c0, c1, n, w, symmetric, off, nsq, rows, dstate, dcount, hist):
    """Columns ``c0 .. c1 - 1`` from bit-packed columns: ``packed[j]`` is
    ``numpy.packbits`` of column ``j`` (for a symmetric matrix, simply its row ``j``)."""
    for j in range(c0, c1):
        nb = 0
        for byte_i in range(packed.shape[1]):
            byte = packed[j, byte_i]
            if byte == 0:
                continue
            for b in range(8):
                if (byte >> (7 - b)) & 1:
                    i = byte_i * 8 + b
                    if i < n and abs(i - j) >= w:
                        rows[nb] = i
                        nb += 1
        _column(j, rows, nb, w, n, symmetric, off, nsq, dstate, dcount, hist)


def new_state(n_rows: int, n_cols: int) -> tuple[np.ndarray, ...]:
    """Zeroed ``(rows, dstate, dcount, hist)`` for a scan (allocated here, so visible to
    tracemalloc)."""
    rows = np.empty(n_rows, np.int64)
    dstate = np.zeros(n_rows + n_cols - 1, np.int64)
    dcount = np.zeros((n_rows + n_cols - 1, 2), np.int64)
    hist = np.zeros((N_HIST, 2 * max(n_rows, n_cols) + 2), np.int64)
    return rows, dstate, dcount, hist
