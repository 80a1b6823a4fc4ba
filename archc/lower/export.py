"""Exporting a built model to ONNX through torch's exporter (`archc export SPEC --onnx FILE`).

The file keeps the spec's symbolic sizes dynamic: the batch, and H and W, each with the
constraints archc derived for it passed to `torch.export` as a `torch.export.Dim` before
tracing (a U-Net's `H % 16 == 0, H >= 16` becomes `H = 16·H_k` with `H_k = Dim("H_k", min=1)`;
a bound alone becomes `Dim("H", min=...)`). A symbol whose constraints a Dim cannot state (a
set of residues, a condition tying two symbols) stays at its example size, and says so.

The exporter traces the model on example inputs, so symbolic sizes need concrete values too:
the batch is 2 (1 with `static=True`: a size of 1 would pin a dynamic dimension) unless given,
every other symbol the smallest size meeting the spec's constraints at or above a default (224
on spatial axes, 16 elsewhere), unless given (`--input-size H=256`).

torch's chatter that is not the user's business (the registry's "torchvision is not installed",
deprecation warnings from inside the exporter, its progress lines) is kept out of the output;
other warnings still reach the caller, and a failure is a diagnostic, not a traceback.
"""
from __future__ import annotations

import contextlib
import errno
import io
import logging
import math
import os
import re
import tempfile
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator

from archc import symbolic as sy
from archc.errors import SpecError

if TYPE_CHECKING:
    from archc.model import Model

SPATIAL_DEFAULT = 224
OTHER_DEFAULT = 16
BATCH_DEFAULT = 2

ONNX_HINT = "pip install -e '.[onnx]' in archc's checkout (or pip install onnx onnxscript)"


class ExportError(SpecError):
    """Exporting failed for a reason outside the spec (a missing package, the exporter)."""


def _roles(model: "Model") -> dict[str, str]:
    """symbol -> "batch" | "spatial" | "other", by its first position in the inputs."""
    role: dict[str, str] = {}
    for node_id in model.graph.inputs.values():
        for axis, d in enumerate(model.graph.node(node_id).shape):
            if not sy.is_int(d):
                for s in sorted(d.free_symbols()):
                    role.setdefault(s, "batch" if axis == 0 else "spatial" if axis >= 2 else "other")
    return role


def example_sizes(model: "Model", given: dict[str, int] | None = None,
                  batch: int = BATCH_DEFAULT) -> dict[str, int]:
    """A concrete value for every symbol in the model's input shapes; raises SpecError when
    `given` names an unknown symbol or the sizes do not meet the constraints."""
    given = dict(given or {})
    role = _roles(model)
    unknown = sorted(set(given) - set(role))
    if unknown:
        raise SpecError(f"--input-size names {', '.join(unknown)}, which the inputs do not use",
                        None, f"symbolic input sizes: {', '.join(role) or 'none'}", code="E-CLI-UNKNOWN-SYMBOL")
    assumptions = model.graph.assumptions
    values = {}
    for s, r in role.items():
        if s in given:
            values[s] = given[s]
        elif r == "batch":
            values[s] = assumptions.example(s, batch)
        else:
            values[s] = assumptions.example(s, SPATIAL_DEFAULT if r == "spatial" else OTHER_DEFAULT)
    if not assumptions.satisfied_by(values):
        shown = ", ".join(f"{k}={v}" for k, v in values.items())
        raise SpecError(f"input sizes {shown} do not meet the spec's constraints: "
                        f"{', '.join(model.constraints)}", None,
                        "choose sizes that do, e.g. --input-size " +
                        " ".join(f"{s}={assumptions.example(s, v)}" for s, v in values.items()),
                        code="E-CLI-SIZE-CONSTRAINT")
    return values


def example_inputs(model: "Model", values: dict[str, int]) -> tuple:
    import torch
    graph = model.graph
    out = []
    for node_id in graph.inputs.values():
        shape = [int(d) if sy.is_int(d) else int(d.subs(values)) for d in graph.node(node_id).shape]
        out.append(torch.randn(*shape))
    return tuple(out)


# ----------------------------------------------------------------------------- dynamic sizes


@dataclass
class DynamicSize:
    """How one symbol is kept dynamic: `size = step * k + offset` for `k >= k_min` (step 1,
    offset 0: the symbol itself, `size >= k_min`)."""
    symbol: str
    step: int = 1
    offset: int = 0
    k_min: int = 1

    @property
    def root(self) -> str:
        return self.symbol if self.step == 1 and self.offset == 0 else f"{self.symbol}_k"

    def describe(self) -> str:
        if self.root == self.symbol:
            return f"{self.symbol} >= {self.k_min}"
        offset = f" + {self.offset}" if self.offset else ""
        return f"{self.symbol} = {self.step}·{self.root}{offset}, {self.root} >= {self.k_min}"

    def dim(self) -> Any:
        from torch.export import Dim
        root = Dim(self.root, min=self.k_min)
        return root if self.root == self.symbol else self.step * root + self.offset


@dataclass
class DynamicPlan:
    sizes: dict[str, DynamicSize] = field(default_factory=dict)  # symbol -> how it varies
    fixed: dict[str, str] = field(default_factory=dict)  # symbol -> why it stays at its example


def dynamic_plan(model: "Model") -> DynamicPlan:
    """The `Dim` of every symbolic input size, from the constraints archc derived."""
    a = model.graph.assumptions
    plan = DynamicPlan()
    tied = {s for fact in a._facts for s in fact.symbols}
    for s in _roles(model):
        modulus, residues = a._allowed.get(s, (1, frozenset({0})))
        if s in tied:
            plan.fixed[s] = "a constraint ties it to another size (" + \
                "; ".join(f.text for f in a._facts if s in f.symbols) + ")"
            continue
        if len(residues) != 1:
            plan.fixed[s] = f"its allowed sizes are several residues modulo {modulus}"
            continue
        (residue,) = residues
        low = max(1, a.lower_bounds[s].value if s in a.lower_bounds else 1, a._minimum.get(s, 1))
        if modulus == 1:
            plan.sizes[s] = DynamicSize(s, k_min=low)
        else:
            plan.sizes[s] = DynamicSize(s, modulus, residue, max(1, math.ceil((low - residue) / modulus)))
    return plan


def dynamic_shapes(model: "Model", plan: DynamicPlan) -> tuple[dict[int, Any], ...]:
    """torch.export's `dynamic_shapes`: per input, axis -> Dim (one Dim object per symbol, so
    that inputs sharing a batch share its Dim)."""
    dims = {s: d.dim() for s, d in plan.sizes.items()}
    out = []
    for node_id in model.graph.inputs.values():
        axes = {}
        for axis, d in enumerate(model.graph.node(node_id).shape):
            if not sy.is_int(d) and isinstance(d, sy.Expr) and str(d) in dims:
                axes[axis] = dims[str(d)]
        out.append(axes)
    return tuple(out)


# ----------------------------------------------------------------------------- quiet torch

# torch's log records and warnings that say nothing about the user's model
_NOISY_LOGGERS = ("torch.onnx._internal.exporter._registration",)  # "torchvision is not installed"
_NOISE = [
    (DeprecationWarning, ""), (FutureWarning, ""), (PendingDeprecationWarning, ""),
    # the same Dim on two axes (H and W of a square input) names one axis after the other
    (UserWarning, r"# The axis name: .* will not be used, since it shares the same shape constraints"),
    (UserWarning, r"torchvision is not installed"),
]


@contextlib.contextmanager
def quiet_torch() -> Iterator[io.StringIO]:
    """Keep the exporter's chatter out of the output: its progress lines on stdout (yielded,
    for an error message), deprecation warnings from its insides and its registry's log lines.
    Other warnings and error-level log records still come through."""
    saved = {}
    for name in _NOISY_LOGGERS:
        logger = logging.getLogger(name)
        saved[name] = logger.level
        logger.setLevel(logging.ERROR)
    chatter = io.StringIO()
    try:
        with warnings.catch_warnings():
            for category, message in _NOISE:
                warnings.filterwarnings("ignore", message=message, category=category)
            with contextlib.redirect_stdout(chatter):
                yield chatter
    finally:
        for name, level in saved.items():
            logging.getLogger(name).setLevel(level)


# ----------------------------------------------------------------------------- export


def require_onnx() -> None:
    """torch, onnx and onnxscript are extras: say how to install them, not a traceback."""
    try:
        import torch  # noqa: F401
    except ImportError:
        raise ExportError("exporting needs PyTorch, which is not installed", None,
                          "pip install -e '.[torch,onnx]' in archc's checkout",
                          code="E-EXPORT-PACKAGES-MISSING") from None
    missing = []
    for name in ("onnx", "onnxscript"):
        try:
            __import__(name)
        except ImportError:
            missing.append(name)
    if missing:
        raise ExportError(f"ONNX export needs {' and '.join(missing)}, which "
                          f"{'is' if len(missing) == 1 else 'are'} not installed", None, ONNX_HINT,
                          code="E-EXPORT-PACKAGES-MISSING")


@dataclass
class ExportResult:
    path: Path
    example: dict[str, int]  # the sizes the example inputs had
    dynamic: dict[str, DynamicSize]  # the symbols kept dynamic, and how
    fixed: dict[str, str]  # symbols fixed at their example size, and why
    weights: Any = None  # the LoadReport of `weights`, when given


def export_onnx(model: "Model", path: str | Path, sizes: dict[str, int] | None = None,
                opset: int | None = None, static: bool = False, module: Any = None,
                weights: Any = None) -> ExportResult:
    """Write the model as ONNX through torch.onnx.export, atomically: `module` (e.g. trained,
    built from this model by `archc.build`) or a freshly built one, in eval mode; `weights` (a
    state_dict, or a torch.save or .safetensors file: `archc export --weights`) is loaded into
    the fresh one strictly: every tensor, by name and shape, or E-EXPORT-WEIGHTS-MISMATCH and
    no file. Inputs and outputs are named as in the spec; symbolic sizes stay dynamic with the
    spec's constraints (`static=True`: fixed at the example sizes). Raises SpecError (an
    `ExportError` for a missing package or a failing exporter)."""
    require_onnx()
    import torch

    from archc import progress
    if module is not None and weights is not None:
        raise SpecError("export_onnx takes a built module or weights to build one with, not both", None,
                        "load the weights into the module first (archc.load_weights), or pass weights only",
                        code="E-API-ARGUMENT-CONFLICT")

    from archc.lower.build import build_module
    plan = DynamicPlan() if static else dynamic_plan(model)
    if static:
        plan.fixed = {s: "static export" for s in _roles(model)}
    values = example_sizes(model, sizes, batch=1 if static else BATCH_DEFAULT)
    for s, d in plan.sizes.items():
        if values[s] < d.step * d.k_min + d.offset:
            smallest = d.step * d.k_min + d.offset
            raise SpecError(f"--input-size {s}={values[s]} is below the smallest size the spec "
                            f"allows ({smallest})", None, f"e.g. --input-size {s}={smallest}",
                            code="E-CLI-SIZE-CONSTRAINT")
    from archc.files import OutputError, output_error
    target = Path(path)
    if target.is_dir():  # before the work: replacing it would fail after a minute of exporting
        raise OutputError(errno.EISDIR, os.strerror(errno.EISDIR), str(path))
    module = build_module(model, weights, strict=True) if module is None else module
    training = module.training
    module.eval()
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp.onnx")
    except OSError as e:
        module.train(training)
        raise output_error(e, str(path)) from None
    os.close(fd)
    try:
        progress.step("tracing and converting to ONNX (torch.export, the ONNX exporter)")
        with quiet_torch(), torch.no_grad():
            try:
                torch.onnx.export(module, example_inputs(model, values), tmp,
                                  input_names=list(model.graph.inputs),
                                  output_names=list(model.graph.inference_outputs),
                                  dynamic_shapes=dynamic_shapes(model, plan) if plan.sizes else None,
                                  opset_version=opset, external_data=False, verbose=False, dynamo=True)
            except Exception as e:  # the exporter's own failure, as a diagnostic
                raise ExportError(f"torch's ONNX exporter failed: {_first_line(e)}", None,
                                  "the exporter cannot write the layer it names at these sizes: change "
                                  "that layer (an adaptive pooling's output size should divide its input "
                                  "size), try --static for symbolic sizes, or report it with the spec and "
                                  "torch's version",
                                  code="E-EXPORT-FAILED") from None
        progress.step(f"writing {path}")
        umask = os.umask(0)
        os.umask(umask)
        try:
            os.chmod(tmp, 0o666 & ~umask)  # as a plainly created file, not mkstemp's 0600
            os.replace(tmp, target)
        except OSError as e:
            raise output_error(e, str(path)) from None
    finally:
        module.train(training)
        Path(tmp).unlink(missing_ok=True)
    return ExportResult(target, values, plan.sizes, plan.fixed,
                        getattr(module, "archc_load_report", None) if weights is not None else None)


def _first_line(e: Exception) -> str:
    """The line of the exporter's error that says what failed: the first of its "Exception
    summary" (torch's own first line only says which step failed), without colour codes or
    the exception's class."""
    text = re.sub(r"\x1b\[[0-9;]*m", "", str(e)).strip() or type(e).__name__
    _, summary, rest = text.partition("## Exception summary")
    if summary:
        first = next((ln.strip() for ln in rest.splitlines() if ln.strip()), "")
        first = re.sub(r"^<class '[\w.]+'>:\s*", "", first)
        first = re.sub(r"<OpOverload\(op='([\w.]+)', overload='(\w+)'\)>", r"\1", first)
        if first:
            return first[:300]
    lines = [ln for ln in text.splitlines() if ln.strip()]
    useful = [ln for ln in lines if not re.match(r"\s*(Traceback|File |\^|~)", ln)]
    return (useful or lines or [type(e).__name__])[0][:300]
