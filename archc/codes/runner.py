"""Running a catalogue entry's example (or fix) as a user would, for the catalogue test and for
the diagnostics docs/errors.md quotes (`archc docs --errors`).

The command line is passed in (`cli`), not imported: the CLI renders docs/errors.md with this
runner, and the catalogue (which every diagnostic reads for its default hint) must not depend
on the CLI, so that no import cycle runs through them."""
from __future__ import annotations

import contextlib
import io
import os
import tempfile
import textwrap
from pathlib import Path
from typing import Callable, Sequence

import archc
from archc.codes.entry import Code
from archc.errors import SpecError, SpecErrors

CommandLine = Callable[[Sequence[str]], int]  # archc.cli.main


def run(entry: Code, which: str = "example", *, cli: CommandLine) -> tuple[int, str]:
    """Run an entry's example (or fix): its files written to a fresh folder, then the command
    line (`cli`, given `argv`) or the `api` statements on them. Returns (exit status, what was
    printed on stdout and stderr), paths shown relative to that folder."""
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
                    status = cli([a.replace("{spec}", spec).replace("{dir}", str(folder))
                                  for a in argv])
                else:
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
