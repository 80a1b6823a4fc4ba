"""The C-level passes of the metrics and the summary against the general rules they stand for:
layer kinds numbered as a per-node loop would number them, scope totals as sums over each
scope's layers, and the summary's rows in graph order (`ScopeIndex.nested`) as the scope walk
gives them."""
from __future__ import annotations

from pathlib import Path

import pytest

import archc
from archc import symbolic as sy
from archc.analysis.metrics import layer_kinds
from archc.backends import report

ROOT = Path(__file__).resolve().parents[2]
ZOO = ["mobilenet_v2", "densenet121", "googlenet", "regnet_y_400mf"]

# containers (`convs.0`, `bns.0` made one at a time between other layers): scopes whose layers
# do not follow one another in graph order, so the summary walks the scopes
INTERLEAVED = """
model Stages
block Split(width)(x) {
  a, b = x -> chunk(2)
  y0 = a -> conv2d(width, 3, padding=1, name="convs.0") -> batchnorm2d(name="bns.0") -> relu
  y1 = (y0 + b) -> conv2d(width, 3, padding=1, name="convs.1") -> batchnorm2d(name="bns.1")
  return concat(y0, y1)
}
input x: [N, 8, H, W]
h = x -> repeat(2, Split(4), name=layer1)
output o = h -> conv2d(8, 1, name="head.fc") -> relu
"""

SYMBOLIC = """
model Sym
block Unit(c)(x) {
  y = x -> conv2d(c, 3, padding=1) -> batchnorm2d -> relu
  return y + x
}
input x: [N, 8, H, W]
h = x -> Unit(8) -> Unit(8) -> maxpool2d(2)
output o = h -> repeat(2, Unit(8), name=deep) -> conv2d(4, 1, frozen=true)
"""


def _models():
    for name in ZOO:
        yield name, archc.load(ROOT / "specs" / "torchvision" / f"{name}.arch")
    yield "interleaved", archc.loads(INTERLEAVED)
    yield "symbolic", archc.loads(SYMBOLIC)


MODELS = dict(_models())


def _kinds_by_loop(graph) -> list[int]:
    """Each node's kind as a loop over the nodes numbers them (the rule _number_kinds keeps)."""
    found: dict = {}
    attrs_numbers: dict = {}
    out = []
    for node in graph.layers():
        try:
            attrs = attrs_numbers.setdefault(tuple(node.attrs.items()), len(attrs_numbers))
        except TypeError:
            attrs = ("unhashable", id(node.attrs))
        inputs = tuple(graph.node(i).shape for i in node.inputs)
        key = (node.op, attrs, node.shape, inputs, node.shares is not None, node.unused, node.frozen,
               node.training_only)
        out.append(found.setdefault(key, len(found)))
    return out


@pytest.mark.parametrize("name", MODELS)
def test_layer_kinds_are_the_per_node_loops(name):
    graph = MODELS[name].graph
    assert layer_kinds(graph).of == _kinds_by_loop(graph)


@pytest.mark.parametrize("name", MODELS)
def test_scope_totals_are_sums_over_the_scopes_layers(name):
    model = MODELS[name]
    graph, metrics = model.graph, model.metrics
    layers = metrics.layers
    for scope in graph.scopes.values():
        under = graph.nodes_under(scope.path)
        totals = metrics.scope_totals(graph, scope)
        assert totals.params == sum(layers[n.id].param_count for n in under)
        assert totals.frozen == sum(layers[n.id].frozen for n in under)
        macs = 0
        for n in under:
            macs = sy.add(macs, layers[n.id].macs)
        assert totals.macs == macs


@pytest.mark.parametrize("name", MODELS)
def test_rows_in_graph_order_are_the_walks(name):
    model = MODELS[name]
    index = model.graph.scope_index()
    assert index.nested == (name != "interleaved")
    fast = report._table(model, None, None)
    index.nested = False  # the walk of the scope hierarchy
    try:
        assert report._table(model, None, None) == fast
        at = {"H": 64, "W": 32} if name in ("interleaved", "symbolic") else None
        walked = model.summary(at=at), model.summary("markdown", at=at)
    finally:
        index.nested = name != "interleaved"
    assert (model.summary(at=at), model.summary("markdown", at=at)) == walked


def test_interleaved_members_are_shown_in_their_containers():
    rows = report._table(MODELS["interleaved"], None, None)
    names = [(level, node_id) for level, node_id, *_ in rows]
    at = names.index((2, "layer1.0.convs"))
    assert names[at:at + 6] == [(2, "layer1.0.convs"), (3, "layer1.0.convs.0"), (3, "layer1.0.convs.1"),
                                (2, "layer1.0.bns"), (3, "layer1.0.bns.0"), (3, "layer1.0.bns.1")]


def test_numbers_texts_in_passes_are_humans():
    import random
    rng = random.Random(7)
    values = [0, 1, -1, 999, 1000, -1000, 1005, 999_999, 10 ** 6, 10 ** 18, 10 ** 21 - 1, 999_995]
    values += [rng.randrange(-10 ** 21 + 1, 10 ** 21) // 10 ** rng.randrange(0, 21) for _ in range(2000)]
    assert report._human_all(values) == [report.human(v) for v in values]
    big = [10 ** 21, 7]  # past the largest prefix: human's exponent form
    assert report._human_all(big) == [report.human(v) for v in big]
    symbolic = [sy.mul(sy.sym("H"), 3000), 12]
    assert report._human_all(symbolic) == [report.leading_text(symbolic[0]), "12"]
