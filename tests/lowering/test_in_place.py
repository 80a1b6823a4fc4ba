"""In-place layers in generated code (`nn.ReLU(inplace=True)` and `out += identity`, as
torchvision writes them):
chosen where torchvision chooses them (fixtures recorded from torchvision 0.29.1), never where
the overwritten tensor is read again or needed by its producer's backward, and with the same
outputs and gradients as the module without them."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

try:
    import torch
except ModuleNotFoundError:  # without torch the static tests still run
    torch = None

import archc
from archc.lower.codegen import generate, in_place_layers

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "torchvision"
TORCHVISION_SPECS = sorted(p for p in (ROOT / "specs" / "torchvision").glob("*.arch")
                           if (FIXTURES / f"{p.stem}.json").exists())
needs_torch = pytest.mark.skipif(torch is None, reason="compares with torch's modules or runs the generated module")


def test_every_torchvision_spec_has_a_fixture() -> None:
    segmentation = {p.stem for p in (FIXTURES / "segmentation").glob("*.json")}  # tests/zoo/test_torchvision_segmentation.py
    video = {p.stem for p in (FIXTURES / "video").glob("*.json")}  # tests/zoo/test_torchvision_video.py
    detection = {p.stem for p in (FIXTURES / "detection").glob("*.json")}  # tests/zoo/test_torchvision_detection.py
    classification = [p for p in (ROOT / "specs" / "torchvision").glob("*.arch")
                      if p.stem not in segmentation | video | detection]
    assert len(TORCHVISION_SPECS) == len(classification) > 60


def test_in_place_wherever_torchvision_is() -> None:
    """Wherever torchvision runs an activation module in place, the generated model's module of
    the same name does too. The generated model goes further in one place: squeeze-and-excitation
    gates (MobileNetV3, RegNetY), where torchvision's SqueezeExcitation leaves its ReLU and
    Hardsigmoid out of place although they follow convolutions, which is safe by the same rule."""
    compared = in_place = 0
    missed, further = [], []
    for spec in TORCHVISION_SPECS:
        theirs = json.loads((FIXTURES / f"{spec.stem}.json").read_text())["activation_modules"]
        model = archc.load(spec)
        ours = in_place_layers(model.graph)
        activations = {n.id for n in model.graph.layers() if not n.is_input and n.op.family == "activation"}
        for name in activations & theirs.keys():
            compared += 1
            in_place += theirs[name]
            if theirs[name] and name not in ours:
                missed.append(f"{spec.stem}: {name}")
            elif name in ours and not theirs[name]:
                further.append(model.graph.scopes[model.graph.node(name).scope].type_name)
    assert not missed, "in place in torchvision, not in archc:\n" + "\n".join(missed[:20])
    assert set(further) == {"SqueezeExcitation"}
    print(f"\n{compared} activation modules compared with torchvision's, {in_place} in place there; "
          f"{len(further)} more in place in archc (squeeze-and-excitation gates)")
    assert compared > 2000 and in_place > 1500  # the comparison covers the zoo, not a few names


@pytest.mark.parametrize("text, expected", [
    ("h = x -> conv2d(8, 3) -> sigmoid -> relu(name=act)", set()),  # sigmoid's backward reads its output
    ("h = x -> conv2d(8, 3, name=c) -> relu(name=act)\nhh = h + (x -> conv2d(8, 3))", {"act"}),
    ("c = x -> conv2d(8, 3, padding=1)\nh = relu(c, name=act) + c", set()),  # c is read twice
    ("h = x -> relu(name=act)", set()),  # the model's input
    ("h = x -> conv2d(8, 3) -> relu(name=act) -> relu(name=again)", {"act"}),  # relu's output is needed
    ("h = x -> conv2d(8, 3) -> gelu(name=act)", set()),  # nn.GELU has no inplace
])
def test_in_place_only_where_safe(text: str, expected: set[str]) -> None:
    spec = f"input x: [N, 8, 16, 16]\n{text}\noutput y = {text.splitlines()[-1].split(' = ')[0]}\n"
    assert in_place_layers(archc.loads(spec).graph) == expected


def _lowered_ops():
    """Every op that binds with its defaults (or a factor of 2.0), lowered on [2, 4, 8, 8]."""
    from archc import symbolic as sy
    from archc.ir.values import ShapeContext
    from archc.ops import REGISTRY
    from archc.ops.base import VARIADIC, AttrError, ShapeError
    for op in REGISTRY.ops:
        if op.inputs not in (1, 2, VARIADIC) or op.pieces_op:
            continue
        shapes = [(2, 4, 8, 8)] * (1 if op.inputs == 1 else 2)
        try:
            attrs = op.bind([2.0] if any(at.required for at in op.attrs) else [], {}, 2)
            yield op, op.lower(attrs, shapes, op.output_shape(attrs, shapes, ShapeContext(sy.Assumptions())))
        except (AttrError, ShapeError):
            continue


@needs_torch
def test_an_op_runs_in_place_exactly_where_its_torch_module_can() -> None:
    """`Op.in_place` is true for the ops whose torch module takes `inplace=` (and for the
    residual add, written `out += identity`), and such an op has an in-place lowering."""
    import inspect

    from torch import nn
    compared = 0
    for op, low in _lowered_ops():
        assert (low.in_place is not None) == op.in_place, op.name
        callee = getattr(low.module, "func", "")
        if op.residual_merge:
            assert op.in_place, op.name
        elif callee.startswith("nn.") and hasattr(nn, callee[3:]):
            takes_inplace = "inplace" in inspect.signature(getattr(nn, callee[3:])).parameters
            # torch's dropouts take inplace= too, but torchvision never uses it
            assert op.in_place == (takes_inplace and op.family != "regularization"), (op.name, callee)
            compared += 1
    assert compared >= 25  # the check covers the op library (25 ops with a torch module), not a few


def test_not_in_place_on_a_model_output_or_across_blocks() -> None:
    spec = """
block Features(c)(x) {
  return x -> conv2d(c, 3, padding=1) -> batchnorm2d
}
input x: [N, 3, 16, 16]
f = x -> Features(8)
b = x -> conv2d(8, 3, padding=1, name=conv)
output y = f -> relu(name=act)
output z = b
output w = b -> relu(name=act_b)
"""
    # act's input is produced inside the block (another class decides it); b is an output
    assert in_place_layers(archc.loads(spec).graph) == set()


PRODUCERS = ["conv2d(6, 3, padding=1)", "conv_transpose2d(6, 3, padding=1)", "linear(6, axis=1)",
             "batchnorm2d", "layernorm(axis=1)", "groupnorm(2)", "instancenorm2d(affine=true)",
             "maxpool2d(3, stride=1, padding=1)", "avgpool2d(3, stride=1, padding=1)"]
ACTIVATIONS = ["relu", "relu6", "leaky_relu(0.2)", "elu", "selu", "silu", "mish", "hardsigmoid",
               "hardtanh", "hardswish"]


def _module(source: str, class_name: str):
    namespace: dict = {}
    exec(compile(source, "<generated>", "exec"), namespace)  # our generated source
    return namespace[class_name]()


def _grads(module, x):
    torch.manual_seed(1)
    module.train()
    x = x.clone().requires_grad_(True)
    out = module(x)
    (out * torch.linspace(-1, 1, out.numel()).reshape(out.shape)).sum().backward()
    return out.detach(), x.grad, {k: p.grad for k, p in module.named_parameters()}


@needs_torch
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_same_outputs_and_gradients_as_without(activation: str) -> None:
    producers = " -> ".join(f"{p} -> {activation}" for p in PRODUCERS)
    spec = (f"input x: [N, 6, 8, 8]\nh = x -> {producers}\n"
            f"s = h -> conv2d(6, 1)\nt = h -> conv2d(6, 1)\nst = s + t\nu = st -> {activation}\n"
            f"output y = [u, h -> conv2d(6, 1)] -> concat -> {activation}\n")
    model = archc.loads(spec)
    generated = generate(model.graph, spec=model.spec)
    chosen = in_place_layers(model.graph)
    # the activation after every producer, the add and the concat; the add itself
    assert len(chosen) == len(PRODUCERS) + 3
    assert "inplace=True" in generated.source and ".add_(" in generated.source
    torch.manual_seed(0)
    in_place = _module(generated.source, generated.class_name)
    plain = _module(generated.source.replace(", inplace=True", "").replace("inplace=True", "")
                    .replace(".add_(", " + ("), generated.class_name)
    plain.load_state_dict(in_place.state_dict())
    # in float64: in place, some activations compute their gradient by another formula (ELU
    # and SELU from their output: exp(x) as elu(x) + alpha), equal up to rounding, which eleven
    # layers of float32 amplify to 1e-5
    in_place.double()
    plain.double()
    x = torch.randn(2, 6, 8, 8, dtype=torch.float64)
    a, b = _grads(in_place, x), _grads(plain, x)
    assert torch.equal(a[0], b[0])  # the same forward computation
    torch.testing.assert_close(a[1], b[1])
    assert a[2].keys() == b[2].keys()
    for k in a[2]:
        torch.testing.assert_close(a[2][k], b[2][k])
