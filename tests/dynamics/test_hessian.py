"""Tests of graphtraj.dynamics.hessian (HessianOperator)."""

import numpy as np
import pytest
import torch
from scipy.sparse.linalg import LinearOperator

from graphtraj.dynamics import HessianOperator, make_objective
from graphtraj.exceptions import ValidationError


def _half_mse(out, t):
    return 0.5 * ((out[:, 0] - t) ** 2).mean()


def _regression(rng, n=40, d=6):
    return rng.standard_normal((n, d)), rng.standard_normal(n)


def test_linear_regression_hessian_is_gram_matrix(rng):
    """For ½ mean squared residuals H = XᵀX/n: every product form agrees to 1e-10."""
    X, y = _regression(rng)
    G = X.T @ X / 40
    H = HessianOperator(torch.nn.Linear(6, 1, bias=False), X, y, loss=_half_mse,
                        params=rng.standard_normal(6))
    v, V = rng.standard_normal(6), rng.standard_normal((6, 3))
    np.testing.assert_allclose(H @ v, G @ v, rtol=0, atol=1e-10)
    np.testing.assert_allclose(H.matvec(v[:, None]), (G @ v)[:, None], rtol=0, atol=1e-10)
    np.testing.assert_allclose(H @ V, G @ V, rtol=0, atol=1e-10)
    np.testing.assert_allclose(H.to_scipy() @ V, G @ V, rtol=0, atol=1e-10)
    np.testing.assert_allclose(H.to_dense(), G, rtol=0, atol=1e-10)
    t = torch.as_tensor(v)
    out = H @ t
    assert isinstance(out, torch.Tensor) and torch.allclose(out, torch.as_tensor(G @ v), atol=1e-10)
    assert isinstance(H.to_scipy(), LinearOperator) and H.shape == (6, 6) and H.dtype == np.float64
    assert H.n_products == 1 + 1 + 3 + 3 + 6 + 1


@pytest.mark.parametrize("method,fast", [("forward_over_reverse", False), ("double_backward", False),
                                         ("forward_over_reverse", True)])
def test_paper_network_hvps_match_dense_torch_func_hessian(rng, method, fast):
    """On the paper network (Iris) HVPs equal the dense torch.func.hessian to 1e-10."""
    from graphtraj.capture.functional import batched_mlp_loss
    from graphtraj.capture.models import paper_mlp
    from graphtraj.datasets import load_iris

    X, y = load_iris()
    net = paper_mlp(seed=3)
    w = torch.as_tensor(net.flat_parameters())
    dense = torch.func.hessian(lambda p: batched_mlp_loss(p, X, y, net.spec))(w).numpy()
    H = HessianOperator(net, X, y, hvp=method, fast=fast, batch_size=None if fast else 50)
    V = rng.standard_normal((83, 4))
    np.testing.assert_allclose(H @ V, dense @ V, rtol=0, atol=1e-10)
    g_ref = torch.func.grad(lambda p: batched_mlp_loss(p, X, y, net.spec))(w).numpy()
    np.testing.assert_allclose(H.gradient(), g_ref, rtol=0, atol=1e-12)
    assert abs(H.loss() - float(batched_mlp_loss(w, X, y, net.spec))) < 1e-13


def test_at_and_objective_input(rng):
    """An operator can be moved to other parameters and built from an Objective."""
    X, y = _regression(rng)
    obj = make_objective(torch.nn.Linear(6, 1), X, y, loss=_half_mse)
    H = HessianOperator(obj)
    np.testing.assert_array_equal(H.params, obj.initial_params())
    H2 = H.at(np.zeros(7))
    Xb = np.hstack([X, np.ones((40, 1))])
    np.testing.assert_allclose(H2.to_dense(), Xb.T @ Xb / 40, rtol=0, atol=1e-12)
    assert "P=7" in repr(H2)


def test_validation_errors(rng):
    """Shapes, limits and argument combinations are checked."""
    X, y = _regression(rng)
    H = HessianOperator(torch.nn.Linear(6, 1), X, y, loss=_half_mse)
    with pytest.raises(ValidationError, match=r"shape \(7,\)"):
        H.matvec(np.zeros(3))
    with pytest.raises(ValidationError, match=r"\(P,\) or \(P, 1\)"):
        H.matvec(np.zeros((7, 2)))
    with pytest.raises(ValidationError, match=r"\(7, k\)"):
        H.matmat(np.zeros((3, 2)))
    with pytest.raises(ValidationError, match=r"\(P,\) or \(P, k\)"):
        H @ np.zeros((7, 1, 1))
    with pytest.raises(ValidationError, match="max_params"):
        H.to_dense(max_params=5)
    with pytest.raises(ValidationError, match=r"`params` must have shape \(7,\)"):
        H.at(np.zeros(3))
    with pytest.raises(ValidationError, match="must not be given"):
        HessianOperator(H.objective, X, y)
    with pytest.raises(ValidationError, match="`X` and `y` must be given"):
        HessianOperator(torch.nn.Linear(6, 1))
    with pytest.raises(ValidationError, match="batch_size"):
        HessianOperator(torch.nn.Linear(6, 1), X, y, loss=_half_mse, batch_size=0)
    spec_obj = make_objective({"sizes": [6, 2]}, X, (y > 0).astype(int), fast=True)
    with pytest.raises(ValidationError, match="`params` must be given"):
        HessianOperator(spec_obj)
