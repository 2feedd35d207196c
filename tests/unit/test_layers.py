"""The import direction the architecture promises (docs/architecture.md): ``sessions`` ←
``recordings`` ← ``web`` ← ``server``, no import pointing back up, and no module cycles.
Read from the source with ``ast`` (imports under ``if TYPE_CHECKING:`` are for the type
checker only and are left out)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LAYERS = ("sessions", "recordings", "web", "server")
"""Lowest first: a package may import those before it, never those after."""


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def runtime_imports(path: Path) -> set[str]:
    """The modules ``path`` imports when it runs (absolute names, ``from x import y`` as
    ``x.y`` when ``x.y`` is a module, else ``x``)."""
    tree = ast.parse(path.read_text(), str(path))
    checking: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            checking.update(id(child) for inner in node.body for child in ast.walk(inner))
    names: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in checking:
            continue
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def modules() -> dict[str, set[str]]:
    found = {
        module_name(path): runtime_imports(path)
        for layer in LAYERS
        for path in (ROOT / layer).rglob("*.py")
    }
    return {name: {i for i in imports if i in found} for name, imports in found.items()}


def test_no_import_points_back_up_the_layers() -> None:
    wrong = []
    for name, imports in modules().items():
        rank = LAYERS.index(name.split(".")[0])
        wrong += [f"{name} imports {i}" for i in imports if LAYERS.index(i.split(".")[0]) > rank]
    assert wrong == []


def test_no_module_imports_itself_through_others() -> None:
    graph = modules()
    cycles: list[list[str]] = []
    state: dict[str, int] = {}

    def visit(name: str, path: list[str]) -> None:
        state[name] = 1
        for imported in sorted(graph[name]):
            if state.get(imported) == 1:
                cycles.append([*path[path.index(imported) :], imported])
            elif imported not in state:
                visit(imported, [*path, imported])
        state[name] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])
    assert cycles == []
