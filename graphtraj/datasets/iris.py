"""Fisher's Iris data (corrected 150-sample version), shipped with graphtraj.

The file ``graphtraj/datasets/data/iris.csv`` and its provenance
(``graphtraj/datasets/data/PROVENANCE.md``) are part of the package; nothing is
downloaded.
"""

from __future__ import annotations

import csv
from functools import lru_cache
from importlib import resources

import numpy as np

from graphtraj._checks import check_int, check_option
from graphtraj.exceptions import ValidationError

__all__ = ["load_iris", "FEATURE_NAMES", "TARGET_NAMES", "N_SAMPLES"]

#: Column names of ``X`` (all in centimetres).
FEATURE_NAMES = ("sepal_length_cm", "sepal_width_cm", "petal_length_cm", "petal_width_cm")
#: Species of the class codes 0, 1, 2 of ``y``.
TARGET_NAMES = ("setosa", "versicolor", "virginica")
#: Number of samples in the data set (50 per class).
N_SAMPLES = 150

_SPLITS = ("train", "test", "all")


@lru_cache(maxsize=1)
def _read_file() -> tuple[np.ndarray, np.ndarray]:
    """The full data set in file order (cached; callers receive copies)."""
    text = resources.files("graphtraj.datasets").joinpath("data/iris.csv").read_text("utf-8")
    rows = list(csv.reader(text.splitlines()))
    header, body = rows[0], rows[1:]
    if tuple(header) != (*FEATURE_NAMES, "species") or len(body) != N_SAMPLES:
        raise ValidationError(  # pragma: no cover - guards a damaged installation
            "the shipped file graphtraj/datasets/data/iris.csv is damaged; reinstall graphtraj"
        )
    X = np.array([[float(v) for v in r[:4]] for r in body], dtype=np.float64)
    y = np.array([TARGET_NAMES.index(r[4]) for r in body], dtype=np.int64)
    X.setflags(write=False)
    y.setflags(write=False)
    return X, y


def _test_indices(seed: int, test_size: int) -> np.ndarray:
    """Sorted file positions of the test split (``test_size // 3`` per class)."""
    _, y = _read_file()
    rng = np.random.default_rng(seed)
    per_class = test_size // len(TARGET_NAMES)
    picked = [rng.permutation(np.flatnonzero(y == c))[:per_class] for c in range(len(TARGET_NAMES))]
    return np.sort(np.concatenate(picked))


def load_iris(
    *,
    split: str = "train",
    standardize: bool = False,
    seed: int = 0,
    test_size: int = 30,
) -> tuple[np.ndarray, np.ndarray]:
    """Fisher's Iris data: 150 flowers, 4 measurements, 3 species.

    Loads the corrected 150-sample version shipped in the package (the file
    distributed with scikit-learn, identical to Fisher's 1936 table and to R's
    ``iris``; it fixes samples 35 and 38 of the UCI file — see
    ``graphtraj/datasets/data/PROVENANCE.md``) and returns a seeded, stratified
    train/test split: ``test_size / 3`` flowers of each species form the test split,
    the rest the training split (120/30 by default).

    Parameters
    ----------
    split : {"train", "test", "all"}, default "train"
        Which samples to return. ``"all"`` returns the 150 samples in file order.
    standardize : bool, default False
        If True, subtract the mean and divide by the standard deviation (``ddof=0``)
        of each feature **computed on the training split** (of this ``seed`` and
        ``test_size``), whichever split is returned, so no test information leaks
        into the scaling. The default keeps the raw centimetres (the choice of
        Danovski et al. 2024).
    seed : int, default 0
        Seed of the split (a non-negative integer, so that a data reference stays
        JSON-able and reproducible).
    test_size : int, default 30
        Size of the test split; a multiple of 3 between 3 and 147 so that every
        species contributes exactly ``test_size // 3`` samples.

    Returns
    -------
    X : ndarray of float64, shape (n, 4)
        Sepal length, sepal width, petal length, petal width (cm, or standardized).
        Columns are named in :data:`FEATURE_NAMES`.
    y : ndarray of int64, shape (n,)
        Species codes 0, 1, 2 (:data:`TARGET_NAMES`: setosa, versicolor, virginica).

    Raises
    ------
    UnknownOptionError
        If ``split`` is not one of the three options.
    ValidationError
        If ``seed`` is not a non-negative integer, ``test_size`` is not a multiple of
        3 in [3, 147], or ``standardize`` is not a bool.

    Notes
    -----
    The split is, exactly: ``rng = numpy.random.default_rng(seed)``; for species
    0, 1, 2 in turn, ``rng.permutation`` of that species' file positions, whose first
    ``test_size // 3`` entries go to the test split. Both splits are returned in file
    order (so classes come in blocks). The same ``seed`` always gives the same split,
    on every platform (NumPy's PCG64 stream is stable). Cost: O(150).

    References
    ----------
    .. [1] R. A. Fisher, "The use of multiple measurements in taxonomic problems",
       Annals of Eugenics 7(2), 179-188 (1936). https://doi.org/10.1111/j.1469-1809.1936.tb02137.x
    .. [2] UCI Machine Learning Repository, "Iris" (1988), CC BY 4.0.
       https://doi.org/10.24432/C56C76

    Examples
    --------
    >>> X, y = load_iris()
    >>> X.shape, X.dtype, y.dtype
    ((120, 4), dtype('float64'), dtype('int64'))
    >>> np.bincount(y).tolist()          # stratified: 40 of each species
    [40, 40, 40]
    >>> Xt, yt = load_iris(split="test")
    >>> np.bincount(yt).tolist()
    [10, 10, 10]
    >>> Xs, _ = load_iris(standardize=True)
    >>> bool(np.allclose(Xs.mean(axis=0), 0.0) and np.allclose(Xs.std(axis=0), 1.0))
    True
    >>> Xa, ya = load_iris(split="all")
    >>> Xa[37].tolist()                  # sample 38, corrected as in Fisher (1936)
    [4.9, 3.6, 1.4, 0.1]
    """
    split = check_option(split, "split", _SPLITS)
    if not isinstance(standardize, (bool, np.bool_)):
        raise ValidationError(f"`standardize` must be True or False; got {standardize!r}")
    seed = check_int(seed, "seed", minimum=0)
    test_size = check_int(test_size, "test_size", minimum=3, maximum=N_SAMPLES - 3)
    if test_size % len(TARGET_NAMES):
        raise ValidationError(
            f"`test_size` must be a multiple of 3 (an equal number of test samples per "
            f"species); got {test_size}. Use e.g. {3 * round(test_size / 3) or 3}."
        )
    X_all, y_all = _read_file()
    is_test = np.zeros(N_SAMPLES, dtype=bool)
    is_test[_test_indices(seed, test_size)] = True
    select = {"train": ~is_test, "test": is_test, "all": np.ones(N_SAMPLES, dtype=bool)}[split]
    X = np.array(X_all[select], dtype=np.float64)
    y = np.array(y_all[select], dtype=np.int64)
    if standardize:
        train = X_all[~is_test]
        X = (X - train.mean(axis=0)) / train.std(axis=0)
    return X, y
