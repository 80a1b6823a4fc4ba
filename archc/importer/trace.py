"""Capture a PyTorch model's structure: one torch.fx graph per module that becomes a block.

torch.fx symbolic tracing, not torch.export: fx records calls of submodules as `call_module`
nodes whose target is the attribute path (`conv1`, `layer1.0`, `blocks.3`), so each module's own
forward is a small graph over its children: the module hierarchy (which becomes blocks) and the
state_dict names (which become `name=`s) come straight from it. torch.export traces down to aten
operators and flattens the hierarchy, which would have to be rebuilt from metadata.

Each module is traced on its own, every submodule it calls being a leaf; a submodule called with
something other than tensors (DenseNet's layers take a list) is traced through instead, so its
layers appear in its parent with dotted names. One forward pass of the whole model with the
example inputs records each module's first inputs (forward pre-hooks); each module's graph is then
run on them (an fx Interpreter) to know every value: tensor shapes, sizes read with `x.size(0)`.
torch is imported inside the functions: archc's static path never imports it.
"""
from __future__ import annotations

import re
import traceback
from dataclasses import dataclass, field
from typing import Any

# the frames of torch's own code, skipped when a construct is located in the user's Python
_TORCH_FILE = re.compile(r"[\\/](torch|torchvision/ops/misc|functools|contextlib)[\\/.]|[\\/]torch[\\/]")


@dataclass(frozen=True)
class Site:
    """Where something came from: the module path (`layer1.0.conv1`; "" is the model) and the
    Python file and line of the call, as torch.fx recorded it."""
    module: str
    file: str | None = None
    line: int | None = None
    code: str | None = None

    def describe(self) -> str:
        where = f"module '{self.module}'" if self.module else "the model's forward"
        if self.file:
            where += f" ({self.file}:{self.line})"
        return where


class ImportFailure(Exception):
    """A construct that cannot be imported: `code` is its catalogue code (archc/codes/importer.py)."""

    def __init__(self, message: str, site: Site, code: str, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.site = site
        self.code = code
        self.hint = hint


def user_frame(stack_text: str | None) -> tuple[str | None, int | None, str | None]:
    """The innermost frame outside torch in a stack trace fx recorded (`node.stack_trace`)."""
    if not stack_text:
        return None, None, None
    frames = re.findall(r'File "([^"]+)", line (\d+), in [^\n]*\n\s*([^\n]*)', stack_text)
    for file, line, code in reversed(frames):
        if not _TORCH_FILE.search(file):
            return file, int(line), code.strip()
    return None, None, None


def exception_frame(error: BaseException) -> tuple[str | None, int | None, str | None]:
    """The innermost frame outside torch where `error` was raised."""
    import os
    own = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep  # archc's package
    for frame in reversed(traceback.extract_tb(error.__traceback__)):
        if not _TORCH_FILE.search(frame.filename) and not os.path.abspath(frame.filename).startswith(own):
            return frame.filename, frame.lineno, (frame.line or "").strip()
    return None, None, None


@dataclass
class Traced:
    """One traced module: its fx graph and every node's value on the example inputs."""
    path: str
    module: Any
    graph: Any
    values: dict = field(default_factory=dict)  # node -> the value it had
    output_fields: list | None = None  # the fields of a named tuple the forward returns


@dataclass
class Capture:
    root: Any
    inputs: list  # the example input tensors
    calls: dict  # module path -> (args, kwargs) of its first call
    counts: dict  # module path -> how many times it was called
    outputs: Any  # what the model returned
    modules: dict  # path -> module
    traced: dict = field(default_factory=dict)  # path -> Traced
    list_blocks: dict = field(default_factory=dict)  # path -> axis: modules taking a list they concatenate
    training_root: bool = False  # the model's forward traced as in training (auxiliary outputs)


def run_model(root: Any, inputs: list, training_root: bool = False) -> Capture:
    """One forward pass in eval mode, recording each module's first call. `training_root`: the
    model's own forward runs as in training (its auxiliary classifiers run), its submodules in
    eval mode, so that no running statistics change."""
    import torch
    root.eval()
    root.training = training_root
    calls: dict = {}
    counts: dict = {}
    hooks = []
    modules = dict(root.named_modules(remove_duplicate=False))
    for name, module in modules.items():
        def record(mod: Any, args: tuple, kwargs: dict, name: str = name) -> None:
            counts[name] = counts.get(name, 0) + 1
            if name not in calls:  # lists copied: DenseNet appends to the list it passed
                calls[name] = (tuple(list(a) if isinstance(a, list) else a for a in args), dict(kwargs))
        hooks.append(module.register_forward_pre_hook(record, with_kwargs=True))
    try:
        with torch.no_grad():
            outputs = root(*inputs)
    except Exception as e:
        file, line, code = exception_frame(e)
        raise ImportFailure(f"the model does not run on the example inputs: {type(e).__name__}: {e}",
                            Site("", file, line, code), code="E-TORCH-RUN",
                            hint="give inputs of the shape the model expects: --input x=1,3,224,224") from None
    finally:
        for h in hooks:
            h.remove()
        root.training = False
    capture = Capture(root, list(inputs), calls, counts, outputs, modules)
    capture.training_root = training_root
    return capture


def tensors_only(call: tuple) -> bool:
    """Whether a module's call passed tensors only, by position (what a block can take)."""
    import torch
    args, kwargs = call
    return not kwargs and all(isinstance(a, torch.Tensor) for a in args)


def trace(capture: Capture, path: str, through: set[str]) -> Traced:
    """The graph of the module at `path`, every submodule a leaf except those in `through`
    (paths relative to the model), and every node's value on the module's recorded inputs."""
    import torch
    import torch.fx as fx

    module = capture.modules[path]
    prefix = f"{path}." if path else ""

    class Tracer(fx.Tracer):
        def is_leaf_module(self, m: Any, qualname: str) -> bool:
            return prefix + qualname not in through

    tracer = Tracer()
    tracer.record_stack_traces = True
    module.training = bool(capture.training_root and not path)
    try:
        graph = tracer.trace(module, concrete_args=_defaults_not_given(module, capture.calls[path]))
    except Exception as e:  # data-dependent control flow, an untraceable call
        file, line, source = exception_frame(e)
        message = (str(e).splitlines()[0] if str(e) else type(e).__name__).split(". ")[0]
        where = Site(path, file, line, source)
        if "control flow" in message:
            raise ImportFailure(f"{type(module).__name__}.forward branches on a tensor's values: {message}", where,
                                code="E-TORCH-DYNAMIC",
                                hint="archc describes a static graph: a branch or loop that depends on a "
                                     "tensor's values cannot be written in a spec") from None
        raise ImportFailure(f"cannot trace {type(module).__name__}.forward: {message}", where,
                            code="E-TORCH-TRACE",
                            hint="the forward must be traceable by torch.fx.symbolic_trace") from None
    _drop_fixed_arguments(graph, len(capture.calls[path][0]))
    traced = Traced(path, module, graph)
    traced.output_fields = _unpack_named_tuple(graph)
    args, _ = capture.calls[path]
    gm = fx.GraphModule(module, graph)
    recorder = _Recorder(gm, traced.values)
    try:
        with torch.no_grad():
            recorder.run(*args)
    except Exception as e:
        file, line, code = exception_frame(e)
        raise ImportFailure(f"the traced graph of {type(module).__name__} does not run: {type(e).__name__}: {e}",
                            Site(path, file, line, code), code="E-TORCH-TRACE") from None
    finally:
        module.training = False
    return traced



def _unpack_named_tuple(graph: Any) -> list[str] | None:
    """A forward returning a named tuple (torchvision's InceptionOutputs): fx records its
    construction as a call; the graph returns the plain tuple and the fields are kept."""
    (output,) = [n for n in graph.nodes if n.op == "output"]
    made = output.args[0]
    target = getattr(made, "target", None)
    if getattr(made, "op", None) != "call_function" or not isinstance(target, type) or \
            not issubclass(target, tuple) or not hasattr(target, "_fields") or len(made.users) != 1:
        return None
    fields = list(target._fields)
    values = list(made.args) + [made.kwargs[f] for f in fields[len(made.args):] if f in made.kwargs]
    if len(values) != len(fields):
        return None
    output.args = (tuple(values),)
    graph.erase_node(made)
    return fields


def _drop_fixed_arguments(graph: Any, given: int) -> None:
    """fx keeps a placeholder for each argument traced at a fixed value, and checks of it
    (`_assert(pre_logits == False)`); the forward was traced with that value: drop them."""
    placeholders = [n for n in graph.nodes if n.op == "placeholder"]
    doomed: list = []
    stack = list(placeholders[given:])
    while stack:
        node = stack.pop()
        if node in doomed:
            continue
        doomed.append(node)
        stack.extend(node.users)
    order = {n: k for k, n in enumerate(graph.nodes)}
    for node in sorted(doomed, key=lambda n: order[n], reverse=True):
        if node.op == "output":
            continue
        graph.erase_node(node)


def _defaults_not_given(module: Any, call: tuple) -> dict | None:
    """forward's parameters with defaults that the recorded call left out (timm's
    `forward(x, pre_logits=False)`): traced at their default, not as symbolic inputs."""
    import inspect
    args, kwargs = call
    try:
        parameters = list(inspect.signature(module.forward).parameters.values())
    except (TypeError, ValueError):
        return None
    fixed = {p.name: p.default for p in parameters[len(args):]
             if p.default is not inspect.Parameter.empty and p.name not in kwargs
             and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
    return fixed or None


class _Recorder:
    """Runs a GraphModule, keeping what each node produced (shapes of tensors, plain values)."""

    def __new__(cls, gm: Any, values: dict) -> Any:
        import torch
        import torch.fx as fx

        class Recorder(fx.Interpreter):
            def run_node(self, n: Any) -> Any:
                result = super().run_node(n)
                values[n] = summarise(result, torch)
                return result
        return Recorder(gm)


@dataclass(frozen=True)
class TensorInfo:
    shape: tuple
    dtype: str


def summarise(value: Any, torch: Any) -> Any:
    if isinstance(value, torch.Tensor):
        return TensorInfo(tuple(value.shape), str(value.dtype))
    if isinstance(value, torch.Size):
        return tuple(value)
    if isinstance(value, (list, tuple)):
        return type(value)(summarise(v, torch) for v in value)
    if isinstance(value, dict):
        return {k: summarise(v, torch) for k, v in value.items()}
    if isinstance(value, (int, float, bool, str)) or value is None:
        return value
    return type(value).__name__


def node_site(path: str, node: Any) -> Site:
    file, line, code = user_frame(getattr(node, "stack_trace", None) or node.meta.get("stack_trace"))
    return Site(path, file, line, code)
