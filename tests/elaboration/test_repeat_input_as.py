"""repeat(n, layer, input_as=t): each copy's arguments see `t` bound to that copy's own input,
never the caller's tensor, so alternating depthwise/pointwise stages widen as they go (before, an
argument could only read the caller's `h`, and the copies were built with its widths, silently
where the numbers divided)."""
import pytest

import archc
from archc.errors import SpecErrors

SPEC = """
model M
input x: [N, 8, 16, 16]
output y = x -> repeat(3, sequential(conv2d(t.channels, 3, padding=1, groups=t.channels),
                                     conv2d(t.channels * 2, 1)), input_as=t, name=stages)
"""


def test_each_copy_sees_its_own_input():
    model = archc.loads(SPEC)
    shapes = model.state_dict_shapes()
    assert [shapes[f"stages.{k}.0.weight"] for k in range(3)] == [(8, 1, 3, 3), (16, 1, 3, 3), (32, 1, 3, 3)]
    assert [shapes[f"stages.{k}.1.weight"][:2] for k in range(3)] == [(16, 8), (32, 16), (64, 32)]


def test_an_inline_repeat_of_blocks_and_nested_repeats_see_it_too():
    model = archc.loads("""
model M
block Widen(c)(x) {
  return x -> conv2d(c, 1, name=conv)
}
input x: [N, 4, 8, 8]
h = x -> repeat(2, Widen(t.channels + 4, name="w" + str(i)), input_as=t, inline=true)
output y = h -> repeat(2, repeat(2, conv2d(u.channels + 1, 1), input_as=u), name=deep)
""")
    shapes = model.state_dict_shapes()
    assert shapes["w0.conv.weight"][:2] == (8, 4) and shapes["w1.conv.weight"][:2] == (12, 8)
    assert [shapes[f"deep.{a}.{b}.weight"][0] for a in range(2) for b in range(2)] == [13, 14, 15, 16]


def test_the_generated_module_builds_those_widths():
    torch = pytest.importorskip("torch")
    module = archc.build(archc.loads(SPEC))
    assert module(torch.randn(1, 8, 16, 16)).shape == (1, 64, 16, 16)


def test_the_name_is_not_read_from_the_caller_and_fmt_keeps_it():
    from archc.frontend.printer import to_dsl, to_yaml
    model = archc.loads(SPEC)  # no `t` in the model: not an unknown name
    again = archc.loads(to_yaml(model.spec), "yaml")
    assert again.state_dict_shapes() == model.state_dict_shapes()
    assert "input_as=t" in to_dsl(model.spec)


@pytest.mark.parametrize("option", ["input_as=3", "input_as=i", 'input_as="t"'])
def test_input_as_takes_a_plain_name(option):
    with pytest.raises(SpecErrors) as info:
        archc.loads(f"model M\ninput x: [N, 4, 8, 8]\noutput y = x -> repeat(2, relu, {option})\n")
    assert [e.code for e in info.value.errors] == ["E-CALL-OPTION-TYPE"]


def test_a_misspelt_option_is_suggested():
    with pytest.raises(SpecErrors) as info:
        archc.loads("model M\ninput x: [N, 4, 8, 8]\noutput y = x -> repeat(2, relu, inputs_as=t)\n")
    (error,) = info.value.errors
    assert error.code == "E-CALL-UNKNOWN-KEYWORD" and "input_as" in error.hint
