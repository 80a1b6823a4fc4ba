"""What the generator works on: the file's fixed pieces (initializers, helpers, reserved
names), constructor trees whose numbers become class arguments or stay literals, and the units
(one per scope that becomes a submodule) with the groups of instances that share a class."""
from __future__ import annotations

import ast
import functools
import re
from dataclasses import dataclass, field
from typing import Any

from archc import provenance as pv
from archc.ir.graph import LayerNode, Scope
from archc.lower import pysrc
from archc.lower.checks import RESERVED as CHECK_NAMES
from archc.ops.base import Ctor, Src, py

PROBE_LIST = "PROBES"


PROBE_FUNCTION = "_probe"


_PROBE_SOURCE = f'''
{PROBE_LIST} = []


def {PROBE_FUNCTION}(module, name, value):
    """Record a node's output shape (the shape-checking variant of this file only)."""
    {PROBE_LIST}.append((module, name, tuple(value.shape)))
'''


# the built-in functions of the spec language that Python lacks, as the generated file defines
# them when its expressions use them (archc.language.make_divisible computes the same; a test
# compares them)
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


@dataclass(eq=False)
class ListSeq(Seq):
    """A list of constructors: nn.ModuleList([...])."""


@dataclass(eq=False)
class DictSeq(Seq):
    """Constructors by name: nn.ModuleDict({"fc": ...})."""
    keys: list[str] = field(default_factory=list)


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


@dataclass(eq=False)
class Loop:
    """The copies of an inline `repeat` that are instances of one class, as one loop of the
    enclosing Sequential's constructor: `for i in range(count): self.add_module(name,
    Child(channels, ...))`, the input channels carried from copy to copy. Its slots: the count,
    the name, the first copy's channels, the channels a copy gives the next, then the child's
    other arguments (the first copy's: every copy's are the same expressions of the loop
    variable)."""
    var: str
    child: Any  # the first copy's Unit
    channel_index: int | None  # where the child takes its input channels among its arguments
    nums: list


@dataclass(eq=False)
class LoopSource:
    """A Loop's sources, for the emitter."""
    loop: Loop
    count: str
    name: str
    start: str
    update: str
    args: list[str]


def _ctor_tree(ctor: Ctor, defaults: dict[str, Any] | None = None) -> Call:
    """The constructor tree of an op's lowering, read from its data (`Ctor`): each number a slot
    with its value and provenance, other values as their source."""
    return Call(ctor.func, [_value_tree(a) for a in ctor.args],
                [(k, _value_tree(v)) for k, v in ctor.kwargs.items()], dict(defaults or {}))


def _value_tree(value: Any) -> Any:
    if isinstance(value, Ctor):
        return _ctor_tree(value)
    if isinstance(value, Src):
        return Text(str.__str__(value))
    if pv.is_traced(value) and not isinstance(value, (pv.TList, pv.TBool)):
        return Num(pv.plain(value), value)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return Num(pv.plain(value))
    if isinstance(value, tuple):
        return Seq([_value_tree(v) for v in value])
    return Text(py(pv.plain(value)))


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
    mask = _Mask()
    text = pysrc.expr(mask.visit(node)).replace("{", "{{").replace("}", "}}")
    text = re.sub(rf"{_PLACE}r(\d+)", r"{\1}", text).replace(f"{_PLACE}m", "{m}")
    return re.sub(rf"{_PLACE}n(\d+)", r"{n\1}", text), mask.nums


def _number(n: ast.AST) -> Any:
    if isinstance(n, ast.Constant) and isinstance(n.value, (int, float)) and not isinstance(n.value, bool):
        return n.value
    return None


class _Mask(ast.NodeTransformer):
    """Each number of a template (a negated one whole) replaced by a placeholder; `nums`: them."""

    def __init__(self) -> None:
        self.nums: list[Num] = []

    def visit_UnaryOp(self, n: ast.UnaryOp) -> ast.AST:
        if isinstance(n.op, ast.USub) and _number(n.operand) is not None:
            self.nums.append(Num(-_number(n.operand)))
            return ast.Name(f"{_PLACE}n{len(self.nums) - 1}", ast.Load())
        return self.generic_visit(n)

    def visit_Constant(self, n: ast.Constant) -> ast.AST:
        if _number(n) is not None:
            self.nums.append(Num(n.value))
            return ast.Name(f"{_PLACE}n{len(self.nums) - 1}", ast.Load())
        return n


def _same_literal(value: Any, default: Any) -> bool:
    return type(value) is type(default) and value == default or (
        isinstance(value, (int, float)) and isinstance(default, (int, float))
        and not isinstance(value, bool) and not isinstance(default, bool) and value == default)


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
    # "model" | "class" | "seqclass" (block as nn.Sequential) | "sequential" (inline) | "container"
    # (members named `convs.0`, … that the parent calls one at a time: nn.ModuleList / ModuleDict)
    form: str = "class"
    height: int = 0
    signature: Any = None
    group: "Group | None" = None
    arg_values: list = field(default_factory=list)
    ctors: list[tuple[str, Any]] = field(default_factory=list)
    stmts: list[Stmt] = field(default_factory=list)
    post: list[str] = field(default_factory=list)
    var: dict[str, str] = field(default_factory=dict)  # value id -> variable name
    keep_eval: list[str] = field(default_factory=list)  # frozen parts kept in eval mode
    containers: dict[str, "Unit"] = field(default_factory=dict)  # its container children by name

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
    locals: dict[str, Any] = field(default_factory=dict)  # numbers its __init__ names: definitions
    defaults: list = field(default_factory=list)  # per argument: its default's source, or None
    variants: list["Group"] = field(default_factory=list)  # a merged class: its structures
    conditions: list = field(default_factory=list)  # and the condition of each
    decisions: list = field(default_factory=list)  # and the choices it made that others did not


_NO_DEFAULT = object()


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)
