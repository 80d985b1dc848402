"""Field cases C4, C6 and C9–C12 (recurrence plots and RQA) from shared/cases/CASES.md."""

import tracemalloc
import warnings

import numpy as np
import pytest
from scipy.spatial.distance import cdist

from graphtraj.datasets import logistic_map
from graphtraj.exceptions import NonFiniteInputError, UndefinedResultWarning
from graphtraj.timeseries import (
    GlobalRecurrenceRate,
    RecurrenceMatrix,
    ScaledThreshold,
    cross_recurrence_matrix,
    delay_embed,
    joint_recurrence_matrix,
    recurrence_matrix,
    recurrence_network,
    rqa,
    windowed_rqa,
)
from graphtraj.timeseries._recurrence_source import make_source

# Degenerate inputs here legitimately leave some measures undefined (NaN + warning);
# the cases check other numbers.
pytestmark = pytest.mark.filterwarnings("ignore::graphtraj.exceptions.UndefinedResultWarning")

SCIPY = {"euclidean": "euclidean", "manhattan": "cityblock", "chebyshev": "chebyshev"}


def _logistic_embedded(n, m=3):
    return delay_embed(logistic_map(n + m - 1, r=4.0, x0=0.3, transient=100), m)


def test_c4_fraction_of_max_distance_streams_in_small_memory():
    """C4: RQA with ε = 0.1 × max distance on 20 000 points never builds the N x N
    matrix: peak traced memory is a few MB (dense float64 would be 3.2 GB)."""
    x = _logistic_embedded(20_000)
    rqa(x[:200], ScaledThreshold(0.1, "max"))  # load compiled kernels first
    tracemalloc.start()
    try:
        res = rqa(x, ScaledThreshold(0.1, "max"))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 50e6, f"peak {peak / 1e6:.1f} MB"
    assert 0 < res.RR < 1 and res.histograms.shape == (20_000, 20_000)


def test_c4_small_case_equals_dense_computation():
    """C4: on 2000 points the streamed result equals the dense computation done with a
    full scipy distance matrix."""
    x = _logistic_embedded(2000)
    d = cdist(x, x)
    eps = 0.1 * d.max()
    res = rqa(x, ScaledThreshold(0.1, "max"))
    dense = rqa(RecurrenceMatrix.from_array(d <= eps))
    assert res.measures() == dense.measures()
    for field in ("diagonal", "vertical", "recurrence_times", "white"):
        assert np.array_equal(getattr(res.histograms, field), getattr(dense.histograms, field))


def test_c6_non_finite_input_is_rejected_up_front(rng):
    """C6: one NaN or inf anywhere gives NonFiniteInputError before any computation."""
    x = rng.normal(size=(1000, 2))
    x[500, 1] = np.nan
    y = rng.normal(size=(1000, 2))
    for call in (
        lambda: recurrence_matrix(x, 0.1),
        lambda: rqa(x, GlobalRecurrenceRate(0.05)),
        lambda: cross_recurrence_matrix(y, x, 0.1),
        lambda: joint_recurrence_matrix(y, x, 0.1),
        lambda: windowed_rqa(x, 0.1, width=100),
        lambda: rqa(np.where(np.eye(3) > 0, np.inf, 1.0), 0.1, precomputed=True),
    ):
        with pytest.raises(NonFiniteInputError, match="finite"):
            call()
    with pytest.raises(NonFiniteInputError, match="finite"):
        recurrence_network(np.full((3, 3), np.nan))


@pytest.mark.parametrize("metric", list(SCIPY))
def test_c9_cross_recurrence_of_unequal_lengths(rng, metric):
    """C9: 7 and 11 samples, emb_dim 3, lag 2: the distances are scipy's cdist of the
    embedded vectors, bit-identical across calls; thresholding at every distance value
    gives exactly cdist <= value."""
    a = delay_embed(rng.normal(size=7), 3, 2)
    b = delay_embed(rng.normal(size=11), 3, 2)
    assert a.shape == (3, 3) and b.shape == (7, 3)
    ref = cdist(a, b, SCIPY[metric])
    src = make_source(a, b, metric=metric)
    tile = src.tile(0, 3, 0, 7, np.empty((7, 3))).T.copy()
    np.testing.assert_allclose(tile, ref, rtol=1e-15, atol=0)
    again = src.tile(0, 3, 0, 7, np.empty((7, 3))).T
    assert np.array_equal(tile, again)
    rows = src.row_block(0, 3, np.empty((3, 7)))
    assert np.array_equal(rows, tile)  # both providers compute the same bits
    for value in np.unique(tile):
        cr = cross_recurrence_matrix(a, b, float(value), metric=metric)
        assert np.array_equal(cr.toarray(), tile <= value)


def test_c10_white_line_histogram_edges():
    """C10: a 4 x 4 matrix with an all-zero column and a trailing zero run in the last
    column: every maximal white run is counted once per column; all-zero and all-one
    matrices are handled."""
    mat = np.array([[1, 0, 1, 1],
                    [0, 0, 1, 0],
                    [1, 0, 0, 0],
                    [1, 0, 1, 0]], bool)
    res = rqa(RecurrenceMatrix.from_array(mat, kind="cross"), min_line=1)
    # column 0: run of 1 (row 1); column 1: run of 4; column 2: run of 1 (row 2);
    # column 3: trailing run of 3 (rows 1-3)
    assert res.histograms.white.tolist() == [0, 2, 0, 1, 1]
    assert res.WVmax == 4 and res.WVL == (1 + 4 + 1 + 3) / 4
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndefinedResultWarning)
        zeros = rqa(np.zeros((4, 4), bool), theiler=0)
        ones = rqa(np.ones((4, 4), bool), theiler=0)
    assert zeros.histograms.white.tolist() == [0, 0, 0, 0, 4] and zeros.RR == 0.0
    assert ones.histograms.white.tolist() == [0] and ones.WVmax == 0
    assert ones.histograms.vertical.tolist() == [0, 0, 0, 0, 4] and ones.RR == 1.0


@pytest.mark.parametrize("theiler, det, lam", [
    (0, 98 / 100, 1.0),     # two corner cells are lines of length 1
    (1, 88 / 90, 88 / 90),  # + a length-1 vertical line beside the band in 2 columns
    (5, 28 / 30, 28 / 30),
])
def test_c11_constant_series_admissible_denominators(theiler, det, lam):
    """C11: a constant series of 10 samples gives RR = 1 for Theiler windows 0, 1, 5;
    DET and LAM share the admissible-point denominator (exact fractions by hand)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndefinedResultWarning)  # TREND: too small
        res = rqa(np.full(10, 267.0), 0.1, theiler=theiler)
    assert res.RR == 1.0
    assert res.DET == det and res.LAM == lam


def _sine_embedded():
    t = np.arange(200)
    return delay_embed(np.sin(2 * np.pi * t / 20), 2, 5)


def test_c11_sine_recurrence_rate_with_and_without_loi():
    """C11: sine of period 20, 200 samples, m = 2, lag 5, ε = 0.1 (195 vectors): RR is
    0.050099 with the LOI and 0.045202 without it (adjusted denominator), exactly."""
    x = _sine_embedded()
    assert x.shape == (195, 2)
    with_loi = rqa(x, 0.1, theiler=0)
    without = rqa(x, 0.1, theiler=1)
    assert with_loi.RR == 1905 / 195**2
    assert round(with_loi.RR, 6) == 0.050099
    assert without.RR == (1905 - 195) / (194 * 195)
    assert round(without.RR, 6) == 0.045202


def test_c12_line_of_identity_is_not_a_line_by_default():
    """C12: the same sine has Lmax = 195 if the LOI counts, 175 if not; the default
    excludes it. Logistic r = 4 (x0 = 0.3, 1000 points, m = 2, ε = 0.05·range,
    Theiler 1): Lmax far below N and DET clearly below 1 (≈ 15 and 0.76)."""
    x = _sine_embedded()
    assert rqa(x, 0.1, theiler=0).Lmax == 195
    assert rqa(x, 0.1, theiler=1).Lmax == 175
    assert rqa(x, 0.1).Lmax == 175
    y = logistic_map(1000, r=4.0, x0=0.3, transient=100)
    res = rqa(delay_embed(y, 2, 1), 0.05 * (y.max() - y.min()))
    assert res.theiler == 1
    assert 10 <= res.Lmax <= 20
    assert 0.7 <= res.DET <= 0.82
