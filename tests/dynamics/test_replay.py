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
from graphtraj.exceptions import NotReplayableError


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
