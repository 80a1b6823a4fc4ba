"""Attributes given by position where an op takes them by keyword only (`Op.positional`).

PyTorch's modules take first what archc infers from the input (`in_channels`, `num_features`),
so a call written in PyTorch's order reads as another layer: `batchnorm2d(16)` would be
`eps=16`, `conv2d(3, 16, 3)` three 16×16 filters with stride 3. Options that do not define the
layer are keyword-only; a call that gives more by position is an error that says what the call
means in archc's terms and offers the rewrite, recognising PyTorch's order where the first value
is the input's own size.
"""
from __future__ import annotations

from typing import Any, NoReturn

from archc import ast as A
from archc import provenance as pv
from archc.errors import Edit, Fix, source_line
from archc.ir.report import Reporter
from archc.ops.base import Op, Shape


def keyword_only(reporter: Reporter, op: Op, args: list[Any], shapes: list[Shape], arg_locs: tuple,
                 loc: A.Loc | None) -> NoReturn:
    names = [at.name for at in op.attrs]
    n = op.positional or 0
    texts = [_text(arg_locs[k] if k < len(arg_locs) else None, value) for k, value in enumerate(args)]
    size = shapes[0][1] if shapes and len(shapes[0]) > 1 else None
    given = [pv.plain(a) for a in args]
    if op.inferred_leading and isinstance(size, int) and given[0] == size and not isinstance(given[0], bool):
        # PyTorch's order: the input's own size first
        rest = texts[1:]
        spelled = _spelled(rest, names, n)
        reporter.fail(
            f"{op.name}({', '.join(texts)}) is in PyTorch's order, {op.title}({op.inferred_leading}, …): archc "
            f"infers {op.inferred_leading} from the input ({size} here)", loc,
            f"write {op.name}({', '.join(spelled)})"
            + ("" if len(rest) <= len(names) else f"; {op.name} takes only {', '.join(names)}"),
            code="E-CALL-POSITIONAL-OPTION", fixes=_fix(arg_locs, names, n, drop_first=True,
                                                       title=f"write {op.name}({', '.join(spelled)})", op=op)
            if all(_fits(op, names[k], pv.plain(v)) for k, v in enumerate(args[1:]) if k < len(names)) else [])
    if n == 0 and op.inferred_leading:
        meant = f"; {op.name}({texts[0]}) would have set {names[0]}={texts[0]}" if names else ""
        reporter.fail(
            f"{op.name} takes no attributes by position: archc infers {op.inferred_leading} from the input"
            + (f" ({size} here)" if size is not None else ""), loc,
            f"give options by keyword, e.g. {op.name}({', '.join(f'{a}=...' for a in names[:2])}){meant}"
            if names else f"remove the arguments: {op.name}()",
            code="E-CALL-POSITIONAL-OPTION")
    spelled = _spelled(texts, names, n)
    later = names[n:len(args)]
    # the same values by keyword mean what the call meant before options became keyword-only;
    # offered only where each value is of its option's kind (`linear(8192, 10)` is no bias=10)
    same = len(args) <= len(names) and all(_fits(op, names[k], given[k]) for k in range(n, len(args)))
    torch = (f"; if this is PyTorch's order, {op.title}({op.inferred_leading}, …), archc infers "
             f"{op.inferred_leading} from the input" + (f" ({size} here)" if size is not None else "")
             + f": {op.name}({', '.join(texts[1:n + 1])})") if op.inferred_leading and not same else ""
    reporter.fail(
        f"{op.name} takes {n} attribute{'s' if n != 1 else ''} by position ({', '.join(names[:n]) or 'none'}); "
        f"{', '.join(later) or 'the others'} {'is' if len(later) == 1 else 'are'} keyword-only", loc,
        (f"write {op.name}({', '.join(spelled)})" if same else
         f"{op.name} takes {', '.join(names)}, options by keyword") + torch,
        code="E-CALL-POSITIONAL-OPTION",
        fixes=_fix(arg_locs, names, n, drop_first=False, title=f"write {op.name}({', '.join(spelled)})", op=op)
        if same else [])


def _spelled(texts: list[str], names: list[str], n: int) -> list[str]:
    """The arguments as archc takes them: the first n by position, the others by keyword."""
    return texts[:n] + [f"{names[k]}={t}" for k, t in enumerate(texts[:len(names)]) if k >= n]


def _fits(op: Op, name: str, value: Any) -> bool:
    attr = next(at for at in op.attrs if at.name == name)
    try:
        attr.type.coerce(value, op.ndim or 2)
    except Exception:  # noqa: BLE001 - any refusal: the value is not of that kind
        return False
    return True


def _text(loc: A.Loc | None, value: Any) -> str:
    """An argument as the spec writes it (`c * 2`), else its value."""
    line = source_line(loc.file, loc.line) if loc is not None and loc.end_col else None
    if line is not None:
        return line[loc.col - 1:loc.end_col - 1]
    return str(pv.plain(value)).lower() if isinstance(pv.plain(value), bool) else str(pv.plain(value))


def _fix(arg_locs: tuple, names: list[str], n: int, drop_first: bool, title: str, op: Op) -> list[Fix]:
    """`stride=` before each argument from the n-th on; with `drop_first`, the first argument
    (and the comma after it) removed. None where an argument's place is unknown, or the call is
    not written `op(...)` (YAML's `{conv2d: [...]}` takes keywords as keys of their own)."""
    locs = list(arg_locs)
    if not locs or any(loc is None or loc.end_col is None for loc in locs) or \
            len(locs) - drop_first > len(names):
        return []
    line = source_line(locs[0].file, locs[0].line) or ""
    if f"{op.name}(" not in line and not any(f"{alias}(" in line for alias in op.aliases):
        return []
    edits: list[Edit] = []
    if drop_first:
        first, rest = locs[0], locs[1:]
        if rest and rest[0].line != first.line:
            return []
        end = rest[0].col if rest else first.end_col
        edits.append(Edit(A.Loc(file=first.file, line=first.line, col=first.col, end_col=end), ""))
    else:
        rest = locs
    for k, loc in enumerate(rest):
        if k >= n:
            edits.append(Edit(A.Loc(file=loc.file, line=loc.line, col=loc.col, end_col=loc.col), f"{names[k]}="))
    return [Fix(title, tuple(edits), preferred=True)]
