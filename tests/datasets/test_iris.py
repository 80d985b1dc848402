"""Tests of the shipped Iris data (graphtraj/datasets/iris.py) and data references
(graphtraj/datasets/registry.py)."""

from __future__ import annotations

import hashlib
import json
from fractions import Fraction
from importlib import resources

import numpy as np
import pytest

from graphtraj.datasets import data_ref, load_data, load_iris
from graphtraj.datasets.iris import FEATURE_NAMES, TARGET_NAMES
from graphtraj.exceptions import (
    NonFiniteInputError,
    NotReplayableError,
    UnknownOptionError,
    ValidationError,
)

# Recorded once from graphtraj/datasets/data/iris.csv (see PROVENANCE.md there).
IRIS_SHA256 = "b6b8efc86732bc48c9fbddba53e2c191fd4f263c0ee98e2b1b7d3543e8d2121d"
# Exact column sums (cm) of the corrected file, computed with fractions; UCI's file gives
# 876.5, 458.1, 563.8, 179.8.
COLUMN_SUMS = (Fraction("876.5"), Fraction("458.6"), Fraction("563.7"), Fraction("179.9"))


def test_file_checksum():
    """The shipped file is byte-identical to the one whose provenance is documented."""
    data = resources.files("graphtraj.datasets").joinpath("data/iris.csv").read_bytes()
    assert hashlib.sha256(data).hexdigest() == IRIS_SHA256
    prov = resources.files("graphtraj.datasets").joinpath("data/PROVENANCE.md").read_text()
    assert IRIS_SHA256 in prov and "CC BY 4.0" in prov


def test_shape_classes_and_column_means():
    """150 x 4 float64, 50 samples per class in file order, means equal to exact sums / 150."""
    X, y = load_iris(split="all")
    assert X.shape == (150, 4) and X.dtype == np.float64 and y.dtype == np.int64
    assert np.bincount(y).tolist() == [50, 50, 50]
    assert y.tolist() == [0] * 50 + [1] * 50 + [2] * 50
    for j, total in enumerate(COLUMN_SUMS):
        assert abs(X[:, j].mean() - float(total / 150)) < 1e-12
    assert (len(FEATURE_NAMES), TARGET_NAMES) == (4, ("setosa", "versicolor", "virginica"))


def test_the_two_corrected_samples():
    """Samples 35 and 38 (1-based) carry Fisher's values, not the UCI file's errors."""
    X, y = load_iris(split="all")
    assert X[34].tolist() == [4.9, 3.1, 1.5, 0.2]  # UCI: petal width 0.1
    assert X[37].tolist() == [4.9, 3.6, 1.4, 0.1]  # UCI: 4.9, 3.1, 1.5, 0.1
    assert y[34] == y[37] == 0
    assert X[0].tolist() == [5.1, 3.5, 1.4, 0.2] and X[149].tolist() == [5.9, 3.0, 5.1, 1.8]


@pytest.mark.parametrize("seed", [0, 1, 12345])
def test_stratified_split_partitions_the_data(seed):
    """Train and test are disjoint, cover all 150 samples, with 40/10 per class."""
    X_all, y_all = load_iris(split="all")
    Xtr, ytr = load_iris(split="train", seed=seed)
    Xte, yte = load_iris(split="test", seed=seed)
    assert Xtr.shape == (120, 4) and Xte.shape == (30, 4)
    assert np.bincount(ytr).tolist() == [40, 40, 40]
    assert np.bincount(yte).tolist() == [10, 10, 10]
    rows = lambda X, y: sorted(map(tuple, np.column_stack([X, y]).tolist()))  # noqa: E731
    assert rows(np.vstack([Xtr, Xte]), np.concatenate([ytr, yte])) == rows(X_all, y_all)


def test_split_follows_the_documented_algorithm():
    """The test split is the first test_size/3 of rng.permutation per class (file order)."""
    X_all, _ = load_iris(split="all")
    rng = np.random.default_rng(7)
    idx = np.sort(np.concatenate([rng.permutation(np.arange(50 * c, 50 * c + 50))[:5]
                                  for c in range(3)]))
    Xte, _ = load_iris(split="test", seed=7, test_size=15)
    np.testing.assert_array_equal(Xte, X_all[idx])
    Xtr, _ = load_iris(split="train", seed=7, test_size=15)
    np.testing.assert_array_equal(Xtr, np.delete(X_all, idx, axis=0))


def test_same_seed_same_split_different_seed_different_split():
    """Seeded: equal seeds give identical splits, different seeds different ones."""
    a, _ = load_iris(split="test", seed=3)
    b, _ = load_iris(split="test", seed=3)
    c, _ = load_iris(split="test", seed=4)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_standardize_uses_training_statistics():
    """Standardization subtracts the train mean and divides by the train sd (ddof=0)."""
    Xtr_raw, _ = load_iris(seed=5)
    mu, sd = Xtr_raw.mean(axis=0), Xtr_raw.std(axis=0)
    Xtr, _ = load_iris(seed=5, standardize=True)
    Xte, _ = load_iris(seed=5, split="test", standardize=True)
    Xte_raw, _ = load_iris(seed=5, split="test")
    Xall, _ = load_iris(seed=5, split="all", standardize=True)
    np.testing.assert_allclose(Xtr.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(Xtr.std(axis=0), 1.0, rtol=1e-12)
    np.testing.assert_allclose(Xte, (Xte_raw - mu) / sd, rtol=1e-14)
    np.testing.assert_allclose(Xall, (load_iris(split="all")[0] - mu) / sd, rtol=1e-14)
    assert not np.allclose(Xte.mean(axis=0), 0.0, atol=1e-3)  # test stats are not used


def test_returned_arrays_are_fresh_copies():
    """Callers may modify the returned arrays without affecting later loads."""
    X, y = load_iris(split="all")
    X[:] = 0.0
    y[:] = 9
    X2, y2 = load_iris(split="all")
    assert X2[0, 0] == 5.1 and y2[0] == 0


@pytest.mark.parametrize("kwargs, error, match", [
    ({"split": "val"}, UnknownOptionError, "`split` must be one of 'train', 'test', 'all'"),
    ({"seed": -1}, ValidationError, "`seed` must be >= 0"),
    ({"seed": 1.5}, ValidationError, "`seed` must be an integer"),
    ({"test_size": 0}, ValidationError, "`test_size` must be >= 3"),
    ({"test_size": 150}, ValidationError, "`test_size` must be <= 147"),
    ({"test_size": 31}, ValidationError, "`test_size` must be a multiple of 3.*e.g. 30"),
    ({"standardize": "yes"}, ValidationError, "`standardize` must be True or False"),
])
def test_load_iris_validation(kwargs, error, match):
    """Every invalid argument raises the documented error."""
    with pytest.raises(error, match=match):
        load_iris(**kwargs)


# -------------------------------------------------------------- data references
def test_data_ref_and_load_data_builtin():
    """data_ref('iris', ...) is JSON-able and load_data rebuilds exactly load_iris(...)."""
    ref = data_ref("iris", split="test", seed=2, standardize=True)
    assert json.loads(json.dumps(ref)) == ref == {"name": "iris", "split": "test", "seed": 2,
                                                 "standardize": True}
    X, y = load_data(ref)
    X0, y0 = load_iris(split="test", seed=2, standardize=True)
    np.testing.assert_array_equal(X, X0)
    np.testing.assert_array_equal(y, y0)
    X1, _ = load_data({"name": "iris"})  # the metadata convention's defaults
    np.testing.assert_array_equal(X1, load_iris()[0])


def test_data_ref_and_load_data_path(tmp_path, rng):
    """A path reference is absolute and loads X, y from .npz without pickle."""
    X, y = rng.normal(size=(20, 3)), rng.integers(0, 2, size=20)
    np.savez(tmp_path / "d.npz", X=X, y=y)
    ref = data_ref(path=tmp_path / "d.npz")
    assert ref == {"path": str(tmp_path / "d.npz")}
    X1, y1 = load_data(ref)
    np.testing.assert_array_equal(X1, X)
    assert y1.dtype == np.int64 and y1.tolist() == y.tolist()
    Y = rng.normal(size=(20, 2))  # float targets (regression) stay float
    np.savez(tmp_path / "r.npz", X=X.astype(np.float32), y=Y)
    X2, y2 = load_data({"path": str(tmp_path / "r.npz")})
    assert X2.dtype == np.float64 and y2.dtype == np.float64 and y2.shape == (20, 2)


def test_load_data_errors(tmp_path):
    """Bad references raise clear errors; a missing reference is NotReplayableError."""
    with pytest.raises(NotReplayableError, match="no data reference"):
        load_data(None)
    with pytest.raises(ValidationError, match="`ref` must be a dict"):
        load_data("iris")
    with pytest.raises(ValidationError, match="exactly one of the keys 'name'"):
        load_data({"split": "train"})
    with pytest.raises(ValidationError, match="exactly one of the keys 'name'"):
        load_data({"name": "iris", "path": "x.npz"})
    with pytest.raises(UnknownOptionError, match="`ref\\['name'\\]` must be one of 'iris'"):
        load_data({"name": "mnist"})
    with pytest.raises(ValidationError, match="must be among split, standardize, seed"):
        load_data({"name": "iris", "shuffle": True})
    with pytest.raises(ValidationError, match="a path reference takes no options"):
        load_data({"path": "x.npz", "seed": 1})
    with pytest.raises(ValidationError, match="must name an existing .npz file"):
        load_data({"path": str(tmp_path / "missing.npz")})
    with pytest.raises(ValidationError, match="must be a file path"):
        load_data({"path": 3})
    np.savez(tmp_path / "noy.npz", X=np.zeros((3, 2)))
    with pytest.raises(ValidationError, match="must hold arrays 'X' and 'y'; missing y"):
        load_data({"path": str(tmp_path / "noy.npz")})
    np.savez(tmp_path / "obj.npz", X=np.array([{"a": 1}], dtype=object), y=np.zeros(1))
    with pytest.raises(ValidationError, match="readable without pickle"):
        load_data({"path": str(tmp_path / "obj.npz")})
    (tmp_path / "text.npz").write_text("not an archive")
    with pytest.raises(ValidationError, match="readable without pickle"):
        load_data({"path": str(tmp_path / "text.npz")})
    np.savez(tmp_path / "len.npz", X=np.zeros((3, 2)), y=np.zeros(4, dtype=int))
    with pytest.raises(ValidationError, match="same number of samples; got 3 and 4"):
        load_data({"path": str(tmp_path / "len.npz")})
    np.savez(tmp_path / "y2d.npz", X=np.zeros((3, 2)), y=np.zeros((3, 2), dtype=int))
    with pytest.raises(ValidationError, match="integer labels `y` must be 1-D"):
        load_data({"path": str(tmp_path / "y2d.npz")})
    np.savez(tmp_path / "nan.npz", X=np.array([[np.nan, 1.0]]), y=np.zeros(1, dtype=int))
    with pytest.raises(NonFiniteInputError, match="`X` must contain only finite values"):
        load_data({"path": str(tmp_path / "nan.npz")})


def test_data_ref_errors(tmp_path):
    """data_ref needs exactly one of name and path, and validates options by loading."""
    with pytest.raises(ValidationError, match="give exactly one of `name`"):
        data_ref()
    with pytest.raises(ValidationError, match="give exactly one of `name`"):
        data_ref("iris", path="x.npz")
    with pytest.raises(ValidationError, match="options must not be given with `path`"):
        data_ref(path="x.npz", seed=1)
    with pytest.raises(UnknownOptionError, match="`name` must be one of 'iris'"):
        data_ref("cifar")
    with pytest.raises(ValidationError, match="`test_size` must be a multiple of 3"):
        data_ref("iris", test_size=10)
    with pytest.raises(ValidationError, match="must name an existing .npz file"):
        data_ref(path=tmp_path / "nope.npz")


def test_load_data_hostile_files_and_keys(tmp_path):
    """Hypothesis: an .npy file (not an archive), negative or bool-free integer class
    labels below 0, and references with non-string keys give our ValidationError —
    not a TypeError from the context manager or from sorting mixed keys, and no label
    that would crash the loss later."""
    np.save(tmp_path / "x.npy", np.zeros((3, 2)))
    with pytest.raises(ValidationError, match="must be a NumPy .npz archive.*single array"):
        load_data({"path": str(tmp_path / "x.npy")})
    np.savez(tmp_path / "neg.npz", X=np.zeros((3, 2)), y=np.array([-1, 0, 1]))
    with pytest.raises(ValidationError, match="class labels `y` must be >= 0; got -1"):
        load_data({"path": str(tmp_path / "neg.npz")})
    with pytest.raises(ValidationError, match="must be among split"):
        load_data({"name": "iris", 1: 2, "x": 3})
    with pytest.raises(ValidationError, match="`ref` keys must be strings"):
        load_data({1: "a", "b": 2})
    np.savez(tmp_path / "bool.npz", X=np.zeros((2, 2)), y=np.array([True, False]))
    assert load_data({"path": str(tmp_path / "bool.npz")})[1].tolist() == [1, 0]
