"""Each entry of the importer's table (archc/importer/table.py) imported and compared: a module
class or a function/method in a tiny model, whose spec archc builds into a module that takes the
state_dict (strict) and gives equal outputs. A test fails when an entry is added without a case."""
from __future__ import annotations

import operator

import pytest

torch = pytest.importorskip("torch")
nn = torch.nn
F = torch.nn.functional

import archc  # noqa: E402
from archc.importer import table  # noqa: E402
from archc.importer.api import import_module  # noqa: E402

from importer_support import randomised  # noqa: E402

R1, R2, R3 = (1, 3, 10), (1, 3, 10, 10), (1, 3, 6, 6, 6)

# class name -> (the module, the example input's shape)
MODULE_CASES = {
    "Conv1d": (lambda: nn.Conv1d(3, 4, 3, stride=2, padding=1), R1),
    "Conv2d": (lambda: nn.Conv2d(3, 6, (3, 1), stride=2, padding=(1, 0), groups=3, bias=False), R2),
    "Conv3d": (lambda: nn.Conv3d(3, 4, 3, padding=1, dilation=1), R3),
    "ConvTranspose1d": (lambda: nn.ConvTranspose1d(3, 4, 3, stride=2, padding=1, output_padding=1), R1),
    "ConvTranspose2d": (lambda: nn.ConvTranspose2d(3, 4, 2, stride=2), R2),
    "ConvTranspose3d": (lambda: nn.ConvTranspose3d(3, 4, 3, padding=1), R3),
    "BatchNorm1d": (lambda: nn.BatchNorm1d(3), R1),
    "BatchNorm2d": (lambda: nn.BatchNorm2d(3, eps=1e-3, momentum=0.01), R2),
    "BatchNorm3d": (lambda: nn.BatchNorm3d(3), R3),
    "InstanceNorm1d": (lambda: nn.InstanceNorm1d(3, affine=True), R1),
    "InstanceNorm2d": (lambda: nn.InstanceNorm2d(3), R2),
    "InstanceNorm3d": (lambda: nn.InstanceNorm3d(3, affine=True), R3),
    "LayerNorm": (lambda: nn.LayerNorm(10, eps=1e-6), R1),
    "GroupNorm": (lambda: nn.GroupNorm(3, 3), R2),
    "Linear": (lambda: nn.Linear(10, 5), R1),
    "Identity": (lambda: nn.Identity(), R2),
    "Flatten": (lambda: nn.Flatten(2), R2),
    "MaxPool1d": (lambda: nn.MaxPool1d(2), R1),
    "MaxPool2d": (lambda: nn.MaxPool2d(3, 2, 1, ceil_mode=True), R2),
    "MaxPool3d": (lambda: nn.MaxPool3d(2), R3),
    "AvgPool1d": (lambda: nn.AvgPool1d(3, 2, 1), R1),
    "AvgPool2d": (lambda: nn.AvgPool2d(3, 2, 1, count_include_pad=False), R2),
    "AvgPool3d": (lambda: nn.AvgPool3d(2), R3),
    "AdaptiveAvgPool1d": (lambda: nn.AdaptiveAvgPool1d(3), R1),
    "AdaptiveAvgPool2d": (lambda: nn.AdaptiveAvgPool2d((2, 3)), R2),
    "AdaptiveAvgPool3d": (lambda: nn.AdaptiveAvgPool3d(1), R3),
    "AdaptiveMaxPool1d": (lambda: nn.AdaptiveMaxPool1d(3), R1),
    "AdaptiveMaxPool2d": (lambda: nn.AdaptiveMaxPool2d(2), R2),
    "AdaptiveMaxPool3d": (lambda: nn.AdaptiveMaxPool3d(2), R3),
    "ReLU": (lambda: nn.ReLU(inplace=True), R2),
    "ReLU6": (lambda: nn.ReLU6(), R2),
    "LeakyReLU": (lambda: nn.LeakyReLU(0.2), R2),
    "ELU": (lambda: nn.ELU(0.5), R2),
    "SELU": (lambda: nn.SELU(), R2),
    "GELU": (lambda: nn.GELU("tanh"), R2),
    "SiLU": (lambda: nn.SiLU(), R2),
    "Mish": (lambda: nn.Mish(), R2),
    "Sigmoid": (lambda: nn.Sigmoid(), R2),
    "Hardsigmoid": (lambda: nn.Hardsigmoid(), R2),
    "Tanh": (lambda: nn.Tanh(), R2),
    "Hardtanh": (lambda: nn.Hardtanh(-2.0, 2.0), R2),
    "Hardswish": (lambda: nn.Hardswish(), R2),
    "Softplus": (lambda: nn.Softplus(2.0, 10.0), R2),
    "Softmax": (lambda: nn.Softmax(1), R2),
    "LogSoftmax": (lambda: nn.LogSoftmax(-1), R2),
    "PReLU": (lambda: nn.PReLU(3), R2),
    "Dropout": (lambda: nn.Dropout(0.3), R2),
    "Dropout1d": (lambda: nn.Dropout1d(0.3), R1),
    "Dropout2d": (lambda: nn.Dropout2d(0.3), R2),
    "Dropout3d": (lambda: nn.Dropout3d(0.3), R3),
    "AlphaDropout": (lambda: nn.AlphaDropout(0.3), R2),
    "Upsample": (lambda: nn.Upsample(scale_factor=2, mode="bilinear", align_corners=True), R2),
    "ZeroPad1d": (lambda: nn.ZeroPad1d((1, 2)), R1),
    "ZeroPad2d": (lambda: nn.ZeroPad2d((1, 2, 0, 1)), R2),
    "ZeroPad3d": (lambda: nn.ZeroPad3d(1), R3),
    "ConstantPad1d": (lambda: nn.ConstantPad1d(2, 0.0), R1),
    "ConstantPad2d": (lambda: nn.ConstantPad2d((1, 1, 2, 2), 0.0), R2),
    "ConstantPad3d": (lambda: nn.ConstantPad3d(1, 0.0), R3),
    "ReflectionPad1d": (lambda: nn.ReflectionPad1d(2), R1),
    "ReflectionPad2d": (lambda: nn.ReflectionPad2d((1, 2, 2, 1)), R2),
    "ReflectionPad3d": (lambda: nn.ReflectionPad3d(1), R3),
    "ReplicationPad1d": (lambda: nn.ReplicationPad1d(2), R1),
    "ReplicationPad2d": (lambda: nn.ReplicationPad2d(1), R2),
    "ReplicationPad3d": (lambda: nn.ReplicationPad3d(1), R3),
}


def _torchvision(factory_name: str):
    def make():
        tv = pytest.importorskip("torchvision")
        ops = tv.ops
        return {"StochasticDepth": lambda: ops.StochasticDepth(0.2, "row"),
                "Permute": lambda: ops.misc.Permute([0, 2, 3, 1]),
                "FrozenBatchNorm2d": lambda: ops.misc.FrozenBatchNorm2d(3, eps=1e-3),
                "LayerNorm2d": lambda: tv.models.convnext.LayerNorm2d(3, eps=1e-6)}[factory_name]()
    return make


OPTIONAL_CASES = {  # torchvision's and timm's classes, where they are installed
    "torchvision.ops.stochastic_depth.StochasticDepth": (_torchvision("StochasticDepth"), R2),
    "torchvision.ops.misc.Permute": (_torchvision("Permute"), R2),
    "torchvision.ops.misc.FrozenBatchNorm2d": (_torchvision("FrozenBatchNorm2d"), R2),
    "torchvision.models.convnext.LayerNorm2d": (_torchvision("LayerNorm2d"), R2),
    "timm.layers.norm.LayerNorm2d": (lambda: pytest.importorskip("timm").layers.LayerNorm2d(3), R2),
    "timm.layers.norm_act.BatchNormAct2d": (lambda: pytest.importorskip("timm").layers.BatchNormAct2d(
        3, act_layer=nn.SiLU, drop_layer=nn.Dropout), R2),
    "timm.layers.linear.Linear": (lambda: pytest.importorskip("timm").layers.Linear(10, 4), R1),
    "timm.layers.std_conv.StdConv2d": (lambda: pytest.importorskip("timm.layers.std_conv").StdConv2d(
        3, 4, 3, padding=1, eps=1e-8), R2),
    "timm.layers.std_conv.ScaledStdConv2d": (lambda: pytest.importorskip("timm.layers.std_conv").ScaledStdConv2d(
        3, 4, 3, stride=2, gamma=1.7139588594436646), R2),
    "timm.layers.grn.GlobalResponseNorm": (lambda: pytest.importorskip("timm.layers.grn").GlobalResponseNorm(10), R2),  # channels last: the last axis
}


def _check(module: nn.Module, shape: tuple) -> str:
    module = randomised(module)
    x = torch.randn(*shape, generator=torch.Generator().manual_seed(1))
    text = import_module(module, [x], check=False).text
    built = archc.loads(text).to_torch()
    built.load_state_dict(module.state_dict(), strict=True)
    built.eval()
    with torch.no_grad():
        assert torch.equal(module(x), built(x)), text
    return text


def test_every_module_entry_has_a_case():
    named = {key.rsplit(".", 1)[1] for key in table.MODULES if key.startswith("torch.")}
    assert named == set(MODULE_CASES)
    assert {key for key in table.MODULES if not key.startswith("torch.")} == set(OPTIONAL_CASES)


@pytest.mark.parametrize("name", sorted(MODULE_CASES))
def test_module_entry(name: str):
    make, shape = MODULE_CASES[name]
    module = make()
    assert table.module_entry(module) is not None
    _check(nn.Sequential(module), shape)  # a named child: its state_dict keys are 0.weight, ...


@pytest.mark.parametrize("name", sorted(OPTIONAL_CASES))
def test_optional_module_entry(name: str):
    make, shape = OPTIONAL_CASES[name]
    module = make()
    assert table.class_name(module) == name
    _check(nn.Sequential(module), shape)


class Fn(nn.Module):
    """A conv (so that the function sees a computed tensor) then the function under test."""

    def __init__(self, fn, channels: int = 3):
        super().__init__()
        self.conv = nn.Conv2d(3, channels, 1)
        self.fn = fn

    def forward(self, x):
        return self.fn(self.conv(x))


def _pieces(x):
    a, b = torch.chunk(x, 2, dim=1)
    return a * b


# (name, function of the conv's output, the conv's channels). Each covers one table entry; some
# cover a method and a function at once.
FUNCTION_CASES = [
    ("add", lambda x: x + x.relu(), 3), ("iadd", lambda x: operator.iadd(x * 2, x), 3),
    ("torch.add", lambda x: torch.add(x, 1.5), 3), ("sub", lambda x: x - torch.sigmoid(x), 3),
    ("torch.sub", lambda x: torch.sub(x, x * 2), 3), ("mul", lambda x: x * torch.sigmoid(x), 3),
    ("torch.mul", lambda x: torch.mul(x, 0.5), 3), ("truediv", lambda x: x / 4, 3),
    ("cat", lambda x: torch.cat([x, x * 2], 1), 3), ("concat", lambda x: torch.concat([x, x], dim=1), 3),
    ("flatten", lambda x: torch.flatten(x, 1), 3), ("Tensor.flatten", lambda x: x.flatten(2), 3),
    ("relu", lambda x: F.relu(x, inplace=True), 3), ("torch.relu", lambda x: torch.relu(x), 3),
    ("relu6", lambda x: F.relu6(x), 3), ("silu", lambda x: F.silu(x), 3), ("mish", lambda x: F.mish(x), 3),
    ("sigmoid", lambda x: x.sigmoid(), 3), ("hardsigmoid", lambda x: F.hardsigmoid(x), 3),
    ("hardswish", lambda x: F.hardswish(x), 3), ("tanh", lambda x: torch.tanh(x) + x.tanh(), 3),
    ("gelu", lambda x: F.gelu(x, approximate="tanh"), 3), ("leaky_relu", lambda x: F.leaky_relu(x, 0.2), 3),
    ("elu", lambda x: F.elu(x), 3), ("selu", lambda x: F.selu(x), 3),
    ("hardtanh", lambda x: F.hardtanh(x, -0.5, 0.5), 3), ("clamp", lambda x: torch.clamp(x, 0, 6), 3),
    ("clamp_min", lambda x: x.clamp_min(0), 3), ("softmax", lambda x: F.softmax(x, dim=1) + x.softmax(-1), 3),
    ("log_softmax", lambda x: F.log_softmax(x, 1), 3), ("abs", lambda x: torch.abs(x) + x.abs(), 3),
    ("adaptive_avg_pool2d", lambda x: F.adaptive_avg_pool2d(x, 1), 3),
    ("adaptive_max_pool2d", lambda x: F.adaptive_max_pool2d(x, 2), 3),
    ("max_pool2d", lambda x: F.max_pool2d(x, 3, 2, 1), 3), ("avg_pool2d", lambda x: F.avg_pool2d(x, 2), 3),
    ("dropout", lambda x: F.dropout(x, 0.2, training=False) + F.dropout2d(x, 0.1, training=False), 3),
    ("mean", lambda x: x.mean((2, 3), keepdim=True) * x, 3), ("torch.mean", lambda x: torch.mean(x, 1), 3),
    ("sum", lambda x: x.sum(dim=1) + torch.sum(x, 1), 3), ("amax", lambda x: torch.amax(x, 1), 3),
    ("amin", lambda x: x.amin(2), 3),
    ("view", lambda x: x.view(x.size(0), -1), 3), ("reshape", lambda x: x.reshape(x.shape[0], 3, -1), 3),
    ("transpose", lambda x: x.transpose(2, 3).contiguous(), 3), ("permute", lambda x: x.permute(0, 2, 3, 1), 3),
    ("chunk", _pieces, 4), ("split", lambda x: torch.split(x, [1, 3], dim=1)[1], 4),
    ("interpolate", lambda x: F.interpolate(x, scale_factor=2, mode="nearest"), 3),
    ("pad", lambda x: F.pad(x, (1, 1, 2, 0)), 3), ("getitem", lambda x: x[:, 1:, ::2], 3),
    ("unsqueeze", lambda x: torch.cat([torch.unsqueeze(x[:, 2], 1) * 0.5 + 0.1, x.unsqueeze(2).flatten(2, 3)], 1), 3),
]


@pytest.mark.parametrize("name,fn,channels", FUNCTION_CASES, ids=[c[0] for c in FUNCTION_CASES])
def test_function_entry(name, fn, channels):
    _check(Fn(fn, channels), R2)


def test_resize_like_from_another_tensors_size():
    class Up(nn.Module):
        def __init__(self):
            super().__init__()
            self.down = nn.Conv2d(3, 3, 3, stride=2)

        def forward(self, x):
            return F.interpolate(self.down(x), size=x.shape[-2:], mode="bilinear", align_corners=False) + x
    assert "resize_like(" in _check(Up(), (1, 3, 11, 9))
