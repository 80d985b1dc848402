"""Data references: rebuild a training set from the JSON description stored with a run.

A stored run names its data instead of copying it: ``{"name": "iris", ...}`` for a data
set shipped with graphtraj, ``{"path": "/abs/file.npz"}`` for the user's own arrays.
:func:`data_ref` writes such a reference and :func:`load_data` reads it back, so a run
can be replayed without pickle.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from graphtraj._checks import as_float_array, check_option
from graphtraj.exceptions import NotReplayableError, ValidationError

__all__ = ["load_data", "data_ref", "BUILTIN_DATASETS"]


def _iris(**options: Any) -> tuple[np.ndarray, np.ndarray]:
    from graphtraj.datasets.iris import load_iris

    return load_iris(**options)


#: Built-in data sets: name -> (loader, the options it accepts).
BUILTIN_DATASETS: dict[str, tuple[Callable[..., tuple[np.ndarray, np.ndarray]], tuple[str, ...]]] = {
    "iris": (_iris, ("split", "standardize", "seed", "test_size")),
}


def _check_options(name: str, options: Mapping[str, Any]) -> dict[str, Any]:
    allowed = BUILTIN_DATASETS[name][1]
    unknown = sorted(set(options) - set(allowed), key=repr)
    if unknown:
        raise ValidationError(
            f"options of data set {name!r} must be among {', '.join(allowed)}; "
            f"got unknown {', '.join(map(repr, unknown))}"
        )
    return dict(options)


def data_ref(name: str | None = None, *, path: str | os.PathLike | None = None, **options: Any) -> dict[str, Any]:
    """A JSON-able reference to a training set, for run metadata.

    Give either the ``name`` of a built-in data set (with its loader's options) or the
    ``path`` of an ``.npz`` file holding arrays ``X`` and ``y``.

    Parameters
    ----------
    name : str, optional
        A built-in data set: ``"iris"`` (options ``split``, ``standardize``, ``seed``,
        ``test_size`` of :func:`~graphtraj.datasets.iris.load_iris`).
    path : str or path-like, optional
        An ``.npz`` file with arrays ``X`` (n, d) and ``y`` (n,) or (n, k), e.g.
        written by ``numpy.savez(path, X=X, y=y)``. Stored as an absolute path.
    **options
        Options of the built-in loader. They are validated by loading the data once.

    Returns
    -------
    dict
        ``{"name": name, **options}`` or ``{"path": absolute_path}``.

    Raises
    ------
    ValidationError
        If neither or both of ``name`` and ``path`` are given, options are given
        with ``path``, an option is unknown or invalid, or the file is unusable.
    UnknownOptionError
        If ``name`` is not a built-in data set.

    Notes
    -----
    The reference is checked by calling :func:`load_data` on it, so a reference that
    :func:`data_ref` returns always loads (as long as a referenced file stays in
    place). Cost: one load of the data.

    Examples
    --------
    >>> ref = data_ref("iris", split="train", seed=0)
    >>> ref
    {'name': 'iris', 'split': 'train', 'seed': 0}
    >>> X, y = load_data(ref)
    >>> X.shape
    (120, 4)
    """
    if (name is None) == (path is None):
        raise ValidationError(
            "give exactly one of `name` (a built-in data set) and `path` (an .npz file); "
            f"got name={name!r}, path={path!r}"
        )
    if path is not None:
        if options:
            raise ValidationError(
                f"options must not be given with `path`; got {', '.join(sorted(options))}"
            )
        ref: dict[str, Any] = {"path": os.path.abspath(os.fspath(path))}
    else:
        name = check_option(name, "name", tuple(BUILTIN_DATASETS))
        ref = {"name": name, **_check_options(name, options)}
    load_data(ref)
    return ref


def _load_npz(path: Any) -> tuple[np.ndarray, np.ndarray]:
    if not isinstance(path, (str, os.PathLike)):
        raise ValidationError(f"`ref['path']` must be a file path; got {path!r}")
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise ValidationError(
            f"`ref['path']` must name an existing .npz file; got {path!r} (not found). "
            "A run that references user data can only be replayed where that file exists."
        )
    try:
        loaded = np.load(path, allow_pickle=False)
        if not isinstance(loaded, np.lib.npyio.NpzFile):  # a .npy file: one bare array
            raise ValidationError(
                f"`ref['path']` must be a NumPy .npz archive with arrays 'X' and 'y'; "
                f"{path!r} holds a single array (a .npy file). Write it with "
                "numpy.savez(path, X=X, y=y)."
            )
        with loaded as data:
            missing = [k for k in ("X", "y") if k not in data.files]
            if missing:
                raise ValidationError(
                    f"the .npz file {path!r} must hold arrays 'X' and 'y'; missing "
                    f"{', '.join(missing)} (it has {', '.join(data.files) or 'nothing'})"
                )
            X_raw, y_raw = data["X"], data["y"]
    except ValidationError:
        raise
    except (OSError, ValueError) as exc:
        raise ValidationError(
            f"`ref['path']` must be a NumPy .npz file readable without pickle; could not "
            f"read {path!r}: {exc}"
        ) from None
    X = as_float_array(X_raw, "X", 2)
    if y_raw.dtype.kind in "iub":
        y = np.asarray(y_raw, dtype=np.int64)
        if y.ndim != 1:
            raise ValidationError(f"integer labels `y` must be 1-D; got shape {y.shape}")
        if y.size and y.min() < 0:
            raise ValidationError(
                f"class labels `y` must be >= 0; got {int(y.min())}. Map the classes to "
                "0, 1, ..., K - 1 (or store float targets for regression)."
            )
    else:
        y = as_float_array(y_raw, "y", (1, 2))
    if y.shape[0] != X.shape[0]:
        raise ValidationError(
            f"`X` and `y` must have the same number of samples; got {X.shape[0]} and {y.shape[0]}"
        )
    return X, y


def load_data(ref: Mapping[str, Any] | None) -> tuple[np.ndarray, np.ndarray]:
    """Rebuild the training data ``(X, y)`` from a data reference.

    Parameters
    ----------
    ref : dict
        ``{"name": "iris", "split": ..., "seed": ..., "standardize": ...,
        "test_size": ...}`` (options optional, defaults of
        :func:`~graphtraj.datasets.iris.load_iris`) or ``{"path": "file.npz"}``.

    Returns
    -------
    X : ndarray of float64, shape (n, d)
    y : ndarray, shape (n,) int64 (class labels) or (n,)/(n, k) float64 (targets)

    Raises
    ------
    NotReplayableError
        If ``ref`` is None (the run recorded no data reference).
    ValidationError
        If ``ref`` is not a mapping with exactly one of ``"name"`` and ``"path"``,
        an option is unknown or invalid, or the file is missing or malformed
        (no pickle is ever used to read it).
    UnknownOptionError
        If the name is not a built-in data set.

    Notes
    -----
    Integer (or boolean) ``y`` in a file is returned as int64 class labels (which
    must be >= 0); float ``y`` as float64 regression targets. Non-finite values in ``X`` or float ``y``
    raise :class:`~graphtraj.exceptions.NonFiniteInputError`.

    Examples
    --------
    >>> X, y = load_data({"name": "iris", "split": "test"})
    >>> X.shape, sorted(set(y.tolist()))
    ((30, 4), [0, 1, 2])
    """
    if ref is None:
        raise NotReplayableError(
            "the run recorded no data reference (metadata['data'] is null), so its data "
            "cannot be rebuilt; record runs with a data reference (see "
            "graphtraj.datasets.data_ref)"
        )
    if not isinstance(ref, Mapping):
        raise ValidationError(f"`ref` must be a dict; got {type(ref).__name__}")
    if ("name" in ref) == ("path" in ref) and not all(isinstance(k, str) for k in ref):
        raise ValidationError(
            f"`ref` keys must be strings ('name' or 'path' and options); got "
            f"{[k for k in ref if not isinstance(k, str)][:3]}"
        )
    if ("name" in ref) == ("path" in ref):
        raise ValidationError(
            "`ref` must have exactly one of the keys 'name' (a built-in data set) and "
            f"'path' (an .npz file); got keys {sorted(ref)}"
        )
    if "path" in ref:
        extra = sorted(set(ref) - {"path"}, key=repr)
        if extra:
            raise ValidationError(f"a path reference takes no options; got {extra}")
        return _load_npz(ref["path"])
    name = check_option(ref["name"], "ref['name']", tuple(BUILTIN_DATASETS))
    options = _check_options(name, {k: v for k, v in ref.items() if k != "name"})
    return BUILTIN_DATASETS[name][0](**options)
