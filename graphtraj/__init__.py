"""graphtraj: neural-network training trajectories as time series of graphs.

``import graphtraj`` is light: it imports neither torch nor matplotlib. The
torch-facing subpackages (:mod:`graphtraj.capture`, :mod:`graphtraj.dynamics`) and
plotting load them when used.

Examples
--------
>>> import graphtraj
>>> graphtraj.ParamLayout.for_mlp([4, 10, 3]).size  # the paper's network
83
"""

from __future__ import annotations

import importlib
from typing import Any

from graphtraj.exceptions import GraphTrajError
from graphtraj.trajectory import Ensemble, ParamLayout, Trajectory

__version__ = "0.1.0"

_SUBPACKAGES = (
    "capture", "datasets", "dynamics", "measures", "plotting", "report",
    "snapshots", "studies", "timeseries", "trajectory",
)
_LAZY = {
    "GraphSeries": ("graphtraj.snapshots", "GraphSeries"),
    "open_store": ("graphtraj.trajectory.store", "open_store"),
}

__all__ = [
    "Trajectory", "Ensemble", "ParamLayout", "GraphSeries", "open_store",
    "GraphTrajError", "__version__", *_SUBPACKAGES,
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        module, attr = _LAZY[name]
        value = getattr(importlib.import_module(module), attr)
        globals()[name] = value
        return value
    if name in _SUBPACKAGES:
        return importlib.import_module(f"graphtraj.{name}")
    raise AttributeError(f"module 'graphtraj' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
