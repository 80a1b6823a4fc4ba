"""A catalogue entry (`Code`): one diagnostic code with its meaning, default hint, an example that
triggers it and the fix. The area modules (frontend, spec, ops, backends) list their entries
with it; `archc.codes` gathers them."""
from __future__ import annotations

import textwrap
from dataclasses import dataclass, field
from typing import Mapping, Union

# A spec given as its text, or as several files by name (the first is the one checked).
Files = Union[str, Mapping[str, str]]


def tiny_model(body: str, imports: str = "", head: str = "input x: [N, 3, 32, 32]\n") -> str:
    """A small model around `body` (statements and outputs), with `imports` before its input:
    the examples' usual frame."""
    return f"model Tiny\n{imports}{head}{body}"


# the smallest valid model: the example of codes about options and back ends, and many fixes
TINY = tiny_model("output y = x -> conv2d(8, 3, padding=1) -> relu\n")


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
    # What the example prints, recorded, where that depends on which optional modules are
    # installed: as printed with all of `printed_with` installed. docs/errors.md quotes it, so the
    # file is the same on every machine; the catalogue test compares it with a live run where
    # they are installed.
    printed: str | None = None
    printed_with: tuple[str, ...] = ()

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
