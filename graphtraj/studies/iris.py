"""``graphtraj study iris``: the paper's three learning-rate regimes, end to end.

:func:`iris_study` trains the 4-10-3 sigmoid network on Iris by full-batch gradient
descent at η = 0.01 (stable), η = 1 (edge of stability) and η = 5 (chaotic), with
perturbation ensembles, an orbital-stability run and a coarse η sweep; classifies each
regime; checks the paper's findings; and (with ``out``) writes the HTML report,
``summary.json`` and the store.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from graphtraj._checks import check_int, check_option
from graphtraj._result import Result
from graphtraj.studies.classify import RegimeVerdict, classify_regime
from graphtraj.studies.diagram import RegimeDiagram
from graphtraj.studies.periodicity import LossStretches, loss_stretches
from graphtraj.studies.regime import RegimeRun
from graphtraj.studies.stability import StabilityResult
from graphtraj.studies.stability import torch_threads as threads_ctx
from graphtraj.studies.sweep import run_sweep
from graphtraj.studies.tangent_diagram import tangent_sweep

__all__ = ["StudySettings", "IrisStudy", "study_settings", "iris_study", "ACCEPTANCE_CHECKS"]

#: The paper's findings that the study checks (key → plain-words statement).
ACCEPTANCE_CHECKS: dict[str, str] = {
    "stable_divergence_below_5": "η = 0.01: the mean divergence d(t)/d(0) stays below 5",
    "orbital_flat": "η = 0.01: the orbital run stays flat (ratio below 5, no accepted exponent)",
    "edge_positive_ftle": "η = 1: most initial conditions give accepted positive exponents",
    "edge_loss_below_0.1": "η = 1: the loss still falls below 0.1",
    "chaotic_not_converging": "η = 5: the loss does not converge",
    "chaotic_intermittent": "η = 5: the loss switches between periodic and irregular stretches",
}


@dataclass(frozen=True)
class StudySettings(Result):
    """Sizes of one study mode.

    Attributes
    ----------
    mode : str
        ``"quick"``, ``"default"`` or ``"full"``.
    seed : int
        Seed of initial conditions and perturbations.
    eps : float
        Perturbation size ε.
    n_inits, n_perturb : int
        Initial conditions and perturbed copies per ensemble.
    regimes : tuple of (name, lr, ensemble_steps, run_steps)
        Each regime's perturbation ensemble length (for the exponent and the
        divergence) and run length (loss curves, reference trajectory).
    orbital : (lr, t0, n_follow)
        The orbital-stability run.
    sweep_lrs : tuple of float
        Learning rates of the sweep.
    sweep_steps, sweep_inits, sweep_perturb : int
        Sizes of each sweep run.
    """

    mode: str
    seed: int
    eps: float
    n_inits: int
    n_perturb: int
    regimes: tuple[tuple[str, float, int, int], ...]
    orbital: tuple[float, int, int]
    sweep_lrs: tuple[float, ...]
    sweep_steps: int
    sweep_inits: int
    sweep_perturb: int


def study_settings(mode: str = "default", *, seed: int = 0) -> StudySettings:
    """The sizes of ``graphtraj study iris`` in each mode.

    ``"default"``: the paper's protocol — η = 0.01 for 5000 steps, η = 1 with a
    200-step perturbation ensemble and a 5000-step run, η = 5 with a 1000-step
    ensemble and a 10000-step run; 10 initial conditions × 5 perturbations of
    ε = 1e-8; orbital run perturbed at step 4000 and followed 1000 steps; a sweep of
    10 learning rates from 0.01 to 10 (500 steps, 10 × 3). ``"full"``: 20 × 10 and a
    finer, longer sweep. ``"quick"``: a small version for smoke tests (< 1 minute).

    Examples
    --------
    >>> s = study_settings()
    >>> s.n_inits, s.n_perturb, [r[1] for r in s.regimes]
    (10, 5, [0.01, 1.0, 5.0])
    """
    mode = check_option(mode, "mode", ("quick", "default", "full"))
    seed = check_int(seed, "seed", minimum=0)
    if mode == "quick":
        return StudySettings(
            mode=mode, seed=seed, eps=1e-8, n_inits=4, n_perturb=3,
            regimes=(("stable", 0.01, 600, 600), ("edge", 1.0, 150, 600),
                     ("chaotic", 5.0, 200, 1500)),
            orbital=(0.01, 400, 150),
            sweep_lrs=(0.01, 0.1, 0.3, 1.0, 2.0, 3.0, 5.0, 10.0),
            sweep_steps=150, sweep_inits=3, sweep_perturb=2,
        )
    if mode == "full":
        return StudySettings(
            mode=mode, seed=seed, eps=1e-8, n_inits=20, n_perturb=10,
            regimes=(("stable", 0.01, 5000, 5000), ("edge", 1.0, 200, 5000),
                     ("chaotic", 5.0, 2000, 10000)),
            orbital=(0.01, 4000, 1000),
            sweep_lrs=tuple(float(x) for x in np.round(np.logspace(-2, 1, 16), 4)),
            sweep_steps=1000, sweep_inits=10, sweep_perturb=5,
        )
    return StudySettings(
        mode=mode, seed=seed, eps=1e-8, n_inits=10, n_perturb=5,
        regimes=(("stable", 0.01, 5000, 5000), ("edge", 1.0, 200, 5000),
                 ("chaotic", 5.0, 1000, 10000)),
        orbital=(0.01, 4000, 1000),
        sweep_lrs=(0.01, 0.03, 0.1, 0.3, 1.0, 2.0, 3.0, 5.0, 7.0, 10.0),
        sweep_steps=500, sweep_inits=10, sweep_perturb=3,
    )


@dataclass(frozen=True, eq=False)
class IrisStudy(Result):
    """Everything ``graphtraj study iris`` computed.

    Attributes
    ----------
    settings : StudySettings
    regimes : tuple of RegimeRun
        One per regime; ``extras`` holds ``"ensemble"`` (the perturbation ensemble's
        :class:`StabilityResult`), ``"run"`` (the long run's), ``"verdict"``
        (:class:`RegimeVerdict`), ``"stretches"`` (:class:`LossStretches` of the
        reference loss) and, for the stable regime, ``"orbital"``.
    verdicts : tuple of RegimeVerdict
    orbital : StabilityResult
    diagram : RegimeDiagram
    checks : dict of str to bool
        The paper's findings (:data:`ACCEPTANCE_CHECKS`), each True when reproduced.
    check_numbers : dict
        The number behind each check.
    timings : dict of str to float
        Wall seconds per phase.
    tangent : TangentSweep or None
        Tangent-map maximal exponent and sharpness against 2/η at the sweep's
        learning rates, from the sweep's initial conditions
        (:func:`~graphtraj.studies.tangent_sweep`).
    """

    settings: StudySettings
    regimes: tuple[RegimeRun, ...] = field(repr=False)
    verdicts: tuple[RegimeVerdict, ...]
    orbital: StabilityResult = field(repr=False)
    diagram: RegimeDiagram = field(repr=False)
    checks: dict[str, bool]
    check_numbers: dict[str, Any]
    timings: dict[str, float] = field(default_factory=dict)
    tangent: Any = field(default=None, repr=False)

    def as_dict(self) -> dict[str, Any]:
        """Settings, verdicts, orbital and sweep results, checks, timings (no runs)."""
        return {
            "settings": self.settings.as_dict(),
            "verdicts": [v.as_dict() for v in self.verdicts],
            "orbital": self.orbital.summary(),
            "diagram": self.diagram.as_dict(),
            "checks": dict(self.checks),
            "check_numbers": dict(self.check_numbers),
            "timings": dict(self.timings),
            "tangent": None if self.tangent is None else self.tangent.summary(),
        }

    def regime(self, name: str) -> RegimeRun:
        """The :class:`RegimeRun` called ``name`` ("stable", "edge", "chaotic")."""
        for r in self.regimes:
            if r.name == name:
                return r
        raise KeyError(f"no regime {name!r}; regimes: {[r.name for r in self.regimes]}")


def _configs(s: StudySettings) -> list[dict[str, Any]]:
    base = {"eps": s.eps, "seed": s.seed}
    out: list[dict[str, Any]] = []
    for name, lr, ens_steps, run_steps in s.regimes:
        out.append({"name": f"{name}-ensemble", "lr": lr, "n_steps": ens_steps,
                    "n_inits": s.n_inits, "n_perturb": s.n_perturb, **base})
        if run_steps != ens_steps:
            out.append({"name": f"{name}-run", "lr": lr, "n_steps": run_steps,
                        "n_inits": s.n_inits, "n_perturb": 1, **base})
        out.append({"name": f"{name}-pair", "lr": lr, "n_steps": run_steps, "n_inits": 1,
                    "n_perturb": 1, "record_every": 1, **base})
    lr, t0, follow = s.orbital
    out.append({"name": "orbital", "kind": "orbital", "lr": lr, "t0": t0,
                "n_steps": t0 + follow, "n_inits": s.n_inits, "n_perturb": s.n_perturb,
                **base})
    for lr in s.sweep_lrs:
        out.append({"name": f"sweep-lr{lr:g}", "lr": lr, "n_steps": s.sweep_steps,
                    "n_inits": s.sweep_inits, "n_perturb": s.sweep_perturb, **base})
    return out


def _with_lr(traj: Any, lr: float) -> Any:
    return dataclasses.replace(traj.load(), lr=np.full(len(traj), float(lr)))


def _stretches(loss: np.ndarray) -> LossStretches | None:
    finite = np.isfinite(loss)
    n = loss.size if finite.all() else int(np.argmin(finite))
    return loss_stretches(loss[:n]) if n >= 60 else None


def _checks(
    regimes: dict[str, RegimeRun], orbital: StabilityResult
) -> tuple[dict[str, bool], dict[str, Any]]:
    stable, edge, chaotic = regimes["stable"], regimes["edge"], regimes["chaotic"]
    st_ens = stable.extras["ensemble"]
    ed_ens, ed_run = edge.extras["ensemble"], edge.extras["run"]
    ch_verdict: RegimeVerdict = chaotic.extras["verdict"]
    ch_str: LossStretches | None = chaotic.extras["stretches"]
    edge_loss = float(np.nanmedian(ed_run.final_loss))
    numbers = {
        "stable_divergence_below_5": {"max_ratio": st_ens.max_ratio,
                                      "steps": int(st_ens.steps[-1])},
        "orbital_flat": {"max_ratio": orbital.max_ratio,
                         "acceptance_fraction": orbital.acceptance_fraction,
                         "t0": orbital.t0, "steps": int(orbital.steps[-1] - orbital.t0)},
        "edge_positive_ftle": {"acceptance_fraction": ed_ens.acceptance_fraction,
                               "ftle_accepted_mean": ed_ens.ftle_accepted_mean},
        "edge_loss_below_0.1": {"final_loss_median": edge_loss,
                                "steps": int(ed_run.loss_steps[-1])},
        "chaotic_not_converging": {"converged_fraction": ch_verdict.converged_fraction},
        "chaotic_intermittent": {
            "periodic_fraction": None if ch_str is None else ch_str.periodic_fraction,
            "irregular_fraction": None if ch_str is None else ch_str.irregular_fraction,
            "n_switches": None if ch_str is None else ch_str.n_switches,
            "frozen_runs": ch_verdict.numbers.get("frozen_runs", 0),
            "frozen_levels": [float(f"{v:.3g}") for v in ch_verdict.numbers.get("frozen_levels", [])],
            "frozen_from": ch_verdict.numbers.get("frozen_from", []),
        },
    }
    checks = {
        "stable_divergence_below_5": bool(st_ens.max_ratio < 5.0),
        "orbital_flat": bool(orbital.max_ratio < 5.0 and orbital.acceptance_fraction < 0.5),
        "edge_positive_ftle": bool(ed_ens.acceptance_fraction > 0.5
                                   and ed_ens.ftle_accepted_mean > 0),
        "edge_loss_below_0.1": bool(edge_loss < 0.1),
        "chaotic_not_converging": bool(not ch_verdict.converges),
        "chaotic_intermittent": bool(ch_str is not None and ch_str.intermittent),
    }
    return checks, numbers


def iris_study(
    out: Any = None,
    *,
    mode: str = "default",
    seed: int = 0,
    jobs: int = 1,
    executor: Any = None,
    store: Any = None,
    progress: bool | None = None,
    sections: Sequence[str] | None = None,
    strict: bool = False,
    torch_threads: int | None = 1,
    log: Any = None,
) -> IrisStudy:
    """Run the paper's study on Iris and (with ``out``) write its report.

    Parameters
    ----------
    out : path, optional
        Output directory: ``report.html``, ``summary.json`` and ``store/`` are
        written there. Without it nothing is written (unless ``store`` is given).
    mode : {"default", "quick", "full"}, default "default"
        Sizes, see :func:`study_settings`.
    seed : int, default 0
    jobs : int, default 1
        Parallel training workers (see :func:`~graphtraj.studies.run_sweep`).
    executor : None, "process", "dask", Executor or Client
        See :func:`~graphtraj.studies.run_sweep`.
    store : path or Store, optional
        Store for the runs; default ``out/store``. Runs already there with the same
        configuration are reused (an interrupted study resumes); runs with another
        configuration are replaced.
    progress : bool, optional
        Progress bars (default: when interactive).
    sections : sequence of str, optional
        Report sections to run; default
        :data:`graphtraj.report.sections.SECTION_MODULES`.
    strict : bool, default False
        Re-raise the first error of a report section instead of showing it.
    torch_threads : int or None, default 1
        torch intra-op threads while training (restored afterwards). One thread is
        fastest for these small batched operations, especially on a shared machine;
        None leaves torch's setting alone.
    log : callable, optional
        Called with one short line per stage (each training run, the analysis, the
        report sections, the figures): progress where no bar can be shown.

    Returns
    -------
    IrisStudy

    Raises
    ------
    ValidationError, UnknownOptionError
        For invalid arguments.
    StoreError
        If the store cannot be opened or written.

    Notes
    -----
    Runs, all with ε = 1e-8 perturbations of the weights, L1 distance, arithmetic
    mean, the paper's fit windows: per regime a perturbation ensemble
    (``n_inits × n_perturb``), a long run (``n_inits`` references with one copy each,
    for the loss curves) and a pair run (the first reference and one copy with full
    states, the ``RegimeRun`` trajectories); the orbital run; the η sweep. Each regime
    is classified by :func:`~graphtraj.studies.classify.classify_regime` and the
    findings of Danovski et al. (2024) are checked (:data:`ACCEPTANCE_CHECKS`).
    At the sweep's learning rates, :func:`~graphtraj.studies.tangent_sweep` adds the
    tangent-map maximal exponent over the first min(100, sweep steps) steps and the
    sharpness against 2/η, from the same initial conditions.

    References
    ----------
    .. [1] K. Danovski, M. C. Soriano, L. Lacasa, Front. Complex Syst. 2, 1367957
       (2024). https://doi.org/10.3389/fcpxs.2024.1367957

    Examples
    --------
    >>> study = iris_study("results/iris", mode="quick")  # doctest: +SKIP
    >>> [v.stability for v in study.verdicts]  # doctest: +SKIP
    ['stable', 'edge of stability', 'chaotic']
    """
    import os
    from pathlib import Path

    settings = study_settings(mode, seed=seed)
    jobs = check_int(jobs, "jobs", minimum=1)
    timings: dict[str, float] = {}
    t_start = time.perf_counter()
    if out is not None:
        out = Path(os.fspath(out))
        out.mkdir(parents=True, exist_ok=True)
        if store is None:
            store = out / "store"

    with threads_ctx(torch_threads):
        t = time.perf_counter()
        sweep = run_sweep(_configs(settings), store=store, jobs=jobs, executor=executor,
                          progress=progress, replace_stale=True, log=log)
        timings["training"] = time.perf_counter() - t

    if callable(log):
        log("classifying the regimes and checking the paper's findings…")
    t = time.perf_counter()
    orbital = sweep["orbital"]
    regimes: dict[str, RegimeRun] = {}
    for name, lr, ens_steps, run_steps in settings.regimes:
        ens_res = sweep[f"{name}-ensemble"]
        run_res = sweep[f"{name}-run"] if run_steps != ens_steps else ens_res
        pair = sweep[f"{name}-pair"].ensemble
        ref = _with_lr(pair.replica(0), lr)
        pert = _with_lr(pair.replica(1), lr)
        stretches = _stretches(np.asarray(run_res.loss[0]))
        verdict = classify_regime(
            ens_res, loss=run_res.loss, accuracy=run_res.accuracy,
            orbital=orbital if name == "stable" else None,
        )
        extras: dict[str, Any] = {
            "ensemble": ens_res, "run": run_res, "verdict": verdict, "stretches": stretches,
        }
        if name == "stable":
            extras["orbital"] = orbital
        regimes[name] = RegimeRun(
            name=name, lr=lr, reference=ref, perturbed=pert,
            ensemble=ens_res.ensemble, quick=settings.mode == "quick", extras=extras,
        )
    sweep_names = [f"sweep-lr{lr:g}" for lr in settings.sweep_lrs]
    diagram = RegimeDiagram.from_results(
        [sweep[n] for n in sweep_names], sweep_names,
        {"n_steps": settings.sweep_steps, "n_inits": settings.sweep_inits,
         "n_perturb": settings.sweep_perturb, "eps": settings.eps, "seed": settings.seed},
    )
    checks, check_numbers = _checks(regimes, orbital)
    timings["analysis"] = time.perf_counter() - t
    if callable(log):
        log("tangent map across the η sweep…")
    t = time.perf_counter()
    tangent = tangent_sweep(
        settings.sweep_lrs, n_steps=min(100, settings.sweep_steps),
        n_inits=settings.sweep_inits, seed=settings.seed, quick=settings.mode == "quick",
        threads=torch_threads, progress=progress,
    )
    timings["tangent_sweep"] = time.perf_counter() - t
    study = IrisStudy(
        settings=settings,
        regimes=tuple(regimes[n] for n, *_ in settings.regimes),
        verdicts=tuple(regimes[n].extras["verdict"] for n, *_ in settings.regimes),
        orbital=orbital, diagram=diagram, checks=checks, check_numbers=check_numbers,
        timings=timings, tangent=tangent,
    )
    if out is not None:
        from graphtraj.report.study import write_study_report

        write_study_report(study, out, sections=sections, strict=strict, progress=progress,
                           t_start=t_start, log=log)
    return study
