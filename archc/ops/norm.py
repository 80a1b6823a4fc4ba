"""Normalisation: batch (and frozen batch), layer, group and instance normalisation."""
from __future__ import annotations

from archc import symbolic as sy
from archc.ops.base import (Autocast, Saved, Attr, BoolType, Float, Int, Lint, Lowered, Op, Optional, ShapeError, fmt_shape,
                            helper, numel, py, py_call)
from archc.ops.common import concrete, moved_contiguous

_MACS_RULE = ("numel(output) when affine=true (at inference the normalisation and the affine "
              "transform fold into one scale-and-shift per element), 0 when affine=false; computing "
              "the statistics is not counted")

_RANKS = {1: ((2, 3), "[N, C] or [N, C, L]"), 2: ((4,), "[N, C, H, W]"), 3: ((5,), "[N, C, D, H, W]")}


def _eps() -> Attr:
    return Attr("eps", Float(above=0.0), 1e-5, "added to the variance for numerical stability")


class _PlausibleEps:
    """A norm's `eps` of 1 or more is no one's intent (PyTorch's argument order puts eps right
    after num_features: `BatchNorm2d(3, 16)`)."""

    def diagnose(self, a, inputs, given, channels_first):
        eps = a.get("eps")
        if eps is None or eps < 1:
            return []
        return [Lint(f"eps={eps:g} is added to the variance before dividing by its square root: at 1 or "
                     "more it swamps the statistics", "eps is a small number (PyTorch's default 1e-5, "
                     "Keras' 1e-3); the channels are inferred from the input", code="W-ATTR-IMPLAUSIBLE")]


def _channels(op: Op, shape) -> int:
    return concrete(shape[1], "channels", op.name)


def _several_positions(spatial, ctx) -> bool:
    """More than one spatial position (torch's instance norm needs it). With symbolic sizes,
    soundly but conservatively: the first symbolic axis gets at least 2 positions unless the
    concrete axes already give 2."""
    fixed = 1
    for d in spatial:
        if sy.is_int(d):
            fixed *= d
    if fixed >= 2:
        return True
    symbolic = [d for d in spatial if not sy.is_int(d)]
    return bool(symbolic) and ctx.require_positive(sy.sub(symbolic[0], 1))


class BatchNorm(_PlausibleEps, Op):
    output_overwritable = True  # its backward does not read its output
    family = "norm"
    positional, inferred_leading = 0, "num_features"  # every option by keyword: batchnorm2d(16) is no eps
    param_rule = "weight [C], bias [C] when affine=true"
    macs_rule = _MACS_RULE

    def __init__(self, ndim: int):
        self.ndim = ndim
        self.name = f"batchnorm{ndim}d"
        self.aliases = (f"batch_norm{ndim}d",)
        self.title = f"BatchNorm{ndim}d"
        ranks, layout = _RANKS[ndim]
        self.doc = (f"Batch normalisation of each channel over the batch and spatial positions "
                    f"(torch.nn.BatchNorm{ndim}d), for inputs {layout}. Buffers: running_mean [C], "
                    f"running_var [C], num_batches_tracked [] when track_running_stats=true.")
        self.shape_rule = f"output shape = input shape; the input is {layout}"
        self.attrs = (
            _eps(),
            Attr("momentum", Float(min=0.0, max=1.0), 0.1, "weight of the current batch in the "
                 "running statistics"),
            Attr("affine", BoolType(), True, "learn a per-channel scale (weight) and shift (bias)"),
            Attr("track_running_stats", BoolType(), True, "keep running mean and variance for "
                 "inference"),
        )

    def output_shape(self, a, inputs, ctx):
        x = inputs[0]
        self.check_rank(x, _RANKS[self.ndim][0])
        _channels(self, x)
        return tuple(x)

    def parameters(self, a, inputs):
        c = _channels(self, inputs[0])
        return {"weight": (c,), "bias": (c,)} if a["affine"] else {}

    def buffers(self, a, inputs):
        c = _channels(self, inputs[0])
        if not a["track_running_stats"]:
            return {}
        return {"running_mean": (c,), "running_var": (c,), "num_batches_tracked": ()}

    def buffer_dtype(self, name):
        return "int64" if name == "num_batches_tracked" else "float32"

    def macs(self, a, inputs, out):
        return numel(out) if a["affine"] else 0

    def saved_for_backward(self, a, inputs, out, ctx):
        # the input and the batch's per-channel mean and inverse standard deviation (float32
        # even under autocast); the running statistics are buffers, the weight a parameter
        c = (inputs[0][1],)
        return (Saved("input"), Saved("new", c, "float32", "batch mean"),
                Saved("new", c, "float32", "batch inverse std"))

    def lower(self, a, inputs, out):
        module = py_call(f"nn.BatchNorm{self.ndim}d", _channels(self, inputs[0]), eps=a.eps,
                         momentum=a.momentum, affine=a.affine,
                         track_running_stats=a.track_running_stats)
        return Lowered(module, "{m}({0})", (), (("eps", 1e-5), ("momentum", 0.1), ("affine", True),
                                                ("track_running_stats", True)))


_FROZEN_BATCHNORM = helper("FrozenBatchNorm2d", '''
class FrozenBatchNorm2d(nn.Module):
    """Batch normalisation with fixed statistics and affine terms, all buffers (none trained),
    computed as torchvision.ops.FrozenBatchNorm2d computes it."""

    def __init__(self, num_features, eps=1e-5):
        super().__init__()
        self.eps = eps
        self.register_buffer("weight", torch.ones(num_features))
        self.register_buffer("bias", torch.zeros(num_features))
        self.register_buffer("running_mean", torch.zeros(num_features))
        self.register_buffer("running_var", torch.ones(num_features))

    def forward(self, x):
        w = self.weight.reshape(1, -1, 1, 1)
        b = self.bias.reshape(1, -1, 1, 1)
        rv = self.running_var.reshape(1, -1, 1, 1)
        rm = self.running_mean.reshape(1, -1, 1, 1)
        scale = w * (rv + self.eps).rsqrt()
        bias = b - rm * scale
        return x * scale + bias
''')


class FrozenBatchNorm(_PlausibleEps, Op):
    """Batch norm whose statistics and affine terms are constants: torchvision's detection
    backbones (`FrozenBatchNorm2d`). Not `batchnorm2d(frozen=true)`, which keeps weight and bias
    as (untrained) parameters and counts num_batches_tracked."""
    output_overwritable = True  # its backward does not read its output
    positional, inferred_leading = 0, "num_features"
    name = "frozen_batchnorm2d"
    aliases = ("frozen_batch_norm2d",)
    title = "FrozenBatchNorm2d"
    family = "norm"
    doc = ("Batch normalisation with fixed statistics and affine terms (torchvision.ops."
           "FrozenBatchNorm2d, as its detection backbones use): y = (x - running_mean) / "
           "sqrt(running_var + eps) · weight + bias per channel. Buffers: weight, bias, "
           "running_mean, running_var [C]; no parameters.")
    attrs = (_eps(),)
    shape_rule = "output shape = input shape; the input is [N, C, H, W]"
    macs_rule = "numel(output) (one scale-and-shift per element)"

    def output_shape(self, a, inputs, ctx):
        x = inputs[0]
        self.check_rank(x, 4)
        _channels(self, x)
        return tuple(x)

    def buffers(self, a, inputs):
        c = _channels(self, inputs[0])
        return {"weight": (c,), "bias": (c,), "running_mean": (c,), "running_var": (c,)}

    def macs(self, a, inputs, out):
        return numel(out)

    autocast = Autocast.PROMOTE  # x * scale with float32 buffers

    def saved_for_backward(self, a, inputs, out, ctx):
        # x * scale + bias: the multiplication keeps the scale computed from the buffers
        return (Saved("new", (1, inputs[0][1], *(1,) * (len(inputs[0]) - 2)), "float32", "scale"),)

    def backward_macs(self, a, inputs, out, ctx):
        return numel(out) if ctx.grads[0] else 0

    def lower(self, a, inputs, out):
        module = py_call("FrozenBatchNorm2d", _channels(self, inputs[0]), eps=a.eps)
        return Lowered(module, "{m}({0})", (_FROZEN_BATCHNORM,), (("eps", 1e-5),))


class LayerNorm(_PlausibleEps, Op):
    output_overwritable = True  # its backward does not read its output
    name = "layernorm"
    aliases = ("layer_norm",)
    title = "LayerNorm"
    positional = 1  # layernorm(axes); eps= and the rest by keyword
    family = "norm"
    doc = ("Layer normalisation of each sample (torch.nn.LayerNorm), over one chosen axis "
           "(`axis=1`: the channels of a channels-first [N, C, H, W] tensor at every position, as "
           "ConvNeXt's LayerNorm2d; `axis=-1`: the last axis) or over the trailing `axes` axes "
           "(`axes=3`: C, H and W together). On a rank-2 [N, features] input the default is the "
           "features; on a larger rank, say which axis: the choice changes the result.")
    attrs = (
        Attr("axes", Optional(Int(1)), None, "how many trailing axes to normalise over"),
        Attr("axis", Optional(Int()), None, "or: the one axis to normalise over (0 is the batch)"),
        _eps(),
        Attr("affine", BoolType(), True, "learn an elementwise scale (weight) and shift (bias) of "
             "the normalised shape"),
    )
    shape_rule = ("output shape = input shape; the normalised axes (axis, or the trailing `axes`) "
                  "never include the batch")
    param_rule = "weight and bias of the normalised sizes (which must be concrete) when affine=true"
    macs_rule = _MACS_RULE

    def _axis(self, a, x) -> int | None:
        """The single axis normalised when it is not a trailing run: None for nn.LayerNorm's own
        trailing axes."""
        if a.axis is not None and a.axes is not None:
            raise ShapeError("give axis or axes, not both", "axis=k normalises one axis at every "
                             "position, axes=k the last k axes together: keep the one you mean",
                             code="E-ATTR-CONFLICT")
        if a.axis is None:
            if a.axes is None and len(x) > 2:
                raise ShapeError(f"on a rank-{len(x)} input {fmt_shape(x)} say which axis to normalise",
                                 "axis=1 for the channels (ConvNeXt's LayerNorm2d), axis=-1 for the last "
                                 "axis, axes=3 for C, H and W together", code="E-ATTR-REQUIRED")
            return None
        i = a.axis + len(x) if a.axis < 0 else a.axis
        if not 1 <= i < len(x):
            raise ShapeError(f"axis {a.axis} is not a non-batch axis of the rank-{len(x)} input {fmt_shape(x)}",
                             f"axis=1 for the channels, axis=-1 for the last axis (valid: 1 to "
                             f"{len(x) - 1}, or {-len(x) + 1} to -1)",
                             code="E-SHAPE-BATCH-AXIS" if i == 0 else "E-SHAPE-AXIS")
        return None if i == len(x) - 1 else i

    def _normalized(self, a, x) -> tuple[int, ...]:
        moved = self._axis(a, x)
        if moved is not None:
            tail = (x[moved],)
        else:
            count = 1 if a.axes is None else a.axes
            if count >= len(x):
                raise ShapeError(f"axes={count} would normalise over the batch of the rank-{len(x)} "
                                 f"input {fmt_shape(x)}", f"use axes ≤ {len(x) - 1}",
                                 code="E-SHAPE-BATCH-AXIS")
            tail = tuple(x[len(x) - count:])
        if a.affine and not all(sy.is_int(d) for d in tail):
            raise ShapeError(f"layernorm needs concrete sizes for its weight, got {fmt_shape(tail)}",
                             "give the input a concrete size, or use affine=false",
                             code="E-SHAPE-NOT-CONCRETE")
        return tail

    def output_shape(self, a, inputs, ctx):
        self._normalized(a, inputs[0])
        return tuple(inputs[0])

    def parameters(self, a, inputs):
        if not a["affine"]:
            return {}
        shape = self._normalized(a, inputs[0])
        return {"weight": shape, "bias": shape}

    def macs(self, a, inputs, out):
        return numel(out) if a["affine"] else 0

    def label(self, a):
        if a["axis"] is not None:
            return {1: "channels", -1: "last axis"}.get(a["axis"], f"axis {a['axis']}")
        return "" if a["axes"] in (None, 1) else f"{a['axes']} axes"

    autocast = Autocast.FLOAT32  # layer_norm is on autocast's float32 list

    def saved_for_backward(self, a, inputs, out, ctx):
        x = inputs[0]
        rows = sy.floordiv(numel(x), numel(self._normalized(a, x)))  # one mean and rstd per row
        return (Saved("input"), Saved("new", (rows,), "float32", "mean"),
                Saved("new", (rows,), "float32", "inverse std"))

    def output_contiguous(self, a, inputs, out, ctx):
        moved = self._axis(a, inputs[0])  # moved last and back: a permuted view of the result
        return moved is None or moved_contiguous(inputs[0], moved)

    def lower(self, a, inputs, out):
        x = inputs[0]
        tail = self._normalized(a, x)
        moved = self._axis(a, x)
        count = len(tail)
        if not all(sy.is_int(d) for d in tail):  # affine=false on a symbolic size: a function
            if moved is not None:
                return Lowered(None, f"F.layer_norm({{0}}.movedim({moved}, -1), ({{0}}.shape[{moved}],), "
                                     f"eps={py(a.eps)}).movedim(-1, {moved})")
            return Lowered(None, f"F.layer_norm({{0}}, {{0}}.shape[-{count}:], eps={py(a.eps)})")
        shape = tail[0] if len(tail) == 1 else tuple(tail)
        if moved is not None:  # torchvision's LayerNorm2d, for any axis: still one module in a Sequential
            module = py_call("AxisLayerNorm", shape, moved, eps=a.eps, elementwise_affine=a.affine)
            return Lowered(module, "{m}({0})", (_AXIS_LAYER_NORM,), (("eps", 1e-5), ("elementwise_affine", True)))
        module = py_call("nn.LayerNorm", shape, eps=a.eps, elementwise_affine=a.affine)
        return Lowered(module, "{m}({0})", (), (("eps", 1e-5), ("elementwise_affine", True)))


_AXIS_LAYER_NORM = helper("AxisLayerNorm", '''
class AxisLayerNorm(nn.LayerNorm):
    """Layer normalisation over one axis that is not the last (axis 1: the channels of an NCHW
    tensor, as torchvision's LayerNorm2d); weight and bias as nn.LayerNorm's."""

    def __init__(self, normalized_shape, axis, eps=1e-05, elementwise_affine=True):
        super().__init__(normalized_shape, eps=eps, elementwise_affine=elementwise_affine)
        self.axis = axis

    def forward(self, x):
        return super().forward(x.movedim(self.axis, -1)).movedim(-1, self.axis)
''')


class GroupNorm(_PlausibleEps, Op):
    output_overwritable = True  # its backward does not read its output
    name = "groupnorm"
    aliases = ("group_norm",)
    title = "GroupNorm"
    positional = 1  # groupnorm(groups); eps= and affine= by keyword
    family = "norm"
    doc = ("Group normalisation (torch.nn.GroupNorm): the channels are split into `groups` groups, "
           "each normalised per sample over its channels and all spatial positions.")
    attrs = (
        Attr("groups", Int(1), doc="number of channel groups; must divide the channels"),
        _eps(),
        Attr("affine", BoolType(), True, "learn a per-channel scale (weight) and shift (bias)"),
    )
    shape_rule = "output shape = input shape [N, C, …]; C must be divisible by groups"
    param_rule = "weight [C], bias [C] when affine=true"
    macs_rule = _MACS_RULE

    def output_shape(self, a, inputs, ctx):
        x = inputs[0]
        if len(x) < 2:
            raise ShapeError(f"input has rank {len(x)} ({fmt_shape(x)}), expected [N, C, …]",
                             "groupnorm normalises groups of channels: its input needs a channel "
                             "axis", code="E-SHAPE-RANK")
        c = _channels(self, x)
        if c % a.groups:
            raise ShapeError(f"groups={a.groups} does not divide {c} channels",
                             f"use a number of groups that divides {c}", code="E-SHAPE-NOT-DIVISIBLE")
        return tuple(x)

    def parameters(self, a, inputs):
        c = _channels(self, inputs[0])
        return {"weight": (c,), "bias": (c,)} if a["affine"] else {}

    def macs(self, a, inputs, out):
        return numel(out) if a["affine"] else 0

    def label(self, a):
        return f"{a['groups']} groups"

    autocast = Autocast.FLOAT32  # group_norm is on autocast's float32 list

    def saved_for_backward(self, a, inputs, out, ctx):
        stats = (inputs[0][0], a.groups)
        return (Saved("input"), Saved("new", stats, "float32", "mean"), Saved("new", stats, "float32", "inverse std"))

    def lower(self, a, inputs, out):
        module = py_call("nn.GroupNorm", a.groups, _channels(self, inputs[0]), eps=a.eps, affine=a.affine)
        return Lowered(module, "{m}({0})", (), (("eps", 1e-5), ("affine", True)))


class InstanceNorm(_PlausibleEps, Op):
    output_overwritable = True  # its backward does not read its output
    family = "norm"
    positional, inferred_leading = 0, "num_features"
    param_rule = "weight [C], bias [C] when affine=true"
    macs_rule = _MACS_RULE

    def __init__(self, ndim: int):
        self.ndim = ndim
        self.name = f"instancenorm{ndim}d"
        self.aliases = (f"instance_norm{ndim}d",)
        self.title = f"InstanceNorm{ndim}d"
        self.doc = (f"Instance normalisation (torch.nn.InstanceNorm{ndim}d): each channel of each "
                    f"sample normalised over its spatial positions. Buffers running_mean [C], "
                    f"running_var [C], num_batches_tracked [] when track_running_stats=true.")
        self.shape_rule = (f"output shape = input shape; the input has rank {ndim + 2} and more "
                           f"than one spatial position")
        self.attrs = (
            _eps(),
            Attr("affine", BoolType(), False, "learn a per-channel scale (weight) and shift (bias)"),
            Attr("track_running_stats", BoolType(), False, "keep running mean and variance for "
                 "inference"),
        )

    def output_shape(self, a, inputs, ctx):
        x = inputs[0]
        self.check_rank(x, self.ndim + 2)
        if a.affine or a.track_running_stats:
            _channels(self, x)
        if not _several_positions(x[2:], ctx):
            raise ShapeError(f"instance normalisation needs more than one spatial position per "
                             f"channel, got {fmt_shape(x[2:])}", "normalise before pooling to 1×1, "
                             "or use layernorm / batchnorm", code="E-SHAPE-SINGLE-POSITION")
        return tuple(x)

    def parameters(self, a, inputs):
        c = _channels(self, inputs[0]) if a["affine"] else 0
        return {"weight": (c,), "bias": (c,)} if a["affine"] else {}

    def buffers(self, a, inputs):
        if not a["track_running_stats"]:
            return {}
        c = _channels(self, inputs[0])
        return {"running_mean": (c,), "running_var": (c,), "num_batches_tracked": ()}

    def buffer_dtype(self, name):
        return "int64" if name == "num_batches_tracked" else "float32"

    def macs(self, a, inputs, out):
        return numel(out) if a["affine"] else 0

    def saved_for_backward(self, a, inputs, out, ctx):
        # F.instance_norm is batch norm over [1, N·C, …]: its statistics, and the weight and
        # running statistics repeated N times (new tensors, not the parameters)
        rows = (sy.mul(inputs[0][0], inputs[0][1]),)
        kept = ["batch mean", "batch inverse std"]
        kept += ["weight repeated"] if a.affine else []
        kept += ["running mean repeated", "running var repeated"] if a.track_running_stats else []
        return (Saved("input"), *(Saved("new", rows, "float32", what) for what in kept))

    def lower(self, a, inputs, out):
        c = inputs[0][1]
        if not sy.is_int(c):  # no state, symbolic channels: the function
            return Lowered(None, f"F.instance_norm({{0}}, eps={py(a.eps)})")
        module = py_call(f"nn.InstanceNorm{self.ndim}d", c, eps=a.eps, affine=a.affine,
                         track_running_stats=a.track_running_stats)
        return Lowered(module, "{m}({0})", (), (("eps", 1e-5), ("affine", False),
                                                ("track_running_stats", False)))


OPS = [
    *(BatchNorm(n) for n in (1, 2, 3)),
    FrozenBatchNorm(),
    LayerNorm(), GroupNorm(),
    *(InstanceNorm(n) for n in (1, 2, 3)),
]
