"""Tests of the shared line fits in graphtraj.timeseries._scaling."""

import math

import numpy as np
import pytest

from graphtraj.exceptions import UndefinedResultWarning
from graphtraj.timeseries import lyapunov_kantz, lyapunov_rosenstein
from graphtraj.timeseries._scaling import fit_auto, fit_given, is_flat, least_squares


def _naive_r2(x, y):
    slope, icpt = np.polyfit(x, y, 1)
    return 1 - np.sum((y - slope * x - icpt) ** 2) / np.sum((y - y.mean()) ** 2)


def test_r2_matches_the_textbook_formula(rng):
    """On curves with a real spread, R² equals 1 - SS_res/SS_tot of numpy's polyfit."""
    for _ in range(20):
        x = np.sort(rng.uniform(0, 10, 30))
        y = rng.normal() * x + rng.normal(0, rng.uniform(0.1, 5), 30)
        slope, icpt, r2 = least_squares(x, y)
        assert (slope, icpt) == pytest.approx(tuple(np.polyfit(x, y, 1)), rel=1e-12)
        assert r2 == pytest.approx(_naive_r2(x, y), rel=1e-9, abs=1e-12)
        assert 0.0 <= r2 <= 1.0


@pytest.mark.parametrize("offset", [0.0, -0.02025347, 267.0, 1e6])
def test_roundoff_flat_curves_have_undefined_r2(rng, offset):
    """A curve constant up to round-off has SS_tot ≈ 0: R² is NaN and the slope exactly 0.
    The textbook formula gives arbitrary numbers there (negative ones included), which
    the helpers used to return."""
    x = np.arange(40.0)
    eps = np.finfo(float).eps
    wobble = rng.integers(-4, 5, x.size) * eps * max(abs(offset), 1e-300)
    for y in (np.full(x.size, offset), offset + wobble):
        slope, icpt, r2 = least_squares(x, y)
        assert is_flat(y) and slope == 0.0 and math.isnan(r2)
        assert icpt == pytest.approx(offset, abs=1e-12 * max(abs(offset), 1.0))


def test_small_real_trend_is_not_flat():
    """A trend of 1e-9 relative to its level is far above round-off: fitted normally."""
    x = np.arange(50.0)
    y = 1.0 + 1e-9 * x
    slope, _, r2 = least_squares(x, y)
    assert not is_flat(y)
    assert slope == pytest.approx(1e-9, rel=1e-5) and r2 == pytest.approx(1.0, abs=1e-6)


def test_fit_auto_flat_branch_and_fit_given_on_constant_curve():
    """Both fits of an exactly constant curve report slope 0 and R² NaN."""
    x = np.arange(20.0)
    y = np.full(20, 1.5)
    given = fit_given(x, y, 0, 20)
    auto = fit_auto(x, y, saturation=10.0)
    for fit in (given, auto):
        assert fit.slope == 0.0 and math.isnan(fit.r2) and fit.accepted
    assert auto.status == "flat"


@pytest.mark.parametrize("estimator", [lyapunov_rosenstein, lyapunov_kantz])
def test_lyapunov_on_a_line_warns_that_r2_is_undefined(estimator):
    """Points on a line, x_t = 1000 + 0.1 t: every neighbour pair keeps its distance, so
    the divergence curve is constant (up to round-off, ~2e-15). The exponent is 0, R² NaN,
    with a warning; R² used to be -0.16 and the exponent 2e-18."""
    x = 1000.0 + 0.1 * np.arange(300)
    with pytest.warns(UndefinedResultWarning, match=r"curve is constant .* R\^2 is undefined"):
        res = estimator(x, theiler=5)
    assert res.status == "flat" and res.exponent == 0.0 and math.isnan(res.r2)
    assert np.ptp(res.curve) < 1e-13


# ------------------------------------------------------- short horizons (rule step 2)
def test_curve_still_rising_at_the_horizon_is_no_scaling_region():
    """A curve that rises steadily to the end but climbs < 20% of its headroom: the
    horizon is too short, so no scaling region (NaN) with a reason saying so — not
    "flat" with a large slope."""
    k = np.arange(30.0)
    y = -2.0 + 0.05 * k  # rises 1.45, headroom 12
    fit = fit_auto(k, y, saturation=10.0)
    assert fit.status == "no_scaling_region" and math.isnan(fit.slope)
    assert "still rising steadily" in fit.reason and "trajectory_len" in fit.reason


def test_noisy_flat_and_falling_curves_stay_flat(rng):
    """No steady rise: status "flat", fitted over all points; a falling curve is
    described as not rising (not "rises by only 0")."""
    k = np.arange(40.0)
    noisy = rng.normal(0, 0.05, 40)
    fit = fit_auto(k, noisy, saturation=10.0)
    assert fit.status == "flat" and "rises by only" in fit.reason
    assert fit.slope == pytest.approx(np.polyfit(k, noisy, 1)[0], rel=1e-9)
    falling = -0.01 * k
    fit = fit_auto(k, falling, saturation=10.0)
    assert fit.status == "flat" and "does not rise above its start" in fit.reason
    assert fit.slope == pytest.approx(-0.01, rel=1e-9)


def test_linear_fit_on_a_curve_that_has_not_levelled_off_warns():
    """Lorenz x (λ = 0.906 per time unit), dt = 0.01: a 100-step horizon climbs a third
    of the way to the decorrelated level and the fit is about 2x too large — an
    UnreliableResultWarning says so; a 500-step horizon levels off, gives 0.91 ± 0.05
    and does not warn."""
    import warnings

    from graphtraj.datasets import lorenz
    from graphtraj.exceptions import UnreliableResultWarning

    x = lorenz(10000)[:, 0]
    kw = dict(emb_dim=3, lag=18, theiler=32, dt=0.01)
    with pytest.warns(UnreliableResultWarning, match="has not levelled off"):
        short = lyapunov_rosenstein(x, trajectory_len=100, **kw)
    assert short.status == "linear" and short.exponent > 1.5
    with warnings.catch_warnings():
        warnings.simplefilter("error", UnreliableResultWarning)
        full = lyapunov_rosenstein(x, trajectory_len=500, **kw)
    assert full.exponent == pytest.approx(0.906, abs=0.05)
