"""A deliberately naive pure-Python RQA, the oracle for the compiled scanner.

It walks the matrix cell by cell with plain lists and loops, following the written
definitions (RecurrenceAnalysis.jl conventions) and shares no code with graphtraj.
"""

from __future__ import annotations

import math
from collections import Counter


def _runs(cells):
    """Maximal runs of True in a list of booleans-or-None (None breaks a run)."""
    out, start = [], None
    for pos, v in enumerate(cells + [None]):
        if v:
            if start is None:
                start = pos
        else:
            if start is not None:
                out.append((start, pos - 1))
                start = None
    return out


def naive_histograms(mat, theiler):
    """Diagonal, vertical, recurrence-time and white-line Counters; recurrent count."""
    n, m = len(mat), len(mat[0])
    ok = lambda i, j: abs(i - j) >= theiler  # noqa: E731
    diag, vert, rtimes, white = Counter(), Counter(), Counter(), Counter()
    n_rec = 0
    for d in range(-(n - 1), m):
        cells = [mat[i][i + d] if ok(i, i + d) else None
                 for i in range(n) if 0 <= i + d < m]
        for a, b in _runs(cells):
            diag[b - a + 1] += 1
            n_rec += b - a + 1
    for j in range(m):
        col = [mat[i][j] if ok(i, j) else None for i in range(n)]
        lines = _runs(col)
        for a, b in lines:
            vert[b - a + 1] += 1
        for (a1, b1), (a2, b2) in zip(lines, lines[1:], strict=False):
            l1, l2 = b1 - a1 + 1, b2 - a2 + 1
            rtimes[a2 - b1 - 1 + l1 // 2 + l2 // 2] += 1
        neg = [None if v is None else (not v) for v in col]
        for a, b in _runs(neg):
            white[b - a + 1] += 1
    return diag, vert, rtimes, white, n_rec


def naive_rqa(mat, theiler, lmin=2, vmin=None, kind="recurrence"):
    """RR, DET, L, Lmax, ENTR, LAM, TT, Vmax, VENTR, MRT, RTE, NMPRT (NaN if undefined)."""
    vmin = lmin if vmin is None else vmin
    n, m = len(mat), len(mat[0])
    diag, vert, rtimes, white, n_rec = naive_histograms(mat, theiler)
    if kind == "cross":
        pairs = n * m
    else:
        pairs = sum(1 for i in range(n) for j in range(m) if abs(i - j) >= theiler)
    nan = float("nan")

    def stats(h, lo):
        sel = {k: v for k, v in h.items() if k >= lo}
        pts = sum(k * v for k, v in sel.items())
        cnt = sum(sel.values())
        frac = pts / n_rec if n_rec else nan
        mean = pts / cnt if cnt else nan
        mx = max(sel) if sel else 0
        ent = -sum(v / cnt * math.log(v / cnt) for v in sel.values()) if cnt else nan
        return frac, mean, mx, ent

    det, lm, lmax, ent = stats(diag, lmin)
    lam, tt, vmax, vent = stats(vert, vmin)
    nrt = sum(rtimes.values())
    mrt = sum(k * v for k, v in rtimes.items()) / nrt if nrt else nan
    rte = -sum(v / nrt * math.log(v / nrt) for v in rtimes.values()) if nrt else nan
    return {
        "RR": n_rec / pairs if pairs else nan, "DET": det, "L": lm, "Lmax": lmax,
        "ENTR": ent, "LAM": lam, "TT": tt, "Vmax": vmax, "VENTR": vent, "MRT": mrt,
        "RTE": rte, "NMPRT": max(rtimes.values()) if rtimes else 0,
        "diag": diag, "vert": vert, "rtimes": rtimes, "white": white,
    }
