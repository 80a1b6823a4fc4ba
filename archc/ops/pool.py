"""Pooling: max/avg/min/sum pooling over windows, global pooling, adaptive pooling."""
from __future__ import annotations

from fractions import Fraction

from archc import symbolic as sy
from archc.ops.base import (Saved, Attr, BoolType, Ints, Lowered, Op, Optional, Padding, ShapeError, Window,
                            helper, numel, py, py_call)
from archc.ops.common import (explicitly_padded, SAME_PADS, check_rank, effective_kernel, f_pad_amounts, ints_text,
                              is_positive, one, padded_input, resolve_pads, short_text, sliding_output,
                              window_label, window_padding)

_MIN_POOL = {n: helper(f"MinPool{n}d", f'''
class MinPool{n}d(nn.MaxPool{n}d):
    """Minimum over each window: -maxpool(-x)."""

    def forward(self, x):
        return -super().forward(-x)
''') for n in (1, 2, 3)}

_AVG_POOL_VALID = helper("avg_pool_valid_only", '''
def avg_pool_valid_only(x, pads, kernel_size, stride, ceil_mode=False):
    """Average pooling of `x` padded with `pads` (F.pad order), dividing by the number
    of the input's own positions only, not the padding (count_include_pad=False)."""
    pool = (F.avg_pool1d, F.avg_pool2d, F.avg_pool3d)[x.dim() - 3]
    ones = torch.ones_like(x[:1, :1])
    total = pool(F.pad(x, pads), kernel_size, stride, ceil_mode=ceil_mode)
    count = pool(F.pad(ones, pads), kernel_size, stride, ceil_mode=ceil_mode)
    return total / count
''')

_SPATIAL = {1: "L", 2: "H, W", 3: "D, H, W"}
_PRIMED = {1: "L'", 2: "H', W'", 3: "D', H', W'"}

_KIND = {
    "max": ("Max", "max", "the maximum of its window"),
    "avg": ("Avg", "average", "the mean of its window"),
    "min": ("Min", "min", "the minimum of its window (as -maxpool(-x))"),
    "sum": ("Sum", "sum", "the sum of its window (padding counted as zeros)"),
}


class Pool(Op):
    """maxpool / avgpool / minpool / sumpool in 1, 2 and 3 spatial dimensions."""
    family = "pool"

    def __init__(self, kind: str, ndim: int):
        self.kind, self.ndim = kind, ndim
        self.output_overwritable = kind in ("max", "avg")  # torch's modules; not read by their backward
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
            f"be at most kernel/2"
            + ("; 3-d average and sum pooling (PyTorch): every input axis, before padding, must be "
               "at least the kernel" if ndim == 3 and kind in ("avg", "sum") else ""))
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
                                     f"pooling padding must be at most kernel/2 = {k // 2}",
                                     code="E-ATTR-RANGE")
        if self.ndim == 3 and self.kind in ("avg", "sum"):
            # PyTorch's 3-d average pooling (AvgPool3d, which sumpool3d also uses) refuses an input
            # axis smaller than the kernel before padding ("input image smaller than kernel size"),
            # though the 1-d and 2-d ones and max pooling accept it: the same rule here
            for axis, (i, k) in enumerate(zip(x[2:], a.kernel)):
                if not is_positive(sy.add(i, 1 - k), ctx):
                    raise ShapeError(
                        f"input size {sy.to_str(i)} on spatial axis {axis} is smaller than the kernel "
                        f"{k}: PyTorch's 3-d average pooling refuses that even with padding",
                        "use a smaller kernel on that axis, or pad the input first (zeropad3d)",
                        code="E-SHAPE-KERNEL-TOO-LARGE")
        sp = sliding_output(x[2:], a.kernel, self._stride(a), a.padding, self._dilation(a), ctx,
                            ceil_mode=a.ceil_mode, what="kernel")
        return (x[0], x[1], *sp)

    def macs(self, a, inputs, out):
        if self.kind in ("max", "min"):
            return 0
        return sy.mul(numel(out), sy.prod(a["kernel"]))

    def window(self, a, inputs):
        return Window(effective_kernel(a["kernel"], self._dilation(a)), tuple(self._stride(a)))

    def label(self, a):
        text = window_label(None, a["kernel"], self._stride(a), a["padding"], self._dilation(a),
                            stride_default=a["kernel"])
        return text + ", ceil" if a["ceil_mode"] else text  # the rounding changes sizes: show it

    def saved_for_backward(self, a, inputs, out, ctx):
        x = inputs[0]
        kernel = tuple(a.kernel)
        padded = explicitly_padded(a.padding, kernel, tuple(self._stride(a)), tuple(self._dilation(a)), x,
                                   [k // 2 for k in kernel], stride_same_explicit=False)
        window_input = Saved("input") if padded is None else Saved("new", padded, what="padded input")
        if self.kind == "max":  # max_pool*_with_indices: the input and where each maximum was
            return (window_input, Saved("new", out, "int64", "indices"))
        if self.kind == "min":  # -maxpool(-x): the negated copy and the indices
            return (Saved("new", padded or x, what="negated input"), Saved("new", out, "int64", "indices"))
        if padded is not None and not a.count_include_pad and self.kind == "avg":  # avg_pool_valid_only
            return (window_input, Saved("new", (1, 1, *out[2:]), what="window counts"))
        return (window_input,)  # average pooling's backward reads its input's sizes from it

    def lower(self, a, inputs, out):
        x, n = inputs[0], self.ndim
        kernel, stride, dilation = tuple(a.kernel), tuple(self._stride(a)), tuple(self._dilation(a))
        pads = resolve_pads(a.padding, kernel, stride, dilation, x[2:])
        padding, explicit = window_padding(pads, [k // 2 for k in kernel])
        # Explicit padding makes torch see a larger input; `same` sizes need no ceil_mode, and with
        # asymmetric padding torch's ceil_mode may keep one more window than ours: crop it.
        ceil_mode = a.ceil_mode and not (explicit and a.padding == "same")
        crop = ""
        if explicit and ceil_mode and pads is not None and all(isinstance(i, int) for i in x[2:]):
            ends = [_torch_ceil_size(i + b + e, k, s, d) for i, (b, e), k, s, d
                    in zip(x[2:], pads, kernel, stride, dilation)]
            if ends != list(out[2:]):
                crop = "[:, :, " + ", ".join(f":{o}" for o in out[2:]) + "]"
        fill = {"max": 'float("-inf")', "min": 'float("inf")'}.get(self.kind, "")
        arg, helpers = padded_input(pads, kernel, stride, dilation, fill) if explicit else ("{0}", ())
        common = dict(kernel_size=one(kernel), stride=one(stride), padding=padding)
        defaults: tuple = (("padding", 0), ("dilation", 1), ("ceil_mode", False))
        if self.kind in ("max", "min"):
            cls = f"nn.MaxPool{n}d" if self.kind == "max" else _MIN_POOL[n]
            module = py_call(cls, **common, dilation=one(dilation), ceil_mode=ceil_mode)
            if self.kind == "min":
                helpers = (cls, *helpers)
        elif self.kind == "avg" and explicit and not a.count_include_pad and _pads_nonzero(pads):
            # torch cannot leave explicit padding out of the divisor: a function does it
            pads_src = (f"same_pads({{0}}, {py(kernel)}, {py(stride)}, {py(dilation)})" if pads is None
                        else py(f_pad_amounts(pads)))
            call = (f"avg_pool_valid_only({{0}}, {pads_src}, {py(one(kernel))}, {py(one(stride))}"
                    f"{', ceil_mode=True' if ceil_mode else ''}){crop}")
            return Lowered(None, call, (_AVG_POOL_VALID,) + ((SAME_PADS,) if pads is None else ()))
        elif self.kind == "avg":
            module = py_call(f"nn.AvgPool{n}d", **common, ceil_mode=ceil_mode,
                             count_include_pad=a.count_include_pad)
            defaults += (("count_include_pad", True),)
        elif n > 1:  # sum: average pooling with divisor 1
            module = py_call(f"nn.AvgPool{n}d", **common, ceil_mode=ceil_mode, divisor_override=1)
        else:  # AvgPool1d has no divisor_override: pool [N, C, 1, L] in 2-d
            module = py_call("nn.AvgPool2d", kernel_size=(1, kernel[0]), stride=(1, stride[0]),
                             padding=0 if padding == 0 else (0, padding),
                             ceil_mode=ceil_mode, divisor_override=1)
            return Lowered(module, f"{{m}}({arg}.unsqueeze(2)).squeeze(2){crop}", helpers, defaults)
        return Lowered(module, f"{{m}}({arg}){crop}", helpers, defaults)


def _pads_nonzero(pads) -> bool:
    return pads is None or any(b or e for b, e in pads)


def _torch_ceil_size(size: int, kernel: int, stride: int, dilation: int) -> int:
    """torch's ceil_mode output size of an unpadded axis."""
    eff = dilation * (kernel - 1) + 1
    out = -(-(size - eff) // stride) + 1
    return out - 1 if (out - 1) * stride >= size else out


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

    def saved_for_backward(self, a, inputs, out, ctx):
        # torch.mean's backward needs only sizes; torch.amax's reads its input and its result
        return () if self.kind == "avg" else (Saved("input"), Saved("output"))

    def lower(self, a, inputs, out):
        axes = tuple(range(2, len(inputs[0])))
        func = "torch.mean" if self.kind == "avg" else "torch.amax"
        keep = ", keepdim=True" if a.keepdims else ""
        dim = axes[0] if len(axes) == 1 else axes
        return Lowered(None, f"{func}({{0}}, dim={py(dim)}{keep})")


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
        sizes = inputs[0][2:]
        if not all(isinstance(n, int) for n in sizes) or all(o == 1 for o in a["output_size"]):
            return Window(global_=True)  # one window over everything, or one of unknown size
        # The widest window of each axis, ceil((i+1)*in/out) - floor(i*in/out), and the mean step
        # in/out: a plain pooling (kernel = stride = in/out) when in is a multiple of out, and
        # the identity when in == out (torchvision's AlexNet/VGG avgpool at 224×224).
        kernel = tuple(max(-((-(i + 1) * n) // o) - (i * n) // o for i in range(o))
                       for n, o in zip(sizes, a["output_size"]))
        stride = tuple(Fraction(n, o) for n, o in zip(sizes, a["output_size"]))
        return Window(kernel, stride)

    def label(self, a):
        return ints_text(a["output_size"])

    def saved_for_backward(self, a, inputs, out, ctx):
        if self.kind == "max":
            return (Saved("input"), Saved("new", out, "int64", "indices"))
        # an output of size 1 is computed as a mean (ATen's shortcut), which keeps nothing
        return () if all(o == 1 for o in a.output_size) else (Saved("input"),)

    def lower(self, a, inputs, out):
        cls = f"nn.Adaptive{_KIND[self.kind][0]}Pool{self.ndim}d"
        return Lowered(py_call(cls, one(a.output_size)), "{m}({0})")


OPS = [
    *(Pool(kind, n) for kind in ("max", "avg", "min", "sum") for n in (1, 2, 3)),
    GlobalPool("avg"), GlobalPool("max"),
    *(AdaptivePool(kind, n) for kind in ("avg", "max") for n in (1, 2, 3)),
]
