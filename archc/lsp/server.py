"""The protocol side of `archc lsp`: pygls wiring over stdio. Everything it answers comes from
the protocol-free modules of this package; here are only the conversions (archc's spans in code
points <-> the client's positions, UTF-16 by default) and the scheduling of checks.

Checks run on one worker thread, so the server keeps answering while a spec is elaborated. An
edit schedules a check of the document, and of the open documents that import it; a check still
waiting when a newer edit arrives is dropped (so fast typing never queues checks up), and the
result of one that was running is not published. `initializationOptions.debounce` (milliseconds,
default 0) makes the server wait that long after an edit before checking. Diagnostics are published per file: a model's error inside
an imported library goes to that library (and to the model's import statement), merged with what
other documents say about it.
"""
from __future__ import annotations

import asyncio
import concurrent.futures
import logging
from typing import Any

from lsprotocol import types as T
from pygls.lsp.server import LanguageServer

from archc import __version__
from archc.language import YAML_SPEC_KEYS
from archc.lsp import analysis, completion, hover, outline
from archc.lsp.analysis import canonical
from archc.lsp.project import Document, Project, path_to_uri, uri_to_path
from archc.lsp.text import Span, lines_of

log = logging.getLogger("archc.lsp")

DEFAULT_DEBOUNCE_MS = 0


class ArchcServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__("archc", __version__, text_document_sync_kind=T.TextDocumentSyncKind.Incremental)
        self.project = Project()
        self.debounce = DEFAULT_DEBOUNCE_MS / 1000
        self.executor = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="archc-check")
        self.pending: dict[str, asyncio.Task] = {}
        # diagnostics by target file, by the document whose check produced them
        self.contributions: dict[str, dict[str, list[analysis.Diagnostic]]] = {}

    # ------------------------------------------------------------------ positions
    def lines(self, path: str) -> list[str]:
        doc = self.project.document(path)
        if doc is not None:
            return lines_of(doc.text)
        return lines_of(analysis.text_of(path, self.project.cache))

    def to_range(self, path: str, span: Span, lines: list[str] | None = None) -> T.Range:
        lines = lines if lines is not None else self.lines(path)
        server = T.Range(T.Position(span.line, span.col), T.Position(span.end_line, span.end_col))
        try:
            return self.workspace.position_codec.range_to_client_units(lines, server)
        except (IndexError, AttributeError):
            return server

    def from_position(self, doc: Document, position: T.Position) -> tuple[int, int]:
        lines = lines_of(doc.text)
        try:
            p = self.workspace.position_codec.position_from_client_units(lines, position)
            return p.line, p.character
        except (IndexError, AttributeError):
            return position.line, position.character

    def uri_of(self, path: str) -> str:
        doc = self.project.document(path)
        return doc.uri if doc is not None else path_to_uri(path)

    # ------------------------------------------------------------------ checks
    def schedule(self, doc: Document, dependents: bool = False) -> None:
        key = canonical(doc.path)
        old = self.pending.get(key)
        if old is not None and not old.done():
            old.cancel()
        self.pending[key] = asyncio.ensure_future(self._check_later(doc))
        if dependents:
            for other in self.project.dependents(doc.path):
                self.schedule(other)

    async def _check_later(self, doc: Document) -> None:
        if self.debounce > 0:
            await asyncio.sleep(self.debounce)
        text, version = doc.text, doc.version
        loop = asyncio.get_running_loop()
        result = await loop.run_in_executor(self.executor, analysis.check, text, doc.language, doc.path,
                                            self.project.cache, version)
        if doc.text != text or self.project.document(doc.path) is not doc:
            return  # edited (a newer check is scheduled) or closed meanwhile
        try:
            self.project.accept(doc, result)
            self.publish(doc, result)
            if result.model is not None and self._can_refresh_inlay_hints():
                self.workspace_inlay_hint_refresh(None)  # the shapes are known now
        except Exception:
            log.exception("archc lsp: publishing the check of %s failed", doc.path)

    def _can_refresh_inlay_hints(self) -> bool:
        try:
            return bool(self.client_capabilities.workspace.inlay_hint.refresh_support)
        except AttributeError:
            return False

    def publish(self, doc: Document, result: analysis.CheckResult) -> None:
        source = canonical(doc.path)
        by_file = analysis.diagnostics(result, self.project.cache, self.project.import_closures)
        new = {canonical(f): diags for f, diags in by_file.items()}
        targets = set(new) | {t for t, srcs in self.contributions.items() if source in srcs}
        for target in targets:
            self.contributions.setdefault(target, {})[source] = new.get(target, [])
            self.publish_file(target, version=result.version if target == source else None)

    def publish_file(self, target: str, version: int | None = None) -> None:
        merged: list[T.Diagnostic] = []
        seen: set = set()
        lines = self.lines(target)
        for diags in self.contributions.get(target, {}).values():
            for d in diags:
                key = (d.span, d.message, d.code)
                if key in seen:
                    continue
                seen.add(key)
                merged.append(self.to_diagnostic(d, lines))
        uri = self.uri_of(target)
        self.text_document_publish_diagnostics(T.PublishDiagnosticsParams(uri=uri, diagnostics=merged,
                                                                           version=version))

    def to_diagnostic(self, d: analysis.Diagnostic, lines: list[str]) -> T.Diagnostic:
        related = [T.DiagnosticRelatedInformation(T.Location(self.uri_of(f), self.to_range(f, s)), m)
                   for f, s, m in d.related] or None
        return T.Diagnostic(
            range=self.to_range(d.file, d.span, lines),
            message=d.message,
            severity=T.DiagnosticSeverity.Warning if d.severity == "warning" else T.DiagnosticSeverity.Error,
            code=d.code,
            source="archc",
            related_information=related,
        )

    def forget(self, doc: Document) -> None:
        source = canonical(doc.path)
        for target, sources in list(self.contributions.items()):
            if source in sources:
                del sources[source]
                self.publish_file(target)


server = ArchcServer()


def is_archc_yaml(text: str) -> bool:
    """Whether YAML text is an archc spec (an editor may send every YAML file it opens): its
    top-level keys are archc's and name a model or blocks."""
    import re
    keys = set(re.findall(r"^([A-Za-z_][A-Za-z0-9_]*)\s*:", text, re.MULTILINE))
    return bool(keys) and keys <= YAML_SPEC_KEYS.keys() and bool(keys & {"inputs", "outputs", "blocks", "body"})


def _doc(ls: ArchcServer, uri: str) -> Document | None:
    return ls.project.document(uri_to_path(uri))


# ----------------------------------------------------------------------------- lifecycle


@server.feature(T.INITIALIZE)
def initialize(ls: ArchcServer, params: T.InitializeParams) -> None:
    options = params.initialization_options if isinstance(params.initialization_options, dict) else {}
    debounce = options.get("debounce")
    if isinstance(debounce, (int, float)) and not isinstance(debounce, bool) and 0 <= debounce <= 5000:
        ls.debounce = debounce / 1000


@server.feature(T.INITIALIZED)
def initialized(ls: ArchcServer, params: T.InitializedParams) -> None:
    """Ask the editor to report spec files changed on disk by other programs (a `git checkout`,
    a generator), where it can: `workspace/didChangeWatchedFiles` then re-checks what reads them."""
    caps = ls.client_capabilities.workspace
    watched = caps.did_change_watched_files if caps is not None else None
    if watched is None or not watched.dynamic_registration:
        return
    ls.client_register_capability(T.RegistrationParams(registrations=[T.Registration(
        id="archc-watched-specs", method=T.WORKSPACE_DID_CHANGE_WATCHED_FILES,
        register_options=T.DidChangeWatchedFilesRegistrationOptions(watchers=[
            T.FileSystemWatcher(glob_pattern=pattern) for pattern in ("**/*.arch", "**/*.yaml", "**/*.yml")]))]))


@server.feature(T.WORKSPACE_DID_CHANGE_WATCHED_FILES)
def did_change_watched_files(ls: ArchcServer, params: T.DidChangeWatchedFilesParams) -> None:
    """A file changed on disk: the open documents that import it are checked again now (the
    parse cache sees the new modification time), not at their next edit. An open document's own
    file is the editor's: its text comes from the editor."""
    due: dict[str, Any] = {}
    for change in params.changes:
        for doc in ls.project.dependents(uri_to_path(change.uri)):
            due[canonical(doc.path)] = doc
    for doc in due.values():
        ls.schedule(doc)


@server.feature(T.TEXT_DOCUMENT_DID_OPEN)
def did_open(ls: ArchcServer, params: T.DidOpenTextDocumentParams) -> None:
    item = params.text_document
    # "arch" (VS Code's id) or "archc" (Vim and Neovim's filetype: theirs `arch` is GNU Arch's)
    if item.language_id not in ("arch", "archc") and not item.uri.endswith(".arch") and not is_archc_yaml(item.text):
        return  # some other YAML file
    path = uri_to_path(item.uri)
    language = "arch" if item.language_id == "archc" else item.language_id if item.language_id in ("arch", "yaml") \
        else None
    doc = ls.project.open(item.uri, path, item.text, language, item.version)
    ls.schedule(doc, dependents=True)


@server.feature(T.TEXT_DOCUMENT_DID_CHANGE)
def did_change(ls: ArchcServer, params: T.DidChangeTextDocumentParams) -> None:
    uri = params.text_document.uri
    text = ls.workspace.get_text_document(uri).source
    doc = _doc(ls, uri)
    if doc is None:
        if uri.endswith((".yaml", ".yml")) and is_archc_yaml(text):  # it became a spec
            doc = ls.project.open(uri, uri_to_path(uri), text, "yaml", params.text_document.version)
            ls.schedule(doc, dependents=True)
        return
    ls.project.change(doc.path, text, params.text_document.version)
    ls.schedule(doc, dependents=True)


@server.feature(T.TEXT_DOCUMENT_DID_SAVE)
def did_save(ls: ArchcServer, params: T.DidSaveTextDocumentParams) -> None:
    doc = _doc(ls, params.text_document.uri)
    if doc is not None:
        for other in ls.project.dependents(doc.path):
            ls.schedule(other)


@server.feature(T.TEXT_DOCUMENT_DID_CLOSE)
def did_close(ls: ArchcServer, params: T.DidCloseTextDocumentParams) -> None:
    doc = ls.project.close(uri_to_path(params.text_document.uri))
    if doc is not None:
        task = ls.pending.pop(canonical(doc.path), None)
        if task is not None:
            task.cancel()
        ls.forget(doc)
        for other in ls.project.dependents(doc.path):  # they now read it from disk
            ls.schedule(other)


@server.feature(T.SHUTDOWN)
def shutdown(ls: ArchcServer, params: Any = None) -> None:
    for task in ls.pending.values():
        task.cancel()
    ls.executor.shutdown(wait=False, cancel_futures=True)


# ----------------------------------------------------------------------------- features


@server.feature(T.TEXT_DOCUMENT_HOVER)
def on_hover(ls: ArchcServer, params: T.HoverParams) -> T.Hover | None:
    doc = _doc(ls, params.text_document.uri)
    if doc is None:
        return None
    line, col = ls.from_position(doc, params.position)
    result = hover.hover(ls.project, doc, line, col)
    if result is None:
        return None
    return T.Hover(contents=T.MarkupContent(kind=T.MarkupKind.Markdown, value=result.markdown),
                   range=ls.to_range(doc.path, result.span) if result.span else None)


_KINDS = {
    "op": T.CompletionItemKind.Function, "block": T.CompletionItemKind.Class,
    "attribute": T.CompletionItemKind.Property, "param": T.CompletionItemKind.Variable,
    "tensor": T.CompletionItemKind.Variable, "input": T.CompletionItemKind.Variable,
    "keyword": T.CompletionItemKind.Keyword, "function": T.CompletionItemKind.Function,
    "option": T.CompletionItemKind.Property,
}


@server.feature(T.TEXT_DOCUMENT_COMPLETION,
                T.CompletionOptions(trigger_characters=[">", "(", ",", "{", "["], resolve_provider=True))
def on_completion(ls: ArchcServer, params: T.CompletionParams) -> T.CompletionList | None:
    doc = _doc(ls, params.text_document.uri)
    if doc is None:
        return None
    line, col = ls.from_position(doc, params.position)
    items = completion.complete(ls.project, doc, line, col)
    return T.CompletionList(is_incomplete=False, items=[
        T.CompletionItem(
            label=i.label, kind=_KINDS.get(i.kind, T.CompletionItemKind.Text),
            detail=i.detail or None,
            label_details=T.CompletionItemLabelDetails(detail=f" {i.detail}")
            if i.insert_text and i.insert_text.endswith(("=", ": ")) and i.detail else None,
            documentation=T.MarkupContent(kind=T.MarkupKind.Markdown, value=i.documentation)
            if i.documentation else None,
            insert_text=i.insert_text, sort_text=f"{i.sort}{i.label}", data=i.data or None)
        for i in items])


@server.feature(T.COMPLETION_ITEM_RESOLVE)
def on_completion_resolve(ls: ArchcServer, item: T.CompletionItem) -> T.CompletionItem:
    text = completion.resolve_documentation(item.data if isinstance(item.data, dict) else {})
    if text:
        item.documentation = T.MarkupContent(kind=T.MarkupKind.Markdown, value=text)
    return item


def _locations(ls: ArchcServer, found: list[tuple[str, Span]]) -> list[T.Location]:
    return [T.Location(uri=ls.uri_of(f), range=ls.to_range(f, s)) for f, s in found]


@server.feature(T.TEXT_DOCUMENT_DEFINITION)
def on_definition(ls: ArchcServer, params: T.DefinitionParams) -> list[T.Location] | None:
    doc = _doc(ls, params.text_document.uri)
    if doc is None:
        return None
    line, col = ls.from_position(doc, params.position)
    return _locations(ls, ls.project.definition(doc.path, line, col)) or None


@server.feature(T.TEXT_DOCUMENT_REFERENCES)
def on_references(ls: ArchcServer, params: T.ReferenceParams) -> list[T.Location] | None:
    doc = _doc(ls, params.text_document.uri)
    if doc is None:
        return None
    line, col = ls.from_position(doc, params.position)
    found = ls.project.references(doc.path, line, col, params.context.include_declaration)
    return _locations(ls, found) or None


_SYMBOL_KINDS = {
    "block": T.SymbolKind.Class, "param": T.SymbolKind.Constant, "input": T.SymbolKind.Variable,
    "tensor": T.SymbolKind.Variable, "output": T.SymbolKind.Event,
}


@server.feature(T.TEXT_DOCUMENT_DOCUMENT_SYMBOL)
def on_document_symbol(ls: ArchcServer, params: T.DocumentSymbolParams) -> list[T.DocumentSymbol] | None:
    doc = _doc(ls, params.text_document.uri)
    index = ls.project.current_index(doc) if doc is not None else None
    if doc is None or index is None:
        return None
    lines = lines_of(index.text)

    def convert(s: outline.OutlineSymbol) -> T.DocumentSymbol:
        rng = ls.to_range(doc.path, s.range, lines)
        sel = ls.to_range(doc.path, s.selection if s.selection.within(s.range) else s.range, lines)
        return T.DocumentSymbol(name=s.name, kind=_SYMBOL_KINDS.get(s.kind, T.SymbolKind.Variable),
                                range=rng, selection_range=sel, detail=s.detail or None,
                                children=[convert(c) for c in s.children] or None)

    model = doc.model if index.text == doc.text else None
    return [convert(s) for s in outline.document_symbols(index, model)]


@server.feature(T.TEXT_DOCUMENT_CODE_ACTION,
                T.CodeActionOptions(code_action_kinds=[T.CodeActionKind.QuickFix]))
def on_code_action(ls: ArchcServer, params: T.CodeActionParams) -> list[T.CodeAction] | None:
    """The fixes of archc's diagnostics that touch the requested range, as quick fixes (the same
    rewrites `archc check --fix` applies)."""
    doc = _doc(ls, params.text_document.uri)
    if doc is None:
        return None
    lines = lines_of(doc.text)
    wanted = ls.from_position(doc, params.range.start), ls.from_position(doc, params.range.end)
    actions = []
    for d in ls.contributions.get(canonical(doc.path), {}).get(canonical(doc.path), []):
        if (d.span.end_line, d.span.end_col) < wanted[0] or (d.span.line, d.span.col) > wanted[1]:
            continue
        for fix in d.fixes:
            edits = [T.TextEdit(range=ls.to_range(doc.path, Span(e.loc.line - 1, e.loc.col - 1, e.loc.line - 1,
                                                                  (e.loc.end_col or e.loc.col) - 1), lines),
                                new_text=e.text) for e in fix.edits]
            actions.append(T.CodeAction(title=fix.title, kind=T.CodeActionKind.QuickFix,
                                        diagnostics=[ls.to_diagnostic(d, lines)], is_preferred=fix.preferred,
                                        edit=T.WorkspaceEdit(changes={params.text_document.uri: edits})))
    return actions


@server.feature(T.TEXT_DOCUMENT_FORMATTING)
def on_formatting(ls: ArchcServer, params: T.DocumentFormattingParams) -> list[T.TextEdit] | None:
    doc = _doc(ls, params.text_document.uri)
    if doc is None:
        return None
    from archc.errors import SpecErrors
    from archc.frontend import parse_text, to_dsl, to_yaml
    try:
        spec = parse_text(doc.text, doc.language, doc.path)
    except SpecErrors as e:
        first = e.errors[0] if e.errors else None
        ls.window_show_message(T.ShowMessageParams(
            type=T.MessageType.Warning,
            message=f"archc fmt: the spec does not parse ({first.message if first else 'syntax error'})"))
        return None
    formatted = to_yaml(spec) if doc.language == "yaml" else to_dsl(spec)
    original = ls.workspace.get_text_document(params.text_document.uri).source
    if formatted == original:
        return []
    lines = lines_of(original)
    end = Span(0, 0, len(lines) - 1, len(lines[-1]))
    return [T.TextEdit(range=ls.to_range(doc.path, end, lines), new_text=formatted)]


@server.feature(T.TEXT_DOCUMENT_INLAY_HINT, T.InlayHintOptions(resolve_provider=False))
def on_inlay_hint(ls: ArchcServer, params: T.InlayHintParams) -> list[T.InlayHint] | None:
    doc = _doc(ls, params.text_document.uri)
    index = ls.project.current_index(doc) if doc is not None else None
    if doc is None or index is None or index.text != doc.text:
        return None
    model, _ = ls.project.model_for(doc)  # a block library: as the model importing it uses it
    if model is None:
        return None
    lines = lines_of(doc.text)
    out = []
    for h in outline.inlay_hints(index, model, params.range.start.line, params.range.end.line):
        pos = ls.to_range(doc.path, Span(h.line, h.col, h.line, h.col), lines).start
        out.append(T.InlayHint(position=pos, label=h.label, kind=T.InlayHintKind.Type,
                               tooltip=h.tooltip or None, padding_left=h.padding_left or None))
    return out


def serve() -> None:
    """Run the server on stdin/stdout until the client says exit. Standard output carries the
    protocol only: anything else that would print there goes to standard error."""
    import sys
    logging.basicConfig(level=logging.WARNING, format="archc lsp: %(levelname)s: %(message)s",
                        stream=sys.stderr)
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr
    try:
        server.start_io(stdin, stdout)
    finally:
        server.executor.shutdown(wait=False, cancel_futures=True)
