"""Room for deep but finite input. The evaluator walks expressions recursively, and a spec may
legitimately chain thousands of layers in one statement (`x -> a -> b -> …`) or nest a block a few
hundred levels deep. `run_deep` runs such work on a thread with a large stack and a raised
recursion limit, so that only absurd nesting (well past any real spec) reaches the limit, where
the caller turns the RecursionError into a located diagnostic."""
from __future__ import annotations

import contextvars
import sys
import threading
from typing import Any, Callable, TypeVar

T = TypeVar("T")

STACK_BYTES = 512 * 1024 * 1024  # reserved address space; only the pages used are committed
RECURSION_LIMIT = 120_000  # Python frames; enough for a 10,000-layer chain in one statement

_state = threading.local()
_lock = threading.Lock()
_active = 0  # deep threads running (the raised limit is restored when the last one ends)
_saved_limit = 0


def run_deep(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """`fn(*args, **kwargs)` with a large stack; exceptions propagate unchanged. Nested calls
    (already on a deep thread) run directly."""
    if getattr(_state, "deep", False):
        return fn(*args, **kwargs)
    box: dict[str, Any] = {}
    context = contextvars.copy_context()  # the caller's context variables, as if called here

    def target() -> None:
        global _active, _saved_limit
        _state.deep = True
        with _lock:
            if _active == 0:
                _saved_limit = sys.getrecursionlimit()
                sys.setrecursionlimit(max(_saved_limit, RECURSION_LIMIT))
            _active += 1
        try:
            box["value"] = context.run(fn, *args, **kwargs)
        except BaseException as e:  # handed to the caller's thread
            box["error"] = e
        finally:
            with _lock:
                _active -= 1
                if _active == 0:
                    sys.setrecursionlimit(_saved_limit)

    try:
        with _lock:
            old = threading.stack_size(STACK_BYTES)
        try:
            thread = threading.Thread(target=target, name="archc-deep", daemon=True)
            thread.start()
        finally:
            threading.stack_size(old)
    except (RuntimeError, ValueError, MemoryError):  # no such thread here: run as we are
        return fn(*args, **kwargs)
    thread.join()
    if "error" in box:
        error = box.pop("error")
        try:
            raise error
        finally:
            del error
    return box["value"]
