"""`RegimeRun`: everything the study computed for one learning-rate regime.

Report sections (``graphtraj/report/sections/*.py``) receive one ``RegimeRun`` each and
return a :class:`graphtraj.report.section.Section`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from graphtraj.trajectory import Ensemble, Trajectory

__all__ = ["RegimeRun"]


@dataclass(frozen=True, eq=False)
class RegimeRun:
    """The runs of one regime of the Iris study.

    Parameters
    ----------
    name : str
        ``"stable"`` (η = 0.01), ``"edge"`` (η = 1) or ``"chaotic"`` (η = 5).
    lr : float
        Learning rate η.
    reference : Trajectory
        Reference run of the first initial condition, full states at every step (or
        evenly subsampled), with loss/accuracy; its metadata holds the model spec and
        data reference, so it can be replayed.
    perturbed : Trajectory
        One perturbed copy (ε, weights only) of the same initial condition, recorded at
        the same steps as ``reference``.
    ensemble : Ensemble
        Streaming observables (loss, accuracy, dist_l1, dist_l2) of every replica:
        ``n_inits`` references, each with ``n_perturb`` perturbed copies.
    quick : bool
        True in ``--quick`` mode: sections must then take about a second per regime.
    extras : dict
        Anything else the study computed (FTLE results, ...).
    """

    name: str
    lr: float
    reference: Trajectory
    perturbed: Trajectory
    ensemble: Ensemble
    quick: bool = False
    extras: dict[str, Any] = field(default_factory=dict)
