"""Tests of graphtraj.capture.ensemble (train_ensemble, the batched lockstep trainer)."""

import itertools
import json
import warnings

import numpy as np
import pytest
import torch

from graphtraj.capture.ensemble import OBSERVABLES, _Engine, train_ensemble
from graphtraj.capture.functional import batched_mlp_loss, batched_mlp_outputs, check_spec
from graphtraj.capture.models import MLP, init_states, mlp_loss, paper_mlp
from graphtraj.capture.recorder import IndexSampler
from graphtraj.datasets import load_iris
from graphtraj.exceptions import UnknownOptionError, ValidationError
from graphtraj.trajectory import Ensemble, ParamLayout

PAPER = {"kind": "mlp", "sizes": [4, 10, 3], "activation": "sigmoid",
         "loss": "cross_entropy", "bias": True}


@pytest.fixture(autouse=True)
def _one_torch_thread():
    """Small tensors: one intra-op thread avoids OpenMP contention on a busy machine."""
    prev = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(prev)


@pytest.fixture(scope="module")
def iris():
    return load_iris()


def torch_loop(spec, init, X, y, *, lr, n_steps, momentum=0.0, batch_size=None,
               sampler_seed=None, dtype=torch.float64):
    """A plain single-network nn.Module + torch.optim.SGD loop: states and losses."""
    net = MLP(spec, dtype=dtype, state=init)
    opt = torch.optim.SGD(net.parameters(), lr=lr, momentum=momentum)
    lossf = mlp_loss(spec)
    Xt = torch.as_tensor(X, dtype=dtype)
    yt = torch.as_tensor(y)
    batches = None
    if batch_size is not None:
        sampler = IndexSampler(len(y), batch_size, seed=sampler_seed)
        batches = itertools.chain.from_iterable(iter(sampler) for _ in itertools.count())
    states, losses = [net.flat_parameters()], []
    for _ in range(n_steps):
        with torch.no_grad():
            losses.append(float(lossf(net(Xt), yt)))
        idx = slice(None) if batches is None else torch.from_numpy(next(batches))
        loss = lossf(net(Xt[idx]), yt[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
        states.append(net.flat_parameters())
    with torch.no_grad():
        losses.append(float(lossf(net(Xt), yt)))
    return np.array(states), np.array(losses)


def assert_close(a, b, tol=1e-12):
    """|a - b| <= tol * max(1, |b|) elementwise (absolute for O(1) values)."""
    err = np.abs(np.asarray(a) - np.asarray(b)) / np.maximum(1.0, np.abs(b))
    assert np.max(err) < tol, f"max scaled error {np.max(err):.3g}"


# ------------------------------------------------------------ torch-loop oracles
def test_matches_torch_loop_low_lr_1000_steps(iris):
    """The batched trainer equals nn.Module + torch.optim.SGD to 1e-12 at eta=0.01 over
    1000 full-batch steps on Iris (float64), for a replica inside a larger ensemble."""
    X, y = iris
    ens = train_ensemble(PAPER, X, y, lr=0.01, n_steps=1000, n_inits=3, seed=4,
                         record_every=100)
    states, losses = torch_loop(PAPER, ens.states[1, 0], X, y, lr=0.01, n_steps=1000)
    assert_close(ens.states[1], states[::100])
    assert_close(ens.observables["loss"][1], losses)


def test_matches_torch_loop_edge_of_stability_20_steps(iris):
    """At eta=1 (the chaotic edge-of-stability regime) the trainer equals the torch loop
    to 1e-12 over 20 steps for every replica."""
    X, y = iris
    ens = train_ensemble(PAPER, X, y, lr=1.0, n_steps=20, n_inits=3, seed=1,
                         record_every=1)
    for r in range(3):
        states, losses = torch_loop(PAPER, ens.states[r, 0], X, y, lr=1.0, n_steps=20)
        assert_close(ens.states[r], states)
        assert_close(ens.observables["loss"][r], losses)


@pytest.mark.parametrize(
    "spec, momentum, batch_size",
    [
        ({"sizes": [4, 6, 3], "activation": "tanh", "loss": "mse"}, 0.9, 16),
        ({"sizes": [4, 6, 3], "activation": "relu", "loss": "cross_entropy"}, 0.5, 32),
        ({"sizes": [4, 5, 4, 3], "activation": "sigmoid", "loss": "cross_entropy"}, 0.9, None),
        ({"sizes": [4, 3], "activation": "sigmoid", "loss": "mse", "bias": False}, 0.0, 50),
    ],
)
def test_momentum_and_minibatch_match_torch_sgd(iris, spec, momentum, batch_size):
    """Momentum (torch.optim.SGD semantics) and mini-batch SGD with the seeded
    IndexSampler order equal the torch loop to 1e-12 over 80 steps."""
    X, y = iris
    ens = train_ensemble(spec, X, y, lr=0.05, n_steps=80, n_inits=2, seed=7,
                         momentum=momentum, batch_size=batch_size, record_every=20)
    for r in range(2):
        states, losses = torch_loop(spec, ens.states[r, 0], X, y, lr=0.05, n_steps=80,
                                    momentum=momentum, batch_size=batch_size,
                                    sampler_seed=[7, 2])
        assert_close(ens.states[r], states[::20])
        assert_close(ens.observables["loss"][r], losses)


@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "relu"])
@pytest.mark.parametrize("loss", ["cross_entropy", "mse"])
@pytest.mark.parametrize("bias", [True, False])
def test_hand_backward_equals_autograd(rng, activation, loss, bias):
    """The hand-derived batched gradient equals torch.func.grad of the functional loss."""
    spec = check_spec({"sizes": [3, 5, 4, 3], "activation": activation, "loss": loss,
                       "bias": bias})
    P = ParamLayout.for_mlp(spec["sizes"], bias=bias).size
    flat = rng.normal(size=(4, P))
    X = rng.normal(size=(17, 3))
    y = rng.integers(0, 3, 17)
    eng = _Engine(spec, flat, torch.from_numpy(X), torch.from_numpy(y), torch.float64, 0.0)
    loss_hand, grad_hand = eng.full_gradient()
    ft = torch.from_numpy(flat)
    grad_auto = torch.func.grad(lambda f: batched_mlp_loss(f, X, y, spec).sum())(ft)
    np.testing.assert_allclose(grad_hand, grad_auto.numpy(), rtol=1e-11, atol=1e-13)
    np.testing.assert_allclose(loss_hand, batched_mlp_loss(ft, X, y, spec).numpy(),
                               rtol=1e-13)


def test_cache_blocking_does_not_change_results(iris, monkeypatch):
    """Evaluating the replicas in chunks (here one or three replicas per chunk) gives the
    same trajectories as one chunk for all, in full-batch and mini-batch mode."""
    import graphtraj.capture.ensemble as ens_mod

    X, y = iris
    kw = dict(lr=0.5, n_steps=15, n_inits=3, n_perturb=2, eps=1e-6, seed=2, record_every=5)
    whole = [train_ensemble(PAPER, X, y, batch_size=b, **kw) for b in (None, 32)]
    for per_chunk in (1, 3):
        monkeypatch.setattr(ens_mod, "CHUNK_BYTES", per_chunk * 10 * 120 * 8)
        for b, ref in zip((None, 32), whole, strict=True):
            part = train_ensemble(PAPER, X, y, batch_size=b, **kw)
            np.testing.assert_allclose(part.states, ref.states, rtol=0, atol=1e-13)
            for name in OBSERVABLES:  # distances are differences of O(1) states
                np.testing.assert_allclose(part.observables[name], ref.observables[name],
                                           rtol=1e-12, atol=1e-13)


# -------------------------------------------------------------- observables
def test_observables_match_recorded_states(rng):
    """loss, accuracy and distances streamed every step equal the same quantities
    recomputed from the recorded states (functional loss, argmax, norms)."""
    X = rng.normal(size=(40, 4))
    y = rng.integers(0, 3, 40)
    ens = train_ensemble(PAPER, X, y, lr=0.5, n_steps=30, n_inits=2, n_perturb=2,
                         eps=1e-6, seed=3, record_every=10, record_steps=[3])
    assert ens.times.tolist() == [0, 3, 10, 20, 30]
    cols = ens.times
    states = ens.states
    flat = torch.from_numpy(states.reshape(-1, 83))
    loss = batched_mlp_loss(flat, X, y, PAPER).numpy().reshape(6, -1)
    np.testing.assert_allclose(ens.observables["loss"][:, cols], loss, rtol=1e-12)
    out = batched_mlp_outputs(flat, X, PAPER).numpy().reshape(6, len(cols), 40, 3)
    acc = (out.argmax(-1) == y).mean(-1)
    np.testing.assert_array_equal(ens.observables["accuracy"][:, cols], acc)
    ref = states[ens.reference]
    np.testing.assert_allclose(ens.observables["dist_l1"][:, cols],
                               np.abs(states - ref).sum(-1), rtol=1e-10, atol=1e-300)
    np.testing.assert_allclose(ens.observables["dist_l2"][:, cols],
                               np.sqrt(((states - ref) ** 2).sum(-1)), rtol=1e-10, atol=1e-300)
    assert np.all(ens.observables["dist_l1"][ens.reference_indices()] == 0)


def test_initial_distance_of_uniform_perturbations_is_35_eps(iris):
    """d(0) (L1) of U(-eps, eps) perturbations of the 70 weights averages 35 eps; with 400
    copies the standard error is sqrt(70/12)/20 eps = 0.12 eps, so 0.6 eps is 5 SE."""
    X, y = iris
    eps = 1e-8
    ens = train_ensemble(PAPER, X, y, lr=0.01, n_steps=0, n_inits=4, n_perturb=100,
                         eps=eps, seed=11)
    copies = ens.reference != np.arange(ens.n_replicas)
    d0 = ens.observables["dist_l1"][copies, 0]
    assert abs(d0.mean() / eps - 35.0) < 0.6
    # E||delta||_2^2 = 70 eps^2/3; Var = 70 (1/5 - 1/9) eps^4 = 6.2 eps^4, so the SE of
    # the mean over 400 copies is 0.125 eps^2 and 0.6 eps^2 is ~5 SE.
    m2 = np.mean(ens.observables["dist_l2"][copies, 0] ** 2) / eps**2
    assert abs(m2 - 70 / 3) < 0.6


def test_perturb_at_makes_copies_of_the_reference_state(iris):
    """Before t0 the copies equal their reference exactly (d = 0); the reference itself
    follows the unperturbed run; at t0 the copies are eps-close; the momentum buffer is
    inherited (a reset buffer would throw the copy far away at t0 + 1)."""
    X, y = iris
    kw = dict(lr=0.01, n_steps=60, n_inits=2, seed=5, momentum=0.9, record_every=10)
    ens = train_ensemble(PAPER, X, y, n_perturb=2, eps=1e-8, perturb_at=30, **kw)
    plain = train_ensemble(PAPER, X, y, **kw)
    before = ens.times < 30
    np.testing.assert_array_equal(ens.states[:, before], ens.states[ens.reference][:, before])
    assert np.all(ens.observables["dist_l1"][:, :30] == 0)
    refs = ens.reference_indices()
    np.testing.assert_allclose(ens.states[refs], plain.states, rtol=0, atol=1e-12)
    copies = np.setdiff1d(np.arange(6), refs)
    d = ens.observables["dist_l1"][copies]
    assert np.all((d[:, 30] > 5e-8) & (d[:, 30] < 7e-7))
    assert np.all(d[:, 31] < 10 * d[:, 30])
    assert ens.metadata["perturbation"] == {"kind": "uniform", "eps": 1e-8,
                                            "target": "weights", "t0": 30}


def test_edge_of_stability_perturbations_grow(iris):
    """At eta=1 perturbations of size 1e-8 grow by orders of magnitude within 200 steps
    (positive finite-time exponent, as the paper reports), at eta=0.01 they do not."""
    X, y = iris
    growth = {}
    for lr in (0.01, 1.0):
        ens = train_ensemble(PAPER, X, y, lr=lr, n_steps=200, n_inits=2, n_perturb=3,
                             seed=0, observe=("dist_l1",))
        d = ens.observables["dist_l1"][ens.reference != np.arange(8)]
        growth[lr] = np.mean(d[:, -1]) / np.mean(d[:, 0])
    assert growth[1.0] > 100
    assert growth[0.01] < 5


# --------------------------------------------------------------- divergence
def test_diverging_replicas_are_frozen_and_others_unaffected(iris):
    """With a large learning rate the two large-weight replicas blow up: they get
    diverged_at, NaN observables from then on, finite frozen states and no warnings;
    the others equal a run without the diverging replicas."""
    X, y = load_iris(standardize=True)
    spec = {"sizes": [4, 8, 3], "activation": "relu", "loss": "mse", "bias": False}
    inits = init_states(spec, 6, rng=3) * 0.3
    inits[[1, 4]] *= 30
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ens = train_ensemble(spec, X, y, lr=0.05, n_steps=60, inits=inits, record_every=5)
    bad = np.array([1, 4])
    good = np.array([0, 2, 3, 5])
    assert np.all(ens.diverged_at[bad] > 0)
    assert np.all(ens.diverged_at[good] == -1)
    for r in bad:
        t = ens.diverged_at[r]
        assert np.all(np.isnan(ens.observables["loss"][r, t:]))
        assert np.all(~np.isnan(ens.observables["loss"][r, :t]))
    assert np.all(np.isfinite(ens.states))
    last = ens.states[bad[0], -1]
    np.testing.assert_array_equal(ens.states[bad[0], -2], last)  # frozen
    alone = train_ensemble(spec, X, y, lr=0.05, n_steps=60, inits=inits[good], record_every=5)
    np.testing.assert_allclose(ens.states[good], alone.states, rtol=1e-12, atol=1e-14)
    for name in OBSERVABLES:
        np.testing.assert_allclose(ens.observables[name][good], alone.observables[name],
                                   rtol=1e-12, atol=1e-14)


def test_diverged_reference_makes_copy_distances_nan(iris):
    """A diverged reference makes its copies' distances NaN from that step on."""
    X, y = load_iris(standardize=True)
    spec = {"sizes": [4, 8, 3], "activation": "relu", "loss": "mse", "bias": False}
    inits = init_states(spec, 1, rng=3) * 9.0
    ens = train_ensemble(spec, X, y, lr=0.05, n_steps=40, inits=inits, n_perturb=2,
                         eps=1e-6)
    t = ens.diverged_at[0]
    assert t > 0
    assert np.all(np.isnan(ens.observables["dist_l1"][1:, t:]))


# ----------------------------------------------------- seeds, dtypes, metadata
def test_same_seed_same_numbers_and_paper_mlp_init(iris):
    """The same seed gives identical ensembles, another seed different ones; replica 0's
    initial state is paper_mlp(seed=seed)'s."""
    X, y = iris
    kw = dict(lr=0.1, n_steps=10, n_inits=2, n_perturb=1, record_every=10, batch_size=30)
    a = train_ensemble(PAPER, X, y, seed=9, **kw)
    b = train_ensemble(PAPER, X, y, seed=9, **kw)
    c = train_ensemble(PAPER, X, y, seed=10, **kw)
    np.testing.assert_array_equal(a.states, b.states)
    for name in OBSERVABLES:
        np.testing.assert_array_equal(a.observables[name], b.observables[name])
    assert not np.allclose(a.states, c.states)
    np.testing.assert_array_equal(a.states[0, 0], paper_mlp(seed=9).flat_parameters())


def test_mlp_argument_supplies_the_initial_state(iris):
    """An MLP passed as the model is trained from its own parameters."""
    X, y = iris
    net = paper_mlp(seed=123)
    ens = train_ensemble(net, X, y, lr=0.1, n_steps=2, record_steps=[0])
    np.testing.assert_array_equal(ens.states[0, 0], net.flat_parameters())
    assert ens.metadata["init"] == {"kind": "given"}


def test_float32_tracks_float64_and_c22(iris):
    """float32 training follows float64 to ~1e-5 over 50 low-lr steps; eps = 1e-8 is
    rejected in float32 (below 100 machine epsilons: field case C22)."""
    X, y = iris
    kw = dict(lr=0.01, n_steps=50, n_inits=2, seed=2, record_every=50)
    e64 = train_ensemble(PAPER, X, y, **kw)
    e32 = train_ensemble(PAPER, X, y, dtype="float32", **kw)
    assert np.max(np.abs(e64.states - e32.states)) < 1e-4
    assert e32.metadata["dtype"] == "float32"
    with pytest.raises(ValidationError, match=r"`eps` must be >= .*float32.*dtype='float64'"):
        train_ensemble(PAPER, X, y, lr=0.01, n_steps=5, n_perturb=2, eps=1e-8,
                       dtype="float32")
    ens = train_ensemble(PAPER, X, y, lr=0.01, n_steps=0, n_perturb=2, eps=1e-3,
                         dtype="float32")
    assert ens.observables["dist_l1"][1, 0] > 0


def test_metadata_is_complete_and_json(iris):
    """Metadata carries model, optimizer, data, init, perturbation, seed, dtype, versions
    and replayable, and is JSON-serialisable."""
    X, y = iris
    ref = {"name": "iris", "split": "train", "seed": 0, "standardize": False}
    ens = train_ensemble(PAPER, X, y, lr=0.1, n_steps=3, n_perturb=1, data_ref=ref,
                         batch_size=40, momentum=0.5)
    meta = ens.metadata
    json.dumps(meta)
    assert meta["model"] == PAPER
    assert meta["optimizer"]["lr"] == 0.1 and meta["optimizer"]["batch_size"] == 40
    assert meta["optimizer"]["momentum"] == 0.5
    assert meta["data"] == ref and meta["replayable"] is True
    assert meta["init"] == {"weight_init": "normal", "weight_std": 1.0, "bias_init": 0.0}
    assert meta["seed"] == 0 and meta["dtype"] == "float64"
    assert set(meta["versions"]) == {"graphtraj", "torch", "numpy"}
    plain = train_ensemble(PAPER, X, y, lr=0.1, n_steps=1)
    assert plain.metadata["replayable"] is False
    assert "data_ref" in plain.metadata["replayable_reason"]
    assert plain.metadata["perturbation"] is None
    assert isinstance(plain, Ensemble) and plain.states is None


def test_observe_subset_and_num_threads_restored(iris):
    """Only the requested observables are streamed; the thread count is restored."""
    X, y = iris
    before = torch.get_num_threads()
    ens = train_ensemble(PAPER, X, y, lr=0.1, n_steps=3, observe=["dist_l2", "loss"],
                         num_threads=2, progress=True)
    assert set(ens.observables) == {"loss", "dist_l2"}
    assert torch.get_num_threads() == before


# --------------------------------------------------------------- validation
@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (dict(model=42), ValidationError, r"`model` must be a model spec dict"),
        (dict(model={"kind": "cnn", "sizes": [4, 3]}), ValidationError, r"'mlp'"),
        (dict(X=np.zeros((5, 3))), ValidationError, r"`X` must have 4 columns"),
        (dict(X=np.full((5, 4), np.nan)), ValidationError, r"`X` must contain only finite"),
        (dict(y=np.array([0, 1, 2, 3, 0])), ValidationError, r"labels in \[0, 2\]"),
        (dict(y=np.array([0, 1, 2])), ValidationError, r"one label per row"),
        (dict(y=np.array([0.5, 1, 2, 1, 0])), ValidationError, r"integer class labels"),
        (dict(lr=0.0), ValidationError, r"`lr` must be > 0"),
        (dict(n_steps=-1), ValidationError, r"`n_steps` must be >= 0"),
        (dict(n_inits=0), ValidationError, r"`n_inits` must be >= 1"),
        (dict(n_perturb=-1), ValidationError, r"`n_perturb` must be >= 0"),
        (dict(eps=0.0), ValidationError, r"`eps` must be > 0"),
        (dict(n_perturb=1, eps=1e-16), ValidationError, r"`eps` must be >= .*float64"),
        (dict(perturbation="cauchy"), UnknownOptionError, r"`perturbation` must be one of"),
        (dict(perturb_target="biases"), UnknownOptionError, r"`perturb_target` must be one"),
        (dict(perturb_at=11), ValidationError, r"`perturb_at` must be <= 10"),
        (dict(batch_size=6), ValidationError, r"`batch_size` must be <= 5"),
        (dict(momentum=-0.1), ValidationError, r"`momentum` must be >= 0"),
        (dict(seed=-1), ValidationError, r"`seed` must be >= 0"),
        (dict(dtype="float16"), ValidationError, r"`dtype` must be 'float64' or 'float32'"),
        (dict(record_every=0), ValidationError, r"`record_every` must be >= 1"),
        (dict(record_steps=[3, 11]), ValidationError, r"`record_steps entries` must be <= 10"),
        (dict(record_steps=5), ValidationError, r"`record_steps` must be a sequence"),
        (dict(observe="loss"), ValidationError, r"`observe` must be a sequence"),
        (dict(observe=["loss", "sharpness"]), UnknownOptionError, r"`observe entries`"),
        (dict(data_ref="iris"), ValidationError, r"`data_ref` must be a dict"),
        (dict(num_threads=0), ValidationError, r"`num_threads` must be >= 1"),
        (dict(inits=np.zeros((2, 80))), ValidationError, r"`inits` must have shape"),
        (dict(inits=np.zeros((2, 83)), n_inits=3), ValidationError, r"`n_inits` must equal"),
        (dict(inits=np.full((1, 83), np.inf)), ValidationError, r"`inits` must contain only"),
    ],
)
def test_validation(kwargs, error, match):
    """Every invalid argument raises our error with the documented message."""
    args = dict(model=PAPER, X=np.ones((5, 4)), y=np.array([0, 1, 2, 0, 1]), lr=0.1,
                n_steps=10)
    args.update(kwargs)
    with pytest.raises(error, match=match):
        train_ensemble(args.pop("model"), args.pop("X"), args.pop("y"), **args)


def test_mlp_model_with_several_inits_rejected():
    """An MLP model supplies exactly one initial state."""
    with pytest.raises(ValidationError, match=r"`n_inits` must be 1 when `model` is an MLP"):
        train_ensemble(paper_mlp(seed=0), np.ones((3, 4)), [0, 1, 2], lr=0.1, n_steps=1,
                       n_inits=2)


@pytest.mark.parametrize("sizes, num_threads, want", [
    ([4, 10, 3], None, 1),       # small network: one thread by default
    ([4, 10, 3], 2, 2),          # an explicit count is used
    ([200, 50, 3], None, None),  # >= 10 000 parameters: torch's setting is kept
])
def test_default_threads_depend_on_network_size(monkeypatch, sizes, num_threads, want):
    """num_threads=None trains small networks on one thread and leaves larger ones on
    torch's setting; the caller's thread count is restored afterwards."""
    calls = []
    real = torch.set_num_threads
    monkeypatch.setattr(torch, "set_num_threads", lambda n: (calls.append(n), real(n)))
    before = torch.get_num_threads()
    x = np.random.default_rng(0).normal(size=(12, sizes[0]))
    y = np.arange(12) % 3
    train_ensemble({"sizes": sizes}, x, y, lr=0.1, n_steps=2, num_threads=num_threads)
    assert torch.get_num_threads() == before
    if want is None:
        assert calls == []
    else:
        assert calls == [want, before]
