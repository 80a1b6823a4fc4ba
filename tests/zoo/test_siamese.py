"""specs/siamese_koch.arch, Koch, Zemel and Salakhutdinov (2015)'s siamese network, against a
PyTorch reference written here from the paper (fig. 4): one tower module called on both images.
The spec's `shared` tower must be exactly that: parameters counted once (38,951,745: the paper's
layer sizes), one copy in the state_dict, which the reference's loads with strict=True, and equal
outputs."""
from pathlib import Path

import pytest

import archc

torch = pytest.importorskip("torch")
SPEC = Path(__file__).resolve().parents[2] / "specs" / "siamese_koch.arch"


def reference():
    nn = torch.nn

    class Tower(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1, self.conv2 = nn.Conv2d(1, 64, 10), nn.Conv2d(64, 128, 7)
            self.conv3, self.conv4 = nn.Conv2d(128, 128, 4), nn.Conv2d(128, 256, 4)
            self.fc = nn.Linear(256 * 6 * 6, 4096)

        def forward(self, x):
            for conv in (self.conv1, self.conv2, self.conv3):
                x = torch.max_pool2d(torch.relu(conv(x)), 2)
            return torch.sigmoid(self.fc(torch.relu(self.conv4(x)).flatten(1)))

    class Siamese(nn.Module):
        def __init__(self):
            super().__init__()
            self.tower = Tower()
            self.out = nn.Linear(4096, 1)

        def forward(self, left, right):
            return torch.sigmoid(self.out((self.tower(left) - self.tower(right)).abs()))

    return Siamese()


def test_the_tower_is_shared_exactly():
    model = archc.load(SPEC)
    theirs = reference().eval()
    assert model.params == sum(p.numel() for p in theirs.parameters()) == 38_951_745
    assert dict(model.state_dict_shapes()) == {k: tuple(v.shape) for k, v in theirs.state_dict().items()}
    ours = archc.build(model).eval()
    ours.load_state_dict(theirs.state_dict(), strict=True)
    left, right = torch.randn(2, 1, 105, 105), torch.randn(2, 1, 105, 105)
    with torch.no_grad():
        assert torch.equal(ours(left, right), theirs(left, right))
    # MACs: the tower runs twice
    tower = sum(m.macs for k, m in model.metrics.layers.items() if k.startswith("tower."))
    assert sum(m.macs for k, m in model.metrics.layers.items() if k.startswith("tower@2.")) == tower
