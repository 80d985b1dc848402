"""Benchmark: graphtraj's streaming RQA against pyunicorn on identical input.

Input: the logistic map at r = 4 (x0 = 0.3, 100 transient steps) embedded with m = 3,
lag 1; recurrence at a fixed recurrence rate of 5 % (Euclidean). Both tools compute
the same measures (RR, DET, L, Lmax, ENTR, LAM, TT, Vmax, VENTR, mean white vertical
line length) under pyunicorn's conventions -- graphtraj with
``convention="pyunicorn"`` -- and the numbers are checked to agree. graphtraj is also
timed under its default convention (RecurrenceAnalysis.jl definitions, Theiler 1).

Sizes: N = 2 000, 5 000, 10 000 for both tools, then N = 100 000 for graphtraj alone
(pyunicorn would need ≈ 16·N² = 160 GB). Each (tool, N) runs in a fresh subprocess;
time is wall-clock of the analysis (each tool first analyses a small input, so imports
and graphtraj's compiled kernels are loaded before timing); memory is the peak traced by ``tracemalloc`` (numpy and
Python allocations) and the process's maximum resident set size.

Usage: ``python benchmarks/rqa.py [--quick] [--markdown FILE]``. ``--quick`` runs
N = 1 000 and 2 000 against pyunicorn and N = 10 000 alone (< 30 s).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
import tracemalloc

RATE = 0.05
CHECKED = ("RR", "DET", "L", "Lmax", "ENTR", "LAM", "TT", "Vmax", "VENTR", "MRT")


def logistic_embedded(n: int):
    """N delay vectors (m = 3, lag 1) of the logistic map at r = 4."""
    from graphtraj.datasets import logistic_map
    from graphtraj.timeseries import delay_embed

    return delay_embed(logistic_map(n + 2, r=4.0, x0=0.3, transient=100), 3, 1)


def run_graphtraj(x, convention: str) -> dict:
    from graphtraj.timeseries import GlobalRecurrenceRate, rqa

    res = rqa(x, GlobalRecurrenceRate(RATE), convention=convention, progress=False)
    return {k: float(v) for k, v in res.measures().items()}


def run_pyunicorn(x) -> dict:
    from pyunicorn.timeseries import RecurrencePlot

    rp = RecurrencePlot(x, metric="euclidean", recurrence_rate=RATE, silence_level=3)
    return {
        "RR": float(rp.recurrence_rate()), "DET": float(rp.determinism(2)),
        "L": float(rp.average_diaglength(2)), "Lmax": float(rp.max_diaglength()),
        "ENTR": float(rp.diag_entropy(2)), "LAM": float(rp.laminarity(2)),
        "TT": float(rp.trapping_time(2)), "Vmax": float(rp.max_vertlength()),
        "VENTR": float(rp.vert_entropy(2)), "MRT": float(rp.mean_recurrence_time()),
    }


def worker(tool: str, n: int) -> None:
    """Run one measurement and print it as JSON (called in a fresh subprocess)."""
    import warnings

    warnings.simplefilter("ignore")
    x = logistic_embedded(n)
    if tool.startswith("graphtraj"):
        convention = "pyunicorn" if tool == "graphtraj-pyunicorn" else "recurrenceanalysis"
        run_graphtraj(logistic_embedded(3000), convention)  # load compiled kernels
        fn = lambda: run_graphtraj(x, convention)  # noqa: E731
    else:
        run_pyunicorn(logistic_embedded(300))  # imports, caches
        fn = lambda: run_pyunicorn(x)  # noqa: E731
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    tracemalloc.start()
    t0 = time.perf_counter()
    measures = fn()
    elapsed = time.perf_counter() - t0
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    rss1 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"tool": tool, "n": n, "time": elapsed, "peak": peak,
                      "maxrss": rss1 * 1024, "maxrss_growth": (rss1 - rss0) * 1024,
                      "measures": measures}))


def measure(tool: str, n: int) -> dict:
    out = subprocess.run([sys.executable, __file__, "--worker", tool, str(n)],
                         capture_output=True, text=True, check=True,
                         env={**os.environ, "GRAPHTRAJ_PROGRESS": "0"})
    return json.loads(out.stdout.strip().splitlines()[-1])


def _mb(b: float) -> str:
    return f"{b / 1e6:9.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--markdown", help="append the table to this Markdown file")
    parser.add_argument("--worker", nargs=2, metavar=("TOOL", "N"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker[0], int(args.worker[1]))
        return
    compared = (1000, 2000) if args.quick else (2000, 5000, 10000)
    alone = (10000,) if args.quick else (100000,)
    rows = []
    print(f"logistic map r=4, m=3, lag 1, RR={RATE}; load average "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores (shared machine)")
    header = (f"{'N':>7} {'tool':<22} {'time s':>8} {'peak MB':>9} {'maxRSS MB':>10} "
              f"{'time ×':>7} {'mem ×':>7}  agree")
    print(header)
    for n in compared + alone:
        base = measure("pyunicorn", n) if n in compared else None
        for tool in ("graphtraj-pyunicorn", "graphtraj"):
            if n in alone and tool == "graphtraj-pyunicorn":
                continue
            r = measure(tool, n)
            ratio_t = ratio_m = agree = ""
            if base is not None:
                ratio_t = f"{base['time'] / r['time']:7.1f}"
                ratio_m = f"{base['peak'] / max(r['peak'], 1):7.0f}"
                if tool == "graphtraj-pyunicorn":
                    agree = all(abs(r["measures"][k] - base["measures"][k])
                                <= 1e-9 * max(1.0, abs(base["measures"][k])) for k in CHECKED)
                    agree = "yes" if agree else "NO"
            rows.append((n, tool, r, ratio_t, ratio_m, agree))
            print(f"{n:>7} {tool:<22} {r['time']:8.2f} {_mb(r['peak'])} "
                  f"{_mb(r['maxrss']):>10} {ratio_t:>7} {ratio_m:>7}  {agree}")
        if base is not None:
            rows.append((n, "pyunicorn", base, "1.0", "1", ""))
            print(f"{n:>7} {'pyunicorn':<22} {base['time']:8.2f} {_mb(base['peak'])} "
                  f"{_mb(base['maxrss']):>10} {'1.0':>7} {'1':>7}")
    print("time × / mem × : pyunicorn's time / peak traced memory divided by graphtraj's "
          "(same N); agree: the checked measures equal pyunicorn's within 1e-9")
    if args.markdown:
        with open(args.markdown, "a", encoding="utf-8") as fh:
            fh.write("\n| N | tool | time (s) | peak traced (MB) | max RSS (MB) | "
                     "pyunicorn time / ours | pyunicorn memory / ours | same numbers |\n")
            fh.write("|---|---|---|---|---|---|---|---|\n")
            for n, tool, r, rt, rm, ag in rows:
                fh.write(f"| {n} | {tool} | {r['time']:.2f} | {r['peak'] / 1e6:.1f} | "
                         f"{r['maxrss'] / 1e6:.0f} | {rt.strip()} | {rm.strip()} | {ag} |\n")


if __name__ == "__main__":
    main()
