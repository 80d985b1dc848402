"""Tests of graphtraj.dynamics.objectives (the general path: any nn.Module)."""

import numpy as np
import pytest
import torch
from torch.func import functional_call, hessian

from graphtraj.dynamics import ModuleObjective, make_objective
from graphtraj.exceptions import UnknownOptionError, UnsupportedModelError, ValidationError


def _net(seed, sizes=(4, 6, 3), act=torch.nn.Tanh):
    torch.manual_seed(seed)
    layers = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        layers.append(torch.nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(act())
    return torch.nn.Sequential(*layers).double()


def _dense_reference(model, X, y, w, loss=torch.nn.functional.cross_entropy):
    """Gradient and Hessian of the loss at flat w by torch.func on the module itself."""
    names = [n for n, _ in model.named_parameters()]
    shapes = [p.shape for _, p in model.named_parameters()]
    sizes = [p.numel() for _, p in model.named_parameters()]

    def f(v):
        parts = dict(zip(names, (t.view(s) for t, s in zip(torch.split(v, sizes), shapes, strict=True)), strict=True))
        return loss(functional_call(model, parts, (X,)), y)

    return torch.func.grad(f)(w), hessian(f)(w)


@pytest.mark.parametrize("method", ["forward_over_reverse", "double_backward"])
def test_grad_hvp_matches_dense_hessian(rng, method):
    """Gradients and HVPs of the general path equal torch.func.hessian's dense matrix."""
    model = _net(0)
    X = torch.as_tensor(rng.standard_normal((25, 4)))
    y = torch.as_tensor(rng.integers(0, 3, 25))
    obj = ModuleObjective(model, X, y, hvp=method)
    W = torch.as_tensor(rng.standard_normal((3, obj.n_params)))
    V = torch.as_tensor(rng.standard_normal((3, 4, obj.n_params)))
    g, hv = obj.grad_hvp(W, V)
    for r in range(3):
        g_ref, H = _dense_reference(model, X, y, W[r])
        assert torch.allclose(g[r], g_ref, rtol=0, atol=1e-12)
        assert torch.allclose(hv[r], V[r] @ H, rtol=0, atol=1e-12)
    assert torch.allclose(obj.grad(W), g, rtol=0, atol=1e-14)


def test_chunked_accumulation_equals_full_batch(rng):
    """Chunks of 7 samples accumulate sum_b (n_b/n) f_b to the full-batch value."""
    model = _net(1)
    X, y = rng.standard_normal((30, 4)), rng.integers(0, 3, 30)
    full = ModuleObjective(model, X, y)
    chunked = ModuleObjective(model, X, y, chunk_size=7)
    W = torch.as_tensor(rng.standard_normal((2, full.n_params)))
    V = torch.as_tensor(rng.standard_normal((2, 3, full.n_params)))
    for a, b in zip(full.grad_hvp(W, V), chunked.grad_hvp(W, V), strict=True):
        assert torch.allclose(a, b, rtol=0, atol=1e-13)
    assert torch.allclose(full.loss(W), chunked.loss(W), rtol=0, atol=1e-14)
    idx = torch.tensor([3, 5, 8, 13, 21, 2, 1])
    ref = ModuleObjective(model, X[idx.numpy()], y[idx.numpy()])
    assert torch.allclose(chunked.grad(W, idx), ref.grad(W), rtol=0, atol=1e-14)


def test_mse_loss_uses_one_hot_targets_like_capture(rng):
    """'mse' with integer labels equals H1's mlp_loss (mean over all n*k entries)."""
    from graphtraj.capture.models import mlp_loss

    model = _net(2)
    X, y = rng.standard_normal((10, 4)), rng.integers(0, 3, 10)
    obj = ModuleObjective(model, X, y, loss="mse")
    w = torch.as_tensor(obj.initial_params())[None]
    with torch.no_grad():
        ref = mlp_loss({"sizes": [4, 6, 3], "loss": "mse"})(model(torch.as_tensor(X)), torch.as_tensor(y))
    assert abs(float(obj.loss(w)[0]) - float(ref)) < 1e-14


def test_callable_loss_and_float_targets(rng):
    """A callable loss with float targets gives the least-squares Hessian XᵀX/n."""
    X = rng.standard_normal((12, 3))
    obj = ModuleObjective(torch.nn.Linear(3, 1, bias=False), X, rng.standard_normal(12),
                          loss=lambda out, t: 0.5 * ((out[:, 0] - t) ** 2).mean())
    eye = torch.eye(3, dtype=torch.float64)[None]
    _, hv = obj.grad_hvp(torch.zeros(1, 3, dtype=torch.float64), eye)
    np.testing.assert_allclose(hv[0].numpy(), X.T @ X / 12, rtol=0, atol=1e-14)


def test_caller_model_untouched_and_frozen_params_constant(rng):
    """The caller's module is never run; frozen parameters are constants, not state."""
    model = _net(3)
    model[0].bias.requires_grad_(False)
    before = [p.detach().clone() for p in model.parameters()]
    obj = ModuleObjective(model, rng.standard_normal((8, 4)), rng.integers(0, 3, 8))
    assert obj.n_params == sum(p.numel() for p in model.parameters()) - 6
    assert "0.bias" not in obj.layout.names
    obj.grad(torch.zeros(1, obj.n_params, dtype=torch.float64))
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters(), strict=True))


def test_dropout_in_train_mode_is_unsupported(rng):
    """Active dropout makes the step random: UnsupportedModelError; eval mode is fine."""
    model = torch.nn.Sequential(torch.nn.Linear(4, 5), torch.nn.Dropout(0.5), torch.nn.Linear(5, 3))
    X, y = rng.standard_normal((6, 4)), rng.integers(0, 3, 6)
    with pytest.raises(UnsupportedModelError, match="dropout"):
        ModuleObjective(model, X, y)
    assert ModuleObjective(model, X, y, train_mode=False).n_params == 43


def test_batchnorm_rejects_chunking(rng):
    """Batch norm in training mode cannot be chunked (the batch statistics would change)."""
    model = torch.nn.Sequential(torch.nn.Linear(4, 5), torch.nn.BatchNorm1d(5), torch.nn.Linear(5, 3))
    X, y = rng.standard_normal((12, 4)), rng.integers(0, 3, 12)
    with pytest.raises(UnsupportedModelError, match="batch normalization"):
        ModuleObjective(model, X, y, chunk_size=4)
    assert ModuleObjective(model, X, y, chunk_size=4, train_mode=False).chunk_size == 4


def test_instance_norm_with_running_stats_is_unsupported(rng):
    """Other modules that update running statistics in training mode are refused."""
    model = torch.nn.Sequential(torch.nn.Unflatten(1, (1, 4)),
                                torch.nn.InstanceNorm1d(1, track_running_stats=True),
                                torch.nn.Flatten(), torch.nn.Linear(4, 3))
    with pytest.raises(UnsupportedModelError, match="running statistics"):
        ModuleObjective(model, rng.standard_normal((6, 4)), rng.integers(0, 3, 6))


def test_validation_errors(rng):
    """Every validation branch raises the documented error."""
    X, y = rng.standard_normal((6, 4)), rng.integers(0, 3, 6)
    model = _net(4)
    with pytest.raises(ValidationError, match="torch.nn.Module"):
        ModuleObjective("net", X, y)
    with pytest.raises(ValidationError, match="one row per sample"):
        ModuleObjective(model, np.ones(4), y)
    with pytest.raises(ValidationError, match="one entry per row"):
        ModuleObjective(model, X, y[:5])
    with pytest.raises(ValidationError, match="integer class labels"):
        ModuleObjective(model, X, rng.standard_normal(6))
    with pytest.raises(ValidationError, match="labels >= 0"):
        ModuleObjective(model, X, -np.ones(6, dtype=int))
    with pytest.raises(ValidationError, match="must fit the loss"):
        ModuleObjective(model, X, np.full(6, 7))
    with pytest.raises(ValidationError, match="scalar"):
        ModuleObjective(model, X, y, loss=lambda out, t: out.sum(1))
    with pytest.raises(ValidationError, match="finite"):
        ModuleObjective(model, np.full((6, 4), np.nan), y)
    with pytest.raises(UnknownOptionError, match="hvp"):
        ModuleObjective(model, X, y, hvp="reverse_over_reverse")
    with pytest.raises(UnknownOptionError, match="loss"):
        ModuleObjective(model, X, y, loss="hinge")
    with pytest.raises(ValidationError, match="chunk_size"):
        ModuleObjective(model, X, y, chunk_size=0)
    with pytest.raises(ValidationError, match="requires grad"):
        ModuleObjective(torch.nn.Flatten(), X, y)


def test_make_objective_dispatch(rng):
    """make_objective picks the general path by default and the fast path on request."""
    from graphtraj.capture.models import paper_mlp
    from graphtraj.dynamics import MLPObjective

    X, y = rng.standard_normal((9, 4)), rng.integers(0, 3, 9)
    net = paper_mlp(seed=0)
    general = make_objective(net, X, y)
    fast = make_objective(net, X, y, fast=True)
    assert isinstance(general, ModuleObjective) and isinstance(fast, MLPObjective)
    np.testing.assert_array_equal(fast.initial_params(), net.flat_parameters())
    from_spec = make_objective(net.spec, X, y)
    assert isinstance(from_spec, ModuleObjective) and from_spec.layout == net.layout
    with pytest.raises(ValidationError, match="must match the MLP spec"):
        make_objective(net, X, y, loss="mse")
    with pytest.raises(UnsupportedModelError, match="fast=True"):
        make_objective(_net(5), X, y, fast=True)


def test_target_dtypes_follow_the_loss(rng):
    """Integer targets stay integer, float targets stay float (0/1 regression with MSE)."""
    X = rng.standard_normal((6, 2))
    reg = ModuleObjective(torch.nn.Linear(2, 1), X, np.array([0.0, 1.0] * 3), loss="mse")
    assert reg.y.dtype == torch.float64
    lab = ModuleObjective(torch.nn.Linear(2, 2), X, np.array([0.0, 1.0] * 3))
    assert lab.y.dtype == torch.int64
    ce = ModuleObjective(torch.nn.Linear(2, 2), X, np.array([0, 1] * 3),
                         loss=lambda out, t: torch.nn.functional.cross_entropy(out, t))
    assert ce.y.dtype == torch.int64


def test_threads_sharing_a_module_objective_get_serial_results(rng):
    """Threads that share one general-path objective get the numbers of a serial run
    (functional_call swaps the module's parameters in place; the swap is serialized)."""
    import threading

    from graphtraj.capture import paper_mlp
    from graphtraj.datasets import load_iris
    from graphtraj.dynamics import make_objective

    X, y = load_iris()
    obj = make_objective(paper_mlp(seed=1), X, y)
    W = torch.as_tensor(rng.standard_normal((8, 2, 83)))
    V = torch.as_tensor(rng.standard_normal((8, 2, 3, 83)))
    serial = [obj.grad_hvp(W[i], V[i]) for i in range(8)]
    out = {}
    threads = [threading.Thread(target=lambda i=i: out.__setitem__(i, obj.grad_hvp(W[i], V[i])))
               for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for i in range(8):
        assert torch.equal(out[i][0], serial[i][0]) and torch.equal(out[i][1], serial[i][1])
