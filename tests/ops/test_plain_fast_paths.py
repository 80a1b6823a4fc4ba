"""The plain-int fast paths of binding and shape rules give what the general paths give: window
sizes (kept once computed), concat's same-shape test, bind's well-formed calls, and the recorded
numbers' strip/holds_num/compiled (archc.ir.numbers)."""
from __future__ import annotations

import pytest

from archc import symbolic as sy
from archc.ir.numbers import NumInt, Numbers, compiled, holds_num, strip
from archc.ops import REGISTRY
from archc.ops.base import AttrError, ShapeError
from archc.ops.common import sliding_output


class Ctx:
    def require_equal(self, a, b):
        return a == b

    def require_positive(self, d):
        return True


def _window(size, kernel, stride, pb, pa, dilation, ceil_mode):
    """PyTorch's output size of one axis, from its definition (None: no window fits)."""
    span = dilation * (kernel - 1) + 1
    room = size + pb + pa - span
    if room + (stride if ceil_mode else 1) < 1:
        return None
    out = -(-room // stride) + 1 if ceil_mode else room // stride + 1
    if ceil_mode and (out - 1) * stride >= size + pb:
        out -= 1
    return out


@pytest.mark.parametrize("ceil_mode", [False, True])
def test_plain_window_sizes_match_the_definition_and_stay_so_when_kept(ceil_mode):
    for _ in range(2):  # the second time from what was kept
        for size in (1, 2, 5, 7, 8):
            for kernel, stride, pb, pa, dilation in [(1, 1, 0, 0, 1), (3, 2, 1, 1, 1), (3, 1, 0, 2, 2),
                                                     (4, 3, 1, 0, 1), (7, 2, 3, 3, 1)]:
                want = _window(size, kernel, stride, pb, pa, dilation, ceil_mode)
                args = ((size, size), (kernel, kernel), (stride, stride), ((pb, pa), (pb, pa)),
                        (dilation, dilation), Ctx(), ceil_mode)
                if want is None:
                    with pytest.raises(ShapeError, match="larger than|spans"):
                        sliding_output(*args)
                else:
                    assert sliding_output(*args) == (want, want)


def test_a_symbolic_window_size_still_takes_the_symbolic_path():
    h = sy.sym("H")
    out = sliding_output((h, 8), (3, 3), (2, 2), ((1, 1), (1, 1)), (1, 1), Ctx())
    assert out == (sy.add(sy.floordiv(sy.add(h, -1), 2), 1), 4)


def test_concat_of_equal_shapes_off_the_axis_and_its_mismatch():
    n = sy.sym("N")
    op = REGISTRY.get("concat")
    a = op.bind([], {}, 2)
    assert op.output_shape(a, [(n, 16, 8, 8), (n, 32, 8, 8), (n, 8, 8, 8)], Ctx()) == (n, 56, 8, 8)
    with pytest.raises(ShapeError, match="spatial sizes differ, 8×8 vs 8×4"):
        op.output_shape(a, [(n, 16, 8, 8), (n, 32, 8, 4)], Ctx())
    last = op.bind([], {"axis": 3}, 2)  # (without the joined axis both are [N, 3, 8]: still a rank error)
    with pytest.raises(ShapeError, match=r"ranks differ, \[N, 3, 8, 8\] vs \[N, 3, 8\]"):
        op.output_shape(last, [(n, 3, 8, 8), (n, 3, 8)], Ctx())


def test_bind_of_a_well_formed_call_and_of_each_malformed_one():
    conv = REGISTRY.get("conv2d")
    bound = conv.bind([16, 3], {"stride": 2, "bias": False}, 2)
    assert list(bound.items()) == [("out", 16), ("kernel", (3, 3)), ("stride", (2, 2)), ("padding", ((0, 0), (0, 0))),
                                   ("dilation", (1, 1)), ("groups", 1), ("bias", False)]
    assert conv.bind([], {"kernel": 5, "out": 8}, 1) == {**conv.bind([8, 5], {}, 1)}
    cases = [(([16, 3, 1, 0, 1, 1, True, 9], {}), "takes at most 7 positional attributes"),
             (([16, 3], {"strid": 2}), "has no attribute 'strid'"),
             (([16, 3], {"out": 8}), "attribute 'out' given twice"),
             (([], {"kernel": 3}), "needs attribute 'out'"),
             (([16, 3], {"stride": 0, "groups": True}), "attribute 'stride': must be ≥ 1, got 0")]
    for (args, kwargs), message in cases:
        with pytest.raises(AttrError, match=message) as caught:
            conv.bind(args, kwargs, 2)
    assert [e.message for e in caught.value.also] == ["conv2d attribute 'groups': expected int ≥ 1, got true"]


def test_recorded_numbers_are_stripped_told_and_computed_in_their_places():
    a = NumInt(4, lambda n: n.params["a"])
    b = NumInt(2, lambda n: n.params["b"])
    assert strip([1, a, "x"]) == [1, 4, "x"] and strip((a,)) == (4,) and strip({"k": a, "s": 1}) == {"k": 4, "s": 1}
    plain = [1, 2.5, None]
    assert strip(plain) is plain and not holds_num(plain) and not holds_num({"k": [1]})
    assert holds_num([1, a]) and holds_num({"k": [b]}) and holds_num(([a],))
    numbers = Numbers({"a": 7, "b": 3}, [], {})
    given = compiled({"out": a, "kernel": 3, "stride": b})
    assert list(given(numbers).items()) == [("out", 7), ("kernel", 3), ("stride", 3)]
    assert compiled([a, 1, [b]])(numbers) == [7, 1, [3]] and compiled((1, a))(numbers) == (1, 7)
    assert compiled([1, 2]) is None
