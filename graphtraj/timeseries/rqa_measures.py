"""Recurrence quantification analysis (RQA) from line histograms computed once.

One scan of the recurrence matrix (:mod:`graphtraj.timeseries._rqa_kernels`) gives the
histograms of diagonal lines, vertical lines, recurrence times and white vertical
lines; every measure is a small function of them, so ``min_line`` (and ``min_vert``,
``min_white``, ``border``) can be changed afterwards with
:meth:`RQAResult.with_min_line` without rescanning. Given data and a spec instead of a
matrix, the scan streams column by column and the N x N matrix is never held.

Definitions follow RecurrenceAnalysis.jl (``convention="recurrenceanalysis"``, the
default); ``convention="pyunicorn"`` reproduces pyunicorn's ``RecurrencePlot`` numbers.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

from graphtraj._checks import check_int, check_option
from graphtraj._result import Result
from graphtraj.exceptions import UndefinedResultWarning, ValidationError
from graphtraj.timeseries._recurrence_source import TILE, make_source
from graphtraj.timeseries._recurrence_threshold import admissible_pairs, resolve_thresholds
from graphtraj.timeseries._rqa_engine import RawScan, packed_columns, scan_source, scan_stored
from graphtraj.timeseries._rqa_kernels import H_LO, H_LOI, H_RT, H_UP, H_VERT, H_WHITE
from graphtraj.timeseries.recurrence import (
    CONVENTIONS,
    RecurrenceMatrix,
    check_theiler,
)
from graphtraj.timeseries.recurrence_spec import as_spec

__all__ = ["MEASURES", "RQAHistograms", "RQAResult", "rqa"]

#: Names of the scalar measures of :class:`RQAResult`, in order.
MEASURES = (
    "RR", "DET", "L", "Lmax", "DIV", "ENTR", "TREND", "LAM", "TT", "Vmax", "VENTR",
    "MRT", "RTE", "NMPRT", "WVL", "WVmax", "WVENTR",
)

_PYUNICORN_EPS = 1e-8  # pyunicorn adds this to every denominator


@dataclass(frozen=True, eq=False)
class RQAHistograms(Result):
    """The histograms every RQA measure is derived from (index = length or time).

    Attributes
    ----------
    diagonal : ndarray of int64
        ``diagonal[l]`` = number of diagonal lines of length ``l`` (index 0 unused).
    vertical : ndarray of int64
        Vertical lines by length.
    recurrence_times : ndarray of int64
        Recurrence times. Default convention: RecurrenceAnalysis.jl's distance between
        consecutive vertical lines of a column (white gap plus half of each line,
        rounded down). Under ``"pyunicorn"``: pyunicorn's white vertical line lengths.
    white : ndarray of int64
        White vertical lines: maximal runs of admissible non-recurrent cells in a
        column, counted once per column, ended by the matrix border or the Theiler band.
    tau_density : ndarray of float
        Recurrence density of the diagonal at distance ``d`` from the LOI inside the
        leading square (RecurrenceAnalysis.jl's ``tau_recurrence``), for TREND.
    n_recurrent : int
        Admissible recurrent cells (RR numerator).
    n_pairs : int
        RR denominator: admissible pairs (recurrence and joint matrices), N·M (cross,
        as RecurrenceAnalysis.jl), N² (pyunicorn).
    shape : tuple of int
        Matrix shape.
    kind, theiler, convention
        How the histograms were counted.
    """

    diagonal: np.ndarray
    vertical: np.ndarray
    recurrence_times: np.ndarray
    white: np.ndarray
    tau_density: np.ndarray
    n_recurrent: int
    n_pairs: int
    shape: tuple[int, int]
    kind: str
    theiler: int
    convention: str


def _trim(h: np.ndarray) -> np.ndarray:
    nz = np.flatnonzero(h)
    return h[: (nz[-1] + 1 if nz.size else 1)].copy()


def histograms_from_scan(scan: RawScan, kind: str, convention: str) -> RQAHistograms:
    """Assemble :class:`RQAHistograms` from a raw scan under ``convention``."""
    h = scan.hist
    n_rows, n_cols = scan.n_rows, scan.n_cols
    off = n_rows - 1
    counts = scan.diag_count
    if scan.upper:
        n_rec = int(counts[off] + 2 * counts[off + 1 :].sum())
    else:
        n_rec = int(counts.sum())
    nsq = min(n_rows, n_cols)
    sq = scan.square_count.astype(np.float64)
    d = np.arange(nsq)
    plus = sq[off + d]
    minus = plus if scan.upper else sq[off - d]
    tau = np.empty(nsq)
    tau[0] = plus[0] / nsq if nsq else 0.0
    tau[1:] = 0.5 * (plus[1:] + minus[1:]) / (nsq - d[1:])
    if convention == "pyunicorn":
        # pyunicorn counts the lines below the LOI of R and doubles them; a
        # non-symmetric R is scanned transposed (pyunicorn's "vertical" lines run along
        # rows), which puts them above the LOI of the scan. Its "recurrence times" are
        # white vertical lines.
        diagonal = 2 * h[H_UP]
        rt = h[H_WHITE]
        n_pairs = n_rows * n_cols
    else:
        diagonal = (2 * h[H_UP] if scan.upper else h[H_UP] + h[H_LO]) + h[H_LOI]
        rt = h[H_RT]
        if kind == "cross":
            n_pairs = n_rows * n_cols
        else:
            n_pairs = admissible_pairs(n_rows, n_cols, scan.theiler)
    return RQAHistograms(
        diagonal=_trim(diagonal), vertical=_trim(h[H_VERT]), recurrence_times=_trim(rt),
        white=_trim(h[H_WHITE]), tau_density=tau, n_recurrent=n_rec, n_pairs=n_pairs,
        shape=(n_rows, n_cols), kind=kind, theiler=scan.theiler, convention=convention,
    )


def _caller_level() -> int:
    """``stacklevel`` that points a warning at the first frame outside graphtraj."""
    import sys

    frame, level = sys._getframe(1), 1
    while frame is not None and "/graphtraj/" in frame.f_code.co_filename.replace("\\", "/"):
        frame, level = frame.f_back, level + 1
    return level


def _undefined(name: str, why: str) -> float:
    warnings.warn(f"{name} is undefined ({why}); returning NaN", UndefinedResultWarning,
                  stacklevel=_caller_level())
    return float("nan")


def _entropy(counts: np.ndarray, reg: float = 0.0) -> float:
    counts = counts[counts > 0].astype(np.float64)
    p = counts / (counts.sum() + reg)
    return float(-(p * np.log(p)).sum()) + 0.0  # + 0.0: one line length gives 0, not -0


def _line_stats(h: np.ndarray, lmin: int, name: str, pyunicorn: bool, total: float | None):
    """(fraction of points in lines >= lmin, mean length, max length, entropy).

    ``total`` is the fraction's denominator (None: no fraction wanted).
    """
    lengths = np.arange(h.size)
    sel = h[lmin:] if lmin < h.size else h[:0]
    lsel = lengths[lmin:] if lmin < h.size else lengths[:0]
    points = float((lsel * sel).sum())
    nlines = float(sel.sum())
    if pyunicorn:
        full = float((lengths * h).sum())
        frac = points / (full + _PYUNICORN_EPS)
        mean = points / (nlines + _PYUNICORN_EPS)
        nz = np.flatnonzero(h)
        vmax = int(nz[-1]) if nz.size else 0
        ent = _entropy(sel, _PYUNICORN_EPS) if nlines else 0.0
        return frac, mean, vmax, ent
    if total is None:
        frac = float("nan")
    elif total > 0:
        frac = points / total
    else:
        frac = _undefined(f"the {name} fraction", "no recurrent points")
    mean = points / nlines if nlines > 0 else _undefined(
        f"the mean {name} length", f"no lines of length >= {lmin}")
    nz = np.flatnonzero(sel)
    vmax = int(lsel[nz[-1]]) if nz.size else 0
    ent = _entropy(sel) if nlines > 0 else _undefined(
        f"the {name} entropy", f"no lines of length >= {lmin}")
    return frac, mean, vmax, ent


def _trend(tau: np.ndarray, theiler: int, border: int) -> float:
    # RecurrenceAnalysis.jl `_trend` with its 1-based indices a..b and δ = d - b/2.
    nmax = tau.size
    a, b = 1 + theiler, nmax - border
    if b < a:
        return _undefined("TREND", f"no diagonals between theiler={theiler} and "
                          f"border={border} in a matrix of size {nmax}")
    idx = np.arange(a, b + 1)
    vals = tau[idx - 1]
    delta = idx - b / 2.0
    num = float((delta * (vals - vals.mean())).sum())
    den = float((delta * delta).sum())
    return 1000.0 * num / den


@dataclass(frozen=True, eq=False)
class RQAResult(Result):
    """RQA measures, the histograms they come from, and the parameters used.

    Attributes
    ----------
    RR : float
        Recurrence rate.
    DET, L, Lmax, DIV, ENTR : float
        Determinism, mean / maximum diagonal line length (lines >= ``min_line``),
        divergence ``1/Lmax``, Shannon entropy (natural log) of the line lengths.
    TREND : float
        Change of the recurrence density with distance from the LOI, per 1000 samples.
    LAM, TT, Vmax, VENTR : float
        Laminarity, trapping time, longest vertical line, vertical-line entropy
        (lines >= ``min_vert``).
    MRT, RTE, NMPRT : float
        Mean recurrence time, recurrence-time entropy, number of the most probable
        recurrence time (the largest count in the recurrence-time histogram).
    WVL, WVmax, WVENTR : float
        White vertical lines (``>= min_white``): mean length, longest, entropy.
    histograms : RQAHistograms
        The histograms (computed once).
    min_line, min_vert, min_white, border, theiler : int
        Parameters used.
    convention : str
        ``"recurrenceanalysis"`` or ``"pyunicorn"``.
    """

    RR: float
    DET: float
    L: float
    Lmax: float
    DIV: float
    ENTR: float
    TREND: float
    LAM: float
    TT: float
    Vmax: float
    VENTR: float
    MRT: float
    RTE: float
    NMPRT: float
    WVL: float
    WVmax: float
    WVENTR: float
    histograms: RQAHistograms
    min_line: int
    min_vert: int
    min_white: int
    border: int
    theiler: int
    convention: str

    def measures(self) -> dict[str, float]:
        """The scalar measures as a plain dict (keys in :data:`MEASURES` order)."""
        return {name: float(getattr(self, name)) for name in MEASURES}

    def with_min_line(
        self,
        min_line: int | None = None,
        min_vert: int | None = None,
        *,
        min_white: int | None = None,
        border: int | None = None,
    ) -> RQAResult:
        """The measures for other minimum lengths or TREND border, from the same histograms.

        ``min_vert`` follows ``min_line`` when only ``min_line`` is given and the two
        were equal before.
        """
        if min_line is not None and min_vert is None and self.min_vert == self.min_line:
            min_vert = min_line
        return measures_from_histograms(
            self.histograms,
            min_line=self.min_line if min_line is None else min_line,
            min_vert=self.min_vert if min_vert is None else min_vert,
            min_white=self.min_white if min_white is None else min_white,
            border=self.border if border is None else border,
        )


def measures_from_histograms(
    hist: RQAHistograms, *, min_line: int, min_vert: int, min_white: int, border: int
) -> RQAResult:
    """Every RQA measure from ``hist`` (the formulas are in :func:`rqa`'s Notes)."""
    min_line = check_int(min_line, "min_line", minimum=1)
    min_vert = check_int(min_vert, "min_vert", minimum=1)
    min_white = check_int(min_white, "min_white", minimum=1)
    border = check_int(border, "border", minimum=0)
    pyu = hist.convention == "pyunicorn"
    if hist.n_pairs > 0:
        rr = hist.n_recurrent / hist.n_pairs
    else:
        rr = _undefined("RR", "no admissible pairs (Theiler window too wide)")
    total = float(hist.n_recurrent)
    det, lmean, lmax, entr = _line_stats(hist.diagonal, min_line, "diagonal", pyu, total)
    lam, tt, vmax, ventr = _line_stats(hist.vertical, min_vert, "vertical", pyu, total)
    if pyu:
        # pyunicorn: recurrence times are white vertical lines (>= min_white).
        _, mrt, _, rte = _line_stats(hist.recurrence_times, min_white, "white", True, None)
        rt_sel = hist.recurrence_times[min_white:]
    else:
        rt = hist.recurrence_times
        times = np.arange(rt.size)
        n_rt = float(rt.sum())
        if n_rt > 0:
            mrt = float((times * rt).sum()) / n_rt
            rte = _entropy(rt)
        else:
            mrt = _undefined("MRT", "fewer than two vertical lines in every column")
            rte = _undefined("RTE", "fewer than two vertical lines in every column")
        rt_sel = rt
    nmprt = int(rt_sel.max()) if rt_sel.size else 0
    _, wvl, _, wventr = _line_stats(hist.white, min_white, "white vertical line", pyu,
                                    None)
    wnz = np.flatnonzero(hist.white)
    wvmax = int(wnz[-1]) if wnz.size else 0
    div = 1.0 / lmax if lmax > 0 else _undefined("DIV", "no diagonal lines (Lmax = 0)")
    theiler_trend = 0 if pyu else hist.theiler
    return RQAResult(
        RR=rr, DET=det, L=lmean, Lmax=lmax, DIV=div, ENTR=entr,
        TREND=_trend(hist.tau_density, theiler_trend, border),
        LAM=lam, TT=tt, Vmax=vmax, VENTR=ventr, MRT=mrt, RTE=rte, NMPRT=nmprt,
        WVL=wvl, WVmax=wvmax, WVENTR=wventr, histograms=hist,
        min_line=min_line, min_vert=min_vert, min_white=min_white, border=border,
        theiler=hist.theiler, convention=hist.convention,
    )


def _as_matrix(x: Any) -> RecurrenceMatrix | None:
    import scipy.sparse as sp

    if isinstance(x, RecurrenceMatrix):
        return x
    if sp.issparse(x):
        return RecurrenceMatrix.from_array(x)
    if isinstance(x, np.ndarray) and x.dtype == bool:
        return RecurrenceMatrix.from_array(x)
    return None


def rqa(
    x: Any,
    spec: Any = None,
    *,
    metric: str | None = None,
    precomputed: bool = False,
    theiler: int | None = None,
    min_line: int = 2,
    min_vert: int | None = None,
    min_white: int = 1,
    border: int = 10,
    convention: str | None = None,
    tile: tuple[int, int] | None = None,
    progress: bool | None = None,
) -> RQAResult:
    """Recurrence quantification analysis of a recurrence matrix, or streamed from data.

    Parameters
    ----------
    x : RecurrenceMatrix, boolean array, scipy sparse, or data
        A recurrence matrix (from :func:`recurrence_matrix` and friends, or any boolean
        array; square → recurrence matrix, otherwise cross-recurrence) -- or, when
        ``spec`` is given, the data itself (series, states, Trajectory, GraphSeries, or
        a distance matrix with ``precomputed=True``), analysed by streaming over the
        columns of the matrix without ever holding it.
    spec : RecurrenceSpec or float, optional
        Threshold rule for data input; must be None for matrix input.
    metric, precomputed
        As in :func:`recurrence_matrix` (data input only).
    theiler : int, optional
        Pairs with ``|i - j| < theiler`` are ignored. Default: the matrix's own window
        (1 for recurrence and joint matrices, 0 for cross matrices and for pyunicorn).
    min_line : int, default 2
        Minimum diagonal line length for DET, L, Lmax, ENTR.
    min_vert : int, optional
        Minimum vertical line length for LAM, TT, Vmax, VENTR (default ``min_line``).
    min_white : int, default 1
        Minimum white vertical line length for WVL and WVENTR (and, under pyunicorn,
        MRT and RTE).
    border : int, default 10
        Outermost diagonals left out of TREND (RecurrenceAnalysis.jl's ``border``).
    convention : {"recurrenceanalysis", "pyunicorn"}, optional
        Default: the matrix's convention (``"recurrenceanalysis"`` for arrays and data).
    tile : (int, int), optional
        Tile shape (rows, columns) of the distance passes that resolve ε for data input
        (maximum, mean, or the exact quantile fallback); results do not depend on it.
    progress : bool, optional
        Show a progress bar over the columns (default: when interactive).

    Returns
    -------
    RQAResult
        All measures, the histograms and the parameters.

    Raises
    ------
    ValidationError
        ``spec`` given with a matrix or missing with data; bad parameters; a Theiler
        window under ``convention="pyunicorn"``.
    UnknownOptionError
        Unknown ``convention`` or ``metric``.

    Warns
    -----
    UndefinedResultWarning
        A measure is undefined (no recurrent points, no lines >= the minimum, no
        recurrence times, ...); it is NaN.

    Notes
    -----
    With ``P(l)`` the diagonal, ``P(v)`` the vertical and ``P(t)`` the recurrence-time
    histogram (Marwan et al. 2007, Eqs. 5-9, 13-16; Webber & Zbilut 2005;
    RecurrenceAnalysis.jl), counting only admissible cells ``|i - j| >= theiler``:

    - RR = (recurrent cells) / (admissible pairs); for cross matrices the denominator
      is N·M whatever the Theiler window (RecurrenceAnalysis.jl);
    - DET = Σ_{l>=lmin} l P(l) / Σ_l l P(l); L = Σ_{l>=lmin} l P(l) / Σ_{l>=lmin} P(l);
      Lmax = longest line (0 if none >= lmin); DIV = 1/Lmax;
      ENTR = -Σ p(l) ln p(l) over l >= lmin;
    - LAM, TT, Vmax, VENTR: the same with vertical lines and ``min_vert``;
    - recurrence time between consecutive vertical lines A, B of a column:
      ``start_B - end_A - 1 + len_A // 2 + len_B // 2`` (RecurrenceAnalysis.jl; for
      isolated points one period apart this is the period minus one); MRT its mean,
      RTE its entropy, NMPRT the largest count of its histogram;
    - TREND = 1000 Σ δ_d (RR_d - <RR_d>) / Σ δ_d² over diagonals ``d`` from ``theiler``
      to ``n - border - 1`` (``n`` = smaller side), RecurrenceAnalysis.jl's indexing.

    The Theiler band splits vertical and white lines; the white lines next to it and
    to the matrix border are counted. Denominators of RR, DET and LAM count admissible
    cells only, so a constant series gives RR = DET = LAM = 1 for every Theiler window
    (field case C11). Undefined measures are NaN with a warning (RecurrenceAnalysis.jl
    returns 0 for some of them).

    Under ``convention="pyunicorn"`` (pyunicorn 1.0 ``RecurrencePlot``): RR counts the
    line of identity over N²; diagonal lines are those below the LOI, doubled (the LOI
    is not a line); vertical and white lines include the LOI; every ratio has 1e-8
    added to its denominator (empty histograms give 0, not NaN); Lmax and Vmax are the
    longest lines of any length; MRT/RTE/NMPRT use white vertical lines (pyunicorn's
    ``mean_recurrence_time``); DIV and TREND are computed as above with Theiler 0.

    Cost: one scan, O(N·M) time at worst (for states with a native metric only rows
    whose most spread coordinate lies within ε of the column's are visited); O(N + M)
    working memory when streaming, plus one pass to resolve ε for a fixed recurrence
    rate or a scaled threshold (see
    :class:`~graphtraj.timeseries.recurrence_spec.GlobalRecurrenceRate`); O(N·M/8) for a
    stored bit-packed matrix. Changing ``min_line`` later costs O(N):
    :meth:`RQAResult.with_min_line`.

    References
    ----------
    .. [1] N. Marwan et al., Phys. Rep. 438, 237 (2007), doi:10.1016/j.physrep.2006.11.001.
    .. [2] N. Marwan, C. L. Webber, "Mathematical and computational foundations of
       recurrence quantifications", in Recurrence Quantification Analysis, Springer
       (2015), doi:10.1007/978-3-319-07155-8_1.
    .. [3] J. B. Gao, H. Cai, Phys. Lett. A 270, 75 (2000),
       doi:10.1016/S0375-9601(00)00304-2 (recurrence times).

    Examples
    --------
    A period-4 orbit: every recurrence lies on a diagonal, so DET = 1.

    >>> import numpy as np
    >>> x = np.tile([0.0, 1.0, 2.0, 3.0], 10)
    >>> res = rqa(x, 0.5, min_vert=1)
    >>> round(res.RR, 4), res.DET, res.Lmax
    (0.2308, 1.0, 36)
    >>> res.with_min_line(20, 1).L  # the lines of 36, 32, 28, 24 and 20 steps
    28.0
    """
    mat = _as_matrix(x)
    if mat is not None:
        if spec is not None:
            raise ValidationError(
                "`spec` must be None when `x` is a recurrence matrix (its threshold is "
                f"already applied); got {spec!r}"
            )
        conv = mat.convention if convention is None else check_option(
            convention, "convention", CONVENTIONS)
        theiler = mat.theiler if (theiler is None and conv == mat.convention) else theiler
        theiler = check_theiler(theiler, mat.kind, conv)
        upper = mat.symmetric
        scan_w = 0 if conv == "pyunicorn" else theiler
        n_rows, n_cols = mat.shape
        if conv == "pyunicorn" and not upper:
            # pyunicorn's vertical lines run along rows: scan R.T, whose columns are
            # the (bit-packed) rows of R.
            cols = mat.to_packed()
            n_rows, n_cols = n_cols, n_rows
        else:
            cols = packed_columns(mat.data, mat.shape, upper)
        scan = scan_stored(cols, n_rows, n_cols, scan_w, upper=upper, progress=progress)
        kind = mat.kind
    else:
        if spec is None:
            raise ValidationError(
                "`spec` must be given when `x` is data (a series, states, Trajectory, "
                "GraphSeries or distance matrix); or pass a RecurrenceMatrix / boolean "
                f"array. Got x of type {type(x).__name__} and spec=None."
            )
        spec = as_spec(spec)
        conv = check_option(
            "recurrenceanalysis" if convention is None else convention,
            "convention", CONVENTIONS)
        tile = _check_tile(tile)
        source = make_source(x, metric=metric, precomputed=precomputed)
        if source.n_rows != source.n_cols:
            raise ValidationError(
                f"`x` must be a square distance matrix when precomputed=True; got shape "
                f"({source.n_rows}, {source.n_cols})"
            )
        kind = "recurrence"
        theiler = check_theiler(theiler, kind, conv)
        thresholds = resolve_thresholds(source, spec, theiler, conv, tile)
        upper = bool(source.symmetric and spec.symmetric)
        scan_w = 0 if conv == "pyunicorn" else theiler
        if conv == "pyunicorn" and not upper:
            # pyunicorn's vertical lines run along rows: scan the transpose, with the
            # per-row thresholds now acting on columns.
            from graphtraj.timeseries._recurrence_threshold import Thresholds

            source = source.transposed()
            thresholds = Thresholds(np.full(source.n_rows, np.inf), thresholds.rows,
                                    thresholds.eps, thresholds.strict)
        scan = scan_source(source, thresholds, scan_w, upper=upper, progress=progress)
    hist = histograms_from_scan(scan, kind, conv)
    return measures_from_histograms(
        hist, min_line=min_line, min_vert=min_line if min_vert is None else min_vert,
        min_white=min_white, border=border,
    )


def _check_tile(tile: Any) -> tuple[int, int]:
    if tile is None:
        return TILE
    return (check_int(tile[0], "tile[0]", minimum=1), check_int(tile[1], "tile[1]", minimum=1))
