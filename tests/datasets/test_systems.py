"""Tests of the synthetic dynamical systems (graphtraj/datasets/systems.py)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from graphtraj.datasets import henon_map, logistic_map, lorenz, quadratic_gd, tent_map
from graphtraj.exceptions import NonFiniteInputError, UnreliableResultWarning, ValidationError

# ---------------------------------------------------------------------- logistic


def test_logistic_first_values_by_hand():
    """r=4, x0=0.3: 0.3, 4*0.3*0.7 = 0.84, 4*0.84*0.16 = 0.5376, 4*0.5376*0.4624."""
    x = logistic_map(4, transient=0)
    np.testing.assert_allclose(x, [0.3, 0.84, 0.5376, 0.99434496], rtol=1e-15)
    y = logistic_map(3, r=2.0, x0=0.25, transient=0)  # 0.25 -> 0.375 -> 0.46875 exactly
    assert y.tolist() == [0.25, 0.375, 0.46875]


def test_logistic_transient_is_a_shift():
    """transient=k drops the first k iterates of the same orbit."""
    np.testing.assert_array_equal(logistic_map(50, transient=100), logistic_map(150, transient=0)[100:])


def test_logistic_lyapunov_is_ln2():
    """Along the computed r=4 orbit, mean ln|f'(x)| = mean ln|4(1 - 2x)| is ln 2 (May 1976)."""
    x = logistic_map(20000)
    lam = np.mean(np.log(np.abs(4.0 * (1.0 - 2.0 * x))))
    assert abs(lam - math.log(2)) < 0.03
    assert x.min() >= 0.0 and x.max() <= 1.0


def test_logistic_fixed_point():
    """x* = 1 - 1/r is a fixed point: the orbit started there stays (r = 2.5, stable)."""
    x = logistic_map(10, r=2.5, x0=0.6, transient=0)
    np.testing.assert_allclose(x, 0.6, rtol=1e-15)


# -------------------------------------------------------------------------- tent


def test_tent_first_values_and_band():
    """mu=1.5, x0=0.2: 0.3, 0.45, 0.675, then 1.5*(1-0.675) = 0.4875; the orbit stays in the band."""
    x = tent_map(5, mu=1.5, x0=0.2, transient=0)
    np.testing.assert_allclose(x, [0.2, 0.3, 0.45, 0.675, 0.4875], rtol=1e-14)
    mu = 1.99
    y = tent_map(5000, mu=mu)
    assert y.min() >= mu * (1 - mu / 2) - 1e-12 and y.max() <= mu / 2 + 1e-15
    assert np.unique(y).size > 4900  # chaotic, not collapsed


def test_tent_mu2_collapse_warns():
    """At mu = 2 the float orbit collapses onto the fixed point 0, with a warning."""
    with pytest.warns(UnreliableResultWarning, match="reached the exact fixed point 0.0"):
        x = tent_map(200, mu=2.0, transient=0)
    assert x[-1] == 0.0 and np.count_nonzero(x) < 60


# ------------------------------------------------------------------------- Hénon


def test_henon_first_values_by_hand():
    """From (0, 0): (1, 0), (1 - 1.4, 0.3) = (-0.4, 0.3), (1 - 1.4*0.16 + 0.3, -0.12)."""
    p = henon_map(4, transient=0)
    np.testing.assert_allclose(p, [[0, 0], [1, 0], [-0.4, 0.3], [1.076, -0.12]], atol=1e-15)


def test_henon_fixed_point():
    """The fixed point x* = (-(1-b) + sqrt((1-b)^2 + 4a)) / 2a, y* = b x* is invariant."""
    a, b = 1.4, 0.3
    xs = (-(1 - b) + math.sqrt((1 - b) ** 2 + 4 * a)) / (2 * a)
    p = henon_map(10, x0=(xs, b * xs), transient=0)
    np.testing.assert_allclose(p, np.tile([xs, b * xs], (10, 1)), atol=1e-12)


def test_henon_lyapunov_exponents():
    """QR along the orbit: lambda_1 ~ 0.419 and lambda_1 + lambda_2 = ln 0.3 (det J = -b)."""
    a, b = 1.4, 0.3
    p = henon_map(5000)
    q = np.eye(2)
    logs = np.zeros(2)
    for x, _ in p:
        q, r = np.linalg.qr(np.array([[-2 * a * x, 1.0], [b, 0.0]]) @ q)
        logs += np.log(np.abs(np.diag(r)))
    lam = logs / len(p)
    assert abs(lam[0] - 0.419) < 0.02
    assert abs(lam.sum() - math.log(b)) < 1e-12


def test_henon_escape_raises():
    """An initial point outside the basin makes the orbit diverge: a clear error."""
    with pytest.raises(ValidationError, match="`x0` must lie in the basin of attraction"):
        henon_map(100, x0=(3.0, 3.0))


# ------------------------------------------------------------------------ Lorenz


def _lorenz_rhs(t, s, sigma=10.0, rho=28.0, beta=8.0 / 3.0):
    x, y, z = s
    return [sigma * (y - x), x * (rho - z) - y, x * y - beta * z]


def test_lorenz_against_solve_ivp_and_fourth_order():
    """RK4 follows scipy's DOP853 (rtol 1e-13) over t = 1, with error ratio ~2^4 when dt halves."""
    from scipy.integrate import solve_ivp

    t = np.arange(101) * 0.01
    ref = solve_ivp(_lorenz_rhs, (0, 1.0), (1.0, 1.0, 1.0), method="DOP853",
                    rtol=1e-13, atol=1e-13, t_eval=t).y.T
    coarse = lorenz(101, transient=0)
    fine = lorenz(201, dt=0.005, transient=0)[::2]
    e_coarse, e_fine = np.abs(coarse - ref).max(), np.abs(fine - ref).max()
    assert e_coarse < 2e-3 and e_fine < 1.5e-4
    assert 14.0 < e_coarse / e_fine < 18.5  # global error O(dt^4)


def test_lorenz_parameters_and_transient():
    """Other parameters reach the same ODE solution; transient=k is a time shift."""
    from scipy.integrate import solve_ivp

    sol = solve_ivp(lambda t, s: _lorenz_rhs(t, s, 5.0, 10.0, 1.0), (0, 0.2), (0.5, -1.0, 2.0),
                    method="DOP853", rtol=1e-13, atol=1e-13, t_eval=[0.2]).y[:, 0]
    out = lorenz(1, dt=0.001, sigma=5.0, rho=10.0, beta=1.0, x0=(0.5, -1.0, 2.0), transient=200)
    np.testing.assert_allclose(out[0], sol, atol=1e-10)
    np.testing.assert_array_equal(lorenz(20, transient=30), lorenz(50, transient=0)[30:])
    s = lorenz(3000)
    assert s.shape == (3000, 3) and 0 < s[:, 2].min() and s[:, 2].max() < 50  # on the attractor


def test_lorenz_unstable_step_raises():
    """A step too large for RK4 makes the state blow up: a clear error about dt."""
    with pytest.raises(ValidationError, match="`dt` must be small enough"):
        lorenz(100, dt=0.5, transient=0)


# ------------------------------------------------------------------- quadratic GD


def test_quadratic_gd_exact_dyadic_case():
    """A = diag(2, 1), lr = 1/4: w_t = (0.5^t, 0.75^t) exactly (all values are dyadic)."""
    w = quadratic_gd(np.diag([2.0, 1.0]), [1.0, 1.0], 0.25, 30)
    t = np.arange(31)
    assert np.array_equal(w, np.column_stack([0.5**t, 0.75**t]))


def test_quadratic_gd_equals_matrix_power(rng):
    """w_t = (I - lr A)^t w0 for a random symmetric positive definite A."""
    m = rng.normal(size=(5, 5))
    A = m @ m.T / 5 + np.eye(5)
    w0 = rng.normal(size=5)
    lr = 1.0 / np.linalg.eigvalsh(A).max()
    w = quadratic_gd(A, w0, lr, 40)
    M = np.eye(5) - lr * A
    expected = np.array([np.linalg.matrix_power(M, k) @ w0 for k in range(41)])
    np.testing.assert_allclose(w, expected, rtol=1e-12, atol=1e-14)


def test_quadratic_gd_divergence_rate():
    """Along an eigenvector with lr*a > 2 the iterate grows exactly by |1 - lr a| per step."""
    w = quadratic_gd(np.diag([3.0, 0.5]), [1.0, 0.0], 1.0, 10)  # factor 1 - 3 = -2
    assert w[:, 0].tolist() == [(-2.0) ** k for k in range(11)]
    assert np.all(w[:, 1] == 0.0)
    assert quadratic_gd(np.eye(2), [1.0, 2.0], 0.5, 0).tolist() == [[1.0, 2.0]]


@pytest.mark.parametrize("args, error, match", [
    ((np.ones((2, 3)), [1.0, 1.0], 0.1, 3), ValidationError, "`A` must be a square matrix"),
    ((np.ones(3), [1.0], 0.1, 3), ValidationError, "`A` must be 2-D"),
    ((np.array([[1.0, 2.0], [0.0, 1.0]]), [1.0, 1.0], 0.1, 3), ValidationError,
     "`A` must be symmetric"),
    ((np.eye(2), [1.0, 1.0, 1.0], 0.1, 3), ValidationError, "`w0` must have shape \\(2,\\)"),
    ((np.eye(2), [1.0, 1.0], 0.0, 3), ValidationError, "`lr` must be > 0.0"),
    ((np.eye(2), [1.0, 1.0], 0.1, -1), ValidationError, "`n_steps` must be >= 0"),
    ((np.eye(2), [1.0, 1.0], 0.1, 2.0), ValidationError, "`n_steps` must be an integer"),
    ((np.array([[np.nan, 0], [0, 1]]), [1.0, 1.0], 0.1, 3), NonFiniteInputError,
     "`A` must contain only finite values"),
    ((np.eye(2), [np.inf, 1.0], 0.1, 3), NonFiniteInputError, "`w0` must contain only finite"),
])
def test_quadratic_gd_validation(args, error, match):
    """Every invalid argument of quadratic_gd raises the documented error."""
    with pytest.raises(error, match=match):
        quadratic_gd(*args)


# ------------------------------------------------------------------- validation


@pytest.mark.parametrize("func, kwargs, match", [
    (logistic_map, {"n": 0}, "`n` must be >= 1"),
    (logistic_map, {"n": 5.0}, "`n` must be an integer"),
    (logistic_map, {"n": 5, "r": 4.5}, "`r` must be <= 4.0"),
    (logistic_map, {"n": 5, "r": 0.0}, "`r` must be > 0.0"),
    (logistic_map, {"n": 5, "x0": 1.5}, "`x0` must be <= 1.0"),
    (logistic_map, {"n": 5, "x0": float("nan")}, "`x0` must be finite"),
    (logistic_map, {"n": 5, "transient": -1}, "`transient` must be >= 0"),
    (tent_map, {"n": 5, "mu": 2.5}, "`mu` must be <= 2.0"),
    (tent_map, {"n": 5, "mu": -1.0}, "`mu` must be > 0.0"),
    (tent_map, {"n": 5, "x0": -0.1}, "`x0` must be >= 0.0"),
    (tent_map, {"n": 0}, "`n` must be >= 1"),
    (henon_map, {"n": 5, "x0": (0.0, 0.0, 0.0)}, "`x0` must have 2 coordinates"),
    (henon_map, {"n": 5, "a": "1.4"}, "`a` must be a real number"),
    (henon_map, {"n": 5, "b": math.inf}, "`b` must be finite"),
    (henon_map, {"n": 5, "transient": 1.5}, "`transient` must be an integer"),
    (lorenz, {"n": 5, "dt": 0.0}, "`dt` must be > 0.0"),
    (lorenz, {"n": 5, "x0": (1.0, 1.0)}, "`x0` must have 3 coordinates"),
    (lorenz, {"n": 5, "x0": (1.0, np.nan, 1.0)}, "`x0` must contain only finite values"),
    (lorenz, {"n": 5, "rho": None}, "`rho` must be a real number"),
    (lorenz, {"n": -3}, "`n` must be >= 1"),
])
def test_argument_validation(func, kwargs, match):
    """Out-of-range or mistyped arguments raise ValidationError naming the parameter."""
    n = kwargs.pop("n")
    with pytest.raises(ValidationError, match=match):
        func(n, **kwargs)


def test_outputs_are_float64_with_time_first():
    """Every system returns float64 with time on axis 0."""
    assert logistic_map(7).shape == (7,) and logistic_map(7).dtype == np.float64
    assert tent_map(7).shape == (7,)
    assert henon_map(7).shape == (7, 2) and henon_map(7).dtype == np.float64
    assert lorenz(7).shape == (7, 3)
    assert quadratic_gd(np.eye(3), np.ones(3), 0.1, 6).shape == (7, 3)


def test_lorenz_blow_up_names_the_start_and_parameters():
    """Hypothesis: a state that overflows at once because x0 (or a parameter) is huge,
    not because dt is large, gets an error that names x0 and the parameters as causes
    too, not only dt."""
    with pytest.raises(ValidationError, match="`dt` must be small enough.*x0=\\(1e\\+300"):
        lorenz(10, x0=(1e300, 1e300, 1e300), transient=0)
