"""Warnings for valid but suspicious specs (a linear layer on a feature map, softmax over a
spatial axis), none for the intended uses, once per block, and `--strict` making them errors."""
from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import archc
from archc.errors import SpecErrors

ROOT = Path(__file__).resolve().parents[2]
SPECS = ROOT / "specs"


def cli(*args, cwd=ROOT):
    return subprocess.run([sys.executable, "-m", "archc.cli", *map(str, args)], capture_output=True,
                          text=True, cwd=cwd)


def load(text: str, language: str = "arch", **kwargs):
    return archc.loads(textwrap.dedent(text), language, file="spec.arch", **kwargs)


SUSPICIOUS = """\
    input x: [N, 3, 32, 32]
    f = x -> conv2d(8, 3, padding=1) -> relu
    output y = f -> linear(10)
    output z = f -> softmax(dim=-1)
    """


def test_linear_on_a_feature_map_and_softmax_over_space_warn():
    model = load(SUSPICIOUS)
    assert [(w.severity, w.loc.line, w.loc.col) for w in model.warnings] == [("warning", 3, 17), ("warning", 4, 17)]
    linear, softmax = model.warnings
    assert "linear is applied to the rank-4 tensor [N, 8, 32, 32] without flatten" in linear.message
    assert "flatten" in linear.hint and "axis=-1" in linear.hint
    assert "softmax over axis -1 of [N, 8, 32, 32], a spatial axis" in softmax.message
    assert "dim=1" in softmax.hint
    assert linear.render().startswith("spec.arch:3:17: warning[W-SHAPE-LINEAR-FEATURE-MAP]: linear is applied")
    assert model.params == 8 * 3 * 9 + 8 + 32 * 10 + 10  # still a valid model


def test_strict_makes_warnings_errors():
    with pytest.raises(SpecErrors) as info:
        load(SUSPICIOUS, strict=True)
    errs = info.value.errors
    assert [e.severity for e in errs] == ["error", "error"]
    assert "without flatten" in errs[0].message and any("strict" in n for n in errs[0].notes)


@pytest.mark.parametrize("tail", [
    "-> flatten -> linear(10)",                       # flattened first
    "-> adaptive_avgpool2d(1) -> flatten -> linear(10)",
    "-> linear(10, axis=-1)",                          # the last axis, said explicitly
    "-> linear(10, axis=1)",                           # the channels at every position
    "-> permute([0, 2, 3, 1]) -> linear(10)",          # channels-last, as ConvNeXt
    "-> softmax", "-> log_softmax(dim=1)", "-> softmax(dim=-3)",
    "-> flatten(start_dim=2) -> softmax(dim=-1)",      # a distribution over positions, on purpose
    "-> flatten -> linear(10) -> softmax(dim=-1)",
])
def test_intended_uses_do_not_warn(tail):
    model = load(f"input x: [N, 3, 32, 32]\noutput y = x -> conv2d(8, 3, padding=1) {tail}\n")
    assert model.warnings == []


def test_log_softmax_over_height_and_linear_on_a_volume_warn():
    model = load("""\
        input x: [N, 3, 8, 16, 16]
        f = x -> conv3d(4, 3, padding=1)
        output a = f -> linear(5)
        output b = f -> log_softmax(dim=2)
        """)
    assert ["rank-5" in w.message or "log_softmax over axis 2" in w.message for w in model.warnings] == [True, True]


def test_a_warning_in_a_block_is_given_once_and_one_in_a_branch_not_taken_is_dropped():
    model = load("""\
        block Head(c)(x) {
          return x -> linear(c)
        }
        param flat = true
        input x: [N, 3, 8, 8]
        h = x -> Head(4) -> Head(4)
        s = x -> softmax(dim=2)
        output y = h
        output z = (x -> flatten) if flat else (s -> flatten)
        """)
    assert len(model.warnings) == 1 and model.warnings[0].loc.line == 2
    assert any("Head instance" in n for n in model.warnings[0].notes)


def test_cli_prints_warnings_and_strict_fails(tmp_path):
    spec = tmp_path / "suspicious.arch"
    spec.write_text(textwrap.dedent(SUSPICIOUS))
    check = cli("check", spec)
    assert check.returncode == 0 and "ok (" in check.stdout and "2 warnings" in check.stdout
    assert f"{spec}:3:17: warning[W-SHAPE-LINEAR-FEATURE-MAP]: linear is applied" in check.stderr and "hint: flatten first" in check.stderr
    summary = cli("summary", spec)
    assert summary.returncode == 0 and summary.stderr.count(": warning[W-SHAPE-") == 2 and "Total params" in summary.stdout
    for command in (["check"], ["summary"], ["draw", "-o", tmp_path / "d.dot"], ["compile", "-o", tmp_path / "m.py"],
                    ["export", "--onnx", tmp_path / "m.onnx"]):
        strict = cli(command[0], spec, *command[1:], "--strict")
        assert strict.returncode == 1, (command, strict.stderr)
        assert f"{spec}:3:17: error[W-SHAPE-LINEAR-FEATURE-MAP]: linear is applied" in strict.stderr and "Traceback" not in strict.stderr
        assert "2 errors" in strict.stderr
    assert not any(tmp_path.glob("d.dot")) and not any(tmp_path.glob("m.*"))
    clean = cli("check", "--strict", SPECS / "resnet18.arch")
    assert clean.returncode == 0 and clean.stderr == ""
