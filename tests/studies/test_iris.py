"""Tests for graphtraj.studies.iris (the `graphtraj study iris` protocol)."""

import numpy as np
import pytest

from graphtraj.exceptions import UnknownOptionError, ValidationError
from graphtraj.studies.iris import ACCEPTANCE_CHECKS, _configs, iris_study, study_settings


def test_default_settings_follow_the_paper():
    """Default: η = 0.01 (5000), η = 1 (200 for the exponent, 5000 for the loss), η = 5 (10000)."""
    s = study_settings()
    assert s.mode == "default" and s.eps == 1e-8
    assert s.n_inits >= 10 and s.n_perturb >= 5
    assert s.regimes == (("stable", 0.01, 5000, 5000), ("edge", 1.0, 200, 5000),
                         ("chaotic", 5.0, 1000, 10000))
    assert s.orbital == (0.01, 4000, 1000)
    assert len(s.sweep_lrs) >= 8 and min(s.sweep_lrs) == 0.01 and max(s.sweep_lrs) == 10.0
    full = study_settings("full")
    assert full.n_inits > s.n_inits and full.n_perturb > s.n_perturb
    assert len(full.sweep_lrs) > len(s.sweep_lrs)
    quick = study_settings("quick", seed=3)
    assert quick.seed == 3 and quick.n_inits < s.n_inits


def test_configs_cover_every_run():
    """One ensemble, run (if longer) and pair per regime, the orbital run and the sweep."""
    s = study_settings()
    cfgs = {c["name"]: c for c in _configs(s)}
    assert "stable-run" not in cfgs  # the stable ensemble already covers 5000 steps
    assert cfgs["edge-ensemble"]["n_steps"] == 200 and cfgs["edge-run"]["n_steps"] == 5000
    assert cfgs["chaotic-run"]["n_steps"] == 10000
    assert cfgs["stable-pair"]["record_every"] == 1 and cfgs["stable-pair"]["n_inits"] == 1
    assert cfgs["orbital"]["kind"] == "orbital" and cfgs["orbital"]["t0"] == 4000
    assert cfgs["orbital"]["n_steps"] == 5000
    assert sum(name.startswith("sweep-") for name in cfgs) == len(s.sweep_lrs)
    assert all(c["seed"] == s.seed and c["eps"] == 1e-8 for c in cfgs.values())


def test_acceptance_checks_listed():
    """The six findings of the paper are the checks."""
    assert set(ACCEPTANCE_CHECKS) == {
        "stable_divergence_below_5", "orbital_flat", "edge_positive_ftle",
        "edge_loss_below_0.1", "chaotic_not_converging", "chaotic_intermittent"}


@pytest.mark.parametrize(
    ("kwargs", "exc", "match"),
    [({"mode": "fast"}, UnknownOptionError, "`mode` must be one of"),
     ({"seed": -1}, ValidationError, "`seed` must be >= 0"),
     ({"jobs": 0}, ValidationError, "`jobs` must be >= 1"),
     ({"torch_threads": 0}, ValidationError, "`torch_threads` must be >= 1")],
)
def test_validation(kwargs, exc, match):
    """Invalid arguments are rejected before any training."""
    with pytest.raises(exc, match=match):
        iris_study(None, **kwargs)


@pytest.mark.slow
def test_quick_study_end_to_end(tmp_path):
    """`graphtraj study iris --quick` runs for real and writes a complete report."""
    import json

    from graphtraj.cli import main

    assert main(["study", "iris", "--out", str(tmp_path), "--quick", "--no-progress",
                 "--strict"]) == 0
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["settings"]["mode"] == "quick"
    stab = {a["lr"]: a["stability"] for a in summary["answer"]}
    assert stab[0.01] == "stable" and stab[1.0] == "edge of stability"
    assert stab[5.0] == "chaotic"


@pytest.mark.slow
def test_default_study_reproduces_the_paper(tmp_path):
    """The default study reproduces all six findings of Danovski et al. (2024)."""
    study = iris_study(tmp_path, progress=False)
    assert study.checks == {k: True for k in ACCEPTANCE_CHECKS}
    edge = study.regime("edge").extras["ensemble"]
    assert 0.2 < edge.ftle_accepted_mean < 0.5  # the paper: ≈ 0.3 per step
    assert np.all(study.regime("stable").extras["ensemble"].mean_ratio < 5)
