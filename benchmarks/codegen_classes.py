"""Generated code per zoo spec: how many classes the file has against the block definitions the
spec uses (one class per definition, plus the model, is the target of issue 17), and how long
source generation takes, for this checkout and, with --compare REV, for another commit measured
in the same run (checked out into a temporary git worktree and run in a subprocess).

    .venv/bin/python benchmarks/codegen_classes.py                 # this checkout
    .venv/bin/python benchmarks/codegen_classes.py --compare 61c6fcd
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# run in the tree being measured (its own archc on sys.path): prints one JSON object
_MEASURE = r'''
import json, re, statistics, sys, time
from pathlib import Path
import archc
from archc.lower.codegen import generate
root = Path(sys.argv[1])
runs = int(sys.argv[2])
specs = sorted((root / "specs").glob("*.arch")) + sorted((root / "specs" / "torchvision").glob("*.arch"))
out = {}
for path in specs:
    model = archc.load(path)
    times = []
    for _ in range(runs):
        start = time.process_time()
        source = generate(model.graph, spec=model.spec).source
        times.append(time.process_time() - start)
    classes = re.findall(r"^class (\w+)\(", source, re.M)
    blocks = sorted({s.type_name for s in model.graph.scopes.values() if s.kind == "block"})
    out[str(path.relative_to(root / "specs"))] = {"classes": classes, "blocks": blocks,
                                                   "seconds": statistics.median(times)}
print(json.dumps(out))
'''


def measure(tree: Path, runs: int) -> dict:
    proc = subprocess.run([sys.executable, "-c", _MEASURE, str(tree), str(runs)], cwd=tree,
                          capture_output=True, text=True, env={"PYTHONPATH": str(tree), "PATH": "/usr/bin:/bin"})
    if proc.returncode:
        raise SystemExit(proc.stderr)
    return json.loads(proc.stdout)


def helper_classes(names: list[str]) -> int:
    """Classes of the file that are no block and no model: op helpers (Permute, StochasticDepth)."""
    return sum(1 for n in names if n in {"Permute", "StochasticDepth", "AxisLayerNorm", "AxisLinear",
                                         "SeparableConv", "Constant", "MinPool1d", "MinPool2d", "MinPool3d"})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--compare", help="another commit to measure in the same run")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json", type=Path, default=ROOT / "benchmarks" / "results" / "codegen_classes.json")
    args = parser.parse_args()
    results = {"this checkout": measure(ROOT, args.runs)}
    if args.compare:
        with tempfile.TemporaryDirectory() as tmp:
            tree = Path(tmp) / "tree"
            subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", "-q", str(tree), args.compare],
                           check=True)
            try:
                results[args.compare] = measure(tree, args.runs)
            finally:
                subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(tree)], check=True)
    names = list(results)
    print(f"{'spec':38s}" + "".join(f"{n[:18]:>20s}" for n in names) + f"{'block defs':>12s}")
    totals = {n: [0, 0.0] for n in names}
    over = {n: 0 for n in names}
    for spec in results[names[0]]:
        row = f"{spec:38s}"
        for n in names:
            r = results[n].get(spec)
            if r is None:
                row += f"{'-':>20s}"
                continue
            count = len(r["classes"]) - helper_classes(r["classes"])
            totals[n][0] += count
            totals[n][1] += r["seconds"]
            over[n] += count > len(r["blocks"]) + 1
            row += f"{count:>12d} {r['seconds'] * 1000:5.0f}ms"
        row += f"{len(results[names[0]][spec]['blocks']) + 1:>12d}"
        print(row)
    defs = sum(len(r["blocks"]) + 1 for r in results[names[0]].values())
    for n in names:
        print(f"{n}: {totals[n][0]} classes (block definitions + models: {defs}), "
              f"{over[n]} specs with more classes than definitions, generation {totals[n][1]:.1f} s CPU in all")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
