"""The generated code as a PyTorch reviewer reads it: one class per block structure with the
block's parameters (and what the spec computes from them) as `__init__` arguments, the model's
parameters as constructor arguments with the spec's defaults, `padding=same` with a stride in
`forward`, every zoo file clean under `ruff check`, and `torch.compile(fullgraph=True)`."""
from __future__ import annotations

import ast
import re
import importlib.util
import inspect
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

try:
    import torch
except ModuleNotFoundError:  # without torch the tests of the generated text still run
    torch = None

import archc
from archc.lower.build import load_module
from archc.lower.codegen import generate
from archc.model import loads

ROOT = Path(__file__).resolve().parents[2]
SPECS = ROOT / "specs"
SE_RESNET = ROOT / "tests" / "data" / "lowering" / "se_resnet.arch"
needs_torch = pytest.mark.skipif(torch is None, reason="builds or runs the generated module: needs torch")


def _classes(source: str) -> list[str]:
    return [n.name for n in ast.parse(source).body if isinstance(n, ast.ClassDef)]


def _class_text(source: str, name: str) -> str:
    node = next(n for n in ast.parse(source).body if isinstance(n, ast.ClassDef) and n.name == name)
    return ast.get_source_segment(source, node)


def _model_class(model: archc.Model) -> type:
    generated = generate(model.graph, spec=model.spec)
    return getattr(load_module(generated), generated.class_name)


def _shapes(module: torch.nn.Module) -> dict[str, tuple[int, ...]]:
    return {k: tuple(v.shape) for k, v in module.state_dict().items()}


# ----------------------------------------------------------------------------- one class per block


@needs_torch
def test_se_block_is_one_class_with_its_parameters_as_arguments():
    """The SE block as docs/language.md writes it (`reshape([c, 1, 1])`) used at 16, 32 and 64
    channels: one SE class whose numbers are where the spec takes them from (fc1 reads the
    input's channels, fc2 writes `c`, the reshape reads `self.c`), and the residual block in one
    class whose shortcut is built where the block's own condition says so."""
    model = archc.load(SE_RESNET)
    source = model.to_source()
    assert _classes(source) == ["SE", "SEBasicBlock", "SEResNet"]
    se = _class_text(source, "SE")
    assert "def __init__(self, in_channels, c, reduction=16):" in se
    assert "self.fc1 = nn.Linear(in_channels, c // reduction)" in se
    assert "self.fc2 = nn.Linear(c // reduction, c)" in se
    assert "s = s.reshape(s.shape[0], self.c, 1, 1)  # [N, c, 1, 1]" in se
    assert "s = self.fc1(s)  # [N, c//reduction]" in se
    body = se.split("super().__init__()", 1)[1]
    assert not any(str(n) in body for n in (16, 32, 64))  # no channel count baked in
    assert "self.se = SE(planes, planes)" in source  # the default reduction left out
    block = _class_text(source, "SEBasicBlock")
    assert "def __init__(self, in_channels, planes, stride=1):" in block
    assert "        if not (stride == 1 and in_channels == planes):\n            self.shortcut = nn.Sequential(" in block
    assert "        if self.stride == 1 and self.in_channels == self.planes:\n            out = y + x" in block
    # archc.build runs that very text, and it computes what the spec says
    module = archc.build(model)
    assert sys.modules[type(module).__module__].__archc_source__ == source
    assert tuple(module(torch.randn(2, 3, 32, 32)).shape) == (2, 10)
    assert _shapes(module)["layer3.0.se.fc1.weight"] == (4, 64)
    assert "layer2.0.shortcut.0.weight" in _shapes(module) and "layer2.1.shortcut.0.weight" not in _shapes(module)


def test_structural_variants_are_one_class_with_the_blocks_condition():
    source = archc.load(SPECS / "torchvision" / "resnet50.arch").to_source()
    assert _classes(source) == ["Bottleneck", "ResNet50"]
    bottleneck = _class_text(source, "Bottleneck")
    # dilation: the segmentation backbones'; norm: the detection backbones' (frozen_batchnorm2d)
    assert ("def __init__(\n        self,\n        in_channels,\n        planes,\n        stride=1,\n        groups=1,\n"
            "        width_per_group=64,\n        dilation=1,\n        norm=nn.BatchNorm2d,\n    ):") in bottleneck
    assert "        self.bn1 = norm(width)\n" in bottleneck
    assert "        width = int(planes * (width_per_group / 64)) * groups\n        out = planes * 4\n" in bottleneck
    assert "        if not (stride == 1 and in_channels == out):\n            self.downsample" in bottleneck
    assert "Bottleneck(256, 128, 2)," in source and "Bottleneck(512, 128)," in source


def test_a_channel_shuffle_reads_the_spatial_sizes_from_its_input():
    """ShuffleNet's reshape([2, c // 2, y.height, y.width]) takes H and W from the tensor, so the
    unit classes are shared across stages and sizes (no `reshape_3` arguments)."""
    source = archc.load(SPECS / "torchvision" / "shufflenet_v2_x1_0.arch").to_source()
    assert _classes(source) == ["DownUnit", "BasicUnit", "ShuffleNetV2_x1_0"]
    unit = _class_text(source, "BasicUnit")
    assert "def __init__(self, in_channels, out):" in unit
    assert "c = in_channels // 2 + out // 2" in unit  # the spec's `c = x.channels` of the concat
    assert "out = out.reshape(out.shape[0], 2, self.c // 2, out.shape[2], out.shape[3])" in unit
    assert "# [N, (c//2), 2, H, W]" in unit or "# [N, c//2, 2, H, W]" in unit


# ----------------------------------------------------------------------------- model parameters


@needs_torch
@pytest.mark.parametrize("spec,params", [
    (SPECS / "resnet18.arch", {"num_classes": 10}),
    (SPECS / "cifar10_lenet.yaml", {"num_classes": 7}),
    (SPECS / "torchvision" / "shufflenet_v2_x0_5.arch", {"num_classes": 5}),
    (SE_RESNET, {"num_classes": 3}),
], ids=lambda v: v.name if isinstance(v, Path) else None)
def test_model_parameters_are_constructor_arguments(spec, params):
    """`ResNet18(num_classes=10)` is what `archc.build(spec, params={"num_classes": 10})` is."""
    model = archc.load(spec)
    cls = _model_class(model)
    signature = inspect.signature(cls)
    for name in params:
        assert signature.parameters[name].default == model.hyperparams[name]
    assert _shapes(cls(**params)) == _shapes(archc.build(spec, params=params))
    assert _shapes(cls()) == _shapes(archc.build(spec))


_NET = """
model Net
param width = 8
param depth = 2
param size = 16
input x: [N, 3, size, size]
h = x -> conv2d(width, 3, padding=1, name=stem) -> repeat(depth, conv2d(width * 2, 3, padding=1), name=body)
output y = h -> global_avgpool -> linear(width * 4, name=head)
"""


@needs_torch
def test_only_parameters_that_an_expression_carries_become_arguments():
    """A width that only scales channels is an argument (`width * 2`); a depth that changes the
    structure, and a size that changes no module, stay in the spec."""
    model = loads(_NET)
    source = model.to_source()
    assert "def __init__(self, width=8):" in source
    assert "self.head = nn.Linear(width * 2, width * 4)" in source
    assert _shapes(_model_class(model)(width=12)) == _shapes(archc.build(loads(_NET, hyperparams={"width": 12})))


# ----------------------------------------------------------------------------- padding=same


@needs_torch
def test_same_padding_with_a_stride_is_one_class_padded_in_forward():
    """Strided `same` convolutions at lengths 1000, 500, 250 and 125 (125 pads asymmetrically)
    share one class: the padding is computed in forward from the input, with a comment."""
    model = loads("""
        model AudioNet
        input x: [N, 1, 1000]
        block Down(c)(x) {
          return x -> conv1d(c, 3, stride=2, padding=same, name=conv) -> relu
        }
        h = x -> Down(8, name=d1) -> Down(16, name=d2) -> Down(32, name=d3) -> Down(64, name=d4)
        output y = h -> global_avgpool -> linear(10)
        """)
    source = model.to_source()
    assert _classes(source) == ["Down", "AudioNet"]
    down = _class_text(source, "Down")
    assert "# padding=same with a stride, as TF/Keras: ceil(in / stride) out, odd pad after" in down
    assert "out = self.conv(F.pad(x, same_pads(x, (3,), (2,), (1,))))  # [N, c, ceil(L/2)]" in down
    module = archc.build(model)
    h = torch.randn(2, 1, 1000)
    for name, length in [("d1", 500), ("d2", 250), ("d3", 125), ("d4", 63)]:
        h = getattr(module, name)(h)
        assert h.shape[-1] == model.shapes[f"{name}.conv"][-1] == length


# ----------------------------------------------------------------------------- ruff, torch.compile


def _ruff() -> list[str] | None:
    if importlib.util.find_spec("ruff") is not None:
        return [sys.executable, "-m", "ruff"]
    found = shutil.which("ruff")
    return [found] if found else None


def test_every_generated_zoo_file_passes_ruff(tmp_path):
    """`ruff check` with its default rules on the file `archc compile` writes for every spec of
    the zoo (one ruff run over all of them); and in each, forward reads only attributes that
    __init__ sets (`_assert_forward_reads_only_attributes_init_sets`)."""
    ruff = _ruff()
    if ruff is None:
        pytest.skip("ruff is not installed (pip install -e '.[dev]')")
    specs = sorted(SPECS.glob("*.arch")) + sorted(SPECS.glob("*.yaml")) + sorted((SPECS / "torchvision").glob("*.arch"))
    assert len(specs) > 90
    for spec in specs:
        name = f"{spec.parent.name}_{spec.stem}_{spec.suffix[1:]}.py"
        source = archc.load(spec).to_source()
        (tmp_path / name).write_text(source)
        _assert_forward_reads_only_attributes_init_sets(source)
    proc = subprocess.run([*ruff, "check", "--no-cache", "--isolated", str(tmp_path)],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


# One model per family the generator treats differently: shared classes with arguments read in
# forward (SE), nn.Sequential stages, a channel shuffle, stochastic depth and SE in EfficientNet,
# `same` padding at run time. The eager backend runs dynamo's tracing only (no compilation), so
# this stays fast; fullgraph=True makes any graph break an error.
COMPILE_CASES = [
    (SE_RESNET, {}, (2, 3, 32, 32)),
    (SPECS / "torchvision" / "shufflenet_v2_x0_5.arch", {"size": 64}, (2, 3, 64, 64)),
    (SPECS / "torchvision" / "efficientnet_b0.arch", {"size": 64}, (2, 3, 64, 64)),
    (SPECS / "torchvision" / "densenet121.arch", {"size": 64}, (1, 3, 64, 64)),
    (SPECS / "mnist_deep_cnn.arch", {}, None),
]


@needs_torch
@pytest.mark.parametrize("spec,params,shape", COMPILE_CASES, ids=lambda v: v.stem if isinstance(v, Path) else "")
def test_torch_compile_fullgraph(spec, params, shape):
    import torch._dynamo
    model = archc.load(spec, params or None)
    module = archc.build(model).eval()
    if shape is None:
        shape = tuple(2 if not isinstance(d, int) else d for d in model.graph.node(model.graph.inputs["x"]).shape)
    x = torch.randn(*shape)
    torch._dynamo.reset()
    compiled = torch.compile(module, fullgraph=True, backend="eager")
    with torch.no_grad():
        torch.testing.assert_close(compiled(x), module(x))


def test_classes_that_differ_in_structure_say_how():
    # issue 9: DenseNet's blocks were DenseBlockWithDenselayer7, …7_, …7_1
    import re
    from pathlib import Path
    import archc
    specs = Path(__file__).resolve().parents[2] / "specs"
    dense = archc.load(specs / "torchvision/densenet121.arch").to_source()
    assert re.findall(r"^class (DenseBlock\w*)\(", dense, re.M) == ["DenseBlock", "DenseBlock12", "DenseBlock24",
                                                                     "DenseBlock16"]
    mobile = archc.load(specs / "torchvision/mobilenet_v3_large.arch").to_source()
    # issue 17: one class per block definition; the structures' differences are the blocks' own
    # conditions (`if use_se:`), the activation a constructor argument
    assert re.findall(r"^class (\w+)\(", mobile, re.M) == [
        "ConvNormActivation", "SqueezeExcitation", "InvertedResidualV3Layers", "InvertedResidualV3",
        "MobileNetV3Features", "MobileNetV3Large"]
    assert "        if use_se:\n            layers.append(" in mobile
    assert "layers.append(norm(out))" in mobile and "layers.append(act(inplace=True))" in mobile
    assert "partial(nn.BatchNorm2d, eps=0.001, momentum=0.01)" in mobile


# resnet18: one class whose forward branches on the block's own condition; mobilenet_v3_small:
# layer factories (norm(out), act(inplace=True)) and merged Sequential classes
EXPORT_CASES = COMPILE_CASES[:3] + [
    (SPECS / "torchvision" / "resnet18.arch", {"size": 64}, (2, 3, 64, 64)),
    (SPECS / "torchvision" / "mobilenet_v3_small.arch", {"size": 64}, (2, 3, 64, 64)),
]


@needs_torch
@pytest.mark.parametrize("spec,params,shape", EXPORT_CASES, ids=lambda v: v.stem if isinstance(v, Path) else "")
def test_torch_export_of_the_generated_module(spec, params, shape):
    """torch.export traces the generated code (the merged classes' `if`s on constructor values
    are decided when tracing, the input checks skipped) and the program computes the same."""
    model = archc.load(spec, params or None)
    module = archc.build(model).eval()
    x = torch.randn(*shape)
    program = torch.export.export(module, (x,))
    with torch.no_grad():
        torch.testing.assert_close(program.module()(x), module(x))


# ----------------------------------------------------------------------------- faithful attributes


def _self_reads_and_writes(cls: ast.ClassDef) -> tuple[set[str], set[str]]:
    """The `self.X` a class's forward reads, and the attributes its __init__ (any branch) or its
    class body sets."""
    reads: set[str] = set()
    writes: set[str] = {n.targets[0].id for n in cls.body if isinstance(n, ast.Assign)
                        and isinstance(n.targets[0], ast.Name)}
    for method in (n for n in cls.body if isinstance(n, ast.FunctionDef)):
        for node in ast.walk(method):
            if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "self"):
                if isinstance(node.ctx, ast.Store):
                    writes.add(node.attr)
                elif method.name == "forward":
                    reads.add(node.attr)
            if (method.name == "__init__" and isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr in ("add_module", "register_buffer", "register_parameter")
                    and node.args and isinstance(node.args[0], ast.Constant)):
                writes.add(node.args[0].value)
    return reads, writes


MODULE_ATTRIBUTES = {"training"}  # what nn.Module itself provides and forward may read


def _assert_forward_reads_only_attributes_init_sets(source: str) -> None:
    """The issue's first failure (`'S' object has no attribute 'r'`) as a static check of every
    generated class: each `self.X` that forward reads is set by __init__ or the class body."""
    for cls in (n for n in ast.parse(source).body if isinstance(n, ast.ClassDef)):
        reads, writes = _self_reads_and_writes(cls)
        missing = reads - writes - MODULE_ATTRIBUTES
        assert not missing, f"{cls.name} reads {sorted(missing)} that __init__ never sets"


def test_the_attribute_check_finds_an_attribute_init_never_sets():
    bad = ("class S(nn.Module):\n    def __init__(self, out):\n        super().__init__()\n"
           "        self.out = out\n\n    def forward(self, x):\n        return x[:, : self.out * self.r]\n")
    with pytest.raises(AssertionError, match=r"S reads \['r'\]"):
        _assert_forward_reads_only_attributes_init_sets(bad)


_TWO_TOWER = """
model TwoTower
param dim = 64
input a: [N, 3, 32, 32]
input b: [N, 3, 32, 32]
block Tower(width)(x) {
  return x -> conv2d(32, 3, padding=1) -> relu -> conv2d(64, 3, padding=1) -> global_avgpool
           -> linear(width)
}
ta = a -> Tower(dim)
tb = b -> Tower(dim)
output y = concat(ta, tb) -> linear(dim)
"""


@needs_torch
def test_coincidences_stay_literals():
    """The issue's two-tower spec: the input has 3 channels and `dim` is 64, and neither the
    pooling axes (2, 3) nor the literal 64 of a convolution become `in_channels` or `dim`."""
    model = loads(_TWO_TOWER)
    source = model.to_source()
    tower = _class_text(source, "Tower")
    assert "torch.mean(out, dim=(2, 3))" in tower or "dim=(2, 3)" in tower
    assert "nn.Conv2d(32, 64, kernel_size=3, padding=1)" in tower
    assert "nn.Linear(64, width)" in tower
    assert "def __init__(self, dim=64):" in source
    cls = _model_class(model)
    assert _shapes(cls(dim=10)) == _shapes(archc.build(loads(_TWO_TOWER, hyperparams={"dim": 10})))


@needs_torch
def test_a_block_parameter_divides_a_symbolic_size():
    """A traced block parameter as the divisor of a symbolic input size (pooling by `g` on an
    input of height H) generates, and the class writes the pool as `g`."""
    model = loads("""
        model P
        input x: [N, 4, H, W]
        block Pool(g)(x) {
          return x -> avgpool2d(g) -> conv2d(8, 1)
        }
        output y = x -> Pool(2) -> Pool(4)
        """)
    pool = _class_text(model.to_source(), "Pool")
    assert "nn.AvgPool2d(kernel_size=g" in pool
    module = archc.build(model)
    assert tuple(module(torch.randn(1, 4, 16, 24)).shape) == (1, 8, 2, 3)


def test_an_inline_repeat_of_one_class_is_a_loop():
    """RegNet's stages (torchvision's AnyStage: `depth` blocks named block{k}-{i}, the first with
    stride 2) are one Sequential class whose constructor loops, the channels carried from block
    to block; a stage of depth 1 is the same class."""
    source = archc.load(SPECS / "torchvision" / "regnet_y_400mf.arch").to_source()
    stage = _class_text(source, "AnyStage")
    assert "class AnyStage(nn.Sequential):" in stage
    assert "def __init__(self, in_channels, k, depth, out, group_width, se_ratio):" in stage
    assert "        channels = in_channels\n        for i in range(depth):\n" in stage
    assert '"block" + str(k) + "-" + str(i)' in stage and "2 if i == 0 else 1" in stage
    assert stage.endswith("            channels = out")
    assert re.findall(r"^class (AnyStage\w*)\(", source, re.M) == ["AnyStage"]
    assert "self.block1 = AnyStage(32, 1, 1, 48, 8, 0.25)" in source


def test_provenance_survives_leaving_the_import_path():
    """A model loaded inside `import_path(...)` and compiled outside it: code generation
    elaborates the spec again with the folders it was loaded with (else its numbers would be
    literals and its parameters no constructor arguments)."""
    from archc.loader import import_path
    with import_path([SPECS]):
        model = archc.load(ROOT / "tests" / "data" / "lowering" / "resnet18_finetune.arch")
    source = model.to_source()
    assert "    def __init__(self, num_classes=10):" in source
    assert "def __init__(self, in_channels, planes, stride=1):" in source and "BasicBlockWith" not in source


_STAGES = """
model L
input x: [N, 4, 8, 8]
block Unit(out, stride = 1)(x) {
  return x -> conv2d(out, 3, stride=stride, padding=1, name=conv) -> relu(name=act)
}
block Stage(n, out, k)(x) {
  return x -> repeat(n, Unit(out, 2 if i == 0 else 1, name=f"unit{k}-{i}"), inline=true)
}
output y = x -> Stage(1, 8, 1, name=s1) -> Stage(3, 16, 2, name=s2) -> Stage(2, 8, 3, name=s3)
"""


def test_a_loop_computes_what_the_spec_does():
    """Stages of 1, 3 and 2 units, named unit{k}-{i}, the first of each with stride 2: one Stage
    class whose constructor loops, equal to the independent executor."""
    from test_reference_executor import check_against_executor
    model = loads(_STAGES)
    source = model.to_source()
    assert re.findall(r"^class (\w+)\(", source, re.M) == ["Unit", "Stage", "L"]
    assert "        for i in range(n):\n" in _class_text(source, "Stage")
    check_against_executor(model)
