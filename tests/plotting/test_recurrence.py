"""Tests for graphtraj.plotting.recurrence."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from graphtraj.exceptions import UnknownOptionError, ValidationError  # noqa: E402
from graphtraj.plotting import plot_recurrence, plot_rqa_histograms, plot_windowed_rqa  # noqa: E402
from graphtraj.timeseries import (  # noqa: E402
    GlobalRecurrenceRate,
    cross_recurrence_matrix,
    recurrence_matrix,
    rqa,
    windowed_rqa,
)


def test_recurrence_plot_shows_the_matrix_with_its_spec(rng):
    """The image is the matrix (rows bottom to top) and the title names spec and ε."""
    x = np.cumsum(rng.normal(size=60))
    rm = recurrence_matrix(x, GlobalRecurrenceRate(0.1))
    ax = plot_recurrence(rm, times=np.arange(60) * 10)
    img = ax.images[0].get_array()
    assert np.array_equal(np.asarray(img, bool), rm.toarray())
    assert "RR = 0.1" in ax.get_title() and "Theiler 1" in ax.get_title()
    assert ax.get_xlabel() == "training step" and ax.images[0].origin == "lower"
    plt.close(ax.figure)


def test_large_matrices_are_block_reduced(rng):
    """Above max_pixels the image is an OR over blocks and the title says so."""
    mask = rng.random((50, 70)) < 0.02
    ax = plot_recurrence(mask, max_pixels=10)
    img = np.asarray(ax.images[0].get_array(), bool)
    assert img.shape == (8, 10)  # ceil(50 / 7), ceil(70 / 7)
    assert img[0, 0] == mask[:7, :7].any()
    assert "[7×7 blocks]" in ax.get_title()
    plt.close(ax.figure)


def test_cross_plot_labels_and_time_checks(rng):
    """Cross plots label the two axes; times must match a square matrix."""
    cr = cross_recurrence_matrix(rng.normal(size=5), rng.normal(size=8), 0.5)
    ax = plot_recurrence(cr)
    assert ax.get_xlabel() == "index (y)"
    with pytest.raises(ValidationError, match="`times` must have shape"):
        plot_recurrence(cr, times=np.arange(5))
    plt.close("all")


def test_windowed_and_histogram_plots(rng):
    """Windowed measures become one line per measure; histograms use log counts."""
    x = np.cumsum(rng.normal(size=(200, 2)), axis=0)
    res = windowed_rqa(x, GlobalRecurrenceRate(0.1), width=50, measures=["DET", "LAM"])
    ax = plot_windowed_rqa(res, ["DET", "LAM"], label="w")
    assert [line.get_label() for line in ax.lines] == ["w: DET", "w: LAM"]
    assert np.array_equal(ax.lines[0].get_ydata(), res["DET"])
    with pytest.raises(UnknownOptionError, match="`measures` must be among"):
        plot_windowed_rqa(res, ["TT"])
    ax2 = plot_rqa_histograms(rqa(x, GlobalRecurrenceRate(0.1)))
    assert ax2.get_yscale() == "log" and len(ax2.lines) >= 2
    plt.close("all")
