"""Tests for visibility-graph degree statistics: exact laws, tail fit, windowed measures."""

import math

import numpy as np
import pytest
from scipy.optimize import minimize_scalar

from graphtraj.exceptions import (
    InsufficientDataError,
    NonFiniteInputError,
    UndefinedResultWarning,
    UnknownOptionError,
    ValidationError,
)
from graphtraj.timeseries import (
    degree_tail_fit,
    irreversibility,
    visibility_graph,
    windowed_visibility,
)
from graphtraj.timeseries.visibility_measures import IID_HVG_LAMBDA

N_LAW = 100_000


@pytest.fixture(scope="module")
def noise_hvg():
    """HVG of 10^5 i.i.d. uniform samples (seed 2024), built once for the law tests."""
    return visibility_graph(np.random.default_rng(2024).random(N_LAW), "horizontal")


# --------------------------------------------------------------------------- exact laws


def test_iid_mean_degree(noise_hvg):
    """HVG of i.i.d. noise: mean degree 4 (Luque et al. 2009); 4.00 +/- 0.02 at N = 1e5.

    The mean degree of any HVG is 4(1 - 1/(2N)) minus a boundary term of O(1/N), so
    0.02 is a very loose bound; it guards the definition, not sampling noise.
    """
    assert noise_hvg.mean_degree == pytest.approx(4.0, abs=0.02)


def test_iid_degree_distribution(noise_hvg):
    """HVG of i.i.d. noise: P(k) = (1/3)(2/3)^(k-2) for k = 2..6.

    Binomial standard error of a frequency near 0.33 at N = 1e5 is 0.0015; degrees of
    neighbouring nodes are weakly dependent, so the tolerance 0.005 is ~3 standard errors.
    """
    k, pk = noise_hvg.degree_distribution()
    for kk in range(2, 7):
        assert pk[kk] == pytest.approx((1 / 3) * (2 / 3) ** (kk - 2), abs=0.005)
    assert pk[0] == 0.0 and pk[1] <= 2 / N_LAW  # only the two ends can have degree 1


def test_iid_clustering_two_over_k(noise_hvg):
    """HVG of i.i.d. noise: C(k) = 2/k (Luque et al. 2009); deviations come only from the ends."""
    k, c_k, n_k = noise_hvg.clustering_by_degree()
    for kk, ck in zip(k, c_k, strict=True):
        if 2 <= kk <= 10:
            assert ck == pytest.approx(2.0 / kk, abs=1e-3)


def test_iid_tail_exponent(noise_hvg):
    """HVG of i.i.d. noise: fitted lambda = ln(3/2) for any k_min >= 2.

    The Fisher standard error is ~0.0016 at N = 1e5; we allow 4 of them (correlated
    degrees make the true error slightly larger than the Fisher value).
    """
    for k_min in (2, 3, 4):
        fit = noise_hvg.tail_fit(k_min=k_min)
        assert fit.lam == pytest.approx(IID_HVG_LAMBDA, abs=4 * fit.stderr)
        assert 0.001 < fit.stderr < 0.003


def test_iid_directed_out_degree(rng):
    """Directed HVG of noise: P(k_out) = (1/2)^k and the out-degree tail has lambda = ln 2.

    Tolerance 0.005 is ~3 binomial standard errors at N = 1e5; lambda within 4 Fisher errors.
    """
    g = visibility_graph(rng.random(N_LAW), "horizontal", directed=True)
    k, pk = g.degree_distribution("out")
    for kk in range(1, 7):
        assert pk[kk] == pytest.approx(0.5**kk, abs=0.005)
    fit = degree_tail_fit(g, k_min=1, direction="out")
    assert fit.lam == pytest.approx(math.log(2), abs=4 * fit.stderr)
    # by reversal symmetry of i.i.d. noise the in-degree has the same law
    assert g.degree_distribution("in")[1][1] == pytest.approx(0.5, abs=0.005)


@pytest.mark.parametrize("period", [1, 2, 3, 4, 5, 8])
def test_periodic_mean_degree(period):
    """A period-T series (distinct values in a period) has HVG mean degree 4(1 - 1/(2T)).

    Núñez et al. (2012); the finite-size correction is O(T/N), below 1e-3 at N ~ 1e5.
    """
    gen = np.random.default_rng(period)
    pattern = gen.permutation(period).astype(float)
    y = np.tile(pattern, N_LAW // period)
    g = visibility_graph(y, "horizontal")
    assert g.mean_degree == pytest.approx(4 * (1 - 1 / (2 * period)), abs=1e-3)


# --------------------------------------------------------------------------- tail fit


def _loglik(lam, tail, k_min, k_max):
    ks = np.arange(k_min, (k_max if k_max is not None else k_min + 2000) + 1)
    logz = np.logaddexp.reduce(-lam * ks)
    return float(np.sum(-lam * tail - logz))


@pytest.mark.parametrize("k_max", [None, 6, 12])
def test_tail_fit_is_the_likelihood_maximum(rng, k_max):
    """lambda maximizes the discrete-exponential likelihood on the range (numerical oracle)."""
    deg = rng.geometric(0.4, size=3000) + 1
    fit = degree_tail_fit(deg, k_min=3, k_max=k_max)
    sel = deg >= 3
    if k_max is not None:
        sel &= deg <= k_max
    tail = deg[sel].astype(float)
    best = minimize_scalar(lambda x: -_loglik(x, tail, 3, k_max), bounds=(0.01, 3.0), method="bounded",
                           options={"xatol": 1e-10})
    assert fit.lam == pytest.approx(best.x, abs=1e-6)
    assert fit.n_tail == sel.sum() and fit.n_nodes == 3000
    # Fisher information = minus the curvature of the log-likelihood at the maximum
    h = 1e-4
    curv = (_loglik(fit.lam + h, tail, 3, k_max) - 2 * _loglik(fit.lam, tail, 3, k_max)
            + _loglik(fit.lam - h, tail, 3, k_max)) / h**2
    assert fit.stderr == pytest.approx(1 / math.sqrt(-curv), rel=1e-4)


def test_tail_fit_standard_error_is_calibrated():
    """Across 300 geometric samples the spread of lambda matches the reported standard error (±15%)."""
    gen = np.random.default_rng(7)
    lam_true = 0.5
    p = 1 - math.exp(-lam_true)
    fits = [degree_tail_fit(gen.geometric(p, size=500) + 1, k_min=2) for _ in range(300)]
    lams = np.array([f.lam for f in fits])
    ses = np.array([f.stderr for f in fits])
    assert lams.mean() == pytest.approx(lam_true, abs=3 * lams.std() / math.sqrt(300))
    assert lams.std() == pytest.approx(ses.mean(), rel=0.15)


def test_tail_fit_hand_case_and_curves():
    """Degrees 2,2,2,2,3,3,4 with k_min = 2: lambda = ln(1 + 7/4); fitted curve scaled to the tail."""
    fit = degree_tail_fit([2, 2, 2, 2, 3, 3, 4, 0], k_min=2)
    assert fit.lam == pytest.approx(math.log(11 / 4), rel=1e-12)
    q = 4 / 11
    assert fit.stderr == pytest.approx((1 - q) / math.sqrt(7 * q), rel=1e-12)
    assert fit.k.tolist() == [0, 1, 2, 3, 4]
    assert fit.pk.tolist() == [1 / 8, 0, 4 / 8, 2 / 8, 1 / 8]
    assert fit.fit_k.tolist() == [2, 3, 4]
    assert np.allclose(fit.fit_pk, (7 / 8) * (1 - q) * q ** np.arange(3))


def test_tail_fit_undefined_cases_warn():
    """No degree in range, or all at one end: NaN with UndefinedResultWarning."""
    with pytest.warns(UndefinedResultWarning, match="no node has a degree"):
        assert math.isnan(degree_tail_fit([1, 2, 2], k_min=3).lam)
    with pytest.warns(UndefinedResultWarning, match="degree k_min = 3"):
        fit = degree_tail_fit([3, 3, 3, 1], k_min=3)
    assert math.isnan(fit.lam) and math.isnan(fit.stderr) and fit.n_tail == 3
    with pytest.warns(UndefinedResultWarning, match="degree k_max = 5"):
        assert math.isnan(degree_tail_fit([5, 5, 9], k_min=3, k_max=5).lam)


def test_tail_fit_validation():
    """Bad ranges, degrees and directions raise our errors."""
    with pytest.raises(ValidationError, match="`k_min` must be >= 0"):
        degree_tail_fit([2, 3], k_min=-1)
    with pytest.raises(ValidationError, match="`k_max` must be >= 4"):
        degree_tail_fit([2, 3], k_min=3, k_max=3)
    with pytest.raises(ValidationError, match="`degrees` must hold non-negative integers"):
        degree_tail_fit([2, -3], k_min=1)
    with pytest.raises(ValidationError, match="`degrees` must hold non-negative integers"):
        degree_tail_fit([2, 2.5], k_min=1)
    with pytest.raises(NonFiniteInputError, match="`degrees` must contain only finite values"):
        degree_tail_fit([2, np.nan], k_min=1)
    with pytest.raises(UnknownOptionError, match="`direction` must be one of"):
        degree_tail_fit([2, 3], direction="up")


def test_chaos_below_and_correlated_noise_above_iid_lambda():
    """Lacasa & Toral 2010: logistic chaos has lambda < ln(3/2), a smooth AR(1) lambda > ln(3/2)."""
    x = 0.3
    chaos = np.empty(20000)
    for i in range(20100):
        x = 4 * x * (1 - x)
        if i >= 100:
            chaos[i - 100] = x
    assert visibility_graph(chaos, "horizontal").tail_fit(k_min=4).lam < IID_HVG_LAMBDA - 0.05
    gen = np.random.default_rng(3)
    ar = np.empty(20000)
    ar[0] = 0
    for i in range(1, 20000):
        ar[i] = 0.9 * ar[i - 1] + gen.normal()
    assert visibility_graph(ar, "horizontal").tail_fit(k_min=4).lam > IID_HVG_LAMBDA + 0.05


# --------------------------------------------------------------------------- windowed


@pytest.mark.filterwarnings("ignore:irreversibility. .n_surrogates. is 0")
@pytest.mark.parametrize("kind", ["horizontal", "natural"])
def test_windowed_equals_per_window_graphs(rng, kind):
    """Each window's numbers equal those of visibility_graph on the slice (loop oracle)."""
    y = rng.normal(size=700)
    t = np.cumsum(rng.uniform(0.5, 1.5, size=700))
    w = windowed_visibility(y, 200, step=125, kind=kind, times=t, k_min=3)
    assert w.starts.tolist() == [0, 125, 250, 375, 500]
    assert np.array_equal(w.stops, w.starts + 200)
    for i, s in enumerate(w.starts):
        g = visibility_graph(y[s : s + 200], kind, times=t[s : s + 200])
        fit = g.tail_fit(k_min=3)
        assert w.mean_degree[i] == pytest.approx(g.mean_degree)
        assert w.tail_lambda[i] == pytest.approx(fit.lam)
        assert w.tail_stderr[i] == pytest.approx(fit.stderr)
        irr = irreversibility(y[s : s + 200], kind=kind, times=t[s : s + 200], n_surrogates=0)
        assert w.irreversibility[i] == pytest.approx(irr.kld)
        assert w.centers[i] == pytest.approx((t[s] + t[s + 199]) / 2)


def test_windowed_default_step_and_warning():
    """Default step is window // 2; windows without a tail give NaN and one warning."""
    with pytest.warns(UndefinedResultWarning, match="undefined \\(NaN\\) in 7 of 7 windows"):
        w = windowed_visibility(np.arange(40.0), 10)  # a ramp: every degree <= 2
    assert w.step == 5 and w.starts.tolist() == [0, 5, 10, 15, 20, 25, 30]
    assert np.all(np.isnan(w.tail_lambda))
    assert np.allclose(w.mean_degree, 2 * 9 / 10)


def test_windowed_validation():
    """Too-long windows, tiny windows and bad steps raise our errors."""
    with pytest.raises(InsufficientDataError, match="at least 50 samples"):
        windowed_visibility(np.zeros(20), 50)
    with pytest.raises(ValidationError, match="`window` must be >= 3"):
        windowed_visibility(np.zeros(20), 2)
    with pytest.raises(ValidationError, match="`step` must be >= 1"):
        windowed_visibility(np.zeros(20), 5, step=0)
    with pytest.raises(NonFiniteInputError, match="`series` must contain only finite values"):
        windowed_visibility([1.0, np.nan, 2.0, 3.0], 3)


@pytest.mark.parametrize("huge", [2.0**62, 1e300, 10**12])
def test_tail_fit_rejects_impossible_degrees(huge):
    """Hypothesis: a degree far beyond any graph of the given size (1e12, 2^62, 1e300
    for two nodes) is rejected with our error up front — never an int64 overflow,
    a ZeroDivisionError in the Fisher information, or a bincount of 1e12 bins."""
    with pytest.raises(ValidationError, match="`degrees` must be at most"):
        degree_tail_fit([huge, 1], k_min=0)


def test_tail_fit_accepts_partial_degree_lists():
    """Hypothesis: degrees above n - 1 but of moderate size (a tail excerpt of a larger
    graph's degrees) are still fitted."""
    fit = degree_tail_fit([40, 41, 43], k_min=40)
    assert fit.n_tail == 3 and np.isfinite(fit.lam)
