"""Paper protocols: dynamical and orbital stability, the η sweep, the Iris study.

Names load lazily from their submodules (importing this package does not import
torch).
"""

from graphtraj._lazy import attach

_EXPORTS = {
    # stability.py
    "dynamical_stability": "stability",
    "orbital_stability": "stability",
    "stability_config": "stability",
    "stability_from_ensemble": "stability",
    "train_stability": "stability",
    "StabilityResult": "stability",
    # sweep.py
    "run_sweep": "sweep",
    "sweep_configs": "sweep",
    "SweepResult": "sweep",
    # diagram.py
    "regime_diagram": "diagram",
    "RegimeDiagram": "diagram",
    # classify.py, periodicity.py
    "classify_regime": "classify",
    "loss_converges": "classify",
    "RegimeVerdict": "classify",
    "loss_stretches": "periodicity",
    "LossStretches": "periodicity",
    # iris.py
    "iris_study": "iris",
    "study_settings": "iris",
    "IrisStudy": "iris",
    "StudySettings": "iris",
    # regime.py
    "RegimeRun": "regime",
    # tangent_diagram.py (named apart from the function it exports)
    "tangent_sweep": "tangent_diagram",
    "TangentSweep": "tangent_diagram",
}

__getattr__, __dir__, __all__ = attach(__name__, _EXPORTS)
