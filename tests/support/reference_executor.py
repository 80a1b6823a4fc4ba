"""An independent reference executor for archc's graph IR: the oracle the generated PyTorch code is
checked against (issue 17).

It runs `archc.load(...).graph` node by node with plain torch tensor operations, one function per
op in `EXECUTORS`, written from each op's documented semantics (docs/ops.md, the op classes'
attributes, shape rules and parameter names). It shares nothing with the code generator: it never
imports `archc.lower` and never calls `Op.lower`. Where torch has one obvious functional form it is
used (`F.conv2d` on an explicitly padded input, `F.interpolate`); the ops whose lowering is the
delicate part (padding words, asymmetric padding, ceil mode, count_include_pad, min/sum pooling,
transposed convolutions with uneven cropping, adaptive pooling, the norms) are computed from their
definitions (window extraction with `Tensor.unfold`, explicit statistics), not with the torch
module the generator would pick.

    values = run_graph(model.graph, module.state_dict(), {"x": x})   # every node's output
    outs = outputs_of(model.graph, values)                              # {output name: tensor}

Parameters and buffers are read from `state` (a state_dict) under `f"{node.id}.{name}"` (for a
shared layer's later application, `node.shares`: the first application's id), the names
being the static analysis' own (`op.parameters` / `op.buffers`); a `parameter` node's key is its
node id; a `constant` is built from its attributes. The state is never modified: batch norm in
training mode normalises with the batch's statistics and leaves the running ones as they are.
Layers marked `training_only` (auxiliary classifiers) run only when `training=True`; layers of an
`unused` statement never run.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import torch
import torch.nn.functional as F

from archc import symbolic as sy

__all__ = ["EXECUTORS", "ExecutionError", "bind_sizes", "outputs_of", "run_graph"]


class ExecutionError(RuntimeError):
    """A node could not be executed (a missing state entry, an input of the wrong size...)."""


class Ctx:
    """What an op function may ask besides its inputs, attributes and tensors."""

    def __init__(self, node, training: bool, sizes: dict[str, int], dtype: torch.dtype,
                 device: torch.device):
        self.node = node
        self.training = training
        self.sizes = sizes
        self.dtype = dtype
        self.device = device

    def dim(self, d) -> int:
        """A (possibly symbolic) size as an int at the sizes of this run."""
        if sy.is_int(d):
            return int(d)
        missing = d.free_symbols() - set(self.sizes)
        if missing:
            raise ExecutionError(f"{self.node.id}: size {sy.to_str(d)} uses unbound symbols {sorted(missing)}")
        return int(d.subs(self.sizes))


OpFn = Callable[[list[torch.Tensor], Mapping[str, Any], dict[str, torch.Tensor], Ctx], torch.Tensor]
EXECUTORS: dict[str, OpFn] = {}


def _register(*names: str):
    def deco(fn: OpFn) -> OpFn:
        for name in names:
            if name in EXECUTORS:
                raise ValueError(f"executor for {name} defined twice")
            EXECUTORS[name] = fn
        return fn
    return deco


# ----------------------------------------------------------------------------- the interpreter


def bind_sizes(graph, inputs: Mapping[str, torch.Tensor]) -> dict[str, int]:
    """The values of the symbolic sizes (N, H, W, ...) read off the input tensors; checks the
    concrete sizes of every input."""
    sizes: dict[str, int] = {}
    for name, node_id in graph.inputs.items():
        tensor = _input_tensor(inputs, name, node_id)
        shape = graph.node(node_id).shape
        if tensor.dim() != len(shape):
            raise ExecutionError(f"input {name}: rank {tensor.dim()}, the spec says {len(shape)}")
        for d, n in zip(shape, tensor.shape):
            if sy.is_int(d):
                if int(d) != n:
                    raise ExecutionError(f"input {name}: size {n} where the spec says {d}")
                continue
            symbols = d.free_symbols()
            if len(symbols) == 1:
                (s,) = symbols
                if d == sy.sym(s) and sizes.setdefault(s, int(n)) != n:
                    raise ExecutionError(f"input {name}: {s} = {n}, elsewhere {sizes[s]}")
    return sizes


def _input_tensor(inputs: Mapping[str, torch.Tensor], name: str, node_id: str) -> torch.Tensor:
    if name in inputs:
        return inputs[name]
    if node_id in inputs:
        return inputs[node_id]
    raise ExecutionError(f"no tensor given for input {name!r}")


def run_graph(graph, state: Mapping[str, torch.Tensor], inputs: Mapping[str, torch.Tensor],
              training: bool = False) -> dict[str, torch.Tensor]:
    """Every node's output, by node id (the inputs included), computed node by node in
    topological order. `inputs` by input name (or node id); `state` a state_dict."""
    sizes = bind_sizes(graph, inputs)
    given = [_input_tensor(inputs, n, i) for n, i in graph.inputs.items()]
    dtype = given[0].dtype if given else torch.get_default_dtype()
    device = given[0].device if given else torch.device("cpu")
    values: dict[str, torch.Tensor] = {}
    for node in graph.layers():
        if node.op is None:
            name = next(n for n, i in graph.inputs.items() if i == node.id)
            values[node.id] = _input_tensor(inputs, name, node.id)
            continue
        if (node.training_only and not training) or node.unused:
            continue
        fn = EXECUTORS.get(node.op.name)
        if fn is None:
            raise ExecutionError(f"{node.id}: no executor for op {node.op.name}")
        xs = [values[i] for i in node.inputs]
        tensors = _tensors_of(graph, node, state)
        ctx = Ctx(node, training, sizes, dtype, device)
        try:
            out = fn(xs, node.attrs, tensors, ctx)
        except ExecutionError:
            raise
        except Exception as e:  # name the node: the interpreter's error is the report
            raise ExecutionError(f"{node.id} ({node.op.name}): {type(e).__name__}: {e}") from e
        values[node.id] = out
    return values


def _tensors_of(graph, node, state: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The node's parameters and buffers from the state_dict, by the static analysis' names."""
    op = node.op
    if op.inputs == 0:
        if op.name == "parameter":
            return {"": _state(state, node.id)}
        return {}
    shapes = graph.input_shapes(node)
    names = list(op.parameters(node.attrs, shapes)) + list(op.buffers(node.attrs, shapes))
    owner = node.shares or node.id  # a shared layer's later application uses the first's weights
    return {name: _state(state, f"{owner}.{name}") for name in names}


def _state(state: Mapping[str, torch.Tensor], key: str) -> torch.Tensor:
    try:
        return state[key]
    except KeyError:
        raise ExecutionError(f"state has no entry {key!r}") from None


def outputs_of(graph, values: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The spec's outputs by name, in the spec's order; training outputs only when computed."""
    return {name: values[node_id] for name, node_id in graph.outputs.items() if node_id in values}


# ----------------------------------------------------------------------------- shared arithmetic


def _spatial(x: torch.Tensor) -> int:
    return x.dim() - 2


def _pad_amounts(pairs) -> list[int]:
    """F.pad's argument for per-axis (before, after) pairs of the spatial axes, in order: F.pad
    takes the last axis first. Negative amounts crop."""
    out: list[int] = []
    for before, after in reversed(list(pairs)):
        out += [int(before), int(after)]
    return out


def _same_pads(sizes, kernel, stride, dilation) -> list[tuple[int, int]]:
    """TF/Keras `same`: out = ceil(in / stride); total = max((out-1)*stride + dilation*(kernel-1)
    + 1 - in, 0); the smaller half before."""
    pads = []
    for n, k, s, d in zip(sizes, kernel, stride, dilation):
        out = -(-n // s)
        total = max((out - 1) * s + d * (k - 1) + 1 - n, 0)
        pads.append((total // 2, total - total // 2))
    return pads


def _pads(padding, sizes, kernel, stride, dilation) -> list[tuple[int, int]]:
    if padding == "same":
        return _same_pads(sizes, kernel, stride, dilation)
    if padding == "valid":
        return [(0, 0)] * len(sizes)
    return [(int(b), int(a)) for b, a in padding]


def _channel_view(t: torch.Tensor, rank: int, axis: int = 1) -> torch.Tensor:
    """A per-channel vector shaped to broadcast along `axis` of a rank-`rank` tensor."""
    shape = [1] * rank
    shape[axis] = -1
    return t.reshape(shape)


# ----------------------------------------------------------------------------- convolutions

_CONV = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}
_CONV_T = {1: F.conv_transpose1d, 2: F.conv_transpose2d, 3: F.conv_transpose3d}


def _conv(x, weight, bias, a, groups: int):
    """A convolution with the spec's padding applied explicitly (zeros), then no padding."""
    n = _spatial(x)
    pads = _pads(a["padding"], x.shape[2:], a["kernel"], a["stride"], a["dilation"])
    x = F.pad(x, _pad_amounts(pads))
    return _CONV[n](x, weight, bias, stride=tuple(a["stride"]), padding=0,
                    dilation=tuple(a["dilation"]), groups=groups)


@_register("conv1d", "conv2d", "conv3d")
def _ex_conv(xs, a, p, ctx):
    return _conv(xs[0], p["weight"], p.get("bias"), a, a["groups"])


@_register("depthwise_conv1d", "depthwise_conv2d", "depthwise_conv3d")
def _ex_depthwise(xs, a, p, ctx):
    x = xs[0]
    return _conv(x, p["weight"], p.get("bias"), a, x.shape[1])


@_register("separable_conv1d", "separable_conv2d", "separable_conv3d")
def _ex_separable(xs, a, p, ctx):
    x = xs[0]
    y = _conv(x, p["depthwise.weight"], p.get("depthwise.bias"), a, x.shape[1])
    return _CONV[_spatial(x)](y, p["pointwise.weight"], p.get("pointwise.bias"))


@_register("std_conv2d", "scaled_std_conv2d")
def _ex_std_conv(xs, a, p, ctx):
    """Each filter (an output channel's in_channels/groups × kernel values) minus its mean, over
    sqrt(its biased variance + eps); scaled: times gain × gamma / sqrt(fan_in). Then a conv."""
    w = p["weight"]
    fan_in = w[0].numel()
    flat = w.reshape(w.shape[0], fan_in)
    mean = flat.mean(dim=1, keepdim=True)
    var = ((flat - mean) ** 2).mean(dim=1, keepdim=True)
    flat = (flat - mean) / torch.sqrt(var + a["eps"])
    if "gain" in p:
        flat = flat * p["gain"].reshape(-1, 1) * (a["gamma"] / math.sqrt(fan_in))
    return _conv(xs[0], flat.reshape(w.shape), p.get("bias"), a, a["groups"])


@_register("blur_pool2d")
def _ex_blur_pool(xs, a, p, ctx):
    """Each side padded by ((stride - 1) + (filt_size - 1)) // 2 (mirrored without repeating the
    edge, or zeros), then every window weighted by the outer product of the binomial row
    C(filt_size - 1, k) / 2^(filt_size - 1) (nothing read from the state: the filter is no
    state_dict entry), at the stride."""
    x = xs[0]
    k, s = a["filt_size"], a["stride"]
    pad = ((s - 1) + (k - 1)) // 2
    if a["pad_mode"] == "reflect":
        for axis in (2, 3):
            index = torch.tensor(_edge_positions(x.shape[axis], pad, pad, "reflection"), device=x.device)
            x = x.index_select(axis, index)
    else:
        x = F.pad(x, [pad] * 4)
    row = [math.comb(k - 1, i) / 2 ** (k - 1) for i in range(k)]
    filt = torch.tensor([[r * c for c in row] for r in row], dtype=x.dtype, device=x.device)
    windows = x.unfold(2, k, s).unfold(3, k, s)  # [N, C, H', W', k, k]
    return (windows * filt).sum(dim=(-2, -1))


@_register("conv_transpose1d", "conv_transpose2d", "conv_transpose3d")
def _ex_conv_transpose(xs, a, p, ctx):
    """The full transposed convolution ((in-1)*stride + dilation*(kernel-1) + 1 per axis), then
    `padding` removed from each side and `output_padding` added after (zeros), then the bias.
    `same` (as Keras): output in*stride, the full output cropped by total = dilation*(kernel-1)+1
    - stride (the smaller half before), or padded with zeros after when that is negative."""
    x = xs[0]
    n = _spatial(x)
    eff = [d * (k - 1) + 1 for k, d in zip(a["kernel"], a["dilation"])]
    y = _CONV_T[n](x, p["weight"], None, stride=tuple(a["stride"]), padding=0,
                   output_padding=0, groups=a["groups"], dilation=tuple(a["dilation"]))
    if a["padding"] == "same":
        amounts = []
        for e, s in zip(eff, a["stride"]):
            total = e - s
            amounts.append((-(total // 2), -(total - total // 2)) if total >= 0 else (0, -total))
    else:
        pads = _pads(a["padding"], x.shape[2:], a["kernel"], a["stride"], a["dilation"])
        amounts = [(-pb, op - pa) for (pb, pa), op in zip(pads, a["output_padding"])]
    y = F.pad(y, _pad_amounts(amounts))
    if "bias" in p:
        y = y + _channel_view(p["bias"], y.dim())
    return y


# ----------------------------------------------------------------------------- pooling


def _windows(x: torch.Tensor, eff, stride, dilation) -> torch.Tensor:
    """[N, C, *spatial] -> [N, C, *out, *kernel]: every window's taps (dilation apart)."""
    n = _spatial(x)
    for i in range(n):
        x = x.unfold(2 + i, eff[i], stride[i])
    index = (slice(None),) * (2 + n) + tuple(slice(None, None, d) for d in dilation)
    return x[index]


def _pool_geometry(x, a, dilation):
    """Per axis (pads, out) as the pooling ops define them (floor, ceil_mode, same)."""
    sizes = list(x.shape[2:])
    kernel = list(a["kernel"])
    stride = list(a["stride"]) if a["stride"] is not None else kernel
    pads = _pads(a["padding"], sizes, kernel, stride, dilation)
    outs = []
    for n, k, s, d, (pb, pa) in zip(sizes, kernel, stride, dilation, pads):
        eff = d * (k - 1) + 1
        if a["padding"] == "same":
            outs.append(-(-n // s))
            continue
        span = n + pb + pa - eff
        if a["ceil_mode"]:
            o = -(-span // s) + 1
            if (o - 1) * s >= n + pb:  # the last window must start inside the input or left padding
                o -= 1
        else:
            o = span // s + 1
        outs.append(o)
    return kernel, stride, pads, outs


def _padded_for_windows(x, pads, outs, kernel, stride, dilation, fill, overhang_fill):
    """x padded with `fill` by `pads`, then to exactly the extent the `outs` windows need: an
    overhang past the padding (ceil mode) filled with `overhang_fill`, an unused tail cropped."""
    x = F.pad(x, _pad_amounts(pads), value=fill)
    extra = []
    for size, o, k, s, d in zip(x.shape[2:], outs, kernel, stride, dilation):
        need = (o - 1) * s + d * (k - 1) + 1
        extra.append((0, need - size))
    return F.pad(x, _pad_amounts(extra), value=overhang_fill)


def _reduce_windows(w: torch.Tensor, n: int, how: str) -> torch.Tensor:
    dims = tuple(range(-n, 0))
    if how == "max":
        return w.amax(dim=dims)
    if how == "min":
        return w.amin(dim=dims)
    return w.sum(dim=dims)


def _pool(xs, a, p, ctx, kind: str):
    x = xs[0]
    n = _spatial(x)
    dilation = list(a.get("dilation") or (1,) * n)
    kernel, stride, pads, outs = _pool_geometry(x, a, dilation)
    eff = [d * (k - 1) + 1 for k, d in zip(kernel, dilation)]
    if kind in ("max", "min"):
        fill = -math.inf if kind == "max" else math.inf  # padded positions never win
        xp = _padded_for_windows(x, pads, outs, kernel, stride, dilation, fill, fill)
        return _reduce_windows(_windows(xp, eff, stride, dilation), n, kind)
    xp = _padded_for_windows(x, pads, outs, kernel, stride, dilation, 0.0, 0.0)
    total = _reduce_windows(_windows(xp, eff, stride, dilation), n, "sum")
    if kind == "sum":
        return total
    # average: the divisor counts the input's positions, and the padding's when count_include_pad
    # (never the overhang of ceil mode past the padding), as torch.nn.AvgPoolNd
    ones = torch.ones((1, 1, *x.shape[2:]), dtype=x.dtype, device=x.device)
    pad_fill = 1.0 if a["count_include_pad"] else 0.0
    mask = _padded_for_windows(ones, pads, outs, kernel, stride, dilation, pad_fill, 0.0)
    count = _reduce_windows(_windows(mask, eff, stride, dilation), n, "sum")
    return total / count


for _kind in ("max", "avg", "min", "sum"):
    _register(*(f"{_kind}pool{n}d" for n in (1, 2, 3)))(
        lambda xs, a, p, ctx, _k=_kind: _pool(xs, a, p, ctx, _k))


@_register("global_avgpool", "global_maxpool")
def _ex_global_pool(xs, a, p, ctx):
    x = xs[0]
    dims = tuple(range(2, x.dim()))
    if ctx.node.op.name == "global_avgpool":
        return x.mean(dim=dims, keepdim=a["keepdims"])
    return x.amax(dim=dims, keepdim=a["keepdims"])


def _adaptive(xs, a, p, ctx, kind: str):
    """Per axis, output position i covers input positions floor(i*in/out) to
    ceil((i+1)*in/out) - 1; a mean (or max) over a box is taken one axis at a time."""
    x = xs[0]
    for axis, o in zip(range(2, x.dim()), a["output_size"]):
        size = x.shape[axis]
        parts = []
        for i in range(o):
            start, end = (i * size) // o, -((-(i + 1) * size) // o)
            piece = x.narrow(axis, start, end - start)
            parts.append(piece.mean(dim=axis, keepdim=True) if kind == "avg"
                         else piece.amax(dim=axis, keepdim=True))
        x = torch.cat(parts, dim=axis)
    return x


for _kind in ("avg", "max"):
    _register(*(f"adaptive_{_kind}pool{n}d" for n in (1, 2, 3)))(
        lambda xs, a, p, ctx, _k=_kind: _adaptive(xs, a, p, ctx, _k))


# ----------------------------------------------------------------------------- dense and shapes


@_register("linear")
def _ex_linear(xs, a, p, ctx):
    x = xs[0]
    axis = a["axis"] % x.dim()
    y = torch.matmul(x.movedim(axis, -1), p["weight"].t())
    if "bias" in p:
        y = y + p["bias"]
    return y.movedim(-1, axis)


@_register("flatten")
def _ex_flatten(xs, a, p, ctx):
    return torch.flatten(xs[0], a["start_dim"], a["end_dim"])


@_register("reshape")
def _ex_reshape(xs, a, p, ctx):
    x = xs[0]
    return x.reshape(x.shape[0], *(ctx.dim(d) for d in a["shape"]))


@_register("identity")
def _ex_identity(xs, a, p, ctx):
    return xs[0]


@_register("permute")
def _ex_permute(xs, a, p, ctx):
    return xs[0].permute(*(int(d) for d in a["dims"]))


@_register("transpose")
def _ex_transpose(xs, a, p, ctx):
    return xs[0].transpose(a["dim0"], a["dim1"])


def _index(entries) -> tuple:
    return tuple(e if isinstance(e, int) else slice(*e) for e in entries)


@_register("slice")
def _ex_slice(xs, a, p, ctx):
    return xs[0][_index(a["index"])]


# chunk and split never reach the graph (the elaborator makes one `slice` node per piece); as
# their shape rule states, the op's own output is the first piece
@_register("chunk")
def _ex_chunk(xs, a, p, ctx):
    x = xs[0]
    return x.narrow(a["axis"], 0, x.shape[a["axis"]] // a["chunks"])


@_register("split")
def _ex_split(xs, a, p, ctx):
    return xs[0].narrow(a["axis"], 0, int(a["sizes"][0]))


@_register("reduce_sum", "reduce_mean", "reduce_max", "reduce_min")
def _ex_reduce(xs, a, p, ctx):
    """Reduced one axis at a time, from the last, with torch's elementwise reductions written
    out (not x.sum(dim=...) as the generated code calls it)."""
    x = xs[0]
    axes = sorted({d % x.dim() for d in a["axis"]}, reverse=True)
    for d in axes:
        pieces = [x.select(d, i) for i in range(x.shape[d])]
        total = pieces[0]
        for piece in pieces[1:]:
            total = {"reduce_max": torch.maximum, "reduce_min": torch.minimum}.get(ctx.node.op.name, torch.add)(total, piece)
        if ctx.node.op.name == "reduce_mean":
            total = total / len(pieces)
        x = total.unsqueeze(d) if a["keepdim"] else total
    return x


@_register("parameter")
def _ex_parameter(xs, a, p, ctx):
    return p[""]


@_register("constant")
def _ex_constant(xs, a, p, ctx):
    value = torch.tensor(a["value"], dtype=ctx.dtype, device=ctx.device)
    shape = tuple(int(d) for d in a["shape"]) if a["shape"] is not None else tuple(value.shape)
    return value.expand(shape).clone() if value.dim() == 0 else value.reshape(shape)


# ----------------------------------------------------------------------------- normalisation


def _normalise(x, mean, var, eps):
    return (x - mean) / torch.sqrt(var + eps)


def _batch_stats(x, dims):
    return x.mean(dim=dims, keepdim=True), x.var(dim=dims, unbiased=False, keepdim=True)


@_register("batchnorm1d", "batchnorm2d", "batchnorm3d")
def _ex_batchnorm(xs, a, p, ctx):
    """Eval with running statistics: those; training, or no running statistics: the batch's
    (biased variance), over the batch and every spatial position. The state is not updated."""
    x = xs[0]
    return _channel_norm(x, tuple(d for d in range(x.dim()) if d != 1), a, p, ctx)


@_register("frozen_batchnorm2d")
def _ex_frozen_batchnorm(xs, a, p, ctx):
    """Always the stored statistics and affine terms, in training too (nothing is learned)."""
    x = xs[0]
    y = _normalise(x, _channel_view(p["running_mean"], x.dim()), _channel_view(p["running_var"], x.dim()), a["eps"])
    return y * _channel_view(p["weight"], x.dim()) + _channel_view(p["bias"], x.dim())


@_register("layernorm")
def _ex_layernorm(xs, a, p, ctx):
    x = xs[0]
    r = x.dim()
    if a["axis"] is not None:
        dims: tuple[int, ...] = (a["axis"] % r,)
    else:
        count = 1 if a["axes"] is None else a["axes"]
        dims = tuple(range(r - count, r))
    mean, var = _batch_stats(x, dims)
    y = _normalise(x, mean, var, a["eps"])
    if a["affine"]:
        shape = [x.shape[d] if d in dims else 1 for d in range(r)]
        y = y * p["weight"].reshape(shape) + p["bias"].reshape(shape)
    return y


@_register("grn")
def _ex_grn(xs, a, p, ctx):
    """Global response normalisation from its definition (ConvNeXt V2): each channel's L2 norm
    over the positions, over the mean of those norms across the channels plus eps, scales x;
    y = x + bias + weight · x · n per channel."""
    x = xs[0]
    spatial, channel = ((1, 2), 3) if a["channels_last"] else ((2, 3), 1)
    g = torch.sqrt((x * x).sum(dim=spatial, keepdim=True))
    n = g / (g.mean(dim=channel, keepdim=True) + a["eps"])
    w, b = _channel_view(p["weight"], 4, channel), _channel_view(p["bias"], 4, channel)
    return x + b + w * (x * n)


@_register("groupnorm")
def _ex_groupnorm(xs, a, p, ctx):
    x = xs[0]
    g = x.reshape(x.shape[0], a["groups"], -1)
    mean, var = _batch_stats(g, (2,))
    y = _normalise(g, mean, var, a["eps"]).reshape(x.shape)
    if a["affine"]:
        y = y * _channel_view(p["weight"], x.dim()) + _channel_view(p["bias"], x.dim())
    return y


@_register("instancenorm1d", "instancenorm2d", "instancenorm3d")
def _ex_instancenorm(xs, a, p, ctx):
    """Per sample and channel over the spatial positions; with running statistics, in eval,
    those instead (torch.nn.InstanceNormNd)."""
    x = xs[0]
    return _channel_norm(x, tuple(range(2, x.dim())), a, p, ctx)


def _channel_norm(x, dims, a, p, ctx):
    """Normalised per channel with the statistics over `dims` (the running ones in eval, where
    the layer keeps them), then the per-channel affine map."""
    if a["track_running_stats"] and not ctx.training:
        mean = _channel_view(p["running_mean"], x.dim())
        var = _channel_view(p["running_var"], x.dim())
    else:
        mean, var = _batch_stats(x, dims)
    y = _normalise(x, mean, var, a["eps"])
    if a["affine"]:
        y = y * _channel_view(p["weight"], x.dim()) + _channel_view(p["bias"], x.dim())
    return y


# ----------------------------------------------------------------------------- activations

_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def _elementwise(name: str, fn: Callable[[torch.Tensor, Mapping[str, Any]], torch.Tensor]) -> None:
    _register(name)(lambda xs, a, p, ctx: fn(xs[0], a))


def _hardsigmoid(x):
    return torch.clamp(x / 6 + 0.5, 0.0, 1.0)


def _softplus(x, beta=1.0, threshold=20.0):
    return torch.where(beta * x > threshold, x, torch.log1p(torch.exp(beta * x)) / beta)


def _gelu(x, a):
    if a["approximate"] == "tanh":
        return 0.5 * x * (1 + torch.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))
    return 0.5 * x * (1 + torch.erf(x / math.sqrt(2)))


_elementwise("relu", lambda x, a: torch.clamp(x, min=0.0))
_elementwise("relu6", lambda x, a: torch.clamp(x, 0.0, 6.0))
_elementwise("leaky_relu", lambda x, a: torch.where(x >= 0, x, a["negative_slope"] * x))
_elementwise("elu", lambda x, a: torch.where(x > 0, x, a["alpha"] * torch.expm1(x)))
_elementwise("selu", lambda x, a: _SELU_SCALE * torch.where(x > 0, x, _SELU_ALPHA * torch.expm1(x)))
_elementwise("gelu", _gelu)
_elementwise("silu", lambda x, a: x * torch.sigmoid(x))
_elementwise("mish", lambda x, a: x * torch.tanh(_softplus(x)))
_elementwise("sigmoid", lambda x, a: torch.sigmoid(x))
_elementwise("absolute", lambda x, a: torch.where(x < 0, -x, x))
_elementwise("hardsigmoid", lambda x, a: _hardsigmoid(x))
_elementwise("tanh", lambda x, a: torch.tanh(x))
_elementwise("hardtanh", lambda x, a: torch.clamp(x, a["min_val"], a["max_val"]))
_elementwise("hardswish", lambda x, a: x * _hardsigmoid(x))
_elementwise("softplus", lambda x, a: _softplus(x, a["beta"], a["threshold"]))
_elementwise("scale", lambda x, a: x * a["factor"] + a["offset"])


@_register("softmax")
def _ex_softmax(xs, a, p, ctx):
    x = xs[0]
    e = torch.exp(x - x.amax(dim=a["dim"], keepdim=True))
    return e / e.sum(dim=a["dim"], keepdim=True)


@_register("log_softmax")
def _ex_log_softmax(xs, a, p, ctx):
    x = xs[0]
    shifted = x - x.amax(dim=a["dim"], keepdim=True)
    return shifted - torch.log(torch.exp(shifted).sum(dim=a["dim"], keepdim=True))


@_register("prelu")
def _ex_prelu(xs, a, p, ctx):
    x = xs[0]
    w = _channel_view(p["weight"], x.dim()) if a["per_channel"] else p["weight"].reshape(())
    return torch.clamp(x, min=0.0) + w * torch.clamp(x, max=0.0)


# ----------------------------------------------------------------------------- regularisation


@_register("dropout", "dropout1d", "dropout2d", "dropout3d", "alpha_dropout")
def _ex_dropout(xs, a, p, ctx):
    """The identity at inference; in training, torch's own random dropout (not comparable
    value by value with another run)."""
    x = xs[0]
    if not ctx.training:
        return x
    name = ctx.node.op.name
    if name == "alpha_dropout":
        return F.alpha_dropout(x, a["p"], True)
    if name == "dropout":
        return F.dropout(x, a["p"], True)
    mask = torch.empty(x.shape[:2] + (1,) * (x.dim() - 2), dtype=x.dtype, device=x.device)
    mask.bernoulli_(1 - a["p"])
    return x * mask / (1 - a["p"]) if a["p"] < 1 else x * 0


@_register("stochastic_depth")
def _ex_stochastic_depth(xs, a, p, ctx):
    x = xs[0]
    if not ctx.training or a["p"] == 0.0:
        return x
    survival = 1.0 - a["p"]
    size = [x.shape[0]] + [1] * (x.dim() - 1) if a["mode"] == "row" else [1] * x.dim()
    noise = torch.empty(size, dtype=x.dtype, device=x.device).bernoulli_(survival)
    return x * noise / survival if survival > 0 else x * noise


# ----------------------------------------------------------------------------- resampling

_TORCH_MODE = {"linear": "linear", "bilinear": "bilinear", "bicubic": "bicubic", "trilinear": "trilinear"}


def _resize(x: torch.Tensor, size: list[int], mode: str, align_corners: bool) -> torch.Tensor:
    if mode == "nearest":
        # output position j takes input floor(j * in / out) (torch's "nearest")
        for axis, o in zip(range(2, x.dim()), size):
            n = x.shape[axis]
            index = torch.div(torch.arange(o, device=x.device) * n, o, rounding_mode="floor")
            x = x.index_select(axis, index)
        return x
    return F.interpolate(x, size=size, mode=_TORCH_MODE[mode], align_corners=align_corners)


@_register("upsample")
def _ex_upsample(xs, a, p, ctx):
    x = xs[0]
    scale = list(a["scale"])
    if a["mode"] == "nearest":  # each position repeated `scale` times
        for axis, s in zip(range(2, x.dim()), scale):
            x = x.repeat_interleave(s, dim=axis)
        return x
    size = [n * s for n, s in zip(x.shape[2:], scale)]
    return _resize(x, size, a["mode"], a["align_corners"])


@_register("resize_like")
def _ex_resize_like(xs, a, p, ctx):
    x, ref = xs
    return _resize(x, list(ref.shape[2:]), a["mode"], a["align_corners"])


@_register("zeropad1d", "zeropad2d", "zeropad3d")
def _ex_zeropad(xs, a, p, ctx):
    x = xs[0]
    out = x.new_zeros((*x.shape[:2], *(n + b + e for n, (b, e) in zip(x.shape[2:], a["padding"]))))
    index = (slice(None), slice(None)) + tuple(slice(b, b + n) for n, (b, _) in zip(x.shape[2:], a["padding"]))
    out[index] = x
    return out


def _edge_positions(n: int, before: int, after: int, kind: str) -> list[int]:
    """For each output position along an axis of size n padded by (before, after), the input
    position it copies: mirrored without repeating the edge, or the edge itself."""
    out = []
    for i in range(-before, n + after):
        if kind == "reflection":
            j = -i if i < 0 else (2 * (n - 1) - i if i >= n else i)
        else:
            j = min(max(i, 0), n - 1)
        out.append(j)
    return out


@_register(*(f"{kind}pad{n}d" for kind in ("reflection", "replication") for n in (1, 2, 3)))
def _ex_edge_pad(xs, a, p, ctx):
    x = xs[0]
    kind = "reflection" if ctx.node.op.name.startswith("reflection") else "replication"
    for axis, (before, after) in enumerate(a["padding"], 2):
        index = torch.tensor(_edge_positions(x.shape[axis], before, after, kind), device=x.device)
        x = x.index_select(axis, index)
    return x


@_register("crop")
def _ex_crop(xs, a, p, ctx):
    x, ref = xs
    index = [slice(None), slice(None)]
    for n, r in zip(x.shape[2:], ref.shape[2:]):
        before = (n - r) // 2
        index.append(slice(before, before + r))
    return x[tuple(index)]


# ----------------------------------------------------------------------------- merges


@_register("add")
def _ex_add(xs, a, p, ctx):
    out = xs[0]
    for t in xs[1:]:
        out = out + t
    return out


@_register("subtract")
def _ex_subtract(xs, a, p, ctx):
    return torch.sub(xs[0], xs[1])


@_register("multiply")
def _ex_multiply(xs, a, p, ctx):
    out = xs[0]
    for t in xs[1:]:
        out = out * t
    return out


@_register("concat")
def _ex_concat(xs, a, p, ctx):
    return torch.cat(list(xs), dim=a["axis"])
