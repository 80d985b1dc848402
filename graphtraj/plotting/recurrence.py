"""Figures of recurrence analysis: recurrence plots, line histograms, RQA along training.

Every function returns a matplotlib Axes and never shows it; matplotlib is imported
inside the functions.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from graphtraj._checks import as_float_array, check_int
from graphtraj.exceptions import UnknownOptionError, ValidationError
from graphtraj.plotting._axes import axes_for
from graphtraj.plotting._inputs import check_input

__all__ = ["plot_recurrence", "plot_windowed_rqa", "plot_rqa_histograms"]

#: Measures drawn by :func:`plot_windowed_rqa` by default, where the result holds them.
DEFAULT_MEASURES = ("DET", "LAM")


def _axes(ax: Any, figsize: tuple[float, float] = (4.2, 4.0)) -> Any:
    return axes_for(ax, figsize)


def plot_recurrence(
    rmat: Any,
    *,
    ax: Any = None,
    times: Any = None,
    title: str | None = None,
    max_pixels: int = 1000,
) -> Any:
    """The recurrence plot: a black dot at ``(j, i)`` when states ``i`` and ``j`` recur.

    Parameters
    ----------
    rmat : RecurrenceMatrix or boolean array, shape (N, M)
        The matrix.
    ax : matplotlib Axes, optional
        Where to draw; a new figure otherwise.
    times : array_like, shape (N,), optional
        Axis values (e.g. training steps) for a square matrix; default: indices.
    title : str, optional
        Default: the matrix's kind, spec, ε, metric and Theiler window.
    max_pixels : int, default 1000
        Larger matrices are shown block-reduced (a block is black if any cell is), so
        the image stays light; the title says so. A positive integer.

    Returns
    -------
    matplotlib.axes.Axes
        Time runs left to right (columns) and bottom to top (rows), as is usual for
        recurrence plots; the line of identity is the main diagonal.

    Raises
    ------
    ValidationError
        If ``rmat`` is neither a RecurrenceMatrix nor a 2-D boolean (0/1) array,
        ``times`` has the wrong length or ``max_pixels`` is not a positive integer.

    Examples
    --------
    >>> import numpy as np
    >>> from graphtraj.timeseries import recurrence_matrix
    >>> ax = plot_recurrence(recurrence_matrix(np.sin(np.arange(100) / 5), 0.1))
    >>> ax.get_title().startswith("recurrence, ε = 0.1")
    True
    """
    from graphtraj.timeseries.recurrence import RecurrenceMatrix

    check_input(rmat, "plot_recurrence")
    max_pixels = check_int(max_pixels, "max_pixels", minimum=1)
    if not isinstance(rmat, RecurrenceMatrix):
        try:
            rmat = RecurrenceMatrix.from_array(rmat)
        except ValidationError as exc:
            raise ValidationError(
                f"`rmat` must be a RecurrenceMatrix or a 2-D boolean (0/1) array; got an "
                f"unusable array ({exc}). Build the matrix of a series or states with "
                "recurrence_matrix(x, eps) first."
            ) from None
    dense = rmat.toarray()
    n, m = dense.shape
    factor = max(1, int(np.ceil(max(n, m) / max_pixels)))
    if factor > 1:
        nb, mb = -(-n // factor), -(-m // factor)
        padded = np.zeros((nb * factor, mb * factor), bool)
        padded[:n, :m] = dense
        dense = padded.reshape(nb, factor, mb, factor).any(axis=(1, 3))
    if times is not None:
        times = as_float_array(times, "times", 1)
        if times.shape != (n,) or n != m:
            raise ValidationError(
                f"`times` must have shape ({n},) for a square matrix; got {times.shape} "
                f"for a matrix of shape {rmat.shape}"
            )
        extent = (times[0], times[-1], times[0], times[-1])
        label = "training step"
    else:
        extent = (-0.5, m - 0.5, -0.5, n - 0.5)
        label = "index"
    ax = _axes(ax)
    ax.imshow(dense, origin="lower", cmap="Greys", interpolation="nearest",
              extent=extent, aspect="auto", vmin=0, vmax=1)
    ax.set_xlabel(label + (" (y)" if rmat.kind == "cross" else ""))
    ax.set_ylabel(label + (" (x)" if rmat.kind == "cross" else ""))
    if title is None:
        title = rmat.title()
        if factor > 1:
            title += f"\n[{factor}×{factor} blocks: black if any cell recurs]"
    ax.set_title(title, fontsize=9)
    return ax


def plot_windowed_rqa(
    result: Any,
    measures: str | tuple[str, ...] | list[str] | None = None,
    *,
    ax: Any = None,
    label: str | None = None,
) -> Any:
    """RQA measures along training, one line per measure, from :func:`windowed_rqa`.

    Parameters
    ----------
    result : WindowedRQAResult
        Windowed measures, from :func:`~graphtraj.timeseries.windowed_rqa`.
    measures : str or sequence of str, optional
        Which measures to draw: one name or several, each in ``result.values``.
        Default: those of :data:`DEFAULT_MEASURES` ("DET", "LAM") that the result
        holds, or every measure it holds if it has neither.
    ax : matplotlib Axes, optional
        Where to draw; a new figure otherwise.
    label : str, optional
        Prefix for the legend entries (e.g. "weights").

    Returns
    -------
    matplotlib.axes.Axes
        x: window centre in training steps (or index), y: the measures.

    Raises
    ------
    ValidationError
        If ``result`` is not a WindowedRQAResult, or ``measures`` is empty or not
        made of strings.
    UnknownOptionError
        A requested measure is not in the result (the message lists those it holds).

    Examples
    --------
    >>> import numpy as np
    >>> from graphtraj.timeseries import windowed_rqa
    >>> res = windowed_rqa(np.sin(np.arange(300) / 4), 0.1, width=100, measures=["DET", "RR"])
    >>> [line.get_label() for line in plot_windowed_rqa(res).lines]  # LAM was not computed
    ['DET']
    >>> [line.get_label() for line in plot_windowed_rqa(res, "RR").lines]
    ['RR']
    """
    check_input(result, "plot_windowed_rqa")
    names = _measure_names(measures, result.values)
    ax = _axes(ax, (5.0, 3.2))
    x = result.times if result.times is not None else result.centers
    for name in names:
        tag = name if label is None else f"{label}: {name}"
        ax.plot(x, result.values[name], marker="o", markersize=3, label=tag)
    ax.set_xlabel("training step" if result.times is not None else "window centre (index)")
    ax.set_ylabel("RQA measure")
    unit = "samples" if result.times is None else "records"
    ax.set_title(f"RQA in windows of {result.width} {unit} (moving by {result.step})",
                 fontsize=9)
    ax.legend(fontsize=8)
    return ax


def _measure_names(measures: Any, values: dict[str, Any]) -> list[str]:
    """The measures to draw: checked against those in ``values``, a str is one name."""
    if measures is None:
        return [m for m in DEFAULT_MEASURES if m in values] or list(values)
    if isinstance(measures, str):
        names = [measures]
    else:
        try:
            names = list(measures)
        except TypeError:
            raise ValidationError(
                f"`measures` must be a measure name or a sequence of names; got "
                f"{type(measures).__name__}. Pass e.g. 'DET' or ['DET', 'LAM']."
            ) from None
    if not names:
        raise ValidationError(
            f"`measures` must name at least one measure; got an empty sequence. The "
            f"result holds {', '.join(values)}."
        )
    for name in names:
        if not isinstance(name, str):
            raise ValidationError(
                f"`measures` must hold measure names (str); got {name!r}. The result "
                f"holds {', '.join(values)}."
            )
        if name not in values:
            from graphtraj.timeseries.rqa_measures import MEASURES

            remedy = (f"windowed_rqa computed only these; recompute with {name!r} in its "
                      "`measures` (default: all)" if name in MEASURES
                      else f"{name!r} is not an RQA measure")
            raise UnknownOptionError(
                f"`measures` must be among {', '.join(values)}; got {name!r}: {remedy}."
            )
    return names


def plot_rqa_histograms(result: Any, *, ax: Any = None) -> Any:
    """Diagonal and vertical line-length histograms of an RQA (log counts).

    Parameters
    ----------
    result : RQAResult
        An RQA result, from :func:`~graphtraj.timeseries.rqa`.
    ax : matplotlib Axes, optional
        Where to draw; a new figure otherwise.

    Returns
    -------
    matplotlib.axes.Axes
        Step curves of the number of lines of each length; dotted vertical lines mark
        ``min_line`` and ``min_vert``.

    Raises
    ------
    ValidationError
        If ``result`` is not an RQAResult.

    Examples
    --------
    >>> import numpy as np
    >>> from graphtraj.timeseries import rqa
    >>> ax = plot_rqa_histograms(rqa(np.sin(np.arange(200) / 3), 0.1))
    >>> ax.get_yscale()
    'log'
    """
    check_input(result, "plot_rqa_histograms")
    ax = _axes(ax, (5.0, 3.2))
    h = result.histograms
    for name, arr, cut in (("diagonal", h.diagonal, result.min_line),
                           ("vertical", h.vertical, result.min_vert)):
        lengths = np.arange(arr.size)
        keep = arr > 0
        if keep.any():
            ax.step(lengths[keep], arr[keep], where="mid", label=name)
        ax.axvline(cut, linestyle=":", color="grey")
    ax.set_yscale("log")
    ax.set_xlabel("line length")
    ax.set_ylabel("number of lines")
    ax.legend(fontsize=8)
    return ax
