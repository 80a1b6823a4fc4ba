"""The YAML front end: the same AST as the DSL, exact locations (columns inside quoted and
multi-line scalars), every error collected with a code and a hint, the alias expansion limit."""
from __future__ import annotations

from pathlib import Path

import pytest

from archc import ast as A
from archc.ast import without_locs
from archc.errors import SpecErrors
from archc.frontend import parse_file, parse_yaml

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data" / "frontend"
EXAMPLES = ["resnet_small", "unet_small"]


def errors_of(fn, *args) -> list:
    with pytest.raises(SpecErrors) as info:
        fn(*args)
    return info.value.errors


def same(a, b) -> bool:
    return without_locs(a) == without_locs(b)


# ----------------------------------------------------------------------------- both languages


@pytest.mark.parametrize("name", EXAMPLES)
def test_yaml_and_dsl_versions_are_the_same_program(name):
    dsl = parse_file(DATA / f"{name}.arch")
    yml = parse_file(DATA / f"{name}.yaml")
    assert dsl.blocks and dsl.body and dsl.outputs
    assert same(dsl, yml)


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


def test_multiline_yaml_scalar_maps_to_its_start():
    text = "body:\n  y: x if a\n    else z\n"
    spec = parse_yaml(text, "m.yaml")
    value = spec.body[0].value
    assert isinstance(value, A.IfExpr)
    assert (value.orelse.loc.line, value.orelse.loc.col) == (2, 6)


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
