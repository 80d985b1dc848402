"""Stochastic Lanczos quadrature: the spectral density of the loss Hessian."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from graphtraj._checks import as_float_array, as_rng, check_int, check_option, check_real
from graphtraj._progress import progress_bar
from graphtraj._result import Result
from graphtraj.dynamics.curvature import _as_operator
from graphtraj.exceptions import ValidationError

__all__ = [
    "LanczosQuadrature", "lanczos_quadrature", "SpectralDensity", "spectral_density", "PROBES",
]

#: Random probe vectors of :func:`spectral_density`.
PROBES = ("rademacher", "gaussian")
_BREAKDOWN = 1e-12  # relative size of beta at which the Krylov space is invariant
_CHUNK = 2**20  # kernel evaluations per block in spectral_density (8 MiB)


@dataclass(frozen=True)
class LanczosQuadrature(Result):
    """Gauss quadrature of the spectral measure seen from one probe vector.

    ``sum_i weights[i] f(nodes[i]) ≈ vᵀ f(H) v / vᵀv``, exact for polynomials of
    degree up to ``2 m - 1`` (m = ``n_steps``).

    Attributes
    ----------
    nodes : ndarray, shape (m,)
        Ritz values (eigenvalues of the Lanczos tridiagonal matrix), increasing.
    weights : ndarray, shape (m,)
        Squared first components of its eigenvectors; they sum to 1.
    alpha, beta : ndarray, shapes (m,), (m - 1,)
        Diagonal and off-diagonal of the tridiagonal matrix.
    n_steps : int
        Lanczos steps taken (fewer than asked when the Krylov space became invariant).
    """

    nodes: np.ndarray
    weights: np.ndarray
    alpha: np.ndarray
    beta: np.ndarray
    n_steps: int

    def moment(self, j: int) -> float:
        """``sum_i w_i θ_i^j`` (= vᵀ H^j v / vᵀv for j <= 2 m - 1)."""
        j = check_int(j, "j", minimum=0)
        return float(np.sum(self.weights * self.nodes**j))


def lanczos_quadrature(
    operator: Any, probe: Any, n_steps: int = 30, *, reorthogonalize: bool = True
) -> LanczosQuadrature:
    """Lanczos tridiagonalization from one probe vector, as a quadrature rule.

    Parameters
    ----------
    operator : HessianOperator, scipy LinearOperator or ndarray
        Symmetric (P, P) operator.
    probe : array-like, shape (P,)
        Starting vector (nonzero; normalized internally).
    n_steps : int, default 30
        Lanczos steps m (at most P).
    reorthogonalize : bool, default True
        Full re-orthogonalization against all previous Lanczos vectors (twice), which
        keeps the nodes free of spurious copies; costs O(P m²) and O(P m) memory.

    Returns
    -------
    LanczosQuadrature

    Raises
    ------
    ValidationError
        For a zero or non-finite probe, a shape mismatch, ``n_steps > P``, or a
        Lanczos basis that does not fit in memory.
    NonFiniteInputError
        For an operator with non-finite entries or a non-finite product H v.

    Notes
    -----
    With :math:`T_m = S \\Theta S^\\top` the tridiagonal matrix of m Lanczos steps
    from :math:`q_1 = v/|v|`, the Gauss rule has nodes :math:`\\theta_i` and weights
    :math:`(S_{1i})^2`, and :math:`e_1^\\top T_m^j e_1 = q_1^\\top H^j q_1` for
    :math:`j \\le 2m - 1` (Golub & Meurant 1994; Ubaru, Chen & Saad 2017, Sec. 2).
    Cost: m Hessian-vector products; memory O(P m) with re-orthogonalization, O(P)
    without. The products are scaled by a power of two taken from the first one
    (exact in floating point), so operators of any magnitude (e.g. 1e200) work.

    References
    ----------
    .. [1] S. Ubaru, J. Chen, Y. Saad, "Fast estimation of tr(f(A)) via stochastic
       Lanczos quadrature", SIAM J. Matrix Anal. Appl. 38, 1075-1099 (2017).
       https://doi.org/10.1137/16M1104974

    Examples
    --------
    >>> import numpy as np
    >>> q = lanczos_quadrature(np.diag([1.0, 2.0, 3.0]), np.ones(3), 3)
    >>> q.nodes.round(12).tolist(), q.weights.round(12).tolist()
    ([1.0, 2.0, 3.0], [0.333333333333, 0.333333333333, 0.333333333333])
    """
    lin, _ = _as_operator(operator)
    P = lin.shape[0]
    v = as_float_array(probe, "probe", 1)
    if v.shape != (P,):
        raise ValidationError(f"`probe` must have shape ({P},); got {v.shape}")
    if not np.any(v):
        raise ValidationError("`probe` must be nonzero; got the zero vector")
    n_steps = _check_steps(n_steps, P)
    return _lanczos(lin, v, n_steps, bool(reorthogonalize))


def _check_steps(n_steps: Any, P: int) -> int:
    n_steps = check_int(n_steps, "n_steps", minimum=1)
    if n_steps > P:
        raise ValidationError(
            f"`n_steps` must be <= P = {P} (the operator dimension: after P steps the "
            f"Krylov space is the whole space and the quadrature is exact); got {n_steps}"
        )
    return n_steps


def _lanczos(lin: Any, v: np.ndarray, n_steps: int, reorthogonalize: bool) -> LanczosQuadrature:
    """The Lanczos kernel (validated input; ``lin`` checks its products are finite)."""
    from scipy.linalg import eigh_tridiagonal

    P = v.size
    peak = float(np.abs(v).max())
    q = (v / peak) / np.linalg.norm(v / peak)  # no overflow for huge probes
    Q = None
    if reorthogonalize:
        try:
            Q = np.empty((P, n_steps))
        except MemoryError:
            raise ValidationError(
                f"`n_steps` must be small enough for the ({P}, {n_steps}) float64 Lanczos "
                f"basis ({P * n_steps * 8 / 2**30:.3g} GiB) to fit in memory; got {n_steps}. "
                "30-100 steps are typical for SLQ, or pass reorthogonalize=False (memory O(P))."
            ) from None
    alpha, beta = [], []
    q_prev = np.zeros(P)
    b_prev = 0.0
    c = 0.0  # power-of-two scale of H (from the first product): exact, and no overflow
    for j in range(n_steps):
        if Q is not None:
            Q[:, j] = q
        w = np.asarray(lin.matmat(q[:, None]))[:, 0]
        if c == 0.0:
            top = float(np.abs(w).max())
            c = float(np.ldexp(1.0, int(np.frexp(top)[1]))) if top > 0 else 1.0
        w = w / c - b_prev * q_prev
        a = float(q @ w)
        w = w - a * q
        if Q is not None:
            for _ in range(2):
                w = w - Q[:, : j + 1] @ (Q[:, : j + 1].T @ w)
        alpha.append(a)
        if j == n_steps - 1:
            break
        b = float(np.linalg.norm(w))
        if b <= _BREAKDOWN * max(abs(a), b_prev, 1e-300):
            break
        beta.append(b)
        q_prev, q, b_prev = q, w / b, b
    al, be = np.asarray(alpha), np.asarray(beta)
    if al.size == 1:
        nodes, vecs = al.copy(), np.ones((1, 1))
    else:
        nodes, vecs = eigh_tridiagonal(al, be)
    weights = vecs[0] ** 2
    return LanczosQuadrature(nodes=nodes * c, weights=weights, alpha=al * c, beta=be * c,
                             n_steps=int(al.size))


@dataclass(frozen=True)
class SpectralDensity(Result):
    """Estimated eigenvalue density of a symmetric operator (normalized to 1).

    Attributes
    ----------
    grid : ndarray, shape (G,)
        Evaluation points.
    density : ndarray, shape (G,)
        Gaussian-smoothed density on ``grid``; integrates to about 1.
    nodes : ndarray, shape (n_probes, m)
        Quadrature nodes of each probe (short rules are padded with their last node
        and weight 0).
    weights : ndarray, shape (n_probes, m)
        Quadrature weights (each row sums to 1).
    sigma : float
        Width of the Gaussian kernel.
    n_params : int
        Dimension P.
    params : dict
        ``n_probes``, ``n_steps``, ``probe``.
    """

    grid: np.ndarray
    density: np.ndarray
    nodes: np.ndarray
    weights: np.ndarray
    sigma: float
    n_params: int
    params: dict

    def moment(self, j: int) -> float:
        """Estimate of ``tr(H^j) / P`` (mean over probes of the quadrature)."""
        j = check_int(j, "j", minimum=0)
        return float(np.mean(np.sum(self.weights * self.nodes**j, axis=1)))

    def trace(self) -> float:
        """Estimate of ``tr(H)``."""
        return self.n_params * self.moment(1)


def spectral_density(
    operator: Any,
    *,
    n_probes: int = 10,
    n_steps: int = 30,
    probe: str = "rademacher",
    rng: Any = None,
    sigma: float | None = None,
    grid: Any = None,
    n_grid: int = 512,
    progress: bool | None = None,
) -> SpectralDensity:
    """Eigenvalue density of the loss Hessian by stochastic Lanczos quadrature.

    Averages the Gauss quadrature rules of :func:`lanczos_quadrature` over random
    probe vectors and smooths the nodes with a Gaussian kernel (Ghorbani, Krishnan &
    Xiao 2019), showing the bulk near 0 and the outliers of the spectrum without
    forming the Hessian.

    Parameters
    ----------
    operator : HessianOperator, scipy LinearOperator or ndarray
        Symmetric (P, P) operator.
    n_probes : int, default 10
        Random probe vectors.
    n_steps : int, default 30
        Lanczos steps per probe (<= P).
    probe : {"rademacher", "gaussian"}, default "rademacher"
        Entries ±1 with equal probability, or standard normal.
    rng : int or numpy.random.Generator, optional
        Seed of the probes.
    sigma : float, optional
        Kernel width (default: 1/100 of the range of the nodes, or 1e-3 for a point
        spectrum).
    grid : array-like, shape (G,), optional
        Evaluation points (default: ``n_grid`` points covering the nodes ± 5 sigma).
    n_grid : int, default 512
        Number of default grid points.
    progress : bool, optional
        Show a progress bar over probes.

    Returns
    -------
    SpectralDensity

    Raises
    ------
    ValidationError
        For invalid arguments (``n_steps`` must be <= P: more Lanczos steps than the
        dimension add nothing).
    NonFiniteInputError
        For an operator with non-finite entries or a non-finite product H v.

    Notes
    -----
    :math:`\\phi(t) = \\frac{1}{n_v}\\sum_{l}\\sum_i w^{(l)}_i\\,
    g_\\sigma(t - \\theta^{(l)}_i)` (Ghorbani et al. 2019, Eq. 4-6): an unbiased
    estimate of the smoothed spectral density for Rademacher or Gaussian probes. Cost
    ``n_probes * n_steps`` Hessian-vector products; the kernel sum is accumulated in
    blocks, so memory is O(P m + n_probes m + G) whatever the number of probes.

    References
    ----------
    .. [1] B. Ghorbani, S. Krishnan, Y. Xiao, "An investigation into neural net
       optimization via Hessian eigenvalue density", ICML 2019.
       https://doi.org/10.48550/arXiv.1901.10159
    .. [2] S. Ubaru, J. Chen, Y. Saad, SIAM J. Matrix Anal. Appl. 38, 1075-1099 (2017).
       https://doi.org/10.1137/16M1104974

    Examples
    --------
    The trace of diag(1, ..., 100) from 20 Rademacher probes (each probe's quadrature
    reproduces vᵀHv/vᵀv = mean eigenvalue exactly for a diagonal operator):

    >>> import numpy as np
    >>> sd = spectral_density(np.diag(np.arange(1.0, 101.0)), n_probes=4, n_steps=20, rng=0)
    >>> round(sd.trace(), 6)
    5050.0
    """
    lin, _ = _as_operator(operator)
    P = lin.shape[0]
    n_probes = check_int(n_probes, "n_probes", minimum=1)
    n_steps = _check_steps(n_steps, P)
    probe = check_option(probe, "probe", PROBES)
    n_grid = check_int(n_grid, "n_grid", minimum=2)
    if sigma is not None:
        sigma = check_real(sigma, "sigma", minimum=0.0, strict_min=True)
    if grid is not None:
        grid = as_float_array(grid, "grid", 1)
    gen = as_rng(rng)
    nodes = np.zeros((n_probes, n_steps))
    weights = np.zeros((n_probes, n_steps))
    for p in progress_bar(range(n_probes), total=n_probes, desc="SLQ", progress=progress):
        if probe == "rademacher":
            v = gen.integers(0, 2, P) * 2.0 - 1.0
        else:
            v = gen.standard_normal(P)
        q = _lanczos(lin, v, n_steps, True)
        m = q.n_steps
        nodes[p, :m] = q.nodes
        nodes[p, m:] = q.nodes[-1]
        weights[p, :m] = q.weights
    lo, hi = float(nodes.min()), float(nodes.max())
    if sigma is None:
        sigma = (hi - lo) / 100.0 if hi > lo else 1e-3 * max(abs(hi), 1.0)
    if grid is None:
        grid = np.linspace(lo - 5 * sigma, hi + 5 * sigma, n_grid)
    # Sum the kernels over all (probe, node) pairs in chunks: memory O(G chunk), not
    # O(G n_probes m); the zero-weight padding of short rules is skipped.
    used = weights > 0
    th, wt = nodes[used], weights[used]
    density = np.zeros(grid.size)
    chunk = max(1, _CHUNK // grid.size)
    for i in range(0, th.size, chunk):
        z = (grid[:, None] - th[None, i : i + chunk]) / sigma
        density += np.exp(-0.5 * z * z) @ wt[i : i + chunk]
    density /= n_probes * sigma * np.sqrt(2 * np.pi)
    return SpectralDensity(
        grid=grid, density=density, nodes=nodes, weights=weights, sigma=float(sigma),
        n_params=int(P), params={"n_probes": n_probes, "n_steps": n_steps, "probe": probe},
    )
