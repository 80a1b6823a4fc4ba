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


ROOT = __import__("pathlib").Path(__file__).resolve().parents[2]

# run in a process of its own: the cycle collector's state is the whole process's
LEAVES_NO_CYCLES = """
import gc, sys
import archc
from archc.backends import diagram

def use(spec):
    model = archc.load(spec)
    model.params, model.macs, model.constraints
    model.summary(), model.summary("json"), model.summary(by_op=True), model.state_dict_shapes
    diagram.render_dot(model)
    model.to_source()

for spec in sys.argv[1:]:
    use(spec)  # (what importing makes once is not the point: a slots dataclass leaves its first class)
    gc.disable()
    gc.collect()
    gc.set_debug(gc.DEBUG_SAVEALL)
    use(spec)
    gc.collect()
    ours = [type(o).__qualname__ for o in gc.garbage
            if type(o).__module__.startswith("archc") or getattr(o, "__module__", "").startswith("archc")]
    print(spec, len(gc.garbage), ours)
    gc.set_debug(0)
    gc.garbage.clear()
"""


def test_archc_leaves_no_reference_cycles() -> None:
    """What archc makes is freed by reference counting alone: a load, its numbers, summaries,
    diagram and generated source leave nothing of archc's for the cycle collector (which would
    keep the model alive until it runs, and walk everything allocated since to find it), and at
    most a few of the standard library's (the JSON encoder's and ast.literal_eval's closures).
    Generated source made hundreds of classes and recursive closures per call, each a cycle, and
    a unit and its class's group pointed at each other; a parser's offset kept a bound method of
    itself; the diagram's recursive closures held it; the metrics kept their per-layer view, which
    pointed back."""
    import subprocess
    import sys
    specs = [ROOT / "specs/torchvision/mobilenet_v2.arch", ROOT / "specs/torchvision/densenet121.arch",
             ROOT / "specs/unet_keras.yaml"]
    done = subprocess.run([sys.executable, "-c", LEAVES_NO_CYCLES, *map(str, specs)], capture_output=True,
                          text=True, env={**__import__("os").environ, "OMP_NUM_THREADS": "1"})
    assert done.returncode == 0, done.stderr
    for line in done.stdout.strip().splitlines():
        spec, count, ours = line.split(" ", 2)
        assert ours == "[]", line
        assert int(count) < 50, line
