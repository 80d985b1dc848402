"""Tests for graphtraj.timeseries.rqa_measures (rqa, RQAResult, RQAHistograms)."""

import importlib.util
import pathlib
import warnings

import numpy as np
import pytest
from scipy.spatial.distance import cdist

from graphtraj.exceptions import (
    UndefinedResultWarning,
    UnknownOptionError,
    ValidationError,
)
from graphtraj.timeseries import (
    FixedThreshold,
    GlobalRecurrenceRate,
    LocalRecurrenceRate,
    RecurrenceMatrix,
    ScaledThreshold,
    recurrence_matrix,
    rqa,
)
from graphtraj.timeseries.rqa_measures import MEASURES

_spec = importlib.util.spec_from_file_location(
    "h6_rqa_reference", pathlib.Path(__file__).with_name("rqa_reference.py"))
reference = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(reference)

# RecurrenceAnalysis.jl test/smallmatrix.jl: recurrent cells (row, column), 1-based.
RA_CELLS = [(1, 1), (2, 2), (3, 2), (6, 2), (7, 2), (8, 2), (6, 3), (7, 3), (10, 3), (2, 4),
            (4, 4), (1, 5), (2, 5), (3, 5), (5, 5), (9, 5), (10, 5), (2, 6), (3, 6), (6, 6),
            (7, 6), (10, 6), (3, 7), (8, 7), (4, 8), (1, 9), (5, 9), (7, 9), (9, 9), (9, 10),
            (10, 10), (3, 11), (7, 11)]


def _ra_matrix():
    m = np.zeros((10, 11), bool)
    for i, j in RA_CELLS:
        m[i - 1, j - 1] = True
    return m


def _hist(arr):
    """Histogram as RecurrenceAnalysis.jl prints it (index 0 = length 1)."""
    return arr[1:].tolist()


@pytest.mark.parametrize("storage", ["bitpacked", "sparse"])
def test_recurrenceanalysis_small_matrix_theiler0(storage):
    """The 10x11 cross-recurrence matrix of RecurrenceAnalysis.jl gives its exact
    histograms and fractions (theiler 0, min lines 1, border 1)."""
    rm = RecurrenceMatrix.from_array(_ra_matrix(), kind="cross", storage=storage)
    res = rqa(rm, theiler=0, min_line=1, border=1)
    h = res.histograms
    assert _hist(h.diagonal) == [11, 7, 1, 0, 1]
    assert _hist(h.vertical) == [15, 6, 2]
    assert _hist(h.recurrence_times) == [3, 1, 4, 4]
    assert res.RR == 33 / 110
    assert res.DET == 1.0
    assert res.L == 33 / 20
    assert res.Lmax == 5
    assert res.DIV == 1 / 5
    assert res.LAM == 1.0
    assert res.TT == 33 / 23
    assert res.Vmax == 3
    assert res.MRT == 33 / 12
    assert res.NMPRT == 4
    assert res.ENTR == pytest.approx(0.996, abs=1e-3)
    assert res.RTE == pytest.approx(1.286, abs=1e-3)
    assert res.TREND == pytest.approx(-33.8, abs=0.1)


def test_recurrenceanalysis_small_matrix_theiler2():
    """Theiler window 2 on the RecurrenceAnalysis.jl matrix: its exact histograms and
    fractions (the RR denominator of a cross matrix stays N·M)."""
    res = rqa(_ra_matrix(), theiler=2, min_line=1, border=1)
    h = res.histograms
    assert _hist(h.diagonal) == [9, 4, 0, 0, 1]
    assert _hist(h.vertical) == [10, 3, 2]
    assert _hist(h.recurrence_times) == [1, 0, 3, 0, 0, 0, 2]
    assert res.RR == 22 / 110
    assert res.DET == 1.0
    assert res.L == 22 / 14
    assert res.TT == 22 / 15
    assert res.MRT == 24 / 6
    assert res.NMPRT == 3
    assert (res.Lmax, res.Vmax, res.DIV) == (5, 3, 0.2)
    assert res.ENTR == pytest.approx(0.830, abs=1e-3)
    assert res.RTE == pytest.approx(1.011, abs=1e-3)
    assert res.TREND == pytest.approx(-12.2, abs=0.1)


@pytest.mark.parametrize("theiler, expected", [
    (0, {"DET": 22 / 33, "L": 22 / 9, "LAM": 18 / 33, "TT": 18 / 8, "ENTR": 0.684}),
    (2, {"DET": 13 / 22, "L": 13 / 5, "LAM": 12 / 22, "TT": 12 / 5, "ENTR": 0.500}),
])
def test_recurrenceanalysis_small_matrix_min_line2(theiler, expected):
    """Minimum lines 2 on the RecurrenceAnalysis.jl matrix give its exact fractions, both
    from a fresh scan and from the stored histograms (with_min_line)."""
    fresh = rqa(_ra_matrix(), theiler=theiler, min_line=2, border=1)
    reused = rqa(_ra_matrix(), theiler=theiler, min_line=1, border=1).with_min_line(2)
    for res in (fresh, reused):
        for name in ("DET", "L", "LAM", "TT"):
            assert getattr(res, name) == expected[name], name
        assert res.ENTR == pytest.approx(expected["ENTR"], abs=1e-3)
        assert res.Lmax == 5 and res.Vmax == 3
    assert fresh.measures() == reused.measures()


def _pyunicorn_small_system():
    """pyunicorn's Data.SmallTestData: state t has components sin(pi t/10 + i pi/2)."""
    t = np.arange(10)
    return np.stack([np.sin(t * np.pi / 10 + i * np.pi / 2) for i in range(6)], axis=1)


def test_pyunicorn_small_system_under_its_convention():
    """pyunicorn's 10-state test system (supremum, ε = 0.8) reproduces pyunicorn's
    published matrix, histograms and RQA numbers under convention='pyunicorn'."""
    x = _pyunicorn_small_system()
    rm = recurrence_matrix(x, 0.8, metric="supremum", convention="pyunicorn")
    expected = np.array([
        [1, 1, 1, 0, 0, 0, 0, 0, 0, 0], [1, 1, 1, 1, 1, 0, 0, 0, 0, 0],
        [1, 1, 1, 1, 1, 0, 0, 0, 0, 0], [0, 1, 1, 1, 1, 1, 0, 0, 0, 0],
        [0, 1, 1, 1, 1, 1, 1, 0, 0, 0], [0, 0, 0, 1, 1, 1, 1, 1, 0, 0],
        [0, 0, 0, 0, 1, 1, 1, 1, 1, 1], [0, 0, 0, 0, 0, 1, 1, 1, 1, 1],
        [0, 0, 0, 0, 0, 0, 1, 1, 1, 1], [0, 0, 0, 0, 0, 0, 1, 1, 1, 1]], bool)
    assert np.array_equal(rm.toarray(), expected)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndefinedResultWarning)  # TREND: matrix too small
        res = rqa(rm, min_line=2)
    assert res.RR == 0.48
    assert res.DET == pytest.approx(0.8947, abs=1e-4)
    assert res.L == pytest.approx(8.5, abs=1e-4)
    assert res.LAM == pytest.approx(1.0, abs=1e-4)
    assert res.TT == pytest.approx(4.8, abs=1e-4)
    assert res.MRT == pytest.approx(4.0, abs=1e-4)
    assert res.ENTR == pytest.approx(0.6931, abs=1e-4)
    assert res.VENTR == pytest.approx(1.2206, abs=1e-4)
    assert res.WVENTR == pytest.approx(1.8848, abs=1e-4)
    h = res.histograms
    assert _hist(h.diagonal) == [4, 0, 0, 0, 0, 0, 0, 2, 2]
    assert _hist(h.vertical) == [0, 0, 1, 2, 5, 2]
    assert _hist(h.white) == [2, 1, 2, 2, 3, 2, 1]
    assert (res.Lmax, res.Vmax, res.WVmax) == (9, 6, 7)


def _random_states(rng, n=90, p=2):
    return np.cumsum(rng.normal(size=(n, p)), axis=0) * 0.1


PYU_SPECS = [
    ({"threshold": 0.5}, FixedThreshold(0.5)),
    ({"recurrence_rate": 0.1}, GlobalRecurrenceRate(0.1)),
    ({"threshold_std": 0.3}, ScaledThreshold(0.3, "std")),
    ({"local_recurrence_rate": 0.1}, LocalRecurrenceRate(rate=0.1)),
]


@pytest.mark.parametrize("kwargs, spec", PYU_SPECS)
@pytest.mark.parametrize("metric", ["euclidean", "manhattan", "supremum"])
def test_agrees_with_pyunicorn_on_random_input(crosscheck, rng, kwargs, spec, metric):
    """On random trajectories every threshold rule gives pyunicorn's matrix, line
    histograms and RQA numbers under convention='pyunicorn' (streaming path)."""
    timeseries = crosscheck("pyunicorn.timeseries")
    x = _random_states(rng)
    rp = timeseries.RecurrencePlot(x, metric=metric, silence_level=3, **kwargs)
    rm = recurrence_matrix(x, spec, metric=metric, convention="pyunicorn")
    assert np.array_equal(rm.toarray(), rp.recurrence_matrix().astype(bool))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndefinedResultWarning)
        ours = rqa(x, spec, metric=metric, convention="pyunicorn")
        stored = rqa(rm)
    ref = {
        "RR": rp.recurrence_rate(), "DET": rp.determinism(2), "L": rp.average_diaglength(2),
        "Lmax": rp.max_diaglength(), "ENTR": rp.diag_entropy(2), "LAM": rp.laminarity(2),
        "TT": rp.trapping_time(2), "Vmax": rp.max_vertlength(), "VENTR": rp.vert_entropy(2),
        "MRT": rp.mean_recurrence_time(), "WVmax": rp.max_white_vertlength(),
        "WVENTR": rp.white_vert_entropy(),
    }
    for res in (ours, stored):
        for name, value in ref.items():
            assert getattr(res, name) == pytest.approx(value, rel=1e-12, abs=0), name
        for ours_h, theirs in ((res.histograms.diagonal, rp.diagline_dist()),
                               (res.histograms.vertical, rp.vertline_dist()),
                               (res.histograms.white, rp.white_vertline_dist())):
            padded = np.zeros(theirs.size + 1, np.int64)
            padded[: ours_h.size] = ours_h
            assert np.array_equal(padded[1:], theirs)


@pytest.mark.parametrize("seed", range(4))
def test_matches_naive_reference_on_random_matrices(seed):
    """Histograms and measures equal a naive pure-Python scan on random binary matrices
    of every kind, Theiler window, storage and minimum line."""
    gen = np.random.default_rng(seed)
    for _ in range(60):
        n = int(gen.integers(1, 13))
        m = n if gen.random() < 0.6 else int(gen.integers(1, 13))
        mat = gen.random((n, m)) < gen.random()
        if n == m and gen.random() < 0.4:
            mat = np.triu(mat) | np.triu(mat).T
        kind = "recurrence" if n == m and gen.random() < 0.7 else "cross"
        w, lmin = int(gen.integers(0, 4)), int(gen.integers(1, 4))
        storage = "sparse" if gen.random() < 0.3 else "bitpacked"
        rm = RecurrenceMatrix.from_array(mat, kind=kind, storage=storage)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UndefinedResultWarning)
            ours = rqa(rm, theiler=w, min_line=lmin)
        ref = reference.naive_rqa(mat.tolist(), w, lmin, kind=kind)
        for name, arr in (("diag", ours.histograms.diagonal), ("vert", ours.histograms.vertical),
                          ("rtimes", ours.histograms.recurrence_times),
                          ("white", ours.histograms.white)):
            as_dict = {k: int(v) for k, v in enumerate(arr) if v}
            assert as_dict == dict(ref[name]), name
        for name in ("RR", "DET", "L", "Lmax", "ENTR", "LAM", "TT", "Vmax", "VENTR", "MRT",
                     "RTE", "NMPRT"):
            assert getattr(ours, name) == pytest.approx(ref[name], rel=1e-12, nan_ok=True)


@pytest.mark.parametrize("metric", ["euclidean", "manhattan", "chebyshev"])
@pytest.mark.parametrize("theiler", [0, 1, 3])
def test_streaming_matches_naive_reference_on_data(rng, metric, theiler):
    """Streaming RQA of data equals the naive scan of the matrix built independently
    with scipy's cdist (fixed ε)."""
    x = _random_states(rng, n=70, p=3)
    d = cdist(x, x, metric={"chebyshev": "chebyshev", "manhattan": "cityblock"}.get(metric, metric))
    eps = float(np.quantile(d, 0.15))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndefinedResultWarning)
        ours = rqa(x, eps, metric=metric, theiler=theiler)
    ref = reference.naive_rqa((d <= eps).tolist(), theiler, 2)
    assert {k: int(v) for k, v in enumerate(ours.histograms.diagonal) if v} == dict(ref["diag"])
    for name in ("RR", "DET", "L", "LAM", "TT", "MRT", "RTE"):
        assert getattr(ours, name) == pytest.approx(ref[name], rel=1e-12, nan_ok=True)


SPECS = [FixedThreshold(0.4), GlobalRecurrenceRate(0.07), ScaledThreshold(0.1, "max"),
         ScaledThreshold(0.2, "mean"), ScaledThreshold(0.3, "std"), LocalRecurrenceRate(k=6),
         LocalRecurrenceRate(rate=0.05)]


@pytest.mark.parametrize("spec", SPECS, ids=repr)
@pytest.mark.parametrize("convention", ["recurrenceanalysis", "pyunicorn"])
def test_streaming_equals_stored_matrix(rng, spec, convention):
    """Streaming RQA of data gives exactly the histograms of the stored-matrix path, for
    every spec, metric and both conventions (runs carried across tiles and columns)."""
    x = _random_states(rng, n=400, p=3)
    if convention == "pyunicorn" and isinstance(spec, LocalRecurrenceRate) and spec.k:
        spec = LocalRecurrenceRate(rate=0.02)
    for metric in ("euclidean", "manhattan", "chebyshev"):
        for theiler in ((0, 2) if convention == "recurrenceanalysis" else (None,)):
            kw = dict(metric=metric, theiler=theiler, convention=convention)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UndefinedResultWarning)
                dense = rqa(recurrence_matrix(x, spec, **kw))
                stream = rqa(x, spec, tile=(37, 11), **kw)
            for field in ("diagonal", "vertical", "recurrence_times", "white", "tau_density"):
                assert np.array_equal(getattr(dense.histograms, field),
                                      getattr(stream.histograms, field)), field
            assert dense.histograms.n_recurrent == stream.histograms.n_recurrent


def test_streaming_equals_dense_5000():
    """At N = 5000 (fixed recurrence rate, logistic map) the streaming path and the
    stored dense matrix agree exactly (about 2 s)."""
    from graphtraj.datasets import logistic_map
    from graphtraj.timeseries import delay_embed

    x = delay_embed(logistic_map(5002), 3)
    spec = GlobalRecurrenceRate(0.05)
    a, b = rqa(x, spec), rqa(recurrence_matrix(x, spec))
    for field in ("diagonal", "vertical", "recurrence_times", "white", "tau_density"):
        assert np.array_equal(getattr(a.histograms, field), getattr(b.histograms, field))


def test_line_histograms_conserve_recurrent_points(rng):
    """Every admissible recurrent cell lies on exactly one diagonal and one vertical
    line: Σ l·P(l) = Σ v·P(v) = RR numerator."""
    x = _random_states(rng, n=300)
    res = rqa(x, GlobalRecurrenceRate(0.1))
    h = res.histograms
    n = h.n_recurrent
    assert (np.arange(h.diagonal.size) * h.diagonal).sum() == n
    assert (np.arange(h.vertical.size) * h.vertical).sum() == n
    assert n == round(res.RR * h.n_pairs)


def test_with_min_line_reuses_histograms(rng):
    """with_min_line gives the measures of a fresh scan, without rescanning (the
    histograms object is shared)."""
    x = _random_states(rng, n=200)
    base = rqa(x, GlobalRecurrenceRate(0.1))
    for lmin, vmin in ((3, None), (4, 2), (1, 1)):
        redo = base.with_min_line(lmin, vmin)
        fresh = rqa(x, GlobalRecurrenceRate(0.1), min_line=lmin,
                    min_vert=lmin if vmin is None else vmin)
        assert redo.histograms is base.histograms
        assert redo.measures() == pytest.approx(fresh.measures(), nan_ok=True)
    assert base.with_min_line(border=2).TREND == rqa(
        x, GlobalRecurrenceRate(0.1), border=2).TREND


@pytest.mark.filterwarnings("ignore::graphtraj.exceptions.UndefinedResultWarning")
def test_no_recurrences_gives_nan_with_warning():
    """Without admissible recurrent points DET and LAM are undefined: NaN + warning."""
    with pytest.warns(UndefinedResultWarning, match="fraction is undefined"):
        res = rqa(np.eye(6, dtype=bool))
    assert res.RR == 0.0 and np.isnan(res.DET) and np.isnan(res.LAM)
    assert res.Lmax == 0 and np.isnan(res.DIV) and res.NMPRT == 0


def test_measures_dict_lists_every_measure(rng):
    """measures() holds exactly MEASURES and as_dict() is JSON-able."""
    import json

    res = rqa(_random_states(rng, n=80), GlobalRecurrenceRate(0.1))
    assert tuple(res.measures()) == MEASURES
    json.dumps(res.as_dict())


def test_results_do_not_depend_on_tile(rng):
    """The tile shape is an implementation detail: results are identical."""
    x = _random_states(rng, n=150)
    a = rqa(x, ScaledThreshold(0.1, "mean"), tile=(7, 3))
    b = rqa(x, ScaledThreshold(0.1, "mean"))
    assert a.measures() == b.measures()


def test_precomputed_and_graph_free_paths_agree(rng):
    """A precomputed distance matrix gives the same RQA as the points it came from."""
    x = _random_states(rng, n=120)
    d = cdist(x, x)
    a = rqa(x, GlobalRecurrenceRate(0.1))
    b = rqa(d, GlobalRecurrenceRate(0.1), precomputed=True)
    assert a.measures() == b.measures()


def test_validation_errors(rng):
    """Every validation branch raises our error with a clear message."""
    x = _random_states(rng, n=20)
    rm = recurrence_matrix(x, 0.2)
    with pytest.raises(ValidationError, match="`spec` must be None"):
        rqa(rm, 0.2)
    with pytest.raises(ValidationError, match="`spec` must be given"):
        rqa(x)
    with pytest.raises(ValidationError, match="`theiler` must be None or 0"):
        rqa(rm, convention="pyunicorn", theiler=2)
    with pytest.raises(UnknownOptionError, match="`convention` must be one of"):
        rqa(rm, convention="crqa")
    with pytest.raises(ValidationError, match="`min_line` must be >= 1"):
        rqa(rm, min_line=0)
    with pytest.raises(ValidationError, match="`border` must be >= 0"):
        rqa(rm, border=-1)
    with pytest.raises(ValidationError, match="`theiler` must be >= 0"):
        rqa(rm, theiler=-1)
    with pytest.raises(ValidationError, match="square distance matrix"):
        rqa(np.ones((3, 4)), 0.1, precomputed=True)
    with pytest.raises(ValidationError, match=r"`tile\[0\]` must be >= 1"):
        rqa(x, 0.1, tile=(0, 3))


@pytest.mark.filterwarnings("ignore::graphtraj.exceptions.UndefinedResultWarning")
def test_theiler_wider_than_matrix_gives_nan_rr():
    """A Theiler window covering the whole matrix leaves no admissible pair: NaN RR."""
    with pytest.warns(UndefinedResultWarning, match="RR is undefined"):
        res = rqa(np.ones((4, 4), bool), theiler=4)
    assert np.isnan(res.RR)


def test_pyunicorn_convention_on_stored_asymmetric_matrix(rng):
    """A local-recurrence-rate matrix (not symmetric) under pyunicorn is scanned along
    rows: the stored and streaming paths agree."""
    x = _random_states(rng, n=60)
    spec = LocalRecurrenceRate(rate=0.1)
    rm = recurrence_matrix(x, spec, convention="pyunicorn")
    assert not rm.symmetric
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndefinedResultWarning)
        a, b = rqa(rm), rqa(x, spec, convention="pyunicorn")
    assert a.measures() == pytest.approx(b.measures(), nan_ok=True)


def test_entropy_of_one_line_length_is_positive_zero():
    """One populated histogram bin has entropy exactly +0.0 (printed '0', never '-0')."""
    import math

    from graphtraj.timeseries.rqa_measures import _entropy

    v = _entropy(np.array([0, 5, 0]))
    assert v == 0.0 and math.copysign(1.0, v) == 1.0
