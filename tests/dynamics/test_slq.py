"""Tests of graphtraj.dynamics.slq (Lanczos quadrature, spectral density)."""

import numpy as np
import pytest

from graphtraj.dynamics import lanczos_quadrature, spectral_density
from graphtraj.exceptions import NonFiniteInputError, UnknownOptionError, ValidationError


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


def test_huge_operator_scaled_exactly():
    """diag(1..100) * 1e200 has trace 5050e200 and nodes in [1e200, 1e202]: the
    power-of-two scaling avoids the overflow that used to reach scipy's
    eigh_tridiagonal as 'array must not contain infs or NaNs'."""
    sd = spectral_density(np.diag(np.arange(1.0, 101.0)) * 1e200, n_probes=2, n_steps=20, rng=0)
    assert sd.trace() == pytest.approx(5050e200, rel=1e-10)
    assert 1e200 * (1 - 1e-9) <= sd.nodes.min() and sd.nodes.max() <= 1e202 * (1 + 1e-9)
    assert np.trapezoid(sd.density, sd.grid) == pytest.approx(1.0, abs=1e-3)
    q = lanczos_quadrature(np.diag([1.0, 2.0, 3.0]) * 1e-250, np.ones(3), 3)
    np.testing.assert_allclose(q.nodes, [1e-250, 2e-250, 3e-250], rtol=1e-12)


def test_non_finite_operator_raises_clear_error():
    """A NaN product raises NonFiniteInputError (not scipy's raw ValueError)."""
    from scipy.sparse.linalg import aslinearoperator

    with pytest.raises(NonFiniteInputError, match="finite products"):
        lanczos_quadrature(aslinearoperator(np.diag([1.0, np.nan, 2.0])), np.ones(3), 3)
    with pytest.raises(NonFiniteInputError, match="finite products"):
        spectral_density(aslinearoperator(np.diag([1.0, np.inf, 2.0])), n_steps=3)


def test_n_steps_bounded_by_dimension_and_memory():
    """n_steps > P raises a clear error naming P; a basis too large for memory raises
    ValidationError (it used to be a raw MemoryError); without re-orthogonalization
    memory is O(P) and the 3 nodes of diag(1, 2, 3) are still exact."""
    from scipy.sparse.linalg import LinearOperator

    with pytest.raises(ValidationError, match=r"`n_steps` must be <= P = 10"):
        spectral_density(np.eye(10), n_steps=100100)
    P = 2**22  # a (P, P) float64 basis needs 128 TiB
    huge = LinearOperator((P, P), matvec=lambda v: v, dtype=np.float64)
    with pytest.raises(ValidationError, match="fit in memory"):
        lanczos_quadrature(huge, np.ones(P), P)
    q = lanczos_quadrature(np.diag([1.0, 2.0, 3.0]), np.ones(3), 3, reorthogonalize=False)
    np.testing.assert_allclose(q.nodes, [1.0, 2.0, 3.0], atol=1e-12)


def test_many_probes_density_matches_naive_sum(rng):
    """The blocked kernel sum equals the naive (G, n_probes, m) formula, Eq. 4-6 of
    Ghorbani et al.; many probes on a tiny operator no longer need O(G n_probes m)."""
    import graphtraj.dynamics.slq as slq

    A = np.diag(rng.uniform(0, 5, 10))
    sd = spectral_density(A, n_probes=50, n_steps=6, rng=1, n_grid=64)
    z = (sd.grid[:, None, None] - sd.nodes[None]) / sd.sigma
    naive = (np.exp(-0.5 * z * z) * sd.weights[None]).sum(axis=2).mean(axis=1)
    naive /= sd.sigma * np.sqrt(2 * np.pi)
    np.testing.assert_allclose(sd.density, naive, rtol=1e-12, atol=1e-15)
    old, slq._CHUNK = slq._CHUNK, 100  # force many blocks
    try:
        small = spectral_density(A, n_probes=50, n_steps=6, rng=1, n_grid=64)
    finally:
        slq._CHUNK = old
    np.testing.assert_allclose(small.density, sd.density, rtol=1e-12, atol=1e-15)
