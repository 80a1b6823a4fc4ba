"""Weight sharing: `tower = shared(Tower(16))` is one module every application calls (Keras'
shared layers, a siamese network's tower, a detection head used on every pyramid level).
Parameters are counted once, MACs per application; the generated forward calls the same
module; the state_dict holds one copy; the executor (written apart from the code generator)
agrees."""
import pytest

import archc
from archc.errors import SpecErrors

torch = pytest.importorskip("torch")

SIAMESE = """
model Siamese
block Tower(c)(x) {
  return x -> conv2d(c, 3, padding=1, name=conv) -> batchnorm2d(name=bn) -> relu
      -> adaptive_avgpool2d(1) -> flatten
}
input a: [N, 3, H, W]
input b: [N, 3, H, W]
tower = shared(Tower(16))
head = shared(linear(8, name=fc))
fa = a -> tower -> head
fb = b -> tower -> head
output distance = (fa - fb) * (fa - fb) -> reduce_sum(axis=1)
"""

# one head on every level of a pyramid: the levels' sizes differ, the weights do not
PYRAMID = """
model Heads
input x: [N, 8, H, W]
p3 = x -> conv2d(16, 3, padding=1, name=lateral)
p4 = p3 -> maxpool2d(2)
p5 = p4 -> maxpool2d(2)
head = shared(sequential(conv2d(16, 3, padding=1), relu, conv2d(4, 1), name=cls))
output "3" = p3 -> head
output "4" = p4 -> head
output "5" = p5 -> head
"""


def test_parameters_once_macs_per_application():
    model = archc.loads(SIAMESE, hyperparams=None)
    single = archc.loads(SIAMESE.replace("tower = shared(Tower(16))", "tower = Tower(16)")
                         .replace("head = shared(linear(8, name=fc))", "head = linear(8)"))
    tower = 3 * 16 * 9 + 16 + 2 * 16
    assert model.params == tower + 16 * 8 + 8
    assert single.params == 2 * model.params  # two towers and two heads when not shared
    assert model.macs == single.macs
    assert list(model.state_dict_shapes()) == ["tower.conv.weight", "tower.conv.bias", "tower.bn.weight",
                                               "tower.bn.bias", "tower.bn.running_mean", "tower.bn.running_var",
                                               "tower.bn.num_batches_tracked", "fc.weight", "fc.bias"]
    graph = model.graph
    assert graph.node("fc@2").shares == "fc" and graph.node("tower@2.conv").shares == "tower.conv"
    assert graph.scopes[("tower@2",)].shares == ("tower",)


def test_generated_forward_calls_one_module():
    model = archc.loads(SIAMESE)
    source = model.to_source()
    assert source.count("self.tower = Tower(") == 1 and source.count("self.fc = nn.Linear(") == 1
    assert "fa = self.tower(a)" in source and "fb = self.tower(b)" in source
    assert source.count("self.fc(") == 2
    module = archc.build(model).eval()
    assert list(module.state_dict()) == list(model.state_dict_shapes())
    x = torch.randn(2, 3, 9, 7)
    with torch.no_grad():
        assert torch.equal(module(x, x), torch.zeros(2))  # the same weights on both sides
        assert module(x, torch.randn(2, 3, 9, 7)).abs().sum() > 0


@pytest.mark.parametrize("text", [SIAMESE, PYRAMID], ids=["siamese", "pyramid"])
def test_generated_module_equals_the_executor(text):
    from test_reference_executor import check_against_executor
    check_against_executor(archc.loads(text), {"N": 2, "H": 12, "W": 8})


def test_a_head_shared_across_sizes():
    model = archc.loads(PYRAMID)
    assert model.params == 8 * 16 * 9 + 16 + 16 * 16 * 9 + 16 + 16 * 4 + 4
    assert [k for k in model.state_dict_shapes() if k.startswith("cls.")] == [
        "cls.0.weight", "cls.0.bias", "cls.2.weight", "cls.2.bias"]
    assert "cls@3" in model.graph.scopes[("cls@3",)].id


def test_summary_json_and_diagram_say_what_is_shared():
    model = archc.loads(SIAMESE)
    text = model.summary()
    assert "Tower = tower" in text and "Linear 8 = fc" in text
    data = model.summary("json")
    assert '"shares": "tower"' in data and '"shares": "fc"' in data
    from archc.backends.diagram.model import build
    labels = " ".join(n.label for n in build(model, depth=None).nodes.values())
    assert "= fc (shared)" in labels


def test_a_block_using_a_shared_layer_is_evaluated_per_instance():
    # two alike instances: each marks its own second application (never replayed from the other)
    model = archc.loads("""
model Twice
block Pair(c)(a, b) {
  t = shared(conv2d(c, 3, padding=1, name=conv))
  return (a -> t) + (b -> t)
}
input x: [N, 4, 8, 8]
input y: [N, 4, 8, 8]
h = Pair(x, y, 4, name=p1)
k = Pair(x, y, 4, name=p2)
output o = h + k
""")
    graph = model.graph
    assert graph.node("p1.conv@2").shares == "p1.conv" and graph.node("p2.conv@2").shares == "p2.conv"
    assert model.params == 2 * (4 * 4 * 9 + 4)
    source = model.to_source()
    assert source.count("self.conv(") == 2 and "self.conv = nn.Conv2d(" in source


@pytest.mark.parametrize("body, code", [
    ("output y = x -> shared(conv2d(8, 3)) -> relu", "E-SHARE-NOT-A-LAYER"),
    ("c = shared(3)\noutput y = x -> c", "E-SHARE-NOT-A-LAYER"),
    ("c = shared(conv2d(3, 3, padding=1))\noutput y = x -> c -> sequential(relu, c)", "E-SHARE-SCOPE"),
    ("c = shared(conv2d(3, 3, padding=1))\noutput y = x -> c -> repeat(2, c)", "E-SHARE-SCOPE"),
    ("c = shared(conv2d(8, 3, padding=1))\noutput y = x -> c -> c", "E-SHARE-MISMATCH"),
    ("c = shared(conv2d(8, 3, padding=1))\noutput y = x -> c(stride=2)", "E-CALL-ARGUMENT-COUNT"),
])
def test_mistakes(body, code):
    with pytest.raises(SpecErrors) as info:
        archc.loads("model M\ninput x: [N, 3, 8, 8]\n" + body + "\n")
    assert code in [e.code for e in info.value.errors]


def test_a_block_named_shared_keeps_its_meaning():
    model = archc.loads("""
model M
block shared(c)(x) {
  return x -> conv2d(c, 1)
}
input x: [N, 3, 8, 8]
output y = x -> shared(4)
""")
    assert model.params == 3 * 4 + 4
