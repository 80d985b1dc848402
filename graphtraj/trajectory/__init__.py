"""Trajectories, ensembles and their on-disk store."""

from graphtraj.trajectory.core import Ensemble, Trajectory
from graphtraj.trajectory.layout import ParamLayout

__all__ = ["Trajectory", "Ensemble", "ParamLayout"]
