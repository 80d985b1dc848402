"""RQA measures over sliding windows: how recurrence changes along training."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

from graphtraj._checks import check_int
from graphtraj._progress import progress_bar
from graphtraj._result import Result
from graphtraj.exceptions import (
    InsufficientDataError,
    UndefinedResultWarning,
    UnknownOptionError,
    ValidationError,
)
from graphtraj.timeseries._recurrence_source import MatrixSource, make_source
from graphtraj.timeseries.rqa_measures import MEASURES, _as_matrix, rqa
from graphtraj.timeseries.visibility import check_times

__all__ = ["WindowedRQAResult", "windowed_rqa"]


@dataclass(frozen=True, eq=False)
class WindowedRQAResult(Result):
    """RQA measures of consecutive windows.

    Attributes
    ----------
    starts, stops : ndarray of int64, shape (W,)
        Index range ``[start, stop)`` of each window.
    centers : ndarray of float, shape (W,)
        Mean index of each window.
    times : ndarray of float, shape (W,), or None
        Mean of the given ``times`` over each window (e.g. training steps).
    values : dict of str to ndarray, shape (W,)
        Each requested measure per window (NaN where undefined).
    width, step : int
        Window length and shift, in samples.
    params : dict
        The RQA parameters (theiler, min_line, min_vert, convention, spec).
    """

    starts: np.ndarray
    stops: np.ndarray
    centers: np.ndarray
    times: np.ndarray | None
    values: dict[str, np.ndarray]
    width: int
    step: int
    params: dict[str, Any]

    def __getitem__(self, measure: str) -> np.ndarray:
        return self.values[measure]


def windowed_rqa(
    x: Any,
    spec: Any = None,
    *,
    width: int,
    step: int | None = None,
    times: Any = None,
    measures: tuple[str, ...] | list[str] | None = None,
    metric: str | None = None,
    precomputed: bool = False,
    theiler: int | None = None,
    min_line: int = 2,
    min_vert: int | None = None,
    min_white: int = 1,
    border: int = 10,
    convention: str | None = None,
    progress: bool | None = None,
) -> WindowedRQAResult:
    """RQA of sliding windows ``[s, s + width)``, ``s = 0, step, 2 step, ...``.

    Parameters
    ----------
    x : RecurrenceMatrix, boolean array, or data
        A recurrence matrix: each window is its diagonal block
        ``R[s:s+width, s:s+width]`` (one ε for all windows, as RecurrenceAnalysis.jl's
        ``windowed``). Or data (series, states, Trajectory, GraphSeries, distance matrix
        with ``precomputed=True``) with a ``spec``: each window gets its own threshold
        (e.g. a fixed recurrence rate per window).
    spec : RecurrenceSpec or float, optional
        Threshold rule for data input (None for a matrix).
    width : int
        Window length in samples, >= 2 and <= the series length.
    step : int, optional
        Shift between windows, >= 1 (default ``max(1, width // 2)``).
    times : array_like, shape (T,), optional
        Time of each sample, finite and strictly increasing (default: a
        Trajectory's ``times``), averaged per window.
    measures : str or sequence of str, optional
        Measure(s) to keep (default all of :data:`~graphtraj.timeseries.rqa_measures.MEASURES`).
    metric, precomputed, theiler, min_line, min_vert, min_white, border, convention
        As in :func:`~graphtraj.timeseries.rqa_measures.rqa`.
    progress : bool, optional
        Progress bar over windows.

    Returns
    -------
    WindowedRQAResult
        Window ranges, centres, times and one array per measure.

    Raises
    ------
    InsufficientDataError
        If ``width`` exceeds the series length.
    UnknownOptionError
        Unknown measure name.
    ValidationError
        Bad ``width``/``step``, ``times`` of the wrong length or not strictly
        increasing, or a ``spec`` mismatch as in ``rqa``.
    NonFiniteInputError
        If ``times`` has NaN or inf.

    Warns
    -----
    UndefinedResultWarning
        Once, if some windows have undefined measures (NaN there); the message
        names each measure that is NaN and in how many windows.

    Notes
    -----
    Webber & Zbilut (1994), doi:10.1152/jappl.1994.76.2.965 (epoch-wise RQA). Cost:
    ``W`` RQAs of ``width²`` cells each.

    Examples
    --------
    A series that is periodic, then noise: determinism drops in the second half.

    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> x = np.concatenate([np.tile([0.0, 1.0, 2.0], 40), rng.uniform(0, 3, 120)])
    >>> res = windowed_rqa(x, 0.2, width=60, step=60, measures=["DET"])
    >>> res.starts.tolist(), (res["DET"] > 0.9).tolist()
    ([0, 60, 120, 180], [True, True, False, False])
    """
    if isinstance(measures, str):  # one name, not its letters
        measures = (measures,)
    names = MEASURES if measures is None else tuple(measures)
    for name in names:
        if name not in MEASURES:
            raise UnknownOptionError(
                f"`measures` must contain names from {', '.join(MEASURES)}; got {name!r}"
            )
    mat = _as_matrix(x)
    if mat is not None:
        if spec is not None:
            raise ValidationError(
                f"`spec` must be None when `x` is a recurrence matrix; got {spec!r}"
            )
        if mat.shape[0] != mat.shape[1]:
            raise ValidationError(
                f"`x` must be a square recurrence matrix for windows; got {mat.shape}"
            )
        n = mat.shape[0]
        source = None
    else:
        if spec is None:
            raise ValidationError(
                "`spec` must be given when `x` is data; or pass a RecurrenceMatrix"
            )
        from graphtraj.trajectory import Trajectory

        if times is None and isinstance(x, Trajectory):
            times = x.times
        source = make_source(x, metric=metric, precomputed=precomputed)
        n = source.n_rows
    width = check_int(width, "width", minimum=2)
    step = max(1, width // 2) if step is None else check_int(step, "step", minimum=1)
    if width > n:
        raise InsufficientDataError(
            f"`width` must be at most the series length {n}; got {width}"
        )
    times = check_times(times, n)
    starts = np.arange(0, n - width + 1, step, dtype=np.int64)
    stops = starts + width
    values = {name: np.empty(starts.size) for name in names}
    kw = dict(theiler=theiler, min_line=min_line, min_vert=min_vert, min_white=min_white,
              border=border, convention=convention)
    for w_i in progress_bar(range(starts.size), total=starts.size, desc="windowed RQA",
                            progress=progress):
        s, e = int(starts[w_i]), int(stops[w_i])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UndefinedResultWarning)
            if source is None:
                res = rqa(mat.submatrix(s, e), **kw)
            elif isinstance(source, MatrixSource):
                res = rqa(source.d[s:e, s:e], spec, precomputed=True, **kw)
            else:
                res = rqa(source.x[s:e], spec, metric=source.metric, **kw)
        for name in names:
            values[name][w_i] = getattr(res, name)
    nan = np.isnan(np.array([values[name] for name in names]).reshape(len(names), starts.size))
    undefined = int(nan.any(axis=0).sum())
    if undefined:
        which = ", ".join(
            f"{name} in {count}" for name, count in zip(names, nan.sum(axis=1).tolist(),
                                                        strict=True) if count
        )
        warnings.warn(
            f"{undefined} of {starts.size} windows have undefined measures (NaN there): "
            f"{which}; those windows have too few recurrences or lines (TREND also "
            "needs more diagonals than theiler + border). Run rqa() on one such window "
            "for the reason of each, or widen the windows.",
            UndefinedResultWarning, stacklevel=2,
        )
    centers = (starts + stops - 1) / 2.0
    win_times = None
    if times is not None:
        win_times = np.array([times[s:e].mean() for s, e in zip(starts, stops, strict=True)])
    params = {
        "theiler": res.theiler, "min_line": res.min_line, "min_vert": res.min_vert,
        "min_white": res.min_white, "border": res.border, "convention": res.convention,
        "spec": None if spec is None else repr(spec),
    }
    return WindowedRQAResult(
        starts=starts, stops=stops, centers=centers, times=win_times, values=values,
        width=width, step=step, params=params,
    )

