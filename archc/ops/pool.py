"""Pooling: max/avg/min/sum pooling over windows, global pooling, adaptive pooling."""
from __future__ import annotations

from archc import symbolic as sy
from archc.ops.base import (Attr, BoolType, Ints, Op, Optional, Padding, ShapeError, Window,
                            numel)
from archc.ops.common import (check_rank, effective_kernel, ints_text, short_text, sliding_output,
                              window_label)

_SPATIAL = {1: "L", 2: "H, W", 3: "D, H, W"}
_PRIMED = {1: "L'", 2: "H', W'", 3: "D', H', W'"}

_KIND = {
    "max": ("Max", "max", "the maximum of its window"),
    "avg": ("Avg", "average", "the mean of its window"),
    "min": ("Min", "min", "the minimum of its window (as -maxpool(-x))"),
    "sum": ("Sum", "sum", "the sum of its window (as avgpool × window size, padding counted as zeros)"),
}


class Pool(Op):
    """maxpool / avgpool / minpool / sumpool in 1, 2 and 3 spatial dimensions."""
    family = "pool"

    def __init__(self, kind: str, ndim: int):
        self.kind, self.ndim = kind, ndim
        cap, word, what = _KIND[kind]
        self.name = f"{kind}pool{ndim}d"
        self.aliases = (f"{kind}_pool{ndim}d",)
        self.title = f"{cap}Pool{ndim}d"
        torch_eq = {"max": f" (torch.nn.MaxPool{ndim}d)", "avg": f" (torch.nn.AvgPool{ndim}d)"}.get(kind, "")
        self.doc = f"{ndim}-d {word} pooling: each output is {what}{torch_eq}."
        dil = "dilation*(kernel-1)" if kind in ("max", "min") else "(kernel-1)"
        self.shape_rule = (
            f"[N, C, {_SPATIAL[ndim]}] → [N, C, {_PRIMED[ndim]}]; per spatial axis "
            f"out = floor((in + pad_before + pad_after - {dil} - 1) / stride) + 1, which must be ≥ 1; "
            f"ceil_mode=true (PyTorch): out = ceil((in + pad_before + pad_after - {dil} - 1) / stride) + 1, "
            f"minus 1 when (out-1)*stride ≥ in + pad_before (the last window must start inside the "
            f"input or the left padding); padding=same: out = ceil(in / stride); each padding must "
            f"be at most kernel/2")
        self.macs_rule = ("0 (comparisons are not multiply-accumulates)" if kind in ("max", "min")
                          else "numel(output) × prod(kernel)")
        attrs = [
            Attr("kernel", Ints(1), doc="window size: one int for every spatial axis, or one per axis"),
            Attr("stride", Optional(Ints(1)), None, "step between windows; none means the kernel size"),
            Attr("padding", Padding(), 0, "padding on each side: an int, one per spatial axis, per "
                 "axis a pair (before, after), `valid` (none) or `same` (output size ceil(in / stride)); "
                 + ("padded positions never win" if kind in ("max", "min") else "padded positions are zeros")),
        ]
        if kind in ("max", "min"):
            attrs.append(Attr("dilation", Ints(1), 1, "spacing between window taps"))
        attrs.append(Attr("ceil_mode", BoolType(), False, "round the output size up instead of down"))
        if kind == "avg":
            attrs.append(Attr("count_include_pad", BoolType(), True,
                              "count padded zeros in the divisor of the mean"))
        self.attrs = tuple(attrs)

    def _stride(self, a):
        return a.stride if a.stride is not None else a.kernel

    def _dilation(self, a):
        return a.get("dilation") or (1,) * self.ndim

    def output_shape(self, a, inputs, ctx):
        x = inputs[0]
        check_rank(self, x)
        if a.padding not in ("same", "valid"):
            for (pb, pa), k in zip(a.padding, a.kernel):
                if max(pb, pa) > k // 2:
                    raise ShapeError(f"padding {max(pb, pa)} is more than half the kernel "
                                     f"{short_text(a.kernel)}",
                                     f"pooling padding must be at most kernel/2 = {k // 2}")
        sp = sliding_output(x[2:], a.kernel, self._stride(a), a.padding, self._dilation(a), ctx,
                            ceil_mode=a.ceil_mode, what="kernel")
        return (x[0], x[1], *sp)

    def macs(self, a, inputs, out):
        if self.kind in ("max", "min"):
            return 0
        return sy.mul(numel(out), sy.prod(a.kernel))

    def window(self, a, inputs):
        return Window(effective_kernel(a.kernel, self._dilation(a)), tuple(self._stride(a)))

    def label(self, a):
        return window_label(None, a.kernel, self._stride(a), a.padding, self._dilation(a),
                            stride_default=a.kernel)


class GlobalPool(Op):
    """global_avgpool / global_maxpool over all spatial axes."""
    family = "pool"

    def __init__(self, kind: str):
        self.kind = kind
        self.name = f"global_{kind}pool"
        self.aliases = (f"global_{kind}_pool",)
        self.title = f"Global{_KIND[kind][0]}Pool"
        self.doc = (f"Global {_KIND[kind][1]} pooling: {'the mean' if kind == 'avg' else 'the maximum'} of each "
                    f"channel over all spatial positions, for inputs of any spatial rank.")
        self.shape_rule = ("[N, C, *spatial] → [N, C] (as Keras Global"
                           f"{'Average' if kind == 'avg' else 'Max'}Pooling), or [N, C, 1, …, 1] "
                           "when keepdims=true")
        self.macs_rule = "numel(input)" if kind == "avg" else "0 (comparisons are not multiply-accumulates)"
        self.attrs = (Attr("keepdims", BoolType(), False, "keep the spatial axes, each of size 1"),)

    def output_shape(self, a, inputs, ctx):
        x = inputs[0]
        if len(x) < 3:
            self.check_rank(x, (3, 4, 5))
        return (x[0], x[1], *(1,) * (len(x) - 2)) if a.keepdims else (x[0], x[1])

    def macs(self, a, inputs, out):
        return numel(inputs[0]) if self.kind == "avg" else 0

    def window(self, a, inputs):
        return Window(global_=True)

    def label(self, a):
        return ""


class AdaptivePool(Op):
    """adaptive_avgpool / adaptive_maxpool in 1, 2 and 3 spatial dimensions."""
    family = "pool"

    def __init__(self, kind: str, ndim: int):
        self.kind, self.ndim = kind, ndim
        cap, word = _KIND[kind][:2]
        self.name = f"adaptive_{kind}pool{ndim}d"
        self.aliases = (f"adaptive_{kind}_pool{ndim}d",)
        self.title = f"Adaptive{cap}Pool{ndim}d"
        self.doc = (f"{ndim}-d adaptive {word} pooling to a fixed output size, whatever the input size "
                    f"(torch.nn.Adaptive{cap}Pool{ndim}d): output position i of an axis covers input "
                    f"positions floor(i*in/out) to ceil((i+1)*in/out) - 1.")
        self.shape_rule = f"[N, C, {_SPATIAL[ndim]}] → [N, C, *output_size]"
        self.macs_rule = ("numel(input) (each input element summed once)" if kind == "avg"
                          else "0 (comparisons are not multiply-accumulates)")
        self.attrs = (Attr("output_size", Ints(1), doc="output spatial size: one int for every axis, "
                           "or one per axis"),)

    def output_shape(self, a, inputs, ctx):
        x = inputs[0]
        check_rank(self, x)
        return (x[0], x[1], *a.output_size)

    def macs(self, a, inputs, out):
        return numel(inputs[0]) if self.kind == "avg" else 0

    def window(self, a, inputs):
        return Window(global_=True)

    def label(self, a):
        return ints_text(a.output_size)


OPS = [
    *(Pool(kind, n) for kind in ("max", "avg", "min", "sum") for n in (1, 2, 3)),
    GlobalPool("avg"), GlobalPool("max"),
    *(AdaptivePool(kind, n) for kind in ("avg", "max") for n in (1, 2, 3)),
]
