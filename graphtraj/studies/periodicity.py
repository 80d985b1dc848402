"""Periodic, irregular and monotone stretches of a loss series.

At large learning rates the paper's network does not converge: its loss settles on
fixed points (ln 3 for the 3-class problem), period-3 orbits, and irregular bursts in
between. :func:`loss_stretches` labels consecutive windows of a loss series so that the
report can say which of these it sees, and how often it switches between them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from graphtraj._checks import as_series, check_int, check_real, require_length
from graphtraj._result import Result
from graphtraj.exceptions import ValidationError

__all__ = ["LossStretches", "loss_stretches", "IRREGULAR", "MONOTONE"]

#: Label of a window with no period up to ``max_period`` that is not monotone.
IRREGULAR = 0
#: Label of a window in which the series strictly decreases or strictly increases
#: (a converging or drifting loss, not an orbit).
MONOTONE = -1


@dataclass(frozen=True, eq=False)
class LossStretches(Result):
    """Windows of a series labelled periodic, monotone or irregular, merged into stretches.

    Attributes
    ----------
    window_starts : ndarray of int, shape (W,)
        Index of the first sample of each window.
    labels : ndarray of int, shape (W,)
        Per window: the smallest period p >= 1 (1 = fixed point), ``MONOTONE`` (-1)
        or ``IRREGULAR`` (0).
    stretches : tuple of (int, int, int)
        ``(start, stop, label)`` of each maximal run of windows with the same label
        (sample indices, stop exclusive).
    periodic_fraction, irregular_fraction, monotone_fraction : float
        Fraction of the analysed samples in each kind of window.
    periods : dict
        ``{p: number of windows with period p}``.
    n_switches : int
        Number of changes between a periodic and an irregular stretch (monotone
        stretches are skipped when counting).
    intermittent : bool
        True when the series has both periodic and irregular stretches and switches
        between them at least twice.
    params : dict
        ``window``, ``max_period``, ``rtol``, ``atol``, ``amplitude_tol``.
    """

    window_starts: np.ndarray
    labels: np.ndarray
    stretches: tuple[tuple[int, int, int], ...]
    periodic_fraction: float
    irregular_fraction: float
    monotone_fraction: float
    periods: dict[int, int]
    n_switches: int
    intermittent: bool
    params: dict[str, Any] = field(default_factory=dict)


def _label(seg: np.ndarray, max_period: int, rtol: float, atol: float,
           amplitude_tol: float) -> int:
    diff = np.diff(seg)
    if np.all(diff < 0) or np.all(diff > 0):
        return MONOTONE
    tol = atol + rtol * np.abs(seg) + amplitude_tol * (seg.max() - seg.min())
    for p in range(1, max_period + 1):
        if np.all(np.abs(seg[p:] - seg[:-p]) <= tol[:-p]):
            return p
    return IRREGULAR


def loss_stretches(
    series: Any,
    *,
    window: int = 60,
    max_period: int = 8,
    rtol: float = 1e-6,
    atol: float = 1e-9,
    amplitude_tol: float = 0.05,
) -> LossStretches:
    r"""Label windows of a series as periodic (with their period), monotone or irregular.

    Parameters
    ----------
    series : array_like, shape (T,)
        E.g. the training loss at every step.
    window : int, default 60
        Length of the consecutive, non-overlapping windows (a final partial window
        shorter than ``window`` is ignored).
    max_period : int, default 8
        Largest period tested. Must be smaller than ``window / 2`` so that each
        tested period repeats at least twice inside a window.
    rtol, atol : float, default 1e-6 and 1e-9
        Absolute and relative tolerance of "equal" (see Notes).
    amplitude_tol : float, default 0.05
        Further tolerance as a fraction of the window's range (max − min), so that
        an orbit whose amplitude is still slowly settling (a damped approach to a
        period-3 cycle) counts as periodic. 0 demands exact repetition.

    Returns
    -------
    LossStretches
        Per-window labels, merged stretches, time fractions and the switch count.

    Raises
    ------
    ValidationError
        Invalid parameters (``max_period >= window / 2``, negative tolerances).
    InsufficientDataError
        ``series`` shorter than one window.
    NonFiniteInputError
        NaN or inf in ``series`` (a diverged run: analyse its finite part).

    Notes
    -----
    Criterion, per window x_s … x_{s+W−1}: ``MONOTONE`` if all successive
    differences have one strict sign (a loss still converging or drifting);
    otherwise the smallest p in 1 … ``max_period`` with

    .. math:: |x_{t+p} - x_t| \le \mathrm{atol} + \mathrm{rtol}\,|x_t|
              + \mathrm{amplitude\_tol}\,(\max_W x - \min_W x)

    for every t with both ends in the window (p = 1 is a fixed point); failing
    that, ``IRREGULAR``. A run *switches* each time a periodic stretch is
    followed by an irregular one or the reverse; it is called intermittent with at
    least one stretch of each kind and two switches — the "periodic and irregular
    stretches" of the chaotic-intermittent regime of Danovski et al. (2024), where
    the η = 5 loss alternates between period-3 orbits, the fixed point ln 3 and
    aperiodic bursts.

    Complexity O(T · max_period).

    References
    ----------
    .. [1] K. Danovski, M. C. Soriano, L. Lacasa, Front. Complex Syst. 2, 1367957
       (2024). https://doi.org/10.3389/fcpxs.2024.1367957

    Examples
    --------
    A period-3 stretch followed by noise:

    >>> import numpy as np
    >>> x = np.r_[np.tile([1.0, 2.0, 0.5], 40), np.random.default_rng(0).random(120)]
    >>> res = loss_stretches(x, window=60)
    >>> res.labels.tolist(), res.n_switches
    ([3, 3, 0, 0], 1)
    """
    window = check_int(window, "window", minimum=2)
    max_period = check_int(max_period, "max_period", minimum=1)
    if 2 * max_period >= window:
        raise ValidationError(
            f"`max_period` must be smaller than window / 2 = {window / 2}; got "
            f"{max_period}. Use a longer `window` or a smaller `max_period`."
        )
    rtol = check_real(rtol, "rtol", minimum=0.0)
    atol = check_real(atol, "atol", minimum=0.0)
    amplitude_tol = check_real(amplitude_tol, "amplitude_tol", minimum=0.0, maximum=1.0)
    x = as_series(series, "series")
    require_length(x.size, window, "series", f"one window (`window` = {window})")

    n_win = x.size // window
    starts = np.arange(n_win, dtype=np.int64) * window
    labels = np.array(
        [_label(x[s : s + window], max_period, rtol, atol, amplitude_tol) for s in starts],
        dtype=np.int64,
    )
    stretches: list[tuple[int, int, int]] = []
    for s, lab in zip(starts.tolist(), labels.tolist(), strict=True):
        if stretches and stretches[-1][2] == lab:
            stretches[-1] = (stretches[-1][0], s + window, lab)
        else:
            stretches.append((s, s + window, lab))
    kinds = [("P" if lab >= 1 else "I") for _, _, lab in stretches if lab != MONOTONE]
    n_switches = sum(1 for a, b in zip(kinds[:-1], kinds[1:], strict=True) if a != b)
    periods: dict[int, int] = {}
    for lab in labels.tolist():
        if lab >= 1:
            periods[lab] = periods.get(lab, 0) + 1
    periodic = float(np.mean(labels >= 1))
    irregular = float(np.mean(labels == IRREGULAR))
    monotone = float(np.mean(labels == MONOTONE))
    return LossStretches(
        window_starts=starts,
        labels=labels,
        stretches=tuple(stretches),
        periodic_fraction=periodic,
        irregular_fraction=irregular,
        monotone_fraction=monotone,
        periods=dict(sorted(periods.items())),
        n_switches=int(n_switches),
        intermittent=bool(periodic > 0 and irregular > 0 and n_switches >= 2),
        params={"window": window, "max_period": max_period, "rtol": rtol, "atol": atol,
                "amplitude_tol": amplitude_tol},
    )
