"""Tests of graphtraj.capture.models (the MLP family and the paper's network)."""

import numpy as np
import pytest
import scipy.stats
import torch

from graphtraj.capture.models import (
    MLP,
    as_torch_dtype,
    init_states,
    mlp_from_spec,
    mlp_loss,
    paper_mlp,
)
from graphtraj.exceptions import UnknownOptionError, ValidationError
from graphtraj.trajectory import ParamLayout


@pytest.mark.parametrize("sizes, bias", [([4, 10, 3], True), ([3, 5, 4, 2], False)])
def test_layout_round_trips_with_the_torch_module(rng, sizes, bias):
    """named_parameters order and shapes equal ParamLayout.for_mlp; the flat vector equals
    torch's parameters_to_vector; unflatten -> load_state_dict -> flatten is the identity."""
    net = MLP({"sizes": sizes, "bias": bias}, seed=0)
    layout = ParamLayout.for_mlp(sizes, bias=bias)
    assert [n for n, _ in net.named_parameters()] == list(layout.names)
    assert [tuple(p.shape) for p in net.parameters()] == list(layout.shapes)
    assert net.layout == layout
    vec = torch.nn.utils.parameters_to_vector(net.parameters()).detach().numpy()
    np.testing.assert_array_equal(net.flat_parameters(), vec)
    state = rng.normal(size=layout.size)
    other = MLP({"sizes": sizes, "bias": bias}, seed=1)
    other.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in layout.unflatten(state).items()})
    np.testing.assert_array_equal(other.flat_parameters(), state)
    np.testing.assert_array_equal(layout.flatten(
        {k: v.detach().numpy() for k, v in other.state_dict().items()}), state)
    net.load_flat(state)
    np.testing.assert_array_equal(net.flat_parameters(), state)


def test_forward_equals_a_numpy_forward(rng):
    """forward applies the activation after each hidden layer only (numpy oracle)."""
    net = MLP({"sizes": [4, 6, 5, 3], "activation": "tanh"}, seed=2)
    X = rng.normal(size=(7, 4))
    p = net.layout.unflatten(net.flat_parameters())
    h = np.tanh(X @ p["layers.0.weight"].T + p["layers.0.bias"])
    h = np.tanh(h @ p["layers.1.weight"].T + p["layers.1.bias"])
    out = h @ p["layers.2.weight"].T + p["layers.2.bias"]
    with torch.no_grad():
        np.testing.assert_allclose(net(torch.from_numpy(X)).numpy(), out, rtol=1e-12)


def test_paper_mlp_defaults():
    """paper_mlp: 4-10-3, sigmoid, cross-entropy, float64, 83 parameters (70 weights),
    biases 0, weights from N(0, 1) (Kolmogorov-Smirnov over 20 seeds, 1400 draws)."""
    net = paper_mlp(seed=0)
    assert net.spec == {"kind": "mlp", "sizes": [4, 10, 3], "activation": "sigmoid",
                        "loss": "cross_entropy", "bias": True}
    assert all(p.dtype == torch.float64 for p in net.parameters())
    assert isinstance(net.activation, torch.nn.Sigmoid)
    lay = net.layout
    assert (lay.size, int(lay.mask("weight").sum())) == (83, 70)
    flat = net.flat_parameters()
    assert np.all(flat[lay.mask("bias")] == 0)
    w = np.concatenate([paper_mlp(seed=s).flat_parameters()[lay.mask("weight")]
                        for s in range(20)])
    assert scipy.stats.kstest(w, "norm").pvalue > 1e-3


def test_paper_mlp_options_and_seeds():
    """weight_std scales the same draws, bias_init sets every bias, the seed reproduces,
    float32 is honoured and paper_mlp(seed=s) equals init_states(spec, 1, rng=s)."""
    a = paper_mlp(seed=5).flat_parameters()
    b = paper_mlp(seed=5, weight_std=0.5, bias_init=0.1).flat_parameters()
    lay = ParamLayout.for_mlp([4, 10, 3])
    w, bias = lay.mask("weight"), lay.mask("bias")
    np.testing.assert_allclose(b[w], 0.5 * a[w])
    assert np.all(b[bias] == 0.1)
    np.testing.assert_array_equal(a, paper_mlp(seed=5).flat_parameters())
    assert not np.array_equal(a, paper_mlp(seed=6).flat_parameters())
    np.testing.assert_array_equal(a, init_states({"sizes": [4, 10, 3]}, 1, rng=5)[0])
    net32 = paper_mlp(seed=5, dtype="float32", sizes=(4, 8, 8, 3), activation="relu")
    assert next(net32.parameters()).dtype == torch.float32
    assert net32.spec["sizes"] == [4, 8, 8, 3]


def test_construction_leaves_torch_global_rng_alone():
    """Building models draws from numpy's seeded generator, never torch's global RNG."""
    state = torch.get_rng_state()
    paper_mlp(seed=1)
    mlp_from_spec({"sizes": [2, 3, 2]}, seed=2)
    assert torch.equal(state, torch.get_rng_state())


def test_init_states_prefix_and_bias_independence():
    """Row i does not depend on n (one (n, P) block), biases do not change weights."""
    spec = {"sizes": [4, 10, 3]}
    a = init_states(spec, 2, rng=3)
    b = init_states(spec, 5, rng=3, bias_init=2.0)
    w = ParamLayout.for_mlp([4, 10, 3]).mask("weight")
    np.testing.assert_array_equal(a[:, w], b[:2, w])
    assert init_states(spec, 1, rng=0, weight_std=0.0)[0].max() == 0


def test_mlp_loss_matches_definitions(rng):
    """cross_entropy = mean(logsumexp - z_y); mse = mean over n k of (z - onehot)^2."""
    z = torch.from_numpy(rng.normal(size=(6, 3)))
    y = torch.tensor([0, 2, 1, 1, 0, 2])
    ce = mlp_loss({"sizes": [4, 3]})(z, y)
    zz = z.numpy()
    ref = np.mean(np.log(np.exp(zz).sum(1)) - zz[np.arange(6), y.numpy()])
    assert abs(float(ce) - ref) < 1e-14
    mse = mlp_loss({"sizes": [4, 3], "loss": "mse"})(z, y)
    onehot = np.eye(3)[y.numpy()]
    assert abs(float(mse) - np.mean((zz - onehot) ** 2)) < 1e-14
    net = paper_mlp(seed=0)
    assert torch.equal(net.loss(z, y), ce)


def test_as_torch_dtype_accepts_names_and_dtypes():
    """Strings, torch and numpy dtypes map to torch dtypes."""
    assert as_torch_dtype("float64") is torch.float64
    assert as_torch_dtype(torch.float32) is torch.float32
    assert as_torch_dtype(np.float32) is torch.float32


@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda: as_torch_dtype("int8"), ValidationError, r"`dtype` must be 'float64'"),
        (lambda: as_torch_dtype(torch.float16), ValidationError, r"`dtype` must be"),
        (lambda: paper_mlp(sizes="4-10-3"), ValidationError, r"`sizes` must be a sequence"),
        (lambda: paper_mlp(sizes=(4,)), ValidationError, r"`sizes\['sizes'\]` must list"),
        (lambda: paper_mlp(activation="gelu"), UnknownOptionError, r"`activation` must be one"),
        (lambda: paper_mlp(loss="nll"), UnknownOptionError, r"`loss` must be one of"),
        (lambda: paper_mlp(weight_std=-1.0), ValidationError, r"`weight_std` must be >= 0"),
        (lambda: paper_mlp(bias_init=float("nan")), ValidationError, r"`bias_init` must be finite"),
        (lambda: init_states({"sizes": [4, 3]}, 0), ValidationError, r"`n` must be >= 1"),
        (lambda: MLP({"sizes": [4, 3]}, state=np.zeros(5)), ValidationError,
         r"`state` must have shape \(15,\)"),
        (lambda: MLP({"sizes": [4, 3]}, state=np.full(15, np.inf)), ValidationError,
         r"`state` must contain only finite"),
        (lambda: paper_mlp(seed="x"), ValidationError, r"`rng` must be None"),
    ],
)
def test_validation(call, error, match):
    """Invalid model arguments raise our errors."""
    with pytest.raises(error, match=match):
        call()
