"""Small perturbations of parameter states, for dynamical- and orbital-stability tests."""

from __future__ import annotations

from typing import Any

import numpy as np

from graphtraj._checks import _describe, as_float_array, as_rng, check_option, check_real
from graphtraj.exceptions import ValidationError
from graphtraj.trajectory.layout import ParamLayout

__all__ = ["PERTURBATIONS", "PERTURB_TARGETS", "perturb_states", "min_eps", "check_resolution"]

#: Distributions of the perturbation: U(−ε, ε) per entry, or N(0, ε²) per entry.
PERTURBATIONS = ("uniform", "gaussian")
#: Which entries are perturbed: the weights only (the paper) or every parameter.
PERTURB_TARGETS = ("weights", "all")

#: Smallest accepted ε, in machine epsilons of the dtype times the parameter scale.
RESOLUTION_FACTOR = 100.0


def _np_dtype(dtype: Any) -> np.dtype:
    name = str(dtype).replace("torch.", "")
    if name not in ("float64", "float32"):
        raise ValidationError(
            f"`dtype` must be 'float64' or 'float32'; got {_describe(dtype)}"
        )
    return np.dtype(name)


def min_eps(scale: float, dtype: Any = "float64") -> float:
    """Smallest perturbation size accepted for parameters of typical size ``scale``.

    ``100 · finfo(dtype).eps · scale``: below it a perturbation is mostly rounded away
    when added to the parameters (field case C22).

    Examples
    --------
    >>> min_eps(1.0, "float32")  # doctest: +ELLIPSIS
    1.19...e-05
    """
    return float(RESOLUTION_FACTOR * np.finfo(_np_dtype(dtype)).eps * scale)


def check_resolution(eps: float, states: np.ndarray, layout: ParamLayout, target: str,
                     dtype: Any) -> np.ndarray:
    """Reject ``eps`` below the dtype's resolution at the scale of the targeted entries.

    Returns the (P,) boolean mask of the targeted entries. Raises
    :class:`~graphtraj.exceptions.ValidationError` (field case C22) or when ``target``
    selects nothing. The scale is the RMS of the targeted entries (1.0 if all zero).
    """
    np_dtype = _np_dtype(dtype)
    mask = layout.mask("weight") if target == "weights" else np.ones(layout.size, bool)
    if not mask.any():
        raise ValidationError(
            f"`target` must select at least one parameter; the layout has no entries of "
            f"kind 'weight' (got target={target!r}). Use target='all'."
        )
    sel = np.asarray(states)[..., mask]
    rms = float(np.sqrt(np.mean(sel * sel)))
    scale = rms if rms > 0 else 1.0
    floor = min_eps(scale, np_dtype)
    if eps < floor:
        raise ValidationError(
            f"`eps` must be >= {floor:.3g} (100 machine epsilons of {np_dtype.name} times "
            f"the parameter scale {scale:.3g}); got {eps:.3g}. A smaller perturbation is "
            "rounded away when added to the parameters. Use a larger eps"
            + (" or dtype='float64'." if np_dtype == np.float32 else ".")
        )
    return mask


def perturb_states(
    states: Any,
    layout: ParamLayout,
    *,
    eps: float,
    kind: str = "uniform",
    target: str = "weights",
    rng: Any = None,
    dtype: Any = "float64",
) -> np.ndarray:
    """Add independent random perturbations of size ``eps`` to parameter states.

    Parameters
    ----------
    states : array-like, shape (n, P) or (P,)
        Flat parameter vectors to perturb (each row independently).
    layout : ParamLayout
        Layout of the vectors; ``target="weights"`` perturbs the entries whose kind is
        ``"weight"``.
    eps : float
        Perturbation size: the half-width of the uniform distribution or the standard
        deviation of the Gaussian one. Must be > 0 and at least
        ``100 · finfo(dtype).eps · scale`` (see Notes).
    kind : {"uniform", "gaussian"}, default "uniform"
        U(−ε, ε) (the paper) or N(0, ε²) for every perturbed entry.
    target : {"weights", "all"}, default "weights"
        Perturb the weights only (the paper) or all parameters (weights and biases).
    rng : int, numpy Generator or None
        Random source.
    dtype : {"float64", "float32"}, default "float64"
        Dtype the states will be trained in; the result is rounded to it.

    Returns
    -------
    numpy.ndarray, shape like ``states``, of ``dtype``
        ``states + delta`` rounded to ``dtype``; untargeted entries are unchanged.

    Raises
    ------
    ValidationError
        For a layout/shape mismatch, non-finite states, ``eps <= 0``, or ``eps`` below
        the dtype's resolution at the parameter scale (field case C22).
    UnknownOptionError
        For an unknown ``kind`` or ``target``.

    Notes
    -----
    The scale is the root-mean-square of the targeted entries over all rows (1.0 if
    they are all zero). A perturbation below 100 machine epsilons of that scale is
    mostly rounded away: in float32, ``1 + 1e-8 == 1``, so a divergence experiment with
    ε = 1e-8 would measure rounding, not dynamics. It is rejected: use float64 or a
    larger ε.

    With the uniform kind on ``m`` entries, the L1 size of a perturbation has mean
    :math:`E\\,\\|\\delta\\|_1 = m\\,\\varepsilon/2` (e.g. 35 ε on the paper network's 70
    weights) and the L2 size :math:`\\sqrt{m/3}\\,\\varepsilon`. Cost O(nP).

    References
    ----------
    .. [1] P. Danovski, M. C. Soriano, L. Lacasa, Front. Complex Syst. 2 (2024),
       https://doi.org/10.3389/fcpxs.2024.1367957 (Sec. 2.2: perturbations
       U(−ε, ε) of the weights).

    Examples
    --------
    >>> import numpy as np
    >>> lay = ParamLayout.for_mlp([4, 10, 3])
    >>> base = np.ones((2, lay.size))
    >>> out = perturb_states(base, lay, eps=1e-6, rng=0)
    >>> bool(np.all(out[:, lay.mask("bias")] == 1.0))
    True
    >>> float(np.abs(out - base).max()) <= 1e-6
    True
    """
    if not isinstance(layout, ParamLayout):
        raise ValidationError(f"`layout` must be a ParamLayout; got {_describe(layout)}")
    arr = as_float_array(states, "states", (1, 2))
    if arr.shape[-1] != layout.size:
        raise ValidationError(
            f"`states` must have last dimension P = {layout.size} (the layout size); "
            f"got shape {arr.shape}"
        )
    eps = check_real(eps, "eps", minimum=0.0, strict_min=True)
    kind = check_option(kind, "kind", PERTURBATIONS)
    target = check_option(target, "target", PERTURB_TARGETS)
    np_dtype = _np_dtype(dtype)
    gen = as_rng(rng)

    mask = check_resolution(eps, arr, layout, target, np_dtype)
    shape = arr.shape[:-1] + (int(mask.sum()),)
    if kind == "uniform":
        delta = gen.uniform(-eps, eps, size=shape)
    else:
        delta = gen.normal(0.0, eps, size=shape)
    out = arr.astype(np.float64, copy=True)
    out[..., mask] += delta
    return out.astype(np_dtype)
