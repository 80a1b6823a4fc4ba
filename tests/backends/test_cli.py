"""The command line: `check` of the zoo and of a block library, `-D`, `python -m archc`, specs
from stdin and `--lang`, coloured diagnostics, shell completion, and the last-resort errors."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SPECS = ROOT / "specs"
ALL_SPECS = sorted(SPECS.glob("*.arch")) + sorted(SPECS.glob("*.yaml"))


def cli(*args, cwd=ROOT):
    return subprocess.run([sys.executable, "-m", "archc.cli", *map(str, args)],
                          capture_output=True, text=True, cwd=cwd)


def test_check_accepts_every_zoo_spec():
    proc = cli("check", *ALL_SPECS)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count(": ok (") == len(ALL_SPECS)


def test_define_overrides_a_param_and_makes_sizes_symbolic():
    proc = cli("summary", SPECS / "unet_keras.arch", "-D", "size=H", "--format", "json")
    data = json.loads(proc.stdout)
    assert data["constraints"] == ["H % 16 == 0", "H >= 16"]
    assert data["inputs"]["x"] == ["N", 3, "H", "H"]
    bad = cli("summary", SPECS / "unet_keras.arch", "-D", "sise=64")
    assert bad.returncode == 1 and "did you mean 'size'" in bad.stderr


def test_check_validates_a_block_library():
    done = cli("check", SPECS / "torchvision/blocks/resnet.arch")
    assert done.returncode == 0 and "block library: BasicBlock, Bottleneck, ResNet" in done.stdout


def test_python_dash_m_archc(tmp_path):
    spec = tmp_path / "s.arch"
    spec.write_text("input x: [N, 3]\noutput y = x -> linear(2)\n")
    done = subprocess.run([sys.executable, "-m", "archc", "check", str(spec)], capture_output=True, text=True)
    assert done.returncode == 0 and "ok" in done.stdout


ENDS_WITHOUT_TEARDOWN = ("import atexit, sys; atexit.register(lambda: print('torn down', file=sys.stderr)); "
                         "from archc.cli import entry; entry()")


@pytest.mark.parametrize("text, code, out, err", [
    ("input x: [N, 3]\noutput y = x -> linear(2)\n", 0, "ok (1 layer, 8 parameters)", ""),
    ("input x: [N, 3]\noutput y = x -> linaer(2)\n", 1, "", "E-CALL-UNKNOWN-OP"),
])
def test_the_command_ends_its_process_with_its_output_and_status_and_no_teardown(tmp_path, text, code, out, err):
    """`archc` and `python -m archc` (cli.entry) end the process once the command is done: its
    output flushed and its exit status kept, without freeing what it built object by object
    (a third of a second for a 100,000-layer spec) or running the interpreter's teardown."""
    spec = tmp_path / "s.arch"
    spec.write_text(text)
    done = subprocess.run([sys.executable, "-c", ENDS_WITHOUT_TEARDOWN, "check", str(spec)], capture_output=True,
                          text=True)
    assert done.returncode == code
    assert out in done.stdout and err in done.stderr
    assert "torn down" not in done.stderr


# ----------------------------------------------------------------------------- stdin, colour, completion


def cli_in(*args, input, cwd=ROOT, env=None):
    return subprocess.run([sys.executable, "-m", "archc", *map(str, args)], capture_output=True,
                          text=True, cwd=cwd, input=input, env=env)


def test_dash_reads_the_spec_from_stdin_in_every_command_that_takes_one():
    arch = (SPECS / "cifar10_lenet.arch").read_text()
    yaml_text = (SPECS / "cifar10_lenet.yaml").read_text()
    assert cli_in("check", "-", input=arch).stdout.startswith("<stdin>: ok (")
    assert cli_in("check", "-", input=yaml_text).stdout.startswith("<stdin>: ok (")  # sniffed
    assert cli_in("check", "--lang", "yaml", "-", input=yaml_text).returncode == 0
    summary = cli_in("summary", "-", "--format", "json", input=yaml_text)
    assert json.loads(summary.stdout)["totals"]["params"] == 62_006
    assert cli_in("draw", "-", input=arch).stdout.startswith("digraph")
    assert "class Cifar10LeNet(nn.Module)" in cli_in("compile", "-", input=arch).stdout
    assert cli_in("fmt", "-", "--to", "yaml", input=arch).stdout.startswith("# The LeNet")
    # a block library, with imports relative to the current directory
    library = (SPECS / "torchvision/blocks/resnet.arch").read_text()
    done = cli_in("check", "-", input=library, cwd=SPECS / "torchvision/blocks")
    assert done.stdout.startswith("<stdin>: ok (block library: BasicBlock")


def test_stdin_errors_name_stdin_and_lang_overrides_the_guess(tmp_path):
    bad = "input x: [N, 4]\noutput y = x -> lineer(2)\n"
    for command in ("check", "summary", "compile", "draw"):
        done = cli_in(command, "-", input=bad)
        assert done.returncode == 1 and done.stdout == ""
        assert done.stderr.startswith("<stdin>:2:17: error[E-CALL-UNKNOWN-OP]: unknown op or block 'lineer'"), \
            command
    export = cli_in("export", "-", "--onnx", tmp_path / "never.onnx", input=bad)
    assert export.returncode == 1 and "Traceback" not in export.stderr
    assert "<stdin>:2:17" in export.stderr or "pip install" in export.stderr  # (without onnx)
    assert not (tmp_path / "never.onnx").exists()
    # YAML read as the DSL (forced) is a DSL syntax error, located in <stdin>
    forced = cli_in("check", "--lang", "arch", "-", input="inputs: {x: [N, 4]}\n")
    assert forced.returncode == 1 and forced.stderr.startswith("<stdin>:1:7: error")


def test_lang_reads_a_file_without_a_known_suffix(tmp_path):
    spec = tmp_path / "net.txt"
    spec.write_text("input x: [N, 4]\noutput y = x -> linear(2)\n")
    assert cli("check", spec).returncode == 1  # cannot tell the language
    assert cli("check", "--lang", "arch", spec).stdout.startswith(f"{spec}: ok (")


def test_a_pipe_named_as_a_file_is_read_once():
    """/dev/stdin (or a shell's <(...)) can be read once: fmt once read it for the text and
    again to parse, and printed nothing with exit 0."""
    text = "input x: [N, 4]\noutput y = x->linear(out=2)\n"
    formatted = cli_in("fmt", "--lang", "arch", "/dev/stdin", input=text)
    assert formatted.returncode == 0
    assert formatted.stdout == "input x: [N, 4]\n\noutput y = x -> linear(out=2)\n"
    assert cli_in("fmt", "--lang", "arch", "--check", "/dev/stdin", input=text).stdout.startswith(
        "would reformat")
    checked = cli_in("check", "--lang", "arch", "/dev/stdin", input=text)
    assert checked.stdout == "/dev/stdin: ok (1 layer, 10 parameters)\n"


def _pty_run(args, env):
    """Run the CLI with its stderr on a pseudo-terminal; return what it wrote there."""
    import os
    import pty
    master, slave = pty.openpty()
    try:
        proc = subprocess.run([sys.executable, "-m", "archc", *args], stdout=subprocess.DEVNULL,
                              stderr=slave, stdin=subprocess.DEVNULL, cwd=ROOT, env=env)
        os.close(slave)
        chunks = []
        while True:
            try:
                data = os.read(master, 4096)
            except OSError:  # EIO: the writer is gone
                break
            if not data:
                break
            chunks.append(data)
        return proc.returncode, b"".join(chunks).decode()
    finally:
        os.close(master)


def test_diagnostics_are_coloured_on_a_terminal_only_and_never_with_no_color(tmp_path):
    import os
    bad = tmp_path / "bad.arch"
    bad.write_text("input x: [N, 4]\noutput y = x -> lineer(2)\n")
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")}
    env["TERM"] = "xterm"
    rc, out = _pty_run(["check", str(bad)], env)
    assert rc == 1 and "\x1b[1;31merror[E-CALL-UNKNOWN-OP]:\x1b[0m" in out and "\x1b[1;32mhint:\x1b[0m" in out
    rc, out = _pty_run(["check", str(bad)], {**env, "NO_COLOR": "1"})
    assert rc == 1 and "error[E-CALL-UNKNOWN-OP]: unknown op" in out and "\x1b[" not in out
    piped = cli_in("check", bad, input="", env=env)  # not a terminal
    assert "error[E-CALL-UNKNOWN-OP]: unknown op" in piped.stderr and "\x1b[" not in piped.stderr
    forced = cli_in("check", bad, input="", env={**env, "FORCE_COLOR": "1"})
    assert "\x1b[1;31merror[E-CALL-UNKNOWN-OP]:\x1b[0m" in forced.stderr


def test_colour_decision():
    from archc.cli import use_color

    class Tty:
        def __init__(self, tty):
            self.tty = tty

        def isatty(self):
            return self.tty

    with pytest.MonkeyPatch.context() as mp:
        for name in ("NO_COLOR", "FORCE_COLOR"):
            mp.delenv(name, raising=False)
        mp.setenv("TERM", "xterm-256color")
        assert use_color(Tty(True)) and not use_color(Tty(False))
        mp.setenv("NO_COLOR", "1")
        assert not use_color(Tty(True))
        mp.setenv("FORCE_COLOR", "1")
        assert not use_color(Tty(True))  # NO_COLOR wins
        mp.delenv("NO_COLOR")
        assert use_color(Tty(False))
        mp.setenv("FORCE_COLOR", "0")
        assert not use_color(Tty(False))
        mp.delenv("FORCE_COLOR")
        mp.setenv("TERM", "dumb")
        assert not use_color(Tty(True))


def _subcommands():
    import argparse

    from archc.cli import build_parser
    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    return set(sub.choices)


def test_completion_scripts_know_every_command():
    import shutil
    commands = _subcommands()
    for shell in ("bash", "zsh", "fish"):
        done = cli("completion", shell)
        assert done.returncode == 0
        assert all(c in done.stdout for c in commands), shell
        if shutil.which(shell):  # syntax check where the shell is installed
            check = subprocess.run([shell, "-n"], input=done.stdout, text=True, capture_output=True)
            assert check.returncode == 0, (shell, check.stderr)
    assert cli("completion", "tcsh").returncode == 2


@pytest.mark.skipif(not __import__("shutil").which("bash"), reason="needs bash")
def test_bash_completion_completes_commands_options_choices_and_specs():
    script = cli("completion", "bash").stdout
    probe = script + """
t() { COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]}-1)); COMPREPLY=(); _archc;
      printf '%s\\n' "${COMPREPLY[*]}"; }
t archc co
t archc fmt --ch
t archc summary --format ""
t archc check resnet1
t archc completion ""
"""
    done = subprocess.run(["bash", "-c", probe], capture_output=True, text=True, cwd=SPECS)
    lines = done.stdout.splitlines()
    assert lines[0].split() == ["compile", "completion"]
    assert lines[1].split() == ["--check"]
    assert lines[2].split() == ["text", "json", "markdown"]
    assert sorted(lines[3].split()) == ["resnet101.arch", "resnet152.arch", "resnet18.arch", "resnet18.yaml"]
    assert lines[4].split() == ["bash", "zsh", "fish"]


# ----------------------------------------------------------------------------- errors of the CLI's own

def _main(capsys, *args):
    from archc.cli import main
    code = main([str(a) for a in args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_the_last_resorts_say_what_happened(capsys, monkeypatch):
    """A recursion past the parsers' own depth limits is the nesting error; running out of
    memory and a bug of ours (an internal error) have no catalogue code: the first is no
    property of the spec that a code could name, the second is not the user's to fix."""
    import archc.cli as cli_module

    def fails(error):
        def run(args):
            raise error
        return run

    spec = SPECS / "lenet5.arch"
    monkeypatch.setattr(cli_module, "_run", fails(RecursionError()))
    status, _, err = _main(capsys, "check", spec)
    assert status == 1 and err.startswith("archc: error[E-LIMIT-NESTING]: the spec is nested too deeply")
    assert "\n  hint: " in err
    monkeypatch.setattr(cli_module, "_run", fails(MemoryError()))
    status, _, err = _main(capsys, "check", spec)
    assert status == 1 and err.startswith("archc: error: out of memory") and "\n  hint: " in err
    monkeypatch.setattr(cli_module, "_run", fails(KeyError("x")))
    status, _, err = _main(capsys, "check", spec)
    assert status == 1 and err.startswith("archc: internal error: KeyError") and "\n  hint: " in err


def test_a_name_given_twice_is_refused_not_overridden(capsys):
    """`-D width=0.5 -D width=1.0` built the model at 1.0 without a word (every NAME=VALUE
    option: -D, --at, --input-size, diff's --a/--b; sweep's -p has E-SWEEP-PARAM-TWICE); a value
    listed twice in -p was evaluated twice."""
    import pytest
    from archc.cli import main
    spec = str(SPECS / "mobilenet_v2.arch")
    for argv in (["summary", spec, "-D", "width=0.5", "-D", "width=1.0"],
                 ["summary", spec, "--at", "H=224", "--at", "H=256"],
                 ["sweep", spec, "-p", "width=0.5,1.0,0.50"],
                 ["diff", spec, "--a", "num_classes=10", "--a", "num_classes=100"]):
        with pytest.raises(SystemExit) as stopped:
            main(argv)
        assert stopped.value.code == 2, argv
        assert "twice" in capsys.readouterr().err, argv
    assert main(["summary", spec, "-D", "width=0.5", "-D", "width=0.5", "--depth", "0"]) == 0  # the same value
