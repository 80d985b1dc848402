"""Tests for the report section graphtraj.report.sections.recurrence."""

import base64
import json

import numpy as np
import pytest

from graphtraj.measures import distance_matrix
from graphtraj.report.section import Section
from graphtraj.report.sections import recurrence as section
from graphtraj.snapshots import GraphSeries
from graphtraj.studies.regime import RegimeRun
from graphtraj.timeseries import GlobalRecurrenceRate, recurrence_matrix, rqa
from graphtraj.trajectory import Ensemble, ParamLayout, Trajectory


def _trajectory(seed, T=400, diverge_at=None):
    gen = np.random.default_rng(seed)
    lay = ParamLayout.for_mlp([4, 10, 3])
    t = np.arange(T)
    states = np.cumsum(gen.normal(scale=0.01, size=(T, lay.size)), axis=0)
    states += np.sin(2 * np.pi * t / 40)[:, None]  # an oscillation: the run revisits
    if diverge_at is not None:
        states[diverge_at:] = np.nan
    return Trajectory(t, states, lay, loss=gen.random(T))


def _regime(quick, **kw):
    ref = _trajectory(0, **kw)
    ens = Ensemble(ref.layout, np.arange(5), {"loss": np.zeros((1, 5))},
                   reference=np.array([0]), diverged_at=np.array([-1]))
    return RegimeRun(name="chaotic", lr=5.0, reference=ref, perturbed=ref, ensemble=ens,
                     quick=quick)


@pytest.mark.parametrize("quick", [True, False])
def test_build_returns_section_with_consistent_numbers(quick):
    """build() gives a Section whose numbers equal direct RQA calls on the same states
    and graph distances, with figures and a plain-words summary."""
    regime = _regime(quick)
    sec = section.build(regime)
    assert isinstance(sec, Section) and sec.key == "recurrence"
    json.dumps(sec.as_dict())
    n = 200 if quick else 400
    sub = regime.reference.subsample(n)
    ref_w = rqa(recurrence_matrix(np.asarray(sub.states), GlobalRecurrenceRate(0.05),
                                  metric="manhattan"))
    assert sec.numbers["weights"]["DET"] == ref_w.DET
    assert sec.numbers["weights"]["RR"] == pytest.approx(0.05, abs=1e-3)
    g = sub.subsample(120 if quick else 600)
    d = distance_matrix(GraphSeries.from_trajectory(g), metric="singular_values")
    ref_g = rqa(recurrence_matrix(d, GlobalRecurrenceRate(0.05), precomputed=True))
    assert sec.numbers["graph"]["DET"] == ref_g.DET
    assert sec.numbers["graph"]["metric"] == "singular_values"
    assert len(sec.figures) == (1 if quick else 2)
    assert base64.b64decode(sec.figures[0].png_base64)[:4] == b"\x89PNG"
    assert sec.summary_html.startswith("The weight trajectory revisits its past")
    assert f"DET = {sec.numbers['weights']['DET']:.2f}" in sec.summary_html


def test_diverged_run_uses_finite_prefix():
    """A run that diverges is analysed up to its last finite state."""
    regime = _regime(True, diverge_at=150)
    sec = section.build(regime)
    assert sec.numbers["weights"]["n"] < 150


def test_analyze_matches_build_numbers_and_options():
    """analyze() returns the same kind of numbers, JSON-able, honouring its options."""
    traj = _trajectory(1, T=300)
    out = section.analyze(traj, graph_metric="l1", max_snapshots=150)
    json.dumps(out)
    assert out["weights"]["n"] == 150 and out["graph"]["metric"] == "l1"
    missing = section.analyze(traj, graph_metric="no_such_metric")
    assert missing["graph"] == {
        "available": False,
        "reason": "graph metric 'no_such_metric' is not in graphtraj.measures.METRICS"}
    short = section.analyze(traj.isel(slice(0, 2)))
    assert short["weights"]["available"] is False


def test_sentence_writes_na_with_reason_instead_of_nan():
    """Undefined RQA numbers (no vertical lines: TT = NaN) read "n/a (reason)" in the
    prose, never "nan"."""
    from graphtraj.report.sections.recurrence import _sentence

    num = {"available": True, "far_fraction": 0.5, "eps": 0.1, "metric": "manhattan",
           "DET": 0.9, "L": 3.0, "LAM": 0.0, "TT": float("nan")}
    text = _sentence("weight trajectory", num)
    assert "TT = n/a (no vertical lines)" in text and "nan" not in text.lower()


def test_non_layered_model_keeps_the_weight_space_view():
    """Oracle: the same states under a layout that is not a dense chain (e.g. BatchNorm
    parameters) give the weight-space numbers of the layered run; graph space is marked
    unavailable with the reason."""
    traj = _trajectory(0, T=200)
    other = ParamLayout(["body.0.weight", "body.1.weight"], [(traj.layout.size - 2,), (2,)],
                        ["other", "other"])
    plain = Trajectory(traj.times, np.asarray(traj.states), other, loss=traj.loss)
    a, b = section.analyze(traj), section.analyze(plain)
    assert json.dumps(a["weights"], sort_keys=True) == json.dumps(b["weights"], sort_keys=True)
    assert b["graph"]["available"] is False and "layered" in b["graph"]["reason"]
