"""Field cases C13 (missing visibility edges) and C6 (non-finite input) for visibility graphs."""

import numpy as np
import pytest

from graphtraj.exceptions import NonFiniteInputError
from graphtraj.timeseries import (
    degree_tail_fit,
    irreversibility,
    multiplex_visibility,
    visibility_graph,
    windowed_visibility,
)

C13 = [5, 2, 4, 1, 5, 6, 4, 7, 2, 5]


def exact_natural_edges(y):
    """Brute force in exact integer arithmetic: c blocks (a, b) iff it is on or above the segment."""
    n = len(y)
    return {
        (a, b)
        for a in range(n)
        for b in range(a + 1, n)
        if all((y[c] - y[a]) * (b - a) < (y[b] - y[a]) * (c - a) for c in range(a + 1, b))
    }


def exact_horizontal_edges(y):
    n = len(y)
    return {
        (a, b)
        for a in range(n)
        for b in range(a + 1, n)
        if all(y[c] < min(y[a], y[b]) for c in range(a + 1, b))
    }


def test_c13_natural_has_17_edges():
    """C13: the natural graph of 5 2 4 1 5 6 4 7 2 5 has exactly 17 edges, the brute-force set."""
    g = visibility_graph(C13)
    assert g.n_edges == 17
    assert set(map(tuple, g.edges.tolist())) == exact_natural_edges(C13)


def test_c13_horizontal_has_14_edges():
    """C13: its horizontal graph has exactly 14 edges, the brute-force set."""
    g = visibility_graph(C13, kind="horizontal")
    assert g.n_edges == 14
    assert set(map(tuple, g.edges.tolist())) == exact_horizontal_edges(C13)


@pytest.mark.parametrize(
    "ramp",
    [
        [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9],
        np.arange(10) / 10,
        np.arange(10) * 0.1,
        np.linspace(0.0, 0.9, 10),
        np.cumsum(np.full(10, 0.1)) - 0.1,
        np.arange(10),
        np.arange(10)[::-1] * 0.3 + 1e3,
    ],
    ids=["literal", "arange/10", "arange*0.1", "linspace", "cumsum", "0..9", "reversed-shifted"],
)
def test_c13_ramps_give_the_path(ramp):
    """C13: every construction of the ramp 0.0..0.9 and 0..9 gives the same 9-edge path.

    Float rounding makes some of these only nearly collinear; the documented relative
    tolerance decides that the middle points block.
    """
    g = visibility_graph(ramp)
    assert g.edges.tolist() == [[i, i + 1] for i in range(9)]
    assert visibility_graph(ramp, kind="horizontal").n_edges == 9


def test_c13_scaled_and_shifted_series_same_graph():
    """C13: the C13 series rescaled and shifted (any a > 0, b) gives the same 17 edges."""
    y = np.asarray(C13, dtype=float)
    ref = visibility_graph(y).edges
    for a, b in [(0.1, 0.0), (1e-9, 3.0), (7.0, -1e4), (1e8, 1e8)]:
        assert np.array_equal(visibility_graph(a * y + b).edges, ref)


def _c6_series():
    """C6: one NaN in 1000 normal samples."""
    y = np.random.default_rng(6).normal(size=1000)
    y[517] = np.nan
    return y


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf], ids=["nan", "inf", "-inf"])
def test_c6_non_finite_rejected_up_front(bad):
    """C6: NaN or inf anywhere gets NonFiniteInputError naming the parameter, from every function."""
    y = _c6_series()
    y[517] = bad
    with pytest.raises(NonFiniteInputError, match="`series` must contain only finite values"):
        visibility_graph(y)
    with pytest.raises(NonFiniteInputError, match="`series` must contain only finite values"):
        visibility_graph(y, kind="horizontal")
    with pytest.raises(NonFiniteInputError, match="`series` must contain only finite values"):
        irreversibility(y)
    with pytest.raises(NonFiniteInputError, match="`series` must contain only finite values"):
        windowed_visibility(y, 100)
    with pytest.raises(NonFiniteInputError, match="`states` must contain only finite values"):
        multiplex_visibility(np.column_stack([y, y]))
    with pytest.raises(NonFiniteInputError, match="`degrees` must contain only finite values"):
        degree_tail_fit(y)
    with pytest.raises(NonFiniteInputError, match="`times` must contain only finite values"):
        visibility_graph(np.ones(1000), times=y)
