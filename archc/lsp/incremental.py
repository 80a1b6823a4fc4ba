"""Re-analysing only what an edit can change (issue 23).

An edit reaches diagnostics by the cheapest of three paths, each giving exactly the diagnostics
a check of the whole new text would:

1. **Same meaning** (`remapped`): the edit changed only comments, blank lines or trailing blanks
   relative to a recent check of the document (its last few finished checks are kept, so undoing
   an edit is this case too). Comments and blank lines are not part of the program (the DSL's
   lexer skips them; they are trivia in the AST), so that check's errors and warnings hold; only
   the lines they are on may have moved. They are carried over with their lines mapped, without
   parsing or elaborating: the cost is comparing the changed lines, not the file. Back at a
   checked text, that check is the result, whole; where no line moved, its model is kept too (the
   same layers at the same places: hover and inlay hints read it at once).
2. **Live** (`Server._check_live`, `archc.lsp.live`): a document with a live state to resume
   from (its last parse and elaboration session, where archc.frontend.incremental and
   archc.ir.resume provide them: an edit costs what it changed), or one whose last check took
   under `IN_PROCESS_BELOW` CPU seconds and whose text is short, is checked in the server's
   process (no fork, no pickling: those cost more than such a check) on a thread of its own,
   with the evaluator's time limit cut to `IN_PROCESS_SECONDS` for a new program (not for the
   whole check after path 1: the same program as a finished check); a check that reaches a
   limit is thrown away and made in a process of its own, as any other.
3. Otherwise, a check in a process of its own (`archc.lsp.worker`), as before; then the live
   state is brought to that text on the live thread, for the next edit to resume from.

Path 1 applies to `.arch` text only (YAML's indentation is its structure), to checks whose text
parsed (a syntax error's recovery reads tokens, not only statements) and reached no limit (time
and memory are not the text's), when none of the files the check read has changed since (their
parse-cache keys are kept with it), and when no message names a line number (`first at line 3`,
`used at line 9`: it may be another file's) or points at a line that has no code any more. Where
lines moved, the server still makes the whole check once typing pauses (`FULL_CHECK_AFTER`), for
the model that hover and inlay hints read by position; it publishes it only if it says something
else, which it never should (tests/lsp/test_incremental.py compares the two on random edits).
"""
from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from archc.ast import Loc
from archc.errors import Edit, Fix, Related, SpecError
from archc.frontend.comments import CodeScan
from archc.lsp.analysis import CheckResult, ParseCache, same_file
from archc.lsp.text import lines_of

# how many finished checks of a document are kept as bases for path 1 (each holds its model:
# fewer of a long document's)
KEPT = 4
KEPT_LONG = 2
LONG = 100_000  # characters
# a check that took less than this (CPU seconds) is made again in the server's process (path 2) ...
IN_PROCESS_BELOW = 0.1
# ... for a text up to this long (characters: parsing costs about 8 µs one)
IN_PROCESS_CHARS = 20_000
# ... with the evaluator stopped after this long (seconds); then it goes to a process
IN_PROCESS_SECONDS = 0.3
# after diagnostics carried over (path 1), the whole check waits this long (seconds) for typing
# to pause
FULL_CHECK_AFTER = 0.3

_LINE_NUMBER = re.compile(r"\blines? \d")


def code_of(line: str) -> str:
    """A line's code: without its comment and trailing blanks ('' for a blank or comment line)."""
    if "#" in line:
        for i, ch in CodeScan(line):
            if ch == "#":
                line = line[:i]
                break
    return line.rstrip(" \t\f")  # not a trailing backslash: it continues the line


@dataclass(frozen=True)
class LineMap:
    """Where each line of the old text is in the new one (0-based): lines before `start` stay,
    lines from `old_end` on move by `delta`, and code lines between move as `middle` says
    (a line of no code there maps to nothing)."""
    start: int
    old_end: int
    delta: int
    middle: dict[int, int]

    def __call__(self, line: int) -> int | None:
        if line < self.start:
            return line
        if line >= self.old_end:
            return line + self.delta
        return self.middle.get(line)

    @property
    def identity(self) -> bool:
        return self.delta == 0 and all(k == v for k, v in self.middle.items())


def line_map(old: str, new: str, old_lines: list[str] | None = None,
             new_lines: list[str] | None = None) -> LineMap | None:
    """The map from `old`'s lines to `new`'s when the two differ only in comments, blank lines
    and trailing blanks; None when any code changed (`old_lines`, `new_lines`: their lines, if
    split already). Costs the changed lines, plus a comparison of the unchanged ones (in C)."""
    a = lines_of(old) if old_lines is None else old_lines
    b = lines_of(new) if new_lines is None else new_lines
    n = min(len(a), len(b))
    start = 0
    step = 256  # compare slices first: list equality runs in C
    while start < n and a[start:start + step] == b[start:start + step]:
        start += step
    start = min(start, n)  # every line before is equal; the first that differs is in this step
    while start < n and a[start] == b[start]:
        start += 1
    end = 0
    limit = n - start
    while end + step <= limit and a[len(a) - end - step:len(a) - end] == b[len(b) - end - step:len(b) - end]:
        end += step
    while end < limit and a[len(a) - 1 - end] == b[len(b) - 1 - end]:
        end += 1
    for order in (range, _backwards):  # the code lines nearest each end first: a program edit
        # differs there mostly (a statement appended to a text that differs from this base's
        # higher up too), where comparing every code line between costs the whole file
        if _first_code(a, order(start, len(a) - end)) != _first_code(b, order(start, len(b) - end)):
            return None
    old_mid = [(k, c) for k in range(start, len(a) - end) if (c := code_of(a[k]))]
    new_mid = [(k, c) for k in range(start, len(b) - end) if (c := code_of(b[k]))]
    if [c for _, c in old_mid] != [c for _, c in new_mid]:
        return None
    return LineMap(start, len(a) - end, len(b) - len(a), {o: m for (o, _), (m, _) in zip(old_mid, new_mid)})


def _backwards(start: int, stop: int) -> range:
    return range(stop - 1, start - 1, -1)


def _first_code(lines: list[str], indices: range) -> str | None:
    """The code of the first line of `indices` that has any."""
    for k in indices:
        code = code_of(lines[k])
        if code:
            return code
    return None


@dataclass
class Base:
    """A finished check kept as a base for path 1, with the parse-cache keys of what it read."""
    result: CheckResult
    keys: dict[str, tuple]
    _lines: list[str] | None = None

    @property
    def lines(self) -> list[str]:
        """Its text's lines (split once: every edit compares them)."""
        if self._lines is None:
            self._lines = lines_of(self.result.text)
        return self._lines


def keys_of(result: CheckResult, cache: ParseCache) -> dict[str, tuple]:
    return {p: cache.key_of(p) for p in result.imported}


def usable(result: CheckResult) -> bool:
    """Whether a check can serve as a base for path 1."""
    if result.language != "arch" or result.internal is not None or result.spec is None:
        return False
    for err in (*result.errors, *result.warnings):
        own = err.loc is None or same_file(err.loc.file, result.path)
        if (own and (err.code or "").startswith("E-SYNTAX")) or (err.code or "").startswith("E-LIMIT"):
            return False  # limits depend on time and memory, not only on the text
        words = [err.message, err.hint or "", *err.notes, *(r.message for r in err.related)]
        if any(_LINE_NUMBER.search(w) for w in words):
            return False
    return True


@dataclass
class Carried:
    """A check carried over to a new text: `result` (its diagnostics in the new text's lines),
    `sites` (the import sites, moved: for `resolver`), and whether the text is the base's own
    (`same_text`: the base's result as it is, complete) or its lines did not move (`in_place`:
    the model's positions hold, so hover and inlay hints can read it at once)."""
    result: CheckResult
    sites: Any
    same_text: bool
    in_place: bool


def remapped(bases: list[Base], text: str, version: int | None, cache: ParseCache) -> Carried | None:
    """The base with the same meaning as `text`, carried over to it, or None: one of the same
    text if any (complete), else the newest whose lines did not move (its model holds), else the
    newest."""
    current = [b for b in bases if all(cache.key_of(p) == k for p, k in b.keys.items())]  # imports unchanged
    for base in reversed(current):
        if base.result.text == text:
            return Carried(dataclasses.replace(base.result, version=version), base.result.index, True, True)
    found: Carried | None = None
    lines = lines_of(text)
    for base in reversed(current):
        old = base.result
        mapping = line_map(old.text, text, base.lines, lines)
        moved = _moved(old, text, version, mapping) if mapping is not None else None
        if moved is None:
            continue
        if mapping.identity:  # the same program at the same places: its shapes, for hover
            moved.model, moved.partial = old.model, old.partial
            return Carried(moved, _MovedIndex.of(old.index, mapping), False, True)
        found = found or Carried(moved, _MovedIndex.of(old.index, mapping), False, False)
    return found


def _moved(old: CheckResult, text: str, version: int | None, mapping: LineMap) -> CheckResult | None:
    path = old.path

    def loc(where: Loc | None) -> Loc | None | bool:
        if where is None or not same_file(where.file, path):
            return where
        line = mapping(where.line - 1)
        if line is None:
            return False  # its line has no code any more
        return where if line == where.line - 1 else dataclasses.replace(where, line=line + 1)

    def relocated(err: SpecError) -> SpecError | None:
        at = loc(err.loc)
        related = [(r, loc(r.loc)) for r in err.related]
        fixes = [(f, [(e, loc(e.loc)) for e in f.edits]) for f in err.fixes]
        if at is False or any(x is False for _, x in related) or \
                any(x is False for _, edits in fixes for _, x in edits):
            return None
        return dataclasses.replace(
            err, loc=at, related=[Related(x, r.message) for r, x in related],
            fixes=[Fix(f.title, tuple(Edit(x, e.text) for e, x in edits), f.preferred) for f, edits in fixes])

    errors, warnings = [], []
    for source, target in ((old.errors, errors), (old.warnings, warnings)):
        for err in source:
            moved = relocated(err)
            if moved is None:
                return None
            target.append(moved)
    return CheckResult(path, old.language, text, version, errors=errors, warnings=warnings,
                       library=old.library, imported=set(old.imported), seconds=old.seconds)


class _MovedIndex:
    """Enough of a DocumentIndex for `analysis.diagnostics`: its import sites, moved."""

    def __init__(self, imports: list[Any], file: str):
        self.imports, self.file = imports, file

    @staticmethod
    def of(index: Any, mapping: LineMap) -> Any:
        if index is None:
            return None
        sites = []
        for site in index.imports:
            line = mapping(site.span.line)
            span = site.span if line is None else dataclasses.replace(
                site.span, line=line, end_line=line + site.span.end_line - site.span.line)
            sites.append(dataclasses.replace(site, span=span))
        return _MovedIndex(sites, index.file)


def resolver(project: Any, sites: Any) -> Callable[[Any], list]:
    """`analysis.diagnostics`'s `resolve` for a carried result: the import closures of `sites`
    (the base's import sites, moved; the files they import did not change)."""
    def resolve(_index: Any) -> list:
        return project.import_closures(sites)
    return resolve


def remember(bases: list[Base], result: CheckResult, cache: ParseCache) -> None:
    """Keep a finished check as a base (the newest last; `KEPT` at most, `KEPT_LONG` of a long
    text; one per text)."""
    if not usable(result):
        return
    kept = KEPT if len(result.text) <= LONG else KEPT_LONG
    bases[:] = [b for b in bases if b.result.text != result.text][-(kept - 1):]
    bases.append(Base(result, keys_of(result, cache)))

