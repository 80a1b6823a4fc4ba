"""A document's symbols, from its AST: where each block, param, input and tensor is defined,
every place a name refers to one, every call site, and the text each statement spans.

Built from `archc.ast.Spec` (both languages: the YAML front end locates names and calls as the
DSL's does), so it works on any spec that parses, whether or not it elaborates. Names resolve as
the elaborator resolves them: a block body sees its own parameters, inputs and tensors (never the
model's params), the model sees its params, inputs and tensors, and a call or a name that is no
local value but a block's name refers to that block, wherever it is defined (across imports:
`project.py` resolves those).

Keys of what a name refers to:
    ("block", name)                      a block, in this file or an imported one
    ("local", file, scope, name)         a param, input or tensor; scope None is the model
    ("member", block, param)             a keyword argument of a block call: that block's param
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from archc import ast as A
from archc.language import LAYER_OPTIONS
from archc.lsp.text import (
    Span,
    lines_of,
    loc_end,
    loc_span,
    matching_close,
    name_span,
    offset_of,
    position_of,
)

_CLOSERS = re.compile(r"[ \t]*[)\]]+")

MODEL = None  # the scope of the model's own statements


@dataclass
class Symbol:
    kind: str  # block, param, input, tensor, output, block_param, block_input
    name: str
    file: str
    span: Span  # the name where it is defined
    extent: Span  # the statement (a block: its whole definition)
    scope: str | None  # MODEL or the block's name
    node: Any = None  # Param, Input, Assign, Output, BlockDef; None for a block input

    @property
    def key(self) -> tuple:
        if self.kind == "block":
            return ("block", self.name)
        return ("local", self.file, self.scope, self.name)


@dataclass
class Occurrence:
    span: Span
    name: str
    key: tuple
    is_def: bool
    scope: str | None


@dataclass
class Statement:
    kind: str  # import, param, input, assign, output, block, return
    node: Any
    scope: str | None
    extent: Span
    targets: list[tuple[str, Span]] = field(default_factory=list)


@dataclass
class CallSite:
    call: A.Call
    func_span: Span
    extent: Span
    scope: str | None
    statement: Statement
    parent: CallSite | None = None


@dataclass
class KeywordSite:
    keyword: A.Keyword
    span: Span  # the keyword's name
    site: CallSite


@dataclass
class ImportSite:
    node: A.Import
    span: Span  # the path string


# what the index builds on first use (`DocumentIndex.__getattr__`): every check makes an index,
# and only hover, completion, outline and references read these (indexing a 5,000-line spec takes
# longer than checking an edit of it); its import sites are made at once (diagnostics read them)
_LAZY = frozenset({"symbols", "occurrences", "calls", "keywords", "statements", "blocks", "block_extents",
                   "_by_node"})


class DocumentIndex:
    def __init__(self, spec: A.Spec, text: str, file: str, language: str):
        self.spec = spec
        self.file = file
        self.language = language
        self.text = text
        self.lines = lines_of(text)
        self.imports: list[ImportSite] = []
        for imp in spec.imports:
            span = self._span(imp.loc)
            if span is not None:
                self.imports.append(ImportSite(imp, span))

    def __getattr__(self, name: str) -> Any:
        """The symbols, occurrences, calls and statements, built when one is first read."""
        if name not in _LAZY or "spec" not in self.__dict__:  # (unpickling asks before `spec` is set)
            raise AttributeError(name)
        self.symbols: list[Symbol] = []
        self.occurrences: list[Occurrence] = []
        self.calls: list[CallSite] = []
        self.keywords: list[KeywordSite] = []
        self.statements: list[Statement] = []
        self.blocks: dict[str, Symbol] = {}
        self.block_extents: dict[str, Span] = {}
        self._by_node: dict[int, Statement] = {}
        self._build()
        return self.__dict__[name]

    # ------------------------------------------------------------------ queries
    def scope_symbols(self, scope: str | None) -> list[Symbol]:
        return [s for s in self.symbols if s.scope == scope and s.kind != "block"]

    def symbol(self, key: tuple) -> Symbol | None:
        for s in self.symbols:
            if s.key == key and s.kind != "output":
                return s
        for s in self.symbols:
            if s.key == key:
                return s
        return None

    def occurrence_at(self, line: int, col: int) -> Occurrence | None:
        hits = [o for o in self.occurrences if o.span.contains(line, col)]
        return min(hits, key=lambda o: o.span.size) if hits else None

    def call_at(self, line: int, col: int, on_name: bool = False) -> CallSite | None:
        """The innermost call whose text holds the cursor (`on_name`: whose op or block name)."""
        hits = [c for c in self.calls if (c.func_span if on_name else c.extent).contains(line, col)]
        return min(hits, key=lambda c: (c.extent.size, -c.extent.line, -c.extent.col)) if hits else None

    def keyword_at(self, line: int, col: int) -> KeywordSite | None:
        for k in self.keywords:
            if k.span.contains(line, col):
                return k
        return None

    def import_at(self, line: int, col: int) -> ImportSite | None:
        for imp in self.imports:
            if imp.span.contains(line, col):
                return imp
        return None

    def statement_at(self, line: int) -> Statement | None:
        hits = [s for s in self.statements if s.kind != "block" and s.extent.line <= line <= s.extent.end_line]
        return min(hits, key=lambda s: s.extent.size) if hits else None

    def scope_at(self, line: int, col: int = 0) -> str | None:
        """The block whose definition holds the position, or MODEL."""
        for name, extent in self.block_extents.items():
            if extent.contains(line, col) and (line, col) > (extent.line, extent.col):
                return name
        return MODEL

    def references_to(self, key: tuple) -> list[Occurrence]:
        return [o for o in self.occurrences if o.key == key]

    # ------------------------------------------------------------------ building
    def _span(self, loc: A.Loc | None) -> Span | None:
        return loc_span(loc, self.lines) if loc is not None else None

    def _name_span(self, name: str, loc: A.Loc | None) -> Span | None:
        """The span of `name` written at `loc` (validated against the text: a YAML key may be
        quoted, a statement may start with a keyword)."""
        if loc is None:
            return None
        line, col = loc.line - 1, loc.col - 1
        if 0 <= line < len(self.lines) and self.lines[line][col:col + len(name)] == name:
            return Span(line, col, line, col + len(name))
        return name_span(self.lines, name, line, col, line + 2)

    def _extent(self, node: Any, start: Span) -> Span:
        end = (start.end_line, start.end_col)
        lines = self.lines
        for n in walk(node):
            loc = n.loc if isinstance(n, A.Node) else None
            if loc is not None:
                last = loc_end(loc, lines)
                if last[0] < len(lines) and last > end:
                    end = last
        # brackets closing on the same line just after the last located node belong to it
        line, col = end
        if line < len(self.lines):
            m = _CLOSERS.match(self.lines[line], col)
            if m:
                col = m.end()
        return Span(start.line, start.col, line, col)

    def _statement_start(self, span: Span) -> Span:
        """A statement's start: the first non-blank of its line when it is the line's first
        statement (`output logits = ...` starts at `output`)."""
        text = self.lines[span.line] if span.line < len(self.lines) else ""
        first = len(text) - len(text.lstrip())
        return Span(span.line, min(first, span.col), span.end_line, span.end_col)

    def _build(self) -> None:
        spec = self.spec
        for site in self.imports:
            self.statements.append(Statement("import", site.node, MODEL, self._statement_start(site.span)))
        for block in spec.blocks:
            span = self._name_span(block.name, block.loc)
            if span is None:
                continue
            extent = self._block_extent(block, span)
            self.block_extents[block.name] = extent
            sym = Symbol("block", block.name, self.file, span, extent, MODEL, block)
            self.symbols.append(sym)
            self.blocks.setdefault(block.name, sym)
            self.occurrences.append(Occurrence(span, block.name, sym.key, True, MODEL))
        model_names: dict[str, tuple] = {}
        for p in spec.params:
            self._define("param", p.name, p, MODEL, model_names)
        for inp in spec.inputs:
            self._define("input", inp.name, inp, MODEL, model_names)
        for stmt in spec.body:
            self._define_targets(stmt, MODEL, model_names)
        for out in spec.outputs:
            span = self._name_span(out.name, out.loc)
            if span is None:
                continue
            extent = self._extent(out.value, self._statement_start(span))
            st = Statement("output", out, MODEL, extent, [(out.name, span)])
            self.statements.append(st)
            is_ref = isinstance(out.value, A.Name) and out.value.loc == out.loc  # `output h`
            sym = Symbol("output", out.name, self.file, span, extent, MODEL, out)
            self.symbols.append(sym)
            if not is_ref:
                self.occurrences.append(Occurrence(span, out.name, sym.key, True, MODEL))
        # references, now that every name of the scope is known (statements come in any order)
        for p in spec.params:
            if p.default is not None:
                self._walk(p.default, MODEL, model_names, self._stmt_of(p))
        for inp in spec.inputs:
            for d in inp.shape:
                self._walk(d, MODEL, model_names, self._stmt_of(inp))
        for stmt in spec.body:
            self._walk(stmt.value, MODEL, model_names, self._stmt_of(stmt))
        for out in spec.outputs:
            self._walk(out.value, MODEL, model_names, self._stmt_of(out))
        for block in spec.blocks:
            self._index_block(block)

    def _stmt_of(self, node: Any) -> Statement:
        if len(self._by_node) != len(self.statements):
            self._by_node = {id(st.node): st for st in self.statements}
        st = self._by_node.get(id(node))
        if st is not None and st.node is node:
            return st
        span = self._span(node.loc) or Span(0, 0, 0, 0)
        st = Statement("expr", node, MODEL, span)
        return st

    def _define(self, kind: str, name: str, node: Any, scope: str | None, names: dict) -> None:
        span = self._name_span(name, node.loc)
        if span is None:
            return
        value = getattr(node, "default", None) if kind in ("param", "block_param") else \
            getattr(node, "value", None)
        extent = self._statement_start(span) if scope is MODEL else span
        if value is not None:
            extent = self._extent(value, extent)
        elif isinstance(node, A.Input):
            extent = self._extent(node, self._statement_start(span))
        sym = Symbol(kind, name, self.file, span, extent, scope, node)
        self.symbols.append(sym)
        names.setdefault(name, sym.key)
        self.occurrences.append(Occurrence(span, name, sym.key, True, scope))
        if kind in ("param", "input"):
            self.statements.append(Statement(kind, node, scope, extent, [(name, span)]))

    def _define_targets(self, stmt: A.Assign, scope: str | None, names: dict) -> None:
        if stmt.loc is None:
            return
        line, col = stmt.loc.line - 1, stmt.loc.col - 1
        targets: list[tuple[str, Span]] = []
        for name in stmt.targets:
            span = name_span(self.lines, name, line, col, line + 1)
            if span is None:
                continue
            targets.append((name, span))
            line, col = span.end_line, span.end_col
        if not targets:
            return
        first = targets[0][1]
        start = self._statement_start(first) if scope is MODEL else first
        extent = self._extent(stmt.value, start)
        st = Statement("assign", stmt, scope, extent, targets)
        self.statements.append(st)
        for name, span in targets:
            sym = Symbol("tensor", name, self.file, span, extent, scope, stmt)
            self.symbols.append(sym)
            names.setdefault(name, sym.key)
            self.occurrences.append(Occurrence(span, name, sym.key, True, scope))

    def _block_extent(self, block: A.BlockDef, name: Span) -> Span:
        if self.language == "arch":
            start = offset_of(self.lines, name.line, name.col)
            brace = self.text.find("{", start)
            close = matching_close(self.text, brace) if brace >= 0 else None
            if close is not None:
                line, col = position_of(self.text, close)
                header = self._statement_start(name)
                return Span(header.line, header.col, line, col + 1)
        # YAML: the block's key and every line below it indented deeper
        indent = len(self.lines[name.line]) - len(self.lines[name.line].lstrip())
        last = name.line
        for n in range(name.line + 1, len(self.lines)):
            text = self.lines[n]
            if not text.strip() or text.lstrip().startswith("#"):
                continue
            if len(text) - len(text.lstrip()) <= indent:
                break
            last = n
        return Span(name.line, name.col, last, len(self.lines[last]))

    def _index_block(self, block: A.BlockDef) -> None:
        scope = block.name
        extent = self.block_extents.get(scope)
        names: dict[str, tuple] = {}
        for p in block.params:
            self._define("block_param", p.name, p, scope, names)
        for name, span in self._block_input_spans(block):
            sym = Symbol("block_input", name, self.file, span, span, scope, None)
            self.symbols.append(sym)
            names.setdefault(name, sym.key)
            self.occurrences.append(Occurrence(span, name, sym.key, True, scope))
        for stmt in block.body:
            self._define_targets(stmt, scope, names)
        for p in block.params:
            if p.default is not None:
                self._walk(p.default, scope, names, Statement("param", p, scope, self._span(p.loc)))
        for stmt in block.body:
            self._walk(stmt.value, scope, names, self._stmt_of(stmt))
        if block.returns:
            first = self._span(block.returns[0].loc)
            if first is not None:
                start = first
                line = self.lines[first.line] if first.line < len(self.lines) else ""
                at = line.find("return")
                if 0 <= at < first.col:
                    start = Span(first.line, at, first.end_line, first.end_col)
                end = start
                for r in block.returns:
                    end = self._extent(r, end)
                st = Statement("return", block, scope, Span(start.line, start.col, end.end_line, end.end_col))
                self.statements.append(st)
                for r in block.returns:
                    self._walk(r, scope, names, st)
        del extent

    def _block_input_spans(self, block: A.BlockDef) -> list[tuple[str, Span]]:
        out: list[tuple[str, Span]] = []
        name = self.blocks[block.name].span if block.name in self.blocks else None
        if name is None or not block.inputs:
            return out
        extent = self.block_extents[block.name]
        if self.language == "arch":
            start = offset_of(self.lines, name.line, name.end_col)
            params_open = self.text.find("(", start)
            params_close = matching_close(self.text, params_open, "(", ")") if params_open >= 0 else None
            if params_close is None:
                return out
            line, col = position_of(self.text, params_close + 1)
        else:
            line, col = name.line, name.end_col
            for n in range(name.line, extent.end_line + 1):
                at = self.lines[n].find("inputs:")
                if at >= 0:
                    line, col = n, at + len("inputs:")
                    break
        for inp in block.inputs:
            span = name_span(self.lines, inp, line, col, extent.end_line)
            if span is not None:
                out.append((inp, span))
                line, col = span.end_line, span.end_col
        return out

    def _walk(self, e: Any, scope: str | None, names: dict, st: Statement,
              bound: frozenset = frozenset(), parent: CallSite | None = None) -> None:
        stack: list[tuple[Any, frozenset, CallSite | None]] = [(e, bound, parent)]
        while stack:  # iterative: a 10,000-layer chain is one deep expression
            node, bound, parent = stack.pop()
            if node is None:
                continue
            if isinstance(node, A.Name):
                self._reference(node.id, node.loc, scope, names, bound)
                continue
            if isinstance(node, A.ListComp):
                inner = bound
                for clause in node.clauses:  # each clause sees the names of those before it
                    stack.append((clause.iterable, inner, parent))
                    inner = inner | set(clause.targets)
                    for cond in clause.conditions:
                        stack.append((cond, inner, parent))
                stack.append((node.element, inner, parent))
                continue
            if isinstance(node, A.Call):
                site = self._call(node, scope, names, bound, st, parent)
                inner = bound | {"i"} if node.func == "repeat" else bound
                for a in node.args:
                    stack.append((a, inner, site))
                for kw in node.kwargs:
                    if kw.name == "name":
                        continue  # a module name, not a reference (a word, or text)
                    stack.append((kw.value, inner, site))
                continue
            if isinstance(node, A.Node):
                for child in A.children(node):
                    stack.append((child, bound, parent))

    def _reference(self, name: str, loc: A.Loc | None, scope: str | None, names: dict,
                   bound: frozenset) -> None:
        if name in bound or loc is None:
            return
        key = names.get(name)
        if key is None:
            key = ("block", name)  # resolved (or not) by the project: it may be imported
        span = self._name_span(name, loc)
        if span is not None:
            self.occurrences.append(Occurrence(span, name, key, False, scope))

    def _call(self, call: A.Call, scope: str | None, names: dict, bound: frozenset,
              st: Statement, parent: CallSite | None) -> CallSite | None:
        span = self._name_span(call.func, call.loc)
        if span is None:
            return None
        extent = self._extent(call, span)
        site = CallSite(call, span, extent, scope, st, parent)
        self.calls.append(site)
        if call.func not in bound:
            key = names.get(call.func, ("block", call.func))
            self.occurrences.append(Occurrence(span, call.func, key, False, scope))
        for kw in call.kwargs:
            kspan = self._name_span(kw.name, kw.loc)
            if kspan is None:
                continue
            self.keywords.append(KeywordSite(kw, kspan, site))
            if kw.name not in LAYER_OPTIONS:
                self.occurrences.append(Occurrence(kspan, kw.name, ("member", call.func, kw.name), False, scope))
        return site


walk = A.walk
