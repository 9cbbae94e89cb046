"""The house's rules, read from the code's own imports: each stage imports only the stages
below it, no two modules import each other (directly or round a loop), no module grows past
400 lines, and no route imports another route. A change that breaks one fails here, with the
modules named, instead of waiting for the next review.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: Floors, top down: a module imports its own package or a lower floor, never a higher one.
FLOORS = [
    {"leadml.__main__"},
    {"leadml.cli"},
    {"serve"},
    {"leadml"},  # the package's face: the public names, imported lazily
    {"leadml.api"},
    {"leadml.cluster", "leadml.lifecycle"},
    {"leadml.modeling"},
    {"leadml.tracking", "leadml.monitor"},
    {"leadml.report"},
    {"leadml.explain"},
    {"leadml.bundle"},
    {"leadml.features"},
    {"leadml.data", "leadml.fairness"},
    {"leadml.schema", "leadml.history", "leadml.qualify"},
    {"leadml.config"},
    {"leadml.errors", "leadml.counts", "leadml.version"},
]
MAX_LINES = 400


def _modules() -> dict[str, Path]:
    found = {}
    for base, top in ((ROOT / "src", "leadml"), (ROOT, "serve")):
        for path in (base / top).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            parts = list(path.relative_to(base).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


def _imports(path: Path, known: set[str]) -> set[str]:
    """Every first-party module ``path`` imports, at any level (lazy imports count too)."""
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        names = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            # ``from package import module`` names the module; any other name, the package
            names = [
                f"{node.module}.{alias.name}"
                if f"{node.module}.{alias.name}" in known
                else node.module
                for alias in node.names
            ]
        for name in names:
            while name and name not in known:
                name = name.rpartition(".")[0]
            if name:
                out.add(name)
    return out


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: _imports(path, set(modules)) - {name} for name, path in modules.items()}


def _floor(module: str) -> tuple[int, str]:
    """The floor of the package that holds ``module``, and that package's name."""
    best = (-1, "")
    for index, floor in enumerate(FLOORS):
        for package in floor:
            if (module == package or module.startswith(package + ".")) and len(package) > len(
                best[1]
            ):
                best = (index, package)
    assert best[0] >= 0, f"{module} is on no floor: add its package to FLOORS"
    return best


def test_every_import_runs_down_the_floors() -> None:
    upward = []
    for module, imported in _graph().items():
        floor, package = _floor(module)
        for other in imported:
            other_floor, other_package = _floor(other)
            if other_package != package and other_floor <= floor:
                upward.append(f"{module} -> {other}")
    assert upward == [], upward


def test_no_modules_import_each_other_round_a_loop() -> None:
    graph = _graph()
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    loops: list[list[str]] = []

    def visit(node: str) -> None:  # Tarjan's strongly connected components
        index[node] = low[node] = len(index)
        stack.append(node)
        for other in graph[node]:
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                loops.append(sorted(component))

    for node in graph:
        if node not in index:
            visit(node)
    assert loops == [], loops


def test_no_module_passes_400_lines() -> None:
    long = {
        name: n
        for name, path in _modules().items()
        if (n := len(path.read_text().splitlines())) > MAX_LINES
    }
    assert long == {}, long


def test_no_route_imports_another_route() -> None:
    routes = {name for name in _modules() if name.startswith("serve.routes.")}
    shared = {"serve.routes.common"}
    crossing = [
        f"{name} -> {other}"
        for name in routes - shared
        for other in _graph()[name] & (routes - shared - {name})
    ]
    assert crossing == [], crossing
