"""Figures of :mod:`graphtraj.dynamics`: Lyapunov spectra, running exponents, sharpness
against the stability threshold and Hessian spectral densities.

Every function draws on ``ax`` (or a new figure) and returns the Axes; none shows it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from graphtraj._checks import check_int
from graphtraj.plotting._axes import axes_for
from graphtraj.plotting._inputs import check_input

__all__ = [
    "plot_lyapunov_spectrum",
    "plot_running_exponents",
    "plot_sharpness",
    "plot_spectral_density",
]


def _axes(ax: Any, figsize: tuple[float, float] = (5.0, 3.5)) -> Any:
    return axes_for(ax, figsize)


def plot_lyapunov_spectrum(
    result: Any,
    *,
    ax: Any = None,
    replica: int | None = None,
    reference: float | None = None,
    reference_label: str = "perturbation FTLE",
) -> Any:
    """The Lyapunov spectrum (exponent against index), with a zero line.

    Parameters
    ----------
    result : LyapunovSpectrum
        From :func:`graphtraj.dynamics.lyapunov_spectrum`.
    ax : matplotlib Axes, optional
        Where to draw (default: a new figure).
    replica : int, optional
        Plot this initial condition only; default: the mean over the non-diverged
        initial conditions with their min-max range shaded.
    reference : float, optional
        A value to mark as a horizontal dashed line (e.g. a perturbation FTLE).
    reference_label : str
        Legend label of ``reference``.

    Returns
    -------
    matplotlib Axes

    Raises
    ------
    ValidationError
        If ``result`` is not a LyapunovSpectrum or ``replica`` is out of range.

    Examples
    --------
    >>> import torch
    >>> from graphtraj.dynamics import DifferentiableMap, lyapunov_spectrum
    >>> res = lyapunov_spectrum(DifferentiableMap(lambda x: 0.5 * x, 3), [1.0, 1, 1], 5, k="all", rng=0)
    >>> ax = plot_lyapunov_spectrum(res)
    >>> len(ax.lines) >= 2
    True
    """
    check_input(result, "plot_lyapunov_spectrum")
    ax = _axes(ax)
    idx = np.arange(1, result.k + 1)
    ok = result.diverged_at < 0
    if replica is not None:
        replica = check_int(replica, "replica", minimum=0, maximum=result.n_replicas - 1)
        ax.plot(idx, result.exponents[replica], "o-", ms=3, label=f"initial condition {replica}")
    elif ok.any():
        ex = np.where(np.isneginf(result.exponents), np.nan, result.exponents)[ok]
        mean = np.nanmean(ex, axis=0)
        ax.plot(idx, mean, "o-", ms=3, label=f"mean of {int(ok.sum())} initial conditions")
        if ok.sum() > 1:
            ax.fill_between(idx, np.nanmin(ex, axis=0), np.nanmax(ex, axis=0), alpha=0.25)
    ax.axhline(0.0, color="0.5", lw=0.8)
    if reference is not None and np.isfinite(reference):
        ax.axhline(reference, color="C3", ls="--", lw=1, label=reference_label)
    unit = "per step" if not result.params.get("dt") else "per unit time"
    ax.set_xlabel("exponent index")
    ax.set_ylabel(f"Lyapunov exponent ({unit})")
    ax.legend(fontsize="small")
    return ax


def plot_running_exponents(
    result: Any,
    *,
    ax: Any = None,
    replica: int = 0,
    n_exponents: int = 3,
    windows: bool = True,
    reference: tuple[float, int, int] | None = None,
) -> Any:
    """Running estimates of the leading exponents against the step.

    Parameters
    ----------
    result : LyapunovSpectrum
        From :func:`graphtraj.dynamics.lyapunov_spectrum`.
    ax : matplotlib Axes, optional
        Where to draw.
    replica : int, default 0
        Initial condition to show.
    n_exponents : int, default 3
        How many leading exponents.
    windows : bool, default True
        Also draw the finite-time exponents of the windows as steps.
    reference : (value, start, stop), optional
        A finite-time exponent from elsewhere (e.g. a perturbation fit) drawn over its
        window.

    Returns
    -------
    matplotlib Axes

    Raises
    ------
    ValidationError
        For a wrong ``result`` type or out-of-range indices.

    Examples
    --------
    >>> import torch
    >>> from graphtraj.dynamics import DifferentiableMap, lyapunov_spectrum
    >>> res = lyapunov_spectrum(DifferentiableMap(lambda x: 2.0 * x, 1), [1.0], 20, rng=0)
    >>> ax = plot_running_exponents(res)
    >>> ax.get_xlabel()
    'step'
    """
    check_input(result, "plot_running_exponents")
    replica = check_int(replica, "replica", minimum=0, maximum=result.n_replicas - 1)
    n = check_int(n_exponents, "n_exponents", minimum=1)
    ax = _axes(ax)
    for j in range(min(n, result.k)):
        ax.plot(result.qr_steps, result.running[replica, :, j], lw=1.2, label=f"λ{j + 1} (running)")
        if windows and result.finite_time.shape[1]:
            edges = np.append(result.window_starts, result.window_starts[-1] + result.window)
            vals = np.append(result.finite_time[replica, :, j], result.finite_time[replica, -1, j])
            ax.step(edges, vals, where="post", lw=0.8, ls=":", color=f"C{j}")
    if reference is not None:
        value, start, stop = reference
        if np.isfinite(value):
            ax.hlines(value, start, stop, color="C3", lw=2, label="perturbation FTLE")
    ax.axhline(0.0, color="0.5", lw=0.8)
    ax.set_xlabel("step")
    ax.set_ylabel("exponent (per step)")
    ax.legend(fontsize="small")
    return ax


def plot_sharpness(track: Any, *, ax: Any = None, show_loss: bool = True) -> Any:
    """Sharpness along training against the stability threshold (edge of stability).

    Parameters
    ----------
    track : SharpnessTrack
        From :func:`graphtraj.dynamics.sharpness_track`.
    ax : matplotlib Axes, optional
        Where to draw.
    show_loss : bool, default True
        Draw the training loss on a secondary axis.

    Returns
    -------
    matplotlib Axes
        The sharpness axes.

    Raises
    ------
    ValidationError
        If ``track`` is not a SharpnessTrack.

    Examples
    --------
    >>> import numpy as np, torch
    >>> from graphtraj.dynamics import sharpness_track, training_map
    >>> tm = training_map(torch.nn.Linear(2, 1), np.eye(2), np.ones(2),
    ...                   loss=lambda o, t: 0.5 * ((o[:, 0] - t) ** 2).mean(), lr=0.5)
    >>> ax = plot_sharpness(sharpness_track(tm, tm.initial_state(), 4, rng=0))
    >>> ax.get_ylabel()
    'top Hessian eigenvalue'
    """
    check_input(track, "plot_sharpness")
    ax = _axes(ax)
    ax.plot(track.steps, track.sharpness, lw=1.2, color="C0", label="sharpness")
    if track.threshold is not None:
        gd = np.isclose(track.threshold, 2.0 / track.lr)
        label = f"2/η = {track.threshold:.3g}" if gd else f"threshold {track.threshold:.3g}"
        ax.axhline(track.threshold, color="C3", ls="--", lw=1, label=label)
    if track.edge is not None and track.edge.n_crossings:
        cs = track.edge.crossing_steps
        ax.plot(cs, np.interp(cs, track.steps, track.sharpness), "|", color="C3", ms=8)
    ax.set_xlabel("step")
    ax.set_ylabel("top Hessian eigenvalue")
    ax.legend(fontsize="small", loc="upper left")
    if show_loss:
        ax2 = ax.twinx()
        ax2.plot(track.steps, track.loss, color="0.6", lw=0.8)
        ax2.set_ylabel("loss", color="0.5")
    return ax


def plot_spectral_density(density: Any, *, ax: Any = None, log: bool = True) -> Any:
    """Estimated Hessian eigenvalue density (stochastic Lanczos quadrature).

    Parameters
    ----------
    density : SpectralDensity
        From :func:`graphtraj.dynamics.spectral_density`.
    ax : matplotlib Axes, optional
        Where to draw.
    log : bool, default True
        Logarithmic density axis (the bulk near 0 and the outliers differ by orders
        of magnitude).

    Returns
    -------
    matplotlib Axes

    Raises
    ------
    ValidationError
        If ``density`` is not a SpectralDensity.

    Examples
    --------
    >>> import numpy as np
    >>> from graphtraj.dynamics import spectral_density
    >>> ax = plot_spectral_density(spectral_density(np.diag([1.0, 2.0, 9.0]), n_steps=3, rng=0))
    >>> ax.get_xlabel()
    'eigenvalue'
    """
    check_input(density, "plot_spectral_density")
    ax = _axes(ax)
    y = np.maximum(density.density, 1e-300) if log else density.density
    ax.plot(density.grid, y, lw=1.2)
    if log:
        ax.set_yscale("log")
        ax.set_ylim(max(y.max() * 1e-8, 1e-300), y.max() * 2)
    ax.set_xlabel("eigenvalue")
    ax.set_ylabel("density")
    return ax
