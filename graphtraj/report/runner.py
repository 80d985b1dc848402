"""Run the report's analysis sections, one regime at a time, keeping failures contained.

A section that cannot be imported, raises, or returns something other than a
:class:`~graphtraj.report.section.Section` does not stop the report: the failure is
recorded (and shown in the report in place of the section). With ``strict=True`` the
first failure is raised instead — tests use it to fail loudly.
"""

from __future__ import annotations

import importlib
import time
import traceback
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from graphtraj._result import Result
from graphtraj.exceptions import GraphTrajError, GraphTrajWarning, ValidationError
from graphtraj.report.section import Section

__all__ = ["SectionError", "SectionFailure", "SectionRun", "run_sections", "section_keys"]

_PACKAGE = "graphtraj.report.sections"


class SectionFailure(GraphTrajError, RuntimeError):
    """A report section failed and ``strict=True`` was asked for (raised from its error)."""


@dataclass(frozen=True)
class SectionError(Result):
    """A section that failed for one regime (or for all, if it could not be imported)."""

    key: str
    regime: str
    error: str
    traceback: str


@dataclass(frozen=True)
class SectionRun(Result):
    """The outcome of running the report sections.

    Attributes
    ----------
    keys : tuple of str
        Section keys, in report order.
    sections : dict
        ``{key: {regime name: Section}}`` for every successful build.
    errors : tuple of SectionError
        Every failure.
    seconds : dict
        ``{key: {regime name: wall seconds}}``.
    """

    keys: tuple[str, ...]
    sections: dict[str, dict[str, Section]] = field(default_factory=dict)
    errors: tuple[SectionError, ...] = ()
    seconds: dict[str, dict[str, float]] = field(default_factory=dict)

    def error_for(self, key: str, regime: str) -> SectionError | None:
        """The failure of section ``key`` on ``regime``, if any."""
        for e in self.errors:
            if e.key == key and e.regime in (regime, "*"):
                return e
        return None


def section_keys(keys: Sequence[str] | None = None) -> tuple[str, ...]:
    """The section keys to run: ``keys`` or :data:`SECTION_MODULES`."""
    if keys is None:
        from graphtraj.report.sections import SECTION_MODULES

        return tuple(SECTION_MODULES)
    if isinstance(keys, str):
        raise ValidationError(f"`sections` must be a sequence of section keys; got {keys!r}")
    out = tuple(keys)
    for k in out:
        if not isinstance(k, str) or not k.isidentifier():
            raise ValidationError(
                f"`sections` entries must be module names such as 'recurrence'; got {k!r}"
            )
    return out


def _failure(key: str, regime: str, exc: BaseException) -> SectionError:
    return SectionError(
        key=key, regime=regime, error=f"{type(exc).__name__}: {exc}",
        traceback="".join(traceback.format_exception(type(exc), exc, exc.__traceback__)),
    )


def run_sections(
    regimes: Sequence[Any],
    keys: Sequence[str] | None = None,
    *,
    strict: bool = False,
    progress: bool | None = None,
) -> SectionRun:
    """Call ``graphtraj.report.sections.<key>.build(regime)`` for every key and regime.

    Parameters
    ----------
    regimes : sequence of RegimeRun
    keys : sequence of str, optional
        Section modules to run; default :data:`SECTION_MODULES`.
    strict : bool, default False
        Raise the first failure (import error, exception in ``build``, wrong return
        type), as :class:`SectionFailure` chained to the section's exception, instead
        of recording it.
    progress : bool, optional
        Progress bar over sections × regimes.

    Returns
    -------
    SectionRun

    Raises
    ------
    SectionFailure
        With ``strict=True``, on the first failure (its ``__cause__`` is the section's
        own exception).

    Warns
    -----
    GraphTrajWarning
        For each recorded failure (non-strict mode).

    Examples
    --------
    >>> run = run_sections([], ["no_such_section"])  # doctest: +SKIP
    >>> run.errors[0].error  # doctest: +SKIP
    "ModuleNotFoundError: No module named 'graphtraj.report.sections.no_such_section'"
    >>> run_sections([], []).errors
    ()
    """
    from graphtraj._progress import progress_bar

    keys_t = section_keys(keys)
    sections: dict[str, dict[str, Section]] = {}
    errors: list[SectionError] = []
    seconds: dict[str, dict[str, float]] = {}
    modules: dict[str, Any] = {}
    for key in keys_t:
        try:
            mod = importlib.import_module(f"{_PACKAGE}.{key}")
            if not callable(getattr(mod, "build", None)):
                raise ValidationError(f"section module {key!r} has no build(regime) function")
            modules[key] = mod
        except Exception as exc:
            if strict:
                raise SectionFailure(
                    f"report section {key!r} cannot be loaded: {type(exc).__name__}: {exc}"
                ) from exc
            errors.append(_failure(key, "*", exc))
    jobs = [(k, r) for k in keys_t if k in modules for r in regimes]
    for key, regime in progress_bar(jobs, total=len(jobs), desc="report sections",
                                    progress=progress):
        t = time.perf_counter()
        try:
            sec = modules[key].build(regime)
            if not isinstance(sec, Section):
                raise ValidationError(
                    f"section {key!r} must return a Section from build(); got "
                    f"{type(sec).__name__}"
                )
            sections.setdefault(key, {})[regime.name] = sec
        except Exception as exc:
            if strict:
                raise SectionFailure(
                    f"report section {key!r} failed for regime {regime.name!r}: "
                    f"{type(exc).__name__}: {exc}"
                ) from exc
            errors.append(_failure(key, regime.name, exc))
        seconds.setdefault(key, {})[regime.name] = time.perf_counter() - t
    for e in errors:
        warnings.warn(
            f"report section {e.key!r} failed for regime {e.regime!r}: {e.error}",
            GraphTrajWarning, stacklevel=2,
        )
    return SectionRun(keys=keys_t, sections=sections, errors=tuple(errors), seconds=seconds)
