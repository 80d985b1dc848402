"""Compiled pair-counting kernels of the correlation sum (numba; imported on first use).

Points are sorted along their first coordinate; for each point only the following
points within ``r_max`` in that coordinate are visited (``|Δx_0|`` is a lower bound of
every norm), each admissible pair (``|i - j| >= theiler`` in time) once, and its
distance is dropped into the radius histogram. Exact counts, O(N + R) memory — no
distance matrix — and O(N² (m + log R)) time in the worst case. Distances are computed
as scipy's ``cdist`` does (``sqrt(Σ (a - b)²)``, ``Σ |a - b|``, ``max |a - b|``), so
counts equal a dense computation bit for bit.

Series of at least :data:`PARALLEL_MIN` points use the parallel kernel (all cores);
shorter ones the serial kernel, which compiles much faster.
"""

from __future__ import annotations

import numba
import numpy as np

#: Rows are dealt cyclically to this many blocks, which balances the work.
N_BLOCKS = 64
#: Points from which the parallel kernel is used.
PARALLEL_MIN = 20000


@numba.njit(cache=True, nogil=True)
def _rows(pts, orig, radii, theiler, p_code, start, step, hist):  # pragma: no cover - compiled
    n, dim = pts.shape
    n_r = radii.size
    r_max = radii[n_r - 1]
    # squared-distance pre-filter with a safety margin; the exact test follows
    r2_cut = r_max * r_max * (1.0 + 1e-12)
    for a in range(start, n, step):
        oa = orig[a]
        for b in range(a + 1, n):
            if pts[b, 0] - pts[a, 0] > r_max:
                break
            if abs(orig[b] - oa) < theiler:
                continue
            acc = 0.0
            if p_code == 2:
                for c in range(dim):
                    diff = pts[a, c] - pts[b, c]
                    acc += diff * diff
                if acc > r2_cut:
                    continue
                dist = np.sqrt(acc)
            elif p_code == 1:
                for c in range(dim):
                    acc += abs(pts[a, c] - pts[b, c])
                dist = acc
            else:
                for c in range(dim):
                    diff = abs(pts[a, c] - pts[b, c])
                    if diff > acc:
                        acc = diff
                dist = acc
            if dist > r_max:
                continue
            lo, hi = 0, n_r
            while lo < hi:  # first k with radii[k] >= dist
                mid = (lo + hi) // 2
                if radii[mid] >= dist:
                    hi = mid
                else:
                    lo = mid + 1
            hist[lo] += 1


@numba.njit(cache=True, nogil=True)
def _serial(pts, orig, radii, theiler, p_code):  # pragma: no cover - compiled
    hist = np.zeros(radii.size + 1, dtype=np.int64)
    _rows(pts, orig, radii, theiler, p_code, 0, 1, hist)
    return hist


@numba.njit(cache=True, nogil=True, parallel=True)
def _parallel(pts, orig, radii, theiler, p_code):  # pragma: no cover - compiled
    local = np.zeros((N_BLOCKS, radii.size + 1), dtype=np.int64)
    for blk in numba.prange(N_BLOCKS):
        _rows(pts, orig, radii, theiler, p_code, blk, N_BLOCKS, local[blk])
    return local.sum(axis=0)


def pair_counts(pts: np.ndarray, radii: np.ndarray, theiler: int, metric: str) -> np.ndarray:
    """Admissible unordered pairs with distance <= radii[k], for every k (radii increasing)."""
    order = np.argsort(pts[:, 0], kind="stable")
    sorted_pts = np.ascontiguousarray(pts[order])
    orig = order.astype(np.int64)
    p_code = {"euclidean": 2, "manhattan": 1, "chebyshev": 0}[metric]
    kernel = _parallel if pts.shape[0] >= PARALLEL_MIN else _serial
    hist = kernel(sorted_pts, orig, np.ascontiguousarray(radii, dtype=np.float64), int(theiler), p_code)
    return np.cumsum(hist[: radii.size])
