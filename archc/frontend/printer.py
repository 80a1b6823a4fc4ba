"""Printers: `Spec` -> canonical `.arch` text and canonical YAML text.

Both are deterministic and round-trip: parsing the output gives the same program
(`without_locs`) with the same comments, and printing that again gives the same text (`archc fmt`
is a fixed point after one pass). The DSL printer uses the fewest parentheses the precedence
allows and breaks a long statement between the steps of a pipe (each line as full of `-> step`s
as fits), before `else`, and inside the brackets of a long call or list. The YAML printer uses
the structured forms (chains as lists, calls of layers as mappings in one style: `{op: positional
args, keyword: value}`, flow style where an item fits on its line) and writes a DSL expression
string where the structure has none (conditionals, arithmetic, attribute access, ...) and for
calls of built-in functions on numbers (`"make_divisible(c * 0.25, 8)"`: expressions, not
layers). Comments (trivia on the statements) are printed back where they were: above a
statement, or at the end of its line.
"""
from __future__ import annotations

import json
import math
import re
from contextvars import ContextVar
from dataclasses import dataclass

from archc import ast as A
from archc.frontend.dsl import KEYWORDS
from archc.language import BUILTINS

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
        clauses = "".join(
            f" for {', '.join(c.targets)} in {expr_to_dsl(c.iterable, _OR)}"
            + "".join(f" if {expr_to_dsl(cond, _OR)}" for cond in c.conditions)
            for c in e.clauses)
        return f"[{expr_to_dsl(e.element)}{clauses}]"
    if isinstance(e, A.ListExpr):
        return "[" + ", ".join(expr_to_dsl(i) for i in e.items) + "]"
    if isinstance(e, A.Num):
        return _number(e.value)
    if isinstance(e, A.Str):
        return _inner_string(e.value) if _IN_FSTRING.get() else dsl_string(e.value)
    if isinstance(e, A.FString):
        return 'f"' + "".join(_fstring_part(p) for p in _fstring_parts(e)) + '"'
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
    return re.sub(r"e([+-])0*(\d)", lambda m: "e" + m.group(1).lstrip("+") + m.group(2), repr(value))


# Inside an f-string's braces (`f"{'x' + 'y'}"`): the f-string's token ends at the first unescaped
# '"' and an expression at the first '}', so a string there is written in single quotes with every
# quote, backslash and brace escaped (a '}' as \x7d). A context variable: formatting may run on
# several threads (the language server).
_IN_FSTRING: ContextVar[bool] = ContextVar("archc_printer_in_fstring", default=False)


def _fstring_parts(e: A.FString) -> list[A.Expr]:
    """The parts, with an f-string that is a whole part spliced in (`f"{f'a{x}'}"` is `f"a{x}"`:
    an f-string's braces cannot hold another f-string's)."""
    out: list[A.Expr] = []
    for p in e.parts:
        out.extend(_fstring_parts(p) if isinstance(p, A.FString) else [p])
    return out


def _fstring_part(p: A.Expr) -> str:
    if isinstance(p, A.Str):
        return dsl_string(p.value)[1:-1].replace("{", "{{").replace("}", "}}")
    token = _IN_FSTRING.set(True)
    try:
        return "{" + expr_to_dsl(p) + "}"
    finally:
        _IN_FSTRING.reset(token)


def _inner_string(value: str) -> str:
    body = dsl_string(value)[1:-1].replace("'", "\\'").replace("{", "\\x7b").replace("}", "\\x7d")
    return "'" + body + "'"


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


def _expr_lines(start: str, e: A.Expr, indent: str, suffix: str = "") -> list[str]:
    """`start` (the line so far, indentation included) + the expression + `suffix`, broken over
    lines when it does not fit (each line whole, with its indentation; a closing bracket goes at
    `indent`): between the steps of a long pipe (`_pipe_lines`), before the `else` of a long
    conditional, and inside the brackets of a long call or list (its items on one line of their
    own if they fit there, else one per line with a trailing comma)."""
    one = start + expr_to_dsl(e) + suffix
    if len(one) <= WIDTH:
        return [one]
    cont = indent + "    "
    if isinstance(e, A.Pipe):
        source, steps = _flatten_pipe(e)
        if _prec(source) < _PIPE:
            lines = [start + expr_to_dsl(source, _PIPE)]
        else:
            lines = _expr_lines(start, source, indent)
        return _pipe_lines(lines, steps, indent, suffix)
    if isinstance(e, A.IfExpr):
        test = f" if {expr_to_dsl(e.test, _OR)}"
        if _prec(e.body) < _OR:
            first = [start + expr_to_dsl(e.body, _OR) + test]
        else:
            first = _expr_lines(start, e.body, indent, test)
        return [*first, *_expr_lines(cont + "else ", e.orelse, cont, suffix)]
    if isinstance(e, A.Call) and (e.args or e.kwargs):
        return _bracket_lines(start + e.func + "(", _call_items(e), ")", indent, suffix)
    if isinstance(e, A.ListExpr) and e.items:
        return _bracket_lines(start + "[", [("", i) for i in e.items], "]", indent, suffix)
    return [one]


def _pipe_lines(lines: list[str], steps: list[A.Call], indent: str, suffix: str) -> list[str]:
    """A long pipe's steps after its source (whose lines are `lines`), packed: each line takes as
    many `-> step`s as fit, the source's line first; the others start with `->`, indented once
    more than the statement. A step too long for a line of its own breaks inside its brackets
    (the only step, on the source's line), and the next step starts a line."""
    cont = indent + "    "
    lines = list(lines)
    line: str | None = lines.pop()  # the line being filled; None after a broken step
    for n, step in enumerate(steps):
        end = suffix if n == len(steps) - 1 else ""
        piece = " -> " + _target(step)
        if line is not None and len(line + piece + end) <= WIDTH:
            line += piece
            continue
        if line is not None and len(steps) == 1:  # no other line to go to: break it here
            lines += _step_lines(line + " -> ", step, indent, end)
            return lines
        if line is not None:
            lines.append(line)
        step_lines = _step_lines(cont + "-> ", step, cont, end)
        if len(step_lines) == 1:
            line = cont + "-> " + _target(step)  # its suffix, if last, is added at the end
        else:
            lines += step_lines
            line = None
    if line is not None:
        lines.append(line + suffix)
    return lines


def _call_items(call: A.Call) -> list[tuple[str, A.Expr]]:
    return [("", a) for a in call.args] + [(f"{k.name}=", k.value) for k in call.kwargs]


def _step_lines(start: str, call: A.Call, indent: str, suffix: str) -> list[str]:
    one = start + _target(call) + suffix
    if len(one) <= WIDTH or not (call.args or call.kwargs):
        return [one]
    return _bracket_lines(start + call.func + "(", _call_items(call), ")", indent, suffix)


def _bracket_lines(head: str, items: list[tuple[str, A.Expr]], close: str, indent: str,
                   suffix: str) -> list[str]:
    inner = indent + "    "
    joined = inner + ", ".join(prefix + expr_to_dsl(x) for prefix, x in items)
    if len(joined) <= WIDTH:
        return [head, joined, indent + close + suffix]
    lines = [head]
    for prefix, x in items:
        lines += _expr_lines(inner + prefix, x, inner, ",")
    return [*lines, indent + close + suffix]


def _statement(prefix: str, e: A.Expr, indent: str) -> list[str]:
    return _expr_lines(indent + prefix, e, indent)


def _params(params: list[A.Param]) -> str:
    return ", ".join(p.name if p.default is None else f"{p.name}={expr_to_dsl(p.default)}"
                     for p in params)


# Comments: an end-of-line comment follows its statement after this mark until the lines of a
# group are aligned (`_align`); consecutive end-of-line comments line up, as gofmt does.
_EOL = "\x00"


def _commented(lines: list[str], comments: A.Comments | None, indent: str,
               first: bool = False, hash_: str = "#") -> list[str]:
    """A statement's lines with its comments: those above it, then its end-of-line comment (the
    last one; others go above). `first`: first in its group (its blank line is the group's)."""
    if comments is None:
        return lines
    above = list(comments.before) + list(comments.after[:-1])
    out = []
    for n, text in enumerate(above):
        if text == "":
            if not (n == 0 and first) and (not out or out[-1] != ""):
                out.append("")
        else:
            out.append(indent + _comment(text, hash_))
    lines = list(lines)
    if comments.after:
        lines[-1] += _EOL + _comment(comments.after[-1], hash_)
    return out + lines


def _comment(text: str, hash_: str = "#") -> str:
    return text if text.startswith("#") else hash_ + " " + text


def _end_comments(texts: list[str], indent: str) -> list[str]:
    out: list[str] = []
    for text in texts:
        if text == "":
            if out and out[-1] != "":
                out.append("")
        else:
            out.append(indent + _comment(text))
    return out


def _align(lines: list[str]) -> list[str]:
    out: list[str] = []
    run: list[tuple[str, str]] = []

    def flush() -> None:
        width = max((len(code) for code, _ in run), default=0)
        out.extend(f"{code:<{width}}  {text}" for code, text in run)
        run.clear()

    for line in lines:
        if _EOL in line:
            code, text = line.split(_EOL, 1)
            run.append((code, text))
        else:
            flush()
            out.append(line)
    flush()
    return out


def _first_blank(group: list[str]) -> list[str]:
    """A group does not start with a blank line (groups are separated by one)."""
    while group and group[0] == "":
        group = group[1:]
    return group


def to_dsl(spec: A.Spec) -> str:
    """The canonical `.arch` text of a spec, with its comments."""
    groups: list[list[str]] = []
    if spec.name is not None:
        returns = f" returns {spec.returns}" if spec.returns else ""
        groups.append(_commented([f"model {_dsl_name(spec.name)}{returns}"], spec.comments, "", True))
    if spec.imports:
        groups.append([line for n, i in enumerate(spec.imports)
                       for line in _commented([f"import {dsl_string(i.path)}"], i.comments, "",
                                              n == 0)])
    if spec.params:
        lines = []
        for n, p in enumerate(spec.params):
            lines += _commented(_statement(f"param {p.name} = ", p.default, "")
                                if p.default is not None else [f"param {p.name}"],
                                p.comments, "", n == 0)
        groups.append(lines)
    if spec.inputs:
        groups.append([line for n, i in enumerate(spec.inputs) for line in _commented(
            [f"input {i.name}: [" + ", ".join(expr_to_dsl(d) for d in i.shape) + "]"],
            i.comments, "", n == 0)])
    for block in spec.blocks:
        groups.append(_block(block))
    if spec.body:
        groups.append([line for n, a in enumerate(spec.body) for line in _assign(a, "", n == 0)])
    if spec.outputs:
        lines = []
        for n, o in enumerate(spec.outputs):
            keyword = "training output" if o.training else "output"
            if isinstance(o.value, A.Name) and o.value.id == o.name:
                code = [f"{keyword} {o.name}"]
            else:
                code = _statement(f"{keyword} {_dsl_name(o.name)} = ", o.value, "")
            lines += _commented(code, o.comments, "", n == 0)
        groups.append(lines)
    if spec.end_comments:
        end = _end_comments(spec.end_comments, "")
        if groups and spec.end_comments[0] != "":
            groups[-1] += end
        else:
            groups.append(end)
    groups = [g for g in (_first_blank(g) for g in groups) if g]
    return "\n\n".join("\n".join(_align(g)) for g in groups) + "\n" if groups else ""


def _assign(a: A.Assign, indent: str, first: bool = False) -> list[str]:
    head = ("unused " if a.unused else "") + ", ".join(a.targets) + " = "
    return _commented(_statement(head, a.value, indent), a.comments, indent, first)


def _block(block: A.BlockDef) -> list[str]:
    inputs = f")({', '.join(block.inputs)}) {{"
    header = [f"block {block.name}({_params(block.params)}{inputs}"]
    items = [p.name if p.default is None else f"{p.name}={expr_to_dsl(p.default)}"
             for p in block.params]
    if any(_texts(p.comments) for p in block.params):  # one parameter a line, with its comments
        header = [f"block {block.name}(",
                  *(line for p, item in zip(block.params, items)
                    for line in _commented([f"    {item},"], _one_after(p.comments), "    ", True)),
                  inputs]
    elif len(header[0]) > WIDTH and block.params:
        one = "    " + ", ".join(items)
        header = [f"block {block.name}(", *([one] if len(one) <= WIDTH else
                                             [f"    {item}," for item in items]), inputs]
    comments = block.comments
    if comments is not None and comments.after and len(header) > 1:
        header[0] += _EOL + _comment(comments.after[-1])
        comments = A.Comments(before=[*comments.before, *comments.after[:-1]])
    lines = _commented(header, comments, "", True)
    for n, a in enumerate(block.body):
        lines += _assign(a, INDENT, n == 0)
    if len(block.returns) == 1:
        ret = _statement("return ", block.returns[0], INDENT)
    else:
        ret = [INDENT + "return " + ", ".join(expr_to_dsl(r) for r in block.returns)]
    lines += _commented(ret, block.return_comments, INDENT, not block.body)
    lines += _end_comments(block.end_comments, INDENT)
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
# `outputs: {aux: {training: value}}`: a training output among the others (yaml_loader reads it)
TRAINING_MARK = "training"
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
    if call.func in BUILTINS:  # a function on numbers (no block may take its name): an expression
        return _Scalar(expr_to_dsl(call))  # "make_divisible(c * 0.25, 8)", never a layer's mapping
    if any(k.name == call.func for k in call.kwargs):
        return _Scalar(expr_to_dsl(call))  # a keyword would collide with the op's key
    # One style for every call: the first key names the op or block and holds its positional
    # arguments (one as a scalar, several or none as a list); its keyword arguments follow as
    # keys of their own: {conv2d: [64, 3], stride: 2}, {linear: 10, name: fc},
    # {batchnorm2d: [], name: bn}.
    kwargs = [(k.name, _yaml_arg(k.value)) for k in call.kwargs]
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


# PyYAML refuses a simple (implicit) key over 1,024 characters; a longer one (`a0, …, a199 = x ->
# chunk(200)`) is written in YAML's explicit form, `? key` on a line and `: value` on the next
_SIMPLE_KEY_MAX = 1000


def _entry(key: str, node: object, indent: int, block: bool = False) -> list[str]:
    pad = " " * indent
    head = f"{pad}{_key(key)}:"
    if len(_key(key)) > _SIMPLE_KEY_MAX:
        lines = _entry("_", node, indent, block)
        return [f"{pad}? {_key(key)}", pad + lines[0][len(pad) + 1:], *lines[1:]]
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


def _item(key: str, node: object, comments: A.Comments | None, indent: int, first: bool,
          block: bool = False) -> list[str]:
    """One entry of a section with its comments (an end-of-line one on the entry's first line)."""
    lines = _entry(key, node, indent, block)
    if comments is not None and comments.after:
        lines = [lines[0] + _EOL + _comment(comments.after[-1]), *lines[1:]]
        comments = A.Comments(before=[*comments.before, *comments.after[:-1]])
    return _commented(lines, comments, " " * indent, first)


def _one_after(comments: A.Comments | None) -> A.Comments | None:
    """At most one end-of-line comment: the others go above, in their order."""
    if comments is None or len(comments.after) < 2:
        return comments
    return A.Comments(before=[*comments.before, *comments.after[:-1]], after=comments.after[-1:])


def _texts(comments: A.Comments | None) -> bool:
    return comments is not None and any(comments.before + comments.after)


def _section(key: str, items: list[tuple[str, object, A.Comments | None]], indent: int,
             block: bool = True, hoist: list[str] | None = None) -> list[str]:
    """`key:` and its entries, in block style when `block` or when an entry has comments (flow
    style has no room for them); the first entry's comments above go above `key:`. `hoist`:
    comments to put above it as well."""
    pad = " " * indent
    items = [(k, v, _one_after(c)) for k, v, c in items]
    commented = any(_texts(c) for _, _, c in items)
    above = list(hoist or [])
    if items and items[0][2] is not None and items[0][2].before:
        c = items[0][2]
        above += c.before
        items = [(items[0][0], items[0][1], A.Comments(after=c.after)), *items[1:]]
    head = _commented([], A.Comments(before=above), pad, True) if above else []
    if not (block or commented):
        return head + _entry(key, _Map([(k, v) for k, v, _ in items]), indent)
    lines = [f"{pad}{_key(key)}:"]
    for n, (k, node, c) in enumerate(items):
        lines += _item(k, node, c, indent + 2, n == 0)
    return head + lines


def _list_section(key: str, items: list[tuple[object, A.Comments | None]], indent: int,
                  hoist: list[str] | None = None) -> list[str]:
    """`key: [a, b]`, or a block list when an item has comments."""
    pad = " " * indent
    above = list(hoist or [])
    items = [(v, _one_after(c)) for v, c in items]
    if not any(_texts(c) for _, c in items):
        head = _commented([], A.Comments(before=above), pad, True) if above else []
        return head + _entry(key, _Seq([node for node, _ in items]), indent)
    if items[0][1] is not None and items[0][1].before:
        above += items[0][1].before
        while above and above[-1] == "":  # a blank line before `key:` would not read back as the item's
            above.pop()
        items = [(items[0][0], A.Comments(after=items[0][1].after)), *items[1:]]
    head = _commented([], A.Comments(before=above), pad, True) if above else []
    lines = [f"{pad}{_key(key)}:"]
    for n, (node, c) in enumerate(items):
        item = [f"{pad}  - {_flow(node)}"]
        lines += _commented(item, c, pad + "  ", n == 0)
    return head + lines


def to_yaml(spec: A.Spec) -> str:
    """The canonical YAML text of a spec, with its comments."""
    sections: list[list[str]] = []
    if spec.name is not None:
        returns = [f"returns: {spec.returns}"] if spec.returns else []
        sections.append(_commented([f"model: {_scalar(spec.name, False)}"], spec.comments, "", True) + returns)
    if spec.imports:
        sections.append(_list_section("imports", [(_Scalar(i.path), i.comments)
                                                  for i in spec.imports], 0))
    if spec.params:
        sections.append(_section("params", [(p.name, _param_default(p), p.comments)
                                            for p in spec.params], 0))
    if spec.inputs:
        sections.append(_section("inputs", [(i.name, _Seq([_yaml_arg(d) for d in i.shape]),
                                             i.comments) for i in spec.inputs], 0))
    pending: list[str] = []  # a block's closing comments: above what follows it
    if spec.blocks:
        lines = ["blocks:"]
        for n, b in enumerate(spec.blocks):
            if n:
                lines.append("")  # blocks are apart, as in the DSL
            lines += _yaml_block(b, True, pending)
            pending = list(b.end_comments)
        if spec.blocks[0].comments and spec.blocks[0].comments.before:
            # the first block's comments go above `blocks:`
            lines = lines[1:]
            at = next(i for i, line in enumerate(lines) if line.startswith("  ") and
                      not line.lstrip().startswith("#") and line.strip())
            lines = [*(line[2:] if line.startswith("  #") else line for line in lines[:at]),
                     "blocks:", *lines[at:]]
        sections.append(lines)
    if spec.body:
        sections.append(_section("body", _body(spec.body), 0, hoist=pending))
        pending = []
    for key, chosen in _output_sections(spec.outputs):
        sections.append(_section(key, [(o.name, _training_output(o, key), o.comments)
                                       for o in chosen], 0, hoist=pending))
        pending = []
    end = [*pending, *([""] if pending and spec.end_comments else []), *spec.end_comments]
    if end:
        lines = _end_comments(end, "")
        if sections and end[0] != "":
            sections[-1] += lines
        else:
            sections.append(lines)
    sections = [g for g in (_first_blank(g) for g in sections) if g]
    return "\n\n".join("\n".join(_align(s)) for s in sections) + "\n" if sections else "{}\n"


def _output_sections(outputs: list[A.Output]) -> list[tuple[str, list[A.Output]]]:
    """`outputs:` and `training_outputs:` in the order the spec gives them, for their order is the
    model's module order (state_dict keys): training outputs after the others, as usual, or all
    before them (the section first); where the two interleave, one `outputs:` section that marks
    each training output's value `{training: ...}`."""
    plain = [o for o in outputs if not o.training]
    training = [o for o in outputs if o.training]
    flags = [o.training for o in outputs]
    if flags == sorted(flags) or flags == sorted(flags, reverse=True):
        order = (("outputs", plain), ("training_outputs", training))
        if flags != sorted(flags):
            order = order[::-1]
        return [(key, chosen) for key, chosen in order if chosen]
    return [("outputs", list(outputs))]


def _training_output(o: A.Output, key: str) -> object:
    value = _yaml_value(o.value)
    return _Map([(TRAINING_MARK, value)]) if o.training and key == "outputs" else value


def _body(body: list[A.Assign]) -> list[tuple[str, object, A.Comments | None]]:
    return [(("unused " if a.unused else "") + ", ".join(a.targets), _yaml_value(a.value), a.comments) for a in body]


def _yaml_block(b: A.BlockDef, first: bool, hoist: list[str]) -> list[str]:
    above = [*hoist, *(b.comments.before if b.comments else [])]
    comments = A.Comments(before=above, after=b.comments.after if b.comments else [])
    lines = _commented([f"  {_key(b.name)}:"], comments, "  ", first)
    if b.params:
        lines += _section("params", [(p.name, _param_default(p), p.comments) for p in b.params],
                          4, block=False)
    lines += _entry("inputs", _Seq([_Scalar(i) for i in b.inputs]), 4)
    if b.body:
        lines += _section("body", _body(b.body), 4)
    if len(b.returns) == 1:
        lines += _item("return", _yaml_value(b.returns[0]), b.return_comments, 4, False)
    else:
        lines += _item("returns", _Seq([_yaml_value(r) for r in b.returns]), b.return_comments,
                       4, False)
    return lines
