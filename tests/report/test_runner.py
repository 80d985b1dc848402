"""Tests for graphtraj.report.runner (running report sections)."""

import sys
import types

import numpy as np
import pytest

from graphtraj import ParamLayout, Trajectory
from graphtraj.exceptions import GraphTrajWarning, ValidationError
from graphtraj.report.runner import SectionFailure, run_sections, section_keys
from graphtraj.report.section import Section
from graphtraj.studies.regime import RegimeRun
from graphtraj.trajectory import Ensemble


def _regime(name):
    lay = ParamLayout(["w"], [(2,)])
    tr = Trajectory(np.arange(5), np.zeros((5, 2)), lay, loss=np.linspace(1, 0.1, 5))
    ens = Ensemble(lay, np.arange(5), {"loss": np.zeros((2, 5))}, reference=np.array([0, 0]),
                   diverged_at=np.array([-1, -1]))
    return RegimeRun(name=name, lr=0.1, reference=tr, perturbed=tr, ensemble=ens)


def test_good_and_bad_sections(fake_sections):
    """Working sections are collected per regime; failures are recorded with a warning."""
    import warnings

    regimes = [_regime("stable"), _regime("edge")]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        run = run_sections(regimes, fake_sections)
    msgs = [str(w.message) for w in caught if issubclass(w.category, GraphTrajWarning)]
    assert len(msgs) == 2 and "boom in stable" in msgs[0]
    assert run.keys == ("fake_ok", "fake_bad")
    assert set(run.sections["fake_ok"]) == {"stable", "edge"}
    assert isinstance(run.sections["fake_ok"]["edge"], Section)
    assert [(e.key, e.regime) for e in run.errors] == [("fake_bad", "stable"), ("fake_bad", "edge")]
    assert "ValueError: boom in edge" == run.error_for("fake_bad", "edge").error
    assert "Traceback" in run.errors[0].traceback
    assert run.error_for("fake_ok", "edge") is None
    assert set(run.seconds["fake_bad"]) == {"stable", "edge"}


def test_missing_module_and_wrong_return(monkeypatch):
    """An unimportable section, one without build, one returning a dict: all recorded."""
    no_build = types.ModuleType("graphtraj.report.sections.no_build")
    wrong = types.ModuleType("graphtraj.report.sections.wrong")
    wrong.build = lambda regime: {"not": "a Section"}
    monkeypatch.setitem(sys.modules, "graphtraj.report.sections.no_build", no_build)
    monkeypatch.setitem(sys.modules, "graphtraj.report.sections.wrong", wrong)
    with pytest.warns(GraphTrajWarning):
        run = run_sections([_regime("stable")], ["does_not_exist", "no_build", "wrong"])
    errs = {e.key: e for e in run.errors}
    assert errs["does_not_exist"].regime == "*" and "ModuleNotFoundError" in errs["does_not_exist"].error
    assert "no build(regime) function" in errs["no_build"].error
    assert "must return a Section" in errs["wrong"].error
    assert run.error_for("does_not_exist", "stable") is errs["does_not_exist"]


def test_strict_raises_chained(fake_sections):
    """strict=True raises SectionFailure from the section's own exception."""
    with pytest.raises(SectionFailure, match="'fake_bad' failed for regime 'stable'") as info:
        run_sections([_regime("stable")], fake_sections, strict=True)
    assert isinstance(info.value.__cause__, ValueError)
    with pytest.raises(SectionFailure, match="cannot be loaded"):
        run_sections([_regime("stable")], ["does_not_exist"], strict=True)


def test_default_keys_are_section_modules():
    """Without keys, SECTION_MODULES is used."""
    from graphtraj.report.sections import SECTION_MODULES

    assert section_keys() == tuple(SECTION_MODULES)


@pytest.mark.parametrize("keys", ["recurrence", ["not a name"], [3]])
def test_key_validation(keys):
    """Keys must be a sequence of module names."""
    with pytest.raises(ValidationError, match="`sections`"):
        section_keys(keys)


def test_registered_sections_build_on_a_small_regime():
    """Every module in SECTION_MODULES imports and has build and analyze (fails loudly)."""
    import importlib

    from graphtraj.report.sections import SECTION_MODULES

    for key in SECTION_MODULES:
        mod = importlib.import_module(f"graphtraj.report.sections.{key}")
        assert callable(mod.build) and callable(mod.analyze), key
