"""Validation helpers: every branch raises our error with a helpful message."""

import numpy as np
import pytest

from graphtraj import _checks as c
from graphtraj.exceptions import (
    InsufficientDataError,
    NonFiniteInputError,
    UnknownOptionError,
    ValidationError,
)


def test_as_series_casts_integers_to_float64():
    """Integer input is cast to float64 without changing values."""
    out = c.as_series(np.array([1, 2, 3], dtype=np.int64))
    assert out.dtype == np.float64 and out.tolist() == [1.0, 2.0, 3.0]


@pytest.mark.parametrize("bad", [[1.0, np.nan], [np.inf, 1.0]])
def test_non_finite_is_reported(bad):
    """NaN or inf anywhere is reported up front, with its position."""
    with pytest.raises(NonFiniteInputError, match="finite values; got 1 non-finite"):
        c.as_series(bad)


def test_wrong_dimension_and_type():
    """Shapes and dtypes outside the contract raise ValidationError."""
    with pytest.raises(ValidationError, match="must be 1-D"):
        c.as_series(np.zeros((2, 2)))
    with pytest.raises(ValidationError, match="real numbers"):
        c.as_series(["a", "b"])
    with pytest.raises(ValidationError, match="real numbers"):
        c.as_series(np.array([1 + 1j]))
    with pytest.raises(ValidationError, match="array-like"):
        c.as_series([[1, 2], [3]])


def test_min_len_and_empty():
    """Too-short and empty input raise InsufficientDataError."""
    with pytest.raises(InsufficientDataError, match="at least 3 samples"):
        c.as_series([1.0, 2.0], min_len=3)
    with pytest.raises(InsufficientDataError):
        c.as_series([])


def test_as_states_promotes_series():
    """A 1-D series becomes a (T, 1) state array."""
    assert c.as_states([1, 2, 3]).shape == (3, 1)


def test_check_int_and_real():
    """Integers and reals are checked for type and bounds."""
    assert c.check_int(np.int32(3), "k", minimum=1) == 3
    with pytest.raises(ValidationError, match="`k` must be an integer; got True"):
        c.check_int(True, "k")
    with pytest.raises(ValidationError, match="`k` must be >= 1; got 0"):
        c.check_int(0, "k", minimum=1)
    with pytest.raises(ValidationError, match="`k` must be <= 2; got 3"):
        c.check_int(3, "k", maximum=2)
    assert c.check_real(2, "eps", minimum=0, strict_min=True) == 2.0
    with pytest.raises(ValidationError, match="`eps` must be > 0"):
        c.check_real(0.0, "eps", minimum=0, strict_min=True)
    with pytest.raises(ValidationError, match="`eps` must be >= 0"):
        c.check_real(-1.0, "eps", minimum=0)
    with pytest.raises(ValidationError, match="must be <= 1"):
        c.check_real(2.0, "eps", maximum=1)
    with pytest.raises(ValidationError, match="must be finite"):
        c.check_real(float("nan"), "eps")
    with pytest.raises(ValidationError, match="real number"):
        c.check_real("x", "eps")


def test_check_option_lists_choices():
    """Unknown options name every valid choice."""
    assert c.check_option("a", "mode", ["a", "b"]) == "a"
    with pytest.raises(UnknownOptionError, match="one of 'a', 'b'; got 'c'"):
        c.check_option("c", "mode", ["a", "b"])


def test_require_length_explains_minimum():
    """The error states the minimum and how it was computed."""
    with pytest.raises(InsufficientDataError, match="at least 86 samples.*got 85.*span"):
        c.require_length(85, 86, "series", "the span")
    c.require_length(86, 86, "series", "the span")


def test_as_rng():
    """Seeds give reproducible generators; bad seeds raise."""
    assert c.as_rng(3).random() == c.as_rng(3).random()
    g = np.random.default_rng(0)
    assert c.as_rng(g) is g
    assert isinstance(c.as_rng(np.random.SeedSequence(1)), np.random.Generator)
    with pytest.raises(ValidationError, match="`rng` must be"):
        c.as_rng("seed")


def test_object_arrays_of_numbers_are_accepted():
    """An object array holding only real numbers converts to float64; other objects do not."""
    out = c.as_series(np.array([1, 2.5, np.float32(3)], dtype=object))
    assert out.dtype == np.float64 and out.tolist() == [1.0, 2.5, 3.0]
    with pytest.raises(ValidationError, match="real numbers"):
        c.as_series(np.array([1, "a"], dtype=object))


def test_none_in_object_array_is_not_nan():
    """None among numbers is rejected, not silently turned into NaN."""
    with pytest.raises(ValidationError, match="real numbers"):
        c.as_float_array(np.array([None, 1, 2], dtype=object), "x", finite=False)


def test_check_magnitude_boundary():
    """Values up to 1e150 pass unchanged; larger ones raise with the remedy."""
    ok = np.array([1e150, -3.0])
    assert c.check_magnitude(ok, "x") is ok
    with pytest.raises(ValidationError, match=r"up to 1e\+200.*Divide `x`"):
        c.check_magnitude(np.array([0.0, -1e200]), "x")


@pytest.mark.parametrize("call", ["recurrence", "rosenstein", "kantz", "theiler", "nmle"])
def test_huge_points_raise_instead_of_overflowing(call):
    """Distance-based estimators reject |x| > 1e150 instead of reporting overflowed
    distances (RR = 1, NaN exponents) with raw numpy warnings."""
    from graphtraj.timeseries import (
        GlobalRecurrenceRate,
        lyapunov_kantz,
        lyapunov_rosenstein,
        network_mle,
        recurrence_matrix,
        theiler_window,
    )

    x = np.sin(np.arange(300) * 0.7) * 1e200
    fns = {
        "recurrence": lambda: recurrence_matrix(x, GlobalRecurrenceRate(0.05)),
        "rosenstein": lambda: lyapunov_rosenstein(x, emb_dim=3),
        "kantz": lambda: lyapunov_kantz(x, emb_dim=3),
        "theiler": lambda: theiler_window(x),
        "nmle": lambda: network_mle(np.c_[x, x]),
    }
    with pytest.raises(ValidationError, match="magnitudes below"):
        fns[call]()


@pytest.mark.parametrize("scale", [1.0, 1e200, 1e-200])
def test_scaled_std_matches_numpy_at_any_scale(scale):
    """Oracle: std of [1, 2, 3, 4] (ddof 1) is sqrt(5/3), times the scale, with no overflow."""
    x = np.array([1.0, 2.0, 3.0, 4.0]) * scale
    assert c.scaled_std(x) == pytest.approx(np.sqrt(5 / 3) * scale, rel=1e-12)
    assert c.scaled_std(np.zeros(4)) == 0.0


def test_containers_passed_as_numbers_get_a_hint():
    """A Trajectory, Ensemble or GraphSeries where numbers are expected: the error
    names the container and what to pass instead (not "array of shape () and dtype
    object"); other objects are named by type."""
    from graphtraj import ParamLayout, Trajectory
    from graphtraj.snapshots import GraphSeries
    from graphtraj.timeseries import recurrence_matrix, visibility_graph
    from graphtraj.trajectory import Ensemble

    lay = ParamLayout.for_mlp([2, 2, 1])
    tr = Trajectory(np.arange(5), np.zeros((5, lay.size)), lay, loss=np.ones(5))
    ens = Ensemble(lay, np.arange(3), {"loss": np.zeros((2, 3))}, reference=[0, 0],
                   diverged_at=[-1, -1])
    with pytest.raises(ValidationError, match=r"got a Trajectory; pass one of its series "
                                              r"\(e\.g\. `traj\.loss`\)"):
        visibility_graph(tr)
    with pytest.raises(ValidationError, match=r"got an Ensemble; take one replica"):
        recurrence_matrix(ens, 0.1)
    with pytest.raises(ValidationError, match=r"got a GraphSeries; pass its weight vectors"):
        visibility_graph(GraphSeries.from_trajectory(tr))
    with pytest.raises(ValidationError, match=r"got a dict object"):
        visibility_graph({"a": 1})
