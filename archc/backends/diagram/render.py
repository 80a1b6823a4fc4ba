"""Rendering DOT text to SVG, PNG or PDF by Graphviz's `dot` program, found on PATH; what dot
says on stderr (e.g. that a bitmap was scaled down) reaches the user as a `GraphvizWarning`."""
from __future__ import annotations

import re
import shutil
import subprocess
import warnings

from archc.backends.diagram.model import DiagramError

FORMATS = ("dot", "svg", "png", "pdf")

# the catalogue code of what Graphviz says while rendering (a `GraphvizWarning`)
GRAPHVIZ_WARNING = "W-DRAW-GRAPHVIZ"

INSTALL_HINT = ("install Graphviz: `apt-get install graphviz` (Debian/Ubuntu), `brew install graphviz` "
                "(macOS), `conda install graphviz`; or write the diagram as .dot and render it elsewhere")


def find_dot() -> str | None:
    """The `dot` program, or None. (Tests replace this to simulate a machine without it.)"""
    return shutil.which("dot")


def require_dot(format: str) -> None:
    if find_dot() is None:
        raise DiagramError(f"rendering {format.upper()} needs Graphviz's `dot` program, which is not on PATH",
                           hint=INSTALL_HINT, code="E-DRAW-DOT-MISSING")


class GraphvizWarning(UserWarning):
    """Something Graphviz's `dot` said while rendering, e.g. that a drawing too large for a
    bitmap was scaled down: issued with `warnings.warn`; `archc draw` prints it with its
    catalogue code (`code`) and `hint`."""
    code = GRAPHVIZ_WARNING
    hint = ("the diagram was still drawn; a bitmap too large for Graphviz is scaled down: draw .svg or "
            ".pdf (no size limit), or fold blocks with --depth")


def _dot_messages(stderr: bytes) -> list[str]:
    """dot's messages, one per line, without its `Warning: ` / `dot: ` prefixes."""
    out = []
    for line in stderr.decode(errors="replace").splitlines():
        line = re.sub(r"^(?:Warning|dot|Error):\s*", "", line.strip())
        if line and line not in out:
            out.append(line)
    return out


def render(dot_text: str, format: str) -> bytes:
    """DOT text → SVG/PNG/PDF bytes through Graphviz's `dot` (`format` "dot" returns the text).
    What dot says on stderr is not swallowed: each message is a `GraphvizWarning`."""
    if format == "dot":
        return dot_text.encode()
    if format not in FORMATS:
        raise DiagramError(f"unknown diagram format '{format}'", hint=f"choose one of {', '.join(FORMATS)}",
                           code="E-DRAW-UNKNOWN-FORMAT")
    require_dot(format)
    try:
        proc = subprocess.run([find_dot() or "dot", f"-T{format}"], input=dot_text.encode(),
                              capture_output=True, check=False)
    except FileNotFoundError:
        raise DiagramError(f"rendering {format.upper()} needs Graphviz's `dot` program, which is not on PATH",
                           hint=INSTALL_HINT, code="E-DRAW-DOT-MISSING") from None
    messages = _dot_messages(proc.stderr)
    if proc.returncode != 0 or not proc.stdout:
        raise DiagramError("Graphviz's dot failed to render the diagram: " +
                           ("; ".join(messages) or f"exit status {proc.returncode}"),
                           hint="if dot says no formats are found, run `dot -c` as the user who installed "
                                "Graphviz; otherwise write .dot instead and report this as a bug",
                           code="E-DRAW-RENDER-FAILED")
    for message in messages:
        warnings.warn(GraphvizWarning(f"Graphviz: {message}"), stacklevel=2)
    return proc.stdout


def format_for(path: str | None, explicit: str | None) -> str:
    if explicit:
        if explicit not in FORMATS:
            raise DiagramError(f"unknown diagram format '{explicit}'", hint=f"choose one of {', '.join(FORMATS)}",
                               code="E-DRAW-UNKNOWN-FORMAT")
        return explicit
    if path:
        suffix = path.rsplit(".", 1)[-1].lower() if "." in path.rsplit("/", 1)[-1] else ""
        if suffix in FORMATS:
            return suffix
        if suffix == "gv":
            return "dot"
        raise DiagramError(f"cannot tell the diagram format from '{path}'",
                           hint=f"use a file name ending in .{', .'.join(FORMATS)}, or pass --format",
                           code="E-DRAW-UNKNOWN-FORMAT")
    return "dot"
