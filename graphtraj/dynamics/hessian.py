"""A matrix-free Hessian of the training loss over a data set."""

from __future__ import annotations

from typing import Any

import numpy as np

from graphtraj._checks import _describe, as_float_array, check_int
from graphtraj.dynamics.objectives import Objective, _torch, as_tensor64, make_objective
from graphtraj.exceptions import ValidationError

__all__ = ["HessianOperator"]

#: Largest P for which :meth:`HessianOperator.to_dense` builds the matrix by default.
DENSE_LIMIT = 4096


class HessianOperator:
    """The Hessian of the mean training loss at fixed parameters, as a linear operator.

    ``H @ v`` is a Hessian-vector product: no P x P matrix is formed (except by the
    MLP fast path on small networks, and by :meth:`to_dense` on request). Products
    over a data set are accumulated over chunks of ``batch_size`` samples as
    ``sum_b (n_b / n) H_b v`` starting from zero (field case C18), so they equal the
    full-batch product whatever the chunking and are bit-identical between calls.

    Parameters
    ----------
    model : torch.nn.Module, MLP spec dict or Objective
        The network (general path through :func:`torch.func.functional_call`), an MLP
        spec, or a prebuilt :class:`~graphtraj.dynamics.Objective` (e.g.
        ``training_map.objective``; then ``X``, ``y`` are not given).
    X, y : array-like, optional
        The data set (see :class:`~graphtraj.dynamics.ModuleObjective`).
    params : array-like, shape (P,), optional
        Where the Hessian is taken (default: the model's own parameters).
    loss : {"cross_entropy", "mse"} or callable, optional
        The loss (default: the MLP spec's, else cross-entropy).
    batch_size : int, optional
        Samples per chunk (bounds memory; not a stochastic Hessian).
    hvp : {"double_backward", "forward_over_reverse"}, default "double_backward"
        HVP method of the general path (see :class:`~graphtraj.dynamics.ModuleObjective`).
    fast : bool, default False
        Use the MLP fast path (the dense Hessian is formed once and cached).
    train_mode : bool, default True
        Evaluate in training mode; running statistics are never updated (field case
        C20).

    Attributes
    ----------
    shape : tuple of int
        (P, P).
    dtype : numpy.dtype
        float64.
    n_products : int
        Number of Hessian-vector products computed so far (vectors, not calls).

    Raises
    ------
    ValidationError
        For malformed data or parameters.
    UnsupportedModelError
        See :func:`~graphtraj.dynamics.make_objective`.

    Notes
    -----
    One product costs about 2-4 gradient evaluations: :math:`Hv = \\nabla_w (\\nabla L
    \\cdot v)` by double backward (default) or :math:`Hv = \\partial_\\epsilon \\nabla L(w +
    \\epsilon v)|_0` by forward-over-reverse (Pearlmutter 1994); ``matmat`` vectorizes k
    of them. With double backward the gradient graph of each chunk is built on the
    first product and kept, so later products (Lanczos iterations) cost one backward
    pass per chunk; memory: the activations of the whole data set (not one chunk).

    References
    ----------
    .. [1] B. A. Pearlmutter, "Fast exact multiplication by the Hessian", Neural
       Computation 6, 147-160 (1994). https://doi.org/10.1162/neco.1994.6.1.147

    Examples
    --------
    Linear least squares with loss half the mean squared residual has H = XᵀX/n:

    >>> import numpy as np, torch
    >>> X = np.array([[1.0, 2.0], [3.0, 4.0], [0.0, 1.0]])
    >>> half_mse = lambda out, t: 0.5 * ((out[:, 0] - t) ** 2).mean()
    >>> H = HessianOperator(torch.nn.Linear(2, 1, bias=False), X, np.zeros(3), loss=half_mse)
    >>> bool(np.allclose(H @ np.eye(2), X.T @ X / 3))
    True
    """

    def __init__(
        self,
        model: Any,
        X: Any = None,
        y: Any = None,
        *,
        params: Any = None,
        loss: Any = None,
        batch_size: int | None = None,
        hvp: str = "double_backward",
        fast: bool = False,
        train_mode: bool = True,
    ) -> None:
        if isinstance(model, Objective):
            if X is not None or y is not None or batch_size is not None:
                raise ValidationError(
                    "`X`, `y` and `batch_size` must not be given with an Objective (it "
                    "holds its data and chunk size)"
                )
            objective = model
        else:
            if X is None or y is None:
                raise ValidationError("`X` and `y` must be given (the data set)")
            if batch_size is not None:
                batch_size = check_int(batch_size, "batch_size", minimum=1)
            objective = make_objective(
                model, X, y, loss=loss, chunk_size=batch_size, hvp=hvp, fast=fast,
                train_mode=train_mode,
            )
        self.objective = objective
        P = objective.n_params
        if params is None:
            params = objective.initial_params()
            if params is None:
                raise ValidationError("`params` must be given: the objective has no parameters of its own")
        w = as_float_array(
            params.detach().cpu().numpy() if hasattr(params, "detach") else params, "params", 1
        )
        if w.shape != (P,):
            raise ValidationError(f"`params` must have shape ({P},); got {w.shape}")
        self.params = w
        self._w = as_tensor64(w)[None]
        self.shape = (P, P)
        self.dtype = np.dtype(np.float64)
        self.n_products = 0
        self._dense = None
        self._cached = None

    @property
    def n_params(self) -> int:
        """Number of parameters P."""
        return self.shape[0]

    def at(self, params: Any) -> HessianOperator:
        """The Hessian operator of the same objective at other parameters."""
        return HessianOperator(self.objective, params=params)

    # ------------------------------------------------------------ products
    def _products(self, V: Any) -> Any:
        """H V for V a (k, P) float64 tensor; returns (k, P)."""
        torch = _torch()
        from graphtraj.dynamics.mlp_hessian import MLPObjective

        self.n_products += int(V.shape[0])
        if isinstance(self.objective, MLPObjective):
            self._fast_dense()
            return V @ self._dense
        if getattr(self.objective, "hvp_method", None) == "double_backward":
            if self._cached is None:  # gradient graphs built once, reused by every product
                self._cached = self.objective.fixed_point_hvp(self.params)
            return self._cached(V)
        with torch.no_grad():
            _, hv = self.objective.grad_hvp(self._w, V[None])
        return hv[0]

    def matmat(self, V: Any) -> Any:
        """H V for V of shape (P, k); numpy in, numpy out (torch in, torch out)."""
        torch = _torch()
        is_torch = isinstance(V, torch.Tensor)
        arr = V.detach().to(torch.float64) if is_torch else torch.as_tensor(
            as_float_array(V, "V", 2))
        if arr.ndim != 2 or arr.shape[0] != self.shape[0]:
            raise ValidationError(
                f"`V` must have shape ({self.shape[0]}, k); got {tuple(arr.shape)}"
            )
        out = self._products(arr.T.contiguous()).T
        return out if is_torch else out.numpy()

    def matvec(self, v: Any) -> Any:
        """H v for v of shape (P,) (or (P, 1)); numpy in, numpy out (torch in, torch out)."""
        torch = _torch()
        is_torch = isinstance(v, torch.Tensor)
        arr = v.detach().to(torch.float64) if is_torch else torch.as_tensor(
            as_float_array(v, "v", (1, 2)))
        column = arr.ndim == 2
        if column:
            if arr.shape[1] != 1:
                raise ValidationError(f"`v` must have shape (P,) or (P, 1); got {tuple(arr.shape)}")
            arr = arr[:, 0]
        if arr.shape != (self.shape[0],):
            raise ValidationError(f"`v` must have shape ({self.shape[0]},); got {tuple(arr.shape)}")
        out = self._products(arr[None])[0]
        if column:
            out = out[:, None]
        return out if is_torch else out.numpy()

    def __matmul__(self, other: Any) -> Any:
        ndim = getattr(other, "ndim", np.ndim(other))
        if ndim == 1:
            return self.matvec(other)
        if ndim == 2:
            return self.matmat(other)
        raise ValidationError(f"`H @ x` needs x of shape (P,) or (P, k); got {_describe(other)}")

    def _fast_dense(self) -> np.ndarray | None:
        """The cached dense Hessian of the MLP fast path (None on the general path)."""
        from graphtraj.dynamics.mlp_hessian import MLPObjective

        if not isinstance(self.objective, MLPObjective):
            return None
        if self._dense is None:
            self._dense = self.objective.hessian(self._w)[0]
        return self._dense.numpy()

    def to_scipy(self) -> Any:
        """A :class:`scipy.sparse.linalg.LinearOperator` (symmetric, float64)."""
        from scipy.sparse.linalg import LinearOperator

        dense = self._fast_dense()
        if dense is not None:  # plain numpy products, still counted
            def mm(V: np.ndarray) -> np.ndarray:
                V = np.asarray(V, dtype=np.float64)
                self.n_products += 1 if V.ndim == 1 else V.shape[1]
                return dense @ V

            return LinearOperator(self.shape, matvec=mm, rmatvec=mm, matmat=mm, rmatmat=mm,
                                  dtype=np.float64)
        return LinearOperator(
            self.shape, matvec=self.matvec, rmatvec=self.matvec, matmat=self.matmat,
            rmatmat=self.matmat, dtype=np.float64,
        )

    def to_dense(self, *, max_params: int = DENSE_LIMIT) -> np.ndarray:
        """The (P, P) matrix from P products, symmetrized (only for small networks).

        Raises
        ------
        ValidationError
            If P > ``max_params``.
        """
        P = self.shape[0]
        if P > max_params:
            raise ValidationError(
                f"the network must have P <= max_params = {max_params} to form a dense "
                f"Hessian; got P = {P}. Use products (H @ v) or sharpness()."
            )
        out = self.matmat(np.eye(P))
        return 0.5 * (out + out.T)

    def gradient(self) -> np.ndarray:
        """The gradient (P,) of the mean loss at ``params``."""
        return self.objective.grad(self._w)[0].detach().numpy().copy()

    def loss(self) -> float:
        """The mean loss at ``params``."""
        return float(self.objective.loss(self._w)[0])

    def __repr__(self) -> str:
        return f"HessianOperator(P={self.shape[0]}, objective={type(self.objective).__name__})"
