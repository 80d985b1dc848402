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
    assert "[7×7 blocks: black if any cell recurs]" in ax.get_title()
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


def test_windowed_rqa_default_measures_are_those_in_the_result(rng):
    """The default draws DET and LAM where the result holds them, else every measure it
    holds; a str is one measure name, not a sequence of letters."""
    z = rng.normal(size=120)
    only_rr = windowed_rqa(z, 0.5, width=20, measures=["RR"])
    assert [line.get_label() for line in plot_windowed_rqa(only_rr).lines] == ["RR"]
    det_rr = windowed_rqa(z, 0.5, width=20, measures=["RR", "DET"])
    assert [line.get_label() for line in plot_windowed_rqa(det_rr).lines] == ["DET"]
    ax = plot_windowed_rqa(det_rr, measures="DET")
    assert [line.get_label() for line in ax.lines] == ["DET"]
    np.testing.assert_array_equal(ax.lines[0].get_ydata(), det_rr["DET"])
    plt.close("all")


def test_windowed_rqa_measures_are_checked_before_drawing(rng):
    """Empty, non-string, uncomputed and unknown measures raise with the remedy."""
    res = windowed_rqa(rng.normal(size=120), 0.5, width=20, measures=["RR", "DET"])
    with pytest.raises(ValidationError, match="at least one measure; got an empty sequence"):
        plot_windowed_rqa(res, [])
    with pytest.raises(ValidationError, match=r"must hold measure names \(str\); got 3"):
        plot_windowed_rqa(res, ["DET", 3])
    with pytest.raises(ValidationError, match="must be a measure name or a sequence of names; got int"):
        plot_windowed_rqa(res, 3)
    with pytest.raises(UnknownOptionError, match=r"among RR, DET; got 'LAM': windowed_rqa "
                       r"computed only these; recompute with 'LAM'"):
        plot_windowed_rqa(res, ["DET", "LAM"])
    with pytest.raises(UnknownOptionError, match="'D' is not an RQA measure"):
        plot_windowed_rqa(res, "D")
    with pytest.raises(ValidationError, match="plot_windowed_rqa expects `result` to be a WindowedRQAResult"):
        plot_windowed_rqa(rqa(rng.normal(size=50), 0.5))
    plt.close("all")


@pytest.mark.parametrize("bad", [0, -5, 2.5, True])
def test_max_pixels_must_be_a_positive_integer(bad):
    """max_pixels is validated like other sizes, not silently treated as 1."""
    with pytest.raises(ValidationError, match="`max_pixels` must be"):
        plot_recurrence(np.eye(4, dtype=bool), max_pixels=bad)


def test_recurrence_plot_input_checks(rng):
    """A series is not a matrix (the remedy says how to build one); a foreign result is
    named; times must be finite."""
    from graphtraj.exceptions import NonFiniteInputError

    with pytest.raises(ValidationError, match=r"`rmat` must be a RecurrenceMatrix or a 2-D "
                       r"boolean \(0/1\) array; got an unusable array .*recurrence_matrix\(x, eps\)"):
        plot_recurrence(rng.normal(size=10))
    with pytest.raises(ValidationError, match=r"plot_recurrence expects `rmat` to be a "
                       r"RecurrenceMatrix or an array .*got RQAResult"):
        plot_recurrence(rqa(rng.normal(size=50), 0.5))
    with pytest.raises(NonFiniteInputError, match="`times` must contain only finite values"):
        plot_recurrence(np.eye(3, dtype=bool), times=[0.0, np.nan, 2.0])
