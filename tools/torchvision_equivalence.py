"""Load torchvision's weights into the archc-built model of each specs/torchvision/ spec with
strict=True and compare the outputs in eval mode.

torchvision is a reference, not a dependency: run this in an environment that has it (never in
CI), with archc importable from this checkout:

    python3 -m venv /tmp/tvenv
    /tmp/tvenv/bin/pip install torch==2.14.1 torchvision==0.29.1 pydantic lark networkx pyyaml
    OMP_NUM_THREADS=1 PYTHONPATH=. /tmp/tvenv/bin/python tools/torchvision_equivalence.py [BUILDER ...] \
        [--markdown docs/torchvision_equivalence.md]

No weights are downloaded: torchvision's model is built as its DEFAULT weights would build it
(the kwargs recorded in tests/fixtures/torchvision/<builder>.json) and every parameter and buffer
is set to random values (running variances positive), so that a wrong eps, a missing layer or a
transposed weight shows in the outputs. Both models get the same input (two samples at the
spec's input size, or --size), in eval mode; the table gives the largest absolute difference of
the logits and their scale.
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
    out = {}
    for key, t in state.items():
        if not t.is_floating_point():
            out[key] = t.clone()
        elif key.endswith("running_var"):
            out[key] = torch.rand(t.shape, generator=g) + 0.5
        elif key.endswith("running_mean"):
            out[key] = torch.randn(t.shape, generator=g) * 0.1
        else:  # keep each tensor's scale so activations neither vanish nor explode
            std = float(t.std()) if t.numel() > 1 and float(t.std()) > 0 else 0.1
            out[key] = torch.randn(t.shape, generator=g) * std + (1.0 if key.endswith("weight") and t.ndim == 1 else 0.0)
    return out


def compare(builder: str, size: int | None) -> dict:
    ref = json.loads((FIXTURES / f"{builder}.json").read_text())
    torch.manual_seed(0)
    theirs = getattr(models, builder)(**ref["kwargs"]).eval()
    state = randomise(theirs.state_dict())
    theirs.load_state_dict(state, strict=True)
    spec = SPECS / f"{builder}.arch"
    params = {"size": size} if size else None
    ours = archc.build(str(spec), params=params) if params else archc.build(str(spec))
    ours.load_state_dict(state, strict=True)
    ours.eval()
    side = size or ref["crop_size"]
    x = torch.randn(2, 3, side, side, generator=torch.Generator().manual_seed(1))
    start = time.perf_counter()
    with torch.no_grad():
        a = theirs(x)
        b = ours(x)
    if isinstance(b, dict):
        b = b["logits"]
    return {"model": builder, "input": f"2×3×{side}×{side}", "max_abs_diff": float((a - b).abs().max()),
            "max_abs_logit": float(a.abs().max()), "seconds": time.perf_counter() - start}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("builders", nargs="*")
    parser.add_argument("--size", type=int, help="input size (default: the weights' crop size)")
    parser.add_argument("--markdown", help="write the results table to this file")
    args = parser.parse_args()
    builders = args.builders or sorted(p.stem for p in SPECS.glob("*.arch"))
    torch.set_num_threads(1)
    rows = []
    for b in builders:
        try:
            row = compare(b, args.size)
        except Exception as e:  # report and go on: the table shows which failed
            row = {"model": b, "input": "", "max_abs_diff": float("nan"), "max_abs_logit": float("nan"),
                   "seconds": 0.0, "error": f"{type(e).__name__}: {e}"[:300]}
        rows.append(row)
        print(f"{row['model']:22} {row['input']:14} max|diff| {row['max_abs_diff']:.3g}  "
              f"max|logit| {row['max_abs_logit']:.3g}  {row.get('error', '')}", flush=True)
    if args.markdown:
        lines = [f"# torchvision equivalence", "",
                 f"Made by `tools/torchvision_equivalence.py` with torchvision {torchvision.__version__}, "
                 f"torch {torch.__version__}, on the CPU, one thread, float32, eval mode. Each model: "
                 "torchvision's state_dict (random values, running variances positive) loaded into the "
                 "archc-built module with `strict=True`; both run on the same random input; the table gives "
                 "the largest absolute difference of the logits, and the largest logit for scale.", "",
                 "| model | input | max abs difference | max abs logit |", "|---|---|---:|---:|"]
        lines += [f"| {r['model']} | {r['input']} | {r['max_abs_diff']:.3g} | {r['max_abs_logit']:.3g} |"
                  + (f" {r['error']}" if "error" in r else "") for r in rows]
        Path(args.markdown).write_text("\n".join(lines) + "\n")
    bad = [r for r in rows if not (r["max_abs_diff"] <= 1e-3 * max(1.0, r["max_abs_logit"]))]
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
