"""An op's PyTorch lowering as Python source text (`Lowered`), and the literals and constructor
calls it is written with (`py`, `py_call`). Part of the op definition (archc.ops.base re-exports
it): archc/ops never imports torch; the code generator in `archc/lower` assembles these pieces."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

from archc import provenance


@dataclass(frozen=True)
class Lowered:
    """An op's PyTorch lowering, as Python source text (archc/ops never imports torch; the code
    generator in `archc/lower` assembles these pieces into a module file).

    module: a constructor expression for the node's `nn.Module`, e.g.
        `nn.Conv2d(3, 64, kernel_size=7, stride=2, padding=3, bias=False)`; None when the node is
        a plain expression in `forward` (merges, flatten, global pooling).
    call: the forward expression: `{m}` stands for the module (`self.conv1`), `{0}`, `{1}`, … for
        the input tensors, which are always plain variable names (so may be repeated), e.g.
        `{m}({0})`, `{0} + {1}`, `torch.cat([{0}, {1}], dim=1)`.
    helpers: names of prelude functions or classes (see `helper`) that `module` or `call` use.
    defaults: keyword arguments of `module`'s outermost call with the constructor's default
        value; the generator leaves such an argument out when it has that value in every
        instance of a class (so `stride=1` disappears, but `stride=stride` stays when it varies).
    comment: a note for the reader, written above the forward line (plain text, one line).
    in_place: for an op with `Op.in_place`, the lowering that overwrites input {0} instead of
        making a new tensor (`nn.ReLU(inplace=True)`, `{0}.add_({1})`); the generator chooses it
        where that is safe.
    """
    module: str | None
    call: str
    helpers: tuple[str, ...] = ()
    defaults: tuple[tuple[str, Any], ...] = ()
    comment: str = ""
    in_place: "Lowered | None" = None


HELPERS: dict[str, str] = {}
"""Prelude source by name: small functions and classes a generated model file defines."""


def helper(name: str, source: str) -> str:
    """Register the source of a prelude function or class (it may use `torch`, `nn` and `F`);
    returns `name` for use in `Lowered.helpers`."""
    source = source.strip("\n") + "\n"
    if HELPERS.get(name, source) != source:
        raise ValueError(f"helper {name!r} defined twice")
    HELPERS[name] = source
    return name


def py(value: Any) -> str:
    """Python source for a literal: ints, floats (exact, via repr), bools, None, strings (quoted
    from `repr`, so no text can escape the literal) and tuples/lists of those. A traced value
    (archc.provenance) prints as its placeholder while the code generator lowers a traced graph."""
    traced_source = provenance.source_of(value)
    if traced_source is not None:
        return traced_source
    if isinstance(value, Ctor):  # a constructor inside a constructor (nn.Sequential(...))
        return str.__str__(value)
    if value is None or isinstance(value, bool):
        return repr(value)
    if isinstance(value, int):
        return str(int(value))
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            return f'float("{value}")'
        return repr(value)
    if isinstance(value, str):
        return str_literal(value)
    if isinstance(value, (tuple, list)):
        items = [py(v) for v in value]
        if isinstance(value, list):
            return "[" + ", ".join(items) + "]"
        return "(" + items[0] + ",)" if len(items) == 1 else "(" + ", ".join(items) + ")"
    raise TypeError(f"no Python literal for {value!r}")


def str_literal(text: str) -> str:
    """A string literal for `text`, double-quoted when that needs no escapes (as black writes
    it); always derived from `repr`, which escapes whatever could end the literal."""
    r = repr(str(text))
    if r.startswith("'") and '"' not in text and "'" not in text:
        return '"' + r[1:-1] + '"'
    return r


def py_ints(values: Sequence[int]) -> str:
    """(3, 3) -> '3'; (3, 5) -> '(3, 5)': one int when every spatial axis has the same value,
    which is how torch modules are usually written."""
    values = tuple(values)
    return py(values[0]) if provenance.all_same(values) else py(values)


def py_call(func: str, *args: Any, **kwargs: Any) -> "Ctor":
    """`func(arg, ..., key=value, ...)`: a module constructor as data (`Ctor`), which prints as
    that source with literal values (`py`; a `Src` value is inserted as source text)."""
    return Ctor(func, args, kwargs)


class Ctor(str):
    """A constructor call as data: the callee's source (`nn.Conv2d`), the positional and keyword
    argument values as the op computed them (numbers, traced or not; strings; tuples; `Src`;
    nested `Ctor`s). It is also its source text, so a lowering reads as before; the code
    generator reads the values, never the text."""
    func: str
    args: tuple
    kwargs: dict

    def __new__(cls, func: str, args: Sequence[Any], kwargs: dict[str, Any]) -> "Ctor":
        parts = [a if isinstance(a, Src) else py(a) for a in args]
        parts += [f"{k}={v if isinstance(v, Src) else py(v)}" for k, v in kwargs.items()]
        obj = super().__new__(cls, f"{func}({', '.join(parts)})")
        obj.func, obj.args, obj.kwargs = func, tuple(args), dict(kwargs)
        return obj


class Src(str):
    """Source text to insert as it is (not as a string literal) by `py_call`."""
