"""Progress on stderr for commands that take seconds (export, draw, compile): a status line
redrawn in place on a terminal and erased at the end, nothing when stderr is piped or CI is set,
one plain line a step when forced (ARCHC_PROGRESS=1) where no terminal is."""
from __future__ import annotations

import io
import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest

from archc import progress

ROOT = Path(__file__).resolve().parents[2]
BIG = ROOT / "specs" / "resnet152.arch"  # compile takes about a second
SMALL = ROOT / "specs" / "lenet5.arch"


def env(**extra: str) -> dict:
    out = {k: v for k, v in os.environ.items() if k not in ("CI", progress.ENV, "NO_COLOR", "FORCE_COLOR")}
    out.update(TERM="xterm", OMP_NUM_THREADS="1", **extra)
    return out


def archc(*args, **extra) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "archc.cli", *map(str, args)], capture_output=True,
                          env=env(**extra), cwd=ROOT, stdin=subprocess.DEVNULL, timeout=300)


def on_a_terminal(*args, **extra) -> tuple[int, bytes, bytes]:
    """Run archc with stderr on a pseudo-terminal; (status, stdout, what the terminal got)."""
    leader, follower = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "archc.cli", *map(str, args)], stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=follower, env=env(**extra), cwd=ROOT)
    os.close(follower)
    seen = b""
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the child closed its end
            break
        if not chunk:
            break
        seen += chunk
    out = proc.stdout.read()
    proc.stdout.close()
    os.close(leader)
    return proc.wait(timeout=300), out, seen


def test_piped_stderr_gets_no_progress():
    done = archc("compile", BIG)
    assert done.returncode == 0 and done.stderr == b""
    assert done.stdout.startswith(b'"""')


def test_forced_without_a_terminal_prints_one_line_a_step():
    done = archc("compile", SMALL, **{progress.ENV: "1"})
    assert done.returncode == 0
    assert done.stderr == (b"archc compile: elaborating the spec...\n"
                           b"archc compile: generating the PyTorch code...\n")
    assert done.stdout == archc("compile", SMALL).stdout  # the output itself unchanged


def test_on_a_terminal_the_line_is_redrawn_and_erased_at_the_end():
    status, out, seen = on_a_terminal("compile", SMALL, "-o", "-", **{progress.ENV: "1"})
    assert status == 0 and out.startswith(b'"""')
    text = seen.decode()
    assert "\r\x1b[Karchc compile: elaborating the spec... (" in text
    assert "\r\x1b[Karchc compile: generating the PyTorch code... (" in text
    assert text.endswith("\r\x1b[K") and "\n" not in text  # nothing stays on the screen


def test_a_diagnostic_on_a_terminal_starts_on_a_clean_line(tmp_path):
    spec = tmp_path / "bad.arch"
    spec.write_text("input x: [N, 3, 8, 8]\noutput y = x -> conv2d(4, 3) -> nosuchop\n")
    status, _, seen = on_a_terminal("compile", spec, NO_COLOR="1", **{progress.ENV: "1"})
    text = seen.decode()
    assert status == 1
    before, _, after = text.partition(f"{spec}:2:")
    assert after and before.endswith("\r\x1b[K"), text  # the status line erased first
    assert "archc compile:" not in after


def test_not_shown_on_a_dumb_terminal_in_ci_or_when_turned_off(monkeypatch):
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True
    for name in ("CI", progress.ENV):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TERM", "xterm")
    monkeypatch.setenv("NO_COLOR", "1")  # not colour: no reason to hide it
    assert progress.mode(Tty()) == "live"
    assert progress.mode(io.StringIO()) == "off"  # a pipe or a file
    monkeypatch.setenv("CI", "true")
    assert progress.mode(Tty()) == "off"
    monkeypatch.setenv(progress.ENV, "1")
    assert progress.mode(Tty()) == "live" and progress.mode(io.StringIO()) == "lines"
    monkeypatch.delenv("CI")
    monkeypatch.setenv(progress.ENV, "0")
    assert progress.mode(Tty()) == "off"
    monkeypatch.delenv(progress.ENV)
    monkeypatch.setenv("TERM", "dumb")
    assert progress.mode(Tty()) == "off"


def test_quick_commands_draw_nothing_and_other_output_erases_the_line(monkeypatch):
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True
    for name in ("CI", progress.ENV):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TERM", "xterm")
    quick = Tty()
    monkeypatch.setattr(sys, "stderr", quick)
    with progress.Progress("draw"):
        progress.step("laying out the diagram")
    assert quick.getvalue() == ""  # ended before DELAY: no flicker
    monkeypatch.setattr(progress, "DELAY", 0.0)
    slow = Tty()
    monkeypatch.setattr(sys, "stderr", slow)
    with progress.Progress("draw"):
        progress.step("laying out the diagram")
        print("a warning", file=sys.stderr)
    assert sys.stderr is slow  # given back
    assert slow.getvalue().startswith("\r\x1b[Karchc draw: laying out the diagram... (")
    assert "\r\x1b[Ka warning\n" in slow.getvalue()  # the line erased before it
    after = slow.getvalue().split("a warning\n", 1)[1]
    assert after == "" or after.endswith("\r\x1b[K")  # drawn again at a tick: erased at the end
    written = slow.getvalue()
    progress.step("outside a command")  # a no-op: the API is silent
    assert slow.getvalue() == written


def test_the_static_path_loads_no_progress_machinery():
    code = ("import sys; from archc.cli import main; status = main(['check', %r]); "
            "print(status, 'archc.progress' in sys.modules, 'torch' in sys.modules)" % str(SMALL))
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env(), cwd=ROOT)
    assert done.stdout.split()[-3:] == ["0", "False", "False"], done.stderr


@pytest.mark.parametrize("command", ["export", "draw"])
def test_long_commands_report_their_steps(command, tmp_path):
    if command == "export":
        pytest.importorskip("torch")
        pytest.importorskip("onnxscript")
        argv = ("export", SMALL, "--onnx", tmp_path / "l.onnx")
    else:
        argv = ("draw", SMALL, "-o", tmp_path / "l.dot")
    done = archc(*argv, **{progress.ENV: "1"})
    assert done.returncode == 0, done.stderr
    steps = [line for line in done.stderr.decode().splitlines() if line.startswith(f"archc {command}: ")]
    if command == "export":
        assert steps == ["archc export: importing torch and the ONNX exporter...",
                         "archc export: elaborating the spec...",
                         "archc export: generating the PyTorch code...",
                         "archc export: building the module...",
                         "archc export: tracing and converting to ONNX (torch.export, the ONNX exporter)...",
                         f"archc export: writing {tmp_path / 'l.onnx'}..."]
    else:
        assert steps == ["archc draw: elaborating the spec...", "archc draw: laying out the diagram..."]
