"""Two statements of which a static condition builds only one may give their layers one name
(torchvision's `downsample` is a 1x1 conv in one block and a conv + pool in another; a stem is
one layer or another): the one a result needs takes the name, as the generated class builds only
the branch its condition takes. When both are built it is E-NAME-LAYER-DUPLICATE, as before."""
import pytest

import archc
from archc.errors import SpecErrors

BLOCK = """
model M
block Down(c, stride)(x) {
  plain = x -> conv2d(c, 1, bias=false, name=downsample)
  pooled = x -> sequential(avgpool2d(2), conv2d(c, 1, bias=false), name=downsample)
  return plain if stride == 1 else pooled
}
param stride = 1
input x: [N, 8, 16, 16]
output y = x -> Down(16, stride, name=a) -> Down(32, 2, name=b) -> Down(32, 1, name=c)
"""


def keys(model):
    return list(model.state_dict_shapes())


def test_the_built_one_takes_the_name_in_each_instance():
    model = archc.loads(BLOCK)
    assert keys(model) == ["a.downsample.weight", "b.downsample.1.weight", "c.downsample.weight"]
    assert keys(archc.loads(BLOCK, hyperparams={"stride": 2}))[0] == "a.downsample.1.weight"


def test_at_the_model_level_and_in_generated_code():
    torch = pytest.importorskip("torch")
    text = """
model Stem
param deep = false
input x: [N, 3, 32, 32]
one = x -> conv2d(16, 7, stride=2, padding=3, name=stem)
three = x -> sequential(conv2d(8, 3, stride=2, padding=1), relu, conv2d(16, 3, padding=1), name=stem)
output y = three if deep else one
"""
    for deep, expect in ((False, ["stem.weight", "stem.bias"]), (True, ["stem.0.weight", "stem.0.bias",
                                                                        "stem.2.weight", "stem.2.bias"])):
        model = archc.loads(text, hyperparams={"deep": deep})
        assert keys(model) == expect
        module = archc.build(model)
        assert list(module.state_dict()) == expect
        assert module(torch.randn(1, 3, 32, 32)).shape == (1, 16, 16, 16)


def test_the_generated_block_class_builds_one_or_the_other():
    torch = pytest.importorskip("torch")
    model = archc.loads(BLOCK)
    module = archc.build(model)
    assert list(module.state_dict()) == keys(model)
    assert module(torch.randn(2, 8, 16, 16)).shape == (2, 32, 8, 8)
    from test_reference_executor import check_against_executor
    check_against_executor(model, {"N": 2})


def test_both_built_is_still_a_duplicate():
    with pytest.raises(SpecErrors) as info:
        archc.loads(BLOCK.replace("return plain if stride == 1 else pooled", "return plain + pooled"))
    errors = [e for e in info.value.errors if e.code == "E-NAME-LAYER-DUPLICATE"]
    assert errors and errors[0].related and "first used here" in errors[0].related[0].message


def test_a_plain_duplicate_is_reported_where_it_is_written():
    with pytest.raises(SpecErrors) as info:
        archc.loads("model M\ninput x: [N, 3, 8, 8]\noutput y = x -> conv2d(8, 3, name=conv) -> relu "
                    "-> conv2d(8, 3, name=conv)\n")
    (error,) = info.value.errors
    assert error.code == "E-NAME-LAYER-DUPLICATE" and error.loc.col == 52 and error.related[0].loc.col == 17
