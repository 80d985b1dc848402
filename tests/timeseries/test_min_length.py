"""Tests of the minimum-length helpers (graphtraj.timeseries.min_length)."""

import pytest

from graphtraj.exceptions import UnknownOptionError, ValidationError
from graphtraj.timeseries import min_length as ml


def test_rosenstein_equals_nolds_lyap_r_len(crosscheck):
    """min_length_rosenstein equals nolds.lyap_r_len with min_tsep = theiler - 1."""
    nolds = crosscheck("nolds")
    for emb_dim, lag, tl, w in [(10, 5, 20, 11), (1, 1, 2, 1), (3, 7, 50, 4)]:
        want = nolds.lyap_r_len(emb_dim=emb_dim, lag=lag, trajectory_len=tl, min_tsep=w - 1)
        assert ml.min_length_rosenstein(emb_dim, lag, tl, w) == want


def test_eckmann_equals_nolds_lyap_e_len(crosscheck):
    """min_length_lyapunov_eckmann equals nolds.lyap_e_len."""
    nolds = crosscheck("nolds")
    for emb_dim, md, nb, w in [(10, 4, 8, 1), (7, 3, 5, 4)]:
        want = nolds.lyap_e_len(emb_dim=emb_dim, matrix_dim=md, min_nb=nb, min_tsep=w - 1)
        assert ml.min_length_lyapunov_eckmann(emb_dim, md, nb, w) == want


def test_formulas_by_hand():
    """Hand-computed minimum lengths of each rule."""
    assert ml.min_length_rosenstein(10, 5, 20, 11) == 45 + 19 + 22
    assert ml.min_length_kantz(2, 3, 10, 4, n_neighbors=5) == 3 + 9 + 7 + 5
    assert ml.min_length_network_mle(20, 5, n_neighbors=10) == 19 + 9 + 10
    assert ml.min_length_network_mle(20, 5, mode="two") == 2
    assert ml.min_length_correlation_sum(5, 2, 3) == 9 + 3
    assert ml.min_length_sample_entropy(2, 3) == 8
    assert ml.min_length_false_nearest_neighbors(6, 2, 3) == 18
    assert ml.min_length_cao(6, 2, 3) == 20
    assert ml.min_length_lag_search(7) == 9
    assert ml.min_length_hurst_rs() == 10 and ml.min_length_hurst_rs([4, 9]) == 9
    assert ml.min_length_dfa() == 11 and ml.min_length_dfa([4, 9]) == 10


def test_explain_states_number_and_formula():
    """explain() gives the formula with the numbers, ending in the minimum."""
    text = ml.explain("rosenstein", emb_dim=10, lag=5, trajectory_len=20, theiler=11)
    assert "= 86" in text and "trajectory_len" in text and "Theiler" in text
    assert "n_neighbors" in ml.explain("kantz", emb_dim=1, lag=1, trajectory_len=5,
                                       theiler=1, n_neighbors=3)


def test_invalid_parameters():
    """Unknown estimators and invalid parameters raise our errors."""
    with pytest.raises(UnknownOptionError, match="`estimator` must be one of"):
        ml.explain("tisean")
    with pytest.raises(ValidationError, match="`theiler` must be >= 1"):
        ml.min_length_rosenstein(2, 1, 10, 0)
    with pytest.raises(ValidationError, match="divisible"):
        ml.min_length_lyapunov_eckmann(10, 3)
    with pytest.raises(UnknownOptionError, match="`mode` must be one of"):
        ml.min_length_network_mle(10, 1, mode="three")
