"""Layer kinds (archc.analysis.metrics.LayerKinds): the size check counts each kind once and sums
at C speed, walking layer by layer only past a warning line or on a partial graph; the metrics
ask each kind's op once, and make a layer's LayerMetrics and the receptive fields when first read.
Each must give what the layer-by-layer walk gives."""
from __future__ import annotations

from pathlib import Path

import pytest

import archc
from archc.analysis import metrics
from archc.analysis.metrics import _walk_sizes, analyse, check_sizes, layer_kinds

ROOT = Path(__file__).resolve().parents[2]
ZOO = ["resnet18", "mobilenet_v2", "densenet121"]

# alike layers but for the flags that change their counts: frozen, shared, unused, training-only
FLAGGED = (ROOT / "tests/data/analysis/flagged_layers.arch").read_text()

BIG = "input x: [N, 100000]\noutput y = x -> linear(200000) -> linear(10)\n"  # past the warning line


def _rendered(check) -> tuple:
    return [e.render() for e in check.errors], [w.render() for w in check.warnings], check.params


@pytest.mark.parametrize("name", ZOO)
def test_the_size_check_by_kind_is_the_walks(name):
    graph = archc.load(ROOT / "specs" / "torchvision" / f"{name}.arch").graph
    assert _rendered(check_sizes(graph)) == _rendered(_walk_sizes(graph))


def test_flags_make_kinds_of_their_own_and_counts_stay_the_walks():
    model = archc.loads(FLAGGED)
    kinds = layer_kinds(model.graph)
    kind_of = dict(zip((n.id for n in kinds.nodes), kinds.of))
    assert kind_of["a.conv"] == kind_of["unit.conv"]  # alike layers (inputs of equal shapes): one kind
    flagged = ["a@2.conv", "unit_1.conv", "spare.conv", "unit_2.conv"]  # shared, frozen, unused, training-only
    assert len({kind_of[i] for i in ["a.conv", *flagged]}) == 5
    assert _rendered(check_sizes(model.graph)) == _rendered(_walk_sizes(model.graph))
    layers, t = model.metrics.layers, model.metrics.totals
    conv = layers["a.conv"].param_count
    assert layers["a@2.conv"].param_count == 0 and layers["unit_1.conv"].frozen == conv
    assert layers["spare.conv"].macs == 0 and layers["unit_2.conv"].macs == layers["a.conv"].macs
    assert t.frozen == conv + layers["unit_1.bn"].param_count and model.params == t.params


def test_past_a_warning_line_the_messages_are_the_walks():
    model = archc.loads(BIG)
    found = check_sizes(model.graph)
    assert [w.code for w in found.warnings] == ["W-LIMIT-PARAMS"] and not found.errors
    assert _rendered(found) == _rendered(_walk_sizes(model.graph))
    assert [w.render() for w in model.warnings] == _rendered(found)[1]


def test_a_partial_graph_is_walked():
    graph = archc.loads("input x: [N, 3, 8, 8]\noutput y = x -> conv2d(4, 3) -> relu\n").graph
    expected = _rendered(check_sizes(graph))
    graph._kinds = None
    last = list(graph.layers())[-1]
    last.shape = None  # what elaborated around an error: a layer without a shape
    assert layer_kinds(graph) is None
    assert _rendered(check_sizes(graph)) == _rendered(_walk_sizes(graph)) == expected


def test_the_kinds_are_found_once_per_graph(monkeypatch):
    model = archc.loads(FLAGGED)
    calls = []
    real = metrics._number_kinds
    monkeypatch.setattr(metrics, "_number_kinds", lambda graph: calls.append(1) or real(graph))
    model.graph._kinds = None
    check_sizes(model.graph)
    analyse(model.graph)
    model.summary()
    assert calls == [1]


def test_layers_are_made_when_read_and_read_as_a_mapping():
    model = archc.load(ROOT / "specs" / "torchvision" / "resnet18.arch")
    fresh = analyse(model.graph)
    assert fresh._fields is None  # counts and MACs need no receptive field
    layers = fresh.layers
    ids = [n.id for n in model.graph.layers()]
    assert list(layers) == ids and len(layers) == len(ids)
    assert ids[3] in layers and "no.such.layer" not in layers and layers.get("no.such.layer") is None
    with pytest.raises(KeyError):
        layers["no.such.layer"]
    assert layers[ids[3]] is layers[ids[3]]  # made once
    assert fresh._fields is not None  # (a LayerMetrics holds its field)
    assert dict(layers.items()) == dict(model.metrics.layers.items())


def test_nodes_under_a_scope_are_in_graph_order():
    graph = archc.load(ROOT / "specs" / "torchvision" / "resnet18.arch").graph
    graph._index = None
    under = graph.nodes_under(("layer1",))
    position = {n.id: i for i, n in enumerate(graph.layers())}
    assert under and [position[n.id] for n in under] == sorted(position[n.id] for n in under)
    assert all(n.id.startswith("layer1.") for n in under)


FLAGGED_MERGES = """\
model M
input x: [N, 4, 8, 8]
input y: [1, 4, 1, 1]
a = add(x, y, frozen=true)
b = add(x, y, x, x, y, x)
training output t = add(x, y)
output o = add(a, b, x, x, x, y)
"""


def test_a_flagged_merge_and_a_merge_of_more_inputs_are_different_kinds():
    """A flagged layer's flags are one item of its key: as bools in the places of input shape
    numbers they equalled the numbers 0 and 1 of a merge of more inputs (True == 1)."""
    model = archc.loads(FLAGGED_MERGES)
    kinds = layer_kinds(model.graph)
    kind_of = dict(zip((n.id for n in kinds.nodes), kinds.of))
    assert len({kind_of["a"], kind_of["b"], kind_of["t"], kind_of["o"]}) == 4
    rows = {line.split(" ", 1)[0]: line for line in model.summary().splitlines()}
    assert "Add (frozen)" in rows["a"] and "(frozen)" not in rows["b"]
    assert model.metrics.totals.activation_bytes == 3 * 4 * 8 * 8 * 4  # a, b and o: not t
