"""Start-up cost of an archc command: what it imports and how long each import takes
(`python -X importtime`), grouped by top-level package, beside the command's wall time.

    .venv/bin/python benchmarks/import_cost.py [--runs 5] [-- check specs/resnet50.arch]

Default command: `archc check specs/resnet50.arch`; also `summary` of the same. Reported, as
medians over --runs processes: the wall time, the time spent importing (the root imports'
cumulative times), and per top-level package its modules' own import time and how many modules
it loads; then archc's own modules with their cumulative times (which include the third-party
imports they trigger), the largest first. -X importtime itself slows imports a little; the
wall time is measured in separate runs without it. Processes run with archc's bytecode cached
(as an installed package runs; see benchmarks/_bench.py `process_env`); the wall time without
cached bytecode (PYTHONDONTWRITEBYTECODE=1, as on the project's machines) is shown beside it.
"""
from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
from collections import defaultdict

import _bench as B

LINE = re.compile(r"import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)")


def importtime(argv: list[str]) -> list[tuple[int, int, int, str]]:
    """(self µs, cumulative µs, depth, module) for every import of one run."""
    done = subprocess.run([sys.executable, "-X", "importtime", *B.archc_cmd(*argv)[1:]], cwd=B.ROOT,
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=B.process_env())
    out = []
    for line in done.stderr.splitlines():
        m = LINE.match(line)
        if m:
            out.append((int(m.group(1)), int(m.group(2)), len(m.group(3)) // 2, m.group(4)))
    return out


def analyse(argv: list[str], runs: int) -> dict:
    importtime(argv)  # fills the bytecode cache
    per_run = [importtime(argv) for _ in range(runs)]
    wall = B.median_process(B.archc_cmd(*argv), runs)
    wall_no_pyc = B.median_process(B.archc_cmd(*argv), runs, bytecode=False)
    bare = B.median_process([sys.executable, "-c", "pass"], runs)
    totals, packages, counts, archc_cum = [], defaultdict(list), {}, defaultdict(list)
    for rows in per_run:
        totals.append(sum(cum for _s, cum, depth, _m in rows if depth == 0) / 1e6)
        by_pkg: dict[str, int] = defaultdict(int)
        n: dict[str, int] = defaultdict(int)
        for self_us, cum, depth, mod in rows:
            top = mod.split(".")[0]
            by_pkg[top] += self_us
            n[top] += 1
            if top == "archc":
                archc_cum[mod].append(cum / 1e6)
        for k, v in by_pkg.items():
            packages[k].append(v / 1e6)
        counts = dict(n)
    pkg = sorted(((k, statistics.median(v), counts.get(k, 0)) for k, v in packages.items()), key=lambda r: -r[1])
    mods = sorted(((k, statistics.median(v)) for k, v in archc_cum.items()), key=lambda r: -r[1])
    return {"argv": argv, "wall_s": wall, "wall_without_bytecode_s": wall_no_pyc, "bare_python_s": bare, "import_s": statistics.median(totals),
            "modules": sum(counts.values()), "packages": [{"package": k, "self_s": s, "modules": c} for k, s, c in pkg],
            "archc_modules": [{"module": k, "cumulative_s": s} for k, s in mods]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--top", type=int, default=15)
    parser.add_argument("--json", help="results file (default: benchmarks/results/import_cost.json)")
    parser.add_argument("command", nargs="*", help="archc arguments (default: check and summary of resnet50)")
    args = parser.parse_args()
    commands = [args.command] if args.command else [["check", "specs/resnet50.arch"], ["summary", "specs/resnet50.arch"]]
    info = B.machine()
    print(f"import_cost: medians of {args.runs} processes; {B.describe(info)}")
    results = []
    for argv in commands:
        r = analyse(argv, args.runs)
        results.append(r)
        print(f"\narchc {' '.join(argv)}: wall {r['wall_s'] * 1e3:.0f} ms (bare python {r['bare_python_s'] * 1e3:.0f} ms; "
              f"{r['wall_without_bytecode_s'] * 1e3:.0f} ms without cached bytecode), "
              f"imports {r['import_s'] * 1e3:.0f} ms under -X importtime, {r['modules']} modules")
        print(B.table(["package", "own import ms", "modules"],
                      [[p["package"], f"{p['self_s'] * 1e3:.1f}", p["modules"]] for p in r["packages"][:args.top]]))
        print("\narchc modules, cumulative import ms (their third-party imports included):")
        print(B.table(["module", "cumulative ms"],
                      [[m["module"], f"{m['cumulative_s'] * 1e3:.1f}"] for m in r["archc_modules"][:args.top]]))
    out = B.write_json("import_cost", {"machine": info, "runs": args.runs, "commands": results}, args.json)
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
