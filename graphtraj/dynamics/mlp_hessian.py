"""Hand-derived gradient and dense Hessian of small MLPs: the fast path.

For an MLP with at most one hidden layer (the paper's 4-10-3 network, softmax or linear
regression) the Hessian of the mean loss is assembled from a handful of batched matrix
products instead of one automatic-differentiation pass per tangent vector. It is exact:
the tests check it against :func:`torch.func.hessian` and the general path
(:class:`graphtraj.dynamics.ModuleObjective`) to 1e-10.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from graphtraj._checks import check_int
from graphtraj.dynamics.objectives import Objective, _torch, check_data
from graphtraj.exceptions import UnsupportedModelError, ValidationError
from graphtraj.trajectory import ParamLayout

__all__ = ["MLPObjective"]

#: Largest P for which the fast path materializes the (P, P) Hessian of a network.
MAX_DENSE = 4096
_CHUNK_ELEMENTS = 2_000_000  # samples per chunk such that n_b * out * P stays below this


def _activation(name: str, a: Any) -> tuple[Any, Any, Any]:
    """σ(a), σ'(a), σ''(a) for the MLP family's activations."""
    torch = _torch()
    if name == "sigmoid":
        s = torch.sigmoid(a)
        s1 = s * (1 - s)
        return s, s1, s1 * (1 - 2 * s)
    if name == "tanh":
        s = torch.tanh(a)
        s1 = 1 - s * s
        return s, s1, -2 * s * s1
    s = torch.relu(a)
    return s, (a > 0).to(a.dtype), torch.zeros_like(a)


def _augmented_index(sizes: list[int], bias: bool) -> np.ndarray:
    """Position of each flat parameter in the augmented vector [W_l | b_l] per layer."""
    out = []
    base = 0
    beta = 1 if bias else 0
    for n_in, n_out in zip(sizes[:-1], sizes[1:], strict=True):
        width = n_in + beta
        rows = np.arange(n_out)[:, None] * width + np.arange(n_in)[None, :]
        out.append(base + rows.reshape(-1))
        if bias:
            out.append(base + np.arange(n_out) * width + n_in)
        base += n_out * width
    return np.concatenate(out)


#: Working-set size of one group of initial conditions in the hidden-layer Hessian kernel.
_CACHE_BYTES = 2 * 2**20


def _layer_parts(layer: tuple) -> list[tuple[slice, tuple[int, ...], Any]]:
    """(flat slice, shape, augmented-column selector) of a layer's weight and bias parts."""
    off_w, units, n_in, off_b, bias = layer
    parts = [(slice(off_w, off_w + units * n_in), (units, n_in), slice(0, n_in))]
    if bias:
        parts.append((slice(off_b, off_b + units), (units,), n_in))
    return parts


def _scatter(H: Any, block: Any, rows: tuple, cols: tuple) -> None:
    """Write a block (R, U, m_r, V, m_c) in augmented order into H (R, P, P) in flat order."""
    R = H.shape[0]
    for rsl, rshape, rsel in _layer_parts(rows):
        for csl, cshape, csel in _layer_parts(cols):
            H[:, rsl, csl].view(R, *rshape, *cshape).copy_(block[:, :, rsel, :, csel])


class MLPObjective(Objective):
    """Mean loss, gradient and exact dense Hessian of an MLP with at most one hidden layer.

    The fast path of the MLP family. For R parameter vectors at once it builds the
    per-network Hessian from the Gauss-Newton term :math:`\\sum_i J_i^\\top A_i J_i`
    (Jacobian :math:`J_i` of the outputs, loss curvature :math:`A_i`) plus the residual
    blocks :math:`\\sum_{i,c} \\delta_{ic} \\nabla^2 z_{ic}`, all as batched matrix
    products; Hessian-vector products are then one batched matmul. Agrees with the
    general path (:class:`~graphtraj.dynamics.ModuleObjective`) to rounding.

    Parameters
    ----------
    spec : dict
        MLP spec (see :func:`graphtraj.capture.functional.check_spec`) with
        ``len(sizes) <= 3``; flat parameters in :meth:`ParamLayout.for_mlp` order.
    X : array-like, shape (n, sizes[0])
        Inputs.
    y : array-like of int, shape (n,)
        Class labels in ``[0, sizes[-1])`` (one-hot targets for ``"mse"``).
    chunk_size : int, optional
        Samples per chunk. Default: chosen so that a chunk's Jacobian
        (n_b x out x P values per network) stays below 2e6 entries.
    initial : array-like, shape (P,), optional
        Parameters returned by :meth:`initial_params`.

    Raises
    ------
    UnsupportedModelError
        For more than one hidden layer or P > 4096 (use the general path).
    ValidationError
        For malformed data.

    Notes
    -----
    With one hidden layer, :math:`a = \\Theta_1 \\tilde x`, :math:`s = \\sigma(a)`,
    :math:`z = \\Theta_2 \\tilde s` (tilde: a trailing 1 for the bias), loss gradient
    :math:`\\delta = \\partial\\ell/\\partial z` and curvature :math:`A`, the nonzero
    second derivatives of the outputs are
    :math:`\\partial^2 z_c/\\partial\\Theta_{2,cj}\\partial\\Theta_{1,jm} = \\sigma'(a_j)\\tilde x_m`
    and :math:`\\partial^2 z_c/\\partial\\Theta_{1,jm}\\partial\\Theta_{1,jm'} =
    \\Theta_{2,cj}\\sigma''(a_j)\\tilde x_m\\tilde x_{m'}` (Pearlmutter 1994; Bishop 1992).
    Cross-entropy: :math:`\\delta = (p - e_y)/n`, :math:`A = (\\mathrm{diag}\\,p - pp^\\top)/n`;
    MSE over all entries: :math:`\\delta = 2(z - e_y)/(n\\,\\mathrm{out})`,
    :math:`A = 2I/(n\\,\\mathrm{out})`. The curvature terms multiply two weights
    before the saturating factors, so weights beyond about 1e150 (a diverging run)
    overflow to NaN where the general path stays finite: use ``fast=False`` there.
    Cost :math:`O(R\\,n\\,\\mathrm{out}\\,P^2)` time and
    :math:`O(R\\,n_b\\,\\mathrm{out}\\,P + R P^2)` memory.

    References
    ----------
    .. [1] B. A. Pearlmutter, "Fast exact multiplication by the Hessian", Neural
       Computation 6, 147-160 (1994). https://doi.org/10.1162/neco.1994.6.1.147
    .. [2] C. Bishop, "Exact calculation of the Hessian matrix for the multilayer
       perceptron", Neural Computation 4, 494-501 (1992).
       https://doi.org/10.1162/neco.1992.4.4.494

    Examples
    --------
    >>> import torch
    >>> obj = MLPObjective({"sizes": [2, 3, 2]}, torch.randn(6, 2), [0, 1, 0, 1, 1, 0])
    >>> H = obj.hessian(torch.randn(1, 17, dtype=torch.float64))
    >>> tuple(H.shape), bool(torch.allclose(H, H.transpose(1, 2)))
    ((1, 17, 17), True)
    """

    def __init__(
        self,
        spec: Mapping[str, Any],
        X: Any,
        y: Any,
        *,
        chunk_size: int | None = None,
        initial: Any = None,
    ) -> None:
        torch = _torch()
        from graphtraj.capture.functional import check_spec

        self.spec = check_spec(spec, "spec")
        sizes = self.spec["sizes"]
        if len(sizes) > 3:
            raise UnsupportedModelError(
                f"the MLP fast path must have at most one hidden layer; got sizes {sizes}. "
                "Use the general path (fast=False)."
            )
        self.layout = ParamLayout.for_mlp(sizes, bias=self.spec["bias"])
        P = self.layout.size
        if P > MAX_DENSE:
            raise UnsupportedModelError(
                f"the MLP fast path materializes a (P, P) Hessian and must have "
                f"P <= {MAX_DENSE}; got P = {P}. Use the general path (fast=False)."
            )
        self.loss_name = self.spec["loss"]
        self.X, self.y = check_data(X, y, "cross_entropy")
        if self.X.ndim != 2 or self.X.shape[1] != sizes[0]:
            raise ValidationError(
                f"`X` must have shape (n, {sizes[0]}); got {tuple(self.X.shape)}"
            )
        if self.y.numel() and int(self.y.max()) >= sizes[-1]:
            raise ValidationError(
                f"`y` must hold labels in [0, {sizes[-1] - 1}]; got maximum {int(self.y.max())}"
            )
        self.n_samples = int(self.X.shape[0])
        if chunk_size is None:
            auto = max(1, _CHUNK_ELEMENTS // (sizes[-1] * P))
            chunk_size = auto if auto < self.n_samples else None
        else:
            chunk_size = check_int(chunk_size, "chunk_size", minimum=1)
        self.chunk_size = chunk_size
        aug = _augmented_index(sizes, self.spec["bias"])
        self._aug = torch.as_tensor(aug)
        self._inv = torch.as_tensor(np.argsort(aug))
        self._initial = None if initial is None else np.asarray(initial, dtype=np.float64).copy()
        self._onehot = torch.nn.functional.one_hot(self.y, sizes[-1]).to(torch.float64)
        self._flat_index = None

    def initial_params(self) -> np.ndarray | None:
        """The parameters given at construction (from the module), or None."""
        return None if self._initial is None else self._initial.copy()

    # ------------------------------------------------------------ public
    def hessian(self, W: Any, indices: Any = None) -> Any:
        """Dense Hessians (R, P, P) of the mean loss at ``W`` (R, P)."""
        torch = _torch()
        W, _ = self._check_params(W)
        chunks = self._chunks(indices)
        if len(chunks) == 1:  # one chunk of weight 1: no accumulation pass
            return self._kernel(W, chunks[0][0], hessian=True)[1]
        acc = torch.zeros(W.shape[0], W.shape[1], W.shape[1], dtype=torch.float64)
        for idx, weight in chunks:
            acc = acc + weight * self._kernel(W, idx, hessian=True)[1]
        return acc

    def grad_hvp(self, W: Any, V: Any, indices: Any = None) -> tuple[Any, Any]:
        """Gradient (R, P) and Hessian-vector products (R, k, P) at ``W`` (R, P).

        As :meth:`Objective.grad_hvp`; with a single chunk the products are one
        batched matmul with the dense Hessian, without an accumulation pass.
        """
        W, V = self._check_params(W, V)
        chunks = self._chunks(indices)
        if len(chunks) == 1 and V.shape[1] > 0:
            return self._grad_hvp_chunk(W, V, chunks[0][0])
        return super().grad_hvp(W, V, indices)

    # ------------------------------------------------------------ kernels
    def _loss_chunk(self, W: Any, idx: Any) -> Any:
        from graphtraj.capture.functional import batched_mlp_loss

        X = self.X if idx is None else self.X[idx]
        y = self.y if idx is None else self.y[idx]
        return batched_mlp_loss(W, X, y, self.spec)

    def _grad_chunk(self, W: Any, idx: Any) -> Any:
        return self._kernel(W, idx, hessian=False)[0]

    def _grad_hvp_chunk(self, W: Any, V: Any, idx: Any) -> tuple[Any, Any]:
        torch = _torch()
        g, H = self._kernel(W, idx, hessian=True)
        return g, torch.matmul(V, H)

    def _kernel(self, W: Any, idx: Any, *, hessian: bool) -> tuple[Any, Any]:
        """Mean-loss gradient (R, P) and Hessian (R, P, P) (or None) on one chunk.

        Works in the augmented order (``[W_l | b_l]`` row by row) and permutes back to
        the flat order at the end. Curvature terms are elementwise products and large
        matrix products (no per-sample small matmuls).
        """
        torch = _torch()
        X = self.X if idx is None else self.X[idx]
        Y = self._onehot if idx is None else self._onehot[idx]
        sizes = self.spec["sizes"]
        bias = self.spec["bias"]
        R, P = W.shape
        n = X.shape[0]
        C = sizes[-1]
        Xt = torch.cat([X, torch.ones(n, 1, dtype=X.dtype)], 1) if bias else X
        m = Xt.shape[1]
        XX = (Xt[:, :, None] * Xt[:, None, :]).reshape(n, m * m) if hessian else None

        if len(sizes) == 2:
            T = W[:, self._inv].reshape(R, C, m)
            z = torch.matmul(Xt, T.transpose(1, 2))
            delta, p = self._loss_derivatives(z, Y, n)
            g = torch.matmul(delta.transpose(1, 2), Xt).reshape(R, -1)[:, self._aug]
            if not hessian:
                return g, None
            # H[(c, m), (d, l)] = sum_n A_n[c, d] x_m x_l
            return g, self._to_flat(self._outer_block(p, XX, n, R, C, m).reshape(R, P, P))

        inputs = (Xt, Xt.T.contiguous(), XX, Y.T)
        if not hessian:
            return self._kernel_hidden(W, inputs, hessian=False)
        # The per-sample curvature tensor Q is (R, h, h, n): work on groups of initial
        # conditions small enough for Q to stay in cache (~2 MB), 1.5x faster at R = 100.
        group = max(1, _CACHE_BYTES // (8 * sizes[1] ** 2 * n))
        if R <= group:
            return self._kernel_hidden(W, inputs, hessian=True)
        parts = [self._kernel_hidden(W[i:i + group], inputs, hessian=True) for i in range(0, R, group)]
        return torch.cat([g for g, _ in parts]), torch.cat([h for _, h in parts])

    def _kernel_hidden(self, W: Any, inputs: tuple, *, hessian: bool) -> tuple[Any, Any]:
        """One-hidden-layer gradient and Hessian with the sample axis innermost.

        Every per-sample tensor is laid out ``(R, ..., n)`` so that elementwise products
        broadcast over contiguous rows of n values, and each sum over samples is one
        (batched) matrix product. The loss curvature enters through
        ``A[c, d, i]`` (``(diag p_i - p_i p_i^T) / n`` or ``2 I / (n C)``). ``inputs`` is
        ``(Xt, Xt^T, x_im x_il, Y^T)`` of the augmented inputs, computed once per chunk.
        """
        torch = _torch()
        Xt, XtT, XX, YT = inputs
        sizes = self.spec["sizes"]
        bias = self.spec["bias"]
        R, P = W.shape
        n, m = Xt.shape
        C = sizes[-1]
        h = sizes[1]
        Wa = W[:, self._inv]
        q1 = h * m
        T1 = Wa[:, :q1].reshape(R, h, m)
        T2 = Wa[:, q1:].reshape(R, C, -1)
        hb = T2.shape[2]
        s, s1, s2 = _activation(self.spec["activation"], torch.matmul(T1, XtT))  # (R, h, n)
        st = torch.cat([s, torch.ones(R, 1, n, dtype=s.dtype)], 1) if bias else s  # (R, hb, n)
        z = torch.matmul(T2, st)  # (R, C, n)
        delta, p = self._loss_derivatives(z, YT, n, dim=1)
        W2 = T2[:, :, :h]
        W2T = W2.transpose(1, 2)  # (R, h, C)
        dh = torch.matmul(W2T, delta)  # (R, h, n): dL/ds
        s1dh = dh * s1  # dL/da
        g1 = torch.matmul(s1dh, Xt)  # (R, h, m)
        g2 = torch.matmul(delta, st.transpose(1, 2))  # (R, C, hb)
        g = torch.cat([g1.reshape(R, -1), g2.reshape(R, -1)], 1)[:, self._aug]
        if not hessian:
            return g, None
        if p is not None:  # A[c, d, i] = (delta_cd p_ic - p_ic p_id) / n
            A = p[:, :, None, :] * p[:, None, :, :]
            A.neg_()
            A.diagonal(dim1=1, dim2=2).add_(p.transpose(1, 2))
            A.mul_(1.0 / n)
        else:
            A = torch.eye(C, dtype=W.dtype).mul_(2.0 / (n * C))[None, :, :, None].expand(R, C, C, n)
            A = A.contiguous()
        H = torch.empty(R, P, P, dtype=W.dtype)
        n_in = sizes[0]
        L1 = (0, h, n_in, h * n_in, bias)  # (weight offset, units, inputs, bias offset, bias)
        L2 = (q1, C, h, q1 + C * h, bias)
        # Theta1-Theta1: sum_i Q_i[j, k] x_im x_il with
        # Q_i = diag(s1_i) W2^T A_i W2 diag(s1_i) + diag(s2_i * W2^T delta_i).
        if p is not None:  # W2^T A_i W2 = (sum_c p_ic W2_c W2_c^T - u_i u_i^T) / n, u_i = W2^T p_i
            outer = (W2[:, :, :, None] * W2[:, :, None, :]).permute(0, 2, 3, 1)  # (R, h, h, C)
            Q = torch.matmul(outer.reshape(R, h * h, C), p).reshape(R, h, h, n)
            Q.mul_(s1[:, :, None, :]).mul_(s1[:, None, :, :])
            v = torch.matmul(W2T, p).mul_(s1)  # (R, h, n)
            Q.addcmul_(v[:, :, None, :], v[:, None, :, :], value=-1.0).mul_(1.0 / n)
        else:
            outer = (W2[:, :, :, None, None] * W2[:, None, None, :, :]).permute(0, 2, 4, 1, 3)
            Q = torch.matmul(outer.reshape(R, h * h, C * C), A.reshape(R, C * C, n)).reshape(R, h, h, n)
            Q.mul_(s1[:, :, None, :]).mul_(s1[:, None, :, :])
        Q.diagonal(dim1=1, dim2=2).add_(dh.mul_(s2).transpose(1, 2))
        H11 = torch.matmul(XX.T, Q.reshape(R * h * h, n).T).reshape(m, m, R, h, h)
        _scatter(H, H11.permute(2, 3, 0, 4, 1), L1, L1)
        # Theta2-Theta1: sum_i st_ij x_im (A_i W2 diag s1_i)[c, k] + [j = k] sum_i delta_ic s1_ik x_im
        AB = torch.matmul(W2T, A.reshape(R, C, C * n)).reshape(R, h, C, n).mul_(s1[:, :, None, :])
        S = (st[:, :, None, :] * XtT[None, None]).reshape(R, hb * m, n)
        H21 = torch.matmul(S, AB.reshape(R, h * C, n).transpose(1, 2)).reshape(R, hb, m, h, C)
        Tr = torch.matmul((delta[:, :, None, :] * s1[:, None, :, :]).reshape(R, C * h, n), Xt)
        H21 = H21.permute(0, 4, 1, 3, 2).contiguous()  # (R, C, hb, h, m)
        H21[:, :, :h].diagonal(dim1=2, dim2=3).add_(Tr.reshape(R, C, h, m).transpose(2, 3))
        _scatter(H, H21, L2, L1)
        H[:, :q1, q1:].copy_(H[:, q1:, :q1].transpose(1, 2))
        # Theta2-Theta2: sum_i st_ij A_i[c, d] st_ik
        if p is not None:  # (sum_i p_ic [c = d] st_i st_i^T - (p_ic st_i)(p_id st_i)^T) / n
            Ps = (p[:, :, None, :] * st[:, None, :, :]).reshape(R, C * hb, n)
            H22 = torch.matmul(Ps, Ps.transpose(1, 2)).neg_().reshape(R, C, hb, C, hb)
            D = torch.matmul(Ps, st.transpose(1, 2)).reshape(R, C, hb, hb)
            H22.diagonal(dim1=1, dim2=3).add_(D.permute(0, 2, 3, 1))
            H22.mul_(1.0 / n)
        else:
            AS = (A.reshape(R, C * C, 1, n) * st[:, None, :, :]).reshape(R, C * C * hb, n)
            H22 = torch.matmul(st, AS.transpose(1, 2)).reshape(R, hb, C, C, hb).permute(0, 2, 1, 3, 4)
        _scatter(H, H22, L2, L2)
        return g, H

    def _outer_block(self, p: Any, FF: Any, n: int, R: int, C: int, f: int) -> Any:
        """(R, C, f, C, f) block sum_n A_n[c, d] F_nj F_nk; FF = F ⊗ F is (n, f²)."""
        torch = _torch()
        out = torch.zeros(R, C, f, C, f, dtype=FF.dtype)
        d = torch.diagonal(out, dim1=1, dim2=3)  # view (R, f, f, C)
        if p is None:  # MSE: A = 2 I / (n C)
            G = FF.sum(-2).reshape(-1, f, f) * (2.0 / (n * C))
            d += G.expand(R, f, f)[..., None]
            return out
        PP = (p[..., :, None] * p[..., None, :]).reshape(R, n, C * C)
        out -= (torch.matmul(PP.transpose(1, 2), FF).reshape(R, C, C, f, f) / n).permute(0, 1, 3, 2, 4)
        d += (torch.matmul(p.transpose(1, 2), FF).reshape(R, C, f, f) / n).permute(0, 2, 3, 1)
        return out

    def _to_flat(self, H: Any) -> Any:
        """Permute (R, P, P) from the augmented to the flat order with one gather."""
        R, P, _ = H.shape
        if self._flat_index is None:
            self._flat_index = (self._aug[:, None] * P + self._aug[None, :]).reshape(-1)
        return H.reshape(R, P * P)[:, self._flat_index].reshape(R, P, P)

    def _loss_derivatives(self, z: Any, Y: Any, n: int, dim: int = -1) -> tuple[Any, Any]:
        """Loss gradient δ w.r.t. the outputs ``z`` (classes along ``dim``; (R, n, C) by
        default), and the softmax p (None for MSE); ``Y`` is laid out like ``z``."""
        torch = _torch()
        if self.loss_name == "cross_entropy":
            p = torch.softmax(z, dim=dim)
            return (p - Y) / n, p
        C = z.shape[dim]
        return 2.0 * (z - Y) / (n * C), None
