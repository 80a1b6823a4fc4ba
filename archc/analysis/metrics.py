"""Static analyses over the finished graph IR, each a small interpreter over the nodes:
parameters (trainable / frozen) and buffers, multiply-accumulates, activation memory and the
receptive field. Nothing here runs a model or imports torch.

Per-sample numbers: MACs and activation memory are reported for one sample (batch dimension set
to 1), since the batch size is usually symbolic (`N`) and both are linear in it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from archc import collector
from archc import symbolic as sy
from archc.ir.graph import Graph, LayerNode, Scope
from archc.ops.base import Shape, ShapeError, numel
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
        if self._scope_totals is None:  # every scope's at once, bottom up: linear in the layers
            self._scope_totals = _totals_by_scope(graph, self.layers)
        return self._scope_totals.get(scope.path) or _sum([])


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
        if node.is_input:
            continue
        m = metrics.layers[node.id]
        row = rows.setdefault(node.op.title, OpTotals(node.op.title, node.op.family,
                                                             node.op.family_info.quoted_macs, 0, 0, 0))
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
    macs: Dim = 0
    act: Dim = 0
    params = trainable = frozen = buffers = 0
    add = sy.add
    for m in items:  # one pass; ints added directly, symbolic sizes exactly
        macs = macs + m.macs if type(macs) is int and type(m.macs) is int else add(macs, m.macs)
        act = act + m.activation_bytes if type(act) is int and type(m.activation_bytes) is int \
            else add(act, m.activation_bytes)
        params += m.param_count
        trainable += m.trainable
        frozen += m.frozen
        buffers += m.buffer_count
    return Totals(params, trainable, frozen, buffers, macs, act)


def _totals_by_scope(graph: Graph, layers: dict[str, LayerMetrics]) -> dict[tuple[str, ...], Totals]:
    """Each scope's totals: its own layers' plus its sub-scopes' (each summed once), deepest
    scopes first, over the graph's scope index."""
    index = graph.scope_index()
    paths = {(), *(sub for subs in index.subpaths.values() for sub in subs)}
    out: dict[tuple[str, ...], Totals] = {}
    for path in sorted(paths, key=len, reverse=True):
        total = _sum([layers[n.id] for n in index.direct.get(path, ()) if not n.is_input])
        for sub in index.subpaths.get(path, ()):
            total = _add(total, out[sub])
        out[path] = total
    return out


def _add(a: Totals, b: Totals) -> Totals:
    return Totals(a.params + b.params, a.trainable + b.trainable, a.frozen + b.frozen,
                  a.buffers + b.buffers, sy.add(a.macs, b.macs),
                  sy.add(a.activation_bytes, b.activation_bytes))


def per_sample(shape: Shape) -> Shape:
    return (1, *shape[1:])


def _count(shapes: dict[str, Shape], node: LayerNode) -> int:
    total = 0
    for name, shape in shapes.items():
        n = numel(shape)
        if not isinstance(n, int):
            # the ops refuse symbolic parameter shapes while elaborating: a guard, not a path
            raise ShapeError(f"{node.id}: parameter '{name}' has a symbolic shape {shape}",
                             "give the input a concrete size", code="E-SHAPE-NOT-CONCRETE")
        total += n
    return total


class _PerAttrs:
    """Values found once per bound attributes and input shapes: a replayed block instance's layers
    share their template's attributes (archc.ir.instances), by identity. Shapes are hashed only
    for attributes met again (most layers of a spec written out have their own)."""
    __slots__ = ("_first", "_more")

    def __init__(self) -> None:
        # id(attrs) (the graph keeps them alive meanwhile): the first (op, shapes, value) found
        self._first: dict[int, tuple] = {}
        self._more: dict[tuple, Any] = {}  # (id(attrs), op, *shapes): the others

    def get(self, attrs: Any, op: Any, in_shapes: list) -> Any:
        first = self._first.get(id(attrs))
        if first is None:
            return None
        if first[0] is op and first[1] == in_shapes:
            return first[2]
        return self._more.get((id(attrs), op, *in_shapes))

    def put(self, attrs: Any, op: Any, in_shapes: list, value: Any) -> Any:
        if id(attrs) in self._first:
            self._more[(id(attrs), op, *in_shapes)] = value
        else:
            self._first[id(attrs)] = (op, in_shapes, value)
        return value


@collector.paused()
def analyse(graph: Graph) -> Metrics:
    layers: dict[str, LayerMetrics] = {}
    # a replayed block instance's layers share their template's bound attributes (and so have
    # the same input shapes): their counts and window are found once (archc.ir.instances)
    costs = _PerAttrs()
    mul, prod = sy.mul, sy.prod
    for node in graph.layers():
        shape = node.shape
        activation = mul(prod(shape[1:]), BYTES_PER_ELEMENT)  # per sample: the batch size is 1
        op = node.op
        if op is None:  # an input
            spatial = (1,) * (len(shape) - 2)
            layers[node.id] = LayerMetrics(activation_bytes=activation,
                                           field=Field(spatial, spatial) if len(shape) > 2 else None)
            continue
        if op.inputs == 0:  # a declared tensor: stored once, not per sample
            activation = 0
        in_nodes = [graph.node(i) for i in node.inputs]
        in_shapes = [n.shape for n in in_nodes]
        cost = costs.get(node.attrs, op, in_shapes)
        if cost is None:
            params = graph.parameter_shapes(node)
            buffers = op.buffers(node.attrs, in_shapes)
            macs = op.macs(node.attrs, [per_sample(s) for s in in_shapes], per_sample(shape))
            cost = costs.put(node.attrs, op, in_shapes, (params, buffers, _count(params, node),
                                                         _count(buffers, node), macs, op.window(node.attrs, in_shapes)))
        param_shapes, buffers, param_count, buffer_count, macs, window = cost
        if node.shares is not None:  # a shared layer's later application: its weights are the first's
            param_shapes, buffers, param_count, buffer_count = {}, {}, 0, 0
        if node.unused:  # built, never run: weights but no cost
            macs, activation = 0, 0
        frozen = param_count if node.frozen else 0
        # a declared tensor (parameter, constant) does not limit what the output sees
        fields = [layers[n.id].field for n in in_nodes if not _declared(n)]
        layers[node.id] = LayerMetrics(param_shapes, buffers, param_count, buffer_count, param_count - frozen,
                                       frozen, macs, activation, _field(node, fields, window))
    totals = _sum([m for n, m in zip(graph.layers(), layers.values()) if n.op is not None])
    # cost is what an inference forward pass runs: training-only layers (auxiliary classifiers)
    # have parameters but no MACs or activations there
    if any(n.training_only for n in graph.layers()):
        inference = _sum([m for n, m in zip(graph.layers(), layers.values()) if n.op is not None
                          and not n.training_only])
        totals.macs, totals.activation_bytes = inference.macs, inference.activation_bytes
    return Metrics(layers, totals)


def _declared(node: LayerNode) -> bool:
    return not node.is_input and node.op.inputs == 0


def _field(node: LayerNode, fields: list[Field | None], window: Any) -> Field | None:
    if len(fields) == 1 and fields[0] is not None and window is not None and not window.global_ \
            and not window.transposed and len(window.kernel) == len(fields[0].jump) \
            and all(k == 1 for k in window.kernel) and all(s == 1 for s in window.stride):
        return fields[0]  # pointwise (normalisation, activation): the field as it came
    spatial = [f for f in fields if f is not None]
    if window is None or not spatial or (len(spatial) < len(fields) and not node.op.merges_fields):
        return None
    if window.global_:
        return Field(None, spatial[0].jump)
    ndim = len(spatial[0].jump)
    if any(len(f.jump) != ndim for f in spatial):
        return None
    # merges: the widest field and the coarsest jump among the inputs; a global or non-spatial
    # input (a squeeze-and-excitation gate) makes the output see everything, but positions keep
    # moving with the strides that follow
    jump = tuple(max(f.jump[a] for f in spatial) for a in range(ndim))
    size = None if len(spatial) < len(fields) or any(f.size is None for f in spatial) else \
        tuple(max(f.size[a] for f in spatial) for a in range(ndim))
    kernel = window.kernel or (1,) * ndim
    stride = window.stride or (1,) * ndim
    if len(kernel) != ndim:
        return None
    if window.transposed:
        new_jump = tuple(Fraction(j) / s for j, s in zip(jump, stride))
        new_size = None if size is None else tuple(r + (k - 1) * j for r, k, j in zip(size, kernel, new_jump))
    else:
        new_jump = tuple(j * s for j, s in zip(jump, stride))
        new_size = None if size is None else tuple(r + (k - 1) * j for r, k, j in zip(size, kernel, jump))
    return Field(None if new_size is None else tuple(_simplify(x) for x in new_size),
                 tuple(_simplify(x) for x in new_jump))


def _simplify(x: Any) -> Any:
    if isinstance(x, Fraction) and x.denominator == 1:
        return int(x)
    return x


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


def size_limits(graph: Graph) -> tuple[list, list]:
    """(errors, warnings) for a model whose total parameter count or per-sample activation
    memory is past a sane size (a warning) or an absurd one (an error), each located at the
    layer that crosses the line. Symbolic sizes are not bounded (they are chosen at run time).
    Cheap: parameter shapes and output sizes only, no receptive field."""
    from archc.errors import SpecError

    errors: list = []
    warnings: list = []
    params = 0
    act = 0
    warned_params = warned_act = False
    counts = _PerAttrs()  # by bound attributes and input shapes, as analyse's costs
    for node in graph.layers():
        if node.shape is None:
            continue
        if node.is_input or node.op.inputs != 0:
            n = numel(node.shape[1:])  # per sample
            if isinstance(n, int) and not node.training_only:
                act += n * BYTES_PER_ELEMENT
        if not node.is_input:
            in_shapes = graph.input_shapes(node)
            count = counts.get(node.attrs, node.op, in_shapes)
            if count is None:
                try:
                    shapes = graph.parameter_shapes(node)
                except ShapeError:  # reported where the metrics are computed
                    continue
                count = 0
                for shape in shapes.values():
                    n = numel(shape)
                    if isinstance(n, int):
                        count += n
                counts.put(node.attrs, node.op, in_shapes, count)
            params += count
        where = f" (at {node.id})" if not node.is_input else f" (at input {node.id})"
        if params > MAX_PARAMS:
            errors.append(SpecError(
                f"the model has {_big(params)} parameters{where}, past the limit of {_big(MAX_PARAMS)} "
                f"({_bytes(params * BYTES_PER_ELEMENT)} of float32)", node.loc,
                "a size is probably mistyped (channels, features or a kernel)", code="E-LIMIT-PARAMS"))
            return errors, warnings
        if act > MAX_ACTIVATION_BYTES:
            errors.append(SpecError(
                f"the activations of one sample need {_bytes(act)}{where}, past the limit of "
                f"{_bytes(MAX_ACTIVATION_BYTES)}", node.loc,
                "an input or output size is probably mistyped (channels or spatial sizes)",
                code="E-LIMIT-ACTIVATIONS"))
            return errors, warnings
        if params > WARN_PARAMS and not warned_params:
            warned_params = True
            warnings.append(SpecError(
                f"the model has over {_big(WARN_PARAMS)} parameters{where} "
                f"({_bytes(params * BYTES_PER_ELEMENT)} of float32 at least)", node.loc,
                "check the channel and feature sizes", [], "warning", code="W-LIMIT-PARAMS"))
        if act > WARN_ACTIVATION_BYTES and not warned_act:
            warned_act = True
            warnings.append(SpecError(
                f"the activations of one sample need over {_bytes(WARN_ACTIVATION_BYTES)}{where}",
                node.loc, "check the input and channel sizes", [], "warning", code="W-LIMIT-ACTIVATIONS"))
    return errors, warnings


def _big(n: int) -> str:
    """10**12 -> '1e+12'; never the full digits of a huge number (Python limits int -> str)."""
    return f"{n:,}" if n < 10 ** 15 else f"{float(n):.3g}" if n < 10 ** 300 else "over 1e300"


def _bytes(n: int) -> str:
    for unit, size in (("PB", 10 ** 15), ("TB", 10 ** 12), ("GB", 10 ** 9), ("MB", 10 ** 6)):
        if n >= size:
            return f"{_big(n // size)} {unit}" if n // size >= 10 ** 15 else f"{n / size:.3g} {unit}"
    return f"{n} bytes"
