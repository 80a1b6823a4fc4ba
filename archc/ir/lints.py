"""Lint warnings: valid but suspicious layers (a linear layer on a feature map, a softmax over a
spatial axis), checked as each layer is added.

They are not a pass over the finished graph: a warning names the block instances it was reached
through, and an instance that warns is never a block-reuse template (archc.ir.instances), so
each is found while its instance is evaluated. `archc.ir.elaborate` reports each place once,
dropping those whose layer was later pruned.
"""
from __future__ import annotations

from typing import Any

from archc.ir.builder import GraphBuilder
from archc.ir.graph import LayerNode
from archc.ir.report import Reporter
from archc.ops.base import Op, Shape

def check_suspicious(node: LayerNode, kwargs: dict[str, Any], shapes: list[Shape], builder: GraphBuilder,
                     reporter: Reporter) -> None:
    """The warnings a layer's op gives for it (`Op.diagnose`): a linear layer on a channels-first
    tensor of rank ≥ 4 (a flatten forgotten), a softmax over a spatial axis, ..."""
    if type(node.op).diagnose is Op.diagnose:  # (most ops: no warnings of their own)
        return
    for lint in node.op.diagnose(node.attrs, shapes, kwargs.keys(), lambda: channels_first(builder, node.inputs[0])):
        reporter.warn(lint.message, node.loc, lint.hint, node.id, code=lint.code)


def channels_first(builder: GraphBuilder, node_id: str) -> bool:
    """Whether a tensor still has the inputs' channels-first layout [N, C, spatial…]: no op that
    changes the layout (permute, transpose, reshape, flatten, ...) on its way from an input
    (following first inputs)."""
    while True:
        layer = builder.layer(node_id)
        if layer.is_input:
            return True
        if not layer.inputs or layer.op.changes_layout:
            return False
        node_id = layer.inputs[0]
