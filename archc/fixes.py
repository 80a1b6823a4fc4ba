"""Applying the fixes diagnostics carry (`SpecError.fixes`) to a spec's text: what
`archc check --fix` writes and the language server's quick fixes edit. Pure text in, text out."""
from __future__ import annotations

from typing import Iterable

from archc.errors import Edit, Fix, SpecError


def preferred_fixes(errors: Iterable[SpecError]) -> list[Fix]:
    """The fixes to apply without asking: at most one per diagnostic, the one it prefers."""
    return [fix for err in errors for fix in err.fixes[:1] if fix.preferred]


def apply(text: str, file: str, fixes: Iterable[Fix]) -> tuple[str, list[Fix]]:
    """`text` (the contents of `file`) with every fix whose edits all lie in `file` and overlap
    no edit applied before it; returns the new text and the fixes applied."""
    lines = text.split("\n")
    taken: dict[int, list[tuple[int, int]]] = {}  # line -> character spans already edited
    applied: list[Fix] = []
    edits: list[Edit] = []
    for fix in fixes:
        if not fix.edits or any(not _fits(e, file, lines) or _overlaps(e, taken) for e in fix.edits):
            continue
        for e in fix.edits:
            taken.setdefault(e.loc.line, []).append(_span(e))
        edits.extend(fix.edits)
        applied.append(fix)
    # right to left, bottom to top: an edit never moves the columns of one still to come
    for e in sorted(edits, key=lambda e: (e.loc.line, e.loc.col), reverse=True):
        start, end = _span(e)
        line = lines[e.loc.line - 1]
        lines[e.loc.line - 1] = line[:start] + e.text + line[end:]
    return "\n".join(lines), applied


def _span(e: Edit) -> tuple[int, int]:
    start = e.loc.col - 1
    end = (e.loc.end_col if e.loc.end_col is not None else e.loc.col) - 1
    return start, end


def _fits(e: Edit, file: str, lines: list[str]) -> bool:
    if e.loc.file != file or not 1 <= e.loc.line <= len(lines):
        return False
    start, end = _span(e)
    return 0 <= start <= end <= len(lines[e.loc.line - 1])


def _overlaps(e: Edit, taken: dict[int, list[tuple[int, int]]]) -> bool:
    start, end = _span(e)
    return any(start < b and a < end or start == end == a for a, b in taken.get(e.loc.line, []))
