"""Tests for the report section graphtraj.report.sections.visibility."""

import base64
import json
import math

import numpy as np
import pytest

from graphtraj.report.section import Section
from graphtraj.report.sections import visibility as section
from graphtraj.studies.regime import RegimeRun
from graphtraj.timeseries import irreversibility, multiplex_visibility, visibility_graph
from graphtraj.trajectory import Ensemble, ParamLayout, Trajectory


def _trajectory(seed, T=400, diverge_at=None):
    gen = np.random.default_rng(seed)
    lay = ParamLayout.for_mlp([4, 10, 3])
    states = np.cumsum(gen.normal(scale=0.01, size=(T, lay.size)), axis=0)
    loss = 1.0 + 0.1 * gen.random(T) + np.exp(-np.arange(T) / 50)
    if diverge_at is not None:
        states[diverge_at:] = np.nan
        loss[diverge_at:] = np.nan
    return Trajectory(np.arange(T), states, lay, loss=loss)


def _regime(quick, seed=0):
    ref = _trajectory(seed)
    ens = Ensemble(ref.layout, np.arange(5), {"loss": np.zeros((1, 5))},
                   reference=np.array([0]), diverged_at=np.array([-1]))
    return RegimeRun(name="edge", lr=1.0, reference=ref, perturbed=ref, ensemble=ens, quick=quick)


@pytest.mark.parametrize("quick", [True, False])
def test_build_returns_section_with_consistent_numbers(quick):
    """build() gives a Section whose numbers equal direct calls on the same series."""
    regime = _regime(quick)
    sec = section.build(regime)
    assert isinstance(sec, Section) and sec.key == "visibility"
    json.dumps(sec.as_dict())  # JSON-able (NaN allowed by json)
    ref = regime.reference
    n_sur = 19 if quick else 99
    dist = np.abs(np.diff(ref.states, axis=0)).sum(axis=1)
    for name, y in (("loss", ref.loss), ("distance", dist)):
        num = sec.numbers[name]
        fit = visibility_graph(y, "horizontal").tail_fit(k_min=4)
        irr = irreversibility(y, n_surrogates=n_sur, rng=0)
        assert num["lambda"] == pytest.approx(fit.lam)
        assert num["lambda_stderr"] == pytest.approx(fit.stderr)
        assert num["irreversibility"] == pytest.approx(irr.kld)
        assert num["p_value"] == pytest.approx(irr.p_value)
        assert num["n"] == y.size
    m = multiplex_visibility(ref.states[:, ref.layout.mask("weight")])
    assert sec.numbers["multiplex"]["n_layers"] == 70
    assert sec.numbers["multiplex"]["edge_overlap"] == pytest.approx(m.edge_overlap)
    assert sec.numbers["iid_lambda"] == pytest.approx(math.log(1.5))
    # the summary answers first, in plain words, with the numbers
    assert sec.summary_html.startswith("The training loss is")
    assert f"{sec.numbers['loss']['lambda']:.3f}" in sec.summary_html
    assert len(sec.figures) == (1 if quick else 2)
    for f in sec.figures:
        assert base64.b64decode(f.png_base64)[:4] == b"\x89PNG"


def test_analyze_matches_build_and_handles_divergence():
    """analyze() returns the same numbers as build(); a diverged run is cut at its first NaN."""
    regime = _regime(False)
    out = section.analyze(regime.reference)
    sec = section.build(regime)
    assert out["loss"] == sec.numbers["loss"] and out["multiplex"] == sec.numbers["multiplex"]
    div = section.analyze(_trajectory(3, diverge_at=250), n_surrogates=9)
    assert div["loss"]["n"] == 250 and div["distance"]["n"] == 249
    assert div["multiplex"]["n_steps"] == 250


def test_analyze_subsamples_long_runs():
    """With max_steps, long series are evenly subsampled and the stride is reported."""
    out = section.analyze(_trajectory(4, T=1000), n_surrogates=0, max_steps=250)
    assert out["loss"]["stride"] == 4 and out["loss"]["n"] == 250
    assert out["multiplex"]["stride"] == 4 and out["multiplex"]["n_steps"] == 250
    assert math.isnan(out["loss"]["p_value"])


def test_monotone_loss_summary():
    """A monotone loss has no HVG tail: lambda NaN, and the summary says so instead of a number."""
    tr = _trajectory(5)
    mono = Trajectory(tr.times, tr.states, tr.layout, loss=np.exp(-np.arange(400) / 100.0))
    ens = Ensemble(tr.layout, np.arange(5), {"loss": np.zeros((1, 5))},
                   reference=np.array([0]), diverged_at=np.array([-1]))
    sec = section.build(RegimeRun("stable", 0.01, mono, mono, ens, quick=True))
    assert math.isnan(sec.numbers["loss"]["lambda"])
    assert "no degree tail" in sec.summary_html
    assert "statistically reversible" in sec.summary_html


def test_analyze_reads_a_stored_run(tmp_path):
    """analyze() works on a lazily read stored run and gives the in-memory numbers."""
    from graphtraj.trajectory.store import open_store

    tr = _trajectory(6, T=200)
    store = open_store(tmp_path / "runs", "a")
    store.write("run", tr)
    back = store.read("run")
    assert section.analyze(back, n_surrogates=9) == section.analyze(tr, n_surrogates=9)


def test_poor_tail_fit_is_reported_as_poor_not_as_lambda():
    """A degree tail that levels off (uniform over k = 4..39) is badly described by an
    exponential: the KS distance to the fitted law exceeds MAX_KS, fit_quality is
    "poor", and the sentence says so instead of quoting λ ± stderr; a geometric tail
    (a naive exact exponential) gives KS ≈ 0 and quotes λ."""
    from graphtraj.timeseries.visibility_measures import degree_tail_fit

    flat = degree_tail_fit(np.repeat(np.arange(4, 40), 30), k_min=4)
    assert section.tail_ks(flat) > section.MAX_KS
    assert section.fit_quality(flat) == "poor"
    num = {"lambda": flat.lam, "lambda_stderr": flat.stderr, "irreversibility": 0.1,
           "p_value": 0.5, "n_surrogates": 19, "n_tail": flat.n_tail,
           "tail_ks": section.tail_ks(flat), "fit_quality": "poor"}
    text = section._sentence("loss", num)
    assert "poorly" in text and "±" not in text
    k = np.repeat(np.arange(4, 40), np.round(1000 * np.exp(-0.5 * np.arange(36))).astype(int))
    good = degree_tail_fit(k, k_min=4)
    assert section.tail_ks(good) < 0.01 and section.fit_quality(good) == "good"
    assert "±" in section._sentence("loss", {**num, "lambda": good.lam,
                                             "lambda_stderr": good.stderr,
                                             "fit_quality": "good"})
    few = degree_tail_fit(np.array([2, 2, 2, 4, 5, 6]), k_min=4)
    assert section.fit_quality(few) == "too few"
