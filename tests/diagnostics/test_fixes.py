"""Machine-applicable fixes (archc.errors.Fix): applied by `archc check --fix` and offered by the
language server as quick fixes. Applying is pure text editing (archc.fixes.apply)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from archc import fixes
from archc.ast import Loc
from archc.errors import Edit, Fix, SpecError, did_you_mean_fixes, register_source


def _fix(line: int, col: int, end_col: int, text: str, file: str = "m.arch", preferred: bool = True) -> Fix:
    return Fix(f"edit {line}:{col}", (Edit(Loc(file=file, line=line, col=col, end_col=end_col), text),), preferred)


def test_edits_apply_right_to_left_so_columns_stay_valid() -> None:
    text = "a = x -> conv2dd(64, 3) -> batchnrm2d\nb = a\n"
    new, applied = fixes.apply(text, "m.arch", [_fix(1, 10, 17, "conv2d"), _fix(1, 28, 38, "batchnorm2d")])
    assert new == "a = x -> conv2d(64, 3) -> batchnorm2d\nb = a\n"
    assert len(applied) == 2


def test_an_insertion_and_a_multi_edit_fix() -> None:
    both = Fix("rename", (Edit(Loc(file="m.arch", line=1, col=1, end_col=2), "y"), Edit(Loc(file="m.arch", line=2, col=5, end_col=6), "y")), True)
    new, _ = fixes.apply("a = x\nb = a\n", "m.arch", [both, _fix(2, 1, 1, "# ")])
    assert new == "y = x\n# b = y\n"


def test_overlapping_fixes_and_edits_elsewhere_are_not_applied() -> None:
    text = "a = conv2dd\n"
    first, second = _fix(1, 5, 12, "conv2d"), _fix(1, 6, 9, "XX")
    new, applied = fixes.apply(text, "m.arch", [first, second, _fix(1, 1, 2, "b", file="other.arch"),
                                                _fix(9, 1, 2, "z")])
    assert new == "a = conv2d\n" and applied == [first]


def test_the_closest_name_is_preferred_only_when_it_is_clearly_the_one() -> None:
    register_source("typo.arch", "h = x -> conv2dd(64, 3) -> conv(8, 1) -> zzz\n")
    at = Loc(file="typo.arch", line=1, col=5)  # a pipe's location: the word is found after it
    one = did_you_mean_fixes("conv2dd", at, ["conv2d", "conv3d", "linear"])
    assert [(f.title, f.preferred) for f in one] == [("replace 'conv2dd' with 'conv2d'", True),
                                                    ("replace 'conv2dd' with 'conv3d'", False)]
    assert one[0].edits[0].loc == Loc(file="typo.arch", line=1, col=10, end_col=17)
    tie = did_you_mean_fixes("conv", at, ["conv1d", "conv2d", "conv3d"])  # as close as each other
    assert len(tie) == 3 and not any(f.preferred for f in tie)
    assert tie[0].edits[0].loc.col == 28  # the whole word 'conv', not the start of 'conv2dd'
    assert did_you_mean_fixes("zzz", at, ["conv2d"]) == []  # nothing close
    assert did_you_mean_fixes("conv2dd", None, ["conv2d"]) == []  # nowhere to edit
    assert did_you_mean_fixes("relu", at, ["elu"]) == []  # not written there: no edit in a wrong place
    errors = [SpecError("x", at, fixes=one), SpecError("y", at, fixes=tie)]
    assert fixes.preferred_fixes(errors) == one[:1]


def test_check_fix_rewrites_the_file_and_says_what_it_fixed(tmp_path: Path) -> None:
    spec = tmp_path / "m.arch"
    spec.write_text("model M\nparam width = 8\ninput x: [1, 3, 16, 16]\n"
                    "h = x -> conv2dd(widht, 3, strid=1) -> batchnrm2d -> relu\n"
                    "output y = h -> global_avg_pool -> flatten -> linear(10)\n")
    run = subprocess.run([sys.executable, "-m", "archc", "check", "--fix", str(spec)], capture_output=True,
                         text=True)
    assert run.returncode == 0, run.stderr
    assert spec.read_text().splitlines()[3] == "h = x -> conv2d(width, 3, stride=1) -> batchnorm2d -> relu"
    assert sorted(line.split("fixed: ")[1] for line in run.stderr.splitlines()) == [
        "replace 'batchnrm2d' with 'batchnorm2d'", "replace 'conv2dd' with 'conv2d'",
        "replace 'widht' with 'width'", "replace attribute 'strid' with 'stride'"]
    assert "ok (" in run.stdout


def test_check_fix_leaves_an_ambiguous_name_and_a_clean_file_alone(tmp_path: Path) -> None:
    spec = tmp_path / "m.arch"
    text = "model M\ninput x: [1, 3, 16, 16]\noutput y = x -> conv(8, 3)\n"
    spec.write_text(text)
    run = subprocess.run([sys.executable, "-m", "archc", "check", "--fix", str(spec)], capture_output=True,
                         text=True)
    assert run.returncode == 1 and "fixed" not in run.stderr and spec.read_text() == text


def test_a_duplicate_name_points_at_the_first_and_a_reserved_one_is_renamed() -> None:
    import archc
    from archc.errors import SpecErrors
    with pytest.raises(SpecErrors) as caught:
        archc.loads("model M\ninput x: [1, 3, 8, 8]\nh = x -> conv2d(4, 3, name=conv)\n"
                    "output y = h -> conv2d(4, 3, name=conv)\n", file="dup.arch")
    err = caught.value.errors[0]
    assert err.code == "E-NAME-LAYER-DUPLICATE"
    assert [(r.message, r.loc.line, r.loc.col) for r in err.related] == [("first used here", 3, 10)]
    assert "note: first used here: dup.arch:3:10" in err.render()
    with pytest.raises(SpecErrors) as caught:
        archc.loads("model M\ninput x: [1, 3, 8, 8]\noutput y = x -> relu(name=train)\n", file="res.arch")
    (fix,) = caught.value.errors[0].fixes
    assert fix.preferred and fix.edits[0].text == "train_" and fix.edits[0].loc.col == 27


def test_an_unknown_word_passed_into_a_block_points_back_where_it_was_written() -> None:
    """The word is an error only where the block calls it; the note shows the caller's argument
    (found writing timm's MobileNetV3: the error named only the block's line)."""
    import archc
    from archc.errors import SpecErrors
    with pytest.raises(SpecErrors) as caught:
        archc.loads("model U\ninput x: [N, 8, 8, 8]\n"
                    "block SE(c, gate)(x) {\n  s = x -> conv2d(c, 1) -> gate\n  return x * s\n}\n"
                    "block IR(c)(x) {\n  return x -> SE(c, hard_gate)\n}\noutput y = x -> IR(8)\n", file="u.arch")
    err = caught.value.errors[0]
    assert err.code == "E-CALL-NOT-CALLABLE" and err.loc.line == 4
    assert [(r.message, r.loc.line, r.loc.col) for r in err.related] == [("'hard_gate' is written here", 8, 21)]


def test_check_fix_edits_a_yaml_spec_in_place(tmp_path: Path) -> None:
    spec = tmp_path / "m.yaml"
    spec.write_text('model: M\ninputs:\n  x: [N, 3, 16, 16]\nbody:\n  h: [x, {conv2dd: [8, 3], strid: 1}, relu]\n'
                    'outputs:\n  y: "h -> batchnrm2d"\n')
    run = subprocess.run([sys.executable, "-m", "archc", "check", "--fix", str(spec)], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert spec.read_text().splitlines()[4:] == ['  h: [x, {conv2d: [8, 3], stride: 1}, relu]', 'outputs:',
                                                  '  y: "h -> batchnorm2d"']
