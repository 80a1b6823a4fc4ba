"""Ops with several inputs: add, subtract, multiply, concat."""
from __future__ import annotations

from typing import Sequence

from archc import symbolic as sy
from archc.ops.base import VARIADIC, Autocast, Saved, Attr, Syntax, Int, Lowered, Op, Shape, ShapeError, fmt_shape, numel, spatial_text
from archc.ops.common import is_equal


def _axis_name(axis: int, rank: int) -> str:
    if axis == 0:
        return "batch sizes"
    if axis == 1:
        return "features" if rank == 2 else "channels"
    return "spatial sizes"


def _which(i: int, n: int) -> str:
    return f" (input 1 vs input {i + 1})" if n > 2 else ""


def _need_two(inputs: Sequence[Shape]) -> None:
    if len(inputs) < 2:
        raise ShapeError(f"needs two or more inputs, got {len(inputs)}", "e.g. add(a, b) or [a, b] -> concat",
                         code="E-CALL-INPUT-COUNT")


def _pick(a, b):
    """Of two dims known equal, the concrete one."""
    return a if type(a) is int or sy.is_int(a) or not sy.is_int(b) else b


def _operands(n: int) -> list[str]:
    return [f"{{{i}}}" for i in range(n)]


def _broadcast(inputs: Sequence[Shape], ctx) -> tuple:
    """PyTorch's broadcasting: shapes aligned at the last axis, each axis equal or 1 in one input;
    the output takes the larger. A mismatch is E-SHAPE-BROADCAST naming the axis."""
    out = list(inputs[0])
    for i, s in enumerate(inputs[1:], 1):
        r = max(len(out), len(s))
        a_ = [1] * (r - len(out)) + list(out)
        b_ = [1] * (r - len(s)) + list(s)
        merged = []
        for ax, (x, y) in enumerate(zip(a_, b_)):
            if sy.is_int(x) and x == 1:
                merged.append(y)
            elif sy.is_int(y) and y == 1:
                merged.append(x)
            elif is_equal(x, y, ctx):
                merged.append(_pick(x, y))
            else:
                what = _axis_name(ax, r)
                if what == "spatial sizes":
                    what = f"sizes on axis {ax}"
                raise ShapeError(
                    f"shapes {fmt_shape(a_)} and {fmt_shape(b_)} do not broadcast: {what} differ, "
                    f"{sy.to_str(x)} vs {sy.to_str(y)}{_which(i, len(inputs))}",
                    "each axis must be equal, or 1 in one of the inputs", code="E-SHAPE-BROADCAST")
        out = merged
    return tuple(out)


def _broadcasts(inputs: Sequence[Shape]) -> bool:
    """Whether the inputs differ in rank or one has a concrete 1 where another has not: a
    broadcast, not a same-shape merge (whose mismatches get the residual-specific hints)."""
    first = inputs[0]
    for s in inputs[1:]:
        if len(s) != len(first):
            return True
        if any(sy.is_int(x) and sy.is_int(y) and x != y and 1 in (x, y) for x, y in zip(first, s)):
            return True
    return False


_SAME_SHAPE_HINTS = {
    "rank": "bring both inputs to the same layout first (flatten, reshape, or "
            "global_avgpool(keepdims=true) for [N, C, 1, 1])",
    "batch sizes": "give the model's inputs the same batch size N",
    "channels": "project one input with a 1×1 conv to the other's channels",
    "features": "project one input with linear to the other's features",
    "spatial sizes": "crop the larger input (crop) or pad the smaller (zeropad)",
}


def _check_same(inputs: Sequence[Shape], ctx, skip_axis: int | None, hints: dict[str, str], *,
                code: str) -> list:
    """All inputs have the first one's shape except on `skip_axis`; returns the merged shape.
    `hints` by what differs ("rank", "batch sizes", "channels", "features", "spatial sizes");
    `code`: the op's catalogue code for inputs that do not match."""
    head = inputs[0]
    rest = inputs if skip_axis is None else [s[:skip_axis] + s[skip_axis + 1:] for s in inputs]
    kinds = tuple(map(type, rest[0]))
    if len(set(map(len, inputs))) == 1 and all(s == rest[0] and tuple(map(type, s)) == kinds for s in rest[1:]):
        return list(head)  # the same shape (each size of the same kind): what the axis walk gives
    first = list(head)
    r = len(first)
    for i, s in enumerate(inputs[1:], 1):
        if len(s) != r:
            raise ShapeError(f"ranks differ, {fmt_shape(first)} vs {fmt_shape(s)}{_which(i, len(inputs))}",
                             hints.get("rank"), code=code)
        # batch, channels, then all spatial axes together
        groups = [[0], [1], list(range(2, r))] if r > 2 else [[ax] for ax in range(r)]
        for axes in groups:
            axes = [ax for ax in axes if ax != skip_axis]
            if not axes:
                continue
            if all([is_equal(first[ax], s[ax], ctx) for ax in axes]):
                for ax in axes:
                    first[ax] = _pick(first[ax], s[ax])
                continue
            what = _axis_name(axes[0], r)
            if what == "spatial sizes" and len(axes) == r - 2:
                got = f"{spatial_text([first[ax] for ax in axes])} vs {spatial_text([s[ax] for ax in axes])}"
            else:
                got = f"{', '.join(sy.to_str(first[ax]) for ax in axes)} vs " \
                      f"{', '.join(sy.to_str(s[ax]) for ax in axes)}"
                if what == "spatial sizes":
                    what = "sizes on axis " + ", ".join(str(ax) for ax in axes)
            hint = hints.get(what) or hints.get("spatial sizes" if what.startswith("sizes") else "")
            raise ShapeError(f"{what} differ, {got}{_which(i, len(inputs))}", hint, code=code)
    return first


class Add(Op):
    output_overwritable = True  # its backward does not read its output
    in_place = True
    name = "add"
    syntax = (Syntax.TENSOR_ADD,)
    residual_merge = True
    merges_fields = True
    title = "Add"
    family = "merge"
    inputs = VARIADIC
    doc = ("Elementwise sum of two or more tensors (residual connections), broadcasting as PyTorch "
           "does (as multiply): `x + bias` with a bias of [1, C, 1, 1] adds it at every position. "
           "Several inputs are summed left to right, `(a + b) + c`, so the result equals code that "
           "accumulates in that order bit for bit.")
    shape_rule = ("equal shapes give that shape; otherwise they broadcast: aligned from the last axis, "
                  "per axis equal or 1, the output takes the larger")
    macs_rule = "0 (additions are not multiply-accumulates)"

    def output_shape(self, a, inputs, ctx):
        _need_two(inputs)
        if _broadcasts(inputs):
            try:
                return _broadcast(inputs, ctx)
            except ShapeError:
                pass  # said as a residual add's mismatch, with its hints (project, crop, flatten)
        return tuple(_check_same(inputs, ctx, None, _SAME_SHAPE_HINTS, code="E-SHAPE-ADD"))

    def macs(self, a, inputs, out):
        return 0

    autocast = Autocast.PROMOTE  # torch's type promotion: the widest input dtype

    def saved_for_backward(self, a, inputs, out, ctx):
        return ()  # the gradient passes through (summed over broadcast axes, or cut apart)

    def lower(self, a, inputs, out):
        operands = _operands(len(inputs))
        # torchvision's `out += identity`, as an expression (codegen.in_place_layers uses it only
        # where the first input has the output's shape: a broadcast makes a new, larger tensor)
        in_place = operands[0] + "".join(f".add_({x})" for x in operands[1:])
        return Lowered(None, " + ".join(operands), in_place=Lowered(None, in_place))


class Subtract(Op):
    name = "subtract"
    syntax = (Syntax.TENSOR_SUBTRACT,)
    aliases = ("sub",)
    merges_fields = True
    title = "Subtract"
    family = "merge"
    inputs = 2
    doc = ("Elementwise difference a - b of two tensors, broadcasting as PyTorch does (written "
           "`a - b` in a spec).")
    shape_rule = "broadcast, as multiply"
    macs_rule = "0 (subtractions are not multiply-accumulates)"

    def output_shape(self, a, inputs, ctx):
        return _broadcast(inputs, ctx)

    def macs(self, a, inputs, out):
        return 0

    autocast = Autocast.PROMOTE  # torch's type promotion: the widest input dtype

    def saved_for_backward(self, a, inputs, out, ctx):
        return ()  # the gradient passes through (summed over broadcast axes, or cut apart)

    def lower(self, a, inputs, out):
        return Lowered(None, "{0} - {1}")


class Multiply(Op):
    name = "multiply"
    syntax = (Syntax.TENSOR_MULTIPLY,)
    merges_fields = True
    aliases = ("mul",)
    title = "Multiply"
    family = "merge"
    inputs = VARIADIC
    doc = ("Elementwise product of two or more tensors, broadcasting as PyTorch does: shapes are "
           "aligned at the last axis and each axis must be equal or 1, so [N, C, 1, 1] × [N, C, H, W] "
           "gates channels (squeeze-and-excitation).")
    shape_rule = ("broadcast: shapes aligned from the last axis; per axis the sizes must be equal or "
                  "1; the output takes the larger")
    macs_rule = "numel(output) × (number of inputs - 1)"

    def output_shape(self, a, inputs, ctx):
        _need_two(inputs)
        return _broadcast(inputs, ctx)

    def macs(self, a, inputs, out):
        return sy.mul(numel(out), len(inputs) - 1)

    autocast = Autocast.PROMOTE

    def saved_for_backward(self, a, inputs, out, ctx):
        """a * b * c is (a * b) * c: each product keeps each factor that the other's gradient
        needs (torch saves only those: a factor needing no gradient keeps the other unsaved);
        the partial products are new tensors."""
        kept: list[Saved] = []
        left, left_grad, left_saved = inputs[0], ctx.grads[0], Saved("input", index=0)
        for i in range(1, len(inputs)):
            if ctx.grads[i]:
                kept.append(left_saved)
            if left_grad:
                kept.append(Saved("input", index=i))
            left = _broadcast([left, inputs[i]], None)
            left_grad = left_grad or ctx.grads[i]
            left_saved = Saved("new", left, what="partial product")
        return tuple(kept)

    def lower(self, a, inputs, out):
        return Lowered(None, " * ".join(_operands(len(inputs))))


_CONCAT_HINTS = {
    "rank": "bring the inputs to the same layout first (flatten, reshape, or "
            "global_avgpool(keepdims=true) for [N, C, 1, 1])",
    "batch sizes": "give the model's inputs the same batch size N",
    "channels": "project one input with a 1×1 conv to the other's channels, or join "
                "along the channels (axis=1)",
    "features": "join along the features (axis=1), or project one input with linear",
    "spatial sizes": "crop the larger input to the smaller (crop), as U-Net does, or pad "
                     "the smaller (zeropad)",
}


class Concat(Op):
    output_overwritable = True  # its backward does not read its output
    name = "concat"
    merges_fields = True
    aliases = ("cat",)
    title = "Concat"
    family = "merge"
    inputs = VARIADIC
    doc = "Join two or more tensors along an axis, by default the channels (torch.cat)."
    attrs = (Attr("axis", Int(), 1, "the axis to join along (1 = channels; negative counts from the end)"),)
    shape_rule = ("all input shapes must be equal except on `axis`; the output's `axis` is the sum of "
                  "the inputs'")
    macs_rule = "0"

    def output_shape(self, a, inputs, ctx):
        _need_two(inputs)
        r = len(inputs[0])
        axis = a["axis"]
        ax = axis + r if axis < 0 else axis
        if not 0 <= ax < r:
            raise ShapeError(f"axis {axis} is out of range for rank-{r} inputs (valid: {-r} to {r - 1})",
                             "axis=1 joins the channels; negative axes count from the end",
                             code="E-SHAPE-AXIS")
        out = _check_same(inputs, ctx, ax, _CONCAT_HINTS, code="E-SHAPE-CONCAT")
        total = inputs[0][ax]
        for s in inputs[1:]:
            total = sy.add(total, s[ax])
        out[ax] = total
        return tuple(out)

    def macs(self, a, inputs, out):
        return 0

    def label(self, a):
        return "" if a["axis"] == 1 else f"axis {a['axis']}"

    autocast = Autocast.PROMOTE  # torch's type promotion: the widest input dtype

    def saved_for_backward(self, a, inputs, out, ctx):
        return ()  # the gradient passes through (summed over broadcast axes, or cut apart)

    def lower(self, a, inputs, out):
        return Lowered(None, f"torch.cat([{', '.join(_operands(len(inputs)))}], dim={a.axis})")


OPS = [Add(), Subtract(), Multiply(), Concat()]
