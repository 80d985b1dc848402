"""Tests of graphtraj.dynamics.mlp_hessian (the hand-derived MLP fast path)."""

import numpy as np
import pytest
import torch
from torch.func import grad, hessian

from graphtraj.capture.functional import batched_mlp_loss
from graphtraj.dynamics import MLPObjective, ModuleObjective, make_objective
from graphtraj.exceptions import UnsupportedModelError, ValidationError

SPECS = [
    {"sizes": [4, 10, 3], "activation": "sigmoid", "loss": "cross_entropy", "bias": True},
    {"sizes": [3, 5, 2], "activation": "tanh", "loss": "mse", "bias": True},
    {"sizes": [3, 4, 3], "activation": "relu", "loss": "cross_entropy", "bias": False},
    {"sizes": [3, 4], "activation": "sigmoid", "loss": "cross_entropy", "bias": True},
    {"sizes": [3, 2], "activation": "tanh", "loss": "mse", "bias": False},
]


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: "-".join(map(str, s["sizes"])) + s["activation"] + s["loss"])
def test_dense_hessian_matches_torch_func(rng, spec):
    """The hand-derived gradient and Hessian equal torch.func on H1's batched loss."""
    X = torch.as_tensor(rng.standard_normal((17, spec["sizes"][0])))
    y = torch.as_tensor(rng.integers(0, spec["sizes"][-1], 17))
    obj = MLPObjective(spec, X, y)
    W = torch.as_tensor(rng.standard_normal((2, obj.n_params)))
    H = obj.hessian(W)
    g = obj.grad(W)
    for r in range(2):
        f = lambda w: batched_mlp_loss(w, X, y, spec)  # noqa: E731
        assert torch.allclose(H[r], hessian(f)(W[r]), rtol=0, atol=1e-12)
        assert torch.allclose(g[r], grad(f)(W[r]), rtol=0, atol=1e-13)
    assert torch.allclose(obj.loss(W), batched_mlp_loss(W, X, y, spec), rtol=0, atol=1e-14)


def test_fast_path_agrees_with_general_path_on_paper_network(rng):
    """Fast path and general path give the same gradients and HVPs to 1e-10 (paper network)."""
    from graphtraj.capture.models import paper_mlp
    from graphtraj.datasets import load_iris

    X, y = load_iris()
    net = paper_mlp(seed=1)
    fast = make_objective(net, X, y, fast=True)
    general = make_objective(net, X, y)
    assert isinstance(general, ModuleObjective)
    W = torch.as_tensor(rng.standard_normal((3, 83)))
    V = torch.as_tensor(rng.standard_normal((3, 5, 83)))
    for a, b in zip(fast.grad_hvp(W, V), general.grad_hvp(W, V), strict=True):
        assert torch.allclose(a, b, rtol=0, atol=1e-10)


def test_chunks_and_batches(rng):
    """Chunked Hessians equal the full one; a mini-batch equals an objective on that batch."""
    spec = SPECS[0]
    X, y = rng.standard_normal((40, 4)), rng.integers(0, 3, 40)
    full, chunked = MLPObjective(spec, X, y), MLPObjective(spec, X, y, chunk_size=9)
    W = torch.as_tensor(rng.standard_normal((2, 83)))
    assert torch.allclose(full.hessian(W), chunked.hessian(W), rtol=0, atol=1e-14)
    idx = torch.tensor([0, 4, 9, 30, 31])
    sub = MLPObjective(spec, X[idx.numpy()], y[idx.numpy()])
    assert torch.allclose(full.hessian(W, idx), sub.hessian(W), rtol=0, atol=1e-14)


def test_automatic_chunk_bounds_memory(rng):
    """Without chunk_size, large data sets are split so a chunk's Jacobian stays bounded."""
    spec = {"sizes": [20, 60, 10]}
    obj = MLPObjective(spec, rng.standard_normal((5000, 20)), rng.integers(0, 10, 5000))
    assert obj.chunk_size is not None and obj.chunk_size * 10 * obj.n_params <= 2_000_000


def test_unsupported_and_invalid(rng):
    """More than one hidden layer, P > 4096 and malformed data are refused clearly."""
    X, y = rng.standard_normal((5, 3)), rng.integers(0, 2, 5)
    with pytest.raises(UnsupportedModelError, match="at most one hidden layer"):
        MLPObjective({"sizes": [3, 4, 4, 2]}, X, y)
    with pytest.raises(UnsupportedModelError, match="P <= 4096"):
        MLPObjective({"sizes": [3, 2000, 2]}, X, y)
    with pytest.raises(ValidationError, match=r"shape \(n, 4\)"):
        MLPObjective({"sizes": [4, 2]}, X, y)
    with pytest.raises(ValidationError, match="labels in"):
        MLPObjective({"sizes": [3, 2]}, X, np.full(5, 2))
    assert MLPObjective({"sizes": [3, 2]}, X, y).initial_params() is None


def test_softmax_shift_directions_are_neutral(rng):
    """Adding one vector to every output row (weights and bias) leaves cross-entropy
    unchanged: the 11 such directions of the paper network have H v = 0 and g·v = 0."""
    from graphtraj.trajectory import ParamLayout

    lay = ParamLayout.for_mlp([4, 10, 3])
    X, y = rng.standard_normal((30, 4)), rng.integers(0, 3, 30)
    w = torch.as_tensor(rng.standard_normal((1, 83)))
    V = np.zeros((11, 83))
    for j in range(11):
        block = np.zeros((3, 10))
        bias = np.zeros(3)
        if j < 10:
            block[:, j] = 1.0
        else:
            bias[:] = 1.0
        V[j, lay.slice("layers.1.weight")] = block.ravel()
        V[j, lay.slice("layers.1.bias")] = bias
    for obj in (MLPObjective(SPECS[0], X, y), make_objective({"sizes": [4, 10, 3]}, X, y)):
        g, hv = obj.grad_hvp(w, torch.as_tensor(V)[None])
        assert hv.abs().max() < 1e-14 and (torch.as_tensor(V) @ g[0]).abs().max() < 1e-15


def test_grouped_initial_conditions_give_the_same_hessian(rng, monkeypatch):
    """The kernel works on cache-sized groups of initial conditions; groups of one give
    the Hessians and gradients of a single pass (to rounding: BLAS may sum in another
    order for another batch size)."""
    from graphtraj.dynamics import mlp_hessian

    spec = SPECS[0]
    X, y = rng.standard_normal((30, 4)), rng.integers(0, 3, 30)
    obj = MLPObjective(spec, X, y)
    W = torch.as_tensor(rng.standard_normal((5, 83)))
    H, g = obj.hessian(W), obj.grad(W)
    monkeypatch.setattr(mlp_hessian, "_CACHE_BYTES", 1)
    assert torch.allclose(obj.hessian(W), H, rtol=0, atol=1e-14)
    assert torch.allclose(obj.grad(W), g, rtol=0, atol=1e-15)
    V = torch.as_tensor(rng.standard_normal((5, 2, 83)))
    g2, hv = obj.grad_hvp(W, V)
    assert torch.allclose(hv, torch.matmul(V, H), rtol=0, atol=1e-13)
    assert torch.allclose(g2, g, rtol=0, atol=1e-15)


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: "-".join(map(str, s["sizes"])) + s["activation"] + s["loss"])
def test_single_sample_chunks(rng, spec):
    """A chunk or mini-batch of one sample (batch size 1 SGD, a remainder chunk) gives
    the same Hessian as torch.func (broadcast products of one sample are not views)."""
    X = torch.as_tensor(rng.standard_normal((1, spec["sizes"][0])))
    y = torch.as_tensor(rng.integers(0, spec["sizes"][-1], 1))
    obj = MLPObjective(spec, X, y)
    W = torch.as_tensor(rng.standard_normal((3, obj.n_params)))
    H = obj.hessian(W)
    f = lambda w: batched_mlp_loss(w, X, y, spec)  # noqa: E731
    for r in range(3):
        assert torch.allclose(H[r], hessian(f)(W[r]), rtol=0, atol=1e-12)
    chunked = MLPObjective(spec, rng.standard_normal((8, spec["sizes"][0])),
                           rng.integers(0, spec["sizes"][-1], 8), chunk_size=7)
    whole = MLPObjective(spec, chunked.X, chunked.y)
    assert torch.allclose(chunked.hessian(W), whole.hessian(W), rtol=0, atol=1e-13)
