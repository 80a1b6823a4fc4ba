"""The Python API: `archc.load(path)` parses, elaborates and analyses a spec and returns a
`Model` holding every stage's result for the back ends."""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from archc import ast as A
from archc import symbolic as sy
from archc.collector import paused as collector_paused
from archc.analysis.metrics import Metrics, OpTotals, analyse, by_op, check_sizes, quoted_macs
from archc.errors import SpecError, SpecErrors
from archc.frontend import parse_dsl, parse_file, parse_yaml
from archc.ir.elaborate import elaborate
from archc.ir.graph import Graph
from archc.ops.base import Shape, fmt_shape


@dataclass(repr=False)
class Model:
    spec: A.Spec
    graph: Graph
    # valid but suspicious layers (`archc.SpecError`s with severity "warning"); strict=True in
    # `load` makes them errors instead
    warnings: list = field(default_factory=list)
    # the parameter count the size check at load found (`check_sizes`), so that `params` (what
    # `archc check` prints) needs no metrics; None: from the metrics
    _params: int | None = field(default=None, compare=False)

    def __repr__(self) -> str:
        ins = ", ".join(f"{n} {fmt_shape(self.graph.node(i).shape)}" for n, i in self.graph.inputs.items())
        outs = ", ".join(f"{n} {fmt_shape(self.graph.node(i).shape)}" for n, i in self.graph.outputs.items())
        macs = self.macs
        cost = f"{macs / 1e9:.3g} GMACs" if isinstance(macs, int) else f"MACs {sy.to_str(macs)}"
        return f"<archc.Model {self.name}: {self.params:,} params, {cost}; {ins} -> {outs}>"

    @cached_property
    def metrics(self) -> Metrics:
        return analyse(self.graph)

    @property
    def name(self) -> str:
        return self.graph.name

    @property
    def hyperparams(self) -> dict[str, Any]:
        """The model parameters' values (`param num_classes = 1000`, or as given to `load`);
        not to be confused with `params`, the number of learnable parameters."""
        return dict(self.graph.hyperparams)

    @cached_property
    def shapes(self) -> dict[str, Shape]:
        """Output shape of every node by node id (the dotted module path, `layer1.0.conv1`), and
        of every tensor the spec names at the model level (`features`, an output's name) when
        that name is not also a node id."""
        out = {n.id: n.shape for n in self.graph.layers()}
        named: dict[str, Shape] = {}
        for n in self.graph.layers():
            for name, scope in zip(n.tensor_names, n.tensor_scopes):
                if scope == () and name not in out:
                    named.setdefault(name, n.shape)
        for name, node_id in self.graph.outputs.items():
            if name not in out:
                named.setdefault(name, self.graph.node(node_id).shape)
        out.update(named)
        return out

    @property
    def output_shapes(self) -> dict[str, Shape]:
        return {name: self.graph.node(node_id).shape for name, node_id in self.graph.outputs.items()}

    @property
    def params(self) -> int:
        return self.metrics.totals.params if self._params is None else self._params

    @property
    def trainable_params(self) -> int:
        return self.metrics.totals.trainable

    @property
    def frozen_params(self) -> int:
        return self.metrics.totals.frozen

    @property
    def macs(self) -> sy.Dim:
        """Multiply-accumulates for one sample."""
        return self.metrics.totals.macs

    def by_op(self) -> list[OpTotals]:
        """Parameters and MACs per op type (Conv2d, BatchNorm2d, …), in order of appearance."""
        return by_op(self.graph, self.metrics)

    @property
    def conv_linear_macs(self) -> sy.Dim:
        """MACs of convolutions and linear layers only, per sample: the number torchvision
        publishes as GFLOPS and fvcore and most papers quote (they call MACs FLOPs)."""
        return quoted_macs(self.by_op())

    @property
    def constraints(self) -> list[str]:
        """What symbolic input sizes must satisfy at inference, e.g. ['H % 16 == 0', 'H >= 16']."""
        return (self.graph.inference_assumptions or self.graph.assumptions).describe()

    def smallest_size(self, symbol: str) -> int:
        """The smallest value of a symbolic input size (e.g. "H") that meets the inference
        constraints: the network's minimum input size."""
        return (self.graph.inference_assumptions or self.graph.assumptions).example(symbol, 1)

    @property
    def training_constraints(self) -> list[str]:
        """What they must satisfy in training, when training outputs (auxiliary classifiers)
        run too; the same as `constraints` without training outputs."""
        return self.graph.assumptions.describe()

    def state_dict_shapes(self) -> dict[str, tuple[int, ...]]:
        """The PyTorch state_dict the lowered model will have: key -> shape, parameters and
        buffers, in module order, predicted statically."""
        out: dict[str, tuple[int, ...]] = {}
        layers = self.metrics.layers
        for node in _module_order(self.graph):
            m = layers[node.id]
            for name, shape in {**m.param_shapes, **m.buffers}.items():
                out[f"{node.id}.{name}" if name else node.id] = tuple(shape)  # "": a declared parameter
        return out

    def layer_params(self, node_id: str) -> int:
        return self.metrics.layers[node_id].param_count

    def summary(self, format: str = "text", depth: int | None = None, by_op: bool = False,
                at: dict[str, int] | None = None) -> str:
        """The layer table (format "text", "markdown" or "json"). `at`: values of symbolic
        sizes, e.g. {"H": 224}: MACs and shapes are shown exactly at that size (by default a
        symbolic MACs count shows its leading term, ≈ 2.35 K·H·W)."""
        from archc.backends import report
        return report.render(self, format, depth, by_op, at)

    def draw(self, path: str | Path | None = None, depth: int | str | None = None, rankdir: str = "TB",
             format: str | None = None) -> bytes | None:
        """The diagram `archc draw` makes: written to `path` (its suffix picks .dot, .svg,
        .png or .pdf), or returned as bytes (SVG by default; DOT needs no Graphviz). `depth`:
        None (or "auto") folds blocks to the deepest level that fits about one page, "all" draws
        every layer, an int folds what is deeper."""
        from archc.backends import diagram
        fmt = diagram.format_for(str(path) if path else None, format) if path or format else "svg"
        if fmt != "dot":
            diagram.require_dot(fmt)
        data = diagram.draw(self, fmt, depth, rankdir)
        if path is None:
            return data
        from archc.files import write_atomic
        write_atomic(str(path), data)
        return None

    def _repr_svg_(self) -> str | None:
        """Jupyter: the diagram, folded to fit about a page as `archc draw` does (None without
        Graphviz's dot)."""
        from archc.backends import diagram
        if diagram.find_dot() is None:
            return None
        return self.draw().decode()

    def _repr_html_(self) -> str:
        """Jupyter: the diagram (when Graphviz is installed) above the summary table."""
        import html
        svg = self._repr_svg_() or ""
        return f"<div>{svg}<pre>{html.escape(self.summary(depth=1))}</pre></div>"

    def to_torch(self, weights: Any = None) -> Any:
        """The model as a `torch.nn.Module` (see `archc.build`); `weights`: a checkpoint to load
        by name and shape."""
        from archc.lower.build import build_module
        return build_module(self, weights)

    def to_source(self) -> str:
        """The standalone PyTorch source of the model, as `archc compile` writes it."""
        from archc.lower.codegen import generate
        return generate(self.graph, spec=self.spec).source  # the parameters as constructor arguments


def _module_order(graph: Any) -> list:
    """The layers in the order PyTorch registers their modules: each submodule where its first
    layer is made. That is graph order, except for a container's members (`convs.0`, `convs.1`),
    which are made one at a time between other layers but registered together."""
    if not any(s.kind == "container" for s in graph.scopes.values()):
        return list(graph.layers())
    first: dict[tuple[str, ...], int] = {}
    keyed = []
    for position, node in enumerate(graph.layers()):
        for k in range(1, len(node.scope) + 1):
            first.setdefault(node.scope[:k], position)
        keyed.append((tuple(first[node.scope[:k]] for k in range(1, len(node.scope) + 1)), position, node))
    # a node's key: where each enclosing module starts, then itself; a layer directly in a scope
    # sorts among that scope's submodules by its own position
    return [node for *_, node in sorted(keyed, key=lambda k: (*k[0], k[1]))]


def _build(spec: A.Spec, file: str, params: dict[str, Any] | None, strict: bool = False) -> Model:
    warnings: list = []
    graph = elaborate(spec, file, params, strict=strict, warnings=warnings)
    return from_graph(spec, graph, warnings, strict=strict)


def from_graph(spec: A.Spec, graph: Graph, warnings: list, *, strict: bool = False) -> Model:
    """The model of an elaborated graph (`warnings`: elaboration's): its size check, whose errors
    are raised and whose warnings join the others (errors too when `strict`). The language server
    builds its resumed elaborations' models with it, as `from_spec` builds one."""
    sizes = check_sizes(graph)  # absurd parameter counts / activation sizes
    errors = sizes.errors
    if strict:
        errors += [w.as_error() for w in sizes.warnings]
    if errors:
        raise SpecErrors(errors)
    return Model(spec, graph, warnings + sizes.warnings, sizes.params)


def load(path: str | Path, hyperparams: dict[str, Any] | None = None, *,
         params: dict[str, Any] | None = None, strict: bool = False) -> Model:
    """Parse, check and analyse a spec file (`.arch` or `.yaml`), with `hyperparams` setting
    model parameters (as `-D` does: `{"num_classes": 10}`; a word such as "H" makes a size
    symbolic). `params=` is the earlier name of `hyperparams`. Raises `archc.SpecErrors`.
    Warnings (valid but suspicious layers) are in `Model.warnings`; `strict=True` makes them
    errors."""
    if not isinstance(path, (str, Path)):
        raise SpecError(f"a spec path must be a string or a Path, got {type(path).__name__}", None,
                        "for spec text use archc.loads(text)", code="E-API-SPEC-TYPE")
    with collector_paused():
        return _build(parse_file(path), str(path), _hyperparams(hyperparams, params), strict)


def build(spec: "str | Path | Model", weights: Any = None,
          params: dict[str, Any] | None = None) -> Any:
    """`archc.build`: the `nn.Module` of a spec (a path to a `.arch`/`.yaml` file, or a loaded
    `archc.Model`).

    `params` sets model parameters (as `-D` does) when `spec` is a path. `weights`, a checkpoint
    path or a state_dict, is loaded by name and shape (`load_weights`); the report is
    `module.archc_load_report`. Raises `archc.SpecErrors` for an invalid spec."""
    return _model_of(spec, params).to_torch(weights)


def _model_of(spec: "str | Path | Model", params: dict[str, Any] | None) -> Model:
    if isinstance(spec, Model):
        if params:
            raise SpecError("params apply to a spec path, not to a loaded archc.Model", None,
                            "load the Model with them: archc.build(archc.load(path, params))",
                            code="E-API-ARGUMENT-CONFLICT")
        return spec
    if isinstance(spec, (str, Path)):
        return load(spec, params)
    raise SpecError(f"build() takes a spec path or an archc.Model, not {type(spec).__name__}", None,
                    "e.g. archc.build(\"net.arch\") or archc.build(archc.load(\"net.arch\"))",
                    code="E-API-SPEC-TYPE")


def loads(text: str, language: str = "arch", hyperparams: dict[str, Any] | None = None,
          file: str = "<string>", *, params: dict[str, Any] | None = None, strict: bool = False) -> Model:
    """Like `load`, from a string in `language` ("arch" or "yaml")."""
    _check_text(text, "spec text")
    if language not in ("arch", "yaml"):
        raise SpecError(f"unknown spec language {language!r}", None, 'use "arch" or "yaml"',
                        code="E-API-LANGUAGE")
    with collector_paused():
        spec = parse_yaml(text, file) if language == "yaml" else parse_dsl(text, file)
        return _build(spec, file, _hyperparams(hyperparams, params), strict)


def from_spec(spec: A.Spec, file: str, hyperparams: dict[str, Any] | None = None, *,
              strict: bool = False) -> Model:
    """Check and analyse an already parsed spec (`archc.frontend.parse_file`'s result), as
    `load` does a file: for callers that look at the AST first (the CLI tells a block library
    from a model by it) and should not parse twice."""
    with collector_paused():
        return _build(spec, file, _hyperparams(hyperparams, None), strict)


def _hyperparams(hyperparams: dict[str, Any] | None, legacy: dict[str, Any] | None) -> dict[str, Any] | None:
    """The model parameters to set, checked: archc's own error for anything but a mapping of
    names to values."""
    from collections.abc import Mapping
    if hyperparams is not None and legacy is not None:
        raise SpecError("give hyperparams= only (params= is its earlier name)", None,
                        "drop params=; hyperparams= takes the same mapping", code="E-API-ARGUMENT-CONFLICT")
    chosen = hyperparams if hyperparams is not None else legacy
    if chosen is not None and (not isinstance(chosen, Mapping) or not all(isinstance(k, str) for k in chosen)):
        raise SpecError(f"hyperparams must map parameter names to values, got {type(chosen).__name__}", None,
                        'e.g. archc.load("net.arch", {"num_classes": 10})', code="E-API-HYPERPARAMS")
    return dict(chosen) if chosen is not None else None


def _check_text(value: Any, what: str) -> None:
    if not isinstance(value, str):
        raise SpecError(f"{what} must be a string, got {type(value).__name__}", None,
                        "decode bytes first: text.decode('utf-8')" if isinstance(value, bytes) else
                        "archc.loads takes the spec's text; for a file use archc.load(path)",
                        code="E-API-SPEC-TYPE")
