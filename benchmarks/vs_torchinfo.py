"""archc against the tools people run today for a model summary and a FLOP count: torchinfo's
`summary` and fvcore's `FlopCountAnalysis` of torchvision's models, on the same networks, in the
same run, as ratios (how many times longer the other tool takes).

    .venv/bin/python benchmarks/vs_torchinfo.py --reference-python /work/tvenv/bin/python
    .venv/bin/python benchmarks/vs_torchinfo.py --models resnet50 resnet152 --runs 5 --cold-runs 3
    .venv/bin/python benchmarks/vs_torchinfo.py --reference-python /tmp/tvenv/bin/python --cold-runs 0 \
        --before /tmp/base   # /tmp/base: `git archive COMMIT archc | tar -x -C /tmp/base` (+ a COMMIT file)
    (about 2 minutes on 2 cores; the whole-process runs import torch 12 times)

The archc side runs in this interpreter (it needs no torch); the reference side (torch,
torchvision, torchinfo, fvcore) in --reference-python (default: this interpreter), with
OMP_NUM_THREADS=1. A tool that is not installed there is skipped with a note
(`pip install torchinfo fvcore` in that environment).

In process (medians of --runs, after one warm-up):
    archc load+summary   `archc.load(spec)`, `.params`, `.macs`, `.summary()` (the text table)
    archc load+count     `archc.load(spec)`, `.params`, `.conv_linear_macs` (fvcore's number)
    torchinfo summary    `torchinfo.summary(model, input_size=(1, 3, S, S), verbose=0)` and its
                         text, with torch imported and the model already built (the best case
                         for torchinfo: its user has the model)
    + build              the same with torchvision's constructor included (what archc.load does:
                         it builds the model description from the spec)
    fvcore count         `FlopCountAnalysis(model, x).total()` and `parameter_count(model)`,
                         model built
With --before DIR, the archc in DIR (a snapshot of an earlier commit) is measured too, model by
model alternately with this checkout's (in a child process: each imports its own archc), so that
before and after share the machine's conditions; the table shows both and their ratio.
Whole process, from a cold start (medians of --cold-runs; --cold-models, default resnet50 and
resnet152, since every run of the other tools imports torch):
    archc summary        `python -m archc.cli summary specs/torchvision/M.arch`
    torchinfo script     `python -c "import torch, torchvision, torchinfo; print(summary(M(), …))"`
    fvcore script        the same printing fvcore's total

Times are CPU time by default (--clock cpu; torch runs one thread, OMP_NUM_THREADS=1, so its CPU
time is its wall time on a quiet machine), wall time with --clock wall. S is the weights' crop size (tests/fixtures/torchvision/M.json). The parameter counts of the
two sides are compared (a mismatch is reported), and fvcore's total is shown beside archc's
conv + linear MACs (fvcore also counts batch norms and pooling, so they differ a little).
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

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


def fixture(model: str) -> dict:
    return json.loads((FIXTURES / f"{model}.json").read_text())


# --- the reference side (runs under --reference-python) -------------------------------------

def reference_worker(models: list[str], runs: int, clock: str) -> int:
    import warnings
    warnings.filterwarnings("ignore")
    out: dict = {"notes": [], "models": {}}
    start = time.perf_counter()
    try:
        import torch
        import torchvision
    except ImportError as e:
        out["notes"].append(f"torch/torchvision not importable here ({e}): reference side skipped")
        print(json.dumps(out))
        return 0
    out["import_torch_torchvision_s"] = time.perf_counter() - start
    torch.set_num_threads(1)
    out["versions"] = {"torch": torch.__version__, "torchvision": torchvision.__version__}
    try:
        import torchinfo
        out["versions"]["torchinfo"] = getattr(torchinfo, "__version__", "?")
    except ImportError:
        torchinfo = None
        out["notes"].append("torchinfo not installed in the reference environment: skipped")
    try:
        from fvcore.nn import FlopCountAnalysis, parameter_count
        import fvcore
        out["versions"]["fvcore"] = getattr(fvcore, "__version__", "?")
    except ImportError:
        FlopCountAnalysis = None
        out["notes"].append("fvcore not installed in the reference environment: skipped")
    for name in models:
        fx = fixture(name)
        size, kwargs = fx["crop_size"], fx["kwargs"]
        builder = getattr(torchvision.models, name)
        r: dict = {}
        model = builder(**kwargs).eval()
        r["build_s"] = B.median_time(lambda: builder(**kwargs), runs, clock=clock)
        r["params"] = sum(p.numel() for p in model.parameters())
        if torchinfo is not None:
            def summary():
                return str(torchinfo.summary(model, input_size=(1, 3, size, size), verbose=0))
            r["torchinfo_s"] = B.median_time(summary, runs, warmup=1, clock=clock)
            stats = torchinfo.summary(model, input_size=(1, 3, size, size), verbose=0)
            r["torchinfo_params"] = stats.total_params
            r["torchinfo_mult_adds"] = stats.total_mult_adds
        if FlopCountAnalysis is not None:
            x = torch.randn(1, 3, size, size)

            def count():
                f = FlopCountAnalysis(model, x)
                f.unsupported_ops_warnings(False)
                f.uncalled_modules_warnings(False)
                return f.total(), parameter_count(model)[""]
            r["fvcore_s"] = B.median_time(count, runs, warmup=1, clock=clock)
            r["fvcore_flops"], r["fvcore_params"] = count()
        out["models"][name] = r
    print(json.dumps(out))
    return 0


# --- the archc side, and the comparison -----------------------------------------------------

def archc_side(models: list[str], runs: int, clock: str) -> dict:
    import archc
    out = {}
    for name in models:
        path = str(SPECS / f"{name}.arch")

        def load_summary():
            m = archc.load(path)
            return m.params, m.macs, m.summary()

        def load_count():
            m = archc.load(path)
            return m.params, m.conv_linear_macs

        m = archc.load(path)
        out[name] = {"layers": sum(1 for n in m.graph.layers() if not n.is_input), "params": m.params,
                     "macs": m.macs, "conv_linear_macs": m.conv_linear_macs,
                     "load_summary_s": B.median_time(load_summary, runs, warmup=1, clock=clock),
                     "load_count_s": B.median_time(load_count, runs, warmup=1, clock=clock)}
    return out


def archc_before(src: str, model: str, runs: int, clock: str) -> dict:
    """archc_side of the archc in `src`, for one model, in a child process."""
    done = subprocess.run([sys.executable, os.path.abspath(__file__), "--archc-worker", "--runs", str(runs),
                           "--clock", clock, "--models", model], capture_output=True, text=True,
                          env={**os.environ, **THREADS, "ARCHC_BENCH_SRC": src}, cwd=B.ROOT)
    if done.returncode != 0:
        raise SystemExit(f"the archc in {src} failed on {model}:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])[model]


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


def ratio(a, b) -> str:
    return f"{a / b:.1f}×" if isinstance(a, (int, float)) and isinstance(b, (int, float)) and b else "-"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reference-worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--models", nargs="+", default=DEFAULT_MODELS, help="torchvision builder names")
    parser.add_argument("--reference-python", default=sys.executable,
                        help="interpreter with torch, torchvision, torchinfo, fvcore (default: this one)")
    parser.add_argument("--runs", type=int, default=5, help="in-process runs (median)")
    parser.add_argument("--cold-runs", type=int, default=3, help="whole-process runs (median); 0: skip")
    parser.add_argument("--cold-models", nargs="+", default=["resnet50", "resnet152"],
                        help="models run whole process (default: resnet50 resnet152; each run imports torch)")
    parser.add_argument("--clock", choices=["cpu", "wall"], default="cpu",
                        help="cpu (default): CPU time of the process (for whole processes, the child's user + "
                             "system time), which other work on a shared machine does not inflate; wall: wall time")
    parser.add_argument("--json", help="results file (default: benchmarks/results/vs_torchinfo.json)")
    parser.add_argument("--before", metavar="DIR",
                        help="also measure the archc package in DIR (a snapshot of an earlier commit), "
                             "alternating with this checkout's model by model")
    parser.add_argument("--archc-worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.reference_worker:
        return reference_worker(args.models, args.runs, args.clock)
    if args.archc_worker:  # the archc under ARCHC_BENCH_SRC (_bench puts it first on the path)
        print(json.dumps(archc_side(args.models, args.runs, args.clock)))
        return 0

    info = B.machine()
    print(f"vs_torchinfo: {', '.join(args.models)}; reference {args.reference_python}; {B.describe(info)}",
          flush=True)
    done = subprocess.run([args.reference_python, os.path.abspath(__file__), "--reference-worker", "--runs",
                           str(args.runs), "--clock", args.clock, "--models", *args.models], capture_output=True, text=True,
                          env={**os.environ, **THREADS}, cwd=B.ROOT)
    if done.returncode != 0:
        print(f"reference side failed:\n{done.stderr[-2000:]}")
        ref: dict = {"notes": [f"reference side failed: {done.stderr.strip().splitlines()[-1:]}"], "models": {}}
    else:
        ref = json.loads(done.stdout.strip().splitlines()[-1])
    ours: dict = {}
    before: dict = {}
    for m in args.models:  # alternately, so that both see the same conditions
        if args.before:
            before[m] = archc_before(args.before, m, args.runs, args.clock)
        ours.update(archc_side([m], args.runs, args.clock))
    for note in ref["notes"]:
        print(f"note: {note}")
    mismatches = [m for m in args.models if m in ref["models"]
                  and ref["models"][m].get("params") not in (None, ours[m]["params"])]
    for m in mismatches:
        print(f"note: {m}: archc counts {ours[m]['params']:,} parameters, torchvision {ref['models'][m]['params']:,}")

    print(f"\nIn process, {args.clock} time, medians of {args.runs} (ratio: the other tool's time / archc's):")
    rows = []
    for m in args.models:
        a, r = ours[m], ref["models"].get(m, {})
        ti, tb = r.get("torchinfo_s"), r.get("build_s")
        tib = ti + tb if ti is not None and tb is not None else None
        fv = r.get("fvcore_s")
        rows.append([m, a["layers"], B.fmt_seconds(a["load_summary_s"]), B.fmt_seconds(ti),
                     ratio(ti, a["load_summary_s"]), B.fmt_seconds(tib), ratio(tib, a["load_summary_s"]),
                     B.fmt_seconds(a["load_count_s"]), B.fmt_seconds(fv), ratio(fv, a["load_count_s"]),
                     f"{a['conv_linear_macs'] / 1e9:.3f} G" if isinstance(a["conv_linear_macs"], int) else "-",
                     f"{r['fvcore_flops'] / 1e9:.3f} G" if "fvcore_flops" in r else "-"])
    print(B.table(["model", "layers", "archc load+summary", "torchinfo", "×", "torchinfo+build", "×",
                   "archc load+count", "fvcore", "×", "archc conv+lin MACs", "fvcore total"], rows))
    if before:
        print(f"\nBefore ({args.before}) and after (this checkout), load+summary, same run:")
        rows = []
        for m in args.models:
            b, a = before[m]["load_summary_s"], ours[m]["load_summary_s"]
            ti = ref["models"].get(m, {}).get("torchinfo_s")
            rows.append([m, ours[m]["layers"], B.fmt_seconds(b), B.fmt_seconds(a), ratio(b, a),
                         f"{b / ours[m]['layers'] * 1e6:.0f} µs", f"{a / ours[m]['layers'] * 1e6:.0f} µs",
                         ratio(ti, b), ratio(ti, a)])
        print(B.table(["model", "layers", "before", "after", "speed-up", "before per layer", "after per layer",
                       "torchinfo × before", "torchinfo × after"], rows))

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
                                        "runs": args.runs, "cold_runs": args.cold_runs, "clock": args.clock},
                      args.json)
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
