"""Checks of the plotting functions' main inputs, driven by one table.

Each public plotting function draws one kind of graphtraj result. Handed another one
(an ``RQAResult`` where a ``LyapunovResult`` is expected, a ``GraphSeries`` where a
``Trajectory`` is), it would fail deep inside with an ``AttributeError``.
:func:`check_input` raises a :class:`~graphtraj.exceptions.ValidationError` up front
instead, naming the expected type, the functions that return it and, when the object
given is drawn by another plotting function, that function.

The accepted classes are written ``"module.Class"`` and looked up in
:data:`sys.modules`: an object can only be an instance of a class whose module has
been imported, so the check imports nothing (a wrong input does not pull in torch).
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import Any, NamedTuple

import numpy as np

from graphtraj.exceptions import ValidationError

__all__ = ["Expected", "INPUTS", "check_input", "check_mapping"]


class Expected(NamedTuple):
    """The main input of one plotting function.

    Attributes
    ----------
    param : str
        Its parameter name.
    classes : tuple of str
        Accepted classes, as ``"module.Class"``.
    source : str
        The public functions that return them, for the message.
    arrays : bool
        Whether plain arrays (numpy, nested lists, scipy sparse) are accepted too.
    """

    param: str
    classes: tuple[str, ...]
    source: str
    arrays: bool = False


_STABILITY = "graphtraj.studies.stability.StabilityResult"
_TRAJECTORY = "graphtraj.trajectory.core.Trajectory"
_STABILITY_SOURCE = "dynamical_stability, orbital_stability or stability_from_ensemble"

#: The main input of every public plotting function. ``plot_weight_norms`` lists the
#: class of the values of its mapping.
INPUTS: dict[str, Expected] = {
    # training.py
    "plot_loss_curves": Expected("result", (_STABILITY,), _STABILITY_SOURCE),
    "plot_divergence": Expected(
        "result", (_STABILITY, "graphtraj.timeseries.divergence.FTLEResult"),
        "dynamical_stability, orbital_stability, stability_from_ensemble or "
        "ftle_from_divergence"),
    "plot_ftle_vs_lr": Expected(
        "diagram", ("graphtraj.studies.diagram.RegimeDiagram",), "regime_diagram"),
    "plot_weight_norms": Expected(
        "trajectories", (_TRAJECTORY,),
        "Recorder.to_trajectory, Store.read or Ensemble.replica"),
    "plot_network_snapshot": Expected(
        "traj", (_TRAJECTORY,), "Recorder.to_trajectory, Store.read or Ensemble.replica"),
    # visibility.py
    "plot_degree_distribution": Expected(
        "fit_or_graph",
        ("graphtraj.timeseries.visibility_measures.DegreeTailFit",
         "graphtraj.timeseries.visibility.VisibilityGraph"),
        "degree_tail_fit or visibility_graph"),
    "plot_visibility_graph": Expected(
        "graph", ("graphtraj.timeseries.visibility.VisibilityGraph",), "visibility_graph"),
    "plot_windowed_visibility": Expected(
        "windowed", ("graphtraj.timeseries.visibility_measures.WindowedVisibility",),
        "windowed_visibility"),
    # recurrence.py
    "plot_recurrence": Expected(
        "rmat", ("graphtraj.timeseries.recurrence.RecurrenceMatrix",),
        "recurrence_matrix, cross_recurrence_matrix or joint_recurrence_matrix, or a "
        "boolean array", arrays=True),
    "plot_windowed_rqa": Expected(
        "result", ("graphtraj.timeseries.rqa_windowed.WindowedRQAResult",), "windowed_rqa"),
    "plot_rqa_histograms": Expected(
        "result", ("graphtraj.timeseries.rqa_measures.RQAResult",), "rqa"),
    # lyapunov.py
    "plot_lyapunov": Expected(
        "result", ("graphtraj.timeseries.lyapunov.LyapunovResult",),
        "lyapunov_rosenstein, lyapunov_kantz or network_mle"),
    "plot_lag_selection": Expected(
        "result", ("graphtraj.timeseries.embedding_params.LagResult",),
        "lag_by_mutual_information or lag_by_autocorrelation"),
    "plot_dimension_selection": Expected(
        "result", ("graphtraj.timeseries.embedding_params.DimensionResult",),
        "false_nearest_neighbors or cao_embedding"),
    "plot_scaling": Expected(
        "result", ("graphtraj.timeseries.nolds_measures.ScalingResult",),
        "correlation_dimension, hurst_rs or dfa"),
    # graphs.py (plot_distance_matrices takes a mapping of arrays: see check_mapping)
    "plot_spectral_stats": Expected(
        "stats", ("graphtraj.measures.spectral.SpectralStats",), "spectral_stats"),
    "plot_motif_stats": Expected(
        "stats", ("graphtraj.measures.motifs.MotifStats",), "motif_stats"),
    # dynamics.py
    "plot_lyapunov_spectrum": Expected(
        "result", ("graphtraj.dynamics.qr_spectrum.LyapunovSpectrum",), "lyapunov_spectrum"),
    "plot_running_exponents": Expected(
        "result", ("graphtraj.dynamics.qr_spectrum.LyapunovSpectrum",), "lyapunov_spectrum"),
    "plot_sharpness": Expected(
        "track", ("graphtraj.dynamics.curvature.SharpnessTrack",), "sharpness_track"),
    "plot_spectral_density": Expected(
        "density", ("graphtraj.dynamics.slq.SpectralDensity",), "spectral_density"),
}

#: Remedies for inputs that no plotting function draws but are easily passed by mistake.
_HINTS = {
    "graphtraj.trajectory.core.Ensemble":
        "An Ensemble holds many runs: pass one of them, `ensemble.replica(r)`.",
    "graphtraj.snapshots.series.GraphSeries":
        "A GraphSeries is drawn through its statistics: plot_spectral_stats("
        "spectral_stats(series)) or plot_motif_stats(motif_stats(series)).",
}


def _qualname(cls: type) -> str:
    return f"{cls.__module__}.{cls.__name__}"


def _is_instance(value: Any, path: str) -> bool:
    module, _, name = path.rpartition(".")
    cls = getattr(sys.modules.get(module), name, None)
    return isinstance(cls, type) and isinstance(value, cls)


def _is_array(value: Any) -> bool:
    """numpy arrays, nested sequences, scipy sparse matrices and any array-like with
    ``__array__`` (torch tensors, pandas frames, ...)."""
    if isinstance(value, (np.ndarray, list, tuple)) or hasattr(value, "__array__"):
        return True
    sparse = sys.modules.get("scipy.sparse")
    return sparse is not None and bool(sparse.issparse(value))


def _describe(value: Any) -> str:
    if value is None:
        return "None"
    if isinstance(value, np.ndarray):
        return f"ndarray of shape {value.shape}"
    return type(value).__name__


def _remedy(value: Any, func: str, source: str) -> str:
    """The generic remedy, then where the value's type is drawn or what to do with it."""
    for cls in type(value).__mro__:
        path = _qualname(cls)
        if path in _HINTS:
            return f"Pass the result of {source}. {_HINTS[path]}"
        drawers = [f for f, e in INPUTS.items() if path in e.classes and f != func]
        if drawers:
            return (f"Pass the result of {source} ({cls.__name__} is drawn by "
                    f"{' or '.join(drawers)}).")
    return f"Pass the result of {source}."


def _with_article(name: str) -> str:
    """``"a LyapunovResult"``, ``"an RQAResult"`` (an acronym is read letter by letter)."""
    acronym = len(name) > 1 and name[1].isupper()
    vowel = name[0] in "AEIOU" or (acronym and name[0] in "FHLMNRSX")
    return f"{'an' if vowel else 'a'} {name}"


def _names(classes: tuple[str, ...]) -> str:
    return " or ".join(_with_article(c.rpartition(".")[2]) for c in classes)


def check_input(value: Any, func: str, *, param: str | None = None) -> None:
    """Raise :class:`ValidationError` unless ``value`` is what ``func`` draws.

    Parameters
    ----------
    value : object
        The main input of ``func``.
    func : str
        A key of :data:`INPUTS`.
    param : str, optional
        Name to use in the message (default: the table's), e.g. ``"trajectories['a']"``
        for a value of a mapping.

    Raises
    ------
    ValidationError
        "``func`` expects ``param`` to be a ``T`` (from ``source``); got ``U``", plus
        the remedy.

    Examples
    --------
    >>> check_input([[True, False], [False, True]], "plot_recurrence")  # arrays pass
    >>> check_input("DET", "plot_windowed_rqa")
    Traceback (most recent call last):
    ...
    graphtraj.exceptions.ValidationError: plot_windowed_rqa expects `result` to be a WindowedRQAResult (from windowed_rqa); got str. Pass the result of windowed_rqa.
    """
    expected = INPUTS[func]
    if any(_is_instance(value, c) for c in expected.classes):
        return
    if expected.arrays and _is_array(value):
        return
    types = _names(expected.classes) + (" or an array" if expected.arrays else "")
    raise ValidationError(
        f"{func} expects `{param or expected.param}` to be {types} (from "
        f"{expected.source}); got {_describe(value)}. "
        + _remedy(value, func, expected.source)
    )


def check_mapping(value: Any, func: str, param: str, item: str, example: str) -> Mapping[Any, Any]:
    """Return ``value`` if it is a non-empty mapping, else raise :class:`ValidationError`.

    Parameters
    ----------
    value : object
        The main input of ``func``.
    func, param : str
        The plotting function and its parameter, for the message.
    item : str
        What the values are ("trajectory", "matrix").
    example : str
        A literal showing the expected form, e.g. ``"{'run': traj}"``.

    Raises
    ------
    ValidationError
        If ``value`` is not a mapping or is empty.
    """
    if not isinstance(value, Mapping):
        raise ValidationError(
            f"{func} expects `{param}` to be a mapping of label to {item}; got "
            f"{_describe(value)}. Wrap it in a dict, e.g. {example}."
        )
    if not value:
        raise ValidationError(
            f"`{param}` must hold at least one {item}; got none. Pass e.g. {example}."
        )
    return value
