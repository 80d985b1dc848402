"""Field cases C1-C3 and C5-C8 (shared/cases/CASES.md): Lyapunov exponents from data,
correlation sums, sample entropy, non-finite input and embedding parameters."""

import math
import warnings

import numpy as np
import pytest

from graphtraj.datasets import logistic_map
from graphtraj.exceptions import (
    InsufficientDataError,
    NonFiniteInputError,
    UndefinedResultWarning,
    UnreliableResultWarning,
)
from graphtraj.timeseries import (
    autocorrelation,
    cao_embedding,
    correlation_dimension,
    correlation_sum,
    dfa,
    false_nearest_neighbors,
    hurst_rs,
    lag_by_autocorrelation,
    lag_by_mutual_information,
    lyapunov_eckmann,
    lyapunov_kantz,
    lyapunov_rosenstein,
    min_length_rosenstein,
    mutual_information,
    network_mle,
    sample_entropy,
    theiler_window,
)
from graphtraj.timeseries.embedding_params import _bin_index

LN2 = math.log(2.0)
C1 = dict(emb_dim=10, lag=5, trajectory_len=20, theiler=11)  # nolds: min_tsep = 10


# ----------------------------------------------------------------------- C1
def test_c1_minimum_is_86_like_nolds(crosscheck):
    """C1: the minimum for emb_dim 10, lag 5, trajectory 20, min_tsep 10 is nolds' 86."""
    nolds = crosscheck("nolds")
    assert min_length_rosenstein(**C1) == 86
    assert nolds.lyap_r_len(emb_dim=10, lag=5, trajectory_len=20, min_tsep=10) == 86


@pytest.mark.parametrize("n", range(40, 86))
def test_c1_too_short_raises_our_error(n):
    """C1: 40..85 samples raise InsufficientDataError stating 86 and how it is made."""
    x = np.random.default_rng(n).normal(size=n)
    with pytest.raises(InsufficientDataError, match=r"at least 86 samples.*= 86 \(span"):
        lyapunov_rosenstein(x, **C1)
    with pytest.raises(InsufficientDataError, match="at least 86 samples"):
        lyapunov_rosenstein(x, convention="nolds", **C1)


@pytest.mark.parametrize("n", [86, 87, 100])
def test_c1_at_and_above_minimum_is_finite(n, crosscheck):
    """C1: at the minimum (and above) the exponent is finite and equals nolds'."""
    nolds = crosscheck("nolds")
    x = np.random.default_rng(n).normal(size=n)
    res = lyapunov_rosenstein(x, convention="nolds", **C1)
    assert np.isfinite(res.exponent)
    want = nolds.lyap_r(x, emb_dim=10, lag=5, min_tsep=10, trajectory_len=20, fit="poly")
    assert res.exponent == pytest.approx(want, rel=1e-6)
    own = lyapunov_rosenstein(x, fit_range=(0, 20), **C1)
    assert np.isfinite(own.exponent)


# ----------------------------------------------------------------------- C2
def _c2_series():
    return np.round(logistic_map(2000, x0=0.3, transient=100) * 1000).astype(np.int64)


def test_c2_rounded_logistic_is_finite_near_ln2():
    """C2: integer data with many zero distances: finite, ln 2 ± 0.25, int64 ≡ float64."""
    x = _c2_series()
    assert x.dtype == np.int64
    for fn in (lyapunov_rosenstein, lyapunov_kantz):
        a = fn(x, theiler=1)
        b = fn(x.astype(np.float64), theiler=1)
        assert np.isfinite(a.exponent) and abs(a.exponent - LN2) < 0.25
        np.testing.assert_array_equal(a.curve, b.curve)
        assert a.exponent == b.exponent
        assert np.all(np.isfinite(a.curve))


def test_c2_near_constant_series_is_nan_with_warning():
    """C2: all 267 but one 263: NaN with a warning that names the cause, never a bare NaN."""
    x = np.full(500, 267)
    x[200] = 263
    for fn in (lyapunov_rosenstein, lyapunov_kantz):
        with pytest.warns(UndefinedResultWarning, match="too few distinct values"):
            res = fn(x, theiler=1)
        assert math.isnan(res.exponent) and not res.scaling_region
    with pytest.warns(UnreliableResultWarning, match="too few distinct values"):
        lyapunov_rosenstein(x, theiler=1, convention="nolds")


# ----------------------------------------------------------------------- C3
def test_c3_normal_noise_never_a_slope_near_zero(crosscheck):
    """C3: 1000 N(0, 3²) samples, emb_dim 5: no dimension ≈ 0.01 from self-pairs."""
    nolds = crosscheck("nolds")
    x = np.random.default_rng(3).normal(scale=3.0, size=1000)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = correlation_dimension(x, emb_dim=5)
    assert math.isnan(res.value) or res.value > 2
    cs = correlation_sum(x, emb_dim=5)
    if np.any(cs.counts == 0):
        assert any(issubclass(w.category, UndefinedResultWarning) for w in caught)
        assert np.isnan(res.log_y[cs.counts == 0]).all()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        assert abs(nolds.corr_dim(x, 5, fit="poly")) < 0.5  # the tool's wrong answer


def test_c3_uniform_noise_plane():
    """C3: uniform i.i.d. noise, 3000 samples, emb_dim 2 → D2 near 2."""
    u = np.random.default_rng(30).uniform(size=3000)
    assert abs(correlation_dimension(u, emb_dim=2).value - 2) < 0.15


# ----------------------------------------------------------------------- C5
C5 = [5.90, 6.03, 5.97, 5.92, 5.93, 5.87, 5.89, 5.95, 6.06, 6.10, 6.06, 5.81, 5.78,
      5.98, 5.89, 5.95, 6.02]


def test_c5_no_matches_exact_counts():
    """C5: m = 2, r = 0.2 sd → B = 1, A = 0 exactly; SampEn undefined → NaN + warning."""
    with pytest.warns(UndefinedResultWarning, match="A = 0 and B = 1"):
        res = sample_entropy(C5, emb_dim=2)
    assert (res.b, res.a) == (1, 0) and not res.defined and math.isnan(res.value)
    # the same counts with the population standard deviation
    with pytest.warns(UndefinedResultWarning):
        res0 = sample_entropy(C5, emb_dim=2, tolerance=0.2 * np.std(C5))
    assert (res0.b, res0.a) == (1, 0)


def test_c5_five_values_no_index_error():
    """C5: −1 2 1 3 3 → NaN with a warning (no IndexError); too short for m = 4 → our error."""
    with pytest.warns(UndefinedResultWarning, match="undefined"):
        res = sample_entropy([-1, 2, 1, 3, 3], emb_dim=2)
    assert math.isnan(res.value)
    with pytest.raises(InsufficientDataError, match="at least 6 samples"):
        sample_entropy([-1, 2, 1, 3, 3], emb_dim=4)


# ----------------------------------------------------------------------- C6
def test_c6_one_nan_is_rejected_up_front():
    """C6: one NaN in 1000 normal samples → NonFiniteInputError from every function."""
    x = np.random.default_rng(6).normal(size=1000)
    x[500] = np.nan
    calls = [
        lambda: lyapunov_rosenstein(x), lambda: lyapunov_kantz(x),
        lambda: lyapunov_rosenstein(x, convention="nolds"),
        lambda: correlation_sum(x), lambda: correlation_dimension(x, emb_dim=2),
        lambda: sample_entropy(x), lambda: hurst_rs(x), lambda: dfa(x),
        lambda: lyapunov_eckmann(x), lambda: autocorrelation(x),
        lambda: mutual_information(x), lambda: lag_by_autocorrelation(x),
        lambda: lag_by_mutual_information(x), lambda: false_nearest_neighbors(x),
        lambda: cao_embedding(x), lambda: theiler_window(x),
        lambda: network_mle(x.reshape(100, 10)),
    ]
    for call in calls:
        with pytest.raises(NonFiniteInputError, match="1 non-finite entry \\(1 NaN\\)"):
            call()


# ----------------------------------------------------------------------- C7
def test_c7_sine_period_400_no_zero_below_20():
    """C7: sine of period 400: no autocorrelation zero below lag 20 → fallback + warning."""
    x = np.sin(2 * np.pi * np.arange(4000) / 400)
    with pytest.warns(UnreliableResultWarning, match="'zero' not met for lags 1..20"):
        res = lag_by_autocorrelation(x, criterion="zero", max_lag=20)
    assert not res.criterion_met and res.lag == 20


def test_c7_random_walk_no_first_minimum():
    """C7: a random walk has no first minimum of mutual information → fallback + warning."""
    x = np.random.default_rng(7).normal(size=4000).cumsum()
    with pytest.warns(UnreliableResultWarning, match="first_minimum' not met"):
        res = lag_by_mutual_information(x)
    assert not res.criterion_met
    assert res.lag == int(np.argmin(res.values[1:]) + 1)


def test_c7_sine_period_40_zero_at_10():
    """C7: a sine of period 40 → first autocorrelation zero at lag 10."""
    x = np.sin(2 * np.pi * np.arange(4000) / 40)
    assert lag_by_autocorrelation(x, criterion="zero").lag == 10


# ----------------------------------------------------------------------- C8
def test_c8_histogram_edge():
    """C8: values i/98 repeated and shuffled: the maximum lands in the last bin; MI finite ≥ 0."""
    rng = np.random.default_rng(8)
    x = np.tile(np.arange(99) / 98.0, 10)
    rng.shuffle(x)
    for n_bins in (5, 7, 98, 99):
        idx = _bin_index(x, n_bins)
        assert idx.min() == 0 and idx.max() == n_bins - 1  # every sample lands in a bin
        assert np.bincount(idx, minlength=n_bins).sum() == x.size
        mi = mutual_information(x, max_lag=5, n_bins=n_bins)
        assert np.all(np.isfinite(mi)) and np.all(mi >= 0)


def test_c8_constant_series_mi_zero():
    """C8: a constant series has mutual information 0 at every lag (documented)."""
    np.testing.assert_array_equal(mutual_information(np.full(100, 2.5), max_lag=4), 0.0)
