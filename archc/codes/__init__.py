"""The diagnostic catalogue: every error and warning archc reports has a stable code, and each
code one entry here with what it means, a spec that triggers it and the spec that fixes it.

Codes name a family and a problem (`E-SHAPE-CONCAT`, `W-LINEAR-FEATURE-MAP`); `E-` is an error,
`W-` a warning. A code, once published, keeps its meaning; a retired code stays listed.
The entries are the single source of `archc explain CODE`, of docs/errors.md, of the default
hint of a diagnostic raised without its own, and of tests/diagnostics/test_error_catalogue.py, which runs
every example and every fix. Entries live in one module per area of the pipeline (frontend,
spec, ops, backends), each a list `CODES`; this package only gathers them, on first use (an
error being reported), never on the static path's start-up.
"""
from __future__ import annotations

import functools
import textwrap

from archc.codes.entry import Code

# The family of a code (its second part) and its heading in docs/errors.md, in reading order.
FAMILIES = {
    "SYNTAX": "Syntax", "YAML": "YAML structure", "FILE": "Files and input",
    "IMPORT": "Imports", "NAME": "Names", "CALL": "Calls and arguments", "SHARE": "Shared layers", "BLOCK": "Blocks",
    "VALUE": "Values and expressions", "PARAM": "Model parameters", "INPUT": "Inputs and outputs",
    "ATTR": "Op attributes", "SHAPE": "Shapes", "LIMIT": "Resource limits",
    "OUTPUT": "Output files", "EXPORT": "Export", "DRAW": "Diagrams", "API": "Python API",
    "CLI": "Command line", "TRAIN": "Training memory", "SWEEP": "Sweeps", "DIFF": "Diffs",
    "TORCH": "Importing PyTorch models", "INTERNAL": "Internal",
}


def _modules():
    from archc.codes import backends, budget, frontend, importer, limits, lsp, ops, sharing, spec, sweeps, training
    return (frontend, spec, limits, budget, lsp, sharing, ops, backends, sweeps, training, importer)


@functools.lru_cache(maxsize=1)
def catalog() -> dict[str, Code]:
    """Every code, by code; a code defined twice is a bug the catalogue test reports."""
    entries: dict[str, Code] = {}
    for module in _modules():
        for entry in module.CODES:
            entries.setdefault(entry.code, entry)
    return entries


def lookup(code: str) -> Code | None:
    return catalog().get(code.strip().upper())


def default_hint(code: str) -> str | None:
    entry = lookup(code)
    return entry.hint if entry else None


def explain(code: str) -> str:
    """`archc explain CODE`: the entry as text."""
    entry = lookup(code)
    if entry is None:
        raise KeyError(code)
    out = [f"{entry.code}: {entry.title}", "", textwrap.fill(entry.explanation, 88), "",
           "Example:", textwrap.indent(_listing(entry.files("example")), "    ")]
    if entry.api is not None:
        out += ["Run as Python:", textwrap.indent(textwrap.dedent(entry.api).strip(), "    "), ""]
    elif entry.command():
        out += [f"Run as: {entry.command()}", ""]
    if entry.fix is not None:
        out += ["Fix:", textwrap.indent(_listing(entry.files("fix")), "    ")]
    if entry.command("fix"):
        out += [f"Run as: {entry.command('fix')}", ""]
    out += [f"Hint: {entry.hint}"]
    return "\n".join(out) + "\n"


def _listing(files: dict[str, str]) -> str:
    if len(files) == 1:
        return next(iter(files.values()))
    return "\n".join(f"# {name}\n{text}" for name, text in files.items())
