"""Dynamical and orbital stability of training: perturbation ensembles and their FTLEs.

*Dynamical stability* (Danovski et al. 2024): perturb each of several initial
conditions by ε at step 0, train reference and copies in lockstep, and fit a
finite-time Lyapunov exponent to the mean divergence of the copies. *Orbital
stability*: perturb the reference later, at step t0 (on its way to a minimum), and
follow the copies.

Each study is split into a training part (:func:`train_stability`, returning an
:class:`~graphtraj.trajectory.Ensemble`) and an analysis part
(:func:`stability_from_ensemble`), so that :func:`~graphtraj.studies.run_sweep` can
store the ensembles and re-analyse stored ones without retraining.
"""

from __future__ import annotations

import dataclasses
import json
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from graphtraj._checks import check_int, check_option, check_real
from graphtraj._result import Result
from graphtraj.exceptions import InsufficientDataError, ValidationError
from graphtraj.trajectory import Ensemble

__all__ = [
    "PAPER_MODEL",
    "PAPER_DATA",
    "StabilityResult",
    "dynamical_stability",
    "orbital_stability",
    "train_stability",
    "stability_from_ensemble",
    "stability_config",
    "torch_threads",
]

#: The paper's network: 4-10-3, sigmoid hidden layer, softmax cross-entropy on logits.
PAPER_MODEL: dict[str, Any] = {
    "kind": "mlp", "sizes": [4, 10, 3], "activation": "sigmoid",
    "loss": "cross_entropy", "bias": True,
}
#: The paper's data: Iris, 120-sample stratified training split, raw features.
PAPER_DATA: dict[str, Any] = {"name": "iris", "split": "train", "seed": 0}

# Keys of a stability config that determine the training (and so the stored run);
# the remaining keys only affect the analysis.
_TRAIN_KEYS = (
    "lr", "n_steps", "n_inits", "n_perturb", "eps", "seed", "model", "data",
    "perturbation", "perturb_target", "perturb_at", "weight_std", "bias_init",
    "dtype", "record_every",
)
_FIT_KEYS = ("metric", "mean", "window", "starts", "widths", "min_r2", "min_slope")


@dataclass(frozen=True, eq=False)
class StabilityResult(Result):
    """Divergence of perturbed copies and finite-time exponents, per initial condition.

    Attributes
    ----------
    kind : str
        ``"dynamical"`` (perturbed at step 0) or ``"orbital"`` (perturbed at ``t0``).
    lr : float
        Learning rate η.
    t0 : int
        Step of the perturbation.
    steps : ndarray of int, shape (S,)
        Steps ``t0 … n_steps`` of the divergence curves.
    divergence : ndarray, shape (n_inits, S)
        Mean distance (``metric``) of the copies of each initial condition to their
        reference, arithmetic mean over the finite copies.
    ratio : ndarray, shape (n_inits, S)
        ``divergence / divergence[:, 0]``: growth since the perturbation.
    mean_ratio : ndarray, shape (S,)
        Mean of ``ratio`` over the initial conditions.
    ftle, r2, intercept : ndarray, shape (n_inits,)
        Fitted exponent (per step), R² and intercept of each initial condition
        (see :func:`graphtraj.timeseries.ftle_from_divergence`).
    accepted : ndarray of bool, shape (n_inits,)
        Whether each fit was accepted as exponential divergence.
    windows : ndarray of int, shape (n_inits, 2)
        Fit window ``(start, stop)`` of each initial condition.
    loss_steps : ndarray of int, shape (S_all,)
        Steps ``0 … n_steps`` of ``loss`` and ``accuracy``.
    loss, accuracy : ndarray, shape (n_inits, S_all)
        Training loss and accuracy of each reference.
    n_diverged : int
        Number of replicas whose weights became non-finite.
    params : dict
        The configuration (see :func:`stability_config`).
    ensemble : Ensemble or None
        The trained ensemble (not part of :meth:`as_dict`).
    """

    kind: str
    lr: float
    t0: int
    steps: np.ndarray
    divergence: np.ndarray
    ratio: np.ndarray
    mean_ratio: np.ndarray
    ftle: np.ndarray
    r2: np.ndarray
    intercept: np.ndarray
    accepted: np.ndarray
    windows: np.ndarray
    loss_steps: np.ndarray
    loss: np.ndarray
    accuracy: np.ndarray
    n_diverged: int
    params: dict[str, Any] = field(default_factory=dict)
    ensemble: Ensemble | None = field(default=None, repr=False, compare=False)

    def as_dict(self) -> dict[str, Any]:
        """All fields except ``ensemble`` as JSON-able Python data, plus the summaries."""
        out = super().as_dict()
        out.pop("ensemble", None)
        out.update(self.summary())
        return out

    @property
    def n_inits(self) -> int:
        """Number of initial conditions."""
        return int(self.ftle.size)

    @property
    def acceptance_fraction(self) -> float:
        """Fraction of initial conditions with an accepted exponent."""
        return float(np.mean(self.accepted)) if self.accepted.size else float("nan")

    @property
    def ftle_accepted_mean(self) -> float:
        """Mean exponent over the accepted fits (NaN if none was accepted)."""
        ok = self.accepted & np.isfinite(self.ftle)
        return float(np.mean(self.ftle[ok])) if ok.any() else float("nan")

    @property
    def ftle_mean(self) -> float:
        """Mean exponent over all initial conditions with a finite fit."""
        ok = np.isfinite(self.ftle)
        return float(np.mean(self.ftle[ok])) if ok.any() else float("nan")

    @property
    def max_ratio(self) -> float:
        """Largest value of ``mean_ratio``: the peak mean growth d(t)/d(t0)."""
        ok = np.isfinite(self.mean_ratio)
        return float(np.max(self.mean_ratio[ok])) if ok.any() else float("nan")

    @property
    def peak_ratio_median(self) -> float:
        """Median over initial conditions of each one's peak ratio max_t d(t)/d(t0).

        Robust to a single exploding initial condition, unlike :attr:`max_ratio`.
        """
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            peaks = np.nanmax(self.ratio, axis=1) if self.ratio.size else np.array([])
        peaks = peaks[np.isfinite(peaks)]
        return float(np.median(peaks)) if peaks.size else float("nan")

    @property
    def final_ratio(self) -> float:
        """``mean_ratio`` at the last step."""
        return float(self.mean_ratio[-1]) if self.mean_ratio.size else float("nan")

    @property
    def final_loss(self) -> np.ndarray:
        """Loss of each reference at the last step, shape (n_inits,)."""
        return self.loss[:, -1]

    @property
    def final_accuracy(self) -> np.ndarray:
        """Training accuracy of each reference at the last step, shape (n_inits,)."""
        return self.accuracy[:, -1]

    def summary(self) -> dict[str, float | int]:
        """The scalar evidence: exponents, acceptance, divergence ratios, final loss."""
        return {
            "acceptance_fraction": self.acceptance_fraction,
            "ftle_accepted_mean": self.ftle_accepted_mean,
            "ftle_mean": self.ftle_mean,
            "max_ratio": self.max_ratio,
            "peak_ratio_median": self.peak_ratio_median,
            "final_ratio": self.final_ratio,
            "final_loss_median": float(np.nanmedian(self.final_loss))
            if np.isfinite(self.final_loss).any() else float("nan"),
            "final_accuracy_median": float(np.nanmedian(self.final_accuracy))
            if np.isfinite(self.final_accuracy).any() else float("nan"),
            "n_diverged": self.n_diverged,
        }


# --------------------------------------------------------------------- configs
def _json_roundtrip(value: Any, name: str) -> Any:
    try:
        return json.loads(json.dumps(value))
    except (TypeError, ValueError) as exc:
        raise ValidationError(
            f"`{name}` must be JSON-able (numbers, strings, lists, dicts); got {value!r} "
            f"({exc})"
        ) from None


def stability_config(
    lr: float,
    *,
    kind: str = "dynamical",
    n_steps: int = 5000,
    n_inits: int = 10,
    n_perturb: int = 5,
    eps: float = 1e-8,
    seed: int = 0,
    t0: int = 0,
    model: Mapping[str, Any] | None = None,
    data: Mapping[str, Any] | None = None,
    perturbation: str = "uniform",
    perturb_target: str = "weights",
    weight_std: float = 1.0,
    bias_init: float = 0.0,
    dtype: str = "float64",
    record_every: int | None = None,
    metric: str = "l1",
    mean: str = "arithmetic",
    window: tuple[int, int] | None = None,
    starts: Any = range(0, 101, 5),
    widths: Any = range(30, 101, 5),
    min_r2: float = 0.9,
    min_slope: float = 0.05,
) -> dict[str, Any]:
    """A validated, JSON-able configuration of one stability experiment.

    The parameters are those of :func:`dynamical_stability` (``t0`` is the
    perturbation step; ``kind`` is ``"dynamical"`` or ``"orbital"``). The result is
    what :func:`run_sweep` accepts (add a ``"name"`` key to name the stored run).

    Raises
    ------
    ValidationError, UnknownOptionError
        For any invalid value.
    InsufficientDataError
        When fewer steps follow the perturbation than the smallest fit window needs.

    Examples
    --------
    >>> cfg = stability_config(1.0, n_steps=200)
    >>> cfg["kind"], cfg["perturb_at"], cfg["data"]["name"]
    ('dynamical', 0, 'iris')
    """
    kind = check_option(kind, "kind", ("dynamical", "orbital"))
    lr = check_real(lr, "lr", minimum=0.0, strict_min=True)
    n_steps = check_int(n_steps, "n_steps", minimum=1)
    n_inits = check_int(n_inits, "n_inits", minimum=1)
    n_perturb = check_int(n_perturb, "n_perturb", minimum=1)
    eps = check_real(eps, "eps", minimum=0.0, strict_min=True)
    seed = check_int(seed, "seed", minimum=0)
    t0 = check_int(t0, "t0", minimum=0)
    if t0 >= n_steps:
        raise ValidationError(
            f"`t0` must be < n_steps = {n_steps} (the copies need steps to diverge); "
            f"got {t0}"
        )
    perturbation = check_option(perturbation, "perturbation", ("uniform", "gaussian"))
    perturb_target = check_option(perturb_target, "perturb_target", ("weights", "all"))
    weight_std = check_real(weight_std, "weight_std", minimum=0.0)
    bias_init = check_real(bias_init, "bias_init")
    dtype = check_option(dtype, "dtype", ("float64", "float32"))
    if record_every is not None:
        record_every = check_int(record_every, "record_every", minimum=1)
    metric = check_option(metric, "metric", ("l1", "l2"))
    mean = check_option(mean, "mean", ("arithmetic", "geometric"))
    min_r2 = check_real(min_r2, "min_r2", maximum=1.0)
    min_slope = check_real(min_slope, "min_slope")
    starts = [int(s) for s in starts]
    widths = [int(w) for w in widths]
    if not starts or not widths:
        raise ValidationError(
            f"`starts` and `widths` must not be empty; got {starts!r} and {widths!r}"
        )
    span = n_steps - t0 + 1
    if window is None and span < min(starts) + min(widths):
        raise InsufficientDataError(
            f"`n_steps` must leave at least min(starts) + min(widths) = "
            f"{min(starts) + min(widths)} recorded steps after the perturbation for the "
            f"exponent fit; got {span} (steps {t0} to {n_steps}). Train longer or pass "
            "smaller `starts`/`widths` or an explicit `window`."
        )
    cfg = {
        "kind": kind, "lr": lr, "n_steps": n_steps, "n_inits": n_inits,
        "n_perturb": n_perturb, "eps": eps, "seed": seed, "perturb_at": t0,
        "model": dict(PAPER_MODEL if model is None else model),
        "data": dict(PAPER_DATA if data is None else data),
        "perturbation": perturbation, "perturb_target": perturb_target,
        "weight_std": weight_std, "bias_init": bias_init, "dtype": dtype,
        "record_every": record_every, "metric": metric, "mean": mean,
        "window": None if window is None else [int(window[0]), int(window[1])],
        "starts": starts, "widths": widths,
        "min_r2": min_r2, "min_slope": min_slope,
    }
    return _json_roundtrip(cfg, "config")


def train_key(config: Mapping[str, Any]) -> dict[str, Any]:
    """The part of a config that determines the trained ensemble (JSON-normalized)."""
    return _json_roundtrip({k: config.get(k) for k in _TRAIN_KEYS}, "config")


# -------------------------------------------------------------------- training
class torch_threads:
    """Context manager: torch's intra-op thread count set to ``n`` (None: unchanged).

    The batched operations of these small networks are fastest on one thread; with
    more, torch's thread pool can cost ten times more than the arithmetic on a busy
    machine. The previous setting is restored on exit.
    """

    def __init__(self, n: int | None) -> None:
        self.n = None if n is None else check_int(n, "torch_threads", minimum=1)
        self.old: int | None = None

    def __enter__(self) -> None:
        if self.n is not None:
            import torch

            self.old = torch.get_num_threads()
            torch.set_num_threads(self.n)

    def __exit__(self, *exc: object) -> None:
        if self.old is not None:
            import torch

            torch.set_num_threads(self.old)


def train_stability(
    config: Mapping[str, Any], *, progress: bool | None = None, threads: int | None = 1
) -> Ensemble:
    """Train the perturbation ensemble of one stability config (see :func:`stability_config`).

    Initial conditions are drawn by
    :func:`graphtraj.capture.models.init_states` from ``config["seed"]``; replica
    order is that of :func:`graphtraj.capture.train_ensemble`. The config is stored in
    ``metadata["study"]`` of the returned ensemble. Training runs with ``threads``
    torch threads (default 1, see :class:`torch_threads`; None leaves torch's
    setting alone).
    """
    from graphtraj.capture.ensemble import train_ensemble
    from graphtraj.capture.functional import check_spec
    from graphtraj.capture.models import init_states
    from graphtraj.datasets import load_data

    spec = check_spec(config["model"], "model")
    X, y = load_data(config["data"])
    inits = init_states(
        spec, config["n_inits"], rng=config["seed"],
        weight_std=config["weight_std"], bias_init=config["bias_init"],
    )
    with torch_threads(threads):
        ens = train_ensemble(
            spec, X, y,
            lr=config["lr"], n_steps=config["n_steps"], inits=inits,
            n_inits=config["n_inits"], n_perturb=config["n_perturb"], eps=config["eps"],
            perturbation=config["perturbation"], perturb_target=config["perturb_target"],
            perturb_at=config["perturb_at"], seed=config["seed"], dtype=config["dtype"],
            record_every=config["record_every"],
            observe=("loss", "accuracy", "dist_l1", "dist_l2"),
            data_ref=dict(config["data"]), progress=progress,
        )
    meta = dict(ens.metadata)
    meta["study"] = {"kind": config["kind"], "train": train_key(config)}
    return dataclasses.replace(ens, metadata=meta)


# -------------------------------------------------------------------- analysis
def stability_from_ensemble(
    ensemble: Ensemble, config: Mapping[str, Any] | None = None
) -> StabilityResult:
    """Analyse a perturbation ensemble: divergence curves and one FTLE per reference.

    Parameters
    ----------
    ensemble : Ensemble
        With observables ``dist_l1`` or ``dist_l2`` and ``loss``; each reference must
        have at least one perturbed copy.
    config : dict, optional
        A :func:`stability_config`; by default the one stored in
        ``ensemble.metadata["study"]`` completed with the default fit parameters.

    Returns
    -------
    StabilityResult

    Raises
    ------
    ValidationError
        If the ensemble lacks the distance observable or perturbed copies.
    """
    if config is None:
        stored = ensemble.metadata.get("study", {}).get("train")
        if stored is None:
            raise ValidationError(
                "`config` must be given for an ensemble not made by train_stability "
                "(its metadata has no 'study' entry)"
            )
        kind = ensemble.metadata.get("study", {}).get("kind", "dynamical")
        config = stability_config(
            stored["lr"], kind=kind, t0=stored["perturb_at"], n_steps=stored["n_steps"],
            n_inits=stored["n_inits"], n_perturb=stored["n_perturb"], eps=stored["eps"],
            seed=stored["seed"],
        )
    from graphtraj.timeseries.divergence import ftle_from_divergence

    key = f"dist_{config['metric']}"
    if key not in ensemble.observables:
        raise ValidationError(
            f"`ensemble` must record the observable {key!r}; it has "
            f"{sorted(ensemble.observables)}"
        )
    t0 = int(config["perturb_at"])
    steps_all = ensemble.steps
    sel = steps_all >= t0
    steps = steps_all[sel]
    refs = ensemble.reference_indices()
    dist = ensemble.observables[key]
    n = refs.size
    divergence = np.full((n, steps.size), np.nan)
    ftle = np.full(n, np.nan)
    r2 = np.full(n, np.nan)
    icpt = np.full(n, np.nan)
    accepted = np.zeros(n, dtype=bool)
    windows = np.full((n, 2), -1, dtype=np.int64)
    for i, ref in enumerate(refs):
        copies = ensemble.perturbed_of(int(ref))
        if copies.size == 0:
            raise ValidationError(
                f"`ensemble` must have perturbed copies of every reference; reference "
                f"{int(ref)} has none"
            )
        d = dist[np.ix_(copies, np.flatnonzero(sel))]
        finite = np.isfinite(d)
        with np.errstate(invalid="ignore"):
            divergence[i] = np.where(
                finite.any(axis=0), np.where(finite, d, 0.0).sum(axis=0) / finite.sum(axis=0),
                np.nan,
            )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit = ftle_from_divergence(
                d, times=steps, window=config.get("window"), mean=config["mean"],
                starts=config["starts"], widths=config["widths"],
                min_r2=config["min_r2"], min_slope=config["min_slope"],
                zeros="mask", nan="omit",
            )
        ftle[i], r2[i], icpt[i], accepted[i] = fit.slope, fit.r2, fit.intercept, fit.accepted
        windows[i] = fit.window
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = divergence / divergence[:, :1]
    finite_cols = np.isfinite(ratio).any(axis=0)
    mean_ratio = np.full(steps.size, np.nan)
    if finite_cols.any():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            mean_ratio[finite_cols] = np.nanmean(ratio[:, finite_cols], axis=0)
    loss = ensemble.observables.get("loss", np.full((ensemble.n_replicas, steps_all.size), np.nan))
    acc = ensemble.observables.get(
        "accuracy", np.full((ensemble.n_replicas, steps_all.size), np.nan)
    )
    return StabilityResult(
        kind=config["kind"], lr=float(config["lr"]), t0=t0, steps=steps,
        divergence=divergence, ratio=ratio, mean_ratio=mean_ratio, ftle=ftle, r2=r2,
        intercept=icpt, accepted=accepted, windows=windows, loss_steps=steps_all,
        loss=loss[refs], accuracy=acc[refs],
        n_diverged=int(np.sum(ensemble.diverged_at >= 0)), params=dict(config),
        ensemble=ensemble,
    )


# ---------------------------------------------------------------- public API
def dynamical_stability(
    lr: float,
    *,
    n_inits: int = 10,
    n_perturb: int = 5,
    eps: float = 1e-8,
    n_steps: int = 5000,
    seed: int = 0,
    progress: bool | None = None,
    **options: Any,
) -> StabilityResult:
    """Dynamical stability of training at learning rate η: FTLEs from ε-perturbations.

    For each of ``n_inits`` initial conditions, ``n_perturb`` copies are displaced by
    U(−ε, ε) on every weight at step 0 and trained in lockstep with the reference by
    full-batch gradient descent. The mean distance of the copies to their reference
    gives one divergence curve per initial condition, and
    :func:`~graphtraj.timeseries.ftle_from_divergence` one finite-time exponent.

    Parameters
    ----------
    lr : float
        Learning rate η (> 0).
    n_inits : int, default 10
        Independent initial conditions (weights N(0, weight_std²), biases bias_init).
    n_perturb : int, default 5
        Perturbed copies per initial condition.
    eps : float, default 1e-8
        Perturbation size (half-width of the uniform distribution).
    n_steps : int, default 5000
        Training steps.
    seed : int, default 0
        Seed of the initial conditions and perturbations.
    progress : bool, optional
        Show a progress bar (default: when interactive).
    **options
        Further :func:`stability_config` parameters: ``model`` (spec dict, default
        the paper's 4-10-3 sigmoid MLP), ``data`` (data reference, default the Iris
        training split), ``perturbation``, ``perturb_target``, ``weight_std``,
        ``bias_init``, ``dtype``, ``record_every``, and the fit parameters
        ``metric`` ("l1", the paper's, or "l2"), ``mean``, ``window``, ``starts``,
        ``widths``, ``min_r2``, ``min_slope``.

    Returns
    -------
    StabilityResult
        Divergence curves, per-init exponents and acceptance, loss curves; the
        ensemble in ``.ensemble``.

    Raises
    ------
    ValidationError, UnknownOptionError
        For invalid parameters (including ε below the dtype's resolution, field
        case C22).

    Notes
    -----
    The protocol is the "dynamical stability" experiment of Danovski et al. (2024):
    distance L1 over all parameters, arithmetic mean over the copies, exponent fitted
    by the paper's window rule. Distances that are exactly 0 are masked before the
    logarithm (field case C21); diverged copies (non-finite weights) are left out of
    the mean from the step they diverge. Cost: O(n_steps · n_inits · (1 + n_perturb)
    · P · n_samples).

    References
    ----------
    .. [1] K. Danovski, M. C. Soriano, L. Lacasa, Front. Complex Syst. 2, 1367957
       (2024). https://doi.org/10.3389/fcpxs.2024.1367957

    Examples
    --------
    >>> res = dynamical_stability(1.0, n_inits=2, n_perturb=2, n_steps=200, progress=False)
    >>> res.ftle.shape, res.divergence.shape
    ((2,), (2, 201))
    """
    cfg = stability_config(
        lr, kind="dynamical", n_inits=n_inits, n_perturb=n_perturb, eps=eps,
        n_steps=n_steps, seed=seed, **options,
    )
    return stability_from_ensemble(train_stability(cfg, progress=progress), cfg)


def orbital_stability(
    lr: float,
    *,
    t0: int = 4000,
    n_follow: int = 1000,
    n_inits: int = 10,
    n_perturb: int = 5,
    eps: float = 1e-8,
    seed: int = 0,
    progress: bool | None = None,
    **options: Any,
) -> StabilityResult:
    """Orbital stability: perturb each reference at step ``t0`` and follow the copies.

    Each of ``n_inits`` references is trained for ``t0`` steps; then ``n_perturb``
    copies displaced by ε are trained beside it for ``n_follow`` more steps. A flat
    divergence curve (no accepted exponent, d(t)/d(t0) of order 1) means the
    trajectory is marginally stable along its orbit; growth means it is not.

    Parameters
    ----------
    lr : float
        Learning rate η (> 0).
    t0 : int, default 4000
        Step at which the references are perturbed (the paper: 4000 at η = 0.01).
    n_follow : int, default 1000
        Steps followed after ``t0``.
    n_inits, n_perturb, eps, seed, progress, **options
        As for :func:`dynamical_stability`.

    Returns
    -------
    StabilityResult
        With ``kind == "orbital"``; its divergence curves start at ``t0``.

    Raises
    ------
    ValidationError, UnknownOptionError
        For invalid parameters.

    Notes
    -----
    The "orbital stability" test of Danovski et al. (2024). The exponent fit windows
    start at ``t0``. Cost as :func:`dynamical_stability` with ``t0 + n_follow`` steps.

    References
    ----------
    .. [1] K. Danovski, M. C. Soriano, L. Lacasa, Front. Complex Syst. 2, 1367957
       (2024). https://doi.org/10.3389/fcpxs.2024.1367957

    Examples
    --------
    >>> res = orbital_stability(0.01, t0=100, n_follow=150, n_inits=2, n_perturb=2,
    ...                         progress=False)
    >>> int(res.steps[0]), res.kind
    (100, 'orbital')
    """
    t0 = check_int(t0, "t0", minimum=0)
    n_follow = check_int(n_follow, "n_follow", minimum=1)
    cfg = stability_config(
        lr, kind="orbital", t0=t0, n_steps=t0 + n_follow, n_inits=n_inits,
        n_perturb=n_perturb, eps=eps, seed=seed, **options,
    )
    return stability_from_ensemble(train_stability(cfg, progress=progress), cfg)
