"""Input checks of the generated forward (archc.lower.checks): the constraints archc derived
(`H % 16 == 0`, `H >= 10`, `(H + W) % 2 == 0`), the rank and the channels, emitted as source that
raises a ValueError naming the input, the rule and the size received; never spec text as code;
vanishing while torch.compile / torch.export / torch.jit / torch.fx trace. The unit tests run the emitted
source on tensor-like stand-ins (no torch); the last tests use torch."""
from __future__ import annotations

import ast
import textwrap
from pathlib import Path
from types import SimpleNamespace

import pytest

import archc
from archc import symbolic as sy
from archc.lower import pysrc
from archc.lower.checks import (
    CHECK_FUNCTION,
    RESERVED,
    TRACING_FUNCTION,
    InputChecks,
    input_checks,
)

ROOT = Path(__file__).resolve().parents[2]
SPECS = ROOT / "specs"

# a U-Net with separate H and W: four 2x2 pools and the concatenations with their skips force
# H % 16 == 0 and W % 16 == 0
UNET = """\
model SmallUNet
input x: [N, 3, H, W]
block Down(c)(x) {
  return x -> maxpool2d(2) -> conv2d(c, 3, padding=same) -> relu
}
block Up(c)(x, skip) {
  up = x -> conv_transpose2d(c, 2, stride=2)
  return concat(up, skip) -> conv2d(c, 3, padding=same) -> relu
}
c1 = x -> conv2d(4, 3, padding=same)
c2 = c1 -> Down(4)
c3 = c2 -> Down(4)
c4 = c3 -> Down(4)
c5 = c4 -> Down(4)
u4 = c5 -> Up(c4, 4)
u3 = u4 -> Up(c3, 4)
u2 = u3 -> Up(c2, 4)
u1 = u2 -> Up(c1, 4)
output y = u1 -> conv2d(1, 1)
"""

# unpadded convolutions and a pool: a minimum size (H >= 10), no divisibility
SMALLEST = """\
model Smallest
input x: [N, 3, H, W]
output y = x -> conv2d(8, 5) -> maxpool2d(2) -> conv2d(8, 3) -> global_avgpool -> linear(10)
"""

# two inputs stacked along H, pooled and upsampled, then joined with the stack: (H + W) % 2 == 0
TWO_SYMBOLS = """\
model TwoSymbols
input a: [N, 3, H, S]
input b: [N, 3, W, S]
c = concat(a, b, axis=2)
d = c -> maxpool2d(2) -> conv_transpose2d(3, 2, stride=2)
output y = concat(c, d) -> conv2d(4, 3)
"""

FEATURES = """\
model Features
input x: [N, 784]
output y = x -> linear(10)
"""

# an auxiliary head only training runs: it needs larger inputs than inference does
AUX = """\
model Aux
block Head(classes)(x) {
  return x -> avgpool2d(5, stride=3) -> conv2d(8, 1) -> adaptive_avgpool2d(1) -> flatten -> linear(classes)
}
input x: [N, 3, H, W]
m = x -> conv2d(8, 3, stride=2, name=stem)
aux = m -> Head(10, name=aux_head)
output logits = m -> global_avgpool -> linear(10, name=fc)
training output aux
"""


class FakeProxy:
    """What torch.fx.symbolic_trace passes forward instead of a tensor."""


class FakeTensor:
    """What the checks read of a tensor: `.shape` and `.dim()`."""

    def __init__(self, *shape: int):
        self.shape = tuple(shape)

    def dim(self) -> int:
        return len(self.shape)


def _variables(model) -> dict[str, str]:
    return {name: name for name in model.graph.inputs}


def _file(checks: InputChecks, variables: dict[str, str]) -> str:
    """A stand-in for the generated file: the helpers, and a class with the checks placed as
    codegen places them (class body at depth 1, forward's body at depth 2)."""
    class_body = textwrap.indent("\n".join(checks.class_lines), "    ")
    forward = textwrap.indent("\n".join(checks.forward_lines), "        ")
    args = "".join(", " + v for v in variables.values())
    return ("\n\n".join(checks.helpers) + "\n\nclass Model:\n" + class_body + "\n\n"
            f"    def forward(self{args}):\n" + forward + "\n        return 'ran'\n")


def _module(checks: InputChecks, variables: dict[str, str], compiling: bool = False, tracing: bool = False):
    """An instance of the stand-in class, run with a fake `torch` saying whether it traces."""
    fake_torch = SimpleNamespace(compiler=SimpleNamespace(is_compiling=lambda: compiling),
                                 jit=SimpleNamespace(is_tracing=lambda: tracing),
                                 fx=SimpleNamespace(Proxy=FakeProxy))
    namespace = {"torch": fake_torch}
    exec(compile(_file(checks, variables), "<generated>", "exec"), namespace)  # noqa: S102 (our own source)
    return namespace["Model"]()


def _error(module, *inputs) -> str | None:
    """The ValueError's message, or None when the checks pass."""
    try:
        assert module.forward(*inputs) == "ran"
    except ValueError as e:
        return str(e)
    return None


def _checks_of(text: str, **hyperparams) -> tuple:
    model = archc.loads(text, hyperparams=hyperparams or None)
    variables = _variables(model)
    return model, variables, input_checks(model.graph, variables)


# ----------------------------------------------------------------------------- the rules


def test_unet_divisibility_names_input_rule_and_size():
    model, variables, checks = _checks_of(UNET)
    assert model.constraints == ["H % 16 == 0", "H >= 16", "W % 16 == 0", "W >= 16"]
    assert checks.checked == [
        "x: must have shape [N, 3, H, W] (4 dimensions)",
        "x: channels (axis 1) must be 3",
        "x: H (axis 2) must satisfy H % 16 == 0",
        "x: H (axis 2) must satisfy H >= 16",
        "x: W (axis 3) must satisfy W % 16 == 0",
        "x: W (axis 3) must satisfy W >= 16",
    ]
    assert not checks.skipped and checks.class_lines == ["check_inputs = True  # False: forward skips its input size checks"]
    module = _module(checks, variables)
    assert _error(module, FakeTensor(2, 3, 225, 64)) == "x: H (axis 2) must satisfy H % 16 == 0, got 225"
    assert _error(module, FakeTensor(2, 3, 64, 40)) == "x: W (axis 3) must satisfy W % 16 == 0, got 40"
    assert _error(module, FakeTensor(2, 3, 0, 64)) == "x: H (axis 2) must satisfy H >= 16, got 0"
    assert _error(module, FakeTensor(1, 3, 128, 256)) is None  # the batch is free
    assert _error(module, FakeTensor(7, 3, 16, 16)) is None


def test_checks_pass_exactly_where_the_assumptions_are_satisfied():
    for text in (UNET, SMALLEST):
        model, variables, checks = _checks_of(text)
        module = _module(checks, variables)
        a = model.graph.assumptions
        for h in range(70):
            for w in (h, 32, 47):
                ok = a.satisfied_by({"H": h, "W": w})
                assert (_error(module, FakeTensor(2, 3, h, w)) is None) == ok, (text, h, w)


def test_minimum_size():
    model, variables, checks = _checks_of(SMALLEST)
    assert model.constraints == ["H >= 10", "W >= 10"]
    module = _module(checks, variables)
    assert _error(module, FakeTensor(2, 3, 9, 12)) == "x: H (axis 2) must satisfy H >= 10, got 9"
    assert _error(module, FakeTensor(2, 3, 12, 3)) == "x: W (axis 3) must satisfy W >= 10, got 3"
    assert _error(module, FakeTensor(2, 3, 10, 10)) is None


def test_two_symbol_constraint_reads_both_axes():
    model, variables, checks = _checks_of(TWO_SYMBOLS)
    assert model.constraints == ["(H + W) % 2 == 0", "S % 2 == 0", "S >= 4"]
    rule = "a: H (axis 2), b: W (axis 2) must satisfy (H + W) % 2 == 0"
    assert rule in checks.checked
    source = "\n".join(checks.forward_lines)
    assert "(a.shape[2] + b.shape[2]) % 2 == 0" in source
    module = _module(checks, variables)
    assert _error(module, FakeTensor(2, 3, 31, 8), FakeTensor(2, 3, 32, 8)) == f"{rule}, got (31, 32)"
    assert _error(module, FakeTensor(2, 3, 31, 8), FakeTensor(2, 3, 33, 8)) is None
    # the symbols the inputs share: S, and the batch N
    assert (_error(module, FakeTensor(2, 3, 31, 8), FakeTensor(2, 3, 33, 10))
            == "a: axis 3 and b: axis 3 must be equal (both S), got (8, 10)")
    assert (_error(module, FakeTensor(2, 3, 31, 8), FakeTensor(4, 3, 33, 8))
            == "a: axis 0 and b: axis 0 must be equal (both N), got (2, 4)")
    a = model.graph.assumptions
    for h in range(1, 9):
        for w in range(1, 9):
            for s in range(1, 9):
                expected = a.satisfied_by({"H": h, "W": w, "S": s})
                got = _error(module, FakeTensor(2, 3, h, s), FakeTensor(2, 3, w, s))
                assert (got is None) == expected, (h, w, s, got)


def test_rank_and_channel_mismatch():
    _, variables, checks = _checks_of(UNET)
    module = _module(checks, variables)
    assert (_error(module, FakeTensor(3, 64, 64))
            == "x: must have shape [N, 3, H, W] (4 dimensions), got (3, 64, 64)")
    assert _error(module, FakeTensor(2, 1, 64, 64)) == "x: channels (axis 1) must be 3, got 1"
    _, variables, checks = _checks_of(FEATURES)
    module = _module(checks, variables)
    assert _error(module, FakeTensor(2, 784)) is None
    assert _error(module, FakeTensor(2, 28, 28)) == "x: must have shape [N, 784] (2 dimensions), got (2, 28, 28)"
    assert _error(module, FakeTensor(2, 783)) == "x: axis 1 must be 784, got 783"


def test_concrete_batch_and_spatial_sizes_are_not_checked():
    # a model with a global pool runs at other sizes than declared (as torchvision's do)
    model = archc.load(SPECS / "torchvision" / "resnet18.arch")
    variables = _variables(model)
    checks = input_checks(model.graph, variables)
    assert checks.checked == ["x: must have shape [N, 3, 224, 224] (4 dimensions)", "x: channels (axis 1) must be 3"]
    assert _error(_module(checks, variables), FakeTensor(1, 3, 64, 80)) is None


def test_a_symbol_declared_twice_means_equal_sizes():
    model = archc.load(SPECS / "unet_keras.arch", {"size": "H"})
    variables = _variables(model)
    checks = input_checks(model.graph, variables)
    assert checks.checked == [
        "x: must have shape [N, 3, H, H] (4 dimensions)",
        "x: channels (axis 1) must be 3",
        "x: axes 2 and 3 must be equal (both H)",
        "x: H (axis 2) must satisfy H % 16 == 0",
        "x: H (axis 2) must satisfy H >= 16",
    ]
    module = _module(checks, variables)
    assert _error(module, FakeTensor(1, 3, 128, 96)) == "x: axes 2 and 3 must be equal (both H), got (128, 96)"
    assert _error(module, FakeTensor(1, 3, 128, 128)) is None


def test_inference_constraints_only():
    model, variables, checks = _checks_of(AUX)
    assert model.constraints != model.training_constraints  # the head needs more in training
    assert [r for r in checks.checked if "satisfy" in r] == [
        f"x: {c[0]} (axis {2 if c[0] == 'H' else 3}) must satisfy {c}" for c in model.constraints]
    h = model.smallest_size("H")
    assert not model.graph.assumptions.satisfied_by({"H": h, "W": h})  # too small for training
    assert _error(_module(checks, variables), FakeTensor(2, 3, h, h)) is None


def test_residue_sets_and_their_runs():
    model, variables, _ = _checks_of(SMALLEST)
    a = sy.Assumptions()  # H % 3 == floor(H/3) % 3 + 1 holds iff H % 9 in {1, 5} (test_symbolic)
    H = sy.sym("H")
    lhs, rhs = H - 3 * sy.floordiv(H, 3), sy.floordiv(H, 3) - 3 * sy.floordiv(H, 9) + 1
    assert a.require_equal(lhs, rhs)
    b = sy.Assumptions()  # a run of residues: 2*floor(H/16) == floor(H/8) iff H % 16 in 0..7
    W = sy.sym("W")
    assert b.require_equal(sy.mul(2, sy.floordiv(W, 16)), sy.floordiv(W, 8))
    for assumptions in (a, b):
        model.graph.inference_assumptions = assumptions
        checks = input_checks(model.graph, variables)
        assert [r for r in checks.checked if "satisfy" in r] == [
            f"x: {d[0]} (axis {2 if d[0] == 'H' else 3}) must satisfy {d}" for d in assumptions.describe()]
        module = _module(checks, variables)
        for v in range(40):
            expected = assumptions.satisfied_by({"H": v, "W": v})
            assert (_error(module, FakeTensor(2, 3, v, v)) is None) == expected, (assumptions, v)


def test_a_symbol_no_axis_is_declared_as_is_skipped():
    text = """\
model Scaled
param h = 8
param h2 = 16
input a: [N, 3, h, h]
input b: [N, 3, h2, h2]
c = a -> maxpool2d(2) -> maxpool2d(2) -> conv2d(3, 1)
output y = b -> maxpool2d(2) -> conv2d(3, 3)
output z = c
"""
    H = sy.sym("H")
    # only 2*H and 4*H are declared: the constraint on H cannot be read off an axis
    model, variables, checks = _checks_of(text, h=sy.mul(2, H), h2=sy.mul(4, H))
    assert model.constraints and checks.skipped == model.constraints
    assert "a: axes 2 and 3 must be equal (both 2*H)" in checks.checked
    # H itself declared: the 2*H axes are checked against it, and the bound is checked
    model, variables, checks = _checks_of(text, h=H, h2=sy.mul(2, H))
    assert not checks.skipped
    assert "b: axis 2 must be 2*H (H: axis 2 of a)" in checks.checked
    module = _module(checks, variables)
    assert _error(module, FakeTensor(1, 3, 8, 8), FakeTensor(1, 3, 16, 16)) is None
    assert (_error(module, FakeTensor(1, 3, 8, 8), FakeTensor(1, 3, 15, 16))
            == "b: axis 2 must be 2*H (H: axis 2 of a), got 15")


@pytest.mark.parametrize("spec", [*sorted((SPECS / "torchvision").glob("*.arch")), SPECS / "unet_keras.arch",
                                  SPECS / "unet_original.arch"], ids=lambda p: p.stem)
def test_every_zoo_constraint_is_checked(spec):
    from archc.frontend import parse_file
    declared = {p.name for p in parse_file(spec).params}
    # symbolic sizes through whichever size parameters the spec declares (the classification zoo
    # has `size`; segmentation `height` and `width`; video also `frames`)
    sizes = {k: v for k, v in {"size": "H", "height": "H", "width": "W", "frames": "T"}.items() if k in declared}
    model = archc.load(spec, sizes)
    variables = _variables(model)
    checks = input_checks(model.graph, variables)
    assert not checks.skipped
    assert [r.split(" must satisfy ")[1] for r in checks.checked if " must satisfy " in r] == model.constraints
    source = _file(checks, variables)
    assert max(len(line) for line in source.splitlines()) <= pysrc.LINE


# ----------------------------------------------------------------------------- the guard


def test_the_checks_vanish_while_tracing_and_switch_off():
    _, variables, checks = _checks_of(UNET)
    bad = FakeTensor(2, 3, 225, 64)
    assert _error(_module(checks, variables), bad) is not None
    assert _error(_module(checks, variables, compiling=True), bad) is None
    assert _error(_module(checks, variables, tracing=True), bad) is None
    assert _error(_module(checks, variables), FakeProxy()) is None  # torch.fx.symbolic_trace
    module = _module(checks, variables)
    module.check_inputs = False
    assert _error(module, bad) is None
    source = checks.forward_lines[0]
    assert source.startswith(f"if self.check_inputs and not {TRACING_FUNCTION}(x):\n    {CHECK_FUNCTION}(")
    _, variables, checks = _checks_of(TWO_SYMBOLS)
    assert checks.forward_lines[0].startswith(f"if self.check_inputs and not {TRACING_FUNCTION}(a, b):\n")
    assert all(line.startswith("    ") for line in source.splitlines()[1:])


def test_emitted_source_is_valid_python_and_lint_clean(tmp_path):
    import shutil
    import subprocess
    import sys
    _, variables, checks = _checks_of(TWO_SYMBOLS)
    source = "import torch\n\n\n" + _file(checks, variables)
    ast.parse(source)
    for text in checks.helpers:
        assert text.endswith("\n") and not text.startswith("\n")
    ruff = shutil.which("ruff") or str(Path(sys.executable).parent / "ruff")
    if not Path(ruff).exists():
        pytest.skip("ruff is not installed")
    path = tmp_path / "generated.py"
    path.write_text(source)
    proc = subprocess.run([ruff, "check", "--no-cache", "--isolated", str(path)], capture_output=True, text=True,
                          check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_no_inputs_means_no_checks():
    model, _, _ = _checks_of(UNET)
    checks = input_checks(model.graph, {})  # an input forward does not take is not checked
    assert not checks and checks.forward_lines == [] and checks.class_lines == [] and checks.helpers == []


# ----------------------------------------------------------------------------- hostile text


def _names_and_strings(source: str) -> tuple[set[str], list[str]]:
    tree = ast.parse(source)
    names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
    strings = [n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)]
    return names, strings


@pytest.mark.parametrize("symbol", ["class", "__import__", "Ĥ", "exec", "ValueError"])
def test_symbol_names_stay_inside_string_literals(symbol):
    text = "model A\nparam size = 8\ninput x: [N, 3, size, size]\noutput y = x -> maxpool2d(2) -> conv2d(4, 3)\n"
    model, variables, checks = _checks_of(text, size=symbol)
    assert model.constraints == [f"{symbol} >= 6"]
    names, strings = _names_and_strings(_file(checks, variables))
    # the only names are the code's own: the spec's symbol appears only inside strings
    assert names <= {"self", "x", "tuple", "torch", "ValueError", "ok", "rule", "got", "inputs", "t", "any",
                     "isinstance", *RESERVED}
    assert f"x: {symbol} (axis 2) must satisfy {symbol} >= 6" in strings
    assert _error(_module(checks, variables), FakeTensor(1, 3, 5, 5)) == f"x: {symbol} (axis 2) must satisfy {symbol} >= 6, got 5"


def test_hostile_model_name_and_keyword_input_name():
    text = 'model "Evil\\"); import os; os.system(\\"x\\") #"\ninput lambda: [N, 3, H, W]\noutput y = lambda -> conv2d(4, 3)\n'
    model = archc.loads(text)
    assert "import os" in model.name
    variables = {"lambda": "lambda_"}  # codegen's variable for a keyword name
    checks = input_checks(model.graph, variables)
    source = _file(checks, variables)
    assert "os" not in _names_and_strings(source)[0] and "import os" not in source
    assert _error(_module(checks, variables), FakeTensor(1, 3, 2, 9)) == "lambda: H (axis 2) must satisfy H >= 3, got 2"


def test_strings_with_quotes_and_braces_are_repr_literals():
    # residue sets print with braces; an f-string would have evaluated them
    model, variables, _ = _checks_of(SMALLEST)
    a = sy.Assumptions()
    H = sy.sym("H")
    assert a.require_equal(H - 3 * sy.floordiv(H, 3), sy.floordiv(H, 3) - 3 * sy.floordiv(H, 9) + 1)
    model.graph.inference_assumptions = a
    checks = input_checks(model.graph, variables)
    assert '"x: H (axis 2) must satisfy H % 9 in {1, 5}"' in checks.forward_lines[0]
    assert "f\"" not in checks.forward_lines[0] and "f'" not in checks.forward_lines[0]


@pytest.mark.parametrize("var", ["x)", "x; import os", "class", "self", "", CHECK_FUNCTION, *sorted(RESERVED)])
def test_forward_variables_must_be_plain_names(var):
    model, _, _ = _checks_of(UNET)
    with pytest.raises(ValueError, match="not a usable name"):
        input_checks(model.graph, {"x": var})


def test_no_torch_import():
    import subprocess
    import sys
    code = ("import sys, archc\nfrom archc.lower.checks import input_checks\n"
            f"m = archc.loads({UNET!r})\ninput_checks(m.graph, {{'x': 'x'}})\nassert 'torch' not in sys.modules\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=False)
    assert proc.returncode == 0, proc.stderr


# ----------------------------------------------------------------------------- with torch

TINY_UNET = """\
model TinyUNet
param size = 32
input x: [N, 3, size, size]
c1 = x -> conv2d(4, 3, padding=same) -> relu
c2 = c1 -> maxpool2d(2) -> conv2d(8, 3, padding=same) -> relu
c3 = c2 -> maxpool2d(2) -> conv2d(8, 3, padding=same) -> relu
u2 = c3 -> conv_transpose2d(8, 2, stride=2)
d2 = concat(u2, c2) -> conv2d(8, 3, padding=same) -> relu
u1 = d2 -> conv_transpose2d(4, 2, stride=2)
output y = concat(u1, c1) -> conv2d(2, 1)
"""


def _checked_wrapper(torch, model, inner):
    """The emitted checks in a real nn.Module wrapping `inner` (the built model), laid out as
    the generated file will lay them out; and the list `_check_input` records its calls in."""
    variables = _variables(model)
    checks = input_checks(model.graph, variables)
    args = ", ".join(variables.values())
    source = ("import torch\nfrom torch import nn\n\n\n" + "\n\n".join(checks.helpers) + "\n\n"
              "class Checked(nn.Module):\n" + textwrap.indent("\n".join(checks.class_lines), "    ") + "\n\n"
              "    def __init__(self, inner):\n        super().__init__()\n        self.inner = inner\n\n"
              f"    def forward(self, {args}):\n" + textwrap.indent("\n".join(checks.forward_lines), "        ")
              + f"\n        return self.inner({args})\n")
    namespace: dict = {}
    exec(compile(source, "<checked>", "exec"), namespace)  # noqa: S102 (our own source)
    calls: list = []
    check = namespace[CHECK_FUNCTION]

    def recording(ok, rule, got):
        calls.append(rule)
        check(ok, rule, got)
    namespace[CHECK_FUNCTION] = recording
    return namespace["Checked"](inner), calls


def test_emitted_checks_in_a_real_module_vanish_under_compile_export_and_trace():
    torch = pytest.importorskip("torch")
    from torch.export import Dim
    model = archc.loads(TINY_UNET, hyperparams={"size": "H"})
    assert model.constraints == ["H % 4 == 0", "H >= 4"]
    torch.manual_seed(0)
    module, calls = _checked_wrapper(torch, model, archc.build(model).eval())
    module.eval()
    x = torch.randn(2, 3, 32, 32)
    with pytest.raises(ValueError, match=r"^x: H \(axis 2\) must satisfy H % 4 == 0, got 34$"):
        module(torch.randn(2, 3, 34, 34))
    calls.clear()
    with torch.no_grad():
        want = module(x)
    assert len(calls) == 5  # rank, channels, H == H, H % 4, H >= 4
    module.check_inputs = module.inner.check_inputs = False  # the built model checks too
    with pytest.raises(Exception) as caught:  # torch's own error, deep inside
        module(torch.randn(2, 3, 34, 34))
    assert not isinstance(caught.value, ValueError) or "must satisfy" not in str(caught.value)
    module.check_inputs = module.inner.check_inputs = True
    calls.clear()
    # torch.compile(fullgraph=True): one graph, no break, the checks not in it
    torch._dynamo.reset()
    compiled = torch.compile(module, fullgraph=True, backend="eager", dynamic=True)
    with torch.no_grad():
        torch.testing.assert_close(compiled(x), want)
        assert tuple(compiled(torch.randn(1, 3, 48, 48)).shape) == (1, 2, 48, 48)
    explained = torch._dynamo.explain(module)(x)
    assert explained.graph_break_count == 0 and explained.graph_count == 1
    assert calls == []
    # torch.export, non-strict (the default) and strict, with the dynamic sizes archc derives
    h = 4 * Dim("H_k", min=1)
    for strict in (False, True):
        program = torch.export.export(module, (x,), dynamic_shapes=({0: Dim("N"), 2: h, 3: h},), strict=strict)
        assert calls == []
        with torch.no_grad():
            torch.testing.assert_close(program.module()(x), want)
            assert tuple(program.module()(torch.randn(3, 3, 40, 40)).shape) == (3, 2, 40, 40)
    # torch.fx.symbolic_trace (torchvision's feature extraction)
    graph_module = torch.fx.symbolic_trace(module)
    assert calls == []
    with torch.no_grad():
        torch.testing.assert_close(graph_module(x), want)
    # torch.jit.trace (the legacy ONNX exporter's tracer)
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        traced = torch.jit.trace(module, x, check_trace=False)
    assert calls == []
    with torch.no_grad():
        torch.testing.assert_close(traced(x), want)


def test_generated_module_checks_its_inputs():
    torch = pytest.importorskip("torch")
    from torch.export import Dim
    model = archc.loads(TINY_UNET, hyperparams={"size": "H"})
    module = archc.build(model).eval()
    assert type(module).check_inputs is True
    source = model.to_source()
    assert "check_inputs = True" in source and f"def {CHECK_FUNCTION}(" in source
    with pytest.raises(ValueError, match=r"^x: H \(axis 2\) must satisfy H % 4 == 0, got 34$"):
        module(torch.randn(2, 3, 34, 34))
    with pytest.raises(ValueError, match=r"^x: channels \(axis 1\) must be 3, got 1$"):
        module(torch.randn(2, 1, 32, 32))
    with pytest.raises(ValueError, match=r"^x: axes 2 and 3 must be equal \(both H\), got \(32, 36\)$"):
        module(torch.randn(2, 3, 32, 36))
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        want = module(x)
    module.check_inputs = False
    with pytest.raises(Exception) as caught:  # torch's own error, deep inside
        module(torch.randn(2, 3, 34, 34))
    assert "must satisfy" not in str(caught.value)
    module.check_inputs = True
    torch._dynamo.reset()
    compiled = torch.compile(module, fullgraph=True, backend="eager", dynamic=True)
    with torch.no_grad():
        torch.testing.assert_close(compiled(x), want)
    h = 4 * Dim("H_k", min=1)
    program = torch.export.export(module, (x,), dynamic_shapes=({0: Dim("N"), 2: h, 3: h},))
    with torch.no_grad():
        torch.testing.assert_close(program.module()(x), want)
        torch.testing.assert_close(torch.fx.symbolic_trace(module)(x), want)
