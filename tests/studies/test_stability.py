"""Tests for graphtraj.studies.stability (dynamical and orbital stability)."""

import json

import numpy as np
import pytest

from graphtraj.exceptions import InsufficientDataError, UnknownOptionError, ValidationError
from graphtraj.studies import (
    StabilityResult,
    dynamical_stability,
    orbital_stability,
    stability_config,
    stability_from_ensemble,
)

EPS = 1e-8


def test_exact_exponentials(synthetic_ensemble):
    """Copies diverging as c·ε·e^{λ_i t}: FTLE = λ_i, ratio = e^{λ_i t}, divergence = mean(c)·ε·e^{λ_i t}."""
    t = np.arange(201)
    lams = np.array([0.3, 0.1])
    cs = np.array([[30.0, 40.0], [20.0, 50.0]])
    dist = cs[:, :, None] * EPS * np.exp(lams[:, None, None] * t)
    res = stability_from_ensemble(synthetic_ensemble(dist), stability_config(1.0, n_steps=200))
    assert isinstance(res, StabilityResult)
    np.testing.assert_allclose(res.ftle, lams, atol=1e-10)
    assert res.accepted.tolist() == [True, True]
    np.testing.assert_allclose(res.divergence, cs.mean(1)[:, None] * EPS * np.exp(lams[:, None] * t),
                               rtol=1e-12)
    np.testing.assert_allclose(res.ratio, np.exp(lams[:, None] * t), rtol=1e-12)
    np.testing.assert_allclose(res.mean_ratio, np.exp(lams[:, None] * t).mean(0), rtol=1e-12)
    assert res.max_ratio == pytest.approx(res.mean_ratio[-1])
    assert res.peak_ratio_median == pytest.approx(np.median(np.exp(lams * 200)))
    assert res.acceptance_fraction == 1.0
    assert res.ftle_accepted_mean == pytest.approx(0.2, abs=1e-10)
    np.testing.assert_allclose(res.intercept, np.log(cs.mean(1) * EPS), rtol=1e-9)
    assert res.n_inits == 2 and res.n_diverged == 0


def test_l2_metric_and_geometric_mean(synthetic_ensemble):
    """metric='l2' reads dist_l2 (here dist_l1 / 2); the geometric mean gives the same slope."""
    t = np.arange(150)
    dist = np.array([[[1.0], [4.0]]]).reshape(1, 2, 1) * EPS * np.exp(0.2 * t)
    ens = synthetic_ensemble(dist)
    l1 = stability_from_ensemble(ens, stability_config(1.0, n_steps=149))
    l2 = stability_from_ensemble(ens, stability_config(1.0, n_steps=149, metric="l2"))
    np.testing.assert_allclose(l2.divergence, l1.divergence / 2, rtol=1e-12)
    geo = stability_from_ensemble(ens, stability_config(1.0, n_steps=149, mean="geometric"))
    assert geo.ftle[0] == pytest.approx(0.2, abs=1e-10)
    assert geo.intercept[0] == pytest.approx(np.log(2 * EPS), rel=1e-9)  # √(1·4) ε


def test_flat_divergence_is_stable(synthetic_ensemble, rng):
    """Noisy flat divergence: no accepted exponent, ratio of order 1."""
    dist = 35 * EPS * np.exp(rng.normal(0, 0.05, (3, 2, 300)))
    res = stability_from_ensemble(synthetic_ensemble(dist), stability_config(0.01, n_steps=299))
    assert not res.accepted.any() and res.acceptance_fraction == 0.0
    assert np.isnan(res.ftle_accepted_mean)
    assert res.max_ratio < 1.5


def test_orbital_curves_start_at_t0(synthetic_ensemble):
    """Perturbed at t0 = 100 (distances 0 before): curves start at 100, FTLE exact."""
    t = np.arange(301)
    d = np.where(t < 100, 0.0, 35 * EPS * np.exp(0.25 * (t - 100)))
    ens = synthetic_ensemble(np.tile(d, (2, 2, 1)))
    res = stability_from_ensemble(ens, stability_config(0.01, kind="orbital", t0=100, n_steps=300))
    assert res.kind == "orbital" and res.t0 == 100
    assert res.steps[0] == 100 and res.steps.size == 201
    np.testing.assert_allclose(res.ratio[:, 0], 1.0)
    np.testing.assert_allclose(res.ftle, 0.25, atol=1e-10)
    assert res.loss.shape == (2, 301)  # loss over the whole run


def test_diverged_copy_left_out(synthetic_ensemble):
    """A copy that diverged (NaN from step 50) is left out of the mean from then on."""
    t = np.arange(200)
    dist = np.stack([EPS * np.exp(0.1 * t), 3 * EPS * np.exp(0.1 * t)])[None]
    dist[0, 1, 50:] = np.nan
    res = stability_from_ensemble(synthetic_ensemble(dist), stability_config(1.0, n_steps=199))
    assert res.divergence[0, 10] == pytest.approx(2 * EPS * np.exp(1.0))
    assert res.divergence[0, 100] == pytest.approx(EPS * np.exp(10.0))
    assert np.isfinite(res.ftle).all()


def test_as_dict_excludes_ensemble(synthetic_ensemble):
    """as_dict is JSON-able, has the summaries and leaves the ensemble out."""
    dist = EPS * np.exp(0.2 * np.arange(100))[None, None, :].repeat(2, 1)
    res = stability_from_ensemble(synthetic_ensemble(dist), stability_config(1.0, n_steps=99))
    out = res.as_dict()
    assert "ensemble" not in out and out["acceptance_fraction"] == 1.0
    json.dumps(out)


def test_config_from_metadata(synthetic_ensemble):
    """Without a config, the one stored by train_stability in metadata['study'] is used."""
    dist = EPS * np.exp(0.2 * np.arange(100))[None, None, :]
    cfg = stability_config(1.0, n_steps=99, n_inits=1, n_perturb=1)
    from graphtraj.studies.stability import train_key

    ens = synthetic_ensemble(dist, metadata={"study": {"kind": "dynamical", "train": train_key(cfg)}})
    res = stability_from_ensemble(ens)
    assert res.ftle[0] == pytest.approx(0.2, abs=1e-10)
    with pytest.raises(ValidationError, match="`config` must be given"):
        stability_from_ensemble(synthetic_ensemble(dist))


def test_analysis_validation(synthetic_ensemble):
    """Missing distance observable or references without copies raise ValidationError."""
    from graphtraj.trajectory import Ensemble

    dist = EPS * np.exp(0.2 * np.arange(100))[None, None, :]
    ens = synthetic_ensemble(dist)
    bare = Ensemble(ens.layout, ens.steps, {"loss": ens.observables["loss"]},
                    reference=ens.reference, diverged_at=ens.diverged_at)
    with pytest.raises(ValidationError, match="observable 'dist_l1'"):
        stability_from_ensemble(bare, stability_config(1.0, n_steps=99))
    lonely = Ensemble(ens.layout, ens.steps, {"dist_l1": np.zeros((1, 100))},
                      reference=np.array([0]), diverged_at=np.array([-1]))
    with pytest.raises(ValidationError, match="has none"):
        stability_from_ensemble(lonely, stability_config(1.0, n_steps=99))


@pytest.mark.parametrize(
    ("kwargs", "exc", "match"),
    [
        ({"kind": "spectral"}, UnknownOptionError, "`kind` must be one of"),
        ({"lr": 0.0}, ValidationError, "`lr` must be > 0.0"),
        ({"n_perturb": 0}, ValidationError, "`n_perturb` must be >= 1"),
        ({"n_inits": 0}, ValidationError, "`n_inits` must be >= 1"),
        ({"eps": -1e-8}, ValidationError, "`eps` must be > 0.0"),
        ({"t0": 500}, ValidationError, "`t0` must be < n_steps"),
        ({"n_steps": 20}, InsufficientDataError, "min\\(starts\\) \\+ min\\(widths\\) = 30"),
        ({"metric": "cosine"}, UnknownOptionError, "`metric` must be one of"),
        ({"dtype": "float16"}, UnknownOptionError, "`dtype` must be one of"),
        ({"starts": []}, ValidationError, "must not be empty"),
        ({"record_every": 0}, ValidationError, "`record_every` must be >= 1"),
        ({"model": {"sizes": [4, object()]}}, ValidationError, "must be JSON-able"),
    ],
)
def test_config_validation(kwargs, exc, match):
    """Each invalid configuration value raises our error naming it."""
    args = {"lr": 1.0, "n_steps": 200, **kwargs}
    lr = args.pop("lr")
    with pytest.raises(exc, match=match):
        stability_config(lr, **args)


def test_short_run_with_explicit_window_is_allowed():
    """An explicit window lifts the minimum-length rule."""
    cfg = stability_config(1.0, n_steps=20, window=(0, 10))
    assert cfg["window"] == [0, 10]


# ------------------------------------------------------------- real training
def test_dynamical_stability_real_tiny():
    """Real run: d(0) of U(−ε, ε) on 70 weights ≈ 35ε; loss equals a direct train_ensemble."""
    from graphtraj.capture.ensemble import train_ensemble
    from graphtraj.capture.models import init_states
    from graphtraj.datasets import load_iris

    res = dynamical_stability(1.0, n_inits=2, n_perturb=3, n_steps=60, seed=3,
                              starts=[0], widths=[30], progress=False)
    d0 = res.divergence[:, 0]
    assert np.all((d0 > 25 * EPS) & (d0 < 45 * EPS))
    np.testing.assert_array_equal(res.ratio[:, 0], 1.0)
    X, y = load_iris()
    from graphtraj.studies.stability import torch_threads

    inits = init_states({"sizes": [4, 10, 3]}, 2, rng=3)
    with torch_threads(1):
        ens = train_ensemble({"sizes": [4, 10, 3]}, X, y, lr=1.0, n_steps=60, inits=inits,
                             n_perturb=0, observe=("loss",), progress=False)
    np.testing.assert_array_equal(res.loss, ens.observables["loss"])
    again = dynamical_stability(1.0, n_inits=2, n_perturb=3, n_steps=60, seed=3,
                                starts=[0], widths=[30], progress=False)
    np.testing.assert_array_equal(again.divergence, res.divergence)


def test_edge_of_stability_exponent_matches_paper():
    """η = 1, ε = 1e-8: most inits give accepted exponents near the paper's ≈0.3 per step."""
    res = dynamical_stability(1.0, n_inits=4, n_perturb=3, n_steps=200, progress=False)
    assert res.acceptance_fraction >= 0.75
    assert 0.15 < res.ftle_accepted_mean < 0.6


def test_low_lr_divergence_stays_small():
    """η = 0.01 over 300 steps: no accepted exponent, divergence ratio below 5."""
    res = dynamical_stability(0.01, n_inits=3, n_perturb=2, n_steps=300, progress=False)
    assert res.acceptance_fraction == 0.0
    assert res.max_ratio < 5


def test_orbital_stability_real_tiny():
    """Orbital run perturbed at t0 = 50: curves start at 50 with d(t0) ≈ 35ε."""
    res = orbital_stability(0.01, t0=50, n_follow=40, n_inits=2, n_perturb=2,
                            starts=[0], widths=[30], progress=False)
    assert res.kind == "orbital" and res.steps[0] == 50 and res.steps[-1] == 90
    assert np.all((res.divergence[:, 0] > 20 * EPS) & (res.divergence[:, 0] < 50 * EPS))
    assert res.ensemble.metadata["perturbation"]["t0"] == 50
