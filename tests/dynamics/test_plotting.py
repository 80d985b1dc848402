"""Tests of graphtraj.plotting.dynamics (figures of the dynamics results)."""

import numpy as np
import pytest
import torch

from graphtraj.dynamics import (
    DifferentiableMap,
    lyapunov_spectrum,
    sharpness_track,
    spectral_density,
    training_map,
)
from graphtraj.exceptions import ValidationError


@pytest.fixture(autouse=True)
def _agg():
    import matplotlib

    matplotlib.use("Agg")
    yield
    import matplotlib.pyplot as plt

    plt.close("all")


def test_spectrum_and_running_plots_draw_the_numbers():
    """The plotted points are the exponents (mean over replicas) and running estimates."""
    from graphtraj.plotting import plot_lyapunov_spectrum, plot_running_exponents

    m = DifferentiableMap(lambda x: x * torch.tensor([0.5, 2.0], dtype=torch.float64), 2)
    res = lyapunov_spectrum(m, np.ones((2, 2)), 20, k="all", transient=2, window=6, rng=0)
    ax = plot_lyapunov_spectrum(res, reference=0.3)
    np.testing.assert_allclose(ax.lines[0].get_ydata(), res.exponents.mean(axis=0))
    assert any(np.allclose(line.get_ydata(), 0.3) for line in ax.lines)
    ax = plot_lyapunov_spectrum(res, replica=1)
    np.testing.assert_allclose(ax.lines[0].get_ydata(), res.exponents[1])
    ax = plot_running_exponents(res, n_exponents=2, reference=(0.1, 2, 10))
    np.testing.assert_allclose(ax.lines[0].get_ydata(), res.running[0, :, 0])
    with pytest.raises(ValidationError, match="LyapunovSpectrum"):
        plot_lyapunov_spectrum(3)
    with pytest.raises(ValidationError, match="replica"):
        plot_running_exponents(res, replica=5)


def test_sharpness_and_density_plots():
    """Sharpness plot shows the threshold; density plot uses a log axis by default."""
    from graphtraj.plotting import plot_sharpness, plot_spectral_density

    X = np.array([[1.0, 0.0], [0.0, 3.0]])
    tm = training_map(torch.nn.Linear(2, 1, bias=False), X, np.ones(2),
                      loss=lambda o, t: 0.5 * ((o[:, 0] - t) ** 2).mean(), lr=0.5)
    tr = sharpness_track(tm, tm.initial_state(), 4, rng=0)
    ax = plot_sharpness(tr, show_loss=False)
    assert any(np.allclose(line.get_ydata(), 4.0) for line in ax.lines)
    np.testing.assert_allclose(ax.lines[0].get_ydata(), tr.sharpness)
    ax = plot_spectral_density(spectral_density(np.diag([1.0, 2.0, 9.0]), n_steps=3, rng=0))
    assert ax.get_yscale() == "log"
    with pytest.raises(ValidationError, match="SharpnessTrack"):
        plot_sharpness(tr.edge)
    with pytest.raises(ValidationError, match="SpectralDensity"):
        plot_spectral_density(tr)
