"""Tests for graphtraj.timeseries.time_irreversibility (directed-HVG irreversibility)."""

import math

import numpy as np
import pytest
from scipy.stats import entropy

from graphtraj.exceptions import (
    InsufficientDataError,
    NonFiniteInputError,
    UndefinedResultWarning,
    UnknownOptionError,
    ValidationError,
)
from graphtraj.timeseries import irreversibility, visibility_graph
from graphtraj.timeseries.time_irreversibility import degree_kld


def logistic(n, r=4.0, x0=0.3, transient=100):
    x = x0
    out = np.empty(n)
    for i in range(n + transient):
        x = r * x * (1 - x)
        if i >= transient:
            out[i - transient] = x
    return out


def test_degree_kld_hand_case():
    """Jeffreys-smoothed divergence of two small degree sequences, computed by hand."""
    k_out = np.array([1, 1, 1, 3])
    k_in = np.array([0, 2, 2, 2])
    # K = 4 bins, n = 4: P = (c + 1/2) / (4 + 2)
    a = np.array([0.5, 3.5, 0.5, 1.5]) / 6
    b = np.array([1.5, 0.5, 3.5, 0.5]) / 6
    want = float(np.sum(a * np.log(a / b)))
    kld, p_out, p_in = degree_kld(k_out, k_in)
    assert kld == pytest.approx(want, rel=1e-14)
    assert kld == pytest.approx(entropy(a, b), rel=1e-12)
    assert p_out.tolist() == [0, 0.75, 0, 0.25] and p_in.tolist() == [0.25, 0, 0.75, 0]
    assert degree_kld(k_out, k_out)[0] == 0.0


@pytest.mark.filterwarnings("ignore:irreversibility. .n_surrogates. is 0")
def test_irreversibility_uses_directed_hvg_degrees(rng):
    """The divergence is that of the directed HVG's out- and in-degree sequences."""
    y = rng.random(500)
    g = visibility_graph(y, "horizontal", directed=True)
    r = irreversibility(y, n_surrogates=0)
    assert r.kld == pytest.approx(degree_kld(g.out_degrees, g.in_degrees)[0], rel=1e-14)
    assert np.allclose(r.p_out[: g.out_degrees.max() + 1], np.bincount(g.out_degrees) / 500)
    assert math.isnan(r.p_value) and r.surrogate_kld.shape == (0,) and not r.significant
    rn = irreversibility(y, kind="natural", n_surrogates=0)
    gn = visibility_graph(y, "natural", directed=True)
    assert rn.kld == pytest.approx(degree_kld(gn.out_degrees, gn.in_degrees)[0], rel=1e-14)


@pytest.mark.filterwarnings("ignore:irreversibility. .n_surrogates. is 0")
def test_reversal_swaps_in_and_out():
    """Reversing time swaps the in- and out-degree distributions exactly."""
    y = logistic(800)
    fwd = irreversibility(y, n_surrogates=0)
    bwd = irreversibility(y[::-1], n_surrogates=0)
    n = max(fwd.p_out.size, bwd.p_in.size)
    pad = lambda p: np.pad(p, (0, n - p.size))  # noqa: E731
    assert np.array_equal(pad(fwd.p_out), pad(bwd.p_in))
    assert np.array_equal(pad(fwd.p_in), pad(bwd.p_out))


def test_noise_not_significant():
    """Irreversibility of i.i.d. noise is not significant (seeded, 2000 samples, 199 surrogates)."""
    r = irreversibility(np.random.default_rng(11).random(2000), n_surrogates=199, rng=5)
    assert r.p_value > 0.05 and not r.significant
    assert r.kld < 0.02


def test_noise_rejection_rate_is_calibrated():
    """Under the null (noise) p < 0.05 happens about 5% of the time: at most 4 of 20 series.

    P(Binomial(20, 0.05) >= 5) = 0.003, so a correct test fails this rarely; with the fixed
    seeds the outcome is deterministic.
    """
    gen = np.random.default_rng(99)
    rejections = sum(
        irreversibility(gen.random(400), n_surrogates=99, rng=gen).p_value < 0.05 for _ in range(20)
    )
    assert rejections <= 4


def test_logistic_chaos_significant():
    """The logistic map at r = 4 is irreversible: D ~ 0.37 (Lacasa et al. 2012), p = 1/200."""
    r = irreversibility(logistic(2000), n_surrogates=199, rng=0)
    assert r.p_value == pytest.approx(1 / 200)
    assert r.significant
    assert 0.3 < r.kld < 0.45
    assert np.all(r.surrogate_kld < 0.05)


def test_seed_reproducibility(rng):
    """Same seed -> same surrogates and p-value; a Generator is accepted too."""
    y = rng.random(300)
    a = irreversibility(y, n_surrogates=30, rng=3)
    b = irreversibility(y, n_surrogates=30, rng=np.random.default_rng(3))
    assert np.array_equal(a.surrogate_kld, b.surrogate_kld) and a.p_value == b.p_value
    assert a.p_value == (1 + np.sum(a.surrogate_kld >= a.kld)) / 31


def test_constant_series_is_reversible():
    """A constant series (path graph) has equal in- and out-degree histograms: D = 0."""
    r = irreversibility(np.ones(50), n_surrogates=9, rng=0)
    assert r.kld == 0.0 and r.p_value == 1.0


def test_validation():
    """Short, non-finite and badly-parametrized input get our errors."""
    with pytest.raises(InsufficientDataError, match="at least 3 samples"):
        irreversibility([1.0, 2.0])
    with pytest.raises(NonFiniteInputError, match="`series` must contain only finite values"):
        irreversibility([1.0, np.nan, 2.0, 3.0])
    with pytest.raises(ValidationError, match="`n_surrogates` must be >= 0"):
        irreversibility([1.0, 2.0, 3.0], n_surrogates=-1)
    with pytest.raises(UnknownOptionError, match="`kind` must be one of"):
        irreversibility([1.0, 2.0, 3.0], kind="visible")
    with pytest.raises(ValidationError, match="`rng` must be None, an integer seed"):
        irreversibility([1.0, 2.0, 3.0], rng="seed")


@pytest.mark.filterwarnings("ignore:irreversibility. .n_surrogates. is 0")
def test_natural_irreversibility_at_float_limits(rng):
    """Hypothesis: the natural-graph irreversibility of a series scaled to |y| ~ 1e308
    (differences overflow float64) equals that of the series itself (same graph)."""
    y = 2.0 * rng.random(200) - 1.0
    a = irreversibility(y, kind="natural", n_surrogates=0)
    b = irreversibility(y * np.finfo(float).max, kind="natural", n_surrogates=0)
    assert a.kld == b.kld
    np.testing.assert_array_equal(a.p_out, b.p_out)


def test_no_surrogates_warns_that_p_is_undefined(rng):
    """n_surrogates=0 skips the test: p_value is NaN with an UndefinedResultWarning (it
    used to be NaN silently); kld is the same as with surrogates."""
    y = rng.random(300)
    with pytest.warns(UndefinedResultWarning, match=r"`n_surrogates` is 0, so the p-value is undefined"):
        r = irreversibility(y, n_surrogates=0)
    assert math.isnan(r.p_value) and not r.significant and r.surrogate_kld.size == 0
    assert r.kld == irreversibility(y, n_surrogates=5, rng=0).kld
