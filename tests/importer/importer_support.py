"""Shared by the importer tests: import a module, build the spec archc wrote, and compare."""
from __future__ import annotations

import torch

import archc
from archc.frontend import parse_dsl
from archc.frontend.printer import to_dsl


def randomised(module: torch.nn.Module) -> torch.nn.Module:
    """Every float tensor of the state_dict random (batch-norm variances positive), so that a wrong
    wiring or attribute shows in the outputs."""
    g = torch.Generator().manual_seed(0)
    state = {}
    for key, t in module.state_dict().items():
        if not t.is_floating_point():
            state[key] = t
        elif key.endswith("running_var"):
            state[key] = torch.rand(t.shape, generator=g) + 0.5
        else:
            state[key] = torch.randn(t.shape, generator=g) * 0.5
    module.load_state_dict(state)
    return module.eval()


def round_trip(module: torch.nn.Module, *shapes: tuple, check_shapes: list | None = None) -> tuple[str, object]:
    """The spec of `module` (traced at `shapes`): archc loads it, it is formatted canonically, its
    built module takes the state_dict with strict=True and gives equal outputs in eval mode at
    `shapes` (and at `check_shapes`, when given). Returns the text and archc's Model."""
    module = randomised(module)
    inputs = [torch.randn(*s, generator=torch.Generator().manual_seed(1)) for s in shapes]
    text = archc.from_torch(module, inputs)
    assert to_dsl(parse_dsl(text, "<imported>")) == text  # archc fmt --check passes
    model = archc.loads(text)
    built = model.to_torch()
    built.load_state_dict(module.state_dict(), strict=True)
    built.eval()
    for batch in [shapes, *([check_shapes] if check_shapes else [])]:
        args = [torch.randn(*s, generator=torch.Generator().manual_seed(2)) for s in batch]
        with torch.no_grad():
            expected, got = module(*args), built(*args)
        expected = list(expected.values()) if isinstance(expected, dict) else \
            list(expected) if isinstance(expected, (tuple, list)) else [expected]
        got = list(got.values()) if isinstance(got, dict) else [got]
        assert len(expected) == len(got)
        for a, b in zip(expected, got):
            assert torch.equal(a, b), f"max difference {(a - b).abs().max()}\n{text}"
    return text, model
