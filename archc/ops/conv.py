"""Convolutions: conv1d/2d/3d, depthwise and separable convolutions, transposed convolutions."""
from __future__ import annotations

from archc import symbolic as sy
from archc.ops.base import (Attr, Attrs, BoolType, Int, Ints, Lowered, Op, Padding, ShapeError,
                            Window, helper, numel, py_call, spatial_text)
from archc.ops.common import (check_rank, concrete, effective_kernel, input_text, is_positive, one,
                              padded_input, pads_of, padding_text, resolve_pads, short_text,
                              sliding_output, window_label, window_padding)

_SPATIAL = {1: "L", 2: "H, W", 3: "D, H, W"}
_PRIMED = {1: "L'", 2: "H', W'", 3: "D', H', W'"}

_PADDING_DOC = ("zero padding: an int for every side, one int per spatial axis, per axis a pair "
                "(before, after), `valid` (none) or `same` (output size ceil(in / stride), as "
                "TF/Keras: total = max((out-1)*stride + dilation*(kernel-1) + 1 - in, 0), "
                "before = floor(total/2), after = total - before)")

_WINDOW_RULE = ("per spatial axis out = floor((in + pad_before + pad_after - dilation*(kernel-1) - 1) "
                "/ stride) + 1, which must be ≥ 1; padding=same: out = ceil(in / stride) (the padding "
                "total = max((out-1)*stride + dilation*(kernel-1) + 1 - in, 0) is split "
                "before = floor(total/2), after = total - before, as TF/Keras; with a symbolic size "
                "and stride 1 that padding is the constant dilation*(kernel-1))")


def _attr_kernel() -> Attr:
    return Attr("kernel", Ints(1), doc="kernel size: one int for every spatial axis, or one per axis")


def _attr_stride() -> Attr:
    return Attr("stride", Ints(1), 1, "step between windows, per spatial axis")


def _attr_padding() -> Attr:
    return Attr("padding", Padding(), 0, _PADDING_DOC)


def _attr_dilation() -> Attr:
    return Attr("dilation", Ints(1), 1, "spacing between kernel taps; the window spans "
                "dilation*(kernel-1) + 1 input positions")


def _channels(op: Op, shape, ctx_what: str = "input channels") -> int:
    return concrete(shape[1], ctx_what, op.name,
                    "channels must be a concrete number; give the input a concrete channel count")


_CONV_DEFAULTS = (("stride", 1), ("padding", 0), ("dilation", 1), ("groups", 1), ("bias", True))


def _lower_conv(torch_class: str, cin: int, cout: int, a: Attrs, x, options: dict,
                defaults: tuple = _CONV_DEFAULTS, helpers: tuple[str, ...] = ()) -> Lowered:
    """A torch convolution module `torch_class(cin, cout, kernel_size=…, stride=…, padding=…,
    dilation=…, **options)`; padding that torch cannot express (asymmetric, or `same` with a
    stride) is applied to the input with F.pad instead. `same` with a stride is always padded
    in forward, by amounts computed from the input's size (`same_pads`): they depend on it (the
    odd pixel goes after), so layers at different sizes stay one module and one class."""
    strided_same = a.padding == "same" and any(s > 1 for s in a.stride)
    pads = None if strided_same else resolve_pads(a.padding, a.kernel, a.stride, a.dilation, x[2:])
    padding, explicit = window_padding(pads)
    module = py_call(torch_class, cin, cout, kernel_size=one(a.kernel), stride=one(a.stride),
                     padding=padding, dilation=one(a.dilation), **options)
    arg, pad_helpers = padded_input(pads, a.kernel, a.stride, a.dilation) if explicit else ("{0}", ())
    comment = "padding=same with a stride, as TF/Keras: ceil(in / stride) out, odd pad after" \
        if strided_same else ""
    return Lowered(module, f"{{m}}({arg})", helpers + pad_helpers, defaults, comment)


def _check_groups(groups: int, channels: int, what: str) -> None:
    if channels % groups:
        raise ShapeError(f"groups={groups} does not divide {channels} {what}",
                         f"use a groups value that divides {channels}", code="E-SHAPE-NOT-DIVISIBLE")


class Conv(Op):
    """conv1d / conv2d / conv3d."""
    output_overwritable = True  # its backward does not read its output
    family = "conv"
    init_weight, init_bias = "weight", "bias"
    param_rule = "weight [out, in_channels/groups, *kernel]; bias [out] when bias=true"
    macs_rule = "numel(output) × in_channels/groups × prod(kernel)"

    def __init__(self, ndim: int):
        self.ndim = ndim
        self.name = f"conv{ndim}d"
        self.title = f"Conv{ndim}d"
        self.doc = (f"{ndim}-d convolution over an input [N, C, {_SPATIAL[ndim]}], as torch.nn.Conv{ndim}d: "
                    f"`out` filters of size kernel, each seeing in_channels/groups channels.")
        self.shape_rule = f"[N, C, {_SPATIAL[ndim]}] → [N, out, {_PRIMED[ndim]}]; " + _WINDOW_RULE + \
            "; C and out must be divisible by groups"
        self.attrs = (
            Attr("out", Int(1), doc="number of output channels (filters)"),
            _attr_kernel(), _attr_stride(), _attr_padding(), _attr_dilation(),
            Attr("groups", Int(1), 1, "split the channels into this many independent groups; must "
                 "divide both the input channels and out"),
            Attr("bias", BoolType(), True, "add a learnable bias per output channel"),
        )

    def output_shape(self, a: Attrs, inputs, ctx):
        x = inputs[0]
        check_rank(self, x)
        c = _channels(self, x)
        _check_groups(a.groups, c, "input channels")
        _check_groups(a.groups, a.out, "output channels (out)")
        sp = sliding_output(x[2:], a.kernel, a.stride, a.padding, a.dilation, ctx)
        return (x[0], a.out, *sp)

    def parameters(self, a, inputs):
        c = _channels(self, inputs[0])
        p = {"weight": (a.out, c // a.groups, *a.kernel)}
        if a.bias:
            p["bias"] = (a.out,)
        return p

    def macs(self, a, inputs, out):
        c = _channels(self, inputs[0])
        return sy.mul(numel(out), c // a.groups * sy.prod(a.kernel))

    def window(self, a, inputs):
        return Window(effective_kernel(a.kernel, a.dilation), tuple(a.stride))

    def label(self, a):
        return window_label(str(a.out), a.kernel, a.stride, a.padding, a.dilation, a.groups)

    def lower(self, a, inputs, out):
        return _lower_conv(f"nn.Conv{self.ndim}d", _channels(self, inputs[0]), a.out, a, inputs[0],
                           {"groups": a.groups, "bias": a.bias})


class DepthwiseConv(Op):
    """depthwise_conv1d / 2d / 3d: groups = in_channels."""
    output_overwritable = True  # its backward does not read its output
    family = "conv"
    init_weight, init_bias = "weight", "bias"
    param_rule = "weight [in_channels*multiplier, 1, *kernel]; bias [in_channels*multiplier] when bias=true"
    macs_rule = "numel(output) × prod(kernel)"

    def __init__(self, ndim: int):
        self.ndim = ndim
        self.name = f"depthwise_conv{ndim}d"
        self.title = f"DepthwiseConv{ndim}d"
        self.doc = (f"{ndim}-d depthwise convolution: each input channel is convolved with its own "
                    f"`multiplier` filters (torch.nn.Conv{ndim}d with groups = in_channels, "
                    f"out = in_channels*multiplier).")
        self.shape_rule = (f"[N, C, {_SPATIAL[ndim]}] → [N, C*multiplier, {_PRIMED[ndim]}]; " + _WINDOW_RULE)
        self.attrs = (
            _attr_kernel(),
            Attr("multiplier", Int(1), 1, "output channels per input channel"),
            _attr_stride(), _attr_padding(), _attr_dilation(),
            Attr("bias", BoolType(), True, "add a learnable bias per output channel"),
        )

    def output_shape(self, a, inputs, ctx):
        x = inputs[0]
        check_rank(self, x)
        c = _channels(self, x)
        sp = sliding_output(x[2:], a.kernel, a.stride, a.padding, a.dilation, ctx)
        return (x[0], c * a.multiplier, *sp)

    def parameters(self, a, inputs):
        c = _channels(self, inputs[0])
        p = {"weight": (c * a.multiplier, 1, *a.kernel)}
        if a.bias:
            p["bias"] = (c * a.multiplier,)
        return p

    def macs(self, a, inputs, out):
        return sy.mul(numel(out), sy.prod(a.kernel))

    def window(self, a, inputs):
        return Window(effective_kernel(a.kernel, a.dilation), tuple(a.stride))

    def label(self, a):
        text = window_label(None, a.kernel, a.stride, a.padding, a.dilation)
        return text + (f", ×{a.multiplier}" if a.multiplier != 1 else "")

    def lower(self, a, inputs, out):
        c = _channels(self, inputs[0])
        return _lower_conv(f"nn.Conv{self.ndim}d", c, c * a.multiplier, a, inputs[0],
                           {"groups": c, "bias": a.bias})


_SEPARABLE = helper("SeparableConv", '''
class SeparableConv(nn.Module):
    """Depthwise convolution (`multiplier` filters per input channel), then a 1x1
    pointwise convolution, as Keras SeparableConv2D."""

    def __init__(
        self,
        in_channels,
        out_channels,
        kernel_size,
        stride=1,
        padding=0,
        dilation=1,
        multiplier=1,
        bias=True,
        depthwise_bias=False,
        ndim=2,
    ):
        super().__init__()
        conv = (nn.Conv1d, nn.Conv2d, nn.Conv3d)[ndim - 1]
        mid = in_channels * multiplier
        self.depthwise = conv(
            in_channels,
            mid,
            kernel_size,
            stride=stride,
            padding=padding,
            dilation=dilation,
            groups=in_channels,
            bias=depthwise_bias,
        )
        self.pointwise = conv(mid, out_channels, 1, bias=bias)

    def forward(self, x):
        return self.pointwise(self.depthwise(x))
''')


class SeparableConv(Op):
    """separable_conv1d / 2d / 3d: depthwise, then a pointwise (1×1) convolution."""
    output_overwritable = True  # its backward does not read its output
    family = "conv"
    # leaf names: the depthwise and the pointwise weight both take init=, both biases bias_init=
    init_weight, init_bias = "weight", "bias"
    param_rule = ("depthwise.weight [C*multiplier, 1, *kernel], depthwise.bias [C*multiplier] when "
                  "depthwise_bias=true; pointwise.weight [out, C*multiplier, 1, …], "
                  "pointwise.bias [out] when bias=true")
    macs_rule = ("depthwise: numel(depthwise output) × prod(kernel); plus pointwise: "
                 "numel(output) × C*multiplier")

    def __init__(self, ndim: int):
        self.ndim = ndim
        self.name = f"separable_conv{ndim}d"
        self.title = f"SeparableConv{ndim}d"
        self.doc = (f"{ndim}-d depthwise-separable convolution (as Keras SeparableConv{ndim}D): a "
                    f"depthwise convolution (`multiplier` filters per input channel, stride, padding "
                    f"and dilation apply here) followed by a 1×1 pointwise convolution to `out` "
                    f"channels; in PyTorch two Conv{ndim}d modules named `depthwise` and `pointwise`.")
        self.shape_rule = (f"[N, C, {_SPATIAL[ndim]}] → [N, out, {_PRIMED[ndim]}]; " + _WINDOW_RULE)
        self.attrs = (
            Attr("out", Int(1), doc="number of output channels (of the pointwise convolution)"),
            _attr_kernel(), _attr_stride(), _attr_padding(), _attr_dilation(),
            Attr("multiplier", Int(1), 1, "depthwise filters per input channel"),
            Attr("bias", BoolType(), True, "bias on the pointwise convolution"),
            Attr("depthwise_bias", BoolType(), False, "bias on the depthwise convolution"),
        )

    def output_shape(self, a, inputs, ctx):
        x = inputs[0]
        check_rank(self, x)
        _channels(self, x)
        sp = sliding_output(x[2:], a.kernel, a.stride, a.padding, a.dilation, ctx)
        return (x[0], a.out, *sp)

    def parameters(self, a, inputs):
        mid = _channels(self, inputs[0]) * a.multiplier
        p = {"depthwise.weight": (mid, 1, *a.kernel)}
        if a.depthwise_bias:
            p["depthwise.bias"] = (mid,)
        p["pointwise.weight"] = (a.out, mid, *(1,) * self.ndim)
        if a.bias:
            p["pointwise.bias"] = (a.out,)
        return p

    def macs(self, a, inputs, out):
        mid = _channels(self, inputs[0]) * a.multiplier
        spatial = sy.mul(out[0], sy.prod(out[2:]))  # N × output positions
        return sy.mul(spatial, mid * sy.prod(a.kernel) + mid * a.out)

    def window(self, a, inputs):
        return Window(effective_kernel(a.kernel, a.dilation), tuple(a.stride))

    def label(self, a):
        text = window_label(str(a.out), a.kernel, a.stride, a.padding, a.dilation)
        return text + (f", ×{a.multiplier}" if a.multiplier != 1 else "")

    def lower(self, a, inputs, out):
        c = _channels(self, inputs[0])
        return _lower_conv("SeparableConv", c, a.out, a, inputs[0],
                           {"multiplier": a.multiplier, "bias": a.bias,
                            "depthwise_bias": a.depthwise_bias, "ndim": self.ndim},
                           (("stride", 1), ("padding", 0), ("dilation", 1), ("multiplier", 1),
                            ("bias", True), ("depthwise_bias", False), ("ndim", 2)), (_SEPARABLE,))


class ConvTranspose(Op):
    """conv_transpose1d / 2d / 3d."""
    output_overwritable = True  # its backward does not read its output
    family = "conv"
    init_weight, init_bias = "weight", "bias"
    param_rule = "weight [in_channels, out/groups, *kernel]; bias [out] when bias=true"
    macs_rule = "numel(input) × out/groups × prod(kernel)"

    def __init__(self, ndim: int):
        self.ndim = ndim
        self.name = f"conv_transpose{ndim}d"
        self.aliases = (f"conv{ndim}d_transpose",)
        self.title = f"ConvTranspose{ndim}d"
        self.doc = (f"{ndim}-d transposed convolution (the gradient of conv{ndim}d, used to "
                    f"upsample), as torch.nn.ConvTranspose{ndim}d.")
        self.shape_rule = (
            f"[N, C, {_SPATIAL[ndim]}] → [N, out, {_PRIMED[ndim]}]; per spatial axis out = (in-1)*stride "
            f"- pad_before - pad_after + dilation*(kernel-1) + output_padding + 1, which must be ≥ 1; "
            f"padding=same: out = in*stride (as Keras Conv{ndim}DTranspose); padding=valid: "
            f"out = (in-1)*stride + dilation*(kernel-1) + 1 + output_padding; output_padding must be "
            f"smaller than stride or dilation; C and out must be divisible by groups")
        self.attrs = (
            Attr("out", Int(1), doc="number of output channels"),
            _attr_kernel(), _attr_stride(),
            Attr("padding", Padding(), 0, "removed from each side of the output: an int, one per "
                 "spatial axis, or per axis a pair (before, after); `valid` (none) or `same` "
                 "(output size in*stride)"),
            Attr("output_padding", Ints(0), 0, "added to one side of the output, to pick among "
                 "the sizes that a strided conv maps to the same input size"),
            _attr_dilation(),
            Attr("groups", Int(1), 1, "independent channel groups; must divide both the input "
                 "channels and out"),
            Attr("bias", BoolType(), True, "add a learnable bias per output channel"),
        )

    def output_shape(self, a, inputs, ctx):
        x = inputs[0]
        check_rank(self, x)
        c = _channels(self, x)
        _check_groups(a.groups, c, "input channels")
        _check_groups(a.groups, a.out, "output channels (out)")
        for op_, s, d in zip(a.output_padding, a.stride, a.dilation):
            if op_ >= max(s, d):
                raise ShapeError(f"output_padding {short_text(a.output_padding)} must be smaller than "
                                 f"the stride {short_text(a.stride)} or the dilation "
                                 f"{short_text(a.dilation)}",
                                 "use a smaller output_padding: it only picks among the output "
                                 "sizes that a strided conv maps to the same input size",
                                 code="E-ATTR-RANGE")
        ins = x[2:]
        if a.padding == "same":
            if any(a.output_padding):
                raise ShapeError("output_padding cannot be combined with padding=same "
                                 "(the output size is in*stride)", "remove output_padding, or give "
                                 "the padding as numbers", code="E-ATTR-CONFLICT")
            return (x[0], a.out, *(sy.mul(i, s) for i, s in zip(ins, a.stride)))
        pads = pads_of(a.padding, self.ndim)
        eff = effective_kernel(a.kernel, a.dilation)
        outs = [sy.add(sy.mul(sy.sub(i, 1), s), e + op_ - pb - pa)
                for i, s, e, op_, (pb, pa) in zip(ins, a.stride, eff, a.output_padding, pads)]
        if not all([is_positive(o, ctx) for o in outs]):
            full = [sy.add(sy.mul(sy.sub(i, 1), s), e + op_)
                    for i, s, e, op_ in zip(ins, a.stride, eff, a.output_padding)]
            raise ShapeError(f"padding {padding_text(a.padding)} removes the whole output: on "
                             f"{input_text(ins)} the unpadded output is {spatial_text(full)}",
                             "use a smaller padding", code="E-SHAPE-PADDING-TOO-LARGE")
        return (x[0], a.out, *outs)

    def parameters(self, a, inputs):
        c = _channels(self, inputs[0])
        p = {"weight": (c, a.out // a.groups, *a.kernel)}
        if a.bias:
            p["bias"] = (a.out,)
        return p

    def macs(self, a, inputs, out):
        return sy.mul(numel(inputs[0]), a.out // a.groups * sy.prod(a.kernel))

    def window(self, a, inputs):
        return Window(effective_kernel(a.kernel, a.dilation), tuple(a.stride), transposed=True)

    def label(self, a):
        text = window_label(str(a.out), a.kernel, a.stride, a.padding, a.dilation, a.groups)
        if any(a.output_padding):
            text += ", op" + short_text(a.output_padding)
        return text

    def lower(self, a, inputs, out):
        c = _channels(self, inputs[0])
        eff = effective_kernel(a.kernel, a.dilation)
        output_padding = tuple(a.output_padding)
        if a.padding == "same":
            # out = in*stride, cropped from the full output as TF/Keras do: total = eff - stride
            # removed, the smaller half at the start; when eff < stride, zeros appended instead
            totals = [e - s for e, s in zip(eff, a.stride)]
            pads = tuple((t // 2, t - t // 2) if t >= 0 else (0, 0) for t in totals)
            output_padding = tuple(-t if t < 0 else 0 for t in totals)
        else:
            pads = pads_of(a.padding, self.ndim)
        symmetric = all(b == e for b, e in pads)
        padding = one([b for b, _ in pads]) if symmetric else 0
        module = py_call(f"nn.ConvTranspose{self.ndim}d", c, a.out, kernel_size=one(a.kernel),
                         stride=one(a.stride), padding=padding, output_padding=one(output_padding),
                         dilation=one(a.dilation), groups=a.groups, bias=a.bias)
        call = "{m}({0})"
        if not symmetric:  # torch removes the same amount on both sides: crop the rest
            call += "[:, :, " + ", ".join(f"{b or ''}:{-e if e else ''}" for b, e in pads) + "]"
        return Lowered(module, call, (), _CONV_DEFAULTS + (("output_padding", 0),))


OPS = [
    *(Conv(n) for n in (1, 2, 3)),
    *(DepthwiseConv(n) for n in (1, 2, 3)),
    *(SeparableConv(n) for n in (1, 2, 3)),
    *(ConvTranspose(n) for n in (1, 2, 3)),
]
