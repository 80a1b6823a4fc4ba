"""Helpers shared by the op modules: sliding-window size arithmetic, padding resolution, and the
text used in labels and error messages. Dimension arithmetic goes through `archc.symbolic`."""
from __future__ import annotations

from itertools import chain
from typing import Any, Sequence

from archc import provenance
from archc import symbolic as sy
from archc.symbolic import Dim
from archc.ops.base import Shape, ShapeContext, ShapeError, helper, py, spatial_text

Pads = tuple[tuple[int, int], ...]


def axis_index(axis: int, rank: int, what: str = "axis") -> int:
    """A PyTorch axis number (negative counts from the end) as an index, or a ShapeError."""
    i = axis + rank if axis < 0 else axis
    if not 0 <= i < rank:
        raise ShapeError(f"{what} {axis} is out of range for a rank-{rank} input "
                         f"(valid: {-rank} to {rank - 1})",
                         f"axes are numbered as in PyTorch, from the batch (0) to {rank - 1}; "
                         f"negative ones count from the end (-1 is the last)", code="E-SHAPE-AXIS")
    return i


# ----------------------------------------------------------------------------- text

def ints_text(vals: Sequence[int]) -> str:
    """(3, 3) -> '3×3'."""
    return "×".join(map(str, vals))


def short_text(vals: Sequence[int]) -> str:
    """(5, 5) -> '5'; (5, 3) -> '5×3'."""
    vals = tuple(vals)
    return str(vals[0]) if len(set(vals)) == 1 else ints_text(vals)


def pads_of(padding, n: int) -> Pads:
    """Numeric (before, after) pairs of a bound Padding value other than `same`."""
    if padding == "valid":
        return ((0, 0),) * n
    return tuple(padding)


def padding_text(padding) -> str:
    """'same', 'valid', '1', '1×2' or '(0,1)×(0,1)'; '' when there is no padding."""
    if isinstance(padding, str):
        return padding
    if not any(map(any, padding)):  # (sizes: ints ≥ 0)
        return ""
    before, after = zip(*padding)
    if before == after:
        return short_text(before)
    return "×".join(f"({b},{a})" for b, a in padding)


def padding_label(padding) -> str:
    t = padding_text(padding)
    if not t:
        return ""
    return t if isinstance(padding, str) else "p" + t


def input_text(dims: Sequence[Dim]) -> str:
    """'the 3×3 input', or for one axis 'the input of length 3'."""
    if len(dims) == 1:
        return f"the input of length {sy.to_str(dims[0])}"
    return f"the {spatial_text(dims)} input"


def window_label(out: str | None, kernel, stride, padding=None, dilation=None, groups: int = 1,
                 stride_default=None) -> str:
    """'64, 3×3, s2, p1, d2, g32': stride shown when not its default (1, or the kernel for
    pooling), padding when nonzero, dilation when not 1, groups when not 1."""
    parts = [] if out is None else [out]
    parts.append(ints_text(kernel))
    sd = stride_default if stride_default is not None else (1,) * len(kernel)
    if tuple(stride) != tuple(sd):
        parts.append("s" + short_text(stride))
    if padding is not None:
        p = padding_label(padding)
        if p:
            parts.append(p)
    if dilation is not None and tuple(dilation).count(1) != len(dilation):
        parts.append("d" + short_text(dilation))
    if groups != 1:
        parts.append(f"g{groups}")
    return ", ".join(parts)


# ----------------------------------------------------------------------------- checks

def concrete(d: Dim, what: str, op: str, hint: str | None = None) -> int:
    """`d` as an int, or a ShapeError saying that `what` must be concrete."""
    if type(d) is int or sy.is_int(d):  # (a plain int told first: asked of every layer)
        return d  # as it is: a traced size keeps its provenance (archc.provenance)
    raise ShapeError(f"{op} needs a concrete number of {what}, got {sy.to_str(d)}",
                     hint or "give the input a concrete size", code="E-SHAPE-NOT-CONCRETE")


def is_positive(d: Dim, ctx: ShapeContext) -> bool:
    """d ≥ 1: checked directly for ints, recorded as a minimum size for symbolic dims."""
    if type(d) is int or sy.is_int(d):
        return d >= 1
    return ctx.require_positive(d)


def is_equal(a: Dim, b: Dim, ctx: ShapeContext) -> bool:
    if (type(a) is int or sy.is_int(a)) and (type(b) is int or sy.is_int(b)):
        return a == b
    return ctx.require_equal(a, b)


def effective_kernel(kernel: Sequence[int], dilation: Sequence[int] | None) -> tuple[int, ...]:
    """dilation*(kernel-1) + 1 per axis."""
    if dilation is None:
        return tuple(kernel)
    return tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation))


def same_padding(size: int, kernel: int, stride: int, dilation: int = 1) -> tuple[int, int]:
    """TF/Keras `same` padding of one axis of concrete size: out = ceil(size/stride),
    total = max((out-1)*stride + dilation*(kernel-1)+1 - size, 0), before = total//2."""
    out = -(-size // stride)
    total = max((out - 1) * stride + dilation * (kernel - 1) + 1 - size, 0)
    return total // 2, total - total // 2


def check_rank(op, shape: Shape) -> None:
    """The input of an nd op has rank ndim+2: [N, C, *spatial]."""
    if len(shape) != op.ndim + 2:
        op.check_rank(shape, op.ndim + 2)


# ----------------------------------------------------------------------------- sliding windows

def sliding_output(ins: Sequence[Dim], kernel: Sequence[int], stride: Sequence[int], padding,
                   dilation: Sequence[int] | None, ctx: ShapeContext, ceil_mode: bool = False,
                   what: str = "kernel") -> tuple[Dim, ...]:
    """Spatial output sizes of a convolution or pooling window.

    floor mode: out = floor((in + pb + pa - eff) / stride) + 1, eff = dilation*(kernel-1)+1;
    ceil mode (PyTorch): out = ceil((in + pb + pa - eff) / stride) + 1, minus 1 when the last
    window would start past the input and the left padding ((out-1)*stride >= in + pb); the
    last window may then run past the end, so the input may be smaller than the kernel;
    `same`: out = ceil(in / stride)."""
    n = len(ins)
    if padding == "same":
        return tuple(sy.ceildiv(i, s) for i, s in zip(ins, stride))
    pads = pads_of(padding, n)
    if sy.all_int(chain(ins, kernel, stride, dilation or (), chain.from_iterable(pads))):
        # plain ints (nearly every layer, and the same few windows over and over): computed once
        key = (tuple(ins), tuple(kernel), tuple(stride), pads, dilation and tuple(dilation), ceil_mode)
        outs = _CONCRETE_OUTPUTS.get(key)
        if outs is None:
            outs = _concrete_output(ins, kernel, stride, pads, dilation, ceil_mode)
            if len(_CONCRETE_OUTPUTS) >= _CONCRETE_OUTPUTS_KEPT:
                _CONCRETE_OUTPUTS.clear()
            _CONCRETE_OUTPUTS[key] = outs
        if outs is not None:
            return outs
    eff = effective_kernel(kernel, dilation)

    # every axis must hold at least one window: in + pb + pa - eff + 1 >= 1; in ceil mode (as in
    # PyTorch) a window may run past the end as long as it starts inside: in + pb + pa - eff + stride >= 1
    fits = [is_positive(sy.add(i, pb + pa - e + (s if ceil_mode else 1)), ctx)
            for i, e, s, (pb, pa) in zip(ins, eff, stride, pads)]
    if not all(fits):
        raise _too_large(ins, kernel, dilation, eff, pads, what)

    outs: list[Dim] = []
    for i, e, s, (pb, pa) in zip(ins, eff, stride, pads):
        x = sy.add(i, pb + pa - e)
        if not ceil_mode:
            outs.append(sy.add(sy.floordiv(x, s), 1))
            continue
        o = sy.add(sy.ceildiv(x, s), 1)
        if sy.is_int(o):
            if (o - 1) * s >= i + pb:
                o -= 1
        elif pa + s - 1 >= e:
            # (out-1)*s <= in + pb + pa - eff + s - 1: the correction is possible, and whether it
            # applies depends on in mod stride
            raise ShapeError(
                f"ceil_mode with kernel {short_text(kernel)}, stride {short_text(stride)} and padding "
                f"{padding_text(padding) or 0} needs a concrete input size: whether the last window "
                f"is dropped depends on the size {sy.to_str(i)}",
                "give the input a concrete size, or use ceil_mode=false", code="E-SHAPE-NOT-CONCRETE")
        outs.append(o)
    return tuple(outs)


_CONCRETE_OUTPUTS: dict[tuple, tuple[int, ...] | None] = {}  # _concrete_output by its arguments
_CONCRETE_OUTPUTS_KEPT = 4096  # (then started afresh: a long-running server sees many specs)


def _concrete_output(ins: Sequence[int], kernel: Sequence[int], stride: Sequence[int], pads: Pads,
                     dilation: Sequence[int] | None, ceil_mode: bool) -> tuple[int, ...] | None:
    """`sliding_output` for plain int sizes and attributes: the same arithmetic, without the
    symbolic calls; None when a window does not fit (the general path then says why)."""
    outs = []
    for i, k, d, s, (pb, pa) in zip(ins, kernel, dilation or kernel, stride, pads):
        e = k if dilation is None else d * (k - 1) + 1
        if not i + (pb + pa - e + (s if ceil_mode else 1)) >= 1:
            return None
        x = i + (pb + pa - e)
        if not ceil_mode:
            outs.append(x // s + 1)
            continue
        o = -(-x // s) + 1
        if (o - 1) * s >= i + pb:
            o -= 1
        outs.append(o)
    return tuple(outs)


def _too_large(ins, kernel, dilation, eff, pads, what: str) -> ShapeError:
    k = short_text(kernel)
    dilated = dilation is not None and any(d != 1 for d in dilation)
    head = f"{what} {k} with dilation {short_text(dilation)} spans {short_text(eff)}, more than" \
        if dilated else f"{what} {k} is larger than"
    padded = any(pb or pa for pb, pa in pads)
    tail = ""
    if padded:
        tail = " padded to " + spatial_text([sy.add(i, pb + pa) for i, (pb, pa) in zip(ins, pads)])
    hint = ("use padding=same, or a smaller kernel" if what == "kernel"
            else "use a smaller window, or padding=same")
    return ShapeError(f"{head} {input_text(ins)}{tail}", hint, code="E-SHAPE-KERNEL-TOO-LARGE")


# ----------------------------------------------------------------------------- PyTorch lowering

SAME_PADS = helper("same_pads", '''
def same_pads(x, kernel_size, stride, dilation):
    """F.pad amounts (last axis first) of TF/Keras `padding="same"` for the spatial
    sizes of `x`: output size ceil(size / stride), the padding's smaller half before."""
    pads = []
    sizes = x.shape[:1:-1]
    for size, k, s, d in zip(sizes, kernel_size[::-1], stride[::-1], dilation[::-1]):
        total = max((-(-size // s) - 1) * s + d * (k - 1) + 1 - size, 0)
        pads += [total // 2, total - total // 2]
    return pads
''')


def resolve_pads(padding, kernel: Sequence[int], stride: Sequence[int], dilation: Sequence[int] | None,
                 ins: Sequence[Dim]) -> Pads | None:
    """Per-axis (before, after) padding of a sliding window, or None when it depends on a
    symbolic input size (`same` with stride > 1 on a symbolic axis)."""
    if padding != "same":
        return pads_of(padding, len(ins))
    dilation = dilation or (1,) * len(ins)
    pads = []
    for n, k, s, d in zip(ins, kernel, stride, dilation):
        if s == 1:
            total = d * (k - 1)  # (n-1)*1 + d*(k-1) + 1 - n, whatever n is
        elif sy.is_int(n):
            total = max((-(-n // s) - 1) * s + d * (k - 1) + 1 - n, 0)
        else:
            return None
        pads.append((total // 2, total - total // 2))
    return tuple(pads)


def is_symmetric(pads: Pads) -> bool:
    return all(b == a for b, a in pads)


def f_pad_amounts(pads: Pads) -> tuple[int, ...]:
    """F.pad's order: the last axis first, (before, after) for each."""
    return tuple(v for b, a in reversed(pads) for v in (b, a))


def padded_input(pads: Pads | None, kernel, stride, dilation, value: str = "") -> tuple[str, tuple[str, ...]]:
    """The forward template of a window op's input padded explicitly with `pads` (None: `same`
    padding computed from the input's size at run time); `value` is F.pad's fill value source,
    '' for zeros. Returns (template, helpers)."""
    fill = f", value={value}" if value else ""
    if pads is None:
        dil = tuple(dilation or (1,) * len(kernel))
        return (f"F.pad({{0}}, same_pads({{0}}, {py(tuple(kernel))}, {py(tuple(stride))}, {py(dil)}){fill})",
                (SAME_PADS,))
    if not any(b or a for b, a in pads):
        return "{0}", ()
    return f"F.pad({{0}}, {py(f_pad_amounts(pads))}{fill})", ()


def one(values: Sequence[int]) -> int | tuple[int, ...]:
    """(3, 3) -> 3, (3, 5) -> (3, 5): torch modules take one int for every spatial axis."""
    if not provenance.all_same(values):
        return values if provenance.is_traced(values) else provenance.repacked(tuple(values))
    return tuple(values)[0]


def window_padding(pads: Pads | None, max_each: Sequence[int] | None = None) -> tuple[Any, bool]:
    """How a torch window module takes `pads`: (its `padding` argument, whether the input must
    instead be padded explicitly). torch pads symmetrically only, and pooling at most
    kernel // 2 per side (`max_each`)."""
    if pads is None or not is_symmetric(pads):
        return 0, True
    sym = tuple(b for b, _ in pads)
    if max_each is not None and any(p > m for p, m in zip(sym, max_each)):
        return 0, True
    return one(sym), False


def explicitly_padded(padding, kernel: Sequence[int], stride: Sequence[int], dilation: Sequence[int] | None,
                      x: Sequence[Dim], max_each: Sequence[int] | None = None,
                      stride_same_explicit: bool = True) -> tuple[Dim, ...] | None:
    """The shape of a window op's input after the F.pad its lowering applies (`padded_input`,
    where torch's module cannot pad: asymmetric, or `same` with a stride), or None when the
    module pads itself (then the op's backward keeps its input, not a padded copy).
    `stride_same_explicit`: whether `same` with a stride is always padded explicitly (the
    convolutions: amounts found at run time) or only where torch cannot (pooling)."""
    strided_same = stride_same_explicit and padding == "same" and any(s > 1 for s in stride)
    pads = resolve_pads(padding, kernel, stride, dilation, x[2:])
    if not strided_same:
        _, explicit = window_padding(pads, max_each)
        if not explicit:
            return None
    if pads is None:
        return tuple(x)  # a symbolic size: the amounts are found at run time
    if not strided_same and not any(b or e for b, e in pads):
        return None
    # F.pad copies even when every amount is 0 (`same` with a stride on a divisible size)
    return (*x[:2], *(sy.add(d, b + e) for d, (b, e) in zip(x[2:], pads)))


def weight_op_backward_macs(op, a, inputs, out, ctx) -> Dim:
    """Backward of a convolution or linear layer: the input's gradient (as many MACs as forward,
    skipped where the input needs none, as at the first layer) and the weight's (as many again,
    skipped for frozen weights)."""
    m = op.macs(a, inputs, out)
    return sy.add(m if ctx.grads[0] else 0, m if ctx.trainable else 0)


def moved_contiguous(x: Sequence[Dim], axis: int) -> bool:
    """Whether `x.movedim(axis, -1)` of a contiguous tensor is still contiguous: only when the
    moved axis or everything after it has size 1 (torch ignores size-1 axes' strides)."""
    after = sy.prod(x[axis + 1:])
    return x[axis] == 1 or after == 1
