"""Figures for Lyapunov exponents from data and embedding parameters.

Every function returns the matplotlib Axes it drew on and never shows it; matplotlib is
imported when a function is called.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from graphtraj.plotting._axes import axes_for
from graphtraj.plotting._inputs import check_input

__all__ = [
    "plot_lyapunov",
    "plot_lag_selection",
    "plot_dimension_selection",
    "plot_scaling",
]


def _axes(ax: Any) -> Any:
    return axes_for(ax, (5.5, 3.6))


_LABELS = {
    "rosenstein": "Rosenstein  <ln d(k)>",
    "kantz": "Kantz  <ln mean d(k)>",
    "nmle_single": "nMLE (single trajectory)",
    "nmle_two": "nMLE (two trajectories)",
}


def plot_lyapunov(result: Any, *, ax: Any = None, label: str | None = None, color: str | None = None) -> Any:
    """Divergence curve of a :class:`~graphtraj.timeseries.LyapunovResult` with its fit.

    Draws the curve against ``result.times``, the fitted line over the fit region
    (shaded), and the decorrelated level as a dashed line.

    Parameters
    ----------
    result : LyapunovResult
        From :func:`~graphtraj.timeseries.lyapunov_rosenstein`,
        :func:`~graphtraj.timeseries.lyapunov_kantz` or
        :func:`~graphtraj.timeseries.network_mle`.
    ax : matplotlib Axes, optional
        Axes to draw on (default: a new figure).
    label : str, optional
        Legend label of the curve (default: the method).
    color : str, optional
        Curve colour.

    Returns
    -------
    matplotlib.axes.Axes

    Raises
    ------
    ValidationError
        If ``result`` is not a LyapunovResult.

    Examples
    --------
    >>> import numpy as np
    >>> from graphtraj.timeseries import lyapunov_rosenstein
    >>> x = np.empty(800); x[0] = 0.3
    >>> for t in range(799): x[t + 1] = 4 * x[t] * (1 - x[t])
    >>> ax = plot_lyapunov(lyapunov_rosenstein(x, theiler=1))
    >>> len(ax.lines) >= 2
    True
    """
    check_input(result, "plot_lyapunov")
    ax = _axes(ax)
    t = np.asarray(result.times)
    y = np.asarray(result.curve, dtype=float)
    lines = ax.plot(t, y, "o-", ms=3, lw=1, color=color,
                    label=label or _LABELS.get(result.method, result.method))
    c = lines[0].get_color()
    if result.scaling_region and np.isfinite(result.exponent):
        sl = slice(result.fit_start, result.fit_stop)
        tf = t[sl]
        ax.axvspan(tf[0], tf[-1], color=c, alpha=0.12, lw=0)
        ax.plot(tf, result.exponent * tf + result.intercept, "-", color="k", lw=1.5,
                label=f"slope {result.exponent:.4g}")
    if np.isfinite(result.saturation):
        ax.axhline(result.saturation, ls="--", lw=0.8, color=c, alpha=0.7)
    dt = result.params.get("dt") if isinstance(result.params, dict) else None
    ax.set_xlabel("time" if dt else "step k")
    ax.set_ylabel("mean log separation")
    status = "" if result.scaling_region else " — no scaling region"
    ax.set_title(f"{result.method}: λ = {result.exponent:.4g}{status}", fontsize=10)
    ax.legend(fontsize=8, frameon=False)
    return ax


def plot_lag_selection(result: Any, *, ax: Any = None) -> Any:
    """Mutual information or autocorrelation over lags, with the chosen lag marked.

    Parameters
    ----------
    result : LagResult
        From :func:`~graphtraj.timeseries.lag_by_mutual_information` or
        :func:`~graphtraj.timeseries.lag_by_autocorrelation`.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.axes.Axes

    Raises
    ------
    ValidationError
        If ``result`` is not a LagResult.

    Examples
    --------
    >>> import numpy as np
    >>> from graphtraj.timeseries import lag_by_autocorrelation
    >>> ax = plot_lag_selection(lag_by_autocorrelation(np.sin(np.arange(400) / 6.0)))
    >>> ax.get_xlabel()
    'lag (samples)'
    """
    check_input(result, "plot_lag_selection")
    ax = _axes(ax)
    ax.plot(result.lags, result.values, "-", lw=1)
    ax.axvline(result.lag, color="C3", ls="--", lw=1,
               label=f"lag = {result.lag}" + ("" if result.criterion_met else " (fallback)"))
    ax.set_xlabel("lag (samples)")
    ax.set_ylabel("mutual information (nats)" if result.method == "mutual_information"
                  else "autocorrelation")
    ax.legend(fontsize=8, frameon=False)
    return ax


def plot_dimension_selection(result: Any, *, ax: Any = None) -> Any:
    """False-nearest-neighbour fraction, or Cao's E1 and E2, over dimensions.

    Parameters
    ----------
    result : DimensionResult
        From :func:`~graphtraj.timeseries.false_nearest_neighbors` or
        :func:`~graphtraj.timeseries.cao_embedding`.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.axes.Axes

    Raises
    ------
    ValidationError
        If ``result`` is not a DimensionResult.

    Examples
    --------
    >>> import numpy as np
    >>> from graphtraj.timeseries import cao_embedding
    >>> x = np.empty(500); x[0] = 0.3
    >>> for t in range(499): x[t + 1] = 4 * x[t] * (1 - x[t])
    >>> res = cao_embedding(x, max_dim=4)
    >>> len(plot_dimension_selection(res).lines)
    3
    """
    check_input(result, "plot_dimension_selection")
    ax = _axes(ax)
    if result.method == "cao":
        ax.plot(result.dims, result.values, "o-", label="E1")
        ax.plot(result.dims, result.extra["E2"], "s--", label="E2")
        ax.set_ylabel("Cao E1, E2")
    else:
        ax.plot(result.dims, result.values, "o-", label="false NN fraction")
        ax.set_ylabel("fraction of false neighbours")
    ax.axvline(result.emb_dim, color="C3", ls=":", lw=1, label=f"emb_dim = {result.emb_dim}")
    ax.set_xlabel("embedding dimension")
    ax.legend(fontsize=8, frameon=False)
    return ax


def plot_scaling(result: Any, *, ax: Any = None) -> Any:
    """Log-log points and fitted line of a :class:`~graphtraj.timeseries.ScalingResult`.

    Parameters
    ----------
    result : ScalingResult
        From :func:`~graphtraj.timeseries.correlation_dimension`,
        :func:`~graphtraj.timeseries.hurst_rs` or :func:`~graphtraj.timeseries.dfa`.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.axes.Axes

    Raises
    ------
    ValidationError
        If ``result`` is not a ScalingResult.

    Examples
    --------
    >>> import numpy as np
    >>> from graphtraj.timeseries import dfa
    >>> ax = plot_scaling(dfa(np.random.default_rng(0).normal(size=300)))
    >>> ax.get_xlabel()
    'ln n'
    """
    check_input(result, "plot_scaling")
    ax = _axes(ax)
    lx, ly = np.asarray(result.log_x), np.asarray(result.log_y)
    ax.plot(lx, ly, "o", ms=3)
    if np.isfinite(result.slope):
        ok = np.isfinite(ly)
        ax.plot(lx[ok], result.slope * lx[ok] + result.intercept, "k-", lw=1,
                label=f"slope {result.slope:.3g}")
        ax.legend(fontsize=8, frameon=False)
    names = {"correlation_dimension": ("ln r", "ln C(r)"), "hurst_rs": ("ln n", "ln (R/S)_n"),
             "dfa": ("ln n", "ln F(n)")}
    xl, yl = names.get(result.method, ("ln x", "ln y"))
    ax.set_xlabel(xl)
    ax.set_ylabel(yl)
    ax.set_title(f"{result.method}: {result.value:.4g}", fontsize=10)
    return ax
