"""Tests of graphtraj.dynamics.curvature (sharpness and its tracking along training)."""

import numpy as np
import pytest
import torch

from graphtraj.dynamics import HessianOperator, sharpness, sharpness_track, training_map
from graphtraj.exceptions import (
    ConvergenceWarning,
    NonFiniteInputError,
    UndefinedResultWarning,
    UnknownOptionError,
    ValidationError,
)


def _half_mse(out, t):
    return 0.5 * ((out[:, 0] - t) ** 2).mean()


@pytest.mark.parametrize("method", ["lanczos", "power"])
def test_linear_regression_sharpness_is_top_gram_eigenvalue(rng, method):
    """Sharpness of least squares equals eigvalsh(XᵀX/n) to 1e-10 (both methods)."""
    X = rng.standard_normal((50, 8)) * np.linspace(0.5, 3, 8)
    H = HessianOperator(torch.nn.Linear(8, 1, bias=False), X, rng.standard_normal(50), loss=_half_mse)
    ref = np.linalg.eigvalsh(X.T @ X / 50)[::-1]
    res = sharpness(H, k=2, method=method, tol=1e-12, rng=0)
    np.testing.assert_allclose(res.eigenvalues, ref[:2], rtol=0, atol=1e-10)
    assert res.converged.all() and res.value == res.eigenvalues[0]
    G = X.T @ X / 50
    for i in range(2):
        np.testing.assert_allclose(G @ res.eigenvectors[:, i], ref[i] * res.eigenvectors[:, i], atol=1e-8)
    assert res.n_products > 0 and (res.n_iter > 0) == (method == "power")


def test_same_seed_bit_identical_and_sources(rng):
    """Same seed, same numbers; arrays and scipy operators are accepted too."""
    A = rng.standard_normal((30, 30))
    A = A + A.T
    a, b = sharpness(A, k=3, rng=5), sharpness(A, k=3, rng=5)
    assert np.array_equal(a.eigenvalues, b.eigenvalues)
    from scipy.sparse.linalg import aslinearoperator

    c = sharpness(aslinearoperator(A), k=3, rng=5)
    np.testing.assert_allclose(c.eigenvalues, np.linalg.eigvalsh(A)[::-1][:3], atol=1e-10)


def test_power_iteration_returns_top_algebraic_eigenvalues():
    """With a dominant negative eigenvalue, power iteration (shifted by |λ|max) still
    returns the top algebraic eigenvalues, as Lanczos does; it used to return [2, -5]."""
    A = np.diag([-5.0, 1.0, 2.0, 0.5])
    lan = sharpness(A, k=2, rng=0)
    pw = sharpness(A, k=2, method="power", rng=0)
    np.testing.assert_allclose(lan.eigenvalues, [2.0, 1.0], atol=1e-12)
    np.testing.assert_allclose(pw.eigenvalues, [2.0, 1.0], atol=1e-8)
    assert pw.converged.all() and pw.history.shape == (pw.n_iter, 2)


@pytest.mark.parametrize(("diag", "top"), [
    ([-1.0, -2.0, -3.0, -4.0], -1.0),  # negative definite: top is -1, not -4
    ([1.0, 2.0, 3.0, -10.0], 3.0),     # indefinite: top is 3, not -10
])
def test_power_on_indefinite_operator_finds_sharpness(diag, top):
    """Power iteration returns the largest algebraic eigenvalue (hand-known for a
    diagonal matrix), converged and without warnings, for definite and indefinite H."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = sharpness(np.diag(diag), method="power", rng=0)
    assert res.value == pytest.approx(top, abs=1e-9) and res.converged.all()
    assert abs(res.eigenvectors[int(np.argmax(diag)), 0]) == pytest.approx(1.0, abs=1e-6)


@pytest.mark.parametrize("scale", [1e200, 1e-200])
@pytest.mark.parametrize("method", ["lanczos", "power"])
def test_huge_and_tiny_operators_converge(method, scale):
    """Convergence is scale-invariant: diag(1, 3, 2) times 1e±200 gives 3e±200,
    converged, with no warning (the residual used to overflow to inf, or underflow
    to 0 and stop power iteration on a wrong value)."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = sharpness(np.diag([1.0, 3.0, 2.0]) * scale, method=method, rng=0)
    assert res.value == pytest.approx(3.0 * scale, rel=1e-9)
    assert res.converged.all() and res.residuals[0] < 1e-7
    assert method == "lanczos" or res.n_iter < 1000


def test_torch_and_sparse_operators_accepted():
    """Torch tensors and scipy sparse matrices are converted: diag(1, 3, 2) has top
    eigenvalue 3 (torch used to raise a raw TypeError from scipy)."""
    import scipy.sparse as sparse

    D = [1.0, 3.0, 2.0]
    for op in (torch.diag(torch.tensor(D)), torch.diag(torch.tensor(D, dtype=torch.float64)),
               sparse.diags(D).tocsr(), sparse.diags_array(D)):
        for method in ("lanczos", "power"):
            assert sharpness(op, method=method, rng=0).value == pytest.approx(3.0, abs=1e-9)
    with pytest.raises(ValidationError, match="must be symmetric"):
        sharpness(sparse.csr_array(np.array([[1.0, 2.0], [0.0, 1.0]])))
    with pytest.raises(ValidationError, match="must be symmetric"):
        sharpness(torch.tensor([[1.0, 2.0], [0.0, 1.0]]))
    with pytest.raises(ValidationError, match="square"):
        sharpness(torch.ones(2, 3))
    with pytest.raises(ValidationError, match="must be a HessianOperator"):
        sharpness([[1.0, 0.0], [0.0, 2.0]])


def test_non_finite_operator_raises_clear_error():
    """Non-finite entries or products raise NonFiniteInputError before ARPACK sees them."""
    from scipy.sparse.linalg import aslinearoperator

    with pytest.raises(NonFiniteInputError, match="finite"):
        sharpness(np.diag([1.0, np.nan, 2.0]))
    with pytest.raises(NonFiniteInputError, match="finite products"):
        sharpness(aslinearoperator(np.diag([1.0, np.nan, 2.0])), rng=0)


def test_non_convergence_warns():
    """Stopping before the tolerance warns and reports converged = False."""
    A = np.diag(np.linspace(1.0, 1.01, 50))
    with pytest.warns(ConvergenceWarning, match="before the tolerance"):
        res = sharpness(A, method="power", maxiter=2, rng=0)
    assert not res.converged[0] and res.n_iter == 2
    with pytest.warns(ConvergenceWarning):
        lan = sharpness(np.diag(np.linspace(1.0, 1.0001, 400)), k=3, maxiter=1, tol=1e-14, rng=0)
    assert not lan.converged.all()


def test_sharpness_validation():
    """Unknown methods, bad k and non-square operators raise."""
    with pytest.raises(UnknownOptionError, match="method"):
        sharpness(np.eye(3), method="arnoldi")
    with pytest.raises(ValidationError, match="`k` must be <= 2"):
        sharpness(np.eye(3), k=3)
    with pytest.raises(ValidationError, match="square"):
        sharpness(np.ones((2, 3)))
    with pytest.raises(ValidationError, match="P >= 2"):
        sharpness(np.eye(1))
    with pytest.raises(ValidationError, match="operator"):
        sharpness("H")


def test_non_symmetric_array_raises():
    """A non-symmetric array is not a Hessian: it used to give a non-converged,
    meaningless 'sharpness' with only a ConvergenceWarning."""
    with pytest.raises(ValidationError, match="must be symmetric"):
        sharpness(np.array([[1.0, 2.0], [0.0, 1.0]]))
    A = np.diag([3.0, 1.0, 2.0])
    A[0, 1] += 1e-12  # rounding-level asymmetry is accepted
    assert sharpness(A, rng=0).eigenvalues[0] == pytest.approx(3.0)


@pytest.mark.parametrize("method", ["lanczos", "power"])
def test_zero_operator_has_zero_sharpness(method):
    """A flat loss (H = 0) has every eigenvalue 0; Lanczos used to raise a raw
    ArpackError ('starting vector is zero')."""
    res = sharpness(np.zeros((6, 6)), k=2, method=method, rng=0)
    np.testing.assert_array_equal(res.eigenvalues, [0.0, 0.0])
    assert res.converged.all()
    np.testing.assert_allclose(res.eigenvectors.T @ res.eigenvectors, np.eye(2), atol=1e-12)


def test_track_along_and_fresh_agree(rng):
    """Tracking along recorded states equals tracking a fresh run (least squares)."""
    X = rng.standard_normal((20, 3))
    tm = training_map(torch.nn.Linear(3, 1), X, rng.standard_normal(20), loss=_half_mse, lr=0.2)
    x0 = tm.initial_state()
    states = [torch.as_tensor(x0)]
    for t in range(6):
        states.append(tm.step(states[-1], t))
    along = torch.stack(states).numpy()
    a = sharpness_track(tm, along=along, every=2, k=2, rng=1)
    b = sharpness_track(tm, x0, 6, every=2, k=2, rng=1)
    assert a.steps.tolist() == b.steps.tolist() == [0, 2, 4, 6]
    np.testing.assert_allclose(a.eigenvalues, b.eigenvalues, rtol=0, atol=1e-12)
    Xb = np.hstack([X, np.ones((20, 1))])
    np.testing.assert_allclose(a.eigenvalues[0], np.linalg.eigvalsh(Xb.T @ Xb / 20)[::-1][:2], atol=1e-10)
    np.testing.assert_allclose(a.loss, tm.loss(along[::2]).numpy(), atol=1e-14)
    assert a.threshold == 10.0 and a.edge.threshold == 10.0 and a.sharpness.shape == (4,)


def test_paper_network_edge_of_stability():
    """η = 0.01 stays far below 2/η; η = 1 rises to 2/η and hovers around it, crossing often."""
    from graphtraj.capture.models import paper_mlp
    from graphtraj.datasets import load_iris

    X, y = load_iris()
    net = paper_mlp(seed=3)  # initial sharpness 1.11: below 2/η at η = 1
    low = training_map(net, X, y, lr=0.01, fast=True)
    slow = sharpness_track(low, low.initial_state(), 300, every=30, rng=0)
    assert slow.edge.max_ratio < 0.1 and not slow.edge.reached
    high = training_map(net, X, y, lr=1.0, fast=True)
    fast = sharpness_track(high, high.initial_state(), 300, every=3, rng=0)
    assert fast.sharpness[0] < 2.0 and fast.edge.first_reach > 0
    assert fast.edge.n_crossings >= 20
    assert 0.8 < fast.edge.late_ratio < 1.5
    assert fast.converged.all()


def test_track_validation(rng):
    """Track arguments are checked; Adam has no GD threshold (edge is None)."""
    X = rng.standard_normal((10, 2))
    tm = training_map(torch.nn.Linear(2, 1), X, rng.standard_normal(10), loss=_half_mse, lr=0.1)
    x0 = tm.initial_state()
    with pytest.raises(ValidationError, match="TrainingMap"):
        sharpness_track(np.eye(2), x0, 3)
    with pytest.raises(ValidationError, match="exactly one"):
        sharpness_track(tm, x0, 3, along=np.zeros((3, 3)))
    with pytest.raises(ValidationError, match="one full state"):
        sharpness_track(tm, np.zeros((2, 3)), 3)
    with pytest.raises(ValidationError, match="`n_steps` must be given"):
        sharpness_track(tm, x0)
    with pytest.raises(ValidationError, match=r"\(T, 3\)"):
        sharpness_track(tm, along=np.zeros((3, 5)))
    with pytest.raises(ValidationError, match="<= 2"):
        sharpness_track(tm, along=np.zeros((3, 3)), n_steps=4)
    adam = training_map(torch.nn.Linear(2, 1), X, rng.standard_normal(10), loss=_half_mse,
                        optimizer="adam", lr=0.1)
    tr = sharpness_track(adam, adam.initial_state(), 2, rng=0)
    assert tr.edge is None and tr.threshold is None
    tr2 = sharpness_track(adam, adam.initial_state(), 2, threshold=0.5, rng=0)
    assert tr2.edge.threshold == 0.5


def test_diverging_run_gives_nan_sharpness(rng, capfd):
    """A diverging fresh run is data: NaN sharpness (not converged) from the step the
    state turns non-finite, one UndefinedResultWarning naming it, finite values before
    (= top eigenvalue of the constant least-squares Hessian), and an edge summary over
    the finite measurements. It used to raise ValidationError('the run diverged')."""
    X = rng.standard_normal((10, 2)) * 100
    big = training_map(torch.nn.Linear(2, 1), X, rng.standard_normal(10), loss=_half_mse, lr=1.0)
    with pytest.warns(UndefinedResultWarning, match="undefined from step") as rec:
        tr = sharpness_track(big, big.initial_state(), 400, every=40, rng=0)
    bad = ~np.isfinite(tr.sharpness)
    assert bad.any() and bad[-1] and not bad[0]
    first = int(np.argmax(bad))
    assert np.all(bad[first:]) and not tr.converged[first:].any()
    assert f"from step {tr.steps[first]} on" in str(rec[0].message)
    Xb = np.hstack([X, np.ones((10, 1))])
    np.testing.assert_allclose(tr.sharpness[:first], np.linalg.eigvalsh(Xb.T @ Xb / 10)[-1], rtol=1e-8)
    assert tr.edge is not None and tr.edge.steps.tolist() == tr.steps[:first].tolist()
    assert np.isnan(tr.loss[first:]).all()
    assert "DLASCL" not in capfd.readouterr().err


def test_diverged_stored_states_give_nan(rng, capfd):
    """Tracking along stored states with non-finite rows gives NaN there (with a
    warning naming the step) and the exact sharpness elsewhere; it used to raise
    NonFiniteInputError and print a LAPACK DLASCL error."""
    X = rng.standard_normal((20, 3))
    tm = training_map(torch.nn.Linear(3, 1), X, rng.standard_normal(20), loss=_half_mse, lr=0.2)
    x0 = tm.initial_state()
    states = [torch.as_tensor(x0)]
    for t in range(3):
        states.append(tm.step(states[-1], t))
    along = torch.stack(states).numpy().copy()
    along[2:] = np.nan
    along[3, 0] = np.inf
    with pytest.warns(UndefinedResultWarning, match="step 2"):
        tr = sharpness_track(tm, along=along, rng=0)
    Xb = np.hstack([X, np.ones((20, 1))])
    np.testing.assert_allclose(tr.sharpness[:2], np.linalg.eigvalsh(Xb.T @ Xb / 20)[-1], atol=1e-10)
    assert np.isnan(tr.sharpness[2:]).all() and not tr.converged[2:].any()
    assert tr.edge.sharpness.size == 2
    assert "DLASCL" not in capfd.readouterr().err
