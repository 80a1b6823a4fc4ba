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

    def __init__(self, file: str, hyperparams: dict | None = None, strict: bool = False):
        self.file, self.hyperparams, self.strict = file, hyperparams, strict

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
    number changed, a syntax error, an import dropped."""
    lines = text.rstrip("\n").split("\n")
    code = [i for i, line in enumerate(lines) if line.strip() and not line.lstrip().startswith("#")]
    kind = rng.random()
    if kind < 0.3:
        lines.append(rng.choice(STATEMENTS))
    elif kind < 0.45:
        lines.insert(rng.choice(code) + 1, rng.choice(STATEMENTS))
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
