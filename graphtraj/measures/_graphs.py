"""Private matrix builders shared by the graph measures (inputs are trusted)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from graphtraj.snapshots import GraphSeries

#: Largest number of float64 entries a dense chunk of snapshots may hold.
CHUNK_ENTRIES = 1 << 22


def chunk_bounds(n_snapshots: int, per_snapshot: int) -> list[tuple[int, int]]:
    """Consecutive [start, stop) ranges whose dense stacks stay under CHUNK_ENTRIES."""
    size = max(1, CHUNK_ENTRIES // max(per_snapshot, 1))
    return [(s, min(s + size, n_snapshots)) for s in range(0, n_snapshots, size)]


def map_dense(series: GraphSeries, fn: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    """Apply ``fn`` to dense adjacency chunks ``(t, N, N)`` and concatenate on axis 0."""
    n = series.n_nodes
    parts = [fn(series.dense(np.arange(a, b))) for a, b in chunk_bounds(len(series), n * n)]
    return np.concatenate(parts, axis=0)


def sym_abs(w: np.ndarray, directed: bool) -> np.ndarray:
    """Symmetrized |W|: ``|W| + |W|ᵀ`` for directed graphs, ``|W|`` for undirected ones.

    For a directed graph each directed edge contributes its magnitude to the
    undirected link (reciprocal edges add); an undirected graph's symmetric matrix
    already lists each link once in each direction.
    """
    a = np.abs(w)
    return a + np.swapaxes(a, -1, -2) if directed else a


def laplacian(s: np.ndarray) -> np.ndarray:
    """Combinatorial Laplacian ``D - S`` of symmetric non-negative stacks ``(..., N, N)``."""
    out = -s
    idx = np.arange(s.shape[-1])
    out[..., idx, idx] += s.sum(axis=-1)
    return out


def normalized_laplacian(s: np.ndarray) -> np.ndarray:
    """``I - D^{-1/2} S D^{-1/2}``; isolated nodes get an all-zero row and column."""
    deg = s.sum(axis=-1)
    with np.errstate(divide="ignore"):
        inv = np.where(deg > 0, 1.0 / np.sqrt(np.where(deg > 0, deg, 1.0)), 0.0)
    out = -(inv[..., :, None] * s * inv[..., None, :])
    idx = np.arange(s.shape[-1])
    out[..., idx, idx] += (deg > 0).astype(float)
    return out


def strengths(w: np.ndarray) -> dict[str, np.ndarray]:
    """In/out strengths of the positive and negative parts, each ``(..., N)``.

    ``in_pos[j] = Σ_i max(W_ij, 0)``, ``in_neg[j] = Σ_i max(-W_ij, 0)`` and likewise
    for out-strengths over rows. Negative strengths are reported as magnitudes.
    """
    pos = np.maximum(w, 0.0)
    neg = np.maximum(-w, 0.0)
    return {
        "in_pos": pos.sum(axis=-2),
        "in_neg": neg.sum(axis=-2),
        "out_pos": pos.sum(axis=-1),
        "out_neg": neg.sum(axis=-1),
    }
