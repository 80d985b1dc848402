"""Tests for the report section graphtraj.report.sections.graph_measures."""

import json

import numpy as np
import pytest

from graphtraj.exceptions import UnsupportedModelError
from graphtraj.measures import distance_matrix, mantel, spectral_stats
from graphtraj.report.section import Section
from graphtraj.report.sections import graph_measures as section
from graphtraj.snapshots import GraphSeries
from graphtraj.studies.regime import RegimeRun
from graphtraj.trajectory import Ensemble, ParamLayout, Trajectory


def _trajectory(seed, t=120, diverge_at=None):
    gen = np.random.default_rng(seed)
    lay = ParamLayout.for_mlp([4, 10, 3])
    states = np.cumsum(gen.normal(scale=0.02, size=(t, lay.size)), 0) + gen.normal(size=lay.size)
    if diverge_at is not None:
        states[diverge_at:] = np.nan
    return Trajectory(np.arange(t) * 5, states, lay, loss=np.exp(-np.arange(t) / 30.0))


def _regime(quick, traj):
    ens = Ensemble(traj.layout, np.arange(3), {"loss": np.zeros((1, 3))},
                   reference=np.array([0]), diverged_at=np.array([-1]))
    return RegimeRun(name="edge", lr=1.0, reference=traj, perturbed=traj, ensemble=ens, quick=quick)


@pytest.mark.parametrize("quick", [True, False])
def test_build_numbers_match_direct_calls(quick):
    """build() returns a JSON-able Section whose numbers equal direct measure calls."""
    traj = _trajectory(0)
    sec = section.build(_regime(quick, traj))
    assert isinstance(sec, Section) and sec.key == "graph_measures"
    json.dumps(sec.as_dict())
    assert len(sec.figures) == (1 if quick else 3)
    n = sec.numbers
    gs = GraphSeries.from_trajectory(traj)
    assert n["n_snapshots"] == 120 and n["steps"] == [0, 595]
    d = distance_matrix(gs, "l1")
    assert n["l1_initial_to_final"] == pytest.approx(d[0, -1])
    assert n["l1_path_length"] == pytest.approx(np.diag(d, 1).sum())
    st = spectral_stats(gs)
    assert n["spectral"]["spectral_norm_final"] == pytest.approx(st.spectral_norm[-1].tolist())
    assert n["spectral"]["algebraic_connectivity"][0] == pytest.approx(st.algebraic_connectivity[0])
    k = n["comparison_snapshots"]
    sub = gs[np.arange(0, 120, -(-120 // k))]  # every k-th snapshot, one stride
    assert len(sub) == k
    r = mantel(distance_matrix(sub, "l1"), distance_matrix(sub, "laplacian"),
               method="spearman", permutations=0).statistic
    assert n["mantel"]["laplacian"]["r"] == pytest.approx(r)
    assert sec.summary_html.startswith("For η = 1, graph space")
    assert f"{r:.2f}" in sec.summary_html
    z = n["motifs"]["balance_z_mean"]
    assert f"mean z-score per layer: {z[0]:.2f} (layer 1)" in sec.summary_html
    # analyze() computes the very same numbers (same seeds)
    assert json.dumps(n, sort_keys=True) == json.dumps(section.analyze(traj, quick=quick), sort_keys=True)


def test_diverged_run_is_cut_at_the_first_nonfinite_state():
    """Records after divergence are dropped; a run with < 3 finite records says so."""
    out = section.analyze(_trajectory(1, diverge_at=50), quick=True)
    assert out["n_snapshots"] == 50 and out["steps"] == [0, 245]
    sec = section.build(_regime(True, _trajectory(1, diverge_at=2)))
    assert "Too few finite records" in sec.summary_html and not sec.figures


def test_analyze_rejects_non_layered_runs():
    """A run whose layout is not a chain of dense layers raises UnsupportedModelError."""
    lay = ParamLayout(["w", "s"], [(3, 2), (4,)], ["weight", "other"])
    tr = Trajectory(np.arange(5), np.zeros((5, lay.size)), lay)
    with pytest.raises(UnsupportedModelError, match="dense-layer"):
        section.analyze(tr)
