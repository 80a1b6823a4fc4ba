"""archc.from_torch on models written here with torch only: each imports to a spec of blocks
that archc loads, whose built module takes the original's state_dict (strict) and gives equal
outputs."""
from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
nn = torch.nn
F = torch.nn.functional

from importer_support import round_trip  # noqa: E402


class Basic(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int = 1):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.down = None
        if stride != 1 or cin != cout:
            self.down = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        s = x if self.down is None else self.down(x)
        return F.relu(y + s)


class ResidualNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1, bias=False), nn.BatchNorm2d(8), nn.ReLU())
        self.stage1 = nn.Sequential(Basic(8, 8), Basic(8, 8), Basic(8, 8))
        self.stage2 = nn.Sequential(Basic(8, 16, 2), Basic(16, 16))
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(16, 5)

    def forward(self, x):
        x = self.stage2(self.stage1(self.stem(x)))
        return self.fc(torch.flatten(self.pool(x), 1))


def test_residual_network_becomes_one_block_and_repeats():
    text, model = round_trip(ResidualNet(), (1, 3, 16, 16), check_shapes=[(2, 3, 20, 12)])
    assert text.count("block Basic") == 1  # five instances, one definition
    assert "repeat(3, Basic(" in text and "repeat(2, Basic(" in text
    assert "input x: [N, 3, H, W]" in text  # symbolic: any size works
    assert model.state_dict_shapes()["stage2.0.down.0.weight"] == (16, 8, 1, 1)


class DenseLayer(nn.Module):
    def __init__(self, cin: int, growth: int):
        super().__init__()
        self.norm = nn.BatchNorm2d(cin)
        self.conv = nn.Conv2d(cin, growth, 3, padding=1, bias=False)

    def forward(self, features):
        return self.conv(F.relu(self.norm(torch.cat(features, 1))))  # a list of tensors in


class DenseNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = nn.ModuleList(DenseLayer(4 + 3 * k, 3) for k in range(3))
        self.head = nn.Conv2d(13, 2, 1)

    def forward(self, x):
        features = [x]
        for layer in self.layers:
            features.append(layer(features))
        return self.head(torch.cat(features, 1))


def test_dense_connections_with_list_inputs():
    text, _ = round_trip(DenseNet(), (1, 4, 8, 8))
    # a module taking a list it concatenates: one block whose input its caller concatenates
    assert text.count("block DenseLayer") == 1 and 'DenseLayer(name="layers.2")' in text


class Inception(nn.Module):
    def __init__(self, cin: int):
        super().__init__()
        self.b1 = nn.Conv2d(cin, 4, 1)
        self.b3 = nn.Sequential(nn.Conv2d(cin, 2, 1), nn.ReLU(), nn.Conv2d(2, 4, 3, padding=1))
        self.b5 = nn.Sequential(nn.Conv2d(cin, 2, 1), nn.ReLU(), nn.Conv2d(2, 4, 5, padding=2))
        self.pool = nn.Sequential(nn.MaxPool2d(3, 1, 1), nn.Conv2d(cin, 4, 1))

    def forward(self, x):
        return torch.cat([self.b1(x), self.b3(x), self.b5(x), self.pool(x)], 1)


class InceptionNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = Inception(3)
        self.b = Inception(16)
        self.pool = nn.MaxPool2d(2, ceil_mode=True)

    def forward(self, x):
        return self.b(self.pool(self.a(x)))


def test_inception_branches_concatenated():
    text, _ = round_trip(InceptionNet(), (1, 3, 15, 15), check_shapes=[(2, 3, 9, 11)])
    assert text.count("block Inception") == 1 and "concat(" in text


class SqueezeExcite(nn.Module):
    def __init__(self, c: int, r: int):
        super().__init__()
        self.fc1 = nn.Conv2d(c, r, 1)
        self.fc2 = nn.Conv2d(r, c, 1)

    def forward(self, x):
        s = F.adaptive_avg_pool2d(x, 1)
        return x * torch.sigmoid(self.fc2(F.relu(self.fc1(s))))


class DepthwiseSE(nn.Module):
    def __init__(self, c: int, stride: int):
        super().__init__()
        self.dw = nn.Conv2d(c, c, 3, stride, 1, groups=c, bias=False)
        self.bn = nn.BatchNorm2d(c, eps=1e-3, momentum=0.01)
        self.act = nn.Hardswish()
        self.se = SqueezeExcite(c, max(1, c // 4))
        self.pw = nn.Conv2d(c, 2 * c, 1)

    def forward(self, x):
        return self.pw(self.se(self.act(self.bn(self.dw(x)))))


def test_depthwise_and_squeeze_excitation():
    model = nn.Sequential(DepthwiseSE(4, 2), DepthwiseSE(8, 1), nn.Flatten(), nn.Dropout(0.2))
    text, _ = round_trip(model, (1, 4, 8, 8))
    assert "groups=" in text and "sigmoid" in text and "eps=0.001" in text


class UNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.enc1 = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU())
        self.enc2 = nn.Sequential(nn.Conv2d(4, 8, 3, padding=1), nn.ReLU())
        self.bottom = nn.Sequential(nn.Conv2d(8, 8, 3, padding=1), nn.ReLU())
        self.up2 = nn.ConvTranspose2d(8, 8, 2, stride=2)
        self.dec2 = nn.Sequential(nn.Conv2d(16, 4, 3, padding=1), nn.ReLU())
        self.up1 = nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False)
        self.dec1 = nn.Conv2d(8, 2, 1)

    def forward(self, x):
        e1 = self.enc1(x)
        e2 = self.enc2(F.max_pool2d(e1, 2))
        b = self.bottom(F.max_pool2d(e2, 2))
        d2 = self.dec2(torch.cat([self.up2(b), e2], dim=1))
        return self.dec1(torch.cat([self.up1(d2), e1], dim=1))


def test_unet_with_concatenations_and_its_constraints():
    text, model = round_trip(UNet(), (1, 1, 16, 16), check_shapes=[(2, 1, 24, 8)])
    assert "H % 4 == 0" in model.constraints and "# any N, H, W with" in text


class TwoInOut(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = nn.Linear(6, 4)
        self.b = nn.Linear(3, 4)
        self.head = nn.Linear(4, 2)

    def forward(self, left, right):
        h = torch.tanh(self.a(left) + self.b(right))
        return self.head(h), h


def test_two_inputs_and_two_outputs():
    text, model = round_trip(TwoInOut(), (2, 6), (2, 3))
    assert "input left: [N, 6]" in text and "input right: [N, 3]" in text
    assert list(model.output_shapes) == ["y0", "y1"]


class Siamese(nn.Module):
    def __init__(self):
        super().__init__()
        self.tower = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.act = nn.ReLU()
        self.fc = nn.Linear(4, 1)

    def forward(self, a, b):
        return self.fc(torch.abs(self.act(self.tower(a)) - self.act(self.tower(b))))


def test_shared_modules():
    text, model = round_trip(Siamese(), (1, 3, 8, 8), (1, 3, 8, 8))
    assert "tower = shared(sequential(" in text
    assert sum(1 for k in model.state_dict_shapes() if k.startswith("tower.")) == 2


def test_yaml_output_loads_as_the_same_model():
    import archc
    module = ResidualNet().eval()
    x = torch.randn(1, 3, 16, 16)
    arch = archc.loads(archc.from_torch(module, [x]))
    yaml = archc.loads(archc.from_torch(module, [x], lang="yaml"), "yaml")
    assert arch.state_dict_shapes() == yaml.state_dict_shapes() and arch.params == yaml.params


class WithAuxiliary(nn.Module):
    """An auxiliary classifier run only in training, as torchvision's Inception-v3: a training
    output of the spec."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 4, 3, padding=1)
        self.aux = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 2))
        self.head = nn.Sequential(nn.Conv2d(4, 4, 3, stride=2), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                                  nn.Linear(4, 2))

    def forward(self, x):
        x = torch.relu(self.stem(x))
        aux = self.aux(x) if self.training else None
        y = self.head(x)
        return (y, aux) if self.training else y


def test_auxiliary_classifier_becomes_a_training_output():
    text, model = round_trip(WithAuxiliary(), (1, 3, 8, 8))
    assert "training output y1 = " in text and "output y0 = " in text
    assert model.graph.training_outputs and "aux.2.weight" in model.state_dict_shapes()


def test_torchvision_resnet_where_torchvision_is_installed():
    """Where a torchvision that works with the pinned torch is installed (not in CI): ResNet-18
    imports as one block and four repeats, equal outputs (ResNet-50 too: docs/import.md)."""
    models = pytest.importorskip("torchvision.models")
    text, _ = round_trip(models.resnet18(num_classes=10), (1, 3, 32, 32))
    assert text.count("block BasicBlock") == 1 and text.count("repeat(2, BasicBlock(") == 4


class Ignoring(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(4, 4, 1)

    def forward(self, x, skip):  # `skip` unused here, as timm DLA's shortcut at the last level
        return self.conv(x)


class Host(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 4, 1)
        self.block = Ignoring()

    def forward(self, x):
        y = self.stem(x)
        return self.block(y, y * 2)


def test_an_argument_forward_ignores_is_left_out_of_the_block():
    text, _ = round_trip(Host(), (1, 3, 4, 4))
    assert "block Ignoring()(x) {" in text and '-> Ignoring(name="block")' in text  # a keyword: quoted
