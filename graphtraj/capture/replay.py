"""Rebuild the model and data of a stored run from its metadata (no pickle)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from graphtraj._checks import _describe
from graphtraj.exceptions import NotReplayableError, ValidationError

__all__ = ["model_from_metadata"]


def model_from_metadata(metadata: Mapping[str, Any], *, state: Any = None):
    """Rebuild a run's MLP and training data from its JSON metadata.

    Parameters
    ----------
    metadata : dict
        A run's metadata (``Trajectory.metadata`` or ``Ensemble.metadata``) with a
        ``"model"`` spec of kind ``"mlp"``, a ``"data"`` reference and ``"dtype"``.
    state : array-like, shape (P,), optional
        Flat parameters to load (e.g. ``traj.states[i]``). Without it the network has
        the initialisation of ``metadata["seed"]`` (or seed 0); load a recorded state
        with ``net.load_flat(...)`` before replaying.

    Returns
    -------
    net : MLP
        The network, in the run's dtype.
    X : torch.Tensor, shape (n, d)
        Training inputs in the run's dtype.
    y : torch.Tensor of int64, shape (n,)
        Class labels.

    Raises
    ------
    NotReplayableError
        If the run says it is not replayable, its model is not a graphtraj MLP, it has
        no data reference, or its data have no integer class labels. The message gives
        the recorded reason.
    ValidationError
        If ``metadata`` is not a mapping, or the spec, data reference or ``state`` is
        invalid.

    Notes
    -----
    The data are rebuilt with :func:`graphtraj.datasets.load_data` from
    ``metadata["data"]`` (a built-in data set by name, or an ``.npz`` file by path).
    The optimizer is described by ``metadata["optimizer"]``; rebuild it with
    ``torch.optim.SGD(net.parameters(), lr=..., momentum=...)``.

    Examples
    --------
    >>> meta = {"model": {"kind": "mlp", "sizes": [4, 10, 3], "activation": "sigmoid",
    ...                   "loss": "cross_entropy", "bias": True},
    ...         "data": {"name": "iris", "split": "train", "seed": 0},
    ...         "dtype": "float64", "replayable": True}
    >>> net, X, y = model_from_metadata(meta)
    >>> net.layout.size, tuple(X.shape), tuple(y.shape)
    (83, (120, 4), (120,))
    """
    import torch

    from graphtraj.capture.models import MLP, as_torch_dtype

    if not isinstance(metadata, Mapping):
        raise ValidationError(f"`metadata` must be a dict; got {_describe(metadata)}")
    if metadata.get("replayable") is False:
        reason = metadata.get("replayable_reason", "the run was recorded as not replayable")
        raise NotReplayableError(f"this run cannot be replayed: {reason}")
    model = metadata.get("model")
    if not isinstance(model, Mapping) or model.get("kind") != "mlp":
        kind = model.get("kind") if isinstance(model, Mapping) else model
        cls = model.get("class", "") if isinstance(model, Mapping) else ""
        raise NotReplayableError(
            "this run cannot be replayed: only graphtraj's built-in MLP models can be "
            f"rebuilt from metadata; the run's model is {kind!r}"
            + (f" ({cls})" if cls else "")
            + ". Its recorded states can still be analysed."
        )
    if metadata.get("data") is None:
        raise NotReplayableError(
            "this run cannot be replayed: it has no data reference (metadata['data'] is "
            "null). Pass `data_ref=graphtraj.datasets.data_ref(...)` when recording."
        )
    from graphtraj.datasets import load_data

    dtype = as_torch_dtype(metadata.get("dtype", "float64"), "metadata['dtype']")
    X, y = load_data(metadata["data"])
    if np.asarray(y).dtype.kind not in "iu" or np.ndim(y) != 1:
        raise NotReplayableError(
            "this run cannot be replayed: the graphtraj MLP losses need integer class "
            f"labels, but the referenced data have targets of dtype {np.asarray(y).dtype} "
            f"and shape {np.shape(y)}"
        )
    seed = metadata.get("seed", 0)
    net = MLP(model, dtype=dtype, state=state, seed=seed if state is None else None)
    sizes = net.spec["sizes"]
    if X.shape[1] != sizes[0]:
        raise ValidationError(
            f"the referenced data have {X.shape[1]} features but the model expects "
            f"{sizes[0]} inputs (metadata['model']['sizes'] = {sizes})"
        )
    return net, torch.from_numpy(np.ascontiguousarray(X)).to(dtype), torch.from_numpy(
        np.asarray(y, dtype=np.int64))
