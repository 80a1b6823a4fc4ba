"""`model NAME returns dict`: forward returns {output name: tensor} even with one output, as
torchvision's segmentation models return {"out": …}; without it, one output is the tensor."""
import pytest

import archc
from archc.ast import without_locs
from archc.frontend.printer import to_dsl, to_yaml
from archc.errors import SpecErrors

torch = pytest.importorskip("torch")

DSL = """
model Seg returns dict
input x: [N, 3, 8, 8]
output out = x -> conv2d(4, 1)
"""

YAML = """
model: Seg
returns: dict
inputs:
  x: [N, 3, 8, 8]
outputs:
  out: [x, {conv2d: [4, 1]}]
"""


@pytest.mark.parametrize("text, language", [(DSL, "arch"), (YAML, "yaml")])
def test_one_output_comes_back_in_a_dict(text, language):
    model = archc.loads(text, language)
    assert model.spec.returns == "dict" and model.graph.returns_dict
    module = archc.build(model).eval()
    with torch.no_grad():
        out = module(torch.randn(2, 3, 8, 8))
    assert isinstance(out, dict) and list(out) == ["out"] and out["out"].shape == (2, 4, 8, 8)
    assert 'return {"out": out}' in model.to_source().replace("'", '"')


def test_without_it_one_output_is_the_tensor():
    model = archc.loads(DSL.replace(" returns dict", ""), "arch")
    assert not model.graph.returns_dict
    out = archc.build(model).eval()(torch.randn(1, 3, 8, 8))
    assert isinstance(out, torch.Tensor)


def test_the_two_languages_say_the_same_and_fmt_keeps_it():
    dsl, yaml = archc.loads(DSL, "arch").spec, archc.loads(YAML, "yaml").spec
    assert without_locs(dsl) == without_locs(yaml)
    assert "model Seg returns dict" in to_dsl(yaml)
    assert "returns: dict" in to_yaml(dsl)


@pytest.mark.parametrize("text, language", [
    (DSL.replace("returns dict", "returns tensors"), "arch"),
    (DSL.replace("returns dict", "gives dict"), "arch"),
    (YAML.replace("returns: dict", "returns: list"), "yaml"),
    (YAML.replace("model: Seg\n", ""), "yaml"),
])
def test_anything_else_is_an_error(text, language):
    with pytest.raises(SpecErrors) as info:
        archc.loads(text, language)
    assert [e.code for e in info.value.errors] == ["E-SYNTAX-MODEL-RETURNS"]
