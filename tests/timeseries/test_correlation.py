"""Tests of correlation_sum and correlation_dimension (graphtraj.timeseries.correlation)."""

import math
import tracemalloc
import warnings

import numpy as np
import pytest
from scipy.spatial.distance import cdist, pdist

from graphtraj.exceptions import (
    InsufficientDataError,
    NonFiniteInputError,
    UndefinedResultWarning,
    UnknownOptionError,
    UnreliableResultWarning,
    ValidationError,
)
from graphtraj.timeseries import (
    correlation_dimension,
    correlation_sum,
    delay_embed,
    min_length_correlation_sum,
)
from graphtraj.timeseries.correlation import default_radii


def _dense_counts(x, emb_dim, lag, theiler, radii, metric="euclidean"):
    pts = delay_embed(x, emb_dim, lag)
    d = cdist(pts, pts, metric=metric)
    i, j = np.triu_indices(pts.shape[0], k=1)
    keep = (j - i) >= theiler
    dd = d[i[keep], j[keep]]
    return np.array([(dd <= r).sum() for r in radii]), dd.size


def test_hand_example():
    """Three points 0, 1, 3: pair distances 1, 2, 3, counted exactly; w = 2 drops (0,1), (1,3)."""
    cs = correlation_sum([0.0, 1.0, 3.0], [0.5, 1.0, 2.5, 3.0])
    assert cs.counts.tolist() == [0, 1, 2, 3] and cs.n_pairs == 3
    np.testing.assert_allclose(cs.c, [0, 1 / 3, 2 / 3, 1])
    cs = correlation_sum([0.0, 1.0, 3.0], [0.5, 3.0], theiler=2)
    assert cs.counts.tolist() == [0, 1] and cs.n_pairs == 1


@pytest.mark.parametrize(("theiler", "metric"), [(1, "euclidean"), (7, "euclidean"),
                                                 (3, "chebyshev"), (2, "manhattan")])
def test_equals_dense_computation_2000(rng, theiler, metric):
    """On 2000 points the KD-tree counts equal the dense N x N computation exactly."""
    x = rng.normal(size=2000).cumsum()
    radii = np.quantile(pdist(delay_embed(x[:300], 3, 2)), [0.01, 0.05, 0.2, 0.5])
    cs = correlation_sum(x, radii, emb_dim=3, lag=2, theiler=theiler, metric=metric)
    counts, n_pairs = _dense_counts(x, 3, 2, theiler, radii,
                                    {"manhattan": "cityblock"}.get(metric, metric))
    np.testing.assert_array_equal(cs.counts, counts)
    assert cs.n_pairs == n_pairs


def test_equals_nolds_up_to_self_pairs(crosscheck, rng):
    """nolds 0.6.2's C(r) = ours + 1/(N-1): it counts the N self-pairs (field case C3)."""
    nolds = crosscheck("nolds")
    x = rng.normal(size=600)
    cs = correlation_sum(x, emb_dim=3)
    _, (log_r, log_c, _) = nolds.corr_dim(x, 3, fit="poly", debug_data=True)
    np.testing.assert_allclose(np.log(cs.radii), log_r, rtol=1e-12)
    np.testing.assert_allclose(np.log(cs.c + 1 / (cs.n_vectors - 1)), log_c, rtol=1e-10)


def test_default_radii_equal_nolds(crosscheck, rng):
    """default_radii equals nolds' logarithmic_r(0.1 sd, 0.5 sd, 1.03)."""
    nolds = crosscheck("nolds")
    x = rng.normal(size=100)
    sd = np.std(x, ddof=1)
    np.testing.assert_allclose(default_radii(x), nolds.measures.logarithmic_r(0.1 * sd, 0.5 * sd, 1.03))


def test_dimension_of_uniform_noise_in_plane():
    """Uniform i.i.d. noise, 3000 samples, emb_dim 2 → D2 near 2."""
    u = np.random.default_rng(11).uniform(size=3000)
    res = correlation_dimension(u, emb_dim=2)
    assert abs(res.value - 2) < 0.15
    assert res.r2 > 0.99 and res.method == "correlation_dimension"


def test_henon_correlation_dimension():
    """Hénon attractor (state space): D2 ≈ 1.21 (Grassberger & Procaccia 1983: 1.21 ± 0.01)."""
    from graphtraj.datasets import henon_map

    h = henon_map(5000)
    res = correlation_dimension(h, emb_dim=1, radii=np.logspace(-2.3, -0.8, 12))
    assert abs(res.value - 1.21) < 0.1


def test_theiler_band_lowers_counts_of_a_flow(rng):
    """A smooth signal has many close temporal neighbours: the band removes them."""
    x = np.sin(np.arange(2000) / 20.0) + 0.01 * rng.normal(size=2000)
    a = correlation_sum(x, [0.05], emb_dim=2, theiler=1)
    b = correlation_sum(x, [0.05], emb_dim=2, theiler=10)
    counts, _ = _dense_counts(x, 2, 1, 10, [0.05])
    assert b.counts[0] == counts[0] < a.counts[0]


def test_zero_counts_give_nan_and_warning():
    """Radii with C(r) = 0 give NaN (not ln 0) with a warning; < 2 radii → NaN dimension."""
    x = np.random.default_rng(2).normal(size=400)
    with pytest.warns(UndefinedResultWarning, match="C\\(r\\) = 0"):
        res = correlation_dimension(x, emb_dim=2, radii=[1e-9, 1e-8, 0.5, 1.0])
    assert np.isnan(res.log_y[:2]).all() and np.isfinite(res.value)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = correlation_dimension(x, emb_dim=2, radii=[1e-9, 1e-8, 1.0])
    msgs = [str(w.message) for w in caught if w.category is UndefinedResultWarning]
    assert any("fewer than 2 radii" in m for m in msgs) and len(msgs) == 2
    assert math.isnan(res.value)


def test_saturated_radii_warn():
    """Radii beyond the diameter have C(r) = 1 and slope 0: a dimension of exactly 0
    with R² = 1 used to come back without any warning. The flat ln C(r) also makes R²
    undefined (0/0)."""
    x = np.random.default_rng(2).normal(size=100)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = correlation_dimension(x, emb_dim=2, radii=[1e9, 2e9, 3e9])
    unreliable = [str(w.message) for w in caught if w.category is UnreliableResultWarning]
    undefined = [str(w.message) for w in caught if w.category is UndefinedResultWarning]
    assert len(unreliable) == 1 and "C(r) = 1 (every pair within r) at 3 of 3 radii" in unreliable[0]
    assert len(undefined) == 1 and "correlation sum is flat" in undefined[0]
    assert "every pair lies within the smallest radius" in undefined[0]
    assert res.value == 0.0 and math.isnan(res.r2)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UnreliableResultWarning)
        correlation_dimension(x, emb_dim=2)  # the default radii stay below saturation


@pytest.mark.parametrize("scale", [1e300, 1e-300])
def test_default_radii_survive_float_extremes(scale):
    """The default radii scale with the std; at |x| ~ 1e300 it overflowed to inf (then a
    raw LinAlgError from the fit), at 1e-300 it underflowed to 0 ('constant series')."""
    x = np.random.default_rng(0).normal(size=60)
    np.testing.assert_allclose(default_radii(x * scale), default_radii(x) * scale, rtol=1e-12)
    want = correlation_dimension(x, emb_dim=2, metric="chebyshev").value
    got = correlation_dimension(x * scale, emb_dim=2, metric="chebyshev").value
    assert got == pytest.approx(want, rel=1e-9)


def test_memory_is_linear():
    """20 000 points: numpy peak memory stays far below a dense matrix (3.2 GB); field case C4."""
    x = np.random.default_rng(4).uniform(size=20000)
    tracemalloc.start()
    cs = correlation_sum(x, [0.001, 0.01], emb_dim=2, theiler=5)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 20e6  # < 1% of 20000² * 8 bytes
    assert cs.n_vectors == 19999


def test_validation():
    """Invalid parameters and inputs raise our errors."""
    x = np.random.default_rng(0).normal(size=50)
    with pytest.raises(ValidationError, match="`theiler` must be >= 1"):
        correlation_sum(x, theiler=0)
    with pytest.raises(ValidationError, match="`radii` must be positive"):
        correlation_sum(x, [0.0, 1.0])
    with pytest.raises(ValidationError, match="strictly increasing"):
        correlation_sum(x, [1.0, 0.5])
    with pytest.raises(UnknownOptionError, match="`metric` must be one of"):
        correlation_sum(x, metric="cosine")
    with pytest.raises(ValidationError, match="must not be constant"):
        correlation_sum(np.ones(20))
    y = x.copy()
    y[3] = np.nan
    with pytest.raises(NonFiniteInputError, match="non-finite"):
        correlation_dimension(y, emb_dim=2)
    n = min_length_correlation_sum(3, 2, 4)
    correlation_sum(x[:n], [1.0], emb_dim=3, lag=2, theiler=4)
    with pytest.raises(InsufficientDataError, match=f"at least {n} samples"):
        correlation_sum(x[: n - 1], [1.0], emb_dim=3, lag=2, theiler=4)


@pytest.mark.parametrize(
    "series",
    [
        np.where(np.arange(200) == 5, 263.0, 267.0),
        np.random.default_rng(0).integers(0, 2, 200).astype(bool),
    ],
    ids=["one-outlier", "bool"],
)
def test_flat_correlation_sum_has_undefined_r2(series):
    """Discrete data: every pair distance is 0 or far above the default radii, so ln C(r)
    is the same at every radius. R² = 1 - SS_res/SS_tot is then 0/0: NaN with a warning
    naming the cause, slope exactly 0. It used to be -0.77 (one outlier) or 0.94 (bool),
    from round-off, with a slope of 1e-18 and no warning."""
    x = np.asarray(series, dtype=float)
    pts = delay_embed(x, 2, 1)
    d = pdist(pts)
    radii = default_radii(x)
    assert not np.any((d > 0) & (d <= radii[-1]))  # nothing between r_min and r_max
    c_expected = np.mean(d == 0)
    with pytest.warns(UndefinedResultWarning, match="correlation sum is flat") as record:
        res = correlation_dimension(series, emb_dim=2)
    msg = next(str(w.message) for w in record if "flat" in str(w.message))
    assert "too few distinct values" in msg and f"C(r) = {c_expected:.6g}" in msg
    assert res.value == 0.0 and res.slope == 0.0 and math.isnan(res.r2)
    np.testing.assert_allclose(np.exp(res.log_y), c_expected, rtol=1e-12)


def test_r2_is_the_coefficient_of_determination(rng):
    """On a non-flat curve r2 equals 1 - SS_res/SS_tot of numpy's least-squares line
    and lies in [0, 1]."""
    x = rng.uniform(size=600)
    res = correlation_dimension(x, emb_dim=2)
    lx, ly = res.log_x, res.log_y
    slope, icpt = np.polyfit(lx, ly, 1)
    want = 1 - np.sum((ly - slope * lx - icpt) ** 2) / np.sum((ly - ly.mean()) ** 2)
    assert res.slope == pytest.approx(slope, rel=1e-12)
    assert res.r2 == pytest.approx(want, rel=1e-10) and 0.0 <= res.r2 <= 1.0


@pytest.mark.parametrize(
    ("alias", "native"),
    [("l2", "euclidean"), ("L1", "manhattan"), ("cityblock", "manhattan"),
     ("max", "chebyshev"), ("linf", "chebyshev"), ("supremum", "chebyshev")],
)
def test_metric_aliases_as_in_recurrence(rng, alias, native):
    """The metric names recurrence_matrix accepts work here too, with the same counts as
    scipy's pdist under the canonical name."""
    x = rng.normal(size=300)
    radii = [0.2, 0.5, 1.0]
    cs = correlation_sum(x, radii, emb_dim=3, metric=alias)
    assert cs.params["metric"] == native
    scipy_name = {"euclidean": "euclidean", "manhattan": "cityblock",
                  "chebyshev": "chebyshev"}[native]
    d = pdist(delay_embed(x, 3, 1), metric=scipy_name)
    np.testing.assert_array_equal(cs.counts, [(d <= r).sum() for r in radii])
    dim = correlation_dimension(x, emb_dim=3, metric=alias)
    assert dim.value == correlation_dimension(x, emb_dim=3, metric=native).value


def test_unknown_metric_lists_aliases():
    """An unknown metric names the native metrics and their aliases."""
    with pytest.raises(UnknownOptionError, match=r"`metric` must be one of .*aliases .*'cityblock'"):
        correlation_sum(np.arange(20.0), [1.0], metric="l3")
