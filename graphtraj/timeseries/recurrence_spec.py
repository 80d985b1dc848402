"""How a recurrence is defined: small value objects for the recurrence threshold.

A recurrence plot needs a rule that turns distances into recurrences. Following
RecurrenceAnalysis.jl, that rule is a value, not a set of mutually exclusive keyword
arguments:

- :class:`FixedThreshold` -- a fixed ε;
- :class:`ScaledThreshold` -- ε as a fraction of the maximum or mean distance, or of the
  standard deviation of the input values;
- :class:`GlobalRecurrenceRate` -- ε chosen so that a given fraction of the admissible
  pairs recur (ε is a quantile of the admissible distances);
- :class:`LocalRecurrenceRate` -- one ε per row: each state recurs with its ``k``
  nearest admissible neighbours (the matrix is then not symmetric).

Under graphtraj's default convention a pair recurs when its distance is ``<= ε``;
``convention="pyunicorn"`` uses pyunicorn's strict ``< ε`` and its quantile rules
(see :func:`graphtraj.timeseries.recurrence.recurrence_matrix`).
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass
from typing import Any

from graphtraj._checks import check_int, check_option, check_real
from graphtraj._result import Result
from graphtraj.exceptions import ValidationError

__all__ = [
    "RecurrenceSpec",
    "FixedThreshold",
    "ScaledThreshold",
    "GlobalRecurrenceRate",
    "LocalRecurrenceRate",
    "as_spec",
    "SCALES",
]

#: Reference quantities a :class:`ScaledThreshold` can scale.
SCALES = ("max", "mean", "std")


class RecurrenceSpec(Result):
    """Base class of the recurrence-threshold rules (not instantiated directly)."""

    #: True when the rule gives one ε for the whole matrix (then a recurrence matrix of
    #: one series is symmetric).
    symmetric: bool = True

    def describe(self) -> str:  # pragma: no cover - every subclass overrides
        """A short human-readable description, used in plot titles."""
        raise NotImplementedError


@dataclass(frozen=True)
class FixedThreshold(RecurrenceSpec):
    """A fixed recurrence threshold ε: ``R[i, j] = 1`` when ``d(x_i, y_j) <= ε``.

    Parameters
    ----------
    eps : float
        Threshold, >= 0, in the units of the distance.

    Raises
    ------
    ValidationError
        If ``eps`` is negative or not finite.

    Notes
    -----
    Marwan et al. (2007), Eq. (3), doi:10.1016/j.physrep.2006.11.001.

    Examples
    --------
    >>> FixedThreshold(0.5).describe()
    'ε = 0.5'
    """

    eps: float

    def __post_init__(self) -> None:
        object.__setattr__(self, "eps", check_real(self.eps, "eps", minimum=0.0))

    def describe(self) -> str:
        """A short description, e.g. ``'ε = 0.5'``."""
        return f"ε = {self.eps:.4g}"


@dataclass(frozen=True)
class ScaledThreshold(RecurrenceSpec):
    """ε as a fraction of a reference scale of the data.

    Parameters
    ----------
    fraction : float
        ε divided by the scale, > 0.
    scale : {"max", "mean", "std"}, default "max"
        ``"max"``: the largest distance over all pairs; ``"mean"``: the mean distance
        over the admissible pairs (those outside the Theiler window); ``"std"``: the
        standard deviation of all entries of the input array(s) (population std, as
        pyunicorn's ``threshold_std``; only for state or series input, not for
        precomputed distances).

    Raises
    ------
    ValidationError
        If ``fraction`` is not positive.
    UnknownOptionError
        If ``scale`` is not one of :data:`SCALES`.

    Notes
    -----
    ``"max"`` and ``"mean"`` are RecurrenceAnalysis.jl's ``scale=maximum`` /
    ``scale=mean``; both are computed by streaming over tiles of distances, never by
    holding the N x N matrix (field case C4).

    Examples
    --------
    >>> ScaledThreshold(0.1, "std").describe()
    'ε = 0.1 × std'
    """

    fraction: float
    scale: str = "max"

    def __post_init__(self) -> None:
        object.__setattr__(
            self, "fraction", check_real(self.fraction, "fraction", minimum=0.0, strict_min=True)
        )
        check_option(self.scale, "scale", SCALES)

    def describe(self) -> str:
        """A short description, e.g. ``'ε = 0.1 × max d'``."""
        unit = "std" if self.scale == "std" else f"{self.scale} d"
        return f"ε = {self.fraction:.4g} × {unit}"


@dataclass(frozen=True)
class GlobalRecurrenceRate(RecurrenceSpec):
    """ε chosen so that a fraction ``rate`` of the admissible pairs recur.

    Parameters
    ----------
    rate : float
        Target recurrence rate, in (0, 1].

    Raises
    ------
    ValidationError
        If ``rate`` is not in (0, 1].

    Notes
    -----
    Under the default convention ε is the smallest distance ``d`` such that at least
    ``rate · M`` of the ``M`` admissible ordered pairs (``|i - j| >= theiler``) have
    distance ``<= d`` (``k = ceil(rate · M)``, computed so that ``0.01 · 14400`` is
    144): an order statistic of the admissible distances, found exactly without the
    N x N matrix -- a pseudo-random sample of pairs brackets it, one streaming pass
    counts the distances below the bracket and collects those inside, and the k-th is
    selected among them (if the bracket misses, an exact histogram refinement takes
    over; the sample only affects speed). Memory O(N + bracket). Without ties the
    resulting recurrence rate is the smallest achievable value ``>= rate``. Under
    ``convention="pyunicorn"``: pyunicorn's rule, the sorted full matrix (LOI
    included) at index ``int(rate · (N² - 1))``, and ``d < ε``.

    Examples
    --------
    >>> GlobalRecurrenceRate(0.05).describe()
    'RR = 0.05'
    """

    rate: float

    def __post_init__(self) -> None:
        rate = check_real(self.rate, "rate", minimum=0.0, maximum=1.0, strict_min=True)
        object.__setattr__(self, "rate", rate)

    def describe(self) -> str:
        """A short description, e.g. ``'RR = 0.05'``."""
        return f"RR = {self.rate:.4g}"


@dataclass(frozen=True)
class LocalRecurrenceRate(RecurrenceSpec):
    """One ε per row: each state recurs with its ``k`` nearest admissible neighbours.

    Give exactly one of ``k`` and ``rate``.

    Parameters
    ----------
    k : int, optional
        Number of neighbours per row, >= 1.
    rate : float, optional
        Fraction of the admissible columns of each row, in (0, 1]; row ``i`` then uses
        ``k_i = max(1, ceil(rate · m_i))`` with ``m_i`` its number of admissible columns.

    Raises
    ------
    ValidationError
        If both or neither of ``k`` and ``rate`` are given, or either is out of range.

    Notes
    -----
    Row ``i`` recurs with every admissible column whose distance is ``<=`` its
    ``k_i``-th smallest admissible distance, so ties at that distance are all included.
    The matrix is in general not symmetric. Under ``convention="pyunicorn"`` the rule
    is pyunicorn's ``local_recurrence_rate``: ε_i is the sorted row (self included) at
    index ``int(rate · (N - 1))`` and recurrence is ``d < ε_i``; ``rate`` is then
    required.

    Examples
    --------
    >>> LocalRecurrenceRate(k=5).describe()
    'k = 5 nearest'
    """

    k: int | None = None
    rate: float | None = None
    symmetric = False

    def __post_init__(self) -> None:
        if (self.k is None) == (self.rate is None):
            raise ValidationError(
                "exactly one of `k` and `rate` must be given; got "
                f"k={self.k!r}, rate={self.rate!r}. Use LocalRecurrenceRate(k=10) or "
                "LocalRecurrenceRate(rate=0.05)."
            )
        if self.k is not None:
            object.__setattr__(self, "k", check_int(self.k, "k", minimum=1))
        else:
            rate = check_real(self.rate, "rate", minimum=0.0, maximum=1.0, strict_min=True)
            object.__setattr__(self, "rate", rate)

    def describe(self) -> str:
        """A short description, e.g. ``'k = 5 nearest'``."""
        if self.k is not None:
            return f"k = {self.k} nearest"
        return f"local RR = {self.rate:.4g}"


def as_spec(spec: Any) -> RecurrenceSpec:
    """A :class:`RecurrenceSpec` from a spec or a bare number (read as a fixed ε).

    Examples
    --------
    >>> as_spec(0.2)
    FixedThreshold(eps=0.2)
    """
    if isinstance(spec, RecurrenceSpec):
        return spec
    if isinstance(spec, numbers.Real) and not isinstance(spec, bool):
        return FixedThreshold(float(spec))
    raise ValidationError(
        "`spec` must be a RecurrenceSpec (FixedThreshold, ScaledThreshold, "
        "GlobalRecurrenceRate, LocalRecurrenceRate) or a number (a fixed ε); "
        f"got {spec!r}"
    )
