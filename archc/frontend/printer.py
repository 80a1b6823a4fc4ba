"""Printers: `Spec` -> canonical `.arch` text and canonical YAML text.

Both are deterministic and round-trip: parsing the output gives the same program
(`without_locs`). The DSL printer uses the fewest parentheses the precedence allows and breaks
long pipes before `->`. The YAML printer uses the structured forms (chains as lists, calls as
mappings, flow style where an item fits on its line) and writes a DSL expression string only
where the structure has none (conditionals, arithmetic, attribute access, ...).
"""
from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass

from archc import ast as A
from archc.frontend.dsl import KEYWORDS

WIDTH = 100
INDENT = "  "
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")

# ----------------------------------------------------------------------------- DSL expressions

# Binding strength, loosest first; must agree with dsl.lark.
_IF, _OR, _AND, _NOT, _CMP, _PIPE, _ADD, _MUL, _UNARY, _POW, _ATOM = range(11)
_BINARY_PREC = {"+": _ADD, "-": _ADD, "*": _MUL, "/": _MUL, "//": _MUL, "%": _MUL, "**": _POW}


def _prec(e: A.Expr) -> int:
    if isinstance(e, A.IfExpr):
        return _IF
    if isinstance(e, A.BoolOp):
        return _OR if e.op == "or" else _AND
    if isinstance(e, A.Unary):
        return _NOT if e.op == "not" else _UNARY
    if isinstance(e, A.Compare):
        return _CMP
    if isinstance(e, A.Pipe):
        return _PIPE
    if isinstance(e, A.Binary):
        return _BINARY_PREC[e.op]
    if isinstance(e, A.Num) and (e.value < 0 or (isinstance(e.value, float)
                                                  and math.copysign(1.0, e.value) < 0)):
        return _UNARY
    return _ATOM


def expr_to_dsl(e: A.Expr, need: int = _IF) -> str:
    """One expression on one line, parenthesised only where `need` (the binding strength the
    context requires) is stronger than the expression's own."""
    text = _raw(e)
    return f"({text})" if _prec(e) < need else text


def _raw(e: A.Expr) -> str:
    if isinstance(e, A.IfExpr):
        return (f"{expr_to_dsl(e.body, _OR)} if {expr_to_dsl(e.test, _OR)} "
                f"else {expr_to_dsl(e.orelse, _IF)}")
    if isinstance(e, A.BoolOp):
        return _left_assoc(e)
    if isinstance(e, A.Unary):
        if e.op == "not":
            return f"not {expr_to_dsl(e.operand, _NOT)}"
        return f"{e.op}{expr_to_dsl(e.operand, _UNARY)}"
    if isinstance(e, A.Compare):
        return f"{expr_to_dsl(e.left, _PIPE)} {e.op} {expr_to_dsl(e.right, _PIPE)}"
    if isinstance(e, A.Pipe):  # iteratively: chains can be long
        source, steps = _flatten_pipe(e)
        return expr_to_dsl(source, _PIPE) + "".join(f" -> {_target(s)}" for s in steps)
    if isinstance(e, A.Binary):
        if e.op == "**":
            return f"{expr_to_dsl(e.left, _ATOM)} ** {expr_to_dsl(e.right, _UNARY)}"
        return _left_assoc(e)
    if isinstance(e, A.Attribute):
        return f"{expr_to_dsl(e.value, _ATOM)}.{e.attr}"
    if isinstance(e, A.Subscript):
        return f"{expr_to_dsl(e.value, _ATOM)}[{expr_to_dsl(e.index)}]"
    if isinstance(e, A.Indices):
        return ", ".join(expr_to_dsl(i) for i in e.items)
    if isinstance(e, A.Slice):
        parts = ["" if p is None else expr_to_dsl(p) for p in (e.start, e.stop, e.step)]
        return ":".join(parts if e.step is not None else parts[:2])
    if isinstance(e, A.Call):
        return f"{e.func}({_arguments(e)})"
    if isinstance(e, A.ListComp):
        cond = "" if e.condition is None else f" if {expr_to_dsl(e.condition, _OR)}"
        return (f"[{expr_to_dsl(e.element)} for {', '.join(e.targets)} in "
                f"{expr_to_dsl(e.iterable, _OR)}{cond}]")
    if isinstance(e, A.ListExpr):
        return "[" + ", ".join(expr_to_dsl(i) for i in e.items) + "]"
    if isinstance(e, A.Num):
        return _number(e.value)
    if isinstance(e, A.Str):
        return dsl_string(e.value)
    if isinstance(e, A.FString):
        body = "".join(dsl_string(p.value)[1:-1].replace("{", "{{").replace("}", "}}") if isinstance(p, A.Str)
                       else "{" + expr_to_dsl(p) + "}" for p in e.parts)
        return 'f"' + body + '"'
    if isinstance(e, A.Bool):
        return "true" if e.value else "false"
    if isinstance(e, A.NoneLit):
        return "none"
    if isinstance(e, A.Name):
        return e.id
    raise TypeError(f"not an expression: {type(e).__name__}")


def _left_assoc(e: A.Binary | A.BoolOp) -> str:
    """`a - b - c`: walks the left spine iteratively (long sums are not deep recursions)."""
    p = _prec(e)
    rights: list[tuple[str, A.Expr]] = []
    node: A.Expr = e
    while isinstance(node, (A.Binary, A.BoolOp)) and node.op != "**" and _prec(node) == p:
        rights.append((node.op, node.right))
        node = node.left
    parts = [expr_to_dsl(node, p)]
    parts += [f"{op} {expr_to_dsl(right, p + 1)}" for op, right in reversed(rights)]
    return " ".join(parts)


def _arguments(call: A.Call) -> str:
    parts = [expr_to_dsl(a) for a in call.args]
    parts += [f"{k.name}={expr_to_dsl(k.value)}" for k in call.kwargs]
    return ", ".join(parts)


def _target(call: A.Call) -> str:
    """A pipe step: a bare name when there are no arguments."""
    if not call.args and not call.kwargs:
        return call.func
    return f"{call.func}({_arguments(call)})"


def _number(value: int | float) -> str:
    if isinstance(value, bool):  # pragma: no cover - pydantic keeps bools out of Num
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if math.isnan(value):
        raise ValueError("NaN has no spelling in the DSL")
    if math.isinf(value):
        return "1e999" if value > 0 else "-1e999"
    return repr(value)


def dsl_string(value: str) -> str:
    out = ['"']
    for ch in value:
        if ch == "\\":
            out.append("\\\\")
        elif ch == '"':
            out.append('\\"')
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ch == "\r":
            out.append("\\r")
        elif not ch.isprintable():
            code = ord(ch)
            out.append(f"\\x{code:02x}" if code < 0x100 else
                       f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def _dsl_name(text: str) -> str:
    return text if _IDENT.match(text) and text not in KEYWORDS else dsl_string(text)


# ----------------------------------------------------------------------------- DSL layout


def _flatten_pipe(e: A.Pipe) -> tuple[A.Expr, list[A.Call]]:
    steps: list[A.Call] = []
    node: A.Expr = e
    while isinstance(node, A.Pipe):
        steps.append(node.target)
        node = node.source
    return node, steps[::-1]


def _value_lines(prefix: str, e: A.Expr, indent: str) -> list[str]:
    """`prefix` + the expression, broken over lines (first line without `indent`; later lines
    with their own indentation) when it does not fit: before each `->` of a long pipe, and
    before the `else` of a long conditional."""
    one = prefix + expr_to_dsl(e)
    if len(indent) + len(one) <= WIDTH:
        return [one]
    cont = indent + "    "
    if isinstance(e, A.Pipe):
        source, steps = _flatten_pipe(e)
        lines = [prefix + expr_to_dsl(source, _PIPE) + " -> " + _target(steps[0])]
        lines += [cont + "-> " + _target(s) for s in steps[1:]]
        return lines
    if isinstance(e, A.IfExpr):
        first = prefix + f"{expr_to_dsl(e.body, _OR)} if {expr_to_dsl(e.test, _OR)}"
        rest = _value_lines("else ", e.orelse, cont)
        return [first, cont + rest[0], *rest[1:]]
    return [one]


def _statement(prefix: str, e: A.Expr, indent: str) -> list[str]:
    lines = _value_lines(prefix, e, indent)
    return [indent + lines[0], *lines[1:]]


def _params(params: list[A.Param]) -> str:
    return ", ".join(p.name if p.default is None else f"{p.name}={expr_to_dsl(p.default)}"
                     for p in params)


def to_dsl(spec: A.Spec) -> str:
    """The canonical `.arch` text of a spec."""
    groups: list[list[str]] = []
    if spec.name is not None:
        groups.append([f"model {_dsl_name(spec.name)}"])
    if spec.imports:
        groups.append([f"import {dsl_string(i.path)}" for i in spec.imports])
    if spec.params:
        lines = []
        for p in spec.params:
            lines += (_statement(f"param {p.name} = ", p.default, "") if p.default is not None
                      else [f"param {p.name}"])
        groups.append(lines)
    if spec.inputs:
        groups.append([f"input {i.name}: [" + ", ".join(expr_to_dsl(d) for d in i.shape) + "]"
                       for i in spec.inputs])
    for block in spec.blocks:
        groups.append(_block(block))
    if spec.body:
        groups.append([line for a in spec.body for line in _assign(a, "")])
    if spec.outputs:
        lines = []
        for o in spec.outputs:
            keyword = "training output" if o.training else "output"
            if isinstance(o.value, A.Name) and o.value.id == o.name:
                lines.append(f"{keyword} {o.name}")
            else:
                lines += _statement(f"{keyword} {o.name} = ", o.value, "")
        groups.append(lines)
    return "\n\n".join("\n".join(g) for g in groups) + "\n" if groups else ""


def _assign(a: A.Assign, indent: str) -> list[str]:
    return _statement(", ".join(a.targets) + " = ", a.value, indent)


def _block(block: A.BlockDef) -> list[str]:
    lines = [f"block {block.name}({_params(block.params)})({', '.join(block.inputs)}) {{"]
    for a in block.body:
        lines += _assign(a, INDENT)
    if len(block.returns) == 1:
        lines += _statement("return ", block.returns[0], INDENT)
    elif block.returns:
        lines.append(INDENT + "return " + ", ".join(expr_to_dsl(r) for r in block.returns))
    lines.append("}")
    return lines


# ----------------------------------------------------------------------------- YAML


@dataclass
class _Scalar:
    text: str
    verbatim: bool = False  # YAML text as is (`null`), not a string to protect


@dataclass
class _Seq:
    items: list


@dataclass
class _Map:
    pairs: list  # [(key, node)]


_NULL = _Scalar("null", verbatim=True)
_NULL_WORDS = {"null", "Null", "NULL", "~", ""}


def _yaml_value(e: A.Expr) -> object:
    """Value position: a pipe is a chain (list), a call a mapping, anything else a scalar."""
    if isinstance(e, A.Pipe):
        source, steps = _flatten_pipe(e)
        return _Seq([_yaml_value(source), *(_yaml_step(s) for s in steps)])
    if isinstance(e, A.Call):
        return _yaml_call(e)
    if isinstance(e, A.NoneLit):
        return _NULL
    return _Scalar(expr_to_dsl(e))  # lists too: a list here would be a chain


def _yaml_arg(e: A.Expr) -> object:
    """Argument position: a list is a list, a call a mapping, anything else a scalar."""
    if isinstance(e, A.ListExpr):
        return _Seq([_yaml_arg(i) for i in e.items])
    if isinstance(e, A.Call):
        return _yaml_call(e)
    if isinstance(e, A.NoneLit):
        return _NULL
    return _Scalar(expr_to_dsl(e))


def _yaml_step(call: A.Call) -> object:
    if not call.args and not call.kwargs:
        return _Scalar(call.func)
    return _yaml_call(call)


def _yaml_call(call: A.Call) -> object:
    if not call.args and not call.kwargs:
        return _Scalar(f"{call.func}()")
    if call.args and any(k.name == call.func for k in call.kwargs):
        return _Scalar(expr_to_dsl(call))  # a keyword would collide with the op's key
    kwargs = [(k.name, _yaml_arg(k.value)) for k in call.kwargs]
    if not call.args:
        return _Map([(call.func, _Map(kwargs))])
    args = [_yaml_arg(a) for a in call.args]
    if len(args) == 1 and isinstance(args[0], _Scalar) and args[0] is not _NULL:
        first: object = args[0]
    else:
        first = _Seq(args)
    return _Map([(call.func, first), *kwargs])


def _plain_ok(text: str, flow: bool) -> bool:
    """Whether YAML reads `text` back unchanged as a plain (unquoted) scalar that is not null."""
    if text in _NULL_WORDS or text != text.strip() or not text.isprintable():
        return False
    if text[0] in "?:,[]{}#&*!|>'\"%@`" or text.startswith(("---", "...")):
        return False
    if text[0] == "-" and (len(text) == 1 or text[1] == " "):
        return False
    if ": " in text or " #" in text or text.endswith(":"):
        return False
    if flow and any(ch in text for ch in ",[]{}:?#"):
        return False
    return True


def _scalar(text: str, flow: bool) -> str:
    return text if _plain_ok(text, flow) else _quote(text)


def _emit_scalar(node: _Scalar, flow: bool) -> str:
    return node.text if node.verbatim else _scalar(node.text, flow)


def _quote(text: str) -> str:
    if not text.isprintable():
        return json.dumps(text)  # JSON strings are YAML double-quoted scalars
    if '"' not in text and "\\" not in text:
        return f'"{text}"'
    return "'" + text.replace("'", "''") + "'"


def _key(text: str) -> str:
    return text if _IDENT.match(text) and text not in _NULL_WORDS else _quote(text)


def _flow(node: object) -> str:
    if isinstance(node, _Scalar):
        return _emit_scalar(node, True)
    if isinstance(node, _Seq):
        return "[" + ", ".join(_flow(i) for i in node.items) + "]"
    assert isinstance(node, _Map)
    return "{" + ", ".join(f"{_key(k)}: {_flow(v)}" for k, v in node.pairs) + "}"


def _entry(key: str, node: object, indent: int, block: bool = False) -> list[str]:
    pad = " " * indent
    head = f"{pad}{_key(key)}:"
    if isinstance(node, _Scalar):
        return [f"{head} {_emit_scalar(node, False)}"]
    empty = not (node.items if isinstance(node, _Seq) else node.pairs)
    if empty or not block:
        flow = _flow(node)
        if empty or len(head) + 1 + len(flow) <= WIDTH:
            return [f"{head} {flow}"]
    return [head, *_block_lines(node, indent + 2)]


def _block_lines(node: object, indent: int) -> list[str]:
    if isinstance(node, _Map):
        return [line for k, v in node.pairs for line in _entry(k, v, indent)]
    assert isinstance(node, _Seq)
    lines: list[str] = []
    pad = " " * indent
    for item in node.items:
        if isinstance(item, _Scalar):
            lines.append(f"{pad}- {_emit_scalar(item, False)}")
            continue
        flow = _flow(item)
        if len(pad) + 2 + len(flow) <= WIDTH or not (item.items if isinstance(item, _Seq)
                                                     else item.pairs):
            lines.append(f"{pad}- {flow}")
        elif isinstance(item, _Map):
            inner = _block_lines(item, indent + 2)
            lines.append(f"{pad}- {inner[0][indent + 2:]}")
            lines += inner[1:]
        else:
            lines.append(f"{pad}-")
            lines += _block_lines(item, indent + 2)
    return lines


def _param_default(p: A.Param) -> object:
    if p.default is None:
        return _NULL  # required
    if isinstance(p.default, A.NoneLit):
        return _Scalar("none")  # a default of none (null would mean "required")
    return _yaml_arg(p.default)


def to_yaml(spec: A.Spec) -> str:
    """The canonical YAML text of a spec."""
    sections: list[list[str]] = []
    if spec.name is not None:
        sections.append([f"model: {_scalar(spec.name, False)}"])
    if spec.imports:
        sections.append(_entry("imports", _Seq([_Scalar(i.path) for i in spec.imports]), 0))
    if spec.params:
        sections.append(_entry("params", _Map([(p.name, _param_default(p))
                                               for p in spec.params]), 0, block=True))
    if spec.inputs:
        sections.append(_entry("inputs", _Map([(i.name, _Seq([_yaml_arg(d) for d in i.shape]))
                                               for i in spec.inputs]), 0, block=True))
    if spec.blocks:
        lines = ["blocks:"]
        for n, b in enumerate(spec.blocks):
            if n:
                lines.append("")
            lines += _yaml_block(b)
        sections.append(lines)
    if spec.body:
        sections.append(_entry("body", _body(spec.body), 0, block=True))
    for key, training in (("outputs", False), ("training_outputs", True)):
        chosen = [o for o in spec.outputs if o.training == training]
        if chosen:
            sections.append(_entry(key, _Map([(o.name, _yaml_value(o.value)) for o in chosen]), 0,
                                   block=True))
    return "\n\n".join("\n".join(s) for s in sections) + "\n" if sections else "{}\n"


def _body(body: list[A.Assign]) -> _Map:
    return _Map([(", ".join(a.targets), _yaml_value(a.value)) for a in body])


def _yaml_block(b: A.BlockDef) -> list[str]:
    lines = [f"  {_key(b.name)}:"]
    if b.params:
        lines += _entry("params", _Map([(p.name, _param_default(p)) for p in b.params]), 4)
    lines += _entry("inputs", _Seq([_Scalar(i) for i in b.inputs]), 4)
    if b.body:
        lines += _entry("body", _body(b.body), 4, block=True)
    if len(b.returns) == 1:
        lines += _entry("return", _yaml_value(b.returns[0]), 4)
    else:
        lines += _entry("returns", _Seq([_yaml_value(r) for r in b.returns]), 4)
    return lines
