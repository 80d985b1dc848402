"""graphtraj's built-in models: the feed-forward MLP family and the paper's network.

A model is described by a JSON-able *spec* (see
:func:`graphtraj.capture.functional.check_spec`), so a stored run can be rebuilt
without pickle. Parameters are named ``layers.{i}.weight`` / ``layers.{i}.bias``, so
the flat order of :meth:`torch.nn.Module.named_parameters` equals
:meth:`graphtraj.trajectory.ParamLayout.for_mlp`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import torch

from graphtraj._checks import (
    _describe,
    as_float_array,
    as_rng,
    check_int,
    check_option,
    check_real,
)
from graphtraj.capture.functional import ACTIVATIONS, LOSSES, check_spec, n_params
from graphtraj.exceptions import ValidationError
from graphtraj.trajectory.layout import ParamLayout

__all__ = ["MLP", "paper_mlp", "mlp_from_spec", "mlp_loss", "init_states", "as_torch_dtype"]

_DTYPES = {"float64": torch.float64, "float32": torch.float32}


def as_torch_dtype(dtype: Any, name: str = "dtype") -> torch.dtype:
    """``torch.float64``/``torch.float32`` from a torch dtype or its name.

    Examples
    --------
    >>> as_torch_dtype("float32")
    torch.float32
    """
    if isinstance(dtype, torch.dtype) and dtype in _DTYPES.values():
        return dtype
    if isinstance(dtype, str) and dtype in _DTYPES:
        return _DTYPES[dtype]
    if isinstance(dtype, (type, np.dtype)):
        try:
            key = np.dtype(dtype).name
        except TypeError:
            key = ""
        if key in _DTYPES:
            return _DTYPES[key]
    raise ValidationError(
        f"`{name}` must be 'float64' or 'float32' (or the torch/numpy dtype); got "
        f"{_describe(dtype)}"
    )


def _activation_module(name: str) -> torch.nn.Module:
    return {"sigmoid": torch.nn.Sigmoid, "tanh": torch.nn.Tanh, "relu": torch.nn.ReLU}[name]()


class MLP(torch.nn.Module):
    """A feed-forward network of :class:`torch.nn.Linear` layers with one activation.

    Parameters
    ----------
    spec : dict
        Model spec ``{"kind": "mlp", "sizes": [...], "activation": ..., "loss": ...,
        "bias": ...}`` (missing keys take the defaults of
        :func:`graphtraj.capture.functional.check_spec`).
    dtype : torch.dtype or str, default torch.float64
        Parameter dtype.
    state : array-like, shape (P,), optional
        Initial flat parameter vector in :attr:`layout` order. Without it the
        parameters are drawn by :func:`init_states` from ``seed``.
    seed : int, numpy Generator or None, optional
        Seed of the initialisation when ``state`` is not given.
    weight_std, bias_init : float
        Initialisation when ``state`` is not given (see :func:`init_states`).

    Attributes
    ----------
    layers : torch.nn.ModuleList of torch.nn.Linear
        The layers, input to output.
    spec : dict
        The normalized spec.
    layout : ParamLayout
        The flat layout, equal to the order of ``named_parameters()``.

    Notes
    -----
    ``forward(x)`` returns the pre-activation outputs of the last layer (logits for
    cross-entropy); the activation is applied after every hidden layer. Construction
    does not touch torch's global random generator.

    Examples
    --------
    >>> net = MLP({"sizes": [4, 10, 3]}, seed=0)
    >>> [n for n, _ in net.named_parameters()][:2]
    ['layers.0.weight', 'layers.0.bias']
    >>> net.layout.size == sum(p.numel() for p in net.parameters())
    True
    """

    def __init__(
        self,
        spec: Mapping[str, Any],
        *,
        dtype: Any = torch.float64,
        state: Any = None,
        seed: Any = None,
        weight_std: float = 1.0,
        bias_init: float = 0.0,
    ) -> None:
        super().__init__()
        self.spec = check_spec(spec)
        dtype = as_torch_dtype(dtype)
        sizes, bias = self.spec["sizes"], self.spec["bias"]
        self.layers = torch.nn.ModuleList(
            torch.nn.utils.skip_init(torch.nn.Linear, i, o, bias=bias, dtype=dtype)
            for i, o in zip(sizes[:-1], sizes[1:], strict=False)
        )
        self.activation = _activation_module(self.spec["activation"])
        if state is None:
            state = init_states(self.spec, 1, rng=seed, weight_std=weight_std,
                                bias_init=bias_init)[0]
        self.load_flat(state)

    @property
    def layout(self) -> ParamLayout:
        """The :class:`ParamLayout` of the flat parameter vector."""
        return ParamLayout.for_mlp(self.spec["sizes"], bias=self.spec["bias"])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Outputs (logits) of shape (n, sizes[-1]) for inputs ``x`` of shape (n, sizes[0])."""
        last = len(self.layers) - 1
        for i, layer in enumerate(self.layers):
            x = layer(x)
            if i < last:
                x = self.activation(x)
        return x

    def loss(self, outputs: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """The spec's loss of ``outputs`` against integer labels ``y`` (see :func:`mlp_loss`)."""
        return mlp_loss(self.spec)(outputs, y)

    def flat_parameters(self) -> np.ndarray:
        """The parameters as one float64 vector (P,) in :attr:`layout` order."""
        with torch.no_grad():
            return torch.cat([p.detach().reshape(-1) for p in self.parameters()]).to(
                torch.float64).cpu().numpy()

    def load_flat(self, state: Any) -> None:
        """Set the parameters from a flat vector (P,) in :attr:`layout` order."""
        P = n_params(self.spec)
        vec = as_float_array(state, "state", 1)
        if vec.shape != (P,):
            raise ValidationError(
                f"`state` must have shape ({P},) for sizes {self.spec['sizes']}; got {vec.shape}"
            )
        off = 0
        with torch.no_grad():
            for p in self.parameters():
                n = p.numel()
                p.copy_(torch.from_numpy(vec[off : off + n].reshape(p.shape)))
                off += n


def mlp_loss(spec: Mapping[str, Any]) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
    """The loss function ``loss(outputs, y)`` of an MLP spec, as used by torch loops.

    Parameters
    ----------
    spec : dict
        Model spec; ``spec["loss"]`` is ``"cross_entropy"`` or ``"mse"``.

    Returns
    -------
    callable
        ``loss(outputs (n, k), y (n,) int) -> scalar tensor``:
        ``torch.nn.functional.cross_entropy(outputs, y)`` (softmax cross-entropy on the
        logits, mean over samples) or ``torch.nn.functional.mse_loss(outputs,
        one_hot(y))`` (mean over all n k entries).

    Examples
    --------
    >>> import math, torch
    >>> f = mlp_loss({"sizes": [2, 3], "loss": "cross_entropy"})
    >>> round(float(f(torch.zeros(4, 3), torch.tensor([0, 1, 2, 0]))), 6) == round(math.log(3), 6)
    True
    """
    spec = check_spec(spec)
    if spec["loss"] == "cross_entropy":
        def cross_entropy(outputs: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
            return torch.nn.functional.cross_entropy(outputs, y)
        return cross_entropy

    def mse(outputs: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        target = torch.nn.functional.one_hot(y, outputs.shape[-1]).to(outputs.dtype)
        return torch.nn.functional.mse_loss(outputs, target)
    return mse


def init_states(
    spec: Mapping[str, Any],
    n: int,
    *,
    rng: Any = None,
    weight_std: float = 1.0,
    bias_init: float = 0.0,
) -> np.ndarray:
    """Draw ``n`` initial parameter vectors of an MLP.

    Parameters
    ----------
    spec : dict
        Model spec.
    n : int
        Number of initial conditions (>= 1).
    rng : int, numpy Generator or None
        Random source.
    weight_std : float, default 1.0
        Weights are i.i.d. N(0, weight_std²) (the paper: N(0, 1)). 0 gives zero weights.
    bias_init : float, default 0.0
        Constant value of every bias.

    Returns
    -------
    numpy.ndarray, shape (n, P), float64
        Flat states in :meth:`ParamLayout.for_mlp` order.

    Raises
    ------
    ValidationError
        For a bad spec, ``n < 1``, a negative ``weight_std`` or a non-finite value.

    Notes
    -----
    The generator draws one standard-normal (n, P) block; bias entries are then set to
    ``bias_init``. Row ``i`` is therefore the same for every ``n > i`` with the same seed,
    and changing ``bias_init`` does not change the weights.

    Examples
    --------
    >>> s = init_states({"sizes": [4, 10, 3]}, 2, rng=0)
    >>> s.shape, float(abs(s[:, 40:50]).max())
    ((2, 83), 0.0)
    """
    spec = check_spec(spec)
    n = check_int(n, "n", minimum=1)
    weight_std = check_real(weight_std, "weight_std", minimum=0.0)
    bias_init = check_real(bias_init, "bias_init")
    gen = as_rng(rng)
    layout = ParamLayout.for_mlp(spec["sizes"], bias=spec["bias"])
    states = gen.standard_normal((n, layout.size)) * weight_std
    states[:, layout.mask("bias")] = bias_init
    return states


def mlp_from_spec(spec: Mapping[str, Any], *, dtype: Any = torch.float64, state: Any = None,
                  seed: Any = None) -> MLP:
    """Build an :class:`MLP` from a spec (e.g. one read from a store's metadata).

    Parameters
    ----------
    spec : dict
        Model spec.
    dtype : torch.dtype or str, default torch.float64
        Parameter dtype.
    state : array-like, shape (P,), optional
        Flat parameters to load; otherwise the paper's initialisation from ``seed``.
    seed : int, Generator or None
        Seed of the initialisation when ``state`` is None.

    Returns
    -------
    MLP

    Raises
    ------
    ValidationError
        For an invalid spec or state.

    Examples
    --------
    >>> net = mlp_from_spec({"kind": "mlp", "sizes": [2, 5, 1], "activation": "tanh",
    ...                      "loss": "mse", "bias": False}, seed=1)
    >>> net.layout.size
    15
    """
    return MLP(spec, dtype=dtype, state=state, seed=seed)


def paper_mlp(
    sizes: Sequence[int] = (4, 10, 3),
    activation: str = "sigmoid",
    loss: str = "cross_entropy",
    weight_std: float = 1.0,
    bias_init: float = 0.0,
    dtype: Any = torch.float64,
    seed: Any = None,
) -> MLP:
    """The network of Danovski, Soriano & Lacasa (2024): a 4-10-3 sigmoid MLP.

    Parameters
    ----------
    sizes : sequence of int, default (4, 10, 3)
        Layer widths, input first.
    activation : {"sigmoid", "tanh", "relu"}, default "sigmoid"
        Hidden-layer activation.
    loss : {"cross_entropy", "mse"}, default "cross_entropy"
        Softmax cross-entropy on the logits, or MSE against one-hot targets.
    weight_std : float, default 1.0
        Weights are drawn from N(0, weight_std²).
    bias_init : float, default 0.0
        Initial value of every bias.
    dtype : torch.dtype or str, default torch.float64
        Parameter dtype.
    seed : int, numpy Generator or None
        Seed of the initialisation (numpy's generator; torch's global RNG is untouched).
        ``paper_mlp(seed=s)`` has the parameters of replica 0 of
        ``train_ensemble(..., seed=s)``.

    Returns
    -------
    MLP
        With 83 parameters (70 weights) for the default sizes.

    Raises
    ------
    ValidationError, UnknownOptionError
        For invalid sizes, options or initialisation values.

    References
    ----------
    .. [1] P. Danovski, M. C. Soriano, L. Lacasa, "Dynamical stability and chaos in
       artificial neural network trajectories along training", Front. Complex Syst. 2
       (2024). https://doi.org/10.3389/fcpxs.2024.1367957

    Examples
    --------
    >>> net = paper_mlp(seed=0)
    >>> net.layout.size, int(net.layout.mask("weight").sum())
    (83, 70)
    >>> float(net.layers[0].bias.detach().abs().max())
    0.0
    """
    if isinstance(sizes, (str, bytes)) or not isinstance(sizes, Sequence):
        raise ValidationError(f"`sizes` must be a sequence of layer widths; got {_describe(sizes)}")
    check_option(activation, "activation", ACTIVATIONS)
    check_option(loss, "loss", LOSSES)
    check_spec({"sizes": list(sizes)}, "sizes")  # width checks, named after the argument
    spec = check_spec({"kind": "mlp", "sizes": list(sizes), "activation": activation,
                       "loss": loss, "bias": True}, "model")
    return MLP(spec, dtype=dtype, seed=seed, weight_std=weight_std, bias_init=bias_init)

