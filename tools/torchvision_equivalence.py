"""Load torchvision's weights into the archc-built model of each specs/torchvision/ spec with
strict=True and compare the outputs in eval mode.

torchvision is a reference, not a dependency: run this in an environment that has it (never in
CI), with archc importable from this checkout:

    python3 -m venv /tmp/tvenv
    /tmp/tvenv/bin/pip install torch==2.14.1 torchvision==0.29.1 pydantic lark networkx pyyaml
    OMP_NUM_THREADS=1 PYTHONPATH=. /tmp/tvenv/bin/python tools/torchvision_equivalence.py [BUILDER ...] \
        [--markdown docs/torchvision_equivalence.md]

No weights are downloaded: torchvision's model is built as its DEFAULT weights would build it
(the kwargs recorded in tests/fixtures/torchvision/<builder>.json), every parameter is set to
random values, and the batch-norm statistics are then estimated on random data (a few forward
passes in training mode), so that activations depend on the input all the way to the logits and
a wrong eps, activation, missing layer or transposed weight shows in the outputs. That state_dict
is loaded into the archc-built module with strict=True; both run the same input (four samples
at the weights' crop size, or --size) in eval mode. The table gives the largest absolute
difference of the logits, their scale, and how much the logits vary between samples (so a
difference is measured against a signal, not a constant).
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import torch
import torchvision
from torchvision import models

import archc

ROOT = Path(__file__).resolve().parent.parent
SPECS = ROOT / "specs" / "torchvision"
FIXTURES = ROOT / "tests" / "fixtures" / "torchvision"


def randomise(state: dict) -> dict:
    g = torch.Generator().manual_seed(0)
    out = type(state)()
    out._metadata = getattr(state, "_metadata", None)  # module versions (MNASNet reads them)
    for key, t in state.items():
        if not t.is_floating_point():
            out[key] = t.clone()
        elif key.endswith("running_var"):
            out[key] = torch.rand(t.shape, generator=g) + 0.5
        elif key.endswith("running_mean"):
            out[key] = torch.randn(t.shape, generator=g) * 0.1
        elif t.ndim >= 2:  # kernels: He-scaled, so the signal neither vanishes nor explodes
            fan_in = t[0].numel()
            out[key] = torch.randn(t.shape, generator=g) * (2.0 / fan_in) ** 0.5
        elif key.endswith("weight"):  # normalisation scales around 1
            out[key] = 1.0 + 0.1 * torch.randn(t.shape, generator=g)
        else:  # biases, layer scales
            out[key] = 0.1 * torch.randn(t.shape, generator=g)
    return out


def calibrate(model: torch.nn.Module, shape: tuple[int, ...], batches: int = 2) -> None:
    """Estimate every batch norm's running statistics on `batches` random inputs of `shape`
    (cumulative average). Shared by the segmentation, video and timm equivalence tools."""
    norms = [m for m in model.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    if not norms:
        return
    for m in norms:
        m.reset_running_stats()
        m.momentum = None
    model.train()
    g = torch.Generator().manual_seed(2)
    with torch.no_grad():
        for _ in range(batches):
            model(torch.randn(*shape, generator=g))
    model.eval()


def compare(builder: str, size: int | None) -> dict:
    ref = json.loads((FIXTURES / f"{builder}.json").read_text())
    side = size or ref["crop_size"]
    if size and archc.load(SPECS / f"{builder}.arch", {"size": "H"}).graph.training_outputs:
        side = size = ref["crop_size"]  # training heads are built too: the size must suit them
    torch.manual_seed(0)
    theirs = getattr(models, builder)(**ref["kwargs"]).eval()
    theirs.load_state_dict(randomise(theirs.state_dict()), strict=True)
    calibrate(theirs, (4, 3, side, side), batches=3)
    state = theirs.state_dict()
    spec = SPECS / f"{builder}.arch"
    params = {"size": size} if size else None
    ours = archc.build(str(spec), params=params) if params else archc.build(str(spec))
    ours.load_state_dict(state, strict=True)
    ours.eval()
    x = torch.randn(4, 3, side, side, generator=torch.Generator().manual_seed(1))
    start = time.perf_counter()
    with torch.no_grad():
        a = theirs(x)
        b = ours(x)
    if isinstance(b, dict):
        b = b["logits"]
    return {"model": builder, "input": f"4×3×{side}×{side}", "max_abs_diff": float((a - b).abs().max()),
            "max_abs_logit": float(a.abs().max()), "spread": float(a.std(dim=0).mean()),
            "seconds": time.perf_counter() - start}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("builders", nargs="*")
    parser.add_argument("--size", type=int, help="input size (default: the weights' crop size)")
    parser.add_argument("--max-gflops", type=float, default=None,
                        help="models whose published GFLOPS exceed this run at --large-size (CPU time)")
    parser.add_argument("--large-size", type=int, default=128)
    parser.add_argument("--markdown", help="write the results table to this file")
    args = parser.parse_args()
    builders = args.builders or sorted(p.stem for p in SPECS.glob("*.arch"))
    torch.set_num_threads(1)
    rows = []
    for b in builders:
        size = args.size
        if args.max_gflops is not None and size is None:
            published = json.loads((FIXTURES / f"{b}.json").read_text())["gflops"]
            size = args.large_size if published > args.max_gflops else None
        try:
            row = compare(b, size)
        except Exception as e:  # report and go on: the table shows which failed
            row = {"model": b, "input": "", "max_abs_diff": float("nan"), "max_abs_logit": float("nan"),
                   "seconds": 0.0, "error": f"{type(e).__name__}: {e}"[:300]}
        rows.append(row)
        print(f"{row['model']:22} {row['input']:14} max|diff| {row['max_abs_diff']:.3g}  "
              f"max|logit| {row['max_abs_logit']:.3g}  spread {row.get('spread', float('nan')):.3g}  "
              f"{row.get('error', '')}", flush=True)
    if args.markdown:
        lines = ["# torchvision equivalence", "",
                 f"Made by `tools/torchvision_equivalence.py` with torchvision {torchvision.__version__}, "
                 f"torch {torch.__version__}, on the CPU, one thread, float32, eval mode. Each model: "
                 "torchvision's module with random weights and batch-norm statistics estimated on random "
                 "data; its state_dict loaded into the archc-built module with `strict=True`; both run the "
                 "same random input. Columns: the largest absolute difference of the logits, the largest "
                 "logit, and the mean standard deviation of a logit across the samples (the signal the "
                 "difference is measured against).", "",
                 "| model | input | max abs difference | max abs logit | spread across samples |",
                 "|---|---|---:|---:|---:|"]
        lines += [f"| {r['model']} | {r['input']} | {r['max_abs_diff']:.3g} | {r['max_abs_logit']:.3g} | "
                  f"{r.get('spread', float('nan')):.3g} |" + (f" {r['error']}" if "error" in r else "")
                  for r in rows]
        Path(args.markdown).write_text("\n".join(lines) + "\n")
    bad = [r for r in rows if not (r["max_abs_diff"] <= 1e-5 * max(1.0, r["max_abs_logit"]))]
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
