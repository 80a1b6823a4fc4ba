"""Convolutions: conv1d/2d/3d, depthwise and separable convolutions, transposed convolutions,
weight-standardised convolutions (timm's StdConv2d, ScaledStdConv2d) and a fixed-filter one
(timm's BlurPool2d)."""
from __future__ import annotations

from archc import symbolic as sy
from archc.ops.base import (Autocast, Saved, Attr, Attrs, BoolType, Choice, Float, Int, Ints, Lowered, Op, Padding,
                            ShapeError, Window, helper, numel, py_call, spatial_text)
from archc.ops.common import (explicitly_padded, weight_op_backward_macs, check_rank, concrete, effective_kernel, input_text, is_positive, one,
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
    if type(shape[1]) is int:  # (asked of every layer: the common case, before concrete's tests)
        return shape[1]
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



def _window_input(a: Attrs, x) -> Saved:
    """What a convolution's backward keeps of its input: the input, or the copy F.pad made of
    it where torch's module cannot pad (`_lower_conv`)."""
    padded = explicitly_padded(a.padding, a.kernel, a.stride, a.dilation, x)
    return Saved("input") if padded is None else Saved("new", padded, what="padded input")


class _Convolution:
    """The training traits every convolution shares: autocast runs it in low precision; its
    backward (torch's convolution_backward) reads the input and the weight."""
    autocast = Autocast.LOWER

    def saved_for_backward(self, a, inputs, out, ctx):
        return (_window_input(a, inputs[0]), Saved("weight", what="weight"))

    def backward_macs(self, a, inputs, out, ctx):
        return weight_op_backward_macs(self, a, inputs, out, ctx)


def _check_groups(groups: int, channels: int, what: str) -> None:
    if channels % groups:
        raise ShapeError(f"groups={groups} does not divide {channels} {what}",
                         f"use a groups value that divides {channels}", code="E-SHAPE-NOT-DIVISIBLE")


class Conv(_Convolution, Op):
    """conv1d / conv2d / conv3d."""
    output_overwritable = True  # its backward does not read its output
    family = "conv"
    positional, inferred_leading = 2, "in_channels"  # conv2d(out, kernel); the rest by keyword
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

    def output_shape(self, a: Attrs, inputs, ctx):  # (attributes by subscript: asked for every layer)
        x = inputs[0]
        check_rank(self, x)
        c = _channels(self, x)
        groups, out = a["groups"], a["out"]
        if c % groups or out % groups:  # (the same tests as _check_groups': asked of every layer)
            _check_groups(groups, c, "input channels")
            _check_groups(groups, out, "output channels (out)")
        sp = sliding_output(x[2:], a["kernel"], a["stride"], a["padding"], a["dilation"], ctx)
        return (x[0], out, *sp)

    def parameters(self, a, inputs):
        c = _channels(self, inputs[0])
        p = {"weight": (a["out"], c // a["groups"], *a["kernel"])}
        if a["bias"]:
            p["bias"] = (a["out"],)
        return p

    def macs(self, a, inputs, out):
        c = _channels(self, inputs[0])
        return sy.mul(numel(out), c // a["groups"] * sy.prod(a["kernel"]))

    def window(self, a, inputs):
        return Window(effective_kernel(a["kernel"], a["dilation"]), tuple(a["stride"]))

    def label(self, a):
        return window_label(str(a["out"]), a["kernel"], a["stride"], a["padding"], a["dilation"], a["groups"])

    def lower(self, a, inputs, out):
        return _lower_conv(f"nn.Conv{self.ndim}d", _channels(self, inputs[0]), a.out, a, inputs[0],
                           {"groups": a.groups, "bias": a.bias})


class DepthwiseConv(_Convolution, Op):
    """depthwise_conv1d / 2d / 3d: groups = in_channels."""
    output_overwritable = True  # its backward does not read its output
    family = "conv"
    positional = 1  # depthwise_conv2d(kernel); the rest by keyword
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
        sp = sliding_output(x[2:], a["kernel"], a["stride"], a["padding"], a["dilation"], ctx)
        return (x[0], c * a["multiplier"], *sp)

    def parameters(self, a, inputs):
        c = _channels(self, inputs[0])
        p = {"weight": (c * a["multiplier"], 1, *a["kernel"])}
        if a["bias"]:
            p["bias"] = (c * a["multiplier"],)
        return p

    def macs(self, a, inputs, out):
        return sy.mul(numel(out), sy.prod(a["kernel"]))

    def window(self, a, inputs):
        return Window(effective_kernel(a["kernel"], a["dilation"]), tuple(a["stride"]))

    def label(self, a):
        text = window_label(None, a["kernel"], a["stride"], a["padding"], a["dilation"])
        return text + (f", ×{a['multiplier']}" if a["multiplier"] != 1 else "")

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


class SeparableConv(_Convolution, Op):
    """separable_conv1d / 2d / 3d: depthwise, then a pointwise (1×1) convolution."""
    output_overwritable = True  # its backward does not read its output
    family = "conv"
    positional = 2  # separable_conv2d(out, kernel), as Keras; the rest by keyword
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
        mid = _channels(self, inputs[0]) * a["multiplier"]
        p = {"depthwise.weight": (mid, 1, *a["kernel"])}
        if a["depthwise_bias"]:
            p["depthwise.bias"] = (mid,)
        p["pointwise.weight"] = (a["out"], mid, *(1,) * self.ndim)
        if a["bias"]:
            p["pointwise.bias"] = (a["out"],)
        return p

    def macs(self, a, inputs, out):
        mid = _channels(self, inputs[0]) * a["multiplier"]
        spatial = sy.mul(out[0], sy.prod(out[2:]))  # N × output positions
        return sy.mul(spatial, mid * sy.prod(a["kernel"]) + mid * a["out"])

    def window(self, a, inputs):
        return Window(effective_kernel(a["kernel"], a["dilation"]), tuple(a["stride"]))

    def label(self, a):
        text = window_label(str(a["out"]), a["kernel"], a["stride"], a["padding"], a["dilation"])
        return text + (f", ×{a['multiplier']}" if a["multiplier"] != 1 else "")

    def saved_for_backward(self, a, inputs, out, ctx):
        x = inputs[0]
        mid = (x[0], sy.mul(x[1], a.multiplier), *out[2:])  # the depthwise output the pointwise reads
        return (_window_input(a, x), Saved("weight", what="depthwise.weight"),
                Saved("new", mid, what="depthwise output"), Saved("weight", what="pointwise.weight"))

    def backward_macs(self, a, inputs, out, ctx):
        m = self.macs(a, inputs, out)
        return sy.add(m, m if ctx.trainable else 0)  # the depthwise output always needs its gradient

    def lower(self, a, inputs, out):
        c = _channels(self, inputs[0])
        return _lower_conv("SeparableConv", c, a.out, a, inputs[0],
                           {"multiplier": a.multiplier, "bias": a.bias,
                            "depthwise_bias": a.depthwise_bias, "ndim": self.ndim},
                           (("stride", 1), ("padding", 0), ("dilation", 1), ("multiplier", 1),
                            ("bias", True), ("depthwise_bias", False), ("ndim", 2)), (_SEPARABLE,))


class ConvTranspose(_Convolution, Op):
    """conv_transpose1d / 2d / 3d."""
    output_overwritable = True  # its backward does not read its output
    family = "conv"
    positional, inferred_leading = 2, "in_channels"  # conv_transpose2d(out, kernel); the rest by keyword
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
        p = {"weight": (c, a["out"] // a["groups"], *a["kernel"])}
        if a["bias"]:
            p["bias"] = (a["out"],)
        return p

    def macs(self, a, inputs, out):
        return sy.mul(numel(inputs[0]), a["out"] // a["groups"] * sy.prod(a["kernel"]))

    def window(self, a, inputs):
        return Window(effective_kernel(a["kernel"], a["dilation"]), tuple(a["stride"]), transposed=True)

    def label(self, a):
        text = window_label(str(a["out"]), a["kernel"], a["stride"], a["padding"], a["dilation"], a["groups"])
        if any(a["output_padding"]):
            text += ", op" + short_text(a["output_padding"])
        return text

    def saved_for_backward(self, a, inputs, out, ctx):
        return (Saved("input"), Saved("weight", what="weight"))  # padding crops the output instead

    def _cropped(self, a) -> tuple | None:
        """Per axis (before, after) cut from torch's result where the padding is asymmetric
        (as `lower` writes it), else None."""
        if a.padding == "same":
            eff = effective_kernel(a.kernel, a.dilation)
            pads = tuple((t // 2, t - t // 2) if t >= 0 else (0, 0) for t in (e - s for e, s in zip(eff, a.stride)))
        else:
            pads = pads_of(a.padding, self.ndim)
        return None if all(b == e for b, e in pads) else pads

    def output_storage_shape(self, a, inputs, out):
        cut = self._cropped(a)
        return out if cut is None else (*out[:2], *(sy.add(d, b + e) for d, (b, e) in zip(out[2:], cut)))

    def output_contiguous(self, a, inputs, out, ctx):
        return self._cropped(a) is None

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


# ----------------------------------------------------------------------------- weight-standardised

_STD_CONV = helper("StdConv2d", '''
class StdConv2d(nn.Conv2d):
    """Conv2d whose weight is standardised per output channel before it is applied (mean 0,
    variance 1 with eps added to the variance), computed as timm.layers.StdConv2d computes it
    (BiT ResNets): batch norm in training mode over the weight seen as [1, out, fan_in]."""

    def __init__(
        self,
        in_channels,
        out_channels,
        kernel_size,
        stride=1,
        padding=0,
        dilation=1,
        groups=1,
        bias=False,
        eps=1e-6,
    ):
        super().__init__(
            in_channels,
            out_channels,
            kernel_size,
            stride=stride,
            padding=padding,
            dilation=dilation,
            groups=groups,
            bias=bias,
        )
        self.eps = eps

    def forward(self, x):
        weight = F.batch_norm(
            self.weight.reshape(1, self.out_channels, -1),
            None,
            None,
            training=True,
            momentum=0.0,
            eps=self.eps,
        ).reshape_as(self.weight)
        return F.conv2d(x, weight, self.bias, self.stride, self.padding, self.dilation, self.groups)
''')

_SCALED_STD_CONV = helper("ScaledStdConv2d", '''
class ScaledStdConv2d(nn.Conv2d):
    """Conv2d with scaled weight standardisation, computed as timm.layers.ScaledStdConv2d
    computes it (NFNets): the weight standardised per output channel, then multiplied by a
    learnable gain [out, 1, 1, 1] and by gamma / sqrt(fan_in)."""

    def __init__(
        self,
        in_channels,
        out_channels,
        kernel_size,
        stride=1,
        padding=0,
        dilation=1,
        groups=1,
        bias=True,
        gamma=1.0,
        eps=1e-6,
    ):
        super().__init__(
            in_channels,
            out_channels,
            kernel_size,
            stride=stride,
            padding=padding,
            dilation=dilation,
            groups=groups,
            bias=bias,
        )
        self.scale = gamma * self.weight[0].numel() ** -0.5
        self.eps = eps
        self.gain = nn.Parameter(torch.ones(out_channels, 1, 1, 1))

    def forward(self, x):
        weight = F.batch_norm(
            self.weight.reshape(1, self.out_channels, -1),
            None,
            None,
            weight=(self.gain * self.scale).view(-1),
            training=True,
            momentum=0.0,
            eps=self.eps,
        ).reshape_as(self.weight)
        return F.conv2d(x, weight, self.bias, self.stride, self.padding, self.dilation, self.groups)
''')


class StdConv(Conv):
    """std_conv2d / scaled_std_conv2d: conv2d with a standardised weight (timm's StdConv2d,
    ScaledStdConv2d)."""

    def __init__(self, scaled: bool):
        super().__init__(2)
        self.scaled = scaled
        self.name = "scaled_std_conv2d" if scaled else "std_conv2d"
        self.title = "ScaledStdConv2d" if scaled else "StdConv2d"
        self.module = self.title
        if scaled:
            self.doc = ("2-d convolution with scaled weight standardisation, as timm.layers."
                        "ScaledStdConv2d (NFNets, nf_resnet): before each use the weight is "
                        "standardised per output channel over its in_channels/groups × kernel "
                        "values (mean 0, biased variance + eps under the square root), times a "
                        "learnable gain per output channel and gamma / sqrt(fan_in), then applied "
                        "as conv2d. Parameters weight, bias, gain as timm names them, so a timm "
                        "checkpoint loads.")
            self.param_rule = ("weight [out, in_channels/groups, *kernel]; bias [out] when "
                               "bias=true; gain [out, 1, 1, 1] (initialised to 1)")
        else:
            self.doc = ("2-d convolution with weight standardisation, as timm.layers.StdConv2d "
                        "(BiT ResNets): before each use the weight is standardised per output "
                        "channel over its in_channels/groups × kernel values (mean 0, biased "
                        "variance + eps under the square root), then applied as conv2d. Parameters "
                        "weight and bias as timm names them, so a timm checkpoint loads.")
        self.shape_rule += ("; each filter must hold more than one value (in_channels/groups × "
                            "prod(kernel) > 1) to be standardised")
        self.doc += (" padding defaults to 0 as conv2d's (timm's own default is "
                     "((stride - 1) + dilation·(kernel - 1)) // 2: write it).")
        self.macs_rule = ("numel(output) × in_channels/groups × prod(kernel), as conv2d; the "
                          "standardisation of the weight (once per call, independent of the "
                          "input's size) is not counted")
        attrs = list(self.attrs)
        attrs[-1] = Attr("bias", BoolType(), scaled, "add a learnable bias per output channel "
                         f"(timm's default: {'true' if scaled else 'false'})")
        if scaled:
            attrs.append(Attr("gamma", Float(above=0.0), 1.0, "scale of the standardised weight, "
                              "times 1/sqrt(fan_in) (NFNets pass their activation's gamma)"))
        attrs.append(Attr("eps", Float(above=0.0), 1e-6, "added to the weight's variance "
                          "(timm's default 1e-6; nf_resnet/NFNet configurations pass 1e-5, BiT 1e-8)"))
        self.attrs = tuple(attrs)

    def output_shape(self, a, inputs, ctx):
        shape = super().output_shape(a, inputs, ctx)
        fan_in = _channels(self, inputs[0]) // a.groups * sy.prod(a.kernel)
        if fan_in == 1:
            raise ShapeError(f"each filter of {self.name} has one value (in_channels/groups × kernel "
                             "= 1): it cannot be standardised (its variance is 0, and PyTorch's "
                             "batch_norm, which timm uses, refuses a single value per channel)",
                             "use conv2d for a depthwise 1×1 convolution, or a larger kernel or "
                             "fewer groups", code="E-SHAPE-STD-CONV-FAN-IN")
        return shape

    def parameters(self, a, inputs):
        p = super().parameters(a, inputs)
        if self.scaled:
            p["gain"] = (a["out"], 1, 1, 1)
        return p

    def saved_for_backward(self, a, inputs, out, ctx):
        # the weight standardised by F.batch_norm over each filter (its mean and inverse standard
        # deviation kept, and the scaled gain where there is one), then the convolution's own
        stats = (Saved("new", (a.out,), "float32", "filter mean"),
                 Saved("new", (a.out,), "float32", "filter inverse std"))
        gain = (Saved("new", (a.out,), "float32", "gain × scale"),) if self.scaled else ()
        weight = self.parameters(a, inputs)["weight"]
        return (*stats, *gain, _window_input(a, inputs[0]), Saved("new", weight, what="standardised weight"))

    def lower(self, a, inputs, out):
        options = {"groups": a.groups, "bias": a.bias}
        defaults = _CONV_DEFAULTS[:-1] + (("bias", self.scaled),)
        if self.scaled:
            options["gamma"] = a.gamma
            defaults += (("gamma", 1.0),)
        options["eps"] = a.eps
        defaults += (("eps", 1e-6),)
        return _lower_conv(self.module, _channels(self, inputs[0]), a.out, a, inputs[0], options,
                           defaults, (_SCALED_STD_CONV if self.scaled else _STD_CONV,))


# ----------------------------------------------------------------------------- fixed filter

_BLUR_POOL = helper("BlurPool2d", '''
class BlurPool2d(nn.Module):
    """Blur with a fixed binomial filter, then subsample (anti-aliased downsampling), computed
    as timm.layers.BlurPool2d computes it: each side padded by ((stride - 1) + (filt_size - 1))
    // 2 with pad_mode, then a depthwise convolution with the filter, a buffer `filt`
    [channels, 1, filt_size, filt_size] that is not saved in the state_dict (persistent=False)."""

    def __init__(self, channels, filt_size=3, stride=2, pad_mode="reflect"):
        super().__init__()
        self.channels = channels
        self.filt_size = filt_size
        self.stride = stride
        self.pad_mode = pad_mode
        self.padding = [((stride - 1) + (filt_size - 1)) // 2] * 4
        row = [1]  # binomial coefficients C(filt_size - 1, k), row by row of Pascal's triangle
        for _ in range(filt_size - 1):
            row = [a + b for a, b in zip([0] + row, row + [0])]
        coeffs = torch.tensor(row, dtype=torch.float32) / (2 ** (filt_size - 1))
        filt = (coeffs[:, None] * coeffs[None, :])[None, None, :, :]
        self.register_buffer("filt", filt.repeat(channels, 1, 1, 1), persistent=False)

    def forward(self, x):
        x = F.pad(x, self.padding, mode=self.pad_mode)
        return F.conv2d(x, self.filt, stride=self.stride, groups=self.channels)
''')


def _blur_padding(a) -> int:
    """timm's get_padding(filt_size, stride): ((stride - 1) + (filt_size - 1)) // 2 per side."""
    return ((a.stride - 1) + (a.filt_size - 1)) // 2


class BlurPool(_Convolution, Op):
    """blur_pool2d: timm's BlurPool2d, a depthwise convolution with a fixed binomial filter."""
    output_overwritable = True  # its backward does not read its output
    name = "blur_pool2d"
    aliases = ("blurpool2d",)
    title = "BlurPool2d"
    family = "conv"
    doc = ("Anti-aliased downsampling (Zhang 2019, \"Making Convolutional Networks Shift-Invariant "
           "Again\"), as timm.layers.BlurPool2d: each spatial side padded by "
           "((stride - 1) + (filt_size - 1)) // 2 (reflected by default), then every channel "
           "convolved with the same fixed, normalised binomial filter (outer product of "
           "C(filt_size - 1, k) / 2^(filt_size - 1), k = 0 … filt_size - 1: [1, 2, 1]/4 for "
           "filt_size=3) at the given stride. Nothing is learned: the filter is a buffer `filt` "
           "[C, 1, filt_size, filt_size] that, as in timm, is not saved (persistent=False), so "
           "the state_dict has no key for it and a timm checkpoint loads with strict=True.")
    attrs = (
        Attr("filt_size", Int(2), 3, "size of the square binomial filter (timm supports 3 and 5 "
             "in its docs; any size ≥ 2 is computed the same way)"),
        Attr("stride", Int(1), 2, "subsampling step on both spatial axes"),
        Attr("pad_mode", Choice("reflect", "constant"), "reflect", "how the border is filled: "
             "reflect (timm's default) or constant zeros (timm's `blurpc`)"),
    )
    shape_rule = ("[N, C, H, W] → [N, C, H', W']; with p = ((stride - 1) + (filt_size - 1)) // 2, "
                  "per spatial axis out = floor((in + 2p - filt_size) / stride) + 1, which must be "
                  "≥ 1; pad_mode=reflect needs p < in (PyTorch's rule)")
    param_rule = "none (the filter is a non-persistent buffer, outside the state_dict)"
    macs_rule = "numel(output) × filt_size², as a depthwise convolution"

    def output_shape(self, a, inputs, ctx):
        x = inputs[0]
        self.check_rank(x, 4)
        _channels(self, x)
        p = _blur_padding(a)
        if a.pad_mode == "reflect":
            for axis, d in enumerate(x[2:], 2):
                if not (d > p if sy.is_int(d) else ctx.require_positive(sy.sub(d, p))):
                    raise ShapeError(f"reflection padding {p} on axis {axis} of size {sy.to_str(d)}: "
                                     "a reflection needs more positions than it adds",
                                     "give a larger input, a smaller filt_size or stride, or "
                                     "pad_mode=constant", code="E-SHAPE-REFLECTION-PADDING")
        k = (a.filt_size, a.filt_size)
        sp = sliding_output(x[2:], k, (a.stride, a.stride), ((p, p), (p, p)), None, ctx)
        return (x[0], x[1], *sp)

    def macs(self, a, inputs, out):
        return sy.mul(numel(out), a["filt_size"] * a["filt_size"])

    def window(self, a, inputs):
        return Window((a["filt_size"], a["filt_size"]), (a["stride"], a["stride"]))

    def label(self, a):
        size = a["filt_size"]
        return f"{size}×{size}, s{a['stride']}" + (", zeros" if a["pad_mode"] == "constant" else "")

    def saved_for_backward(self, a, inputs, out, ctx):
        x = inputs[0]
        p = _blur_padding(a)
        padded = Saved("new", (*x[:2], *(sy.add(d, 2 * p) for d in x[2:])), what="padded input")
        # reflection padding's backward reads its input; the filter is a buffer (not counted)
        return (Saved("input"), padded) if a.pad_mode == "reflect" else (padded,)

    def backward_macs(self, a, inputs, out, ctx):
        return self.macs(a, inputs, out) if ctx.grads[0] else 0  # nothing learned

    def lower(self, a, inputs, out):
        module = py_call("BlurPool2d", _channels(self, inputs[0]), filt_size=a.filt_size,
                         stride=a.stride, pad_mode=a.pad_mode)
        return Lowered(module, "{m}({0})", (_BLUR_POOL,),
                       (("filt_size", 3), ("stride", 2), ("pad_mode", "reflect")))


OPS = [
    *(Conv(n) for n in (1, 2, 3)),
    *(DepthwiseConv(n) for n in (1, 2, 3)),
    *(SeparableConv(n) for n in (1, 2, 3)),
    *(ConvTranspose(n) for n in (1, 2, 3)),
    StdConv(scaled=False), StdConv(scaled=True), BlurPool(),
]
