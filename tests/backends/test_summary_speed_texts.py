"""The summary's texts as its faster paths build them: the table read column by column from one
walk's rows, texts of shapes, fields and layer kinds found once and shared, numbers written with
their prefix found from their digits. Each must read as the rows say."""
from __future__ import annotations

from pathlib import Path

import pytest

import archc
from archc.backends.report import human, leading_text, rows

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("n, text", [
    (0, "0"), (999, "999"), (-999, "-999"), (1000, "1.00 K"), (-1500, "-1.50 K"), (999_999, "1000.00 K"),
    (10**6, "1.00 M"), (25_557_032, "25.56 M"), (10**18, "1.00 E"), (10**21 - 1, "1000.00 E"),
    (10**21, "1.00e+21"), (-10**21, "-1.00e+21"), (10**400, "1.00e+400"),
])
def test_human_writes_a_number_with_its_prefix(n, text):
    assert human(n) == text
    assert leading_text(n) == text


def test_human_appends_its_unit():
    assert human(12_000, "FLOP") == "12.00 KFLOP" and human(12, "FLOP") == "12 FLOP"


def body_lines(text: str) -> list[str]:
    """The text table's rows: between the rule under the header and the next rule."""
    lines = text.splitlines()
    return lines[4:lines.index(lines[1], 4)]


@pytest.mark.parametrize("spec", ["specs/torchvision/mobilenet_v2.arch", "specs/torchvision/densenet121.arch",
                                  "specs/unet_keras.arch"])
@pytest.mark.parametrize("depth", [None, 1])
def test_the_text_table_shows_each_row(spec, depth):
    model = archc.load(ROOT / spec)
    text = model.summary(depth=depth)
    body = body_lines(text)
    table = list(rows(model, depth))
    assert len(body) == len(table)
    for line, row in zip(body, table):
        assert line.startswith("  " * row.level + row.id + " ")
        assert f" {row.type} " in line and f" {row.shape} " in line
        assert f" {row.params:,} " in line and f" {leading_text(row.macs)} " in line
        assert line.endswith(row.connected) if row.connected else line.endswith(row.jump)


def test_markdown_rows_escape_and_quote_their_cells():
    model = archc.loads("model M\ninput x: [N, 3, 8, 8]\na = x -> conv2d(4, 3, name=\"c|1\")\n"
                        "b = x -> conv2d(4, 3, name=c2)\noutput y = a + b\n")
    lines = model.summary("markdown").splitlines()
    assert "| `c2` | Conv2d 4, 3×3 | [N, 4, 6, 6] | 112 | 3.89 K | 3 | 1 | `x` |" in lines
    assert "| `add` | Add | [N, 4, 6, 6] | 0 | 0 | 3 | 1 | `c\\|1`, `c2` |" in lines


@pytest.mark.parametrize("fmt", ["text", "markdown"])
def test_a_summary_leaves_nothing_for_the_cycle_collector(fmt):
    """Its rows and caches are freed when it returns (a closure calling itself had kept them in
    a reference cycle until the next collection)."""
    import gc
    model = archc.load(ROOT / "specs/torchvision/mobilenet_v2.arch")
    # to a fixed point: what earlier tests left (torch.onnx's ctypes array types) can take a second
    # pass to free, which the assertion below would otherwise count as the summary's
    while gc.collect():
        pass
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        archc.Model(model.spec, model.graph, []).summary(fmt, depth=1)
        assert gc.collect() == 0
    finally:
        if was_enabled:
            gc.enable()
