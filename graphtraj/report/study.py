"""The HTML report and ``summary.json`` of ``graphtraj study iris``.

The report answers the user's question first — for each learning rate: does training
converge, is the trajectory stable, at the edge of stability or chaotic, and the
evidence — then shows the figures, then the analysis sections
(:mod:`graphtraj.report.sections`). Every number it shows is also in
``summary.json`` (NaN written as ``null``).
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from graphtraj.report.html import error_box, esc, figure, page, table
from graphtraj.report.runner import SectionRun, run_sections
from graphtraj.report.section import ReportFigure, figure_to_png_base64
from graphtraj.report.summary import write_json

__all__ = ["write_study_report", "study_summary", "study_figures"]

_TAG = {"stable": "stable", "edge of stability": "edge", "chaotic": "chaotic"}


def _fmt(x: Any, digits: int = 3) -> str:
    if x is None:
        return "n/a"
    x = float(x)
    if not np.isfinite(x):
        return "n/a"
    if x != 0 and (abs(x) >= 1e4 or abs(x) < 1e-3):
        return f"{x:.2e}"
    return f"{x:.{digits}g}"


def stability_phrase(stability: str) -> str:
    """The verdict as a predicate: "stable", "chaotic", "at the edge of stability".

    Examples
    --------
    >>> "the trajectory is " + stability_phrase("edge of stability")
    'the trajectory is at the edge of stability'
    """
    return "at the edge of stability" if stability == "edge of stability" else stability


def _per_step(x: Any) -> str:
    """An exponent with its unit, or plain "n/a" (no unit on a missing value)."""
    text = _fmt(x)
    return text if text == "n/a" else f"{text}/step"


def _periods_words(periods: dict, levels: list[float] | None = None) -> str:
    """Periods seen in the loss windows, what periods 1 and 3 mean, and the plateau levels."""
    seen = ", ".join(f"period {int(k)}: {v} window{'s' if v != 1 else ''}"
                     for k, v in sorted(periods.items(), key=lambda kv: int(kv[0])))
    text = ((seen or "no periodic window") + "; period-1 stretches are plateaus of the "
            "loss, period-3 stretches are 3-cycles")
    if levels:
        from graphtraj.studies.classify import plateau_levels_text

        text += (" (the paper reports fixed points at ln 3 ≈ 1.10; the plateaus here are at "
                 f"L ≈ {plateau_levels_text(levels)})")
    return text


def _frozen_words(numbers: dict) -> str:
    """One sentence on the runs of a regime that end frozen on a loss plateau."""
    levels, starts = numbers.get("frozen_levels") or [], numbers.get("frozen_from") or []
    if not levels:
        return ""
    from graphtraj.studies.classify import plateau_levels_text

    text = plateau_levels_text(levels)
    return (f" Across the {numbers.get('n_loss_runs', '?')} loss runs of this regime, {len(levels)} end "
            f"frozen on a plateau (from steps {min(starts)}–{max(starts)} on) at L ≈ {text}.")


def _plateau_levels(loss: np.ndarray, stretches: Any) -> list[float]:
    """Distinct median losses of the period-1 stretches, in increasing order."""
    return sorted({float(np.median(loss[lo:hi])) for lo, hi, lab in stretches.stretches
                   if lab == 1 and hi > lo and np.isfinite(loss[lo:hi]).all()})


def transient_note(numbers: dict) -> str:
    """" (transient: k of n loss runs end frozen on a plateau)" or "".

    Examples
    --------
    >>> transient_note({"frozen_runs": 8, "n_loss_runs": 10})
    ' (transient: 8 of 10 loss runs end frozen on a plateau)'
    >>> transient_note({"frozen_runs": 0})
    ''
    """
    k = int(numbers.get("frozen_runs") or 0)
    if not k:
        return ""
    return f" (transient: {k} of {numbers.get('n_loss_runs', '?')} loss runs end frozen on a plateau)"


def _yes(flag: bool) -> str:
    return '<span class="yes">yes</span>' if flag else '<span class="no">no</span>'


# ------------------------------------------------------------------- figures
def _layout(fig: Any) -> None:
    """Cheap layout: fixed spacing (savefig's tight bounding box trims the margins)."""
    fig.subplots_adjust(wspace=0.32, hspace=0.3)


def study_figures(study: Any) -> list[ReportFigure]:
    """The core figures of the study (loss, divergence, stretches, FTLE vs η, norms, graphs)."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    from graphtraj.plotting.training import (
        log_scale,
        plot_divergence,
        plot_ftle_vs_lr,
        plot_loss_curves,
        plot_network_snapshot,
        plot_weight_norms,
    )

    regimes = study.regimes
    figs: list[ReportFigure] = []

    fig, axes = plt.subplots(1, len(regimes), figsize=(4.2 * len(regimes), 3.2))
    for ax, r in zip(np.atleast_1d(axes), regimes, strict=True):
        plot_loss_curves(r.extras["run"], ax=ax)
        ax.set_title(f"{r.name}: η = {r.lr:g}")
    _layout(fig)
    figs.append(ReportFigure(
        "Loss curves", figure_to_png_base64(fig),
        "Training loss of each initial condition (log scale).",
    ))

    panels = [r.extras["ensemble"] for r in regimes] + [study.orbital]
    fig, axes = plt.subplots(1, len(panels), figsize=(3.9 * len(panels), 3.2))
    for ax, res in zip(np.atleast_1d(axes), panels, strict=True):
        plot_divergence(res, ax=ax)
    _layout(fig)
    figs.append(ReportFigure(
        "Divergence of perturbed copies", figure_to_png_base64(fig),
        "Mean distance of the ε-perturbed copies to their reference, relative to its "
        "value at the perturbation, per initial condition (thin), their mean (black) and "
        "the fitted exponential over each accepted window (dashed red). The last panel "
        "is the orbital run: the η = 0.01 reference perturbed at step "
        f"{study.orbital.t0}.",
    ))

    chaotic = [r for r in regimes if r.extras.get("stretches") is not None
               and not r.extras["verdict"].converges]
    for r in chaotic:
        fig, ax = plt.subplots(figsize=(9, 2.8))
        loss = np.asarray(r.extras["run"].loss[0])
        steps = np.asarray(r.extras["run"].loss_steps)
        ax.plot(steps, loss, lw=0.5, color="k")
        for lo, hi, lab in r.extras["stretches"].stretches:
            color = "#7fc97f" if lab >= 1 else ("#fdc086" if lab == 0 else "#beaed4")
            ax.axvspan(steps[lo], steps[min(hi, steps.size - 1)], color=color, alpha=0.35, lw=0)
        ax.axhline(np.log(3), color="grey", ls=":", lw=0.8)
        log_scale(ax, "y")
        ax.set_xlabel("training step")
        ax.set_ylabel("loss")
        ax.set_title(f"{r.name}: η = {r.lr:g}, loss of the first initial condition")
        _layout(fig)
        s = r.extras["stretches"]
        figs.append(ReportFigure(
            f"Periodic and irregular stretches at η = {r.lr:g}", figure_to_png_base64(fig),
            f"Green: periodic windows — {_periods_words(s.periods, _plateau_levels(loss, s))}; "
            f"orange: irregular; purple: monotone; windows of {s.params['window']} steps; "
            "dotted line: ln 3 ≈ 1.10, the loss of the uniform prediction."
            + _frozen_words(r.extras["verdict"].numbers),
        ))

    fig, ax = plt.subplots(figsize=(6.5, 3.6))
    plot_ftle_vs_lr(study.diagram, ax=ax)
    _layout(fig)
    d = study.diagram
    figs.append(ReportFigure(
        "FTLE and final loss against η", figure_to_png_base64(fig),
        f"Sweep of {d.lrs.size} learning rates, {d.params['n_inits']} initial conditions × "
        f"{d.params['n_perturb']} perturbations, {d.params['n_steps']} steps; percentages: "
        "fraction of accepted fits.",
    ))

    if getattr(study, "tangent", None) is not None:
        figs.append(_tangent_sweep_figure(study.diagram, study.tangent))

    fig, ax = plt.subplots(figsize=(6.5, 3.4))
    plot_weight_norms({f"η = {r.lr:g}": r.reference for r in regimes}, ax=ax)
    log_scale(ax, "y")
    _layout(fig)
    figs.append(ReportFigure(
        "Weight norms", figure_to_png_base64(fig),
        "L2 norm of all weights of the first initial condition (biases excluded).",
    ))

    fig, axes = plt.subplots(1, len(regimes), figsize=(4.4 * len(regimes), 3.4))
    for ax, r in zip(np.atleast_1d(axes), regimes, strict=True):
        plot_network_snapshot(r.reference, -1, ax=ax,
                              title=f"η = {r.lr:g}, step {int(r.reference.times[-1])}")
    _layout(fig)
    figs.append(ReportFigure(
        "Network snapshots", figure_to_png_base64(fig),
        "The first initial condition's network at the end of training, as a layered graph: "
        "neurons in columns, edge colour = sign (red +, blue −), width ∝ |w|.",
    ))
    return figs


def _tangent_sweep_figure(d: Any, ts: Any) -> ReportFigure:
    """Tangent λ_max and max sharpness·η/2 against η, beside the perturbation FTLE."""
    import matplotlib.pyplot as plt

    from graphtraj.plotting.training import log_scale

    fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(11, 3.6))
    ax0.plot(ts.lrs, ts.max_exponent, ".", color="C0", alpha=0.35, ms=4)
    ax0.plot(ts.lrs, ts.max_exponent_mean, "o-", color="C0", label="tangent map λ_max (mean)")
    ftle, acc = np.asarray(d.ftle, dtype=float), np.asarray(d.accepted, dtype=bool)
    lr_grid = np.broadcast_to(np.asarray(d.lrs, dtype=float)[:, None], ftle.shape)
    ax0.plot(lr_grid[~acc], ftle[~acc], "x", color="C3", alpha=0.5, ms=4,
             label="perturbation FTLE (not accepted)")
    ax0.plot(lr_grid[acc], ftle[acc], "s", color="C3", mfc="none", ms=5,
             label="perturbation FTLE (accepted)")
    ax0.plot(d.lrs, d.ftle_accepted_mean, "s--", color="C3", ms=3, lw=0.8)
    ax0.axhline(0.0, color="grey", lw=0.6)
    log_scale(ax0, "x")
    ax0.set_xlabel("learning rate η")
    ax0.set_ylabel("exponent per step")
    ax0.legend(fontsize=7)
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN (diverged) runs
        ratio = np.nanmax(ts.ratio, axis=2)
    ax1.plot(ts.lrs, ratio, ".", color="C2", alpha=0.35, ms=4)
    ax1.plot(ts.lrs, ts.max_ratio, "o-", color="C2", label="max sharpness·η/2")
    ax1.axhline(1.0, color="k", ls="--", lw=0.8, label="edge of stability (2/η)")
    log_scale(ax1, "x")
    log_scale(ax1, "y")
    ax1.set_xlabel("learning rate η")
    ax1.set_ylabel("sharpness · η / 2")
    ax1.legend(fontsize=7)
    _layout(fig)
    p = ts.params
    steps = ", ".join(str(int(s)) for s in ts.sharpness_steps)
    return ReportFigure(
        "Tangent-map exponent and sharpness against η", figure_to_png_base64(fig),
        f"Left: maximal Lyapunov exponent of the training step over the first "
        f"{p['n_steps']} steps (QR, one tangent vector) for each of {p['n_inits']} initial "
        "conditions (dots) and their mean (line), with the perturbation FTLE of the sweep "
        "(red: squares accepted, crosses not accepted, dashed: accepted mean). Right: "
        f"largest top Hessian eigenvalue at steps {steps}, in units of the threshold 2/η; "
        "above the dashed line gradient descent stretches the top curvature direction.",
    )


def _tangent_sentence(ts: Any) -> str:
    """One sentence on the tangent sweep: where λ_max turns positive and sharpness hits 2/η."""
    pos, edge = ts.positive_from, ts.edge_from
    n = ts.params["n_steps"]
    first = (f"the tangent map's maximal exponent over the first {n} steps turns positive "
             f"(above {ts.params['positive_tol']:g} per step) from η ≈ {pos:g} on"
             if pos is not None else
             f"the tangent map's maximal exponent over the first {n} steps stays below "
             f"{ts.params['positive_tol']:g} per step at every η")
    second = (f"the sharpness reaches 2/η from η ≈ {edge:g} on" if edge is not None
              else "the sharpness stays below 2/η at every η")
    return (f"Across the sweep, {first}; {second} (largest sharpness·η/2: "
            f"{_fmt(np.nanmax(ts.max_ratio)) if np.isfinite(ts.max_ratio).any() else 'n/a'}).")


# ------------------------------------------------------------------- numbers
def _regime_numbers(r: Any) -> dict[str, Any]:
    ens, run, verdict, stretches = (r.extras[k] for k in ("ensemble", "run", "verdict", "stretches"))
    out = {
        "lr": r.lr,
        "verdict": verdict.as_dict(),
        "ensemble": {**ens.summary(), "n_inits": ens.n_inits,
                     "n_perturb": int(ens.params["n_perturb"]), "steps": int(ens.steps[-1]),
                     "ftle": ens.ftle, "r2": ens.r2, "accepted": ens.accepted,
                     "windows": ens.windows},
        "run": {**run.summary(), "steps": int(run.loss_steps[-1]),
                "final_loss": run.final_loss},
        "stretches": None if stretches is None else {
            "periodic_fraction": stretches.periodic_fraction,
            "irregular_fraction": stretches.irregular_fraction,
            "monotone_fraction": stretches.monotone_fraction,
            "periods": {str(k): v for k, v in stretches.periods.items()},
            "n_switches": stretches.n_switches, "intermittent": stretches.intermittent,
            "stretches": [list(s) for s in stretches.stretches],
            "window": stretches.params["window"],
        },
        "reference_steps": int(r.reference.times[-1]),
    }
    return out


def study_summary(study: Any, section_run: SectionRun | None = None) -> dict[str, Any]:
    """Every number of the report, as a JSON-able dict (NaN kept; use ``json_safe``)."""
    import graphtraj

    d = study.diagram
    out: dict[str, Any] = {
        "graphtraj_version": graphtraj.__version__,
        "study": "iris",
        "settings": study.settings.as_dict(),
        "answer": [
            {"lr": v.lr, "converges": v.converges, "stability": v.stability,
             "evidence": v.evidence, **{k: v.numbers.get(k) for k in (
                 "ftle_accepted_mean", "acceptance_fraction", "final_loss_median",
                 "final_accuracy_median", "final_step", "final_from",
                 "max_ratio", "converged_fraction")}}
            for v in study.verdicts
        ],
        "checks": {k: {"reproduced": study.checks[k], **study.check_numbers[k]}
                   for k in study.checks},
        "regimes": {r.name: _regime_numbers(r) for r in study.regimes},
        "orbital": {**study.orbital.summary(), "t0": study.orbital.t0,
                    "steps": int(study.orbital.steps[-1]), "lr": study.orbital.lr,
                    "ftle": study.orbital.ftle, "accepted": study.orbital.accepted},
        "sweep": {
            "lrs": d.lrs, "ftle_accepted_mean": d.ftle_accepted_mean, "ftle_mean": d.ftle_mean,
            "acceptance_fraction": d.acceptance_fraction,
            "final_loss_median": d.final_loss_median, "max_ratio": d.max_ratio,
            **d.params,
            "tangent_sweep": (None if getattr(study, "tangent", None) is None
                              else study.tangent.summary()),
        },
        "timings": dict(study.timings),
    }
    if section_run is not None:
        out["sections"] = {
            key: {name: sec.numbers for name, sec in by_regime.items()}
            for key, by_regime in section_run.sections.items()
        }
        out["section_errors"] = [
            {"key": e.key, "regime": e.regime, "error": e.error} for e in section_run.errors
        ]
        out["section_seconds"] = section_run.seconds
    return out


# ---------------------------------------------------------------------- HTML
def _answer_html(study: Any) -> str:
    rows = []
    ens = {r.name: r.extras["ensemble"] for r in study.regimes}
    for r, v in zip(study.regimes, study.verdicts, strict=True):
        e = ens[r.name]
        tag = f'<span class="tag {_TAG[v.stability]}">{esc(v.stability)}</span>'
        rows.append([
            esc(f"{r.lr:g}"), _yes(v.converges) + f' <span class="muted">'
            f'({v.converged_fraction:.0%} of inits)</span>', tag,
            esc(_per_step(e.ftle_accepted_mean)) + f' <span class="muted">'
            f'(accepted {e.acceptance_fraction:.0%} of {e.n_inits}; mean of all fits '
            f'{esc(_fmt(e.ftle_mean))})</span>',
            esc(_fmt(v.numbers["final_loss_median"])) + f' <span class="muted">(step '
            f'{v.numbers["loss_steps"]})</span>',
            esc(_fmt(e.max_ratio)) + f' <span class="muted">(peak of the mean over '
            f'{int(e.steps[-1])} steps; median peak {esc(_fmt(e.peak_ratio_median))})</span>',
        ])
    head = ["η", "training converges?", "trajectory", "FTLE (accepted fits)",
            "final loss (median)", "divergence ratio d(t)/d(0)"]
    words = []
    for r, v in zip(study.regimes, study.verdicts, strict=True):
        conv = "converges" if v.converges else "does not converge"
        words.append(f"at η = {r.lr:g} training {conv} and the trajectory is "
                     f"{stability_phrase(v.stability)}{transient_note(v.numbers)}")
    lead = "; ".join(words)
    lead = lead[0].upper() + lead[1:] + "."
    evidence = "".join(f"<li><b>η = {v.lr:g}</b>: {esc(v.evidence)}.</li>" for v in study.verdicts)
    return (f"<p><b>{esc(lead)}</b></p>" + table(head, rows, raw=True)
            + f"<details><summary>evidence in words</summary><ul>{evidence}</ul></details>")


def _criteria_html(study: Any) -> str:
    th = study.verdicts[0].numbers["thresholds"]
    return (
        '<p class="muted">How to read it: an exponent is <i>accepted</i> when the fit of '
        "ln d(t) has R² &gt; 0.9 and slope &gt; 0.05 per step (best of windows starting at "
        "0, 5, …, 100 with widths 30, …, 100 steps). The trajectory is <i>sensitive</i> to "
        f"its initial condition when at least {th['min_acceptance']:.0%} of the initial "
        "conditions have an accepted exponent, or when the median over initial conditions "
        f"of the peak divergence ratio reaches {th['max_stable_ratio']:g}. Sensitive and "
        "converging: <i>edge of stability</i>; sensitive and not converging: <i>chaotic</i>; "
        "otherwise <i>stable</i>. Training <i>converges</i> when the final loss is below "
        f"{_fmt(th['max_final_loss'])} (¾ of the chance level ln 3) and, in the last quarter "
        "of the run, never exceeds its final value by more than 10% of its total decrease; "
        "the verdict holds for more than half of the initial conditions.</p>"
    )


def _checks_html(study: Any) -> str:
    from graphtraj.studies.iris import ACCEPTANCE_CHECKS

    rows = []
    for key, text in ACCEPTANCE_CHECKS.items():
        nums = ", ".join(f"{k} = {_fmt(v) if isinstance(v, float) else v}"
                         for k, v in study.check_numbers[key].items())
        rows.append([_yes(study.checks[key]), esc(text), esc(nums)])
    return table(["reproduced", "paper's finding", "here"], rows, raw=True)


def _sweep_html(study: Any) -> str:
    d = study.diagram
    rows = [[esc(f"{lr:g}"), esc(_fmt(fa)), esc(f"{af:.0%}"), esc(_fmt(fm)), esc(_fmt(fl)),
             esc(_fmt(mr))]
            for lr, fa, af, fm, fl, mr in zip(d.lrs, d.ftle_accepted_mean,
                                              d.acceptance_fraction, d.ftle_mean,
                                              d.final_loss_median, d.max_ratio, strict=True)]
    head = ["η", "FTLE (accepted)", "accepted", "FTLE (all fits)",
            f"loss at step {d.params['n_steps']}", "peak d(t)/d(0)"]
    ts = getattr(study, "tangent", None)
    if ts is not None and ts.lrs.shape == d.lrs.shape and np.allclose(ts.lrs, d.lrs):
        for row, lam, mr in zip(rows, ts.max_exponent_mean, ts.max_ratio, strict=True):
            row += [esc(_fmt(lam)), esc(_fmt(mr))]
        head += ["tangent λ_max (mean)", "max sharpness·η/2"]
    out = table(head, rows, raw=True)
    if ts is not None:
        out += f"<p>{esc(_tangent_sentence(ts))}</p>"
    return out


def _sections_html(section_run: SectionRun, regimes: Sequence[Any]) -> str:
    parts = []
    for key in section_run.keys:
        secs = section_run.sections.get(key, {})
        title = next((s.title for s in secs.values()), key.replace("_", " ").capitalize())
        parts.append(f'<h2 id="section-{esc(key)}">{esc(title)}</h2>')
        for r in regimes:
            parts.append(f"<h3>{esc(r.name)}: η = {r.lr:g}</h3>")
            err = section_run.error_for(key, r.name)
            if err is not None:
                parts.append(error_box(f"section {key!r} failed", err.error, err.traceback))
                continue
            sec = secs.get(r.name)
            if sec is None:
                continue
            parts.append(f"<p>{sec.summary_html}</p>")
            parts.extend(figure(f) for f in sec.figures)
    return "\n".join(parts)


def write_study_report(
    study: Any,
    out: Any,
    *,
    sections: Sequence[str] | None = None,
    strict: bool = False,
    progress: bool | None = None,
    t_start: float | None = None,
    log: Any = None,
) -> tuple[Path, Path]:
    """Write ``out/report.html`` and ``out/summary.json`` for an :class:`IrisStudy`.

    Parameters
    ----------
    study : IrisStudy
    out : path
        Output directory (created if needed).
    sections : sequence of str, optional
        Section keys; default :data:`graphtraj.report.sections.SECTION_MODULES`.
    strict : bool, default False
        Raise the first section failure instead of showing it in the report.
    progress : bool, optional
    t_start : float, optional
        ``time.perf_counter()`` at the start of the study, for the total time.
    log : callable, optional
        Called with one short line per stage (sections, figures, writing).

    Returns
    -------
    (Path, Path)
        The report and summary paths.

    Raises
    ------
    SectionFailure
        With ``strict=True``, when a report section fails.

    Examples
    --------
    >>> from graphtraj.studies import iris_study
    >>> study = iris_study(None, mode="quick")  # doctest: +SKIP
    >>> write_study_report(study, "results/iris")  # doctest: +SKIP
    (PosixPath('results/iris/report.html'), PosixPath('results/iris/summary.json'))
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    say = log if callable(log) else (lambda _msg: None)
    say("report sections…")
    t = time.perf_counter()
    sec_run = run_sections(study.regimes, sections, strict=strict, progress=progress)
    study.timings["sections"] = time.perf_counter() - t
    say("figures…")
    t = time.perf_counter()
    figs = study_figures(study)
    study.timings["figures"] = time.perf_counter() - t
    if t_start is not None:
        study.timings["total_before_writing"] = time.perf_counter() - t_start

    s = study.settings
    lr0, t0, follow = s.orbital
    intro = (
        f"<p class=\"muted\">4-10-3 MLP, sigmoid hidden layer, softmax cross-entropy, "
        f"trained by full-batch gradient descent on the Iris training split (120 samples, "
        f"raw features), weights N(0, 1), biases 0, float64. Mode <b>{esc(s.mode)}</b>: "
        f"{s.n_inits} initial conditions × {s.n_perturb} perturbations U(−ε, ε) of the "
        f"weights, ε = {s.eps:g}, seed {s.seed}. Orbital run: η = {lr0:g} perturbed at step "
        f"{t0}, followed {follow} steps.</p>"
    )
    body = [
        "<h1>Is training stable? Iris, the paper's network, three learning rates</h1>",
        intro,
        "<h2 id=\"answer\">Answer</h2>",
        _answer_html(study),
        _criteria_html(study),
        "<h3>The paper's findings</h3>",
        _checks_html(study),
        ('<p class="muted">Quick mode: the runs are much shorter than the paper\'s, so not '
         "every finding can show; run without <code>--quick</code> to check them.</p>"
         if s.mode == "quick" else ""),
        "<h3>Learning-rate sweep</h3>",
        _sweep_html(study),
        "<h2 id=\"figures\">Figures</h2>",
        "\n".join(figure(f) for f in figs),
    ]
    if sec_run.keys:
        body.append(_sections_html(sec_run, study.regimes))
    if sec_run.errors:
        body.insert(2, error_box(
            f"{len(sec_run.errors)} report section failure(s)",
            "; ".join(f"{e.key} ({e.regime}): {e.error}" for e in sec_run.errors)))
    timing = ", ".join(f"{k} {v:.1f} s" for k, v in study.timings.items() if v >= 0.05)
    import graphtraj

    body.append(
        f"<h2>About this report</h2><p class=\"muted\">graphtraj {esc(graphtraj.__version__)}. "
        f"Timings: {esc(timing)}. The runs are in <code>store/</code> (see "
        "<code>graphtraj analyze store</code>); every number shown is in "
        "<code>summary.json</code>. Reference: K. Danovski, M. C. Soriano, L. Lacasa, "
        "Front. Complex Syst. 2, 1367957 (2024), "
        "<a href=\"https://doi.org/10.3389/fcpxs.2024.1367957\">"
        "doi:10.3389/fcpxs.2024.1367957</a>.</p>"
    )
    report = out / "report.html"
    report.write_text(page("graphtraj study iris", "\n".join(body)), encoding="utf-8")
    summary = out / "summary.json"
    write_json(summary, study_summary(study, sec_run))
    return report, summary
