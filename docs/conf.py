"""Sphinx configuration of tbfl's documentation site (Markdown pages through MyST, API from docstrings).

Build (strict: any warning, e.g. a broken link or a missing reference, fails):
    python -m sphinx -W --keep-going -b html docs docs/_build/html
``make test`` runs the same build (tests/docs/test_site.py). See docs/contributing.md.
"""

project = "tbfl"
author = "tbfl contributors"
copyright = "tbfl contributors (MIT)"

extensions = ["myst_parser", "sphinx.ext.autodoc", "sphinx.ext.autosummary"]
source_suffix = {".md": "markdown", ".rst": "restructuredtext"}  # .rst: autosummary's generated API stubs
root_doc = "index"
exclude_patterns = ["_build", "study/runs", "study/pilot", "README.md"]

myst_enable_extensions = ["dollarmath", "colon_fence"]
myst_heading_anchors = 3  # [text](page.md#a-heading) links are checked too

# The API reference follows the package: autosummary walks tbfl recursively (docs/api.md), so a module that
# moves or appears is documented without editing this site.
autosummary_generate = True
autosummary_imported_members = False
# A package's re-exports are documented once, where they are defined.
autodoc_default_options = {"members": True, "show-inheritance": True, "ignore-module-all": True}
autodoc_typehints = "signature"
autodoc_member_order = "bysource"
autodoc_inherit_docstrings = False  # Lightning's docstrings reference Lightning's own site

html_theme = "alabaster"
html_theme_options = {"description": "Sound event detection with the Time-Balanced Focal Loss"}
html_static_path: list[str] = []
suppress_warnings = ["autosummary.import_cycle"]


def _docstring_as_written(app, what, name, obj, options, lines):
    """tbfl's docstrings are plain text (shapes, units, ``code``), not reStructuredText: show them as written."""
    if lines:
        lines[:] = ["::", "", *("    " + line for line in lines), ""]


def setup(app):
    app.connect("autodoc-process-docstring", _docstring_as_written)
