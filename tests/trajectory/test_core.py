"""Tests of ParamLayout (layout.py), Trajectory and Ensemble (core.py)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from graphtraj.exceptions import ValidationError
from graphtraj.trajectory import Ensemble, ParamLayout, Trajectory

# ------------------------------------------------------------------ ParamLayout


def test_layout_round_trip_random(rng):
    """unflatten then flatten returns the flat vector exactly, with leading batch dims."""
    lay = ParamLayout(["a", "b", "c", "s"], [(3, 4), (4,), (2, 1, 5), ()])
    assert lay.size == 12 + 4 + 10 + 1
    assert lay.offsets == (0, 12, 16, 26)
    flat = rng.normal(size=(2, 3, lay.size))
    parts = lay.unflatten(flat)
    assert parts["a"].shape == (2, 3, 3, 4) and parts["s"].shape == (2, 3)
    np.testing.assert_array_equal(parts["b"], flat[..., 12:16])
    np.testing.assert_array_equal(lay.flatten(parts), flat)
    np.testing.assert_array_equal(parts["a"][1, 2], flat[1, 2, :12].reshape(3, 4))


def test_layout_matches_torch_named_parameters():
    """for_mlp names, shapes and order equal named_parameters of a ModuleList of Linear."""
    torch = pytest.importorskip("torch")

    class Net(torch.nn.Module):
        def __init__(self, sizes):
            super().__init__()
            self.layers = torch.nn.ModuleList(
                torch.nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:], strict=True)
            )

    net = Net([4, 10, 3]).double()
    named = list(net.named_parameters())
    lay = ParamLayout.for_mlp([4, 10, 3])
    assert lay.names == tuple(n for n, _ in named)
    assert lay.shapes == tuple(tuple(p.shape) for _, p in named)
    assert lay.size == 83 and int(lay.mask("weight").sum()) == 70
    assert int(lay.mask("bias").sum()) == 13
    flat = torch.nn.utils.parameters_to_vector(net.parameters()).detach().numpy()
    parts = lay.unflatten(flat)
    for n, p in named:
        np.testing.assert_array_equal(parts[n], p.detach().numpy())
    nobias = ParamLayout.for_mlp([4, 10, 3], bias=False)
    assert nobias.names == ("layers.0.weight", "layers.1.weight") and nobias.size == 70


def test_layout_dict_round_trip_through_json():
    """to_dict survives JSON and from_dict rebuilds an equal layout (kinds included)."""
    lay = ParamLayout(["w", "gain", "bias"], [(2, 2), (2,), (2,)], ["weight", "other", "bias"])
    back = ParamLayout.from_dict(json.loads(json.dumps(lay.to_dict())))
    assert back == lay
    assert ParamLayout.from_dict({"names": ["x"], "shapes": [[3]]}).kinds == ("weight",)


def test_layout_slice_mask_and_default_kinds():
    """slice() addresses one tensor; kinds default by name suffix; mask covers the kind."""
    lay = ParamLayout(["l.weight", "l.bias"], [(2, 3), (2,)])
    assert lay.kinds == ("weight", "bias")
    assert lay.slice("l.bias") == slice(6, 8)
    assert lay.mask("bias").tolist() == [False] * 6 + [True] * 2
    assert lay.sizes == (6, 2) and len(lay) == 2


@pytest.mark.parametrize("args, match", [
    ((["a"], [(None,)]), "`shapes` must be a sequence of integer tuples"),
    ((["a"], [3]), "`shapes` must be a sequence of integer tuples"),
    ((["a"], [("x",)]), "`shapes` must be a sequence of integer tuples"),
    ((["a"], [(1.5,)]), "`shapes` must be a sequence of integer tuples"),
    ((["a", "b"], [(1,)]), "`names` and `shapes` must have the same length"),
    ((["a", "a"], [(1,), (2,)]), "`names` must be unique"),
    ((["a"], [(-1,)]), "`shapes` must be non-negative"),
    ((["a"], [(1,)], ["weight", "bias"]), "`kinds` must have one entry per parameter"),
    ((["a"], [(1,)], ["gain"]), "`kinds` entries must be 'weight', 'bias' or 'other'"),
])
def test_layout_validation(args, match):
    """Each malformed layout description raises ValidationError naming the problem."""
    with pytest.raises(ValidationError, match=match):
        ParamLayout(*args)


def test_layout_method_validation():
    """Wrong names, sizes and shapes in layout methods raise ValidationError."""
    lay = ParamLayout(["w", "b"], [(2, 2), (2,)])
    with pytest.raises(ValidationError, match="`name` must be one of"):
        lay.slice("nope")
    with pytest.raises(ValidationError, match="`flat` must have last dimension 6"):
        lay.unflatten(np.zeros(5))
    with pytest.raises(ValidationError, match="`flat` must have last dimension 6"):
        lay.unflatten(np.float64(1.0))
    with pytest.raises(ValidationError, match="missing \\['b'\\]"):
        lay.flatten({"w": np.zeros((2, 2))})
    with pytest.raises(ValidationError, match="`w` must have trailing shape \\(2, 2\\)"):
        lay.flatten({"w": np.zeros((2, 3)), "b": np.zeros(2)})
    with pytest.raises(ValidationError, match="must share leading dimensions"):
        lay.flatten({"w": np.zeros((5, 2, 2)), "b": np.zeros((4, 2))})
    with pytest.raises(ValidationError, match="must have 'names' and 'shapes'"):
        ParamLayout.from_dict({"names": ["w"]})
    with pytest.raises(ValidationError, match="`sizes` must list at least two positive"):
        ParamLayout.for_mlp([4])
    with pytest.raises(ValidationError, match="`sizes` must list at least two positive"):
        ParamLayout.for_mlp([4, 0, 3])


@pytest.mark.parametrize("sizes", [[4, 2.5, 3], [4.0, 10, 3], [4, True, 3], ["4", 10, 3]])
def test_layout_for_mlp_rejects_non_integer_widths(sizes):
    """A fractional width used to be truncated silently ([4, 2.5, 3] gave a 4-2-3 layout)
    and a string width raised a raw ValueError or was parsed."""
    with pytest.raises(ValidationError, match="positive integer layer widths"):
        ParamLayout.for_mlp(sizes)
    assert ParamLayout.for_mlp([np.int64(4), 10, 3]).size == 83


# ------------------------------------------------------------------- Trajectory

LAY = ParamLayout(["w", "b"], [(2, 2), (2,)])  # P = 6


def make_traj(rng, t=10):
    return Trajectory(
        times=np.arange(0, 3 * t, 3), states=rng.normal(size=(t, 6)), layout=LAY,
        loss=rng.random(t), accuracy=rng.random(t), lr=np.full(t, 0.1),
        extra={"x": np.arange(t, dtype=float)}, batches=np.arange(2 * t).reshape(t, 2),
        metadata={"replayable": True, "seed": 1},
    )


def test_trajectory_window_isel_subsample(rng):
    """window selects by step (start inclusive, stop exclusive); isel and subsample by position."""
    tr = make_traj(rng)
    w = tr.window(6, 15)  # steps 6, 9, 12
    assert w.times.tolist() == [6, 9, 12]
    np.testing.assert_array_equal(w.states, tr.states[2:5])
    np.testing.assert_array_equal(w.extra["x"], [2.0, 3.0, 4.0])
    np.testing.assert_array_equal(w.batches, tr.batches[2:5])
    assert w.metadata == tr.metadata
    assert tr.window(5, 6).times.size == 0
    assert len(tr.window()) == 10 and tr.window(start=24).times.tolist() == [24, 27]
    idx = np.array([0, 4, 9])
    sel = tr.isel(idx)
    np.testing.assert_array_equal(sel.states, tr.states[idx])
    np.testing.assert_array_equal(sel.loss, tr.loss[idx])
    sub = tr.subsample(4)
    assert sub.times.tolist() == [0, 9, 18, 27]  # stride ceil(10 / 4) = 3: records 0, 3, 6, 9
    assert tr.subsample(100) is tr
    with pytest.raises(ValidationError, match="`max_records` must be >= 1"):
        tr.subsample(0)


def test_trajectory_params_load_and_properties(rng):
    """params(i) unflattens record i; load() gives float64 numpy; properties reflect input."""
    tr = make_traj(rng)
    p = tr.params(3)
    np.testing.assert_array_equal(p["w"], tr.states[3, :4].reshape(2, 2))
    np.testing.assert_array_equal(p["b"], tr.states[3, 4:])
    assert len(tr) == 10 and tr.n_params == 6 and tr.replayable
    lazy = Trajectory(np.arange(3), np.ones((3, 6), dtype=np.float32), LAY)
    loaded = lazy.load()
    assert loaded.states.dtype == np.float64 and not loaded.replayable
    assert Trajectory(np.arange(2), [[0] * 6, [1] * 6], LAY).states.dtype == np.float64


@pytest.mark.parametrize("kwargs, match", [
    ({"times": np.arange(3.0)}, "`times` must be a 1-D integer array"),
    ({"times": np.arange(6).reshape(3, 2)}, "`times` must be a 1-D integer array"),
    ({"times": np.array([0, 2, 2])}, "`times` must be strictly increasing"),
    ({"layout": {"names": ["w"]}}, "`layout` must be a ParamLayout"),
    ({"states": np.zeros((3, 5))}, "`states` must have shape \\(T, P\\) = \\(3, 6\\)"),
    ({"loss": np.zeros(4)}, "`loss` must have shape \\(3,\\)"),
    ({"accuracy": np.zeros((3, 1))}, "`accuracy` must have shape \\(3,\\)"),
    ({"lr": [0.1]}, "`lr` must have shape \\(3,\\)"),
    ({"extra": {"e": np.zeros(2)}}, "`extra\\['e'\\]` must have shape \\(3,\\)"),
    ({"batches": np.zeros((3, 2))}, "`batches` must be an integer array of shape \\(3, B\\)"),
    ({"batches": np.zeros(3, dtype=int)}, "`batches` must be an integer array"),
])
def test_trajectory_validation(kwargs, match):
    """Each inconsistent Trajectory field raises ValidationError with the expected shape."""
    args = {"times": np.arange(3), "states": np.zeros((3, 6)), "layout": LAY, **kwargs}
    with pytest.raises(ValidationError, match=match):
        Trajectory(**args)


# --------------------------------------------------------------------- Ensemble


def make_ens(rng, states=True):
    r, s = 5, 21
    obs = {"loss": rng.random((r, s)), "accuracy": rng.random((r, s))}
    return Ensemble(
        LAY, np.arange(s), obs, reference=np.array([0, 0, 0, 3, 3]),
        diverged_at=np.array([-1, 7, -1, -1, -1]),
        times=np.array([0, 5, 10, 25]) if states else None,
        states=rng.normal(size=(r, 4, 6)) if states else None, metadata={"seed": 2},
    )


def test_ensemble_references_and_replica(rng):
    """References, perturbed copies and replica(r) (observables sampled at state times)."""
    ens = make_ens(rng)
    assert ens.n_replicas == 5
    assert ens.reference_indices().tolist() == [0, 3]
    assert ens.perturbed_of(0).tolist() == [1, 2] and ens.perturbed_of(3).tolist() == [4]
    tr = ens.replica(2)
    np.testing.assert_array_equal(tr.states, ens.states[2])
    np.testing.assert_array_equal(tr.loss[:3], ens.observables["loss"][2, [0, 5, 10]])
    assert np.isnan(tr.loss[3])  # step 25 was not observed
    assert tr.metadata == {"seed": 2, "replica": 2, "reference_replica": 0}
    assert tr.lr is None


def test_ensemble_replica_errors(rng):
    """replica() needs recorded states and a valid index."""
    with pytest.raises(ValidationError, match="recorded no full states"):
        make_ens(rng, states=False).replica(0)
    with pytest.raises(ValidationError, match="`r` must be <= 4"):
        make_ens(rng).replica(5)


@pytest.mark.parametrize("kwargs, match", [
    ({"diverged_at": np.zeros(4, dtype=int)}, "`reference` and `diverged_at` must both have shape"),
    ({"reference": np.zeros((5, 1), dtype=int), "diverged_at": np.zeros((5, 1), dtype=int)},
     "must both have shape"),
    ({"reference": np.array([0, 0, 0, 3, 5])}, "`reference` must map each replica"),
    ({"reference": np.array([1, 0, 0, 3, 3])}, "`reference` must map each replica"),
    ({"observables": {"loss": np.zeros((5, 20))}}, "observable 'loss' must have shape \\(R, S\\)"),
    ({"times": None}, "`times` must be given with `states`"),
    ({"states": np.zeros((5, 3, 6))}, "`states` must have shape \\(R, T, P\\) = \\(5, 4, 6\\)"),
])
def test_ensemble_validation(rng, kwargs, match):
    """Each inconsistent Ensemble field raises ValidationError naming it."""
    args = {
        "layout": LAY, "steps": np.arange(21), "observables": {"loss": np.zeros((5, 21))},
        "reference": np.array([0, 0, 0, 3, 3]), "diverged_at": np.full(5, -1),
        "times": np.array([0, 5, 10, 25]), "states": np.zeros((5, 4, 6)), **kwargs,
    }
    with pytest.raises(ValidationError, match=match):
        Ensemble(**args)


# ------------------------------------------------------------- hostile input
@pytest.mark.parametrize("kwargs, match", [
    ({"states": np.ones((3, 6), dtype=complex)}, "`states` must hold real numbers"),
    ({"states": np.full((3, 6), None)}, "`states` must hold real numbers"),
    ({"states": [["a"] * 6] * 3}, "`states` must hold real numbers"),
    ({"states": [[1j] * 6] * 3}, "`states` must hold real numbers"),
    ({"states": [[0.0] * 6, [0.0] * 5, [0.0] * 6]}, "`states` must be array-like"),
    ({"loss": ["a", "b", "c"]}, "`loss` must hold real numbers"),
    ({"accuracy": [1j, 0, 0]}, "`accuracy` must hold real numbers"),
    ({"extra": {"e": [None, 1, 2]}}, "`extra\\['e'\\]` must hold real numbers"),
    ({"extra": [1, 2]}, "`extra` must be a mapping"),
    ({"extra": {3: np.zeros(3)}}, "`extra` keys must be strings"),
    ({"metadata": [1, 2]}, "`metadata` must be a mapping"),
    ({"times": np.array([0, 2, 1])}, "strictly increasing; got times\\[1\\] = 2 >= times\\[2\\] = 1"),
])
def test_trajectory_rejects_hostile_fields(kwargs, match):
    """Hypothesis: complex, object, string or ragged states and series, and non-mapping
    extra/metadata, raise our ValidationError naming the field — not a raw numpy
    TypeError/ValueError, AttributeError, or a silent complex-to-real cast when the
    run is stored; unsorted times say where."""
    import warnings

    args = {"times": np.arange(3), "states": np.zeros((3, 6)), "layout": LAY, **kwargs}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValidationError, match=match):
            Trajectory(**args)


def test_trajectory_methods_reject_bad_arguments(rng):
    """Hypothesis: window bounds that are not numbers, params of a record out of range
    and a scalar isel index raise our errors instead of a silent empty window, a raw
    IndexError or a confusing message about `times`."""
    tr = make_traj(rng)
    with pytest.raises(ValidationError, match="`start` must be a real number"):
        tr.window("a")
    with pytest.raises(ValidationError, match="`stop` must be finite"):
        tr.window(0, float("nan"))
    assert tr.window(4.5, 9.5).times.tolist() == [6, 9]
    with pytest.raises(ValidationError, match="`i` must be <= 9"):
        tr.params(10)
    np.testing.assert_array_equal(tr.params(-1)["b"], tr.states[-1, 4:])
    with pytest.raises(ValidationError, match="`index` must be a slice or a 1-D"):
        tr.isel(1)
    assert tr.isel(np.array([True] + [False] * 9)).times.tolist() == [0]


@pytest.mark.parametrize("kwargs, match", [
    ({"steps": np.array([0, 0.5] + list(range(1, 20)))}, "`steps` must hold integers"),
    ({"steps": np.arange(21)[::-1]}, "`steps` must be strictly increasing"),
    ({"steps": np.arange(21).reshape(1, 21)}, "`steps` must be 1-D"),
    ({"steps": np.array(["a"] * 21)}, "`steps` must hold integers"),
    ({"reference": np.array([0, 0, 0.7, 3, 3])}, "`reference` must hold integers"),
    ({"diverged_at": np.array([-1, -1.5, -1, -1, -1])}, "`diverged_at` must hold integers"),
    ({"diverged_at": np.array([-1, -5, -1, -1, -1])}, "`diverged_at` must be >= -1"),
    ({"times": np.array([0, 5, 25, 10])}, "`times` must be strictly increasing"),
    ({"times": np.array([0, 5.5, 10, 25])}, "`times` must hold integers"),
    ({"observables": {"loss": np.ones((5, 21), dtype=complex)}}, "observable 'loss' must hold real"),
    ({"observables": {3: np.ones((5, 21))}}, "`observables` keys must be strings"),
    ({"states": np.zeros((5, 4, 6), dtype=complex)}, "`states` must hold real numbers"),
    ({"states": np.zeros((5, 4, 6)).tolist()}, None),  # nested lists are fine
])
def test_ensemble_rejects_hostile_fields(kwargs, match):
    """Hypothesis: fractional steps/indices are not silently truncated, unsorted steps
    (which replica() binary-searches) and diverged_at < -1 are rejected, and complex
    observables/states raise our error rather than a numpy ComplexWarning."""
    import warnings

    args = {
        "layout": LAY, "steps": np.arange(21), "observables": {"loss": np.zeros((5, 21))},
        "reference": np.array([0, 0, 0, 3, 3]), "diverged_at": np.full(5, -1),
        "times": np.array([0, 5, 10, 20]), "states": np.zeros((5, 4, 6)), **kwargs,
    }
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        if match is None:
            ens = Ensemble(**args)
            assert ens.states.shape == (5, 4, 6) and ens.replica(1).times.tolist() == [0, 5, 10, 20]
            return
        with pytest.raises(ValidationError, match=match):
            Ensemble(**args)


def test_dataframe_like_states_are_converted():
    """Hypothesis: a table-like object (shape and __array__ but no dtype, and
    column-wise __getitem__, as a pandas DataFrame) is converted to a float64 array,
    so that states[i] means record i everywhere."""
    data = np.arange(18.0).reshape(3, 6)

    class Frame:
        shape = data.shape

        def __array__(self, dtype=None, copy=None):
            return data

        def __getitem__(self, column):  # column lookup, like a DataFrame
            return data[:, column]

    tr = Trajectory(np.arange(3), Frame(), LAY)
    assert isinstance(tr.states, np.ndarray)
    np.testing.assert_array_equal(tr.params(1)["b"], data[1, 4:])
    ens = Ensemble(LAY, np.arange(2), {}, reference=[0], diverged_at=[-1],
                   times=np.arange(3), states=np.stack([Frame().__array__()]))
    np.testing.assert_array_equal(ens.replica(0).states, data)


# ------------------------------------------------------------------ short reprs
def test_trajectory_repr_is_one_short_line(rng):
    """repr names counts, step range and series, not the arrays (500 records print in one
    line of under 200 characters)."""
    lay = ParamLayout.for_mlp([4, 10, 3])
    tr = Trajectory(np.arange(0, 1000, 2), rng.normal(size=(500, lay.size)), lay,
                    loss=np.ones(500), extra={"test_loss": np.ones(500)},
                    metadata={"replayable": True})
    text = repr(tr)
    assert "\n" not in text and len(text) < 200
    assert text == ("Trajectory(500 records (steps 0..998); 83 parameters; "
                    "series: loss, test_loss; replayable=True)")
    one = Trajectory([7], np.zeros((1, 2)), ParamLayout(["w"], [(2,)]))
    assert repr(one) == "Trajectory(1 record (step 7); 2 parameters; replayable=False)"


def test_ensemble_repr_counts_references_states_and_divergence():
    """repr gives replicas/references, observed steps, state steps and diverged count."""
    lay = ParamLayout(["w"], [(2,)])
    ens = Ensemble(lay, np.arange(4), {"loss": np.zeros((3, 4))}, reference=[0, 0, 2],
                   diverged_at=[-1, 2, -1], times=[0, 3], states=np.zeros((3, 2, 2)))
    assert repr(ens) == ("Ensemble(3 replicas (2 references); 2 parameters; observed at 4 "
                         "steps (steps 0..3); observables: loss; states at 2 steps "
                         "(steps 0..3); 1 diverged)")
    bare = Ensemble(lay, [5], {}, reference=[0], diverged_at=[-1])
    assert repr(bare) == ("Ensemble(1 replica (1 reference); 2 parameters; observed at 1 "
                          "step (step 5); no states; 0 diverged)")


@pytest.mark.parametrize("t, m, stride", [(2001, 1000, 3), (10000, 1000, 10), (10001, 1000, 11),
                                          (7, 1, 7), (1500, 1499, 2)])
def test_subsample_keeps_a_constant_stride(t, m, stride):
    """subsample keeps every k-th record with one k = ceil(T / m) (a rounded linspace
    mixes strides k and k + 1, which breaks diagonal lines in recurrence plots), at most
    m records, starting with the first."""
    tr = Trajectory(np.arange(0, 2 * t, 2), np.zeros((t, 1)), ParamLayout(["w"], [(1,)]))
    sub = tr.subsample(m)
    assert len(sub) <= m and sub.times[0] == 0
    assert set(np.diff(sub.times).tolist()) <= {2 * stride}
    assert len(sub) == len(range(0, t, stride))


def test_reversed_window_is_an_error_and_a_window_past_the_data_is_empty():
    """window(100, 50) is refused (start > stop); a window past the last step is empty."""
    tr = Trajectory(np.arange(0, 10, 2), np.zeros((5, 1)), ParamLayout(["w"], [(1,)]))
    with pytest.raises(ValidationError, match=r"`start` must be <= `stop`.*start=100, stop=50"):
        tr.window(100, 50)
    assert len(tr.window(5000, 6000)) == 0 and len(tr.window(4, 4)) == 0
