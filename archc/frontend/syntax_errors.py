"""Explaining the `.arch` parser's syntax errors: a lark UnexpectedToken or UnexpectedCharacters
becomes a `SpecError` with a message in words, a hint and a catalogue code.

Each explanation is a `Rule`: when it applies (a predicate over the error's `Context`: the
token, what the parser expected, the tokens before it, the open brackets) and what it says. The
rules are tried in order and the first that applies wins; the last of each table applies
always. A rule that leaves its message, place or code unset keeps the parser's own: "unexpected
X[ in the arguments of 'f']; expected Y" at the token, E-SYNTAX-UNEXPECTED-END at the end of a
line or file, else E-SYNTAX-UNEXPECTED-TOKEN.

Loaded only when a spec has a syntax error (dsl.py imports it then).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Iterable, Union

from lark import Token
from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken

from archc import ast as A
from archc.errors import Edit, Fix, SpecError, source_line
from archc.frontend.lexicon import KEYWORDS, OPENERS

if TYPE_CHECKING:  # dsl.py imports this module when a parse fails
    from archc.frontend.dsl import _Offset, _PostLex

_BINARY_OPS = frozenset({"+", "-", "*", "/", "//", "%", "**"})
_COMPARE_OPS = frozenset({"==", "!=", "<", "<=", ">", ">="})
_EXPR_START = frozenset({"NAME", "INT", "FLOAT", "STRING", "FSTRING", "(", "[", "-", "+", "not", "true",
                         "True", "false", "False", "none", "None"})
_OPERATORS = frozenset(_BINARY_OPS | _COMPARE_OPS | {"->", "if", "and", "or", ".", "["})
_ORDER = ["')'", "']'", "','", "'='", "':'", "'->'", "'else'", "end of line", "an expression",
          "a name", "a string", "a number"]
_VALUES = ("NAME", "INT", "FLOAT", "STRING")
_TOP_LEVEL_STATEMENTS = ("model", "import", "param", "input", "output", "block")


# ----------------------------------------------------------------------------- rules


@dataclass(frozen=True)
class CharacterContext:
    """An UnexpectedCharacters: a character no token starts with."""
    char: str
    loc: A.Loc
    code: str = "E-SYNTAX-UNEXPECTED-CHARACTER"

    @property
    def message(self) -> str:
        shown = repr(self.char)[1:-1] if not self.char.isprintable() else self.char
        return f"unexpected character '{shown}'"


@dataclass(frozen=True)
class Context:
    """An UnexpectedToken, and where the parser was when it met it."""
    tok: Token
    text: str  # the token's literal text ("\n" for end of line), else its type
    expected: frozenset[str]  # the terminals the parser would have accepted
    expected_texts: frozenset[str]  # ... as literal texts where they have one
    before: list[Token]  # the tokens passed to the parser before this one
    open_brackets: list[Token]  # of `before`, innermost last
    post: _PostLex
    off: _Offset
    loc: A.Loc  # the token's place (at end of file: just after the last token)
    message: str  # "unexpected X; expected Y"
    code: str  # the code by where the parse stopped

    @property
    def prev(self) -> Token | None:
        return self.before[-1] if self.before else None

    @property
    def prev_text(self) -> str | None:
        return self.post.token_text(self.before[-1]) if self.before else None

    @property
    def at_end(self) -> bool:
        """The line or the file ended too soon."""
        return self.tok.type in ("_NL", "$END")

    @property
    def what(self) -> str:
        return _describe_token(self.tok, self.text)

    def text_of(self, tok: Token) -> str:
        return self.post.token_text(tok)


AnyContext = Union[Context, CharacterContext]
Says = Union[str, Callable[[AnyContext], str]]


@dataclass(frozen=True)
class Rule:
    """One explanation: `applies` says when, the rest what (a `message`, place (`at`) or `code`
    of None keeps the context's)."""
    name: str
    applies: Callable[[AnyContext], bool]
    hint: Says
    code: str | None = None
    message: Says | None = None
    at: Callable[[AnyContext], A.Loc] | None = None
    fixes: Callable[[AnyContext], list[Fix]] | None = None  # rewrites of the text that resolve it

    def to_error(self, c: AnyContext) -> SpecError:
        def said(what: Says) -> str:
            return what(c) if callable(what) else what
        message = said(self.message) if self.message is not None else c.message
        return SpecError(message, self.at(c) if self.at else c.loc, said(self.hint), code=self.code or c.code,
                         fixes=self.fixes(c) if self.fixes else [])


def _always(_c: AnyContext) -> bool:
    return True


_CHARACTER_HINTS = {"!": "write 'not x' for negation, '!=' for 'not equal'",
                    "&": "write 'and'", "|": "write 'or'",
                    ";": "put each statement on its own line",
                    "{": "'{' only opens a block body: 'block Name(params)(inputs) { ... }'",
                    "}": "'}' only closes a block body"}

CHARACTER_RULES: tuple[Rule, ...] = (
    Rule("unterminated-string", lambda c: c.char in "\"'",
         message="unterminated string", hint=lambda c: f"close the string with {c.char} on the same line",
         code="E-SYNTAX-UNTERMINATED-STRING"),
    Rule("unexpected-character", _always,
         hint=lambda c: _CHARACTER_HINTS.get(c.char, "names are made of letters, digits and '_'")),
)


def _pipe_result_example(c: Context) -> str:
    example = {".": "(x -> f).channels", "[": "(x -> f).shape[0]"}.get(c.text, f"(x -> f) {c.text} y")
    return ("'->' binds looser than arithmetic and its right side is a single call; to use the pipe's result, "
            f"parenthesise it: '{example}'")


def _unclosed(c: Context) -> Token:
    return c.open_brackets[-1]


def _still_open_hint(c: Context) -> str:
    ob = _unclosed(c)
    return (f"is a '{OPENERS[c.text_of(ob)]}' missing? the '{c.text_of(ob)}' at line {c.off.tok(ob).line}, "
            f"column {c.off.tok(ob).col} is still open")


def _starts_statement(c: Context) -> bool:
    return len(c.before) == 1 or c.text_of(c.before[-2]) in ("\n", "{")


def _block_header(c: Context) -> tuple[Token, list[Token]] | None:
    """`block NAME ( ... )` just before the error: the block's name and the tokens between the
    brackets (a block written with one bracket group, where it takes two)."""
    before = c.before
    if len(before) < 4 or c.text_of(before[-1]) != ")":
        return None
    depth, i = 0, len(before) - 1
    while i >= 0:
        text = c.text_of(before[i])
        if text in (")", "]"):
            depth += 1
        elif text in ("(", "["):
            depth -= 1
            if depth == 0:
                break
        i -= 1
    if i < 2 or c.text_of(before[i]) != "(" or before[i - 1].type != "NAME" or c.text_of(before[i - 2]) != "block":
        return None
    return before[i - 1], before[i + 1:-1]


def _plain_names(tokens: list[Token], c: Context) -> list[str] | None:
    """The names of `a, b, c` (a trailing comma allowed); None for anything else."""
    names = [t.value for t in tokens if t.type == "NAME"]
    commas = [t for t in tokens if c.text_of(t) == ","]
    plain = all(t.type == "NAME" or c.text_of(t) in (",", "\n") for t in tokens)
    return names if plain and names and len(commas) in (len(names) - 1, len(names)) else None


def _block_one_group(c: Context) -> bool:
    return c.text == "{" and "(" in c.expected_texts and _block_header(c) is not None


def _block_one_group_hint(c: Context) -> str:
    header = _block_header(c)
    assert header is not None
    name, group = header
    form = f"a block takes its parameters, then its inputs: block {name.value}"
    names = _plain_names(group, c)
    if names is None:  # defaults or other expressions: the group holds the parameters
        return f"{form}({_written(group, c) or 'params'})(inputs) {{"
    if len(names) == 1:
        return f"{form}()({names[0]}) {{"
    return f"{form}(params)(inputs) {{; with no parameters: block {name.value}()({', '.join(names)}) {{"


def _written(tokens: list[Token], c: Context) -> str | None:
    """The text of `tokens` as the source writes them, where they lie on one line."""
    if not tokens or c.off.at is not None or any(t.line != tokens[0].line for t in tokens):
        return None
    line = source_line(c.off.file, c.off.tok(tokens[0]).line)
    end = tokens[-1].end_column
    if line is None or end is None:
        return None
    col0 = c.off.tok(tokens[0]).col - tokens[0].column  # the offset of the text parsed on its first line
    return line[tokens[0].column - 1 + col0:end - 1 + col0]


def _block_one_group_fixes(c: Context) -> list[Fix]:
    """Read the one group as the block's inputs: insert `()` after the name. Preferred (what
    `check --fix` applies) only for a single name, which a block with no inputs hardly means."""
    header = _block_header(c)
    assert header is not None
    name, group = header
    names = _plain_names(group, c)
    if names is None or c.off.at is not None:
        return []
    at = c.off.tok(name)
    if at.end_col is None:
        return []
    where = A.Loc(file=at.file, line=at.line, col=at.end_col, end_col=at.end_col)
    return [Fix(f"take ({', '.join(names)}) as the inputs of '{name.value}', with no parameters",
                (Edit(where, "()"),), preferred=len(names) == 1)]


def _value_where_comma_expected(c: Context) -> bool:
    return bool(c.open_brackets) and c.tok.type in _VALUES and "," in c.expected_texts


TOKEN_RULES: tuple[Rule, ...] = (
    Rule("pipe-target", lambda c: c.prev_text == "->" and c.tok.type != "NAME",
         message=lambda c: f"expected an op or block call after '->', found {c.what}",
         hint="the right side of '->' is one call, such as 'relu' or 'conv2d(64, 3)'",
         code="E-SYNTAX-PIPE-TARGET"),
    Rule("pipe-without-input", lambda c: c.text == "->" and "->" not in c.expected_texts,
         hint="'->' needs a tensor on its left, e.g. 'y = x -> relu'"),
    Rule("pipe-result-operand", lambda c: c.text in _BINARY_OPS | {".", "["} and _after_pipe_target(c),
         hint=_pipe_result_example),
    Rule("chained-comparison", lambda c: c.text in _COMPARE_OPS and _after_comparison(c),
         hint="comparisons do not chain: write 'a < b and b < c'"),
    Rule("assign-for-compare", lambda c: c.text == "=" and "==" in c.expected_texts,
         hint="use '==' to compare; '=' only assigns (or names a keyword argument)"),
    Rule("return-outside-block", lambda c: c.text == "return" and not _inside_block(c),
         hint="'return' is only allowed inside a block"),
    Rule("reserved-layer-name", lambda c: c.text in KEYWORDS and _after_name_keyword(c),
         hint=lambda c: f"'{c.text}' is a reserved word; quote the layer name: name=\"{c.text}\"",
         code="E-SYNTAX-RESERVED-WORD"),
    Rule("top-level-statement-in-block", lambda c: c.text in _TOP_LEVEL_STATEMENTS and _inside_block(c),
         hint=lambda c: f"'{c.text}' statements belong at the top level, outside blocks"),
    Rule("reserved-word-as-name", lambda c: c.text in KEYWORDS and "NAME" in c.expected,
         hint=lambda c: f"'{c.text}' is a reserved word; choose another name",
         code="E-SYNTAX-RESERVED-WORD"),
    Rule("reserved-word-before", lambda c: c.prev_text in KEYWORDS and c.text in ("=", ",", ":")
         and "NAME" in c.expected,
         hint=lambda c: f"'{c.prev_text}' is a reserved word; choose another name",
         code="E-SYNTAX-RESERVED-WORD"),
    Rule("unmatched-bracket", lambda c: c.text in (")", "]") and not c.open_brackets,
         hint=lambda c: f"this '{c.text}' has no matching '{'(' if c.text == ')' else '['}'",
         code="E-SYNTAX-UNMATCHED-BRACKET"),
    Rule("empty-before-comma", lambda c: c.text == "," and c.prev_text in (",", "(", "["),
         hint="something is missing before this ','"),
    Rule("unnamed-result", lambda c: c.text == "(" and c.prev is not None and c.prev.type == "NAME"
         and _starts_statement(c),
         hint="a statement must name its result, e.g. 'y = f(x)'"),
    Rule("block-one-group", _block_one_group, hint=_block_one_group_hint, fixes=_block_one_group_fixes),
    Rule("conditional-without-else", lambda c: c.at_end and "else" in c.expected_texts,
         hint="a conditional needs both branches: 'a if cond else b'"),
    Rule("unclosed-bracket", lambda c: c.tok.type == "$END" and bool(c.open_brackets),
         message=lambda c: f"'{c.text_of(_unclosed(c))}' is never closed",
         at=lambda c: c.off.tok(_unclosed(c)),
         hint=lambda c: f"add the matching '{OPENERS[c.text_of(_unclosed(c))]}'",
         code="E-SYNTAX-UNCLOSED-BRACKET"),
    Rule("bracket-still-open", lambda c: _value_where_comma_expected(c) and _unclosed(c).line != c.tok.line,
         hint=_still_open_hint),
    Rule("missing-comma", _value_where_comma_expected,
         hint="separate arguments and list items with ','"),
    Rule("missing-value", lambda c: c.tok.type == "_NL" and c.prev_text == "=",
         hint="give a value after '='"),
    Rule("missing-operator", lambda c: not c.open_brackets and "_NL" in c.expected
         and (c.tok.type in _VALUES or c.text in ("(", "[")),
         hint="a statement ends with its line; is an operator missing?"),
    Rule("incomplete", lambda c: c.at_end,
         hint="this is incomplete; finish it on this line, or end the line with an operator or '->' to "
              "continue on the next one"),
    Rule("misplaced-token", _always,
         hint="check for a missing operator, ',' or bracket just before this point"),
)


def first_match(rules: Iterable[Rule], context: AnyContext) -> Rule:
    """The first of `rules` that applies (each table ends with one that always does)."""
    return next(rule for rule in rules if rule.applies(context))


def explain(e: UnexpectedInput, start: str, off: _Offset, post: _PostLex, history: list[Token]) -> SpecError:
    """The error `e` of a parse from `start`, whose post-lexer `post` passed on `history`."""
    if isinstance(e, UnexpectedCharacters):
        context: AnyContext = CharacterContext(e.char, off.loc(e.line, e.column, e.line, e.column + 1))
        return first_match(CHARACTER_RULES, context).to_error(context)
    assert isinstance(e, UnexpectedToken)
    context = _token_context(e, start, off, post, history)
    return first_match(TOKEN_RULES, context).to_error(context)


def _token_context(e: UnexpectedToken, start: str, off: _Offset, post: _PostLex, history: list[Token]) -> Context:
    tok = e.token
    try:  # exact for this state (the parse table's `expected` merges LALR look-aheads)
        expected: set[str] = set(e.interactive_parser.accepts())
    except Exception:  # pragma: no cover - best effort
        expected = set(e.expected or ())
    if start == "expr_only":
        expected.discard("_NL")
    if "NAME" in expected:
        expected.discard("UNUSED")  # `unused f4 = ...` starts with a name too: "a name" says it
    # Position: the token itself (for end of file: just after the last token).
    if tok.type == "$END" or tok.line is None:
        last = history[-1] if history else None
        if last is not None:
            line, col = last.end_line or last.line, last.end_column or last.column
        else:
            line, col = 1, 1
        loc = off.loc(line, col, line, col + 1)
    else:
        end_col = tok.end_column if tok.end_line == tok.line else None
        loc = off.loc(tok.line, tok.column, tok.line, end_col or tok.column + 1)

    before = history[:_history_index(history, tok)]
    open_brackets = _open_brackets(before, post)
    text = post.token_text(tok)
    message = f"unexpected {_describe_token(tok, text)}{_bracket_context(before, open_brackets, post)}"
    described = _describe_expected(expected, post.text_of)
    if described:
        message += f"; expected {described}"
    code = "E-SYNTAX-UNEXPECTED-END" if tok.type in ("_NL", "$END") else "E-SYNTAX-UNEXPECTED-TOKEN"
    return Context(tok, text, frozenset(expected), frozenset(post.text_of.get(t, t) for t in expected),
                   before, open_brackets, post, off, loc, message, code)


# ----------------------------------------------------------------------------- in words


def _bracket_context(before: list[Token], open_brackets: list[Token], post: _PostLex) -> str:
    """Where the error is, by its innermost open bracket: in a call's arguments, a list, a subscript."""
    if not open_brackets:
        return ""
    ob = open_brackets[-1]
    i = _history_index(before, ob)
    callee = before[i - 1] if i > 0 and before[i - 1].type == "NAME" else None
    if post.token_text(ob) == "(":
        return f" in the arguments of '{callee.value}'" if callee else " in parentheses"
    return " in a list" if not (callee or (i > 0 and post.token_text(before[i - 1]) in (")", "]"))) \
        else " in a subscript"


def _describe_token(tok: Token, text: str) -> str:
    if tok.type == "$END":
        return "end of file"
    if tok.type == "_NL":
        return "end of line"
    if tok.type == "NAME":
        return f"name '{tok.value}'"
    if tok.type in ("INT", "FLOAT"):
        return f"number {tok.value}"
    if tok.type in ("STRING", "FSTRING"):
        return f"string {tok.value}"
    if text in KEYWORDS:
        return f"keyword '{text}'"
    return f"'{text}'"


def _describe_expected(expected: set[str], text_of: dict[str, str]) -> str:
    texts = {text_of.get(t, t) for t in expected}
    words: list[str] = []
    operators = len(texts & (_BINARY_OPS | _COMPARE_OPS)) >= 3
    if operators:
        texts -= _OPERATORS | {"("}
    if {"NAME", "INT", "("} <= texts:
        texts -= _EXPR_START | {"FLOAT"}
        words.append("an expression")
    for t in sorted(texts):
        if t == "NAME":
            words.append("a name")
        elif t in ("INT", "FLOAT"):
            if "a number" not in words:
                words.append("a number")
        elif t in ("STRING", "FSTRING"):
            if "a string" not in words:
                words.append("a string")
        elif t == "_NL":
            words.append("end of line")
        elif t == "$END":
            words.append("end of file")
        else:
            words.append(f"'{t}'")
    words.sort(key=lambda w: (_ORDER.index(w) if w in _ORDER else len(_ORDER), w))
    if operators:
        words.append("an operator")
    if not words:
        return ""
    if len(words) == 1:
        return words[0]
    return ", ".join(words[:-1]) + " or " + words[-1]


# ----------------------------------------------------------------------------- the tokens before


def _after_name_keyword(c: Context) -> bool:
    """`name=<tok>`: the token comes right after a `name=` keyword argument."""
    tokens = [t for t in c.before if not (t.line == c.tok.line and t.column == c.tok.column)]
    return len(tokens) >= 2 and c.text_of(tokens[-1]) == "=" and tokens[-2].value == "name"


def _history_index(history: list[Token], tok: Token) -> int:
    for i in range(len(history) - 1, -1, -1):
        if history[i] is tok:
            return i
    return len(history)


def _open_brackets(tokens: list[Token], post: _PostLex) -> list[Token]:
    stack: list[Token] = []
    for t in tokens:
        text = post.token_text(t)
        if text in OPENERS:
            stack.append(t)
        elif text in (")", "]") and stack:
            stack.pop()
    return stack


def _after_pipe_target(c: Context) -> bool:
    """Whether the tokens just before the error end a pipe step: `-> name` or `-> name(...)`."""
    before = c.before
    i = len(before) - 1
    if i < 0:
        return False
    if c.text_of(before[i]) == ")":
        depth = 0
        while i >= 0:
            t = c.text_of(before[i])
            if t in (")", "]"):
                depth += 1
            elif t in ("(", "["):
                depth -= 1
                if depth == 0:
                    break
            i -= 1
        i -= 1
    return i >= 1 and before[i].type == "NAME" and c.text_of(before[i - 1]) == "->"


def _after_comparison(c: Context) -> bool:
    depth = 0
    for t in reversed(c.before):
        text = c.text_of(t)
        if text in (")", "]"):
            depth += 1
        elif text in ("(", "["):
            if depth == 0:
                return False
            depth -= 1
        elif depth == 0 and text in _COMPARE_OPS:
            return True
        elif depth == 0 and text in ("\n", "=", ",", "and", "or", "not", "if", "else", "->"):
            return False
    return False


def _inside_block(c: Context) -> bool:
    depth = 0
    for t in reversed(c.before):
        text = c.text_of(t)
        if text == "}":
            depth += 1
        elif text == "{":
            if depth == 0:
                return True
            depth -= 1
    return False
