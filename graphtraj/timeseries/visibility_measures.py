"""Degree statistics of visibility graphs: exponential tail fit and windowed measures.

The horizontal visibility graph (HVG) of an i.i.d. series has the universal degree
distribution ``P(k) = (1/3) (2/3)^(k-2)``, an exponential tail ``e^(-lambda k)`` with
``lambda = ln(3/2)`` (Luque et al. 2009). Chaotic series give ``lambda < ln(3/2)`` and
correlated stochastic ones ``lambda > ln(3/2)`` (Lacasa & Toral 2010), which makes the
fitted ``lambda`` a one-number summary of a training series. :func:`windowed_visibility`
follows it, the mean degree and the irreversibility along training.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

from graphtraj._checks import (
    as_float_array,
    as_series,
    check_int,
    check_option,
    check_real,
    require_length,
)
from graphtraj._progress import progress_bar
from graphtraj._result import Result
from graphtraj.exceptions import UndefinedResultWarning, ValidationError
from graphtraj.timeseries.visibility import (
    DEFAULT_RTOL,
    VISIBILITY_KINDS,
    VisibilityGraph,
    check_times,
    graph_edges,
)

__all__ = [
    "IID_HVG_LAMBDA",
    "DegreeTailFit",
    "degree_tail_fit",
    "WindowedVisibility",
    "windowed_visibility",
]

#: Tail exponent of the horizontal visibility graph of any i.i.d. series: ln(3/2).
IID_HVG_LAMBDA = math.log(1.5)

#: Largest degree accepted in a degree list shorter than it (see :func:`degree_tail_fit`).
_MAX_FREE_DEGREE = 1 << 20


@dataclass(frozen=True)
class DegreeTailFit(Result):
    """Maximum-likelihood exponential fit ``P(k) ~ e^(-lam k)`` of a degree tail.

    Attributes
    ----------
    lam : float
        Fitted exponent lambda (NaN when undefined, see :func:`degree_tail_fit`).
    stderr : float
        Its asymptotic standard error from the Fisher information.
    k_min, k_max : int, int or None
        Fitting range (``k_max`` None = unbounded).
    direction : str
        Degree used: "total", "in" or "out".
    n_tail, n_nodes : int
        Nodes in the fitting range, and in total.
    k, pk : ndarray
        Empirical distribution: degrees ``0 .. max`` and their frequencies.
    fit_k, fit_pk : ndarray
        The fitted law over the fitting range, scaled to the tail's share of nodes
        (for plotting on top of ``pk``).

    Examples
    --------
    >>> fit = degree_tail_fit([1, 2, 3, 3, 5], k_min=3)
    >>> fit.n_tail, fit.fit_k.tolist()
    (3, [3, 4, 5])
    """

    lam: float
    stderr: float
    k_min: int
    k_max: int | None
    direction: str
    n_tail: int
    n_nodes: int
    k: np.ndarray
    pk: np.ndarray
    fit_k: np.ndarray
    fit_pk: np.ndarray


def _truncated_moments(lam: float, span: int) -> tuple[float, float]:
    """Mean and variance of j in {0..span} with P(j) ∝ exp(-lam j)."""
    j = np.arange(span + 1, dtype=np.float64)
    logw = -lam * j
    w = np.exp(logw - logw.max())
    w /= w.sum()
    mean = float(w @ j)
    return mean, float(w @ (j - mean) ** 2)


def tail_mle(deg: np.ndarray, k_min: int, k_max: int | None) -> tuple[float, float, int, str]:
    """``(lam, stderr, n_tail, why_undefined)`` for a degree array; no warnings.

    ``why_undefined`` is "" when ``lam`` is finite.
    """
    sel = deg >= k_min
    if k_max is not None:
        sel &= deg <= k_max
    tail = deg[sel].astype(np.float64)
    n = int(tail.size)
    if n == 0:
        return math.nan, math.nan, 0, f"no node has a degree in [{k_min}, {k_max if k_max is not None else 'inf'}]"
    excess = float(tail.mean()) - k_min
    if excess <= 0.0:
        return math.nan, math.nan, n, f"every node in the fitting range has degree k_min = {k_min} (lambda = +inf)"
    if k_max is None:
        q = excess / (1.0 + excess)  # geometric on {k_min, k_min + 1, ...}
        lam = math.log1p(1.0 / excess)
        var = q / (1.0 - q) ** 2
        return lam, 1.0 / math.sqrt(n * var), n, ""
    span = k_max - k_min
    if excess >= span:
        return math.nan, math.nan, n, f"every node in the fitting range has degree k_max = {k_max} (lambda = -inf)"
    from scipy.optimize import brentq

    lam = brentq(lambda x: _truncated_moments(x, span)[0] - excess, -50.0, 50.0, xtol=1e-14, rtol=1e-13)
    var = _truncated_moments(lam, span)[1]
    return float(lam), 1.0 / math.sqrt(n * var), n, ""


def _tail_law(lam: float, k_min: int, k_top: int, k_max: int | None) -> tuple[np.ndarray, np.ndarray]:
    k = np.arange(k_min, max(k_top, k_min) + 1)
    if not math.isfinite(lam):
        return k, np.full(k.size, np.nan)
    j = (k - k_min).astype(np.float64)
    if k_max is None:
        q = math.exp(-lam)
        return k, (1.0 - q) * q**j
    span = np.arange(k_max - k_min + 1, dtype=np.float64)
    logz = np.logaddexp.reduce(-lam * span)
    return k, np.exp(-lam * j - logz)


def _as_degrees(graph_or_degrees: Any, direction: str) -> np.ndarray:
    if isinstance(graph_or_degrees, VisibilityGraph):
        return graph_or_degrees._degrees(direction)
    check_option(direction, "direction", ("total", "in", "out"))
    deg = as_float_array(graph_or_degrees, "degrees", 1)
    if np.any(deg < 0) or np.any(deg != np.round(deg)):
        raise ValidationError(
            "`degrees` must hold non-negative integers; got values such as "
            f"{deg[(deg < 0) | (deg != np.round(deg))][:3].tolist()}. Pass node degrees "
            "or a VisibilityGraph."
        )
    # a node of an n-node simple graph has degree <= n - 1; partial degree lists (a
    # tail excerpt) are allowed up to _MAX_FREE_DEGREE. The bound keeps the dense
    # histogram P(k) of size max(k) + 1 proportional to the input.
    limit = max(deg.size - 1, _MAX_FREE_DEGREE)
    if deg.max() > limit:
        raise ValidationError(
            f"`degrees` must be at most max(n - 1, {_MAX_FREE_DEGREE}) = {limit} for "
            f"n = {deg.size} nodes; got {deg.max():g}. Pass the degrees of every node of "
            "one graph (or a VisibilityGraph)."
        )
    return deg.astype(np.int64)


def degree_tail_fit(
    graph_or_degrees: Any,
    *,
    k_min: int = 4,
    k_max: int | None = None,
    direction: str = "total",
) -> DegreeTailFit:
    """Fit the exponential tail ``P(k) ~ e^(-lambda k)`` of a degree distribution.

    Parameters
    ----------
    graph_or_degrees : VisibilityGraph or array_like of int, shape (n,)
        A graph from :func:`graphtraj.timeseries.visibility_graph`, or node degrees.
    k_min : int, default 4
        Smallest degree in the fitting range (>= 0). The default skips the low degrees
        where chaotic series still look i.i.d.: the HVG of the logistic map at r = 4
        gives lambda = 0.41 from k_min = 3 but 0.29 from k_min = 4.
    k_max : int or None, default None
        Largest degree in the fitting range (> k_min); None fits an unbounded
        geometric tail.
    direction : {"total", "in", "out"}, default "total"
        For a graph: total degree, past ("in") or future ("out") neighbours. The
        out-degree of a directed HVG of i.i.d. noise follows ``(1/2)^k`` from
        ``k_min = 1``.

    Returns
    -------
    DegreeTailFit
        ``lam``, ``stderr``, the range, the empirical P(k) and the fitted curve.

    Raises
    ------
    ValidationError
        If ``k_min``/``k_max`` are not integers with ``0 <= k_min < k_max``, or the
        degrees are not non-negative integers of at most ``max(n - 1, 2**20)`` for
        ``n`` degrees (no simple graph on ``n`` nodes has a larger one; the histogram
        ``pk`` has ``max(k) + 1`` entries).
    UnknownOptionError
        If ``direction`` is not one of the three options.

    Warns
    -----
    UndefinedResultWarning
        With NaN ``lam`` and ``stderr`` when no degree lies in the range, or all lie at
        one end of it (the likelihood then peaks at lambda = +/-inf).

    Notes
    -----
    Maximum likelihood for the discrete exponential law on the fitting range,
    ``P(k) = e^(-lambda k) / Z(lambda)`` for ``k_min <= k <= k_max``, from the ``n`` nodes
    whose degree falls in it. The estimate solves ``E_lambda[k] = mean(k)``; with no
    upper bound it is closed-form, ``lambda = ln(1 + 1 / (mean(k) - k_min))``. The
    standard error is ``1 / sqrt(n Var_lambda(k))`` (Fisher information of this
    exponential family); it treats degrees as independent, which neighbouring nodes
    are not quite, so treat it as a lower bound. This is the law Luque et al. (2009)
    fit on semi-log axes; for i.i.d. series ``lambda = ln(3/2) ~ 0.405`` for any
    ``k_min >= 2``. O(n).

    References
    ----------
    .. [1] B. Luque, L. Lacasa, F. Ballesteros, J. Luque, "Horizontal visibility graphs:
       exact results for random time series", Phys. Rev. E 80, 046103 (2009),
       doi:10.1103/PhysRevE.80.046103
    .. [2] L. Lacasa, R. Toral, "Description of stochastic and chaotic series using
       visibility graphs", Phys. Rev. E 82, 036120 (2010),
       doi:10.1103/PhysRevE.82.036120

    Examples
    --------
    Degrees 2, 3, 4 with counts 4, 2, 1 and ``k_min = 2``: the mean excess over k_min
    is 4/7, so lambda = ln(1 + 7/4):

    >>> fit = degree_tail_fit([2, 2, 2, 2, 3, 3, 4], k_min=2)
    >>> round(fit.lam, 6), round(math.log(11 / 4), 6)
    (1.011601, 1.011601)
    """
    k_min = check_int(k_min, "k_min", minimum=0)
    if k_max is not None:
        k_max = check_int(k_max, "k_max", minimum=k_min + 1)
    deg = _as_degrees(graph_or_degrees, direction)
    lam, se, n_tail, why = tail_mle(deg, k_min, k_max)
    if why:
        warnings.warn(
            f"degree tail exponent undefined: {why}; returning NaN. Lower `k_min` or "
            "use a longer series.",
            UndefinedResultWarning,
            stacklevel=2,
        )
    counts = np.bincount(deg) if deg.size else np.zeros(1, np.int64)
    k_top = k_max if k_max is not None else int(counts.size - 1)
    fit_k, law = _tail_law(lam, k_min, k_top, k_max)
    return DegreeTailFit(
        lam=float(lam),
        stderr=float(se),
        k_min=k_min,
        k_max=k_max,
        direction=direction,
        n_tail=n_tail,
        n_nodes=int(deg.size),
        k=np.arange(counts.size, dtype=np.int64),
        pk=counts / max(deg.size, 1),
        fit_k=fit_k.astype(np.int64),
        fit_pk=law * (n_tail / max(deg.size, 1)),
    )


@dataclass(frozen=True)
class WindowedVisibility(Result):
    """Visibility-graph measures in sliding windows along a series.

    Attributes
    ----------
    starts, stops : ndarray of int64, shape (W,)
        Sample index range ``[start, stop)`` of each window.
    centers : ndarray of float64, shape (W,)
        Midpoint time of each window, ``(t[start] + t[stop - 1]) / 2``.
    mean_degree : ndarray, shape (W,)
        Mean degree ``2E / window`` of each window's graph.
    tail_lambda, tail_stderr : ndarray, shape (W,)
        Exponential tail fit (:func:`degree_tail_fit`, ``k_min``, unbounded); NaN where
        undefined.
    irreversibility : ndarray, shape (W,)
        Kullback-Leibler divergence between out- and in-degree distributions of the
        directed graph (:func:`graphtraj.timeseries.time_irreversibility.irreversibility`, no surrogates).
    window, step, k_min : int
        Window length, shift between windows and lower end of the tail fit.
    kind : str
        Graph kind built in each window.

    Examples
    --------
    >>> w = windowed_visibility(np.arange(12.0), 6, step=3, k_min=1)
    >>> w.starts.tolist(), w.centers.tolist()
    ([0, 3, 6], [2.5, 5.5, 8.5])
    """

    starts: np.ndarray
    stops: np.ndarray
    centers: np.ndarray
    mean_degree: np.ndarray
    tail_lambda: np.ndarray
    tail_stderr: np.ndarray
    irreversibility: np.ndarray
    window: int
    step: int
    k_min: int
    kind: str


def windowed_visibility(
    series: Any,
    window: int,
    *,
    step: int | None = None,
    kind: str = "horizontal",
    times: Any = None,
    k_min: int = 4,
    rtol: float = DEFAULT_RTOL,
    progress: bool | None = None,
) -> WindowedVisibility:
    """Mean degree, tail exponent and irreversibility in sliding windows.

    Follows how the visibility structure of a training series (loss, distance to the
    initial network, ...) changes along training: e.g. ``tail_lambda`` falling below
    ln(3/2) where the dynamics turns chaotic.

    Parameters
    ----------
    series : array_like, shape (n,)
        The series.
    window : int
        Samples per window, ``3 <= window <= n``.
    step : int, optional
        Shift between window starts (>= 1); default ``max(1, window // 2)``.
    kind : {"horizontal", "natural"}, default "horizontal"
        Graph built in each window.
    times : array_like, shape (n,), optional
        Strictly increasing sample times (see :func:`visibility_graph`).
    k_min : int, default 4
        Lower end of the tail fit.
    rtol : float, default 1e-9
        Natural-criterion tolerance.
    progress : bool, optional
        Show a progress bar (default: when interactive).

    Returns
    -------
    WindowedVisibility

    Raises
    ------
    InsufficientDataError
        If the series is shorter than ``window``.
    NonFiniteInputError, ValidationError, UnknownOptionError
        For invalid input, as :func:`visibility_graph`.

    Warns
    -----
    UndefinedResultWarning
        Once, if the tail exponent is undefined (NaN) in some windows.

    Notes
    -----
    Each window is an independent graph on its own samples (edges do not cross window
    borders), exactly :func:`visibility_graph` of the slice. Cost O(W window) for the
    horizontal kind.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> w = windowed_visibility(rng.random(4000), 1000, step=1000)
    >>> w.starts.tolist(), bool(np.all(abs(w.mean_degree - 4) < 0.1))
    ([0, 1000, 2000, 3000], True)
    """
    from graphtraj.timeseries.time_irreversibility import degree_kld

    y = as_series(series, "series")
    n = y.shape[0]
    window = check_int(window, "window", minimum=3)
    require_length(n, window, "series", f"the window length ({window})")
    step = max(1, window // 2) if step is None else check_int(step, "step", minimum=1)
    kind = check_option(kind, "kind", VISIBILITY_KINDS)
    k_min = check_int(k_min, "k_min", minimum=0)
    rtol = check_real(rtol, "rtol", minimum=0.0, maximum=1e-3)
    t_given = check_times(times, n)
    t = np.arange(n, dtype=np.float64) if t_given is None else t_given
    starts = np.arange(0, n - window + 1, step, dtype=np.int64)
    stops = starts + window
    out = np.full((4, starts.size), np.nan)
    for w, s in enumerate(progress_bar(starts, total=starts.size, desc="windows", progress=progress)):
        ys = np.ascontiguousarray(y[s : s + window])
        ts = np.ascontiguousarray(t[s : s + window])
        src, dst, _ = graph_edges(ys, ts, kind, rtol)
        k_out = np.bincount(src, minlength=window)
        k_in = np.bincount(dst, minlength=window)
        out[0, w] = 2.0 * src.size / window
        out[1, w], out[2, w], _, _ = tail_mle(k_in + k_out, k_min, None)
        out[3, w] = degree_kld(k_out, k_in)[0]
    n_bad = int(np.isnan(out[1]).sum())
    if n_bad:
        warnings.warn(
            f"degree tail exponent undefined (NaN) in {n_bad} of {starts.size} windows "
            f"(no degrees above k_min = {k_min}); lower `k_min` or widen the window.",
            UndefinedResultWarning,
            stacklevel=2,
        )
    return WindowedVisibility(
        starts=starts,
        stops=stops,
        centers=(t[starts] + t[stops - 1]) / 2.0,
        mean_degree=out[0],
        tail_lambda=out[1],
        tail_stderr=out[2],
        irreversibility=out[3],
        window=window,
        step=step,
        k_min=k_min,
        kind=kind,
    )
