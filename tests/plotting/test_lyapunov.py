"""Tests of the Lyapunov and embedding-parameter figures (graphtraj.plotting.lyapunov)."""

import warnings

import numpy as np
import pytest

from graphtraj.datasets import logistic_map
from graphtraj.plotting import (
    plot_dimension_selection,
    plot_lag_selection,
    plot_lyapunov,
    plot_scaling,
)
from graphtraj.timeseries import (
    correlation_dimension,
    false_nearest_neighbors,
    lag_by_mutual_information,
    lyapunov_rosenstein,
)


@pytest.fixture
def plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    yield plt
    plt.close("all")


def test_plot_lyapunov_draws_curve_fit_and_level(plt):
    """The curve, the fitted line (through the fit region) and the level are drawn."""
    res = lyapunov_rosenstein(logistic_map(1000), theiler=1)
    ax = plot_lyapunov(res)
    curve, fit = ax.lines[0], ax.lines[1]
    np.testing.assert_allclose(curve.get_ydata(), res.curve)
    tf = res.times[res.fit_start:res.fit_stop]
    np.testing.assert_allclose(fit.get_ydata(), res.exponent * tf + res.intercept)
    assert any(np.allclose(line.get_ydata(), res.saturation) for line in ax.lines[2:])


def test_plot_lyapunov_without_scaling_region(plt):
    """No fitted line when there is no scaling region; the title says so."""
    x = np.random.default_rng(0).normal(size=600)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = lyapunov_rosenstein(x, emb_dim=3, theiler=1)
    fig, ax = plt.subplots()
    assert plot_lyapunov(res, ax=ax) is ax
    assert "no scaling region" in ax.get_title()
    assert not any("slope" in str(line.get_label()) for line in ax.lines)


def test_other_plots_return_axes(plt):
    """Lag, dimension and scaling figures plot their result's arrays."""
    x = logistic_map(1500)
    lag = lag_by_mutual_information(x, max_lag=20)
    ax = plot_lag_selection(lag)
    np.testing.assert_allclose(ax.lines[0].get_ydata(), lag.values)
    fnn = false_nearest_neighbors(x, max_dim=3)
    ax = plot_dimension_selection(fnn)
    np.testing.assert_allclose(ax.lines[0].get_ydata(), fnn.values)
    d2 = correlation_dimension(x, emb_dim=1)
    ax = plot_scaling(d2)
    np.testing.assert_allclose(ax.lines[0].get_ydata(), d2.log_y)
    assert ax.get_ylabel() == "ln C(r)"


def test_lyapunov_plots_reject_other_results(plt):
    """Another result raises a ValidationError naming the expected type and the function
    that draws the one given, not an AttributeError."""
    from graphtraj.exceptions import ValidationError
    from graphtraj.timeseries import rqa

    x = logistic_map(300)
    with pytest.raises(ValidationError, match=r"plot_lyapunov expects `result` to be a "
                       r"LyapunovResult \(from lyapunov_rosenstein, lyapunov_kantz or "
                       r"network_mle\); got RQAResult"):
        plot_lyapunov(rqa(x, 0.1))
    res = lyapunov_rosenstein(x, theiler=1)
    with pytest.raises(ValidationError, match=r"plot_scaling expects `result` to be a "
                       r"ScalingResult .*\(LyapunovResult is drawn by plot_lyapunov\)"):
        plot_scaling(res)
    with pytest.raises(ValidationError, match="plot_lag_selection expects `result` to be a LagResult"):
        plot_lag_selection(res)
    with pytest.raises(ValidationError, match="plot_dimension_selection expects `result` to be a DimensionResult"):
        plot_dimension_selection(res)
