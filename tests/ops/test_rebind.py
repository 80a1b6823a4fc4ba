"""Op.rebinder: a pattern binds a layer whose numbers differ from the recorded one by copying the
recorded attributes and coercing the given values again (archc.ir.patterns). That must be `bind`
exactly, for every op and call shape the zoo makes: checked on the calls the zoo's elaboration
makes, each rebound from another call of the same op, rank and argument shape."""
from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pytest

import archc
from archc.ops import base
from archc.ops.base import AttrError, Attrs

ROOT = Path(__file__).resolve().parents[2]
SPECS = ["mobilenet_v2", "efficientnet_b0", "regnet_y_400mf", "densenet121", "convnext_tiny", "inception_v3",
         "shufflenet_v2_x1_0", "squeezenet1_1", "mnasnet1_0", "vgg11_bn"]


@pytest.fixture(scope="module")
def calls() -> dict[tuple, list[tuple]]:
    """The zoo's bind calls: (op, ndim, positional count, keywords) -> the (args, kwargs) given."""
    made: dict[tuple, list[tuple]] = defaultdict(list)
    original = base.Op.bind

    def recording(self, args, kwargs, ndim):
        made[(self, ndim, len(args), tuple(kwargs))].append((list(args), dict(kwargs)))
        return original(self, args, kwargs, ndim)
    base.Op.bind = recording
    try:
        for name in SPECS:
            archc.load(ROOT / "specs" / "torchvision" / f"{name}.arch")
    finally:
        base.Op.bind = original
    return made


def test_rebinding_is_binding(calls) -> None:
    compared = 0
    for (op, ndim, positional, keywords), given in calls.items():
        plan = op.rebinder(positional, keywords, ndim)
        if plan is None:
            continue
        first = op.bind(*given[0], ndim)
        for args, kwargs in given[1:]:
            try:
                expected = op.bind(args, kwargs, ndim)
            except AttrError:
                continue
            rebound = Attrs(first)
            for (name, coerce), value in zip(plan, (*args, *kwargs.values())):
                rebound[name] = coerce(value, ndim)
            assert rebound == expected and list(rebound) == list(expected), (op.name, args, kwargs)
            compared += 1
    assert compared > 200  # (the zoo's convolutions alone make several hundred)


def test_no_rebinder_where_bind_does_more(calls) -> None:
    conv = next(op for (op, *_rest) in calls if op.name == "conv2d")
    assert [name for name, _ in conv.rebinder(2, ("stride", "padding"), 2)] == ["out", "kernel", "stride",
                                                                                 "padding"]
    assert conv.rebinder(0, (), 2) is None  # out and kernel are required
    assert conv.rebinder(2, ("kernel",), 2) is None  # kernel given twice: bind reports it
    assert conv.rebinder(2, ("no_such",), 2) is None
    assert conv.rebinder(len(conv.attrs) + 1, (), 2) is None  # too many: bind reports it
