"""A layer row's Type as the summary finds it, once per op and attribute values (layers written
alike in other attribute dicts share the label): each row must still read as its own op labels
its own attributes, with what sets the layer apart (frozen, unused, another call of a shared
layer); and the label texts of window ops (kernel, stride, padding, dilation), which the ops
build without generator expressions."""
from __future__ import annotations

import pytest

import archc
from archc.backends.report import rows
from archc.ops.common import padding_text, window_label

SPEC = """model Labels
block Tower(c)(x) {
  return x -> conv2d(c, 3, padding=1, name=conv) -> batchnorm2d(name=bn) -> relu
}
block Stage(c)(x) {
  return x -> conv2d(c, 3, padding=1, name=conv) -> batchnorm2d(name=bn) -> relu
}
input a: [N, 3, 16, 16]
input b: [N, 3, 16, 16]
tower = shared(Tower(8))
fa = a -> tower
fb = b -> tower
s = fa + fb -> Stage(8, name=frozen_stage, frozen=true) -> Stage(8, name=stage)
t = s -> conv2d(8, 3, padding=1, name=alike) -> conv2d(8, 3, stride=2, padding=[[0, 1], [1, 0]], name=asymmetric)
unused deeper = s -> Stage(16, name=later)
output y = t -> maxpool2d(3, stride=2, padding=1, dilation=2, name=pool) -> global_avgpool -> linear(10, name=fc)
"""


def test_every_row_reads_as_its_own_op_labels_its_own_attributes():
    model = archc.loads(SPEC)
    seen = 0
    for row in rows(model):
        if row.is_scope or row.type == "Input":
            continue
        node = model.graph.node(row.id)
        label = node.op.label(node.attrs)
        expected = node.op.title + (f" {label}" if label else "") + (" (frozen)" if node.frozen else "") \
            + (" (unused)" if node.unused else "")
        if node.shares is not None and model.graph.shared_call(node) is not None:
            expected += f" = {node.shares}"
        assert row.type == expected, row.id
        seen += 1
    assert seen == len([n for n in model.graph.layers() if n.op is not None])
    types = {row.id: row.type for row in rows(model)}
    assert types["frozen_stage.conv"] == "Conv2d 8, 3×3, p1 (frozen)" and types["stage.conv"] == "Conv2d 8, 3×3, p1"
    assert types["later.conv"] == "Conv2d 16, 3×3, p1 (unused)" and types["alike"] == "Conv2d 8, 3×3, p1"
    assert types["asymmetric"] == "Conv2d 8, 3×3, s2, p(0,1)×(1,0)"
    assert types["pool"] == "MaxPool2d 3×3, s2, p1, d2"


def test_a_layer_with_an_unhashable_attribute_value_is_labelled_alone():
    model = archc.loads("input x: [N, 2, 3]\noutput y = x + constant([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])\n")
    table = {row.id: row for row in rows(model)}
    for row in table.values():
        node = model.graph.node(row.id) if not row.is_scope else None
        if node is not None and node.op is not None:
            label = node.op.label(node.attrs)
            assert row.type == node.op.title + (f" {label}" if label else "")


@pytest.mark.parametrize("padding, text", [
    ("same", "same"), ("valid", "valid"), (((0, 0), (0, 0)), ""), (((1, 1), (1, 1)), "1"),
    (((1, 1), (2, 2)), "1×2"), (((0, 1), (0, 1)), "(0,1)×(0,1)"), (((0, 1), (1, 1)), "(0,1)×(1,1)"),
    (((2, 2),), "2"), ((), ""),
])
def test_padding_text(padding, text):
    assert padding_text(padding) == text


def test_window_label_shows_what_is_not_its_default():
    assert window_label("64", (3, 3), (1, 1), ((1, 1), (1, 1)), (1, 1)) == "64, 3×3, p1"
    assert window_label(None, (3, 3), (2, 2), ((0, 0), (0, 0)), (2, 1), groups=4) == "3×3, s2, d2×1, g4"
    assert window_label(None, (2, 2), (2, 2), "valid", None, stride_default=(2, 2)) == "2×2, valid"
    assert window_label("8", (1, 5), (1, 1)) == "8, 1×5"
