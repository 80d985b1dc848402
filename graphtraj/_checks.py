"""Input validation at graphtraj's public boundary.

Private kernels trust their input; public functions call these helpers once. Every
failure raises from :mod:`graphtraj.exceptions` with the message shape
``"<param> must be <constraint>; got <value>"`` plus a remedy.
"""

from __future__ import annotations

import numbers
from collections.abc import Iterable
from typing import Any

import numpy as np

from graphtraj.exceptions import (
    InsufficientDataError,
    NonFiniteInputError,
    UnknownOptionError,
    ValidationError,
)


def _describe(value: Any) -> str:
    if isinstance(value, np.ndarray):
        return f"array of shape {value.shape} and dtype {value.dtype}"
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


#: What to pass instead of a graphtraj container where numbers are expected.
_CONTAINER_HINTS = {
    "Trajectory": "pass one of its series (e.g. `traj.loss`) or its states "
                  "(`np.asarray(traj.states)`)",
    "Ensemble": "take one replica (`ens.replica(r)`) or one observable "
                "(e.g. `ens.observables['loss'][r]`)",
    "GraphSeries": "pass its weight vectors (`gs.vectors()`), or use a function that "
                   "takes a GraphSeries",
}


def _object_hint(value: Any) -> str:
    """``a Trajectory; pass ...`` for graphtraj containers, else the type's name."""
    kind = type(value).__name__
    hint = _CONTAINER_HINTS.get(kind) if type(value).__module__.startswith("graphtraj") else None
    article = "an" if kind[:1].lower() in "aeiou" else "a"
    if hint is None:
        return f"{article} {kind} object"
    return f"{article} {kind}; {hint}"


def check_finite(arr: np.ndarray, name: str) -> np.ndarray:
    """Raise :class:`NonFiniteInputError` if ``arr`` has NaN or inf entries."""
    if arr.dtype.kind in "fc" and not np.all(np.isfinite(arr)):
        bad = np.flatnonzero(~np.isfinite(arr.reshape(-1)))
        n_nan = int(np.isnan(arr).sum())
        raise NonFiniteInputError(
            f"`{name}` must contain only finite values; got {bad.size} non-finite "
            f"entr{'y' if bad.size == 1 else 'ies'} ({n_nan} NaN), the first at flat index {int(bad[0])}. "
            "Remove or interpolate them first (diverged training runs are marked "
            "in `Ensemble.diverged_at`; analyse the finite part)."
        )
    return arr


#: Largest magnitude for which squared differences of points stay finite in float64.
MAX_POINT_MAGNITUDE = 1e150


def check_magnitude(arr: np.ndarray, name: str) -> np.ndarray:
    """Raise :class:`ValidationError` if distances between points of ``arr`` would overflow.

    Euclidean distances square the coordinate differences, which overflow float64 once
    values exceed about 1e154; the estimators that use them are invariant to rescaling,
    so the remedy is to divide the data by its scale.
    """
    if arr.size and arr.dtype.kind == "f":
        peak = float(np.max(np.abs(arr)))
        if peak > MAX_POINT_MAGNITUDE:
            raise ValidationError(
                f"`{name}` must have magnitudes below {MAX_POINT_MAGNITUDE:.0e} (squared "
                f"distances overflow float64 beyond ~1e154); got values up to {peak:.3g}. "
                f"Divide `{name}` by its scale first (e.g. by np.abs(x).max())."
            )
    return arr


def scaled_std(x: np.ndarray) -> float:
    """Sample standard deviation (ddof 1) that neither overflows nor underflows.

    ``np.std`` squares the deviations, which overflows for |x| beyond ~1e154 and
    underflows below ~1e-154; then the data are divided by their largest magnitude first.
    """
    with np.errstate(over="ignore", under="ignore"):
        sd = float(np.std(x, ddof=1))
    if not 0 < sd < np.inf:
        scale = float(np.abs(x).max())
        sd = scale * float(np.std(x / scale, ddof=1)) if scale > 0 else 0.0
    return sd


def as_float_array(
    x: Any,
    name: str,
    ndim: int | tuple[int, ...] | None = None,
    *,
    finite: bool = True,
    min_len: int = 1,
) -> np.ndarray:
    """Convert ``x`` to a float64 array, checking dimension, length and finiteness.

    Integer and boolean input is cast to float64. Complex input is rejected.
    """
    if type(x).__name__ in _CONTAINER_HINTS and type(x).__module__.startswith("graphtraj"):
        raise ValidationError(f"`{name}` must hold real numbers; got {_object_hint(x)}")
    try:
        arr = np.asarray(x)
    except Exception as exc:  # ragged sequences and the like
        raise ValidationError(
            f"`{name}` must be array-like of numbers; got {_describe(x)} ({exc})"
        ) from None
    if arr.dtype.kind == "O" and all(isinstance(v, numbers.Real) for v in arr.flat):
        arr = arr.astype(np.float64)  # e.g. a list mixing Python and numpy scalars
    if arr.dtype.kind not in "biuf":
        got = _describe(arr) if arr.dtype.kind != "O" or arr.ndim else _object_hint(x)
        raise ValidationError(f"`{name}` must hold real numbers; got {got}")
    arr = np.asarray(arr, dtype=np.float64)
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if arr.ndim not in allowed:
            want = " or ".join(f"{d}-D" for d in allowed)
            raise ValidationError(
                f"`{name}` must be {want}; got an array of shape {arr.shape}"
            )
    if arr.ndim >= 1 and arr.shape[0] < min_len:
        raise InsufficientDataError(
            f"`{name}` must have at least {min_len} sample{'s' if min_len != 1 else ''} along axis 0; "
            f"got {arr.shape[0]}"
        )
    if arr.size == 0 and min_len > 0:
        raise InsufficientDataError(f"`{name}` must not be empty; got {_describe(arr)}")
    if finite:
        check_finite(arr, name)
    return arr


def as_series(x: Any, name: str = "series", *, min_len: int = 1) -> np.ndarray:
    """A finite float64 1-D series of at least ``min_len`` samples."""
    return as_float_array(x, name, 1, min_len=min_len)


def as_states(x: Any, name: str = "states", *, min_len: int = 1) -> np.ndarray:
    """A finite float64 (T, P) array; a 1-D series becomes (T, 1)."""
    arr = as_float_array(x, name, (1, 2), min_len=min_len)
    return arr[:, None] if arr.ndim == 1 else arr


def check_int(
    value: Any, name: str, *, minimum: int | None = None, maximum: int | None = None
) -> int:
    """An integer (not bool) within ``[minimum, maximum]``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValidationError(f"`{name}` must be an integer; got {_describe(value)}")
    value = int(value)
    if minimum is not None and value < minimum:
        raise ValidationError(f"`{name}` must be >= {minimum}; got {value}")
    if maximum is not None and value > maximum:
        raise ValidationError(f"`{name}` must be <= {maximum}; got {value}")
    return value


def check_real(
    value: Any,
    name: str,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    strict_min: bool = False,
) -> float:
    """A finite real number within bounds (``strict_min`` makes the lower bound open)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValidationError(f"`{name}` must be a real number; got {_describe(value)}")
    value = float(value)
    if not np.isfinite(value):
        raise ValidationError(f"`{name}` must be finite; got {value}")
    if minimum is not None:
        if strict_min and value <= minimum:
            raise ValidationError(f"`{name}` must be > {minimum}; got {value}")
        if not strict_min and value < minimum:
            raise ValidationError(f"`{name}` must be >= {minimum}; got {value}")
    if maximum is not None and value > maximum:
        raise ValidationError(f"`{name}` must be <= {maximum}; got {value}")
    return value


def check_option(value: Any, name: str, options: Iterable[str]) -> str:
    """One of the documented string ``options``; the error lists them all."""
    options = tuple(options)
    if not isinstance(value, str) or value not in options:
        raise UnknownOptionError(
            f"`{name}` must be one of {', '.join(repr(o) for o in options)}; "
            f"got {_describe(value)}"
        )
    return value


def require_length(n: int, minimum: int, name: str, how: str) -> None:
    """Raise :class:`InsufficientDataError` when ``n < minimum``.

    ``how`` explains how ``minimum`` was computed, e.g.
    ``"(emb_dim - 1) * lag + 1 = 46 for the embedding, plus ..."``.
    """
    if n < minimum:
        raise InsufficientDataError(
            f"`{name}` must have at least {minimum} samples for these parameters; "
            f"got {n}. The minimum is {how}. Use a longer series or smaller parameters."
        )


def as_rng(rng: Any) -> np.random.Generator:
    """A :class:`numpy.random.Generator` from a seed, a Generator or None."""
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None or (isinstance(rng, numbers.Integral) and not isinstance(rng, bool)):
        return np.random.default_rng(rng)
    if isinstance(rng, np.random.SeedSequence):
        return np.random.default_rng(rng)
    raise ValidationError(
        f"`rng` must be None, an integer seed or a numpy.random.Generator; "
        f"got {_describe(rng)}"
    )
