"""Progress on the terminal for commands that take seconds (`archc export`, `draw` of a large
model, `compile`): one status line on stderr, `archc export: building the module (4.1 s)`,
redrawn in place and erased when the command ends, so that only the command's own output stays.

Shown only where a person watches: stderr is a terminal, TERM is not "dumb" and CI is not set
(CI=true, as CI services set it). Piped or redirected, nothing is written. Nothing is drawn
for a command that ends within `DELAY` seconds, so quick runs never flicker. The environment
variable ARCHC_PROGRESS overrides the guess: "0" (or "never") turns it off, "1" (or "always")
turns it on, from the first step (no delay); forced on where stderr is no terminal, each step is
one plain line (for logs and tests) instead of a line redrawn in place. NO_COLOR is no reason to
hide it: it is not coloured.

Library code reports its steps with `step("...")`, a no-op unless a command has started a
`Progress` (the API stays silent). Only the standard library is imported, and no thread is
started until a command begins one: the static path's start stays light.
"""
from __future__ import annotations

import os
import sys
import time
from typing import Any, TextIO

DELAY = 0.5  # seconds before anything is drawn on a terminal
TICK = 0.2  # redraw interval of the elapsed time
ENV = "ARCHC_PROGRESS"

_ON = ("1", "always", "on", "true", "yes")
_OFF = ("0", "never", "off", "false", "no")

_current: "Progress | None" = None


def mode(stream: Any = None) -> str:
    """"live" (a line redrawn on a terminal), "lines" (forced on where no terminal is: one line
    a step) or "off"."""
    stream = sys.stderr if stream is None else stream
    asked = os.environ.get(ENV, "").strip().lower()
    isatty = getattr(stream, "isatty", None)
    try:
        tty = bool(isatty and isatty())
    except ValueError:  # a closed stream
        tty = False
    if asked in _OFF:
        return "off"
    if asked in _ON:
        return "live" if tty and os.environ.get("TERM") != "dumb" else "lines"
    ci = os.environ.get("CI", "").strip().lower()
    if not tty or os.environ.get("TERM") == "dumb" or ci not in ("", "0", "false", "no"):
        return "off"
    return "live"


def forced() -> bool:
    """ARCHC_PROGRESS asks for progress whatever the stream."""
    return os.environ.get(ENV, "").strip().lower() in _ON


def step(text: str) -> None:
    """Say that the running command now does `text` (a no-op outside a command's Progress)."""
    if _current is not None:
        _current.step(text)


class Progress:
    """`with Progress("export"): ... step("building the module") ...`: the status line of one
    command. While it is live, whatever else is written to sys.stderr (a warning, a diagnostic)
    first erases the line, so the two never mix."""

    def __init__(self, command: str, stream: TextIO | None = None):
        self.command = command
        self.stream = sys.stderr if stream is None else stream
        self.mode = mode(self.stream)
        self.delay = 0.0 if forced() else DELAY
        self.text = ""
        self.started = self.step_started = 0.0
        self.shown = False  # the status line is on the screen
        self._lock: Any = None
        self._stop: Any = None
        self._thread: Any = None
        self._saved_stderr: Any = None
        self._outer: "Progress | None" = None

    # ------------------------------------------------------------------ as a context manager
    def __enter__(self) -> "Progress":
        global _current
        self._outer, _current = _current, self
        self.started = time.monotonic()
        if self.mode == "live":
            import threading
            self._lock = threading.RLock()
            self._stop = threading.Event()
            self._saved_stderr = sys.stderr
            if sys.stderr is self.stream:
                sys.stderr = _ClearingStream(self.stream, self)  # type: ignore[assignment]
            self._thread = threading.Thread(target=self._run, name="archc-progress", daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        global _current
        _current = self._outer
        if self.mode != "live":
            return
        self._stop.set()
        self._thread.join()
        with self._lock:
            self._erase()
            if isinstance(sys.stderr, _ClearingStream) and sys.stderr.progress is self:
                sys.stderr = self._saved_stderr

    # ------------------------------------------------------------------ steps
    def step(self, text: str) -> None:
        if self.mode == "off":
            return
        if self.mode == "lines":
            self._write(f"archc {self.command}: {text}...\n")
            return
        with self._lock:
            self.text, self.step_started = text, time.monotonic()
            if self.shown or time.monotonic() - self.started >= self.delay:
                self._draw()

    def _run(self) -> None:
        while not self._stop.wait(TICK):
            with self._lock:
                if self.text and time.monotonic() - self.started >= self.delay:
                    self._draw()

    def _line(self) -> str:
        elapsed = time.monotonic() - self.started
        line = f"archc {self.command}: {self.text}... ({elapsed:.1f} s)"
        width = _width(self.stream)
        return line if len(line) < width else line[:max(width - 2, 10)] + "…"

    def _draw(self) -> None:
        self._write("\r\x1b[K" + self._line())
        self.shown = True

    def erase(self) -> None:
        """Take the status line off the screen (it comes back at the next tick)."""
        if self._lock is None:
            return
        with self._lock:
            self._erase()

    def _erase(self) -> None:
        if self.shown:
            self._write("\r\x1b[K")
            self.shown = False

    def _write(self, text: str) -> None:
        try:
            self.stream.write(text)
            self.stream.flush()
        except (OSError, ValueError):  # the terminal went away: progress is never worth a failure
            self.mode = "off" if self.mode == "lines" else self.mode


class _ClearingStream:
    """sys.stderr while a status line is live: erases the line before anything else is written."""

    def __init__(self, stream: TextIO, progress: Progress):
        self.stream = stream
        self.progress = progress

    def write(self, text: str) -> int:
        with self.progress._lock:
            self.progress._erase()
            return self.stream.write(text)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.stream, name)


def _width(stream: Any) -> int:
    try:
        columns = os.get_terminal_size(stream.fileno()).columns
    except (OSError, ValueError, AttributeError):
        return 80
    return columns if columns >= 20 else 80  # a terminal that says 0 columns (a bare pty)
