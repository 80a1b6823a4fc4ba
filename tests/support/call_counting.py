"""Counting work instead of timing it: the Python (and, if asked, C) function calls a piece of
code makes, in this thread and in threads started while counting.

The elaborator runs on a thread of its own (archc.deep.run_deep), and run_deep keeps finished
workers idle for the next job. threading.setprofile reaches only threads started after it is set,
so the work of a worker kept from before would go uncounted: none is kept while counting (the
idle ones are retired first, and none is kept meanwhile)."""
from __future__ import annotations

import sys
import threading
from typing import Self

from archc import deep


class CallCounter:
    """`with CallCounter() as c: ...`, then `c.calls`. `events`: the profile events counted."""

    def __init__(self, events: tuple[str, ...] = ("call", "c_call")) -> None:
        self.calls = 0
        self.events = events

    def _profile(self, frame, event, arg):
        if event in self.events:
            self.calls += 1

    def __enter__(self) -> Self:
        self._kept, deep.MAX_IDLE = deep.MAX_IDLE, 0
        while deep._idle:
            deep._idle.pop().run(None)  # (retired: its thread ends)
        threading.setprofile(self._profile)
        sys.setprofile(self._profile)
        return self

    def __exit__(self, *exc) -> None:
        sys.setprofile(None)
        threading.setprofile(None)
        deep.MAX_IDLE = self._kept
