"""Sphinx configuration of the sasview_saxsim_plugin documentation.

Build: ``python -m sphinx -W -b html docs docs/_build/html`` (CI does, warnings are errors).
The model pages are written from the plugin models' own docstrings at build time
(``generate_model_pages``), the CLI reference from the argparse parsers (sphinx-argparse).
"""

from __future__ import annotations

import re
from pathlib import Path

import sasview_saxsim_plugin

project = "sasview_saxsim_plugin"
author = "sasview_saxsim_plugin developers"
release = version = sasview_saxsim_plugin.__version__
extensions = ["myst_parser", "sphinx.ext.autodoc", "sphinx.ext.mathjax", "sphinxarg.ext"]
myst_enable_extensions = ["dollarmath", "amsmath"]
myst_heading_anchors = 3
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
exclude_patterns = ["_build", "figures/*.dat"]
html_theme = "alabaster"
html_static_path: list[str] = []
autodoc_member_order = "bysource"
autodoc_typehints = "description"
# a figure link inside a page is fine; the same file name twice is not a problem here
suppress_warnings = ["myst.header"]

MODEL_DIR = Path(__file__).parent / "models"


def _rst_math(text: str) -> str:
    """sasmodels writes inline math as $...$; Sphinx's reST wants :math:`...`."""
    return re.sub(r"\$([^$\n]+)\$", r":math:`\1`", text)


def generate_model_pages(app) -> None:
    """One page per registered shape's plugin model: its docstring (SasView's help page) and
    its parameter table, as sasmodels' own model pages."""
    from sasview_saxsim_plugin.geometry.registry import SHAPES
    from sasview_saxsim_plugin.models.shape_models import model_namespace

    MODEL_DIR.mkdir(exist_ok=True)
    names = []
    for shape in SHAPES:
        ns = model_namespace(shape)
        rows = "\n".join(
            f"   * - {p[0]}\n     - {p[1] or '—'}\n     - {p[2]:g}\n     - {p[5]}"
            for p in ns["parameters"])
        title = f"{ns['name']}: {ns['title']}"
        page = (f"{title}\n{'=' * len(title)}\n\n"
                f".. list-table:: Parameters (besides scale and background)\n"
                f"   :header-rows: 1\n\n   * - name\n     - units\n     - default\n"
                f"     - description\n{rows}\n\n"
                f"{_rst_math(ns['__doc__']).replace('----------', '~~~~~~~~~~')}\n")
        (MODEL_DIR / f"{ns['name']}.rst").write_text(page)
        names.append(ns["name"])
    (MODEL_DIR / "index.rst").write_text(
        "Numerical models\n================\n\nOne sasmodels plugin model per registered "
        "shape (``saxsim install-model`` puts them into SasView's plugin folder; in a script "
        "``sasview_saxsim_plugin.models.load_numerical_model(shape)``). Each page is the "
        "model's own help text, as SasView shows it.\n\n.. toctree::\n   :maxdepth: 1\n\n"
        + "".join(f"   {n}\n" for n in names))


def setup(app):
    app.connect("builder-inited", generate_model_pages)
