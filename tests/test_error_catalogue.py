"""The diagnostic catalogue (archc/codes, docs/errors.md): every diagnostic archc can raise has a
stable code from the catalogue, every catalogue entry's example triggers its code through the
command line or the API, and its fix runs clean. docs/errors.md is the catalogue rendered."""
from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from archc.codes import FAMILIES, Code, catalog, explain, run

ROOT = Path(__file__).resolve().parent.parent
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
    from archc.cli import main
    code = ENTRIES[0].code
    assert main(["explain", code.lower()]) == 0
    assert capsys.readouterr().out == explain(code)
    assert main(["explain", "E-NO-SUCH-THING"]) == 2
    assert "no diagnostic code" in capsys.readouterr().err


def test_docs_errors_md_is_current():
    from archc.backends.docs import render_error_catalogue
    committed = (ROOT / "docs" / "errors.md").read_text()
    assert committed == render_error_catalogue(), "run: archc docs --errors -o docs/errors.md"
