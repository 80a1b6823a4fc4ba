"""The generated code is a faithful translation of the spec (issue 17): for every zoo model and
every constructor argument the generated model class exposes, `Generated(arg=v)` at other
values has exactly the state_dict that `archc.load(spec, hyperparams={arg: v})` computes
statically, key for key and shape for shape. An argument that archc had guessed from numbers
that happened to be equal would build another network here. Modules are built on PyTorch's
meta device: shapes only, no memory, so the whole zoo runs in seconds."""
from __future__ import annotations

import inspect
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

import archc  # noqa: E402
from archc.errors import SpecErrors  # noqa: E402
from archc.lower.build import load_module  # noqa: E402
from archc.lower.codegen import generate  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
SPECS = sorted((ROOT / "specs").glob("*.arch")) + sorted((ROOT / "specs").glob("*.yaml")) \
    + sorted((ROOT / "specs" / "torchvision").glob("*.arch"))


def _other_values(value):
    """Other values for a constructor argument, most likely valid first."""
    if isinstance(value, bool):
        return []
    if isinstance(value, int):
        return [v for v in (value * 2, max(1, value // 2), value + 3, 7) if v != value and v >= 1]
    if isinstance(value, float):
        return [v for v in (value * 0.5, value * 1.5, round(value + 0.25, 4)) if v != value]
    return []


def _static_state(model: archc.Model) -> dict[str, tuple[int, ...]]:
    g = model.graph
    out: dict[str, tuple[int, ...]] = {}
    for node in g.layers():
        if node.is_input or node.shares is not None:  # a shared layer's weights are its first use's
            continue
        shapes = g.input_shapes(node)
        for name, shape in {**node.op.parameters(node.attrs, shapes), **node.op.buffers(node.attrs, shapes)}.items():
            out[node.id if name == "" else f"{node.id}.{name}"] = tuple(int(d) for d in shape)
    return out


def _meta_state(cls, **kwargs) -> dict[str, tuple[int, ...]]:
    with torch.device("meta"):
        module = cls(**kwargs)
    return {k: tuple(v.shape) for k, v in module.state_dict().items()}


@pytest.mark.parametrize("path", SPECS, ids=lambda p: str(p.relative_to(ROOT / "specs")))
def test_every_constructor_argument_builds_what_the_spec_computes(path):
    model = archc.load(path)
    generated = generate(model.graph, spec=model.spec)
    cls = getattr(load_module(generated), generated.class_name)
    assert _meta_state(cls) == _static_state(model), "the defaults already differ"
    arguments = {name: p.default for name, p in inspect.signature(cls).parameters.items()}
    assert set(arguments) <= set(model.graph.hyperparams), "a constructor argument that is no model parameter"
    for name, default in arguments.items():
        checked = 0
        for value in _other_values(default):
            try:
                other = archc.load(path, hyperparams={name: value})
            except SpecErrors:
                continue  # not a valid value for this spec
            assert _meta_state(cls, **{name: value}) == _static_state(other), f"{name}={value}"
            checked += 1
        assert checked, f"no other valid value of {name} to check"
