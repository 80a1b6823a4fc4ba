"""Where the CLI's outputs go (-o -, symbolic links, FIFOs and devices, permissions) and an
output that cannot be written: a coded error naming the user's path, nothing left behind."""
from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from archc.cli import main, write_atomic

ROOT = Path(__file__).resolve().parents[2]
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


# ----------------------------------------------------------------------------- errors of the CLI's own

def _main(capsys, *args):
    from archc.cli import main
    code = main([str(a) for a in args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.parametrize("target, code", [
    (lambda tmp: tmp, "E-OUTPUT-IS-DIRECTORY"),
    (lambda tmp: tmp / "spec.arch" / "out.py", "E-OUTPUT-NOT-A-DIRECTORY"),
    (lambda tmp: tmp / ("n" * 300 + ".py"), "E-OUTPUT-WRITE-FAILED"),
], ids=["a-folder", "under-a-file", "name-too-long"])
def test_an_output_that_cannot_be_written_is_a_coded_error_with_a_hint(capsys, tmp_path, target, code):
    spec = tmp_path / "spec.arch"
    spec.write_text("input x: [N, 3, 8, 8]\noutput y = x -> conv2d(4, 3)\n")
    for command in ("compile", "summary"):
        status, out, err = _main(capsys, command, spec, "-o", target(tmp_path))
        assert status == 1 and out == ""
        assert err.startswith(f"archc: error[{code}]: cannot write '{target(tmp_path)}': "), err
        assert "\n  hint: " in err and ".tmp" not in err and "Traceback" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["spec.arch"]  # nothing left behind


def test_an_onnx_target_that_is_a_folder_is_refused_before_the_export(capsys, tmp_path):
    pytest.importorskip("onnxscript")
    status, _, err = _main(capsys, "export", SPECS / "lenet5.arch", "--onnx", tmp_path)
    assert status == 1 and err.startswith(f"archc: error[E-OUTPUT-IS-DIRECTORY]: cannot write '{tmp_path}'")
    assert list(tmp_path.iterdir()) == []
