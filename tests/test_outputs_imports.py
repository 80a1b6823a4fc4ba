"""Issue 10: where outputs go (-o -, symbolic links, FIFOs and devices, permissions, error
names) and where imports may come from (the spec's folder tree, --import-path, ARCHC_PATH),
with every import problem located at its import statement."""
from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

import archc
from archc.cli import main, write_atomic
from archc.errors import SpecErrors
from archc.loader import import_path

ROOT = Path(__file__).resolve().parents[1]
SPECS = ROOT / "specs"

BLOCK = "block Tiny(c)(x) {\n  return x -> conv2d(c, 3, padding=1) -> relu\n}\n"


def model(imports: str) -> str:
    return (f"model M\n{imports}\ninput x: [N, 3, 8, 8]\n"
            "output y = x -> Tiny(4) -> flatten -> linear(2)\n")


@pytest.fixture
def spec(tmp_path: Path) -> Path:
    (tmp_path / "blocks").mkdir()
    (tmp_path / "blocks" / "tiny.arch").write_text(BLOCK)
    path = tmp_path / "m.arch"
    path.write_text(model('import "blocks/tiny.arch"'))
    return path


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out = capsys.readouterr()
    return code, out.out, out.err


# ----------------------------------------------------------------------------- outputs

def test_dash_output_writes_to_stdout(capsys, spec, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, _ = run(capsys, "compile", spec, "-o", "-")
    assert code == 0 and "class M(nn.Module)" in out and not (tmp_path / "-").exists()
    code, out, _ = run(capsys, "draw", spec, "-o", "-")
    assert code == 0 and out.startswith("digraph") and not (tmp_path / "-").exists()
    code, out, _ = run(capsys, "summary", spec, "-o", "-")
    assert code == 0 and "conv2d" in out and not (tmp_path / "-").exists()


def test_a_symlink_is_followed_and_its_target_replaced(capsys, spec, tmp_path):
    target = tmp_path / "real.py"
    target.write_text("old\n")
    link = tmp_path / "link.py"
    link.symlink_to(target)
    code, _, _ = run(capsys, "compile", spec, "-o", link)
    assert code == 0
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert "class M(nn.Module)" in target.read_text()
    dangling = tmp_path / "dangling.py"
    dangling.symlink_to(tmp_path / "made.py")
    assert run(capsys, "compile", spec, "-o", dangling)[0] == 0
    assert dangling.is_symlink() and "class M" in (tmp_path / "made.py").read_text()


def test_a_fifo_is_written_in_place(capsys, spec, tmp_path):
    fifo = tmp_path / "out.fifo"
    os.mkfifo(fifo)
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)  # a reader: the writer's open won't wait
    try:
        code, _, _ = run(capsys, "compile", spec, "-o", fifo)
        assert code == 0
        data = b""
        while chunk := os.read(reader, 65536):
            data += chunk
    finally:
        os.close(reader)
    assert b"class M(nn.Module)" in data
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)  # still a FIFO, not a regular file
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def test_dev_null_is_written_not_replaced():
    before = os.stat("/dev/null")
    write_atomic("/dev/null", "discarded\n")
    after = os.lstat("/dev/null")
    assert stat.S_ISCHR(after.st_mode) and after.st_rdev == before.st_rdev
    assert stat.S_IMODE(after.st_mode) == stat.S_IMODE(before.st_mode)


def test_dev_stdout_prints(spec):
    done = subprocess.run([sys.executable, "-m", "archc.cli", "compile", str(spec), "-o", "/dev/stdout"],
                          capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert "class M(nn.Module)" in done.stdout


def test_an_existing_files_permissions_are_kept(capsys, spec, tmp_path):
    out = tmp_path / "model.py"
    out.write_text("old\n")
    out.chmod(0o600)
    assert run(capsys, "compile", spec, "-o", out)[0] == 0
    assert stat.S_IMODE(out.stat().st_mode) == 0o600 and "class M" in out.read_text()
    out.chmod(0o640)
    assert run(capsys, "summary", spec, "-o", out)[0] == 0
    assert stat.S_IMODE(out.stat().st_mode) == 0o640


def test_errors_name_the_users_path_not_the_temporary_file(capsys, spec, tmp_path):
    directory = tmp_path / "adir"
    directory.mkdir()
    code, out, err = run(capsys, "compile", spec, "-o", directory)
    assert code == 1 and out == ""
    assert str(directory) in err and ".tmp" not in err and "Traceback" not in err
    with pytest.raises(OSError) as e:
        write_atomic(str(directory), "x")
    assert e.value.filename == str(directory)
    assert list(directory.iterdir()) == [] and [p for p in tmp_path.iterdir() if ".tmp" in p.name] == []


# ----------------------------------------------------------------------------- import search

def test_zoo_imports_inside_the_tree_still_work(capsys):
    assert run(capsys, "check", SPECS / "resnet18.arch", SPECS / "digits_cnn.arch")[0] == 0


def outside(tmp_path: Path) -> Path:
    """A model in tmp/proj importing ../lib/tiny.arch, outside its folder tree."""
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "tiny.arch").write_text(BLOCK)
    (tmp_path / "proj").mkdir()
    path = tmp_path / "proj" / "m.arch"
    path.write_text(model('import "../lib/tiny.arch"'))
    return path


def test_an_import_outside_the_tree_is_refused_with_a_location_and_a_hint(capsys, tmp_path, monkeypatch):
    monkeypatch.delenv("ARCHC_PATH", raising=False)
    path = outside(tmp_path)
    code, _, err = run(capsys, "check", path)
    assert code == 1 and "Traceback" not in err
    assert f"{path}:2:8: error[E-IMPORT-OUTSIDE-PATH]: import '../lib/tiny.arch'" in err and "outside the spec's folder" in err
    assert "--import-path" in err and "ARCHC_PATH" in err
    etc = tmp_path / "proj" / "etc.arch"
    etc.write_text(model('import "../../../../../../../../etc/x.arch"'))
    code, _, err = run(capsys, "check", etc)
    assert code == 1 and f"{etc}:2:8:" in err
    absolute = tmp_path / "proj" / "abs.arch"
    absolute.write_text(model(f'import "{tmp_path / "lib" / "tiny.arch"}"'))
    code, _, err = run(capsys, "check", absolute)
    assert code == 1 and "outside the spec's folder" in err
    with pytest.raises(SpecErrors, match="outside the spec's folder"):
        archc.load(path)


def test_import_path_and_archc_path_allow_a_folder(capsys, tmp_path, monkeypatch):
    monkeypatch.delenv("ARCHC_PATH", raising=False)
    path = outside(tmp_path)
    for command in (["check"], ["summary"], ["compile"], ["draw"]):
        assert run(capsys, *command, path, "--import-path", tmp_path / "lib")[0] == 0, command
    # found in the search path by a path relative to it, and repeatable
    bare = tmp_path / "proj" / "bare.arch"
    bare.write_text(model('import "tiny.arch"'))
    assert run(capsys, "check", bare, "--import-path", tmp_path / "proj",
               "--import-path", tmp_path / "lib")[0] == 0
    assert run(capsys, "check", bare)[0] == 1
    monkeypatch.setenv("ARCHC_PATH", os.pathsep.join(["", str(tmp_path / "nowhere"), str(tmp_path / "lib")]))
    assert run(capsys, "check", path, bare)[0] == 0
    assert archc.load(bare).graph is not None
    monkeypatch.delenv("ARCHC_PATH")
    with import_path([tmp_path / "lib"]):  # the API's form of --import-path
        assert archc.load(path).graph is not None
    with pytest.raises(SpecErrors):
        archc.load(path)
    with pytest.raises(SystemExit) as e:  # a usage error
        main(["check", str(path), "--import-path", str(tmp_path / "missing")])
    assert e.value.code == 2 and "not a directory" in capsys.readouterr().err


def test_a_symlink_inside_the_tree_to_a_file_outside_is_refused(capsys, tmp_path, monkeypatch):
    monkeypatch.delenv("ARCHC_PATH", raising=False)
    outside(tmp_path)
    (tmp_path / "proj" / "link.arch").symlink_to(tmp_path / "lib" / "tiny.arch")
    path = tmp_path / "proj" / "l.arch"
    path.write_text(model('import "link.arch"'))
    code, _, err = run(capsys, "check", path)
    assert code == 1 and "outside the spec's folder" in err


# ----------------------------------------------------------------------------- located import errors

@pytest.mark.parametrize("name, make, message", [
    ("tiny.txt", lambda p: p.write_text(BLOCK), "cannot tell the language"),
    ("adir.arch", lambda p: p.mkdir(), "names a directory"),
    ("latin1.arch", lambda p: p.write_bytes(b"# caf\xe9\n" + BLOCK.encode()), "not UTF-8"),
    ("missing.arch", lambda p: None, "does not exist"),
    ("pipe.arch", lambda p: os.mkfifo(p), "not a regular file"),
])
def test_import_file_problems_are_located_at_the_import(capsys, tmp_path, name, make, message):
    make(tmp_path / name)
    path = tmp_path / "m.arch"
    path.write_text(model(f'import "{name}"'))
    code, _, err = run(capsys, "check", path)
    assert code == 1 and "Traceback" not in err
    assert f"{path}:2:8: error[E-" in err and message in err
    assert "hint:" in err


def test_an_over_long_import_path_is_located(capsys, tmp_path):
    for text in ("a" * 300 + ".arch", "d/" * 2100 + "x.arch"):  # one name too long; a path over the limit
        path = tmp_path / "m.arch"
        path.write_text(model(f'import "{text}"'))
        code, _, err = run(capsys, "check", path)
        assert code == 1 and "Traceback" not in err and f"{path}:2:8: error[E-IMPORT-" in err


def test_a_missing_import_names_where_it_looked_and_the_search_path(capsys, tmp_path):
    path = tmp_path / "m.arch"
    path.write_text(model('import "nowhere.arch"'))
    code, _, err = run(capsys, "check", path, "--import-path", SPECS)
    assert code == 1 and str(tmp_path) in err and str(SPECS) in err and "--import-path" in err


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


def test_nul_bytes_and_lone_surrogates_in_an_import_path_are_refused(tmp_path):
    from archc.loader import _resolve_import
    for text in ("a\0b.arch", "a\udc80.arch"):
        path, message, hint = _resolve_import(text, tmp_path, (tmp_path,))
        assert path is None and "not a valid file name" in message and hint
