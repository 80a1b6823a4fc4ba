"""torchvision's video classification models (R3D-18, MC3-18, R(2+1)D-18, S3D with their default
arguments) written as specs in specs/torchvision/ (their units in blocks/video.arch), against
numbers recorded from torchvision 0.29.1 in a separate environment
(tests/fixtures/torchvision/video/<builder>.json, by
tests/fixtures/make_torchvision_video_fixtures.py): parameters, state_dict keys with their order
and shapes (so torchvision's checkpoints load with strict=True), the output's shape at small clips
(non-square for the ResNets), and the smallest clip S3D accepts.
tools/torchvision_video_equivalence.py (outside CI) loads torchvision's weights and compares
outputs (docs/torchvision_equivalence.md).
"""
import json
import subprocess
import sys
from pathlib import Path

import pytest

import archc
from spec_helpers import state_dict_differences

ROOT = Path(__file__).resolve().parents[2]
SPECS = ROOT / "specs" / "torchvision"
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "torchvision" / "video"
BUILDERS = ["r3d_18", "mc3_18", "r2plus1d_18", "s3d"]
WRITTEN = [b for b in BUILDERS if (SPECS / f"{b}.arch").exists()]


def fixture(builder: str) -> dict:
    return json.loads((FIXTURES / f"{builder}.json").read_text())


def load(builder: str, shape) -> archc.Model:
    _, _, t, h, w = shape
    return archc.load(SPECS / f"{builder}.arch", {"frames": t, "height": h, "width": w})


@pytest.fixture(scope="module")
def at_fixture_size():
    cache: dict[str, archc.Model] = {}

    def get(builder: str) -> archc.Model:
        if builder not in cache:
            cache[builder] = load(builder, fixture(builder)["outputs"][0]["input"])
        return cache[builder]
    return get


def test_every_builder_has_a_fixture_and_a_spec():
    assert sorted(p.stem for p in FIXTURES.glob("*.json")) == sorted(BUILDERS)
    assert WRITTEN == BUILDERS


@pytest.mark.parametrize("builder", WRITTEN)
def test_params(builder, at_fixture_size):
    ref = fixture(builder)
    assert at_fixture_size(builder).params == ref["params"] == ref["weights_num_params"]


@pytest.mark.parametrize("builder", WRITTEN)
def test_gflops_at_the_default_clip(builder):
    # torchvision's `_ops` (conv + linear GMACs) is measured on 16-frame clips at the crop size,
    # the specs' defaults
    ref = fixture(builder)
    model = archc.load(SPECS / f"{builder}.arch")
    assert list(model.graph.node(model.graph.inputs["x"]).shape[2:]) == [16, *ref["crop_size"]]
    gmacs = model.conv_linear_macs / 1e9
    assert abs(gmacs - ref["weights_gflops"]) < 0.0005 + 1e-9, f"{gmacs:.4f} GMACs vs published {ref['weights_gflops']}"


@pytest.mark.parametrize("builder", WRITTEN)
def test_state_dict_keys_and_shapes(builder, at_fixture_size):
    ref = fixture(builder)["state_dict"]
    ours = {k: list(v) for k, v in at_fixture_size(builder).state_dict_shapes().items()}
    assert list(ours) == list(ref), state_dict_differences(ours, ref, "torchvision")
    assert ours == ref


@pytest.mark.parametrize("builder", WRITTEN)
def test_output_shape(builder):
    for case in fixture(builder)["outputs"]:
        model = load(builder, case["input"])
        shape = model.graph.node(model.graph.outputs["logits"]).shape
        assert [1, *shape[1:]] == case["output"] and str(shape[0]) == "N"


@pytest.mark.parametrize("builder", WRITTEN)
def test_accepted_clip_sizes(builder):
    ref = fixture(builder)
    model = archc.load(SPECS / f"{builder}.arch", {"frames": "T", "height": "H", "width": "W"})
    if builder == "s3d":  # the 2×7×7 average pool on features pooled 2× / 4× in time, 32× in space
        t, s = ref["smallest_accepted"]["frames"], ref["smallest_accepted"]["size"]
        assert sorted(model.constraints) == [f"H >= {s}", f"T >= {t}", f"W >= {s}"]
        assert ref["min_temporal_size"] >= t and min(ref["min_size"]) >= s
    else:  # torchvision's weights meta: min_size (1, 1); adaptive pooling to 1×1×1
        assert model.constraints == []
        assert ref["min_size"] == [1, 1]


@pytest.mark.parametrize("path", [*(SPECS / f"{b}.arch" for b in WRITTEN), SPECS / "blocks" / "video.arch"],
                         ids=lambda p: str(p.relative_to(SPECS)))
def test_fmt_check(path):
    done = subprocess.run([sys.executable, "-m", "archc", "fmt", "--check", str(path)],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("builder", ["r2plus1d_18"])
def test_lowered_module_runs_with_the_static_shapes(builder):
    torch = pytest.importorskip("torch")
    from lowering_support import probe_module, run_recording_shapes, static_shape
    shape = [1, 3, 4, 24, 20]
    model = load(builder, shape)
    module = probe_module(model).eval()
    assert {k: tuple(v.shape) for k, v in module.state_dict().items()} == dict(model.state_dict_shapes())
    with torch.no_grad():
        recorded, out = run_recording_shapes(module, [torch.randn(*shape)])
    nodes = [n for n in model.graph.layers() if not n.is_input]
    wrong = {n.id: (recorded.get(n.id), static_shape(n.shape, {"N": 1})) for n in nodes
             if recorded.get(n.id) != static_shape(n.shape, {"N": 1})}
    assert wrong == {}
    assert tuple(out.shape) == (1, 400)
