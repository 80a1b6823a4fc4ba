"""Machine-applicable fixes (archc.errors.Fix): applied by `archc check --fix` and offered by the
language server as quick fixes. Applying is pure text editing (archc.fixes.apply)."""
from __future__ import annotations

from archc import fixes
from archc.ast import Loc
from archc.errors import Edit, Fix, SpecError, did_you_mean_fixes


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


def test_only_an_only_candidate_is_preferred() -> None:
    loc = Loc(file="m.arch", line=3, col=7)
    one = did_you_mean_fixes("conv2dd", loc, ["conv2d", "linear"])
    assert [(f.title, f.preferred) for f in one] == [("replace 'conv2dd' with 'conv2d'", True)]
    assert one[0].edits[0].loc == Loc(file="m.arch", line=3, col=7, end_col=14)
    several = did_you_mean_fixes("conv", loc, ["conv1d", "conv2d", "conv3d"])
    assert len(several) == 3 and not any(f.preferred for f in several)
    assert did_you_mean_fixes("zzz", loc, ["conv2d"]) == [] and did_you_mean_fixes("conv2dd", None, ["conv2d"]) == []
    errors = [SpecError("x", loc, fixes=one), SpecError("y", loc, fixes=several)]
    assert fixes.preferred_fixes(errors) == one
