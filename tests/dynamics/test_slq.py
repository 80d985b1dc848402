"""Tests of graphtraj.dynamics.slq (Lanczos quadrature, spectral density)."""

import numpy as np
import pytest

from graphtraj.dynamics import lanczos_quadrature, spectral_density
from graphtraj.exceptions import UnknownOptionError, ValidationError


def test_quadrature_moments_exact_on_random_matrix(rng):
    """Moments j <= 2m - 1 of the quadrature equal vᵀA^j v / vᵀv (random symmetric A)."""
    B = rng.standard_normal((40, 40))
    A = (B + B.T) / 10
    v = rng.standard_normal(40)
    q = lanczos_quadrature(A, v, 6)
    assert q.n_steps == 6 and q.alpha.shape == (6,) and q.beta.shape == (5,)
    for j in range(12):
        ref = v @ np.linalg.matrix_power(A, j) @ v / (v @ v)
        assert q.moment(j) == pytest.approx(ref, rel=1e-9, abs=1e-12)
    assert np.all(np.diff(q.nodes) > 0)
    lam = np.linalg.eigvalsh(A)
    assert lam[0] - 1e-12 <= q.nodes.min() and q.nodes.max() <= lam[-1] + 1e-12


def test_invariant_subspace_stops_early():
    """A probe in a 3-dimensional invariant subspace gives an exact 3-node rule."""
    A = np.diag([1.0, 1.0, 2.0, 2.0, 5.0, 7.0])
    v = np.array([1.0, 1.0, 0.0, 1.0, 0.0, 1.0])
    q = lanczos_quadrature(A, v, 6)
    assert q.n_steps == 3
    np.testing.assert_allclose(q.nodes, [1.0, 2.0, 7.0], rtol=0, atol=1e-12)
    np.testing.assert_allclose(q.weights, [0.5, 0.25, 0.25], rtol=0, atol=1e-12)
    one = lanczos_quadrature(np.eye(3), np.ones(3), 3)
    assert one.n_steps == 1 and one.weights.tolist() == [1.0]
    assert one.nodes[0] == pytest.approx(1.0, abs=1e-15)


def test_density_integrates_to_one_and_finds_outlier(rng):
    """The smoothed density integrates to ~1; an isolated eigenvalue shows as a bump."""
    lam = np.concatenate([rng.uniform(0, 1, 200), [50.0]])
    sd = spectral_density(np.diag(lam), n_probes=6, n_steps=25, rng=0, probe="gaussian")
    assert np.trapezoid(sd.density, sd.grid) == pytest.approx(1.0, abs=1e-3)
    assert sd.nodes.max() == pytest.approx(50.0, abs=1e-8)
    np.testing.assert_allclose(sd.weights.sum(axis=1), 1.0, rtol=0, atol=1e-12)
    near = sd.density[np.abs(sd.grid - 50) < 3 * sd.sigma].max()
    assert near > 0 and sd.density[np.abs(sd.grid - 25).argmin()] < 1e-6
    same = spectral_density(np.diag(lam), n_probes=6, n_steps=25, rng=0, probe="gaussian")
    assert np.array_equal(sd.density, same.density)
    custom = spectral_density(np.diag(lam), n_probes=2, n_steps=5, rng=1, grid=[0.5, 50.0], sigma=0.5)
    assert custom.grid.tolist() == [0.5, 50.0] and custom.sigma == 0.5


def test_moments_estimate_traces(rng):
    """Rademacher probes on a diagonal operator reproduce tr(A^j)/P exactly (v_i² = 1)."""
    a = rng.uniform(-1, 3, 50)
    sd = spectral_density(np.diag(a), n_probes=3, n_steps=10, rng=2)
    for j in (1, 2, 3):
        assert sd.moment(j) == pytest.approx(np.mean(a**j), rel=1e-10)
    assert sd.trace() == pytest.approx(a.sum(), rel=1e-10)


def test_validation():
    """Zero probes, shape mismatches and bad options raise."""
    with pytest.raises(ValidationError, match="nonzero"):
        lanczos_quadrature(np.eye(3), np.zeros(3))
    with pytest.raises(ValidationError, match=r"shape \(3,\)"):
        lanczos_quadrature(np.eye(3), np.ones(4))
    with pytest.raises(ValidationError, match="n_steps"):
        lanczos_quadrature(np.eye(3), np.ones(3), 4)
    with pytest.raises(ValidationError, match="square"):
        spectral_density(np.ones((2, 3)))
    with pytest.raises(UnknownOptionError, match="probe"):
        spectral_density(np.eye(3), n_steps=2, probe="uniform")
    with pytest.raises(ValidationError, match="sigma"):
        spectral_density(np.eye(3), n_steps=2, sigma=0.0)
    with pytest.raises(ValidationError, match="operator"):
        spectral_density("H")
