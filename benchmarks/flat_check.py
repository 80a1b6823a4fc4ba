"""`archc check` of a flat spec of about 100,000 statements, one layer each (issue #23's target: at
most 5 s on the project's 2-core machine), as a whole process and split into its stages in process,
for this checkout and (--before DIR) an earlier snapshot, measured alternately in one run.

    .venv/bin/python benchmarks/flat_check.py [--before DIR] [--statements 99990] [--runs 3]

A snapshot: `git archive COMMIT archc | tar -x -C DIR`. Whole-process times are the child's user +
system CPU time (a busy shared machine inflates wall times, not these), with the bytecode cached as
an installed package has it, and ARCHC_MAX_SECONDS raised so that a slow version is measured rather
than stopped at the 10 s default. The flat spec has 99,990 statements: the model then has one layer
per statement and stays under the 100,000-layer limit with its output head.
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import _bench as B

sys.path.insert(0, str(B.ROOT / "tools"))
import synthetic_specs as S  # noqa: E402

STAGES = """
import json, sys, time
sys.path.insert(0, {src!r})
sys.setrecursionlimit(100000)
from archc.collector import paused
from archc.frontend import parse_file
from archc.ir.elaborate import elaborate
from archc.analysis import metrics
path = {path!r}
with paused():
    t0 = time.process_time(); spec = parse_file(path)
    t1 = time.process_time(); graph = elaborate(spec, path, {{}})
    t2 = time.process_time()
    sizes = getattr(metrics, "check_sizes", None) or metrics.size_limits
    sizes(graph)
    t3 = time.process_time()
print(json.dumps({{"parse_s": t1 - t0, "elaborate_s": t2 - t1, "size_check_s": t3 - t2}}))
"""

# what the `archc` command runs (cli.entry; an older snapshot without it: sys.exit(main()))
CHECK = ("import sys; sys.path.insert(0, {src!r}); from archc import cli; "
         "cli.entry() if hasattr(cli, 'entry') else sys.exit(cli.main())")


def whole(src: Path, spec: Path) -> float:
    return B.median_process([sys.executable, "-c", CHECK.format(src=str(src)), "check", str(spec)], 1,
                            env={"ARCHC_MAX_SECONDS": "600", "OMP_NUM_THREADS": "1"}, warmup=0, clock="cpu")


def stages(src: Path, spec: Path) -> dict:
    done = subprocess.run([sys.executable, "-c", STAGES.format(src=str(src), path=str(spec))],
                          capture_output=True, text=True, env=B.process_env({"ARCHC_MAX_SECONDS": "600"}))
    if done.returncode != 0:
        raise SystemExit(f"stages of {src} failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--before", type=Path, help="an earlier archc package's folder (a snapshot)")
    parser.add_argument("--statements", type=int, default=99_990)
    parser.add_argument("--runs", type=int, default=3, help="alternating runs of each version (median)")
    parser.add_argument("--json", type=Path, default=B.RESULTS / "flat_check.json")
    args = parser.parse_args()
    versions = {"after": B.ROOT}
    if args.before is not None:
        versions = {"before": args.before.resolve(), **versions}
    with tempfile.TemporaryDirectory() as folder:
        spec = Path(folder) / f"flat_{args.statements}.arch"
        spec.write_text(S.flat(args.statements))
        for src in versions.values():  # untimed: fills the bytecode cache
            whole(src, spec)
        times: dict[str, list[float]] = {name: [] for name in versions}
        split: dict[str, list[dict]] = {name: [] for name in versions}
        for _ in range(args.runs):
            for name, src in versions.items():
                times[name].append(whole(src, spec))
                split[name].append(stages(src, spec))
    rows, out = [], {"statements": args.statements, "runs": args.runs, "clock": "cpu", "versions": {}}
    for name in versions:
        parts = {key: statistics.median(s[key] for s in split[name]) for key in split[name][0]}
        check = statistics.median(times[name])
        out["versions"][name] = {"src": str(versions[name]), "check_s": check, **parts}
        rows.append([name, B.fmt_seconds(check), *(B.fmt_seconds(parts[k]) for k in ("parse_s", "elaborate_s",
                                                                                       "size_check_s"))])
    if "before" in versions:
        out["speedup"] = out["versions"]["before"]["check_s"] / out["versions"]["after"]["check_s"]
    print(f"archc check of a flat {args.statements:,}-statement spec, CPU time, medians of {args.runs}:")
    print(B.table(["version", "archc check (process)", "parse", "elaborate", "size check"], rows))
    if "speedup" in out:
        print(f"after / before: {1 / out['speedup']:.2f} of the time ({out['speedup']:.2f}x faster)")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(out, indent=1) + "\n")
    print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
