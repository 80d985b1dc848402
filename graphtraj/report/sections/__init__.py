"""Analysis sections of the ``graphtraj study iris`` report.

Each module ``graphtraj.report.sections.<key>`` exposes ``build(regime) -> Section``
(one call per learning-rate regime, see :class:`graphtraj.studies.regime.RegimeRun`)
and ``analyze(traj, **options) -> dict`` (JSON-able numbers, used by
``graphtraj analyze STORE --<flag>``). The report builder calls the sections listed in
:data:`SECTION_MODULES`, in that order; a section that raises is shown as an error in
the report instead of stopping it.
"""

#: Keys of the section modules the report runs, in order.
SECTION_MODULES: tuple[str, ...] = (
    "graph_measures", "recurrence", "visibility", "lyapunov_data", "tangent",
)
