"""Training maps rebuilt from stored runs (built-in model spec plus data reference)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from graphtraj._checks import _describe, check_int
from graphtraj.dynamics.optimizers import rule_from_metadata
from graphtraj.dynamics.step_maps import TrainingMap, training_map
from graphtraj.exceptions import NotReplayableError, ValidationError

__all__ = ["training_map_from_run", "resolve_run"]


def _consecutive(times: np.ndarray) -> bool:
    return times.size >= 2 and bool(np.all(np.diff(times) == 1))


def _malformed(field: str, exc: Exception) -> NotReplayableError:
    """The error for run metadata whose ``field`` cannot be used to replay the run."""
    return NotReplayableError(
        f"this run cannot be replayed: its {field} is malformed: {exc}. Rewrite that "
        "field of the run's metadata as graphtraj.capture.train_ensemble writes it."
    )


def _check_width(traj: Any, n_params: int, meta: Mapping[str, Any]) -> None:
    """The stored states must have one value per parameter of the rebuilt model."""
    width = int(np.shape(traj.states)[-1])
    if width != n_params:
        model = meta.get("model")
        sizes = model.get("sizes") if isinstance(model, Mapping) else None
        spec = f" (metadata['model']['sizes'] = {list(sizes)})" if sizes is not None else ""
        raise NotReplayableError(
            f"this run cannot be replayed: its metadata describe a model with {n_params} "
            f"parameters{spec}, but its stored states have {width} values per step; the "
            "metadata do not belong to these states (correct metadata['model'] to the "
            "network that produced them)"
        )


def _batch_size(opt: Mapping[str, Any], n: int) -> int:
    """``opt["batch_size"]``: an integer from 1 to the number ``n`` of samples."""
    try:
        return check_int(opt["batch_size"], "batch_size", minimum=1, maximum=n)
    except ValidationError as exc:
        raise _malformed("metadata['optimizer']['batch_size']", exc) from None


def _sampler_batches(desc: Mapping[str, Any], n: int, batch_size: int, count: int) -> list:
    """The first ``count`` batches of an IndexSampler run epoch after epoch."""
    from graphtraj.capture.recorder import IndexSampler

    flags = {}
    for key, default in (("shuffle", True), ("drop_last", False)):
        value = desc.get(key, default)
        if not isinstance(value, (bool, np.bool_)):
            raise _malformed(f"metadata['optimizer']['sampler']['{key}']", ValidationError(
                f"`{key}` must be true or false; got {_describe(value)}"))
        flags[key] = bool(value)
    try:
        sampler = IndexSampler(n, batch_size, seed=desc.get("seed", 0), **flags)
    except ValidationError as exc:
        raise _malformed("metadata['optimizer']['sampler']", exc) from None
    out: list = []
    while len(out) < count:
        out.extend(b.copy() for b in sampler)
    return out[:count]


def training_map_from_run(
    run: Any, *, fast: bool = False, chunk_size: int | None = None
) -> TrainingMap:
    """The training map of a stored run, rebuilt from its metadata.

    Parameters
    ----------
    run : Trajectory or dict
        A run (or its ``metadata``) recorded with a built-in model spec
        (``metadata["model"]``), a data reference (``metadata["data"]``) and the
        optimizer (``metadata["optimizer"]``); mini-batch runs also need the batch of
        every step: recorded (``Trajectory.batches`` at consecutive steps) or
        regenerated from a seeded ``IndexSampler`` described in
        ``metadata["optimizer"]["sampler"]`` (as :func:`~graphtraj.capture.train_ensemble`
        writes).
    fast : bool, default False
        Use the MLP fast path (exact, faster) instead of the general path.
    chunk_size : int, optional
        Samples evaluated at once.

    Returns
    -------
    TrainingMap
        For a mini-batch run, batches cover the recorded steps (from step 0 when
        regenerated from the sampler).

    Raises
    ------
    NotReplayableError
        If the run is marked not replayable (a user module, a foreign optimizer), lacks
        its model spec, data reference or optimizer, is a mini-batch run without a
        batch for every step, has a malformed metadata field (the message names it,
        e.g. ``metadata['optimizer']['batch_size']``), or its metadata describe a model
        whose parameter count differs from the width of its stored states.

    Examples
    --------
    >>> training_map_from_run({"replayable": False})
    Traceback (most recent call last):
    ...
    graphtraj.exceptions.NotReplayableError: this run cannot be replayed: ...
    """
    from graphtraj.trajectory import Trajectory

    traj = run if isinstance(run, Trajectory) else None
    meta = run.metadata if traj is not None else run
    if not isinstance(meta, Mapping):
        hint = (" (pick one replica of the ensemble: ens.replica(0), the reference "
                "network of a perturbation ensemble)" if type(run).__name__ == "Ensemble" else "")
        raise ValidationError(
            f"`run` must be a Trajectory or its metadata dict; got {_describe(run)}{hint}"
        )
    missing = [key for key in ("model", "data", "optimizer") if not meta.get(key)]
    if not meta.get("replayable", False) or missing:
        if not meta.get("replayable", False):
            why = str(meta.get("replayable_reason") or "metadata['replayable'] is false")
        else:
            why = f"the metadata lack {', '.join(missing)}"
        raise NotReplayableError(
            f"this run cannot be replayed: {why}. The tangent map needs a built-in model "
            "spec (metadata['model']), a data reference (metadata['data']) and an SGD "
            "optimizer description (metadata['optimizer']), as written by "
            "graphtraj.capture.train_ensemble or a Recorder on a graphtraj MLP with "
            "torch.optim.SGD. For your own module, build the map with "
            "graphtraj.dynamics.training_map(model, X, y, ...)."
        )
    from graphtraj.capture.replay import model_from_metadata

    opt = meta["optimizer"]
    if not isinstance(opt, Mapping):
        raise _malformed("metadata['optimizer']", ValidationError(
            f"it must be a dict with 'name' and 'lr'; got {_describe(opt)}"))
    try:
        model, X, y = model_from_metadata(dict(meta))
    except ValidationError as exc:
        raise _malformed("model or data description (metadata['model'], metadata['data'], "
                         "metadata['dtype'])", exc) from None
    if traj is not None:
        _check_width(traj, model.layout.size, meta)
    try:
        rule = rule_from_metadata(opt)
    except ValidationError as exc:
        raise _malformed("metadata['optimizer']", exc) from None
    batches = None
    first = 0
    if opt.get("batch_size") is not None:
        batch_size = _batch_size(opt, int(X.shape[0]))
        if traj is not None and traj.batches is not None and _consecutive(traj.times):
            batches = traj.batches
            first = int(traj.times[0])
        elif isinstance(opt.get("sampler"), Mapping) and opt["sampler"].get("kind") == "IndexSampler":
            stop = int(traj.times[-1]) if traj is not None else 0
            batches = _sampler_batches(opt["sampler"], int(X.shape[0]), batch_size, max(stop, 1))
        else:
            raise NotReplayableError(
                "this mini-batch run cannot be replayed: the batch of every step is needed "
                "(record every step with its batch, Recorder.record(step, batch=...), or "
                "describe the sampler in metadata['optimizer']['sampler'])"
            )
    return training_map(
        model, X, y, optimizer=rule, batches=batches, first_step=first, fast=fast,
        chunk_size=chunk_size,
    )


def resolve_run(
    traj: Any, n_steps: int | None = None, *, fast: bool = False, system: TrainingMap | None = None
) -> tuple[TrainingMap, Any, Any, int, int | None]:
    """Map and starting point for following a stored run.

    Returns ``(map, x0, along, t0, n_steps)``: along the recorded states (``along``,
    ``x0 = None``) when every step was recorded and the optimizer has no state; else a
    fresh run from the first record (``x0``), which needs the run to start at step 0
    when the optimizer has a state (its state is not recorded). ``system``: an already
    rebuilt map of the run (default: :func:`training_map_from_run`).

    Raises
    ------
    NotReplayableError
        See :func:`training_map_from_run`; also for a stateful optimizer whose first
        record is not step 0.
    ValidationError
        If ``system`` has a parameter count other than the width of the run's states.
    """
    if system is None:
        tm = training_map_from_run(traj, fast=fast)
    else:
        tm = system
        width = int(np.shape(traj.states)[-1])
        if tm.n_params != width:
            raise ValidationError(
                f"`system` must have {width} parameters (the width of the run's states); "
                f"got a map with {tm.n_params}. Pass the map of this run, or omit `system`"
            )
    times = np.asarray(traj.times)
    if n_steps is not None:
        n_steps = check_int(n_steps, "n_steps", minimum=1)
    if tm.n_state == 0 and _consecutive(times):
        stop = len(times) if n_steps is None else min(len(times), n_steps + 1)
        along = np.asarray(traj.states[:stop], dtype=np.float64)
        return tm, None, along, int(times[0]), n_steps
    if tm.n_state and int(times[0]) != 0:
        raise NotReplayableError(
            f"the optimizer state ({', '.join(tm.rule.state_names())}) at step "
            f"{int(times[0])} was not recorded; a run with momentum can be replayed only "
            "from step 0"
        )
    x0 = tm.initial_state(np.asarray(traj.states[0], dtype=np.float64))
    if n_steps is None:
        n_steps = int(times[-1] - times[0])
        if n_steps < 1:
            raise ValidationError(
                "`n_steps` must be given: the run has a single recorded step"
            )
    return tm, x0, None, int(times[0]), n_steps
