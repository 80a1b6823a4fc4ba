"""Python opcodes executed by `archc.load(spec)` + `.params` + `.macs` + `.summary()` (what
benchmarks/vs_torchinfo.py times), stage by stage, for this checkout and an earlier one.

    .venv/bin/python benchmarks/opcodes.py
    .venv/bin/python benchmarks/opcodes.py --before /tmp/base --models mobilenet_v2 densenet121
    (/tmp/base: `git archive COMMIT archc | tar -x -C /tmp/base`, plus a COMMIT file)

CPU time on a shared 2-core machine swings by up to 2× between minutes, more than most changes
this benchmark is for. The count of opcodes (sys.settrace with f_trace_opcodes) is deterministic:
the same code on the same spec gives the same count, run after run. It sees only Python-level work:
what C does (dict and set operations, hashing, string building, the cycle collector) is not in it,
so a change that moves work into C looks better here than in time; the timed benchmarks stay the
judges, this one says which way a change went when they cannot tell. Each model is loaded three
times before counting (the per-process caches warm, as after the timed benchmark's warm-up run), then
once counted, with elaboration in the calling thread (as `archc.deep` would run it on its worker).

Stages: parse (archc.frontend's parse_file), elaborate, sizes (the size check, model.from_graph),
metrics (`.params`, `.macs`) and summary (the text table). `--before DIR` counts the archc in DIR in
a child process, the same way.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import _bench as B

DEFAULT_MODELS = ["resnet18", "resnet50", "mobilenet_v2", "efficientnet_b0", "convnext_tiny", "densenet121",
                  "regnet_y_400mf"]
SPECS = B.ROOT / "specs" / "torchvision"
STAGES = ("parse", "elaborate", "sizes", "metrics", "summary")
# loads before counting: the parser compiles a kind of statement met a third time (frontend/replay.py)
WARM_RUNS = 3


def count(models: list[str]) -> dict:
    """Opcodes per stage of each model's load + params + macs + summary, in this interpreter's archc."""
    import archc
    import archc.deep
    from archc import model as M

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 100_000))
    archc.deep._state.deep = True  # elaboration in this thread, where the tracer sees it
    out = {}
    for name in models:
        spec = SPECS / f"{name}.arch"

        def operation():
            m = archc.load(spec)
            m.params, m.macs
            return m, m.summary()
        for _ in range(WARM_RUNS):
            operation()
        stage = ["other"]
        counts = dict.fromkeys((*STAGES, "other"), 0)

        def tracer(frame, event, arg):
            frame.f_trace_opcodes, frame.f_trace_lines = True, False
            if event == "opcode":
                counts[stage[0]] += 1
            return tracer

        def staged(function, label):
            def run(*args, **kwargs):
                outer, stage[0] = stage[0], label
                try:
                    return function(*args, **kwargs)
                finally:
                    stage[0] = outer
            return run
        originals = {attr: getattr(M, attr) for attr in ("parse_file", "elaborate", "from_graph")}
        for attr, label in (("parse_file", "parse"), ("elaborate", "elaborate"), ("from_graph", "sizes")):
            setattr(M, attr, staged(originals[attr], label))
        try:
            sys.settrace(tracer)
            m = archc.load(spec)
            stage[0] = "metrics"
            m.params, m.macs
            stage[0] = "summary"
            m.summary()
            sys.settrace(None)
        finally:
            sys.settrace(None)
            for attr, function in originals.items():
                setattr(M, attr, function)
        counts["layers"] = sum(1 for layer in m.graph.layers() if not layer.is_input)
        out[name] = counts
    return out


def before(src: str, models: list[str]) -> dict:
    env = dict(os.environ, ARCHC_BENCH_SRC=src, PYTHONPATH=src)
    done = subprocess.run([sys.executable, __file__, "--worker", "--models", *models], env=env,
                          capture_output=True, text=True, check=False)
    if done.returncode:
        sys.exit(f"the archc in {src} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", nargs="+", default=DEFAULT_MODELS)
    parser.add_argument("--before", metavar="DIR", help="also count the archc in DIR (a snapshot of a commit)")
    parser.add_argument("--out", help="the JSON file to write (default benchmarks/results/opcodes.json)")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(count(args.models)))
        return 0
    import archc
    assert Path(archc.__file__).resolve().is_relative_to(B.SRC), archc.__file__
    ours = count(args.models)
    theirs = before(args.before, args.models) if args.before else None
    rows = []
    for name in args.models:
        now = ours[name]
        total = sum(now[s] for s in STAGES)
        row = [name, now["layers"], *(f"{now[s] / 1000:,.0f}k" for s in STAGES), f"{total / 1000:,.0f}k",
               f"{total / now['layers']:,.0f}"]
        if theirs is not None:
            was = sum(theirs[name][s] for s in STAGES)
            row += [f"{was / 1000:,.0f}k", f"{total / was - 1:+.1%}"]
        rows.append(row)
    headers = ["model", "layers", *STAGES, "total", "per layer"] + (["before", "change"] if theirs else [])
    print(B.table(headers, rows))
    before_commit = None
    if args.before and (Path(args.before) / "COMMIT").exists():
        before_commit = (Path(args.before) / "COMMIT").read_text().strip()
    path = B.write_json("opcodes", {"machine": B.machine(), "stages": list(STAGES), "archc": ours,
                                    "before": theirs, "before_src": args.before, "before_commit": before_commit},
                        args.out)
    print(f"\nwritten: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
