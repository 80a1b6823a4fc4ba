"""torchvision's detection backbones (torchvision.models.detection.backbone_utils: a
BackboneWithFPN, ResNet-50 and MobileNetV3-Large bodies with FrozenBatchNorm2d under a feature
pyramid) written as specs in specs/torchvision/ (bodies and the FPN in blocks/detection.arch),
against numbers recorded from torchvision 0.29.1 in a separate environment
(tests/fixtures/torchvision/detection/<name>.json, by
tests/fixtures/make_torchvision_detection_fixtures.py): parameters and buffers, state_dict keys
with their order and shapes (so torchvision's checkpoints load with strict=True), and the output
dict's keys, in order, and shapes at a non-square input with odd sides.
tools/torchvision_detection_equivalence.py (outside CI) loads torchvision's weights and compares
outputs (docs/torchvision_equivalence.md).
"""
import subprocess
import sys
from pathlib import Path

import pytest

from spec_helpers import Zoo, state_dict_differences

ROOT = Path(__file__).resolve().parents[2]
SPECS = ROOT / "specs" / "torchvision"
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "torchvision" / "detection"
NAMES = ["resnet50_fpn_backbone", "mobilenet_v3_large_fpn_backbone"]


ZOO = Zoo(SPECS, FIXTURES)
fixture, load = ZOO.fixture, ZOO.load


@pytest.fixture(scope="module")
def at_fixture_size():
    return ZOO.models()


def test_every_backbone_has_a_fixture_and_a_spec():
    assert sorted(p.stem for p in FIXTURES.glob("*.json")) == sorted(NAMES)
    assert all((SPECS / f"{n}.arch").exists() for n in NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_params_and_buffers(name, at_fixture_size):
    ref = fixture(name)
    model = at_fixture_size(name)
    assert ref["trainable_params"] == ref["params"]  # trainable_layers: all of them
    assert model.params == ref["params"]
    assert model.trainable_params == ref["params"]
    assert model.metrics.totals.buffers == ref["buffers"]  # FrozenBatchNorm2d: four buffers, no parameter


@pytest.mark.parametrize("name", NAMES)
def test_state_dict_keys_order_and_shapes(name, at_fixture_size):
    ref = fixture(name)["state_dict"]
    ours = {k: list(v) for k, v in at_fixture_size(name).state_dict_shapes().items()}
    assert list(ours) == list(ref), state_dict_differences(ours, ref, "torchvision")
    assert ours == ref


@pytest.mark.parametrize("name", NAMES)
def test_output_keys_and_shapes(name, at_fixture_size):
    ref = fixture(name)["outputs"]
    model = at_fixture_size(name)
    assert list(model.graph.outputs) == list(ref)  # torchvision's OrderedDict keys, in order
    for key, node in model.graph.outputs.items():
        shape = model.graph.node(node).shape
        assert [1, *shape[1:]] == ref[key] and str(shape[0]) == "N", key


@pytest.mark.parametrize("name", NAMES)
def test_any_input_size_is_accepted(name):
    # every convolution pads, the FPN resizes each coarser map to its lateral's size, and the
    # pool level is a 1×1 max pool: no size is refused, 1×1 included (torchvision runs it too)
    assert load(name, height="H", width="W").constraints == []
    model = load(name, height=1, width=1)
    assert all(model.graph.node(n).shape[2:] == (1, 1) for n in model.graph.outputs.values())


@pytest.mark.parametrize("path", [*(SPECS / f"{n}.arch" for n in NAMES), SPECS / "blocks" / "detection.arch"],
                         ids=lambda p: str(p.relative_to(SPECS)))
def test_fmt_check(path):
    done = subprocess.run([sys.executable, "-m", "archc", "fmt", "--check", str(path)],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("name", NAMES)
def test_lowered_module_runs_with_the_static_shapes(name):
    torch = pytest.importorskip("torch")
    from lowering_support import probe_module, run_recording_shapes, static_shape
    h, w = 65, 47
    model = load(name, height=h, width=w)
    module = probe_module(model).eval()
    ours = {k: tuple(v.shape) for k, v in module.state_dict().items()}
    assert list(ours.items()) == list(dict(model.state_dict_shapes()).items())
    with torch.no_grad():
        recorded, out = run_recording_shapes(module, [torch.randn(1, 3, h, w)])
    nodes = [n for n in model.graph.layers() if not n.is_input]
    wrong = {n.id: (recorded.get(n.id), static_shape(n.shape, {"N": 1})) for n in nodes
             if recorded.get(n.id) != static_shape(n.shape, {"N": 1})}
    assert wrong == {}
    assert isinstance(out, dict) and list(out) == list(model.graph.outputs)
    assert {k: tuple(v.shape) for k, v in out.items()} == {
        k: static_shape(model.graph.node(n).shape, {"N": 1}) for k, n in model.graph.outputs.items()}
