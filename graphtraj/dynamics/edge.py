"""Edge of stability: sharpness compared with the optimizer's stability threshold."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from graphtraj._checks import as_float_array, check_real
from graphtraj._result import Result
from graphtraj.exceptions import ValidationError

__all__ = ["stability_threshold", "EdgeOfStability", "edge_of_stability"]


def stability_threshold(lr: float, *, momentum: float = 0.0, nesterov: bool = False) -> float:
    """The sharpness at which (momentum) gradient descent turns unstable on a quadratic.

    Parameters
    ----------
    lr : float
        Learning rate η > 0.
    momentum : float, default 0
        Heavy-ball momentum μ in [0, 1) (PyTorch's SGD convention).
    nesterov : bool, default False
        Nesterov momentum.

    Returns
    -------
    float
        2/η for gradient descent; (2 + 2μ)/η with heavy-ball momentum;
        (2 + 2μ)/(η (1 + 2μ)) with Nesterov momentum.

    Raises
    ------
    ValidationError
        For η <= 0 or μ outside [0, 1).

    Notes
    -----
    On :math:`\\tfrac12 a w^2` gradient descent multiplies w by :math:`1 - \\eta a` each
    step, which leaves the unit interval when :math:`a > 2/\\eta`; the momentum
    thresholds follow from where an eigenvalue of the 2x2 iteration matrix crosses -1
    (Cohen et al. 2021, Sec. 2 and Appendix).

    References
    ----------
    .. [1] J. M. Cohen, S. Kaur, Y. Li, J. Z. Kolter, A. Talwalkar, "Gradient descent on
       neural networks typically occurs at the edge of stability", ICLR 2021.
       https://doi.org/10.48550/arXiv.2103.00065

    Examples
    --------
    >>> stability_threshold(0.01)
    200.0
    >>> stability_threshold(0.1, momentum=0.9)
    38.0
    """
    lr = check_real(lr, "lr", minimum=0.0, strict_min=True)
    mu = check_real(momentum, "momentum", minimum=0.0)
    if mu >= 1.0:
        raise ValidationError(f"`momentum` must be in [0, 1); got {mu}")
    if nesterov:
        return (2.0 + 2.0 * mu) / (lr * (1.0 + 2.0 * mu))
    return (2.0 + 2.0 * mu) / lr


@dataclass(frozen=True)
class EdgeOfStability(Result):
    """How a sharpness series behaves against the stability threshold.

    Attributes
    ----------
    steps : ndarray of int, shape (M,)
        Steps of the measurements.
    sharpness : ndarray, shape (M,)
        Top Hessian eigenvalue at each step.
    threshold : float
        The stability threshold (2/η for gradient descent).
    ratio : ndarray, shape (M,)
        ``sharpness / threshold``.
    first_reach : int
        First step with sharpness >= threshold, -1 if never.
    fraction_above : float
        Fraction of measurements at or above the threshold.
    time_above : int
        Steps spent at or above it: the sum of the spacings that follow such
        measurements (the last one counts the median spacing).
    n_crossings : int
        Number of times the series crosses the threshold (up or down).
    crossing_steps : ndarray of int
        Step of the first measurement after each crossing.
    max_ratio : float
        Largest ``ratio``.
    late_ratio : float
        Mean ``ratio`` over the second half of the measurements (≈ 1 at the edge of
        stability).
    params : dict
        ``lr`` and the threshold rule.
    """

    steps: np.ndarray
    sharpness: np.ndarray
    threshold: float
    ratio: np.ndarray
    first_reach: int
    fraction_above: float
    time_above: int
    n_crossings: int
    crossing_steps: np.ndarray
    max_ratio: float
    late_ratio: float
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def reached(self) -> bool:
        """Whether the sharpness ever reached the threshold."""
        return self.first_reach >= 0


def edge_of_stability(
    sharpness: Any,
    lr: float | None = None,
    *,
    steps: Any = None,
    threshold: float | None = None,
    momentum: float = 0.0,
    nesterov: bool = False,
) -> EdgeOfStability:
    """Summarize a sharpness series against the stability threshold (edge of stability).

    Cohen et al. (2021) found that full-batch gradient descent first sharpens until
    the top Hessian eigenvalue reaches 2/η and then hovers at or just above it while
    the loss keeps falling non-monotonically. This summary says whether, when and for
    how long that happens.

    Parameters
    ----------
    sharpness : array-like, shape (M,)
        Top Hessian eigenvalue at each measured step (finite; drop NaN measurements,
        e.g. after a diverged run, first, as :func:`sharpness_track` does).
    lr : float, optional
        Learning rate η (needed unless ``threshold`` is given).
    steps : array-like of int, shape (M,), optional
        Increasing steps of the measurements (default ``0..M-1``).
    threshold : float, optional
        Explicit threshold (overrides the one from ``lr``).
    momentum, nesterov
        See :func:`stability_threshold`.

    Returns
    -------
    EdgeOfStability

    Raises
    ------
    ValidationError
        For non-finite or empty input, mismatched ``steps``, or neither ``lr`` nor
        ``threshold``.

    Notes
    -----
    A measurement counts as above when ``sharpness >= threshold``; a crossing is a
    change of that state between consecutive measurements. Cost O(M).

    References
    ----------
    .. [1] J. M. Cohen, S. Kaur, Y. Li, J. Z. Kolter, A. Talwalkar, "Gradient descent on
       neural networks typically occurs at the edge of stability", ICLR 2021.
       https://doi.org/10.48550/arXiv.2103.00065

    Examples
    --------
    >>> eos = edge_of_stability([1.0, 1.5, 2.1, 1.9, 2.2], lr=1.0)
    >>> eos.first_reach, eos.n_crossings, eos.crossing_steps.tolist(), eos.time_above
    (2, 3, [2, 3, 4], 2)
    """
    s = as_float_array(sharpness, "sharpness", 1)
    M = s.size
    if steps is None:
        st = np.arange(M, dtype=np.int64)
    else:
        st = np.asarray(steps)
        if st.shape != (M,) or st.dtype.kind not in "iu":
            raise ValidationError(
                f"`steps` must be an integer array of shape ({M},); got an array of shape "
                f"{st.shape} and dtype {st.dtype}. Pass integer steps, e.g. "
                "numpy.asarray(steps, dtype=int)."
            )
        st = st.astype(np.int64)
        if M > 1 and np.any(np.diff(st) <= 0):
            raise ValidationError("`steps` must be strictly increasing")
    if threshold is None:
        if lr is None:
            raise ValidationError("`lr` or `threshold` must be given")
        thr = stability_threshold(lr, momentum=momentum, nesterov=nesterov)
        rule = "momentum" if momentum else "gd"
    else:
        thr = check_real(threshold, "threshold", minimum=0.0, strict_min=True)
        rule = "given"
    ratio = s / thr
    above = s >= thr
    first = int(st[np.argmax(above)]) if above.any() else -1
    spacing = np.diff(st)
    last = int(np.median(spacing)) if spacing.size else 1
    widths = np.concatenate([spacing, [last]])
    change = np.flatnonzero(above[1:] != above[:-1]) + 1
    return EdgeOfStability(
        steps=st,
        sharpness=s,
        threshold=float(thr),
        ratio=ratio,
        first_reach=first,
        fraction_above=float(above.mean()),
        time_above=int(widths[above].sum()),
        n_crossings=int(change.size),
        crossing_steps=st[change],
        max_ratio=float(ratio.max()),
        late_ratio=float(ratio[M // 2 :].mean()),
        params={"lr": lr, "rule": rule, "momentum": momentum, "nesterov": nesterov},
    )
