"""Resource limits a user may raise. Each stops a typo or a hostile spec (`repeat(10 ** 9, …)`,
a YAML alias bomb, a block that calls itself) with a clear error long before it could hang or
exhaust memory, and sits far above any real network. Each is read from its environment variable
when a spec is processed (`ARCHC_MAX_REPEAT=50000 archc check big.arch`); docs/errors.md lists
them under E-LIMIT-* (a value that is not a positive number is E-LIMIT-ENV).
"""
from __future__ import annotations

import contextlib
import os
import signal
import threading
from dataclasses import dataclass
from typing import Any, Iterator

from archc.errors import MAX_ERRORS


@dataclass(frozen=True)
class Limit:
    env: str
    default: int | float
    what: str  # what it bounds, for messages and docs


LIMITS = {limit.env: limit for limit in (
    Limit("ARCHC_MAX_REPEAT", 10_000, "copies one repeat() makes"),
    # a real network has hundreds to a few thousand layers
    Limit("ARCHC_MAX_LAYERS", 100_000, "layers in a whole model"),
    # a block that uses itself, with a count that ends it: below where the deep thread's stack
    # (archc.deep) runs out at the default
    Limit("ARCHC_MAX_BLOCK_DEPTH", 1_000, "block instances nested in one another"),
    # values a YAML file expands to through its aliases (the "billion laughs" bomb)
    Limit("ARCHC_MAX_YAML_NODES", 200_000, "values a YAML spec expands to through its aliases"),
    # names and labels are tens of characters; doubling a string 33 times would make 64 GiB
    Limit("ARCHC_MAX_STRING", 1_000_000, "characters in one string a spec builds"),
    # a spec elaborates in well under a second; 100,000 layers in seconds
    Limit("ARCHC_MAX_EVAL_SECONDS", 60.0, "seconds spent evaluating one spec"),
    # errors a report shows (then "and N more"); SpecErrors.errors keeps every one
    Limit("ARCHC_MAX_ERRORS", MAX_ERRORS, "errors shown in one report"),
    # one whole CLI command, every stage, per spec it names (archc.cli.main, `command_budget`):
    # the zoo's biggest specs check in about a second on a slow shared machine
    Limit("ARCHC_MAX_SECONDS", 10.0, "seconds an archc command may run, per spec it names"),
)}


def limit(env: str) -> int | float:
    """The limit's value: its environment variable if set (a positive number), else the default."""
    from archc.errors import SpecError, SpecErrors
    spec = LIMITS[env]
    raw = os.environ.get(env, "").strip()
    if not raw:
        return spec.default
    kind = type(spec.default)
    try:
        value = kind(raw)
    except ValueError:
        value = 0
    if not value > 0 or value != value:
        default = f"{spec.default:g}" if isinstance(spec.default, float) else f"{spec.default:,}"
        raise SpecErrors([SpecError(
            f"environment variable {env}={raw!r} is not a positive {kind.__name__}", None,
            f"set it to a positive {'number' if kind is float else 'whole number'} (the limit on "
            f"{spec.what}), or unset it for the default of {default}", code="E-LIMIT-ENV")])
    return value


# ----------------------------------------------------------------------------- command budget

# The commands the budget covers by default: those that read specs and write text. `export` runs
# torch's ONNX exporter, which may take longer on a big model than the whole budget: it is
# covered only where ARCHC_MAX_SECONDS is set. `lsp` (a server) and `docs` have no spec.
BUDGETED = ("check", "summary", "draw", "compile", "fmt")


class CommandTimeout(BaseException):
    """Raised in the main thread when a command's wall-clock budget is spent (a BaseException,
    so that no `except Exception` or per-spec `except SpecErrors` on the way swallows it); the
    CLI reports it as E-LIMIT-COMMAND-TIME and exits 1, no output file written (they are written
    atomically)."""

    def __init__(self, seconds: float, command: str, specs: list[str]):
        super().__init__(seconds)
        self.seconds, self.command, self.specs = seconds, command, specs

    def diagnostic(self):
        from archc.errors import SpecError
        named = " ".join(self.specs[:3]) + (" ..." if len(self.specs) > 3 else "")
        return SpecError(
            f"'archc {self.command} {named}' stopped after {self.seconds:g} seconds, the limit on "
            f"one command ({LIMITS['ARCHC_MAX_SECONDS'].default:g} s per spec by default)", None,
            "a spec that takes this long is very large or hostile; to allow more time, set the "
            "environment variable ARCHC_MAX_SECONDS (seconds per spec)", code="E-LIMIT-COMMAND-TIME")


@contextlib.contextmanager
def command_budget(args: Any) -> Iterator[None]:
    """While the CLI runs the command `args` (argparse's namespace): an alarm after
    ARCHC_MAX_SECONDS × the number of specs it names, raising `CommandTimeout` wherever the
    command is (parsing, evaluation on its deep thread, rendering errors, printing). Covers every
    stage, where ARCHC_MAX_EVAL_SECONDS counts evaluation steps only. No budget off the main
    thread or without setitimer (Windows)."""
    command = getattr(args, "command", None) or ""
    specs = list(getattr(args, "specs", None) or ([args.spec] if getattr(args, "spec", None) else []))
    explicit = bool(os.environ.get("ARCHC_MAX_SECONDS", "").strip())
    if not specs or not (command in BUDGETED or explicit) or not hasattr(signal, "setitimer") \
            or threading.current_thread() is not threading.main_thread():
        yield
        return
    seconds = float(limit("ARCHC_MAX_SECONDS")) * len(specs)

    def ring(signum: int, frame: Any) -> None:
        raise CommandTimeout(seconds, command, specs)

    previous = signal.signal(signal.SIGALRM, ring)
    try:
        signal.setitimer(signal.ITIMER_REAL, seconds)
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
