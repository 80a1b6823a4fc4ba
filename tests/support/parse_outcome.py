"""What a parse of `.arch` text gives, everything compared: its value, the builder's errors and
comment spans, or its errors (message, place, hint, code, fixes). Shared by the tests that
compare the engine's faster paths (replays, line lexers) with its loop."""
from __future__ import annotations

from archc.errors import SpecErrors
from archc.frontend import dsl


def parse_outcome(text: str) -> tuple:
    builder = dsl._Builder("t.arch")
    try:
        value = dsl._parse(text, "start", builder)
    except SpecErrors as e:
        return "errors", [(x.message, x.loc, x.hint, x.code, x.fixes) for x in e.errors]
    return value, builder.errors, builder.spans.ends, builder.spans.returns, builder.spans.model
