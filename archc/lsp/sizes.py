"""The size check of a document's successive graphs, walking only the layers an edit changed.

`archc.analysis.metrics.check_sizes` (load's check of absurd parameter counts and activation
sizes, which also gives the model's parameter count) walks every layer: 5-7 ms for a 5,000-layer
spec, on every edit. A resumed elaboration's graph (archc.ir.resume) holds the previous graph's
first layers in the same attribute dicts, up to the first statement the edit changed. `SizeSums`
keeps, after each layer of the last graph it saw, the running sums the check adds up (parameters of
every application, activation bytes of one sample, parameters as `analyse` counts them), and walks
the layers from the first whose attribute dict is not the one it saw. The sums only grow, so while
the totals stay within the warning lines, no layer crossed one, and the check's answer is no error,
no warning, and the count; past them, `check_sizes` itself walks the graph, for its messages (which
name the layer that crosses the line).
"""
from __future__ import annotations

import itertools
from typing import Any

from archc import symbolic as sy
from archc.analysis.metrics import (
    BYTES_PER_ELEMENT, WARN_ACTIVATION_BYTES, WARN_PARAMS, SizeCheck, check_sizes, layer_sizes,
)
from archc.ir.graph import Graph
from archc.ops.base import numel


class SizeSums:
    """`check_sizes` of the graphs of one document's successive checks."""

    def __init__(self) -> None:
        self._nodes: list[dict] = []  # the attribute dicts of the last graph's layers, in order
        # after each of them: (parameters of every application, activation bytes, parameters as
        # analyse counts them: None where a layer's are unknown or symbolic)
        self._sums: list[tuple[int, int, int | None]] = []
        # what a layer adds, by the identity of its op, attributes, shape and input shapes (a
        # replayed block instance's layers share them with the template's: a new layer each
        # edit, the same objects), with those objects, kept alive: the last check's layers'
        self._added: dict[tuple, tuple] = {}

    def check(self, graph: Graph) -> SizeCheck:
        """Exactly `check_sizes(graph)`."""
        nodes = graph.dag.nodes
        same = min(len(self._nodes), len(nodes))
        for k, (seen, now) in enumerate(zip(self._nodes, nodes.values())):
            if seen is not now:
                same = k
                break
        del self._nodes[same:]
        del self._sums[same:]
        params, act, owned = self._sums[-1] if self._sums else (0, 0, 0)
        known, added = self._added, {}
        for attributes in itertools.islice(nodes.values(), same, None):
            node = attributes["layer"]
            shape = node.shape
            if shape is not None:
                size, count, concrete = _added(graph, node, shape, known, added)
                act += size
                params += count
                if not concrete:  # (a symbolic or refused parameter shape: analyse reports it)
                    owned = None
                elif owned is not None and node.shares is None:
                    owned += count
            self._nodes.append(attributes)
            self._sums.append((params, act, owned))
        self._added = added
        if params > WARN_PARAMS or act > WARN_ACTIVATION_BYTES:
            return check_sizes(graph)
        return SizeCheck([], [], owned)


def _added(graph: Graph, node: Any, shape: Any, known: dict, added: dict) -> tuple[int, int, bool]:
    """What a layer (with a shape) adds, as check_sizes adds it (`layer_sizes`): its activation
    bytes, its parameters, and whether they are concrete."""
    op = node.op
    inputs = [graph.node(i).shape for i in node.inputs]
    key = None
    if type(shape) is tuple and all(type(s) is tuple for s in inputs):  # (immutable: their ids hold)
        key = (op, id(node.attrs), id(shape), node.training_only, *map(id, inputs))
        found = known.get(key)
        if found is not None:
            added[key] = found
            return found[0]
    sizes = layer_sizes(graph, node, sy.mul(numel(shape[1:]), BYTES_PER_ELEMENT))
    if key is not None:
        added[key] = (sizes, node.attrs, shape, inputs)
    return sizes
