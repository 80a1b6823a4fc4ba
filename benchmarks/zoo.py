"""Every zoo spec through every stage of the static pipeline, in process, medians of repeated runs.

    .venv/bin/python benchmarks/zoo.py [--runs 3] [--filter resnet] [--clock cpu|wall] [--json FILE]

Specs: specs/*.arch, specs/*.yaml and specs/torchvision/*.arch. Stages, each timed alone on the
previous stage's fresh result (nothing cached between runs):

    parse      the file's text to the AST (lark for .arch, PyYAML + pydantic for .yaml)
    elaborate  AST to graph IR with shapes (and the size-limit checks `archc.load` makes)
    analyse    parameters, MACs, activation memory, receptive field, per-op totals
    text       `archc summary` text (the layer table)
    json       `archc summary --format json`
    dot        `archc draw -o x.dot`
    source     `archc compile` (the PyTorch source; elaborates the spec again to find
               constructor arguments)

Times are this process's CPU time by default (--clock cpu), wall time with --clock wall.
`load` = parse + elaborate + analyse (what `archc.load(...).params` costs); `total` = every stage.
One untimed pass over every spec runs first (imports, parser tables). Reference rows give the
cost in units the reader knows: the median per-layer time of each stage over the zoo.
"""
from __future__ import annotations

import argparse
import gc
import statistics
import sys
from pathlib import Path

import _bench as B

SPEC_GLOBS = ("specs/*.arch", "specs/*.yaml", "specs/torchvision/*.arch")
STAGES = ("parse", "elaborate", "analyse", "text", "json", "dot", "source")


def zoo_specs(pattern: str | None = None) -> list[Path]:
    out = []
    for g in SPEC_GLOBS:
        out += sorted(B.ROOT.glob(g))
    return [p for p in out if not pattern or pattern in str(p.relative_to(B.ROOT))]


def run_once(path: Path, clock: str = "cpu") -> tuple[dict[str, float], int]:
    """Seconds per stage for one spec, and its number of layers."""
    from archc.analysis.metrics import analyse, by_op, quoted_macs
    from archc.backends import diagram, report
    from archc.frontend import parse_file
    from archc.lower.codegen import generate
    from archc.model import _build

    timed = B.timed_cpu if clock == "cpu" else B.timed
    t: dict[str, float] = {}
    t["parse"], spec = timed(B.as_load(lambda: parse_file(path)))
    t["elaborate"], model = timed(B.as_load(lambda: _build(spec, str(path), None)))

    def analysis():
        metrics = analyse(model.graph)
        model.__dict__["metrics"] = metrics  # Model.metrics is a cached_property: set it
        rows = by_op(model.graph, metrics)
        return metrics.totals.params, metrics.totals.macs, quoted_macs(rows)

    t["analyse"], _ = timed(analysis)
    t["text"], _ = timed(lambda: report.render(model, "text"))
    t["json"], _ = timed(lambda: report.render(model, "json"))
    t["dot"], _ = timed(lambda: diagram.draw(model, "dot"))
    t["source"], _ = timed(lambda: generate(model.graph, spec=model.spec).source)
    layers = sum(1 for n in model.graph.layers() if not n.is_input)
    return t, layers


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="timed runs per spec (median; default 3)")
    parser.add_argument("--filter", help="only specs whose path contains this text")
    parser.add_argument("--clock", choices=["cpu", "wall"], default="cpu",
                        help="cpu (default): this process's CPU time, which other work on a shared machine does "
                             "not inflate; wall: wall time")
    parser.add_argument("--json", help="results file (default: benchmarks/results/zoo.json)")
    args = parser.parse_args()
    specs = zoo_specs(args.filter)
    for p in specs:  # warm-up: imports, parser tables, op registry
        run_once(p)
    results = []
    for p in specs:
        runs = []
        for _ in range(args.runs):
            gc.collect()
            runs.append(run_once(p, args.clock))
        layers = runs[0][1]
        med = {s: statistics.median(r[0][s] for r in runs) for s in STAGES}
        med["load"] = med["parse"] + med["elaborate"] + med["analyse"]
        med["total"] = sum(med[s] for s in STAGES)
        results.append({"spec": str(p.relative_to(B.ROOT)), "layers": layers, "seconds": med})

    cols = ("parse", "elaborate", "analyse", "load", "text", "json", "dot", "source", "total")
    rows = [[r["spec"].removeprefix("specs/"), r["layers"], *(B.fmt_seconds(r["seconds"][c]) for c in cols)]
            for r in results]
    sums = {c: sum(r["seconds"][c] for r in results) for c in cols}
    rows.append(["(all specs, sum)", sum(r["layers"] for r in results), *(B.fmt_seconds(sums[c]) for c in cols)])
    per_layer = {c: statistics.median(r["seconds"][c] / r["layers"] for r in results) for c in cols}
    rows.append(["(median per layer)", 1, *(B.fmt_seconds(per_layer[c]) for c in cols)])
    slowest = max(results, key=lambda r: r["seconds"]["total"])
    info = B.machine()
    print(f"zoo: {len(results)} specs, median of {args.runs} runs, in process, {args.clock} time; {B.describe(info)}")
    print(B.table(["spec", "layers", *cols], rows))
    print(f"\nslowest: {slowest['spec']} ({slowest['layers']} layers) "
          f"{B.fmt_seconds(slowest['seconds']['total'])}; stage shares over the zoo: "
          + ", ".join(f"{s} {sums[s] / sums['total']:.0%}" for s in STAGES))
    out = B.write_json("zoo", {"machine": info, "runs": args.runs, "clock": args.clock, "specs": results,
                               "sum_seconds": sums, "median_seconds_per_layer": per_layer}, args.json)
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
