"""Tests for graphtraj.studies.diagram (the η sweep)."""

import numpy as np
import pytest

from graphtraj.exceptions import ValidationError
from graphtraj.studies import (
    RegimeDiagram,
    regime_diagram,
    stability_config,
    stability_from_ensemble,
)

EPS = 1e-8


def test_from_results_sorts_and_aggregates(synthetic_ensemble):
    """Results given out of order are sorted by η; per-η numbers are those of each result."""
    t = np.arange(201)
    results = []
    for lr, lam in [(5.0, 0.4), (0.01, 0.0), (1.0, 0.3)]:
        dist = 35 * EPS * np.exp(lam * t)[None, None, :].repeat(2, 0).repeat(2, 1)
        results.append(stability_from_ensemble(synthetic_ensemble(dist),
                                               stability_config(lr, n_steps=200)))
    d = RegimeDiagram.from_results(results, ["c", "a", "b"], {"n_steps": 200})
    assert d.lrs.tolist() == [0.01, 1.0, 5.0]
    assert d.names == ("a", "b", "c")
    assert np.isnan(d.ftle_accepted_mean[0])
    np.testing.assert_allclose(d.ftle_accepted_mean[1:], [0.3, 0.4], atol=1e-9)
    assert d.acceptance_fraction.tolist() == [0.0, 1.0, 1.0]
    assert d.ftle.shape == (3, 2) and d.final_loss.shape == (3, 2)
    np.testing.assert_allclose(d.max_ratio, [1.0, np.exp(60), np.exp(80)], rtol=1e-9)


def test_regime_diagram_real_tiny(tmp_path):
    """Two learning rates, tiny runs: runs named sweep-lr<η> in the store, same inits at each η."""
    d = regime_diagram([1.0, 0.01], n_steps=40, n_inits=2, n_perturb=1, starts=[0],
                       widths=[30], store=tmp_path / "s.gtz", progress=False)
    assert d.lrs.tolist() == [0.01, 1.0]
    assert d.names == ("sweep-lr0.01", "sweep-lr1")
    assert d.params["n_steps"] == 40 and d.final_loss.shape == (2, 2)
    from graphtraj import open_store

    st = open_store(tmp_path / "s.gtz", "r")
    assert sorted(st.runs()) == ["sweep-lr0.01", "sweep-lr1"]
    # same initial conditions at every η: the losses at step 0 agree
    l0 = [st.read(n).observables["loss"][::2, 0] for n in d.names]
    np.testing.assert_array_equal(l0[0], l0[1])


@pytest.mark.parametrize(
    ("lrs", "match"),
    [([], "at least 1 sample|must not be empty"), ([0.1, -1.0], "must all be > 0"),
     ([0.1, 0.1], "must be distinct"), ([[0.1]], "1-D")],
)
def test_validation(lrs, match):
    """Empty, non-positive, repeated or nested learning rates are rejected."""
    with pytest.raises(ValidationError, match=match):
        regime_diagram(lrs, n_steps=40, progress=False)
