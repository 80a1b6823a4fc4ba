"""Load torchvision's detection backbones' weights into the archc-built model of each
specs/torchvision/ detection backbone spec with strict=True and compare the outputs in eval mode.

Outside CI, in the reference environment (docs/torchvision_equivalence.md):

    OMP_NUM_THREADS=1 PYTHONPATH=. /tmp/tvenv/bin/python tools/torchvision_detection_equivalence.py [NAME ...]

As tools/torchvision_equivalence.py: torchvision's BackboneWithFPN is built as the fixtures record
(tests/fixtures/make_torchvision_detection_fixtures.py: no weights, every layer trainable), every
state_dict tensor set to random values. Its norm layers are FrozenBatchNorm2d, whose statistics
no training pass estimates (`calibrate` finds no batch norm), so they are set here on random data:
each FrozenBatchNorm2d's running mean and variance become those of its input, layer after layer in
one pass on a 2×3×225×161 batch, so the signal keeps its scale through fifty layers. That state_dict is loaded into
archc.build's module with strict=True and both run the same random input (2×3×225×161, or
--height/--width) in eval mode; both return a dict, compared key by key (names and order too).
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch
from torchvision.models.detection import backbone_utils
from torchvision.ops.misc import FrozenBatchNorm2d

import archc

sys.path.insert(0, str(Path(__file__).resolve().parent))
from torchvision_equivalence import calibrate, randomise  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SPECS = ROOT / "specs" / "torchvision"
# spec name → (backbone_utils function, its keyword arguments), as the fixtures were recorded
BACKBONES = {
    "resnet50_fpn_backbone": ("resnet_fpn_backbone",
                              {"backbone_name": "resnet50", "weights": None, "trainable_layers": 5}),
    "mobilenet_v3_large_fpn_backbone": ("mobilenet_backbone",
                                        {"backbone_name": "mobilenet_v3_large", "weights": None, "fpn": True,
                                         "trainable_layers": 6}),
}


# the statistics are estimated at one size whatever the compared one: on a 1×1 input a channel's
# variance over two samples is no estimate
CALIBRATION = (2, 3, 225, 161)


def calibrate_frozen(model: torch.nn.Module, shape: tuple[int, ...]) -> None:
    """Set every FrozenBatchNorm2d's running statistics to those of its input on one random
    batch of `shape`: a forward pre-hook writes them before the layer runs, so each layer sees
    the already normalised output of the layers before it."""
    def hook(module, inputs):
        x = inputs[0]
        module.running_mean.copy_(x.mean(dim=(0, 2, 3)))
        module.running_var.copy_(x.var(dim=(0, 2, 3), unbiased=False))
    handles = [m.register_forward_pre_hook(hook) for m in model.modules() if isinstance(m, FrozenBatchNorm2d)]
    g = torch.Generator().manual_seed(2)
    with torch.no_grad():
        model(torch.randn(*shape, generator=g))
    for h in handles:
        h.remove()


def compare(name: str, h: int, w: int) -> dict:
    function, kwargs = BACKBONES[name]
    torch.manual_seed(0)
    theirs = getattr(backbone_utils, function)(**kwargs).eval()
    theirs.load_state_dict(randomise(theirs.state_dict()), strict=True)
    calibrate(theirs, CALIBRATION)  # a no-op here (no nn.BatchNorm2d): kept for other norm layers
    calibrate_frozen(theirs, CALIBRATION)
    ours = archc.build(str(SPECS / f"{name}.arch"), params={"height": h, "width": w})
    ours.load_state_dict(theirs.state_dict(), strict=True)
    ours.eval()
    x = torch.randn(2, 3, h, w, generator=torch.Generator().manual_seed(1))
    start = time.perf_counter()
    with torch.no_grad():
        a = theirs(x)
        b = ours(x)
    seconds = time.perf_counter() - start
    rows = []
    for key in a:
        ta, tb = a[key], b.get(key) if isinstance(b, dict) else None
        same_shape = tb is not None and ta.shape == tb.shape
        rows.append({"model": name, "key": key, "input": f"2×3×{h}×{w}", "shape": "×".join(map(str, ta.shape)),
                     "equal": bool(same_shape and torch.equal(ta, tb)),
                     "max_abs_diff": float((ta - tb).abs().max()) if same_shape else float("inf"),
                     "max_abs_out": float(ta.abs().max()), "spread": float(ta.std(dim=0).mean()),
                     "keys_match": isinstance(b, dict) and list(a) == list(b), "seconds": seconds})
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("names", nargs="*")
    parser.add_argument("--height", type=int, default=225)
    parser.add_argument("--width", type=int, default=161)
    args = parser.parse_args()
    torch.set_num_threads(1)
    bad = 0
    for name in args.names or BACKBONES:
        for r in compare(name, args.height, args.width):
            print(f"| {r['model']} | {r['key']} | {r['input']} | {r['shape']} | {r['equal']} | {r['max_abs_diff']:.3g} | "
                  f"{r['max_abs_out']:.3g} | {r['spread']:.3g} |", flush=True)
            bad += not (r["keys_match"] and r["max_abs_diff"] <= 1e-5 * max(1.0, r["max_abs_out"]))
        print(f"  keys and order equal: {r['keys_match']}; {r['seconds']:.2f} s for both forwards", flush=True)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
