"""Plain-words verdicts on a stability experiment: does training converge, is it chaotic?

:func:`classify_regime` turns a :class:`~graphtraj.studies.StabilityResult` into the
answer the study report leads with — converges or not; stable, at the edge of
stability or chaotic — together with the evidence, under documented thresholds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from graphtraj._checks import check_real
from graphtraj._result import Result
from graphtraj.studies.periodicity import LossStretches, loss_stretches
from graphtraj.studies.stability import StabilityResult

__all__ = ["RegimeVerdict", "classify_regime", "loss_converges", "STABILITY_LABELS"]

#: The stability labels, from calm to wild.
STABILITY_LABELS = ("stable", "edge of stability", "chaotic")


@dataclass(frozen=True)
class RegimeVerdict(Result):
    """The answer for one learning rate, with its evidence.

    Attributes
    ----------
    lr : float
        Learning rate η.
    converges : bool
        Whether training converges (see :func:`loss_converges`), for most initial
        conditions.
    converged_fraction : float
        Fraction of initial conditions whose loss converges.
    stability : str
        One of :data:`STABILITY_LABELS`.
    evidence : str
        One sentence with the numbers behind the verdict.
    numbers : dict
        FTLE (mean over accepted fits), acceptance fraction, final loss (median),
        peak divergence ratio, loss-stretch fractions, thresholds used.
    """

    lr: float
    converges: bool
    converged_fraction: float
    stability: str
    evidence: str
    numbers: dict[str, Any] = field(default_factory=dict)


def loss_converges(
    loss: Any, *, max_final: float, late_fraction: float = 0.25, max_rise: float = 0.1
) -> bool:
    """Whether a loss curve converges: low at the end and no longer rising.

    True when the curve is finite, its last value is below ``max_final``, and in its
    last ``late_fraction`` of steps it never exceeds its final value by more than
    ``max_rise`` times the total decrease ``loss[0] - loss[-1]``. A loss stuck on a
    high fixed point (e.g. ln 3 for three classes) fails the first test; a loss
    still jumping between values fails the second.

    Examples
    --------
    >>> import numpy as np
    >>> loss_converges(np.exp(-np.arange(100) / 20), max_final=0.1)
    True
    >>> loss_converges(np.r_[np.exp(-np.arange(90) / 20), [0.5, 0.01] * 5], max_final=0.1)
    False
    """
    x = np.asarray(loss, dtype=np.float64)
    if x.size < 2 or not np.all(np.isfinite(x)):
        return False
    final = x[-1]
    if not final < max_final:
        return False
    drop = x[0] - final
    if drop <= 0:
        return False
    late = x[int(np.floor((1.0 - late_fraction) * x.size)) :]
    return bool(np.max(late) - final <= max_rise * drop)


#: Largest step-to-step loss change of a run counted as frozen on a plateau.
FROZEN_TOL = 1e-6


def plateau_levels_text(levels: list[float]) -> str:
    """Distinct plateau levels (3 significant digits), ln 3 and ln 2 named.

    Examples
    --------
    >>> plateau_levels_text([4.9301, 1.0986123, 4.9302])
    '1.1 (ln 3), 4.93'
    """
    out = []
    for v in sorted({float(f"{v:.3g}") for v in levels}):
        name = next((n for n, c in (("ln 3", np.log(3)), ("ln 2", np.log(2)))
                     if abs(v - c) < 5e-3), None)
        out.append(f"{v:.3g}" + (f" ({name})" if name else ""))
    return ", ".join(out)


def _frozen(curves: np.ndarray) -> tuple[list[float], list[int]]:
    """Plateau level and first frozen step of each curve that *ends* frozen.

    A curve ends frozen when its loss changes by less than ``FROZEN_TOL`` per step over
    its last ``max(100, S // 10)`` steps (S = curve length); the frozen stretch is
    followed back to where that first fails.
    """
    levels: list[float] = []
    starts: list[int] = []
    for lc in curves:
        if lc.size < 2 or not np.isfinite(lc[-1]):
            continue
        moving = ~(np.abs(np.diff(lc)) < FROZEN_TOL)  # NaN counts as moving
        last = np.flatnonzero(moving)
        start = int(last[-1]) + 1 if last.size else 0
        if lc.size - 1 - start >= max(100, lc.size // 10):
            levels.append(float(lc[-1]))
            starts.append(start)
    return levels, starts


def classify_regime(
    result: StabilityResult,
    *,
    loss: Any = None,
    accuracy: Any = None,
    orbital: StabilityResult | None = None,
    min_acceptance: float = 0.5,
    max_stable_ratio: float = 5.0,
    max_final_loss: float | None = None,
    stretch_window: int = 60,
) -> RegimeVerdict:
    """Verdict on one learning rate from its dynamical-stability experiment.

    Parameters
    ----------
    result : StabilityResult
        A :func:`~graphtraj.studies.dynamical_stability` result.
    loss : array_like, shape (n_inits, S), optional
        Loss curves to judge convergence and loss stretches on, e.g. from a longer
        run of the same initial conditions; default ``result.loss``.
    accuracy : array_like, shape (n_inits, S), optional
        Accuracy curves of the same run as ``loss``. ``final_loss_median`` and
        ``final_accuracy_median`` in the numbers always come from one run (named by
        ``final_from`` and ``final_step``): the run of ``loss``, whose accuracy is NaN
        when ``loss`` is given without ``accuracy``; otherwise ``result``.
    orbital : StabilityResult, optional
        An :func:`~graphtraj.studies.orbital_stability` result at the same η; its
        peak ratio and acceptance are added to the evidence.
    min_acceptance : float, default 0.5
        The trajectory counts as exponentially divergent when at least this fraction
        of initial conditions has an accepted exponent.
    max_stable_ratio : float, default 5.0
        Without exponential divergence, nearby trajectories still count as
        separating when the median over initial conditions of the peak divergence
        ratio max_t d(t)/d(0) reaches this value (the paper's low-η regime stays
        below 5).
    max_final_loss : float, optional
        Loss below which training can count as converged; default three quarters of
        the chance level, 0.75 ln(n_classes) (0.824 for Iris).
    stretch_window : int, default 60
        Window of :func:`~graphtraj.studies.periodicity.loss_stretches` on the
        first reference's loss.

    Returns
    -------
    RegimeVerdict

    Notes
    -----
    The trajectory is *sensitive* to its initial condition when at least
    ``min_acceptance`` of the initial conditions have an accepted exponent
    (exponential divergence), or when the median peak divergence ratio reaches
    ``max_stable_ratio`` (divergence that is fast but not a clean exponential in the
    fit windows, as at η = 5). Then: sensitive and converging → "edge of
    stability"; sensitive and not converging → "chaotic"; not sensitive →
    "stable". These are the three regimes of Danovski et al. (2024). The loss
    stretches (periodic / irregular, :func:`loss_stretches`) are reported as
    evidence of intermittency but do not change the label.

    References
    ----------
    .. [1] K. Danovski, M. C. Soriano, L. Lacasa, Front. Complex Syst. 2, 1367957
       (2024). https://doi.org/10.3389/fcpxs.2024.1367957

    Examples
    --------
    >>> from graphtraj.studies import dynamical_stability
    >>> res = dynamical_stability(0.01, n_inits=2, n_perturb=2, n_steps=100,
    ...                           starts=[0], widths=[30], progress=False)
    >>> classify_regime(res).stability
    'stable'
    """
    min_acceptance = check_real(min_acceptance, "min_acceptance", minimum=0.0, maximum=1.0)
    max_stable_ratio = check_real(max_stable_ratio, "max_stable_ratio", minimum=1.0)
    if max_final_loss is None:
        sizes = result.params.get("model", {}).get("sizes", [0, 3])
        max_final_loss = 0.75 * float(np.log(max(int(sizes[-1]), 2)))
    max_final_loss = check_real(max_final_loss, "max_final_loss", minimum=0.0, strict_min=True)

    curves = np.atleast_2d(np.asarray(result.loss if loss is None else loss, dtype=np.float64))
    conv = np.array([loss_converges(lc, max_final=max_final_loss) for lc in curves])
    converged_fraction = float(conv.mean()) if conv.size else float("nan")
    converges = bool(converged_fraction > 0.5)
    acc = result.acceptance_fraction
    divergent = bool(acc >= min_acceptance)
    stretches: LossStretches | None = None
    ref_loss = curves[0]
    finite = np.isfinite(ref_loss)
    n_fin = int(np.argmin(finite)) if not finite.all() else ref_loss.size
    if n_fin >= stretch_window:
        stretches = loss_stretches(ref_loss[:n_fin], window=stretch_window)
    intermittent = bool(stretches is not None and stretches.intermittent)
    frozen_levels, frozen_from = ([], []) if converges else _frozen(curves[~conv])

    sensitive = divergent or bool(result.peak_ratio_median >= max_stable_ratio)
    if sensitive:
        stability = "edge of stability" if converges else "chaotic"
    else:
        stability = "stable"

    summ = result.summary()
    numbers: dict[str, Any] = {
        "lr": result.lr,
        "n_inits": result.n_inits,
        "converged_fraction": converged_fraction,
        **summ,
        "final_loss_median": float(np.nanmedian(curves[:, -1]))
        if np.isfinite(curves[:, -1]).any() else float("nan"),
        "final_accuracy_median": _final_median(
            result.accuracy if loss is None else accuracy),
        "final_step": int(curves.shape[1] - 1),
        "final_from": "ensemble" if loss is None else "loss run",
        "loss_steps": int(curves.shape[1] - 1),
        "periodic_fraction": None if stretches is None else stretches.periodic_fraction,
        "irregular_fraction": None if stretches is None else stretches.irregular_fraction,
        "n_switches": None if stretches is None else stretches.n_switches,
        "periods": None if stretches is None else {str(k): v for k, v in stretches.periods.items()},
        "intermittent": intermittent,
        "n_loss_runs": int(curves.shape[0]),
        "frozen_runs": len(frozen_levels),
        "frozen_levels": frozen_levels,
        "frozen_from": frozen_from,
        "exponentially_divergent": divergent,
        "sensitive": sensitive,
        "thresholds": {
            "min_acceptance": min_acceptance, "max_stable_ratio": max_stable_ratio,
            "max_final_loss": max_final_loss, "stretch_window": stretch_window,
        },
    }
    if orbital is not None:
        numbers["orbital_max_ratio"] = orbital.max_ratio
        numbers["orbital_acceptance_fraction"] = orbital.acceptance_fraction

    ftle_text = _fmt(summ["ftle_accepted_mean"])
    parts = [
        (f"no accepted FTLE fit (0 of {result.n_inits} initial conditions)" if ftle_text == "n/a"
         else f"FTLE {ftle_text}/step accepted for {acc:.0%} of {result.n_inits} initial conditions"),
        f"final loss {_fmt(float(np.nanmedian(curves[:, -1])))} (median, step "
        f"{curves.shape[1] - 1})",
        f"divergence ratio d(t)/d(0): peak of the mean {_fmt(result.max_ratio)}, "
        f"median peak {_fmt(result.peak_ratio_median)} over {int(result.steps[-1] - result.t0)} steps",
    ]
    if stretches is not None and not converges:
        parts.append(
            f"loss periodic {stretches.periodic_fraction:.0%} / irregular "
            f"{stretches.irregular_fraction:.0%} of the time, {stretches.n_switches} switches"
        )
    if frozen_levels:
        levels = plateau_levels_text(frozen_levels)
        when = (f"step {min(frozen_from)}" if min(frozen_from) == max(frozen_from)
                else f"steps {min(frozen_from)}–{max(frozen_from)}")
        parts.append(
            f"{len(frozen_levels)} of {curves.shape[0]} loss runs end frozen on a plateau "
            f"(loss constant to {FROZEN_TOL:g} per step from {when} on; L = {levels}): "
            "the irregular dynamics is transient in those runs"
        )
    if orbital is not None:
        parts.append(f"orbital run (perturbed at step {orbital.t0}): peak ratio "
                     f"{_fmt(orbital.max_ratio)}")
    return RegimeVerdict(
        lr=result.lr,
        converges=converges,
        converged_fraction=converged_fraction,
        stability=stability,
        evidence="; ".join(parts),
        numbers=numbers,
    )


def _final_median(curves: Any) -> float:
    """Median over initial conditions of the last value of ``curves`` (NaN if none)."""
    if curves is None:
        return float("nan")
    last = np.atleast_2d(np.asarray(curves, dtype=np.float64))[:, -1]
    return float(np.nanmedian(last)) if np.isfinite(last).any() else float("nan")


def _fmt(x: float) -> str:
    if x is None or not np.isfinite(x):
        return "n/a"
    if x != 0 and (abs(x) >= 1e4 or abs(x) < 1e-3):
        return f"{x:.2e}"
    return f"{x:.3g}"
