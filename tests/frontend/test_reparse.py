"""archc.frontend.incremental.reparse against parse_dsl: after random edits of every spec of
the zoo and of a 5,000-statement flat spec, the same AST (locations and comments included) or
the same errors (message, place, hint, code, fixes), each edit reparsed from the last good one."""
from __future__ import annotations

import random
import sys
from pathlib import Path

import pytest

from archc.errors import SpecErrors
from archc.frontend import incremental, parse_dsl

ROOT = Path(__file__).resolve().parents[2]
ZOO = sorted(p for p in ROOT.glob("specs/**/*.arch"))
SNIPPETS = ["=", "(", ")", "]", "[", "->", ",", "if", "{", "}", "return", "model m", "1", "'s'", "\n",
            "unused", "# c", "\n\n", "\\\n", " else ", "block", "+ 1", "x", "y = z\n", "\n# note\n",
            "  ", "relu", "-> relu", "\nmodel q\n", "\ninput a: [1]\n", "output o = x\n", "\nparam k = 3\n",
            "\nblock B()(x) {\n  return x\n}\n", "import \"x.arch\"\n", "\"", "f'{"]


def _result(parse) -> tuple:
    try:
        return "ok", parse()
    except SpecErrors as e:
        return "errors", [(x.message, x.loc, x.hint, x.code, x.fixes, x.related, x.notes) for x in e.errors]


def _edit(text: str, rng: random.Random) -> str:
    """`text` with characters deleted, a snippet inserted, or a line doubled or deleted."""
    lines = text.split("\n")
    at = rng.randrange(len(text) + 1)
    how = rng.randrange(4)
    if how == 0:
        return text[:at] + text[min(len(text), at + rng.randrange(1, 10)):]
    if how == 1:
        return text[:at] + rng.choice(SNIPPETS) + text[at:]
    line = rng.randrange(len(lines))
    if how == 2:
        lines.insert(line, lines[rng.randrange(len(lines))])
    else:
        del lines[line]
    return "\n".join(lines)


def _check_edits(text: str, rng: random.Random, edits: int, file: str = "t.arch") -> int:
    """Edits `text` `edits` times, each reparsed from the last that parsed; how many parsed."""
    spec = incremental.parse(text, file)
    assert spec == parse_dsl(text, file)
    parsed = 0
    for _ in range(edits):
        new = _edit(text, rng)
        expected = _result(lambda: parse_dsl(new, file))
        got = _result(lambda: incremental.reparse(spec, text, new, file))
        assert got == expected, (text, new)
        if got[0] == "ok":
            text, spec, parsed = new, got[1], parsed + 1
    return parsed


@pytest.mark.parametrize("path", ZOO, ids=lambda p: str(p.relative_to(ROOT)))
def test_random_edits_of_the_zoo(path):
    _check_edits(path.read_text(encoding="utf-8"), random.Random(path.name), 12)


def _flat(statements: int) -> str:
    sys.path.insert(0, str(ROOT / "tools"))
    from synthetic_specs import generate
    return generate("flat", statements)


def test_random_edits_of_a_flat_spec_of_5000_statements():
    assert _check_edits(_flat(4990), random.Random(5000), 40) > 10


def test_an_edit_reparses_only_the_statements_around_it(monkeypatch):
    text = _flat(990)
    spec = incremental.parse(text, "f.arch")
    lines = text.split("\n")
    lines[-5] = lines[-5] + " -> relu"
    parsed: list[str] = []
    statements = incremental.parse_statements
    monkeypatch.setattr(incremental, "parse_statements", lambda t, *a: parsed.append(t) or statements(t, *a))
    new = "\n".join(lines)
    assert incremental.reparse(spec, text, new, "f.arch") == parse_dsl(new, "f.arch")
    assert len(parsed) == 1 and parsed[0].count("\n") == 3  # the line, and one statement on each side


@pytest.mark.parametrize("before, after", [
    ("x = a\ny = b\n", "# first comment\nx = a\ny = b\n"),  # blank lines become trivia everywhere
    ("# c\nx = a\n\ny = b\n", "x = a\n\ny = b\n"),  # the last comment removed
    ("model m\nx = a\ny = b\n", "model m\nx = a\nmodel n\ny = b\n"),  # named twice
    ("model m\nx = a\ny = b\n", "x = a\ny = b\nmodel n\n"),  # the model statement moved
    ("x = a\ny = b\nz = c\nw = d\n", "x = a\ny = f(b,\nz = c\nw = d)\n"),  # a bracket left open
    ("x = a\ny = b\nz = c\nw = d\n", "x = a\ny = f(b,\nz = c\nw = d\n"),  # never closed
    ("x = a\ny = b\nz = c\n", "x = a\ny = b\n+ 1\nz = c\n"),  # a line joining the one above
    ("x = a\ny = b +\n  c\nz = d\n", "x = a\ny = b\nw = c\nz = d\n"),  # no longer continued
    ("block B()(x) {\n  y = x\n  return y\n}\nz = c\n", "block B()(x) {\n  y = x -> relu\n  return y\n}\nz = c\n"),
    ("x = a\r\ny = b\r\nz = c\r\n", "x = a\r\ny = b -> relu\r\nz = c\r\n"),
    ("x = a\ny = b\nz = c\n", "x = a\ny = b\x0c\nz = c\n"),  # a line break only str.splitlines sees
    ("x = a\x0c\ny = b\n" + "".join(f"f{i} = x\n" for i in range(6)) + "z = d  # c\nw = e\n",
     "x = a\ny = b\n" + "".join(f"f{i} = x\n" for i in range(6)) + "z = d  # c\nw = e\n"),  # ... before, not after
    ("x = a\ny = b\n", "x = a\ny = b\n"),
    ("x = a\ny = b\n# end\n", "x = a\ny = b\n# end\n\n# more\n"),
    ("", "x = a\n"),
])
def test_edits_that_change_more_than_their_lines(before, after):
    spec = incremental.parse(before, "t.arch")
    assert _result(lambda: incremental.reparse(spec, before, after, "t.arch")) == \
        _result(lambda: parse_dsl(after, "t.arch"))


def test_what_it_has_not_parsed_is_parsed_whole():
    text = "x = a\ny = b\n"
    spec = parse_dsl(text, "t.arch")  # not through incremental: nothing remembered
    assert incremental.reparse(spec, text, "x = a\ny = c\n", "t.arch") == parse_dsl("x = a\ny = c\n", "t.arch")
    spec = incremental.parse(text, "t.arch")
    assert incremental.reparse(spec, text, "x = a\ny = c\n", "u.arch") == parse_dsl("x = a\ny = c\n", "u.arch")
