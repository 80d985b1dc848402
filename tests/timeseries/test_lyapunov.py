"""Tests of lyapunov_rosenstein and lyapunov_kantz (graphtraj.timeseries.lyapunov)."""

import json
import math
import warnings

import numpy as np
import pytest

from graphtraj._result import to_builtin
from graphtraj.datasets import henon_map, logistic_map, lorenz
from graphtraj.exceptions import (
    InsufficientDataError,
    NonFiniteInputError,
    UndefinedResultWarning,
    UnknownOptionError,
    UnreliableResultWarning,
    ValidationError,
)
from graphtraj.timeseries import (
    delay_embed,
    lyapunov_kantz,
    lyapunov_rosenstein,
    min_length_kantz,
    min_length_rosenstein,
)

LN2 = math.log(2.0)
HENON_L1 = 0.419  # Hénon a = 1.4, b = 0.3 (Sprott, Chaos and Time-Series Analysis, 2003)
LORENZ_L1 = 0.906  # Lorenz 10, 28, 8/3 per time unit (Sprott 2003; Viswanath 1998: 0.9056)


# ----------------------------------------------------------- naive references
def _norm(diff, p):
    if p == 2.0:
        return np.sqrt((diff**2).sum(-1))
    return np.abs(diff).sum(-1) if p == 1.0 else np.abs(diff).max(-1)


def _naive_curve(x, emb_dim, lag, theiler, k_len, *, k=1, eps=None, nolds=False, p=2.0):
    """O(N²) reference: neighbours from the full distance matrix, explicit loops."""
    pts = delay_embed(x, emb_dim, lag)
    n_traj = pts.shape[0] - k_len + 1
    cand = pts[:n_traj]
    dmat = _norm(cand[:, None, :] - cand[None, :, :], p)
    groups = []
    for i in range(n_traj):
        js = [j for j in range(n_traj) if abs(i - j) >= theiler and (nolds or dmat[i, j] > 0)]
        if eps is not None:
            sel = [j for j in js if dmat[i, j] <= eps]
        else:
            sel = sorted(js, key=lambda j: (dmat[i, j], j))[:k]
        if sel:
            groups.append((i, sel))
    curve = np.full(k_len, np.nan)
    for step in range(k_len):
        vals = []
        for i, sel in groups:
            d = [_norm(pts[i + step] - pts[j + step], p) for j in sel]
            vals.append(np.mean(d))
        vals = np.array(vals)
        pos = vals[vals > 0]
        if pos.size and (nolds or pos.size >= 0.5 * len(groups)):
            curve[step] = np.mean(np.log(pos))
    return curve


# ----------------------------------------------------------- known answers
def test_rosenstein_logistic_is_ln2():
    """Logistic map r = 4: the largest exponent from data is ln 2 (± 0.05)."""
    res = lyapunov_rosenstein(logistic_map(2000), theiler=1)
    assert res.scaling_region and res.status == "linear"
    assert abs(res.exponent - LN2) < 0.05
    assert res.r2 > 0.99


def test_kantz_logistic_is_ln2_knn_and_radius():
    """Kantz's curve of the logistic map rises at ln 2 with k-NN and radius neighbourhoods."""
    x = logistic_map(3000)
    assert abs(lyapunov_kantz(x, theiler=1).exponent - LN2) < 0.05
    res = lyapunov_kantz(x, theiler=1, eps=2e-3)
    assert abs(res.exponent - LN2) < 0.05
    assert res.params["mean_neighbourhood"] > 1


def test_henon_from_scalar_data():
    """Hénon x series embedded in 2 dimensions: λ1 = 0.42 ± 0.05 (both estimators)."""
    x = henon_map(5000)[:, 0]
    assert abs(lyapunov_rosenstein(x, emb_dim=2, theiler=1).exponent - HENON_L1) < 0.05
    assert abs(lyapunov_kantz(x, emb_dim=2, theiler=1).exponent - HENON_L1) < 0.05


def test_henon_from_states():
    """A (T, 2) state array is used as the reconstructed space directly: λ1 = 0.42 ± 0.05."""
    res = lyapunov_rosenstein(henon_map(5000), theiler=1)
    assert abs(res.exponent - HENON_L1) < 0.05


def test_lorenz_x_rosenstein_per_time_unit():
    """Lorenz x (RK4, dt = 0.01), lag 18 (first AMI minimum), m = 3: 0.906 per unit ± 15%."""
    x = lorenz(10000)[:, 0]
    res = lyapunov_rosenstein(x, emb_dim=3, lag=18, trajectory_len=500, dt=0.01)
    assert res.params["theiler"] > 1  # the default window excludes temporal neighbours
    assert abs(res.exponent - LORENZ_L1) < 0.15 * LORENZ_L1
    np.testing.assert_allclose(res.times, np.arange(500) * 0.01)


@pytest.mark.slow
def test_lorenz_x_kantz_per_time_unit():
    """Kantz with two neighbours on Lorenz x: 0.906 per unit ± 15%."""
    x = lorenz(10000)[:, 0]
    res = lyapunov_kantz(x, emb_dim=3, lag=18, trajectory_len=500, dt=0.01, n_neighbors=2)
    assert abs(res.exponent - LORENZ_L1) < 0.15 * LORENZ_L1


def test_periodic_signal_gives_zero():
    """A sine (incommensurate period) has λ ≈ 0: the curve is flat and fitted whole."""
    x = np.sin(0.3 * np.arange(3000))
    for res in (lyapunov_rosenstein(x, emb_dim=2, lag=5, trajectory_len=40),
                lyapunov_kantz(x, emb_dim=2, lag=5, trajectory_len=40)):
        assert res.status == "flat"
        assert abs(res.exponent) < 0.01


def test_noise_has_no_scaling_region():
    """i.i.d. noise: neighbours jump to the plateau at once → NaN with a warning."""
    x = np.random.default_rng(3).normal(size=2000)
    with pytest.warns(UndefinedResultWarning, match="no scaling region"):
        res = lyapunov_rosenstein(x, emb_dim=3, theiler=1)
    assert math.isnan(res.exponent) and not res.scaling_region
    assert res.status == "no_scaling_region" and res.reason


# ----------------------------------------------------------- oracles
@pytest.mark.parametrize("convention", ["graphtraj", "nolds"])
def test_rosenstein_curve_equals_naive(rng, convention):
    """The KD-tree curve equals an O(N²) brute-force reference on random input."""
    x = rng.normal(size=260)
    res = lyapunov_rosenstein(x, emb_dim=3, lag=2, theiler=4, trajectory_len=8,
                              convention=convention, fit_range=(0, 8))
    ref = _naive_curve(x, 3, 2, 4, 8, nolds=convention == "nolds")
    np.testing.assert_allclose(res.curve, ref, rtol=1e-12)


def test_rosenstein_duplicates_tie_to_lower_index(rng):
    """Integer data with many exact duplicates: nolds convention picks the lowest index."""
    x = rng.integers(0, 4, size=200)
    with pytest.warns(UnreliableResultWarning, match="too few distinct values"):
        res = lyapunov_rosenstein(x, emb_dim=2, theiler=3, trajectory_len=5,
                                  convention="nolds")
    ref = _naive_curve(x.astype(float), 2, 1, 3, 5, nolds=True)
    np.testing.assert_allclose(res.curve, ref, rtol=1e-12)


@pytest.mark.parametrize("kw", [{"n_neighbors": 4}, {"eps": 0.9}])
def test_kantz_curve_equals_naive(rng, kw):
    """Kantz's curve (k-NN and radius) equals the brute-force reference."""
    x = rng.normal(size=240)
    res = lyapunov_kantz(x, emb_dim=2, lag=1, theiler=3, trajectory_len=6, fit_range=(0, 6), **kw)
    ref = _naive_curve(x, 2, 1, 3, 6, k=kw.get("n_neighbors", 1), eps=kw.get("eps"))
    np.testing.assert_allclose(res.curve, ref, rtol=1e-12)


_ALIASES = [
    ("l2", "euclidean", 2.0), ("Euclidean", "euclidean", 2.0),
    ("l1", "manhattan", 1.0), ("cityblock", "manhattan", 1.0),
    ("max", "chebyshev", np.inf), ("linf", "chebyshev", np.inf),
    ("supremum", "chebyshev", np.inf),
]


@pytest.mark.parametrize(("alias", "native", "p"), _ALIASES)
def test_metric_aliases_as_in_recurrence(rng, alias, native, p):
    """The metric names recurrence_matrix accepts ('l1', 'cityblock', 'l2', 'max', ...)
    work here too (they used to raise UnknownOptionError); each gives the brute-force
    curve of its norm and is recorded under the canonical name."""
    from graphtraj.timeseries import recurrence_matrix

    x = rng.normal(size=240)
    recurrence_matrix(x, 0.5, metric=alias)  # the same name is valid there
    ros = lyapunov_rosenstein(x, emb_dim=3, theiler=3, trajectory_len=6, fit_range=(0, 6),
                              metric=alias)
    kan = lyapunov_kantz(x, emb_dim=3, theiler=3, trajectory_len=6, fit_range=(0, 6),
                         n_neighbors=3, metric=alias)
    np.testing.assert_allclose(ros.curve, _naive_curve(x, 3, 1, 3, 6, p=p), rtol=1e-12)
    np.testing.assert_allclose(kan.curve, _naive_curve(x, 3, 1, 3, 6, k=3, p=p), rtol=1e-12)
    assert ros.params["metric"] == kan.params["metric"] == native


def test_metric_aliases_with_nolds_convention():
    """'l2' is the Euclidean norm, so it is allowed with convention='nolds'."""
    x = logistic_map(300)
    a = lyapunov_rosenstein(x, emb_dim=2, convention="nolds", metric="l2")
    b = lyapunov_rosenstein(x, emb_dim=2, convention="nolds")
    np.testing.assert_array_equal(a.curve, b.curve)
    with pytest.raises(ValidationError, match="must be 'euclidean' with convention='nolds'"):
        lyapunov_rosenstein(x, emb_dim=2, convention="nolds", metric="l1")


def test_unknown_metric_lists_the_aliases():
    """An unknown metric names the native metrics and every alias."""
    with pytest.raises(UnknownOptionError, match=r"\(aliases 'cityblock', 'l1', 'l2', 'linf', 'max', 'supremum'\); got 'l3'"):
        lyapunov_kantz(logistic_map(300), metric="l3")


def test_nolds_convention_equals_nolds_on_three_series(crosscheck):
    """convention='nolds' equals nolds.lyap_r(fit='poly') to 1e-6 relative on three series."""
    nolds = crosscheck("nolds")
    cases = [
        (logistic_map(1500), dict(emb_dim=2, lag=1, min_tsep=0, trajectory_len=15)),
        (henon_map(1500)[:, 0], dict(emb_dim=3, lag=1, min_tsep=5, trajectory_len=20)),
        (lorenz(3000)[:, 0], dict(emb_dim=4, lag=10, min_tsep=30, trajectory_len=40)),
    ]
    for x, kw in cases:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            want = nolds.lyap_r(x, fit="poly", **kw)
        got = lyapunov_rosenstein(x, emb_dim=kw["emb_dim"], lag=kw["lag"],
                                  theiler=kw["min_tsep"] + 1,
                                  trajectory_len=kw["trajectory_len"], convention="nolds")
        assert got.exponent == pytest.approx(want, rel=1e-6)


def test_dt_rescales_exponent():
    """With dt the exponent is per time unit: λ(dt) = λ(1) / dt, same curve."""
    x = logistic_map(1500)
    a = lyapunov_rosenstein(x, theiler=1)
    b = lyapunov_rosenstein(x, theiler=1, dt=0.5)
    np.testing.assert_array_equal(a.curve, b.curve)
    assert b.exponent == pytest.approx(a.exponent / 0.5, rel=1e-10)


def test_fit_range_is_used():
    """A given fit_range fits exactly that slice (status 'given')."""
    x = logistic_map(1500)
    res = lyapunov_rosenstein(x, theiler=1, fit_range=(1, 6))
    slope, icpt = np.polyfit(np.arange(1, 6), res.curve[1:6], 1)
    assert (res.fit_start, res.fit_stop, res.status) == (1, 6, "given")
    assert res.exponent == pytest.approx(slope) and res.intercept == pytest.approx(icpt)


def test_n_references_subsample_close():
    """Following 500 evenly spaced references gives nearly the same exponent."""
    x = logistic_map(3000)
    full = lyapunov_rosenstein(x, theiler=1)
    sub = lyapunov_rosenstein(x, theiler=1, n_references=500)
    assert sub.n_references <= 500
    assert abs(sub.exponent - full.exponent) < 0.05


def test_metrics_agree_on_one_dimension():
    """In one dimension the three norms coincide, so the curves are identical."""
    x = logistic_map(1000)
    curves = [lyapunov_rosenstein(x, theiler=1, metric=m).curve
              for m in ("euclidean", "chebyshev", "manhattan")]
    np.testing.assert_allclose(curves[0], curves[1])
    np.testing.assert_allclose(curves[0], curves[2])


def test_result_as_dict_is_json_able():
    """as_dict() gives plain Python data that json can write."""
    res = lyapunov_kantz(logistic_map(800), theiler=1, progress=False)
    d = res.as_dict()
    json.dumps(to_builtin(d))
    assert d["method"] == "kantz" and len(d["curve"]) == 20
    assert "LyapunovResult(method='kantz'" in repr(res)


def test_constant_series_is_undefined():
    """A constant series has no neighbour at positive distance → NaN with a warning."""
    with pytest.warns(UndefinedResultWarning, match="constant"):
        res = lyapunov_rosenstein(np.full(200, 3.0), theiler=1)
    assert math.isnan(res.exponent) and res.n_references == 0
    with pytest.warns(UndefinedResultWarning, match="no reference"):
        res = lyapunov_kantz(np.full(200, 3.0), theiler=1)
    assert math.isnan(res.exponent)


# ----------------------------------------------------------- validation
def test_length_boundary_rosenstein():
    """At the minimum length the estimator runs; one sample less raises with the number."""
    n = min_length_rosenstein(3, 2, 10, 5)
    x = logistic_map(n)
    res = lyapunov_rosenstein(x, emb_dim=3, lag=2, trajectory_len=10, theiler=5,
                              convention="nolds")
    assert np.isfinite(res.exponent)
    with pytest.raises(InsufficientDataError, match=f"at least {n} samples"):
        lyapunov_rosenstein(x[:-1], emb_dim=3, lag=2, trajectory_len=10, theiler=5)


def test_length_boundary_kantz():
    """Kantz's minimum includes the neighbourhood size; one below raises."""
    n = min_length_kantz(2, 1, 8, 3, n_neighbors=4)
    x = logistic_map(n)
    res = lyapunov_kantz(x, emb_dim=2, trajectory_len=8, theiler=3, n_neighbors=4,
                         fit_range=(0, 8))
    assert np.isfinite(res.exponent)
    with pytest.raises(InsufficientDataError, match=f"at least {n} samples.*n_neighbors"):
        lyapunov_kantz(x[:-1], emb_dim=2, trajectory_len=8, theiler=3, n_neighbors=4)


def test_non_finite_input_raises():
    """NaN anywhere is rejected up front."""
    x = logistic_map(500)
    x[17] = np.nan
    with pytest.raises(NonFiniteInputError, match="non-finite"):
        lyapunov_rosenstein(x)
    with pytest.raises(NonFiniteInputError, match="non-finite"):
        lyapunov_kantz(x)


@pytest.mark.parametrize(
    ("kwargs", "exc", "match"),
    [
        ({"metric": "cosine"}, UnknownOptionError, "`metric` must be one of"),
        ({"convention": "tisean"}, UnknownOptionError, "`convention` must be one of"),
        ({"convention": "nolds", "metric": "chebyshev"}, ValidationError, "Euclidean"),
        ({"theiler": 0}, ValidationError, "`theiler` must be >= 1"),
        ({"trajectory_len": 1}, ValidationError, "`trajectory_len` must be >= 2"),
        ({"dt": 0.0}, ValidationError, "`dt` must be > 0"),
        ({"fit_range": (5,)}, ValidationError, "`fit_range` must be a pair"),
        ({"fit_range": (3, 4)}, ValidationError, r"`fit_range\[1\]` must be >= 5"),
        ({"fit_range": (0, 40)}, ValidationError, r"`fit_range\[1\]` must be <= 20"),
        ({"n_references": 0}, ValidationError, "`n_references` must be >= 1"),
        ({"emb_dim": 0}, ValidationError, "`emb_dim` must be >= 1"),
    ],
)
def test_rosenstein_validation(kwargs, exc, match):
    """Every invalid parameter raises our error with the parameter's name."""
    with pytest.raises(exc, match=match):
        lyapunov_rosenstein(logistic_map(300), **kwargs)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"eps": 0.1, "n_neighbors": 3}, "either `eps` or `n_neighbors`"),
        ({"eps": -1.0}, "`eps` must be > 0"),
        ({"n_neighbors": 0}, "`n_neighbors` must be >= 1"),
    ],
)
def test_kantz_validation(kwargs, match):
    """Kantz's neighbourhood parameters are validated."""
    with pytest.raises(ValidationError, match=match):
        lyapunov_kantz(logistic_map(300), **kwargs)


def test_kantz_eps_too_small_is_undefined():
    """A radius with no neighbours anywhere gives NaN and says why."""
    with pytest.warns(UndefinedResultWarning, match="within eps"):
        res = lyapunov_kantz(logistic_map(300), theiler=1, eps=1e-12)
    assert res.n_references == 0 and math.isnan(res.exponent)
