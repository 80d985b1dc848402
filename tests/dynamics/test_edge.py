"""Tests of graphtraj.dynamics.edge (stability thresholds, edge-of-stability summary)."""

import numpy as np
import pytest

from graphtraj.dynamics import edge_of_stability, stability_threshold
from graphtraj.exceptions import ValidationError


def test_thresholds_by_hand():
    """2/η, (2 + 2μ)/η and (2 + 2μ)/(η(1 + 2μ)) for GD, heavy ball and Nesterov."""
    assert stability_threshold(0.5) == 4.0
    assert stability_threshold(0.5, momentum=0.5) == 6.0
    assert stability_threshold(0.5, momentum=0.5, nesterov=True) == 3.0
    with pytest.raises(ValidationError, match="momentum"):
        stability_threshold(0.5, momentum=1.0)
    with pytest.raises(ValidationError, match="lr"):
        stability_threshold(0.0)


def test_summary_by_hand():
    """A hand-made series: reach, time above, crossings and ratios counted exactly."""
    s = [1.0, 3.0, 4.5, 3.5, 4.2, 4.0, 3.9, 4.1]
    eos = edge_of_stability(s, lr=0.5, steps=[0, 10, 20, 30, 40, 50, 60, 70])
    assert eos.threshold == 4.0 and eos.first_reach == 20 and eos.reached
    assert eos.n_crossings == 5 and eos.crossing_steps.tolist() == [20, 30, 40, 60, 70]
    assert eos.fraction_above == 4 / 8 and eos.time_above == 40
    assert eos.max_ratio == 4.5 / 4.0
    assert eos.late_ratio == pytest.approx(np.mean([4.2, 4.0, 3.9, 4.1]) / 4.0, abs=1e-15)
    never = edge_of_stability([1.0, 1.1], lr=0.01)
    assert never.first_reach == -1 and not never.reached and never.n_crossings == 0
    assert never.time_above == 0 and never.as_dict()["params"]["rule"] == "gd"
    given = edge_of_stability([1.0, 2.0], threshold=1.5)
    assert given.first_reach == 1 and given.params["rule"] == "given"


def test_validation():
    """Bad series, steps and missing thresholds raise ValidationError."""
    with pytest.raises(ValidationError, match="finite"):
        edge_of_stability([1.0, np.nan], lr=1.0)
    with pytest.raises(ValidationError, match="`lr` or `threshold`"):
        edge_of_stability([1.0])
    with pytest.raises(ValidationError, match="strictly increasing"):
        edge_of_stability([1.0, 2.0], lr=1.0, steps=[3, 3])
    with pytest.raises(ValidationError, match="integer array"):
        edge_of_stability([1.0, 2.0], lr=1.0, steps=[0.0, 1.0])
    with pytest.raises(ValidationError, match="threshold"):
        edge_of_stability([1.0], threshold=-1.0)


def test_float_steps_message_names_dtype():
    """Float steps are rejected with a message naming the dtype (it used to say
    'of shape (2,); got (2,)', which hides the problem)."""
    with pytest.raises(ValidationError, match=r"integer array of shape \(2,\); got an array of shape \(2,\) and dtype float64"):
        edge_of_stability([1.0, 2.0], lr=1.0, steps=[0.0, 1.0])
    with pytest.raises(ValidationError, match=r"shape \(3,\) and dtype int"):
        edge_of_stability([1.0, 2.0], lr=1.0, steps=[0, 1, 2])
