"""What an expression reads and is, asked of every statement by the elaborator (archc.ir.elaborate)
and the resumed elaboration: the names it reads, found by one walk dispatched on the node's class,
and whether one call makes its value."""
from __future__ import annotations

from typing import Any, Iterator

from archc import ast as A
from archc.language import BUILTINS


def single_call(expr: A.Expr) -> bool:
    """`conv2d(x, 8, 3)`, `e1 -> ResBlock()`, `[a, b] -> concat`: one call makes the value."""
    if isinstance(expr, A.Pipe):
        source = expr.source
        plain = isinstance(source, A.Name) or (isinstance(source, A.ListExpr)
                                               and all(isinstance(i, A.Name) for i in source.items))
        return plain and isinstance(expr.target, A.Call)
    return isinstance(expr, A.Call) and expr.func not in BUILTINS


_CHILD_FIELDS: dict[type, tuple[str, ...]] = {}  # an AST class's fields that hold nodes (A.children's)


def _children(e: Any) -> Iterator[Any]:
    """A.children(e), with each class's non-trivia fields found once."""
    names = _CHILD_FIELDS.get(type(e))
    if names is None:
        if not isinstance(e, A.Node):
            return
        names = _CHILD_FIELDS[type(e)] = tuple(n for n in A.fields(e) if n not in A.TRIVIA)
    for name in names:
        value = getattr(e, name)
        if isinstance(value, list):
            for item in value:
                if isinstance(item, A.Node):
                    yield item
        elif isinstance(value, A.Node):
            yield value


def free_names(expr: A.Expr | None) -> set[str]:
    """Names an expression reads (keyword names and literal `name=` values excluded)."""
    out: set[str] = set()
    _read_by(expr, out)
    return out


_LITERALS = frozenset({A.Num, A.Str, A.Bool, A.NoneLit})  # read no name


def _read_by(e: Any, out: set[str]) -> None:
    """Add the names `e` reads to `out` (free_names' walk; the commonest classes first, by type)."""
    kind = type(e)
    if kind is A.Name:
        out.add(e.id)
    elif kind is A.Pipe:
        _read_by(e.source, out)
        _read_by(e.target, out)
    elif kind is A.Call or isinstance(e, A.Call):
        out.add(e.func)  # a bound Partial can be called by name
        # repeat(..., input_as=t): `t` is each copy's input inside the repeat, read from nowhere
        copy_input = {kw.value.id for kw in e.kwargs if kw.name == "input_as" and isinstance(kw.value, A.Name)} \
            if e.func == "repeat" else None
        for a in e.args:
            if copy_input:
                out.update(free_names(a) - copy_input)
            elif type(a) not in _LITERALS:
                _read_by(a, out)
        for kw in e.kwargs:
            value = kw.value
            if type(value) not in _LITERALS and not (kw.name in ("name", "input_as") and isinstance(value, A.Name)):
                _read_by(value, out)
    elif kind in _LITERALS:
        return
    elif kind is A.Binary:
        _read_by(e.left, out)
        _read_by(e.right, out)
    elif isinstance(e, A.Name):
        out.add(e.id)
    elif isinstance(e, A.ListComp):  # its variables are bound inside, not read from outside
        bound: set[str] = set()
        for clause in e.clauses:  # each clause sees the names of those before it
            out.update(free_names(clause.iterable) - bound)
            bound |= set(clause.targets)
            for cond in clause.conditions:
                out.update(free_names(cond) - bound)
        out.update(free_names(e.element) - bound)
    else:
        for child in _children(e):
            _read_by(child, out)
