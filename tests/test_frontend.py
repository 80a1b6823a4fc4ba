"""Front ends (DSL and YAML) and printers: same AST from both languages, exact locations,
helpful errors, and round trips through both printers."""
from __future__ import annotations

import math
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from archc import ast as A
from archc.ast import without_locs
from archc.errors import SpecErrors
from archc.frontend import (parse_dsl, parse_expr, parse_file, parse_yaml, to_dsl, to_yaml)
from archc.frontend.dsl import KEYWORDS
from archc.frontend.printer import expr_to_dsl

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data" / "frontend"
EXAMPLES = ["resnet_small", "unet_small"]
ALL_FILES = sorted([*DATA.glob("*.arch"), *DATA.glob("*.yaml"),
                    *(ROOT / "specs").glob("**/*.arch"), *(ROOT / "specs").glob("**/*.yaml")])


def errors_of(fn, *args) -> list:
    with pytest.raises(SpecErrors) as info:
        fn(*args)
    return info.value.errors


def expr(text: str) -> A.Expr:
    return parse_expr(text, "<expr>", 1, 1)


def same(a, b) -> bool:
    return without_locs(a) == without_locs(b)


# ----------------------------------------------------------------------------- both languages


@pytest.mark.parametrize("name", EXAMPLES)
def test_yaml_and_dsl_versions_are_the_same_program(name):
    dsl = parse_file(DATA / f"{name}.arch")
    yml = parse_file(DATA / f"{name}.yaml")
    assert dsl.blocks and dsl.body and dsl.outputs
    assert same(dsl, yml)


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


def test_yaml_locations():
    spec = parse_file(DATA / "resnet_small.yaml")
    f = str(DATA / "resnet_small.yaml")
    block = spec.blocks[0]
    assert block.loc == A.Loc(file=f, line=9, col=3, end_col=13)
    y = block.body[0]
    assert (y.loc.line, y.loc.col) == (13, 7)
    first_conv = y.value.source.source.source.source.target
    assert first_conv.func == "conv2d" and (first_conv.loc.line, first_conv.loc.col) == (15, 11)
    stride = first_conv.kwargs[0]
    assert (stride.loc.line, stride.loc.col) == (16, 11)
    assert stride.value.loc == A.Loc(file=f, line=16, col=19, end_col=25)
    # A quoted scalar: columns are offset past the opening quote.
    s = block.body[1].value
    assert s.body.loc == A.Loc(file=f, line=24, col=11, end_col=12)
    assert (s.test.loc.line, s.test.loc.col) == (24, 16)
    assert (s.orelse.target.loc.line, s.orelse.target.loc.col) == (24, 60)
    # `return: relu(y + s)`, plain scalar
    assert block.returns[0].args[0].loc == A.Loc(file=f, line=25, col=18, end_col=23)


def test_parse_expr_offsets():
    e = parse_expr("a + f(b)", "spec.yaml", 7, 12)
    assert e.loc == A.Loc(file="spec.yaml", line=7, col=12, end_col=20)
    assert e.right.args[0].loc == A.Loc(file="spec.yaml", line=7, col=18, end_col=19)


def test_multiline_yaml_scalar_maps_to_its_start():
    text = "body:\n  y: x if a\n    else z\n"
    spec = parse_yaml(text, "m.yaml")
    value = spec.body[0].value
    assert isinstance(value, A.IfExpr)
    assert (value.orelse.loc.line, value.orelse.loc.col) == (2, 6)


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


def test_unknown_top_level_yaml_key_suggests_the_right_one():
    [err] = errors_of(parse_yaml, "input:\n  x: [N, 3]\n", "s.yaml")
    assert "unknown key 'input'" in err.message
    assert err.hint == "did you mean 'inputs'?"
    assert (err.loc.line, err.loc.col) == (1, 1)


def test_yaml_errors_are_collected():
    text = """inputs: {x: [N, 3]}
blocks:
  B:
    input: [x]
    return: x
body:
  y: [x, relu]
  y: [x, sigmoid]
  z: "x -> (relu"
outputs: {y: y}
"""
    errs = errors_of(parse_yaml, text, "s.yaml")
    assert [(e.loc.line, e.loc.col) for e in errs] == [(4, 5), (8, 3), (9, 12)]
    assert "unknown key 'input' in block 'B'" in errs[0].message
    assert errs[0].hint == "did you mean 'inputs'?"
    assert "duplicate key 'y' in 'body'" in errs[1].message and "line 7" in errs[1].hint
    assert "after '->'" in errs[2].message
    assert "    9 |   z: \"x -> (relu\"" in errs[2].render()


def test_bad_yaml_syntax():
    [err] = errors_of(parse_yaml, "body:\n  y: [x, relu\n  z: 1\n", "b.yaml")
    assert err.message.startswith("invalid YAML")
    assert err.loc.file == "b.yaml" and err.loc.line == 3
    [err] = errors_of(parse_yaml, "body:\n\ty: x\n", "t.yaml")
    assert "tab" in err.message and "spaces" in err.hint


def test_yaml_shape_errors():
    errs = errors_of(parse_yaml, "body:\n  y: [x, x + 1]\n  'a b': x\n  z: []\n", "c.yaml")
    assert ["chain step" in errs[0].message, "not a tensor name" in errs[1].message,
            "empty list" in errs[2].message] == [True, True, True]
    [err] = errors_of(parse_yaml, "blocks:\n  B: {inputs: [x]}\n", "c.yaml")
    assert "no 'return'" in err.message


def test_parse_file_errors(tmp_path):
    (tmp_path / "net.json").write_text("{}")
    [err] = errors_of(parse_file, tmp_path / "net.json")
    assert "suffix" in err.message and ".arch" in err.hint and err.code == "E-FILE-UNKNOWN-LANGUAGE"
    [err] = errors_of(parse_file, tmp_path / "missing.arch")
    assert "does not exist" in err.message and err.code == "E-FILE-NOT-FOUND"
    # a missing file or a folder is that problem, whatever its suffix says
    [err] = errors_of(parse_file, tmp_path / "missing.json")
    assert err.code == "E-FILE-NOT-FOUND"
    [err] = errors_of(parse_file, tmp_path)
    assert "is a directory" in err.message and err.code == "E-FILE-IS-DIRECTORY"
    [err] = errors_of(parse_file, str(tmp_path / "a\0b.arch"))
    assert "not a valid file name" in err.message and err.code == "E-FILE-BAD-NAME"
    (tmp_path / "latin1.arch").write_bytes(b"# caf\xe9\nmodel M\n")
    [err] = errors_of(parse_file, tmp_path / "latin1.arch")
    assert "not UTF-8" in err.message and err.code == "E-FILE-NOT-UTF8" and err.hint


# A spec whose aliases expand: 'stages' stands for 4 x 5 values, the document for about 50.
ALIASED = """model: M
params:
  stage: &stage [16, 16, 32, 32]
  stages: [*stage, *stage, *stage, *stage]
inputs:
  x: [N, 3, 32, 32]
outputs:
  y: [x, relu]
"""


def test_yaml_alias_expansion_limit_is_read_from_the_environment(monkeypatch):
    monkeypatch.setenv("ARCHC_MAX_YAML_NODES", "20")
    [err] = errors_of(parse_yaml, ALIASED, "a.yaml")
    assert err.code == "E-YAML-ALIAS-EXPANSION"
    assert "expands to more than 20 values" in err.message
    assert "ARCHC_MAX_YAML_NODES" in err.hint
    monkeypatch.setenv("ARCHC_MAX_YAML_NODES", "1000")  # raised: accepted, on the next load
    spec = parse_yaml(ALIASED, "a.yaml")
    assert len(spec.params[1].default.items) == 4
    monkeypatch.delenv("ARCHC_MAX_YAML_NODES")  # the default (200,000) takes it too
    assert parse_yaml(ALIASED, "a.yaml").params
    monkeypatch.setenv("ARCHC_MAX_YAML_NODES", "lots")
    [err] = errors_of(parse_yaml, ALIASED, "a.yaml")
    assert err.code == "E-LIMIT-ENV"


def test_yaml_error_codes():
    cases = {
        "body:\n  y: [x, relu\n  z: 1\n": "E-YAML-SYNTAX",
        "body:\n\ty: x\n": "E-YAML-TAB",
        "body: {}\n---\nbody: {}\n": "E-YAML-MULTIPLE-DOCUMENTS",
        "body:\n  y: x\n  y: x\n": "E-YAML-DUPLICATE-KEY",
        "output: {y: x}\n": "E-YAML-UNKNOWN-KEY",
        "inputs: [N, 3]\n": "E-YAML-WRONG-TYPE",
        "inputs:\n  in-put: [N, 3]\n": "E-YAML-NOT-A-NAME",
        "inputs:\n  if: [N, 3]\n": "E-SYNTAX-RESERVED-WORD",
        "body:\n  y: [x, 3]\n": "E-SYNTAX-PIPE-TARGET",
        "body:\n  a, a: [x, f]\n": "E-NAME-DUPLICATE",
        "body:\n  y: {f: {k: 1}, k: 2}\n": "E-CALL-ARGUMENT-TWICE",
        "blocks:\n  B: {inputs: [x]}\n": "E-SYNTAX-BLOCK-NO-RETURN",
        "blocks:\n  B: {inputs: [x], return: x, returns: [x]}\n": "E-SYNTAX-BLOCK-RETURNS-TWICE",
        "blocks:\n  B: {params: {a: 1}, inputs: [a], return: a}\n": "E-NAME-DUPLICATE",
        "params:\n  a: &r [*r]\n": "E-YAML-ALIAS-CYCLE",
        "params:\n  a: " + "[" * 1000 + "]" * 1000 + "\n": "E-YAML-NESTING-TOO-DEEP",
        "body:\n  y: 'x -> relu\n": "E-SYNTAX-UNTERMINATED-STRING",
    }
    for text, code in cases.items():
        errs = errors_of(parse_yaml, text, "c.yaml")
        assert errs[0].code == code, (text, errs[0].render())
        assert all(e.hint for e in errs), text


# ----------------------------------------------------------------------------- round trips


def _parse(text: str, language: str, file: str = "<printed>") -> A.Spec:
    return parse_dsl(text, file) if language == "dsl" else parse_yaml(text, file)


@pytest.mark.parametrize("path", ALL_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_round_trips(path):
    spec = parse_file(path)
    dsl, yml = to_dsl(spec), to_yaml(spec)
    from_dsl, from_yaml = parse_dsl(dsl), parse_yaml(yml)
    assert same(from_dsl, spec)
    assert same(from_yaml, spec)
    # One step through the other language is a fixed point.
    assert to_dsl(from_yaml) == dsl
    assert to_yaml(from_dsl) == yml
    assert to_dsl(from_dsl) == dsl and to_yaml(from_yaml) == yml


def test_printer_layout():
    spec = parse_file(DATA / "resnet_small.arch")
    dsl = to_dsl(spec)
    assert "block BasicBlock(out, stride=1)(x) {\n  y = x -> conv2d(" in dsl
    assert "\n      -> batchnorm2d(name=bn1)\n      -> relu\n" in dsl
    assert "\n      else x -> sequential(" in dsl
    assert "output l3\n" in dsl
    yml = to_yaml(spec)
    assert "    params: {out: null, stride: 1}\n" in yml
    assert "\n        - relu\n" in yml
    assert "  l1: [h, {repeat: [2, {BasicBlock: 16}], name: layer1}]  # the loop index is `i`\n" in yml


def test_yaml_printer_quotes_what_yaml_would_misread():
    spec = A.Spec(params=[A.Param(name="a"), A.Param(name="b", default=A.NoneLit())],
                  body=[A.Assign(targets=["y"], value=A.Name(id="null")),
                        A.Assign(targets=["s"], value=A.Str(value="it's: #1")),
                        A.Assign(targets=["l"], value=A.ListExpr(items=[A.Num(value=1)])),
                        A.Assign(targets=["c"], value=A.Call(
                            func="f", args=[A.NoneLit()], kwargs=[
                                A.Keyword(name="k", value=expr("g(a, b)"))])),
                        A.Assign(targets=["p", "q"], value=A.Call(func="g"))])
    yml = to_yaml(spec)
    assert "  a: null\n  b: none\n" in yml
    assert '  y: "null"\n' in yml
    assert "  l: \"[1]\"\n" in yml
    assert '  "p, q": g()\n' in yml
    assert same(parse_yaml(yml), spec)
    assert same(parse_dsl(to_dsl(spec)), spec)


# ----------------------------------------------------------------------------- property tests

_names = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,6}", fullmatch=True).filter(
    lambda s: s not in KEYWORDS)
_leaves = st.one_of(
    st.integers(min_value=0, max_value=10**12).map(lambda v: A.Num(value=v)),
    st.floats(min_value=0, allow_nan=False, allow_infinity=False)
      .filter(lambda v: math.copysign(1.0, v) > 0).map(lambda v: A.Num(value=v)),
    _names.map(lambda n: A.Name(id=n)),
    st.text(max_size=6).map(lambda s: A.Str(value=s)),
    st.booleans().map(lambda b: A.Bool(value=b)),
    st.just(A.NoneLit()),
)


def _calls(children):
    kwargs = st.lists(st.tuples(_names, children), max_size=2, unique_by=lambda kv: kv[0]).map(
        lambda kvs: [A.Keyword(name=k, value=v) for k, v in kvs])
    return st.builds(lambda f, a, k: A.Call(func=f, args=a, kwargs=k), _names,
                     st.lists(children, max_size=3), kwargs)


def _compound(children):
    return st.one_of(
        st.builds(lambda op, l, r: A.Binary(op=op, left=l, right=r),
                  st.sampled_from(["+", "-", "*", "/", "//", "%", "**"]), children, children),
        st.builds(lambda op, l, r: A.Compare(op=op, left=l, right=r),
                  st.sampled_from(["==", "!=", "<", "<=", ">", ">="]), children, children),
        st.builds(lambda op, l, r: A.BoolOp(op=op, left=l, right=r),
                  st.sampled_from(["and", "or"]), children, children),
        st.builds(lambda op, e: A.Unary(op=op, operand=e),
                  st.sampled_from(["-", "+", "not"]), children),
        st.builds(lambda t, b, o: A.IfExpr(test=t, body=b, orelse=o), children, children,
                  children),
        _calls(children),
        st.builds(lambda s, t: A.Pipe(source=s, target=t), children, _calls(children)),
        st.lists(children, max_size=3).map(lambda items: A.ListExpr(items=items)),
        st.builds(lambda v, a: A.Attribute(value=v, attr=a), children, _names),
        st.builds(lambda v, i: A.Subscript(value=v, index=i), children, children),
    )


_exprs = st.recursive(_leaves, _compound, max_leaves=12)
_fast = settings(max_examples=150, deadline=None, derandomize=True,
                 suppress_health_check=[HealthCheck.too_slow])


@_fast
@given(_exprs)
def test_random_expressions_print_and_parse_back(e):
    text = expr_to_dsl(e)
    assert same(parse_expr(text, "<hypothesis>", 1, 1), e), text


@_fast
@given(_exprs, _exprs)
def test_random_expressions_survive_both_printers(value, arg):
    spec = A.Spec(body=[A.Assign(targets=["y"], value=value),
                        A.Assign(targets=["z"], value=A.Pipe(
                            source=value, target=A.Call(func="f", args=[arg]))),
                        A.Assign(targets=["w"], value=A.Call(func="g", args=[arg], kwargs=[
                            A.Keyword(name="k", value=arg)]))],
                  params=[A.Param(name="p", default=arg)])
    for printed, parse in ((to_yaml(spec), parse_yaml), (to_dsl(spec), parse_dsl)):
        assert same(parse(printed, "<hypothesis>"), spec), printed


# ----------------------------------------------------------------------------- packaging


def test_importing_the_front_end_is_light():
    code = ("import sys, archc.frontend; "
            "bad = [m for m in ('torch', 'networkx') if m in sys.modules]; "
            "assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


def test_the_static_path_imports_only_what_it_needs():
    """`archc summary` of a DSL spec imports no torch, networkx, pydantic or PyYAML (issue 11:
    they were 60% of its start-up); a YAML spec brings in PyYAML only."""
    probe = ("import sys, archc.cli; archc.cli.main(['summary', {spec!r}, '-o', {out!r}]); "
             "print(' '.join(m for m in ('torch', 'networkx', 'pydantic', 'yaml') if m in sys.modules))")
    for spec, allowed in (("specs/resnet50.arch", ""), ("specs/cifar10_lenet.yaml", "yaml")):
        out = subprocess.run([sys.executable, "-c", probe.format(spec=spec, out=os.devnull)],
                             check=True, cwd=ROOT, capture_output=True, text=True).stdout.split()
        assert out == allowed.split(), (spec, out)
