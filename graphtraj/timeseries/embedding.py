"""Time-delay embedding, shared by recurrence and Lyapunov estimators."""

from __future__ import annotations

from typing import Any

import numpy as np

from graphtraj._checks import as_float_array, check_int, require_length

__all__ = ["delay_embed", "embedding_span"]


def embedding_span(emb_dim: int, lag: int) -> int:
    """Samples covered by one delay vector: ``(emb_dim - 1) * lag + 1``.

    Examples
    --------
    >>> embedding_span(10, 5)
    46
    """
    emb_dim = check_int(emb_dim, "emb_dim", minimum=1)
    lag = check_int(lag, "lag", minimum=1)
    return (emb_dim - 1) * lag + 1


def delay_embed(series: Any, emb_dim: int, lag: int = 1) -> np.ndarray:
    """Delay vectors of a scalar or multivariate series (Takens embedding).

    The vector at time ``t`` is ``(x[t], x[t + lag], ..., x[t + (emb_dim - 1) lag])``:
    forward delays, so vector ``t`` starts at sample ``t``.

    Parameters
    ----------
    series : array_like, shape (T,) or (T, D)
        The series; integer input is cast to float64. Time is axis 0.
    emb_dim : int
        Embedding dimension m >= 1.
    lag : int, default 1
        Delay in samples, >= 1.

    Returns
    -------
    vectors : ndarray, shape (N, emb_dim) or (N, emb_dim * D)
        ``N = T - (emb_dim - 1) * lag``. For multivariate input the columns are
        ordered delay-major: all D components at delay 0, then at delay ``lag``, ...
        A fresh C-contiguous array (not a view).

    Raises
    ------
    InsufficientDataError
        If ``T < (emb_dim - 1) * lag + 1``.
    NonFiniteInputError
        If the series has NaN or inf.

    Notes
    -----
    Takens (1981), doi:10.1007/BFb0091924. Cost O(N m D) time and memory.

    Examples
    --------
    >>> delay_embed([0, 1, 2, 3, 4], emb_dim=2, lag=2)
    array([[0., 2.],
           [1., 3.],
           [2., 4.]])
    """
    x = as_float_array(series, "series", (1, 2))
    emb_dim = check_int(emb_dim, "emb_dim", minimum=1)
    lag = check_int(lag, "lag", minimum=1)
    span = (emb_dim - 1) * lag + 1
    require_length(
        x.shape[0], span, "series",
        f"(emb_dim - 1) * lag + 1 = ({emb_dim} - 1) * {lag} + 1 = {span}, the span of one delay vector",
    )
    n = x.shape[0] - span + 1
    cols = [x[k * lag : k * lag + n] for k in range(emb_dim)]
    if x.ndim == 1:
        return np.ascontiguousarray(np.stack(cols, axis=1))
    return np.ascontiguousarray(np.concatenate(cols, axis=1))
