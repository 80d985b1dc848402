"""Sharpness: the top eigenvalues of the loss Hessian, at one point and along training."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from graphtraj._checks import _describe, as_float_array, as_rng, check_int, check_option, check_real
from graphtraj._progress import progress_bar
from graphtraj._result import Result
from graphtraj.dynamics.edge import EdgeOfStability, edge_of_stability
from graphtraj.dynamics.hessian import HessianOperator
from graphtraj.dynamics.objectives import _torch
from graphtraj.dynamics.step_maps import TrainingMap
from graphtraj.exceptions import ConvergenceError, ConvergenceWarning, ValidationError

__all__ = ["SharpnessResult", "sharpness", "SharpnessTrack", "sharpness_track", "METHODS"]

#: Eigenvalue methods of :func:`sharpness`.
METHODS = ("lanczos", "power")


@dataclass(frozen=True)
class SharpnessResult(Result):
    """Top eigenvalues of a symmetric operator (the loss Hessian) with convergence info.

    Attributes
    ----------
    eigenvalues : ndarray, shape (k,)
        In decreasing order; ``eigenvalues[0]`` is the sharpness.
    eigenvectors : ndarray, shape (P, k)
        Unit eigenvectors, column i for ``eigenvalues[i]``.
    residuals : ndarray, shape (k,)
        ``|H u_i - λ_i u_i| / max_j |λ_j|``.
    converged : ndarray of bool, shape (k,)
        ``residuals <= max(10 tol, 1e-10)``.
    n_products : int
        Hessian-vector products used.
    n_iter : int
        Iterations (power method; 0 for Lanczos, which reports ``n_products``).
    history : ndarray, shape (n_iter, k)
        Ritz values at each power iteration (empty for Lanczos).
    method : str
        ``"lanczos"`` or ``"power"``.
    tol : float
        Requested relative tolerance.
    """

    eigenvalues: np.ndarray
    eigenvectors: np.ndarray
    residuals: np.ndarray
    converged: np.ndarray
    n_products: int
    n_iter: int
    history: np.ndarray
    method: str
    tol: float

    @property
    def value(self) -> float:
        """The sharpness: the largest eigenvalue."""
        return float(self.eigenvalues[0])


class _Counted:
    """Wrap an operator to count products (for operators that do not count)."""

    def __init__(self, op: Any) -> None:
        from scipy.sparse.linalg import aslinearoperator

        self.lin = aslinearoperator(op)
        self.shape = self.lin.shape
        self.count = 0

    def matmat(self, V: np.ndarray) -> np.ndarray:
        self.count += V.shape[1]
        return np.asarray(self.lin.matmat(V))

    def scipy(self) -> Any:
        from scipy.sparse.linalg import LinearOperator

        return LinearOperator(self.shape, matvec=lambda v: self.matmat(v.reshape(-1, 1))[:, 0],
                              matmat=self.matmat, rmatvec=lambda v: self.matmat(v.reshape(-1, 1))[:, 0],
                              dtype=np.float64)


def _as_operator(operator: Any) -> tuple[Any, Any]:
    """(matmat, count()) for a HessianOperator, LinearOperator or symmetric array."""
    if isinstance(operator, HessianOperator):
        start = operator.n_products
        return operator.to_scipy(), (lambda: operator.n_products - start)
    if isinstance(operator, np.ndarray) or hasattr(operator, "matvec") or hasattr(operator, "shape"):
        shape = getattr(operator, "shape", None)
        if shape is None or len(shape) != 2 or shape[0] != shape[1]:
            raise ValidationError(
                f"`operator` must be square (P, P); got {_describe(operator)}"
            )
        if isinstance(operator, np.ndarray):
            arr = as_float_array(operator, "operator", 2)
            asym, peak = float(np.abs(arr - arr.T).max()), float(np.abs(arr).max())
            if asym > 1e-6 * peak:
                raise ValidationError(
                    f"`operator` must be symmetric (a Hessian); got max |A - A.T| = "
                    f"{asym:.3g} against max |A| = {peak:.3g}. "
                    "Pass (A + A.T) / 2 if the asymmetry is rounding error."
                )
        wrapped = _Counted(operator)
        return wrapped.scipy(), (lambda: wrapped.count)
    raise ValidationError(
        "`operator` must be a HessianOperator, a scipy LinearOperator or a symmetric "
        f"array; got {_describe(operator)}"
    )


def _power(op: Any, P: int, k: int, tol: float, maxiter: int, gen: np.random.Generator):
    V, _ = np.linalg.qr(gen.standard_normal((P, k)))
    history = []
    theta = np.zeros(k)
    U = V
    res = np.full(k, np.inf)
    it = 0
    for it in range(1, maxiter + 1):  # noqa: B007 (the count is returned)
        W = np.asarray(op.matmat(V))
        T = V.T @ W
        theta, S = np.linalg.eigh(0.5 * (T + T.T))
        order = np.argsort(-np.abs(theta))
        theta, S = theta[order], S[:, order]
        U = V @ S
        HU = W @ S
        scale = max(float(np.abs(theta).max()), 1e-300)
        res = np.linalg.norm(HU - U * theta, axis=0) / scale
        history.append(theta.copy())
        if np.all(res <= tol):
            break
        V, _ = np.linalg.qr(HU)
    return theta, U, np.asarray(history), it


def sharpness(
    operator: Any,
    k: int = 1,
    *,
    method: str = "lanczos",
    tol: float = 1e-8,
    maxiter: int | None = None,
    rng: Any = None,
) -> SharpnessResult:
    """The top eigenvalues of the loss Hessian (the sharpness) without forming it.

    Parameters
    ----------
    operator : HessianOperator, scipy LinearOperator or ndarray
        A symmetric (P, P) operator, typically :class:`HessianOperator`.
    k : int, default 1
        Number of eigenvalues (``k < P`` for Lanczos).
    method : {"lanczos", "power"}, default "lanczos"
        Implicitly restarted Lanczos (:func:`scipy.sparse.linalg.eigsh`, largest
        algebraic eigenvalues) or subspace (power) iteration with Rayleigh-Ritz, which
        converges to the eigenvalues of largest *magnitude*.
    tol : float, default 1e-8
        Relative residual tolerance ``|H u - λ u| <= tol |λ|`` (ARPACK's ``tol``).
    maxiter : int, optional
        Iteration limit (default: ARPACK's ``10 P`` restarts; 1000 power iterations).
    rng : int or numpy.random.Generator, optional
        Seed of the starting vector(s): same seed, same result (bit for bit on CPU).

    Returns
    -------
    SharpnessResult

    Raises
    ------
    ValidationError
        For a non-square or (as an array) non-symmetric operator, ``k`` out of range,
        or an unknown method.
    ConvergenceError
        If ARPACK fails outright (a zero operator is not a failure: its eigenvalues
        are 0).

    Warns
    -----
    ConvergenceWarning
        When the iteration stops before ``tol`` (the estimates are returned, with
        ``converged`` False).

    Notes
    -----
    Lanczos needs far fewer products than power iteration when the top eigenvalues
    are close (its error decays like :math:`e^{-2 m \\sqrt{\\mathrm{gap}}}` after m
    steps, against :math:`(\\lambda_{k+1}/\\lambda_k)^{m}`), Golub & Van Loan, Matrix
    Computations, Sec. 10.1. Each iteration costs k Hessian-vector products; memory
    O(P ncv). Power iteration returns the eigenvalues of largest magnitude, which are
    the top ones unless a negative eigenvalue dominates (then the sorted output starts
    below the true sharpness; use Lanczos).

    References
    ----------
    .. [1] R. B. Lehoucq, D. C. Sorensen, C. Yang, ARPACK Users' Guide, SIAM (1998).
       https://doi.org/10.1137/1.9780898719628
    .. [2] J. M. Cohen et al., "Gradient descent on neural networks typically occurs at
       the edge of stability", ICLR 2021. https://doi.org/10.48550/arXiv.2103.00065

    Examples
    --------
    >>> import numpy as np
    >>> res = sharpness(np.diag([1.0, 5.0, 3.0, 2.0]), k=2, rng=0)
    >>> res.eigenvalues.round(10).tolist(), bool(res.converged.all())
    ([5.0, 3.0], True)
    """
    method = check_option(method, "method", METHODS)
    tol = check_real(tol, "tol", minimum=0.0)
    lin, count = _as_operator(operator)
    P = lin.shape[0]
    kmax = P - 1 if method == "lanczos" else P
    if kmax < 1:
        raise ValidationError(f"the operator must have P >= 2 for Lanczos; got P = {P}")
    k = check_int(k, "k", minimum=1, maximum=kmax)
    gen = as_rng(rng)
    history = np.zeros((0, k))
    n_iter = 0
    if method == "lanczos":
        from scipy.sparse.linalg import ArpackError, ArpackNoConvergence, eigsh

        if maxiter is not None:
            maxiter = check_int(maxiter, "maxiter", minimum=1)
        v0 = gen.standard_normal(P)
        try:
            vals, vecs = eigsh(lin, k=k, which="LA", v0=v0, tol=tol, maxiter=maxiter)
        except ArpackNoConvergence as exc:
            vals = np.full(k, np.nan)
            vecs = np.zeros((P, k))
            m = len(exc.eigenvalues)
            if m:
                vals[:m] = exc.eigenvalues
                vecs[:, :m] = exc.eigenvectors
        except ArpackError as exc:
            # ARPACK stops at once ("starting vector is zero") when H v0 = 0 for a random
            # v0, i.e. H = 0 (a flat loss); then every eigenvalue is 0.
            if np.any(np.asarray(lin.matvec(v0))):
                raise ConvergenceError(
                    f"Lanczos (ARPACK) failed: {exc}; use method='power'"
                ) from None
            vals = np.zeros(k)
            vecs = np.linalg.qr(gen.standard_normal((P, k)))[0]
        order = np.argsort(-np.nan_to_num(vals, nan=-np.inf))
        vals, vecs = vals[order], vecs[:, order]
    else:
        maxiter = 1000 if maxiter is None else check_int(maxiter, "maxiter", minimum=1)
        vals, vecs, history, n_iter = _power(lin, P, k, max(tol, 1e-15), maxiter, gen)
        order = np.argsort(-vals)
        vals, vecs, history = vals[order], vecs[:, order], history[:, order]
    finite = np.isfinite(vals)
    HU = np.asarray(lin.matmat(vecs)) if finite.any() else np.zeros_like(vecs)
    scale = max(float(np.nanmax(np.abs(vals))) if finite.any() else 1.0, 1e-300)
    res = np.where(finite, np.linalg.norm(HU - vecs * np.nan_to_num(vals), axis=0) / scale, np.inf)
    converged = res <= max(10.0 * tol, 1e-10)
    if not converged.all():
        warnings.warn(
            f"{method} stopped before the tolerance {tol:g} for {int((~converged).sum())} "
            f"of {k} eigenvalues (largest relative residual {res.max():.3g}); raise "
            "`maxiter` or `tol`",
            ConvergenceWarning, stacklevel=2,
        )
    return SharpnessResult(
        eigenvalues=vals, eigenvectors=vecs, residuals=res, converged=converged,
        n_products=int(count()), n_iter=int(n_iter), history=history, method=method,
        tol=float(tol),
    )


@dataclass(frozen=True)
class SharpnessTrack(Result):
    """Sharpness measured along a training run.

    Attributes
    ----------
    steps : ndarray of int, shape (M,)
        Steps of the measurements.
    eigenvalues : ndarray, shape (M, k)
        Top Hessian eigenvalues of the full-data-set loss at each measured step.
    converged : ndarray of bool, shape (M, k)
        Convergence of each eigenvalue.
    loss : ndarray, shape (M,)
        Full-data-set loss at each measured step.
    lr : float
        Learning rate.
    threshold : float or None
        Stability threshold of the optimizer (2/η for GD; None for Adam).
    edge : EdgeOfStability or None
        Summary of ``eigenvalues[:, 0]`` against ``threshold`` (None without one).
    n_products : int
        Hessian-vector products used in total.
    params : dict
        ``every``, ``k``, ``method``, ``tol``, ``n_steps``, ``system``.
    """

    steps: np.ndarray
    eigenvalues: np.ndarray
    converged: np.ndarray
    loss: np.ndarray
    lr: float
    threshold: float | None
    edge: EdgeOfStability | None
    n_products: int
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def sharpness(self) -> np.ndarray:
        """The top eigenvalue at each measured step, shape (M,)."""
        return self.eigenvalues[:, 0]


def sharpness_track(
    system: Any,
    x0: Any = None,
    n_steps: int | None = None,
    *,
    along: Any = None,
    every: int = 1,
    k: int = 1,
    method: str = "lanczos",
    tol: float = 1e-8,
    maxiter: int | None = None,
    threshold: float | None = None,
    t0: int | None = None,
    rng: Any = None,
    fast: bool = False,
    progress: bool | None = None,
) -> SharpnessTrack:
    """Track the sharpness along training and compare it with the stability threshold.

    Parameters
    ----------
    system : TrainingMap or Trajectory
        A training map (its objective gives the full-data-set Hessian, its optimizer
        the threshold) or a replayable stored run.
    x0 : array-like, shape (D,)
        Initial full state of a fresh run (exclusive with ``along``).
    n_steps : int
        Steps to follow (default with ``along``: all recorded).
    along : array-like, shape (T, D) or (T, P)
        Recorded states (weights only are enough).
    every : int, default 1
        Measure at steps ``0, every, 2 every, ... <= n_steps``.
    k, method, tol, maxiter
        See :func:`sharpness`.
    threshold : float, optional
        Override the optimizer's stability threshold.
    t0 : int, optional
        Step of the first state (default: the map's ``initial_step``).
    rng : int or numpy.random.Generator, optional
        Seeds the Lanczos starting vectors (one stream for the whole track).
    fast : bool, default False
        For a stored run: use the MLP fast path.
    progress : bool, optional
        Show a progress bar.

    Returns
    -------
    SharpnessTrack

    Raises
    ------
    ValidationError
        For inconsistent arguments (several initial conditions, shapes, steps).
    NotReplayableError
        For a stored run that cannot be replayed.

    Notes
    -----
    The Hessian is that of the loss on the whole data set, also for mini-batch SGD
    (as in Cohen et al. 2021). Cost per measurement: one :func:`sharpness` call
    (tens of Hessian-vector products); a fresh run adds one gradient per step.

    Examples
    --------
    Gradient descent on least squares: the Hessian is constant, XᵀX/n, so the
    sharpness is its top eigenvalue at every step.

    >>> import numpy as np, torch
    >>> from graphtraj.dynamics import training_map
    >>> X = np.array([[1.0, 0.0], [0.0, 2.0]])
    >>> half_mse = lambda out, t: 0.5 * ((out[:, 0] - t) ** 2).mean()
    >>> tm = training_map(torch.nn.Linear(2, 1, bias=False), X, np.ones(2), loss=half_mse, lr=0.5)
    >>> tr = sharpness_track(tm, np.zeros(2), 4, every=2, method="power", rng=0)
    >>> tr.steps.tolist(), tr.sharpness.round(12).tolist(), tr.threshold
    ([0, 2, 4], [2.0, 2.0, 2.0], 4.0)
    """
    torch = _torch()
    from graphtraj.trajectory import Trajectory

    if isinstance(system, Trajectory):
        if x0 is not None or along is not None:
            raise ValidationError("`x0` and `along` must not be given with a stored run")
        from graphtraj.dynamics.replay import resolve_run

        system, x0, along, t_first, n_steps = resolve_run(system, n_steps, fast=fast)
        if t0 is None:
            t0 = t_first
    if not isinstance(system, TrainingMap):
        raise ValidationError(
            f"`system` must be a TrainingMap or a stored Trajectory; got {type(system).__name__}"
        )
    if (x0 is None) == (along is None):
        raise ValidationError("exactly one of `x0` (fresh run) and `along` (recorded states) must be given")
    D, P = system.dim, system.n_params
    if along is not None:
        arr = as_float_array(along, "along", 2)
        if arr.shape[1] not in (D, P) or arr.shape[0] < 1:
            raise ValidationError(
                f"`along` must have shape (T, {D}) (full states) or (T, {P}) (weights); got {arr.shape}"
            )
        n_steps = arr.shape[0] - 1 if n_steps is None else check_int(n_steps, "n_steps", minimum=0)
        if n_steps > arr.shape[0] - 1:
            raise ValidationError(
                f"`n_steps` must be <= {arr.shape[0] - 1} (recorded states minus one); got {n_steps}"
            )
        x = None
    else:
        arr = as_float_array(x0, "x0", (1, 2))
        if arr.shape != (D,):
            raise ValidationError(
                f"`x0` must be one full state of shape ({D},) (one initial condition); got {arr.shape}"
            )
        if n_steps is None:
            raise ValidationError("`n_steps` must be given for a fresh run from `x0`")
        n_steps = check_int(n_steps, "n_steps", minimum=0)
        x = torch.as_tensor(arr)[None]
    every = check_int(every, "every", minimum=1)
    t0 = check_int(getattr(system, "initial_step", 0) if t0 is None else t0, "t0", minimum=0)
    avail = system.max_steps(t0)
    if x is not None and avail is not None and n_steps > avail:
        raise ValidationError(
            f"`n_steps` must be <= {avail} (steps with recorded batches from t0 = {t0}); got {n_steps}"
        )
    gen = as_rng(rng)
    steps, vals, conv, losses = [], [], [], []
    n_products = 0
    for j in progress_bar(range(n_steps + 1), total=n_steps + 1, desc="sharpness", progress=progress):
        if j % every == 0:
            w = arr[j, :P] if x is None else x[0, :P].numpy()
            op = HessianOperator(system.objective, params=w)
            res = sharpness(op, k, method=method, tol=tol, maxiter=maxiter, rng=gen)
            steps.append(t0 + j)
            vals.append(res.eigenvalues)
            conv.append(res.converged)
            losses.append(op.loss())
            n_products += res.n_products
        if x is not None and j < n_steps:
            with torch.no_grad():
                x = system._step(x, t0 + j)
            if not bool(torch.isfinite(x).all()):
                raise ValidationError(
                    f"the run diverged (non-finite state) at step {t0 + j}; track fewer steps"
                )
    steps_a = np.asarray(steps, dtype=np.int64)
    eig = np.asarray(vals)
    thr = system.stability_threshold() if threshold is None else check_real(
        threshold, "threshold", minimum=0.0, strict_min=True)
    edge = None
    if thr is not None and np.all(np.isfinite(eig[:, 0])):
        edge = edge_of_stability(eig[:, 0], system.rule.lr, steps=steps_a, threshold=thr)
    return SharpnessTrack(
        steps=steps_a,
        eigenvalues=eig,
        converged=np.asarray(conv),
        loss=np.asarray(losses),
        lr=float(system.rule.lr),
        threshold=None if thr is None else float(thr),
        edge=edge,
        n_products=int(n_products),
        params={"every": every, "k": int(k), "method": method, "tol": tol,
                "n_steps": int(n_steps), "system": system.describe()},
    )
