"""Checking a document as `archc check` does, fast enough to run on every edit.

`check()` parses the text once, then validates a block library (`check_library`) or builds the
model from that parse as the API does (`archc.model.from_spec(spec, path)`: what
`archc.loads(text, language, file=path)` does after parsing, imports resolved relative to the
document), and returns everything the other features read: the AST, its index, the model, and
the errors and warnings with archc's own messages, codes, locations and hints.

Imports are parsed through a `ParseCache`: a file is parsed again only when its modification time
or size changed, or, for a file open in the editor, when its text did (the editor's text is what
an import reads, so a model updates while its block library is being edited, before it is saved).
While a check runs, the elaborator reads its imports through the cache
(`archc.loader.import_reader`, set by `ParseCache.installed`).

`diagnostics()` turns a result into per-file diagnostics: an error located in an imported file is
reported in that file and, again, at the import statement that leads to it.
"""
from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import archc.frontend as _frontend
from archc import ast as A
from archc.errors import SpecError, SpecErrors
from archc.lsp.index import DocumentIndex
from archc.lsp.text import Span, lines_of, loc_span, normalize


def language_for(path: str, text: str | None = None, language_id: str | None = None) -> str:
    """"arch" or "yaml": from the editor's language id, the file's suffix, or the text."""
    if language_id in ("arch", "yaml"):
        return language_id
    from archc.frontend import language_of, sniff_language
    return language_of(path) or (sniff_language(text) if text is not None else "arch")


def same_file(a: str | None, b: str | None) -> bool:
    if a is None or b is None:
        return False
    return a == b or canonical(a) == canonical(b)


def canonical(path: str) -> str:
    try:
        return os.path.realpath(path)
    except (OSError, ValueError):
        return path


@dataclass
class Parsed:
    key: tuple
    text: str | None
    spec: A.Spec | None
    errors: SpecErrors | None


class ParseCache:
    """Parsed spec files by path. `overlay` holds the text of files open in the editor (by
    canonical path): those are parsed from that text, others from disk. Thread-safe."""

    def __init__(self) -> None:
        self.overlay: dict[str, str] = {}
        self._parsed: dict[str, Parsed] = {}
        self._lock = threading.RLock()
        self.hits = 0
        self.misses = 0

    def set_overlay(self, path: str, text: str | None) -> None:
        with self._lock:
            if text is None:
                self.overlay.pop(canonical(path), None)
            else:
                self.overlay[canonical(path)] = text

    def get(self, path: str | Path) -> Parsed:
        """The parse of a file (cached), never raising: `errors` holds what parsing said."""
        from archc.frontend import language_of, parse_text, read_source
        key_path = canonical(str(path))
        with self._lock:
            text = self.overlay.get(key_path)
            key = self.key_of(path, key_path)
            hit = self._parsed.get(key_path)
            if hit is not None and hit.key == key and key != ("missing",):
                self.hits += 1
                self._record(key_path, key)
                return hit
            self.misses += 1
        spec = errors = None
        language = language_of(path)
        try:
            if language is None:  # the front end's own error for a suffix it cannot tell
                _frontend.parse_file(path)
            if text is None:
                text = read_source(path)
            spec = parse_text(text, language or "arch", str(path))
        except SpecErrors as e:
            errors = e
        parsed = Parsed(key, text, spec, errors)
        with self._lock:
            self._parsed[key_path] = parsed
            self._record(key_path, key)
        return parsed

    def key_of(self, path: str | Path, key_path: str | None = None) -> tuple:
        """What a file's parse is kept by: the editor's text for an open file, else the file's
        modification time, size and inode."""
        text = self.overlay.get(key_path or canonical(str(path)))
        if text is not None:
            return ("text", len(text), hash(text))
        try:
            st = os.stat(path)
            return ("disk", st.st_mtime_ns, st.st_size, st.st_ino)
        except (OSError, ValueError):
            return ("missing",)

    def parse_file(self, path: str | Path, language: str | None = None) -> A.Spec:
        """A stand-in for `archc.frontend.parse_file`, with the same results and errors."""
        if language is not None:
            from archc.frontend import parse_text, read_source
            return parse_text(read_source(path), language, str(path))
        parsed = self.get(path)
        if parsed.errors is not None:  # a fresh exception: re-raising one would grow its traceback
            raise SpecErrors(parsed.errors.errors)
        assert parsed.spec is not None
        return parsed.spec

    def export(self, paths: set[str]) -> dict[str, Parsed]:
        """The parses of these files (canonical paths), to be merged into another cache."""
        with self._lock:
            return {p: self._parsed[p] for p in paths if p in self._parsed}

    def merge(self, parsed: dict[str, Parsed]) -> None:
        """Parses made by a check in another process: kept where this cache has none as new."""
        with self._lock:
            for p, entry in parsed.items():
                mine = self._parsed.get(p)
                if mine is None or mine.key != entry.key:
                    self._parsed[p] = entry

    def _record(self, path: str, key: tuple) -> None:
        seen = _SEEN.get()
        if seen is not None:
            seen[path] = key

    @contextmanager
    def installed(self) -> Iterator[dict[str, tuple]]:
        """While inside: the elaborator's imports are parsed through this cache; yields the
        files read, with the keys of the parses read (filled as imports are read). One check at
        a time on each thread."""
        from archc.loader import import_reader
        seen: dict[str, tuple] = {}
        token = _SEEN.set(seen)  # a context variable: elaboration runs on a thread of its own
        try:
            with import_reader(self.parse_file):
                yield seen
        finally:
            _SEEN.reset(token)


_SEEN: ContextVar[dict[str, tuple] | None] = ContextVar("archc_lsp_files_read", default=None)


@dataclass
class CheckResult:
    path: str
    language: str
    text: str
    version: int | None = None
    spec: A.Spec | None = None
    index: DocumentIndex | None = None
    model: Any = None  # archc.Model when the spec is a valid model, or of what elaborated around errors
    partial: bool = False  # `model` holds only the layers not downstream of an error
    library: list[str] | None = None  # a valid block library: the blocks it defines
    errors: list[SpecError] = field(default_factory=list)
    warnings: list[SpecError] = field(default_factory=list)
    internal: str | None = None  # a bug of archc's, said as a diagnostic instead of a crash
    imported: set[str] = field(default_factory=set)  # canonical paths of the files it imports
    seconds: float = 0.0
    cpu: float = 0.0  # CPU seconds (of the process: the elaborator runs on a thread of its own)

    @property
    def ok(self) -> bool:
        return not self.errors and self.internal is None


def check(text: str, language: str, path: str, cache: ParseCache | None = None,
          version: int | None = None, live: Any = None) -> CheckResult:
    """Check a document as `archc check PATH` would check the file holding `text`. `live`: the
    document's `archc.lsp.live.Live`, to parse and elaborate only what changed since its last
    check (the same result)."""
    import archc
    from archc.frontend import parse_text
    from archc.loader import check_library, is_library
    from archc.model import from_spec

    start, cpu = time.perf_counter(), time.process_time()
    text = normalize(text)
    cache = cache or ParseCache()
    result = CheckResult(path, language, text, version)
    if live is not None:
        live.before(cache)
    with cache.installed() as seen:
        try:
            spec = live.parse(text) if live is not None else parse_text(text, language, path)
            result.spec = spec
            result.index = DocumentIndex(spec, text, path, language)
            if is_library(spec):
                result.library = check_library(spec, path)
            else:  # the parse above, not a second one
                model = live.build(spec) if live is not None else from_spec(spec, path)
                result.model = model
                result.warnings = list(model.warnings)
        except SpecErrors as e:
            result.errors = list(e.errors)
            if e.partial is not None and result.spec is not None:  # shapes while a line is broken
                result.model, result.partial = archc.Model(result.spec, e.partial), True
        except SpecError as e:
            result.errors = [e]
        except RecursionError:
            result.errors = [SpecError("the spec is nested too deeply to process", None,
                                       "split long expressions and deep lists into several statements",
                                       code="E-LIMIT-NESTING")]
        except MemoryError as e:
            result.errors = [out_of_memory(e, path)]
        except Exception as e:  # noqa: BLE001 - archc's bug, not the user's: said, not crashed on
            result.internal = f"archc internal error: {type(e).__name__}: {e}"
        result.imported = {p for p in seen if not same_file(p, path)}
    result.seconds, result.cpu = time.perf_counter() - start, time.process_time() - cpu
    if live is not None:
        live.after(result, seen)
    return result


def out_of_memory(error: MemoryError, path: str) -> SpecError:
    """E-LIMIT-MEMORY, at the innermost part of the document being worked on when memory ran
    out (found in the traceback: the deepest frame holding a node of this document's AST)."""
    from archc.lsp.budget import MEMORY_ENV, memory_allowance
    allowance = memory_allowance()
    size = f"more than {allowance / 2 ** 20:,.0f} MiB" if allowance else "more memory than there is"
    return SpecError(
        f"checking this document needed {size} of memory: it was stopped", _node_loc(error, path),
        "a value here is very large (a list, a string, a repeat count); the language server's cap on "
        f"one check's memory is the environment variable {MEMORY_ENV} (MiB)", code="E-LIMIT-MEMORY")


def _node_loc(error: BaseException, path: str) -> Any:
    import traceback
    found = None
    for frame, _ in traceback.walk_tb(error.__traceback__):
        for value in frame.f_locals.values():
            loc = getattr(value, "loc", None) if isinstance(value, A.Node) else None
            if loc is not None and same_file(getattr(loc, "file", None), path):
                found = loc
                break
    return found


# ----------------------------------------------------------------------------- diagnostics


@dataclass
class Diagnostic:
    file: str
    span: Span
    severity: str  # "error" | "warning"
    message: str
    code: str | None = None
    related: list[tuple[str, Span, str]] = field(default_factory=list)
    fixes: list[Any] = field(default_factory=list)  # archc.errors.Fix: offered as quick fixes


def message_of(err: SpecError) -> str:
    """The message with its notes and hint, as `archc check` prints them below the caret."""
    out = [err.message]
    out.extend(f"note: {n}" for n in err.notes)
    if err.hint:
        out.append(f"hint: {err.hint}")
    return "\n".join(out)


def diagnostics(result: CheckResult, cache: ParseCache,
                resolve: Any = None) -> dict[str, list[Diagnostic]]:
    """Diagnostics by file (the document's path and any imported file an error is in).
    `resolve(index)`: the document's imports as [(ImportSite, closure of canonical paths)]."""
    out: dict[str, list[Diagnostic]] = {result.path: []}
    own_lines = lines_of(result.text)
    if result.internal:
        out[result.path].append(Diagnostic(result.path, Span(0, 0, 0, len(own_lines[0]) if own_lines else 0),
                                           "error", result.internal + "\nhint: this is a bug in archc; please "
                                           "report it with the spec", None))
    imports = resolve(result.index) if resolve is not None else []
    split: dict[str, list[str]] = {}  # each imported file's lines, split once (not per error)

    def lines_in(file: str) -> list[str]:
        if file not in split:
            split[file] = lines_of(text_of(file, cache))
        return split[file]

    for err in [*result.errors, *result.warnings]:
        severity = "warning" if err.severity == "warning" else "error"
        text = message_of(err)
        if err.loc is None or same_file(err.loc.file, result.path):
            span = loc_span(err.loc, own_lines) if err.loc is not None else \
                Span(0, 0, 0, len(own_lines[0]) if own_lines else 0)
            related = [(r.loc.file, loc_span(r.loc, lines_in(r.loc.file) if not same_file(
                r.loc.file, result.path) else own_lines), r.message) for r in err.related]
            fixes = [f for f in err.fixes if all(same_file(e.loc.file, result.path) for e in f.edits)]
            out[result.path].append(Diagnostic(result.path, span, severity, text, err.code, related, fixes))
            continue
        file = err.loc.file
        lines = lines_in(file)
        span = loc_span(err.loc, lines)
        out.setdefault(file, []).append(Diagnostic(file, span, severity, text, err.code))
        site = _import_leading_to(file, imports)
        where = f"{_short(file, result.path)}:{err.loc.line}:{err.loc.col}"
        at = site.span if site is not None else Span(0, 0, 0, len(own_lines[0]) if own_lines else 0)
        out[result.path].append(Diagnostic(
            result.path, at, severity, f"in imported file {where}: {text}", err.code,
            [(file, span, err.message)]))
    return out


def text_of(file: str, cache: ParseCache) -> str:
    """A spec file's text as the editor has it open, else as on disk."""
    parsed = cache.get(file)
    if parsed.text is not None:
        return parsed.text
    try:
        return normalize(Path(file).read_text(encoding="utf-8", errors="replace"))
    except OSError:
        return ""


def _import_leading_to(file: str, imports: list[tuple[Any, set[str]]]) -> Any:
    target = canonical(file)
    for site, closure in imports:
        if target in closure:
            return site
    return None


def _short(file: str, relative_to: str) -> str:
    try:
        return os.path.relpath(file, os.path.dirname(relative_to))
    except ValueError:
        return file
