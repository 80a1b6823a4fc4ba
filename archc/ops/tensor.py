"""Tensor operations that move, cut or declare tensors: permute, transpose, slice, chunk, split,
and tensors that a spec declares itself (learnable `parameter`, fixed `constant`).

Axes are numbered as PyTorch numbers them, the batch included (`permute([0, 2, 3, 1])` is
channels-last), and negative axes count from the end.
"""
from __future__ import annotations

import math
from typing import Any

from archc import symbolic as sy
from archc.ops.common import axis_index
from archc.ops.base import (Attr, AttrError, AttrType, Attrs, Dims, Float, Int, Lowered, Op, ShapeError, Syntax, Window,
                            fmt_shape, helper, py, py_call, _EXPR_SCHEMA)


class Floats(AttrType):
    """A number or a (nested) list of numbers."""
    label = "a number or a list of numbers"

    def coerce(self, value, ndim):
        def check(v):
            if isinstance(v, (list, tuple)):
                return [check(x) for x in v]
            if isinstance(v, bool) or not isinstance(v, (int, float)):
                raise self._reject(v, "a number")
            if not math.isfinite(v):  # as a parameter's: a tensor's values are finite numbers
                raise AttrError(f"the value {v} is not a finite number",
                                "a tensor's values are finite numbers; check how the value was computed",
                                code="E-VALUE-FLOAT-OVERFLOW")
            return float(v)
        return check(value)

    def json_schema(self):
        return {"anyOf": [{"type": "number"}, {"type": "array"}, _EXPR_SCHEMA]}


class Index(AttrType):
    """Per axis, an int (the axis is removed) or a slice (start, stop, step), each possibly None."""
    label = "an index"

    def coerce(self, value, ndim):
        if not isinstance(value, (list, tuple)):
            raise AttrError(f"expected a list with one entry per axis, got {value!r}",
                            "write the slice as a subscript, e.g. x[:, :c] or x[:, 0]",
                            code="E-ATTR-TYPE")
        out = []
        for item in value:
            if isinstance(item, int) and not isinstance(item, bool):
                out.append(item)
            elif isinstance(item, (tuple, list)) and len(item) == 3 and all(
                    v is None or (isinstance(v, int) and not isinstance(v, bool)) for v in item):
                out.append(tuple(item))  # [start, stop, step] when written as a list
            else:
                raise AttrError(f"an index entry must be an int or a slice of ints, got {item!r}",
                                "write the slice as a subscript with int bounds, e.g. x[:, 2:5] or "
                                "x[:, 0]", code="E-ATTR-TYPE")
        return tuple(out)


def _nested_shape(values) -> tuple[int, ...]:
    if not isinstance(values, list):
        return ()
    inner = {_nested_shape(v) for v in values}
    if len(inner) != 1:
        raise ShapeError("the nested lists of values are ragged (rows of different lengths)",
                         "give every row the same number of values, as a tensor needs",
                         code="E-ATTR-TYPE")
    return (len(values), *inner.pop())


def _numel(shape) -> int:
    n = 1
    for d in shape:
        n *= d
    return n


# ----------------------------------------------------------------------------- axis moves


class _AxisMove(Op):
    """Ops that reorder axes; `_dims` gives, per output axis, the input axis it comes from."""
    changes_layout = True
    family = "shape"
    macs_rule = "0"

    def _dims(self, a, x) -> list[int]:
        raise NotImplementedError

    def output_shape(self, a, inputs, ctx):
        x = inputs[0]
        return tuple(x[d] for d in self._dims(a, x))

    def macs(self, a, inputs, out):
        return 0

    def saved_for_backward(self, a, inputs, out, ctx):
        return ()  # a view

    def output_aliases_input(self, a, inputs, ctx):
        return True

    def output_contiguous(self, a, inputs, out, ctx):
        # still contiguous only if the axes of size > 1 keep their order
        x = inputs[0]
        moved = [d for d in self._dims(a, x) if x[d] != 1]
        return (not ctx.contiguous or ctx.contiguous[0]) and moved == sorted(moved)

    def window(self, a, inputs):
        # the field follows the spatial axes only while they stay where they are
        dims = self._dims(a, inputs[0])
        if tuple(dims[2:]) == tuple(range(2, len(dims))):
            return Window((1,) * (len(dims) - 2), (1,) * (len(dims) - 2))
        return None


class Permute(_AxisMove):
    name = "permute"
    title = "Permute"
    family = "shape"
    doc = ("Reorder the axes (torch.permute; torchvision's Permute module): `dims` lists every axis, "
           "the batch included, in its new order; `permute([0, 2, 3, 1])` makes [N, C, H, W] "
           "channels-last [N, H, W, C].")
    attrs = (Attr("dims", Dims(allow_symbolic=False), doc="every axis of the input once, in the new order"),)
    shape_rule = "out[k] = in[dims[k]]; dims must be a permutation of 0 … rank-1 that keeps the batch (dims[0] = 0)"

    def _dims(self, a, x) -> list[int]:
        r = len(x)
        if len(a.dims) != r:
            raise ShapeError(f"dims {list(a.dims)} has {len(a.dims)} entries; the input {fmt_shape(x)} has "
                             f"rank {r}", "list every axis once, the batch (0) first",
                             code="E-SHAPE-PERMUTE")
        dims = [axis_index(d, r, "axis") for d in a.dims]
        if sorted(dims) != list(range(r)):
            raise ShapeError(f"dims {list(a.dims)} is not a permutation of the axes 0 … {r - 1}",
                             f"list each axis 0 … {r - 1} exactly once, e.g. "
                             f"{[0, *range(2, r), 1] if r > 2 else list(range(r))} for channels-last",
                             code="E-SHAPE-PERMUTE")
        if dims[0] != 0:
            raise ShapeError(f"dims {list(a.dims)} moves the batch axis", "keep 0 first",
                             code="E-SHAPE-BATCH-AXIS")
        return dims

    def label(self, a):
        return "(" + ", ".join(str(d) for d in a["dims"]) + ")"

    def lower(self, a, inputs, out):
        dims = self._dims(a, inputs[0])
        return Lowered(py_call("Permute", list(dims)), "{m}({0})", (_PERMUTE,))


_PERMUTE = helper("Permute", '''
class Permute(nn.Module):
    """Reorder the axes (as torchvision.ops.Permute)."""

    def __init__(self, dims):
        super().__init__()
        self.dims = list(dims)

    def forward(self, x):
        return torch.permute(x, self.dims)
''')


class Transpose(_AxisMove):
    name = "transpose"
    title = "Transpose"
    doc = "Swap two axes (torch.transpose), e.g. `transpose(1, 2)` in a channel shuffle."
    attrs = (Attr("dim0", Int(), doc="one axis (0 is the batch)"),
             Attr("dim1", Int(), doc="the other axis"))
    shape_rule = "the sizes of axes dim0 and dim1 are exchanged; neither may be the batch"

    def _dims(self, a, x) -> list[int]:
        r = len(x)
        dims = list(range(r))
        i, j = axis_index(a.dim0, r, "dim0"), axis_index(a.dim1, r, "dim1")
        if 0 in (i, j) and i != j:
            raise ShapeError("transpose would move the batch axis", "transpose axes ≥ 1",
                             code="E-SHAPE-BATCH-AXIS")
        dims[i], dims[j] = dims[j], dims[i]
        return dims

    def label(self, a):
        return f"{a['dim0']}↔{a['dim1']}"

    def lower(self, a, inputs, out):
        return Lowered(None, f"{{0}}.transpose({a.dim0}, {a.dim1})")


# ----------------------------------------------------------------------------- cutting


def _slice_len(size, start, stop, step, ctx, axis: int):
    """Length of size[start:stop:step], exactly as Python and PyTorch count it; a slice that
    reaches past the axis is an error (PyTorch would silently shorten it)."""
    step = 1 if step is None else step
    if step < 1:
        raise ShapeError(f"slice step {step} on axis {axis} must be ≥ 1",
                         "PyTorch tensors take no negative or zero step: use a positive step",
                         code="E-SHAPE-SLICE")

    def position(v, default):
        if v is None:
            return default
        return sy.add(size, v) if v < 0 else v

    begin, end = position(start, 0), position(stop, size)
    inside = all(_at_most(0, p, ctx) and _at_most(p, size, ctx) for p in (begin, end))
    if not inside:
        raise ShapeError(f"slice {_text(start, stop, step)} reaches outside axis {axis} of size "
                         f"{sy.to_str(size)}",
                         "slices must stay inside the axis (PyTorch would silently shorten them)",
                         code="E-SHAPE-SLICE")
    length = sy.sub(end, begin)
    if not (length >= 1 if sy.is_int(length) else ctx.require_positive(length)):
        raise ShapeError(f"slice {_text(start, stop, step)} of axis {axis} (size {sy.to_str(size)}) is empty",
                         "the stop must come after the start: a tensor axis cannot have size 0",
                         code="E-SHAPE-SLICE")
    return length if step == 1 else sy.ceildiv(length, step)


def _at_most(a, b, ctx) -> bool:
    d = sy.sub(b, a)
    return d >= 0 if sy.is_int(d) else ctx.require_positive(sy.add(d, 1))


def _text(start, stop, step) -> str:
    s = ("" if start is None else str(start)) + ":" + ("" if stop is None else str(stop))
    return s + (f":{step}" if step not in (None, 1) else "")


class Slice(Op):
    name = "slice"
    syntax = (Syntax.INDEX,)
    title = "Slice"
    family = "shape"
    doc = ("A part of a tensor, written with Python's subscript syntax on a tensor: `x[:, :c]` "
           "takes the first c channels, `x[:, 0]` the first channel (that axis removed), "
           "`x[:, :, ::2]` every other row. Entries are given per axis from the batch on; axes "
           "not written are kept whole. A slice must stay inside its axis.")
    attrs = (Attr("index", Index(), doc="per axis an int or a slice start:stop:step"),)
    shape_rule = ("per sliced axis, len(range(start, stop, step)) of its size, exactly as Python; an "
                  "int index removes the axis; the batch axis cannot be cut")
    macs_rule = "0"

    def _entries(self, a, x):
        if len(a.index) > len(x):
            raise ShapeError(f"{len(a.index)} indices for a rank-{len(x)} input {fmt_shape(x)}",
                             f"write at most {len(x)} entries, one per axis from the batch on",
                             code="E-SHAPE-SLICE")
        if a.index and a.index[0] != (None, None, None):
            raise ShapeError("the batch axis cannot be sliced", "write ':' first, e.g. x[:, :16]",
                             code="E-SHAPE-BATCH-AXIS")
        return list(a.index) + [(None, None, None)] * (len(x) - len(a.index))

    def output_shape(self, a, inputs, ctx):
        x = inputs[0]
        out = []
        for axis, (size, entry) in enumerate(zip(x, self._entries(a, x))):
            if isinstance(entry, int):
                if sy.is_int(size):
                    if not -size <= entry < size:
                        raise ShapeError(f"index {entry} is out of range for axis {axis} of size {size}",
                                         f"valid indices are {-size} … {size - 1}", code="E-SHAPE-SLICE")
                elif entry < 0 or not ctx.require_positive(sy.sub(size, entry)):
                    raise ShapeError(f"index {entry} may be out of range for axis {axis} of size "
                                     f"{sy.to_str(size)}",
                                     "a negative index needs a concrete size: count from the start, "
                                     "or give the axis a concrete size" if entry < 0 else
                                     "give the axis a concrete size", code="E-SHAPE-SLICE")
                continue
            if entry == (None, None, None):
                out.append(size)
            else:
                out.append(_slice_len(size, *entry, ctx, axis))
        return tuple(out)

    def macs(self, a, inputs, out):
        return 0

    def saved_for_backward(self, a, inputs, out, ctx):
        return ()  # a view: its backward needs only sizes

    def output_aliases_input(self, a, inputs, ctx):
        return True

    def output_contiguous(self, a, inputs, out, ctx):
        # a cut of any axis but the batch leaves gaps between samples (the batch is > 1)
        return (not ctx.contiguous or ctx.contiguous[0]) and sy.prod(out) == sy.prod(inputs[0])

    def window(self, a, inputs):
        x = inputs[0]
        entries = self._entries(a, x)
        if any(isinstance(e, int) for e in entries[2:]):
            return None
        strides = tuple(1 if e[2] is None else e[2] for e in entries[2:])
        return Window((1,) * len(strides), strides)

    def label(self, a):
        return _index_text(a["index"])

    def lower(self, a, inputs, out):
        return Lowered(None, "{0}[" + _index_text(a.index) + "]")


def _index_text(index) -> str:
    parts = [str(e) if isinstance(e, int) else _text(*e) for e in index]
    while len(parts) > 1 and parts[-1] == ":":
        parts.pop()
    return ", ".join(parts)


class _Pieces(Op):
    """Ops that cut one tensor into several along an axis; the elaborator gives each piece its own
    `slice` node, so the IR stays one tensor per node."""
    family = "shape"
    macs_rule = "0"
    pieces_op = True

    def sizes(self, a, x, ctx) -> list:
        raise NotImplementedError

    def pieces(self, a, x, ctx) -> list[Attrs]:
        """The `slice` attributes of each piece."""
        axis = axis_index(a.axis, len(x))
        if axis == 0:
            raise ShapeError(f"{self.name} would cut the batch axis", "use axis ≥ 1",
                             code="E-SHAPE-BATCH-AXIS")
        out, start = [], 0
        for size in self.sizes(a, x[axis], ctx):
            index = [(None, None, None)] * axis + [(start, start + size, None)]
            out.append(Attrs(index=tuple(index)))
            start += size
        return out

    def output_shape(self, a, inputs, ctx):
        # the shape of the first piece; each piece is a slice node with its own shape
        return SLICE.output_shape(self.pieces(a, inputs[0], ctx)[0], inputs, ctx)

    def macs(self, a, inputs, out):
        return 0

    def saved_for_backward(self, a, inputs, out, ctx):
        return ()

    def output_aliases_input(self, a, inputs, ctx):
        return True

    def lower(self, a, inputs, out):
        raise NotImplementedError(f"{self.name} is lowered as one slice per piece")


class Chunk(_Pieces):
    name = "chunk"
    title = "Chunk"
    doc = ("Cut a tensor into `chunks` equal parts along `axis` (torch.chunk), giving that many "
           "tensors: `a, b = x -> chunk(2)` (ShuffleNet). The axis size must divide evenly "
           "(torch.chunk would otherwise return unequal or fewer parts: use split).")
    attrs = (Attr("chunks", Int(1), doc="how many parts"),
             Attr("axis", Int(), 1, "the axis to cut (the channels by default)"))
    shape_rule = "chunks tensors, each with size[axis] / chunks on `axis`, which must divide exactly"

    def sizes(self, a, size, ctx):
        if sy.is_int(size):
            if size % a.chunks:
                raise ShapeError(f"{size} does not divide into {a.chunks} equal chunks",
                                 "use split([...]) with the sizes you want", code="E-SHAPE-SPLIT")
            return [size // a.chunks] * a.chunks
        raise ShapeError(f"chunk needs a concrete size on its axis, got {sy.to_str(size)}",
                         "give that axis a concrete size, or use split([...]) with the sizes",
                         code="E-SHAPE-NOT-CONCRETE")

    def label(self, a):
        return f"{a['chunks']} parts" + ("" if a["axis"] == 1 else f" on axis {a['axis']}")


class Split(_Pieces):
    name = "split"
    title = "Split"
    doc = ("Cut a tensor along `axis` into parts of the given sizes (torch.split with a list), "
           "giving one tensor per size: `a, b, c = x -> split([16, 32, 16])`.")
    attrs = (Attr("sizes", Dims(allow_symbolic=False), doc="the size of each part, in order"),
             Attr("axis", Int(), 1, "the axis to cut (the channels by default)"))
    shape_rule = "one tensor per entry of sizes, which must be ≥ 1 and add up to size[axis]"

    def sizes(self, a, size, ctx):
        if not a.sizes or any(s < 1 for s in a.sizes):
            raise ShapeError(f"split sizes {list(a.sizes)} must be a non-empty list of ints ≥ 1",
                             "give the size of each part, e.g. split([16, 16])", code="E-ATTR-RANGE")
        total = sum(a.sizes)
        if not (size == total if sy.is_int(size) else ctx.require_equal(size, total)):
            raise ShapeError(f"split sizes {list(a.sizes)} add up to {total}, but the axis has size "
                             f"{sy.to_str(size)}", f"make the sizes add up to {sy.to_str(size)}",
                             code="E-SHAPE-SPLIT")
        return list(a.sizes)

    def label(self, a):
        return "+".join(str(s) for s in a["sizes"])


# ----------------------------------------------------------------------------- declared tensors


class Parameter(Op):
    name = "parameter"
    changes_layout = True
    title = "Parameter"
    family = "tensor"
    inputs = 0
    doc = ("A learnable tensor declared in the spec, such as ConvNeXt's layer scale: "
           "`s = parameter([dim, 1, 1], value=1e-6, name=\"layer_scale\")`. Its state_dict key is "
           "exactly its name (`features.1.0.layer_scale`), and it starts filled with `value`. It "
           "has no batch axis; use it through broadcasting (`s * y`).")
    attrs = (Attr("shape", Dims(allow_symbolic=False), doc="the tensor's whole shape (no batch axis)"),
             Attr("value", Float(), 0.0, "the initial value of every element"))
    shape_rule = "output shape = shape (no batch axis)"
    param_rule = "the tensor itself: prod(shape)"
    macs_rule = "0"

    def output_shape(self, a, inputs, ctx):
        if any(d < 1 for d in a.shape):
            raise ShapeError(f"shape {list(a.shape)} must have sizes ≥ 1",
                             "every size is ≥ 1 (the shape has no batch axis)", code="E-ATTR-RANGE")
        return tuple(a.shape)

    def parameters(self, a, inputs):
        return {"": tuple(a["shape"])}

    def macs(self, a, inputs, out):
        return 0

    def saved_for_backward(self, a, inputs, out, ctx):
        return ()  # module state, not an activation

    def window(self, a, inputs):
        return None

    def label(self, a):
        return fmt_shape(a["shape"])

    def lower(self, a, inputs, out):
        return Lowered(f"nn.Parameter(torch.full({py(tuple(a.shape))}, {py(a.value)}))", "{m}")


class Constant(Op):
    name = "constant"
    changes_layout = True
    title = "Constant"
    family = "tensor"
    inputs = 0
    doc = ("A fixed tensor declared in the spec (not learned, and not in the state_dict), e.g. an "
           "ImageNet normalisation: `mean = constant([0.485, 0.456, 0.406], shape=[3, 1, 1])`. "
           "Without `shape` it has the shape of its nested list of values.")
    attrs = (Attr("value", Floats(), doc="a number, or a (nested) list of numbers"),
             Attr("shape", Dims(allow_symbolic=False), None, "the tensor's shape (no batch axis)"))
    shape_rule = "output shape = shape, or the shape of the nested values; prod(shape) = number of values"
    macs_rule = "0"

    def output_shape(self, a, inputs, ctx):
        given = _nested_shape(a.value)
        if a.shape is None:
            if not given:
                raise ShapeError("a single number needs a shape", "e.g. constant(0.5, shape=[1, 1, 1])",
                                 code="E-ATTR-REQUIRED")
            return given
        if any(d < 1 for d in a.shape):
            raise ShapeError(f"shape {list(a.shape)} must have sizes ≥ 1",
                             "every size is ≥ 1 (the shape has no batch axis)", code="E-ATTR-RANGE")
        count = _numel(given)
        if given and count != _numel(a.shape):
            raise ShapeError(f"{count} values cannot fill the shape {fmt_shape(a.shape)}",
                             f"give {_numel(a.shape)} values, or a single number to fill the shape",
                             code="E-ATTR-CONFLICT")
        return tuple(a.shape)

    def macs(self, a, inputs, out):
        return 0

    def saved_for_backward(self, a, inputs, out, ctx):
        return ()  # module state, not an activation

    def window(self, a, inputs):
        return None

    def label(self, a):
        return fmt_shape(self.output_shape(a, [], None))

    def lower(self, a, inputs, out):
        return Lowered(py_call("Constant", _floats(a.value), tuple(out)), "{m}()", (_CONSTANT,))


def _floats(values: Any) -> Any:
    return [_floats(v) for v in values] if isinstance(values, list) else float(values)


_CONSTANT = helper("Constant", '''
class Constant(nn.Module):
    """A fixed tensor: a buffer that moves with the model but is not in its state_dict."""

    def __init__(self, values, shape):
        super().__init__()
        value = torch.tensor(values, dtype=torch.float32)
        value = value.reshape(shape) if value.dim() else value.expand(shape).clone()
        self.register_buffer("value", value, persistent=False)

    def forward(self):
        return self.value
''')


SLICE = Slice()
OPS = [Permute(), Transpose(), SLICE, Chunk(), Split(), Parameter(), Constant()]
