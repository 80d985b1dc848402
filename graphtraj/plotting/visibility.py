"""Figures of visibility graphs: degree distributions with their tail fit, small graphs
drawn over their series, and windowed measures along training.

Every function returns a matplotlib Axes and never shows it; matplotlib is imported
inside the functions.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from graphtraj._checks import check_int
from graphtraj.exceptions import ValidationError
from graphtraj.plotting._axes import axes_for
from graphtraj.plotting._inputs import check_input

__all__ = [
    "plot_degree_distribution",
    "plot_visibility_graph",
    "plot_windowed_visibility",
]


def _axes(ax: Any, figsize: tuple[float, float] = (5.0, 3.4)) -> Any:
    return axes_for(ax, figsize)


def plot_degree_distribution(
    fit_or_graph: Any,
    *,
    ax: Any = None,
    k_min: int = 4,
    reference: bool = True,
    label: str | None = None,
) -> Any:
    """Degree distribution on log-linear axes with the fitted tail and the i.i.d. law.

    Straight lines on these axes are exponentials ``P(k) ~ e^(-lambda k)``; the dashed
    grey line is the law of the horizontal visibility graph of any i.i.d. series,
    ``(1/3)(2/3)^(k-2)`` (lambda = ln(3/2)) for total degrees, ``(1/2)^k`` (lambda =
    ln 2) for in- or out-degrees. A steeper empirical tail means correlated stochastic
    dynamics, a flatter one chaos (Lacasa & Toral 2010).

    Parameters
    ----------
    fit_or_graph : DegreeTailFit or VisibilityGraph
        A fit from :func:`graphtraj.timeseries.degree_tail_fit`, or a graph (fitted
        here from ``k_min``, total degree).
    ax : matplotlib Axes, optional
        Where to draw; a new figure otherwise.
    k_min : int, default 4
        Lower end of the fit when a graph is given.
    reference : bool, default True
        Draw the i.i.d. reference law.
    label : str, optional
        Legend label of the data points (e.g. "loss").

    Returns
    -------
    matplotlib.axes.Axes
        Points: empirical P(k) > 0; solid line: the fit over its range; dashed: reference.
        The y-axis spans the points only (with a margin ``Y_MARGIN``): the lines are
        clipped to it, so a steep fitted law does not squash the data; a line with no
        part inside it is left out of the legend. The reference stops at the largest
        observed degree.

    Raises
    ------
    ValidationError
        If ``fit_or_graph`` is neither a DegreeTailFit nor a VisibilityGraph.

    Examples
    --------
    >>> import numpy as np
    >>> from graphtraj.timeseries import visibility_graph
    >>> g = visibility_graph(np.random.default_rng(0).random(5000), "horizontal")
    >>> ax = plot_degree_distribution(g)
    >>> ax.get_yscale(), len(ax.lines)
    ('log', 3)
    """
    from graphtraj.timeseries.visibility import VisibilityGraph
    from graphtraj.timeseries.visibility_measures import degree_tail_fit

    check_input(fit_or_graph, "plot_degree_distribution")
    if isinstance(fit_or_graph, VisibilityGraph):
        import warnings

        from graphtraj.exceptions import UndefinedResultWarning

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UndefinedResultWarning)
            fit = degree_tail_fit(fit_or_graph, k_min=k_min)
    else:
        fit = fit_or_graph
    ax = _axes(ax)
    keep = fit.pk > 0
    ks, ps = fit.k[keep], fit.pk[keep]
    ax.plot(ks, ps, "o", ms=4, label=label or "data")
    lo, hi = _y_range(ps)
    shown = [ax.lines[-1]]
    if math.isfinite(fit.lam):
        (line,) = ax.plot(fit.fit_k, fit.fit_pk, "-", lw=1.5,
                          label=f"fit k>={fit.k_min}: λ = {fit.lam:.3f} ± {fit.stderr:.3f}")
        shown.append(line)
    if reference:
        k_top = max(int(ks[-1]) if ks.size else 2, 2)
        if fit.direction == "total":
            kr = np.arange(2, k_top + 1)
            pr, rlab = (1 / 3) * (2 / 3) ** (kr - 2), "i.i.d. HVG: λ = ln(3/2)"
        else:
            kr = np.arange(1, k_top + 1)
            pr, rlab = 0.5**kr, "i.i.d. HVG: λ = ln 2"
        # one point would be invisible as a dashed line: give it a marker
        (line,) = ax.plot(kr, pr, "--", color="0.5", lw=1, label=rlab,
                          marker="x" if kr.size == 1 else None)
        shown.append(line)
    ax.set_yscale("log")
    if ps.size:
        ax.set_ylim(lo, hi)
    ax.set_xlabel(f"degree k ({fit.direction})")
    ax.set_ylabel("P(k)")
    visible = [ln for ln in shown if _visible(ln, lo, hi)]
    ax.legend(handles=visible, fontsize="small", loc="best", framealpha=0.6)
    return ax


def _visible(line: Any, lo: float, hi: float) -> bool:
    y = np.asarray(line.get_ydata(), dtype=np.float64)
    return bool(np.any((y >= lo) & (y <= hi)))


#: Margin of the y-axis around the data, as a factor on log axes.
Y_MARGIN = 2.0


def _y_range(p: np.ndarray) -> tuple[float, float]:
    """The y-range of the data points with a margin (a decade each side for one value).

    Lines (fit, reference) are drawn only inside it, so that a steep fitted law does
    not stretch the axis to 1e-40 and squash the data.
    """
    if p.size == 0:
        return 1e-300, 1.0
    lo, hi = float(p.min()), float(p.max())
    if lo == hi:
        return lo / 10.0, min(hi * 10.0, 2.0)
    return lo / Y_MARGIN, min(hi * Y_MARGIN, 2.0)


def plot_visibility_graph(graph: Any, *, ax: Any = None, max_nodes: int = 200) -> Any:
    """Draw a short series as bars with its visibility edges on top.

    Natural edges are straight segments between bar tops; horizontal edges are drawn as
    horizontal segments at the height of the lower endpoint (the line of sight).

    Parameters
    ----------
    graph : VisibilityGraph
        From :func:`graphtraj.timeseries.visibility_graph`.
    ax : matplotlib Axes, optional
        Where to draw; a new figure otherwise.
    max_nodes : int, default 200
        Refuse longer series (the drawing would be unreadable); slice the series first.

    Returns
    -------
    matplotlib.axes.Axes
        One ``LineCollection`` of bars (``ax.collections[0]``) and one of edges
        (``ax.collections[1]``, one segment per edge).

    Raises
    ------
    ValidationError
        If the graph has more than ``max_nodes`` nodes or is not a VisibilityGraph.

    Examples
    --------
    >>> from graphtraj.timeseries import visibility_graph
    >>> ax = plot_visibility_graph(visibility_graph([5, 2, 4, 1, 5, 6, 4, 7, 2, 5]))
    >>> len(ax.collections[1].get_segments())
    17
    """
    from matplotlib.collections import LineCollection

    check_input(graph, "plot_visibility_graph")
    max_nodes = check_int(max_nodes, "max_nodes", minimum=2)
    if graph.n_nodes > max_nodes:
        raise ValidationError(
            f"`graph` must have at most max_nodes = {max_nodes} nodes to be drawn; got "
            f"{graph.n_nodes}. Build the graph of a slice, e.g. series[:{max_nodes}]."
        )
    ax = _axes(ax, figsize=(6.0, 3.0))
    t, y = graph.times, graph.series
    base = min(0.0, float(y.min()))
    bars = LineCollection([((ti, base), (ti, yi)) for ti, yi in zip(t, y, strict=True)], colors="0.3", linewidths=2)
    ax.add_collection(bars)
    i, j = graph.edges[:, 0], graph.edges[:, 1]
    if graph.kind == "horizontal":
        h = np.minimum(y[i], y[j])
        segs = [((t[a], hh), (t[b], hh)) for a, b, hh in zip(i, j, h, strict=True)]
    else:
        segs = [((t[a], y[a]), (t[b], y[b])) for a, b in zip(i, j, strict=True)]
    ax.add_collection(LineCollection(segs, colors="tab:blue", linewidths=0.8, alpha=0.7))
    ax.plot(t, y, "o", color="tab:red", ms=3)
    ax.autoscale_view()
    ax.set_xlabel("time")
    ax.set_ylabel("value")
    ax.set_title(f"{graph.kind} visibility graph: {graph.n_edges} edges", fontsize="medium")
    return ax


def plot_windowed_visibility(windowed: Any, *, ax: Any = None) -> Any:
    """Tail exponent (left axis) and irreversibility (right axis) along training.

    Parameters
    ----------
    windowed : WindowedVisibility
        From :func:`graphtraj.timeseries.windowed_visibility`.
    ax : matplotlib Axes, optional
        Where to draw; a new figure otherwise.

    Returns
    -------
    matplotlib.axes.Axes
        The left axis (lambda, with the i.i.d. level ln(3/2) dashed); the right axis is
        its twin.

    Raises
    ------
    ValidationError
        If ``windowed`` is not a WindowedVisibility.

    Examples
    --------
    >>> import numpy as np
    >>> from graphtraj.timeseries import windowed_visibility
    >>> w = windowed_visibility(np.random.default_rng(0).random(3000), 500)
    >>> ax = plot_windowed_visibility(w)
    >>> len(ax.lines[0].get_xdata()) == w.starts.size
    True
    """
    from graphtraj.timeseries.visibility_measures import IID_HVG_LAMBDA

    check_input(windowed, "plot_windowed_visibility")
    ax = _axes(ax, figsize=(6.0, 3.2))
    ax.plot(windowed.centers, windowed.tail_lambda, "-o", ms=3, color="tab:blue", label="λ")
    ax.axhline(IID_HVG_LAMBDA, ls="--", color="0.5", lw=1, label="ln(3/2)")
    ax.set_xlabel("time (window centre)")
    ax.set_ylabel("HVG tail λ", color="tab:blue")
    twin = ax.twinx()
    twin.plot(windowed.centers, windowed.irreversibility, "-s", ms=3, color="tab:red")
    twin.set_ylabel("irreversibility D (nats)", color="tab:red")
    ax.legend(fontsize="small", loc="upper left")
    return ax
