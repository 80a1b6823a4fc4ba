"""The graph IR as one readable Python file: a class per block structure and one for the model,
importing only torch. `archc.build` executes this same text, so the file and the in-memory
module cannot drift apart.

How the graph becomes classes:

- Every op states its own lowering (`Op.lower` -> `Lowered`): a constructor expression for its
  `nn.Module` (or none) and a forward expression. Nothing here knows about particular ops.
- Every scope (block instance, repeat, sequential) becomes a submodule named as in the spec, so
  state_dict keys are the node ids. Inline blocks have no scope: their layers sit in the caller.
- A scope whose children are named 0, 1, … and form a plain chain (each child takes the previous
  child's output only) is an `nn.Sequential`: a repeat or sequential inline
  (`nn.Sequential(BasicBlock(64), BasicBlock(64))`), a block as a subclass of it. Any other scope
  is a class with `__init__` and a straight-line `forward`.
- Block instances whose generated code differs only in numbers (in constructors and in
  `forward`) share one class. Each number becomes an expression of the class's `__init__`
  arguments where one explains it in every instance: a block parameter (`planes`; by the
  keyword's name, `stride=stride`), the first input's channels (`in_channels`), two of them
  (`c // reduction`, `growth * bn_size`), one times or over a constant (`planes * 4`); else,
  if it varies, an argument named `<layer>_<argument>`. A number that is the same in every
  instance is tied to a parameter only on good evidence (not 0, 1 or 2, unless the keyword
  is the parameter's name), and keyword arguments equal to the constructor's default are left
  out. `forward` reads the arguments it needs from `self` (`self.c`). Instances of one block
  with different structure get one class each: the most frequent keeps the block's name, the
  others are named by a child they add or lack (`BasicBlockWithDownsample`), or numbered.
- With the spec (`generate(graph, spec=...)`, as `archc compile` and `archc.build` call it),
  the model's numeric parameters become its constructor's arguments (`num_classes=1000`) where
  elaborating the spec at two other values gives the same classes and model structure and
  every changed number is an expression of them; others stay literal.
- `forward` uses the spec's tensor names; an unnamed value that only feeds the next line reuses
  that line's variable (`y = self.conv1(x)`, `y = self.bn1(y)`). Each line carries its shape as
  a comment; in a shared class, sizes that vary are written in terms of the class's arguments
  and the first input's shape ([N, C, H, W]).
- The model's `forward` takes the spec's inputs, in order, as arguments and returns the output
  tensor, or a dict {output name: tensor} when there are several (works with torch.compile,
  torch.export and ONNX export; DDP handles dicts too).
- Frozen layers do not change: `requires_grad_(False)` at the end of `__init__` (once for a
  whole frozen submodule), and frozen parts with running statistics (batch norm) stay in eval
  mode through a `train()` override, so fine-tuning neither trains nor re-estimates them (as
  Keras' trainable=False; dropout inside a frozen block is then off too).
- Initializers (`init=`, `bias_init=`) apply to the weights and biases of convolutions and
  linear layers, through torch.nn.init; see INITIALIZERS below for the mapping.

Safety: spec text is never executed. Every identifier that comes from the spec is either checked
to be a plain Python identifier or replaced (variables, arguments, class names), or emitted as a
string literal made by `repr` (module names through `add_module`/`getattr`, output names as dict
keys); comments and docstrings keep only harmless characters.
"""
from __future__ import annotations

import ast
import copy
import functools
import itertools
import keyword
import re
import textwrap
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from archc import collector
from archc import provenance as pv
from archc import symbolic as sy
from archc.errors import SpecError
from archc.ir.elaborate import TORCH_MODULE_ATTRS, Partial
from archc.ops import REGISTRY
from archc.ir.graph import Graph, LayerNode, Scope
from archc.lower import merge as merge_mod
from archc.lower.checks import RESERVED as CHECK_NAMES
from archc.lower.checks import input_checks
from archc.lower import pysrc
from archc.ops.base import HELPERS, Lowered, Word, fmt_shape, py, str_literal

# init= / bias_init= -> torch.nn.init, for weights of 2+ dims (kernels) and for biases. Fan-based
# initializers on a bias use the bias's length as both fans (as Keras does for 1-d tensors).
# `normal` and `uniform` are Keras' RandomNormal / RandomUniform defaults (0.05).
INITIALIZERS: dict[str, tuple[str | None, str | None]] = {
    "default": (None, None),  # torch's own initialisation
    "he_normal": ('nn.init.kaiming_normal_({t}, mode="fan_in", nonlinearity="relu")',
                  "nn.init.normal_({t}, std=(2 / {t}.numel()) ** 0.5)"),
    "he_uniform": ('nn.init.kaiming_uniform_({t}, mode="fan_in", nonlinearity="relu")',
                   "nn.init.uniform_({t}, -((6 / {t}.numel()) ** 0.5), (6 / {t}.numel()) ** 0.5)"),
    "glorot_normal": ("nn.init.xavier_normal_({t})", "nn.init.normal_({t}, std=(1 / {t}.numel()) ** 0.5)"),
    "glorot_uniform": ("nn.init.xavier_uniform_({t})",
                       "nn.init.uniform_({t}, -((3 / {t}.numel()) ** 0.5), (3 / {t}.numel()) ** 0.5)"),
    "lecun_normal": ('nn.init.kaiming_normal_({t}, mode="fan_in", nonlinearity="linear")',
                     "nn.init.normal_({t}, std=(1 / {t}.numel()) ** 0.5)"),
    "normal": ("nn.init.normal_({t}, std=0.05)", "nn.init.normal_({t}, std=0.05)"),
    "uniform": ("nn.init.uniform_({t}, -0.05, 0.05)", "nn.init.uniform_({t}, -0.05, 0.05)"),
    "zeros": ("nn.init.zeros_({t})", "nn.init.zeros_({t})"),
    "ones": ("nn.init.ones_({t})", "nn.init.ones_({t})"),
    "orthogonal": ("nn.init.orthogonal_({t})", None),
}
INITIALIZERS["xavier_normal"] = INITIALIZERS["glorot_normal"]
INITIALIZERS["xavier_uniform"] = INITIALIZERS["glorot_uniform"]

PROBE_LIST = "PROBES"
PROBE_FUNCTION = "_probe"
_PROBE_SOURCE = f'''
{PROBE_LIST} = []


def {PROBE_FUNCTION}(module, name, value):
    """Record a node's output shape (the shape-checking variant of this file only)."""
    {PROBE_LIST}.append((module, name, tuple(value.shape)))
'''

# the built-in functions of the spec language that Python lacks, as the generated file defines
# them when its expressions use them (archc.ir.elaborate.BUILTINS computes the same)
_MAKE_DIVISIBLE_SOURCE = '''
def _make_divisible(v, divisor=8, min_value=None):
    """A channel count rounded to a multiple of `divisor`, never down by more than 10%
    (torchvision's _make_divisible)."""
    min_value = divisor if min_value is None else min_value
    new_v = max(min_value, int(v + divisor / 2) // divisor * divisor)
    if new_v < 0.9 * v:
        new_v += divisor
    return new_v
'''

# names the generated code itself uses; spec names that equal one of them get a trailing '_'
_RESERVED = {"self", "torch", "nn", "F", "super", "float", "getattr", "math", "_make_divisible", "partial",
             *CHECK_NAMES,
             PROBE_LIST, PROBE_FUNCTION}


@dataclass
class Generated:
    """A generated model file and what a caller needs to use it."""
    source: str
    class_name: str
    inputs: list[str]  # forward's arguments, in order: the spec's input names
    outputs: list[str]  # output names; forward returns the tensor when there is one, else a dict




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
    return _Generator(traced or graph, probes).run()


def _traced(graph: Graph, spec: Any) -> Graph | None:
    """`graph` elaborated again with provenance, or None if that does not give the same graph
    (it always should: provenance changes no value)."""
    from archc.ir.elaborate import elaborate
    try:
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
    chosen = set()
    for node in graph.layers():
        if node.is_input or not node.op.in_place:
            continue
        source = graph.node(node.inputs[0])
        if (not source.is_input and source.op.output_overwritable and source.scope == node.scope
                and readers[source.id] == 1 and source.id not in outputs):
            chosen.add(node.id)
    return chosen


# ----------------------------------------------------------------------------- constructor trees
# A module's constructor expression, kept as a small tree so the numbers in it can become class
# arguments: `nn.Conv2d(64, 128, kernel_size=3, stride=2)` has four numbers.


@dataclass(eq=False)
class Num:
    """A number in a constructor: stays literal or becomes a class argument. `traced`: the
    value with its provenance (archc.provenance), when it has one."""
    value: int | float
    traced: Any = None


class LayerLiteral(str):
    """Python source of a layer factory (`nn.Hardswish`), a value a block may be given."""


class _FactoryRef:
    """The provenance of a layer factory: the block parameter's expression (`norm`)."""

    def __init__(self, expr: ast.expr):
        self.expr = expr
        self.forward = False
        self.roots: frozenset = frozenset()


class _NotAFactory(Exception):
    """A layer that the generated code cannot pass as a factory (a block, a layer without a
    module): the generator writes its module as it is."""


@dataclass(eq=False)
class Text:
    """Source kept as it is (strings, bools, names)."""
    source: str


@dataclass(eq=False)
class Call:
    func: Any  # callee source text, or the Unit whose class is called
    args: list
    kwargs: list[tuple[str, Any]]
    defaults: dict[str, Any] = field(default_factory=dict)


@dataclass(eq=False)
class Seq:
    items: list


def _tree(node: Any, defaults: dict[str, Any] | None = None, traced: dict[str, Any] | None = None) -> Any:
    """The constructor tree of a parsed constructor expression; `traced` maps the placeholders
    of traced values to them."""
    traced = traced or {}
    if isinstance(node, ast.Name) and node.id in traced:
        return Num(pv.plain(traced[node.id]), traced[node.id])
    if isinstance(node, ast.Call):
        return Call(pysrc.expr(node.func), [_tree(a, None, traced) for a in node.args],
                    [(k.arg, _tree(k.value, None, traced)) for k in node.keywords], dict(defaults or {}))
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
        return Num(node.value)
    if (isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub) and isinstance(node.operand, ast.Constant)
            and isinstance(node.operand.value, (int, float)) and not isinstance(node.operand.value, bool)):
        return Num(-node.operand.value)
    if isinstance(node, ast.Tuple):
        return Seq([_tree(e, None, traced) for e in node.elts])
    return Text(pysrc.expr(node))


_PLACE = "_archc_slot_"


def _mask_numbers(template: str) -> tuple[str, list[Num]]:
    """A forward template with its numbers as {n0}, {n1}, … and the numbers, so that instances
    that differ only in them share a class (the numbers become arguments where they differ)."""
    text, values = _masked(template)
    return text, [Num(v) for v in values]


@functools.lru_cache(maxsize=4096)  # most layers share a few templates: parse each once
def _masked(template: str) -> tuple[str, tuple[int | float, ...]]:
    text, nums = _mask_numbers_uncached(template)
    return text, tuple(n.value for n in nums)


def _mask_numbers_uncached(template: str) -> tuple[str, list[Num]]:
    source = template.replace("{m}", f"{_PLACE}m")
    source = re.sub(r"\{(\d+)\}", lambda mt: f"{_PLACE}r{mt.group(1)}", source)
    source = source.replace("{{", "{").replace("}}", "}")
    try:
        node = pysrc.parse(source)
    except (SyntaxError, ValueError):
        return template, []
    if any(isinstance(n, ast.Constant) and isinstance(n.value, str) and _PLACE in n.value
           for n in ast.walk(node)):
        return template, []  # a string that looks like a placeholder: keep the numbers literal
    nums: list[Num] = []

    def number(n: ast.AST) -> Any:
        if isinstance(n, ast.Constant) and isinstance(n.value, (int, float)) and not isinstance(n.value, bool):
            return n.value
        return None

    class Mask(ast.NodeTransformer):
        def visit_UnaryOp(self, n: ast.UnaryOp) -> ast.AST:
            if isinstance(n.op, ast.USub) and number(n.operand) is not None:
                nums.append(Num(-number(n.operand)))
                return ast.Name(f"{_PLACE}n{len(nums) - 1}", ast.Load())
            return self.generic_visit(n)

        def visit_Constant(self, n: ast.Constant) -> ast.AST:
            if number(n) is not None:
                nums.append(Num(n.value))
                return ast.Name(f"{_PLACE}n{len(nums) - 1}", ast.Load())
            return n

    text = pysrc.expr(Mask().visit(node)).replace("{", "{{").replace("}", "}}")
    text = re.sub(rf"{_PLACE}r(\d+)", r"{\1}", text).replace(f"{_PLACE}m", "{m}")
    return re.sub(rf"{_PLACE}n(\d+)", r"{n\1}", text), nums


def _same_literal(value: Any, default: Any) -> bool:
    return type(value) is type(default) and value == default or (
        isinstance(value, (int, float)) and isinstance(default, (int, float))
        and not isinstance(value, bool) and not isinstance(default, bool) and value == default)


# ----------------------------------------------------------------------------- units


@dataclass(eq=False)
class Stmt:
    """One forward line: `targets = source`."""
    targets: list[str]  # value (node) ids written
    reads: list[str]  # value ids read, in order
    template: str  # with {m} for the module and {0}, {1}, … for the reads
    module: str | None  # the child's name when the line calls a child module
    node: LayerNode | None  # the node computed (None for a child unit's call)
    nums: list = field(default_factory=list)  # the numbers in `template`: {n0}, {n1}, … there


@dataclass(eq=False)
class Unit:
    """A scope that becomes a submodule (or the model itself, path ())."""
    path: tuple[str, ...]
    scope: Scope | None
    items: list = field(default_factory=list)  # LayerNode | Unit, in graph order
    inputs: list[str] = field(default_factory=list)
    input_names: list[str] = field(default_factory=list)
    outputs: list[str] = field(default_factory=list)
    form: str = "class"  # "model" | "class" | "seqclass" (block as nn.Sequential) | "sequential" (inline)
    height: int = 0
    signature: Any = None
    group: "Group | None" = None
    arg_values: list = field(default_factory=list)
    ctors: list[tuple[str, Any]] = field(default_factory=list)
    stmts: list[Stmt] = field(default_factory=list)
    post: list[str] = field(default_factory=list)
    var: dict[str, str] = field(default_factory=dict)  # value id -> variable name
    keep_eval: list[str] = field(default_factory=list)  # frozen parts kept in eval mode

    @property
    def name(self) -> str:
        return self.path[-1] if self.path else ""

    @property
    def type_name(self) -> str:
        return self.scope.type_name if self.scope else ""

    @property
    def is_class(self) -> bool:
        return self.form in ("class", "seqclass")


@dataclass(eq=False)
class Group:
    """Instances sharing one generated class."""
    key: tuple
    units: list[Unit]
    id: int
    name: str = ""
    args: list[str] = field(default_factory=list)
    slot_sources: list[str] = field(default_factory=list)
    idents: dict[str, str] = field(default_factory=dict)  # names in its expressions -> arguments
    forward_names: dict[str, str] = field(default_factory=dict)
    locals: dict[str, Any] = field(default_factory=dict)  # numbers its __init__ names: definitions
    defaults: list = field(default_factory=list)  # per argument: its default's source, or None
    variants: list["Group"] = field(default_factory=list)  # a merged class: its structures
    conditions: list = field(default_factory=list)  # and the condition of each
    decisions: list = field(default_factory=list)  # and the choices it made that others did not


class _Generator:
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
        self.model_sources: list[str] = []

    # ------------------------------------------------------------------ driver
    def run(self) -> Generated:
        return self._emit(self._prepare())

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

    def _next_group_id(self) -> int:
        self.group_count = getattr(self, "group_count", 0) + 1
        return self.group_count

    def _levels(self, order: list[Unit]) -> dict[int, int]:
        """Each unit's level: above its children's, and the same for every instance of a block
        (so that they are merged together, `_merge_variants`)."""
        level = {id(u): u.height for u in order}
        for _ in range(len(order) + 1):
            changed = False
            for u in order:
                need = 1 + max((level[id(c)] for c in u.items if isinstance(c, Unit)), default=0)
                if need > level[id(u)]:
                    level[id(u)], changed = need, True
            top: dict[str, int] = {}
            for u in order:
                if u.scope is not None and u.scope.kind == "block":
                    top[u.type_name] = max(top.get(u.type_name, 0), level[id(u)])
            for u in order:
                if u.scope is not None and u.scope.kind == "block" and level[id(u)] < top[u.type_name]:
                    level[id(u)], changed = top[u.type_name], True
            if not changed:
                break
        return level

    # ------------------------------------------------------------------ one class per block
    def _merge_variants(self, groups: list[Group]) -> None:
        """The structures of one block (groups of the same type) as one class, where the
        block's own choices tell them apart (archc.lower.merge)."""
        by_type: dict[str, list[Group]] = {}
        for group in groups:
            unit = group.units[0]
            if unit.scope is not None and unit.scope.kind == "block":
                by_type.setdefault(unit.type_name, []).append(group)
        for variants in by_type.values():
            if len(variants) < 2:
                continue
            merged = self._merged(variants)
            if merged is None:
                continue
            for group in variants:
                del self.groups[group.key]
            self.groups[merged.key] = merged
            for unit in merged.units:
                unit.group = merged
                names = self._class_names_of(unit)
                unit.arg_values = [self._value_of(unit, name, names) for name in merged.idents
                                   if name not in merged.locals]

    def _merged(self, variants: list[Group]) -> Group | None:
        forms = {u.form for g in variants for u in g.units}
        if len(forms) != 1 or forms <= {"sequential"}:
            return None
        idents: dict[str, str] = {}
        local_defs: dict[str, ast.expr] = {}
        for group in variants:
            if set(group.args) != {v for k, v in group.idents.items() if k not in group.locals}:
                return None  # an argument without provenance: no common signature
            for name, ident in group.idents.items():
                if idents.setdefault(name, ident) != ident:
                    return None
            for name, definition in group.locals.items():
                if ast.dump(local_defs.setdefault(name, definition)) != ast.dump(definition):
                    return None
        found = self._variant_conditions(variants)
        if found is None:
            return None
        conditions, decisions = found
        shared = self._shared_locals([u for g in variants for u in g.units])
        for condition in conditions:  # a condition may read a local the layers do not
            for name in _free_names(condition):
                if name in shared and name not in local_defs:
                    local_defs[name] = shared[name]
        local_defs = {n: local_defs[n] for n in shared if n in local_defs}  # definition order
        names = self._class_names_of(variants[0].units[0])
        members = [[_with_locals({k: pv.plain(v) for k, v in self._class_names_of(u).items()}, local_defs)
                    for u in g.units] for g in variants]
        if not (merge_mod.discriminates(conditions, members) and merge_mod.decisions_hold(decisions, members)):
            return None
        for condition in conditions:
            for name in _free_names(condition):
                if name not in names and name not in local_defs:
                    return None
                idents.setdefault(name, name)
        order = [n for n in names if n in idents and n not in local_defs]
        taken = set(_RESERVED) | set(HELPERS) | self.block_types | {"self"}
        if any(idents[n] in taken or not pysrc.is_plain_name(idents[n]) for n in order):
            return None
        used = dict.fromkeys(n for g in variants for n in g.locals)
        used.update(dict.fromkeys(n for c in conditions for n in _free_names(c) if n in local_defs))
        reps = [g.units[0] for g in variants]
        if (merge_mod.merged_order([[(k, ()) for k in self._ctor_keys(u)] for u in reps]) is None
                or merge_mod.merged_order([[(k, ()) for k in self._forward_keys(u)] for u in reps]) is None):
            return None  # the structures build their parts in different orders
        key = ("merged", variants[0].units[0].type_name)
        merged = Group(key, [u for g in variants for u in g.units], self._next_group_id())
        merged.variants = variants
        merged.conditions = conditions
        merged.decisions = decisions
        merged.locals = _used_locals(used, local_defs)
        merged.idents = {**{n: idents[n] for n in order}, **{n: n for n in merged.locals}}
        merged.args = [idents[n] for n in order]
        merged.defaults = self._defaults(variants[0].units[0], {n: idents[n] for n in order}, merged.args)
        return merged

    def _variant_conditions(self, variants: list[Group]) -> tuple[list[ast.expr], list[merge_mod.Decisions]] | None:
        """Each structure's choices (`x if cond else …`) that some other structure made
        differently, in the block's names, and their conjunction (the structure's condition)."""
        outcomes: list[merge_mod.Decisions] = []
        for group in variants:
            seen: merge_mod.Decisions = {}
            for unit in group.units:
                mine: merge_mod.Decisions = {}
                for _, outcome, condition in unit.scope.decisions:
                    if condition is None:
                        continue
                    key = ast.dump(condition)
                    if key in mine and mine[key][0] != outcome:
                        return None  # one condition decided two ways (a loop): no single condition
                    mine[key] = (outcome, condition)
                for key, entry in mine.items():
                    if key in seen and seen[key][0] != entry[0]:
                        return None  # instances of one structure that chose differently
                    seen[key] = entry
            outcomes.append(seen)
        keys = list(dict.fromkeys(k for o in outcomes for k in o))
        deciding = [k for k in keys if len({o[k][0] for o in outcomes if k in o}) > 1]
        if not deciding:
            return None
        decisions = [{k: o[k] for k in deciding if k in o} for o in outcomes]
        if any(not d for d in decisions):
            return None
        conditions = [merge_mod.all_of([e if out else merge_mod.negated(e) for out, e in d.values()])
                      for d in decisions]
        return conditions, decisions

    def _lower_nodes(self) -> None:
        for node in self.g.layers():
            self.position[node.id] = len(self.position)
            if node.is_input:
                continue
            for k in range(len(node.scope) + 1):
                self.nodes_under.setdefault(node.scope[:k], []).append(node)
            shapes = node.traced_inputs if node.traced_inputs is not None else self.g.input_shapes(node)
            try:
                with pv.placeholders() as table:
                    low = node.op.lower(node.attrs, shapes, node.shape)
                    if node.id in self.in_place:
                        low = low.in_place
            except NotImplementedError as e:  # its message in the spec's numbers, not placeholders
                message = re.sub(rf"{pv.PLACEHOLDER_PREFIX}\d+_",
                                 lambda m: str(pv.plain(table[m.group(0)])) if m.group(0) in table else "?", str(e))
                raise SpecError(f"{node.id}: {message}", node.loc, code="E-EXPORT-UNSUPPORTED-LAYER") from None
            self.traced.update(table)
            for name in low.helpers:
                if name not in HELPERS:
                    raise AssertionError(f"{node.op.name}: unknown helper {name!r}")
            self.helpers.update(low.helpers)
            self.lowered[node.id] = low
            for src in node.inputs:
                self.consumers.setdefault(src, []).append(node.id)

    # ------------------------------------------------------------------ structure
    def _build_units(self) -> None:
        root = Unit((), None, form="model")
        self.units[()] = root
        for node in self.g.layers():
            if node.is_input:
                continue
            for k in range(len(node.scope) + 1):
                path = node.scope[:k]
                if path not in self.units:
                    unit = Unit(path, self.g.scopes.get(path))
                    self.units[path] = unit
                    self.units[path[:-1]].items.append(unit)
            self.units[node.scope].items.append(node)
        for unit in self._post_order(root):
            self._interface(unit)

    def _post_order(self, unit: Unit) -> list[Unit]:
        out: list[Unit] = []
        for item in unit.items:
            if isinstance(item, Unit):
                out += self._post_order(item)
        out.append(unit)
        return out

    def _under(self, node_id: str, unit: Unit) -> bool:
        node = self.g.node(node_id)
        return not node.is_input and node.scope[:len(unit.path)] == unit.path

    def _interface(self, unit: Unit) -> None:
        """Inputs (declared first, then any outside value used inside), outputs, form, height."""
        nodes = self.nodes_under.get(unit.path, [])  # a model may have no layers (output y = x)
        if not unit.path:
            unit.inputs = list(self.g.inputs.values())
            unit.input_names = list(self.g.inputs)
            unit.outputs = list(dict.fromkeys(self.g.outputs.values()))
        else:
            # a block's own input names; x, or x0, x1, … for a repeat or sequential
            names = unit.scope.input_names or (
                ["x"] if len(unit.scope.inputs) == 1 else [f"x{k}" for k in range(len(unit.scope.inputs))])
            declared: dict[str, str] = {}
            for k, node_id in enumerate(unit.scope.inputs):
                declared.setdefault(node_id, names[k] if k < len(names) else "x")
            used = [i for n in nodes for i in n.inputs if not self._under(i, unit)]
            extra = [i for i in dict.fromkeys(used) if i not in declared]  # tensors passed as parameters
            unit.inputs = list(declared) + extra
            unit.input_names = list(declared.values()) + [self._outer_name(i) for i in extra]
            inner = set(n.id for n in nodes)
            outs = [o for o in unit.scope.outputs if o in inner]
            # anything used outside that is not declared (cannot happen in the language today)
            readers = {c for i in inner for c in self.consumers.get(i, []) if not self._under(c, unit)}
            outs += [i for c in sorted(readers, key=self.position.__getitem__)
                     for i in self.g.node(c).inputs if i in inner]
            outs += [o for o in self.g.outputs.values() if o in inner]
            unit.outputs = list(dict.fromkeys(outs))
        unit.height = 1 + max((i.height for i in unit.items if isinstance(i, Unit)), default=0)
        if unit.path and self._is_chain(unit):
            unit.form = "seqclass" if unit.scope.kind == "block" else "sequential"

    def _outer_name(self, node_id: str) -> str:
        names = self.g.node(node_id).tensor_names
        return names[-1] if names else "x"

    def _is_chain(self, unit: Unit) -> bool:
        """Children named 0, 1, …, each a module fed only by the previous one: an nn.Sequential."""
        items = unit.items
        if not items or len(unit.inputs) != 1 or len(unit.outputs) != 1:
            return False
        previous = unit.inputs[0]
        for index, item in enumerate(items):
            name = item.name
            if name != str(index):
                return False
            if isinstance(item, Unit):
                if item.inputs != [previous] or len(item.outputs) != 1:
                    return False
                out = item.outputs[0]
            else:
                low = self.lowered[item.id]
                if low.module is None or low.call != "{m}({0})" or item.inputs != [previous]:
                    return False
                out = item.id
            readers = self.consumers.get(previous, [])
            inside = (all(self._under(c, item) for c in readers) if isinstance(item, Unit)
                      else all(c == item.id for c in readers))
            if index > 0 and not inside:
                return False  # the previous child's output is also read by something else
            previous = out
        return unit.outputs == [previous]

    # ------------------------------------------------------------------ per-unit code
    def _finish_unit(self, unit: Unit) -> None:
        """Constructor trees of the children, forward statements and variable names, the
        statements after construction, and the structural signature."""
        for item in unit.items:
            if isinstance(item, Unit):
                unit.ctors.append((item.name, self._unit_ctor(item)))
            else:
                low = self.lowered[item.id]
                if low.module is not None:
                    unit.ctors.append((item.name, self._node_ctor(item, low, unit)))
        if unit.form in ("class", "model"):
            self._statements(unit)
            self._variables(unit)
        if unit.form != "sequential":
            unit.post = self._post_statements(unit)
        unit.signature = self._signature(unit)

    def _node_ctor(self, node: LayerNode, low: Lowered, unit: Unit) -> Any:
        """A layer's constructor tree; a layer that came in through a block parameter
        (`norm(name=1)`) is built by calling that parameter (`norm(out)`), with the arguments
        of the call site only."""
        tree = _tree(pysrc.parse(low.module), dict(low.defaults), self.traced)
        if node.factory is None or not isinstance(tree, Call) or unit.scope is None or unit.scope.kind != "block":
            return tree
        expr, given = node.factory
        try:
            func, keywords = self._factory_parts(node.op, [], {k: node.attrs[k] for k in given},
                                                 [tuple(pv.plain(d) for d in s) for s in self.g.input_shapes(node)])
        except (_NotAFactory, Exception):  # noqa: BLE001 - then the module is written as it is
            return tree
        if func != tree.func:
            return tree
        literal = LayerLiteral(func if not keywords else
                               f"partial({func}, {', '.join(f'{k}={v}' for k, v in keywords.items())})")
        return Call(Num(literal, _FactoryRef(expr)), tree.args,
                    [(k, v) for k, v in tree.kwargs if k not in keywords], tree.defaults)

    def _unit_ctor(self, child: Unit) -> Any:
        if child.form == "sequential":
            return Call("nn.Sequential", [ctor for _, ctor in child.ctors], [])
        return Call(child, [], [])  # arguments filled in from the child's class

    def _statements(self, unit: Unit) -> None:
        for item in unit.items:
            if isinstance(item, Unit):
                unit.stmts.append(Stmt(list(item.outputs), list(item.inputs),
                                       "{m}(" + ", ".join(f"{{{k}}}" for k in range(len(item.inputs))) + ")",
                                       item.name, None))
            else:
                low = self.lowered[item.id]
                template, nums = _mask_numbers(low.call)
                unit.stmts.append(Stmt([item.id], list(item.inputs), template,
                                       item.name if low.module is not None else None, item, nums))

    def _variables(self, unit: Unit) -> None:
        """Variable names: spec names where given; an unnamed value read only by the next line
        shares that line's variable (a chain holds at most one spec name)."""
        stmts = unit.stmts
        reads: dict[str, int] = {}
        for s in stmts:
            for r in s.reads:
                reads[r] = reads.get(r, 0) + 1
        # an input whose size a later line reads (`x.shape[2]`) keeps its variable
        input_of = dict(zip(unit.scope.input_names if unit.scope is not None else list(self.g.inputs),
                            unit.inputs))
        for s in stmts:
            for value in self._placeholders_in(s.template):
                for name in _free_names(value.expr):
                    if name in input_of:
                        reads[input_of[name]] = reads.get(input_of[name], 0) + 1
        for o in unit.outputs:
            reads[o] = reads.get(o, 0) + 1
        named: dict[str, str] = dict(zip(unit.inputs, unit.input_names))
        for s in stmts:
            for t in s.targets:
                node = self.g.node(t)
                own = [n for n, sc in zip(node.tensor_names, node.tensor_scopes) if sc == unit.path]
                if own:
                    named[t] = own[0]
        if not unit.path:
            for out_name, node_id in self.g.outputs.items():
                named.setdefault(node_id, out_name)
        elif len(unit.outputs) == 1:
            named.setdefault(unit.outputs[0], "out")
        chain: dict[str, str] = {}  # value -> chain representative

        def find(v: str) -> str:
            while chain.get(v, v) != v:
                v = chain[v]
            return v

        members: dict[str, list[str]] = {}
        values = list(unit.inputs) + [t for s in stmts for t in s.targets]
        for v in values:
            chain[v] = v
            members[v] = [v]
        for s in reversed(stmts):
            if len(s.targets) != 1 or not s.reads:
                continue
            src, dst = s.reads[0], s.targets[0]
            if reads.get(src, 0) != 1 or src not in chain:
                continue
            a, b = find(src), find(dst)
            if a == b:
                continue
            if sum(m in named for m in members[a] + members[b]) > 1:
                continue
            chain[a] = b
            members[b] += members.pop(a)
        taken = set(_RESERVED) | set(HELPERS)
        for v in unit.inputs:  # arguments first: their names are fixed
            rep = find(v)
            if rep not in unit.var:
                unit.var[rep] = _unique(_identifier(named[v]), taken)
        for v in values:
            rep = find(v)
            if rep not in unit.var:
                spec = [named[m] for m in members[rep] if m in named]
                default = self._default_name(members[rep][-1], unit)
                unit.var[rep] = _unique(_identifier(spec[0] if spec else default), taken)
        for v in values:
            unit.var[v] = unit.var[find(v)]

    def _default_name(self, value: str, unit: Unit) -> str:
        node = self.g.node(value)
        if node.scope == unit.path:
            return node.name
        child = node.scope[len(unit.path)]
        return child if not child.isdigit() else node.name

    def _post_statements(self, unit: Unit) -> list[str]:
        """Initializers and requires_grad_(False), after every child is constructed; also
        fills `unit.keep_eval`, the frozen parts with running statistics."""
        out: list[str] = []
        if not unit.path and self._all_frozen(unit):
            self._inits(unit, "self", out)
            unit.keep_eval = ["self"] if self._has_buffers(unit) else []
            return out + ["self.requires_grad_(False)"]
        covered = unit.path != () and self._all_frozen(unit)  # the parent freezes it whole
        self._walk_post(unit, unit, "self", covered, out)
        return out

    def _walk_post(self, owner: Unit, unit: Unit, prefix: str, covered: bool, out: list[str]) -> None:
        for item in unit.items:
            access = _access(prefix, unit, item.name)
            if isinstance(item, Unit):
                whole = not covered and self._all_frozen(item)
                if whole:
                    out.append(f"{access}.requires_grad_(False)")
                    if self._has_buffers(item):
                        owner.keep_eval.append(access)
                if item.form == "sequential":
                    self._walk_post(owner, item, access, covered or whole, out)
                continue
            if self.lowered[item.id].module is None:
                continue
            out += self._node_inits(item, access)
            if item.frozen and not covered and self._params(item):
                out.append(f"{access}.requires_grad_(False)")
                if self._has_buffers(item):
                    owner.keep_eval.append(access)

    def _has_buffers(self, item: "Unit | LayerNode") -> bool:
        """Has running statistics (batch norm), which change in train mode."""
        nodes = [item] if isinstance(item, LayerNode) else \
            self.nodes_under.get(item.path, [])
        return any(n.op.buffers(n.attrs, self.g.input_shapes(n)) for n in nodes)

    def _inits(self, unit: Unit, prefix: str, out: list[str]) -> None:
        for item in unit.items:
            access = _access(prefix, unit, item.name)
            if isinstance(item, Unit):
                if item.form == "sequential":
                    self._inits(item, access, out)
            elif self.lowered[item.id].module is not None:
                out += self._node_inits(item, access)

    def _node_inits(self, node: LayerNode, access: str) -> list[str]:
        if node.op.family not in ("conv", "linear") or not (node.init or node.bias_init):
            return []
        out = []
        for key, shape in self._params(node).items():
            leaf = key.rsplit(".", 1)[-1]
            if leaf == "weight" and node.init and len(shape) >= 2:
                template = INITIALIZERS[node.init][0]
            elif leaf == "bias" and node.bias_init:
                template = INITIALIZERS[node.bias_init][1]
                if template is None and node.bias_init != "default":
                    raise SpecError(f"{node.id}: bias_init={node.bias_init} needs a matrix; a bias "
                                    "is a vector", node.loc, "use zeros, normal or uniform for biases",
                                    code="E-EXPORT-UNSUPPORTED-LAYER")
            else:
                continue
            if template:
                out.append(template.format(t=f"{access}.{key}"))
        return out

    def _params(self, node: LayerNode) -> dict:
        return self.g.parameter_shapes(node)

    def _all_frozen(self, unit: Unit) -> bool:
        nodes = [n for n in self.nodes_under.get(unit.path, []) if self._params(n)]
        return bool(nodes) and all(n.frozen for n in nodes)

    # ------------------------------------------------------------------ sharing
    def _signature(self, unit: Unit) -> tuple:
        ctors = tuple((name, self._render(tree, itertools.repeat("#"), signature=True))
                      for name, tree in unit.ctors)
        forward = tuple(self._forward_text(unit, signature=True)) if unit.form in ("class", "model") else ()
        return (unit.form, len(unit.inputs), len(unit.outputs), ctors, forward, tuple(unit.post),
                tuple(unit.keep_eval))

    def _group(self, unit: Unit) -> None:
        key = (unit.scope.kind, unit.type_name if unit.scope.kind == "block" else "", unit.signature)
        group = self.groups.get(key)
        if group is None:
            group = self.groups[key] = Group(key, [], self._next_group_id())
        group.units.append(unit)
        unit.group = group

    def _slots(self, unit: Unit) -> list[Num]:
        """The unit's numbers: its children's constructors' (`_collect`'s order), then its
        forward lines' (`_forward_nums`)."""
        return self._ctor_slots(unit) + self._forward_nums(unit)

    def _ctor_slots(self, unit: Unit) -> list[Num]:
        out: list[Num] = []
        for _, tree in unit.ctors:
            self._collect(tree, out)
        return out

    @staticmethod
    def _forward_nums(unit: Unit) -> list[Num]:
        return [n for s in unit.stmts for n in s.nums]

    def _collect(self, tree: Any, out: list[Num]) -> None:
        if isinstance(tree, Num):
            out.append(tree)
        elif isinstance(tree, Seq):
            for item in tree.items:
                self._collect(item, out)
        elif isinstance(tree, Call):
            if isinstance(tree.func, Unit):
                out += [self._arg_num(v) for v in tree.func.arg_values]
            elif isinstance(tree.func, Num):
                out.append(tree.func)
            for a in tree.args:
                self._collect(a, out)
            for _, v in tree.kwargs:
                self._collect(v, out)

    def _arg_num(self, value: Any) -> Num:
        """What a caller passes for a class argument, as a slot: its provenance, and its value
        written as Python (a layer as its PyTorch class: `nn.Hardswish`)."""
        if isinstance(value, Partial) and value.kind == "op":
            literal = LayerLiteral(self._factory_source(value.target, value.args, value.kwargs))
            return Num(literal, _FactoryRef(value.origin) if value.origin is not None else None)
        if isinstance(value, Word) and REGISTRY.get(str(value)) is not None:
            return Num(LayerLiteral(self._factory_source(REGISTRY.get(str(value)), [], {})),
                       value if pv.is_traced(value) else None)
        return Num(pv.plain(value), value if pv.is_traced(value) else None)

    def _literal_source(self, value: Any) -> str:
        """Python for a value the spec computed: numbers, strings and lists as literals, layers as
        their PyTorch factories."""
        if isinstance(value, LayerLiteral):
            return str(value)
        if isinstance(value, (list, tuple)):
            items = [self._literal_source(v) for v in value]
            if isinstance(value, list):
                return "[" + ", ".join(items) + "]"
            return "(" + items[0] + ",)" if len(items) == 1 else "(" + ", ".join(items) + ")"
        if isinstance(value, Partial) and value.kind == "op":
            return self._factory_source(value.target, value.args, value.kwargs)
        if isinstance(value, Word) and REGISTRY.get(str(value)) is not None:
            return self._factory_source(REGISTRY.get(str(value)), [], {})
        if isinstance(value, Partial):  # a block (or a sequential) in a table: its name, as text
            return py(value.target.name if value.kind == "block" else value.kind)
        if isinstance(value, Word):
            return py(str(value))
        return py(pv.plain(value))

    def _factory_source(self, op: Any, args: list, kwargs: dict) -> str:
        """An op with some attributes, as the PyTorch layer factory a block is given
        (`nn.Hardswish`, `partial(nn.BatchNorm2d, eps=0.001, momentum=0.01)`)."""
        func, keywords = self._factory_parts(op, args, kwargs)
        if not keywords:
            return func
        return f"partial({func}, {', '.join(f'{k}={v}' for k, v in keywords.items())})"

    def _factory_parts(self, op: Any, args: list, kwargs: dict, shapes: Any = None) -> tuple[str, dict[str, str]]:
        """The class and the keyword arguments an op's lowering gives for these attributes."""
        ndim = op.ndim or 2
        shape = (1, 8) + (8,) * ndim
        with pv.checks_only():
            attrs = op.bind([pv.plain(a) for a in args], {k: pv.plain(v) for k, v in kwargs.items()}, ndim)
            low = op.lower(attrs, shapes or [shape] * max(1, op.inputs if op.inputs > 0 else 1), shape)
        if low.module is None:
            raise _NotAFactory(op.name)
        call = pysrc.parse(low.module)
        if not isinstance(call, ast.Call):
            raise _NotAFactory(op.name)
        defaults = dict(low.defaults)
        keywords = {k.arg: pysrc.expr(k.value) for k in call.keywords
                    if not (k.arg in defaults and _is_literal(pysrc.expr(k.value))
                            and _same_literal(_literal(pysrc.expr(k.value)), defaults[k.arg]))}
        return pysrc.expr(call.func), keywords

    def _slot_roles(self, unit: Unit) -> list[tuple[str, str, str, Any]]:
        """Per slot: fallback argument names, the keyword (`padding`) and qualified by the child
        (`conv1_padding`) for when the bare one is taken; the keyword the number is given to
        (or the class argument), '' if none; the constructor's default for it (`_NO_DEFAULT`)."""
        roles: list[tuple[str, str, str, Any]] = []

        def walk(tree: Any, bare: str, qualified: str, key: str = "", default: Any = _NO_DEFAULT) -> None:
            if isinstance(tree, Num):
                roles.append((bare, qualified, key, default))
            elif isinstance(tree, Seq):
                for k, item in enumerate(tree.items):
                    walk(item, f"{bare}{k}", f"{qualified}{k}", key)
            elif isinstance(tree, Call):
                if isinstance(tree.func, Unit):
                    roles.extend((a, f"{qualified}_{a}", a, _NO_DEFAULT) for a in tree.func.group.args)
                elif isinstance(tree.func, Num):
                    roles.append((f"{bare}_layer", f"{qualified}_layer", "", _NO_DEFAULT))
                for k, a in enumerate(tree.args):
                    walk(a, f"{qualified}_{k}", f"{qualified}_{k}")
                for k, v in tree.kwargs:
                    walk(v, k, f"{qualified}_{k}", k, tree.defaults.get(k, _NO_DEFAULT))
        for name, tree in unit.ctors:
            child = name if pysrc.is_plain_name(name) else f"m{name}"
            walk(tree, child, child)
        for s in unit.stmts:
            label = s.node.name if s.node is not None and pysrc.is_plain_name(s.node.name) else "value"
            roles.extend((f"{label}_{k}", f"{label}_{k}", "", _NO_DEFAULT) for k in range(len(s.nums)))
        return roles

    def _bind_slots(self, group: Group) -> None:
        """The numbers of a class: each is the expression it was computed from (archc.provenance)
        where every instance computed it by the same expression of the class's own names (a
        block's parameters, its input channels); else the literal, when it is the same in every
        instance; else an argument named after its role (a size that depends on the input's
        spatial size, say, which a constructor cannot see)."""
        units = group.units
        first = units[0]
        names = self._class_names_of(first)
        local_defs = self._shared_locals(units) if names is not None else {}
        allowed = None if names is None else list(names) + list(local_defs)
        columns = list(zip(*[self._slots(u) for u in units])) if units else []
        roles = self._slot_roles(first)
        taken = set(_RESERVED) | set(HELPERS) | self.class_names | {"self"}
        binder = _Binder(taken)
        used: dict[str, None] = {}
        pending: list[tuple[int, ast.expr | None, list]] = []
        for k, col in enumerate(columns):
            expr = _shared_expression(col, allowed)
            values = [n.value for n in col]
            if expr is not None and not isinstance(expr, ast.Constant):
                for name in _free_names(expr):
                    used[name] = None
                pending.append((k, expr, values))
            else:
                pending.append((k, None, values))
        bindable = set(allowed or ()) | set(self._forward_input_vars(first))
        for s in first.stmts:  # forward expressions read the class's names too (`x[:, :c]`)
            for value in self._placeholders_in(s.template):
                reads = _free_names(value.expr)
                if reads and reads <= bindable:
                    used.update(dict.fromkeys(n for n in reads if n in (allowed or ())))
        group.locals = _used_locals(used, local_defs)
        for definition in group.locals.values():
            used.update(dict.fromkeys(_free_names(definition)))
        # the arguments: the class's own names in their order, then the others
        order = list(names) if names is not None else list(used)
        idents: dict[str, str] = {}
        for name in order:
            if name in used:
                idents[name] = binder.argument(name, [self._value_of(u, name, names) for u in units])
        sources = []
        for k, expr, values in pending:
            bare, qualified, _, _ = roles[k]
            if expr is not None:
                sources.append(pysrc.expr(_renamed(expr, idents)))
                continue
            constant = all(_same_literal(v, values[0]) for v in values)
            if constant:
                sources.append(self._literal_source(values[0]))
                continue
            sources.append(binder.argument(bare, values) or binder.argument(qualified, values)
                           or binder.argument(f"{qualified}_{k}", values))
        group.args = binder.args()
        group.slot_sources = sources
        for i, u in enumerate(units):
            u.arg_values = binder.values(i)
        group.idents = {**idents, **{name: name for name in group.locals}}
        group.forward_names = {}
        group.defaults = self._defaults(first, idents, group.args)

    def _defaults(self, unit: Unit, idents: dict[str, str], args: list[str]) -> list[str | None]:
        """The block's literal defaults for the class's last arguments (Python allows no
        argument without a default after one with)."""
        if unit.scope is None or unit.scope.kind != "block":
            return [None] * len(args)
        by_ident = {ident: name for name, ident in idents.items()}
        out: list[str | None] = []
        for arg in reversed(args):
            name = by_ident.get(arg)
            if name not in unit.scope.defaults or (out and out[-1] is None):
                out.append(None)
            else:
                out.append(self._literal_source(unit.scope.defaults[name]))
        return list(reversed(out))

    def _shared_locals(self, units: list[Unit]) -> dict[str, ast.expr]:
        """The numbers a block's body names (`width = …`) with the same definition in every
        instance: the class defines them in __init__."""
        first = units[0].scope.locals
        return {name: d for name, d in first.items()
                if all(name in u.scope.locals and ast.dump(u.scope.locals[name]) == ast.dump(d) for u in units[1:])}

    def _class_names_of(self, unit: Unit) -> dict[str, Any] | None:
        """The names a class's expressions may use, with the first instance's values: a block's
        parameters and its inputs' channel counts; None for a repeat or sequential class (it
        uses its caller's names, passed on as arguments)."""
        if unit.scope is None or unit.scope.kind != "block":
            return None
        names: dict[str, Any] = {}
        count = len(unit.scope.input_names)
        for k, input_name in enumerate(unit.scope.input_names):
            shape = unit.scope.input_shapes[k] if k < len(unit.scope.input_shapes) else ()
            names["in_channels" if count == 1 else f"{input_name}_channels"] = shape[1] if len(shape) > 1 else None
        names.update(unit.scope.args)
        return names

    def _value_of(self, unit: Unit, name: str, names: dict[str, Any] | None) -> Any:
        """What an instance passes for the class argument `name`, as its caller computes it."""
        if names is not None:
            return self._class_names_of(unit).get(name)
        # a repeat's or sequential's argument: the enclosing block's (or the model's) name
        for k in range(len(unit.path) - 1, 0, -1):
            scope = self.g.scopes.get(unit.path[:k])
            if scope is not None and scope.kind == "block":
                own = self._class_names_of(self.units[unit.path[:k]]) if unit.path[:k] in self.units else None
                value = (own or {}).get(name)
                return pv.traced(pv.plain(value), ast.Name(name, ast.Load())) if value is not None else None
        value = self.g.params.get(name)
        return pv.traced(pv.plain(value), ast.Name(name, ast.Load())) if value is not None else None

    def _bind_model(self) -> None:
        """The model's numbers in terms of its parameters, and which parameters are its
        constructor's arguments: the numeric ones that some number of a module is computed
        from, unless they decide the structure (then no argument could change them faithfully)."""
        root = self.units[()]
        params = self.g.params
        exposed = {k for k, v in params.items() if _is_number(v) and pysrc.is_plain_name(k)
                   and k not in self.g.structural and k not in _RESERVED and k not in HELPERS
                   and k not in self.class_names}
        fold = {k: pv.plain(v) for k, v in params.items() if k not in exposed}
        local_defs = {k: _folded(d, fold) for k, d in self.g.locals.items()}
        used: dict[str, None] = {}
        sources = []
        for num in self._slots(root):
            expr = _shared_expression([num], list(params) + list(local_defs))
            if expr is None:
                sources.append(self._literal_source(num.value))
                continue
            expr = _folded(expr, fold)
            for name in _free_names(expr):
                used[name] = None
            sources.append(pysrc.expr(expr))
        self.model_sources = sources
        for name in self._forward_model_names(root):
            if name in exposed or name in local_defs:
                used[name] = None
        self.model_locals = _used_locals(used, local_defs)
        for definition in self.model_locals.values():
            used.update(dict.fromkeys(_free_names(definition)))
        self.model_args = {k: pv.plain(params[k]) for k in params if k in used}
        mentioned = {k for k in params if k in self.g.structural}
        for k in params:
            if k in self.model_args:
                continue
            if k in mentioned:
                self.model_fixed[k] = "it decides the structure (a count, a condition or a name); recompile the spec"
            elif isinstance(params[k], Word):
                self.model_fixed[k] = "a symbolic size, which the input gives"
            elif not _is_number(params[k]):
                self.model_fixed[k] = "not a number"
            else:
                self.model_fixed[k] = "no module depends on it (e.g. an input size)"

    def _forward_model_names(self, root: Unit) -> list[str]:
        out = []
        for s in root.stmts:
            for value in self._placeholders_in(s.template):
                out += [n for n in _free_names(value.expr)] if not value.forward else []
        return out

    def _placeholders_in(self, text: str) -> list[Any]:
        return [self.traced[m] for m in re.findall(rf"{pv.PLACEHOLDER_PREFIX}\d+_", text) if m in self.traced]

    def _name_classes(self) -> None:
        taken = set(_RESERVED) | set(HELPERS) | set(keyword.kwlist)
        by_type: dict[str, list[Group]] = {}
        for group in self.groups.values():
            unit = group.units[0]
            if unit.scope.kind == "block":
                base = unit.type_name
            else:  # a repeat or sequential: its name (features.1 -> Sequential1, layer1 -> Layer1)
                base = _camel(unit.name) if unit.name[:1].isalpha() else unit.type_name + _camel(unit.name)
            by_type.setdefault(_class_identifier(base), []).append(group)
        self.model_class = _unique(_class_identifier(self.g.name or "Model"), taken | set(by_type))
        taken.add(self.model_class)
        for base, groups in by_type.items():
            groups.sort(key=lambda gr: (-len(gr.units), gr.id))
            main = groups[0]
            main.name = _unique(base, taken)
            named = {main.name: main}
            for k, group in enumerate(groups[1:], 2):
                name = _class_identifier(self._variant_name(base, k, group.units[0], main.units[0]))
                if name in named:  # two variants differ from the main one alike: tell them apart
                    name = _class_identifier(self._variant_name(name, k, group.units[0], named[name].units[0]))
                group.name = _unique(name, taken)
                named[group.name] = group
        self.class_names = {self.model_class} | {g.name for g in self.groups.values()}

    def _variant_name(self, base: str, k: int, unit: Unit, main_unit: Unit) -> str:
        """The name of a class whose structure differs from the block's most frequent one says
        how: the kinds of layer it has or lacks anywhere inside (InvertedResidualV3WithHardswish,
        …WithoutSqueezeExcitation), else a child it has or lacks (BasicBlockWithDownsample),
        else how many children it has (DenseBlock12), else a number."""
        kinds, main_kinds = self._kinds(unit), self._kinds(main_unit)
        extra = _outermost([t for t in kinds if t not in main_kinds], kinds)
        missing = _outermost([t for t in main_kinds if t not in kinds], main_kinds)
        if extra:
            return f"{base}With{'And'.join(extra[:2])}"
        if missing:
            return f"{base}Without{'And'.join(missing[:2])}"
        main_children = [name for name, _ in main_unit.ctors]
        children = [name for name, _ in unit.ctors]
        named_extra = [c for c in children if c not in main_children and not c.isdigit()]
        named_missing = [c for c in main_children if c not in children and not c.isdigit()]
        stems = {c.rstrip("0123456789") for c in main_children}
        if len(children) != len(main_children) and all(c.rstrip("0123456789") in stems
                                                        for c in named_extra + named_missing):
            return f"{base}{len(children)}"  # more or fewer of the same children (denselayer1…12)
        if named_extra:
            return f"{base}With{_camel(named_extra[0])}"
        if named_missing:
            return f"{base}Without{_camel(named_missing[0])}"
        return f"{base}{k}"

    def _kinds(self, unit: Unit) -> dict[str, list[frozenset]]:
        """The op titles and block types inside a unit, in order of appearance, each with, per
        place it occurs, the block types around it (SqueezeExcitation's pooling sits in a
        SqueezeExcitation)."""
        out: dict[str, list[frozenset]] = {}
        stack: list[tuple[Any, frozenset]] = [(i, frozenset()) for i in reversed(unit.items)]
        while stack:
            item, outer = stack.pop()
            if isinstance(item, Unit):
                inner = outer
                if item.scope is not None and item.scope.kind == "block":
                    out.setdefault(item.type_name, []).append(outer)
                    inner = outer | {item.type_name}
                stack.extend((i, inner) for i in reversed(item.items))
            elif item.op is not None:
                out.setdefault(item.op.title, []).append(outer)
        return out

    # ------------------------------------------------------------------ rendering
    def _render(self, tree: Any, slots: Iterator[str], signature: bool = False) -> str:
        """One-line source of a constructor tree, its numbers taken from `slots` in order
        (`_collect`'s order). In a signature, a generated class is named by its group's id."""
        if isinstance(tree, Num):
            if signature and tree.traced is not None and not tree.traced.forward:
                return f"<{ast.unparse(tree.traced.expr)}>"
            return next(slots)
        if isinstance(tree, Text):
            return self._plain_placeholders(tree.source)
        if isinstance(tree, Seq):
            items = [self._render(i, slots, signature) for i in tree.items]
            return "(" + items[0] + ",)" if len(items) == 1 else "(" + ", ".join(items) + ")"
        if isinstance(tree.func, Unit):
            child = tree.func
            if signature:
                func, parts = f"<{child.group.id}>", []
            else:
                func, parts = child.group.name, [next(slots) for _ in child.arg_values]
                defaults = child.group.defaults or [None] * len(parts)
                while parts and defaults[len(parts) - 1] is not None and parts[-1] == defaults[len(parts) - 1]:
                    parts.pop()  # the block's default
        elif isinstance(tree.func, Num):
            func, parts = self._render(tree.func, slots, signature), []
        else:
            func, parts = tree.func, []
        parts += [self._render(a, slots, signature) for a in tree.args]
        for key, value in tree.kwargs:
            text = self._render(value, slots, signature)
            if key in tree.defaults and _is_literal(text) and _same_literal(_literal(text), tree.defaults[key]):
                continue  # the constructor's default, in every instance
            parts.append(f"{key}={text}")
        return f"{func}({', '.join(parts)})"

    def _sources(self, unit: Unit) -> list[str]:
        """Source of each of the unit's numbers (`_slots`): a class's as bound (`_bind_slots`),
        the model's in terms of its arguments (`_bind_model`)."""
        if unit.is_class:
            return unit.group.slot_sources
        if not unit.path:
            return self.model_sources
        return [py(n.value) for n in self._slots(unit)]

    def _ctor_sources(self, unit: Unit) -> list[tuple[str, str]]:
        """The children's constructors."""
        slots = iter(self._sources(unit))
        return [(name, self._render(tree, slots)) for name, tree in unit.ctors]

    def _arguments(self, unit: Unit) -> list[str]:
        if unit.is_class:
            return unit.group.args
        return list(self.model_args) if not unit.path else []

    def _idents(self, unit: Unit) -> dict[str, str]:
        """Names in the unit's expressions -> the class's argument identifiers."""
        if unit.is_class:
            return unit.group.idents
        return {k: k for k in self.model_args} if not unit.path else {}

    def _stored(self, unit: Unit) -> dict[str, str]:
        """The arguments `forward` reads, each with the attribute `__init__` keeps it in."""
        sources = self._sources(unit)[len(self._ctor_slots(unit)):]
        used = {n.id for src in sources for n in ast.walk(pysrc.parse(src)) if isinstance(n, ast.Name)}
        idents = self._idents(unit)
        for s in unit.stmts:
            for value in self._placeholders_in(s.template):
                used |= {idents[n] for n in _free_names(value.expr) if n in idents}
        taken = {name for name, _ in unit.ctors} | set(TORCH_MODULE_ATTRS) | _RESERVED
        stored: dict[str, str] = {}
        local_names = list(unit.group.locals) if unit.is_class else list(self.model_locals) if not unit.path else []
        for arg in self._arguments(unit) + local_names:
            if arg in used:
                attr = arg
                while attr in taken or not pysrc.is_plain_name(attr):
                    attr += "_"
                taken.add(attr)
                stored[arg] = attr
        return stored

    def _forward_numbers(self, unit: Unit) -> list[str]:
        """Source of the numbers of the forward lines: literal, or read from `self`."""
        stored = self._stored(unit)
        return [_self_form(src, stored) for src in self._sources(unit)[len(self._ctor_slots(unit)):]]

    def _plain_placeholders(self, text: str) -> str:
        """Placeholders of traced values as their values (where no expression can be bound)."""
        return re.sub(rf"{pv.PLACEHOLDER_PREFIX}\d+_",
                      lambda m: py(pv.plain(self.traced[m.group(0)])) if m.group(0) in self.traced else m.group(0),
                      text)

    def _forward_values(self, source: str, unit: Unit, signature: bool) -> str:
        """A forward line with its traced values (`{0}[:, :_archc_v3_]`) as expressions of the
        class's arguments (read from self) and of the forward inputs' sizes (`x.shape[2]`),
        or as their values when neither explains them."""
        if pv.PLACEHOLDER_PREFIX not in source:
            return source
        if signature:  # only compared: an expression the class can write, else the value
            names = self._signature_names(unit)

            def shown(m: re.Match) -> str:
                value = self.traced.get(m.group(0))
                if value is None:
                    return m.group(0)
                if names is not None and _free_names(value.expr) <= names:
                    return f"<{ast.unparse(value.expr)}>"
                return f"<={py(pv.plain(value))}>"
            return re.sub(rf"{pv.PLACEHOLDER_PREFIX}\d+_", shown, source)
        node = pysrc.parse(source)
        idents = self._idents(unit)
        stored = {} if signature else self._stored(unit)
        inputs = self._forward_input_vars(unit)

        class Swap(ast.NodeTransformer):
            def visit_Name(inner, n: ast.Name) -> ast.AST:
                value = self.traced.get(n.id)
                if value is None:
                    return n
                names = _free_names(value.expr)
                if names <= set(inputs) | set(idents) and not (
                        not value.forward and names - set(idents)):
                    if signature:
                        return ast.Name(f"<{ast.unparse(value.expr)}>", ast.Load())
                    expr = _renamed(value.expr, {k: stored.get(v, v) for k, v in idents.items() if k not in inputs},
                                    "self")
                    expr = _renamed(expr, inputs)
                    return expr
                return ast.Constant(pv.plain(value))
        return pysrc.expr(Swap().visit(copy.deepcopy(node)))

    def _signature_names(self, unit: Unit) -> set[str] | None:
        """The names a block's forward may write its values in (its parameters, input channels,
        locals and inputs); None for other units (their values are literals)."""
        if unit.scope is None or unit.scope.kind != "block":
            return None
        return set(self._class_names_of(unit)) | set(unit.scope.locals) | set(unit.scope.input_names)

    def _forward_input_vars(self, unit: Unit) -> dict[str, str]:
        """The spec's names of the unit's inputs -> their forward variables."""
        names = unit.scope.input_names if unit.scope is not None else list(self.g.inputs)
        return {name: unit.var[node_id] for name, node_id in zip(names, unit.inputs) if node_id in unit.var}

    def _forward_text(self, unit: Unit, signature: bool = False) -> list[str]:
        """The forward lines (without comments), for the signature and for output."""
        lines = []
        for s, targets, source in self._forward_sources(unit, signature):
            lines.append(f"{', '.join(targets)} = {source}" if targets else source)
        return lines

    def _forward_sources(self, unit: Unit, signature: bool = False) -> Iterator[tuple[Stmt, list[str], str]]:
        numbers = iter(["#"] * len(self._forward_nums(unit)) if signature else self._forward_numbers(unit))
        for s in unit.stmts:
            module = _access("self", unit, s.module) if s.module is not None else ""
            source = s.template.format(*[unit.var[r] for r in s.reads], m=module,
                                       **{f"n{k}": next(numbers) for k in range(len(s.nums))})
            source = self._forward_values(source, unit, signature)
            targets = [unit.var[t] for t in s.targets]
            yield s, targets, source
            if self.probes and s.node is not None:
                local = s.node.id[len(".".join(unit.path)) + 1:] if unit.path else s.node.id
                yield s, [], f"{PROBE_FUNCTION}(self, {str_literal(local)}, {unit.var[s.node.id]})"

    # ------------------------------------------------------------------ the file
    def _emit(self, order: list[Unit]) -> Generated:
        root = self.units[()]
        classes: list[str] = []
        done: set[int] = set()

        def emit(group: Group) -> None:  # a class after the classes it uses
            if group.id in done:
                return
            done.add(group.id)
            for unit in group.units:
                for child in self._child_classes(unit):
                    emit(child)
            classes.append(self._class_source(group))
        for unit in order:
            if unit.is_class:
                emit(unit.group)
        classes.append(self._model_source(root))
        body = "\n\n\n".join(classes)
        helpers = [HELPERS[name] for name in sorted(self.helpers)] + self.helpers_source
        if self.probes:
            helpers.insert(0, _PROBE_SOURCE.strip("\n") + "\n")
        if "_make_divisible" in {n.id for n in ast.walk(ast.parse(body)) if isinstance(n, ast.Name)}:
            helpers.append(_MAKE_DIVISIBLE_SOURCE.strip("\n") + "\n")
        used = {n.id for n in ast.walk(ast.parse("\n\n".join([*helpers, body]))) if isinstance(n, ast.Name)}
        standard = [line for name, line in (("math", "import math"), ("partial", "from functools import partial"))
                    if name in used]
        third_party = [line for name, line in (("torch", "import torch"), ("F", "import torch.nn.functional as F"),
                                               ("nn", "from torch import nn")) if name in used]
        imports = "\n\n".join("\n".join(group) for group in (standard, third_party) if group)
        parts = [imports, *helpers, body]
        source = self._file_docstring() + "\n\n" + "\n\n\n".join(p.rstrip("\n") for p in parts) + "\n"
        return Generated(source, self.model_class, list(self.g.inputs), list(self.g.inference_outputs))

    def _child_classes(self, unit: Unit) -> Iterator[Group]:
        for item in unit.items:
            if isinstance(item, Unit):
                if item.is_class:
                    yield item.group
                else:
                    yield from self._child_classes(item)

    def _file_docstring(self) -> str:
        g = self.g
        origin = f" from {Path(g.source_file).name}" if g.source_file else ""
        ins = "; ".join(f"{n} {fmt_shape(g.node(i).shape)}" for n, i in g.inputs.items())
        outs = "; ".join(f"{n} {fmt_shape(g.node(i).shape)}" for n, i in g.outputs.items())
        returns = ("forward returns the output tensor" if len(g.inference_outputs) == 1
                   else "forward returns a dict {output name: tensor}")
        if g.training_outputs:
            returns += (f"; in training mode a dict of every output, {', '.join(g.training_outputs)} "
                        "included (computed only then)")
        paragraphs = [f"{self.model_class}: generated by archc{origin}. Edit the spec, not this file.",
                      f"Inputs: {ins}. Outputs: {outs}; {returns}."]
        constraints = g.assumptions.describe()
        if constraints:
            paragraphs.append(f"Input sizes must satisfy: {', '.join(constraints)}.")
        text = [textwrap.fill(pysrc.safe_comment(p), pysrc.LINE - 3, break_long_words=False,
                              break_on_hyphens=False) for p in paragraphs]
        return '"""' + "\n\n".join(text) + '\n"""'

    def _class_source(self, group: Group, comments: bool = True) -> str:
        if group.variants:
            return self._merged_class_source(group)
        unit = group.units[0]
        base = "nn.Sequential" if unit.form == "seqclass" else "nn.Module"
        paths = [".".join(u.path) for u in group.units]
        where = ", ".join(paths) if len(paths) <= 8 else f"{', '.join(paths[:6])}, ... ({len(paths)} in all)"
        doc = pysrc.safe_comment((f"{unit.type_name}: " if unit.scope.kind == "block" else "") + where)
        out = [f"class {group.name}({base}):", *_docstring(doc + ".", 1), ""]
        out += pysrc.signature("__init__", ["self", *_with_defaults(group)], 1)
        ctors = self._ctor_sources(unit)
        locals_ = _local_lines(group.locals, group.idents)
        if unit.form == "seqclass":
            call = "super().__init__(" + ", ".join(src for _, src in ctors) + ")"
            out += locals_ + pysrc.lines("", pysrc.parse(call), 2)
        else:
            out.append("        super().__init__()")
            out += locals_
            out += [f"        self.{attr} = {arg}" for arg, attr in self._stored(unit).items()]
            out += self._ctor_lines(unit, ctors)
        out += self._init_tail(unit)
        if unit.form == "class":
            out += ["", *self._forward_source(unit, group, comments)]
        return "\n".join(out)

    def _model_source(self, root: Unit) -> str:
        checks = input_checks(self.g, self._forward_input_vars(root))
        self.helpers_source += list(checks.helpers)
        out = [f"class {self.model_class}(nn.Module):",
               *_docstring(self._model_doc(), 1), ""]
        if checks:
            out += [*(f"    {line}" for line in checks.class_lines), ""]
        out += [
               *pysrc.signature("__init__", ["self", *(f"{a}={py(v)}" for a, v in self.model_args.items())], 1),
               "        super().__init__()"]
        out += _local_lines(self.model_locals, {})
        out += [f"        self.{attr} = {arg}" for arg, attr in self._stored(root).items()]
        ctors = self._ctor_sources(root)
        out += self._ctor_lines(root, ctors)
        out += self._init_tail(root)
        header, chunks = self._forward_chunks(root, None)
        checks_lines = [pysrc.INDENT * 2 + line if line else line
                        for statement in checks.forward_lines for line in statement.split("\n")]
        out += ["", *header, *checks_lines,
                *(line for _, items in chunks for line in merge_mod.render(items, 2))]
        return "\n".join(out)

    def _model_doc(self) -> str:
        """The model's docstring: its name, and each model parameter that is no constructor
        argument, with why (a parameter is never silently dropped)."""
        text = pysrc.safe_comment(self.g.name or self.model_class) + "."
        if self.model_fixed:
            notes = "; ".join(f"{pysrc.safe_comment(k)}: {why}" for k, why in self.model_fixed.items())
            text += f" Spec parameters that are not constructor arguments: {notes}."
        return text

    def _init_tail(self, unit: Unit) -> list[str]:
        """The end of `__init__` (initializers, freezing, the frozen layers' mode) and the
        `train()` override that keeps frozen layers in inference mode."""
        out: list[str] = []
        for statement in unit.post:
            out += pysrc.lines("", pysrc.parse(statement), 2)
        if unit.keep_eval:
            out.append("        self.train()  # the frozen layers' mode, see train()")
        return out + self._train_source(unit)

    def _train_source(self, unit: Unit) -> list[str]:
        """A `train` that keeps frozen layers with running statistics in eval mode: frozen
        layers do not change, batch norm included (as Keras' trainable=False)."""
        if not unit.keep_eval:
            return []
        out = ["", "    def train(self, mode=True):",
               "        # frozen layers keep their running statistics: they run as at inference"]
        if unit.keep_eval == ["self"]:
            return out + ["        return super().train(False)"]
        out.append("        super().train(mode)")
        out += [f"        {access}.eval()" for access in unit.keep_eval]
        return out + ["        return self"]

    def _ctor_lines(self, unit: Unit, ctors: list[tuple[str, str]]) -> list[str]:
        return [line for name, src in ctors for line in merge_mod.render(self._ctor_statement(name, src), 2)]

    @staticmethod
    def _ctor_statement(name: str, src: str) -> tuple[merge_mod.Line, ...]:
        if pysrc.is_plain_name(name) and name not in _RESERVED:
            return ((f"self.{name} = ", src, "", ""),)
        if src.startswith("nn.Parameter("):  # a declared tensor: register_parameter's twin
            return (("", f"setattr(self, {str_literal(name)}, {src})", "", ""),)
        return (("", f"self.add_module({str_literal(name)}, {src})", "", ""),)

    def _forward_source(self, unit: Unit, group: Group | None, comments: bool = True) -> list[str]:
        header, chunks = self._forward_chunks(unit, group, comments)
        return header + [line for _, items in chunks for line in merge_mod.render(items, 2)]

    def _forward_chunks(self, unit: Unit, group: Group | None,
                        comments: bool = True) -> tuple[list[str], list[merge_mod.Chunk]]:
        """`def forward(...)` with its inputs' shapes, and its statements, each keyed by what it
        computes (for merging the structures of one block, archc.lower.merge)."""
        instances = group.units if group else [unit]
        labels = _Labels(self, instances, group)
        args = [unit.var[i] for i in unit.inputs]
        header = [f"    def forward(self{''.join(', ' + a for a in args)}):"]
        for k, i in enumerate(unit.inputs):
            header.append(f"        # {args[k]}: {labels.shape([u.inputs[k] for u in instances], k == 0)}")
        chunks: list[merge_mod.Chunk] = []
        training: list[str] = []  # lines of the training-only layers, run under `if self.training:`
        position = {id(s): i for i, s in enumerate(unit.stmts)}
        prefix = len(".".join(unit.path)) + 1 if unit.path else 0
        for k, (s, targets, source) in enumerate(self._forward_sources(unit)):
            comment = ""
            if comments and not source.startswith(PROBE_FUNCTION):
                idx = position[id(s)]
                comment = ", ".join(labels.shape([u.stmts[idx].targets[j] for u in instances])
                                    for j in range(len(s.targets)))
            items: list[merge_mod.Line] = []
            note = self.lowered[s.node.id].comment if s.node is not None and targets else ""
            if note:
                items.append((None, "# " + pysrc.safe_comment(note), "", ""))
            items.append((f"{', '.join(targets)} = " if targets else "", source, "", comment))
            if self._training_only(s, unit):
                training += merge_mod.render(tuple(items), 3)
                continue
            what = s.node.id[prefix:] if s.node is not None else s.module
            chunks.append(((what, "probe" if not targets else "", k if what is None else 0), tuple(items)))
        out: list[str] = []
        if not unit.path:
            if self.g.training_outputs:
                out.append("        if self.training:  # training outputs (auxiliary classifiers) too")
                out += training
                out += self._return(unit, self.g.outputs, 3)
            out += self._return(unit, self.g.inference_outputs, 2)
        elif unit.outputs:
            out.append(f"        return {', '.join(unit.var[o] for o in unit.outputs)}")
        chunks.append((("return",), tuple((None, line[8:], "", "") for line in out)))
        return header, chunks

    def _merged_class_source(self, group: Group) -> str:
        """A class for every structure of one block (see archc.lower.merge): each structure's
        lines, under its condition where the structures differ."""
        unit = group.units[0]
        reps = [g.units[0] for g in group.variants]
        saved = [u.group for u in reps]
        for u, g in zip(reps, group.variants):
            u.group = g
        try:
            stored: dict[str, str] = {}
            for u in reps:
                stored.update(self._stored(u))
            ctor_names = {name for u in reps for name, _ in u.ctors}
            for name in {n for c in group.conditions for n in _free_names(c)}:
                ident = group.idents[name]
                attr = ident
                while attr in ctor_names or attr in TORCH_MODULE_ATTRS or attr in _RESERVED:
                    attr += "_"
                stored.setdefault(ident, attr)
            attrs = {k: stored[v] for k, v in group.idents.items() if v in stored}
            conditions: dict[frozenset, ast.expr] = {}

            def condition(members: frozenset) -> ast.expr:
                if members not in conditions:
                    conditions[members] = merge_mod.minimal_condition(members, group.decisions)
                return conditions[members]

            def init_condition(members: frozenset) -> ast.expr:
                return _renamed(condition(members), group.idents)

            def forward_condition(members: frozenset) -> ast.expr:
                return _renamed(condition(members), attrs, "self")
            inits = [self._ctor_chunks(u) for u in reps]
            forwards = [self._forward_chunks(u, g)[1] for u, g in zip(reps, group.variants)] \
                if unit.form == "class" else []
            header = self._forward_chunks(reps[0], group.variants[0])[0] if unit.form == "class" else []
        finally:
            for u, g in zip(reps, saved):
                u.group = g
        base = "nn.Sequential" if unit.form == "seqclass" else "nn.Module"
        paths = [".".join(u.path) for u in group.units]
        where = ", ".join(paths) if len(paths) <= 8 else f"{', '.join(paths[:6])}, ... ({len(paths)} in all)"
        doc = pysrc.safe_comment(f"{unit.type_name}: {where}")
        out = [f"class {group.name}({base}):", *_docstring(doc + ".", 1), ""]
        out += pysrc.signature("__init__", ["self", *_with_defaults(group)], 1)
        body = merge_mod.merge(inits, init_condition, 2)
        if body is None:
            raise AssertionError(f"{group.name}: structures in different orders")
        locals_ = _local_lines(group.locals, group.idents)
        if unit.form == "seqclass":
            local = _unique("layers", set(group.args) | set(group.locals))
            body = [line.replace("layers.append(", f"{local}.append(", 1) for line in body]
            out += [*locals_, f"        {local} = []", *body, f"        super().__init__(*{local})"]
        else:
            out += ["        super().__init__()", *locals_]
            out += [f"        self.{attr} = {arg}" for arg, attr in stored.items()]
            out += body
        tails = [tuple(self._init_tail(u)) for u in reps]
        out += list(tails[0]) if len(set(tails)) == 1 else []
        if unit.form == "class":
            forward = merge_mod.merge(forwards, forward_condition, 2)
            if forward is None:
                raise AssertionError(f"{group.name}: forward lines in different orders")
            out += ["", *header, *forward]
        return "\n".join(out)

    def _ctor_keys(self, unit: Unit) -> list[Any]:
        """What each constructor statement of a unit builds (`_ctor_chunks`' keys)."""
        keys: list[Any] = []
        seen: dict[Any, int] = {}
        modules = [i for i in unit.items if isinstance(i, Unit) or self.lowered[i.id].module is not None]
        for item in modules:
            if unit.form == "seqclass":
                loc = item.scope.loc if isinstance(item, Unit) else item.loc
                site = (loc.file, loc.line, loc.col) if loc else None
                seen[site] = seen.get(site, -1) + 1
                keys.append((site, seen[site]))
            else:
                keys.append((item.name,))
        return keys + [("post", statement) for statement in unit.post]

    def _forward_keys(self, unit: Unit) -> list[Any]:
        """What each forward statement of a unit computes (`_forward_chunks`' keys)."""
        prefix = len(".".join(unit.path)) + 1 if unit.path else 0
        keys: list[Any] = []
        for k, s in enumerate(unit.stmts):
            what = s.node.id[prefix:] if s.node is not None else s.module
            keys.append((what, "", k if what is None else 0))
        return keys + [("return",)]

    def _ctor_chunks(self, unit: Unit) -> list[merge_mod.Chunk]:
        """The children's constructor statements, each keyed by its child (in a Sequential
        class, by where the spec builds it: the names there are positions)."""
        chunks: list[merge_mod.Chunk] = []
        keys = self._ctor_keys(unit)
        for key, (name, src) in zip(keys, self._ctor_sources(unit)):
            if unit.form == "seqclass":
                chunks.append((key, (("", f"layers.append({src})", "", ""),)))
            else:
                chunks.append((key, self._ctor_statement(name, src)))
        for key, statement in zip(keys[len(unit.ctors):], unit.post):
            chunks.append((key, (("", statement, "", ""),)))
        return chunks


    def _return(self, unit: Unit, outs: dict[str, str], depth: int) -> list[str]:
        """One output: the tensor; several: a dict by output name."""
        if len(outs) == 1:
            return ["    " * depth + f"return {unit.var[next(iter(outs.values()))]}"]
        items = ", ".join(f"{str_literal(name)}: {unit.var[i]}" for name, i in outs.items())
        return pysrc.lines("return ", pysrc.parse("{" + items + "}"), depth)

    def _training_only(self, s: Stmt, unit: Unit) -> bool:
        if unit.path or not self.g.training_outputs:
            return False  # the elaborator keeps training-only layers at the model level
        return all(self.g.node(t).training_only for t in s.targets)


class _Labels:
    """Shape comments for the forward of a class with one or more instances: a size that is the
    same in every instance is written as it is; one that varies, as the class argument it
    equals, or relative to the first input's shape [N, C, H, W] (`H/2`, `C*4`), else `?`."""

    def __init__(self, gen: _Generator, instances: list[Unit], group: Group | None):
        self.gen = gen
        self.idents = group.idents if group else gen._idents(instances[0])
        self.inputs = [gen.g.node(u.inputs[0]).shape if u.inputs else () for u in instances]
        rank = len(self.inputs[0]) if self.inputs else 0
        spatial = {3: ["L"], 4: ["H", "W"], 5: ["D", "H", "W"]}.get(rank, [f"S{k}" for k in range(rank - 2)])
        self.labels = ["N", "C", *spatial][:rank]
        # sizes as each instance sees them (archc.provenance): its inputs in its own names, its
        # child blocks' results as the block sees them
        self.views: list[dict[str, Any]] = []
        for u in instances:
            view: dict[str, Any] = {}
            for item in u.items:
                if isinstance(item, Unit) and item.scope is not None and item.scope.output_shapes:
                    view.update(zip(item.scope.outputs, item.scope.output_shapes))
            if u.scope is not None and u.scope.kind == "block" and u.scope.input_shapes:
                for k, (name, node_id) in enumerate(zip(u.scope.input_names, u.scope.inputs)):
                    channel = "in_channels" if len(u.scope.inputs) == 1 else f"{name}_channels"
                    shape = u.scope.input_shapes[k]
                    view.setdefault(node_id, tuple(
                        pv.traced(pv.plain(d), ast.Name(channel, ast.Load())) if j == 1 and sy.is_int(d) else d
                        for j, d in enumerate(shape)))
            self.views.append(view)

    def shape(self, value_ids: list[str], first_input: bool = False) -> str:
        shapes = [view.get(v, self.gen.g.node(v).shape) for v, view in zip(value_ids, self.views)]
        if len({len(s) for s in shapes}) != 1:
            return "?"
        rank = len(shapes[0])
        return "[" + ", ".join(self._dim([s[k] for s in shapes], k, first_input, rank)
                               for k in range(rank)) + "]"

    def _dim(self, vals: list, axis: int, first_input: bool, rank: int) -> str:
        expr = _shared_expression([Num(pv.plain(v), v if pv.is_traced(v) else None) for v in vals],
                                  self.idents.keys())
        if expr is not None and not isinstance(expr, ast.Constant):
            return pysrc.expr(_renamed(expr, self.idents)).replace(" ", "")
        if all(v == vals[0] for v in vals):
            return sy.to_str(vals[0])
        if first_input and axis < len(self.labels):
            return self.labels[axis]
        # the same axis of the input first (W, not H, for a square input's width)
        order = list(range(len(self.labels)))
        aligned = axis - (rank - len(self.labels))  # the trailing axes match: W is the last
        order.sort(key=lambda j: j != aligned)
        for j in order:
            label = self.labels[j]
            ins = [s[j] if j < len(s) else None for s in self.inputs]
            if all(v == i for v, i in zip(vals, ins)):
                return label
            for k in range(2, 65):
                if all(i is not None and sy.mul(v, k) == i for v, i in zip(vals, ins)):
                    return f"{label}/{k}"
                if all(i is not None and v == sy.mul(i, k) for v, i in zip(vals, ins)):
                    return f"{label}*{k}"
            for k in range(2, 65):
                if all(_is_int(i) and _is_int(v) and v == -(-i // k) for v, i in zip(vals, ins)):
                    return f"ceil({label}/{k})"
        return "?"


# ----------------------------------------------------------------------------- arguments

_NO_DEFAULT = object()



def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)



class _Binder:
    """The arguments of one class: names and their value per instance."""

    def __init__(self, taken: set[str]):
        self.taken = taken
        self.arg_of: dict[str, str] = {}  # base name -> argument identifier
        self.base_values: dict[str, list] = {}

    def argument(self, base: str, vals: list) -> str | None:
        """The argument named after `base` holding `vals`; None if `base` holds others."""
        if base in self.arg_of:
            return self.arg_of[base] if self.base_values[base] == list(vals) else None
        self.arg_of[base] = _unique(_identifier(base), self.taken)
        self.base_values[base] = list(vals)
        return self.arg_of[base]

    def args(self) -> list[str]:
        return list(self.arg_of.values())

    def values(self, i: int) -> list:
        return [self.base_values[b][i] for b in self.arg_of]


# ----------------------------------------------------------------------------- provenance


def _shared_expression(col: list, allowed: Any) -> ast.expr | None:
    """The expression every number of `col` was computed by (archc.provenance), if it is the same
    for all, known at construction and written in `allowed` names (None: any names)."""
    first = col[0].traced
    if first is None or first.forward:
        return None
    dump = ast.dump(first.expr)
    for num in col[1:]:
        if num.traced is None or num.traced.forward or ast.dump(num.traced.expr) != dump:
            return None
    if allowed is not None and not _free_names(first.expr) <= set(allowed):
        return None
    return first.expr


def _with_defaults(group: "Group") -> list[str]:
    defaults = group.defaults or [None] * len(group.args)
    return [arg if d is None else f"{arg}={d}" for arg, d in zip(group.args, defaults)]


def _with_locals(values: dict[str, Any], definitions: dict[str, ast.expr]) -> dict[str, Any]:
    """`values` and the locals computed from them (those that can be)."""
    out = dict(values)
    for name, definition in definitions.items():
        try:
            out[name] = merge_mod.evaluate(definition, out)
        except Exception:  # noqa: BLE001 - a local this check cannot compute stays unknown
            pass
    return out


def _local_lines(definitions: dict[str, ast.expr], idents: dict[str, str], depth: int = 2) -> list[str]:
    """`width = int(planes * (width_per_group / 64)) * groups`: the numbers a body names."""
    out: list[str] = []
    for name, definition in definitions.items():
        out += pysrc.lines(f"{name} = ", _renamed(definition, idents), depth)
    return out


def _used_locals(used: dict[str, None], definitions: dict[str, ast.expr]) -> dict[str, ast.expr]:
    """The definitions of the locals that `used` reads, directly or through other locals, in
    definition order."""
    needed = {n for n in used if n in definitions}
    for name in reversed(list(definitions)):
        if name in needed:
            needed |= _free_names(definitions[name]) & definitions.keys()
    return {name: d for name, d in definitions.items() if name in needed}


def _free_names(expr: ast.expr) -> set[str]:
    """The argument names an expression reads (not the functions it calls)."""
    called = {id(n.func) for n in ast.walk(expr) if isinstance(n, ast.Call)}
    return {n.id for n in ast.walk(expr) if isinstance(n, ast.Name) and id(n) not in called
            and n.id not in pv.CALLABLE_NAMES}


def _renamed(expr: ast.expr, idents: dict[str, str], prefix: str = "") -> ast.expr:
    """`expr` with its argument names as the class calls them (`prefix`: `self.` in forward)."""

    class Rename(ast.NodeTransformer):
        def visit_Name(self, n: ast.Name) -> ast.AST:
            if n.id not in idents:
                return n
            if prefix:
                return ast.Attribute(ast.Name(prefix, ast.Load()), idents[n.id], ast.Load())
            return ast.Name(idents[n.id], ast.Load())
    return Rename().visit(copy.deepcopy(expr))


def _folded(expr: ast.expr, values: dict[str, Any]) -> ast.expr:
    """`expr` with the names in `values` replaced by those values (literals)."""

    class Fold(ast.NodeTransformer):
        def visit_Name(self, n: ast.Name) -> ast.AST:
            return ast.Constant(values[n.id]) if n.id in values else n
    return Fold().visit(copy.deepcopy(expr))


# ----------------------------------------------------------------------------- helpers


def _outermost(kinds: list[str], enclosing: dict[str, list[frozenset]]) -> list[str]:
    """The kinds not implied by another one in the list: a kind that only ever occurs inside
    blocks of a listed type (a SqueezeExcitation's pooling) is left out."""
    listed = set(kinds)
    return [t for t in kinds if not all(places & listed for places in enclosing.get(t, [frozenset()]))]



def _self_form(source: str, stored: dict[str, str]) -> str:
    """`source` (an expression of class arguments) as `forward` reads it: the arguments from
    `self`; bracketed unless it is one name or number, as it goes into a larger expression."""
    node = pysrc.parse(source)
    if not stored:
        return source if isinstance(node, (ast.Name, ast.Constant)) else f"({source})"

    class Self(ast.NodeTransformer):
        def visit_Name(self, n: ast.Name) -> ast.AST:
            if n.id in stored:
                return ast.Attribute(ast.Name("self", ast.Load()), stored[n.id], ast.Load())
            return n

    node = Self().visit(node)
    text = pysrc.expr(node)
    return text if isinstance(node, (ast.Name, ast.Constant, ast.Attribute)) else f"({text})"


def _is_literal(text: str) -> bool:
    try:
        ast.literal_eval(text)
        return True
    except (ValueError, SyntaxError):
        return False


def _literal(text: str) -> Any:
    return ast.literal_eval(text)


def _access(prefix: str, container: Unit, name: str) -> str:
    """Source for the child `name` of `container`, reached as `prefix`."""
    if container.form in ("sequential", "seqclass") and name.isdigit():
        return f"{prefix}[{name}]"
    if pysrc.is_plain_name(name) and name not in _RESERVED:
        return f"{prefix}.{name}"
    return f"getattr({prefix}, {str_literal(name)})"


def _identifier(name: str) -> str:
    """A usable Python identifier for a spec name: as it is when possible."""
    text = "".join(c if c.isalnum() or c == "_" else "_" for c in name if c.isascii()) or "x"
    if text[0].isdigit():
        text = "_" + text
    if keyword.iskeyword(text):
        text += "_"
    return text


def _unique(name: str, taken: set[str]) -> str:
    base = name
    if base in taken or keyword.iskeyword(base):
        base = name + "_"
    candidate, k = base, 1
    while candidate in taken:
        candidate = f"{base}{k}"
        k += 1
    taken.add(candidate)
    return candidate


def _class_identifier(name: str) -> str:
    """A class name for a spec name: as it is when it is an identifier, else its words in
    CamelCase ("my net" -> MyNet); "Model" for a pseudo file name such as <string>."""
    if name.startswith("<"):
        return "Model"
    if not pysrc.is_plain_name(name):
        words = "".join(c if c.isascii() and c.isalnum() else " " for c in name).split()
        name = "".join(w[:1].upper() + w[1:] for w in words)
    text = _identifier(name or "Model")
    return text if text[0].isalpha() else "Model" + text.lstrip("_")


def _camel(name: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in name.split("_") if part)


def _docstring(text: str, depth: int) -> list[str]:
    """A docstring, its words wrapped at the line length."""
    pad = "    " * depth
    lines, line = [], pad + '"""'
    for word in text.split(" "):
        if len(line) + 1 + len(word) > pysrc.LINE - 3 and line.strip() not in ('"""', ""):
            lines.append(line)
            line = pad + word
        else:
            line += ("" if line.endswith('"""') else " ") + word
    lines.append(line + '"""')
    return lines
