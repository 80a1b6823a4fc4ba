"""timm models written as specs in specs/timm/ (libraries in specs/timm/blocks/), against numbers
recorded from timm 1.0.31 in a separate environment (tests/fixtures/timm/<name>.json, by
tests/fixtures/make_timm_fixtures.py; timm is not needed here): parameters, state_dict keys with
their order and shapes (so timm's checkpoints load with strict=True), the output's shape at a
non-square input with odd sides, and `archc fmt`'s round trip. tools/timm_equivalence.py (outside
CI) loads timm's weights and compares outputs (docs/torchvision_equivalence.md, "timm models").

Where archc's module order cannot follow timm's registration order (archc registers layers in
dataflow order), ORDER says how the keys move; the test checks exactly that move and nothing else.
"""
import re
from pathlib import Path

import pytest

import archc
from spec_helpers import Zoo, state_dict_differences

ROOT = Path(__file__).resolve().parents[2]
SPECS = ROOT / "specs" / "timm"
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "timm"
NAMES = ["resnetv2_50", "legacy_seresnet18", "seresnext26d_32x4d", "mobilenetv3_large_100",
         "efficientnet_b0", "densenet121", "nf_resnet50", "mixnet_s",
         "tinynet_a", "lcnet_050", "rexnet_100",
         "ghostnet_100", "regnety_016",
         "efficientnetv2_rw_s", "cspresnet50", "dla34",
         "dpn68", "res2net50_26w_4s", "selecsls42b", "ese_vovnet19b_dw",
         "xception41", "inception_resnet_v2", "inception_v4", "convnextv2_atto"]
WRITTEN = [n for n in NAMES if (SPECS / f"{n}.arch").exists()]


def move_after(keys: list[str], moved: str, anchor: str) -> list[str]:
    """timm's key order with every key of a submodule matching `moved` (a regex with one group, the
    parent's prefix) placed after the last key of its sibling `anchor` (a submodule name)."""
    out = [k for k in keys if not re.match(moved, k)]
    for k in keys:
        m = re.match(moved, k)
        if m:
            prefix = m.group(1)
            last = max(j for j, o in enumerate(out) if o.startswith(f"{prefix}.{anchor}."))
            out.insert(last + 1, k)
    return out


# timm registers PreActBottleneck.downsample before norm1, but the projection reads norm1's output
ORDER = {
    "resnetv2_50": lambda keys: move_after(keys, r"(.*)\.downsample\.", "norm1"),
}


ZOO = Zoo(SPECS, FIXTURES)
fixture = ZOO.fixture


@pytest.fixture(scope="module")
def at_fixture_size():
    return ZOO.models()


def test_every_model_has_a_fixture():
    assert sorted(p.stem for p in FIXTURES.glob("*.json")) == sorted(NAMES)
    assert WRITTEN, "no spec written"


@pytest.mark.parametrize("name", WRITTEN)
def test_params(name, at_fixture_size):
    assert at_fixture_size(name).params == fixture(name)["params"]


@pytest.mark.parametrize("name", WRITTEN)
def test_state_dict_keys_order_and_shapes(name, at_fixture_size):
    ref = fixture(name)["state_dict"]
    ours = {k: list(v) for k, v in at_fixture_size(name).state_dict_shapes().items()}
    assert sorted(ours) == sorted(ref), state_dict_differences(ours, ref, "timm")
    assert ours == ref
    assert list(ours) == ORDER.get(name, list)(list(ref))


@pytest.mark.parametrize("name", WRITTEN)
def test_output_shape(name, at_fixture_size):
    model = at_fixture_size(name)
    (out,) = model.graph.outputs.values()
    shape = model.graph.node(out).shape
    assert [1, *shape[1:]] == fixture(name)["output"] and str(shape[0]) == "N"


@pytest.mark.parametrize("path", sorted(SPECS.rglob("*.arch")), ids=lambda p: str(p.relative_to(SPECS)))
def test_fmt_check_and_round_trip_through_both_printers(path):
    from archc.ast import without_locs
    from archc.frontend import parse_dsl, parse_file, parse_yaml
    from archc.frontend.printer import to_dsl, to_yaml
    spec = parse_file(path)
    assert to_dsl(spec) == path.read_text()  # archc fmt --check
    assert without_locs(parse_dsl(to_dsl(spec))) == without_locs(spec)
    assert without_locs(parse_yaml(to_yaml(spec))) == without_locs(spec)


SMALL = "mobilenetv3_large_100" if "mobilenetv3_large_100" in WRITTEN else "resnetv2_50"


def test_lowered_module_runs_with_the_static_shapes():
    torch = pytest.importorskip("torch")
    from lowering_support import probe_module, run_recording_shapes, static_shape
    h, w = 65, 47
    model = archc.load(SPECS / f"{SMALL}.arch", {"height": h, "width": w})
    module = probe_module(model).eval()
    assert {k: tuple(v.shape) for k, v in module.state_dict().items()} == dict(model.state_dict_shapes())
    with torch.no_grad():
        recorded, out = run_recording_shapes(module, [torch.randn(1, 3, h, w)])
    nodes = [n for n in model.graph.layers() if not n.is_input]
    wrong = {n.id: (recorded.get(n.id), static_shape(n.shape, {"N": 1})) for n in nodes
             if recorded.get(n.id) != static_shape(n.shape, {"N": 1})}
    assert wrong == {}
    assert tuple(out.shape) == (1, 1000)
