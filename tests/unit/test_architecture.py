"""The layout keeps its promises (docs/architecture.md): imports go one way, the domain has no web or
plotting library, nothing that serves imports the demo build, and no two modules import each other."""
from __future__ import annotations

import ast
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[2]
PACKAGES = ("mapdata", "layers", "exports", "api", "pages", "callbacks")
#: What each folder may import of the project (besides itself); app.py composes them all.
MAY_IMPORT = {
    "mapdata": set(),
    "layers": {"mapdata"},
    "exports": {"mapdata", "layers"},
    "api": {"mapdata", "layers", "exports"},
    "pages": {"mapdata", "layers"},
    "callbacks": {"mapdata", "layers", "pages"},
}
UI_LIBRARIES = ("dash", "dash_leaflet", "dash_extensions", "flask", "werkzeug", "plotly", "folium", "branca")
#: Modules that build the demo dataset, and the command that runs them: the only ones allowed near mapdata.demo.
DEMO_ENTRY_POINTS = ("mapdata.demo", "mapdata.build")


def _module_name(path: Path) -> str:
    parts = path.relative_to(PROJECT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    found = {"app": PROJECT / "app.py"}
    for package in PACKAGES:
        for path in (PROJECT / package).rglob("*.py"):
            if "sources" not in path.parts:
                found[_module_name(path)] = path
    return found


def _imports(path: Path, name: str) -> set[str]:
    """Every module ``path`` imports, at the top or inside a function, resolved to a dotted name."""
    out: set[str] = set()
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parent, base] if base else parent)
            out.add(base)
            out.update(f"{base}.{alias.name}" for alias in node.names)
    return out


MODULES = _modules()
GRAPH = {name: {i for i in _imports(path, name) if i in MODULES and i != name} for name, path in MODULES.items()}
RAW = {name: _imports(path, name) for name, path in MODULES.items()}


def test_the_analysis_sees_the_project():
    assert len(MODULES) > 60
    assert "layers.rider.nearest" in GRAPH["layers.rider.catalogue"]
    assert "pages.rider.views" in GRAPH["callbacks.rider"]


#: Command lines compose like app.py: the data package's commands may call the domain.
COMMAND_LINES = ("mapdata.users",)


def test_imports_go_one_way():
    wrong = []
    for name, targets in GRAPH.items():
        top = name.split(".")[0]
        if top == "app" or name in COMMAND_LINES:
            continue
        for target in targets:
            other = target.split(".")[0]
            if other != top and other not in MAY_IMPORT[top]:
                wrong.append(f"{name} -> {target}")
    assert wrong == []


def test_the_domain_has_no_web_or_plotting_library():
    wrong = [f"{name} -> {i}" for name, imports in RAW.items() if name.startswith(("layers", "mapdata"))
             for i in imports if i.split(".")[0] in UI_LIBRARIES]
    assert wrong == []


def test_nothing_that_serves_imports_the_demo_build():
    wrong = [f"{name} -> {i}" for name, imports in RAW.items() if not name.startswith(DEMO_ENTRY_POINTS)
             for i in imports if i.startswith("mapdata.demo")]
    assert wrong == []


def test_no_import_cycles():
    # Tarjan's strongly connected components: a component of more than one module is a cycle
    index, low, stack, on_stack, cycles = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in GRAPH[v]:
            # a package's __init__ importing its own modules is how a package exports them, not a cycle
            if w.startswith(v + "."):
                continue
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
                cycles.append(sorted(component))

    for v in sorted(GRAPH):
        if v not in index:
            visit(v)
    assert cycles == []
