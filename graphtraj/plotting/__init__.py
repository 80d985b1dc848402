"""Figures. Every function returns a matplotlib Figure or Axes and never shows it.

Matplotlib is imported only when a plotting function is used.
"""

from graphtraj._lazy import attach

_EXPORTS: dict[str, str] = {
}

__getattr__, __dir__, __all__ = attach(__name__, _EXPORTS)
