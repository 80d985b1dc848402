"""Tests of graphtraj.dynamics.qr_spectrum (Benettin/QR Lyapunov spectra)."""

import math

import numpy as np
import pytest
import torch

from graphtraj.dynamics import DifferentiableMap, lyapunov_spectrum, training_map
from graphtraj.exceptions import (
    ConvergenceError,
    UndefinedResultWarning,
    UnreliableResultWarning,
    ValidationError,
)

EIGS = np.array([0.5, 1.0, 2.0, 3.0, 5.0])


def _spd(rng, eigs=EIGS):
    Q, _ = np.linalg.qr(rng.standard_normal((eigs.size, eigs.size)))
    return Q @ np.diag(eigs) @ Q.T


def _quadratic_map(A, lr):
    At = torch.as_tensor(A)  # symmetric
    return DifferentiableMap(lambda w: w - lr * (w @ At), A.shape[0], vectorized=True)


def _half_mse(out, t):
    return 0.5 * ((out[:, 0] - t) ** 2).mean()


@pytest.mark.parametrize("lr", [0.3, 0.45])
def test_quadratic_gd_exponents_exact(rng, lr):
    """GD on ½wᵀAw has exponents ln|1 - η a_i| (η = 0.45 includes 1 - η a = -1.25, unstable)."""
    A = _spd(rng)
    ref = np.sort(np.log(np.abs(1 - lr * EIGS)))[::-1]
    res = lyapunov_spectrum(_quadratic_map(A, lr), rng.standard_normal((2, 5)), 150, k="all",
                            transient=100, rng=1)
    np.testing.assert_allclose(res.exponents, np.tile(ref, (2, 1)), rtol=0, atol=1e-10)
    # the same loss through a training map: linear model, XᵀX/n = A, zero targets
    X = np.linalg.cholesky(A).T * math.sqrt(5)
    tm = training_map(torch.nn.Linear(5, 1, bias=False), X, np.zeros(5), loss=_half_mse, lr=lr)
    res2 = lyapunov_spectrum(tm, rng.standard_normal(5), 130, k=3, transient=100, rng=2)
    np.testing.assert_allclose(res2.exponents[0], ref[:3], rtol=0, atol=1e-10)


def test_henon_through_generic_entry():
    """Hénon: λ1 = 0.4192 ± 0.002 (mean over 300 orbits) and λ1 + λ2 = ln 0.3 to 1e-8."""
    from graphtraj.datasets import henon_map

    x0 = henon_map(300, transient=1000)  # points on the attractor
    m = DifferentiableMap(lambda x: torch.stack([1 - 1.4 * x[..., 0] ** 2 + x[..., 1], 0.3 * x[..., 0]], -1),
                          2, vectorized=True)
    res = lyapunov_spectrum(m, x0, 1200, k="all", transient=50, rng=0)
    assert abs(res.mean[0] - 0.4192) < 0.002
    np.testing.assert_allclose(res.exponents.sum(axis=1), math.log(0.3), rtol=0, atol=1e-8)
    assert np.all(res.diverged_at == -1)


def test_result_bookkeeping_is_consistent(rng):
    """Running estimates, local rates, windows and sub-ranges all agree with each other."""
    A = _spd(rng)
    res = lyapunov_spectrum(_quadratic_map(A, 0.3), rng.standard_normal(5), 60, k=2, qr_every=2,
                            transient=10, window=10, rng=3)
    assert res.qr_steps.tolist() == list(range(12, 61, 2))
    lengths = np.full(25, 2)
    total = (res.local_rates * lengths[None, :, None]).sum(axis=1) / 50
    np.testing.assert_allclose(res.exponents, total, rtol=0, atol=1e-14)
    np.testing.assert_allclose(res.running[:, -1], res.exponents, rtol=0, atol=0)
    np.testing.assert_allclose(res.finite_time.mean(axis=1), res.exponents, rtol=0, atol=1e-14)
    assert res.window_starts.tolist() == [10, 20, 30, 40, 50]
    np.testing.assert_allclose(res.finite_time_exponents(20, 30), res.finite_time[:, 1], rtol=0, atol=1e-14)
    np.testing.assert_allclose(res.finite_time_exponents(0, 100), res.exponents, rtol=0, atol=1e-14)
    expected_se = res.finite_time.std(axis=1, ddof=1) / math.sqrt(5)
    np.testing.assert_allclose(res.stderr, expected_se, rtol=0, atol=1e-15)
    assert res.k == 2 and res.n_replicas == 1 and res.max_exponent.shape == (1,)
    assert res.as_dict()["params"]["qr_every"] == 2
    with pytest.raises(ValidationError, match="enclose"):
        res.finite_time_exponents(21, 22)


def test_qr_every_agrees_and_conditioning_check(rng):
    """QR every 5 steps gives the every-step spectrum; an ill-conditioned one warns."""
    A = _spd(rng)
    m = _quadratic_map(A, 0.3)
    x0 = rng.standard_normal(5)
    a = lyapunov_spectrum(m, x0, 400, k="all", transient=200, rng=4)
    b = lyapunov_spectrum(m, x0, 400, k="all", transient=200, qr_every=5, rng=4)
    np.testing.assert_allclose(a.exponents, b.exponents, rtol=0, atol=1e-10)
    assert 1.0 < b.max_condition[0] < 1e8
    with pytest.warns(UnreliableResultWarning, match="ill-conditioned"):
        lyapunov_spectrum(m, x0, 40, k="all", qr_every=20, max_condition=1e3, rng=4)


def test_batched_equals_separate_runs_and_seed_reproducible(rng):
    """R initial conditions at once equal R separate runs; the same seed repeats exactly."""
    A = _spd(rng)
    m = _quadratic_map(A, 0.3)
    x0 = rng.standard_normal((3, 5))
    q0 = np.linalg.qr(rng.standard_normal((5, 2)))[0]
    together = lyapunov_spectrum(m, x0, 30, k=2, tangent0=q0)
    for r in range(3):
        alone = lyapunov_spectrum(m, x0[r], 30, k=2, tangent0=q0)
        np.testing.assert_allclose(together.running[r], alone.running[0], rtol=0, atol=1e-14)
    a = lyapunov_spectrum(m, x0, 30, k=2, rng=7)
    b = lyapunov_spectrum(m, x0, 30, k=2, rng=7)
    assert np.array_equal(a.running, b.running)


def test_along_recorded_states_equals_fresh_run(rng):
    """Linearizing along recorded GD states equals the fresh run; replay error is tiny."""
    from graphtraj.datasets import quadratic_gd

    A = _spd(rng)
    states = quadratic_gd(A, rng.standard_normal(5), 0.3, 40)
    m = _quadratic_map(A, 0.3)
    fresh = lyapunov_spectrum(m, states[0], 40, k=2, rng=5)
    along = lyapunov_spectrum(m, along=states, k=2, rng=5)
    np.testing.assert_allclose(along.running, fresh.running, rtol=0, atol=1e-14)
    assert along.replay_error[0] < 1e-12 and fresh.replay_error is None
    with pytest.warns(UnreliableResultWarning, match="does not reproduce"):
        lyapunov_spectrum(_quadratic_map(A, 0.31), along=states, rng=5)


def test_collapsed_direction_is_minus_inf_not_nan(rng):
    """C21 in the tangent space: 1 - η a = 0 gives |R_jj| = 0, a masked -inf exponent."""
    m = DifferentiableMap(lambda w: w - 0.5 * torch.tensor([1.0, 2.0], dtype=torch.float64) * w, 2)
    with pytest.warns(UndefinedResultWarning, match="-inf"):
        res = lyapunov_spectrum(m, [1.0, 1.0], 21, k="all", transient=1, rng=0, window=5)
    assert res.exponents[0, 0] == pytest.approx(math.log(0.5), abs=1e-12)
    assert res.exponents[0, 1] == -np.inf
    assert not np.isnan(res.exponents).any() and not np.isnan(res.drift).any()
    with pytest.raises(ValidationError, match="linearly independent"):
        lyapunov_spectrum(m, [1.0, 1.0], 5, k="all", tangent0=np.array([[1.0, 0.0], [0.0, 0.0]]))


def test_diverged_replica_is_nan_and_flagged():
    """A replica whose state overflows is frozen, flagged and gets NaN exponents."""
    m = DifferentiableMap(lambda x: 4.0 * x * (1.0 - x), 1)  # logistic map, r = 4
    with pytest.warns(UndefinedResultWarning, match="diverged"):
        res = lyapunov_spectrum(m, [[0.3], [3.0]], 20, window=5, rng=0)
    x, first = 3.0, 0  # the first step at which the orbit from 3.0 is non-finite
    with np.errstate(over="ignore", invalid="ignore"):
        while np.isfinite(x := 4.0 * x * (1.0 - x)):
            first += 1
    assert res.diverged_at.tolist() == [-1, first]
    assert np.isnan(res.exponents[1, 0]) and np.isfinite(res.exponents[0, 0])


def test_non_finite_tangents_raise(rng):
    """Overflowing tangent vectors (qr_every too large) and non-differentiable Adam raise."""
    m = DifferentiableMap(lambda x: torch.tanh(1e3 * x), 1)
    with pytest.raises(ConvergenceError, match="reduce `qr_every`"):
        lyapunov_spectrum(m, [0.0], 200, qr_every=200, rng=0)
    lin = torch.nn.Linear(2, 2)
    lin.register_parameter("unused", torch.nn.Parameter(torch.zeros(1)))
    tm = training_map(lin, rng.standard_normal((4, 2)), [0, 1, 0, 1], optimizer="adam", lr=0.01)
    with pytest.raises(ConvergenceError, match="not differentiable"):
        lyapunov_spectrum(tm, tm.initial_state(), 2, k=2, rng=0)


def test_validation_errors(rng):
    """Inconsistent arguments raise ValidationError with the constraint in the message."""
    m = _quadratic_map(_spd(rng), 0.3)
    x0 = np.zeros(5)
    with pytest.raises(ValidationError, match="StepMap"):
        lyapunov_spectrum(lambda x: x, x0, 5)
    with pytest.raises(ValidationError, match="exactly one"):
        lyapunov_spectrum(m, x0, 5, along=np.zeros((3, 5)))
    with pytest.raises(ValidationError, match="exactly one"):
        lyapunov_spectrum(m, None, 5)
    with pytest.raises(ValidationError, match="`n_steps` must be given"):
        lyapunov_spectrum(m, x0)
    with pytest.raises(ValidationError, match=r"`x0` must have shape \(5,\)"):
        lyapunov_spectrum(m, np.zeros(4), 5)
    with pytest.raises(ValidationError, match="along"):
        lyapunov_spectrum(m, along=np.zeros((1, 5)))
    with pytest.raises(ValidationError, match="<= 2"):
        lyapunov_spectrum(m, along=np.zeros((3, 5)), n_steps=3)
    with pytest.raises(ValidationError, match="`k` must be <= 5"):
        lyapunov_spectrum(m, x0, 5, k=6)
    with pytest.raises(ValidationError, match="multiple of `qr_every`"):
        lyapunov_spectrum(m, x0, 10, qr_every=3, transient=4)
    with pytest.raises(ValidationError, match="exceed `transient`"):
        lyapunov_spectrum(m, x0, 10, transient=10)
    with pytest.raises(ValidationError, match="`window` must be a multiple"):
        lyapunov_spectrum(m, x0, 10, qr_every=2, window=3)
    with pytest.raises(ValidationError, match="tangent0"):
        lyapunov_spectrum(m, x0, 10, k=2, tangent0=np.eye(5))
    with pytest.raises(ValidationError, match="dt"):
        lyapunov_spectrum(m, x0, 10, dt=0.0)
    tm = training_map(torch.nn.Linear(2, 2), rng.standard_normal((4, 2)), [0, 1, 0, 1], lr=0.1,
                      batches=[[0, 1], [2, 3]])
    with pytest.raises(ValidationError, match="recorded batches"):
        lyapunov_spectrum(tm, tm.initial_state(), 3)
    with pytest.warns(UndefinedResultWarning, match="fewer than two windows"):
        res = lyapunov_spectrum(m, x0, 4, window=4, dt=0.5)
    assert np.isnan(res.stderr).all() and res.params["dt"] == 0.5


@pytest.fixture(scope="module")
def paper():
    from graphtraj.capture.models import init_states
    from graphtraj.datasets import load_iris

    X, y = load_iris()
    spec = {"sizes": [4, 10, 3], "activation": "sigmoid", "loss": "cross_entropy", "bias": True}
    return spec, X, y, init_states(spec, 8, rng=0)


def test_paper_network_marginal_at_small_lr_chaotic_at_lr_1(paper):
    """η = 0.01: λ_max ≈ 0 (marginal stability); η = 1: clearly positive early on."""
    spec, X, y, inits = paper
    low = lyapunov_spectrum(training_map(spec, X, y, lr=0.01, fast=True), inits[:4], 100, rng=0)
    high = lyapunov_spectrum(training_map(spec, X, y, lr=1.0, fast=True), inits[:4], 100, rng=0)
    assert np.all(np.abs(low.exponents[:, 0]) < 2e-3)
    assert high.exponents[:, 0].mean() > 0.1
    assert high.exponents[:, 0].mean() > 50 * np.abs(low.exponents[:, 0]).max()


def test_paper_network_tangent_ftle_matches_perturbation_ftle(paper):
    """η = 1: the tangent-map exponent over each accepted perturbation window (ε = 1e-8,
    same initial conditions) agrees with the perturbation FTLE within 0.1 per step."""
    from graphtraj.capture import train_ensemble
    from graphtraj.timeseries import ftle_from_divergence

    spec, X, y, inits = paper
    ens = train_ensemble(spec, X, y, lr=1.0, n_steps=160, inits=inits, n_perturb=10, eps=1e-8,
                         seed=0)
    res = lyapunov_spectrum(training_map(spec, X, y, lr=1.0, fast=True), inits, 160, rng=0)
    pert, tang = [], []
    for i, r in enumerate(ens.reference_indices()):
        fit = ftle_from_divergence(ens.observables["dist_l1"][ens.perturbed_of(r)], times=ens.steps)
        if fit.accepted:
            pert.append(fit.slope)
            tang.append(res.finite_time_exponents(*fit.window)[i, 0])
    pert, tang = np.array(pert), np.array(tang)
    assert pert.size >= 6 and np.all(tang > 0.1)
    assert np.abs(pert - tang).mean() < 0.1 and abs(pert.mean() - tang.mean()) < 0.06


@pytest.mark.parametrize(("scale", "n_steps", "qr_every"), [(1e200, 1, 1), (1e-100, 4, 2)])
def test_single_vector_survives_extreme_stretching(scale, n_steps, qr_every):
    """k = 1 gives the same finite exponent as k = 2 when one step stretches a vector
    beyond the float64 square-root range (the normalization is scaled)."""
    from graphtraj.dynamics import DifferentiableMap

    fmap = DifferentiableMap(lambda x: scale * x, 2)
    one = lyapunov_spectrum(fmap, [1.0, 1.0], n_steps, k=1, qr_every=qr_every, rng=0).exponents
    two = lyapunov_spectrum(fmap, [1.0, 1.0], n_steps, k=2, qr_every=qr_every, rng=0).exponents
    assert np.isclose(one[0, 0], np.log(scale), rtol=1e-12)
    assert np.allclose(two[0], np.log(scale), rtol=1e-12)


def test_full_spectrum_of_a_huge_map_is_refused_before_allocating():
    """k = 'all' on a 10^5-dimensional map would need ~300 GiB of tangent vectors: a
    clear error naming the remedy, not a MemoryError."""
    from graphtraj.dynamics import DifferentiableMap

    fmap = DifferentiableMap(lambda x: 0.5 * x, 100_000)
    with pytest.raises(ValidationError, match="smaller `k`"):
        lyapunov_spectrum(fmap, np.zeros(100_000), 1, k="all", rng=0)
