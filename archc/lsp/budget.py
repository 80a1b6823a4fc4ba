"""What one check of the language server may use (read by the server, the check processes and
the checks' own diagnostics; no other module of archc.lsp here, so that each can import it)."""
from __future__ import annotations

import logging
import os

log = logging.getLogger("archc.lsp")

MEMORY_ENV = "ARCHC_LSP_CHECK_MEMORY"
DEFAULT_MEMORY_MIB = 2048


def memory_allowance() -> int | None:
    """Bytes of address space a check process may add to the server's (ARCHC_LSP_CHECK_MEMORY,
    in MiB; 2 GiB by default; 0 or "none" for no cap). A malformed value keeps the default."""
    raw = os.environ.get(MEMORY_ENV, "").strip().lower()
    if raw in ("0", "none", "off"):
        return None
    mib: float = DEFAULT_MEMORY_MIB
    if raw:
        try:
            mib = float(raw)
            if not mib > 0 or mib != mib or mib == float("inf"):
                raise ValueError(raw)
        except ValueError:
            log.warning("%s=%r is not a positive number of MiB: the default, %d MiB, is used",
                        MEMORY_ENV, raw, DEFAULT_MEMORY_MIB)
            mib = DEFAULT_MEMORY_MIB
    return int(mib * 1024 * 1024)
