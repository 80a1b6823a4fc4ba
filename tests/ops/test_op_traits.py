"""Ops are defined in one place: every other stage asks an op's traits (archc/ops/base.py:
`changes_layout`, `init_weight`, `residual_merge`, `merges_fields`, `syntax`, `diagnose`,
`in_place`, `family_info`), never its name. So adding an op is its class and its test rows."""
from __future__ import annotations

import ast
from pathlib import Path

from archc.ops import REGISTRY
from archc.ops.families import FAMILIES

PACKAGE = Path(__file__).resolve().parents[2] / "archc"

# Strings equal to an op or family name that mean something else where they stand.
OTHER_MEANINGS = {
    ("ast.py", "slice"): "the AST node kind of a subscript's slice",
    ("provenance.py", "add"): "the name of Python's operator (traced arithmetic)",
    ("provenance.py", "mul"): "the name of Python's operator (traced arithmetic)",
    ("provenance.py", "sub"): "the name of Python's operator (traced arithmetic)",
    ("provenance.py", "shape"): "the tensor attribute x.shape in traced code",
    ("language.py", "shape"): "the tensor attribute x.shape",
    ("ir/calls.py", "shape"): "the tensor attribute x.shape in traced code",
    ("ir/calls.py", "parameter"): "a block's parameter, in a message",
    ("ir/elaborate.py", "parameter"): "a block's parameter, in a message",
    ("frontend/dsl.py", "parameter"): "a model parameter, in a message",
    ("ir/evaluate.py", "shape"): "the tensor attribute x.shape",
    ("backends/diagram/dot.py", "shape"): "Graphviz's node attribute",
    ("lsp/completion.py", "tensor"): "a kind of symbol the editor lists",
    ("lsp/hover.py", "tensor"): "a kind of symbol the editor lists",
    ("lsp/index.py", "tensor"): "a kind of symbol the editor lists",
    ("lsp/server.py", "tensor"): "a kind of symbol the editor lists",
}


def _op_words() -> set[str]:
    words = set(FAMILIES)
    for op in REGISTRY.ops:
        words.update((op.name, *op.aliases))
    return words


def _strings(tree: ast.AST) -> list[tuple[int, str]]:
    """String constants that are not docstrings, parts of f-strings or `__all__` entries."""
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                skip.add(id(first.value))
        if isinstance(node, ast.JoinedStr):
            skip.update(id(v) for v in node.values)
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets):
            skip.update(id(v) for v in ast.walk(node.value))  # exported function names
    return [(node.lineno, node.value) for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip]


def test_no_module_outside_the_ops_names_an_op() -> None:
    words = _op_words()
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE).as_posix()
        if rel.startswith(("ops/", "importer/")):
            # the importer writes specs: the names of archc's ops are its output, as a printer's
            # are (its table from PyTorch's classes to ops is the inverse of their lowering; to
            # derive it from the lowering is issue 19's follow-up)
            continue
        for line, text in _strings(ast.parse(path.read_text(), rel)):
            if text in words and (rel, text) not in OTHER_MEANINGS:
                found.append(f"archc/{rel}:{line}: {text!r}")
    assert not found, ("modules outside archc/ops ask about ops by name; give the op a trait instead:\n"
                       + "\n".join(found))


def test_every_family_an_op_names_is_declared() -> None:
    assert {op.family for op in REGISTRY.ops} <= set(FAMILIES)
