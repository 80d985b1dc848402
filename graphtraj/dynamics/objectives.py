"""Objectives: the mean training loss of R parameter vectors, its gradient and HVPs.

An *objective* evaluates the mean loss over a data set (or a mini-batch of it) for a
stack of R flat parameter vectors at once, with its gradient and its Hessian-vector
products. It is the model-specific half of a training step (the optimizer's update rule
is the other half, :mod:`graphtraj.dynamics.optimizers`).

:class:`ModuleObjective` is the general path: any ``torch.nn.Module`` through
:func:`torch.func.functional_call`, batched over parameter vectors with
:func:`torch.func.vmap`; Hessian-vector products by forward-over-reverse
(``jvp`` of ``grad``) or double backward (the default, faster here).
:class:`graphtraj.dynamics.MLPObjective` is a hand-derived fast path for the MLP family.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from graphtraj._checks import _describe, as_float_array, check_int, check_option
from graphtraj.exceptions import UnsupportedModelError, ValidationError
from graphtraj.trajectory import ParamLayout

__all__ = ["Objective", "ModuleObjective", "make_objective", "LOSSES", "HVP_METHODS"]

#: Built-in losses: softmax cross-entropy on the logits (mean over samples) and the mean
#: squared error over all ``n * out`` entries (one-hot targets for integer labels).
LOSSES = ("cross_entropy", "mse")
#: Ways to compute Hessian-vector products in the general path.
HVP_METHODS = ("double_backward", "forward_over_reverse")


def _torch():
    import torch

    return torch


def as_tensor64(x: Any) -> Any:
    """``x`` as a float64 CPU tensor (no copy when it already is one)."""
    torch = _torch()
    if isinstance(x, torch.Tensor):
        return x.detach().to(torch.float64) if x.dtype != torch.float64 else x
    return torch.as_tensor(np.asarray(x, dtype=np.float64))


class Objective:
    """The mean training loss of a model on a data set, for R parameter vectors at once.

    Subclasses implement ``_loss_chunk``, ``_grad_chunk`` and ``_grad_hvp_chunk`` on one
    chunk of samples; this base class splits the requested samples into chunks of
    ``chunk_size`` and accumulates ``sum_b (n_b / n) f_b`` from zero in a fixed order,
    so the result is the mean over all requested samples whatever the chunking, and two
    calls are bit-identical.

    Attributes
    ----------
    layout : ParamLayout
        Names and shapes of the parameters packed in a flat vector of length P.
    n_samples : int
        Number of samples n in the data set.
    chunk_size : int or None
        Samples per chunk (None: all at once). Bounds memory, not results.
    """

    layout: ParamLayout
    n_samples: int
    chunk_size: int | None = None
    #: Whether results depend on how samples are grouped (batch normalization).
    batch_dependent: bool = False

    @property
    def n_params(self) -> int:
        """Number of parameters P."""
        return self.layout.size

    def initial_params(self) -> np.ndarray | None:
        """The model's own parameters at construction, flat (P,), or None."""
        return None

    # ------------------------------------------------------------ chunking
    def _chunks(self, indices: Any) -> list[tuple[Any, float]]:
        torch = _torch()
        n = self.n_samples if indices is None else int(indices.shape[0])
        cs = self.chunk_size
        if cs is None or cs >= n:
            return [(indices, 1.0)]
        idx = torch.arange(n) if indices is None else indices
        return [(idx[s : s + cs], min(cs, n - s) / n) for s in range(0, n, cs)]

    def _check_params(self, W: Any, V: Any = None) -> tuple[Any, Any]:
        """``W`` as (R, P) and ``V`` as (R, k, P) float64 tensors, or a clear error."""
        W = as_tensor64(W)
        P = self.n_params
        if W.ndim != 2 or W.shape[1] != P:
            hint = " (one parameter vector w is W = w[None])" if W.ndim == 1 else ""
            raise ValidationError(
                f"`W` must have shape (R, {P}): R parameter vectors{hint}; got {tuple(W.shape)}"
            )
        if V is not None:
            V = as_tensor64(V)
            if V.ndim != 3 or V.shape[0] != W.shape[0] or V.shape[2] != P:
                raise ValidationError(
                    f"`V` must have shape ({W.shape[0]}, k, {P}): k vectors per parameter "
                    f"vector; got {tuple(V.shape)}"
                )
        return W, V

    def loss(self, W: Any, indices: Any = None) -> Any:
        """Mean loss (R,) of the parameter vectors ``W`` (R, P) on the samples."""
        torch = _torch()
        W, _ = self._check_params(W)
        acc = torch.zeros(W.shape[0], dtype=torch.float64)
        for idx, weight in self._chunks(indices):
            acc = acc + weight * self._loss_chunk(W, idx)
        return acc

    def grad(self, W: Any, indices: Any = None) -> Any:
        """Gradient (R, P) of the mean loss at ``W`` (R, P)."""
        torch = _torch()
        W, _ = self._check_params(W)
        acc = torch.zeros_like(W)
        for idx, weight in self._chunks(indices):
            acc = acc + weight * self._grad_chunk(W, idx)
        return acc

    def grad_hvp(self, W: Any, V: Any, indices: Any = None) -> tuple[Any, Any]:
        """Gradient (R, P) and Hessian-vector products (R, k, P) at ``W`` (R, P).

        ``V`` (R, k, P) holds k vectors per parameter vector; ``HV[r, j] = H(W[r]) V[r, j]``
        with H the Hessian of the mean loss over the samples, accumulated over chunks as
        ``sum_b (n_b / n) H_b V`` from zero.
        """
        torch = _torch()
        W, V = self._check_params(W, V)
        g = torch.zeros_like(W)
        hv = torch.zeros_like(V)
        if V.shape[1] == 0:
            return self.grad(W, indices), hv
        for idx, weight in self._chunks(indices):
            gb, hb = self._grad_hvp_chunk(W, V, idx)
            g = g + weight * gb
            hv = hv + weight * hb
        return g, hv

    # ------------------------------------------------------ to implement
    def _loss_chunk(self, W: Any, idx: Any) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def _grad_chunk(self, W: Any, idx: Any) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def _grad_hvp_chunk(self, W: Any, V: Any, idx: Any) -> tuple[Any, Any]:  # pragma: no cover
        raise NotImplementedError


# --------------------------------------------------------------------- data
def check_data(X: Any, y: Any, loss: str | Callable) -> tuple[Any, Any]:
    """Validate a data set and return ``(X, y)`` as tensors (float64 / int64 or float64)."""
    torch = _torch()
    Xa = as_float_array(X.detach().cpu().numpy() if isinstance(X, torch.Tensor) else X, "X")
    if Xa.ndim < 2:
        raise ValidationError(
            f"`X` must have shape (n, ...) with one row per sample; got shape {Xa.shape}"
        )
    ya = np.asarray(y.detach().cpu().numpy() if isinstance(y, torch.Tensor) else y)
    if ya.ndim == 0 or ya.shape[0] != Xa.shape[0]:
        raise ValidationError(
            f"`y` must have one entry per row of `X` ({Xa.shape[0]}); got shape {ya.shape}"
        )
    if ya.dtype.kind not in "biuf":
        raise ValidationError(f"`y` must hold numbers; got {_describe(ya)}")
    integer = ya.dtype.kind in "biu" or (
        ya.dtype.kind == "f" and np.all(np.isfinite(ya)) and np.array_equal(ya, np.round(ya))
        and ya.ndim == 1
    )
    if loss == "cross_entropy" and not (integer and ya.ndim == 1):
        raise ValidationError(
            f"`y` must hold integer class labels of shape (n,) for the cross-entropy loss; "
            f"got {_describe(ya)}"
        )
    if ya.dtype.kind == "f":
        as_float_array(ya, "y", None)  # finiteness
    # integer dtypes stay integer (class labels; one-hot targets for "mse"); float
    # targets stay float, except integral floats given as cross-entropy labels
    labels = ya.dtype.kind in "biu" or (loss == "cross_entropy" and integer)
    if labels:
        yt = torch.as_tensor(ya.astype(np.int64))
        if loss in LOSSES and yt.numel() and int(yt.min()) < 0:
            raise ValidationError(f"`y` must hold labels >= 0; got minimum {int(yt.min())}")
    else:
        yt = torch.as_tensor(ya.astype(np.float64))
    return torch.as_tensor(Xa), yt


def loss_function(loss: str | Callable) -> Callable:
    """The loss ``f(outputs, targets) -> scalar`` for a built-in name or a callable."""
    torch = _torch()
    F = torch.nn.functional
    if callable(loss):
        return loss
    if loss == "cross_entropy":
        return F.cross_entropy

    def mse(out: Any, target: Any) -> Any:
        # the mean of squared differences written out: F.mse_loss's backward formula
        # breaks forward-over-reverse differentiation in torch 2.x ("ZeroTensors are
        # immutable"); the value is the same as F.mse_loss(out, target)
        if not target.is_floating_point():
            target = F.one_hot(target, out.shape[-1]).to(out.dtype)
        elif target.ndim == out.ndim - 1 and out.shape[-1] == 1:
            out = out[..., 0]
        return ((out - target) ** 2).mean()

    return mse


def _check_loss(loss: Any) -> str | Callable:
    if callable(loss):
        return loss
    return check_option(loss, "loss", LOSSES)


# ------------------------------------------------------------ general path
#: Serializes torch.func.functional_call, which swaps a module's parameters in place.
_FUNCTIONAL_CALL_LOCK = threading.RLock()


class ModuleObjective(Objective):
    """Mean loss, gradient and HVPs of any ``torch.nn.Module`` (the general path).

    The model is deep-copied and cast to float64; the copy is evaluated with
    :func:`torch.func.functional_call` on flat parameter vectors, batched with
    :func:`torch.func.vmap`. The caller's model is never run, so its parameters and
    buffers (batch-norm running statistics included) stay untouched.

    Parameters
    ----------
    model : torch.nn.Module
        The network; its parameters that require gradients form the state (in
        ``named_parameters`` order); frozen parameters and buffers are constants.
    X : array-like or torch.Tensor, shape (n, ...)
        Inputs, cast to float64.
    y : array-like or torch.Tensor, shape (n,) or (n, ...)
        Targets: class labels for ``"cross_entropy"`` (integers, or integral floats);
        for ``"mse"`` integer labels become one-hot targets and float arrays are
        targets as they are; a callable loss gets integer arrays as int64 and float
        arrays as float64.
    loss : {"cross_entropy", "mse"} or callable, default "cross_entropy"
        ``"mse"`` is ``torch.nn.functional.mse_loss`` (mean over all entries) against
        one-hot targets for integer labels. A callable ``loss(outputs, targets)`` must
        return the *mean* loss over the samples it gets.
    chunk_size : int, optional
        Evaluate at most this many samples at once (memory bound); results are the same
        mean up to rounding.
    hvp : {"double_backward", "forward_over_reverse"}, default "double_backward"
        How Hessian-vector products are computed: a second reverse pass through the
        gradient (``autograd.grad`` with batched ``grad_outputs``) or ``jvp`` of
        ``grad`` (forward mode through the backward pass, batched over vectors with
        ``vmap``). Double backward was 1.1-2.5x faster in every setting measured here
        (paper network with 1 or 100 parameter vectors, 784-64-10 network on 10^4
        samples; 1 and 2 threads), see ``benchmarks/tangent.py``; forward-over-reverse
        composes with further :mod:`torch.func` transforms.
    train_mode : bool, default True
        Evaluate the copy in training mode (a training step): batch normalization then
        uses the statistics of the batch and updates no running statistics. False uses
        evaluation mode (running statistics as constants).

    Raises
    ------
    ValidationError
        If the data are malformed or the model's outputs do not fit the loss.
    UnsupportedModelError
        If the model has active dropout in training mode (a random map), running
        statistics other than batch norm's, or batch normalization with ``chunk_size``
        smaller than the data set (chunks would change the batch statistics).

    Examples
    --------
    >>> import torch
    >>> model = torch.nn.Linear(3, 2)
    >>> obj = ModuleObjective(model, torch.randn(5, 3), torch.tensor([0, 1, 1, 0, 1]))
    >>> obj.n_params
    8
    """

    def __init__(
        self,
        model: Any,
        X: Any,
        y: Any,
        *,
        loss: str | Callable = "cross_entropy",
        chunk_size: int | None = None,
        hvp: str = "double_backward",
        train_mode: bool = True,
    ) -> None:
        torch = _torch()
        if not isinstance(model, torch.nn.Module):
            raise ValidationError(
                f"`model` must be a torch.nn.Module; got {_describe(model)}"
            )
        self.loss_name = _check_loss(loss)
        self.hvp_method = check_option(hvp, "hvp", HVP_METHODS)
        self.train_mode = bool(train_mode)
        self.X, self.y = check_data(X, y, self.loss_name)
        self.n_samples = int(self.X.shape[0])
        if chunk_size is not None:
            chunk_size = check_int(chunk_size, "chunk_size", minimum=1)
        self.chunk_size = chunk_size

        module = copy.deepcopy(model).to(torch.float64)
        module.train(self.train_mode)
        if self.train_mode:
            self._check_train_mode(module)
        if self.batch_dependent and chunk_size is not None and chunk_size < self.n_samples:
            raise UnsupportedModelError(
                f"`chunk_size` must be None or >= the number of samples ({self.n_samples}) "
                "for a model with batch normalization in training mode; got "
                f"{chunk_size}. Chunks would use different batch statistics than the "
                "full batch. Use train_mode=False, or no chunking."
            )
        self._module = module
        named = [(n, p) for n, p in module.named_parameters() if p.requires_grad]
        if not named:
            raise ValidationError("`model` must have at least one parameter that requires grad")
        self._names = [n for n, _ in named]
        self._shapes = [tuple(p.shape) for _, p in named]
        self._sizes = [int(p.numel()) for _, p in named]
        self.layout = ParamLayout(self._names, self._shapes)
        consts = {n: p.detach().clone() for n, p in module.named_parameters() if not p.requires_grad}
        consts.update({n: b.detach().clone() for n, b in module.named_buffers()})
        self._consts = consts
        self._initial = torch.cat([p.detach().reshape(-1) for _, p in named]).numpy().copy()
        self._loss_fn = loss_function(self.loss_name)
        try:
            with torch.no_grad():
                value = self._loss_chunk(torch.as_tensor(self._initial)[None], None)
        except (RuntimeError, ValueError, IndexError, TypeError) as exc:
            raise ValidationError(
                f"the model's outputs must fit the loss {self.loss_name!r} and `y` "
                f"(shape {tuple(self.y.shape)}); evaluating it failed: {exc}"
            ) from None
        if value.shape != (1,):
            raise ValidationError(
                "`loss` must return a scalar (the mean over samples); got a tensor of "
                f"shape {tuple(value.shape[1:])}"
            )

    def _check_train_mode(self, module: Any) -> None:
        torch = _torch()
        from torch.func import replace_all_batch_norm_modules_

        for name, sub in module.named_modules():
            if isinstance(sub, torch.nn.modules.dropout._DropoutNd) and sub.p > 0:
                raise UnsupportedModelError(
                    f"`model` must have no active dropout in training mode; module "
                    f"{name!r} ({type(sub).__name__}, p={sub.p}) makes the training step "
                    "random, so it has no tangent map. Set p=0 or use train_mode=False."
                )
            if isinstance(sub, torch.nn.modules.batchnorm._BatchNorm):
                self.batch_dependent = True
        replace_all_batch_norm_modules_(module)
        for name, sub in module.named_modules():
            if getattr(sub, "track_running_stats", False) and getattr(sub, "running_mean", None) is not None:
                raise UnsupportedModelError(
                    f"`model` must not update running statistics in training mode; module "
                    f"{name!r} ({type(sub).__name__}) tracks them. Use train_mode=False."
                )

    def initial_params(self) -> np.ndarray:
        """The model's parameters at construction, flat (P,) float64."""
        return self._initial.copy()

    # ------------------------------------------------------------ kernels
    def _data(self, idx: Any) -> tuple[Any, Any]:
        if idx is None:
            return self.X, self.y
        return self.X[idx], self.y[idx]

    def _params(self, w: Any) -> dict[str, Any]:
        torch = _torch()
        parts = torch.split(w, self._sizes)
        out = {n: t.view(s) for n, t, s in zip(self._names, parts, self._shapes, strict=True)}
        out.update(self._consts)
        return out

    def _f(self, w: Any, Xb: Any, yb: Any) -> Any:
        from torch.func import functional_call

        # functional_call swaps the parameters of the one module in place for the call:
        # threads sharing an objective (or its module) must not interleave there.
        with _FUNCTIONAL_CALL_LOCK:
            out = functional_call(self._module, self._params(w), (Xb,))
        return self._loss_fn(out, yb)

    def _loss_chunk(self, W: Any, idx: Any) -> Any:
        from torch.func import vmap

        Xb, yb = self._data(idx)
        return vmap(self._f, in_dims=(0, None, None))(W, Xb, yb)

    def _grad_chunk(self, W: Any, idx: Any) -> Any:
        from torch.func import grad, vmap

        Xb, yb = self._data(idx)
        return vmap(grad(self._f), in_dims=(0, None, None))(W, Xb, yb)

    def _grad_hvp_chunk(self, W: Any, V: Any, idx: Any) -> tuple[Any, Any]:
        Xb, yb = self._data(idx)
        if self.hvp_method == "double_backward":
            return self._double_backward(W, V, Xb, yb)
        from torch.func import grad, jvp, vmap

        gf = grad(self._f)

        def one(w: Any, vs: Any) -> tuple[Any, Any]:
            def tangent(v: Any) -> tuple[Any, Any]:
                return jvp(lambda u: gf(u, Xb, yb), (w,), (v,))

            g, hv = vmap(tangent)(vs)
            return g[0], hv

        return vmap(one)(W, V)

    def fixed_point_hvp(self, w: Any) -> Any:
        """A function ``V (k, P) -> H V (k, P)`` at fixed parameters ``w`` (P,).

        The gradient graph of every chunk is built once (double backward) and reused
        by each call, so a product costs one backward pass per chunk instead of a
        forward and two backward passes: what Lanczos iterations need. Products are
        accumulated as ``sum_b (n_b / n) H_b V`` from zero, as :meth:`grad_hvp`.
        """
        torch = _torch()
        wr = as_tensor64(w).detach().clone().requires_grad_(True)
        graphs = []
        with torch.enable_grad():
            for idx, weight in self._chunks(None):
                Xb, yb = self._data(idx)
                (g,) = torch.autograd.grad(self._f(wr, Xb, yb), wr, create_graph=True,
                                           materialize_grads=True)
                graphs.append((g, weight))

        def hvp(V: Any) -> Any:
            out = torch.zeros_like(V)
            for g, weight in graphs:
                if not g.requires_grad:
                    continue
                if V.shape[0] == 1:
                    (hv,) = torch.autograd.grad(g, wr, grad_outputs=V[0], retain_graph=True,
                                                materialize_grads=True)
                    hv = hv[None]
                else:
                    (hv,) = torch.autograd.grad(g, wr, grad_outputs=V, retain_graph=True,
                                                is_grads_batched=True, materialize_grads=True)
                out = out + weight * hv.detach()
            return out

        return hvp

    def _double_backward(self, W: Any, V: Any, Xb: Any, yb: Any) -> tuple[Any, Any]:
        torch = _torch()
        from torch.func import vmap

        with torch.enable_grad():
            Wr = W.detach().clone().requires_grad_(True)
            total = vmap(self._f, in_dims=(0, None, None))(Wr, Xb, yb).sum()
            (g,) = torch.autograd.grad(total, Wr, create_graph=True, materialize_grads=True)
            if not g.requires_grad:  # the loss is (at most) linear in the parameters
                return g.detach(), torch.zeros_like(V)
            (hv,) = torch.autograd.grad(
                g, Wr, grad_outputs=V.transpose(0, 1).contiguous(), is_grads_batched=True,
                materialize_grads=True,
            )
        return g.detach(), hv.transpose(0, 1).detach()


# ----------------------------------------------------------------- factory
def _spec_of(model: Any) -> dict[str, Any] | None:
    if isinstance(model, Mapping):
        return dict(model)
    spec = getattr(model, "spec", None)
    if isinstance(spec, Mapping) and spec.get("kind", "mlp") == "mlp":
        return dict(spec)
    return None


def make_objective(
    model: Any,
    X: Any,
    y: Any,
    *,
    loss: str | Callable | None = None,
    chunk_size: int | None = None,
    hvp: str = "double_backward",
    fast: bool = False,
    train_mode: bool = True,
) -> Objective:
    """Build the objective (mean loss with gradient and HVPs) of a model on data.

    Parameters
    ----------
    model : torch.nn.Module or dict
        Any module (general path), or an MLP spec dict such as
        ``{"kind": "mlp", "sizes": [4, 10, 3], "activation": "sigmoid",
        "loss": "cross_entropy", "bias": True}`` (see
        :func:`graphtraj.capture.functional.check_spec`); graphtraj's ``MLP`` modules
        carry such a spec in ``.spec``.
    X, y : array-like
        The data set (see :class:`ModuleObjective`).
    loss : {"cross_entropy", "mse"} or callable, optional
        Default: the spec's loss for MLPs, else ``"cross_entropy"``.
    chunk_size : int, optional
        Samples evaluated at once.
    hvp : {"double_backward", "forward_over_reverse"}, default "double_backward"
        HVP method of the general path (see :class:`ModuleObjective`).
    fast : bool, default False
        Use the hand-derived :class:`~graphtraj.dynamics.MLPObjective` (MLPs with at
        most one hidden layer) instead of the general path.
    train_mode : bool, default True
        See :class:`ModuleObjective`.

    Returns
    -------
    Objective

    Raises
    ------
    ValidationError
        If ``loss`` contradicts the MLP spec, or the data are malformed.
    UnsupportedModelError
        If ``fast=True`` for a model outside the fast path's family.

    Examples
    --------
    >>> import torch
    >>> obj = make_objective({"sizes": [2, 3, 2]}, torch.randn(4, 2), [0, 1, 1, 0], fast=True)
    >>> type(obj).__name__, obj.n_params
    ('MLPObjective', 17)
    """
    torch = _torch()
    spec = _spec_of(model)
    if spec is not None:
        from graphtraj.capture.functional import check_spec

        spec = check_spec(spec, "model")
        if loss is not None and loss != spec["loss"]:
            raise ValidationError(
                f"`loss` must match the MLP spec's loss {spec['loss']!r} (or be None); "
                f"got {loss!r}"
            )
        loss = spec["loss"]
    elif loss is None:
        loss = "cross_entropy"
    if fast:
        if spec is None:
            raise UnsupportedModelError(
                "`fast=True` needs an MLP spec dict or a graphtraj MLP (with `.spec`); "
                f"got {_describe(model)}. Use fast=False (the general path)."
            )
        from graphtraj.dynamics.mlp_hessian import MLPObjective

        initial = None
        if isinstance(model, torch.nn.Module):
            initial = torch.cat(
                [p.detach().reshape(-1) for p in model.parameters()]
            ).to(torch.float64).numpy()
        return MLPObjective(spec, X, y, chunk_size=chunk_size, initial=initial)
    if isinstance(model, Mapping):
        from graphtraj.capture.models import mlp_from_spec

        model = mlp_from_spec(spec, dtype=torch.float64)
    return ModuleObjective(
        model, X, y, loss=loss, chunk_size=chunk_size, hvp=hvp, train_mode=train_mode
    )
