"""Tests of the nolds-backed measures (graphtraj.timeseries.nolds_measures)."""

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
    ValidationError,
)
from graphtraj.timeseries import (
    dfa,
    hurst_rs,
    lyapunov_eckmann,
    min_length_lyapunov_eckmann,
)


def _nolds(crosscheck):
    nolds = crosscheck("nolds")
    return nolds


def test_hurst_equals_nolds_poly(crosscheck, rng):
    """hurst_rs equals nolds.hurst_rs(fit='poly') and refits its own points exactly."""
    nolds = _nolds(crosscheck)
    x = rng.normal(size=2000).cumsum()
    res = hurst_rs(x)
    assert res.value == pytest.approx(nolds.hurst_rs(x, fit="poly"), rel=1e-12)
    assert res.value == pytest.approx(res.slope + 0.5)
    res2 = hurst_rs(x, nvals=[16, 32, 64, 128], corrected=False)
    assert res2.value == pytest.approx(
        nolds.hurst_rs(x, nvals=[16, 32, 64, 128], fit="poly", corrected=False), rel=1e-12)


def test_dfa_equals_nolds_poly(crosscheck, rng):
    """dfa equals nolds.dfa(fit_exp='poly'); white noise α ≈ 0.5, random walk α ≈ 1.5."""
    nolds = _nolds(crosscheck)
    e = rng.normal(size=1000)
    assert dfa(e).value == pytest.approx(nolds.dfa(e, fit_exp="poly"), rel=1e-12)
    assert abs(dfa(e).value - 0.5) < 0.1
    assert abs(dfa(e.cumsum()).value - 1.5) < 0.1


def test_results_are_deterministic(rng):
    """The same input gives bit-identical results and numpy's global generator is untouched."""
    x = rng.normal(size=1000)
    before = np.random.get_state()[1].copy()  # noqa: NPY002 (checking it is untouched)
    a, b = hurst_rs(x).value, dfa(x).value
    np.testing.assert_array_equal(np.random.get_state()[1], before)  # noqa: NPY002
    assert (hurst_rs(x).value, dfa(x).value) == (a, b)


def test_eckmann_defaults_equal_nolds_and_warn(crosscheck):
    """The wrapper returns nolds.lyap_e's spectrum and warns about the m = 3 step."""
    nolds = _nolds(crosscheck)
    x = logistic_map(800)
    with pytest.warns(UnreliableResultWarning, match="m = 3"):
        res = lyapunov_eckmann(x)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        np.testing.assert_allclose(res.exponents, nolds.lyap_e(x), rtol=1e-12)
    assert res.params["m"] == 3


@pytest.mark.parametrize("x", [np.ones(100), np.tile([0.0, 1.0], 50)], ids=["constant", "period-2"])
def test_eckmann_degenerate_series_is_nan_with_warning(crosscheck, x):
    """A constant or periodic series has no local Jacobians: nolds returns inf, the
    wrapper returns NaN and says why (it used to return inf silently)."""
    _nolds(crosscheck)
    with pytest.warns(UndefinedResultWarning, match="Jacobians are undefined"):
        res = lyapunov_eckmann(x, emb_dim=2, matrix_dim=2)
    assert res.exponents.shape == (2,)
    assert np.all(np.isnan(res.exponents))


@pytest.mark.slow
def test_eckmann_default_magnitude_is_wrong():
    """The documented bias: with nolds' defaults the logistic map's largest exponent is
    0.96 (2000 samples) and 1.21 (3000), not ln 2 — and it drifts with the length."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnreliableResultWarning)
        big = [lyapunov_eckmann(logistic_map(n)).exponents[0] for n in (2000, 3000)]
    assert all(abs(b - math.log(2)) > 0.2 for b in big)


def test_eckmann_one_step_has_ln2_last(crosscheck):
    """With emb_dim = matrix_dim = 2 (m = 1) the spectrum is ≈ (2 ln 2, ln 2), no warning."""
    x = logistic_map(700)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UnreliableResultWarning)
        res = lyapunov_eckmann(x, emb_dim=2, matrix_dim=2)
    np.testing.assert_allclose(res.exponents, [2 * math.log(2), math.log(2)], atol=0.05)
    half = lyapunov_eckmann(x, emb_dim=2, matrix_dim=2, dt=0.5)
    np.testing.assert_allclose(half.exponents, 2 * res.exponents)


def test_constant_series_nan_with_warning():
    """Constant input: every R/S and every fluctuation is undefined → NaN with a warning."""
    with pytest.warns(UndefinedResultWarning, match="constant"):
        assert math.isnan(hurst_rs(np.ones(200)).value)
    with pytest.warns(UndefinedResultWarning, match="constant"):
        assert math.isnan(dfa(np.ones(200)).value)


def test_flat_log_curve_has_undefined_r2():
    """An alternating series ±1 has R/S = 1 in every even window (range 1, population sd
    1), so ln (R/S)_n = 0 at every n: slope 0, R² = 0/0 → NaN with a warning (the shared
    line fit used to return R² = 1 here, and round-off R² in nearly flat cases)."""
    x = np.tile([1.0, -1.0], 50)
    with pytest.warns(UndefinedResultWarning, match=r"hurst_rs: ln \(R/S\)_n is the same at every n"):
        res = hurst_rs(x, nvals=[4, 8, 16], corrected=False, unbiased=False)
    np.testing.assert_array_equal(res.log_y, 0.0)
    assert res.slope == 0.0 and math.isnan(res.r2) and res.value == 0.0


def test_lengths_and_validation():
    """Boundaries at the minimum length, and invalid parameters."""
    rng = np.random.default_rng(0)
    hurst_rs(rng.normal(size=10))
    with pytest.raises(InsufficientDataError, match="at least 10 samples"):
        hurst_rs(rng.normal(size=9))
    dfa(rng.normal(size=11))
    with pytest.raises(InsufficientDataError, match="at least 11 samples"):
        dfa(rng.normal(size=10))
    with pytest.raises(InsufficientDataError, match="at least 33 samples"):
        dfa(rng.normal(size=32), nvals=[8, 32])
    n = min_length_lyapunov_eckmann(4, 4, 8, 2)
    x = logistic_map(n)
    lyapunov_eckmann(x, emb_dim=4, matrix_dim=4, min_nb=8, theiler=2)
    with pytest.raises(InsufficientDataError, match=f"at least {n} samples"):
        lyapunov_eckmann(x[:-1], emb_dim=4, matrix_dim=4, min_nb=8, theiler=2)
    with pytest.raises(ValidationError, match="divisible"):
        lyapunov_eckmann(logistic_map(200), emb_dim=10, matrix_dim=3)
    with pytest.raises(ValidationError, match="at least 2 distinct"):
        hurst_rs(rng.normal(size=100), nvals=[8, 8])
    with pytest.raises(ValidationError, match="`nvals` must be >= 2"):
        dfa(rng.normal(size=100), nvals=[1, 8])
    with pytest.raises(ValidationError, match="sequence of integers"):
        dfa(rng.normal(size=100), nvals="abc")
    bad = rng.normal(size=100)
    bad[50] = np.inf
    for fn in (hurst_rs, dfa, lyapunov_eckmann):
        with pytest.raises(NonFiniteInputError, match="non-finite"):
            fn(bad)
