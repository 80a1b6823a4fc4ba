"""Re-parsing an edited `.arch` text by its changed statements only (for the language server).

    reparse(previous, previous_text, text, file)   == parse_dsl(text, file), or its SpecErrors
    parse(text, file)                               parse_dsl, remembered for a later reparse

Top-level statements parse independently of each other (`start: (_stmt _NL)*`; the post-lexer's
newline rules look at one token on each side of a newline, and brackets never stay open across a
statement's end), and a statement's comments are the lines from the end of the statement before
it to its own last line. So a text is cut into *units*: unit k is the lines after unit k-1's last
line up to statement k's last line (its comments, blank lines and the statement); what follows
the last statement is the tail. An edit changes the characters between a common prefix and a
common suffix of the two texts; the units it touches, with one unchanged unit on each side, are
parsed again as a text of their own that starts at their first line:

  * the unit before makes the first statement parsed start where the unedited text before it
    left off (a line the edit made start with `+` joins the statement above it, as in the file);
  * the unit after ends on a statement boundary of the unedited text after it: its tokens and the
    next statement's first token are those the previous parse cut between;
  * when those statements do not parse on their own (an edit opened a bracket, a syntax error),
    the text from the first of them to the end of the file is parsed instead: what the whole
    parse would see from there on, so the same statements or the same errors.

The statements before are reused as they are, those after with their locations moved by the
lines the edit added or removed. Whatever this cannot answer as the whole parse would is a whole
parse: a text it has not parsed (remembered by `id` of the spec, a few at a time), another file
name, two `model` statements, line breaks other than `\\n` (comments count lines by
`str.splitlines`, the lexer by `\\n`), the first comment of a file or its last one removed (blank
lines are trivia only in a file with comments).
tests/frontend/test_reparse.py compares it with parse_dsl over random edits.
"""
from __future__ import annotations

import re
import weakref
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from itertools import accumulate
from typing import Any, Callable

from archc import ast as A
from archc.errors import SpecErrors, register_source
from archc.frontend.dsl import _check_encodable, parse_statements

# Spec fields that hold statements, in the order a parse fills them
_LISTS = ("imports", "params", "inputs", "blocks", "body", "outputs")
# line breaks that str.splitlines sees and the lexer does not ("\r" unless before "\n")
_OTHER_BREAKS = "\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"
_LONE_CR = re.compile("\r(?!\n)")
_REMEMBERED = 8  # parses kept for a later reparse


@dataclass
class _Parsed:
    """What a parse leaves for the next reparse: where its units end (their last line, and the
    offset after that line's newline), and the `model` statement's lines, if any."""
    spec: weakref.ref
    text: str
    file: str
    ends: list[int]  # each unit's last line
    offsets: list[int]  # the offset just after it (after its last line's newline)
    model: tuple[int, int] | None
    comments: list[int]  # the lines of its comments (whether a file has any decides its trivia)


_PARSES: dict[int, _Parsed] = {}  # by id() of the spec


def parse(text: str, file: str) -> A.Spec:
    """parse_dsl(text, file), remembered so that `reparse` can start from it."""
    register_source(file, text)
    _check_encodable(text, file)
    spec, spans, comments = parse_statements(text, file)
    if not _other_breaks(text):  # (else its comments' lines are not the lexer's: never reparsed)
        line_ends = list(accumulate(len(line) + 1 for line in text.split("\n")))
        ends = _unit_ends(spec, spans)
        _remember(spec, text, file, ends, [min(line_ends[e - 1], len(text)) for e in ends], spans.model,
                  [c.line for c in comments])
    return spec


def reparse(previous: A.Spec, previous_text: str, text: str, file: str) -> A.Spec:
    """What `parse_dsl(text, file)` returns (or raises), re-parsing only the statements that
    changed since `previous`, the parse of `previous_text`."""
    known = _PARSES.get(id(previous))
    if (known is None or known.spec() is not previous or known.file != file
            or known.text != previous_text or not known.ends or _other_breaks(text)):
        return parse(text, file)
    register_source(file, text)
    _check_encodable(text, file)
    if text == previous_text:
        return previous
    try:
        return _reparse(previous, known, text, file)
    except RecursionError:  # moving a deeply nested statement: the parse says what it says
        return parse(text, file)


def _reparse(previous: A.Spec, known: _Parsed, text: str, file: str) -> A.Spec:
    old = known.text
    head = _common_prefix(old, text)
    tail = _common_suffix(old, text, min(len(old), len(text)) - head)
    ends, offsets = known.ends, known.offsets
    # the units holding the first and the last changed character (an insertion: the one at it),
    # widened by one on each side; len(ends) stands for the tail
    first = bisect_right(offsets, head)
    last = bisect_right(offsets, max(head, len(old) - tail - 1))
    first, last = max(first - 1, 0), last + 1
    start = offsets[first - 1] if first else 0
    first_line = ends[first - 1] + 1 if first else 1
    shift = len(text) - len(old)
    comment_lines = known.comments
    before = bisect_left(comment_lines, first_line)  # comments above the region
    if last < len(ends):
        stop_old = offsets[last]
        after = bisect_right(comment_lines, ends[last])  # comments below it from here
        try:
            region, spans, region_comments = parse_statements(
                text[start:stop_old + shift], file, first_line, bool(before or after < len(comment_lines)))
        except SpecErrors:
            last = len(ends)  # parsed to the end of the file, as the whole parse goes on
    if last >= len(ends):
        stop_old, after = len(old), len(comment_lines)
        region, spans, region_comments = parse_statements(text[start:], file, first_line, bool(before))
    if bool(comment_lines) != bool(before or after < len(comment_lines) or region_comments):
        return parse(text, file)  # the file's first comment, or its last one gone: every blank line counts, or none
    region_text = text[start:stop_old + shift]
    moved = region_text.count("\n") - old.count("\n", start, stop_old)
    old_end_line = ends[last] if last < len(ends) else None  # the last line the region replaces

    model = _model(previous, known.model, region, spans.model, first_line, old_end_line, moved)
    if model is None:
        return parse(text, file)  # two `model` statements: the whole parse says which is first
    name, returns, comments, model_lines = model
    lists: dict[str, list] = {}
    for field in _LISTS:
        nodes = getattr(previous, field)
        i = bisect_left(nodes, first_line, key=_line)
        j = len(nodes) if old_end_line is None else bisect_right(nodes, old_end_line, key=_line)
        later = nodes[j:] if not moved else [_moved(n, moved) for n in nodes[j:]]
        lists[field] = nodes[:i] + getattr(region, field) + later
    spec = A.replace(previous, name=name, returns=returns, comments=comments,
                     end_comments=region.end_comments if old_end_line is None else previous.end_comments,
                     **lists)

    region_ends = _unit_ends(region, spans)
    line_starts = [0, *accumulate(len(line) + 1 for line in region_text.split("\n"))]
    new_ends = ends[:first] + region_ends
    new_offsets = offsets[:first] + [min(start + line_starts[e - first_line + 1], len(text)) for e in region_ends]
    if last < len(ends):
        new_ends += [e + moved for e in ends[last + 1:]] if moved else ends[last + 1:]
        new_offsets += [o + shift for o in offsets[last + 1:]]
    new_comments = comment_lines[:before] + [c.line + first_line - 1 for c in region_comments]
    new_comments += [c + moved for c in comment_lines[after:]] if moved else comment_lines[after:]
    _remember(spec, text, file, new_ends, new_offsets, model_lines, new_comments)
    return spec


def _model(previous: A.Spec, lines: tuple[int, int] | None, region: A.Spec,
           region_lines: tuple[int, int] | None, first_line: int, old_end_line: int | None,
           moved: int) -> tuple | None:
    """The spec's name, returns and comments (the `model` statement's) and the statement's
    lines, wherever it now is; None where the statements now hold two."""
    replaced = lines is not None and lines[0] >= first_line and (old_end_line is None or lines[0] <= old_end_line)
    kept = None if lines is None or replaced else lines
    if kept is not None and region_lines is not None:
        return None
    if region_lines is not None:
        return region.name, region.returns, region.comments, region_lines
    if kept is None:
        return None, None, None, None
    if old_end_line is not None and kept[0] > old_end_line:
        kept = (kept[0] + moved, kept[1] + moved)
    return previous.name, previous.returns, previous.comments, kept


def _other_breaks(text: str) -> bool:
    # a character at a time: `in` runs at memory speed, a character class in a regex does not
    return any(c in text for c in _OTHER_BREAKS) or ("\r" in text and _LONE_CR.search(text) is not None)


def _unit_ends(spec: A.Spec, spans: Any) -> list[int]:
    """The last line of each of the spec's statements, in order."""
    ends = [spans.ends[(node.loc.line, node.loc.col)]
            for field in _LISTS for node in getattr(spec, field)]
    if spans.model is not None:
        ends.append(spans.model[1])
    return sorted(ends)


def _line(node: A.Node) -> int:
    return node.loc.line


def _moved(value: Any, lines: int) -> Any:
    """`value` (a node, a list, anything else) with every location in it `lines` further down."""
    mover = _MOVERS.get(value.__class__)
    return value if mover is None else mover(value, lines)


def _moved_loc(loc: A.Loc, lines: int) -> A.Loc:
    fields = loc.__dict__.copy()
    fields["line"] += lines
    moved = object.__new__(A.Loc)
    object.__setattr__(moved, "__dict__", fields)  # as nodes.py builds nodes: the same fields
    return moved


def _mover(cls: type) -> Callable[[Any, int], Any]:
    """The function moving a node of `cls`: its loc, and what its fields that may hold nodes
    hold (not its kind or trivia: comments have no locations), into a copy."""
    scope = {"cls": cls, "new": object.__new__, "set": object.__setattr__, "moved_loc": _moved_loc,
             "movers": _MOVERS}
    body = "".join(f"    v = d[{f!r}]\n    m = movers.get(v.__class__)\n    if m is not None:\n"
                   f"        d[{f!r}] = m(v, lines)\n"
                   for f in cls._fields if f not in A.TRIVIA and f != "kind")
    source = ("def move(node, lines):\n    d = node.__dict__.copy()\n    loc = d['loc']\n"
              "    if loc is not None:\n        d['loc'] = moved_loc(loc, lines)\n" + body +
              "    o = new(cls)\n    set(o, '__dict__', d)\n    return o\n")
    exec(source, scope)  # noqa: S102 - generated from the node class's own fields
    return scope["move"]


_MOVERS: dict[type, Callable[[Any, int], Any]] = {list: lambda items, lines: [_moved(x, lines) for x in items]}
_MOVERS.update((cls, _mover(cls)) for cls in vars(A).values()
               if isinstance(cls, type) and issubclass(cls, A.Node) and cls is not A.Node and cls is not A.Spec)


def _remember(spec: A.Spec, text: str, file: str, ends: list[int], offsets: list[int],
              model: tuple[int, int] | None, comments: list[int]) -> None:
    key = id(spec)
    _PARSES[key] = _Parsed(weakref.ref(spec, lambda _: _PARSES.pop(key, None)), text, file, ends, offsets,
                           model, comments)
    while len(_PARSES) > _REMEMBERED:
        del _PARSES[next(iter(_PARSES))]


_BLOCK = 4096


def _common_prefix(a: str, b: str) -> int:
    """The length of the longest common prefix of `a` and `b` (compared a block at a time)."""
    n = min(len(a), len(b))
    i = 0
    while i < n and a[i:i + _BLOCK] == b[i:i + _BLOCK]:
        i += _BLOCK
    if i >= n:
        return n
    lo, hi = i, min(i + _BLOCK, n)  # the difference is in [lo, hi)
    while lo < hi:
        mid = (lo + hi) // 2
        if a[lo:mid + 1] == b[lo:mid + 1]:
            lo = mid + 1
        else:
            hi = mid
    return lo


def _common_suffix(a: str, b: str, limit: int) -> int:
    """The length of the longest common suffix of `a` and `b`, at most `limit`."""
    i = step = 0  # a's last i characters are b's
    while i < limit:
        step = min(_BLOCK, limit - i)
        if a[len(a) - i - step:len(a) - i] != b[len(b) - i - step:len(b) - i]:
            break
        i += step
    else:
        return limit
    lo, hi = i, i + step  # the difference is within these lengths
    while lo < hi:
        mid = (lo + hi) // 2
        if a[len(a) - mid - 1:len(a) - lo] == b[len(b) - mid - 1:len(b) - lo]:
            lo = mid + 1
        else:
            hi = mid
    return lo
