"""Root pytest configuration: applies to the test suite and to doctests in graphtraj/."""

import os
import sys

import pytest

os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("GRAPHTRAJ_PROGRESS", "0")
# Small models run fastest single-threaded; with two busy cores torch's default thread
# pool makes them 5-70x slower.
os.environ.setdefault("OMP_NUM_THREADS", "1")


@pytest.fixture(autouse=True)
def _close_figures():
    """Close figures a test or doctest left open (matplotlib only if it was imported)."""
    yield
    plt = sys.modules.get("matplotlib.pyplot")
    if plt is not None:
        plt.close("all")
