"""Report section ``visibility``: visibility graphs of the training series of a regime.

For the reference run of a regime: the horizontal-visibility tail exponent lambda and
the time irreversibility of the loss and of the successive L1 distances between
recorded states, and the average edge overlap of the multiplex visibility graph of the
weight series. :func:`analyze` returns the same numbers for
``graphtraj analyze STORE --visibility``.
"""

from __future__ import annotations

import html
import math
import warnings
from typing import Any

import numpy as np

from graphtraj.exceptions import UndefinedResultWarning

__all__ = ["build", "analyze"]

KEY = "visibility"
TITLE = "Visibility graphs"
K_MIN = 4
#: A tail fit is "poor" when the KS distance between the observed tail and the fitted
#: law exceeds this (and the 5% critical value 1.36/sqrt(n_tail)); "too few" below
#: MIN_TAIL tail nodes.
MAX_KS = 0.1
MIN_TAIL = 10


def tail_ks(fit: Any) -> float:
    """Kolmogorov–Smirnov distance between the observed degree tail and the fitted law.

    Compares the empirical distribution of the degrees in the fitting range
    ``k_min .. k_max`` (``fit.k``, ``fit.pk``) with the fitted discrete exponential
    ``P(k) ∝ e^(-lam k)`` on the same range (unbounded: geometric): the largest gap
    between the two cumulative distributions. A tail that levels off while the fitted
    line keeps falling gives a large distance. NaN when the fit is undefined.

    Examples
    --------
    >>> import numpy as np
    >>> from graphtraj.timeseries.visibility_measures import degree_tail_fit
    >>> k = np.repeat(np.arange(4, 40), np.round(1000 * np.exp(-0.5 * np.arange(36))).astype(int))
    >>> round(tail_ks(degree_tail_fit(k, k_min=4)), 2)
    0.0
    >>> flat = np.repeat(np.arange(4, 40), 30)  # a tail that does not decay
    >>> tail_ks(degree_tail_fit(flat, k_min=4)) > MAX_KS
    True
    """
    lam = float(fit.lam)
    if not math.isfinite(lam):
        return math.nan
    k = np.asarray(fit.k)
    top = int(k[-1]) if fit.k_max is None else int(fit.k_max)
    sel = (k >= fit.k_min) & (k <= top)
    counts = np.asarray(fit.pk, dtype=np.float64)[sel]
    if counts.sum() <= 0:
        return math.nan
    emp = np.cumsum(counts) / counts.sum()
    j = k[sel] - fit.k_min
    if fit.k_max is None:
        model = 1.0 - np.exp(-lam * (j + 1))  # geometric on k_min, k_min + 1, ...
    else:
        w = np.exp(-lam * np.arange(top - fit.k_min + 1))
        model = (np.cumsum(w) / w.sum())[j]
    return float(np.max(np.abs(emp - model)))


def ks_threshold(n_tail: int) -> float:
    """KS distance above which a tail fit is poor: max(MAX_KS, 1.36/sqrt(n_tail))."""
    return max(MAX_KS, 1.36 / math.sqrt(max(int(n_tail), 1)))


def fit_quality(fit: Any) -> str:
    """"good", "poor" (KS distance above :func:`ks_threshold`), "too few" or
    "undefined" for a :class:`~graphtraj.timeseries.visibility_measures.DegreeTailFit`."""
    d = tail_ks(fit)
    if not math.isfinite(d):
        return "undefined"
    if fit.n_tail < MIN_TAIL:
        return "too few"
    return "poor" if d > ks_threshold(fit.n_tail) else "good"


def _finite_prefix(x: np.ndarray) -> np.ndarray:
    bad = np.flatnonzero(~np.isfinite(x))
    return x if bad.size == 0 else x[: bad[0]]


def _series(traj: Any, states: np.ndarray) -> dict[str, np.ndarray]:
    """The scalar series analysed: loss (if recorded) and successive L1 distances."""
    out: dict[str, np.ndarray] = {}
    if traj.loss is not None:
        out["loss"] = _finite_prefix(np.asarray(traj.loss, dtype=np.float64))
    finite_rows = np.all(np.isfinite(states), axis=1)
    n_ok = int(np.argmin(finite_rows)) if not finite_rows.all() else states.shape[0]
    # L1 distance between consecutive recorded states (the paper's metric)
    out["distance"] = np.abs(np.diff(states[:n_ok], axis=0)).sum(axis=1)
    return out


def _series_numbers(y: np.ndarray, n_surrogates: int, seed: int) -> tuple[dict[str, Any], Any, Any]:
    from graphtraj.timeseries import irreversibility, visibility_graph
    from graphtraj.timeseries.visibility_measures import degree_tail_fit

    if y.size < 3:
        return {"n": int(y.size), "lambda": math.nan, "lambda_stderr": math.nan,
                "irreversibility": math.nan, "p_value": math.nan}, None, None
    g = visibility_graph(y, "horizontal")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndefinedResultWarning)
        fit = degree_tail_fit(g, k_min=K_MIN)
    irr = irreversibility(y, n_surrogates=n_surrogates, rng=seed)
    numbers = {
        "n": int(y.size),
        "mean_degree": g.mean_degree,
        "lambda": fit.lam,
        "lambda_stderr": fit.stderr,
        "k_min": K_MIN,
        "n_tail": fit.n_tail,
        "tail_ks": tail_ks(fit),
        "fit_quality": fit_quality(fit),
        "irreversibility": irr.kld,
        "p_value": irr.p_value,
        "n_surrogates": n_surrogates,
    }
    return numbers, g, fit


def _multiplex_numbers(traj: Any, states: np.ndarray, max_steps: int, seed: int) -> dict[str, Any]:
    from graphtraj.timeseries import multiplex_visibility

    mask = traj.layout.mask("weight")
    if not mask.any():
        mask = np.ones(states.shape[1], dtype=bool)
    finite_rows = np.all(np.isfinite(states), axis=1)
    n_ok = int(np.argmin(finite_rows)) if not finite_rows.all() else states.shape[0]
    stride = max(1, math.ceil(n_ok / max_steps))
    w = states[:n_ok:stride][:, mask]
    if w.shape[0] < 2:
        return {"edge_overlap": math.nan, "n_layers": int(mask.sum()), "n_steps": int(w.shape[0])}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndefinedResultWarning)
        m = multiplex_visibility(w, "horizontal", rng=seed)
    return {
        "edge_overlap": m.edge_overlap,
        "mutual_information": m.mutual_information,
        "all_pairs": m.all_pairs,
        "n_layers": m.n_layers,
        "n_steps": m.n_nodes,
        "stride": stride,
        "layer_lambda_median": float(np.nanmedian(m.layer_tail_lambda)) if np.isfinite(m.layer_tail_lambda).any() else math.nan,
        "layer_irreversibility_median": float(np.median(m.layer_irreversibility)),
    }


def _compute(traj: Any, *, n_surrogates: int, max_steps: int, seed: int) -> tuple[dict[str, Any], dict[str, Any]]:
    numbers: dict[str, Any] = {"iid_lambda": math.log(1.5)}
    extras: dict[str, Any] = {}
    states = np.asarray(traj.states, dtype=np.float64)  # loads a lazy (stored) run once
    for name, y in _series(traj, states).items():
        stride = max(1, math.ceil(y.size / max_steps))
        y = y[::stride]
        numbers[name], extras[f"{name}_graph"], extras[f"{name}_fit"] = _series_numbers(y, n_surrogates, seed)
        numbers[name]["stride"] = stride
    numbers["multiplex"] = _multiplex_numbers(traj, states, max_steps, seed)
    return numbers, extras


def analyze(traj: Any, **options: Any) -> dict[str, Any]:
    """Visibility-graph numbers of one trajectory, JSON-able (NaN where undefined).

    Parameters
    ----------
    traj : Trajectory
        A training run with states (and loss, if recorded).
    n_surrogates : int, default 99
        Shuffles for the irreversibility p-values.
    max_steps : int, default 20000
        Longer series are evenly subsampled to at most this many points.
    seed : int, default 0
        Seed of the surrogates and of any sampled layer pairs.

    Returns
    -------
    dict
        ``{"loss": {...}, "distance": {...}, "multiplex": {...}, "iid_lambda": ln 1.5}``
        with, per series, ``lambda``, ``lambda_stderr``, ``irreversibility``,
        ``p_value``, ``mean_degree``, ``n``; for the weights, ``edge_overlap``,
        ``mutual_information``, ``n_layers``, ``n_steps``.

    Examples
    --------
    >>> import numpy as np
    >>> from graphtraj.trajectory import ParamLayout, Trajectory
    >>> rng = np.random.default_rng(0)
    >>> lay = ParamLayout.for_mlp([2, 3, 1])
    >>> tr = Trajectory(np.arange(300), np.cumsum(rng.normal(size=(300, lay.size)), 0), lay,
    ...                 loss=rng.random(300))
    >>> out = analyze(tr, n_surrogates=9)
    >>> sorted(out), out["multiplex"]["n_layers"]
    (['distance', 'iid_lambda', 'loss', 'multiplex'], 9)
    """
    numbers, _ = _compute(
        traj,
        n_surrogates=int(options.get("n_surrogates", 99)),
        max_steps=int(options.get("max_steps", 20000)),
        seed=int(options.get("seed", 0)),
    )
    return numbers


def _sentence(label: str, num: dict[str, Any]) -> str:
    lam, se = num.get("lambda", math.nan), num.get("lambda_stderr", math.nan)
    d, p = num.get("irreversibility", math.nan), num.get("p_value", math.nan)
    if not math.isfinite(d):
        return f"The {label} series is too short to analyse."
    if math.isfinite(p) and p < 0.05:
        rev = (f"time-irreversible (D = {d:.3f}, the Kullback–Leibler divergence between the "
               f"in- and out-degree distributions of its directed HVG; p = {p:.3f} against "
               f"{num['n_surrogates']} shuffles)")
    else:
        rev = (f"statistically reversible (D = {d:.3f}, the in/out-degree Kullback–Leibler "
               f"divergence of its directed HVG; p = {p:.2f})")
    quality = num.get("fit_quality", "good")
    if not math.isfinite(lam):
        tail = (f"its horizontal visibility graph has no degree tail above k = {K_MIN} "
                "(a nearly monotone series), so λ is undefined")
    elif quality == "too few":
        tail = (f"its horizontal visibility graph has only {num.get('n_tail')} nodes of "
                f"degree ≥ {K_MIN}, too few for a meaningful tail exponent")
    elif quality == "poor":
        tail = (f"an exponential fits its HVG degree tail poorly (KS distance "
                f"{num.get('tail_ks', math.nan):.3f} between the observed tail and the fit, "
                f"above {ks_threshold(num.get('n_tail') or 1):.3f}), so the fitted "
                f"λ ≈ {lam:.2g} does not describe it")
    else:
        iid = math.log(1.5)
        band = max(2 * se, 0.02)
        if abs(lam - iid) <= band:
            kind = "close to the i.i.d. value ln(3/2) = 0.405 (noise-like)"
        elif lam < iid:
            kind = "below the i.i.d. value ln(3/2) = 0.405, as for chaotic series"
        else:
            kind = "above the i.i.d. value ln(3/2) = 0.405, as for correlated stochastic series"
        tail = f"its HVG degree tail decays with λ = {lam:.3f} ± {se:.3f}, {kind}"
    return f"The {label} is {rev}; {tail}."


def build(regime: Any) -> Any:
    """The ``visibility`` section for one regime of the Iris study.

    Uses ``regime.reference`` (loss and states). Budget: about 1 s in quick mode (99 ->
    19 surrogates, series subsampled to 2 000 points) and a few seconds otherwise.
    """
    from graphtraj.plotting.visibility import plot_degree_distribution, plot_visibility_graph
    from graphtraj.report.section import ReportFigure, Section, figure_to_png_base64

    quick = bool(getattr(regime, "quick", False))
    numbers, extras = _compute(
        regime.reference,
        n_surrogates=19 if quick else 99,
        max_steps=2000 if quick else 20000,
        seed=0,
    )
    labels = {"loss": "training loss", "distance": "step-to-step weight change (L1)"}
    parts = [_sentence(labels[name], numbers[name]) for name in ("loss", "distance") if name in numbers]
    mx = numbers["multiplex"]
    if math.isfinite(mx.get("edge_overlap", math.nan)):
        parts.append(
            f"The {mx['n_layers']} weight series share on average a fraction "
            f"{mx['edge_overlap']:.2f} of their visibility edges (1 = all weights rise and "
            "fall in the same pattern; unrelated series share little beyond the links "
            "between consecutive steps), with mean interlayer degree information "
            f"{mx['mutual_information']:.3f} nats."
        )
    summary = html.escape(" ".join(parts))

    import matplotlib.pyplot as plt

    figures = []
    shown = [n for n in ("loss", "distance") if extras.get(f"{n}_fit") is not None]
    if shown:
        fig, axes = plt.subplots(1, len(shown), figsize=(4.6 * len(shown), 3.3), squeeze=False)
        for ax, name in zip(axes[0], shown, strict=True):
            plot_degree_distribution(extras[f"{name}_fit"], ax=ax, label=name)
            ax.set_title(labels[name], fontsize="medium")
        figures.append(ReportFigure(
            title="HVG degree distributions",
            png_base64=figure_to_png_base64(fig),
            caption="Degree distributions of the horizontal visibility graphs on log-linear "
                    "axes, the fitted exponential tail and the i.i.d. law (dashed, λ = ln(3/2)).",
        ))
    g = extras.get("loss_graph")
    if g is not None and not quick:
        from graphtraj.timeseries import visibility_graph

        tail = g.series[-40:]
        small = visibility_graph(tail, "horizontal", times=g.times[-tail.size:])
        fig, ax = plt.subplots(figsize=(6.0, 2.8))
        plot_visibility_graph(small, ax=ax)
        ax.set_ylabel("loss")
        figures.append(ReportFigure(
            title="Visibility graph of the last recorded losses",
            png_base64=figure_to_png_base64(fig),
            caption="Horizontal visibility graph of the last 40 loss values: two values are "
                    "linked when every value between them is lower than both.",
        ))
    return Section(key=KEY, title=TITLE, summary_html=summary, figures=tuple(figures), numbers=numbers)
