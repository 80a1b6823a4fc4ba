"""User errors: file:line:col, the source line with a caret, the problem in the spec's terms, a
hint; several independent errors reported together; exit 1 and no traceback from the CLI."""
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import archc
from archc.errors import SpecErrors


def errors_of(text: str, language: str = "arch", **params) -> list:
    with pytest.raises(SpecErrors) as info:
        archc.loads(textwrap.dedent(text), language, params or None, file="spec.arch")
    return info.value.errors


def only_error(text: str, **params):
    errs = errors_of(text, **params)
    assert len(errs) == 1, [e.render() for e in errs]
    return errs[0]


def test_concat_spatial_mismatch_names_both_sizes():
    err = only_error("""\
        input x: [N, 3, 28, 28]
        a = x -> conv2d(8, 3, padding=1)
        b = x -> conv2d(8, 2)
        output y = concat(a, b)
        """)
    assert "spatial sizes differ, 28×28 vs 27×27" in err.message
    assert "concat at line 4" in err.message
    assert (err.loc.line, err.loc.col) == (4, 12)


def test_add_channel_mismatch():
    err = only_error("""\
        input x: [N, 3, 16, 16]
        a = x -> conv2d(64, 3, padding=1)
        b = x -> conv2d(128, 3, padding=1)
        output y = a + b
        """)
    assert "64 vs 128" in err.message and "channels" in err.message
    assert err.loc.line == 4


def test_kernel_larger_than_input():
    err = only_error("""\
        input x: [N, 3, 3, 3]
        output y = x -> conv2d(8, 5)
        """)
    assert "kernel 5 is larger than the 3×3 input" in err.message
    assert "conv2d at line 2" in err.message


def test_unknown_op_suggests_the_closest():
    err = only_error("""\
        input x: [N, 3, 8, 8]
        output y = x -> conv2dd(8, 3)
        """)
    assert "unknown op or block 'conv2dd'" in err.message
    assert "conv2d" in err.hint


def test_unknown_attribute_suggests_the_closest():
    err = only_error("""\
        input x: [N, 3, 8, 8]
        output y = x -> conv2d(8, 3, strid=2)
        """)
    assert "no attribute 'strid'" in err.message
    assert "'stride'" in err.hint


def test_wrong_attribute_type():
    err = only_error("""\
        input x: [N, 3, 8, 8]
        output y = x -> conv2d(8, 3, bias=3)
        """)
    assert "attribute 'bias'" in err.message and "true or false" in err.message


def test_undefined_name_with_suggestion():
    err = only_error("""\
        input image: [N, 3, 8, 8]
        output y = imag -> relu
        """)
    assert "imag" in err.message
    assert "image" in (err.hint or "")


def test_unused_tensor():
    err = only_error("""\
        input x: [N, 3, 8, 8]
        a = x -> relu
        output y = x -> tanh
        """)
    assert "'a' is computed but never used" in err.message
    assert err.loc.line == 2


def test_cycle():
    errs = errors_of("""\
        input x: [N, 3, 8, 8]
        a = b -> relu
        b = a -> relu
        output y = a
        """)
    assert any("cycle: " in e.message for e in errs)


def test_independent_errors_are_all_reported_and_dependents_are_silent():
    errs = errors_of("""\
        input x: [N, 3, 8, 8]
        a = x -> conv2d(8, 9)
        b = a -> relu -> conv2d(4, 3)
        c = x -> linearr(3)
        output y = concat(b, c)
        """)
    messages = [e.message for e in errs]
    assert len(errs) == 2, messages
    assert "kernel 9" in messages[0] and "linearr" in messages[1]


def test_error_inside_a_block_names_the_instance_once():
    errs = errors_of("""\
        block Bad(c)(x) {
          return x -> conv2d(c, 3, groups=5)
        }
        input x: [N, 4, 8, 8]
        y = x -> Bad(8) -> Bad(8)
        output z = y
        """)
    assert len(errs) == 1
    assert errs[0].loc.line == 2
    assert any("Bad instance 'bad'" in n for n in errs[0].notes)


def test_rendered_error_has_location_source_line_and_caret():
    err = only_error("""\
        input x: [N, 3, 3, 3]
        output y = x -> conv2d(8, 5)
        """)
    text = err.render()
    lines = text.splitlines()
    assert lines[0].startswith("spec.arch:2:")
    assert "output y = x -> conv2d(8, 5)" in lines[1]
    assert "^" in lines[2]


def test_symbolic_condition_is_rejected_clearly():
    err = only_error("""\
        input x: [N, 3, H, W]
        y = x if x.height > 10 else x -> relu
        output z = y
        """)
    assert "symbolic size H" in err.message


def test_block_argument_errors():
    err = only_error("""\
        block B(out, stride = 1)(x) {
          return x -> conv2d(out, 3, stride=stride)
        }
        input x: [N, 3, 8, 8]
        output y = x -> B(8, strde=2)
        """)
    assert "no parameter 'strde'" in err.message and "'stride'" in err.hint


def test_missing_model_parameter_value():
    err = only_error("""\
        param classes
        input x: [N, 8]
        output y = x -> linear(classes)
        """)
    assert "'classes' has no value" in err.message and "-D classes=" in err.hint


def test_yaml_errors_point_into_the_yaml(tmp_path):
    text = textwrap.dedent("""\
        inputs:
          x: [N, 3, 8, 8]
        outputs:
          y: [x, {conv2d: [8, 3], strides: 2}]
        """)
    with pytest.raises(SpecErrors) as info:
        archc.loads(text, "yaml", file="spec.yaml")
    err = info.value.errors[0]
    assert err.loc.file == "spec.yaml" and err.loc.line == 4
    assert "'stride'" in err.hint


ROOT = Path(__file__).resolve().parents[2]


def run_cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "archc.cli", *args], capture_output=True, text=True,
                          cwd=cwd or ROOT)


def test_cli_exits_1_without_traceback_and_writes_no_partial_output(tmp_path):
    bad = tmp_path / "bad.arch"
    bad.write_text("input x: [N, 3, 3, 3]\noutput y = x -> conv2d(8, 5)\n")
    out = tmp_path / "summary.txt"
    proc = run_cli("summary", str(bad), "-o", str(out))
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    assert f"{bad}:2:" in proc.stderr and "kernel 5 is larger" in proc.stderr
    assert not out.exists()
    assert list(tmp_path.iterdir()) == [bad]


def test_cli_check_reports_missing_file_cleanly(tmp_path):
    proc = run_cli("check", str(tmp_path / "nope.arch"))
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr and "nope.arch" in proc.stderr
