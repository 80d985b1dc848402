"""Tests for graphtraj.report.summary (strict JSON) and graphtraj.report.html."""

import json

import numpy as np

from graphtraj.report.html import error_box, esc, figure, page, table
from graphtraj.report.section import ReportFigure
from graphtraj.report.summary import json_safe, write_json


def test_json_safe_nan_to_null():
    """NaN/inf anywhere (scalars, arrays, nested) become None; numpy types become Python."""
    data = {"a": np.float64(np.nan), "b": np.array([1.0, np.inf, -np.inf]),
            "c": [(1, np.int64(2))], 3: {"d": float("nan")}, "e": np.bool_(True)}
    out = json_safe(data)
    assert out == {"a": None, "b": [1.0, None, None], "c": [[1, 2]], "3": {"d": None},
                   "e": True}


def test_write_json_is_strict(tmp_path):
    """The file parses as strict JSON and round-trips the finite values."""
    path = tmp_path / "s.json"
    write_json(path, {"x": np.array([0.5, np.nan]), "y": "text"})
    text = path.read_text()
    assert "NaN" not in text
    assert json.loads(text) == {"x": [0.5, None], "y": "text"}


def test_html_helpers_escape():
    """Text is escaped; raw cells are not; figures embed the base64 data."""
    assert esc('<a href="x">') == "&lt;a href=&quot;x&quot;&gt;"
    assert table(["h"], [["<b>"]], raw=True) == "<table><tr><th>h</th></tr><tr><td><b></td></tr></table>"
    fig = figure(ReportFigure("T<1>", "QUJD", "c&d"))
    assert 'src="data:image/png;base64,QUJD"' in fig and "T&lt;1&gt;" in fig and "c&amp;d" in fig
    box = error_box("failed", "x < y", "trace <here>")
    assert "x &lt; y" in box and "trace &lt;here&gt;" in box
    doc = page("t", "<p>body</p>")
    assert doc.startswith("<!DOCTYPE html>") and "<style>" in doc and "<p>body</p>" in doc
