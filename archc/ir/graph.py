"""The graph IR: a networkx DiGraph of layer nodes, plus the hierarchy of block instances.

Invariants (established by `archc.ir.elaborate`, relied on by every back end):
- node ids are dotted module paths, unique, in the form PyTorch uses for state_dict keys
  (`layer1.0.conv1`); a node's `scope` is the path of the block/repeat/sequential containing it;
- nodes are stored in a topological order (the order they were created);
- every edge carries `port`: the position of the source among the destination's inputs;
- every layer node has a shape (a successful graph has no poisoned nodes);
- shapes are already simplified under the graph's `assumptions` (e.g. `H/2` once `H % 16 == 0`
  is required by a U-Net's concatenations).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterator

import networkx as nx

from archc.ast import Loc
from archc.ops.base import Attrs, Op, Shape
from archc.symbolic import Assumptions


@dataclass
class LayerNode:
    id: str
    op: Op | None  # None for a model input
    attrs: Attrs
    inputs: list[str]
    shape: Shape | None
    loc: Loc | None
    scope: tuple[str, ...]
    frozen: bool = False
    init: str | None = None
    bias_init: str | None = None
    tensor_names: list[str] = field(default_factory=list)  # spec names bound to this output
    # the scope (block body, or () for the model) each of `tensor_names` was bound in; an inline
    # block's names count as its caller's
    tensor_scopes: list[tuple[str, ...]] = field(default_factory=list)
    training_only: bool = False  # needed only by training outputs: not run at inference

    @property
    def name(self) -> str:
        return self.id.rsplit(".", 1)[-1]

    @property
    def is_input(self) -> bool:
        return self.op is None

    @property
    def op_name(self) -> str:
        return "input" if self.op is None else self.op.name


@dataclass
class Scope:
    """A block instance, a repeat or a sequential: one submodule in the lowered PyTorch model."""
    path: tuple[str, ...]
    kind: str  # "block" | "repeat" | "sequential"
    type_name: str  # block name, "Repeat" or "Sequential"
    loc: Loc | None
    args: dict[str, Any] = field(default_factory=dict)
    inputs: list[str] = field(default_factory=list)  # node ids feeding the scope
    input_names: list[str] = field(default_factory=list)  # a block's own names for `inputs`
    outputs: list[str] = field(default_factory=list)  # node ids it returns

    @property
    def id(self) -> str:
        return ".".join(self.path)


@dataclass
class Graph:
    name: str
    nx: nx.DiGraph
    inputs: dict[str, str]  # input name -> node id
    outputs: dict[str, str]  # output name -> node id
    scopes: dict[tuple[str, ...], Scope]
    assumptions: Assumptions
    params: dict[str, Any]  # model parameter values
    source_file: str | None = None
    training_outputs: list[str] = field(default_factory=list)  # outputs computed only in training
    # what the inputs must satisfy at inference (without the training-only layers); None: the same
    inference_assumptions: Assumptions | None = None

    @property
    def inference_outputs(self) -> dict[str, str]:
        return {k: v for k, v in self.outputs.items() if k not in self.training_outputs}

    def node(self, node_id: str) -> LayerNode:
        return self.nx.nodes[node_id]["layer"]

    def layers(self) -> Iterator[LayerNode]:
        """All nodes, inputs first, in topological order."""
        for node_id in self.nx.nodes:
            yield self.nx.nodes[node_id]["layer"]

    def input_shapes(self, node: LayerNode) -> list[Shape]:
        return [self.node(i).shape for i in node.inputs]

    def children(self, path: tuple[str, ...]) -> list[LayerNode]:
        """Layer nodes directly inside a scope (not in a nested one)."""
        return [n for n in self.layers() if n.scope == path and not n.is_input]

    def child_scopes(self, path: tuple[str, ...]) -> list[Scope]:
        return [s for p, s in self.scopes.items() if p[:-1] == path]

    def nodes_under(self, path: tuple[str, ...]) -> list[LayerNode]:
        return [n for n in self.layers() if not n.is_input and n.scope[:len(path)] == path]
