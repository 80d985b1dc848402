"""Tests for graphtraj.studies.classify (regime verdicts)."""

import numpy as np
import pytest

from graphtraj.exceptions import ValidationError
from graphtraj.studies import (
    classify_regime,
    loss_converges,
    stability_config,
    stability_from_ensemble,
)

EPS = 1e-8


def _result(synthetic_ensemble, lam, loss, n_inits=4, steps=300):
    """A StabilityResult whose copies diverge as e^{λ t} (λ per init) with given loss curves."""
    t = np.arange(steps + 1)
    lam = np.broadcast_to(np.asarray(lam, float), (n_inits,))
    dist = 35 * EPS * np.exp(lam[:, None, None] * t)[:, [0, 0], :]
    group = 3
    full_loss = np.repeat(np.asarray(loss, float), group, axis=0)
    ens = synthetic_ensemble(dist, full_loss)
    return stability_from_ensemble(ens, stability_config(1.0, n_steps=steps))


def _decaying(n_inits, steps=300, final=0.05):
    t = np.arange(steps + 1)
    return np.tile(1.5 * (final / 1.5) ** (t / steps), (n_inits, 1))


def test_loss_converges_rules():
    """Low and settled → True; stuck at ln 3, rising at the end, or NaN → False."""
    t = np.arange(400)
    assert loss_converges(np.exp(-t / 50), max_final=0.1)
    assert not loss_converges(np.full(400, np.log(3)), max_final=0.82)  # fixed point ln 3
    bumpy = np.exp(-t / 50)
    bumpy[-50] += 0.2  # a late spike larger than 10% of the total drop
    assert not loss_converges(bumpy, max_final=0.1)
    assert not loss_converges(np.r_[np.exp(-t[:-1] / 50), np.nan], max_final=0.1)
    assert not loss_converges(np.linspace(0.01, 0.05, 100), max_final=0.1)  # rising


def test_stable(synthetic_ensemble):
    """No divergence (λ = 0) and a converging loss: converges, stable."""
    v = classify_regime(_result(synthetic_ensemble, 0.0, _decaying(4)))
    assert v.converges and v.converged_fraction == 1.0 and v.stability == "stable"
    assert v.numbers["sensitive"] is False and v.numbers["acceptance_fraction"] == 0.0


def test_edge_of_stability(synthetic_ensemble):
    """Accepted positive exponents and a converging loss: edge of stability."""
    v = classify_regime(_result(synthetic_ensemble, 0.3, _decaying(4)))
    assert v.converges and v.stability == "edge of stability"
    assert v.numbers["ftle_accepted_mean"] == pytest.approx(0.3, abs=1e-9)
    assert "FTLE 0.3/step accepted for 100% of 4" in v.evidence


def test_chaotic_with_exponents(synthetic_ensemble):
    """Accepted exponents and a loss stuck at ln 3: chaotic, does not converge."""
    v = classify_regime(_result(synthetic_ensemble, 0.3, np.full((4, 301), np.log(3))))
    assert not v.converges and v.stability == "chaotic"


def test_chaotic_by_divergence_ratio(synthetic_ensemble):
    """Fast but non-exponential divergence (a jump ×1e6) and no convergence: chaotic."""
    t = np.arange(301)
    d = np.where(t < 150, 35 * EPS, 35 * EPS * 1e6)
    ens = synthetic_ensemble(np.tile(d, (4, 2, 1)), np.full((12, 301), 2.0))
    res = stability_from_ensemble(ens, stability_config(5.0, n_steps=300))
    assert res.acceptance_fraction == 0.0 and res.peak_ratio_median == pytest.approx(1e6)
    v = classify_regime(res)
    assert v.stability == "chaotic" and v.numbers["exponentially_divergent"] is False


def test_majority_rule(synthetic_ensemble):
    """Exponents accepted for 1 of 4 inits (others flat): not exponentially divergent."""
    v = classify_regime(_result(synthetic_ensemble, [0.3, 0, 0, 0], _decaying(4)))
    assert v.numbers["acceptance_fraction"] == 0.25
    assert v.stability == "stable"
    assert classify_regime(_result(synthetic_ensemble, [0.3, 0, 0, 0], _decaying(4)),
                           min_acceptance=0.25).stability == "edge of stability"


def test_separate_loss_curves_and_stretches(synthetic_ensemble, rng):
    """Loss curves from a longer run override result.loss; intermittency is reported."""
    res = _result(synthetic_ensemble, 0.0, _decaying(4))
    x = np.r_[np.tile([1.0, 2.0, 0.5], 40), rng.random(120) + 1, np.tile([1.0, 2.0, 0.5], 40)]
    v = classify_regime(res, loss=np.tile(x, (4, 1)))
    assert not v.converges
    assert v.numbers["intermittent"] is True and v.numbers["n_switches"] == 2
    assert v.numbers["loss_steps"] == x.size - 1


def test_orbital_evidence(synthetic_ensemble):
    """An orbital result adds its peak ratio to the evidence."""
    res = _result(synthetic_ensemble, 0.0, _decaying(4))
    v = classify_regime(res, orbital=res)
    assert "orbital run" in v.evidence and v.numbers["orbital_max_ratio"] == pytest.approx(1.0)


def test_default_loss_threshold_is_three_quarters_of_chance(synthetic_ensemble):
    """Default max_final_loss = 0.75 ln 3 for three classes."""
    v = classify_regime(_result(synthetic_ensemble, 0.0, _decaying(4)))
    assert v.numbers["thresholds"]["max_final_loss"] == pytest.approx(0.75 * np.log(3))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"min_acceptance": 1.5}, "`min_acceptance` must be <= 1.0"),
        ({"max_stable_ratio": 0.5}, "`max_stable_ratio` must be >= 1.0"),
        ({"max_final_loss": 0.0}, "`max_final_loss` must be > 0.0"),
    ],
)
def test_validation(synthetic_ensemble, kwargs, match):
    """Invalid thresholds raise ValidationError."""
    res = _result(synthetic_ensemble, 0.0, _decaying(4))
    with pytest.raises(ValidationError, match=match):
        classify_regime(res, **kwargs)


def test_final_loss_and_accuracy_come_from_the_same_run(synthetic_ensemble):
    """With loss curves of a longer run, final_loss_median and final_accuracy_median are
    both the medians of that run's last values (final_from = "loss run", final_step its
    last step), never the short ensemble's accuracy paired with the long run's loss."""
    res = _result(synthetic_ensemble, 0.0, _decaying(4))
    long_loss = _decaying(4, steps=1000, final=0.02)
    acc = np.tile(np.linspace(0.3, 1.0, 1001), (4, 1))
    acc[:, -1] = [0.9, 0.95, 0.97, 1.0]
    v = classify_regime(res, loss=long_loss, accuracy=acc)
    assert v.numbers["final_loss_median"] == pytest.approx(0.02)
    assert v.numbers["final_accuracy_median"] == pytest.approx(0.96)
    assert v.numbers["final_step"] == 1000 and v.numbers["final_from"] == "loss run"
    assert np.isnan(classify_regime(res, loss=long_loss).numbers["final_accuracy_median"])
    own = classify_regime(res)
    assert own.numbers["final_from"] == "ensemble" and own.numbers["final_step"] == 300
    assert own.numbers["final_accuracy_median"] == pytest.approx(
        float(np.nanmedian(res.accuracy[:, -1])), nan_ok=True)


def test_frozen_runs_are_counted_with_their_plateau(synthetic_ensemble, rng):
    """Oracle: of 4 non-converging loss curves (301 steps), two end constant from steps
    150 and 180 on (at 4.93 and ln 3), one freezes only for its last 50 steps (< 100:
    not counted) and one keeps moving. Converging runs never count."""
    res = _result(synthetic_ensemble, 0.0, _decaying(4))
    moving = 1.5 + rng.random(301)
    curves = np.stack([np.r_[moving[:151], np.full(150, 4.93)], moving,
                       np.r_[moving[:181], np.full(120, np.log(3))],
                       np.r_[moving[:251], np.full(50, 2.0)]])
    v = classify_regime(res, loss=curves)
    assert v.numbers["frozen_runs"] == 2 and v.numbers["frozen_from"] == [151, 181]
    assert v.numbers["frozen_levels"] == pytest.approx([4.93, np.log(3)])
    assert ("2 of 4 loss runs end frozen on a plateau (loss constant to 1e-06 per step from "
            "steps 151–181 on; L = 1.1 (ln 3), 4.93)") in v.evidence
    ok = classify_regime(res)
    assert ok.converges and ok.numbers["frozen_runs"] == 0 and "frozen" not in ok.evidence


def test_no_accepted_ftle_reads_as_words(synthetic_ensemble):
    """Without accepted fits the evidence says so instead of 'FTLE n/a accepted for 0%'."""
    v = classify_regime(_result(synthetic_ensemble, 0.0, _decaying(4)))
    assert "no accepted FTLE fit (0 of 4 initial conditions)" in v.evidence
    assert "n/a accepted" not in v.evidence
