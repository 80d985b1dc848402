"""The training step as a dynamical system: tangent maps, Lyapunov spectra, curvature.

One training step maps the full state (weights plus optimizer state) to the next one.
This subpackage differentiates that map with :mod:`torch.func` and measures it:

- :func:`training_map` turns a model, a data set and an optimizer (plain GD, SGD replaying
  recorded batches, SGD with momentum, Adam/AdamW) into a :class:`TrainingMap` whose
  tangent map is applied to vectors by automatic differentiation;
  :class:`DifferentiableMap` does the same for any differentiable map (Hénon, ...).
- :func:`lyapunov_spectrum` runs the Benettin/QR algorithm on k tangent vectors, batched
  over many initial conditions, along a fresh or a recorded trajectory.
- :class:`HessianOperator` is a matrix-free Hessian over a data set; :func:`sharpness`
  finds its top eigenvalues (Lanczos or power iteration), :func:`sharpness_track` follows
  them along training and :func:`edge_of_stability` compares them with 2/η;
  :func:`spectral_density` estimates the whole spectrum by stochastic Lanczos quadrature.

Torch is imported when a name is first used, never by ``import graphtraj``.
"""

from graphtraj._lazy import attach

_EXPORTS: dict[str, str] = {
    # objectives.py / mlp_hessian.py: loss, gradient and Hessian-vector products
    "Objective": "objectives",
    "ModuleObjective": "objectives",
    "make_objective": "objectives",
    "MLPObjective": "mlp_hessian",
    # optimizers.py: update rules on (weights, optimizer state)
    "UpdateRule": "optimizers",
    "SGDRule": "optimizers",
    "AdamRule": "optimizers",
    "update_rule": "optimizers",
    # step_maps.py: the training step and generic maps
    "StepMap": "step_maps",
    "TrainingMap": "step_maps",
    "DifferentiableMap": "step_maps",
    "training_map": "step_maps",
    # replay.py: maps rebuilt from stored runs
    "training_map_from_run": "replay",
    # tangent.py: finite-difference check of tangent maps
    "finite_difference_tangent": "tangent",
    # qr_spectrum.py: Benettin/QR Lyapunov spectra
    "lyapunov_spectrum": "qr_spectrum",
    "LyapunovSpectrum": "qr_spectrum",
    # hessian.py: matrix-free Hessian over a data set
    "HessianOperator": "hessian",
    # curvature.py / edge.py: top eigenvalues, tracking, edge of stability
    "sharpness": "curvature",
    "SharpnessResult": "curvature",
    "sharpness_track": "curvature",
    "SharpnessTrack": "curvature",
    "edge_of_stability": "edge",
    "EdgeOfStability": "edge",
    "stability_threshold": "edge",
    # slq.py: stochastic Lanczos quadrature
    "lanczos_quadrature": "slq",
    "LanczosQuadrature": "slq",
    "spectral_density": "slq",
    "SpectralDensity": "slq",
}

__getattr__, __dir__, __all__ = attach(__name__, _EXPORTS)
