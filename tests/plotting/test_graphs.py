"""Tests for graphtraj.plotting.graphs."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from graphtraj.exceptions import ValidationError  # noqa: E402
from graphtraj.measures import motif_stats, spectral_stats  # noqa: E402
from graphtraj.plotting import (  # noqa: E402
    plot_distance_matrices,
    plot_motif_stats,
    plot_spectral_stats,
)
from graphtraj.snapshots import GraphSeries  # noqa: E402


def test_distance_matrices_show_the_data(rng):
    """Each panel's image holds its matrix, titled with its key; sizes are checked."""
    a = rng.random((6, 6))
    a = a + a.T
    fig = plot_distance_matrices({"one": a, "two": 2 * a}, times=np.arange(6) * 10)
    images = [ax.images[0] for ax in fig.axes if ax.images]
    np.testing.assert_array_equal(images[1].get_array(), 2 * a)
    assert [ax.get_title() for ax in fig.axes if ax.images] == ["one", "two"]
    plt.close(fig)
    with pytest.raises(ValidationError, match="at least one"):
        plot_distance_matrices({})
    with pytest.raises(ValidationError, match="square arrays of one size"):
        plot_distance_matrices({"a": a, "b": a[:5, :5]})


@pytest.mark.filterwarnings("ignore::graphtraj.exceptions.UndefinedResultWarning")
def test_spectral_and_motif_figures_plot_the_series(rng):
    """Lines carry the statistics' values over time for layered and general series."""
    gs = GraphSeries.from_layers(np.arange(5), [rng.normal(size=(5, 4, 3)), rng.normal(size=(5, 3, 4))])
    st = spectral_stats(gs)
    fig = plot_spectral_stats(st)
    np.testing.assert_array_equal(fig.axes[0].lines[1].get_ydata(), st.spectral_norm[:, 1])
    plt.close(fig)
    ms = motif_stats(gs, rng=0)
    fig = plot_motif_stats(ms)
    np.testing.assert_array_equal(fig.axes[0].lines[0].get_ydata(), ms.path_fraction[:, 0, 0])
    np.testing.assert_array_equal(fig.axes[1].lines[1].get_ydata(), ms.balance_z[:, 1])
    plt.close(fig)
    tri = np.ones((3, 3, 3)) - np.eye(3)
    ms = motif_stats(GraphSeries.from_adjacency(np.arange(3), tri))
    fig = plot_motif_stats(ms)
    np.testing.assert_array_equal(fig.axes[0].lines[0].get_ydata(), ms.triangle_coherence)
    plt.close(fig)


def test_layer_labels_name_mlp_layers():
    """Generic layer names (layers.i) read as connections between named neuron layers:
    one hidden layer → input→hidden / hidden→output; deeper chains number the hidden
    layers; other names are kept."""
    from graphtraj.plotting.graphs import layer_label

    assert [layer_label(f"layers.{i}", i, 2) for i in range(2)] == ["input→hidden", "hidden→output"]
    assert [layer_label(f"layers.{i}", i, 3) for i in range(3)] == [
        "input→hidden 1", "hidden 1→hidden 2", "hidden 2→output"]
    assert layer_label("layers.0", 0, 1) == "input→output"
    assert layer_label("fc_out", 1, 2) == "fc_out"


def test_graph_panels_have_y_labels_and_readable_legends():
    """Every panel of the spectral and motif figures has a y-label, legends say
    input→hidden rather than layers.0, and distance matrices have labelled colour bars."""
    import warnings

    from graphtraj.measures import motif_stats, spectral_stats
    from graphtraj.plotting.graphs import (
        plot_distance_matrices,
        plot_motif_stats,
        plot_spectral_stats,
    )
    from graphtraj.snapshots import GraphSeries

    rng = np.random.default_rng(3)
    gs = GraphSeries.from_layers(np.arange(4), [rng.normal(size=(4, 3, 2)),
                                                rng.normal(size=(4, 2, 3))])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        figs = [plot_spectral_stats(spectral_stats(gs)), plot_motif_stats(motif_stats(gs))]
    for fig in figs:
        for ax in fig.axes:
            assert ax.get_ylabel()
            labels = [t.get_text() for t in ax.get_legend().get_texts()]
            assert not any(lab.startswith("layers.") for lab in labels)
    z_labels = [ln.get_label() for ln in figs[1].axes[1].lines if not ln.get_label().startswith("_")]
    assert z_labels == ["input→hidden", "hidden→output"]
    fig = plot_distance_matrices({"l1": np.zeros((3, 3))})
    assert fig.axes[1].get_ylabel() == "distance"


def test_distance_matrices_input_checks():
    """A bare list, a non-numeric or non-2-D entry and mismatched times raise with the
    remedy instead of an AttributeError from `.items()` or numpy."""
    d = np.zeros((3, 3))
    with pytest.raises(ValidationError, match=r"plot_distance_matrices expects `matrices` to be "
                       r"a mapping of label to matrix; got list\. Wrap it in a dict, e\.g\. "
                       r"\{'weights': D\}"):
        plot_distance_matrices([d])
    with pytest.raises(ValidationError, match=r"`matrices\['a'\]` must hold real numbers"):
        plot_distance_matrices({"a": [["x"]]})
    with pytest.raises(ValidationError, match=r"`matrices\['a'\]` must be 2-D"):
        plot_distance_matrices({"a": np.zeros(3)})
    with pytest.raises(ValidationError, match=r"`times` must have one entry per row of the "
                       r"matrices, shape \(3,\); got shape \(2,\)"):
        plot_distance_matrices({"a": d}, times=[0, 1])
    plt.close("all")


def test_graph_statistics_plots_reject_a_graph_series():
    """The series itself is not a statistic: the message says which function computes one."""
    gs = GraphSeries.from_layers(np.arange(2), [np.ones((2, 3, 2))])
    with pytest.raises(ValidationError, match=r"plot_spectral_stats expects `stats` to be a "
                       r"SpectralStats \(from spectral_stats\); got GraphSeries\. Pass the result of spectral_stats\. A GraphSeries "
                       r"is drawn through its statistics"):
        plot_spectral_stats(gs)
    with pytest.raises(ValidationError, match=r"plot_motif_stats expects `stats` to be a "
                       r"MotifStats \(from motif_stats\); got SpectralStats\. Pass the result "
                       r"of motif_stats \(SpectralStats is drawn by plot_spectral_stats\)"):
        plot_motif_stats(spectral_stats(gs))
