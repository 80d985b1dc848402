"""Capture training trajectories from PyTorch: a `Recorder` for your own loop,
`train_ensemble` for batched replicas of the MLP family, perturbations and the
paper's network.

Names load lazily from their submodules (importing this package does not import torch).
"""

from graphtraj._lazy import attach

_EXPORTS = {
    "Recorder": "recorder",
    "IndexSampler": "recorder",
    "train_ensemble": "ensemble",
    "OBSERVABLES": "ensemble",
    "paper_mlp": "models",
    "MLP": "models",
    "mlp_from_spec": "models",
    "mlp_loss": "models",
    "init_states": "models",
    "perturb_states": "perturbation",
    "model_from_metadata": "replay",
    "batched_mlp_outputs": "functional",
    "batched_mlp_loss": "functional",
}

__getattr__, __dir__, __all__ = attach(__name__, _EXPORTS)
