"""Elaboration's diagnostics: errors reported once per place, each with the block instances it
was reached through (`in Bottleneck instance 'layer1.0'`), and warnings kept with the layer they
are about (archc.ir.elaborate drops those whose layer was pruned).
"""
from __future__ import annotations

from typing import NoReturn

from archc import ast as A
from archc.errors import Diagnostics, Fix, Related, SpecError
from archc.ir.values import Abort


class Reporter:
    """Collects the errors and warnings of one elaboration."""

    def __init__(self) -> None:
        self.diag = Diagnostics()
        self.warnings: list[tuple[str, SpecError]] = []  # (the layer warned about, the warning)
        # the block instances being evaluated, for notes: (block name, instance name, where used),
        # made into text only for a diagnostic
        self.instance_stack: list[tuple[str, str, A.Loc | None]] = []
        self._seen_errors: dict[tuple, None] = {}  # in the order reported (archc.ir.resume cuts it back)

    def error(self, message: str, loc: A.Loc | None, hint: str | None = None, *, code: str,
              related: list[Related] | None = None, fixes: list[Fix] | None = None) -> None:
        key = (message, loc.file if loc else None, loc.line if loc else None, loc.col if loc else None)
        if key in self._seen_errors:
            return  # the same mistake in a block body, reached through every instance
        self._seen_errors[key] = None
        self.diag.add(SpecError(message, loc, hint, self.instance_notes(), code=code, related=related or [],
                                fixes=fixes or []))

    def instance_notes(self) -> list[str]:
        notes = [f"in {block} instance '{instance}'" + (f" (used at line {loc.line})" if loc else "")
                 for block, instance, loc in reversed(self.instance_stack)]
        if len(notes) > 12:  # deep recursion: the innermost and outermost instances
            notes = [*notes[:6], f"... {len(notes) - 12} more block instances ...", *notes[-6:]]
        return [n if len(n) <= 300 else n[:140] + " ... " + n[-140:] for n in notes]

    def fail(self, message: str, loc: A.Loc | None, hint: str | None = None, *, code: str,
             related: list[Related] | None = None, fixes: list[Fix] | None = None) -> NoReturn:
        self.error(message, loc, hint, code=code, related=related, fixes=fixes)
        raise Abort()

    def warn(self, message: str, loc: A.Loc | None, hint: str | None, node_id: str, *,
             code: str) -> None:
        """A valid but suspicious spec: reported once per place (the first block instance that
        reaches it), kept while `node_id` stays in the graph (a layer of a conditional branch
        not taken is pruned, its warning with it)."""
        self.warnings.append((node_id, SpecError(message, loc, hint, self.instance_notes(), "warning",
                                                 code=code)))

    def counts(self) -> tuple[int, int]:
        """How many errors and warnings so far (a block instance that adds one is no template)."""
        return len(self.diag.errors), len(self.warnings)
