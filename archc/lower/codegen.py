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
import functools
import itertools
import keyword
import re
import textwrap
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

from archc import collector
from archc import symbolic as sy
from archc.errors import SpecError
from archc.ir.elaborate import TORCH_MODULE_ATTRS
from archc.ir.graph import Graph, LayerNode, Scope
from archc.lower import pysrc
from archc.ops.base import HELPERS, Lowered, fmt_shape, py, str_literal

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

# names the generated code itself uses; spec names that equal one of them get a trailing '_'
_RESERVED = {"self", "torch", "nn", "F", "super", "float", "getattr", PROBE_LIST, PROBE_FUNCTION}


@dataclass
class Generated:
    """A generated model file and what a caller needs to use it."""
    source: str
    class_name: str
    inputs: list[str]  # forward's arguments, in order: the spec's input names
    outputs: list[str]  # output names; forward returns the tensor when there is one, else a dict


Reload = Callable[[dict[str, Any]], Graph]


@collector.paused()
def generate(graph: Graph, probes: bool = False, spec: Any = None) -> Generated:
    """The model file for `graph`. With `probes`, every forward line also records its output
    shape in the module-level list PROBES (used by the tests to compare with static shapes).

    With `spec` (the `archc.ast.Spec` the graph was elaborated from), the model's numeric
    parameters become its constructor's arguments, with the graph's values as defaults
    (`ResNet18(num_classes=10)`), where that is verified: the spec is elaborated again with
    other values, and every number of the model's constructors must follow them by one
    expression (`num_classes`, `width * 2`); a parameter that changes anything else (the
    structure, a class, a number no expression explains) stays a literal."""
    reload = _reloader(spec, graph) if spec is not None else None
    return _Generator(graph, probes, reload).run()


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


def _reloader(spec: Any, graph: Graph) -> Reload | None:
    """Elaborates `spec` with some parameters changed and the others as in `graph`. A parameter
    whose default is computed from others (`param width = base * 2`) follows them, unless the
    graph's value is not its default (it was set)."""
    from archc import ast as A
    from archc.ir.elaborate import elaborate

    names = {p.name for p in spec.params}

    def mentions(node: Any) -> bool:
        if isinstance(node, A.Name):
            return node.id in names
        if isinstance(node, (list, tuple)):
            return any(mentions(n) for n in node)
        if isinstance(node, A.Node):
            return any(mentions(getattr(node, f)) for f in type(node).model_fields)
        return False

    derived = {p.name for p in spec.params if p.default is not None and mentions(p.default)}
    base = {k: v for k, v in graph.params.items() if k not in derived}
    file = graph.source_file or "<string>"
    if derived:
        try:
            again = elaborate(spec, file, base)
        except Exception:  # noqa: BLE001 - then keep every value as it is
            again = None
        if again is None or any(again.params.get(k) != graph.params.get(k) for k in derived):
            base = dict(graph.params)
    return lambda changed: elaborate(spec, file, {**base, **changed})


# ----------------------------------------------------------------------------- constructor trees
# A module's constructor expression, kept as a small tree so the numbers in it can become class
# arguments: `nn.Conv2d(64, 128, kernel_size=3, stride=2)` has four numbers.


@dataclass(eq=False)
class Num:
    """A number in a constructor: stays literal or becomes a class argument."""
    value: int | float


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


def _tree(node: Any, defaults: dict[str, Any] | None = None) -> Any:
    """The constructor tree of a parsed constructor expression."""
    if isinstance(node, ast.Call):
        return Call(pysrc.expr(node.func), [_tree(a) for a in node.args],
                    [(k.arg, _tree(k.value)) for k in node.keywords], dict(defaults or {}))
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
        return Num(node.value)
    if (isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub) and isinstance(node.operand, ast.Constant)
            and isinstance(node.operand.value, (int, float)) and not isinstance(node.operand.value, bool)):
        return Num(-node.operand.value)
    if isinstance(node, ast.Tuple):
        return Seq([_tree(e) for e in node.elts])
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


class _Generator:
    def __init__(self, graph: Graph, probes: bool, reload: Reload | None = None):
        self.g = graph
        self.probes = probes
        self.reload = reload
        self.lowered: dict[str, Lowered] = {}
        self.units: dict[tuple[str, ...], Unit] = {}
        self.helpers: set[str] = set()
        self.groups: dict[tuple, Group] = {}
        self.consumers: dict[str, list[str]] = {}  # value -> the nodes reading it
        self.in_place = in_place_layers(graph)
        self.class_names: set[str] = set()
        self.position: dict[str, int] = {}  # node id -> index in graph order
        self.nodes_under: dict[tuple[str, ...], list[LayerNode]] = {}  # scope path -> its layers
        self.model_sources: list[str] | None = None  # the model's numbers, when it has arguments
        self.model_args: dict[str, Any] = {}  # the model's constructor arguments: default value

    # ------------------------------------------------------------------ driver
    def run(self) -> Generated:
        order = self._prepare()
        if self.reload is not None:
            self._model_arguments()
        return self._emit(order)

    def _prepare(self) -> list[Unit]:
        """Everything but the model's arguments and the text: units, classes, their arguments."""
        self._lower_nodes()
        self._build_units()
        order = self._post_order(self.units[()])
        for unit in order:  # children before parents: a parent's signature names its children's classes
            self._finish_unit(unit)
            if unit.is_class:
                self._group(unit)
        self._name_classes()
        for group in sorted(self.groups.values(), key=lambda gr: (gr.units[0].height, gr.id)):
            self._analyse_slots(group)
        return order

    # ------------------------------------------------------------------ the model's arguments
    def _model_arguments(self) -> None:
        """The model parameters that become constructor arguments (see `generate`): all the
        numeric ones at once if they pass, else each that passes alone (and together)."""
        params = {k: v for k, v in self.g.params.items() if _is_number(v) and pysrc.is_plain_name(k)}
        if not params or not self._slots(self.units[()]):
            return
        result = self._try_arguments(params, list(params))
        if result is None and len(params) > 1:
            alone = [k for k in params if self._try_arguments(params, [k]) is not None]
            result = self._try_arguments(params, alone) if alone else None
            if result is None and alone:
                result = self._try_arguments(params, alone[:1])
        if result is not None:
            self.model_sources, self.model_args = result

    def _try_arguments(self, params: dict[str, Any], names: list[str]) -> tuple[list[str], dict[str, Any]] | None:
        """(the model's number sources, its arguments) with `names` as arguments, if the spec
        elaborated with other values for them gives the same classes and model structure, and
        every number of the model that changes follows an expression of them."""
        # two other sets of values, each parameter scaled by its own factors, so that one
        # parameter's numbers are not taken for another's
        trials = [{k: _perturb(params[k], 2 + j) for j, k in enumerate(names)},
                  {k: _perturb(params[k], 3 + 2 * j) for j, k in enumerate(names)}]
        mine = self.units[()]
        columns = [[n.value for n in self._slots(mine)]]
        classes = self._class_dumps()
        for changed in trials:
            try:
                other = _Generator(self.reload(changed), False)
                other._prepare()
            except Exception:  # noqa: BLE001 - another value is invalid: no argument
                return None
            theirs = other.units[()]
            if mine.signature != theirs.signature or classes != other._class_dumps():
                return None
            columns.append([n.value for n in other._slots(theirs)])
            if len(columns[-1]) != len(columns[0]):
                return None
        binder = _Binder([(k, [params[k], *(t[k] for t in trials)]) for k in names],
                         set(_RESERVED) | set(HELPERS) | self.class_names)
        sources = []
        for col in zip(*columns):
            if all(_same_literal(c, col[0]) for c in col):
                sources.append(py(col[0]))
                continue
            source = binder.match(list(col), False, "")
            if source is None:
                return None
            sources.append(source)
        used = {n.id for src in sources for n in ast.walk(pysrc.parse(src)) if isinstance(n, ast.Name)}
        return sources, {arg: params[base] for base, arg in binder.arg_of.items() if arg in used}

    def _class_dumps(self) -> list[str]:
        """Every class but the model's, as code (comments left out)."""
        out, done = [], set()
        for unit in self._post_order(self.units[()]):
            if unit.is_class and unit.group.id not in done:
                done.add(unit.group.id)
                out.append(ast.dump(ast.parse(self._class_source(unit.group, comments=False))))
        return out

    def _lower_nodes(self) -> None:
        for node in self.g.layers():
            self.position[node.id] = len(self.position)
            if node.is_input:
                continue
            for k in range(len(node.scope) + 1):
                self.nodes_under.setdefault(node.scope[:k], []).append(node)
            try:
                low = node.op.lower(node.attrs, self.g.input_shapes(node), node.shape)
            except NotImplementedError as e:
                raise SpecError(f"{node.id}: {e}", node.loc, code="E-EXPORT-UNSUPPORTED-LAYER") from None
            if node.id in self.in_place:
                low = low.in_place
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
                    unit.ctors.append((item.name, _tree(pysrc.parse(low.module), dict(low.defaults))))
        if unit.form in ("class", "model"):
            self._statements(unit)
            self._variables(unit)
        if unit.form != "sequential":
            unit.post = self._post_statements(unit)
        unit.signature = self._signature(unit)

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
            group = self.groups[key] = Group(key, [], len(self.groups))
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
                out += [Num(v) for v in tree.func.arg_values]
            for a in tree.args:
                self._collect(a, out)
            for _, v in tree.kwargs:
                self._collect(v, out)

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

    def _analyse_slots(self, group: Group) -> None:
        """Which numbers become `__init__` arguments, and their names: block parameters and
        what the spec computes from them (`c // reduction`), the input channels, else a name
        after the number's role."""
        units = group.units
        values = [[n.value for n in self._slots(u)] for u in units]
        first = units[0]
        candidates: list[tuple[str, list]] = []
        if first.scope.kind == "block":
            for name in first.scope.args:
                vals = [u.scope.args.get(name) for u in units]
                if all(_is_number(v) for v in vals):
                    candidates.append((name, vals))
        in_name = "in_channels" if all(n != "in_channels" for n, _ in candidates) else "in_channels_"
        chans = [self._in_channels(u) for u in units]
        if all(_is_number(c) for c in chans):
            candidates.append((in_name, chans))
        taken = set(_RESERVED) | set(HELPERS) | self.class_names
        binder = _Binder(candidates, taken)
        roles = self._slot_roles(first)
        sources = []
        for k in range(len(values[0]) if values else 0):
            col = [v[k] for v in values]
            bare, qualified, key, default = roles[k]
            constant = all(_same_literal(c, col[0]) for c in col)
            if constant and (default is not _NO_DEFAULT and _same_literal(col[0], default)
                             or first.scope.kind != "block"):
                sources.append(py(col[0]))  # the constructor's default: left out
                continue
            source = binder.match(col, constant, key)
            if source is None and constant:
                source = py(col[0])
            sources.append(source or binder.argument(bare, col) or binder.argument(qualified, col)
                           or binder.argument(f"{qualified}_{k}", col))
        group.args = binder.args()
        group.slot_sources = sources
        for i, u in enumerate(units):
            u.arg_values = binder.values(i)

    def _in_channels(self, unit: Unit) -> Any:
        if not unit.inputs:
            return None
        shape = self.g.node(unit.inputs[0]).shape
        return shape[1] if len(shape) > 1 else None

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
            return next(slots)
        if isinstance(tree, Text):
            return tree.source
        if isinstance(tree, Seq):
            items = [self._render(i, slots, signature) for i in tree.items]
            return "(" + items[0] + ",)" if len(items) == 1 else "(" + ", ".join(items) + ")"
        if isinstance(tree.func, Unit):
            child = tree.func
            if signature:
                func, parts = f"<{child.group.id}>", []
            else:
                func, parts = child.group.name, [next(slots) for _ in child.arg_values]
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
        """Source of each of the unit's numbers (`_slots`): a class's as analysed (arguments
        and expressions of them), the model's in terms of its parameters where they were
        verified (`_model_arguments`), else literal."""
        if unit.is_class:
            return unit.group.slot_sources
        if not unit.path and self.model_sources is not None:
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

    def _stored(self, unit: Unit) -> dict[str, str]:
        """The arguments `forward` reads, each with the attribute `__init__` keeps it in."""
        sources = self._sources(unit)[len(self._ctor_slots(unit)):]
        used = {n.id for src in sources for n in ast.walk(pysrc.parse(src)) if isinstance(n, ast.Name)}
        taken = {name for name, _ in unit.ctors} | set(TORCH_MODULE_ATTRS) | _RESERVED
        stored: dict[str, str] = {}
        for arg in self._arguments(unit):
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
        for unit in order:
            if unit.is_class and unit.group.id not in done:
                done.add(unit.group.id)
                classes.append(self._class_source(unit.group))
        classes.append(self._model_source(root))
        body = "\n\n\n".join(classes)
        helpers = [HELPERS[name] for name in sorted(self.helpers)]
        if self.probes:
            helpers.insert(0, _PROBE_SOURCE.strip("\n") + "\n")
        used = {n.id for n in ast.walk(ast.parse("\n\n".join([*helpers, body]))) if isinstance(n, ast.Name)}
        imports = [line for name, line in (("torch", "import torch"), ("F", "import torch.nn.functional as F"),
                                           ("nn", "from torch import nn")) if name in used]
        parts = ["\n".join(imports), *helpers, body]
        source = self._file_docstring() + "\n\n" + "\n\n\n".join(p.rstrip("\n") for p in parts) + "\n"
        return Generated(source, self.model_class, list(self.g.inputs), list(self.g.inference_outputs))

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
        unit = group.units[0]
        base = "nn.Sequential" if unit.form == "seqclass" else "nn.Module"
        paths = [".".join(u.path) for u in group.units]
        where = ", ".join(paths) if len(paths) <= 8 else f"{', '.join(paths[:6])}, ... ({len(paths)} in all)"
        doc = pysrc.safe_comment((f"{unit.type_name}: " if unit.scope.kind == "block" else "") + where)
        out = [f"class {group.name}({base}):", *_docstring(doc + ".", 1), ""]
        out += pysrc.signature("__init__", ["self", *group.args], 1)
        ctors = self._ctor_sources(unit)
        if unit.form == "seqclass":
            call = "super().__init__(" + ", ".join(src for _, src in ctors) + ")"
            out += pysrc.lines("", pysrc.parse(call), 2)
        else:
            out.append("        super().__init__()")
            out += [f"        self.{attr} = {arg}" for arg, attr in self._stored(unit).items()]
            out += self._ctor_lines(unit, ctors)
        out += self._init_tail(unit)
        if unit.form == "class":
            out += ["", *self._forward_source(unit, group, comments)]
        return "\n".join(out)

    def _model_source(self, root: Unit) -> str:
        out = [f"class {self.model_class}(nn.Module):",
               *_docstring(pysrc.safe_comment(self.g.name or self.model_class) + ".", 1), "",
               *pysrc.signature("__init__", ["self", *(f"{a}={py(v)}" for a, v in self.model_args.items())], 1),
               "        super().__init__()"]
        out += [f"        self.{attr} = {arg}" for arg, attr in self._stored(root).items()]
        ctors = self._ctor_sources(root)
        out += self._ctor_lines(root, ctors)
        out += self._init_tail(root)
        out += ["", *self._forward_source(root, None)]
        return "\n".join(out)

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
        out = []
        for name, src in ctors:
            if pysrc.is_plain_name(name) and name not in _RESERVED:
                out += pysrc.lines(f"self.{name} = ", pysrc.parse(src), 2)
            elif src.startswith("nn.Parameter("):  # a declared tensor: register_parameter's twin
                out += pysrc.lines("", pysrc.parse(f"setattr(self, {str_literal(name)}, {src})"), 2)
            else:
                out += pysrc.lines("", pysrc.parse(f"self.add_module({str_literal(name)}, {src})"), 2)
        return out

    def _forward_source(self, unit: Unit, group: Group | None, comments: bool = True) -> list[str]:
        instances = group.units if group else [unit]
        labels = _Labels(self, instances, group)
        args = [unit.var[i] for i in unit.inputs]
        out = [f"    def forward(self{''.join(', ' + a for a in args)}):"]
        for k, i in enumerate(unit.inputs):
            out.append(f"        # {args[k]}: {labels.shape([u.inputs[k] for u in instances], k == 0)}")
        training: list[str] = []  # lines of the training-only layers, run under `if self.training:`
        position = {id(s): i for i, s in enumerate(unit.stmts)}
        for s, targets, source in self._forward_sources(unit):
            comment = ""
            if comments and not source.startswith(PROBE_FUNCTION):
                idx = position[id(s)]
                comment = ", ".join(labels.shape([u.stmts[idx].targets[j] for u in instances])
                                    for j in range(len(s.targets)))
            lines, depth = (training, 3) if self._training_only(s, unit) else (out, 2)
            note = self.lowered[s.node.id].comment if s.node is not None and targets else ""
            if note:
                lines.append("    " * depth + "# " + pysrc.safe_comment(note))
            lines += pysrc.statement(", ".join(targets), source, depth, comment)
        if not unit.path:
            if self.g.training_outputs:
                out.append("        if self.training:  # training outputs (auxiliary classifiers) too")
                out += training
                out += self._return(unit, self.g.outputs, 3)
            out += self._return(unit, self.g.inference_outputs, 2)
        elif unit.outputs:
            out.append(f"        return {', '.join(unit.var[o] for o in unit.outputs)}")
        return out


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
        self.args = list(zip(group.args, zip(*[u.arg_values for u in instances]))) if group else []
        self.inputs = [gen.g.node(u.inputs[0]).shape if u.inputs else () for u in instances]
        rank = len(self.inputs[0]) if self.inputs else 0
        spatial = {3: ["L"], 4: ["H", "W"], 5: ["D", "H", "W"]}.get(rank, [f"S{k}" for k in range(rank - 2)])
        self.labels = ["N", "C", *spatial][:rank]

    def shape(self, value_ids: list[str], first_input: bool = False) -> str:
        shapes = [self.gen.g.node(v).shape for v in value_ids]
        if len({len(s) for s in shapes}) != 1:
            return "?"
        rank = len(shapes[0])
        return "[" + ", ".join(self._dim([s[k] for s in shapes], k, first_input, rank)
                               for k in range(rank)) + "]"

    def _dim(self, vals: list, axis: int, first_input: bool, rank: int) -> str:
        if all(v == vals[0] for v in vals):
            return sy.to_str(vals[0])
        for name, avals in self.args:
            if all(v == a for v, a in zip(vals, avals)):
                return name
        for name, avals in self.args:
            factor = _factor(vals, list(avals))
            if factor is not None:
                return f"{name}*{factor}"
        found = _expression(vals, [(name, list(avals)) for name, avals in self.args], False, "")
        if found is not None:
            return found[0].format(*found[1]).replace(" ", "")
        if first_input and axis < len(self.labels):
            return self.labels[axis]
        # the same axis of the input first (W, not H, for a square input's width)
        order = list(range(len(self.labels)))
        if rank == len(self.labels):
            order.sort(key=lambda j: j != axis)
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


def _perturb(value: int | float, factor: int) -> int | float:
    """Another value of a model parameter, to see what follows it."""
    return value * factor if value else type(value)(factor)


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _expression(col: list, candidates: list[tuple[str, list]], constant: bool,
                key: str) -> tuple[str, list[str]] | None:
    """An expression over the candidates (parameters' values per instance) giving `col` in
    every instance, as (template with {0}, {1} for the names, names); None if there is none.
    A number that is the same in every instance is only tied to a parameter on good evidence
    (the keyword is the parameter's name, or the value is unusual enough: not 0, 1 or 2), so
    that `padding=1` does not become `padding=stride`."""
    exact = [n for n, vals in candidates if all(type(c) is type(v) and c == v for c, v in zip(col, vals))]
    if key in exact:
        return "{0}", [key]
    ints = [(n, vals) for n, vals in candidates if all(_is_int(v) for v in vals)]
    if constant:
        v = col[0]
        if not _is_int(v) or v < 3:
            return None
        if not key and "in_channels" in exact:
            return "{0}", ["in_channels"]
        exact = [n for n in exact if n not in ("in_channels", "in_channels_")]
        if len(exact) == 1:
            return "{0}", exact
        if exact:
            return None  # ambiguous
        found = [(t, [p, q]) for p, pv in ints for q, qv in ints if p != q and min(pv + qv) >= 2
                 for t, f in (("{0} * {1}", lambda a, b: a * b), ("{0} // {1}", lambda a, b: a // b))
                 if all(f(a, b) == v for a, b in zip(pv, qv))]
        return found[0] if len(found) == 1 else None
    if exact:
        return "{0}", exact[:1]
    if not all(_is_int(c) for c in col):
        return None
    for p, pv in ints:
        for q, qv in ints:
            if p != q and all(b >= 1 for b in qv):
                if all(c == a * b for c, a, b in zip(col, pv, qv)) and all(b >= 2 for b in qv):
                    return "{0} * {1}", [p, q]
                if all(c == a // b for c, a, b in zip(col, pv, qv)) and any(b >= 2 for b in qv):
                    return "{0} // {1}", [p, q]
    for p, pv in ints:
        factor = _factor(col, pv)
        if factor is not None:
            return f"{{0}} * {factor}", [p]
        c0, v0 = col[0], pv[0]
        if c0 > 0 and v0 > 0:  # the k with v0 // k == c0 lie in (v0 // (c0 + 1), v0 // c0]
            for k in range(max(2, v0 // (c0 + 1) + 1), v0 // c0 + 1):
                if all(v > 0 and c == v // k for c, v in zip(col, pv)):
                    return f"{{0}} // {k}", [p]
    return None


class _Binder:
    """The arguments of one class: names and their value per instance."""

    def __init__(self, candidates: list[tuple[str, list]], taken: set[str]):
        self.candidates = candidates
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

    def match(self, col: list, constant: bool, key: str) -> str | None:
        found = _expression(col, self.candidates, constant, key)
        if found is None:
            return None
        template, names = found
        values = dict(self.candidates)
        idents = [self.argument(n, values[n]) for n in names]
        return None if None in idents else template.format(*idents)

    def args(self) -> list[str]:
        return list(self.arg_of.values())

    def values(self, i: int) -> list:
        return [self.base_values[b][i] for b in self.arg_of]


# ----------------------------------------------------------------------------- helpers


def _outermost(kinds: list[str], enclosing: dict[str, list[frozenset]]) -> list[str]:
    """The kinds not implied by another one in the list: a kind that only ever occurs inside
    blocks of a listed type (a SqueezeExcitation's pooling) is left out."""
    listed = set(kinds)
    return [t for t in kinds if not all(places & listed for places in enclosing.get(t, [frozenset()]))]


def _factor(col: list, vals: list) -> int | None:
    """k >= 2 with col[i] == vals[i] * k for every i, if the values are ints and there is one."""
    if not all(isinstance(c, int) and isinstance(v, int) and not isinstance(v, bool) and v > 0
               and c % v == 0 for c, v in zip(col, vals)):
        return None
    factors = {c // v for c, v in zip(col, vals)}
    return factors.pop() if len(factors) == 1 and min(factors) >= 2 else None


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
