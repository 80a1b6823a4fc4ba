"""Counts found once and shared: the metrics find a layer's parameter and buffer counts, MACs and
window once per op, bound attribute values and input and output shapes (layers alike share
them), and `archc.load`'s size check gives the parameter count `archc check` prints without the
metrics. Both must give what each layer's op says of it alone."""
from __future__ import annotations

from pathlib import Path

import pytest

import archc
from archc import symbolic as sy
from archc.analysis import metrics
from archc.analysis.metrics import analyse, check_sizes, per_sample
from archc.ops.base import numel

ROOT = Path(__file__).resolve().parents[2]
ZOO = sorted((ROOT / "specs").glob("*.arch")) + sorted((ROOT / "specs" / "torchvision").glob("*.arch"))

# shared layers, a frozen block, unused layers, a training output, symbolic sizes, declared
# tensors: every case the counts treat apart
MIXED = """
model Mixed
block Tower(c)(x) {
  return x -> conv2d(c, 3, padding=1, name=conv) -> batchnorm2d(name=bn) -> relu
}
block Stage(c)(x) {
  return x -> conv2d(c, 3, padding=1, bias=false, name=conv) -> batchnorm2d(name=bn) -> relu
}
input a: [N, 3, H, W]
input b: [N, 3, H, W]
tower = shared(Tower(8))
fa = a -> tower
fb = b -> tower
s = fa + fb -> Stage(8, name=frozen_stage, frozen=true) -> batchnorm2d -> relu -> batchnorm2d -> relu
unused deeper = s -> Stage(16, name=later)
w = parameter([1, 8, 1, 1])
logits = s * w -> global_avgpool -> linear(10)
aux = fa -> global_avgpool -> linear(10)
output logits
training output aux
"""


def models():
    yield "mixed", archc.loads(MIXED)
    for path in ZOO:
        yield path.relative_to(ROOT).as_posix(), archc.load(path)


@pytest.fixture(scope="module")
def loaded():
    return list(models())


def test_params_come_from_the_size_check_without_the_metrics(loaded):
    for name, model in loaded:
        assert model.params == check_sizes(model.graph).params, name
        assert "metrics" not in model.__dict__, name  # what `archc check` prints computed nothing more
        assert model.params == analyse(model.graph).totals.params, name


def test_a_model_built_on_a_graph_counts_from_its_metrics():
    model = archc.loads(MIXED)
    bare = archc.Model(model.spec, model.graph, [])
    assert bare.params == model.params == model.metrics.totals.params
    assert "metrics" in bare.__dict__


def test_each_layer_gets_what_its_op_says_of_it_alone(loaded):
    for name, model in loaded:
        graph, layers = model.graph, analyse(model.graph).layers
        for node in graph.layers():
            if node.op is None:
                continue
            m = layers[node.id]
            inputs = graph.input_shapes(node)
            params = {} if node.shares is not None else node.op.parameters(node.attrs, inputs)
            buffers = {} if node.shares is not None else node.op.buffers(node.attrs, inputs)
            macs = 0 if node.unused else \
                node.op.macs(node.attrs, [per_sample(s) for s in inputs], per_sample(node.shape))
            assert m.param_shapes == params and m.buffers == buffers, (name, node.id)
            assert m.param_count == sum(numel(s) for s in params.values()), (name, node.id)
            assert m.buffer_count == sum(numel(s) for s in buffers.values()), (name, node.id)
            assert sy.to_str(m.macs) == sy.to_str(macs), (name, node.id)
            assert m.frozen == (m.param_count if node.frozen else 0), (name, node.id)


def test_the_mixed_model_counts_shared_weights_once_and_frozen_ones_apart():
    model = archc.loads(MIXED)
    t = model.metrics.totals
    tower = 8 * 3 * 9 + 8 + 2 * 8  # conv with bias, batch norm
    stage = 8 * 8 * 9 + 2 * 8
    later = 16 * 8 * 9 + 2 * 16  # unused: weights, no cost
    extra = 2 * (2 * 8) + 8 + 2 * (8 * 10 + 10)  # two batch norms, the parameter, two linears
    assert t.params == model.params == tower + stage + later + extra
    assert t.frozen == stage and t.trainable == t.params - stage
    assert model.layer_params("fa.conv") == 8 * 3 * 9 + 8 and model.layer_params("fa@2.conv") == 0


def test_layers_alike_are_found_once(monkeypatch):
    calls = []
    real = metrics._cost
    monkeypatch.setattr(metrics, "_cost", lambda *args: calls.append(args[1].id) or real(*args))
    flat = "model Flat\ninput x: [N, 16, 8, 8]\n" + "".join(
        f"h{i} = {'x' if i == 0 else f'h{i - 1}'} -> conv2d(16, 3, padding=1) -> batchnorm2d -> relu\n"
        for i in range(50)) + "output y = h49\n"
    model = archc.loads(flat)
    layers = analyse(model.graph).layers
    assert len(calls) == 3  # one conv, one batch norm, one ReLU: the 147 others share them
    assert len({id(layers[n.id].param_shapes) for n in model.graph.layers() if n.op_name == "conv2d"}) == 1


def test_an_unhashable_attribute_is_counted_for_its_layer_alone():
    model = archc.loads("input x: [N, 2, 3]\noutput y = x + constant([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])\n")
    assert analyse(model.graph).totals.params == model.params == 0
    assert model.summary()  # and the table shows it


def test_a_layer_with_an_unhashable_attribute_value_is_counted_alone():
    model = archc.loads(MIXED)
    expected = analyse(model.graph)
    for node in model.graph.layers():
        if node.op is not None and node.op.name == "conv2d":  # a list among its values: no key
            node.attrs = type(node.attrs)({**node.attrs, "note": [0.5]})
    assert check_sizes(model.graph).params == expected.totals.params
    metrics_now = analyse(model.graph)
    assert metrics_now.totals == expected.totals
    assert all(metrics_now.layers[k].param_count == m.param_count and metrics_now.layers[k].macs == m.macs
               for k, m in expected.layers.items())
