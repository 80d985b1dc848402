"""The ``graphtraj`` command.

``graphtraj study iris --out DIR`` runs the paper's study and writes its report;
``graphtraj analyze STORE [RUN]`` lists what a store holds and runs analyses on its
runs. Exit status: 0 on success, 1 for bad data (e.g. a path that is not a store),
2 for usage errors; errors are one line on standard error (with ``analyze --json``,
also a JSON object ``{"error": ..., "type": ..., "exit_status": ...}`` on standard
output).
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
from collections.abc import Sequence
from typing import Any

from graphtraj.exceptions import GraphTrajError

__all__ = ["main", "ANALYSES"]

#: ``graphtraj analyze`` flags → report-section module providing ``analyze(traj)``.
ANALYSES: dict[str, str] = {
    "measures": "graph_measures",
    "rqa": "recurrence",
    "visibility": "visibility",
    "lyapunov": "lyapunov_data",
    "tangent": "tangent",
}
_ANALYSIS_HELP = {
    "measures": "graph-space measures of the weight graphs (distances, spectra, motifs)",
    "rqa": "recurrence plot and recurrence quantification analysis",
    "visibility": "visibility graphs of the loss and distance series",
    "lyapunov": "Lyapunov exponents estimated from the recorded data",
    "tangent": "Lyapunov spectrum and sharpness from tangent maps of the training step",
}
NOT_AVAILABLE = "this analysis is not available in this version"


class _UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    """argparse with one-line usage errors (exit status 2)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise _UsageError(f"{self.prog}: error: {message} (see '{self.prog} --help')")


class _DataError(Exception):
    pass


def _positive_int(minimum: int) -> Any:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be an integer; got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be >= {minimum}; got {value}")
        return value

    return parse


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``graphtraj`` command."""
    from graphtraj import __version__

    parser = _Parser(
        prog="graphtraj",
        description="Neural-network training trajectories as time series of graphs: "
        "run the paper's stability study, inspect and analyse stored runs.",
    )
    parser.add_argument("--version", action="version", version=f"graphtraj {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    study = sub.add_parser(
        "study", help="run a built-in study and write its report",
        description="Run a built-in study and write DIR/report.html, DIR/summary.json and "
        "the runs in DIR/store.",
    )
    study.add_argument("name", choices=["iris"], help="the study: 'iris' (the paper's "
                       "4-10-3 network at η = 0.01, 1 and 5, plus an η sweep)")
    study.add_argument("--out", required=True, metavar="DIR", help="output directory")
    size = study.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true",
                      help="small smoke-test version (under a minute)")
    size.add_argument("--full", action="store_true",
                      help="larger ensembles (20 inits × 10 perturbations) and a finer sweep")
    study.add_argument("--seed", type=_positive_int(0), default=0, metavar="N",
                       help="seed of the initial conditions and perturbations (default 0)")
    study.add_argument("--jobs", type=_positive_int(1), default=1, metavar="N",
                       help="parallel training workers (default 1)")
    study.add_argument("--executor", choices=["process", "dask"], default=None,
                       help="where parallel runs go: a local process pool (default) or "
                       "a local dask cluster (needs graphtraj[distributed])")
    study.add_argument("--no-progress", action="store_true", help="hide progress bars")
    study.add_argument("--quiet", action="store_true",
                       help="print nothing while running (no progress bars, no stage "
                       "lines on standard error)")
    study.add_argument("--strict", action="store_true",
                       help="fail (exit 1) if a report section fails, instead of showing "
                       "the error in the report")

    analyze = sub.add_parser(
        "analyze", help="show what a store holds; run analyses on its runs",
        description="Without flags: list the runs of STORE (or describe RUN). With "
        "analysis flags: run them on RUN, or on every run (for an ensemble: its first "
        "reference replica, which needs recorded states).",
    )
    analyze.add_argument("store", metavar="STORE", help="path of a graphtraj store")
    analyze.add_argument("run", metavar="RUN", nargs="?", default=None,
                         help="name of one run (default: all)")
    for flag, text in _ANALYSIS_HELP.items():
        analyze.add_argument(f"--{flag}", action="store_true", help=text)
    analyze.add_argument("--json", action="store_true",
                         help="print machine-readable JSON instead of text")
    return parser


# --------------------------------------------------------------------- study
def _cmd_study(args: argparse.Namespace) -> int:
    from pathlib import Path

    from graphtraj._progress import progress_enabled
    from graphtraj.report.study import stability_phrase, transient_note
    from graphtraj.studies.iris import ACCEPTANCE_CHECKS, iris_study

    out = Path(args.out)
    blocker = next((p for p in (out, *out.parents) if p.exists() and not p.is_dir()), None)
    if blocker is not None:
        raise _UsageError(
            f"graphtraj study: error: --out must be a directory path; {str(blocker)!r} is "
            "an existing file (see 'graphtraj study --help')"
        )
    mode = "quick" if args.quick else ("full" if args.full else "default")
    progress = False if (args.no_progress or args.quiet) else None
    log = None
    if not args.quiet and not progress_enabled(progress):
        # no progress bar on a non-terminal stderr: one line per stage instead
        def log(msg: str) -> None:
            print(f"graphtraj: {msg}", file=sys.stderr, flush=True)

    study = iris_study(
        args.out, mode=mode, seed=args.seed, jobs=args.jobs, executor=args.executor,
        progress=progress, strict=args.strict, log=log,
    )
    print(f"graphtraj study iris ({mode}): {args.out}/report.html")
    for v in study.verdicts:
        conv = "converges" if v.converges else "does not converge"
        print(f"  η = {v.lr:g}: training {conv}; trajectory is "
              f"{stability_phrase(v.stability)}{transient_note(v.numbers)}")
    n_ok = sum(study.checks.values())
    print(f"  paper's findings reproduced: {n_ok} of {len(study.checks)}")
    for key, ok in study.checks.items():
        if not ok:
            print(f"    not reproduced: {ACCEPTANCE_CHECKS[key]}")
    total = sum(study.timings.get(k, 0.0) for k in ("training", "analysis", "figures",
                                                     "sections"))
    print(f"  time: {total:.0f} s")
    return 0


# ------------------------------------------------------------------- analyze
def _trajectory_of(run: Any, name: str) -> tuple[Any, str]:
    from graphtraj.trajectory import Ensemble

    if isinstance(run, Ensemble):
        if run.states is None:
            raise _DataError(
                f"run {name!r} is an ensemble stored without weight states (only its loss "
                "and distance curves), so there is nothing to analyse; in Python, "
                "train_ensemble(..., record_every=k) keeps the states"
            )
        ref = int(run.reference_indices()[0])
        return run.replica(ref), f"{name} (reference replica {ref})"
    return run, name


def _section_module(key: str) -> Any:
    modname = f"graphtraj.report.sections.{key}"
    try:
        mod = importlib.import_module(modname)
    except ModuleNotFoundError as exc:
        if exc.name == modname or exc.name is None:
            raise _DataError(f"{NOT_AVAILABLE} (no module {modname})") from None
        raise
    if not callable(getattr(mod, "analyze", None)):
        raise _DataError(f"{NOT_AVAILABLE} ({modname} has no analyze function)")
    return mod


def _print_tree(value: Any, indent: int = 0) -> None:
    pad = "  " * indent
    if isinstance(value, dict):
        for k, v in value.items():
            if isinstance(v, (dict, list)) and v and not _flat_list(v):
                print(f"{pad}{k}:")
                _print_tree(v, indent + 1)
            else:
                print(f"{pad}{k}: {_scalar(v)}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            print(f"{pad}[{i}]:")
            _print_tree(v, indent + 1)
    else:
        print(f"{pad}{_scalar(value)}")


def _flat_list(v: Any) -> bool:
    return isinstance(v, list) and all(not isinstance(x, (dict, list)) for x in v)


def _scalar(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.6g}"
    if _flat_list(v):
        items = [_scalar(x) for x in v[:12]]
        more = f", … ({len(v)} values)" if len(v) > 12 else ""
        return "[" + ", ".join(items) + more + "]"
    return "null" if v is None else str(v)


def _store_path(text: str) -> str:
    """``text`` if it is a store directory; else a one-line :class:`_DataError` for users."""
    from pathlib import Path

    path = Path(text)
    if (path / "zarr.json").is_file():
        return text
    if (path / "store" / "zarr.json").is_file():
        raise _DataError(f"no graphtraj store at {text}; the study's store is "
                         f"{path / 'store'}")
    raise _DataError(f"no graphtraj store at {text} (run `graphtraj study iris --out DIR` "
                     "to make one)")


def _analysis(module: Any, traj: Any) -> Any:
    """``module.analyze(traj)``; a run the analysis cannot handle gives a reason instead.

    A model the analysis does not support (:class:`UnsupportedModelError`) and a run
    that cannot be replayed (:class:`NotReplayableError`, e.g. no data reference or
    malformed metadata) give ``{"available": False, "reason": ...}``, so one such run
    does not stop the analysis of the others.
    """
    from graphtraj.exceptions import NotReplayableError, UnsupportedModelError

    try:
        return module.analyze(traj)
    except (UnsupportedModelError, NotReplayableError) as exc:
        return {"available": False, "reason": _one_line(exc)}


def _unavailable(numbers: Any) -> bool:
    return isinstance(numbers, dict) and numbers.get("available") is False


#: Why a run without recorded weight states is skipped (one line for all of them).
_NO_STATES = ("ensembles stored with only their loss and distance curves; in Python, "
              "train_ensemble(..., record_every=k) keeps the states")


def _skip_lines(groups: dict[str, list[str]]) -> list[str]:
    """One line per reason: ``skipped N runs: a, b, c — <reason>`` (runs without
    weight states: ``skipped N runs without weight states: a, b, c (<reason>)``)."""
    lines = []
    for why, names in groups.items():
        runs = f"{len(names)} run{'s' if len(names) != 1 else ''}"
        if why == _NO_STATES:
            lines.append(f"skipped {runs} without weight states: {', '.join(names)} ({why})")
        else:
            lines.append(f"skipped {runs}: {', '.join(names)} — {why}")
    return lines


def _text_value(key: str, value: Any) -> Any:
    """Field values as the text output shows them (``first_reach: -1`` → ``never``)."""
    if key == "first_reach" and isinstance(value, int) and value < 0:
        return "never"
    return value


def _print_numbers(numbers: Any, indent: int) -> None:
    if isinstance(numbers, dict):
        numbers = {k: _text_value(k, v) for k, v in numbers.items()}
    _print_tree(numbers, indent)


def _cmd_analyze(args: argparse.Namespace) -> int:
    from graphtraj.report.summary import json_safe
    from graphtraj.trajectory.describe import describe_run, describe_store
    from graphtraj.trajectory.store import open_store

    store = open_store(_store_path(args.store), "r")
    flags = [f for f in ANALYSES if getattr(args, f)]
    if args.run is not None and args.run not in store:
        raise _DataError(
            f"run {args.run!r} is not in the store {args.store}; runs: "
            f"{', '.join(store.runs()) or 'none'}"
        )
    if not flags:
        if args.json:
            names = [args.run] if args.run else store.runs()
            print(json.dumps(json_safe({n: store.info(n) for n in names}), indent=2))
        elif args.run is not None:
            print(describe_run(store.info(args.run)))
        else:
            print(describe_store(store))
        return 0
    modules = {f: _section_module(ANALYSES[f]) for f in flags}
    names = [args.run] if args.run is not None else store.runs()
    results: dict[str, Any] = {}
    skipped: dict[str, str] = {}
    groups: dict[str, list[str]] = {}  # reason → runs skipped for it (text output)
    for name in names:
        try:
            traj, label = _trajectory_of(store.read(name), name)
        except _DataError as exc:
            if args.run is not None:
                raise
            skipped[name] = str(exc)
            groups.setdefault(_NO_STATES, []).append(name)
            continue
        results[label] = {ANALYSES[f]: _analysis(modules[f], traj) for f in flags}
    if not results:
        raise _DataError("no run of the store holds full states to analyse")
    analysed = {label: by_key for label, by_key in results.items()
                if not all(_unavailable(v) for v in by_key.values())}
    for label, by_key in results.items():
        if label not in analysed:
            why = "; ".join(dict.fromkeys(
                f"{key} not available: {v['reason']}" for key, v in by_key.items()))
            groups.setdefault(why, []).append(label)
    if not analysed:  # nothing could be analysed: an error, as for a store without states
        raise _DataError(" | ".join(f"{', '.join(runs)}: {why}" for why, runs in groups.items()
                                    if why != _NO_STATES))
    if args.json:
        out = {"results": results, "skipped": skipped}
        print(json.dumps(json_safe(out), indent=2, allow_nan=False))
    else:
        for label, by_key in analysed.items():
            print(f"{label}:")
            for key, numbers in by_key.items():
                if _unavailable(numbers):
                    print(f"  {key}: not available — {numbers.get('reason')}")
                    continue
                print(f"  {key}:")
                _print_numbers(json_safe(numbers), 2)
        for line in _skip_lines(groups):
            print(line)
    return 0


# ---------------------------------------------------------------------- main
def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``graphtraj`` command; returns the exit status.

    Parameters
    ----------
    argv : sequence of str, optional
        Arguments (default ``sys.argv[1:]``).

    Returns
    -------
    int
        0 on success, 1 for bad data (one line on stderr, no traceback), 2 for usage
        errors (one line on stderr), 130 when interrupted, 141 when the reader of
        stdout closes it early (``| head``). With ``analyze --json`` an error is also
        printed on stdout as a JSON object
        ``{"error": ..., "type": ..., "exit_status": ...}``; usage errors found while
        parsing the arguments stay plain text.

    Examples
    --------
    >>> main(["--version"])
    graphtraj ...
    0
    """
    parser = build_parser()
    try:
        args, extra = parser.parse_known_args(argv)
    except _UsageError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    except SystemExit as exc:  # --help, --version
        return int(exc.code or 0)
    if (getattr(args, "command", None) == "analyze" and args.run is None and len(extra) == 1
            and not extra[0].startswith("-")):
        args.run, extra = extra[0], []  # the run named after an option flag
    if extra:
        prog = f"graphtraj {args.command}" if args.command else "graphtraj"
        print(f"{prog}: error: unrecognized arguments: {' '.join(extra)} "
              f"(see '{prog} --help')", file=sys.stderr)
        return 2
    if args.command is None:
        print("graphtraj: error: a command is required: study or analyze "
              "(see 'graphtraj --help')", file=sys.stderr)
        return 2
    as_json = bool(getattr(args, "json", False))
    try:
        if args.command == "study":
            return _cmd_study(args)
        return _cmd_analyze(args)
    except _UsageError as exc:
        return _fail(str(exc), exc, 2, as_json)
    except BrokenPipeError:  # the reader closed the pipe (e.g. `| head`): stop quietly
        return _closed_stdout()
    except (GraphTrajError, _DataError, OSError) as exc:
        return _fail(f"graphtraj {args.command}: error: {_one_line(exc)}", exc, 1, as_json)
    except KeyboardInterrupt as exc:
        return _fail(f"graphtraj {args.command}: interrupted", exc, 130, as_json)


def _closed_stdout() -> int:
    """Exit status 141 (128 + SIGPIPE, as for a process killed by it) after pointing
    stdout at /dev/null, so that the interpreter's final flush does not fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # no real file descriptor (captured)
        pass
    return 141


def _fail(line: str, exc: BaseException, status: int, as_json: bool) -> int:
    """Report an error: one line on stderr and, with ``--json``, a JSON object on stdout.

    The object is ``{"error": <message>, "type": <exception class>, "exit_status": N}``
    (``"type"`` is ``"DataError"`` for a bad store or run, ``"UsageError"`` for usage
    errors).
    """
    print(line, file=sys.stderr)
    if as_json:
        kind = {_DataError: "DataError", _UsageError: "UsageError"}.get(type(exc),
                                                                        type(exc).__name__)
        message = line.split(": error: ", 1)[-1]
        print(json.dumps({"error": message, "type": kind, "exit_status": status}))
    return status


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
