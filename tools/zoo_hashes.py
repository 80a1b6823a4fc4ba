"""Fingerprints of what archc produces for every model spec in the repository: summaries (text,
JSON, by op, per depth), DOT diagrams and generated PyTorch sources.

A restructuring that must not change behaviour is checked by running this before and after and
comparing the digests (`--verbose` prints one line per spec and artefact, so a difference names
its source). Needs no torch: code generation is static.

    python tools/zoo_hashes.py [--verbose]
"""
from __future__ import annotations

import argparse
import hashlib
import os
import sys
from pathlib import Path

import archc
from archc.backends import diagram
from archc.errors import SpecError

ROOT = Path(__file__).resolve().parent.parent
SPEC_FOLDERS = ("specs", "specs/torchvision", "examples")


def model_specs() -> list[Path]:
    paths: list[Path] = []
    for folder in SPEC_FOLDERS:
        paths += sorted((ROOT / folder).glob("*.arch")) + sorted((ROOT / folder).glob("*.yaml"))
    return paths


def artefacts(model: archc.Model) -> dict[str, str | bytes]:
    out: dict[str, str | bytes] = {
        "summary": model.summary(),
        "summary-depth0": model.summary(depth=0),
        "summary-json": model.summary("json"),
        "summary-by-op": model.summary(by_op=True),
        "dot": diagram.draw(model, "dot", None, "TB"),
        "dot-depth0": diagram.draw(model, "dot", 0, "LR"),
        "source": model.to_source(),
    }
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args()
    total = hashlib.sha256()
    os.chdir(ROOT)  # specs by relative path: the JSON summary names files, wherever the checkout is
    for path in model_specs():
        rel = path.relative_to(ROOT).as_posix()
        try:
            model = archc.load(rel)
            items = artefacts(model)
        except SpecError as e:  # a block library or an example of an error: its message is the artefact
            items = {"error": str(e)}
        for kind, data in items.items():
            # imported files are named by absolute path: the checkout's own folder is not behaviour
            data = (data if isinstance(data, bytes) else data.encode()).replace(str(ROOT).encode(), b"<root>")
            digest = hashlib.sha256(data).hexdigest()
            total.update(f"{rel} {kind} {digest}\n".encode())
            if args.verbose:
                print(f"{digest[:16]} {kind:15} {rel}")
    print(f"{total.hexdigest()}  all ({len(model_specs())} specs)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
