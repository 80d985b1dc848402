"""The common base of graphtraj's frozen result dataclasses."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np


def to_builtin(value: Any) -> Any:
    """Convert numpy scalars/arrays and nested containers to JSON-able Python objects.

    Non-finite floats are kept as ``float('nan')``/``inf``; JSON writers in graphtraj
    turn them into ``null``.
    """
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        if hasattr(value, "as_dict"):
            return value.as_dict()
        return {f.name: to_builtin(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, dict):
        return {str(k): to_builtin(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_builtin(v) for v in value]
    return value


class Result:
    """Mixin for frozen result dataclasses: ``as_dict()`` returns plain Python data."""

    def as_dict(self) -> dict[str, Any]:
        """All fields as JSON-able Python objects (arrays become nested lists)."""
        return {
            f.name: to_builtin(getattr(self, f.name))
            for f in dataclasses.fields(self)  # type: ignore[arg-type]
        }
