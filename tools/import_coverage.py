"""How much of the zoo `archc import` covers: each model imported from PyTorch, loaded, its
weights loaded with strict=True, its outputs compared; its spec's size against the hand-written one.

Outside CI, in the reference environment (torch 2.14.1, torchvision 0.29.1, timm 1.0.31):

    OMP_NUM_THREADS=1 PYTHONPATH=. /tmp/tvenv/bin/python tools/import_coverage.py [--only NAME ...] \
        [--json benchmarks/results/import_coverage.json] [--markdown docs/import.md]

The models: the 68 torchvision classification variants of the zoo (tests/fixtures/torchvision/,
built with the fixtures' kwargs), torchvision's segmentation and video models and the timm models
of the zoo (specs/timm/), as tools/*_equivalence.py build them. For each: every tensor of its
state_dict is set to random values and the batch-norm statistics estimated on random data
(tools/torchvision_equivalence.py's randomise and calibrate); `archc.importer.import_module`
imports it at one example size (ImageNet models at 64×64 to keep CPU time down, --size);
archc loads the text, builds the module, loads the original state_dict with strict=True, and
both run the same random batch of two in eval mode: `equal` is torch.equal of the outputs.
Lines are the spec's non-blank, non-comment lines; the hand-written spec's count includes the
block libraries it imports. A failure is recorded with its code and place (the located report).
--markdown rewrites the table between the markers in that file.
"""
from __future__ import annotations

import argparse
import json
import re
import sys
import time
import traceback
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
from torchvision_equivalence import calibrate, randomise  # noqa: E402

import archc  # noqa: E402
from archc.importer.api import flat_outputs, import_module  # noqa: E402
from archc.importer.trace import ImportFailure  # noqa: E402

FIXTURES = ROOT / "tests" / "fixtures" / "torchvision"
NOT_CLASSIFICATION = {"README", "detection", "segmentation", "video"}
SEGMENTATION = ["fcn_resnet50", "fcn_resnet101", "deeplabv3_resnet50", "deeplabv3_resnet101",
                "deeplabv3_mobilenet_v3_large", "lraspp_mobilenet_v3_large"]
VIDEO = {"r3d_18": (8, 56, 56), "mc3_18": (8, 56, 56), "r2plus1d_18": (8, 56, 56),
         "s3d": (16, 224, 224)}  # S3D's last pooling window is 2×7×7 at 1/32 of the input
FULL_SIZE = {"inception_v3"}  # its auxiliary classifier (a training output) needs 299×299
TIMM_SIZES = {"dla34": (96, 64),  # sides that divide by 32
              "inception_v4": (225, 161), "inception_resnet_v2": (225, 161)}  # valid convolutions: larger
BEGIN, END = "<!-- import-coverage:begin -->", "<!-- import-coverage:end -->"


def classification() -> list[str]:
    return sorted(p.stem for p in FIXTURES.glob("*.json") if p.stem not in NOT_CLASSIFICATION)


def spec_lines(text: str) -> int:
    return sum(1 for line in text.splitlines() if line.strip() and not line.strip().startswith("#"))


def handwritten_lines(path: Path, seen: set | None = None) -> int:
    """A spec's lines plus those of the libraries it imports (each once)."""
    seen = set() if seen is None else seen
    if path in seen or not path.exists():
        return 0
    seen.add(path)
    text = path.read_text()
    total = spec_lines(text)
    for imported in re.findall(r'^import "([^"]+)"', text, re.M):
        total += handwritten_lines((path.parent / imported).resolve(), seen)
    return total


def build(family: str, name: str):
    """The module, its example input shape and its hand-written spec."""
    if family == "torchvision":
        from torchvision import models
        fixture = json.loads((FIXTURES / f"{name}.json").read_text())
        side = max(64, fixture["min_size"][0]) if name not in FULL_SIZE else fixture["crop_size"]
        return getattr(models, name)(**fixture["kwargs"]), (1, 3, side, side), ROOT / "specs/torchvision" / f"{name}.arch"
    if family == "segmentation":
        from torchvision.models import segmentation
        return (getattr(segmentation, name)(weights=None, weights_backbone=None), (1, 3, 65, 49),
                ROOT / "specs/torchvision" / f"{name}.arch")
    if family == "video":
        from torchvision.models import video
        return getattr(video, name)(weights=None), (1, 3, *VIDEO[name]), ROOT / "specs/torchvision" / f"{name}.arch"
    import timm
    h, w = TIMM_SIZES.get(name, (97, 65))
    return timm.create_model(name, pretrained=False), (1, 3, h, w), ROOT / "specs/timm" / f"{name}.arch"


def measure(family: str, name: str) -> dict:
    torch.manual_seed(0)
    row: dict = {"family": family, "model": name}
    module, shape, handwritten = build(family, name)
    module.eval()
    module.load_state_dict(randomise(module.state_dict()), strict=True)
    batch = (2, *shape[1:])
    row["input"] = "×".join(map(str, shape[1:]))
    row["handwritten_lines"] = handwritten_lines(handwritten.resolve()) if handwritten.exists() else None
    start = time.perf_counter()
    try:
        imported = import_module(module, [torch.randn(*shape, generator=torch.Generator().manual_seed(3))])
    except ImportFailure as failure:
        site = failure.site
        where = site.module or "(model)"
        if site.file:
            where += f" at {Path(site.file).name}:{site.line}"
        row.update(status="fails", code=failure.code, reason=f"{failure.message} [{where}]"[:400],
                   seconds=round(time.perf_counter() - start, 1))
        return row
    row["import_seconds"] = round(time.perf_counter() - start, 1)
    calibrate(module, batch)  # after the import: it sets momentum=None, which archc's batch norms lack
    row["lines"] = spec_lines(imported.text)
    row["blocks"] = len(imported.spec.blocks)
    row["symbolic"] = imported.symbolic
    row["constraints"] = imported.constraints
    built = archc.loads(imported.text).to_torch()
    built.load_state_dict(module.state_dict(), strict=True)  # raises if a key or shape differs
    built.eval()
    x = torch.randn(*batch, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        theirs, ours = flat_outputs(module(x)), flat_outputs(built(x))
    row["equal"] = len(theirs) == len(ours) and all(torch.equal(a, b) for a, b in zip(theirs, ours))
    row["max_abs_diff"] = max(float((a - b).abs().max()) for a, b in zip(theirs, ours))
    row["status"] = "round-trips" if row["equal"] else "differs"
    return row


def models(only: list[str]) -> list[tuple[str, str]]:
    out = [("torchvision", n) for n in classification()]
    out += [("segmentation", n) for n in SEGMENTATION]
    out += [("video", n) for n in VIDEO]
    timm_dir = ROOT / "specs" / "timm"
    out += [("timm", p.stem) for p in sorted(timm_dir.glob("*.arch"))]
    return [m for m in out if not only or m[1] in only or f"{m[0]}:{m[1]}" in only]


def markdown(rows: list[dict]) -> str:
    lines = [BEGIN, "", f"Measured by `tools/import_coverage.py` (torch {torch.__version__}"
             + _versions() + "), CPU, float32, eval mode.", ""]
    for family in ("torchvision", "segmentation", "video", "timm"):
        part = [r for r in rows if r["family"] == family]
        if not part:
            continue
        ok = sum(r.get("status") == "round-trips" for r in part)
        title = {"torchvision": "torchvision classification", "segmentation": "torchvision segmentation",
                 "video": "torchvision video", "timm": "timm"}[family]
        lines += [f"**{title}: {ok} of {len(part)} round-trip** (strict state_dict load, torch.equal outputs)", "",
                  "| model | input | result | spec lines | hand-written lines | blocks | sizes |",
                  "|---|---|---|---:|---:|---:|---|"]
        for r in part:
            if r.get("status") in ("round-trips", "differs"):
                result = "equal" if r["equal"] else f"differs (max {r['max_abs_diff']:.3g})"
                symbols = "N, D, H, W" if family == "video" else "N, H, W"
                sizes = (symbols + (": " + ", ".join(r["constraints"]) if r["constraints"] else "")) \
                    if r.get("symbolic") else "fixed"
                lines.append(f"| {r['model']} | {r['input']} | {result} | {r['lines']} | "
                             f"{r['handwritten_lines'] or '—'} | {r['blocks']} | {sizes} |")
            else:
                reason = r.get("reason", "").replace("|", "\\|").replace("\n", " ")
                lines.append(f"| {r['model']} | {r['input']} | fails: {r.get('code', '')} {reason} | — | "
                             f"{r['handwritten_lines'] or '—'} | — | — |")
        lines.append("")
    lines.append(END)
    return "\n".join(lines)


def _versions() -> str:
    out = ""
    try:
        import torchvision
        out += f", torchvision {torchvision.__version__}"
    except ImportError:
        pass
    try:
        import timm
        out += f", timm {timm.__version__}"
    except ImportError:
        pass
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", nargs="*", default=[],
                        help="models by name, or FAMILY:NAME (timm:densenet121; torchvision has one too)")
    parser.add_argument("--json", default=str(ROOT / "benchmarks" / "results" / "import_coverage.json"))
    parser.add_argument("--markdown", help="rewrite the table between the markers of this file")
    parser.add_argument("--from-json", action="store_true", help="only render --markdown from --json")
    args = parser.parse_args()
    torch.set_num_threads(1)
    path = Path(args.json)
    rows: list[dict] = json.loads(path.read_text())["models"] if (args.from_json or args.only) and path.exists() else []
    if not args.from_json:
        for family, name in models(args.only):
            try:
                row = measure(family, name)
            except Exception as e:  # recorded, not hidden: the table says which failed and why
                row = {"family": family, "model": name, "status": "fails", "code": type(e).__name__,
                       "reason": f"{e}"[:300], "trace": traceback.format_exc(limit=3)[-600:]}
            rows = [r for r in rows if (r["family"], r["model"]) != (family, name)] + [row]
            print(json.dumps({k: v for k, v in row.items() if k != "trace"}), flush=True)
            path.write_text(json.dumps({"torch": torch.__version__, "models": rows}, indent=1) + "\n")
    order = {m: k for k, m in enumerate(models([]))}
    rows.sort(key=lambda r: order.get((r["family"], r["model"]), 1 << 20))
    if args.markdown:
        doc = Path(args.markdown)
        text = doc.read_text()
        start, end = text.index(BEGIN), text.index(END) + len(END)
        doc.write_text(text[:start] + markdown(rows) + text[end:])
    return 0


if __name__ == "__main__":
    sys.exit(main())
