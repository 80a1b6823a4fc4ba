"""Dropout variants. All are the identity at inference."""
from __future__ import annotations

from archc.ops.base import Attr, Choice, Float, Lint, Lowered, Op, Saved, helper, py_call

_VARIANTS = {
    # name: (title, doc, required rank or None)
    "dropout": ("Dropout", "During training, zero each element with probability p and scale the rest "
                "by 1/(1-p) (torch.nn.Dropout); the identity at inference.", None),
    "dropout1d": ("Dropout1d", "During training, zero whole channels of an [N, C, L] input with "
                  "probability p (torch.nn.Dropout1d); the identity at inference.", 3),
    "dropout2d": ("Dropout2d", "During training, zero whole channels of an [N, C, H, W] input with "
                  "probability p (torch.nn.Dropout2d, Keras SpatialDropout2D); the identity at "
                  "inference.", 4),
    "dropout3d": ("Dropout3d", "During training, zero whole channels of an [N, C, D, H, W] input "
                  "with probability p (torch.nn.Dropout3d); the identity at inference.", 5),
    "alpha_dropout": ("AlphaDropout", "Dropout that keeps the mean and variance of SELU "
                      "activations (torch.nn.AlphaDropout); the identity at inference.", None),
}


class Dropout(Op):
    family = "regularization"
    macs_rule = "0 (the identity at inference)"

    def __init__(self, name: str):
        self.name = name
        self.title, self.doc, self.rank = _VARIANTS[name]
        if self.rank:
            self.ndim = self.rank - 2
        self.shape_rule = ("output shape = input shape" +
                           (f"; the input has rank {self.rank}" if self.rank else " (any rank)"))
        self.attrs = (Attr("p", Float(min=0.0, max=1.0), 0.5, "probability of dropping, in [0, 1]"),)

    def output_shape(self, a, inputs, ctx):
        if self.rank:
            self.check_rank(inputs[0], self.rank)
        return tuple(inputs[0])

    def macs(self, a, inputs, out):
        return 0

    def label(self, a):
        return f"p={a['p']:g}"

    def diagnose(self, a, inputs, given, channels_first):
        if a.p < 1:
            return []
        return [Lint(f"{self.name}(p=1) drops every value in training: the layer's output is all zeros",
                     "p is the probability of dropping (PyTorch's convention; Keras' rate is the same); "
                     "to keep every value, leave the layer out", code="W-ATTR-IMPLAUSIBLE")]

    def saved_for_backward(self, a, inputs, out, ctx):
        """What scales the gradient: CUDA's fused dropout keeps a bool mask; elsewhere, and
        for feature and alpha dropout everywhere, `input * noise` keeps the noise (the input's
        dtype; per sample and channel for feature dropout). p=0 returns the input itself."""
        x = inputs[0]
        if a.p == 0:
            return ()
        if self.rank:  # dropout1d/2d/3d: one value per sample and channel
            return (Saved("new", (*x[:2], *(1,) * (len(x) - 2)), what="noise"),)
        if ctx.device == "cuda" and self.name == "dropout":
            return (Saved("new", x, "bool", "mask"),)
        return (Saved("new", x, what="noise"),)

    def output_aliases_input(self, a, inputs, ctx):
        return a.p == 0

    def output_contiguous(self, a, inputs, out, ctx):
        return a.p != 0 or not ctx.contiguous or ctx.contiguous[0]

    def lower(self, a, inputs, out):
        return Lowered(py_call(f"nn.{self.title}", p=a.p), "{m}({0})", (), (("p", 0.5),))


class StochasticDepth(Op):
    name = "stochastic_depth"
    aliases = ("drop_path",)
    title = "StochasticDepth"
    family = "regularization"
    doc = ("Stochastic depth (Huang et al., 2016) as torchvision.ops.StochasticDepth: during "
           "training, zero the residual branch of a whole sample (mode=row) or of the whole batch "
           "(mode=batch) with probability p, and scale what survives by 1/(1-p); the identity at "
           "inference. Put it on the branch, before the residual add (EfficientNet, ConvNeXt).")
    attrs = (Attr("p", Float(min=0.0, max=1.0), doc="probability of dropping, in [0, 1]"),
             Attr("mode", Choice("row", "batch"), "row", "row: per sample; batch: the whole batch at once"))
    shape_rule = "output shape = input shape (any rank)"
    macs_rule = "0 (the identity at inference)"

    def output_shape(self, a, inputs, ctx):
        return tuple(inputs[0])

    def macs(self, a, inputs, out):
        return 0

    def label(self, a):
        return f"p={a['p']:g}" + ("" if a["mode"] == "row" else " batch")

    def saved_for_backward(self, a, inputs, out, ctx):
        x = inputs[0]
        if a.p == 0:
            return ()
        noise = (x[0], *(1,) * (len(x) - 1)) if a.mode == "row" else (1,) * len(x)
        return (Saved("new", noise, what="noise"),)  # x * noise

    def output_aliases_input(self, a, inputs, ctx):
        return a.p == 0

    def lower(self, a, inputs, out):
        return Lowered(py_call("StochasticDepth", a.p, a.mode), "{m}({0})", (_STOCHASTIC_DEPTH,))


_STOCHASTIC_DEPTH = helper("StochasticDepth", '''
class StochasticDepth(nn.Module):
    """Drop a residual branch per sample (mode "row") or per batch during training, as
    torchvision.ops.StochasticDepth; the identity at inference."""

    def __init__(self, p, mode):
        super().__init__()
        self.p = p
        self.mode = mode

    def forward(self, x):
        if not self.training or self.p == 0.0:
            return x
        survival = 1.0 - self.p
        size = [x.shape[0]] + [1] * (x.ndim - 1) if self.mode == "row" else [1] * x.ndim
        noise = torch.empty(size, dtype=x.dtype, device=x.device).bernoulli_(survival)
        if survival > 0.0:
            noise.div_(survival)
        return x * noise
''')


OPS = [*(Dropout(name) for name in _VARIANTS), StochasticDepth()]
