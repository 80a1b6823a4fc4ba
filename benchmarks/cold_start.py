"""Cold start of the static path, as ratios against reference runs on the same machine, now.

    .venv/bin/python benchmarks/cold_start.py [--runs 5]

Reference: a bare interpreter (`python -c pass`) and `import torch`, which the static path
must never pay for. Reported: median wall time of each command and its ratio to the bare
interpreter; the torch row shows what a torch-importing checker would cost.
"""
from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

COMMANDS = {
    "python -c pass (reference)": [sys.executable, "-c", "pass"],
    "import archc": [sys.executable, "-c", "import archc"],
    "archc check lenet5": [sys.executable, "-m", "archc.cli", "check", "specs/lenet5.arch"],
    "archc check resnet152": [sys.executable, "-m", "archc.cli", "check", "specs/resnet152.arch"],
    "archc summary resnet50 --format json": [sys.executable, "-m", "archc.cli", "summary",
                                            "specs/resnet50.arch", "--format", "json"],
    "import pydantic, lark, networkx, yaml": [sys.executable, "-c", "import pydantic, lark, networkx, yaml"],
    "import torch (what we avoid)": [sys.executable, "-c", "import torch"],
}


def median_seconds(cmd: list[str], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(cmd, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    results = {name: median_seconds(cmd, args.runs) for name, cmd in COMMANDS.items()}
    base = results["python -c pass (reference)"]
    width = max(map(len, results))
    print(f"{'command':<{width}}  {'median s':>9}  {'× bare python':>13}")
    for name, seconds in results.items():
        print(f"{name:<{width}}  {seconds:>9.3f}  {seconds / base:>13.1f}")


if __name__ == "__main__":
    main()
