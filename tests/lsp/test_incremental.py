"""Re-analysing only what an edit changes (archc/lsp/incremental.py, issue 23): the diagnostics
carried over from a recent check of the same program, lines moved, are exactly those a check of
the whole new text gives, on random edits of zoo specs and of specs with errors, warnings, fixes
and an import. And the server uses it: a comment edit of DenseNet-121 is answered without a check,
a meaning-changing one of a small fast document on the server's thread."""
from __future__ import annotations

import random
import sys
import time
from pathlib import Path

import pytest

from archc.lsp import analysis, incremental
from archc.lsp.analysis import ParseCache, check
from archc.lsp.project import Project

ROOT = Path(__file__).resolve().parents[2]

LIBRARY = """\
# a library with a block
block Stage(c)(x) {
  h = x -> conv2d(c, 3, padding=1)  # its convolution
  return h -> relu
}
"""
BROKEN_LIBRARY = LIBRARY.replace("-> relu", "-> relu(")  # a syntax error in the imported file
WRONG_IN_BLOCK = LIBRARY.replace("-> relu", "-> reluu")  # an error noted "used at line 9"

MODEL = """\
# errors, a warning, fixes and an import
model Errors
import "lib.arch"
param c = 8

input x: [N, 3, 32, 32]
h = x -> conv2d(c, 3, padding=1)  # end-of-line comment
bad = h -> conv2dd(4, 3)
g = h -> Stage(4)
w = h -> maxpool(4, stride=4) -> flatten -> linear(10)
output y = g -> global_avgpool -> linear(10)
output z = w + bad
"""
DUPLICATE_PARAM = "model P\nparam c = 4\nparam c = 5\ninput x: [1, 3, 8, 8]\noutput y = x -> conv2d(c, 3)\n"


def publishable(project: Project, result: analysis.CheckResult, resolve=None) -> dict:
    """The diagnostics as the server publishes them (by file; fixes included)."""
    by_file = analysis.diagnostics(result, project.cache, resolve or project.import_closures)
    return {analysis.canonical(f): [(d.span, d.severity, d.message, d.code, d.related, d.fixes) for d in ds]
            for f, ds in by_file.items()}


def same_diagnostics(project: Project, carried: incremental.Carried, full: analysis.CheckResult) -> bool:
    """The carried result's diagnostics are the whole check's; where its lines did not move, its
    model is the same program's (the shapes hover shows)."""
    if carried.in_place and full.model is not None:
        assert carried.result.model is not None
        assert [(n.id, n.shape) for n in carried.result.model.graph.layers()] == \
            [(n.id, n.shape) for n in full.model.graph.layers()]
    return publishable(project, carried.result, incremental.resolver(project, carried.sites)) == \
        publishable(project, full)


def edit(rng: random.Random, text: str) -> str:
    """A random edit: mostly comments, blank lines and trailing blanks (the same program), some
    changes of code (a different one)."""
    lines = text.split("\n")
    k = rng.randrange(len(lines))
    kind = rng.random()
    if kind < 0.25:
        lines.insert(k, rng.choice(["# a new comment", "", "   ", "  # indented # comment 'quoted'"]))
    elif kind < 0.4:
        lines[k] = lines[k] + rng.choice(["  # trailing", "   ", "\t# tab", "#"])
    elif kind < 0.55:
        removable = [i for i, line in enumerate(lines) if not incremental.code_of(line) and i < len(lines) - 1]
        if removable:
            del lines[rng.choice(removable)]
    elif kind < 0.65:
        lines.insert(k, "\n".join(["# block of comments"] * rng.randint(1, 5)))
    elif kind < 0.75:  # an edit inside a comment
        commented = [i for i, line in enumerate(lines) if "#" in line]
        if commented:
            i = rng.choice(commented)
            lines[i] = lines[i].replace("#", "# edited:", 1)
    elif kind < 0.85:  # code: a statement added, removed or changed
        code = [i for i, line in enumerate(lines) if incremental.code_of(line)]
        i = rng.choice(code)
        choice = rng.random()
        if choice < 0.3:
            lines.insert(i + 1, "_extra = x -> reluu")
        elif choice < 0.6:
            lines[i] = lines[i].replace("3", "5", 1)
        else:
            lines[i] = "  " + lines[i]  # indentation: not a comment change, so a whole check
    else:  # undo-like: back to a text seen before is handled by the caller
        pass
    return "\n".join(lines)


def run_edits(tmp_path: Path, name: str, text: str, files: dict[str, str], steps: int, seed: int) -> tuple[int, int]:
    for file, content in files.items():
        (tmp_path / file).write_text(content)
    path = str(tmp_path / name)
    project = Project(ParseCache())
    bases: list[incremental.Base] = []
    rng = random.Random(seed)
    seen = [text]
    current = text
    result = check(current, "arch", path, project.cache)
    incremental.remember(bases, result, project.cache)
    moved_count = 0
    for step in range(steps):
        current = rng.choice(seen) if rng.random() < 0.1 else edit(rng, current)
        seen.append(current)
        carried = incremental.remapped(bases, current, step, project.cache)
        full = check(current, "arch", path, project.cache)
        if carried is not None:
            moved_count += 1
            assert same_diagnostics(project, carried, full), (step, current)
        incremental.remember(bases, full, project.cache)
    return moved_count, steps


@pytest.mark.parametrize("spec, steps", [("torchvision/densenet121.arch", 25), ("resnet18.arch", 25),
                                         ("unet_keras.arch", 15)])
def test_moved_diagnostics_are_a_whole_checks_on_zoo_specs(spec, steps, tmp_path):
    path = ROOT / "specs" / spec
    # the spec in place (its imports resolve next to it): the text is the editor's, not the file's
    project = Project(ParseCache())
    bases: list[incremental.Base] = []
    rng = random.Random(spec)
    text = path.read_text()
    base = check(text, "arch", str(path), project.cache)
    incremental.remember(bases, base, project.cache)
    moved = 0
    for step in range(steps):
        text = edit(rng, text)
        carried = incremental.remapped(bases, text, step, project.cache)
        full = check(text, "arch", str(path), project.cache)
        if carried is not None:
            moved += 1
            assert same_diagnostics(project, carried, full), text
        incremental.remember(bases, full, project.cache)
    assert moved >= steps // 3


@pytest.mark.parametrize("library", [LIBRARY, BROKEN_LIBRARY])
def test_moved_diagnostics_are_a_whole_checks_with_errors_fixes_and_imports(library, tmp_path):
    moved, steps = run_edits(tmp_path, "model.arch", MODEL, {"lib.arch": library}, 60, seed=len(library))
    assert moved >= steps // 3


def test_what_is_not_carried_over(tmp_path):
    cache = ParseCache()
    (tmp_path / "lib.arch").write_text(LIBRARY)
    path = str(tmp_path / "model.arch")
    bases: list[incremental.Base] = []
    incremental.remember(bases, check(MODEL, "arch", path, cache), cache)
    assert incremental.remapped(bases, "# new\n" + MODEL, 1, cache) is not None
    # back at a checked text: that check, whole, though a newer base means the same
    incremental.remember(bases, check("# new\n" + MODEL, "arch", path, cache), cache)
    carried = incremental.remapped(bases, MODEL, 2, cache)
    assert carried.same_text and carried.result.text == MODEL and carried.result.version == 2
    assert carried.result.model is bases[0].result.model
    # the same places (an end-of-line comment): moved, its model kept
    carried = incremental.remapped(bases, MODEL.replace("padding=1)  #", "padding=1)  # more"), 3, cache)
    assert carried.in_place and not carried.same_text and carried.result.model is not None
    assert incremental.remapped(bases, MODEL.replace("conv2dd(4", "conv2dd(5"), 1, cache) is None  # code
    assert incremental.remapped(bases, MODEL.replace("x -> conv2d", "x  -> conv2d"), 1, cache) is None
    # an imported file changed since: its errors may have too
    cache.set_overlay(str(tmp_path / "lib.arch"), BROKEN_LIBRARY)
    assert incremental.remapped(bases, "# new\n" + MODEL, 1, cache) is None
    # a message naming a line number: no base
    bases = []
    incremental.remember(bases, check(DUPLICATE_PARAM, "arch", path, cache), cache)
    assert bases == []
    cache.set_overlay(str(tmp_path / "lib.arch"), WRONG_IN_BLOCK)
    incremental.remember(bases, check(MODEL, "arch", path, cache), cache)
    assert bases == []
    # a syntax error: no base
    incremental.remember(bases, check("input x: [1, 3, 8, 8]\ny = x -> (\n", "arch", path, cache), cache)
    assert bases == []


def test_line_maps():
    old = "a = 1\n# c\nb = 2  # d\n\nc = 3\n"
    new = "# top\na = 1\nb = 2\n\n\n# more\nc = 3\n"
    m = incremental.line_map(old, new)
    assert m is not None and [m(k) for k in range(5)] == [1, None, 2, None, 6]
    assert incremental.line_map(old, old.replace("b = 2", "b = 3")) is None
    assert incremental.line_map("x = 'a # b'\n", "x = 'a # c'\n") is None  # not a comment: in a string
    assert incremental.line_map("x = a \\\n  + b\n", "x = a\n  + b\n") is None  # the backslash is code
    big = "".join(f"h{i} = x -> relu  # {i}\n" for i in range(5000))
    start = time.perf_counter()
    m = incremental.line_map(big, big.replace("# 2500\n", "# 2500 edited\n# and a line\n"))
    assert time.perf_counter() - start < 0.05
    assert m(2499) == 2499 and m(2500) == 2500 and m(2501) == 2502 and m(4999) == 5000


# ----------------------------------------------------------------------------- the server

pytest_lsp = pytest.importorskip("pytest_lsp")
T = pytest.importorskip("lsprotocol.types")
sys.path.insert(0, str(ROOT / "tools"))
import lsp_streams  # noqa: E402


def test_the_server_answers_comment_edits_and_small_changes_without_a_process(tmp_path):
    densenet = ROOT / "specs" / "torchvision" / "densenet121.arch"
    small = tmp_path / "small.arch"
    conn = lsp_streams.Connection(cwd=str(tmp_path))
    version = 1

    def diagnostics(uri: str, timeout: float = 30.0) -> list:
        deadline = time.monotonic() + timeout
        while True:
            message = conn.notifications.get(timeout=max(0.01, deadline - time.monotonic()))
            if message.get("method") == "textDocument/publishDiagnostics" and message["params"]["uri"] == uri:
                return message["params"]["diagnostics"]

    def change(uri: str, text: str) -> tuple[float, list]:
        nonlocal version
        version += 1
        start = time.monotonic()
        conn.send({"jsonrpc": "2.0", "method": "textDocument/didChange", "params": {
            "textDocument": {"uri": uri, "version": version}, "contentChanges": [{"text": text}]}})
        found = diagnostics(uri)
        return time.monotonic() - start, found

    try:
        conn.initialize(tmp_path.as_uri(), {"debounce": 0})
        text = densenet.read_text()
        conn.open(densenet.as_uri(), text)
        assert diagnostics(densenet.as_uri()) == []
        mistake = text + "_typo = x -> conv2dd(8, 1)\n"
        took, found = change(densenet.as_uri(), mistake)
        assert [d["code"] for d in found] == ["E-CALL-UNKNOWN-OP"]
        line = found[0]["range"]["start"]["line"]
        # the same program with comments added above: the error moved down two lines, said at once
        took, moved = change(densenet.as_uri(), "# one\n# two\n" + mistake)
        assert [d["code"] for d in moved] == ["E-CALL-UNKNOWN-OP"] and moved[0]["range"]["start"]["line"] == line + 2
        assert took < 0.5
        # back to the text of the first check (an undo): no error, said at once, shapes at once
        took, found = change(densenet.as_uri(), text)
        assert found == [] and took < 0.5
        output_line = text.split("\n").index(next(x for x in text.split("\n") if x.startswith("output")))
        hover = conn.request("textDocument/hover", {"textDocument": {"uri": densenet.as_uri()},
                                                    "position": {"line": output_line, "character": 8}}, "h1", 10)
        assert "[N, 1000]" in str(hover["result"]), hover
        # an end-of-line comment: no line moves, so the shapes hold at once too
        took, found = change(densenet.as_uri(), text.replace("\noutput", "  # a note\noutput"))
        assert found == [] and took < 0.5
        hover = conn.request("textDocument/hover", {"textDocument": {"uri": densenet.as_uri()},
                                                    "position": {"line": output_line, "character": 8}}, "h2", 10)
        assert "[N, 1000]" in str(hover["result"]), hover
        # a small document, checked on the server's thread
        fast = "input x: [1, 3, 8, 8]\ny = x -> conv2d(4, 3)\noutput y\n"
        conn.open(small.as_uri(), fast)
        assert diagnostics(small.as_uri()) == []
        took, found = change(small.as_uri(), fast.replace("conv2d(4, 3)", "conv2d(4, 9)"))
        assert [d["code"] for d in found] and took < 0.5, found
        hover = conn.request("textDocument/hover", {"textDocument": {"uri": small.as_uri()},
                                                    "position": {"line": 1, "character": 0}}, "hover", 10)
        assert hover is not None and "error" not in hover
    finally:
        assert conn.close() == 0


def test_a_few_checks_are_kept_fewer_of_a_long_document(tmp_path):
    cache = ParseCache()
    path = str(tmp_path / "kept.arch")
    base = "input x: [1, 3, 8, 8]\ny = x -> relu\noutput y\n"
    bases: list[incremental.Base] = []
    for k in range(6):
        incremental.remember(bases, check(base.replace("relu", f"relu -> conv2d({k + 1}, 1)"), "arch", path, cache),
                             cache)
    assert len(bases) == incremental.KEPT and "conv2d(6, 1)" in bases[-1].result.text
    long = base + "# " + "x" * incremental.LONG + "\n"
    incremental.remember(bases, check(long, "arch", path, cache), cache)
    incremental.remember(bases, check(long + "# more\n", "arch", path, cache), cache)
    assert len(bases) == incremental.KEPT_LONG
