"""Strict JSON for ``summary.json``: NaN and infinities become ``null``."""

from __future__ import annotations

import json
import math
import os
from typing import Any

from graphtraj._result import to_builtin

__all__ = ["json_safe", "write_json"]


def json_safe(value: Any) -> Any:
    """Convert results to strict-JSON Python data: non-finite floats become None.

    numpy scalars and arrays, tuples, dataclasses with ``as_dict`` and nested
    containers are converted as by :func:`graphtraj._result.to_builtin`.

    Examples
    --------
    >>> import numpy as np
    >>> json_safe({"a": np.array([1.0, np.nan]), "b": (np.float64(np.inf), 2)})
    {'a': [1.0, None], 'b': [None, 2]}
    """
    value = to_builtin(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    return value


def write_json(path: str | os.PathLike, data: Any) -> None:
    """Write ``data`` as indented strict JSON (NaN → null) to ``path``."""
    text = json.dumps(json_safe(data), indent=2, allow_nan=False, sort_keys=False)
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(text + "\n")
