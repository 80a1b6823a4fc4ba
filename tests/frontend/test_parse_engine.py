"""The parser's engine (archc/frontend/engine.py) against lark's own parse of the same grammar:
the same tokens (lark's lexer and dsl._PostLex), the same AST with the same places and comments,
the same builder errors, and the same syntax errors, explained the same way (message, place,
hint, code, fixes), on every `.arch` file of the repository and on broken variants of them
(a token deleted, a token inserted, the text cut short, a stray character)."""
from __future__ import annotations

import random
import sys
from pathlib import Path

import pytest

from archc.errors import SpecErrors
from archc.frontend import dsl, parse_yaml
from archc.frontend.engine import Engine, Unsupported

ROOT = Path(__file__).resolve().parents[2]
SOURCES = sorted(p for p in ROOT.glob("**/*.arch")
                 if ".venv" not in p.parts and p.stat().st_size < 200_000)
TRICKY = [
    "",
    "\n\n# only a comment\n",
    "unused = x -> relu\nunused f = unused -> relu\nx = [unused]\n",
    "block B()(x) {\n  unused u = x -> relu\n  return x }\n",
    "block B(k=3,)(x,) { return x }\ny = a +\n  b\n  -> relu\nz = a \\\n  + b\n",
    ('model "m" returns dict\nimport "a.arch"\nparam k = 2\ninput x: [N, 3, H, W,]\n'
     'training output aux = x\noutput "0" = x[:, 1:-1:2, ::2][0].shape\n'),
    'y = f"a{k}-{{b}}" + "\\x41\\u00e9" + \'q\' if not a and b or c else -2 ** -1.5e3 // 4 % 3\n',
    "y = [i * j for i, j in zip(a, b) if i > 0 if j != 1]\nz = x -> conv2d(64, 3, padding=1)\n",
    "x = 1\r\ny = 2\n",
]


def _lark(start: str, text: str):
    builder = dsl._Builder("t.arch")
    try:
        value = dsl._parse_with_lark(text, start, builder)
    except dsl.UnexpectedInput:
        return None, builder
    return value, builder


def _engine(start: str, text: str):
    builder = dsl._Builder("t.arch")
    try:
        value = dsl._engine().parse(text, start, builder, start == "expr_only")
    except dsl.Stuck:
        return None, builder
    return value, builder


def _lark_tokens(text: str, expr_mode: bool = False) -> list[tuple]:
    mode = dsl._EXPR_MODE.set(expr_mode)
    try:
        return [(t.line, t.column, t.end_line, t.end_column, t.type, t.value) for t in dsl._parser().lex(text)]
    finally:
        dsl._EXPR_MODE.reset(mode)


def _engine_tokens(text: str, expr_mode: bool = False) -> list[tuple]:
    return [t for t in dsl._engine().tokens(text, expr_mode) if t[4] != "$END"]


def test_the_engine_runs_on_this_lark():
    assert dsl._engine() is not None, "archc/frontend/engine.py cannot read this lark's tables"


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_same_tokens_and_ast_as_lark(path):
    text = path.read_text(encoding="utf-8")
    assert _engine_tokens(text) == _lark_tokens(text)
    value, builder = _engine("start", text)
    expected, reference = _lark("start", text)
    assert value == expected
    assert builder.errors == reference.errors
    assert builder.spans.ends == reference.spans.ends and builder.spans.returns == reference.spans.returns
    assert builder.spans.model == reference.spans.model


@pytest.mark.parametrize("text", TRICKY)
def test_same_as_lark_on_tricky_texts(text):
    assert _engine_tokens(text) == _lark_tokens(text)
    assert _engine("start", text)[0] == _lark("start", text)[0]


@pytest.mark.parametrize("text", ["a +\n b", "x -> conv2d(\n 3)", "f'{a}' if b else [c, d][0]", "-1", "x.y[1:2]"])
def test_same_as_lark_on_expressions(text):
    assert _engine_tokens(text, True) == _lark_tokens(text, True)
    assert _engine("expr_only", text)[0] == _lark("expr_only", text)[0]


def _errors(text: str, start: str = "start") -> list[tuple]:
    try:
        if start == "start":
            dsl.parse_dsl(text, "t.arch")
        else:
            dsl.parse_expr(text, "t.yaml", 3, 7)
    except SpecErrors as e:
        return [(x.message, x.loc, x.hint, x.code, x.fixes, x.related) for x in e.errors]
    return []


def _broken(text: str, rng: random.Random, count: int) -> list[str]:
    """`text` with one thing wrong: a token deleted or doubled, a word or character inserted,
    the text cut short."""
    tokens = [t for t in _lark_tokens(text) if t[5]]
    lines = text.split("\n")

    def offset(line: int, column: int) -> int:
        return sum(len(x) + 1 for x in lines[:line - 1]) + column - 1

    out = []
    for _ in range(count):
        tok = rng.choice(tokens)
        start = offset(tok[0], tok[1])
        end = start + len(tok[5])
        how = rng.randrange(5)
        if how == 0:
            out.append(text[:start] + text[end:])
        elif how == 1:
            out.append(text[:start] + tok[5] + " " + text[start:])
        elif how == 2:
            out.append(text[:start] + rng.choice(["=", "(", ")", "]", "->", ",", "if", "{", "}", "return",
                                                  "model", "1", "'s'", "\n", "unused"]) + " " + text[start:])
        elif how == 3:
            out.append(text[:end])
        else:
            out.append(text[:start] + rng.choice(";$?!`&") + text[start:])
    return out


BROKEN_FROM = ["specs/resnet18.arch", "specs/mobilenet_v2.arch", "specs/unet_original.arch",
               "specs/timm/efficientnet_b0.arch", "specs/timm/blocks/densenet.arch"]


def test_same_syntax_errors_as_lark(monkeypatch):
    rng = random.Random(23)
    texts = list(TRICKY)
    for name in BROKEN_FROM:
        texts += _broken((ROOT / name).read_text(encoding="utf-8"), rng, 40)
    assert len(texts) > 100
    second_parses = []
    lark_failure = dsl._lark_failure
    monkeypatch.setattr(dsl, "_lark_failure", lambda *a: second_parses.append(a) or lark_failure(*a))
    fast = [_errors(t) for t in texts]
    assert not second_parses  # each error rebuilt from the engine's state, not found by parsing again
    monkeypatch.setattr(dsl, "_engine", lambda: None)
    slow = [_errors(t) for t in texts]
    different = [(t, a, b) for t, a, b in zip(texts, fast, slow) if a != b]
    assert not different, different[:3]
    assert sum(1 for e in fast if e) > 80  # most variants are broken


def test_same_errors_in_yaml_expressions(monkeypatch):
    texts = ["a +", "(a", "a b", "f(x=1, 2)", "x -> 3", "a ; b", "[1, 2", "'abc", "f'{'", "1" * 1200, "a\n+ b"]
    fast = [_errors(t, "expr_only") for t in texts]
    monkeypatch.setattr(dsl, "_engine", lambda: None)
    assert fast == [_errors(t, "expr_only") for t in texts]
    assert all(fast[:-1]) and not fast[-1]


def test_yaml_specs_parse_the_same_through_lark(monkeypatch):
    paths = sorted(ROOT.glob("specs/*.yaml"))[:6]
    fast = [parse_yaml(p.read_text(encoding="utf-8"), str(p)) for p in paths]
    monkeypatch.setattr(dsl, "_engine", lambda: None)
    assert fast == [parse_yaml(p.read_text(encoding="utf-8"), str(p)) for p in paths]


def test_a_lark_laid_out_otherwise_is_parsed_by_lark_itself():
    class NotLark:
        parser = None
    with pytest.raises(Unsupported):
        Engine(NotLark(), dsl._Builder, {}, frozenset(), frozenset())  # type: ignore[arg-type]


def test_parsing_costs_a_few_hundred_calls_a_statement():
    # deterministic (function calls, as tests/elaboration/test_linear_scaling.py counts them):
    # the engine makes about 200 a flat statement, lark's tree and transformer about 1,350
    sys.path.insert(0, str(ROOT / "tools"))
    from synthetic_specs import generate
    text = generate("flat", 2000)
    dsl.parse_dsl(text, "flat.arch")
    calls = 0

    def count(frame, event, arg):
        nonlocal calls
        if event in ("call", "c_call"):
            calls += 1
    sys.setprofile(count)
    try:
        dsl.parse_dsl(text, "flat.arch")
    finally:
        sys.setprofile(None)
    assert calls / 2000 < 300, calls / 2000
