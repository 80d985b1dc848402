"""Tests of graphtraj.dynamics.replay (training maps rebuilt from stored runs)."""

import numpy as np
import pytest
import torch

from graphtraj.dynamics import (
    lyapunov_spectrum,
    sharpness_track,
    training_map,
    training_map_from_run,
)
from graphtraj.exceptions import NotReplayableError, ValidationError


@pytest.fixture(scope="module")
def iris():
    from graphtraj.datasets import load_iris

    return load_iris()


def _run(iris, **kw):
    from graphtraj.capture import train_ensemble
    from graphtraj.datasets.registry import data_ref

    X, y = iris
    kw.setdefault("data_ref", data_ref("iris"))
    ens = train_ensemble({"sizes": [4, 10, 3]}, X, y, lr=0.5, n_steps=10, record_every=1, **kw)
    return ens.replica(0)


@pytest.mark.parametrize("kw", [{}, {"batch_size": 32}, {"momentum": 0.9}],
                         ids=["gd", "minibatch", "momentum"])
def test_map_reproduces_recorded_run(iris, kw):
    """The rebuilt map steps through the recorded states of train_ensemble to 1e-13."""
    traj = _run(iris, **kw)
    tm = training_map_from_run(traj)
    assert (tm.batches is not None) == ("batch_size" in kw) and tm.rule.momentum == kw.get("momentum", 0.0)
    x = torch.as_tensor(tm.initial_state(traj.states[0]))
    for t in range(10):
        x = tm.step(x, t)
        np.testing.assert_allclose(x[:83].numpy(), traj.states[t + 1], rtol=0, atol=1e-13)


def test_spectrum_and_sharpness_of_a_stored_run(iris):
    """A Trajectory can be passed directly: along its states (GD) or fresh (momentum)."""
    traj = _run(iris)
    tm = training_map_from_run(traj, fast=True)
    direct = lyapunov_spectrum(traj, k=2, rng=0, fast=True)
    explicit = lyapunov_spectrum(tm, along=np.asarray(traj.states), k=2, rng=0)
    np.testing.assert_allclose(direct.running, explicit.running, rtol=0, atol=1e-14)
    assert direct.replay_error[0] < 1e-12 and direct.params["t0"] == 0
    part = lyapunov_spectrum(traj, n_steps=4, rng=0)
    assert part.params["n_steps"] == 4
    tr = sharpness_track(traj, every=5, rng=0, fast=True)
    assert tr.steps.tolist() == [0, 5, 10] and tr.threshold == 4.0
    mom = _run(iris, momentum=0.9)
    res = lyapunov_spectrum(mom, k=2, rng=0)
    assert res.replay_error is None and res.params["system"]["dim"] == 166
    sub = traj.isel(np.array([0, 5, 10]))  # not consecutive: fresh run from the first record
    assert lyapunov_spectrum(sub, rng=0).params["n_steps"] == 10
    with pytest.raises(Exception, match="must not be given"):
        lyapunov_spectrum(traj, x0=np.zeros(83))


def test_not_replayable_runs(iris):
    """Runs without model, data or recorded optimizer state give NotReplayableError."""
    X, y = iris
    with pytest.raises(NotReplayableError, match="replayable'\\] is false"):
        training_map_from_run({"replayable": False})
    with pytest.raises(NotReplayableError, match="no `data_ref` was given"):
        training_map_from_run(_run(iris, data_ref=None))
    meta = dict(_run(iris).metadata)
    del meta["data"]
    with pytest.raises(NotReplayableError, match="lack data"):
        training_map_from_run(meta)
    mom = _run(iris, momentum=0.9)
    with pytest.raises(NotReplayableError, match="only\\s+from step 0"):
        lyapunov_spectrum(mom.window(3, None))
    meta = dict(_run(iris, batch_size=32).metadata)
    meta["optimizer"] = {k: v for k, v in meta["optimizer"].items() if k != "sampler"}
    with pytest.raises(NotReplayableError, match="batch of every step"):
        training_map_from_run(meta)
    from graphtraj.exceptions import ValidationError

    with pytest.raises(ValidationError, match="Trajectory or its metadata"):
        training_map_from_run(3)
    one = _run(iris).isel(np.array([4]))
    with pytest.raises(ValidationError, match="single recorded step"):
        lyapunov_spectrum(one)


def test_recorded_batches_are_used(iris):
    """A Recorder-style run with recorded batches replays those batches."""
    from graphtraj.trajectory import ParamLayout, Trajectory

    X, y = iris
    traj0 = _run(iris)
    tm0 = training_map_from_run(traj0)
    rng = np.random.default_rng(0)
    batches = np.stack([rng.permutation(120)[:16] for _ in range(11)])
    tm = training_map(tm0.objective, optimizer=tm0.rule, batches=batches)
    x = torch.as_tensor(traj0.states[0])[None]
    states = [x[0].numpy()]
    for t in range(10):
        x = tm.step(x, t)
        states.append(x[0].numpy())
    meta = dict(traj0.metadata)
    meta["optimizer"] = {"name": "sgd", "lr": 0.5, "momentum": 0.0, "batch_size": 16}
    rec = Trajectory(np.arange(11), np.array(states), ParamLayout.for_mlp([4, 10, 3]),
                     batches=batches, metadata=meta)
    res = lyapunov_spectrum(rec, rng=0)
    assert res.replay_error[0] < 1e-13


@pytest.fixture(scope="module")
def minibatch_meta(iris):
    """The metadata of a mini-batch run (batch size 32, sampler described)."""
    return dict(_run(iris, batch_size=32).metadata)


def _with(meta, **optimizer):
    """``meta`` with some optimizer fields replaced (``sampler`` merged)."""
    opt = dict(meta["optimizer"])
    if "sampler" in optimizer:
        optimizer["sampler"] = {**opt["sampler"], **optimizer["sampler"]}
    opt.update(optimizer)
    return {**meta, "optimizer": opt}


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"batch_size": "a"}, r"metadata\['optimizer'\]\['batch_size'\] is malformed: "
                              r"`batch_size` must be an integer; got 'a'"),
        ({"batch_size": 1.5}, r"\['batch_size'\] is malformed: .* integer; got 1.5"),
        ({"batch_size": 0}, r"\['batch_size'\] is malformed: `batch_size` must be >= 1"),
        ({"batch_size": 1000}, r"\['batch_size'\] is malformed: `batch_size` must be <= 120"),
        ({"sampler": {"shuffle": "no"}}, r"\['sampler'\]\['shuffle'\] is malformed: "
                                         r"`shuffle` must be true or false; got 'no'"),
        ({"sampler": {"seed": "z"}}, r"\['sampler'\] is malformed: `seed` must be"),
        ({"lr": "x"}, r"metadata\['optimizer'\] is malformed: `lr` must be a real number"),
    ],
)
def test_malformed_optimizer_metadata(minibatch_meta, change, match):
    """A malformed optimizer field gives NotReplayableError naming the field, not a raw
    ValueError from int() or a message about an argument the user never passed."""
    with pytest.raises(NotReplayableError, match=match):
        training_map_from_run(_with(minibatch_meta, **change))


def test_malformed_model_and_optimizer_entries(minibatch_meta):
    """An optimizer entry that is not a dict, or an invalid model spec, names the field."""
    with pytest.raises(NotReplayableError, match=r"metadata\['optimizer'\] is malformed: it "
                       "must be a dict"):
        training_map_from_run({**minibatch_meta, "optimizer": "sgd"})
    model = {**minibatch_meta["model"], "sizes": "4-10-3"}
    with pytest.raises(NotReplayableError, match=r"metadata\['model'\].* is malformed"):
        training_map_from_run({**minibatch_meta, "model": model})


def test_metadata_sizes_that_do_not_match_the_states(iris):
    """Metadata describing a 4-8-3 network (67 parameters) for states of the 4-10-3 one
    (83 values) give NotReplayableError naming both sizes, from every entry point; a map
    of another size passed as `system` is a ValidationError."""
    from graphtraj.dynamics.replay import resolve_run
    from graphtraj.exceptions import ValidationError
    from graphtraj.trajectory import Trajectory

    traj = _run(iris)
    meta = {**traj.metadata, "model": {**traj.metadata["model"], "sizes": [4, 8, 3]}}
    bad = Trajectory(traj.times, np.asarray(traj.states), traj.layout, metadata=meta)
    match = (r"model with 67 parameters \(metadata\['model'\]\['sizes'\] = \[4, 8, 3\]\), "
             r"but its stored states have 83 values per step")
    with pytest.raises(NotReplayableError, match=match):
        training_map_from_run(bad)
    with pytest.raises(NotReplayableError, match=match):
        lyapunov_spectrum(bad, k=2, rng=0)
    small = training_map_from_run(meta)  # metadata alone: nothing to compare with
    assert small.n_params == 67
    with pytest.raises(ValidationError, match="`system` must have 83 parameters .*; got a "
                       "map with 67"):
        resolve_run(traj, 5, system=small)


def test_an_ensemble_is_refused_with_the_replica_hint(iris):
    """Passing a whole ensemble where one run is expected names the remedy (one replica)."""
    from graphtraj.capture import train_ensemble
    from graphtraj.dynamics import lyapunov_spectrum

    X, y = iris
    ens = train_ensemble({"sizes": [4, 10, 3]}, X, y, lr=0.5, n_steps=3, record_every=1)
    with pytest.raises(ValidationError, match=r"ens\.replica\(0\)"):
        lyapunov_spectrum(ens)
