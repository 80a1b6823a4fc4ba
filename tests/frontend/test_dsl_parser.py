"""The DSL front end (lark LALR): the AST of the example specs, exact locations, precedence,
literals, line continuation, every statement form, and syntax errors with a position, a caret,
the expectation and a code."""
from __future__ import annotations

from pathlib import Path

import pytest

from archc import ast as A
from archc.ast import without_locs
from archc.errors import SpecErrors
from archc.frontend import parse_dsl, parse_expr, parse_file, parse_yaml, to_dsl, to_yaml

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data" / "frontend"


def errors_of(fn, *args) -> list:
    with pytest.raises(SpecErrors) as info:
        fn(*args)
    return info.value.errors


def expr(text: str) -> A.Expr:
    return parse_expr(text, "<expr>", 1, 1)


def same(a, b) -> bool:
    return without_locs(a) == without_locs(b)


def test_example_structure():
    spec = parse_file(DATA / "unet_small.arch")
    assert spec.name == "UNetSmall"
    assert [b.name for b in spec.blocks] == ["DoubleConv", "Down", "Up"]
    down = spec.blocks[1]
    assert down.params == [A.Param(name="c", loc=down.params[0].loc)]  # required
    assert len(down.returns) == 2 and isinstance(down.returns[1], A.Pipe)
    assert spec.body[0].targets == ["s1", "p1"]
    up = spec.blocks[2]
    assert up.inputs == ["x", "skip"]
    concat = up.returns[0].source
    assert isinstance(concat, A.Call) and concat.func == "concat"
    assert [k.name for k in concat.kwargs] == ["axis"]
    resnet = parse_file(DATA / "resnet_small.yaml")
    assert resnet.params[1].default == A.Num(value=1e-5, loc=resnet.params[1].default.loc)
    assert resnet.outputs[1].value.id == "l3"


# ----------------------------------------------------------------------------- locations


def test_dsl_locations():
    spec = parse_file(DATA / "resnet_small.arch")
    f = str(DATA / "resnet_small.arch")
    assert spec.params[0].loc == A.Loc(file=f, line=3, col=7, end_col=18)
    x = spec.inputs[0]
    assert (x.loc.line, x.loc.col) == (5, 7)
    assert x.shape[1].loc == A.Loc(file=f, line=5, col=14, end_col=15)
    block = spec.blocks[0]
    assert (block.loc.line, block.loc.col) == (8, 7)
    y = block.body[0]
    assert (y.loc.line, y.loc.col) == (9, 3)
    pipe = y.value
    assert (pipe.loc.line, pipe.loc.col, pipe.loc.end_col) == (9, 7, None)  # two lines
    conv2 = pipe.source.target
    assert conv2.func == "conv2d" and (conv2.loc.line, conv2.loc.col) == (10, 12)
    cond = block.body[1].value
    assert isinstance(cond, A.IfExpr)
    assert (cond.test.loc.line, cond.test.loc.col) == (11, 12)
    assert (cond.orelse.loc.line, cond.orelse.loc.col) == (12, 14)
    ret = block.returns[0]
    assert ret.loc == A.Loc(file=f, line=13, col=10, end_col=21)
    assert ret.args[0].loc == A.Loc(file=f, line=13, col=15, end_col=20)


def test_parse_expr_offsets():
    e = parse_expr("a + f(b)", "spec.yaml", 7, 12)
    assert e.loc == A.Loc(file="spec.yaml", line=7, col=12, end_col=20)
    assert e.right.args[0].loc == A.Loc(file="spec.yaml", line=7, col=18, end_col=19)


# ----------------------------------------------------------------------------- the DSL


def test_precedence():
    assert same(expr("a + b -> relu"),
                A.Pipe(source=A.Binary(op="+", left=A.Name(id="a"), right=A.Name(id="b")),
                       target=A.Call(func="relu")))
    assert same(expr("-2 ** 2"), A.Unary(op="-", operand=A.Binary(
        op="**", left=A.Num(value=2), right=A.Num(value=2))))
    assert same(expr("not a == b"), A.Unary(op="not", operand=A.Compare(
        op="==", left=A.Name(id="a"), right=A.Name(id="b"))))
    assert same(expr("a if b else c if d else e"),
                A.IfExpr(test=A.Name(id="b"), body=A.Name(id="a"),
                         orelse=A.IfExpr(test=A.Name(id="d"), body=A.Name(id="c"),
                                         orelse=A.Name(id="e"))))
    assert same(expr("a or b and c"), A.BoolOp(op="or", left=A.Name(id="a"), right=A.BoolOp(
        op="and", left=A.Name(id="b"), right=A.Name(id="c"))))
    assert same(expr("x -> f == y -> g"), A.Compare(
        op="==", left=A.Pipe(source=A.Name(id="x"), target=A.Call(func="f")),
        right=A.Pipe(source=A.Name(id="y"), target=A.Call(func="g"))))
    assert same(expr("a - b - c"), expr("(a - b) - c"))
    assert same(expr("2 ** 3 ** 2"), expr("2 ** (3 ** 2)"))
    assert same(expr("x.shape[2] // 4 % 3"), expr("((x.shape)[2] // 4) % 3"))


def test_literals():
    assert expr("1e-5").value == 1e-5 and isinstance(expr("1_000").value, int)
    assert expr("0.1").value == 0.1 and expr(".5").value == 0.5
    assert same(expr("[true, False, none, None, 'it''s' ]".replace("''", "\\'")),
                A.ListExpr(items=[A.Bool(value=True), A.Bool(value=False), A.NoneLit(),
                                  A.NoneLit(), A.Str(value="it's")]))
    assert expr(r'"a\"b\n\x41"').value == 'a"b\nA'


def test_line_continuation():
    text = """
y = x -> conv2d(8,
                3)   # a comment inside parentheses
      -> relu
z = y +
    1
w = a if c
    else b
v = p
    and q
"""
    spec = parse_dsl(text)
    assert [a.targets[0] for a in spec.body] == ["y", "z", "w", "v"]
    assert isinstance(spec.body[0].value, A.Pipe)
    assert same(spec.body[1].value, expr("y + 1"))
    assert same(spec.body[2].value, expr("a if c else b"))
    assert same(spec.body[3].value, expr("p and q"))


def test_statements_and_block_forms():
    text = """model "My Net"
import "blocks/resnet.arch"
param n
input img: []
block B(a, b = 2,)(x, y) { return x, y }
a, b = B(img, img, 1)
output a
output c = b
"""
    spec = parse_dsl(text)
    assert spec.name == "My Net"
    assert spec.imports[0].path == "blocks/resnet.arch"
    assert spec.params[0].default is None and spec.inputs[0].shape == []
    assert spec.blocks[0].inputs == ["x", "y"] and len(spec.blocks[0].returns) == 2
    assert spec.body[0].targets == ["a", "b"]
    assert same(spec.outputs[0].value, A.Name(id="a"))
    assert same(parse_dsl(to_dsl(spec)), spec)


TOUR = """\
# comments start with '#'
model ResNet18                      # optional name
import "blocks/resnet.arch"         # blocks from another file
param num_classes = 1000            # model parameters, overridable from the CLI
param width = 1.0
input x: [N, 3, 224, 224]           # channels first; unbound names are symbolic dims

block BasicBlock(out, stride = 1)(x) {          # params (with defaults) then tensor inputs
  y = x -> conv2d(out, 3, stride=stride, padding=1, bias=false, name=conv1) -> batchnorm2d(name=bn1) -> relu
        -> conv2d(out, 3, padding=1, bias=false, name=conv2) -> batchnorm2d(name=bn2)
  s = x if stride == 1 and x.channels == out
        else x -> sequential(conv2d(out, 1, stride=stride, bias=false), batchnorm2d(), name=downsample)
  return relu(y + s)
}

h = x -> conv2d(64, 7, stride=2, padding=3, bias=false, name=conv1) -> batchnorm2d(name=bn1) -> relu
      -> maxpool2d(3, stride=2, padding=1)
l1 = h -> repeat(2, BasicBlock(64), name=layer1)     # repeat: loop index is `i`
l2 = l1 -> repeat(2, BasicBlock(128, stride = 2 if i == 0 else 1), name=layer2)
a, b = Split(l2)                     # several targets unpack a block's several returns
output logits = l2 -> adaptive_avgpool2d(1) -> flatten -> linear(num_classes, name=fc)
output bbox = l2 -> global_avgpool -> linear(4)
output h                             # `output NAME` alone outputs the tensor of that name
"""


def test_syntax_tour():
    spec = parse_dsl(TOUR, "tour.arch")
    assert (spec.name, [i.path for i in spec.imports]) == ("ResNet18", ["blocks/resnet.arch"])
    assert [p.name for p in spec.params] == ["num_classes", "width"]
    assert [a.targets for a in spec.body] == [["h"], ["l1"], ["l2"], ["a", "b"]]
    assert [o.name for o in spec.outputs] == ["logits", "bbox", "h"]
    pipe = spec.body[0].value
    assert isinstance(pipe, A.Pipe) and pipe.target.func == "maxpool2d"
    assert same(parse_yaml(to_yaml(spec)), spec) and same(parse_dsl(to_dsl(spec)), spec)


# ----------------------------------------------------------------------------- errors


def test_dsl_syntax_error_has_position_caret_and_expectation():
    text = "input x: [N, 3]\ny = conv2d(x 3)\n"
    [err] = errors_of(parse_dsl, text, "net.arch")
    assert (err.loc.file, err.loc.line, err.loc.col) == ("net.arch", 2, 14)
    assert "unexpected number 3" in err.message and "expected ')', ','" in err.message
    assert err.hint
    rendered = err.render()
    assert "net.arch:2:14" in rendered
    assert "    2 | y = conv2d(x 3)" in rendered
    assert "      |              ^" in rendered


def test_pipe_then_arithmetic_needs_parentheses():
    [err] = errors_of(parse_dsl, "y = x -> relu + s\n")
    assert (err.loc.line, err.loc.col) == (1, 15)
    assert "unexpected '+'" in err.message and "parenthesise" in err.hint
    assert same(parse_dsl("y = (x -> relu) + s\n").body[0].value,
                A.Binary(op="+", left=expr("x -> relu"), right=A.Name(id="s")))


@pytest.mark.parametrize("text, line, col, words, code", [
    ("y = 'abc\n", 1, 5, "unterminated string", "E-SYNTAX-UNTERMINATED-STRING"),
    ('y = f("abc)\n', 1, 7, "unterminated string", "E-SYNTAX-UNTERMINATED-STRING"),
    ("y = x ->\n", 1, 9, "after '->'", "E-SYNTAX-PIPE-TARGET"),
    ("y = x -> 3\n", 1, 10, "after '->'", "E-SYNTAX-PIPE-TARGET"),
    ("y = a < b < c\n", 1, 11, "unexpected '<'", "E-SYNTAX-UNEXPECTED-TOKEN"),
    ("y = f(x\nz = 1\n", 2, 1, "unexpected name 'z' in the arguments of 'f'", "E-SYNTAX-UNEXPECTED-TOKEN"),
    ("y = f(x, 3\n", 1, 6, "never closed", "E-SYNTAX-UNCLOSED-BRACKET"),
    ("y = f(x))\n", 1, 9, "unexpected ')'", "E-SYNTAX-UNMATCHED-BRACKET"),
    ("y = a if b\n", 1, 11, "expected 'else'", "E-SYNTAX-UNEXPECTED-END"),
    ("y =\n", 1, 4, "unexpected end of line", "E-SYNTAX-UNEXPECTED-END"),
    ("return x\n", 1, 1, "unexpected keyword 'return'", "E-SYNTAX-UNEXPECTED-TOKEN"),
    ("if = 3\n", 1, 1, "unexpected keyword 'if'", "E-SYNTAX-RESERVED-WORD"),
    ("f(x)\n", 1, 2, "unexpected '('", "E-SYNTAX-UNEXPECTED-TOKEN"),
    ("y = a $ b\n", 1, 7, "unexpected character '$'", "E-SYNTAX-UNEXPECTED-CHARACTER"),
    ("block B()(x) {\n  y = x\n}\n", 1, 7, "no 'return'", "E-SYNTAX-BLOCK-NO-RETURN"),
    ("block B()(x) {\n  return x\n  y = x\n}\n", 3, 3, "after 'return'", "E-SYNTAX-STATEMENT-AFTER-RETURN"),
    ("block B(a, a)(x) {\n  return x\n}\n", 1, 12, "two parameters", "E-NAME-DUPLICATE"),
    ("y = f(a=1, 2)\n", 1, 12, "positional argument after keyword", "E-SYNTAX-POSITIONAL-AFTER-KEYWORD"),
    ("y = f(a=1, a=2)\n", 1, 12, "given twice", "E-CALL-ARGUMENT-TWICE"),
    ("a, a = f(x)\n", 1, 4, "assigned twice", "E-NAME-DUPLICATE"),
    ("model A\nmodel B\n", 2, 7, "named twice", "E-SYNTAX-MODEL-NAMED-TWICE"),
    ("y = " + "9" * 1001 + "\n", 1, 5, "1001 digits", "E-VALUE-INT-TOO-LARGE"),
    ("y = 1e400\n", 1, 5, "number too large", "E-VALUE-FLOAT-OVERFLOW"),
    ('model "a\\0"\n', 1, 7, "NUL character", "E-SYNTAX-NUL-CHARACTER"),
    ('import "a\\0.arch"\n', 1, 8, "NUL character", "E-IMPORT-INVALID-PATH"),
    ('y = "\\U00110000"\n', 1, 5, "not a character", "E-SYNTAX-BAD-ESCAPE"),
    ('y = "\\ud800"\n', 1, 5, "lone surrogate", "E-SYNTAX-LONE-SURROGATE"),
    ("y = 1 # \ud800\n", 1, 9, "lone surrogate", "E-SYNTAX-LONE-SURROGATE"),
    ('y = f"a{b"\n', 1, 5, "never closed", "E-SYNTAX-FSTRING-BRACE"),
])
def test_dsl_errors(text, line, col, words, code):
    errs = errors_of(parse_dsl, text, "e.arch")
    assert (errs[0].loc.line, errs[0].loc.col) == (line, col)
    assert words in errs[0].message
    assert errs[0].hint
    assert errs[0].code == code
    assert f"error[{code}]" in errs[0].render()
