"""A human-readable listing of what a trajectory store holds (``graphtraj analyze STORE``)."""

from __future__ import annotations

import os
from typing import Any

from graphtraj.exceptions import StoreError
from graphtraj.trajectory.core import count_of as _count
from graphtraj.trajectory.store import Store, open_store

__all__ = ["describe_store", "describe_run"]


def _steps(summary: dict[str, Any]) -> str:
    first, last = summary.get("first_step"), summary.get("last_step")
    return "no steps" if first is None else f"steps {first}..{last}"


def _model(meta: dict[str, Any]) -> str:
    model = meta.get("model")
    if not isinstance(model, dict):
        return "model: not recorded"
    parts = [str(model.get("kind", "?"))]
    if isinstance(model.get("sizes"), list):
        parts.append("-".join(str(s) for s in model["sizes"]))
    for key in ("activation", "loss"):
        if model.get(key) is not None:
            parts.append(str(model[key]))
    return "model: " + " ".join(parts)


def _optimizer(meta: dict[str, Any]) -> str | None:
    opt = meta.get("optimizer")
    if not isinstance(opt, dict):
        return None
    text = f"optimizer: {opt.get('name', '?')} lr={opt.get('lr', '?')}"
    if opt.get("momentum"):
        text += f" momentum={opt['momentum']}"
    batch = opt.get("batch_size")
    text += " full batch" if batch is None else f" batch {batch}"
    return text


def _data(meta: dict[str, Any]) -> str:
    data = meta.get("data")
    if not isinstance(data, dict):
        return "data: not recorded"
    if "path" in data:
        return f"data: file {data['path']}"
    opts = ", ".join(f"{k}={v}" for k, v in data.items() if k != "name")
    return f"data: {data.get('name', '?')}" + (f" ({opts})" if opts else "")


def describe_run(info: dict[str, Any]) -> str:
    """Lines describing one run, from :meth:`Store.info`.

    Parameters
    ----------
    info : dict
        The dictionary returned by :meth:`graphtraj.trajectory.store.Store.info`.

    Returns
    -------
    str
        A few lines: name, kind and sizes first, then model, optimizer, data and
        whether the run can be replayed.

    Examples
    --------
    >>> import tempfile, numpy as np
    >>> from graphtraj import ParamLayout, Trajectory, open_store
    >>> tr = Trajectory(np.arange(4), np.zeros((4, 3)), ParamLayout(["w"], [(3,)]),
    ...                 loss=np.ones(4), metadata={"seed": 7})
    >>> with tempfile.TemporaryDirectory() as d:
    ...     st = open_store(d, "w")
    ...     st.write("run", tr)
    ...     lines = describe_run(st.info("run")).splitlines()
    >>> lines[0]
    'run: trajectory, 4 records (steps 0..3), P=3, states float64'
    >>> lines[1].strip(), lines[4].strip(), lines[5].strip()
    ('series: loss', 'seed 7', 'not replayable')
    """
    s, meta, arrays = info["summary"], info["metadata"], info["arrays"]
    if info["kind"] == "trajectory":
        head = (f"{info['name']}: trajectory, {_count(s['n_records'], 'record')} ({_steps(s)}), "
                f"P={info['n_params']}, states {s['states_dtype']}")
        series = list(s.get("series", [])) + list(s.get("extra", []))
        details = [f"series: {', '.join(series) if series else 'none'}"]
        if s.get("batch_size") is not None:
            details.append(f"batches recorded (size {s['batch_size']})")
    else:
        head = (f"{info['name']}: ensemble of {_count(s['n_replicas'], 'replica')} "
                f"({_count(s['n_references'], 'reference')}), "
                f"{_count(s['n_steps'], 'observed step')} "
                f"({_steps(s)}), P={info['n_params']}")
        details = [f"observables: {', '.join(s['observables']) or 'none'}"]
        if "states" in arrays:
            details.append(f"states {tuple(arrays['states']['shape'])} {s['states_dtype']} "
                           f"at {s['n_state_times']} times")
        else:
            details.append("no full states recorded")
        details.append(f"{s['n_diverged']} diverged")
    pert = meta.get("perturbation")
    if isinstance(pert, dict):
        details.append("perturbation: " + ", ".join(f"{k}={v}" for k, v in pert.items()))
    details.append(_model(meta))
    opt = _optimizer(meta)
    if opt:
        details.append(opt)
    details.append(_data(meta))
    if "seed" in meta:
        details.append(f"seed {meta['seed']}")
    details.append("replayable" if info["replayable"] else "not replayable")
    details.append(f"{info['stored_bytes'] / 1e6:.2f} MB on disk")
    return "\n".join([head] + ["    " + d for d in details])


def describe_store(store: Store | str | os.PathLike) -> str:
    """A human-readable listing of a trajectory store: its runs and what each holds.

    Parameters
    ----------
    store : Store or path
        An open store, or the path of one (opened read-only).

    Returns
    -------
    str
        A header line (path, format version, number of runs), then per run: kind,
        sizes, step range, observables or series, states shape, model, optimizer
        and learning rate, data, seed, whether it is replayable and its size on
        disk. Damaged runs are listed with the reason they cannot be read, and
        temporary entries left by interrupted writes are counted.

    Raises
    ------
    StoreError, StoreFormatError
        If ``store`` is a path that does not hold a readable graphtraj store.

    Examples
    --------
    >>> import tempfile, numpy as np
    >>> from graphtraj import ParamLayout, Trajectory, open_store
    >>> tr = Trajectory(np.arange(3), np.zeros((3, 2)), ParamLayout(["w"], [(2,)]),
    ...                 metadata={"replayable": False})
    >>> with tempfile.TemporaryDirectory() as d:
    ...     st = open_store(d, "w")
    ...     st.write("run1", tr)
    ...     print(describe_store(st).splitlines()[1])
    run1: trajectory, 3 records (steps 0..2), P=2, states float64
    """
    if not isinstance(store, Store):
        store = open_store(store, "r")
    runs = store.runs()
    lines = [f"graphtraj store {store.path} (format version {store.format_version}): "
             f"{len(runs)} run{'s' if len(runs) != 1 else ''}"]
    for name in runs:
        try:
            lines.append(describe_run(store.info(name)))
        except StoreError as exc:
            lines.append(f"{name}: UNREADABLE — {exc}")
    left = store.leftovers()
    if left:
        lines.append(f"{len(left)} temporary entr{'y' if len(left) == 1 else 'ies'} from "
                     "interrupted writes (not runs; Store.cleanup() removes them)")
    return "\n".join(lines)
