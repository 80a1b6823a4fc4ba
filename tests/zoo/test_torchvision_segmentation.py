"""torchvision's semantic segmentation models (FCN, DeepLabV3, LR-ASPP with their default
arguments) written as specs in specs/torchvision/ (heads and dilated backbones in
blocks/segmentation.arch), against numbers recorded from
torchvision 0.29.1 in a separate environment (tests/fixtures/torchvision/segmentation/<builder>.json,
by tests/fixtures/make_torchvision_segmentation_fixtures.py): parameters, state_dict keys with their
order and shapes (so torchvision's checkpoints load with strict=True), and the output's shape at a
non-square input with odd sides. tools/torchvision_segmentation_equivalence.py (outside CI) loads
torchvision's weights and compares outputs (docs/torchvision_equivalence.md).

The specs import the classification zoo's block libraries from specs/torchvision/, one folder up,
so they load with specs/torchvision on the import path.
"""
import subprocess
import sys
from pathlib import Path

import pytest

from spec_helpers import Zoo, state_dict_differences

ROOT = Path(__file__).resolve().parents[2]
LIBRARIES = ROOT / "specs" / "torchvision"
SPECS = LIBRARIES
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "torchvision" / "segmentation"
BUILDERS = ["fcn_resnet50", "fcn_resnet101", "deeplabv3_resnet50", "deeplabv3_resnet101",
            "deeplabv3_mobilenet_v3_large", "lraspp_mobilenet_v3_large"]
WRITTEN = [b for b in BUILDERS if (SPECS / f"{b}.arch").exists()]


ZOO = Zoo(SPECS, FIXTURES)
fixture, load = ZOO.fixture, ZOO.load


@pytest.fixture(scope="module")
def at_fixture_size():
    return ZOO.models()


def test_every_builder_has_a_fixture_and_a_spec():
    assert sorted(p.stem for p in FIXTURES.glob("*.json")) == sorted(BUILDERS)
    assert WRITTEN == BUILDERS


@pytest.mark.parametrize("builder", WRITTEN)
def test_params(builder, at_fixture_size):
    ref = fixture(builder)
    assert not ref["has_aux_classifier"]  # the builder's default: aux_loss=None
    assert at_fixture_size(builder).params == ref["params"]


@pytest.mark.parametrize("builder", WRITTEN)
def test_state_dict_keys_and_shapes(builder, at_fixture_size):
    ref = fixture(builder)["state_dict"]
    ours = {k: list(v) for k, v in at_fixture_size(builder).state_dict_shapes().items()}
    assert list(ours) == list(ref), state_dict_differences(ours, ref, "torchvision")
    assert ours == ref


@pytest.mark.parametrize("builder", WRITTEN)
def test_output_shape(builder, at_fixture_size):
    ref = fixture(builder)
    model = at_fixture_size(builder)
    assert list(model.graph.outputs) == ["out"] and model.graph.returns_dict  # torchvision's {"out": …}
    shape = model.graph.node(model.graph.outputs["out"]).shape
    assert [1, *shape[1:]] == ref["outputs"]["out"] and str(shape[0]) == "N"


@pytest.mark.parametrize("builder", WRITTEN)
def test_any_input_size_is_accepted(builder):
    # torchvision's weights meta: min_size (1, 1); every resampling is to a reference's size
    model = load(builder, height="H", width="W")
    assert model.constraints == []
    assert fixture(builder)["min_size"] == [1, 1]


@pytest.mark.parametrize("path", [*(SPECS / f"{b}.arch" for b in WRITTEN), SPECS / "blocks" / "segmentation.arch"],
                         ids=lambda p: str(p.relative_to(SPECS)))
def test_fmt_check(path):
    done = subprocess.run([sys.executable, "-m", "archc", "fmt", "--check", str(path)],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("builder", [b for b in WRITTEN if "mobilenet" in b])
def test_lowered_module_runs_with_the_static_shapes(builder):
    torch = pytest.importorskip("torch")
    from lowering_support import probe_module, run_recording_shapes, static_shape
    h, w = 65, 47
    model = load(builder, height=h, width=w)
    module = probe_module(model).eval()
    assert {k: tuple(v.shape) for k, v in module.state_dict().items()} == dict(model.state_dict_shapes())
    with torch.no_grad():
        recorded, out = run_recording_shapes(module, [torch.randn(1, 3, h, w)])
    nodes = [n for n in model.graph.layers() if not n.is_input]
    wrong = {n.id: (recorded.get(n.id), static_shape(n.shape, {"N": 1})) for n in nodes
             if recorded.get(n.id) != static_shape(n.shape, {"N": 1})}
    assert wrong == {}
    assert list(out) == ["out"]  # a dict, as torchvision's
    assert tuple(out["out"].shape) == (1, 21, h, w)
