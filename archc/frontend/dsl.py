"""The `.arch` DSL front end: text -> `archc.ast.Spec`.

The grammar is `dsl.lark` (LALR(1)); a small post-lexer decides which newlines end a statement
(see the grammar file for the rules and the operator precedence). The parser is built once per
process, lazily, and run by `engine.py` on lark's own tables: the builder below makes the AST as
the parser reduces (lark itself parses where its internals differ from what the engine reads).
Every error is a `SpecErrors` that points at the spec with a caret, says what was expected in
words and gives a hint; no lark exception escapes.
"""
from __future__ import annotations

import contextvars
import re
from pathlib import Path
from typing import Any, Iterator

from lark import Lark, Token, Transformer_NonRecursive
from lark.exceptions import UnexpectedInput, VisitError

from archc import ast as A
from archc.errors import SpecError, SpecErrors, register_source
from archc.frontend.comments import Comment, Spans, attach, scan_dsl
from archc.frontend.engine import Engine, Stuck, Tok, Unsupported
from archc.frontend.nodes import make as N
from archc.frontend.nodes import place_loc
from archc.language import RETURN_KINDS
from archc.frontend.lexicon import KEYWORDS as KEYWORDS  # printer, yaml_loader import it from here
from archc.frontend.lexicon import OPENERS

GRAMMAR_FILE = Path(__file__).with_name("dsl.lark")

# Token texts after which a newline does not end the statement ...
_CONTINUE_AFTER = frozenset({"->", ",", "(", "[", "=", ":", ".", "if", "else", "and", "or", "not",
                             "+", "-", "*", "/", "//", "%", "**", "==", "!=", "<", "<=", ">",
                             ">="})
# ... and token texts that, first on a line, continue the previous line.
_CONTINUE_BEFORE = frozenset({"->", "else", "if", "and", "or", ".", ",", "+", "-", "*", "/",
                              "//", "%", "**", "==", "!=", "<", "<=", ">", ">="})

# Whether the parse in progress is a lone expression (`parse_expr`): then every newline is
# insignificant.
_EXPR_MODE: contextvars.ContextVar[bool] = contextvars.ContextVar("archc_expr_mode", default=False)
# The tokens the post-lexer passed to the parser in progress, for explaining syntax errors
# (a context variable, so that parses in different threads do not mix).
_TRACE: contextvars.ContextVar[list] = contextvars.ContextVar("archc_trace")

_TOKENS = (Token, Tok)  # a token as lark's parser (Token) or the engine (Tok) gives it


class _PostLex:
    """Turns the lexer's raw newlines into statement separators, and records the tokens it
    passes on (in `_TRACE`) so that syntax errors can explain themselves."""

    always_accept = ("_NL",)

    def __init__(self) -> None:
        self.text_of: dict[str, str] = {}  # terminal name -> its literal text, once known

    def token_text(self, tok: Token) -> str:
        """The literal text of a keyword or punctuation token; "\\n" for a newline; otherwise
        the token's type (NAME, INT, FLOAT, STRING, $END)."""
        if tok.type == "_NL":
            return "\n"
        return self.text_of.get(tok.type, tok.type)

    def process(self, stream: Iterator[Token]) -> Iterator[Token]:
        expr_mode = _EXPR_MODE.get()
        history: list[Token] = []
        _TRACE.set(history)
        brackets: list[Token] = []
        pending: Token | None = None
        prev: Token | None = None  # last token passed on (newline tokens included)
        for tok in stream:
            if tok.type == "_NL":
                if expr_mode or brackets or prev is None or prev.type == "_NL":
                    continue
                text = self.token_text(prev)
                if text in _CONTINUE_AFTER or text == "{":
                    continue
                if pending is None:
                    pending = tok
                continue
            if tok.type == "UNUSED" and (expr_mode or brackets or not (
                    prev is None or pending is not None or prev.type == "_NL" or self.token_text(prev) == "{")):
                tok = Token.new_borrow_pos("NAME", tok.value, tok)  # a word only where a statement starts
            text = self.token_text(tok)
            if pending is not None:
                if text not in _CONTINUE_BEFORE:
                    history.append(pending)
                    yield pending
                    prev = pending
                pending = None
            if text == "}" and prev is not None and prev.type != "_NL" and self.token_text(prev) != "{":
                nl = _synthetic_nl(prev)
                history.append(nl)
                yield nl
            if text in OPENERS:
                brackets.append(tok)
            elif text in (")", "]") and brackets:
                brackets.pop()
            history.append(tok)
            yield tok
            prev = tok
        if not expr_mode and prev is not None and prev.type != "_NL" and not brackets:
            nl = _synthetic_nl(prev)
            history.append(nl)
            yield nl


def _synthetic_nl(after: Token) -> Token:
    line = after.end_line or after.line
    col = after.end_column or after.column
    return Token("_NL", "", start_pos=after.end_pos, line=line, column=col, end_line=line,
                 end_column=col + 1, end_pos=after.end_pos)


_PARSER: Lark | None = None
_POSTLEX = _PostLex()


def _cache_file(grammar: str) -> str | bool:
    """Where to keep the built LALR tables between runs (building them is most of a cold start).

    A private per-user directory, not lark's `cache=True` in the shared temp dir: lark caches are
    pickles, and loading a pickle another user could have written would run their code. The file
    name carries a hash of the grammar and lark's version, so a changed grammar is rebuilt."""
    import hashlib
    import lark
    import os
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "archc"
    try:
        base.mkdir(parents=True, exist_ok=True, mode=0o700)
        info = base.stat()
        if (hasattr(os, "getuid") and info.st_uid != os.getuid()) or info.st_mode & 0o022:
            return False
    except OSError:
        return False
    key = hashlib.sha256(f"{lark.__version__}\n{grammar}".encode()).hexdigest()[:16]
    return str(base / f"dsl-{key}.lark-cache")


def _parser() -> Lark:
    global _PARSER
    if _PARSER is None:
        grammar = GRAMMAR_FILE.read_text(encoding="utf-8")
        parser = Lark(grammar, parser="lalr", lexer="basic",
                      start=["start", "expr_only"], postlex=_POSTLEX, propagate_positions=True,
                      maybe_placeholders=False, cache=_cache_file(grammar))
        _POSTLEX.text_of = {t.name: t.pattern.value for t in parser.terminals
                            if t.pattern.type == "str"}
        _PARSER = parser
    return _PARSER


_ENGINE: Engine | None = None
_ENGINE_UNSUPPORTED = False


def _engine() -> Engine | None:
    """The engine on the parser's tables; None where this lark is not laid out as it reads."""
    global _ENGINE, _ENGINE_UNSUPPORTED
    if _ENGINE is None and not _ENGINE_UNSUPPORTED:
        parser = _parser()
        try:
            _ENGINE = Engine(parser, _Builder, _POSTLEX.text_of, _CONTINUE_AFTER, _CONTINUE_BEFORE)
        except Unsupported:
            _ENGINE_UNSUPPORTED = True
    return _ENGINE


# ----------------------------------------------------------------------------- public API


def parse_dsl(text: str, file: str = "<string>") -> A.Spec:
    """Parse a whole `.arch` file."""
    register_source(file, text)
    _check_encodable(text, file)
    return parse_statements(text, file)[0]


def parse_statements(text: str, file: str, first_line: int = 1, commented: bool = False
                     ) -> tuple[A.Spec, Spans, list[Comment]]:
    """`text`, whole statements that start at line `first_line` of `file` (which has comments
    elsewhere if `commented`), parsed (comments attached) as they parse in that file, the lines
    its statements span and its comments (archc.frontend.incremental parses the statements an
    edit changed with it)."""
    builder = _Builder(file, first_line, 1)
    spec = _parse(text, "start", builder)
    if builder.errors:
        raise SpecErrors(sorted(builder.errors, key=_err_pos))
    comments = scan_dsl(text)
    return attach(spec, comments, builder.spans, text, first_line, commented), builder.spans, comments


def _check_encodable(text: str, file: str) -> None:
    """Text from the API may hold a lone surrogate ('\\ud800'), which no file can: a located error
    (the YAML parser would fail to encode it)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as e:
        line = text.count("\n", 0, e.start) + 1
        col = e.start - (text.rfind("\n", 0, e.start) + 1) + 1
        raise SpecErrors([SpecError(f"the text contains a lone surrogate ({ascii(text[e.start])}), not a "
                                    "character", N.Loc(file=file, line=line, col=col),
                                    "pass text decoded from UTF-8; remove the stray character",
                                    code="E-SYNTAX-LONE-SURROGATE")]) from None


def parse_expr(text: str, file: str, line: int = 1, col: int = 1) -> A.Expr:
    """Parse one expression (a YAML scalar). Locs are offset so that the text starts at
    `file:line:col`; the caller registers the file's source."""
    return _parse_expr(text, file, line, col)


def _parse_expr(text: str, file: str, line: int, col: int, at: A.Loc | None = None) -> A.Expr:
    """`at`: give every node (and error) this loc instead of its own (for YAML scalars whose
    text does not map column for column onto the file, such as multi-line ones)."""
    builder = _Builder(file, line, col, at)
    expr = _parse(text, "expr_only", builder)
    if builder.errors:
        raise SpecErrors(sorted(builder.errors, key=_err_pos))
    return expr


def _err_pos(err: SpecError) -> tuple:
    return (err.loc.line, err.loc.col) if err.loc else (0, 0)


def _parse(text: str, start: str, builder: _Builder) -> Any:
    """`text` parsed from `start` ("start" or "expr_only") into the builder's AST."""
    engine = _engine()
    try:
        if engine is not None:
            try:
                return engine.parse(text, start, builder, start == "expr_only")
            except Stuck as stuck:
                failure = _lark_error(text, start, stuck)
        else:
            try:
                return _parse_with_lark(text, start, builder)
            except UnexpectedInput as e:
                failure = e, _TRACE.get([])
    except RecursionError:
        raise SpecErrors([SpecError("this spec is nested too deeply", None,
                                    "split long expressions into several statements",
                                    code="E-LIMIT-NESTING")]) from None
    from archc.frontend.syntax_errors import explain  # only a spec with a syntax error needs it
    raise SpecErrors([explain(failure[0], start, builder.off, _POSTLEX, failure[1])])


def _parse_with_lark(text: str, start: str, builder: _Builder) -> Any:
    """lark's own parse, its tree then given to the builder (where the engine cannot run, and
    to check the engine against)."""
    mode = _EXPR_MODE.set(start == "expr_only")
    try:
        tree = _parser().parse(text, start=start)
    finally:
        _EXPR_MODE.reset(mode)
    try:
        return _TreeToAst(builder).transform(tree)
    except VisitError as e:
        raise e.orig_exc from e


def _lark_failure(text: str, start: str) -> tuple[UnexpectedInput, list[Token]]:
    """The exception lark's own parse of `text` raises and the tokens its post-lexer passed on."""
    mode = _EXPR_MODE.set(start == "expr_only")
    try:
        _parser().parse(text, start=start)
    except UnexpectedInput as e:
        return e, _TRACE.get([])
    finally:
        _EXPR_MODE.reset(mode)
    raise AssertionError("lark parsed what the engine could not")  # pragma: no cover


def _lark_error(text: str, start: str, stuck: Stuck) -> tuple[UnexpectedInput, list[Token]]:
    """The exception lark raises for the syntax error where the engine stopped, rebuilt from the
    engine's state stack (no second parse): the tokens before the failing one as lark's Tokens
    (the engine's token stream is lark's lexer and _PostLex's, tests/frontend/test_parse_engine.py),
    lark's exception for the failing token in that state, with the interactive parser the
    explanations ask what the state accepts."""
    from lark.exceptions import UnexpectedCharacters, UnexpectedToken
    if stuck.char_at is not None:
        pos, line, column = stuck.char_at
        return UnexpectedCharacters(text, pos, line, column), []
    history: list[Token] = []
    for index, (line, column, end_line, end_column, kind, value) in enumerate(
            _engine().tokens(text, start == "expr_only")):
        if kind == "$END":
            break
        history.append(Token(kind, value, None, line, column, end_line, end_column))
        if index == stuck.index:
            break
    if stuck.token[4] == "$END":
        at_end = True
        token = Token.new_borrow_pos("$END", "", history[-1]) if history else Token("$END", "", 0, 1, 1)
    else:
        at_end = False
        token = history[stuck.index]
    parser = _parser()
    interactive = parser.parse_interactive(text, start)
    state = interactive.parser_state
    state.state_stack = list(stuck.states)
    state.value_stack = [None] * (len(stuck.states) - 1)
    try:
        state.feed_token(token, at_end)
    except UnexpectedToken as e:
        e.interactive_parser = interactive
        return e, history
    return _lark_failure(text, start)  # lark accepts the token there: its own word


# ----------------------------------------------------------------------------- locations


class _Offset:
    def __init__(self, file: str, line: int, col: int, at: A.Loc | None = None) -> None:
        self.file, self.line0, self.col0, self.at = file, line, col, at

    def loc(self, line: int, col: int, end_line: int | None = None,
            end_col: int | None = None) -> A.Loc:
        if self.at is not None:
            return self.at
        abs_col = col + self.col0 - 1 if line == 1 else col
        end = None
        if end_col is not None and end_line == line:
            end = end_col + self.col0 - 1 if line == 1 else end_col
        return N.Loc(file=self.file, line=line + self.line0 - 1, col=abs_col, end_col=end)

    def line(self, line: int) -> int:
        """The file's line of the parsed text's `line`."""
        return self.at.line if self.at is not None else line + self.line0 - 1

    def tok(self, tok: Token) -> A.Loc:
        return self.loc(tok.line, tok.column, tok.end_line, tok.end_column)

    def meta(self, meta: tuple) -> A.Loc:
        """The loc of a rule's place (line, column, end_line, end_column, ...)."""
        return self.loc(meta[0], meta[1], meta[2], meta[3])


# ----------------------------------------------------------------------------- tree -> AST


class _Statement:
    """`model NAME [returns dict]` (not an AST node of its own: it sets `Spec.name` and
    `Spec.returns`)."""

    def __init__(self, name: str, loc: A.Loc, end_line: int, returns: str | None = None) -> None:
        self.name, self.loc, self.end_line, self.returns = name, loc, end_line, returns


class _Return:
    def __init__(self, values: list, loc: A.Loc, end_line: int) -> None:
        self.values, self.loc, self.end_line = values, loc, end_line


_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "0": "\0", "\\": "\\", "'": "'", '"': '"'}
_ESCAPE_RE = re.compile(r"\\(x[0-9A-Fa-f]{2}|u[0-9A-Fa-f]{4}|U[0-9A-Fa-f]{8}|.)")


# Literals past these are refused where they are written (they are no size, and Python cannot
# even print an int of more than 4,300 digits).
MAX_INT_DIGITS = 1000


class _LiteralError(Exception):
    """A literal that is no value (reported by the builder at the literal's location)."""

    def __init__(self, message: str, hint: str, *, code: str) -> None:
        super().__init__(message)
        self.message, self.hint, self.code = message, hint, code


def _unescape(body: str) -> str:
    def one(m: re.Match) -> str:
        s = m.group(1)
        if len(s) > 1:
            code = int(s[1:], 16)
            if code > 0x10FFFF:
                raise _LiteralError(f"'\\{s}' is not a character (Unicode ends at \\U0010FFFF)",
                                    "write the character itself, or a code point up to 10FFFF",
                                    code="E-SYNTAX-BAD-ESCAPE")
            if 0xD800 <= code <= 0xDFFF:
                raise _LiteralError(f"'\\{s}' is a lone surrogate, not a character",
                                    "write the character itself (the file is UTF-8)",
                                    code="E-SYNTAX-LONE-SURROGATE")
            return chr(code)
        return _ESCAPES.get(s, "\\" + s)
    return _ESCAPE_RE.sub(one, body)


class _TreeToAst(Transformer_NonRecursive):
    """lark's parse tree -> the builder's AST (each tree node to the builder's method of its
    rule, with its meta and children)."""

    def __init__(self, builder: _Builder) -> None:
        super().__init__(visit_tokens=False)
        self.builder = builder

    def __default__(self, data: str, children: list, meta: Any) -> Any:
        place = None if meta.empty else (meta.line, meta.column, meta.end_line, meta.end_column)
        return getattr(self.builder, data)(place, children)


_END_LINE = 2  # in a rule's place (line, column, end_line, end_column)
# the Spec list of each kind of top-level statement (the builder makes these classes exactly)
_STATEMENT_LISTS = {A.Import: "imports", A.Param: "params", A.Input: "inputs", A.BlockDef: "blocks",
                    A.Assign: "body", A.Output: "outputs"}


class _Builder:
    """The AST of each rule (a method per rule or alias, given the rule's place `meta`, a tuple
    (line, column, end_line, end_column, ...) or None where it matched nothing, and its children
    as lark's parse tree would hold them), and the located errors found on the way."""

    def __init__(self, file: str, line: int = 1, col: int = 1, at: A.Loc | None = None) -> None:
        self.off = _Offset(file, line, col, at)
        self.errors: list[SpecError] = []
        self.spans = Spans()  # the statements' last lines, for attaching comments
        if at is None and line == 1 and col == 1:  # a whole file: places as the parser counts them
            Loc = N.Loc
            loc = place_loc(file)

            def tloc(tok: Token) -> A.Loc:
                if type(tok) is Tok:  # the engine's: its place is its first four items
                    return loc(tok)
                line = tok.line
                return Loc(file=file, line=line, col=tok.column, end_col=tok.end_column if tok.end_line == line else None)

            ends = self.spans.ends
            built = self.spans.built = []

            def span(node: Any, meta: tuple | None) -> Any:  # _span, where lines need no offset
                if meta is not None:
                    at = node.loc
                    if at is not None:
                        line = at.line
                        if meta[_END_LINE] > line:  # (else its first: not kept)
                            ends[(line, at.col)] = line = meta[_END_LINE]
                        built.append((at.line, line, node, None))  # its Spans.slot entry
                return node
            self._loc, self._tloc, self._span = loc, tloc, span  # type: ignore[method-assign]

    def _span(self, node: Any, meta: tuple | None) -> Any:
        if meta is not None:
            self.spans.add(node.loc, self.off.line(meta[_END_LINE]))
        return node

    def _error(self, message: str, loc: A.Loc | None, hint: str | None = None, *,
               code: str) -> None:
        self.errors.append(SpecError(message, loc, hint, code=code))

    def _loc(self, meta: tuple) -> A.Loc:
        return self.off.meta(meta)

    def _tloc(self, tok: Token) -> A.Loc:
        return self.off.tok(tok)

    # ------------------------------------------------------------------ statements

    def start(self, meta: Any, children: list) -> A.Spec:
        spec: dict[str, Any] = {"name": None, "returns": None, "imports": [], "params": [], "inputs": [],
                                "blocks": [], "body": [], "outputs": []}
        lists = {cls: spec[field] for cls, field in _STATEMENT_LISTS.items()}
        model_loc = None
        for stmt in children:
            statements = lists.get(type(stmt))
            if statements is not None:
                statements.append(stmt)
            elif isinstance(stmt, _Statement):
                if model_loc is not None:
                    self._error("the model is named twice", stmt.loc,
                                f"keep one 'model' line (the first, at line {model_loc.line}, "
                                f"names it '{spec['name']}')", code="E-SYNTAX-MODEL-NAMED-TWICE")
                    continue
                spec["name"], model_loc, spec["returns"] = stmt.name, stmt.loc, stmt.returns
                self.spans.model = (stmt.loc.line, stmt.end_line)
        return N.Spec(loc=self.off.loc(1, 1), **spec)

    def expr_only(self, meta: Any, children: list) -> A.Expr:
        return children[0]

    def _text(self, text: str, loc: A.Loc, what: str = "") -> str:
        """The value of a string literal's body; a bad escape (or, for a name or path `what`,
        a NUL character) is reported at `loc`."""
        try:
            value = _unescape(text)
        except _LiteralError as e:
            self._error(e.message, loc, e.hint, code=e.code)
            return "_"
        if what and "\0" in value:
            # in an import path, the same problem as YAML's "\\0" escape in one: the import's code
            code = "E-IMPORT-INVALID-PATH" if what == "import path" else "E-SYNTAX-NUL-CHARACTER"
            self._error(f"{what} contains a NUL character", loc, f"remove the \\0 from the {what}",
                        code=code)
            return "_"
        return value

    def model_stmt(self, meta: Any, children: list) -> _Statement:
        tok = children[0]
        name = self._text(tok.value[1:-1], self._tloc(tok), "model name") if tok.type == "STRING" else tok.value
        returns = None
        if len(children) == 3:  # `returns dict`: two plain names, so neither word is reserved
            word, kind = children[1], children[2]
            if word.value != "returns" or kind.value not in RETURN_KINDS:
                self._error(f"unexpected '{word.value} {kind.value}' after the model's name", self._tloc(word),
                            "only `returns dict` may follow it (forward returns a dict even with one output)",
                            code="E-SYNTAX-MODEL-RETURNS")
            else:
                returns = kind.value
        return _Statement(name, self._tloc(tok), self.off.line(meta[_END_LINE]), returns)

    def import_stmt(self, meta: Any, children: list) -> A.Import:
        tok = children[0]
        path = self._text(tok.value[1:-1], self._tloc(tok), "import path")
        return self._span(N.Import(path=path, loc=self._tloc(tok)), meta)

    def param_stmt(self, meta: Any, children: list) -> A.Param:
        name = children[0]
        default = children[1] if len(children) > 1 else None
        return self._span(N.Param(name=name.value, default=default, loc=self._tloc(name)), meta)

    def input_stmt(self, meta: Any, children: list) -> A.Input:
        name = children[0]
        return self._span(N.Input(name=name.value, shape=children[1:], loc=self._tloc(name)), meta)

    def output_stmt(self, meta: Any, children: list) -> A.Output:
        training = bool(children) and isinstance(children[0], _TOKENS) and children[0].type == "TRAINING"
        if training:
            children = children[1:]
        name = children[0]
        loc = self._tloc(name)
        if name.type == "STRING":  # any text a dict key can be: output "0" = p2, as torchvision's FPN
            text = self._text(name.value[1:-1], loc, "output name")
            if len(children) < 2:
                self._error(f"the output {name.value} needs its value: it names no tensor", loc,
                            f"write output {name.value} = <tensor>", code="E-SYNTAX-OUTPUT-VALUE")
                return self._span(N.Output(name=text, value=N.Name(id="_", loc=loc), training=training,
                                           loc=loc), meta)
            return self._span(N.Output(name=text, value=children[1], training=training, loc=loc), meta)
        value = children[1] if len(children) > 1 else N.Name(id=name.value, loc=loc)
        return self._span(N.Output(name=name.value, value=value, training=training, loc=loc), meta)

    def assign(self, meta: Any, children: list) -> A.Assign:
        if len(children) == 2:  # one name (most statements: no list comprehension's frame)
            first, value = children
            return self._span(N.Assign(targets=[first.value], value=value, loc=self._tloc(first)), meta)
        names, value = children[:-1], children[-1]
        first, last = names[0], names[-1]
        loc = self._loc((first.line, first.column, last.end_line, last.end_column))  # first name to last
        seen: set[str] = set()
        for tok in names:
            if tok.value in seen:
                self._error(f"'{tok.value}' is assigned twice in one statement", self._tloc(tok),
                            "give each target its own name", code="E-NAME-DUPLICATE")
            seen.add(tok.value)
        return self._span(N.Assign(targets=[t.value for t in names], value=value, loc=loc), meta)

    def unused_assign(self, meta: Any, children: list) -> A.Assign:
        word, target, value = children
        loc = self.off.loc(word.line, word.column, target.end_line, target.end_column)
        return self._span(N.Assign(targets=[target.value], value=value, loc=loc, unused=True), meta)

    def block_params(self, meta: Any, children: list) -> list[A.Param]:
        return children

    def block_param(self, meta: Any, children: list) -> A.Param:
        name = children[0]
        default = children[1] if len(children) > 1 else None
        return self._span(N.Param(name=name.value, default=default, loc=self._tloc(name)), meta)

    def block_inputs(self, meta: Any, children: list) -> list[Token]:
        return children

    def return_stmt(self, meta: Any, children: list) -> _Return:
        return _Return(children, self._loc(meta), self.off.line(meta[_END_LINE]))

    def block_def(self, meta: Any, children: list) -> A.BlockDef:
        name, params, inputs, stmts = children[0], children[1], children[2], children[3:]
        loc = self._tloc(name)
        seen: dict[str, Token | A.Param] = {}
        for p in params:
            if p.name in seen:
                self._error(f"block '{name.value}' has two parameters named '{p.name}'", p.loc,
                            "rename one of them", code="E-NAME-DUPLICATE")
            seen[p.name] = p
        for tok in inputs:
            if tok.value in seen:
                what = "parameter" if isinstance(seen[tok.value], A.Param) else "input"
                self._error(f"block '{name.value}' already has a {what} named '{tok.value}'",
                            self._tloc(tok), "inputs and parameters need distinct names",
                            code="E-NAME-DUPLICATE")
            seen[tok.value] = tok
        body: list[A.Assign] = []
        returns: list | None = None
        for stmt in stmts:
            if isinstance(stmt, _Return):
                if returns is None:
                    self.spans.returns[(loc.line, loc.col)] = (stmt.loc.line, stmt.end_line)
                if returns is not None:
                    self._error(f"block '{name.value}' returns twice", stmt.loc,
                                "a block has one 'return'; return several values as "
                                "'return a, b'", code="E-SYNTAX-BLOCK-RETURNS-TWICE")
                else:
                    returns = stmt.values
            elif returns is not None:
                self._error(f"statement after 'return' in block '{name.value}'", stmt.loc,
                            "'return' must be the last statement of a block",
                            code="E-SYNTAX-STATEMENT-AFTER-RETURN")
            else:
                body.append(stmt)
        if returns is None:
            self._error(f"block '{name.value}' has no 'return'", loc,
                        "end the block with 'return <tensor>'", code="E-SYNTAX-BLOCK-NO-RETURN")
            returns = []
        return self._span(N.BlockDef(name=name.value, params=params, inputs=[t.value for t in inputs],
                                     body=body, returns=returns, loc=loc), meta)

    # ------------------------------------------------------------------ expressions

    def ifexpr(self, meta: Any, children: list) -> A.IfExpr:
        body, test, orelse = children
        return N.IfExpr(test=test, body=body, orelse=orelse, loc=self._loc(meta))

    def or_(self, meta: Any, children: list) -> A.BoolOp:
        return N.BoolOp(op="or", left=children[0], right=children[1], loc=self._loc(meta))

    def and_(self, meta: Any, children: list) -> A.BoolOp:
        return N.BoolOp(op="and", left=children[0], right=children[1], loc=self._loc(meta))

    def not_(self, meta: Any, children: list) -> A.Unary:
        return N.Unary(op="not", operand=children[0], loc=self._loc(meta))

    def compare(self, meta: Any, children: list) -> A.Compare:
        left, op, right = children
        return N.Compare(op=op.value, left=left, right=right, loc=self._loc(meta))

    def pipe(self, meta: Any, children: list) -> A.Pipe:
        return N.Pipe(source=children[0], target=children[1], loc=self._loc(meta))

    def target(self, meta: Any, children: list) -> A.Call:
        item = children[0]
        if isinstance(item, _TOKENS):
            return N.Call(func=item.value, loc=self._tloc(item))
        return item

    def binary(self, meta: Any, children: list) -> A.Binary:
        left, op, right = children
        return N.Binary(op=op.value, left=left, right=right, loc=self._loc(meta))

    def unary(self, meta: Any, children: list) -> A.Unary:
        op, operand = children
        return N.Unary(op=op.value, operand=operand, loc=self._loc(meta))

    def attribute(self, meta: Any, children: list) -> A.Attribute:
        return N.Attribute(value=children[0], attr=children[1].value, loc=self._loc(meta))

    def subscript(self, meta: Any, children: list) -> A.Subscript:
        value, items = children
        index = items[0] if len(items) == 1 else N.Indices(items=items, loc=self._loc(meta))
        return N.Subscript(value=value, index=index, loc=self._loc(meta))

    def subscripts(self, meta: Any, children: list) -> list:
        return children

    def slice(self, meta: Any, children: list) -> A.Slice:
        parts: list = [None]
        for child in children:
            if isinstance(child, _TOKENS) and child.type == "COLON":
                parts.append(None)
            else:
                parts[-1] = child
        parts += [None] * (3 - len(parts))
        return N.Slice(start=parts[0], stop=parts[1], step=parts[2], loc=self._loc(meta))

    def name(self, meta: Any, children: list) -> A.Name:
        return N.Name(id=children[0].value, loc=self._loc(meta))

    def int(self, meta: Any, children: list) -> A.Num:
        digits = children[0].value.replace("_", "")
        if len(digits) > MAX_INT_DIGITS:
            self._error(f"integer literal of {len(digits)} digits (at most {MAX_INT_DIGITS})", self._loc(meta),
                        "sizes and counts are far smaller; check the number",
                        code="E-VALUE-INT-TOO-LARGE")
            return N.Num(value=0, loc=self._loc(meta))
        return N.Num(value=int(digits), loc=self._loc(meta))

    def float(self, meta: Any, children: list) -> A.Num:
        value = float(children[0].value.replace("_", ""))
        if value == float("inf"):
            self._error("number too large (over 1.8e308)", self._loc(meta),
                        "no size or rate is this large; check the number (and its exponent)",
                        code="E-VALUE-FLOAT-OVERFLOW")
            value = 0.0
        return N.Num(value=value, loc=self._loc(meta))

    def string(self, meta: Any, children: list) -> A.Str:
        return N.Str(value=self._text(children[0].value[1:-1], self._loc(meta)), loc=self._loc(meta))

    def fstring(self, meta: Any, children: list) -> A.Expr:
        token = children[0]
        start = self._tloc(token)
        body = token.value[2:-1]
        parts: list[A.Expr] = []
        text, i = "", 0
        while i < len(body):
            ch = body[i]
            if body.startswith("{{", i) or body.startswith("}}", i):
                text += ch
                i += 2
            elif ch == "{":
                end = body.find("}", i)
                if end < 0:
                    self._error("'{' in an f-string is never closed", start,
                                "close the expression with '}', or write {{ for a literal brace",
                                code="E-SYNTAX-FSTRING-BRACE")
                    return N.Str(value="", loc=self._loc(meta))
                if text:
                    parts.append(N.Str(value=self._text(text, start), loc=start))
                    text = ""
                source = body[i + 1:end]
                try:
                    parts.append(_parse_expr(source, start.file, start.line, start.col + 3 + i, self.off.at))
                except SpecErrors as errs:
                    self.errors.extend(errs.errors)
                    return N.Str(value="", loc=self._loc(meta))
                i = end + 1
            elif ch == "}":
                self._error("a single '}' in an f-string", start, "write }} for a literal brace",
                            code="E-SYNTAX-FSTRING-BRACE")
                return N.Str(value="", loc=self._loc(meta))
            else:
                text += ch
                i += 1
        if text or not parts:
            parts.append(N.Str(value=self._text(text, start), loc=start))
        return N.FString(parts=parts, loc=self._loc(meta))

    def true(self, meta: Any, children: list) -> A.Bool:
        return N.Bool(value=True, loc=self._loc(meta))

    def false(self, meta: Any, children: list) -> A.Bool:
        return N.Bool(value=False, loc=self._loc(meta))

    def none(self, meta: Any, children: list) -> A.NoneLit:
        return N.NoneLit(loc=self._loc(meta))

    def comp_for(self, meta: Any, children: list) -> A.CompFor:
        targets = [t.value for t in children if isinstance(t, _TOKENS)]
        iterable, *conditions = [c for c in children if not isinstance(c, _TOKENS)]
        return N.CompFor(targets=targets, iterable=iterable, conditions=conditions,
                         loc=self._loc(meta))

    def listcomp(self, meta: Any, children: list) -> A.ListComp:
        element, clauses = children[0], children[1:]
        targets = [t for clause in clauses for t in clause.targets]
        if len(set(targets)) != len(targets):
            self._error("a comprehension names the same variable twice", self._loc(meta),
                        "give each loop variable its own name, e.g. 'for i, j in ...'",
                        code="E-NAME-DUPLICATE")
        return N.ListComp(element=element, clauses=clauses, loc=self._loc(meta))

    def list(self, meta: Any, children: list) -> A.ListExpr:
        return N.ListExpr(items=children, loc=self._loc(meta))

    def paren(self, meta: Any, children: list) -> A.Expr:
        return children[0]

    def kwarg(self, meta: Any, children: list) -> A.Keyword:
        return N.Keyword(name=children[0].value, value=children[1], loc=self._loc(meta))

    def call(self, meta: Any, children: list) -> A.Call:
        func, items = children[0].value, children[1:]
        args: list = []
        kwargs: list[A.Keyword] = []
        for item in items:
            if isinstance(item, A.Keyword):
                if kwargs and any(k.name == item.name for k in kwargs):
                    self._error(f"keyword argument '{item.name}' is given twice in the call to "
                                f"'{func}'", item.loc, "remove one of them",
                                code="E-CALL-ARGUMENT-TWICE")
                    continue
                kwargs.append(item)
            elif kwargs:
                self._error(f"positional argument after keyword argument in the call to "
                            f"'{func}'", item.loc,
                            "put positional arguments first, or name this one",
                            code="E-SYNTAX-POSITIONAL-AFTER-KEYWORD")
            else:
                args.append(item)
        return N.Call(func=func, args=args, kwargs=kwargs, loc=self._loc(meta))
