"""The Python API: `archc.load(path)` parses, elaborates and analyses a spec and returns a
`Model` holding every stage's result for the back ends."""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from archc import ast as A
from archc import symbolic as sy
from archc.analysis.metrics import Metrics, OpTotals, analyse, by_op, quoted_macs
from archc.frontend import parse_dsl, parse_file, parse_yaml
from archc.ir.elaborate import elaborate
from archc.ir.graph import Graph
from archc.ops.base import Shape


@dataclass
class Model:
    spec: A.Spec
    graph: Graph

    @cached_property
    def metrics(self) -> Metrics:
        return analyse(self.graph)

    @property
    def name(self) -> str:
        return self.graph.name

    @property
    def shapes(self) -> dict[str, Shape]:
        """Output shape of every node, by node id (dotted module path)."""
        return {n.id: n.shape for n in self.graph.layers()}

    @property
    def output_shapes(self) -> dict[str, Shape]:
        return {name: self.graph.node(node_id).shape for name, node_id in self.graph.outputs.items()}

    @property
    def params(self) -> int:
        return self.metrics.totals.params

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
        for node in self.graph.layers():
            m = self.metrics.layers[node.id]
            for name, shape in {**m.params, **m.buffers}.items():
                out[f"{node.id}.{name}" if name else node.id] = tuple(shape)  # "": a declared parameter
        return out

    def layer_params(self, node_id: str) -> int:
        return self.metrics.layers[node_id].param_count

    def summary(self, format: str = "text", depth: int | None = None, by_op: bool = False) -> str:
        from archc.backends import report
        return report.render(self, format, depth, by_op)

    def to_torch(self, weights: Any = None) -> Any:
        """The model as a `torch.nn.Module` (see `archc.build`); `weights`: a checkpoint to load
        by name and shape."""
        from archc.lower.build import build
        return build(self, weights=weights)

    def to_source(self) -> str:
        """The standalone PyTorch source of the model, as `archc compile` writes it."""
        from archc.lower.codegen import generate
        return generate(self.graph).source


def _build(spec: A.Spec, file: str, params: dict[str, Any] | None) -> Model:
    return Model(spec, elaborate(spec, file, params))


def load(path: str | Path, params: dict[str, Any] | None = None) -> Model:
    """Parse, check and analyse a spec file (`.arch` or `.yaml`). Raises `archc.SpecErrors`."""
    return _build(parse_file(path), str(path), params)


def loads(text: str, language: str = "arch", params: dict[str, Any] | None = None,
          file: str = "<string>") -> Model:
    """Like `load`, from a string in `language` ("arch" or "yaml")."""
    spec = parse_yaml(text, file) if language == "yaml" else parse_dsl(text, file)
    return _build(spec, file, params)
