"""archc against the tools people run today for a model summary and a FLOP count: torchinfo's
`summary` and fvcore's `FlopCountAnalysis` of torchvision's models, on the same networks, in the
same run, as ratios (how many times longer the other tool takes).

    .venv/bin/python benchmarks/vs_torchinfo.py --reference-python /work/tvenv/bin/python
    .venv/bin/python benchmarks/vs_torchinfo.py --models resnet50 resnet152 --runs 5 --cold-runs 3
    .venv/bin/python benchmarks/vs_torchinfo.py --reference-python /tmp/tvenv/bin/python --cold-runs 0 \
        --before /tmp/base   # /tmp/base: `git archive COMMIT archc | tar -x -C /tmp/base` (+ a COMMIT file)
    (about 2 minutes on 2 cores; the whole-process runs import torch 12 times)

The archc side runs in this interpreter (it needs no torch); the reference side (torch,
torchvision, torchinfo, fvcore) in --reference-python (default: this interpreter); both with
OMP_NUM_THREADS=1. A tool that is not installed there is skipped with a note
(`pip install torchinfo fvcore` in that environment).

In process (medians of --runs, interleaved: see below):
    archc load+summary   `archc.load(spec)`, `.params`, `.macs`, `.summary()` (the text table)
    archc load+count     `archc.load(spec)`, `.params`, `.conv_linear_macs` (fvcore's number)
    torchinfo summary    `torchinfo.summary(model, input_size=(1, 3, S, S), verbose=0)` and its
                         text, with torch imported and the model already built (the best case
                         for torchinfo: its user has the model)
    + build              the same with torchvision's constructor included (what archc.load does:
                         it builds the model description from the spec)
    fvcore count         `FlopCountAnalysis(model, x).total()` and `parameter_count(model)`,
                         model built
With --before DIR, the archc in DIR (a snapshot of an earlier commit) is measured too; the table
shows both and their ratio.

How the in-process samples are taken: the CPU speed of a shared machine swings (up to 2x over
minutes), so the tools are measured interleaved, under the same conditions, rather than one
after the other. Three kinds of worker process stay alive for the whole run, each timing its
own calls with its own clock: the reference side (--reference-python; torch imported, every
model built), this checkout's archc (this interpreter), and with --before the archc in DIR.
Each worker first calls each of its operations once per model, untimed (one warm-up per
worker), and freezes what it has built so far (`gc.freeze`: a full collection walking the
eight built models cost about 190 ms, at random in some torchinfo call). Then, round after
round (--runs rounds), model after model, this process asks the workers in turn over a pipe
for one timed call of each operation (the others wait, idle): each side's first operation
(archc's load+summary, torchinfo), then each side's second (load+count, fvcore), then the
rest (torchvision's build), archc before the reference side in each stage, before and after
swapping places from model to model and round to round; so no process times two calls in a
row (its data would still be in the CPU caches) but for build after fvcore. A tool's time is
the median of its samples; the table's × is the ratio of the medians, and beside it the median
of the per-round ratios (the two tools' samples of the same round and model, taken
milliseconds apart) with their minimum and maximum: a narrow range says that the ratio held
while the machine's speed moved. The JSON keeps every sample (`*_samples_s`) and, under
`ratios`, the per-round ratios with their quartiles.

Whole process, from a cold start (medians of --cold-runs; --cold-models, default resnet50 and
resnet152, since every run of the other tools imports torch):
    archc summary        `python -m archc.cli summary specs/torchvision/M.arch`
    torchinfo script     `python -c "import torch, torchvision, torchinfo; print(summary(M(), …))"`
    fvcore script        the same printing fvcore's total

Times are CPU time by default (--clock cpu; torch runs one thread, OMP_NUM_THREADS=1, so its CPU
time is its wall time on a quiet machine), wall time with --clock wall. S is the weights' crop
size (tests/fixtures/torchvision/M.json). The parameter counts of the two sides are compared (a
mismatch is reported), and fvcore's total is shown beside archc's conv + linear MACs (fvcore
also counts batch norms and pooling, so they differ a little).
"""
from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable

import _bench as B

DEFAULT_MODELS = ["resnet18", "resnet50", "resnet152", "mobilenet_v2", "efficientnet_b0", "convnext_tiny",
                  "densenet121", "regnet_y_400mf"]
SPECS = B.ROOT / "specs" / "torchvision"
FIXTURES = B.ROOT / "tests" / "fixtures" / "torchvision"
THREADS = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}

TORCHINFO_SCRIPT = ("import torch, torchvision, torchinfo; torch.set_num_threads(1); "
                    "m = torchvision.models.{model}(**{kwargs!r}); "
                    "print(torchinfo.summary(m, input_size=(1, 3, {size}, {size}), verbose=0))")
FVCORE_SCRIPT = ("import torch, torchvision; from fvcore.nn import FlopCountAnalysis, parameter_count; "
                 "torch.set_num_threads(1); m = torchvision.models.{model}(**{kwargs!r}).eval(); "
                 "f = FlopCountAnalysis(m, torch.randn(1, 3, {size}, {size})); "
                 "f.unsupported_ops_warnings(False); f.uncalled_modules_warnings(False); "
                 "print(f.total(), parameter_count(m)[''])")

# The ratios reported per model: name -> (numerator, denominator), each (side, its operations
# added up). A ratio whose operations a run lacks (a tool not installed, no --before) is left out.
RATIOS = {
    "torchinfo/archc": (("reference", ("torchinfo",)), ("archc", ("load_summary",))),
    "torchinfo+build/archc": (("reference", ("torchinfo", "build")), ("archc", ("load_summary",))),
    "fvcore/archc_count": (("reference", ("fvcore",)), ("archc", ("load_count",))),
    "before/after": (("before", ("load_summary",)), ("archc", ("load_summary",))),
}

Setup = Callable[[list[str]], tuple[dict, dict]]  # models -> (description, model -> op -> callable)


def fixture(model: str) -> dict:
    return json.loads((FIXTURES / f"{model}.json").read_text())


# --- the reference side (runs under --reference-python) -------------------------------------

def reference_setup(models: list[str]) -> tuple[dict, dict]:
    """torch, torchvision and the tools imported, every model built: the description of this
    side, and per model its operations to time (build, torchinfo, fvcore)."""
    import warnings
    warnings.filterwarnings("ignore")
    info: dict = {"notes": [], "models": {}}
    start = time.perf_counter()
    try:
        import torch
        import torchvision
    except ImportError as e:
        info["notes"].append(f"torch/torchvision not importable here ({e}): reference side skipped")
        return info, {}
    info["import_torch_torchvision_s"] = time.perf_counter() - start
    torch.set_num_threads(1)
    info["versions"] = {"torch": torch.__version__, "torchvision": torchvision.__version__}
    try:
        import torchinfo
        info["versions"]["torchinfo"] = getattr(torchinfo, "__version__", "?")
    except ImportError:
        torchinfo = None
        info["notes"].append("torchinfo not installed in the reference environment: skipped")
    try:
        import fvcore
        from fvcore.nn import FlopCountAnalysis, parameter_count
        info["versions"]["fvcore"] = getattr(fvcore, "__version__", "?")
    except ImportError:
        FlopCountAnalysis = None
        info["notes"].append("fvcore not installed in the reference environment: skipped")
    ops: dict = {}
    for name in models:
        fx = fixture(name)
        size, kwargs = fx["crop_size"], fx["kwargs"]
        builder = getattr(torchvision.models, name)
        model = builder(**kwargs).eval()
        r: dict = {"params": sum(p.numel() for p in model.parameters())}
        mine: dict = {}  # in the order of their calls in a round (see `interleave`)
        if torchinfo is not None:
            def summary(model=model, size=size):
                return str(torchinfo.summary(model, input_size=(1, 3, size, size), verbose=0))
            mine["torchinfo"] = summary
            stats = torchinfo.summary(model, input_size=(1, 3, size, size), verbose=0)
            r["torchinfo_params"] = stats.total_params
            r["torchinfo_mult_adds"] = stats.total_mult_adds
        if FlopCountAnalysis is not None:
            x = torch.randn(1, 3, size, size)

            def count(model=model, x=x):
                f = FlopCountAnalysis(model, x)
                f.unsupported_ops_warnings(False)
                f.uncalled_modules_warnings(False)
                return f.total(), parameter_count(model)[""]
            mine["fvcore"] = count
            r["fvcore_flops"], r["fvcore_params"] = count()
        mine["build"] = lambda builder=builder, kwargs=kwargs: builder(**kwargs)
        info["models"][name] = r
        ops[name] = mine
    return info, ops


# --- the archc side (this checkout's; with --before, also the one under ARCHC_BENCH_SRC) ----

def archc_setup(models: list[str]) -> tuple[dict, dict]:
    """The description of each model as archc loads it, and per model its operations to time
    (load_summary, load_count)."""
    import archc
    info: dict = {"models": {}}
    ops: dict = {}
    for name in models:
        path = str(SPECS / f"{name}.arch")

        def load_summary(path=path):
            m = archc.load(path)
            return m.params, m.macs, m.summary()

        def load_count(path=path):
            m = archc.load(path)
            return m.params, m.conv_linear_macs

        m = archc.load(path)
        info["models"][name] = {"layers": sum(1 for n in m.graph.layers() if not n.is_input), "params": m.params,
                                "macs": m.macs, "conv_linear_macs": m.conv_linear_macs}
        ops[name] = {"load_summary": load_summary, "load_count": load_count}
    return info, ops


# --- the sides' workers, and their interleaving ----------------------------------------------

def serve(setup: Setup, models: list[str], clock: str) -> int:
    """A worker: `setup(models)`, one untimed call of every operation (the side's warm-up), the
    objects made so far frozen (`gc.freeze`), its description as one JSON line (with the operations per model under "ops"); then for each line
    "MODEL OP" read from stdin, that operation run once and its time written (seconds, a line)."""
    channel = os.fdopen(os.dup(sys.stdout.fileno()), "w")  # the answers; whatever the measured
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())      # code prints goes to stderr
    sys.stdout = sys.stderr
    info, ops = setup(models)
    for fns in ops.values():
        for fn in fns.values():
            fn()
    # The set-up's objects (torch's, every model built) out of the cycle collector's sight: else
    # a full collection, which some timed call triggers now and then, walks them all (about
    # 190 ms with the eight default models built, against 40-500 ms of torchinfo).
    gc.collect()
    gc.freeze()
    info["ops"] = {m: list(fns) for m, fns in ops.items()}
    channel.write(json.dumps(info) + "\n")
    channel.flush()
    time_of = B.timed_cpu if clock == "cpu" else B.timed
    for line in sys.stdin:
        model, op = line.split()
        channel.write(f"{time_of(ops[model][op])[0]!r}\n")
        channel.flush()
    return 0


class WorkerFailed(RuntimeError):
    pass


class Worker:
    """A side, measured in a child process that stays alive for the whole run (see `serve`)."""

    def __init__(self, name: str, cmd: list[str], env: dict[str, str]):
        self.name = name
        self._err = tempfile.TemporaryFile()  # noqa: SIM115 (closed by close) a file, not a pipe: read at the end only
        self._proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._err,
                                      text=True, env=env, cwd=B.ROOT)
        self.info: dict = {}

    def ready(self) -> dict:
        """The side's description, once it is set up and warm (the workers start side by side)."""
        self.info = json.loads(self._answer())
        return self.info

    def _answer(self) -> str:
        line = self._proc.stdout.readline()
        if not line:
            self._proc.wait()
            self._err.seek(0)
            raise WorkerFailed(f"the {self.name} worker exited ({self._proc.returncode}):\n"
                               f"{self._err.read().decode(errors='replace')[-2000:]}")
        return line

    def time(self, model: str, op: str) -> float:
        self._proc.stdin.write(f"{model} {op}\n")
        self._proc.stdin.flush()
        return float(self._answer())

    def close(self) -> None:
        self._proc.stdin.close()
        self._proc.wait(timeout=60)
        self._err.close()


def worker_cmd(python: str, role: str, models: list[str], clock: str) -> list[str]:
    return [python, os.path.abspath(__file__), role, "--clock", clock, "--models", *models]


def interleave(archc_sides: list, reference: list, models: list[str], runs: int) -> dict:
    """`runs` rounds; in each, model by model, one timed call of every operation of every side.
    Samples: side -> model -> op -> seconds, in round order.

    A process's call right after its own previous one finds its data still in the CPU caches (up
    to 20% faster in trials), so calls go by stages: each side's first operation (the primary
    ones: load+summary, torchinfo), then each side's second, and so on, the reference side last
    in each stage; with two archc sides (--before), their order swaps from model to model and
    round to round, so each follows the reference side and the other archc side equally often.
    Only the reference side's third operation (build, when fvcore is there) follows its own."""
    sides = archc_sides + reference
    samples = {s.name: {m: {op: [] for op in s.info["ops"].get(m, [])} for m in models} for s in sides}
    start = time.perf_counter()
    for k in range(runs):
        for j, m in enumerate(models):
            order = (archc_sides if (k + j) % 2 == 0 else archc_sides[::-1]) + reference
            stages = max(len(samples[s.name][m]) for s in order)
            for i in range(stages):
                for side in order:
                    ops = list(samples[side.name][m])
                    if i < len(ops):
                        samples[side.name][m][ops[i]].append(side.time(m, ops[i]))
        print(f"  round {k + 1}/{runs}: {time.perf_counter() - start:.0f} s", flush=True)
    return samples


def with_medians(info: dict, samples: dict[str, dict[str, list[float]]]) -> dict:
    """The side's per-model description with, per operation, `OP_s` (the median) and
    `OP_samples_s` (every sample, in round order)."""
    out = {}
    for m, r in info["models"].items():
        out[m] = dict(r)
        for op, times in samples.get(m, {}).items():
            out[m][f"{op}_s"] = statistics.median(times)
            out[m][f"{op}_samples_s"] = times
    return out


def ratio_stats(samples: dict, model: str) -> dict[str, dict]:
    """Per name of RATIOS that this run has: the ratio of the medians, and the median, quartiles,
    minimum and maximum of the per-round ratios (and those, in round order)."""
    def parts(side: str, ops: tuple[str, ...]):
        got = samples.get(side, {}).get(model, {})
        return [got[op] for op in ops] if all(op in got for op in ops) else None

    out = {}
    for name, (num, den) in RATIOS.items():
        top, bottom = parts(*num), parts(*den)
        if top is None or bottom is None:
            continue
        per_round = [sum(t) / sum(b) for t, b in zip(zip(*top), zip(*bottom))]
        q1, _, q3 = statistics.quantiles(per_round, n=4, method="inclusive") if len(per_round) > 1 else per_round * 3
        out[name] = {"of_medians": sum(map(statistics.median, top)) / sum(map(statistics.median, bottom)),
                     "median": statistics.median(per_round), "q1": q1, "q3": q3,
                     "min": min(per_round), "max": max(per_round), "per_round": per_round}
    return out


def cold(models: list[str], runs: int, ref_python: str, ref: dict, clock: str) -> dict:
    out: dict = {}
    have_torchinfo = "torchinfo" in ref.get("versions", {})
    have_fvcore = "fvcore" in ref.get("versions", {})
    env = {**THREADS}
    for name in models:
        fx = fixture(name)
        fmt = {"model": name, "kwargs": fx["kwargs"], "size": fx["crop_size"]}
        r = {"archc_summary_s": B.median_process(
            B.archc_cmd("summary", str(SPECS / f"{name}.arch")), runs, clock=clock)}
        if have_torchinfo:
            r["torchinfo_script_s"] = B.median_process([ref_python, "-c", TORCHINFO_SCRIPT.format(**fmt)], runs,
                                                       env=env, warmup=0, clock=clock)
        if have_fvcore:
            r["fvcore_script_s"] = B.median_process([ref_python, "-W", "ignore", "-c", FVCORE_SCRIPT.format(**fmt)],
                                                    runs, env=env, warmup=0, clock=clock)
        out[name] = r
        print(f"  cold {name}: " + ", ".join(f"{k} {v:.2f} s" for k, v in r.items()), flush=True)
    out["python -c pass (archc side)"] = {"s": B.median_process([sys.executable, "-c", "pass"], runs, clock=clock)}
    if ref.get("versions"):
        out["import torch, torchvision (reference side)"] = {
            "s": B.median_process([ref_python, "-c", "import torch, torchvision"], runs, env=env, warmup=0,
                                  clock=clock)}
    return out


def ratio(a, b, digits: int = 1) -> str:
    return f"{a / b:.{digits}f}×" if isinstance(a, (int, float)) and isinstance(b, (int, float)) and b else "-"


def spread(stats: dict | None, digits: int = 1) -> str:
    """The median of the per-round ratios (minimum–maximum)."""
    if stats is None:
        return "-"
    return f"{stats['median']:.{digits}f}× ({stats['min']:.{digits}f}–{stats['max']:.{digits}f})"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reference-worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--archc-worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--models", nargs="+", default=DEFAULT_MODELS, help="torchvision builder names")
    parser.add_argument("--reference-python", default=sys.executable,
                        help="interpreter with torch, torchvision, torchinfo, fvcore (default: this one)")
    parser.add_argument("--runs", type=int, default=5, help="in-process rounds (samples per tool and model)")
    parser.add_argument("--cold-runs", type=int, default=3, help="whole-process runs (median); 0: skip")
    parser.add_argument("--cold-models", nargs="+", default=["resnet50", "resnet152"],
                        help="models run whole process (default: resnet50 resnet152; each run imports torch)")
    parser.add_argument("--clock", choices=["cpu", "wall"], default="cpu",
                        help="cpu (default): CPU time of the process (for whole processes, the child's user + "
                             "system time), which other work on a shared machine does not inflate; wall: wall time")
    parser.add_argument("--json", "--out", dest="json",
                        help="results file (default: benchmarks/results/vs_torchinfo.json)")
    parser.add_argument("--before", metavar="DIR",
                        help="also measure the archc package in DIR (a snapshot of an earlier commit), "
                             "interleaved with this checkout's")
    args = parser.parse_args()
    if args.reference_worker:
        return serve(reference_setup, args.models, args.clock)
    if args.archc_worker:  # the archc under ARCHC_BENCH_SRC (_bench puts it first on the path)
        return serve(archc_setup, args.models, args.clock)

    if args.before and not os.path.isfile(os.path.join(args.before, "archc", "__init__.py")):
        raise SystemExit(f"--before {args.before}: no archc package there (else the worker would import this one)")
    info = B.machine()
    print(f"vs_torchinfo: {', '.join(args.models)}; reference {args.reference_python}; {B.describe(info)}",
          flush=True)
    started = time.perf_counter()
    env = {**os.environ, **THREADS}
    reference = Worker("reference", worker_cmd(args.reference_python, "--reference-worker", args.models,
                                               args.clock), env)
    archc_sides = [Worker("archc", worker_cmd(sys.executable, "--archc-worker", args.models, args.clock), env)]
    if args.before:
        archc_sides.append(Worker("before", worker_cmd(sys.executable, "--archc-worker", args.models, args.clock),
                            {**env, "ARCHC_BENCH_SRC": args.before}))
    try:
        ref_info = reference.ready()
        ref_sides = [reference]
    except WorkerFailed as e:
        print(f"reference side failed: {e}")
        ref_info = {"notes": [f"reference side failed: {str(e).strip().splitlines()[-1:]}"], "models": {}}
        ref_sides = []
    try:  # a failure of an archc side ends the run
        for side in archc_sides:
            side.ready()
        print(f"  sides ready (imports, models built, one warm-up each): {time.perf_counter() - started:.0f} s",
              flush=True)
        samples = interleave(archc_sides, ref_sides, args.models, args.runs)
    except WorkerFailed as e:
        raise SystemExit(str(e)) from None
    for side in archc_sides + ref_sides:
        side.close()
    by_name = {s.name: s for s in archc_sides}
    ref = {**ref_info, "models": with_medians(ref_info, samples.get("reference", {}))}
    ours = with_medians(by_name["archc"].info, samples["archc"])
    before = with_medians(by_name["before"].info, samples["before"]) if args.before else {}
    ratios = {m: ratio_stats(samples, m) for m in args.models}
    print(f"  in process: {time.perf_counter() - started:.0f} s")

    for note in ref["notes"]:
        print(f"note: {note}")
    mismatches = [m for m in args.models if m in ref["models"]
                  and ref["models"][m].get("params") not in (None, ours[m]["params"])]
    for m in mismatches:
        print(f"note: {m}: archc counts {ours[m]['params']:,} parameters, torchvision {ref['models'][m]['params']:,}")

    print(f"\nIn process, {args.clock} time, medians of {args.runs} interleaved rounds (×: the other tool's "
          "median / archc's; per round: the median of the rounds' ratios, min–max):")
    rows = []
    for m in args.models:
        a, r = ours[m], ref["models"].get(m, {})
        ti, tb = r.get("torchinfo_s"), r.get("build_s")
        tib = ti + tb if ti is not None and tb is not None else None
        fv = r.get("fvcore_s")
        rows.append([m, a["layers"], B.fmt_seconds(a["load_summary_s"]), B.fmt_seconds(ti),
                     ratio(ti, a["load_summary_s"]), spread(ratios[m].get("torchinfo/archc")),
                     B.fmt_seconds(tib), ratio(tib, a["load_summary_s"]),
                     B.fmt_seconds(a["load_count_s"]), B.fmt_seconds(fv), ratio(fv, a["load_count_s"]),
                     f"{a['conv_linear_macs'] / 1e9:.3f} G" if isinstance(a["conv_linear_macs"], int) else "-",
                     f"{r['fvcore_flops'] / 1e9:.3f} G" if "fvcore_flops" in r else "-"])
    print(B.table(["model", "layers", "archc load+summary", "torchinfo", "×", "× per round", "torchinfo+build",
                   "×", "archc load+count", "fvcore", "×", "archc conv+lin MACs", "fvcore total"], rows))
    if before:
        print(f"\nBefore ({args.before}) and after (this checkout), load+summary, same rounds:")
        rows = []
        for m in args.models:
            b, a = before[m]["load_summary_s"], ours[m]["load_summary_s"]
            ti = ref["models"].get(m, {}).get("torchinfo_s")
            rows.append([m, ours[m]["layers"], B.fmt_seconds(b), B.fmt_seconds(a), ratio(b, a, 2),
                         spread(ratios[m].get("before/after"), 2),
                         f"{b / ours[m]['layers'] * 1e6:.0f} µs", f"{a / ours[m]['layers'] * 1e6:.0f} µs",
                         ratio(ti, b), ratio(ti, a)])
        print(B.table(["model", "layers", "before", "after", "speed-up", "per round", "before per layer",
                       "after per layer", "torchinfo × before", "torchinfo × after"], rows))

    cold_results: dict = {}
    if args.cold_runs > 0:
        print(f"\nWhole process from a cold start, {args.clock} time, medians of {args.cold_runs}:", flush=True)
        cold_models = [m for m in args.cold_models if m in args.models] or args.models
        cold_results = cold(cold_models, args.cold_runs, args.reference_python, ref, args.clock)
        rows = []
        for m in cold_models:
            c = cold_results[m]
            rows.append([m, f"{c['archc_summary_s']:.2f} s",
                         f"{c['torchinfo_script_s']:.2f} s" if "torchinfo_script_s" in c else "-",
                         ratio(c.get("torchinfo_script_s"), c["archc_summary_s"]),
                         f"{c['fvcore_script_s']:.2f} s" if "fvcore_script_s" in c else "-",
                         ratio(c.get("fvcore_script_s"), c["archc_summary_s"])])
        print(B.table(["model", "archc summary", "torchinfo script", "×", "fvcore script", "×"], rows))
        for k in ("python -c pass (archc side)", "import torch, torchvision (reference side)"):
            if k in cold_results:
                print(f"{k}: {cold_results[k]['s']:.2f} s")
    out = B.write_json("vs_torchinfo", {"machine": info, "reference_python": args.reference_python,
                                        "reference": ref, "archc": ours, "cold": cold_results,
                                        "archc_before": before, "before_src": args.before,
                                        "runs": args.runs, "cold_runs": args.cold_runs, "clock": args.clock,
                                        "method": "interleaved rounds", "ratios": ratios,
                                        "elapsed_s": time.perf_counter() - started},
                      args.json)
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
