"""Tests of the synthetic temporal networks (graphtraj.datasets.networks)."""

import numpy as np
import pytest

from graphtraj.datasets import (
    independent_logistic_network,
    logistic_map,
    logistic_network,
    periodic_network,
    random_graph_series,
)
from graphtraj.exceptions import ValidationError


def test_logistic_network_weights_are_m_times_x():
    """Every link weight is m_ij x(t) with the logistic orbit x and fixed m_ij in [0.5, 1.5]."""
    g = logistic_network(50, x0=0.3, transient=100, seed=4)
    x = logistic_map(50, x0=0.3, transient=100)
    w = g.vectors()
    assert w.shape == (50, 15) and not g.directed and g.n_nodes == 6
    m = w / x[:, None]
    np.testing.assert_allclose(m, np.broadcast_to(m[0], m.shape), rtol=1e-12)
    assert np.all((m[0] >= 0.5) & (m[0] <= 1.5))
    dense = g.dense(3)[0]
    np.testing.assert_array_equal(dense, dense.T)


def test_perturbed_twin_shifts_driving_state():
    """perturb shifts x at the first snapshot; the couplings stay (same seed)."""
    a = logistic_network(30, seed=1)
    b = logistic_network(30, seed=1, perturb=1e-9)
    ratio = b.vectors()[0] / a.vectors()[0]
    np.testing.assert_allclose(ratio, ratio[0], rtol=1e-12)
    x_start = logistic_map(1)[0]  # the driving state after the default transient
    m = a.vectors()[0] / x_start
    np.testing.assert_allclose(b.vectors()[0] - a.vectors()[0], 1e-9 * m, rtol=1e-5)
    # separations grow: after 25 steps the twins are far apart
    assert np.abs(b.vectors()[25] - a.vectors()[25]).sum() > 1e3 * np.abs(
        b.vectors()[0] - a.vectors()[0]).sum()


def test_independent_links_each_follow_the_map():
    """Each link is its own logistic orbit: w_l(t+1) = 4 w_l(t) (1 - w_l(t))."""
    w = independent_logistic_network(40, seed=2).vectors()
    np.testing.assert_allclose(w[1:], 4 * w[:-1] * (1 - w[:-1]), rtol=1e-9, atol=1e-12)
    assert np.unique(np.round(w[0], 12)).size == 15


def test_periodic_network_repeats_with_noise_level():
    """Snapshots t and t + period differ only by the noise (≈ noise * sqrt(2) per link)."""
    g = periodic_network(100, period=5, noise=1e-6, seed=0)
    w = g.vectors()
    d = np.abs(w[5:] - w[:-5])
    assert d.max() < 1e-5 and d.max() > 0
    assert np.abs(w[1:] - w[:-1]).max() > 0.1
    twin = periodic_network(100, period=5, noise=1e-6, seed=0, noise_seed=9)
    assert 0 < np.abs(twin.vectors() - w).max() < 1e-5


def test_random_graphs_density_and_independence():
    """i.i.d. ER graphs: link frequency ≈ p and no correlation between successive snapshots."""
    g = random_graph_series(3000, p=0.3, seed=5)
    w = g.vectors()
    assert abs((w > 0).mean() - 0.3) < 0.02
    c = np.corrcoef(w[:-1].ravel(), w[1:].ravel())[0, 1]
    assert abs(c) < 0.03


def test_determinism_and_validation():
    """Same seed → same graphs; invalid parameters raise our errors."""
    np.testing.assert_array_equal(random_graph_series(5, seed=3).vectors(),
                                  random_graph_series(5, seed=3).vectors())
    with pytest.raises(ValidationError, match="`n` must be >= 1"):
        logistic_network(0)
    with pytest.raises(ValidationError, match="`n_nodes` must be >= 2"):
        periodic_network(5, n_nodes=1)
    with pytest.raises(ValidationError, match="`p` must be > 0"):
        random_graph_series(5, p=0.0)
    with pytest.raises(ValidationError, match="`perturb` must be >= 0"):
        independent_logistic_network(5, perturb=-1.0)
    with pytest.raises(ValidationError, match="`noise` must be >= 0"):
        periodic_network(5, noise=-1.0)
