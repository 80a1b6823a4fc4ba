"""Static analyses over the finished graph IR, each a small interpreter over the nodes:
parameters (trainable / frozen) and buffers, multiply-accumulates, activation memory and the
receptive field. Nothing here runs a model or imports torch.

Per-sample numbers: MACs and activation memory are reported for one sample (batch dimension set
to 1), since the batch size is usually symbolic (`N`) and both are linear in it.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from math import prod
from itertools import chain, compress, repeat
from operator import add, attrgetter, itemgetter, mul
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
    if type(x) is int:  # (most: no isinstance through Fraction's ABC metaclass)
        return str(x)
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
    """Per-layer metrics and the model's totals. The layers' counts and MACs are found once per
    kind of layer (`LayerKinds`): `kinds` holds each kind's (LayerMetrics' fields but the receptive
    field), `kind_of` each node's kind; the receptive fields, which `.params` and `.macs` do not
    need, are found on first use (`fields`), and so are the `LayerMetrics` of `layers`."""
    kinds: list[tuple]
    kind_of: dict[str, int]  # node id -> index in kinds, in graph order (the inputs too)
    totals: Totals
    _graph: Graph = field(repr=False, compare=False)
    layer_kinds: LayerKinds = field(repr=False, compare=False)  # which layer is of which kind
    _fields: dict[str, tuple] | None = field(default=None, repr=False, compare=False)
    _made: dict[str, "LayerMetrics"] = field(default_factory=dict, repr=False, compare=False)  # (by `layers`)
    _scope_totals: dict[tuple[str, ...], Totals] | None = field(default=None, repr=False, compare=False)

    @property
    def layers(self) -> "Mapping[str, LayerMetrics]":
        """Each node's LayerMetrics by node id, in graph order (made on first read). A view made
        at each call: kept here, it would point back at the metrics, a cycle for the collector."""
        return _LayerTable(self)

    def fields(self) -> dict[str, tuple]:
        """Each node's (receptive field, declared tensor, the field's spatial axes) by node id."""
        if self._fields is None:
            self._fields = _fields(self._graph, self.layer_kinds)
        return self._fields

    def scope_totals(self, graph: Graph, scope: Scope) -> Totals:
        return self.all_scope_totals(graph).get(scope.path) or _sum_kinds([], [])

    def all_scope_totals(self, graph: Graph) -> dict[tuple[str, ...], Totals]:
        """Every scope's totals by path (a scope that holds no layer has none)."""
        if self._scope_totals is None:  # every scope's at once, bottom up: linear in the layers
            self._scope_totals = _totals_by_scope(graph, self)
        return self._scope_totals


class _LayerTable(Mapping):
    """`Metrics.layers`: a LayerMetrics made when a node's is first read (the summary and the
    totals read the kinds; most callers read a few layers)."""
    __slots__ = ("_metrics", "_made")

    def __init__(self, metrics: Metrics) -> None:
        self._metrics = metrics
        self._made = metrics._made

    def __getitem__(self, node_id: str) -> LayerMetrics:
        m = self._made.get(node_id)
        if m is None:
            metrics = self._metrics
            kind = metrics.kinds[metrics.kind_of[node_id]]  # (KeyError: no such node)
            m = self._made[node_id] = LayerMetrics(*kind, metrics.fields()[node_id][0])
        return m

    def __contains__(self, node_id: object) -> bool:
        return node_id in self._metrics.kind_of

    def __iter__(self) -> Iterator[str]:
        return iter(self._metrics.kind_of)

    def __len__(self) -> int:
        return len(self._metrics.kind_of)


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
    layers = metrics.layers
    for node in graph.layers():
        op = node.op
        if op is None:  # an input
            continue
        m = layers[node.id]
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


def _sum_kinds(kinds: list[tuple], layers: list[int]) -> Totals:
    """The totals of layers given by their kinds (`Metrics.kinds`), at C speed: where every size
    is an int, each kind's numbers times its number of layers (a model has about half as many
    kinds as layers); otherwise one pass a number, symbolic sizes added in order."""
    times = Counter(layers)
    counted = list(zip(*map(kinds.__getitem__, times)))
    if counted and sy.all_int(chain(counted[6], counted[7])):
        layer_counts = list(times.values())
        return Totals(*[sum(map(mul, counted[k], layer_counts)) for k in (2, 4, 5, 3, 6, 7)])
    columns = list(zip(*kinds)) if kinds else [()] * 8
    params, trainable, frozen, buffers, macs, activation = (
        list(map(columns[k].__getitem__, layers)) for k in (2, 4, 5, 3, 6, 7))
    return Totals(sum(params), sum(trainable), sum(frozen), sum(buffers), _total(macs), _total(activation))


def _total(sizes: "list[Dim] | tuple[Dim, ...]") -> Dim:
    """The sum of sizes: ints at C speed, symbolic sizes exactly, in order."""
    if sy.all_int(sizes):
        return sum(sizes)
    total: Dim = 0
    for d in sizes:
        total = sy.add(total, d)
    return total


def _totals_by_scope(graph: Graph, metrics: Metrics) -> dict[tuple[str, ...], Totals]:
    """Each scope's totals: its own layers' plus its sub-scopes' (each summed once), deepest
    scopes first, over the graph's scope index. Most scopes hold a few layers: one loop over
    them costs less than a pass a number."""
    index = graph.scope_index()
    paths = sorted({(), *(sub for subs in index.subpaths.values() for sub in subs)}, key=len, reverse=True)
    kinds, kind_of = metrics.kinds, metrics.kind_of
    out: dict[tuple[str, ...], Totals] = {}
    add = sy.add
    for path in paths:
        params = trainable = frozen = buffers = 0
        macs: Dim = 0
        act: Dim = 0
        for node in index.direct.get(path, ()):
            if node.op is not None:
                _, _, count, buffer_count, trained, fixed, layer_macs, layer_act = kinds[kind_of[node.id]]
                params += count
                trainable += trained
                frozen += fixed
                buffers += buffer_count
                macs = add(macs, layer_macs)
                act = add(act, layer_act)
        for subpath in index.subpaths.get(path, ()):
            t = out[subpath]
            params += t.params
            trainable += t.trainable
            frozen += t.frozen
            buffers += t.buffers
            macs = add(macs, t.macs)
            act = add(act, t.activation_bytes)
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


class _Shapes:
    """Shapes numbered as a pass over the graph meets them, with the bytes of one sample of each.
    A layer that keeps its input's shape (normalisation, activation) mostly holds the same tuple:
    known by identity (`by_identity`, which the passes read first), it is not hashed again (the
    batch size, an Expr, hashes in Python)."""
    __slots__ = ("ids", "by_identity", "sample_bytes")

    def __init__(self) -> None:
        self.ids: dict[Shape, int] = {}
        self.by_identity: dict[int, int] = {}  # id(shape): the graph keeps its shapes alive meanwhile
        self.sample_bytes: list[Dim] = []

    def number(self, shape: Shape) -> int:
        number = self.by_identity.get(id(shape))
        if number is None:
            number = self.ids.get(shape)
            if number is None:
                number = self.ids[shape] = len(self.sample_bytes)
                self.sample_bytes.append(sy.mul(numel(shape[1:]), BYTES_PER_ELEMENT))
            self.by_identity[id(shape)] = number
        return number


class LayerKinds:
    """Every node's kind, numbered in one pass over the graph: layers alike in op, bound attribute
    values, output and input shapes (as `_Shapes` numbers them) and the flags that change their
    counts (shared, unused, frozen, training-only) are of one kind, and what their op says of them
    (parameter counts, MACs, window) is asked once per kind. A replayed block instance's layers
    (archc.ir.instances) are of their template's kinds, and so are layers written alike (every
    batch norm of 64 channels on one shape, every ReLU after it). Attribute values are coerced to
    their declared type when bound (an Int is an int, a Float a float), so equal values mean equal
    results; a layer with an unhashable value (a list of floats) shares a kind only with the
    layers that hold the same attribute dict. Found once per graph (`layer_kinds`): the size
    check at load and the metrics both read them."""
    __slots__ = ("nodes", "of", "firsts", "shapes", "kind_shapes", "kind_attrs", "param_counts")

    def __init__(self, nodes: list[LayerNode], of: list[int], firsts: list[LayerNode], shapes: "_Shapes",
                 kind_shapes: list[int], kind_attrs: list) -> None:
        self.nodes = nodes  # in graph order
        self.of = of  # each node's kind, in graph order
        self.firsts = firsts  # each kind's first node
        self.shapes = shapes
        self.kind_shapes = kind_shapes  # each kind's shape number
        self.kind_attrs = kind_attrs  # each kind's attribute values' number (None: an input)
        # each kind's parameter count where the size check found it whole (None: not found)
        self.param_counts: list[int | None] | None = None


def layer_kinds(graph: Graph) -> LayerKinds | None:
    """The graph's layer kinds, found on first use; None for a graph with a layer without a shape
    (what elaborated around errors, for editors)."""
    kinds = graph._kinds
    if kinds is None:
        kinds = graph._kinds = _number_kinds(graph)
    return kinds


def _number_kinds(graph: Graph) -> LayerKinds | None:
    nodes = list(graph.layers())
    of: list[int] = []
    firsts: list[LayerNode] = []
    kind_shapes: list[int] = []
    kind_attrs: list = []
    shapes = _Shapes()
    shape_number = shapes.by_identity.get
    shape_of: dict[str, int] = {}  # each node's shape number, for its readers
    # bound attribute dicts numbered by value, known by identity first (a replayed instance's
    # layers hold their template's dicts: not hashed again); the graph keeps them alive meanwhile
    attrs_by_id: dict[int, Any] = {}
    attrs_by_value: dict[tuple, int] = {}
    found: dict[tuple, int] = {}
    for node in nodes:
        shape = node.shape
        if shape is None:
            return None
        shape_id = shape_number(id(shape))
        if shape_id is None:
            shape_id = shapes.number(shape)
        shape_of[node.id] = shape_id
        op = node.op
        if op is None:  # an input (whose flag, training-only, its kind holds too)
            key: tuple = (None, shape_id, node.training_only)
        else:
            attrs = node.attrs
            if not attrs:  # (activations, additions: nothing to number)
                attrs_id: Any = -1
            else:
                attrs_id = attrs_by_id.get(id(attrs))
                if attrs_id is None:  # (equal values, one number)
                    try:
                        attrs_id = attrs_by_value.setdefault(tuple(attrs.items()), len(attrs_by_value))
                    except TypeError:  # an unhashable value: the dict is known by itself only
                        attrs_id = ("unhashable", id(attrs))
                    attrs_by_id[id(attrs)] = attrs_id
            inputs = node.inputs
            if len(inputs) == 1:  # (most layers)
                key = (op, attrs_id, shape_id, shape_of[inputs[0]])
            else:
                key = (op, attrs_id, shape_id, *map(shape_of.__getitem__, inputs))
            if node.shares is not None or node.unused or node.frozen or node.training_only:  # (rare)
                # one item, a tuple: bools in the key's place of input shape numbers would equal
                # the numbers 0 and 1 of a layer of more inputs (True == 1)
                key += ((node.shares is not None, node.unused, node.frozen, node.training_only),)
        kind = found.get(key)
        if kind is None:
            kind = found[key] = len(firsts)
            firsts.append(node)
            kind_shapes.append(shape_id)
            kind_attrs.append(None if op is None else attrs_id)
        of.append(kind)
    return LayerKinds(nodes, of, firsts, shapes, kind_shapes, kind_attrs)


@collector.paused()
def analyse(graph: Graph) -> Metrics:
    """Each kind of layer's counts and MACs (`LayerKinds`), and the totals, summed at C speed;
    the receptive fields wait for their first reader (`Metrics.fields`)."""
    kinds = layer_kinds(graph)
    if kinds is None:
        raise TypeError(f"{graph.name}: a layer has no shape (a partial graph has no metrics)")
    sample_bytes = kinds.shapes.sample_bytes
    costs: list[tuple] = []  # LayerMetrics' fields but the receptive field, per kind
    counts = kinds.param_counts or repeat(None)  # (the size check's, when it ran)
    for node, shape_id, known in zip(kinds.firsts, kinds.kind_shapes, counts):
        if node.op is None:  # an input: its activation only, not in the totals
            costs.append(({}, {}, 0, 0, 0, 0, 0, sample_bytes[shape_id]))
        else:
            costs.append(_cost(graph, node, sample_bytes[shape_id], known))
    of, firsts = kinds.of, kinds.firsts
    counted = list(compress(of, map([node.op is not None for node in firsts].__getitem__, of)))
    totals = _sum_kinds(costs, counted)
    # cost is what an inference forward pass runs: training-only layers (auxiliary classifiers)
    # have parameters but no MACs or activations there
    if any(node.training_only for node in firsts):
        inference = _sum_kinds(costs, list(compress(counted, map(
            [not node.training_only for node in firsts].__getitem__, counted))))
        totals.macs, totals.activation_bytes = inference.macs, inference.activation_bytes
    return Metrics(costs, dict(zip(map(_ID, kinds.nodes), of)), totals, graph, kinds)


def _cost(graph: Graph, node: LayerNode, sample_bytes: Dim, known: int | None = None) -> tuple:
    """What a layer's op says of it, given its bound attributes and input shapes (MACs for one
    sample; `sample_bytes`: its output's bytes), as a kind of `Metrics.kinds`: its LayerMetrics'
    fields but the receptive field. A shared layer's later application holds no weights (the
    first's), an unused one costs nothing, a declared tensor (stored once, not per sample) no
    activation. `known`: the parameter count, where the size check found it whole."""
    op, attrs = node.op, node.attrs
    inputs = graph.input_shapes(node)
    rules = type(op)  # (an op that keeps the base rule has no weights or buffers, whatever its attributes)
    params: dict = {} if node.shares is not None or rules.parameters is Op.parameters else graph.parameter_shapes(node)
    buffers: dict = {} if node.shares is not None or rules.buffers is Op.buffers else op.buffers(attrs, inputs)
    count = (_count(params, node) if known is None else known) if params else 0
    if node.unused:  # built, never run: weights but no cost
        macs: Dim = 0
        activation: Dim = 0
    else:
        macs = op.macs(attrs, list(map(per_sample, inputs)), per_sample(node.shape))
        activation = 0 if op.inputs == 0 else sample_bytes
    trainable, frozen = (0, count) if node.frozen else (count, 0)
    return (params, buffers, count, _count(buffers, node) if buffers else 0, trainable, frozen, macs, activation)


def _fields(graph: Graph, kinds: LayerKinds) -> dict[str, tuple]:
    """Each node's receptive field, with what its readers need of it: (field, whether the node
    is a declared tensor, the field's spatial axes: -2 for none or a declared tensor's). A
    window is found once per kind."""
    outputs: dict[str, tuple] = {}
    firsts = kinds.firsts
    windows: list[tuple | None] = [None] * len(firsts)  # per kind: _window's
    unit_windows: dict[tuple, tuple] = {}
    # a field holds fractions only downstream of a window that makes them (a transposed layer's jump
    # below one pixel, an adaptive pool's Fraction stride), which comes first in graph order: until
    # one is met, no field needs `_whole`
    fractions = False
    for node, kind in zip(kinds.nodes, kinds.of):
        op = node.op
        if op is None:  # an input
            shape = node.shape
            spatial = (1,) * (len(shape) - 2)
            field = Field(spatial, spatial) if len(shape) > 2 else None
            outputs[node.id] = (field, False, -2 if field is None else len(spatial))
            continue
        found = windows[kind]
        if found is None:
            found = windows[kind] = _window(graph, firsts[kind], unit_windows)
            fractions = fractions or found[5]
        inputs = node.inputs
        if len(inputs) == 1:
            source = outputs[inputs[0]]
            if source[2] == found[1]:  # normalisation, activation: the field as it came (and the
                outputs[node.id] = source  # source no declared tensor, whose axes are -2)
                continue
            in_fields = [] if source[1] else [source[0]]  # (a declared tensor does not limit the field)
        else:
            ins = list(map(outputs.__getitem__, inputs))
            # a declared tensor (parameter, constant) does not limit what the output sees
            in_fields = list(map(_FIELD, ins)) if True not in map(_DECLARED, ins) else [x[0] for x in ins if not x[1]]
        field = _field(op, in_fields, found, fractions)
        declared = found[2]
        outputs[node.id] = (field, declared, -2 if field is None or declared else len(field.jump))
    return outputs


_FIELD, _DECLARED = itemgetter(0), itemgetter(1)


def _window(graph: Graph, node: LayerNode, unit_windows: dict[tuple, tuple]) -> tuple:
    """A kind's window, pointwise (the number of spatial axes of the field it keeps as it is;
    -1: it changes it), whether its op declares a tensor, and for `_field`: the kernel's reach
    (each size less one; None without a kernel), whether the stride keeps the jump (none, or
    ones for every kernel axis), whether the window may make a field's numbers fractions (a
    transposed one, or a Fraction in its kernel or stride: an adaptive pool's) and whether it is a
    unit window (the field kept as it comes). An op with the default
    window (elementwise: normalisation, activation, addition) has its input's rank's unit window:
    found once per rank (`unit_windows`)."""
    op = node.op
    key = None
    if type(op).window is Op.window:  # (Op.window reads the first input's rank alone)
        key = (len(graph.node(node.inputs[0]).shape) if node.inputs else -1, op.inputs == 0)
        found = unit_windows.get(key)
        if found is not None:
            return found
    window = op.window(node.attrs, graph.input_shapes(node))
    if window is None:
        found = (None, -1, op.inputs == 0, None, False, False, False)
    else:
        kernel, stride = window.kernel, window.stride
        pointwise = len(kernel) if not window.global_ and not window.transposed \
            and kernel.count(1) == len(kernel) and stride.count(1) == len(stride) else -1
        keeps_jump = not stride or (stride.count(1) == len(stride) == len(kernel))
        unit = keeps_jump and not window.transposed and not window.global_ and kernel.count(1) == len(kernel)
        makes_fractions = bool(window.transposed) or Fraction in map(type, (*kernel, *stride))
        found = (window, pointwise, op.inputs == 0, tuple([k - 1 for k in kernel]) if kernel else None, keeps_jump,
                 makes_fractions, unit)
    if key is not None:
        unit_windows[key] = found
    return found


def _field(op: Any, fields: list[Field | None], found: tuple, fractions: bool) -> Field | None:
    """The receptive field of a layer that is not pointwise (analyse keeps that one as it came),
    given its kind's `_window` and whether a field may hold fractions."""
    window = found[0]
    spatial = fields if all(fields) else [f for f in fields if f is not None]  # (a Field is true)
    if window is None or not spatial or (len(spatial) < len(fields) and not op.merges_fields):
        return None
    if window.global_:
        return Field(None, spatial[0].jump)
    ndim = len(spatial[0].jump)
    if len(spatial) == 1:
        jump, size = spatial[0].jump, spatial[0].size
    else:  # (a concatenation of many inputs, DenseNet's: each step a C-level pass over them)
        jumps = list(map(_JUMP, spatial))
        if len(set(map(len, jumps))) > 1:
            return None
        # merges: the widest field and the coarsest jump among the inputs (axis by axis)
        jump = tuple(map(max, *jumps))
        sizes = list(map(_SIZE, spatial))
        size = None if None in sizes else tuple(map(max, *sizes))
    # a global or non-spatial input (a squeeze-and-excitation gate) makes the output see
    # everything, but positions keep moving with the strides that follow
    if len(spatial) < len(fields):
        size = None
    reach = found[3] or (0,) * ndim
    if len(reach) != ndim:
        return None
    if found[6]:  # a unit window (a merge: addition, concatenation): the merged field
        return Field(size, jump)
    if window.transposed:
        stride = window.stride or (1,) * ndim
        new_jump = tuple(Fraction(j) / s for j, s in zip(jump, stride))
        new_size = None if size is None else tuple(r + k * j for r, k, j in zip(size, reach, new_jump))
    else:  # (per axis j * s and r + (k - 1) * j, at C speed)
        new_jump = jump if found[4] else tuple(map(mul, jump, window.stride or (1,) * ndim))
        new_size = None if size is None else tuple(map(add, size, map(mul, reach, jump)))
    if not fractions:
        return Field(new_size, new_jump)
    return Field(None if new_size is None else _whole(new_size), _whole(new_jump))


_ID, _JUMP, _SIZE = attrgetter("id"), attrgetter("jump"), attrgetter("size")


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
    needs no other analysis). Each kind of layer (`layer_kinds`) is counted once and the sums
    are made at C speed; the sums only grow, so while the totals stay within the warning lines
    no layer crossed one. Past them (and on a partial graph), `_walk_sizes` walks the layers for
    the messages, which name the layer that crosses the line."""
    kinds = layer_kinds(graph)
    if kinds is None:
        return _walk_sizes(graph)
    sample_bytes = kinds.shapes.sample_bytes
    activations: list[int] = []  # per kind: what each of its layers adds up
    applied: list[int] = []
    owned: list[int] = []
    counts: list[int | None] = []  # None: a parameter shape symbolic or refused (analyse reports it)
    for node, shape_id in zip(kinds.firsts, kinds.kind_shapes):
        size, count, concrete = layer_sizes(graph, node, sample_bytes[shape_id])
        activations.append(size)
        applied.append(count)
        owned.append(count if node.shares is None else 0)
        counts.append(count if concrete else None)
    kinds.param_counts = counts  # (analyse's, once)
    of = kinds.of
    params, act = sum(map(applied.__getitem__, of)), sum(map(activations.__getitem__, of))
    if params > WARN_PARAMS or act > WARN_ACTIVATION_BYTES:
        return _walk_sizes(graph)
    return SizeCheck([], [], None if None in counts else sum(map(owned.__getitem__, of)))


def layer_sizes(graph: Graph, node: LayerNode, sample_bytes: Dim) -> tuple[int, int, bool]:
    """What one layer adds to the size check's sums, given its output's bytes for one sample:
    its activation bytes (none for a declared tensor, a training-only layer or a symbolic size),
    its parameter count and whether the count is whole (not when a parameter shape is symbolic or
    its op refuses it: analyse reports those; a refused one counts none)."""
    op = node.op
    size = sample_bytes if (op is None or op.inputs != 0) and isinstance(sample_bytes, int) \
        and not node.training_only else 0
    if op is None or type(op).parameters is Op.parameters:  # (none, whatever its attributes)
        return size, 0, True
    try:
        count, concrete = _concrete_count(graph.parameter_shapes(node))
    except ShapeError:
        return size, 0, False
    return size, count, concrete


def _walk_sizes(graph: Graph) -> SizeCheck:
    """`check_sizes` layer by layer: the sums as each layer adds to them, each limit and warning
    reported at the layer that crosses it."""
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
    counts: dict[tuple, tuple[int, bool]] = {}  # _concrete_count by the layers' kinds (as LayerKinds')
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
                key: tuple | None = (op, tuple(node.attrs.items()), shape_id,
                                     *map(shape_ids.get, node.inputs))  # (None: no shape)
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
