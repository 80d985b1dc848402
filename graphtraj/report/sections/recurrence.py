"""Report section ``recurrence``: recurrence plots and RQA of a regime's training run.

Two views of the reference run: the weight trajectory (recorded states, L1 distance,
the paper's metric) and a graph-space trajectory (a relabelling-invariant distance
between the network snapshots from :mod:`graphtraj.measures`, by default the
singular-value distance). Both use a fixed recurrence rate of 5 %, so regimes compare
on equal footing; RQA then says how the recurrences are arranged. :func:`analyze`
returns the same numbers for ``graphtraj analyze STORE --rqa``.
"""

from __future__ import annotations

import html
import math
import warnings
from typing import Any

import numpy as np

from graphtraj.exceptions import UndefinedResultWarning

__all__ = ["build", "analyze"]

KEY = "recurrence"
TITLE = "Recurrence plots and RQA"
RATE = 0.05
WEIGHT_METRIC = "manhattan"
#: Graph-space metrics tried in order (the first one in the registry is used).
GRAPH_METRICS = ("singular_values", "strength_wasserstein", "laplacian", "heat_trace")
SHOWN = ("RR", "DET", "L", "Lmax", "ENTR", "LAM", "TT", "MRT", "TREND")


def _states(traj: Any, max_snapshots: int) -> tuple[Any, np.ndarray, np.ndarray]:
    """Evenly subsampled trajectory, its finite states and their steps."""
    sub = traj.subsample(max_snapshots)
    states = np.asarray(sub.states[:], dtype=np.float64)
    finite = np.all(np.isfinite(states), axis=1)
    n_ok = states.shape[0] if finite.all() else int(np.argmin(finite))
    return sub.isel(slice(0, n_ok)), states[:n_ok], sub.times[:n_ok]


def _far_fraction(res: Any, far: int) -> float:
    """Share of the recurrences between states at least ``far`` snapshots apart."""
    tau = res.histograms.tau_density
    n = tau.size
    if far >= n or res.histograms.n_recurrent == 0:
        return math.nan
    d = np.arange(far, n)
    return float((tau[d] * 2 * (n - d)).sum() / res.histograms.n_recurrent)


def _view(x: Any, *, metric: str | None, precomputed: bool) -> tuple[Any, Any, dict[str, Any]]:
    from graphtraj.timeseries import GlobalRecurrenceRate, recurrence_matrix, rqa

    rm = recurrence_matrix(x, GlobalRecurrenceRate(RATE), metric=metric, precomputed=precomputed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndefinedResultWarning)
        res = rqa(rm)
    n = rm.shape[0]
    numbers = {k: float(v) for k, v in res.measures().items()}
    numbers.update(
        n=int(n), eps=float(rm.eps), metric=rm.metric, theiler=rm.theiler,
        far_fraction=_far_fraction(res, max(1, n // 10)),
    )
    return rm, res, numbers


def _graph_metric(requested: str | None) -> tuple[str | None, str]:
    try:
        from graphtraj.measures import METRICS
    except (ImportError, AttributeError) as exc:  # pragma: no cover - part of the package
        return None, f"graphtraj.measures is not available ({exc})"
    if requested is not None:
        return (requested, "") if requested in METRICS else (
            None, f"graph metric {requested!r} is not in graphtraj.measures.METRICS")
    for name in GRAPH_METRICS:
        if name in METRICS:
            return name, ""
    return None, "no graph-space metric is registered in graphtraj.measures"


def _graph_view(traj: Any, metric: str | None) -> tuple[Any, Any, dict[str, Any]]:
    name, why = _graph_metric(metric)
    if name is None:
        return None, None, {"available": False, "reason": why}
    from graphtraj.exceptions import UnsupportedModelError
    from graphtraj.measures import distance_matrix
    from graphtraj.snapshots import GraphSeries

    try:
        series = GraphSeries.from_trajectory(traj)
    except UnsupportedModelError as exc:  # e.g. normalization layers: weight space only
        return None, None, {"available": False, "reason": str(exc)}
    d = distance_matrix(series, metric=name)
    rm, res, numbers = _view(d, metric=None, precomputed=True)
    numbers.update(available=True, metric=name)
    return rm, res, numbers


def _compute(traj: Any, max_snapshots: int, graph_snapshots: int, graph_metric: str | None):
    sub, states, steps = _states(traj, max_snapshots)
    if states.shape[0] < 3:
        empty = {"available": False, "reason": f"only {states.shape[0]} finite states"}
        return {"weights": empty, "graph": empty}, {}
    rm_w, res_w, num_w = _view(states, metric=WEIGHT_METRIC, precomputed=False)
    num_w["available"] = True
    gsub = sub.subsample(graph_snapshots)
    rm_g, res_g, num_g = _graph_view(gsub, graph_metric)
    extras = {"weights": (rm_w, res_w, steps), "graph": (rm_g, res_g, gsub.times)}
    return {"weights": num_w, "graph": num_g}, extras


#: Default sizes (weight-space states, graph snapshots) of the report and of ``analyze``.
MAX_SNAPSHOTS, GRAPH_SNAPSHOTS = 1000, 600


def analyze(traj: Any, **options: Any) -> dict[str, Any]:
    """RQA numbers of one trajectory in weight space and in graph space (JSON-able).

    Parameters
    ----------
    traj : Trajectory
        A training run with recorded states.
    max_snapshots : int, default 1000
        States evenly subsampled to at most this many (weight space); the study's
        report uses the same default, so both give the same numbers for a run.
    graph_snapshots : int, default 600
        At most this many snapshots in graph space (as in the report).
    graph_metric : str, optional
        A :data:`graphtraj.measures.METRICS` name (default: the first of
        :data:`GRAPH_METRICS` that is registered).

    Returns
    -------
    dict
        ``{"weights": {...}, "graph": {...}}``, each with every RQA measure at a fixed
        recurrence rate of 5 % plus ``eps``, ``metric``, ``n``, ``theiler`` and
        ``far_fraction`` (share of recurrences at least n/10 snapshots apart), or
        ``{"available": False, "reason": ...}``.

    Examples
    --------
    >>> import numpy as np
    >>> from graphtraj.trajectory import ParamLayout, Trajectory
    >>> rng = np.random.default_rng(0)
    >>> lay = ParamLayout.for_mlp([2, 3, 1])
    >>> tr = Trajectory(np.arange(200), rng.normal(size=(200, lay.size)), lay)
    >>> out = analyze(tr)
    >>> round(out["weights"]["RR"], 3), out["weights"]["metric"]
    (0.05, 'manhattan')
    """
    numbers, _ = _compute(
        traj,
        int(options.get("max_snapshots", MAX_SNAPSHOTS)),
        int(options.get("graph_snapshots", GRAPH_SNAPSHOTS)),
        options.get("graph_metric"),
    )
    return numbers


def _num(x: Any, spec: str, why: str = "") -> str:
    """``x`` formatted with ``spec``, or "n/a" (with ``why``) when it is NaN/None."""
    try:
        xf = float(x)
    except (TypeError, ValueError):
        xf = math.nan
    if not math.isfinite(xf):
        return f"n/a ({why})" if why else "n/a"
    return format(xf, spec)


def _sentence(label: str, num: dict[str, Any]) -> str:
    if not num.get("available"):
        return f"{label}: not computed ({html.escape(str(num.get('reason', '')))})."
    far = num["far_fraction"]
    if math.isfinite(far) and far >= 0.2:
        verdict = "revisits its past"
    else:
        verdict = "mostly moves on to new states"
    far_txt = f"{100 * far:.0f} %" if math.isfinite(far) else "n/a"
    return (
        f"The {label} {verdict}: at a fixed recurrence rate of {100 * RATE:.0f} % "
        f"(ε = {_num(num['eps'], '.3g')}, {html.escape(str(num['metric']))}), {far_txt} of "
        f"the recurrences link states more than a tenth of the run apart. "
        f"DET = {_num(num['DET'], '.2f')} (share of recurrences on diagonal lines: retraced "
        f"segments, mean length L = {_num(num['L'], '.1f', 'no diagonal lines')}), "
        f"LAM = {_num(num['LAM'], '.2f')} (share on vertical lines: trapping, "
        f"TT = {_num(num['TT'], '.1f', 'no vertical lines')})."
    )


def build(regime: Any) -> Any:
    """The ``recurrence`` section for one regime (≈ 1 s in quick mode, a few s otherwise)."""
    from graphtraj.report.section import ReportFigure, Section, figure_to_png_base64

    quick = bool(regime.quick)
    numbers, extras = _compute(regime.reference, 200 if quick else MAX_SNAPSHOTS,
                               120 if quick else GRAPH_SNAPSHOTS, None)
    figures = []
    if extras:
        figures.append(ReportFigure(
            title=f"Recurrence plots, η = {regime.lr:g}",
            png_base64=figure_to_png_base64(_plots(extras)),
            caption="Black: pairs of recorded states within ε (fixed recurrence rate "
                    f"{100 * RATE:.0f} %). Left: weight space (L1). Right: graph space.",
        ))
        if not quick:
            fig, what = _windowed(extras)
            if fig is not None:
                figures.append(ReportFigure(
                    title="RQA along training",
                    png_base64=figure_to_png_base64(fig),
                    caption=f"DET and LAM in windows of a fifth of the run ({what}), "
                            "within the recurrence matrices above (one ε per view).",
                ))
    summary = " ".join(_sentence(label, numbers[key]) for key, label in
                       (("weights", "weight trajectory"), ("graph", "graph-space trajectory")))
    return Section(key=KEY, title=TITLE, summary_html=summary, figures=tuple(figures),
                   numbers=numbers)


def _plots(extras: dict[str, Any]) -> Any:
    import matplotlib.pyplot as plt

    from graphtraj.plotting.recurrence import plot_recurrence

    fig, axes = plt.subplots(1, 2, figsize=(8.4, 4.0))
    for ax, key, label in zip(axes, ("weights", "graph"), ("weights", "graph space"), strict=True):
        rm, res, steps = extras[key]
        if rm is None:
            ax.text(0.5, 0.5, "graph space not available", ha="center", va="center")
            ax.set_axis_off()
            continue
        plot_recurrence(rm, ax=ax, times=steps if len(steps) > 1 else None)
        ax.set_title(f"{label}: {rm.title()}\nDET = {res.DET:.2f}, LAM = {res.LAM:.2f}",
                     fontsize=8)
    fig.tight_layout()
    return fig


def _windowed(extras: dict[str, Any]) -> tuple[Any, str]:
    """The windowed-RQA figure and the window sizes in words (title and caption agree)."""
    import matplotlib.pyplot as plt

    from graphtraj.plotting.recurrence import plot_windowed_rqa
    from graphtraj.timeseries import windowed_rqa

    fig, ax = plt.subplots(figsize=(6.0, 3.2))
    drawn = False
    sizes: list[str] = []
    for key, label in (("weights", "weights"), ("graph", "graph")):
        rm, _, steps = extras[key]
        if rm is None or rm.shape[0] < 20:
            continue
        width = max(10, rm.shape[0] // 5)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UndefinedResultWarning)
            res = windowed_rqa(rm, width=width, step=max(1, width // 2),
                               times=steps, measures=["DET", "LAM"])
        plot_windowed_rqa(res, ["DET", "LAM"], ax=ax, label=label)
        sizes.append(f"{label}: {width} snapshots, step {max(1, width // 2)}")
        drawn = True
    if not drawn:
        plt.close(fig)
        return None, ""
    what = "; ".join(sizes)
    ax.set_title(f"RQA in windows of a fifth of the run ({what})", fontsize=9)
    return fig, what
