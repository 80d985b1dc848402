"""Tests of the zarr trajectory store (graphtraj/trajectory/store.py)."""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from graphtraj import Ensemble, ParamLayout, Trajectory, open_store
from graphtraj.exceptions import (
    IncompleteRunError,
    RunNotFoundError,
    StoreError,
    StoreFormatError,
    UnknownOptionError,
    ValidationError,
)
from graphtraj.trajectory.describe import describe_store
from graphtraj.trajectory.store import FORMAT_VERSION, Store

LAYOUT = ParamLayout.for_mlp([4, 10, 3])  # P = 83

META = {
    "model": {"kind": "mlp", "sizes": [4, 10, 3], "activation": "sigmoid",
              "loss": "cross_entropy", "bias": True},
    "optimizer": {"name": "sgd", "lr": 0.01, "momentum": 0.0, "batch_size": None},
    "data": {"name": "iris", "split": "train", "seed": 0, "standardize": False},
    "seed": 3, "dtype": "float64", "replayable": True,
    "odd": {"nan": float("nan"), "inf": float("inf"), "ninf": -np.inf, "np": np.float32(0.5),
            "arr": np.arange(3), "tuple": (1, 2)},
}


def _same_json(a, b) -> bool:
    """Deep equality where NaN == NaN."""
    if isinstance(a, float) and isinstance(b, float):
        return (math.isnan(a) and math.isnan(b)) or a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same_json(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same_json(x, y) for x, y in zip(a, b, strict=True))
    return type(a) is type(b) and a == b


def make_traj(rng, t=300, dtype=np.float64, **kw) -> Trajectory:
    args = dict(
        times=np.arange(0, 2 * t, 2),
        states=rng.normal(size=(t, LAYOUT.size)).astype(dtype),
        layout=LAYOUT,
        loss=rng.random(t),
        accuracy=rng.random(t),
        lr=np.full(t, 0.01),
        extra={"test_loss": rng.random(t), "weight norm (L2)": rng.random(t)},
        batches=rng.integers(0, 120, size=(t, 8)),
        metadata=META,
    )
    args.update(kw)
    return Trajectory(**args)


def make_ens(rng, states=True) -> Ensemble:
    r, s = 6, 51
    obs = {k: rng.random((r, s)) for k in ("loss", "accuracy", "dist_l1", "dist_l2")}
    obs["loss"][2, 30:] = np.nan  # replica 2 diverged at step 30
    return Ensemble(
        LAYOUT, np.arange(s), obs,
        reference=np.array([0, 0, 0, 3, 3, 3]),
        diverged_at=np.array([-1, -1, 30, -1, -1, -1]),
        times=np.arange(0, s, 10) if states else None,
        states=rng.normal(size=(r, 6, LAYOUT.size)) if states else None,
        metadata={**META, "perturbation": {"kind": "uniform", "eps": 1e-8,
                                           "target": "weights", "t0": 0}},
    )


def assert_traj_equal(a: Trajectory, b: Trajectory) -> None:
    np.testing.assert_array_equal(a.times, b.times)
    np.testing.assert_array_equal(np.asarray(a.states[:]), np.asarray(b.states[:]))
    for k in ("loss", "accuracy", "lr", "batches"):
        x, y = getattr(a, k), getattr(b, k)
        assert (x is None) == (y is None)
        if x is not None:
            np.testing.assert_array_equal(x, y)
    assert list(a.extra) == list(b.extra)
    for k in a.extra:
        np.testing.assert_array_equal(a.extra[k], b.extra[k])
    assert a.layout == b.layout


@pytest.fixture
def store(tmp_path) -> Store:
    return open_store(tmp_path / "s.gtz", "a")


# ------------------------------------------------------------------- round trips
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_trajectory_round_trip(store, rng, dtype):
    """Writing then reading a Trajectory returns every field bit-identical, in its dtype."""
    tr = make_traj(rng, dtype=dtype)
    store.write("run", tr)
    back = store.read("run")
    assert isinstance(back, Trajectory)
    assert np.dtype(back.states.dtype) == np.dtype(dtype)
    assert_traj_equal(tr, back)
    expected_meta = json.loads(json.dumps(  # tuples -> lists, numpy -> Python
        {**META, "odd": {**META["odd"], "np": 0.5, "arr": [0, 1, 2], "tuple": [1, 2]}}))
    assert _same_json(back.metadata, {**expected_meta, "odd": {**expected_meta["odd"],
                                                               "nan": float("nan"),
                                                               "inf": math.inf,
                                                               "ninf": -math.inf}})
    assert back.replayable


def test_trajectory_without_optional_fields_and_empty(store, rng):
    """A bare Trajectory (no series, no batches) and an empty one (T=0) round-trip."""
    bare = Trajectory(np.arange(5), rng.normal(size=(5, 3)), ParamLayout(["w"], [(3,)]))
    empty = Trajectory(np.arange(0), np.zeros((0, 3)), ParamLayout(["w"], [(3,)]))
    store.write("bare", bare)
    store.write("empty", empty)
    assert_traj_equal(bare, store.read("bare"))
    back = store.read("empty")
    assert len(back) == 0 and back.states.shape == (0, 3)
    assert store.read("bare").metadata == {}


@pytest.mark.parametrize("with_states", [True, False])
def test_ensemble_round_trip(store, rng, with_states):
    """An Ensemble (observables, references, divergence, optional states) round-trips."""
    ens = make_ens(rng, states=with_states)
    store.write("ens", ens)
    back = store.read("ens")
    assert isinstance(back, Ensemble)
    np.testing.assert_array_equal(back.steps, ens.steps)
    np.testing.assert_array_equal(back.reference, ens.reference)
    np.testing.assert_array_equal(back.diverged_at, ens.diverged_at)
    assert list(back.observables) == list(ens.observables)
    for k, v in ens.observables.items():
        np.testing.assert_array_equal(back.observables[k], v)  # NaN in the same places
    assert back.metadata["perturbation"]["eps"] == 1e-8
    if with_states:
        np.testing.assert_array_equal(back.times, ens.times)
        np.testing.assert_array_equal(back.states[:], ens.states)
        np.testing.assert_array_equal(back.replica(4).states, ens.states[4])
    else:
        assert back.states is None and back.times is None


def test_copy_lazy_run_between_stores(tmp_path, rng):
    """A run read lazily from one store is written to another chunk by chunk, unchanged."""
    a = open_store(tmp_path / "a", "a")
    b = open_store(tmp_path / "b", "a")
    tr = make_traj(rng, t=500)
    a.write("r", tr, time_chunk=64)
    b.write("r", a.read("r"), time_chunk=50)
    assert_traj_equal(tr, b.read("r"))
    ens = make_ens(rng)
    a.write("e", ens)
    b.write("e", a.read("e"))
    np.testing.assert_array_equal(b.read("e").states[:], ens.states)


# --------------------------------------------------------------- lazy + chunking
def test_states_are_lazy_and_window_reads_only_its_chunks(store, rng):
    """Read states stay on disk; a time window needs only the chunks that hold it.

    After reading, the chunk files outside the window are deleted: the window still
    returns the right values, while reading the deleted part is an error (it would
    read as the NaN fill value), which proves nothing was loaded when the run was read.
    """
    tr = make_traj(rng, t=100)
    store.write("run", tr, time_chunk=10)
    back = store.read("run")
    assert not isinstance(back.states, np.ndarray)
    assert back.states.chunks == (10, LAYOUT.size)
    chunk_dir = store.path / "run" / "states" / "c"
    assert len(os.listdir(chunk_dir)) == 10
    for i in range(10):
        if i not in (3, 4):
            os.remove(chunk_dir / str(i) / "0")
    win = back.window(60, 100)  # steps 60..98 = records 30..49 = chunks 3 and 4
    np.testing.assert_array_equal(win.states[:], tr.states[30:50])
    np.testing.assert_array_equal(win.times, tr.times[30:50])
    with pytest.raises(IncompleteRunError, match="states have 2 of 10 chunks"):
        back.states[:30]
    with pytest.raises(IncompleteRunError, match="has 2 of 10 chunks"):
        store.read("run")


def test_lazy_false_loads_numpy(store, rng):
    """read(lazy=False) returns states as an in-memory numpy array."""
    tr = make_traj(rng, t=20)
    store.write("run", tr)
    back = store.read("run", lazy=False)
    assert isinstance(back.states, np.ndarray)
    assert_traj_equal(tr, back)


def test_default_chunks_about_one_mebibyte(store, rng):
    """Default chunking: whole rows, about 2**20 bytes per chunk along time."""
    tr = make_traj(rng, t=3000)
    store.write("run", tr)
    arr = store.read("run").states
    assert arr.chunks == (2**20 // (8 * 83), 83)  # 1579 records of 83 float64
    assert store.info("run")["arrays"]["states"]["chunks"] == [1579, 83]


# ------------------------------------------------------------------------- modes
def test_modes(tmp_path, rng):
    """r reads only; r+ needs an existing store; a creates; w empties a graphtraj store."""
    path = tmp_path / "s"
    with pytest.raises(StoreError, match="no store at"):
        open_store(path, "r")
    with pytest.raises(StoreError, match="no store at"):
        open_store(path, "r+")
    st = open_store(path, "a")
    assert st.writable and st.format_version == FORMAT_VERSION and st.mode == "a"
    st.write("x", make_traj(rng, t=5))
    ro = open_store(path, "r")
    assert not ro.writable and ro.runs() == ["x"]
    with pytest.raises(StoreError, match="read-only"):
        ro.write("y", make_traj(rng, t=5))
    with pytest.raises(StoreError, match="read-only"):
        ro.delete("x")
    with pytest.raises(StoreError, match="read-only"):
        ro.cleanup()
    rp = open_store(str(path), "r+")
    rp.write("y", make_traj(rng, t=5))
    assert open_store(path, "a").runs() == ["x", "y"]
    assert open_store(path, "w").runs() == []
    assert open_store(path, "r").runs() == []
    with pytest.raises(UnknownOptionError, match="`mode` must be one of 'r', 'r\\+', 'a', 'w'"):
        open_store(path, "rw")


def test_open_refuses_foreign_directories(tmp_path):
    """a and w never take over or delete a non-empty directory that is not a store."""
    d = tmp_path / "mine"
    d.mkdir()
    (d / "notes.txt").write_text("precious")
    for mode in ("a", "w"):
        with pytest.raises(StoreFormatError, match="not a graphtraj store; refusing"):
            open_store(d, mode)
    with pytest.raises(StoreFormatError, match="not a graphtraj store: it has no zarr.json"):
        open_store(d, "r")
    assert (d / "notes.txt").read_text() == "precious"
    f = tmp_path / "file"
    f.write_text("x")
    with pytest.raises(StoreError, match="must be a directory"):
        open_store(f, "a")
    empty = tmp_path / "empty"
    empty.mkdir()
    assert open_store(empty, "a").runs() == []
    with pytest.raises(ValidationError, match="`path` must be a path"):
        open_store(3.5, "r")


def test_context_manager_and_container_protocol(store, rng):
    """Store works in a with-block; len, iter and `in` follow runs()."""
    with store as st:
        st.write("b", make_traj(rng, t=3))
        st.write("a", make_traj(rng, t=3))
    assert list(store) == ["a", "b"] and len(store) == 2
    assert "a" in store and "c" not in store and ".tmp" not in store and 3 not in store
    assert "runs=2" in repr(store)


# ----------------------------------------------------------- format versions
def _edit_json(path: Path, edit) -> None:
    data = json.loads(path.read_text())
    edit(data)
    path.write_text(json.dumps(data))


def test_future_and_foreign_store_versions(tmp_path):
    """A store of a newer or unknown format version, or a foreign zarr store, is rejected."""
    path = tmp_path / "s"
    open_store(path, "a")
    _edit_json(path / "zarr.json",
               lambda d: d["attributes"]["graphtraj"].update(version=FORMAT_VERSION + 1))
    with pytest.raises(StoreFormatError, match="newer than this graphtraj reads"):
        open_store(path, "r")
    with pytest.raises(StoreFormatError, match="newer than this graphtraj reads"):
        open_store(path, "a")
    assert open_store(path, "w").format_version == FORMAT_VERSION  # w may replace it
    _edit_json(path / "zarr.json", lambda d: d["attributes"]["graphtraj"].update(version="1"))
    with pytest.raises(StoreFormatError, match="must be a positive integer; got '1'"):
        open_store(path, "r")
    with pytest.raises(StoreFormatError, match="Mode 'w' deletes only graphtraj stores"):
        open_store(path, "w")

    import zarr

    foreign = tmp_path / "foreign"
    zarr.open_group(str(foreign), mode="w", zarr_format=3, attributes={"other": 1})
    with pytest.raises(StoreFormatError, match="lacks the graphtraj header"):
        open_store(foreign, "r")
    with pytest.raises(StoreFormatError, match="lacks the graphtraj header"):
        open_store(foreign, "w")
    v2 = tmp_path / "v2"
    v2.mkdir()
    (v2 / "zarr.json").write_text("{not json")
    with pytest.raises(StoreFormatError, match="cannot parse"):
        open_store(v2, "r")


def test_future_and_foreign_run_versions(store, rng):
    """A run of a newer or unknown run format is rejected on read and info."""
    store.write("run", make_traj(rng, t=5))
    meta = store.path / "run" / "zarr.json"
    _edit_json(meta, lambda d: d["attributes"]["graphtraj_run"].update(version=FORMAT_VERSION + 1))
    for call in (store.read, store.info):
        with pytest.raises(StoreFormatError, match="run format version 2, newer"):
            call("run")
    _edit_json(meta, lambda d: d["attributes"]["graphtraj_run"].update(version=0))
    with pytest.raises(StoreFormatError, match="must be a positive integer; got 0"):
        store.read("run")
    _edit_json(meta, lambda d: d["attributes"].pop("graphtraj_run"))
    with pytest.raises(StoreFormatError, match="is not a graphtraj run"):
        store.read("run")


# ------------------------------------------------------------ truncated runs
@pytest.mark.parametrize("damage, error, match", [
    (lambda p: __import__("shutil").rmtree(p / "loss"), IncompleteRunError, "array 'loss' is missing"),
    (lambda p: os.remove(p / "states" / "c" / "1" / "0"), IncompleteRunError, "has 2 of 3 chunks"),
    (lambda p: os.remove(p / "zarr.json"), IncompleteRunError, "zarr.json is missing"),
    (lambda p: _edit_json(p / "zarr.json",
                          lambda d: d["attributes"]["graphtraj_run"].update(complete=False)),
     IncompleteRunError, "not marked complete"),
    (lambda p: _edit_json(p / "zarr.json", lambda d: d["attributes"].pop("arrays")),
     StoreFormatError, "lacks 'arrays'"),
    (lambda p: _edit_json(p / "zarr.json",
                          lambda d: d["attributes"]["arrays"]["states"].update(shape=[9, 83])),
     StoreFormatError, "header says"),
    (lambda p: (p / "times" / "c" / "0").write_bytes(b"garbage"), StoreFormatError,
     "array 'times' cannot be decoded"),
    (lambda p: (p / "states" / "zarr.json").write_text("[]"), StoreFormatError,
     "cannot be opened"),
])
def test_truncated_or_corrupt_run_is_rejected(store, rng, damage, error, match):
    """A run with a missing array, chunk or header, or a damaged one, never reads silently."""
    store.write("run", make_traj(rng, t=30), time_chunk=10)
    store.write("other", make_traj(rng, t=5))
    damage(store.path / "run")
    with pytest.raises(error, match=match):
        store.read("run")
    assert len(store.read("other")) == 5  # the rest of the store is unaffected
    text = describe_store(store)
    if "decoded" in match:  # chunk contents are only checked when read
        assert "UNREADABLE" not in text
    else:
        assert "run: UNREADABLE — " in text and "other: trajectory" in text


def test_corrupt_lazy_chunk_raises_on_access(store, rng):
    """A flipped byte in a states chunk fails its CRC-32C check when read, not silently:
    our StoreFormatError, not zarr's ValueError."""
    tr = make_traj(rng, t=20)
    store.write("run", tr, time_chunk=10)
    f = store.path / "run" / "states" / "c" / "1" / "0"
    data = bytearray(f.read_bytes())
    data[len(data) // 2] ^= 0xFF
    f.write_bytes(bytes(data))
    back = store.read("run")
    np.testing.assert_array_equal(back.states[:10], tr.states[:10])
    with pytest.raises(StoreFormatError, match="damaged.*checksum|checksum.*damaged"):
        back.states[10:]


def test_inconsistent_arrays_are_a_format_error(store, rng):
    """Arrays that do not fit together (e.g. times not increasing) give StoreFormatError."""
    import zarr

    store.write("run", make_traj(rng, t=10))
    arr = zarr.open_array(str(store.path / "run" / "times"), mode="r+")
    arr[:] = np.full(10, 7, dtype=np.int64)
    with pytest.raises(StoreFormatError, match="inconsistent: `times` must be strictly"):
        store.read("run")


# ------------------------------------------------------- overwrite, names, delete
def test_overwrite_requires_flag(store, rng):
    """An existing name is an error unless overwrite=True, which replaces it cleanly."""
    first, second = make_traj(rng, t=5), make_traj(rng, t=7)
    store.write("run", first)
    with pytest.raises(StoreError, match="already exists.*overwrite=True"):
        store.write("run", second)
    assert_traj_equal(first, store.read("run"))
    store.write("run", second, overwrite=True)
    assert_traj_equal(second, store.read("run"))
    store.write("run", make_ens(rng), overwrite=True)  # kind may change
    assert isinstance(store.read("run"), Ensemble)
    assert store.leftovers() == []
    with pytest.raises(ValidationError, match="`overwrite` must be True or False"):
        store.write("run", first, overwrite="yes")


@pytest.mark.parametrize("name", ["a/b", "a\\b", ".hidden", "", "zarr.json", "-x", "with space",
                                  "x" * 201, 5, None, "..", "é"])
def test_invalid_run_names(store, rng, name):
    """Names with slashes, a leading dot, odd characters or > 200 characters are refused."""
    with pytest.raises(ValidationError, match="`name` must be"):
        store.write(name, make_traj(rng, t=3))
    with pytest.raises(ValidationError, match="`name` must be"):
        store.read(name)
    assert name not in store


def test_valid_names(store, rng):
    """Names made of the documented characters are accepted, up to 200 characters."""
    for name in ["eta_0.01_ensemble", "lr=1,eps=1e-8", "a+b@c-d", "_x", "x" * 200]:
        store.write(name, make_traj(rng, t=3))
    assert len(store.runs()) == 5


def test_delete_and_missing_runs(store, rng):
    """delete removes a run; reading or deleting a missing run is RunNotFoundError."""
    store.write("a", make_traj(rng, t=3))
    store.write("b", make_traj(rng, t=3))
    store.delete("a")
    assert store.runs() == ["b"] and store.leftovers() == []
    with pytest.raises(RunNotFoundError, match="no run named 'a'.*holds 'b'"):
        store.read("a")
    with pytest.raises(KeyError, match="no run named 'a'"):  # RunNotFoundError is a KeyError
        store.delete("a")
    with pytest.raises(RunNotFoundError, match="holds no runs"):
        open_store(store.path.parent / "fresh", "a").info("a")


def test_write_validates_input(store, rng):
    """Non-runs, non-JSON metadata and bad time_chunk are refused, leaving nothing behind."""
    with pytest.raises(ValidationError, match="`run` must be a Trajectory or an Ensemble"):
        store.write("x", np.zeros((3, 3)))
    with pytest.raises(ValidationError, match=r"must be JSON-able.*object at metadata\['bad'\]"):
        store.write("x", make_traj(rng, t=3, metadata={"bad": object()}))
    with pytest.raises(ValidationError, match="dict keys must be strings; got key 1"):
        store.write("x", make_traj(rng, t=3, metadata={"m": {1: "a"}}))
    with pytest.raises(ValidationError, match="reserved for non-finite floats"):
        store.write("x", make_traj(rng, t=3, metadata={"m": {"__float__": "nan"}}))
    with pytest.raises(ValidationError, match="`time_chunk` must be >= 1"):
        store.write("x", make_traj(rng, t=3), time_chunk=0)
    assert store.runs() == [] and store.leftovers() == []


def test_exception_during_write_leaves_nothing(store, rng):
    """A write that fails midway (source raises) leaves no run and no temporary entry."""
    class Failing:
        shape = (100, 83)
        dtype = np.dtype(np.float64)

        def __getitem__(self, key):
            if key.start >= 30:
                raise RuntimeError("source failed")
            return np.zeros((key.stop - key.start, 83))

    tr = Trajectory(np.arange(100), Failing(), LAYOUT)
    with pytest.raises(RuntimeError, match="source failed"):
        store.write("x", tr, time_chunk=10)
    assert store.runs() == [] and store.leftovers() == []

    class WrongShape(Failing):
        def __getitem__(self, key):
            return np.zeros((2, 83))

    with pytest.raises(ValidationError, match="returned a block of shape"):
        store.write("x", Trajectory(np.arange(100), WrongShape(), LAYOUT), time_chunk=10)
    assert store.runs() == [] and store.leftovers() == []


# ------------------------------------------------------------------ no pickle
def test_files_are_strict_json_and_plain_codecs(store, rng):
    """Every metadata file is strict JSON (NaN encoded, not bare) and no codec can pickle."""
    store.write("t", make_traj(rng, t=10))
    store.write("e", make_ens(rng))

    def no_constants(c):
        raise AssertionError(f"non-standard JSON constant {c}")

    n = 0
    for root, _, files in os.walk(store.path):
        if "zarr.json" in files:
            data = json.loads(Path(root, "zarr.json").read_text(), parse_constant=no_constants)
            n += 1
            if data["node_type"] == "array":
                names = {c["name"] for c in data["codecs"]}
                assert names <= {"bytes", "blosc", "crc32c"}, names
                assert data["data_type"] in ("float64", "float32", "int64")
    assert n > 15
    meta = json.loads((store.path / "t" / "zarr.json").read_text())
    assert meta["attributes"]["metadata"]["odd"]["nan"] == {"__float__": "nan"}


# ---------------------------------------------------------- interrupted writes
_WRITER = textwrap.dedent("""
    import sys, time
    import numpy as np
    from graphtraj import ParamLayout, Trajectory, open_store

    store = open_store(sys.argv[1], "a")
    lay = ParamLayout(["w"], [(50,)])
    for i in range(3):
        store.write(f"run{i}", Trajectory(np.arange(20), np.full((20, 50), float(i)), lay))

    class SlowSource:
        shape = (100_000, 50)
        dtype = np.dtype("float64")

        def __getitem__(self, key):
            if key.start == 500:  # five chunks are on disk: announce, then hang
                print("MIDWAY", flush=True)
                time.sleep(600)
            return np.ones((key.stop - key.start, 50))

    store.write("big", Trajectory(np.arange(100_000), SlowSource(), lay), time_chunk=100)
    print("DONE", flush=True)
""")


def test_killed_writer_leaves_earlier_runs_and_no_partial_run(tmp_path):
    """SIGKILL during a big write: earlier runs read back intact, the killed run is absent.

    The child process writes three runs, then a large one whose source blocks after five
    chunks; it is killed with SIGKILL at that point (deterministically mid-write).
    """
    path = tmp_path / "s.gtz"
    child = subprocess.Popen([sys.executable, "-c", _WRITER, str(path)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = child.stdout.readline()
        assert line.strip() == "MIDWAY", child.stderr.read()
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL

    store = open_store(path, "r")
    assert store.runs() == ["run0", "run1", "run2"]
    assert "big" not in store
    for i in range(3):
        np.testing.assert_array_equal(store.read(f"run{i}").states[:], np.full((20, 50), float(i)))
    with pytest.raises(RunNotFoundError, match="no run named 'big'"):
        store.read("big")
    (left,) = store.leftovers()
    assert left.startswith(".tmp-big-")
    assert len(os.listdir(path / left / "states" / "c")) == 5  # it was half-written
    assert "1 temporary entry from interrupted writes" in describe_store(path)
    assert open_store(path, "r+").cleanup() == [left]
    assert store.leftovers() == [] and store.runs() == ["run0", "run1", "run2"]


@pytest.mark.slow
def test_killed_at_random_times_never_half_written(tmp_path):
    """Killed at random moments while writing plain arrays, every visible run is complete."""
    script = textwrap.dedent("""
        import sys
        import numpy as np
        from graphtraj import ParamLayout, Trajectory, open_store
        store = open_store(sys.argv[1], "a")
        lay = ParamLayout.for_mlp([4, 10, 3])
        states = np.random.default_rng(0).normal(size=(100_000, 83))
        print("READY", flush=True)
        for i in range(1000):
            store.write(f"r{i}", Trajectory(np.arange(100_000), states, lay), time_chunk=500)
    """)
    rng = np.random.default_rng(7)
    expected = np.random.default_rng(0).normal(size=(100_000, 83))
    interrupted = 0
    for trial in range(4):
        path = tmp_path / f"s{trial}"
        child = subprocess.Popen([sys.executable, "-c", script, str(path)],
                                 stdout=subprocess.PIPE, text=True)
        assert child.stdout.readline().strip() == "READY"
        time.sleep(rng.uniform(0.5, 3.0))
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=30)
        store = open_store(path, "r")
        for name in store.runs():
            np.testing.assert_array_equal(store.read(name).states[:], expected)
        assert len(store.leftovers()) <= 1
        interrupted += len(store.leftovers())
    assert interrupted >= 1  # at least one kill landed mid-write


# ------------------------------------------------------------- info, describe
def test_info_and_describe(store, rng):
    """info() reports kind, sizes and metadata from the header; describe lists each run."""
    store.write("traj", make_traj(rng, t=40))
    store.write("ens", make_ens(rng))
    store.write("ens_nostates", make_ens(rng, states=False))
    info = store.info("traj")
    assert info["kind"] == "trajectory" and info["n_params"] == 83
    assert info["summary"]["n_records"] == 40 and info["summary"]["last_step"] == 78
    assert info["replayable"] is True and info["format_version"] == FORMAT_VERSION
    assert info["arrays"]["states"]["shape"] == [40, 83]
    assert info["stored_bytes"] > 0
    einfo = store.info("ens")
    assert einfo["summary"]["n_replicas"] == 6 and einfo["summary"]["n_references"] == 2
    assert einfo["summary"]["n_diverged"] == 1
    text = describe_store(store)
    lines = text.splitlines()
    assert lines[0].endswith("3 runs")
    assert "ens: ensemble of 6 replicas (2 references), 51 observed steps (steps 0..50)" in text
    assert "states (6, 6, 83) float64 at 6 times" in text
    assert "no full states recorded" in text
    assert "traj: trajectory, 40 records (steps 0..78), P=83, states float64" in text
    assert "model: mlp 4-10-3 sigmoid cross_entropy" in text
    assert "optimizer: sgd lr=0.01 full batch" in text
    assert "data: iris (split=train, seed=0, standardize=False)" in text
    assert "perturbation: kind=uniform, eps=1e-08" in text
    assert "batches recorded (size 8)" in text
    assert "series: loss, accuracy, lr, test_loss, weight norm (L2)" in text
    assert text.count("replayable") == 3 and "not replayable" not in text
    assert describe_store(str(store.path)) == text


# ------------------------------------------------------------ misuse and races
def test_open_store_closes_directory_iterators(tmp_path):
    """Hypothesis: opening a store (modes 'a' and 'w' on an existing store) leaves no
    unclosed os.scandir iterator behind (no ResourceWarning)."""
    import warnings

    open_store(tmp_path / "s", "a")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        open_store(tmp_path / "s", "a").runs()
        open_store(tmp_path / "s", "w")
        open_store(tmp_path / "empty", "a")
    assert not [w for w in caught if issubclass(w.category, ResourceWarning)]


def test_lazy_states_of_a_deleted_run_raise(store, rng):
    """Hypothesis: the lazy states of a run read before it was deleted raise our error
    when sliced — never the NaN fill value of the missing chunks, which would look
    like a diverged run."""
    tr = make_traj(rng, t=30)
    store.write("run", tr)
    back = store.read("run")
    np.testing.assert_array_equal(back.states[:2], tr.states[:2])
    store.delete("run")
    with pytest.raises(RunNotFoundError, match="'run' was deleted .* after it was read"):
        back.states[:]
    with pytest.raises(RunNotFoundError, match="was deleted"):
        np.asarray(back.states)


def test_lazy_states_of_an_overwritten_run_raise(store, rng):
    """Hypothesis: after the run is overwritten (by this or another handle), lazy states
    read earlier raise instead of silently returning the new run's numbers next to the
    old run's loss; a fresh read sees the new run."""
    old, new = make_traj(rng, t=30), make_traj(rng, t=30)
    store.write("run", old)
    back = store.read("run")
    open_store(store.path, "r+").write("run", new, overwrite=True)
    with pytest.raises(StoreError, match="overwritten after it was read"):
        back.states[0]
    assert_traj_equal(new, store.read("run"))
    # rewriting a run from its own lazy copy still works (the source is read first)
    store.write("run", store.read("run"), overwrite=True)
    assert_traj_equal(new, store.read("run"))


def test_missing_chunk_of_a_lazy_run_raises(store, rng):
    """Hypothesis: a chunk file removed after the run was read is reported as an
    incomplete run when a slice reads NaN fill, while genuine NaN states (a diverged
    run) read back as NaN."""
    tr = make_traj(rng, t=20)
    store.write("run", tr, time_chunk=10)
    back = store.read("run")
    os.remove(store.path / "run" / "states" / "c" / "1" / "0")
    np.testing.assert_array_equal(back.states[:10], tr.states[:10])
    with pytest.raises(IncompleteRunError, match="1 of 2 chunks"):
        back.states[10:]
    nan_states = np.full((4, LAYOUT.size), np.nan)
    store.write("nan", make_traj(rng, t=4, states=nan_states))
    assert np.isnan(store.read("nan").states[:]).all()


def test_concurrent_writers_of_one_name(store, rng):
    """Hypothesis: when another handle writes the same run name while this write is in
    progress, this write fails with our StoreError (not a raw OSError from rename) and
    leaves the other run intact and no temporary directory behind."""
    first, second = make_traj(rng, t=10), make_traj(rng, t=10)
    other = open_store(store.path, "a")

    class Sneaky:  # a lazy source whose first read lets the other writer win
        shape, dtype = second.states.shape, second.states.dtype

        def __getitem__(self, key):
            if "race" not in other:
                other.write("race", first)
            return second.states[key]

    with pytest.raises(StoreError, match="'race' was written by another"):
        store.write("race", make_traj(rng, t=10, states=Sneaky()))
    assert_traj_equal(first, store.read("race"))
    assert store.leftovers() == []


def test_store_paths_with_spaces_and_unicode(tmp_path, rng):
    """Hypothesis: a store directory whose path has spaces and non-ASCII characters
    round-trips runs."""
    tr = make_traj(rng, t=5)
    st = open_store(tmp_path / "my runs é ü 日本.gtz", "a")
    st.write("r", tr)
    assert_traj_equal(tr, open_store(st.path, "r").read("r"))


# ------------------------------------------------------- numpy indexing of lazy states
_AXIS0 = [0, -1, slice(None), slice(None, None, -1), slice(250, 3, -7), slice(-3, None),
          slice(2, 2), slice(1, 1000, 13), np.array([3, 0, 0, -1]), [5, 2],
          np.arange(300) % 3 == 0, np.array([], dtype=int)]
_AXIS1 = [slice(None), 2, -1, slice(60, 0, -9), np.array([82, 1, 1])]


@pytest.mark.parametrize("first", range(len(_AXIS0)))
def test_lazy_states_index_like_numpy(store, rng, first):
    """Integers (negative too), slices with any step, `...`, integer and boolean arrays
    on one axis give exactly what numpy gives on the loaded array; iteration gives the
    rows."""
    tr = make_traj(rng, t=300)
    store.write("r", tr, time_chunk=16)
    lazy, ref = store.read("r").states, np.asarray(tr.states)
    a = _AXIS0[first]
    for key in [a, (a, Ellipsis), *[(a, b) for b in _AXIS1]]:
        if sum(isinstance(k, (list, np.ndarray)) for k in (key if isinstance(key, tuple) else (key,))) > 1:
            with pytest.raises(ValidationError, match="one axis at a time"):
                lazy[key]
            continue
        got, want = lazy[key], ref[key]
        assert got.shape == want.shape and np.array_equal(got, want), key
    if first == 0:
        assert np.array_equal(np.stack(list(lazy)), ref)


@pytest.mark.parametrize("key, match", [
    (300, r"index 300 is out of range for axis 0 .* \(valid: -300\.\.299\)"),
    (-301, r"index -301 is out of range"),
    ((0, 83), r"index 83 is out of range for axis 1"),
    (np.array([0, 400]), r"index 400 is out of range"),
    (1.5, r"got float 1.5 on axis 0"),
    ((0, 0, 0), r"too many indices"),
    (np.ones(3, bool), r"boolean index on axis 0 must have length 300; got 3"),
    (np.zeros((2, 2), int), r"got an array of shape \(2, 2\)"),
    (None, r"got NoneType None"),
])
def test_lazy_states_bad_index(store, rng, key, match):
    """Indices lazy states cannot take raise a ValidationError naming the index and axis
    (not zarr's errors)."""
    store.write("r", make_traj(rng, t=300))
    with pytest.raises(ValidationError, match=match):
        store.read("r").states[key]


def test_append_mode_opens_a_store_created_meanwhile(tmp_path, monkeypatch):
    """open_store(p, 'a') when another process creates the store between our check and
    our creation: the existing store is opened (not zarr's ContainsGroupError)."""
    import graphtraj.trajectory.store as store_mod

    path = tmp_path / "race.gtz"
    real = store_mod._create_root

    def racing(p):
        real(p)  # the other process wins the race ...
        real(p)  # ... and our creation then fails

    monkeypatch.setattr(store_mod, "_create_root", racing)
    st = open_store(path, "a")
    assert st.runs() == []
    from zarr.errors import ContainsGroupError

    with pytest.raises(ContainsGroupError):  # without the fallback, this would escape
        racing(tmp_path / "other.gtz")


def test_runs_are_listed_in_natural_order(store, rng):
    """Numbers inside run names compare as numbers: lr2 before lr10, lr0.03 before lr0.1."""
    names = ["sweep-lr10", "sweep-lr2", "sweep-lr0.1", "sweep-lr0.03", "sweep-lr1", "a", "b"]
    for name in names:
        store.write(name, make_traj(rng, t=2))
    assert store.runs() == ["a", "b", "sweep-lr0.03", "sweep-lr0.1", "sweep-lr1",
                            "sweep-lr2", "sweep-lr10"]
    assert list(store) == store.runs()


def test_lazy_ensemble_states_place_advanced_axes_like_numpy(store, rng):
    """3-D states: an integer and an index array separated by a slice or by `...` (even
    one standing for no axis) put the array's axis first, as numpy does; adjacent ones
    keep it in place. 0-d integer arrays index like integers."""
    lay = ParamLayout(["w"], [(4,)])
    ens = Ensemble(lay, np.arange(3), {"loss": rng.random((2, 3))}, reference=np.array([0, 0]),
                   diverged_at=np.full(2, -1), times=np.arange(3), states=rng.normal(size=(2, 3, 4)))
    store.write("e", ens)
    lazy, ref = store.read("e").states, np.asarray(ens.states)
    mask = np.array([True, False, True])
    for key in [(0, slice(None), [1, 2]), (0, Ellipsis, [1, 2]), (np.int64(1), slice(None, None, -1), [3, 0]),
                (slice(None), np.array(-1), Ellipsis, [3]), (slice(None), mask, 0), (0, mask),
                ([1, 0], 2), (np.array(1), Ellipsis), (Ellipsis, np.array(2))]:
        got, want = lazy[key], ref[key]
        assert got.shape == want.shape and np.array_equal(got, want), key
    with pytest.raises(ValidationError, match="no boolean scalar"):
        lazy[True]
    with pytest.raises(ValidationError, match="non-zero step; got slice\\(0, 3, 0\\)"):
        lazy[0:3:0]
