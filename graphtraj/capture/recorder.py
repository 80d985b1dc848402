"""`Recorder`: capture a trajectory from your own PyTorch training loop.

Add two or three lines to an existing ``nn.Module`` + optimizer loop::

    rec = Recorder(model, optimizer=opt, every=10)     # before the loop
    rec.record(step, loss=loss)                        # in the loop, before opt.step()
    traj = rec.to_trajectory()                         # after the loop

:class:`IndexSampler` yields the indices of each mini-batch (seeded), so that the
batch order is recorded and a mini-batch run can be replayed.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import numpy as np

from graphtraj._checks import _describe, check_int
from graphtraj.exceptions import ValidationError

__all__ = ["IndexSampler", "Recorder", "versions"]


def versions() -> dict[str, str]:
    """Versions of graphtraj, torch and numpy, for run metadata.

    Examples
    --------
    >>> sorted(versions())
    ['graphtraj', 'numpy', 'torch']
    """
    from importlib.metadata import PackageNotFoundError, version

    try:
        gt = version("graphtraj")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        gt = "unknown"
    import torch

    return {"graphtraj": gt, "torch": str(torch.__version__), "numpy": np.__version__}


class IndexSampler:
    """Seeded mini-batch indices: each iteration is one epoch of index arrays.

    Parameters
    ----------
    n : int
        Number of samples (>= 1).
    batch_size : int
        Samples per batch, 1 <= batch_size <= n.
    shuffle : bool, default True
        Draw a fresh permutation per epoch; otherwise batches follow 0..n-1.
    seed : int, sequence of int, or None, default 0
        Seed of ``numpy.random.default_rng``; the same seed gives the same batches.
    drop_last : bool, default False
        Drop the last, smaller batch of an epoch (as ``torch.utils.data.DataLoader``).

    Attributes
    ----------
    last : numpy.ndarray or None
        The most recently yielded batch (read by :class:`Recorder` when it is given
        ``sampler=``).

    Notes
    -----
    Epoch ``e`` uses the ``e``-th permutation drawn from the generator, so iterating
    the sampler twice gives two different epochs, and a new sampler with the same seed
    repeats the whole sequence. Use it like a ``DataLoader`` of indices:
    ``for idx in sampler: loss = f(model(X[idx]), y[idx])``.

    Examples
    --------
    >>> s = IndexSampler(5, 2, seed=0)
    >>> len(s)
    3
    >>> batches = list(s)
    >>> sorted(np.concatenate(batches).tolist())
    [0, 1, 2, 3, 4]
    >>> [b.tolist() for b in IndexSampler(5, 2, shuffle=False)]
    [[0, 1], [2, 3], [4]]
    """

    def __init__(self, n: int, batch_size: int, *, shuffle: bool = True, seed: Any = 0,
                 drop_last: bool = False) -> None:
        self.n = check_int(n, "n", minimum=1)
        self.batch_size = check_int(batch_size, "batch_size", minimum=1, maximum=self.n)
        if not isinstance(shuffle, bool):
            raise ValidationError(f"`shuffle` must be True or False; got {_describe(shuffle)}")
        if not isinstance(drop_last, bool):
            raise ValidationError(
                f"`drop_last` must be True or False; got {_describe(drop_last)}"
            )
        try:
            self._rng = np.random.default_rng(seed)
        except (TypeError, ValueError):
            raise ValidationError(
                f"`seed` must be None, a non-negative integer or a sequence of them; got "
                f"{_describe(seed)}"
            ) from None
        self.shuffle = shuffle
        self.drop_last = drop_last
        self.seed = seed
        self.last: np.ndarray | None = None

    def __len__(self) -> int:
        full, rest = divmod(self.n, self.batch_size)
        return full + (1 if rest and not self.drop_last else 0)

    def __iter__(self) -> Iterator[np.ndarray]:
        order = self._rng.permutation(self.n) if self.shuffle else np.arange(self.n)
        for k in range(len(self)):
            self.last = order[k * self.batch_size : (k + 1) * self.batch_size].astype(np.int64)
            yield self.last

    def to_dict(self) -> dict[str, Any]:
        """JSON-able description (for run metadata)."""
        seed = self.seed
        if isinstance(seed, np.integer):
            seed = int(seed)
        elif isinstance(seed, (list, tuple)):
            seed = [int(s) for s in seed]
        return {"kind": "IndexSampler", "n": self.n, "batch_size": self.batch_size,
                "shuffle": self.shuffle, "seed": seed, "drop_last": self.drop_last}


def _scalar(value: Any, name: str) -> float:
    if value is None:
        return float("nan")
    try:
        import torch

        if isinstance(value, torch.Tensor):
            if value.numel() != 1:
                raise ValidationError(
                    f"`{name}` must be a scalar; got a tensor of shape {tuple(value.shape)}"
                )
            return float(value.detach().cpu().item())
    except ImportError:  # pragma: no cover - torch is a dependency
        pass
    if isinstance(value, (bool, str)) or not np.isscalar(value) and np.ndim(value) != 0:
        raise ValidationError(f"`{name}` must be a real scalar; got {_describe(value)}")
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ValidationError(f"`{name}` must be a real scalar; got {_describe(value)}") from None


def _sgd_description(optimizer: Any) -> tuple[dict[str, Any] | None, str | None]:
    """Optimizer metadata, and why it cannot be replayed (None when it can)."""
    import torch

    if optimizer is None:
        return None, "no optimizer was given to the Recorder"
    name = type(optimizer).__name__
    groups = optimizer.param_groups
    g = groups[0]
    desc = {"name": name.lower(), "lr": float(g.get("lr", float("nan")))}
    for key in ("momentum", "dampening", "weight_decay", "nesterov"):
        if key in g:
            desc[key] = g[key] if isinstance(g[key], bool) else float(g[key])
    if not isinstance(optimizer, torch.optim.SGD):
        return desc, f"optimizer {name} is not torch.optim.SGD"
    if len(groups) != 1:
        return desc, "the optimizer has several parameter groups"
    if g.get("dampening", 0) or g.get("weight_decay", 0) or g.get("nesterov", False):
        return desc, "SGD with dampening, weight decay or Nesterov is not replayable"
    desc["name"] = "sgd"
    return desc, None



def _batch_indices(batch: Any) -> np.ndarray:
    """``batch`` as a 1-D int64 array of sample indices (>= 0; -1 pads shorter batches)."""
    import torch

    if isinstance(batch, torch.Tensor):
        batch = batch.detach().cpu().numpy()
    b = np.asarray(batch)
    if b.ndim == 1 and b.size == 0:
        b = b.astype(np.int64)  # an empty list reads as float64
    if b.ndim != 1 or b.dtype.kind not in "iu":
        raise ValidationError(
            f"`batch` must be a 1-D array of integer sample indices; got {_describe(b)}"
        )
    if b.size and int(b.max()) > np.iinfo(np.int64).max:
        raise ValidationError(
            f"`batch` must hold sample indices below 2**63; got {int(b.max())}"
        )
    if b.size and int(b.min()) < 0:
        raise ValidationError(
            f"`batch` must hold sample indices >= 0; got {int(b.min())} (-1 is reserved to "
            "pad shorter batches in the stored array; pass the indices into the data set)"
        )
    return b.astype(np.int64)


class Recorder:
    """Record parameters, loss, learning rate and batches from a user training loop.

    Parameters
    ----------
    model : torch.nn.Module
        The model being trained. Its ``named_parameters()`` define the
        :class:`~graphtraj.trajectory.ParamLayout`; buffers (e.g. BatchNorm running
        statistics) are not parameters and are not recorded.
    every : int or None, default 1
        Record at every step that is a multiple of ``every`` (None: only ``steps``).
    steps : iterable of int, optional
        Further steps to record.
    data_ref : dict, optional
        Reference of the training data (``{"name": "iris", ...}`` or ``{"path": ...}``),
        needed for a replayable run.
    metadata : dict, optional
        Extra JSON-able metadata merged into the trajectory's metadata.
    optimizer : torch.optim.Optimizer, optional
        Read the learning rate from it (``param_groups[0]["lr"]``) when ``record`` gets
        no ``lr``, and describe it in the metadata.
    sampler : IndexSampler, optional
        Read the batch indices from ``sampler.last`` when ``record`` gets no ``batch``.

    Notes
    -----
    Call ``rec.record(step, loss=...)`` **before** ``optimizer.step()``: it stores the
    parameters at ``step`` (the state the loss was computed on) and the batch that the
    coming step uses (``Trajectory.batches`` convention). Call it once more after the
    loop with ``final=True`` to record the final state. Steps must increase. Parameters are copied
    (float64), so later updates do not change the records. Each record costs O(P).

    A graphtraj :class:`~graphtraj.capture.models.MLP` trained by plain
    ``torch.optim.SGD`` with a ``data_ref`` gives ``metadata["replayable"] = True``;
    anything else is recorded with ``replayable = False`` and the reason in
    ``metadata["replayable_reason"]``.

    Examples
    --------
    >>> import torch
    >>> from graphtraj.capture.models import paper_mlp
    >>> net = paper_mlp(seed=0)
    >>> opt = torch.optim.SGD(net.parameters(), lr=0.1)
    >>> X, y = torch.randn(12, 4, dtype=torch.float64), torch.arange(12) % 3
    >>> rec = Recorder(net, optimizer=opt, every=5)
    >>> for step in range(20):
    ...     loss = torch.nn.functional.cross_entropy(net(X), y)
    ...     rec.record(step, loss=loss)
    ...     opt.zero_grad(); loss.backward(); opt.step()
    >>> traj = rec.to_trajectory()
    >>> traj.times.tolist(), traj.states.shape, float(traj.lr[0])
    ([0, 5, 10, 15], (4, 83), 0.1)
    """

    def __init__(self, model: Any, *, every: int | None = 1, steps: Iterable[int] | None = None,
                 data_ref: Mapping[str, Any] | None = None,
                 metadata: Mapping[str, Any] | None = None, optimizer: Any = None,
                 sampler: IndexSampler | None = None) -> None:
        import torch

        if not isinstance(model, torch.nn.Module):
            raise ValidationError(f"`model` must be a torch.nn.Module; got {_describe(model)}")
        self.model = model
        self._params = [(n, p) for n, p in model.named_parameters()]
        if not self._params:
            raise ValidationError(
                "`model` must have at least one parameter; got a module with none"
            )
        self.every = None if every is None else check_int(every, "every", minimum=1)
        if steps is not None and (isinstance(steps, (str, bytes))
                                  or not isinstance(steps, Iterable)):
            raise ValidationError(f"`steps` must be a sequence of steps; got {_describe(steps)}")
        self.steps = frozenset(check_int(s, "steps entries", minimum=0) for s in (steps or ()))
        if self.every is None and not self.steps:
            raise ValidationError(
                "`every` must be a positive integer when `steps` is empty; got None "
                "(nothing would be recorded)"
            )
        if data_ref is not None and not isinstance(data_ref, Mapping):
            raise ValidationError(f"`data_ref` must be a dict or None; got {_describe(data_ref)}")
        if metadata is not None and not isinstance(metadata, Mapping):
            raise ValidationError(f"`metadata` must be a dict or None; got {_describe(metadata)}")
        if optimizer is not None and not isinstance(optimizer, torch.optim.Optimizer):
            raise ValidationError(
                f"`optimizer` must be a torch.optim.Optimizer or None; got {_describe(optimizer)}"
            )
        if sampler is not None and not isinstance(sampler, IndexSampler):
            raise ValidationError(
                f"`sampler` must be a graphtraj IndexSampler or None; got {_describe(sampler)}"
            )
        self.data_ref = None if data_ref is None else dict(data_ref)
        self.user_metadata = dict(metadata or {})
        self.optimizer = optimizer
        self.sampler = sampler
        self._times: list[int] = []
        self._states: list[np.ndarray] = []
        self._loss: list[float] = []
        self._acc: list[float] = []
        self._lr: list[float] = []
        self._batches: list[np.ndarray | None] = []
        self._given: set[str] = set()  # series passed (or read) at least once
        self._last_step: int | None = None

    def due(self, step: int) -> bool:
        """Whether ``step`` is recorded (a multiple of ``every`` or listed in ``steps``)."""
        return (self.every is not None and step % self.every == 0) or step in self.steps

    def __len__(self) -> int:
        return len(self._times)

    def record(self, step: int, *, loss: Any = None, accuracy: Any = None, lr: Any = None,
               batch: Any = None, final: bool = False) -> None:
        """Record the current parameters (and the given scalars) if ``step`` is due.

        Parameters
        ----------
        step : int
            The training step of the current parameters (0 = initial state); must be
            larger than the previous call's.
        loss, accuracy : float or scalar tensor, optional
            Loss and accuracy of the current parameters (NaN when omitted).
        lr : float, optional
            Learning rate; read from the optimizer when omitted and one was given.
        batch : array-like of int, optional
            Indices of the mini-batch the coming step uses; read from the sampler when
            omitted and one was given.
        final : bool, default False
            Record whatever the schedule says: use it once after the loop for the state
            that the last step produced.

        Raises
        ------
        ValidationError
            For a non-increasing step or a non-scalar loss/accuracy/lr.
        """
        import torch

        step = check_int(step, "step", minimum=0)
        if self._last_step is not None and step <= self._last_step:
            raise ValidationError(
                f"`step` must increase from call to call; got {step} after {self._last_step}"
            )
        if not (final or self.due(step)):
            self._last_step = step
            return
        # Check every value before changing anything, so that a rejected call leaves the
        # recorder as it was (the step is not used up and the lists stay aligned).
        loss_v, acc_v = _scalar(loss, "loss"), _scalar(accuracy, "accuracy")
        if lr is None and self.optimizer is not None:
            lr = self.optimizer.param_groups[0]["lr"]
        lr_v = _scalar(lr, "lr")
        if batch is None and self.sampler is not None:
            batch = self.sampler.last
        batch_v = None if batch is None else _batch_indices(batch)
        with torch.no_grad():
            flat = torch.cat([p.detach().reshape(-1).to(torch.float64).cpu()
                              for _, p in self._params])
        self._last_step = step
        self._times.append(step)
        self._states.append(flat.numpy().copy())
        self._loss.append(loss_v)
        self._acc.append(acc_v)
        self._lr.append(lr_v)
        self._batches.append(batch_v)
        self._given.update(k for k, v in (("loss", loss), ("accuracy", accuracy), ("lr", lr))
                           if v is not None)

    def _series(self, name: str, values: list[float]) -> np.ndarray | None:
        """``values`` as an array, or None when the series was never given."""
        return np.asarray(values, dtype=np.float64) if name in self._given else None

    @property
    def layout(self):
        """The :class:`ParamLayout` of the recorded parameters (named_parameters order)."""
        from graphtraj.trajectory.layout import ParamLayout

        return ParamLayout([n for n, _ in self._params], [tuple(p.shape) for _, p in self._params])

    def _metadata(self) -> dict[str, Any]:
        from graphtraj.capture.models import MLP

        opt_desc, opt_reason = _sgd_description(self.optimizer)
        sizes = {b.size for b in self._batches if b is not None}
        if opt_desc is not None:
            if self.sampler is not None:
                opt_desc["batch_size"] = self.sampler.batch_size
                opt_desc["sampler"] = self.sampler.to_dict()
            else:
                opt_desc["batch_size"] = max(sizes) if sizes else None
        reasons = []
        if isinstance(self.model, MLP):
            model_desc: dict[str, Any] = dict(self.model.spec)
            dtype = str(next(self.model.parameters()).dtype).replace("torch.", "")
        else:
            cls = type(self.model)
            model_desc = {"kind": "torch_module", "class": f"{cls.__module__}.{cls.__qualname__}"}
            dtype = str(self._params[0][1].dtype).replace("torch.", "")
            reasons.append(
                f"the model is a user module ({cls.__qualname__}), not a graphtraj MLP; "
                "its states and metadata are recorded but it cannot be rebuilt"
            )
        if self.data_ref is None:
            reasons.append("no `data_ref` was given, so the training data cannot be rebuilt")
        if opt_reason:
            reasons.append(opt_reason)
        meta: dict[str, Any] = {
            "model": model_desc,
            "optimizer": opt_desc,
            "data": self.data_ref,
            "dtype": dtype,
            "versions": versions(),
            "recorder": {"every": self.every, "steps": sorted(self.steps)},
            "replayable": not reasons,
        }
        if reasons:
            meta["replayable_reason"] = "; ".join(reasons)
        meta.update(self.user_metadata)
        return meta

    def to_trajectory(self):
        """The records as a :class:`~graphtraj.trajectory.Trajectory`.

        A series that was never given (no ``loss=``, ``accuracy=`` or ``lr=`` in any
        call, and no optimizer for ``lr``) is None rather than all NaN.

        Raises
        ------
        ValidationError
            If nothing was recorded yet.
        """
        from graphtraj.trajectory.core import Trajectory

        if not self._times:
            raise ValidationError(
                "the Recorder must hold at least one record; got none. Call "
                "`rec.record(step, ...)` in the training loop (steps due: multiples of "
                f"every={self.every} and steps={sorted(self.steps)})"
            )
        batches = None
        if any(b is not None for b in self._batches):
            width = max(b.size for b in self._batches if b is not None)
            batches = np.full((len(self._times), width), -1, dtype=np.int64)
            for i, b in enumerate(self._batches):
                if b is not None:
                    batches[i, : b.size] = b
        return Trajectory(
            times=np.asarray(self._times, dtype=np.int64),
            states=np.stack(self._states),
            layout=self.layout,
            loss=self._series("loss", self._loss),
            accuracy=self._series("accuracy", self._acc),
            lr=self._series("lr", self._lr),
            batches=batches,
            metadata=self._metadata(),
        )

