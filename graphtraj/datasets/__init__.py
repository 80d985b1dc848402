"""Data sets: Iris (shipped with the package) and synthetic systems with known answers.

Names load lazily from their submodules.
"""

from graphtraj._lazy import attach

_EXPORTS: dict[str, str] = {
    # iris.py, registry.py (H2)
    "load_iris": "iris",
    "load_data": "registry",
    "data_ref": "registry",
    # systems.py (H2)
    "logistic_map": "systems",
    "tent_map": "systems",
    "henon_map": "systems",
    "lorenz": "systems",
    "quadratic_gd": "systems",
    # networks.py (H7): synthetic temporal networks with known nMLE
    "logistic_network": "networks",
    "independent_logistic_network": "networks",
    "periodic_network": "networks",
    "random_graph_series": "networks",
}

__getattr__, __dir__, __all__ = attach(__name__, _EXPORTS)
