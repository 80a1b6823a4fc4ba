"""The operation library: every op archc knows, by name and alias."""
from archc.ops import activation, conv, grn, linear, merge, norm, pool, reduce, regularization, resample, tensor
from archc.ops.base import OpRegistry

REGISTRY = OpRegistry([
    *conv.OPS,
    *pool.OPS,
    *linear.OPS,
    *norm.OPS,
    *grn.OPS,
    *activation.OPS,
    *regularization.OPS,
    *resample.OPS,
    *merge.OPS,
    *reduce.OPS,
    *tensor.OPS,
])

__all__ = ["REGISTRY"]
