"""Run many stability experiments, resumably, on a process pool or a dask cluster.

:func:`run_sweep` trains each configuration (serially, on a local process pool or on
dask workers), writes each finished ensemble to a store as soon as it completes, and
skips configurations whose run is already in the store. An interrupted sweep is
resumed by calling it again with the same store: finished runs are read back and
re-analysed, the rest are trained. Only the calling (coordinating) process writes.
"""

from __future__ import annotations

import concurrent.futures
import hashlib
import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from graphtraj._checks import check_int
from graphtraj._progress import progress_bar, progress_enabled
from graphtraj._result import Result
from graphtraj.exceptions import StoreError, ValidationError
from graphtraj.studies.stability import (
    StabilityResult,
    stability_config,
    stability_from_ensemble,
    train_key,
    train_stability,
)

__all__ = ["SweepResult", "run_sweep", "sweep_configs"]


@dataclass(frozen=True, eq=False)
class SweepResult(Result):
    """The results of a sweep, in the order of its configurations.

    Attributes
    ----------
    names : tuple of str
        Run name of each configuration (its name in the store).
    configs : tuple of dict
        The normalized configurations (see :func:`~graphtraj.studies.stability_config`).
    results : tuple of StabilityResult
        One result per configuration.
    reused : tuple of bool
        True where the run was read from the store instead of trained.
    """

    names: tuple[str, ...]
    configs: tuple[dict[str, Any], ...]
    results: tuple[StabilityResult, ...]
    reused: tuple[bool, ...]

    def __getitem__(self, name: str) -> StabilityResult:
        try:
            return self.results[self.names.index(name)]
        except ValueError:
            raise KeyError(f"no run named {name!r} in this sweep; runs: {list(self.names)}") from None

    def __len__(self) -> int:
        return len(self.names)


def _normalize(raw: Mapping[str, Any], i: int) -> tuple[str | None, dict[str, Any]]:
    if not isinstance(raw, Mapping):
        raise ValidationError(
            f"`configs[{i}]` must be a dict of stability_config parameters such as "
            f"{{'lr': 1.0, 'n_steps': 200}}; got {raw!r}"
        )
    cfg = dict(raw)
    name = cfg.pop("name", None)
    if name is not None and (not isinstance(name, str) or not name):
        raise ValidationError(f"`configs[{i}]['name']` must be a non-empty string; got {name!r}")
    if "perturb_at" in cfg:
        cfg["t0"] = cfg.pop("perturb_at")
    if "lr" not in cfg:
        raise ValidationError(f"`configs[{i}]` must have a learning rate 'lr'; got keys {sorted(cfg)}")
    try:
        return name, stability_config(**cfg)
    except TypeError as exc:
        raise ValidationError(f"`configs[{i}]` has an unknown parameter: {exc}") from None


def _default_name(cfg: Mapping[str, Any]) -> str:
    digest = hashlib.sha1(
        json.dumps(train_key(cfg), sort_keys=True).encode()
    ).hexdigest()[:8]
    return f"{cfg['kind']}-lr{cfg['lr']:g}-{digest}"


def sweep_configs(configs: Iterable[Mapping[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    """Validate and name sweep configurations.

    Returns ``[(name, config), ...]``; unnamed configurations get
    ``"<kind>-lr<η>-<hash of the training parameters>"``.

    Raises
    ------
    ValidationError
        For an invalid configuration or duplicate names.

    Examples
    --------
    >>> [name for name, _ in sweep_configs([{"lr": 1.0, "name": "edge"}])]
    ['edge']
    """
    if isinstance(configs, Mapping) or isinstance(configs, (str, bytes)):
        raise ValidationError(
            f"`configs` must be a list of config dicts; got {type(configs).__name__}"
        )
    out = []
    for i, raw in enumerate(configs):
        name, cfg = _normalize(raw, i)
        out.append((name or _default_name(cfg), cfg))
    names = [n for n, _ in out]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise ValidationError(f"`configs` must have unique run names; got duplicates {dup}")
    if not out:
        raise ValidationError("`configs` must not be empty")
    return out


def _open(store: Any) -> Any:
    if store is None or hasattr(store, "write"):
        return store
    if isinstance(store, (str, os.PathLike)):
        from graphtraj.trajectory.store import open_store

        return open_store(store, "a")
    raise ValidationError(
        f"`store` must be None, a path or a Store from graphtraj.open_store; got "
        f"{type(store).__name__}"
    )


def _worker_init() -> None:  # pragma: no cover - runs in worker processes
    import torch

    torch.set_num_threads(1)


def _train_worker(cfg: dict[str, Any]) -> Any:  # pragma: no cover - runs in workers
    return train_stability(cfg, progress=False)


def _make_executor(executor: Any, jobs: int) -> tuple[Any, Any]:
    """Return (executor, closer) for the requested kind."""
    if executor is None or executor == "process":
        import multiprocessing

        ex = concurrent.futures.ProcessPoolExecutor(
            max_workers=jobs, mp_context=multiprocessing.get_context("spawn"),
            initializer=_worker_init,
        )
        return ex, ex.shutdown
    if executor == "dask":
        try:
            from distributed import Client
        except ImportError:
            raise ValidationError(
                "`executor` 'dask' needs the optional packages dask and distributed; "
                "install them with: pip install 'graphtraj[distributed]'"
            ) from None
        client = Client(
            n_workers=jobs, threads_per_worker=1, processes=True,
            dashboard_address=None,
        )
        return client.get_executor(pure=False), client.close
    if hasattr(executor, "get_executor"):  # a dask.distributed Client
        return executor.get_executor(pure=False), None
    if isinstance(executor, concurrent.futures.Executor):
        return executor, None
    raise ValidationError(
        "`executor` must be None, 'process', 'dask', a concurrent.futures.Executor or a "
        f"dask.distributed Client; got {executor!r}"
    )


def _reuse(
    store: Any, name: str, cfg: Mapping[str, Any], replace_stale: bool
) -> StabilityResult | None:
    """The re-analysed stored run, or None when it is stale and may be replaced."""
    try:
        ens = store.read(name)
        stored = dict(getattr(ens, "metadata", {})).get("study", {}).get("train")
    except StoreError:
        if replace_stale:
            return None
        raise
    if stored != train_key(cfg):
        if replace_stale:
            return None
        raise StoreError(
            f"run {name!r} in the store must have been trained with the requested "
            "configuration to be reused; it was trained with a different one "
            f"({stored!r}). Use another store or run name, or delete the run."
        )
    return stability_from_ensemble(ens, cfg)


def _stage(name: str, cfg: Mapping[str, Any]) -> str:
    """One line describing the training of run ``name``."""
    n = int(cfg.get("n_inits", 1)) * (1 + int(cfg.get("n_perturb", 0)))
    return (f"{name} (η = {float(cfg['lr']):g}): training {n} replicas, "
            f"{int(cfg.get('n_steps', 0))} steps…")


def run_sweep(
    configs: Iterable[Mapping[str, Any]],
    *,
    store: Any = None,
    jobs: int = 1,
    executor: Any = None,
    progress: bool | None = None,
    replace_stale: bool = False,
    log: Any = None,
) -> SweepResult:
    """Train and analyse many stability experiments; resumable through a store.

    Parameters
    ----------
    configs : list of dict
        Each dict holds :func:`~graphtraj.studies.stability_config` parameters
        (``lr`` required; ``kind`` "dynamical" or "orbital"; ``t0`` or
        ``perturb_at``; ...) and optionally a run ``name``.
    store : path, Store or None
        Where finished ensembles are written (opened with mode "a" if a path). Runs
        already there are read back and re-analysed instead of trained, so an
        interrupted sweep resumes where it stopped.
    jobs : int, default 1
        Parallel workers. 1 trains in this process (unless ``executor`` is given).
    executor : None, "process", "dask", Executor or dask Client
        ``None`` or ``"process"``: a local process pool of ``jobs`` workers (used when
        ``jobs > 1``). ``"dask"``: a local dask.distributed cluster of ``jobs``
        workers (optional extra ``distributed``). A ``concurrent.futures.Executor``
        or an existing ``distributed.Client`` is used as given.
    progress : bool, optional
        Progress bar over the runs (and over training steps when serial).
    replace_stale : bool, default False
        When a stored run of the same name was trained with another configuration
        (or cannot be read): False raises :class:`StoreError`; True retrains it and
        overwrites it.
    log : callable, optional
        Called with one short line per stage (``"stable-ensemble (η = 0.01): training
        60 replicas, 5000 steps…"``), e.g. to report progress where no progress bar
        can be shown.

    Returns
    -------
    SweepResult
        Results in configuration order, and which were reused from the store.

    Raises
    ------
    ValidationError
        Invalid configurations, duplicate names, a bad ``jobs``/``executor``, or
        ``executor="dask"`` without dask installed.
    StoreError
        A stored run with the same name was trained with a different configuration
        (unless ``replace_stale``).

    Notes
    -----
    Workers only train and return the ensemble; the coordinating process writes it
    to the store (each write atomic: written under a temporary name, then renamed),
    so a crash loses at most the runs in flight. Process workers use one torch
    thread each.

    Examples
    --------
    >>> res = run_sweep([{"lr": 1.0, "n_steps": 60, "n_inits": 2, "n_perturb": 2,
    ...                   "widths": [30], "starts": [0], "name": "edge"}], progress=False)
    >>> res.names, res["edge"].ftle.shape
    (('edge',), (2,))
    """
    jobs = check_int(jobs, "jobs", minimum=1)
    items = sweep_configs(configs)
    st = _open(store)
    results: dict[str, StabilityResult] = {}
    reused: dict[str, bool] = {}
    todo: list[tuple[str, dict[str, Any]]] = []
    for name, cfg in items:
        old = _reuse(st, name, cfg, replace_stale) if st is not None and name in st else None
        if old is not None:
            results[name] = old
            reused[name] = True
        else:
            todo.append((name, cfg))

    bar_on = progress_enabled(progress)
    parallel = jobs > 1 or executor is not None
    say = log if callable(log) else (lambda _msg: None)
    if any(reused.values()):
        say(f"reusing {sum(reused.values())} stored run(s)")

    def finish(name: str, cfg: dict[str, Any], ens: Any) -> None:
        if st is not None:
            st.write(name, ens, overwrite=name in st)
        results[name] = stability_from_ensemble(ens, cfg)
        reused[name] = False

    if todo and not parallel:
        for name, cfg in progress_bar(todo, total=len(todo), desc="sweep", progress=progress):
            say(_stage(name, cfg))
            finish(name, cfg, train_stability(cfg, progress=bar_on and len(todo) == 1))
    elif todo:
        ex, close = _make_executor(executor, jobs)
        try:
            say(f"training {len(todo)} runs on {jobs} workers…")
            futures = {ex.submit(_train_worker, cfg): (name, cfg) for name, cfg in todo}
            done = concurrent.futures.as_completed(futures)
            for fut in progress_bar(done, total=len(futures), desc="sweep", progress=progress):
                name, cfg = futures[fut]
                try:
                    ens = fut.result()
                except BaseException:
                    for other in futures:
                        other.cancel()
                    raise
                finish(name, cfg, ens)
                say(f"{name}: trained")
        finally:
            if close is not None:
                close()
    names = tuple(n for n, _ in items)
    return SweepResult(
        names=names,
        configs=tuple(c for _, c in items),
        results=tuple(results[n] for n in names),
        reused=tuple(reused[n] for n in names),
    )
