"""Figures of recurrence analysis: recurrence plots, line histograms, RQA along training.

Every function returns a matplotlib Axes and never shows it; matplotlib is imported
inside the functions.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from graphtraj.exceptions import UnknownOptionError, ValidationError

__all__ = ["plot_recurrence", "plot_windowed_rqa", "plot_rqa_histograms"]


def _axes(ax: Any, figsize: tuple[float, float] = (4.2, 4.0)) -> Any:
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    _, ax = plt.subplots(figsize=figsize)
    return ax


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
        the image stays light; the title says so.

    Returns
    -------
    matplotlib.axes.Axes
        Time runs left to right (columns) and bottom to top (rows), as is usual for
        recurrence plots; the line of identity is the main diagonal.

    Raises
    ------
    ValidationError
        If ``times`` has the wrong length.

    Examples
    --------
    >>> import numpy as np
    >>> from graphtraj.timeseries import recurrence_matrix
    >>> ax = plot_recurrence(recurrence_matrix(np.sin(np.arange(100) / 5), 0.1))
    >>> ax.get_title().startswith("recurrence, ε = 0.1")
    True
    """
    from graphtraj.timeseries.recurrence import RecurrenceMatrix

    if not isinstance(rmat, RecurrenceMatrix):
        rmat = RecurrenceMatrix.from_array(rmat)
    dense = rmat.toarray()
    n, m = dense.shape
    factor = max(1, int(np.ceil(max(n, m) / max(1, int(max_pixels)))))
    if factor > 1:
        nb, mb = -(-n // factor), -(-m // factor)
        padded = np.zeros((nb * factor, mb * factor), bool)
        padded[:n, :m] = dense
        dense = padded.reshape(nb, factor, mb, factor).any(axis=(1, 3))
    if times is not None:
        times = np.asarray(times, dtype=np.float64)
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
            title += f" [{factor}×{factor} blocks]"
    ax.set_title(title, fontsize=9)
    return ax


def plot_windowed_rqa(
    result: Any,
    measures: tuple[str, ...] | list[str] = ("DET", "LAM"),
    *,
    ax: Any = None,
    label: str | None = None,
) -> Any:
    """RQA measures along training, one line per measure, from :func:`windowed_rqa`.

    Parameters
    ----------
    result : WindowedRQAResult
        Windowed measures.
    measures : sequence of str, default ("DET", "LAM")
        Which measures to draw (must be in ``result.values``).
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
    UnknownOptionError
        A requested measure is not in the result.

    Examples
    --------
    >>> import numpy as np
    >>> from graphtraj.timeseries import windowed_rqa
    >>> res = windowed_rqa(np.sin(np.arange(300) / 4), 0.1, width=100, measures=["DET"])
    >>> len(plot_windowed_rqa(res, ["DET"]).lines)
    1
    """
    ax = _axes(ax, (5.0, 3.2))
    x = result.times if result.times is not None else result.centers
    for name in measures:
        if name not in result.values:
            raise UnknownOptionError(
                f"`measures` must be among {', '.join(result.values)}; got {name!r}"
            )
        tag = name if label is None else f"{label}: {name}"
        ax.plot(x, result.values[name], marker="o", markersize=3, label=tag)
    ax.set_xlabel("training step" if result.times is not None else "window centre (index)")
    ax.set_ylabel("RQA measure")
    unit = "samples" if result.times is None else "records"
    ax.set_title(f"RQA in windows of {result.width} {unit} (moving by {result.step})",
                 fontsize=9)
    ax.legend(fontsize=8)
    return ax


def plot_rqa_histograms(result: Any, *, ax: Any = None) -> Any:
    """Diagonal and vertical line-length histograms of an RQA (log counts).

    Parameters
    ----------
    result : RQAResult
        An RQA result.
    ax : matplotlib Axes, optional
        Where to draw; a new figure otherwise.

    Returns
    -------
    matplotlib.axes.Axes
        Step curves of the number of lines of each length; dotted vertical lines mark
        ``min_line`` and ``min_vert``.

    Examples
    --------
    >>> import numpy as np
    >>> from graphtraj.timeseries import rqa
    >>> ax = plot_rqa_histograms(rqa(np.sin(np.arange(200) / 3), 0.1))
    >>> ax.get_yscale()
    'log'
    """
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
