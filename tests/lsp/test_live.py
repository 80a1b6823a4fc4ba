"""Checks kept alive between edits (archc/lsp/live.py, issue 23): a check made with a document's
live state (parsing and elaborating again only what an edit changed, where
archc.frontend.incremental and archc.ir.resume provide it) is exactly a whole check of the same
text, on random program edits of zoo specs and of a spec with errors, warnings and an import whose
library changes; and the server publishes, for each program edit, what a whole check says."""
from __future__ import annotations

import random
import sys
import time
from pathlib import Path

import pytest

from archc.lsp import analysis, live
from archc.lsp.analysis import ParseCache, check
from archc.lsp.project import Project

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(Path(__file__).parent))
from test_incremental import BROKEN_LIBRARY, LIBRARY, MODEL, WRONG_IN_BLOCK, publishable  # noqa: E402

class WholeSession:
    """A stand-in for archc.ir.resume.Session that elaborates the whole spec every time: the
    live state's own part (the model built as from_spec builds it, what was imported) is tested
    whether or not the real one is there."""

    def __init__(self, file: str, hyperparams: dict | None = None, strict: bool = False, reuse=None):
        self.file, self.hyperparams, self.strict, self.reuse = file, hyperparams, strict, reuse

    def elaborate(self, spec, warnings: list | None = None):
        from archc.ir.elaborate import elaborate
        return elaborate(spec, self.file, self.hyperparams, strict=self.strict, warnings=warnings)


def whole_reparse(previous, previous_text: str, text: str, file: str):
    from archc.frontend import parse_dsl
    return parse_dsl(text, file)


@pytest.fixture(params=["installed", "stand-ins"])
def apis(request, monkeypatch):
    """Each test with the resuming APIs as installed (where they are missing, whole parses and
    elaborations), and with stand-ins doing whole ones through the live state's resuming path."""
    if request.param == "stand-ins":
        monkeypatch.setattr(live, "Session", WholeSession)
        monkeypatch.setattr(live, "reparse", whole_reparse)
        monkeypatch.setattr(live, "parse_remembered", lambda text, file: whole_reparse(None, "", text, file))
        monkeypatch.setattr(live, "RESUMABLE", True)
    return request.param


STATEMENTS = ["_extra = x -> reluu", "_more = x -> conv2d(4, 3)", "_bad = x -> conv2d(4, 3",
              "param _p = 3", "_pool = x -> maxpool(2)", "output _o = x -> flatten -> linear(7)"]


def program_edit(rng: random.Random, text: str) -> str:
    """A random edit that changes the program: a statement appended, inserted or removed, a
    number changed, a syntax error, an import dropped; or a comment added at the end of a line
    (an import's, a param's or an input's too: the next edit still resumes, archc.ir.resume)."""
    lines = text.rstrip("\n").split("\n")
    code = [i for i, line in enumerate(lines) if line.strip() and not line.lstrip().startswith("#")]
    kind = rng.random()
    if kind < 0.3:
        lines.append(rng.choice(STATEMENTS))
    elif kind < 0.45:
        lines.insert(rng.choice(code) + 1, rng.choice(STATEMENTS))
    elif kind < 0.67:
        i = rng.choice(code)
        lines[i] = lines[i] + "  # a note"
    elif kind < 0.75:
        i = rng.choice(code)
        digits = [k for k, ch in enumerate(lines[i]) if ch.isdigit()]
        if digits:
            k = rng.choice(digits)
            lines[i] = lines[i][:k] + str(rng.randint(1, 9)) + lines[i][k + 1:]
    elif kind < 0.9 and len(code) > 2:
        del lines[rng.choice(code[1:])]
    else:
        i = rng.choice(code)
        lines[i] = lines[i] + rng.choice([" ->", " (", ")", " + 1"])
    return "\n".join(lines) + "\n"


def shapes(result: analysis.CheckResult) -> list | None:
    if result.model is None:
        return None
    return [(n.id, n.shape) for n in result.model.graph.layers()]


def same_as_whole(project: Project, kept: analysis.CheckResult, whole: analysis.CheckResult) -> None:
    assert publishable(project, kept) == publishable(project, whole)
    assert [(w.code, w.message, w.loc) for w in kept.warnings] == [(w.code, w.message, w.loc) for w in whole.warnings]
    assert shapes(kept) == shapes(whole) and kept.partial == whole.partial and kept.library == whole.library
    assert kept.imported == whole.imported
    assert kept.internal is None and whole.internal is None


def run_program_edits(path: Path, text: str, steps: int, seed: int, project: Project | None = None,
                      library: Path | None = None) -> int:
    """`steps` random program edits (some going back to an earlier text, some changing the
    imported library when there is one), each checked with the live state and whole; returns
    how many of the checks had errors."""
    project = project or Project(ParseCache())
    state = live.Live(str(path), "arch")
    rng = random.Random(seed)
    seen = [text]
    errors = 0
    first = check(text, "arch", str(path), project.cache, live=state)
    same_as_whole(project, first, check(text, "arch", str(path), project.cache))
    for _ in range(steps):
        if library is not None and rng.random() < 0.1:  # the library edited in the editor
            project.cache.set_overlay(str(library), rng.choice([LIBRARY, BROKEN_LIBRARY, WRONG_IN_BLOCK]))
        text = rng.choice(seen) if rng.random() < 0.1 else \
            program_edit(rng, seen[0] if rng.random() < 0.5 else rng.choice(seen[-3:]))
        seen.append(text)
        kept = check(text, "arch", str(path), project.cache, live=state)
        whole = check(text, "arch", str(path), project.cache)
        same_as_whole(project, kept, whole)
        errors += bool(whole.errors)
    return errors


@pytest.mark.usefixtures("apis")
@pytest.mark.parametrize("spec, steps", [("torchvision/densenet121.arch", 30), ("resnet18.arch", 40),
                                         ("unet_keras.arch", 25), ("mobilenet_v2.arch", 25)])
def test_a_live_check_is_a_whole_check_on_zoo_specs(spec, steps):
    path = ROOT / "specs" / spec
    errors = run_program_edits(path, path.read_text(), steps, seed=len(spec))
    assert 0 < errors < steps  # edits both valid and not


@pytest.mark.usefixtures("apis")
def test_a_live_check_is_a_whole_check_with_errors_warnings_and_a_changing_import(tmp_path):
    (tmp_path / "lib.arch").write_text(LIBRARY)
    project = Project(ParseCache())
    run_program_edits(tmp_path / "model.arch", MODEL, 80, seed=7, project=project, library=tmp_path / "lib.arch")


@pytest.mark.usefixtures("apis")
def test_a_long_flat_spec(tmp_path):
    sys.path.insert(0, str(ROOT / "tools"))
    import synthetic_specs
    path = tmp_path / "flat.arch"
    run_program_edits(path, synthetic_specs.flat(300), 12, seed=3)


@pytest.mark.usefixtures("apis")
def test_a_library_edited_on_disk_and_a_limit_start_the_state_afresh(tmp_path, monkeypatch):
    lib = tmp_path / "lib.arch"
    lib.write_text(LIBRARY)
    path = str(tmp_path / "model.arch")
    cache = ParseCache()
    state = live.Live(path, "arch")
    ok = check(MODEL, "arch", path, cache, live=state)
    assert analysis.canonical(str(lib)) in ok.imported
    time.sleep(0.01)
    lib.write_text(WRONG_IN_BLOCK)  # a new modification time: the block's error is said
    kept = check(MODEL, "arch", path, cache, live=state)
    assert [e.code for e in kept.errors] == [e.code for e in check(MODEL, "arch", path, cache).errors]
    assert any(e.loc is not None and e.loc.file.endswith("lib.arch") for e in kept.errors)
    # a limit reached: nothing kept to resume from
    monkeypatch.setenv("ARCHC_MAX_EVAL_SECONDS", "0.000001")
    slow = "input x: [1, 3, 8, 8]\nn = sum([i for i in range(3000000)])\noutput y = x -> conv2d(n % 4 + 1, 3)\n"
    limited = check(slow, "arch", path, cache, live=state)
    assert [e.code[:7] for e in limited.errors] == ["E-LIMIT"]
    assert state.spec is None and state.session is None and not state.resumes


@pytest.mark.usefixtures("apis")
def test_a_model_checked_before_is_not_changed_by_later_checks(tmp_path):
    """Hover and the carried-over results read a kept check's model while later edits are
    checked with the same state."""
    path = ROOT / "specs" / "resnet18.arch"
    text = path.read_text()
    cache = ParseCache()
    state = live.Live(str(path), "arch")
    first = check(text, "arch", str(path), cache, live=state)
    before = shapes(first)
    rng = random.Random(5)
    for _ in range(10):
        check(program_edit(rng, text), "arch", str(path), cache, live=state)
    assert shapes(first) == before


# ----------------------------------------------------------------------------- the server

pytest_lsp = pytest.importorskip("pytest_lsp")
sys.path.insert(0, str(ROOT / "tools"))
import lsp_streams  # noqa: E402


def test_the_server_publishes_a_whole_checks_diagnostics_for_program_edits(tmp_path):
    densenet = ROOT / "specs" / "torchvision" / "densenet121.arch"
    conn = lsp_streams.Connection(cwd=str(tmp_path))
    uri = densenet.as_uri()
    project = Project(ParseCache())

    def published(version: int, timeout: float = 30.0) -> list:
        deadline = time.monotonic() + timeout
        while True:
            message = conn.notifications.get(timeout=max(0.01, deadline - time.monotonic()))
            params = message.get("params") or {}
            if message.get("method") == "textDocument/publishDiagnostics" and params.get("uri") == uri \
                    and params.get("version") == version:
                return params["diagnostics"]

    def whole(text: str) -> list:
        result = check(text, "arch", str(densenet), project.cache)
        return [((d.span.line, d.span.col, d.span.end_line, d.span.end_col), d.message, d.code,
                 2 if d.severity == "warning" else 1)
                for d in analysis.diagnostics(result, project.cache, project.import_closures)[str(densenet)]]

    def said(diags: list) -> list:
        return [((d["range"]["start"]["line"], d["range"]["start"]["character"], d["range"]["end"]["line"],
                  d["range"]["end"]["character"]), d["message"], d.get("code"), d["severity"]) for d in diags]

    try:
        conn.initialize(tmp_path.as_uri(), {"debounce": 0})
        text = densenet.read_text()
        conn.open(uri, text)
        assert published(1) == []
        rng = random.Random(11)
        current = text
        for version in range(2, 22):
            current = program_edit(rng, text if rng.random() < 0.3 else current)
            conn.send({"jsonrpc": "2.0", "method": "textDocument/didChange", "params": {
                "textDocument": {"uri": uri, "version": version}, "contentChanges": [{"text": current}]}})
            assert said(published(version)) == whole(current), current
    finally:
        assert conn.close() == 0


# ------------------------------------------------------------ reuse carried between elaborations
# archc.ir.resume.Session carries the block-reuse templates and patterns from one elaboration to
# the next (an instance alike one of an earlier version replays it): each check must still be
# exactly a whole check, graph and all, when block definitions, imported files, parameter defaults
# and the model's statements change.

sys.path.insert(0, str(ROOT / "tests" / "elaboration"))
from test_resume import fingerprint  # noqa: E402

BLOCKS = """\
model Blocks
import "lib.arch"
param width = 8
input x: [N, 3, 16, 16]

block Unit(c, k = 3)(x) {
  return x -> conv2d(c, k, padding=k // 2) -> batchnorm2d -> relu
}

block Stage(c, n)(x) {
  return x -> repeat(n, Unit(c, name=f"unit{i}"))
}

a = x -> Stage(width, 2, name=s1)
b = a -> Stage(width, 3, name=s2) -> Stage(width, 2, name=s3)
c = b -> Unit(width * 2) -> Lib(width * 2)
output y = c -> Unit(width * 2) -> Lib(width * 2) -> global_avgpool -> linear(10)
"""
BLOCKS_LIBRARY = "block Lib(c)(x) {\n  return x -> conv2d(c, 1) -> relu\n}\n"
BLOCK_EDITS = ["_t = a", "_u = x -> Unit(width)", "_v = b -> Stage(width, 2)", "_w = c -> Unit(4, 5)",
               "_z = x -> Unit(width) -> reluu", "h = x -> relu"]


def block_edit(rng: random.Random, text: str) -> str:
    """A program edit (test_live's), or a statement of BLOCK_EDITS appended or inserted, a line
    added at the top (every block moved), or a number changed inside a block definition."""
    kind = rng.random()
    lines = text.rstrip("\n").split("\n")
    if kind < 0.2:
        anchors = [i for i, line in enumerate(lines) if line.startswith("a =")]  # (an edit may have removed it)
        at = len(lines) if rng.random() < 0.6 or not anchors else anchors[0]
        lines.insert(at, rng.choice(BLOCK_EDITS))
    elif kind < 0.3:
        lines.insert(0, "# moved")
    elif kind < 0.45:
        i = rng.choice([i for i, line in enumerate(lines) if line.startswith(("block", "  return"))])
        lines[i] = lines[i].replace(rng.choice(["3", "1", "2"]), str(rng.randint(1, 5)), 1)
    else:
        return program_edit(rng, text)
    return "\n".join(lines) + "\n"


def same_graph(kept: analysis.CheckResult, whole: analysis.CheckResult) -> None:
    """The same graph as a whole check's, everything a back end reads (the partial one too)."""
    assert (kept.model is None) == (whole.model is None)
    if kept.model is not None:
        assert fingerprint(kept.model.graph) == fingerprint(whole.model.graph)
        assert kept.model._params == whole.model._params  # (the size check's count)
    assert [(e.code, e.render()) for e in kept.errors] == [(e.code, e.render()) for e in whole.errors]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_carried_reuse_gives_a_whole_checks_graph(tmp_path, seed):
    """Random edits of a spec whose blocks are used several times (templates, patterns) and
    which imports a library that is edited too; now and then the document closed and opened
    again, its next state given the stores of the last."""
    lib = tmp_path / "lib.arch"
    lib.write_text(BLOCKS_LIBRARY)
    path = str(tmp_path / "blocks.arch")
    project = Project(ParseCache())
    state = live.Live(path, "arch")
    rng = random.Random(seed)
    text = parsed = BLOCKS
    resumed = 0
    for _ in range(40):
        if rng.random() < 0.08:
            project.cache.set_overlay(str(lib), BLOCKS_LIBRARY.replace("conv2d(c, 1)", rng.choice(
                ["conv2d(c, 1)", "conv2d(c, 3, padding=1)", "conv2d(c + 1, 1)"])))
        if rng.random() < 0.1:  # closed and opened again (the server hands the stores over), or afresh
            state, reuse = live.Live(path, "arch"), state.reuse
            state.reuse = reuse
        kept = check(text, "arch", path, project.cache, live=state)
        whole = check(text, "arch", path, project.cache)
        same_as_whole(project, kept, whole)
        same_graph(kept, whole)
        if state.elaborated:
            resumed += state.session.resumed_at is not None
            parsed = text
        text = block_edit(rng, BLOCKS if rng.random() < 0.3 else parsed)
    assert resumed > 5


def test_reuse_is_carried_to_the_next_edits_elaboration():
    """DenseNet-121's model is one statement, elaborated again on every program edit: from the
    third elaboration on, its features (428 layers) are a replayed template."""
    from archc.ir.elaborate import Elaborator
    path = ROOT / "specs" / "torchvision" / "densenet121.arch"
    text = path.read_text()
    cache = ParseCache()
    state = live.Live(str(path), "arch")
    evaluated = []
    real = Elaborator._run_body

    def counting(self, *args, **kwargs):
        evaluated.append(kwargs.get("where"))
        return real(self, *args, **kwargs)
    mistake = text + "_typo = x -> conv2dd(8, 1)\n"
    for edit in (text, mistake, text):
        check(edit, "arch", str(path), cache, live=state)
    try:
        Elaborator._run_body = counting
        kept = check(mistake, "arch", str(path), cache, live=state)
    finally:
        Elaborator._run_body = real
    assert state.session.resumed_at == 0
    assert evaluated == ["block DenseNet"]  # (inline: never a template) the features replayed
    same_graph(kept, check(mistake, "arch", str(path), cache))


def test_an_error_reported_once_is_not_hidden_by_a_carried_template():
    """An instance that meets an error reported before (a block body's unused name, reported
    once for every instance) may become a template within that elaboration: carried to the next,
    it would hide the error there."""
    text = ("model Hidden\ninput x: [N, 3, 8, 8]\nblock B(c)(x) {\n  _ = x\n  y = x -> relu\n"
            "  return x -> conv2d(c, 1)\n}\na = x -> B(4) -> B(4) -> B(4)\noutput o = a\n")
    cache = ParseCache()
    state = live.Live("hidden.arch", "arch")
    for edit in (text, text.replace("output o = a", "output o = a -> relu"), text):
        kept = check(edit, "arch", "hidden.arch", cache, live=state)
        assert [e.code for e in kept.errors] == ["E-NAME-UNUSED"]
        same_graph(kept, check(edit, "arch", "hidden.arch", cache))


def test_a_name_given_after_the_statement_resumed_at_is_taken_back():
    """`b = a` after the statement an edit changed names a layer made before it: resuming
    must not name it twice."""
    text = "model M\ninput x: [N, 3, 8, 8]\na = x -> relu\nc = a -> relu\nb = a\noutput y = b + c\n"
    cache = ParseCache()
    state = live.Live("m.arch", "arch")
    for edit in (text, text.replace("c = a -> relu", "c = a -> sigmoid"), text):
        kept = check(edit, "arch", "m.arch", cache, live=state)
        assert [n.tensor_names for n in kept.model.graph.layers()][1] == ["a", "b"]
        same_graph(kept, check(edit, "arch", "m.arch", cache))


SIZES = """\
model Sizes
input x: [N, 8, 32, 32]
a = x -> conv2d(16, 3, padding=1)
b = a -> relu
c = b -> flatten
output y = c -> linear(10)
"""


@pytest.mark.parametrize("seed", [1, 2])
def test_the_size_check_of_the_layers_an_edit_changed_is_a_whole_ones(seed):
    """archc.lsp.sizes.SizeSums on a session's successive graphs: check_sizes' errors, warnings
    and parameter count, with totals crossing the warning and error lines, symbolic sizes and
    shared layers."""
    from archc.analysis.metrics import check_sizes
    from archc.errors import SpecErrors
    from archc.frontend.dsl import parse_dsl
    from archc.ir.resume import Session
    from archc.lsp.sizes import SizeSums
    rng = random.Random(seed)
    session, sums = Session("sizes.arch"), SizeSums()
    lines = SIZES.splitlines()
    statements = ["_d = b -> conv2d(4, 1)", "_e = c -> linear(2000000)", "_f = c -> linear(10 ** 9)",
                  "_g = x -> upsample(20000)", "_k = x -> conv2d(8, 3, padding=1) -> upsample(200000)",
                  "s = shared(conv2d(8, 3, padding=1))\n_h = x -> s\n_i = x -> s", "_j = x -> reshape([2, 4, -1])"]
    checked = 0
    for _ in range(30):
        text = lines[:2 + rng.randint(0, 3)] + rng.sample(statements, rng.randint(0, 3))
        body = "\n".join(text + [s for s in lines[2:-1] if s not in text] + [lines[-1]]) + "\n"
        if rng.random() < 0.3:
            body = body.replace("[N, 8, 32, 32]", rng.choice(["[N, 8, H, W]", "[1, 8, 32, 32]"]))
        try:
            graph = session.elaborate(parse_dsl(body, "sizes.arch"))
        except SpecErrors:  # (no size check)
            continue
        whole, kept = check_sizes(graph), sums.check(graph)
        assert [e.render() for e in kept.errors] == [e.render() for e in whole.errors]
        assert [w.render() for w in kept.warnings] == [w.render() for w in whole.warnings]
        assert kept.params == whole.params
        checked += 1
    assert checked > 10
