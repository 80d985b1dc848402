"""Tests of the main-input checks shared by the plotting functions (graphtraj.plotting._inputs)."""

import importlib
import re
import subprocess
import sys

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import graphtraj.plotting as plotting  # noqa: E402
from graphtraj.exceptions import ValidationError  # noqa: E402
from graphtraj.plotting._inputs import INPUTS, check_input  # noqa: E402

#: Functions whose main input is a mapping (label → value) rather than one result.
MAPPINGS = {"plot_weight_norms": "trajectories", "plot_distance_matrices": "matrices"}


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def test_every_public_plotting_function_is_in_the_table():
    """Each public plotting function has an entry (the mapping of arrays of
    plot_distance_matrices is checked by check_mapping instead), and nothing else does."""
    public = set(plotting.__all__)
    assert set(INPUTS) | {"plot_distance_matrices"} == public


@pytest.mark.parametrize("func", sorted(INPUTS))
def test_table_names_existing_classes(func):
    """Every accepted class of the table exists under the path written there (a moved
    or renamed class would otherwise reject every valid input)."""
    for path in INPUTS[func].classes:
        module, _, name = path.rpartition(".")
        assert isinstance(getattr(importlib.import_module(module), name), type), path


@pytest.mark.parametrize("func", sorted(plotting.__all__))
def test_wrong_main_input_raises_validation_error(func):
    """Every public plotting function rejects a foreign object up front with a
    ValidationError naming itself, the parameter, the expected type and what it got,
    instead of an AttributeError from deep inside."""
    plot = getattr(plotting, func)
    if func in MAPPINGS:
        with pytest.raises(ValidationError,
                           match=rf"^{func} expects `{MAPPINGS[func]}` to be a mapping of label to .*; got list\. Wrap it in a dict"):
            plot([object()])
        return
    expected = INPUTS[func]
    cls = expected.classes[0].rpartition(".")[2]
    pattern = (rf"^{func} expects `{expected.param}` to be an? {cls}.* \(from "
               rf"{re.escape(expected.source)}\); got object\. Pass the result of ")
    with pytest.raises(ValidationError, match=pattern):
        plot(object())


def test_message_points_to_the_function_that_draws_the_input():
    """A result of another graphtraj function is named, with the plotting function that
    draws it; articles follow how the type name is read (an RQAResult, a LagResult)."""
    from graphtraj.timeseries import ftle_from_divergence, rqa

    res = rqa(np.sin(np.arange(100) / 3), 0.1)
    with pytest.raises(ValidationError, match=r"`result` to be a LyapunovResult .*got RQAResult\. "
                       r"Pass the result of .*\(RQAResult is drawn by plot_rqa_histograms\)"):
        plotting.plot_lyapunov(res)
    with pytest.raises(ValidationError, match=r"to be an RQAResult \(from rqa\)"):
        plotting.plot_rqa_histograms(res.histograms)
    ftle = ftle_from_divergence(np.exp(0.1 * np.arange(150)))
    with pytest.raises(ValidationError, match=r"FTLEResult is drawn by plot_divergence\)"):
        plotting.plot_loss_curves(ftle)
    with pytest.raises(ValidationError, match="a StabilityResult or an FTLEResult"):
        plotting.plot_divergence(res)


def test_arrays_are_described_by_shape():
    """An array given where a result is expected is reported with its shape."""
    with pytest.raises(ValidationError, match=r"got ndarray of shape \(3, 2\)\."):
        plotting.plot_scaling(np.zeros((3, 2)))
    with pytest.raises(ValidationError, match="got None"):
        plotting.plot_sharpness(None)
    check_input(np.zeros((2, 2), bool), "plot_recurrence")  # arrays are accepted there


def test_check_imports_nothing():
    """Rejecting an input of a torch-based plot does not import torch (the classes are
    looked up among the imported modules)."""
    code = (
        "import sys\n"
        "from graphtraj.plotting.dynamics import plot_sharpness\n"
        "from graphtraj.exceptions import ValidationError\n"
        "try:\n    plot_sharpness(3)\nexcept ValidationError:\n    pass\n"
        "print('torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_array_likes_are_accepted_where_arrays_are():
    """Where arrays are accepted, any array-like is: a torch tensor and an object with
    __array__ draw the same recurrence plot as the numpy array."""
    import torch

    from graphtraj.plotting import plot_recurrence

    mask = np.eye(6, dtype=bool)
    mask[0, 3] = mask[3, 0] = True

    class ArrayLike:
        def __array__(self, dtype=None, copy=None):
            return mask

    want = np.asarray(plot_recurrence(mask).images[0].get_array())
    for value in (torch.from_numpy(mask), ArrayLike()):
        ax = plot_recurrence(value)
        np.testing.assert_array_equal(np.asarray(ax.images[0].get_array()), want)
    plt.close("all")
