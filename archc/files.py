"""Writing output files (`-o`, `--onnx`, `Model.draw(path)`) all or nothing, and the error that
names the user's path when one cannot be written. Shared by the command line, the API and the
ONNX export, so none of them imports another for it."""
from __future__ import annotations

import errno
import os
import stat
import sys
from pathlib import Path
from typing import Any

STDOUT = "-"  # as an output path (-o -): standard output


class OutputError(OSError):
    """An output file that cannot be written (`-o`, `--onnx`, `Model.draw(path)`): an OSError
    naming the user's path (never the temporary file), with the catalogue code of its cause."""

    @property
    def code(self) -> str:
        return _OUTPUT_CODES.get(self.errno, "E-OUTPUT-WRITE-FAILED")

    def diagnostic(self) -> Any:
        """As a SpecError, its hint from the catalogue entry of `code`."""
        from archc.errors import SpecError
        return SpecError(f"cannot write '{self.filename}': {self.strerror or 'error ' + str(self.errno)}",
                         code=self.code)


# why an output cannot be written, by errno (anything else: E-OUTPUT-WRITE-FAILED)
_OUTPUT_CODES = {
    errno.EISDIR: "E-OUTPUT-IS-DIRECTORY",
    errno.EACCES: "E-OUTPUT-PERMISSION-DENIED", errno.EPERM: "E-OUTPUT-PERMISSION-DENIED",
    errno.EROFS: "E-OUTPUT-PERMISSION-DENIED",
    errno.ENOTDIR: "E-OUTPUT-NOT-A-DIRECTORY",
    errno.EEXIST: "E-OUTPUT-NOT-A-DIRECTORY",  # a folder to create exists as a file
}


def output_error(e: OSError, path: str) -> OSError:
    """`e`, raised writing `path`, as an OutputError naming `path`; a broken pipe stays one
    (the reader left: not an error of ours)."""
    if e.errno == errno.EPIPE:
        return BrokenPipeError(e.errno, e.strerror or str(e), path)
    return OutputError(e.errno, e.strerror or str(e), path)


def write_atomic(path: str, text: str | bytes, mode: int | None = None) -> None:
    """Write all or nothing: a failed run never leaves a partial output file. `-` is standard
    output. A symbolic link is followed (its target replaced atomically). A FIFO, a device or
    a path under /dev or /proc (/dev/stdout, /dev/fd/N) is written in place, never replaced.
    An existing file keeps its permissions (and owner, where we may set it); `mode` overrides.
    Errors are `OutputError`s naming `path`, never the temporary file."""
    data = text.encode() if isinstance(text, str) else text
    if path == STDOUT:
        sys.stdout.flush()
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
        return
    try:
        _write_file(path, data, mode)
    except OSError as e:
        raise output_error(e, path) from None


def _write_file(path: str, data: bytes, mode: int | None) -> None:
    try:
        info: os.stat_result | None = os.stat(path)  # through links
    except FileNotFoundError:
        info = None
    absolute = os.path.abspath(path)
    special = absolute.startswith(("/dev/", "/proc/"))
    if info is not None and (special or not stat.S_ISREG(info.st_mode)):
        with open(path, "wb") as f:  # a device, FIFO or descriptor: in place (a FIFO waits for a reader)
            f.write(data)
        return
    target = Path(os.path.realpath(path))  # a symbolic link: replace its target
    if info is not None and mode is None:
        mode = info.st_mode
    target.parent.mkdir(parents=True, exist_ok=True)
    import tempfile  # only when writing a file: not on every command's start
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        if mode is None:
            umask = os.umask(0)  # mkstemp makes the file 0600; give it the mode open() would
            os.umask(umask)
            mode = 0o666 & ~umask
        os.chmod(tmp, mode & 0o7777)
        if info is not None and hasattr(os, "chown") and \
                (info.st_uid, info.st_gid) != (os.geteuid(), os.getegid()):
            try:  # as root: the file stays its owner's
                os.chown(tmp, info.st_uid, info.st_gid)
            except OSError:
                pass
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
