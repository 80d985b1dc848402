"""Compiled pairwise kernels (numba, imported lazily by ``_pairwise``)."""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True, fastmath=False)
def js_block(a: np.ndarray, b: np.ndarray) -> np.ndarray:  # pragma: no cover - compiled
    """Jensen–Shannon divergence (nats) between every row of ``a`` and of ``b``.

    Rows are probability vectors (or all-zero); ``0 log 0 = 0``.
    """
    na, nf = a.shape
    nb = b.shape[0]
    out = np.empty((na, nb))
    for i in range(na):
        for j in range(nb):
            acc = 0.0
            for k in range(nf):
                p = a[i, k]
                q = b[j, k]
                m = 0.5 * (p + q)
                tp = p * np.log(p / m) if p > 0.0 else 0.0
                tq = q * np.log(q / m) if q > 0.0 else 0.0
                acc += tp + tq  # commutative: d(a, b) == d(b, a) bit for bit
            out[i, j] = 0.5 * acc
    return out
