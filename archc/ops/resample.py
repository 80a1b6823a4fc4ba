"""Resampling and resizing: upsample, zero padding, center crop, and the elementwise `scale`."""
from __future__ import annotations

from archc import provenance
from archc import symbolic as sy
from archc.ops.base import (Saved, AttrError, Attr, Syntax, BoolType, Choice, Float, Ints, Lowered, Op, Padding,
                            ShapeError, Window, fmt_shape, helper, numel, py, py_call, spatial_text)
from archc.ops.common import f_pad_amounts, is_positive, one, padding_text, short_text

_CENTER_CROP = helper("center_crop", '''
def center_crop(x, ref):
    """The center of `x` with the spatial size of `ref` (the larger half of the excess
    is cut at the end)."""
    index = [slice(None), slice(None)]
    for size, target in zip(x.shape[2:], ref.shape[2:]):
        start = (size - target) // 2
        index.append(slice(start, start + target))
    return x[tuple(index)]
''')

_SPATIAL = {1: "L", 2: "H, W", 3: "D, H, W"}


class PadAmount(Padding):
    """Padding without the words `same` / `valid`."""
    label = "an int, one int per spatial axis, or per axis a pair (before, after)"

    def coerce(self, value, ndim):
        if isinstance(value, str):
            raise AttrError(f"expected {self.label}, got '{value}'",
                            "zeropad pads by amounts given as numbers, e.g. zeropad2d(1) or "
                            "zeropad2d([[0, 1], [0, 1]]); padding=same is for conv and pooling",
                            code="E-ATTR-TYPE")
        return super().coerce(value, ndim)


# interpolation mode -> (required spatial rank or None, input positions mixed per axis)
_MODES = {"nearest": (None, 1), "linear": (1, 2), "bilinear": (2, 2), "bicubic": (2, 4),
          "trilinear": (3, 2)}


class Upsample(Op):
    name = "upsample"
    title = "Upsample"
    family = "resample"
    doc = ("Scale the spatial axes up by integer factors (torch.nn.Upsample with scale_factor, Keras "
           "UpSampling2D), for any spatial rank; linear / bilinear / bicubic / trilinear need 1 / 2 "
           "/ 2 / 3 spatial axes.")
    attrs = (
        Attr("scale", Ints(1), 2, "upsampling factor: one int for every spatial axis, or one per axis"),
        Attr("mode", Choice(*_MODES), "nearest", "interpolation: nearest (repeat), linear, bilinear, "
             "bicubic or trilinear"),
        Attr("align_corners", BoolType(), False, "interpolating modes only: align the corner pixels "
             "of input and output instead of their edges"),
    )
    shape_rule = "[N, C, *spatial] → [N, C, *(spatial × scale)], per axis out = in × scale"
    macs_rule = ("nearest: 0; linear, bilinear, trilinear: 2^ndim per output element (one weighted "
                 "tap per corner: 2, 4, 8); bicubic: 16 per output element")

    def _scale(self, a, x) -> tuple[int, ...]:
        n = len(x) - 2
        if len(a.scale) != n:
            raise ShapeError(f"scale has {len(a.scale)} factors, the input {fmt_shape(x)} has {n} "
                             f"spatial axes", f"give one factor for every axis, or a list of {n}",
                             code="E-ATTR-AXIS-COUNT")
        return tuple(a.scale)

    def output_shape(self, a, inputs, ctx):
        x = inputs[0]
        if len(x) < 3:
            self.check_rank(x, (3, 4, 5))
        n = len(x) - 2
        rank_needed = _MODES[a.mode][0]
        if rank_needed is not None and n != rank_needed:
            want = {1: "[N, C, L]", 2: "[N, C, H, W]", 3: "[N, C, D, H, W]"}[rank_needed]
            raise ShapeError(f"mode {a.mode} needs {rank_needed} spatial "
                             f"ax{'is' if rank_needed == 1 else 'es'} ({want}), the input "
                             f"{fmt_shape(x)} has {n}",
                             _mode_hint(n), code="E-SHAPE-RANK")
        if a.align_corners and a.mode == "nearest":
            raise ShapeError("align_corners applies only to the interpolating modes, not nearest",
                             "remove align_corners, or use an interpolating mode",
                             code="E-ATTR-CONFLICT")
        return (x[0], x[1], *(sy.mul(d, s) for d, s in zip(x[2:], self._scale(a, x))))

    def macs(self, a, inputs, out):
        if a["mode"] == "nearest":
            return 0
        n = len(out) - 2
        return sy.mul(numel(out), _MODES[a["mode"]][1] ** n)

    def window(self, a, inputs):
        # as a transposed window of stride = factor: an output position mixes `taps` neighbouring
        # inputs per axis (nearest 1, linear 2, cubic 4), which is kernel (taps-1)*factor + 1
        s = self._scale(a, inputs[0])
        taps = _MODES[a["mode"]][1]
        return Window(tuple((taps - 1) * f + 1 for f in s), s, transposed=True)

    def label(self, a):
        return f"×{short_text(a['scale'])}" + ("" if a["mode"] == "nearest" else f" {a['mode']}")

    def saved_for_backward(self, a, inputs, out, ctx):
        return ()  # interpolation's backward needs only sizes and scales

    def lower(self, a, inputs, out):
        scale = self._scale(a, inputs[0])
        options = {} if a.mode == "nearest" else {"align_corners": a.align_corners}
        module = py_call("nn.Upsample", scale_factor=one(scale), mode=a.mode, **options)
        return Lowered(module, "{m}({0})", (), (("mode", "nearest"),))


def _mode_hint(n: int) -> str:
    """For an input with `n` spatial axes: the interpolating mode that fits it."""
    return "use " + {1: "linear", 2: "bilinear", 3: "trilinear"}.get(n, "nearest") + " or nearest"


def _same_rank_as_reference(op: Op, x, ref) -> None:
    """Input 0 has spatial axes, and as many as the reference (input 1)."""
    if len(x) < 3:
        op.check_rank(x, (3, 4, 5))
    if len(ref) != len(x):
        raise ShapeError(f"the reference {fmt_shape(ref)} and the input {fmt_shape(x)} have "
                         f"different ranks", "the reference (input 1) needs as many spatial axes "
                         "as the input: only its spatial sizes are used", code="E-SHAPE-RANK")


class ResizeLike(Op):
    name = "resize_like"
    aliases = ("interpolate_like",)
    title = "ResizeLike"
    family = "resample"
    inputs = 2
    doc = ("Resize input 0 to the spatial size of input 1, the reference, whatever the sizes "
           "(F.interpolate(x, size=ref.shape[2:]), as decoders that accept any input size do): "
           "`resize_like(x, skip, mode=bilinear)`. The channels of input 0 are kept.")
    attrs = (
        Attr("mode", Choice(*_MODES), "nearest", "interpolation: nearest, linear, bilinear, bicubic "
             "or trilinear"),
        Attr("align_corners", BoolType(), False, "interpolating modes only: align the corner pixels"),
    )
    shape_rule = "([N, C, *s0], [M, K, *s1]) → [N, C, *s1]; the two inputs have the same rank"
    macs_rule = Upsample.macs_rule

    def output_shape(self, a, inputs, ctx):
        x, ref = inputs
        _same_rank_as_reference(self, x, ref)
        need = _MODES[a.mode][0]
        if need is not None and len(x) - 2 != need:
            raise ShapeError(f"mode {a.mode} needs {need} spatial axes, the input {fmt_shape(x)} has "
                             f"{len(x) - 2}", _mode_hint(len(x) - 2), code="E-SHAPE-RANK")
        if a.align_corners and a.mode == "nearest":
            raise ShapeError("align_corners applies only to the interpolating modes, not nearest",
                             "remove align_corners, or use an interpolating mode",
                             code="E-ATTR-CONFLICT")
        return (x[0], x[1], *ref[2:])

    def macs(self, a, inputs, out):
        if a["mode"] == "nearest":
            return 0
        return sy.mul(numel(out), _MODES[a["mode"]][1] ** (len(out) - 2))

    def window(self, a, inputs):
        return None  # the scale depends on the sizes: no fixed field

    def label(self, a):
        return "" if a["mode"] == "nearest" else a["mode"]

    def saved_for_backward(self, a, inputs, out, ctx):
        return ()

    def lower(self, a, inputs, out):
        options = "" if a.mode == "nearest" else f", align_corners={a.align_corners}"
        return Lowered(None, f"F.interpolate({{0}}, size={{1}}.shape[2:], mode={py(a.mode)}{options})")


# pad kind -> (name prefix, torch module prefix, what the border is filled with)
_PAD_KINDS = {
    "zero": ("zeropad", "ZeroPad", "zeros"),
    "reflection": ("reflectionpad", "ReflectionPad", "the input mirrored at its edge (the edge value "
                   "itself not repeated: 1 2 3 → 2 1 2 3 2)"),
    "replication": ("replicationpad", "ReplicationPad", "copies of the edge value (1 2 3 → 1 1 2 3 3)"),
}


class Pad(Op):
    """zeropad / reflectionpad / replicationpad, 1d to 3d."""
    family = "resample"
    macs_rule = "0"

    def __init__(self, kind: str, ndim: int):
        prefix, module, filled = _PAD_KINDS[kind]
        self.kind, self.ndim, self.module = kind, ndim, f"{module}{ndim}d"
        self.name = f"{prefix}{ndim}d"
        self.aliases = (f"{prefix[:-3]}_pad{ndim}d",)
        self.title = self.module
        axes = "spatial axis" if ndim == 1 else f"{ndim} spatial axes"
        self.doc = (f"Pad the {axes} with zeros (torch.nn.ZeroPad{ndim}d, Keras ZeroPadding{ndim}D)."
                    if kind == "zero" else f"Pad the {axes} with {filled} (torch.nn.{self.module}).")
        self.shape_rule = f"[N, C, {_SPATIAL[ndim]}] → [N, C, …]; per spatial axis out = in + before + after"
        if kind == "reflection":
            self.shape_rule += "; each amount must be smaller than its axis (PyTorch's rule)"
        amount = "zeros added" if kind == "zero" else "positions added"
        self.attrs = (Attr("padding", PadAmount(), doc=f"{amount}: an int for every side, one int "
                           "per spatial axis, or per axis a pair (before, after)"),)

    def output_shape(self, a, inputs, ctx):
        x = inputs[0]
        self.check_rank(x, self.ndim + 2)
        if self.kind == "reflection":
            for axis, (d, (pb, pa)) in enumerate(zip(x[2:], a.padding), 2):
                widest = max(pb, pa)
                if not (d > widest if sy.is_int(d) else ctx.require_positive(sy.sub(d, widest))):
                    raise ShapeError(f"reflection padding {widest} on axis {axis} of size {sy.to_str(d)}: "
                                     "a reflection needs more positions than it adds",
                                     f"pad by at most {sy.to_str(d)} - 1 on that axis, or use "
                                     f"replicationpad{self.ndim}d / zeropad{self.ndim}d",
                                     code="E-SHAPE-REFLECTION-PADDING")
        return (x[0], x[1], *(sy.add(d, pb + pa) for d, (pb, pa) in zip(x[2:], a.padding)))

    def macs(self, a, inputs, out):
        return 0

    def label(self, a):
        return "p" + padding_text(a["padding"]) if padding_text(a["padding"]) else ""

    def saved_for_backward(self, a, inputs, out, ctx):
        # zero padding's backward cuts the gradient; reflection and replication read the input
        return () if self.kind == "zero" else (Saved("input"),)

    def lower(self, a, inputs, out):
        return Lowered(py_call(f"nn.{self.module}", f_pad_amounts(a.padding)), "{m}({0})")


class Crop(Op):
    name = "crop"
    aliases = ("center_crop",)
    title = "Crop"
    family = "resample"
    inputs = 2
    doc = ("Center-crop input 0 to the spatial size of input 1, the reference (as the skip "
           "connections of the original U-Net); the channels of input 0 are kept.")
    shape_rule = ("([N, C, *s0], [M, K, *s1]) → [N, C, *s1]; per axis the crop is diff = s0 - s1 "
                  "(which must be ≥ 0), before = floor(diff/2), after = diff - before")
    macs_rule = "0"

    def output_shape(self, a, inputs, ctx):
        x, ref = inputs[0], inputs[1]
        _same_rank_as_reference(self, x, ref)
        ok = [is_positive(sy.add(sy.sub(d, r), 1), ctx) for d, r in zip(x[2:], ref[2:])]
        if not all(ok):
            raise ShapeError(f"the reference {spatial_text(ref[2:])} is larger than the "
                             f"{spatial_text(x[2:])} input; crop only shrinks",
                             "swap the inputs, or pad the input with zeropad", code="E-SHAPE-CROP")
        return (x[0], x[1], *ref[2:])

    def macs(self, a, inputs, out):
        return 0

    def saved_for_backward(self, a, inputs, out, ctx):
        return ()  # a slice of the first input

    def output_aliases_input(self, a, inputs, ctx):
        return True

    def output_contiguous(self, a, inputs, out, ctx):
        return tuple(out_shape for out_shape in inputs[0][2:]) == tuple(inputs[1][2:])

    def lower(self, a, inputs, out):
        x, ref = inputs
        # sizes known when the module is built: plain slicing; else cut at run time (a size
        # that only the forward input gives, archc.provenance, counts as unknown)
        if all(sy.is_int(d) and not provenance.forward_of(d) for d in (*x[2:], *ref[2:])):
            cuts = [((n - r) // 2, (n - r) // 2 + r) for n, r in zip(x[2:], ref[2:])]
            return Lowered(None, "{0}[:, :, " + ", ".join(f"{b}:{e}" for b, e in cuts) + "]")
        return Lowered(None, "center_crop({0}, {1})", (_CENTER_CROP,))


class Scale(Op):
    name = "scale"
    syntax = (Syntax.AFFINE,)
    title = "Scale"
    family = "activation"
    doc = "y = x·factor + offset, elementwise; e.g. scale(1/255) normalises 8-bit pixels."
    attrs = (
        Attr("factor", Float(), doc="multiplier"),
        Attr("offset", Float(), 0.0, "added after the multiplication"),
    )
    shape_rule = "output shape = input shape (any rank)"
    macs_rule = "numel(output)"

    def output_shape(self, a, inputs, ctx):
        return tuple(inputs[0])

    def macs(self, a, inputs, out):
        return numel(out)

    def label(self, a):
        return f"×{a['factor']:g}" + (f" + {a['offset']:g}" if a["offset"] else "")

    def saved_for_backward(self, a, inputs, out, ctx):
        return ()  # x * factor + offset with numbers: the gradient is scaled by the number

    def output_aliases_input(self, a, inputs, ctx):
        return a.factor == 1 and not a.offset

    def backward_macs(self, a, inputs, out, ctx):
        return numel(out) if ctx.grads[0] and a.factor != 1 else 0

    def lower(self, a, inputs, out):
        expr = "{0}" if a.factor == 1 else f"{{0}} * {py(a.factor)}"
        if a.offset:
            expr += f" + {py(a.offset)}" if a.offset > 0 else f" - {py(-a.offset)}"
        return Lowered(None, expr)


OPS = [Upsample(), ResizeLike(), *(Pad(kind, n) for kind in _PAD_KINDS for n in (1, 2, 3)), Crop(), Scale()]
