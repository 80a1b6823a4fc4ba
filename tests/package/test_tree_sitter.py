"""The tree-sitter grammar in editors/tree-sitter-archc (Neovim and Helix highlighting): every
`.arch` file of the repository parses without an ERROR or MISSING node, its statements start on
the lines where archc's own parser (lark, archc/frontend/dsl.lark) starts them, the corpus in
test/corpus/ still holds, and every query compiles against the grammar.

The committed src/parser.c and src/scanner.c are compiled with the system C compiler into a
temporary shared library and loaded with py-tree-sitter (PyPI `tree-sitter`, a test-only
dependency). Without either, the tests skip and say which is missing. After editing grammar.js,
run `tree-sitter generate` in editors/tree-sitter-archc (see its README) and commit src/.
"""
from __future__ import annotations

import ctypes
import os
import re
import shutil
import subprocess
import warnings
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
GRAMMAR = ROOT / "editors" / "tree-sitter-archc"
SPECS = sorted(p for d in ("specs", "tests", "examples") for p in (ROOT / d).rglob("*.arch"))
QUERIES = sorted(GRAMMAR.glob("queries/**/*.scm")) + sorted(GRAMMAR.glob("helix/**/*.scm"))
CORPUS = sorted((GRAMMAR / "test" / "corpus").glob("*.txt"))


def _compiler() -> str | None:
    for name in (os.environ.get("CC"), "cc", "gcc", "clang"):
        if name and shutil.which(name):
            return shutil.which(name)
    return None


@pytest.fixture(scope="module")
def language(tmp_path_factory: pytest.TempPathFactory):
    try:
        import tree_sitter as ts
    except ImportError as e:
        pytest.skip(f"py-tree-sitter (PyPI `tree-sitter`, a test-only dependency) cannot be imported "
                    f"({e}): the tree-sitter grammar is not checked")
    if not hasattr(ts, "Parser") or not hasattr(ts.Parser, "parse") or not hasattr(ts, "Query"):
        pytest.skip("py-tree-sitter too old (0.22 or later is needed)")
    cc = _compiler()
    if cc is None:
        pytest.skip("no C compiler (cc, gcc or clang): the tree-sitter grammar is not checked")
    lib = tmp_path_factory.mktemp("tree-sitter-archc") / "archc.so"
    src = GRAMMAR / "src"
    subprocess.run([cc, "-shared", "-fPIC", "-O1", "-I", str(src), str(src / "parser.c"),
                    str(src / "scanner.c"), "-o", str(lib)], check=True, capture_output=True)
    dll = ctypes.CDLL(str(lib))
    dll.tree_sitter_archc.restype = ctypes.c_void_p
    capsule_new = ctypes.pythonapi.PyCapsule_New
    capsule_new.restype = ctypes.py_object
    capsule_new.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_void_p]
    pointer = dll.tree_sitter_archc()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # an int pointer, on versions without capsules
        try:
            lang = ts.Language(capsule_new(pointer, b"tree_sitter.Language", None))
        except (TypeError, ValueError):
            lang = ts.Language(pointer)
    yield ts, lang
    del dll  # the library stays loaded while the language is in use


def _parser(language):
    ts, lang = language
    return ts.Parser(lang)


def _problems(node, out: list) -> list:
    """Places of ERROR and MISSING nodes (a missing statement-ending newline is hidden in the
    printed tree, so has_error is the test; this says where)."""
    if node.type == "ERROR" or node.is_missing:
        out.append(f"{node.type}{' (missing)' if node.is_missing else ''} at "
                   f"{node.start_point[0] + 1}:{node.start_point[1] + 1}")
    for child in node.children:
        if child.has_error or child.is_missing or child.type == "ERROR":
            _problems(child, out)
    return out


def test_there_are_specs_to_parse() -> None:
    assert len(SPECS) > 100 and any(p.parts[-2] == "specs" for p in SPECS)


def test_every_spec_parses_without_error_nodes(language) -> None:
    parser = _parser(language)
    bad = {}
    for path in SPECS:
        root = parser.parse(path.read_bytes()).root_node
        if root.has_error:
            bad[str(path.relative_to(ROOT))] = _problems(root, [])[:3] or ["has_error"]
    assert not bad, f"{len(bad)} of {len(SPECS)} files do not parse cleanly: {bad}"


def test_statements_start_where_archcs_parser_starts_them(language) -> None:
    """The newline rules (the external scanner) agree with archc's post-lexer: the same top-level
    statements and block statements, on the same lines, in every spec."""
    dsl = pytest.importorskip("archc.frontend.dsl")
    if not hasattr(dsl, "_parser"):
        pytest.skip("archc.frontend.dsl._parser is gone; this cross-check needs updating")
    lark_parser = dsl._parser()
    parser = _parser(language)
    differ = []
    for path in SPECS:
        text = path.read_text(encoding="utf-8")
        tree = lark_parser.parse(text, start="start")
        want = [(ch.meta.line, [c.meta.line for c in ch.children if getattr(c, "data", None) in
                                ("assign", "unused_assign", "return_stmt")]
                 if ch.data == "block_def" else None) for ch in tree.children]
        root = parser.parse(text.encode("utf-8")).root_node
        got = []
        for stmt in (c for c in root.named_children if c.type != "comment"):
            inner = None
            if stmt.type == "block_definition":
                body = stmt.child_by_field_name("body")
                inner = [c.start_point[0] + 1 for c in body.named_children if c.type != "comment"]
            got.append((stmt.start_point[0] + 1, inner))
        if want != got:
            differ.append(str(path.relative_to(ROOT)))
    assert not differ, f"statement lines differ from archc's parser in {differ}"


def test_a_newline_still_ends_a_statement(language) -> None:
    parser = _parser(language)
    assert parser.parse(b"a = x b = y\n").root_node.has_error
    assert parser.parse(b"a = x\n    -> relu\nb = y\n").root_node.child_count == 2
    unused = parser.parse(b"unused f = x -> relu\nunused = x\n").root_node.named_children
    assert [n.type for n in unused] == ["unused_assignment", "assignment"]


def _corpus_cases(path: Path):
    text = path.read_text(encoding="utf-8")
    parts = re.split(r"^={3,}\n(.*)\n={3,}\n", text, flags=re.MULTILINE)
    for title, body in zip(parts[1::2], parts[2::2]):
        source, expected = re.split(r"^-{3,}\n", body, maxsplit=1, flags=re.MULTILINE)
        yield title, source.strip("\n") + "\n", expected


def _shape(sexp: str) -> str:
    """An S-expression without field names or positions, spaced as one line."""
    sexp = re.sub(r"\b\w+: ", "", sexp)
    return " ".join(sexp.replace("(", " ( ").replace(")", " ) ").split())


@pytest.mark.parametrize("path", CORPUS, ids=lambda p: p.stem)
def test_corpus(language, path: Path) -> None:
    """test/corpus/*.txt as `tree-sitter test` reads it, without the CLI."""
    parser = _parser(language)
    cases = list(_corpus_cases(path))
    assert cases
    for title, source, expected in cases:
        root = parser.parse(source.encode("utf-8")).root_node
        assert _shape(str(root)) == _shape(expected), f"{path.name}: {title}"


@pytest.mark.parametrize("path", QUERIES, ids=lambda p: str(p.relative_to(GRAMMAR)))
def test_query_compiles(language, path: Path) -> None:
    ts, lang = language
    query = ts.Query(lang, path.read_text(encoding="utf-8"))
    assert query.pattern_count > 0
