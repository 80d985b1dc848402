"""Tests of graphtraj.dynamics.tangent (finite-difference tangents, perturbation checks)."""

import numpy as np
import pytest
import torch

from graphtraj.dynamics import DifferentiableMap, finite_difference_tangent
from graphtraj.dynamics.tangent import check_perturbation
from graphtraj.exceptions import ValidationError


def _henon(x):
    return torch.stack([1 - 1.4 * x[0] ** 2 + x[1], 0.3 * x[0]])


def test_central_differences_match_the_jacobian(rng):
    """Central differences of the Hénon map equal its Jacobian to O(eps²)."""
    m = DifferentiableMap(_henon, 2)
    x = rng.uniform(-1, 1, 2)
    V = rng.standard_normal((3, 2))
    J = np.array([[-2.8 * x[0], 1.0], [0.3, 0.0]])
    fd = finite_difference_tangent(m, x, V, eps=1e-5)
    np.testing.assert_allclose(fd.numpy(), V @ J.T, rtol=0, atol=1e-9)


def test_zero_and_negative_eps_rejected():
    """C21: eps = 0 (identical states, log 0 downstream) and eps < 0 raise."""
    m = DifferentiableMap(_henon, 2)
    for eps in (0.0, -1e-6):
        with pytest.raises(ValidationError, match="must be > 0"):
            finite_difference_tangent(m, np.zeros(2), np.eye(2), eps=eps)


def test_eps_below_resolution_rejected_per_dtype():
    """C22: 1e-10 is below float32's resolution at |x| ~ 1 but fine in float64."""
    m32 = DifferentiableMap(_henon, 2, dtype="float32")
    with pytest.raises(ValidationError, match="float32 machine"):
        finite_difference_tangent(m32, np.ones(2), np.eye(2), eps=1e-10)
    m64 = DifferentiableMap(_henon, 2)
    assert finite_difference_tangent(m64, np.ones(2), np.eye(2), eps=1e-10).shape == (2, 2)
    assert check_perturbation(1e-13, np.zeros(3), np.float64) == 1e-13  # scale 1 for zeros
    with pytest.raises(ValidationError, match="floating dtype"):
        check_perturbation(1e-3, np.ones(2), "not-a-dtype")


def test_argument_errors():
    """Non-maps, batched states and bad t are refused."""
    m = DifferentiableMap(_henon, 2)
    with pytest.raises(ValidationError, match="StepMap"):
        finite_difference_tangent(_henon, np.zeros(2), np.eye(2))
    with pytest.raises(ValidationError, match="single state"):
        finite_difference_tangent(m, np.zeros((2, 2)), np.zeros((2, 1, 2)))
    with pytest.raises(ValidationError, match="`t`"):
        finite_difference_tangent(m, np.zeros(2), np.eye(2), t=-1)


def test_resolution_check_at_huge_state_sizes():
    """States beyond 1e154 (whose squares overflow) get the resolution floor of their own
    size: eps = 1e150 is accepted at |x| = 1e154, and the doubling map's tangent is 2 I."""
    fmap = DifferentiableMap(lambda x: 2 * x, 2)
    x = torch.tensor([1e154, 1e154], dtype=torch.float64)
    J = finite_difference_tangent(fmap, x, torch.eye(2, dtype=torch.float64), eps=1e150)
    assert torch.allclose(J, 2 * torch.eye(2, dtype=torch.float64), rtol=1e-12, atol=0)
    with pytest.raises(ValidationError, match="must be finite"):
        finite_difference_tangent(fmap, torch.tensor([np.inf, 1.0]), torch.eye(2), eps=1e-3)
