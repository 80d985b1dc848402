"""Field cases C18-C22 (curvature operators, Lanczos quadrature, perturbation sizes).

See shared/cases/CASES.md.
"""

import numpy as np
import pytest
import torch
from scipy.sparse.linalg import LinearOperator

from graphtraj.dynamics import (
    DifferentiableMap,
    HessianOperator,
    finite_difference_tangent,
    lanczos_quadrature,
    lyapunov_spectrum,
    sharpness,
    sharpness_track,
    training_map,
)
from graphtraj.exceptions import UndefinedResultWarning, ValidationError


@pytest.fixture(autouse=True)
def _single_torch_thread():
    """One torch thread per test (tiny tensors; parallel regions only cost time here)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _half_mse(out, t):
    return 0.5 * ((out[:, 0] - t) ** 2).mean()


# ---------------------------------------------------------------------------- C18
def test_c18_hvp_accumulated_over_three_batches_from_zero(rng):
    """C18: linear-regression HVPs over 3 uneven batches equal (XᵀX/n) v to 1e-10."""
    n = 31
    X, y = rng.standard_normal((n, 5)), rng.standard_normal(n)
    G = X.T @ X / n
    H = HessianOperator(torch.nn.Linear(5, 1, bias=False), X, y, loss=_half_mse, batch_size=11,
                        params=rng.standard_normal(5))
    assert H.objective.chunk_size == 11  # chunks of 11, 11 and 9 samples
    V = rng.standard_normal((5, 4))
    np.testing.assert_allclose(H @ V, G @ V, rtol=0, atol=1e-10)
    top = sharpness(H, rng=3, tol=1e-12)
    assert abs(top.value - np.linalg.eigvalsh(G)[-1]) < 1e-10
    again = sharpness(H, rng=3, tol=1e-12)
    assert np.array_equal(top.eigenvalues, again.eigenvalues)
    assert np.array_equal(H @ V, H @ V)


def test_c18_builtin_mse_is_twice_the_gram_matrix(rng):
    """C18 (convention): torch's mean squared error, without the ½, has H = 2 XᵀX/n."""
    X, y = rng.standard_normal((20, 3)), rng.standard_normal(20)
    H = HessianOperator(torch.nn.Linear(3, 1, bias=False), X, y, loss="mse", batch_size=7)
    np.testing.assert_allclose(H.to_dense(), 2 * X.T @ X / 20, rtol=0, atol=1e-10)


# ---------------------------------------------------------------------------- C19
def _c19_check(op, v):
    q = lanczos_quadrature(op, v, 30)
    assert np.isrealobj(q.nodes) and q.nodes.dtype == np.float64
    assert abs(q.weights.sum() - 1.0) < 1e-12
    lam = np.arange(1.0, 101.0)
    for j in range(1, 6):
        exact = np.sum(v**2 * lam**j) / (v @ v)
        assert q.moment(j) == pytest.approx(exact, rel=1e-8)


def test_c19_lanczos_quadrature_on_diagonal_operator(rng):
    """C19: eigenvalues 1..100, Rademacher probe, 30 steps: real nodes, weights sum to 1,
    moments j = 1..5 equal vᵀH^j v / vᵀv to 1e-8."""
    lam = np.arange(1.0, 101.0)
    op = LinearOperator((100, 100), matvec=lambda x: lam * np.ravel(x), dtype=np.float64)
    v = rng.integers(0, 2, 100) * 2.0 - 1.0
    _c19_check(op, v)


def test_c19_same_on_a_hessian_operator(rng):
    """C19 through the Hessian operator: least squares with XᵀX/n = diag(1..100)."""
    X = np.diag(np.sqrt(100 * np.arange(1.0, 101.0)))
    H = HessianOperator(torch.nn.Linear(100, 1, bias=False), X, np.zeros(100), loss=_half_mse)
    _c19_check(H, rng.integers(0, 2, 100) * 2.0 - 1.0)


# ---------------------------------------------------------------------------- C20
def _bn_model():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(4, 6), torch.nn.BatchNorm1d(6), torch.nn.Tanh(),
                                torch.nn.Linear(6, 3)).double()
    model[1].running_mean.fill_(0.3)
    model[1].running_var.fill_(2.0)
    model[1].num_batches_tracked.fill_(7)
    return model


def _buffers(model):
    return {k: v.clone() for k, v in model.named_buffers()}


@pytest.mark.parametrize("train_mode", [True, False])
def test_c20_running_statistics_untouched(rng, train_mode):
    """C20: sharpness, HVPs and tangent steps leave running_mean/var and
    num_batches_tracked unchanged (training and evaluation mode)."""
    model = _bn_model()
    before = _buffers(model)
    X, y = rng.standard_normal((16, 4)), rng.integers(0, 3, 16)
    H = HessianOperator(model, X, y, train_mode=train_mode)
    sharpness(H, rng=0)
    H @ rng.standard_normal(H.shape[0])
    tm = training_map(model, X, y, lr=0.1, train_mode=train_mode)
    x0 = tm.initial_state()
    lyapunov_spectrum(tm, x0, 3, k=2, rng=0)
    sharpness_track(tm, x0, 2, rng=0)
    after = _buffers(model)
    assert before.keys() == after.keys() and len(after) == 3
    for k in before:
        assert torch.equal(before[k], after[k]), k


def test_c20_batchnorm_tangent_uses_batch_statistics(rng):
    """C20: in training mode the map normalizes with the batch statistics (like
    training) and its tangent matches central differences."""
    model = _bn_model()
    X, y = rng.standard_normal((16, 4)), rng.integers(0, 3, 16)
    tm = training_map(model, X, y, lr=0.1)
    x = torch.as_tensor(tm.initial_state())
    ref = _bn_model()
    opt = torch.optim.SGD(ref.parameters(), lr=0.1)
    torch.nn.functional.cross_entropy(ref(torch.as_tensor(X)), torch.as_tensor(y)).backward()
    opt.step()
    flat = torch.cat([p.detach().reshape(-1) for p in ref.parameters()])
    assert torch.allclose(tm.step(x), flat, rtol=0, atol=1e-14)
    V = torch.as_tensor(rng.standard_normal((2, tm.dim)))
    _, V1 = tm.step_tangent(x, V)
    assert torch.allclose(V1, finite_difference_tangent(tm, x, V, eps=1e-6), atol=1e-7)


# ---------------------------------------------------------------------------- C21
def test_c21_zero_perturbation_is_an_error():
    """C21: a perturbation of size 0 (identical runs, log 0) is refused up front."""
    m = DifferentiableMap(lambda x: 2 * x, 2)
    with pytest.raises(ValidationError, match="must be > 0"):
        finite_difference_tangent(m, np.ones(2), np.eye(2), eps=0.0)
    with pytest.raises(ValidationError, match="nonzero columns"):
        lyapunov_spectrum(m, np.ones(2), 3, k=2, tangent0=np.zeros((2, 2)))


def test_c21_collapsed_tangent_is_masked_not_nan():
    """C21: a tangent direction that collapses to 0 (log 0) gives a masked -inf, no NaN."""
    m = DifferentiableMap(lambda x: torch.stack([0.5 * x[0], 0.0 * x[1]]), 2)
    with pytest.warns(UndefinedResultWarning, match="collapsed"):
        res = lyapunov_spectrum(m, np.ones(2), 12, k="all", transient=1, window=4, rng=0)
    assert not np.isnan(res.exponents).any() and not np.isnan(res.running).any()
    assert res.exponents[0, 1] == -np.inf and abs(res.exponents[0, 0] - np.log(0.5)) < 1e-12


# ---------------------------------------------------------------------------- C22
def test_c22_perturbation_below_resolution_rejected():
    """C22: eps = 1e-10 on float32 states of size 1 is rejected (1 + 1e-10 == 1 in float32),
    accepted in float64; 1e-20 is rejected in float64 too."""
    assert np.float32(1.0) + np.float32(1e-10) == np.float32(1.0)
    f32 = DifferentiableMap(lambda x: x * x, 1, dtype="float32")
    with pytest.raises(ValidationError, match="lost to rounding"):
        finite_difference_tangent(f32, np.ones(1), np.ones((1, 1)), eps=1e-10)
    f64 = DifferentiableMap(lambda x: x * x, 1)
    assert float(finite_difference_tangent(f64, np.ones(1), np.ones((1, 1)), eps=1e-10)[0, 0]) == pytest.approx(2.0, rel=1e-5)
    with pytest.raises(ValidationError, match="float64 machine epsilon"):
        finite_difference_tangent(f64, np.ones(1), np.ones((1, 1)), eps=1e-20)
