"""Root pytest configuration: applies to the test suite and to doctests in graphtraj/."""

import os

os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("GRAPHTRAJ_PROGRESS", "0")
