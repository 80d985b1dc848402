"""nolds' scaling measures behind graphtraj's validation, errors and result objects.

nolds (Schölzel) is a declared dependency and the cross-check of graphtraj's own
estimators. These wrappers call it with graphtraj's conventions:

* always the deterministic least-squares fit (``fit="poly"``): nolds' default RANSAC
  draws from numpy's global generator, and silently becomes a least-squares fit when
  scikit-learn is missing — results would depend on what else is installed;
* validation up front: non-finite input, too-short series (the error states the
  minimum and how it was computed), invalid parameters;
* one result type, :class:`ScalingResult`, with the fitted points and line.

Where nolds is wrong or needs O(N²) memory graphtraj has its own estimator and keeps
nolds as the comparison: :func:`~graphtraj.timeseries.lyapunov_rosenstein`
(``convention="nolds"`` reproduces ``nolds.lyap_r``),
:func:`~graphtraj.timeseries.correlation_dimension` (nolds 0.6.2 counts self-pairs)
and :func:`~graphtraj.timeseries.sample_entropy` (exact counts exposed).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from graphtraj._checks import as_series, check_int, check_real, require_length
from graphtraj._result import Result
from graphtraj.exceptions import (
    UndefinedResultWarning,
    UnreliableResultWarning,
    ValidationError,
)
from graphtraj.timeseries._scaling import least_squares
from graphtraj.timeseries.min_length import _rule_dfa, _rule_eckmann, _rule_hurst_rs

__all__ = ["ScalingResult", "EckmannResult", "hurst_rs", "dfa", "lyapunov_eckmann"]


def import_nolds() -> Any:
    """Import nolds, silencing its ``pkg_resources`` deprecation warning."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        warnings.simplefilter("ignore", DeprecationWarning)
        import nolds
    return nolds


@dataclass(frozen=True)
class ScalingResult(Result):
    """A scaling exponent: the slope of a least-squares line in log-log coordinates.

    Attributes
    ----------
    value : float
        The measure (slope, or slope + 0.5 for the corrected Hurst exponent); NaN
        when undefined.
    slope, intercept : float
        The fitted line ``log_y ≈ slope * log_x + intercept``.
    r2 : float
        Coefficient of determination of the fit, in [0, 1]; NaN when ``log_y`` is
        constant up to round-off (R² = 0/0; the slope is then 0) or fewer than two
        points were fitted.
    log_x, log_y : ndarray
        The fitted points (natural logarithms).
    method : str
        ``"correlation_dimension"``, ``"hurst_rs"`` or ``"dfa"``.
    params : dict
        Parameters used.
    """

    value: float
    slope: float
    intercept: float
    r2: float
    log_x: np.ndarray
    log_y: np.ndarray
    method: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class EckmannResult(Result):
    """Lyapunov spectrum estimate of Eckmann et al. (via nolds.lyap_e).

    Attributes
    ----------
    exponents : ndarray, shape (matrix_dim,)
        Exponents per sample (per time unit with ``dt``), as nolds orders them.
    params : dict
        Parameters used, including the step ``m = (emb_dim - 1) / (matrix_dim - 1)``.
    """

    exponents: np.ndarray
    params: dict[str, Any] = field(default_factory=dict)


def _warn_if_flat(r2: float, slope: float, what: str, curve: str) -> None:
    """Warn that R² is NaN because the fitted log curve is constant (finite slope)."""
    if np.isnan(r2) and np.isfinite(slope):
        warnings.warn(
            f"{what}: {curve} is the same at every n (up to round-off), so the R² of the "
            "fit is undefined (NaN) and the slope is 0; the series has too few distinct "
            "values or a rigid pattern. Try other `nvals`.",
            UndefinedResultWarning, stacklevel=3,
        )


def _check_nvals(nvals: Any, n: int, minimum: int) -> list[int] | None:
    if nvals is None:
        return None
    try:
        vals = [int(v) for v in nvals]
    except (TypeError, ValueError):
        raise ValidationError(f"`nvals` must be a sequence of integers; got {nvals!r}") from None
    if len(set(vals)) < 2:
        raise ValidationError(f"`nvals` must hold at least 2 distinct lengths; got {vals}")
    if min(vals) < minimum:
        raise ValidationError(f"`nvals` must be >= {minimum}; got min {min(vals)}")
    return vals


def _run_quiet(fn: Any, *args: Any, **kwargs: Any) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return fn(*args, **kwargs)


def hurst_rs(
    series: Any,
    *,
    nvals: Sequence[int] | None = None,
    corrected: bool = True,
    unbiased: bool = True,
) -> ScalingResult:
    """Hurst exponent by rescaled-range (R/S) analysis (nolds.hurst_rs, least squares).

    Parameters
    ----------
    series : array_like, shape (T,)
        Scalar series.
    nvals : sequence of int, optional
        Subseries lengths (>= 2, at least two distinct); default nolds' 15
        logarithmically spaced lengths in the middle of ``[1, T]``.
    corrected : bool, default True
        Subtract the Anis-Lloyd-Peters expectation for white noise and add 0.5.
    unbiased : bool, default True
        Standard deviation with ``ddof=1``.

    Returns
    -------
    ScalingResult
        ``value`` = Hurst exponent K (0.5 for uncorrelated noise); ``log_x = ln n``,
        ``log_y = ln (R/S)_n`` (corrected when ``corrected``).

    Raises
    ------
    InsufficientDataError
        If ``T`` is below :func:`min_length_hurst_rs` (10 with default ``nvals``,
        ``max(nvals)`` otherwise).
    NonFiniteInputError
        If the series has NaN or inf.
    ValidationError
        For invalid ``nvals``.

    Warns
    -----
    UndefinedResultWarning
        All ranges are zero (constant series): NaN. Or ln (R/S)_n is the same at
        every n: ``r2`` is NaN and ``slope`` 0.

    Notes
    -----
    Hurst (1951); Anis & Lloyd (1976), doi:10.1093/biomet/63.1.111; Peters (1994).
    Always ``fit="poly"`` (deterministic). O(T · len(nvals)).

    Examples
    --------
    >>> import numpy as np
    >>> res = hurst_rs(np.random.default_rng(0).normal(size=4000))
    >>> bool(abs(res.value - 0.5) < 0.1)
    True
    """
    x = as_series(series)
    vals = _check_nvals(nvals, x.size, 2)
    n_min, how = _rule_hurst_rs(vals)
    require_length(x.size, n_min, "series", how)
    nolds = import_nolds()
    h, (lx, ly, poly) = _run_quiet(
        nolds.hurst_rs, x, nvals=vals, fit="poly", debug_data=True,
        corrected=bool(corrected), unbiased=bool(unbiased),
    )
    lx, ly = np.asarray(lx, dtype=np.float64), np.asarray(ly, dtype=np.float64)
    if corrected and lx.size:
        # nolds returns the uncorrected ln (R/S)_n; the fit used the corrected values
        ly = ly - np.log([nolds.measures.expected_rs(int(round(n))) for n in np.exp(lx)])
    slope, intercept, r2 = least_squares(lx, ly)
    if not np.isfinite(h):
        warnings.warn("hurst_rs: every (R/S)_n is undefined (zero ranges, constant series); "
                      "the exponent is NaN", UndefinedResultWarning, stacklevel=2)
    else:
        _warn_if_flat(r2, slope, "hurst_rs", "ln (R/S)_n")
    return ScalingResult(float(h), slope, intercept, r2, lx, ly, "hurst_rs",
                         {"nvals": vals, "corrected": bool(corrected), "unbiased": bool(unbiased)})


def dfa(
    series: Any,
    *,
    nvals: Sequence[int] | None = None,
    overlap: bool = True,
    order: int = 1,
) -> ScalingResult:
    """Detrended fluctuation analysis exponent α (nolds.dfa, least squares).

    Parameters
    ----------
    series : array_like, shape (T,)
        Scalar series.
    nvals : sequence of int, optional
        Window sizes (>= 2, at least two distinct, each < T); default nolds'
        (logarithmic from 4 to T/10 by factor 1.2 for T > 70, else 4..9).
    overlap : bool, default True
        Windows overlap by half.
    order : int, default 1
        Order of the detrending polynomial.

    Returns
    -------
    ScalingResult
        ``value`` = α (0.5 white noise, 1.0 pink noise, 1.5 Brownian motion);
        ``log_x = ln n``, ``log_y = ln F(n)``.

    Raises
    ------
    InsufficientDataError
        If ``T`` is below :func:`min_length_dfa` (11 with default ``nvals``).
    NonFiniteInputError
        If the series has NaN or inf.
    ValidationError
        For invalid ``nvals`` or ``order``.

    Warns
    -----
    UndefinedResultWarning
        All fluctuations are zero (constant series): NaN. Or ln F(n) is the same at
        every n: ``r2`` is NaN and ``slope`` 0.

    Notes
    -----
    Peng et al., Phys. Rev. E 49, 1685 (1994), doi:10.1103/PhysRevE.49.1685.
    Deterministic least-squares fits for the trends and the exponent. O(T len(nvals)).

    Examples
    --------
    >>> import numpy as np
    >>> res = dfa(np.random.default_rng(0).normal(size=1000))
    >>> bool(abs(res.value - 0.5) < 0.1)
    True
    """
    x = as_series(series)
    vals = _check_nvals(nvals, x.size, 2)
    order = check_int(order, "order", minimum=0)
    n_min, how = _rule_dfa(vals)
    require_length(x.size, n_min, "series", how)
    nolds = import_nolds()
    alpha, (lx, ly, poly) = _run_quiet(
        nolds.dfa, x, nvals=vals, overlap=bool(overlap), order=order,
        fit_trend="poly", fit_exp="poly", debug_data=True,
    )
    lx, ly = np.asarray(lx, dtype=np.float64), np.asarray(ly, dtype=np.float64)
    slope, intercept, r2 = least_squares(lx, ly)
    if not np.isfinite(alpha):
        warnings.warn("dfa: every fluctuation is zero (constant series); the exponent is NaN",
                      UndefinedResultWarning, stacklevel=2)
    else:
        _warn_if_flat(r2, slope, "dfa", "ln F(n)")
    return ScalingResult(float(alpha), slope, intercept, r2, lx, ly, "dfa",
                         {"nvals": vals, "overlap": bool(overlap), "order": order})


def lyapunov_eckmann(
    series: Any,
    *,
    emb_dim: int = 10,
    matrix_dim: int = 4,
    min_nb: int | None = None,
    theiler: int = 1,
    dt: float | None = None,
) -> EckmannResult:
    """Lyapunov spectrum by Eckmann et al.'s local-Jacobian method (nolds.lyap_e).

    Parameters
    ----------
    series : array_like, shape (T,)
        Scalar series.
    emb_dim : int, default 10
        Embedding dimension; ``emb_dim - 1`` must be divisible by ``matrix_dim - 1``.
    matrix_dim : int, default 4
        Size of the local Jacobians (number of exponents).
    min_nb : int, optional
        Minimal neighbourhood size (default ``min(2 matrix_dim, matrix_dim + 4)``).
    theiler : int, default 1
        Neighbours satisfy ``|i - j| >= theiler`` (nolds' ``min_tsep = theiler - 1``).
    dt : float, optional
        Time per sample; exponents per time unit.

    Returns
    -------
    EckmannResult

    Raises
    ------
    InsufficientDataError
        If ``T`` is below :func:`min_length_lyapunov_eckmann`
        (``emb_dim + m + 2 (theiler - 1) + min_nb``, nolds' ``lyap_e_len``).
    NonFiniteInputError
        If the series has NaN or inf.
    ValidationError
        For invalid parameters.

    Warns
    -----
    UnreliableResultWarning
        Whenever ``m = (emb_dim - 1) / (matrix_dim - 1) > 1`` (the defaults: m = 3).
        The Jacobians then span m steps of the dynamics and the magnitudes are wrong:
        on the logistic map at r = 4 (λ = ln 2 ≈ 0.693) nolds' defaults give a
        largest exponent that drifts with the series length — 0.59, 0.80, 0.96 and
        1.21 for 1000, 1500, 2000 and 3000 samples — and users have reported
        0.97-1.24.

    Notes
    -----
    Eckmann, Kamphorst, Ruelle & Ciliberto, Phys. Rev. A 34, 4971 (1986),
    doi:10.1103/PhysRevA.34.4971. With ``m = 1`` (``emb_dim == matrix_dim``) the
    spectrum of the embedding also holds spurious exponents: on the logistic map with
    ``emb_dim = matrix_dim = 2`` nolds returns about (2 ln 2, ln 2) — the true exponent
    is the last one. For the largest exponent prefer
    :func:`~graphtraj.timeseries.lyapunov_rosenstein` or
    :func:`~graphtraj.timeseries.lyapunov_kantz`. O(T² emb_dim) time (nolds scans all
    vectors for each).

    Examples
    --------
    >>> import numpy as np
    >>> x = np.empty(600); x[0] = 0.3
    >>> for t in range(599): x[t + 1] = 4 * x[t] * (1 - x[t])
    >>> res = lyapunov_eckmann(x, emb_dim=2, matrix_dim=2)
    >>> bool(abs(res.exponents[-1] - np.log(2)) < 0.05)
    True
    """
    x = as_series(series)
    emb_dim = check_int(emb_dim, "emb_dim", minimum=2)
    matrix_dim = check_int(matrix_dim, "matrix_dim", minimum=2)
    min_nb = (min(2 * matrix_dim, matrix_dim + 4) if min_nb is None
              else check_int(min_nb, "min_nb", minimum=1))
    theiler = check_int(theiler, "theiler", minimum=1)
    tau = 1.0 if dt is None else check_real(dt, "dt", minimum=0.0, strict_min=True)
    n_min, how = _rule_eckmann(emb_dim, matrix_dim, min_nb, theiler)
    require_length(x.size, n_min, "series", how)
    m = (emb_dim - 1) // (matrix_dim - 1)
    if m > 1:
        warnings.warn(
            f"lyapunov_eckmann: the local Jacobians span m = {m} steps "
            f"((emb_dim - 1) / (matrix_dim - 1)); nolds.lyap_e's magnitudes are then "
            "unreliable (logistic map r = 4: largest 0.6-1.2 depending on the length, "
            "instead of ln 2 = 0.693). "
            "Use lyapunov_rosenstein/lyapunov_kantz for the largest exponent.",
            UnreliableResultWarning,
            stacklevel=2,
        )
    nolds = import_nolds()
    exps = np.asarray(_run_quiet(nolds.lyap_e, x, emb_dim=emb_dim, matrix_dim=matrix_dim,
                                 min_nb=min_nb, min_tsep=theiler - 1, tau=tau),
                      dtype=np.float64)
    if not np.all(np.isfinite(exps)):
        # nolds gives inf when the local neighbourhoods are degenerate (a constant or
        # periodic series repeats the same few delay vectors): no Jacobian is defined.
        warnings.warn(
            "lyapunov_eckmann: the local Jacobians are undefined (the delay vectors "
            "repeat, as in a constant or periodic series; nolds.lyap_e returned "
            f"{exps.tolist()}); the exponents are NaN",
            UndefinedResultWarning,
            stacklevel=2,
        )
        exps = np.full(matrix_dim, np.nan)
    return EckmannResult(exps,
                         {"emb_dim": emb_dim, "matrix_dim": matrix_dim, "min_nb": min_nb,
                          "theiler": theiler, "dt": dt, "m": m, "min_length": n_min})
