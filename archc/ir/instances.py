"""Reuse of block instances: a block's body is a pure function of its parameter values and its
inputs' shapes (a block sees nothing else: archc.ir.calls gives it a fresh environment), so
the second instance of `Bottleneck(256)` on a [N, 1024, 14, 14] tensor has the same layers as
the first, under another name. The elaborator evaluates one instance of a kind, records it
here as a template, and replays the template for the others: ResNet-152's layer3 evaluates one
of its 35 identical blocks (tests/elaboration/test_instances.py checks every zoo graph equal with and
without reuse). The instance recorded is the second of its kind, or the first when it is a
`repeat`'s later copy (the copies after it are likely alike); a block used once, as most are,
is never recorded. Recording keeps references and is cheap; the template's records are built
from them at its first replay.

A template is recorded only when its instance changed nothing outside its own layers and scopes
but the names it gave its inputs (`s = x`, replayed too): no error or warning, no assumption
about symbolic sizes. Otherwise the others are evaluated as usual, as everything is with
`REUSE_INSTANCES = False`.

Templates read and add layers only through the graph builder (archc.ir.builder); what else an
instance's evaluation counts or may change is read through `Evaluation` (the elaborator).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from archc import symbolic as sy
from archc.ir.builder import GraphBuilder
from archc.ir.graph import LayerNode, Scope, ScopeKind
from archc.ir.numbers import Num
from archc.ir.report import Reporter
from archc.ir.values import Tensor
from archc.ops.base import Shape, ShapeError

REUSE_INSTANCES = True
# what the elaborator knows of an instance key besides its Template: seen once, not recorded
# (the next instance of the kind is), or recorded but not reusable
SEEN_ONCE = "seen once"
NOT_REUSABLE = "not reusable"


class Evaluation(Protocol):
    """What a block instance's evaluation counts (replays count the same), and what it may
    change outside its own layers (then it is no template): archc.ir.elaborate.Elaborator."""
    reporter: Reporter  # errors and warnings
    assumptions: sy.Assumptions  # about symbolic sizes
    steps: int  # expressions evaluated (the time limit)
    comprehended: int  # list items built (the list limit)
    shape_reads: int  # times a body read a tensor's sizes itself (`x.channels`, chunk's pieces)
    unused_layers: int  # layers of `unused` statements (built, never run)
    deepest: int  # the deepest block nesting inside the instances being recorded (-1: none is)


class NoKey(Exception):
    """A value that cannot be part of a key (a tensor given as a parameter, ...)."""


# a list denoting more items than this (nested lists counted each time they appear) is part of a
# key by identity: hashing a stand-in walks every item, and a list sharing references can denote
# millions for a few hundred built (lists are immutable in the language: the same list is equal)
BY_IDENTITY = 10_000


class _Same:
    """A large list in a key: equal only to itself (and keeping it alive, so its id stays its)."""
    __slots__ = ("value",)

    def __init__(self, value: Any):
        self.value = value

    def __hash__(self) -> int:
        return id(self.value)

    def __eq__(self, other: Any) -> bool:
        return isinstance(other, _Same) and other.value is self.value


def frozen(value: Any, memo: dict[int, tuple[Any, int]] | None = None) -> Any:
    """A hashable stand-in equal for values that elaborate the same: the type is part of it (1,
    1.0 and true differ) and floats by their text (0.0 and -0.0 differ). `memo`: the lists
    frozen so far, by id, with the items each denotes (a shared list is walked once)."""
    if isinstance(value, Num):  # a recorded number (archc.ir.patterns): as its plain value, deciding nothing
        value = value.p
    if value is None or isinstance(value, (bool, int, str)):
        return (type(value), value)
    if isinstance(value, float):
        return (float, repr(value))
    if isinstance(value, sy.Expr):
        return (sy.Expr, value)
    if isinstance(value, (list, tuple)):
        if memo is None:
            memo = {}
        known = memo.get(id(value))
        if known is not None:
            return known[0]
        items, size = [], len(value)
        for v in value:
            items.append(frozen(v, memo))
            if isinstance(v, (list, tuple)):
                size += memo[id(v)][1]
        key = (type(value), _Same(value)) if size > BY_IDENTITY else (type(value), tuple(items))
        memo[id(value)] = (key, size)
        return key
    reuse_key = getattr(value, "reuse_key", None)
    if reuse_key is not None:  # a layer given as a parameter (archc.ir.values.Partial)
        return reuse_key(lambda v: frozen(v, memo))
    raise NoKey()


def sized_alike_key(key: tuple) -> tuple | None:
    """The key of the instances alike `key`'s but for their inputs' sizes: the same block, parameter
    values and input aliasing, inputs of the same rank and batch size whose other sizes are ints
    (so that shape rules record no assumption); None when an input has another symbolic size.
    A template that never read its inputs' sizes (`x.channels`) builds the same layers for every
    such instance, only the shapes differ (`Template.reshaped`)."""
    block, params, shapes, aliases = key
    sized = []
    for shape in shapes:
        if not all(type(d) is int for d in shape[1:]):
            return None
        sized.append((len(shape), shape[0]))
    return (block, params, tuple(sized), aliases)


def instance_key(block: Any, values: dict[str, Any], input_shapes: list, input_nodes: list[str]) -> tuple | None:
    """What a block instance's layers depend on, or None where that cannot be told."""
    memo: dict[int, tuple[Any, int]] = {}  # kept while freezing: its ids stay those of live lists
    try:
        params = tuple((name, frozen(v, memo)) for name, v in values.items())
    except NoKey:
        return None
    aliases = tuple(input_nodes.index(n) for n in input_nodes)  # block(x, x) differs from block(x, y)
    return (id(block), params, tuple(input_shapes), aliases)


@dataclass(slots=True)
class _Layer:
    suffix: str  # the node id after the instance's path
    op: Any
    attrs: Any
    inputs: tuple  # an int: the instance's input of that index; a str: a layer's suffix
    shape: tuple
    loc: Any
    scope: tuple[str, ...]  # below the instance's path
    frozen: bool
    init: str | None
    bias_init: str | None
    tensor_names: tuple[str, ...]
    tensor_scopes: tuple[tuple[str, ...], ...]  # below the instance's path
    unused: bool  # made by an `unused` statement


@dataclass(slots=True)
class _Scope:
    path: tuple[str, ...]  # below the instance's path
    kind: ScopeKind
    type_name: str
    loc: Any
    args: dict[str, Any]
    inputs: tuple
    input_names: list[str]
    outputs: tuple


class Snapshot:
    """What an instance must leave unchanged outside its own layers to be recorded."""

    __slots__ = ("errors", "warnings", "revision", "bound", "steps", "comprehended", "first_node", "first_scope",
                 "shape_reads", "depth", "outer_deepest")

    def __init__(self, builder: GraphBuilder, evaluation: Evaluation, inputs: list[Tensor]):
        """Taken as the instance is entered (its depth checked, not yet on the instance stack)."""
        self.errors, self.warnings = evaluation.reporter.counts()
        self.revision = evaluation.assumptions.revision
        self.bound = [len(builder.layer(t.node).tensor_names) for t in inputs]
        self.steps = evaluation.steps
        self.comprehended = evaluation.comprehended
        self.first_node = len(builder.created)
        self.first_scope = len(builder.scope_log)
        self.shape_reads = evaluation.shape_reads
        self.depth = len(evaluation.reporter.instance_stack)
        self.outer_deepest, evaluation.deepest = evaluation.deepest, self.depth

    def close(self, evaluation: Evaluation) -> None:
        """The instance is left: an enclosing recording's deepest nesting includes its own."""
        outer = self.outer_deepest
        evaluation.deepest = outer if outer < 0 else max(outer, evaluation.deepest)

    def unchanged(self, evaluation: Evaluation) -> bool:
        return (evaluation.reporter.counts() == (self.errors, self.warnings)
                and evaluation.assumptions.revision == self.revision)


class Template:
    """The layers and scopes one block instance created, relative to its path.

    Recording is cheap (references to the instance's layer and scope objects, and the fields
    later statements may still change: options, names bound); they are turned into relative
    records when the template is first replayed, as a recorded instance often has no twin."""

    __slots__ = ("_path", "_inputs", "_nodes", "_scopes", "_results", "size", "input_names", "steps",
                 "comprehended", "reads_shapes", "depth", "layers", "scopes", "results")

    def __init__(self, path: tuple[str, ...], inputs: list[str], nodes: list[tuple], scopes: list[Scope],
                 results: list[tuple[str, tuple]], input_names: list[tuple[int, str, tuple[str, ...]]],
                 steps: int, comprehended: int, reads_shapes: bool, depth: int = 0):
        self._path, self._inputs, self._nodes, self._scopes, self._results = path, inputs, nodes, scopes, results
        self.size = len(nodes)  # layers a replay adds
        self.input_names = input_names  # (input index, name, scope below the path): `s = x`
        self.steps = steps
        self.comprehended = comprehended
        # the body read its inputs' sizes itself: its layers are for these sizes only (else any
        # sizes of the same ranks give the same layers, with other shapes: `reshaped`)
        self.reads_shapes = reads_shapes
        # how much deeper than the instance's own its nested instances were entered (the block
        # depth limit is checked as each is: a replay deeper in the stack is evaluated past it)
        self.depth = depth
        self.layers: list[_Layer] | None = None  # relative records, once replayed
        self.scopes: list[_Scope] = []
        self.results: list[tuple[Any, tuple]] = []

    @classmethod
    def record(cls, builder: GraphBuilder, evaluation: Evaluation, path: tuple[str, ...], inputs: list[Tensor],
               results: list, before: Snapshot) -> "Template | None":
        """The template of the instance at `path` that just ran, or None if it cannot be one."""
        if not before.unchanged(evaluation) or not all(isinstance(r, Tensor) for r in results):
            return None
        layers = []
        for node_id in builder.created_since(before.first_node):
            layer: LayerNode = builder.layer(node_id)
            layers.append((layer, layer.frozen, layer.init, layer.bias_init, len(layer.tensor_names), layer.unused))
        scopes = [builder.scopes[p] for p in builder.scope_log[before.first_scope:]
                  if p != path and p in builder.scopes]  # not pruned, not the instance's own
        depth = len(path)
        input_names = []
        for k, t in enumerate(inputs):
            layer = builder.layer(t.node)
            if t.node in (u.node for u in inputs[:k]):
                continue  # the same tensor given twice: its names once
            for name, scope in zip(layer.tensor_names[before.bound[k]:], layer.tensor_scopes[before.bound[k]:]):
                if scope[:depth] != path:
                    return None
                input_names.append((k, name, scope[depth:]))
        return cls(path, [t.node for t in inputs], layers, scopes, [(t.node, t.shape) for t in results],
                   input_names, evaluation.steps - before.steps, evaluation.comprehended - before.comprehended,
                   evaluation.shape_reads != before.shape_reads, evaluation.deepest - before.depth)

    def usable(self) -> bool:
        """Turn the recorded objects into records relative to the instance's path (on the first
        replay); False if the instance read anything from outside it, which a block cannot."""
        if self.layers is not None:
            return True
        path, depth = self._path, len(self._path)
        prefix = ".".join(path) + "."
        outer = {node_id: k for k, node_id in reversed(list(enumerate(self._inputs)))}

        def ref(node_id: str) -> Any:
            if node_id in outer:
                return outer[node_id]
            if not node_id.startswith(prefix):
                raise NoKey()
            return node_id[len(prefix):]

        def below(scope: tuple[str, ...]) -> tuple[str, ...]:
            if scope[:depth] != path:
                raise NoKey()
            return scope[depth:]

        try:
            layers = []
            for layer, frozen, init, bias_init, named, unused in self._nodes:
                if layer.op is None or not layer.id.startswith(prefix) or layer.shares is not None:
                    return False  # (a shared layer's later application: its marks are not recorded)
                layers.append(_Layer(layer.id[len(prefix):], layer.op, layer.attrs, tuple(map(ref, layer.inputs)),
                                     layer.shape, layer.loc, below(layer.scope), frozen, init, bias_init,
                                     tuple(layer.tensor_names[:named]),
                                     tuple(map(below, layer.tensor_scopes[:named])), unused))
            self.scopes = [_Scope(below(s.path), s.kind, s.type_name, s.loc, dict(s.args),
                                  tuple(map(ref, s.inputs)), list(s.input_names),
                                  tuple(map(ref, s.outputs))) for s in self._scopes]
            self.results = [(ref(node_id), shape) for node_id, shape in self._results]
        except NoKey:
            return False
        self.layers = layers
        self._nodes, self._scopes = [], []  # the records hold what replays need
        return True

    def reshaped(self, inputs: list[Tensor], ctx: Any) -> dict[str, Shape] | None:
        """The shapes of this template's layers (by suffix) on inputs of other sizes, by each op's
        shape rule (after `usable()`, for a template that does not read sizes: `reads_shapes`);
        None if a rule refuses them or an op would warn about them (then the instance is evaluated,
        which reports it). Builds nothing."""
        shapes: dict[str, Shape] = {}
        for t in self.layers:
            in_shapes = [inputs[i].shape if type(i) is int else shapes[i] for i in t.inputs]
            try:
                shape = t.op.output_shape(t.attrs, in_shapes, ctx)
            except ShapeError:
                return None
            # assumed of the layout, and of the options given, what makes warnings likeliest
            if shape is None or t.op.diagnose(t.attrs, in_shapes, (), channels_first):
                return None
            shapes[t.suffix] = shape
        return shapes

    def replay(self, builder: GraphBuilder, evaluation: Evaluation, path: tuple[str, ...],
               inputs: list[Tensor], shapes: dict[str, Shape] | None = None, attrs: dict[str, Any] | None = None,
               scope_args: list[dict[str, Any]] | None = None) -> list[Tensor]:
        """Add this template's layers and scopes at `path`, reading `inputs` (after `usable()`);
        the results as tensors. `shapes`: the layers' shapes on these inputs when their sizes
        differ from the template's (`reshaped`); `attrs` and `scope_args`: the layers' attributes
        and the scopes' arguments when the numbers differ (an instantiated archc.ir.patterns)."""
        prefix = ".".join(path) + "."

        def node(ref: Any) -> str:
            return inputs[ref].node if isinstance(ref, int) else prefix + ref

        add_node = builder.add_node
        for t in self.layers:
            suffix, scopes = t.suffix, t.tensor_scopes
            layer = LayerNode(prefix + suffix, t.op, t.attrs if attrs is None else attrs[suffix],
                              list(map(node, t.inputs)),
                              t.shape if shapes is None else shapes[suffix], t.loc, path + t.scope,
                              t.frozen, t.init, t.bias_init, [*t.tensor_names],
                              [path + s for s in scopes] if scopes else [])
            if t.unused:
                layer.unused = True
                evaluation.unused_layers += 1
            add_node(layer)
        for k, s in enumerate(self.scopes):
            builder.new_scope(Scope(path + s.path, s.kind, s.type_name, s.loc,
                                    dict(s.args if scope_args is None else scope_args[k]),
                                    list(map(node, s.inputs)), list(s.input_names),
                                    list(map(node, s.outputs))))
        for k, name, scope in self.input_names:
            builder.bind_name(inputs[k].node, name, path + scope)
        evaluation.steps += self.steps
        evaluation.comprehended += self.comprehended
        if evaluation.deepest >= 0:  # (inside a recording: as the nested instances' entries would)
            evaluation.deepest = max(evaluation.deepest, len(evaluation.reporter.instance_stack) - 1 + self.depth)
        if self.reads_shapes:  # as its evaluation did: an enclosing instance's layers depend on sizes
            evaluation.shape_reads += 1
        if shapes is None:
            return [Tensor(node(ref), shape) for ref, shape in self.results]
        return [Tensor(node(ref), inputs[ref].shape if type(ref) is int else shapes[ref]) for ref, _ in self.results]


def channels_first() -> bool:
    return True
