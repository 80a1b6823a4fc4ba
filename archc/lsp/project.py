"""The documents open in the editor and the files they import: the indexes of all of them, the
blocks each file sees (its own and its imports'), definitions and references across files."""
from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from archc.lsp.analysis import CheckResult, ParseCache, canonical, language_for
from archc.lsp.index import DocumentIndex, ImportSite, Occurrence, Symbol
from archc.lsp.text import Span, normalize

# A document longer than this (characters) is parsed only by its check, in a process of its own,
# never on the server's thread to answer a request: until its check is back, requests are
# answered from its last index (parsing takes about 8 µs a character: 0.8 s for 100 kB, seconds
# for a megabyte).
MAX_INLINE_PARSE = 20_000


@dataclass
class Document:
    uri: str
    path: str
    language: str
    text: str
    version: int | None = None
    result: CheckResult | None = None  # the latest check (of this or an earlier version)
    index: DocumentIndex | None = None  # of the latest text that parsed (may be stale)

    @property
    def current(self) -> CheckResult | None:
        """The latest check if it is of the text as it is now."""
        r = self.result
        return r if r is not None and r.text == self.text else None

    @property
    def model(self):
        r = self.current
        return r.model if r is not None else None


class Project:
    def __init__(self, cache: ParseCache | None = None):
        self.cache = cache or ParseCache()
        self.docs: dict[str, Document] = {}  # by canonical path
        self._indexes: dict[str, tuple[int, DocumentIndex]] = {}  # files not open: by parse

    # ------------------------------------------------------------------ documents
    def open(self, uri: str, path: str, text: str, language_id: str | None = None,
             version: int | None = None) -> Document:
        text = normalize(text)
        doc = Document(uri, path, language_for(path, text, language_id), text, version)
        self.docs[canonical(path)] = doc
        self.cache.set_overlay(path, text)
        return doc

    def change(self, path: str, text: str, version: int | None = None) -> Document | None:
        doc = self.docs.get(canonical(path))
        if doc is None:
            return None
        doc.text = normalize(text)
        doc.version = version
        self.cache.set_overlay(path, doc.text)
        return doc

    def close(self, path: str) -> Document | None:
        self.cache.set_overlay(path, None)
        return self.docs.pop(canonical(path), None)

    def document(self, path: str) -> Document | None:
        return self.docs.get(canonical(path))

    def accept(self, doc: Document, result: CheckResult) -> None:
        """A finished check of `doc` (kept only if no newer one was accepted)."""
        doc.result = result
        if result.index is not None:
            doc.index = result.index

    def dependents(self, path: str) -> list[Document]:
        """Open documents whose last check read `path` (through their imports)."""
        target = canonical(path)
        return [d for d in self.docs.values()
                if d.result is not None and target in d.result.imported and canonical(d.path) != target]

    def model_for(self, doc: Document) -> tuple[object, Document | None]:
        """The model whose shapes describe `doc`: its own, or for a block library the model of
        an open document that imports it (and that document)."""
        if doc.model is not None:
            return doc.model, doc
        target = canonical(doc.path)
        for other in self.docs.values():
            if other is not doc and other.model is not None and target in other.result.imported:
                return other.model, other
        return None, None

    # ------------------------------------------------------------------ indexes
    def current_index(self, doc: Document) -> DocumentIndex | None:
        """The index of the document's text as it is now (parsed here if its check has not
        come back yet), else the last one that parsed."""
        if doc.index is not None and doc.index.text == doc.text:
            return doc.index
        if len(doc.text) > MAX_INLINE_PARSE:  # parsed by its check, off the server's thread
            return doc.index
        from archc.errors import SpecError, SpecErrors
        from archc.frontend import parse_text
        try:
            spec = parse_text(doc.text, doc.language, doc.path)
        except (SpecErrors, SpecError, RecursionError):
            return doc.index
        doc.index = DocumentIndex(spec, doc.text, doc.path, doc.language)
        return doc.index

    def index_for(self, path: str) -> DocumentIndex | None:
        doc = self.document(path)
        if doc is not None:  # never parsed here past MAX_INLINE_PARSE: the cache would parse it
            return self.current_index(doc)
        parsed = self.cache.get(path)
        if parsed.spec is None or parsed.text is None:
            return None
        key = canonical(path)
        memo = self._indexes.get(key)
        if memo is not None and memo[0] == id(parsed):
            return memo[1]
        index = DocumentIndex(parsed.spec, parsed.text, str(path), language_for(str(path), parsed.text))
        self._indexes[key] = (id(parsed), index)
        return index

    def resolve_import(self, index: DocumentIndex, site: ImportSite) -> str | None:
        """The file an import names (next to the importing file, else in the search path)."""
        from archc.loader import search_path
        text = site.node.path
        if "\0" in text:
            return None
        folder = Path(index.file).parent
        candidates = [folder / text] if Path(text).is_absolute() else \
            [folder / text, *(root / text for root in search_path())]
        for candidate in candidates:
            try:
                if candidate.is_file():
                    return str(candidate.resolve())
            except (OSError, ValueError):
                continue
        return None

    def closure(self, path: str, seen: set[str] | None = None) -> set[str]:
        """`path` and every file it imports, directly or not (canonical paths)."""
        seen = set() if seen is None else seen
        key = canonical(path)
        if key in seen:
            return seen
        seen.add(key)
        index = self.index_for(path)
        if index is not None:
            for site in index.imports:
                target = self.resolve_import(index, site)
                if target is not None:
                    self.closure(target, seen)
        return seen

    def import_closures(self, index: DocumentIndex | None) -> list[tuple[ImportSite, set[str]]]:
        if index is None:
            return []
        out = []
        for site in index.imports:
            target = self.resolve_import(index, site)
            out.append((site, self.closure(target) if target is not None else set()))
        return out

    def visible_blocks(self, index: DocumentIndex, seen: set[str] | None = None) -> dict[str, Symbol]:
        """The blocks a file can call: its own and those of its imports (recursively)."""
        seen = set() if seen is None else seen
        seen.add(canonical(index.file))
        out: dict[str, Symbol] = {}
        for site in index.imports:
            target = self.resolve_import(index, site)
            if target is None or canonical(target) in seen:
                continue
            imported = self.index_for(target)
            if imported is not None:
                for name, sym in self.visible_blocks(imported, seen).items():
                    out.setdefault(name, sym)
        out.update(index.blocks)
        return out

    # ------------------------------------------------------------------ resolution
    def resolve(self, index: DocumentIndex, occ: Occurrence) -> Symbol | None:
        key = occ.key
        if key[0] == "local":
            return index.symbol(key)
        if key[0] == "block":
            return self.visible_blocks(index).get(key[1])
        if key[0] == "member":
            block = self.visible_blocks(index).get(key[1])
            if block is None:
                return None
            home = self.index_for(block.file)
            if home is None:
                return None
            return home.symbol(("local", home.file, block.name, key[2]))
        return None

    def definition(self, path: str, line: int, col: int) -> list[tuple[str, Span]]:
        index = self.index_for(path)
        if index is None:
            return []
        site = index.import_at(line, col)
        if site is not None:
            target = self.resolve_import(index, site)
            return [(target, Span(0, 0, 0, 0))] if target else []
        occ = index.occurrence_at(line, col)
        if occ is None:
            return []
        sym = self.resolve(index, occ)
        return [(sym.file, sym.span)] if sym is not None else []

    def references(self, path: str, line: int, col: int, include_declaration: bool = True
                   ) -> list[tuple[str, Span]]:
        index = self.index_for(path)
        if index is None:
            return []
        occ = index.occurrence_at(line, col)
        if occ is None:
            return []
        target = self.resolve(index, occ)
        if target is None:
            return []
        ident = _ident(target)
        out: list[tuple[str, Span]] = []
        for other in self._related_indexes(index, target):
            for o in other.occurrences:
                if o.name != target.name or (o.is_def and not include_declaration):
                    continue
                sym = self.resolve(other, o)
                if sym is not None and _ident(sym) == ident:
                    out.append((other.file, o.span))
        seen: set = set()
        unique = []
        for file, span in out:
            k = (canonical(file), span)
            if k not in seen:
                seen.add(k)
                unique.append((file, span))
        return unique

    def _related_indexes(self, index: DocumentIndex, target: Symbol) -> Iterable[DocumentIndex]:
        """Where references to `target` can be: for a local name, its own file; for a block or
        a block parameter, every open document and every file they import."""
        if target.kind not in ("block", "block_param"):
            yield index
            return
        files: dict[str, None] = {}
        for path in [index.file, target.file, *(d.path for d in self.docs.values())]:
            for f in sorted(self.closure(path)):
                files.setdefault(f, None)
        for f in files:
            other = self.index_for(f)
            if other is not None:
                yield other


def _ident(sym: Symbol) -> tuple:
    return (canonical(sym.file), sym.kind == "block", sym.scope if sym.kind != "block" else None, sym.name)


def uri_to_path(uri: str) -> str:
    from urllib.parse import unquote, urlparse
    parsed = urlparse(uri)
    if parsed.scheme != "file":
        return uri
    path = unquote(parsed.path)
    if os.name == "nt" and path.startswith("/") and len(path) > 2 and path[2] == ":":
        path = path[1:]
    return path


def path_to_uri(path: str) -> str:
    return Path(path).absolute().as_uri()
