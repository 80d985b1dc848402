"""Tests of graphtraj.capture.perturbation (perturb_states, min_eps; field case C22)."""

import numpy as np
import pytest

from graphtraj.capture.perturbation import min_eps, perturb_states
from graphtraj.exceptions import UnknownOptionError, ValidationError
from graphtraj.trajectory import ParamLayout

LAYOUT = ParamLayout.for_mlp([4, 10, 3])


def test_uniform_l1_size_on_70_weights_averages_35_eps(rng):
    """E||delta||_1 = 70 * eps/2 = 35 eps for U(-eps, eps) on the 70 weights. Each |U| has
    SD eps/sqrt(12), the sum SD sqrt(70/12) eps = 2.42 eps; over 2000 draws the SE is
    0.054 eps, so |mean - 35 eps| < 0.3 eps is a > 5 SE band."""
    eps = 1e-8
    base = rng.normal(size=(2000, LAYOUT.size))
    out = perturb_states(base, LAYOUT, eps=eps, rng=rng)
    d = np.abs(out - base)
    assert abs(d.sum(1).mean() / eps - 35.0) < 0.3
    assert np.all(d[:, LAYOUT.mask("bias")] == 0)
    assert d.max() <= eps * (1 + 1e-6)


def test_gaussian_and_all_target_sizes(rng):
    """Gaussian kind: E|delta| = eps sqrt(2/pi) per entry; target='all' perturbs all 83
    parameters (L1 mean 83 eps/2 for the uniform kind). SE bands as above (<= 5 SE)."""
    eps = 1e-6
    base = rng.normal(size=(2000, LAYOUT.size))
    g = np.abs(perturb_states(base, LAYOUT, eps=eps, kind="gaussian", rng=rng) - base)
    # per draw SD of the sum: sqrt(70 (1 - 2/pi)) eps = 5.0 eps; SE 0.11 eps
    assert abs(g.sum(1).mean() / eps - 70 * np.sqrt(2 / np.pi)) < 0.6
    u = np.abs(perturb_states(base, LAYOUT, eps=eps, target="all", rng=rng) - base)
    assert np.all(u > 0)
    assert abs(u.sum(1).mean() / eps - 41.5) < 0.35


def test_same_seed_same_perturbation_and_1d_input():
    """The rng seed fixes the draw; a single (P,) state is accepted."""
    base = np.ones(LAYOUT.size)
    a = perturb_states(base, LAYOUT, eps=1e-6, rng=4)
    b = perturb_states(base, LAYOUT, eps=1e-6, rng=4)
    np.testing.assert_array_equal(a, b)
    assert a.shape == (LAYOUT.size,)


def test_c22_rejects_eps_below_the_dtype_resolution():
    """Field case C22: in float32 1 + 1e-8 == 1, so eps=1e-8 on O(1) weights is rejected
    (floor 100 * 1.19e-7); float64 accepts it; the floor scales with the weights."""
    base = np.ones((3, LAYOUT.size))
    with pytest.raises(ValidationError, match=r"`eps` must be >= 1.19e-05 .*float32.*float64"):
        perturb_states(base, LAYOUT, eps=1e-8, dtype="float32")
    out = perturb_states(base, LAYOUT, eps=2e-5, dtype="float32", rng=0)
    assert out.dtype == np.float32 and np.any(out != 1.0)
    assert perturb_states(base, LAYOUT, eps=1e-8, rng=0).dtype == np.float64
    with pytest.raises(ValidationError, match=r"`eps` must be >= 2.22e-14"):
        perturb_states(base, LAYOUT, eps=1e-15)
    with pytest.raises(ValidationError, match=r"parameter scale 1e\+06"):
        perturb_states(base * 1e6, LAYOUT, eps=1e-9)
    # all-zero targets: scale 1
    perturb_states(np.zeros((1, LAYOUT.size)), LAYOUT, eps=1e-12, rng=0)


def test_min_eps_formula():
    """min_eps = 100 * finfo(dtype).eps * scale."""
    assert min_eps(2.0, "float64") == 100 * np.finfo(np.float64).eps * 2.0
    assert min_eps(1.0, "torch.float32") == 100 * float(np.finfo(np.float32).eps)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (dict(layout="not a layout"), ValidationError, r"`layout` must be a ParamLayout"),
        (dict(states=np.ones((2, 80))), ValidationError, r"last dimension P = 83"),
        (dict(states=np.ones((2, 2, 83))), ValidationError, r"`states` must be 1-D or 2-D"),
        (dict(states=np.full((2, 83), np.nan)), ValidationError, r"only finite"),
        (dict(eps=0.0), ValidationError, r"`eps` must be > 0"),
        (dict(eps=-1e-3), ValidationError, r"`eps` must be > 0"),
        (dict(kind="cauchy"), UnknownOptionError, r"`kind` must be one of 'uniform', 'gaussian'"),
        (dict(target="biases"), UnknownOptionError, r"`target` must be one of 'weights', 'all'"),
        (dict(dtype="float16"), ValidationError, r"`dtype` must be 'float64' or 'float32'"),
        (dict(rng="seed"), ValidationError, r"`rng` must be None"),
        (dict(layout=ParamLayout(["b"], [(3,)], ["bias"]), states=np.ones(3)), ValidationError,
         r"`target` must select at least one parameter"),
    ],
)
def test_validation(kwargs, error, match):
    """Every invalid argument raises our error with the constraint in the message."""
    args = dict(states=np.ones((2, 83)), layout=LAYOUT, eps=1e-6)
    args.update(kwargs)
    with pytest.raises(error, match=match):
        perturb_states(args.pop("states"), args.pop("layout"), **args)
