"""Options that do not define a layer are keyword-only (Op.positional), so PyTorch's argument
order never builds another network silently: `batchnorm2d(16)` was eps=16, `conv2d(3, 16, 3)`
three 16×16 filters with stride 3, `linear(48, 10)` a bias error. Calls in PyTorch's order are
recognised and answered with the archc spelling, offered as a fix."""
import pytest

import archc
from archc.errors import SpecErrors
from archc.fixes import apply, preferred_fixes


def errors(text, language="arch"):
    with pytest.raises(SpecErrors) as info:
        archc.loads(text, language)
    return info.value.errors


def fixed(text):
    """The spec after its preferred fixes, as `archc check --fix` writes it."""
    return apply(text, "<string>", preferred_fixes(errors(text)))[0]


HEAD = "model M\ninput x: [N, 3, 32, 32]\n"


@pytest.mark.parametrize("call, archc_form", [
    ("conv2d(3, 16, 3)", "conv2d(16, 3)"),
    ("conv2d(3, 16, 3, 2, 1)", "conv2d(16, 3, stride=2, padding=1)"),
    ("conv_transpose2d(3, 8, 2, 2)", "conv_transpose2d(8, 2, stride=2)"),
    ("batchnorm2d(3)", "batchnorm2d()"),
])
def test_pytorch_order_is_recognised_and_fixed(call, archc_form):
    text = HEAD + f"output y = x -> {call}\n"
    (error,) = errors(text)
    assert error.code == "E-CALL-POSITIONAL-OPTION" and "PyTorch's order" in error.message
    assert archc_form in error.hint
    assert fixed(text) == HEAD + f"output y = x -> {archc_form}\n"
    archc.loads(fixed(text))


def test_linear_in_pytorch_order():
    text = "model M\ninput x: [N, 48]\noutput y = x -> linear(48, 10)\n"
    (error,) = errors(text)
    assert "in_features" in error.message and "linear(10)" in error.hint
    assert archc.loads(fixed(text)).output_shapes["y"][1] == 10


def test_keyword_options_keep_the_meaning_of_the_positional_call():
    text = HEAD + "output y = x -> conv2d(8, 3, 2, 1)\n"
    (error,) = errors(text)
    assert error.message == "conv2d takes 2 attributes by position (out, kernel); stride, padding are keyword-only"
    assert fixed(text) == HEAD + "output y = x -> conv2d(8, 3, stride=2, padding=1)\n"
    assert [str(d) for d in archc.loads(fixed(text)).output_shapes["y"]] == ["N", "8", "16", "16"]


def test_batchnorm_with_another_number_says_what_it_would_have_been_and_offers_no_guess():
    (error,) = errors(HEAD + "output y = x -> batchnorm2d(16)\n")
    assert "infers num_features" in error.message and "eps=16" in error.hint
    assert error.fixes == []


def test_a_value_of_the_wrong_kind_gets_no_keyword_fix():
    # linear(8192, 10) where the input has 7200 features: bias=10 would be nonsense
    (error,) = errors("model M\ninput x: [N, 7200]\noutput y = x -> linear(8192, 10)\n")
    assert error.fixes == [] and "PyTorch's order" in error.hint and "linear(10)" in error.hint


def test_yaml_gets_the_message_but_no_text_fix():
    (error,) = errors("inputs: {x: [N, 3, 8, 8]}\noutputs:\n  y: [x, {conv2d: [3, 16, 3]}]\n", "yaml")
    assert error.code == "E-CALL-POSITIONAL-OPTION" and error.fixes == []


@pytest.mark.parametrize("call", ["batchnorm2d(eps=16)", "layernorm(axis=1, eps=2)", "groupnorm(3, eps=1)",
                                  "dropout(1.0)"])
def test_implausible_values_warn(call):
    model = archc.loads(HEAD + f"output y = x -> {call}\n")
    assert [w.code for w in model.warnings] == ["W-ATTR-IMPLAUSIBLE"]


def test_pools_and_the_attributes_that_define_a_layer_stay_positional():
    model = archc.loads(HEAD + "output y = x -> conv2d(8, 3) -> maxpool2d(3, 2, 1) -> dropout(0.2)\n")
    assert [str(d) for d in model.output_shapes["y"]] == ["N", "8", "15", "15"]
