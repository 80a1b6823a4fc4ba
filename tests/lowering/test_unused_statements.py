"""`unused f4 = f3 -> Stage(...)`: modules that exist but never run, as an encoder truncated at
depth 3 that still holds layer3 and layer4 (segmentation-models-pytorch's encoders at a smaller
depth). They are in the state_dict and the parameter count, cost no MACs or activations, impose
no input constraint, are never called by the generated forward, and nothing may read them."""
import pytest

import archc
from archc.errors import SpecErrors

ENCODER = """
model Truncated
block Stage(c, stride)(x) {
  return x -> conv2d(c, 3, stride=stride, padding=1, bias=false, name=conv) -> batchnorm2d(name=bn) -> relu
}
block Encoder(depth)(x) {
  f1 = x -> Stage(16, 2, name=layer1)
  f2 = f1 -> Stage(32, 2, name=layer2)
  unused f3 = f2 -> Stage(64, 2, name=layer3)
  unused f4 = f3 -> maxpool2d(4) -> Stage(128, 2, name=layer4)
  return f2
}
input x: [N, 3, H, W]
output features = x -> Encoder(2, name=encoder)
"""


def stage(cin, cout):
    return cout * cin * 9 + 2 * cout


def test_modules_are_built_and_counted_but_cost_nothing():
    model = archc.loads(ENCODER)
    assert model.params == stage(3, 16) + stage(16, 32) + stage(32, 64) + stage(64, 128)
    assert "encoder.layer4.conv.weight" in model.state_dict_shapes()
    runs = archc.loads(ENCODER.replace("unused f3", "f3").replace("unused f4", "f4").replace("return f2", "return f4"))
    assert runs.params == model.params and runs.macs != model.macs
    idle = [n for n in model.graph.layers() if n.unused]
    assert {n.id.split(".")[1] for n in idle} == {"layer3", "layer4", "maxpool2d"}
    assert all(model.metrics.layers[n.id].macs == 0 for n in idle)
    # layer4's 4×4 pool and strides would need H >= 32 if it ran; it does not
    assert runs.constraints and model.constraints == []


def test_the_generated_forward_never_calls_them():
    torch = pytest.importorskip("torch")
    model = archc.loads(ENCODER)
    module = archc.build(model)
    assert list(module.state_dict()) == list(model.state_dict_shapes())
    called = []
    for name, sub in module.named_modules():
        sub.register_forward_hook(lambda m, a, o, name=name: called.append(name))
    out = module(torch.randn(2, 3, 9, 7))  # too small for layer4's pool, had it run
    assert out.shape == (2, 32, 3, 2)
    assert not any("layer3" in c or "layer4" in c for c in called)
    from test_reference_executor import check_against_executor
    check_against_executor(model, {"N": 2, "H": 9, "W": 7})


def test_summary_yaml_and_fmt():
    from archc.frontend.printer import to_dsl, to_yaml
    model = archc.loads(ENCODER)
    assert "(unused)" in model.summary()
    assert '"unused": true' in model.summary("json").replace(" ", "").replace('":true', '": true')
    again = archc.loads(to_yaml(model.spec), "yaml")
    assert again.state_dict_shapes() == model.state_dict_shapes()
    assert "  unused f3 = f2 -> Stage(64, 2, name=layer3)" in to_dsl(model.spec)


def test_unused_is_no_reserved_word():
    model = archc.loads("model M\ninput x: [N, 3, 8, 8]\nunused = x -> relu\noutput y = unused\n")
    assert [n.op_name for n in model.graph.layers()] == ["input", "relu"]


def test_with_a_training_output_they_stay_unused():
    model = archc.loads("""
model M
input x: [N, 3, 8, 8]
h = x -> conv2d(4, 3)
unused spare = h -> conv2d(4, 1, name=spare)
training output aux = h -> conv2d(2, 1, name=aux)
output y = h -> relu
""")
    spare = model.graph.node("spare")
    assert spare.unused and not spare.training_only and model.graph.node("aux").training_only


@pytest.mark.parametrize("text, code", [
    ("unused h = x -> conv2d(8, 3)\noutput y = h -> relu", "E-NAME-UNUSED-READ"),
    ("h = x -> conv2d(8, 3)\nunused g = h\noutput y = h", "E-VALUE-UNUSED-NO-LAYER"),
    ("spare h = x -> conv2d(8, 3)\noutput y = x", "E-SYNTAX-UNEXPECTED-TOKEN"),
])
def test_mistakes(text, code):
    with pytest.raises(SpecErrors) as info:
        archc.loads("model M\ninput x: [N, 3, 8, 8]\n" + text + "\n")
    assert code in [e.code for e in info.value.errors]
