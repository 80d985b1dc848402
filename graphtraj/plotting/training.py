"""Figures of training runs: loss, divergence, FTLE against η, weight norms, snapshots.

Every function returns a matplotlib Axes (or Figure) and never shows it; matplotlib is
imported inside the functions.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from graphtraj._checks import check_int, check_real
from graphtraj.exceptions import ValidationError
from graphtraj.plotting._axes import axes_for
from graphtraj.plotting._inputs import _is_instance, check_input, check_mapping

__all__ = [
    "plot_loss_curves",
    "plot_divergence",
    "plot_ftle_vs_lr",
    "plot_weight_norms",
    "plot_network_snapshot",
]


def _axes(ax: Any, figsize: tuple[float, float] = (5.0, 3.4)) -> Any:
    return axes_for(ax, figsize)


def log_scale(ax: Any, which: str = "y") -> None:
    """Put ``ax`` on a log ``which`` axis with plain-text tick labels ("0.01", "1e+07").

    Matplotlib's default log labels are typeset as mathtext, which dominates the cost
    of drawing the report's figures; plain labels read the same.
    """
    from matplotlib.ticker import LogFormatter

    class _Plain(LogFormatter):
        def _num_to_string(self, x: float, vmin: float, vmax: float) -> str:
            return f"{x:.3g}"

    (ax.set_yscale if which == "y" else ax.set_xscale)("log")
    axis = ax.yaxis if which == "y" else ax.xaxis
    axis.set_major_formatter(_Plain())
    axis.set_minor_formatter(_Plain(labelOnlyBase=False, minor_thresholds=(1, 0.4)))


def plot_loss_curves(result: Any, *, ax: Any = None, max_curves: int = 10) -> Any:
    """Training loss of each reference of a stability experiment, log y axis.

    Parameters
    ----------
    result : StabilityResult
        From :func:`graphtraj.studies.dynamical_stability` (uses ``loss_steps`` and
        ``loss``).
    ax : matplotlib Axes, optional
        Where to draw; a new figure otherwise.
    max_curves : int, default 10
        At most this many initial conditions are drawn.

    Returns
    -------
    matplotlib.axes.Axes

    Raises
    ------
    ValidationError
        If ``result`` is not a StabilityResult or ``max_curves`` is not a positive
        integer.

    Examples
    --------
    A stability result of two initial conditions (one reference and one perturbed
    copy each), built from recorded distances:

    >>> import numpy as np
    >>> from graphtraj import Ensemble, ParamLayout
    >>> from graphtraj.studies import stability_config, stability_from_ensemble
    >>> t = np.arange(101)
    >>> d = np.zeros((4, 101)); d[1] = 1e-8 * np.exp(0.3 * t); d[3] = 1e-8
    >>> ens = Ensemble(ParamLayout.for_mlp([2, 2]), t,
    ...                {"dist_l1": d, "loss": np.ones((4, 101))},
    ...                reference=np.array([0, 0, 2, 2]), diverged_at=np.full(4, -1))
    >>> res = stability_from_ensemble(ens, stability_config(0.5, n_steps=100))
    >>> len(plot_loss_curves(res).lines)
    2
    """
    check_input(result, "plot_loss_curves")
    max_curves = check_int(max_curves, "max_curves", minimum=1)
    ax = _axes(ax)
    loss = np.asarray(result.loss)[:max_curves]
    for i, lc in enumerate(loss):
        ax.plot(result.loss_steps, lc, lw=0.8, alpha=0.85, label="init 0" if i == 0 else None)
    log_scale(ax, "y")
    ax.set_xlabel("training step")
    ax.set_ylabel("training loss")
    ax.set_title(f"loss, η = {result.lr:g}")
    return ax


def plot_divergence(result: Any, *, ax: Any = None, max_curves: int = 10,
                    max_step: int | None = None) -> Any:
    """Divergence d(t)/d(t0) of perturbed copies on a log axis, with each fitted window.

    For a :class:`~graphtraj.studies.StabilityResult`: thin lines, the mean divergence
    ratio of each initial condition; thick black line, their mean; dashed, the fitted
    exponential exp(λ t) over each accepted fit window. For a
    :class:`~graphtraj.timeseries.FTLEResult`: its mean divergence curve (black) and
    the fitted exponential over its window (dashed; labelled "rejected" when the fit
    was not accepted).

    Parameters
    ----------
    result : StabilityResult or FTLEResult
        From :func:`~graphtraj.studies.dynamical_stability`,
        :func:`~graphtraj.studies.orbital_stability`,
        :func:`~graphtraj.studies.stability_from_ensemble` or
        :func:`~graphtraj.timeseries.ftle_from_divergence`.
    ax : matplotlib Axes, optional
        Where to draw; a new figure otherwise.
    max_curves : int, default 10
        At most this many initial conditions are drawn (a StabilityResult).
    max_step : int, optional
        Draw the curves only at steps <= ``max_step``.

    Returns
    -------
    matplotlib.axes.Axes

    Raises
    ------
    ValidationError
        If ``result`` is neither a StabilityResult nor an FTLEResult, or
        ``max_curves`` or ``max_step`` is not an integer in range.

    Examples
    --------
    The fitted window of an exponential divergence d(t) = 1e-8 e^{0.3 t}:

    >>> import numpy as np
    >>> from graphtraj.timeseries import ftle_from_divergence
    >>> ax = plot_divergence(ftle_from_divergence(1e-8 * np.exp(0.3 * np.arange(200))))
    >>> [line.get_label() for line in ax.lines]
    ['mean', 'fitted window']
    >>> ax.get_title()
    'divergence: λ = 0.3 per step (accepted, R² = 1)'
    """
    check_input(result, "plot_divergence")
    max_curves = check_int(max_curves, "max_curves", minimum=1)
    if max_step is not None:
        max_step = check_int(max_step, "max_step")
    ax = _axes(ax)
    if _is_ftle(result):
        _draw_ftle(ax, result, max_step)
    else:
        _draw_stability(ax, result, max_curves, max_step)
    log_scale(ax, "y")
    ax.set_xlabel("training step")
    ax.set_ylabel("d(t) / d(t₀)")
    ax.legend(fontsize=7, loc="lower right")
    return ax


def _is_ftle(result: Any) -> bool:
    return _is_instance(result, "graphtraj.timeseries.divergence.FTLEResult")


def _draw_stability(ax: Any, result: Any, max_curves: int, max_step: int | None) -> None:
    steps = np.asarray(result.steps)
    keep = slice(None) if max_step is None else steps <= max_step
    ratio = np.asarray(result.ratio)
    for i in range(min(max_curves, ratio.shape[0])):
        ax.plot(steps[keep], ratio[i][keep], lw=0.7, alpha=0.6)
    ax.plot(steps[keep], np.asarray(result.mean_ratio)[keep], color="k", lw=1.6, label="mean")
    for i in range(min(max_curves, ratio.shape[0])):
        lo, hi = (int(v) for v in result.windows[i])
        if not result.accepted[i] or lo < 0:
            continue
        d0 = result.divergence[i][0]
        tt = np.arange(lo, hi)
        fit = np.exp(result.intercept[i] + result.ftle[i] * tt) / d0
        ax.plot(tt, fit, ls="--", color="C3", lw=1.2,
                label="fitted window" if not any(
                    ln.get_label() == "fitted window" for ln in ax.lines) else None)
    what = "orbital" if getattr(result, "kind", "") == "orbital" else "divergence"
    ax.set_title(f"{what}, η = {result.lr:g}")


def _draw_ftle(ax: Any, result: Any, max_step: int | None) -> None:
    """The mean curve of an FTLEResult as a ratio, and its fit over the window.

    The fit is ``curve ≈ intercept + slope · t · dt`` over ``window[0] <= t <
    window[1]``; as a ratio it is divided by the curve's first valid value, as
    :attr:`FTLEResult.ratio` is.
    """
    steps = np.asarray(result.times)
    keep = slice(None) if max_step is None else steps <= max_step
    ax.plot(steps[keep], result.ratio[keep], color="k", lw=1.6, label="mean")
    lo, hi = result.window
    valid = np.flatnonzero(np.isfinite(result.curve))
    dt = result.params.get("dt") or 1.0
    if lo >= 0 and valid.size and np.isfinite(result.slope):
        tt = steps[(steps >= lo) & (steps < hi)]
        fit = np.exp(result.intercept + result.slope * dt * tt - result.curve[valid[0]])
        ax.plot(tt, fit, ls="--", color="C3", lw=1.2,
                label="fitted window" if result.accepted else "fitted window (rejected)")
    unit = "per step" if result.params.get("dt") is None else "per unit time"
    verdict = "accepted" if result.accepted else "rejected"
    ax.set_title(f"divergence: λ = {result.slope:.4g} {unit} ({verdict}, R² = {result.r2:.3g})")


def plot_ftle_vs_lr(diagram: Any, *, ax: Any = None) -> Any:
    """FTLE (and final loss, right axis) against the learning rate, log η axis.

    Filled markers: mean exponent over accepted fits, with the acceptance fraction
    written beside it; open markers: mean over all fits where none was accepted.

    Parameters
    ----------
    diagram : RegimeDiagram
        From :func:`graphtraj.studies.regime_diagram`.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
        The FTLE axes; the final loss is drawn on a twin axes sharing its x axis.

    Raises
    ------
    ValidationError
        If ``diagram`` is not a RegimeDiagram.

    Examples
    --------
    A diagram of two learning rates, one initial condition each:

    >>> import numpy as np
    >>> from graphtraj.studies import RegimeDiagram
    >>> d = RegimeDiagram(lrs=np.array([0.1, 1.0]), ftle=np.array([[0.01], [0.3]]),
    ...     accepted=np.array([[False], [True]]), ftle_accepted_mean=np.array([np.nan, 0.3]),
    ...     ftle_mean=np.array([0.01, 0.3]), acceptance_fraction=np.array([0.0, 1.0]),
    ...     final_loss=np.array([[0.5], [0.05]]), final_loss_median=np.array([0.5, 0.05]),
    ...     max_ratio=np.array([1.0, 1e4]), names=("a", "b"))
    >>> plot_ftle_vs_lr(d).get_xscale()
    'log'
    """
    check_input(diagram, "plot_ftle_vs_lr")
    ax = _axes(ax)
    lrs = np.asarray(diagram.lrs, dtype=float)
    acc_mean = np.asarray(diagram.ftle_accepted_mean, dtype=float)
    all_mean = np.asarray(diagram.ftle_mean, dtype=float)
    frac = np.asarray(diagram.acceptance_fraction, dtype=float)
    ok = np.isfinite(acc_mean)
    ax.plot(lrs[ok], acc_mean[ok], "o-", color="C0", label="FTLE (accepted fits)")
    ax.plot(lrs[~ok], all_mean[~ok], "o", mfc="none", color="C0", label="FTLE (no fit accepted)")
    for x, y, f in zip(lrs, np.where(ok, acc_mean, all_mean), frac, strict=True):
        if np.isfinite(y):
            ax.annotate(f"{f:.0%}", (x, y), textcoords="offset points", xytext=(3, 4), fontsize=7)
    ax.axhline(0.0, color="grey", lw=0.6)
    log_scale(ax, "x")
    ax.set_xlabel("learning rate η")
    ax.set_ylabel("FTLE (per step)", color="C0")
    twin = ax.twinx()
    twin.plot(lrs, np.asarray(diagram.final_loss_median, dtype=float), "s--", color="C1",
              label="final loss (median)")
    log_scale(twin, "y")
    twin.set_ylabel("final training loss", color="C1")
    lines = ax.get_lines()[:2] + twin.get_lines()
    ax.legend(lines, [ln.get_label() for ln in lines], fontsize=7, loc="upper left")
    ax.set_title("exponent and final loss against η")
    return ax


def _weight_norms(traj: Any) -> np.ndarray:
    states = np.asarray(traj.states, dtype=np.float64)
    mask = traj.layout.mask("weight")
    return np.sqrt(np.sum(states[:, mask] ** 2, axis=1))


def plot_weight_norms(trajectories: Mapping[str, Any], *, ax: Any = None) -> Any:
    """L2 norm of the weights (biases excluded) against the step, one line per run.

    Parameters
    ----------
    trajectories : mapping of str to Trajectory
        Label → trajectory (states are loaded).
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.axes.Axes

    Raises
    ------
    ValidationError
        If ``trajectories`` is not a mapping, is empty, or holds something other than
        a Trajectory.

    Examples
    --------
    >>> import numpy as np
    >>> from graphtraj import ParamLayout, Trajectory
    >>> tr = Trajectory(np.arange(3), np.ones((3, 2)), ParamLayout(["w"], [(2,)]))
    >>> plot_weight_norms({"run": tr}).lines[0].get_ydata().tolist()  # √2 each
    [1.4142135623730951, 1.4142135623730951, 1.4142135623730951]
    """
    check_mapping(trajectories, "plot_weight_norms", "trajectories", "trajectory",
                  "{'run': traj}")
    for label, tr in trajectories.items():
        check_input(tr, "plot_weight_norms", param=f"trajectories[{label!r}]")
    ax = _axes(ax)
    for label, tr in trajectories.items():
        ax.plot(tr.times, _weight_norms(tr), lw=1.0, label=str(label))
    ax.set_xlabel("training step")
    ax.set_ylabel("‖W‖₂ (weights)")
    ax.set_title("weight norm")
    ax.legend(fontsize=7, loc="lower right")
    return ax


def _layer_weights(layout: Any, state: np.ndarray) -> list[np.ndarray]:
    """The chain of 2-D weight matrices (out, in) of a layered network, input first."""
    params = layout.unflatten(state)
    mats = [params[n] for n, k, s in zip(layout.names, layout.kinds, layout.shapes, strict=True)
            if k == "weight" and len(s) == 2]
    if not mats:
        raise ValidationError("`traj` must have 2-D weight matrices to draw a layered network")
    for a, b in zip(mats[:-1], mats[1:], strict=True):
        if b.shape[1] != a.shape[0]:
            raise ValidationError(
                "`traj` must be a layered network whose weight matrices chain "
                f"(out, in) -> (next out, out); got shapes {[m.shape for m in mats]}"
            )
    return mats


def plot_network_snapshot(
    traj: Any, index: int = -1, *, ax: Any = None, max_width: float = 4.0,
    title: str | None = None,
) -> Any:
    """Draw one recorded state of an MLP as a layered graph.

    Neurons are drawn in columns (input layer left), edges as lines whose colour is
    the sign of the weight (red positive, blue negative) and whose width is
    proportional to ``|w|`` (the largest ``|w|`` gets ``max_width`` points).

    Parameters
    ----------
    traj : Trajectory
        A run of a layered network (weights ``(out, in)`` in layer order, as
        :meth:`ParamLayout.for_mlp`).
    index : int, default -1
        Record to draw (positional; -1 = last).
    ax : matplotlib Axes, optional
        Where to draw; a new figure otherwise.
    max_width : float, default 4.0
        Line width in points of the largest ``|w|``; must be positive.
    title : str, optional
        Default: the step and the colour key.

    Returns
    -------
    matplotlib.axes.Axes

    Raises
    ------
    ValidationError
        If ``traj`` is not a Trajectory, its layout is not a chain of weight matrices,
        ``index`` is out of range or ``max_width`` is not positive.

    Examples
    --------
    >>> import numpy as np
    >>> from graphtraj import ParamLayout, Trajectory
    >>> lay = ParamLayout.for_mlp([4, 10, 3])
    >>> tr = Trajectory(np.arange(2), np.random.default_rng(0).normal(size=(2, 83)), lay)
    >>> len(plot_network_snapshot(tr).collections[0].get_segments())  # 4·10 + 10·3 edges
    70
    """
    from matplotlib.collections import LineCollection

    check_input(traj, "plot_network_snapshot")
    n = len(traj)
    index = check_int(index, "index", minimum=-n, maximum=n - 1)
    max_width = check_real(max_width, "max_width", minimum=0.0, strict_min=True)
    mats = _layer_weights(traj.layout, np.asarray(traj.states[index], dtype=np.float64))
    sizes = [mats[0].shape[1]] + [m.shape[0] for m in mats]
    ax = _axes(ax, (4.8, 3.6))

    def ypos(k: int) -> np.ndarray:
        return np.linspace(-(k - 1) / 2, (k - 1) / 2, k) if k > 1 else np.zeros(1)

    segs, colors, widths = [], [], []
    wmax = max(float(np.max(np.abs(m))) for m in mats) or 1.0
    for layer, m in enumerate(mats):
        y_in, y_out = ypos(m.shape[1]), ypos(m.shape[0])
        for o in range(m.shape[0]):
            for i in range(m.shape[1]):
                w = m[o, i]
                segs.append([(layer, y_in[i]), (layer + 1, y_out[o])])
                colors.append("#c0392b" if w > 0 else "#2c7bb6")
                widths.append(max_width * abs(w) / wmax)
    ax.add_collection(LineCollection(segs, colors=colors, linewidths=widths, alpha=0.8,
                                     zorder=1))
    for layer, k in enumerate(sizes):
        ax.scatter(np.full(k, layer), ypos(k), s=60, c="white", edgecolors="k", zorder=2)
    ax.set_xlim(-0.3, len(sizes) - 0.7)
    half = (max(sizes) - 1) / 2 + 0.6
    ax.set_ylim(-half, half)
    ax.set_xticks(range(len(sizes)))
    ax.set_xticklabels(["input"] + [f"hidden {j}" for j in range(1, len(sizes) - 1)] + ["output"])
    ax.set_yticks([])
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    step = int(traj.times[index])
    ax.set_title(title or f"network at step {step} (red +, blue −; width ∝ |w|)")
    return ax
