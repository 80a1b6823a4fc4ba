"""Training memory (archc/analysis/training.py) checked against PyTorch.

Saved activations: for every zoo model at batch 2 and its smallest input size, the bytes of the
unique storages that `torch.autograd.graph.saved_tensors_hooks` sees during a training-mode
forward pass of the generated module equal archc's prediction exactly. A storage is counted
once however many ops save it or views of it (`untyped_storage().data_ptr()`), with its whole
size (`nbytes()`: a saved slice keeps its whole base alive). Excluded: the storages of the
module's parameters and buffers (conv and linear save their weight, batch norm its running
statistics): they exist whether or not anything is saved, and archc counts them as parameters
and buffers. The zoo's largest models run on the meta device (no memory, no weight
initialisation), the others on the CPU; a few run on both, saving the same. Included: the model input, which the first layer keeps. The rules are CPU's
(`device_rules="cpu"`): CPU's dropout keeps float noise where CUDA's fused kernel keeps a bool
mask; everything else the zoo uses saves the same on both.

Parameters, gradients and optimizer state: equal to the bytes a real backward and optimizer step
allocate (`p.grad`, `optimizer.state`).
"""
from __future__ import annotations

import gc
import json
import warnings
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

import archc  # noqa: E402
from archc.analysis.training import training_memory  # noqa: E402
from archc.errors import SpecError  # noqa: E402
from archc.lower.build import instantiate  # noqa: E402
from archc.lower.codegen import generate  # noqa: E402
from lowering_support import concrete_sizes, with_symbolic_inputs  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
SPECS = ROOT / "specs"
ZOO = sorted(SPECS.glob("*.arch")) + sorted((SPECS / "torchvision").glob("*.arch")) \
    + sorted((SPECS / "timm").glob("*.arch"))


def _smallest(path: Path) -> tuple[archc.Model, dict[str, int]]:
    """The spec with symbolic spatial sizes at the smallest sizes it accepts (as declared when
    it needs concrete ones)."""
    model = with_symbolic_inputs(path)
    if model is None:
        return archc.load(path), {}
    sizes = concrete_sizes(model, [{"H": 1, "W": 1, "L": 1, "D": 1}])[0]
    return model, {k: v for k, v in sizes.items() if k != "N"}


def _inputs(model: archc.Model, batch: int, sizes: dict[str, int]) -> list:
    values = dict(sizes)
    out = []
    for node_id in model.graph.inputs.values():
        shape = model.graph.node(node_id).shape
        if not isinstance(shape[0], int):
            values.update({s: batch for s in shape[0].free_symbols()})
        out.append(torch.randn(*[d if isinstance(d, int) else int(d.subs(values)) for d in shape]))
    return out


def saved_storage_bytes(module, inputs) -> int:
    """Bytes of the unique non-parameter, non-buffer storages autograd saves in one forward.
    A storage is identified by its StorageImpl (`_cdata`), which meta tensors have too (their
    data pointers are all 0)."""
    state = {t.untyped_storage()._cdata for t in (*module.parameters(), *module.buffers())}
    seen: dict[int, int] = {}
    alive: list = []  # what autograd would keep: so no storage is freed and its address reused

    def pack(t):
        storage = t.untyped_storage()
        if storage._cdata not in state:
            seen[storage._cdata] = storage.nbytes()
        alive.append(t)
        # packed as None, not as the tensor: a saved output packed as itself is a reference
        # cycle through autograd's graph that Python's collector cannot see (a leaked module)
        return None

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda packed: None):
        out = module(*inputs)
    del out, alive[:]
    return sum(seen.values())


def _saved_by_torch(model: archc.Model, sizes: dict[str, int], device: str, autocast: bool = False) -> int:
    """The generated module's saved bytes at batch 2, run on `device`. It is built on the meta
    device (no memory, no weight initialisation) and, for the CPU, given uninitialised storage
    (`to_empty`): which storages autograd saves does not depend on the weights' values. On meta
    autograd saves what it saves on the CPU (saving happens in autograd's layer, above the
    kernels, and the kernels' own choices, the fused dropout or max pooling's indices, take the
    CPU's branch there; `test_meta_saves_what_the_cpu_saves` checks it), so the largest models
    run there, allocating nothing."""
    with torch.device("meta"):
        module = instantiate(generate(model.graph)).train()
    if device != "meta":
        module = module.to_empty(device=device)
    torch.manual_seed(0)
    inputs = [x.to(device) for x in _inputs(model, 2, sizes)]
    with warnings.catch_warnings(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=autocast):
        warnings.simplefilter("ignore")
        saved = saved_storage_bytes(module, inputs)
    del module, inputs
    return saved


# Models up to these sizes run on the CPU (a forward pass at the smallest size takes
# milliseconds there, a minute in total on meta); larger ones on meta, allocating nothing (S3D's
# smallest input is 13×209×209, Inception-v3's 299×299).
CPU_PARAMS = 45_000_000
CPU_SAVED_BYTES = 64 * 2 ** 20


@pytest.mark.parametrize("path", ZOO, ids=lambda p: str(p.relative_to(SPECS)))
def test_saved_activations_equal_what_autograd_saves(path: Path) -> None:
    model, sizes = _smallest(path)
    predicted = training_memory(model, batch=2, device_rules="cpu", sizes=sizes).saved_activations
    small = model.params <= CPU_PARAMS and predicted <= CPU_SAVED_BYTES
    actual = _saved_by_torch(model, sizes, "cpu" if small else "meta")
    assert predicted == actual, f"{path.name} at {sizes}: predicted {predicted}, autograd saved {actual}"


# Small models that together use the op families whose saving could depend on the device: in
# place and not, views and copies of permuted tensors, dropout and stochastic depth, squeeze-and-
# excitation, layer norm and GRN, padded and transposed convolutions.
ON_BOTH = ["torchvision/mobilenet_v3_small.arch", "torchvision/shufflenet_v2_x0_5.arch",
           "timm/convnextv2_atto.arch", "denoising_autoencoder.arch", "timm/lcnet_050.arch"]


@pytest.mark.parametrize("spec", ON_BOTH)
def test_meta_saves_what_the_cpu_saves(spec: str) -> None:
    model, sizes = _smallest(SPECS / spec)
    assert _saved_by_torch(model, sizes, "cpu") == _saved_by_torch(model, sizes, "meta")
    gc.collect()


# Models whose every op autocast treats alike on CPU and CUDA (convolutions and linear layers in
# bf16; batch norm, activations, pooling, merges in their input's dtype). LayerNorm and GroupNorm
# are not among them: CUDA autocast runs them in float32, CPU autocast in the input's dtype;
# archc follows CUDA (its bf16 numbers are for GPUs), which a CPU run cannot check.
AUTOCAST_ALIKE = ["resnet18.arch", "torchvision/mobilenet_v2.arch", "torchvision/efficientnet_b0.arch",
                  "torchvision/shufflenet_v2_x0_5.arch"]


@pytest.mark.parametrize("spec", AUTOCAST_ALIKE)
def test_saved_activations_under_bf16_autocast_equal_what_autograd_saves(spec: str) -> None:
    """bf16 autocast: convolutions keep bf16 copies of float32 inputs and of their weights (one
    per weight: autocast's cast cache), batch norm keeps float32 statistics of a bf16 input."""
    model, sizes = _smallest(SPECS / spec)
    predicted = training_memory(model, batch=2, dtype="bfloat16", device_rules="cpu", sizes=sizes).saved_activations
    actual = _saved_by_torch(model, sizes, "cpu", autocast=True)
    gc.collect()
    assert predicted == actual, f"{spec} at {sizes}: predicted {predicted}, autograd saved {actual}"


def _optimizer(name: str, params):
    return {"sgd": lambda: torch.optim.SGD(params, lr=0.1),
            "sgd-momentum": lambda: torch.optim.SGD(params, lr=0.1, momentum=0.9),
            "adam": lambda: torch.optim.Adam(params),
            "adamw": lambda: torch.optim.AdamW(params)}[name]()


@pytest.mark.parametrize("spec, optimizer", [("resnet18.arch", "adamw"), ("torchvision/mobilenet_v2.arch", "sgd-momentum"),
                                             ("lenet5.arch", "adam"), ("digits_cnn.arch", "sgd")])
def test_weights_gradients_and_optimizer_state_equal_a_real_step(spec: str, optimizer: str) -> None:
    model, sizes = _smallest(SPECS / spec)
    tm = training_memory(model, batch=2, optimizer=optimizer, device_rules="cpu", sizes=sizes)
    module = instantiate(generate(model.graph)).train()
    out = module(*_inputs(model, 2, sizes))
    loss = sum(o.float().sum() for o in (out.values() if isinstance(out, dict) else [out]))
    loss.backward()
    step = _optimizer(optimizer, [p for p in module.parameters() if p.requires_grad])
    step.step()
    params = sum(p.numel() * p.element_size() for p in module.parameters())
    grads = sum(p.grad.numel() * p.grad.element_size() for p in module.parameters() if p.grad is not None)
    state = sum(t.numel() * t.element_size() for s in step.state.values() for t in s.values()
                if isinstance(t, torch.Tensor))
    buffers = sum(b.numel() * b.element_size() for b in module.buffers())
    assert (tm.parameters, tm.buffers, tm.gradients, tm.optimizer_state) == (params, buffers, grads, state)
    del module, step, out, loss
    gc.collect()


def test_report_is_json_with_a_row_per_layer() -> None:
    model = archc.load(SPECS / "resnet18.arch")
    tm = training_memory(model, batch=4, dtype="bf16", optimizer="adamw", device="H100")
    data = json.loads(tm.to_json())
    assert data["dtype"] == "bfloat16" and data["device"] == "H100"
    assert len(data["layers"]) == len(list(model.graph.layers()))
    assert sum(r["saved"] for r in data["layers"]) == data["saved_activations"]
    assert data["peak"] >= data["peak_backward"] > data["parameters"] + data["gradients"]
    assert data["step_time_s"] > 0


def test_low_precision_keeps_conv_inputs_in_half_the_bytes() -> None:
    """Under bf16 autocast a convolution keeps a bf16 copy of its float32 input and of its
    weight; batch norm (not on autocast's lists) keeps its bf16 input as it comes."""
    model = archc.loads("input x: [N, 3, 8, 8]\noutput y = x -> conv2d(4, 3, bias=false, name=c) -> batchnorm2d(name=b)\n")
    f32 = training_memory(model, batch=2)
    bf16 = training_memory(model, batch=2, dtype="bfloat16")
    rows32 = {r.id: r for r in f32.layers}
    rows16 = {r.id: r for r in bf16.layers}
    assert rows32["c"].saved == 2 * 3 * 8 * 8 * 4  # the input (rows count what they keep first)
    assert rows16["c"].saved == 2 * 3 * 8 * 8 * 2 + 4 * 3 * 3 * 3 * 2  # its bf16 copy, the weight's
    assert rows16["b"].saved == 2 * 4 * 6 * 6 * 2 + 2 * 4 * 4  # the conv's bf16 output; float32 mean, invstd
    assert bf16.parameters == f32.parameters  # float32 master weights


def test_checkpointing_keeps_block_inputs_only_and_recomputes() -> None:
    model = archc.load(SPECS / "resnet18.arch")
    plain = training_memory(model, batch=2)
    ckpt = training_memory(model, batch=2, checkpoint=["layer1", "layer2", "layer3", "layer4"])
    assert ckpt.saved_activations < plain.saved_activations / 2
    assert ckpt.recompute_flops > 0 and ckpt.step_flops > plain.step_flops
    with pytest.raises(SpecError) as info:
        training_memory(model, batch=2, checkpoint="layer9")
    assert info.value.code == "E-TRAIN-CHECKPOINT-UNKNOWN"


class _Checkpointed(torch.nn.Module):
    """A block run under torch.utils.checkpoint (non-reentrant: what it keeps is its inputs,
    recorded here, since autograd's hooks inside the region are checkpoint's own)."""

    def __init__(self, inner, kept: dict):
        super().__init__()
        self.inner, self.kept = inner, kept

    def forward(self, *args):
        for a in args:
            self.kept[a.untyped_storage()._cdata] = a.untyped_storage().nbytes()
        return torch.utils.checkpoint.checkpoint(self.inner, *args, use_reentrant=False)


@pytest.mark.parametrize("regions", [["layer1", "layer2", "layer3", "layer4"], ["layer2"], ["BasicBlock"]])
def test_checkpointed_blocks_keep_what_torch_utils_checkpoint_keeps(regions: list[str]) -> None:
    model, sizes = _smallest(SPECS / "resnet18.arch")
    predicted = training_memory(model, batch=2, device_rules="cpu", sizes=sizes, checkpoint=regions)
    with torch.device("meta"):
        module = instantiate(generate(model.graph)).train()
    module = module.to_empty(device="cpu")
    state = {t.untyped_storage()._cdata for t in (*module.parameters(), *module.buffers())}
    kept: dict[int, int] = {}
    alive: list = []  # see saved_storage_bytes
    scopes = [sc for sc in model.graph.scopes.values() if sc.id in regions or sc.type_name in regions]
    for sc in scopes:
        parent = module.get_submodule(".".join(sc.path[:-1]))
        setattr(parent, sc.path[-1], _Checkpointed(getattr(parent, sc.path[-1]), kept))

    def pack(t):
        kept[t.untyped_storage()._cdata] = t.untyped_storage().nbytes()
        alive.append(t)
        return None  # see saved_storage_bytes

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda packed: None):
        out = module(*_inputs(model, 2, sizes))
    actual = sum(nbytes for key, nbytes in kept.items() if key not in state)
    del out, module, alive[:]
    assert predicted.saved_activations == actual


@pytest.mark.parametrize("spec", ["resnet18.arch", "vgg11.arch"])
def test_forward_peak_equals_the_cpu_allocations(spec: str) -> None:
    """The forward peak above weights, buffers and the input batch, against the CPU allocations
    torch.profiler records op by op (profile_memory): ResNet-18 at 64×64 and VGG-11 at 32×32,
    batch 8, to the byte."""
    from torch.profiler import ProfilerActivity, profile
    model, sizes = _smallest(SPECS / spec)
    sizes = {k: max(v, 64 if spec.startswith("resnet") else v) for k, v in sizes.items()}
    tm = training_memory(model, batch=8, device_rules="cpu", sizes=sizes)
    with torch.device("meta"):
        module = instantiate(generate(model.graph)).train()
    module = module.to_empty(device="cpu")
    inputs = _inputs(model, 8, sizes)
    with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
        out = module(*inputs)
    changes = sorted((e.time_range.start, e.cpu_memory_usage) for e in prof.profiler.function_events
                     if e.cpu_memory_usage and e.cpu_parent is None)
    allocated = peak = 0
    for _, change in changes:
        allocated += change
        peak = max(peak, allocated)
    del out, module
    assert peak == tm.peak_forward - tm.parameters - tm.buffers - tm.optimizer_state - tm.input_bytes


def test_cuda_dropout_keeps_a_bool_mask() -> None:
    """CUDA's fused dropout keeps a one-byte mask where the CPU keeps float32 noise; a graph
    is accepted as well as a model."""
    model = archc.loads("input x: [N, 64]\noutput y = x -> linear(32, name=fc) -> dropout(0.5, name=d)\n")
    cuda = {r.id: r for r in training_memory(model.graph, batch=4).layers}
    cpu = {r.id: r for r in training_memory(model.graph, batch=4, device_rules="cpu").layers}
    assert (cuda["d"].saved, cpu["d"].saved) == (4 * 32 * 1, 4 * 32 * 4)


def test_accumulation_keeps_gradients_through_later_forward_passes() -> None:
    model = archc.load(SPECS / "resnet18.arch")
    one = training_memory(model, batch=2, optimizer="sgd")
    four = training_memory(model, batch=2, optimizer="sgd", accumulation=4)
    assert four.peak_forward == one.peak_forward + one.gradients
    assert four.step_flops == 4 * one.step_flops
