"""Synthetic dynamical systems with known answers, for testing and calibration.

Each function returns an orbit as a float64 array with time on axis 0: the logistic
and tent maps (largest Lyapunov exponent ln 2 and ln mu), the Hénon map
(lambda_1 ~ 0.419, lambda_1 + lambda_2 = ln b), the Lorenz flow (lambda_1 ~ 0.906 per
unit time) and gradient descent on a quadratic loss (exponents ``ln abs(1 - lr a_i)`` exactly).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from graphtraj._checks import as_float_array, check_int, check_real
from graphtraj.exceptions import UnreliableResultWarning, ValidationError

__all__ = ["logistic_map", "tent_map", "henon_map", "lorenz", "quadratic_gd"]


def _point(x0: Any, dim: int, name: str) -> tuple[float, ...]:
    arr = as_float_array(x0, name, 1)
    if arr.shape != (dim,):
        raise ValidationError(f"`{name}` must have {dim} coordinates; got shape {arr.shape}")
    return tuple(float(v) for v in arr)


def logistic_map(n: int, *, r: float = 4.0, x0: float = 0.3, transient: int = 100) -> np.ndarray:
    """Orbit of the logistic map x -> r x (1 - x).

    Parameters
    ----------
    n : int
        Number of values returned (>= 1).
    r : float, default 4.0
        Growth parameter, in (0, 4] so that [0, 1] maps into itself.
    x0 : float, default 0.3
        Initial value, in [0, 1].
    transient : int, default 100
        Iterations discarded before the first returned value (>= 0).

    Returns
    -------
    ndarray of float64, shape (n,)
        ``x[transient], ..., x[transient + n - 1]`` where ``x[0] = x0`` and
        ``x[k+1] = r x[k] (1 - x[k])``.

    Raises
    ------
    ValidationError
        If an argument is out of range.

    Notes
    -----
    At r = 4 the map is conjugate to the tent map and its Lyapunov exponent is
    ln 2 (May 1976). In floating point the orbit is a pseudo-orbit shadowing a true
    one. O(n + transient) time, one Python loop.

    References
    ----------
    .. [1] R. M. May, "Simple mathematical models with very complicated dynamics",
       Nature 261, 459-467 (1976). https://doi.org/10.1038/261459a0

    Examples
    --------
    >>> logistic_map(4, transient=0).tolist()       # 0.3, 4*0.3*0.7, ...
    [0.3, 0.84, 0.5376, 0.99434496]
    >>> x = logistic_map(1000)
    >>> bool(x.min() >= 0.0 and x.max() <= 1.0)
    True
    """
    n = check_int(n, "n", minimum=1)
    r = check_real(r, "r", minimum=0.0, maximum=4.0, strict_min=True)
    x = check_real(x0, "x0", minimum=0.0, maximum=1.0)
    transient = check_int(transient, "transient", minimum=0)
    out = np.empty(n, dtype=np.float64)
    for _ in range(transient):
        x = r * x * (1.0 - x)
    for k in range(n):
        out[k] = x
        x = r * x * (1.0 - x)
    return out


def tent_map(n: int, *, mu: float = 1.99, x0: float = 0.3, transient: int = 100) -> np.ndarray:
    """Orbit of the tent map x -> mu min(x, 1 - x).

    Parameters
    ----------
    n : int
        Number of values returned (>= 1).
    mu : float, default 1.99
        Slope, in (0, 2]. The default is just below 2 on purpose (see Notes).
    x0 : float, default 0.3
        Initial value, in [0, 1].
    transient : int, default 100
        Iterations discarded before the first returned value (>= 0).

    Returns
    -------
    ndarray of float64, shape (n,)
        ``x[transient], ..., x[transient + n - 1]`` with ``x[0] = x0``.

    Raises
    ------
    ValidationError
        If an argument is out of range.

    Warns
    -----
    UnreliableResultWarning
        If the computed orbit reaches an exact fixed point (it then stays there).

    Notes
    -----
    For 1 < mu <= 2 the map is chaotic with Lyapunov exponent ln mu, since
    the slope has absolute value mu everywhere; its attractor is the band [mu (1 - mu/2), mu/2].
    At mu = 2 *exactly*, binary floating point fails: every float is a dyadic
    rational, each step shifts one bit out of the mantissa, and every orbit collapses
    onto the fixed point 0 after about 55 steps. Use mu slightly below 2 (the default
    1.99, exponent ln 1.99 = 0.688) when a chaotic series is wanted. O(n + transient).

    References
    ----------
    .. [1] E. Ott, *Chaos in Dynamical Systems*, 2nd ed., Cambridge University Press
       (2002), sec. 2.3. https://doi.org/10.1017/CBO9780511803260

    Examples
    --------
    >>> tent_map(3, mu=1.5, x0=0.2, transient=0).tolist()   # 0.2, 0.3, 0.45
    [0.2, 0.30000000000000004, 0.45000000000000007]
    >>> x = tent_map(2000)
    >>> bool(x.min() >= 1.99 * (1 - 1.99 / 2) - 1e-12 and x.max() <= 1.99 / 2)
    True
    """
    n = check_int(n, "n", minimum=1)
    mu = check_real(mu, "mu", minimum=0.0, maximum=2.0, strict_min=True)
    x = check_real(x0, "x0", minimum=0.0, maximum=1.0)
    transient = check_int(transient, "transient", minimum=0)
    out = np.empty(n, dtype=np.float64)
    for _ in range(transient):
        x = mu * min(x, 1.0 - x)
    for k in range(n):
        out[k] = x
        x = mu * min(x, 1.0 - x)
    if n > 1 and out[-1] == out[-2]:
        warnings.warn(
            f"the tent-map orbit reached the exact fixed point {float(out[-1])!r} and stays there "
            f"(mu={mu!r}); at mu = 2 floating-point orbits collapse to 0 after ~55 steps. "
            "Use mu slightly below 2 (e.g. 1.99) for a chaotic series.",
            UnreliableResultWarning,
            stacklevel=2,
        )
    return out


def henon_map(
    n: int,
    *,
    a: float = 1.4,
    b: float = 0.3,
    x0: Sequence[float] = (0.0, 0.0),
    transient: int = 100,
) -> np.ndarray:
    """Orbit of the Hénon map (x, y) -> (1 - a x² + y, b x).

    Parameters
    ----------
    n : int
        Number of points returned (>= 1).
    a, b : float, default 1.4 and 0.3
        Parameters (finite). The classic values give the Hénon attractor.
    x0 : sequence of 2 floats, default (0, 0)
        Initial point.
    transient : int, default 100
        Iterations discarded before the first returned point (>= 0).

    Returns
    -------
    ndarray of float64, shape (n, 2)
        Columns x and y.

    Raises
    ------
    ValidationError
        If an argument is out of range, or the orbit escapes to infinity (``abs(x)``
        exceeds 1e100): ``x0`` is outside the basin of attraction for these parameters.

    Notes
    -----
    The Jacobian determinant is -b, so ``lambda_1 + lambda_2 = ln abs(b)`` (= ln 0.3 at the
    classic values, where lambda_1 ~ 0.419). The fixed points are
    x* = (-(1 - b) ± sqrt((1 - b)² + 4a)) / (2a), y* = b x* (Hénon 1976, eq. 2).
    O(n + transient).

    References
    ----------
    .. [1] M. Hénon, "A two-dimensional mapping with a strange attractor",
       Commun. Math. Phys. 50, 69-77 (1976). https://doi.org/10.1007/BF01608556

    Examples
    --------
    >>> henon_map(3, transient=0).tolist()       # (0,0) -> (1,0) -> (-0.4,0.3)
    [[0.0, 0.0], [1.0, 0.0], [-0.3999999999999999, 0.3]]
    >>> henon_map(1000).shape
    (1000, 2)
    """
    n = check_int(n, "n", minimum=1)
    a = check_real(a, "a")
    b = check_real(b, "b")
    x, y = _point(x0, 2, "x0")
    transient = check_int(transient, "transient", minimum=0)
    out = np.empty((n, 2), dtype=np.float64)
    for k in range(transient + n):
        if k >= transient:
            out[k - transient] = (x, y)
        if abs(x) > 1e100:
            raise ValidationError(
                f"`x0` must lie in the basin of attraction of the Hénon map for a={a}, "
                f"b={b}; got {tuple(_point(x0, 2, 'x0'))}, whose orbit escapes to infinity "
                f"after {k} steps. Start near the attractor, e.g. x0=(0, 0)."
            )
        x, y = 1.0 - a * x * x + y, b * x
    return out


def _lorenz_rhs(s: tuple[float, float, float], sigma: float, rho: float, beta: float) -> tuple[float, float, float]:
    x, y, z = s
    return sigma * (y - x), x * (rho - z) - y, x * y - beta * z


def lorenz(
    n: int,
    *,
    dt: float = 0.01,
    sigma: float = 10.0,
    rho: float = 28.0,
    beta: float = 8.0 / 3.0,
    x0: Sequence[float] = (1.0, 1.0, 1.0),
    transient: int = 1000,
) -> np.ndarray:
    """Orbit of the Lorenz system, integrated by classical fourth-order Runge-Kutta.

    dx/dt = sigma (y - x), dy/dt = x (rho - z) - y, dz/dt = x y - beta z.

    Parameters
    ----------
    n : int
        Number of samples returned (>= 1), ``dt`` apart.
    dt : float, default 0.01
        Time step of the integrator and between samples (> 0).
    sigma, rho, beta : float, default 10, 28, 8/3
        Parameters (finite). The defaults give the Lorenz attractor.
    x0 : sequence of 3 floats, default (1, 1, 1)
        Initial state.
    transient : int, default 1000
        Steps integrated and discarded before the first sample (>= 0).

    Returns
    -------
    ndarray of float64, shape (n, 3)
        x, y, z at times ``(transient + k) * dt``, k = 0 .. n-1.

    Raises
    ------
    ValidationError
        If an argument is out of range, or the integration becomes non-finite (``dt``
        too large for RK4 at these parameters).

    Notes
    -----
    One RK4 step: k1 = f(s), k2 = f(s + dt k1/2), k3 = f(s + dt k2/2),
    k4 = f(s + dt k3), s' = s + dt (k1 + 2 k2 + 2 k3 + k4)/6 (Hairer, Nørsett &
    Wanner 1993, sec. II.1, eq. 1.8); the global error is O(dt⁴). At the classic
    parameters lambda_1 ~ 0.906 per unit time, i.e. 0.00906 per sample at dt = 0.01.
    O(n + transient) time.

    References
    ----------
    .. [1] E. N. Lorenz, "Deterministic nonperiodic flow", J. Atmos. Sci. 20,
       130-141 (1963). https://doi.org/10.1175/1520-0469(1963)020<0130:DNF>2.0.CO;2
    .. [2] E. Hairer, S. P. Nørsett, G. Wanner, *Solving Ordinary Differential
       Equations I*, 2nd ed., Springer (1993). https://doi.org/10.1007/978-3-540-78862-1

    Examples
    --------
    >>> s = lorenz(2, transient=0, x0=(0.0, 0.0, 0.0))  # the origin is a fixed point
    >>> s.tolist()
    [[0.0, 0.0, 0.0], [0.0, 0.0, 0.0]]
    >>> lorenz(500).shape
    (500, 3)
    """
    n = check_int(n, "n", minimum=1)
    dt = check_real(dt, "dt", minimum=0.0, strict_min=True)
    sigma = check_real(sigma, "sigma")
    rho = check_real(rho, "rho")
    beta = check_real(beta, "beta")
    s = _point(x0, 3, "x0")
    transient = check_int(transient, "transient", minimum=0)
    out = np.empty((n, 3), dtype=np.float64)
    h2, h6 = dt / 2.0, dt / 6.0
    for k in range(transient + n):
        if k >= transient:
            out[k - transient] = s
        x, y, z = s
        k1 = _lorenz_rhs(s, sigma, rho, beta)
        k2 = _lorenz_rhs((x + h2 * k1[0], y + h2 * k1[1], z + h2 * k1[2]), sigma, rho, beta)
        k3 = _lorenz_rhs((x + h2 * k2[0], y + h2 * k2[1], z + h2 * k2[2]), sigma, rho, beta)
        k4 = _lorenz_rhs((x + dt * k3[0], y + dt * k3[1], z + dt * k3[2]), sigma, rho, beta)
        s = tuple(
            si + h6 * (a1 + 2.0 * a2 + 2.0 * a3 + a4)
            for si, a1, a2, a3, a4 in zip(s, k1, k2, k3, k4, strict=True)
        )
        if not all(math.isfinite(v) for v in s):
            raise ValidationError(
                f"`dt` must be small enough for a stable RK4 integration; got dt={dt}, and "
                f"the state became non-finite after {k + 1} steps (from x0={_point(x0, 3, 'x0')}, "
                f"sigma={sigma}, rho={rho}, beta={beta}). Use a smaller `dt`, or a start "
                "and parameters of moderate size."
            )
    return out


def quadratic_gd(A: Any, w0: Any, lr: float, n_steps: int) -> np.ndarray:
    """Gradient descent on the quadratic loss L(w) = ½ wᵀ A w.

    Parameters
    ----------
    A : array-like, shape (d, d)
        Symmetric matrix (the Hessian of the loss); finite.
    w0 : array-like, shape (d,)
        Initial parameters; finite.
    lr : float
        Learning rate (> 0).
    n_steps : int
        Number of steps (>= 0).

    Returns
    -------
    ndarray of float64, shape (n_steps + 1, d)
        ``w[0] = w0`` and ``w[t+1] = w[t] - lr A w[t]``.

    Raises
    ------
    ValidationError
        If ``A`` is not square and symmetric (to 1e-12 relative), shapes disagree,
        ``lr <= 0`` or ``n_steps < 0``.
    NonFiniteInputError
        If ``A`` or ``w0`` has NaN or inf.

    Notes
    -----
    The gradient is A w, so w[t] = (I - lr A)^t w0 exactly in exact arithmetic. The
    tangent map of every step is I - lr A, hence the Lyapunov exponents of the
    training map are ``ln abs(1 - lr a_i)`` for the eigenvalues a_i of A, and GD diverges
    along any direction with lr a_i > 2 — the classic stability threshold lr < 2/a_max
    (Cohen et al. 2021). Values may overflow to inf for divergent settings (no error).
    O(n_steps d²).

    References
    ----------
    .. [1] J. M. Cohen, S. Kaur, Y. Li, J. Z. Kolter, A. Talwalkar, "Gradient
       descent on neural networks typically occurs at the edge of stability",
       ICLR (2021). https://doi.org/10.48550/arXiv.2103.00065

    Examples
    --------
    >>> w = quadratic_gd(np.diag([2.0, 1.0]), [1.0, 1.0], lr=0.25, n_steps=3)
    >>> w.tolist()          # factors 1 - 0.25*2 = 0.5 and 1 - 0.25*1 = 0.75
    [[1.0, 1.0], [0.5, 0.75], [0.25, 0.5625], [0.125, 0.421875]]
    """
    A = as_float_array(A, "A", 2)
    d = A.shape[0]
    if A.shape != (d, d):
        raise ValidationError(f"`A` must be a square matrix; got shape {A.shape}")
    scale = float(np.max(np.abs(A))) if A.size else 0.0
    if not np.all(np.abs(A - A.T) <= 1e-12 * scale):
        raise ValidationError(
            "`A` must be symmetric (it is the Hessian of ½ wᵀ A w); got a matrix with "
            f"max |A - Aᵀ| = {float(np.max(np.abs(A - A.T))):.3g}. Pass (A + A.T) / 2."
        )
    w = as_float_array(w0, "w0", 1)
    if w.shape != (d,):
        raise ValidationError(f"`w0` must have shape ({d},) to match `A`; got {w.shape}")
    lr = check_real(lr, "lr", minimum=0.0, strict_min=True)
    n_steps = check_int(n_steps, "n_steps", minimum=0)
    out = np.empty((n_steps + 1, d), dtype=np.float64)
    out[0] = w
    with np.errstate(over="ignore", invalid="ignore"):
        for t in range(n_steps):
            w = w - lr * (A @ w)
            out[t + 1] = w
    return out
