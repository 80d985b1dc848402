"""Tests for graphtraj.cli (the ``graphtraj`` command)."""

import json
import subprocess
import sys
import types

import numpy as np
import pytest

from graphtraj import ParamLayout, Trajectory, open_store
from graphtraj.cli import ANALYSES, main
from graphtraj.trajectory import Ensemble


def _one_line(text):
    return len(text.strip().splitlines()) == 1


def test_help_via_subprocess():
    """`python -m graphtraj.cli --help` exits 0 and lists both subcommands."""
    out = subprocess.run([sys.executable, "-m", "graphtraj.cli", "--help"],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0
    assert "study" in out.stdout and "analyze" in out.stdout


@pytest.mark.parametrize("argv", [["--help"], ["study", "--help"], ["analyze", "--help"],
                                  ["--version"]])
def test_help_everywhere(argv, capsys):
    """--help on the command and every subcommand exits 0 with usage text."""
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "usage: graphtraj" in out or out.startswith("graphtraj ")


@pytest.mark.parametrize(
    ("argv", "match"),
    [
        ([], "a command is required"),
        (["train"], "invalid choice"),
        (["study"], "the following arguments are required"),
        (["study", "iris"], "--out"),
        (["study", "mnist", "--out", "x"], "invalid choice"),
        (["study", "iris", "--out", "x", "--quick", "--full"], "not allowed with"),
        (["study", "iris", "--out", "x", "--jobs", "0"], "must be >= 1"),
        (["study", "iris", "--out", "x", "--seed", "abc"], "must be an integer"),
        (["analyze"], "required: STORE"),
        (["analyze", "s", "--bogus"], "unrecognized arguments"),
    ],
)
def test_usage_errors_exit_2_with_one_line(argv, match, capsys):
    """Usage errors: exit status 2 and a single line on stderr naming the problem."""
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert _one_line(err) and match in err


@pytest.fixture
def store_path(tmp_path):
    """A store with a trajectory, an ensemble with states and one without."""
    lay = ParamLayout.for_mlp([2, 3, 2])
    rng = np.random.default_rng(0)
    path = tmp_path / "runs.gtz"
    st = open_store(path, "w")
    st.write("traj", Trajectory(np.arange(6), rng.normal(size=(6, lay.size)), lay,
                                loss=np.linspace(1, 0.5, 6), metadata={"replayable": False}))
    st.write("ens", Ensemble(lay, np.arange(6), {"loss": rng.random((2, 6))},
                             reference=np.array([0, 0]), diverged_at=np.array([-1, -1]),
                             times=np.arange(0, 6, 2), states=rng.normal(size=(2, 3, lay.size))))
    st.write("bare", Ensemble(lay, np.arange(6), {"loss": rng.random((2, 6))},
                              reference=np.array([0, 0]), diverged_at=np.array([-1, -1])))
    return path


def test_analyze_lists_runs(store_path, capsys):
    """Without flags, the store's runs are listed (via describe_store)."""
    assert main(["analyze", str(store_path)]) == 0
    out = capsys.readouterr().out
    assert "3 runs" in out and "traj: trajectory" in out and "ens: ensemble" in out
    assert main(["analyze", str(store_path), "traj"]) == 0
    assert capsys.readouterr().out.startswith("traj: trajectory, 6 records")


def test_analyze_json_listing(store_path, capsys):
    """--json without flags prints the store's info as JSON."""
    assert main(["analyze", str(store_path), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert set(data) == {"traj", "ens", "bare"}


@pytest.mark.parametrize("make", ["file", "dir", "missing"])
def test_not_a_store_exits_1(tmp_path, make, capsys):
    """A path that is not a store: exit 1, one line on stderr, no traceback."""
    path = tmp_path / "thing"
    if make == "file":
        path.write_text("hello")
    elif make == "dir":
        path.mkdir()
        (path / "data.txt").write_text("x")
    assert main(["analyze", str(path)]) == 1
    err = capsys.readouterr().err
    assert _one_line(err) and err.startswith("graphtraj analyze: error:")
    assert "Traceback" not in err


def test_unknown_run_exits_1(store_path, capsys):
    """Naming a run that is not there: exit 1 listing the runs."""
    assert main(["analyze", str(store_path), "nope"]) == 1
    err = capsys.readouterr().err
    assert _one_line(err) and "'nope' is not in the store" in err and "traj" in err


@pytest.fixture
def fake_rqa(monkeypatch):
    """A fake `recurrence` section whose analyze reports the trajectory length."""
    mod = types.ModuleType("graphtraj.report.sections.recurrence")
    mod.build = lambda regime: None
    mod.analyze = lambda traj, **kw: {"n_records": len(traj), "first": float(traj.states[0][0]),
                                      "nested": {"nan": float("nan"), "list": [1.0, 2.0]}}
    monkeypatch.setitem(sys.modules, "graphtraj.report.sections.recurrence", mod)
    return mod


def test_analyze_flag_runs_section_analysis(store_path, fake_rqa, capsys):
    """--rqa calls recurrence.analyze on each run with states (ensemble: its reference)."""
    assert main(["analyze", str(store_path), "--rqa"]) == 0
    out = capsys.readouterr().out
    assert "traj:" in out and "ens (reference replica 0):" in out
    assert "n_records: 6" in out and "n_records: 3" in out
    assert "skipped 1 run without weight states: bare (" in out and "list: [1, 2]" in out


def test_analyze_flag_json(store_path, fake_rqa, capsys):
    """--json gives strict JSON with NaN as null; values equal the section's analyze."""
    assert main(["analyze", str(store_path), "traj", "--rqa", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    res = data["results"]["traj"]["recurrence"]
    st = open_store(store_path, "r")
    assert res["n_records"] == 6
    assert res["first"] == pytest.approx(float(np.asarray(st.read("traj").states)[0, 0]))
    assert res["nested"]["nan"] is None


def test_run_name_after_the_flags(store_path, fake_rqa, capsys):
    """`analyze STORE --rqa --json RUN` names the run as `analyze STORE RUN --rqa --json`."""
    assert main(["analyze", str(store_path), "--rqa", "--json", "traj"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert list(data["results"]) == ["traj"]
    assert main(["analyze", str(store_path), "traj", "--rqa", "extra"]) == 2
    assert "unrecognized arguments: extra" in capsys.readouterr().err


def test_named_ensemble_without_states_exits_1(store_path, fake_rqa, capsys):
    """Asking to analyse an ensemble with no recorded states: exit 1, one line."""
    assert main(["analyze", str(store_path), "bare", "--rqa"]) == 1
    err = capsys.readouterr().err
    assert _one_line(err) and "stored without weight states" in err and "record_every" in err


def test_missing_analysis_module(store_path, monkeypatch, capsys):
    """A flag whose section module does not exist: exit 1, 'not available in this version'."""
    monkeypatch.setitem(sys.modules, "graphtraj.report.sections.tangent", None)
    assert main(["analyze", str(store_path), "--tangent"]) == 1
    err = capsys.readouterr().err
    assert _one_line(err) and "this analysis is not available in this version" in err


def test_flag_table():
    """Every analysis flag maps to its section key."""
    assert ANALYSES == {"measures": "graph_measures", "rqa": "recurrence",
                        "visibility": "visibility", "lyapunov": "lyapunov_data",
                        "tangent": "tangent"}


def test_study_quick_tiny(tmp_path, monkeypatch, capsys):
    """`graphtraj study iris --quick` (tiny sizes) writes the report and prints the answer."""
    import graphtraj.studies.iris as iris
    from graphtraj.studies.iris import StudySettings

    def tiny(mode="default", *, seed=0):
        assert mode == "quick" and seed == 4
        return StudySettings(
            mode="quick", seed=seed, eps=1e-8, n_inits=2, n_perturb=1,
            regimes=(("stable", 0.01, 40, 40), ("edge", 1.0, 40, 40), ("chaotic", 5.0, 40, 70)),
            orbital=(0.01, 10, 35), sweep_lrs=(1.0,), sweep_steps=40, sweep_inits=1,
            sweep_perturb=1)

    monkeypatch.setattr(iris, "study_settings", tiny)
    out = tmp_path / "res"
    assert main(["study", "iris", "--out", str(out), "--quick", "--seed", "4",
                 "--no-progress", "--strict"]) == 0
    text = capsys.readouterr().out
    assert "η = 0.01: training" in text and "paper's findings reproduced" in text
    assert (out / "report.html").is_file() and (out / "summary.json").is_file()
    assert json.loads((out / "summary.json").read_text())["settings"]["seed"] == 4
    # the store it wrote is readable by `graphtraj analyze`
    assert main(["analyze", str(out / "store")]) == 0
    assert "stable-pair" in capsys.readouterr().out


def test_study_strict_section_failure_exits_1(tmp_path, monkeypatch, capsys):
    """--strict: a failing report section makes the command exit 1 with one line."""
    import graphtraj.report.sections as sections
    import graphtraj.studies.iris as iris
    from graphtraj.studies.iris import StudySettings

    monkeypatch.setattr(iris, "study_settings", lambda mode="default", *, seed=0: StudySettings(
        mode="quick", seed=0, eps=1e-8, n_inits=1, n_perturb=1,
        regimes=(("stable", 0.01, 40, 40), ("edge", 1.0, 40, 40), ("chaotic", 5.0, 40, 70)),
        orbital=(0.01, 10, 35), sweep_lrs=(1.0,), sweep_steps=40, sweep_inits=1,
        sweep_perturb=1))
    bad = types.ModuleType("graphtraj.report.sections.broken")
    bad.build = lambda regime: 1 / 0
    monkeypatch.setitem(sys.modules, "graphtraj.report.sections.broken", bad)
    monkeypatch.setattr(sections, "SECTION_MODULES", ("broken",))
    # --quiet: no stage lines on stderr, so the error is its only line
    assert main(["study", "iris", "--out", str(tmp_path), "--quick", "--strict",
                 "--quiet"]) == 1
    err = capsys.readouterr().err
    assert _one_line(err) and "'broken' failed" in err and "ZeroDivisionError" in err


def test_out_that_is_a_file_is_a_usage_error(tmp_path, capsys):
    """`study iris --out README.md` (an existing file): exit 2 with one line saying
    --out must be a directory path, not a raw "[Errno 17] File exists"."""
    f = tmp_path / "README.md"
    f.write_text("x")
    for out in (f, f / "sub"):
        assert main(["study", "iris", "--out", str(out), "--quick"]) == 2
        err = capsys.readouterr().err
        assert _one_line(err) and "--out must be a directory path" in err
        assert "Errno" not in err


def test_missing_store_message_is_for_cli_users(tmp_path, capsys):
    """`analyze /nonexistent` says there is no store and how to make one with the CLI,
    not a Python call; a study output directory points to its store/."""
    assert main(["analyze", str(tmp_path / "nope")]) == 1
    err = capsys.readouterr().err
    assert _one_line(err) and "no graphtraj store at" in err
    assert "graphtraj study iris --out DIR" in err and "open_store" not in err
    open_store(tmp_path / "res" / "store", "w")
    assert main(["analyze", str(tmp_path / "res")]) == 1
    assert "res/store" in capsys.readouterr().err


def test_unknown_analyze_flag_points_to_analyze_help(capsys):
    """An unknown analyze flag: exit 2 and a pointer to `graphtraj analyze --help`."""
    assert main(["analyze", "s", "--bogus"]) == 2
    err = capsys.readouterr().err
    assert _one_line(err) and "--bogus" in err and "graphtraj analyze --help" in err


def _tiny_settings(mode="default", *, seed=0):
    from graphtraj.studies.iris import StudySettings

    return StudySettings(
        mode="quick", seed=seed, eps=1e-8, n_inits=1, n_perturb=1,
        regimes=(("stable", 0.01, 30, 30), ("edge", 1.0, 30, 30), ("chaotic", 5.0, 30, 60)),
        orbital=(0.01, 10, 35), sweep_lrs=(1.0,), sweep_steps=30, sweep_inits=1,
        sweep_perturb=1)


def test_study_prints_stage_lines_to_stderr_unless_quiet(tmp_path, monkeypatch, capsys):
    """With no progress bars (stderr not a terminal) the study prints one line per stage
    to stderr, and stdout holds only the answer; --quiet prints no stage lines."""
    import graphtraj.report.sections as sections
    import graphtraj.studies.iris as iris

    monkeypatch.setattr(iris, "study_settings", _tiny_settings)
    monkeypatch.setattr(sections, "SECTION_MODULES", ())
    monkeypatch.setenv("GRAPHTRAJ_PROGRESS", "0")
    assert main(["study", "iris", "--out", str(tmp_path / "a"), "--quick"]) == 0
    cap = capsys.readouterr()
    lines = cap.err.splitlines()
    assert any(ln.startswith("graphtraj: stable-ensemble (η = 0.01): training 2 replicas, "
                             "30 steps") for ln in lines)
    assert any("figures" in ln for ln in lines) and all(ln.startswith("graphtraj: ") for ln in lines)
    assert "graphtraj:" not in cap.out and "trajectory is" in cap.out
    assert main(["study", "iris", "--out", str(tmp_path / "b"), "--quick", "--quiet"]) == 0
    assert capsys.readouterr().err == ""


def test_analyze_json_stdout_stays_clean(store_path, capsys):
    """--json output on stdout is pure JSON (nothing else printed there)."""
    assert main(["analyze", str(store_path), "traj", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["traj"]


@pytest.fixture(scope="module")
def replay_store(tmp_path_factory):
    """A store with a replayable run (η = 0.01, 8 steps), a run without a data reference,
    a run whose metadata have batch_size "a", and two ensembles without states."""
    import torch

    from graphtraj.capture import train_ensemble
    from graphtraj.datasets import load_iris
    from graphtraj.datasets.registry import data_ref

    X, y = load_iris()
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        good = train_ensemble({"sizes": [4, 10, 3]}, X, y, lr=0.01, n_steps=8, record_every=1,
                              data_ref=data_ref("iris"))
        noref = train_ensemble({"sizes": [4, 10, 3]}, X, y, lr=0.01, n_steps=8, record_every=1)
    finally:
        torch.set_num_threads(before)
    ref = good.replica(0)
    meta = {**ref.metadata, "optimizer": {**ref.metadata["optimizer"], "batch_size": "a"}}
    path = tmp_path_factory.mktemp("replay") / "runs.gtz"
    st = open_store(path, "w")
    st.write("good", ref)
    st.write("noref", noref.replica(0))
    st.write("badmeta", Trajectory(ref.times, np.asarray(ref.states), ref.layout, metadata=meta))
    lay = ParamLayout.for_mlp([2, 3, 2])
    for name in ("bare1", "bare2"):
        st.write(name, Ensemble(lay, np.arange(6), {"loss": np.ones((2, 6))},
                                reference=np.array([0, 0]), diverged_at=np.array([-1, -1])))
    return path


def test_tangent_skips_runs_that_cannot_be_replayed(replay_store, capsys):
    """One run without a data reference and one with malformed metadata do not stop
    `analyze --tangent`: the good run is analysed, the others are listed with their
    reasons, and the exit status is 0."""
    assert main(["analyze", str(replay_store), "--tangent", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    res = data["results"]
    assert res["good"]["tangent"]["n_exponents"] == 83
    assert res["noref"]["tangent"]["available"] is False
    assert "no `data_ref` was given" in res["noref"]["tangent"]["reason"]
    assert res["badmeta"]["tangent"]["available"] is False
    assert "metadata['optimizer']['batch_size'] is malformed" in res["badmeta"]["tangent"]["reason"]
    assert set(data["skipped"]) == {"bare1", "bare2"}
    assert main(["analyze", str(replay_store), "--tangent"]) == 0
    out = capsys.readouterr().out
    assert "good:" in out and "skipped 1 run: noref — tangent not available: this run " in out
    assert "skipped 1 run: badmeta — tangent not available: this run cannot be replayed: " \
           "its metadata['optimizer']['batch_size'] is malformed" in out


def test_tangent_on_a_named_run_that_cannot_be_replayed_exits_1(replay_store, capsys):
    """Naming only a run that cannot be replayed: nothing is analysed, so exit 1 with
    one line giving the reason (as for a named ensemble without states)."""
    assert main(["analyze", str(replay_store), "noref", "--tangent"]) == 1
    err = capsys.readouterr().err
    assert _one_line(err) and "noref: tangent not available: this run cannot be replayed" in err


def test_skipped_runs_are_one_line_per_reason(replay_store, capsys):
    """Runs without weight states are listed on one line with the reason, not one line
    each."""
    assert main(["analyze", str(replay_store), "--tangent"]) == 0
    lines = [ln for ln in capsys.readouterr().out.splitlines() if "without weight states" in ln]
    assert len(lines) == 1
    assert lines[0].startswith("skipped 2 runs without weight states: bare1, bare2 (ensembles")
    assert "record_every=k" in lines[0]


def test_first_reach_never_in_text_and_minus_one_in_json(replay_store, capsys):
    """At η = 0.01 sharpness never reaches 2/η = 200: the text output says `never`, the
    JSON keeps the documented -1; the zero tolerance of the exponent counts is shown."""
    assert main(["analyze", str(replay_store), "good", "--tangent"]) == 0
    out = capsys.readouterr().out
    assert "first_reach: never" in out and "zero_tol: 0.001" in out
    assert main(["analyze", str(replay_store), "good", "--tangent", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["results"]["good"]["tangent"]["first_reach"] == -1


def test_json_errors_are_json_on_stdout(tmp_path, store_path, capsys):
    """With --json an error is also a JSON object on stdout (exit status still 1); the
    one-line message stays on stderr."""
    assert main(["analyze", str(tmp_path / "nope"), "--json"]) == 1
    cap = capsys.readouterr()
    data = json.loads(cap.out)
    assert data["type"] == "DataError" and data["exit_status"] == 1
    assert data["error"].startswith("no graphtraj store at")
    assert _one_line(cap.err) and cap.err.startswith("graphtraj analyze: error: no graphtraj")
    assert main(["analyze", str(store_path), "nope", "--json"]) == 1
    assert "'nope' is not in the store" in json.loads(capsys.readouterr().out)["error"]
    assert main(["analyze", str(store_path), "nope"]) == 1
    assert capsys.readouterr().out == ""  # without --json: nothing on stdout


def test_closed_stdout_exits_quietly(store_path):
    """`graphtraj analyze ... --json | true`: the reader closes the pipe before anything
    is written; the command exits with 141 (128 + SIGPIPE) and no traceback."""
    code = ("import sys; from graphtraj.cli import main; "
            f"sys.exit(main(['analyze', {str(store_path)!r}, '--json']))")
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    proc.stdout.close()  # the reader goes away at once
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 141
    assert "Traceback" not in err and "BrokenPipeError" not in err
