"""Data sets: Iris (shipped with the package) and synthetic systems with known answers.

Names load lazily from their submodules.
"""

from graphtraj._lazy import attach

_EXPORTS: dict[str, str] = {
}

__getattr__, __dir__, __all__ = attach(__name__, _EXPORTS)
