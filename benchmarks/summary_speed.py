"""What a summary costs after the graph is built: `Model(spec, graph, []).summary()` (the metrics
`analyse` and the text table) on zoo specs, per layer; the JSON and markdown summaries; and the
size check `load` runs (`size_limits`) and what `archc check` prints (`check`: the size check
and `Model.params`, as `load` and `cmd_check` call them) on zoo specs and a flat synthetic spec.

The three stages of `archc.load(spec)`, `.params`, `.macs` and `.summary()` after elaboration,
apart and together: `sizes` (`archc.model.from_graph`: the size check), `metrics` (`.params` and
`.macs` of the loaded model: `analyse`), `text` (`.summary()` once the metrics are found: the
scope index, per-scope totals and the table), and `stages` (the three in a row, from the graph).

    .venv/bin/python benchmarks/summary_speed.py                    # [--runs 21] [--models ...]
    .venv/bin/python benchmarks/summary_speed.py --before /tmp/base  # and an earlier snapshot
    .venv/bin/python benchmarks/summary_speed.py --before /tmp/base --stages sizes metrics text stages \
        --models mobilenet_v2 efficientnet_b0 regnet_y_400mf densenet121   # load's three stages

Each spec is loaded once; the timed call builds a fresh `Model` on that graph, so nothing a
previous call computed is reused (the metrics are a cached property of the Model), and what the
graph keeps once found is put back before every run as a user's call finds it: no scope index
(the first summary or diagram builds it); the parameter shapes and the layer kinds the load's size
check found (none before the size check stages).
With --before DIR (`git archive COMMIT archc | tar -x -C DIR`), the archc in DIR is measured
too, each in a child process that stays up for a model: every run of a stage is made by one and
then the other (which goes first alternates), so a busy machine weighs on both alike; the ratio
is before / now. CPU time (time.process_time), medians.
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


def measure(name: str, runs: int, only: list[str] | None = None) -> dict:
    """CPU seconds (medians) of the stages after elaboration, for one zoo model or the flat spec."""
    layers, stages = _stages(name, only)
    if name == "flat":
        runs = max(3, runs // 4)
    out = {"layers": layers}
    for stage, (fn, reset) in stages.items():
        out[stage] = _median_cpu(fn, reset, runs)
    return out


def _stages(name: str, only: list[str] | None) -> tuple[int, dict]:
    """The model's layer count, and its stages: name -> (the timed call, what puts the graph back
    before it)."""
    import archc
    import archc.model
    from archc.analysis import metrics
    from archc.analysis.metrics import analyse, size_limits
    from archc.model import Model
    from_graph = getattr(archc.model, "from_graph", None)  # absent before load's stages were one function
    if name == "flat":
        sys.path.insert(0, str(B.ROOT / "tools"))
        import synthetic_specs
        os.environ.update(synthetic_specs.limits_env(FLAT_LAYERS))
        m = archc.loads(synthetic_specs.flat(FLAT_LAYERS))
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
    kinds_found = getattr(graph, "_kinds", None)  # the layers' kinds it found (absent before they were kept)

    def before_size_check() -> None:
        graph._param_shapes.clear()
        graph._index = None
        if kinds_found is not None:
            graph._kinds = None

    def after_load() -> None:
        graph._param_shapes.clear()
        graph._param_shapes.update(shapes_found)
        graph._index = None
        if kinds_found is not None:
            graph._kinds = kinds_found

    known = [m._params] if hasattr(m, "_params") else []  # the count load's size check found

    def loaded() -> Model:
        """What `load` does after elaboration: the model, its size check done."""
        if from_graph is not None:
            return from_graph(spec, graph, [])
        return Model(spec, graph, [], *([check_sizes(graph).params] if check_sizes else []))

    def read_counts() -> tuple:
        """`.params` and `.macs` of a model as load returns it (the metrics found)."""
        model = Model(spec, graph, [], *known)
        return model, model.params, model.macs

    summarised: list[Model] = []

    def with_metrics() -> None:
        """The graph as load leaves it, and a loaded model whose `.params` and `.macs` were read."""
        after_load()
        model = Model(spec, graph, [], *known)
        summarised[:] = [model, model.params, model.macs]

    def stages_in_a_row() -> tuple:
        model = loaded()
        return model, model.params, model.macs, model.summary()

    layers = sum(1 for n in graph.layers() if not n.is_input)
    stages = {"size_limits": (lambda: size_limits(graph), before_size_check), "check": (check, before_size_check)}
    if name != "flat":
        stages.update({
            "analyse": (lambda: analyse(graph), after_load),
            "summary": (lambda: Model(spec, graph, []).summary(), after_load),
            "markdown": (lambda: Model(spec, graph, []).summary("markdown"), after_load),
            "json": (lambda: Model(spec, graph, []).summary("json"), after_load),
            "sizes": (loaded, before_size_check),
            "metrics": (read_counts, after_load),
            "text": (lambda: summarised[0].summary(), with_metrics),
            "stages": (stages_in_a_row, before_size_check),
        })
    return layers, {stage: calls for stage, calls in stages.items() if not only or stage in only}


def _median_cpu(fn, reset, runs: int) -> float:
    """Median CPU seconds of `fn`, each run after `reset` puts back the graph as a user's call
    finds it: what the graph keeps once found (a layer's parameter shapes, the scope index) as
    load leaves it."""
    times = [_cpu(fn, reset) for _ in range(runs + 1)]
    return statistics.median(times[1:])  # (the first: warm-up)


def _cpu(fn, reset) -> float:
    """CPU seconds of one call of `fn` after `reset`."""
    reset()
    start = time.process_time()
    result = fn()
    seconds = time.process_time() - start
    del result  # (freed after the clock stops: what a caller keeps)
    return seconds


def serve(name: str, only: list[str] | None) -> None:
    """A worker measured run by run: its layer count and stages first, then for each stage
    named on stdin the CPU seconds of one run."""
    layers, stages = _stages(name, only)
    print(json.dumps([layers, list(stages)]), flush=True)
    for line in sys.stdin:
        print(_cpu(*stages[line.strip()]), flush=True)


def measure_paired(sources: dict[str, str], name: str, runs: int, only: list[str] | None) -> dict:
    """Each archc of `sources` (version -> folder) measured in its own child process, run by
    run: every run of a stage goes to each child in turn (which goes first alternates), so that
    what else the machine does weighs on both alike. Medians of CPU seconds, per version."""
    children = {version: subprocess.Popen(
        [sys.executable, os.path.abspath(__file__), "--serve", name, *(["--stages", *only] if only else [])],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=B.ROOT,
        env={**os.environ, "OMP_NUM_THREADS": "1", "ARCHC_BENCH_SRC": src}) for version, src in sources.items()}
    try:
        heads = {version: json.loads(child.stdout.readline() or "null") for version, child in children.items()}
        if None in heads.values():
            raise SystemExit(f"a measured archc failed on {name}")
        layers, stages = next(iter(heads.values()))
        times: dict[str, dict[str, list[float]]] = {version: {stage: [] for stage in stages} for version in children}
        order = list(children)
        for run in range(runs + 1):
            for stage in stages:
                for version in order if run % 2 else order[::-1]:
                    child = children[version]
                    child.stdin.write(stage + "\n")
                    child.stdin.flush()
                    times[version][stage].append(float(child.stdout.readline()))
        return {version: {"layers": layers, **{stage: statistics.median(seconds[1:]) for stage, seconds in
                                               by_stage.items()}} for version, by_stage in times.items()}
    finally:
        for child in children.values():
            child.stdin.close()
            child.wait()


def measure_in(src: str, name: str, runs: int, only: list[str] | None = None) -> dict:
    """`measure` of the archc in `src`, in a child process."""
    done = subprocess.run([sys.executable, os.path.abspath(__file__), "--worker", name, "--runs", str(runs),
                           *(["--stages", *only] if only else [])],
                          check=False, capture_output=True, text=True, cwd=B.ROOT,
                          env={**os.environ, "OMP_NUM_THREADS": "1", "ARCHC_BENCH_SRC": src})
    if done.returncode:
        raise SystemExit(f"the archc in {src} failed on {name}:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=MODELS + ["flat"])
    parser.add_argument("--runs", type=int, default=21)
    parser.add_argument("--stages", nargs="+", help="only these stages (e.g. sizes metrics text stages)")
    parser.add_argument("--before", metavar="DIR", help="also measure the archc package in DIR, alternately")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--serve", help=argparse.SUPPRESS)
    parser.add_argument("--json", default=str(B.RESULTS / "summary_speed.json"))
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(measure(args.worker, args.runs, args.stages)))
        return 0
    if args.serve:
        serve(args.serve, args.stages)
        return 0
    results: dict = {"now": {}, "before": {}}
    for name in args.models:
        if args.before and name != "flat":
            paired = measure_paired({"before": args.before, "now": str(B.ROOT)}, name, args.runs, args.stages)
            results["before"][name], results["now"][name] = paired["before"], paired["now"]
            continue
        if args.before:
            results["before"][name] = measure_in(args.before, name, args.runs, args.stages)
        results["now"][name] = measure_in(str(B.ROOT), name, args.runs, args.stages)
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
