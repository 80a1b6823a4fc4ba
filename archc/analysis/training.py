"""Training memory and cost, statically: an interpreter over the graph that asks each op what
autograd keeps for its backward (`Op.saved_for_backward`), how autocast runs it (`Op.autocast`)
and what its backward costs (`Op.backward_macs`), and adds parameters, gradients and optimizer
state. Nothing here imports torch.

The model of one training step (what PyTorch does, and what the numbers count):
- parameters in float32 (with bf16/fp16 autocast too: float32 master weights, autocast casts
  them for the ops it lowers; the casts are kept for backward, and counted as saved);
- gradients: one float32 tensor per trainable parameter, allocated by the first backward
  (`zero_grad(set_to_none=True)`, PyTorch's default, frees them between steps; with gradient
  accumulation they live through the later micro-batches' forward passes);
- optimizer state: SGD none, SGD with momentum one buffer per parameter, Adam/AdamW two
  (exp_avg, exp_avg_sq) and a float32 `step` tensor per parameter tensor;
- saved activations: the unique storages autograd keeps from forward to backward (a view or an
  in-place layer shares its input's storage and adds nothing; the model input counts once when
  the first layer keeps it; parameters and buffers never count: they exist anyway);
- the peak during forward: parameters, buffers, optimizer state (and gradients when
  accumulating) plus the saved storages so far and the tensors still to be read;
- the peak during backward: what is still saved, the activation gradients in flight and the
  parameter gradients allocated so far. Workspace of kernels (cuDNN, cuBLAS) and allocator
  rounding are not counted: the peaks are lower bounds of `torch.cuda.max_memory_allocated`.

`batch` is the micro-batch of one forward pass; with `accumulation=K` a step runs K of them
(K × batch samples) before the optimizer step.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any, Iterable, Sequence

from archc import symbolic as sy
from archc.ir.graph import Graph, LayerNode
from archc.ops.base import Autocast, SaveContext, Saved

DTYPES = {"float32": 4, "bfloat16": 2, "float16": 2}
DTYPE_ALIASES = {"fp32": "float32", "float": "float32", "bf16": "bfloat16", "fp16": "float16",
                 "half": "float16"}
ELEMENT_BYTES = {"float32": 4, "bfloat16": 2, "float16": 2, "int64": 8, "bool": 1}
# optimizer -> (state tensors per parameter, each as large as the parameter; a `step` tensor
# per parameter tensor)
OPTIMIZERS = {"sgd": (0, False), "sgd-momentum": (1, False), "adam": (2, True), "adamw": (2, True)}
STEP_TENSOR_BYTES = 4  # torch.optim.Adam's state["step"]: a float32 scalar tensor
MAX_BATCH = 10 ** 9  # samples per forward pass, and micro-batches per step: past it, a typo (as sweep's)


def dtype_name(dtype: str) -> str:
    """'bf16' -> 'bfloat16'; raises ValueError for an unknown name."""
    name = DTYPE_ALIASES.get(dtype, dtype)
    if name not in DTYPES:
        raise ValueError(f"unknown dtype {dtype!r}: use one of {', '.join(DTYPES)} (or bf16, fp16)")
    return name


@dataclass
class LayerTraining:
    """One layer's row: its weights, what its backward keeps, its cost."""
    id: str
    op: str
    params: int = 0  # trainable weights' bytes (float32)
    grads: int = 0
    saved: int = 0  # bytes of storages this layer is the first to keep (the total sums these)
    kept: list[dict] = field(default_factory=list)  # each saved tensor: what, bytes, new or shared
    output_bytes: int = 0
    checkpointed: bool = False
    forward_flops: int = 0
    backward_flops: int = 0
    bytes_moved: int = 0  # forward and backward, one micro-batch
    time_s: float | None = None  # roofline estimate on the chosen device, one micro-batch


@dataclass
class TrainingMemory:
    """The memory of one training step, in bytes, and its cost. `layers`: one row per layer,
    in graph order. `peak` = max(peak_forward, peak_backward, optimizer_step)."""
    model: str
    batch: int
    dtype: str
    optimizer: str
    accumulation: int
    checkpoint: list[str]
    device_rules: str  # "cuda" or "cpu": which kernels' saving rules were applied
    parameters: int
    buffers: int
    gradients: int
    optimizer_state: int
    saved_activations: int
    input_bytes: int
    peak_forward: int
    peak_backward: int
    optimizer_step: int
    peak: int
    forward_flops: int
    backward_flops: int
    recompute_flops: int
    step_flops: int  # a whole step: accumulation × (forward + backward + recomputation)
    bytes_moved: int
    layers: list[LayerTraining]
    device: str | None = None
    step_time_s: float | None = None  # roofline estimate of a whole step (an estimate)
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent)


# ----------------------------------------------------------------------------- the interpreter


@dataclass
class _Storage:
    key: Any
    bytes: int
    what: str
    owner: str  # the node that made it
    persistent: bool = False  # a parameter or buffer (module state), never an activation
    savers: list[str] = field(default_factory=list)


def training_memory(model_or_graph: Any, batch: int = 1, dtype: str = "float32", optimizer: str = "sgd",
                    accumulation: int = 1, checkpoint: Sequence[str] | str | None = None, *,
                    device: str | None = None, device_rules: str | None = None,
                    sizes: dict[str, int] | None = None) -> TrainingMemory:
    """The training memory and cost of `model_or_graph` (an `archc.Model` or a `Graph`) at a
    micro-batch of `batch` samples. `dtype`: float32, or bfloat16/float16 autocast (bf16, fp16
    accepted); `optimizer`: sgd, sgd-momentum, adam, adamw; `accumulation`: micro-batches per
    optimizer step; `checkpoint`: blocks run under torch.utils.checkpoint, by scope path
    (`layer3`, `layer3.1`) or block name (`Bottleneck`: every instance); `device`: a name of
    `archc.analysis.devices` for roofline times; `device_rules`: "cuda" (default) or "cpu", the
    kernels whose saving rules apply (dropout keeps a bool mask on CUDA, its noise on CPU);
    `sizes`: values of other symbolic sizes (H, W)."""
    graph: Graph = getattr(model_or_graph, "graph", model_or_graph)
    dtype = dtype_name(dtype)
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {optimizer!r}: use one of {', '.join(OPTIMIZERS)}")
    _check_counts(batch, accumulation)
    sizes = _check_sizes(model_or_graph, sizes)
    from archc.analysis.devices import device_spec
    spec = device_spec(device) if device is not None else None
    rules = device_rules or (spec.kind if spec is not None else "cuda")
    checkpoint = [c for c in ([checkpoint] if isinstance(checkpoint, str) else list(checkpoint or ())) if c]
    return _Interpreter(graph, batch, dtype, optimizer, accumulation, checkpoint, rules, spec, sizes or {}).run()


class _Interpreter:
    def __init__(self, graph: Graph, batch: int, dtype: str, optimizer: str, accumulation: int,
                 checkpoint: list[str], rules: str, spec: Any, sizes: dict[str, int]):
        self.g, self.batch, self.dtype, self.optimizer = graph, batch, dtype, optimizer
        self.accumulation, self.checkpoint, self.rules, self.spec = accumulation, checkpoint, rules, spec
        self.low = dtype if dtype != "float32" else None  # autocast's lower precision dtype
        self.values: dict[str, int] = dict(sizes)
        for node_id in graph.inputs.values():
            first = graph.node(node_id).shape[0]
            if not sy.is_int(first):
                for symbol in first.free_symbols():
                    self.values.setdefault(symbol, batch)

    # ---- sizes
    def check_sizes(self) -> None:
        """Every input size known (the inputs' sizes decide every other), or E-TRAIN-SIZE-SYMBOLIC
        naming all that are not."""
        missing: set[str] = set()
        for node_id in self.g.inputs.values():
            for d in self.g.node(node_id).shape:
                if not sy.is_int(d):
                    missing |= d.free_symbols() - self.values.keys()
        if missing:
            _unknown_sizes(sorted(missing))

    def concrete(self, shape: Iterable) -> tuple[int, ...]:
        out = []
        for d in shape:
            v = d if sy.is_int(d) else d.subs(self.values)
            if not sy.is_int(v):
                _unknown_sizes(sorted(v.free_symbols()))
            out.append(int(v))
        return tuple(out)

    def nbytes(self, shape: Iterable, dtype: str) -> int:
        return _numel(self.concrete(shape)) * ELEMENT_BYTES[dtype]

    # ---- the pass
    def run(self) -> TrainingMemory:
        from archc.lower.codegen import in_place_layers
        g = self.g
        self.check_sizes()
        in_place = in_place_layers(g)
        checkpointed = self._checkpointed_nodes()
        nodes = [n for n in g.layers() if not n.unused]
        storage_of: dict[str, _Storage] = {}  # node id -> the storage its output lives in
        dtype_of: dict[str, str] = {}
        self._dtypes = dtype_of
        contiguous: dict[str, bool] = {}
        requires_grad: dict[str, bool] = {}
        rows: dict[str, LayerTraining] = {}
        saved: dict[Any, _Storage] = {}  # storages kept for backward, by key, in first-kept order
        saved_by_node: dict[str, list[_Storage]] = {}
        made_by_node: dict[str, list[_Storage]] = {}  # storages a node allocates in forward
        weight_casts: dict[Any, _Storage] = {}
        params = grads = buffers = tensors = 0
        seen_params: set[tuple[str, str]] = set()

        for node in nodes:
            row = rows[node.id] = LayerTraining(node.id, node.op_name)
            shape = node.shape
            if node.is_input:
                dtype_of[node.id] = "float32"
                contiguous[node.id] = True
                requires_grad[node.id] = False
                storage_of[node.id] = _Storage(("out", node.id), self.nbytes(shape, "float32"), "input batch", node.id)
                made_by_node[node.id] = [storage_of[node.id]]
                row.output_bytes = storage_of[node.id].bytes
                continue
            op = node.op
            owner = g.node(node.shares) if node.shares is not None else node
            param_shapes = g.parameter_shapes(owner)
            trainable = bool(param_shapes) and not owner.frozen and any(
                _numel(self.concrete(s)) for s in param_shapes.values())
            if node.shares is None:
                for name, s in param_shapes.items():
                    if (owner.id, name) not in seen_params:
                        seen_params.add((owner.id, name))
                        b = self.nbytes(s, "float32")
                        params += b
                        if not owner.frozen:
                            row.params += b
                            row.grads += b
                            grads += b
                            tensors += 1
                for name, s in op.buffers(node.attrs, g.input_shapes(node)).items():
                    buffers += self.nbytes(s, op.buffer_dtype(name))
            in_shapes = [self.concrete(g.node(i).shape) for i in node.inputs]
            out_shape = self.concrete(shape)
            grads_in = tuple(requires_grad[i] for i in node.inputs)
            ctx = SaveContext(grads_in, trainable, node.id in in_place, self.rules,
                              tuple(contiguous[i] for i in node.inputs))
            compute = self._compute_dtype(node, param_shapes)
            dtype_of[node.id] = compute
            requires_grad[node.id] = (any(grads_in) or trainable) if op.inputs != 0 else trainable
            # where the output lives
            if op.inputs == 0:
                storage = _Storage(("state", node.id), self.nbytes(shape, "float32"), "module state", node.id, True)
                contiguous[node.id] = True
            elif ctx.in_place or op.output_aliases_input(node.attrs, in_shapes, ctx):
                storage = storage_of[node.inputs[0]]
                contiguous[node.id] = op.output_contiguous(node.attrs, in_shapes, out_shape, ctx) if not ctx.in_place \
                    else contiguous[node.inputs[0]]
            else:
                whole = op.output_storage_shape(node.attrs, in_shapes, out_shape)
                storage = _Storage(("out", node.id), self.nbytes(whole, compute), "output", node.id)
                contiguous[node.id] = op.output_contiguous(node.attrs, in_shapes, out_shape, ctx)
            storage_of[node.id] = storage
            made = made_by_node[node.id] = [] if storage.owner != node.id or storage.persistent else [storage]
            row.output_bytes = self.nbytes(shape, compute)
            # what its backward keeps (nothing without a graph: no input or weight needs grad)
            kept: list[_Storage] = []
            labels: dict[Any, str] = {}
            if requires_grad[node.id] and op.inputs != 0:
                for s in op.saved_for_backward(node.attrs, in_shapes, out_shape, ctx):
                    st = self._saved_storage(node, s, storage, storage_of, dtype_of, compute,
                                             param_shapes, owner, weight_casts, made)
                    if st is not None and not st.persistent:
                        kept.append(st)
                        labels.setdefault(st.key, s.of if s.of in ("input", "output") and st.owner != node.id
                                          or s.of == "output" else st.what)
            unique: list[_Storage] = []
            for st in kept:
                if st not in unique:
                    unique.append(st)
            saved_by_node[node.id] = unique
            for st in unique:
                st.savers.append(node.id)
                first = st.key not in saved
                if first and node.id not in checkpointed:
                    saved[st.key] = st
                    row.saved += st.bytes
                row.kept.append({"what": labels[st.key], "bytes": st.bytes, "of": st.owner, "new": first})
            row.checkpointed = node.id in checkpointed
            # cost
            per = self._costs(node, in_shapes, out_shape, ctx, unique, param_shapes, trainable)
            row.forward_flops, row.backward_flops, row.bytes_moved = per
            if self.spec is not None:
                row.time_s = self.spec.roofline_time(row.forward_flops + row.backward_flops, row.bytes_moved,
                                                     self.low is not None)

        # checkpointed blocks keep their inputs instead of what their layers save
        ckpt_inputs = self._checkpoint_inputs(checkpointed, storage_of)
        for st in ckpt_inputs:
            if st.key not in saved and not st.persistent:
                saved[st.key] = st
                rows[st.owner].saved += st.bytes
        saved_total = sum(st.bytes for st in saved.values())
        input_bytes = sum(storage_of[i].bytes for i in g.inputs.values() if i in storage_of)
        per_param, steps = OPTIMIZERS[self.optimizer]
        opt_state = per_param * grads + (STEP_TENSOR_BYTES * tensors if steps else 0)
        persistent = params + buffers + opt_state
        accumulating = grads if self.accumulation > 1 else 0
        peak_fwd = persistent + accumulating + self._forward_peak(nodes, storage_of, made_by_node, saved,
                                                                   checkpointed, ckpt_inputs)
        peak_bwd = persistent + self._backward_peak(nodes, rows, storage_of, dtype_of, requires_grad,
                                                    saved, saved_by_node, checkpointed, ckpt_inputs,
                                                    grads if self.accumulation > 1 else 0)
        # the optimizer step: weights, gradients, state, and the foreach kernels' temporaries
        # (Adam's denominator, one tensor per parameter)
        step = persistent + grads + (grads if self.optimizer in ("adam", "adamw") else 0)
        fwd = sum(r.forward_flops for r in rows.values())
        bwd = sum(r.backward_flops for r in rows.values())
        recompute = sum(rows[n].forward_flops for n in checkpointed if n in rows)
        moved = sum(r.bytes_moved for r in rows.values())
        k = self.accumulation
        notes = ["estimate: kernel workspaces, allocator rounding and the loss are not counted"]
        step_time = None
        if self.spec is not None:
            step_time = k * sum(r.time_s or 0.0 for r in rows.values()) + k * sum(
                rows[n].time_s * rows[n].forward_flops / max(rows[n].forward_flops + rows[n].backward_flops, 1)
                for n in checkpointed if n in rows and rows[n].time_s)
            notes.append(f"roofline time on {self.spec.name}: max(FLOPs / peak, bytes / bandwidth) per "
                         f"layer, summed; an estimate (a lower bound)")
            if self.low is None and self.spec.kind == "cuda":
                notes.append("float32 at the FP32 peak: PyTorch's cuDNN convolutions use TF32 tensor cores by "
                             "default (torch.backends.cudnn.allow_tf32), so their times are pessimistic")
        return TrainingMemory(
            model=g.name, batch=self.batch, dtype=self.dtype, optimizer=self.optimizer,
            accumulation=k, checkpoint=list(self.checkpoint), device_rules=self.rules,
            parameters=params, buffers=buffers, gradients=grads, optimizer_state=opt_state,
            saved_activations=saved_total, input_bytes=input_bytes, peak_forward=peak_fwd,
            peak_backward=peak_bwd, optimizer_step=step, peak=max(peak_fwd, peak_bwd, step),
            forward_flops=fwd, backward_flops=bwd, recompute_flops=recompute,
            step_flops=k * (fwd + bwd + recompute), bytes_moved=moved, layers=list(rows.values()),
            device=self.spec.name if self.spec is not None else None, step_time_s=step_time, notes=notes)

    # ---- dtypes
    def _compute_dtype(self, node: LayerNode, param_shapes: dict) -> str:
        """The dtype a layer computes in and outputs: float32, or under autocast the low
        precision for the ops it lowers, float32 for those it keeps there, the input's for the
        rest (the widest input's, or float32 with float32 weights or buffers, for the ops that
        promote types)."""
        op = node.op
        if self.low is None or op.inputs == 0:
            return "float32"
        input_dtypes = [self._dtypes[i] for i in node.inputs]
        if op.autocast is Autocast.LOWER:
            return self.low
        if op.autocast is Autocast.FLOAT32:
            return "float32"
        if op.autocast is Autocast.PROMOTE:
            state = bool(param_shapes) or bool(op.buffers(node.attrs, self.g.input_shapes(node)))
            return "float32" if state or "float32" in input_dtypes else input_dtypes[0]
        return input_dtypes[0]

    # ---- one saved tensor -> its storage
    def _saved_storage(self, node, s: Saved, out_storage, storage_of, dtype_of, compute, param_shapes,
                       owner, weight_casts, made) -> _Storage | None:
        op = node.op
        if s.of == "input":
            src = node.inputs[s.index]
            st = storage_of[src]
            src_dtype = dtype_of[src]
            want = compute if op.autocast in (Autocast.LOWER, Autocast.FLOAT32) else src_dtype
            if want != src_dtype and not st.persistent:  # autocast's cast of the input: a copy
                copy = _Storage(("cast", node.id, s.index), self.nbytes(self.g.node(src).shape, want),
                                f"input cast to {want}", node.id)
                made.append(copy)
                return copy
            return st
        if s.of == "output":
            return out_storage
        if s.of == "weight":
            if self.low is None or op.autocast is not Autocast.LOWER:
                return None  # the parameter itself
            shape = param_shapes.get(s.what)
            if shape is None:
                return None
            key = ("weight", owner.id, s.what)
            if key not in weight_casts:  # autocast caches one cast per parameter per forward
                weight_casts[key] = _Storage(key, self.nbytes(shape, self.low), f"{s.what} cast to {self.low}",
                                             owner.id)
                made.append(weight_casts[key])
            return weight_casts[key]
        dtype = compute if s.dtype == "compute" else s.dtype
        st = _Storage(("new", node.id, len(made)), self.nbytes(s.shape, dtype), s.what or "saved", node.id)
        made.append(st)
        return st

    # ---- scopes under torch.utils.checkpoint
    def _checkpointed_nodes(self) -> dict[str, tuple[str, ...]]:
        """Each layer run under torch.utils.checkpoint, with its checkpointed region (the
        outermost chosen scope around it)."""
        if not self.checkpoint:
            return {}
        g = self.g
        chosen = []
        for name in self.checkpoint:
            found = [sc for sc in g.scopes.values() if sc.id == name or sc.type_name == name]
            if not found:
                from archc.errors import SpecError, did_you_mean
                names = sorted({sc.id for sc in g.scopes.values()} | {sc.type_name for sc in g.scopes.values()})
                raise SpecError(f"--checkpoint {name}: no block instance or block of that name", None,
                                did_you_mean(name, names) or "name a block instance (layer3) or a block (Bottleneck)",
                                code="E-TRAIN-CHECKPOINT-UNKNOWN")
            chosen += found
        out: dict[str, tuple[str, ...]] = {}
        for sc in sorted(chosen, key=lambda sc: len(sc.path)):
            for n in g.nodes_under(sc.path):
                out.setdefault(n.id, sc.path)
        return out

    def _checkpoint_inputs(self, checkpointed: dict[str, tuple[str, ...]], storage_of: dict) -> list[_Storage]:
        """torch.utils.checkpoint keeps each checkpointed region's inputs for the recomputation
        (a tensor from outside the region: another region's output too)."""
        out: dict[Any, _Storage] = {}
        for node_id, region in checkpointed.items():
            for src in self.g.node(node_id).inputs:
                if checkpointed.get(src) != region and src in storage_of:
                    out.setdefault(storage_of[src].key, storage_of[src])
        return list(out.values())

    # ---- peaks
    def _forward_peak(self, nodes, storage_of, made_by_node, saved, checkpointed, ckpt_inputs) -> int:
        """Walk forward: each layer allocates its output and what it makes to keep; a storage is
        freed after its last reader unless it is kept for backward or is a model output. One
        pass with a running total: linear in the layers."""
        last_read: dict[Any, int] = {}
        for t, node in enumerate(nodes):
            for src in node.inputs:
                last_read[storage_of[src].key] = t
        outputs = {storage_of[i].key for i in self.g.outputs.values() if i in storage_of}
        kept = set(saved) | {st.key for st in ckpt_inputs} | outputs
        freed_after: dict[int, list[int]] = {}
        allocated = peak = 0
        for t, node in enumerate(nodes):
            for st in made_by_node.get(node.id, ()):
                if st.persistent:
                    continue
                allocated += st.bytes
                if st.key not in kept:
                    freed_after.setdefault(max(t, last_read.get(st.key, t)), []).append(st.bytes)
            peak = max(peak, allocated)
            allocated -= sum(freed_after.pop(t, ()))
        return peak

    def _backward_peak(self, nodes, rows, storage_of, dtype_of, requires_grad, saved, saved_by_node,
                       checkpointed, ckpt_inputs, grads_before: int) -> int:
        """Walk backward: the saved storages not yet released, the activation gradients in
        flight (one per tensor, accumulated), parameter gradients as they are made; a
        checkpointed region's saved tensors come back (recomputed) when its backward begins.
        One pass with a running total: linear in the layers."""
        g = self.g
        remaining_savers = {key: sum(1 for n in st.savers if n not in checkpointed) for key, st in saved.items()}
        live_saved = {key: st.bytes for key, st in saved.items()}
        members: dict[tuple[str, ...], list[str]] = {}
        for node_id, region in checkpointed.items():
            members.setdefault(region, []).append(node_id)
        outputs = [i for i in g.outputs.values() if i in storage_of]
        grad_live: dict[str, int] = {i: rows[i].output_bytes for i in outputs if requires_grad.get(i)}
        total = sum(live_saved.values()) + sum(grad_live.values()) + grads_before
        peak = 0
        recomputed: dict[Any, int] = {}
        recomputed_savers: dict[Any, int] = {}
        for node in reversed(nodes):
            if node.is_input or not requires_grad.get(node.id):
                continue
            region = checkpointed.get(node.id)
            if region is not None and region in members:  # its backward begins: recomputed
                for member in members.pop(region):
                    for st in saved_by_node.get(member, ()):
                        if st.key not in live_saved and st.key not in recomputed:
                            recomputed[st.key] = st.bytes
                            total += st.bytes
                            recomputed_savers[st.key] = sum(1 for n in st.savers if checkpointed.get(n) == region)
            for src in node.inputs:
                if requires_grad.get(src) and src not in grad_live:
                    grad_live[src] = rows[src].output_bytes
                    total += grad_live[src]
            if grads_before == 0:  # allocated by this first backward
                total += rows[node.id].grads
            peak = max(peak, total)
            total -= grad_live.pop(node.id, 0)
            for st in saved_by_node.get(node.id, ()):
                if st.key in remaining_savers and node.id not in checkpointed:
                    remaining_savers[st.key] -= 1
                    if remaining_savers[st.key] <= 0 and st.key in live_saved:
                        total -= live_saved.pop(st.key)
                if st.key in recomputed_savers and node.id in checkpointed:
                    recomputed_savers[st.key] -= 1
                    if recomputed_savers[st.key] <= 0 and st.key in recomputed:
                        total -= recomputed.pop(st.key)
        return peak

    # ---- cost
    def _costs(self, node, in_shapes, out_shape, ctx, kept, param_shapes, trainable) -> tuple[int, int, int]:
        op = node.op
        if op.inputs == 0:
            return 0, 0, 0
        fwd_macs = _int(op.macs(node.attrs, in_shapes, out_shape))
        bwd_macs = _int(op.backward_macs(node.attrs, in_shapes, out_shape, ctx)) if (any(ctx.grads) or trainable) else 0
        element = ELEMENT_BYTES[self._dtypes[node.id]]
        weights = sum(_numel(self.concrete(s)) for s in param_shapes.values())  # read by every application
        weight_bytes = weights * (ELEMENT_BYTES[self.low] if self.low and op.autocast is Autocast.LOWER else 4)
        ins = sum(_numel(s) * ELEMENT_BYTES[self._dtypes[i]] for s, i in zip(in_shapes, node.inputs))
        out = _numel(out_shape) * element
        forward = ins + out + weight_bytes
        backward = 0
        if any(ctx.grads) or trainable:
            grad_ins = sum(_numel(s) * ELEMENT_BYTES[self._dtypes[i]]
                           for s, i, r in zip(in_shapes, node.inputs, ctx.grads) if r)
            backward = out + sum(st.bytes for st in kept) + grad_ins + (weight_bytes + 4 * weights if trainable else weight_bytes)
        return 2 * fwd_macs, 2 * bwd_macs, forward + backward


def _check_counts(batch: Any, accumulation: Any) -> None:
    """E-TRAIN-BATCH unless both are whole numbers from 1 to MAX_BATCH: a bigger one is a typo,
    and its byte counts would leave the range the report can print."""
    from archc.errors import SpecError
    for option, name, value in (("--batch", "batch", batch), ("--accumulate", "accumulation", accumulation)):
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_BATCH:
            raise SpecError(f"{option} {_short(value)}: the {name} of a training step is a whole number from 1 "
                            f"to {MAX_BATCH:,}", None,
                            "give the samples of one forward pass (e.g. --batch 64) and the micro-batches per "
                            "optimizer step (e.g. --accumulate 4)", code="E-TRAIN-BATCH")


def _short(value: Any) -> str:
    """A value as the user gave it, without printing a number of thousands of digits."""
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10 ** 15:
        from archc.analysis.metrics import _big
        return _big(value)
    return str(value)


def _check_sizes(model_or_graph: Any, sizes: dict[str, int] | None) -> dict[str, int]:
    """The sizes of a Model checked as `archc summary --at` checks them (symbols of its inputs,
    positive, meeting the input constraints: E-CLI-SIZE-CONSTRAINT and its kin) and against the
    activation limit a spec with those sizes written in would meet when it loads
    (E-LIMIT-ACTIVATIONS). A bare Graph (internal use) is taken as it is."""
    if not sizes or not hasattr(model_or_graph, "metrics"):
        return dict(sizes or {})
    from archc.backends.report import check_at
    return check_at(model_or_graph, sizes) or {}


def _unknown_sizes(missing: list[str]) -> None:
    from archc.errors import SpecError
    raise SpecError(f"training memory needs concrete sizes; {', '.join(missing)} "
                    f"{'is' if len(missing) == 1 else 'are'} not given", None,
                    f"give {' '.join(f'--at {s}=…' for s in missing)} (in Python: sizes="
                    f"{{{', '.join(repr(s) + ': …' for s in missing)}}}); the batch is --batch",
                    code="E-TRAIN-SIZE-SYMBOLIC")


def _numel(shape: Sequence[int]) -> int:
    n = 1
    for d in shape:
        n *= int(d)
    return n


def _int(v: Any) -> int:
    return int(v) if sy.is_int(v) else 0
