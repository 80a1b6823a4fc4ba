"""The command line, the JSON Schema, and documentation that must not go stale."""
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

import archc
from archc.ast import without_locs
from archc.frontend import parse_dsl, parse_yaml

ROOT = Path(__file__).resolve().parent.parent
SPECS = ROOT / "specs"
ALL_SPECS = sorted(SPECS.glob("*.arch")) + sorted(SPECS.glob("*.yaml"))


def cli(*args, cwd=ROOT):
    return subprocess.run([sys.executable, "-m", "archc.cli", *map(str, args)],
                          capture_output=True, text=True, cwd=cwd)


def test_check_accepts_every_zoo_spec():
    proc = cli("check", *ALL_SPECS)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count(": ok (") == len(ALL_SPECS)


def test_summary_text_has_keras_like_rows_and_totals():
    proc = cli("summary", SPECS / "cifar10_lenet.arch")
    assert proc.returncode == 0
    out = proc.stdout
    row = next(line for line in out.splitlines() if line.startswith("conv1 "))
    assert "Conv2d 6, 5×5" in row and "[N, 6, 28, 28]" in row and "456" in row
    assert re.search(r"Total params:\s+62,006", out)
    assert re.search(r"MACs per sample:", out) and "FLOPs" not in out


def test_summary_depth_collapses_blocks():
    full = cli("summary", SPECS / "resnet18.arch").stdout
    shallow = cli("summary", SPECS / "resnet18.arch", "--depth", "0").stdout
    one = cli("summary", SPECS / "resnet18.arch", "--depth", "1").stdout
    assert "layer1.0.conv1" in full and "layer1.0.conv1" not in one and "layer1.0 " in one
    assert "layer1.0" not in shallow and re.search(r"^layer1\s+Repeat ×2", shallow, re.M)


def test_summary_json_is_complete_and_consistent():
    proc = cli("summary", SPECS / "resnet18.arch", "--format", "json")
    data = json.loads(proc.stdout)
    assert data["totals"]["params"] == 11_689_512
    assert sum(layer["params"] for layer in data["layers"]) == 11_689_512
    by_id = {layer["id"]: layer for layer in data["layers"]}
    assert by_id["layer2.0.downsample.0"]["param_shapes"] == {"weight": [128, 64, 1, 1]}
    assert by_id["fc"]["output_shape"] == ["N", 1000]
    assert data["outputs"] == {"logits": ["N", 1000]}


def test_summary_markdown_table():
    out = cli("summary", SPECS / "chollet_convnet.arch", "--format", "markdown").stdout
    assert out.splitlines()[2].startswith("| Layer | Type | Output shape | Params | MACs |")
    assert "**Total params:** 104,202" in out


def test_define_overrides_a_param_and_makes_sizes_symbolic():
    proc = cli("summary", SPECS / "unet_keras.arch", "-D", "size=H", "--format", "json")
    data = json.loads(proc.stdout)
    assert data["constraints"] == ["H % 16 == 0", "H >= 16"]
    assert data["inputs"]["x"] == ["N", 3, "H", "H"]
    bad = cli("summary", SPECS / "unet_keras.arch", "-D", "sise=64")
    assert bad.returncode == 1 and "did you mean 'size'" in bad.stderr


def test_fmt_translates_both_ways_and_back(tmp_path):
    for spec in (SPECS / "unet_keras.arch", SPECS / "cifar10_lenet.yaml", SPECS / "torchvision/blocks/resnet.arch"):
        yaml_text = cli("fmt", spec, "--to", "yaml").stdout
        dsl_text = cli("fmt", spec, "--to", "arch").stdout
        original = archc_ast(spec)
        assert without_locs(parse_yaml(yaml_text)) == original
        assert without_locs(parse_dsl(dsl_text)) == original


def archc_ast(path):
    from archc.frontend import parse_file
    return without_locs(parse_file(path))


def test_schema_is_json_schema_listing_every_op():
    from archc.ops import REGISTRY
    schema = json.loads(cli("schema").stdout)
    assert schema["$schema"].startswith("https://json-schema.org/")
    steps = schema["$defs"]["Step"]["anyOf"]
    titles = {s.get("title") for s in steps}
    assert {op.name for op in REGISTRY.ops} <= titles
    conv2d = next(s for s in steps if s.get("title") == "conv2d")
    assert {"out", "kernel", "stride", "padding", "name", "frozen", "init"} <= set(conv2d["properties"])
    assert set(schema["properties"]) == {"model", "imports", "params", "inputs", "blocks", "body", "outputs",
                                         "training_outputs"}


def test_every_zoo_yaml_spec_matches_the_schema_structure():
    """The schema's top-level keys accept every YAML spec we ship (a light structural check;
    full validation is the editors' job)."""
    import yaml
    schema = json.loads(cli("schema").stdout)
    for path in SPECS.glob("*.yaml"):
        data = yaml.safe_load(path.read_text())
        assert set(data) <= set(schema["properties"]), path
        assert set(schema["required"]) <= set(data), path


def test_op_reference_is_current():
    from archc.backends.docs import render_reference
    committed = (ROOT / "docs" / "ops.md").read_text()
    assert committed == render_reference(), "run: archc docs -o docs/ops.md"


def test_language_reference_examples_are_the_same_valid_program():
    text = (ROOT / "docs" / "language.md").read_text()
    blocks = re.findall(r"```(?:yaml)?\n(.*?)```", text, re.S)
    dsl, yaml_text = blocks[:2]
    a = archc.loads(dsl, "arch")
    b = archc.loads(yaml_text, "yaml")
    assert without_locs(a.spec) == without_locs(b.spec)
    assert a.params == b.params > 0
    assert set(a.graph.outputs) == {"logits", "box"}
    # the second side-by-side pair: the tensor operations of modern networks
    modern = [(d, y) for d, y in zip(blocks, blocks[1:]) if d.startswith("model Modern") and
              y.startswith("model: Modern")]
    assert len(modern) == 1
    a, b = archc.loads(modern[0][0], "arch"), archc.loads(modern[0][1], "yaml")
    assert without_locs(a.spec) == without_locs(b.spec)
    assert a.state_dict_shapes() == b.state_dict_shapes()
    assert "stage1-0.layer_scale" in a.state_dict_shapes()


def test_readme_example_specs_are_the_zoo_files():
    readme = (ROOT / "README.md").read_text()
    for name in re.findall(r"# (specs/\S+)\n", readme):
        block = readme.split(f"# {name}\n", 1)[1].split("```", 1)[0]
        language = "yaml" if name.endswith(".yaml") else "arch"
        shown = archc.loads(block, language)
        assert without_locs(shown.spec) == without_locs(archc.load(ROOT / name).spec), name


def test_static_path_never_imports_torch():
    code = ("import sys, archc; m = archc.load('specs/resnet50.arch'); m.summary(); "
            "m.summary('json'); import archc.cli; "
            "assert 'torch' not in sys.modules, 'torch imported'; print('ok')")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert proc.stdout.strip() == "ok", proc.stderr


def test_api_load_exposes_graph_shapes_and_counts():
    model = archc.load(SPECS / "resnet18.arch", params={"num_classes": 10})
    assert model.shapes["layer2.0.conv1"][1:] == (128, 28, 28)
    assert model.params == 11_689_512 - 1000 * 513 + 10 * 513
    assert set(model.graph.nx.nodes) <= set(model.shapes)  # and the spec's tensor names
    assert model.graph.scopes[("layer2", "0")].type_name == "BasicBlock"


def test_check_validates_a_block_library():
    done = cli("check", SPECS / "torchvision/blocks/resnet.arch")
    assert done.returncode == 0 and "block library: BasicBlock, Bottleneck, ResNet" in done.stdout


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


def test_readme_command_table_lists_every_command():
    readme = (ROOT / "README.md").read_text()
    table = readme.split("## Command line", 1)[1].split("\n\n", 2)[1]
    listed = re.findall(r"^\| `archc (\w+)", table, re.M)
    assert len(listed) == len(set(listed))
    assert set(listed) == _subcommands()
    assert "| `python -m archc …` |" in table


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
