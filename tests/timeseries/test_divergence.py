"""Tests for graphtraj.timeseries.divergence (finite-time exponents)."""

import warnings

import numpy as np
import pytest

from graphtraj.exceptions import (
    InsufficientDataError,
    NonFiniteInputError,
    UndefinedResultWarning,
    UnknownOptionError,
    ValidationError,
)
from graphtraj.timeseries import FTLEResult, ftle_from_divergence


def _naive_best_window(y, starts=range(0, 101, 5), widths=range(30, 101, 5)):
    """Brute force over the paper's grid with numpy.polyfit (reference implementation)."""
    t = np.arange(y.size, dtype=float)
    best = None
    for s in starts:
        for w in widths:
            if s + w > y.size:
                continue
            tt, yy = t[s : s + w], y[s : s + w]
            slope, icpt = np.polyfit(tt, yy, 1)
            resid = yy - (slope * tt + icpt)
            r2 = 1 - np.sum(resid**2) / np.sum((yy - yy.mean()) ** 2)
            if best is None or r2 > best[2] + 1e-12:
                best = (slope, icpt, r2, (s, s + w))
    return best


def test_pure_exponential_exact_slope():
    """A pure exponential ε·e^{λt} gives λ exactly (to rounding) and is accepted."""
    t = np.arange(250)
    d = np.vstack([1e-8 * np.exp(0.3 * t), 3e-8 * np.exp(0.3 * t)])
    for mean in ("arithmetic", "geometric"):
        res = ftle_from_divergence(d, mean=mean)
        assert isinstance(res, FTLEResult)
        assert res.slope == pytest.approx(0.3, abs=1e-12)
        assert res.r2 == pytest.approx(1.0, abs=1e-12)
        assert res.accepted
        # all windows tie at R² = 1: the earliest start, shortest width wins
        assert res.window == (0, 30)
        assert res.n_points == 30


def test_intercept_matches_log_of_mean():
    """The intercept is ln of the arithmetic mean at t = 0: ln(2e-8) for copies 1e-8, 3e-8."""
    t = np.arange(200)
    d = np.vstack([1e-8 * np.exp(0.2 * t), 3e-8 * np.exp(0.2 * t)])
    res = ftle_from_divergence(d)
    assert res.intercept == pytest.approx(np.log(2e-8), rel=1e-10)
    geo = ftle_from_divergence(d, mean="geometric")
    assert geo.intercept == pytest.approx(np.log(np.sqrt(3) * 1e-8), rel=1e-10)


def test_arithmetic_and_geometric_curves_hand_computed():
    """Copies e^t and e^{2t}: geometric curve 1.5t exactly; arithmetic ln((e^t + e^{2t})/2)."""
    t = np.arange(40, dtype=float) * 0.1
    d = np.vstack([np.exp(t), np.exp(2 * t)])
    geo = ftle_from_divergence(d, mean="geometric", starts=[0], widths=[40])
    ari = ftle_from_divergence(d, mean="arithmetic", starts=[0], widths=[40])
    np.testing.assert_allclose(geo.curve, 1.5 * t, atol=1e-12)
    np.testing.assert_allclose(ari.curve, np.log((np.exp(t) + np.exp(2 * t)) / 2), rtol=1e-12)
    assert geo.slope == pytest.approx(0.15, abs=1e-12)  # per step, steps 0.1 apart in t
    np.testing.assert_array_equal(geo.n_used, np.full(40, 2))


def test_recovers_noisy_exponential_with_saturation(rng):
    """Noisy exponential growth that saturates at step 120: λ recovered within 0.02."""
    lam, k, n = 0.3, 5, 300
    t = np.arange(n)
    growth = np.minimum(lam * t, lam * 120)
    d = 1e-8 * np.exp(growth[None, :] + rng.normal(0, 0.3, (k, n)))
    res = ftle_from_divergence(d)
    assert res.accepted
    assert res.slope == pytest.approx(lam, abs=0.02)
    assert res.window[1] <= 135  # the chosen window lies in the growth phase
    assert res.r2 > 0.99


def test_matches_naive_grid_search(rng):
    """On a random-walk log curve the selected window, slope and R² equal a polyfit brute force."""
    y = np.cumsum(rng.normal(0.1, 1.0, 220))
    res = ftle_from_divergence(np.exp(y))
    slope, icpt, r2, win = _naive_best_window(y)
    assert res.window == win
    assert res.slope == pytest.approx(slope, rel=1e-9)
    assert res.intercept == pytest.approx(icpt, rel=1e-9, abs=1e-9)
    assert res.r2 == pytest.approx(r2, rel=1e-9)
    assert res.accepted == (r2 > 0.9 and slope > 0.05)


def test_rejects_flat_curves(rng):
    """A noisy flat curve has low R² and a near-zero slope; an exactly flat one has slope 0."""
    noisy = 1e-7 * np.exp(rng.normal(0, 0.2, (5, 300)))
    res = ftle_from_divergence(noisy)
    assert not res.accepted
    assert abs(res.slope) < 0.05
    flat = ftle_from_divergence(np.full(200, 3e-7))
    assert flat.slope == 0.0
    assert flat.r2 == 1.0  # a constant is fitted perfectly
    assert not flat.accepted


def test_thresholds_decide_acceptance():
    """Slope 0.04 is rejected at min_slope 0.05 and accepted at 0.03; R² threshold is strict."""
    d = np.exp(0.04 * np.arange(200))
    assert not ftle_from_divergence(d).accepted
    assert ftle_from_divergence(d, min_slope=0.03).accepted
    assert not ftle_from_divergence(d, min_slope=0.03, min_r2=1.0).accepted


def test_explicit_window_uses_only_its_points():
    """With window=(50, 100) the fit sees steps 50..99: slope 0.5 there, not the 0.1 elsewhere."""
    t = np.arange(200)
    y = np.where(t < 50, 0.1 * t, 5 + 0.5 * (t - 50))
    y = np.where(t >= 100, y[99] + 0.1 * (t - 99), y)
    res = ftle_from_divergence(np.exp(y), window=(50, 100))
    assert res.window == (50, 100)
    assert res.n_points == 50
    assert res.slope == pytest.approx(0.5, abs=1e-12)


def test_times_and_dt():
    """Times every 2 steps and dt = 0.5: the grid is in steps; the slope is per unit time."""
    steps = np.arange(0, 400, 2)
    d = np.exp(0.2 * steps)
    per_step = ftle_from_divergence(d, times=steps)
    assert per_step.slope == pytest.approx(0.2, abs=1e-12)
    assert per_step.window == (0, 30) and per_step.n_points == 15
    per_time = ftle_from_divergence(d, times=steps, dt=0.5)
    assert per_time.slope == pytest.approx(0.4, abs=1e-12)


def test_grid_is_relative_to_first_time():
    """A curve starting at step 4000 (orbital run) uses windows 4000 + s."""
    steps = np.arange(4000, 4300)
    res = ftle_from_divergence(np.exp(0.1 * (steps - 4000)), times=steps)
    assert res.window == (4000, 4030)
    assert res.slope == pytest.approx(0.1, abs=1e-10)


def test_zero_distance_raises_by_default():
    """C21: a zero-size perturbation (d = 0 everywhere) raises instead of taking log 0."""
    d = np.zeros((3, 200))
    with pytest.raises(ValidationError, match="positive mean at every step"):
        ftle_from_divergence(d)
    d = np.exp(0.1 * np.arange(200))[None, :].repeat(2, axis=0)
    d[1, 7] = 0.0
    with pytest.raises(ValidationError, match="must be positive for the geometric mean"):
        ftle_from_divergence(d, mean="geometric")
    # one zero entry among positive ones never reaches the log of the arithmetic mean
    res = ftle_from_divergence(d)
    assert np.isfinite(res.curve).all()


def test_zero_distance_masked():
    """C21 with zeros='mask': zero steps get NaN in the curve and never enter the fit."""
    steps = np.arange(3990, 4300)
    d = np.where(steps < 4000, 0.0, 1e-8 * np.exp(0.25 * (steps - 4000)))
    res = ftle_from_divergence(d, times=steps, zeros="mask", window=(3990, 4100))
    assert np.isnan(res.curve[:10]).all() and np.isfinite(res.curve[10:]).all()
    np.testing.assert_array_equal(res.n_used[:10], 0)
    assert res.n_points == 100
    assert res.slope == pytest.approx(0.25, abs=1e-10)
    dg = np.vstack([d, d])
    dg[0, 50] = 0.0
    geo = ftle_from_divergence(dg, times=steps, mean="geometric", zeros="mask")
    assert geo.n_used[50] == 1 and geo.n_used[51] == 2
    assert geo.slope == pytest.approx(0.25, abs=1e-10)


def test_nan_policies():
    """Diverged copies (NaN): omit averages the survivors, truncate stops the curve, raise raises."""
    t = np.arange(300)
    d = np.vstack([np.exp(0.1 * t), 2 * np.exp(0.1 * t)])
    d[1, 150:] = np.nan
    omit = ftle_from_divergence(d)
    np.testing.assert_array_equal(omit.n_used[:150], 2)
    np.testing.assert_array_equal(omit.n_used[150:], 1)
    assert omit.curve[200] == pytest.approx(0.1 * 200, abs=1e-12)
    assert omit.curve[100] == pytest.approx(np.log(1.5) + 10, abs=1e-12)
    trunc = ftle_from_divergence(d, nan="truncate")
    assert np.isnan(trunc.curve[150:]).all() and np.isfinite(trunc.curve[:150]).all()
    assert trunc.slope == pytest.approx(0.1, abs=1e-12)
    with pytest.raises(NonFiniteInputError, match="nan='raise'"):
        ftle_from_divergence(d, nan="raise")


def test_all_nan_warns_and_returns_nan():
    """Every copy NaN: the exponent is undefined → NaN, not accepted, with a warning."""
    d = np.full((2, 200), np.nan)
    with pytest.warns(UndefinedResultWarning, match="undefined"):
        res = ftle_from_divergence(d)
    assert np.isnan(res.slope) and not res.accepted and res.window == (-1, -1)
    assert np.isnan(res.ratio).all()


def test_ratio_property():
    """ratio = d(t)/d(t0) of the mean curve."""
    d = 2e-8 * np.exp(0.01 * np.arange(100))
    res = ftle_from_divergence(d)
    np.testing.assert_allclose(res.ratio, np.exp(0.01 * np.arange(100)), rtol=1e-12)


def test_as_dict_is_json_able():
    """as_dict gives plain Python data with the window as a list."""
    import json

    res = ftle_from_divergence(np.exp(0.2 * np.arange(150)))
    out = res.as_dict()
    json.dumps(out)
    assert out["window"] == [0, 30] and out["accepted"] is True


def test_no_warning_in_normal_use(rng):
    """A well-posed call emits no warnings."""
    d = np.exp(0.1 * np.arange(200) + rng.normal(0, 0.01, (3, 200)))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ftle_from_divergence(d)


@pytest.mark.parametrize(
    ("kwargs", "exc", "match"),
    [
        ({"mean": "median"}, UnknownOptionError, "`mean` must be one of"),
        ({"zeros": "ignore"}, UnknownOptionError, "`zeros` must be one of"),
        ({"nan": "drop"}, UnknownOptionError, "`nan` must be one of"),
        ({"min_r2": 1.5}, ValidationError, "`min_r2` must be <= 1.0"),
        ({"min_slope": float("nan")}, ValidationError, "`min_slope` must be finite"),
        ({"dt": 0.0}, ValidationError, "`dt` must be > 0.0"),
        ({"starts": []}, ValidationError, "`starts` must not be empty"),
        ({"starts": 5}, ValidationError, "`starts` must be an iterable"),
        ({"widths": [30, 0]}, ValidationError, "`widths` must hold integers >= 1"),
        ({"starts": [-5]}, ValidationError, "`starts` must hold integers >= 0"),
        ({"window": (10, 10)}, ValidationError, "start < stop"),
        ({"window": (10,)}, ValidationError, "pair of integers"),
        ({"window": (0, 2)}, InsufficientDataError, "at least 3 valid points"),
        ({"times": np.arange(100)}, ValidationError, "`times` must be an integer array"),
        ({"times": np.arange(200.0)}, ValidationError, "`times` must be an integer array"),
        ({"times": np.r_[0, np.arange(199)]}, ValidationError, "strictly increasing"),
    ],
)
def test_validation(kwargs, exc, match):
    """Each invalid argument raises our error with a message naming the parameter."""
    d = np.exp(0.1 * np.arange(200))
    with pytest.raises(exc, match=match):
        ftle_from_divergence(d, **kwargs)


@pytest.mark.parametrize(
    ("distances", "exc", "match"),
    [
        (np.ones((2, 3, 200)), ValidationError, "`distances` must be 1-D or 2-D"),
        (np.r_[np.ones(199), -1.0], ValidationError, "must be non-negative"),
        (np.r_[np.ones(199), np.inf], NonFiniteInputError, "must not be infinite"),
        (np.ones(20), InsufficientDataError, "at least 30 steps"),
        (["a"] * 200, ValidationError, "real numbers"),
    ],
)
def test_validation_of_distances(distances, exc, match):
    """Bad distance arrays raise our errors, never a numpy traceback."""
    with pytest.raises(exc, match=match):
        ftle_from_divergence(distances)


@pytest.mark.parametrize(
    ("times", "window", "valid"),
    [
        (None, (10, 5000), "0 <= start < stop <= 200"),
        (None, (-10, 50), "0 <= start < stop <= 200"),
        (None, (0, 201), "0 <= start < stop <= 200"),
        (np.arange(4000, 4200), (3990, 4100), "4000 <= start < stop <= 4200"),
        (np.arange(4000, 4200), (4100, 4201), "4000 <= start < stop <= 4200"),
    ],
)
def test_window_outside_the_curve_raises(times, window, valid):
    """An explicit window reaching outside the recorded steps is an error naming the
    valid range; it used to be reported unchanged (10, 5000) or silently clipped."""
    d = np.exp(0.1 * np.arange(200))
    with pytest.raises(ValidationError, match=r"`window` must lie within the recorded steps"
                       ) as info:
        ftle_from_divergence(d, times=times, window=window)
    assert valid in str(info.value) and repr(window) in str(info.value)


def test_window_at_the_curve_ends_is_accepted():
    """The widest valid window, [times[0], times[-1] + 1), uses every point."""
    steps = np.arange(4000, 4200)
    d = 1e-8 * np.exp(0.2 * (steps - 4000))
    res = ftle_from_divergence(d, times=steps, window=(4000, 4200))
    assert res.window == (4000, 4200) and res.n_points == 200
    assert res.slope == pytest.approx(np.polyfit(steps, np.log(d), 1)[0], rel=1e-10)


@pytest.mark.parametrize("window", [(10.5, 50), (10, 50.0), (True, 50), "ab"])
def test_window_must_hold_integers(window):
    """A fractional or boolean bound used to be truncated by int(); now it is rejected."""
    with pytest.raises(ValidationError, match="`window` must be a pair of integers"):
        ftle_from_divergence(np.exp(0.1 * np.arange(200)), window=window)


def test_roundoff_flat_curve_is_a_perfect_constant_fit():
    """A mean curve that is constant in exact arithmetic but wobbles by round-off (the
    same five distances summed in different orders) is fitted as a constant: slope 0 and
    R² = 1 in every window, not an R² drawn from round-off (it was 5e-5 over the whole
    curve)."""
    gen = np.random.default_rng(1)
    vals = np.array([0.1, 0.2, 0.3, 1e-3, 7.7])
    d = np.stack([gen.permutation(vals) for _ in range(200)], axis=1)
    curve = np.log(d.sum(axis=0) / 5)
    assert 0 < np.ptp(curve) < 1e-14  # the wobble is there
    for window in [None, (0, 200), (17, 101)]:
        res = ftle_from_divergence(d, window=window)
        assert res.slope == 0.0 and res.r2 == 1.0 and not res.accepted
