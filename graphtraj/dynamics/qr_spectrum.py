"""Lyapunov spectra of step maps by the Benettin/QR algorithm.

k tangent vectors are pushed through the tangent map of a :class:`StepMap` and
re-orthonormalized by a QR decomposition every ``qr_every`` steps; the logarithms of the
diagonal of R accumulate into the k largest Lyapunov exponents (Benettin et al. 1980;
Shimada & Nagashima 1979). Everything is batched over R initial conditions and runs in
float64.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from graphtraj._checks import as_float_array, as_rng, check_int, check_real
from graphtraj._progress import progress_bar
from graphtraj._result import Result
from graphtraj.dynamics.objectives import _torch
from graphtraj.dynamics.step_maps import StepMap
from graphtraj.exceptions import (
    ConvergenceError,
    UndefinedResultWarning,
    UnreliableResultWarning,
    ValidationError,
)

__all__ = ["LyapunovSpectrum", "lyapunov_spectrum"]


@dataclass(frozen=True)
class LyapunovSpectrum(Result):
    """The k largest Lyapunov exponents of a map, for R initial conditions.

    Exponents are per step (per unit of time when ``dt`` was given), in decreasing
    order of the QR columns (the order converges to the sorted spectrum).

    Attributes
    ----------
    exponents : ndarray, shape (R, k)
        Final estimates: the sum of log stretchings over the measured steps divided by
        their number. NaN for diverged replicas; -inf for directions that collapsed
        exactly (a singular Jacobian).
    running : ndarray, shape (R, M, k)
        Running estimates after each of the M measured re-orthonormalizations.
    local_rates : ndarray, shape (R, M, k)
        Local expansion rate of each QR interval: ``log |R_jj| / interval`` (per step
        when ``qr_every = 1``).
    qr_steps : ndarray of int, shape (M,)
        Step at the end of each measured QR interval.
    finite_time : ndarray, shape (R, W, k)
        Finite-time exponents over consecutive non-overlapping windows of ``window``
        steps after the transient.
    window_starts : ndarray of int, shape (W,)
        First step of each window.
    window : int
        Window length in steps.
    stderr : ndarray, shape (R, k)
        Standard error of the exponents from the spread of the window exponents,
        ``std(finite_time) / sqrt(W)`` (NaN when W < 2).
    drift : ndarray, shape (R, k)
        Largest change of the running estimate over the second half of the
        measurement, ``max |running - exponents|``: small when converged.
    max_condition : ndarray, shape (R,)
        Largest ratio ``max |R_jj| / min |R_jj|`` met at a re-orthonormalization (the
        conditioning check, see :func:`lyapunov_spectrum`).
    diverged_at : ndarray of int, shape (R,)
        Step at which the state became non-finite, -1 if never.
    replay_error : ndarray, shape (R,), or None
        Along a recorded trajectory: the largest relative deviation
        ``|F(x_t) - x_{t+1}|_inf / |x_{t+1}|_inf`` of the map from the record.
    params : dict
        ``k``, ``qr_every``, ``transient``, ``n_steps``, ``t0``, ``dt``, ``system``.
    """

    exponents: np.ndarray
    running: np.ndarray
    local_rates: np.ndarray
    qr_steps: np.ndarray
    finite_time: np.ndarray
    window_starts: np.ndarray
    window: int
    stderr: np.ndarray
    drift: np.ndarray
    max_condition: np.ndarray
    diverged_at: np.ndarray
    replay_error: np.ndarray | None = None
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def n_replicas(self) -> int:
        """Number of initial conditions R."""
        return int(self.exponents.shape[0])

    @property
    def k(self) -> int:
        """Number of exponents k."""
        return int(self.exponents.shape[1])

    @property
    def max_exponent(self) -> np.ndarray:
        """The maximal exponent of each initial condition, shape (R,)."""
        return self.exponents[:, 0]

    @property
    def mean(self) -> np.ndarray:
        """Mean spectrum over the non-diverged initial conditions, shape (k,)."""
        ok = self.diverged_at < 0
        if not ok.any():
            return np.full(self.k, np.nan)
        return self.exponents[ok].mean(axis=0)

    def finite_time_exponents(self, start: int, stop: int) -> np.ndarray:
        """Exponents (R, k) over the steps ``start <= step < stop``.

        Uses the QR intervals that lie entirely inside the range.

        Raises
        ------
        ValidationError
            If no measured QR interval lies inside the range.
        """
        ends = self.qr_steps
        lengths = np.diff(np.concatenate([[self.params["t0"] + self.params["transient"]], ends]))
        begins = ends - lengths
        inside = (begins >= start) & (ends <= stop)
        if not inside.any():
            raise ValidationError(
                f"`start`, `stop` must enclose at least one measured QR interval (steps "
                f"{int(begins[0]) if begins.size else 0} to "
                f"{int(ends[-1]) if ends.size else 0}); got [{start}, {stop})"
            )
        dt = self.params.get("dt") or 1.0
        logs = self.local_rates[:, inside] * lengths[inside][None, :, None] * dt
        return logs.sum(axis=1) / (lengths[inside].sum() * dt)


def _qr(V: Any) -> tuple[Any, Any]:
    """Orthonormalize the k rows of each V[r] (R, k, D): Q (R, k, D) and |diag R| (R, k).

    LAPACK Householder QR through numpy's stacked ``qr`` (much faster than torch's
    batched QR on CPU); k = 1 is a normalization.
    """
    torch = _torch()
    if V.shape[1] == 1:  # a normalization, scaled so that |v| beyond 1e±154 does not overflow
        s = V.abs().amax(dim=2, keepdim=True)
        s = torch.where(s > 0, s, torch.ones_like(s))
        d = torch.linalg.vector_norm(V / s, dim=2) * s[:, :, 0]
        return V / d.clamp_min(1e-300)[:, :, None], d
    Qn, Rn = np.linalg.qr(V.transpose(1, 2).numpy())
    d = np.abs(np.diagonal(Rn, axis1=1, axis2=2))
    return torch.from_numpy(np.ascontiguousarray(Qn.transpose(0, 2, 1))).to(V.dtype), torch.from_numpy(d.copy())


def _finite_rows(T: Any) -> Any:
    """Whether every entry of each T[r] is finite, shape (R,).

    Two reductions (max and min propagate NaN; ±inf survive them) instead of an
    elementwise boolean tensor: much cheaper for the (R, k, D) tangent vectors.
    """
    torch = _torch()
    flat = T.reshape(T.shape[0], -1)
    if flat.shape[1] == 0:
        return torch.ones(T.shape[0], dtype=torch.bool)
    return torch.isfinite(flat.amax(dim=1)) & torch.isfinite(flat.amin(dim=1))


def _physical_memory() -> float | None:
    """Bytes of physical memory of this machine, or None where unknown."""
    import os

    try:
        return float(os.sysconf("SC_PAGE_SIZE")) * float(os.sysconf("SC_PHYS_PAGES"))
    except (AttributeError, ValueError, OSError):
        return None


def _check_tangent_memory(R: int, k: int, D: int) -> None:
    """Refuse up front a run whose tangent vectors cannot fit in memory.

    The loop holds about four (R, k, D) float64 arrays at once (the vectors, their
    images, the QR factor and numpy's copy).
    """
    need = 4.0 * 8 * R * k * D
    have = _physical_memory()
    if have is not None and need > have:
        raise ValidationError(
            f"`k` must be small enough for {R} x k x {D} tangent vectors to fit in memory: "
            f"k = {k} needs about {need / 2**30:.3g} GiB, this machine has "
            f"{have / 2**30:.3g} GiB. Use a smaller `k` (top-k exponents) or fewer initial "
            "conditions per call."
        )


def _tangent0(tangent0: Any, R: int, D: int, k: int, rng: Any) -> Any:
    torch = _torch()
    if tangent0 is None:
        G = torch.as_tensor(as_rng(rng).standard_normal((R, D, k)))
    else:
        G = torch.as_tensor(as_float_array(tangent0, "tangent0", (2, 3)))
        if G.ndim == 2:
            G = G[None].expand(R, -1, -1)
        if tuple(G.shape) != (R, D, k):
            raise ValidationError(
                f"`tangent0` must have shape ({D}, {k}) or ({R}, {D}, {k}); got {tuple(G.shape)}"
            )
    Q, d = _qr(G.transpose(1, 2))  # rows of Q: the orthonormalized columns of G
    scale = G.abs().amax(dim=(1, 2)).clamp_min(1e-300)
    if bool((d <= 1e-12 * scale[:, None]).any()):
        raise ValidationError(
            "`tangent0` must have linearly independent, nonzero columns; got a zero or "
            "dependent column (its stretching would be log 0)"
        )
    return Q


def lyapunov_spectrum(
    system: Any,
    x0: Any = None,
    n_steps: int | None = None,
    *,
    k: int | str = 1,
    along: Any = None,
    qr_every: int = 1,
    transient: int = 0,
    window: int | None = None,
    t0: int | None = None,
    tangent0: Any = None,
    rng: Any = None,
    dt: float | None = None,
    max_condition: float = 1e8,
    fast: bool = False,
    progress: bool | None = None,
) -> LyapunovSpectrum:
    """Lyapunov exponents of a step map by Benettin/QR re-orthonormalization.

    Pushes k orthonormal tangent vectors per initial condition through the exact
    tangent map and re-orthonormalizes them every ``qr_every`` steps; the k largest
    exponents are the averages of ``log |R_jj|``. For a training map this measures
    the stretching of infinitesimal perturbations of the full training state directly,
    without choosing a perturbation size.

    Parameters
    ----------
    system : StepMap or Trajectory
        A :class:`~graphtraj.dynamics.TrainingMap`, a
        :class:`~graphtraj.dynamics.DifferentiableMap`, or a replayable stored run
        (its map is rebuilt by :func:`~graphtraj.dynamics.training_map_from_run`; the
        exponents are then computed along the recorded states when every step was
        recorded and the optimizer is stateless, else along a fresh run from the first
        record).
    x0 : array-like, shape (D,) or (R, D)
        Initial states of a fresh run (exclusive with ``along``).
    n_steps : int
        Number of steps (default with ``along``: all recorded steps).
    k : int or "all", default 1
        Number of exponents (1: the maximal exponent; "all": D, the full spectrum).
    along : array-like, shape (T, D) or (R, T, D)
        Recorded states: step t is linearized at ``along[:, t]`` (the recorded
        trajectory, not a recomputed one).
    qr_every : int, default 1
        Steps between re-orthonormalizations.
    transient : int, default 0
        Steps whose stretching is discarded while the vectors align (a multiple of
        ``qr_every``).
    window : int, optional
        Length of the finite-time windows (a multiple of ``qr_every``; default about a
        tenth of the measured steps).
    t0 : int, optional
        Time of the first step (default: the map's ``initial_step``, else 0).
    tangent0 : array-like, shape (D, k) or (R, D, k), optional
        Initial tangent vectors (default: random Gaussian from ``rng``), orthonormalized.
    rng : int or numpy.random.Generator, optional
        Seed for the initial tangent vectors.
    dt : float, optional
        Time per step: exponents are divided by it.
    max_condition : float, default 1e8
        Conditioning check with ``qr_every > 1``: warn when ``max |R_jj| / min |R_jj|``
        at a re-orthonormalization exceeds this.
    fast : bool, default False
        For a stored run: use the MLP fast path.
    progress : bool, optional
        Show a progress bar.

    Returns
    -------
    LyapunovSpectrum

    Raises
    ------
    ValidationError
        For inconsistent arguments (shapes, both or neither of ``x0``/``along``,
        ``k`` > D, ``n_steps`` beyond the record or the recorded batches, dependent
        ``tangent0``).
    NotReplayableError
        For a stored run that cannot be replayed.
    ConvergenceError
        If tangent vectors become non-finite while the state stays finite: they
        overflowed between re-orthonormalizations (reduce ``qr_every``) or the map is
        not differentiable there (Adam with a second moment of exactly 0).

    Warns
    -----
    UnreliableResultWarning
        When the conditioning check fails (``qr_every > 1``), or along a record that
        the map does not reproduce (relative deviation > 1e-6).
    UndefinedResultWarning
        When a replica diverges (its exponents are NaN), when a direction collapses
        exactly (``|R_jj| = 0``: the exponent is -inf, masked, never NaN: field case C21),
        or when fewer than two windows exist (stderr NaN).

    Notes
    -----
    With :math:`V_{t+q} = DF_{t+q-1} \\cdots DF_t\\, Q_t = Q_{t+q} R_{t+q}` the
    estimate after n steps is :math:`\\lambda_j = \\frac1n \\sum \\ln |(R)_{jj}|`
    (Benettin et al. 1980, Eq. 20; Geist, Parlitz & Lauterborn 1990, Sec. 3).
    Re-orthonormalizing every q steps saves QR decompositions but the columns of
    :math:`V` align with the leading direction at rate :math:`e^{-(\\lambda_1 -
    \\lambda_k) q}`; the smallest exponents lose accuracy once
    :math:`\\max|R_{jj}|/\\min|R_{jj}|` approaches 1/u (u: unit roundoff), hence the
    check. Cost per step: k tangent-map products (one Hessian-vector product each for
    a training map) and, at re-orthonormalizations, a QR of a (D, k) matrix per
    initial condition, :math:`O(D k^2)`. Memory :math:`O(R D k + R M k)`.
    For gradient descent on :math:`\\tfrac12 w^\\top A w` the exponents are exactly
    :math:`\\ln|1 - \\eta a_i|`.

    References
    ----------
    .. [1] G. Benettin, L. Galgani, A. Giorgilli, J.-M. Strelcyn, "Lyapunov
       characteristic exponents for smooth dynamical systems and for Hamiltonian
       systems; a method for computing all of them", Meccanica 15, 9-20 (1980).
       https://doi.org/10.1007/BF02128236
    .. [2] K. Geist, U. Parlitz, W. Lauterborn, "Comparison of different methods for
       computing Lyapunov exponents", Prog. Theor. Phys. 83, 875-893 (1990).
       https://doi.org/10.1143/PTP.83.875

    Examples
    --------
    Gradient descent on the quadratic loss 0.5 * (w1² + 4 w2²) with η = 0.1: the
    tangent map is diag(0.9, 0.6), so the exponents are ln 0.9 and ln 0.6.

    >>> import math, torch
    >>> from graphtraj.dynamics import DifferentiableMap
    >>> a = torch.tensor([1.0, 4.0], dtype=torch.float64)
    >>> gd = DifferentiableMap(lambda w: w - 0.1 * a * w, 2)
    >>> res = lyapunov_spectrum(gd, [1.0, 1.0], 150, k="all", transient=100, rng=0)
    >>> bool(abs(res.exponents[0, 0] - math.log(0.9)) < 1e-12)
    True
    >>> bool(abs(res.exponents[0, 1] - math.log(0.6)) < 1e-12)
    True
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
    if not isinstance(system, StepMap):
        raise ValidationError(
            f"`system` must be a StepMap (training_map(...), DifferentiableMap(...)) or a "
            f"stored Trajectory; got {type(system).__name__}"
            + (" (pick one replica of the ensemble: ens.replica(0), the reference network "
               "of a perturbation ensemble)" if type(system).__name__ == "Ensemble" else "")
        )
    D = system.dim
    if (x0 is None) == (along is None):
        raise ValidationError("exactly one of `x0` (fresh run) and `along` (recorded states) must be given")
    if along is not None:
        arr = as_float_array(along, "along", (2, 3))
        arr = arr[None] if arr.ndim == 2 else arr
        if arr.shape[2] != D or arr.shape[1] < 2:
            raise ValidationError(
                f"`along` must have shape (T, {D}) or (R, T, {D}) with T >= 2; got {arr.shape}"
            )
        along_t = torch.as_tensor(arr, dtype=system.dtype)
        R = arr.shape[0]
        max_n = arr.shape[1] - 1
        if n_steps is None:
            n_steps = max_n
        x = along_t[:, 0]
    else:
        arr = as_float_array(x0, "x0", (1, 2))
        arr = arr[None] if arr.ndim == 1 else arr
        if arr.shape[1] != D:
            raise ValidationError(f"`x0` must have shape ({D},) or (R, {D}); got {arr.shape}")
        R = arr.shape[0]
        max_n = None
        along_t = None
        x = torch.as_tensor(arr, dtype=system.dtype)
        if n_steps is None:
            raise ValidationError("`n_steps` must be given for a fresh run from `x0`")
    n_steps = check_int(n_steps, "n_steps", minimum=1)
    if max_n is not None and n_steps > max_n:
        raise ValidationError(
            f"`n_steps` must be <= {max_n} (the recorded states in `along` minus one); got {n_steps}"
        )
    t0 = check_int(getattr(system, "initial_step", 0) if t0 is None else t0, "t0", minimum=0)
    avail = system.max_steps(t0)
    if avail is not None and n_steps > avail:
        raise ValidationError(
            f"`n_steps` must be <= {avail} (steps with recorded batches from t0 = {t0}); got {n_steps}"
        )
    k = D if k == "all" else check_int(k, "k", minimum=1, maximum=D)
    _check_tangent_memory(R, k, D)
    qr_every = check_int(qr_every, "qr_every", minimum=1)
    transient = check_int(transient, "transient", minimum=0)
    if transient % qr_every:
        raise ValidationError(
            f"`transient` must be a multiple of `qr_every` ({qr_every}); got {transient}"
        )
    measured = n_steps - transient
    if measured < 1:
        raise ValidationError(
            f"`n_steps` must exceed `transient` ({transient}) so that some steps are "
            f"measured; got {n_steps}"
        )
    if window is None:
        window = max(qr_every, (measured // 10) // qr_every * qr_every)
    window = check_int(window, "window", minimum=1, maximum=max(measured, qr_every))
    if window % qr_every:
        raise ValidationError(f"`window` must be a multiple of `qr_every` ({qr_every}); got {window}")
    scale = 1.0 if dt is None else check_real(dt, "dt", minimum=0.0, strict_min=True)
    max_condition = check_real(max_condition, "max_condition", minimum=1.0)
    Q = _tangent0(tangent0, R, D, k, rng).to(system.dtype)

    n_qr = -(-measured // qr_every)
    logs = torch.full((n_qr, R, k), float("nan"), dtype=torch.float64)
    lengths = np.zeros(n_qr, dtype=np.int64)
    qr_steps = np.zeros(n_qr, dtype=np.int64)
    diverged = np.full(R, -1, dtype=np.int64)
    cond_max = np.zeros(R)
    replay_err = np.zeros(R) if along_t is not None else None
    since = 0
    m = 0
    for j in progress_bar(range(n_steps), total=n_steps, desc="tangent map", progress=progress):
        t = t0 + j
        base = along_t[:, j] if along_t is not None else x
        x_next, V = system._step_tangent(base, Q, t)
        since += 1
        bad_x = ~_finite_rows(x_next)
        bad_v = ~_finite_rows(V) & ~bad_x
        if bool(bad_v.any()):
            r = int(torch.nonzero(bad_v)[0, 0])
            hint = (
                f"they overflowed in {since} steps without re-orthonormalization: reduce "
                f"`qr_every` (now {qr_every})" if qr_every > 1 else
                "the map is not differentiable at that state (e.g. Adam with a second "
                "moment of exactly 0)"
            )
            raise ConvergenceError(
                f"tangent vectors of initial condition {r} became non-finite at step {t} "
                f"while the state stayed finite: {hint}"
            )
        newly = bad_x.numpy() & (diverged < 0)
        diverged[newly] = t
        frozen = torch.as_tensor(diverged >= 0)
        if bool(frozen.any()):
            x_next = torch.where(frozen[:, None], base, x_next)
            V = torch.where(frozen[:, None, None], Q, V)
        if along_t is not None:
            nxt = along_t[:, j + 1]
            dev = (x_next - nxt).abs().amax(dim=1) / nxt.abs().amax(dim=1).clamp_min(1e-300)
            dev = torch.where(frozen, torch.zeros_like(dev), dev).numpy()
            np.maximum(replay_err, dev, out=replay_err)
        if since == qr_every or j == n_steps - 1:
            Qn, d = _qr(V)
            ratio = (d.amax(dim=1) / d.amin(dim=1)).numpy()
            ratio[diverged >= 0] = 0.0
            np.maximum(cond_max, ratio, out=cond_max)
            if j + 1 > transient:
                lg = torch.log(d.to(torch.float64))
                lg[frozen] = float("nan")
                logs[m] = lg
                lengths[m] = since
                qr_steps[m] = t + 1
                m += 1
            Q = Qn
            if bool(frozen.any()):
                Q = torch.where(frozen[:, None, None], V, Q)
            since = 0
        else:
            Q = V
        x = x_next

    logs_np = logs.numpy().transpose(1, 0, 2)  # (R, M, k)
    with np.errstate(invalid="ignore"):
        local = logs_np / lengths[None, :, None] / scale
        running = np.cumsum(logs_np, axis=1) / np.cumsum(lengths)[None, :, None] / scale
    exponents = running[:, -1].copy()
    if np.isneginf(exponents).any():
        warnings.warn(
            "a tangent direction collapsed to exactly zero (|R_jj| = 0: the Jacobian is "
            "singular there); its exponent is -inf (masked, not NaN)",
            UndefinedResultWarning, stacklevel=2,
        )
    if (diverged >= 0).any():
        warnings.warn(
            f"{int((diverged >= 0).sum())} of {R} initial conditions diverged (non-finite "
            "state); their exponents are NaN (see `diverged_at`)",
            UndefinedResultWarning, stacklevel=2,
        )
    if qr_every > 1 and np.any(cond_max > max_condition):
        warnings.warn(
            f"the tangent vectors were ill-conditioned at re-orthonormalization "
            f"(max |R_jj| / min |R_jj| = {cond_max.max():.3g} > {max_condition:.3g}); the "
            f"smallest exponents are unreliable. Reduce `qr_every` (now {qr_every}).",
            UnreliableResultWarning, stacklevel=2,
        )
    if replay_err is not None and np.any(replay_err > 1e-6):
        warnings.warn(
            f"the map does not reproduce the recorded states (largest relative deviation "
            f"{replay_err.max():.3g}); check the learning rate, data and batches",
            UnreliableResultWarning, stacklevel=2,
        )
    # finite-time windows
    ends = np.cumsum(lengths)
    n_win = measured // window
    idx = (ends - 1) // window
    fin = np.empty((R, n_win, k))
    for w in range(n_win):
        sel = idx == w
        fin[:, w] = logs_np[:, sel].sum(axis=1) / (window * scale)
    starts = t0 + transient + window * np.arange(n_win)
    if n_win >= 2:
        with np.errstate(invalid="ignore"):
            stderr = np.std(fin, axis=1, ddof=1) / np.sqrt(n_win)
    else:
        warnings.warn(
            f"fewer than two windows of {window} steps fit in the {measured} measured steps; "
            "`stderr` is NaN. Use a smaller `window` or more steps.",
            UndefinedResultWarning, stacklevel=2,
        )
        stderr = np.full((R, k), np.nan)
    half = running[:, running.shape[1] // 2 :]
    same = half == exponents[:, None]
    with np.errstate(invalid="ignore"):
        drift = np.where(same, 0.0, np.abs(half - exponents[:, None])).max(axis=1)
    return LyapunovSpectrum(
        exponents=exponents,
        running=running,
        local_rates=local,
        qr_steps=qr_steps,
        finite_time=fin,
        window_starts=starts.astype(np.int64),
        window=int(window),
        stderr=stderr,
        drift=drift,
        max_condition=cond_max,
        diverged_at=diverged,
        replay_error=replay_err,
        params={
            "k": int(k), "qr_every": qr_every, "transient": transient, "n_steps": n_steps,
            "t0": t0, "dt": dt, "system": system.describe(),
        },
    )
