"""`train_ensemble`: R replicas of an MLP trained in lockstep by batched tensor operations.

The replicas share the data, so the whole ensemble advances one training step with a
handful of large tensor operations: the first layer is one GEMM of the shared inputs
against the stacked first-layer weights of every replica, later layers are batched
matmuls, and the backward pass is derived by hand for the MLP family (no autograd
graph, no Python loop over replicas, no ``vmap``). Large ensembles are evaluated in
chunks of replicas sized to stay in cache (:data:`CHUNK_BYTES`).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import numpy as np
import torch

from graphtraj._checks import (
    _describe,
    as_float_array,
    check_int,
    check_option,
    check_real,
)
from graphtraj._progress import progress_bar
from graphtraj.capture.functional import check_spec
from graphtraj.capture.models import MLP, as_torch_dtype, init_states
from graphtraj.capture.perturbation import (
    PERTURB_TARGETS,
    PERTURBATIONS,
    check_resolution,
    perturb_states,
)
from graphtraj.capture.recorder import IndexSampler, versions
from graphtraj.exceptions import ValidationError
from graphtraj.trajectory.core import Ensemble
from graphtraj.trajectory.layout import ParamLayout

__all__ = ["OBSERVABLES", "train_ensemble"]

#: Streaming observables measured at every step (see :func:`train_ensemble`).
OBSERVABLES = ("loss", "accuracy", "dist_l1", "dist_l2")

#: Target size in bytes of one hidden-layer work array: replicas are evaluated in chunks
#: of about this size so that a chunk's working set stays in cache (cache blocking).
CHUNK_BYTES = 2**21

_ACT_BACKWARD = {
    "sigmoid": torch.ops.aten.sigmoid_backward.grad_input,
    "tanh": torch.ops.aten.tanh_backward.grad_input,
}


def _accuracy(z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """``argmax(z, dim=1) == y`` for z (R, k, m); a running max over the k classes is
    much faster than torch.argmax along a strided axis. Ties go to the lowest index."""
    best = z[:, 0, :]
    idx = torch.zeros(best.shape, dtype=torch.int64)
    for j in range(1, z.shape[1]):
        zj = z[:, j, :]
        upd = zj > best
        best = torch.where(upd, zj, best)
        idx.masked_fill_(upd, j)
    return idx == y


def _relu(z: torch.Tensor, *, out: torch.Tensor) -> torch.Tensor:
    return torch.clamp(z, min=0.0, out=out)


class _Buffers:
    """Work arrays of one batch size ``m`` (allocated once, reused every step)."""

    def __init__(self, R: int, shapes: list[tuple[int, int]], aug: int, m: int,
                 dtype: torch.dtype) -> None:
        h1 = shapes[0][0]
        self.z0 = torch.empty(R * h1, m, dtype=dtype)
        # Hidden activations with a constant row of ones appended (the bias input),
        # so that weight and bias gradients come out of one matmul.
        self.acts = []
        self.zs = []
        self.gs = []
        self.deltas = []
        for out_f, in_aug in shapes[1:]:
            n_in = in_aug - aug
            a = torch.empty(R, in_aug, m, dtype=dtype)
            if aug:
                a[:, n_in, :] = 1.0
            self.acts.append(a)
            self.zs.append(torch.empty(R, out_f, m, dtype=dtype))
            self.gs.append(torch.empty(R, n_in, m, dtype=dtype))
            self.deltas.append(torch.empty(R, n_in, m, dtype=dtype))
        if not self.zs:  # a single linear layer: the output is z0
            self.zs.append(self.z0.view(R, h1, m))
        self.out_tmp = torch.empty(R, shapes[-1][0], m, dtype=dtype)


class _Engine:
    """R MLP replicas; parameters stored layer-major as blocks (R, out, in [+1 bias])."""

    def __init__(self, spec: dict[str, Any], flat: np.ndarray, X: torch.Tensor,
                 y: torch.Tensor, dtype: torch.dtype, momentum: float) -> None:
        self.spec = spec
        self.dtype = dtype
        self.aug = int(spec["bias"])
        sizes = spec["sizes"]
        self.R = int(flat.shape[0])
        self.shapes = [(o, i + self.aug) for i, o in zip(sizes[:-1], sizes[1:], strict=False)]
        self.counts = [self.R * o * c for o, c in self.shapes]
        total = sum(self.counts)
        self._views: dict[int, tuple[torch.Tensor, list[torch.Tensor]]] = {}
        self.theta = torch.empty(total, dtype=dtype)
        self.spare = torch.empty(total, dtype=dtype)
        self.grad = torch.empty(total, dtype=dtype)
        self.momentum = momentum
        self.buf: torch.Tensor | None = None
        self.layout = ParamLayout.for_mlp(sizes, bias=spec["bias"])
        self.set_flat(flat)
        n = X.shape[0]
        ones = torch.ones(n, self.aug, dtype=dtype)
        self.Xa = torch.cat([X.to(dtype), ones], dim=1).contiguous()  # (n, d + aug)
        self.y = y
        k = sizes[-1]
        self.onehotT = torch.nn.functional.one_hot(y, k).to(dtype).T.contiguous()  # (k, n)
        self.alive = torch.ones(self.R, dtype=torch.bool)
        self.frozen: torch.Tensor | None = None
        self._buffers: dict[tuple[int, int], _Buffers] = {}
        self.itemsize = torch.empty(0, dtype=dtype).element_size()
        act = spec["activation"]
        self._act = {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": _relu}[act]
        self._act_name = act

    # ----------------------------------------------------------- layout maps
    def blocks(self, vec: torch.Tensor) -> list[torch.Tensor]:
        """Per-layer views (R, out, in [+1]) of a layer-major vector (cached per buffer)."""
        key = id(vec)
        hit = self._views.get(key)
        if hit is not None and hit[0] is vec:
            return hit[1]
        out, off = [], 0
        for (o, c), cnt in zip(self.shapes, self.counts, strict=True):
            out.append(vec[off : off + cnt].view(self.R, o, c))
            off += cnt
        if vec is self.theta or vec is self.spare or vec is self.grad or vec is self.buf:
            self._views[key] = (vec, out)
        return out

    def set_flat(self, flat: np.ndarray) -> None:
        """Load (R, P) states given in ParamLayout.for_mlp order."""
        parts = self.layout.unflatten(np.asarray(flat, dtype=np.float64))
        for i, blk in enumerate(self.blocks(self.theta)):
            o, c = self.shapes[i]
            n_in = c - self.aug
            blk[:, :, :n_in] = torch.from_numpy(parts[f"layers.{i}.weight"])
            if self.aug:
                blk[:, :, n_in] = torch.from_numpy(parts[f"layers.{i}.bias"])

    def get_flat(self, vec: torch.Tensor | None = None) -> np.ndarray:
        """The states (or ``vec``, e.g. the gradient) as (R, P) float64 in
        ParamLayout.for_mlp order."""
        parts = []
        for i, blk in enumerate(self.blocks(self.theta if vec is None else vec)):
            n_in = self.shapes[i][1] - self.aug
            parts.append(blk[:, :, :n_in].reshape(self.R, -1))
            if self.aug:
                parts.append(blk[:, :, n_in])
        return torch.cat(parts, dim=1).to(torch.float64).numpy()

    def expanded(self, flat: np.ndarray, repeats: int) -> _Engine:
        """A new engine on ``flat`` whose momentum buffers repeat this engine's."""
        new = _Engine(self.spec, flat, self.Xa[:, : self.Xa.shape[1] - self.aug], self.y,
                      self.dtype, self.momentum)
        if self.buf is not None:
            new.buf = torch.cat([b.repeat_interleave(repeats, dim=0).reshape(-1)
                                 for b in self.blocks(self.buf)])
        return new

    # ------------------------------------------------------------- kernels
    def _bufs(self, Rc: int, m: int) -> _Buffers:
        b = self._buffers.get((Rc, m))
        if b is None:
            b = self._buffers[(Rc, m)] = _Buffers(Rc, self.shapes, self.aug, m, self.dtype)
        return b

    def _chunks(self, m: int) -> list[tuple[int, int]]:
        """Replica ranges evaluated together, sized so that one hidden-layer work array
        holds about ``CHUNK_BYTES`` and the working set of a chunk stays in cache."""
        width = max(o for o, _ in self.shapes)
        per = max(1, CHUNK_BYTES // (width * m * self.itemsize))
        return [(r0, min(r0 + per, self.R)) for r0 in range(0, self.R, per)]

    def _forward(self, W: list[torch.Tensor], XaT: torch.Tensor, b: _Buffers) -> torch.Tensor:
        """Outputs (Rc, k, m) of a chunk of replicas with weight blocks ``W``."""
        Rc, (h1, c0) = W[0].shape[0], self.shapes[0]
        m = XaT.shape[1]
        # first layer: one GEMM over the shared inputs, (Rc*h1, d+1) @ (d+1, m)
        torch.mm(W[0].view(Rc * h1, c0), XaT, out=b.z0)
        z = b.z0.view(Rc, h1, m)
        for layer in range(1, len(W)):
            a = b.acts[layer - 1]
            n_in = a.shape[1] - self.aug
            self._act(z, out=a[:, :n_in, :])
            torch.bmm(W[layer], a, out=b.zs[layer - 1])
            z = b.zs[layer - 1]
        return z

    def _loss_delta(self, z: torch.Tensor, y: torch.Tensor, onehotT: torch.Tensor,
                    b: _Buffers, want_delta: bool, want_acc: bool):
        """Per-replica loss (Rc,), accuracy (Rc,) or None, and dL/dz up to a scale."""
        Rc, k, m = z.shape
        out = b.out_tmp
        acc = None
        if want_acc:
            acc = _accuracy(z, y).to(self.dtype).mean(dim=1)
        if self.spec["loss"] == "cross_entropy":
            torch.log_softmax(z, dim=1, out=out)
            idx = y.view(1, 1, m).expand(Rc, 1, m)
            loss = -out.gather(1, idx).sum(dim=(1, 2)) / m
            if not want_delta:
                return loss, acc, None, 0.0
            out.exp_()
            out.sub_(onehotT)                     # softmax - onehot
            return loss, acc, out, 1.0 / m
        torch.sub(z, onehotT, out=out)            # residual of the one-hot targets
        loss = out.square().sum(dim=(1, 2)) / (m * k)
        return loss, acc, out, 2.0 / (m * k)

    def _backward(self, W: list[torch.Tensor], G: list[torch.Tensor], delta: torch.Tensor,
                  b: _Buffers, Xa: torch.Tensor) -> None:
        """Unscaled gradients of a chunk of replicas into the gradient blocks ``G``."""
        Rc = W[0].shape[0]
        for layer in range(len(W) - 1, 0, -1):
            a = b.acts[layer - 1]
            n_in = a.shape[1] - self.aug
            torch.bmm(delta, a.transpose(1, 2), out=G[layer])
            g = b.gs[layer - 1]
            torch.bmm(W[layer][:, :, :n_in].transpose(1, 2), delta, out=g)
            d_new = b.deltas[layer - 1]
            act_out = a[:, :n_in, :]
            if self._act_name == "relu":
                torch.ops.aten.threshold_backward.grad_input(g, act_out, 0.0, grad_input=d_new)
            else:
                _ACT_BACKWARD[self._act_name](g, act_out, grad_input=d_new)
            delta = d_new
        h1, c0 = self.shapes[0]
        torch.mm(delta.reshape(Rc * h1, -1), Xa, out=G[0].view(Rc * h1, c0))

    def evaluate(self, Xa: torch.Tensor, XaT: torch.Tensor, y: torch.Tensor,
                 onehotT: torch.Tensor, *, want_acc: bool, want_grad: bool):
        """Loss (R,), accuracy (R,) or None of every replica on ``Xa`` (m, d + aug), and
        when ``want_grad`` the unscaled gradient into ``self.grad`` and its scale."""
        m = Xa.shape[0]
        loss = torch.empty(self.R, dtype=self.dtype)
        acc = torch.empty(self.R, dtype=self.dtype) if want_acc else None
        W = self.blocks(self.theta)
        G = self.blocks(self.grad)
        scale = 0.0
        for r0, r1 in self._chunks(m):
            Wc = [w[r0:r1] for w in W]
            b = self._bufs(r1 - r0, m)
            z = self._forward(Wc, XaT, b)
            lc, ac, delta, scale = self._loss_delta(z, y, onehotT, b, want_grad, want_acc)
            loss[r0:r1] = lc
            if want_acc:
                acc[r0:r1] = ac
            if want_grad:
                self._backward(Wc, [g[r0:r1] for g in G], delta, b, Xa)
        return loss, acc, scale

    def full_gradient(self) -> tuple[np.ndarray, np.ndarray]:
        """Loss (R,) and full-batch gradient (R, P) of every replica (for checks)."""
        loss, _, scale = self.evaluate(self.Xa, self.Xa.T.contiguous(), self.y, self.onehotT,
                                       want_acc=False, want_grad=True)
        return loss.numpy().copy(), self.get_flat(self.grad) * scale

    def update(self, lr: float, scale: float) -> None:
        """One SGD step (torch.optim.SGD semantics) into the spare buffer, then swap."""
        if self.momentum:
            if self.buf is None:
                self.buf = self.grad * scale
            else:
                self.buf.mul_(self.momentum).add_(self.grad, alpha=scale)
            torch.add(self.theta, self.buf, alpha=-lr, out=self.spare)
        else:
            torch.add(self.theta, self.grad, alpha=-lr * scale, out=self.spare)
        if self.frozen is not None:
            for old, new in zip(self.blocks(self.theta), self.blocks(self.spare), strict=True):
                new[self.frozen] = old[self.frozen]
        self.theta, self.spare = self.spare, self.theta

    def check_finite(self) -> torch.Tensor:
        """Replicas that just became non-finite (and freeze them at the previous state)."""
        if bool(torch.isfinite(self.theta).all()):  # the usual case: one pass, no copies
            return torch.zeros(self.R, dtype=torch.bool)
        fin = torch.ones(self.R, dtype=torch.bool)
        for blk in self.blocks(self.theta):
            fin &= torch.isfinite(blk).view(self.R, -1).all(dim=1)
        bad = self.alive & ~fin
        if bool(bad.any()):
            idx = torch.nonzero(bad).view(-1)
            for old, new in zip(self.blocks(self.spare), self.blocks(self.theta), strict=True):
                new[idx] = old[idx]
            self.alive &= ~bad
            self.frozen = torch.nonzero(~self.alive).view(-1)
        return bad

    def distances(self, n_groups: int, want_l1: bool, want_l2: bool):
        """L1 and L2 distances (R,) of every replica to the first replica of its group."""
        l1 = torch.zeros(n_groups, self.R // n_groups, dtype=self.dtype) if want_l1 else None
        l2 = torch.zeros(n_groups, self.R // n_groups, dtype=self.dtype) if want_l2 else None
        for blk in self.blocks(self.theta):
            g = blk.reshape(n_groups, self.R // n_groups, -1)
            diff = g - g[:, :1, :]
            if want_l1:
                l1 += diff.abs().sum(dim=2)
            if want_l2:
                l2 += diff.square().sum(dim=2)
        return (None if l1 is None else l1.reshape(-1),
                None if l2 is None else l2.sqrt().reshape(-1))


# ---------------------------------------------------------------- validation
def _check_labels(y: Any, n: int, k: int) -> np.ndarray:
    arr = np.asarray(y)
    if arr.dtype.kind == "f" and arr.size and np.all(np.isfinite(arr)) and np.all(arr == np.round(arr)):
        arr = arr.astype(np.int64)
    if arr.dtype.kind not in "iu" or arr.ndim != 1:
        raise ValidationError(
            f"`y` must be a 1-D array of integer class labels; got {_describe(arr)}"
        )
    if arr.shape[0] != n:
        raise ValidationError(f"`y` must have one label per row of `X` ({n}); got {arr.shape[0]}")
    if arr.size and (arr.min() < 0 or arr.max() >= k):
        raise ValidationError(
            f"`y` must hold labels in [0, {k - 1}] (the network has {k} outputs); got "
            f"labels from {int(arr.min())} to {int(arr.max())}"
        )
    return arr.astype(np.int64)


def _record_times(record_every: Any, record_steps: Any, n_steps: int) -> np.ndarray:
    times: set[int] = set()
    if record_every is not None:
        every = check_int(record_every, "record_every", minimum=1)
        times.update(range(0, n_steps + 1, every))
    if record_steps is not None:
        if isinstance(record_steps, (str, bytes)) or not isinstance(record_steps, Iterable):
            raise ValidationError(
                f"`record_steps` must be a sequence of steps; got {_describe(record_steps)}"
            )
        for s in record_steps:
            times.add(check_int(s, "record_steps entries", minimum=0, maximum=n_steps))
    return np.array(sorted(times), dtype=np.int64)


def _batches(n: int, batch_size: int | None, seed: list[int]) -> Iterator[np.ndarray | None]:
    if batch_size is None:
        return itertools.repeat(None)
    sampler = IndexSampler(n, batch_size, shuffle=True, seed=seed)
    return itertools.chain.from_iterable(iter(sampler) for _ in itertools.count())


# -------------------------------------------------------------------- driver
class _Run:
    """Observables and state records of one train_ensemble call."""

    def __init__(self, R: int, S: int, observe: tuple[str, ...], times: np.ndarray, P: int):
        self.obs = {name: np.full((R, S), np.nan) for name in observe}
        self.times = times
        self.rec_index = {int(t): j for j, t in enumerate(times)}
        self.states = np.empty((R, times.size, P)) if times.size else None


def _advance(eng: _Engine, run: _Run, t_begin: int, t_end: int, observe_last: bool,
             lr: float, batches: Iterator[np.ndarray | None], n_groups: int,
             diverged_at: np.ndarray, progress_iter: Iterator[int]) -> None:
    """Train ``eng`` from step t_begin to t_end, filling ``run`` (observing t_end too
    when ``observe_last``)."""
    want = run.obs.keys()
    want_acc = "accuracy" in want
    want_l1, want_l2 = "dist_l1" in want, "dist_l2" in want
    XaT_full = eng.Xa.T.contiguous()
    for t in range(t_begin, t_end + 1):
        last = t == t_end
        if last and not observe_last:
            break
        batch = None if last else next(batches)
        full_step = batch is None and not last
        # observe the state at step t on the full training set (and, for full-batch
        # gradient descent, take the gradient in the same pass)
        loss, acc, scale = eng.evaluate(eng.Xa, XaT_full, eng.y, eng.onehotT,
                                        want_acc=want_acc, want_grad=full_step)
        if "loss" in want:
            run.obs["loss"][:, t] = loss.numpy()
        if want_acc:
            run.obs["accuracy"][:, t] = acc.numpy()
        if (want_l1 or want_l2) and n_groups == eng.R:  # references only: all zero
            for name in ("dist_l1", "dist_l2"):
                if name in run.obs:
                    run.obs[name][:, t] = 0.0
        elif want_l1 or want_l2:
            l1, l2 = eng.distances(n_groups, want_l1, want_l2)
            if want_l1:
                run.obs["dist_l1"][:, t] = l1.numpy()
            if want_l2:
                run.obs["dist_l2"][:, t] = l2.numpy()
        j = run.rec_index.get(t)
        if j is not None:
            run.states[:, j, :] = eng.get_flat()
        if last:
            break
        if not full_step:
            idx = torch.from_numpy(batch)
            Xa_b = eng.Xa[idx]
            _, _, scale = eng.evaluate(Xa_b, Xa_b.T.contiguous(), eng.y[idx],
                                       eng.onehotT[:, idx], want_acc=False, want_grad=True)
        eng.update(lr, scale)
        bad = eng.check_finite()
        if eng.frozen is not None:
            diverged_at[bad.numpy()] = t + 1
        next(progress_iter, None)


def _mask_diverged(run: _Run, diverged_at: np.ndarray, reference: np.ndarray,
                   steps: np.ndarray) -> None:
    for r in np.flatnonzero(diverged_at >= 0):
        after = steps >= diverged_at[r]
        for arr in run.obs.values():
            arr[r, after] = np.nan
    for name in ("dist_l1", "dist_l2"):
        if name in run.obs:
            for r in range(reference.size):
                d = diverged_at[reference[r]]
                if d >= 0:
                    run.obs[name][r, steps >= d] = np.nan


#: Networks with fewer parameters train on one torch thread unless ``num_threads`` says
#: otherwise (see :func:`train_ensemble`).
SMALL_NETWORK = 10_000


def train_ensemble(
    model: Any,
    X: Any,
    y: Any,
    *,
    lr: float,
    n_steps: int,
    n_inits: int = 1,
    inits: Any = None,
    n_perturb: int = 0,
    eps: float = 1e-8,
    perturbation: str = "uniform",
    perturb_target: str = "weights",
    perturb_at: int = 0,
    batch_size: int | None = None,
    momentum: float = 0.0,
    seed: int = 0,
    dtype: Any = "float64",
    record_every: int | None = None,
    record_steps: Iterable[int] | None = None,
    observe: Iterable[str] = OBSERVABLES,
    data_ref: Mapping[str, Any] | None = None,
    progress: bool | None = None,
    num_threads: int | None = None,
) -> Ensemble:
    """Train R replicas of an MLP in lockstep and measure them at every step.

    Replicas are ``n_inits`` references (independent initial conditions) each followed
    by ``n_perturb`` perturbed copies, R = ``n_inits · (1 + n_perturb)``. All replicas
    see the same data in the same order and are advanced together by batched tensor
    operations with a hand-derived backward pass.

    Parameters
    ----------
    model : dict or MLP
        A model spec (see :func:`graphtraj.capture.functional.check_spec`) or an
        :class:`~graphtraj.capture.models.MLP`; an MLP also supplies the initial state
        (one init) unless ``inits`` is given.
    X : array-like, shape (n, sizes[0])
        Training inputs (finite).
    y : array-like of int, shape (n,)
        Class labels in ``[0, sizes[-1])`` (one-hot targets for the MSE loss).
    lr : float
        Learning rate η > 0.
    n_steps : int
        Number of optimizer steps (>= 0).
    n_inits : int, default 1
        Number of independent initial conditions, drawn from N(0, 1) weights and zero
        biases (the paper) with ``seed``.
    inits : array-like, shape (n_inits, P), optional
        Explicit initial states in :meth:`ParamLayout.for_mlp` order.
    n_perturb : int, default 0
        Perturbed copies per reference.
    eps : float, default 1e-8
        Perturbation size (see :func:`graphtraj.capture.perturbation.perturb_states`);
        must be at least 100 machine epsilons of ``dtype`` at the parameter scale.
    perturbation : {"uniform", "gaussian"}, default "uniform"
        U(−ε, ε) or N(0, ε²) per perturbed entry.
    perturb_target : {"weights", "all"}, default "weights"
        Perturb weights only (the paper) or all parameters.
    perturb_at : int, default 0
        Step t0 at which the copies are made from the reference's state (and momentum
        buffer); ``t0 > 0`` is the orbital-stability test. Before t0 every copy equals
        its reference.
    batch_size : int, optional
        None for full-batch gradient descent; otherwise mini-batch SGD with batches
        from ``IndexSampler(n, batch_size, shuffle=True, seed=[seed, 2])``, the same
        order for every replica, epochs chained.
    momentum : float, default 0.0
        Momentum μ >= 0 with :class:`torch.optim.SGD` semantics (buffer starts at the
        first gradient; no dampening, no Nesterov).
    seed : int, default 0
        Seed of the initial states (``numpy.random.default_rng(seed)``, as
        :func:`paper_mlp`), the perturbations (``default_rng([seed, 1])``) and the batch
        order (``[seed, 2]``).
    dtype : {"float64", "float32"}, default "float64"
        Arithmetic precision.
    record_every : int, optional
        Record full states every this many steps (steps 0, k, 2k, ... <= n_steps).
    record_steps : iterable of int, optional
        Further steps whose full states are recorded.
    observe : iterable of str, default all of ``OBSERVABLES``
        Streaming observables: ``"loss"`` and ``"accuracy"`` on the full training set
        and ``"dist_l1"``, ``"dist_l2"`` to the replica's reference, all of the state AT
        each step 0..n_steps.
    data_ref : dict, optional
        Reference of the data set (e.g. ``{"name": "iris", "split": "train", ...}``),
        stored in the metadata; a run is replayable only with it.
    progress : bool, optional
        Show a progress bar (default: when interactive).
    num_threads : int, optional
        Torch intra-op threads to use during training (restored afterwards). None
        uses 1 for networks of fewer than 10 000 parameters (``SMALL_NETWORK``; their
        per-step products are too small for threads to pay; torch's default threads
        made the paper network 3-30x slower on a busy two-core machine) and keeps
        ``torch.get_num_threads()`` for larger ones. Parallel workers should each use 1.

    Returns
    -------
    Ensemble
        ``steps`` = 0..n_steps, ``observables`` (R, n_steps + 1), ``reference``,
        ``diverged_at``, recorded ``times``/``states`` (float64) and ``metadata``
        (model, optimizer, data, init, perturbation, seed, dtype, versions,
        replayable).

    Raises
    ------
    ValidationError
        For invalid values, shapes or labels, non-finite data or ``inits``, and ``eps``
        below the dtype's resolution (field case C22).
    UnknownOptionError
        For unknown option strings.

    Notes
    -----
    One step for replica r is :math:`\\theta_r \\leftarrow \\theta_r - \\eta \\nabla
    L(\\theta_r)` (plus momentum), with :math:`\\nabla L` computed by backpropagation
    written out for the MLP family: for softmax cross-entropy
    :math:`\\partial L/\\partial z = (\\mathrm{softmax}(z) - \\mathrm{onehot}(y))/n`, for MSE
    :math:`2(z - \\mathrm{onehot}(y))/(nk)`, and through a hidden layer
    :math:`\\delta_l = (W_l^\\top \\delta_{l+1}) \\odot \\sigma'(z_l)`. This equals a
    single-network ``nn.Module`` + ``torch.optim.SGD`` loop up to floating-point
    rounding (a few ulps per step); in chaotic regimes (η ≈ 1 on the paper network)
    rounding differences grow like any perturbation, so agreement to 1e-12 holds only
    over short horizons.

    A replica whose parameters become non-finite after the step into ``t`` gets
    ``diverged_at = t``, is frozen at its last finite state and its observables are NaN
    from ``t`` on (its copies' distances too when it is a reference). The others are
    unaffected. Cost per step O(R n P) time and O(R n h) memory for the widest hidden
    layer h; the observables add O(R P).

    References
    ----------
    .. [1] P. Danovski, M. C. Soriano, L. Lacasa, "Dynamical stability and chaos in
       artificial neural network trajectories along training", Front. Complex Syst. 2
       (2024). https://doi.org/10.3389/fcpxs.2024.1367957

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X, y = rng.normal(size=(30, 4)), rng.integers(0, 3, 30)
    >>> ens = train_ensemble({"sizes": [4, 10, 3]}, X, y, lr=0.1, n_steps=50,
    ...                      n_inits=2, n_perturb=3, eps=1e-8)
    >>> ens.n_replicas, ens.observables["loss"].shape
    (8, (8, 51))
    >>> bool(np.all(ens.observables["loss"][:, -1] < ens.observables["loss"][:, 0]))
    True
    >>> d0 = ens.observables["dist_l1"][1:4, 0]   # 70 weights, U(-eps, eps): ~35 eps
    >>> bool(np.all((d0 > 1e-7) & (d0 < 7e-7)))
    True
    """
    # ------------------------------------------------------------ validation
    given_mlp = isinstance(model, MLP)
    if given_mlp:
        spec = dict(model.spec)
    elif isinstance(model, Mapping):
        spec = check_spec(model, "model")
    else:
        raise ValidationError(
            f"`model` must be a model spec dict or a graphtraj MLP; got {_describe(model)}. "
            "Arbitrary torch modules can be recorded with `Recorder`."
        )
    sizes = spec["sizes"]
    layout = ParamLayout.for_mlp(sizes, bias=spec["bias"])
    P = layout.size
    Xn = as_float_array(X, "X", 2)
    if Xn.shape[1] != sizes[0]:
        raise ValidationError(
            f"`X` must have {sizes[0]} columns (the input width of the model); got shape "
            f"{Xn.shape}"
        )
    n = Xn.shape[0]
    yn = _check_labels(y, n, sizes[-1])
    lr = check_real(lr, "lr", minimum=0.0, strict_min=True)
    n_steps = check_int(n_steps, "n_steps", minimum=0)
    n_inits = check_int(n_inits, "n_inits", minimum=1)
    n_perturb = check_int(n_perturb, "n_perturb", minimum=0)
    eps = check_real(eps, "eps", minimum=0.0, strict_min=True)
    perturbation = check_option(perturbation, "perturbation", PERTURBATIONS)
    perturb_target = check_option(perturb_target, "perturb_target", PERTURB_TARGETS)
    perturb_at = check_int(perturb_at, "perturb_at", minimum=0, maximum=n_steps)
    if batch_size is not None:
        batch_size = check_int(batch_size, "batch_size", minimum=1, maximum=n)
    momentum = check_real(momentum, "momentum", minimum=0.0)
    seed = check_int(seed, "seed", minimum=0)
    tdtype = as_torch_dtype(dtype)
    dtype_name = str(tdtype).replace("torch.", "")
    if isinstance(observe, str) or not isinstance(observe, Iterable):
        raise ValidationError(
            f"`observe` must be a sequence of observable names; got {_describe(observe)}"
        )
    observe = tuple(check_option(o, "observe entries", OBSERVABLES) for o in observe)
    observe = tuple(o for o in OBSERVABLES if o in observe)
    times = _record_times(record_every, record_steps, n_steps)
    if data_ref is not None and not isinstance(data_ref, Mapping):
        raise ValidationError(f"`data_ref` must be a dict or None; got {_describe(data_ref)}")
    if num_threads is not None:
        num_threads = check_int(num_threads, "num_threads", minimum=1)

    if inits is not None:
        init_arr = as_float_array(inits, "inits", 2)
        if init_arr.shape[1] != P:
            raise ValidationError(
                f"`inits` must have shape (n_inits, {P}) for sizes {sizes}; got {init_arr.shape}"
            )
        if n_inits not in (1, init_arr.shape[0]):
            raise ValidationError(
                f"`n_inits` must equal the number of rows of `inits` ({init_arr.shape[0]}); "
                f"got {n_inits}"
            )
        n_inits = init_arr.shape[0]
        init_meta: dict[str, Any] = {"kind": "given"}
    elif given_mlp:
        if n_inits != 1:
            raise ValidationError(
                f"`n_inits` must be 1 when `model` is an MLP (its parameters are the "
                f"initial state); got {n_inits}. Pass a spec dict to draw several inits."
            )
        init_arr = model.flat_parameters()[None, :]
        init_meta = {"kind": "given"}
    else:
        init_arr = init_states(spec, n_inits, rng=np.random.default_rng(seed))
        init_meta = {"weight_init": "normal", "weight_std": 1.0, "bias_init": 0.0}
    init_arr = np.asarray(init_arr, dtype=np.dtype(dtype_name)).astype(np.float64)

    if n_perturb:  # C22, checked up front at the scale of the initial states
        check_resolution(eps, init_arr, layout, perturb_target, dtype_name)

    # -------------------------------------------------------------- set-up
    group = 1 + n_perturb
    R = n_inits * group
    reference = np.repeat(np.arange(n_inits) * group, group)
    steps = np.arange(n_steps + 1, dtype=np.int64)
    run = _Run(R, steps.size, observe, times, P)
    diverged_at = np.full(R, -1, dtype=np.int64)
    Xt = torch.from_numpy(Xn).to(tdtype)
    yt = torch.from_numpy(yn)
    batches = _batches(n, batch_size, [seed, 2])
    pert_rng = np.random.default_rng([seed, 1])
    bar = progress_bar(range(n_steps), total=n_steps, desc="train_ensemble", progress=progress)

    def perturbed(ref_states: np.ndarray) -> np.ndarray:
        full = np.repeat(ref_states, group, axis=0)
        copies = np.ones(R, bool)
        copies[::group] = False
        full[copies] = perturb_states(
            full[copies], layout, eps=eps, kind=perturbation, target=perturb_target,
            rng=pert_rng, dtype=dtype_name,
        ).astype(np.float64)
        return full

    prev_threads = torch.get_num_threads()
    if num_threads is None and P < SMALL_NETWORK:
        num_threads = 1  # small networks: thread start-up costs more than it saves
    if num_threads is not None:
        torch.set_num_threads(num_threads)
    try:
        with torch.no_grad():
            if n_perturb and perturb_at > 0:
                # the references alone up to t0; their copies are made from the state at t0
                ref_eng = _Engine(spec, init_arr, Xt, yt, tdtype, momentum)
                ref_run = _Run(n_inits, steps.size, observe, times[times < perturb_at], P)
                ref_div = np.full(n_inits, -1, dtype=np.int64)
                _advance(ref_eng, ref_run, 0, perturb_at, False, lr, batches, n_inits,
                         ref_div, bar)
                for name, arr in ref_run.obs.items():
                    run.obs[name][:, :perturb_at] = np.repeat(arr[:, :perturb_at], group, axis=0)
                if ref_run.states is not None:
                    k = ref_run.times.size
                    run.states[:, :k] = np.repeat(ref_run.states, group, axis=0)
                diverged_at[:] = np.repeat(ref_div, group)
                eng = ref_eng.expanded(perturbed(ref_eng.get_flat()), group)
                if bool((ref_div >= 0).any()):
                    eng.alive = torch.from_numpy(diverged_at < 0)
                    eng.frozen = torch.nonzero(~eng.alive).view(-1)
            else:
                start = perturbed(init_arr) if n_perturb else init_arr
                eng = _Engine(spec, start, Xt, yt, tdtype, momentum)
            _advance(eng, run, perturb_at if n_perturb else 0, n_steps, True, lr,
                     batches, n_inits, diverged_at, bar)
    finally:
        if num_threads is not None:
            torch.set_num_threads(prev_threads)
    for _ in bar:  # drain the progress bar if it was not advanced to the end
        pass
    _mask_diverged(run, diverged_at, reference, steps)

    metadata = {
        "model": spec,
        "optimizer": {
            "name": "sgd", "lr": lr, "momentum": momentum, "batch_size": batch_size,
            "sampler": None if batch_size is None else
            {"kind": "IndexSampler", "shuffle": True, "seed": [seed, 2], "drop_last": False},
        },
        "data": None if data_ref is None else dict(data_ref),
        "init": init_meta,
        "perturbation": None if not n_perturb else {
            "kind": perturbation, "eps": eps, "target": perturb_target, "t0": perturb_at,
        },
        "seed": seed,
        "dtype": dtype_name,
        "n_inits": n_inits,
        "n_perturb": n_perturb,
        "versions": versions(),
        "replayable": data_ref is not None,
    }
    if data_ref is None:
        metadata["replayable_reason"] = (
            "no `data_ref` was given, so the training data cannot be rebuilt"
        )
    return Ensemble(
        layout=layout,
        steps=steps,
        observables=run.obs,
        reference=reference,
        diverged_at=diverged_at,
        times=times if run.states is not None else None,
        states=run.states,
        metadata=metadata,
    )
