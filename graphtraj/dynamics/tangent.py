"""Finite-difference tangents of a step map, with the perturbation-size checks.

The tangent maps of :mod:`graphtraj.dynamics` are exact (automatic differentiation);
:func:`finite_difference_tangent` is the independent check: central differences of the
step itself. A finite difference is only meaningful when the perturbation is resolved
by the floating-point type (field cases C21 and C22), which :func:`check_perturbation`
enforces.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from graphtraj._checks import check_int, check_real
from graphtraj.dynamics.step_maps import StepMap, _batched
from graphtraj.exceptions import ValidationError

__all__ = ["finite_difference_tangent", "check_perturbation", "RESOLUTION_FACTOR"]

#: A perturbation must exceed this many units of roundoff of the state's typical size
#: (the same rule as :func:`graphtraj.capture.perturbation.perturb_states`).
RESOLUTION_FACTOR = 100.0


def check_perturbation(eps: Any, x: Any, dtype: Any, *, name: str = "eps") -> float:
    """Validate a perturbation size against the state and the floating-point type.

    Parameters
    ----------
    eps : float
        Perturbation size (absolute, in the units of the state).
    x : array-like
        The state(s) being perturbed; their typical size is the root mean square of the
        entries (1 when all are zero).
    dtype : numpy or torch floating dtype
        Precision the perturbed states are computed in.
    name : str
        Parameter name for messages.

    Returns
    -------
    float
        ``eps``.

    Raises
    ------
    ValidationError
        If ``eps`` is not a finite number > 0 (a zero perturbation gives a zero
        difference and log 0 downstream: field case C21), or if ``eps`` is below
        ``100 * finfo(dtype).eps * typical |x|`` (the perturbation is lost to rounding
        when added to the state, e.g. 1e-10 on float32 weights of size 1: field case
        C22). Perturbations are rejected, never silently upcast.

    Examples
    --------
    >>> import numpy as np
    >>> check_perturbation(1e-6, np.ones(3), np.float64)
    1e-06
    """
    eps = check_real(eps, name)
    if eps <= 0:
        raise ValidationError(
            f"`{name}` must be > 0; got {eps}. A zero perturbation leaves the states "
            "identical, so their distance is 0 and its logarithm undefined."
        )
    from graphtraj.capture.perturbation import min_eps

    if str(dtype).startswith("torch."):
        name_dtype = str(dtype).replace("torch.", "")
    else:
        try:
            name_dtype = np.dtype(dtype).name
        except TypeError:
            raise ValidationError(f"`dtype` must be a floating dtype; got {dtype!r}") from None
    finfo = np.finfo(np.dtype(name_dtype))
    arr = np.asarray(x.detach().cpu().numpy() if hasattr(x, "detach") else x, dtype=np.float64)
    scale = float(np.max(np.abs(arr))) if arr.size else 0.0
    if not np.isfinite(scale):
        raise ValidationError(
            "the perturbed state must be finite; got non-finite entries (a diverged state "
            "has no tangent map)"
        )
    # root mean square, scaled so that states beyond 1e154 do not overflow the squares
    typical = scale * float(np.sqrt(np.mean((arr / scale) ** 2))) if 0 < scale < np.inf else scale
    typical = typical if typical > 0 else 1.0
    floor = min_eps(typical, name_dtype)  # RESOLUTION_FACTOR * finfo.eps * typical
    if eps < floor:
        raise ValidationError(
            f"`{name}` must be >= {floor:.3g} (100 x the {name_dtype} machine "
            f"epsilon {float(finfo.eps):.3g} x the typical state size {typical:.3g}); got "
            f"{eps:.3g}. Below that the perturbation is lost to rounding. Use a larger "
            "eps or compute in float64."
        )
    return eps


def finite_difference_tangent(
    system: StepMap, x: Any, vectors: Any, *, eps: float = 1e-6, t: int = 0
) -> Any:
    """Central finite differences of a step map along given directions.

    ``(F_t(x + eps v) - F_t(x - eps v)) / (2 eps)`` for each direction v: an
    independent estimate of the tangent map ``DF_t(x) v`` that
    :meth:`StepMap.step_tangent` computes exactly.

    Parameters
    ----------
    system : StepMap
        The map (e.g. a :class:`~graphtraj.dynamics.TrainingMap`).
    x : array-like or tensor, shape (D,)
        The state.
    vectors : array-like or tensor, shape (k, D)
        Directions (scaled by ``eps`` as given; normalize them first for a relative
        step).
    eps : float, default 1e-6
        Step size; see :func:`check_perturbation` for the accepted range.
    t : int, default 0
        Time (step index) at which the map is applied.

    Returns
    -------
    torch.Tensor, shape (k, D)
        The difference quotients.

    Raises
    ------
    ValidationError
        For a non-map ``system``, shape mismatches, or an ``eps`` that is zero,
        negative or below the dtype's resolution (field cases C21, C22).

    Notes
    -----
    Truncation error :math:`O(\\epsilon^2 \\|D^3F\\|)`, rounding error
    :math:`O(u \\|F\\| / \\epsilon)` (u: unit roundoff); ``eps`` near
    :math:`u^{1/3}` balances them. Cost 2k steps of the map.

    Examples
    --------
    >>> import torch
    >>> from graphtraj.dynamics import DifferentiableMap
    >>> square = DifferentiableMap(lambda x: x ** 2, 1)
    >>> float(finite_difference_tangent(square, torch.tensor([3.0]), torch.ones(1, 1))[0, 0])
    6.0
    """
    if not isinstance(system, StepMap):
        raise ValidationError(f"`system` must be a StepMap; got {type(system).__name__}")
    t = check_int(t, "t", minimum=0)
    xb, Vb, single = _batched(x, vectors, system.dim, system.dtype)
    if not single:
        raise ValidationError(
            f"`x` must be a single state of shape ({system.dim},); got {tuple(xb.shape)}"
        )
    eps = check_perturbation(eps, xb, system.dtype)
    V = Vb[0]
    plus = system.step(xb + eps * V, t)
    minus = system.step(xb - eps * V, t)
    return (plus - minus) / (2.0 * eps)
