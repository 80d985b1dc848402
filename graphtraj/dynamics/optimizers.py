"""Optimizer update rules as pure functions of (weights, optimizer state, gradient, step).

A training step is ``(w, s) -> U(w, s, grad L(w), t)``: the model supplies the gradient
(an :class:`~graphtraj.dynamics.Objective`), the optimizer the update rule ``U``. The
rules here reproduce ``torch.optim.SGD`` (plain, momentum, Nesterov, weight decay) and
``torch.optim.Adam``/``AdamW`` on flat tensors, batched over R states, and their tangent
maps come from :func:`torch.func.jvp` of ``U`` (an elementwise computation).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from graphtraj._checks import _describe, check_option, check_real
from graphtraj.exceptions import UnsupportedModelError, ValidationError

__all__ = ["UpdateRule", "SGDRule", "AdamRule", "update_rule", "OPTIMIZERS"]

#: Optimizer names accepted by :func:`update_rule`.
OPTIMIZERS = ("sgd", "adam", "adamw")


@dataclass(frozen=True)
class UpdateRule:
    """Base class: an optimizer's update ``(w, s, g, t) -> (w', s')`` on flat tensors.

    ``w``, ``g`` have shape (R, P); ``s`` (R, S) packs the optimizer state (S =
    :meth:`state_size`). ``t`` is the number of optimizer steps taken before this one.
    """

    lr: float

    def state_size(self, n_params: int) -> int:
        """Length S of the optimizer state for P parameters."""
        return 0

    def state_names(self) -> tuple[str, ...]:
        """Names of the state blocks, each of length P (e.g. ``("momentum_buffer",)``)."""
        return ()

    def update(self, w: Any, s: Any, g: Any, t: int) -> tuple[Any, Any]:  # pragma: no cover
        raise NotImplementedError

    def tangent(
        self, w: Any, s: Any, g: Any, t: int, dw: Any, ds: Any, dg: Any
    ) -> tuple[Any, Any]:
        """Tangent of the update: ``(dw', ds')`` (R, k, P), (R, k, S).

        ``dw`` (R, k, P), ``ds`` (R, k, S) are tangent vectors of the state and
        ``dg = H dw`` (R, k, P) the matching change of the gradient; the result is
        ``J_U (dw, ds, dg)``, by :func:`torch.func.jvp` vectorized over the k vectors.
        """
        from torch.func import jvp, vmap

        def one(a: Any, b: Any, c: Any) -> tuple[Any, Any]:
            return jvp(lambda w_, s_, g_: self.update(w_, s_, g_, t), (w, s, g), (a, b, c))[1]

        return vmap(one, in_dims=1, out_dims=1)(dw, ds, dg)

    def stability_threshold(self) -> float | None:
        """The sharpness above which the update is linearly unstable on a quadratic.

        2/η for gradient descent, (2 + 2μ)/η for heavy-ball momentum μ; None when no
        threshold on the raw Hessian applies (Adam).
        """
        return None

    def to_dict(self) -> dict[str, Any]:
        """JSON-able description (``name`` plus hyperparameters)."""
        return {"name": self.name, **asdict(self)}

    @property
    def name(self) -> str:  # pragma: no cover - overridden
        return "rule"


@dataclass(frozen=True)
class SGDRule(UpdateRule):
    """``torch.optim.SGD``: plain gradient descent, heavy-ball or Nesterov momentum.

    ``g <- g + weight_decay * w``; with momentum ``b <- μ b + g`` and the step is ``b``
    (or ``g + μ b`` for Nesterov); ``w <- w - lr * step``. The momentum buffer is the
    optimizer state. PyTorch starts the buffer as a copy of the first gradient, which
    equals ``μ * 0 + g`` for a zero initial buffer (dampening is not supported).

    Examples
    --------
    >>> import torch
    >>> rule = SGDRule(lr=0.1)
    >>> w, s = rule.update(torch.ones(1, 2), torch.zeros(1, 0), torch.ones(1, 2), 0)
    >>> w.tolist()
    [[0.9, 0.9]]
    """

    momentum: float = 0.0
    nesterov: bool = False
    weight_decay: float = 0.0

    @property
    def name(self) -> str:
        return "sgd"

    def state_size(self, n_params: int) -> int:
        return n_params if self.momentum else 0

    def state_names(self) -> tuple[str, ...]:
        return ("momentum_buffer",) if self.momentum else ()

    def update(self, w: Any, s: Any, g: Any, t: int) -> tuple[Any, Any]:
        if self.weight_decay:
            g = g + self.weight_decay * w
        if not self.momentum:
            return w.add(g, alpha=-self.lr), s  # one fused pass over w and g
        buf = self.momentum * s + g
        step = g + self.momentum * buf if self.nesterov else buf
        return w - self.lr * step, buf

    def tangent(
        self, w: Any, s: Any, g: Any, t: int, dw: Any, ds: Any, dg: Any
    ) -> tuple[Any, Any]:
        """Tangent of the update; SGD's update is linear in ``(w, s, g)``, so it is the
        update itself applied to the tangent vectors (equal to the ``jvp``, cheaper)."""
        return self.update(dw, ds, dg, t)

    def stability_threshold(self) -> float | None:
        mu = self.momentum
        if self.nesterov:
            return (2.0 + 2.0 * mu) / (self.lr * (1.0 + 2.0 * mu))
        return (2.0 + 2.0 * mu) / self.lr


@dataclass(frozen=True)
class AdamRule(UpdateRule):
    """``torch.optim.Adam`` (L2 weight decay) or ``AdamW`` (``decoupled=True``).

    State: first and second moment estimates ``(m, v)``. At optimizer step t (0-based)
    ``m <- β1 m + (1-β1) g``, ``v <- β2 v + (1-β2) g²`` and
    ``w <- w - lr/(1-β1^(t+1)) * m / (sqrt(v)/sqrt(1-β2^(t+1)) + eps)``.

    The map is not differentiable where ``v`` is exactly 0 (a coordinate whose gradient
    has always been exactly 0); the tangent is then non-finite and
    :func:`~graphtraj.dynamics.lyapunov_spectrum` raises.

    Examples
    --------
    >>> import torch
    >>> rule = AdamRule(lr=0.1)
    >>> w, s = rule.update(torch.zeros(1, 1), torch.zeros(1, 2), torch.full((1, 1), 3.0), 0)
    >>> round(float(w), 6)  # the first Adam step has size lr whatever the gradient
    -0.1
    """

    betas: tuple[float, float] = (0.9, 0.999)
    eps: float = 1e-8
    weight_decay: float = 0.0
    decoupled: bool = False

    @property
    def name(self) -> str:
        return "adamw" if self.decoupled else "adam"

    def state_size(self, n_params: int) -> int:
        return 2 * n_params

    def state_names(self) -> tuple[str, ...]:
        return ("exp_avg", "exp_avg_sq")

    def update(self, w: Any, s: Any, g: Any, t: int) -> tuple[Any, Any]:
        b1, b2 = self.betas
        P = w.shape[-1]
        m, v = s[..., :P], s[..., P:]
        if self.weight_decay:
            if self.decoupled:
                w = w * (1.0 - self.lr * self.weight_decay)
            else:
                g = g + self.weight_decay * w
        m = b1 * m + (1.0 - b1) * g
        v = b2 * v + (1.0 - b2) * g * g
        step = t + 1
        bc1 = 1.0 - b1**step
        bc2_sqrt = math.sqrt(1.0 - b2**step)
        denom = v.sqrt() / bc2_sqrt + self.eps
        w = w - (self.lr / bc1) * m / denom
        return w, _cat(m, v)

    def to_dict(self) -> dict[str, Any]:
        d = super().to_dict()
        d["betas"] = list(self.betas)
        return d


def _cat(a: Any, b: Any) -> Any:
    import torch

    return torch.cat([a, b], dim=-1)


# ------------------------------------------------------------------ factory
_SGD_DEFAULTS = {"momentum": 0.0, "dampening": 0.0, "nesterov": False, "weight_decay": 0.0,
                 "maximize": False}
_ADAM_DEFAULTS = {"betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0.0, "amsgrad": False,
                  "maximize": False}


def _from_torch_optimizer(opt: Any) -> UpdateRule:
    import torch

    supported = (torch.optim.SGD, torch.optim.Adam, torch.optim.AdamW)
    if type(opt) not in supported:
        raise UnsupportedModelError(
            f"`optimizer` must be torch.optim.SGD, Adam or AdamW (or one of "
            f"{', '.join(map(repr, OPTIMIZERS))}); got {type(opt).__name__}. Its update "
            "rule has no tangent map in graphtraj."
        )
    if len(opt.param_groups) != 1:
        raise UnsupportedModelError(
            "`optimizer` must have a single parameter group (one set of "
            f"hyperparameters); got {len(opt.param_groups)} groups"
        )
    group = dict(opt.param_groups[0])
    name = {torch.optim.SGD: "sgd", torch.optim.Adam: "adam", torch.optim.AdamW: "adamw"}[type(opt)]
    keys = ("momentum", "dampening", "nesterov", "weight_decay", "maximize") if name == "sgd" else (
        "betas", "eps", "weight_decay", "amsgrad", "maximize")
    options = {k: group[k] for k in keys if k in group}
    lr = group["lr"]
    if isinstance(lr, torch.Tensor):
        lr = float(lr)
    return update_rule(name, lr=lr, **options)


def update_rule(optimizer: Any = "sgd", *, lr: float | None = None, **options: Any) -> UpdateRule:
    """The update rule of an optimizer, from its name or a ``torch.optim`` instance.

    Parameters
    ----------
    optimizer : {"sgd", "adam", "adamw"} or torch.optim.Optimizer or UpdateRule
        ``"sgd"`` covers plain gradient descent (full batch), mini-batch SGD, heavy-ball
        and Nesterov momentum. A ``torch.optim.SGD``/``Adam``/``AdamW`` instance
        contributes its hyperparameters (single parameter group).
    lr : float
        Learning rate η > 0 (required with a name).
    **options
        ``momentum``, ``nesterov``, ``weight_decay`` (SGD); ``betas``, ``eps``,
        ``weight_decay`` (Adam/AdamW). Defaults are PyTorch's: ``weight_decay`` is 0
        except for ``"adamw"`` (0.01, as ``torch.optim.AdamW``). ``dampening``,
        ``amsgrad`` and ``maximize`` are accepted only at their defaults.

    Returns
    -------
    UpdateRule

    Raises
    ------
    UnknownOptionError
        For an unknown optimizer name.
    ValidationError
        For an invalid or unknown hyperparameter.
    UnsupportedModelError
        For another optimizer class, several parameter groups, dampening, AMSGrad or
        ``maximize``.

    Examples
    --------
    >>> update_rule("sgd", lr=0.5, momentum=0.9).stability_threshold()
    7.6
    """
    if isinstance(optimizer, UpdateRule):
        if lr is not None or options:
            raise ValidationError("`lr` and options must not be given with an UpdateRule")
        return optimizer
    if not isinstance(optimizer, str) and hasattr(optimizer, "param_groups"):
        if lr is not None or options:
            raise ValidationError(
                "`lr` and options must not be given with a torch.optim optimizer (they "
                "are read from it)"
            )
        return _from_torch_optimizer(optimizer)
    name = check_option(optimizer, "optimizer", OPTIMIZERS)
    if lr is None:
        raise ValidationError(f"`lr` must be given for optimizer {name!r}; got None")
    lr = check_real(lr, "lr", minimum=0.0, strict_min=True)
    defaults = _SGD_DEFAULTS if name == "sgd" else _ADAM_DEFAULTS
    if name == "adamw":  # torch.optim.AdamW's default decoupled weight decay
        defaults = {**defaults, "weight_decay": 0.01}
    unknown = sorted(set(options) - set(defaults))
    if unknown:
        raise ValidationError(
            f"options of optimizer {name!r} must be among {', '.join(sorted(defaults))}; "
            f"got unknown {', '.join(map(repr, unknown))}"
        )
    opts = {**defaults, **options}
    for flag in ("maximize", "amsgrad"):
        if opts.get(flag):
            raise UnsupportedModelError(
                f"`{flag}=True` is not supported by the tangent maps; got {flag}=True"
            )
    wd = check_real(opts["weight_decay"], "weight_decay", minimum=0.0)
    if name == "sgd":
        if opts["dampening"]:
            raise UnsupportedModelError(
                f"`dampening` must be 0 (PyTorch's first-step special case makes the map "
                f"singular); got {opts['dampening']!r}"
            )
        mu = check_real(opts["momentum"], "momentum", minimum=0.0, maximum=1.0)
        nesterov = bool(opts["nesterov"])
        if nesterov and mu == 0:
            raise ValidationError("`nesterov=True` must come with `momentum` > 0; got momentum=0")
        return SGDRule(lr=lr, momentum=mu, nesterov=nesterov, weight_decay=wd)
    betas = opts["betas"]
    try:
        b1, b2 = (float(b) for b in betas)
    except (TypeError, ValueError):
        raise ValidationError(f"`betas` must be two numbers in [0, 1); got {_describe(betas)}") from None
    for i, b in enumerate((b1, b2)):
        if not 0.0 <= b < 1.0:
            raise ValidationError(f"`betas[{i}]` must be in [0, 1); got {b}")
    eps = check_real(opts["eps"], "eps", minimum=0.0)
    return AdamRule(lr=lr, betas=(b1, b2), eps=eps, weight_decay=wd, decoupled=(name == "adamw"))


def rule_from_metadata(optimizer: Mapping[str, Any]) -> UpdateRule:
    """The update rule described by run metadata ``{"name": ..., "lr": ..., ...}``."""
    if not isinstance(optimizer, Mapping) or "name" not in optimizer:
        raise ValidationError(
            f"`metadata['optimizer']` must be a dict with 'name' and 'lr'; got "
            f"{_describe(optimizer)}"
        )
    hyper = set(_SGD_DEFAULTS) | set(_ADAM_DEFAULTS)
    opts = {k: v for k, v in optimizer.items() if k in hyper}  # ignores batch_size, sampler
    if opts.get("betas") is not None:
        opts["betas"] = tuple(opts["betas"])
    opts = {k: v for k, v in opts.items() if v is not None}
    return update_rule(str(optimizer["name"]).lower(), lr=optimizer.get("lr"), **opts)
