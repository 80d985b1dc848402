"""From a :class:`~graphtraj.timeseries.recurrence_spec.RecurrenceSpec` to thresholds.

Every quantity is computed by streaming over tiles of a
:class:`~graphtraj.timeseries._recurrence_source.DistanceSource`: the maximum and mean
distance in one pass, an exact order statistic (fixed recurrence rate) in one pass that
collects only the distances inside a bracket found from a sample (with an exact
histogram-refinement fallback), per-row order statistics (local recurrence rate) one
block of rows at a time. Memory stays
O(N + tile), never O(N²) (field case C4).

Pairs are *admissible* when ``|i - j| >= theiler``. For a symmetric source only the
upper triangle is scanned; cells then carry weights (1 on the diagonal, 2 elsewhere) so
every statistic is over ordered pairs, as if the whole matrix had been read.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from graphtraj.exceptions import ValidationError
from graphtraj.timeseries._recurrence_source import TILE, DistanceSource, iter_tiles
from graphtraj.timeseries.recurrence_spec import (
    FixedThreshold,
    GlobalRecurrenceRate,
    LocalRecurrenceRate,
    RecurrenceSpec,
    ScaledThreshold,
)

__all__ = ["Thresholds", "admissible_pairs", "resolve_thresholds", "kth_smallest"]

_NBINS = 1 << 16
_CAP = 1 << 20
_MAX_LEVELS = 8
_DIRECT = 1 << 18  # collect every admissible distance when there are at most this many
_SAMPLE = 1 << 23  # most pairs sampled to bracket an order statistic
_WINDOW_CAP = 1 << 24  # most distances collected inside the bracket


@dataclass(frozen=True)
class Thresholds:
    """Comparison thresholds for a scan plus the ε values to report.

    ``rows[i]`` and ``cols[j]`` bound cell ``(i, j)``: it recurs when
    ``D[i, j] <= min(rows[i], cols[j])``. For pyunicorn's strict ``d < ε`` the stored
    thresholds are the next float below ε.
    """

    rows: np.ndarray
    cols: np.ndarray
    eps: float | np.ndarray
    strict: bool


def admissible_pairs(n_rows: int, n_cols: int, theiler: int) -> int:
    """Number of ordered pairs ``(i, j)`` of an ``n_rows x n_cols`` matrix with
    ``|i - j| >= theiler``.

    Examples
    --------
    >>> admissible_pairs(10, 10, 1), admissible_pairs(10, 10, 0)
    (90, 100)
    """
    if theiler <= 0:
        return n_rows * n_cols
    d = np.arange(-(n_rows - 1), n_cols, dtype=np.int64)
    length = np.where(d >= 0, np.minimum(n_rows, n_cols - d), np.minimum(n_rows + d, n_cols))
    return int(length[np.abs(d) >= theiler].sum())


def _rank(rate: float, m: int) -> int:
    """``max(1, ceil(rate · m))``, forgiving the binary representation of ``rate``
    (``0.01 · 14400`` is 144, not 145)."""
    return max(1, math.ceil(rate * m * (1.0 - 1e-12)))


def _weights(source: DistanceSource) -> tuple[bool, int, int]:
    upper = source.symmetric
    return upper, 1, (2 if upper else 1)


def _stats(source: DistanceSource, theiler: int, tile: tuple[int, int]) -> np.ndarray:
    from graphtraj.timeseries._recurrence_kernels import tile_stats

    upper, wd, wo = _weights(source)
    stats = np.array([0.0, 0.0, 0.0])
    buf = np.empty((tile[1], tile[0]))
    for r0, nr, c0, nc in iter_tiles(source.n_rows, source.n_cols, upper, tile):
        t = source.tile(r0, nr, c0, nc, buf)
        tile_stats(t, r0, nr, c0, nc, upper, theiler, wd, wo, stats)
    return stats


def _max_distance(source: DistanceSource, tile: tuple[int, int]) -> float:
    from graphtraj.timeseries._recurrence_kernels import tile_max

    upper = source.symmetric
    out = np.zeros(1)
    buf = np.empty((tile[1], tile[0]))
    for r0, nr, c0, nc in iter_tiles(source.n_rows, source.n_cols, upper, tile):
        tile_max(source.tile(r0, nr, c0, nc, buf), r0, nr, c0, nc, upper, out)
    return float(out[0])


def _scanned_cells(source: DistanceSource, theiler: int) -> int:
    n, m = source.n_rows, source.n_cols
    if source.symmetric:
        k = n - max(theiler, 1)
        return k * (k + 1) // 2 + (n if theiler == 0 else 0)
    return admissible_pairs(n, m, theiler)


def _sample_window(source: DistanceSource, theiler: int, q: float, size: int):
    """A rank window ``[lo, hi]`` around quantile ``q`` from a fixed pseudo-random sample.

    The window only decides how much the exact pass collects; the result never depends
    on it (a miss falls back to the histogram method), hence the fixed internal seed.
    Returns ``(lo, hi, expected fraction of the pairs inside)``.
    """
    gen = np.random.default_rng(0x5EED)
    gap = max(theiler, 1) if source.symmetric else theiler
    sample = np.empty(size)
    filled = 0
    while filled < size:
        chunk = min(1 << 18, 2 * (size - filled))
        i = gen.integers(0, source.n_rows, chunk)
        j = gen.integers(0, source.n_cols, chunk)
        keep = np.abs(i - j) >= gap
        d = source.pair_distances(i[keep], j[keep])[: size - filled]
        sample[filled : filled + d.size] = d
        filled += d.size
    sample.sort()
    r = q * size
    half = 6.0 * math.sqrt(size * q * (1.0 - q)) + 2.0
    a, b = int(math.floor(r - half)), int(math.ceil(r + half))
    lo = -np.inf if a <= 0 else float(sample[a])
    hi = np.inf if b >= size - 1 else float(sample[b])
    return lo, hi, (min(b, size - 1) - max(a, 0)) / size


def _kth_in_window(source, theiler, k, lo, hi, capacity, tile):
    below, values, weights, n = source.window(theiler, lo, hi, capacity, tile)
    if n > capacity or n == 0 or below >= k:
        return None
    # Weighted k-th smallest without an argsort: sort each weight class in place and
    # evaluate the count of values <= v at every candidate v (ties are handled because
    # the first v whose count reaches k is the answer).
    values, weights = values[:n], weights[:n]
    best = None
    classes = [np.sort(values[weights == wt]) for wt in (1, 2)]
    for wt, own in zip((1, 2), classes, strict=True):
        if own.size == 0:
            continue
        other = classes[1] if wt == 1 else classes[0]
        total = below + wt * np.arange(1, own.size + 1, dtype=np.int64)
        total += (3 - wt) * np.searchsorted(other, own, side="right")
        hit = int(np.searchsorted(total, k, side="left"))
        if hit < own.size:
            v = float(own[hit])
            best = v if best is None else min(best, v)
    return best


def kth_smallest(
    source: DistanceSource, theiler: int, k: int, tile: tuple[int, int] = TILE
) -> float:
    """The ``k``-th smallest (1-based) distance over the admissible *ordered* pairs.

    Exact, in one streaming pass as a rule: a fixed pseudo-random sample of pairs
    brackets the order statistic in a window ``[lo, hi]``; the pass counts the
    distances below ``lo`` and collects those inside (at most ``2**24``), which are
    then sorted. If the bracket misses, a weighted histogram over a chain of ever finer
    bins locates the order statistic exactly (one pass per level).
    """
    cells = _scanned_cells(source, theiler)
    if cells <= _DIRECT:
        found = _kth_in_window(source, theiler, k, -np.inf, np.inf, max(cells, 1), tile)
    else:
        q = min(max(k / admissible_pairs(source.n_rows, source.n_cols, theiler), 0.0), 1.0)
        size = int(min(_SAMPLE, max(1 << 14, (2.6 * cells) ** (2.0 / 3.0), cells // 1024)))
        lo, hi, frac = _sample_window(source, theiler, q, min(size, cells // 4))
        capacity = int(min(_WINDOW_CAP, 1.5 * frac * cells + 4096))
        found = _kth_in_window(source, theiler, k, lo, hi, capacity, tile)
    if found is not None:
        return found
    return _kth_by_histogram(source, theiler, k, tile)


def _kth_by_histogram(
    source: DistanceSource, theiler: int, k: int, tile: tuple[int, int]
) -> float:
    """Exact order statistic by histogram refinement (the fallback of kth_smallest)."""
    from graphtraj.timeseries._recurrence_kernels import tile_collect, tile_histogram

    upper, wd, wo = _weights(source)
    tiles = iter_tiles(source.n_rows, source.n_cols, upper, tile)
    buf = np.empty((tile[1], tile[0]))
    levels = np.zeros((_MAX_LEVELS, 4))
    bound = source.upper_bound()
    if bound <= 0.0:
        return 0.0
    lo, scale, below = 0.0, _NBINS / bound, 0
    for lev in range(_MAX_LEVELS):
        hist = np.zeros(_NBINS, np.int64)
        minmax = np.array([np.inf, -np.inf])
        for r0, nr, c0, nc in tiles:
            t = source.tile(r0, nr, c0, nc, buf)
            tile_histogram(t, r0, nr, c0, nc, upper, theiler, wd, wo, levels, lev, lo,
                           scale, hist, minmax)
        if minmax[0] == minmax[1]:
            return float(minmax[0])
        cum = below + np.cumsum(hist)
        b = int(np.searchsorted(cum, k, side="left"))
        below_b = int(cum[b] - hist[b])
        levels[lev] = (lo, scale, b, _NBINS)
        if hist[b] <= _CAP:
            values = np.empty(int(hist[b]))
            weights = np.empty(int(hist[b]), np.int64)
            count = np.zeros(1, np.int64)
            for r0, nr, c0, nc in tiles:
                t = source.tile(r0, nr, c0, nc, buf)
                tile_collect(t, r0, nr, c0, nc, upper, theiler, wd, wo, levels, lev + 1,
                             values, weights, count)
            n = int(count[0])
            order = np.argsort(values[:n], kind="stable")
            cumw = below_b + np.cumsum(weights[:n][order])
            return float(values[:n][order][int(np.searchsorted(cumw, k, side="left"))])
        new_lo = lo + b / scale
        width = (1.0 / scale) if b < _NBINS - 1 else (float(minmax[1]) - new_lo)
        lo, below = new_lo, below_b
        scale = _NBINS / width if width > 0 else 1.0
    raise RuntimeError("order-statistic refinement did not converge")  # pragma: no cover


def _local_eps(
    source: DistanceSource, theiler: int, kth: np.ndarray
) -> np.ndarray:
    rows_per_block = max(1, min(256, (1 << 22) // max(source.n_cols, 1)))
    buf = np.empty((rows_per_block, source.n_cols))
    eps = np.empty(source.n_rows)
    for r0 in range(0, source.n_rows, rows_per_block):
        nr = min(rows_per_block, source.n_rows - r0)
        block = source.row_block(r0, nr, buf)
        for ri in range(nr):
            i = r0 + ri
            row = block[ri]
            if theiler > 0:
                row[max(0, i - theiler + 1) : i + theiler] = np.inf
            k = int(kth[i]) - 1
            eps[i] = np.partition(row, k)[k]
    return eps


def _row_admissible(n_rows: int, n_cols: int, theiler: int) -> np.ndarray:
    i = np.arange(n_rows)
    if theiler <= 0:
        return np.full(n_rows, n_cols, np.int64)
    band = np.minimum(i + theiler, n_cols) - np.minimum(np.maximum(i - theiler + 1, 0), n_cols)
    return (n_cols - np.maximum(band, 0)).astype(np.int64)


def resolve_thresholds(
    source: DistanceSource,
    spec: RecurrenceSpec,
    theiler: int,
    convention: str,
    tile: tuple[int, int] = TILE,
) -> Thresholds:
    """Thresholds for ``spec`` on ``source`` (see the module docstring for the rules)."""
    pyunicorn = convention == "pyunicorn"
    n_rows, n_cols = source.n_rows, source.n_cols
    inf_cols = np.full(n_cols, np.inf)
    if isinstance(spec, LocalRecurrenceRate):
        if pyunicorn:
            if spec.rate is None:
                raise ValidationError(
                    "`spec` must give `rate` under convention='pyunicorn' (pyunicorn's "
                    "local_recurrence_rate); got LocalRecurrenceRate(k=...)"
                )
            kth = np.full(n_rows, int(spec.rate * (n_cols - 1)) + 1, np.int64)
            eps = _local_eps(source, 0, kth)
        else:
            m = _row_admissible(n_rows, n_cols, theiler)
            if spec.k is not None:
                if spec.k > int(m.min()):
                    raise ValidationError(
                        f"`k` must be <= {int(m.min())}, the fewest admissible neighbours "
                        f"of any row ({n_cols} columns, theiler={theiler}); got {spec.k}"
                    )
                kth = np.full(n_rows, spec.k, np.int64)
            else:
                kth = np.array(
                    [_rank(spec.rate, int(mi)) for mi in m], np.int64
                )
            eps = _local_eps(source, theiler, kth)
        rows = np.nextafter(eps, -np.inf) if pyunicorn else eps.copy()
        return Thresholds(rows, inf_cols, eps, pyunicorn)
    if isinstance(spec, FixedThreshold):
        eps = spec.eps
    elif isinstance(spec, ScaledThreshold):
        if spec.scale == "std":
            if source.value_std is None:
                raise ValidationError(
                    "`spec` ScaledThreshold(scale='std') needs the input values; got a "
                    "precomputed distance matrix. Use scale='max' or 'mean', or "
                    "GlobalRecurrenceRate."
                )
            eps = spec.fraction * source.value_std
        elif spec.scale == "max":
            eps = spec.fraction * _max_distance(source, tile)
        else:
            count, total, _ = _stats(source, 0 if pyunicorn else theiler, tile)
            eps = spec.fraction * (total / count) if count > 0 else 0.0
    elif isinstance(spec, GlobalRecurrenceRate):
        w = 0 if pyunicorn else theiler
        m = admissible_pairs(n_rows, n_cols, w)
        if m == 0:
            raise ValidationError(
                f"`theiler` must leave admissible pairs for a fixed recurrence rate; got "
                f"theiler={theiler} on a {n_rows} x {n_cols} matrix"
            )
        if pyunicorn:
            k = int(spec.rate * (m - 1)) + 1
        else:
            k = _rank(spec.rate, m)
        eps = kth_smallest(source, w, k, tile)
    else:  # pragma: no cover - as_spec rejects anything else
        raise ValidationError(f"unsupported recurrence spec {spec!r}")
    cmp = float(np.nextafter(eps, -np.inf)) if pyunicorn else float(eps)
    return Thresholds(np.full(n_rows, cmp), inf_cols, float(eps), pyunicorn)
