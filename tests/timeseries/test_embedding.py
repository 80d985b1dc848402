"""Delay embedding: hand cases, a naive reference and the too-short boundary."""

import numpy as np
import pytest

from graphtraj.exceptions import InsufficientDataError, ValidationError
from graphtraj.timeseries import delay_embed, embedding_span


def test_hand_case_scalar():
    """Forward delays: vector t is (x[t], x[t+lag], ...)."""
    out = delay_embed(np.arange(7), emb_dim=3, lag=2)
    assert out.tolist() == [[0, 2, 4], [1, 3, 5], [2, 4, 6]]


def test_matches_naive_reference(rng):
    """Random multivariate input equals a double loop over delays and components."""
    x = rng.normal(size=(40, 3))
    m, lag = 4, 3
    out = delay_embed(x, m, lag)
    n = 40 - (m - 1) * lag
    ref = np.empty((n, m * 3))
    for t in range(n):
        for k in range(m):
            ref[t, k * 3 : (k + 1) * 3] = x[t + k * lag]
    np.testing.assert_array_equal(out, ref)
    assert out.flags.c_contiguous


def test_minimum_length_boundary():
    """At exactly the span one vector comes out; one sample less raises with the number."""
    span = embedding_span(10, 5)
    assert span == 46
    assert delay_embed(np.zeros(span), 10, 5).shape == (1, 10)
    with pytest.raises(InsufficientDataError, match="at least 46 samples"):
        delay_embed(np.zeros(span - 1), 10, 5)


def test_bad_parameters():
    """Non-positive dimensions and lags are rejected."""
    with pytest.raises(ValidationError, match="`emb_dim` must be >= 1"):
        delay_embed(np.zeros(5), 0)
    with pytest.raises(ValidationError, match="`lag` must be >= 1"):
        delay_embed(np.zeros(5), 2, 0)
