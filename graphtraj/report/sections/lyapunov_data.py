"""Report section ``lyapunov_data``: Lyapunov exponents measured from the recorded data.

For the reference run of a regime: the Rosenstein and Kantz exponents of the loss
series (the paper measured local expansion rates of the η = 5 loss series), and the
network maximum Lyapunov exponent (nMLE) of the graph trajectory in both modes — from
the one trajectory, and from the reference against its perturbed copy — beside the
perturbation FTLE when the study computed one. :func:`analyze` returns the same numbers
for ``graphtraj analyze STORE --lyapunov``.

Exponents are per training step (records ``dt`` steps apart are rescaled).
"""

from __future__ import annotations

import html
import math
import warnings
from typing import Any

import numpy as np

__all__ = ["build", "analyze"]

KEY = "lyapunov_data"
TITLE = "Lyapunov exponents from data"

#: Embedding of the loss series (scalar): small and fixed, so that regimes compare.
LOSS_EMB_DIM = 3
LOSS_LAG = 1
TRAJECTORY_LEN = 20


def _finite_prefix(x: np.ndarray) -> np.ndarray:
    bad = np.flatnonzero(~np.isfinite(x))
    return x if bad.size == 0 else x[: bad[0]]


def _record_dt(times: np.ndarray) -> float:
    d = np.diff(np.asarray(times, dtype=np.float64))
    return float(np.median(d)) if d.size else 1.0


def _quiet(fn: Any, *args: Any, **kwargs: Any) -> tuple[Any, str]:
    """Run an estimator; return (result, "") or (None, error message). Warnings muted."""
    from graphtraj.exceptions import GraphTrajError

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return fn(*args, **kwargs), ""
        except GraphTrajError as exc:
            return None, str(exc)


def _summary(res: Any, err: str) -> dict[str, Any]:
    if res is None:
        return {"exponent": math.nan, "scaling_region": False, "status": "error", "reason": err}
    return {
        "exponent": float(res.exponent),
        "r2": float(res.r2),
        "scaling_region": bool(res.scaling_region),
        "status": res.status,
        "reason": res.reason,
        "fit": [int(res.fit_start), int(res.fit_stop)],
        "n_references": int(res.n_references),
        "params": {k: v for k, v in res.params.items() if isinstance(v, (int, float, str, type(None)))},
    }


def _loss_part(traj: Any, max_points: int) -> tuple[dict[str, Any], dict[str, Any]]:
    from graphtraj.timeseries import lyapunov_kantz, lyapunov_rosenstein, theiler_window

    if traj.loss is None:
        return {"available": False, "reason": "no loss series was recorded"}, {}
    y = _finite_prefix(np.asarray(traj.loss, dtype=np.float64))
    if y.size == 0:
        return {"available": False, "reason": "the loss of the first record is not "
                "finite (a loss that was not measured is stored as NaN)"}, {}
    start = max(0, y.size - max_points)
    times = traj.times[start : y.size]
    y = y[start:]
    dt = _record_dt(times)
    theiler = 1
    if y.size >= 4 and np.ptp(y) > 0:
        theiler = max(1, min(theiler_window(y), y.size // 10))
    kw = {"emb_dim": LOSS_EMB_DIM, "lag": LOSS_LAG, "theiler": theiler,
          "trajectory_len": TRAJECTORY_LEN, "dt": dt}
    ros, e1 = _quiet(lyapunov_rosenstein, y, **kw)
    kan, e2 = _quiet(lyapunov_kantz, y, n_neighbors=5, **kw)
    numbers = {"available": True, "n": int(y.size), "first_record": int(start), "dt": dt,
               "rosenstein": _summary(ros, e1), "kantz": _summary(kan, e2)}
    return numbers, {"rosenstein": ros, "kantz": kan}


def _graph_series(traj: Any, idx: np.ndarray) -> Any:
    """Records ``idx`` as a GraphSeries, or as (T, P) weight vectors for a model that is
    not a layered network (e.g. with normalization layers): the L1 distance is the same."""
    from graphtraj.exceptions import UnsupportedModelError
    from graphtraj.snapshots import GraphSeries

    sub = traj.isel(idx)
    try:
        return GraphSeries.from_trajectory(sub)
    except UnsupportedModelError:
        return np.asarray(sub.states[:], dtype=np.float64)


def _finite_rows(traj: Any) -> int:
    states = np.asarray(traj.states, dtype=np.float64)
    ok = np.all(np.isfinite(states), axis=1)
    return int(np.argmin(ok)) if not ok.all() else states.shape[0]


def _nmle_part(ref: Any, pert: Any | None, max_snapshots: int) -> tuple[dict[str, Any], dict[str, Any]]:
    from graphtraj.timeseries import network_mle, theiler_window

    n_ok = _finite_rows(ref)
    if pert is not None:
        common, ia, ib = np.intersect1d(ref.times[:n_ok], pert.times[: _finite_rows(pert)],
                                        return_indices=True)
    numbers: dict[str, Any] = {"metric": "l1"}
    results: dict[str, Any] = {}
    idx = np.arange(max(0, n_ok - max_snapshots), n_ok)
    if idx.size >= 2:
        gs = _graph_series(ref, idx)
        dt = _record_dt(ref.times[idx])
        weights_only = isinstance(gs, np.ndarray)
        vec = gs if weights_only else gs.vectors()
        numbers["space"] = "weight vectors" if weights_only else "layered graph"
        theiler = max(1, min(theiler_window(vec), idx.size // 10)) if idx.size >= 4 else 1
        single, err = _quiet(network_mle, gs, theiler=theiler,
                             trajectory_len=min(TRAJECTORY_LEN, max(2, idx.size // 4)), dt=dt)
        numbers["single"] = _summary(single, err)
        numbers["single"]["first_record"] = int(idx[0])
        results["single"] = single
    else:
        numbers["single"] = _summary(None, "fewer than 2 finite snapshots")
    if pert is not None and common.size >= 2:
        sel = np.arange(min(common.size, max_snapshots))
        g_ref = _graph_series(ref, ia[sel])
        g_pert = _graph_series(pert, ib[sel])
        two, err = _quiet(network_mle, g_ref, g_pert, dt=_record_dt(common[sel]))
        numbers["two"] = _summary(two, err)
        numbers["two"]["n_records"] = int(sel.size)
        results["two"] = two
    elif pert is not None:
        numbers["two"] = _summary(None, "reference and perturbed runs share fewer than 2 records")
    return numbers, results


def _ftle(extras: dict[str, Any]) -> dict[str, Any] | None:
    from graphtraj.timeseries import FTLEResult

    for key, value in extras.items():
        if isinstance(value, FTLEResult):
            return {"key": key, "exponent": float(value.slope), "accepted": bool(value.accepted),
                    "r2": float(value.r2), "window": [int(w) for w in value.window]}
    return None


def _compute(traj: Any, perturbed: Any | None, *, max_points: int, max_snapshots: int) -> tuple[dict[str, Any], dict[str, Any]]:
    loss_numbers, loss_results = _loss_part(traj, max_points)
    nmle_numbers, nmle_results = _nmle_part(traj, perturbed, max_snapshots)
    numbers = {"loss": loss_numbers, "nmle": nmle_numbers, "units": "per training step"}
    return numbers, {**loss_results, **{f"nmle_{k}": v for k, v in nmle_results.items()}}


def analyze(traj: Any, **options: Any) -> dict[str, Any]:
    """Lyapunov exponents from the data of one trajectory, JSON-able (NaN where undefined).

    Parameters
    ----------
    traj : Trajectory
        A training run with states (and loss, if recorded).
    perturbed : Trajectory, optional
        A perturbed copy recorded at the same steps: adds the two-trajectory nMLE.
    max_points : int, default 20000
        Only the last ``max_points`` finite loss records are used (a contiguous window
        at full resolution: subsampling a chaotic series changes its dynamics).
    max_snapshots : int, default 2000
        The single-trajectory nMLE uses the last ``max_snapshots`` finite records; the
        two-trajectory nMLE the first ``max_snapshots`` common records (the
        perturbation grows from the start).

    Returns
    -------
    dict
        ``{"loss": {"rosenstein": {...}, "kantz": {...}, ...}, "nmle": {"single": {...},
        "two": {...}}, "units": ...}``; each estimate has ``exponent`` (per training
        step), ``r2``, ``scaling_region``, ``status``, ``reason`` and ``fit``.

    Examples
    --------
    >>> import numpy as np
    >>> from graphtraj.trajectory import ParamLayout, Trajectory
    >>> rng = np.random.default_rng(0)
    >>> lay = ParamLayout.for_mlp([2, 3, 1])
    >>> tr = Trajectory(np.arange(200), rng.normal(size=(200, lay.size)), lay,
    ...                 loss=rng.random(200))
    >>> out = analyze(tr)
    >>> sorted(out), sorted(out["loss"]["rosenstein"])[:3]
    (['loss', 'nmle', 'units'], ['exponent', 'fit', 'n_references'])
    """
    from graphtraj._result import to_builtin

    numbers, _ = _compute(
        traj, options.get("perturbed"),
        max_points=int(options.get("max_points", 20000)),
        max_snapshots=int(options.get("max_snapshots", 2000)),
    )
    return to_builtin(numbers)


def _fmt(entry: dict[str, Any] | None) -> str:
    if not entry:
        return "not computed"
    if entry.get("status") == "flat":
        return "flat (no growth)"
    if entry.get("scaling_region") and math.isfinite(entry.get("exponent", math.nan)):
        return f"{entry['exponent']:.3g} per step"
    return "no scaling region"


#: Exponents above this (per step) count as exponential separation in the verdict.
POSITIVE = 0.01


def _conclusive(entry: dict[str, Any] | None) -> bool:
    """A fit with a linear scaling region ("flat" and failed fits are inconclusive)."""
    return bool(entry and entry.get("scaling_region") and entry.get("status") != "flat"
                and math.isfinite(entry.get("exponent", math.nan)))


def _lean(values: list[float]) -> str:
    return "chaotic-looking" if max(values) > POSITIVE else "regular"


def _verdict(two: dict[str, Any] | None, loss_entries: dict[str, dict[str, Any] | None]) -> tuple[str, str]:
    """``(verdict sentence, basis)`` from the estimates (dicts of :func:`_summary`).

    The two-trajectory nMLE (reference against its perturbed copy) is preferred: it
    measures the separation of a known perturbation. Without a conclusive one, the
    loss-series exponents (Rosenstein, Kantz) decide. A fit that is "flat" or has no
    scaling region decides nothing, so with no conclusive estimate the verdict is
    "inconclusive". When both kinds are conclusive and disagree, the sentence says so.

    Examples
    --------
    >>> flat = {"exponent": 0.0, "scaling_region": True, "status": "flat"}
    >>> _verdict(None, {"Rosenstein": flat})[1]
    'inconclusive'
    >>> pos = {"exponent": 0.2, "scaling_region": True, "status": "linear"}
    >>> _verdict(pos, {"Rosenstein": flat})[1]
    'two-trajectory nMLE'
    """
    loss_ok = {k: e["exponent"] for k, e in loss_entries.items() if _conclusive(e)}
    loss_txt = ", ".join(f"{k} {v:.3g}" for k, v in loss_ok.items())
    if _conclusive(two):
        lam = two["exponent"]  # type: ignore[index]
        lean = _lean([lam])
        text = (f"from the two-trajectory nMLE ({lam:.3g} per step), nearby states "
                + ("separate exponentially (chaotic-looking dynamics)" if lean != "regular"
                   else "do not separate exponentially (regular dynamics)"))
        if loss_ok and _lean(list(loss_ok.values())) != lean:
            text += (f"; the loss-series exponents ({loss_txt}) disagree: they suggest "
                     f"{_lean(list(loss_ok.values()))} dynamics")
        return text, "two-trajectory nMLE"
    if loss_ok:
        lean = _lean(list(loss_ok.values()))
        text = (f"from the loss-series exponents ({loss_txt} per step), nearby states "
                + ("separate exponentially (chaotic-looking dynamics)" if lean != "regular"
                   else "do not separate exponentially (regular dynamics)"))
        if two is not None:
            text += ("; the two-trajectory nMLE is inconclusive "
                     f"({_fmt(two)}), so this rests on the loss series alone")
        return text, "loss-series exponents"
    return ("inconclusive: no estimator found a linear scaling region (a flat divergence "
            "curve or no scaling region is no evidence either way)"), "inconclusive"


def _separation(res: Any) -> dict[str, float] | None:
    """First and largest finite log separation of a two-trajectory divergence curve."""
    if res is None:
        return None
    curve = np.asarray(res.curve, dtype=np.float64)
    fin = np.flatnonzero(np.isfinite(curve))
    if fin.size < 2:
        return None
    return {"first": float(curve[fin[0]]), "max": float(np.nanmax(curve))}


def _figure(results: dict[str, Any], title: str, quick: bool) -> Any:
    import matplotlib.pyplot as plt

    from graphtraj.plotting.lyapunov import plot_lyapunov

    fig, axes = plt.subplots(1, 2, figsize=(8, 3) if quick else (10, 3.6))
    for key, color in (("rosenstein", "C0"), ("kantz", "C1")):
        if results.get(key) is not None:
            plot_lyapunov(results[key], ax=axes[0], color=color)
    axes[0].set_title("loss series", fontsize=10)
    for key, color in (("nmle_single", "C2"), ("nmle_two", "C3")):
        if results.get(key) is not None:
            plot_lyapunov(results[key], ax=axes[1], color=color)
    axes[1].set_title("graph trajectory (L1)", fontsize=10)
    fig.suptitle(title, fontsize=11)
    fig.subplots_adjust(left=0.08, right=0.98, bottom=0.15, top=0.82, wspace=0.25)
    return fig


def build(regime: Any) -> Any:
    """The ``lyapunov_data`` section for one regime of the Iris study.

    Parameters
    ----------
    regime : RegimeRun
        Uses ``reference`` (loss and states), ``perturbed`` (two-trajectory nMLE) and
        any :class:`~graphtraj.timeseries.FTLEResult` in ``extras``. Quick mode uses
        the last 1000 loss records and 300 snapshots (default 20000 and 2000) and a
        smaller figure.

    Returns
    -------
    Section
    """
    from graphtraj.report.section import ReportFigure, Section, figure_to_png_base64

    quick = bool(getattr(regime, "quick", False))
    numbers, results = _compute(
        regime.reference, regime.perturbed,
        max_points=1000 if quick else 20000,
        max_snapshots=300 if quick else 2000,
    )
    ftle = _ftle(dict(getattr(regime, "extras", {}) or {}))
    numbers["ftle"] = ftle
    loss = numbers["loss"]
    nm = numbers["nmle"]
    ros = loss.get("rosenstein") if loss.get("available") else None
    kan = loss.get("kantz") if loss.get("available") else None
    two = nm.get("two")
    verdict, basis = _verdict(two, {"Rosenstein": ros, "Kantz": kan})
    numbers["verdict"] = {"basis": basis, "text": verdict}
    sep = _separation(results.get("nmle_two"))
    if two is not None and sep is not None:
        two["log_separation"] = sep
    sep_txt = ""
    if sep is not None and sep["max"] - sep["first"] >= 1.0 and basis != "two-trajectory nMLE":
        sep_txt = (f" The separation of the perturbed copy does grow, from e^{sep['first']:.0f} "
                   f"to e^{sep['max']:.0f}, but its fit finds no clean exponential region.")
    parts = [
        f"<p><b>{html.escape(verdict[0].upper() + verdict[1:])}.</b>{html.escape(sep_txt)} ",
        f"Loss series ({LOSS_EMB_DIM}-dimensional delay embedding): Rosenstein λ = "
        f"{_fmt(ros)}, Kantz λ = {_fmt(kan)}. " if loss.get("available")
        else "No loss series was recorded. ",
        f"Graph trajectory (L1 distance): nMLE = {_fmt(nm.get('single'))} from the one "
        f"trajectory, {_fmt(nm.get('two'))} from the reference against its perturbed copy",
    ]
    if ftle is not None:
        parts.append("; the perturbation FTLE is "
                     + (f"{ftle['exponent']:.3g}" if math.isfinite(ftle["exponent"])
                        else "n/a (no fit)")
                     + ("" if ftle["accepted"] else " (fit not accepted)"))
    parts.append(". Exponents are per training step; “no scaling region” means the "
                 "divergence curve has no linear part to fit and “flat” that it does not "
                 "grow over the horizon — neither is evidence either way (see the reasons "
                 "in the numbers).</p>")
    summary = "".join(parts)
    figs = []
    if any(v is not None for v in results.values()):
        fig = _figure(results, f"{regime.name} (η = {regime.lr:g})", quick)
        figs.append(ReportFigure(
            "Divergence curves", figure_to_png_base64(fig, dpi=60 if quick else 90),
            "Mean log separation of neighbours against time with the fitted linear region "
            "(shaded) and the decorrelated level (dashed).",
        ))
    from graphtraj._result import to_builtin

    return Section(KEY, TITLE, summary, tuple(figs), to_builtin(numbers))
