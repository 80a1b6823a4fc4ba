"""Output names are the keys of the dict a model's forward returns, so they may be any text, as
torchvision's feature pyramid returns {'0': ..., '1': ..., 'pool': ...} (issue #18)."""
from __future__ import annotations

import pytest

import archc
from archc.ast import without_locs
from archc.frontend import parse_dsl, parse_yaml
from archc.frontend.printer import to_dsl, to_yaml
from spec_helpers import errors_of

FPN_LIKE = '''model Pyramid
input x: [N, 3, 32, 32]
c2 = x -> conv2d(8, 3, stride=2, padding=1, name=c2)
c3 = c2 -> conv2d(8, 3, stride=2, padding=1, name=c3)
output "0" = c2
output "1" = c3
output pool = c3 -> maxpool2d(1, stride=2, name=pool)
output "it's \\"quoted\\"" = c3
'''


def test_quoted_output_names_in_both_syntaxes_and_their_round_trips() -> None:
    spec = parse_dsl(FPN_LIKE)
    assert [o.name for o in spec.outputs] == ["0", "1", "pool", 'it\'s "quoted"']
    assert without_locs(parse_dsl(to_dsl(spec))) == without_locs(spec)
    assert without_locs(parse_yaml(to_yaml(spec))) == without_locs(spec)
    assert 'output "0" = c2' in to_dsl(spec) and "output pool = " in to_dsl(spec)
    model = archc.loads(FPN_LIKE)
    assert [str(d) for d in model.output_shapes["0"]] == ["N", "8", "16", "16"]


def test_the_generated_forward_returns_those_keys() -> None:
    torch = pytest.importorskip("torch")
    module = archc.build(archc.loads(FPN_LIKE)).eval()
    out = module(torch.randn(2, 3, 32, 32))
    assert list(out) == ["0", "1", "pool", 'it\'s "quoted"']
    assert tuple(out["1"].shape) == (2, 8, 8, 8) and tuple(out["pool"].shape) == (2, 8, 4, 4)


def test_a_quoted_output_needs_a_value_and_a_name() -> None:
    from archc.errors import SpecErrors
    with pytest.raises(SpecErrors) as caught:
        parse_dsl('input x: [1, 3, 8, 8]\noutput "0"\n')
    assert caught.value.errors[0].code == "E-SYNTAX-OUTPUT-VALUE"
    (err,) = errors_of('input x: [1, 3, 8, 8]\noutput "" = x -> relu\n')
    assert err.code == "E-NAME-OUTPUT-EMPTY"
