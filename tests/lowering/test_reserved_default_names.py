"""Names archc makes itself (issue 24): a block instance is named after its block (snake case),
a statement's one call after its tensor, a layer after its op, and generated code names classes,
variables and attributes after spec names. None of these may be a Python or torch reserved name
(a dunder such as __call__ once built a module whose forward recursed or raised TypeError): a
default that would be one gets a safe variant, never an error for something the user did not
write. Each case: check, compile (the generated source), build and run forward, in eval and
training mode."""
from __future__ import annotations

import pytest

import archc
from archc.errors import SpecErrors
from archc.lower.codegen import generate
from archc.model import loads

torch = pytest.importorskip("torch")

RESERVED_BLOCKS = ["__call__", "__class__", "__dict__", "__init__", "__getattr__", "__setattr__",
                   "__module__", "forward", "state_dict", "train", "eval", "to", "self", "super", "torch",
                   "nn", "F", "_parameters", "_modules", "__", "___x",
                   "tuple", "isinstance", "list", "dict", "print", "Tensor"]


def _run(text: str, shape=(1, 3, 8, 8)) -> torch.nn.Module:
    model = loads(text)
    compile(generate(model.graph, spec=model.spec).source, "<generated>", "exec")
    net = archc.build(model)
    for mode in (False, True):
        net.train(mode)
        out = net(torch.zeros(*shape))
        assert all(torch.isfinite(v).all() for v in (out.values() if isinstance(out, dict) else
                                                      out if isinstance(out, (tuple, list)) else [out]))
    for name, _ in net.named_modules():
        for part in name.split("."):
            assert not part.startswith("__"), name
    return net


@pytest.mark.parametrize("block", RESERVED_BLOCKS)
def test_a_block_named_after_a_reserved_name_builds_and_runs(block):
    text = (f"block {block}(c)(x) {{\n  return x -> conv2d(c, 3, padding=1)\n}}\n"
            f"input x: [1, 3, 8, 8]\n"
            f"output y = x -> {block}(4) -> relu -> {block}(4) -> {block}(2)\n")
    _run(text)


@pytest.mark.parametrize("block", ["__call__", "__class__", "__dict__", "__init__", "forward", "state_dict"])
def test_a_reserved_block_used_in_a_nested_block_and_named_by_its_tensor(block):
    text = (f"block {block}(c)(x) {{\n  return x -> conv2d(c, 3, padding=1)\n}}\n"
            f"block Outer(c)(x) {{\n  a = x -> {block}(c)\n  b = a -> {block}(c)\n  return a + b\n}}\n"
            f"input x: [1, 3, 8, 8]\n"
            f"h = x -> {block}(4)\n"
            f"output y = h -> Outer(4) -> Outer(4)\n")
    _run(text)


@pytest.mark.parametrize("tensor", ["__x", "__call__", "__class__", "forward", "training", "state_dict",
                                     "self", "torch", "F", "super", "x_", "_modules",
                                     "tuple", "isinstance", "list"])
def test_a_tensor_named_after_a_reserved_name(tensor):
    if tensor == "training":  # a reserved word of the language: refused where the user wrote it
        pytest.skip("'training' is a keyword of archc")
    text = (f"block B(c)(x) {{\n  {tensor} = x -> conv2d(c, 3, padding=1)\n  return {tensor} -> relu\n}}\n"
            f"input x: [1, 3, 8, 8]\n"
            f"{tensor} = x -> conv2d(4, 3, padding=1)\n"
            f"output y = {tensor} -> B(4) -> B(4)\n")
    _run(text)


@pytest.mark.parametrize("name", ["tuple", "isinstance", "list", "len"])
def test_an_input_named_after_a_builtin_the_generated_code_calls(name):
    _run(f"input {name}: [1, 3, 8, 8]\nblock B(c)(x) {{\n  return x -> conv2d(c, 3, padding=1)\n}}\n"
         f"output y = {name} -> B(4) -> conv2d(2, 1)\n")


def test_a_double_underscore_tensor_names_no_module():
    """A statement's one call is named after its tensor; `__x` cannot be, so the op names it."""
    text = ("input x: [1, 3, 8, 8]\n"
            "block B(c)(x) {\n  __x = x -> conv2d(c, 3, padding=1)\n  return __x\n}\n"
            "__x = x -> B(4)\n"
            "output y = __x -> relu\n")
    net = _run(text)
    assert all("__" not in name for name, _ in net.named_modules())


def test_an_explicit_dunder_name_is_still_refused():
    text = ("input x: [1, 3, 8, 8]\n"
            "output y = x -> conv2d(4, 3, name=\"__call__\")\n")
    with pytest.raises(SpecErrors, match="E-NAME-LAYER-INVALID"):
        loads(text)


def test_block_parameters_and_tensors_with_dunder_names_make_no_dunder_identifiers():
    """`__class__` as a constructor argument once broke super() ("__class__ cell not found")."""
    text = ("block B(__class__, __x)(x) {\n"
            "  __dict__ = x -> conv2d(__class__ + __x, 3, padding=1)\n"
            "  return __dict__ -> relu\n}\n"
            "input x: [1, 3, 8, 8]\n"
            "output y = x -> B(4, 1) -> B(2, 2)\n")
    _run(text)
    source = generate(loads(text).graph, spec=loads(text).spec).source
    assert "__class__" not in source and "__x" not in source and "__dict__" not in source
