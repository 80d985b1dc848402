"""Nonlinear time-series analysis: embedding, divergence exponents, recurrence and RQA,
visibility graphs, Lyapunov exponents from data and the network MLE.

Names load lazily from their submodules.
"""

from graphtraj._lazy import attach

_EXPORTS = {
    # embedding.py
    "delay_embed": "embedding",
    "embedding_span": "embedding",
    # divergence.py (finite-time exponents from perturbation experiments)
    "ftle_from_divergence": "divergence",
    "FTLEResult": "divergence",
}

__getattr__, __dir__, __all__ = attach(__name__, _EXPORTS)
