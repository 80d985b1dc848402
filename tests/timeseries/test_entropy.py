"""Tests of sample_entropy (graphtraj.timeseries.entropy)."""

import math

import numpy as np
import pytest

from graphtraj.exceptions import (
    InsufficientDataError,
    NonFiniteInputError,
    UndefinedResultWarning,
    ValidationError,
)
from graphtraj.timeseries import min_length_sample_entropy, sample_entropy


def _naive_counts(x, m, r, lag, closed):
    n_t = len(x) - m * lag
    def count(mm):
        t = np.array([[x[i + k * lag] for k in range(mm)] for i in range(n_t)])
        c = 0
        for i in range(n_t):
            for j in range(i + 1, n_t):
                d = np.max(np.abs(t[i] - t[j]))
                c += (d <= r) if closed else (d < r)
        return c
    return count(m + 1), count(m)


@pytest.mark.parametrize(("m", "lag", "closed"), [(2, 1, True), (3, 2, False), (1, 1, True)])
def test_counts_equal_brute_force(rng, m, lag, closed):
    """A and B equal a brute-force double loop over template pairs on random input."""
    x = np.round(rng.normal(size=150), 1)  # rounding makes distances hit r exactly
    r = 0.3
    res = sample_entropy(x, emb_dim=m, tolerance=r, lag=lag, closed=closed)
    a, b = _naive_counts(x, m, r, lag, closed)
    assert (res.a, res.b) == (a, b)
    assert res.value == pytest.approx(-math.log(a / b))
    assert res.n_templates == x.size - m * lag


def test_equals_nolds(crosscheck, rng):
    """Value and counts equal nolds.sampen with the same tolerance and closedness."""
    nolds = crosscheck("nolds")
    x = rng.normal(size=400)
    for closed in (True, False):
        res = sample_entropy(x, emb_dim=2, tolerance=0.25, lag=2, closed=closed)
        want, counts, _ = nolds.sampen(x, emb_dim=2, tolerance=0.25, lag=2, closed=closed,
                                       debug_data=True)
        assert (res.b, res.a) == tuple(int(c) for c in counts)
        assert res.value == pytest.approx(want, rel=1e-12)


def test_default_tolerance_is_02_sd():
    """The default tolerance is 0.2 times the sample standard deviation (ddof = 1)."""
    x = np.random.default_rng(2).normal(size=300)
    assert sample_entropy(x).tolerance == pytest.approx(0.2 * np.std(x, ddof=1))


def test_white_noise_value():
    """Gaussian white noise, m = 2, r = 0.2 sd: SampEn ≈ 2.2 (Richman & Moorman 2000, Fig. 3)."""
    x = np.random.default_rng(8).normal(size=5000)
    assert abs(sample_entropy(x).value - 2.2) < 0.1


def test_undefined_returns_nan_with_counts():
    """A = 0 → NaN, defined=False, the counts exposed, and a warning."""
    x = np.arange(40, dtype=float)  # no two templates within 0.5
    with pytest.warns(UndefinedResultWarning, match="A = 0 and B = 0"):
        res = sample_entropy(x, tolerance=0.5)
    assert math.isnan(res.value) and not res.defined and (res.a, res.b) == (0, 0)


def test_validation_and_lengths():
    """Too short, constant and non-finite inputs raise our errors."""
    n = min_length_sample_entropy(2)
    x = np.random.default_rng(0).normal(size=n)
    with pytest.warns(UndefinedResultWarning):
        sample_entropy(x, tolerance=1e-6)
    with pytest.raises(InsufficientDataError, match=f"at least {n} samples"):
        sample_entropy(x[:-1])
    with pytest.raises(ValidationError, match="must not be constant"):
        sample_entropy(np.ones(20))
    with pytest.raises(ValidationError, match="`tolerance` must be > 0"):
        sample_entropy(np.arange(20.0), tolerance=0.0)
    with pytest.raises(NonFiniteInputError, match="non-finite"):
        sample_entropy([1.0, np.nan, 2.0, 3.0, 4.0])


@pytest.mark.parametrize("scale", [1e300, 1e-300])
def test_default_tolerance_is_scale_invariant_at_float_extremes(scale):
    """SampEn is scale-invariant with the default tolerance. At |x| ~ 1e300 the plain
    std overflowed (tolerance inf, SampEn 0 reported as defined); at 1e-300 it underflowed
    and the series was rejected as constant."""
    x = np.random.default_rng(0).normal(size=60)
    want = sample_entropy(x)
    got = sample_entropy(x * scale)
    assert got.value == pytest.approx(want.value, rel=1e-12)
    assert (got.a, got.b) == (want.a, want.b)
    assert got.tolerance == pytest.approx(want.tolerance * scale, rel=1e-12)
