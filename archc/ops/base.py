"""What an operation is. Each op is one class that states, in one place: its attributes (with
types and defaults), its shape rule, its parameter tensors, its multiply-accumulate count, its
receptive-field window, and (see `archc/lower`) its PyTorch lowering.

Shape functions are pure: they take the bound attributes and the input shapes and return the
output shape, or raise `ShapeError` with the offending values. Shapes are channels-first tuples
(`(N, C, H, W)`), each dimension an `int` or a symbolic `archc.symbolic.Expr`.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass
from itertools import repeat
from typing import Any, Callable, Collection, Protocol, Sequence

from archc import provenance
from archc import symbolic as sy
from archc.ops.autograd import Autocast, SaveContext, Saved
from archc.ops.families import FAMILIES, Family
# the PyTorch lowering's pieces, part of an op's definition (re-exported: ops import them from here)
from archc.ops.pysource import HELPERS, Ctor, Lowered, Src, helper, py, py_call, py_ints, str_literal  # noqa: F401
from archc.symbolic import Dim

Shape = tuple[Dim, ...]


class ShapeError(Exception):
    """A shape rule rejected its inputs. The message names the values; the elaborator adds the
    op name and the spec location. `code`: its catalogue code (see archc.codes)."""

    def __init__(self, message: str, hint: str | None = None, *, code: str):
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.code = code


class AttrError(Exception):
    """An attribute value an op does not accept (its type, range or combination). `unknown_name`:
    the bare word given where a value was expected, for the elaborator's did-you-mean fix."""

    def __init__(self, message: str, hint: str | None = None, *, code: str, unknown_name: str | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.code = code
        self.unknown_name = unknown_name
        self.also: list[AttrError] = []  # the call's other refused attributes (all said in one run)


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


class Word(str):
    """An unbound bare name used as a value (`padding=same`, `mode=bilinear`, `init=he_normal`)."""


class ShapeContext(Protocol):
    """What a shape rule may ask of the inference engine: facts about symbolic sizes."""

    def require_equal(self, a: Dim, b: Dim) -> bool: ...
    def require_positive(self, d: Dim) -> bool: ...


# ----------------------------------------------------------------------------- attribute types

REQUIRED: Any = type("Required", (), {"__repr__": lambda self: "required"})()


class AttrType:
    """Checks and normalises one attribute value; describes itself for docs and JSON Schema."""
    label: str = "value"

    def coerce(self, value: Any, ndim: int) -> Any:
        raise NotImplementedError

    def json_schema(self) -> dict:
        return {}

    @staticmethod
    def _reject(value: Any, expected: str) -> AttrError:
        if isinstance(value, Word):
            return AttrError(f"expected {expected}, got the unknown name '{value}'",
                             f"'{value}' is not a value in scope here: a block sees only its own "
                             f"parameters (pass a model param in), and a tensor's sizes are read as "
                             f"x.channels, x.height, x.width or x.shape[i]", code="E-ATTR-TYPE",
                             unknown_name=str(value))
        return AttrError(f"expected {expected}, got {_show(value)}", code="E-ATTR-TYPE")


def _per_axis_hint(ndim: int) -> str:
    return (f"give one value for every spatial axis, or a list of {ndim}, one per axis"
            if ndim else "this input has no spatial axes: give a single value")


def _show(value: Any) -> str:
    if isinstance(value, str) and not isinstance(value, Word):
        return repr(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int) and abs(value) >= 10 ** 30:  # no 4,300-digit text (Python refuses it)
        return f"an int of about {int(value.bit_length() * 0.30103) + 1} digits"
    if isinstance(value, (list, tuple)):  # its start and size: a shared list can denote 10 ** 21
        return shown(value)
    return str(value)


SHOWN_CHARS = 200  # a value in a message: at most about this many characters, then its size


def shown(value: Any, width: int = SHOWN_CHARS) -> str:
    """A value as a message shows it: whole when short, else its first characters and its size
    (`[[0, 0, 0, …] … (a list of 10 items)`). Only what is shown is walked: a list that shares
    references (10 ** 21 numbers in 200 items) costs `width` characters, not its expansion."""
    out: list[str] = []
    room = [width + 1]

    def put(text: str) -> bool:
        out.append(text[:room[0]])
        room[0] -= len(text)
        return room[0] > 0

    def walk(v: Any) -> bool:
        if isinstance(v, (list, tuple)) and not isinstance(v, str):
            if not put("[" if isinstance(v, list) else "("):
                return False
            for k, item in enumerate(v):
                if (k and not put(", ")) or not walk(item):
                    return False
            return put("]" if isinstance(v, list) else ")")
        if isinstance(v, str) and not isinstance(v, Word):
            return put(repr(v[:width + 1]))
        return put(str(v) if not isinstance(v, (list, tuple)) else "…")

    if walk(value):
        return "".join(out)
    text = "".join(out)[:width].rstrip(", ") + " …"
    if isinstance(value, str):
        return f"{text} (a string of {len(value):,} characters)"
    if isinstance(value, (list, tuple)):
        return f"{text} (a list of {len(value):,} items)"
    return text


_EXPR_SCHEMA = {"type": "string", "description": "an expression, e.g. `out * 4` or `num_classes`"}


class Int(AttrType):
    def __init__(self, min: int | None = None):
        self.min = min
        self.label = "int" if min is None else f"int ≥ {min}"

    def coerce(self, value, ndim):
        if type(value) is int and (self.min is None or value >= self.min):  # (a plain int: no test below fails)
            return value
        if isinstance(value, bool) or not isinstance(value, int):
            if isinstance(value, float) and value.is_integer():
                value = int(value)
            else:
                raise self._reject(value, self.label)
        if self.min is not None and value < self.min:
            raise AttrError(f"must be ≥ {self.min}, got {value}", code="E-ATTR-RANGE")
        return value

    def json_schema(self):
        s = {"type": "integer"}
        if self.min is not None:
            s["minimum"] = self.min
        return {"anyOf": [s, _EXPR_SCHEMA]}


class Float(AttrType):
    """A number. NaN is never a value (every comparison with it is false, so it would pass any
    range check); infinities only where they mean something (`finite=False`: a clamp bound)."""

    def __init__(self, min: float | None = None, max: float | None = None, finite: bool = True,
                 above: float | None = None):
        self.min, self.max, self.finite, self.above = min, max, finite, above
        self.label = "number" + (f" in [{min}, {max}]" if min is not None and max is not None else
                                 f" > {above}" if above is not None else "")

    def coerce(self, value, ndim):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self._reject(value, "a number")
        if isinstance(value, int) and abs(value) > 1e308:
            raise AttrError(f"{_show(value)} is too large for a float",
                            "a float is at most about 1.8e308", code="E-ATTR-RANGE")
        value = provenance.as_float(value)
        if value != value:
            raise AttrError("expected a number, got NaN (not a number)", "give a finite number",
                            code="E-ATTR-NOT-FINITE")
        if self.finite and value in (float("inf"), float("-inf")):
            raise AttrError(f"expected a finite number, got {value}", "give a finite number",
                            code="E-ATTR-NOT-FINITE")
        if self.above is not None and not value > self.above:
            raise AttrError(f"must be > {self.above}, got {value}", code="E-ATTR-RANGE")
        if (self.min is not None and value < self.min) or (self.max is not None and value > self.max):
            raise AttrError(f"must be in [{self.min}, {self.max}], got {value}", code="E-ATTR-RANGE")
        return value

    def json_schema(self):
        return {"anyOf": [{"type": "number"}, _EXPR_SCHEMA]}


class BoolType(AttrType):
    label = "true or false"

    def coerce(self, value, ndim):
        if not isinstance(value, bool):
            raise self._reject(value, "true or false")
        return value

    def json_schema(self):
        return {"anyOf": [{"type": "boolean"}, _EXPR_SCHEMA]}


class Ints(AttrType):
    """An int applied to every spatial axis, or one int per axis: kernel, stride, dilation."""

    def __init__(self, min: int = 1):
        self.min = min
        self.label = f"int ≥ {min} or one per spatial axis"

    def coerce(self, value, ndim):
        if type(value) is int and value >= self.min:  # (one plain int for every axis: as below, untested)
            return (value,) * ndim
        items = list(value) if isinstance(value, (list, tuple)) else [value] * ndim
        if len(items) != ndim:
            raise AttrError(f"expected 1 or {ndim} values (one per spatial axis), got {len(items)}",
                            _per_axis_hint(ndim), code="E-ATTR-AXIS-COUNT")
        for v in items:
            if isinstance(v, bool) or not isinstance(v, int):
                raise self._reject(v, self.label)
            if v < self.min:
                raise AttrError(f"must be ≥ {self.min}, got {v}", code="E-ATTR-RANGE")
        return provenance.same_trace(value, tuple(items))  # `kernel_size=kernel` for a traced list

    def json_schema(self):
        i = {"type": "integer", "minimum": self.min}
        return {"anyOf": [i, {"type": "array", "items": {"anyOf": [i, _EXPR_SCHEMA]}}, _EXPR_SCHEMA]}


class Padding(AttrType):
    """`valid` (no padding), `same` (output size = ceil(input / stride)), an int, or one int per
    axis, or per axis a pair (before, after)."""
    label = "same, valid, an int, or one int per spatial axis"

    def coerce(self, value, ndim):
        if type(value) is int and value >= 0:  # (one plain int for every side: as below, untested)
            return ((value, value),) * ndim
        if isinstance(value, str):
            if value in ("same", "valid"):
                return str(value)
            raise AttrError(f"expected {self.label}, got {_show(value)}",
                            hint="padding words are 'same' and 'valid'", code="E-ATTR-CHOICE")
        items = list(value) if isinstance(value, (list, tuple)) else [value] * ndim
        if len(items) != ndim:
            raise AttrError(f"expected 1 or {ndim} paddings (one per spatial axis), got {len(items)}",
                            _per_axis_hint(ndim), code="E-ATTR-AXIS-COUNT")
        out = []
        for v in items:
            if isinstance(v, (list, tuple)) and len(v) == 2 and all(_is_int(x) and x >= 0 for x in v):
                out.append((v[0], v[1]))
            elif _is_int(v) and v >= 0:
                out.append((v, v))
            else:
                raise self._reject(v, "an int ≥ 0 or a pair (before, after)")
        return tuple(out)

    def json_schema(self):
        return {"anyOf": [{"enum": ["same", "valid"]}, {"type": "integer", "minimum": 0},
                          {"type": "array"}, _EXPR_SCHEMA]}


class Choice(AttrType):
    def __init__(self, *choices: str):
        self.choices = choices
        self.label = " | ".join(choices)

    def coerce(self, value, ndim):
        if isinstance(value, str) and value in self.choices:
            return str(value)
        from archc.errors import did_you_mean
        hint = did_you_mean(str(value), self.choices) if isinstance(value, str) else None
        raise AttrError(f"expected one of {', '.join(self.choices)}; got {_show(value)}", hint,
                        code="E-ATTR-CHOICE")

    def json_schema(self):
        return {"enum": list(self.choices)}


class Dims(AttrType):
    """A list of sizes: ints, or symbolic sizes such as `x.height * x.width`."""
    label = "list of sizes"

    def __init__(self, allow_symbolic: bool = True):
        self.allow_symbolic = allow_symbolic

    def coerce(self, value, ndim):
        if not isinstance(value, (list, tuple)):
            raise self._reject(value, self.label)
        for v in value:
            symbolic = isinstance(v, sy.Expr) and self.allow_symbolic
            if not symbolic and (isinstance(v, bool) or not isinstance(v, int)):
                raise self._reject(v, "an int" + (" or a symbolic size" if self.allow_symbolic else ""))
        return tuple(value)

    def json_schema(self):
        return {"type": "array", "items": {"anyOf": [{"type": "integer"}, _EXPR_SCHEMA]}}


class Optional(AttrType):
    def __init__(self, inner: AttrType):
        self.inner = inner
        self.label = f"{inner.label} or none"

    def coerce(self, value, ndim):
        return None if value is None else self.inner.coerce(value, ndim)

    def json_schema(self):
        return {"anyOf": [{"type": "null"}, self.inner.json_schema()]}


@dataclass(frozen=True)
class Attr:
    name: str
    type: AttrType
    default: Any = REQUIRED
    doc: str = ""

    @property
    def required(self) -> bool:
        return self.default is REQUIRED


class Attrs(dict):
    """Bound attribute values of one layer, readable as `a.kernel` (so no attribute may be named
    like a dict method: values, items, keys, …)."""

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


# ----------------------------------------------------------------------------- receptive field


@dataclass(frozen=True, slots=True)
class Window:
    """How a spatial op moves the receptive field, per spatial axis: an output position sees
    `kernel` (dilation included) input positions, `stride` apart. Transposed ops shrink the jump:
    `transposed=True` and `stride` is the upsampling factor. `global_=True`: the output sees the
    whole input."""
    kernel: tuple[int, ...] = ()
    stride: tuple[int, ...] = ()
    transposed: bool = False
    global_: bool = False


_UNIT_WINDOWS: dict[int, Window] = {}  # Op.window's default, by spatial rank


# ----------------------------------------------------------------------------- the op


VARIADIC = -1  # two or more inputs


class Syntax(enum.Enum):
    """Expression syntax that makes a layer without naming its op."""
    TENSOR_ADD = "tensor + tensor"
    TENSOR_SUBTRACT = "tensor - tensor"
    TENSOR_MULTIPLY = "tensor * tensor"
    AFFINE = "tensor * number, tensor / number, tensor + number, tensor - number"
    INDEX = "tensor[index], and each piece of chunk/split"


@dataclass(frozen=True)
class Lint:
    """A warning an op's `diagnose` gives: message, hint and its catalogue code."""
    message: str
    hint: str
    code: str


# One option, two spellings: PyTorch says `dim` (softmax, cat), archc `axis` (concat, chunk,
# reductions). An op documents its own and accepts the other.
ATTRIBUTE_SYNONYMS = {"dim": "axis", "axis": "dim"}
# PyTorch's names for attributes archc names otherwise: named in the error, with the fix
TORCH_ATTRIBUTE_NAMES = {"kernel_size": "kernel", "out_channels": "out", "out_features": "out",
                         "scale_factor": "scale", "num_groups": "groups", "keepdims": "keepdim",
                         "normalized_shape": "axes"}


class Op:
    """One operation. Subclasses set the class attributes and implement the methods; an op is
    instantiated once per variant (e.g. `Conv(ndim=2)` is `conv2d`)."""

    name: str
    aliases: tuple[str, ...] = ()
    title: str  # the Type column in summaries, e.g. "Conv2d"
    family: str  # conv, pool, norm, activation, linear, merge, shape, regularization, resample, input
    doc: str = ""
    attrs: tuple[Attr, ...] = ()
    inputs: int = 1  # tensor inputs; VARIADIC for two or more; 0 for a tensor the spec declares
    # ops that cut one tensor into several (chunk, split) set this and define `pieces`: each
    # piece becomes its own `slice` node, so every IR node keeps one output
    pieces_op: bool = False
    ndim: int = 0  # spatial rank for 1d/2d/3d variants; 0 when rank-agnostic
    shape_rule: str = "output shape = input shape"
    param_rule: str = "none"
    macs_rule: str = "0"
    # In-place layers, as torchvision writes them (`nn.ReLU(inplace=True)`, `out += identity`:
    # no second tensor, a few percent faster). `in_place`: the op can overwrite its first input
    # (its lowering then has an `in_place` variant). `output_overwritable`: the op's backward
    # does not read its output, so the layer after it may overwrite that output (convolutions,
    # linear, normalisations, add and concat, max/avg pooling; not e.g. sigmoid, whose gradient
    # is computed from its output). The generator uses both (codegen.in_place_layers).
    in_place: bool = False
    output_overwritable: bool = False

    # ---- traits: what other stages ask of an op instead of its name
    # the output's axes are no longer the inputs' [N, C, spatial…] (flatten, reshape, permute, a
    # declared tensor): the layout warnings stop looking past it
    changes_layout: bool = False
    # the parameter tensors `init=` and `bias_init=` initialise (keys of `parameters`); an op
    # without them refuses both options
    init_weight: str | None = None
    init_bias: str | None = None
    # sums its inputs: the diagram draws the shortest branch into it as a residual shortcut
    residual_merge: bool = False
    # combines its inputs' receptive fields (the widest wins), also where an input has no
    # spatial axes (a squeeze-and-excitation gate)
    merges_fields: bool = False
    # the expression syntax the elaborator lowers to this op (`a + b`, `x * 0.5`, `x[:, :c]`)
    syntax: tuple["Syntax", ...] = ()
    # the built-in function on numbers this op is on tensors (`abs`: absolute), named in the
    # error for `x -> abs`
    tensor_form_of: str | None = None
    # how many leading attributes may be given by position (None: all). Options that do not
    # define the layer are keyword-only, so PyTorch's argument order cannot silently set them
    # (`batchnorm2d(16)` would be eps=16)
    positional: int | None = None
    # the argument PyTorch's module takes first and archc infers from the input
    # (`in_channels`): a call in PyTorch's order is recognised by it
    inferred_leading: str | None = None

    # ---- training traits (archc.analysis.training): what autograd keeps, how autocast runs it
    autocast: Autocast = Autocast.FOLLOW

    def saved_for_backward(self, a: Attrs, inputs: Sequence[Shape], out: Shape,
                           ctx: SaveContext) -> tuple[Saved, ...]:
        """The tensors autograd keeps for this op's backward, when some input or weight requires
        grad (otherwise nothing: no graph is recorded). The default, for elementwise ops, is
        the inputs that the gradient of another input needs, or each input itself."""
        return tuple(Saved("input", index=i) for i in range(len(inputs)))

    def output_aliases_input(self, a: Attrs, inputs: Sequence[Shape], ctx: SaveContext) -> bool:
        """Whether the output is a view of the first input's storage (flatten, permute, a
        slice): no new memory. In-place layers are handled by the caller (`ctx.in_place`)."""
        return False

    def output_storage_shape(self, a: Attrs, inputs: Sequence[Shape], out: Shape) -> Shape:
        """The shape of the storage the output lives in: the output's, unless the lowering
        cuts the output from a larger result (a view keeps the whole result alive)."""
        return out

    def output_contiguous(self, a: Attrs, inputs: Sequence[Shape], out: Shape, ctx: SaveContext) -> bool:
        """Whether the output is laid out contiguously (a permuted view is not)."""
        return True

    def backward_macs(self, a: Attrs, inputs: Sequence[Shape], out: Shape, ctx: SaveContext) -> Dim:
        """Multiply-accumulates of the backward pass (gradients of the inputs that require grad
        and of the weights). The default: as many as forward, for an elementwise op."""
        return self.macs(a, inputs, out) if any(ctx.grads) or ctx.trainable else 0

    @property
    def family_info(self) -> Family:
        return FAMILIES[self.family]

    def diagnose(self, a: Attrs, inputs: Sequence[Shape], given: Collection[str],
                 channels_first: Callable[[], bool]) -> list[Lint]:
        """Warnings for a valid but suspicious use (a linear layer on a feature map). `given`:
        the attribute names the spec wrote; `channels_first()`: whether the first input still
        has the model inputs' [N, C, spatial…] layout (a walk back through the graph: ask last)."""
        return []

    # ---- what every op must state
    def output_shape(self, a: Attrs, inputs: Sequence[Shape], ctx: ShapeContext) -> Shape:
        raise NotImplementedError

    def macs(self, a: Attrs, inputs: Sequence[Shape], out: Shape) -> Dim:
        """Multiply-accumulates for the whole tensor (batch included). Not FLOPs."""
        raise NotImplementedError

    # ---- what most ops leave at the default
    def parameters(self, a: Attrs, inputs: Sequence[Shape]) -> dict[str, Shape]:
        """Learnable tensors by PyTorch state_dict name, with their shapes."""
        return {}

    def buffers(self, a: Attrs, inputs: Sequence[Shape]) -> dict[str, Shape]:
        """Non-learnable state (running statistics), by state_dict name."""
        return {}

    def buffer_dtype(self, name: str) -> str:
        """The dtype of the buffer `name` (of `buffers`): float32 unless the op says otherwise
        (batch norm's `num_batches_tracked` is an int64 count)."""
        return "float32"

    def window(self, a: Attrs, inputs: Sequence[Shape]) -> Window | None:
        """Receptive-field contribution; None for non-spatial ops (the field is reset).
        The default, for elementwise ops, keeps the field as it is."""
        ndim = self.ndim_of(inputs)  # (one Window per rank: they are frozen, and asked of every layer)
        return _UNIT_WINDOWS.get(ndim) or _UNIT_WINDOWS.setdefault(ndim, Window((1,) * ndim, (1,) * ndim))

    def label(self, a: Attrs) -> str:
        """Key attributes in a few characters, for summaries and diagrams ("64, 3×3, s2")."""
        return ""

    def lower(self, a: Attrs, inputs: Sequence[Shape], out: Shape) -> Lowered:
        """The PyTorch lowering of one node (see `Lowered`), given its bound attributes, input
        shapes and output shape. Every op states it: there is no default."""
        raise NotImplementedError(f"{self.name} has no PyTorch lowering")

    # ---- helpers shared by the subclasses
    @staticmethod
    def ndim_of(inputs: Sequence[Shape]) -> int:
        return max(0, len(inputs[0]) - 2) if inputs else 0

    def check_rank(self, shape: Shape, rank: int | Sequence[int], what: str = "input") -> None:
        ranks = (rank,) if isinstance(rank, int) else tuple(rank)
        if len(shape) not in ranks:
            want = " or ".join(str(r) for r in ranks)
            layout = {3: "[N, C, L]", 4: "[N, C, H, W]", 5: "[N, C, D, H, W]", 2: "[N, features]"}
            hint = ("layout is channels-first: " + ", ".join(layout[r] for r in ranks if r in layout)
                    if any(r in layout for r in ranks) else None)
            raise ShapeError(f"{what} has rank {len(shape)} ({fmt_shape(shape)}), expected rank {want}", hint,
                             code="E-SHAPE-RANK")

    def attribute_for(self, key: str) -> str | None:
        """The attribute a keyword sets: its own name, or its synonym (`dim` for `axis`)."""
        names = [at.name for at in self.attrs]
        if key in names:
            return key
        other = ATTRIBUTE_SYNONYMS.get(key)
        return other if other in names else None

    def torch_spelling(self, key: str) -> str | None:
        """The attribute PyTorch's name `key` is in archc (`scale_factor`: scale), if the op has it."""
        name = TORCH_ATTRIBUTE_NAMES.get(key)
        return name if name is not None and any(at.name == name for at in self.attrs) else None

    def bind(self, args: Sequence[Any], kwargs: dict[str, Any], ndim: int) -> Attrs:
        """Match positional and keyword attribute values to `attrs`, check and default them.
        Raises AttrError (the elaborator adds the location)."""
        plan = _BIND_PLANS.get((self, ndim)) or _BIND_PLANS.setdefault((self, ndim), self._bind_plan(ndim))
        names, _, defaults, coercers, _ = plan
        positional = names[:len(args)]
        if len(positional) == len(args) and _from_defaults(plan, positional, kwargs):
            bound = Attrs(defaults)  # (in the attributes' order; every default there already)
            try:  # (each value coerced by its attribute's type, the calls made by map: asked of every layer)
                if args:
                    bound.update(zip(positional, map(_call, map(coercers.__getitem__, positional), args,
                                                     repeat(ndim))))
                if kwargs:
                    bound.update(zip(kwargs, map(_call, map(coercers.__getitem__, kwargs), kwargs.values(),
                                                 repeat(ndim))))
                return bound
            except AttrError:
                pass  # the checks below report every refused attribute
        from archc.errors import did_you_mean
        if len(args) > len(self.attrs):
            raise AttrError(f"{self.name} takes at most {len(self.attrs)} positional attribute"
                            f"{'s' if len(self.attrs) != 1 else ''} ({', '.join(names) or 'none'}), "
                            f"got {len(args)}",
                            f"{self.name} takes no attributes: remove the arguments" if not names else
                            f"attributes go in the order {', '.join(names)}; look for a value too "
                            f"many, or give the later ones by keyword ({names[-1]}=...)",
                            code="E-CALL-ARGUMENT-COUNT")
        given: dict[str, Any] = dict(zip(names, args))
        for key, value in kwargs.items():
            if key not in names:
                raise AttrError(f"{self.name} has no attribute '{key}'",
                                did_you_mean(key, names) or
                                f"its attributes are: {', '.join(names) or 'none'}",
                                code="E-CALL-UNKNOWN-KEYWORD")
            if key in given:
                raise AttrError(f"{self.name}: attribute '{key}' given twice",
                                f"'{key}' is positional attribute {names.index(key) + 1} "
                                f"({', '.join(names[:names.index(key) + 1])}); give it by position or "
                                f"by keyword, not both", code="E-CALL-ARGUMENT-TWICE")
            given[key] = value
        bound = Attrs()  # (a call that lacks an attribute or gives a refused one; or an op like no other)
        refused: list[AttrError] = []
        for at in self.attrs:
            if at.name in given:
                try:
                    bound[at.name] = at.type.coerce(given[at.name], ndim)
                except AttrError as e:  # every refused attribute of the call, not the first only
                    refused.append(AttrError(f"{self.name} attribute '{at.name}': {e.message}", e.hint,
                                             code=e.code, unknown_name=e.unknown_name))
            elif at.required:
                raise AttrError(f"{self.name} needs attribute '{at.name}' ({at.doc or at.type.label})",
                                f"e.g. {self.name}({', '.join(a.name for a in self.attrs if a.required)})",
                                code="E-CALL-MISSING-ARGUMENT")
            else:
                default = at.default
                bound[at.name] = at.type.coerce(default, ndim) if default is not None else None
        if refused:
            refused[0].also = refused[1:]
            raise refused[0]
        return bound

    def rebinder(self, positional: int, keywords: Sequence[str], ndim: int) -> list[tuple[str, Any]] | None:
        """For calls that give `positional` values and `keywords`: each given attribute's name and
        coerce, in the call's order, where `bind` fills the others from constant defaults (its fast
        path); None otherwise. Binding another such call is then a copy of this one's attributes
        with its given values coerced again (a pattern's layer whose numbers differ)."""
        plan = _BIND_PLANS.get((self, ndim)) or _BIND_PLANS.setdefault((self, ndim), self._bind_plan(ndim))
        names, coercers = plan[0], plan[3]
        given = names[:positional]
        if len(given) != positional or not _from_defaults(plan, given, keywords):
            return None
        return [(name, coercers[name]) for name in (*given, *keywords)]

    def _bind_plan(self, ndim: int) -> tuple:
        """What `bind` starts from at this spatial rank: the attribute names (in order, and as a
        set), the defaults (`_defaults`), each attribute's coerce, the required names."""
        names = [at.name for at in self.attrs]
        return (names, frozenset(names), self._defaults(ndim), {at.name: at.type.coerce for at in self.attrs},
                frozenset(at.name for at in self.attrs if at.required))

    def _defaults(self, ndim: int) -> dict[str, Any] | None:
        """Every attribute's default coerced at this spatial rank (a required one's place held); None
        when a default is refused or can change (then each call coerces it)."""
        defaults: dict[str, Any] = {}
        for at in self.attrs:
            if at.default is None or at.default is REQUIRED:
                defaults[at.name] = at.default
                continue
            try:
                value = at.type.coerce(at.default, ndim)
            except AttrError:
                return None
            if not _constant(value):
                return None
            defaults[at.name] = value
        return defaults


_BIND_PLANS: dict[tuple["Op", int], Any] = {}  # (op, spatial rank) -> Op._bind_plan
try:
    from operator import call as _call  # (Python 3.11: f(*args) without a Python frame)
except ImportError:  # Python 3.10
    def _call(f: Callable[..., Any], *args: Any) -> Any:
        return f(*args)


def _from_defaults(plan: tuple, given: list[str], keywords: Collection[str]) -> bool:
    """Whether `bind` (with its `plan`) fills every attribute a call does not give from constant
    defaults, for a call giving the attributes `given` by position and `keywords`: every required
    attribute given, each keyword an attribute not given by position (bind's fast path)."""
    _, known, defaults, _, required = plan
    return defaults is not None and not required.difference(given, keywords) and (
        not keywords or known.issuperset(keywords) and set(given).isdisjoint(keywords))


def _constant(value: Any) -> bool:
    """A value no reader can change (shared by every layer that takes the default)."""
    if type(value) is tuple:
        return all(_constant(v) for v in value)
    return value is None or type(value) in (bool, int, float, str)


def fmt_shape(shape: Sequence[Dim]) -> str:
    return "[" + ", ".join([sy.to_str(d) for d in shape]) + "]"  # (a list: join makes one of a generator anyway)


def spatial_text(dims: Sequence[Dim]) -> str:
    """28×28, 3×3×3"""
    return "×".join(sy.to_str(d) for d in dims)


def numel(shape: Sequence[Dim]) -> Dim:
    return sy.prod(shape)


class OpRegistry:
    """Ops by name and alias. Built once, explicitly, from the op modules' `OPS` lists."""

    def __init__(self, ops: Sequence[Op]):
        self._by_name: dict[str, Op] = {}
        self.ops: list[Op] = list(ops)
        for op in ops:
            for key in (op.name, *op.aliases):
                if key in self._by_name:
                    raise ValueError(f"op name {key!r} defined twice")
                self._by_name[key] = op
        self._by_syntax: dict[Syntax, Op] = {}
        for op in ops:
            for syntax in op.syntax:
                if syntax in self._by_syntax:
                    raise ValueError(f"{syntax} made by two ops")
                self._by_syntax[syntax] = op

    def get(self, name: str) -> Op | None:
        return self._by_name.get(name)

    def for_syntax(self, syntax: Syntax) -> Op:
        """The op an expression form makes (exactly one op declares each)."""
        return self._by_syntax[syntax]

    def names(self) -> list[str]:
        return sorted(self._by_name)

    def tensor_form_of(self, builtin: str) -> Op | None:
        """The op that does on tensors what the built-in function `builtin` does on numbers."""
        return next((op for op in self.ops if op.tensor_form_of == builtin), None)

    def __contains__(self, name: str) -> bool:
        return name in self._by_name
