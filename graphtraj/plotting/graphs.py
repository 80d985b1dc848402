"""Figures for graph series: distance matrices, spectral and motif statistics over time."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from graphtraj._checks import as_float_array
from graphtraj.exceptions import ValidationError
from graphtraj.plotting._axes import subplots
from graphtraj.plotting._inputs import check_input, check_mapping

__all__ = ["layer_label", "plot_distance_matrices", "plot_spectral_stats", "plot_motif_stats"]


def layer_label(name: str, index: int, n_layers: int) -> str:
    """Readable name of weight layer ``index`` of an ``n_layers``-layer chain (MLP).

    Generic names such as ``layers.0`` become "input→hidden" / "hidden→output" (one
    hidden layer), "input→output" (no hidden layer), or "input→hidden 1",
    "hidden 1→hidden 2", …, "hidden L-1→output" (hidden layers numbered as in
    :func:`~graphtraj.plotting.plot_network_snapshot`); other names are kept.

    Examples
    --------
    >>> [layer_label(f"layers.{i}", i, 2) for i in range(2)]
    ['input→hidden', 'hidden→output']
    >>> layer_label("layers.1", 1, 3), layer_label("encoder", 0, 2)
    ('hidden 1→hidden 2', 'encoder')
    """
    import re

    if not re.fullmatch(r"(layers?\.)?\d+(\.weight)?", str(name)):
        return str(name)
    if n_layers <= 1:
        return "input→output"
    if n_layers == 2:
        return ("input→hidden", "hidden→output")[min(index, 1)]
    src = "input" if index == 0 else f"hidden {index}"
    dst = "output" if index == n_layers - 1 else f"hidden {index + 1}"
    return f"{src}→{dst}"


def plot_distance_matrices(
    matrices: Mapping[str, Any], times: Any = None, *, cmap: str = "viridis",
    cbar_label: str = "distance",
) -> Any:
    """Distance matrices side by side (e.g. weight space next to graph space).

    Parameters
    ----------
    matrices : mapping of str to array (T, T)
        Titled square matrices over the same snapshots.
    times : array (T,), optional
        Snapshot times for the axes (default: indices).
    cmap : str
        Matplotlib colormap.
    cbar_label : str, default "distance"
        Label of the colour bars.

    Returns
    -------
    matplotlib.figure.Figure
        One panel per matrix, each with its own colour bar.

    Raises
    ------
    ValidationError
        If ``matrices`` is not a mapping or is empty, a matrix is not a square array
        of reals or sizes differ, or ``times`` does not have one entry per row.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.arange(5.0)
    >>> d = np.abs(x[:, None] - x[None, :])
    >>> fig = plot_distance_matrices({"l1": d, "squared": d**2})
    >>> len(fig.axes)   # two panels, two colour bars
    4
    """

    check_mapping(matrices, "plot_distance_matrices", "matrices", "matrix",
                  "{'weights': D}")
    mats = {k: as_float_array(v, f"matrices[{k!r}]", 2, finite=False)
            for k, v in matrices.items()}
    sizes = {m.shape for m in mats.values()}
    if len(sizes) != 1 or any(s[0] != s[1] for s in sizes):
        raise ValidationError(
            f"`matrices` must be square arrays of one size; got shapes {sorted(sizes)}"
        )
    n = next(iter(sizes))[0]
    t = np.arange(n) if times is None else as_float_array(times, "times", 1)
    if t.shape != (n,):
        raise ValidationError(
            f"`times` must have one entry per row of the matrices, shape ({n},); got "
            f"shape {t.shape}"
        )
    extent = (t[0], t[-1], t[-1], t[0]) if n > 1 else None
    fig, axes = subplots(1, len(mats), figsize=(4.2 * len(mats), 3.8), squeeze=False)
    for ax, (name, m) in zip(axes[0], mats.items(), strict=True):
        im = ax.imshow(m, cmap=cmap, extent=extent, interpolation="nearest")
        ax.set_title(name)
        ax.set_xlabel("step")
        ax.set_ylabel("step")
        fig.colorbar(im, ax=ax, shrink=0.8, label=cbar_label)
    return fig


def plot_spectral_stats(stats: Any) -> Any:
    """Spectral statistics over time: per-layer norms and ranks, whole-graph spectra.

    Parameters
    ----------
    stats : SpectralStats
        From :func:`graphtraj.measures.spectral_stats`.

    Returns
    -------
    matplotlib.figure.Figure
        Three panels: spectral norm per layer; stable and effective rank per layer;
        spectral radius and algebraic connectivity of the symmetrized ``|W|``.

    Raises
    ------
    ValidationError
        If ``stats`` is not a SpectralStats.

    Examples
    --------
    >>> import numpy as np
    >>> from graphtraj.snapshots import GraphSeries
    >>> from graphtraj.measures import spectral_stats
    >>> gs = GraphSeries.from_layers(np.arange(3), [np.ones((3, 2, 2)), np.ones((3, 1, 2))])
    >>> len(plot_spectral_stats(spectral_stats(gs)).axes)
    3
    """

    check_input(stats, "plot_spectral_stats")
    t = np.asarray(stats.times)
    fig, axes = subplots(1, 3, figsize=(13, 3.4))
    n_layers = len(stats.layer_names)
    for li, raw in enumerate(stats.layer_names):
        name = layer_label(raw, li, n_layers)
        axes[0].plot(t, stats.spectral_norm[:, li], label=name)
        axes[1].plot(t, stats.stable_rank[:, li], label=f"{name} stable")
        axes[1].plot(t, stats.effective_rank[:, li], "--", label=f"{name} effective")
    axes[0].set_title("spectral norm per layer")
    axes[0].set_ylabel("spectral norm ‖W‖₂")
    axes[1].set_title("stable / effective rank")
    axes[1].set_ylabel("rank")
    axes[2].plot(t, stats.spectral_radius, label="spectral radius of |W|")
    axes[2].plot(t, stats.algebraic_connectivity, label="algebraic connectivity")
    axes[2].set_title("whole graph (symmetrized |W|)")
    axes[2].set_ylabel("eigenvalue")
    for ax in axes:
        ax.set_xlabel("step")
        ax.legend(fontsize=7)
    return fig


def plot_motif_stats(stats: Any) -> Any:
    """Motif statistics over time.

    Parameters
    ----------
    stats : MotifStats
        From :func:`graphtraj.measures.motif_stats`.

    Returns
    -------
    matplotlib.figure.Figure
        Layered series: fractions of the four sign patterns of two-step paths (first
        hidden layer) and the structural-balance z-score of each layer. General
        series: triangle and feed-forward-loop coherence.

    Raises
    ------
    ValidationError
        If ``stats`` is not a MotifStats.

    Examples
    --------
    >>> import numpy as np
    >>> from graphtraj.snapshots import GraphSeries
    >>> from graphtraj.measures import motif_stats
    >>> tri = np.ones((2, 3, 3)) - np.eye(3)
    >>> len(plot_motif_stats(motif_stats(GraphSeries.from_adjacency([0, 1], tri))).axes)
    2
    """

    from graphtraj.measures.motifs import PATH_PATTERNS

    check_input(stats, "plot_motif_stats")
    t = np.asarray(stats.times)
    fig, axes = subplots(1, 2, figsize=(10, 3.4))
    if stats.balance is not None:
        if stats.path_fraction is not None:
            for q, p in enumerate(PATH_PATTERNS):
                axes[0].plot(t, stats.path_fraction[:, 0, q], label=p)
        axes[0].set_title("sign patterns of two-step paths")
        axes[0].set_ylabel("fraction of paths")
        n_layers = stats.balance.shape[1]
        for li in range(n_layers):
            axes[1].plot(t, stats.balance_z[:, li], label=layer_label(f"layers.{li}", li, n_layers))
        axes[1].axhline(0.0, color="0.6", lw=0.8)
        axes[1].set_title("structural balance z-score")
        axes[1].set_ylabel("z-score vs sign shuffles")
    else:
        axes[0].plot(t, stats.triangle_coherence, label="triangles")
        axes[0].plot(t, stats.ffl_coherence, label="feed-forward loops")
        axes[0].set_title("motif coherence")
        axes[0].set_ylabel("coherence")
        axes[1].plot(t, stats.triangle_intensity, label="triangles")
        axes[1].plot(t, stats.ffl_intensity, label="feed-forward loops")
        axes[1].set_title("total motif intensity")
        axes[1].set_ylabel("intensity")
    for ax in axes:
        ax.set_xlabel("step")
        ax.legend(fontsize=7)
    return fig
