"""Front ends: `.arch` DSL and YAML spec files -> one `archc.ast.Spec`; printers back to both.

    parse_file(path, language)  dispatch on the suffix: .arch -> DSL, .yaml/.yml -> YAML (or as told)
    parse_text(text, language, file)    "arch" or "yaml" text
    read_source(path)           a spec file's text (errors as SpecErrors)
    sniff_language(text)        "yaml" or "arch", for text without a file name (stdin)
    parse_dsl(text, file)       the DSL (grammar and precedence: dsl.lark)
    parse_yaml(text, file)      the YAML form (shapes: yaml_loader.py)
    parse_expr(text, file, line, col)   one DSL expression, located at file:line:col
    to_dsl(spec), to_yaml(spec) canonical text, comments kept; parsing it gives the same program

Comments are trivia on the statements (`archc.ast.Comments`, attached by `comments.py`).
Every user error is raised as `archc.errors.SpecErrors`.
"""
from __future__ import annotations

import os
import re
import stat
from pathlib import Path

from archc.ast import Spec
from archc.errors import SpecError, SpecErrors
from archc.frontend.dsl import parse_dsl, parse_expr
from archc.frontend.printer import to_dsl, to_yaml

__all__ = ["parse_file", "parse_text", "parse_dsl", "parse_yaml", "parse_expr", "read_source",
           "sniff_language", "language_of", "to_dsl", "to_yaml"]



def parse_yaml(text: str, file: str = "<string>") -> Spec:
    """The YAML form (archc.frontend.yaml_loader; PyYAML is imported only for YAML specs)."""
    from archc.frontend.yaml_loader import parse_yaml as parse
    return parse(text, file)


DSL_SUFFIXES = (".arch",)
YAML_SUFFIXES = (".yaml", ".yml")


def language_of(path: str | Path) -> str | None:
    """"arch" or "yaml" from a file name's suffix; None when it does not tell."""
    suffix = Path(path).suffix.lower()
    return "arch" if suffix in DSL_SUFFIXES else "yaml" if suffix in YAML_SUFFIXES else None


def parse_file(path: str | Path, language: str | None = None) -> Spec:
    """Parse a spec file, choosing the front end by its suffix (or `language`)."""
    path = Path(path)
    language = language or language_of(path)
    if language is None:
        if _missing_or_folder(path):
            read_source(path)  # that is the problem to report (it raises), not the suffix
        raise SpecErrors([SpecError(
            f"cannot tell the language of '{path}' from its suffix '{path.suffix}'", None,
            "name DSL specs '*.arch' and YAML specs '*.yaml' or '*.yml' (or pass --lang)",
            code="E-FILE-UNKNOWN-LANGUAGE")])
    return parse_text(read_source(path), language, str(path))


def _missing_or_folder(path: Path) -> bool:
    try:
        return not path.exists() or path.is_dir()
    except (OSError, ValueError):  # a name the system cannot take
        return True


def parse_text(text: str, language: str, file: str = "<string>") -> Spec:
    return parse_yaml(text, file) if language == "yaml" else parse_dsl(text, file)


MAX_SOURCE_BYTES = 16 * 1024 * 1024  # a spec larger than this is not a spec (a device, a dump)


def read_source(path: str | Path) -> str:
    """A spec file's UTF-8 text. A directory, a file over MAX_SOURCE_BYTES, bytes that are not
    UTF-8 or a name the system cannot take are SpecErrors (no location: an import adds its own).
    A FIFO or a pipe (`<(...)`) is read without waiting for a writer: none gives empty text."""
    path = Path(path)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))  # a FIFO: never hang in open
    except FileNotFoundError:
        raise SpecErrors([SpecError(f"spec file '{path}' does not exist", None,
                                    "check the path (imports are relative to the importing "
                                    "file)", code="E-FILE-NOT-FOUND")]) from None
    except (ValueError, UnicodeError):  # a NUL byte, a lone surrogate
        raise SpecErrors([SpecError(f"spec file name {ascii(str(path))} is not a valid file name",
                                    None, "remove NUL bytes and invalid characters from the "
                                          "path", code="E-FILE-BAD-NAME")]) from None
    except OSError as e:
        raise SpecErrors([SpecError(f"cannot read spec file '{path}': {e.strerror or e}",
                                    None, "check the path and its permissions",
                                    code="E-FILE-UNREADABLE")]) from None
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise SpecErrors([SpecError(f"spec file '{path}' is a directory", None,
                                        "name a .arch or .yaml file (the spec itself, not "
                                        "its folder)", code="E-FILE-IS-DIRECTORY")])
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)  # opened: now read what a writer sends, until it closes
        # in pieces of about the file's size (one read of MAX_SOURCE_BYTES + 1 allocated that much
        # for every spec: 16 MiB, ~35 us of a 2 KB spec's parse), until its end or past the limit
        piece = max(info.st_size + 1, 1 << 16)
        pieces: list[bytes] = []
        size = 0
        while size <= MAX_SOURCE_BYTES:
            data = os.read(fd, min(piece, MAX_SOURCE_BYTES + 1 - size))
            if not data:
                break
            pieces.append(data)
            size += len(data)
        data = b"".join(pieces)
    except OSError as e:
        raise SpecErrors([SpecError(f"cannot read spec file '{path}': {e.strerror or e}",
                                    None, "check the path and its permissions",
                                    code="E-FILE-UNREADABLE")]) from None
    finally:
        os.close(fd)
    if len(data) > MAX_SOURCE_BYTES:
        raise SpecErrors([SpecError(f"spec file '{path}' is larger than "
                                    f"{MAX_SOURCE_BYTES // (1024 * 1024)} MiB", None,
                                    "a spec is a text file of statements; check that the path "
                                    "names one (not a device or a data file)",
                                    code="E-FILE-TOO-LARGE")])
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise SpecErrors([SpecError(f"spec file '{path}' is not UTF-8 text ({e.reason})", None,
                                    "save it as UTF-8 from your editor, or convert it with "
                                    "'iconv -f <its encoding> -t UTF-8'",
                                    code="E-FILE-NOT-UTF8")]) from None
    return text.replace("\r\n", "\n").replace("\r", "\n")  # as open() in text mode reads it


_YAML_START = re.compile(r"(---|\{|[A-Za-z_][A-Za-z0-9_]*\s*:(\s|$))")


def sniff_language(text: str) -> str:
    """"yaml" when the first statement looks like a YAML key (`inputs:`), a document start or
    a flow mapping; "arch" otherwise (DSL statements start with a keyword or `name =`)."""
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        return "yaml" if _YAML_START.match(stripped) else "arch"
    return "arch"
