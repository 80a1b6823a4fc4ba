"""Patterns (archc.ir.patterns): a block instance alike an earlier one but for its numbers is built
from that one's recording, instantiated with its own numbers. The graph, the diagnostics and the
warnings must be exactly those of evaluating every instance: on the zoo (test_instances.py), on
the cases below, and on random blocks whose bodies decide from their numbers in every way the
language allows (comparisons, conditions, list indices, repeat counts, names, built-ins, sizes
read from tensors)."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from archc.errors import SpecErrors
from archc.ir import calls, numbers, patterns
from test_instances import _assert_same, _load

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = int(os.environ.get("ARCHC_RANDOM_PATTERNS", "150"))


def _count_served(monkeypatch) -> list[str]:
    """The paths of the block instances built from patterns."""
    served: list[str] = []
    original = calls.Calls._instantiate

    def counting(self, kind, values, inputs, path, *outer):
        made = original(self, kind, values, inputs, path, *outer)
        if made is not None:
            served.append(".".join(path))
        return made
    monkeypatch.setattr(calls.Calls, "_instantiate", counting)
    return served


def _outcome(text: str, reuse: bool, monkeypatch):
    try:
        return _load(text, reuse, monkeypatch)
    except SpecErrors as e:
        return [str(d) for d in e.errors]


def _assert_alike(text: str, monkeypatch) -> None:
    evaluated, built = _outcome(text, False, monkeypatch), _outcome(text, True, monkeypatch)
    if isinstance(evaluated, list) or isinstance(built, list):
        assert built == evaluated
    else:
        _assert_same(evaluated, built)


def _count_served_where(monkeypatch) -> list[str]:
    """The paths of the block instances built from patterns, those inside a recording marked `+`
    (the recording computes their layers with that pattern)."""
    served: list[str] = []
    original = calls.Calls._instantiate

    def counting(self, kind, values, inputs, path, outer=None):
        made = original(self, kind, values, inputs, path, outer)
        if made is not None:
            served.append(".".join(path) + ("+" if outer is not None else ""))
        return made
    monkeypatch.setattr(calls.Calls, "_instantiate", counting)
    return served


def test_mobilenet_v2_builds_most_inverted_residuals_from_patterns(monkeypatch) -> None:
    # features.1 … 17 are inverted residuals in three structures: no shortcut (a stride or a new
    # width), the identity shortcut, and (features.1) no expansion. Evaluated: 1-3 (the first of
    # the kind, and two recorded as patterns) and 11 (stride 1 to a new width: no shortcut, decided
    # by the other half of its condition, recorded as a third); replayed exactly, repeating an
    # earlier one's numbers: 6, 9, 10, 13, 16; the other eight from patterns, and features.18 (the
    # last 1×1 convolution block) from the pattern of the stem's. Inside the recordings, nested
    # instances come from patterns too: features.2's convolution blocks (from features.1's), and
    # features.3's and 11's `conv` Sequential (recorded apart inside features.2's recording)
    served = _count_served_where(monkeypatch)
    model = _load(ROOT / "specs" / "torchvision" / "mobilenet_v2.arch", True, monkeypatch)
    assert served == ["features.2.conv.0+", "features.2.conv.1+", "features.3.conv+",
                      *(f"features.{k}" for k in (4, 5, 7, 8)), "features.11.conv+",
                      *(f"features.{k}" for k in (12, 14, 15, 17, 18))]
    assert model.params == 3_504_872  # torchvision's mobilenet_v2 (the spec's header)
    _assert_same(_load(ROOT / "specs" / "torchvision" / "mobilenet_v2.arch", False, monkeypatch), model)


NESTED = """
block Inner(c, k = 3)(x) {
  y = x -> conv2d(c, k, padding=k // 2) -> batchnorm2d
  return y -> relu if c % 16 == 0 else y -> sigmoid
}
block Outer(c, stride, p)(x) {
  a = x -> Inner(c * 2, name=expand)
  b = a -> Inner(c, 1 + 2 * stride, name=reduce) -> dropout(p)
  return b + x if stride == 1 and x.channels == c else b -> Inner(c + a.channels // 4, name=extra)
}
input x: [N, 8, 32, 32]
"""


def test_nested_instances_inside_a_recording_are_built_from_their_patterns(monkeypatch) -> None:
    # Outer's second instance is recorded; its Inners come from Inner's patterns (the first of
    # each structure recorded apart inside it), and the later Outers, alike but for their numbers,
    # from Outer's pattern, which computes its Inners' numbers from its own and from an Inner's
    # output size (a.channels)
    text = NESTED + """
output y = x -> Outer(32, 1, 0.1) -> Outer(64, 1, 0.2) -> Outer(128, 1, 0.3) -> Outer(256, 1, 0.0)
             -> Outer(512, 1, 0.1)
"""
    served = _count_served_where(monkeypatch)
    _load(text, True, monkeypatch)
    # (the first Outer's `extra` from the pattern of its `reduce`: the second Inner, recorded)
    assert served == ["outer.extra", "outer_1.expand+", "outer_1.reduce+", "outer_1.extra+", "outer_2",
                      "outer_3", "outer_4"]
    _assert_alike(text, monkeypatch)
    # and where the Inners decide otherwise from Outer's numbers (relu or sigmoid, by c % 16), and
    # Outer itself (a shortcut or not), each structure is recorded, and built as evaluated
    text = NESTED + """
output y = x -> Outer(8, 1, 0.1) -> Outer(8, 1, 0.2) -> Outer(16, 1, 0.3) -> Outer(24, 2, 0.0)
             -> Outer(32, 1, 0.1) -> Outer(40, 1, 0.2) -> Outer(48, 2, 0.3) -> Outer(48, 1, 0.4)
"""
    _assert_alike(text, monkeypatch)


@pytest.mark.parametrize("later", ["Outer(12, 1, 0.1)",  # an Inner guard decides otherwise: evaluated
                                   "Outer(0, 1, 0.1)",  # an op refuses a nested Inner's numbers
                                   "Outer(8, 1, 2.5)",  # the op of the Outer itself refuses
                                   "Outer(32, 3, 0.1)"])
def test_a_nested_pattern_that_does_not_serve_sends_the_instance_to_evaluation(monkeypatch, later: str) -> None:
    text = NESTED + f"""
output y = x -> Outer(8, 1, 0.1) -> Outer(8, 1, 0.2) -> Outer(16, 1, 0.3) -> {later} -> Outer(16, 1, 0.4)
"""
    _assert_alike(text, monkeypatch)


def test_a_nested_instances_own_lint_is_reported_as_evaluated(monkeypatch) -> None:
    # linear on a 4-d tensor asks whether its input is still channels-first: not told for a
    # nested instance's layer, which is then evaluated (the warning reported as without patterns)
    text = """
block Head(c)(x) {
  return x -> conv2d(c, 1) -> linear(c)
}
block Unit(c)(x) {
  return x -> Head(c, name=head) -> relu
}
input x: [N, 8, 16, 16]
output y = x -> Unit(8) -> Unit(8) -> Unit(16) -> Unit(24) -> Unit(32)
"""
    _assert_alike(text, monkeypatch)


def test_a_stage_whose_recording_was_dropped_is_not_recorded_again(monkeypatch) -> None:
    # RegNet-Y-400MF's stages (AnyStage) have depths 1, 3, 6, 6: block3's recording grows past
    # MAX_RECORDED_LAYERS and is dropped (its bottlenecks built from patterns inside it). Were
    # block4 recorded too, its blocks would be built inside that recording and block4-0 and -1 not
    # from patterns of their own (the rest replay exactly)
    served = _count_served_where(monkeypatch)
    model = _load(ROOT / "specs" / "torchvision" / "regnet_y_400mf.arch", True, monkeypatch)
    assert served[-2:] == ["trunk_output.block4.block4-0", "trunk_output.block4.block4-1"]
    assert model.params == 4_344_144  # torchvision's regnet_y_400mf (tests/fixtures/torchvision)
    _assert_same(_load(ROOT / "specs" / "torchvision" / "regnet_y_400mf.arch", False, monkeypatch), model)


UNIT_BLOCK = """
block Unit(c, stride = 1, p = 0.1)(x) {
  h = round(x.channels * 1.5)
  y = x -> conv2d(h, 1) -> relu -> conv2d(c, 3, stride=stride, padding=1, groups=max(1, c // 8))
        -> dropout(p)
  return y + x if stride == 1 and x.channels == c else y
}
"""
UNIT = UNIT_BLOCK + "input x: [N, 16, 32, 32]\n"


def test_guards_choose_the_structure(monkeypatch) -> None:
    # alternately a shortcut and none, at new numbers each time: each instance's own structure
    text = UNIT + """
a = x -> Unit(16)
b = a -> Unit(32, stride=2, p=0.2)
c = b -> Unit(32, p=0.3)
d = c -> Unit(64, stride=2, p=0.4)
e = d -> Unit(64, p=0.5)
f = e -> Unit(128, stride=2, p=0.6)
output y = f -> Unit(128, p=0.7)
"""
    served = _count_served(monkeypatch)
    model = _load(text, True, monkeypatch)
    assert len(served) >= 3
    assert [n.attrs.p for n in model.graph.layers() if n.op_name == "dropout"] == [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7]
    assert sum(n.op_name == "add" for n in model.graph.layers()) == 4
    _assert_alike(text, monkeypatch)


def test_a_number_made_a_name_is_decided_on(monkeypatch) -> None:
    text = """
block Named(k)(x) {
  return x -> conv2d(8, 1, name=str(k)) -> relu
}
input x: [N, 8, 8, 8]
output y = x -> Named(1) -> Named(2) -> Named(3) -> Named(3) -> Named(4)
"""
    model = _load(text, True, monkeypatch)
    assert [n.id for n in model.graph.layers() if n.op_name == "conv2d"] == [
        "named.1", "named_1.2", "named_2.3", "named_3.3", "named_4.4"]
    _assert_alike(text, monkeypatch)


def test_numbers_an_op_refuses_are_reported_as_without_patterns(monkeypatch) -> None:
    # the fourth instance's groups (44 // 8 = 5) divide neither its 44 channels nor its input's 36:
    # the pattern recorded from the second does not serve it; evaluated, and reported there
    text = UNIT.replace("groups=max(1, c // 8)", "groups=c // 8") + """
a = x -> Unit(16) -> Unit(24, stride=2) -> Unit(24) -> Unit(44) -> Unit(40)
output y = a
"""
    with pytest.raises(SpecErrors) as caught:
        _load(text, True, monkeypatch)
    assert "E-" in str(caught.value)
    _assert_alike(text, monkeypatch)


def test_a_warning_of_a_later_instance_is_reported(monkeypatch) -> None:
    # the last instance's kernel is larger than its input: evaluated, and warned about
    text = """
block Pool(k)(x) {
  return x -> conv2d(8, 1) -> maxpool2d(k, stride=1, ceil_mode=true)
}
input x: [N, 8, 4, 4]
output y = x -> Pool(1) -> Pool(2) -> Pool(2) -> Pool(1) -> Pool(3)
"""
    _assert_alike(text, monkeypatch)


def test_recorded_numbers_never_reach_the_graph(monkeypatch) -> None:
    model = _load(ROOT / "specs" / "torchvision" / "efficientnet_b0.arch", True, monkeypatch)
    for node in model.graph.layers():
        for value in [*dict(node.attrs or {}).values(), *(node.shape or ())]:
            assert not isinstance(value, patterns.Num), (node.id, value)
    for scope in model.graph.scopes.values():
        for value in scope.args.values():
            assert not numbers.holds_num(value), (scope.path, value)


# ----------------------------------------------------------------------------- random blocks

_STATEMENTS = [
    "t{n} = t{p} -> conv2d({width}, {k}, padding={k} // 2, bias=false)",
    "t{n} = t{p} -> batchnorm2d -> relu",
    "t{n} = t{p} if a > b else t{p} -> conv2d(a, 1)",
    "t{n} = t{p} -> dropout(r)",
    "t{n} = t{p} + t{p}",
    "t{n} = t{p} -> repeat(b, conv2d(t{p}.channels, 1))",
    "t{n} = t{p} -> conv2d(a, 1, name=str(a + {n}))",
    "t{n} = t{p} -> maxpool2d(2) if t{p}.height > 4 else t{p}",
    "t{n} = concat(t{p}, t{p} -> conv2d(a, 1))",
    "t{n} = t{p} -> conv2d(make_divisible(a * 3.5, 4), 1)",
    "t{n} = t{p} -> conv2d([a, b, 3][b % 3], 1)",
    "t{n} = t{p} -> conv2d(len([i for i in range(b)]) + 1, 1)",
    "t{n} = t{p} -> conv2d(a * 2, 3, padding=1, groups=b)",
    "t{n} = t{p} -> Inner(a + b, r)",
    "t{n} = t{p} -> conv2d(int(t{p}.channels * r) + 1, 1) if r < 0.5 else t{p} -> relu",
    "t{n} = t{p} -> avgpool2d(b, stride=b)",
]
_WIDTHS = ["a", "a * 2", "t{p}.channels", "max(1, a - b)", "round(t{p}.channels * r) + 1", "min(a, b) + 1"]

INNER = """
block Inner(c, q)(x) {
  return x -> conv2d(c, 1) -> dropout(q) -> relu
}
"""


@st.composite
def _spec(draw) -> str:
    lines = ["block B(a, b, r)(x) {", "  t0 = x"]
    count = draw(st.integers(1, 5))
    for n in range(1, count + 1):
        template = draw(st.sampled_from(_STATEMENTS))
        width = draw(st.sampled_from(_WIDTHS)).format(p=n - 1)
        lines.append("  " + template.format(n=n, p=n - 1, width=width, k=draw(st.sampled_from([1, 3]))))
    lines += [f"  return t{count}", "}", INNER]
    channels, size = draw(st.integers(1, 12)), draw(st.sampled_from([4, 8, 16]))
    lines.append(f"input x: [N, {channels}, {size}, {size}]")
    calls_ = []
    for _ in range(draw(st.integers(3, 7))):
        a, b = draw(st.integers(1, 9)), draw(st.integers(1, 3))
        r = draw(st.sampled_from([0.1, 0.25, 0.5, 0.75]))
        calls_.append(f"B({a}, {b}, {r})")
        if draw(st.booleans()):  # the same numbers again (exact reuse among patterns)
            calls_.append(calls_[-1])
    lines.append("output y = x -> " + " -> ".join(calls_))
    return "\n".join(lines) + "\n"


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(_spec())
def test_random_blocks_build_as_evaluated(monkeypatch, text: str) -> None:
    _assert_alike(text, monkeypatch)


def test_random_blocks_are_served_by_patterns(monkeypatch) -> None:
    # (the property above would hold vacuously if no pattern ever served)
    text = INNER + """
block B(a, b, r)(x) {
  t1 = x -> conv2d(a * 2, 3, padding=1) -> Inner(a + b, r)
  return t1 if a > b else t1 -> conv2d(a, 1)
}
input x: [N, 8, 8, 8]
output y = x -> B(4, 1, 0.1) -> B(5, 2, 0.2) -> B(6, 1, 0.3) -> B(7, 2, 0.4) -> B(1, 2, 0.5)
"""
    served = _count_served(monkeypatch)
    _load(text, True, monkeypatch)
    assert len(served) >= 2
    _assert_alike(text, monkeypatch)
