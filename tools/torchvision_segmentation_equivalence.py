"""Load torchvision's segmentation models' weights into the archc-built model of each
specs/torchvision/ segmentation spec with strict=True and compare the outputs in eval mode.

Outside CI, in the reference environment (docs/torchvision_equivalence.md):

    OMP_NUM_THREADS=1 PYTHONPATH=. /tmp/tvenv/bin/python tools/torchvision_segmentation_equivalence.py [BUILDER ...]

As tools/torchvision_equivalence.py: torchvision's model is built as the builder's defaults build
it (weights=None, weights_backbone=None: 21 classes, no aux classifier), every parameter set to
random values and the batch-norm statistics estimated on random data; that state_dict is loaded
into archc.build's module with strict=True and both run the same random input (2×3×225×161, or
--height/--width) in eval mode. Both return {"out": tensor} (the specs say `returns dict`).
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch
from torchvision.models import segmentation

import archc

sys.path.insert(0, str(Path(__file__).resolve().parent))
from torchvision_equivalence import calibrate, randomise  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SPECS = ROOT / "specs" / "torchvision"
BUILDERS = ["fcn_resnet50", "fcn_resnet101", "deeplabv3_resnet50", "deeplabv3_resnet101",
            "deeplabv3_mobilenet_v3_large", "lraspp_mobilenet_v3_large"]


def compare(builder: str, h: int, w: int) -> dict:
    torch.manual_seed(0)
    theirs = getattr(segmentation, builder)(weights=None, weights_backbone=None).eval()
    theirs.load_state_dict(randomise(theirs.state_dict()), strict=True)
    calibrate(theirs, (2, 3, h, w))
    ours = archc.build(str(SPECS / f"{builder}.arch"), params={"height": h, "width": w})
    ours.load_state_dict(theirs.state_dict(), strict=True)
    ours.eval()
    x = torch.randn(2, 3, h, w, generator=torch.Generator().manual_seed(1))
    start = time.perf_counter()
    with torch.no_grad():
        a = theirs(x)["out"]
        b = ours(x)["out"]
    return {"model": builder, "input": f"2×3×{h}×{w}", "equal": bool(torch.equal(a, b)),
            "max_abs_diff": float((a - b).abs().max()), "max_abs_out": float(a.abs().max()),
            "spread": float(a.std(dim=0).mean()), "seconds": time.perf_counter() - start}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("builders", nargs="*")
    parser.add_argument("--height", type=int, default=225)
    parser.add_argument("--width", type=int, default=161)
    args = parser.parse_args()
    torch.set_num_threads(1)
    bad = 0
    for b in args.builders or BUILDERS:
        r = compare(b, args.height, args.width)
        print(f"| {r['model']} | {r['input']} | {r['equal']} | {r['max_abs_diff']:.3g} | {r['max_abs_out']:.3g} | "
              f"{r['spread']:.3g} |", flush=True)
        bad += not r["max_abs_diff"] <= 1e-5 * max(1.0, r["max_abs_out"])
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
