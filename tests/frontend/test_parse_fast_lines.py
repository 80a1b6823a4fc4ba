"""The engine's line lexers (archc/frontend/engine.py `LineLexer`: a one-line statement of types
met often, read by one regex match) against the engine's lexer loop: every `.arch` file of the
repository, broken variants of them and lines made to look alike but be cut otherwise give the
same token streams and the same parses with every line lexer compiled at once as with none."""
from __future__ import annotations

import random
from pathlib import Path

import pytest
from parse_outcome import parse_outcome

from archc.frontend import dsl, engine
from archc.frontend.engine import Engine, LineLexer, Stuck

ROOT = Path(__file__).resolve().parents[2]
SOURCES = sorted(p for p in ROOT.glob("**/*.arch") if ".venv" not in p.parts and p.stat().st_size < 200_000)

# lines that line lexers of the lines around them must not read as those: continued, retyped,
# bracketed, commented, cut by a brace, at the end of the text
LOOKALIKES = """\
a = b -> relu
c = d -> relu
e = f -> relu
g = h -> relu
  -> relu
i = j -> relu # a comment
k = unused -> relu
unused l = m -> relu
n = o -> if
p = q -> relu +
  r
s = t -> ff"x"
u = v -> f(1.5, 2, 3e4, 1_0, .5, x=true, y=True)
w = x -> f(1, 2, 3, 4, 5, x=false, y=True)
w = x -> f(1, 2, 3, 4, 5, x=false, y=True)
y = z -> f(1, 2, 3, 4, 5, x=false, y=True
  )
y = z -> f(1, 2, 3, 4, 5, x=false, y=True)\\
  -> relu
aa = bb -> relu\r
cc = dd -> relu
block B()(x) { y = x -> relu
  return y }
ee = ff -> relu

gg = hh -> relu
\tii = jj -> relu
kk = ll -> relu
   \x0c
mm = nn -> relu
oo = pp -> relu"""


@pytest.fixture
def fresh_engine(monkeypatch):
    """An engine of its own made the parser's: line lexers compiled at a statement's first
    sighting (or never)."""
    def use(line_after: int) -> Engine:
        monkeypatch.setattr(engine, "LINE_AFTER", line_after)
        monkeypatch.setattr(engine, "LEARN_AFTER", 0)
        fresh = Engine(dsl._parser(), dsl._Builder, dsl._POSTLEX.text_of, dsl._CONTINUE_AFTER, dsl._CONTINUE_BEFORE)
        monkeypatch.setattr(dsl, "_ENGINE", fresh)
        return fresh
    return use


def _tokens(text: str) -> list:
    out: list = []
    try:
        for tokens, types in dsl._engine().segments(text, False):
            assert types == tuple(t[4] for t in tokens)
            out.append(list(tokens))
    except Stuck as stuck:
        out.append(("stuck", stuck.char_at))
    return out


def _texts() -> list[str]:
    rng = random.Random(23)
    texts = [LOOKALIKES, LOOKALIKES + "\n", LOOKALIKES + "\n\n# end\n", LOOKALIKES.replace("\n", "\n\n")]
    for path in SOURCES[::12]:  # (a line lexer costs a millisecond or two to compile)
        text = path.read_text(encoding="utf-8")
        texts.append(text)
        for _ in range(2):
            at = rng.randrange(len(text) + 1)
            texts.append(text[:at] + rng.choice(["(", ")", "\n", "->", "unused ", "}", "$", "#", "\\\n", "f", "."])
                         + text[at:])
    return texts


def _counting_reads(fast: Engine) -> list[int]:
    """[the number of lines `fast`'s line lexers read from now on] (its `_next_line`'s answers)."""
    reads = [0]
    next_line = fast._next_line

    def counted(*args):
        read = next_line(*args)
        reads[0] += read is not None
        return read
    fast._next_line = counted
    return reads


def test_lines_read_by_line_lexers_are_the_loops(fresh_engine):
    texts = _texts()
    fresh_engine(line_after=10**9)  # the loop alone
    looped = [(_tokens(t), parse_outcome(t)) for t in texts]
    fast = fresh_engine(line_after=2)
    reads = _counting_reads(fast)
    assert [(_tokens(t), parse_outcome(t)) for t in texts] == looped
    assert reads[0] > 250 and sum(lexer.read is not None for lexer in fast.line_lexers.values()) > 60


def test_a_flat_spec_is_read_by_line_lexers(fresh_engine):
    fast = fresh_engine(line_after=3)
    lines = [f"h{i} = h{i - 1} -> conv2d(16, 3, padding=1, bias=false)\nh{i}b = h{i} + h{i - 1}" for i in range(1, 300)]
    text = "input h0: [1, 16, 8, 8]\n" + "\n".join(lines) + "\noutput y = h299b\n"
    reads = _counting_reads(fast)
    spec = dsl.parse_dsl(text, "flat.arch")
    assert len(spec.body) == 598 and spec.body[-1].loc.line == 599
    assert reads[0] > 590  # all but the first few of each kind, and the last (its newline is the text's end)


def _compiled(types: tuple[str, ...]) -> bool:
    lexer = LineLexer(types)
    lexer.compile(dsl._engine())
    return lexer.read is not None


def test_statements_whose_lines_are_not_read_alone_get_no_line_lexer():
    assert _compiled(("NAME", "EQUAL", "NAME", "_NL"))
    for types in [("NAME", "EQUAL", "NAME"),  # no newline
                  ("NAME", "EQUAL", "LPAR", "NAME", "_NL"),  # a bracket left open
                  ("UNUSED", "NAME", "EQUAL", "NAME", "_NL"),  # a word retyped by the newline rules
                  ("__ANON_0", "NAME", "_NL"),  # `->` first: continues the line before
                  ("NAME", "EQUAL", "NAME", "PLUS", "_NL"),  # `+` last: continued on the next
                  ("NAME", "EQUAL", "NAME", "RBRACE", "_NL")]:  # a brace cuts the line
        assert not _compiled(types), types
