"""The η sweep seen by the tangent map: maximal Lyapunov exponent and sharpness per η.

:func:`tangent_sweep` linearizes the training step of the paper's network at each
learning rate of a sweep, from the initial conditions the perturbation sweep uses
(same model, data and seed), and measures the maximal finite-time exponent of the step
(Benettin/QR with one tangent vector) and the sharpness (top Hessian eigenvalue)
against the gradient-descent stability threshold 2/η. ``graphtraj study iris`` sets it
beside the perturbation FTLE of its sweep.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from graphtraj._checks import as_float_array, check_int
from graphtraj._progress import progress_bar
from graphtraj._result import Result
from graphtraj.exceptions import ValidationError

__all__ = ["TangentSweep", "tangent_sweep", "POSITIVE_TOL", "QUICK_STEPS", "QUICK_INITS"]

#: A mean maximal exponent above this (per step) counts as positive: perturbations
#: grow at least e-fold per 100 steps.
POSITIVE_TOL = 0.01
#: Quick mode caps the steps and the initial conditions at these.
QUICK_STEPS, QUICK_INITS = 50, 3


@dataclass(frozen=True, eq=False)
class TangentSweep(Result):
    """Tangent-map maximal exponent and sharpness for each learning rate of a sweep.

    Attributes
    ----------
    lrs : ndarray, shape (L,)
        Learning rates, increasing.
    max_exponent : ndarray, shape (L, R)
        Maximal finite-time Lyapunov exponent of the training step (per step) over the
        first ``n_steps`` steps, per learning rate and initial condition (NaN where
        the run diverged).
    max_exponent_mean : ndarray, shape (L,)
        Mean over the finite entries of ``max_exponent`` (NaN if none).
    sharpness_steps : ndarray of int, shape (S,)
        Steps at which the sharpness was measured.
    sharpness : ndarray, shape (L, R, S)
        Top eigenvalue of the full-data-set loss Hessian (NaN at non-finite states).
    ratio : ndarray, shape (L, R, S)
        ``sharpness * η / 2``: the sharpness in units of the threshold 2/η (1 is the
        edge of stability).
    max_ratio : ndarray, shape (L,)
        Largest finite ``ratio`` over initial conditions and measured steps.
    threshold : ndarray, shape (L,)
        2/η.
    diverged_at : ndarray of int, shape (L, R)
        Step at which the run became non-finite, -1 if never.
    params : dict
        ``n_steps``, ``n_inits``, ``seed``, ``quick``, ``model``, ``data``,
        ``positive_tol``.
    """

    lrs: np.ndarray
    max_exponent: np.ndarray
    max_exponent_mean: np.ndarray
    sharpness_steps: np.ndarray
    sharpness: np.ndarray
    ratio: np.ndarray
    max_ratio: np.ndarray
    threshold: np.ndarray
    diverged_at: np.ndarray
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def positive_from(self) -> float | None:
        """Smallest η whose mean maximal exponent exceeds :data:`POSITIVE_TOL` (None: none)."""
        hit = np.flatnonzero(np.nan_to_num(self.max_exponent_mean, nan=-np.inf) > POSITIVE_TOL)
        return float(self.lrs[hit[0]]) if hit.size else None

    @property
    def edge_from(self) -> float | None:
        """Smallest η at which the sharpness reaches 2/η (``max_ratio >= 1``; None: none)."""
        hit = np.flatnonzero(np.nan_to_num(self.max_ratio, nan=-np.inf) >= 1.0)
        return float(self.lrs[hit[0]]) if hit.size else None

    def summary(self) -> dict[str, Any]:
        """The JSON-able numbers of the sweep (what ``summary.json`` holds)."""
        d = self.as_dict()
        d["positive_from"] = self.positive_from
        d["edge_from"] = self.edge_from
        return d


def _sharpness_steps(n_steps: int, every: int | None) -> np.ndarray:
    if every is None:
        return np.unique(np.array([0, n_steps // 2, n_steps], dtype=np.int64))
    return np.arange(0, n_steps + 1, every, dtype=np.int64)


def tangent_sweep(
    lrs: Any,
    *,
    n_steps: int = 100,
    n_inits: int = 10,
    seed: int = 0,
    sharpness_every: int | None = None,
    quick: bool = False,
    threads: int | None = 1,
    progress: bool | None = None,
) -> TangentSweep:
    """Tangent-map maximal exponent and sharpness against 2/η across a learning-rate sweep.

    For each η, the paper's 4-10-3 sigmoid network on the Iris training split is
    trained by full-batch gradient descent from ``n_inits`` initial conditions drawn
    exactly as by :func:`~graphtraj.studies.regime_diagram` with the same ``seed``
    (:func:`graphtraj.capture.models.init_states`); the training step's maximal
    Lyapunov exponent over the first ``n_steps`` steps is computed by
    :func:`~graphtraj.dynamics.lyapunov_spectrum` (k = 1, QR every step, MLP fast
    path) and the sharpness by :func:`~graphtraj.dynamics.sharpness` (Lanczos) at the
    start, the middle and the end of the run (or every ``sharpness_every`` steps).

    Parameters
    ----------
    lrs : array_like of float
        Learning rates (> 0, distinct); sorted increasingly in the result.
    n_steps : int, default 100
        Steps over which the exponent is measured.
    n_inits : int, default 10
        Initial conditions per learning rate.
    seed : int, default 0
        Seed of the initial conditions (as in the perturbation sweep) and of the
        tangent vectors and Lanczos starting vectors.
    sharpness_every : int, optional
        Measure the sharpness at steps ``0, every, 2 every, ... <= n_steps``
        (default: steps 0, ``n_steps // 2`` and ``n_steps``).
    quick : bool, default False
        Cap ``n_steps`` at 50 and ``n_inits`` at 3 (smoke runs).
    threads : int or None, default 1
        torch intra-op threads while computing (restored afterwards; None: unchanged).
    progress : bool, optional
        Progress bar over the learning rates.

    Returns
    -------
    TangentSweep

    Raises
    ------
    ValidationError
        For empty, non-positive, non-finite or repeated learning rates, ``n_steps`` or
        ``n_inits`` below 1, a negative ``seed``, or ``sharpness_every`` outside
        ``[1, n_steps]``.

    Warns
    -----
    UndefinedResultWarning
        When a run diverges (its exponent and later sharpness values are NaN).
    ConvergenceWarning
        When Lanczos stops before its tolerance (see :func:`~graphtraj.dynamics.sharpness`).

    Notes
    -----
    For full-batch gradient descent the step is :math:`w \\mapsto w - \\eta \\nabla
    L(w)` with Jacobian :math:`I - \\eta H(w)`; the maximal exponent is
    :math:`\\lambda = \\frac1n \\sum_t \\ln \\|(I - \\eta H_t) q_t\\|` with
    :math:`q_t` the re-normalized tangent vector (Benettin et al. 1980, Eq. 20). A
    direction of curvature h is stretched when :math:`|1 - \\eta h| > 1`, i.e. for
    :math:`h > 2/\\eta`: sharpness reaching 2/η (ratio 1) is the edge of stability of
    Cohen et al. (2021). Unlike the perturbation FTLE, no perturbation size or fit
    window is chosen; the two agree only while the perturbation stays infinitesimal.
    Cost: L × n_steps tangent steps of R states (one Hessian-vector product each,
    fast path) plus L × R × S Lanczos runs on the 83 × 83 Hessian; about 1 s per η
    for the defaults on one core.

    References
    ----------
    .. [1] G. Benettin, L. Galgani, A. Giorgilli, J.-M. Strelcyn, Meccanica 15, 9-20
       (1980). https://doi.org/10.1007/BF02128236
    .. [2] J. M. Cohen et al., "Gradient descent on neural networks typically occurs
       at the edge of stability", ICLR 2021. https://doi.org/10.48550/arXiv.2103.00065
    .. [3] K. Danovski, M. C. Soriano, L. Lacasa, Front. Complex Syst. 2, 1367957
       (2024). https://doi.org/10.3389/fcpxs.2024.1367957

    Examples
    --------
    At η = 0.01 the step does not stretch perturbations and the sharpness stays far
    below 2/η = 200:

    >>> ts = tangent_sweep([0.01, 1.0], n_steps=20, n_inits=2, progress=False)
    >>> ts.lrs.tolist(), ts.max_exponent.shape, ts.sharpness.shape
    ([0.01, 1.0], (2, 2), (2, 2, 3))
    >>> bool(abs(ts.max_exponent_mean[0]) < 1e-3), bool(ts.max_ratio[0] < 0.1)
    (True, True)
    """
    arr = as_float_array(lrs, "lrs", 1)
    if np.any(arr <= 0):
        raise ValidationError(f"`lrs` must all be > 0; got {arr.tolist()}")
    if np.unique(arr).size != arr.size:
        raise ValidationError(f"`lrs` must be distinct; got {arr.tolist()}")
    n_steps = check_int(n_steps, "n_steps", minimum=1)
    n_inits = check_int(n_inits, "n_inits", minimum=1)
    seed = check_int(seed, "seed", minimum=0)
    if quick:
        n_steps, n_inits = min(n_steps, QUICK_STEPS), min(n_inits, QUICK_INITS)
    if sharpness_every is not None:
        sharpness_every = check_int(sharpness_every, "sharpness_every", minimum=1, maximum=n_steps)
    lrs_sorted = np.sort(arr)

    from graphtraj.studies.stability import torch_threads

    with torch_threads(threads):
        return _sweep(lrs_sorted, n_steps, n_inits, seed, _sharpness_steps(n_steps, sharpness_every),
                      bool(quick), progress)


def _sweep(lrs: np.ndarray, n_steps: int, n_inits: int, seed: int, s_steps: np.ndarray,
           quick: bool, progress: bool | None) -> TangentSweep:
    import torch

    from graphtraj.capture.models import init_states
    from graphtraj.datasets import load_data
    from graphtraj.dynamics import HessianOperator, lyapunov_spectrum, sharpness, training_map
    from graphtraj.studies.stability import PAPER_DATA, PAPER_MODEL

    X, y = load_data(PAPER_DATA)
    x0 = init_states(PAPER_MODEL, n_inits, rng=seed)
    L, S = lrs.size, s_steps.size
    lam = np.full((L, n_inits), np.nan)
    sharp = np.full((L, n_inits, S), np.nan)
    div = np.full((L, n_inits), -1, dtype=np.int64)
    wanted = {int(s): j for j, s in enumerate(s_steps)}
    for i, lr in enumerate(progress_bar(lrs, total=L, desc="tangent sweep", progress=progress)):
        tm = training_map(PAPER_MODEL, X, y, lr=float(lr), fast=True)
        spec = lyapunov_spectrum(tm, x0, n_steps, k=1, rng=seed)
        lam[i] = spec.exponents[:, 0]
        div[i] = spec.diverged_at
        x = torch.as_tensor(x0)
        for t in range(n_steps + 1):
            if t in wanted:
                w = x[:, : tm.n_params].numpy()
                for r in range(n_inits):
                    if np.isfinite(w[r]).all():
                        op = HessianOperator(tm.objective, params=w[r])
                        sharp[i, r, wanted[t]] = sharpness(op, rng=seed).value
            if t < n_steps:
                with torch.no_grad():
                    x = tm.step(x, t)
    ratio = sharp * lrs[:, None, None] / 2.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN rows give NaN
        lam_mean = np.nanmean(lam, axis=1)
        max_ratio = np.nanmax(ratio.reshape(L, -1), axis=1)
    return TangentSweep(
        lrs=lrs, max_exponent=lam, max_exponent_mean=lam_mean, sharpness_steps=s_steps,
        sharpness=sharp, ratio=ratio, max_ratio=max_ratio, threshold=2.0 / lrs,
        diverged_at=div,
        params={"n_steps": n_steps, "n_inits": n_inits, "seed": seed, "quick": quick,
                "model": dict(PAPER_MODEL), "data": dict(PAPER_DATA),
                "positive_tol": POSITIVE_TOL},
    )
