"""The table from PyTorch modules and functions to archc ops.

`MODULES`: one entry per module class: the archc op and how its attributes map (a function of
the module giving the op's attribute values; anything archc cannot say raises `Unsupported`).
`FUNCTIONS` / `METHODS`: one entry per function (`torch.cat`, `F.relu`, `operator.add`) or tensor
method (`x.flatten(1)`, `x.view(...)`): a function of the call (`Call`, its arguments as archc
expressions or plain values) giving the archc expression. Modules missing here are traced into
(they become blocks); a function or method missing here cannot be imported (E-TORCH-FUNCTION).
Each entry is tested (tests/importer/test_table.py). torch is imported lazily.
"""
from __future__ import annotations

import operator
from dataclasses import dataclass
from typing import Any, Callable


class Unsupported(Exception):
    """An attribute value or argument archc's op cannot express (said, never approximated)."""


@dataclass(frozen=True)
class OpCall:
    """An archc op with its attribute values (all of them that differ from a default may be
    given; `emit` writes only those that differ)."""
    op: str
    attrs: dict


def _one(value: Any) -> Any:
    """(3, 3) -> 3: one value for every axis where they agree; lists stay lists."""
    if isinstance(value, (tuple, list)):
        value = [_one(v) for v in value]
        return value[0] if value and all(v == value[0] for v in value) else value
    return value


def _integral(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, (tuple, list)):
        return [_integral(v) for v in value]
    return value


def _padding(value: Any) -> Any:
    if isinstance(value, str):
        return value  # same, valid
    return _one(value)


def _conv(op: str) -> Callable[[Any], OpCall]:
    def convert(m: Any) -> OpCall:
        if m.padding_mode != "zeros":
            raise Unsupported(f"padding_mode={m.padding_mode!r} (archc's convolutions pad with zeros; "
                              "write the padding as its own layer)")
        attrs = {"out": m.out_channels, "kernel": _one(m.kernel_size), "stride": _one(m.stride),
                 "padding": _padding(m.padding), "dilation": _one(m.dilation), "groups": m.groups,
                 "bias": m.bias is not None}
        if "transpose" in op:
            attrs["output_padding"] = _one(m.output_padding)
        return OpCall(op, attrs)
    return convert


def _batchnorm(op: str) -> Callable[[Any], OpCall]:
    def convert(m: Any) -> OpCall:
        if m.momentum is None:
            raise Unsupported("momentum=None (a cumulative average; archc's batch norms take a number)")
        return OpCall(op, {"eps": m.eps, "momentum": m.momentum, "affine": m.affine,
                           "track_running_stats": m.track_running_stats})
    return convert


def _instancenorm(op: str) -> Callable[[Any], OpCall]:
    def convert(m: Any) -> OpCall:
        if m.track_running_stats and m.momentum != 0.1:
            raise Unsupported(f"momentum={m.momentum}")
        return OpCall(op, {"eps": m.eps, "affine": m.affine, "track_running_stats": m.track_running_stats})
    return convert


def _layernorm(m: Any) -> OpCall:
    if m.elementwise_affine and getattr(m, "bias", True) is None:
        raise Unsupported("bias=False (archc's layernorm has both a scale and a shift, or neither)")
    count = len(m.normalized_shape)
    where = {"axis": -1} if count == 1 else {"axes": count}
    return OpCall("layernorm", {**where, "eps": m.eps, "affine": m.elementwise_affine})


def _groupnorm(m: Any) -> OpCall:
    return OpCall("groupnorm", {"groups": m.num_groups, "eps": m.eps, "affine": m.affine})


def _linear(m: Any) -> OpCall:
    return OpCall("linear", {"out": m.out_features, "bias": m.bias is not None})


def _maxpool(op: str) -> Callable[[Any], OpCall]:
    def convert(m: Any) -> OpCall:
        if m.return_indices:
            raise Unsupported("return_indices=True")
        return OpCall(op, {"kernel": _one(m.kernel_size), "stride": _one(m.stride), "padding": _one(m.padding),
                           "dilation": _one(m.dilation), "ceil_mode": m.ceil_mode})
    return convert


def _avgpool(op: str) -> Callable[[Any], OpCall]:
    def convert(m: Any) -> OpCall:
        if getattr(m, "divisor_override", None):
            raise Unsupported(f"divisor_override={m.divisor_override}")
        return OpCall(op, {"kernel": _one(m.kernel_size), "stride": _one(m.stride), "padding": _one(m.padding),
                           "ceil_mode": m.ceil_mode, "count_include_pad": m.count_include_pad})
    return convert


def _adaptive(op: str) -> Callable[[Any], OpCall]:
    def convert(m: Any) -> OpCall:
        size = m.output_size
        if size is None or (isinstance(size, (tuple, list)) and None in size):
            raise Unsupported("an output size of None (keep that axis's size)")
        return OpCall(op, {"output_size": _one(size)})
    return convert


def _plain(op: str) -> Callable[[Any], OpCall]:
    return lambda m: OpCall(op, {})


def _pad(op: str, dims: int) -> Callable[[Any], OpCall]:
    def convert(m: Any) -> OpCall:
        if getattr(m, "value", 0) != 0:
            raise Unsupported(f"padding with {m.value} (archc pads with zeros)")
        return OpCall(op, {"padding": torch_padding(m.padding, dims)})
    return convert


def torch_padding(pad: Any, dims: int) -> Any:
    """PyTorch's padding (last axis first: left, right, top, bottom) as archc's (per axis from
    the first spatial one, pairs (before, after))."""
    if isinstance(pad, int):
        return pad
    pad = list(pad)
    pairs = [[pad[2 * k], pad[2 * k + 1]] for k in range(len(pad) // 2)][::-1]
    pairs = [[0, 0]] * (dims - len(pairs)) + pairs
    return _one(pairs) if all(a == b for a, b in pairs) else pairs


def _upsample(m: Any) -> OpCall:
    if m.size is not None or m.scale_factor is None:
        raise Unsupported("Upsample with a fixed output size (archc's upsample scales by integer factors)")
    scale = _integral(_one(m.scale_factor))
    if not all(isinstance(s, int) for s in (scale if isinstance(scale, list) else [scale])):
        raise Unsupported(f"scale_factor={m.scale_factor} (archc's upsample scales by integer factors)")
    attrs = {"scale": scale, "mode": m.mode}
    if m.align_corners:
        attrs["align_corners"] = True
    return OpCall("upsample", attrs)


def _activation(op: str, **fields: str) -> Callable[[Any], OpCall]:
    return lambda m: OpCall(op, {attr: getattr(m, source) for attr, source in fields.items()})


def _prelu(m: Any) -> OpCall:
    return OpCall("prelu", {"per_channel": m.num_parameters > 1})


def _softmax(op: str) -> Callable[[Any], OpCall]:
    def convert(m: Any) -> OpCall:
        if m.dim is None:
            raise Unsupported("dim=None (say the axis)")
        return OpCall(op, {"dim": m.dim})
    return convert


def _flatten(m: Any) -> OpCall:
    return OpCall("flatten", {"start_dim": m.start_dim, "end_dim": m.end_dim})


def _dropout(op: str) -> Callable[[Any], OpCall]:
    return lambda m: OpCall(op, {"p": m.p})


def _stochastic_depth(m: Any) -> OpCall:
    return OpCall("stochastic_depth", {"p": m.p, "mode": m.mode})


def _permute(m: Any) -> OpCall:
    return OpCall("permute", {"dims": list(m.dims)})


def _batchnorm_act(m: Any) -> list[OpCall]:
    """timm's BatchNormAct2d: a batch norm (its weights are the module's own), then its `drop`
    and `act` children: several layers, the first named after the module."""
    calls = [_batchnorm("batchnorm2d")(m)]
    for child in (getattr(m, "drop", None), getattr(m, "act", None)):
        if child is None:
            continue
        entry = module_entry(child)
        if entry is None:
            raise Unsupported(f"{type(child).__name__} after its batch norm has no archc op")
        call = entry(child)
        for c in call if isinstance(call, list) else [call]:
            if c.op != "identity":
                calls.append(c)
    return calls


def _std_conv(op: str) -> Callable[[Any], OpCall]:
    """timm's weight-standardised convolutions (BiT's StdConv2d, NFNets' ScaledStdConv2d)."""
    def convert(m: Any) -> OpCall:
        call = _conv("conv2d")(m)
        attrs = {**call.attrs, "eps": m.eps}
        if op == "scaled_std_conv2d":
            attrs["gamma"] = _gamma(m.scale, m.weight[0].numel())
        return OpCall(op, attrs)
    return convert


def _gamma(scale: float, fan_in: int) -> float:
    """The gamma for which gamma * fan_in ** -0.5 is `scale` exactly, as the module computed it
    (timm keeps the product only): the nearest floats around scale * sqrt(fan_in) are tried."""
    import math
    guess = scale * fan_in ** 0.5
    candidates = [guess]
    for direction in (math.inf, -math.inf):
        g = guess
        for _ in range(8):
            g = math.nextafter(g, direction)
            candidates.append(g)
    for g in candidates:
        if g * fan_in ** -0.5 == scale:
            return g
    raise Unsupported(f"a scale {scale} that no gamma gives exactly")


def _frozen_batchnorm(m: Any) -> OpCall:
    return OpCall("frozen_batchnorm2d", {"eps": m.eps})


# The module table: the class by its qualified name (torchvision's and timm's classes are named,
# never imported) -> its conversion. Only these exact classes: a subclass may have its own forward.
MODULES: dict[str, Callable[[Any], "OpCall | list[OpCall]"]] = {
    "torch.nn.modules.conv.Conv1d": _conv("conv1d"),
    "torch.nn.modules.conv.Conv2d": _conv("conv2d"),
    "torch.nn.modules.conv.Conv3d": _conv("conv3d"),
    "torch.nn.modules.conv.ConvTranspose1d": _conv("conv_transpose1d"),
    "torch.nn.modules.conv.ConvTranspose2d": _conv("conv_transpose2d"),
    "torch.nn.modules.conv.ConvTranspose3d": _conv("conv_transpose3d"),
    "torch.nn.modules.batchnorm.BatchNorm1d": _batchnorm("batchnorm1d"),
    "torch.nn.modules.batchnorm.BatchNorm2d": _batchnorm("batchnorm2d"),
    "torch.nn.modules.batchnorm.BatchNorm3d": _batchnorm("batchnorm3d"),
    "torch.nn.modules.instancenorm.InstanceNorm1d": _instancenorm("instancenorm1d"),
    "torch.nn.modules.instancenorm.InstanceNorm2d": _instancenorm("instancenorm2d"),
    "torch.nn.modules.instancenorm.InstanceNorm3d": _instancenorm("instancenorm3d"),
    "torch.nn.modules.normalization.LayerNorm": _layernorm,
    "torch.nn.modules.normalization.GroupNorm": _groupnorm,
    "torch.nn.modules.linear.Linear": _linear,
    "torch.nn.modules.linear.Identity": _plain("identity"),
    "torch.nn.modules.flatten.Flatten": _flatten,
    "torch.nn.modules.pooling.MaxPool1d": _maxpool("maxpool1d"),
    "torch.nn.modules.pooling.MaxPool2d": _maxpool("maxpool2d"),
    "torch.nn.modules.pooling.MaxPool3d": _maxpool("maxpool3d"),
    "torch.nn.modules.pooling.AvgPool1d": _avgpool("avgpool1d"),
    "torch.nn.modules.pooling.AvgPool2d": _avgpool("avgpool2d"),
    "torch.nn.modules.pooling.AvgPool3d": _avgpool("avgpool3d"),
    "torch.nn.modules.pooling.AdaptiveAvgPool1d": _adaptive("adaptive_avgpool1d"),
    "torch.nn.modules.pooling.AdaptiveAvgPool2d": _adaptive("adaptive_avgpool2d"),
    "torch.nn.modules.pooling.AdaptiveAvgPool3d": _adaptive("adaptive_avgpool3d"),
    "torch.nn.modules.pooling.AdaptiveMaxPool1d": _adaptive("adaptive_maxpool1d"),
    "torch.nn.modules.pooling.AdaptiveMaxPool2d": _adaptive("adaptive_maxpool2d"),
    "torch.nn.modules.pooling.AdaptiveMaxPool3d": _adaptive("adaptive_maxpool3d"),
    "torch.nn.modules.activation.ReLU": _plain("relu"),
    "torch.nn.modules.activation.ReLU6": _plain("relu6"),
    "torch.nn.modules.activation.LeakyReLU": _activation("leaky_relu", negative_slope="negative_slope"),
    "torch.nn.modules.activation.ELU": _activation("elu", alpha="alpha"),
    "torch.nn.modules.activation.SELU": _plain("selu"),
    "torch.nn.modules.activation.GELU": _activation("gelu", approximate="approximate"),
    "torch.nn.modules.activation.SiLU": _plain("silu"),
    "torch.nn.modules.activation.Mish": _plain("mish"),
    "torch.nn.modules.activation.Sigmoid": _plain("sigmoid"),
    "torch.nn.modules.activation.Hardsigmoid": _plain("hardsigmoid"),
    "torch.nn.modules.activation.Tanh": _plain("tanh"),
    "torch.nn.modules.activation.Hardtanh": _activation("hardtanh", min_val="min_val", max_val="max_val"),
    "torch.nn.modules.activation.Hardswish": _plain("hardswish"),
    "torch.nn.modules.activation.Softplus": _activation("softplus", beta="beta", threshold="threshold"),
    "torch.nn.modules.activation.Softmax": _softmax("softmax"),
    "torch.nn.modules.activation.LogSoftmax": _softmax("log_softmax"),
    "torch.nn.modules.activation.PReLU": _prelu,
    "torch.nn.modules.dropout.Dropout": _dropout("dropout"),
    "torch.nn.modules.dropout.Dropout1d": _dropout("dropout1d"),
    "torch.nn.modules.dropout.Dropout2d": _dropout("dropout2d"),
    "torch.nn.modules.dropout.Dropout3d": _dropout("dropout3d"),
    "torch.nn.modules.dropout.AlphaDropout": _dropout("alpha_dropout"),
    "torch.nn.modules.upsampling.Upsample": _upsample,
    "torch.nn.modules.padding.ZeroPad1d": _pad("zeropad1d", 1),
    "torch.nn.modules.padding.ZeroPad2d": _pad("zeropad2d", 2),
    "torch.nn.modules.padding.ZeroPad3d": _pad("zeropad3d", 3),
    "torch.nn.modules.padding.ConstantPad1d": _pad("zeropad1d", 1),
    "torch.nn.modules.padding.ConstantPad2d": _pad("zeropad2d", 2),
    "torch.nn.modules.padding.ConstantPad3d": _pad("zeropad3d", 3),
    "torch.nn.modules.padding.ReflectionPad1d": _pad("reflectionpad1d", 1),
    "torch.nn.modules.padding.ReflectionPad2d": _pad("reflectionpad2d", 2),
    "torch.nn.modules.padding.ReflectionPad3d": _pad("reflectionpad3d", 3),
    "torch.nn.modules.padding.ReplicationPad1d": _pad("replicationpad1d", 1),
    "torch.nn.modules.padding.ReplicationPad2d": _pad("replicationpad2d", 2),
    "torch.nn.modules.padding.ReplicationPad3d": _pad("replicationpad3d", 3),
    "torchvision.ops.stochastic_depth.StochasticDepth": _stochastic_depth,
    "torchvision.ops.misc.Permute": _permute,
    "torchvision.ops.misc.FrozenBatchNorm2d": _frozen_batchnorm,
    # LayerNorm subclasses that normalise the channels of a channels-first tensor (permute,
    # layer_norm, permute back): archc's layernorm(axis=1), one nn.LayerNorm's weight and bias
    "torchvision.models.convnext.LayerNorm2d": lambda m: OpCall("layernorm", {"axis": 1, "eps": m.eps,
                                                                             "affine": m.elementwise_affine}),
    "timm.layers.norm_act.BatchNormAct2d": _batchnorm_act,
    "timm.layers.linear.Linear": _linear,
    "timm.layers.std_conv.StdConv2d": _std_conv("std_conv2d"),
    "timm.layers.std_conv.ScaledStdConv2d": _std_conv("scaled_std_conv2d"),  # nn.Linear (its forward casts under TorchScript only)
    "timm.layers.grn.GlobalResponseNorm": lambda m: OpCall("grn", {"eps": m.eps,
                                                                   "channels_last": m.channel_dim == -1}),
    "timm.layers.norm.LayerNorm2d": lambda m: OpCall("layernorm", {"axis": 1, "eps": m.eps,
                                                                  "affine": m.elementwise_affine}),
}


def class_name(module: Any) -> str:
    cls = type(module)
    return f"{cls.__module__}.{cls.__qualname__}"


def module_entry(module: Any) -> Callable[[Any], OpCall] | None:
    """The entry of the module's class, or of a class it derives from without a forward of its
    own (torchvision's Conv3DSimple is an nn.Conv3d)."""
    cls = type(module)
    for base in cls.__mro__:
        entry = MODULES.get(f"{base.__module__}.{base.__qualname__}")
        if entry is not None:
            return entry if getattr(cls, "forward", None) is getattr(base, "forward", None) else None
    return None


# ----------------------------------------------------------------------------- functions


class Call:
    """A call of a function or method being converted: its arguments as the emitter sees them.

    `arg(i, name, default)`: the i-th positional or the keyword argument, as an archc expression
    (for a tensor) or a plain value; `value(...)`: the same as a plain value only (Unsupported
    for a tensor); `tensor(...)`: a tensor's expression; `shape(...)`: a tensor argument's shape
    on the example inputs. `op(name, inputs, attrs)`: an archc layer on `inputs`."""

    def __init__(self, emitter: Any, node: Any):
        self.emitter = emitter
        self.node = node

    def raw(self, i: int, name: str | None = None, default: Any = None) -> Any:
        args, kwargs = self.node.args, self.node.kwargs
        if i < len(args):
            return args[i]
        if name is not None and name in kwargs:
            return kwargs[name]
        return default

    def given(self, i: int, name: str | None = None) -> bool:
        return i < len(self.node.args) or (name is not None and name in self.node.kwargs)

    def tensor(self, i: int, name: str | None = None) -> Any:
        return self.emitter.tensor(self.raw(i, name))

    def value(self, i: int, name: str | None = None, default: Any = None) -> Any:
        return self.emitter.constant(self.raw(i, name, default))

    def shape(self, i: int, name: str | None = None) -> tuple:
        return self.emitter.shape_of(self.raw(i, name))

    def is_tensor(self, i: int, name: str | None = None) -> bool:
        return self.emitter.is_tensor(self.raw(i, name))

    def tensors(self, i: int, name: str | None = None) -> list:
        return [self.emitter.operand(t) for t in self.raw(i, name)]

    def op(self, name: str, inputs: list, attrs: dict | None = None) -> Any:
        return self.emitter.op_expr(OpCall(name, attrs or {}), inputs)

    def out_shape(self) -> tuple:
        return self.emitter.shape_of(self.node)


def _unary(op: str, **defaults: Any) -> Callable[[Call], Any]:
    """An elementwise function f(x, attr...) or method x.f(attr...)."""
    def convert(c: Call) -> Any:
        attrs = {}
        for k, (attr, default) in enumerate(defaults.items(), start=1):
            attrs[attr] = c.value(k, attr, default)
        return c.op(op, [c.tensor(0, "input")], attrs)
    return convert


def _binary(symbol: str) -> Callable[[Call], Any]:
    def convert(c: Call) -> Any:
        return c.emitter.binary(symbol, c.raw(0, "input"), c.raw(1, "other"))
    return convert


def _cat(c: Call) -> Any:
    parts = list(c.raw(0, "tensors"))
    if not all(c.emitter.is_tensor(p) for p in parts):
        raise Unsupported("a concatenation of something other than tensors")
    return c.emitter.concat(parts, c.value(1, "dim", 0))


def _flatten_call(c: Call) -> Any:
    return c.op("flatten", [c.tensor(0, "input")],
                {"start_dim": c.value(1, "start_dim", 0), "end_dim": c.value(2, "end_dim", -1)})


def _adaptive_call(op: str) -> Callable[[Call], Any]:
    def convert(c: Call) -> Any:
        size = c.value(1, "output_size")
        if size is None or (isinstance(size, (tuple, list)) and None in size):
            raise Unsupported("an output size of None")
        return c.op(op, [c.tensor(0, "input")], {"output_size": _one(size)})
    return convert


def _pool_call(op: str, dilation: bool) -> Callable[[Call], Any]:
    def convert(c: Call) -> Any:
        kernel = c.value(1, "kernel_size")
        attrs = {"kernel": _one(kernel), "stride": _one(c.value(2, "stride", None) or kernel),
                 "padding": _one(c.value(3, "padding", 0))}
        if dilation:
            attrs["dilation"] = _one(c.value(4, "dilation", 1))
            attrs["ceil_mode"] = c.value(5, "ceil_mode", False)
            if c.value(6, "return_indices", False):
                raise Unsupported("return_indices=True")
        else:
            attrs["ceil_mode"] = c.value(4, "ceil_mode", False)
            attrs["count_include_pad"] = c.value(5, "count_include_pad", True)
            if c.value(6, "divisor_override", None):
                raise Unsupported("divisor_override")
        return c.op(op, [c.tensor(0, "input")], attrs)
    return convert


def _dropout_call(op: str) -> Callable[[Call], Any]:
    def convert(c: Call) -> Any:
        return c.op(op, [c.tensor(0, "input")], {"p": c.value(1, "p", 0.5)})
    return convert


def _reduce(op: str) -> Callable[[Call], Any]:
    def convert(c: Call) -> Any:
        axis = c.value(1, "dim", None)
        if axis is None:
            raise Unsupported(f"a {op} over every axis, the batch included (archc reduces per sample)")
        axis = list(axis) if isinstance(axis, (tuple, list)) else axis
        return c.op(op, [c.tensor(0, "input")], {"axis": axis, "keepdim": c.value(2, "keepdim", False)})
    return convert


def _softmax_call(op: str) -> Callable[[Call], Any]:
    def convert(c: Call) -> Any:
        dim = c.value(1, "dim", None)
        if dim is None:
            raise Unsupported("dim=None (say the axis)")
        if c.value(3, "dtype", None) is not None:
            raise Unsupported("dtype=")
        return c.op(op, [c.tensor(0, "input")], {"dim": dim})
    return convert


def _reshape(c: Call) -> Any:
    """x.view(n, c, -1), x.reshape(x.size(0), -1), torch.reshape(x, (n, -1)): the batch axis is
    kept (archc's reshape is per sample)."""
    node = c.node
    sizes = list(node.args[1:]) if node.target not in (_torch_reshape(),) else list(node.args[1])
    if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)):
        sizes = list(sizes[0])
    if not sizes:
        sizes = list(node.kwargs.get("shape", node.kwargs.get("size", ())))
    return c.emitter.reshape(c.raw(0, "input"), sizes)


def _torch_reshape() -> Any:
    import torch
    return torch.reshape


def _transpose(c: Call) -> Any:
    return c.op("transpose", [c.tensor(0, "input")], {"dim0": c.value(1, "dim0"), "dim1": c.value(2, "dim1")})


def _permute_call(c: Call) -> Any:
    node = c.node
    dims = list(node.args[1:])
    if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
        dims = list(dims[0])
    if not dims:
        dims = list(node.kwargs.get("dims", ()))
    dims = [c.emitter.constant(d) for d in dims]
    rank = len(c.shape(0))
    return c.op("permute", [c.tensor(0, "input")], {"dims": [d % rank for d in dims]})


def _identity_call(c: Call) -> Any:
    return c.tensor(0, "input")


def _chunk(c: Call) -> Any:
    return c.emitter.pieces("chunk", c.tensor(0, "input"), {"chunks": c.value(1, "chunks"),
                                                            "axis": c.value(2, "dim", 0)}, c.node)


def _split(c: Call) -> Any:
    sizes = c.value(1, "split_size_or_sections")
    axis = c.value(2, "dim", 0)
    total = c.shape(0)[axis]
    if isinstance(sizes, int):
        sizes = [sizes] * (total // sizes) + ([total % sizes] if total % sizes else [])
    return c.emitter.pieces("split", c.tensor(0, "input"), {"sizes": list(sizes), "axis": axis}, c.node)


def _interpolate(c: Call) -> Any:
    x = c.tensor(0, "input")
    size = c.raw(1, "size")
    scale = c.value(2, "scale_factor", None)
    mode = c.value(3, "mode", "nearest")
    align = c.value(4, "align_corners", None)
    attrs = {"mode": mode}
    if align:
        attrs["align_corners"] = True
    if size is not None:
        ref = c.emitter.size_source(size)
        if ref is None:
            raise Unsupported("F.interpolate to a fixed size (archc resizes by integer factors or to "
                              "another tensor's size)")
        return c.op("resize_like", [x, ref], attrs)
    scale = _integral(_one(scale))
    if not all(isinstance(s, int) for s in (scale if isinstance(scale, list) else [scale])):
        raise Unsupported(f"scale_factor={scale} (archc's upsample scales by integer factors)")
    return c.op("upsample", [x], {"scale": scale, **attrs})


def _pad_call(c: Call) -> Any:
    mode = c.value(2, "mode", "constant")
    value = c.value(3, "value", None)
    if value not in (None, 0, 0.0):
        raise Unsupported(f"padding with {value}")
    ops = {"constant": "zeropad", "reflect": "reflectionpad", "replicate": "replicationpad"}
    if mode not in ops:
        raise Unsupported(f"mode={mode!r}")
    pad = list(c.value(1, "pad"))
    dims = len(pad) // 2
    if dims > len(c.shape(0)) - 2:
        raise Unsupported("padding of the channel or batch axis")
    spatial = len(c.shape(0)) - 2
    return c.op(f"{ops[mode]}{spatial}d", [c.tensor(0, "input")], {"padding": torch_padding(pad, spatial)})


def _getitem(c: Call) -> Any:
    return c.emitter.getitem(c.node)


def _size(c: Call) -> Any:
    return c.emitter.size(c.node)


def _unsqueeze(c: Call) -> Any:
    """torch.unsqueeze(x[:, k], 1) is x[:, k:k + 1] (GoogLeNet's transform_input); otherwise a
    reshape with a 1 inserted."""
    dim = c.value(1, "dim")
    rank = len(c.shape(0)) + 1
    dim = dim % rank
    if dim == 0:
        raise Unsupported("a new batch axis")
    return c.emitter.unsqueeze(c.raw(0, "input"), dim)


def _checked(c: Call) -> Any:
    """torch._assert(condition on sizes, message): true on the example inputs (the forward ran);
    archc checks its own shapes. Nothing to write."""
    if c.is_tensor(0):
        raise Unsupported("an assertion on a tensor's values")
    return c.emitter.nothing()


def _contiguous(c: Call) -> Any:
    return c.tensor(0, "input")


def _gelu_call(c: Call) -> Any:
    return c.op("gelu", [c.tensor(0, "input")], {"approximate": c.value(1, "approximate", "none")})


def _hardtanh_call(c: Call) -> Any:
    return c.op("hardtanh", [c.tensor(0, "input")],
                {"min_val": c.value(1, "min_val", -1.0), "max_val": c.value(2, "max_val", 1.0)})


def _clamp(c: Call) -> Any:
    low, high = c.value(1, "min", None), c.value(2, "max", None)
    if low == 0 and high == 6:
        return c.op("relu6", [c.tensor(0, "input")])
    if low == 0 and high is None:
        return c.op("relu", [c.tensor(0, "input")])
    if low is not None and high is not None:
        return c.op("hardtanh", [c.tensor(0, "input")], {"min_val": float(low), "max_val": float(high)})
    raise Unsupported("clamp with one bound other than 0")


def functions() -> dict:
    """call_function targets -> conversion (built on first use: it imports torch)."""
    import torch
    import torch.nn.functional as F
    table: dict = {
        operator.add: _binary("+"), operator.iadd: _binary("+"), torch.add: _binary("+"),
        operator.sub: _binary("-"), operator.isub: _binary("-"), torch.sub: _binary("-"),
        operator.mul: _binary("*"), operator.imul: _binary("*"), torch.mul: _binary("*"),
        operator.truediv: _binary("/"), operator.itruediv: _binary("/"), operator.floordiv: _binary("//"),
        operator.getitem: _getitem,
        operator.eq: _binary("=="), operator.ne: _binary("!="), operator.lt: _binary("<"),
        operator.le: _binary("<="), operator.gt: _binary(">"), operator.ge: _binary(">="),
        torch._assert: _checked,
        torch.cat: _cat, torch.concat: _cat,
        torch.flatten: _flatten_call,
        torch.relu: _unary("relu"), F.relu: _unary("relu"), torch.relu_: _unary("relu"),
        F.relu6: _unary("relu6"), F.silu: _unary("silu"), F.mish: _unary("mish"),
        torch.sigmoid: _unary("sigmoid"), F.sigmoid: _unary("sigmoid"),
        F.hardsigmoid: _unary("hardsigmoid"), F.hardswish: _unary("hardswish"),
        torch.tanh: _unary("tanh"), F.tanh: _unary("tanh"), F.gelu: _gelu_call,
        F.leaky_relu: _unary("leaky_relu", negative_slope=0.01), F.elu: _unary("elu", alpha=1.0),
        F.selu: _unary("selu"), F.hardtanh: _hardtanh_call, torch.clamp: _clamp,
        F.softmax: _softmax_call("softmax"), torch.softmax: _softmax_call("softmax"),
        F.log_softmax: _softmax_call("log_softmax"),
        torch.abs: _unary("absolute"),
        F.adaptive_avg_pool1d: _adaptive_call("adaptive_avgpool1d"),
        F.adaptive_avg_pool2d: _adaptive_call("adaptive_avgpool2d"),
        F.adaptive_avg_pool3d: _adaptive_call("adaptive_avgpool3d"),
        F.adaptive_max_pool1d: _adaptive_call("adaptive_maxpool1d"),
        F.adaptive_max_pool2d: _adaptive_call("adaptive_maxpool2d"),
        F.adaptive_max_pool3d: _adaptive_call("adaptive_maxpool3d"),
        F.max_pool2d: _pool_call("maxpool2d", True), F.avg_pool2d: _pool_call("avgpool2d", False),
        F.max_pool1d: _pool_call("maxpool1d", True), F.avg_pool1d: _pool_call("avgpool1d", False),
        F.max_pool3d: _pool_call("maxpool3d", True), F.avg_pool3d: _pool_call("avgpool3d", False),
        F.dropout: _dropout_call("dropout"), F.dropout1d: _dropout_call("dropout1d"),
        F.dropout2d: _dropout_call("dropout2d"), F.dropout3d: _dropout_call("dropout3d"),
        F.alpha_dropout: _dropout_call("alpha_dropout"),
        torch.mean: _reduce("reduce_mean"), torch.sum: _reduce("reduce_sum"),
        torch.amax: _reduce("reduce_max"), torch.amin: _reduce("reduce_min"),
        torch.reshape: _reshape, torch.transpose: _transpose, torch.permute: _permute_call,
        torch.chunk: _chunk, torch.split: _split, torch.unsqueeze: _unsqueeze,
        F.interpolate: _interpolate, F.pad: _pad_call,
        getattr: _size,
    }
    return table


# call_method targets -> conversion
METHODS: dict[str, Callable[[Call], Any]] = {
    "relu": _unary("relu"), "relu_": _unary("relu"), "sigmoid": _unary("sigmoid"), "tanh": _unary("tanh"),
    "sigmoid_": _unary("sigmoid"), "abs": _unary("absolute"),
    "add": _binary("+"), "add_": _binary("+"), "mul": _binary("*"), "mul_": _binary("*"),
    "sub": _binary("-"), "div": _binary("/"),
    "flatten": _flatten_call, "view": _reshape, "reshape": _reshape,
    "transpose": _transpose, "permute": _permute_call, "contiguous": _contiguous,
    "mean": _reduce("reduce_mean"), "sum": _reduce("reduce_sum"), "amax": _reduce("reduce_max"),
    "amin": _reduce("reduce_min"), "softmax": _softmax_call("softmax"),
    "chunk": _chunk, "split": _split, "unsqueeze": _unsqueeze, "size": _size, "dim": _size,
    "clamp": _clamp, "clamp_min": _clamp,
}
