"""Fully connected layers and shape manipulation: linear, flatten, reshape, identity."""
from __future__ import annotations

from archc import symbolic as sy
from archc.ops.base import Attr, BoolType, Int, IntList, Lowered, Op, ShapeError, fmt_shape, numel, py_call


class Linear(Op):
    name = "linear"
    aliases = ("dense",)
    title = "Linear"
    family = "linear"
    doc = ("Fully connected layer y = x·Wᵀ + b over the last axis (torch.nn.Linear, Keras Dense); "
           "the other axes are kept.")
    attrs = (
        Attr("out", Int(1), doc="number of output features"),
        Attr("bias", BoolType(), True, "add a learnable bias per output feature"),
    )
    shape_rule = ("[N, …, in] → [N, …, out]; the input has rank ≥ 2 and its last axis `in` must be "
                  "a concrete size")
    param_rule = "weight [out, in]; bias [out] when bias=true"
    macs_rule = "numel(output) × in"

    def _features(self, x) -> int:
        if len(x) < 2:
            raise ShapeError(f"input has rank {len(x)} ({fmt_shape(x)}), expected rank ≥ 2 "
                             f"([N, features])")
        f = x[-1]
        if not sy.is_int(f):
            raise ShapeError(f"linear needs a concrete number of input features, got {sy.to_str(f)}",
                             "give the input a concrete size, or use global pooling before flatten")
        return int(f)

    def output_shape(self, a, inputs, ctx):
        x = inputs[0]
        self._features(x)
        return (*x[:-1], a.out)

    def parameters(self, a, inputs):
        f = self._features(inputs[0])
        p = {"weight": (a.out, f)}
        if a.bias:
            p["bias"] = (a.out,)
        return p

    def macs(self, a, inputs, out):
        return sy.mul(numel(out), self._features(inputs[0]))

    def window(self, a, inputs):
        return None

    def label(self, a):
        return str(a.out)

    def lower(self, a, inputs, out):
        module = py_call("nn.Linear", self._features(inputs[0]), a.out, bias=a.bias)
        return Lowered(module, "{m}({0})", (), (("bias", True),))


def _norm_axis(axis: int, rank: int, what: str) -> int:
    i = axis + rank if axis < 0 else axis
    if not 0 <= i < rank:
        raise ShapeError(f"{what} {axis} is out of range for a rank-{rank} input "
                         f"(valid: {-rank} to {rank - 1})")
    return i


class Flatten(Op):
    name = "flatten"
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
        s = _norm_axis(a.start_dim, r, "start_dim")
        e = _norm_axis(a.end_dim, r, "end_dim")
        if s > e:
            raise ShapeError(f"start_dim {a.start_dim} comes after end_dim {a.end_dim} on a "
                             f"rank-{r} input")
        return (*x[:s], sy.prod(x[s:e + 1]), *x[e + 1:])

    def macs(self, a, inputs, out):
        return 0

    def window(self, a, inputs):
        return None

    def label(self, a):
        return "" if (a.start_dim, a.end_dim) == (1, -1) else f"{a.start_dim}…{a.end_dim}"

    def lower(self, a, inputs, out):
        # a function, as torchvision writes it: torch.flatten(x, 1)
        end = "" if a.end_dim == -1 else f", {a.end_dim}"
        return Lowered(None, f"torch.flatten({{0}}, {a.start_dim}{end})")


class Reshape(Op):
    name = "reshape"
    aliases = ("view",)
    title = "Reshape"
    family = "shape"
    doc = ("Reshape each sample to `shape` (the batch axis is kept and not written); one entry may be "
           "-1, meaning whatever makes the element count match.")
    attrs = (Attr("shape", IntList(), doc="target shape without the batch axis, e.g. [16, 7, 7]; one "
                  "entry may be -1"),)
    shape_rule = ("[N, *rest] → [N, *shape]; prod(shape) must equal prod(rest); a -1 entry becomes "
                  "prod(rest) / prod(other entries), which must divide exactly")
    macs_rule = "0"

    def output_shape(self, a, inputs, ctx):
        x = inputs[0]
        if len(x) < 1:
            raise ShapeError("reshape needs an input with a batch axis")
        total = sy.prod(x[1:])
        target = list(a.shape)
        if target.count(-1) > 1:
            raise ShapeError(f"shape {list(a.shape)} has more than one -1", "at most one entry may be -1")
        if any(v == 0 or v < -1 for v in target):
            raise ShapeError(f"shape {list(a.shape)} has an entry that is neither -1 nor ≥ 1")
        known = 1
        for v in target:
            if v != -1:
                known *= v
        if -1 in target:
            if sy.is_int(total):
                if total % known:
                    raise ShapeError(f"cannot reshape {fmt_shape(x)} to [N, {', '.join(map(str, target))}]: "
                                     f"{total} elements per sample are not divisible by {known}")
                rest: sy.Dim = total // known
            else:
                rest = sy.floordiv(total, known)
                if not ctx.require_equal(sy.mul(rest, known), total):
                    raise ShapeError(f"cannot reshape {fmt_shape(x)} to [N, {', '.join(map(str, target))}]: "
                                     f"{sy.to_str(total)} elements per sample are not divisible by {known}")
            return (x[0], *(rest if v == -1 else v for v in target))
        ok = total == known if sy.is_int(total) else ctx.require_equal(total, known)
        if not ok:
            raise ShapeError(f"cannot reshape {fmt_shape(x)} to [N, {', '.join(map(str, target))}]: "
                             f"{sy.to_str(total)} elements per sample vs {known}",
                             "use -1 for the entry that should take the rest")
        return (x[0], *target)

    def macs(self, a, inputs, out):
        return 0

    def window(self, a, inputs):
        return None

    def label(self, a):
        return "×".join(str(v) for v in a.shape)

    def lower(self, a, inputs, out):
        dims = ", ".join(str(v) for v in a.shape)
        return Lowered(None, f"{{0}}.reshape({{0}}.shape[0], {dims})")


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

    def lower(self, a, inputs, out):
        return Lowered("nn.Identity()", "{m}({0})")


OPS = [Linear(), Flatten(), Reshape(), Identity()]
