"""Package-level contracts: light import, dependency pins, exception tree."""

import subprocess
import sys

import pytest

import graphtraj
from graphtraj import exceptions as exc


def test_import_is_light():
    """`import graphtraj` must not import torch, matplotlib or numba."""
    code = (
        "import sys, graphtraj, graphtraj.timeseries, graphtraj.datasets, graphtraj.plotting;"
        "heavy = [m for m in ('torch', 'matplotlib', 'numba') if m in sys.modules];"
        "print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_nolds_imports():
    """The environment-marker pins give an importable nolds on this Python."""
    import nolds

    assert callable(nolds.lyap_r)


def test_exception_tree_refines_builtins():
    """Each error class is catchable as the built-in it refines."""
    assert issubclass(exc.ValidationError, ValueError)
    assert issubclass(exc.InsufficientDataError, exc.ValidationError)
    assert issubclass(exc.NonFiniteInputError, ValueError)
    assert issubclass(exc.StoreError, OSError)
    assert issubclass(exc.RunNotFoundError, KeyError)
    assert issubclass(exc.UnsupportedModelError, NotImplementedError)
    assert issubclass(exc.UndefinedResultWarning, RuntimeWarning)
    for name in exc.__all__:
        cls = getattr(exc, name)
        assert issubclass(cls, (exc.GraphTrajError, exc.GraphTrajWarning))


def test_run_not_found_message_is_not_quoted():
    """KeyError subclasses print their message plainly."""
    assert str(exc.RunNotFoundError("no run 'x'")) == "no run 'x'"


def test_unknown_attribute():
    """Unknown top-level names raise AttributeError."""
    with pytest.raises(AttributeError, match="no attribute"):
        graphtraj.does_not_exist  # noqa: B018


def test_public_names_resolve():
    """The public names of DESIGN.md resolve lazily."""
    assert graphtraj.Trajectory is graphtraj.trajectory.Trajectory
    assert graphtraj.ParamLayout.for_mlp([4, 10, 3]).size == 83


LAZY_PACKAGES = [
    "graphtraj.capture", "graphtraj.datasets", "graphtraj.dynamics", "graphtraj.measures",
    "graphtraj.plotting", "graphtraj.timeseries",
]


@pytest.mark.parametrize("package", LAZY_PACKAGES)
def test_lazy_exports_resolve_and_are_not_shadowed(package):
    """Every lazily exported name resolves, and none shares its submodule's name.

    A submodule named like the function it exports would replace that function on the
    package once imported (``graphtraj.timeseries.rqa`` turning into a module).
    """
    import importlib

    pkg = importlib.import_module(package)
    exports = getattr(pkg, "_EXPORTS", {})
    for name, module in exports.items():
        assert name != module, f"{package}.{name} is exported from a submodule of the same name"
        value = getattr(pkg, name)
        assert not isinstance(value, type(pkg)), f"{package}.{name} resolved to a module"
