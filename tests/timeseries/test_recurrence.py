"""Tests for graphtraj.timeseries.recurrence (recurrence, cross and joint matrices)."""

import json
import math

import numpy as np
import pytest
from scipy.spatial.distance import cdist

from graphtraj.exceptions import NonFiniteInputError, UnknownOptionError, ValidationError
from graphtraj.timeseries import (
    FixedThreshold,
    GlobalRecurrenceRate,
    LocalRecurrenceRate,
    RecurrenceMatrix,
    ScaledThreshold,
    cross_recurrence_matrix,
    joint_recurrence_matrix,
    recurrence_matrix,
)
from graphtraj.timeseries import _recurrence_threshold as threshold_module
from graphtraj.timeseries._recurrence_source import make_source

SCIPY = {"euclidean": "euclidean", "manhattan": "cityblock", "chebyshev": "chebyshev"}


def _states(rng, n=80, p=3):
    return np.cumsum(rng.normal(size=(n, p)), axis=0) * 0.1


def _admissible(d, theiler):
    i, j = np.indices(d.shape)
    return d[np.abs(i - j) >= theiler]


@pytest.mark.parametrize("metric", list(SCIPY))
@pytest.mark.parametrize("storage", ["bitpacked", "sparse"])
def test_fixed_threshold_equals_brute_force(rng, metric, storage):
    """R = (cdist <= ε) for every metric and storage; metadata is recorded."""
    x = _states(rng)
    d = cdist(x, x, SCIPY[metric])
    eps = float(np.quantile(d, 0.2))
    rm = recurrence_matrix(x, eps, metric=metric, storage=storage)
    assert np.array_equal(rm.toarray(), d <= eps)
    assert (rm.kind, rm.theiler, rm.metric, rm.eps, rm.storage) == (
        "recurrence", 1, metric, eps, storage)
    assert rm.symmetric and rm.nnz == int((d <= eps).sum())
    assert np.array_equal(rm.to_sparse().toarray(), d <= eps)
    assert np.array_equal(np.unpackbits(rm.to_packed(), axis=1, count=80).astype(bool), d <= eps)


def test_metric_aliases_and_series_input(rng):
    """Aliases name the same metric; a 1-D series is a (T, 1) state array."""
    x = rng.normal(size=50)
    a = recurrence_matrix(x, 0.3, metric="supremum")
    b = recurrence_matrix(x[:, None], 0.3, metric="chebyshev")
    c = recurrence_matrix(x, 0.3, metric="l1")
    assert np.array_equal(a.toarray(), b.toarray())
    assert np.array_equal(a.toarray(), c.toarray())  # all metrics agree in 1-D
    assert np.array_equal(a.toarray(), np.abs(x[:, None] - x[None, :]) <= 0.3)


@pytest.mark.parametrize("theiler", [0, 1, 4])
@pytest.mark.parametrize("rate", [0.01, 0.05, 0.3, 1.0])
def test_global_rate_is_exact_order_statistic(rng, theiler, rate):
    """ε is the smallest admissible distance with at least rate·M admissible pairs
    within it (brute force over all ordered pairs)."""
    x = _states(rng, n=120)
    d = cdist(x, x)
    vals = np.sort(_admissible(d, theiler))
    k = math.ceil(rate * vals.size)
    rm = recurrence_matrix(x, GlobalRecurrenceRate(rate), theiler=theiler)
    assert rm.eps == vals[k - 1]
    assert np.array_equal(rm.toarray(), d <= vals[k - 1])


def test_global_rate_window_and_fallback_paths_agree(rng, monkeypatch):
    """Above the direct-collection size ε comes from a sampled bracket; when the bracket
    misses, the histogram refinement still finds the exact order statistic, ties
    included (sizes shrunk so every path runs on a small input)."""
    monkeypatch.setattr(threshold_module, "_DIRECT", 1000)
    x = _states(rng, n=300, p=2)
    vals = np.sort(_admissible(cdist(x, x), 1))
    k = math.ceil(0.05 * vals.size)
    assert threshold_module._scanned_cells(make_source(x), 1) > threshold_module._DIRECT
    assert recurrence_matrix(x, GlobalRecurrenceRate(0.05)).eps == vals[k - 1]
    # a bracket that misses the order statistic forces the histogram refinement
    monkeypatch.setattr(threshold_module, "_sample_window",
                        lambda *a, **kw: (0.0, 1e-12, 1e-6))
    assert recurrence_matrix(x, GlobalRecurrenceRate(0.05)).eps == vals[k - 1]
    monkeypatch.setattr(threshold_module, "_CAP", 50)  # refine more levels
    assert recurrence_matrix(x, GlobalRecurrenceRate(0.05)).eps == vals[k - 1]
    # massive ties: two positions only, so every distance is 0 or sqrt(2)
    tied = np.tile([[0.0, 1.0]], (300, 1))
    tied[::2] = [1.0, 0.0]
    expected = np.sort(_admissible(cdist(tied, tied), 1))
    assert recurrence_matrix(tied, GlobalRecurrenceRate(0.7)).eps == \
        expected[math.ceil(0.7 * expected.size) - 1]
    # the matrix-source path of the same machinery
    d = cdist(x, x)
    assert recurrence_matrix(d, GlobalRecurrenceRate(0.05), precomputed=True).eps == vals[k - 1]


def test_scaled_thresholds_equal_brute_force(rng):
    """ε = fraction × (max distance, mean admissible distance, std of the values)."""
    x = _states(rng)
    d = cdist(x, x)
    assert recurrence_matrix(x, ScaledThreshold(0.1, "max")).eps == pytest.approx(0.1 * d.max(), rel=1e-15)
    mean = _admissible(d, 1).mean()
    assert recurrence_matrix(x, ScaledThreshold(0.2, "mean")).eps == pytest.approx(0.2 * mean, rel=1e-12)
    assert recurrence_matrix(x, ScaledThreshold(0.3, "std")).eps == pytest.approx(0.3 * x.std(), rel=1e-15)


@pytest.mark.parametrize("theiler", [0, 1, 3])
def test_local_rate_k_nearest(rng, theiler):
    """Each row recurs with exactly its k nearest admissible columns (no ties here)."""
    x = _states(rng, n=60)
    d = cdist(x, x)
    i, j = np.indices(d.shape)
    masked = np.where(np.abs(i - j) >= theiler, d, np.inf)
    kth = np.sort(masked, axis=1)[:, 4]
    rm = recurrence_matrix(x, LocalRecurrenceRate(k=5), theiler=theiler)
    assert np.array_equal(rm.toarray(), d <= kth[:, None])  # the band is kept in R
    assert np.array_equal(rm.eps, kth)
    assert not rm.symmetric
    assert np.all((rm.toarray() & (np.abs(i - j) >= theiler)).sum(axis=1) == 5)


def test_local_rate_from_fraction(rng):
    """LocalRecurrenceRate(rate) uses k_i = ceil(rate · admissible columns of row i)."""
    x = _states(rng, n=40)
    d = cdist(x, x)
    rm = recurrence_matrix(x, LocalRecurrenceRate(rate=0.1), theiler=1)
    counts = (rm.toarray() & ~np.eye(40, dtype=bool)).sum(axis=1)
    assert np.all(counts == math.ceil(0.1 * 39))
    assert d.shape == (40, 40)


def test_cross_recurrence_matrix(rng):
    """CR = (cdist(x, y) <= ε) for unequal lengths; default Theiler window 0."""
    x, y = _states(rng, n=30), _states(rng, n=45)
    d = cdist(x, y)
    eps = float(np.quantile(d, 0.3))
    cr = cross_recurrence_matrix(x, y, eps)
    assert cr.shape == (30, 45) and cr.kind == "cross" and cr.theiler == 0
    assert np.array_equal(cr.toarray(), d <= eps)
    pre = cross_recurrence_matrix(d, None, eps, precomputed=True)
    assert np.array_equal(pre.toarray(), cr.toarray())
    rate = cross_recurrence_matrix(x, y, GlobalRecurrenceRate(0.2))
    assert rate.eps == np.sort(d.ravel())[math.ceil(0.2 * d.size) - 1]


def test_joint_recurrence_is_and_of_recurrences(rng):
    """JR = R(x) AND R(y), each with its own threshold and metric."""
    x, y = _states(rng, n=50, p=2), _states(rng, n=50, p=4)
    jr = joint_recurrence_matrix(x, y, GlobalRecurrenceRate(0.2), ScaledThreshold(0.3, "std"),
                                 metric_y="manhattan")
    rx = recurrence_matrix(x, GlobalRecurrenceRate(0.2))
    ry = recurrence_matrix(y, ScaledThreshold(0.3, "std"), metric="manhattan")
    assert np.array_equal(jr.toarray(), rx.toarray() & ry.toarray())
    assert jr.kind == "joint" and jr.eps == (rx.eps, ry.eps) and jr.symmetric


def test_precomputed_equals_points(rng):
    """A precomputed distance matrix gives the matrix of the points it came from."""
    x = _states(rng)
    for spec in (0.2, GlobalRecurrenceRate(0.1), ScaledThreshold(0.1, "max"),
                 LocalRecurrenceRate(k=4)):
        a = recurrence_matrix(x, spec)
        b = recurrence_matrix(cdist(x, x), spec, precomputed=True)
        assert np.array_equal(a.toarray(), b.toarray())


def test_graph_series_uses_graph_measures(rng):
    """For a GraphSeries the distances are graphtraj.measures.distance_matrix(metric)."""
    from graphtraj.measures import distance_matrix
    from graphtraj.snapshots import GraphSeries
    from graphtraj.trajectory import ParamLayout, Trajectory

    lay = ParamLayout.for_mlp([2, 3, 2])
    traj = Trajectory(np.arange(40), np.cumsum(rng.normal(size=(40, lay.size)), 0), lay)
    gs = GraphSeries.from_trajectory(traj)
    for metric in ("l1", "singular_values"):
        d = distance_matrix(gs, metric=metric)
        rm = recurrence_matrix(gs, GlobalRecurrenceRate(0.1), metric=metric)
        ref = recurrence_matrix(d, GlobalRecurrenceRate(0.1), precomputed=True)
        assert np.array_equal(rm.toarray(), ref.toarray()) and rm.metric == metric
    # a non-native metric on plain arrays is delegated to the registry as well
    arr = recurrence_matrix(traj.states, 0.5, metric="cosine")
    assert np.array_equal(arr.toarray(), distance_matrix(traj.states, metric="cosine") <= 0.5)
    # a Trajectory is read as its states
    assert np.array_equal(recurrence_matrix(traj, 2.0).toarray(),
                          recurrence_matrix(traj.states, 2.0).toarray())


def test_pyunicorn_convention_is_strict(rng):
    """Under pyunicorn a pair exactly at distance ε does not recur (d < ε)."""
    x = np.array([0.0, 1.0, 3.0])
    assert recurrence_matrix(x, 1.0).toarray()[0, 1]
    assert not recurrence_matrix(x, 1.0, convention="pyunicorn").toarray()[0, 1]


def test_submatrix_and_serialisation(rng):
    """submatrix is the diagonal block with the same metadata; as_dict is JSON-able."""
    x = _states(rng, n=40)
    for storage in ("bitpacked", "sparse"):
        rm = recurrence_matrix(x, LocalRecurrenceRate(k=3), storage=storage)
        sub = rm.submatrix(5, 25)
        assert np.array_equal(sub.toarray(), rm.toarray()[5:25, 5:25])
        assert np.array_equal(sub.eps, rm.eps[5:25]) and sub.spec == rm.spec
    out = json.loads(json.dumps(rm.as_dict()))
    dense = np.zeros((40, 40), bool)
    dense[out["rows"], out["cols"]] = True
    assert np.array_equal(dense, rm.toarray())
    assert out["spec"] == {"type": "LocalRecurrenceRate", "k": 3, "rate": None}
    assert "k = 3 nearest" in rm.title() and "Theiler 1" in rm.title()


def test_from_array_kinds():
    """from_array infers the kind from the shape and checks binary content."""
    assert RecurrenceMatrix.from_array(np.ones((3, 3))).kind == "recurrence"
    rm = RecurrenceMatrix.from_array(np.ones((3, 4), int))
    assert rm.kind == "cross" and rm.theiler == 0 and not rm.symmetric
    with pytest.raises(ValidationError, match="only 0/1"):
        RecurrenceMatrix.from_array(np.full((2, 2), 2))
    with pytest.raises(ValidationError, match="must be a 2-D"):
        RecurrenceMatrix.from_array(np.ones(3))
    with pytest.raises(ValidationError, match="must be square for kind='joint'"):
        RecurrenceMatrix.from_array(np.ones((2, 3)), kind="joint")
    with pytest.raises(UnknownOptionError, match="`kind` must be one of"):
        RecurrenceMatrix.from_array(np.ones((2, 2)), kind="twin")


def test_validation_errors(rng):
    """Every validation branch of the builders raises our error with a clear message."""
    x = _states(rng, n=20)
    with pytest.raises(NonFiniteInputError, match="finite"):
        recurrence_matrix(np.array([0.0, np.nan, 1.0]), 0.1)
    with pytest.raises(UnknownOptionError, match="`metric` must be one of"):
        recurrence_matrix(x, 0.1, metric="hamming_distance")
    with pytest.raises(UnknownOptionError, match="`storage` must be one of"):
        recurrence_matrix(x, 0.1, storage="dense")
    with pytest.raises(UnknownOptionError, match="`convention` must be one of"):
        recurrence_matrix(x, 0.1, convention="r")
    with pytest.raises(ValidationError, match="square distance matrix"):
        recurrence_matrix(np.ones((3, 4)), 0.1, precomputed=True)
    with pytest.raises(ValidationError, match="non-negative distances"):
        recurrence_matrix(-np.ones((3, 3)), 0.1, precomputed=True)
    with pytest.raises(ValidationError, match="`y` must be None when precomputed"):
        cross_recurrence_matrix(np.ones((3, 3)), np.ones((3, 3)), 0.1, precomputed=True)
    with pytest.raises(ValidationError, match="same number of components"):
        cross_recurrence_matrix(x, x[:, :2], 0.1)
    with pytest.raises(ValidationError, match="same length as `x`"):
        joint_recurrence_matrix(x, x[:10], 0.1)
    with pytest.raises(ValidationError, match="square distance matrix"):
        joint_recurrence_matrix(np.ones((3, 4)), np.ones((3, 4)), 0.1, precomputed=True)
    with pytest.raises(ValidationError, match="`k` must be <= 19"):
        recurrence_matrix(x, LocalRecurrenceRate(k=25))
    with pytest.raises(ValidationError, match="needs the input values"):
        recurrence_matrix(cdist(x, x), ScaledThreshold(0.1, "std"), precomputed=True)
    with pytest.raises(ValidationError, match="must give `rate` under convention='pyunicorn'"):
        recurrence_matrix(x, LocalRecurrenceRate(k=2), convention="pyunicorn")
    with pytest.raises(ValidationError, match="must leave admissible pairs"):
        recurrence_matrix(x[:3], GlobalRecurrenceRate(0.1), theiler=3)
    with pytest.raises(ValidationError, match="`theiler` must be None or 0"):
        recurrence_matrix(x, 0.1, theiler=1, convention="pyunicorn")
    with pytest.raises(ValidationError, match="`spec` must be a RecurrenceSpec"):
        recurrence_matrix(x, "0.1")
    with pytest.raises(ValidationError, match="`x` and `y` must both be GraphSeries"):
        from graphtraj.snapshots import GraphSeries

        gs = GraphSeries.from_adjacency(np.arange(3), np.ones((3, 2, 2)))
        cross_recurrence_matrix(gs, x, 0.1)


def test_results_bit_identical_across_calls(rng):
    """Two calls on the same input give identical matrices and thresholds."""
    x = _states(rng, n=200)
    a = recurrence_matrix(x, GlobalRecurrenceRate(0.05))
    b = recurrence_matrix(x, GlobalRecurrenceRate(0.05))
    assert a.eps == b.eps and np.array_equal(a.data, b.data)


def test_spec_objects_validate():
    """Spec value objects check their fields and describe themselves."""
    with pytest.raises(ValidationError, match="`eps` must be >= 0"):
        FixedThreshold(-1.0)
    with pytest.raises(ValidationError, match="`fraction` must be > 0"):
        ScaledThreshold(0.0)
    with pytest.raises(UnknownOptionError, match="`scale` must be one of"):
        ScaledThreshold(0.1, "median")
    with pytest.raises(ValidationError, match=r"`rate` must be <= 1"):
        GlobalRecurrenceRate(1.5)
    with pytest.raises(ValidationError, match="`rate` must be > 0"):
        GlobalRecurrenceRate(0.0)
    with pytest.raises(ValidationError, match="exactly one of `k` and `rate`"):
        LocalRecurrenceRate(k=3, rate=0.1)
    with pytest.raises(ValidationError, match="exactly one of `k` and `rate`"):
        LocalRecurrenceRate()
    with pytest.raises(ValidationError, match="`k` must be >= 1"):
        LocalRecurrenceRate(k=0)
    assert ScaledThreshold(0.1).describe() == "ε = 0.1 × max d"
    assert LocalRecurrenceRate(rate=0.05).describe() == "local RR = 0.05"
    assert GlobalRecurrenceRate(0.05).symmetric and not LocalRecurrenceRate(k=1).symmetric


def test_scale_invariant_metric_on_a_scalar_series_is_refused():
    """cosine on one-component points sees only signs (every positive pair recurs):
    refused with a remedy; on embedded points it works."""
    x = np.random.default_rng(0).uniform(0.1, 1.0, 100)
    with pytest.raises(ValidationError, match=r"'cosine' ignores the scale .*delay_embed"):
        recurrence_matrix(x, 0.1, metric="cosine")
    rm = recurrence_matrix(np.c_[x[:-1], x[1:]], 0.01, metric="cosine")
    assert rm.shape == (99, 99)
