"""Tests for graphtraj.measures.comparison (Mantel test and distance-view comparison)."""

import numpy as np
import pytest
from scipy.spatial.distance import pdist, squareform
from scipy.stats import pearsonr, spearmanr

from graphtraj.exceptions import (
    InsufficientDataError,
    UndefinedResultWarning,
    UnknownOptionError,
    ValidationError,
)
from graphtraj.measures import compare_to_weight_distance, distance_matrix, mantel
from graphtraj.snapshots import GraphSeries


def _naive_mantel(a, b, permutations, method, seed):
    """Permute d2's rows/cols with the same generator and recompute scipy's correlation."""
    gen = np.random.default_rng(seed)
    iu = np.triu_indices(len(a), 1)
    corr = (lambda x, y: pearsonr(x, y)[0]) if method == "pearson" else (lambda x, y: spearmanr(x, y)[0])
    r = corr(a[iu], b[iu])
    null = []
    for _ in range(permutations):
        p = gen.permutation(len(a))
        null.append(corr(a[iu], b[p][:, p][iu]))
    return r, np.array(null)


@pytest.mark.parametrize("method", ["pearson", "spearman"])
def test_mantel_matches_naive_permutation_test(rng, method):
    """Statistic = scipy's correlation; null and p-value equal a naive loop with the same rng."""
    x = rng.normal(size=(12, 3))
    a = squareform(pdist(x))
    b = squareform(pdist(x + rng.normal(scale=0.8, size=x.shape), "cityblock"))
    res = mantel(a, b, permutations=60, method=method, rng=9)
    r, null = _naive_mantel(a, b, 60, method, 9)
    assert np.isclose(res.statistic, r, rtol=1e-12)
    np.testing.assert_allclose(res.null, null, rtol=1e-9, atol=1e-12)
    assert res.p_value == (1 + np.sum(null >= r - 1e-12)) / 61
    two = mantel(a, b, permutations=60, method=method, alternative="two-sided", rng=9)
    assert two.p_value == (1 + np.sum(np.abs(null) >= abs(r) - 1e-12)) / 61
    less = mantel(a, b, permutations=60, method=method, alternative="less", rng=9)
    assert less.p_value == (1 + np.sum(null <= r + 1e-12)) / 61


def test_mantel_detects_related_and_unrelated_matrices(rng):
    """A monotone transform gives p = 1/(P+1); independent matrices give a large p."""
    x = rng.normal(size=(15, 2))
    a = squareform(pdist(x))
    assert mantel(a, np.sqrt(a), permutations=99, method="spearman", rng=1).p_value == 0.01
    other = squareform(pdist(rng.normal(size=(15, 2))))
    assert mantel(a, other, permutations=99, rng=1).p_value > 0.05
    with pytest.warns(UndefinedResultWarning, match="needs permutations"):
        res = mantel(a, other, permutations=0)
    assert np.isnan(res.p_value) and np.isfinite(res.statistic)


def test_mantel_validation():
    """Non-square, asymmetric, tiny or NaN matrices and bad options raise our errors."""
    a = squareform(pdist(np.arange(5.0)[:, None]))
    with pytest.raises(ValidationError, match="square"):
        mantel(np.zeros((3, 4)), np.zeros((3, 4)))
    with pytest.raises(ValidationError, match="symmetric"):
        mantel(np.triu(a), a)
    with pytest.raises(ValidationError, match="same shape"):
        mantel(a, a[:4, :4])
    with pytest.raises(InsufficientDataError, match="at least 3"):
        mantel(a[:2, :2], a[:2, :2])
    bad = a.copy()
    bad[1, 2] = bad[2, 1] = np.nan
    with pytest.raises(ValidationError, match="finite"):
        mantel(bad, a)
    with pytest.raises(UnknownOptionError, match="spearman"):
        mantel(a, a, method="kendall")
    with pytest.raises(UnknownOptionError, match="two-sided"):
        mantel(a, a, alternative="both")
    with pytest.raises(ValidationError, match="permutations"):
        mantel(a, a, permutations=-1)
    with pytest.warns(UndefinedResultWarning, match="constant"):
        assert np.isnan(mantel(a, np.ones((5, 5)) - np.eye(5)).statistic)


def test_compare_to_weight_distance_summary(rng):
    """Frobenius on a one-layer network tracks L1 closely; the summary is consistent."""
    t = 40
    w = np.cumsum(rng.normal(size=(t, 3, 2)), 0)
    gs = GraphSeries.from_layers(np.arange(t) * 10, [w])
    cmp = compare_to_weight_distance(gs, ["frobenius", "heat_trace"], max_snapshots=20,
                                     permutations=49, rng=3)
    assert cmp.times.size == 20 and cmp.metrics == ("frobenius", "heat_trace")
    sub = gs[np.arange(0, t, 2)]  # one stride, ceil(40 / 20) = 2
    np.testing.assert_allclose(cmp.matrices["frobenius"], distance_matrix(sub, "frobenius"))
    ref = mantel(cmp.matrices["l1"], cmp.matrices["frobenius"], method="spearman",
                 permutations=0).statistic
    assert np.isclose(cmp.mantel_r["frobenius"], ref)
    assert cmp.mantel_r["frobenius"] > 0.8 and cmp.mantel_p["frobenius"] == 0.02
    assert -1 <= cmp.successive_corr["heat_trace"] <= 1
    assert cmp.disagreement_time["frobenius"] in set(cmp.times[1:].tolist())
    assert 0 <= cmp.disagreement["frobenius"] <= 1
    with pytest.raises(InsufficientDataError, match="at least 3"):
        compare_to_weight_distance(gs[:2])
    with pytest.raises(UnknownOptionError, match="metrics"):
        compare_to_weight_distance(gs, ["nope"])
    with pytest.raises(ValidationError, match="GraphSeries"):
        compare_to_weight_distance(np.zeros((3, 3)))


@pytest.mark.parametrize("c", [1e-300, 1e-170, 1e170, 1e300])
@pytest.mark.parametrize("method", ["pearson", "spearman"])
def test_mantel_is_scale_free(rng, c, method):
    """Hypothesis: a correlation does not depend on the units of either matrix: scaling
    d1 by 1e±300 leaves the statistic and null distribution unchanged — the standard
    deviation must not overflow (1e300²) nor underflow into a spurious 'constant matrix'
    NaN (1e-170² = 0)."""
    x = rng.normal(size=(9, 2))
    d1 = squareform(pdist(x))
    d2 = squareform(pdist(x, "cityblock")) ** 2
    want = mantel(d1, d2, permutations=19, method=method, rng=4)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = mantel(c * d1, d2, permutations=19, method=method, rng=4)
    assert got.statistic == pytest.approx(want.statistic, rel=1e-12)
    np.testing.assert_allclose(got.null, want.null, rtol=1e-12, atol=1e-15)
    assert got.p_value == want.p_value


def test_compare_to_weight_distance_warns_on_undefined_entries(rng):
    """Hypothesis: a metric whose distances are all equal (sign_hamming of a series
    whose signs never change) makes its Mantel and rank correlations undefined: NaN
    with an UndefinedResultWarning naming the metric, never a silent NaN. A single
    metric name is accepted as well as a list."""
    gs = GraphSeries.from_adjacency(np.arange(6), np.abs(rng.normal(size=(6, 4, 4))) + 0.1)
    with pytest.warns(UndefinedResultWarning, match="sign_hamming"):
        cmp = compare_to_weight_distance(gs, "sign_hamming", permutations=5, rng=0)
    assert cmp.metrics == ("sign_hamming",)
    assert np.isnan(cmp.mantel_r["sign_hamming"]) and np.isnan(cmp.successive_corr["sign_hamming"])


def test_rank_identical_speeds_have_no_disagreement_time(rng):
    """A metric proportional to the reference (frobenius of a one-layer network against
    l2 here: equal) has the same speed ranks: disagreement 0 and no time (NaN)."""
    w = np.cumsum(rng.normal(size=(12, 3, 2)), 0)
    gs = GraphSeries.from_layers(np.arange(12), [w])
    cmp = compare_to_weight_distance(gs, ["frobenius"], reference="l2", permutations=9, rng=0)
    assert cmp.disagreement["frobenius"] == 0.0
    assert np.isnan(cmp.disagreement_time["frobenius"])
