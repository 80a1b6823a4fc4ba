"""Python expressions of provenance (archc.provenance): which expression a class writes for a
number, renamed to its arguments or read from self, locals and defaults; and the names and
docstrings of the generated text."""
from __future__ import annotations

import ast
import copy
import functools
import keyword
from typing import Any

from archc import provenance as pv
from archc.lower import merge as merge_mod
from archc.lower import pysrc
from archc.lower.codegen.model import _RESERVED, Unit
from archc.ops.base import str_literal


def _shared_expression(col: list, allowed: Any) -> ast.expr | None:
    """The expression every number of `col` was computed by (archc.provenance), if it is the same
    for all, known at construction and written in `allowed` names (None: any names)."""
    first = col[0].traced
    if first is None or first.forward:
        return None
    dump = pv.key(first.expr)
    for num in col[1:]:
        if num.traced is None or num.traced.forward or pv.key(num.traced.expr) != dump:
            return None
    if allowed is not None and not _free_names(first.expr) <= set(allowed):
        return None
    return first.expr


def _with_defaults(group: Any) -> list[str]:
    defaults = group.defaults or [None] * len(group.args)
    return [arg if d is None else f"{arg}={d}" for arg, d in zip(group.args, defaults)]


def _with_locals(values: dict[str, Any], definitions: dict[str, ast.expr]) -> dict[str, Any]:
    """`values` and the locals computed from them (those that can be)."""
    out = dict(values)
    for name, definition in definitions.items():
        try:
            out[name] = merge_mod.evaluate(definition, out)
        except Exception:  # noqa: BLE001 - a local this check cannot compute stays unknown
            pass
    return out


def _local_lines(definitions: dict[str, ast.expr], idents: dict[str, str], depth: int = 2) -> list[str]:
    """`width = int(planes * (width_per_group / 64)) * groups`: the numbers a body names."""
    out: list[str] = []
    for name, definition in definitions.items():
        out += pysrc.lines(f"{name} = ", _renamed(definition, idents), depth)
    return out


def _used_locals(used: dict[str, None], definitions: dict[str, ast.expr]) -> dict[str, ast.expr]:
    """The definitions of the locals that `used` reads, directly or through other locals, in
    definition order."""
    needed = {n for n in used if n in definitions}
    for name in reversed(list(definitions)):
        if name in needed:
            needed |= _free_names(definitions[name]) & definitions.keys()
    return {name: d for name, d in definitions.items() if name in needed}


def _free_names(expr: ast.expr) -> Any:
    """The argument names an expression reads (not the functions it calls), in the order they
    appear (a set's order would make the generated text differ between processes)."""
    called = {id(n.func) for n in ast.walk(expr) if isinstance(n, ast.Call)}
    return dict.fromkeys(n.id for n in ast.walk(expr) if isinstance(n, ast.Name) and id(n) not in called
                         and n.id not in pv.CALLABLE_NAMES).keys()


def _renamed(expr: ast.expr, idents: dict[str, str], prefix: str = "") -> ast.expr:
    """`expr` with its argument names as the class calls them (`prefix`: `self.` in forward)."""

    def rename(n: ast.Name) -> ast.AST:
        if n.id not in idents:
            return n
        if prefix:
            return ast.Attribute(ast.Name(prefix, ast.Load()), idents[n.id], ast.Load())
        return ast.Name(idents[n.id], ast.Load())
    return pv.NameSwap(rename).visit(copy.deepcopy(expr))


def _folded(expr: ast.expr, values: dict[str, Any]) -> ast.expr:
    """`expr` with the names in `values` replaced by those values (literals)."""

    return pv.NameSwap(lambda n: ast.Constant(values[n.id]) if n.id in values else n).visit(copy.deepcopy(expr))


def _outermost(kinds: list[str], enclosing: dict[str, list[frozenset]]) -> list[str]:
    """The kinds not implied by another one in the list: a kind that only ever occurs inside
    blocks of a listed type (a SqueezeExcitation's pooling) is left out."""
    listed = set(kinds)
    return [t for t in kinds if not all(places & listed for places in enclosing.get(t, [frozenset()]))]


def _self_form(source: str, stored: dict[str, str]) -> str:
    """`source` (an expression of class arguments) as `forward` reads it: the arguments from
    `self`; bracketed unless it is one name or number, as it goes into a larger expression."""
    node = pysrc.parse(source)
    if not stored:
        return source if isinstance(node, (ast.Name, ast.Constant)) else f"({source})"

    node = pv.NameSwap(lambda n: ast.Attribute(ast.Name("self", ast.Load()), stored[n.id], ast.Load())
                       if n.id in stored else n).visit(node)
    text = pysrc.expr(node)
    return text if isinstance(node, (ast.Name, ast.Constant, ast.Attribute)) else f"({text})"


@functools.lru_cache(maxsize=4096)
def _literal(text: str) -> tuple[bool, Any]:
    """Whether `text` is a Python literal, and its value (shared between callers: read, never
    changed). Each text is parsed once: a class's arguments repeat, and every ast.literal_eval
    call leaves a reference cycle for the collector."""
    try:
        return True, ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return False, None


def _access(prefix: str, container: Unit, name: str) -> str:
    """Source for the child `name` of `container`, reached as `prefix`; a dotted name is a
    member of a container child (`self.convs[1]`, `self.head["fc"]`)."""
    if "." in name:
        first, rest = name.split(".", 1)
        return _access(_access(prefix, container, first), container.containers[first], rest)
    if container.form == "container":
        return f"{prefix}[{name}]" if container.type_name == "ModuleList" else f"{prefix}[{str_literal(name)}]"
    if container.form in ("sequential", "seqclass") and name.isdigit():
        return f"{prefix}[{name}]"
    if pysrc.is_plain_name(name) and name not in _RESERVED:
        return f"{prefix}.{name}"
    return f"getattr({prefix}, {str_literal(name)})"


def _identifier(name: str) -> str:
    """A usable Python identifier for a spec name: as it is when possible."""
    text = "".join(c if c.isalnum() or c == "_" else "_" for c in name if c.isascii()) or "x"
    if text.startswith("__"):  # no dunders (`__class__` as an argument breaks super()) nor mangled names
        text = (text.strip("_") or "x") + "_"
    if text[0].isdigit():
        text = "_" + text
    if keyword.iskeyword(text):
        text += "_"
    return text


def _unique(name: str, taken: set[str]) -> str:
    base = name
    if base in taken or keyword.iskeyword(base):
        base = name + "_"
    candidate, k = base, 1
    while candidate in taken:
        candidate = f"{base}{k}"
        k += 1
    taken.add(candidate)
    return candidate


def _class_identifier(name: str) -> str:
    """A class name for a spec name: as it is when it is an identifier, else its words in
    CamelCase ("my net" -> MyNet); "Model" for a pseudo file name such as <string>."""
    if name.startswith("<"):
        return "Model"
    if not pysrc.is_plain_name(name):
        words = "".join(c if c.isascii() and c.isalnum() else " " for c in name).split()
        name = "".join(w[:1].upper() + w[1:] for w in words)
    text = _identifier(name or "Model")
    return text if text[0].isalpha() else "Model" + text.lstrip("_")


def _camel(name: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in name.split("_") if part)


def _docstring(text: str, depth: int) -> list[str]:
    """A docstring, its words wrapped at the line length."""
    pad = "    " * depth
    lines, line = [], pad + '"""'
    for word in text.split(" "):
        if len(line) + 1 + len(word) > pysrc.LINE - 3 and line.strip() not in ('"""', ""):
            lines.append(line)
            line = pad + word
        else:
            line += ("" if line.endswith('"""') else " ") + word
    lines.append(line + '"""')
    return lines


class _Binder:
    """The arguments of one class: names and their value per instance."""

    def __init__(self, taken: set[str]):
        self.taken = taken
        self.arg_of: dict[str, str] = {}  # base name -> argument identifier
        self.base_values: dict[str, list] = {}

    def argument(self, base: str, vals: list) -> str | None:
        """The argument named after `base` holding `vals`; None if `base` holds others."""
        if base in self.arg_of:
            return self.arg_of[base] if self.base_values[base] == list(vals) else None
        self.arg_of[base] = _unique(_identifier(base), self.taken)
        self.base_values[base] = list(vals)
        return self.arg_of[base]

    def args(self) -> list[str]:
        return list(self.arg_of.values())

    def values(self, i: int) -> list:
        return [self.base_values[b][i] for b in self.arg_of]
