"""The op-level torch references: for each case, the op, its input shapes and attributes, and a
builder of what torch computes for it. tests/ops/test_ops.py checks each op's shape rule and
parameter count against them; tests/lowering/test_lowering.py checks each op's lowering."""
from __future__ import annotations

import math


# Each case: (op name, input shapes, positional attrs, keyword attrs, torch builder). The builder
# gets torch and returns an nn.Module (state_dict names and parameter counts are compared), a
# plain function (output shape only; the op must then have no parameters), or a pair (function
# computing the output, module holding the parameters) where no single torch module matches.

def _same_pads(size, k, s, d=1):
    out = -(-size // s)
    total = max((out - 1) * s + d * (k - 1) + 1 - size, 0)
    return total // 2, total - total // 2


def _conv_same(t, cin, out, k, s, in_hw, d=1):
    """TF-style `same` padding for any stride: explicit F.pad, then a valid conv. Returns
    (forward function, the module whose state_dict is compared)."""
    conv = t.nn.Conv2d(cin, out, k, s, dilation=d)
    (ht, hb), (wl, wr) = (_same_pads(n, k, s, d) for n in in_hw)
    return (lambda x: conv(t.nn.functional.pad(x, (wl, wr, ht, hb)))), conv


def _frozen_batchnorm(t, c, eps):
    """torchvision.ops.FrozenBatchNorm2d's interface (four buffers, no parameters), computed here
    by torch's own eval-mode batch norm rather than by the formula archc's lowering writes."""
    class Frozen(t.nn.Module):
        def __init__(self):
            super().__init__()
            for name, value in (("weight", t.rand(c) + 0.5), ("bias", t.randn(c)),
                                ("running_mean", t.randn(c)), ("running_var", t.rand(c) + 0.5)):
                self.register_buffer(name, value)

        def forward(self, x):
            return t.nn.functional.batch_norm(x, self.running_mean, self.running_var, self.weight, self.bias,
                                              training=False, eps=eps)
    return Frozen()


def _std_conv(t, cin, out, k, eps, *, scaled=False, gamma=1.0, bias=False, stride=1, padding=0,
              dilation=1, groups=1):
    """timm's StdConv2d / ScaledStdConv2d interface (weight, bias, gain as timm names them), the
    standardisation written out (mean and biased variance of each filter) rather than with the
    F.batch_norm call archc's lowering and timm use."""
    kh, kw = (k, k) if isinstance(k, int) else k

    class Std(t.nn.Module):
        def __init__(self):
            super().__init__()
            self.weight = t.nn.Parameter(t.randn(out, cin // groups, kh, kw))
            if bias:
                self.bias = t.nn.Parameter(t.randn(out))
            if scaled:
                self.gain = t.nn.Parameter(t.rand(out, 1, 1, 1) + 0.5)

        def forward(self, x):
            w = self.weight
            mean = w.mean(dim=(1, 2, 3), keepdim=True)
            var = w.var(dim=(1, 2, 3), unbiased=False, keepdim=True)
            w = (w - mean) / t.sqrt(var + eps)
            if scaled:
                w = w * (self.gain * gamma / math.sqrt(cin // groups * kh * kw))
            return t.nn.functional.conv2d(x, w, self.bias if bias else None, stride, padding,
                                          dilation, groups)
    return Std()


def _grn(t, c, eps, channels_last=False):
    """timm's GlobalResponseNorm interface (weight, bias [C]), its definition written out: the L2
    norm of each channel over the positions as the square root of the sum of squares (timm calls
    Tensor.norm), divided by its mean over the channels plus eps, then x + bias + weight * x * n
    (timm uses addcmul)."""
    spatial, channel = ((1, 2), 3) if channels_last else ((2, 3), 1)
    shape = [1, 1, 1, 1]
    shape[channel] = c

    class GRN(t.nn.Module):
        def __init__(self):
            super().__init__()
            self.weight = t.nn.Parameter(t.randn(c))
            self.bias = t.nn.Parameter(t.randn(c))

        def forward(self, x):
            g = (x * x).sum(dim=spatial, keepdim=True).sqrt()
            n = g / (g.mean(dim=channel, keepdim=True) + eps)
            return x + self.bias.reshape(shape) + self.weight.reshape(shape) * (x * n)
    return GRN()


def _blur_pool(filt_size, stride, pad_mode="reflect"):
    """timm's BlurPool2d: the binomial filter from math.comb, padded by timm's get_padding,
    depthwise. Its filter is not in timm's state_dict, so this is a plain function."""
    def forward(x):
        import torch
        c = x.shape[1]
        row = torch.tensor([math.comb(filt_size - 1, i) for i in range(filt_size)], dtype=x.dtype)
        filt = torch.outer(row, row) / row.sum() ** 2
        p = ((stride - 1) + (filt_size - 1)) // 2
        x = torch.nn.functional.pad(x, (p, p, p, p), mode=pad_mode)
        return torch.nn.functional.conv2d(x, filt.expand(c, 1, filt_size, filt_size), stride=stride, groups=c)
    return forward


def _separable(t, cin, out, k, mult, padding, dw_bias, pw_bias, ndim=2):
    nn = t.nn
    conv = {1: nn.Conv1d, 2: nn.Conv2d, 3: nn.Conv3d}[ndim]

    class Separable(nn.Module):
        def __init__(self):
            super().__init__()
            self.depthwise = conv(cin, cin * mult, k, padding=padding, groups=cin, bias=dw_bias)
            self.pointwise = conv(cin * mult, out, 1, bias=pw_bias)

        def forward(self, x):
            return self.pointwise(self.depthwise(x))
    return Separable()


def _crop(x, ref_shape):
    idx = [slice(None), slice(None)]
    for n, r in zip(x.shape[2:], ref_shape[2:]):
        b = (n - r) // 2
        idx.append(slice(b, b + r))
    return x[tuple(idx)]


CASES = [
    # conv
    ("conv1d", [(2, 3, 10)], (4, 3), {}, lambda t: t.nn.Conv1d(3, 4, 3)),
    ("conv2d", [(2, 4, 9, 11)], (8, 3), dict(stride=2, padding=1, groups=2),
     lambda t: t.nn.Conv2d(4, 8, 3, 2, 1, groups=2)),
    ("conv2d", [(1, 3, 12, 13)], (5, (3, 5)), dict(stride=(2, 1), padding=(1, 2), dilation=(2, 1), bias=False),
     lambda t: t.nn.Conv2d(3, 5, (3, 5), (2, 1), (1, 2), dilation=(2, 1), bias=False)),
    ("conv2d", [(1, 3, 9, 10)], (4, 4), dict(padding="same", dilation=2),
     lambda t: t.nn.Conv2d(3, 4, 4, padding="same", dilation=2)),
    ("conv2d", [(1, 3, 9, 10)], (4, 3), dict(stride=2, padding="same"),
     lambda t: _conv_same(t, 3, 4, 3, 2, (9, 10))),
    ("conv2d", [(1, 3, 8, 8)], (4, 4), dict(stride=3, padding="same"),
     lambda t: _conv_same(t, 3, 4, 4, 3, (8, 8))),
    ("conv2d", [(1, 2, 6, 6)], (4, 3), dict(padding="valid"), lambda t: t.nn.Conv2d(2, 4, 3)),
    ("conv2d", [(1, 2, 6, 7)], (4, 3), dict(padding=((1, 0), (2, 1))),
     lambda t: (lambda c: ((lambda x: c(t.nn.functional.pad(x, (2, 1, 1, 0)))), c))(t.nn.Conv2d(2, 4, 3))),
    ("conv3d", [(1, 2, 5, 6, 7)], (3, (2, 3, 3)), dict(stride=(1, 2, 2), padding=1),
     lambda t: t.nn.Conv3d(2, 3, (2, 3, 3), (1, 2, 2), 1)),
    ("depthwise_conv1d", [(2, 3, 11)], (5,), dict(dilation=2),
     lambda t: t.nn.Conv1d(3, 3, 5, dilation=2, groups=3)),
    ("depthwise_conv2d", [(2, 4, 8, 8)], (3,), dict(multiplier=2, stride=2, padding=1),
     lambda t: t.nn.Conv2d(4, 8, 3, 2, 1, groups=4)),
    ("depthwise_conv3d", [(1, 2, 4, 5, 6)], (3,), dict(bias=False, padding="same"),
     lambda t: t.nn.Conv3d(2, 2, 3, padding="same", groups=2, bias=False)),
    ("separable_conv1d", [(2, 3, 9)], (5, 3), {},
     lambda t: _separable(t, 3, 5, 3, 1, 0, False, True, ndim=1)),
    ("separable_conv2d", [(2, 4, 8, 8)], (6, 3), dict(padding=1, multiplier=2, depthwise_bias=True),
     lambda t: _separable(t, 4, 6, 3, 2, 1, True, True)),
    ("separable_conv3d", [(1, 2, 4, 5, 6)], (3, 2), dict(bias=False),
     lambda t: _separable(t, 2, 3, 2, 1, 0, False, False, ndim=3)),
    ("conv_transpose1d", [(1, 4, 7)], (6, 3), dict(stride=3, output_padding=2, dilation=2, groups=2),
     lambda t: t.nn.ConvTranspose1d(4, 6, 3, 3, output_padding=2, dilation=2, groups=2)),
    ("conv_transpose2d", [(2, 4, 5, 6)], (3, 3), dict(stride=2, padding=1, output_padding=1),
     lambda t: t.nn.ConvTranspose2d(4, 3, 3, 2, 1, output_padding=1)),
    ("conv_transpose2d", [(1, 2, 5, 7)], (3, 3), dict(stride=2, padding="same"),  # Keras: in*stride
     lambda t: t.nn.ConvTranspose2d(2, 3, 3, 2, padding=1, output_padding=1)),
    ("conv_transpose2d", [(1, 2, 5, 7)], (3, 4), dict(stride=2, padding="same"),
     lambda t: t.nn.ConvTranspose2d(2, 3, 4, 2, padding=1)),
    ("conv_transpose2d", [(1, 2, 5, 7)], (3, 3), dict(stride=2, padding="valid", bias=False),
     lambda t: t.nn.ConvTranspose2d(2, 3, 3, 2, bias=False)),
    ("conv_transpose3d", [(1, 2, 3, 4, 5)], (4, 2), dict(stride=2),
     lambda t: t.nn.ConvTranspose3d(2, 4, 2, 2)),
    ("conv2d_transpose", [(1, 2, 3, 3)], (1, 2), {}, lambda t: t.nn.ConvTranspose2d(2, 1, 2)),
    ("std_conv2d", [(2, 4, 9, 11)], (8, 3), dict(stride=2, padding=1, groups=2, eps=1e-5),
     lambda t: _std_conv(t, 4, 8, 3, 1e-5, stride=2, padding=1, groups=2)),
    ("std_conv2d", [(1, 3, 12, 13)], (6, (3, 5)), dict(padding=(2, 2), dilation=(2, 1), bias=True),
     lambda t: _std_conv(t, 3, 6, (3, 5), 1e-6, padding=(2, 2), dilation=(2, 1), bias=True)),
    ("scaled_std_conv2d", [(2, 4, 9, 11)], (16, 3), dict(stride=2, padding=1, gamma=1.7, eps=1e-5),
     lambda t: _std_conv(t, 4, 16, 3, 1e-5, scaled=True, gamma=1.7, bias=True, stride=2, padding=1)),
    ("scaled_std_conv2d", [(2, 4, 6, 6)], (8, 1), dict(groups=2, bias=False),
     lambda t: _std_conv(t, 4, 8, 1, 1e-6, scaled=True, groups=2)),
    ("blur_pool2d", [(2, 5, 9, 11)], (), {}, lambda t: _blur_pool(3, 2)),
    ("blur_pool2d", [(2, 5, 9, 11)], (5,), {}, lambda t: _blur_pool(5, 2)),
    ("blur_pool2d", [(1, 3, 8, 7)], (), dict(filt_size=4, stride=3), lambda t: _blur_pool(4, 3)),
    ("blurpool2d", [(1, 3, 8, 7)], (), dict(stride=1, pad_mode="constant"), lambda t: _blur_pool(3, 1, "constant")),
    # pooling
    ("maxpool2d", [(2, 3, 7, 7)], (2,), {}, lambda t: t.nn.MaxPool2d(2)),
    ("maxpool2d", [(2, 3, 7, 7)], (2,), dict(ceil_mode=True), lambda t: t.nn.MaxPool2d(2, ceil_mode=True)),
    ("maxpool2d", [(1, 2, 11, 12)], (3,), dict(stride=2, padding=1, dilation=2, ceil_mode=True),
     lambda t: t.nn.MaxPool2d(3, 2, 1, dilation=2, ceil_mode=True)),
    ("maxpool1d", [(1, 2, 5)], (2,), dict(stride=2, padding=1, ceil_mode=True),  # last window dropped
     lambda t: t.nn.MaxPool1d(2, 2, 1, ceil_mode=True)),
    ("max_pool3d", [(1, 2, 5, 6, 7)], ((1, 2, 3),), dict(stride=(1, 2, 2), padding=(0, 1, 1)),
     lambda t: t.nn.MaxPool3d((1, 2, 3), (1, 2, 2), (0, 1, 1))),
    ("maxpool2d", [(1, 2, 7, 7)], (3,), dict(stride=2, padding="same"),
     lambda t: (lambda x: t.nn.functional.max_pool2d(
         t.nn.functional.pad(x, (1, 1, 1, 1), value=-math.inf), 3, 2))),
    ("avgpool1d", [(2, 3, 10)], (3,), dict(stride=3, padding=1, ceil_mode=True),
     lambda t: t.nn.AvgPool1d(3, 3, 1, ceil_mode=True)),
    ("avgpool2d", [(2, 3, 9, 8)], (3,), dict(stride=2, padding=1, ceil_mode=True, count_include_pad=False),
     lambda t: t.nn.AvgPool2d(3, 2, 1, ceil_mode=True, count_include_pad=False)),
    ("avgpool3d", [(1, 2, 4, 6, 6)], (2,), {}, lambda t: t.nn.AvgPool3d(2)),
    ("minpool1d", [(1, 2, 9)], (3,), dict(stride=2), lambda t: (lambda x: -t.nn.functional.max_pool1d(-x, 3, 2))),
    ("minpool2d", [(1, 2, 9, 8)], (3,), dict(stride=2, padding=1, dilation=2),
     lambda t: (lambda x: -t.nn.functional.max_pool2d(-x, 3, 2, 1, dilation=2))),
    ("minpool3d", [(1, 2, 4, 4, 4)], (2,), {}, lambda t: (lambda x: -t.nn.functional.max_pool3d(-x, 2))),
    ("sumpool1d", [(1, 2, 9)], (3,), {}, lambda t: (lambda x: t.nn.functional.avg_pool1d(x, 3) * 3)),
    ("sumpool2d", [(1, 2, 9, 9)], (2,), dict(ceil_mode=True),
     lambda t: (lambda x: t.nn.functional.avg_pool2d(x, 2, ceil_mode=True) * 4)),
    ("sumpool3d", [(1, 2, 4, 5, 6)], (2,), dict(padding=1),
     lambda t: (lambda x: t.nn.functional.avg_pool3d(x, 2, padding=1) * 8)),
    ("global_avgpool", [(2, 3, 5, 6)], (), {}, lambda t: (lambda x: x.mean((2, 3)))),
    ("global_avgpool", [(2, 3, 5, 6)], (), dict(keepdims=True), lambda t: t.nn.AdaptiveAvgPool2d(1)),
    ("global_maxpool", [(2, 3, 4, 5, 6)], (), {}, lambda t: (lambda x: x.amax((2, 3, 4)))),
    ("global_maxpool", [(2, 3, 7)], (), dict(keepdims=True), lambda t: t.nn.AdaptiveMaxPool1d(1)),
    ("adaptive_avgpool1d", [(2, 3, 10)], (4,), {}, lambda t: t.nn.AdaptiveAvgPool1d(4)),
    ("adaptive_avgpool2d", [(2, 3, 7, 8)], ((3, 2),), {}, lambda t: t.nn.AdaptiveAvgPool2d((3, 2))),
    ("adaptive_avgpool3d", [(1, 2, 4, 5, 6)], (2,), {}, lambda t: t.nn.AdaptiveAvgPool3d(2)),
    ("adaptive_maxpool1d", [(2, 3, 10)], (3,), {}, lambda t: t.nn.AdaptiveMaxPool1d(3)),
    ("adaptive_maxpool2d", [(2, 3, 7, 8)], (1,), {}, lambda t: t.nn.AdaptiveMaxPool2d(1)),
    ("adaptive_maxpool3d", [(1, 2, 4, 5, 6)], ((1, 2, 3),), {}, lambda t: t.nn.AdaptiveMaxPool3d((1, 2, 3))),
    # linear and shape
    ("linear", [(2, 20)], (10,), {}, lambda t: t.nn.Linear(20, 10)),
    ("dense", [(2, 5, 20)], (7,), dict(bias=False), lambda t: t.nn.Linear(20, 7, bias=False)),
    ("flatten", [(2, 3, 4, 5)], (), {}, lambda t: t.nn.Flatten()),
    ("flatten", [(2, 3, 4, 5)], (), dict(start_dim=2), lambda t: t.nn.Flatten(2)),
    ("flatten", [(2, 3, 4, 5)], (0, -2), {}, lambda t: t.nn.Flatten(0, -2)),
    ("reshape", [(2, 48)], ([3, 4, -1],), {}, lambda t: (lambda x: x.reshape(2, 3, 4, -1))),
    ("reshape", [(2, 3, 4, 4)], ([48],), {}, lambda t: (lambda x: x.reshape(2, 48))),
    ("view", [(2, 3, 4, 4)], ([-1, 2],), {}, lambda t: (lambda x: x.reshape(2, -1, 2))),
    ("identity", [(2, 3, 4)], (), {}, lambda t: t.nn.Identity()),
    ("linear", [(2, 6, 4, 5)], (3,), dict(axis=1),
     lambda t: (lambda m: (lambda x: m(x.movedim(1, -1)).movedim(-1, 1), m))(t.nn.Linear(6, 3))),
    ("reshape", [(2, 6, 4, 5)], ([2, 3, 20],), {}, lambda t: (lambda x: x.reshape(2, 2, 3, 20))),
    # tensor moves and cuts (issue 8)
    ("permute", [(2, 3, 4, 5)], ([0, 2, 3, 1],), {}, lambda t: (lambda x: x.permute(0, 2, 3, 1))),
    ("permute", [(2, 3, 4, 5)], ([0, -1, 1, 2],), {}, lambda t: (lambda x: x.permute(0, 3, 1, 2))),
    ("transpose", [(2, 2, 3, 4, 5)], (1, 2), {}, lambda t: (lambda x: x.transpose(1, 2))),
    ("slice", [(2, 8, 5, 5)], (((None, None, None), (2, 6, None)),), {}, lambda t: (lambda x: x[:, 2:6])),
    ("slice", [(2, 8, 9, 5)], (((None, None, None), 0, (1, -1, 2)),), {}, lambda t: (lambda x: x[:, 0, 1:-1:2])),
    ("chunk", [(2, 8, 5, 5)], (2,), {}, lambda t: (lambda x: x.chunk(2, 1)[0])),
    ("chunk", [(2, 3, 6, 5)], (3,), dict(axis=2), lambda t: (lambda x: x.chunk(3, 2)[0])),
    ("split", [(2, 8, 5)], ([3, 5],), {}, lambda t: (lambda x: x.split([3, 5], 1)[0])),
    # normalisation
    ("batchnorm1d", [(4, 3)], (), {}, lambda t: t.nn.BatchNorm1d(3)),
    ("batchnorm1d", [(4, 3, 5)], (), dict(affine=False), lambda t: t.nn.BatchNorm1d(3, affine=False)),
    ("batchnorm2d", [(2, 3, 4, 4)], (), dict(eps=1e-3, momentum=0.01),
     lambda t: t.nn.BatchNorm2d(3, 1e-3, 0.01)),
    ("frozen_batchnorm2d", [(2, 3, 4, 5)], (), dict(eps=1e-3), lambda t: _frozen_batchnorm(t, 3, 1e-3)),
    ("add", [(2, 3, 4, 5), (1, 3, 1, 1)], (), {}, lambda t: (lambda a, b: a + b)),
    ("add", [(2, 3, 4, 5), (1, 5)], (), {}, lambda t: (lambda a, b: a + b)),
    ("subtract", [(2, 3, 4, 5), (2, 3, 4, 5)], (), {}, lambda t: (lambda a, b: a - b)),
    ("sub", [(2, 1, 4, 5), (3, 1, 1)], (), {}, lambda t: (lambda a, b: a - b)),
    # reductions
    ("reduce_sum", [(2, 3, 4, 5)], (1,), {}, lambda t: (lambda x: x.sum(1))),
    ("reduce_mean", [(2, 3, 4, 5)], ([2, 3],), dict(keepdim=True), lambda t: (lambda x: x.mean((2, 3), keepdim=True))),
    ("reduce_max", [(2, 3, 4, 5)], ([-1, 1],), {}, lambda t: (lambda x: x.amax((1, 3)))),
    ("reduce_min", [(2, 6)], (-1,), dict(keepdim=True), lambda t: (lambda x: x.amin(-1, keepdim=True))),
    ("batch_norm3d", [(2, 3, 2, 3, 4)], (), dict(track_running_stats=False),
     lambda t: t.nn.BatchNorm3d(3, track_running_stats=False)),
    ("layernorm", [(2, 3, 4, 5)], (), dict(axes=2), lambda t: t.nn.LayerNorm((4, 5))),
    ("layernorm", [(2, 10)], (), {}, lambda t: t.nn.LayerNorm(10)),
    ("layernorm", [(2, 4, 5, 6)], (), dict(axis=-1, eps=1e-6), lambda t: t.nn.LayerNorm(6, eps=1e-6)),
    ("layernorm", [(2, 4, 5, 6)], (), dict(axis=1, eps=1e-6),  # ConvNeXt's LayerNorm2d
     lambda t: (lambda m: (lambda x: m(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2), m))(t.nn.LayerNorm(4, eps=1e-6))),
    ("layernorm", [(2, 3, 4, 5)], (3,), dict(affine=False),
     lambda t: t.nn.LayerNorm((3, 4, 5), elementwise_affine=False)),
    ("grn", [(2, 6, 4, 5)], (), {}, lambda t: _grn(t, 6, 1e-6)),  # ConvNeXt V2 (conv_mlp)
    ("global_response_norm", [(2, 4, 5, 6)], (), dict(eps=1e-3, channels_last=True), lambda t: _grn(t, 6, 1e-3, True)),
    ("groupnorm", [(2, 6, 4, 4)], (3,), {}, lambda t: t.nn.GroupNorm(3, 6)),
    ("groupnorm", [(2, 6, 5)], (2,), dict(affine=False), lambda t: t.nn.GroupNorm(2, 6, affine=False)),
    ("instancenorm1d", [(2, 3, 8)], (), {}, lambda t: t.nn.InstanceNorm1d(3)),
    ("instancenorm2d", [(2, 3, 4, 4)], (), dict(affine=True, track_running_stats=True),
     lambda t: t.nn.InstanceNorm2d(3, affine=True, track_running_stats=True)),
    ("instancenorm3d", [(2, 3, 2, 3, 4)], (), dict(affine=True), lambda t: t.nn.InstanceNorm3d(3, affine=True)),
    # activations
    ("relu", [(2, 3, 4, 4)], (), {}, lambda t: t.nn.ReLU()),
    ("relu6", [(2, 3)], (), {}, lambda t: t.nn.ReLU6()),
    ("leaky_relu", [(2, 3, 5)], (0.2,), {}, lambda t: t.nn.LeakyReLU(0.2)),
    ("elu", [(2, 3, 5)], (), dict(alpha=0.5), lambda t: t.nn.ELU(0.5)),
    ("selu", [(2, 3, 5)], (), {}, lambda t: t.nn.SELU()),
    ("gelu", [(2, 3, 5)], (), {}, lambda t: t.nn.GELU()),
    ("gelu", [(2, 3, 5)], ("tanh",), {}, lambda t: t.nn.GELU("tanh")),
    ("silu", [(2, 3, 5)], (), {}, lambda t: t.nn.SiLU()),
    ("swish", [(2, 3, 5)], (), {}, lambda t: t.nn.SiLU()),
    ("mish", [(2, 3, 5)], (), {}, lambda t: t.nn.Mish()),
    ("sigmoid", [(2, 3, 5)], (), {}, lambda t: t.nn.Sigmoid()),
    ("absolute", [(2, 3, 5)], (), {}, lambda t: (lambda x: x.abs())),
    ("hardsigmoid", [(2, 3, 5)], (), {}, lambda t: t.nn.Hardsigmoid()),
    ("tanh", [(2, 3, 5)], (), {}, lambda t: t.nn.Tanh()),
    ("hardtanh", [(2, 3, 5)], (-2, 2), {}, lambda t: t.nn.Hardtanh(-2, 2)),
    ("hardswish", [(2, 3, 5)], (), {}, lambda t: t.nn.Hardswish()),
    ("softplus", [(2, 3, 5)], (2, 10), {}, lambda t: t.nn.Softplus(2, 10)),
    ("softmax", [(2, 10)], (), {}, lambda t: t.nn.Softmax(1)),
    ("log_softmax", [(2, 3, 5)], (-1,), {}, lambda t: t.nn.LogSoftmax(-1)),
    ("prelu", [(2, 3, 5, 5)], (), {}, lambda t: t.nn.PReLU()),
    ("prelu", [(2, 3, 5, 5)], (), dict(per_channel=True), lambda t: t.nn.PReLU(3)),
    # regularization
    ("dropout", [(2, 3, 5)], (0.3,), {}, lambda t: t.nn.Dropout(0.3)),
    ("dropout1d", [(2, 3, 5)], (), {}, lambda t: t.nn.Dropout1d()),
    ("dropout2d", [(2, 3, 5, 5)], (0.1,), {}, lambda t: t.nn.Dropout2d(0.1)),
    ("dropout3d", [(2, 3, 2, 5, 5)], (), {}, lambda t: t.nn.Dropout3d()),
    ("alpha_dropout", [(2, 8)], (0.2,), {}, lambda t: t.nn.AlphaDropout(0.2)),
    ("stochastic_depth", [(2, 8, 4, 4)], (0.2,), {}, lambda t: (lambda x: x)),  # the identity in eval
    # resampling
    ("upsample", [(2, 3, 4, 5)], (), {}, lambda t: t.nn.Upsample(scale_factor=2)),
    ("upsample", [(2, 3, 4, 5)], ((2, 3),), dict(mode="bilinear", align_corners=True),
     lambda t: t.nn.Upsample(scale_factor=(2, 3), mode="bilinear", align_corners=True)),
    ("upsample", [(2, 3, 4, 5)], (3,), dict(mode="bicubic"),
     lambda t: t.nn.Upsample(scale_factor=3, mode="bicubic")),
    ("upsample", [(2, 3, 6)], (), dict(mode="linear"), lambda t: t.nn.Upsample(scale_factor=2, mode="linear")),
    ("upsample", [(1, 2, 2, 3, 4)], (2,), dict(mode="trilinear"),
     lambda t: t.nn.Upsample(scale_factor=2, mode="trilinear")),
    ("upsample", [(1, 2, 2, 3, 4)], ((1, 2, 2),), {}, lambda t: t.nn.Upsample(scale_factor=(1, 2, 2))),
    ("resize_like", [(2, 3, 4, 5), (1, 1, 9, 7)], (), dict(mode="bilinear"),
     lambda t: (lambda x, r: t.nn.functional.interpolate(x, size=r.shape[2:], mode="bilinear"))),
    ("zeropad1d", [(2, 3, 5)], (2,), {}, lambda t: t.nn.ZeroPad1d(2)),
    ("zeropad2d", [(2, 3, 5, 6)], (((1, 2), (3, 0)),), {}, lambda t: t.nn.ZeroPad2d((3, 0, 1, 2))),
    ("zeropad3d", [(1, 2, 2, 3, 4)], ((1, 0, 2),), {}, lambda t: t.nn.ZeroPad3d((2, 2, 0, 0, 1, 1))),
    ("reflectionpad1d", [(2, 3, 5)], (((1, 4),),), {}, lambda t: t.nn.ReflectionPad1d((1, 4))),
    ("reflection_pad2d", [(2, 3, 5, 6)], (((1, 2), (3, 0)),), {}, lambda t: t.nn.ReflectionPad2d((3, 0, 1, 2))),
    ("reflectionpad3d", [(1, 2, 2, 3, 4)], ((1, 0, 2),), {}, lambda t: t.nn.ReflectionPad3d((2, 2, 0, 0, 1, 1))),
    ("replicationpad1d", [(2, 3, 5)], (7,), {}, lambda t: t.nn.ReplicationPad1d(7)),
    ("replicationpad2d", [(2, 3, 5, 6)], (((1, 2), (3, 0)),), {}, lambda t: t.nn.ReplicationPad2d((3, 0, 1, 2))),
    ("replication_pad3d", [(1, 2, 2, 3, 4)], ((1, 0, 2),), {}, lambda t: t.nn.ReplicationPad3d((2, 2, 0, 0, 1, 1))),
    ("crop", [(2, 3, 10, 9), (2, 5, 6, 6)], (), {}, lambda t: (lambda x, r: _crop(x, r.shape))),
    ("crop", [(1, 4, 7), (1, 1, 7)], (), {}, lambda t: (lambda x, r: _crop(x, r.shape))),
    ("scale", [(2, 3, 4, 4)], (1 / 255,), {}, lambda t: (lambda x: x * (1 / 255))),
    ("scale", [(2, 3)], (2.0,), dict(offset=-1.0), lambda t: (lambda x: x * 2.0 - 1.0)),
    # merges
    ("add", [(2, 3, 4, 4)] * 3, (), {}, lambda t: (lambda *xs: sum(xs))),
    ("multiply", [(2, 8, 1, 1), (2, 8, 5, 5)], (), {}, lambda t: (lambda a, b: a * b)),
    ("mul", [(2, 8, 5, 5), (8, 1, 1)], (), {}, lambda t: (lambda a, b: a * b)),
    ("concat", [(2, 3, 4, 4), (2, 5, 4, 4), (2, 1, 4, 4)], (), {}, lambda t: (lambda *xs: t.cat(xs, 1))),
    ("cat", [(2, 3, 4, 4), (2, 3, 4, 2)], (), dict(axis=-1), lambda t: (lambda *xs: t.cat(xs, -1))),
]
