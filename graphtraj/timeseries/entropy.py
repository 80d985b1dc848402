"""Sample entropy with the exact Richman-Moorman counts.

``SampEn = -ln(A / B)``: B counts pairs of templates of length m that match within the
tolerance r (Chebyshev distance), A the pairs that still match at length m + 1, both
over the same N - m templates and never a template with itself. When A = 0 the
logarithm is undefined; graphtraj returns NaN with a warning and exposes A and B, so
the user can report the bound instead of an infinite or arbitrary number.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.spatial import cKDTree

from graphtraj._checks import as_series, check_int, check_real, require_length, scaled_std
from graphtraj._result import Result
from graphtraj.exceptions import UndefinedResultWarning, ValidationError
from graphtraj.timeseries.min_length import _rule_sample_entropy

__all__ = ["SampleEntropyResult", "sample_entropy"]


@dataclass(frozen=True)
class SampleEntropyResult(Result):
    """Sample entropy and the counts it is made of.

    Attributes
    ----------
    value : float
        ``-ln(A / B)``; NaN when undefined (A = 0 or B = 0).
    a : int
        Matching template pairs of length m + 1.
    b : int
        Matching template pairs of length m.
    n_templates : int
        Templates per length, ``N - m * lag``.
    tolerance : float
        The tolerance r used.
    defined : bool
        ``A > 0 and B > 0``.
    params : dict
        Parameters used.
    """

    value: float
    a: int
    b: int
    n_templates: int
    tolerance: float
    defined: bool
    params: dict[str, Any] = field(default_factory=dict)


def _pairs_within(templates: np.ndarray, r: float) -> int:
    tree = cKDTree(templates)
    ordered = int(tree.count_neighbors(tree, r, p=np.inf))
    return (ordered - templates.shape[0]) // 2


def sample_entropy(
    series: Any,
    *,
    emb_dim: int = 2,
    tolerance: float | None = None,
    lag: int = 1,
    closed: bool = True,
) -> SampleEntropyResult:
    """Sample entropy (Richman & Moorman 2000) with exact pair counts.

    Parameters
    ----------
    series : array_like, shape (T,)
        Scalar series.
    emb_dim : int, default 2
        Template length m.
    tolerance : float, optional
        Tolerance r > 0; default ``0.2 * std(series, ddof=1)``.
    lag : int, default 1
        Spacing of the template samples.
    closed : bool, default True
        Templates match when their Chebyshev distance is ``<= r`` (Richman & Moorman,
        PhysioNet); ``False`` uses ``< r`` (nolds' default).

    Returns
    -------
    SampleEntropyResult
        ``value``, the counts ``a`` and ``b``, and ``defined``.

    Raises
    ------
    InsufficientDataError
        If ``T < emb_dim * lag + 2`` (fewer than two templates).
    NonFiniteInputError
        If the series has NaN or inf.
    ValidationError
        For invalid parameters, or a constant series with the default tolerance
        (r would be 0).

    Warns
    -----
    UndefinedResultWarning
        A = 0 or B = 0: SampEn is undefined (infinite); NaN is returned with
        ``defined=False`` and the counts (Richman & Moorman suggest reporting
        ``-ln(2 / ((N - m - 1)(N - m)))`` as a bound).

    Notes
    -----
    Richman & Moorman, Am. J. Physiol. Heart Circ. Physiol. 278, H2039 (2000),
    doi:10.1152/ajpheart.2000.278.6.H2039: templates ``x_i .. x_{i+(m-1) lag}`` for
    i = 0 .. N - m lag - 1 (the same N - m lag starting points for lengths m and
    m + 1); B and A count unordered pairs i < j within r; ``SampEn = -ln(A / B)``.
    Counts by KD-tree (Chebyshev), O(N) memory; equal to nolds.sampen's counts.

    Examples
    --------
    >>> x = [5.90, 6.03, 5.97, 5.92, 5.93, 5.87, 5.89, 5.95, 6.06, 6.10, 6.06, 5.81,
    ...      5.78, 5.98, 5.89, 5.95, 6.02]
    >>> import warnings
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     res = sample_entropy(x)
    >>> res.b, res.a, res.defined
    (1, 0, False)
    """
    x = as_series(series)
    emb_dim = check_int(emb_dim, "emb_dim", minimum=1)
    lag = check_int(lag, "lag", minimum=1)
    n_min, how = _rule_sample_entropy(emb_dim, lag)
    require_length(x.size, n_min, "series", how)
    if tolerance is None:
        sd = scaled_std(x)
        if sd == 0:
            raise ValidationError(
                "`series` must not be constant with the default tolerance 0.2 * std "
                "(it would be 0); pass `tolerance` explicitly"
            )
        tolerance = 0.2 * sd
    else:
        tolerance = check_real(tolerance, "tolerance", minimum=0.0, strict_min=True)
    r = tolerance if closed else float(np.nextafter(tolerance, 0.0))
    n_t = x.size - emb_dim * lag
    t_m = np.stack([x[k * lag : k * lag + n_t] for k in range(emb_dim)], axis=1)
    t_m1 = np.stack([x[k * lag : k * lag + n_t] for k in range(emb_dim + 1)], axis=1)
    b = _pairs_within(t_m, r)
    a = _pairs_within(t_m1, r)
    defined = a > 0 and b > 0
    if defined:
        value = float(-np.log(a / b))
    else:
        value = np.nan
        warnings.warn(
            f"sample_entropy: undefined, A = {a} and B = {b} template pairs match within "
            f"r = {tolerance:.4g} (m = {emb_dim}); returning NaN. Raise `tolerance` or use "
            "a longer series.",
            UndefinedResultWarning,
            stacklevel=2,
        )
    return SampleEntropyResult(value, int(a), int(b), int(n_t), float(tolerance), bool(defined),
                               {"emb_dim": emb_dim, "lag": lag, "closed": bool(closed)})
