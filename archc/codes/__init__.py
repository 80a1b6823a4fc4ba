"""The diagnostic catalogue: every error and warning archc reports has a stable code, and each
code one entry here with what it means, a spec that triggers it and the spec that fixes it.

Codes name a family and a problem (`E-SHAPE-CONCAT`, `W-LINEAR-FEATURE-MAP`); `E-` is an error,
`W-` a warning. A code, once published, keeps its meaning; a retired code stays listed.
The entries are the single source of `archc explain CODE`, of docs/errors.md, of the default
hint of a diagnostic raised without its own, and of tests/test_error_catalogue.py, which runs
every example and every fix. Entries live in one module per area of the pipeline (frontend,
spec, ops, backends), each a list `CODES`; this package only gathers them, on first use (an
error being reported), never on the static path's start-up.
"""
from __future__ import annotations

import functools
import textwrap
from dataclasses import dataclass, field
from typing import Mapping, Union

# A spec given as its text, or as several files by name (the first is the one checked).
Files = Union[str, Mapping[str, str]]

# The family of a code (its second part) and its heading in docs/errors.md, in reading order.
FAMILIES = {
    "SYNTAX": "Syntax", "YAML": "YAML structure", "FILE": "Files and input",
    "IMPORT": "Imports", "NAME": "Names", "CALL": "Calls and arguments", "BLOCK": "Blocks",
    "VALUE": "Values and expressions", "PARAM": "Model parameters", "INPUT": "Inputs and outputs",
    "ATTR": "Op attributes", "SHAPE": "Shapes", "LIMIT": "Resource limits",
    "OUTPUT": "Output files", "EXPORT": "Export", "DRAW": "Diagrams", "API": "Python API",
    "CLI": "Command line", "INTERNAL": "Internal",
}


@dataclass(frozen=True)
class Code:
    """One catalogue entry.

    `example` triggers the code when run as `argv` (default: `archc check` of the first file,
    the spec being named model.arch or model.yaml by `lang`), or, with `api`, when the Python
    statements in `api` run (with `archc` imported and `spec` the example's path); `fix` is the
    corrected spec, which runs clean the same way (None where the fix is not in the spec, such as
    raising a limit: `fix_env`/`fix_argv` then say how)."""
    code: str
    title: str
    explanation: str
    hint: str
    example: Files
    fix: Files | None = None
    lang: str = "arch"
    argv: tuple[str, ...] = ("check", "{spec}")
    env: Mapping[str, str] = field(default_factory=dict)
    api: str | None = None
    fix_argv: tuple[str, ...] | None = None
    fix_env: Mapping[str, str] | None = None
    needs: tuple[str, ...] = ()  # optional modules the trigger needs (torch, onnx): skipped without

    @property
    def severity(self) -> str:
        return "warning" if self.code.startswith("W-") else "error"

    @property
    def family(self) -> str:
        return self.code.split("-")[1]

    def files(self, which: str = "example") -> dict[str, str]:
        """The example's (or fix's) files by name, dedented, the checked one first."""
        spec = getattr(self, which)
        if spec is None:
            return {}
        if isinstance(spec, str):
            spec = {f"model.{'arch' if self.lang == 'arch' else 'yaml'}": spec}
        return {name: textwrap.dedent(text).lstrip("\n") for name, text in spec.items()}


    def command(self, which: str = "example") -> str | None:
        """How the example (or fix) is run, as a shell line, when that is worth saying: not for
        a plain `archc check FILE` example, nor for Python (`api`) examples."""
        if self.api is not None:
            return None
        argv = self.argv if which == "example" or self.fix_argv is None else self.fix_argv
        env = self.env if which == "example" or self.fix_env is None else self.fix_env
        if which == "example" and tuple(argv) == ("check", "{spec}") and not env:
            return None
        if which == "fix" and self.fix_argv is None and self.fix_env is None:
            return None
        spec = next(iter(self.files(which) or {"model.arch": ""}))
        words = [f"{k}={v}" for k, v in env.items()] + [
            "archc", *(a.replace("{spec}", spec).replace("{dir}", ".") for a in argv)]
        return " ".join(words)


def _modules():
    from archc.codes import backends, frontend, ops, spec
    return (frontend, spec, ops, backends)


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


def run(entry: Code, which: str = "example") -> tuple[int, str]:
    """Run an entry's example (or fix) as a user would: its files written to a fresh folder,
    then the command line (or the `api` statements) on them. Returns (exit status, what was
    printed on stdout and stderr), paths shown relative to that folder. For the catalogue test
    and for the diagnostics quoted in docs/errors.md."""
    import contextlib
    import io
    import os
    import tempfile
    from pathlib import Path

    from archc.errors import SpecError, SpecErrors

    files = entry.files(which)
    argv = entry.argv if which == "example" or entry.fix_argv is None else entry.fix_argv
    env = dict(entry.env if which == "example" or entry.fix_env is None else entry.fix_env)
    env.setdefault("NO_COLOR", "1")
    saved = {k: os.environ.get(k) for k in env}
    out = io.StringIO()
    with tempfile.TemporaryDirectory(prefix="archc-example-") as tmp:
        folder = Path(tmp).resolve()
        for name, text in files.items():
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            (folder / name).write_text(text, encoding="utf-8")
        spec = str(folder / next(iter(files))) if files else str(folder / "model.arch")
        os.environ.update(env)
        try:
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
                if entry.api is None:
                    from archc.cli import main
                    status = main([a.replace("{spec}", spec).replace("{dir}", str(folder))
                                   for a in argv])
                else:
                    import archc
                    status = 0
                    try:
                        exec(textwrap.dedent(entry.api), {"archc": archc, "spec": spec,
                                                          "folder": str(folder)})
                    except (SpecError, SpecErrors) as e:
                        print(e.render(), file=out)
                        status = 1
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
        text = out.getvalue().replace(str(folder) + os.sep, "").replace(str(folder), ".")
    return status, text
