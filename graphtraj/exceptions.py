"""The exception and warning tree of graphtraj.

Every error raised on purpose by graphtraj derives from :class:`GraphTrajError` and
also from the built-in exception it refines, so ``except ValueError`` keeps working.

Messages follow one shape: ``"<param> must be <constraint>; got <value>"`` followed by
the remedy (the minimum length and how it was computed, the list of valid options, ...).

Examples
--------
>>> from graphtraj.exceptions import InsufficientDataError
>>> issubclass(InsufficientDataError, ValueError)
True
"""

from __future__ import annotations

__all__ = [
    "GraphTrajError",
    "ValidationError",
    "InsufficientDataError",
    "NonFiniteInputError",
    "UnknownOptionError",
    "StoreError",
    "StoreFormatError",
    "RunNotFoundError",
    "IncompleteRunError",
    "NotReplayableError",
    "UnsupportedModelError",
    "ConvergenceError",
    "GraphTrajWarning",
    "UndefinedResultWarning",
    "UnreliableResultWarning",
    "ConvergenceWarning",
]


class GraphTrajError(Exception):
    """Base class of every error graphtraj raises on purpose."""


class ValidationError(GraphTrajError, ValueError):
    """An argument has the wrong type, shape, range or value."""


class InsufficientDataError(ValidationError):
    """A series is too short (or has too few points) for the requested parameters.

    The message states the minimum and how it was computed.
    """


class NonFiniteInputError(ValidationError):
    """The input contains NaN or infinite values."""


class UnknownOptionError(ValidationError):
    """A string option is not one of the documented choices; the message lists them."""


class StoreError(GraphTrajError, OSError):
    """A trajectory store cannot be opened, read or written."""


class StoreFormatError(StoreError):
    """A store or run has a foreign or unsupported format version, or is corrupt."""


class RunNotFoundError(StoreError, KeyError):
    """The named run is not in the store."""

    def __str__(self) -> str:  # KeyError would otherwise quote the message
        return str(self.args[0]) if self.args else ""


class IncompleteRunError(StoreError):
    """A run was interrupted while being written and cannot be read."""


class NotReplayableError(GraphTrajError, RuntimeError):
    """A stored run lacks what is needed to rebuild and replay its training."""


class UnsupportedModelError(GraphTrajError, NotImplementedError):
    """The model, optimizer or loss is not supported by the requested computation."""


class ConvergenceError(GraphTrajError, RuntimeError):
    """An iterative solver failed to converge and no fallback was possible."""


class GraphTrajWarning(UserWarning):
    """Base class of graphtraj's warnings."""


class UndefinedResultWarning(GraphTrajWarning, RuntimeWarning):
    """A quantity is undefined for this (valid) input; NaN is returned."""


class UnreliableResultWarning(GraphTrajWarning, RuntimeWarning):
    """A result was computed but is unreliable (fallback used, poor fit, ...)."""


class ConvergenceWarning(GraphTrajWarning, RuntimeWarning):
    """An iterative method stopped before meeting its tolerance."""
