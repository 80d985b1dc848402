"""Graph snapshots: training states (or any adjacency sequence) as a series of graphs.

Names load lazily from their submodules.
"""

from graphtraj._lazy import attach

_EXPORTS = {
    "GraphSeries": "series",
    "mlp_sizes": "series",
}

__getattr__, __dir__, __all__ = attach(__name__, _EXPORTS)
