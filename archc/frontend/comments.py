"""Comments as trivia: both front ends find the spec's comments and attach them to statements
(`archc.ast.Comments`), so that `archc fmt` prints them back, in either language.

Where a comment goes:
  * a whole-line comment belongs to the statement below it (`before`); one inside a block, after
    its last statement, goes before the closing brace (`BlockDef.end_comments`); one after the
    spec's last statement goes at its end (`Spec.end_comments`);
  * an end-of-line comment belongs to the statement on that line (`after`);
  * a comment inside a statement that spans several lines (in its brackets, say) moves above it.
Blank lines are kept as "" in `before` (one at most in a row), so `fmt` keeps the paragraphs.
"""
from __future__ import annotations

import bisect
from itertools import accumulate, repeat
from operator import itemgetter
from dataclasses import dataclass
from typing import Any, Iterable, Iterator

from archc import ast as A
from archc.frontend.nodes import make, replace


@dataclass
class Comment:
    line: int  # 1-based
    text: str  # from its '#', trailing blanks removed
    whole: bool  # alone on its line


class CodeScan:
    """Walks `.arch` text as the lexer reads it: iterating yields (index, character) for each
    character of code, and (index, "#") where a comment starts (the comment is then skipped to
    the end of its line); string literals are skipped, escapes included, a string ending at its
    quote or at the end of the line. After the walk, `quote` is the quote of a string still open
    where it stopped (None if none) and `in_comment` says whether it stopped inside a comment.
    The one place that knows where code, strings and comments are: the comment scanner here and
    the language server's bracket matching and completion context use it."""

    def __init__(self, text: str, start: int = 0, stop: int | None = None):
        self.text, self.start = text, start
        self.stop = len(text) if stop is None else stop
        self.quote: str | None = None
        self.in_comment = False

    def __iter__(self) -> Iterator[tuple[int, str]]:
        text, i, stop = self.text, self.start, self.stop
        while i < stop:
            ch = text[i]
            if self.quote:
                if ch == "\\":
                    i += 1
                elif ch == self.quote or ch == "\n":
                    self.quote = None
            elif ch in "\"'":
                self.quote = ch
            elif ch == "#":
                yield i, ch
                newline = text.find("\n", i, stop)
                if newline < 0:
                    self.in_comment = True
                    return
                i = newline
                continue
            else:
                yield i, ch
            i += 1


def scan_dsl(text: str) -> list[Comment]:
    """The comments of `.arch` text: '#' outside a string literal, to the end of the line."""
    out: list[Comment] = []
    if "#" not in text:
        return out
    for n, line in enumerate(text.splitlines(), 1):
        hash_at = line.find("#")
        if hash_at < 0:
            continue
        code = line[:hash_at]
        if '"' not in code and "'" not in code:  # no string before it: the first '#' starts the comment
            out.append(Comment(n, line[hash_at:].rstrip(), not code.strip()))
            continue
        for i, ch in CodeScan(line):
            if ch == "#":
                out.append(Comment(n, line[i:].rstrip(), not line[:i].strip()))
                break
    return out


def scan_yaml(text: str) -> list[Comment]:
    """The comments of YAML text: '#' at the start of a line or after a blank, outside scalars
    (PyYAML's scanner tells where the scalars are). Call only on text that composes."""
    out: list[Comment] = []
    if "#" not in text:
        return out
    import yaml
    spans: list[tuple[int, int]] = []
    for token in yaml.scan(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
        if isinstance(token, yaml.ScalarToken):
            spans.append((token.start_mark.index, token.end_mark.index))
    spans.sort()
    k = 0
    pos = 0
    for n, line in enumerate(text.splitlines(keepends=True), 1):
        start = pos
        pos += len(line)
        i = line.find("#")
        while i >= 0:
            index = start + i
            while k < len(spans) and spans[k][1] <= index:
                k += 1
            inside = k < len(spans) and spans[k][0] <= index < spans[k][1]
            if not inside and (i == 0 or line[i - 1] in " \t"):
                out.append(Comment(n, line[i:].rstrip(), not line[:i].strip()))
                break
            i = line.find("#", i + 1)
    return out


class _Slot:
    """A statement's lines and the comments that go with it (`key`: its node, or "model" or
    "return" for the statements that are no node of their own; `children`: a block's)."""
    __slots__ = ("start", "end", "key", "before", "inside", "after", "children", "end_list")

    def __init__(self, start: int, end: int, key: Any, children: _Slots | None = None) -> None:
        self.start, self.end, self.key = start, end, key
        self.before: list[str] = []
        self.inside: list[str] = []  # whole-line comments within its lines
        self.after: list[str] = []
        self.children = children
        self.end_list: list[str] = []  # a block's comments before its '}'


class _Slots:
    """The slots of a list of statements, sorted by their first line, each made when first
    asked for: a flat spec's statements are thousands, the few with comments or after a blank
    line the only ones that get anything. `entries`: (start, end, key, children) of each."""

    def __init__(self, entries: list[tuple]) -> None:
        entries.sort(key=itemgetter(0))
        self.entries = entries
        self.starts = [e[0] for e in entries]
        self.made: dict[int, _Slot] = {}  # by index

    def __len__(self) -> int:
        return len(self.entries)

    def __getitem__(self, i: int) -> _Slot:
        slot = self.made.get(i)
        if slot is None:
            slot = self.made[i] = _Slot(*self.entries[i])
        return slot

    @classmethod
    def of(cls, made: list[_Slot]) -> _Slots:
        """Slots already made, sorted by their first line."""
        slots = cls([(s.start, s.end, s.key, s.children) for s in made])
        slots.made = dict(enumerate(made))
        return slots

    def make(self, indices: Iterable[int]) -> None:
        for i in indices:
            self[i]

    def keyed(self) -> tuple[dict[int, _Slot], _Slot | None]:
        """The slots made, by id() of their node, and the one of a statement without a node."""
        made = self.made.values()
        return ({id(s.key): s for s in made if not isinstance(s.key, str)},  # (not ==: a node's is slow)
                next((s for s in made if isinstance(s.key, str)), None))


class LastLines(dict):
    """The last line of each statement, by where it starts (line, column); a statement not kept
    (one of one line: a flat spec's are thousands) ends on its first line."""

    def __missing__(self, start: tuple[int, int]) -> int:
        return start[0]


class Spans:
    """The last line of each statement, recorded by a front end while it builds the AST
    (statements are keyed by where they start)."""

    def __init__(self) -> None:
        self.ends: dict[tuple[int, int], int] = LastLines()
        # where a front end keeps them (a whole file's parse): the statements' slot entries
        # (`slot`'s, block statements' and blocks' too), made as each statement was built
        self.built: list[tuple] | None = None
        self.returns: dict[tuple[int, int], tuple[int, int]] = {}  # block -> its return's lines
        self.model: tuple[int, int] | None = None  # the `model` statement's lines

    def add(self, loc: A.Loc | None, end: int) -> None:
        if loc is not None:
            self.ends[(loc.line, loc.col)] = max(end, loc.line)

    def slot(self, node: Any, children: _Slots | None = None) -> tuple:
        """A statement's slot entry: (first line, last line, node, its statements' slots)."""
        loc = node.loc
        end = self.ends.get((loc.line, loc.col), loc.line)
        if children:
            end = max(end, *(e[1] for e in children.entries))
        return loc.line, end, node, children


def attach(spec: A.Spec, comments: list[Comment], spans: Spans, text: str, first_line: int = 1,
           commented: bool = False) -> A.Spec:
    """`spec` with `comments` attached to its statements (a no-op in a file without comments:
    blank lines are kept only in one with some); `text` (whose comments they are) starts at line
    `first_line` of the file that `spans` counts; `commented`: the file has comments elsewhere."""
    if not comments and not commented:
        return spec
    if first_line != 1:
        comments = [Comment(c.line + first_line - 1, c.text, c.whole) for c in comments]
    lines = text.splitlines()
    blank = {n for n, line in enumerate(lines, first_line) if not line.strip()}
    top: list[tuple] = []
    if spans.model is not None:
        top.append((spans.model[0], spans.model[1], "model", None))
    if spans.built is not None:  # (reading thousands of statements' locs again costs more)
        blocks = {id(node) for block in spec.blocks for node in (block, *block.params, *block.body)}
        top += [entry for entry in spans.built if id(entry[2]) not in blocks] if blocks else spans.built
    else:
        for nodes in (spec.imports, spec.params, spec.inputs, spec.body, spec.outputs):
            top += [spans.slot(node) for node in nodes if node.loc is not None]
    for block in spec.blocks:
        if block.loc is None:
            continue
        children = [spans.slot(p) for p in block.params if p.loc is not None]
        children += [spans.slot(a) for a in block.body if a.loc is not None]
        ret = spans.returns.get((block.loc.line, block.loc.col))
        if ret is not None:
            children.append((ret[0], ret[1], "return", None))
        top.append(spans.slot(block, _Slots(children)))
    slots = _Slots(top)
    end_list: list[str] = []
    _distribute(comments, slots, end_list, blank)
    return _rebuild(spec, slots, end_list)


def _distribute(comments: Iterable[Comment], slots: _Slots | list[_Slot], end_list: list[str],
                blank: set[int], parent: int = 0) -> None:
    if isinstance(slots, list):
        slots = _Slots.of(slots)
    # `slots` are sorted by their first line: the slot a comment is on (the first, in order,
    # whose lines hold it) and the one after it are found by bisection, so that attaching is
    # linear in the spec's size, not statements × comments (25,000 commented lines took 24 s)
    starts = slots.starts
    reach = list(accumulate(map(itemgetter(1), slots.entries), max))  # the furthest last line up to each
    by_block: dict[int, list[Comment]] = {}
    for c in comments:
        opened = bisect.bisect_right(starts, c.line)  # slots[:opened] start at or above it
        first = bisect.bisect_left(reach, c.line, 0, opened)  # the first of them reaching it
        slot = slots[first] if first < opened else None
        if slot is not None and slot.children is not None and c.line != slot.start:
            by_block.setdefault(id(slot), []).append(c)
            continue
        if slot is not None:  # on the statement's lines
            (slot.inside if c.whole else slot.after).append(c.text)
            continue
        following = slots[opened] if opened < len(slots) else None
        target = following.before if following is not None else end_list
        if c.line - 1 in blank and (target or c.line > 1):
            _blank(target)
        target.append(c.text)
    # the slots that get more than those comments: blocks, and those after a blank line
    slots.make(i for i, entry in enumerate(slots.entries) if entry[3] is not None)
    if len(blank) < len(starts):
        slots.make(i for i in map(bisect.bisect_left, repeat(starts), (line + 1 for line in blank))
                   if i < len(starts) and starts[i] - 1 in blank)
    else:
        slots.make(i for i, start in enumerate(starts) if start - 1 in blank)
    for slot in slots.made.values():
        if slot.children is not None:
            _distribute(by_block.get(id(slot), []), slot.children, slot.end_list, blank,
                        slot.start)
        if slot.start - 1 in blank and slot.start != parent:  # not a block's own line
            _blank(slot.before)
        slot.before += slot.inside


def _blank(lines: list[str]) -> None:
    if not lines or lines[-1] != "":
        lines.append("")


def _trivia(slot: _Slot) -> A.Comments | None:
    return make.Comments(before=slot.before, after=slot.after) if slot.before or slot.after else None


def _rebuild(spec: A.Spec, top: _Slots, end_list: list[str]) -> A.Spec:
    slots, model = top.keyed()
    changed = {type(slot.key) for slot in slots.values()}  # the kinds of statement to make again

    def one(node: Any) -> Any:
        slot = slots.get(id(node))
        if slot is None:
            return node
        update: dict[str, Any] = {"comments": _trivia(slot)}
        if update["comments"] is None and slot.children is None:  # nothing to attach: the same node
            return node
        if isinstance(node, A.BlockDef):
            inner, ret = slot.children.keyed()
            update["params"] = [_with(p, inner.get(id(p))) for p in node.params]
            update["body"] = [_with(a, inner.get(id(a))) for a in node.body]
            update["return_comments"] = _trivia(ret) if ret is not None else None
            update["end_comments"] = _strip(slot.end_list)
        return replace(node, **update)

    def each(nodes: list) -> list:
        return [one(n) for n in nodes] if nodes and type(nodes[0]) in changed else nodes

    return replace(spec, **{
        "imports": each(spec.imports), "params": each(spec.params), "inputs": each(spec.inputs),
        "blocks": each(spec.blocks), "body": each(spec.body), "outputs": each(spec.outputs),
        "comments": _trivia(model) if model is not None else None,
        "end_comments": _strip(end_list)})


def _with(node: Any, slot: _Slot | None) -> Any:
    return node if slot is None else replace(node, comments=_trivia(slot))


def _strip(lines: list[str]) -> list[str]:
    """End comments: no blank line last (the printer ends the file or the block itself)."""
    out = list(lines)
    while out and out[-1] == "":
        out.pop()
    return out
