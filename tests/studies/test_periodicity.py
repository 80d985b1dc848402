"""Tests for graphtraj.studies.periodicity (periodic / irregular loss stretches)."""

import numpy as np
import pytest

from graphtraj.exceptions import InsufficientDataError, NonFiniteInputError, ValidationError
from graphtraj.studies.periodicity import IRREGULAR, MONOTONE, loss_stretches


def test_hand_made_labels_and_stretches(rng):
    """Period 3, fixed point ln 3, noise, period 2: labelled 3, 1, 0, 2 in order."""
    w = 30
    x = np.r_[
        np.tile([1.0, 2.0, 0.5], w // 3 * 2),  # two windows of period 3
        np.full(w, np.log(3)),  # a fixed point
        rng.random(w),  # irregular
        np.tile([0.2, 0.7], w // 2),  # period 2
    ]
    res = loss_stretches(x, window=w)
    assert res.labels.tolist() == [3, 3, 1, IRREGULAR, 2]
    assert res.stretches == ((0, 60, 3), (60, 90, 1), (90, 120, 0), (120, 150, 2))
    assert res.periods == {1: 1, 2: 1, 3: 2}
    assert res.periodic_fraction == pytest.approx(0.8)
    assert res.irregular_fraction == pytest.approx(0.2)
    # periodic → irregular → periodic: two switches, so intermittent
    assert res.n_switches == 2
    assert res.intermittent


def test_smallest_period_wins():
    """A constant series is period 1, not 2 or 3; a period-4 series is 4, not 8."""
    assert loss_stretches(np.full(40, 2.0), window=20).labels.tolist() == [1, 1]
    x = np.tile([0.1, 0.5, 0.3, 0.9], 10)
    assert loss_stretches(x, window=20).labels.tolist() == [4, 4]


def test_monotone_windows_are_not_irregular():
    """A strictly decreasing loss is MONOTONE (converging), and does not count as a switch."""
    x = np.r_[np.exp(-np.arange(60) / 30), np.tile([1.0, 2.0, 0.5], 20)]
    res = loss_stretches(x, window=30)
    assert res.labels.tolist() == [MONOTONE, MONOTONE, 3, 3]
    assert res.monotone_fraction == 0.5 and res.n_switches == 0 and not res.intermittent


def test_tolerances():
    """A period-3 orbit with 1e-8 relative jitter is periodic at rtol 1e-6, irregular at 1e-10."""
    base = np.tile([1.0, 2.0, 0.5], 20)
    jitter = base * (1 + 1e-8 * np.sin(np.arange(60)))
    assert loss_stretches(jitter, window=60, amplitude_tol=0).labels.tolist() == [3]
    exact = loss_stretches(jitter, window=60, rtol=1e-10, atol=0.0, amplitude_tol=0)
    assert exact.labels.tolist() == [IRREGULAR]


def test_damped_cycle_is_periodic():
    """A 3-cycle whose amplitude shrinks by 0.1% per step is periodic with the amplitude tolerance."""
    t = np.arange(120)
    x = 6.65 + 0.01 * 0.999**t * np.tile([1.0, -0.6, -0.4], 40)
    assert loss_stretches(x, window=60).labels.tolist() == [3, 3]
    assert loss_stretches(x, window=60, amplitude_tol=0).labels.tolist() == [IRREGULAR] * 2


def test_slow_drift_is_monotone_not_fixed_point():
    """A slow monotone drift is MONOTONE even though its steps are small against its range."""
    x = 1.0 + 1e-3 * np.arange(120)
    assert loss_stretches(x, window=60).labels.tolist() == [MONOTONE, MONOTONE]


def test_partial_last_window_ignored():
    """70 samples with window 30: two windows, samples 60..69 ignored."""
    res = loss_stretches(np.full(70, 1.0), window=30)
    assert res.window_starts.tolist() == [0, 30]


def test_one_switch_is_not_intermittent(rng):
    """Periodic then irregular once: one switch, not intermittent."""
    x = np.r_[np.tile([1.0, 2.0, 0.5], 20), rng.random(60)]
    res = loss_stretches(x, window=60)
    assert res.n_switches == 1 and not res.intermittent


def test_as_dict_json():
    """as_dict is JSON-able (period keys become strings)."""
    import json

    out = loss_stretches(np.full(60, 1.0), window=30).as_dict()
    json.dumps(out)
    assert out["periods"] == {"1": 2}


@pytest.mark.parametrize(
    ("kwargs", "exc", "match"),
    [
        ({"window": 1}, ValidationError, "`window` must be >= 2"),
        ({"window": 10, "max_period": 5}, ValidationError, "smaller than window / 2"),
        ({"max_period": 0}, ValidationError, "`max_period` must be >= 1"),
        ({"rtol": -1.0}, ValidationError, "`rtol` must be >= 0.0"),
        ({"atol": float("inf")}, ValidationError, "`atol` must be finite"),
        ({"amplitude_tol": 2.0}, ValidationError, "`amplitude_tol` must be <= 1.0"),
        ({"window": 200}, InsufficientDataError, "at least 200 samples"),
    ],
)
def test_validation(kwargs, exc, match):
    """Bad parameters raise our errors naming the parameter."""
    with pytest.raises(exc, match=match):
        loss_stretches(np.ones(100), **kwargs)


def test_non_finite_rejected():
    """NaN (a diverged run) is rejected up front."""
    x = np.ones(100)
    x[50] = np.nan
    with pytest.raises(NonFiniteInputError, match="finite"):
        loss_stretches(x)
