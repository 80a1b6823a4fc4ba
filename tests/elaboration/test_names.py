"""Module names: as free as PyTorch's and computed (string joins, f-strings), refused where
PyTorch would refuse them, and an inline repeat numbering its caller's children."""
from __future__ import annotations

import textwrap

import pytest

import archc
from spec_helpers import build, errors_of, load


@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch")


def test_module_names_as_free_as_pytorch_and_computed(torch):
    model = load("""\
        block Stage(k, n)(x) {
          y = x -> conv2d(4, 3, padding=1, name="block" + str(k) + "-0")
          return y if n == 1 else y -> conv2d(4, 3, padding=1, name="block" + str(k) + "-" + str(len([1, 2])))
        }
        input x: [N, 4, 8, 8]
        output y = x -> Stage(1, 2, name="block" + str(1))
        """)
    assert set(model.state_dict_shapes()) == {"block1.block1-0.weight", "block1.block1-0.bias",
                                              "block1.block1-2.weight", "block1.block1-2.bias"}
    module = build(model)
    assert set(module.state_dict()) == set(model.state_dict_shapes())
    assert tuple(module(torch.randn(1, 4, 8, 8)).shape) == (1, 4, 8, 8)


def test_yaml_unquoted_hyphenated_name_is_the_name():
    model = archc.loads(textwrap.dedent("""\
        inputs: {x: [N, 3, 8, 8]}
        outputs:
          y: [x, {conv2d: [4, 3], name: block1-0}]
        """), "yaml")
    assert "block1-0" in model.shapes


@pytest.mark.parametrize("name", ['"a..b"', '"a."', '""'])
def test_names_pytorch_refuses_are_refused(name):
    errors = errors_of(f"input x: [N, 3]\noutput y = x -> linear(2, name={name})\n")
    assert "not a valid module name" in errors[0].message


def test_strings_join_only_with_strings():
    errors = errors_of('input x: [N, 3]\noutput y = x -> linear(2, name="fc" + 1)\n')
    assert "joins a string only with a string" in errors[0].message and "str()" in errors[0].hint


def test_a_reserved_word_as_a_layer_name_suggests_quoting_it():
    errors = errors_of("block B()(x) {\n  return x -> conv2d(4, 1, name=block)\n}\n"
                       "input x: [N, 3, 8, 8]\noutput y = x -> B\n")
    assert errors[0].hint == "'block' is a reserved word; quote the layer name: name=\"block\""


def test_inline_repeat_numbers_the_callers_children_as_the_body_names_them():
    # RegNet: trunk_output.block2.block2-0, block2-1, … without a module for the repeat itself
    model = load("""\
        block Unit(out, stride = 1)(x) {
          return x -> conv2d(out, 3, stride=stride, padding=1, name=conv)
        }
        block Stage(k, depth, out)(x) {
          return x -> repeat(depth, Unit(out, stride = 2 if i == 0 else 1,
                                         name="block" + str(k) + "-" + str(i)), inline=true)
        }
        input x: [N, 3, 16, 16]
        output y = x -> repeat(2, Stage(i + 1, 2, 8 * (i + 1), name="block" + str(i + 1)), name=trunk_output)
        """)
    assert [k for k in model.state_dict_shapes() if k.endswith("weight")] == [
        "trunk_output.block1.block1-0.conv.weight", "trunk_output.block1.block1-1.conv.weight",
        "trunk_output.block2.block2-0.conv.weight", "trunk_output.block2.block2-1.conv.weight"]
    assert model.output_shapes["y"][1:] == (16, 4, 4)


def test_inline_repeat_takes_no_name_of_its_own():
    errors = errors_of("input x: [N, 3, 8, 8]\noutput y = x -> repeat(2, conv2d(3, 1), inline=true, name=r)\n")
    assert "an inline repeat has no name of its own" in errors[0].message


def test_f_strings_build_names():
    model = load("""\
        block B(k, j)(x) {
          return x -> conv2d(4, 1, name=f"block{k}-{j + 1}") -> relu(name=f"act{{x}}{k}")
        }
        input x: [N, 3, 8, 8]
        output y = x -> B(1, 2, name=f"s{len([1, 2])}")
        """)
    assert "s2.block1-3" in model.shapes and "s2.act{x}1" in model.shapes


def test_f_string_round_trips_and_errors_point_inside_it():
    from archc.ast import without_locs
    from archc.frontend.printer import to_dsl, to_yaml
    model = load('input x: [N, 3]\noutput y = x -> linear(2, name=f"fc{{1}}-{2 * 3}")\n')
    assert "fc{1}-6" in model.shapes
    assert without_locs(archc.loads(to_dsl(model.spec)).spec) == without_locs(model.spec)
    assert without_locs(archc.loads(to_yaml(model.spec), "yaml").spec) == without_locs(model.spec)
    errors = errors_of('input x: [N, 3]\noutput y = x -> linear(2, name=f"fc{1 +}")\n')
    assert errors[0].loc.line == 2 and errors[0].loc.col > 30
    errors = errors_of('input x: [N, 3]\noutput y = x -> linear(2, name=f"fc{oops}")\n')
    assert "unknown name 'oops'" in errors[0].message
