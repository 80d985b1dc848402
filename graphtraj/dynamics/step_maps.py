"""Step maps: one training step (or any differentiable map) with its tangent map.

A :class:`StepMap` advances R states at once, ``x_{t+1} = F_t(x_t)`` on :math:`R^D`, and
pushes k tangent vectors per state through the Jacobian, ``V' = DF_t(x_t) V``, by
automatic differentiation. :class:`TrainingMap` is a training step on the full state
(weights followed by the optimizer state); :class:`DifferentiableMap` wraps any torch
function (the Hénon map, a quadratic-loss GD step, ...).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from graphtraj._checks import _describe, check_int, check_option
from graphtraj.dynamics.objectives import Objective, _torch, make_objective
from graphtraj.dynamics.optimizers import UpdateRule, update_rule
from graphtraj.exceptions import ValidationError
from graphtraj.trajectory import ParamLayout

__all__ = ["StepMap", "TrainingMap", "DifferentiableMap", "training_map"]


def _as_real_tensor(a: Any, name: str, dtype: Any) -> Any:
    """``a`` as a real tensor of ``dtype``; a clear error for non-numeric or complex input."""
    torch = _torch()
    if isinstance(a, torch.Tensor):
        if a.is_complex() or a.dtype == torch.bool:
            raise ValidationError(f"`{name}` must be real-valued; got a {a.dtype} tensor")
        return a.to(dtype)  # not detached, so that torch.func transforms compose with the map
    arr = np.asarray(a)
    if arr.dtype.kind not in "iuf":
        raise ValidationError(
            f"`{name}` must be a real-valued array; got dtype {arr.dtype}"
        )
    return torch.as_tensor(arr, dtype=dtype)


def _batched(x: Any, V: Any | None, dim: int, dtype: Any) -> tuple[Any, Any, bool]:
    """Tensors (R, D) and (R, k, D) from 1-D/2-D input; also whether input was 1-D."""
    x = _as_real_tensor(x, "x", dtype)
    single = x.ndim == 1
    if single:
        x = x[None]
    if x.ndim != 2 or x.shape[1] != dim:
        raise ValidationError(
            f"`x` must have shape (R, {dim}) or ({dim},); got {tuple(x.shape)}"
        )
    if V is not None:
        V = _as_real_tensor(V, "V", dtype)
        given = tuple(V.shape)
        if single:
            V = V[None]
        if V.ndim != 3 or V.shape[0] != x.shape[0] or V.shape[2] != dim:
            want = f"(k, {dim})" if single else f"({x.shape[0]}, k, {dim})"
            raise ValidationError(
                f"`V` must have shape {want} (one tangent vector per row); got {given}"
            )
    return x, V, single


def _check_t(t: Any, default: int) -> int:
    """The step index: ``default`` for None, else a non-negative integer."""
    return default if t is None else check_int(t, "t", minimum=0)


class StepMap:
    """A differentiable map ``x_{t+1} = F_t(x_t)`` on R^D, batched over states.

    Subclasses implement :meth:`_step` and :meth:`_step_tangent` on tensors
    ``x`` (R, D) and ``V`` (R, k, D) (k tangent vectors per state).

    Attributes
    ----------
    dim : int
        Dimension D of the state.
    dtype : torch.dtype
        Floating-point type the map computes in (float64 unless stated otherwise).
    """

    dim: int
    dtype: Any

    #: Step index used when ``t`` is not given (a :class:`TrainingMap` resumed from a
    #: torch optimizer starts at its ``initial_step``).
    initial_step: int = 0

    def step(self, x: Any, t: int | None = None) -> Any:
        """Advance states ``x`` (R, D) or (D,) by one step taken at time ``t``.

        ``t`` defaults to :attr:`initial_step`. Maps that depend on time (Adam's bias
        correction, replayed mini-batches) must be given ``t`` when stepped in a loop:
        ``x = fmap.step(x, t)`` for ``t = initial_step, initial_step + 1, ...``.
        """
        t = _check_t(t, self.initial_step)
        xb, _, single = _batched(x, None, self.dim, self.dtype)
        out = self._step(xb, t)
        return out[0] if single else out

    def step_tangent(self, x: Any, V: Any, t: int | None = None) -> tuple[Any, Any]:
        """Advance states and push tangent vectors: ``(F_t(x), DF_t(x) V)``.

        ``V`` has shape (R, k, D) (or (k, D) for a single state ``x`` of shape (D,));
        row ``V[r, j]`` is a tangent vector at ``x[r]``. ``t`` as in :meth:`step`.
        """
        t = _check_t(t, self.initial_step)
        xb, Vb, single = _batched(x, V, self.dim, self.dtype)
        if Vb.shape[1] == 0:
            return self.step(x, t), (Vb[0] if single else Vb)
        x1, V1 = self._step_tangent(xb, Vb, t)
        return (x1[0], V1[0]) if single else (x1, V1)

    def max_steps(self, t0: int) -> int | None:
        """How many steps can be taken starting at time ``t0`` (None: unlimited)."""
        return None

    def describe(self) -> dict[str, Any]:
        """JSON-able description of the map."""
        return {"kind": type(self).__name__, "dim": self.dim}

    def _step(self, x: Any, t: int) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def _step_tangent(self, x: Any, V: Any, t: int) -> tuple[Any, Any]:  # pragma: no cover
        raise NotImplementedError


# ------------------------------------------------------------------ generic
class DifferentiableMap(StepMap):
    """Any differentiable map written in torch, with its tangent map by ``jvp``.

    Parameters
    ----------
    fn : callable
        ``fn(x) -> x_next`` on a 1-D tensor of length ``dim`` (or ``fn(x, t)`` with
        ``time_dependent=True``), written with torch operations that
        :func:`torch.func.vmap` and :func:`torch.func.jvp` support (no in-place updates
        of the input, no ``.item()``, no numpy).
    dim : int
        State dimension D.
    time_dependent : bool, default False
        Whether ``fn`` takes the step index ``t`` as a second argument.
    vectorized : bool, default False
        Whether ``fn`` already maps a batch (N, D) to (N, D) row by row (written with
        ``x[..., i]``); it is then called once per step on all states and tangent
        vectors, without :func:`torch.func.vmap`, which is much faster for small maps.
    dtype : {"float64", "float32"}, default "float64"
        Precision of the states and tangent vectors.
    name : str, optional
        A label kept in :meth:`describe`.

    Raises
    ------
    ValidationError
        If ``fn`` is not callable or ``dim`` < 1; when stepping, if ``fn`` returns
        the wrong shape or is not vmap/jvp-compatible.

    Notes
    -----
    The tangent of R states times k vectors is one call of
    ``vmap(vmap(jvp(fn)))``: forward-mode differentiation, cost about 3 evaluations
    of ``fn`` per vector, no Jacobian materialized.

    Examples
    --------
    The Hénon map, whose Jacobian determinant is -b:

    >>> import torch
    >>> def henon(x):
    ...     return torch.stack([1 - 1.4 * x[0] ** 2 + x[1], 0.3 * x[0]])
    >>> m = DifferentiableMap(henon, 2)
    >>> x1, V1 = m.step_tangent(torch.tensor([0.1, 0.2]), torch.eye(2))
    >>> round(float(torch.linalg.det(V1)), 12)
    -0.3
    """

    def __init__(
        self,
        fn: Callable[..., Any],
        dim: int,
        *,
        time_dependent: bool = False,
        vectorized: bool = False,
        dtype: str = "float64",
        name: str | None = None,
    ) -> None:
        torch = _torch()
        if not callable(fn):
            raise ValidationError(f"`fn` must be callable; got {_describe(fn)}")
        self.fn = fn
        self.dim = check_int(dim, "dim", minimum=1)
        self.time_dependent = bool(time_dependent)
        self.vectorized = bool(vectorized)
        self.dtype = {"float64": torch.float64, "float32": torch.float32}[
            check_option(dtype, "dtype", ("float64", "float32"))
        ]
        self.name = name

    def _f(self, t: int) -> Callable[[Any], Any]:
        if self.time_dependent:
            return lambda x: self.fn(x, t)
        return self.fn

    def _call(self, thunk: Callable[[], Any]) -> Any:
        try:
            return thunk()
        except (RuntimeError, TypeError, ValueError) as exc:
            raise ValidationError(
                "`fn` must be a torch function that torch.func.vmap and jvp can "
                f"transform (no in-place updates, .item() or numpy); calling it failed: {exc}"
            ) from None

    def _check_out(self, out: Any, R: int) -> Any:
        torch = _torch()
        if not isinstance(out, torch.Tensor):
            raise ValidationError(f"`fn` must return a torch tensor; got {_describe(out)}")
        if not out.is_floating_point():
            raise ValidationError(
                f"`fn` must return a real floating-point tensor ({self.dtype}); got {out.dtype}"
            )
        if tuple(out.shape) != (R, self.dim):
            if self.vectorized:
                want = f"a batch (N, {self.dim}) to (N, {self.dim}) when vectorized=True (N = {R})"
                got = tuple(out.shape)
            else:
                want = f"a state of shape ({self.dim},) to shape ({self.dim},)"
                got = tuple(out.shape[1:])
            raise ValidationError(f"`fn` must map {want}; got output shape {got}")
        return out.to(self.dtype)

    def _step(self, x: Any, t: int) -> Any:
        from torch.func import vmap

        f = self._f(t)
        if self.vectorized:
            return self._check_out(self._call(lambda: f(x)), x.shape[0])
        return self._check_out(self._call(lambda: vmap(f)(x)), x.shape[0])

    def _step_tangent(self, x: Any, V: Any, t: int) -> tuple[Any, Any]:
        from torch.func import jvp, vmap

        f = self._f(t)
        if self.vectorized:
            R, k, D = V.shape
            if k == 0:
                return self._step(x, t), V
            xs = x.repeat_interleave(k, dim=0)  # row r * k + j is x[r]
            x1, v1 = self._call(lambda: jvp(f, (xs,), (V.reshape(R * k, D),)))
            x1 = self._check_out(x1, R * k)
            return x1.reshape(R, k, D)[:, 0], v1.to(self.dtype).reshape(R, k, D)

        def one(xr: Any, vs: Any) -> tuple[Any, Any]:
            x1, v1 = vmap(lambda v: jvp(f, (xr,), (v,)))(vs)
            return x1[0], v1

        x1, V1 = self._call(lambda: vmap(one)(x, V))
        return self._check_out(x1, x.shape[0]), V1.to(self.dtype)

    def describe(self) -> dict[str, Any]:
        return {"kind": "DifferentiableMap", "dim": self.dim, "name": self.name,
                "time_dependent": self.time_dependent, "dtype": str(self.dtype)}


# ------------------------------------------------------------------ training
def _check_batches(batches: Any, n: int) -> list[Any]:
    """A list of int64 index tensors (one per step) from an array or a sequence."""
    torch = _torch()
    if isinstance(batches, np.ndarray) or isinstance(batches, torch.Tensor):
        arr = np.asarray(batches.cpu().numpy() if isinstance(batches, torch.Tensor) else batches)
        if arr.ndim != 2 or arr.dtype.kind not in "iu":
            raise ValidationError(
                f"`batches` must be an integer array of shape (T, B) (-1 pads short "
                f"batches) or a sequence of index arrays; got {_describe(arr)}"
            )
        if arr.size and arr.min() < -1:
            i = int(np.argwhere(arr < -1)[0, 0])
            raise ValidationError(
                f"`batches[{i}]` must index samples in [0, {n - 1}] (-1 pads short "
                f"batches); got {int(arr[i].min())}"
            )
        rows = [r[r >= 0] for r in arr]
    elif isinstance(batches, Sequence) and not isinstance(batches, str):
        rows = []
        for i, r in enumerate(batches):
            a = np.asarray(r)
            if a.ndim != 1 or a.dtype.kind not in "iu":
                raise ValidationError(
                    f"`batches[{i}]` must be a 1-D integer index array; got {_describe(a)}"
                )
            rows.append(a)
    else:
        raise ValidationError(
            f"`batches` must be None, an integer array (T, B) or a sequence of index "
            f"arrays; got {_describe(batches)}"
        )
    if not rows:
        raise ValidationError("`batches` must hold at least one batch; got none")
    out = []
    for i, r in enumerate(rows):
        if r.size == 0:
            raise ValidationError(f"`batches[{i}]` must not be empty")
        if r.min() < 0 or r.max() >= n:
            raise ValidationError(
                f"`batches[{i}]` must index samples in [0, {n - 1}]; got values from "
                f"{int(r.min())} to {int(r.max())}"
            )
        out.append(torch.as_tensor(r.astype(np.int64)))
    return out


class TrainingMap(StepMap):
    """One training step as a map on the full state (weights, then optimizer state).

    ``x = [w, s]`` with w the P flat parameters and s the optimizer state (none for
    plain SGD, the momentum buffer for momentum, the two moments for Adam); the map is
    ``(w, s) -> U(w, s, grad L_t(w), t)`` where ``L_t`` is the mean loss on the data
    set (full batch) or on the recorded mini-batch of step t. Its tangent is
    ``(dw, ds) -> J_U (dw, ds, H_t dw)`` with Hessian-vector products ``H_t dw`` from
    the objective (automatic differentiation, or the MLP fast path).

    Build one with :func:`training_map` (or
    :func:`~graphtraj.dynamics.training_map_from_run` for a stored run).

    Parameters
    ----------
    objective : Objective
        Loss, gradient and HVPs of the model on its data.
    rule : UpdateRule
        The optimizer's update rule.
    batches : array (T, B) or sequence of index arrays, optional
        Mini-batch of each step (row ``t - first_step`` is used by step ``t``); -1 pads
        short batches. None: full batch every step (gradient descent).
    first_step : int, default 0
        The step whose batch is ``batches[0]``.
    initial_state : array (S,), optional
        Optimizer state to start from (default zeros: a fresh optimizer).
    initial_step : int, default 0
        Optimizer steps already taken at ``initial_state`` (Adam's bias correction).

    Attributes
    ----------
    dim : int
        D = P + S.
    n_params : int
        P.
    layout : ParamLayout
        Layout of the weights.
    state_layout : ParamLayout
        Layout of the full state (optimizer blocks named ``"<state>:<param>"``).
    """

    def __init__(
        self,
        objective: Objective,
        rule: UpdateRule,
        *,
        batches: Any = None,
        first_step: int = 0,
        initial_state: Any = None,
        initial_step: int = 0,
    ) -> None:
        torch = _torch()
        if not isinstance(objective, Objective):
            raise ValidationError(f"`objective` must be an Objective; got {_describe(objective)}")
        if not isinstance(rule, UpdateRule):
            raise ValidationError(f"`rule` must be an UpdateRule; got {_describe(rule)}")
        self.objective = objective
        self.rule = rule
        self.dtype = torch.float64
        self.n_params = objective.n_params
        self.n_state = rule.state_size(self.n_params)
        self.dim = self.n_params + self.n_state
        self.layout = objective.layout
        names = list(self.layout.names)
        shapes = list(self.layout.shapes)
        kinds = list(self.layout.kinds)
        for block in rule.state_names():
            names += [f"{block}:{n}" for n in self.layout.names]
            shapes += list(self.layout.shapes)
            kinds += ["other"] * len(self.layout.names)
        self.state_layout = ParamLayout(names, shapes, kinds)
        self.first_step = check_int(first_step, "first_step", minimum=0)
        self.batches = None if batches is None else _check_batches(batches, objective.n_samples)
        self.initial_step = check_int(initial_step, "initial_step", minimum=0)
        if initial_state is None:
            self._initial_opt = np.zeros(self.n_state)
        else:
            arr = np.asarray(initial_state, dtype=np.float64).reshape(-1)
            if arr.size != self.n_state:
                raise ValidationError(
                    f"`initial_state` must have {self.n_state} entries (optimizer state); "
                    f"got {arr.size}"
                )
            self._initial_opt = arr

    # ------------------------------------------------------------ state
    def initial_state(self, weights: Any = None) -> np.ndarray:
        """Full states ``[w, s0]`` for weights (P,) or (R, P) (default: the model's own).

        The optimizer state is the map's initial optimizer state (zeros for a fresh
        optimizer).
        """
        if weights is None:
            weights = self.objective.initial_params()
            if weights is None:
                raise ValidationError(
                    "`weights` must be given: this objective has no parameters of its own "
                    "(it was built from a spec, not a module). Draw initial weights with "
                    "graphtraj.capture.init_states(spec, n, rng=...) and pass them, e.g. "
                    "tm.initial_state(init_states(spec, 1, rng=0))"
                )
        w = np.asarray(
            weights.detach().cpu().numpy() if hasattr(weights, "detach") else weights,
            dtype=np.float64,
        )
        if w.ndim not in (1, 2) or w.shape[-1] != self.n_params:
            raise ValidationError(
                f"`weights` must have shape (R, {self.n_params}) or ({self.n_params},); got {w.shape}"
            )
        s = np.broadcast_to(self._initial_opt, w.shape[:-1] + (self.n_state,))
        return np.concatenate([w, s], axis=-1)

    def weights(self, x: Any) -> Any:
        """The weight block ``x[..., :P]`` of states."""
        return x[..., : self.n_params]

    # ------------------------------------------------------------ batches
    def max_steps(self, t0: int) -> int | None:
        if self.batches is None:
            return None
        return max(0, self.first_step + len(self.batches) - int(t0))

    def _batch(self, t: int) -> Any:
        if self.batches is None:
            return None
        i = t - self.first_step
        if i < 0 or i >= len(self.batches):
            raise ValidationError(
                f"step `t` must be within the recorded batches, steps "
                f"[{self.first_step}, {self.first_step + len(self.batches)}); got {t}"
            )
        return self.batches[i]

    # ------------------------------------------------------------ maps
    def _split(self, x: Any) -> tuple[Any, Any]:
        return x[:, : self.n_params], x[:, self.n_params :]

    def _step(self, x: Any, t: int) -> Any:
        torch = _torch()
        w, s = self._split(x)
        g = self.objective.grad(w, self._batch(t))
        w1, s1 = self.rule.update(w, s, g, t)
        return torch.cat([w1, s1], dim=1)

    def _step_tangent(self, x: Any, V: Any, t: int) -> tuple[Any, Any]:
        torch = _torch()
        w, s = self._split(x)
        dw, ds = V[:, :, : self.n_params], V[:, :, self.n_params :]
        g, hdw = self.objective.grad_hvp(w, dw, self._batch(t))
        w1, s1 = self.rule.update(w, s, g, t)
        dw1, ds1 = self.rule.tangent(w, s, g, t, dw, ds, hdw)
        if ds1.shape[2] == 0:  # no optimizer state (plain GD/SGD): skip a copy
            return w1, dw1
        return torch.cat([w1, s1], dim=1), torch.cat([dw1, ds1], dim=2)

    def loss(self, x: Any) -> Any:
        """Mean loss over the whole data set of states ``x`` (R, D) or (D,)."""
        xb, _, single = _batched(x, None, self.dim, self.dtype)
        out = self.objective.loss(self.weights(xb))
        return out[0] if single else out

    def stability_threshold(self) -> float | None:
        """The optimizer's sharpness threshold (2/η for GD), or None (Adam)."""
        return self.rule.stability_threshold()

    def describe(self) -> dict[str, Any]:
        return {
            "kind": "TrainingMap",
            "dim": self.dim,
            "n_params": self.n_params,
            "optimizer": self.rule.to_dict(),
            "objective": type(self.objective).__name__,
            "mini_batches": self.batches is not None,
        }


def training_map(
    model: Any,
    X: Any = None,
    y: Any = None,
    *,
    optimizer: Any = "sgd",
    lr: float | None = None,
    loss: Any = None,
    batches: Any = None,
    first_step: int = 0,
    chunk_size: int | None = None,
    fast: bool = False,
    hvp: str = "double_backward",
    train_mode: bool = True,
    **optimizer_options: Any,
) -> TrainingMap:
    """The training step of a model on a data set, as a differentiable map.

    Parameters
    ----------
    model : torch.nn.Module, MLP spec dict or Objective
        Any module (general path: :func:`torch.func.functional_call`), an MLP spec,
        or a prebuilt :class:`~graphtraj.dynamics.Objective` (then ``X``, ``y`` are
        not given).
    X, y : array-like
        Training inputs (n, ...) and targets (n,) (integer labels for the built-in
        losses).
    optimizer : {"sgd", "adam", "adamw"}, torch.optim optimizer or UpdateRule
        The update rule (see :func:`~graphtraj.dynamics.update_rule`). A
        ``torch.optim`` instance contributes its hyperparameters and its current state
        (momentum buffers, moments, step count) as the initial optimizer state; it must
        optimize exactly ``model.parameters()``.
    lr : float
        Learning rate (with an optimizer name).
    loss : {"cross_entropy", "mse"} or callable, optional
        Loss (default: the MLP spec's, else cross-entropy).
    batches : array (T, B) or sequence of index arrays, optional
        Recorded mini-batches, row ``t - first_step`` for step t (SGD replay). None:
        full batch (gradient descent).
    first_step : int, default 0
        Step of ``batches[0]``.
    chunk_size : int, optional
        Samples evaluated at once (memory bound).
    fast : bool, default False
        Hand-derived MLP fast path (see :class:`~graphtraj.dynamics.MLPObjective`).
        The general path is the default.
    hvp : {"double_backward", "forward_over_reverse"}, default "double_backward"
        HVP method of the general path (see :class:`~graphtraj.dynamics.ModuleObjective`).
    train_mode : bool, default True
        Evaluate the model in training mode (batch statistics, no running-statistic
        updates).
    **optimizer_options
        ``momentum``, ``nesterov``, ``weight_decay``, ``betas``, ``eps``.

    Returns
    -------
    TrainingMap

    Raises
    ------
    ValidationError
        For malformed data, batches or hyperparameters, or an optimizer that does not
        optimize the model's parameters.
    UnsupportedModelError
        For unsupported models (active dropout, ...) or optimizers (see
        :func:`~graphtraj.dynamics.update_rule`).

    Notes
    -----
    The state is float64. The tangent map is exact (no finite differences): for
    gradient descent it is :math:`I - \\eta H(w)`; with momentum and Adam it acts on
    the optimizer state too, so the phase space has dimension 2P or 3P. Cost per
    step and tangent vector: one Hessian-vector product (about 2-4 gradient
    evaluations) plus elementwise work.

    Examples
    --------
    Gradient descent on a linear least-squares loss has the constant tangent map
    I - η XᵀX/n (loss: half the mean squared residual):

    >>> import torch
    >>> X = torch.tensor([[1.0, 0.0], [0.0, 2.0]])
    >>> model = torch.nn.Linear(2, 1, bias=False)
    >>> half_mse = lambda out, t: 0.5 * ((out[:, 0] - t) ** 2).mean()
    >>> tm = training_map(model, X, torch.zeros(2), loss=half_mse, lr=0.5)
    >>> _, V = tm.step_tangent(torch.ones(2), torch.eye(2))
    >>> V.tolist()  # I - 0.5 * diag(0.5, 2)
    [[0.75, 0.0], [0.0, 0.0]]
    """
    torch = _torch()
    if isinstance(model, Objective):
        if X is not None or y is not None:
            raise ValidationError("`X` and `y` must not be given with an Objective")
        objective = model
    else:
        if X is None or y is None:
            raise ValidationError("`X` and `y` must be given (the training data)")
        objective = make_objective(
            model, X, y, loss=loss, chunk_size=chunk_size, hvp=hvp, fast=fast,
            train_mode=train_mode,
        )
    torch_opt = None
    if isinstance(optimizer, torch.optim.Optimizer):
        torch_opt = optimizer
        if not isinstance(model, torch.nn.Module):
            raise ValidationError("a torch.optim `optimizer` must come with a torch.nn.Module `model`")
        mine = [p for p in model.parameters() if p.requires_grad]
        if len(optimizer.param_groups) > 1:
            update_rule(optimizer)  # raises UnsupportedModelError for several groups
        theirs = list(optimizer.param_groups[0]["params"]) if optimizer.param_groups else []
        if len(mine) != len(theirs) or any(a is not b for a, b in zip(mine, theirs, strict=True)):
            raise ValidationError(
                "`optimizer` must optimize exactly the model's trainable parameters, "
                "in order (build it as torch.optim.SGD(model.parameters(), ...))"
            )
    rule = update_rule(optimizer, lr=lr, **optimizer_options)
    initial_state, initial_step = None, 0
    if torch_opt is not None:
        initial_state, initial_step = _torch_optimizer_state(torch_opt, rule, mine)
    return TrainingMap(
        objective, rule, batches=batches, first_step=first_step,
        initial_state=initial_state, initial_step=initial_step,
    )


def _torch_optimizer_state(opt: Any, rule: UpdateRule, params: list[Any]) -> tuple[Any, int]:
    """Flat optimizer state (S,) and step count read from a torch optimizer."""
    names = rule.state_names()
    if not names:
        return None, 0
    blocks = []
    step = 0
    for name in names:
        parts = []
        for p in params:
            st = opt.state.get(p, {})
            value = st.get(name)
            if value is None:
                value = np.zeros(p.numel())
            else:
                value = value.detach().to(dtype=_torch().float64).reshape(-1).cpu().numpy()
            if "step" in st:
                step = int(float(st["step"]))
            parts.append(value)
        blocks.append(np.concatenate(parts))
    return np.concatenate(blocks), step
