"""Generated models against torchvision's hand-written ones, with the same weights: forward and
forward+backward, eager and `torch.compile`, on the CPU and (where CUDA is available) the GPU;
the ratio generated / torchvision per model (1.00: as fast; the target is within 2%).

    OMP_NUM_THREADS=1 /work/tvenv/bin/python benchmarks/generated_vs_torchvision.py
    OMP_NUM_THREADS=1 /work/tvenv/bin/python benchmarks/generated_vs_torchvision.py \
        --models resnet50 --compile-models resnet50 --runs 7

It needs torch and torchvision, so it runs in an environment that has them (never CI's), with
archc imported from this checkout (its dependencies pydantic, lark, networkx and PyYAML
installed there too).

For each model: torchvision's module is built as its DEFAULT weights would build it (the kwargs
in tests/fixtures/torchvision/M.json), `archc.build` builds ours from specs/torchvision/M.arch
(the very source `archc compile` writes), and torchvision's state_dict is loaded into it with
strict=True. First the outputs are checked equal (eval, float32, CPU); a model whose outputs
differ is reported and not timed. Then, alternating between the two models run after run
(so drift in the machine's speed hits both alike):

    fwd      eval mode, `torch.inference_mode()`
    fwd+bwd  train mode, cross-entropy on fixed labels, `.backward()`, grads set to None
    eager / compile   the module as is / `torch.compile(module)` (compile time not timed: it
                      happens in the warm-up runs, and is reported separately)

CPU: one thread (torch.set_num_threads(1); set OMP_NUM_THREADS=1 too), batch --batch (8),
float32. GPU (when torch.cuda.is_available(), or --device cuda): channels_last, bf16 autocast,
batch --gpu-batch (64), --gpu-iters calls per timed run with a synchronize at the end.
Reported: median seconds per call of each, and the median of the per-run ratios.
Also: `archc.build(spec)` against torchvision's constructor (CPU, median of 3).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time

import _bench as B

SPECS = B.ROOT / "specs" / "torchvision"
FIXTURES = B.ROOT / "tests" / "fixtures" / "torchvision"
DEFAULT_MODELS = ["resnet18", "resnet50", "mobilenet_v2"]
DEFAULT_GPU_MODELS = ["resnet50", "mobilenet_v2", "efficientnet_b0", "convnext_tiny"]


def fixture(model: str) -> dict:
    return json.loads((FIXTURES / f"{model}.json").read_text())


def logits(out):
    if isinstance(out, dict):
        return out["logits"]
    if isinstance(out, (tuple, list)):
        return out[0]
    return out


def build_pair(name: str, size: int | None):
    import torch
    from torchvision import models

    import archc
    fx = fixture(name)
    torch.manual_seed(0)
    theirs = getattr(models, name)(**fx["kwargs"])
    params = {"size": size} if size and size != fx["crop_size"] else None
    ours = archc.build(str(SPECS / f"{name}.arch"), params=params) if params else archc.build(str(SPECS / f"{name}.arch"))
    ours.load_state_dict(theirs.state_dict(), strict=True)
    return theirs, ours, size or fx["crop_size"]


def check_equal(theirs, ours, x) -> float:
    import torch
    theirs.eval(), ours.eval()
    with torch.inference_mode():
        a, b = logits(theirs(x)), logits(ours(x))
    diff = float((a - b).abs().max())
    if not diff <= 1e-4 * max(1.0, float(a.abs().max())):
        raise AssertionError(f"outputs differ: max |diff| {diff:.3g}, max |logit| {float(a.abs().max()):.3g}")
    return diff


def make_step(model, x, y, mode: str, device: str):
    import torch
    import torch.nn.functional as F
    autocast = (torch.autocast("cuda", dtype=torch.bfloat16) if device == "cuda"
                else torch.autocast("cpu", enabled=False))

    if mode == "fwd":
        def step():
            with torch.inference_mode(), autocast:
                return model(x)
    else:
        def step():
            with autocast:
                out = logits(model(x))
                loss = F.cross_entropy(out.float(), y)
            loss.backward()
            for p in model.parameters():
                p.grad = None
    return step


def timed_calls(step, iters: int, device: str) -> float:
    import torch
    if device == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(iters):
        step()
    if device == "cuda":
        torch.cuda.synchronize()
    return (time.perf_counter() - start) / iters


def compare(theirs, ours, x, y, mode: str, compiled: bool, device: str, runs: int, iters: int,
            warmup: int) -> dict:
    import torch
    import torch._dynamo
    theirs.train(mode != "fwd"), ours.train(mode != "fwd")
    a_mod, b_mod = theirs, ours
    compile_s = {}
    if compiled:
        torch._dynamo.reset()
        a_mod, b_mod = torch.compile(theirs), torch.compile(ours)
    steps = {"torchvision": make_step(a_mod, x, y, mode, device), "generated": make_step(b_mod, x, y, mode, device)}
    for k, step in steps.items():  # warm-up (compilation happens here)
        start = time.perf_counter()
        timed_calls(step, 1, device)
        compile_s[k] = time.perf_counter() - start
        for _ in range(warmup):
            timed_calls(step, 1, device)
    times = {k: [] for k in steps}
    ratios = []
    for r in range(runs):  # alternate, and alternate who goes first
        order = list(steps) if r % 2 == 0 else list(steps)[::-1]
        got = {k: timed_calls(steps[k], iters, device) for k in order}
        for k, v in got.items():
            times[k].append(v)
        ratios.append(got["generated"] / got["torchvision"])
    out = {"torchvision_s": statistics.median(times["torchvision"]), "generated_s": statistics.median(times["generated"]),
           "ratio": statistics.median(ratios), "ratio_min": min(ratios), "ratio_max": max(ratios), "runs": runs,
           "iters": iters}
    if compiled:
        out["first_call_s"] = compile_s
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", nargs="+", help=f"CPU models (default: {' '.join(DEFAULT_MODELS)})")
    parser.add_argument("--gpu-models", nargs="+", help=f"GPU models (default: {' '.join(DEFAULT_GPU_MODELS)})")
    parser.add_argument("--compile-models", nargs="*",
                        help="models also timed under torch.compile (default: resnet18 on the CPU; resnet50 and "
                             "mobilenet_v2 on the GPU); give none to skip compile")
    parser.add_argument("--modes", nargs="+", choices=["fwd", "fwdbwd"], default=["fwd", "fwdbwd"])
    parser.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto",
                        help="auto: the CPU, and the GPU when CUDA is available")
    parser.add_argument("--size", type=int, help="input size (default: the weights' crop size)")
    parser.add_argument("--batch", type=int, default=8, help="CPU batch (default 8)")
    parser.add_argument("--gpu-batch", type=int, default=64)
    parser.add_argument("--runs", type=int, default=5, help="timed runs per model (median)")
    parser.add_argument("--gpu-runs", type=int, default=7)
    parser.add_argument("--gpu-iters", type=int, default=20, help="calls per timed GPU run")
    parser.add_argument("--json", help="results file (default: benchmarks/results/generated_vs_torchvision.json)")
    args = parser.parse_args()

    import torch
    import torchvision
    torch.set_num_threads(1)
    info = B.machine()
    info.update(torch=torch.__version__, torchvision=torchvision.__version__,
                omp_num_threads=os.environ.get("OMP_NUM_THREADS"))
    devices = ["cpu"] if args.device == "cpu" else ["cuda"] if args.device == "cuda" else \
        ["cpu", "cuda"] if torch.cuda.is_available() else ["cpu"]
    if "cuda" in devices:
        info["gpu"] = torch.cuda.get_device_name(0)
        torch.backends.cudnn.benchmark = True
    print(f"generated_vs_torchvision: devices {', '.join(devices)}; {B.describe(info)}"
          + (f"; gpu {info['gpu']}" if "gpu" in info else ""), flush=True)
    if args.device == "auto" and "cuda" not in devices:
        print("note: CUDA is not available here: GPU rows skipped")

    results: list[dict] = []
    builds: list[dict] = []

    def save() -> None:  # after every row: a run stopped at a time limit keeps what it measured
        B.write_json("generated_vs_torchvision", {"machine": info, "batch_cpu": args.batch,
                                                  "batch_gpu": args.gpu_batch, "results": results,
                                                  "build": builds}, args.json)

    for device in devices:
        names = (args.models or DEFAULT_MODELS) if device == "cpu" else (args.gpu_models or DEFAULT_GPU_MODELS)
        if args.compile_models is not None:
            comp = set(args.compile_models)
        else:
            comp = {"resnet18"} if device == "cpu" else {"resnet50", "mobilenet_v2"}
        runs = args.runs if device == "cpu" else args.gpu_runs
        iters = 1 if device == "cpu" else args.gpu_iters
        # eager for every model first, then torch.compile (slow to compile) for those asked
        for compiled in (False, True):
            for name in names:
                if compiled and name not in comp:
                    continue
                theirs, ours, size = build_pair(name, args.size)
                if device == "cpu" and not compiled:
                    import archc
                    from torchvision import models
                    fx = fixture(name)
                    t_tv = B.median_time(lambda: getattr(models, name)(**fx["kwargs"]), 3)
                    t_ac = B.median_time(lambda: archc.build(str(SPECS / f"{name}.arch")), 3)
                    builds.append({"model": name, "torchvision_s": t_tv, "archc_build_s": t_ac, "ratio": t_ac / t_tv})
                g = torch.Generator().manual_seed(1)
                xc = torch.randn(args.batch, 3, size, size, generator=g)
                try:
                    diff = check_equal(theirs, ours, xc)
                except AssertionError as e:
                    print(f"  {name}: {e}: not timed", flush=True)
                    results.append({"model": name, "device": device, "error": str(e)})
                    continue
                batch = args.batch if device == "cpu" else args.gpu_batch
                x = torch.randn(batch, 3, size, size, generator=g)
                y = torch.randint(0, 1000, (batch,), generator=g)
                if device == "cuda":
                    theirs, ours = (m.cuda().to(memory_format=torch.channels_last) for m in (theirs, ours))
                    x = x.cuda().to(memory_format=torch.channels_last)
                    y = y.cuda()
                for mode in args.modes:
                    torch.manual_seed(0)
                    try:
                        r = compare(theirs, ours, x, y, mode, compiled, device, runs, iters,
                                    warmup=1 if device == "cpu" else 3)
                    except Exception as e:  # report and go on (a compile failure, out of memory)
                        r = {"error": f"{type(e).__name__}: {e}"[:300]}
                    r.update(model=name, device=device, mode=mode, compiled=compiled, batch=batch, size=size,
                             max_abs_diff=diff)
                    results.append(r)
                    save()
                    what = f"{'compile' if compiled else 'eager'} {mode}"
                    if "error" in r:
                        print(f"  {device} {name:16} {what:15} error: {r['error']}", flush=True)
                    else:
                        extra = (f"  (first calls {r['first_call_s']['torchvision']:.0f} s / "
                                 f"{r['first_call_s']['generated']:.0f} s)") if compiled else ""
                        print(f"  {device} {name:16} {what:15} torchvision {B.fmt_seconds(r['torchvision_s'])}  "
                              f"generated {B.fmt_seconds(r['generated_s'])}  ratio {r['ratio']:.3f}{extra}", flush=True)
                del theirs, ours
                if device == "cuda":
                    torch.cuda.empty_cache()

    print("\nGenerated / torchvision, same weights (median of per-run ratios; min–max):")
    rows = []
    for r in results:
        if "ratio" not in r:
            rows.append([r["device"], r["model"], r.get("mode", ""), "compile" if r.get("compiled") else "eager",
                         "", "", "error", ""])
            continue
        rows.append([r["device"], r["model"], r["mode"], "compile" if r["compiled"] else "eager",
                     B.fmt_seconds(r["torchvision_s"]), B.fmt_seconds(r["generated_s"]), f"{r['ratio']:.3f}",
                     f"{r['ratio_min']:.3f}–{r['ratio_max']:.3f}"])
    print(B.table(["device", "model", "mode", "", "torchvision", "generated", "ratio", "range"], rows,
                  align="llllrrrr"))
    if builds:
        print("\nBuilding the module (CPU, median of 3):")
        print(B.table(["model", "torchvision ctor", "archc.build", "ratio"],
                      [[b["model"], B.fmt_seconds(b["torchvision_s"]), B.fmt_seconds(b["archc_build_s"]),
                        f"{b['ratio']:.2f}"] for b in builds]))
    save()
    print(f"wrote {args.json or B.RESULTS / 'generated_vs_torchvision.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
