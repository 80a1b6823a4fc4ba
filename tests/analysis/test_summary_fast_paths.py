"""The shortcuts of the size check, the metrics and the summary against the general rules they
stand for: layer kinds as a plain per-node loop numbers them, the model's and each scope's
totals as sums over their layers, the full-depth table's scope totals (summed by its walk) as
the metrics' scope totals give them, the metrics' parameter counts taken from the size check as
counted anew, the text table's lines as padding each cell gives them, the scope index's lazy
parts as built eagerly."""
from __future__ import annotations

import functools
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


FLAGGED = (ROOT / "tests/data/analysis/flagged_layers.arch").read_text()  # (shared with test_layer_kinds)


TEXTS = {"interleaved": INTERLEAVED, "symbolic": SYMBOLIC, "flagged": FLAGGED}
MODELS = [*ZOO, *TEXTS]


@functools.cache
def _model(name: str) -> archc.Model:
    """A model loaded once for every test that reads it (when the first asks, not at collection)."""
    if name in TEXTS:
        return archc.loads(TEXTS[name])
    return archc.load(ROOT / "specs" / "torchvision" / f"{name}.arch")


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
    graph = _model(name).graph
    assert layer_kinds(graph).of == _kinds_by_loop(graph)


@pytest.mark.parametrize("name", MODELS)
def test_scope_totals_are_sums_over_the_scopes_layers(name):
    model = _model(name)
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
def test_metrics_with_the_size_checks_counts_are_the_metrics_counted_anew(name):
    from archc.analysis.metrics import analyse
    graph = _model(name).graph
    assert layer_kinds(graph).param_counts is not None  # (load ran the size check)
    reused = analyse(graph)
    fresh = layer_kinds(graph)
    counts, fresh.param_counts = fresh.param_counts, None
    try:
        anew = analyse(graph)
    finally:
        fresh.param_counts = counts
    assert reused.kinds == anew.kinds and reused.totals == anew.totals


def _padded_lines(columns, widths):
    """The table's lines as padding each cell and joining them gives them."""
    padded = [[cell.rjust(w) if right else cell.ljust(w) for cell in column]
              for column, w, right in zip(columns[:-1], widths, report._RIGHT_ALIGNED)]
    return ["  ".join(cells).rstrip() for cells in zip(*padded, columns[-1])]


@pytest.mark.parametrize("name", MODELS)
def test_text_lines_are_the_padded_cells(name):
    model = _model(name)
    columns = report._columns(report._table(model, None, None), "  ")
    widths = [max(len(h), max(map(len, c), default=0)) for h, c in zip(report.HEADERS, columns)]
    assert report._lines(columns, widths) == _padded_lines(columns, widths)


def test_text_lines_keep_percent_signs_and_blank_cells():
    columns = [["a%s", "%d"], ["x", "yy"], ["", ""], ["1", "22"], ["3", ""], ["-", "≈ 2 K·H"], ["-", "-"], ["%", "b  "]]
    widths = [max(map(len, c)) for c in columns]
    lines = report._lines(columns, widths)
    assert lines == _padded_lines(columns, widths)
    assert lines[0].startswith("a%s  x ") and lines[1].endswith("-  b")


@pytest.mark.parametrize("name", MODELS)
def test_scope_index_lazy_parts_are_the_eager_ones(name):
    graph = _model(name).graph
    eager: dict = {}
    for path, scope in graph.scopes.items():
        eager.setdefault(path[:-1], []).append(scope)
    assert graph.scope_index().child_scopes == eager
    for node in graph.layers():
        assert graph.input_shapes(node) == [graph.node(i).shape for i in node.inputs]


@pytest.mark.parametrize("name", MODELS)
def test_full_depth_rows_sum_the_scopes_as_the_metrics_do(name):
    model = _model(name)
    walked = report._table(model, None, None)  # (scope totals summed on the way where MACs are ints)
    assert walked == report._table(model, 10 ** 6, None)  # every scope expanded, from all_scope_totals
    totals = {".".join(path): t for path, t in model.metrics.all_scope_totals(model.graph).items()}
    scope_rows = [row for row in walked if row[8]]
    assert len(scope_rows) == len(model.graph.scopes)
    for _, scope_id, kind, _, params, macs, *_ in scope_rows:
        t = totals[scope_id]
        assert (params, macs) == (t.params, t.macs)
        assert kind.endswith(" (frozen)") == (t.frozen > 0 and t.frozen == t.params)


@pytest.mark.parametrize("name", MODELS)
def test_model_totals_are_sums_over_the_layers(name):
    model = _model(name)
    layers, totals = model.metrics.layers, model.metrics.totals
    ops = [node for node in model.graph.layers() if node.op is not None]
    assert (totals.params, totals.trainable, totals.frozen, totals.buffers) == tuple(
        sum(getattr(layers[n.id], k) for n in ops) for k in ("param_count", "trainable", "frozen", "buffer_count"))
    macs = activation = 0
    for n in ops:
        if not n.training_only:  # (inference's cost)
            macs, activation = sy.add(macs, layers[n.id].macs), sy.add(activation, layers[n.id].activation_bytes)
    assert (totals.macs, totals.activation_bytes) == (macs, activation)


# Receptive fields: `_whole` (a whole Fraction as an int) is skipped until a window that makes
# fractions is met. Adaptive pools make them too (a Fraction stride, whole when the output divides
# the input): found by a differential run against 96eebda, whose JSON gave 16 where this gave 16.0.
FIELD_CASES = {
    "adaptive 2d, dividing": ("input x: [N, 3, 64, 48]\nh = x -> adaptive_maxpool2d([4, 3]) -> conv2d(8, 3, padding=1)\n"
                              "output y = h -> relu\n", {"adaptive_maxpool2d": ((16, 16), (16, 16)),
                                                         "conv2d": ((48, 48), (16, 16))}),
    "adaptive 1d": ("input x: [N, 3, 30]\noutput y = x -> adaptive_avgpool1d(5) -> conv1d(4, 3)\n",
                    {"adaptive_avgpool1d": ((6,), (6,)), "conv1d": ((18,), (6,))}),
    "adaptive before a transposed layer": (
        "input x: [N, 3, 16, 16]\noutput y = x -> adaptive_avgpool2d(8) -> conv_transpose2d(4, 2, stride=2)"
        " -> conv2d(4, 3)\n", {"adaptive_avgpool2d": ((2, 2), (2, 2))}),
    "merge after it": ("input x: [N, 3, 64, 64]\na = x -> adaptive_avgpool2d(4)\nb = x -> avgpool2d(16)\n"
                       "output y = add(a, b)\n", {"y": ((16, 16), (16, 16))}),
}


@pytest.mark.parametrize("case", FIELD_CASES)
def test_whole_receptive_fields_are_ints(case):
    import json
    text, expected = FIELD_CASES[case]
    model = archc.loads(text)
    rows = {row["id"]: row for row in json.loads(model.summary("json"))["layers"]}
    for node_id, (size, jump) in expected.items():
        field = model.metrics.layers[node_id].field
        assert (field.size, field.jump) == (size, jump)
        assert all(type(v) is int for v in field.size + field.jump), field
        assert json.dumps([rows[node_id]["receptive_field"], rows[node_id]["jump"]]) == json.dumps([list(size), list(jump)])
    for node in model.graph.layers():  # whole numbers are ints everywhere, not only where listed
        field = model.metrics.layers[node.id].field
        if field is not None:
            assert all(type(v) is int for v in (field.size or ()) + field.jump if v == int(v)), (node.id, field)
