"""Python source formatting for generated code: expressions are parsed with `ast` and printed
back the way black prints them (double-quoted strings, 88 columns, long calls split after the
opening bracket, one argument per line with a trailing comma when they do not fit on one line).

Parsing every generated expression also checks it: only the node types below are accepted, so a
malformed lowering fails here, in the generator, not when the file is imported.
"""
from __future__ import annotations

import ast
import functools
import keyword

from archc.ops.base import py

LINE = 88
INDENT = "    "

# binding strength, loosest first (Python's)
_BINOP = {ast.Add: ("+", 11), ast.Sub: ("-", 11), ast.Mult: ("*", 12), ast.Div: ("/", 12),
          ast.FloorDiv: ("//", 12), ast.Mod: ("%", 12), ast.Pow: ("**", 14)}
_UNARY = {ast.USub: "-", ast.UAdd: "+"}
_COMPARE = {ast.Eq: "==", ast.NotEq: "!=", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=",
            ast.Is: "is", ast.IsNot: "is not"}
_ATOM = 16


@functools.lru_cache(maxsize=8192)  # a model repeats a few constructor and call texts many times
def parse(source: str) -> ast.expr:
    """One expression, checked to use only what generated code needs. The tree is shared with
    every caller that parses the same text: read it, never change it."""
    node = ast.parse(source, mode="eval").body
    for sub in ast.walk(node):
        if not isinstance(sub, (ast.Call, ast.Name, ast.Attribute, ast.Constant, ast.Tuple, ast.List,
                                ast.Dict, ast.Subscript, ast.Slice, ast.BinOp, ast.UnaryOp,
                                ast.keyword, ast.Load, ast.operator, ast.unaryop, ast.Compare, ast.cmpop,
                                ast.BoolOp, ast.boolop, ast.IfExp)):
            raise ValueError(f"unsupported {type(sub).__name__} in generated expression {source!r}")
    return node


def expr(node: ast.AST) -> str:
    """One-line source of an expression."""
    return _render(node)[0]


def _render(node: ast.AST) -> tuple[str, int]:
    """(source, binding strength)."""
    if isinstance(node, ast.Constant):
        if isinstance(node.value, (int, float)) and not isinstance(node.value, bool) and node.value < 0:
            return py(node.value), 13
        return py(node.value), _ATOM
    if isinstance(node, ast.Name):
        return node.id, _ATOM
    if isinstance(node, ast.Attribute):
        return f"{_operand(node.value, _ATOM)}.{node.attr}", _ATOM
    if isinstance(node, ast.Call):
        return f"{_operand(node.func, _ATOM)}({', '.join(_items(node))})", _ATOM
    if isinstance(node, ast.Tuple):
        items = [expr(e) for e in node.elts]
        return ("(" + items[0] + ",)" if len(items) == 1 else "(" + ", ".join(items) + ")"), _ATOM
    if isinstance(node, ast.List):
        return "[" + ", ".join(expr(e) for e in node.elts) + "]", _ATOM
    if isinstance(node, ast.Dict):
        return "{" + ", ".join(_items(node)) + "}", _ATOM
    if isinstance(node, ast.Subscript):
        index = node.slice
        inner = ", ".join(expr(e) for e in index.elts) if isinstance(index, ast.Tuple) else expr(index)
        return f"{_operand(node.value, _ATOM)}[{inner}]", _ATOM
    if isinstance(node, ast.Slice):
        parts = [expr(p) if p is not None else "" for p in (node.lower, node.upper)]
        if node.step is not None:
            parts.append(expr(node.step))
        return ":".join(parts), _ATOM
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        return "not " + _operand(node.operand, 8), 8
    if isinstance(node, ast.UnaryOp):
        if isinstance(node.operand, ast.BinOp) and isinstance(node.operand.op, ast.Pow):
            return f"{_UNARY[type(node.op)]}({expr(node.operand)})", 13  # -(a ** b), as black
        return _UNARY[type(node.op)] + _operand(node.operand, 13), 13
    if isinstance(node, ast.Compare):
        parts = [_operand(node.left, 10)]
        for op, right in zip(node.ops, node.comparators):
            parts += [_COMPARE[type(op)], _operand(right, 10)]
        return " ".join(parts), 9
    if isinstance(node, ast.BoolOp):
        symbol, strength = ("and", 7) if isinstance(node.op, ast.And) else ("or", 6)
        return f" {symbol} ".join(_operand(v, strength + 1) for v in node.values), strength
    if isinstance(node, ast.IfExp):
        return (f"{_operand(node.body, 5)} if {_operand(node.test, 5)} else {_operand(node.orelse, 4)}", 4)
    if isinstance(node, ast.BinOp):
        symbol, strength = _BINOP[type(node.op)]
        right_assoc = isinstance(node.op, ast.Pow)
        left = _operand(node.left, strength + (1 if right_assoc else 0))
        right = _operand(node.right, strength + (0 if right_assoc else 1))
        return f"{left} {symbol} {right}", strength
    raise ValueError(f"cannot print {type(node).__name__}")


def _operand(node: ast.AST, need: int) -> str:
    text, strength = _render(node)
    return text if strength >= need else f"({text})"


def _items(node: ast.Call | ast.Dict) -> list[str]:
    """The comma-separated items inside a call's or a dict's brackets."""
    if isinstance(node, ast.Dict):
        return [f"{expr(k)}: {expr(v)}" for k, v in zip(node.keys, node.values)]
    return [expr(a) for a in node.args] + [f"{k.arg}={expr(k.value)}" for k in node.keywords]


def _split(node: ast.AST) -> tuple[str, str, list[tuple[str, ast.AST]], str] | None:
    """A bracketed expression as (text before the bracket, opening bracket, [(item prefix, item)],
    closing bracket), or None if it has no brackets to split at."""
    if isinstance(node, ast.Call) and (node.args or node.keywords):
        items = [("", a) for a in node.args] + [(f"{k.arg}=", k.value) for k in node.keywords]
        return _operand(node.func, _ATOM), "(", items, ")"
    if isinstance(node, ast.List) and node.elts:
        return "", "[", [("", e) for e in node.elts], "]"
    if isinstance(node, ast.Tuple) and len(node.elts) > 1:
        return "", "(", [("", e) for e in node.elts], ")"
    if isinstance(node, ast.Dict) and node.keys:
        return "", "{", [(f"{expr(k)}: ", v) for k, v in zip(node.keys, node.values)], "}"
    if isinstance(node, ast.Subscript):
        index = node.slice
        items = index.elts if isinstance(index, ast.Tuple) else [index]
        return _operand(node.value, _ATOM), "[", [("", e) for e in items], "]"
    return None


def lines(head: str, node: ast.AST, depth: int, tail: str = "", comment: str = "") -> list[str]:
    """`head` + the expression + `tail` at indentation `depth`, split over several lines where it
    does not fit in LINE columns. `comment` goes at the end of the line, or on a line of its own
    above the code when that would not fit (as black would otherwise split the code for it)."""
    pad = INDENT * depth
    one = pad + head + expr(node) + tail
    parts = _split(node)
    if comment and len(_comment(one, comment)) > LINE:
        return [f"{pad}# {comment}", *lines(head, node, depth, tail)]
    if len(one) <= LINE or parts is None:
        return [_comment(one, comment)]
    before, opener, items, closer = parts
    inner = INDENT * (depth + 1)
    flat = inner + ", ".join(prefix + expr(item) for prefix, item in items)
    if len(flat) <= LINE:
        body = [flat]
    else:
        body = []
        for prefix, item in items:
            body += lines(prefix, item, depth + 1, ",")
    return [pad + head + before + opener, *body, _comment(pad + closer + tail, comment)]


def _comment(line: str, comment: str) -> str:
    return f"{line}  # {comment}" if comment else line


def statement(target: str, source: str, depth: int, comment: str = "") -> list[str]:
    """`target = source` (or the bare expression when target is ''), formatted."""
    head = f"{target} = " if target else ""
    return lines(head, parse(source), depth, "", comment)


def signature(name: str, params: list[str], depth: int) -> list[str]:
    """`def name(params):` at indentation `depth`, one parameter a line (with a trailing comma)
    when it does not fit in LINE columns, as black prints it."""
    pad = INDENT * depth
    one = f"{pad}def {name}({', '.join(params)}):"
    if len(one) <= LINE:
        return [one]
    flat = pad + INDENT + ", ".join(params)
    if len(flat) <= LINE:
        return [f"{pad}def {name}(", flat, f"{pad}):"]
    return [f"{pad}def {name}(", *[f"{pad}{INDENT}{p}," for p in params], f"{pad}):"]


def is_plain_name(name: str) -> bool:
    """Usable as an attribute or variable name as it is."""
    return name.isidentifier() and not keyword.iskeyword(name)


def safe_comment(text: str) -> str:
    """Text for a comment or docstring: characters that could end it (newlines, quotes,
    backslashes) and anything unusual become '?'."""
    allowed = set(" _.,:;[](){}+-*/%=<>×'@#!&|")
    return "".join(c if (c.isalnum() and c.isascii()) or c in allowed else "?" for c in text)
