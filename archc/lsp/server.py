"""The protocol side of `archc lsp`: pygls wiring over stdio. Everything it answers comes from
the protocol-free modules of this package; here are only the conversions (archc's spans in code
points <-> the client's positions, UTF-16 by default) and the scheduling of checks.

A check that may take long runs in a process of its own (`archc.lsp.worker`, forked from the
server), so one document's check never delays another's, nor any answer: hover, completion and
the rest are answered at once from the last finished check of each document. A check known to be
quick (`archc.lsp.incremental`, path 2) runs in the server's process on the live thread
(`archc.lsp.live`), where each document keeps the state its next edit resumes from; no process is
forked while that thread works. An edit schedules a check of the
document, and of the open documents that import it; a newer edit supersedes a check still waiting
or running (its process is killed, so fast typing never queues checks up). A check that runs past
its budget (`initializationOptions.checkSeconds`, default 5 s) is stopped and said as an
E-LIMIT-TIME diagnostic at the top of the document (the evaluator's own limit is set inside it,
so that it usually stops first, at the place it was evaluating); formatting has the same budget.
Each check process may grow by ARCHC_LSP_CHECK_MEMORY MiB (2 GiB by default) and says
E-LIMIT-MEMORY where it would need more (`worker.cap_memory`).
`initializationOptions.debounce` (milliseconds, default 0) makes the server wait that long after
an edit before checking. Requests the server cannot read (a negative line, a wrong type, missing
params, no method, not JSON) are answered with the JSON-RPC error they call for (`ArchcProtocol`).
Diagnostics are published per file: a model's error inside
an imported library goes to that library (and to the model's import statement), merged with what
other documents say about it.
"""
from __future__ import annotations

import asyncio
import concurrent.futures
import gc
import logging
import os
from collections.abc import Callable
from typing import Any

from lsprotocol import types as T
from pygls.exceptions import (
    JsonRpcException,
    JsonRpcInvalidParams,
    JsonRpcInvalidRequest,
    JsonRpcMethodNotFound,
    JsonRpcParseError,
)
from pygls.lsp.server import LanguageServer
from pygls.protocol import LanguageServerProtocol

from archc import __version__
from archc.language import YAML_SPEC_KEYS
from archc.lsp import analysis, completion, hover, incremental, live, outline, worker
from archc.lsp.analysis import canonical
from archc.lsp.project import Document, Project, path_to_uri, uri_to_path
from archc.lsp.text import Span, lines_of

log = logging.getLogger("archc.lsp")

DEFAULT_DEBOUNCE_MS = 0
DEFAULT_CHECK_SECONDS = 5.0
REFRESH_AFTER = 0.3  # seconds after the last check before inlay hints are asked for again
CLOSED_REUSE_KEPT = 4  # closed documents whose block-reuse stores are kept for their reopening


class _Answered:
    """What a request refused while being read becomes, once its error reply is sent: pygls
    ignores a message of another JSON-RPC version."""
    jsonrpc = "answered"


class ArchcProtocol(LanguageServerProtocol):
    """pygls's protocol, answering every request it cannot read with the JSON-RPC error it calls
    for, where pygls logs it and says nothing (the client would wait for ever): parameters of the
    wrong shape or type (a negative line, a string for a number, a missing field) are -32602
    Invalid params, an unknown method -32601, a message with an id but no method -32600 Invalid Request, text that is not
    JSON -32700 Parse error (`ArchcServer.report_server_error`)."""

    def structure_message(self, data: dict[str, Any]) -> Any:
        request = isinstance(data, dict) and "jsonrpc" in data and "id" in data
        if request and "method" not in data and "result" not in data and "error" not in data:
            self._answer_error(data.get("id"), JsonRpcInvalidRequest.of("a request without a method"))
            return _Answered()
        try:
            return super().structure_message(data)
        except JsonRpcException as e:
            if not request or "method" not in data:
                raise
            method = data.get("method")
            if self.get_message_type(method) is None and method not in self.fm.features \
                    and method not in self.fm.builtin_features:
                self._answer_error(data.get("id"), JsonRpcMethodNotFound.of(method))
                return _Answered()
            cause = e.__cause__
            why = f"{data.get('method')}: invalid params" + (f" ({_brief(cause)})" if cause is not None else "")
            self._answer_error(data.get("id"), JsonRpcInvalidParams.of(why))
            return _Answered()

    def _answer_error(self, msg_id: Any, error: JsonRpcException) -> None:
        if not isinstance(msg_id, (int, str)) or isinstance(msg_id, bool):
            # an id missing or of the wrong type cannot be echoed: JSON-RPC says null (written
            # out: pygls's message classes leave a None id out)
            self._send_data({"jsonrpc": "2.0", "id": None,
                             "error": {"code": error.code, "message": error.message}})
            return
        self._send_response(msg_id, None, error.to_response_error())


def _brief(error: BaseException) -> str:
    text = str(error).splitlines()[0] if str(error) else type(error).__name__
    subs = getattr(error, "exceptions", None)  # cattrs' ClassValidationError: the fields at fault
    if subs:
        text += ": " + "; ".join(str(x).splitlines()[0] for x in subs[:5] if str(x))
    return text[:500]


class ArchcServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__("archc", __version__, text_document_sync_kind=T.TextDocumentSyncKind.Incremental,
                         protocol_cls=ArchcProtocol)
        self.project = Project()
        self.debounce = DEFAULT_DEBOUNCE_MS / 1000
        self.budget = DEFAULT_CHECK_SECONDS
        self.memory = worker.memory_allowance()  # what one check process may add (RLIMIT_AS)
        # threads that wait on check processes (a wait blocks a thread, not the event loop)
        self.executor = concurrent.futures.ThreadPoolExecutor(max_workers=32, thread_name_prefix="archc-wait")
        self.pending: dict[str, asyncio.Task] = {}
        self.jobs: dict[str, worker.Job] = {}  # the check process running for each document
        # diagnostics by target file, by the document whose check produced them
        self.contributions: dict[str, dict[str, list[analysis.Diagnostic]]] = {}
        self.published_version: dict[str, int | None] = {}  # by document: of its last diagnostics
        # re-analysing only what an edit changes (archc.lsp.incremental): recent checks by document
        self.incremental = True
        self.bases: dict[str, list[incremental.Base]] = {}
        # checks in this process (archc.lsp.live): on one thread of their own, in turn, so that the
        # event loop answers meanwhile; each document's state for the next edit to resume from
        self.live_thread = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="archc-live")
        self.live_busy: concurrent.futures.Future | None = None  # the last work given to it
        self.live: dict[str, live.Live] = {}
        # the block-reuse stores of the last few documents closed (archc.ir.resume.Reuse), for
        # their next live state when they are opened again
        self.closed_reuse: dict[str, Any] = {}
        # the user's evaluation limit (the live thread sets the variable while it checks)
        self.eval_limit = os.environ.get("ARCHC_MAX_EVAL_SECONDS", "").strip() or None
        self._collector_holds = 0  # edits being checked with the cycle collector off
        self.refresh: asyncio.Task | None = None  # the editor asked for inlay hints again, soon
        self._collector_was_on = False

    def report_server_error(self, error: Exception, source: Any) -> None:
        import json
        if isinstance(error, json.JSONDecodeError) or isinstance(error.__cause__, json.JSONDecodeError):
            self.protocol._answer_error(None, JsonRpcParseError.of(f"the message is not JSON ({error})"))
            return
        super().report_server_error(error, source)

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
    def refresh_soon(self) -> None:
        """Ask the editor for inlay hints again once typing pauses (`REFRESH_AFTER`): each
        request indexes the document and reads the model whole, which for a long document costs
        more than checking an edit, and would hold the next edit back."""
        self.cancel_refresh()

        async def later() -> None:
            await asyncio.sleep(REFRESH_AFTER)
            self.workspace_inlay_hint_refresh(None)
        self.refresh = asyncio.ensure_future(later())

    def cancel_refresh(self) -> None:
        if self.refresh is not None and not self.refresh.done():
            self.refresh.cancel()

    def schedule(self, doc: Document, dependents: bool = False) -> None:
        self.cancel_refresh()  # typing: asked again after the check of this edit
        key = canonical(doc.path)
        old = self.pending.get(key)
        if old is not None and not old.done():
            old.cancel()
        self.stop_job(key)
        release = self.hold_collector()  # until published, or handed to a process (or cancelled)
        self.pending[key] = task = asyncio.ensure_future(self._check_later(doc, release))
        task.add_done_callback(release)
        if dependents:
            for other in self.project.dependents(doc.path):
                self.schedule(other)

    async def _check_later(self, doc: Document, release: Callable[..., None]) -> None:
        if self.debounce > 0:
            await asyncio.sleep(self.debounce)
        text, version = doc.text, doc.version
        key = canonical(doc.path)
        self.stop_job(key)
        if self.incremental:
            carried = incremental.remapped(self.bases.get(key, []), text, version, self.project.cache)
            if carried is not None and carried.same_text:  # back to a checked text (an undo)
                self.finish(doc, carried.result)
                release()
                await self._prime(doc, carried.result)
                return
            if carried is not None:  # the same program as a recent check: its diagnostics, moved
                if carried.in_place:
                    self.project.accept(doc, carried.result)  # and its shapes, where they were
                self.publish(doc, carried.result, incremental.resolver(self.project, carried.sites))
                # the whole check (for the model's positions and the AST's comments) once typing
                # pauses: an edit before then cancels this task, so typing forks no check per key
                await asyncio.sleep(incremental.FULL_CHECK_AFTER)
            if self._live_pays(doc, text):
                # the same program as a finished check (carried over) takes what that one took:
                # the evaluator is cut short for a new program only
                result = await self._check_live(doc, text, version, cut=carried is None)
                log.debug("archc lsp: version %s checked on the live thread: %s", version,
                          "done" if result is not None else "to a process")
                if result is not None:
                    self.finish(doc, result)
                    return
        release()  # a check in a process takes long: the collector need not wait for it
        await self._live_idle()  # no fork while the live thread works (it may hold a lock)
        job = worker.Job(worker.check_job, (text, doc.language, doc.path, self.project.cache, version),
                         self.child_env(), lifetime=self.budget + 5, memory=self.memory)
        self.jobs[key] = job
        loop = asyncio.get_running_loop()
        try:
            result, parsed = await loop.run_in_executor(self.executor, job.wait, self.budget)
        except asyncio.CancelledError:
            job.cancel()
            raise
        except worker.Cancelled:
            return
        except worker.TimedOut:
            if doc.text == text and self.project.document(doc.path) is doc:
                self.publish(doc, self.out_of_time(doc, text, version))  # the last good check stays
            return
        except Exception as e:  # noqa: BLE001 - said as a diagnostic, not crashed on
            result, parsed = analysis.CheckResult(doc.path, doc.language, text, version,
                                                  internal=f"archc internal error: {e}"), {}
        finally:
            if self.jobs.get(key) is job:
                del self.jobs[key]
        self.project.cache.merge(parsed)
        if doc.text != text or self.project.document(doc.path) is not doc:
            return  # edited (a newer check is scheduled) or closed meanwhile
        self.finish(doc, result)
        await self._prime(doc, result)

    def finish(self, doc: Document, result: analysis.CheckResult) -> None:
        """A check of the document's current text is done: kept, published."""
        try:
            self.project.accept(doc, result)
            self.publish(doc, result)
            # after publishing: freeing the base this drops (a 5,000-layer model: about 4 ms) does
            # not delay the diagnostics
            incremental.remember(self.bases.setdefault(canonical(doc.path), []), result, self.project.cache)
            if result.model is not None and self._can_refresh_inlay_hints():
                self.refresh_soon()  # the shapes are known now
        except Exception:
            log.exception("archc lsp: publishing the check of %s failed", doc.path)

    def hold_collector(self) -> Callable[..., None]:
        """The cycle collector off until the function returned is called (once or more): from
        an edit's arrival until its diagnostics are published, so that collecting what earlier
        checks left (a 5,000-layer model's objects: 5-100 ms, a full collection a few hundred)
        runs once they are sent, not before. Holds of several documents nest; the collector is
        then as the outermost found it."""
        self._collector_holds += 1
        if self._collector_holds == 1:
            self._collector_was_on = gc.isenabled()
            gc.disable()
        held = True

        def release(*_: Any) -> None:
            nonlocal held
            if held:
                held = False
                self._collector_holds -= 1
                if self._collector_holds == 0 and self._collector_was_on:
                    gc.enable()
        return release

    def _live_pays(self, doc: Document, text: str) -> bool:
        """Whether to check on the live thread (path 2 of `archc.lsp.incremental`): the document
        has a live state to resume from (a check costs what the edit changed; one that reaches
        the evaluator's cut goes to a process), or its last check was quick and its text is
        short. A user's evaluation limit is kept when shorter; a malformed one is said by a
        check in a process."""
        try:
            if not 0 < float(self.eval_limit or "inf"):
                return False
        except ValueError:
            return False
        state = self.live.get(canonical(doc.path))
        if state is not None and state.resumes:
            return True
        last = doc.result
        return last is not None and last.internal is None and last.cpu < incremental.IN_PROCESS_BELOW \
            and len(text) <= incremental.IN_PROCESS_CHARS

    async def _check_live(self, doc: Document, text: str, version: int | None, cut: bool
                          ) -> analysis.CheckResult | None:
        """The check on the live thread, with the document's live state (`archc.lsp.live`): the
        event loop answers meanwhile. `cut`: the evaluator's time limit cut to
        IN_PROCESS_SECONDS, and None when a check reached a limit (then it is made in a process
        of its own, with the whole budget)."""
        key = canonical(doc.path)
        state = self.live.get(key)
        if state is None or state.language != doc.language:
            state = self.live[key] = live.Live(doc.path, doc.language)
            state.reuse = self.closed_reuse.pop(key, None)
        limit = min(incremental.IN_PROCESS_SECONDS, float(self.eval_limit or "inf")) if cut else None
        self.live_busy = self.live_thread.submit(_check_on_live_thread, state, text, doc.language, doc.path,
                                                 self.project.cache, version, limit)
        result = await asyncio.wrap_future(self.live_busy)  # cancelled: a waiting check is dropped
        if result is None or result.internal is not None or any(
                e.code in ("E-LIMIT-TIME", "E-LIMIT-MEMORY", "E-LIMIT-ENV") for e in result.errors):
            return None
        return result  # of the current text: an edit or a close since would have cancelled the wait

    async def _prime(self, doc: Document, result: analysis.CheckResult) -> None:
        """After a check made elsewhere (in a process, or carried over): the live state brought
        to the document's text on the live thread, so that its next edit resumes from there.
        A check of a text that checked within every limit (its cost is known); a newer edit
        cancels the wait (the check itself finishes, and keeps the state consistent)."""
        state = self.live.get(canonical(doc.path))
        if not live.RESUMABLE or doc.language != "arch" or result.internal is not None or \
                not incremental.usable(result) or (state is not None and state.text == result.text):
            return
        await self._check_live(doc, result.text, result.version, cut=False)

    async def _live_idle(self) -> None:
        """Returns once the live thread has finished its work: a process forked while it works
        could copy a lock it holds (the parse cache's, the elaborator's) held for ever."""
        while self.live_busy is not None and not self.live_busy.done():
            await asyncio.wait([asyncio.wrap_future(self.live_busy)])  # its outcome is its caller's

    def stop_job(self, key: str) -> None:
        job = self.jobs.pop(key, None)
        if job is not None:
            job.cancel()

    def child_env(self) -> dict[str, str]:
        """The evaluator's own time limit inside the budget, so that it usually stops first, with
        the place it was evaluating."""
        try:
            current = float(os.environ.get("ARCHC_MAX_EVAL_SECONDS", "") or "inf")
        except ValueError:
            current = float("inf")
        inner = max(0.2, self.budget * 0.8)
        return {"ARCHC_MAX_EVAL_SECONDS": repr(inner)} if not 0 < current <= inner else {}

    def out_of_time(self, doc: Document, text: str, version: int | None) -> analysis.CheckResult:
        from archc.errors import SpecError
        return analysis.CheckResult(doc.path, doc.language, text, version, errors=[SpecError(
            f"checking this document took longer than {self.budget:g} s, the editor's budget for one "
            "check: it was stopped (hover and completion answer from the last finished check)", None,
            "`archc check` on the file says where the time goes; the budget is the language server's "
            "initializationOptions.checkSeconds", code="E-LIMIT-TIME")])

    def _can_refresh_inlay_hints(self) -> bool:
        try:
            return bool(self.client_capabilities.workspace.inlay_hint.refresh_support)
        except AttributeError:
            return False

    def publish(self, doc: Document, result: analysis.CheckResult, resolve: Any = None) -> None:
        source = canonical(doc.path)
        by_file = analysis.diagnostics(result, self.project.cache, resolve or self.project.import_closures)
        new = {canonical(f): diags for f, diags in by_file.items()}
        targets = set(new) | {t for t, srcs in self.contributions.items() if source in srcs}
        if self.published_version.get(source) == result.version and result.version is not None and \
                all(self.contributions.get(t, {}).get(source) == new.get(t, []) for t in targets):
            return  # said already (the full check after a moved result): nothing new
        self.published_version[source] = result.version
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


def _check_on_live_thread(state: live.Live, text: str, language: str, path: str, cache: analysis.ParseCache,
                          version: int | None, limit: float | None) -> analysis.CheckResult | None:
    """On the live thread: the check with the document's live state, the evaluator stopped after
    `limit` seconds (None: the user's limit); None when archc itself failed."""
    name = "ARCHC_MAX_EVAL_SECONDS"
    saved = os.environ.get(name)
    if limit is not None:
        os.environ[name] = repr(limit)
    try:
        return analysis.check(text, language, path, cache, version, live=state)
    except BaseException:  # noqa: BLE001 - the check in a process will say what it is
        log.debug("archc lsp: a check on the live thread failed", exc_info=True)
        state.reset()
        return None
    finally:
        if saved is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = saved


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


def warm_up() -> None:
    """Check a small spec here, once: what a check imports is then imported before any check
    process is forked (each would import it again, about half a second each), and on this thread
    (a fork while another thread imports could leave the child waiting on that module's lock)."""
    try:
        analysis.check("input x: [1, 3, 8, 8]\ny = x -> conv2d(4, 3) -> relu()\noutput y\n", "arch",
                       "warm-up.arch")
    except Exception:
        log.debug("archc lsp: warm-up check failed", exc_info=True)


@server.feature(T.INITIALIZE)
def initialize(ls: ArchcServer, params: T.InitializeParams) -> None:
    options = params.initialization_options if isinstance(params.initialization_options, dict) else {}
    debounce = options.get("debounce")
    if isinstance(debounce, (int, float)) and not isinstance(debounce, bool) and 0 <= debounce <= 5000:
        ls.debounce = debounce / 1000
    warm_up()
    if options.get("incremental") is False:  # every edit a whole check (to measure against)
        ls.incremental = False
    budget = options.get("checkSeconds")
    if isinstance(budget, (int, float)) and not isinstance(budget, bool) and 0.1 <= budget <= 600:
        ls.budget = float(budget)


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
        ls.stop_job(canonical(doc.path))
        ls.bases.pop(canonical(doc.path), None)
        state = ls.live.pop(canonical(doc.path), None)
        if state is not None and state.reuse is not None:
            ls.closed_reuse[canonical(doc.path)] = state.reuse
            while len(ls.closed_reuse) > CLOSED_REUSE_KEPT:
                del ls.closed_reuse[next(iter(ls.closed_reuse))]
        ls.published_version.pop(canonical(doc.path), None)
        ls.forget(doc)
        for other in ls.project.dependents(doc.path):  # they now read it from disk
            ls.schedule(other)


@server.feature(T.SHUTDOWN)
def shutdown(ls: ArchcServer, params: Any = None) -> None:
    for task in ls.pending.values():
        task.cancel()
    ls.cancel_refresh()
    for key in list(ls.jobs):
        ls.stop_job(key)
    ls.executor.shutdown(wait=False, cancel_futures=True)
    ls.live_thread.shutdown(wait=False, cancel_futures=True)


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
async def on_formatting(ls: ArchcServer, params: T.DocumentFormattingParams) -> list[T.TextEdit] | None:
    """Formatted in a process of its own, within the check budget (a huge document must not stop
    the server's other answers)."""
    doc = _doc(ls, params.text_document.uri)
    if doc is None:
        return None
    await ls._live_idle()
    job = worker.Job(worker.format_job, (doc.text, doc.language, doc.path), lifetime=ls.budget + 5,
                     memory=ls.memory)
    try:
        formatted, why = await asyncio.get_running_loop().run_in_executor(ls.executor, job.wait, ls.budget)
    except asyncio.CancelledError:
        job.cancel()
        raise
    except worker.TimedOut:
        ls.window_show_message(T.ShowMessageParams(
            type=T.MessageType.Warning,
            message=f"archc fmt: formatting took longer than {ls.budget:g} s and was stopped"))
        return None
    except RuntimeError as e:  # its process ran out of memory or died
        ls.window_show_message(T.ShowMessageParams(type=T.MessageType.Warning, message=f"archc fmt: {e}"))
        return None
    if formatted is None:
        ls.window_show_message(T.ShowMessageParams(
            type=T.MessageType.Warning, message=f"archc fmt: the spec does not parse ({why})"))
        return None
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
        for key in list(server.jobs):
            server.stop_job(key)
        server.executor.shutdown(wait=False, cancel_futures=True)
        server.live_thread.shutdown(wait=False, cancel_futures=True)
