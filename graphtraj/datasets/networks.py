"""Synthetic temporal networks with known network Lyapunov exponents.

Test beds for :func:`graphtraj.timeseries.network_mle` (Caligiuri et al., Phys. Rev. E
107, 044305, 2023), each an undirected weighted graph series on ``n_nodes`` nodes
(the complete graph: ``n_nodes (n_nodes - 1) / 2`` links, 15 for 6 nodes):

* :func:`logistic_network`: every link weight is ``m_ij x(t)`` with fixed random
  ``m_ij`` and one logistic map ``x`` at r = 4 — low-dimensional chaos, nMLE = ln 2;
* :func:`independent_logistic_network`: each link driven by its own logistic map —
  high-dimensional chaos (15 positive exponents, all ln 2); from one trajectory its
  neighbours are too rare, so use the two-trajectory mode;
* :func:`periodic_network`: a period-``p`` sequence of random graphs plus tiny noise —
  nMLE = 0;
* :func:`random_graph_series`: i.i.d. random graphs — no scaling region.

Every generator takes ``perturb`` (or a separate noise seed) to make the perturbed twin
of two-trajectory mode: the same network from a slightly shifted state.
"""

from __future__ import annotations

import numpy as np

from graphtraj._checks import as_rng, check_int, check_real
from graphtraj.datasets.systems import logistic_map
from graphtraj.exceptions import ValidationError

__all__ = [
    "logistic_network",
    "independent_logistic_network",
    "periodic_network",
    "random_graph_series",
]


def _links(n_nodes: int) -> tuple[np.ndarray, np.ndarray]:
    return np.triu_indices(n_nodes, k=1)


def _to_series(weights: np.ndarray, n_nodes: int):  # -> GraphSeries
    """(T, L) link weights on the upper triangle -> undirected GraphSeries."""
    from graphtraj.snapshots import GraphSeries

    t = weights.shape[0]
    iu, ju = _links(n_nodes)
    mats = np.zeros((t, n_nodes, n_nodes))
    mats[:, iu, ju] = weights
    mats[:, ju, iu] = weights
    return GraphSeries.from_adjacency(np.arange(t), mats, directed=False)


def _logistic_from(x: float, n: int, r: float) -> np.ndarray:
    return logistic_map(n, r=r, x0=x, transient=0)


def _shifted(x: float, perturb: float) -> float:
    y = x + perturb
    if not 0.0 <= y <= 1.0:
        y = x - perturb
    return y


def logistic_network(
    n: int,
    *,
    n_nodes: int = 6,
    r: float = 4.0,
    x0: float = 0.3,
    transient: int = 100,
    perturb: float = 0.0,
    seed: int = 0,
):
    """Temporal network driven by one logistic map: ``w_ij(t) = m_ij x(t)``.

    Parameters
    ----------
    n : int
        Number of snapshots (>= 1).
    n_nodes : int, default 6
        Nodes of the complete graph (15 links for 6 nodes).
    r : float, default 4.0
        Logistic parameter (0 < r <= 4).
    x0 : float, default 0.3
        Initial value of the driving map, in [0, 1].
    transient : int, default 100
        Iterations discarded before the first snapshot.
    perturb : float, default 0.0
        Shift added to the driving state at the first snapshot (after the transient;
        subtracted instead if adding leaves [0, 1]): with the same ``seed`` this is
        the perturbed twin for two-trajectory mode.
    seed : int, default 0
        Seed of the fixed couplings ``m_ij ~ U(0.5, 1.5)``.

    Returns
    -------
    GraphSeries
        Undirected, ``n`` snapshots, times ``0 .. n-1``.

    Raises
    ------
    ValidationError
        For out-of-range parameters.

    Notes
    -----
    Caligiuri et al., Phys. Rev. E 107, 044305 (2023), doi:10.1103/PhysRevE.107.044305
    (the "logistic-driven" model). Any graph distance that is homogeneous in the link
    weights is ``c |x(t) - x(s)|``, so the nMLE equals the map's exponent, ln 2 at
    r = 4. O(n n_nodes²).

    Examples
    --------
    >>> g = logistic_network(5)
    >>> len(g), g.n_nodes, g.n_edges, g.directed
    (5, 6, 15, False)
    """
    n = check_int(n, "n", minimum=1)
    n_nodes = check_int(n_nodes, "n_nodes", minimum=2)
    perturb = check_real(perturb, "perturb", minimum=0.0)
    rng = as_rng(seed)
    iu, _ = _links(n_nodes)
    m = rng.uniform(0.5, 1.5, size=iu.size)
    start = logistic_map(1, r=r, x0=x0, transient=transient)[0]
    x = _logistic_from(_shifted(start, perturb) if perturb else start, n, r)
    return _to_series(x[:, None] * m[None, :], n_nodes)


def independent_logistic_network(
    n: int,
    *,
    n_nodes: int = 6,
    r: float = 4.0,
    transient: int = 100,
    perturb: float = 0.0,
    seed: int = 0,
):
    """Temporal network whose every link follows its own logistic map.

    ``w_l(t) = x_l(t)`` with ``x_l(t+1) = r x_l(t) (1 - x_l(t))`` and independent
    initial values ``x_l(0) ~ U(0.1, 0.9)``.

    Parameters
    ----------
    n : int
        Number of snapshots.
    n_nodes : int, default 6
        Nodes of the complete graph (15 links for 6 nodes).
    r : float, default 4.0
        Logistic parameter.
    transient : int, default 100
        Iterations discarded before the first snapshot.
    perturb : float, default 0.0
        Shift added to every link's state at the first snapshot (perturbed twin).
    seed : int, default 0
        Seed of the initial values.

    Returns
    -------
    GraphSeries
        Undirected.

    Raises
    ------
    ValidationError
        For out-of-range parameters.

    Notes
    -----
    Caligiuri et al. (2023), doi:10.1103/PhysRevE.107.044305. High-dimensional chaos:
    L links give L exponents equal to ln 2. From a single trajectory, close returns in
    an L-dimensional space are too rare for neighbours; the two-trajectory mode with a
    perturbed twin measures ln 2. O(n L).

    Examples
    --------
    >>> g = independent_logistic_network(3)
    >>> g.vectors().shape
    (3, 15)
    """
    n = check_int(n, "n", minimum=1)
    n_nodes = check_int(n_nodes, "n_nodes", minimum=2)
    perturb = check_real(perturb, "perturb", minimum=0.0)
    rng = as_rng(seed)
    iu, _ = _links(n_nodes)
    x0 = rng.uniform(0.1, 0.9, size=iu.size)
    w = np.empty((n, iu.size))
    for link in range(iu.size):
        start = logistic_map(1, r=r, x0=float(x0[link]), transient=transient)[0]
        w[:, link] = _logistic_from(_shifted(start, perturb) if perturb else start, n, r)
    return _to_series(w, n_nodes)


def periodic_network(
    n: int,
    *,
    n_nodes: int = 6,
    period: int = 5,
    noise: float = 1e-6,
    seed: int = 0,
    noise_seed: int | None = None,
):
    """A period-``period`` sequence of random weighted graphs plus tiny noise.

    ``A(t) = B_{t mod period} + noise · ξ(t)`` with fixed ``B_k`` (link weights
    U(0, 1)) and i.i.d. standard normal link noise ξ.

    Parameters
    ----------
    n : int
        Number of snapshots.
    n_nodes : int, default 6
        Nodes of the complete graph.
    period : int, default 5
        Period (>= 1).
    noise : float, default 1e-6
        Noise amplitude (>= 0).
    seed : int, default 0
        Seed of the base graphs.
    noise_seed : int, optional
        Seed of the noise (default ``seed``); a different noise seed gives the
        "perturbed" twin for two-trajectory mode.

    Returns
    -------
    GraphSeries
        Undirected.

    Raises
    ------
    ValidationError
        For out-of-range parameters.

    Notes
    -----
    A periodic orbit: separations neither grow nor shrink, nMLE = 0. O(n L).

    Examples
    --------
    >>> import numpy as np
    >>> g = periodic_network(10, noise=0.0)
    >>> bool(np.array_equal(g.dense(0), g.dense(5)))
    True
    """
    n = check_int(n, "n", minimum=1)
    n_nodes = check_int(n_nodes, "n_nodes", minimum=2)
    period = check_int(period, "period", minimum=1)
    noise = check_real(noise, "noise", minimum=0.0)
    iu, _ = _links(n_nodes)
    base = as_rng(seed).uniform(0.0, 1.0, size=(period, iu.size))
    w = base[np.arange(n) % period]
    if noise:
        w = w + noise * as_rng(seed if noise_seed is None else noise_seed).normal(size=w.shape)
    return _to_series(w, n_nodes)


def random_graph_series(
    n: int,
    *,
    n_nodes: int = 6,
    p: float = 0.5,
    seed: int = 0,
):
    """i.i.d. weighted Erdős–Rényi graphs: each link present with probability p, weight U(0, 1).

    Parameters
    ----------
    n : int
        Number of snapshots.
    n_nodes : int, default 6
        Nodes.
    p : float, default 0.5
        Link probability, in (0, 1].
    seed : int, default 0
        Seed.

    Returns
    -------
    GraphSeries
        Undirected.

    Raises
    ------
    ValidationError
        For out-of-range parameters.

    Notes
    -----
    Snapshots are independent: nothing to follow, so ``network_mle`` reports no scaling
    region. O(n L).

    Examples
    --------
    >>> g = random_graph_series(4, seed=1)
    >>> len(g), g.directed
    (4, False)
    """
    n = check_int(n, "n", minimum=1)
    n_nodes = check_int(n_nodes, "n_nodes", minimum=2)
    p = check_real(p, "p", minimum=0.0, maximum=1.0, strict_min=True)
    rng = as_rng(seed)
    iu, _ = _links(n_nodes)
    present = rng.random(size=(n, iu.size)) < p
    w = np.where(present, rng.uniform(0.0, 1.0, size=(n, iu.size)), 0.0)
    if np.all(w == 0):
        raise ValidationError(f"`p` = {p} gave only empty graphs; use a larger `p` or `n`")
    return _to_series(w, n_nodes)
