"""archc.deep.run_deep: work on a thread with a large stack, kept for the next call (starting one
cost more than a small spec's whole elaboration); concurrent callers, errors, deep recursion, and
a forked child (the language server's check processes) that inherits no thread."""
from __future__ import annotations

import multiprocessing
import sys
import threading
import weakref

import pytest

from archc import deep


def _depth(n: int) -> int:
    return 0 if n == 0 else 1 + _depth(n - 1)


def test_deep_recursion_runs_and_the_limit_is_restored() -> None:
    limit = sys.getrecursionlimit()
    assert deep.run_deep(_depth, 20_000) == 20_000
    assert sys.getrecursionlimit() == limit


def test_a_worker_is_kept_and_reused() -> None:
    first = deep.run_deep(threading.get_ident)
    assert deep.run_deep(threading.get_ident) == first
    assert first != threading.get_ident()


def test_errors_reach_the_caller_and_the_worker_survives() -> None:
    with pytest.raises(ZeroDivisionError):
        deep.run_deep(lambda: 1 // 0)
    assert deep.run_deep(lambda: 7) == 7


def test_concurrent_callers_each_get_their_own_result() -> None:
    results: dict[int, int] = {}

    def call(k: int) -> None:
        results[k] = deep.run_deep(lambda: sum(_depth(2_000) for _ in range(5)) + k)
    threads = [threading.Thread(target=call, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == {k: 10_000 + k for k in range(8)}
    assert len(deep._idle) <= deep.MAX_IDLE


def _in_child(queue) -> None:
    queue.put(deep.run_deep(_depth, 5_000))


@pytest.mark.skipif(sys.platform == "win32", reason="fork")
def test_a_forked_child_starts_its_own_worker() -> None:
    deep.run_deep(lambda: None)  # a worker idle in the parent
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    child = context.Process(target=_in_child, args=(queue,))
    child.start()
    assert queue.get(timeout=60) == 5_000
    child.join(timeout=60)
    assert child.exitcode == 0


def test_an_idle_worker_keeps_nothing_of_its_last_job() -> None:
    # (it kept the job's closure, and with it the work and its result: a whole model per idle
    # worker, 550 MiB more at the test suite's peak)
    class Result:
        pass

    def work(argument: Result) -> Result:
        return Result()
    argument = Result()
    result = deep.run_deep(work, argument)
    refs = [weakref.ref(result), weakref.ref(argument)]
    del result, argument
    assert [ref() for ref in refs] == [None, None]
