"""Tests for graphtraj.plotting.visibility (figures of visibility graphs)."""

import math

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from graphtraj.exceptions import ValidationError  # noqa: E402
from graphtraj.plotting import (  # noqa: E402
    plot_degree_distribution,
    plot_visibility_graph,
    plot_windowed_visibility,
)
from graphtraj.timeseries import (  # noqa: E402
    degree_tail_fit,
    visibility_graph,
    windowed_visibility,
)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def test_degree_distribution_plot_draws_data_fit_and_reference(rng):
    """Log-linear axes; the lines are exactly the empirical P(k), the fitted law and (1/3)(2/3)^(k-2)."""
    g = visibility_graph(rng.random(3000), "horizontal")
    fit = degree_tail_fit(g, k_min=3)
    ax = plot_degree_distribution(fit, label="noise")
    assert ax.get_yscale() == "log" and ax.get_xscale() == "linear"
    data, fitted, ref = ax.lines
    keep = fit.pk > 0
    assert np.array_equal(data.get_xdata(), fit.k[keep]) and np.array_equal(data.get_ydata(), fit.pk[keep])
    assert np.array_equal(fitted.get_ydata(), fit.fit_pk)
    kr = np.asarray(ref.get_xdata())
    assert np.allclose(ref.get_ydata(), (1 / 3) * (2 / 3) ** (kr - 2))
    assert f"{fit.lam:.3f}" in fitted.get_label()
    assert data.get_label() == "noise"


def test_degree_distribution_plot_out_degree_reference(rng):
    """For out-degrees the reference is (1/2)^k; a graph is fitted when given directly."""
    g = visibility_graph(rng.random(2000), "horizontal", directed=True)
    ax = plot_degree_distribution(degree_tail_fit(g, k_min=1, direction="out"))
    ref = ax.lines[-1]
    assert np.allclose(ref.get_ydata(), 0.5 ** np.asarray(ref.get_xdata()))
    assert len(plot_degree_distribution(g, reference=False).lines) == 2


def test_degree_distribution_plot_without_tail():
    """An undefined fit (a ramp has no tail) draws the data and the reference only, no error."""
    ax = plot_degree_distribution(visibility_graph(np.arange(30.0), "horizontal"))
    assert len(ax.lines) == 2
    with pytest.raises(ValidationError, match="plot_degree_distribution expects `fit_or_graph` to be a DegreeTailFit or a VisibilityGraph"):
        plot_degree_distribution(np.ones(3))


@pytest.mark.parametrize("kind", ["natural", "horizontal"])
def test_graph_drawing_has_one_segment_per_edge(kind):
    """The drawing holds one bar per sample and one segment per edge, at the documented heights."""
    y = np.array([5, 2, 4, 1, 5, 6, 4, 7, 2, 5], dtype=float)
    g = visibility_graph(y, kind)
    ax = plot_visibility_graph(g)
    bars, edges = ax.collections
    assert len(bars.get_segments()) == 10
    segs = edges.get_segments()
    assert len(segs) == g.n_edges
    i, j = g.edges[0]
    want_y = (min(y[i], y[j]),) * 2 if kind == "horizontal" else (y[i], y[j])
    assert np.allclose(segs[0][:, 1], want_y) and np.allclose(segs[0][:, 0], [i, j])


def test_graph_drawing_refuses_long_series(rng):
    """Long series are refused with a remedy; non-graphs too."""
    with pytest.raises(ValidationError, match="at most max_nodes = 200 nodes"):
        plot_visibility_graph(visibility_graph(rng.random(300)))
    with pytest.raises(ValidationError, match="plot_visibility_graph expects `graph` to be a VisibilityGraph"):
        plot_visibility_graph([1, 2, 3])


def test_windowed_plot(rng):
    """Lambda on the left axis, irreversibility on the twin, both at the window centres."""
    w = windowed_visibility(rng.random(4000), 800, step=400)
    ax = plot_windowed_visibility(w)
    assert np.array_equal(ax.lines[0].get_xdata(), w.centers)
    assert np.array_equal(ax.lines[0].get_ydata(), w.tail_lambda)
    assert ax.lines[1].get_ydata()[0] == pytest.approx(math.log(1.5))
    twin = [a for a in ax.figure.axes if a is not ax][0]
    assert np.array_equal(twin.lines[0].get_ydata(), w.irreversibility)
    with pytest.raises(ValidationError, match="plot_windowed_visibility expects `windowed` to be a WindowedVisibility"):
        plot_windowed_visibility(None)


def test_degree_distribution_y_axis_spans_data_and_legend_lists_visible_lines():
    """The y-axis is the data's range with a margin, not stretched by a steep fitted law,
    and the legend lists only lines with a part inside it. A tail of one degree-40 node
    among degree-4 nodes makes the fitted law fall far below the data."""
    from graphtraj.plotting.visibility import Y_MARGIN

    deg = np.r_[np.full(500, 4), np.full(500, 2), 40]
    fit = degree_tail_fit(deg, k_min=4)
    ax = plot_degree_distribution(fit)
    p = fit.pk[fit.pk > 0]
    lo, hi = ax.get_ylim()
    assert lo == pytest.approx(p.min() / Y_MARGIN) and hi == pytest.approx(min(p.max() * Y_MARGIN, 2))
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    for line in ax.lines:
        y = np.asarray(line.get_ydata())
        assert (line.get_label() in labels) == bool(np.any((y >= lo) & (y <= hi)))


def test_degree_distribution_single_point_reference_is_drawn():
    """A monotone series (all degrees 2, the η = 0.01 loss) gives one data point; the
    i.i.d. reference at k = 2 is one point, drawn with a marker and listed in the legend."""
    from graphtraj.exceptions import UndefinedResultWarning

    with pytest.warns(UndefinedResultWarning, match="no node has a degree"):
        fit = degree_tail_fit(np.full(50, 2), k_min=4)
    ax = plot_degree_distribution(fit)
    ref = ax.lines[-1]
    assert list(ref.get_xdata()) == [2] and ref.get_marker() == "x"
    assert ref.get_label() in [t.get_text() for t in ax.get_legend().get_texts()]
