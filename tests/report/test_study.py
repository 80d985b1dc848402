"""Tests for graphtraj.report.study (report.html and summary.json of the Iris study)."""

import json
import re

import numpy as np
import pytest


def test_files_written(tiny_study):
    """report.html, summary.json and the store are written to the output directory."""
    study, out = tiny_study
    assert (out / "report.html").is_file() and (out / "summary.json").is_file()
    from graphtraj import open_store

    runs = set(open_store(out / "store", "r").runs())
    assert {"stable-ensemble", "stable-pair", "edge-run", "chaotic-run", "orbital",
            "sweep-lr0.1", "sweep-lr1"} <= runs


def test_report_is_self_contained(tiny_study):
    """One HTML file: figures are base64 PNGs, no scripts and no external resources."""
    html = (tiny_study[1] / "report.html").read_text()
    imgs = re.findall(r'<img [^>]*src="([^"]+)"', html)
    assert len(imgs) >= 6
    assert all(src.startswith("data:image/png;base64,") for src in imgs)
    assert "<script" not in html and "<link" not in html


def test_answer_comes_first(tiny_study):
    """The answer table (converges / stability per η) precedes the figures."""
    study, out = tiny_study
    html = (out / "report.html").read_text()
    assert html.index('id="answer"') < html.index('id="figures"')
    for v in study.verdicts:
        assert f"η = {v.lr:g} training" in html
        assert v.stability in html


def test_summary_holds_every_number_of_the_answer(tiny_study):
    """Strict JSON (no NaN), and each number shown in the answer table is in summary.json."""
    from graphtraj.report.study import _fmt

    study, out = tiny_study
    text = (out / "summary.json").read_text()
    summary = json.loads(text)  # would fail on NaN tokens with parse_constant below
    json.loads(text, parse_constant=lambda c: pytest.fail(f"non-strict JSON constant {c}"))
    html = (out / "report.html").read_text()
    assert [a["lr"] for a in summary["answer"]] == [0.01, 1.0, 5.0]
    for a, r in zip(summary["answer"], study.regimes, strict=True):
        ens = summary["regimes"][r.name]["ensemble"]
        for number in (ens["ftle_accepted_mean"], ens["ftle_mean"], ens["max_ratio"],
                       a["final_loss_median"]):
            assert _fmt(number) in html
        assert a["stability"] == r.extras["verdict"].stability
    assert set(summary["checks"]) == set(study.checks)
    np.testing.assert_allclose(summary["sweep"]["lrs"], [0.1, 1.0])


def test_sections_shown_and_failures_contained(tiny_study):
    """A working section appears with its numbers; a failing one is shown as an error."""
    study, out = tiny_study
    html = (out / "report.html").read_text()
    summary = json.loads((out / "summary.json").read_text())
    assert "Fake section" in html and "fake figure" in html
    assert summary["sections"]["fake_ok"]["stable"]["n_records"] == 61
    assert summary["sections"]["fake_ok"]["chaotic"]["undefined"] is None  # NaN → null
    errors = summary["section_errors"]
    assert [(e["key"], e["regime"]) for e in errors] == [
        ("fake_bad", "stable"), ("fake_bad", "edge"), ("fake_bad", "chaotic")]
    assert "ValueError: boom in stable" in html
    assert "3 report section failure(s)" in html


def test_regime_runs_for_sections(tiny_study):
    """Each RegimeRun has reference and perturbed trajectories with full states and lr."""
    study, _ = tiny_study
    for r, (name, lr, _, run_steps) in zip(study.regimes, study.settings.regimes, strict=True):
        assert r.name == name and r.lr == lr and r.quick
        assert len(r.reference) == run_steps + 1 == len(r.perturbed)
        assert np.asarray(r.reference.states).shape == (run_steps + 1, 83)
        np.testing.assert_array_equal(r.reference.lr, lr)
        d0 = np.abs(np.asarray(r.perturbed.states[0]) - np.asarray(r.reference.states[0])).sum()
        assert 0 < d0 < 70e-8
        assert r.reference.metadata["model"]["sizes"] == [4, 10, 3]
        assert r.ensemble.n_replicas == 2 * 2
        assert set(r.extras) >= {"ensemble", "run", "verdict", "stretches"}


def test_strict_sections_raise(tiny_study, fake_sections, tmp_path):
    """strict=True raises SectionFailure chained to the section's own error."""
    from graphtraj.report.runner import SectionFailure
    from graphtraj.report.study import write_study_report

    study, _ = tiny_study
    with pytest.raises(SectionFailure, match="fake_bad") as info:
        write_study_report(study, tmp_path, sections=fake_sections, strict=True)
    assert isinstance(info.value.__cause__, ValueError)


def test_report_wording_has_no_nan_or_bare_units(tiny_study):
    """The prose says "at the edge of stability", never "is edge of stability", never
    "n/a /step" and never a bare "nan"; summary.json pairs final loss and accuracy of
    the same run and names its last step."""
    study, out = tiny_study
    html = (out / "report.html").read_text()
    assert "is edge of stability" not in html
    assert "n/a /step" not in html and "n/a/step" not in html
    assert not re.search(r"\bnan\b", html, flags=re.IGNORECASE)
    summary = json.loads((out / "summary.json").read_text())
    for a, r in zip(summary["answer"], study.regimes, strict=True):
        run = r.extras["run"]
        assert a["final_step"] == int(run.loss_steps[-1])
        assert a["final_from"] == "loss run"  # the study always passes its loss run
        want = np.nanmedian(run.final_accuracy)
        assert (a["final_accuracy_median"] is None and np.isnan(want)) or \
            a["final_accuracy_median"] == pytest.approx(want)


def test_stability_phrase_and_period_words():
    """Verdict predicates read as English and periods are named: period 1 = plateaus of
    the loss (with the measured levels when given), period 3 = cycles; a missing exponent
    has no unit."""
    from graphtraj.report.study import _per_step, _periods_words, stability_phrase

    assert stability_phrase("edge of stability") == "at the edge of stability"
    assert stability_phrase("chaotic") == "chaotic"
    words = _periods_words({"1": 4, "3": 1})
    assert "period 1: 4 windows, period 3: 1 window;" in words
    assert "period-1 stretches are plateaus" in words and "ln 3" not in words
    assert "period-3 stretches are 3-cycles" in words
    assert _periods_words({}).startswith("no periodic window")
    with_levels = _periods_words({"1": 2}, [2.98, 4.93])
    assert "fixed points at ln 3" in with_levels and "L ≈ 2.98, 4.93" in with_levels
    assert _per_step(float("nan")) == "n/a" and _per_step(0.25) == "0.25/step"


def test_frozen_words():
    """The caption sentence on frozen runs: count, step range and distinct levels."""
    from graphtraj.report.study import _frozen_words

    assert _frozen_words({"frozen_levels": []}) == ""
    text = _frozen_words({"n_loss_runs": 10, "frozen_levels": [4.9301, 1.0986, 4.9302],
                          "frozen_from": [2050, 8217, 4000]})
    assert text == (" Across the 10 loss runs of this regime, 3 end frozen on a plateau "
                    "(from steps 2050–8217 on) at L ≈ 1.1 (ln 3), 4.93.")


def test_plateau_levels_are_medians_of_period_one_stretches():
    """Oracle: a series with plateaus at 4.93 and 2.98 around an irregular burst."""
    from types import SimpleNamespace

    from graphtraj.report.study import _plateau_levels

    loss = np.r_[np.full(50, 4.93), np.linspace(1, 3, 30), np.full(40, 2.98)]
    st = SimpleNamespace(stretches=((0, 50, 1), (50, 80, -1), (80, 120, 1)))
    assert _plateau_levels(loss, st) == [2.98, 4.93]
