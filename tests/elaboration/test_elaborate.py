"""Elaboration: blocks, stages, merges, several inputs and outputs, naming, frozen layers,
parameters and expressions, symbolic sizes, dependency order."""
import textwrap

import pytest

import archc
from archc.errors import SpecErrors


def load(text, **params):
    return archc.loads(textwrap.dedent(text), params=params or None)


def load_errors(text, **params):
    with pytest.raises(SpecErrors) as info:
        load(text, **params)
    return info.value.errors


def shape(model, node_id):
    return tuple(str(d) for d in model.graph.node(node_id).shape)


def test_squeeze_and_excitation_multiply_broadcasts_channel_weights():
    model = load("""\
        block SE(reduction = 4)(x) {
          w = x -> global_avgpool(keepdims=true) -> conv2d(x.channels // reduction, 1, name=fc1) -> relu
                -> conv2d(x.channels, 1, name=fc2) -> sigmoid
          return x * w
        }
        input x: [N, 32, H, W]
        output y = x -> SE(name=se)
        """)
    assert shape(model, "se.fc1") == ("N", "8", "1", "1")
    assert shape(model, "se.multiply") == ("N", "32", "H", "W")
    assert model.params == (32 * 8 + 8) + (8 * 32 + 32)


def test_inception_branches_rejoin_by_concatenation():
    model = load("""\
        block Inception(c1, c3r, c3, c5r, c5, pp)(x) {
          b1 = x -> conv2d(c1, 1)
          b2 = x -> conv2d(c3r, 1) -> conv2d(c3, 3, padding=1)
          b3 = x -> conv2d(c5r, 1) -> conv2d(c5, 5, padding=2)
          b4 = x -> maxpool2d(3, stride=1, padding=1) -> conv2d(pp, 1)
          return concat(b1, b2, b3, b4)
        }
        input x: [N, 192, 28, 28]
        output y = x -> Inception(64, 96, 128, 16, 32, 32, name=inception3a)
        """)
    # GoogLeNet's inception (3a): 64 + 128 + 32 + 32 = 256 channels at 28×28 (Szegedy et al. 2014, Table 1)
    assert shape(model, "inception3a.concat") == ("N", "256", "28", "28")
    weights = 192 * 64 + 192 * 96 + 96 * 128 * 9 + 192 * 16 + 16 * 32 * 25 + 192 * 32
    assert model.params == weights + 64 + 96 + 128 + 16 + 32 + 32
    assert len(model.graph.nx.in_edges("inception3a.concat")) == 4


def test_several_inputs_and_named_outputs():
    model = load("""\
        input image: [N, 3, 32, 32]
        input meta: [N, 8]
        features = image -> conv2d(16, 3, padding=1) -> global_avgpool
        joint = concat(features, meta -> linear(16))
        output class_probs = joint -> linear(10) -> softmax
        output bbox = joint -> linear(4)
        """)
    assert set(model.graph.inputs) == {"image", "meta"}
    assert {k: tuple(map(str, v)) for k, v in model.output_shapes.items()} == \
        {"class_probs": ("N", "10"), "bbox": ("N", "4")}


def test_repeat_and_sequential_name_children_like_pytorch():
    model = load("""\
        block Unit(c, stride = 1)(x) {
          return x -> conv2d(c, 3, stride=stride, padding=1, name=conv) -> relu
        }
        input x: [N, 3, 32, 32]
        y = x -> repeat(3, Unit(8, stride = 2 if i == 0 else 1), name=stage)
        output z = y -> sequential(conv2d(4, 1), batchnorm2d(), relu(), name=head)
        """)
    ids = [n.id for n in model.graph.layers()]
    assert ["stage.0.conv", "stage.1.conv", "stage.2.conv"] == [i for i in ids if i.endswith(".conv")]
    assert ["head.0", "head.1", "head.2"] == [i for i in ids if i.startswith("head.")]
    assert shape(model, "stage.0.conv") == ("N", "8", "16", "16")
    assert shape(model, "stage.2.conv") == ("N", "8", "16", "16")
    assert model.graph.scopes[("stage",)].kind == "repeat"
    assert model.graph.scopes[("stage", "1")].type_name == "Unit"


def test_block_reads_its_input_channels_to_choose_a_branch():
    model = load("""\
        block Res(out)(x) {
          y = x -> conv2d(out, 3, padding=1)
          s = x if x.channels == out else x -> conv2d(out, 1, name=proj)
          return y + s
        }
        input x: [N, 16, 8, 8]
        output z = x -> Res(16, name=same) -> Res(32, name=wider)
        """)
    ids = {n.id for n in model.graph.layers()}
    assert "wider.proj" in ids and "same.proj" not in ids


def test_frozen_layers_count_as_frozen_not_trainable():
    model = load("""\
        input x: [N, 3, 8, 8]
        f = x -> sequential(conv2d(8, 3), relu(), name=backbone, frozen=true)
        output y = f -> flatten -> linear(10, name=head)
        """)
    backbone = 3 * 8 * 9 + 8
    assert model.frozen_params == backbone
    assert model.trainable_params == 8 * 6 * 6 * 10 + 10
    assert model.graph.node("backbone.0").frozen and not model.graph.node("head").frozen


def test_initializers_are_recorded_and_checked():
    model = load("""\
        input x: [N, 3, 8, 8]
        output y = x -> conv2d(8, 3, init=he_normal, bias_init=zeros)
        """)
    node = model.graph.node("y")  # the output's one call: named after it
    assert (node.init, node.bias_init) == ("he_normal", "zeros")
    with pytest.raises(SpecErrors) as info:
        load("input x: [N, 3, 8, 8]\noutput y = x -> conv2d(8, 3, init=he_normall)\n")
    assert "he_normal" in info.value.errors[0].hint


def test_names_must_be_unique_within_a_scope():
    with pytest.raises(SpecErrors) as info:
        load("input x: [N, 3, 8, 8]\noutput y = x -> conv2d(8, 3, name=c) -> conv2d(8, 3, name=c)\n")
    assert "the name 'c' is used twice" in info.value.errors[0].message


def test_auto_names_are_unique():
    model = load("input x: [N, 3, 8, 8]\noutput y = x -> relu -> relu -> relu\n")
    assert [n.id for n in model.graph.layers()] == ["x", "relu", "relu_1", "relu_2"]


def test_parameters_and_expressions():
    model = load("""\
        param width = 0.5
        param classes = 10
        input x: [N, 3, 8, 8]
        output y = x -> conv2d(make_divisible(64 * width, 8), 3) -> flatten -> linear(classes * 2)
        """, classes=3)
    assert shape(model, "conv2d") == ("N", "32", "6", "6")
    assert shape(model, "linear") == ("N", "6")


def test_symbolic_sizes_flow_through_and_give_minimum_sizes():
    model = load("""\
        input x: [N, 1, H, W]
        output y = x -> conv2d(6, 5) -> maxpool2d(2) -> conv2d(16, 5) -> maxpool2d(2) -> global_avgpool
        """)
    assert shape(model, "conv2d") == ("N", "6", "H - 4", "W - 4")
    assert shape(model, "maxpool2d") == ("N", "6", "floor(H/2) - 2", "floor(W/2) - 2")
    assert model.constraints == ["H >= 16", "W >= 16"]


def test_parameter_shapes_must_be_concrete():
    with pytest.raises(SpecErrors) as info:
        load("input x: [N, 1, H, W]\noutput y = x -> flatten -> linear(10)\n")
    assert "concrete" in info.value.errors[0].message


def test_layer_name_can_come_from_a_block_parameter():
    model = load("""\
        block B(k)(x) {
          return x -> conv2d(4, 3, padding=1, name=str(k))
        }
        input x: [N, 3, 8, 8]
        output y = x -> B(0, inline=true) -> B(1, inline=true)
        """)
    assert [n.id for n in model.graph.layers()] == ["x", "0", "1"]


def test_a_bare_layer_name_that_is_also_a_value_is_an_error_not_a_rename():
    # issue 8: `name=squeeze` inside `block Fire(squeeze)` named the module after the value (16)
    errors = load_errors("""\
        block Fire(squeeze)(x) {
          return x -> conv2d(squeeze, 1, name=squeeze)
        }
        input x: [N, 3, 8, 8]
        output y = x -> Fire(16)
        """)
    assert "name=squeeze is ambiguous" in errors[0].message
    assert 'name="squeeze"' in errors[0].hint and "str(squeeze)" in errors[0].hint
    fixed = load("""\
        block Fire(squeeze)(x) {
          return x -> conv2d(squeeze, 1, name="squeeze")
        }
        input x: [N, 3, 8, 8]
        output y = x -> Fire(16)
        """)
    assert [n.id for n in fixed.graph.layers()] == ["x", "y.squeeze"]  # (the output's one call names its module)


def test_a_parameter_named_like_an_op_does_not_hide_the_op():
    model = load("""\
        param dropout = 0.25
        input x: [N, 8]
        output y = x -> dropout(dropout)
        """)
    assert model.graph.node("y").attrs["p"] == 0.25


@pytest.mark.parametrize("text, codes", [
    # one mistake, one error: its catalogue code (docs/errors.md) and a hint
    ("input x: [N, 3, 8, 8]\noutput y = x -> conv2d(widht, 3, groups=widht * 2)\n", ["E-NAME-UNKNOWN"]),
    ("input x: [N, 3, 8, 8]\nh = x -> conv2d(4, 3)\noutput y = x -> relu\n", ["E-NAME-UNUSED"]),
    ("input x: [N, 3, 8, 8]\na, b, c = x -> conv2d(4, 1) -> chunk(2)\noutput y = a + b + c\n", ["E-VALUE-UNPACK"]),
    ("block B(c)(x) {\n  return x -> conv2d(c, 1)\n}\ninput x: [N, 3, 8, 8]\noutput y = x -> B()\n",
     ["E-CALL-MISSING-ARGUMENT"]),
    ("input x: [N, 3, 8, 8]\noutput y = x -> conv2d(4, 3, strid=2, paddng=1)\n",
     ["E-CALL-UNKNOWN-KEYWORD", "E-CALL-UNKNOWN-KEYWORD"]),
    ("block Head()(x) {\n  return x -> linear(classes)\n}\nparam classes = 10\ninput x: [N, 8]\n"
     "output y = x -> Head()\n", ["E-BLOCK-MODEL-PARAM"]),
    ("input x: [N, 3, H, W]\noutput y = x -> relu if x.width > 8 else x\n", ["E-VALUE-SYMBOLIC-CONDITION"]),
    ("input x: [N, 3, 8, 8]\noutput y = x -> repeat(0, relu)\n", ["E-CALL-REPEAT-COUNT"]),
])
def test_elaboration_errors_carry_their_code_and_a_hint(text, codes):
    errors = load_errors(text)
    assert [e.code for e in errors] == codes, [e.render() for e in errors]
    assert all(e.hint for e in errors)
    assert all(f"error[{code}]: " in e.render() for e, code in zip(errors, codes))


def test_a_name_never_read_is_unused_not_a_layer_of_a_branch_not_taken():
    errors = load_errors("""\
        input x: [N, 3, 8, 8]
        h = x -> conv2d(4, 3)
        output y = x -> relu
        """)
    assert [e.message for e in errors] == ["'h' is computed but never used in the model"]


def test_statements_run_in_dependency_order_whatever_order_they_are_written_in():
    in_order = """
input x: [N, 3, 16, 16]
a = x -> conv2d(8, 3, padding=1, name=first)
b = x -> conv2d(8, 1, name=second)
c = a + b
output y = c -> relu(name=last)
"""
    shuffled = """
input x: [N, 3, 16, 16]
c = a + b
b = x -> conv2d(8, 1, name=second)
a = x -> conv2d(8, 3, padding=1, name=first)
output y = c -> relu(name=last)
"""
    def layers(text):
        graph = archc.loads(text).graph
        return [(n.id, n.shape, n.inputs) for n in graph.layers()]
    # written in order: the text's order; shuffled: dependencies first, then the earliest written
    assert [i for i, _, _ in layers(in_order)] == ["x", "first", "second", "add", "last"]
    assert [i for i, _, _ in layers(shuffled)] == ["x", "second", "first", "add", "last"]
    assert sorted(layers(shuffled)) == sorted(layers(in_order))
