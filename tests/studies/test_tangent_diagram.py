"""Tests for graphtraj.studies.tangent_diagram (tangent-map exponent and sharpness across η)."""

import json

import numpy as np
import pytest

from graphtraj.exceptions import ValidationError


@pytest.fixture(scope="module")
def small_sweep():
    """A tiny tangent sweep: two learning rates, two initial conditions, 12 steps."""
    from graphtraj.studies import tangent_sweep

    return tangent_sweep([1.0, 0.05], n_steps=12, n_inits=2, seed=3, progress=False)


def test_exponent_equals_lyapunov_spectrum_directly(small_sweep):
    """The sweep's exponent at each η is lyapunov_spectrum(k=1) on the same map, initial
    conditions (init_states with the seed) and tangent seed, called directly."""
    from graphtraj.capture.models import init_states
    from graphtraj.datasets import load_data
    from graphtraj.dynamics import lyapunov_spectrum, training_map
    from graphtraj.studies.stability import PAPER_DATA, PAPER_MODEL

    X, y = load_data(PAPER_DATA)
    x0 = init_states(PAPER_MODEL, 2, rng=3)
    assert small_sweep.lrs.tolist() == [0.05, 1.0]
    for i, lr in enumerate(small_sweep.lrs):
        tm = training_map(PAPER_MODEL, X, y, lr=float(lr), fast=True)
        want = lyapunov_spectrum(tm, x0, 12, k=1, rng=3).exponents[:, 0]
        np.testing.assert_allclose(small_sweep.max_exponent[i], want, rtol=0, atol=1e-12)
        np.testing.assert_allclose(small_sweep.max_exponent_mean[i], want.mean(), atol=1e-12)


def test_sharpness_equals_dynamics_sharpness_directly(small_sweep):
    """Sharpness at steps 0, 6, 12 equals dynamics.sharpness of the Hessian at the state
    reached by stepping the map (general, non-fast path for the operator: an independent
    implementation); the ratio is sharpness·η/2 and the threshold 2/η."""
    import torch

    from graphtraj.capture.models import init_states
    from graphtraj.datasets import load_data
    from graphtraj.dynamics import HessianOperator, sharpness, training_map
    from graphtraj.studies.stability import PAPER_DATA, PAPER_MODEL

    X, y = load_data(PAPER_DATA)
    assert small_sweep.sharpness_steps.tolist() == [0, 6, 12]
    lr = 1.0
    tm = training_map(PAPER_MODEL, X, y, lr=lr, fast=True)
    x = torch.as_tensor(init_states(PAPER_MODEL, 2, rng=3))
    want = np.zeros((2, 3))
    for t in range(13):
        if t in (0, 6, 12):
            for r in range(2):
                op = HessianOperator(PAPER_MODEL, X, y, params=x[r].numpy())
                want[r, t // 6] = sharpness(op, rng=0).value
        with torch.no_grad():
            x = tm.step(x, t)
    np.testing.assert_allclose(small_sweep.sharpness[1], want, rtol=1e-7)
    np.testing.assert_allclose(small_sweep.ratio[1], want * lr / 2, rtol=1e-7)
    np.testing.assert_allclose(small_sweep.threshold, [2 / 0.05, 2.0])
    assert small_sweep.max_ratio[1] == pytest.approx(want.max() * lr / 2, rel=1e-7)


def test_onsets_and_summary():
    """positive_from / edge_from pick the smallest η over the tolerance / reaching 2/η
    (hand-made arrays); summary() is JSON-able and carries them."""
    from graphtraj.studies.tangent_diagram import POSITIVE_TOL, TangentSweep

    lrs = np.array([0.1, 1.0, 5.0])
    ts = TangentSweep(
        lrs=lrs, max_exponent=np.zeros((3, 1)),
        max_exponent_mean=np.array([0.0, POSITIVE_TOL / 2, 0.2]),
        sharpness_steps=np.array([0]), sharpness=np.ones((3, 1, 1)), ratio=np.ones((3, 1, 1)),
        max_ratio=np.array([np.nan, 1.0, 3.0]), threshold=2 / lrs,
        diverged_at=np.full((3, 1), -1), params={},
    )
    assert ts.positive_from == 5.0 and ts.edge_from == 1.0
    s = ts.summary()
    assert s["positive_from"] == 5.0 and s["edge_from"] == 1.0
    json.dumps(s)
    none = TangentSweep(**{**ts.__dict__, "max_exponent_mean": np.zeros(3),
                           "max_ratio": np.full(3, 0.5)})
    assert none.positive_from is None and none.edge_from is None


def test_quick_caps_steps_and_inits_and_every():
    """quick caps n_steps at 50 and n_inits at 3; sharpness_every sets the grid."""
    from graphtraj.studies import tangent_sweep

    ts = tangent_sweep([0.5], n_steps=60, n_inits=4, quick=True, sharpness_every=25,
                       progress=False)
    assert ts.params["n_steps"] == 50 and ts.params["n_inits"] == 3
    assert ts.max_exponent.shape == (1, 3)
    assert ts.sharpness_steps.tolist() == [0, 25, 50]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"lrs": []}, "at least 1 sample"),
        ({"lrs": [0.1, -1.0]}, "must all be > 0"),
        ({"lrs": [0.1, 0.1]}, "must be distinct"),
        ({"lrs": [0.1, np.nan]}, "lrs"),
        ({"lrs": [0.1], "n_steps": 0}, "n_steps"),
        ({"lrs": [0.1], "n_inits": 0}, "n_inits"),
        ({"lrs": [0.1], "seed": -1}, "seed"),
        ({"lrs": [0.1], "n_steps": 5, "sharpness_every": 6}, "sharpness_every"),
        ({"lrs": [0.1], "sharpness_every": 0}, "sharpness_every"),
    ],
)
def test_validation(kwargs, match):
    """Invalid arguments raise ValidationError naming the parameter, before any work."""
    from graphtraj.studies import tangent_sweep

    with pytest.raises(ValidationError, match=match):
        tangent_sweep(**kwargs)


def test_study_summary_and_report(tiny_tangent_study):
    """The tiny study runs the tangent sweep on its sweep's η and initial conditions; its
    numbers are in summary.json under the sweep, and the report has the figure and the
    sentence."""
    study, out = tiny_tangent_study
    ts = study.tangent
    np.testing.assert_allclose(ts.lrs, study.diagram.lrs)
    assert ts.params["n_inits"] == study.settings.sweep_inits
    assert ts.params["seed"] == study.settings.seed
    assert ts.params["n_steps"] == min(100, study.settings.sweep_steps)
    summary = json.loads((out / "summary.json").read_text())
    got = summary["sweep"]["tangent_sweep"]
    np.testing.assert_allclose(got["max_exponent_mean"], ts.max_exponent_mean)
    np.testing.assert_allclose(got["max_ratio"], ts.max_ratio)
    assert got["edge_from"] == ts.edge_from and got["positive_from"] == ts.positive_from
    html = (out / "report.html").read_text()
    assert "Tangent-map exponent and sharpness against η" in html
    assert "Across the sweep, the tangent map" in html
    assert "tangent λ_max (mean)" in html


@pytest.fixture(scope="module")
def tiny_tangent_study(tmp_path_factory):
    """A tiny study (report tests' settings) with no report sections."""
    import warnings

    import graphtraj.studies.iris as iris
    from graphtraj.studies.iris import StudySettings

    def tiny(mode="default", *, seed=0):
        return StudySettings(
            mode="quick", seed=seed, eps=1e-8, n_inits=2, n_perturb=1,
            regimes=(("stable", 0.01, 60, 60), ("edge", 1.0, 40, 60),
                     ("chaotic", 5.0, 40, 130)),
            orbital=(0.01, 30, 35), sweep_lrs=(0.1, 1.0), sweep_steps=40, sweep_inits=2,
            sweep_perturb=1,
        )

    out = tmp_path_factory.mktemp("tangent_study")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(iris, "study_settings", tiny)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            study = iris.iris_study(out, mode="quick", progress=False, sections=())
    assert "tangent_sweep" in study.timings
    return study, out
