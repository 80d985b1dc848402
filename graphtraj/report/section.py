"""The pieces of a report: figures and sections, as plain frozen values."""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass, field
from typing import Any

from graphtraj._result import Result

__all__ = ["ReportFigure", "Section", "figure_to_png_base64"]


@dataclass(frozen=True)
class ReportFigure(Result):
    """A figure embedded in the HTML report as a base64 PNG."""

    title: str
    png_base64: str
    caption: str = ""


@dataclass(frozen=True)
class Section(Result):
    """One analysis section of the report, for one regime.

    Parameters
    ----------
    key : str
        Machine name, e.g. ``"graph_measures"``; the key in ``summary.json``.
    title : str
        Heading shown in the report.
    summary_html : str
        A short paragraph answering the user's question first (escaped HTML).
    figures : tuple of ReportFigure
        Figures, in order.
    numbers : dict
        Every number the section shows, JSON-able; copied into ``summary.json``.
    """

    key: str
    title: str
    summary_html: str
    figures: tuple[ReportFigure, ...] = ()
    numbers: dict[str, Any] = field(default_factory=dict)


def figure_to_png_base64(fig: Any, *, dpi: int = 90, close: bool = True) -> str:
    """Render a matplotlib figure to a base64-encoded PNG string (and close it)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    if close:
        import matplotlib.pyplot as plt

        plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode("ascii")
