"""Stateless, batched forward pass and loss of graphtraj's MLP family.

The functions here evaluate ``R`` networks of one architecture at once from a stack of
flat parameter vectors (in :meth:`graphtraj.trajectory.ParamLayout.for_mlp` order). They
are pure tensor expressions (no in-place updates, no ``.item()``), so ``torch.autograd``
and ``torch.func`` transforms (``grad``, ``jvp``, ``vjp``, ``hessian``, ``vmap``) work
through them.

The model is described by a *spec* dictionary (see :func:`check_spec`)::

    {"kind": "mlp", "sizes": [4, 10, 3], "activation": "sigmoid",
     "loss": "cross_entropy", "bias": True}
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch

from graphtraj._checks import _describe, check_option
from graphtraj.exceptions import UnknownOptionError, ValidationError

__all__ = [
    "ACTIVATIONS",
    "LOSSES",
    "check_spec",
    "n_params",
    "batched_mlp_outputs",
    "batched_mlp_loss",
]

#: Hidden-layer activations of the MLP family.
ACTIVATIONS = ("sigmoid", "tanh", "relu")
#: Losses of the MLP family: softmax cross-entropy on the logits, or mean squared error
#: against one-hot targets.
LOSSES = ("cross_entropy", "mse")


#: The keys of an MLP spec.
_SPEC_KEYS = ("kind", "sizes", "activation", "loss", "bias")


def check_spec(spec: Any, name: str = "spec") -> dict[str, Any]:
    """Validate an MLP spec and return a normalized copy.

    Parameters
    ----------
    spec : mapping
        ``{"kind": "mlp", "sizes": [...], "activation": ..., "loss": ..., "bias": ...}``.
        ``kind`` defaults to ``"mlp"``, ``activation`` to ``"sigmoid"``, ``loss`` to
        ``"cross_entropy"`` and ``bias`` to True.
    name : str
        Parameter name used in error messages.

    Returns
    -------
    dict
        The spec with every key present, ``sizes`` a list of int and ``bias`` a bool.

    Raises
    ------
    ValidationError
        If ``spec`` is not a mapping, ``kind`` is not ``"mlp"`` or ``sizes`` has fewer
        than two positive widths.
    UnknownOptionError
        If ``activation`` or ``loss`` is not one of :data:`ACTIVATIONS` / :data:`LOSSES`,
        or ``spec`` has a key other than those above (a misspelt key would otherwise
        be ignored silently).

    Examples
    --------
    >>> check_spec({"sizes": [4, 10, 3]})["activation"]
    'sigmoid'
    """
    if not isinstance(spec, Mapping):
        raise ValidationError(
            f"`{name}` must be a model spec dict such as {{'kind': 'mlp', 'sizes': "
            f"[4, 10, 3]}}; got {_describe(spec)}"
        )
    unknown = [k for k in spec if k not in _SPEC_KEYS]
    if unknown:
        import difflib

        hints = []
        for k in unknown:
            close = difflib.get_close_matches(str(k), _SPEC_KEYS, n=1)
            hints.append(f"{k!r} (did you mean {close[0]!r}?)" if close else repr(k))
        raise UnknownOptionError(
            f"`{name}` has unknown key{'s' if len(unknown) > 1 else ''} {', '.join(hints)}; "
            f"an MLP spec takes {', '.join(map(repr, _SPEC_KEYS))}"
        )
    kind = spec.get("kind", "mlp")
    if kind != "mlp":
        raise ValidationError(
            f"`{name}['kind']` must be 'mlp' (the only built-in model family); got {kind!r}"
        )
    sizes = spec.get("sizes")
    try:
        sizes_list = [int(s) for s in sizes]  # type: ignore[union-attr]
        ok = all(float(s) == int(s) for s in sizes)  # type: ignore[union-attr]
    except (TypeError, ValueError):
        sizes_list, ok = [], False
    if not ok or len(sizes_list) < 2 or any(s < 1 for s in sizes_list):
        raise ValidationError(
            f"`{name}['sizes']` must list at least two positive integer layer widths, "
            f"e.g. [4, 10, 3]; got {sizes!r}"
        )
    activation = check_option(spec.get("activation", "sigmoid"), f"{name}['activation']",
                              ACTIVATIONS)
    loss = check_option(spec.get("loss", "cross_entropy"), f"{name}['loss']", LOSSES)
    bias = spec.get("bias", True)
    if not isinstance(bias, bool):
        raise ValidationError(f"`{name}['bias']` must be True or False; got {bias!r}")
    return {"kind": "mlp", "sizes": sizes_list, "activation": activation, "loss": loss,
            "bias": bias}


def n_params(spec: Mapping[str, Any]) -> int:
    """Number of parameters P of the MLP described by ``spec``.

    Examples
    --------
    >>> n_params({"sizes": [4, 10, 3]})
    83
    """
    spec = check_spec(spec)
    s, b = spec["sizes"], spec["bias"]
    return sum(o * i + (o if b else 0) for i, o in zip(s[:-1], s[1:], strict=False))


def _activation(name: str):
    if name == "sigmoid":
        return torch.sigmoid
    if name == "tanh":
        return torch.tanh
    return torch.relu


def _split(flat: torch.Tensor, sizes: list[int], bias: bool):
    """Yield ``(W (R, out, in), b (R, out) or None)`` views of ``flat`` (R, P)."""
    off = 0
    R = flat.shape[0]
    for n_in, n_out in zip(sizes[:-1], sizes[1:], strict=False):
        W = flat[:, off : off + n_out * n_in].reshape(R, n_out, n_in)
        off += n_out * n_in
        b = None
        if bias:
            b = flat[:, off : off + n_out]
            off += n_out
        yield W, b


def _as_inputs(flat: Any, X: Any, spec: Any):
    spec = check_spec(spec)
    if not isinstance(flat, torch.Tensor):
        raise ValidationError(
            f"`flat` must be a torch.Tensor of shape (R, P) or (P,); got {_describe(flat)}"
        )
    if not flat.is_floating_point():
        raise ValidationError(f"`flat` must be a floating-point tensor; got {flat.dtype}")
    P = n_params(spec)
    if flat.ndim not in (1, 2) or flat.shape[-1] != P:
        raise ValidationError(
            f"`flat` must have shape (R, {P}) or ({P},) for sizes {spec['sizes']}; "
            f"got {tuple(flat.shape)}"
        )
    X = torch.as_tensor(X, dtype=flat.dtype, device=flat.device)
    if X.ndim != 2 or X.shape[1] != spec["sizes"][0]:
        raise ValidationError(
            f"`X` must have shape (n, {spec['sizes'][0]}); got {tuple(X.shape)}"
        )
    return flat, X, spec


def _outputs(flat2: torch.Tensor, X: torch.Tensor, spec: dict[str, Any]) -> torch.Tensor:
    """Outputs (R, n, out) of R networks; ``flat2`` is (R, P). No validation."""
    act = _activation(spec["activation"])
    R = flat2.shape[0]
    n = X.shape[0]
    layers = list(_split(flat2, spec["sizes"], spec["bias"]))
    W0, b0 = layers[0]
    n_out0 = W0.shape[1]
    # First layer: the data are shared by every replica, so it is one GEMM
    # (n, d) @ (d, R*h) instead of R small ones.
    h = (X @ W0.reshape(R * n_out0, -1).T).reshape(n, R, n_out0).transpose(0, 1)
    if b0 is not None:
        h = h + b0[:, None, :]
    for W, b in layers[1:]:
        a = act(h)
        h = torch.matmul(a, W.transpose(1, 2))
        if b is not None:
            h = h + b[:, None, :]
    return h


def batched_mlp_outputs(flat: torch.Tensor, X: Any, spec: Mapping[str, Any]) -> torch.Tensor:
    """Outputs (logits for cross-entropy) of R MLPs evaluated on shared inputs.

    Parameters
    ----------
    flat : torch.Tensor, shape (R, P) or (P,)
        Flat parameter vectors in :meth:`ParamLayout.for_mlp` order
        (``layers.{i}.weight`` of shape (out, in), then ``layers.{i}.bias``).
    X : array-like or torch.Tensor, shape (n, sizes[0])
        Inputs, shared by every network; cast to ``flat``'s dtype and device.
    spec : dict
        The MLP spec (see :func:`check_spec`).

    Returns
    -------
    torch.Tensor, shape (R, n, sizes[-1]) (or (n, sizes[-1]) for 1-D ``flat``)
        The pre-activation outputs of the last layer (no activation on the output).

    Raises
    ------
    ValidationError
        If shapes or the spec are inconsistent.

    Notes
    -----
    Layer ``l`` computes :math:`h_{l+1} = \\sigma(h_l) W_l^\\top + b_l` with
    :math:`\\sigma` the activation applied to every hidden layer (not to the input nor
    the output). The first layer is a single ``(n, d) @ (d, R h)`` GEMM over the shared
    data; later layers are batched matmuls. Cost :math:`O(R n P)`. Differentiable with
    autograd and ``torch.func``.

    Examples
    --------
    >>> import torch
    >>> spec = {"sizes": [2, 3, 2], "activation": "tanh"}
    >>> flat = torch.zeros(5, n_params(spec), dtype=torch.float64)
    >>> batched_mlp_outputs(flat, torch.ones(4, 2, dtype=torch.float64), spec).shape
    torch.Size([5, 4, 2])
    """
    flat, X, spec = _as_inputs(flat, X, spec)
    if flat.ndim == 1:
        return _outputs(flat[None, :], X, spec)[0]
    return _outputs(flat, X, spec)


def _loss_from_outputs(out: torch.Tensor, y: torch.Tensor, loss: str) -> torch.Tensor:
    """Per-network mean loss (R,) from outputs (R, n, k) and integer labels (n,)."""
    if loss == "cross_entropy":
        lse = torch.logsumexp(out, dim=-1)  # (R, n)
        picked = out.gather(-1, y.expand(out.shape[0], -1)[..., None])[..., 0]
        return (lse - picked).mean(dim=-1)
    onehot = torch.nn.functional.one_hot(y, out.shape[-1]).to(out.dtype)
    return ((out - onehot) ** 2).mean(dim=(-2, -1))


def _as_labels(y: Any, n: int, n_classes: int, device: torch.device) -> torch.Tensor:
    y = torch.as_tensor(y, device=device)
    if y.ndim != 1 or y.shape[0] != n:
        raise ValidationError(f"`y` must have shape ({n},) (one label per row of X); got "
                              f"{tuple(y.shape)}")
    if y.is_floating_point():
        if not torch.equal(y, torch.round(y)):
            raise ValidationError("`y` must hold integer class labels; got non-integer values")
    elif y.dtype == torch.bool or y.is_complex():
        raise ValidationError(f"`y` must hold integer class labels; got dtype {y.dtype}")
    y = y.to(torch.int64)
    if n and (int(y.min()) < 0 or int(y.max()) >= n_classes):
        raise ValidationError(
            f"`y` must hold labels in [0, {n_classes - 1}] (the output width); got "
            f"labels from {int(y.min())} to {int(y.max())}"
        )
    return y


def batched_mlp_loss(
    flat: torch.Tensor, X: Any, y: Any, spec: Mapping[str, Any]
) -> torch.Tensor:
    """Training loss of R MLPs on shared data.

    Parameters
    ----------
    flat : torch.Tensor, shape (R, P) or (P,)
        Flat parameter vectors (see :func:`batched_mlp_outputs`).
    X : array-like or torch.Tensor, shape (n, sizes[0])
        Inputs.
    y : array-like or torch.Tensor of int, shape (n,)
        Class labels in ``[0, sizes[-1])``.
    spec : dict
        The MLP spec; ``spec["loss"]`` selects the loss.

    Returns
    -------
    torch.Tensor, shape (R,) (or a scalar for 1-D ``flat``)
        The loss of each network.

    Raises
    ------
    ValidationError
        If shapes, labels or the spec are inconsistent.

    Notes
    -----
    ``"cross_entropy"``: softmax cross-entropy on the logits averaged over samples,
    :math:`L = \\frac1n\\sum_i [\\log\\sum_k e^{z_{ik}} - z_{i y_i}]` (as
    ``torch.nn.functional.cross_entropy``). ``"mse"``: mean over all ``n k`` entries of
    :math:`(z_{ik} - [y_i = k])^2` (as ``torch.nn.functional.mse_loss`` against one-hot
    targets). Cost :math:`O(R n P)`.

    Examples
    --------
    With all-zero parameters every logit is 0, so the cross-entropy is ln 3:

    >>> import math, torch
    >>> spec = {"sizes": [4, 10, 3]}
    >>> flat = torch.zeros(2, 83, dtype=torch.float64)
    >>> loss = batched_mlp_loss(flat, torch.ones(6, 4), torch.tensor([0, 1, 2] * 2), spec)
    >>> bool(torch.allclose(loss, torch.full((2,), math.log(3), dtype=torch.float64)))
    True
    """
    flat, X, spec = _as_inputs(flat, X, spec)
    y = _as_labels(y, X.shape[0], spec["sizes"][-1], flat.device)
    if flat.ndim == 1:
        return _loss_from_outputs(_outputs(flat[None, :], X, spec), y, spec["loss"])[0]
    return _loss_from_outputs(_outputs(flat, X, spec), y, spec["loss"])
