"""Reductions over axes: sum, mean, max and min (torch's `x.sum(dim=...)`, `mean`, `amax`,
`amin`), as split attention (ResNeSt), SK-Nets and global descriptors use them."""
from __future__ import annotations

from archc.ops.base import Saved, Attr, AttrType, BoolType, Lowered, Op, ShapeError, Window, numel
from archc.ops.common import axis_index


class Axes(AttrType):
    """One axis or a list of axes, numbered as in PyTorch (negative from the end)."""
    label = "axis or list of axes"

    def coerce(self, value, ndim):
        items = value if isinstance(value, (list, tuple)) else [value]
        if not items or any(isinstance(v, bool) or not isinstance(v, int) for v in items):
            raise self._reject(value, "an axis (an int) or a list of axes")
        return tuple(int(v) for v in items)

    def json_schema(self):
        return {"anyOf": [{"type": "integer"}, {"type": "array", "items": {"type": "integer"}, "minItems": 1}]}


_TORCH_METHOD = {"sum": "sum", "mean": "mean", "max": "amax", "min": "amin"}
_DOC = {"sum": "The sum", "mean": "The mean", "max": "The largest value", "min": "The smallest value"}


class Reduce(Op):
    """reduce_sum / reduce_mean / reduce_max / reduce_min."""
    output_overwritable = True  # a fresh tensor; its backward reads its input, not its output
    family = "reduction"

    def __init__(self, kind: str):
        self.kind = kind
        self.method = _TORCH_METHOD[kind]
        self.name = f"reduce_{kind}"
        self.title = f"Reduce{kind.capitalize()}"
        self.doc = (f"{_DOC[kind]} over one or more axes (torch's x.{self.method}(dim=..., keepdim=...)); "
                    f"e.g. `reduce_{kind}(axis=1)` over the channels, `reduce_{kind}(axis=[2, 3])` over "
                    f"the positions.")
        self.attrs = (
            Attr("axis", Axes(), doc="the axis or axes to reduce (never 0, the batch)"),
            Attr("keepdim", BoolType(), False, "keep each reduced axis, with size 1"),
        )
        self.shape_rule = "the reduced axes are dropped, or kept with size 1 when keepdim=true"
        self.macs_rule = ("numel(input) (each element accumulated once)" if kind in ("sum", "mean")
                          else "0 (comparisons are not multiply-accumulates)")

    def _axes(self, a, x) -> tuple[int, ...]:
        axes = tuple(axis_index(v, len(x)) for v in a.axis)
        if 0 in axes:
            raise ShapeError(f"{self.name} would reduce the batch axis", "reduce axes ≥ 1 (0 is the batch)",
                             code="E-SHAPE-BATCH-AXIS")
        if len(set(axes)) != len(axes):
            raise ShapeError(f"{self.name}: axis {list(a.axis)} names an axis twice", "name each axis once",
                             code="E-SHAPE-AXIS")
        return tuple(sorted(axes))

    def output_shape(self, a, inputs, ctx):
        x = inputs[0]
        axes = self._axes(a, x)
        if a.keepdim:
            return tuple(1 if i in axes else d for i, d in enumerate(x))
        return tuple(d for i, d in enumerate(x) if i not in axes)

    def macs(self, a, inputs, out):
        return numel(inputs[0]) if self.kind in ("sum", "mean") else 0

    def window(self, a, inputs):
        x = inputs[0]
        axes, spatial = self._axes(a, x), range(2, len(x))
        if not spatial:
            return None
        if all(i in axes for i in spatial):  # over every position: sees the whole input
            return Window(global_=True)
        if not any(i in axes for i in spatial):  # over channels only: each position as it was
            return Window((1,) * len(spatial), (1,) * len(spatial))
        return None  # over some positions only: no single receptive field per axis

    def label(self, a):
        return "axis " + ", ".join(str(v) for v in a["axis"]) + (" (keepdim)" if a["keepdim"] else "")

    def saved_for_backward(self, a, inputs, out, ctx):
        # sum and mean spread the gradient by sizes; amax and amin find where the extreme was
        return (Saved("input"), Saved("output")) if self.method in ("amax", "amin") else ()

    def lower(self, a, inputs, out):
        axes = self._axes(a, inputs[0])
        dim = str(axes[0]) if len(axes) == 1 else "(" + ", ".join(str(i) for i in axes) + ")"
        keep = ", keepdim=True" if a.keepdim else ""
        return Lowered(None, f"{{0}}.{self.method}(dim={dim}{keep})")


OPS = [Reduce(kind) for kind in ("sum", "mean", "max", "min")]

