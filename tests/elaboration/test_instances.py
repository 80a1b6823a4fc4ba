"""Reuse of block instances (archc.ir.instances): a graph built by replaying the first instance of
a block for the identical ones equals, field by field, the graph built by evaluating every
instance, for every spec of the zoo, and the cases where an instance must not be reused are
evaluated."""
from __future__ import annotations

from pathlib import Path

import pytest

import archc
from archc.ir import instances
from archc.ir.elaborate import Elaborator
from archc.model import Model

ROOT = Path(__file__).resolve().parents[2]
ZOO = sorted((ROOT / "specs").glob("*.arch")) + sorted((ROOT / "specs").glob("*.yaml")) + \
    sorted((ROOT / "specs" / "torchvision").glob("*.arch"))


def _load(path_or_text, reuse: bool, monkeypatch, **kwargs) -> Model:
    monkeypatch.setattr(instances, "REUSE_INSTANCES", reuse)
    if isinstance(path_or_text, Path):
        return archc.load(path_or_text, **kwargs)
    return archc.loads(path_or_text, **kwargs)


def _layer_fields(model: Model) -> list[tuple]:
    g = model.graph
    out = []
    for node_id in g.dag.nodes:
        n = g.dag.nodes[node_id]["layer"]
        out.append((n.id, n.op_name, dict(n.attrs), list(n.inputs), n.shape, n.loc, n.scope, n.frozen, n.init,
                    n.bias_init, list(n.tensor_names), list(n.tensor_scopes), n.training_only))
    return out + sorted((tail, head, data["port"]) for tail, head, data in g.dag.edges())


def _scope_fields(model: Model) -> list[tuple]:
    return [(s.path, s.kind, s.type_name, s.loc, s.args, s.inputs, s.input_names, s.outputs)
            for s in model.graph.scopes.values()]


def _assert_same(evaluated: Model, replayed: Model) -> None:
    assert _layer_fields(replayed) == _layer_fields(evaluated)
    assert sorted(_scope_fields(replayed)) == sorted(_scope_fields(evaluated))
    g, h = evaluated.graph, replayed.graph
    assert (h.inputs, h.outputs, h.hyperparams, h.training_outputs) == (g.inputs, g.outputs, g.hyperparams, g.training_outputs)
    assert h.assumptions.describe() == g.assumptions.describe()
    assert [str(w) for w in replayed.warnings] == [str(w) for w in evaluated.warnings]


def _count_replays(monkeypatch) -> list[int]:
    """Replays of templates (not instantiated patterns, archc.ir.patterns, which give attributes)."""
    replays = [0]
    original = instances.Template.replay

    def counting(self, *args, **kwargs):
        replays[0] += kwargs.get("attrs") is None
        return original(self, *args, **kwargs)
    monkeypatch.setattr(instances.Template, "replay", counting)
    return replays


@pytest.mark.parametrize("spec", ZOO, ids=lambda p: str(p.relative_to(ROOT / "specs")))
def test_zoo_graph_equal_with_and_without_reuse(spec: Path, monkeypatch) -> None:
    _assert_same(_load(spec, False, monkeypatch), _load(spec, True, monkeypatch))


def test_resnet152_evaluates_eight_of_fifty_bottlenecks(monkeypatch) -> None:
    # layer1..layer4 hold 3, 8, 36, 3 units; in each stage the first (stride or width change)
    # differs from the others, which are alike: a repeat's second copy, the first of its kind,
    # is evaluated and recorded, the rest replayed (1 + 6 + 34 + 1)
    replays = _count_replays(monkeypatch)
    model = _load(ROOT / "specs" / "resnet152.arch", True, monkeypatch)
    assert replays[0] == 42
    assert model.params == 60_192_808  # torchvision's resnet152 (tests/zoo/test_golden_lenet_resnet_unet.py)


BLOCK = """
block Unit(c, stride = 1)(x) {
  y = x -> conv2d(c, 3, stride=stride, padding=1) -> relu
  s = x if stride == 1 and x.channels == c else x -> conv2d(c, 1, stride=stride, name=proj)
  return y + s
}
input x: [N, 8, 32, 32]
"""


def test_options_of_the_recorded_instance_do_not_reach_the_next(monkeypatch) -> None:
    text = BLOCK + """
a = x -> Unit(8)
b = a -> Unit(8, frozen=true, init="zeros")
c = b -> Unit(8)
output y = c
"""
    replays = _count_replays(monkeypatch)
    model = _load(text, True, monkeypatch)
    assert replays[0] == 1  # c, from b's template
    options = {n.id: (n.frozen, n.init) for n in model.graph.layers()}
    assert options["b.conv2d"] == (True, "zeros")  # (a statement's one call: named after its tensor)
    assert options["c.conv2d"] == (False, None)
    _assert_same(_load(text, False, monkeypatch), model)


def test_an_identity_shortcut_names_the_new_input(monkeypatch) -> None:
    text = BLOCK + "output y = x -> repeat(4, Unit(8))\n"
    replays = _count_replays(monkeypatch)
    model = _load(text, True, monkeypatch)
    assert replays[0] == 2
    for k in (1, 2, 3):  # the unit before's result is this unit's `s`
        fed = model.graph.dag.nodes[f"y.{k - 1}.add"]["layer"]
        assert ("s", ("y", str(k))) in zip(fed.tensor_names, fed.tensor_scopes)
    _assert_same(_load(text, False, monkeypatch), model)


def test_same_shapes_other_aliasing_is_evaluated(monkeypatch) -> None:
    text = """
block Pair(c)(a, b) {
  return (a -> conv2d(c, 1)) + (b -> conv2d(c, 1))
}
input x: [N, 8, 16, 16]
input z: [N, 8, 16, 16]
p = Pair(x, x, 4)
q = Pair(x, x, 4)
r = Pair(x, z, 4)
output y = p + q + r
"""
    replays = _count_replays(monkeypatch)
    model = _load(text, True, monkeypatch)
    assert replays[0] == 0  # Pair(x, x) reads one node twice, Pair(x, z) two: not alike
    assert model.graph.dag.nodes["r.conv2d_1"]["layer"].inputs == ["z"]
    _assert_same(_load(text, False, monkeypatch), model)


def test_an_instance_with_a_warning_is_not_a_template(monkeypatch) -> None:
    text = """
block Head(n)(x) {
  return x -> linear(n)
}
input x: [N, 8, 4, 4]
output y = x -> Head(4) -> Head(4) -> Head(4)
"""
    replays = _count_replays(monkeypatch)
    model = _load(text, True, monkeypatch)
    assert replays[0] == 0
    assert [w.code for w in model.warnings] == ["W-SHAPE-LINEAR-FEATURE-MAP"]
    _assert_same(_load(text, False, monkeypatch), model)


def test_an_instance_recording_assumptions_is_not_a_template(monkeypatch) -> None:
    text = """
block Down(c)(x) {
  return x -> conv2d(c, 3, stride=2, padding=1) -> maxpool2d(2)
}
input x: [N, 3, H, W]
a = x -> Down(8)
b = x -> Down(8)
c = x -> Down(8)
output y = a + b + c
"""
    replays = _count_replays(monkeypatch)
    model = _load(text, True, monkeypatch)
    assert replays[0] == 0
    evaluated = _load(text, False, monkeypatch)
    _assert_same(evaluated, model)
    assert model.constraints == evaluated.constraints and model.constraints


def _errors(text: str, reuse: bool, monkeypatch) -> list[str]:
    with pytest.raises(archc.SpecErrors) as info:
        _load(text, reuse, monkeypatch)
    return [str(e) for e in info.value.errors]


def test_limits_are_reported_as_evaluation_reports_them(monkeypatch) -> None:
    # the instance that would cross a limit is evaluated, not replayed: same errors, same place
    layers = BLOCK + "output y = x -> repeat(12, Unit(8))\n"
    lists = """
block Big(c)(x) {
  n = len(range(1000000))
  return x -> conv2d(c + n - 1000000, 1) -> relu
}
input x: [N, 8, 8, 8]
output y = x -> repeat(11, Big(8))
"""
    for text, code, max_layers in ((layers, "E-LIMIT-LAYERS", "20"), (lists, "E-LIMIT-LIST-SIZE", "1000")):
        monkeypatch.setenv("ARCHC_MAX_LAYERS", max_layers)
        replays = _count_replays(monkeypatch)
        reused = _errors(text, True, monkeypatch)
        assert replays[0] > 0
        assert reused == _errors(text, False, monkeypatch)
        assert [f"error[{code}]" in e for e in reused] == [True]


def test_a_layer_parameter_is_part_of_the_key(monkeypatch) -> None:
    text = """
block Wrap(unit)(x) {
  return x -> unit
}
input x: [N, 8, 16, 16]
a = x -> repeat(3, Wrap(conv2d(8, 3, padding=1)))
b = a -> repeat(3, Wrap(conv2d(8, 5, padding=2)))
output y = b
"""
    replays = _count_replays(monkeypatch)
    model = _load(text, True, monkeypatch)
    assert replays[0] == 2
    kernels = [n.attrs.kernel for n in model.graph.layers() if n.op_name == "conv2d"]
    assert kernels == [(3, 3)] * 3 + [(5, 5)] * 3
    _assert_same(_load(text, False, monkeypatch), model)


def test_no_template_of_an_inline_block(monkeypatch) -> None:
    seen = []
    original = Elaborator.run

    def run(self):
        graph = original(self)
        seen.append(len(self.templates))
        return graph
    monkeypatch.setattr(Elaborator, "run", run)
    _load(BLOCK + "output y = x -> Unit(8, inline=true) -> Unit(8, inline=true) -> Unit(8, inline=true)\n",
          True, monkeypatch)
    assert seen == [0]


def _outcome(text: str, file: str, reuse: bool, monkeypatch) -> tuple:
    monkeypatch.setattr(instances, "REUSE_INSTANCES", reuse)
    try:
        model = archc.loads(text, "arch", file=file)
    except archc.SpecErrors as e:
        return ("errors", [str(x) for x in e.errors])
    return ("ok", _layer_fields(model), sorted(_scope_fields(model), key=str),
            model.graph.assumptions.describe(), [str(w) for w in model.warnings])


def test_mutants_of_the_zoo_elaborate_alike_with_and_without_reuse(monkeypatch) -> None:
    """Differential: mutants of zoo specs (tools/fuzz_campaign.py's mutations: numbers, names,
    tokens changed) give the same graph, or the same errors, either way. A longer run of the same
    comparison (tens of thousands of mutants) found no difference."""
    import random
    import sys
    sys.path.insert(0, str(ROOT / "tools"))
    import fuzz_campaign as fz
    rng = random.Random(11)
    specs = [p for p in ZOO if p.suffix == ".arch" and "import" in p.read_text()]
    outcomes = {"ok": 0, "errors": 0}
    for _ in range(150):
        spec = rng.choice(specs)
        text = fz.mutate(rng, spec.read_text(), "arch")
        reused = _outcome(text, str(spec), True, monkeypatch)
        assert reused == _outcome(text, str(spec), False, monkeypatch), text
        outcomes[reused[0]] += 1
    assert outcomes["ok"] >= 20 and outcomes["errors"] >= 20, outcomes
