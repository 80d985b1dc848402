"""Tests of the embedding-parameter estimators (graphtraj.timeseries.embedding_params)."""

import math
import warnings

import numpy as np
import pytest

from graphtraj.datasets import henon_map, logistic_map, lorenz
from graphtraj.exceptions import (
    InsufficientDataError,
    NonFiniteInputError,
    UnknownOptionError,
    UnreliableResultWarning,
    ValidationError,
)
from graphtraj.timeseries import (
    autocorrelation,
    cao_embedding,
    false_nearest_neighbors,
    lag_by_autocorrelation,
    lag_by_mutual_information,
    mutual_information,
    theiler_window,
)


# ----------------------------------------------------------- autocorrelation
def test_autocorrelation_equals_direct_formula(rng):
    """The FFT autocorrelation equals the direct biased sum on random input."""
    x = rng.normal(size=300).cumsum()
    r = autocorrelation(x, max_lag=25)
    xc = x - x.mean()
    want = [np.dot(xc[: x.size - k], xc[k:]) / np.dot(xc, xc) for k in range(26)]
    np.testing.assert_allclose(r, want, rtol=1e-10, atol=1e-12)


def test_lag_autocorrelation_sine_period_40():
    """A sine of period 40 has its first autocorrelation zero at lag 10 (a quarter period)."""
    x = np.sin(2 * np.pi * np.arange(4000) / 40)
    res = lag_by_autocorrelation(x, criterion="zero")
    assert res.lag == 10 and res.criterion_met


def test_lag_autocorrelation_levels(rng):
    """'1/e' and '1-1/e' give the first lag below those levels (AR(1) with φ = 0.9)."""
    e = rng.normal(size=20000)
    x = np.empty_like(e)
    x[0] = e[0]
    for t in range(1, e.size):
        x[t] = 0.9 * x[t - 1] + e[t]
    r = autocorrelation(x, max_lag=60)
    for crit, level in (("1/e", 1 / math.e), ("1-1/e", 1 - 1 / math.e)):
        res = lag_by_autocorrelation(x, criterion=crit, max_lag=60)
        assert res.lag == int(np.flatnonzero(r[1:] <= level)[0] + 1)
    # theory: 0.9**k = 1/e at k ≈ 9.5
    assert lag_by_autocorrelation(x, criterion="1/e", max_lag=60).lag in (9, 10, 11)


# ----------------------------------------------------------- mutual information
def _naive_mi(x, lag, n_bins):
    edges = np.linspace(x.min(), x.max(), n_bins + 1)
    a, b = x[: x.size - lag], x[lag:]
    h, _, _ = np.histogram2d(a, b, bins=[edges, edges])
    p = h / h.sum()
    pa, pb = p.sum(1), p.sum(0)
    nz = p > 0
    return float(np.sum(p[nz] * np.log(p[nz] / np.outer(pa, pb)[nz])))


def test_mutual_information_equals_histogram2d(rng):
    """AMI equals a numpy histogram2d reference on random input (same equal-width bins)."""
    x = rng.normal(size=700).cumsum()
    mi = mutual_information(x, max_lag=12, n_bins=9)
    want = [_naive_mi(x, k, 9) for k in range(13)]
    np.testing.assert_allclose(mi, want, rtol=1e-10, atol=1e-13)


def test_mutual_information_lag0_is_entropy(rng):
    """I(0) is the binned entropy of the series (uniform series: ln n_bins)."""
    x = np.tile(np.arange(8) + 0.5, 50)
    assert mutual_information(x, max_lag=1, n_bins=8)[0] == pytest.approx(math.log(8))


def test_lag_mi_first_minimum_matches_curve(rng):
    """The chosen lag is the first descent τ that is the minimum of I over [τ - w, τ + w]."""
    x = np.sin(2 * np.pi * np.arange(3000) / 50.7) + 0.05 * rng.normal(size=3000)
    res = lag_by_mutual_information(x, max_lag=40)
    mi = res.values
    first = next(t for t in range(1, 40)
                 if mi[t - 1] > mi[t] <= mi[max(0, t - math.ceil(t / 2)): t + math.ceil(t / 2) + 1].min())
    assert res.lag == first and res.criterion_met
    np.testing.assert_allclose(mi, mutual_information(x, 40))


def test_lag_mi_lorenz():
    """Lorenz x at dt = 0.01: first AMI minimum near 0.17-0.2 time units (15-22 samples)."""
    res = lag_by_mutual_information(lorenz(6000)[:, 0], max_lag=40)
    assert res.criterion_met and 15 <= res.lag <= 22


# ----------------------------------------------------------- dimension
@pytest.mark.parametrize(
    ("series", "lag", "theiler", "want"),
    [
        (logistic_map(3000), 1, 1, 1),
        (henon_map(3000)[:, 0], 1, 1, 2),
        (lorenz(6000)[:, 0], 18, 30, 3),
    ],
    ids=["logistic", "henon", "lorenz"],
)
def test_fnn_and_cao_known_dimensions(series, lag, theiler, want):
    """FNN and Cao find 1 (logistic), 2 (Hénon) and 3 (Lorenz) dimensions."""
    fnn = false_nearest_neighbors(series, lag=lag, max_dim=5, theiler=theiler)
    cao = cao_embedding(series, lag=lag, max_dim=5, theiler=theiler)
    assert fnn.emb_dim == want and fnn.criterion_met
    assert cao.emb_dim == want and cao.criterion_met
    assert fnn.values[want - 1] <= 0.01


def test_fnn_fraction_equals_naive(rng):
    """The FNN fraction equals a brute-force nearest-neighbour reference."""
    x = rng.normal(size=300).cumsum()
    with pytest.warns(UnreliableResultWarning):
        res = false_nearest_neighbors(x, lag=2, max_dim=3, theiler=3, threshold=0.0)
    ra = np.std(x)
    for d in (1, 2, 3):
        n = x.size - d * 2
        pts = np.stack([x[k * 2 : k * 2 + n] for k in range(d)], 1)
        false = []
        for i in range(n):
            dd = np.sqrt(((pts - pts[i]) ** 2).sum(1))
            ok = (np.abs(np.arange(n) - i) >= 3) & (dd > 0)
            cand = np.flatnonzero(ok)
            j = cand[np.lexsort((cand, dd[cand]))[0]]
            extra = abs(x[i + d * 2] - x[j + d * 2])
            false.append(extra / dd[j] > 10 or math.hypot(dd[j], extra) / ra > 2)
        assert res.values[d - 1] == pytest.approx(np.mean(false))


def test_cao_noise_e2_near_one(rng):
    """For white noise E2(d) ≈ 1 at every d (Cao's test for stochasticity)."""
    with pytest.warns(UnreliableResultWarning, match="E1 does not reach"):
        res = cao_embedding(rng.normal(size=3000), max_dim=5)
    assert np.all(np.abs(res.extra["E2"] - 1) < 0.15)


def test_fnn_fallback_on_noise(rng):
    """White noise never reaches 1% false neighbours in 3 dimensions: fallback + warning."""
    with pytest.warns(UnreliableResultWarning, match="false fraction"):
        res = false_nearest_neighbors(rng.normal(size=1000), max_dim=3)
    assert not res.criterion_met and res.emb_dim == 1 + int(np.nanargmin(res.values))


def test_cao_fallback_warns():
    """An unreachable E1 threshold falls back to the largest E1 with a warning."""
    with pytest.warns(UnreliableResultWarning, match="E1 does not reach"):
        res = cao_embedding(logistic_map(1000), max_dim=3, e1_threshold=5.0)
    assert not res.criterion_met


# ----------------------------------------------------------- theiler window
def test_theiler_window_noise_and_flow():
    """Noise decorrelates at once (w = 1); the Lorenz flow needs a wide window."""
    assert theiler_window(np.random.default_rng(0).normal(size=1000)) == 1
    assert theiler_window(lorenz(4000)[:, 0]) > 10


def test_theiler_window_mean_period_matches_nolds_rule(rng):
    """method='mean_period' is nolds' min_tsep (ceil of the mean period) + 1."""
    x = np.sin(2 * np.pi * np.arange(2000) / 25) + 0.1 * rng.normal(size=2000)
    n = x.size
    f = np.fft.rfft(x, 2 * n - 1)
    freqs = np.fft.rfftfreq(2 * n - 1)
    psd = np.abs(f) ** 2
    mf = np.sum(freqs[1:] * psd[1:]) / np.sum(psd[1:])
    assert theiler_window(x, method="mean_period") == int(np.ceil(1 / mf)) + 1


def test_theiler_window_states_takes_max_and_skips_constant():
    """For states the widest column window counts; constant columns are skipped."""
    t = np.arange(3000)
    states = np.stack([np.sin(t / 30.0), np.random.default_rng(1).normal(size=3000),
                       np.ones(3000)], 1)
    assert theiler_window(states) == theiler_window(states[:, 0])
    assert theiler_window(np.ones((10, 2))) == 1


# ----------------------------------------------------------- validation
def test_validation_errors():
    """Invalid options, lengths and values raise our errors."""
    x = np.sin(np.arange(100) / 3.0)
    with pytest.raises(UnknownOptionError, match="`criterion` must be one of"):
        lag_by_autocorrelation(x, criterion="half")
    with pytest.raises(UnknownOptionError, match="`method` must be one of"):
        theiler_window(x, method="fft")
    with pytest.raises(ValidationError, match="must not be constant"):
        autocorrelation(np.ones(50))
    with pytest.raises(ValidationError, match="`n_bins` must be >= 1"):
        mutual_information(x, 3, n_bins=0)
    with pytest.raises(ValidationError, match="`threshold` must be <= 1"):
        false_nearest_neighbors(x, threshold=2.0)
    with pytest.raises(ValidationError, match="`rtol` must be > 0"):
        false_nearest_neighbors(x, rtol=0.0)
    with pytest.raises(ValidationError, match="`e1_threshold` must be > 0"):
        cao_embedding(x, e1_threshold=0.0)
    bad = x.copy()
    bad[5] = np.inf
    for fn in (autocorrelation, mutual_information, lag_by_mutual_information,
               false_nearest_neighbors, cao_embedding, theiler_window):
        with pytest.raises(NonFiniteInputError, match="non-finite"):
            fn(bad)


@pytest.mark.parametrize(
    ("fn", "kwargs", "n_min"),
    [
        (autocorrelation, {"max_lag": 10}, 12),
        (mutual_information, {"max_lag": 10}, 12),
        (false_nearest_neighbors, {"max_dim": 4, "lag": 2, "theiler": 3}, 14),
        (cao_embedding, {"max_dim": 4, "lag": 2, "theiler": 3}, 16),
    ],
)
def test_length_boundaries(fn, kwargs, n_min):
    """Each estimator runs at its minimum length and raises one sample below."""
    x = np.random.default_rng(5).normal(size=n_min)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnreliableResultWarning)
        fn(x, **kwargs)
    with pytest.raises(InsufficientDataError, match=f"at least {n_min} samples"):
        fn(x[:-1], **kwargs)
