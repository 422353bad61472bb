"""Sphinx configuration of the Octavo user guide (built by `tox -e docs`)."""

from __future__ import annotations

project = "Octavo"
author = "the Octavo authors"
copyright = "the Octavo authors"

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
]
source_suffix = {".md": "markdown"}
exclude_patterns = ["_build"]
myst_heading_anchors = 3

# API reference: members in each module's __all__, in source order, with their docstrings.
autodoc_default_options = {
    "members": True,
    "member-order": "bysource",
    "show-inheritance": True,
}
autodoc_typehints = "signature"
autodoc_preserve_defaults = True

html_theme = "alabaster"
html_title = "Octavo"
