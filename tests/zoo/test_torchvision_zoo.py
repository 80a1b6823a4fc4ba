"""Every CNN of torchvision's classification zoo, written as a spec in specs/torchvision/, against
numbers from torchvision itself (tests/fixtures/torchvision/<builder>.json, recorded from
torchvision 0.29.1 in a separate environment by tests/fixtures/make_torchvision_zoo_fixtures.py):

- parameters equal the weights' published `num_params`;
- conv + linear MACs equal the published GFLOPS (`_ops`, which is conv + linear GMACs, measured at
  the weights' crop size), to the three decimals torchvision publishes;
- with a symbolic [N, 3, H, W] input, the smallest H the constraints allow is the published
  `min_size`;
- the state_dict keys and shapes equal torchvision's, so its checkpoints load with strict=True
  (tools/torchvision_equivalence.py loads them and compares outputs; docs/torchvision_equivalence.md).
"""
import json
from pathlib import Path

import pytest

import archc
from spec_helpers import state_dict_differences

ROOT = Path(__file__).resolve().parents[2]
SPECS = ROOT / "specs" / "torchvision"
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "torchvision"
BUILDERS = sorted(p.stem for p in FIXTURES.glob("*.json"))
WRITTEN = [b for b in BUILDERS if (SPECS / f"{b}.arch").exists()]


def fixture(builder: str) -> dict:
    return json.loads((FIXTURES / f"{builder}.json").read_text())


@pytest.fixture(scope="module")
def loaded():
    cache: dict[str, archc.Model] = {}

    def get(builder: str) -> archc.Model:
        if builder not in cache:
            cache[builder] = archc.load(SPECS / f"{builder}.arch")
        return cache[builder]
    return get


def test_every_torchvision_cnn_has_a_spec():
    missing = [b for b in BUILDERS if b not in WRITTEN]
    assert not missing, f"no spec in specs/torchvision/ for: {', '.join(missing)}"


@pytest.mark.parametrize("builder", WRITTEN)
def test_params_and_gflops(builder, loaded):
    ref = fixture(builder)
    model = loaded(builder)
    assert model.params == ref["num_params"], f"{builder}: published num_params ({ref['weights']})"
    assert model.params == ref["params"]
    assert tuple(model.graph.node(model.graph.inputs["x"]).shape[2:]) == (ref["crop_size"],) * 2, \
        "the spec's default input size is the weights' crop size, where GFLOPS are measured"
    gmacs = model.conv_linear_macs / 1e9
    assert abs(gmacs - ref["gflops"]) < 0.0005 + 1e-9, f"{builder}: {gmacs:.4f} GMACs vs published {ref['gflops']}"


@pytest.mark.parametrize("builder", WRITTEN)
def test_state_dict_keys_and_shapes(builder, loaded):
    ref = fixture(builder)["state_dict"]
    ours = {k: list(v) for k, v in loaded(builder).state_dict_shapes().items()}
    assert list(ours) == list(ref) or ours == ref, state_dict_differences(ours, ref, "torchvision")
    assert ours == ref, state_dict_differences(ours, ref, "torchvision")


# torchvision publishes min_size (33, 33) for EfficientNet V2, but nothing in the network needs it:
# every convolution is padded (k-1)/2, and torchvision's own efficientnet_v2_s() runs on 1×1, 2×2
# and 17×17 inputs (checked in the reference environment). archc derives what the layers need.
NOT_STRUCTURAL = {"efficientnet_v2_s": 1, "efficientnet_v2_m": 1, "efficientnet_v2_l": 1}


@pytest.mark.parametrize("builder", WRITTEN)
def test_min_size(builder):
    ref = fixture(builder)
    model = archc.load(SPECS / f"{builder}.arch", {"size": "H"})
    expected = NOT_STRUCTURAL.get(builder, ref["min_size"][0])
    assert model.smallest_size("H") == expected, model.constraints


def test_inception_auxiliary_classifier_is_a_training_output():
    # torchvision counts AuxLogits in num_params (27,161,264) but measures GFLOPS (5.713) and
    # min_size (75) in eval mode, where it does not run; in training the input must be ≥ 299
    # (AuxLogits' 5×5 average pool, stride 3, then a 5×5 convolution on Mixed_6e's 17×17 map)
    model = archc.load(SPECS / "inception_v3.arch", {"size": "H"})
    assert model.graph.training_outputs == ["aux"]
    assert model.constraints == ["H >= 75"] and model.training_constraints == ["H >= 299"]
    assert all(model.graph.node(n).training_only for n in model.shapes if n.startswith("AuxLogits"))
    assert not model.graph.node("fc").training_only


@pytest.mark.parametrize("path", sorted(SPECS.rglob("*.arch")), ids=lambda p: str(p.relative_to(SPECS)))
def test_specs_and_libraries_round_trip_through_both_printers(path):
    # slices, comprehensions, quoted names, training outputs: fmt keeps the program in both languages
    from archc.ast import without_locs
    from archc.frontend import parse_dsl, parse_file, parse_yaml
    from archc.frontend.printer import to_dsl, to_yaml
    spec = parse_file(path)
    assert without_locs(parse_dsl(to_dsl(spec))) == without_locs(spec)
    assert without_locs(parse_yaml(to_yaml(spec))) == without_locs(spec)


# Lowered to PyTorch at a small input size: every node's real output shape equals its static
# shape and the module's state_dict is the predicted one. Variants above 30 M parameters are
# left to tools/torchvision_equivalence.py (their construction alone takes seconds here).
SMALL = [b for b in WRITTEN if fixture(b)["params"] <= 30_000_000]


@pytest.mark.parametrize("builder", SMALL)
def test_lowered_module_runs_with_the_static_shapes(builder):
    torch = pytest.importorskip("torch")
    from lowering_support import probe_module, run_recording_shapes, static_shape
    side = max(fixture(builder)["min_size"][0], 64 if builder != "inception_v3" else 299)
    model = archc.load(SPECS / f"{builder}.arch", {"size": side})
    module = probe_module(model).eval()
    assert {k: tuple(v.shape) for k, v in module.state_dict().items()} == dict(model.state_dict_shapes())
    with torch.no_grad():
        recorded, out = run_recording_shapes(module, [torch.randn(1, 3, side, side)])
    nodes = [n for n in model.graph.layers() if not n.is_input and not n.training_only]
    wrong = {n.id: (recorded.get(n.id), static_shape(n.shape, {"N": 1})) for n in nodes
             if recorded.get(n.id) != static_shape(n.shape, {"N": 1})}
    assert wrong == {}
    assert tuple(out.shape) == (1, 1000)


def test_receptive_field_jump_after_squeeze_and_excitation(loaded):
    # issue 8: the jump stopped updating after an SE gate (MobileNetV3 showed 8 at 7×7 where it is 32)
    layers = loaded("mobilenet_v3_large").metrics.layers
    assert layers["features.16.0"].field.jump == (32, 32)
    assert layers["features.16.0"].field.size is None  # the SE gates saw the whole image
