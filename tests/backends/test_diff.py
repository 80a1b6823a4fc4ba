"""`archc diff`: two specs, or one spec at two settings, compared layer by layer (matched by
module path), block by block, and by which state_dict entries of A load into B unchanged."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import archc
from archc.backends.diff import compare, render
from archc.cli import main

ROOT = Path(__file__).resolve().parents[2]
RESNET50 = str(ROOT / "specs" / "resnet50.arch")
RESNET18 = str(ROOT / "specs" / "resnet18.arch")
RESNET34 = str(ROOT / "specs" / "resnet34.arch")

# torchvision 0.29.1's resnet50().state_dict() has 320 entries (53 convolutions, 53 batch norms of
# five tensors each, fc.weight and fc.bias), counted in the reference environment
TORCHVISION_RESNET50_STATE_DICT = 320


@pytest.fixture(scope="module")
def resnet50_heads():
    return archc.load(RESNET50, {"num_classes": 1000}), archc.load(RESNET50, {"num_classes": 10})


def test_resnet50_new_head_the_backbone_transfers(resnet50_heads):
    a, b = resnet50_heads
    d = compare(a, b)
    w = d.weights
    assert w.total_a == w.total_b == TORCHVISION_RESNET50_STATE_DICT
    assert len(w.transfer) == TORCHVISION_RESNET50_STATE_DICT - 2
    assert [(k, sa, sb) for k, sa, sb in w.reshaped] == [("fc.weight", (1000, 2048), (10, 2048)),
                                                          ("fc.bias", (1000,), (10,))]
    assert not w.only_a and not w.only_b
    assert all(not k.startswith("fc.") for k in w.transfer)
    assert w.modules() == (["conv1", "bn1", "layer1", "layer2", "layer3", "layer4"], ["fc"])
    assert [(c.id, c.status) for c in d.layers] == [("fc", "changed")]
    assert d.layers[0].changes["params"] == (2048 * 1000 + 1000, 2048 * 10 + 10)
    assert d.layers[0].changes["output"] == ("[N, 1000]", "[N, 10]")
    assert [r.id for r in d.blocks if r.changed] == ["fc"]
    assert d.headline() == ("fc changed; 318 of A's 320 state_dict tensors load into B unchanged "
                            "(conv1, bn1, layer1–layer4 entirely)")


def test_cli_text_markdown_and_json(capsys):
    args = ["diff", RESNET50, "--a", "num_classes=1000", "--b", "num_classes=10"]
    assert main(args) == 0
    text = capsys.readouterr().out
    assert text.startswith(f"A: {RESNET50} (num_classes=1000)\nB: {RESNET50} (num_classes=10)\n")
    assert "318 of A's 320 state_dict tensors load into B unchanged" in text
    assert "transfer entirely: conv1, bn1, layer1–layer4" in text
    assert "shape changes, does not load: fc.weight [1000, 2048] → [10, 2048]" in text
    assert "params                            25,557,032  23,528,522  -2,028,510 (-7.9%)" in text
    assert main(args + ["--format", "markdown"]) == 0
    markdown = capsys.readouterr().out
    assert "| `fc` | changed: out 1000 → 10; output [N, 1000] → [N, 10]; params 2,049,000 → 20,490 |" in markdown
    assert "- shape changes, does not load: `fc.bias` [1000] → [10]" in markdown
    assert main(args + ["--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["state_dict"]["modules_changed"] == ["fc"]
    assert len(data["state_dict"]["transfer"]) == 318
    assert data["totals"]["params"] == {"a": 25_557_032, "b": 23_528_522, "delta": -2_028_510}
    assert data["outputs"]["logits"] == {"a": ["N", 1000], "b": ["N", 10]}
    assert data["a"]["hyperparams"] == {"num_classes": 1000}


def test_deeper_network_adds_blocks_and_keeps_every_tensor():
    """ResNet-18 → ResNet-34: the same stem, stages and head; stages 3, 4, 6, 3 blocks deep
    instead of 2 each, so 8 BasicBlocks are added (12 tensors each) and nothing is lost."""
    d = compare(archc.load(RESNET18), archc.load(RESNET34))
    w = d.weights
    assert len(w.transfer) == w.total_a == 122 and w.total_b == 122 + 8 * 12 and not w.reshaped
    assert not d.removed and not d.changed and len(d.added) == 8 * 7
    text = render(d)
    assert "added    layer3.5: BasicBlock (7 layers)" in text
    assert "only in B (freshly initialised): layer1.2 (12 tensors), layer2.2 (12 tensors)" in text
    changed = {r.id: r for r in d.blocks if r.changed}
    assert list(changed) == ["layer1", "layer2", "layer3", "layer4"]
    assert changed["layer3"].type_a == "Repeat ×2" and changed["layer3"].type_b == "Repeat ×6"
    assert changed["layer3"].shape == ("[N, 256, 14, 14]", "[N, 256, 14, 14]")


def test_renumbered_sequential_matches_by_name():
    """VGG-11 with batch norm: a norm after each convolution shifts the indices of `features`, so
    only keys whose index and shape coincide load, one of them into a batch norm that was a
    convolution in A."""
    vgg = str(ROOT / "specs" / "vgg11.arch")
    d = compare(archc.load(vgg, {"batch_norm": False}), archc.load(vgg, {"batch_norm": True}))
    w = d.weights
    assert [k for k in w.transfer if k.startswith("features.")] == [
        "features.0.weight", "features.0.bias", "features.8.bias", "features.16.bias",
        "features.18.weight", "features.18.bias"]
    assert w.retyped == [("features.16.bias", "Conv2d", "BatchNorm2d")]
    assert "loads by key and shape, but into another op: features.16.bias (Conv2d → BatchNorm2d)" in render(d)


def test_symbolic_and_concrete_size_same_weights():
    d = compare(archc.load(str(ROOT / "specs" / "unet_keras.arch"), {"size": "H"}),
                archc.load(str(ROOT / "specs" / "unet_keras.arch"), {"size": 64}))
    assert not d.weights.reshaped and len(d.weights.transfer) == d.weights.total_a
    assert d.headline().startswith("60 layers differ, no weights; all ")
    assert all(set(c.changes) == {"output"} for c in d.layers)


def test_one_spec_without_settings_is_refused(capsys):
    assert main(["diff", RESNET18]) == 1
    assert "E-DIFF-NOTHING" in capsys.readouterr().err


def test_a_side_that_fails_to_load_says_which(capsys):
    assert main(["diff", RESNET18, "--b", "num_clases=10"]) == 1
    err = capsys.readouterr().err
    assert "E-PARAM-UNKNOWN" in err and f"while loading B: {RESNET18} (num_clases=10)" in err


def test_diff_does_not_import_torch():
    code = ("import sys; from archc.cli import main; "
            f"main(['diff', {RESNET18!r}, {RESNET34!r}, '--format', 'json']); "
            "assert 'torch' not in sys.modules, 'torch imported'")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr


def test_standard_input_at_two_settings(monkeypatch, capsys):
    import io
    monkeypatch.setattr(sys, "stdin", io.StringIO((ROOT / "specs" / "lenet5.arch").read_text()))
    assert main(["diff", "-", "--a", "num_classes=10", "--b", "num_classes=2"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("A: <stdin> (num_classes=10)\nB: <stdin> (num_classes=2)\n")


# ------------------------------------------------------------------ hostile use (issue 24's standards)
BROKEN = "model Broken\ninput x: [N, 3, 8, 8]\noutput y = x -> conv2d(4, 3) -> nosuchop\n"


def test_both_broken_sides_are_reported_at_once(tmp_path, capsys):
    """A failed to load and B was never tried: fixing A only to meet B's error next. Both are
    loaded and reported, each with its side; one spec failing the same way on both sides is
    reported once; an unknown --a name is located at the spec's parameters."""
    broken = tmp_path / "broken.arch"
    broken.write_text(BROKEN)
    lenet = str(ROOT / "specs" / "lenet5.arch")
    assert main(["diff", str(broken), lenet, "--b", "num_classes=0"]) == 1
    err = capsys.readouterr().err
    assert "E-CALL-UNKNOWN-OP" in err and "while loading A" in err
    assert "E-ATTR-RANGE" in err and "while loading B" in err and "2 errors" in err
    assert main(["diff", str(broken), str(broken)]) == 1
    assert capsys.readouterr().err.count("E-CALL-UNKNOWN-OP") == 1
    assert main(["diff", lenet, "--a", "num_classes=3", "--b", "num_classes=4", "-D", "bogus=1"]) == 1
    err = capsys.readouterr().err
    assert err.count("E-PARAM-UNKNOWN") == 1 and "lenet5.arch:7:7" in err and "-D bogus" in err


def test_output_over_a_compared_spec_is_refused(tmp_path, capsys):
    spec = tmp_path / "lenet.arch"
    text = (ROOT / "specs" / "lenet5.arch").read_text()
    spec.write_text(text)
    assert main(["diff", str(spec), "--b", "num_classes=4", "-o", str(tmp_path / "." / "lenet.arch")]) == 1
    assert "E-DIFF-OUTPUT-CLASH" in capsys.readouterr().err
    assert spec.read_text() == text
