"""Shared helpers of the lowering tests (tests/lowering/): spec variants with symbolic
input sizes, concrete sizes that meet the recorded constraints, and a forward pass that checks
every node's real output shape against the static one."""
from __future__ import annotations

import importlib.util
import sys
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import torch

import archc
from archc import ast as A
from archc import symbolic as sy
from archc.errors import SpecErrors
from archc.frontend import parse_file
from archc.ir.elaborate import elaborate
from archc.lower.build import instantiate
from archc.lower.codegen import generate
from archc.model import Model

ROOT = Path(__file__).resolve().parents[2]
SPECS = ROOT / "specs"

# a forward pass at the declared input size is skipped above this many MACs per sample when the
# model also accepts symbolic sizes (checked at small ones instead): ResNet-50+ and VGG at 224
HEAVY_MACS = 2e9
_AXES = {1: ["L"], 2: ["H", "W"], 3: ["D", "H", "W"]}


def zoo_specs() -> list[Path]:
    """Every spec of the zoo, globbed now (new ones are picked up)."""
    return sorted(SPECS.glob("*.arch")) + sorted(SPECS.glob("*.yaml"))


@dataclass
class Case:
    """A model to run, and the concrete sizes of its symbols to run it at."""
    label: str
    model: Model
    sizes: list[dict[str, int]]


def symbols_of(model: Model) -> list[str]:
    out: list[str] = []
    for node_id in model.graph.inputs.values():
        for d in model.graph.node(node_id).shape:
            if not sy.is_int(d):
                out += [s for s in sorted(d.free_symbols()) if s not in out]
    return out


def concrete_sizes(model: Model, nears: list[dict[str, int]]) -> list[dict[str, int]]:
    """Per entry of `nears`, sizes meeting every recorded constraint: the batch 2, each other
    symbol the smallest allowed size at or above its target."""
    out = []
    assumptions = model.graph.assumptions
    for near in nears:
        values: dict[str, int] = {}
        for symbol in symbols_of(model):
            values[symbol] = 2 if symbol == "N" else assumptions.example(symbol, near.get(symbol, 32))
        bump = 0
        while not assumptions.satisfied_by(values) and bump < 64:  # joint conditions (H + W) % 2 …
            bump += 1
            values = {s: v if s == "N" else assumptions.example(s, v + 1) for s, v in values.items()}
        assert assumptions.satisfied_by(values), (values, model.constraints)
        if values not in out:
            out.append(values)
    return out


def with_symbolic_inputs(path: Path, params: dict | None = None) -> Model | None:
    """The spec with every input's spatial sizes replaced by symbols (H, W, …); None when the
    spec then does not check (e.g. flatten -> linear needs a concrete size)."""
    spec = parse_file(path)
    inputs = []
    for k, inp in enumerate(spec.inputs):
        names = _AXES.get(len(inp.shape) - 2, [f"S{j}" for j in range(len(inp.shape) - 2)])
        suffix = "" if k == 0 else str(k)
        shape = list(inp.shape[:2]) + [A.Name(id=n + suffix) for n in names]
        inputs.append(A.replace(inp, shape=shape))
    symbolic = A.replace(spec, inputs=inputs)
    try:
        return Model(symbolic, elaborate(symbolic, str(path), params))
    except SpecErrors:
        return None


def cases(path: Path, params: dict | None = None) -> list[Case]:
    """The declared model at its own size (unless heavy and symbolic sizes work), and the model
    with symbolic spatial sizes at two small non-square sizes."""
    declared = archc.load(path, params)
    out = []
    symbolic = with_symbolic_inputs(path, params)
    heavy = sy.is_int(declared.macs) and declared.macs > HEAVY_MACS
    if symbolic is None or not heavy:
        near = {"H": 40, "W": 40, "L": 40, "D": 8}
        out.append(Case("declared", declared, concrete_sizes(declared, [near])))
    if symbolic is not None:
        nears = [{"H": 32, "W": 40, "L": 32, "D": 6}, {"H": 45, "W": 33, "L": 45, "D": 9}]
        nears = [{k + s: v for k, v in n.items() for s in ("", "1", "2")} for n in nears]
        out.append(Case("symbolic", symbolic, concrete_sizes(symbolic, nears)))
    return out


def example_inputs(model: Model, values: dict[str, int], seed: int = 0) -> list[torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    out = []
    for node_id in model.graph.inputs.values():
        shape = [int(d) if sy.is_int(d) else int(d.subs(values)) for d in model.graph.node(node_id).shape]
        out.append(torch.randn(*shape, generator=gen))
    return out


def static_shape(shape, values: dict[str, int]) -> tuple[int, ...]:
    return tuple(int(d) if sy.is_int(d) else int(d.subs(values)) for d in shape)


def static_state(model: Model) -> dict[str, tuple[int, ...]]:
    """state_dict keys and shapes as the static analysis states them."""
    return dict(model.state_dict_shapes())


def probe_module(model: Model) -> torch.nn.Module:
    """The model built from the shape-recording variant of the generated file."""
    return instantiate(generate(model.graph, probes=True))


@contextmanager
def parameters_on_meta():
    """Modules built inside get their parameters on the meta device (no memory, no
    initialisation); buffers, persistent or not, are built as usual. For a second and third
    instance of a model whose parameters are then taken from the first
    (`share_parameters`): three float32 copies of the seeds' AlexNet are 2.4 GB."""
    register = torch.nn.Module.register_parameter

    def on_meta(self, name, param):
        if param is not None and param.device.type != "meta":
            param = torch.nn.Parameter(param.to("meta"), requires_grad=param.requires_grad)
        register(self, name, param)

    torch.nn.Module.register_parameter = on_meta
    try:
        yield
    finally:
        torch.nn.Module.register_parameter = register


def share_parameters(module: torch.nn.Module, source: torch.nn.Module) -> None:
    """Load `source`'s state_dict into `module` as load_state_dict does (strict: same keys and
    shapes), the parameters as the very tensors of `source` (not copies) and the buffers as
    copies (a forward in training mode updates them in place)."""
    parameters = {name for name, _ in source.named_parameters()}
    state = {k: v if k in parameters else v.clone() for k, v in source.state_dict().items()}
    module.load_state_dict(state, assign=True)


def run_recording_shapes(module: torch.nn.Module, inputs: list[torch.Tensor]) -> tuple[dict, object]:
    """Forward once; returns ({node id: output shape} of every node, the output). Nodes in
    generated forward code record themselves (probes); modules inside an nn.Sequential, which
    has no generated forward, are seen by forward hooks. A module called again (a shared layer's
    later application `tower@2`) records its k-th call under the path with one part `p` as `p@k`."""
    source_module = sys.modules[type(module).__module__]
    probes = source_module.PROBES
    probes.clear()
    paths = {id(m): name for name, m in module.named_modules()}
    seen: dict[str, tuple[int, ...]] = {}
    hooks = []
    for name, sub in module.named_modules():
        if name:  # a module a layer's lowering calls inside (a helper's) records too: the last wins
            hooks.append(sub.register_forward_hook(
                lambda m, args, out, name=name: seen.__setitem__(name, tuple(out.shape))
                if isinstance(out, torch.Tensor) else None))
    try:
        out = module(*inputs)
    finally:
        for h in hooks:
            h.remove()
    recorded = dict(seen)
    calls: dict[str, list[tuple[int, ...]]] = {}
    for owner, local, shape in probes:
        prefix = paths[id(owner)]
        calls.setdefault(f"{prefix}.{local}" if prefix else local, []).append(shape)
    probes.clear()
    for path, shapes in calls.items():  # a generated forward's line, once per call of its module
        recorded[path] = shapes[0]
        parts = path.split(".")
        for k, shape in enumerate(shapes[1:], start=2):
            for j in range(len(parts)):
                recorded[".".join([*parts[:j], f"{parts[j]}@{k}", *parts[j + 1:]])] = shape
    return recorded, out


def import_file(path: Path, name: str):
    """Import a generated model file as a fresh module (as a user would)."""
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def outputs_of(result) -> dict[str, torch.Tensor]:
    return result if isinstance(result, dict) else {"": result}


__all__ = ["Case", "cases", "concrete_sizes", "example_inputs", "import_file",
           "outputs_of", "parameters_on_meta", "probe_module", "run_recording_shapes", "share_parameters",
           "static_shape", "static_state", "symbols_of", "with_symbolic_inputs", "zoo_specs"]
