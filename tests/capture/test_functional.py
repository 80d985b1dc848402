"""Tests of graphtraj.capture.functional (batched, differentiable MLP forward and loss)."""

import math

import numpy as np
import pytest
import torch

from graphtraj.capture.functional import (
    batched_mlp_loss,
    batched_mlp_outputs,
    check_spec,
    n_params,
)
from graphtraj.capture.models import MLP, mlp_loss
from graphtraj.exceptions import UnknownOptionError, ValidationError

SPECS = [
    {"sizes": [4, 10, 3]},
    {"sizes": [3, 6, 5, 2], "activation": "tanh", "loss": "mse"},
    {"sizes": [3, 4, 3], "activation": "relu", "bias": False},
    {"sizes": [5, 2], "loss": "mse"},
]


@pytest.mark.parametrize("spec", SPECS)
def test_outputs_and_loss_equal_the_torch_module(rng, spec):
    """R networks evaluated at once equal the nn.Module forward and loss of each one."""
    spec = check_spec(spec)
    P = n_params(spec)
    flat = torch.from_numpy(rng.normal(size=(3, P)))
    X = rng.normal(size=(11, spec["sizes"][0]))
    y = rng.integers(0, spec["sizes"][-1], 11)
    out = batched_mlp_outputs(flat, X, spec)
    loss = batched_mlp_loss(flat, X, y, spec)
    assert out.shape == (3, 11, spec["sizes"][-1])
    for r in range(3):
        net = MLP(spec, state=flat[r].numpy())
        with torch.no_grad():
            ref = net(torch.from_numpy(X))
            ref_loss = mlp_loss(spec)(ref, torch.from_numpy(y))
        torch.testing.assert_close(out[r], ref, rtol=1e-13, atol=1e-13)
        torch.testing.assert_close(loss[r], ref_loss, rtol=1e-13, atol=1e-13)
        # 1-D flat gives one network
        torch.testing.assert_close(batched_mlp_outputs(flat[r], X, spec), out[r])
        torch.testing.assert_close(batched_mlp_loss(flat[r], X, y, spec), loss[r])


def test_zero_parameters_give_ln_k_and_known_mse():
    """All-zero parameters give logits 0: cross-entropy ln k, and MSE 1/k (one of the k
    entries per sample is (0 - 1)^2, the others 0)."""
    X = torch.ones(6, 4, dtype=torch.float64)
    y = torch.tensor([0, 1, 2, 0, 1, 2])
    flat = torch.zeros(2, 83, dtype=torch.float64)
    ce = batched_mlp_loss(flat, X, y, {"sizes": [4, 10, 3]})
    mse = batched_mlp_loss(flat, X, y, {"sizes": [4, 10, 3], "loss": "mse"})
    assert torch.allclose(ce, torch.full((2,), math.log(3), dtype=torch.float64))
    assert torch.allclose(mse, torch.full((2,), 1 / 3, dtype=torch.float64))


def test_gradient_equals_module_autograd(rng):
    """Autograd through the functional loss equals nn.Module backward of each network."""
    spec = check_spec({"sizes": [4, 7, 3], "activation": "tanh"})
    flat = torch.from_numpy(rng.normal(size=(2, n_params(spec)))).requires_grad_(True)
    X = rng.normal(size=(9, 4))
    y = rng.integers(0, 3, 9)
    batched_mlp_loss(flat, X, y, spec).sum().backward()
    for r in range(2):
        net = MLP(spec, state=flat[r].detach().numpy())
        mlp_loss(spec)(net(torch.from_numpy(X)), torch.from_numpy(y)).backward()
        g = torch.cat([p.grad.reshape(-1) for p in net.parameters()])
        torch.testing.assert_close(flat.grad[r], g, rtol=1e-12, atol=1e-14)


# torch.func.hessian/jacrev import a torch-internal helper that warns about jit.script
@pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated:DeprecationWarning")
def test_torch_func_transforms_work(rng):
    """torch.func.grad, vmap and hessian compose with the functional loss (for tangent
    maps): vmap of the 1-D loss equals the batched loss, the Hessian is symmetric and
    its product with v equals the JVP of the gradient."""
    spec = {"sizes": [3, 4, 2], "activation": "sigmoid"}
    P = n_params(spec)
    X = torch.from_numpy(rng.normal(size=(8, 3)))
    y = torch.from_numpy(rng.integers(0, 2, 8))
    flat = torch.from_numpy(rng.normal(size=(3, P)))

    def f(w):
        return batched_mlp_loss(w, X, y, spec)

    torch.testing.assert_close(torch.func.vmap(f)(flat), f(flat))
    H = torch.func.hessian(f)(flat[0])
    torch.testing.assert_close(H, H.T, rtol=1e-12, atol=1e-12)
    v = torch.from_numpy(rng.normal(size=P))
    _, hv = torch.func.jvp(torch.func.grad(f), (flat[0],), (v,))
    torch.testing.assert_close(hv, H @ v, rtol=1e-10, atol=1e-12)


def test_float_integer_labels_are_accepted(rng):
    """Integer-valued float labels are used as class labels."""
    flat = torch.from_numpy(rng.normal(size=(1, 83)))
    X = rng.normal(size=(3, 4))
    a = batched_mlp_loss(flat, X, np.array([0.0, 2.0, 1.0]), {"sizes": [4, 10, 3]})
    b = batched_mlp_loss(flat, X, np.array([0, 2, 1]), {"sizes": [4, 10, 3]})
    torch.testing.assert_close(a, b)


@pytest.mark.parametrize(
    "spec, error, match",
    [
        ([4, 10, 3], ValidationError, r"`spec` must be a model spec dict"),
        ({"kind": "cnn", "sizes": [4, 3]}, ValidationError, r"`spec\['kind'\]` must be 'mlp'"),
        ({"sizes": [4]}, ValidationError, r"at least two positive integer layer widths"),
        ({"sizes": [4, 0, 3]}, ValidationError, r"at least two positive integer"),
        ({"sizes": [4, 2.5, 3]}, ValidationError, r"at least two positive integer"),
        ({"sizes": None}, ValidationError, r"at least two positive integer"),
        ({"sizes": [4, 3], "activation": "gelu"}, UnknownOptionError, r"'sigmoid', 'tanh', 'relu'"),
        ({"sizes": [4, 3], "loss": "hinge"}, UnknownOptionError, r"'cross_entropy', 'mse'"),
        ({"sizes": [4, 3], "bias": 1}, ValidationError, r"`spec\['bias'\]` must be True or False"),
    ],
)
def test_check_spec_validation(spec, error, match):
    """Invalid specs raise our errors naming the offending key."""
    with pytest.raises(error, match=match):
        check_spec(spec)


@pytest.mark.parametrize(
    "flat, X, y, match",
    [
        (np.zeros((2, 83)), np.ones((3, 4)), [0, 1, 2], r"`flat` must be a torch.Tensor"),
        (torch.zeros(2, 83, dtype=torch.int64), np.ones((3, 4)), [0, 1, 2], r"floating-point"),
        (torch.zeros(2, 80), np.ones((3, 4)), [0, 1, 2], r"`flat` must have shape \(R, 83\)"),
        (torch.zeros(2, 2, 83), np.ones((3, 4)), [0, 1, 2], r"`flat` must have shape"),
        (torch.zeros(2, 83), np.ones((3, 5)), [0, 1, 2], r"`X` must have shape \(n, 4\)"),
        (torch.zeros(2, 83), np.ones((3, 4)), [0, 1], r"`y` must have shape \(3,\)"),
        (torch.zeros(2, 83), np.ones((3, 4)), [0, 1, 3], r"labels in \[0, 2\]"),
        (torch.zeros(2, 83), np.ones((3, 4)), [0, 1, -1], r"labels in \[0, 2\]"),
        (torch.zeros(2, 83), np.ones((3, 4)), [0.5, 1, 2], r"integer class labels"),
        (torch.zeros(2, 83), np.ones((3, 4)), [True, False, True], r"integer class labels"),
    ],
)
def test_input_validation(flat, X, y, match):
    """Bad parameter, input or label arrays raise ValidationError with the constraint."""
    with pytest.raises(ValidationError, match=match):
        batched_mlp_loss(flat, X, y, {"sizes": [4, 10, 3]})


def test_spec_with_a_misspelt_key_is_refused():
    """A misspelt spec key (``activaton``) is an error naming the key and the likely
    intended one, not silently a sigmoid network; train_ensemble refuses it too."""
    from graphtraj.capture import train_ensemble
    from graphtraj.exceptions import UnknownOptionError

    spec = {"kind": "mlp", "sizes": [4, 10, 3], "activaton": "relu", "los": "mse"}
    with pytest.raises(UnknownOptionError, match=r"'activaton' \(did you mean 'activation'\?\), "
                                                 r"'los' \(did you mean 'loss'\?\)"):
        check_spec(spec)
    x, y = np.zeros((6, 4)), np.arange(6) % 3
    with pytest.raises(UnknownOptionError, match="unknown keys"):
        train_ensemble(spec, x, y, lr=0.1, n_steps=2)
