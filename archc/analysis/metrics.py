"""Static analyses over the finished graph IR, each a small interpreter over the nodes:
parameters (trainable / frozen) and buffers, multiply-accumulates, activation memory and the
receptive field. Nothing here runs a model or imports torch.

Per-sample numbers: MACs and activation memory are reported for one sample (batch dimension set
to 1), since the batch size is usually symbolic (`N`) and both are linear in it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from math import prod
from itertools import repeat
from operator import add, attrgetter, itemgetter, mul, sub
from typing import Any

from archc import collector
from archc import symbolic as sy
from archc.ir.graph import Graph, LayerNode, Scope
from archc.ops.base import Op, Shape, ShapeError, numel
from archc.symbolic import Dim

BYTES_PER_ELEMENT = 4  # float32


@dataclass(slots=True)
class Field:
    """Receptive field per spatial axis: `size` input pixels seen, `jump` pixels between
    neighbouring outputs. `size is None`: the whole input (after global pooling)."""
    size: tuple[Any, ...] | None
    jump: tuple[Any, ...]

    def text(self) -> str:
        if self.size is None:
            return "global"
        return "×".join(_num(s) for s in self.size) if len(set(self.size)) > 1 else _num(self.size[0])

    def jump_text(self) -> str:
        return "×".join(_num(s) for s in self.jump) if len(set(self.jump)) > 1 else _num(self.jump[0])


def _num(x: Any) -> str:
    if isinstance(x, Fraction):
        return str(x.numerator) if x.denominator == 1 else f"{x.numerator}/{x.denominator}"
    return str(x)


@dataclass(slots=True)  # one per layer: no per-instance dict
class LayerMetrics:
    param_shapes: dict[str, Shape] = field(default_factory=dict)  # weight tensors by name
    buffers: dict[str, Shape] = field(default_factory=dict)
    param_count: int = 0
    buffer_count: int = 0
    trainable: int = 0
    frozen: int = 0
    macs: Dim = 0  # per sample
    activation_bytes: Dim = 0  # per sample, this layer's output
    field: Field | None = None  # None: not spatial

    @property
    def params(self) -> dict[str, Shape]:
        """Deprecated: the weight tensors' shapes; use `param_shapes` (params count weights)."""
        import warnings
        warnings.warn("LayerMetrics.params is renamed param_shapes", DeprecationWarning, stacklevel=2)
        return self.param_shapes


@dataclass
class Totals:
    params: int
    trainable: int
    frozen: int
    buffers: int
    macs: Dim
    activation_bytes: Dim


@dataclass
class Metrics:
    layers: dict[str, LayerMetrics]
    totals: Totals
    _scope_totals: dict[tuple[str, ...], Totals] | None = field(default=None, repr=False, compare=False)

    def scope_totals(self, graph: Graph, scope: Scope) -> Totals:
        return self.all_scope_totals(graph).get(scope.path) or _sum([])

    def all_scope_totals(self, graph: Graph) -> dict[tuple[str, ...], Totals]:
        """Every scope's totals by path (a scope that holds no layer has none)."""
        if self._scope_totals is None:  # every scope's at once, bottom up: linear in the layers
            self._scope_totals = _totals_by_scope(graph, self.layers)
        return self._scope_totals


@dataclass
class OpTotals:
    """One row of the per-op breakdown."""
    op: str  # the op's title, e.g. Conv2d
    family: str
    quoted: bool  # in the conv + linear subtotal papers quote (the op family's `quoted_macs`)
    layers: int
    params: int
    macs: Dim


def by_op(graph: Graph, metrics: Metrics) -> list[OpTotals]:
    """Parameters and MACs per op type, in order of first appearance."""
    rows: dict[str, OpTotals] = {}
    for node in graph.layers():
        op = node.op
        if op is None:  # an input
            continue
        m = metrics.layers[node.id]
        row = rows.get(op.title)
        if row is None:
            row = rows[op.title] = OpTotals(op.title, op.family, op.family_info.quoted_macs, 0, 0, 0)
        row.layers += 1
        row.params += m.param_count
        if not node.training_only and not node.unused:  # inference cost, as the totals
            row.macs = sy.add(row.macs, m.macs)
    return list(rows.values())


def quoted_macs(rows: list[OpTotals]) -> Dim:
    """Conv + linear MACs: what torchvision (GFLOPS), fvcore and papers quote."""
    total: Dim = 0
    for row in rows:
        if row.quoted:
            total = sy.add(total, row.macs)
    return total


def _sum(items: list[LayerMetrics]) -> Totals:
    """The totals of layers, at C speed (one pass a number; symbolic sizes added in order)."""
    return Totals(sum(map(_PARAMS, items)), sum(map(_TRAINABLE, items)), sum(map(_FROZEN, items)),
                  sum(map(_BUFFERS, items)), _total(list(map(_MACS, items))), _total(list(map(_ACTIVATION, items))))


_PARAMS, _TRAINABLE, _FROZEN, _BUFFERS, _MACS, _ACTIVATION = map(attrgetter, (
    "param_count", "trainable", "frozen", "buffer_count", "macs", "activation_bytes"))


_INT = frozenset((int,))


def _total(sizes: "list[Dim] | tuple[Dim, ...]") -> Dim:
    """The sum of sizes: ints at C speed, symbolic sizes exactly, in order."""
    if set(map(type, sizes)) <= _INT:
        return sum(sizes)
    total: Dim = 0
    for d in sizes:
        total = total + d if type(total) is int and type(d) is int else sy.add(total, d)
    return total


def _totals_by_scope(graph: Graph, layers: dict[str, LayerMetrics]) -> dict[tuple[str, ...], Totals]:
    """Each scope's totals: its own layers' plus its sub-scopes' (each summed once), deepest
    scopes first, over the graph's scope index. Most scopes hold a few layers: one loop over
    them costs less than a pass a number."""
    index = graph.scope_index()
    paths = {(), *(sub for subs in index.subpaths.values() for sub in subs)}
    out: dict[tuple[str, ...], Totals] = {}
    add = sy.add
    for path in sorted(paths, key=len, reverse=True):
        params = trainable = frozen = buffers = 0
        macs: Dim = 0
        act: Dim = 0
        for node in index.direct.get(path, ()):
            if node.op is not None:
                m = layers[node.id]
                params += m.param_count
                trainable += m.trainable
                frozen += m.frozen
                buffers += m.buffer_count
                macs = macs + m.macs if type(macs) is int and type(m.macs) is int else add(macs, m.macs)
                act = act + m.activation_bytes if type(act) is int and type(m.activation_bytes) is int \
                    else add(act, m.activation_bytes)
        for subpath in index.subpaths.get(path, ()):
            t = out[subpath]
            params += t.params
            trainable += t.trainable
            frozen += t.frozen
            buffers += t.buffers
            macs = macs + t.macs if type(macs) is int and type(t.macs) is int else add(macs, t.macs)
            act = act + t.activation_bytes if type(act) is int and type(t.activation_bytes) is int \
                else add(act, t.activation_bytes)
        out[path] = Totals(params, trainable, frozen, buffers, macs, act)
    return out


def per_sample(shape: Shape) -> Shape:
    return (1, *shape[1:])


def _count(shapes: dict[str, Shape], node: LayerNode) -> int:
    total = 0
    for name, shape in shapes.items():
        n = prod(shape)  # C speed; a symbolic size (its value unused here) multiplies as in numel
        if not isinstance(n, int):
            # the ops refuse symbolic parameter shapes while elaborating: a guard, not a path
            raise ShapeError(f"{node.id}: parameter '{name}' has a symbolic shape {shape}",
                             "give the input a concrete size", code="E-SHAPE-NOT-CONCRETE")
        total += n
    return total


def _kind(op: Any, attrs: Any, shape_id: int, input_ids: Any) -> tuple:
    """What a layer's counts, MACs and window are a function of: its op, its bound attribute
    values and its output and input shapes (as `_Shapes` numbers them). Layers alike in all of
    them share what is found once: a replayed block instance's layers (archc.ir.instances), and
    layers written alike (every batch norm of 64 channels on one shape, every ReLU after it).
    Attribute values are coerced to their declared type when bound (an Int is an int, a Float a
    float), so equal values mean equal results. Hashing the key raises TypeError for an
    unhashable value (a list of floats). (analyse builds the same key inline.)"""
    return (op, tuple(attrs.items()), shape_id, *input_ids)


class _Shapes:
    """Shapes numbered as a pass over the graph meets them, with the bytes of one sample of each.
    A layer that keeps its input's shape (normalisation, activation) mostly holds the same tuple:
    known by identity (`by_identity`, which the passes read first), it is not hashed again (the
    batch size, an Expr, hashes in Python). Each number's shape for one sample is kept too."""
    __slots__ = ("ids", "by_identity", "sample_bytes", "samples")

    def __init__(self) -> None:
        self.ids: dict[Shape, int] = {}
        self.by_identity: dict[int, int] = {}  # id(shape): the graph keeps its shapes alive meanwhile
        self.sample_bytes: list[Dim] = []
        self.samples: list[Shape] = []  # per_sample

    def number(self, shape: Shape) -> int:
        number = self.by_identity.get(id(shape))
        if number is None:
            number = self.ids.get(shape)
            if number is None:
                number = self.ids[shape] = len(self.sample_bytes)
                self.sample_bytes.append(sy.mul(numel(shape[1:]), BYTES_PER_ELEMENT))
                self.samples.append(per_sample(shape))
            self.by_identity[id(shape)] = number
        return number


_SHAPE_ID, _SHAPE = itemgetter(0), itemgetter(1)


@collector.paused()
def analyse(graph: Graph) -> Metrics:
    layers: dict[str, LayerMetrics] = {}
    counted: list[LayerMetrics] = []  # the layers' (not the inputs'), in order: the totals
    training_only = False
    # what a layer's readers need of it, by id: (shape number, shape, receptive field, declared
    # tensor, the field's spatial axes: -2 for none or a declared tensor's)
    outputs: dict[str, tuple[int, Shape, Field | None, bool, int]] = {}
    shapes = _Shapes()
    shape_number, sample_bytes, samples = shapes.by_identity.get, shapes.sample_bytes, shapes.samples
    costs: dict[tuple, tuple] = {}  # by the layers' kinds (_kind)
    for node in graph.layers():
        shape = node.shape
        shape_id = shape_number(id(shape))
        if shape_id is None:
            shape_id = shapes.number(shape)
        op = node.op
        if op is None:  # an input
            spatial = (1,) * (len(shape) - 2)
            field = Field(spatial, spatial) if len(shape) > 2 else None
            layers[node.id] = LayerMetrics(activation_bytes=sample_bytes[shape_id], field=field)
            outputs[node.id] = (shape_id, shape, field, False, -2 if field is None else len(spatial))
            continue
        inputs = node.inputs
        if len(inputs) == 1:  # (most layers: no list)
            source = outputs[inputs[0]]
            ins: Any = (source,)
            key: tuple | None = (op, tuple(node.attrs.items()), shape_id, source[0])
        else:
            source = None
            ins = list(map(outputs.__getitem__, inputs))
            key = (op, tuple(node.attrs.items()), shape_id, *map(_SHAPE_ID, ins))
        try:
            cost = costs.get(key)
        except TypeError:  # an unhashable attribute value: found for this layer alone
            key = cost = None
        if cost is None:
            cost = _cost(graph, node, list(map(_SHAPE, ins)), [samples[x[0]] for x in ins], samples[shape_id],
                         sample_bytes[shape_id])
            if key is not None:
                costs[key] = cost
        param_shapes, buffers, param_count, buffer_count, macs, window, pointwise, activation, declared = cost
        if node.shares is not None:  # a shared layer's later application: its weights are the first's
            param_shapes, buffers, param_count, buffer_count = {}, {}, 0, 0
        if node.unused:  # built, never run: weights but no cost
            macs, activation = 0, 0
        if source is not None and source[4] == pointwise:  # normalisation, activation: the field as it came
            field = source[2]
            outputs[node.id] = (shape_id, shape, field, False, pointwise)
        else:  # a declared tensor (parameter, constant) does not limit what the output sees
            field = _field(op, [x[2] for x in ins if not x[3]], window)
            outputs[node.id] = (shape_id, shape, field, declared,
                                -2 if field is None or declared else len(field.jump))
        if node.frozen:
            m = LayerMetrics(param_shapes, buffers, param_count, buffer_count, 0, param_count, macs, activation, field)
        else:
            m = LayerMetrics(param_shapes, buffers, param_count, buffer_count, param_count, 0, macs, activation, field)
        layers[node.id] = m
        counted.append(m)
        if node.training_only:
            training_only = True
    totals = _sum(counted)
    # cost is what an inference forward pass runs: training-only layers (auxiliary classifiers)
    # have parameters but no MACs or activations there
    if training_only:
        inference = _sum([m for n, m in zip(graph.layers(), layers.values()) if n.op is not None
                          and not n.training_only])
        totals.macs, totals.activation_bytes = inference.macs, inference.activation_bytes
    return Metrics(layers, totals)


def _cost(graph: Graph, node: LayerNode, in_shapes: list, in_samples: list, out_sample: Shape,
          sample_bytes: Dim) -> tuple:
    """What a layer's op says of it, given its bound attributes and input shapes (and those
    shapes for one sample): (parameter shapes, buffer shapes, their counts, MACs per sample,
    window, pointwise: see below, the activation bytes of a sample (`sample_bytes`, its output's)
    and whether the op declares a tensor (stored once, not per sample: no activation))."""
    op, attrs = node.op, node.attrs
    params = graph.parameter_shapes(node)
    buffers = op.buffers(attrs, in_shapes)
    macs = op.macs(attrs, in_samples, out_sample)
    window = op.window(attrs, in_shapes)
    # pointwise: the number of spatial axes of the field it keeps as it is (-1: it changes it)
    pointwise = len(window.kernel) if window is not None and not window.global_ and not window.transposed \
        and window.kernel.count(1) == len(window.kernel) and window.stride.count(1) == len(window.stride) else -1
    declared = op.inputs == 0
    return (params, buffers, _count(params, node), _count(buffers, node), macs, window, pointwise,
            0 if declared else sample_bytes, declared)


def _field(op: Any, fields: list[Field | None], window: Any) -> Field | None:
    """The receptive field of a layer that is not pointwise (analyse keeps that one as it came)."""
    spatial = [f for f in fields if f is not None]
    if window is None or not spatial or (len(spatial) < len(fields) and not op.merges_fields):
        return None
    if window.global_:
        return Field(None, spatial[0].jump)
    ndim = len(spatial[0].jump)
    if len(spatial) == 1:
        jump, size = spatial[0].jump, spatial[0].size
    elif any(len(f.jump) != ndim for f in spatial):
        return None
    else:
        # merges: the widest field and the coarsest jump among the inputs (axis by axis)
        jump = tuple(map(max, *(f.jump for f in spatial)))
        size = None if any(f.size is None for f in spatial) else tuple(map(max, *(f.size for f in spatial)))
    # a global or non-spatial input (a squeeze-and-excitation gate) makes the output see
    # everything, but positions keep moving with the strides that follow
    if len(spatial) < len(fields):
        size = None
    kernel = window.kernel or (1,) * ndim
    stride = window.stride or (1,) * ndim
    if len(kernel) != ndim:
        return None
    if window.transposed:
        new_jump = tuple(Fraction(j) / s for j, s in zip(jump, stride))
        new_size = None if size is None else tuple(r + (k - 1) * j for r, k, j in zip(size, kernel, new_jump))
    else:  # (per axis j * s and r + (k - 1) * j, at C speed)
        new_jump = tuple(map(mul, jump, stride))
        new_size = None if size is None else tuple(map(add, size, map(mul, map(sub, kernel, repeat(1)), jump)))
    return Field(None if new_size is None else _whole(new_size), _whole(new_jump))


def _whole(values: tuple) -> tuple:
    """Fractions that are whole numbers (a transposed layer's jump, multiplied back) as ints."""
    if Fraction not in map(type, values):
        return values
    return tuple(int(x) if isinstance(x, Fraction) and x.denominator == 1 else x for x in values)


# ----------------------------------------------------------------------------- size limits

# Far above any real model: the largest published CNNs have well under 10 G parameters
# (40 GB of float32), and 1 T parameters (4 TB of float32) fits on no machine archc's output
# could be trained or run on, so such a count is a typo (`conv2d(10**12, 3)`), not a design.
WARN_PARAMS = 10 ** 10
MAX_PARAMS = 10 ** 12
# Activation memory of one sample, summed over the layers: 1 TiB is more than any accelerator
# holds (a 3-d U-Net at 512³ needs tens of GB); 1 PiB is beyond any cluster's memory.
WARN_ACTIVATION_BYTES = 2 ** 40
MAX_ACTIVATION_BYTES = 2 ** 50


@dataclass
class SizeCheck:
    """What `check_sizes` found: the errors and warnings of `size_limits`, and the model's
    parameter count as `analyse` gives it (`Totals.params`), None where it cannot tell (a
    layer's parameter shapes unknown or symbolic: analyse reports those) or stopped at an error."""
    errors: list
    warnings: list
    params: int | None


def size_limits(graph: Graph) -> tuple[list, list]:
    """(errors, warnings) for a model whose total parameter count or per-sample activation
    memory is past a sane size (a warning) or an absurd one (an error), each located at the
    layer that crosses the line. Symbolic sizes are not bounded (they are chosen at run time).
    Cheap: parameter shapes and output sizes only, no receptive field."""
    check = check_sizes(graph)
    return check.errors, check.warnings


@collector.paused()
def check_sizes(graph: Graph) -> SizeCheck:
    """`size_limits`, and the parameter count it finds on the way (what `archc check` prints
    needs no other analysis)."""
    from archc.errors import SpecError

    errors: list = []
    warnings: list = []
    params = 0  # every layer's weights: the limits count a shared layer's at each application
    owned: int | None = 0  # without shared layers' later applications, as analyse counts them
    act = 0
    warned_params = warned_act = False
    shapes = _Shapes()
    shape_number, sample_bytes = shapes.by_identity.get, shapes.sample_bytes
    shape_ids: dict[str, int] = {}  # by node id, for the layers that read them
    counts: dict[tuple, tuple[int, bool]] = {}  # _concrete_count by the layers' kinds (_kind)
    has_weights: dict[Op, bool] = {}
    for node in graph.layers():
        shape = node.shape
        if shape is None:
            continue
        shape_id = shape_number(id(shape))
        if shape_id is None:
            shape_id = shapes.number(shape)
        shape_ids[node.id] = shape_id
        op = node.op
        if op is None or op.inputs != 0:
            size = sample_bytes[shape_id]
            if isinstance(size, int) and not node.training_only:
                act += size
        if op is not None:  # an op that keeps the base rule has no parameters whatever its attributes
            weighted = has_weights.get(op)
            if weighted is None:
                weighted = has_weights[op] = type(op).parameters is not Op.parameters
            if weighted:
                key: tuple | None = _kind(op, node.attrs, shape_id, map(shape_ids.get, node.inputs))  # (None: no shape)
                try:
                    count = counts.get(key)
                except TypeError:  # an unhashable attribute value: counted for this layer alone
                    key = count = None
                if count is None:
                    try:
                        count = _concrete_count(graph.parameter_shapes(node))
                    except ShapeError:  # reported where the metrics are computed
                        owned = None
                        continue
                    if key is not None:
                        counts[key] = count
                params += count[0]
                if not count[1]:  # a symbolic parameter shape: analyse refuses it
                    owned = None
                elif owned is not None and node.shares is None:
                    owned += count[0]
        if params > WARN_PARAMS or act > WARN_ACTIVATION_BYTES:  # (the limits are above the warnings)
            if params > MAX_PARAMS:
                errors.append(SpecError(
                    f"the model has {_big(params)} parameters{_at(node)}, past the limit of {_big(MAX_PARAMS)} "
                    f"({_bytes(params * BYTES_PER_ELEMENT)} of float32)", node.loc,
                    "a size is probably mistyped (channels, features or a kernel)", code="E-LIMIT-PARAMS"))
                return SizeCheck(errors, warnings, None)
            if act > MAX_ACTIVATION_BYTES:
                errors.append(SpecError(
                    f"the activations of one sample need {_bytes(act)}{_at(node)}, past the limit of "
                    f"{_bytes(MAX_ACTIVATION_BYTES)}", node.loc,
                    "an input or output size is probably mistyped (channels or spatial sizes)",
                    code="E-LIMIT-ACTIVATIONS"))
                return SizeCheck(errors, warnings, None)
            if params > WARN_PARAMS and not warned_params:
                warned_params = True
                warnings.append(SpecError(
                    f"the model has over {_big(WARN_PARAMS)} parameters{_at(node)} "
                    f"({_bytes(params * BYTES_PER_ELEMENT)} of float32 at least)", node.loc,
                    "check the channel and feature sizes", [], "warning", code="W-LIMIT-PARAMS"))
            if act > WARN_ACTIVATION_BYTES and not warned_act:
                warned_act = True
                warnings.append(SpecError(
                    f"the activations of one sample need over {_bytes(WARN_ACTIVATION_BYTES)}{_at(node)}",
                    node.loc, "check the input and channel sizes", [], "warning", code="W-LIMIT-ACTIVATIONS"))
    return SizeCheck(errors, warnings, owned)


def _concrete_count(shapes: dict[str, Shape]) -> tuple[int, bool]:
    """The elements of the shapes that are concrete, and whether all are."""
    count, concrete = 0, True
    for shape in shapes.values():
        n = prod(shape)  # as in _count
        if isinstance(n, int):
            count += n
        else:
            concrete = False
    return count, concrete


def _at(node: LayerNode) -> str:
    return f" (at {node.id})" if not node.is_input else f" (at input {node.id})"


def _big(n: int) -> str:
    """10**12 -> '1e+12'; never the full digits of a huge number (Python limits int -> str)."""
    return f"{n:,}" if n < 10 ** 15 else f"{float(n):.3g}" if n < 10 ** 300 else "over 1e300"


def _bytes(n: int) -> str:
    for unit, size in (("PB", 10 ** 15), ("TB", 10 ** 12), ("GB", 10 ** 9), ("MB", 10 ** 6)):
        if n >= size:
            return f"{_big(n // size)} {unit}" if n // size >= 10 ** 15 else f"{n / size:.3g} {unit}"
    return f"{n} bytes"
