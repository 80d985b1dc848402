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


def _short(value: Any, depth: int = 0) -> str:
    """A one-line summary of a field value: arrays by shape, long containers by length."""
    if isinstance(value, np.ndarray):
        if value.size <= 6:
            return np.array2string(value, precision=4, separator=", ").replace("\n", "")
        return f"<array {value.shape} {value.dtype}>"
    if isinstance(value, Result):
        return f"<{type(value).__name__}>"
    if isinstance(value, dict):
        if depth > 0 or len(value) > 6:
            return f"<dict of {len(value)}>"
        return "{" + ", ".join(f"{k!r}: {_short(v, depth + 1)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)) and len(value) > 6:
        return f"<{type(value).__name__} of {len(value)}>"
    if isinstance(value, float):
        return f"{value:.6g}"
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


class Result:
    """Mixin for frozen result dataclasses: ``as_dict()`` returns plain Python data.

    Subclasses get a short ``repr`` (arrays summarized by shape) instead of the
    dataclass one, which prints every array in full.
    """

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "__repr__" not in cls.__dict__:  # set before @dataclass, which then keeps it
            cls.__repr__ = Result._summary_repr  # type: ignore[method-assign]

    def _summary_repr(self) -> str:
        fields = dataclasses.fields(self) if dataclasses.is_dataclass(self) else ()  # type: ignore[arg-type]
        body = ", ".join(f"{f.name}={_short(getattr(self, f.name))}" for f in fields if f.repr)
        return f"{type(self).__name__}({body})"

    def as_dict(self) -> dict[str, Any]:
        """All fields as JSON-able Python objects (arrays become nested lists)."""
        return {
            f.name: to_builtin(getattr(self, f.name))
            for f in dataclasses.fields(self)  # type: ignore[arg-type]
        }
