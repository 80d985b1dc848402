"""The regime diagram: finite-time exponent and final loss against the learning rate."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from graphtraj._checks import as_float_array
from graphtraj._result import Result
from graphtraj.exceptions import ValidationError
from graphtraj.studies.stability import StabilityResult
from graphtraj.studies.sweep import run_sweep

__all__ = ["RegimeDiagram", "regime_diagram"]


@dataclass(frozen=True, eq=False)
class RegimeDiagram(Result):
    """FTLE, acceptance and final loss for each learning rate of a sweep.

    Attributes
    ----------
    lrs : ndarray, shape (L,)
        Learning rates, increasing.
    ftle : ndarray, shape (L, n_inits)
        Fitted exponent per learning rate and initial condition (per step).
    accepted : ndarray of bool, shape (L, n_inits)
        Whether each fit was accepted.
    ftle_accepted_mean : ndarray, shape (L,)
        Mean exponent over the accepted fits (NaN where none was accepted).
    ftle_mean : ndarray, shape (L,)
        Mean exponent over all fits.
    acceptance_fraction : ndarray, shape (L,)
    final_loss : ndarray, shape (L, n_inits)
        Loss of each reference after ``n_steps``.
    final_loss_median : ndarray, shape (L,)
    max_ratio : ndarray, shape (L,)
        Peak mean divergence ratio d(t)/d(0).
    names : tuple of str
        Run names (in the store, if one was used).
    params : dict
        ``n_steps``, ``n_inits``, ``n_perturb``, ``eps``, ``seed`` and options.
    """

    lrs: np.ndarray
    ftle: np.ndarray
    accepted: np.ndarray
    ftle_accepted_mean: np.ndarray
    ftle_mean: np.ndarray
    acceptance_fraction: np.ndarray
    final_loss: np.ndarray
    final_loss_median: np.ndarray
    max_ratio: np.ndarray
    names: tuple[str, ...]
    params: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_results(
        cls, results: Sequence[StabilityResult], names: Sequence[str], params: dict[str, Any]
    ) -> RegimeDiagram:
        """Assemble the diagram from per-learning-rate stability results."""
        order = np.argsort([r.lr for r in results], kind="stable")
        rs = [results[i] for i in order]

        def med(x: np.ndarray) -> float:
            return float(np.nanmedian(x)) if np.isfinite(x).any() else float("nan")

        return cls(
            lrs=np.array([r.lr for r in rs]),
            ftle=np.array([r.ftle for r in rs]),
            accepted=np.array([r.accepted for r in rs]),
            ftle_accepted_mean=np.array([r.ftle_accepted_mean for r in rs]),
            ftle_mean=np.array([r.ftle_mean for r in rs]),
            acceptance_fraction=np.array([r.acceptance_fraction for r in rs]),
            final_loss=np.array([r.final_loss for r in rs]),
            final_loss_median=np.array([med(r.final_loss) for r in rs]),
            max_ratio=np.array([r.max_ratio for r in rs]),
            names=tuple(names[i] for i in order),
            params=dict(params),
        )


def regime_diagram(
    lrs: Any,
    *,
    n_steps: int = 1000,
    n_inits: int = 10,
    n_perturb: int = 5,
    eps: float = 1e-8,
    seed: int = 0,
    store: Any = None,
    jobs: int = 1,
    executor: Any = None,
    name_prefix: str = "sweep",
    progress: bool | None = None,
    **options: Any,
) -> RegimeDiagram:
    """Sweep the learning rate: FTLE, acceptance and final loss for each η.

    Runs one :func:`~graphtraj.studies.dynamical_stability` experiment per learning
    rate through :func:`~graphtraj.studies.run_sweep` (resumable with ``store``,
    parallel with ``jobs``/``executor``), with the same initial conditions (same
    ``seed``) at every η.

    Parameters
    ----------
    lrs : array_like of float
        Learning rates (> 0, distinct).
    n_steps : int, default 1000
        Training steps per run; the final loss is read at this step.
    n_inits, n_perturb, eps, seed
        As for :func:`~graphtraj.studies.dynamical_stability`.
    store, jobs, executor, progress
        As for :func:`~graphtraj.studies.run_sweep`.
    name_prefix : str, default "sweep"
        Runs are named ``"<prefix>-lr<η>"``.
    **options
        Further :func:`~graphtraj.studies.stability_config` parameters.

    Returns
    -------
    RegimeDiagram

    Raises
    ------
    ValidationError
        For empty, non-positive or repeated learning rates, and invalid options.

    Notes
    -----
    The η sweep of Danovski et al. (2024): the exponent is fitted by the paper's
    window rule (windows within the first 200 steps), so ``n_steps`` mostly sets
    how far the loss has come. Cost: L times that of one dynamical-stability run.

    References
    ----------
    .. [1] K. Danovski, M. C. Soriano, L. Lacasa, Front. Complex Syst. 2, 1367957
       (2024). https://doi.org/10.3389/fcpxs.2024.1367957

    Examples
    --------
    >>> d = regime_diagram([0.01, 1.0], n_steps=60, n_inits=2, n_perturb=2,
    ...                    starts=[0], widths=[30], progress=False)
    >>> d.lrs.tolist(), d.ftle.shape
    ([0.01, 1.0], (2, 2))
    """
    arr = as_float_array(lrs, "lrs", 1)
    if np.any(arr <= 0):
        raise ValidationError(f"`lrs` must all be > 0; got {arr.tolist()}")
    if np.unique(arr).size != arr.size:
        raise ValidationError(f"`lrs` must be distinct; got {arr.tolist()}")
    configs = [
        {"name": f"{name_prefix}-lr{lr:g}", "lr": float(lr), "n_steps": n_steps,
         "n_inits": n_inits, "n_perturb": n_perturb, "eps": eps, "seed": seed, **options}
        for lr in arr
    ]
    sweep = run_sweep(configs, store=store, jobs=jobs, executor=executor, progress=progress)
    params = {"n_steps": n_steps, "n_inits": n_inits, "n_perturb": n_perturb, "eps": eps,
              "seed": seed, **options}
    return RegimeDiagram.from_results(list(sweep.results), list(sweep.names), params)
