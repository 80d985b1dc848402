"""Tests of graphtraj.capture.replay (model_from_metadata)."""

import numpy as np
import pytest
import torch

from graphtraj.capture.ensemble import train_ensemble
from graphtraj.capture.models import mlp_loss, paper_mlp
from graphtraj.capture.recorder import Recorder
from graphtraj.capture.replay import model_from_metadata
from graphtraj.datasets import data_ref, load_iris
from graphtraj.exceptions import NotReplayableError, ValidationError

SPEC = {"kind": "mlp", "sizes": [4, 10, 3], "activation": "sigmoid",
        "loss": "cross_entropy", "bias": True}


@pytest.fixture(autouse=True)
def _one_torch_thread():
    """Small tensors: one intra-op thread avoids OpenMP contention on a busy machine."""
    prev = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(prev)


def test_replays_a_stored_ensemble_replica():
    """Rebuilding model and data from an ensemble's metadata and running torch SGD from a
    recorded state reproduces the next recorded state (to 1e-12)."""
    ref = data_ref("iris", split="train", seed=0)
    X, y = load_iris(split="train", seed=0)
    ens = train_ensemble(SPEC, X, y, lr=0.1, n_steps=20, n_inits=2, seed=3,
                         record_every=10, data_ref=ref, momentum=0.0)
    net, Xt, yt = model_from_metadata(ens.metadata, state=ens.states[1, 1])
    np.testing.assert_array_equal(Xt.numpy(), X)
    np.testing.assert_array_equal(yt.numpy(), y)
    assert Xt.dtype == torch.float64 and yt.dtype == torch.int64
    opt = torch.optim.SGD(net.parameters(), lr=ens.metadata["optimizer"]["lr"])
    for _ in range(10):
        loss = mlp_loss(ens.metadata["model"])(net(Xt), yt)
        opt.zero_grad()
        loss.backward()
        opt.step()
    np.testing.assert_allclose(net.flat_parameters(), ens.states[1, 2], rtol=0, atol=1e-12)


def test_default_state_is_the_seed_initialisation_and_dtype_is_kept():
    """Without `state` the network has the seed's initialisation in the run's dtype."""
    meta = {"model": SPEC, "data": {"name": "iris"}, "seed": 7, "dtype": "float32"}
    net, X, _ = model_from_metadata(meta)
    np.testing.assert_allclose(net.flat_parameters(),
                               paper_mlp(seed=7).flat_parameters().astype(np.float32))
    assert X.dtype == torch.float32


def test_recorder_trajectory_replays():
    """A Recorder run of a graphtraj MLP with a data reference is replayable."""
    net = paper_mlp(seed=0)
    opt = torch.optim.SGD(net.parameters(), lr=0.05)
    rec = Recorder(net, optimizer=opt, data_ref={"name": "iris", "split": "train"})
    X, y = (torch.from_numpy(a) for a in load_iris())
    for step in range(3):
        loss = torch.nn.functional.cross_entropy(net(X), y)
        rec.record(step, loss=loss)
        opt.zero_grad()
        loss.backward()
        opt.step()
    traj = rec.to_trajectory()
    net2, X2, y2 = model_from_metadata(traj.metadata, state=traj.states[0])
    assert torch.equal(X2, X)
    np.testing.assert_array_equal(net2.flat_parameters(), traj.states[0])


def test_not_replayable_runs_raise_with_the_reason(tmp_path):
    """User modules, runs without data, runs marked not replayable and data without
    class labels raise NotReplayableError with a clear message."""
    user = {"model": {"kind": "torch_module", "class": "my.Net"}, "data": {"name": "iris"}}
    with pytest.raises(NotReplayableError, match=r"only graphtraj's built-in MLP .*my.Net"):
        model_from_metadata(user)
    with pytest.raises(NotReplayableError, match=r"no data reference"):
        model_from_metadata({"model": SPEC, "data": None})
    with pytest.raises(NotReplayableError, match=r"cannot be replayed: because"):
        model_from_metadata({"model": SPEC, "replayable": False,
                             "replayable_reason": "because"})
    path = tmp_path / "reg.npz"
    np.savez(path, X=np.ones((5, 4)), y=np.linspace(0, 1, 5))
    with pytest.raises(NotReplayableError, match=r"need integer class labels"):
        model_from_metadata({"model": SPEC, "data": {"path": str(path)}})


def test_invalid_metadata_raises_validation_error(tmp_path):
    """Non-dict metadata and data whose width does not fit the model raise."""
    with pytest.raises(ValidationError, match=r"`metadata` must be a dict"):
        model_from_metadata([1, 2])
    path = tmp_path / "wide.npz"
    np.savez(path, X=np.ones((5, 6)), y=np.zeros(5, dtype=int))
    with pytest.raises(ValidationError, match=r"6 features but the model expects 4"):
        model_from_metadata({"model": SPEC, "data": {"path": str(path)}})
    with pytest.raises(ValidationError, match=r"`metadata\['dtype'\]` must be"):
        model_from_metadata({"model": SPEC, "data": {"name": "iris"}, "dtype": "int8"})
