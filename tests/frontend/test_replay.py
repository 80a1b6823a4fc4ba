"""The parser's replays (archc/frontend/replay.py: a segment of tokens compiled into the builder
calls the engine's loop makes on it) against the loop itself: every `.arch` file of the
repository and broken variants of them parse to the same AST, builder errors, statement lines
and syntax errors with every segment replayed (compiled at its first sighting) as with none."""
from __future__ import annotations

import random
from pathlib import Path

import pytest
from parse_outcome import parse_outcome

from archc.frontend import dsl, engine
from archc.frontend.engine import Engine

ROOT = Path(__file__).resolve().parents[2]
SOURCES = sorted(p for p in ROOT.glob("**/*.arch") if ".venv" not in p.parts and p.stat().st_size < 200_000)


@pytest.fixture
def fresh_engine(monkeypatch):
    """An engine of its own (no replays compiled yet), made the parser's."""
    def use(replay_after: int, max_replays: int = engine.MAX_REPLAYS) -> Engine:
        monkeypatch.setattr(engine, "REPLAY_AFTER", replay_after)
        monkeypatch.setattr(engine, "MAX_REPLAYS", max_replays)
        fresh = Engine(dsl._parser(), dsl._Builder, dsl._POSTLEX.text_of, dsl._CONTINUE_AFTER, dsl._CONTINUE_BEFORE)
        monkeypatch.setattr(dsl, "_ENGINE", fresh)
        return fresh
    return use


def _texts() -> list[str]:
    rng = random.Random(11)
    texts = []
    for path in SOURCES:
        text = path.read_text(encoding="utf-8")
        texts.append(text)
        for _ in range(3):
            at = rng.randrange(len(text) + 1)
            texts.append(text[:at] + rng.choice(["(", ")", "=", "\n", "->", "return", "}", "$", "+"]) + text[at:])
    return texts


def test_replayed_segments_build_what_the_loop_builds(fresh_engine):
    texts = _texts()
    fresh_engine(replay_after=1, max_replays=0)  # the loop alone
    looped = [parse_outcome(t) for t in texts]
    replaying = fresh_engine(replay_after=1)
    assert [parse_outcome(t) for t in texts] == looped
    assert len(replaying.replays) > 100


def test_a_flat_spec_is_replayed_a_few_kinds_of_statement(fresh_engine):
    replaying = fresh_engine(replay_after=3)
    text = "x = a\n" + "".join(f"h{i} = x -> conv2d({i}, 3, bias=false)\nr{i} = h{i} + x\n" for i in range(50))
    spec = dsl.parse_dsl(text, "t.arch")
    assert len(spec.body) == 101
    assert sum(1 for replay in replaying.replays.values() if replay is not None) == 2  # a conv, an add
