"""Every stage stays linear in the number of layers, checked without timing anything: the work of
each stage (Python function calls, a deterministic count) on a synthetic spec of n layers and of
4n layers must grow by about 4×, not 16×. A return of the quadratic scans that issue 11 removed
(summaries and diagrams scanning the whole graph once per scope: ratios of 10 to 14 here before)
makes one of these ratios jump. Work done inside one C call (copying a whole set or dict) counts
as one call, so this guards the Python-level loops; benchmarks/scaling.py times everything, on
the same specs (tools/synthetic_specs.py)."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest
from call_counting import CallCounter

import archc
from archc.backends import diagram
from archc.ir import instances

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tools"))
from synthetic_specs import generate  # noqa: E402

SMALL, LARGE = 300, 1200
# 4× the layers may cost at most this many times the work (linear: 4, plus slack for the
# parts that grow with the log of the size, such as nesting depth and name suffixes)
LIMIT = 4 * 1.3


def _work(form: str, layers: int) -> dict[str, int]:
    text = generate(form, layers)
    counts: dict[str, int] = {}

    def count(stage: str, fn):
        with CallCounter() as c:
            result = fn()
        counts[stage] = c.calls
        return result

    model = count("load", lambda: archc.loads(text, "arch", file=f"{form}.arch"))
    count("analyse", lambda: (model.params, model.macs, model.metrics))
    count("summary", lambda: model.summary())
    count("summary json", lambda: model.summary("json"))
    count("dot", lambda: diagram.render_dot(model, "all"))  # every layer
    count("dot page", lambda: diagram.render_dot(model))  # the default: the depth that fits a page
    count("source", model.to_source)
    counts["layers"] = sum(1 for n in model.graph.layers() if not n.is_input)
    return counts


# with reuse, the repeat and nested forms evaluate a few block instances and replay the rest
# (archc.ir.instances); without, every instance is evaluated, as distinct blocks are (the flat
# form has no blocks)
@pytest.mark.parametrize("form, reuse", [("flat", True), ("repeat", True), ("repeat", False),
                                         ("nested", True), ("nested", False)],
                         ids=["flat", "repeat", "repeat-evaluated", "nested", "nested-evaluated"])
def test_work_per_layer_does_not_grow(form, reuse, monkeypatch):
    monkeypatch.setattr(instances, "REUSE_INSTANCES", reuse)
    small, large = _work(form, SMALL), _work(form, LARGE)
    growth = large["layers"] / small["layers"]
    assert 3.5 < growth < 4.5, (small["layers"], large["layers"])
    report = {stage: large[stage] / max(small[stage], 1) / growth * 4
              for stage in small if stage != "layers" and small[stage]}
    print(f"\n{form}: work ratio for 4× layers:", {k: round(v, 2) for k, v in report.items()})
    too_much = {stage: round(r, 2) for stage, r in report.items() if r > LIMIT}
    assert not too_much, f"super-linear work in {form}: {too_much} (limit {LIMIT:.1f} for 4× layers)"
