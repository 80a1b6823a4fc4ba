"""Work that may take long, run in a forked child process with a wall-clock budget.

A check of one document runs in a process of its own (forked from the server, so archc is already
imported and the parse cache is shared as it was at the fork), never on a thread shared with other
documents: a spec that takes a minute, or walks a value of 10^21 items in C, delays nobody else's
answers. A newer edit supersedes a running check (its process is killed); a check past its budget
is killed too, and said as a diagnostic. The result comes back pickled (a `CheckResult` with its
model: a few tens of kB for a real spec, pickled and unpickled in about a millisecond).

Python threads cannot be stopped, processes can: that is why a process, not a thread.

Each check process may also grow by a bounded amount of memory only (`memory_allowance`:
ARCHC_LSP_CHECK_MEMORY MiB beyond the server's own size at the fork, 2 GiB by default, set with
RLIMIT_AS in the child): a spec that would take the machine's memory gets a MemoryError there,
said as an E-LIMIT-MEMORY diagnostic (`analysis.check`), instead of the kernel killing the server
or the editor.
"""
from __future__ import annotations

import gc
import io
import logging
import os
import pickle
import select
import signal
import threading
import time
from collections.abc import Callable
from typing import Any

from archc.lsp.budget import DEFAULT_MEMORY_MIB, MEMORY_ENV, memory_allowance  # noqa: F401 - said here too


log = logging.getLogger("archc.lsp")

def _address_space() -> int | None:
    """This process's address space now, in bytes (Linux), else None."""
    try:
        with open("/proc/self/statm", "rb") as f:
            return int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return None


def cap_memory(allowance: int | None) -> None:
    """In a child: let the address space grow by `allowance` bytes at most from its size now
    (RLIMIT_AS counts mappings, not pages touched: the server's own size, torch's libraries
    included, is the starting point, so the cap means the same wherever the server runs)."""
    if allowance is None:
        return
    try:
        import resource
    except ImportError:  # not on this platform: no cap
        return
    now = _address_space()
    if now is None:
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    limit = now + allowance
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    try:
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    except (ValueError, OSError):
        pass


def _required() -> Any:
    from archc.ops.base import REQUIRED
    return REQUIRED


def _op(name: str) -> Any:
    from archc.ops import REGISTRY
    return REGISTRY.get(name)


class _Pickler(pickle.Pickler):
    """Pickles archc's sentinels (module-level singletons of anonymous classes) and the ops of
    the registry (singletons too, whose label functions may be lambdas) by reference."""

    def reducer_override(self, obj: Any) -> Any:
        from archc.ops import REGISTRY
        from archc.ops.base import REQUIRED, Op
        if obj is REQUIRED:
            return _required, ()
        if isinstance(obj, Op) and REGISTRY.get(obj.name) is obj:
            return _op, (obj.name,)
        return NotImplemented


def dumps(value: Any) -> bytes:
    buf = io.BytesIO()
    enabled = gc.isenabled()
    gc.disable()  # pickling allocates no garbage worth collecting, and walks everything it has
    try:
        _Pickler(buf, protocol=pickle.HIGHEST_PROTOCOL).dump(value)
    finally:
        if enabled:
            gc.enable()
    return buf.getvalue()


def _loads(data: bytes) -> Any:
    """Unpickled with the collector off: a big model is a million new objects, each allocation
    batch a collection walking all of them (a 5,000-layer result: 2.5 s -> 0.5 s). The unpickling
    holds the interpreter's lock throughout, so this is time the server answers nothing."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        return pickle.loads(data)
    finally:
        if enabled:
            gc.enable()


class TimedOut(Exception):
    """The work ran past its budget and was stopped."""


class Cancelled(Exception):
    """The work was superseded (killed) before it finished."""


class Job:
    """One call of `fn(*args)` in a forked process; `wait(budget)` (blocking: run it on a thread)
    gives its value, or raises TimedOut / Cancelled. `cancel()` kills it (from any thread).

    A bare `os.fork`, not `multiprocessing`: its child start-up closes `sys.stdin`, whose lock the
    server's reading thread holds at the fork, and would hang there. The child touches no stream:
    it writes its pickled answer to a pipe and leaves with `os._exit`."""

    def __init__(self, fn: Callable, args: tuple, env: dict[str, str] | None = None,
                 lifetime: float = 600.0, memory: int | None = None) -> None:
        self.cancelled = False
        self._lock = threading.Lock()
        self._done = False
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child
            code = 0
            try:
                os.close(r)
                # dies by itself after `lifetime` seconds, should the server be gone (killed
                # with its editor) and never kill it
                signal.signal(signal.SIGALRM, signal.SIG_DFL)
                signal.alarm(max(1, int(lifetime) + 1))
                os.environ.update(env or {})
                cap_memory(memory)
                # the server's heap (its documents' models) is not this check's garbage: kept
                # out of the collector's walks, which otherwise grow with every open document
                gc.freeze()
                try:
                    payload = dumps(("ok", fn(*args)))
                except MemoryError:  # nothing left to say it with but what the unwinding freed
                    payload = dumps(("error", "MemoryError: out of memory"))
                except BaseException as e:  # noqa: BLE001 - said to the parent, which decides
                    payload = dumps(("error", f"{type(e).__name__}: {e}"))
                view = memoryview(payload)
                while view:
                    view = view[os.write(w, view):]
            except BaseException:  # noqa: BLE001
                code = 1
            finally:
                os._exit(code)
        os.close(w)
        self.pid, self._fd = pid, r

    def wait(self, budget: float) -> Any:
        deadline = time.monotonic() + budget
        chunks: list[bytes] = []
        try:
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    self.kill()
                    raise TimedOut()
                ready, _, _ = select.select([self._fd], [], [], left)
                if not ready:
                    continue
                chunk = os.read(self._fd, 1 << 20)
                if not chunk:
                    break
                chunks.append(chunk)
        finally:
            self._reap()
        if self.cancelled:
            raise Cancelled()
        if not chunks:
            raise RuntimeError("the checking process ended without an answer")
        status, value = _loads(b"".join(chunks))
        if status != "ok":
            raise RuntimeError(value)
        return _loads(value.data) if isinstance(value, Pickled) else value

    def cancel(self) -> None:
        self.cancelled = True
        self.kill()

    def kill(self) -> None:
        with self._lock:
            if not self._done:
                try:
                    os.kill(self.pid, signal.SIGKILL)
                except OSError:
                    pass

    def _reap(self) -> None:
        with self._lock:
            if self._done:
                return
            self._done = True
            try:
                os.kill(self.pid, signal.SIGKILL)  # finished or not: it has nothing more to say
            except OSError:
                pass
            try:
                os.waitpid(self.pid, 0)
            except OSError:
                pass
            try:
                os.close(self._fd)
            except OSError:
                pass

def check_job(text: str, language: str, path: str, cache: Any, version: int | None) -> tuple[Any, dict]:
    """In the child: check the document; return the result and the parses of the files it read
    (for the server's cache). A result whose model will not pickle comes back without it."""
    from archc.lsp.analysis import check
    result = check(text, language, path, cache, version)
    parsed = cache.export(result.imported)
    try:
        return Pickled(dumps((result, parsed)))  # pickled once, here (a big model's costs seconds)
    except Exception:  # noqa: BLE001
        log.warning("archc lsp: a check's result does not pickle whole", exc_info=True)
    try:
        return Pickled(dumps((result, {})))  # the server parses the imports again
    except Exception:  # noqa: BLE001 - the diagnostics matter more than the shapes
        result.model, result.partial = None, False
    return Pickled(dumps((result, {})))


class Pickled:
    """A value pickled in the child already (its bytes travel as they are); `Job.wait` gives
    the value."""

    def __init__(self, data: bytes) -> None:
        self.data = data


def format_job(text: str, language: str, path: str) -> tuple[str | None, str | None]:
    """In the child: (the formatted text, None) or (None, why it cannot be formatted)."""
    from archc.errors import SpecErrors
    from archc.frontend import parse_text, to_dsl, to_yaml
    try:
        spec = parse_text(text, language, path)
    except SpecErrors as e:
        first = e.errors[0] if e.errors else None
        return None, first.message if first else "syntax error"
    return (to_yaml(spec) if language == "yaml" else to_dsl(spec)), None
