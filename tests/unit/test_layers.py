"""The layer's architecture: shared types at the bottom, each layer importing only what is below it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "layers" / "common" / "courier"
# Lowest first. A module may import its own part and the parts of lower layers, never a higher one.
LAYERS = [
    {"model"},
    {"settings", "observability"},
    {"http", "sources"},
    {"mappings"},
    {"delivery"},
    {"destinations"},
    {"doors"},
]


def part_of(module: str) -> str:
    """courier.delivery.driver → delivery; courier.model → model."""
    return module.split(".")[1]


def rank(part: str) -> int:
    return next(level for level, parts in enumerate(LAYERS) if part in parts)


def courier_imports(path: Path) -> set[str]:
    """Every courier module a file imports, at the top or inside functions (TYPE_CHECKING ones too)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("courier."):
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name.startswith("courier.")}
    return found


MODULES = sorted(p for p in PACKAGE.rglob("*.py") if p.name != "__init__.py" or p.parent != PACKAGE)


def module_name(path: Path) -> str:
    relative = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = list(relative.parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def test_every_part_of_the_package_has_a_layer() -> None:
    # Given every module of the layer
    parts = {part_of(module_name(path)) for path in MODULES}
    # Then each belongs to one layer of the order
    assert parts == set().union(*LAYERS)


@pytest.mark.parametrize("path", MODULES, ids=lambda path: module_name(path))
def test_no_module_imports_a_layer_above_it_or_a_sibling(path: Path) -> None:
    # Given a module and what it imports of Courier's
    name = module_name(path)
    own = part_of(name)
    imported = courier_imports(path)
    # Then each import is of its own part or of a lower layer (siblings on one layer are independent)
    wrong = sorted(module for module in imported if part_of(module) != own and rank(part_of(module)) >= rank(own))
    assert wrong == [], f"{name} imports {wrong}"


def test_the_bottom_imports_nothing_of_courier() -> None:
    assert courier_imports(PACKAGE / "model.py") == set()


def imported_modules(path: Path, known: set[str]) -> set[str]:
    """The layer's modules a file imports: `from a.b import c` is of a.b.c when that is a module, else of a.b."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("courier"):
            for alias in node.names:
                found.add(f"{node.module}.{alias.name}" if f"{node.module}.{alias.name}" in known else node.module)
        elif isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name in known}
    return found & known


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The import cycles of a graph (module → modules it imports), each as the path that closes it."""
    found: list[list[str]] = []
    state: dict[str, str] = {}  # "open" while on the path, "done" once every path from it is walked

    def walk(node: str, path: list[str]) -> None:
        state[node] = "open"
        for target in sorted(graph.get(node, ())):
            if state.get(target) == "open":
                found.append([*path[path.index(target) :], target])
            elif target not in state:
                walk(target, [*path, target])
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            walk(node, [node])
    return found


def test_the_cycle_finder_finds_a_cycle_inside_a_package() -> None:
    # Given two modules of one package that import each other, and one that imports them
    graph = {"p.methods": {"p.rules"}, "p.rules": {"p.methods"}, "p.client": {"p.methods"}}
    # Then the cycle is found, and a graph without one has none
    assert cycles(graph) == [["p.methods", "p.rules", "p.methods"]]
    assert cycles({"p.a": {"p.b"}, "p.b": set(), "p.c": {"p.a", "p.b"}}) == []


def test_the_layer_has_no_import_cycle_not_even_inside_a_package() -> None:
    # Given every module of the layer and every courier module it imports, TYPE_CHECKING and in-package ones too
    known = {module_name(path) for path in MODULES} | {"courier"}
    graph = {module_name(path): imported_modules(path, known) - {module_name(path)} for path in MODULES}
    # Then no module reaches itself through its imports
    assert cycles(graph) == []
