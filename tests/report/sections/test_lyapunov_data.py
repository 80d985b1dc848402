"""Tests of the report section lyapunov_data (graphtraj.report.sections.lyapunov_data)."""

import json
import math

import numpy as np
import pytest

from graphtraj.datasets import logistic_map
from graphtraj.report.section import Section
from graphtraj.report.sections import lyapunov_data
from graphtraj.studies.regime import RegimeRun
from graphtraj.trajectory import Ensemble, ParamLayout, Trajectory


def _regime(quick, *, ftle=None):
    """A synthetic 'chaotic' regime: states and loss driven by the logistic map."""
    lay = ParamLayout.for_mlp([2, 3, 2])
    t = 1200
    base = np.random.default_rng(0).normal(size=lay.size)
    x = logistic_map(t, x0=0.3)
    xp = logistic_map(t, x0=x[0] + 1e-10, transient=0)  # the perturbed twin
    ref = Trajectory(np.arange(t), base * (1 + 0.1 * x[:, None]), lay, loss=x)
    pert = Trajectory(np.arange(t), base * (1 + 0.1 * xp[:, None]), lay, loss=xp)
    ens = Ensemble(lay, np.arange(t), {"loss": np.stack([x, xp])},
                   reference=np.array([0, 0]), diverged_at=np.full(2, -1))
    extras = {} if ftle is None else {"ftle": ftle}
    return RegimeRun("chaotic", 5.0, ref, pert, ens, quick=quick, extras=extras)


def test_build_reports_ln2_for_logistic_driven_run():
    """On a run driven by the logistic map every estimate is ln 2 ± 0.05."""
    from graphtraj.timeseries import ftle_from_divergence

    d = np.exp(0.69 * np.arange(40)) * 1e-10
    ftle = ftle_from_divergence(d, starts=range(0, 5), widths=range(10, 20))
    sec = lyapunov_data.build(_regime(False, ftle=ftle))
    assert isinstance(sec, Section) and sec.key == "lyapunov_data"
    n = sec.numbers
    for est in (n["loss"]["rosenstein"], n["loss"]["kantz"], n["nmle"]["single"], n["nmle"]["two"]):
        assert est["scaling_region"] and abs(est["exponent"] - math.log(2)) < 0.05
    assert n["ftle"]["exponent"] == pytest.approx(0.69, abs=1e-6)
    assert "separate exponentially" in sec.summary_html and "FTLE" in sec.summary_html
    assert len(sec.figures) == 1 and sec.figures[0].png_base64
    json.dumps(sec.as_dict())


def test_build_quick_mode_runs():
    """Quick mode gives a section with the same keys (smaller windows)."""
    sec = lyapunov_data.build(_regime(True))
    assert set(sec.numbers) >= {"loss", "nmle", "ftle", "units"}
    assert sec.numbers["loss"]["n"] == 1000


def test_analyze_single_trajectory_and_degenerate_input():
    """analyze() returns JSON-able numbers; a constant run gives NaN with reasons, no error."""
    reg = _regime(False)
    out = lyapunov_data.analyze(reg.reference, perturbed=reg.perturbed, max_snapshots=800)
    assert abs(out["nmle"]["two"]["exponent"] - math.log(2)) < 0.05
    json.dumps(out)
    lay = ParamLayout.for_mlp([2, 2])
    flat = Trajectory(np.arange(100), np.ones((100, lay.size)), lay, loss=np.ones(100))
    out = lyapunov_data.analyze(flat)
    assert math.isnan(out["loss"]["rosenstein"]["exponent"])
    assert out["loss"]["rosenstein"]["reason"]
    assert math.isnan(out["nmle"]["single"]["exponent"])


def _est(exponent, status="linear"):
    return {"exponent": exponent, "scaling_region": status != "no_scaling_region",
            "status": status}


def test_flat_fits_are_inconclusive_not_regular():
    """A "flat" or no-scaling-region fit is no evidence: with only such fits the verdict
    is "inconclusive", never "regular dynamics" (the η = 5 report said "regular")."""
    from graphtraj.report.sections.lyapunov_data import _verdict

    text, basis = _verdict(_est(0.0, "flat"), {"Rosenstein": _est(0.001, "flat"),
                                               "Kantz": _est(math.nan, "no_scaling_region")})
    assert basis == "inconclusive"
    assert text.startswith("inconclusive") and "regular dynamics" not in text


def test_verdict_names_estimator_and_states_disagreement():
    """The verdict rests on the two-trajectory nMLE when it has a linear region, names it,
    and says when the loss-series exponents point the other way; without it the verdict
    rests on (and names) the loss-series exponents."""
    from graphtraj.report.sections.lyapunov_data import _verdict

    text, basis = _verdict(_est(0.3), {"Rosenstein": _est(-0.002), "Kantz": _est(0.004)})
    assert basis == "two-trajectory nMLE"
    assert "two-trajectory nMLE (0.3 per step)" in text and "chaotic-looking" in text
    assert "disagree" in text and "regular" in text
    agree, _ = _verdict(_est(0.3), {"Rosenstein": _est(0.2)})
    assert "disagree" not in agree
    text2, basis2 = _verdict(_est(0.0, "flat"), {"Rosenstein": _est(0.2)})
    assert basis2 == "loss-series exponents"
    assert "loss-series exponents (Rosenstein 0.2" in text2 and "inconclusive" in text2


def test_build_summary_records_verdict_basis():
    """build stores the verdict and its basis in the numbers and the summary states the
    basis in words (the synthetic chaotic run has a perturbed copy)."""
    sec = lyapunov_data.build(_regime(True))
    basis = sec.numbers["verdict"]["basis"]
    assert basis in ("two-trajectory nMLE", "loss-series exponents", "inconclusive")
    assert sec.numbers["verdict"]["text"][:40].lower() in sec.summary_html.lower()


def test_non_layered_model_uses_weight_vectors_with_the_same_l1():
    """Oracle: for a model that is not a dense chain the nMLE runs on the raw weight
    vectors; the L1 distance is the same as in graph space, so the numbers equal those of
    the same states under the layered layout."""
    reg = _regime(quick=True)
    ref = reg.reference
    other = ParamLayout(["norm.weight", "norm.bias"], [(ref.layout.size - 2,), (2,)],
                        ["other", "other"])
    plain = Trajectory(ref.times, np.asarray(ref.states), other, loss=ref.loss)
    a, b = lyapunov_data.analyze(ref), lyapunov_data.analyze(plain)
    assert a["nmle"].pop("space") == "layered graph"
    assert b["nmle"].pop("space") == "weight vectors"
    assert json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


@pytest.mark.parametrize("loss, why", [(None, "no loss series was recorded"),
                                       (np.full(60, np.nan), "not finite")])
def test_missing_loss_is_not_available_with_a_reason(loss, why):
    """A run without a (finite) loss: the loss part says 'not available' with the reason
    instead of n = 0 and estimator errors; the nMLE part is still computed."""
    lay = ParamLayout.for_mlp([2, 3, 1])
    rng = np.random.default_rng(0)
    tr = Trajectory(np.arange(60), rng.normal(size=(60, lay.size)).cumsum(0), lay, loss=loss)
    out = lyapunov_data.analyze(tr)
    assert out["loss"]["available"] is False and why in out["loss"]["reason"]
    assert set(out["loss"]) == {"available", "reason"}
    assert "single" in out["nmle"]
