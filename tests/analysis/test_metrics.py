"""The analyses over the finished graph: MACs of symbolic sizes shown by their leading term and
evaluated exactly at given sizes (`--at`), and the receptive field's jump."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import archc
from archc import symbolic as sy
from archc.backends.report import rows
from spec_helpers import load
from archc.errors import SpecError

ROOT = Path(__file__).resolve().parents[2]
SPECS = ROOT / "specs"
RESNET_BLOCKS = SPECS / "torchvision" / "blocks" / "resnet.arch"


def cli(*args, cwd=ROOT):
    return subprocess.run([sys.executable, "-m", "archc.cli", *map(str, args)], capture_output=True,
                          text=True, cwd=cwd)


def by_id(model, depth=None, at=None):
    return {r.id: r for r in rows(model, depth, at)}


@pytest.fixture(scope="module")
def resnet_hw(tmp_path_factory):
    """ResNet-50 with symbolic H and W."""
    path = tmp_path_factory.mktemp("hw") / "resnet50_hw.arch"
    # imports stay inside the spec's folder tree: the blocks go next to it
    (path.parent / "resnet.arch").write_text(RESNET_BLOCKS.read_text())
    path.write_text('model ResNet50HW\nimport "resnet.arch"\ninput x: [N, 3, H, W]\n'
                    "output logits = x -> ResNet([3, 4, 6, 3], Bottleneck, num_classes=1000, inline=true)\n")
    return path


# ----------------------------------------------------------------------------- symbolic MACs

def test_leading_terms_relax_floors_and_keep_the_highest_degree():
    H, W = sy.sym("H"), sy.sym("W")
    conv1 = 9408 * sy.floordiv(H + 1, 2) * sy.floordiv(W + 1, 2)
    assert sy.leading_terms(conv1) == [(2352.0, (("H", 1), ("W", 1)))]
    assert sy.leading_terms(3 * H * H + 5 * H * W + 7 * H) == [(5.0, (("H", 1), ("W", 1))), (3.0, (("H", 2),))]
    assert sy.leading_terms(12) == [(12.0, ())]


def test_symbolic_macs_show_the_leading_term(resnet_hw):
    model = archc.load(resnet_hw)
    table = by_id(model)
    assert table["conv1"].macs != 0 and not isinstance(table["conv1"].macs, int)
    text = model.summary()
    conv1 = next(line for line in text.splitlines() if line.startswith("conv1 "))
    assert "≈ 2.35 K·H·W" in conv1 and "floor" not in conv1.split("]", 1)[1]
    macs_cells = [line.split("]")[-1] for line in text.splitlines() if "≈" in line and "[N," in line]
    assert macs_cells and max(len(c.split("≈")[1].split("  ")[0]) for c in macs_cells) <= 16
    assert "MACs per sample:                        ≈ 81.68 K·H·W" in text
    assert "--at H=224 --at W=224" in text
    by_op = model.summary(by_op=True)
    assert "floor" not in by_op.split("By op:")[1]
    unet = archc.load(SPECS / "unet_keras.arch", {"size": "H"}).summary()
    assert "≈ 46.27 K·H²" in unet and "Activation memory per sample (float32): ≈ 1.63 K·H² bytes" in unet


def test_at_gives_the_exact_values_of_the_concrete_model(resnet_hw):
    symbolic = archc.load(resnet_hw)
    concrete = archc.load(SPECS / "resnet50.arch")
    at = by_id(symbolic, at={"H": 224, "W": 224})
    for row in rows(concrete):
        assert at[row.id].macs == row.macs and at[row.id].shape == row.shape, row.id
    text = symbolic.summary(at={"H": 224, "W": 224})
    assert text.split("Total params")[0] == concrete.summary().split("Total params")[0].replace(
        '"ResNet50"', '"ResNet50HW"')
    assert "MACs per sample:                        4.10 G" in text and "Evaluated at:" in text
    data = json.loads(symbolic.summary("json", at={"H": 224, "W": 224}))
    assert data["at"] == {"H": 224, "W": 224}
    assert "floor" in data["totals"]["macs_per_sample"]  # the JSON keeps the exact expression
    assert data["totals"]["at"]["macs_per_sample"] == concrete.macs
    layers = {layer["id"]: layer for layer in data["layers"]}
    assert layers["conv1"]["at"] == {"output_shape": ["N", 64, 112, 112], "macs": 118_013_952,
                                     "activation_bytes": 64 * 112 * 112 * 4}
    assert {s["id"]: s for s in data["scopes"]}["layer1"]["at"]["macs"] == concrete.metrics.scope_totals(
        concrete.graph, concrete.graph.scopes[("layer1",)]).macs


def test_at_with_one_symbol_leaves_the_other(resnet_hw):
    text = archc.load(resnet_hw).summary(at={"H": 224})
    conv1 = next(line for line in text.splitlines() if line.startswith("conv1 "))
    assert "[N, 64, 112, floor((W + 1)/2)]" in conv1 and "≈ 526.85 K·W" in conv1


def test_at_is_checked():
    unet = archc.load(SPECS / "unet_keras.arch", {"size": "H"})
    with pytest.raises(SpecError, match=r"H=100 does not meet the input size constraints: H % 16 == 0"):
        unet.summary(at={"H": 100})
    with pytest.raises(SpecError, match=r"'W' is not a symbolic input size of UNetKeras \(its symbolic sizes are H\)"):
        unet.summary(at={"W": 128})
    with pytest.raises(SpecError, match="every input size is concrete"):
        archc.load(SPECS / "unet_keras.arch").summary(at={"H": 128})


def test_cli_at(tmp_path):
    ok = cli("summary", SPECS / "unet_keras.arch", "-D", "size=H", "--at", "H=128", "--depth", "0")
    assert ok.returncode == 0 and "MACs per sample:                        758.17 M" in ok.stdout
    assert ok.stdout.split("Total")[0] == cli("summary", SPECS / "unet_keras.arch", "--depth", "0").stdout.split(
        "Total")[0]
    out = tmp_path / "summary.txt"
    bad = cli("summary", SPECS / "unet_keras.arch", "-D", "size=H", "--at", "H=100", "-o", out)
    assert bad.returncode == 1 and "does not meet the input size constraints" in bad.stderr
    assert "Traceback" not in bad.stderr and not out.exists()
    usage = cli("summary", SPECS / "unet_keras.arch", "--at", "H=big")
    assert usage.returncode == 2 and "expected SYMBOL=SIZE" in usage.stderr


# ----------------------------------------------------------------------------- receptive field


def test_receptive_field_jump_continues_after_squeeze_and_excitation():
    model = load("""\
        input x: [N, 3, 64, 64]
        a = x -> conv2d(8, 3, stride=2, padding=1, name=c1)
        g = a -> global_avgpool(keepdims=true) -> conv2d(8, 1) -> sigmoid
        output y = a * g -> conv2d(8, 3, stride=2, padding=1, name=c2) -> conv2d(8, 3, stride=2, padding=1, name=c3)
        """)
    fields = model.metrics.layers
    assert fields["c1"].field.jump == (2, 2)
    assert fields["c3"].field.size is None  # the gate saw the whole image
    assert fields["c3"].field.jump == (8, 8)
