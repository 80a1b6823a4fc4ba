"""A block may return the results of a call that gives several tensors: `return x -> Split()`
returns both of Split's (issue #18); the generated forward returns them as a tuple."""
from __future__ import annotations

import pytest

import archc
from spec_helpers import errors_of, load

SPEC = """
    model M
    input x: [N, 3, 16, 16]
    block Split()(x) {
      a, b = x -> chunk(2, axis=2)
      return a, b
    }
    block Twice()(x) {
      return x -> Split()
    }
    block More()(x) {
      return x -> relu, x -> Split()
    }
    p, q = x -> Twice()
    r, s, t = x -> More()
    output y = p + q + s + t - r[:, :, :8]
"""


def test_a_multi_result_call_returned_from_a_block_spreads_its_results() -> None:
    model = load(SPEC)
    assert [str(d) for d in model.output_shapes["y"]] == ["N", "3", "8", "16"]
    assert "split, split_ = self.split(x)" in model.to_source()  # Twice's forward


def test_the_built_module_computes_it() -> None:
    torch = pytest.importorskip("torch")
    module = archc.build(load(SPEC)).eval()
    x = torch.randn(2, 3, 16, 16)
    a, b = x.chunk(2, dim=2)
    assert torch.equal(module(x), a + b + a + b - x.relu()[:, :, :8])


def test_a_number_among_the_results_is_still_an_error() -> None:
    (err,) = errors_of("""
        input x: [N, 3, 16, 16]
        block B()(x) {
          return x -> relu, 3
        }
        output y = x -> B()
    """)
    assert err.code == "E-BLOCK-RETURN-NOT-TENSOR"


def test_an_op_given_a_list_of_tensors_takes_them_as_inputs() -> None:
    """concat([a, b]) is [a, b] -> concat (a block's return included); found writing timm's DLA,
    where it was 'the layer concat(...) without an input'."""
    model = load("""
        input x: [N, 3, 8, 8]
        block B()(x) {
          return concat([x, x -> relu], axis=1)
        }
        output y = x -> B()
        output z = concat([x, x, x])
    """)
    assert [str(d) for d in model.output_shapes["y"]] == ["N", "6", "8", "8"]
    assert [str(d) for d in model.output_shapes["z"]] == ["N", "9", "8", "8"]
