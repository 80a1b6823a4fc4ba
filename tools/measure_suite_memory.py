"""The test suite's memory: runs pytest in a child process, samples the memory (PSS: resident,
pages shared after a fork counted once) of the whole process tree (pytest and every process it starts: language servers, archc commands,
fuzz children, DDP workers) every 0.2 s, and names the tests that raise it.

    .venv/bin/python tools/measure_suite_memory.py                      # the whole suite
    .venv/bin/python tools/measure_suite_memory.py -- tests/lowering -x # any pytest arguments
    .venv/bin/python tools/measure_suite_memory.py --json benchmarks/results/suite_memory.json

`/usr/bin/time -v` reports the peak of the main process only; this counts children too. The
per-test attribution comes from tests/conftest.py's hook (ARCHC_TEST_MEMORY=FILE), which logs
each test's start and end and the main process's RSS and peak (VmHWM) after it. Printed and
written: the tree's peak and the test running then, the main process's peak, the tests that
raise the main process's peak most, the tests after which the most memory stays resident, the
tests with the highest tree RSS while they ran, and the peak per test file.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_PYTEST = ["-q", "-p", "no:cacheprovider", "tests"]


def rss_kib(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


def children(pid: int) -> list[int]:
    out: list[int] = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return out
    for task in tasks:
        try:
            with open(f"/proc/{pid}/task/{task}/children") as f:
                out += [int(c) for c in f.read().split()]
        except (OSError, ValueError):
            continue
    return out


def pss_kib(pid: int) -> int:
    """The proportional set size: a page shared by n processes counts 1/n in each. A forked
    child's RSS includes every page it still shares with its parent (copy-on-write), so summed
    RSS counts those twice: a 256 MiB child of a 1.7 GiB pytest read as 2.4 GiB."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as rollup:
            for line in rollup:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return rss_kib(pid)  # no smaps_rollup (Linux < 4.14): RSS, an over-count for forked children


def tree_rss_kib(pid: int) -> tuple[int, int]:
    """(the RSS of `pid`, the memory of `pid` and all its descendants with shared pages counted
    once: the sum of their PSS), in KiB."""
    own = rss_kib(pid)
    total, stack = pss_kib(pid), children(pid)
    while stack:
        child = stack.pop()
        total += pss_kib(child)
        stack += children(child)
    return own, total


def mib(kib: int) -> float:
    return round(kib / 1024, 1)


def measure(pytest_args: list[str], interval: float, keep_log: Path | None = None) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "tests.jsonl"
        env = {**os.environ, "ARCHC_TEST_MEMORY": str(log), "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1")}
        started = time.time()
        proc = subprocess.Popen([sys.executable, "-m", "pytest", *pytest_args], cwd=ROOT, env=env)
        samples: list[tuple[float, int, int]] = []  # (time, main RSS, tree RSS)
        while proc.poll() is None:
            own, total = tree_rss_kib(proc.pid)
            if own:
                samples.append((time.time(), own, total))
            time.sleep(interval)
        wall = time.time() - started
        tests = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
        if keep_log and log.exists():
            keep_log.write_text(log.read_text())
    return {"returncode": proc.returncode, "wall_s": round(wall, 1), "samples": samples, "tests": tests}


def report(run: dict, top: int) -> dict:
    samples, tests = run["samples"], run["tests"]
    peak_time, _, peak_tree = max(samples, key=lambda s: s[2]) if samples else (0, 0, 0)
    main_peak_sampled = max((s[1] for s in samples), default=0)
    main_hwm = max((t["hwm_kib"] for t in tests), default=0)

    def running_at(moment: float) -> str | None:
        for t in tests:
            if t["start"] <= moment <= t["end"]:
                return t["test"]
        return None

    # the tree's highest sample while each test ran
    during: dict[str, int] = {}
    j = 0
    for t in tests:
        while j < len(samples) and samples[j][0] < t["start"]:
            j += 1
        k, best = j, 0
        while k < len(samples) and samples[k][0] <= t["end"]:
            best = max(best, samples[k][2])
            k += 1
        during[t["test"]] = best
    retained = []
    for before, after in zip([None] + tests[:-1], tests):
        base = before["rss_kib"] if before else 0
        retained.append((after["rss_kib"] - base, after["test"]))
    per_file: dict[str, int] = defaultdict(int)
    for t in tests:
        name = t["test"].split("::")[0]
        per_file[name] = max(per_file[name], during[t["test"]], t["rss_kib"] + t["children_rss_kib"])

    return {
        "returncode": run["returncode"],
        "wall_s": run["wall_s"],
        "tests": len(tests),
        "peak_tree_rss_mib": mib(peak_tree),
        "peak_tree_rss_test": running_at(peak_time),
        "peak_main_rss_mib": mib(max(main_hwm, main_peak_sampled)),
        "final_main_rss_mib": mib(tests[-1]["rss_kib"]) if tests else None,
        "top_peak_raisers": [{"test": t["test"], "hwm_rise_mib": mib(t["hwm_rise_kib"]),
                              "hwm_after_mib": mib(t["hwm_kib"])}
                             for t in sorted(tests, key=lambda t: -t["hwm_rise_kib"])[:top] if t["hwm_rise_kib"] > 0],
        "top_retained": [{"test": name, "rss_change_mib": mib(kib)} for kib, name in sorted(retained, reverse=True)[:top]],
        "top_tree_rss_during": [{"test": name, "tree_rss_mib": mib(kib)}
                                for name, kib in sorted(during.items(), key=lambda kv: -kv[1])[:top]],
        "peak_per_file_mib": {name: mib(kib) for name, kib in sorted(per_file.items(), key=lambda kv: -kv[1])},
    }


def machine() -> dict:
    import platform
    from importlib import metadata
    try:
        torch = metadata.version("torch")
    except metadata.PackageNotFoundError:
        torch = None
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                            check=False).stdout.strip()
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT,
                           capture_output=True, text=True, check=False).stdout.strip()
    return {"date": time.strftime("%Y-%m-%d %H:%M:%S"), "cores": os.cpu_count(), "python": platform.python_version(),
            "platform": platform.platform(), "torch": torch, "commit": commit + (" (tree modified)" if dirty else "")}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", type=Path, help="write the results here (default: print only)")
    parser.add_argument("--label", default="", help="a name for this run in the JSON (e.g. before, after)")
    parser.add_argument("--top", type=int, default=15, help="how many tests to list per table")
    parser.add_argument("--keep-log", type=Path, help="keep the per-test records (JSON lines) here")
    parser.add_argument("--interval", type=float, default=0.2, help="seconds between samples")
    parser.add_argument("pytest_args", nargs="*", help=f"after --: pytest's arguments (default: {' '.join(DEFAULT_PYTEST)})")
    args = parser.parse_args(argv)
    about = machine()
    run = measure(args.pytest_args or DEFAULT_PYTEST, args.interval, args.keep_log)
    result = {"label": args.label, "machine": about, "pytest_args": args.pytest_args or DEFAULT_PYTEST,
              "method": f"total PSS (shared pages counted once) of the pytest process tree sampled every {args.interval} s from /proc; "
                        "main-process peak from VmHWM (tests/conftest.py, ARCHC_TEST_MEMORY)",
              **report(run, args.top)}
    print(f"\npytest exit {result['returncode']}, {result['tests']} tests, {result['wall_s']} s")
    print(f"peak memory of the process tree (PSS): {result['peak_tree_rss_mib']} MiB (during {result['peak_tree_rss_test']})")
    print(f"peak RSS of the pytest process: {result['peak_main_rss_mib']} MiB; at the end {result['final_main_rss_mib']} MiB")
    print("\ntests that raise the pytest process's peak most (MiB):")
    for row in result["top_peak_raisers"]:
        print(f"  +{row['hwm_rise_mib']:8.1f}  -> {row['hwm_after_mib']:8.1f}  {row['test']}")
    print("\ntests after which the most memory stays resident (MiB):")
    for row in result["top_retained"]:
        print(f"  {row['rss_change_mib']:+9.1f}  {row['test']}")
    print("\nhighest tree RSS while a test ran (MiB):")
    for row in result["top_tree_rss_during"]:
        print(f"  {row['tree_rss_mib']:9.1f}  {row['test']}")
    print("\npeak per file (MiB), highest first:")
    for name, value in list(result["peak_per_file_mib"].items())[:args.top]:
        print(f"  {value:9.1f}  {name}")
    if args.json:
        existing = json.loads(args.json.read_text()) if args.json.exists() else {}
        runs = existing.get("runs", []) if isinstance(existing, dict) else []
        runs = [r for r in runs if r.get("label") != args.label or not args.label] + [result]
        args.json.write_text(json.dumps({**(existing if isinstance(existing, dict) else {}), "runs": runs}, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
