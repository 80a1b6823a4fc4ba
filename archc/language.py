"""The spec language's surface, declared once: the options every layer call takes, the weight
initialisers, the built-in functions, the special forms, the tensor attributes and the keywords.

The elaborator checks calls against these tables, the JSON Schema, the language server's
completion and hover, and the docs read their names and texts from here, so adding an option or a
built-in is one entry. (Ops are the other half of the surface: `archc.ops`.)
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable

from archc import symbolic as sy
from archc.ops.base import Word


# ----------------------------------------------------------------------------- layer options

@dataclass(frozen=True)
class LayerOption:
    """A keyword every layer, block, repeat and sequential call accepts besides its own."""
    name: str
    type: str  # as the docs and the schema describe it
    doc: str  # one line, Markdown
    blocks_only: bool = False  # offered only on a block, repeat or sequential call


# ----------------------------------------------------------------------------- initialisers

@dataclass(frozen=True)
class Initializer:
    """A value of `init=` / `bias_init=`: its torch.nn.init call for a weight of two or more
    dimensions and for a bias (`{t}` is the tensor; None: torch's own initialisation, or no form
    for that tensor). Fan-based initialisers on a bias use the bias's length as both fans, as
    Keras does for 1-d tensors; `normal`/`uniform` are Keras' RandomNormal/RandomUniform (0.05)."""
    name: str
    weight: str | None
    bias: str | None
    doc: str

    @property
    def matrix_only(self) -> bool:
        """torch's orthogonal_ needs two dimensions: a weight, never a bias."""
        return self.bias is None and self.weight is not None


_HE_STD = "(2 / {t}.numel()) ** 0.5"
_GLOROT_STD = "(1 / {t}.numel()) ** 0.5"

INITIALIZER_LIST: tuple[Initializer, ...] = (
    Initializer("default", None, None, "PyTorch's own initialisation of the layer"),
    Initializer("he_normal", 'nn.init.kaiming_normal_({t}, mode="fan_in", nonlinearity="relu")',
                f"nn.init.normal_({{t}}, std={_HE_STD})", "He et al.: normal, std √(2 / fan_in)"),
    Initializer("he_uniform", 'nn.init.kaiming_uniform_({t}, mode="fan_in", nonlinearity="relu")',
                "nn.init.uniform_({t}, -((6 / {t}.numel()) ** 0.5), (6 / {t}.numel()) ** 0.5)",
                "He et al.: uniform, bound √(6 / fan_in)"),
    Initializer("glorot_normal", "nn.init.xavier_normal_({t})", f"nn.init.normal_({{t}}, std={_GLOROT_STD})",
                "Glorot & Bengio: normal, std √(2 / (fan_in + fan_out))"),
    Initializer("glorot_uniform", "nn.init.xavier_uniform_({t})",
                "nn.init.uniform_({t}, -((3 / {t}.numel()) ** 0.5), (3 / {t}.numel()) ** 0.5)",
                "Glorot & Bengio: uniform, bound √(6 / (fan_in + fan_out)) (Keras' default)"),
    Initializer("xavier_normal", "nn.init.xavier_normal_({t})", f"nn.init.normal_({{t}}, std={_GLOROT_STD})",
                "another name of glorot_normal"),
    Initializer("xavier_uniform", "nn.init.xavier_uniform_({t})",
                "nn.init.uniform_({t}, -((3 / {t}.numel()) ** 0.5), (3 / {t}.numel()) ** 0.5)",
                "another name of glorot_uniform"),
    Initializer("lecun_normal", 'nn.init.kaiming_normal_({t}, mode="fan_in", nonlinearity="linear")',
                f"nn.init.normal_({{t}}, std={_GLOROT_STD})", "LeCun: normal, std √(1 / fan_in)"),
    Initializer("normal", "nn.init.normal_({t}, std=0.05)", "nn.init.normal_({t}, std=0.05)",
                "normal, std 0.05 (Keras' RandomNormal)"),
    Initializer("uniform", "nn.init.uniform_({t}, -0.05, 0.05)", "nn.init.uniform_({t}, -0.05, 0.05)",
                "uniform in [-0.05, 0.05] (Keras' RandomUniform)"),
    Initializer("zeros", "nn.init.zeros_({t})", "nn.init.zeros_({t})", "all zeros"),
    Initializer("ones", "nn.init.ones_({t})", "nn.init.ones_({t})", "all ones"),
    Initializer("orthogonal", "nn.init.orthogonal_({t})", None, "a (semi-)orthogonal matrix; weights only"),
)
INITIALIZERS: dict[str, Initializer] = {i.name: i for i in INITIALIZER_LIST}

LAYER_OPTION_LIST: tuple[LayerOption, ...] = (
    LayerOption("name", "name or string",
                "the module name (the state_dict prefix: `conv1.weight`); unique within its block"),
    LayerOption("frozen", "bool",
                "`true`: its parameters are not trained (on a block, repeat or sequential: everything inside)"),
    LayerOption("init", "initializer", "weight initializer: " + ", ".join(INITIALIZERS)),
    LayerOption("bias_init", "initializer", "bias initializer (as `init`)"),
    LayerOption("inline", "bool", "`true`: no submodule; the block's layers are named in the caller "
                "(repeat: a loop at the caller's level; sequential: its children numbered 0, 1, … in the "
                "caller, so a block that is one sequential becomes an nn.Sequential)", blocks_only=True),
)
LAYER_OPTIONS: dict[str, LayerOption] = {o.name: o for o in LAYER_OPTION_LIST}

# options of `repeat` alone (besides the layer options)
REPEAT_OPTIONS: dict[str, str] = {
    "input_as": "a name for each copy's own input while the copy's arguments are evaluated: "
                "`repeat(4, conv2d(t.channels, 3, groups=t.channels), input_as=t)`",
}


# ----------------------------------------------------------------------------- built-in functions

class ArgumentTypeError(TypeError):
    """A built-in function refused an argument. `message` has one `{}` for the value, which the
    elaborator describes (it knows tensors and layers); str() gives a plain rendering."""

    def __init__(self, message: str, value: Any):
        super().__init__(message.format(repr(value)))
        self.message = message
        self.value = value


def make_divisible(v: float, divisor: int = 8, min_value: int | None = None) -> int:
    """MobileNet's rounding of a channel count to a multiple of `divisor`, never down by more
    than 10% (torchvision's _make_divisible)."""
    min_value = divisor if min_value is None else min_value
    new_v = max(min_value, int(v + divisor / 2) // divisor * divisor)
    if new_v < 0.9 * v:
        new_v += divisor
    return new_v


def _to_str(value: Any) -> str:
    """`str(i + 1)`: ints and strings (for computed layer names such as "denselayer" + str(i))."""
    if isinstance(value, bool) or not isinstance(value, (int, str)) or isinstance(value, Word):
        raise ArgumentTypeError("str() takes an int or a string, got {}", value)
    return str(value)


def _length(value: Any) -> int:
    if isinstance(value, Word) or not isinstance(value, (list, tuple, str)):
        raise ArgumentTypeError("len() takes a list or a string, got {}", value)
    return len(value)


def _sum(values: Any) -> Any:
    if isinstance(values, Word) or not isinstance(values, (list, tuple)):
        raise ArgumentTypeError("sum() takes a list of numbers, got {}", values)
    total: Any = 0
    for v in values:
        if isinstance(v, bool) or not isinstance(v, (int, float, sy.Expr)):
            raise ArgumentTypeError("sum() takes a list of numbers; it holds {}", v)
        total = sy.add(total, v) if isinstance(v, sy.Expr) or isinstance(total, sy.Expr) else total + v
    return total


MAX_RANGE = 1_000_000  # a spec is data: no list may exhaust memory


class TooLong(ValueError):
    """A list past MAX_RANGE items."""


def _range(*args: Any) -> list[int]:
    if not 1 <= len(args) <= 3 or any(isinstance(a, bool) or not isinstance(a, int) for a in args):
        raise TypeError("range() takes one to three ints: range(stop), range(start, stop[, step])")
    r = range(*args)
    if len(r) > MAX_RANGE:
        raise TooLong(f"range of {len(r):,} items is larger than {MAX_RANGE:,}")
    return list(r)


@dataclass(frozen=True)
class Builtin:
    """A built-in function. `python`: how generated code spells it (it must exist there: a
    Python built-in, `math.*`, or a helper the generated file defines). `on_values`: it takes
    other values than numbers and checks its own arguments."""
    name: str
    signature: str
    doc: str
    function: Callable[..., Any]
    python: str
    on_values: bool = False


BUILTIN_LIST: tuple[Builtin, ...] = (
    Builtin("min", "min(a, b, ...)", "the smallest argument", min, "min"),
    Builtin("max", "max(a, b, ...)", "the largest argument", max, "max"),
    Builtin("abs", "abs(x)", "the absolute value", abs, "abs"),
    Builtin("int", "int(x)", "x rounded toward zero, as Python's int()", int, "int"),
    Builtin("float", "float(x)", "x as a float", float, "float"),
    Builtin("round", "round(x[, digits])", "x rounded half to even, as Python's round()", round, "round"),
    Builtin("floor", "floor(x)", "the largest int ≤ x", math.floor, "math.floor"),
    Builtin("ceil", "ceil(x)", "the smallest int ≥ x", math.ceil, "math.ceil"),
    Builtin("sqrt", "sqrt(x)", "the square root", math.sqrt, "math.sqrt"),
    Builtin("log", "log(x[, base])", "the logarithm (natural by default)", math.log, "math.log"),
    Builtin("make_divisible", "make_divisible(v, divisor=8, min_value=None)",
            "v rounded to a multiple of divisor, never down by more than 10% (MobileNet's channel rounding)",
            make_divisible, "_make_divisible"),
    Builtin("range", "range([start,] stop[, step])", "a list of ints, as Python's range()", _range, "range"),
    Builtin("str", "str(x)", "an int or string as a string (computed layer names)", _to_str, "str", on_values=True),
    Builtin("len", "len(x)", "the length of a list or string", _length, "len", on_values=True),
    Builtin("sum", "sum(xs)", "the sum of a list of numbers", _sum, "sum", on_values=True),
)
BUILTINS: dict[str, Builtin] = {b.name: b for b in BUILTIN_LIST}


# ----------------------------------------------------------------------------- special forms

@dataclass(frozen=True)
class SpecialForm:
    """A call the elaborator evaluates itself (its arguments are layers, not values)."""
    name: str
    signature: str
    doc: str
    # a block of this name is an error; False for forms added after specs could name blocks so
    # (such a block keeps its meaning, and the form is unavailable in that spec)
    reserved: bool = True


SPECIAL_FORM_LIST: tuple[SpecialForm, ...] = (
    SpecialForm("repeat", "repeat(n, layer, name=..., inline=false, input_as=t)",
                "n copies of a layer or block in a chain; `i` is the index"),
    SpecialForm("sequential", "sequential(layer, ...)", "a chain whose children are numbered (nn.Sequential)"),
    SpecialForm("shared", "shared(layer)",
                "one module applied several times (weight sharing): `tower = shared(Tower(64))`, then "
                "`a = x1 -> tower` and `b = x2 -> tower` call the same module", reserved=False),
)
SPECIAL_FORMS: dict[str, SpecialForm] = {f.name: f for f in SPECIAL_FORM_LIST}


# ----------------------------------------------------------------------------- tensor attributes

TENSOR_ATTRIBUTES: dict[str, str] = {
    "channels": "the channel count (axis 1)",
    "shape": "the whole shape, as a list",
    "rank": "the number of axes",
    "batch": "the batch size (axis 0)",
    "spatial": "the spatial sizes, as a list",
    "height": "the height (the second-last axis of an image)",
    "width": "the width (the last axis)",
    "depth": "the depth of a volume (axis 2 of a 5-d tensor)",
    "length": "the length of a sequence (the last axis of a 3-d tensor)",
}


# ----------------------------------------------------------------------------- keywords

# `unused f4 = f3 -> Stage(...)`: modules built but never run (a word only there, not reserved)
UNUSED_WORD = "unused"

# what a model's forward may be declared to return (`model FCN returns dict`, YAML `returns: dict`)
RETURN_KINDS: dict[str, str] = {
    "dict": "a dict {output name: tensor}, even with one output (torchvision's segmentation models)",
}

DSL_STATEMENT_KEYWORDS: dict[str, str] = {
    "model": "the model's name: `model ResNet18`; `model FCN returns dict`: forward returns a dict "
             "of its outputs even with one",
    "import": 'a block library: `import "blocks/resnet.arch"`',
    "param": "a model parameter with its default: `param num_classes = 1000`",
    "input": "a model input and its shape: `input x: [N, 3, H, W]`",
    "output": "a model output: `output logits = y`",
    "training output": "an output only training computes (auxiliary heads): `training output aux = a`",
    "block": "a block definition: `block Name(params)(inputs) { ... }`",
}
YAML_SPEC_KEYS: dict[str, str] = {
    "model": "the model's name",
    "returns": "dict: forward returns a dict of the outputs even with one",
    "imports": "block libraries",
    "params": "model parameters and their defaults",
    "inputs": "model inputs and their shapes",
    "blocks": "block definitions",
    "body": "the model's statements",
    "outputs": "model outputs",
    "training_outputs": "outputs only training computes",
}
