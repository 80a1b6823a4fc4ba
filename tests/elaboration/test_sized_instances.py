"""Reuse of block instances whose inputs differ only in their sizes (archc.ir.instances,
`sized_alike_key`, `Template.reshaped`): a template whose body never read its inputs' sizes is
replayed on inputs of other sizes with its layers' shapes found again by their ops' rules; every
case gives the graph, warnings and errors that evaluating every instance gives."""
from __future__ import annotations

from pathlib import Path


from archc.ir import instances

from test_instances import _assert_same, _errors, _load  # noqa: E402 (tests/elaboration is on the path)

ROOT = Path(__file__).resolve().parents[2]


def _count_sized(monkeypatch) -> list[int]:
    """Replays that reshaped their template (the `shapes` argument given; not an instantiated
    pattern, archc.ir.patterns, which gives attributes too)."""
    sized = [0]
    original = instances.Template.replay

    def counting(self, builder, evaluation, path, inputs, shapes=None, **pattern):
        sized[0] += shapes is not None and pattern.get("attrs") is None
        return original(self, builder, evaluation, path, inputs, shapes, **pattern)
    monkeypatch.setattr(instances.Template, "replay", counting)
    return sized


GROWING = """
block Layer(growth)(x) {
  return x -> batchnorm2d -> relu -> conv2d(growth, 3, padding=1, bias=false)
}
input x: [N, 8, 16, 16]
a = concat(x, x -> Layer(4))
b = concat(a, a -> Layer(4))
c = concat(b, b -> Layer(4))
d = concat(c, c -> Layer(4))
output y = d
"""


def test_instances_on_more_channels_are_reshaped(monkeypatch) -> None:
    sized = _count_sized(monkeypatch)
    model = _load(GROWING, True, monkeypatch)
    assert sized[0] == 2  # the first of its kind evaluated, the second recorded, the others reshaped
    norms = [n.shape for n in model.graph.layers() if n.op_name == "batchnorm2d"]
    assert [s[1] for s in norms] == [8, 12, 16, 20]
    assert model.output_shapes["y"][1] == 24
    _assert_same(_load(GROWING, False, monkeypatch), model)


def test_a_body_reading_sizes_is_not_reshaped(monkeypatch) -> None:
    text = GROWING.replace("conv2d(growth, 3", "conv2d(x.channels // 2, 3")
    sized = _count_sized(monkeypatch)
    model = _load(text, True, monkeypatch)
    assert sized[0] == 0
    convs = [n.attrs.out for n in model.graph.layers() if n.op_name == "conv2d"]
    assert convs == [4, 6, 9, 13]  # half of 8, 12, 18, 27
    _assert_same(_load(text, False, monkeypatch), model)


def test_a_nested_replay_that_read_sizes_counts_as_reading_them(monkeypatch) -> None:
    # Inner reads x.channels; Outer does not itself, but its layers depend on sizes through Inner,
    # which is replayed exactly (not evaluated) in later Outers
    text = """
block Inner(k)(x) {
  return x -> conv2d(x.channels, k, padding=1)
}
block Outer(k)(x) {
  return x -> Inner(k) -> relu
}
input x: [N, 8, 16, 16]
a = x -> Outer(3)
b = x -> Outer(3)
c = concat(a, b) -> Outer(3)
d = concat(c, c) -> Outer(3)
output y = d
"""
    model = _load(text, True, monkeypatch)
    convs = [n.attrs.out for n in model.graph.layers() if n.op_name == "conv2d"]
    assert convs == [8, 8, 16, 32]
    _assert_same(_load(text, False, monkeypatch), model)


def test_chunk_in_the_body_is_reading_sizes(monkeypatch) -> None:
    text = """
block Half(c)(x) {
  a, b = x -> chunk(2)
  return concat(a -> conv2d(c, 1), b)
}
input x: [N, 8, 16, 16]
p = x -> Half(4)
q = p -> Half(4)
r = concat(q, q) -> Half(4)
s = concat(r, r) -> Half(4)
output y = s
"""
    sized = _count_sized(monkeypatch)
    model = _load(text, True, monkeypatch)
    assert sized[0] == 0
    _assert_same(_load(text, False, monkeypatch), model)


def test_sizes_a_rule_refuses_are_evaluated_and_reported(monkeypatch) -> None:
    # the third instance's input is too small for the kernel: evaluated, with evaluation's error
    text = """
block Valid(c)(x) {
  return x -> conv2d(c, 5) -> relu
}
input x: [N, 3, 20, 20]
a = x -> Valid(4)
b = x -> maxpool2d(2) -> Valid(4)
c = x -> maxpool2d(8) -> Valid(4)
output y = a
output z = b
output w = c
"""
    reused = _errors(text, True, monkeypatch)
    assert reused == _errors(text, False, monkeypatch)
    assert len(reused) == 1 and "E-SHAPE" in reused[0]


def test_a_reshaped_instance_that_would_warn_is_evaluated(monkeypatch) -> None:
    # a linear layer on a feature map warns (once per place) whatever the sizes: the instance that
    # warns is no template, and a reshaped one would warn, so every instance is evaluated
    text = """
block Head(n)(x) {
  return x -> linear(n)
}
input x: [N, 8, 4, 4]
a = x -> Head(4)
b = x -> maxpool2d(2) -> Head(4)
c = x -> maxpool2d(4) -> Head(4)
output y = a
output z = b
output w = c
"""
    model = _load(text, True, monkeypatch)
    evaluated = _load(text, False, monkeypatch)
    _assert_same(evaluated, model)
    assert [w.code for w in model.warnings] == ["W-SHAPE-LINEAR-FEATURE-MAP"]


def test_symbolic_sizes_are_not_reshaped(monkeypatch) -> None:
    text = GROWING.replace("[N, 8, 16, 16]", "[N, 8, H, W]")
    sized = _count_sized(monkeypatch)
    model = _load(text, True, monkeypatch)
    assert sized[0] == 0
    _assert_same(_load(text, False, monkeypatch), model)


def test_densenet121_reshapes_its_dense_layers(monkeypatch) -> None:
    sized = _count_sized(monkeypatch)
    model = _load(ROOT / "specs" / "torchvision" / "densenet121.arch", True, monkeypatch)
    assert sized[0] == 56  # 58 dense layers: the first evaluated, the second recorded
    assert model.params == 7_978_856  # torchvision's densenet121 (tests/fixtures/torchvision/densenet121.json)
