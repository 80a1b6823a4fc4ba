"""The `.arch` parser's engine: lark's own LALR(1) tables, built from `dsl.lark` (the one source of
the syntax), driven by a loop that builds the AST as it reduces.

lark's parse costs about 150 µs a statement: a Token object per token, a Tree per reduction (with
its positions worked out by wrappers), then a second pass of the tree transformer; most of its
reductions are the expression grammar's chain of one-child rules (`?arith: term`, ...), which
give back their child unchanged. This engine reads the same tables and lexer, and does the same
things in the same order, with less:

  * the lexer is lark's master regex, written to run faster (`_master_regex`: the same
    alternatives in the same order, blanks read with the token after them), a token a plain
    tuple `(line, column, end_line, end_column, type, value)`; keywords are lark's own `unless` map;
  * the newline rules of `dsl._PostLex` are applied to the tuples as they are lexed, and the
    stream is cut after each statement-ending newline into segments;
  * in a long text, a one-line statement of token types met often is read by one match of a
    regex made for those types (`LineLexer`: the master regex's choice at each token), tried
    on the line after a statement of the types it followed before;
  * a reduction calls the builder's method (`dsl._Builder`) at once, with lark's child filtering
    (anonymous tokens dropped, `_rule`s spliced into their parent, `?rule`s of one child passed
    through) and lark's `propagate_positions` place (first and last child) as a tuple;
  * a one-child pass-through rule only changes the state (no value or place is touched), and
    the states a chain of them ends in are remembered per (state below, state, token type);
  * a segment whose state stack and token types were met before (a kind of statement) is
    replayed: the tables' actions on those types, compiled once into straight-line Python
    (`replay.py`), which calls the builder as this loop would.

A syntax error stops it with the state stack and the failing token (`Stuck`); `dsl.py` then
rebuilds lark's own exception from them, so errors are lark's (and explained as before) whichever
parsed. Where lark's internals are not laid out as read here (another lark version), `Engine`
raises `Unsupported` and dsl.py parses with lark itself. tests/frontend/test_parse_engine.py
compares the two, token streams, ASTs and errors.
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from operator import itemgetter
from typing import Any

from lark import Lark, Token

from archc.frontend.lexicon import OPENERS
from archc.frontend.replay import CALL, EXPAND1, ONE_TOKEN, PASS, SPLICE, Tok, compile_segment, filtered, place

# a segment's stack and types met this many times are compiled (replay.py), if it has at most
# MAX_REPLAY_TOKENS tokens (a statement, not a pathological line); at most MAX_REPLAYS of them
REPLAY_AFTER = 3
MAX_REPLAY_TOKENS = 256
MAX_REPLAYS = 4096
# the token types of a one-line statement met this many times get a line lexer (LineLexer: its
# regex costs a millisecond or so to compile, a line read by it a few microseconds less), if the
# statement has at most MAX_LINE_TOKENS tokens
LINE_AFTER = 200
MAX_LINE_TOKENS = 64
MAX_LINE_LEXERS = 256  # (each holds a regex of some kilobytes)
LEARN_AFTER = 256  # statements of a text before its lines are counted (a short text never pays off)
MAX_FOLLOWING = 4  # the types of segments tried after one: those last met after it


# what the lexer does with a token, by its terminal: a token of one line passed on as it is, or a
# bracket, or a word that may be a keyword (lark's `unless`), or one dropped; one that may hold
# newlines (they are counted), or one of those that is dropped
_PLAIN, _BRACKET, _WORD, _IGNORE, _NEWLINES, _IGNORED_LINES = (
    "plain", "bracket", "word", "ignore", "newlines", "ignored lines")
_KIND = itemgetter(4)  # a token tuple's type


class Unsupported(Exception):
    """lark's tables or lexer are not laid out as this engine reads them."""


class Stuck(Exception):
    """A syntax error: the parser had no action for a token (`token` the tuple, `index` its place
    in the token stream the parser saw, `states` the state stack), or (`char_at`: position, line,
    column) the lexer found no token at a character."""

    def __init__(self, states: list[int] | None = None, token: tuple | None = None, index: int = 0,
                 char_at: tuple[int, int, int] | None = None) -> None:
        super().__init__("syntax error")
        self.states, self.token, self.index, self.char_at = states, token, index, char_at


class Engine:
    """The tables of one built Lark (`lexer="basic"`, `parser="lalr"`, the post-lexer's newline
    rules given as texts) and the builder's methods by rule name."""

    def __init__(self, lark: Lark, builder_class: type, text_of: dict[str, str],
                 continue_after: frozenset[str], continue_before: frozenset[str]) -> None:
        try:
            self._read_lexer(lark)
            self._read_table(lark, builder_class)
        except (AttributeError, KeyError, IndexError, TypeError, ValueError) as e:
            # an attribute or a layout this lark does not have
            raise Unsupported(f"{type(e).__name__}: {e}") from None

        def types(texts: Any) -> frozenset[str]:
            return frozenset(name for name, text in text_of.items() if text in texts)

        self.continue_after = types(continue_after | {"{"})
        self.continue_before = types(continue_before)
        self.openers = types(OPENERS)
        self.closers = types({")", "]"})
        self.lbrace, = types({"{"})
        self.rbrace, = types({"}"})
        self.brackets = self.openers | self.closers | {self.rbrace}  # the post-lexer's business
        # what the lexer does with each group's token, by the group's number
        self.roles = [_NEWLINES if kind in self.newline_types and kind not in self.ignore else
                      _IGNORED_LINES if kind in self.newline_types else
                      _IGNORE if kind in self.ignore else _WORD if kind in self.retype else
                      _BRACKET if kind in self.brackets else _PLAIN for kind in self.kinds]
        # segments by (state stack, token types): how often met, and their replays (replay.py)
        self.sightings: dict[tuple, int] = {}
        self.replays: dict[tuple, tuple | None] = {}
        # one-line statements of long texts by token types (LineLexer: how often met, the line
        # lexer once compiled), and the kinds met after each two in a row, most recent first
        self.line_lexers: dict[tuple, LineLexer] = {}
        self.compiled = 0
        self.successors: dict[tuple[LineLexer | None, LineLexer | None], list[LineLexer]] = {}
        self.keywords = {retyped: (kind, word) for kind, table in self.retype.items() for word, retyped in table.items()}
        self.first_chars = [_first_chars(pattern, self.regex.flags) for _, pattern in self.terminals]

    # ------------------------------------------------------------------ reading lark

    def _read_lexer(self, lark: Lark) -> None:
        lexer = lark.parser.lexer
        lexer = getattr(lexer, "lexer", lexer)  # under the post-lexer's connector
        if type(lexer).__name__ != "BasicLexer" or getattr(lexer, "user_callbacks", None):
            raise Unsupported("not lark's basic lexer")
        scanner = lexer.scanner
        patterns = scanner._mres
        if len(patterns) != 1:
            raise Unsupported("more than one master regex")
        regex = patterns[0]
        terminals = [(t.name, t.pattern.to_regexp()) for t in scanner.terminals]
        if not isinstance(regex, re.Pattern) or regex.pattern != "|".join(f"(?P<{n}>{p})" for n, p in terminals):
            raise Unsupported("master regex of another form")
        self.ignore = frozenset(lexer.ignore_types)
        self.newline_types = frozenset(lexer.newline_types)
        self.regex, self.kinds, self.blanks = _master_regex(regex, terminals, self.ignore)
        self.terminals = terminals
        # for the line lexers: the terminals' patterns without groups of their own, and the text
        # of those that match one text only
        self.ungrouped = [_without_groups(pattern, regex.flags) for _, pattern in terminals]
        self.literals = {t.name: t.pattern.value for t in lark.terminals
                         if t.pattern.type == "str" and not t.pattern.flags}
        # keywords: lark lexes them as NAME and retypes them (its `unless` callbacks); ask the
        # callbacks themselves what each literal becomes
        self.retype: dict[str, dict[str, str]] = {}
        for kind, callback in lexer.callback.items():
            table = self.retype.setdefault(kind, {})
            for t in lark.terminals:
                if t.pattern.type == "str":
                    retyped = callback(Token(kind, t.pattern.value))
                    if not isinstance(retyped, Token):
                        raise Unsupported("a lexer callback that makes no token")
                    if retyped.type != kind:
                        table[t.pattern.value] = retyped.type
        if any(kind in self.newline_types for kind in self.retype):
            raise Unsupported("a retyped token that may hold a newline")  # tokens() retypes one-line tokens only

    def _read_table(self, lark: Lark, builder_class: type) -> None:
        from lark.parsers.lalr_analysis import Shift
        table = lark.parser.parser.parser.parse_table
        count = len(table.states)
        if sorted(table.states) != list(range(count)):
            raise Unsupported("states are not numbered 0..n-1")
        # `_rule`s that only ever stand for one child (`_stmt: assign | ...`): lark splices their
        # one-child list into the parent, the same as taking the child itself, so they pass it on
        alternatives: dict[str, list] = {}
        for rule in lark.rules:
            alternatives.setdefault(rule.origin.name, []).append(rule.expansion)
        transparent = frozenset(
            name for name, expansions in alternatives.items()
            if name.startswith("_") and all(len(e) == 1 and not e[0].is_term and not e[0].name.startswith("_")
                                            for e in expansions))
        rule_ids: dict[Any, int] = {}
        rules: list[tuple] = []
        actions: list[dict[str, int]] = [{} for _ in range(count)]
        gotos: list[dict[str, int]] = [{} for _ in range(count)]
        # one-child pass-through reductions, kept apart: per state and token, the rule's name,
        # and the state their chain ends in by the state below (filled as met)
        pass_rule: list[dict[str, str]] = [{} for _ in range(count)]
        passes: list[dict[str, dict[int, int]]] = [{} for _ in range(count)]
        for state, row in table.states.items():
            for symbol, (action, arg) in row.items():
                terminal = symbol.isupper()
                if action is Shift:
                    (actions if terminal else gotos)[state][symbol] = arg
                    continue
                if not terminal:
                    raise Unsupported("a reduction on a rule")
                if arg not in rule_ids:
                    rule_ids[arg] = len(rules)
                    rules.append(self._rule(arg, builder_class, transparent))
                rule = rules[rule_ids[arg]]
                if rule[2] == PASS:
                    pass_rule[state][symbol] = rule[0]
                    passes[state][symbol] = {}
                else:
                    actions[state][symbol] = ~rule_ids[arg]
        self.actions, self.gotos, self.rules = actions, gotos, rules
        self.pass_rule, self.passes = pass_rule, passes
        self.start_states = dict(table.start_states)
        self.end_states = dict(table.end_states)
        # the states entered on a symbol that never matches nothing: a value under them always
        # has a place (replay.py need not ask)
        nullable: set[str] = set()
        while True:
            more = {name for name, expansions in alternatives.items() if name not in nullable
                    and any(all(not x.is_term and x.name in nullable for x in e) for e in expansions)}
            if not more:
                break
            nullable |= more
        self.placed_states = frozenset(
            target for row in (*actions, *gotos) for symbol, target in row.items()
            if target >= 0 and symbol not in nullable)

    @staticmethod
    def _rule(rule: Any, builder_class: type, transparent: frozenset[str]) -> tuple:
        """(name of the rule made, its length, kind, children plan, builder function, the place
        of the item a left-recursive list rule appends or 0) with lark's
        ParseTreeBuilder's semantics: a token is kept unless filtered out, a `_rule` child is
        spliced (a `transparent` one passes its one child on), a `?rule` (without alias) gives
        back a lone child."""
        options = rule.options
        if options.template_source is not None:
            raise Unsupported("templates")
        plan: list[tuple[int, int]] = []  # (child index, 0 value / 1 token / 2 splice)
        for i, symbol in enumerate(rule.expansion):
            if symbol.is_term:
                if options.keep_all_tokens or not symbol.filter_out:
                    plan.append((i, 1))
            else:
                plan.append((i, 2 if symbol.name.startswith("_") and symbol.name not in transparent else 0))
        name = rule.origin.name
        size = len(rule.expansion)
        if name in transparent:
            return name, size, PASS, None, None, 0
        if name.startswith("_"):
            identity = plan == [(i, 0) for i in range(size)]
            if len(plan) == 2 and plan[0] == (0, 2) and plan[1][1] == 0:  # a left-recursive list
                return name, size, SPLICE, None, None, plan[1][0]
            return name, size, SPLICE, None if identity else tuple(plan), None, 0
        expand1 = options.expand1 and not rule.alias
        if expand1 and size == 1 and plan == [(0, 0)]:
            return name, size, PASS, None, None, 0
        function = builder_class.__dict__.get(rule.alias or name)
        if not callable(function):
            raise Unsupported(f"the builder has no method {rule.alias or name}")
        identity = plan == [(i, 0) for i in range(size)]
        if tuple(plan) == ONE_TOKEN:
            return name, size, (EXPAND1 if expand1 else CALL), ONE_TOKEN, function, 0
        return name, size, (EXPAND1 if expand1 else CALL), None if identity else tuple(plan), function, 0

    # ------------------------------------------------------------------ tokens

    def tokens(self, text: str, expr_mode: bool) -> Iterator[tuple]:
        """The tokens the parser sees, one by one (`segments`, joined)."""
        for tokens, _ in self.segments(text, expr_mode):
            yield from tokens

    def segments(self, text: str, expr_mode: bool) -> Iterator[tuple[list[tuple], tuple[str, ...]]]:
        """The tokens the parser sees: lark's basic lexer, then dsl._PostLex's newline rules,
        then `$END` (placed on the last token, as lark places it), cut after each newline token
        into segments of (tokens, their types); `$END` is a segment of its own. A character no
        token starts with raises `Stuck` where lark's lexer would: when the parser asks for the
        segment after the tokens before it.

        A one-line statement of types met often is read by one match of its line lexer
        (`LineLexer`), tried on the line after a statement-ending newline: the kinds that came
        after the last two statements' before. It gives the tokens this loop would, or nothing."""
        kinds, roles, retype = self.kinds, self.roles, self.retype
        continue_after, continue_before = self.continue_after, self.continue_before
        openers, lbrace, rbrace = self.openers, self.lbrace, self.rbrace
        line, before_line, end = 1, -1, 0  # before_line: the index before the line's first character
        depth = 0  # open brackets
        pending: tuple | None = None  # a newline that ends the statement, unless the next token continues it
        pending_types: tuple = ()  # the types of the segment `pending` would end
        statements = 0  # segments ended by a newline read
        before = last = None  # the line kinds of the last two of them, in a long text
        passed: tuple | None = None  # the last token of the segments passed on (always a newline)
        tokens: list[tuple] = []
        position = 0  # where the lexer (re)starts
        while True:
            for m in iter(self.regex.scanner(text, position).match, None):
                start = m.end(1)  # after the blanks
                end = m.end()
                group = m.lastindex
                role = roles[group]
                # most tokens: one of one line, with no newline waiting to be decided, no bracket
                if pending is None:
                    if role is _PLAIN:
                        column = start - before_line
                        tokens.append((line, column, line, column + end - start, kinds[group], text[start:end]))
                        continue
                    if role is _WORD:
                        value = text[start:end]
                        kind = retype[kinds[group]].get(value, kinds[group])
                        if kind != "UNUSED":
                            column = start - before_line
                            tokens.append((line, column, line, column + end - start, kind, value))
                            continue
                # the rest as dsl._PostLex does it, with the last token passed on (None: none yet)
                prev = tokens[-1] if tokens else passed
                prev_type = None if prev is None else prev[4]
                column = start - before_line
                if role is _PLAIN or role is _BRACKET:
                    kind = kinds[group]
                    tok = (line, column, line, column + end - start, kind, text[start:end])
                elif role is _WORD:
                    value = text[start:end]
                    kind = retype[kinds[group]].get(value, kinds[group])
                    if kind == "UNUSED" and (expr_mode or depth or not (
                            prev is None or pending is not None or prev_type == "_NL" or prev_type == lbrace)):
                        kind = "NAME"  # a word only where a statement starts
                    tok = (line, column, line, column + end - start, kind, value)
                elif role is _IGNORE:
                    continue
                else:  # a token that may hold newlines
                    kind = kinds[group]
                    value = text[start:end]
                    newlines = value.count("\n")
                    if newlines:
                        line += newlines
                        before_line = start + value.rindex("\n")
                        if role is _IGNORED_LINES:
                            continue
                        tok = (line - newlines, column, line, end - before_line, kind, value)
                        if kind == "_NL":  # dsl._PostLex: which newlines end a statement
                            if expr_mode or depth or prev is None or prev_type == "_NL" or prev_type in continue_after:
                                continue
                            if pending is not None:
                                continue
                            pending = tok
                            types = pending_types = (*map(_KIND, tokens), "_NL")
                            statements += 1
                            if statements <= LEARN_AFTER:
                                continue
                            before, last = last, self._learn(before, last, types)  # what follows what
                            # the lines after it, read by their line lexers while they match
                            read = self._next_line(before, last, text, end, line, before_line)
                            if read is None:
                                continue
                            while read is not None:  # the pending newline ends its statement
                                tokens.append(pending)
                                passed = pending
                                yield tokens, pending_types
                                tokens, pending, line, before_line, end, kind = read
                                pending_types = kind.types
                                before, last = last, kind
                                read = self._next_line(before, last, text, end, line, before_line)
                            position = end  # lex on after the last line read
                            break
                        # a token over several lines (none in dsl.lark): as any other token below
                    else:
                        if role is _IGNORED_LINES:
                            continue
                        tok = (line, column, line, column + end - start, kind, value)
                if pending is not None:
                    if kind not in continue_before:
                        tokens.append(pending)
                        passed = pending
                        yield tokens, pending_types
                        tokens = []
                        prev = pending
                        prev_type = "_NL"
                    pending = None
                if role is _BRACKET:
                    if kind == rbrace:
                        if prev is not None and prev_type != "_NL" and prev_type != lbrace:
                            tokens.append(_newline_after(prev))
                            passed = tokens[-1]
                            yield tokens, tuple(map(_KIND, tokens))
                            tokens = []
                    elif kind in openers:
                        depth += 1
                    elif depth:
                        depth -= 1
                tokens.append(tok)
            else:
                break
        prev = tokens[-1] if tokens else passed
        if end != len(text):
            if tokens:
                yield tokens, tuple(map(_KIND, tokens))
            raise Stuck(char_at=(end, line, end - before_line))
        if not expr_mode and prev is not None and prev[4] != "_NL" and not depth:
            prev = _newline_after(prev)
            tokens.append(prev)
        if tokens:
            yield tokens, tuple(map(_KIND, tokens))
        last = (prev[0], prev[1], prev[2], prev[3], "$END", "") if prev is not None else (1, 1, None, None, "$END", "")
        yield [last], ("$END",)

    def _learn(self, before: LineLexer | None, last: LineLexer | None, types: tuple) -> LineLexer | None:
        """A segment of `types` came after segments of kinds `before`, `last`: its kind (None if
        too long), first among those tried after those two, and compiled once met often enough."""
        kind = self.line_lexers.get(types)
        if kind is None:
            if len(types) > MAX_LINE_TOKENS or len(self.line_lexers) >= MAX_REPLAYS * 16:
                return None
            kind = self.line_lexers[types] = LineLexer(types)
        if kind.seen < LINE_AFTER:
            kind.seen += 1
            if kind.seen == LINE_AFTER and self.compiled < MAX_LINE_LEXERS:
                self.compiled += 1
                kind.compile(self)
        following = self.successors.get((before, last))
        if following is None:
            if len(self.successors) < MAX_REPLAYS * 16:
                self.successors[before, last] = [kind]
        elif following[0] is not kind:  # a new list: another thread's parse may be reading the old
            self.successors[before, last] = [kind, *(k for k in following if k is not kind)][:MAX_FOLLOWING]
        return kind

    def _next_line(self, before: LineLexer | None, last: LineLexer | None, text: str, pos: int, line: int,
                   before_line: int) -> tuple | None:
        """The line at `pos` (after statements of kinds `before`, `last`) read by the line lexer
        of a kind that followed those two before: (its tokens, its newline, the line and the
        index before the line after it, where that starts, its kind); None if none reads it."""
        for kind in self.successors.get((before, last), ()):
            read = kind.read
            if read is not None:
                got = read(text, pos, line, before_line)
                if got is not None:
                    return got
        return None

    # ------------------------------------------------------------------ parsing

    def parse(self, text: str, start: str, builder: Any, expr_mode: bool) -> Any:
        """The builder's value of `text` parsed from `start`; `Stuck` at a syntax error."""
        actions, passes, gotos, rules = self.actions, self.passes, self.gotos, self.rules
        replays, sightings = self.replays, self.sightings
        state = self.start_states[start]
        end_state = self.end_states[start]
        states = [state]
        values: list[Any] = []
        spans: list[Any] = []  # each value's place: a token tuple or a place tuple (None: no place)
        index = -1  # of the token in the stream
        stack = None  # the state stack a replay left (`states` made of it when the loop needs it)
        for tokens, types in self.segments(text, expr_mode):
            if types[-1] == "_NL" and len(types) <= MAX_REPLAY_TOKENS:  # replayed, if its kind is met often
                key = (tuple(states) if stack is None else stack, types)
                replay = replays.get(key)
                if replay is None and key not in replays:
                    seen = sightings.get(key, 0) + 1
                    if seen < REPLAY_AFTER:
                        if len(sightings) < MAX_REPLAYS * 16:
                            sightings[key] = seen
                    elif len(replays) < MAX_REPLAYS:  # None where the tables refuse the types
                        replay = replays[key] = compile_segment(self, *key)
                if replay is not None:
                    replay[0](builder, tokens, values, spans)
                    stack = replay[1]
                    index += len(tokens)
                    continue
            if stack is not None:
                states = list(stack)
                state = states[-1]
                stack = None
            for tok in tokens:
                index += 1
                kind = tok[4]
                while True:
                    code = actions[state].get(kind)
                    if code is None:
                        chain = passes[state].get(kind)
                        if chain is None:
                            raise Stuck(states=list(states), token=tok, index=index)
                        below = states[-2]
                        last = chain.get(below)
                        if last is None:
                            last = chain[below] = self._chain(below, state, kind)
                        state = states[-1] = last
                        if state == end_state and kind == "$END":
                            return values[-1]
                        continue
                    if code >= 0:  # shift
                        state = code
                        states.append(state)
                        values.append(tok)
                        spans.append(tok)
                        break
                    name, size, how, plan, function, append_at = rules[~code]
                    if size == 1:
                        meta = spans.pop()
                        del states[-1]
                        if plan is ONE_TOKEN:  # `?atom: NAME -> name` and the like
                            children = [Tok(values.pop())]
                            plan = None
                        else:
                            children = [values.pop()]
                    elif size:
                        children = values[-size:]
                        places = spans[-size:]
                        del values[-size:], spans[-size:], states[-size:]
                        first, last_place = places[0], places[-1]
                        if first is None or last_place is None:
                            meta = place(places)
                        else:
                            meta = (first[0], first[1], last_place[2], last_place[3])
                        if append_at:  # `__x_star: __x_star "," item`: the list grows by its item
                            items = children[0]
                            items.append(children[append_at])
                            children = items
                    else:
                        children, meta = [], None
                    if plan is not None:
                        children = filtered(children, plan)
                    if how == CALL or (how == EXPAND1 and len(children) != 1):
                        value = function(builder, meta, children)
                    elif how == EXPAND1:
                        value = children[0]
                    else:  # SPLICE: a list the parent takes in
                        value = children
                    state = gotos[states[-1]][name]
                    states.append(state)
                    values.append(value)
                    spans.append(meta)
                    if state == end_state and kind == "$END":
                        return value
        raise AssertionError("the token stream ended without $END")  # pragma: no cover

    def _chain(self, below: int, state: int, kind: str) -> int:
        """The state a run of pass-through reductions ends in, from `state` (above `below`)
        with `kind` next: each replaces the top state by below's goto on its rule."""
        while kind in self.passes[state]:
            state = self.gotos[below][self.pass_rule[state][kind]]
        return state


class LineLexer:
    """A kind of one-line statement (its token types), how often met, and once met often, `read`:
    its line's tokens read by one regex match, as the engine's lexer and newline rules would cut
    them, or nothing (another line, one they would cut otherwise, or one they would treat otherwise).

    Each token is the master regex's choice at its place: its terminal's pattern, taken only where
    no terminal before it in lark's order matches (those that may start with the same character
    are tried first, in one atomic group with the token's own, whose group must be the one set),
    after the blanks read with it (possessive: the master regex backs off into them only where no
    terminal matches after them).
    A keyword's word and a word that is no keyword are told by the generated `read`, which builds
    the tokens' tuples as `Engine.segments` does (the statement's newline ends the line; the
    lexer goes on after it)."""

    __slots__ = ("read", "seen", "types")

    def __init__(self, types: tuple[str, ...]) -> None:
        self.types = types
        self.seen = 0  # times met (up to LINE_AFTER)
        # (text, pos, line, before_line) -> (tokens, newline, line, before_line, end, self) | None
        self.read: Any = None

    def compile(self, engine: Engine) -> None:
        """Make `read`, unless the lines of these types are not read alone: more than one line,
        a bracket left open, a word the newline rules retype, a token that continues the line
        before or the one after, a brace (it cuts the line)."""
        types = self.types
        terminals, keywords = engine.terminals, engine.keywords
        number = {name: i for i, (name, _) in enumerate(terminals)}
        body, last = types[:-1], types[-1]
        if (not engine.blanks or last != "_NL" or not body or "_NL" in body or "UNUSED" in types
                or body[0] in engine.continue_before or body[-1] in engine.continue_after
                or engine.rbrace in body or _open_brackets(engine, body)
                or any(kind not in keywords and (kind not in number or kind in engine.ignore) for kind in types)):
            return
        first = engine.first_chars
        pieces: list[str] = []
        patterns = engine.ungrouped
        for k, kind in enumerate(types):
            i = number[keywords.get(kind, (kind,))[0]]
            rivals = [f"(?:{patterns[j]})" for j in range(i)
                      if first[j] is None or first[i] is None or first[j] & first[i]]
            if rivals:  # the token's group, set only where its own terminal is the one matched
                token = f"(?>{'|'.join(rivals)}|(?P<t{k}>{patterns[i]}))(?(t{k})|(?!))"
            else:
                token = f"(?P<t{k}>(?>{patterns[i]}))"
            pieces.append(f"{engine.blanks}+{token}")
        try:
            regex = re.compile("".join(pieces), engine.regex.flags)
        except (re.error, RecursionError, OverflowError):
            return
        scope: dict[str, Any] = {"match": regex.match, "kind": self}
        source = ["def read(text, pos, line, bl):", "    m = match(text, pos)", "    if m is None:",
                  "        return None"]
        if regex.groups == len(types):  # the tokens' groups alone
            spans = [f"(s{k}, e{k})" for k in range(len(body))]
            source.append(f"    _, {', '.join(spans)}, (s, e) = m.regs")
        else:
            source.append("    r = m.regs")
            source += [f"    s{k}, e{k} = r[{regex.groupindex[f't{k}']}]" for k in range(len(body))]
            source.append(f"    s, e = r[{regex.groupindex[f't{len(body)}']}]")
        made: list[str] = []
        for k, kind in enumerate(body):
            base, word = keywords.get(kind, (kind, None))
            if word is not None:
                source.append(f"    if text[s{k}:e{k}] != {word!r}:\n        return None")
                value = repr(word)
            elif kind in engine.literals and base not in engine.retype and base not in engine.newline_types:
                # (its pattern matches that text only)
                value = repr(engine.literals[kind])
            else:
                value = f"v{k}"
                source.append(f"    v{k} = text[s{k}:e{k}]")
                if base in engine.retype:  # a word: no keyword
                    scope[f"words{k}"] = frozenset(engine.retype[base])
                    source.append(f"    if v{k} in words{k}:\n        return None")
                if base in engine.newline_types:
                    source.append(f"    if '\\n' in v{k}:\n        return None")
            made.append(f"(line, s{k} - bl, line, e{k} - bl, {kind!r}, {value})")
        source += ["    v = text[s:e]",
                   "    n = v.count('\\n')", "    if not n:", "        return None",
                   "    after = s + v.rindex('\\n')",
                   f"    return [{', '.join(made)}], (line, s - bl, line + n, e - after, '_NL', v), line + n, after, e, kind"]
        exec("\n".join(source) + "\n", scope)  # noqa: S102 - generated from the lexer's terminals
        self.read = scope["read"]


def _without_groups(pattern: str, flags: int) -> str:
    """`pattern` with its groups made non-capturing (a line lexer's match makes a span of each
    group); `pattern` itself where that does not give a regex without groups."""
    out: list[str] = []
    i, in_class = 0, False
    while i < len(pattern):
        c = pattern[i]
        if c == "\\":  # an escape: the character after it too
            out.append(pattern[i:i + 2])
            i += 2
            continue
        if in_class:
            in_class = c != "]"
        elif c == "[":
            in_class = True
            start = i + 1 + pattern.startswith("^", i + 1)
            if pattern.startswith("]", start):  # a `]` first in a class is itself
                start += 1
            out.append(pattern[i:start])
            i = start
            continue
        elif c == "(" and not pattern.startswith("?", i + 1):
            c = "(?:"
        out.append(c)
        i += 1
    try:
        ungrouped = "".join(out)
        return ungrouped if re.compile(ungrouped, flags).groups == 0 else pattern
    except re.error:
        return pattern


def _open_brackets(engine: Engine, kinds: tuple[str, ...]) -> int:
    """The brackets left open after tokens of these types, as Engine.segments counts them."""
    depth = 0
    for kind in kinds:
        if kind in engine.openers:
            depth += 1
        elif kind in engine.closers and depth:
            depth -= 1
    return depth


def _first_chars(pattern: str, flags: int) -> frozenset[str] | None:
    """The characters a match of `pattern` may start with (a terminal's: a few, "" standing for
    any outside ASCII that \\d, \\s or \\w match); None where it may match nothing, or start with
    any character of many, or is not read here."""
    try:
        from re import _constants as C
        from re import _parser as P
        parsed = P.parse(pattern, flags)
        if parsed.state.flags & re.IGNORECASE:
            return None
        chars, empty = _first(list(parsed), C)
    except (ImportError, AttributeError, TypeError, ValueError, KeyError, IndexError, re.error):
        # another re's internals: every terminal may start alike
        return None
    return None if chars is None or empty else frozenset(chars)


# the ASCII characters of \d, \s, \w (by the name of their category in re's parse)
_CATEGORIES = {"CATEGORY_DIGIT": "0123456789", "CATEGORY_SPACE": " \t\n\r\f\v",
               "CATEGORY_WORD": "0123456789_abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"}


def _first(items: list, C: Any) -> tuple[set[str] | None, bool]:
    """(the first characters of the sequence `items` of a parsed regex, whether it may match nothing)."""
    out: set[str] = set()
    for op, arg in items:
        if op is C.LITERAL:
            return out | {chr(arg)}, False
        if op is C.IN:
            chars: set[str] = set()
            for kind, value in arg:
                if kind is C.LITERAL:
                    chars.add(chr(value))
                elif kind is C.RANGE and value[1] - value[0] < 256:
                    chars.update(map(chr, range(value[0], value[1] + 1)))
                elif kind is C.CATEGORY and repr(value) in _CATEGORIES:  # and others than ASCII: ""
                    chars.update(_CATEGORIES[repr(value)], "")
                else:  # a negation, another category: not a few characters
                    return None, False
            return out | chars, False
        if op is C.SUBPATTERN:
            if arg[1] or arg[2]:  # flags of its own
                return None, False
            chars, empty = _first(list(arg[3]), C)
        elif op is C.BRANCH:
            chars, empty = set(), False
            for branch in arg[1]:
                these, none = _first(list(branch), C)
                if these is None:
                    return None, False
                chars |= these
                empty = empty or none
        elif op in (C.MAX_REPEAT, C.MIN_REPEAT, getattr(C, "POSSESSIVE_REPEAT", C.MAX_REPEAT)):
            chars, empty = _first(list(arg[2]), C)
            empty = empty or arg[0] == 0
        else:  # an anchor, a look-around, any character...
            return None, False
        if chars is None:
            return None, False
        out |= chars
        if not empty:
            return out, False
    return out, True


_BLANKS = re.compile(r"\[(?:[^\]\\]|\\.)*\]\+")  # a character class repeated: `[\t \f]+`


def _master_regex(regex: re.Pattern, terminals: list[tuple[str, str]], ignore: frozenset[str]
                  ) -> tuple[re.Pattern, list[str], str]:
    """lark's master regex, written to be run faster, the terminal of each group number, and the
    pattern of the blanks read with a token ("" if none).

    It matches the same tokens: the same alternatives in the same order, each followed by an
    empty group that names its terminal (`lastindex`), where lark opens a named group first;
    the regex engine skips an alternative by its first character only when the alternative
    starts with one. The blanks before a token (an ignored terminal that is a character class,
    `[\t \f]+`, which no other terminal starts with) are read with it, as group 1, instead of
    as a token of their own; blanks before no token are still that terminal."""
    if any("(?P" in pattern or re.search(r"\\[1-9]", pattern) for _, pattern in terminals):
        raise Unsupported("a terminal with groups of its own")
    blanks = ""
    for name, pattern in terminals:
        if name in ignore and _BLANKS.fullmatch(pattern):
            chars = [chr(c) for c in range(128) if re.fullmatch(pattern, chr(c))]
            if all((m := regex.match(c * 2)) and m.lastgroup == name and m.end() == 2 for c in chars):
                blanks = pattern[:-1] + "*"
                break
    alternatives = "|".join(f"(?:{pattern})(?P<{name}>)" for name, pattern in terminals)
    try:
        fast = re.compile(f"({blanks})(?:{alternatives})", regex.flags)
    except re.error as e:
        raise Unsupported(f"a terminal that does not compile as an alternative: {e}") from None
    kinds = [""] * (fast.groups + 1)
    for name, number in fast.groupindex.items():
        kinds[number] = name
    return fast, kinds, blanks


def _newline_after(tok: tuple) -> tuple:
    """dsl._synthetic_nl: an implied newline, placed just after `tok`."""
    line = tok[2] or tok[0]
    column = tok[3] or tok[1]
    return (line, column, line, column + 1, "_NL", "")
