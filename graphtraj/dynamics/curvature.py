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
from graphtraj.exceptions import (
    ConvergenceError,
    ConvergenceWarning,
    NonFiniteInputError,
    UndefinedResultWarning,
    ValidationError,
)

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
        ``|H u_i - λ_i u_i| / max_j |λ_j|`` (for shifted power iteration the divisor
        is at least the shift, an estimate of ``|H|``).
    converged : ndarray of bool, shape (k,)
        ``residuals <= max(10 tol, 1e-10)``.
    n_products : int
        Hessian-vector products used.
    n_iter : int
        Iterations (power method; 0 for Lanczos, which reports ``n_products``).
    history : ndarray, shape (n_iter, k)
        Ritz values of H at each power iteration, decreasing in each row (empty for
        Lanczos).
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
    """Wrap an operator to count its products and check that they are finite."""

    def __init__(self, op: Any, count: Any = None) -> None:
        from scipy.sparse.linalg import aslinearoperator

        self.lin = aslinearoperator(op)
        self.shape = self.lin.shape
        self.count = 0
        self._outer = count

    def matmat(self, V: np.ndarray) -> np.ndarray:
        self.count += V.shape[1]
        W = np.asarray(self.lin.matmat(V), dtype=np.float64)
        if not np.isfinite(W).all():
            raise NonFiniteInputError(
                "`operator` must give finite products H v; got a non-finite product "
                "(NaN parameters, or an operator so large that H v overflows). Check the "
                "state the Hessian was built at, or rescale the operator."
            )
        return W

    def n_products(self) -> int:
        return self.count if self._outer is None else int(self._outer())

    def scipy(self) -> Any:
        from scipy.sparse.linalg import LinearOperator

        return LinearOperator(self.shape, matvec=lambda v: self.matmat(v.reshape(-1, 1))[:, 0],
                              matmat=self.matmat, rmatvec=lambda v: self.matmat(v.reshape(-1, 1))[:, 0],
                              dtype=np.float64)


def _check_symmetric(asym: float, peak: float) -> None:
    if asym > 1e-6 * peak:
        raise ValidationError(
            f"`operator` must be symmetric (a Hessian); got max |A - A.T| = "
            f"{asym:.3g} against max |A| = {peak:.3g}. "
            "Pass (A + A.T) / 2 if the asymmetry is rounding error."
        )


def _check_square(shape: Any, operator: Any) -> None:
    if shape is None or len(shape) != 2 or shape[0] != shape[1]:
        raise ValidationError(f"`operator` must be square (P, P); got {_describe(operator)}")


def _as_operator(operator: Any) -> tuple[Any, Any]:
    """(LinearOperator, count()) for every accepted kind of operator.

    Accepted: HessianOperator; scipy LinearOperator (or any object with ``shape`` and
    ``matvec``); scipy sparse matrix or array; dense numpy array or torch tensor. The
    returned operator raises NonFiniteInputError on a non-finite product.
    """
    import sys

    import scipy.sparse as sparse
    from scipy.sparse.linalg import LinearOperator

    if isinstance(operator, HessianOperator):
        start = operator.n_products
        wrapped = _Counted(operator.to_scipy(), lambda: operator.n_products - start)
        return wrapped.scipy(), wrapped.n_products
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(operator, torch.Tensor):
        t = operator.detach()
        if t.layout != torch.strided:
            t = t.to_dense()
        if t.is_complex():
            raise ValidationError(f"`operator` must be real; got a tensor of dtype {t.dtype}")
        _check_square(tuple(t.shape), f"a tensor of shape {tuple(t.shape)}")
        operator = t.cpu().to(torch.float64).numpy()
    if sparse.issparse(operator):
        _check_square(operator.shape, f"a sparse matrix of shape {operator.shape}")
        if operator.dtype.kind not in "biuf":
            raise ValidationError(f"`operator` must be real; got a sparse matrix of dtype {operator.dtype}")
        A = sparse.csr_array(operator, dtype=np.float64)
        if not np.isfinite(A.data).all():
            raise NonFiniteInputError("`operator` must contain only finite values; got NaN or inf entries")
        peak = float(abs(A).max()) if A.nnz else 0.0
        diff = A - A.T
        _check_symmetric(float(abs(diff).max()) if diff.nnz else 0.0, peak)
        wrapped = _Counted(A)
        return wrapped.scipy(), wrapped.n_products
    if isinstance(operator, LinearOperator) or (
        hasattr(operator, "matvec") and hasattr(operator, "shape")
    ):
        _check_square(getattr(operator, "shape", None), operator)
        try:
            wrapped = _Counted(operator)
        except (TypeError, ValueError) as exc:
            raise ValidationError(
                f"`operator` must be usable as a scipy LinearOperator; got {_describe(operator)} ({exc})"
            ) from None
        return wrapped.scipy(), wrapped.n_products
    if isinstance(operator, np.ndarray) or hasattr(operator, "__array__"):
        arr = np.asarray(operator)
        _check_square(arr.shape, arr)
        arr = as_float_array(arr, "operator", 2)
        _check_symmetric(float(np.abs(arr - arr.T).max()), float(np.abs(arr).max()))
        wrapped = _Counted(arr)
        return wrapped.scipy(), wrapped.n_products
    raise ValidationError(
        "`operator` must be a HessianOperator, a scipy LinearOperator or sparse matrix, or "
        f"a symmetric numpy array or torch tensor; got {_describe(operator)}. Convert other "
        "array types with numpy.asarray."
    )


def _power(op: Any, P: int, k: int, tol: float, maxiter: int, gen: np.random.Generator,
           shift: float = 0.0):
    """Subspace iteration on ``op + shift I``; returns Ritz values of ``op`` itself."""
    V, _ = np.linalg.qr(gen.standard_normal((P, k)))
    history = []
    theta = np.zeros(k)
    U = V
    it = 0
    for it in range(1, maxiter + 1):  # noqa: B007 (the count is returned)
        W = np.asarray(op.matmat(V))
        if shift:
            W = W + shift * V
        T = V.T @ W
        theta, S = np.linalg.eigh(0.5 * (T + T.T))
        order = np.argsort(-np.abs(theta))
        theta, S = theta[order], S[:, order]
        U = V @ S
        HU = W @ S
        # Divide before subtracting and taking norms: no overflow or underflow for
        # operators of any scale (1e200 or 1e-200).
        scale = max(float(np.abs(theta - shift).max()), shift, 1e-300)
        res = np.linalg.norm(HU / scale - U * (theta / scale), axis=0)
        history.append(theta - shift)
        if np.all(res <= tol):
            break
        V, _ = np.linalg.qr(HU)
    return theta - shift, U, np.asarray(history), it


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
    operator : HessianOperator, LinearOperator, sparse matrix, ndarray or torch.Tensor
        A symmetric (P, P) operator, typically :class:`HessianOperator`; scipy sparse
        matrices and dense numpy arrays or torch tensors are converted (and checked
        for symmetry and finiteness).
    k : int, default 1
        Number of eigenvalues (``k < P`` for Lanczos).
    method : {"lanczos", "power"}, default "lanczos"
        Implicitly restarted Lanczos (:func:`scipy.sparse.linalg.eigsh`, largest
        algebraic eigenvalues) or subspace (power) iteration with Rayleigh-Ritz, shifted
        when needed so that it also returns the largest algebraic eigenvalues (Notes).
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
        For an operator of another type, a non-square or (as an array) non-symmetric
        operator, ``k`` out of range, or an unknown method.
    NonFiniteInputError
        For an operator with non-finite entries or a non-finite product H v (a
        Hessian at NaN weights, or one whose products overflow); checked before any
        LAPACK/ARPACK call sees them.
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
    O(P ncv). Power iteration converges to the eigenvalues of largest magnitude. When
    one of those is negative (it then need not be among the top ones), the iteration
    is rerun on :math:`H + sI` with :math:`s = \\max|\\lambda|` from the first run
    (so :math:`H + sI \\succeq 0`, whose largest-magnitude eigenvalues are the top
    ones), with a fresh ``maxiter``; ``n_iter`` and ``history`` cover both runs. The
    returned eigenvalues are Rayleigh quotients of H itself. Shifting slows
    convergence (ratio :math:`(\\lambda_{k+1}+s)/(\\lambda_k+s)`), and the residual
    is then measured relative to s; Lanczos is cheaper for indefinite operators. A
    power run that stops unconverged with only nonnegative Ritz values is not
    shifted (the ConvergenceWarning flags it).

    Residuals are computed after dividing by the eigenvalue scale, so operators of
    any magnitude (1e-200 or 1e200) converge the same way.

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
    norm_est = 0.0
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
        ptol = max(tol, 1e-15)
        vals, vecs, history, n_iter = _power(lin, P, k, ptol, maxiter, gen)
        peak = float(np.abs(vals).max())
        if vals.min() < -max(10.0 * tol, 1e-10) * peak:
            # A negative eigenvalue dominates: the largest-magnitude ones need not be the
            # top ones. On H + s I with s = |λ|max >= -λmin the spectrum is >= 0, so the
            # largest-magnitude eigenvalues are the top algebraic ones.
            norm_est = peak
            vals, vecs, more, extra = _power(lin, P, k, ptol, maxiter, gen, shift=norm_est)
            history = np.concatenate([history, more])
            n_iter += extra
        history = -np.sort(-history, axis=1)
    finite = np.isfinite(vals)
    HU = np.asarray(lin.matmat(vecs)) if finite.any() else np.zeros_like(vecs)
    if method == "power":
        # Rayleigh-Ritz with H itself (undoes the rounding of a shift), sorted decreasing.
        T = vecs.T @ HU
        vals, S = np.linalg.eigh(0.5 * (T + T.T))
        S = S[:, ::-1]
        vals, vecs, HU = vals[::-1], vecs @ S, HU @ S
        finite = np.isfinite(vals)
    # Divide before subtracting and taking norms, so that the relative residual neither
    # overflows (operators ~1e200) nor underflows (~1e-200).
    scale = max(float(np.nanmax(np.abs(vals))) if finite.any() else 1.0, norm_est, 1e-300)
    res = np.where(
        finite,
        np.linalg.norm(HU / scale - vecs * (np.nan_to_num(vals) / scale), axis=0),
        np.inf,
    )
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
        Top Hessian eigenvalues of the full-data-set loss at each measured step; NaN
        where they are undefined (a non-finite state after the run diverged, or
        non-finite Hessian-vector products).
    converged : ndarray of bool, shape (M, k)
        Convergence of each eigenvalue (False where NaN).
    loss : ndarray, shape (M,)
        Full-data-set loss at each measured step (NaN at a non-finite state).
    lr : float
        Learning rate.
    threshold : float or None
        Stability threshold of the optimizer (2/η for GD; None for Adam).
    edge : EdgeOfStability or None
        Summary of the finite entries of ``eigenvalues[:, 0]`` against ``threshold``
        (NaN measurements are left out; None without a threshold or without any
        finite measurement).
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
        Recorded states (weights only are enough); non-finite states (a diverged
        run) give NaN sharpness.
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

    Warns
    -----
    UndefinedResultWarning
        When the run diverges (a non-finite state) or the Hessian-vector products
        overflow: the step is named, and the sharpness and ``converged`` are NaN and
        False there and at the later steps where it stays undefined. A fresh run is
        not stepped past a non-finite state.
    ConvergenceWarning
        As :func:`sharpness`.

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
        arr = as_float_array(along, "along", 2, finite=False)  # NaN states: NaN sharpness
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
    undefined = None  # first step whose sharpness is NaN (diverged run), and why
    for j in progress_bar(range(n_steps + 1), total=n_steps + 1, desc="sharpness", progress=progress):
        if j % every == 0:
            w = arr[j, :P] if x is None else x[0, :P].numpy()
            res, loss = None, np.nan
            if np.isfinite(w).all():
                op = HessianOperator(system.objective, params=w)
                try:
                    res = sharpness(op, k, method=method, tol=tol, maxiter=maxiter, rng=gen)
                except NonFiniteInputError:  # finite weights, but H v overflows
                    if undefined is None:
                        undefined = (t0 + j, "the Hessian-vector products are non-finite")
                n_products += op.n_products
                loss = op.loss()
            elif undefined is None:
                undefined = (t0 + j, "the state is non-finite (the run diverged)")
            steps.append(t0 + j)
            vals.append(np.full(k, np.nan) if res is None else res.eigenvalues)
            conv.append(np.zeros(k, dtype=bool) if res is None else res.converged)
            losses.append(loss)
        if x is not None and j < n_steps and bool(torch.isfinite(x).all()):
            with torch.no_grad():
                x = system._step(x, t0 + j)  # a diverged state is not stepped further
    if undefined is not None:
        warnings.warn(
            f"the sharpness is undefined from step {undefined[0]} on, where {undefined[1]}; "
            "NaN is returned there (and the edge-of-stability summary uses the finite "
            "measurements only). Lower the learning rate to keep the run finite.",
            UndefinedResultWarning, stacklevel=2,
        )
    steps_a = np.asarray(steps, dtype=np.int64)
    eig = np.asarray(vals)
    thr = system.stability_threshold() if threshold is None else check_real(
        threshold, "threshold", minimum=0.0, strict_min=True)
    edge = None
    ok = np.isfinite(eig[:, 0])
    if thr is not None and ok.any():
        edge = edge_of_stability(eig[ok, 0], system.rule.lr, steps=steps_a[ok], threshold=thr)
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
