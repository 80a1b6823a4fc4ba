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
        self.regex, self.kinds = _master_regex(regex, terminals, self.ignore)
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
        segment after the tokens before it."""
        kinds, roles, retype = self.kinds, self.roles, self.retype
        continue_after, continue_before = self.continue_after, self.continue_before
        openers, lbrace, rbrace = self.openers, self.lbrace, self.rbrace
        line, line_start, end = 1, 0, 0
        depth = 0  # open brackets
        pending: tuple | None = None  # a newline that ends the statement, unless the next token continues it
        prev: tuple | None = None  # the last token passed on
        prev_type = None
        tokens: list[tuple] = []
        for m in iter(self.regex.scanner(text).match, None):
            start = m.end(1)  # after the blanks
            end = m.end()
            group = m.lastindex
            role = roles[group]
            if role is _PLAIN or role is _BRACKET:
                kind = kinds[group]
                column = start - line_start + 1
                tok = (line, column, line, column + end - start, kind, text[start:end])
            elif role is _WORD:
                value = text[start:end]
                column = start - line_start + 1
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
                column = start - line_start + 1
                if newlines:
                    line += newlines
                    line_start = start + value.rindex("\n") + 1
                    if role is _IGNORED_LINES:
                        continue
                    tok = (line - newlines, column, line, end - line_start + 1, kind, value)
                    if kind == "_NL":  # dsl._PostLex: which newlines end a statement
                        if expr_mode or depth or prev is None or prev_type == "_NL" or prev_type in continue_after:
                            continue
                        if pending is None:
                            pending = tok
                        continue
                    # a token over several lines (none in dsl.lark): as any other token below
                else:
                    if role is _IGNORED_LINES:
                        continue
                    tok = (line, column, line, column + end - start, kind, value)
            if pending is not None:
                if kind not in continue_before:
                    tokens.append(pending)
                    yield tokens, tuple(map(_KIND, tokens))
                    tokens = []
                    prev, prev_type = pending, "_NL"
                pending = None
            if role is _BRACKET:
                if kind == rbrace:
                    if prev is not None and prev_type != "_NL" and prev_type != lbrace:
                        tokens.append(_newline_after(prev))
                        yield tokens, tuple(map(_KIND, tokens))
                        tokens = []
                elif kind in openers:
                    depth += 1
                elif depth:
                    depth -= 1
            tokens.append(tok)
            prev, prev_type = tok, kind
        if end != len(text):
            if tokens:
                yield tokens, tuple(map(_KIND, tokens))
            raise Stuck(char_at=(end, line, end - line_start + 1))
        if not expr_mode and prev is not None and prev_type != "_NL" and not depth:
            prev = _newline_after(prev)
            tokens.append(prev)
        if tokens:
            yield tokens, tuple(map(_KIND, tokens))
        last = (prev[0], prev[1], prev[2], prev[3], "$END", "") if prev is not None else (1, 1, None, None, "$END", "")
        yield [last], ("$END",)

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
        for tokens, types in self.segments(text, expr_mode):
            if types[-1] == "_NL" and len(types) <= MAX_REPLAY_TOKENS:  # replayed, if its kind is met often
                key = (tuple(states), types)
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
                    states = list(replay[1])
                    state = states[-1]
                    index += len(tokens)
                    continue
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


_BLANKS = re.compile(r"\[(?:[^\]\\]|\\.)*\]\+")  # a character class repeated: `[\t \f]+`


def _master_regex(regex: re.Pattern, terminals: list[tuple[str, str]], ignore: frozenset[str]
                  ) -> tuple[re.Pattern, list[str]]:
    """lark's master regex, written to be run faster, and the terminal of each group number.

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
    return fast, kinds


def _newline_after(tok: tuple) -> tuple:
    """dsl._synthetic_nl: an implied newline, placed just after `tok`."""
    line = tok[2] or tok[0]
    column = tok[3] or tok[1]
    return (line, column, line, column + 1, "_NL", "")
