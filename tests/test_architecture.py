"""The package's layout is its architecture: no import cycles (lazy imports inside functions
included), no upward imports between layers, one error hierarchy, training apart from
inference, and a plugin model that loads without torch."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "sasview_saxsim_plugin"
NAME = PACKAGE.name

#: layers, lowest first: a module may import its own subpackage and anything of a lower rank
RANK = {"errors": -1, "memory": 0, "progress": 0, "geometry": 1, "shapes": 2, "scattering": 2,
        "density": 2, "fft": 3, "io": 3, "simulate": 4, "models": 4, "inverse": 4,
        "gui": 5, "cli": 6}


def _modules() -> dict[str, Path]:
    out = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(PACKAGE).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join([NAME, *parts])] = path
    return out


MODULES = _modules()


def _imports(module: str, path: Path) -> set[str]:
    """Every package module ``module`` imports, at top level or inside functions."""
    is_package = path.name == "__init__.py"
    here = module.split(".") if is_package else module.split(".")[:-1]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = here[:len(here) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            # 'from X import y' imports X, and X.y where y is a module
            targets = [target] + [f"{target}.{a.name}" for a in node.names]
        else:
            continue
        found.update(t for t in targets if t in MODULES and t != module)
    return found


GRAPH = {m: _imports(m, p) for m, p in MODULES.items()}


def _cycles() -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on_stack, out = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in GRAPH[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    sys.setrecursionlimit(10_000)
    for v in GRAPH:
        if v not in index:
            visit(v)
    return out


def test_no_import_cycles():
    assert _cycles() == []


def test_the_cycle_finder_finds_a_planted_cycle(monkeypatch):
    a, b = f"{NAME}.geometry.grid", f"{NAME}.geometry.raster"
    monkeypatch.setitem(GRAPH, a, GRAPH[a] | {b})
    monkeypatch.setitem(GRAPH, b, GRAPH[b] | {a})
    assert any(a in c and b in c for c in _cycles())


def _layer(module: str) -> str:
    return module.split(".")[1] if module.count(".") else ""


@pytest.mark.parametrize("module", sorted(m for m in MODULES if _layer(m) in RANK))
def test_no_upward_imports(module):
    mine = RANK[_layer(module)]
    upward = [t for t in GRAPH[module]
              if _layer(t) in RANK and _layer(t) != _layer(module) and RANK[_layer(t)] >= mine]
    assert not upward, f"{module} imports a layer at or above its own: {upward}"


def test_every_package_module_has_a_layer():
    loose = [m for m in MODULES if m != NAME and _layer(m) not in RANK]
    assert not loose


def test_inference_never_imports_training():
    """The estimate, the refinement and the GUI never import training code: neither the
    family network's (inverse/training) nor the thesis baseline's (inverse/thesis)."""
    apart = (f"{NAME}.inverse.training", f"{NAME}.inverse.thesis")
    for module, targets in GRAPH.items():
        if module.startswith(apart):
            continue
        if module.startswith(f"{NAME}.inverse") or module.startswith(f"{NAME}.gui"):
            assert not [t for t in targets if t.startswith(apart)], module


def test_one_error_hierarchy():
    """Every exception class the package defines lives in errors.py."""
    strays = []
    for module, path in MODULES.items():
        if module == f"{NAME}.errors":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ClassDef) and any(
                    getattr(b, "id", getattr(b, "attr", "")).endswith(("Error", "Exception",
                                                                         "Cancelled"))
                    for b in node.bases):
                strays.append(f"{module}.{node.name}")
    assert not strays


def test_loading_a_plugin_model_imports_neither_torch_nor_the_gui():
    code = ("import sys, time; t = time.perf_counter(); "
            "from sasmodels.core import load_model_info; "
            "from sasview_saxsim_plugin.models import plugin_path; "
            "info = load_model_info(str(plugin_path('cylinder'))); "
            "print(time.perf_counter() - t); "
            "print(sorted(m for m in ('torch', 'PySide6', 'dask', 'zarr', 'matplotlib') "
            "if m in sys.modules))")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       timeout=300)
    assert p.returncode == 0, p.stderr
    assert p.stdout.splitlines()[-1] == "[]", p.stdout
