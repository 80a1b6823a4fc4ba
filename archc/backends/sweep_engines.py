"""`archc sweep`'s engines: a local pool of worker processes (through a fork server that has
archc imported) and Dask's distributed scheduler. Each calls `arrived(record)` as a point's
result comes in (archc.backends.sweep evaluates a point and keeps the table). Nothing here
imports torch.
"""
from __future__ import annotations

import contextlib
import itertools
import os
import time
from collections.abc import Callable, Iterator
from typing import Any

IN_FLIGHT_PER_WORKER = 4  # points queued per worker: enough to keep each busy, bounded for huge grids


def threading_is_main() -> bool:
    import threading
    return threading.current_thread() is threading.main_thread()

def _start_worker(sweeper: int) -> None:
    """A worker process: no progress line of the parent's, no BLAS threads, and gone within a
    second of the sweeping process (`sweeper`, its pid) if that one is killed: the pool's own
    shutdown never runs then, and a worker of a fork server is not its child."""
    from archc import progress
    progress._current = None
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    import threading

    def watch() -> None:
        while True:
            time.sleep(WATCH_INTERVAL)
            try:
                os.kill(sweeper, 0)
            except ProcessLookupError:
                os._exit(1)
            except PermissionError:  # alive, another user's pid now: cannot happen for a parent
                pass

    threading.Thread(target=watch, name="archc-sweep-watch", daemon=True).start()


WATCH_INTERVAL = 1.0  # seconds between a worker's checks that the sweeping process is alive


def _pool_context() -> Any:
    """A fork server with archc preloaded where there is one (POSIX): workers start in
    milliseconds without inheriting the parent's threads (the progress line's); spawn elsewhere."""
    import multiprocessing
    if "forkserver" in multiprocessing.get_all_start_methods():
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["archc.model", "archc.backends.sweep", "archc.analysis.training"])
        return context
    return multiprocessing.get_context("spawn")


def run_local(evaluate: Callable[[dict[str, Any]], dict[str, Any]], points: list[dict[str, Any]], jobs: int,
              on_result: Callable[[dict[str, Any]], None]) -> None:
    """Evaluate the points (`evaluate(point)`, picklable: a module's function or a partial of
    one) in `jobs` worker processes (in this process when jobs is 1), handing each record to
    `on_result` as it arrives."""
    if jobs <= 1 or len(points) <= 1:
        for point in points:
            on_result(evaluate(point))
        return
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
    todo = iter(points)
    context = _pool_context()
    _start_fork_server(context)
    # A Ctrl-C while the first submits start the workers, delivered in the middle of starting one,
    # left that worker unknown to the pool's shutdown: it went on starting after this process
    # had gone and printed a traceback. Held until they are started, it interrupts cleanly.
    with _sigint_blocked():
        pool = ProcessPoolExecutor(max_workers=min(jobs, len(points)), mp_context=context,
                                   initializer=_start_worker, initargs=(os.getpid(),))
        pending = {pool.submit(evaluate, p) for p in itertools.islice(todo, jobs * IN_FLIGHT_PER_WORKER)}
    try:
        while pending:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                on_result(future.result())
                pending |= {pool.submit(evaluate, p) for p in itertools.islice(todo, 1)}
    finally:  # interrupted: what is done is in the resume file; stop the rest
        pool.shutdown(wait=True, cancel_futures=True)


@contextlib.contextmanager
def _sigint_blocked() -> Iterator[None]:
    """SIGINT held pending in this thread while inside, delivered on leaving. Nothing where
    signal masks do not exist or off the main thread."""
    import signal
    if not hasattr(signal, "pthread_sigmask") or not threading_is_main():
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def _start_fork_server(context: Any) -> None:
    """Start the fork server (and the resource tracker) with SIGINT ignored, which they and the
    workers they fork inherit. A Ctrl-C reaches the whole process group: one that arrived while
    the fork server imported archc printed that interpreter's KeyboardInterrupt traceback. The
    sweeping process handles it and shuts the pool down (the workers also watch it). This
    process ignores SIGINT only while the server's process is made (milliseconds)."""
    import signal
    if context.get_start_method() != "forkserver" or not threading_is_main():
        return
    from multiprocessing import forkserver
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        forkserver.ensure_running()
    finally:
        signal.signal(signal.SIGINT, previous)


def require_distributed() -> Any:
    """The `distributed` module (Dask's scheduler), or archc's error saying how to install it."""
    try:
        import distributed
    except ImportError as e:
        if (getattr(e, "name", None) or "").split(".")[0] not in ("distributed", "dask"):
            raise
        from archc.errors import SpecError
        raise SpecError("the dask engine needs Dask's distributed scheduler, which is not installed", None,
                        "pip install -e '.[distributed]' in archc's checkout (dask[distributed]), "
                        "or use --engine local",
                        code="E-SWEEP-DASK-MISSING") from None
    return distributed


def run_dask(evaluate: Callable[[dict[str, Any]], dict[str, Any]], points: list[dict[str, Any]], jobs: int,
             on_result: Callable[[dict[str, Any]], None], client: Any = None,
             scheduler: str | None = None) -> None:
    """Evaluate the points on a Dask cluster: `client` (a distributed.Client), else one connected
    to `scheduler` (an address such as tcp://host:8786), else a LocalCluster of `jobs` worker
    processes made for this sweep. Records arrive in completion order; at most a few points
    per worker are queued at a time, so a grid of millions never sits in the scheduler at once.
    The workers must see the spec and its imports at the same path (a shared file system or the
    same checkout) and have archc installed."""
    distributed = require_distributed()
    own: list[Any] = []
    if client is None:
        if scheduler:
            client = _connect(distributed, scheduler)
        else:
            cluster = distributed.LocalCluster(n_workers=max(jobs, 1), threads_per_worker=1, processes=True,
                                               dashboard_address=None)
            own.append(cluster)
            client = distributed.Client(cluster)
        own.insert(0, client)
    try:
        in_flight = max(len(client.scheduler_info().get("workers", {})), jobs, 1) * IN_FLIGHT_PER_WORKER
        todo = iter(points)
        queue = distributed.as_completed([client.submit(evaluate, p, pure=False)
                                          for p in itertools.islice(todo, in_flight)])
        for future in queue:
            on_result(future.result())
            future.release()
            for p in itertools.islice(todo, 1):
                queue.add(client.submit(evaluate, p, pure=False))
    finally:
        for thing in own:
            thing.close()


SCHEDULER_TIMEOUT = 10  # seconds to reach --scheduler's cluster


def _connect(distributed: Any, scheduler: str) -> Any:
    """A client of the cluster at `scheduler`, or archc's error: an address Dask cannot read
    (ValueError) or a cluster not answering (OSError, after SCHEDULER_TIMEOUT seconds)."""
    from archc.errors import SpecError
    try:
        return distributed.Client(scheduler, timeout=SCHEDULER_TIMEOUT)
    except (OSError, ValueError, TypeError) as e:
        why = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise SpecError(f"--scheduler {scheduler}: cannot reach a Dask cluster there ({why})", None,
                        "give the scheduler's address as it prints it, e.g. tcp://10.0.0.5:8786, and check that "
                        "it runs; or leave out --scheduler for a local cluster", code="E-SWEEP-SCHEDULER") from None


# ------------------------------------------------------------------------------------ resume files
