"""What a summary costs after the graph is built: `Model(spec, graph, []).summary()` (the metrics
`analyse` and the text table) on zoo specs, per layer; the JSON and markdown summaries; and the
size check `load` runs (`size_limits`) and what `archc check` prints (`check`: the size check
and `Model.params`, as `load` and `cmd_check` call them) on zoo specs and a flat synthetic spec.

    .venv/bin/python benchmarks/summary_speed.py                    # [--runs 21] [--models ...]
    .venv/bin/python benchmarks/summary_speed.py --before /tmp/base  # and an earlier snapshot

Each spec is loaded once; the timed call builds a fresh `Model` on that graph, so nothing a
previous call computed is reused (the metrics are a cached property of the Model), and what the
graph keeps once found is put back before every run as a user's call finds it: no scope index
(the first summary or diagram builds it); the parameter shapes the load's size check found (none
before the size check stages).
With --before DIR (`git archive COMMIT archc | tar -x -C DIR`), the archc in DIR is measured
too, model by model alternately with this checkout's, each in a child process; the ratio is
before / now. CPU time (time.process_time), medians.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

import _bench as B

MODELS = ["resnet18", "mobilenet_v2", "efficientnet_b0", "regnet_y_400mf", "densenet121", "convnext_tiny"]
FLAT_LAYERS = 99990


def _spec(name: str) -> str:
    return str(B.ROOT / "specs" / "torchvision" / f"{name}.arch") if name != "flat" else name


def measure(name: str, runs: int) -> dict:
    """CPU seconds (medians) of the stages after elaboration, for one zoo model or the flat spec."""
    import archc
    from archc.analysis import metrics
    from archc.analysis.metrics import analyse, size_limits
    from archc.model import Model
    if name == "flat":
        sys.path.insert(0, str(B.ROOT / "tools"))
        import synthetic_specs
        os.environ.update(synthetic_specs.limits_env(FLAT_LAYERS))
        m = archc.loads(synthetic_specs.flat(FLAT_LAYERS))
        runs = max(3, runs // 4)
    else:
        m = archc.load(_spec(name))
    spec, graph = m.spec, m.graph
    check_sizes = getattr(metrics, "check_sizes", None)  # absent before the size check gave the count

    def check() -> int:
        """What `load` does after elaboration, and the count `archc check` prints."""
        if check_sizes is None:
            size_limits(graph)
            return Model(spec, graph, []).params
        return Model(spec, graph, [], check_sizes(graph).params).params

    shapes_found = dict(graph._param_shapes)  # what the load's size check found

    def before_size_check() -> None:
        graph._param_shapes.clear()
        graph._index = None

    def after_load() -> None:
        graph._param_shapes.clear()
        graph._param_shapes.update(shapes_found)
        graph._index = None

    out = {"layers": sum(1 for n in graph.layers() if not n.is_input)}
    stages = {"size_limits": (lambda: size_limits(graph), before_size_check), "check": (check, before_size_check)}
    if name != "flat":
        stages.update({
            "analyse": (lambda: analyse(graph), after_load),
            "summary": (lambda: Model(spec, graph, []).summary(), after_load),
            "markdown": (lambda: Model(spec, graph, []).summary("markdown"), after_load),
            "json": (lambda: Model(spec, graph, []).summary("json"), after_load),
        })
    for stage, (fn, reset) in stages.items():
        out[stage] = _median_cpu(fn, reset, runs)
    return out


def _median_cpu(fn, reset, runs: int) -> float:
    """Median CPU seconds of `fn`, each run after `reset` puts back the graph as a user's call
    finds it: what the graph keeps once found (a layer's parameter shapes, the scope index) as
    load leaves it."""
    times = []
    for _ in range(runs + 1):  # the first: warm-up
        reset()
        start = time.process_time()
        fn()
        times.append(time.process_time() - start)
    return statistics.median(times[1:])


def measure_in(src: str, name: str, runs: int) -> dict:
    """`measure` of the archc in `src`, in a child process."""
    done = subprocess.run([sys.executable, os.path.abspath(__file__), "--worker", name, "--runs", str(runs)],
                          capture_output=True, text=True, cwd=B.ROOT,
                          env={**os.environ, "OMP_NUM_THREADS": "1", "ARCHC_BENCH_SRC": src})
    if done.returncode:
        raise SystemExit(f"the archc in {src} failed on {name}:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=MODELS + ["flat"])
    parser.add_argument("--runs", type=int, default=21)
    parser.add_argument("--before", metavar="DIR", help="also measure the archc package in DIR, alternately")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--json", default=str(B.RESULTS / "summary_speed.json"))
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(measure(args.worker, args.runs)))
        return 0
    results: dict = {"now": {}, "before": {}}
    for name in args.models:
        if args.before:
            results["before"][name] = measure_in(args.before, name, args.runs)
        results["now"][name] = measure_in(str(B.ROOT), name, args.runs)
    rows = []
    for name, now in results["now"].items():
        before = results["before"].get(name, {})
        for stage, seconds in now.items():
            if stage == "layers":
                continue
            per_layer = f"{seconds / now['layers'] * 1e6:.2f} µs"
            row = [name, now["layers"], stage, f"{seconds * 1e3:.3f} ms", per_layer]
            if before:
                row += [f"{before[stage] * 1e3:.3f} ms", f"{before[stage] / seconds:.2f}×"]
            rows.append(row)
    headers = ["model", "layers", "stage", "now", "per layer"] + (["before", "before / now"] if args.before else [])
    print(B.table(headers, rows))
    with open(args.json, "w") as f:
        json.dump({"machine": B.machine(), "runs": args.runs, **results}, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
