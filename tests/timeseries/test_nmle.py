"""Tests of network_mle (graphtraj.timeseries.nmle)."""

import math
import warnings

import numpy as np
import pytest

from graphtraj.datasets import (
    independent_logistic_network,
    logistic_network,
    periodic_network,
    random_graph_series,
)
from graphtraj.exceptions import (
    InsufficientDataError,
    NonFiniteInputError,
    UndefinedResultWarning,
    UnknownOptionError,
    ValidationError,
)
from graphtraj.timeseries import lyapunov_kantz, min_length_network_mle, network_mle

LN2 = math.log(2.0)


def _pairs(n_pairs, n, seed, make=logistic_network, perturb=1e-12):
    """Reference/perturbed twins from different starting points of the driving map(s)."""
    rng = np.random.default_rng(seed)
    refs, perts = [], []
    for _ in range(n_pairs):
        if make is logistic_network:
            x0 = float(rng.uniform(0.05, 0.95))
            refs.append(make(n, x0=x0))
            perts.append(make(n, x0=x0, perturb=perturb))
        else:
            s = int(rng.integers(1 << 30))
            refs.append(make(n, seed=s))
            perts.append(make(n, seed=s, perturb=perturb))
    return refs, perts


# ----------------------------------------------------------- known answers
def test_logistic_network_single_mode_is_ln2():
    """Logistic-driven network, one trajectory: nMLE = ln 2 ± 0.05."""
    res = network_mle(logistic_network(1500), theiler=1)
    assert res.method == "nmle_single" and res.scaling_region
    assert abs(res.exponent - LN2) < 0.05


def test_logistic_network_two_mode_is_ln2():
    """Logistic-driven network, reference vs perturbed twins: nMLE = ln 2 ± 0.05."""
    refs, perts = _pairs(20, 70, seed=1)
    res = network_mle(refs, perts)
    assert res.method == "nmle_two" and res.params["n_copies"] == 20
    assert abs(res.exponent - LN2) < 0.05


def test_independent_links_two_mode_is_ln2():
    """15 independently driven links (high-dimensional chaos): two-trajectory nMLE = ln 2 ± 0.05."""
    refs, perts = _pairs(5, 80, seed=2, make=independent_logistic_network)
    res = network_mle(refs, perts)
    assert abs(res.exponent - LN2) < 0.05


@pytest.mark.parametrize("mode", ["single", "two"])
def test_periodic_network_is_zero(mode):
    """Period-5 network with tiny noise: |nMLE| < 0.02 in both modes."""
    g = periodic_network(1000)
    if mode == "single":
        res = network_mle(g, theiler=1)
    else:
        res = network_mle(g, periodic_network(1000, noise_seed=7))
    assert res.status == "flat"
    assert abs(res.exponent) < 0.02


@pytest.mark.parametrize("mode", ["single", "two"])
def test_iid_graphs_are_flagged(mode):
    """i.i.d. random graphs: no scaling region (NaN, reason, warning) in both modes."""
    g = random_graph_series(1000)
    with pytest.warns(UndefinedResultWarning, match="no scaling region"):
        if mode == "single":
            res = network_mle(g, theiler=1)
        else:
            res = network_mle(g, random_graph_series(1000, seed=3))
    assert not res.scaling_region and math.isnan(res.exponent) and res.reason


# ----------------------------------------------------------- oracles
def test_single_mode_equals_kantz_on_vectors(rng):
    """With l2 on (T, P) vectors the single mode is Kantz's estimator with emb_dim = 1."""
    x = np.stack([np.sin(np.arange(600) / 7.0), rng.normal(size=600)], 1)
    a = network_mle(x, metric="l2", theiler=3, n_neighbors=4, fit_range=(0, 20))
    b = lyapunov_kantz(x, theiler=3, n_neighbors=4, fit_range=(0, 20))
    np.testing.assert_allclose(a.curve, b.curve, rtol=1e-12)


def test_precomputed_and_callable_equal_vector_path():
    """A precomputed matrix, a callable and the registry's l1 matrix all equal the KD path."""
    from graphtraj.measures import distance_matrix

    g = logistic_network(300)
    want = network_mle(g, theiler=2, n_neighbors=3, fit_range=(0, 20))
    dmat = distance_matrix(g, metric="l1")
    pre = network_mle(dmat, metric="precomputed", theiler=2, n_neighbors=3, fit_range=(0, 20))
    np.testing.assert_allclose(pre.curve, want.curve, rtol=1e-10)

    def l1_upper(a, b):
        return float(np.abs(np.triu(a - b, 1)).sum())

    cal = network_mle(g, metric=l1_upper, theiler=2, n_neighbors=3, fit_range=(0, 20))
    np.testing.assert_allclose(cal.curve, want.curve, rtol=1e-10)


def test_radius_neighbourhoods_matrix_vs_vectors():
    """Radius neighbourhoods give the same curve from vectors and from the matrix."""
    from graphtraj.measures import distance_matrix

    g = logistic_network(400)
    a = network_mle(g, theiler=1, eps=0.05, fit_range=(0, 20))
    b = network_mle(distance_matrix(g, "l1"), metric="precomputed", theiler=1, eps=0.05,
                    fit_range=(0, 20))
    np.testing.assert_allclose(a.curve, b.curve, rtol=1e-10)
    assert a.params["mean_neighbourhood"] == pytest.approx(b.params["mean_neighbourhood"])


def test_registry_metric_other_than_l1():
    """A registry metric such as 'frobenius' works through distance_matrix (scale: ln 2)."""
    res = network_mle(logistic_network(800), metric="frobenius", theiler=1)
    assert abs(res.exponent - LN2) < 0.05


def test_two_mode_precomputed_and_copies():
    """Two mode from precomputed (K, T) distances equals the mode on the graphs; copies average."""
    from graphtraj.measures import paired_distances

    ref = logistic_network(60, x0=0.2)
    perts = [logistic_network(60, x0=0.2, perturb=p) for p in (1e-11, 3e-11)]
    res = network_mle(ref, perts)
    d = np.stack([paired_distances(ref, p, "l1") for p in perts])
    pre = network_mle(d, metric="precomputed", mode="two", fit_range=(5, 25))
    want = np.mean(np.log(d[:, :60]), axis=0)
    np.testing.assert_allclose(pre.curve, want, rtol=1e-12)
    np.testing.assert_allclose(res.curve, want, rtol=1e-10)


def test_zero_distance_at_start_is_masked():
    """Identical start (distance 0) is left out of the log, never a NaN exponent from log 0."""
    ref = logistic_network(60, x0=0.2)
    same = logistic_network(60, x0=0.2)
    pert = logistic_network(60, x0=0.2, perturb=1e-12)
    res = network_mle(ref, [same, pert, logistic_network(60, x0=0.2, perturb=2e-12)])
    assert res.n_valid[0] == 2 and np.isfinite(res.curve[0])
    with pytest.warns(UndefinedResultWarning):
        bad = network_mle(ref, same)
    assert np.isnan(bad.curve).all()


def test_trajectory_input(rng):
    """A Trajectory is turned into its layered graph series (same as the GraphSeries)."""
    from graphtraj.snapshots import GraphSeries
    from graphtraj.trajectory import ParamLayout, Trajectory

    lay = ParamLayout.for_mlp([2, 3, 1])
    states = rng.normal(size=(200, lay.size)).cumsum(0)
    tr = Trajectory(np.arange(200), states, lay)
    a = network_mle(tr, theiler=5, fit_range=(0, 20))
    b = network_mle(GraphSeries.from_trajectory(tr), theiler=5, fit_range=(0, 20))
    np.testing.assert_array_equal(a.curve, b.curve)


def test_dense_adjacency_array_is_a_general_series():
    """A (T, N, N) array is the same as GraphSeries.from_adjacency of it."""
    g = logistic_network(300)
    a = network_mle(g.dense(), theiler=1, fit_range=(0, 20))
    b = network_mle(g, theiler=1, fit_range=(0, 20))
    np.testing.assert_allclose(a.curve, b.curve, rtol=1e-12)


# ----------------------------------------------------------- validation
def test_length_boundary_single_mode():
    """At the minimum number of snapshots the estimator runs; one less raises."""
    n = min_length_network_mle(10, 3, n_neighbors=2)
    g = logistic_network(n)
    res = network_mle(g, theiler=3, n_neighbors=2, trajectory_len=10, fit_range=(0, 10))
    assert np.isfinite(res.exponent)
    with pytest.raises(InsufficientDataError, match=f"at least {n} samples"):
        network_mle(g[: n - 1], theiler=3, n_neighbors=2, trajectory_len=10)


def test_validation_errors():
    """Invalid modes, metrics, shapes and values raise our errors."""
    g = logistic_network(100)
    with pytest.raises(UnknownOptionError, match="`mode` must be one of"):
        network_mle(g, mode="three")
    with pytest.raises(UnknownOptionError, match="`metric` must be one of"):
        network_mle(g, metric="nope")
    with pytest.raises(ValidationError, match="`metric` must be a registry key"):
        network_mle(g, metric=3)
    with pytest.raises(ValidationError, match="`perturbed` must be None"):
        network_mle(g, logistic_network(100), mode="single")
    with pytest.raises(ValidationError, match="`perturbed` must be given"):
        network_mle(g, mode="two")
    with pytest.raises(ValidationError, match="same number of snapshots|must have 100 snapshots"):
        network_mle(g, logistic_network(90))
    with pytest.raises(ValidationError, match="either `eps` or `n_neighbors`"):
        network_mle(g, eps=0.1, n_neighbors=2)
    with pytest.raises(ValidationError, match="square"):
        network_mle(np.zeros((5, 6)), metric="precomputed")
    with pytest.raises(ValidationError, match="non-negative"):
        network_mle(-np.ones((30, 30)), metric="precomputed", theiler=1)
    with pytest.raises(ValidationError, match="list as long as `series`"):
        network_mle([g, g], g)
    d = np.ones((40, 40))
    d[3, 4] = np.nan
    with pytest.raises(NonFiniteInputError, match="non-finite"):
        network_mle(d, metric="precomputed")
    with pytest.raises(NonFiniteInputError, match="non-finite"):
        network_mle(np.full((30, 4), np.inf))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndefinedResultWarning)
        with pytest.raises(ValidationError, match="`perturbed` must be None with metric='precomputed'"):
            network_mle(np.ones(30), np.ones(30), metric="precomputed", mode="two")


@pytest.mark.parametrize("mode", ["single", "two"])
def test_callable_metric_returning_non_number_raises(mode):
    """A callable metric that returns something other than a number raises our error
    naming the callable; it used to escape as a raw 'could not convert' ValueError."""
    g = logistic_network(60)
    perturbed = logistic_network(60, perturb=1e-12) if mode == "two" else None
    with pytest.raises(ValidationError, match=r"`metric\(a, b\)` must return a real number"):
        network_mle(g, perturbed, metric=lambda a, b: "far")


@pytest.mark.parametrize(
    ("alias", "canonical", "scipy_name"),
    [("euclidean", "l2", "euclidean"), ("L2", "l2", "euclidean"),
     ("manhattan", "l1", "cityblock"), ("cityblock", "l1", "cityblock"),
     ("chebyshev", "chebyshev", "chebyshev"), ("max", "chebyshev", "chebyshev"),
     ("linf", "chebyshev", "chebyshev")],
)
def test_native_metric_names_and_aliases(alias, canonical, scipy_name):
    """The metric names of the recurrence and Lyapunov functions work here too: each
    equals the precomputed scipy distance matrix of the flat snapshot vectors (single
    mode) and the row-wise norm of their differences (two mode)."""
    from scipy.spatial.distance import cdist

    g = logistic_network(300)
    v = np.asarray(g.vectors(), dtype=float)
    res = network_mle(g, metric=alias, theiler=2, n_neighbors=3, fit_range=(0, 20))
    pre = network_mle(cdist(v, v, metric=scipy_name), metric="precomputed", theiler=2,
                      n_neighbors=3, fit_range=(0, 20))
    np.testing.assert_allclose(res.curve, pre.curve, rtol=1e-10)
    assert res.params["metric"] == canonical

    ref = logistic_network(60, x0=0.2)
    pert = logistic_network(60, x0=0.2, perturb=1e-11)
    two = network_mle(ref, pert, metric=alias, fit_range=(5, 25))
    vr, vp = np.asarray(ref.vectors(), dtype=float), np.asarray(pert.vectors(), dtype=float)
    d = np.array([cdist(vr[t : t + 1], vp[t : t + 1], metric=scipy_name)[0, 0]
                  for t in range(60)])
    np.testing.assert_allclose(two.curve, np.log(d), rtol=1e-10)
    assert two.params["metric"] == canonical


def test_warnings_point_at_the_callers_line():
    """network_mle's fit warnings are attributed to the caller's code, not nmle.py."""
    from graphtraj.datasets import logistic_network

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        network_mle(logistic_network(300), theiler=1)
    assert caught and all(w.filename == __file__ for w in caught)
