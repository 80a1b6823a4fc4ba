"""The diagnostic catalogue (archc/codes, docs/errors.md): every diagnostic archc can raise has a
stable code from the catalogue, every catalogue entry's example triggers its code through the
command line or the API, and its fix runs clean. docs/errors.md is the catalogue rendered, the
same whichever optional modules are installed."""
from __future__ import annotations

import ast
import functools
import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from archc.cli import main
from archc.codes import FAMILIES, Code, catalog, explain
from archc.codes.runner import run as run_entry

ROOT = Path(__file__).resolve().parents[2]
run = functools.partial(run_entry, cli=main)  # as a user runs the examples: through the CLI
PACKAGE = ROOT / "archc"
CODE_FORMAT = re.compile(r"^[EW]-[A-Z]+(-[A-Z0-9]+)*$")
# Whatever builds a diagnostic; plus every function of archc's that takes a `code` argument.
CONSTRUCTORS = {"SpecError", "ShapeError", "AttrError", "ExportError", "DiagramError"}


def _sources() -> list[tuple[Path, ast.Module]]:
    return [(p, ast.parse(p.read_text(), str(p))) for p in sorted(PACKAGE.rglob("*.py"))
            if "codes" not in p.relative_to(PACKAGE).parts]


def _takes_code(tree_list) -> set[str]:
    names = set()
    for _, tree in tree_list:
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                args = node.args
                if any(a.arg == "code" for a in [*args.args, *args.kwonlyargs]):
                    names.add(node.name)
    return names - {"__init__", "explain", "lookup", "default_hint"}


def _call_name(call: ast.Call) -> str | None:
    f = call.func
    return f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else None


def _diagnostic_calls():
    """(file, line, called name, code expression or None) of every call that makes a diagnostic."""
    sources = _sources()
    makers = CONSTRUCTORS | _takes_code(sources)
    for path, tree in sources:
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and _call_name(node) in makers:
                if isinstance(node.func, ast.Attribute) and isinstance(node.func.value, ast.Name) and \
                        node.func.value.id in ("parser", "logging", "warnings"):
                    continue  # the standard library's, not ours
                code = next((k.value for k in node.keywords if k.arg == "code"), None)
                yield path.relative_to(ROOT), node.lineno, _call_name(node), code


def test_every_diagnostic_is_made_with_a_catalogued_code():
    known = catalog()
    missing, unknown = [], []
    for path, line, name, code in _diagnostic_calls():
        if code is None:
            missing.append(f"{path}:{line}: {name}(...) without code=")
        elif isinstance(code, ast.Constant) and code.value not in known:
            unknown.append(f"{path}:{line}: {code.value} is not in the catalogue")
    assert not missing, "\n".join(missing)
    assert not unknown, "\n".join(unknown)


def test_every_catalogued_code_is_used():
    used = set()
    for _, tree in _sources():
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and CODE_FORMAT.match(node.value):
                used.add(node.value)
    unused = sorted(set(catalog()) - used)
    assert not unused, f"catalogued but never raised: {unused}"


def test_entries_are_well_formed_and_unique():
    from archc.codes import _modules
    seen: dict[str, str] = {}
    for module in _modules():
        for entry in module.CODES:
            assert entry.code not in seen, f"{entry.code} defined in {seen[entry.code]} and {module.__name__}"
            seen[entry.code] = module.__name__
            assert CODE_FORMAT.match(entry.code), entry.code
            assert entry.family in FAMILIES, f"{entry.code}: family {entry.family} not in FAMILIES"
            assert entry.title and entry.explanation and entry.hint, entry.code
            assert entry.lang in ("arch", "yaml")
    assert len(seen) >= 40  # the catalogue covers the whole pipeline, not a sample


ENTRIES = sorted(catalog().values(), key=lambda e: e.code)


def _needs(entry: Code) -> None:
    for module in entry.needs:
        pytest.importorskip(module)


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: e.code)
def test_example_triggers_its_code(entry: Code):
    _needs(entry)
    status, printed = run(entry, "example")
    assert f"{entry.severity}[{entry.code}]" in printed, printed
    if entry.severity == "error":
        assert status == 1, printed
    else:
        assert status == (1 if "--strict" in entry.argv else 0), printed
    assert "hint:" in printed, f"{entry.code} printed without a hint:\n{printed}"
    assert "Traceback" not in printed and "internal error" not in printed or entry.code == "E-INTERNAL"


@pytest.mark.parametrize("entry", [e for e in ENTRIES if e.fix is not None or e.fix_argv or e.fix_env],
                         ids=lambda e: e.code)
def test_fix_runs_clean(entry: Code):
    _needs(entry)
    status, printed = run(entry, "fix")
    assert f"[{entry.code}]" not in printed, printed
    assert status == 0, printed


def test_explain_prints_the_entry(capsys):
    code = ENTRIES[0].code
    assert main(["explain", code.lower()]) == 0
    assert capsys.readouterr().out == explain(code)
    assert main(["explain", "E-NO-SUCH-THING"]) == 2
    assert "no diagnostic code" in capsys.readouterr().err


def _installed(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


@pytest.mark.parametrize("entry", [e for e in ENTRIES if e.printed is not None], ids=lambda e: e.code)
def test_recorded_output_is_what_archc_prints(entry: Code):
    """An entry whose output depends on the optional modules installed carries it recorded (as
    printed with them), for docs/errors.md; where they are installed, it is still what archc
    prints."""
    assert entry.printed_with, f"{entry.code}: say which modules the recorded output was printed with"
    missing = [m for m in entry.printed_with if not _installed(m)]
    if missing:
        pytest.skip(f"recorded with {', '.join(missing)} installed")
    assert run(entry)[1] == entry.printed


def test_docs_errors_md_is_current():
    from archc.backends.docs import render_error_catalogue
    committed = (ROOT / "docs" / "errors.md").read_text()
    assert committed == render_error_catalogue(run), "run: archc docs --errors -o docs/errors.md"


# Optional modules and programs docs/errors.md must not depend on; PyYAML, lark, networkx and
# pydantic are archc's own dependencies.
EXTRAS = ("torch", "onnx", "onnxscript", "onnxruntime", "pygls", "lsprotocol", "matplotlib", "distributed", "dask")


def test_docs_errors_md_is_the_same_without_the_extras(tmp_path):
    """Rendered where none of the extras is installed (imports of them fail) and Graphviz's dot
    is not on PATH, docs/errors.md reads the same."""
    hide = "; ".join(f"sys.modules[{m!r}] = None" for m in EXTRAS)
    code = f"import sys; {hide}; from archc.cli import main; sys.exit(main(['docs', '--errors']))"
    env = {**os.environ, "PATH": str(tmp_path), "OMP_NUM_THREADS": "1"}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                          cwd=ROOT, timeout=600)
    assert done.returncode == 0, done.stderr
    assert done.stdout == (ROOT / "docs" / "errors.md").read_text()
