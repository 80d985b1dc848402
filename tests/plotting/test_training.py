"""Tests for graphtraj.plotting.training (figures of training runs)."""

import numpy as np
import pytest
from matplotlib.colors import to_hex

from graphtraj import ParamLayout, Trajectory
from graphtraj.exceptions import ValidationError
from graphtraj.plotting import (
    plot_divergence,
    plot_ftle_vs_lr,
    plot_loss_curves,
    plot_network_snapshot,
    plot_weight_norms,
)


@pytest.fixture
def synthetic_result():
    """A StabilityResult with two inits diverging as e^{0.3 t} and e^{0.1 t}."""
    from graphtraj.studies import stability_config, stability_from_ensemble
    from graphtraj.trajectory import Ensemble, ParamLayout

    t = np.arange(201)
    d = np.zeros((4, 201))
    d[1] = 35e-8 * np.exp(0.3 * t)
    d[3] = 35e-8 * np.exp(0.01 * t)
    ens = Ensemble(ParamLayout.for_mlp([2, 2, 2]), t,
                   {"dist_l1": d, "loss": np.tile(np.exp(-t / 50), (4, 1))},
                   reference=np.array([0, 0, 2, 2]), diverged_at=np.full(4, -1))
    return stability_from_ensemble(ens, stability_config(1.0, n_steps=200))


@pytest.fixture
def mlp_traj(rng):
    lay = ParamLayout.for_mlp([4, 10, 3])
    return Trajectory(np.arange(0, 30, 10), rng.normal(size=(3, lay.size)), lay,
                      loss=np.array([1.0, 0.5, 0.2]))


def test_network_snapshot_edges_follow_weights(mlp_traj):
    """70 edges; red exactly where w > 0; widths ∝ |w| with the largest at max_width."""
    ax = plot_network_snapshot(mlp_traj, 1, max_width=5.0)
    lines = ax.collections[0]
    params = mlp_traj.params(1)
    w = np.concatenate([params["layers.0.weight"].ravel(), params["layers.1.weight"].ravel()])
    # edges are drawn per layer, for each output o then input i: the row-major order
    assert len(lines.get_segments()) == 70
    red = np.array([to_hex(c) == "#c0392b" for c in lines.get_colors()])
    np.testing.assert_array_equal(red, w > 0)
    np.testing.assert_allclose(lines.get_linewidths(), 5.0 * np.abs(w) / np.abs(w).max())
    # neurons: 4 + 10 + 3 markers in three columns
    xs = np.concatenate([c.get_offsets()[:, 0] for c in ax.collections[1:]])
    assert np.bincount(xs.astype(int)).tolist() == [4, 10, 3]
    assert "step 10" in ax.get_title()


def test_network_snapshot_rejects_non_layered(rng):
    """A layout whose weights do not chain cannot be drawn as a layered network."""
    lay = ParamLayout(["a.weight", "b.weight"], [(3, 2), (2, 5)])
    tr = Trajectory(np.arange(2), rng.normal(size=(2, lay.size)), lay)
    with pytest.raises(ValidationError, match="must be a layered network"):
        plot_network_snapshot(tr)
    flat = Trajectory(np.arange(2), rng.normal(size=(2, 3)), ParamLayout(["w"], [(3,)]))
    with pytest.raises(ValidationError, match="2-D weight matrices"):
        plot_network_snapshot(flat)
    with pytest.raises(ValidationError, match="`index` must be <= 1"):
        plot_network_snapshot(tr, 2)


def test_weight_norms_exclude_biases(mlp_traj):
    """The plotted norm is sqrt(sum of squared weights), biases left out."""
    ax = plot_weight_norms({"a": mlp_traj, "b": mlp_traj})
    states = np.asarray(mlp_traj.states)
    want = np.sqrt((states[:, mlp_traj.layout.mask("weight")] ** 2).sum(1))
    np.testing.assert_allclose(ax.lines[0].get_ydata(), want)
    np.testing.assert_array_equal(ax.lines[1].get_xdata(), [0, 10, 20])
    with pytest.raises(ValidationError, match="at least one trajectory"):
        plot_weight_norms({})


def test_divergence_and_loss_plots(synthetic_result):
    """Divergence: one line per init, the mean, and one fitted line per accepted fit."""
    res = synthetic_result
    ax = plot_divergence(res)
    n = res.ratio.shape[0]
    assert len(ax.lines) == n + 1 + int(res.accepted.sum())
    assert ax.get_yscale() == "log"
    fitted = ax.lines[n + 1]
    lo, hi = res.windows[0]
    np.testing.assert_array_equal(fitted.get_xdata(), np.arange(lo, hi))
    np.testing.assert_allclose(fitted.get_ydata(), np.exp(0.3 * np.arange(lo, hi)), rtol=1e-9)
    ax2 = plot_divergence(res, max_step=50, max_curves=1)
    assert ax2.lines[0].get_xdata().max() == 50
    ax3 = plot_loss_curves(res, max_curves=1)
    assert len(ax3.lines) == 1 and ax3.get_yscale() == "log"
    with pytest.raises(ValidationError, match="`max_curves` must be >= 1"):
        plot_loss_curves(res, max_curves=0)


def test_ftle_vs_lr_markers():
    """Accepted means are drawn as a line, the others as open markers; x axis log."""
    from graphtraj.studies import RegimeDiagram

    d = RegimeDiagram(lrs=np.array([0.01, 1.0, 5.0]), ftle=np.zeros((3, 1)),
                      accepted=np.zeros((3, 1), bool),
                      ftle_accepted_mean=np.array([np.nan, 0.3, 0.4]),
                      ftle_mean=np.array([0.001, 0.3, 0.2]),
                      acceptance_fraction=np.array([0.0, 1.0, 0.6]),
                      final_loss=np.zeros((3, 1)),
                      final_loss_median=np.array([0.2, 0.03, 5.0]),
                      max_ratio=np.ones(3), names=("a", "b", "c"))
    ax = plot_ftle_vs_lr(d)
    assert ax.get_xscale() == "log"
    np.testing.assert_array_equal(ax.lines[0].get_xdata(), [1.0, 5.0])
    np.testing.assert_array_equal(ax.lines[1].get_ydata(), [0.001])
    assert [t.get_text() for t in ax.texts] == ["0%", "100%", "60%"]


def test_divergence_plot_draws_an_ftle_result():
    """An FTLEResult is drawn as its mean curve d(t)/d(t₀) with the fitted exponential
    over its window; for d(t) = 1e-8·e^{0.3 t} both are exactly e^{0.3 t}, also when
    the slope is per unit time (dt = 0.5: λ = 0.6 per unit, the same line per step)."""
    from graphtraj.timeseries import ftle_from_divergence

    t = np.arange(200)
    for dt in (None, 0.5):
        res = ftle_from_divergence(1e-8 * np.exp(0.3 * t), dt=dt)
        ax = plot_divergence(res)
        curve, fit = ax.lines
        np.testing.assert_allclose(curve.get_ydata(), np.exp(0.3 * t), rtol=1e-9)
        lo, hi = res.window
        np.testing.assert_array_equal(fit.get_xdata(), np.arange(lo, hi))
        np.testing.assert_allclose(fit.get_ydata(), np.exp(0.3 * np.arange(lo, hi)), rtol=1e-9)
        assert fit.get_label() == "fitted window" and "(accepted" in ax.get_title()
    assert "per unit time" in ax.get_title()
    ax = plot_divergence(res, max_step=50)
    assert ax.lines[0].get_xdata().max() == 50


def test_divergence_plot_marks_a_rejected_ftle_fit():
    """A flat curve is fitted (slope 0) but rejected: the fit is drawn and labelled so."""
    from graphtraj.timeseries import ftle_from_divergence

    res = ftle_from_divergence(np.full(200, 3e-7))
    ax = plot_divergence(res)
    assert ax.lines[1].get_label() == "fitted window (rejected)"
    assert "rejected" in ax.get_title()


def test_training_plots_check_their_inputs(synthetic_result, mlp_traj):
    """Foreign inputs and bad sizes raise ValidationError with the remedy, not an
    AttributeError: a GraphSeries, an Ensemble, a mapping of arrays, a bare trajectory."""
    from graphtraj.snapshots import GraphSeries

    gs = GraphSeries.from_layers(np.arange(2), [np.ones((2, 3, 2))])
    with pytest.raises(ValidationError, match=r"plot_network_snapshot expects `traj` to be a "
                       r"Trajectory .*got GraphSeries\. Pass the result of .*\. A GraphSeries is drawn through"):
        plot_network_snapshot(gs)
    with pytest.raises(ValidationError, match=r"got Ensemble\. Pass the result of .*\. An Ensemble holds many runs: "
                       r"pass one of them, `ensemble.replica\(r\)`"):
        plot_network_snapshot(synthetic_result.ensemble)
    with pytest.raises(ValidationError, match=r"`trajectories\['a'\]` to be a Trajectory "
                       r".*got ndarray of shape \(3,\)"):
        plot_weight_norms({"a": np.ones(3)})
    with pytest.raises(ValidationError, match=r"`trajectories` to be a mapping of label to "
                       r"trajectory; got Trajectory\. Wrap it in a dict, e.g. \{'run': traj\}"):
        plot_weight_norms(mlp_traj)
    with pytest.raises(ValidationError, match="`max_width` must be > 0"):
        plot_network_snapshot(mlp_traj, max_width=0)
    with pytest.raises(ValidationError, match="`max_step` must be an integer"):
        plot_divergence(synthetic_result, max_step="50")
    with pytest.raises(ValidationError, match=r"plot_ftle_vs_lr expects `diagram` to be a "
                       r"RegimeDiagram \(from regime_diagram\); got StabilityResult"):
        plot_ftle_vs_lr(synthetic_result)

