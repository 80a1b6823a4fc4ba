"""Load timm models' weights into the archc-built model of each specs/timm/ spec with strict=True
and compare the outputs in eval mode.

Outside CI, in the reference environment (torch 2.14.1, timm 1.0.31; docs/torchvision_equivalence.md,
section "timm models"):

    OMP_NUM_THREADS=1 PYTHONPATH=. /tmp/tvenv/bin/python tools/timm_equivalence.py [NAME ...]

Each model is timm.create_model(name, pretrained=False) in eval mode. timm's own initialisation
zeroes some tensors (the last conv or norm of residual branches, nf_resnet's skipinit gains), which
would hide a wrong residual branch, so every tensor of its state_dict is replaced by random values
(tools/torchvision_equivalence.py's randomise: He-scaled kernels, norm scales around 1, small
biases) and the batch-norm statistics are estimated on random data; that state_dict is loaded into
archc.build's module with strict=True and both run the same random input (2×3×225×161, the
model's SIZES where it does not accept that, or --height/--width) in eval mode.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import timm
import torch

import archc

sys.path.insert(0, str(Path(__file__).resolve().parent))
from torchvision_equivalence import calibrate, randomise  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SPECS = ROOT / "specs" / "timm"
NAMES = ["resnetv2_50", "legacy_seresnet18", "seresnext26d_32x4d", "mobilenetv3_large_100",
         "efficientnet_b0", "densenet121", "nf_resnet50", "mixnet_s",
         "tinynet_a", "lcnet_050", "rexnet_100",
         "ghostnet_100", "regnety_016",
         "efficientnetv2_rw_s", "cspresnet50", "dla34",
         "dpn68", "res2net50_26w_4s", "selecsls42b", "ese_vovnet19b_dw",
         "xception41", "inception_resnet_v2", "inception_v4", "convnextv2_atto"]
# models that do not accept 225×161, with the non-square size they take (as in the fixtures: dla34's
# sides must divide by 32)
SIZES = {"dla34": (224, 160)}


def compare(name: str, h: int, w: int) -> dict:
    torch.manual_seed(0)
    theirs = timm.create_model(name, pretrained=False).eval()
    theirs.load_state_dict(randomise(theirs.state_dict()), strict=True)
    calibrate(theirs, (2, 3, h, w))
    ours = archc.build(str(SPECS / f"{name}.arch"), params={"height": h, "width": w})
    ours.load_state_dict(theirs.state_dict(), strict=True)
    ours.eval()
    x = torch.randn(2, 3, h, w, generator=torch.Generator().manual_seed(1))
    start = time.perf_counter()
    with torch.no_grad():
        a = theirs(x)
        b = ours(x)
    if isinstance(b, dict):
        (b,) = b.values()
    return {"model": name, "input": f"2×3×{h}×{w}", "equal": bool(torch.equal(a, b)),
            "max_abs_diff": float((a - b).abs().max()), "max_abs_out": float(a.abs().max()),
            "spread": float(a.std(dim=0).mean()), "seconds": time.perf_counter() - start}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("names", nargs="*")
    parser.add_argument("--height", type=int, default=None, help="default 225, or the model's SIZES")
    parser.add_argument("--width", type=int, default=None, help="default 161, or the model's SIZES")
    args = parser.parse_args()
    torch.set_num_threads(1)
    bad = 0
    for n in args.names or [n for n in NAMES if (SPECS / f"{n}.arch").exists()]:
        h, w = SIZES.get(n, (225, 161))
        r = compare(n, args.height or h, args.width or w)
        print(f"| {r['model']} | {r['input']} | {r['equal']} | {r['max_abs_diff']:.3g} | {r['max_abs_out']:.3g} | "
              f"{r['spread']:.3g} |", flush=True)
        bad += not r["max_abs_diff"] <= 1e-5 * max(1.0, r["max_abs_out"])
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
