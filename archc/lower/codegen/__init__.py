"""The graph IR as one readable Python file: a class per block definition and one for the model,
importing only torch. `archc.build` executes this same text, so the file and the in-memory
module cannot drift apart.

How a spec becomes classes (the parts of this package, in the order they run):

- `structure`: every op states its own lowering (`Op.lower` -> `Lowered`, a constructor and a
  forward expression; nothing here knows about particular ops). Every scope (block instance,
  repeat, sequential) becomes a unit, a submodule named as in the spec, so state_dict keys are
  the node ids; inline blocks have no scope. A scope whose children are named 0, 1, … and form a
  chain is an `nn.Sequential`. Instances whose code has the same structure share a group.
- `binding`: where each number comes from. `generate(graph, spec=...)` elaborates the spec once
  more with provenance (archc.provenance): every number, name and layer parameter carries the
  Python expression of the enclosing block's parameters, input channels (`in_channels`) and
  locals, or of the model's parameters, it was computed from. A class writes a number as that
  expression when every instance computed it so (`nn.Conv2d(in_channels, out * r, 1)`); else as
  the literal when all agree; else as an argument named after its role (a size that depends on
  the input's spatial size). Nothing is inferred from numbers that happen to be equal. Groups of
  one block whose static choices differ are merged into one class, each structure's lines under
  the block's own condition (archc.lower.merge), checked to tell every instance apart. Ops a
  block is given as parameters (`norm = batchnorm2d(eps=0.001)`, `act = relu6`) are called as
  factories (`norm(out)`, `act(inplace=True)`); numbers the body names become locals of
  `__init__`. The model's numeric parameters that some module's number is computed from become
  its constructor's arguments, except those that decide its structure (a repeat count, a
  condition, a name), which the model's docstring lists with the reason.
- `emit`: the text. `forward` uses the spec's tensor names; an unnamed value that only feeds the
  next line reuses that line's variable. Shape comments come from the traced shapes (`[N, c, H,
  W]`), relative to the first input where a size varies. The model's `forward` first checks its
  inputs against the constraints archc derived (archc.lower.checks: `ValueError` in the spec's
  terms, skipped while torch.compile/export trace, `check_inputs = False` turns it off), takes
  the spec's inputs in order and returns the output tensor, or a dict {output name: tensor}.
  Frozen layers stay frozen (`requires_grad_(False)`, and in eval mode through `train()` when
  they have running statistics); initializers (`init=`) apply through torch.nn.init.
- `model` and `expressions`: the data (constructor trees, units, groups) and the expression
  helpers the three parts share.

Safety: spec text is never executed. Every identifier that comes from the spec is either checked
to be a plain Python identifier or replaced (variables, arguments, class names), or emitted as a
string literal made by `repr` (module names through `add_module`/`getattr`, output names as dict
keys); comments and docstrings keep only harmless characters; provenance expressions are built by
archc from the spec's AST, never parsed from its text.
"""
from __future__ import annotations

import ast
from typing import Any

from archc import collector
from archc import provenance as pv
from archc.ir.graph import Graph, LayerNode
from archc.lower.codegen.binding import Binding
from archc.lower.codegen.emit import Emission
from archc.lower.codegen.model import (
    PROBE_FUNCTION,
    PROBE_LIST,
    Generated,
    Group,
    Unit,
)
from archc.lower.codegen.structure import Structure
from archc.ops.base import Lowered

__all__ = ["generate", "Generated", "in_place_layers", "PROBE_LIST", "PROBE_FUNCTION"]


@collector.paused()
def generate(graph: Graph, probes: bool = False, spec: Any = None) -> Generated:
    """The model file for `graph`. With `probes`, every forward line also records its output
    shape in the module-level list PROBES (used by the tests to compare with static shapes).

    With `spec` (the `archc.ast.Spec` the graph was elaborated from), the spec is elaborated
    once more with provenance (archc.provenance): every number knows the expression of block
    parameters, input channels and model parameters it was computed from, and the generated
    code writes that expression (`nn.Conv2d(in_channels, out * r, 1)`). The model's numeric
    parameters become its constructor's arguments (`num_classes=1000`), except those that
    decide its structure (a repeat count, a condition), which the class docstring lists."""
    traced = _traced(graph, spec) if spec is not None else None
    generator = _Generator(traced or graph, probes)
    generator.untraced = spec is not None and traced is None
    return generator.run()


def _traced(graph: Graph, spec: Any) -> Graph | None:
    """`graph` elaborated again with provenance, or None if that does not give the same graph
    (it always should: provenance changes no value)."""
    from archc.ir.elaborate import elaborate
    from archc.loader import import_path
    try:
        with import_path([str(d) for d in graph.import_dirs]):  # the imports it was elaborated with
            traced = elaborate(spec, graph.source_file or "<string>", graph.overrides, trace=True)
    except Exception:  # noqa: BLE001 - then the numbers are written as they are
        return None
    mine = [(n.id, tuple(pv.plain(d) for d in n.shape)) for n in graph.layers()]
    if [(n.id, tuple(pv.plain(d) for d in n.shape)) for n in traced.layers()] != mine:
        return None  # not the spec of this graph
    return traced


def in_place_layers(graph: Graph) -> set[str]:
    """The layers that overwrite their first input, as torchvision's `nn.ReLU(inplace=True)` and
    `out += identity` do: those that can (`Op.in_place`) where nothing else reads that input, it
    is no model output, and it comes from a layer whose backward does not need it
    (`Op.output_overwritable`) in the same block, so that every instance of a generated class
    decides alike."""
    readers: dict[str, int] = {}
    for node in graph.layers():
        for src in node.inputs:
            readers[src] = readers.get(src, 0) + 1
    outputs = set(graph.outputs.values())
    # a shared layer's module is one for all its applications: it stays out of place
    shared = {n.shares for n in graph.layers() if n.shares is not None}
    chosen = set()
    for node in graph.layers():
        if node.is_input or not node.op.in_place or node.shares is not None or node.id in shared:
            continue
        source = graph.node(node.inputs[0])
        if (not source.is_input and source.op.output_overwritable and source.scope == node.scope
                and readers[source.id] == 1 and source.id not in outputs
                and tuple(source.shape) == tuple(node.shape)):  # a broadcast makes a larger tensor
            chosen.add(node.id)
    return chosen



class _Generator(Structure, Binding, Emission):
    """One model file: `run` builds the units, binds their numbers, writes the text."""

    def __init__(self, graph: Graph, probes: bool):
        self.g = graph
        self.probes = probes
        self.lowered: dict[str, Lowered] = {}
        self.units: dict[tuple[str, ...], Unit] = {}
        self.helpers: set[str] = set()
        self.groups: dict[tuple, Group] = {}
        self.consumers: dict[str, list[str]] = {}  # value -> the nodes reading it
        self.in_place = in_place_layers(graph)
        self.class_names: set[str] = set()
        self.position: dict[str, int] = {}  # node id -> index in graph order
        self.nodes_under: dict[tuple[str, ...], list[LayerNode]] = {}  # scope path -> its layers
        self.traced: dict[str, Any] = {}  # placeholder name in a lowering -> its traced value
        self.model_args: dict[str, Any] = {}  # the model's constructor arguments: default value
        self.model_fixed: dict[str, str] = {}  # model parameters that are no argument: why
        self.model_locals: dict[str, ast.expr] = {}  # numbers the model's body names
        self.helpers_source: list[str] = []  # functions the file defines besides HELPERS
        self.untraced = False  # a spec was given but could not be elaborated again with provenance
        self.group_count = 0  # groups made so far: the next one's id
        self.model_sources: list[str] = []

    # ------------------------------------------------------------------ driver
    def run(self) -> Generated:
        try:
            return self._emit(self._prepare())
        finally:  # a unit and its class's group point at each other: cycles, left to the collector
            for unit in self.units.values():
                unit.group = None

    def _prepare(self) -> list[Unit]:
        """Everything but the text: units, classes, their arguments. Level by level from the
        leaves: a parent's signature names its children's classes, merged ones included."""
        self._lower_nodes()
        self._build_units()
        order = self._post_order(self.units[()])
        self.block_types = {u.type_name for u in order if u.scope is not None and u.scope.kind == "block"}
        levels = self._levels(order)
        for height in sorted(set(levels.values())):
            level = [u for u in order if levels[id(u)] == height]
            before = set(self.groups)
            for unit in level:
                self._finish_unit(unit)
                if unit.is_class:
                    self._group(unit)
            new = [g for key, g in self.groups.items() if key not in before]
            for group in sorted(new, key=lambda gr: gr.id):
                self._bind_slots(group)
            self._merge_variants(new)
        self._name_classes()
        self._bind_model()
        return order
