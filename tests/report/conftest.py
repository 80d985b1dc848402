"""A tiny Iris study (seconds, not minutes) and fake report sections, for report tests."""

import sys
import types

import numpy as np
import pytest

from graphtraj.report.section import ReportFigure, Section


def tiny_settings(mode="default", *, seed=0):
    """Study settings small enough for unit tests (the real sizes are tested as slow)."""
    from graphtraj.studies.iris import StudySettings

    return StudySettings(
        mode="quick", seed=seed, eps=1e-8, n_inits=2, n_perturb=1,
        regimes=(("stable", 0.01, 60, 60), ("edge", 1.0, 40, 60), ("chaotic", 5.0, 40, 130)),
        orbital=(0.01, 30, 35), sweep_lrs=(0.1, 1.0), sweep_steps=40, sweep_inits=2,
        sweep_perturb=1,
    )


def _fake_ok():
    mod = types.ModuleType("graphtraj.report.sections.fake_ok")

    def build(regime):
        import matplotlib.pyplot as plt

        from graphtraj.report.section import figure_to_png_base64

        fig, ax = plt.subplots(figsize=(2, 2))
        ax.plot(regime.reference.loss)
        return Section(key="fake_ok", title="Fake section",
                       summary_html=f"the reference has <b>{len(regime.reference)}</b> records",
                       figures=(ReportFigure("fake figure", figure_to_png_base64(fig), "cap"),),
                       numbers={"n_records": len(regime.reference), "lr": regime.lr,
                                "undefined": float("nan")})

    def analyze(traj, **options):
        return {"n_records": len(traj), "mean_loss": float(np.mean(traj.loss)),
                "nested": {"first_step": int(traj.times[0]), "nan": float("nan")}}

    mod.build, mod.analyze = build, analyze
    return mod


def _fake_bad():
    mod = types.ModuleType("graphtraj.report.sections.fake_bad")

    def build(regime):
        raise ValueError(f"boom in {regime.name}")

    mod.build = build
    return mod


@pytest.fixture
def fake_sections(monkeypatch):
    """Install the fake section modules fake_ok (works) and fake_bad (raises)."""
    monkeypatch.setitem(sys.modules, "graphtraj.report.sections.fake_ok", _fake_ok())
    monkeypatch.setitem(sys.modules, "graphtraj.report.sections.fake_bad", _fake_bad())
    return ("fake_ok", "fake_bad")


@pytest.fixture(scope="session")
def tiny_study(tmp_path_factory):
    """(IrisStudy, output directory) of a tiny study with one good and one failing section."""
    import warnings

    import graphtraj.studies.iris as iris

    out = tmp_path_factory.mktemp("study")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(iris, "study_settings", tiny_settings)
        mp.setitem(sys.modules, "graphtraj.report.sections.fake_ok", _fake_ok())
        mp.setitem(sys.modules, "graphtraj.report.sections.fake_bad", _fake_bad())
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            study = iris.iris_study(out, mode="quick", progress=False,
                                    sections=("fake_ok", "fake_bad"))
    return study, out
