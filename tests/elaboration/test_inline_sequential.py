"""A block whose body is one sequential (torchvision's FCNHead, DeepLabHead, classifier heads):
`sequential(..., inline=true)` numbers its children 0, 1, ... in the caller, so the block is
generated as an nn.Sequential subclass and its children need no hand-written names (issue #18)."""
from __future__ import annotations

import pytest

import archc
from spec_helpers import errors_of, load

HEAD = """
    model Seg
    input x: [N, 3, 32, 32]
    block FCNHead(in_channels, channels)(x) {
      inter = in_channels // 4
      return x -> sequential(
        conv2d(inter, 3, padding=1, bias=false), batchnorm2d, relu, dropout(0.1), conv2d(channels, 1),
        inline=true
      )
    }
    f = x -> conv2d(64, 3, padding=1, name=backbone)
    output out = f -> FCNHead(64, 21, name=classifier)
"""


def test_children_are_numbered_in_the_block_and_the_block_is_a_sequential() -> None:
    model = load(HEAD)
    # torchvision.models.segmentation.fcn.FCNHead(64, 21)'s keys under `classifier`
    assert [k for k in model.state_dict_shapes() if k.startswith("classifier.")] == [
        "classifier.0.weight", "classifier.1.weight", "classifier.1.bias", "classifier.1.running_mean",
        "classifier.1.running_var", "classifier.1.num_batches_tracked", "classifier.4.weight", "classifier.4.bias"]
    assert "class FCNHead(nn.Sequential):" in model.to_source()


def test_the_built_head_runs_and_equals_torch_s_own_sequential() -> None:
    torch = pytest.importorskip("torch")
    module = archc.build(load(HEAD)).eval()
    nn = torch.nn
    reference = nn.Sequential(nn.Conv2d(64, 16, 3, padding=1, bias=False), nn.BatchNorm2d(16), nn.ReLU(),
                              nn.Dropout(0.1), nn.Conv2d(16, 21, 1)).eval()
    reference.load_state_dict(module.classifier.state_dict())
    f = torch.randn(2, 64, 32, 32)
    assert torch.equal(module.classifier(f), reference(f))


def test_an_inline_sequential_has_no_name_of_its_own() -> None:
    (err,) = errors_of("input x: [1, 3, 8, 8]\noutput y = x -> sequential(relu, name=s, inline=true)\n")
    assert err.code == "E-CALL-INLINE-WITH-NAME"


def test_an_inline_repeat_whose_copies_take_default_names_is_warned() -> None:
    block = "block Stage(c)(x) {\n  return x -> conv2d(c, 3, padding=1) -> relu\n}\n"
    model = load("input x: [N, 3, 8, 8]\n" + block + "output y = x -> repeat(3, Stage(3), inline=true)\n")
    (warning,) = model.warnings
    assert warning.code == "W-NAME-INLINE-REPEAT-DEFAULT" and "stage, stage_1" in warning.message
    assert list(model.state_dict_shapes())[:2] == ["stage.conv2d.weight", "stage.conv2d.bias"]  # unchanged
    named = load("input x: [N, 3, 8, 8]\n" + block +
                 'output y = x -> repeat(3, Stage(3, name="stage" + str(i)), inline=true)\n')
    assert named.warnings == [] and "stage2.conv2d.weight" in named.state_dict_shapes()
