"""`Trajectory` and `Ensemble`: training runs as time series of parameter states."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from graphtraj._checks import as_float_array, check_int, check_real
from graphtraj.exceptions import ValidationError
from graphtraj.trajectory.layout import ParamLayout

__all__ = ["Trajectory", "Ensemble"]


def _opt_series(value: Any, n: int, name: str) -> np.ndarray | None:
    if value is None:
        return None
    arr = as_float_array(value, name, finite=False, min_len=0)
    if arr.shape != (n,):
        raise ValidationError(f"`{name}` must have shape ({n},); got {arr.shape}")
    return arr


def _real_states(states: Any, name: str = "states") -> Any:
    """States as given when array-like with a ``shape`` and a real ``dtype`` (numpy,
    zarr, :class:`~graphtraj.trajectory.store.LazyStates`); anything else (nested
    sequences, table-like objects) becomes a float64 array. Complex, object and string
    data are rejected."""
    if not (hasattr(states, "shape") and hasattr(states, "dtype")):
        return as_float_array(states, name, finite=False, min_len=0)
    dtype = getattr(states, "dtype", None)
    if dtype is not None and np.dtype(dtype).kind not in "biuf":
        raise ValidationError(
            f"`{name}` must hold real numbers; got an array of dtype {np.dtype(dtype)}"
        )
    return states


def _check_increasing(values: np.ndarray, name: str) -> None:
    bad = np.flatnonzero(np.diff(values) <= 0)
    if bad.size:
        i = int(bad[0])
        raise ValidationError(
            f"`{name}` must be strictly increasing; got {name}[{i}] = {values[i]} >= "
            f"{name}[{i + 1}] = {values[i + 1]}. Sort the records and drop duplicates."
        )


def _int_values(value: Any, name: str) -> np.ndarray:
    """An int64 array from integer (or integral-valued float) data; fractions rejected."""
    try:
        arr = np.asarray(value)
    except (TypeError, ValueError) as exc:
        raise ValidationError(f"`{name}` must be an array of integers; got {exc}") from None
    if arr.dtype.kind in "iu":
        return arr.astype(np.int64)
    if arr.dtype.kind == "f" and np.all(np.isfinite(arr)) and np.all(arr == np.round(arr)):
        return arr.astype(np.int64)
    bad = arr.ravel()[:3].tolist() if arr.dtype.kind != "f" else arr[
        ~(np.isfinite(arr) & (arr == np.round(arr)))][:3].tolist()
    raise ValidationError(
        f"`{name}` must hold integers; got dtype {arr.dtype} with values such as {bad}"
    )


def _mapping(value: Any, name: str, what: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ValidationError(f"`{name}` must be a mapping of {what}; got {type(value).__name__}")
    bad = [k for k in value if not isinstance(k, str)]
    if bad:
        raise ValidationError(f"`{name}` keys must be strings; got {bad[:3]}")
    return value


def count_of(n: int, noun: str) -> str:
    """``"1 replica"``, ``"2 replicas"``: a count with its noun, for summaries."""
    return f"{n} {noun}{'' if n == 1 else 's'}"


def every_kth(n: int, at_most: int) -> np.ndarray:
    """Positions ``0, k, 2k, ...`` below ``n`` with one stride ``k = ceil(n / at_most)``:
    at most ``at_most`` of them, evenly spaced in position (a rounded linspace would mix
    strides k and k + 1)."""
    return np.arange(0, n, max(1, -(-n // at_most)))


def _count_steps(n: int, noun: str, steps: np.ndarray) -> str:
    """``"3 records (steps 0..4)"``: a count with its step range, for short reprs."""
    text = count_of(n, noun)
    if steps.size == 1:
        return f"{text} (step {int(steps[0])})"
    if steps.size > 1:
        return f"{text} (steps {int(steps[0])}..{int(steps[-1])})"
    return text


@dataclass(frozen=True, eq=False)
class Trajectory:
    """One training run: the parameter state at each recorded step.

    Parameters
    ----------
    times : array of int, shape (T,)
        Training step of each record (strictly increasing; step 0 = initial state).
    states : array-like, shape (T, P)
        Flat parameter vectors (see :class:`ParamLayout`), real-valued. May be a
        lazy array with ``shape`` and ``dtype`` (the
        :class:`~graphtraj.trajectory.store.LazyStates` of a stored run);
        ``np.asarray(traj.states)`` loads it. Other array-likes (nested lists, tables)
        are converted to float64.
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
        _check_increasing(times, "times")
        if not isinstance(self.layout, ParamLayout):
            raise ValidationError(
                f"`layout` must be a ParamLayout; got {type(self.layout).__name__}"
            )
        object.__setattr__(self, "states", _real_states(self.states))
        shape = tuple(self.states.shape)
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
        extra = _mapping(self.extra, "extra", "name to (T,) array")
        object.__setattr__(
            self, "extra", {k: _opt_series(v, n, f"extra[{k!r}]") for k, v in extra.items()}
        )
        if self.batches is not None:
            b = np.asarray(self.batches)
            if b.ndim != 2 or b.shape[0] != n or b.dtype.kind not in "iu":
                raise ValidationError(
                    f"`batches` must be an integer array of shape ({n}, B); got {b.shape}"
                )
            object.__setattr__(self, "batches", b.astype(np.int64))
        object.__setattr__(self, "metadata", dict(_mapping(self.metadata, "metadata", "JSON-able values")))

    def __len__(self) -> int:
        return int(self.times.size)

    def __repr__(self) -> str:
        """A one-line summary (sizes and steps, not the arrays)."""
        series = [k for k in ("loss", "accuracy", "lr") if getattr(self, k) is not None]
        series += list(self.extra)
        parts = [_count_steps(len(self), "record", self.times), f"{self.n_params} parameters"]
        if series:
            parts.append("series: " + ", ".join(series))
        if self.batches is not None:
            parts.append("batches recorded")
        parts.append(f"replayable={self.replayable}")
        return f"Trajectory({'; '.join(parts)})"

    @property
    def n_params(self) -> int:
        """Number of parameters P."""
        return self.layout.size

    @property
    def replayable(self) -> bool:
        """Whether the run can be rebuilt and replayed (built-in model and data)."""
        return bool(self.metadata.get("replayable", False))

    def load(self) -> Trajectory:
        """A copy whose states are an in-memory float64 numpy array.

        Examples
        --------
        >>> tr = Trajectory([0, 1], np.ones((2, 1), dtype=np.float32), ParamLayout(["w"], [(1,)]))
        >>> tr.load().states.dtype
        dtype('float64')
        """
        return self._replace(states=np.asarray(self.states[:], dtype=np.float64))

    def window(self, start: float | None = None, stop: float | None = None) -> Trajectory:
        """The records with ``start <= times < stop`` (steps, not indices).

        Only the selected records are read from lazy (stored) states.

        Raises
        ------
        ValidationError
            If ``start`` or ``stop`` is not a finite real number (or None), or
            ``start > stop``. A window that holds no record (e.g. beyond the last
            step) gives an empty trajectory.

        Examples
        --------
        >>> tr = Trajectory(np.arange(0, 10, 2), np.zeros((5, 1)), ParamLayout(["w"], [(1,)]))
        >>> tr.window(3, 8).times.tolist()
        [4, 6]
        """
        if start is not None:
            start = check_real(start, "start")
        if stop is not None:
            stop = check_real(stop, "stop")
        if start is not None and stop is not None and start > stop:
            raise ValidationError(
                f"`start` must be <= `stop` (steps, start inclusive, stop exclusive); got "
                f"start={start:g}, stop={stop:g}"
            )
        lo = 0 if start is None else int(np.searchsorted(self.times, start, "left"))
        hi = len(self) if stop is None else int(np.searchsorted(self.times, stop, "left"))
        return self.isel(slice(lo, hi))

    def isel(self, index: slice | np.ndarray) -> Trajectory:
        """The records at positional ``index``: a slice, or a 1-D array of increasing
        integer positions or of booleans (one per record).

        Raises
        ------
        ValidationError
            If ``index`` is neither, out of range, or selects records out of order.

        Examples
        --------
        >>> tr = Trajectory(np.arange(0, 10, 2), np.zeros((5, 1)), ParamLayout(["w"], [(1,)]))
        >>> tr.isel(np.array([0, 3])).times.tolist(), tr.isel(slice(-2, None)).times.tolist()
        ([0, 6], [6, 8])
        """
        if not isinstance(index, slice):
            idx = np.asarray(index)
            n = len(self)
            if idx.ndim != 1 or idx.dtype.kind not in "biu":
                raise ValidationError(
                    "`index` must be a slice or a 1-D integer or boolean array; got "
                    f"{index!r}. Use isel([i]) or isel(slice(i, i + 1)) for one record."
                )
            if idx.dtype.kind == "b" and idx.shape != (n,):
                raise ValidationError(
                    f"`index` must have one boolean per record ({n}); got {idx.size}"
                )
            if idx.dtype.kind in "iu" and idx.size and (idx.min() < -n or idx.max() >= n):
                raise ValidationError(
                    f"`index` positions must be in [{-n}, {n - 1}]; got {idx.min()}..{idx.max()}"
                )
            index = idx

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
        """At most ``max_records`` records: every k-th, starting with the first.

        The stride is constant, ``k = ceil(T / max_records)``, so the kept records keep
        the spacing of the original ones (a rounded, "evenly spaced" selection would mix
        strides k and k + 1 and break diagonal lines in recurrence analysis). The last
        record is kept only when ``T - 1`` is a multiple of ``k``.

        Examples
        --------
        >>> tr = Trajectory(np.arange(10), np.zeros((10, 1)), ParamLayout(["w"], [(1,)]))
        >>> tr.subsample(4).times.tolist()
        [0, 3, 6, 9]
        >>> tr.subsample(6).times.tolist()
        [0, 2, 4, 6, 8]
        """
        max_records = check_int(max_records, "max_records", minimum=1)
        if len(self) <= max_records:
            return self
        return self.isel(every_kth(len(self), max_records))

    def params(self, i: int) -> dict[str, np.ndarray]:
        """Named parameter arrays of record ``i`` (positional; negative from the end).

        Examples
        --------
        >>> tr = Trajectory(np.arange(2), np.arange(6.0).reshape(2, 3),
        ...                 ParamLayout(["w", "b"], [(2,), (1,)]))
        >>> {k: v.tolist() for k, v in tr.params(-1).items()}
        {'w': [3.0, 4.0], 'b': [5.0]}
        """
        i = check_int(i, "i", minimum=-len(self), maximum=len(self) - 1)
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
        if not isinstance(self.layout, ParamLayout):
            raise ValidationError(
                f"`layout` must be a ParamLayout; got {type(self.layout).__name__}"
            )
        steps = _int_values(self.steps, "steps")
        if steps.ndim != 1:
            raise ValidationError(f"`steps` must be 1-D; got shape {steps.shape}")
        _check_increasing(steps, "steps")
        ref = _int_values(self.reference, "reference")
        div = _int_values(self.diverged_at, "diverged_at")
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
        if np.any(div < -1):
            raise ValidationError(
                f"`diverged_at` must be >= -1 (-1: never diverged); got {div.min()}"
            )
        obs = {}
        for k, v in _mapping(self.observables, "observables", "name to (R, S) array").items():
            try:
                a = np.asarray(v)
            except (TypeError, ValueError) as exc:
                raise ValidationError(f"observable {k!r} must be an (R, S) array; got {exc}") from None
            if a.dtype.kind not in "biuf":
                raise ValidationError(f"observable {k!r} must hold real numbers; got dtype {a.dtype}")
            a = a.astype(np.float64)
            if a.shape != (r, steps.size):
                raise ValidationError(
                    f"observable {k!r} must have shape (R, S) = ({r}, {steps.size}); got {a.shape}"
                )
            obs[k] = a
        times = None
        if self.states is not None:
            if self.times is None:
                raise ValidationError("`times` must be given with `states`")
            times = _int_values(self.times, "times")
            if times.ndim != 1:
                raise ValidationError(f"`times` must be 1-D; got shape {times.shape}")
            _check_increasing(times, "times")
            object.__setattr__(self, "states", _real_states(self.states))
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
        object.__setattr__(self, "metadata", dict(_mapping(self.metadata, "metadata", "JSON-able values")))

    def __repr__(self) -> str:
        """A one-line summary (sizes and steps, not the arrays)."""
        n_ref = int(self.reference_indices().size)
        n_div = int(np.count_nonzero(self.diverged_at >= 0))
        parts = [f"{count_of(self.n_replicas, 'replica')} ({count_of(n_ref, 'reference')})",
                 f"{self.layout.size} parameters",
                 "observed at " + _count_steps(self.steps.size, "step", self.steps)]
        if self.observables:
            parts.append("observables: " + ", ".join(self.observables))
        if self.states is not None:
            parts.append("states at " + _count_steps(self.times.size, "step", self.times))
        else:
            parts.append("no states")
        parts.append(f"{n_div} diverged")
        return f"Ensemble({'; '.join(parts)})"

    @property
    def n_replicas(self) -> int:
        """Number of replicas R."""
        return int(self.reference.size)

    def reference_indices(self) -> np.ndarray:
        """Indices of the reference replicas."""
        return np.flatnonzero(self.reference == np.arange(self.n_replicas))

    def perturbed_of(self, ref: int) -> np.ndarray:
        """Indices of the perturbed copies of reference replica ``ref``.

        Examples
        --------
        >>> ens = Ensemble(ParamLayout(["w"], [(1,)]), [0], {}, reference=[0, 0, 2, 2],
        ...                diverged_at=[-1] * 4)
        >>> ens.perturbed_of(2).tolist()
        [3]
        """
        idx = np.flatnonzero(self.reference == ref)
        return idx[idx != ref]

    def replica(self, r: int) -> Trajectory:
        """Replica ``r`` as a :class:`Trajectory` (needs recorded states).

        Observables are sampled at the state times (NaN where a time was not observed).

        Examples
        --------
        >>> ens = Ensemble(ParamLayout(["w"], [(1,)]), [0, 1], {"loss": [[1.0, 0.5]]},
        ...                reference=[0], diverged_at=[-1], times=[1],
        ...                states=np.full((1, 1, 1), 7.0))
        >>> tr = ens.replica(0)
        >>> tr.times.tolist(), tr.loss.tolist(), tr.states.tolist()
        ([1], [0.5], [[7.0]])
        """
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
