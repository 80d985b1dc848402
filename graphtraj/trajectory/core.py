"""`Trajectory` and `Ensemble`: training runs as time series of parameter states."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from graphtraj._checks import check_int
from graphtraj.exceptions import ValidationError
from graphtraj.trajectory.layout import ParamLayout

__all__ = ["Trajectory", "Ensemble"]


def _opt_series(value: Any, n: int, name: str) -> np.ndarray | None:
    if value is None:
        return None
    arr = np.asarray(value, dtype=np.float64)
    if arr.shape != (n,):
        raise ValidationError(f"`{name}` must have shape ({n},); got {arr.shape}")
    return arr


@dataclass(frozen=True, eq=False)
class Trajectory:
    """One training run: the parameter state at each recorded step.

    Parameters
    ----------
    times : array of int, shape (T,)
        Training step of each record (strictly increasing; step 0 = initial state).
    states : array-like, shape (T, P)
        Flat parameter vectors (see :class:`ParamLayout`). May be a lazy array
        (a zarr array from a store); ``np.asarray(traj.states)`` loads it.
    layout : ParamLayout
        How each state vector splits into named tensors.
    loss, accuracy, lr : array of float, shape (T,), optional
        Training loss, accuracy and learning rate at each recorded step (loss and
        accuracy are those of the state at that step). NaN where not measured.
    extra : mapping of str to array of shape (T,), optional
        Further per-record series (e.g. ``"test_loss"``).
    batches : array of int, shape (T, B), optional
        Indices of the mini-batch used by the step that *leaves* each record, when
        recorded (needed to replay SGD).
    metadata : dict
        JSON-able description: ``model`` (spec), ``optimizer``, ``data``, ``seed``,
        ``versions``, ``replayable`` (bool) and anything else.

    Examples
    --------
    >>> import numpy as np
    >>> lay = ParamLayout(["w"], [(2,)])
    >>> tr = Trajectory(np.arange(3), np.zeros((3, 2)), lay)
    >>> len(tr), tr.n_params
    (3, 2)
    """

    times: np.ndarray
    states: Any
    layout: ParamLayout
    loss: np.ndarray | None = None
    accuracy: np.ndarray | None = None
    lr: np.ndarray | None = None
    extra: Mapping[str, np.ndarray] = field(default_factory=dict)
    batches: np.ndarray | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        times = np.asarray(self.times)
        if times.ndim != 1 or times.dtype.kind not in "iu":
            raise ValidationError(
                f"`times` must be a 1-D integer array; got shape {times.shape}, dtype {times.dtype}"
            )
        times = times.astype(np.int64)
        if times.size > 1 and np.any(np.diff(times) <= 0):
            raise ValidationError("`times` must be strictly increasing")
        if not isinstance(self.layout, ParamLayout):
            raise ValidationError(
                f"`layout` must be a ParamLayout; got {type(self.layout).__name__}"
            )
        shape = tuple(getattr(self.states, "shape", np.shape(self.states)))
        if not hasattr(self.states, "shape"):
            object.__setattr__(self, "states", np.asarray(self.states, dtype=np.float64))
        if shape != (times.size, self.layout.size):
            raise ValidationError(
                f"`states` must have shape (T, P) = ({times.size}, {self.layout.size}); "
                f"got {shape}"
            )
        n = times.size
        object.__setattr__(self, "times", times)
        object.__setattr__(self, "loss", _opt_series(self.loss, n, "loss"))
        object.__setattr__(self, "accuracy", _opt_series(self.accuracy, n, "accuracy"))
        object.__setattr__(self, "lr", _opt_series(self.lr, n, "lr"))
        object.__setattr__(
            self, "extra", {k: _opt_series(v, n, f"extra[{k!r}]") for k, v in self.extra.items()}
        )
        if self.batches is not None:
            b = np.asarray(self.batches)
            if b.ndim != 2 or b.shape[0] != n or b.dtype.kind not in "iu":
                raise ValidationError(
                    f"`batches` must be an integer array of shape ({n}, B); got {b.shape}"
                )
            object.__setattr__(self, "batches", b.astype(np.int64))
        object.__setattr__(self, "metadata", dict(self.metadata))

    def __len__(self) -> int:
        return int(self.times.size)

    @property
    def n_params(self) -> int:
        """Number of parameters P."""
        return self.layout.size

    @property
    def replayable(self) -> bool:
        """Whether the run can be rebuilt and replayed (built-in model and data)."""
        return bool(self.metadata.get("replayable", False))

    def load(self) -> Trajectory:
        """A copy whose states are an in-memory float64 numpy array."""
        return self._replace(states=np.asarray(self.states[:], dtype=np.float64))

    def window(self, start: int | None = None, stop: int | None = None) -> Trajectory:
        """The records with ``start <= times < stop`` (steps, not indices).

        Lazy states stay lazy: only the slice is read when accessed.
        """
        lo = 0 if start is None else int(np.searchsorted(self.times, start, "left"))
        hi = len(self) if stop is None else int(np.searchsorted(self.times, stop, "left"))
        return self.isel(slice(lo, hi))

    def isel(self, index: slice | np.ndarray) -> Trajectory:
        """The records at positional ``index`` (a slice or an integer array)."""
        def take(a: Any) -> Any:
            return None if a is None else a[index]

        states = self.states[index]  # lazy (zarr) arrays read only the selected rows
        return Trajectory(
            times=self.times[index],
            states=states,
            layout=self.layout,
            loss=take(self.loss),
            accuracy=take(self.accuracy),
            lr=take(self.lr),
            extra={k: v[index] for k, v in self.extra.items()},
            batches=take(self.batches),
            metadata=self.metadata,
        )

    def subsample(self, max_records: int) -> Trajectory:
        """At most ``max_records`` records, evenly spaced, always keeping the first."""
        max_records = check_int(max_records, "max_records", minimum=1)
        if len(self) <= max_records:
            return self
        idx = np.unique(np.linspace(0, len(self) - 1, max_records).round().astype(np.int64))
        return self.isel(idx)

    def params(self, i: int) -> dict[str, np.ndarray]:
        """Named parameter arrays of record ``i`` (positional)."""
        return self.layout.unflatten(np.asarray(self.states[i], dtype=np.float64))

    def _replace(self, **changes: Any) -> Trajectory:
        fields = {
            "times": self.times, "states": self.states, "layout": self.layout,
            "loss": self.loss, "accuracy": self.accuracy, "lr": self.lr,
            "extra": self.extra, "batches": self.batches, "metadata": self.metadata,
        }
        fields.update(changes)
        return Trajectory(**fields)


@dataclass(frozen=True, eq=False)
class Ensemble:
    """R replicas of one architecture trained in lockstep.

    Replicas are either references (independent initial conditions) or perturbed
    copies of a reference. Per-step observables are recorded for every replica at
    every step in ``steps``; full states only at ``times`` (possibly none).

    Parameters
    ----------
    layout : ParamLayout
        Parameter layout shared by all replicas.
    steps : array of int, shape (S,)
        Steps at which ``observables`` were recorded.
    observables : mapping of str to array, shape (R, S)
        Streaming measurements, typically ``"loss"``, ``"accuracy"``, ``"dist_l1"``
        and ``"dist_l2"`` (distance of each replica to its reference; 0 for
        references). NaN after a replica diverged.
    reference : array of int, shape (R,)
        Index of each replica's reference replica (its own index for references).
    diverged_at : array of int, shape (R,)
        First step at which the replica's parameters became non-finite, -1 if never.
        A diverged replica is frozen at its last finite state.
    times : array of int, shape (T,), optional
        Steps at which full states were recorded.
    states : array-like, shape (R, T, P), optional
        Recorded states (may be lazy).
    metadata : dict
        As for :class:`Trajectory`, plus ``perturbation`` (kind, eps, target, t0) and
        ``init_id`` information.

    Examples
    --------
    >>> import numpy as np
    >>> lay = ParamLayout(["w"], [(2,)])
    >>> ens = Ensemble(lay, np.arange(4), {"loss": np.zeros((3, 4))},
    ...                reference=np.array([0, 0, 0]), diverged_at=np.full(3, -1))
    >>> ens.n_replicas, ens.reference_indices().tolist()
    (3, [0])
    """

    layout: ParamLayout
    steps: np.ndarray
    observables: Mapping[str, np.ndarray]
    reference: np.ndarray
    diverged_at: np.ndarray
    times: np.ndarray | None = None
    states: Any = None
    metadata: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        steps = np.asarray(self.steps).astype(np.int64)
        ref = np.asarray(self.reference).astype(np.int64)
        div = np.asarray(self.diverged_at).astype(np.int64)
        r = ref.size
        if ref.ndim != 1 or div.shape != (r,):
            raise ValidationError(
                f"`reference` and `diverged_at` must both have shape (R,); got "
                f"{ref.shape} and {div.shape}"
            )
        if np.any((ref < 0) | (ref >= r)) or np.any(ref[ref] != ref):
            raise ValidationError(
                "`reference` must map each replica to a reference replica that is its "
                "own reference"
            )
        obs = {}
        for k, v in self.observables.items():
            a = np.asarray(v, dtype=np.float64)
            if a.shape != (r, steps.size):
                raise ValidationError(
                    f"observable {k!r} must have shape (R, S) = ({r}, {steps.size}); got {a.shape}"
                )
            obs[k] = a
        times = None
        if self.states is not None:
            if self.times is None:
                raise ValidationError("`times` must be given with `states`")
            times = np.asarray(self.times).astype(np.int64)
            shape = tuple(self.states.shape)
            if shape != (r, times.size, self.layout.size):
                raise ValidationError(
                    f"`states` must have shape (R, T, P) = ({r}, {times.size}, "
                    f"{self.layout.size}); got {shape}"
                )
        object.__setattr__(self, "steps", steps)
        object.__setattr__(self, "reference", ref)
        object.__setattr__(self, "diverged_at", div)
        object.__setattr__(self, "observables", obs)
        object.__setattr__(self, "times", times)
        object.__setattr__(self, "metadata", dict(self.metadata))

    @property
    def n_replicas(self) -> int:
        """Number of replicas R."""
        return int(self.reference.size)

    def reference_indices(self) -> np.ndarray:
        """Indices of the reference replicas."""
        return np.flatnonzero(self.reference == np.arange(self.n_replicas))

    def perturbed_of(self, ref: int) -> np.ndarray:
        """Indices of the perturbed copies of reference replica ``ref``."""
        idx = np.flatnonzero(self.reference == ref)
        return idx[idx != ref]

    def replica(self, r: int) -> Trajectory:
        """Replica ``r`` as a :class:`Trajectory` (needs recorded states)."""
        r = check_int(r, "r", minimum=0, maximum=self.n_replicas - 1)
        if self.states is None:
            raise ValidationError(
                "this ensemble recorded no full states; train with `record_every` set "
                "to obtain replica trajectories"
            )
        pos = np.searchsorted(self.steps, self.times)
        inside = (pos < self.steps.size) & (self.steps[np.minimum(pos, self.steps.size - 1)] == self.times)

        def at_times(name: str) -> np.ndarray | None:
            if name not in self.observables:
                return None
            out = np.full(self.times.size, np.nan)
            out[inside] = self.observables[name][r, pos[inside]]
            return out

        meta = dict(self.metadata)
        meta["replica"] = r
        meta["reference_replica"] = int(self.reference[r])
        return Trajectory(
            times=self.times,
            states=self.states[r],
            layout=self.layout,
            loss=at_times("loss"),
            accuracy=at_times("accuracy"),
            metadata=meta,
        )
