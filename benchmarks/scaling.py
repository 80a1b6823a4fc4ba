"""How the static pipeline scales with the number of layers: synthetic specs of 100 to 100,000
layers in three forms, every stage timed, and the fitted exponent of time against layers.

    .venv/bin/python benchmarks/scaling.py                      # 100, 1,000, 10,000 layers (~3 min)
    .venv/bin/python benchmarks/scaling.py --full --timeout 120 # and 100,000 (long: see README)
    .venv/bin/python benchmarks/scaling.py --forms repeat --sizes 1000 3000 10000 --whole-process

Forms (tools/synthetic_specs.py): `flat` (every layer its own statement, automatic names),
`repeat` (a residual block in one `repeat(k, …)`), `nested` (blocks four to a level, nested
log4(layers) deep). Stages, in process, each timed once on the previous stage's result
(median of --runs below 10,000 layers):

    parse      the spec text to the AST (lark)
    elaborate  AST to the graph IR with shapes, and the size-limit checks (`archc.load`)
    analyse    parameters, MACs, memory, receptive field (`Model.metrics`)
    text       `archc summary` rendering (the model loaded and analysed)
    json       `archc summary --format json` rendering
    dot        `archc draw -o x.dot` rendering
    compile    `archc compile` rendering: generated source (elaborates the spec twice more)
    check      the whole `archc check` command, in process (`archc.cli.main`)
    reference  not archc's: the least a per-layer pass does (each layer's op, attributes, shape
               and input shapes copied into a record, the records kept by layer id; the cycle
               collector paused, as in archc's stages), the same run's yardstick for how per-layer work grows on this machine once the model no
               longer fits in the CPU caches

So a command in process costs about parse + elaborate + analyse + its rendering; the second
table adds them up (check is measured). With --whole-process the commands also run as
`archc …` processes (cold start included).

Each (form, size) runs in a worker process; a stage that takes longer than --timeout seconds is
stopped and reported as "> cap" (the worker is restarted for the stages after it; stages that
need an unfinished one are "not reached"). The exponent is the least-squares slope of
log(time) against log(layers) over the sizes from 1,000 up; where a stage hit the cap, the
cap stands in for its time and the exponent is a lower bound ("≥"). Times are the worker's CPU
time by default (--clock cpu: other work on a shared 2-core machine does not inflate them; GC
and archc's deep-stack thread are included), wall time with --clock wall; the cap is wall time.

Sizes over archc's limits (10,000 repeat copies, 100,000 layers) are run with the limits
raised through the environment (ARCHC_MAX_REPEAT, ARCHC_MAX_LAYERS; ARCHC_MAX_EVAL_SECONDS is
raised for every size, so a slow elaboration is measured rather than refused).
"""
from __future__ import annotations

import argparse
import json
import os
import selectors
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import _bench as B

sys.path.insert(0, str(B.ROOT / "tools"))
import synthetic_specs as S  # noqa: E402

STAGES = ("parse", "elaborate", "analyse", "json", "compile", "text", "dot", "check", "reference")
NEEDS = {"elaborate": "parse", "analyse": "elaborate", "json": "analyse", "compile": "elaborate",
         "text": "analyse", "dot": "analyse", "check": "elaborate", "reference": "elaborate"}
COMMANDS = {  # command -> (its rendering stage, CLI arguments after the spec)
    "check": (None, ["check"]),
    "summary": ("text", ["summary"]),
    "summary json": ("json", ["summary", "--format", "json"]),
    "draw dot": ("dot", ["draw", "-o", "{tmp}/out.dot"]),
    "compile": ("compile", ["compile", "-o", "{tmp}/out.py"]),
}
DEFAULT_SIZES = (100, 1_000, 10_000, 100_000)


# --- the worker: one spec, the stages asked for, one JSON line per event --------------------

def _say(**event) -> None:
    sys.stdout.write(json.dumps(event) + "\n")
    sys.stdout.flush()


def worker(path: str, stages: list[str], runs: int) -> int:
    import contextlib
    import gc
    import io

    from archc import cli
    from archc.analysis.metrics import analyse
    from archc.backends import diagram, report
    from archc.frontend import parse_file
    from archc.lower.codegen import generate
    from archc.model import _build

    state: dict = {}

    def do(stage: str):
        if stage == "parse":  # both as archc.load runs them (B.as_load)
            state["spec"] = B.as_load(lambda: parse_file(path))()
        elif stage == "elaborate":
            state["model"] = B.as_load(lambda: _build(state["spec"], path, None))()
        elif stage == "analyse":
            state["model"].__dict__["metrics"] = analyse(state["model"].graph)  # the cached_property
        elif stage == "text":
            report.render(state["model"], "text")
        elif stage == "json":
            report.render(state["model"], "json")
        elif stage == "dot":
            diagram.draw(state["model"], "dot")
        elif stage == "compile":
            generate(state["model"].graph, spec=state["model"].spec)
        elif stage == "reference":  # with the cycle collector paused, as archc's stages run
            graph = state["model"].graph
            was_enabled = gc.isenabled()
            gc.disable()
            state["reference"] = {node.id: (node.op_name, dict(node.attrs), node.shape,
                                            [graph.node(i).shape for i in node.inputs])
                                  for node in graph.layers()}
            if was_enabled:
                gc.enable()
        elif stage == "check":
            with contextlib.redirect_stdout(io.StringIO()):
                code = cli.main(["check", path])
            if code != 0:
                raise RuntimeError(f"archc check exited {code}")

    done: set[str] = set()

    def prerequisites(stage: str) -> None:
        need = NEEDS.get(stage)
        if need and need not in done:
            prerequisites(need)
            _say(start=f"(prerequisite {need})")
            do(need)
            done.add(need)

    for stage in stages:
        prerequisites(stage)
        repeat = runs if stage not in ("check",) else max(1, runs // 2)
        times, cpus = [], []
        for _ in range(repeat):
            gc.collect()
            _say(start=stage)
            cpu0 = time.process_time()
            t, _ = B.timed(lambda: do(stage))
            cpus.append(time.process_time() - cpu0)
            times.append(t)
        done.add(stage)
        extra = {}
        if stage == "elaborate":
            extra["layers"] = sum(1 for n in state["model"].graph.layers() if not n.is_input)
            extra["scopes"] = len(state["model"].graph.scopes)
        _say(stage=stage, wall=statistics.median(times), cpu=statistics.median(cpus), runs=len(times), **extra)
    return 0


# --- the parent: workers with a cap per stage ------------------------------------------------

def measure(path: Path, stages: list[str], runs: int, cap: float, env: dict[str, str], clock: str) -> dict:
    """{stage: seconds | "cap" | "not reached" | "error: …"}, plus "layers"/"scopes" and
    "other_clock" (the stages' times on the other clock)."""
    out: dict = {"other_clock": {}}
    todo = list(stages)
    while todo:
        proc = subprocess.Popen([sys.executable, __file__, "--worker", str(path), "--stages", ",".join(todo),
                                 "--runs", str(runs)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                env={**os.environ, **env}, text=True, bufsize=1)
        sel = selectors.DefaultSelector()
        sel.register(proc.stdout, selectors.EVENT_READ)
        current, deadline = None, time.monotonic() + 60 + cap  # imports
        killed = False
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or not sel.select(timeout=left):
                proc.kill()
                killed = True
                break
            line = proc.stdout.readline()
            if not line:
                break
            event = json.loads(line)
            if "start" in event:
                current = event["start"]
                deadline = time.monotonic() + cap
            else:
                other = "wall" if clock == "cpu" else "cpu"
                out[event["stage"]] = event[clock]
                out["other_clock"][event["stage"]] = event[other]
                for k in ("layers", "scopes"):
                    if k in event:
                        out[k] = event[k]
                todo.remove(event["stage"])
                current = None
        proc.wait()
        stderr = proc.stderr.read()
        sel.close()
        if not todo:
            break
        if killed and current:
            stuck = current.removeprefix("(prerequisite ").removesuffix(")")
            out[stuck] = "cap"
        else:
            stuck = todo[0]
            out[stuck] = "error: " + (stderr.strip().splitlines() or ["exited"])[-1][:200]
        if stuck in todo:
            todo.remove(stuck)
        if stuck in ("parse", "elaborate") and "check" in todo:  # check does both: it cannot finish sooner
            out["check"] = "cap" if out[stuck] == "cap" else "not reached"
            todo.remove("check")
        for s in list(todo):  # stages that need the one that did not finish
            chain, need = [], NEEDS.get(s)
            while need:
                chain.append(need)
                need = NEEDS.get(need)
            if stuck in chain:
                out[s] = "not reached"
                todo.remove(s)
    return out


def whole_process(path: Path, cap: float, env: dict[str, str], tmp: str) -> dict:
    out = {}
    for name, (_, argv) in COMMANDS.items():
        cmd = B.archc_cmd(*(a.format(tmp=tmp) for a in argv[:1]), str(path), *(a.format(tmp=tmp) for a in argv[1:]))
        try:
            out[name] = B.median_process(cmd, 1, env=env, timeout=cap)
        except subprocess.TimeoutExpired:
            out[name] = "cap"
        except RuntimeError as e:
            out[name] = f"error: {str(e)[-200:]}"
    return out


def cell(v, cap: float) -> str:
    if isinstance(v, (int, float)):
        return B.fmt_seconds(v)
    if v == "cap":
        return f"> {cap:g} s"
    if v is None:
        return "-"
    return "n/r" if v == "not reached" else "error"


def exponent(points: list[tuple[int, object]], cap: float) -> tuple[float | None, bool]:
    """(slope from 1,000 layers up, whether a capped time stood in: a lower bound)."""
    xs, ys, bound = [], [], False
    for n, v in points:
        if n < 900:
            continue
        if isinstance(v, (int, float)):
            xs.append(n), ys.append(v)
        elif v == "cap":
            xs.append(n), ys.append(cap)
            bound = True
    return B.fit_exponent(xs, ys), bound


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--stages", help=argparse.SUPPRESS)
    parser.add_argument("--forms", nargs="+", choices=S.FORMS, default=list(S.FORMS))
    parser.add_argument("--sizes", nargs="+", type=int, help="layer counts (default: 100 1000 10000 100000, "
                                                              "up to --max-layers)")
    parser.add_argument("--max-layers", type=int, default=10_000, help="largest size of the default sizes "
                                                                       "(default 10,000)")
    parser.add_argument("--full", action="store_true", help="up to 100,000 layers (--max-layers 100000)")
    parser.add_argument("--only", nargs="+", choices=STAGES, help="these stages only")
    parser.add_argument("--runs", type=int, default=3, help="runs per stage below 10,000 layers (median)")
    parser.add_argument("--timeout", type=float, default=15.0, help="cap per stage, seconds (default 15; e.g. 120 with --full)")
    parser.add_argument("--clock", choices=["cpu", "wall"], default="cpu",
                        help="time the in-process stages by the process's CPU time (default: robust against "
                             "other work on a shared machine) or wall time (both are in the JSON; the cap is "
                             "always wall time)")
    parser.add_argument("--whole-process", action="store_true",
                        help="also run the commands as `archc …` processes")
    parser.add_argument("--json", help="results file (default: benchmarks/results/scaling.json)")
    parser.add_argument("--report", metavar="JSON", help="print the tables of an earlier run's JSON (runs nothing)")
    args = parser.parse_args()
    if args.worker:
        return worker(args.worker, args.stages.split(","), args.runs)

    max_layers = 100_000 if args.full else args.max_layers
    sizes = args.sizes or [n for n in DEFAULT_SIZES if n <= max_layers]
    stages = [s for s in STAGES if not args.only or s in args.only]
    if args.report:  # the tables of an earlier run
        import json as _json
        saved = _json.loads(Path(args.report).read_text())
        args.timeout, args.clock, info = saved["cap_seconds"], saved.get("clock", "wall"), saved["machine"]
        results = saved["results"]
        args.forms = list(dict.fromkeys(r["form"] for r in results))
        sizes = sorted({r["size"] for r in results})
        args.whole_process = any("whole_process" in r for r in results)
        print(f"scaling (from {args.report}): cap {args.timeout:g} s; {B.describe(info)}")
        args.json = args.json or args.report
    else:
        info = B.machine()
        print(f"scaling: forms {', '.join(args.forms)}; sizes {', '.join(f'{n:,}' for n in sizes)}; cap "
              f"{args.timeout:g} s per stage; {B.describe(info)}", flush=True)
        results = []
    with tempfile.TemporaryDirectory(prefix="archc-scaling-") as tmp:
        for form in args.forms if not args.report else ():
            for n in sizes:
                path = Path(tmp) / f"{form}_{n}.arch"
                path.write_text(S.generate(form, n))
                env = S.limits_env(n)
                runs = args.runs if n < 10_000 else 1
                start = time.perf_counter()
                r = measure(path, stages, runs, args.timeout, env, args.clock)
                row = {"form": form, "size": n, "layers": r.pop("layers", None), "scopes": r.pop("scopes", None),
                       "clock": args.clock, "stages_other_clock": r.pop("other_clock"), "stages": r,
                       "spec_lines": path.read_text().count("\n")}
                if args.whole_process:
                    row["whole_process"] = whole_process(path, args.timeout, env, tmp)
                results.append(row)
                print(f"  {form:6} {n:>7,}: " + ", ".join(f"{s} {cell(r.get(s), args.timeout)}" for s in stages)
                      + f"  ({time.perf_counter() - start:.0f} s)", flush=True)

    def layers_of(row):
        return row["layers"] or row["size"]

    print(f"\nIn process, seconds per stage ({args.clock} time):")
    rows = [[r["form"], f"{layers_of(r):,}", r["scopes"] if r["scopes"] is not None else "-",
             *(cell(r["stages"].get(s), args.timeout) for s in stages)] for r in results]
    print(B.table(["form", "layers", "scopes", *stages], rows))

    def command_time(r, name):
        render = COMMANDS[name][0]
        st = r["stages"]
        if name == "check":
            return st.get("check")
        # `archc compile` loads without analysing (the size limits are checked in elaborate)
        parts = [st.get("parse"), st.get("elaborate"), st.get("analyse") if render != "compile" else 0.0,
                 st.get(render)]
        if any(p == "cap" for p in parts):
            return "cap"
        if all(isinstance(p, (int, float)) for p in parts):
            return sum(parts)
        return "not reached"

    print(f"\nCommands in process, {args.clock} time (check measured; the others parse + elaborate + analyse "
          "+ rendering):")
    names = list(COMMANDS)
    rows = [[r["form"], f"{layers_of(r):,}", *(cell(command_time(r, c), args.timeout) for c in names)]
            for r in results]
    print(B.table(["form", "layers", *names], rows))
    for r in results:
        r["commands_in_process"] = {c: command_time(r, c) for c in names}

    if args.whole_process:
        print("\nCommands as processes (`python -m archc.cli …`, one run each):")
        rows = [[r["form"], f"{layers_of(r):,}", *(cell(r["whole_process"].get(c), args.timeout) for c in names)]
                for r in results]
        print(B.table(["form", "layers", *names], rows))

    print("\nFitted exponent of time against layers (log-log least squares, 1,000 layers up; "
          "≥: a capped stage counted at the cap, so a lower bound):")
    fits: dict = {}
    rows = []
    for form in args.forms:
        mine = [r for r in results if r["form"] == form]
        row = [form]
        fits[form] = {}
        columns = [*stages, *(f"cmd {c}" for c in names if c != "check")]
        for col in columns:
            if col.startswith("cmd "):
                pts = [(layers_of(r), r["commands_in_process"][col[4:]]) for r in mine]
            else:
                pts = [(layers_of(r), r["stages"].get(col)) for r in mine]
            k, bound = exponent(pts, args.timeout)
            fits[form][col] = {"exponent": k, "lower_bound": bound}
            row.append("-" if k is None else f"{'≥' if bound else ''}{k:.2f}")
        rows.append(row)
    print(B.table(["form", *columns], rows))
    if "reference" in stages:
        print("\nThe same, less the reference pass's exponent (1 + the slope of log(stage / reference)): "
              "how much faster than the least per-layer work each stage grows on this machine:")
        rows = []
        for form in args.forms:
            ref = fits[form]["reference"]["exponent"]
            row = [form]
            for col in columns:
                k = fits[form][col]["exponent"]
                excess = None if k is None or ref is None else 1 + k - ref
                fits[form][col]["relative_to_reference"] = excess
                row.append("-" if excess is None else f"{'≥' if fits[form][col]['lower_bound'] else ''}{excess:.2f}")
            rows.append(row)
        print(B.table(["form", *columns], rows))
    print("\nLocal exponent between consecutive sizes (≥: the larger size hit the cap; a lower bound):")
    local: dict = {}
    rows = []
    for form in args.forms:
        mine = sorted((r for r in results if r["form"] == form), key=layers_of)
        for a, b in zip(mine, mine[1:]):
            if layers_of(a) < 900:
                continue
            key = f"{layers_of(a):,}→{layers_of(b):,}"
            row = [form, key]
            for col in stages:
                va, vb = a["stages"].get(col), b["stages"].get(col)
                k = None
                if isinstance(va, (int, float)) and va > 0:
                    bound = vb == "cap"
                    t = args.timeout if bound else vb
                    if isinstance(t, (int, float)):
                        k = B.fit_exponent([layers_of(a), layers_of(b)], [va, t])
                        local.setdefault(form, {}).setdefault(key, {})[col] = {"exponent": k, "lower_bound": bound}
                        row.append(f"{'≥' if bound else ''}{k:.2f}")
                        continue
                row.append("-")
            rows.append(row)
    print(B.table(["form", "layers", *stages], rows))
    out = B.write_json("scaling", {"machine": info, "cap_seconds": args.timeout, "sizes": sizes, "clock": args.clock,
                                   "results": results, "exponents": fits, "local_exponents": local}, args.json)
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
