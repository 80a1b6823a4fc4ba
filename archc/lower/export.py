"""Exporting a built model through torch's exporters (`archc export SPEC --onnx FILE`).

An exporter traces the model on example inputs, so symbolic sizes need concrete values: the
batch is 1 unless given, every other symbol the smallest size meeting the spec's constraints at
or above a default (224 on spatial axes, 16 elsewhere), unless given (`--input-size H=256`).
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from archc import symbolic as sy
from archc.errors import SpecError

if TYPE_CHECKING:
    from archc.model import Model

SPATIAL_DEFAULT = 224
OTHER_DEFAULT = 16


def example_sizes(model: "Model", given: dict[str, int] | None = None) -> dict[str, int]:
    """A concrete value for every symbol in the model's input shapes; raises SpecError when
    `given` names an unknown symbol or the sizes do not meet the constraints."""
    given = dict(given or {})
    graph = model.graph
    role: dict[str, str] = {}  # symbol -> "batch" | "spatial" | "other", by its first position
    for node_id in graph.inputs.values():
        for axis, d in enumerate(graph.node(node_id).shape):
            if not sy.is_int(d):
                for s in sorted(d.free_symbols()):
                    role.setdefault(s, "batch" if axis == 0 else "spatial" if axis >= 2 else "other")
    unknown = sorted(set(given) - set(role))
    if unknown:
        raise SpecError(f"--input-size names {', '.join(unknown)}, which the inputs do not use",
                        None, f"symbolic input sizes: {', '.join(role) or 'none'}")
    assumptions = graph.assumptions
    values = {}
    for s, r in role.items():
        if s in given:
            values[s] = given[s]
        elif r == "batch":
            values[s] = 1
        else:
            values[s] = assumptions.example(s, SPATIAL_DEFAULT if r == "spatial" else OTHER_DEFAULT)
    if not assumptions.satisfied_by(values):
        shown = ", ".join(f"{k}={v}" for k, v in values.items())
        raise SpecError(f"input sizes {shown} do not meet the spec's constraints: "
                        f"{', '.join(model.constraints)}", None,
                        "choose sizes that do, e.g. --input-size " +
                        " ".join(f"{s}={assumptions.example(s, v)}" for s, v in values.items()))
    return values


def example_inputs(model: "Model", values: dict[str, int]) -> tuple:
    import torch
    graph = model.graph
    out = []
    for node_id in graph.inputs.values():
        shape = [int(d) if sy.is_int(d) else int(d.subs(values)) for d in graph.node(node_id).shape]
        out.append(torch.randn(*shape))
    return tuple(out)


def export_onnx(model: "Model", path: str | Path, sizes: dict[str, int] | None = None,
                opset: int | None = None) -> dict[str, int]:
    """Write the model (eval mode) as ONNX through torch.onnx.export, atomically; returns the
    sizes the example inputs had. Inputs and outputs are named as in the spec."""
    import torch

    from archc.lower.build import build
    values = example_sizes(model, sizes)
    module = build(model).eval()
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp.onnx")
    os.close(fd)
    try:
        with torch.no_grad():
            program = torch.onnx.export(module, example_inputs(model, values), tmp,
                                        input_names=list(model.graph.inputs),
                                        output_names=list(model.graph.inference_outputs),
                                        opset_version=opset, external_data=False, verbose=False)
        del program
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # as a plainly created file, not mkstemp's 0600
        os.replace(tmp, target)
    finally:
        Path(tmp).unlink(missing_ok=True)
    return values
