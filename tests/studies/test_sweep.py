"""Tests for graphtraj.studies.sweep (resumable sweeps, process pool, dask)."""

import sys

import numpy as np
import pytest

import graphtraj.studies.sweep as sweep_mod
from graphtraj.exceptions import StoreError, ValidationError
from graphtraj.studies import SweepResult, run_sweep, sweep_configs

TINY = {"n_steps": 40, "n_inits": 1, "n_perturb": 2, "starts": [0], "widths": [30]}


def _configs():
    return [{"name": "a", "lr": 1.0, **TINY}, {"name": "b", "lr": 0.1, **TINY}]


def test_serial_results_in_config_order():
    """Results come back in config order, each the analysis of its own run."""
    res = run_sweep(_configs(), progress=False)
    assert isinstance(res, SweepResult)
    assert res.names == ("a", "b") and len(res) == 2
    assert res["a"].lr == 1.0 and res["b"].lr == 0.1
    assert res.reused == (False, False)
    with pytest.raises(KeyError, match="no run named 'c'"):
        res["c"]


def test_interrupted_sweep_resumes_from_store(tmp_path, monkeypatch):
    """A sweep killed after its first run keeps that run; the rerun trains only the rest."""
    calls = []
    real = sweep_mod.train_stability

    def failing(cfg, **kw):
        calls.append(cfg["lr"])
        if len(calls) == 2:
            raise KeyboardInterrupt  # the user stops the sweep during the second run
        return real(cfg, **kw)

    monkeypatch.setattr(sweep_mod, "train_stability", failing)
    store = tmp_path / "runs.gtz"
    with pytest.raises(KeyboardInterrupt):
        run_sweep(_configs(), store=store, progress=False)
    from graphtraj import open_store

    assert open_store(store, "r").runs() == ["a"]

    calls.clear()
    monkeypatch.setattr(sweep_mod, "train_stability", lambda cfg, **kw: (calls.append(cfg["lr"]), real(cfg, **kw))[1])
    res = run_sweep(_configs(), store=store, progress=False)
    assert calls == [0.1]  # only the unfinished run was trained
    assert res.reused == (True, False)
    fresh = run_sweep(_configs(), progress=False)
    for got, want in zip(res.results, fresh.results, strict=True):
        np.testing.assert_array_equal(got.divergence, want.divergence)
        np.testing.assert_array_equal(got.ftle, want.ftle)
    assert sorted(open_store(store, "r").runs()) == ["a", "b"]


def test_stale_run_in_store(tmp_path):
    """A stored run with the same name but another configuration is refused, or replaced."""
    store = tmp_path / "s.gtz"
    run_sweep([{"name": "a", "lr": 1.0, **TINY}], store=store, progress=False)
    with pytest.raises(StoreError, match="different one"):
        run_sweep([{"name": "a", "lr": 0.5, **TINY}], store=store, progress=False)
    res = run_sweep([{"name": "a", "lr": 0.5, **TINY}], store=store, progress=False,
                    replace_stale=True)
    assert res.reused == (False,) and res["a"].lr == 0.5
    again = run_sweep([{"name": "a", "lr": 0.5, **TINY}], store=store, progress=False)
    assert again.reused == (True,)


def test_fit_parameters_do_not_force_retraining(tmp_path):
    """Changing only the fit (min_r2) re-analyses the stored run instead of retraining."""
    store = tmp_path / "s.gtz"
    run_sweep([{"name": "a", "lr": 1.0, **TINY}], store=store, progress=False)
    res = run_sweep([{"name": "a", "lr": 1.0, "min_r2": 1.0, **TINY}], store=store,
                    progress=False)
    assert res.reused == (True,) and not res["a"].accepted.any()


def test_dask_client_executor_matches_serial():
    """An in-process dask Client gives exactly the serial results."""
    distributed = pytest.importorskip("distributed")
    serial = run_sweep(_configs(), progress=False)
    with distributed.Client(processes=False, n_workers=1, threads_per_worker=1,
                            dashboard_address=None) as client:
        par = run_sweep(_configs(), executor=client, progress=False)
    for got, want in zip(par.results, serial.results, strict=True):
        np.testing.assert_array_equal(got.divergence, want.divergence)


def test_thread_pool_executor_writes_in_coordinator(tmp_path):
    """With an executor, the workers train and the caller writes every run to the store."""
    from concurrent.futures import ThreadPoolExecutor

    store = tmp_path / "s.gtz"
    with ThreadPoolExecutor(2) as ex:
        res = run_sweep(_configs(), store=store, executor=ex, progress=False)
    from graphtraj import open_store

    assert sorted(open_store(store, "r").runs()) == ["a", "b"]
    assert res.reused == (False, False)


def test_jobs_make_a_spawned_process_pool():
    """jobs > 1 without an executor means a process pool of that many spawned workers."""
    from concurrent.futures import ProcessPoolExecutor

    ex, close = sweep_mod._make_executor(None, 3)
    try:
        assert isinstance(ex, ProcessPoolExecutor) and ex._max_workers == 3
        assert ex._mp_context.get_start_method() == "spawn"
    finally:
        close()


@pytest.mark.slow
def test_process_pool_matches_serial():
    """jobs=2 on a spawned process pool gives exactly the serial results."""
    serial = run_sweep(_configs(), progress=False)
    par = run_sweep(_configs(), jobs=2, progress=False)
    for got, want in zip(par.results, serial.results, strict=True):
        np.testing.assert_array_equal(got.divergence, want.divergence)


def test_dask_missing_gives_clear_error(monkeypatch):
    """executor='dask' without distributed installed says how to install it."""
    monkeypatch.setitem(sys.modules, "distributed", None)
    with pytest.raises(ValidationError, match="pip install 'graphtraj\\[distributed\\]'"):
        run_sweep(_configs(), executor="dask", progress=False)


def test_default_names_are_stable():
    """Unnamed configs get '<kind>-lr<η>-<hash>', equal for equal training parameters."""
    (n1, _), = sweep_configs([{"lr": 1.0, **TINY}])
    (n2, _), = sweep_configs([{"lr": 1.0, "min_r2": 0.5, **TINY}])
    (n3, _), = sweep_configs([{"lr": 1.0, **{**TINY, "n_steps": 41}}])
    assert n1.startswith("dynamical-lr1-") and n1 == n2 and n1 != n3


@pytest.mark.parametrize(
    ("configs", "kwargs", "match"),
    [
        ([], {}, "must not be empty"),
        ({"lr": 1.0}, {}, "must be a list of config dicts"),
        ([3], {}, "must be a dict"),
        ([{"n_steps": 40}], {}, "must have a learning rate"),
        ([{"lr": 1.0, "colour": "red"}], {}, "unknown parameter"),
        ([{"lr": 1.0, "name": ""}], {}, "non-empty string"),
        ([{"lr": 1.0, "name": "x", **TINY}, {"lr": 2.0, "name": "x", **TINY}], {}, "unique"),
        ([{"lr": 1.0, **TINY}], {"jobs": 0}, "`jobs` must be >= 1"),
        ([{"lr": 1.0, **TINY}], {"executor": "mpi"}, "`executor` must be None"),
        ([{"lr": 1.0, **TINY}], {"store": 3}, "`store` must be None, a path"),
    ],
)
def test_validation(configs, kwargs, match):
    """Invalid configurations and options raise ValidationError."""
    with pytest.raises(ValidationError, match=match):
        run_sweep(configs, progress=False, **kwargs)
