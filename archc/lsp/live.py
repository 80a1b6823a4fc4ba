"""A document's check kept alive between edits, in the server's process (issue 23).

`Live` holds what the last check of a document left: its parse (for
`archc.frontend.incremental.reparse`, which parses again only the top-level statements an edit
touched) and the elaborator's session (`archc.ir.resume.Session`, which elaborates again from the
first statement that changed). `analysis.check(..., live=state)` then checks an edit at the cost of
what it changed, with exactly the result of a whole check: the same parse, the same graph or the
same errors, and the model built from them as `archc.model.from_spec` builds it (`build`). Where
either API is missing (or for YAML, whose indentation is its structure) that step is whole.

A state is used by one thread at a time (the server's live thread). It starts afresh (`reset`)
when a file its last elaboration read has changed since (an imported library edited: a resumed
elaboration would keep the old blocks), and after a check that reached a limit or failed inside
archc (the session may have stopped half-way through a statement).
"""
from __future__ import annotations

from typing import Any

from archc import ast as A
from archc.errors import SpecErrors
from archc.lsp.sizes import SizeSums

try:  # parses again only the statements an edit touched (archc/frontend/incremental.py); a
    # parse it starts from is one it made (`parse`, remembered)
    from archc.frontend.incremental import parse as parse_remembered
    from archc.frontend.incremental import reparse
except ImportError:  # not there yet: every parse is whole
    parse_remembered = reparse = None
try:  # elaborates again from the first statement an edit changed (archc/ir/resume.py)
    from archc.ir.resume import Session
except ImportError:  # not there yet: every elaboration is whole
    Session = None
RESUMABLE = reparse is not None or Session is not None


class Live:
    def __init__(self, path: str, language: str) -> None:
        self.path, self.language = path, language
        self.text: str | None = None  # the last text that parsed here ...
        self.spec: A.Spec | None = None  # ... and its parse
        self.session: Any = None
        # the session's block-reuse stores (archc.ir.resume.Reuse): kept when the state starts
        # afresh, and handed to the next state of the document when it is closed and opened again
        self.reuse: Any = None
        self.sizes = SizeSums()  # the size check, of the layers each edit changed
        self.keys: dict[str, tuple] = {}  # parse-cache keys of the files the last check read
        # what the session's elaboration read through its import statements (a resumed one reads
        # only those after the statement it resumes from), and those statements' paths
        self.imported: set[str] = set()
        self.import_paths: list[str] = []
        self.elaborated = False  # whether the check under way elaborated with the session

    @property
    def resumes(self) -> bool:
        """Whether an edit is checked here at the cost of what it changed: a parse to start from
        (and the APIs to resume with)."""
        return RESUMABLE and self.spec is not None and self.language == "arch"

    def reset(self) -> None:
        self.text = self.spec = self.session = None
        self.sizes = SizeSums()
        self.keys, self.imported, self.import_paths = {}, set(), []

    def parse(self, text: str) -> A.Spec:
        """`archc.frontend.parse_text(text, language, path)`'s result and errors."""
        from archc.frontend import parse_text
        if reparse is None or self.language != "arch":
            spec = parse_text(text, self.language, self.path)
        elif self.spec is None:
            spec = parse_remembered(text, self.path)
        else:
            spec = reparse(self.spec, self.text, text, self.path)
        self.text, self.spec = text, spec
        return spec

    def build(self, spec: A.Spec) -> Any:
        """`archc.model.from_spec(spec, path)`'s model and errors."""
        from archc.model import from_spec
        if Session is None or self.language != "arch":
            return from_spec(spec, self.path)
        from archc.collector import paused
        from archc.model import Model
        paths = [i.path for i in spec.imports]
        if self.session is None or paths != self.import_paths:  # an import edited: all read again
            self.session, self.imported, self.import_paths = Session(self.path, reuse=self.reuse), set(), paths
            self.reuse = self.session.reuse
        self.elaborated = True
        with paused():  # as from_spec (archc.model.from_graph), with the session's elaboration
            warnings: list = []
            graph = self.session.elaborate(spec, warnings=warnings)
            sizes = self.sizes.check(graph)
            if sizes.errors:
                raise SpecErrors(sizes.errors)
            return Model(spec, graph, warnings + sizes.warnings, sizes.params)

    def before(self, cache: Any) -> None:
        """Before a check: afresh if a file the session read has changed since."""
        self.elaborated = False
        if any(cache.key_of(p) != k for p, k in self.keys.items()):
            self.reset()

    def after(self, result: Any, read: dict[str, tuple]) -> None:
        """After a check: the files its session has read (`read`: this check's, with the keys of
        the parses read), and whether it can be resumed from."""
        limited = any((e.code or "").startswith("E-LIMIT") for e in result.errors)
        if result.internal is not None or limited:
            self.reset()
            return
        if self.elaborated:  # what the statements it resumed after read counts too
            kept = {p: k for p, k in self.keys.items() if p in self.imported}
            self.keys = {**kept, **{p: k for p, k in read.items() if p in result.imported}}
            result.imported |= self.imported
            self.imported = set(result.imported)
