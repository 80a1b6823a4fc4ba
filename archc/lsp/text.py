"""Positions in spec text. archc's `Loc`s are 1-based (line, column) in code points, with an
optional exclusive end column on the same line; the server works with 0-based spans in code
points (`Span`) and converts to the client's units (UTF-16 by default) only at the protocol edge.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from archc.ast import Loc
from archc.frontend.comments import CodeScan

_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*|\d[\w.]*")
IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True, order=True)
class Span:
    """0-based, code points; `end_col` exclusive."""
    line: int
    col: int
    end_line: int
    end_col: int

    def contains(self, line: int, col: int) -> bool:
        """Whether a cursor at (line, col) touches the span (its end included, so a cursor
        right after a word is on it, as editors expect)."""
        if (line, col) < (self.line, self.col):
            return False
        return (line, col) <= (self.end_line, self.end_col)

    def within(self, other: Span) -> bool:
        return (other.line, other.col) <= (self.line, self.col) and \
            (self.end_line, self.end_col) <= (other.end_line, other.end_col)

    @property
    def size(self) -> tuple[int, int]:
        return (self.end_line - self.line, self.end_col - self.col)


def lines_of(text: str) -> list[str]:
    """The lines as archc counts them (a trailing newline ends the last line, it opens none)."""
    return text.split("\n")


def normalize(text: str) -> str:
    """Text as archc reads a file (CRLF and CR become LF), so that line numbers agree."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def word_end(line_text: str, col: int) -> int:
    """The end of the word (name or number) starting at `col`, or col + 1 when none does."""
    m = _WORD.match(line_text, col) if 0 <= col < len(line_text) else None
    return m.end() if m else min(col + 1, max(len(line_text), col + 1))


def loc_span(loc: Loc, lines: list[str] | None = None) -> Span:
    """The span of a `Loc`: to its end column when it has one, else over the word it points at
    (the CLI draws one caret there; an editor needs something to underline)."""
    line, end = loc_end(loc, lines)
    return Span(line, max(0, loc.col - 1), line, end)


def loc_end(loc: Loc, lines: list[str] | None = None) -> tuple[int, int]:
    """Where `loc_span(loc, lines)` ends, (line, column), without making the span."""
    line = max(0, loc.line - 1)
    if loc.end_col is not None and loc.end_col > loc.col:
        return line, loc.end_col - 1
    text = lines[line] if lines is not None and line < len(lines) else ""
    return line, word_end(text, max(0, loc.col - 1))


def name_span(lines: list[str], name: str, line: int, col: int, end_line: int | None = None) -> Span | None:
    """The span of the whole word `name` at (line, col) (0-based), or of its first occurrence
    as a whole word after it, up to `end_line` (inclusive); None if it is not there."""
    last = line if end_line is None else end_line
    for n in range(max(0, line), min(len(lines), last + 1)):
        text = lines[n]
        start = col if n == line else 0
        for m in IDENT.finditer(text, max(0, start)):
            if m.group() == name and not _in_string_or_comment(text, m.start()):
                return Span(n, m.start(), n, m.end())
    return None


def _in_string_or_comment(text: str, index: int) -> bool:
    head = text[:index]
    if "#" not in head and '"' not in head and "'" not in head:  # (most lines: nothing opens one)
        return False
    scan = CodeScan(text, stop=index)
    if any(ch == "#" for _, ch in scan):
        return True
    return scan.quote is not None


def word_at(lines: list[str], line: int, col: int) -> tuple[str, Span] | None:
    """The identifier under or just before the cursor."""
    if not 0 <= line < len(lines):
        return None
    text = lines[line]
    for m in IDENT.finditer(text):
        if m.start() <= col <= m.end():
            return m.group(), Span(line, m.start(), line, m.end())
    return None


def offset_of(lines: list[str], line: int, col: int) -> int:
    return sum(len(s) + 1 for s in lines[:line]) + col


def matching_close(text: str, start: int, open_: str = "{", close: str = "}") -> int | None:
    """Index of the bracket closing the one at or after `start` (strings and comments skipped),
    or None when it is not closed."""
    depth = 0
    for i, ch in CodeScan(text, start):
        if ch == open_:
            depth += 1
        elif ch == close:
            depth -= 1
            if depth == 0:
                return i
    return None


def position_of(text: str, offset: int) -> tuple[int, int]:
    before = text[:offset]
    line = before.count("\n")
    return line, offset - (before.rfind("\n") + 1)
