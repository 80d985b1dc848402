"""New figures for the plotting functions: constrained layout, so that titles, axis
labels and colour bars stay inside the figure when it is saved with a plain
``fig.savefig(path)`` (no ``bbox_inches="tight"`` needed)."""

from __future__ import annotations

from typing import Any

__all__ = ["axes_for", "subplots"]


def subplots(*args: Any, **kwargs: Any) -> Any:
    """``plt.subplots`` with ``layout="constrained"`` (matplotlib is imported here)."""
    import matplotlib.pyplot as plt

    kwargs.setdefault("layout", "constrained")
    return plt.subplots(*args, **kwargs)


def axes_for(ax: Any, figsize: tuple[float, float]) -> Any:
    """``ax`` when given, else the axes of a new constrained-layout figure."""
    if ax is not None:
        return ax
    _, ax = subplots(figsize=figsize)
    return ax
