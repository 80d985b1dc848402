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
