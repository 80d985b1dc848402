"""Blocked pairwise distances between feature rows (private; inputs are trusted).

A metric is a list of *groups* ``(features (T, F), base, weight)``; its distance is
``Σ_k weight_k · base_k(f_k[i], f_k[j])``. Bases:

``cityblock``   Σ|x - y|                        (exact: scipy ``cdist``)
``euclidean``   sqrt(Σ (x - y)²)                 (exact ``cdist``, never the Gram
                                                   trick, which loses all digits for the
                                                   1e-8 distances of perturbation runs)
``cosine``      ½ Σ (x - y)² of unit-normalised rows = 1 - cos (0 when both rows are
                all-zero, NaN when only one is)
``hamming``     fraction of coordinates that differ (one-hot sign codes via matmul)
``jaccard``     1 - Σ min(x, y) / Σ max(x, y) for non-negative rows (0 when both are 0),
                computed as 2 L1 / (Σx + Σy + L1) since min = (x + y - |x - y|)/2
``js``          Jensen–Shannon distance, base 2, of probability rows (0 when both are
                all-zero, NaN when only one is); compiled numba kernel

Matrices are filled block by block, upper triangle only, mirrored; the only T×T
array is the result.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
from scipy.spatial.distance import cdist, pdist, squareform
from scipy.special import xlogy

from graphtraj._progress import progress_bar
from graphtraj.exceptions import UndefinedResultWarning

Group = tuple[np.ndarray, str, float]

def _js(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Jensen–Shannon distance (base 2) between all rows, via the compiled kernel."""
    from graphtraj.measures._kernels import js_block

    div = js_block(np.ascontiguousarray(a), np.ascontiguousarray(b))
    return np.sqrt(np.maximum(div, 0.0) / np.log(2.0))


def _jaccard(l1: np.ndarray, total: np.ndarray) -> np.ndarray:
    """Weighted Jaccard distance from Σ|x - y| and Σx + Σy (min = (x+y-|x-y|)/2)."""
    den = total + l1
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, 2.0 * l1 / np.where(den > 0, den, 1.0), 0.0)


_UNDEFINED = {
    "js": "the Jensen–Shannon distance between an all-zero strength profile and a "
    "nonzero one is undefined; NaN returned for those pairs",
    "cosine": "the cosine distance between an all-zero vector and a nonzero one is "
    "undefined; NaN returned for those pairs",
}


def _zero_mask(
    a: np.ndarray, b: np.ndarray, d: np.ndarray, rowwise: bool, base: str
) -> np.ndarray:
    za = ~np.any(a, axis=1)
    zb = ~np.any(b, axis=1)
    both = (za & zb) if rowwise else (za[:, None] & zb[None, :])
    one = (za ^ zb) if rowwise else (za[:, None] ^ zb[None, :])
    d = np.where(both, 0.0, d)
    if np.any(one):
        warnings.warn(
            _UNDEFINED[base],
            UndefinedResultWarning,
            stacklevel=4,
        )
        d = np.where(one, np.nan, d)
    return d


def _cd(fa: np.ndarray, fb: np.ndarray, kind: str, same: bool) -> np.ndarray:
    """``cdist``, or ``pdist`` (half the work) for a diagonal block."""
    return squareform(pdist(fa, kind)) if same else cdist(fa, fb, kind)


#: Largest magnitudes (powers of two) whose squares, summed over any feature count
#: below 2^200, can neither overflow nor underflow in float64.
_SAFE_EXP = 400


def _pow2_exponent(*arrays: np.ndarray) -> int:
    """``k`` such that ``ldexp(x, k)`` brings the largest ``|x|`` to [0.5, 1); 0 when it
    is zero or already of moderate size (within 2^±_SAFE_EXP)."""
    m = max((float(np.max(np.abs(a))) if a.size else 0.0) for a in arrays)
    if m == 0.0 or 2.0**-_SAFE_EXP < m < 2.0**_SAFE_EXP:
        return 0
    return -int(np.frexp(m)[1])


def _euclidean(fa: np.ndarray, fb: np.ndarray, same: bool) -> np.ndarray:
    """Euclidean ``cdist`` that cannot overflow or underflow in its squares.

    Features of extreme magnitude (e.g. all weights times 1e200 or 1e-200) are scaled
    by a power of two before the squares are summed and the distances scaled back;
    a power-of-two scaling is exact, so moderate input gives bit-identical results.
    """
    k = _pow2_exponent(fa, fb)
    if k == 0:
        return _cd(fa, fb, "euclidean", same)
    return np.ldexp(_cd(np.ldexp(fa, k), np.ldexp(fb, k), "euclidean", same), -k)


def _euclidean_rows(diff: np.ndarray) -> np.ndarray:
    """Row norms of differences, scaled by a power of two like :func:`_euclidean`."""
    k = _pow2_exponent(diff)
    if k == 0:
        return np.sqrt(_seq_sum(diff**2))
    return np.ldexp(np.sqrt(_seq_sum(np.ldexp(diff, k) ** 2)), -k)


def block(
    groups_a: Sequence[Group], groups_b: Sequence[Group], same: bool = False
) -> np.ndarray:
    """Distances between every row of the ``a`` groups and every row of the ``b`` groups.

    ``same=True`` declares the two row sets identical (a diagonal block).
    """
    total = None
    for (fa, base, w), (fb, _, _) in zip(groups_a, groups_b, strict=True):
        if base == "cityblock":
            d = _cd(fa, fb, base, same)
        elif base == "euclidean":
            d = _euclidean(fa, fb, same)
        elif base == "cosine":
            d = _zero_mask(fa, fb, 0.5 * _cd(fa, fb, "sqeuclidean", same), False, base)
        elif base == "hamming":
            codes = (-1.0, 0.0, 1.0)
            agree = sum((fa == c).astype(float) @ (fb == c).astype(float).T for c in codes)
            d = (fa.shape[1] - agree) / max(fa.shape[1], 1)
        elif base == "jaccard":
            d = _jaccard(_cd(fa, fb, "cityblock", same), fa.sum(1)[:, None] + fb.sum(1)[None, :])
        elif base == "js":
            d = _zero_mask(fa, fb, _js(fa, fb), False, base)
        else:  # pragma: no cover - registry is closed
            raise AssertionError(base)
        total = w * d if total is None else total + w * d
    return total


def _seq_sum(terms: np.ndarray) -> np.ndarray:
    """Row sums accumulated left to right, as ``cdist`` does, so that row-wise and
    blocked distances agree bit for bit."""
    acc = np.zeros(terms.shape[0])
    for k in range(terms.shape[1]):
        acc += terms[:, k]
    return acc


def rows(groups_a: Sequence[Group], groups_b: Sequence[Group]) -> np.ndarray:
    """Row-wise distances ``d(a[k], b[k])`` (``b`` may have a single row, broadcast)."""
    total = None
    for (fa, base, w), (fb, _, _) in zip(groups_a, groups_b, strict=True):
        fb = np.broadcast_to(fb, fa.shape)
        if base == "cityblock":
            d = _seq_sum(np.abs(fa - fb))
        elif base == "euclidean":
            d = _euclidean_rows(fa - fb)
        elif base == "cosine":
            d = _zero_mask(fa, fb, 0.5 * _seq_sum((fa - fb) ** 2), True, base)
        elif base == "hamming":
            d = (fa != fb).sum(1) / max(fa.shape[1], 1)
        elif base == "jaccard":
            d = _jaccard(np.abs(fa - fb).sum(1), fa.sum(1) + fb.sum(1))
        elif base == "js":
            m = 0.5 * (fa + fb)
            with np.errstate(invalid="ignore", divide="ignore"):
                kl = 0.5 * (xlogy(fa, fa) - xlogy(fa, m)).sum(1) + 0.5 * (
                    xlogy(fb, fb) - xlogy(fb, m)
                ).sum(1)
            d = _zero_mask(fa, fb, np.sqrt(np.maximum(kl, 0.0) / np.log(2.0)), True, base)
        else:  # pragma: no cover
            raise AssertionError(base)
        total = w * d if total is None else total + w * d
    return total


def take(groups: Sequence[Group], idx: np.ndarray | slice) -> list[Group]:
    """The rows ``idx`` of every group."""
    return [(f[idx], base, w) for f, base, w in groups]


def matrix(
    groups: Sequence[Group], n: int, block_size: int, progress: bool | None = None
) -> np.ndarray:
    """Symmetric (n, n) matrix, filled block by block over the upper triangle."""
    out = np.empty((n, n))
    starts = list(range(0, n, block_size))
    pairs = [(i, j) for k, i in enumerate(starts) for j in starts[k:]]
    for i, j in progress_bar(pairs, total=len(pairs), desc="distance blocks", progress=progress):
        si, sj = slice(i, min(i + block_size, n)), slice(j, min(j + block_size, n))
        d = block(take(groups, si), take(groups, sj), same=i == j)
        out[si, sj] = d
        if i != j:
            out[sj, si] = d.T
    np.fill_diagonal(out, 0.0)
    return out


def cross(
    groups_a: Sequence[Group], groups_b: Sequence[Group], na: int, nb: int, block_size: int
) -> np.ndarray:
    """(na, nb) matrix of distances between two feature sets, in blocks of rows."""
    out = np.empty((na, nb))
    for i in range(0, na, block_size):
        si = slice(i, min(i + block_size, na))
        for j in range(0, nb, block_size):
            sj = slice(j, min(j + block_size, nb))
            out[si, sj] = block(take(groups_a, si), take(groups_b, sj))
    return out
