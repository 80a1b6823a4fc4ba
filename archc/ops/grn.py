"""Global response normalisation (ConvNeXt V2's GRN, as timm.layers.GlobalResponseNorm)."""
from __future__ import annotations

from archc.ops.base import Attr, Autocast, BoolType, Float, Lowered, Op, Saved, helper, numel, py_call
from archc.ops.common import concrete


class GlobalResponseNorm(Op):
    name = "grn"
    aliases = ("global_response_norm",)
    title = "GlobalResponseNorm"
    family = "norm"
    positional, inferred_leading = 0, "dim"  # grn(eps=..., channels_last=...)
    doc = ("Global response normalisation (Woo et al., 2023, ConvNeXt V2), as "
           "timm.layers.GlobalResponseNorm: per sample and channel the L2 norm over the positions, "
           "g = ‖x‖₂ over H, W; n = g / (mean of g over the channels + eps); "
           "y = x + (bias + weight · (x · n)), weight and bias per channel (both start at zero, so "
           "the layer starts as the identity). On [N, C, H, W]; channels_last=true for [N, H, W, C] "
           "(timm's default; ConvNeXt V2 with conv_mlp, as convnextv2_atto, uses channels first).")
    attrs = (
        Attr("eps", Float(above=0.0), 1e-6, "added to the channels' mean norm"),
        Attr("channels_last", BoolType(), False, "the input is [N, H, W, C] (channels on the last "
             "axis) instead of [N, C, H, W]"),
    )
    shape_rule = "output shape = input shape; the input is [N, C, H, W] ([N, H, W, C] when channels_last=true)"
    param_rule = "weight [C], bias [C]"
    macs_rule = ("2 × numel(output): the response x · n and the per-channel multiply-add (as the "
                 "other norms, computing the statistics is not counted)")

    def _channels(self, a, x) -> int:
        self.check_rank(x, 4)
        return concrete(x[3] if a.channels_last else x[1], "channels", self.name)

    def output_shape(self, a, inputs, ctx):
        self._channels(a, inputs[0])
        return tuple(inputs[0])

    def parameters(self, a, inputs):
        c = self._channels(a, inputs[0])
        return {"weight": (c,), "bias": (c,)}

    def macs(self, a, inputs, out):
        return 2 * numel(out)

    def label(self, a):
        return "channels last" if a["channels_last"] else ""

    autocast = Autocast.FLOAT32  # the norm is on autocast's float32 list

    def saved_for_backward(self, a, inputs, out, ctx):
        """x.norm keeps x and the norms; the division keeps the norms' channel mean; x * x_n
        keeps x_n; addcmul keeps x * x_n (weight and bias are parameters)."""
        x = inputs[0]
        n, c = x[0], x[-1] if a.channels_last else x[1]
        return (Saved("input"), Saved("new", (n, c), what="norms"), Saved("new", (n, 1), what="mean norm"),
                Saved("new", (n, c), what="normalised norms"), Saved("new", x, what="x · normalised norms"))

    def lower(self, a, inputs, out):
        c = self._channels(a, inputs[0])
        module = py_call("GlobalResponseNorm", c, eps=a.eps, channels_last=a.channels_last)
        return Lowered(module, "{m}({0})", (_GRN,), (("eps", 1e-6), ("channels_last", False)))


_GRN = helper("GlobalResponseNorm", '''
class GlobalResponseNorm(nn.Module):
    """Global response normalisation, computed as timm.layers.GlobalResponseNorm computes it
    (ConvNeXt V2): the L2 norm of each channel over the positions, divided by its mean over the
    channels (plus eps), scales x; weight and bias (zeros at first) make it a residual update."""

    def __init__(self, dim, eps=1e-06, channels_last=False):
        super().__init__()
        self.eps = eps
        if channels_last:
            self.spatial_dim, self.channel_dim, self.wb_shape = (1, 2), -1, (1, 1, 1, -1)
        else:
            self.spatial_dim, self.channel_dim, self.wb_shape = (2, 3), 1, (1, -1, 1, 1)
        self.weight = nn.Parameter(torch.zeros(dim))
        self.bias = nn.Parameter(torch.zeros(dim))

    def forward(self, x):
        x_g = x.norm(p=2, dim=self.spatial_dim, keepdim=True)
        x_n = x_g / (x_g.mean(dim=self.channel_dim, keepdim=True) + self.eps)
        return x + torch.addcmul(self.bias.view(self.wb_shape), self.weight.view(self.wb_shape), x * x_n)
''')


OPS = [GlobalResponseNorm()]
