"""Property tests (hypothesis) for recurrence matrices and RQA."""

import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from graphtraj.exceptions import UndefinedResultWarning, ValidationError
from graphtraj.timeseries import (
    GlobalRecurrenceRate,
    LocalRecurrenceRate,
    RecurrenceMatrix,
    ScaledThreshold,
    recurrence_matrix,
    rqa,
)

METRICS = st.sampled_from(["euclidean", "manhattan", "chebyshev"])
SETTINGS = settings(max_examples=40, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


@st.composite
def state_arrays(draw, max_n=40, max_p=3):
    n = draw(st.integers(2, max_n))
    p = draw(st.integers(1, max_p))
    # a coarse grid of values makes ties and exact-ε pairs common
    return draw(arrays(np.float64, (n, p), elements=st.integers(-6, 6).map(lambda v: v / 4)))


def _quiet(f, *a, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndefinedResultWarning)
        return f(*a, **kw)


@SETTINGS
@given(x=state_arrays(), eps=st.floats(0, 3), metric=METRICS)
def test_fixed_threshold_matrix_is_symmetric(x, eps, metric):
    """Hypothesis: with a fixed ε the recurrence matrix of one trajectory is symmetric
    (and so is the global-rate one)."""
    r = recurrence_matrix(x, eps, metric=metric).toarray()
    assert np.array_equal(r, r.T) and r.diagonal().all()
    g = recurrence_matrix(x, GlobalRecurrenceRate(0.3), metric=metric).toarray()
    assert np.array_equal(g, g.T)


@SETTINGS
@given(x=state_arrays(), eps=st.lists(st.floats(0, 3), min_size=2, max_size=5),
       metric=METRICS, theiler=st.integers(0, 3))
def test_recurrence_rate_non_decreasing_in_eps(x, eps, metric, theiler):
    """Hypothesis: RR never decreases when ε grows."""
    if theiler >= x.shape[0]:
        theiler = 0
    rates = [_quiet(rqa, x, e, metric=metric, theiler=theiler).RR for e in sorted(eps)]
    assert all(a <= b for a, b in zip(rates, rates[1:], strict=False))


@SETTINGS
@given(mask=arrays(bool, st.tuples(st.integers(1, 12), st.integers(1, 12))),
       theiler=st.integers(0, 3), lmin=st.integers(1, 4))
def test_det_and_lam_are_fractions(mask, theiler, lmin):
    """Hypothesis: DET and LAM lie in [0, 1] (or are NaN when undefined) and the line
    histograms conserve the recurrent points."""
    res = _quiet(rqa, mask, theiler=theiler, min_line=lmin)
    for value in (res.DET, res.LAM):
        assert np.isnan(value) or 0.0 <= value <= 1.0
    h = res.histograms
    assert (np.arange(h.diagonal.size) * h.diagonal).sum() == h.n_recurrent
    assert (np.arange(h.vertical.size) * h.vertical).sum() == h.n_recurrent


@SETTINGS
@given(x=state_arrays(max_n=60), metric=METRICS, theiler=st.integers(0, 2),
       spec=st.sampled_from([0.5, GlobalRecurrenceRate(0.2), ScaledThreshold(0.3, "max"),
                             ScaledThreshold(0.5, "mean"), LocalRecurrenceRate(k=1)]),
       tile=st.tuples(st.integers(1, 9), st.integers(1, 9)),
       convention=st.sampled_from(["recurrenceanalysis", "pyunicorn"]))
@example(x=np.zeros((2, 1)), metric="euclidean", theiler=2, spec=GlobalRecurrenceRate(0.2),
         tile=(1, 1), convention="recurrenceanalysis")
def test_streaming_equals_stored(x, metric, theiler, spec, tile, convention):
    """Hypothesis: the streaming scan of data and the scan of the stored matrix give
    identical histograms (ties and exact-ε pairs included)."""
    if convention == "pyunicorn":
        theiler = None
        if isinstance(spec, LocalRecurrenceRate):
            spec = LocalRecurrenceRate(rate=0.2)
    elif isinstance(spec, LocalRecurrenceRate) and x.shape[0] - 2 * theiler + 1 < 2:
        theiler = 0
    kw = dict(metric=metric, theiler=theiler, convention=convention)
    if isinstance(spec, GlobalRecurrenceRate) and theiler is not None and theiler >= x.shape[0]:
        # no pair |i - j| >= theiler: a fixed recurrence rate is undefined, both refuse
        with pytest.raises(ValidationError, match="admissible pairs"):
            recurrence_matrix(x, spec, **kw)
        with pytest.raises(ValidationError, match="admissible pairs"):
            _quiet(rqa, x, spec, tile=tile, **kw)
        return
    stored = _quiet(rqa, recurrence_matrix(x, spec, **kw))
    stream = _quiet(rqa, x, spec, tile=tile, **kw)
    for field in ("diagonal", "vertical", "recurrence_times", "white", "tau_density"):
        assert np.array_equal(getattr(stored.histograms, field),
                              getattr(stream.histograms, field)), field


@SETTINGS
@given(mask=arrays(bool, st.tuples(st.integers(1, 10), st.integers(1, 10))))
def test_storage_formats_agree(mask):
    """Hypothesis: bit-packed and sparse storage give the same matrix and RQA."""
    a = RecurrenceMatrix.from_array(mask)
    b = RecurrenceMatrix.from_array(mask, storage="sparse")
    assert np.array_equal(a.toarray(), b.toarray()) and a.nnz == b.nnz
    ra, rb = _quiet(rqa, a), _quiet(rqa, b)
    np.testing.assert_array_equal(list(ra.measures().values()), list(rb.measures().values()))
