"""Lowering to PyTorch (archc.build, archc compile): real forward passes agree with the static
shapes and parameter counts for every zoo spec; the generated file and archc.build are one
lowering; torchvision state_dicts load; frozen layers, initializers and transfer learning; the
generated source is deterministic, standalone and never executes spec text."""
from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import textwrap
import warnings

import pytest

torch = pytest.importorskip("torch")

import archc  # noqa: E402
from archc.errors import SpecErrors  # noqa: E402
from archc.lower.codegen import generate  # noqa: E402
from archc.ops import REGISTRY  # noqa: E402
from archc.ops.base import Op  # noqa: E402
from lowering_support import (ROOT, SPECS, cases, concrete_sizes, example_inputs,  # noqa: E402
                              import_file, outputs_of, parameters_on_meta, probe_module,
                              run_recording_shapes, share_parameters, static_shape, static_state,
                              zoo_specs)

FIXTURES = ROOT / "tests" / "fixtures"
DATA = ROOT / "tests" / "data" / "lowering"


@pytest.fixture(autouse=True)
def _quiet_and_deterministic(monkeypatch):
    # resnet18_finetune.arch imports the zoo's blocks from outside its own folder tree: allowed
    # only through the import search path, as a user would (ARCHC_PATH or --import-path)
    monkeypatch.setenv("ARCHC_PATH", str(SPECS))
    torch.manual_seed(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        yield


def loads(text: str, **params) -> archc.Model:
    return archc.loads(textwrap.dedent(text), params=params or None)


# ----------------------------------------------------------------------------- the op contract


def test_every_op_has_a_lowering():
    missing = [op.name for op in REGISTRY.ops if type(op).lower is Op.lower]
    assert missing == []


def test_ops_package_never_imports_torch():
    for path in (ROOT / "archc" / "ops").glob("*.py"):
        text = path.read_text()
        assert "import torch" not in text.replace('"import torch', "").replace("'import torch", ""), path


# ----------------------------------------------------------------------------- the zoo


def _check_shapes_and_counts(case) -> None:
    model = case.model
    module = probe_module(model)
    state = {k: tuple(v.shape) for k, v in module.state_dict().items()}
    assert state == static_state(model)
    assert sum(p.numel() for p in module.parameters()) == model.params
    assert sum(b.numel() for b in module.buffers()) == model.metrics.totals.buffers
    frozen = sum(p.numel() for p in module.parameters() if not p.requires_grad)
    assert frozen == model.frozen_params
    nodes = [n for n in model.graph.layers() if not n.is_input and not n.unused]  # unused: never run
    module.eval()  # shapes do not depend on the mode; train mode runs in the test below
    for values in case.sizes:
        with torch.no_grad():
            recorded, out = run_recording_shapes(module, example_inputs(model, values))
        missing = [n.id for n in nodes if n.id not in recorded]
        assert missing == [], f"{case.label} {values}: no shape recorded for {missing[:5]}"
        wrong = {n.id: (recorded[n.id], static_shape(n.shape, values)) for n in nodes
                 if recorded[n.id] != static_shape(n.shape, values)}
        assert wrong == {}, f"{case.label} at {values}: real vs static shapes differ"
        outs = outputs_of(out)
        expect = model.graph.inference_outputs  # eval mode: training outputs are not computed
        if len(expect) > 1:
            assert list(outs) == list(expect)
        for (name, node_id), tensor in zip(expect.items(), outs.values()):
            assert tuple(tensor.shape) == static_shape(model.graph.node(node_id).shape, values), name


# the zoo, and specs made for the lowering: several inputs and outputs, every kind of merge,
# symbolic sizes through ops that need helpers
LOWERING_SPECS = zoo_specs() + sorted(DATA.glob("*.arch"))


@pytest.mark.parametrize("path", LOWERING_SPECS, ids=lambda p: p.name)
def test_zoo_forward_shapes_and_counts_match_static_analysis(path):
    """Every node's real output shape equals its static shape (at the declared size and at
    sizes meeting the symbolic constraints), and parameters/buffers equal the static counts."""
    for case in cases(path):
        _check_shapes_and_counts(case)


def _smallest_case(path):
    """The model with symbolic sizes at small allowed sizes when it has that variant, else as
    declared."""
    case = cases(path)[-1]
    sizes = concrete_sizes(case.model, [{"H": 16, "W": 20, "L": 16, "D": 4}])
    return case.model, sizes[0]


@pytest.mark.parametrize("path", LOWERING_SPECS, ids=lambda p: p.name)
def test_zoo_generated_file_and_build_are_one_lowering(path, tmp_path):
    """The file `archc compile` writes and archc.build(): same state_dict keys, and with the
    same weights the same outputs, in eval and in train mode (dropout seeded); the
    shape-recording variant computes the same too."""
    model, values = _smallest_case(path)
    built = archc.build(model)
    generated = generate(model.graph)
    file = tmp_path / "model.py"
    file.write_text(generated.source)
    with parameters_on_meta():  # built's parameters are shared below: one copy, not three
        standalone = getattr(import_file(file, f"zoo_file_{path.stem}_{os.getpid()}"), generated.class_name)()
        probed = probe_module(model)
    assert list(standalone.state_dict()) == list(built.state_dict()) == list(probed.state_dict())
    share_parameters(standalone, built)
    share_parameters(probed, built)
    inputs = example_inputs(model, values)
    for mode in ("eval", "train"):
        results = []
        for module in (built, standalone, probed):
            getattr(module, mode)()
            torch.manual_seed(1)
            with torch.no_grad():
                results.append(outputs_of(module(*inputs)))
        for other in results[1:]:
            assert list(other) == list(results[0])
            for key in results[0]:
                torch.testing.assert_close(other[key], results[0][key], rtol=0, atol=0)


# ----------------------------------------------------------------------------- torchvision


TORCHVISION = [
    ("resnet18.arch", {}, "resnet18"), ("resnet34.arch", {}, "resnet34"),
    ("resnet50.arch", {}, "resnet50"), ("resnet101.arch", {}, "resnet101"),
    ("resnet152.arch", {}, "resnet152"), ("alexnet.arch", {}, "alexnet"),
    ("vgg16.arch", {}, "vgg16"), ("vgg16.arch", {"batch_norm": True}, "vgg16_bn"),
    ("mobilenet_v2.arch", {}, "mobilenet_v2"),
    ("mobilenet_v2.arch", {"width": 0.5}, "mobilenet_v2_width0.5"),
    ("googlenet.arch", {}, "googlenet"),
]


@pytest.mark.parametrize("spec,params,fixture", TORCHVISION, ids=[t[2] for t in TORCHVISION])
def test_built_state_dict_equals_torchvision(spec, params, fixture):
    """Keys (in order) and shapes of the built module's state_dict equal torchvision's
    (fixtures recorded from torchvision 0.29.1, tests/fixtures/make_torchvision_fixtures.py)."""
    reference = json.loads((FIXTURES / f"torchvision_{fixture}.json").read_text())
    with torch.device("meta"):  # shapes only: no memory for VGG's 138 M parameters
        module = archc.build(SPECS / spec, params=params or None)
    ours = {k: list(v.shape) for k, v in module.state_dict().items()}
    assert list(ours) == list(reference["state_dict"])
    assert ours == reference["state_dict"]
    assert sum(p.numel() for p in module.parameters()) == reference["params"]


def test_torchvision_style_checkpoint_loads_strictly(tmp_path):
    """A checkpoint file saved from another instance (as torchvision's are: a plain state_dict)
    loads with strict=True, directly or through build(weights=...)."""
    source = archc.build(SPECS / "resnet18.arch")
    with torch.no_grad():
        for p in source.parameters():
            p.normal_()
    ckpt = tmp_path / "resnet18.pth"
    torch.save(source.state_dict(), ckpt)
    target = archc.build(SPECS / "resnet18.arch")
    result = target.load_state_dict(torch.load(ckpt, weights_only=True), strict=True)
    assert not result.missing_keys and not result.unexpected_keys
    loaded = archc.build(SPECS / "resnet18.arch", weights=ckpt)
    report = loaded.archc_load_report
    assert report.complete and len(report.loaded) == len(source.state_dict())
    x = torch.randn(1, 3, 64, 64)
    source.eval(), target.eval(), loaded.eval()
    with torch.no_grad():
        torch.testing.assert_close(target(x), source(x))
        torch.testing.assert_close(loaded(x), source(x))


# ----------------------------------------------------------------------------- every op


def _dsl(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_dsl(v) for v in value) + "]"
    return repr(value)


def _op_cases():
    from op_cases import CASES
    return CASES


# Where the op-level reference in tests/ops/test_ops.py is deliberately not the op's exact values:
# (op, case index among that op's cases) -> why
_REFERENCE_DIFFERS = {
    # torch's padding=1, output_padding=1 gives the size of Keras' `same`, but takes the row of
    # the full output that Keras keeps at the start from the end instead
    ("conv_transpose2d", 1): "Keras places the odd crop of padding=same at the end",
    # avgpool × window size counts a window cut by ceil_mode with a smaller divisor
    ("sumpool2d", 0): "sum pooling is a true sum at the ragged edge",
}


@pytest.mark.parametrize("index", range(len(_op_cases())))
def test_each_op_lowering_matches_the_op_level_torch_reference(index):
    """Each op case of tests/ops/test_ops.py as a one-layer spec: the built module has the
    reference's state_dict (under the layer's name) and, with its weights, the same output."""
    name, shapes, args, kwargs, make = _op_cases()[index]
    same_op = [c for c in _op_cases()[:index] if c[0] == name]
    inputs = [f"x{k}" for k in range(len(shapes))]
    attrs = [_dsl(a) for a in args] + [f"{k}={_dsl(v)}" for k, v in kwargs.items()]
    call = f"{name}({', '.join(inputs + attrs)}, name=layer)"
    op = REGISTRY.get(name)
    if op.pieces_op:  # chunk, split: the reference gives the first piece; keep the others too
        pieces = len(op.pieces(op.bind(list(args), dict(kwargs), len(shapes[0]) - 2), shapes[0], None))
        body = [f"y, {', '.join(f'_p{k}' for k in range(1, pieces))} = {call}", "output y"]
    else:
        body = [f"output y = {call}"]
    text = "\n".join([f"input {n}: {_dsl(list(s))}" for n, s in zip(inputs, shapes)] + body)
    model = archc.loads(text)
    module = archc.build(model).eval()
    built = make(torch)
    reference, ref_module = built if isinstance(built, tuple) else (built, built)
    if isinstance(ref_module, torch.nn.Module):
        ref_module.eval()
        ours = {k.removeprefix("layer."): v for k, v in module.state_dict().items()}
        assert set(ours) == set(ref_module.state_dict())
        with torch.no_grad():
            for p in ref_module.parameters():
                p.uniform_(-1, 1)
        module.load_state_dict({f"layer.{k}": v for k, v in ref_module.state_dict().items()})
    xs = [torch.randn(*s) for s in shapes]
    with torch.no_grad():
        got, want = module(*xs), reference(*xs)
    assert tuple(got.shape) == static_shape(model.output_shapes["y"], {})
    if (REGISTRY.get(name).name, len(same_op)) not in _REFERENCE_DIFFERS:
        torch.testing.assert_close(got, want)


# ----------------------------------------------------------------------------- frozen, init


def test_frozen_layers_do_not_train():
    model = loads("""\
        block Stem()(x) {
          return x -> conv2d(8, 3, padding=1, name=conv) -> batchnorm2d(name=bn) -> relu
        }
        input x: [N, 3, 8, 8]
        h = x -> Stem(name=stem, frozen=true) -> conv2d(8, 3, name=mid, frozen=true)
        output y = h -> conv2d(4, 3, name=head) -> flatten
        """)
    module = archc.build(model)
    source = model.to_source()
    assert "self.stem.requires_grad_(False)" in source  # a frozen block: once, for all of it
    assert "self.mid.requires_grad_(False)" in source
    flags = {name: p.requires_grad for name, p in module.named_parameters()}
    assert flags == {"stem.conv.weight": False, "stem.conv.bias": False, "stem.bn.weight": False,
                     "stem.bn.bias": False, "mid.weight": False, "mid.bias": False,
                     "head.weight": True, "head.bias": True}
    assert sum(p.numel() for p in module.parameters() if not p.requires_grad) == model.frozen_params
    before = {k: v.clone() for k, v in module.state_dict().items()}
    assert module.train() is module
    assert module.training and module.head.training and not module.stem.training
    assert not module.stem.bn.training  # frozen batch norm runs as at inference
    opt = torch.optim.SGD([p for p in module.parameters() if p.requires_grad], lr=0.1)
    for _ in range(2):
        opt.zero_grad()
        module(torch.randn(4, 3, 8, 8)).square().mean().backward()
        opt.step()
    after = module.state_dict()
    for key in flags:
        assert torch.equal(before[key], after[key]) == (not flags[key]), key
    for key in ("stem.bn.running_mean", "stem.bn.running_var", "stem.bn.num_batches_tracked"):
        assert torch.equal(before[key], after[key]), key  # running statistics kept too


def _init_model(init: str, bias_init: str | None = None, out: int = 256) -> torch.nn.Module:
    bias = f", bias_init={bias_init}" if bias_init else ""
    return archc.build(loads(f"""\
        input x: [N, 64, 8, 8]
        output y = x -> conv2d({out}, 3, init={init}{bias}, name=conv)
        """))


@pytest.mark.parametrize("init,std", [
    ("he_normal", math.sqrt(2 / 576)),            # fan_in = 64 × 3 × 3
    ("lecun_normal", math.sqrt(1 / 576)),
    ("glorot_normal", math.sqrt(2 / (576 + 2304))),  # fan_out = 256 × 3 × 3
    ("xavier_normal", math.sqrt(2 / (576 + 2304))),
    ("normal", 0.05),
])
def test_normal_initializers_have_keras_spread(init, std):
    w = _init_model(init).conv.weight.detach()
    assert abs(w.mean().item()) < 0.01 * std * 10
    assert w.std().item() == pytest.approx(std, rel=0.03)


@pytest.mark.parametrize("init,bound", [
    ("he_uniform", math.sqrt(6 / 576)), ("glorot_uniform", math.sqrt(6 / (576 + 2304))),
    ("xavier_uniform", math.sqrt(6 / (576 + 2304))), ("uniform", 0.05),
])
def test_uniform_initializers_have_keras_bounds(init, bound):
    w = _init_model(init).conv.weight.detach()
    assert w.abs().max().item() <= bound
    assert w.abs().max().item() > 0.99 * bound
    assert w.std().item() == pytest.approx(bound / math.sqrt(3), rel=0.03)


def test_constant_and_orthogonal_initializers_and_bias_init():
    conv = _init_model("zeros", "ones").conv
    assert torch.all(conv.weight == 0) and torch.all(conv.bias == 1)
    conv = _init_model("ones", "zeros").conv
    assert torch.all(conv.weight == 1) and torch.all(conv.bias == 0)
    w = _init_model("orthogonal", out=32).conv.weight.detach().reshape(32, -1)  # rows orthonormal
    torch.testing.assert_close(w @ w.T, torch.eye(32), atol=1e-5, rtol=0)
    b = _init_model("default", "he_normal", out=4096).conv.bias.detach()  # fan = the bias length
    assert b.std().item() == pytest.approx(math.sqrt(2 / 4096), rel=0.1)


def test_default_init_leaves_torch_initialisation():
    torch.manual_seed(3)
    a = _init_model("default").conv.weight.detach()
    torch.manual_seed(3)
    b = torch.nn.Conv2d(64, 256, 3).weight.detach()
    torch.testing.assert_close(a, b)


def test_orthogonal_bias_init_is_refused_by_check():
    """torch's orthogonal_ needs a matrix: refused when the spec is checked, not at build."""
    with pytest.raises(archc.SpecErrors) as info:
        _init_model("default", "orthogonal")
    (error,) = info.value.errors
    assert error.code == "E-CALL-INITIALIZER-NOT-FOR-BIAS" and "a bias is a vector" in error.message


# ----------------------------------------------------------------------------- transfer learning


def test_transfer_learning_replaces_the_head_and_freezes_the_backbone(tmp_path):
    """A ResNet-18 checkpoint (as torchvision's) into a spec with a new 10-class head and a
    frozen backbone: everything but the head loads, the head's shape mismatch is reported, the
    head trains and the backbone stays as loaded."""
    pretrained = archc.build(SPECS / "resnet18.arch")
    with torch.no_grad():
        for p in pretrained.parameters():
            p.uniform_(-0.1, 0.1)
    ckpt = tmp_path / "resnet18.pth"
    torch.save({"epoch": 90, "state_dict": pretrained.state_dict()}, ckpt)  # a training checkpoint

    model = archc.build(DATA / "resnet18_finetune.arch", weights=ckpt)
    report = model.archc_load_report
    assert report.skipped == {"fc.weight": ((1000, 512), (10, 512)), "fc.bias": ((1000,), (10,))}
    assert report.missing == [] and report.unexpected == []
    assert len(report.loaded) == len(pretrained.state_dict()) - 2
    assert "fc.weight: checkpoint [1000, 512], model [10, 512]" in str(report)
    trainable = [name for name, p in model.named_parameters() if p.requires_grad]
    assert trainable == ["fc.weight", "fc.bias"]

    backbone = {k: v.clone() for k, v in model.named_parameters() if not k.startswith("fc.")}
    head = model.fc.weight.detach().clone()
    opt = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.5)
    x, target = torch.randn(4, 3, 32, 32), torch.tensor([0, 1, 2, 3])
    for _ in range(3):
        opt.zero_grad()
        torch.nn.functional.cross_entropy(model(x), target).backward()
        opt.step()
    assert not torch.equal(model.fc.weight, head)
    for name, p in model.named_parameters():
        if name in backbone:
            assert torch.equal(p, backbone[name]), name
            assert torch.equal(p, pretrained.state_dict()[name]), name
    for name, b in model.named_buffers():  # batch norm statistics of the frozen backbone too
        assert torch.equal(b, pretrained.state_dict()[name]), name


def test_load_weights_strips_a_data_parallel_prefix_and_reports_unexpected_keys():
    model = loads("input x: [N, 2]\noutput y = x -> linear(3, name=fc)\n")
    module = archc.build(model)
    state = {"module.fc.weight": torch.ones(3, 2), "module.fc.bias": torch.zeros(3),
             "module.extra": torch.ones(1)}
    report = archc.load_weights(module, state)
    assert report.loaded == ["fc.weight", "fc.bias"] and report.unexpected == ["extra"]
    assert torch.all(module.fc.weight == 1)


# ----------------------------------------------------------------------------- generated source


@pytest.mark.parametrize("spec", [SPECS / "googlenet.arch", SPECS / "torchvision" / "mobilenet_v3_large.arch",
                                  SPECS / "torchvision" / "resnet50.arch"], ids=lambda p: p.stem)
def test_generated_source_is_byte_identical_across_processes(spec):
    """The same text whatever the process's hash seed (merged classes' conditions and stored
    arguments included)."""
    runs = []
    for seed in ("1", "2", "3"):
        env = dict(os.environ, PYTHONHASHSEED=seed)
        proc = subprocess.run([sys.executable, "-m", "archc.cli", "compile", str(spec)],
                              capture_output=True, env=env, cwd=ROOT)
        assert proc.returncode == 0, proc.stderr
        runs.append(proc.stdout)
    assert runs[0] == runs[1] == runs[2] == archc.load(spec).to_source().encode()


def test_generated_file_runs_standalone_with_only_torch(tmp_path):
    """The file imports torch only: it runs from an empty directory in an isolated interpreter
    and nothing from archc is imported."""
    model = archc.load(SPECS / "unet_keras.arch", {"size": 32})
    (tmp_path / "unet.py").write_text(model.to_source())
    script = textwrap.dedent("""\
        import sys, torch
        sys.path.insert(0, ".")
        from unet import UNetKeras
        net = UNetKeras().eval()
        with torch.no_grad():
            y = net(torch.rand(2, 3, 32, 32))
        assert tuple(y.shape) == (2, 1, 32, 32), y.shape
        assert not [m for m in sys.modules if m.split(".")[0] == "archc"]
        print("ok", sum(p.numel() for p in net.parameters()))
        """)
    proc = subprocess.run([sys.executable, "-I", "-c", script], capture_output=True, text=True,
                          cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["ok", str(model.params)]
    imports = [line for line in model.to_source().splitlines() if line.startswith(("import ", "from "))]
    assert imports == ["import torch", "from torch import nn"]


def test_generated_code_has_one_class_per_block_definition():
    source = archc.load(SPECS / "resnet18.arch").to_source()
    assert source.count("class BasicBlock(nn.Module):") == 1 and "BasicBlockWith" not in source
    assert "def __init__(self, in_channels, planes, stride=1):" in source  # the block's parameters
    assert "self.layer1 = nn.Sequential(BasicBlock(64, 64), BasicBlock(64, 64))" in source
    assert "self.layer3 = nn.Sequential(BasicBlock(128, 256, 2), BasicBlock(256, 256))" in source
    assert "        y = self.conv1(x)  # [N, planes, " in source or "        y = self.conv1(x)\n" in source
    assert "        logits = self.fc(logits)  # [N, num_classes]" in source
    assert max(len(line.split("  #")[0]) for line in source.splitlines()) <= 88


def test_generated_code_is_laid_out_as_black_would():
    """88 columns (a shape comment that would not fit goes on its own line above), two blank
    lines between top-level definitions, one between methods; checked for every zoo spec (the
    output was also checked to be unchanged by black 26 itself, which is not a dependency)."""
    for path in LOWERING_SPECS:
        source = archc.load(path).to_source()
        lines = source.splitlines()
        long = [line for line in lines if len(line) > 88 and not line.lstrip().startswith("#")
                and not line.startswith(("Inputs:", "Outputs:", "Input sizes"))]
        assert long == [], path.name
        for k, line in enumerate(lines):
            if line.startswith(("class ", "def ")) and k > 8:
                assert lines[k - 1] == lines[k - 2] == "" and lines[k - 3] != "", (path.name, line)
            if line.startswith("    def ") and "__init__" not in line:
                assert lines[k - 1] == "" and lines[k - 2] != "", (path.name, line)
        assert source.endswith(")\n") or source.endswith("\n") and not source.endswith("\n\n")


def test_spec_text_is_never_executed(tmp_path):
    """Names and strings from a spec reach the generated code only as checked identifiers or
    repr-quoted literals: a spec trying to inject code runs nothing."""
    from archc import ast as A
    from archc.frontend import parse_dsl
    from archc.ir.elaborate import elaborate

    marker = tmp_path / "pwned"
    attack = f'x); import os; os.system("touch {marker}"); ('
    # a dotted name is a container's member (`convs.1`): this one is accepted, and stays text
    model = archc.loads(f"input x: [N, 3, 8, 8]\noutput y = x -> conv2d(4, 3, name={json.dumps(attack)})\n")
    module = archc.build(model)
    assert list(module.state_dict()) == [f"{attack}.weight", f"{attack}.bias"]
    module(torch.randn(1, 3, 8, 8))
    assert not marker.exists()
    with pytest.raises(SpecErrors, match="not a valid module name"):  # layer names are checked
        archc.loads(f"input x: [N, 3, 8, 8]\noutput y = x -> conv2d(4, 3, name={json.dumps(attack + '.')})\n")

    # The front ends accept identifiers only; an AST built in Python can hold anything.
    spec = parse_dsl(textwrap.dedent("""\
        block Blk(k = 2)(x) {
          return x -> conv2d(k, 3, padding=1) -> relu
        }
        input x: [N, 3, 8, 8]
        y = x -> Blk(name=b1)
        output y
        """))
    code = f'open({str(marker)!r}, "w")'
    evil_tensor = f'y"]; {code}; z = ["'
    evil_block = f"Blk(nn.Module): pass\n{code}\nclass B"
    pipe = spec.body[0].value
    spec = A.replace(
        spec,
        name=f'M"""\n{code}\n"""',
        blocks=[A.replace(spec.blocks[0], name=evil_block)],
        body=[A.Assign(targets=[evil_tensor],
                       value=A.replace(pipe, target=A.replace(pipe.target, func=evil_block)))],
        outputs=[A.Output(name=evil_tensor, value=A.Name(id=evil_tensor)),
                 A.Output(name=f"it's \"{code}\"\n", value=A.Name(id=evil_tensor))],
    )
    model = archc.Model(spec, elaborate(spec, "<evil>"))
    source = model.to_source()
    calls = {ast_node.func.id for ast_node in __import__("ast").walk(__import__("ast").parse(source))
             if type(ast_node).__name__ == "Call" and type(ast_node.func).__name__ == "Name"}
    assert "open" not in calls  # the attack is text inside literals and comments, not code
    module = archc.build(model)
    out = module(torch.randn(1, 3, 8, 8))
    assert list(out) == [evil_tensor, f"it's \"{code}\"\n"]  # output names kept exactly
    assert not marker.exists()


def test_names_that_clash_with_python_or_torch_are_handled():
    model = loads("""\
        block B(lambda = 4)(x) {
          return x -> conv2d(lambda, 1, name=0) -> relu(name=class)
        }
        input x: [N, 3, 4, 4]
        torch = x -> B(name=nn) -> B(6, name=F)
        output self = torch -> flatten
        """)
    module = archc.build(model)
    assert set(module.state_dict()) == {"nn.0.weight", "nn.0.bias", "F.0.weight", "F.0.bias"}
    assert tuple(module(torch.randn(2, 3, 4, 4)).shape) == (2, 96)
    with pytest.raises(SpecErrors, match="torch.nn.Module has an attribute"):
        loads("input x: [N, 3]\noutput y = x -> linear(2, name=forward)\n")


def test_reserved_layer_names_cover_torch_module_attributes():
    from archc.ir.builder import TORCH_MODULE_ATTRS
    attrs = {a for a in set(dir(torch.nn.Sequential())) | set(dir(torch.nn.Module())) if not a.startswith("__")}
    assert attrs <= TORCH_MODULE_ATTRS


def test_static_commands_and_compile_never_import_torch(tmp_path):
    code = textwrap.dedent(f"""\
        import sys
        import archc
        from archc.cli import main
        model = archc.load({str(SPECS / 'resnet18.arch')!r})
        model.to_source()
        for argv in (["check", {str(SPECS / 'unet_keras.arch')!r}], ["summary", {str(SPECS / 'googlenet.arch')!r}],
                     ["compile", {str(SPECS / 'resnet18.arch')!r}, "-o", {str(tmp_path / 'm.py')!r}]):
            assert main(argv) == 0
        assert "torch" not in sys.modules, "torch was imported"
        """)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "m.py").read_text().startswith('"""ResNet18: generated by archc')


def test_built_modules_pickle_and_deepcopy():
    """The generated classes live in a registered module, so built models pickle (torch.save of
    a whole module) and copy."""
    import copy
    import pickle
    model = archc.load(DATA / "two_heads.arch")
    module = model.to_torch().eval()
    args = example_inputs(model, {"N": 2, "H": 9, "W": 12})
    clone = pickle.loads(pickle.dumps(module))
    twin = copy.deepcopy(module)
    assert type(clone) is type(module)
    with torch.no_grad():
        want = module(*args)
        for other in (clone, twin):
            got = other(*args)
            for key in want:
                torch.testing.assert_close(got[key], want[key])
