"""Elementwise activations, softmax and PReLU."""
from __future__ import annotations

from typing import Callable

from archc.ops.base import (Attr, Attrs, Autocast, BoolType, Choice, Float, Int, Lint, Lowered, Op, Saved, ShapeError,
                            fmt_shape, numel, py_call)
from archc.ops.common import concrete

_SHAPE = "output shape = input shape (any rank)"
_MACS0 = "0 (elementwise functions are not multiply-accumulates)"


class Activation(Op):
    """A parameter-free elementwise function; one instance per function."""
    family = "activation"
    shape_rule = _SHAPE
    macs_rule = _MACS0

    def __init__(self, name: str, title: str, doc: str, attrs: tuple[Attr, ...] = (),
                 aliases: tuple[str, ...] = (), label: Callable[[Attrs], str] | None = None,
                 check: Callable[[Attrs], None] | None = None, in_place: bool = False,
                 saves: str = "input", autocast: Autocast = Autocast.FOLLOW):
        self.name, self.title, self.doc, self.attrs, self.aliases = name, title, doc, attrs, aliases
        # what its backward reads (derivatives.yaml): "output" (relu, sigmoid, tanh), "input",
        # or "input or result" (leaky_relu, elu, selu: in place, a formula from the result);
        # an in-place op whose backward reads its input keeps a copy of it (autograd's clone)
        self.saves = saves
        self.autocast = autocast
        self._label, self._check = label, check
        self.in_place = in_place  # torch's module takes inplace=True

    def output_shape(self, a, inputs, ctx):
        if self._check:
            self._check(a)
        return tuple(inputs[0])

    def macs(self, a, inputs, out):
        return 0

    def label(self, a):
        return self._label(a) if self._label else ""

    def saved_for_backward(self, a, inputs, out, ctx):
        if self.saves == "output" or (ctx.in_place and self.saves == "input or result"):
            return (Saved("output"),)
        if ctx.in_place:
            return (Saved("new", inputs[0], what="input copy (in place)"),)
        return (Saved("input"),)

    def lower(self, a, inputs, out):
        # the title is the torch.nn class and the attributes are its keyword arguments
        defaults = tuple((at.name, at.default) for at in self.attrs)
        in_place = Lowered(py_call(f"nn.{self.title}", **a, inplace=True), "{m}({0})", (), defaults) \
            if self.in_place else None
        return Lowered(py_call(f"nn.{self.title}", **a), "{m}({0})", (), defaults, in_place=in_place)


class Absolute(Activation):
    """|x|, which torch has as a function, not a module (`abs(...)` is the spec's function on
    numbers)."""
    tensor_form_of = "abs"

    def __init__(self):
        super().__init__("absolute", "Abs", "|x|, elementwise (torch.abs): the L1 distance of a siamese "
                         "network's two embeddings is `(a - b) -> absolute`.")

    def lower(self, a, inputs, out):
        return Lowered(None, "torch.abs({0})")


def _check_hardtanh(a: Attrs) -> None:
    if a.min_val >= a.max_val:
        raise ShapeError(f"min_val {a.min_val:g} must be less than max_val {a.max_val:g}",
                         "min_val is the lower bound and max_val the upper: swap them",
                         code="E-ATTR-CONFLICT")


class Softmax(Op):
    """softmax / log_softmax along one axis."""
    family = "activation"
    macs_rule = "0 (exponentials and a division per element; not multiply-accumulates)"

    def __init__(self, log: bool):
        self.log = log
        self.name = "log_softmax" if log else "softmax"
        self.title = "LogSoftmax" if log else "Softmax"
        self.doc = ("log(softmax(x)) along `dim`, computed stably (torch.nn.LogSoftmax)." if log else
                    "exp(x) / sum(exp(x)) along `dim` (torch.nn.Softmax): the values along that "
                    "axis become probabilities.")
        self.shape_rule = _SHAPE + "; dim must be an axis of the input"
        self.attrs = (Attr("dim", Int(), 1, "the axis to normalise over (1 = channels / classes; "
                           "negative counts from the end)"),)

    def output_shape(self, a, inputs, ctx):
        x = inputs[0]
        r = len(x)
        if not -r <= a.dim < r:
            raise ShapeError(f"dim {a.dim} is out of range for a rank-{r} input (valid: {-r} to {r - 1})",
                             "dim=1 is the channels, dim=-1 the last axis", code="E-SHAPE-AXIS")
        return tuple(x)

    def macs(self, a, inputs, out):
        return 0

    def label(self, a):
        return "" if a["dim"] == 1 else f"dim={a['dim']}"

    autocast = Autocast.FLOAT32  # softmax and log_softmax are on autocast's float32 list

    def saved_for_backward(self, a, inputs, out, ctx):
        return (Saved("output"),)

    def lower(self, a, inputs, out):
        return Lowered(py_call(f"nn.{self.title}", dim=a.dim), "{m}({0})")

    def diagnose(self, a, inputs, given, channels_first):
        x = inputs[0]
        if len(x) < 3 or a.dim % len(x) < 2 or not channels_first():
            return []
        return [Lint(f"{self.name} over axis {a.dim} of {fmt_shape(x)}, a spatial axis: it "
                     "normalises over positions, not over the channels (classes) at each position",
                     "normalise over the channels (classes) with dim=1 (the default); for a "
                     "distribution over positions, flatten the spatial axes first "
                     "(`-> flatten(start_dim=2) -> softmax(dim=-1)`)", code="W-SHAPE-SOFTMAX-SPATIAL")]


class PReLU(Op):
    name = "prelu"
    title = "PReLU"
    family = "activation"
    positional, inferred_leading = 0, "num_parameters"  # prelu(per_channel=true)
    doc = ("Leaky ReLU with a learned negative slope (torch.nn.PReLU): max(x, 0) + weight·min(x, 0); "
           "one slope shared by all channels, or one per channel.")
    attrs = (Attr("per_channel", BoolType(), False, "learn one slope per channel (axis 1) instead "
                  "of one in all"),)
    shape_rule = _SHAPE
    param_rule = "weight [1], or [C] when per_channel=true"
    macs_rule = "numel(output) (one multiply per element)"

    def output_shape(self, a, inputs, ctx):
        x = inputs[0]
        if a.per_channel:
            if len(x) < 2:
                raise ShapeError(f"per_channel needs a channel axis, the input has rank {len(x)}",
                                 "use per_channel=false (one slope shared by all values)",
                                 code="E-SHAPE-RANK")
            concrete(x[1], "channels", self.name)
        return tuple(x)

    def parameters(self, a, inputs):
        if a["per_channel"]:
            return {"weight": (concrete(inputs[0][1], "channels", self.name),)}
        return {"weight": (1,)}

    def macs(self, a, inputs, out):
        return numel(out)

    def label(self, a):
        return "per-channel" if a["per_channel"] else ""

    autocast = Autocast.LOWER  # prelu is on autocast's lower-precision list

    def saved_for_backward(self, a, inputs, out, ctx):
        return (Saved("input"), Saved("weight", what="weight"))

    def lower(self, a, inputs, out):
        n = concrete(inputs[0][1], "channels", self.name) if a.per_channel else 1
        return Lowered(py_call("nn.PReLU", num_parameters=n), "{m}({0})", (), (("num_parameters", 1),))


OPS = [
    Activation("relu", "ReLU", "max(x, 0).", in_place=True, saves="output"),
    Activation("relu6", "ReLU6", "min(max(x, 0), 6), as in MobileNet.", in_place=True),
    Activation("leaky_relu", "LeakyReLU", "x for x ≥ 0, negative_slope·x otherwise.",
               (Attr("negative_slope", Float(), 0.01, "slope for negative inputs"),),
               label=lambda a: f"{a.negative_slope:g}", in_place=True, saves="input or result"),
    Activation("elu", "ELU", "x for x > 0, alpha·(exp(x) - 1) otherwise.",
               (Attr("alpha", Float(), 1.0, "saturation value for negative inputs is -alpha"),),
               label=lambda a: "" if a.alpha == 1.0 else f"α={a.alpha:g}", in_place=True, saves="input or result"),
    Activation("selu", "SELU", "scale·elu(x, alpha) with the self-normalising constants "
               "alpha ≈ 1.6733, scale ≈ 1.0507.", in_place=True, saves="input or result"),
    Activation("gelu", "GELU", "x·Φ(x), Φ the standard normal CDF; approximate=tanh uses the tanh "
               "approximation.",
               (Attr("approximate", Choice("none", "tanh"), "none", "none (exact, with erf) or tanh"),),
               label=lambda a: "" if a.approximate == "none" else a.approximate),
    Activation("silu", "SiLU", "x·sigmoid(x), also called swish.", aliases=("swish",), in_place=True),
    Activation("mish", "Mish", "x·tanh(softplus(x)).", in_place=True),
    Activation("sigmoid", "Sigmoid", "1 / (1 + exp(-x)).", saves="output"),
    Activation("hardsigmoid", "Hardsigmoid", "min(max(x/6 + 1/2, 0), 1), a piecewise-linear sigmoid.",
               in_place=True),
    Activation("tanh", "Tanh", "tanh(x).", saves="output"),
    Activation("hardtanh", "Hardtanh", "x clamped to [min_val, max_val].",
               (Attr("min_val", Float(finite=False), -1.0, "lower bound (may be -inf)"),
                Attr("max_val", Float(finite=False), 1.0, "upper bound; must exceed min_val")),
               label=lambda a: "" if (a.min_val, a.max_val) == (-1.0, 1.0) else f"[{a.min_val:g}, {a.max_val:g}]",
               check=_check_hardtanh, in_place=True),
    Activation("hardswish", "Hardswish", "x·hardsigmoid(x), as in MobileNetV3.", in_place=True),
    Activation("softplus", "Softplus", "log(1 + exp(beta·x)) / beta; x itself where beta·x > threshold.",
               (Attr("beta", Float(), 1.0, "sharpness"),
                Attr("threshold", Float(finite=False), 20.0, "above beta·x > threshold the function is linear")),
               label=lambda a: "" if a.beta == 1.0 else f"β={a.beta:g}", autocast=Autocast.FLOAT32),
    Absolute(),
    Softmax(log=False),
    Softmax(log=True),
    PReLU(),
]
