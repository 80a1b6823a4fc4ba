"""Loading the files a spec imports: where an import may be found (next to the importing file,
else in the search path: `import_path(...)`, ARCHC_PATH), the confinement of imports to the top
spec's folder tree and the search path, a per-process parse cache, and `BlockLoader`, which
collects the block definitions of a spec and of everything it imports (recursively), checking
their names. `is_library` and `check_library` serve block libraries (files of blocks only).
"""
from __future__ import annotations

import os
from collections import OrderedDict
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Callable, Sequence

from archc import ast as A
from archc.errors import Diagnostics, SpecError, SpecErrors
from archc.language import BUILTINS, LAYER_OPTIONS, SPECIAL_FORMS
from archc.ops import REGISTRY


class BlockLoader:
    """The blocks a spec defines and imports, by name; problems go to `report` (each place's
    message once, like the elaborator's)."""

    def __init__(self, report: Callable[[SpecError], None]):
        self.report = report
        self.blocks: dict[str, A.BlockDef] = {}
        self.failed_imports: list[str] = []  # imports that could not be read (for hints)
        self._seen_errors: set[tuple] = set()

    def _error(self, message: str, loc: A.Loc | None, hint: str | None = None, *, code: str) -> None:
        key = (message, loc.file if loc else None, loc.line if loc else None, loc.col if loc else None)
        if key in self._seen_errors:
            return  # a file imported twice (through two others): its problems once
        self._seen_errors.add(key)
        self.report(SpecError(message, loc, hint, [], code=code))

    def load(self, spec: A.Spec, file: str, visiting: set[str],
             roots: tuple[Path, ...] | None = None) -> None:
        """Load the blocks of `spec` and of the files it imports (recursively). An import is
        found next to the importing file, else in the search path (`import_path`, ARCHC_PATH),
        and must lie inside the top spec's folder tree or a search-path folder."""
        parse_file = _IMPORT_READER.get() or _parse_import
        if roots is None and spec.imports:  # (resolving the folder is the costly part of a small spec's load)
            roots = (_resolved_dir(Path(file).parent),) + search_path()
        for imp in spec.imports:
            path, problem, hint, code = _locate_import(imp.path, Path(file).parent, roots)
            if path is None:
                self._error(problem, imp.loc, hint, code=code)
                short = imp.path if len(imp.path) <= 80 else imp.path[:60] + "..."
                self.failed_imports.append(_shown(short))
                continue
            key = str(path)
            if key in visiting:
                self._error(f"import cycle: {imp.path} imports itself (directly or indirectly)", imp.loc,
                            code="E-IMPORT-CYCLE")
                continue
            try:
                imported = parse_file(path)
            except SpecErrors as e:
                for err in e.errors:  # a file problem (no location of its own): at the import
                    self.report(err if err.loc is not None else SpecError(
                        f"import {_shown(imp.path)}: {err.message}", imp.loc, err.hint, err.notes,
                        err.severity, code=err.code))
                self.failed_imports.append(_shown(imp.path))
                continue
            self.load(imported, str(path), visiting | {key}, roots)
        for block in spec.blocks:
            if block.name in self.blocks:
                prev = self.blocks[block.name]
                self._error(f"block '{block.name}' is defined twice (first at {prev.loc})", block.loc,
                            code="E-BLOCK-DUPLICATE")
                continue
            if REGISTRY.get(block.name) or block.name in BUILTINS or (
                    block.name in SPECIAL_FORMS and SPECIAL_FORMS[block.name].reserved):
                self._error(f"block name '{block.name}' shadows a built-in op or function", block.loc,
                            "choose another name", code="E-BLOCK-SHADOWS-BUILTIN")
                continue
            for p in block.params:
                if p.name in LAYER_OPTIONS:
                    self._error(f"block {block.name}: parameter '{p.name}' has the name of a layer option "
                                f"({', '.join(LAYER_OPTIONS)}), so a call's {p.name}= would set the option, "
                                "never the parameter", p.loc or block.loc,
                                f"rename it, e.g. '{p.name}_value'", code="E-BLOCK-PARAM-RESERVED")
            self.blocks[block.name] = block


# ----------------------------------------------------------------------------- import resolution
_IMPORT_PATH: "ContextVar[tuple[Path, ...]]" = ContextVar("archc_import_path", default=())
MAX_IMPORT_PATH_CHARS = 4096


@contextmanager
def import_path(dirs: Sequence[str | Path]):
    """Within this block, imports may also come from `dirs` (the CLI's --import-path), as from
    the folders of the ARCHC_PATH environment variable."""
    token = _IMPORT_PATH.set(tuple(Path(d) for d in dirs))
    try:
        yield
    finally:
        _IMPORT_PATH.reset(token)


# Parsed imports by path, reused while the file's modification time and size stay the same: a
# block library is parsed once per process, not once per model that imports it (a third of
# loading ResNet-152 was parsing its library again). AST nodes are immutable, so sharing is safe.
_PARSED_IMPORTS: "OrderedDict[str, tuple[tuple[int, int], A.Spec]]" = OrderedDict()
_PARSED_IMPORTS_MAX = 256


def _parse_import(path: Path) -> A.Spec:
    from archc.frontend import parse_file
    key = str(path)
    try:
        st = path.stat()
        version = (st.st_mtime_ns, st.st_size)
    except (OSError, ValueError):
        return parse_file(path)  # its own error
    hit = _PARSED_IMPORTS.get(key)
    if hit is not None and hit[0] == version:
        _PARSED_IMPORTS.move_to_end(key)
        return hit[1]
    spec = parse_file(path)
    _PARSED_IMPORTS[key] = (version, spec)
    if len(_PARSED_IMPORTS) > _PARSED_IMPORTS_MAX:
        _PARSED_IMPORTS.popitem(last=False)
    return spec


_IMPORT_READER: "ContextVar[Callable[[Path], A.Spec] | None]" = ContextVar("archc_import_reader",
                                                                          default=None)


@contextmanager
def import_reader(read: Callable[[Path], A.Spec]):
    """Within this block, imported files are parsed by `read(path)` instead of
    `archc.frontend.parse_file` (same results and errors expected): the language server reads
    them from its cache and from the editor's unsaved text."""
    token = _IMPORT_READER.set(read)
    try:
        yield
    finally:
        _IMPORT_READER.reset(token)


def search_path() -> tuple[Path, ...]:
    """The folders imports may come from besides the spec's own tree: `import_path(...)`'s,
    then ARCHC_PATH's (os.pathsep-separated; empty entries are skipped, not the current folder)."""
    env = [d for d in os.environ.get("ARCHC_PATH", "").split(os.pathsep) if d.strip()]
    out: list[Path] = []
    for d in (*_IMPORT_PATH.get(), *env):
        resolved = _resolved_dir(Path(d))
        if resolved not in out:
            out.append(resolved)
    return tuple(out)


def _resolved_dir(path: Path) -> Path:
    try:
        return path.resolve()
    except (OSError, ValueError, RuntimeError):
        return path.absolute()


def _shown(text: str) -> str:
    return ascii(text) if not text.isprintable() else f"'{text}'"


def _within(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def _resolve_import(text: str, folder: Path, roots: tuple[Path, ...]
                    ) -> tuple[Path | None, str, str | None]:
    """(file, "", None) for an import that may be read, else (None, message, hint)."""
    return _locate_import(text, folder, roots)[:3]


def _locate_import(text: str, folder: Path, roots: tuple[Path, ...]
                   ) -> tuple[Path | None, str, str | None, str]:
    """(file, "", None, "") for an import that may be read, else (None, message, hint, the
    diagnostic's code)."""
    shown = _shown(text)
    hint_path = ("to import from another folder, name it with --import-path DIR or in the "
                 "ARCHC_PATH environment variable")
    if "\0" in text or any(0xD800 <= ord(c) <= 0xDFFF for c in text):
        return None, f"import path {shown} is not a valid file name", \
            "remove NUL bytes and invalid characters from the path", "E-IMPORT-INVALID-PATH"
    if len(text) > MAX_IMPORT_PATH_CHARS:
        return None, f"import path is {len(text)} characters long (the limit is " \
                     f"{MAX_IMPORT_PATH_CHARS})", "use a shorter path (with --import-path DIR)", \
            "E-IMPORT-PATH-TOO-LONG"
    candidates = [folder / text] if Path(text).is_absolute() else \
        [folder / text, *(root / text for root in roots[1:])]
    looked: list[str] = []
    for candidate in candidates:
        try:
            path = candidate.resolve()
            exists = path.exists()
        except (OSError, RuntimeError) as e:  # too long a name, a symbolic link loop
            reason = e.strerror if isinstance(e, OSError) and e.strerror else "a symbolic link loop"
            return None, f"cannot import {shown}: {reason}", \
                "check the path: each folder and file name at most 255 bytes, no link that leads " \
                "back to itself", "E-IMPORT-UNRESOLVABLE"
        if not exists:
            looked.append(str(path.parent))
            continue
        if not any(_within(path, root) for root in roots):
            return None, f"import {shown} reads '{path}', outside the spec's folder " \
                         f"'{roots[0]}' and the import search path", hint_path, "E-IMPORT-OUTSIDE-PATH"
        if path.is_dir():
            return None, f"import {shown} names a directory, not a spec file", \
                "name a .arch or .yaml file in it", "E-IMPORT-NOT-A-FILE"
        if not path.is_file():
            return None, f"import {shown} is not a regular file (a FIFO, socket or device)", \
                "import a .arch or .yaml file", "E-IMPORT-NOT-A-FILE"
        return path, "", None, ""
    return None, f"imported file {shown} does not exist (looked in {', '.join(dict.fromkeys(looked))})", \
        "check the path (relative to the importing file); " + hint_path, "E-IMPORT-NOT-FOUND"


def is_library(spec: A.Spec) -> bool:
    """A file of blocks only (no inputs, body or outputs): imported by models, not a model."""
    return bool(spec.blocks) and not (spec.inputs or spec.body or spec.outputs or spec.params)



def check_library(spec: A.Spec, file: str) -> list[str]:
    """Validate a block library as far as it can be without a model: its imports, block names
    and parameters. Returns the names of the blocks it defines (imports included)."""
    diag = Diagnostics()
    loader = BlockLoader(diag.add)
    loader.load(spec, file, set())
    diag.raise_if_any()
    return list(loader.blocks)
