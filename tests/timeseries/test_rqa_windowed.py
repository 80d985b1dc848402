"""Tests for graphtraj.timeseries.rqa_windowed (windowed_rqa)."""

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
from graphtraj.timeseries import GlobalRecurrenceRate, recurrence_matrix, rqa, windowed_rqa
from graphtraj.timeseries.rqa_measures import MEASURES


def _walk(rng, n=300):
    return np.cumsum(rng.normal(size=(n, 2)), axis=0) * 0.1


def test_matrix_windows_are_diagonal_blocks(rng):
    """Each window of a matrix is the RQA of its diagonal block (one ε for all)."""
    x = _walk(rng)
    rm = recurrence_matrix(x, GlobalRecurrenceRate(0.1))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndefinedResultWarning)
        res = windowed_rqa(rm, width=80, step=30)
        for w, (s, e) in enumerate(zip(res.starts, res.stops, strict=True)):
            ref = rqa(rm.toarray()[s:e, s:e])
            for name in MEASURES:
                assert res[name][w] == pytest.approx(getattr(ref, name), nan_ok=True), name
    assert res.starts.tolist() == list(range(0, 221, 30))
    assert np.array_equal(res.stops - res.starts, np.full(res.starts.size, 80))
    assert np.array_equal(res.centers, res.starts + 39.5)


def test_data_windows_get_their_own_threshold(rng):
    """With data and a spec, every window resolves its own ε: a fixed recurrence rate
    holds inside each window."""
    x = _walk(rng)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndefinedResultWarning)
        res = windowed_rqa(x, GlobalRecurrenceRate(0.1), width=100, step=100,
                           measures=["RR", "DET"], times=np.arange(300) * 10)
    for w, s in enumerate(res.starts):
        ref = rqa(x[s : s + 100], GlobalRecurrenceRate(0.1))
        assert res["RR"][w] == ref.RR and res["DET"][w] == ref.DET
        assert res["RR"][w] == pytest.approx(0.1, abs=1e-3)
    assert res.times.tolist() == [495.0, 1495.0, 2495.0]
    assert set(res.values) == {"RR", "DET"} and res.params["theiler"] == 1


def test_trajectory_times_and_precomputed_windows(rng):
    """A Trajectory contributes its steps; precomputed distances are cut into blocks."""
    from scipy.spatial.distance import cdist

    from graphtraj.trajectory import ParamLayout, Trajectory

    lay = ParamLayout(["w"], [(2,)])
    x = _walk(rng, 120)
    traj = Trajectory(np.arange(120) * 5, x, lay)
    a = windowed_rqa(traj, 0.3, width=40, measures=["RR"])
    b = windowed_rqa(cdist(x, x), 0.3, width=40, precomputed=True, measures=["RR"])
    assert np.array_equal(a["RR"], b["RR"]) and a.step == 20
    assert a.times[0] == np.arange(40).mean() * 5 and b.times is None


def test_undefined_windows_warn_once(rng):
    """Windows with undefined measures are NaN and reported by one summary warning."""
    x = np.concatenate([np.zeros(50), np.arange(50) * 10.0])
    with pytest.warns(UndefinedResultWarning, match="2 of 4 windows"):
        res = windowed_rqa(x, 0.5, width=25, step=25, measures=["DET"])
    assert np.isnan(res["DET"][2:]).all() and (res["DET"][:2] > 0.99).all()


def test_undefined_warning_names_only_the_nan_measures():
    """The summary warning lists the measures that are NaN, each with its number of
    windows (counted here from rqa() on each window); defined measures (RR, Lmax) are
    not named. It used to list every requested measure."""
    x = np.random.default_rng(0).normal(size=60)
    names = ["RR", "DET", "L", "Lmax"]
    with pytest.warns(UndefinedResultWarning) as record:
        res = windowed_rqa(x, 0.01, width=10, step=5, measures=names)
    (msg,) = [str(w.message) for w in record if "windows have undefined" in str(w.message)]
    counts = dict.fromkeys(names, 0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndefinedResultWarning)
        for s in res.starts:
            ref = rqa(x[s : s + 10], 0.01)
            for name in names:
                counts[name] += int(np.isnan(getattr(ref, name)))
    assert counts["RR"] == counts["Lmax"] == 0 and 0 < counts["DET"] < counts["L"]
    assert f"DET in {counts['DET']}, L in {counts['L']};" in msg
    assert f"{counts['L']} of {res.starts.size} windows" in msg
    assert "RR" not in msg and "Lmax" not in msg


@pytest.mark.parametrize(
    "times", [np.zeros(60), np.arange(60.0)[::-1], np.r_[np.arange(30), np.arange(30)]]
)
def test_times_must_increase_strictly(times):
    """Constant, decreasing or repeating times are rejected as visibility_graph rejects
    them; all-zero times used to give window times of 0."""
    x = np.random.default_rng(0).normal(size=60)
    with pytest.raises(ValidationError, match=r"`times` must be strictly increasing; got times\["):
        windowed_rqa(x, 0.3, width=10, times=times)


def test_times_must_be_finite():
    """NaN times raise NonFiniteInputError."""
    x = np.random.default_rng(0).normal(size=60)
    with pytest.raises(NonFiniteInputError, match="`times`"):
        windowed_rqa(x, 0.3, width=10, times=np.r_[np.arange(59.0), np.nan])


def test_validation_errors(rng):
    """Every validation branch raises our error with a clear message."""
    x = _walk(rng, 50)
    rm = recurrence_matrix(x, 0.2)
    with pytest.raises(InsufficientDataError, match="`width` must be at most"):
        windowed_rqa(x, 0.2, width=60)
    with pytest.raises(ValidationError, match="`width` must be >= 2"):
        windowed_rqa(x, 0.2, width=1)
    with pytest.raises(ValidationError, match="`step` must be >= 1"):
        windowed_rqa(x, 0.2, width=10, step=0)
    with pytest.raises(UnknownOptionError, match="`measures` must contain"):
        windowed_rqa(x, 0.2, width=10, measures=["DETERMINISM"])
    with pytest.raises(ValidationError, match="`spec` must be None"):
        windowed_rqa(rm, 0.2, width=10)
    with pytest.raises(ValidationError, match="`spec` must be given"):
        windowed_rqa(x, width=10)
    with pytest.raises(ValidationError, match=r"`times` must have one entry per sample \(50\); got 3"):
        windowed_rqa(x, 0.2, width=10, times=np.arange(3))
    with pytest.raises(ValidationError, match="square recurrence matrix"):
        windowed_rqa(np.ones((3, 5), bool), width=2)


def test_single_measure_name_as_string(rng):
    """measures="DET" means that one measure; it used to be split into letters and fail
    with the misleading "got 'D'"."""
    x = _walk(rng, 60)
    one = windowed_rqa(x, 0.2, width=20, measures="DET")
    listed = windowed_rqa(x, 0.2, width=20, measures=["DET"])
    assert list(one.values) == ["DET"]
    np.testing.assert_array_equal(one["DET"], listed["DET"])
    with pytest.raises(UnknownOptionError, match="got 'RRR'"):
        windowed_rqa(x, 0.2, width=20, measures="RRR")
