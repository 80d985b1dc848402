"""Tests of graphtraj.capture.recorder (Recorder, IndexSampler)."""

import json

import numpy as np
import pytest
import torch

from graphtraj.capture.models import paper_mlp
from graphtraj.capture.recorder import IndexSampler, Recorder, versions
from graphtraj.exceptions import ValidationError


@pytest.fixture(autouse=True)
def _one_torch_thread():
    """Small tensors: one intra-op thread avoids OpenMP contention on a busy machine."""
    prev = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(prev)


def test_records_parameters_loss_and_lr_at_due_steps(rng):
    """Records are made at multiples of `every` and at listed steps; each holds a copy of
    the parameters at that step (later updates do not change it), the loss passed, and
    the lr read from the optimizer while a scheduler changes it."""
    net = paper_mlp(seed=1)
    opt = torch.optim.SGD(net.parameters(), lr=0.5)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=5, gamma=0.1)
    X = torch.from_numpy(rng.normal(size=(30, 4)))
    y = torch.from_numpy(rng.integers(0, 3, 30))
    rec = Recorder(net, optimizer=opt, every=4, steps=[1, 10])
    expected, losses = {}, {}
    for step in range(13):
        loss = torch.nn.functional.cross_entropy(net(X), y)
        expected[step] = torch.nn.utils.parameters_to_vector(net.parameters()).detach().numpy().copy()
        losses[step] = float(loss.detach())
        rec.record(step, loss=loss, accuracy=0.5)
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
    rec.record(13, loss=None)
    traj = rec.to_trajectory()
    assert traj.times.tolist() == [0, 1, 4, 8, 10, 12]
    for i, t in enumerate(traj.times):
        np.testing.assert_array_equal(traj.states[i], expected[t])
        assert traj.loss[i] == losses[t]
    np.testing.assert_allclose(traj.lr, [0.5, 0.5, 0.5, 0.05, 0.005, 0.005])
    assert np.all(traj.accuracy == 0.5)
    assert traj.layout.names == ("layers.0.weight", "layers.0.bias", "layers.1.weight",
                                 "layers.1.bias")
    assert len(rec) == 6 and rec.due(16) and not rec.due(13)
    final = torch.nn.utils.parameters_to_vector(net.parameters()).detach().numpy().copy()
    rec.record(14, final=True)  # off schedule, recorded anyway
    traj = rec.to_trajectory()
    assert traj.times.tolist()[-1] == 14 and np.isnan(traj.loss[-1])
    np.testing.assert_array_equal(traj.states[-1], final)


def test_batches_from_sampler_and_explicit():
    """Batch indices come from the sampler's last batch or from `batch=`; a short last
    batch is padded with -1."""
    net = paper_mlp(seed=0)
    X = torch.ones(10, 4, dtype=torch.float64)
    sampler = IndexSampler(10, 4, seed=3)
    rec = Recorder(net, sampler=sampler)
    seen = []
    for step, idx in enumerate(sampler):
        seen.append(idx)
        rec.record(step, loss=net(X[idx]).sum())
    traj = rec.to_trajectory()
    assert traj.batches.shape == (3, 4)
    np.testing.assert_array_equal(traj.batches[0], seen[0])
    np.testing.assert_array_equal(traj.batches[2], list(seen[2]) + [-1, -1])
    assert traj.metadata["optimizer"] is None
    rec2 = Recorder(net)
    rec2.record(0, batch=torch.tensor([3, 1]))
    rec2.record(1)
    b = rec2.to_trajectory().batches
    assert b.tolist() == [[3, 1], [-1, -1]]


def test_graphtraj_mlp_with_sgd_and_data_ref_is_replayable():
    """A graphtraj MLP + plain SGD + a data reference records a replayable run whose
    metadata holds the model spec, optimizer and data, and is JSON."""
    net = paper_mlp(seed=0)
    opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9)
    ref = {"name": "iris", "split": "train", "seed": 0}
    sampler = IndexSampler(120, 32, seed=1)
    rec = Recorder(net, optimizer=opt, data_ref=ref, sampler=sampler,
                   metadata={"note": "test"})
    rec.record(0)
    meta = rec.to_trajectory().metadata
    json.dumps(meta)
    assert meta["replayable"] is True and "replayable_reason" not in meta
    assert meta["model"] == net.spec and meta["data"] == ref
    assert meta["optimizer"]["name"] == "sgd" and meta["optimizer"]["momentum"] == 0.9
    assert meta["optimizer"]["batch_size"] == 32
    assert meta["optimizer"]["sampler"]["seed"] == 1
    assert meta["dtype"] == "float64" and meta["note"] == "test"
    assert meta["versions"] == versions()


@pytest.mark.parametrize(
    "make_opt, reason",
    [
        (lambda p: torch.optim.Adam(p, lr=0.1), "not torch.optim.SGD"),
        (lambda p: torch.optim.SGD(p, lr=0.1, weight_decay=0.1), "weight decay"),
        (lambda p: None, "no optimizer"),
    ],
)
def test_non_sgd_optimizers_are_not_replayable(make_opt, reason):
    """Other optimizers (or none) are recorded with replayable=False and the reason."""
    net = paper_mlp(seed=0)
    rec = Recorder(net, optimizer=make_opt(net.parameters()), data_ref={"name": "iris"})
    rec.record(0)
    meta = rec.to_trajectory().metadata
    assert meta["replayable"] is False and reason in meta["replayable_reason"]


def test_user_module_with_batchnorm_buffers(tmp_path):
    """An arbitrary module with BatchNorm: buffers are not parameters (layout = the
    parameters only, running statistics untouched by recording), replayable=False with
    the reason, and the states round-trip through the store."""
    model = torch.nn.Sequential(torch.nn.Linear(4, 6), torch.nn.BatchNorm1d(6),
                                torch.nn.ReLU(), torch.nn.Linear(6, 3))
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    X = torch.randn(16, 4, generator=torch.Generator().manual_seed(0))
    y = torch.arange(16) % 3
    rec = Recorder(model, optimizer=opt, every=2)
    for step in range(5):
        loss = torch.nn.functional.cross_entropy(model(X), y)
        buffers = {k: v.clone() for k, v in model.named_buffers()}
        rec.record(step, loss=loss)
        for k, v in model.named_buffers():
            assert torch.equal(v, buffers[k])
        opt.zero_grad()
        loss.backward()
        opt.step()
    traj = rec.to_trajectory()
    n_params = sum(p.numel() for p in model.parameters())
    assert traj.states.shape == (3, n_params)
    assert "running_mean" not in " ".join(traj.layout.names)
    assert traj.layout.names[:3] == ("0.weight", "0.bias", "1.weight")
    meta = traj.metadata
    assert meta["replayable"] is False
    assert "user module (Sequential)" in meta["replayable_reason"]
    assert meta["model"]["class"] == "torch.nn.modules.container.Sequential"
    import graphtraj

    store = graphtraj.open_store(tmp_path / "s.gtz", "w")
    store.write("bn", traj)
    back = store.read("bn")
    np.testing.assert_array_equal(np.asarray(back.states), traj.states)
    assert back.metadata["replayable"] is False


def test_index_sampler_epochs():
    """Each epoch is a permutation of range(n) in batches; epochs differ; the same seed
    repeats the sequence; drop_last drops the short batch; shuffle=False is in order."""
    s = IndexSampler(10, 3, seed=5)
    e1, e2 = list(s), list(s)
    assert len(s) == 4 and [b.size for b in e1] == [3, 3, 3, 1]
    assert sorted(np.concatenate(e1).tolist()) == list(range(10))
    assert not np.array_equal(np.concatenate(e1), np.concatenate(e2))
    t = IndexSampler(10, 3, seed=5)
    np.testing.assert_array_equal(np.concatenate(list(t)), np.concatenate(e1))
    d = IndexSampler(10, 3, seed=5, drop_last=True)
    assert len(d) == 3 and len(list(d)) == 3
    assert [b.tolist() for b in IndexSampler(4, 2, shuffle=False)] == [[0, 1], [2, 3]]
    assert s.last is not None and s.last.dtype == np.int64
    info = IndexSampler(10, 3, seed=[5, 2]).to_dict()
    assert info["seed"] == [5, 2] and json.dumps(info)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(n=0), r"`n` must be >= 1"),
        (dict(batch_size=11), r"`batch_size` must be <= 10"),
        (dict(batch_size=0), r"`batch_size` must be >= 1"),
        (dict(shuffle=1), r"`shuffle` must be True or False"),
        (dict(drop_last="no"), r"`drop_last` must be True or False"),
        (dict(seed=-3), r"`seed` must be None, a non-negative integer"),
        (dict(seed="abc"), r"`seed` must be None, a non-negative integer"),
    ],
)
def test_index_sampler_validation(kwargs, match):
    """Invalid sampler arguments raise ValidationError."""
    args = dict(n=10, batch_size=3)
    args.update(kwargs)
    with pytest.raises(ValidationError, match=match):
        IndexSampler(args.pop("n"), args.pop("batch_size"), **args)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(model="net"), r"`model` must be a torch.nn.Module"),
        (dict(model=torch.nn.ReLU()), r"`model` must have at least one parameter"),
        (dict(every=0), r"`every` must be >= 1"),
        (dict(every=None), r"`every` must be a positive integer when `steps` is empty"),
        (dict(steps=3), r"`steps` must be a sequence"),
        (dict(steps=[-1]), r"`steps entries` must be >= 0"),
        (dict(data_ref="iris"), r"`data_ref` must be a dict"),
        (dict(metadata=[1]), r"`metadata` must be a dict"),
        (dict(optimizer="sgd"), r"`optimizer` must be a torch.optim.Optimizer"),
        (dict(sampler=range(3)), r"`sampler` must be a graphtraj IndexSampler"),
    ],
)
def test_recorder_validation(kwargs, match):
    """Invalid Recorder arguments raise ValidationError."""
    model = kwargs.pop("model", paper_mlp(seed=0))
    with pytest.raises(ValidationError, match=match):
        Recorder(model, **kwargs)


def test_record_validation():
    """record() rejects non-increasing steps, non-scalar values and bad batches; an empty
    recorder cannot make a trajectory."""
    rec = Recorder(paper_mlp(seed=0), every=None, steps=[5])
    with pytest.raises(ValidationError, match=r"must hold at least one record"):
        rec.to_trajectory()
    rec.record(2)
    assert len(rec) == 0
    with pytest.raises(ValidationError, match=r"`step` must increase .* got 2 after 2"):
        rec.record(2)
    with pytest.raises(ValidationError, match=r"`loss` must be a scalar"):
        rec.record(5, loss=torch.ones(3))
    rec = Recorder(paper_mlp(seed=0))
    with pytest.raises(ValidationError, match=r"`accuracy` must be a real scalar"):
        rec.record(0, accuracy="high")
    with pytest.raises(ValidationError, match=r"`lr` must be a real scalar"):
        rec.record(1, lr=[0.1, 0.2])
    with pytest.raises(ValidationError, match=r"`batch` must be a 1-D array of integer"):
        rec.record(2, batch=np.ones((2, 2), dtype=int))
    with pytest.raises(ValidationError, match=r"`step` must be >= 0"):
        Recorder(paper_mlp(seed=0)).record(-1)


def test_rejected_record_leaves_the_recorder_unchanged():
    """A call rejected for a bad loss or batch appends nothing and does not use up its
    step: later records and to_trajectory() work, with times, states and series aligned."""
    model = paper_mlp(seed=0)
    rec = Recorder(model)
    rec.record(0, loss=1.0)
    with pytest.raises(ValidationError, match="`loss` must be a scalar"):
        rec.record(1, loss=torch.ones(3))
    with pytest.raises(ValidationError, match="sample indices >= 0"):
        rec.record(1, loss=0.7, batch=[-1, 5])
    rec.record(1, loss=0.5)
    tr = rec.to_trajectory()
    assert tr.times.tolist() == [0, 1] and tr.loss.tolist() == [1.0, 0.5]
    assert np.asarray(tr.states).shape == (2, 83)


def test_series_never_given_are_none():
    """A series never passed (accuracy here; lr without an optimizer) is None in the
    trajectory, not all NaN; a series given once keeps NaN where it was not given."""
    rec = Recorder(paper_mlp(seed=0))
    rec.record(0, loss=1.0)
    rec.record(1)
    tr = rec.to_trajectory()
    assert tr.accuracy is None and tr.lr is None
    assert tr.loss[0] == 1.0 and np.isnan(tr.loss[1])
    assert "accuracy" not in repr(tr) and "loss" in repr(tr)


def test_series_given_as_nan_stay_and_batch_edge_cases():
    """A loss passed as NaN at every step is a recorded series (all NaN), not None; an
    empty batch list is accepted; an index that int64 cannot hold is refused (it would
    wrap to the -1 padding)."""
    rec = Recorder(paper_mlp(seed=0))
    rec.record(0, loss=float("nan"), batch=[])
    with pytest.raises(ValidationError, match="below 2\\*\\*63"):
        rec.record(1, batch=np.array([2**64 - 1], dtype=np.uint64))
    rec.record(1, loss=float("nan"), batch=np.array([3], dtype=np.uint64))
    tr = rec.to_trajectory()
    assert tr.loss is not None and np.isnan(tr.loss).all() and tr.accuracy is None
    assert tr.batches.tolist() == [[-1], [3]]
