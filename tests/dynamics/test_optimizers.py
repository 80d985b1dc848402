"""Tests of graphtraj.dynamics.optimizers (update rules of SGD, momentum, Adam)."""

import numpy as np
import pytest
import torch

from graphtraj.dynamics import AdamRule, ModuleObjective, SGDRule, update_rule
from graphtraj.dynamics.optimizers import rule_from_metadata
from graphtraj.exceptions import UnknownOptionError, UnsupportedModelError, ValidationError

CASES = [
    (torch.optim.SGD, {"lr": 0.3}),
    (torch.optim.SGD, {"lr": 0.3, "momentum": 0.8, "weight_decay": 0.01}),
    (torch.optim.SGD, {"lr": 0.3, "momentum": 0.8, "nesterov": True}),
    (torch.optim.Adam, {"lr": 0.05, "betas": (0.8, 0.99), "weight_decay": 0.02}),
    (torch.optim.AdamW, {"lr": 0.05, "weight_decay": 0.1}),
]


@pytest.mark.parametrize("cls,kw", CASES, ids=["gd", "momentum", "nesterov", "adam", "adamw"])
def test_rules_reproduce_torch_optim(rng, cls, kw):
    """Five steps of the rule equal five steps of the torch optimizer on the same model."""
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 2)).double()
    X = torch.as_tensor(rng.standard_normal((10, 3)))
    y = torch.as_tensor(rng.integers(0, 2, 10))
    obj = ModuleObjective(model, X, y)
    opt = cls(model.parameters(), **kw)
    rule = update_rule(opt)
    w = torch.as_tensor(obj.initial_params())[None]
    s = torch.zeros(1, rule.state_size(obj.n_params), dtype=torch.float64)
    for t in range(5):
        opt.zero_grad()
        torch.nn.functional.cross_entropy(model(X), y).backward()
        opt.step()
        w, s = rule.update(w, s, obj.grad(w), t)
    flat = torch.cat([p.detach().reshape(-1) for p in model.parameters()])
    assert torch.allclose(w[0], flat, rtol=0, atol=1e-13)


@pytest.mark.parametrize("rule", [SGDRule(lr=0.2, momentum=0.7), SGDRule(lr=0.2, momentum=0.7, nesterov=True),
                                  SGDRule(lr=0.2)], ids=["heavy-ball", "nesterov", "gd"])
def test_stability_threshold_is_where_the_quadratic_turns_unstable(rule):
    """At curvature a = threshold the linearized update on a w²/2 has spectral radius 1."""
    thr = rule.stability_threshold()
    S = rule.state_size(1)
    for a, above in ((thr * (1 - 1e-6), False), (thr * (1 + 1e-6), True)):
        w, s = torch.ones(1, 1, dtype=torch.float64), torch.zeros(1, S, dtype=torch.float64)
        basis = torch.eye(1 + S, dtype=torch.float64)[None]
        dw, ds = basis[:, :, :1], basis[:, :, 1:]
        jw, js = rule.tangent(w, s, a * w, 0, dw, ds, a * dw)
        J = torch.cat([jw, js], 2)[0].T.numpy()
        radius = np.abs(np.linalg.eigvals(J)).max()
        assert (radius > 1) == above and abs(radius - 1) < 1e-4


def test_adam_tangent_matches_finite_differences(rng):
    """Adam's tangent (by jvp) matches central differences of its update."""
    rule = AdamRule(lr=0.01, weight_decay=0.1)
    w, g = torch.as_tensor(rng.standard_normal((1, 4))), torch.as_tensor(rng.standard_normal((1, 4)))
    s = torch.as_tensor(np.abs(rng.standard_normal((1, 8))))
    d = torch.as_tensor(rng.standard_normal((1, 3, 16)))
    jw, js = rule.tangent(w, s, g, 3, d[:, :, :4], d[:, :, 4:12], d[:, :, 12:])
    eps = 1e-6
    for j in range(3):
        plus = rule.update(w + eps * d[:, j, :4], s + eps * d[:, j, 4:12], g + eps * d[:, j, 12:], 3)
        minus = rule.update(w - eps * d[:, j, :4], s - eps * d[:, j, 4:12], g - eps * d[:, j, 12:], 3)
        assert torch.allclose(jw[:, j], (plus[0] - minus[0]) / (2 * eps), atol=1e-7)
        assert torch.allclose(js[:, j], (plus[1] - minus[1]) / (2 * eps), atol=1e-7)


def test_to_dict_and_metadata_round_trip():
    """Rules describe themselves as JSON-able dicts and rebuild from run metadata."""
    rule = update_rule("sgd", lr=0.5, momentum=0.9)
    assert rule.to_dict() == {"name": "sgd", "lr": 0.5, "momentum": 0.9, "nesterov": False,
                              "weight_decay": 0.0}
    meta = {"name": "sgd", "lr": 0.5, "momentum": 0.9, "dampening": 0.0, "weight_decay": 0.0,
            "nesterov": False, "batch_size": None}
    assert rule_from_metadata(meta) == rule
    assert update_rule("adam", lr=1e-3).to_dict()["betas"] == [0.9, 0.999]
    assert update_rule(rule) is rule
    assert AdamRule(lr=0.1).stability_threshold() is None


def test_update_rule_errors():
    """Unknown or unsupported optimizers and options raise clear errors."""
    params = [torch.nn.Parameter(torch.zeros(2))]
    with pytest.raises(UnknownOptionError, match="optimizer"):
        update_rule("rmsprop", lr=0.1)
    with pytest.raises(ValidationError, match="`lr` must be given"):
        update_rule("sgd")
    with pytest.raises(ValidationError, match="lr"):
        update_rule("sgd", lr=-1.0)
    with pytest.raises(ValidationError, match="unknown 'beta'"):
        update_rule("adam", lr=0.1, beta=0.9)
    with pytest.raises(UnsupportedModelError, match="dampening"):
        update_rule("sgd", lr=0.1, momentum=0.9, dampening=0.1)
    with pytest.raises(UnsupportedModelError, match="amsgrad"):
        update_rule("adam", lr=0.1, amsgrad=True)
    with pytest.raises(UnsupportedModelError, match="maximize"):
        update_rule("sgd", lr=0.1, maximize=True)
    with pytest.raises(ValidationError, match="nesterov"):
        update_rule("sgd", lr=0.1, nesterov=True)
    with pytest.raises(ValidationError, match="momentum"):
        update_rule("sgd", lr=0.1, momentum=1.5)
    with pytest.raises(ValidationError, match="betas"):
        update_rule("adam", lr=0.1, betas=0.9)
    with pytest.raises(ValidationError, match=r"betas\[1\]"):
        update_rule("adam", lr=0.1, betas=(0.9, 1.0))
    with pytest.raises(UnsupportedModelError, match="RMSprop"):
        update_rule(torch.optim.RMSprop(params, lr=0.1))
    two = torch.optim.SGD([{"params": params[:1]}, {"params": [torch.nn.Parameter(torch.ones(1))]}], lr=0.1)
    with pytest.raises(UnsupportedModelError, match="single parameter group"):
        update_rule(two)
    with pytest.raises(ValidationError, match="must not be given"):
        update_rule(torch.optim.SGD(params, lr=0.1), lr=0.2)
    with pytest.raises(ValidationError, match="must not be given"):
        update_rule(SGDRule(lr=0.1), lr=0.2)
    with pytest.raises(ValidationError, match="metadata"):
        rule_from_metadata({"lr": 0.1})


@pytest.mark.parametrize("name,cls", [("sgd", torch.optim.SGD), ("adam", torch.optim.Adam),
                                      ("adamw", torch.optim.AdamW)])
def test_named_rules_take_torch_defaults(name, cls):
    """A rule given by name has the hyperparameter defaults of the torch optimizer of that
    name (AdamW decays weights by 0.01 unless told otherwise)."""
    model = torch.nn.Linear(2, 2)
    from_torch = update_rule(cls(model.parameters(), lr=0.05)).to_dict()
    assert update_rule(name, lr=0.05).to_dict() == from_torch
    assert update_rule("adamw", lr=0.05, weight_decay=0.0).to_dict()["weight_decay"] == 0.0
