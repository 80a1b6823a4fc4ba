"""User-facing errors: every one points at the spec (file:line:col), shows the line with a caret,
says what is wrong in the spec's own terms, and gives a hint. Stages collect independent errors
into a `Diagnostics` and raise them together as one `SpecErrors`."""
from __future__ import annotations

import difflib
import functools
import os
from dataclasses import dataclass, field
from typing import Iterable

from archc.ast import Loc

# Source texts by file name, registered by the front ends so that errors can quote lines; each
# text is split into lines once, on the first line asked for (and again only when the file is
# registered anew), so that quoting N errors costs the file's size once, not N times over.
_SOURCES: dict[str, str] = {}
_LINES: dict[str, list[str]] = {}


def register_source(file: str, text: str) -> None:
    if _SOURCES.get(file) is not text:
        _LINES.pop(file, None)
    _SOURCES[file] = text


def source_line(file: str, line: int) -> str | None:
    lines = _LINES.get(file)
    if lines is None:
        text = _SOURCES.get(file)
        if text is None:
            return None
        lines = _LINES[file] = text.splitlines()
    return lines[line - 1] if 0 < line <= len(lines) else None


# ANSI styles of the coloured rendering (as gcc and clang colour theirs)
_ESC = "\x1b["
_STYLES = {"loc": "1", "error": "1;31", "warning": "1;35", "note": "1;36", "hint": "1;32",
           "caret": "1;32"}


@dataclass(frozen=True)
class Related:
    """Another place a diagnostic concerns, as rustc's and clang's secondary labels: "first named
    here", "defined here"."""
    loc: Loc
    message: str


@dataclass(frozen=True)
class Edit:
    """Replace the text of one line from `loc.col` up to `loc.end_col` (exclusive; equal to
    `col` for an insertion) by `text`."""
    loc: Loc
    text: str


@dataclass(frozen=True)
class Fix:
    """A rewrite of the spec that resolves a diagnostic, applied by `archc check --fix` and
    offered by the language server as a quick fix. `preferred`: the fix (one per diagnostic at
    most) that --fix applies without asking; the others (several did-you-mean candidates) are
    offered only."""
    title: str
    edits: tuple[Edit, ...]
    preferred: bool = False


def word_at(loc: Loc | None, word: str) -> Loc | None:
    """Where `word` is written as a whole word on `loc`'s line, at `loc.col` or the first place
    after it (a call's location may be its pipe's start); None where the source does not show it
    (no fix is better than an edit in the wrong place)."""
    if loc is None or not word:
        return None
    line = source_line(loc.file, loc.line)
    if line is None:
        return None
    start = loc.col - 1
    while True:
        start = line.find(word, start)
        if start < 0:
            return None
        end = start + len(word)
        before = line[start - 1] if start else " "
        after = line[end] if end < len(line) else " "
        if not (before.isalnum() or before == "_" or after.isalnum() or after == "_"):
            return Loc(file=loc.file, line=loc.line, col=start + 1, end_col=end + 1)
        start = end


def replacement(loc: Loc | None, old: str, new: str, title: str, preferred: bool = True) -> list[Fix]:
    """The fix that rewrites the word `old` written at (or just after) `loc` as `new`; none where
    the source does not show `old` there."""
    where = word_at(loc, old)
    return [] if where is None else [Fix(title, (Edit(where, new),), preferred)]


def did_you_mean_fixes(word: str, loc: Loc | None, candidates: Iterable[str], what: str = "") -> list[Fix]:
    """One fix per close candidate for a misspelt `word` at `loc`. The closest is preferred (what
    --fix applies) only when no other candidate is as close and it is clearly close: --fix never
    guesses between two equally likely names."""
    close = _close(word, candidates)
    similarity = [difflib.SequenceMatcher(None, word, c).ratio() for c in close]
    best = max(similarity, default=0.0)
    clear = similarity.count(best) == 1 and best >= PREFERRED_SIMILARITY
    label = f"{what} " if what else ""
    return [fix for c, r in zip(close, similarity)
            for fix in replacement(loc, word, c, f"replace {label}'{word}' with '{c}'", preferred=clear and r == best)]


# how alike (difflib's ratio) a misspelling and the one name closest to it must be for --fix to
# apply the rename: conv2dd/conv2d is 0.92, batchnrm2d/batchnorm2d 0.95, widht/width 0.8
PREFERRED_SIMILARITY = 0.8


@dataclass
class SpecError(Exception):
    message: str
    loc: Loc | None = None
    hint: str | None = None
    notes: list[str] = field(default_factory=list)
    severity: str = "error"
    # The stable catalogue code (`E-SHAPE-CONCAT`, `W-LINEAR-FEATURE-MAP`): printed with the
    # message, explained by `archc explain CODE` and docs/errors.md.
    code: str | None = None
    related: list[Related] = field(default_factory=list)
    fixes: list[Fix] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.hint and self.code:  # every error has a hint: the catalogue's, if none here
            from archc.codes import default_hint
            self.hint = default_hint(self.code)

    def __str__(self) -> str:
        return self.render()

    def as_error(self) -> "SpecError":
        """This warning as an error (strict mode, --strict), saying so in a note."""
        return SpecError(self.message, self.loc, self.hint,
                         [*self.notes, "a warning, made an error by strict mode (--strict)"],
                         code=self.code, related=self.related, fixes=self.fixes)

    def render(self, color: bool = False) -> str:
        """The diagnostic as text; `color`: with ANSI colours (the CLI decides: a terminal and
        no NO_COLOR, see `archc.cli.use_color`)."""
        def paint(text: str, style: str) -> str:
            return f"\x1b[{_STYLES[style]}m{text}\x1b[0m" if color else text

        where = paint(f"{self.loc}:", "loc") + " " if self.loc else ""
        label = f"{self.severity}[{self.code}]:" if self.code else f"{self.severity}:"
        severity = paint(label, self.severity if self.severity in _STYLES else "error")
        out = [f"{where}{severity} {paint(self.message, 'loc')}"]
        if self.loc:
            text = source_line(self.loc.file, self.loc.line)
            if text is not None:
                gutter = f"{self.loc.line:>5} | "
                out.append(gutter + text)
                width = max(1, (self.loc.end_col or self.loc.col + 1) - self.loc.col)
                out.append(" " * (len(gutter) - 2) + "| " + " " * (self.loc.col - 1) +
                           paint("^" * width, "caret"))
        for r in self.related:
            out.append(f"  {paint('note:', 'note')} {r.message}: {paint(str(r.loc), 'loc')}")
            text = source_line(r.loc.file, r.loc.line)
            if text is not None:
                out.append(f"{r.loc.line:>5} | {text}")
        out.extend(f"  {paint('note:', 'note')} {n}" for n in self.notes)
        if self.hint:
            out.append(f"  {paint('hint:', 'hint')} {self.hint}")
        text = "\n".join(out)
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate (text from the API): printable as an escape
            text = text.encode("utf-8", "backslashreplace").decode("utf-8")
        return text

    def to_json(self) -> dict:
        return {"severity": self.severity, "code": self.code, "message": self.message, "hint": self.hint,
                "notes": self.notes,
                "file": self.loc.file if self.loc else None,
                "line": self.loc.line if self.loc else None,
                "col": self.loc.col if self.loc else None,
                "related": [{"message": r.message, "file": r.loc.file, "line": r.loc.line, "col": r.loc.col}
                            for r in self.related],
                "fixes": [{"title": f.title, "preferred": f.preferred,
                           "edits": [{"file": e.loc.file, "line": e.loc.line, "col": e.loc.col,
                                      "end_col": e.loc.end_col, "text": e.text} for e in f.edits]}
                          for f in self.fixes]}


class SpecErrors(Exception):
    """One or more independent errors, raised together. `errors` holds every one (the API, the
    language server and `--fix` see them all); the rendering (`render`, `str`, what the CLI
    prints) shows the first `ARCHC_MAX_ERRORS` (100 by default) and says how many more there
    are, so that a file of 25,000 broken lines is reported in a screenful and in linear time.
    The text is rendered when asked for, not when the exception is made (a stage may make and
    catch many)."""

    def __init__(self, errors: Iterable[SpecError]):
        self.errors = list(errors)
        # the graph of what did elaborate around the errors (archc.ir.graph.Graph), when
        # elaboration got that far: the language server shows its shapes while a line is broken
        self.partial = None
        super().__init__()

    def __str__(self) -> str:
        return self.render()

    def render(self, color: bool = False, limit: int | None = None) -> str:
        """The errors as text: the first `limit` (default: the ARCHC_MAX_ERRORS limit), then
        "and N more errors", then the total."""
        if limit is None:
            limit = _max_errors()
        shown = self.errors[:limit]
        body = "\n\n".join(e.render(color) for e in shown)
        n = len(self.errors)
        count = f"{n} error{'s' if n != 1 else ''}"
        if n > len(shown):
            more = n - len(shown)
            body += (f"\n\n... and {more:,} more error{'s' if more != 1 else ''} (the first "
                     f"{len(shown):,} are shown; set ARCHC_MAX_ERRORS to show more)")
        if color:
            count = f"{_ESC}{_STYLES['error']}m{count}{_ESC}0m"
        return f"{body}\n\n{count}"


# How many errors a rendering shows by default (archc.limits lists it as ARCHC_MAX_ERRORS; read
# here without importing archc.limits, which imports this module)
MAX_ERRORS = 100


def _max_errors() -> int:
    """The ARCHC_MAX_ERRORS environment variable if a positive whole number, else MAX_ERRORS
    (a report must not fail for a malformed variable)."""
    raw = os.environ.get("ARCHC_MAX_ERRORS", "").strip()
    try:
        value = int(raw)
    except ValueError:
        return MAX_ERRORS
    return value if value > 0 else MAX_ERRORS


class Diagnostics:
    """Collects errors so that one run reports every independent problem."""

    def __init__(self) -> None:
        self.errors: list[SpecError] = []
        self.warnings: list[SpecError] = []

    def error(self, message: str, loc: Loc | None = None, hint: str | None = None,
              notes: list[str] | None = None, *, code: str, related: list[Related] | None = None,
              fixes: list[Fix] | None = None) -> None:
        self.errors.append(SpecError(message, loc, hint, notes or [], code=code, related=related or [],
                                     fixes=fixes or []))

    def add(self, err: SpecError) -> None:
        (self.warnings if err.severity == "warning" else self.errors).append(err)

    def warn(self, message: str, loc: Loc | None = None, hint: str | None = None, *,
             code: str, fixes: list[Fix] | None = None) -> None:
        self.warnings.append(SpecError(message, loc, hint, [], "warning", code=code, fixes=fixes or []))

    def raise_if_any(self) -> None:
        if self.errors:
            raise SpecErrors(sorted(self.errors, key=_position))


def _position(err: SpecError) -> tuple:
    return (err.loc.file, err.loc.line, err.loc.col) if err.loc else ("", 0, 0)


def _close(word: str, candidates: Iterable[str]) -> list[str]:
    return list(_close_among(word, tuple(sorted(set(candidates)))))


@functools.lru_cache(maxsize=1024)
def _close_among(word: str, candidates: tuple[str, ...]) -> tuple[str, ...]:
    # the same misspelling among the same names is answered once (a file that repeats one typo
    # on thousands of lines costs difflib's comparison once, not once per line)
    return tuple(difflib.get_close_matches(word, candidates, n=3, cutoff=0.6))


def did_you_mean(word: str, candidates: Iterable[str]) -> str | None:
    """A hint naming the closest candidates, or None."""
    close = _close(word, candidates)
    if not close:
        return None
    return "did you mean " + " or ".join(f"'{c}'" for c in close) + "?"
