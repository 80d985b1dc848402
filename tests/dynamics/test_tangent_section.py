"""Tests of graphtraj.report.sections.tangent (report section and `analyze --tangent`)."""

import base64
import json
from types import SimpleNamespace

import numpy as np
import pytest

from graphtraj.exceptions import NotReplayableError, ValidationError


@pytest.fixture(scope="module")
def runs():
    from graphtraj.capture import train_ensemble
    from graphtraj.datasets import load_iris
    from graphtraj.datasets.registry import data_ref

    X, y = load_iris()
    common = dict(lr=1.0, data_ref=data_ref("iris"), seed=3)
    pair = train_ensemble({"sizes": [4, 10, 3]}, X, y, n_steps=40, n_perturb=1, record_every=1, **common)
    ens = train_ensemble({"sizes": [4, 10, 3]}, X, y, n_steps=40, n_perturb=3, **common)
    return pair, ens


def _regime(runs, **extras):
    from graphtraj.studies.regime import RegimeRun

    pair, ens = runs
    return RegimeRun(name="edge", lr=1.0, reference=pair.replica(0), perturbed=pair.replica(1),
                     ensemble=ens, quick=True, extras=extras)


def test_build_on_a_synthetic_regime(runs):
    """build() replays the reference, gives the 83-exponent spectrum, sharpness and a figure."""
    import matplotlib

    matplotlib.use("Agg")
    from graphtraj.report.sections import tangent

    sec = tangent.build(_regime(runs))
    n = sec.numbers
    assert sec.key == "tangent" and n["n_exponents"] == 83 and len(n["spectrum"]) == 83
    assert n["n_steps"] == 40 and n["replay_error"] < 1e-12 and n["threshold"] == 2.0
    assert n["spectrum"] == sorted(n["spectrum"], reverse=True)  # reported sorted
    assert n["max_exponent"] == n["spectrum"][0]  # the largest exponent, as listed
    assert n["exponent_sum"] == pytest.approx(sum(n["spectrum"]), abs=1e-12)
    assert n["n_positive"] + n["n_near_zero"] <= 83
    assert "perturbation_ftle" in n and "η = 1" in sec.summary_html
    png = base64.b64decode(sec.figures[0].png_base64)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    json.dumps(sec.as_dict())


def test_build_prefers_the_study_ftle(runs):
    """A StabilityResult-like entry in extras["ensemble"] supplies the perturbation FTLE."""
    from graphtraj.report.sections import tangent

    stab = SimpleNamespace(ftle=np.array([0.25, 0.3]), accepted=np.array([True, True]),
                           windows=np.array([[5, 35], [0, 30]]))
    sec = tangent.build(_regime(runs, ensemble=stab))
    n = sec.numbers
    assert n["perturbation_ftle"] == 0.25 and n["perturbation_window"] == [5, 35]
    assert n["perturbation_ftle_accepted_mean"] == pytest.approx(0.275)
    assert n["tangent_on_perturbation_window"] is not None and "steps 5–35" in sec.summary_html


def test_analyze_stored_run(runs, tmp_path):
    """analyze() works on a run read back from a store and returns JSON-able numbers."""
    from graphtraj import open_store
    from graphtraj.report.sections import tangent

    pair, _ = runs
    with open_store(tmp_path / "s", mode="w") as store:
        store.write("ref", pair.replica(0))
    traj = open_store(tmp_path / "s", mode="r").read("ref")
    out = tangent.analyze(traj, n_steps=20, every=10, k=3)
    assert out["n_steps"] == 20 and len(out["spectrum"]) == 3 and out["first_reach"] >= 0
    json.dumps(out)
    with pytest.raises(ValidationError, match="unknown 'window'"):
        tangent.analyze(traj, window=3)


def test_analyze_not_replayable(runs):
    """A run without a data reference gives NotReplayableError with the reason."""
    from graphtraj.capture import train_ensemble
    from graphtraj.datasets import load_iris
    from graphtraj.report.sections import tangent

    X, y = load_iris()
    ens = train_ensemble({"sizes": [4, 10, 3]}, X, y, lr=1.0, n_steps=3, record_every=1)
    with pytest.raises(NotReplayableError, match="cannot be replayed"):
        tangent.analyze(ens.replica(0))


def test_summary_wording_for_sharpness_starting_above_threshold():
    """A run that starts above 2/η says so (not 'reaches it at step 0'); one crossing is
    singular."""
    from types import SimpleNamespace

    from graphtraj.report.sections.tangent import _summary

    nums = {"max_exponent_early": 0.3, "n_steps": 200, "n_positive": 5, "n_exponents": 83,
            "n_near_zero": 11, "threshold": 2.0, "n_crossings": 1, "first_reach": 0,
            "sharpness_initial": 2.5, "late_ratio": 0.98}
    text = _summary(SimpleNamespace(lr=1.0), nums, None)
    assert "Sharpness starts above 2/η = 2 (2.5), crosses it 1 time and" in text
    text = _summary(SimpleNamespace(lr=1.0), {**nums, "first_reach": 7, "sharpness_initial": 1.2,
                                              "n_crossings": 4}, None)
    assert "Sharpness 1.2 at the start reaches 2/η = 2 at step 7, crosses it 4 times" in text


def _fake_measure(exponents, early, stderr):
    """The inputs of `_numbers` for a one-replica spectrum with the given columns."""
    ex = np.array([exponents], dtype=float)
    spec = SimpleNamespace(
        exponents=ex, stderr=np.array([stderr], dtype=float), replay_error=None,
        params={"t0": 0}, finite_time_exponents=lambda a, b: np.array([early], dtype=float))
    track = SimpleNamespace(edge=None, threshold=2.0, sharpness=np.array([1.0, 1.5]),
                            converged=np.array([True, True]))
    return {"spectrum": spec, "track": track, "n_steps": 50, "map": SimpleNamespace(dim=3)}


def test_max_exponent_is_the_largest_of_the_listed_spectrum():
    """When QR column 0 is not the largest final exponent, `max_exponent` is still
    spectrum[0], and its early value and standard error come from that same column."""
    from graphtraj.report.sections.tangent import ZERO_TOL, _numbers

    m = _fake_measure([-0.2, 0.5, 0.0], early=[-0.1, 0.4, 0.05], stderr=[0.01, 0.02, 0.03])
    n = _numbers(m, lr=1.0)
    assert n["spectrum"] == [0.5, 0.0, -0.2]
    assert n["max_exponent"] == n["spectrum"][0] == 0.5
    assert n["max_exponent_early"] == 0.4 and n["max_exponent_stderr"] == 0.02
    assert n["zero_tol"] == ZERO_TOL == 1e-3
    assert n["n_positive"] == 1 and n["n_near_zero"] == 1 and n["exponent_sum"] == pytest.approx(0.3)


def test_max_exponent_ignores_diverged_columns_and_counts_use_the_tolerance():
    """NaN exponents never become the maximum; exponents within ±zero_tol count as near
    zero, not positive (2e-3 is positive, 1e-3 and -5e-4 are near zero)."""
    from graphtraj.report.sections.tangent import _numbers

    m = _fake_measure([float("nan"), 1e-3, 2e-3, -5e-4], early=[0.0, 0.1, 0.2, 0.3],
                      stderr=[0.0, 0.1, 0.2, 0.3])
    n = _numbers(m, lr=1.0)
    assert n["max_exponent"] == 2e-3 and n["max_exponent_early"] == 0.2
    assert n["n_positive"] == 1 and n["n_near_zero"] == 2


def test_summary_states_the_zero_tolerance():
    """The summary says which tolerance separates positive from near-zero exponents."""
    from graphtraj.report.sections.tangent import _summary

    nums = {"max_exponent_early": 0.3, "n_steps": 200, "n_positive": 5, "n_exponents": 83,
            "n_near_zero": 11, "threshold": 2.0}
    text = _summary(SimpleNamespace(lr=1.0), nums, None)
    assert "5 of 83 exponents above 0.001, 11 within ±0.001 of zero" in text


def test_runs_with_huge_weights_use_the_general_path(runs, monkeypatch):
    """A stored run whose weights exceed the fast path's safe magnitude (products of two
    weights overflow beyond ~1e154) is analysed with the general path."""
    from graphtraj.dynamics import MLPObjective
    from graphtraj.report.sections import tangent

    traj = runs[0].replica(0)
    assert isinstance(tangent._map(traj).objective, MLPObjective)
    monkeypatch.setattr(tangent, "FAST_MAX_WEIGHT", 1.0)
    assert not isinstance(tangent._map(traj).objective, MLPObjective)
