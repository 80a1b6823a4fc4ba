"""Dotted layer names make containers: `name="convs.1"` is member `1` of the container `convs`
(an nn.ModuleList when its members are named 0, 1, … in the order made, else an nn.ModuleDict),
registered where its first member is made and never called itself; the body calls each member
where it stands. timm's Res2Net interleaves `convs.i` and `bns.i` this way."""
import pytest

import archc
from archc.errors import SpecErrors

torch = pytest.importorskip("torch")

RES2 = """
model Res2
input x: [N, 8, 16, 16]
a, b = x -> chunk(2)
y0 = a -> conv2d(4, 3, padding=1, bias=false, name="convs.0") -> batchnorm2d(name="bns.0") -> relu
y1 = (y0 + b) -> conv2d(4, 3, padding=1, bias=false, name="convs.1") -> batchnorm2d(name="bns.1") -> relu
output o = concat(y0, y1) -> conv2d(8, 1, name="head.fc")
"""

IN_A_BLOCK = """
model Stages
block Split(width)(x) {
  a, b = x -> chunk(2)
  y0 = a -> conv2d(width, 3, padding=1, name="convs.0") -> relu
  y1 = (y0 + b) -> conv2d(width, 3, padding=1, name="convs.1")
  return concat(y0, y1)
}
block Unit(c)(x) {
  return x -> conv2d(c, 1) -> relu
}
input x: [N, 8, H, W]
h = x -> repeat(2, Split(4), name=layer1)
u = h -> Unit(8, name="units.0") -> Unit(8, name="units.1")
output o = u -> repeat(2, conv2d(8, 1), name="tail.deep")
"""


def keys(model):
    return list(model.state_dict_shapes())


def test_members_interleave_in_forward_and_register_by_container():
    model = archc.loads(RES2)
    assert keys(model) == [
        "convs.0.weight", "convs.1.weight",
        *(f"bns.{k}.{p}" for k in range(2) for p in ("weight", "bias", "running_mean", "running_var",
                                                    "num_batches_tracked")),
        "head.fc.weight", "head.fc.bias"]
    assert model.graph.scopes[("convs",)].type_name == "ModuleList"
    assert model.graph.scopes[("head",)].type_name == "ModuleDict"
    source = model.to_source()
    assert "self.convs = nn.ModuleList(" in source and "self.convs[1](y1)" in source
    assert 'self.head = nn.ModuleDict({"fc": ' in source.replace("'", '"')
    module = archc.build(model)
    assert list(module.state_dict()) == keys(model)
    assert isinstance(module.convs, torch.nn.ModuleList) and isinstance(module.head, torch.nn.ModuleDict)


@pytest.mark.parametrize("text", [RES2, IN_A_BLOCK], ids=["model", "blocks"])
def test_generated_module_equals_the_executor(text):
    from test_reference_executor import check_against_executor
    model = archc.loads(text)
    check_against_executor(model, {"N": 2, "H": 9, "W": 7} if "H" in text else None)


def test_containers_in_blocks_repeats_and_of_blocks():
    model = archc.loads(IN_A_BLOCK, hyperparams=None)
    names = keys(model)
    assert "layer1.1.convs.1.weight" in names and "units.1.0.weight" not in names
    assert [k for k in names if k.startswith("units.")] == [
        "units.0.conv2d.weight", "units.0.conv2d.bias", "units.1.conv2d.weight", "units.1.conv2d.bias"]
    assert [k for k in names if k.startswith("tail.")] == [
        "tail.deep.0.weight", "tail.deep.0.bias", "tail.deep.1.weight", "tail.deep.1.bias"]
    module = archc.build(model)
    assert list(module.state_dict()) == names


def test_yaml_and_fmt_keep_dotted_names():
    from archc.frontend.printer import to_dsl, to_yaml
    model = archc.loads(RES2)
    again = archc.loads(to_yaml(model.spec), "yaml")
    assert keys(again) == keys(model)
    assert to_dsl(archc.loads(to_dsl(model.spec)).spec) == to_dsl(model.spec)


@pytest.mark.parametrize("text, code", [
    # a layer is not a container
    ("h = x -> conv2d(4, 1, name=convs)\noutput o = h -> conv2d(4, 1, name=\"convs.0\")", "E-NAME-LAYER-DUPLICATE"),
    # a member named twice
    ("h = x -> conv2d(4, 1, name=\"c.0\")\noutput o = h -> conv2d(4, 1, name=\"c.0\")", "E-NAME-LAYER-DUPLICATE"),
    # a block instance is not a container either
    ("h = x -> sequential(relu, name=s)\noutput o = h -> conv2d(4, 1, name=\"s.1\")", "E-NAME-LAYER-DUPLICATE"),
    # empty parts and reserved attributes are still refused
    ("output o = x -> conv2d(4, 1, name=\"c..0\")", "E-NAME-LAYER-INVALID"),
    ("output o = x -> conv2d(4, 1, name=\"c.forward\")", "E-NAME-LAYER-RESERVED"),
])
def test_what_a_dotted_name_cannot_do(text, code):
    with pytest.raises(SpecErrors) as info:
        archc.loads("model M\ninput x: [N, 4, 8, 8]\n" + text)
    assert code in [e.code for e in info.value.errors]


def test_a_container_registers_where_its_first_member_is_made():
    model = archc.loads("""
model M
input x: [N, 4, 8, 8]
a = x -> conv2d(4, 1, name="c.0") -> conv2d(4, 1, name=mid) -> conv2d(4, 1, name="c.1") -> conv2d(4, 1, name="d.0")
output o = a -> conv2d(4, 1, name=last) -> conv2d(4, 1, name="d.1")
""")
    order = [k.rsplit(".", 1)[0] for k in keys(model)][::2]
    assert order == ["c.0", "c.1", "mid", "d.0", "d.1", "last"]
    assert list(archc.build(model).state_dict()) == keys(model)


def test_yaml_takes_a_dotted_name_unquoted_but_a_size_stays_a_size():
    model = archc.loads("inputs: {x: [N, 3, 8, 8]}\noutputs:\n  y: [x, {conv2d: [4, 3], name: convs.0}]\n", "yaml")
    assert list(model.state_dict_shapes())[0] == "convs.0.weight"
    model = archc.loads("inputs: {x: [N, 3, 8, 8]}\noutputs:\n  y: [x, {conv2d: [4, 3], name: x.channels}]\n", "yaml")
    assert list(model.state_dict_shapes())[0] == "3.weight"
