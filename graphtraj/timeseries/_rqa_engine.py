"""Drive the compiled line scanner over a recurrence matrix, column by column (private).

Three column providers feed the same kernel (:func:`~._rqa_kernels._column`):

- points with a native metric (*streaming*): for each column only the rows whose most
  spread coordinate is within ε are candidates; their distances are computed,
  thresholded and dropped -- nothing N x N is ever held, and working memory is O(N);
- a precomputed distance matrix: blocks of columns are thresholded in place;
- a stored :class:`~graphtraj.timeseries.recurrence.RecurrenceMatrix`: bit-packed
  columns (for a symmetric matrix its rows; otherwise the transpose is packed once).

All providers compute distances with the same arithmetic and visit the same recurrent
cells in the same order, so their histograms are identical.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from graphtraj._progress import progress_bar
from graphtraj.timeseries._recurrence_source import DistanceSource, PointSource
from graphtraj.timeseries._recurrence_threshold import Thresholds

__all__ = ["RawScan", "scan_source", "scan_stored"]

_CHUNK = 256  # columns per kernel call (granularity of the progress bar)


@dataclass(frozen=True)
class RawScan:
    """Everything one scan accumulates (see :mod:`._rqa_kernels` for the row layout).

    ``diag_count[d + n_rows - 1]`` is the number of recurrent admissible cells on
    diagonal ``d = j - i``; ``square_count`` the same inside the leading square. In
    ``symmetric`` mode only ``d >= 0`` was followed and stands for ``-d`` as well.
    """

    hist: np.ndarray
    diag_count: np.ndarray
    square_count: np.ndarray
    n_rows: int
    n_cols: int
    upper: bool
    theiler: int


def _chunks(n_cols: int, progress: bool | None, desc: str):
    starts = list(range(0, n_cols, _CHUNK))
    return progress_bar(starts, total=len(starts), desc=desc, progress=progress)


def _finish(state, n_rows, n_cols, symmetric, w) -> RawScan:
    from graphtraj.timeseries._rqa_kernels import flush

    _, dstate, dcount, hist = state
    off, nsq = n_rows - 1, min(n_rows, n_cols)
    flush(off, nsq, dstate, dcount, hist)
    hist[:, 0] = 0  # bin 0 served as a dump for branch-free updates
    return RawScan(hist, dcount[:, 0].copy(), dcount[:, 1].copy(), n_rows, n_cols,
                   symmetric, w)


def scan_source(
    source: DistanceSource,
    thresholds: Thresholds,
    theiler: int,
    *,
    upper: bool,
    progress: bool | None = None,
) -> RawScan:
    """Streaming scan of the recurrence matrix ``D <= thresholds`` (``upper``: R is
    symmetric, so diagonal runs are followed above the LOI only)."""
    from graphtraj.timeseries._rqa_kernels import new_state, scan_dense, scan_points

    n_rows, n_cols = source.n_rows, source.n_cols
    state = new_state(n_rows, n_cols)
    rows, dstate, dcount, hist = state
    off, nsq = n_rows - 1, min(n_rows, n_cols)
    thr_rows, thr_cols = thresholds.rows, thresholds.cols
    if isinstance(source, PointSource):
        from graphtraj.timeseries._recurrence_kernels import compare_values

        xst, order, key, col = source.sorted_rows()
        bitmap = np.zeros((n_rows + 63) // 64, np.uint64)
        acc = np.empty(n_rows)
        hits = np.empty(n_rows, np.int64)
        radius = float(np.max(thr_rows)) if n_rows else -1.0
        uniform = bool(n_rows == 0 or np.all(thr_rows == thr_rows[0]))
        thr_sorted = compare_values(thr_rows[order], source.code)
        cmp_cols = compare_values(thr_cols, source.code)
        for c0 in _chunks(n_cols, progress, "RQA (streaming)"):
            c1 = min(c0 + _CHUNK, n_cols)
            scan_points(xst, order, key, thr_sorted, radius, uniform, source.y, col, c0,
                        c1, cmp_cols, thr_cols, source.code, theiler, upper, off, nsq,
                        bitmap, rows, acc, hits, dstate, dcount, hist)
    else:
        buf = np.empty((_CHUNK, n_rows))
        for c0 in _chunks(n_cols, progress, "RQA (streaming)"):
            nc = min(_CHUNK, n_cols - c0)
            block = source.tile(0, n_rows, c0, nc, buf)
            scan_dense(block, c0, nc, thr_rows, thr_cols, theiler, upper, off, nsq, rows,
                       dstate, dcount, hist)
    return _finish(state, n_rows, n_cols, upper, theiler)


def scan_stored(
    packed_columns: np.ndarray,
    n_rows: int,
    n_cols: int,
    theiler: int,
    *,
    upper: bool,
    progress: bool | None = None,
) -> RawScan:
    """Scan a stored matrix given as bit-packed columns (``packbits(R.T, axis=1)``)."""
    from graphtraj.timeseries._rqa_kernels import new_state, scan_packed

    state = new_state(n_rows, n_cols)
    rows, dstate, dcount, hist = state
    off, nsq = n_rows - 1, min(n_rows, n_cols)
    for c0 in _chunks(n_cols, progress, "RQA"):
        c1 = min(c0 + _CHUNK, n_cols)
        scan_packed(packed_columns, c0, c1, n_rows, theiler, upper, off, nsq, rows, dstate,
                    dcount, hist)
    return _finish(state, n_rows, n_cols, upper, theiler)


def packed_columns(data: Any, shape: tuple[int, int], symmetric: bool) -> np.ndarray:
    """Bit-packed columns of a stored matrix (its own rows when symmetric)."""
    if isinstance(data, np.ndarray):
        if symmetric:
            return data
        dense = np.unpackbits(data, axis=1, count=shape[1]).astype(bool)
        return np.packbits(dense.T, axis=1)
    csc = data.tocsc() if not symmetric else data.tocsr()
    dense = csc.toarray().astype(bool)
    return np.packbits(dense if symmetric else dense.T, axis=1)
