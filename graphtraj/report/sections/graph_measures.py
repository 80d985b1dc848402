"""Report section ``graph_measures``: the training run as a series of graphs.

For the reference run of a regime: weight-space (L1, the paper's) and graph-space
distance matrices side by side, spectral statistics and motif measures over time, and
Mantel statistics of how each graph-space distance tracks the L1 weight distance.
:func:`analyze` returns the same numbers for ``graphtraj analyze STORE --measures``.
"""

from __future__ import annotations

import html
import math
import warnings
from typing import Any

import numpy as np

from graphtraj.exceptions import UndefinedResultWarning

__all__ = ["build", "analyze", "GRAPH_METRICS"]

KEY = "graph_measures"
TITLE = "Graph measures"

#: Graph-space metrics compared with the L1 weight distance.
GRAPH_METRICS = ("singular_values", "laplacian", "heat_trace", "aligned_l1_chained")

#: (matrix snapshots, comparison snapshots, Mantel permutations, null draws) per mode.
_BUDGET = {"quick": (200, 60, 49, 10), "default": (1000, 200, 199, 20)}


def _finite(traj: Any) -> Any:
    """The records before the first non-finite state (a diverged run is cut there)."""
    states = np.asarray(traj.states[:], dtype=np.float64)
    ok = np.all(np.isfinite(states), axis=1)
    n_ok = states.shape[0] if ok.all() else int(np.argmin(ok))
    return traj.isel(slice(0, n_ok))


def _compute(
    traj: Any, *, max_snapshots: int, compare_snapshots: int, permutations: int,
    n_null: int, seed: int,
) -> tuple[dict[str, Any], dict[str, Any]]:
    from graphtraj.measures import (
        compare_to_weight_distance,
        distance_matrix,
        motif_stats,
        spectral_stats,
        successive_distances,
    )
    from graphtraj.measures.motifs import PATH_PATTERNS
    from graphtraj.snapshots import GraphSeries

    traj = _finite(traj)
    if len(traj) < 3:
        return {"n_snapshots": len(traj), "error": "fewer than 3 finite records"}, {}
    gs = GraphSeries.from_trajectory(traj, max_snapshots=max_snapshots)
    mats = {
        "L1 weight distance": distance_matrix(gs, "l1"),
        "layer singular values": distance_matrix(gs, "singular_values"),
        "Laplacian spectrum of |W|": distance_matrix(gs, "laplacian"),
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndefinedResultWarning)
        spec = spectral_stats(gs)
        mot = motif_stats(gs, n_null=n_null, rng=seed)
        cmp = compare_to_weight_distance(
            gs, GRAPH_METRICS, max_snapshots=compare_snapshots, permutations=permutations,
            rng=seed,
        )
    speed = successive_distances(gs, "l1")
    numbers: dict[str, Any] = {
        "n_snapshots": len(gs),
        "steps": [int(gs.times[0]), int(gs.times[-1])],
        "layer_sizes": list(gs.layer_sizes),
        "l1_initial_to_final": float(mats["L1 weight distance"][0, -1]),
        "l1_path_length": float(speed.sum()),
        "mantel": {
            m: {"r": float(cmp.mantel_r[m]), "p": float(cmp.mantel_p[m])}
            for m in cmp.metrics
        },
        "initial_distance_corr": dict(cmp.initial_corr),
        "speed_corr": dict(cmp.successive_corr),
        "disagreement_step": dict(cmp.disagreement_time),
        "disagreement": dict(cmp.disagreement),
        "comparison_snapshots": int(cmp.times.size),
        "mantel_permutations": permutations,
        "spectral": {
            "layers": list(spec.layer_names),
            "spectral_norm_initial": spec.spectral_norm[0].tolist(),
            "spectral_norm_final": spec.spectral_norm[-1].tolist(),
            "stable_rank_final": spec.stable_rank[-1].tolist(),
            "effective_rank_final": spec.effective_rank[-1].tolist(),
            "spectral_radius": [float(spec.spectral_radius[0]), float(spec.spectral_radius[-1])],
            "algebraic_connectivity": [float(spec.algebraic_connectivity[0]),
                                       float(spec.algebraic_connectivity[-1])],
        },
        "motifs": {
            "path_fraction_final": {
                p: float(mot.path_fraction[-1, 0, q]) for q, p in enumerate(PATH_PATTERNS)
            } if mot.path_fraction is not None else {},
            "balance_final": mot.balance[-1].tolist(),
            "balance_z_final": mot.balance_z[-1].tolist(),
            "balance_z_mean": np.nanmean(mot.balance_z, 0).tolist()
            if np.isfinite(mot.balance_z).any() else [math.nan] * mot.balance_z.shape[1],
            "n_null": n_null,
            "seed": seed,
        },
    }
    extras = {"series": gs, "matrices": mats, "spectral": spec, "motifs": mot, "comparison": cmp}
    return numbers, extras


def _options(options: dict[str, Any], quick: bool) -> dict[str, Any]:
    m, c, p, n = _BUDGET["quick" if quick else "default"]
    return {
        "max_snapshots": int(options.get("max_snapshots", m)),
        "compare_snapshots": int(options.get("compare_snapshots", c)),
        "permutations": int(options.get("permutations", p)),
        "n_null": int(options.get("n_null", n)),
        "seed": int(options.get("seed", 0)),
    }


def analyze(traj: Any, **options: Any) -> dict[str, Any]:
    """Graph-measure numbers of one stored run, JSON-able (NaN where undefined).

    Parameters
    ----------
    traj : Trajectory
        A run of a layered (MLP) network; records after the first non-finite state
        are dropped.
    max_snapshots : int, default 1000
        Snapshots for the distance matrices, spectra and motifs (even subsample).
    compare_snapshots : int, default 200
        Snapshots for the Mantel comparison with the L1 weight distance.
    permutations : int, default 199
        Mantel permutations.
    n_null : int, default 20
        Sign-shuffled copies for the structural-balance null model.
    seed : int, default 0
        Seed of the Mantel permutations and of the null model.
    quick : bool, default False
        Use the quick budget (200 / 60 snapshots, 49 permutations, 10 null draws).

    Returns
    -------
    dict
        ``n_snapshots``, ``steps``, ``layer_sizes``, ``l1_initial_to_final``,
        ``l1_path_length``, ``mantel`` (per graph metric: Spearman ``r`` and ``p``
        against L1), ``initial_distance_corr``, ``speed_corr``,
        ``disagreement_step`` and its size ``disagreement``, ``spectral`` (per-layer norms and ranks, spectral radius and algebraic
        connectivity at the first and last snapshot), ``motifs`` (final path-sign
        fractions, balance and its z-scores).

    Raises
    ------
    UnsupportedModelError
        If the run is not a layered network.

    Examples
    --------
    >>> import numpy as np
    >>> from graphtraj.trajectory import ParamLayout, Trajectory
    >>> rng = np.random.default_rng(0)
    >>> lay = ParamLayout.for_mlp([2, 4, 2])
    >>> tr = Trajectory(np.arange(50), np.cumsum(rng.normal(size=(50, lay.size)), 0), lay)
    >>> out = analyze(tr, quick=True)
    >>> out["n_snapshots"], sorted(out["mantel"])
    (50, ['aligned_l1_chained', 'heat_trace', 'laplacian', 'singular_values'])
    """
    numbers, _ = _compute(traj, **_options(options, bool(options.get("quick", False))))
    return numbers


def _verdict(r: float) -> str:
    if not math.isfinite(r):
        return "cannot be compared with"
    if r >= 0.8:
        return "closely tracks"
    if r >= 0.4:
        return "partly tracks"
    return "departs from"


def _fmt(x: float, spec: str = ".2f") -> str:
    return "n/a" if x is None or not math.isfinite(x) else format(x, spec)


def _summary(regime: Any, n: dict[str, Any]) -> str:
    lap = n["mantel"]["laplacian"]
    sv = n["mantel"]["singular_values"]
    al = n["mantel"]["aligned_l1_chained"]
    sp = n["spectral"]
    z = n["motifs"]["balance_z_mean"]
    text = (
        f"For η = {regime.lr:g}, graph space {_verdict(lap['r'])} weight space: the "
        f"distance between the Laplacian spectra of the snapshots follows the paper's L1 "
        f"weight distance with Mantel r = {_fmt(lap['r'])} (p = {_fmt(lap['p'], '.3f')}), "
        f"the layers' singular values with r = {_fmt(sv['r'])}, and the L1 distance after "
        f"aligning hidden units along the run with r = {_fmt(al['r'])} "
        f"({n['comparison_snapshots']} snapshots, Spearman). "
        f"The weights travel an L1 path of {_fmt(n['l1_path_length'], '.3g')} and end "
        f"{_fmt(n['l1_initial_to_final'], '.3g')} from where they started. "
        f"The spectral norms of the layers go from "
        f"{', '.join(_fmt(v) for v in sp['spectral_norm_initial'])} to "
        f"{', '.join(_fmt(v) for v in sp['spectral_norm_final'])}, and the algebraic "
        f"connectivity of |W| from {_fmt(sp['algebraic_connectivity'][0], '.3g')} to "
        f"{_fmt(sp['algebraic_connectivity'][1], '.3g')}. "
        f"Structural balance against sign shuffling, mean z-score per layer: "
        f"{', '.join(f'{_fmt(v)} (layer {i + 1})' for i, v in enumerate(z))}; z > 2 is more "
        f"balanced than the shuffled signs, z < -2 less."
    )
    return html.escape(text)


def build(regime: Any) -> Any:
    """The ``graph_measures`` section for one regime (≈8 s default, ≈1 s quick).

    Parameters
    ----------
    regime : RegimeRun
        The regime; its reference trajectory is analysed.

    Returns
    -------
    Section
        Summary, three figures (distance matrices side by side, spectral statistics,
        motif statistics; in quick mode only the first, with two panels) and the
        numbers of :func:`analyze`.
    """
    from graphtraj.plotting.graphs import (
        plot_distance_matrices,
        plot_motif_stats,
        plot_spectral_stats,
    )
    from graphtraj.report.section import ReportFigure, Section, figure_to_png_base64

    numbers, extras = _compute(regime.reference, **_options({}, regime.quick))
    if not extras:
        return Section(KEY, TITLE, html.escape(
            f"Too few finite records ({numbers['n_snapshots']}) for graph measures."),
            numbers=numbers)
    gs = extras["series"]
    mats = extras["matrices"]
    if regime.quick:  # rendering dominates the quick budget: one figure, two panels
        mats = {k: v for k, v in mats.items() if k != "layer singular values"}
    figs = (
        ReportFigure(
            "Weight space and graph space",
            figure_to_png_base64(plot_distance_matrices(mats, gs.times)),
            f"Distances between {len(gs)} snapshots: L1 over all parameters (left), "
            + ("" if regime.quick else "per-layer singular-value spectra and ")
            + "Laplacian spectra of the symmetrized |W|.",
        ),
    )
    if not regime.quick:
        figs += (
            ReportFigure(
                "Spectral statistics",
                figure_to_png_base64(plot_spectral_stats(extras["spectral"])),
                "Per-layer spectral norm, stable and effective rank; spectral radius and "
                "algebraic connectivity of the symmetrized |W|.",
            ),
            ReportFigure(
                "Motifs",
                figure_to_png_base64(plot_motif_stats(extras["motifs"])),
                "Fractions of the sign patterns of input→hidden→output paths, and the "
                "z-score of each layer's structural balance against sign shuffling.",
            ),
        )
    return Section(KEY, TITLE, _summary(regime, numbers), figs, numbers)
