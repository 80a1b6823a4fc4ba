"""The printers (AST -> DSL, AST -> YAML): every zoo and test spec round-trips through both,
the layout, YAML quoting, training outputs in both languages, and random expressions printed and
parsed back."""
from __future__ import annotations

import math
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import archc
from archc import ast as A
from archc.ast import without_locs
from archc.frontend import parse_dsl, parse_expr, parse_file, parse_yaml, to_dsl, to_yaml
from archc.frontend.dsl import KEYWORDS
from archc.frontend.printer import expr_to_dsl
from spec_helpers import TRAINING_OUTPUT_SPEC, load

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data" / "frontend"
ALL_FILES = sorted([*DATA.glob("*.arch"), *DATA.glob("*.yaml"),
                    *(ROOT / "specs").glob("**/*.arch"), *(ROOT / "specs").glob("**/*.yaml")])


def expr(text: str) -> A.Expr:
    return parse_expr(text, "<expr>", 1, 1)


def same(a, b) -> bool:
    return without_locs(a) == without_locs(b)


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
    # a long pipe fills its lines: as many steps as fit, the rest on lines starting with '->'
    assert ("name=conv1) -> batchnorm2d(name=bn1)\n"
            "      -> relu -> conv2d(out, 3, padding=1, bias=false, name=conv2) -> batchnorm2d(name=bn2)\n") in dsl
    assert "\n      else x -> sequential(" in dsl
    assert "output l3\n" in dsl
    yml = to_yaml(spec)
    assert "    params: {out: null, stride: 1}\n" in yml
    assert "\n        - relu\n" in yml
    assert "  l1: [h, {repeat: [2, {BasicBlock: 16}], name: layer1}]  # the loop index is `i`\n" in yml


def _fmt_both_ways(text: str) -> str:
    """The DSL text of `text`, checked to be a fixed point, to mean the same and to survive YAML."""
    spec = parse_dsl(text, "t.arch")
    once = to_dsl(spec)
    assert to_dsl(parse_dsl(once, "t.arch")) == once
    assert same(parse_dsl(once, "t.arch"), spec)
    assert same(parse_yaml(to_yaml(spec), "t.yaml"), spec)
    return once


def test_long_pipes_are_packed_into_as_few_lines_as_fit():
    steps = " -> ".join(f"conv2d({8 * n}, 3, padding=1, name=conv{n}) -> relu" for n in range(1, 7))
    out = _fmt_both_ways(f"input x: [1, 3, 32, 32]\ny = x -> {steps}  # the end\noutput y\n")
    lines = out.splitlines()[2:-2]
    assert lines == [
        "y = x -> conv2d(8, 3, padding=1, name=conv1) -> relu -> conv2d(16, 3, padding=1, name=conv2) -> relu",
        "    -> conv2d(24, 3, padding=1, name=conv3) -> relu -> conv2d(32, 3, padding=1, name=conv4) -> relu",
        "    -> conv2d(40, 3, padding=1, name=conv5) -> relu -> conv2d(48, 3, padding=1, name=conv6) -> relu"
        "  # the end",
    ]


def test_a_step_too_long_for_a_line_breaks_in_its_brackets_and_the_next_starts_a_line():
    long_call = "conv2d(" + ", ".join(f"{n}" for n in range(30)) + ", name=wide)"
    text = (f"block B()(x) {{\n  y = x -> relu -> {long_call} -> relu -> flatten\n"
            f"  z = [y, x -> relu -> {long_call} -> relu -> flatten]\n  return z\n}}\n")
    out = _fmt_both_ways(text)
    assert "  y = x -> relu\n      -> conv2d(\n" in out
    assert "      ) -> relu -> flatten\n" not in out  # a bracket's close ends its step
    assert "\n      )\n      -> relu -> flatten\n" in out
    # inside brackets too, the last step carries the item's ','
    assert "\n          )\n          -> relu -> flatten,\n  ]\n" in out
    assert all(len(line) <= 100 for line in out.splitlines())


def test_yaml_prints_calls_of_built_in_functions_as_expressions_not_layers():
    """`make_divisible(...)` is a number, not a layer: YAML shows it as the expression, not as a
    call mapping (`{make_divisible: [...]}` reads like a layer)."""
    text = ("param c = 32\ninput x: [1, 3, 8, 8]\n"
            "block B(c, i)(x) {\n  mid = make_divisible(c * 0.25, 8)\n"
            "  return x -> conv2d(max(mid, 8), 3, name=str(i)) -> linear(int(round(c * 1.5)), bias=true)\n}\n"
            "output y = x -> B(make_divisible(c, 8), 0) -> conv2d(min(c, 16), 1)\n")
    spec = parse_dsl(text, "t.arch")
    yml = to_yaml(spec)
    assert "      mid: make_divisible(c * 0.25, 8)\n" in yml
    assert '{conv2d: ["max(mid, 8)", 3], name: str(i)}' in yml  # quoted where flow style needs it
    assert "{linear: int(round(c * 1.5)), bias: true}" in yml
    assert '{B: ["make_divisible(c, 8)", 0]}' in yml and '{conv2d: ["min(c, 16)", 1]}' in yml
    assert not any(f"{{{name}:" in yml for name in ("make_divisible", "max", "min", "int", "round", "str"))
    assert same(parse_yaml(yml, "t.yaml"), spec)
    assert to_yaml(parse_yaml(yml, "t.yaml")) == yml
    assert to_dsl(parse_yaml(yml, "t.yaml")) == to_dsl(spec)


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
        st.builds(_listcomp, children, st.lists(st.tuples(st.integers(1, 2), children,
                                                          st.lists(children, max_size=2)),
                                                min_size=1, max_size=3)),
    )


def _listcomp(element, clauses):
    """A comprehension with one or more `for` clauses, each with its own target names."""
    return A.ListComp(element=element, clauses=[
        A.CompFor(targets=[f"t{k}_{j}" for j in range(n)], iterable=it, conditions=conds)
        for k, (n, it, conds) in enumerate(clauses)])


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


def test_comprehensions_with_several_fors_print_and_parse_back():
    for text in ("[c for r, c in rows for j in range(r)]",
                 "[[i, j] for i in range(3) if i > 0 if i < 9 for j in range(i) if j != 1]",
                 "[a for a in [b for b in x for c in y] for d in z]"):
        e = expr(text)
        assert expr_to_dsl(e) == text
        assert same(expr(expr_to_dsl(e)), e)
    one = expr("[n for t, c, n, s in setting if t > 1]")
    assert len(one.clauses) == 1 and one.clauses[0].targets == ["t", "c", "n", "s"]
    assert len(one.clauses[0].conditions) == 1


# ----------------------------------------------------------------------------- training outputs


AUX = TRAINING_OUTPUT_SPEC


def test_training_outputs_in_both_syntaxes():
    from archc.ast import without_locs
    from archc.frontend.printer import to_dsl, to_yaml
    model = load(AUX)
    yaml_text = to_yaml(model.spec)
    assert "training_outputs:" in yaml_text
    again = archc.loads(yaml_text, "yaml")
    assert without_locs(again.spec) == without_locs(model.spec)
    assert "training output aux" in to_dsl(model.spec)
