import ctypes
import gc
import os
import sys
from pathlib import Path

import pytest

# The test models are tiny, and on a 2-core machine torch's intra-op threads cost far more in
# synchronisation than they gain (here: ResNet-18 forward 0.96 s with 2 threads, 0.08 s with 1).
# Set before torch is first imported, so subprocesses (examples, DDP workers) inherit it.
os.environ.setdefault("OMP_NUM_THREADS", "1")

# The tests are grouped by component in folders (tests/frontend, tests/lowering, ...); the
# helpers they share (lowering_support, reference_executor, lowering_ddp_worker) are in
# tests/support, importable by their module names from any folder.
SUPPORT = str(Path(__file__).resolve().parent / "support")
if SUPPORT not in sys.path:
    sys.path.insert(0, SUPPORT)


def pytest_collection_modifyitems(session, config, items):
    """The fuzz suite (tests/robustness) runs first. It forks a child per case under a 4 GB
    address-space limit (tools/fuzz_campaign.py's run_isolated); once the lowering tests have run
    torch (compiled modules, thread pools) the parent's address space alone comes near that, and
    the children cannot start their deep-input thread. In the flat layout it ran before them by
    name; here it runs first on purpose.
    The files that build the largest models (VGG-19 in float64: 1.15 GB) come next, while the
    process is small: the modules later tests import (onnx, onnxruntime, sklearn, matplotlib,
    dynamo) and the heap's fragments raise it by about 0.5 GB, which the largest model would
    otherwise stack on (the suite's peak: benchmarks/results/suite_memory.json)."""
    here = Path(__file__).resolve().parent
    robustness = here / "robustness"
    largest_models = {here / "lowering" / "test_reference_executor.py", here / "lowering" / "test_lowering.py"}

    def rank(item) -> int:
        path = Path(str(item.path))
        return 0 if path.is_relative_to(robustness) else 1 if path in largest_models else 2
    items.sort(key=rank)


# --- memory -----------------------------------------------------------------------------------
# ARCHC_TEST_MEMORY=FILE writes one JSON line per test: its node id, start and end times, and
# the RSS of this process (now and its peak so far, VmHWM) and of its child processes after it.
# tools/measure_suite_memory.py reads it to name the tests that raise the suite's peak.
_MEMORY_LOG = os.environ.get("ARCHC_TEST_MEMORY")


def _status_kib(pid: int | str, *fields: str) -> list[int]:
    values = dict.fromkeys(fields, 0)
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                key, _, rest = line.partition(":")
                if key in values:
                    values[key] = int(rest.split()[0])
    except (OSError, ValueError, IndexError):
        pass
    return list(values.values())


def _children_rss_kib(pid: int) -> int:
    total = 0
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return 0
    for task in tasks:
        try:
            with open(f"/proc/{pid}/task/{task}/children") as f:
                children = [int(c) for c in f.read().split()]
        except OSError:
            continue
        for child in children:
            total += _status_kib(child, "VmRSS")[0] + _children_rss_kib(child)
    return total


def _forget_probe_records() -> None:
    """A shape-recording module (lowering_support.probe_module) appends (its module instance,
    a name, a shape) to its generated file's module-level PROBES list on every forward.
    run_recording_shapes clears the list, but a test that calls such a module directly leaves the
    instance there, alive with all its weights for the rest of the session (sys.modules holds the
    generated file): the zoo's VGGs and the seeds' AlexNet kept 0.5–0.8 GB each."""
    for name, module in list(sys.modules.items()):
        if name.startswith("archc_generated_"):
            records = getattr(module, "PROBES", None)
            if records:
                records.clear()


_libc = None


def _trim_heap() -> None:
    """Hand the heap's free pages back to the system (glibc's malloc_trim; microseconds): after
    a model is freed, glibc keeps its chunks resident for reuse, and the tests after it, which
    need other sizes, get new pages instead (measured: 100-250 MB stayed after each of VGG,
    U-Net, ResNet-152, ConvNeXt, all returned by a trim)."""
    global _libc
    if _libc is None:
        try:
            _libc = ctypes.CDLL("libc.so.6")
            _libc.malloc_trim  # noqa: B018 (glibc only)
        except (OSError, AttributeError):
            _libc = False
    if _libc:
        _libc.malloc_trim(0)


# a collection of cycles (0.2-0.5 s with torch loaded, too slow for every test) when the process
# stays this much above its lowest size after a test
COLLECT_AFTER_GROWTH_KIB = 256 * 1024
_baseline_kib = 0


@pytest.hookimpl(hookwrapper=True, trylast=True)
def pytest_runtest_teardown(item, nextitem):
    global _baseline_kib
    yield
    _forget_probe_records()
    _trim_heap()
    (rss,) = _status_kib("self", "VmRSS")
    if _baseline_kib and rss > _baseline_kib + COLLECT_AFTER_GROWTH_KIB:
        gc.collect()
        _trim_heap()
        (rss,) = _status_kib("self", "VmRSS")
    _baseline_kib = rss if not _baseline_kib or rss > _baseline_kib + COLLECT_AFTER_GROWTH_KIB else min(_baseline_kib, rss)


# The suite's peak memory. A session whose pytest process grew past this fails, naming the tool
# that finds the tests responsible. It is the main process's own peak (VmHWM): the processes tests
# start (language servers, archc commands) are not counted here but by
# tools/measure_suite_memory.py. Issue 24's limit, 2,048 MiB: the suite peaks at about 1,730 MiB
# since the largest models run early (benchmarks/results/suite_memory.json; 6,650 MiB before the
# leaks were fixed). ARCHC_TEST_MAX_RSS_MIB=0 turns the check off.
MAX_RSS_MIB = int(os.environ.get("ARCHC_TEST_MAX_RSS_MIB", "2048"))


def _peak_over_limit_mib() -> int | None:
    (peak,) = _status_kib("self", "VmHWM")
    return peak // 1024 if MAX_RSS_MIB and peak > MAX_RSS_MIB * 1024 else None


def pytest_sessionfinish(session, exitstatus):
    if exitstatus == pytest.ExitCode.OK and _peak_over_limit_mib() is not None:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    peak = _peak_over_limit_mib()
    if peak is not None:
        terminalreporter.write_line(
            f"the test session's peak RSS was {peak:,} MiB, over the suite's limit of {MAX_RSS_MIB:,} MiB "
            "(ARCHC_TEST_MAX_RSS_MIB): `python tools/measure_suite_memory.py -- <tests>` names the tests "
            "that raise it", red=True, bold=True)


if _MEMORY_LOG:
    import json
    import time

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_protocol(item, nextitem):
        started = time.time()
        (hwm_before,) = _status_kib("self", "VmHWM")
        yield
        rss, hwm = _status_kib("self", "VmRSS", "VmHWM")
        record = {"test": item.nodeid, "start": started, "end": time.time(), "rss_kib": rss,
                  "hwm_kib": hwm, "hwm_rise_kib": hwm - hwm_before,
                  "children_rss_kib": _children_rss_kib(os.getpid())}
        with open(_MEMORY_LOG, "a") as log:
            log.write(json.dumps(record) + "\n")
