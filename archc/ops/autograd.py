"""The types of the ops' training traits (`Op.saved_for_backward`, `Op.autocast`,
`Op.backward_macs` in archc/ops/base.py), read by archc/analysis/training.py: what autograd
keeps of an op for its backward, and how torch.autocast runs it."""
from __future__ import annotations

import enum
from dataclasses import dataclass

from archc.symbolic import Dim

Shape = tuple[Dim, ...]


@dataclass(frozen=True, slots=True)
class Saved:
    """One tensor an op's backward reads, kept by autograd from the forward pass to the backward
    pass (what `torch.autograd.graph.saved_tensors_hooks` sees). `of`:
      "input"  the op's `index`-th input, as it arrives (its storage: a view saves nothing new);
      "output" the op's own output (in place: its first input's storage);
      "new"    a tensor the op makes inside and keeps: `shape` and `dtype`;
      "weight" its parameter `what` (not counted: it exists anyway; under autocast the
               low-precision copy autocast makes of it, once per parameter, is counted).
    `dtype`: "compute" (the dtype the op computes in: float32, or the autocast dtype for ops
    autocast lowers), "float32", "int64" (max pooling's indices) or "bool" (a dropout mask).
    `what`: a few words for reports."""
    of: str
    shape: Shape = ()
    dtype: str = "compute"
    what: str = ""
    index: int = 0


@dataclass(frozen=True, slots=True)
class SaveContext:
    """What decides what an op saves, beyond its attributes and shapes: `grads[i]` whether its
    input i requires grad; `trainable` whether it has weights that require grad; `in_place`
    whether its lowering overwrites its first input (archc.lower.codegen.in_place_layers);
    `device` "cuda" or "cpu" (a few kernels save differently: dropout's mask); `contiguous[i]`
    whether input i is laid out contiguously (a reshape of a permuted tensor copies it)."""
    grads: tuple[bool, ...]
    trainable: bool
    in_place: bool = False
    device: str = "cuda"
    contiguous: tuple[bool, ...] = ()


class Autocast(enum.Enum):
    """What torch.autocast does to an op (CUDA's op lists, torch/amp/autocast_mode and
    aten/src/ATen/autocast_mode.cpp): LOWER runs it in the low precision dtype (conv, linear,
    matmul, prelu), inputs cast; FLOAT32 runs it in float32 (softmax, layer_norm, group_norm,
    softplus, norms and reductions that accumulate), inputs cast up; FOLLOW runs it in its
    input's dtype (elementwise ops, batch norm, pooling, views); PROMOTE in the widest dtype of
    its inputs and weights (add, multiply, concat: torch's type promotion)."""
    LOWER = "lower"
    FLOAT32 = "float32"
    FOLLOW = "follow"
    PROMOTE = "promote"
