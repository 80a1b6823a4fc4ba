"""Passes over the finished graph of an elaboration (before it becomes a `Graph`): the marking of
training-only layers and the simplification of shapes under the recorded assumptions.
"""
from __future__ import annotations

import itertools

from archc import ast as A
from archc import symbolic as sy
from archc.ir.builder import GraphBuilder
from archc.ir.digraph import ancestors
from archc.ir.report import Reporter
from archc.ir.values import ShapeContext
from archc.ops.base import Shape


def mark_training_only(builder: GraphBuilder, outputs: dict[str, str], training: list[str],
                       output_locs: dict[str, A.Loc | None], assumptions: sy.Assumptions,
                       reporter: Reporter) -> sy.Assumptions:
    """Mark the layers that only training outputs need (an auxiliary classifier), and find
    what the inputs must satisfy at inference, where those layers do not run.

    Reads the graph, the outputs (name -> node) and which of them are `training` outputs;
    writes `training_only` on the layers only those read. Returns the assumptions of the shape
    rules run again on the inference layers alone, or `assumptions` after reporting an error
    (every output a training one, or a training branch inside a block the inference uses)."""
    g = builder.g
    roots = [node for name, node in outputs.items() if name not in training]
    if not roots:
        reporter.error("every output is a training output; inference would compute nothing",
                       output_locs[training[0]], "declare the model's result with `output`, not `training output`",
                       code="E-INPUT-ONLY-TRAINING-OUTPUTS")
        return assumptions
    needed = ancestors(g, roots)  # everything the inference outputs read
    extra = [n for n in g.nodes if n not in needed and not builder.layer(n).unused]
    for node_id in extra:
        builder.own(node_id).training_only = True
    shared = {builder.layer(n).scope[:1] for n in needed}
    for node_id in extra:  # generated code runs a submodule whole: it may not be split
        scope = builder.layer(node_id).scope[:1]
        if scope and scope in shared:
            reporter.error(f"training output {', '.join(repr(t) for t in training)} branches off inside "
                           f"'{scope[0]}', which the inference outputs also use", output_locs[training[0]],
                           "branch off at the model level (the layers of an inline block count as "
                           "the model's), or return the branch point from the block",
                           code="E-INPUT-TRAINING-BRANCH-IN-BLOCK")
            return assumptions
    return assumptions_of(builder, needed)


def assumptions_of(builder: GraphBuilder, run: set[str]) -> sy.Assumptions:
    """What the inputs must satisfy for the layers `run` alone: their shape rules again."""
    fresh = sy.Assumptions()
    ctx = ShapeContext(fresh)
    shapes: dict[str, Shape] = {}
    for node_id in builder.g.nodes:
        if node_id not in run:
            continue
        layer = builder.layer(node_id)
        shapes[node_id] = layer.shape if layer.is_input else \
            layer.op.output_shape(layer.attrs, [shapes[i] for i in layer.inputs], ctx)
    return fresh


def simplify_shapes(builder: GraphBuilder, assumptions: sy.Assumptions, traced: bool, checked: int = 0) -> bool:
    """Simplify every layer's shape under the assumptions recorded while elaborating (`H/2` once
    `H % 16 == 0` is required); traced (code generation), the scopes' output shapes too. The
    first `checked` layers are known to hold tuples that no assumption rewrites (archc.ir.resume).

    Reads the assumptions; rewrites `LayerNode.shape` (and `Scope.output_shapes`) in place (a
    layer an earlier graph shares is copied first); says whether it may have changed one."""
    changed = False
    if not assumptions.rewrites_sizes():  # (most models) every size stays as it is
        nodes = builder.g.nodes  # (latest first: the unchecked ones are the last)
        for node_id, node in itertools.islice(reversed(nodes.items()), len(nodes) - checked):
            if type(node["layer"].shape) is not tuple:
                builder.own(node_id).shape = tuple(node["layer"].shape)
                changed = True
    else:
        for node_id in list(builder.g.nodes):
            builder.own(node_id).shape = tuple(assumptions.simplify(d) for d in builder.layer(node_id).shape)
        changed = True
    if traced:
        for scope in builder.scopes.values():
            scope.output_shapes = [tuple(assumptions.simplify(d) for d in shape)
                                   for shape in scope.output_shapes]
    return changed
