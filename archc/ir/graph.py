"""The graph IR: a DiGraph of layer nodes (archc.ir.digraph; `Graph.nx` is the same graph as a
networkx DiGraph, for users' own algorithms), plus the hierarchy of block instances.

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

import warnings
from dataclasses import dataclass, field
from functools import cached_property
from operator import itemgetter
from typing import Any, Iterator, Literal

from archc.ast import Loc
from archc.ir.digraph import DiGraph
from archc.ops.base import Attrs, Op, Shape
from archc.symbolic import Assumptions


@dataclass(slots=True)  # hundreds to 100,000 per model: no per-instance dict
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
    unused: bool = False  # made by an `unused` statement: built (weights, state_dict), never run
    # traced elaboration only (archc.provenance, for code generation): the input shapes as the
    # enclosing block sees them (`in_channels`, not the caller's number)
    traced_inputs: tuple | None = None
    # made by an op that came in through a block parameter: (its expression, the attributes the
    # parameter brought), so that the generated code calls the parameter (`norm(c)`)
    factory: Any = None
    # a later application of a shared layer (`shared(...)`): the id of the layer whose module it
    # calls; it holds no weights of its own
    shares: str | None = None

    @property
    def name(self) -> str:
        return self.id.rsplit(".", 1)[-1]

    @property
    def is_input(self) -> bool:
        return self.op is None

    @property
    def op_name(self) -> str:
        return "input" if self.op is None else self.op.name


_LAYER = itemgetter("layer")  # a node's LayerNode in its DiGraph attributes

# a container holds layers named `convs.0`, `convs.1`, … that the body calls one at a time
# (an nn.ModuleList); the others are called as one module
ScopeKind = Literal["block", "repeat", "sequential", "container"]


@dataclass
class Scope:
    """A block instance, a repeat or a sequential: one submodule in the lowered PyTorch model."""
    path: tuple[str, ...]
    kind: ScopeKind
    type_name: str  # block name, "Repeat" or "Sequential"
    loc: Loc | None
    args: dict[str, Any] = field(default_factory=dict)
    inputs: list[str] = field(default_factory=list)  # node ids feeding the scope
    input_names: list[str] = field(default_factory=list)  # a block's own names for `inputs`
    outputs: list[str] = field(default_factory=list)  # node ids it returns
    # traced elaboration only: the instance's input shapes as its caller sees them, and the
    # traced name it was given (archc.provenance)
    input_shapes: list = field(default_factory=list)
    output_shapes: list = field(default_factory=list)
    name_value: Any = None
    decisions: list = field(default_factory=list)  # every static choice its own body made
    locals: dict = field(default_factory=dict)  # numbers its body names: name -> definition
    defaults: dict = field(default_factory=dict)  # its parameters' literal defaults
    loop: Any = None  # made by an inline repeat: (where, loop variable, index, count, depth)
    shares: tuple[str, ...] | None = None  # a later application of a shared block: the first's path

    @property
    def id(self) -> str:
        return ".".join(self.path)


@dataclass
class Graph:
    name: str
    dag: DiGraph
    inputs: dict[str, str]  # input name -> node id
    outputs: dict[str, str]  # output name -> node id
    scopes: dict[tuple[str, ...], Scope]
    assumptions: Assumptions
    # the model's hyperparameters (its `param`s) and their values. "params" elsewhere counts
    # learnable weights (Model.params); an op's `parameters` are its weight tensors.
    hyperparams: dict[str, Any]
    source_file: str | None = None
    training_outputs: list[str] = field(default_factory=list)  # outputs computed only in training
    # what the inputs must satisfy at inference (without the training-only layers); None: the same
    inference_assumptions: Assumptions | None = None
    # traced elaboration only (archc.provenance): the model parameters that decided structure
    structural: frozenset = frozenset()
    overrides: dict[str, Any] = field(default_factory=dict)  # the parameter values set from outside
    locals: dict[str, Any] = field(default_factory=dict)  # traced only: numbers the model body names
    import_dirs: tuple = ()  # the import search path it was elaborated with
    returns: str | None = None  # the spec's `returns`: "dict" even with one output
    partial: bool = False  # only what elaborated around errors (SpecErrors.partial), for editors
    # the scope hierarchy's contents, built on first use (the graph is final once built)
    _index: "ScopeIndex | None" = field(default=None, init=False, repr=False, compare=False)
    _nx: Any = field(default=None, init=False, repr=False, compare=False)
    _param_shapes: dict[str, dict[str, Shape]] = field(default_factory=dict, init=False, repr=False, compare=False)
    _input_shapes: dict[str, list[Shape]] = field(default_factory=dict, init=False, repr=False, compare=False)
    # its layers' kinds (archc.analysis.metrics.layer_kinds), found by the first analysis
    _kinds: Any = field(default=None, init=False, repr=False, compare=False)

    @property
    def params(self) -> dict[str, Any]:
        """Deprecated: the hyperparameter values; use `hyperparams`."""
        warnings.warn("Graph.params is renamed Graph.hyperparams (params count learnable weights)",
                      DeprecationWarning, stacklevel=2)
        return self.hyperparams

    @property
    def returns_dict(self) -> bool:
        """Whether forward (at inference) returns a dict {output name: tensor}, not a tensor."""
        return self.returns == "dict" or len(self.inference_outputs) != 1

    @property
    def inference_outputs(self) -> dict[str, str]:
        return {k: v for k, v in self.outputs.items() if k not in self.training_outputs}

    @property
    def nx(self) -> Any:
        """The graph as a networkx DiGraph (node attribute `layer`, edge attribute `port`), built
        on first use: archc's own passes use `dag`, which needs no networkx import."""
        if self._nx is None:
            self._nx = self.dag.to_networkx()
        return self._nx

    def node(self, node_id: str) -> LayerNode:
        return self.dag.nodes[node_id]["layer"]

    def layers(self) -> Iterator[LayerNode]:
        """All nodes, inputs first, in topological order (an iterator at C speed: every pass of
        every stage takes it)."""
        return map(_LAYER, self.dag.nodes.values())

    def input_shapes(self, node: LayerNode) -> list[Shape]:
        """A layer's input shapes, found once (the size check, the metrics and the receptive
        fields each ask for a kind's first layer's); the list is shared: not to be changed."""
        shapes = self._input_shapes.get(node.id)
        if shapes is None:
            nodes, inputs = self.dag.nodes, node.inputs
            shapes = self._input_shapes[node.id] = [nodes[i]["layer"].shape for i in inputs]
        return shapes

    def parameter_shapes(self, node: LayerNode) -> dict[str, Shape]:
        """A layer's parameter shapes, by its op's rule, found once: the size check at load and
        the metrics both need them. Raises the op's ShapeError."""
        shapes = self._param_shapes.get(node.id)
        if shapes is None:
            shapes = self._param_shapes[node.id] = node.op.parameters(node.attrs, self.input_shapes(node))
        return shapes

    def shared_call(self, item: LayerNode | Scope) -> str | None:
        """For the outermost layer or scope of a shared layer's later application (`tower@2`),
        the id of the first application, whose module it calls; None inside one, or unshared."""
        if isinstance(item, LayerNode):
            if item.shares is None or (item.scope and self.scopes[item.scope].shares is not None):
                return None
            return item.shares
        if item.shares is None or (len(item.path) > 1 and self.scopes[item.path[:-1]].shares is not None):
            return None
        return ".".join(item.shares)

    def items(self, path: tuple[str, ...]) -> list[LayerNode | Scope]:
        """What a scope directly holds, layers and sub-scopes, in graph order (a sub-scope where
        its first layer is); the model scope `()` also holds the inputs."""
        return self.scope_index().items.get(path, [])

    def children(self, path: tuple[str, ...]) -> list[LayerNode]:
        """Layer nodes directly inside a scope (not in a nested one)."""
        return [n for n in self.items(path) if isinstance(n, LayerNode) and not n.is_input]

    def child_scopes(self, path: tuple[str, ...]) -> list[Scope]:
        return self.scope_index().child_scopes.get(path, [])

    def nodes_under(self, path: tuple[str, ...]) -> list[LayerNode]:
        """Layer nodes inside a scope at any depth, in graph order."""
        index = self.scope_index()
        out: list[LayerNode] = []
        stack = [path]
        while stack:
            here = stack.pop()
            out.extend(n for n in index.direct.get(here, ()) if not n.is_input)
            stack.extend(index.subpaths.get(here, ()))
        order = index.order(self)
        out.sort(key=lambda n: order[n.id])
        return out

    def scope_index(self) -> "ScopeIndex":
        if self._index is None:
            self._index = ScopeIndex(self)
        return self._index


class ScopeIndex:
    """Who is in which scope, in one pass over the graph: the summaries and diagrams ask for
    every scope's contents, which scanning the graph per scope made O(layers × scopes)."""

    def __init__(self, graph: Graph):
        self.direct: dict[tuple[str, ...], list[LayerNode]] = {}
        self.items: dict[tuple[str, ...], list[LayerNode | Scope]] = {}
        self.subpaths: dict[tuple[str, ...], list[tuple[str, ...]]] = {}  # every nested path, registered or not
        self._scopes = graph.scopes
        self._order: dict[str, int] | None = None
        known: set[tuple[str, ...]] = {()}
        scope = direct = items = None  # (a layer is mostly in its predecessor's scope: its lists kept)
        for node in graph.layers():
            if node.scope == scope:  # (mostly an equal tuple, not the same one)
                direct.append(node)
                items.append(node)
                continue
            scope = node.scope
            if scope not in known:  # (a known scope's prefixes are known)
                for k in range(len(scope)):
                    sub = scope[:k + 1]
                    if sub not in known:
                        known.add(sub)
                        self.subpaths.setdefault(scope[:k], []).append(sub)
                        if sub in graph.scopes:
                            self.items.setdefault(scope[:k], []).append(graph.scopes[sub])
            direct = self.direct.setdefault(scope, [])
            items = self.items.setdefault(scope, [])
            direct.append(node)
            items.append(node)

    @cached_property
    def child_scopes(self) -> dict[tuple[str, ...], list[Scope]]:
        """The registered scopes directly inside each scope, by its path (found on first use:
        the summary and the metrics do not ask)."""
        out: dict[tuple[str, ...], list[Scope]] = {}
        for path, scope in self._scopes.items():
            out.setdefault(path[:-1], []).append(scope)
        return out

    def order(self, graph: Graph) -> dict[str, int]:
        """Each node's position in the graph (the index's), by node id, found on first use."""
        if self._order is None:
            self._order = {node.id: i for i, node in enumerate(graph.layers())}
        return self._order
