"""Progress bars for long work: shown when interactive, silenced on request.

Progress is shown when standard error is a terminal, unless the environment variable
``GRAPHTRAJ_PROGRESS=0`` is set; ``GRAPHTRAJ_PROGRESS=1`` forces it on. Every public
function with long work takes ``progress: bool | None = None`` (None = this rule).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")


def progress_enabled(progress: bool | None = None) -> bool:
    """Whether to show a progress bar, given a function's ``progress`` argument."""
    if progress is not None:
        return bool(progress)
    env = os.environ.get("GRAPHTRAJ_PROGRESS")
    if env is not None:
        return env.strip() not in ("", "0", "false", "False", "no")
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


def progress_bar(
    iterable: Iterable[T],
    *,
    total: int | None = None,
    desc: str | None = None,
    progress: bool | None = None,
) -> Iterator[T]:
    """Wrap ``iterable`` in a tqdm bar when :func:`progress_enabled` says so."""
    if not progress_enabled(progress):
        return iter(iterable)
    from tqdm.auto import tqdm

    return iter(tqdm(iterable, total=total, desc=desc, leave=False, dynamic_ncols=True))
