"""One option, two spellings: PyTorch says `dim` (softmax, cat), archc `axis` (concat, chunk,
reductions); each op documents its own and accepts the other. PyTorch's names for attributes
archc names otherwise (`scale_factor`, `kernel_size`) are answered with archc's, as a fix."""
import pytest

import archc
from archc.errors import SpecErrors
from archc.fixes import apply, preferred_fixes

HEAD = "model M\ninput x: [N, 4, 8, 8]\n"


@pytest.mark.parametrize("written, canonical", [
    ("softmax(axis=2)", "softmax(dim=2)"),
    ("[x, x] -> concat(dim=1)", "[x, x] -> concat(axis=1)"),
    ("reduce_mean(dim=[2, 3])", "reduce_mean(axis=[2, 3])"),
])
def test_axis_and_dim_are_one_option(written, canonical):
    def shapes(call):
        text = HEAD + f"output y = {call if call.startswith('[') else 'x -> ' + call}\n"
        return archc.loads(text).output_shapes["y"]
    assert shapes(written) == shapes(canonical)


def test_both_spellings_at_once_are_given_twice():
    with pytest.raises(SpecErrors) as info:
        archc.loads(HEAD + "output y = x -> softmax(dim=1, axis=1)\n")
    assert [e.code for e in info.value.errors] == ["E-CALL-ARGUMENT-TWICE"]


@pytest.mark.parametrize("call, ours", [("upsample(scale_factor=2)", "scale"), ("conv2d(8, kernel_size=3)", "kernel"),
                                        ("groupnorm(num_groups=2)", "groups")])
def test_pytorch_names_are_answered_with_archcs(call, ours):
    text = HEAD + f"output y = x -> {call}\n"
    with pytest.raises(SpecErrors) as info:
        archc.loads(text)
    (error,) = info.value.errors
    assert error.code == "E-CALL-UNKNOWN-KEYWORD" and f"archc calls it {ours}" in error.message
    archc.loads(apply(text, "<string>", preferred_fixes([error]))[0])
