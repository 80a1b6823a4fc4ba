"""fmt keeps the program (issue 24), as a property over generated specs: the DSL and YAML text that
`archc fmt` prints parse back to the same spec (ASTs without locations equal), in both languages and
translated both ways, and printing again changes nothing. The generators cover what once broke:
f-strings whose braces hold strings with quotes, backslashes and braces (`f"{'x' + 'y'}"` was
printed as `f"{"x" + "y"}"`), long unpacking (a YAML key over PyYAML's 1,024 characters was
unreadable) and training outputs among the others in any order (YAML moved them after, changing
the state_dict order)."""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import archc
from archc.ast import without_locs
from archc.frontend import parse_dsl, parse_yaml, to_dsl, to_yaml

# characters that are hard for a printer: both quotes, backslash, braces, newline, tab, non-ASCII
TEXT = st.text(alphabet=st.sampled_from(list("ab Z09_'\"\\{}\n\t.-é∑") + ["\U0001f600"]), max_size=8)


def _escaped(ch: str) -> str:
    return ch if ch.isascii() and (ch.isalnum() or ch in " _.-") else f"\\u{ord(ch):04x}" if ord(ch) < 0x10000 \
        else f"\\U{ord(ch):08x}"


def inner_string(value: str) -> str:
    """A string literal for inside an f-string's braces, written independently of the printer."""
    return "'" + "".join(_escaped(c) for c in value) + "'"


def outer_literal(value: str) -> str:
    return "".join("{{" if c == "{" else "}}" if c == "}" else _escaped(c) for c in value)


@st.composite
def fstrings(draw, earlier: list[str]) -> str:
    parts = []
    for _ in range(draw(st.integers(1, 3))):
        if draw(st.booleans()):
            parts.append(outer_literal(draw(TEXT)))
        kind = draw(st.sampled_from(["str", "concat", "name", "cond"] if earlier else ["str", "concat"]))
        if kind == "str":
            expr = inner_string(draw(TEXT))
        elif kind == "concat":
            expr = " + ".join(inner_string(draw(TEXT)) for _ in range(draw(st.integers(2, 3))))
        elif kind == "name":
            expr = draw(st.sampled_from(earlier))
        else:
            expr = f"{inner_string(draw(TEXT))} if {draw(st.sampled_from(earlier))} == '' else {draw(st.sampled_from(earlier))}"
        parts.append("{" + expr + "}")
    return 'f"' + "".join(parts) + '"'


@st.composite
def specs(draw) -> str:
    n = draw(st.sampled_from([1, 2, 3, 7, 150, 260]))  # 150 and 260 targets: keys past 1,024 characters
    lines = ["model M", f"input x: [1, {n}, 2, 2]"]
    names: list[str] = []
    for i in range(draw(st.integers(0, 3))):
        lines.append(f"s{i} = {draw(fstrings(names))}")
        names.append(f"s{i}")
    targets = [f"a{i}" for i in range(n)]
    lines.append(", ".join(targets) + f" = x -> chunk({n})")
    for k, training in enumerate(draw(st.lists(st.booleans(), min_size=1, max_size=5))):
        value = draw(st.sampled_from([f"a{k % n}", f"a{k % n} -> conv2d(2, 1)",
                                      f"a{k % n} -> relu -> conv2d({k + 1}, 1, bias=false)"]))
        lines.append(f"{'training output' if training else 'output'} o{k} = {value}")
    return "\n".join(lines) + "\n"


def same(node):
    """A spec without locations, an f-string's text parts merged: `f"{'a'}b"` reads as the text
    "ab" either way (the parser makes a string part of both), so the printer writes it as text."""
    if isinstance(node, list):
        return [same(n) for n in node]
    if not isinstance(node, dict):
        return node
    node = {k: same(v) for k, v in node.items()}
    if node.get("_type") == "FString":
        parts: list = []
        for p in node["parts"]:
            if p.get("_type") == "Str" and parts and parts[-1].get("_type") == "Str":
                parts[-1] = {**parts[-1], "value": parts[-1]["value"] + p["value"]}
            else:
                parts.append(p)
        node["parts"] = [p for p in parts if p.get("_type") != "Str" or p["value"]] or parts[:1]
    return node


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(specs())
def test_fmt_output_parses_back_to_the_same_spec_in_both_languages(text):
    spec = same(without_locs(parse_dsl(text)))
    dsl = to_dsl(parse_dsl(text))
    yaml_text = to_yaml(parse_dsl(text))
    assert same(without_locs(parse_dsl(dsl))) == spec
    assert same(without_locs(parse_yaml(yaml_text))) == spec
    assert to_dsl(parse_dsl(dsl)) == dsl  # a fixed point
    assert to_yaml(parse_yaml(yaml_text)) == yaml_text
    back = to_dsl(parse_yaml(yaml_text))  # YAML -> DSL -> YAML
    assert same(without_locs(parse_dsl(back))) == spec
    assert to_yaml(parse_dsl(back)) == yaml_text
    assert [o.training for o in parse_yaml(yaml_text).outputs] == [o.training for o in parse_dsl(text).outputs]


@pytest.mark.parametrize("order", [(True, False), (False, True, False), (True, False, True), (False, True)])
def test_training_outputs_keep_their_place_in_yaml_and_so_the_state_dict_order(order):
    lines = ["input x: [1, 3, 4, 4]", "h = x -> conv2d(4, 3, padding=1)"]
    lines += [f"{'training output' if t else 'output'} o{k} = h -> conv2d({k + 1}, 1)" for k, t in enumerate(order)]
    text = "\n".join(lines) + "\n"
    yaml_text = to_yaml(parse_dsl(text))
    keys = list(archc.build(archc.loads(text)).state_dict())
    assert list(archc.build(archc.loads(yaml_text, "yaml")).state_dict()) == keys
    assert list(archc.build(archc.loads(to_dsl(parse_yaml(yaml_text)))).state_dict()) == keys


def test_nested_quotes_in_an_fstring_print_as_archc_reads_them():
    text = "s = f\"{'x' + 'y'}\"\n"
    assert to_dsl(parse_dsl(text)) == text
    tricky = "s = f\"a{'\\x7d\\x7b' + 'q\\'\\\"z\\\\'}b{{c}}\"\n"
    assert without_locs(parse_dsl(to_dsl(parse_dsl(tricky)))) == without_locs(parse_dsl(tricky))


def test_a_long_unpacking_goes_to_yaml_as_an_explicit_key():
    text = "input x: [1, 200, 4, 4]\n" + ", ".join(f"a{i}" for i in range(200)) + " = x -> chunk(200)\noutput y = a0 + a199\n"
    yaml_text = to_yaml(parse_dsl(text))
    assert "\n  ? " in yaml_text
    assert without_locs(parse_yaml(yaml_text)) == without_locs(parse_dsl(text))
