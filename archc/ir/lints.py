"""Lint warnings: valid but suspicious layers (a linear layer on a feature map, a softmax over a
spatial axis), checked as each layer is added.

They are not a pass over the finished graph: a warning names the block instances it was reached
through, and an instance that warns is never a block-reuse template (archc.ir.instances), so
each is found while its instance is evaluated. `archc.ir.elaborate` reports each place once,
dropping those whose layer was later pruned.
"""
from __future__ import annotations

from typing import Any

from archc import symbolic as sy
from archc.ir.builder import GraphBuilder
from archc.ir.graph import LayerNode
from archc.ir.report import Reporter
from archc.ops.base import Shape, fmt_shape

# ops after which a tensor's axes are no longer the inputs' [N, C, spatial…]
LAYOUT_OPS = frozenset({"flatten", "reshape", "permute", "transpose", "parameter", "constant"})


def check_suspicious(node: LayerNode, kwargs: dict[str, Any], shapes: list[Shape], builder: GraphBuilder,
                     reporter: Reporter) -> None:
    """Warnings for valid but suspicious layers: a linear layer on a channels-first tensor of
    rank ≥ 4 (a flatten forgotten), a softmax over a spatial axis."""
    name = node.op.name
    if name == "linear" and len(shapes[0]) >= 4 and "axis" not in kwargs \
            and channels_first(builder, node.inputs[0]):
        x = shapes[0]
        reporter.warn(f"linear is applied to the rank-{len(x)} tensor {fmt_shape(x)} without flatten: it "
                      f"maps the last axis ({sy.to_str(x[-1])}, a spatial size) at every other position",
                      node.loc, "flatten first (`-> flatten -> linear(...)`) or pool globally; if the last "
                      "axis is meant, say so with axis=-1 (axis=1 maps the channels at every position)",
                      node.id, code="W-SHAPE-LINEAR-FEATURE-MAP")
    elif name in ("softmax", "log_softmax") and len(shapes[0]) >= 3:
        rank = len(shapes[0])
        axis = node.attrs.dim % rank
        if axis >= 2 and channels_first(builder, node.inputs[0]):
            reporter.warn(f"{name} over axis {node.attrs.dim} of {fmt_shape(shapes[0])}, a spatial axis: it "
                          "normalises over positions, not over the channels (classes) at each position",
                          node.loc, "normalise over the channels (classes) with dim=1 (the default); for a "
                          "distribution over positions, flatten the spatial axes first "
                          "(`-> flatten(start_dim=2) -> softmax(dim=-1)`)", node.id,
                          code="W-SHAPE-SOFTMAX-SPATIAL")


def channels_first(builder: GraphBuilder, node_id: str) -> bool:
    """Whether a tensor still has the inputs' channels-first layout [N, C, spatial…]: no
    permute, transpose, reshape or flatten on its way from an input (following first inputs)."""
    while True:
        layer = builder.layer(node_id)
        if layer.is_input:
            return True
        if not layer.inputs or layer.op.name in LAYOUT_OPS:
            return False
        node_id = layer.inputs[0]
