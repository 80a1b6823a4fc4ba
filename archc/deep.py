"""Room for deep but finite input. The evaluator walks expressions recursively, and a spec may
legitimately chain thousands of layers in one statement (`x -> a -> b -> …`) or nest a block a few
hundred levels deep. `run_deep` runs such work on a thread with a large stack and a raised
recursion limit, so that only absurd nesting (well past any real spec) reaches the limit, where
the caller turns the RecursionError into a located diagnostic."""
from __future__ import annotations

import contextvars
import os
import sys
import threading
import time
from typing import Any, Callable, TypeVar

T = TypeVar("T")

STACK_BYTES = 512 * 1024 * 1024  # reserved address space; only the pages used are committed
RECURSION_LIMIT = 120_000  # Python frames; enough for a 10,000-layer chain in one statement



def _frame_room(slots: int) -> Callable[[Callable[[], T]], T]:
    """`room(fn)`: fn() called from a frame of `slots` local variables (never assigned: the
    statement that would is compiled away, the names stay locals).

    CPython 3.11 keeps a thread's Python frames in 16 KB chunks, mapped when the stack grows into
    one and unmapped as soon as the frame that opened it returns. Work that recurses a few dozen
    frames deep and back thousands of times, where that crosses a chunk's start, maps and unmaps a
    chunk at every crossing, and each first use faults its pages in: DenseNet-121's elaboration
    took 2,100 page faults and half its time in the kernel on the fresh thread `run_deep` makes.
    A frame larger than a chunk is given a chunk twice its size, and the frames called from it
    fill the room left in that chunk, which stays mapped until it returns: elaboration's usual
    depth never leaves it (about 20 faults per elaboration)."""
    names = " = ".join(f"_{k}" for k in range(slots))
    source = f"def room(fn):\n    if False:\n        {names} = None\n    return fn()\n"
    namespace: dict[str, Any] = {}
    exec(compile(source, "<archc frame room>", "exec"), namespace)  # noqa: S102 - fixed text, no input
    return namespace["room"]


_in_room = _frame_room(4096)  # a 32 KB frame: a 64 KB chunk, 32 KB of it for the work's frames

_state = threading.local()
_lock = threading.Lock()
_active = 0  # deep threads running (the raised limit is restored when the last one ends)
_saved_limit = 0
# threads with a large stack, waiting for work: starting one (a 512 MB stack reserved, its first
# pages faulted in) cost about 0.3 ms of CPU per elaboration, more than a small spec's whole work
_idle: list["_Worker"] = []
MAX_IDLE = 4
# a worker is kept only after a job this short: a long one may have touched much of its stack
# (deep input recursing through C), which stays resident while the thread lives
KEEP_AFTER_SECONDS = 0.05


class _Worker:
    """A deep thread that runs jobs one at a time, handed over one at a time."""

    def __init__(self) -> None:
        self.job: Callable[[], None] | None = None
        self.ready = threading.Lock()  # released when a job is handed over
        self.ready.acquire()
        with _lock:
            old = threading.stack_size(STACK_BYTES)
        try:
            threading.Thread(target=self._loop, name="archc-deep", daemon=True).start()
        finally:
            threading.stack_size(old)

    def _loop(self) -> None:
        _state.deep = True
        while True:
            self.ready.acquire()
            job, self.job = self.job, None
            if job is None:  # (retired: more idle than kept)
                return
            job()
            del job  # (it holds its work and result: an idle worker must not keep a model alive)

    def run(self, job: Callable[[], None]) -> None:
        self.job = job
        self.ready.release()


def _forget_workers() -> None:
    """After fork: the child has none of the parent's threads."""
    global _active
    _idle.clear()
    _active = 0


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_workers)


def run_deep(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """`fn(*args, **kwargs)` with a large stack, from a frame with room for its callees' frames
    (`_frame_room`); exceptions propagate unchanged. Nested calls (already on a deep thread) run
    directly."""
    if getattr(_state, "deep", False):
        return fn(*args, **kwargs)
    box: dict[str, Any] = {}
    context = contextvars.copy_context()  # the caller's context variables, as if called here
    done = threading.Lock()
    done.acquire()

    def job() -> None:
        global _active, _saved_limit
        with _lock:
            if _active == 0:
                _saved_limit = sys.getrecursionlimit()
                sys.setrecursionlimit(max(_saved_limit, RECURSION_LIMIT))
            _active += 1
        try:
            box["value"] = context.run(_in_room, lambda: fn(*args, **kwargs))
        except BaseException as e:  # handed to the caller's thread
            box["error"] = e
        finally:
            with _lock:
                _active -= 1
                if _active == 0:
                    sys.setrecursionlimit(_saved_limit)
            done.release()

    with _lock:
        worker = _idle.pop() if _idle else None
    try:
        if worker is None:
            worker = _Worker()
    except (RuntimeError, ValueError, MemoryError):  # no such thread here: run as we are
        return _in_room(lambda: fn(*args, **kwargs))
    start = time.perf_counter()
    worker.run(job)
    done.acquire()
    with _lock:
        if len(_idle) < MAX_IDLE and time.perf_counter() - start < KEEP_AFTER_SECONDS:
            _idle.append(worker)
            worker = None
    if worker is not None:
        worker.run(None)  # type: ignore[arg-type]
    if "error" in box:
        error = box.pop("error")
        try:
            raise error
        finally:
            del error
    return box["value"]
