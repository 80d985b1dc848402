"""Sphinx configuration for graphtraj's documentation."""

import os
import sys

sys.path.insert(0, os.path.abspath(".."))
os.environ.setdefault("MPLBACKEND", "Agg")

project = "graphtraj"
author = "graphtraj developers"
copyright = "2026, graphtraj developers"

import graphtraj  # noqa: E402

release = graphtraj.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.mathjax",
    "sphinx.ext.intersphinx",
    "sphinx.ext.viewcode",
    "numpydoc",
]

numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_validation_checks: set[str] = set()
autodoc_typehints = "none"
autodoc_member_order = "bysource"
autodoc_mock_imports: list[str] = []

intersphinx_mapping: dict[str, tuple[str, None]] = {}

templates_path: list[str] = []
exclude_patterns = ["_build"]
suppress_warnings = ["ref.citation", "ref.footnote"]

html_theme = "pydata_sphinx_theme"
html_title = "graphtraj"
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
}
html_static_path: list[str] = []
