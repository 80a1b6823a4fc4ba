"""Nested repeat (issue 18): `repeat(4, repeat(2, conv2d(8, 3)))` is copies 0..3 each holding
copies 0..1, named as PyTorch's nested nn.Sequential names them; the generated module runs and
has exactly those state_dict keys."""
from __future__ import annotations

import textwrap

import pytest

from archc.ast import without_locs
from archc.frontend import parse_dsl, parse_yaml, to_dsl, to_yaml
from spec_helpers import build, load

NESTED = """\
    model Nested
    input x: [N, 8, 16, 16]
    block Stage(c)(x) {
      return x -> repeat(2, repeat(i + 1, conv2d(c, 3, padding=1)), name=layers)
    }
    block Unit(c)(x) {
      return x -> conv2d(c, 1, name=conv) -> relu
    }
    h = x -> repeat(4, repeat(2, conv2d(8, 3, padding=1)))
    s = h -> Stage(8, name=stage)
    u = s -> repeat(3, repeat(2, Unit(8)), name=units)
    output y = u -> repeat(2, repeat(2, conv2d(8, 1), name="inner" + str(i)), inline=true)
    """


def _expected_keys() -> list[str]:
    # `h = x -> repeat(...)`: one call, its module named after the tensor
    keys = [f"h.{a}.{b}.{p}" for a in range(4) for b in range(2) for p in ("weight", "bias")]
    keys += [f"stage.layers.{a}.{b}.{p}" for a in range(2) for b in range(a + 1) for p in ("weight", "bias")]
    keys += [f"units.{a}.{b}.conv.{p}" for a in range(3) for b in range(2) for p in ("weight", "bias")]
    keys += [f"inner{a}.{b}.{p}" for a in range(2) for b in range(2) for p in ("weight", "bias")]
    return keys


def test_nested_repeat_names_as_nested_sequentials():
    model = load(NESTED)
    assert sorted(model.state_dict_shapes()) == sorted(_expected_keys())
    source = model.to_source()
    assert "self.h = nn.Sequential(\n            nn.Sequential(" in source


def test_nested_repeat_module_runs_with_those_keys():
    torch = pytest.importorskip("torch")
    module = build(load(NESTED))
    assert list(module.state_dict()) == _expected_keys()
    assert module(torch.zeros(2, 8, 16, 16)).shape == (2, 8, 16, 16)
    reference = torch.nn.Sequential(*[torch.nn.Sequential(*[torch.nn.Conv2d(8, 8, 3, padding=1)
                                                            for _ in range(2)]) for _ in range(4)])
    assert [k for k in module.state_dict() if k.startswith("h.")] == \
        ["h." + k for k in reference.state_dict()]


def test_nested_repeat_round_trips_through_fmt():
    spec = parse_dsl(textwrap.dedent(NESTED), "<nested>")
    assert without_locs(parse_dsl(to_dsl(spec), "<printed>")) == without_locs(spec)
    assert without_locs(parse_yaml(to_yaml(spec), "<printed>")) == without_locs(spec)
