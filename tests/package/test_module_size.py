"""A newcomer reads a module in one sitting: none is over MAX_LINES lines unless its docstring
says why at the top ("longer than 800 lines because ...")."""
from __future__ import annotations

from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "archc"
MAX_LINES = 800
REASON = "longer than 800 lines because"


def test_no_module_is_over_800_lines_without_a_reason_at_its_top() -> None:
    too_long = []
    for path in sorted(PACKAGE.rglob("*.py")):
        lines = path.read_text().splitlines()
        head = "\n".join(lines[:20]).lower()
        if len(lines) > MAX_LINES and REASON not in head:
            too_long.append(f"{path.relative_to(PACKAGE.parent)}: {len(lines)} lines")
    assert not too_long, "split these modules, or say at the top why not:\n" + "\n".join(too_long)
