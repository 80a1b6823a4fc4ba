"""Load torchvision's video classification models' weights into the archc-built model of each
specs/torchvision/ video spec (r3d_18, mc3_18, r2plus1d_18, s3d) with strict=True and compare the
outputs in eval mode.

Outside CI, in the reference environment (docs/torchvision_equivalence.md):

    OMP_NUM_THREADS=1 PYTHONPATH=. /tmp/tvenv/bin/python tools/torchvision_video_equivalence.py [BUILDER ...]

As tools/torchvision_equivalence.py: torchvision's model is built as the builder's defaults build
it (weights=None: 400 classes), every parameter set to random values and the batch-norm
statistics estimated on random data; that state_dict is loaded into archc.build's module with
strict=True and both run the same random clips (2×3×T×H×W at the weights' clip size: 16×112×112
for the ResNets, 16×224×224 for S3D; --frames/--height/--width to change) in eval mode.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch
from torchvision.models import video

import archc

sys.path.insert(0, str(Path(__file__).resolve().parent))
from torchvision_equivalence import calibrate, randomise  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SPECS = ROOT / "specs" / "torchvision"
BUILDERS = ["r3d_18", "mc3_18", "r2plus1d_18", "s3d"]
SIZES = {"r3d_18": (16, 112, 112), "mc3_18": (16, 112, 112), "r2plus1d_18": (16, 112, 112),
         "s3d": (16, 224, 224)}


def compare(builder: str, t: int, h: int, w: int) -> dict:
    shape = (2, 3, t, h, w)
    torch.manual_seed(0)
    theirs = getattr(video, builder)(weights=None).eval()
    theirs.load_state_dict(randomise(theirs.state_dict()), strict=True)
    calibrate(theirs, shape)
    ours = archc.build(str(SPECS / f"{builder}.arch"), params={"frames": t, "height": h, "width": w})
    ours.load_state_dict(theirs.state_dict(), strict=True)
    ours.eval()
    x = torch.randn(*shape, generator=torch.Generator().manual_seed(1))
    start = time.perf_counter()
    with torch.no_grad():
        a = theirs(x)
        b = ours(x)
    return {"model": builder, "input": "×".join(map(str, shape)), "equal": bool(torch.equal(a, b)),
            "max_abs_diff": float((a - b).abs().max()), "max_abs_out": float(a.abs().max()),
            "spread": float(a.std(dim=0).mean()), "seconds": time.perf_counter() - start}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("builders", nargs="*")
    parser.add_argument("--frames", type=int)
    parser.add_argument("--height", type=int)
    parser.add_argument("--width", type=int)
    args = parser.parse_args()
    torch.set_num_threads(1)
    bad = 0
    for b in args.builders or BUILDERS:
        t, h, w = SIZES[b]
        r = compare(b, args.frames or t, args.height or h, args.width or w)
        print(f"| {r['model']} | {r['input']} | {r['equal']} | {r['max_abs_diff']:.3g} | {r['max_abs_out']:.3g} | "
              f"{r['spread']:.3g} |", flush=True)
        bad += not r["max_abs_diff"] <= 1e-5 * max(1.0, r["max_abs_out"])
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
