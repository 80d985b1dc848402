"""Synthetic ensembles with known divergence, for the study tests."""

import numpy as np
import pytest

from graphtraj.trajectory import Ensemble, ParamLayout


def make_ensemble(dist, loss=None, *, steps=None, states=None, times=None, metadata=None):
    """An Ensemble of n_inits references, each followed by its copies.

    ``dist`` has shape (n_inits, n_perturb, S): the distance of each copy to its
    reference (references get 0).
    """
    dist = np.asarray(dist, dtype=float)
    n_inits, n_perturb, s = dist.shape
    group = 1 + n_perturb
    r = n_inits * group
    d = np.zeros((r, s))
    for i in range(n_inits):
        d[i * group + 1 : (i + 1) * group] = dist[i]
    if loss is None:
        loss = np.tile(np.exp(-np.arange(s) / 50.0), (r, 1))
    lay = ParamLayout.for_mlp([2, 3, 2])
    return Ensemble(
        lay,
        np.arange(s) if steps is None else steps,
        {"dist_l1": d, "dist_l2": d / 2, "loss": loss, "accuracy": np.full((r, s), 0.5)},
        reference=np.repeat(np.arange(n_inits) * group, group),
        diverged_at=np.full(r, -1),
        times=times,
        states=states,
        metadata=metadata or {},
    )


@pytest.fixture
def synthetic_ensemble():
    """Factory fixture: ``synthetic_ensemble(dist, loss=None, ...)``."""
    return make_ensemble
