"""Report section ``tangent``: Lyapunov exponents of the training map and sharpness.

The regime's reference run is replayed from its metadata (model spec and data
reference): its training map is linearized along the recorded states, giving the full
Lyapunov spectrum of the step (83 exponents for the paper's network) directly, without
choosing a perturbation size, and the top Hessian eigenvalue is tracked against the
gradient-descent stability threshold 2/η (Cohen et al. 2021). The maximal exponent is
set beside the finite-time exponent that the perturbation experiments fitted.
:func:`analyze` returns the same numbers for ``graphtraj analyze STORE --tangent``.
"""

from __future__ import annotations

import html
import math
from typing import Any

import numpy as np

__all__ = ["build", "analyze"]

KEY = "tangent"
TITLE = "Tangent map: Lyapunov spectrum and sharpness"
#: Steps replayed per regime (default and quick mode) and sharpness spacing.
N_STEPS, QUICK_STEPS = 300, 40
EVERY = 5
#: Largest state dimension for which the full spectrum is computed.
FULL_SPECTRUM_MAX = 200
#: |exponent| below this counts as zero (neutral directions).
ZERO_TOL = 1e-3


def _fmt(x: Any, digits: int = 3) -> str:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return "n/a"
    return "n/a" if not math.isfinite(v) else f"{v:.{digits}g}"


#: Largest stored weight magnitude for which the report uses the MLP fast path.
FAST_MAX_WEIGHT = 1e100


def _finite(x: Any) -> float | None:
    v = float(x)
    return v if math.isfinite(v) else None


def _map(traj: Any) -> Any:
    from graphtraj.dynamics import training_map_from_run
    from graphtraj.exceptions import UnsupportedModelError

    states = np.asarray(traj.states) if getattr(traj, "states", None) is not None else None
    if states is not None and states.size:
        finite = np.abs(states[np.isfinite(states)])
        if finite.size and float(finite.max()) > FAST_MAX_WEIGHT:
            # the fast path forms products of two weights (overflow beyond ~1e154);
            # the general path differentiates the loss as computed and stays finite
            return training_map_from_run(traj, fast=False)
    try:
        return training_map_from_run(traj, fast=True)
    except UnsupportedModelError:  # outside the fast path's family: general path
        return training_map_from_run(traj, fast=False)


def _measure(traj: Any, *, n_steps: int, every: int, k: Any = None, seed: int = 0) -> dict[str, Any]:
    """Spectrum and sharpness track of a replayable run over its first ``n_steps`` steps."""
    from graphtraj.dynamics import lyapunov_spectrum, sharpness_track
    from graphtraj.dynamics.replay import resolve_run

    times = np.asarray(traj.times)
    span = int(times[-1] - times[0])
    if span < 1:
        from graphtraj.exceptions import ValidationError

        raise ValidationError("the run must span at least one step to be replayed; got one record")
    tm = _map(traj)
    _, x0, along, t0, n = resolve_run(traj, min(n_steps, span), system=tm)
    if k is None:
        k = "all" if tm.dim <= FULL_SPECTRUM_MAX else min(10, tm.dim)
    window = max(1, n // 6)
    kwargs = {"along": along} if along is not None else {"x0": x0}
    spec = lyapunov_spectrum(tm, n_steps=n, k=k, t0=t0, window=window, rng=seed, **kwargs)
    if along is not None:
        track = sharpness_track(tm, along=along[: n + 1], every=every, t0=t0, rng=seed)
    else:
        track = sharpness_track(tm, x0, n, every=every, t0=t0, rng=seed)
    return {"map": tm, "spectrum": spec, "track": track, "n_steps": n, "t0": t0}


def _top_column(spec: Any) -> int:
    """QR column of the largest final exponent (NaN ranks lowest)."""
    ex = np.asarray(spec.exponents[0], dtype=float)
    return int(np.argmax(np.where(np.isnan(ex), -np.inf, ex)))


def _numbers(m: dict[str, Any], lr: float) -> dict[str, Any]:
    spec, track = m["spectrum"], m["track"]
    ex = spec.exponents[0]
    top = _top_column(spec)
    edge = track.edge
    early_stop = spec.params["t0"] + min(100, m["n_steps"])
    early = spec.finite_time_exponents(spec.params["t0"], early_stop)[0, top]
    out: dict[str, Any] = {
        "lr": float(lr),
        "n_steps": int(m["n_steps"]),
        "dim": int(m["map"].dim),
        "max_exponent": _finite(ex[top]),
        "max_exponent_early": _finite(early),
        "max_exponent_stderr": _finite(spec.stderr[0, top]),
        "spectrum": [float(v) for v in np.sort(ex)[::-1]],
        "n_exponents": int(ex.size),
        "zero_tol": ZERO_TOL,
        "n_positive": int(np.sum(ex > ZERO_TOL)),
        "n_near_zero": int(np.sum(np.abs(ex) <= ZERO_TOL)),
        "exponent_sum": _finite(ex.sum()) if ex.size == m["map"].dim else None,
        "replay_error": None if spec.replay_error is None else float(spec.replay_error[0]),
        "threshold": track.threshold,
        "sharpness_initial": float(track.sharpness[0]),
        "sharpness_max": float(track.sharpness.max()),
        "sharpness_final": float(track.sharpness[-1]),
        "sharpness_converged": bool(track.converged.all()),
    }
    if edge is not None:
        out.update(
            first_reach=int(edge.first_reach), n_crossings=int(edge.n_crossings),
            fraction_above=float(edge.fraction_above), time_above=int(edge.time_above),
            late_ratio=float(edge.late_ratio), max_ratio=float(edge.max_ratio),
        )
    return out


def _perturbation_ftle(regime: Any) -> dict[str, Any] | None:
    """The perturbation FTLE of the regime's first initial condition, if available."""
    stab = regime.extras.get("ensemble") if isinstance(regime.extras, dict) else None
    if stab is not None and hasattr(stab, "ftle") and hasattr(stab, "windows"):
        ftle = np.asarray(stab.ftle, dtype=float)
        if ftle.size:
            acc = np.asarray(stab.accepted, dtype=bool)
            ok = acc & np.isfinite(ftle)
            params = getattr(stab, "params", {}) or {}
            return {
                "value": float(ftle[0]), "window": [int(w) for w in np.asarray(stab.windows)[0]],
                "accepted": bool(acc[0]), "source": "study ensemble",
                "accepted_mean": float(ftle[ok].mean()) if ok.any() else float("nan"),
                "eps": params.get("eps"), "metric": params.get("metric"),
            }
    ens = getattr(regime, "ensemble", None)
    try:
        from graphtraj.timeseries import ftle_from_divergence

        ref = int(ens.reference_indices()[0])
        copies = ens.perturbed_of(ref)
        d = ens.observables["dist_l1"][copies]
        res = ftle_from_divergence(d, times=ens.steps, zeros="mask")
    except Exception:  # no ensemble, no copies or no fit: the section still shows the rest
        return None
    pert = dict(getattr(ens, "metadata", {}).get("perturbation") or {})
    return {"value": float(res.slope), "window": [int(res.window[0]), int(res.window[1])],
            "accepted": bool(res.accepted), "source": "reference ensemble",
            "accepted_mean": float(res.slope) if res.accepted else float("nan"),
            "eps": pert.get("eps"), "metric": "l1"}


def _summary(regime: Any, nums: dict[str, Any], pert: dict[str, Any] | None) -> str:
    lam = nums["max_exponent_early"]
    n_early = min(100, nums["n_steps"])
    if lam is not None and lam > 0.05:
        verdict = f"the training map stretches perturbations exponentially: λ_max = {_fmt(lam)} per step"
    elif lam is not None and lam > ZERO_TOL:
        verdict = f"the training map is weakly unstable: λ_max = {_fmt(lam)} per step"
    else:
        verdict = (f"the training map does not stretch perturbations: λ_max = {_fmt(lam)} per step "
                   "(marginal stability)")
    parts = [f"At η = {_fmt(regime.lr)}, {verdict} over the first {n_early} steps "
             f"({nums['n_positive']} of {nums['n_exponents']} exponents above {ZERO_TOL:g}, "
             f"{nums['n_near_zero']} within ±{ZERO_TOL:g} of zero"]
    if nums.get("exponent_sum") is not None:
        parts[0] += f", sum {_fmt(nums['exponent_sum'])}"
    parts[0] += ")."
    if pert is not None:
        a, b = pert["window"]
        tag = "accepted" if pert["accepted"] else "not accepted"
        how = ", ".join(x for x in (
            f"ε = {_fmt(pert['eps'])}" if pert.get("eps") is not None else "",
            f"{pert['metric']} distance" if pert.get("metric") else "") if x)
        line = (f"The perturbation experiment{f' ({how})' if how else ''} fitted "
                f"{_fmt(pert['value'])} per step over steps {a}–{b} ({tag})")
        if nums.get("tangent_on_perturbation_window") is not None:
            line += f"; the tangent map gives {_fmt(nums['tangent_on_perturbation_window'])} over that window"
        parts.append(line + ".")
    thr = nums.get("threshold")
    if thr is not None and "n_crossings" in nums:
        if nums["first_reach"] < 0:
            parts.append(f"Sharpness stays below 2/η = {_fmt(thr)} (max {_fmt(nums['sharpness_max'])}): "
                         "far from the edge of stability.")
        else:
            n_cross = nums["n_crossings"]
            start = (f"Sharpness starts above 2/η = {_fmt(thr)} ({_fmt(nums['sharpness_initial'])})"
                     if nums["first_reach"] == 0 else
                     f"Sharpness {_fmt(nums['sharpness_initial'])} at the start reaches 2/η = "
                     f"{_fmt(thr)} at step {nums['first_reach']}")
            parts.append(
                f"{start}, crosses it {n_cross} time{'s' if n_cross != 1 else ''} and averages "
                f"{_fmt(nums['late_ratio'])}×2/η over the second half"
                + (": edge of stability." if 0.7 < nums["late_ratio"] < 1.5 else "."))
    return html.escape(" ".join(parts))


def build(regime: Any) -> Any:
    """The ``tangent`` section of one regime (see the module docstring).

    Replays at most 300 steps of the reference run (40 in quick mode) with one torch
    thread (tiny tensors; restored afterwards).
    """
    from graphtraj.studies.stability import torch_threads

    with torch_threads(1):
        return _build(regime)


def _build(regime: Any) -> Any:
    import matplotlib.pyplot as plt

    from graphtraj.plotting.dynamics import (
        plot_lyapunov_spectrum,
        plot_running_exponents,
        plot_sharpness,
    )
    from graphtraj.report.section import ReportFigure, Section, figure_to_png_base64

    n = QUICK_STEPS if regime.quick else N_STEPS
    m = _measure(regime.reference, n_steps=n, every=EVERY)
    nums = _numbers(m, regime.lr)
    pert = _perturbation_ftle(regime)
    spec = m["spectrum"]
    if pert is not None:
        nums["perturbation_ftle"] = _finite(pert["value"])
        nums["perturbation_window"] = pert["window"]
        nums["perturbation_accepted"] = pert["accepted"]
        nums["perturbation_ftle_accepted_mean"] = _finite(pert["accepted_mean"])
        a, b = pert["window"]
        try:
            nums["tangent_on_perturbation_window"] = _finite(
                spec.finite_time_exponents(a, b)[0, _top_column(spec)])
        except Exception:  # the fitted window lies beyond the replayed steps
            nums["tangent_on_perturbation_window"] = None
    fig, axes = plt.subplots(1, 3, figsize=(14, 3.6))
    plot_lyapunov_spectrum(spec, ax=axes[0], reference=None if pert is None else pert["value"])
    axes[0].set_title("Lyapunov spectrum of the step")
    ref = None if pert is None else (pert["value"], *pert["window"])
    plot_running_exponents(spec, ax=axes[1], n_exponents=2, reference=ref)
    axes[1].set_title("running and windowed exponents")
    plot_sharpness(m["track"], ax=axes[2])
    axes[2].set_title("sharpness against 2/η")
    fig.tight_layout()
    figure = ReportFigure(
        f"Tangent map at η = {_fmt(regime.lr)}",
        figure_to_png_base64(fig, dpi=72 if regime.quick else 90),
        f"Left: all {spec.k} exponents of the training step over {nums['n_steps']} steps "
        "(QR every step; dashed: perturbation FTLE). Middle: running estimates and "
        f"finite-time exponents over windows of {spec.window} steps (red: the perturbation "
        f"fit and its window). Right: top Hessian eigenvalue (Lanczos) every {EVERY} steps "
        "against the stability threshold; ticks mark crossings; grey: loss.")
    return Section(key=KEY, title=TITLE, summary_html=_summary(regime, nums, pert),
                   figures=(figure,), numbers=nums)


def analyze(traj: Any, **options: Any) -> dict[str, Any]:
    """Tangent-map exponents and sharpness of a stored, replayable run.

    Parameters
    ----------
    traj : Trajectory
        A run recorded with a built-in model spec and a data reference.
    **options
        ``n_steps`` (default 300), ``every`` (sharpness spacing, default 5), ``k``
        (number of exponents; default all for states of dimension <= 200, else 10),
        ``seed`` (default 0).

    Returns
    -------
    dict
        JSON-able numbers (per step; NaN as None):

        - ``max_exponent``: the largest final exponent, ``spectrum[0]``;
          ``max_exponent_early`` and ``max_exponent_stderr``: the finite-time exponent
          over the first 100 steps and the standard error of that same QR direction.
          Over a finite run the largest exponent need not belong to the first QR
          direction (near-zero exponents of later directions can exceed λ1's estimate
          by about their standard error); all three numbers follow the largest one.
        - ``spectrum``: the exponents sorted in decreasing order; ``n_exponents``.
        - ``zero_tol`` (``1e-3``): ``n_positive`` counts exponents ``> zero_tol``,
          ``n_near_zero`` those with ``|λ| <= zero_tol``.
        - ``exponent_sum`` (None unless all exponents were computed),
          ``replay_error``.
        - sharpness: ``threshold`` (2/η), ``sharpness_initial``, ``sharpness_max``,
          ``sharpness_final``, ``sharpness_converged``.
        - edge of stability (when the threshold is defined): ``first_reach``, the first
          step at which sharpness reaches 2/η, or ``-1`` if it never does (printed as
          ``never`` by ``graphtraj analyze``); ``n_crossings``, ``fraction_above``,
          ``time_above``, ``late_ratio`` and ``max_ratio`` (sharpness / (2/η) averaged
          over the second half, and its maximum).

    Raises
    ------
    NotReplayableError
        If the run cannot be replayed (no model spec or data reference, a user module,
        a mini-batch run without its batches, momentum without step 0).
    ValidationError
        For unknown options.
    """
    from graphtraj.exceptions import ValidationError
    from graphtraj.studies.stability import torch_threads

    unknown = sorted(set(options) - {"n_steps", "every", "k", "seed"})
    if unknown:
        raise ValidationError(
            f"options of the tangent analysis must be among n_steps, every, k, seed; got "
            f"unknown {', '.join(map(repr, unknown))}"
        )
    with torch_threads(1):
        m = _measure(traj, n_steps=int(options.get("n_steps", N_STEPS)),
                     every=int(options.get("every", EVERY)), k=options.get("k"),
                     seed=int(options.get("seed", 0)))
    lr = float(m["map"].rule.lr)
    return _numbers(m, lr)
