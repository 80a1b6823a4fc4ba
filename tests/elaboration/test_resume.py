"""archc.ir.resume.Session: an elaboration resumed from the first statement an edit changed gives
exactly what a whole elaboration gives (graph, errors, partial graph, warnings), and leaves the
graphs it gave before as they were. Random edits of a flat spec and of zoo models: a number
changed, a statement added, deleted, duplicated, misspelt, and the original back."""
from __future__ import annotations

import random
import sys
from pathlib import Path

import pytest

from archc.errors import SpecErrors
from archc.frontend import incremental
from archc.frontend.dsl import parse_dsl
from archc.ir.elaborate import elaborate
from archc.ir.resume import Session

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))
import synthetic_specs  # noqa: E402


def fingerprint(graph) -> tuple:
    """Everything a graph holds that a back end reads."""
    if graph is None:
        return ()
    layers = [(n, repr((layer.op_name, layer.attrs, layer.inputs, layer.shape, layer.loc, layer.scope,
                        layer.frozen, layer.init, layer.bias_init, layer.tensor_names, layer.tensor_scopes,
                        layer.training_only, layer.unused, layer.shares, data)))
              for n, data in graph.dag.nodes.items() for layer in [data["layer"]]]
    edges = [(t, h, dict(d)) for t, h, d in graph.dag.edges()]
    scopes = [(p, repr((s.kind, s.type_name, s.loc, s.args, s.inputs, s.input_names, s.outputs, s.shares)))
              for p, s in graph.scopes.items()]
    inference = graph.inference_assumptions.describe() if graph.inference_assumptions else None
    return (graph.name, layers, edges, scopes, graph.assumptions.describe(), inference, graph.inputs,
            graph.outputs, repr(graph.hyperparams), graph.training_outputs, graph.returns, graph.partial,
            repr(graph.overrides), graph.source_file)


def outcome(run) -> tuple:
    warnings: list = []
    try:
        graph = run(warnings)
    except SpecErrors as errors:
        return ("errors", [(e.code, e.render()) for e in errors.errors], fingerprint(errors.partial)), None
    return ("graph", fingerprint(graph), [(w.code, w.render()) for w in warnings]), graph


def body_lines(text: str, path: str) -> list[int]:
    spec = parse_dsl(text, path)
    return [s.loc.line - 1 for s in spec.body if s.loc and s.loc.file == path]


def edit(text: str, original: str, path: str, rng: random.Random) -> str:
    lines = text.splitlines()
    statements = body_lines(text, path)
    kind = rng.choice(["number", "number", "append", "delete", "duplicate", "typo", "original"])
    if kind == "original" or not statements:
        return original
    k = rng.choice(statements[-8:] if rng.random() < 0.7 else statements)  # mostly near the end
    line = lines[k]
    if kind == "number":
        digits = [i for i, c in enumerate(line) if c.isdigit() and (i == 0 or not line[i - 1].isalnum())]
        if digits:
            i = rng.choice(digits)
            lines[k] = line[:i] + str(rng.choice([1, 2, 3, 8])) + line[i + 1:]
    elif kind == "append":
        target = line.split("=")[0].split(",")[0].strip()
        lines.insert(statements[-1] + 1, f"added{k} = {target} -> relu")
    elif kind == "delete":
        del lines[k]
    elif kind == "duplicate":
        lines.insert(k + 1, line)
    else:
        lines[k] = line.replace("relu", "reluu").replace("conv2d", "conv2dd")
    return "\n".join(lines) + "\n"


def check_edits(text: str, path: str, steps: int, seed: int, reparse: bool = False) -> int:
    """Random edits; with `reparse`, parsed by archc.frontend.incremental (which keeps the
    statements an edit did not touch, so that the session finds them by identity)."""
    rng = random.Random(seed)
    session = Session(path)
    kept: list[tuple] = []  # the session's earlier graphs and their fingerprints then
    resumed = 0
    current, previous = text, None
    for _ in range(steps):
        try:
            if reparse and previous is not None:
                spec = incremental.reparse(previous[0], previous[1], current, path)
            else:
                spec = incremental.parse(current, path) if reparse else parse_dsl(current, path)
        except SpecErrors:
            current, previous = text, None
            continue
        previous = (spec, current)
        expected, _ = outcome(lambda w, spec=spec: elaborate(spec, path, {}, warnings=w))
        got, graph = outcome(lambda w, spec=spec: session.elaborate(spec, w))
        assert got == expected, f"resumed at {session.resumed_at}:\n{current}"
        resumed += session.resumed_at is not None
        for earlier, print_then in kept:
            assert fingerprint(earlier) == print_then, "a later elaboration changed an earlier graph"
        if graph is not None:
            kept = (kept + [(graph, fingerprint(graph))])[-3:]
        current = edit(current, text, path, rng)
    return resumed


@pytest.mark.parametrize("seed", [1, 2])
def test_flat_spec_edits_resume_to_the_same_results(seed: int) -> None:
    resumed = check_edits(synthetic_specs.flat(300), "flat.arch", 40, seed)
    assert resumed >= 10  # most edits near the end resume


def test_flat_spec_edits_parsed_again_in_part_resume_to_the_same_results() -> None:
    resumed = check_edits(synthetic_specs.flat(300), "flat.arch", 40, 5, reparse=True)
    assert resumed >= 10


def test_flat_spec_with_errors_resumes_to_the_same_results() -> None:
    text = synthetic_specs.errors(60)
    resumed = check_edits(text, "errors.arch", 20, 3)
    assert resumed >= 3


@pytest.mark.parametrize("name", ["specs/torchvision/densenet121.arch", "specs/googlenet.arch",
                                  "specs/unet_keras.arch", "specs/mobilenet_v2.arch", "specs/siamese_koch.arch"])
def test_zoo_spec_edits_resume_to_the_same_results(name: str) -> None:
    path = str(ROOT / name)
    check_edits(Path(path).read_text(), path, 14, 7)


def test_an_edit_at_the_end_resumes_there() -> None:
    text = "model M\ninput x: [N, 3, 8, 8]\na = x -> conv2d(4, 3)\nb = a -> relu\noutput y = b\n"
    session = Session("m.arch")
    session.elaborate(parse_dsl(text, "m.arch"))
    assert session.resumed_at is None
    edited = text.replace("b = a -> relu", "b = a -> sigmoid")
    graph = session.elaborate(parse_dsl(edited, "m.arch"))
    assert session.resumed_at == 1
    assert graph.node("b").op_name == "sigmoid"
    header = edited.replace("[N, 3, 8, 8]", "[N, 3, 16, 16]")
    session.elaborate(parse_dsl(header, "m.arch"))
    assert session.resumed_at is None  # another input: elaborated whole


def test_a_comment_on_a_header_line_resumes_and_a_moved_header_does_not(tmp_path) -> None:
    # an editor's note on an import, param or input line changes no value: the edit after it
    # resumes (a DenseNet-121 edit after one went back to the whole model: 19 ms instead of 4)
    (tmp_path / "lib.arch").write_text("block B(c)(x) {\n  return x -> conv2d(c, 3)\n}\n")
    path = str(tmp_path / "m.arch")
    text = ('model M\nimport "lib.arch"\nparam c = 4\ninput x: [N, 3, 8, 8]\n'
            'a = x -> B(c)\nb = a -> relu\noutput y = b\n')
    session = Session(path)
    session.elaborate(parse_dsl(text, path))
    for line in ('import "lib.arch"', "param c = 4", "input x: [N, 3, 8, 8]"):
        noted = text.replace(line, line + "  # a note")
        graph = session.elaborate(parse_dsl(noted, path))
        assert session.resumed_at == 2, line  # no statement changed: resumed past the last
        assert outcome(lambda w: graph)[0] == outcome(lambda w: elaborate(parse_dsl(noted, path), path, {}, warnings=w))[0]
        session.elaborate(parse_dsl(text, path))
        assert session.resumed_at == 2, line
    moved = text.replace('import "lib.arch"\n', '\nimport "lib.arch"\n')
    session.elaborate(parse_dsl(moved, path))
    assert session.resumed_at is None  # its diagnostics would point elsewhere: whole


def test_every_part_of_the_elaborators_state_is_known_to_resume() -> None:
    """A new attribute of the elaborator (or its builder or reporter) must be added to
    archc.ir.resume.CUT (cut back when resuming) or SAME (the same after every statement)."""
    from archc.ir import resume
    session = Session("flat.arch")
    session.elaborate(parse_dsl(synthetic_specs.flat(20), "flat.arch"))
    assert resume.state_names(session._last.elaborator) == resume.CUT | resume.SAME


def test_a_failed_elaborations_changes_to_the_pattern_kinds_are_undone():
    # the session's carried reuse stores go back to what they were before an elaboration that
    # reported an error: the kinds' patterns, and how often each was met and whether it is still
    # recorded (which decide later recordings) too
    from archc.ir import instances, patterns
    text = ("model Kinds\ninput x: [N, 8, 16, 16]\n"
            "block Unit(c, p)(x) {\n  y = x -> conv2d(c, 3, padding=1) -> dropout(p)\n"
            "  return y + x if c == x.channels else y\n}\n"
            "a = x -> Unit(8, 0.1) -> Unit(16, 0.2) -> Unit(16, 0.3) -> Unit(24, 0.1)\noutput o = a\n")
    failing = text + "output z = a -> Unit(32, 0.2) -> Unit(40, 0.3) -> Unit(40, 0.4) -> conv2d(0, 1)\n"
    session = Session("kinds.arch")
    previous, instances.REUSE_INSTANCES = instances.REUSE_INSTANCES, True
    try:
        spec = incremental.parse(text, "kinds.arch")
        session.elaborate(spec)
        kinds = [v for v in session.reuse.templates.values() if type(v) is patterns.Kind]
        assert kinds and any(kind.patterns for kind in kinds)
        before = [kind.state() for kind in kinds]
        edited = incremental.reparse(spec, text, failing, "kinds.arch")  # (Unit: the same block)
        with pytest.raises(SpecErrors):
            session.elaborate(edited)
        stored = list(session.reuse.templates.values())
        assert all(any(v is kind for v in stored) for kind in kinds)  # (kept: the blocks are the same)
        assert [kind.state() for kind in kinds] == before
    finally:
        instances.REUSE_INSTANCES = previous


LIBRARY_3X3 = "block Inner(c)(x) {\n  return x -> conv2d(c, 3, padding=1)\n}\n"
LIBRARY_1X1 = "block Inner(c)(x) {\n  return x -> conv2d(c, 1, padding=0, bias=false)\n}\n"
CALLER = """model M
import "lib.arch"
block Outer(c)(x) {
  return x -> Inner(c) -> relu
}
input x: [1, 8, 16, 16]
a = x -> Outer(8)
b = a -> Outer(8)
output y = b -> Outer(8)
"""


def test_a_library_edited_while_a_check_starts_is_not_replayed_from_the_old_one(tmp_path, monkeypatch) -> None:
    """The import read that decides whether the carried reuse stores still hold is taken before
    the elaboration, which loads the imports itself: a library edited in between must not be
    replayed from templates that hold its old blocks' layers (the caller block is the same object).
    (A resumed elaboration runs with the blocks of the one it resumes, as that import read said.)"""
    import archc.ir.resume as resume
    lib, path = tmp_path / "lib.arch", str(tmp_path / "model.arch")
    lib.write_text(LIBRARY_3X3)
    spec = parse_dsl(CALLER, path)
    session = Session(path)
    session.elaborate(spec)  # Outer's template and pattern made with the 3x3 Inner
    read_before_the_edit = resume._loaded(spec, path)
    lib.write_text(LIBRARY_1X1)  # (another length: the import cache reads it again)
    monkeypatch.setattr(resume, "_loaded", lambda spec, file: read_before_the_edit)
    got = Session(path, reuse=session.reuse).elaborate(spec)  # (a whole elaboration, with the stores)
    expected = elaborate(spec, path, {})
    assert fingerprint(got) == fingerprint(expected)
    assert {layer.attrs.kernel for layer in got.layers() if layer.op_name == "conv2d"} == {(1, 1)}
