"""The independent reference executor (tests/support/reference_executor.py) as the oracle for the
generated PyTorch code (issue 17): with the same weights (the built module's state_dict, batch
norm running statistics, biases, 1-d weights and declared parameters made random so that they
matter) and the same inputs, in float64 and eval mode, the module archc builds from its generated
source and the executor give the same outputs, and every node the executor computes has its
static shape. Run on the zoo at the smallest input size each spec allows (inference's
constraints; the width one step above the height where allowed), one torchvision variant per
family (all 68 with ARCHC_EXECUTOR_ALL=1), the specs made for the lowering, the random op chains
of test_lowering_random.py, and the issue's reproducers.

The executor is checked on its own too: every op has an entry, it imports nothing of the code
generator, a few ops against hand-computed numbers, training mode (batch statistics, the given
state left as it is) and training-only layers."""
from __future__ import annotations

import ast
import os
import textwrap
import warnings

import pytest

torch = pytest.importorskip("torch")
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lowering_support import (
    ROOT,
    SPECS,
    concrete_sizes,
    example_inputs,
    static_shape,
    with_symbolic_inputs,
    zoo_specs,
)
from reference_executor import EXECUTORS, outputs_of, run_graph
from test_lowering_random import random_specs as random_op_chains

import archc
from archc import symbolic as sy
from archc.errors import SpecErrors
from archc.ops import REGISTRY

ALL = os.environ.get("ARCHC_EXECUTOR_ALL") == "1"
# above this many parameters a spec's construction and float64 copy dominate (the seeds' AlexNet,
# 202 M: 4 s and 2.4 GB): left to ARCHC_EXECUTOR_ALL=1 (VGG 11–19, 133–144 M, run: ~1.5 s each)
HEAVY_PARAMS = 150_000_000
# one variant per torchvision family, plus the variants whose blocks differ (EfficientNet V2's
# fused blocks, RegNet Y's squeeze-and-excitation, ResNeXt's groups, SqueezeNet 1.1's stem)
TORCHVISION = ["alexnet", "convnext_tiny", "densenet121", "efficientnet_b0", "efficientnet_v2_s",
               "googlenet", "inception_v3", "mnasnet0_5", "mobilenet_v2", "mobilenet_v3_large",
               "regnet_x_400mf", "regnet_y_400mf", "resnext50_32x4d", "shufflenet_v2_x0_5",
               "squeezenet1_1", "vgg11_bn"]
TORCHVISION_SPECS = (sorted((SPECS / "torchvision").glob("*.arch")) if ALL
                     else [SPECS / "torchvision" / f"{b}.arch" for b in TORCHVISION])
LOWERING_DATA = sorted((ROOT / "tests" / "data" / "lowering").glob("*.arch"))
RTOL = 1e-9  # float64: the two computations differ by rounding only (seen: ~1e-15)


@pytest.fixture(autouse=True)
def _quiet_and_deterministic(monkeypatch):
    monkeypatch.setenv("ARCHC_PATH", str(SPECS))  # resnet18_finetune imports the zoo's blocks
    torch.manual_seed(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        yield


# ----------------------------------------------------------------------------- helpers


def smallest_sizes(model: archc.Model) -> dict[str, int]:
    """The batch 2 and every other symbol at the smallest size inference allows; then the width
    (W, W1, …) at the next allowed size above the height's when that keeps every constraint, so
    that an exchange of the two spatial axes cannot go unnoticed."""
    graph = model.graph
    assumptions = graph.inference_assumptions or graph.assumptions
    symbols: list[str] = []
    for node_id in graph.inputs.values():
        for d in graph.node(node_id).shape:
            if not sy.is_int(d):
                symbols += [s for s in sorted(d.free_symbols()) if s not in symbols]
    values = {s: 2 if s == "N" else assumptions.example(s, 1) for s in symbols}
    bump = 0
    while not assumptions.satisfied_by(values) and bump < 64:
        bump += 1
        values = {s: v if s == "N" else assumptions.example(s, v + 1) for s, v in values.items()}
    assert assumptions.satisfied_by(values), (values, model.constraints)
    for s in symbols:
        if s.startswith("W") and "H" + s[1:] in values:
            wider = dict(values, **{s: assumptions.example(s, values["H" + s[1:]] + 1)})
            if assumptions.satisfied_by(wider):
                values = wider
    return values


def randomize_state(module: torch.nn.Module, model: archc.Model, seed: int = 0) -> None:
    """Batch norm running statistics, biases, norm and PReLU weights and spec-declared parameters
    (layer scales) made random, so that each of them changes the output: the built module's
    defaults (mean 0, variance 1, weight 1, bias 0, layer scale 1e-6) would hide a lowering that
    ignores them. Convolution and linear weights keep their (random) initialisation."""
    gen = torch.Generator().manual_seed(seed)
    declared = {n.id for n in model.graph.layers() if n.op is not None and n.op.name == "parameter"}

    def rand(t, scale, shift=0.0):
        return torch.randn(t.shape, generator=gen, dtype=torch.float64).to(t.dtype) * scale + shift

    with torch.no_grad():
        for name, t in module.state_dict().items():
            if not t.is_floating_point():
                continue
            if name.endswith("running_var"):
                t.copy_(torch.rand(t.shape, generator=gen, dtype=torch.float64).to(t.dtype) + 0.5)
            elif name.endswith(("running_mean", "bias")):
                t.copy_(rand(t, 0.2))
            elif name in declared:
                t.copy_(rand(t, 0.5, 0.5))
            elif t.dim() <= 1:  # norm weights, PReLU slopes
                t.copy_(rand(t, 0.2, 1.0 if name.endswith("weight") else 0.0))


def built_module(model: archc.Model) -> torch.nn.Module:
    # built in float64 directly: a float32 module turned .double() holds both copies at once
    # (VGG-19: 0.6 + 1.2 GB)
    default = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        module = archc.build(model)
    finally:
        torch.set_default_dtype(default)
    module = module.double().eval()
    randomize_state(module, model)
    return module


def module_outputs(module: torch.nn.Module, model: archc.Model, xs: list) -> dict[str, torch.Tensor]:
    result = module(*xs)
    expect = model.graph.inference_outputs
    assert isinstance(result, dict) == model.graph.returns_dict  # `returns dict`, or several outputs
    if isinstance(result, dict):
        return {name: result[name] for name in expect}
    assert len(expect) == 1
    return {next(iter(expect)): result}


def relative_error(a: torch.Tensor, b: torch.Tensor) -> float:
    """max |a - b| over max(1, max |b|): relative for large values, absolute for small ones
    (a spec can give exact zeros, e.g. the mean of a normalised row, that the two computations
    round to different 1e-17s); equal infinities (a max-pooling window wholly in the padding)
    and NaNs in the same places count as equal."""
    if not b.numel():
        return 0.0
    same = (a == b) | (torch.isnan(a) & torch.isnan(b))
    diff = torch.where(same, torch.zeros_like(a), (a - b).abs())
    finite = b[torch.isfinite(b)]
    scale = max(1.0, finite.abs().max().item() if finite.numel() else 1.0)
    return diff.max().item() / scale


def first_divergent_module(module, values: dict, xs: list) -> str:
    """For the report: the first module (in the executor's order) whose output differs from the
    executor's value of the node with that id."""
    seen: dict[str, torch.Tensor] = {}
    hooks = [sub.register_forward_hook(lambda m, args, out, name=name: seen.__setitem__(name, out.clone())
                                       if isinstance(out, torch.Tensor) else None)
             for name, sub in module.named_modules() if name]
    try:
        module(*xs)
    finally:
        for h in hooks:
            h.remove()
    for node_id, ref in values.items():
        got = seen.get(node_id)
        if got is not None and (got.shape != ref.shape or relative_error(got, ref) > RTOL):
            return f"first divergent module: {node_id} ({tuple(got.shape)} vs executor {tuple(ref.shape)})"
    return "no module output differs from the executor's node value"


def check_against_executor(model: archc.Model, values: dict[str, int] | None = None) -> None:
    """The generated module and the executor agree on every output; every node the executor ran
    has its static shape."""
    values = smallest_sizes(model) if values is None else values
    module = built_module(model)
    xs = [x.double() for x in example_inputs(model, values)]
    named = dict(zip(model.graph.inputs, xs))
    with torch.no_grad():
        computed = run_graph(model.graph, module.state_dict(), named)
        wrong = {n.id: (tuple(computed[n.id].shape), static_shape(n.shape, values))
                 for n in model.graph.layers() if n.id in computed
                 and tuple(computed[n.id].shape) != static_shape(n.shape, values)}
        assert wrong == {}, f"at {values}, executor vs static shapes: {wrong}"
        ran = {n.id for n in model.graph.layers() if not n.training_only and not n.unused}
        assert ran <= set(computed)
        ours = module_outputs(module, model, xs)
        ref = {k: v for k, v in outputs_of(model.graph, computed).items() if k in ours}
        assert list(ref) == list(ours)
        for name in ours:
            assert ours[name].shape == ref[name].shape, (name, values)
            err = relative_error(ours[name], ref[name])
            if not err <= RTOL:
                pytest.fail(f"output {name!r} at {values}: relative error {err:.3g}; "
                            + first_divergent_module(module, computed, xs))


# ----------------------------------------------------------------------------- the executor itself


def test_every_registry_op_has_an_executor_entry():
    names = {op.name for op in REGISTRY.ops}
    assert sorted(names - set(EXECUTORS)) == []
    assert sorted(set(EXECUTORS) - names) == []  # and no entry for an op that does not exist


def test_executor_does_not_use_the_code_generator():
    """Independence: no import of archc.lower, no use of an op's `lower`."""
    tree = ast.parse((ROOT / "tests" / "support" / "reference_executor.py").read_text())
    imported = [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
    imported += [n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
    assert [m for m in imported if m.startswith("archc.lower")] == []
    assert [n.lineno for n in ast.walk(tree) if isinstance(n, ast.Attribute) and n.attr == "lower"] == []


def _run(text: str, x: torch.Tensor, state: dict | None = None, training: bool = False):
    model = archc.loads(textwrap.dedent(text))
    values = run_graph(model.graph, state or {}, {"x": x}, training=training)
    return model, values, outputs_of(model.graph, values)


def test_pooling_by_hand():
    x = torch.tensor([[[1.0, 5.0, 2.0, 4.0, 3.0]]], dtype=torch.float64)  # [1, 1, 5]
    spec = """
        input x: [N, 1, 5]
        output mx = x -> maxpool1d(2, ceil_mode=true)
        output mn = x -> minpool1d(3, stride=2, padding=1)
        output sm = x -> sumpool1d(2, padding=[[1, 0]])
        output av = x -> avgpool1d(2, stride=2, padding=1)
        output ex = x -> avgpool1d(2, stride=2, padding=1, count_include_pad=false)
        output sp = x -> maxpool1d(2, padding=same)
        output ad = x -> adaptive_avgpool1d(3)
        output am = x -> adaptive_maxpool1d(2)
    """
    _, _, out = _run(spec, x)
    flat = {k: v.flatten().tolist() for k, v in out.items()}
    assert flat["mx"] == [5.0, 4.0, 3.0]           # the last window runs past the end
    assert flat["mn"] == [1.0, 2.0, 3.0]           # padded positions never win
    assert flat["sm"] == [1.0, 7.0, 7.0]           # [0, 1], [5, 2], [4, 3]
    assert flat["av"] == [0.5, 3.5, 3.5]           # [0, 1], [5, 2], [4, 3]: the padding counted
    assert flat["ex"] == [1.0, 3.5, 3.5]           # …or not
    assert flat["sp"] == [5.0, 4.0, 3.0]           # same, stride 2: ceil(5/2) windows, pad 1 after
    assert flat["ad"] == pytest.approx([3.0, 11 / 3, 3.5])  # [1, 5], [5, 2, 4], [4, 3]
    assert flat["am"] == [5.0, 4.0]                # [1, 5, 2], [2, 4, 3]


def test_convolution_padding_by_hand():
    x = torch.arange(1.0, 5.0, dtype=torch.float64).reshape(1, 1, 4)  # 1 2 3 4
    spec = """
        input x: [N, 1, 4]
        output same = x -> conv1d(1, 2, stride=2, padding=same, bias=false, name=c1)
        output asym = x -> conv1d(1, 3, padding=[[2, 0]], bias=false, name=c2)
        output up = x -> conv_transpose1d(1, 3, stride=2, padding=[[1, 0]], output_padding=1,
                                          bias=false, name=t1)
        output upsame = x -> conv_transpose1d(1, 1, stride=2, padding=same, bias=false, name=t2)
    """
    state = {"c1.weight": torch.tensor([[[1.0, 10.0]]], dtype=torch.float64),
             "c2.weight": torch.tensor([[[1.0, 0.0, 0.0]]], dtype=torch.float64),
             "t1.weight": torch.tensor([[[1.0, 10.0, 100.0]]], dtype=torch.float64),
             "t2.weight": torch.tensor([[[1.0]]], dtype=torch.float64)}
    _, _, out = _run(spec, x, state)
    assert out["same"].flatten().tolist() == [21.0, 43.0]  # ceil(4/2) = 2 windows, no padding needed
    assert out["asym"].flatten().tolist() == [0.0, 0.0, 1.0, 2.0]  # two zeros before, none after
    # full transposed output: 1 10 102 20 203 30 304 40 400; drop 1 before, add 1 zero after
    assert out["up"].flatten().tolist() == [10.0, 102.0, 20.0, 203.0, 30.0, 304.0, 40.0, 400.0, 0.0]
    # same, kernel 1 < stride 2: in*stride outputs, the positions no tap reaches are zeros
    assert out["upsame"].flatten().tolist() == [1.0, 0.0, 2.0, 0.0, 3.0, 0.0, 4.0, 0.0]


def test_tensor_ops_by_hand():
    x = torch.arange(24.0, dtype=torch.float64).reshape(1, 4, 2, 3)
    spec = """
        input x: [N, 4, 2, 3]
        a, b = x -> chunk(2)
        p, q, r = x -> split([1, 2, 1])
        output s = concat(b, a)
        output t = x[:, 1:3, -1, ::2]
        output u = q -> reshape([-1, 3]) -> transpose(1, 2)
        output v = concat(p, r, axis=3) -> permute([0, 3, 1, 2])
        output w = x -> zeropad2d([[1, 0], [0, 2]]) -> crop(x)
        output z = x -> upsample([1, 2]) -> flatten(2)
    """
    _, _, out = _run(spec, x)
    assert torch.equal(out["s"], torch.cat([x[:, 2:], x[:, :2]], 1))
    assert torch.equal(out["t"], x[:, 1:3, -1, ::2])
    assert torch.equal(out["u"], x[:, 1:3].reshape(1, 4, 3).transpose(1, 2))
    assert torch.equal(out["v"], torch.cat([x[:, :1], x[:, 3:]], 3).permute(0, 3, 1, 2))
    # padded to 3×5 (1 row before, 2 columns after), centre-cropped back to 2×3: rows 0–1, columns 1–3
    padded = torch.nn.functional.pad(x, (0, 2, 1, 0))
    assert torch.equal(out["w"], padded[:, :, 0:2, 1:4])
    assert torch.equal(out["z"], x.repeat_interleave(2, dim=3).flatten(2))


def test_training_mode_uses_batch_statistics_and_leaves_the_state_alone():
    model = with_symbolic_inputs(SPECS / "resnet18.arch", {"num_classes": 10})
    module = built_module(model)
    state = {k: v.clone() for k, v in module.state_dict().items()}
    x = torch.randn(3, 3, 32, 40, dtype=torch.float64)
    with torch.no_grad():
        ref = outputs_of(model.graph, run_graph(model.graph, state, {"x": x}, training=True))
        assert all(torch.equal(v, module.state_dict()[k]) for k, v in state.items())
        ours = module.train()(x)
    assert relative_error(ours, ref["logits"]) <= RTOL
    with torch.no_grad():  # and in eval, the running statistics: another result
        evaluated = outputs_of(model.graph, run_graph(model.graph, state, {"x": x}))
    assert relative_error(evaluated["logits"], ref["logits"]) > 1e-3


TRAINING_OUTPUT = """
model Aux
input x: [N, 3, 8, 8]
h = x -> conv2d(4, 3, name=c1) -> batchnorm2d(name=bn) -> relu
training output aux = h -> global_avgpool -> linear(3, name=aux)
output y = h -> conv2d(2, 1, name=c2) -> global_avgpool
"""


def test_edge_padding_by_hand():
    """Reflection mirrors without repeating the edge, replication repeats it (1 2 3 → 2 1 2 3 2 and
    1 1 2 3 3), as torch's pads; and the generated module agrees with the executor."""
    x = torch.tensor([[[1.0, 2.0, 3.0]]])
    assert _run("input x: [1, 1, 3]\noutput y = x -> reflectionpad1d(1)", x)[2]["y"].flatten().tolist() == [2, 1, 2, 3, 2]
    assert _run("input x: [1, 1, 3]\noutput y = x -> replicationpad1d(1)", x)[2]["y"].flatten().tolist() == [1, 1, 2, 3, 3]
    check_against_executor(archc.loads("input x: [2, 3, 6, 5]\n"
                                       "output y = x -> reflectionpad2d([[2, 1], [0, 4]]) -> replicationpad2d(3)\n"))


def test_weight_standardisation_and_blur_by_hand():
    """A filter [1, 3] standardises to [-1, 1] (mean 2, biased variance 1); scaled, times gain
    and gamma / sqrt(2). A blur of 1 2 3 4 (reflected: 2 1 2 3 4 3) by [1, 2, 1]/4 at stride 2
    is 1.5 3; its filter is no state_dict entry. The generated modules agree with the executor."""
    x = torch.tensor([[[[1.0], [0.0]]]], dtype=torch.float64)  # [1, 1, 2, 1]: picks the first tap
    w = torch.tensor([[[[1.0], [3.0]]]], dtype=torch.float64)  # [1, 1, 2, 1]
    got = _run("input x: [1, 1, 2, 1]\noutput y = x -> std_conv2d(1, [2, 1], eps=1e-12, name=c)", x,
               {"c.weight": w})[2]["y"]
    assert torch.allclose(got.flatten(), torch.tensor([-1.0], dtype=torch.float64))
    got = _run("input x: [1, 1, 2, 1]\noutput y = x -> scaled_std_conv2d(1, [2, 1], bias=false, "
               "gamma=2.0, eps=1e-12, name=c)", x, {"c.weight": w, "c.gain": torch.full((1, 1, 1, 1), 3.0)})[2]["y"]
    assert torch.allclose(got.flatten(), torch.tensor([-3.0 * 2.0 / 2 ** 0.5], dtype=torch.float64))
    row = torch.tensor([[[[1.0, 2.0, 3.0, 4.0]] * 4]], dtype=torch.float64)  # [1, 1, 4, 4]
    assert _run("input x: [1, 1, 4, 4]\noutput y = x -> blur_pool2d", row)[2]["y"].tolist() == [[[[1.5, 3.0]] * 2]]
    model = archc.loads("input x: [2, 3, 9, 8]\noutput y = x -> scaled_std_conv2d(6, 3, padding=same, "
                        "gamma=1.7) -> blur_pool2d(5) -> std_conv2d(4, 3, stride=2, padding=same, eps=1e-5) "
                        "-> blur_pool2d(stride=1, pad_mode=constant)\n")
    assert not any(k.endswith("filt") for k in built_module(model).state_dict())
    check_against_executor(model)


def test_frozen_batch_norm_uses_its_buffers_in_training_too():
    """Nothing of a frozen batch norm is learned or updated: training mode computes what eval does."""
    model = archc.loads("input x: [2, 3, 8, 8]\noutput y = x -> conv2d(4, 3) -> frozen_batchnorm2d(eps=0.01) -> relu\n")
    check_against_executor(model)
    module = built_module(model)
    x = torch.randn(2, 3, 8, 8, dtype=torch.float64)
    before = {k: v.clone() for k, v in module.state_dict().items()}
    assert torch.equal(module.train()(x), module.eval()(x))
    assert all(torch.equal(before[k], v) for k, v in module.state_dict().items())


def test_training_only_layers_run_only_in_training():
    model = archc.loads(TRAINING_OUTPUT)
    module = built_module(model)
    x = torch.randn(2, 3, 8, 8, dtype=torch.float64)
    with torch.no_grad():
        inference = run_graph(model.graph, module.state_dict(), {"x": x})
        training = run_graph(model.graph, module.state_dict(), {"x": x}, training=True)
        ours = module.train()(x)
    extra = {n.id for n in model.graph.layers() if n.training_only}
    assert extra and not extra & set(inference) and extra <= set(training)
    assert list(outputs_of(model.graph, inference)) == ["y"]
    ref = outputs_of(model.graph, training)
    assert set(ref) == set(ours) == {"y", "aux"}
    assert all(relative_error(ours[k], ref[k]) <= RTOL for k in ref)


# the random op chains of tests/lowering/test_lowering_random.py (every padding form, ceil mode,
# count_include_pad, min/sum pooling, dilation, groups, transposed convolutions cropped unevenly,
# norms, resampling, crops and merges, with an output per tensor): the executor agrees with the
# generated module on every one of them
OP_CHAINS = int(os.environ.get("ARCHC_EXECUTOR_OP_CHAINS", "150"))


@settings(max_examples=OP_CHAINS, deadline=None, derandomize=os.environ.get("ARCHC_RANDOM_SEED") is None,
          suppress_health_check=list(HealthCheck), database=None)
@given(text=random_op_chains(), near=st.integers(1, 12))
def test_random_op_chains_equal_the_executor(text, near):
    try:
        model = archc.loads(text)
    except SpecErrors:
        return
    values = smallest_sizes(model)
    if "H" in values:  # a few sizes, not only the smallest
        values = concrete_sizes(model, [{"H": max(near, values["H"]), "W": max(near + 3, values["W"])}])[0]
    check_against_executor(model, values)


# ----------------------------------------------------------------------------- the zoo


def _load_smallest(path):
    """The spec with symbolic spatial sizes when it checks so (run at the smallest allowed
    size), else as declared."""
    return with_symbolic_inputs(path) or archc.load(path)


def _check_spec(path, heavy_allowed: bool = False):
    model = _load_smallest(path)
    if not (ALL or heavy_allowed) and model.params > HEAVY_PARAMS:
        pytest.skip(f"{model.params:,} parameters: run with ARCHC_EXECUTOR_ALL=1")
    check_against_executor(model)


@pytest.mark.parametrize("path", zoo_specs() + LOWERING_DATA, ids=lambda p: p.name)
def test_zoo_generated_module_equals_executor(path):
    _check_spec(path)


@pytest.mark.parametrize("path", TORCHVISION_SPECS, ids=lambda p: p.stem)
def test_torchvision_generated_module_equals_executor(path):
    _check_spec(path, heavy_allowed=True)  # the list is chosen (vgg11_bn: 133 M, a few seconds)


# ----------------------------------------------------------------------------- issue 17's reproducers


# the issue's smallest case: an unused model param makes the generated forward read self.r
ISSUE_CASE = """
model T
param zzz = 7
input x: [N, 8, 4, 4]
block S(out, r = 2)(x) {
  y = x -> conv2d(out * r, 1)
  a, b = y -> chunk(2)
  return a + b
}
output y = x -> S(8) -> S(16)
"""

# ShuffleNet V2's unit: channel split with chunk, a branch whose output channels are a block
# parameter, concat, channel shuffle by reshape / transpose (as specs/torchvision/blocks/shufflenet.arch)
SHUFFLE_SPLIT = """
model ShuffleSplit
param num_classes = 10
input x: [N, 16, 8, 6]
block Unit(oup, groups = 2)(x) {
  x1, x2 = x -> chunk(2)
  b = x2 -> conv2d(oup // 2, 1, bias=false) -> batchnorm2d -> relu
         -> conv2d(oup // 2, 3, padding=1, groups=oup // 2, bias=false) -> batchnorm2d
         -> conv2d(oup // 2, 1, bias=false) -> batchnorm2d -> relu
  y = concat(x1, b)
  c = y.channels
  return y -> reshape([groups, c // groups, y.height, y.width]) -> transpose(1, 2)
           -> reshape([c, y.height, y.width])
}
output logits = x -> Unit(16) -> Unit(24) -> global_avgpool -> linear(num_classes)
"""

# ResNeSt's split attention: a grouped conv to out*radix channels, chunked into radix pieces
# that are summed, global pool, two 1×1 convs, softmax over the radix (rSoftMax, by reshape),
# the pieces weighted and summed
SPLIT_ATTENTION = """
model SplitAttnNet
param width = 16
param num_classes = 10
input x: [N, 3, 8, 6]
block SplitAttn(out, radix = 2, reduction = 4)(x) {
  y = x -> conv2d(out * radix, 3, padding=1, groups=radix, bias=false) -> batchnorm2d -> relu
  a, b = y -> chunk(radix)
  g = (a + b) -> global_avgpool(keepdims=true)
      -> conv2d(max(out // reduction, 8), 1) -> batchnorm2d -> relu
      -> conv2d(out * radix, 1)
  att = g -> reshape([radix, out, 1, 1]) -> softmax(dim=1) -> reshape([out * radix, 1, 1])
  wa, wb = att -> chunk(radix)
  return a * wa + b * wb
}
output logits = x -> conv2d(width, 3, padding=1) -> SplitAttn(width) -> SplitAttn(2 * width)
                  -> global_avgpool -> linear(num_classes)
"""

ISSUE_SPECS = {"issue_case": ISSUE_CASE, "shuffle_split": SHUFFLE_SPLIT, "split_attention": SPLIT_ATTENTION}


@pytest.mark.parametrize("name", list(ISSUE_SPECS))
def test_issue_specs_run_in_the_executor_with_the_static_shapes(name):
    model = archc.loads(ISSUE_SPECS[name])
    values = smallest_sizes(model)
    state = built_module(model).state_dict()  # builds: the constructor is fine, forward is not
    xs = dict(zip(model.graph.inputs, (x.double() for x in example_inputs(model, values))))
    with torch.no_grad():
        computed = run_graph(model.graph, state, xs)
    for node in model.graph.layers():
        assert tuple(computed[node.id].shape) == static_shape(node.shape, values), node.id


# The three failed at 61c6fcd in the generated forward (AttributeError: 'S' object has no
# attribute 'r'; 'Unit' … 'groups'; 'SplitAttn' … 'radix'): the class shared by two instances that
# differ in a block parameter read that parameter from self, which __init__ never stored. At
# 0cbd3a1 shuffle_split failed with RuntimeError: shape '[2, 2, 8, 8, 6]' is invalid (the reshape
# sizes of the first instance reused by the second: see REPRODUCERS below)
@pytest.mark.parametrize("name", list(ISSUE_SPECS))
def test_issue_specs_generated_module_equals_executor(name):
    check_against_executor(archc.loads(ISSUE_SPECS[name]))


# ----------------------------------------------------------------------------- generator bugs found by
# the random differential test (tests/lowering/test_generated_vs_executor_random.py), reduced by hand; the
# executor is right on each (checked by hand for the two channel shuffles and the slices)

REPRODUCERS = {
    # 0cbd3a1: one class for both instances, the slice bound of the first kept: output [N, 3, 5, 5]
    # where the spec says [N, 2, 5, 5] (no error)
    "slice_literal": ("""
model A
input x: [N, 4, 5, 5]
block Take(c)(x) {
  return x[:, :c]
}
output y = x -> Take(3) -> Take(2)
""", "0cbd3a1: a slice bound of the first instance is used by every instance of the class"),
    # 0cbd3a1: the same with a bound computed from x.channels: the second conv gets 1 channel, not 2
    "slice_from_channels": ("""
model A
input x: [N, 6, 4, 4]
block Half()(x) {
  return x[:, x.channels // 2:]
}
output y = x -> Half() -> conv2d(4, 1) -> Half() -> conv2d(5, 1)
""", "0cbd3a1: a slice bound computed from x.channels is frozen at the first instance's"),
    # 0cbd3a1: a channel shuffle with g=1, then g=2: one class, the reshape sizes of g=1 kept; the
    # second shuffle is silently the identity (relative error 1.1, no error)
    "reshape_literal": ("""
model A
input x: [N, 4, 2, 2]
block Shuffle(g = 1)(x) {
  return x -> reshape([g, x.channels // g, x.height, x.width]) -> transpose(1, 2)
           -> reshape([x.channels, x.height, x.width])
}
output y = x -> Shuffle() -> Shuffle(2)
""", "0cbd3a1: reshape sizes of the first instance are used by every instance (wrong values)"),
    # 0cbd3a1: ShuffleNet's shuffle on 4 then 6 channels: RuntimeError: shape '[2, 2, 2, 2, 2]' is
    # invalid for input of size 48
    "reshape_from_channels": ("""
model A
input x: [N, 4, 2, 2]
block Shuffle(g = 2)(x) {
  return x -> reshape([g, x.channels // g, x.height, x.width]) -> transpose(1, 2) -> flatten(1, 2)
}
output y = x -> Shuffle() -> conv2d(6, 1) -> Shuffle()
""", "0cbd3a1: reshape sizes computed from x.channels are frozen at the first instance's"),
    # 0cbd3a1: a conditional that takes different branches in two instances (a conv in the first,
    # none in the second): AssertionError: B: forward lines in different orders, in codegen
    "branch_forward_lines": ("""
model A
input x: [N, 1, 4, 4]
block B(out)(x) {
  u = x if x.channels % 2 == 0 else x -> conv2d(x.channels + 1, 1)
  a, b = u -> chunk(2)
  return concat(a, b -> conv2d(out, 1))
}
output y = x -> B(3) -> B(3)
""", "0cbd3a1: AssertionError: B: forward lines in different orders (code generation)"),
    # 0cbd3a1: the same kind, AssertionError: B: structures in different orders
    "branch_structures": ("""
model A
input x: [N, 1, 6, 3]
block B(out)(x) {
  t0 = x[:, ::2] if x.channels > 1 else x
  u1 = t0 if t0.channels % 2 == 0 else t0 -> conv2d(t0.channels + 1, 1)
  a1, b1 = u1 -> chunk(2)
  t1 = concat(a1, b1 -> conv2d(max(out // 2, 1), 1) -> relu)
  return t1 -> conv2d(out + 1, 1)
}
output y = x -> B(6) -> B(6)
""", "0cbd3a1: AssertionError: B: structures in different orders (code generation)"),
    # 61c6fcd: the mean's dim 3 written as out // r (6 // 2 == 3: a coincidence), read as a local:
    # UnboundLocalError: cannot access local variable 'out' (and a second build of the same spec in
    # the same process wrote different source); runs at 0cbd3a1
    "se_coincidence": ("""
model A
param num_classes = 3
input x: [N, 1, H, W]
block SE(out, r = 2)(x) {
  return x * (x -> global_avgpool(keepdims=true) -> conv2d(max(x.channels // r, 1), 1)
                -> conv2d(x.channels, 1) -> sigmoid)
}
output y = x -> SE(6) -> global_avgpool -> linear(num_classes)
""", "61c6fcd: global_avgpool's dim 3 generated as out // r (6 // 2), an unbound local"),
    # 61c6fcd and 0cbd3a1: accepted by archc check, refused by archc compile: E-EXPORT-UNSUPPORTED-LAYER
    # "reshape to [3, H, W]: more than one size is known only at run time"
    "symbolic_reshape": ("""
model A
input x: [N, 3, H, W]
output y = x -> reshape([x.channels, x.height * x.width]) -> softmax(dim=-1)
             -> reshape([x.channels, x.height, x.width])
""", "reshape to [C, H, W] from [C, H*W] with symbolic H, W is not lowered (E-EXPORT-UNSUPPORTED-LAYER)"),
}


@pytest.mark.parametrize("name", list(REPRODUCERS))
def test_generator_bug_reproducers_run_in_the_executor(name):
    model = archc.loads(REPRODUCERS[name][0])
    values = smallest_sizes(model)
    xs = dict(zip(model.graph.inputs, (x.double() for x in example_inputs(model, values))))
    state = {}
    for node in model.graph.layers():  # the executor alone: weights made up, no module needed
        if node.op is not None and node.op.inputs != 0:
            shapes = model.graph.input_shapes(node)
            for key, shape in node.op.parameters(node.attrs, shapes).items():
                state[f"{node.id}.{key}"] = torch.randn(static_shape(shape, values), dtype=torch.float64)
    with torch.no_grad():
        computed = run_graph(model.graph, state, xs)
    for node in model.graph.layers():
        assert tuple(computed[node.id].shape) == static_shape(node.shape, values), node.id


# each failed at the version its note names; symbolic_reshape is a refusal archc still makes (a
# located E-EXPORT-UNSUPPORTED-LAYER, never a wrong module)
@pytest.mark.parametrize("name", [pytest.param(k, marks=[pytest.mark.xfail(strict=True, reason=v[1])]
                                               if k == "symbolic_reshape" else [])
                                  for k, v in REPRODUCERS.items()])
def test_generator_bug_reproducers_generated_module_equals_executor(name):
    check_against_executor(archc.loads(REPRODUCERS[name][0]))
