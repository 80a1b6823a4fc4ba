"""The catalogue's E-LIMIT-COMMAND-TIME example is what docs/errors.md quotes, so it must print the
same every time. With ARCHC_MAX_SECONDS=0.001 a check of its small spec, once the same process had
parsed and elaborated that text (the fix, other examples), finished inside the millisecond and
printed "ok" (docs/errors.md then read differently under load and in the catalogue tests)."""
from __future__ import annotations

import functools

from archc.cli import main
from archc.codes import lookup
from archc.codes.runner import run as run_entry

run = functools.partial(run_entry, cli=main)


def test_the_example_times_out_every_time_even_warm() -> None:
    entry = lookup("E-LIMIT-COMMAND-TIME")
    assert run(entry, "fix")[0] == 0  # the spec parsed and elaborated: whatever caches, warm
    outcomes = {run(entry) for _ in range(50)}
    assert len(outcomes) == 1, outcomes
    status, printed = outcomes.pop()
    assert status == 1 and "error[E-LIMIT-COMMAND-TIME]" in printed and "ok (" not in printed
