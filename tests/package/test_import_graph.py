"""The archc package has no import cycles: its import graph, read from the source with `ast`,
has no strongly connected component of two or more modules.

Every `import` and `from ... import` counts, at module level or inside a function alike (a
function-level import is still a dependency, only a later one). Only imports under
`if TYPE_CHECKING:` are skipped: they never run. `from archc import x` is an edge to the
submodule `archc.x` when `x` is a module, else to the package; an edge to a package is an edge
to its `__init__`. Importing `archc.a.b` also runs the packages' `__init__`s, but those edges
are implied by every submodule alike and are not counted (the lazy `__getattr__` of
`archc/__init__.py` would otherwise put every module on a cycle).
"""
from __future__ import annotations

import ast
from collections import deque
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "archc"


@dataclass(frozen=True)
class Edge:
    source: str  # importing module
    target: str  # imported module (a package: its __init__)
    where: str  # path:line of the import statement
    line: str  # the statement's text


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or \
        (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _import_statements(tree: ast.AST):
    """Every import statement of `tree`, at any depth, except those under `if TYPE_CHECKING:`
    (its `else:` branch runs, so it is walked)."""
    for child in ast.iter_child_nodes(tree):
        if isinstance(child, (ast.Import, ast.ImportFrom)):
            yield child
        elif isinstance(child, ast.If) and _is_type_checking(child.test):
            for statement in child.orelse:
                yield from _import_statements(ast.Module(body=[statement], type_ignores=[]))
        else:
            yield from _import_statements(child)


def _absolute(statement: ast.ImportFrom, importer: str, is_package: bool) -> str:
    """The module a `from X import ...` names, relative imports resolved against `importer`."""
    if not statement.level:
        return statement.module or ""
    package = importer.split(".") if is_package else importer.split(".")[:-1]
    base = package[:len(package) - (statement.level - 1)]
    return ".".join([*base, statement.module] if statement.module else base)


def import_graph() -> tuple[set[str], list[Edge]]:
    files = sorted(PACKAGE.rglob("*.py"))
    modules = {module_name(p) for p in files}
    edges: list[Edge] = []
    for path in files:
        importer = module_name(path)
        source = path.read_text(encoding="utf-8")
        lines = source.splitlines()
        for statement in _import_statements(ast.parse(source, str(path))):
            if isinstance(statement, ast.Import):
                targets = [alias.name for alias in statement.names]
            else:
                named = _absolute(statement, importer, path.name == "__init__.py")
                targets = [f"{named}.{alias.name}" if f"{named}.{alias.name}" in modules else named
                           for alias in statement.names]
            where = f"{path.relative_to(ROOT)}:{statement.lineno}"
            for target in dict.fromkeys(targets):
                if target in modules and target != importer:
                    edges.append(Edge(importer, target, where, lines[statement.lineno - 1].strip()))
    return modules, edges


def strongly_connected_components(nodes: set[str], successors: dict[str, list[str]]) -> list[list[str]]:
    """Tarjan's algorithm, iterative (no recursion limit to mind), in a deterministic order."""
    index: dict[str, int] = {}
    lowlink: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    components: list[list[str]] = []
    for root in sorted(nodes):
        if root in index:
            continue
        work = [(root, iter(successors.get(root, ())))]
        index[root] = lowlink[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = lowlink[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(successors.get(child, ()))))
                elif child in on_stack:
                    lowlink[node] = min(lowlink[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                lowlink[parent] = min(lowlink[parent], lowlink[node])
            if lowlink[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                components.append(sorted(component))
    return components


def _shortest_cycle(component: list[str], edges: list[Edge]) -> list[Edge]:
    """One shortest cycle through the component's first module, as the edges that make it."""
    inside = set(component)
    by_source: dict[str, list[Edge]] = {}
    for edge in edges:
        if edge.source in inside and edge.target in inside:
            by_source.setdefault(edge.source, []).append(edge)
    start = component[0]
    came_by: dict[str, Edge] = {}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        for edge in by_source.get(node, ()):
            if edge.target == start:
                path = [edge]
                while path[0].source != start:
                    path.insert(0, came_by[path[0].source])
                return path
            if edge.target not in came_by:
                came_by[edge.target] = edge
                queue.append(edge.target)
    return []


def describe_cycles(components: list[list[str]], edges: list[Edge]) -> str:
    out = []
    for component in components:
        inside = set(component)
        cycle = _shortest_cycle(component, edges)
        out += [f"cycle among {len(component)} modules: {', '.join(component)}",
                "  for example " + " -> ".join([cycle[0].source, *(e.target for e in cycle)]) + ":"]
        out += [f"    {e.where}: {e.line}" for e in cycle]
        out.append("  every import inside it:")
        out += [f"    {e.where}: {e.line}  ({e.source} -> {e.target})"
                for e in edges if e.source in inside and e.target in inside]
    return "\n".join(out)


def test_the_package_has_no_import_cycle():
    modules, edges = import_graph()
    successors: dict[str, list[str]] = {}
    for edge in edges:
        successors.setdefault(edge.source, []).append(edge.target)
    cycles = [c for c in strongly_connected_components(modules, successors) if len(c) > 1]
    assert not cycles, "import cycles in archc:\n" + describe_cycles(cycles, edges)


def test_the_graph_reader_sees_what_it_must():
    """The reader itself: function-level and relative imports count, TYPE_CHECKING ones do not,
    `from archc import x` reaches the submodule."""
    tree = ast.parse("from typing import TYPE_CHECKING\n"
                     "if TYPE_CHECKING:\n    import archc.model\nelse:\n    import archc.ast\n"
                     "def f():\n    from . import errors\n    from .codes import catalog\n")
    names = [(s.module if isinstance(s, ast.ImportFrom) else s.names[0].name, getattr(s, "level", 0))
             for s in _import_statements(tree)]
    assert names == [("typing", 0), ("archc.ast", 0), (None, 1), ("codes", 1)]
    modules, edges = import_graph()
    assert {"archc", "archc.cli", "archc.codes", "archc.ops.base"} <= modules
    targets = {(e.source, e.target) for e in edges}
    assert ("archc", "archc.model") in targets  # inside __getattr__
    assert ("archc.__main__", "archc.cli") in targets
    components = strongly_connected_components({"a", "b", "c", "d"},
                                               {"a": ["b"], "b": ["c"], "c": ["a"], "d": ["a"]})
    assert sorted(components) == [["a", "b", "c"], ["d"]]
