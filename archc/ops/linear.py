"""Fully connected layers and shape manipulation: linear, flatten, reshape, identity."""
from __future__ import annotations

from archc import symbolic as sy
from archc.ops.common import axis_index, moved_contiguous, weight_op_backward_macs
from archc.ops.base import (Autocast, Saved, Attr, BoolType, Dims, Int, Lint, Lowered, Op, ShapeError, Window, fmt_shape, helper, numel,
                            py_call)


class Linear(Op):
    output_overwritable = True  # its backward does not read its output
    name = "linear"
    aliases = ("dense",)
    title = "Linear"
    positional, inferred_leading = 1, "in_features"  # linear(out); bias= and axis= by keyword
    family = "linear"
    init_weight, init_bias = "weight", "bias"
    doc = ("Fully connected layer y = x·Wᵀ + b over the last axis, or over `axis` (torch.nn.Linear, "
           "Keras Dense); the other axes are kept.")
    attrs = (
        Attr("out", Int(1), doc="number of output features"),
        Attr("bias", BoolType(), True, "add a learnable bias per output feature"),
        Attr("axis", Int(), -1, "the axis of the features (default the last; 1 maps the channels of "
             "a channels-first tensor at every position, like a 1×1 convolution)"),
    )
    shape_rule = ("[N, …, in, …] → [N, …, out, …] on `axis`; the input has rank ≥ 2 and `in` must be "
                  "a concrete size")
    param_rule = "weight [out, in]; bias [out] when bias=true"
    macs_rule = "numel(output) × in"

    def _axis(self, a, x) -> int:
        if len(x) < 2:
            raise ShapeError(f"input has rank {len(x)} ({fmt_shape(x)}), expected rank ≥ 2 "
                             f"([N, features])", "give the input a feature axis, e.g. reshape([1]) "
                             "makes [N] into [N, 1]", code="E-SHAPE-RANK")
        i = axis_index(a.axis, len(x), "axis")
        if i == 0:
            raise ShapeError("axis 0 is the batch", "use axis=-1 (the last) or axis=1 (the channels)",
                             code="E-SHAPE-BATCH-AXIS")
        return i

    def _features(self, x, a=None) -> int:
        f = x[self._axis(a, x)] if a is not None else x[-1]
        if not sy.is_int(f):
            raise ShapeError(f"linear needs a concrete number of input features, got {sy.to_str(f)}",
                             "give the input a concrete size, or use global pooling before flatten",
                             code="E-SHAPE-NOT-CONCRETE")
        return f

    def output_shape(self, a, inputs, ctx):
        x = inputs[0]
        self._features(x, a)
        i = self._axis(a, x)
        return (*x[:i], a.out, *x[i + 1:])

    def parameters(self, a, inputs):
        f = self._features(inputs[0], a)
        p = {"weight": (a["out"], f)}
        if a["bias"]:
            p["bias"] = (a["out"],)
        return p

    def macs(self, a, inputs, out):
        return sy.mul(numel(out), self._features(inputs[0], a))

    def window(self, a, inputs):
        x = inputs[0]
        if len(x) > 2 and self._axis(a, x) == 1:  # channels at every position: a 1×1 window
            return Window((1,) * (len(x) - 2), (1,) * (len(x) - 2))
        return None

    def label(self, a):
        return str(a["out"]) + ("" if a["axis"] == -1 else f" on axis {a['axis']}")

    autocast = Autocast.LOWER

    def saved_for_backward(self, a, inputs, out, ctx):
        """addmm / mm keep the input for the weight's gradient and the weight for the input's.
        An input of rank > 2 is viewed as a matrix when it is contiguous (torch's linear), and
        copied when not: a permuted tensor, or the channels moved last (`axis=1`)."""
        x = inputs[0]
        i = self._axis(a, x)
        contiguous = ctx.contiguous[0] if ctx.contiguous else True
        if i != len(x) - 1:
            contiguous = contiguous and moved_contiguous(x, i)
        kept = ()
        if ctx.trainable:
            kept = (Saved("input"),) if contiguous or len(x) == 2 else \
                (Saved("new", (*x[:i], *x[i + 1:], x[i]), what="input as a matrix"),)
        return kept + ((Saved("weight", what="weight"),) if ctx.grads[0] else ())

    def backward_macs(self, a, inputs, out, ctx):
        return weight_op_backward_macs(self, a, inputs, out, ctx)

    def lower(self, a, inputs, out):
        x = inputs[0]
        i = self._axis(a, x)
        if i != len(x) - 1:  # over another axis: still one module, weight and bias as nn.Linear's
            module = py_call("AxisLinear", self._features(x, a), a.out, i, bias=a.bias)
            return Lowered(module, "{m}({0})", (_AXIS_LINEAR,), (("bias", True),))
        module = py_call("nn.Linear", self._features(x, a), a.out, bias=a.bias)
        return Lowered(module, "{m}({0})", (), (("bias", True),))

    def diagnose(self, a, inputs, given, channels_first):
        x = inputs[0]
        if len(x) < 4 or "axis" in given or not channels_first():
            return []
        return [Lint(f"linear is applied to the rank-{len(x)} tensor {fmt_shape(x)} without flatten: it "
                     f"maps the last axis ({sy.to_str(x[-1])}, a spatial size) at every other position",
                     "flatten first (`-> flatten -> linear(...)`) or pool globally; if the last "
                     "axis is meant, say so with axis=-1 (axis=1 maps the channels at every position)",
                     code="W-SHAPE-LINEAR-FEATURE-MAP")]


_AXIS_LINEAR = helper("AxisLinear", '''
class AxisLinear(nn.Linear):
    """A linear layer over one axis that is not the last (axis 1: the channels of an NCHW
    tensor at every position); weight and bias as nn.Linear's."""

    def __init__(self, in_features, out_features, axis, bias=True):
        super().__init__(in_features, out_features, bias=bias)
        self.axis = axis

    def forward(self, x):
        return super().forward(x.movedim(self.axis, -1)).movedim(-1, self.axis)
''')


class Flatten(Op):
    name = "flatten"
    changes_layout = True
    title = "Flatten"
    family = "shape"
    doc = "Merge the axes start_dim … end_dim into one (torch.nn.Flatten); by default all but the batch."
    attrs = (
        Attr("start_dim", Int(), 1, "first axis to merge (negative counts from the end)"),
        Attr("end_dim", Int(), -1, "last axis to merge, included (negative counts from the end)"),
    )
    shape_rule = ("[N, C, H, W] → [N, C*H*W] by default; in general the axes start_dim … end_dim are "
                  "replaced by their product")
    macs_rule = "0"

    def output_shape(self, a, inputs, ctx):
        x = inputs[0]
        r = len(x)
        s = axis_index(a.start_dim, r, "start_dim")
        e = axis_index(a.end_dim, r, "end_dim")
        if s > e:
            raise ShapeError(f"start_dim {a.start_dim} comes after end_dim {a.end_dim} on a "
                             f"rank-{r} input", f"flatten merges the axes start_dim … end_dim: give "
                             f"start_dim ≤ end_dim (here {s} > {e}; negative axes count from the end)",
                             code="E-ATTR-CONFLICT")
        return (*x[:s], sy.prod(x[s:e + 1]), *x[e + 1:])

    def macs(self, a, inputs, out):
        return 0

    def window(self, a, inputs):
        return None

    def label(self, a):
        return "" if (a["start_dim"], a["end_dim"]) == (1, -1) else f"{a['start_dim']}…{a['end_dim']}"

    def saved_for_backward(self, a, inputs, out, ctx):
        return ()  # a view's backward reshapes the gradient: it needs only sizes

    def output_aliases_input(self, a, inputs, ctx):
        return not ctx.contiguous or ctx.contiguous[0]  # a permuted input is copied

    def lower(self, a, inputs, out):
        # a function, as torchvision writes it: torch.flatten(x, 1)
        end = "" if a.end_dim == -1 else f", {a.end_dim}"
        return Lowered(None, f"torch.flatten({{0}}, {a.start_dim}{end})")


class Reshape(Op):
    name = "reshape"
    changes_layout = True
    aliases = ("view",)
    title = "Reshape"
    family = "shape"
    doc = ("Reshape each sample to `shape` (the batch axis is kept and not written); one entry may be "
           "-1, meaning whatever makes the element count match.")
    attrs = (Attr("shape", Dims(), doc="target shape without the batch axis, e.g. [16, 7, 7] or "
                  "[c, x.height * x.width]; one entry may be -1"),)
    shape_rule = ("[N, *rest] → [N, *shape]; prod(shape) must equal prod(rest); a -1 entry becomes "
                  "prod(rest) / prod(other entries), which must divide exactly")
    macs_rule = "0"

    def output_shape(self, a, inputs, ctx):
        x = inputs[0]
        if len(x) < 1:
            raise ShapeError("reshape needs an input with a batch axis", code="E-SHAPE-RANK")
        total = sy.prod(x[1:])
        target = list(a.shape)
        shown = f"[N, {', '.join(sy.to_str(v) for v in target)}]"
        if target.count(-1) > 1:
            raise ShapeError(f"shape {shown} has more than one -1", "at most one entry may be -1: "
                             "write the other sizes out", code="E-SHAPE-RESHAPE")
        if any(sy.is_int(v) and (v == 0 or v < -1) for v in target):
            raise ShapeError(f"shape {shown} has an entry that is neither -1 nor ≥ 1",
                             "every size is ≥ 1, or -1 for the one to infer (the batch axis is not "
                             "written)", code="E-ATTR-RANGE")
        known = sy.prod([v for v in target if not (sy.is_int(v) and v == -1)])
        if -1 in target:
            if sy.is_int(total) and sy.is_int(known):
                if total % known:
                    raise ShapeError(f"cannot reshape {fmt_shape(x)} to {shown}: "
                                     f"{total} elements per sample are not divisible by {known}",
                                     f"the sizes other than -1 must multiply to a divisor of {total}",
                                     code="E-SHAPE-RESHAPE")
                rest: sy.Dim = total // known
            elif sy.is_int(known):
                rest = sy.floordiv(total, known)
                if not ctx.require_equal(sy.mul(rest, known), total):
                    raise ShapeError(f"cannot reshape {fmt_shape(x)} to {shown}: "
                                     f"{sy.to_str(total)} elements per sample are not divisible by {known}",
                                     f"the sizes other than -1 must multiply to a divisor of "
                                     f"{sy.to_str(total)}", code="E-SHAPE-RESHAPE")
            else:
                rest = _quotient(total, known)
                if rest is None:
                    raise ShapeError(f"cannot reshape {fmt_shape(x)} to {shown}: the -1 entry would be "
                                     f"{sy.to_str(total)} / ({sy.to_str(known)})",
                                     "write the sizes out, e.g. [c, x.height * x.width]",
                                     code="E-SHAPE-RESHAPE")
            return (x[0], *(rest if sy.is_int(v) and v == -1 else v for v in target))
        ok = total == known if sy.is_int(total) and sy.is_int(known) else ctx.require_equal(total, known)
        if not ok:
            raise ShapeError(f"cannot reshape {fmt_shape(x)} to {shown}: "
                             f"{sy.to_str(total)} elements per sample vs {sy.to_str(known)}",
                             "use -1 for the entry that should take the rest", code="E-SHAPE-RESHAPE")
        return (x[0], *target)

    def macs(self, a, inputs, out):
        return 0

    def window(self, a, inputs):
        return None

    def label(self, a):
        return "×".join(sy.to_str(v) for v in a["shape"])

    def saved_for_backward(self, a, inputs, out, ctx):
        return ()  # a view's backward reshapes the gradient: it needs only sizes

    def output_aliases_input(self, a, inputs, ctx):
        return not ctx.contiguous or ctx.contiguous[0]  # a permuted input is copied

    def lower(self, a, inputs, out):
        x = inputs[0]
        dims = []
        free = sum(1 for v in a.shape if not sy.is_int(v) or v == -1)
        # trailing sizes that are the input's trailing spatial sizes (a channel shuffle's H, W)
        # are read from the input, so the line does not depend on the input size
        kept = 0
        while (kept < min(len(a.shape), len(x) - 2) and sy.is_int(a.shape[-1 - kept])
               and a.shape[-1 - kept] == x[-1 - kept] and a.shape[-1 - kept] != 1):
            kept += 1
        for j, v in enumerate(a.shape):
            if j >= len(a.shape) - kept:
                dims.append(f"{{0}}.shape[{len(x) - len(a.shape) + j}]")
            elif sy.is_int(v):
                dims.append(str(v))
            elif free == 1:  # the one size known only at run time: torch infers it
                dims.append("-1")
            elif v in x[1:]:  # an input axis kept as it is
                dims.append(f"{{0}}.shape[{list(x).index(v)}]")
            else:
                raise NotImplementedError(f"reshape to {fmt_shape(a.shape)}: more than one size is known "
                                          "only at run time; keep at most one, or use -1")
        return Lowered(None, f"{{0}}.reshape({{0}}.shape[0], {', '.join(dims)})")


def _quotient(total, known):
    """total / known when `known` divides the symbolic `total` exactly, else None."""
    for k in range(1, 1 << 12):
        candidate = sy.mul(known, k)
        if candidate == total:
            return k
    return None


class Identity(Op):
    name = "identity"
    title = "Identity"
    family = "shape"
    doc = "Pass the input through unchanged (a placeholder, or a named tap point)."
    shape_rule = "output shape = input shape"
    macs_rule = "0"

    def output_shape(self, a, inputs, ctx):
        return tuple(inputs[0])

    def macs(self, a, inputs, out):
        return 0

    def saved_for_backward(self, a, inputs, out, ctx):
        return ()

    def output_aliases_input(self, a, inputs, ctx):
        return True  # nn.Identity returns its input

    def output_contiguous(self, a, inputs, out, ctx):
        return not ctx.contiguous or ctx.contiguous[0]

    def lower(self, a, inputs, out):
        return Lowered("nn.Identity()", "{m}({0})")


OPS = [Linear(), Flatten(), Reshape(), Identity()]
