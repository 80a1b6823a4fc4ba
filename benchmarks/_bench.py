"""Shared helpers of the benchmarks: medians, tables, JSON results, the machine's description,
log-log fits. Imports nothing beyond the standard library (the torch-side benchmarks run it in
another virtualenv)."""
from __future__ import annotations

import json
import math
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable, Sequence

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"

# The archc to measure: this checkout's, or (ARCHC_BENCH_SRC=DIR) the package in DIR, e.g. a
# snapshot of a commit taken with `git archive COMMIT archc | tar -x -C DIR` to compare with.
SRC = Path(os.environ.get("ARCHC_BENCH_SRC") or ROOT).resolve()
if str(SRC) not in sys.path[:1]:  # also under another interpreter (/work/tvenv)
    sys.path.insert(0, str(SRC))


def archc_cmd(*args: str) -> list[str]:
    """The command line running `archc ARGS` with the archc under measurement."""
    if SRC == ROOT:
        return [sys.executable, "-m", "archc.cli", *args]
    return [sys.executable, "-c", f"import sys; sys.path.insert(0, {str(SRC)!r}); from archc import cli; "
            "cli.entry() if hasattr(cli, 'entry') else sys.exit(cli.main())", *args]  # (as the command runs)


def as_load(fn: Callable[[], Any]) -> Callable[[], Any]:
    """`fn` run as `archc.load` runs its parse and elaboration: inside `archc.model`'s
    `collector_paused()` where this archc has it (the cycle collector paused), else as is."""
    import contextlib

    from archc import model
    context = getattr(model, "collector_paused", None) or getattr(model, "_collector_paused", contextlib.nullcontext)

    def run():
        with context():
            return fn()
    return run


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    value = fn()
    return time.perf_counter() - start, value


def timed_cpu(fn: Callable[[], Any]) -> tuple[float, Any]:
    """Like `timed`, in this process's CPU time (all its threads): other processes on a shared
    machine do not inflate it."""
    start = time.process_time()
    value = fn()
    return time.process_time() - start, value


def median_time(fn: Callable[[], Any], runs: int, warmup: int = 0, clock: str = "wall") -> float:
    """Median time of `runs` calls of `fn`, after `warmup` untimed ones; `clock` "wall" or "cpu"."""
    for _ in range(warmup):
        fn()
    timer = timed_cpu if clock == "cpu" else timed
    return statistics.median(timer(fn)[0] for _ in range(runs))


PYCACHE = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "archc-bench-pycache"


def process_env(extra: dict[str, str] | None = None, bytecode: bool = True) -> dict[str, str]:
    """The environment for a timed process. `bytecode`: as an installed package runs, with its
    modules' compiled bytecode cached (PYTHONDONTWRITEBYTECODE is dropped and the cache goes to
    PYCACHE, outside the checkout, via PYTHONPYCACHEPREFIX); else as this environment says (a
    machine with PYTHONDONTWRITEBYTECODE=1 compiles every archc module at every start)."""
    env = dict(os.environ)
    if bytecode:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env.setdefault("PYTHONPYCACHEPREFIX", str(PYCACHE))
    env.update(extra or {})
    return env


def median_process(cmd: Sequence[str], runs: int, env: dict[str, str] | None = None,
                   cwd: Path = ROOT, timeout: float | None = None, bytecode: bool = True,
                   warmup: int = 1, clock: str = "wall") -> float:
    """Median wall time of running `cmd` to its end (stdout discarded), after `warmup` untimed
    runs (which also fill the bytecode cache); raises on a failure. See `process_env`. `clock`
    "cpu": the child's user + system CPU time instead of the wall time."""
    times = []
    full_env = process_env(env, bytecode)
    for _ in range(warmup):
        subprocess.run(list(cmd), cwd=cwd, env=full_env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       timeout=timeout)
    import resource
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        done = subprocess.run(list(cmd), cwd=cwd, env=full_env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, timeout=timeout)
        wall = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        times.append(cpu if clock == "cpu" else wall)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} exited {done.returncode}: "
                               f"{done.stderr.decode(errors='replace')[-500:]}")
    return statistics.median(times)


def fit_exponent(sizes: Sequence[float], seconds: Sequence[float]) -> float | None:
    """The slope of log(seconds) against log(sizes), least squares; None with fewer than two
    points."""
    pts = [(math.log(n), math.log(t)) for n, t in zip(sizes, seconds) if t and t > 0 and n > 0]
    if len(pts) < 2:
        return None
    mx = sum(x for x, _ in pts) / len(pts)
    my = sum(y for _, y in pts) / len(pts)
    sxx = sum((x - mx) ** 2 for x, _ in pts)
    if sxx == 0:
        return None
    return sum((x - mx) * (y - my) for x, y in pts) / sxx


def fmt_seconds(t: float | None) -> str:
    if t is None:
        return "-"
    if t >= 100:
        return f"{t:.0f} s"
    if t >= 1:
        return f"{t:.2f} s"
    if t >= 1e-3:
        return f"{t * 1e3:.1f} ms"
    return f"{t * 1e6:.0f} µs"


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]], align: str | None = None) -> str:
    """A plain text table; `align`: one letter per column, "l" or "r" (default: first column
    left, the rest right)."""
    cells = [[str(h) for h in headers]] + [[str(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    align = align or "l" + "r" * (len(headers) - 1)
    out = []
    for k, r in enumerate(cells):
        out.append("  ".join(c.ljust(w) if a == "l" else c.rjust(w) for c, w, a in zip(r, widths, align)).rstrip())
        if k == 0:
            out.append("  ".join("-" * w for w in widths))
    return "\n".join(out)


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _version(dist: str) -> str | None:
    from importlib import metadata
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def machine(extra_dists: Sequence[str] = ()) -> dict[str, Any]:
    """The machine and the versions that matter, read without importing torch."""
    info: dict[str, Any] = {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "executable": sys.executable,
        "date": time.strftime("%Y-%m-%d %H:%M:%S"),
    }
    for dist in ("lark", "pydantic", "networkx", "PyYAML", "torch", "torchvision", *extra_dists):
        v = _version(dist)
        if v:
            info[dist] = v
    try:
        rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                             text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "archc"], cwd=ROOT, capture_output=True,
                               text=True, timeout=10).stdout.strip()
        info["archc_commit"] = rev + (" (archc/ modified)" if dirty else "")
        if SRC != ROOT:
            commit = SRC / "COMMIT"
            info["archc_commit"] = f"{SRC}" + (f" ({commit.read_text().strip()})" if commit.exists() else "")
    except (OSError, subprocess.SubprocessError):
        pass
    return info


def describe(info: dict[str, Any]) -> str:
    keys = [k for k in ("cpu", "cores", "python", "torch", "torchvision", "archc_commit") if k in info]
    return "; ".join(f"{k} {info[k]}" for k in keys)


def write_json(name: str, data: dict[str, Any], path: str | None = None) -> Path:
    """Write the results to `path`, or benchmarks/results/<name>.json."""
    target = Path(path) if path else RESULTS / f"{name}.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(data, indent=2, default=str) + "\n")
    return target
