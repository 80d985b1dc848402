"""Tests of graphtraj.dynamics.step_maps (training maps and generic maps)."""

import numpy as np
import pytest
import torch
from torch.func import jvp

from graphtraj.dynamics import (
    DifferentiableMap,
    TrainingMap,
    finite_difference_tangent,
    training_map,
)
from graphtraj.exceptions import ValidationError


def _model(seed=0):
    torch.manual_seed(seed)
    return torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 2)).double()


def _data(rng, n=16):
    return torch.as_tensor(rng.standard_normal((n, 3))), torch.as_tensor(rng.integers(0, 2, n))


OPTIMIZERS = [
    ("gd", {"optimizer": "sgd", "lr": 0.5}),
    ("sgd-replay", {"optimizer": "sgd", "lr": 0.5, "batches": "recorded"}),
    ("momentum", {"optimizer": "sgd", "lr": 0.2, "momentum": 0.9}),
    ("adam", {"optimizer": "adam", "lr": 0.05}),
]


def _admissible(tm, x, V):
    """Tangent directions that keep Adam's second moment >= 0 under ±eps perturbations."""
    if tm.rule.name.startswith("adam"):
        P = tm.n_params
        v = x[2 * P :]
        V = V.clone()
        V[:, 2 * P :] = V[:, 2 * P :].abs() * v  # relative perturbation of v
    return V


@pytest.mark.parametrize("name,kw", OPTIMIZERS, ids=[o[0] for o in OPTIMIZERS])
def test_tangent_matches_whole_step_jvp_and_finite_differences(rng, name, kw):
    """The tangent map equals jvp of the whole step and central differences of it."""
    X, y = _data(rng)
    kw = dict(kw)
    if kw.get("batches") == "recorded":
        kw["batches"] = np.stack([rng.permutation(16)[:5] for _ in range(6)])
    tm = training_map(_model(), X, y, **kw)
    x = torch.as_tensor(tm.initial_state())
    for t in range(3):
        x = tm.step(x, t)
    V = _admissible(tm, x, torch.as_tensor(rng.standard_normal((4, tm.dim))))
    x1, V1 = tm.step_tangent(x, V, 3)
    assert torch.allclose(x1, tm.step(x, 3), rtol=0, atol=1e-14)
    ref = torch.stack([jvp(lambda u: tm.step(u, 3), (x,), (v,))[1] for v in V])
    assert torch.allclose(V1, ref, rtol=0, atol=1e-12)
    fd = finite_difference_tangent(tm, x, V, eps=1e-6, t=3)
    assert torch.allclose(V1, fd, rtol=1e-6, atol=1e-7)


def test_paper_network_tangent_matches_finite_differences(rng):
    """On the paper network (Iris, η = 1) the tangent map matches central differences."""
    from graphtraj.capture.models import paper_mlp
    from graphtraj.datasets import load_iris

    X, y = load_iris()
    net = paper_mlp(seed=0)
    tm = training_map(net, X, y, lr=1.0)
    x = torch.as_tensor(tm.initial_state())
    V = torch.as_tensor(rng.standard_normal((3, 83)))
    V = V / V.norm(dim=1, keepdim=True)
    _, V1 = tm.step_tangent(x, V, 0)
    fd = finite_difference_tangent(tm, x, V, eps=1e-5)
    assert torch.allclose(V1, fd, rtol=0, atol=1e-8)
    fast = training_map(net, X, y, lr=1.0, fast=True)
    assert torch.allclose(fast.step_tangent(x, V, 0)[1], V1, rtol=0, atol=1e-10)


def test_gd_map_reproduces_torch_training_and_batches(rng):
    """Map steps equal torch.optim.SGD steps, full batch and with recorded mini-batches."""
    X, y = _data(rng)
    batches = [rng.permutation(16)[:6] for _ in range(4)]
    for b in (None, batches):
        model = _model(1)
        tm = training_map(model, X, y, lr=0.3, batches=b)
        x = torch.as_tensor(tm.initial_state())
        opt = torch.optim.SGD(model.parameters(), lr=0.3)
        for t in range(4):
            idx = slice(None) if b is None else torch.as_tensor(b[t])
            opt.zero_grad()
            torch.nn.functional.cross_entropy(model(X[idx]), y[idx]).backward()
            opt.step()
            x = tm.step(x, t)
        flat = torch.cat([p.detach().reshape(-1) for p in model.parameters()])
        assert torch.allclose(x, flat, rtol=0, atol=1e-14)
    assert tm.max_steps(0) == 4 and tm.max_steps(3) == 1
    with pytest.raises(ValidationError, match="within the recorded batches"):
        tm.step(x, 4)


def test_torch_optimizer_state_is_the_initial_state(rng):
    """A torch optimizer mid-training contributes its momentum buffer and step count."""
    X, y = _data(rng)
    model = _model(2)
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    for _ in range(2):
        opt.zero_grad()
        torch.nn.functional.cross_entropy(model(X), y).backward()
        opt.step()
    tm = training_map(model, X, y, optimizer=opt)
    assert tm.initial_step == 2 and tm.dim == 3 * tm.n_params
    x = torch.as_tensor(tm.initial_state())
    opt.zero_grad()
    torch.nn.functional.cross_entropy(model(X), y).backward()
    opt.step()
    flat = torch.cat([p.detach().reshape(-1) for p in model.parameters()])
    assert torch.allclose(tm.step(x, 2)[: tm.n_params], flat, rtol=0, atol=1e-14)
    with pytest.raises(ValidationError, match="exactly the model's trainable parameters"):
        training_map(_model(3), X, y, optimizer=opt)


def test_state_layout_and_initial_state(rng):
    """The full state is weights then optimizer blocks; initial_state broadcasts over R."""
    X, y = _data(rng)
    tm = training_map(_model(), X, y, lr=0.1, momentum=0.5)
    assert tm.state_layout.size == tm.dim == 2 * tm.n_params
    assert tm.state_layout.names[len(tm.layout.names)] == "momentum_buffer:0.weight"
    W = rng.standard_normal((3, tm.n_params))
    S = tm.initial_state(W)
    assert S.shape == (3, tm.dim) and np.all(S[:, tm.n_params :] == 0)
    np.testing.assert_array_equal(tm.weights(S), W)
    assert tm.loss(S).shape == (3,)
    assert tm.stability_threshold() == pytest.approx(3.0 / 0.1)
    assert tm.describe()["optimizer"]["momentum"] == 0.5
    with pytest.raises(ValidationError, match="weights"):
        tm.initial_state(np.zeros(5))
    with pytest.raises(ValidationError, match="initial_state"):
        TrainingMap(tm.objective, tm.rule, initial_state=np.zeros(3))


def test_training_map_validation(rng):
    """Malformed batches, shapes and arguments raise ValidationError."""
    X, y = _data(rng)
    model = _model()
    with pytest.raises(ValidationError, match="index samples"):
        training_map(model, X, y, lr=0.1, batches=[[0, 99]])
    with pytest.raises(ValidationError, match="integer array"):
        training_map(model, X, y, lr=0.1, batches=np.zeros((2, 3)))
    with pytest.raises(ValidationError, match="1-D integer"):
        training_map(model, X, y, lr=0.1, batches=[[0.5]])
    with pytest.raises(ValidationError, match="not be empty"):
        training_map(model, X, y, lr=0.1, batches=np.full((1, 2), -1))
    with pytest.raises(ValidationError, match="-1 pads short batches"):
        training_map(model, X, y, lr=0.1, batches=np.array([[0, -2]]))
    with pytest.raises(ValidationError, match="at least one batch"):
        training_map(model, X, y, lr=0.1, batches=[])
    with pytest.raises(ValidationError, match="must be None"):
        training_map(model, X, y, lr=0.1, batches="all")
    with pytest.raises(ValidationError, match="`X` and `y` must be given"):
        training_map(model, lr=0.1)
    tm = training_map(model, X, y, lr=0.1, batches=np.array([[0, 1, -1], [2, 3, 4]]))
    assert [b.tolist() for b in tm.batches] == [[0, 1], [2, 3, 4]]
    with pytest.raises(ValidationError, match="must not be given"):
        training_map(tm.objective, X, y, lr=0.1)
    with pytest.raises(ValidationError, match=r"shape \(R, 26\)"):
        tm.step(np.zeros((2, 5)))
    with pytest.raises(ValidationError, match="`V` must have shape"):
        tm.step_tangent(np.zeros(26), np.zeros((3, 5)))
    with pytest.raises(ValidationError, match="Objective"):
        TrainingMap("objective", tm.rule)
    with pytest.raises(ValidationError, match="UpdateRule"):
        TrainingMap(tm.objective, "sgd")


def _henon(x):
    return torch.stack([1 - 1.4 * x[..., 0] ** 2 + x[..., 1], 0.3 * x[..., 0]], -1)


def test_differentiable_map_vectorized_equals_vmap(rng):
    """vectorized=True and the vmap path give identical states and tangents."""
    x = torch.as_tensor(rng.uniform(-0.5, 0.5, (5, 2)))
    V = torch.as_tensor(rng.standard_normal((5, 3, 2)))
    a = DifferentiableMap(_henon, 2).step_tangent(x, V)
    b = DifferentiableMap(_henon, 2, vectorized=True).step_tangent(x, V)
    for u, v in zip(a, b, strict=True):
        assert torch.equal(u, v)
    J = torch.stack([torch.stack([-2.8 * x[:, 0], torch.ones(5, dtype=torch.float64)], 1),
                     torch.stack([torch.full((5,), 0.3, dtype=torch.float64), torch.zeros(5, dtype=torch.float64)], 1)], 1)
    assert torch.allclose(a[1], V @ J.transpose(1, 2), rtol=0, atol=1e-15)
    m = DifferentiableMap(_henon, 2, vectorized=True)
    assert torch.equal(m.step_tangent(x, V[:, :0])[0], m.step(x))


def test_differentiable_map_time_dependent_and_errors():
    """Time-dependent maps get t; bad functions raise ValidationError, not torch errors."""
    m = DifferentiableMap(lambda x, t: x * (t + 1.0), 1, time_dependent=True)
    assert float(m.step(torch.ones(1), 4)[0]) == 5.0
    assert float(m.step_tangent(torch.ones(1), torch.ones(1, 1), 2)[1][0, 0]) == 3.0
    assert m.describe()["time_dependent"] is True
    with pytest.raises(ValidationError, match="callable"):
        DifferentiableMap(3, 1)
    with pytest.raises(ValidationError, match="dim"):
        DifferentiableMap(lambda x: x, 0)
    with pytest.raises(ValidationError, match=r"shape \(2,\)"):
        DifferentiableMap(lambda x: x[:1], 2).step(torch.ones(2))
    with pytest.raises(ValidationError, match="vmap and jvp"):
        DifferentiableMap(lambda x: x * float(x[0].item()), 1).step_tangent(torch.ones(1), torch.ones(1, 1))
    with pytest.raises(ValidationError, match="when vectorized=True"):
        DifferentiableMap(lambda x: x[:1], 1, vectorized=True).step_tangent(torch.ones(2, 1), torch.ones(2, 1, 1))


def test_step_index_defaults_to_the_maps_initial_step(rng):
    """Without `t`, a step is taken at the map's initial step (a resumed Adam optimizer
    continues its bias correction); looping with explicit `t` reproduces torch.optim."""
    X, y = _data(rng)
    model = _model()
    opt = torch.optim.Adam(model.parameters(), lr=0.05)
    for _ in range(3):
        opt.zero_grad()
        torch.nn.functional.cross_entropy(model(X), y).backward()
        opt.step()
    tm = training_map(model, X, y, optimizer=opt)
    assert tm.initial_step == 3
    x = tm.initial_state()
    assert torch.equal(tm.step(x), tm.step(x, 3))
    for t in range(3, 6):
        x = tm.step(x, t)
        opt.zero_grad()
        torch.nn.functional.cross_entropy(model(X), y).backward()
        opt.step()
    flat = torch.cat([p.detach().reshape(-1) for p in model.parameters()])
    assert torch.allclose(tm.weights(x), flat, rtol=0, atol=1e-13)
    with pytest.raises(ValidationError, match="`t` must be >= 0"):
        tm.step(x, -1)


def test_generic_map_input_and_output_checks():
    """Non-numeric or complex states, non-float outputs and k = 0 tangent vectors get
    clear answers instead of torch errors."""
    henon = DifferentiableMap(lambda x: torch.stack([1 - 1.4 * x[0] ** 2 + x[1], 0.3 * x[0]]), 2)
    for bad in ("ab", [None, 1.0], np.array([1j, 1.0])):
        with pytest.raises(ValidationError, match="`x` must be a real-valued"):
            henon.step(bad)
    with pytest.raises(ValidationError, match="got \\(2, 3\\)"):
        henon.step_tangent([0.1, 0.1], np.ones((2, 3)))
    x1, V1 = henon.step_tangent([0.1, 0.1], np.ones((0, 2)))
    assert tuple(V1.shape) == (0, 2) and torch.allclose(x1, henon.step([0.1, 0.1]))
    for fn in (lambda x: x.long(), lambda x: x.to(torch.complex128)):
        with pytest.raises(ValidationError, match="real floating-point tensor"):
            DifferentiableMap(fn, 2).step([1.0, 2.0])


def test_several_parameter_groups_are_named_as_the_problem(rng):
    """An optimizer with two parameter groups (covering every parameter in order) is
    refused for its groups, not for its parameters."""
    from graphtraj.exceptions import UnsupportedModelError

    X, y = _data(rng)
    model = _model()
    params = list(model.parameters())
    opt = torch.optim.SGD([{"params": params[:1]}, {"params": params[1:]}], lr=0.1)
    with pytest.raises(UnsupportedModelError, match="single parameter group"):
        training_map(model, X, y, optimizer=opt)
