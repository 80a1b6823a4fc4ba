"""The cycle collector is paused while archc builds its large acyclic structures (parsing,
elaboration, the analyses, summaries, diagrams, generated source) and left as it was after:
archc.collector. At 100,000 layers its full collections were a third of `draw`'s time and made
draw and compile grow faster than the layers (benchmarks/README.md)."""
from __future__ import annotations

import gc

import pytest

import archc
from archc import collector
from archc.analysis import metrics
from archc.backends import diagram, report
from archc.lower import codegen

SPEC = """
input x: [N, 3, 32, 32]
output y = x -> conv2d(8, 3) -> relu -> flatten -> linear(10)
"""


@pytest.fixture
def collector_on():
    was = gc.isenabled()
    gc.enable()
    yield
    if not was:
        gc.disable()


def test_paused_restores_the_state_it_found(collector_on) -> None:
    with collector.paused():
        assert not gc.isenabled()
        with collector.paused():
            assert not gc.isenabled()
        assert not gc.isenabled()  # the inner one leaves it as the outer one set it
    assert gc.isenabled()
    with pytest.raises(ZeroDivisionError), collector.paused():
        1 / 0
    assert gc.isenabled()
    gc.disable()
    with collector.paused():
        pass
    assert not gc.isenabled()  # was off: stays off


@pytest.mark.parametrize("stage, module, inner, run", [
    ("analyse", metrics, "per_sample", lambda m: metrics.analyse(m.graph)),
    ("summary", report, "footer", lambda m: report.render(m, "text")),
    ("diagram", diagram, "to_dot", lambda m: diagram.render_dot(m)),
    ("source", codegen._Generator, "run", lambda m: codegen.generate(m.graph, spec=m.spec)),
])
def test_every_stage_runs_with_the_collector_paused(stage, module, inner, run, collector_on, monkeypatch) -> None:
    model = archc.loads(SPEC)
    seen: list[bool] = []
    original = getattr(module, inner)

    def spy(*args, **kwargs):
        seen.append(gc.isenabled())
        return original(*args, **kwargs)
    monkeypatch.setattr(module, inner, spy)
    run(model)
    assert seen and not any(seen), stage
    assert gc.isenabled()


def test_loading_runs_with_the_collector_paused(collector_on, monkeypatch) -> None:
    from archc.ir import elaborate
    seen: list[bool] = []
    original = elaborate.Elaborator.run

    def spy(self):
        seen.append(gc.isenabled())
        return original(self)
    monkeypatch.setattr(elaborate.Elaborator, "run", spy)
    archc.loads(SPEC)
    assert seen == [False]
    assert gc.isenabled()
