"""sasmodels parameter values -> the parameter dictionary SasView's fit page reads.

``FittingWidget.createPageForParameters(line_dict)`` takes what its clipboard paste takes:
name -> list of strings. Plain parameters are ``[fitted, value, min, max]``; polydispersity
widths are keyed ``"<name>.width"`` with 7 fields ``[fitted, width, min, max, npts, nsigmas,
distribution]``; ``fitpage_category/model/structure`` choose the model. No Qt here, so the
mapping is tested without a GUI.
"""

from __future__ import annotations

import math

from ..errors import SaxsimInputError

#: parameters a seeded fit page refines (the rest stay fixed at the given values)
#: ticked for fitting besides every registered shape's lengths (``fitted_parameters``)
FITTED = frozenset({"scale", "background", "radius", "length", "volfraction"})


def fitted_parameters() -> frozenset:
    """Parameters a seeded fit page ticks: scale, background, volume fraction and the lengths
    of every registered shape (a shape added to the registry is fitted the same way)."""
    from ..geometry.registry import SHAPES
    return FITTED | {name for spec in SHAPES.values() for name in spec.volume_names}


def fitted_for_family(model_name: str) -> frozenset:
    """Parameters a fit page seeded with estimate family ``model_name`` ticks: scale,
    background and the family's own parameters (its polydispersities are ticked where their
    width is above 0)."""
    from ..inverse.families import family

    names = {p for p in family(model_name).parameter_names if not p.endswith("_pd")}
    return frozenset({"scale", "background"} | names)


#: combobox-valued parameters: SasView wants the option index as text
CHOICE_PARAMETERS = frozenset({"radius_effective_mode", "structure_factor_mode", "shape"})
PD_NSIGMAS = 3.0


def split_model_name(model_name: str) -> tuple[str, str | None]:
    """'sphere@hardsphere' -> ('sphere', 'hardsphere'); 'cylinder' -> ('cylinder', None)."""
    form, _, structure = model_name.partition("@")
    if not form or "*" in model_name or "+" in model_name:
        raise SaxsimInputError(f"cannot seed a fit page with model {model_name!r}: only "
                               "'form' or 'form@structure' models")
    return form, (structure or None)


def sasview_category(form: str) -> str:
    """The fit page's category label for a model (SasView: 'shape:sphere' -> 'Sphere';
    plugin models live under 'Plugin Models')."""
    info = _model_info(form)
    category = "" if info is None else (info.category or "")
    if category.startswith("shape:"):
        return category.split(":", 1)[1].capitalize()
    if category in ("plugin", ""):
        return "Plugin Models"
    return category.split(":")[-1].capitalize()


def _model_info(model_name: str):
    """sasmodels ModelInfo of a built-in model or of this package's plugin model."""
    from sasmodels.core import load_model_info
    from sasmodels.modelinfo import make_model_info

    from ..models import PREFIX, plugin_path
    from ..models.legacy import name as legacy_name

    if model_name == legacy_name:
        from ..models import legacy
        return make_model_info(legacy)
    if model_name.startswith(PREFIX):
        try:
            return load_model_info(str(plugin_path(model_name[len(PREFIX):])))
        except Exception:
            return None
    try:
        return load_model_info(model_name)
    except Exception:
        return None


def _limits(model_name: str) -> dict:
    info = _model_info(model_name)
    if info is None:
        return {}
    out = {p.name: p.limits for p in info.parameters.kernel_parameters}
    out.update(scale=(0.0, math.inf), background=(-math.inf, math.inf))
    return out


def _text(value) -> str:
    return repr(float(value)) if isinstance(value, float) else str(value)


def fit_page_parameters(model_name: str, values: dict, fitted: frozenset | None = None,
                        ) -> dict[str, list[str]]:
    """Fit-page dictionary for sasmodels model ``model_name`` (e.g. 'sphere@hardsphere') with
    sasmodels ``values`` (lengths in Å; '<p>_pd' relative widths, '<p>_pd_n' points,
    '<p>_pd_type' distribution). Parameters in ``fitted`` (default ``fitted_parameters()``)
    are ticked for fitting."""
    fitted = fitted_parameters() if fitted is None else fitted
    form, structure = split_model_name(model_name)
    limits = _limits(form)
    if structure:
        limits.update(_limits(structure))
    line: dict[str, list[str]] = {
        "fitpage_category": [sasview_category(form)],
        "fitpage_model": [form],
        "fitpage_structure": [structure or "None"],
        "model_name": [form],
    }
    any_pd = False
    for name, value in values.items():
        if name.endswith(("_pd_n", "_pd_type", "_pd_nsigma")):
            continue
        if name.endswith("_pd"):
            base = name[:-3]
            width = float(value)
            any_pd |= width > 0
            line[f"{base}.width"] = [
                str(width > 0), _text(width), "0.0", "1.0",
                str(int(values.get(f"{base}_pd_n", 35))),
                _text(float(values.get(f"{base}_pd_nsigma", PD_NSIGMAS))),
                str(values.get(f"{base}_pd_type", "gaussian"))]
            continue
        if name in CHOICE_PARAMETERS:   # a combobox row: no limits to set
            line[name] = ["False", str(int(value)), "", ""]
        else:
            lo, hi = limits.get(name, (-math.inf, math.inf))
            line[name] = [str(name in fitted), _text(value), str(lo), str(hi)]
    line["polydisperse_params"] = [str(any_pd)]
    return line
