"""Reading a spec file: an unknown suffix, a missing file, a folder, a bad name, a FIFO or
bytes that are not UTF-8 are diagnostics with a code and a hint; line endings are normalised."""
from __future__ import annotations

import os

import pytest

from archc.cli import main
from archc.errors import SpecErrors
from archc.frontend import parse_file

BLOCK = "block Tiny(c)(x) {\n  return x -> conv2d(c, 3, padding=1) -> relu\n}\n"


def errors_of(fn, *args) -> list:
    with pytest.raises(SpecErrors) as info:
        fn(*args)
    return info.value.errors


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_parse_file_errors(tmp_path):
    (tmp_path / "net.json").write_text("{}")
    [err] = errors_of(parse_file, tmp_path / "net.json")
    assert "suffix" in err.message and ".arch" in err.hint and err.code == "E-FILE-UNKNOWN-LANGUAGE"
    [err] = errors_of(parse_file, tmp_path / "missing.arch")
    assert "does not exist" in err.message and err.code == "E-FILE-NOT-FOUND"
    # a missing file or a folder is that problem, whatever its suffix says
    [err] = errors_of(parse_file, tmp_path / "missing.json")
    assert err.code == "E-FILE-NOT-FOUND"
    [err] = errors_of(parse_file, tmp_path)
    assert "is a directory" in err.message and err.code == "E-FILE-IS-DIRECTORY"
    [err] = errors_of(parse_file, str(tmp_path / "a\0b.arch"))
    assert "not a valid file name" in err.message and err.code == "E-FILE-BAD-NAME"
    (tmp_path / "latin1.arch").write_bytes(b"# caf\xe9\nmodel M\n")
    [err] = errors_of(parse_file, tmp_path / "latin1.arch")
    assert "not UTF-8" in err.message and err.code == "E-FILE-NOT-UTF8" and err.hint


# ----------------------------------------------------------------------------- spec files themselves

def test_a_fifo_as_the_spec_does_not_hang(capsys, tmp_path):
    fifo = tmp_path / "spec.arch"
    os.mkfifo(fifo)  # no writer: read as empty, never waited on
    code, _, err = run(capsys, "check", fifo)
    assert code == 1 and "Traceback" not in err


def test_spec_file_problems_are_diagnostics(capsys, tmp_path):
    (tmp_path / "d.arch").mkdir()
    (tmp_path / "bad.arch").write_bytes(b"model \xff\n")
    for name, message in (("d.arch", "is a directory"), ("bad.arch", "not UTF-8"),
                          ("none.arch", "does not exist")):
        code, _, err = run(capsys, "check", tmp_path / name)
        assert code == 1 and message in err and "Traceback" not in err, name


def test_windows_line_endings_read_as_before(tmp_path):
    path = tmp_path / "blocks.arch"
    path.write_bytes(BLOCK.replace("\n", "\r\n").encode())
    from archc.frontend import read_source
    assert read_source(path) == BLOCK
