"""Hidden-unit permutation symmetry: aligning the hidden neurons of layered networks.

Relabelling the hidden units of an MLP (permuting the rows of a layer's weights and
biases together with the columns of the next layer's weights) leaves the computed
function unchanged. These tools find the relabelling that best matches one network to
another in the L1 norm over all parameters.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.optimize import linear_sum_assignment
from scipy.spatial.distance import cdist

from graphtraj._progress import progress_bar
from graphtraj.exceptions import ValidationError
from graphtraj.snapshots import GraphSeries

__all__ = ["hidden_permutations", "align_hidden", "chain_align"]


# ----------------------------------------------------------------- private kernels
def _params(series: GraphSeries, t: int) -> tuple[list[np.ndarray], list[np.ndarray] | None]:
    ws = [w[t] for w in series._layers]
    bs = None if series._biases is None else [b[t] for b in series._biases]
    return ws, bs


def _layerwise_perms(
    wa: list[np.ndarray], ba: list[np.ndarray] | None,
    wb: list[np.ndarray], bb: list[np.ndarray] | None,
) -> list[np.ndarray]:
    """Permutations of b's hidden layers, first to last, aligning b to a.

    Hidden layer ``l`` is matched on its incoming weights (columns already in the
    aligned order of layer ``l-1``), its biases and its outgoing weights: compared as
    they are when the next layer is the (fixed) output layer, and sorted per unit (a
    relabelling-invariant summary) when the next layer is itself hidden.
    """
    perms: list[np.ndarray] = []
    prev = np.arange(wa[0].shape[1])
    n_hidden = len(wa) - 1
    for li in range(n_hidden):
        fa = [wa[li]]
        fb = [wb[li][:, prev]]
        if ba is not None:
            fa.append(ba[li][:, None])
            fb.append(bb[li][:, None])
        if li == n_hidden - 1:
            fa.append(wa[li + 1].T)
            fb.append(wb[li + 1].T)
        else:
            fa.append(np.sort(wa[li + 1].T, axis=1))
            fb.append(np.sort(wb[li + 1].T, axis=1))
        cost = cdist(np.hstack(fa), np.hstack(fb), "cityblock")
        _, col = linear_sum_assignment(cost)
        perms.append(col)
        prev = col
    return perms


def _apply(
    ws: list[np.ndarray], bs: list[np.ndarray] | None, perms: Sequence[np.ndarray]
) -> tuple[list[np.ndarray], list[np.ndarray] | None]:
    full = [np.arange(ws[0].shape[1]), *perms, np.arange(ws[-1].shape[0])]
    new_w = [w[full[k + 1]][:, full[k]] for k, w in enumerate(ws)]
    new_b = None if bs is None else [b[full[k + 1]] for k, b in enumerate(bs)]
    return new_w, new_b


def _l1(wa, ba, wb, bb) -> float:
    total = sum(float(np.abs(x - y).sum()) for x, y in zip(wa, wb, strict=True))
    if ba is not None:
        total += sum(float(np.abs(x - y).sum()) for x, y in zip(ba, bb, strict=True))
    return total


def layerwise_distance(a: GraphSeries, i: int, b: GraphSeries, j: int) -> float:
    """One-directional layer-by-layer aligned L1 (b aligned to a)."""
    wa, ba = _params(a, i)
    wb, bb = _params(b, j)
    perms = _layerwise_perms(wa, ba, wb, bb)
    wb2, bb2 = _apply(wb, bb, perms)
    return _l1(wa, ba, wb2, bb2)


def unit_features(series: GraphSeries) -> tuple[np.ndarray, np.ndarray]:
    """Per-hidden-unit vectors (T, h, D) and the unit-independent part (T, out).

    For one hidden layer: incoming weights, bias and outgoing weights of each hidden
    unit; the rest of the parameters (output biases) does not move under relabelling.
    """
    w0, w1 = series._layers
    parts = [w0]
    if series._biases is not None:
        parts.append(series._biases[0][:, :, None])
    parts.append(w1.transpose(0, 2, 1))
    units = np.concatenate(parts, axis=2)
    fixed = (
        series._biases[1] if series._biases is not None else np.zeros((len(series), 0))
    )
    return units, fixed


def exact_block(
    ua: np.ndarray, fa: np.ndarray, ub: np.ndarray, fb: np.ndarray
) -> np.ndarray:
    """Exact aligned L1 between every snapshot of ``a`` and of ``b`` (one hidden layer)."""
    na, h, dim = ua.shape
    nb = ub.shape[0]
    out = cdist(fa, fb, "cityblock") if fa.shape[1] else np.zeros((na, nb))
    if h == 0:
        return out
    cost = cdist(ua.reshape(-1, dim), ub.reshape(-1, dim), "cityblock").reshape(na, h, nb, h)
    for p in range(na):
        for q in range(nb):
            c = cost[p, :, q, :]
            r, k = linear_sum_assignment(c)
            out[p, q] += c[r, k].sum()
    return out


def exact_matrix(series: GraphSeries, block_size: int, progress: bool | None) -> np.ndarray:
    """Symmetric exact aligned-L1 matrix of a one-hidden-layer series."""
    units, fixed = unit_features(series)
    n = len(series)
    out = np.empty((n, n))
    starts = list(range(0, n, block_size))
    pairs = [(i, j) for k, i in enumerate(starts) for j in starts[k:]]
    for i, j in progress_bar(pairs, total=len(pairs), desc="aligned blocks", progress=progress):
        si, sj = slice(i, min(i + block_size, n)), slice(j, min(j + block_size, n))
        d = exact_block(units[si], fixed[si], units[sj], fixed[sj])
        out[si, sj] = d
        if i != j:
            out[sj, si] = d.T
    out = np.minimum(out, out.T)  # LAP sums in another order may differ by an ulp
    np.fill_diagonal(out, 0.0)
    return out


# ------------------------------------------------------------------- public API
def _check_layered(series: GraphSeries, name: str) -> GraphSeries:
    if not isinstance(series, GraphSeries) or not series.is_layered:
        raise ValidationError(
            f"`{name}` must be a layered GraphSeries (GraphSeries.from_trajectory or "
            f"from_layers); got {series!r}"
        )
    return series


def hidden_permutations(a: GraphSeries, b: GraphSeries) -> list[np.ndarray]:
    """The relabelling of ``b``'s hidden units that best matches ``a`` (L1 norm).

    Uses the first snapshot of each series. Hidden layers are aligned first to last:
    layer ``l`` by an optimal assignment (:func:`scipy.optimize.linear_sum_assignment`)
    on the L1 cost between units' incoming weights (in the aligned order of the
    previous layer), biases and outgoing weights. With one hidden layer this is the
    exact minimiser of the L1 distance over all relabellings; with more it is the
    layer-by-layer approximation (outgoing weights into a further hidden layer enter
    sorted, a relabelling-invariant summary).

    Parameters
    ----------
    a, b : GraphSeries
        Layered series with the same layer sizes (one-snapshot series such as
        ``series[t]``; only the first snapshot is used).

    Returns
    -------
    list of ndarray
        One permutation per hidden layer: unit ``k`` of the aligned ``b`` is unit
        ``perm[k]`` of ``b``.

    Raises
    ------
    ValidationError
        If a series is not layered or the layer sizes differ.

    Notes
    -----
    The L1 distance over all parameters decomposes over hidden units when only one
    hidden layer is permuted, so minimising it is a linear assignment problem
    (Hungarian algorithm, O(h³)); see Ainsworth, Hayase & Srinivasa (2023) for weight
    matching across layers.

    References
    ----------
    .. [1] S. K. Ainsworth, J. Hayase, S. Srinivasa, "Git Re-Basin: merging models
       modulo permutation symmetries", ICLR 2023. arXiv:2209.04836

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> gs = GraphSeries.from_layers([0], [rng.normal(size=(1, 5, 3)), rng.normal(size=(1, 2, 5))])
    >>> order = np.r_[0, 1, 2, 3 + np.array([4, 2, 0, 1, 3]), 8, 9]
    >>> perm = hidden_permutations(gs, gs.permute_nodes(order))[0]
    >>> perm.tolist()
    [2, 3, 1, 4, 0]
    """
    _check_layered(a, "a")
    _check_layered(b, "b")
    if not a.same_nodes(b):
        raise ValidationError(
            f"`a` and `b` must have the same layer sizes and biases; got {a!r} and {b!r}"
        )
    wa, ba = _params(a, 0)
    wb, bb = _params(b, 0)
    return _layerwise_perms(wa, ba, wb, bb)


def _hidden_order(series: GraphSeries, perms: Sequence[np.ndarray]) -> np.ndarray:
    offs = series.layer_offsets
    sizes = series.layer_sizes
    parts = [np.arange(sizes[0])]
    parts += [offs[k + 1] + p for k, p in enumerate(perms)]
    parts.append(offs[-1] + np.arange(sizes[-1]))
    return np.concatenate(parts)


def align_hidden(series: GraphSeries, reference: GraphSeries) -> GraphSeries:
    """Every snapshot of ``series`` relabelled to best match ``reference`` (first snapshot).

    Parameters
    ----------
    series : GraphSeries
        Layered series.
    reference : GraphSeries
        Layered series of the same layer sizes; its first snapshot is the target.

    Returns
    -------
    GraphSeries
        The series with hidden units relabelled per snapshot (see
        :func:`hidden_permutations`; exact for one hidden layer).

    Raises
    ------
    ValidationError
        If either series is not layered or their layer sizes differ.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(1)
    >>> gs = GraphSeries.from_layers([0], [rng.normal(size=(1, 4, 2)), rng.normal(size=(1, 1, 4))])
    >>> shuffled = gs.permute_nodes(np.r_[0, 1, 2 + rng.permutation(4), 6])
    >>> bool(np.allclose(align_hidden(shuffled, gs).dense(), gs.dense()))
    True
    """
    _check_layered(series, "series")
    _check_layered(reference, "reference")
    if not series.same_nodes(reference):
        raise ValidationError(
            "`series` and `reference` must have the same layer sizes and biases; got "
            f"{series!r} and {reference!r}"
        )
    wa, ba = _params(reference, 0)
    return _realign(series, lambda t, ws, bs: _layerwise_perms(wa, ba, ws, bs))


def _realign(series: GraphSeries, find, progress: bool | None = None) -> GraphSeries:
    layers = [np.array(w) for w in series._layers]
    biases = None if series._biases is None else [np.array(b) for b in series._biases]
    for t in progress_bar(range(len(series)), total=len(series), desc="align", progress=progress):
        ws = [w[t] for w in layers]
        bs = None if biases is None else [b[t] for b in biases]
        perms = find(t, ws, bs)
        new_w, new_b = _apply(ws, bs, perms)
        for k, w in enumerate(new_w):
            layers[k][t] = w
        if biases is not None:
            for k, b in enumerate(new_b):
                biases[k][t] = b
    return GraphSeries._layered(series.times, layers, biases)


def chain_align(series: GraphSeries, *, progress: bool | None = None) -> GraphSeries:
    """Relabel hidden units along a trajectory, each snapshot to the previous aligned one.

    Snapshot 0 is kept; snapshot ``t`` is relabelled to best match the aligned
    snapshot ``t - 1`` (:func:`hidden_permutations`). This is the *chained*
    approximation: T - 1 assignments instead of T² / 2, and it follows units that
    drift slowly, but a distance between aligned snapshots ``i`` and ``j`` far apart
    is in general larger than their pairwise-aligned distance.

    Parameters
    ----------
    series : GraphSeries
        Layered series.
    progress : bool, optional
        Show a progress bar (default: when interactive).

    Returns
    -------
    GraphSeries
        The relabelled series (same times and layer sizes).

    Raises
    ------
    ValidationError
        If the series is not layered.

    Notes
    -----
    O(T · Σ_l h_l³) for the assignments.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(2)
    >>> w0, w1 = rng.normal(size=(1, 4, 2)), rng.normal(size=(1, 1, 4))
    >>> gs = GraphSeries.from_layers([0, 1], [np.repeat(w0, 2, 0), np.repeat(w1, 2, 0)])
    >>> swapped = GraphSeries.from_layers([0, 1], [np.r_[w0, w0[:, ::-1]], np.r_[w1, w1[:, :, ::-1]]])
    >>> bool(np.allclose(chain_align(swapped).dense(), gs.dense()))
    True
    """
    _check_layered(series, "series")
    state: dict[str, tuple] = {}

    def find(t, ws, bs):
        if t == 0:
            state["prev"] = ([w.copy() for w in ws], None if bs is None else [b.copy() for b in bs])
            return [np.arange(w.shape[0]) for w in ws[:-1]]
        pw, pb = state["prev"]
        perms = _layerwise_perms(pw, pb, ws, bs)
        nw, nb = _apply(ws, bs, perms)
        state["prev"] = (nw, nb)
        return perms

    return _realign(series, find, progress)
