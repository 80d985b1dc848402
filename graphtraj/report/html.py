"""Small HTML building blocks for the one-file report (no template engine, no JS)."""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from typing import Any

from graphtraj.report.section import ReportFigure

__all__ = ["esc", "table", "figure", "page", "error_box"]

_CSS = """
body { font-family: system-ui, -apple-system, 'Segoe UI', sans-serif; max-width: 1100px;
       margin: 2em auto; padding: 0 1em; color: #222; line-height: 1.45; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; }
h2 { border-bottom: 1px solid #ccc; padding-bottom: 0.2em; margin-top: 2em; }
h3 { margin-top: 1.4em; }
table { border-collapse: collapse; margin: 0.8em 0; font-size: 0.95em; }
th, td { border: 1px solid #ccc; padding: 0.35em 0.6em; text-align: left; vertical-align: top; }
th { background: #f2f2f2; }
.muted { color: #666; font-size: 0.9em; }
.tag { display: inline-block; padding: 0.05em 0.5em; border-radius: 0.8em; font-weight: 600; }
.stable { background: #d8f0d8; } .edge { background: #fff0c2; }
.chaotic { background: #f7d4d4; }
.yes { color: #1a7f37; font-weight: 600; } .no { color: #b42318; font-weight: 600; }
figure { display: inline-block; margin: 0.6em 0.6em 0.6em 0; max-width: 100%; }
figure img { max-width: 100%; border: 1px solid #eee; }
figcaption { font-size: 0.85em; color: #555; max-width: 60em; }
.error { background: #fdecea; border: 1px solid #f5c2c0; padding: 0.6em; margin: 0.6em 0; }
.error pre { white-space: pre-wrap; font-size: 0.8em; max-height: 20em; overflow: auto; }
"""


def esc(text: Any) -> str:
    """HTML-escape ``str(text)``."""
    return html.escape(str(text), quote=True)


def table(header: Sequence[str], rows: Iterable[Sequence[str]], *, raw: bool = False) -> str:
    """An HTML table; cells are escaped unless ``raw`` (then they must be safe HTML).

    Examples
    --------
    >>> table(["a"], [["<1>"]])
    '<table><tr><th>a</th></tr><tr><td>&lt;1&gt;</td></tr></table>'
    """
    cell = (lambda c: str(c)) if raw else esc
    head = "".join(f"<th>{esc(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{cell(c)}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def figure(fig: ReportFigure) -> str:
    """A ``<figure>`` with the PNG embedded as a data URI, its title and caption."""
    cap = f"<b>{esc(fig.title)}</b>" + (f" — {esc(fig.caption)}" if fig.caption else "")
    return (f'<figure><img alt="{esc(fig.title)}" src="data:image/png;base64,'
            f'{fig.png_base64}"><figcaption>{cap}</figcaption></figure>')


def error_box(title: str, message: str, trace: str = "") -> str:
    """A visible error block (for a report section that failed)."""
    details = f"<details><summary>traceback</summary><pre>{esc(trace)}</pre></details>" if trace else ""
    return f'<div class="error"><b>{esc(title)}</b>: {esc(message)}{details}</div>'


def page(title: str, body: str) -> str:
    """A complete, self-contained HTML document."""
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        f"<title>{esc(title)}</title><style>{_CSS}</style></head>\n<body>\n{body}\n</body></html>\n"
    )
