"""The AST's node classes as the DSL parser builds them: one constructor per `archc.ast` class,
taking the same keyword arguments and making an equal object, at a third of the cost.

A frozen dataclass's `__init__` stores each field through `object.__setattr__` (about 1 µs for a
node); a statement of a flat spec makes about a dozen nodes and locs, so that was a third of the
parse. These constructors fill the new object's `__dict__` directly, every field in declaration
order, defaults and default factories as the dataclass has them: the objects are the same
class with the same fields (`==`, `hash`, `repr`, pickling and `archc.ast.replace` see no
difference). They validate nothing, as the dataclasses do not.

    from archc.frontend.nodes import make
    make.Name(id="x", loc=loc)
"""
from __future__ import annotations

import dataclasses
from types import SimpleNamespace
from typing import Any, Callable

from archc import ast as A


_UNSET = object()  # a default factory's field not given


def _constructor(cls: type) -> Callable[..., Any]:
    params: list[str] = []
    stores: list[str] = []
    scope: dict[str, Any] = {"new": object.__new__, "cls": cls, "unset": _UNSET}
    for field in dataclasses.fields(cls):
        name = field.name
        if field.default is not dataclasses.MISSING:
            scope[f"default_{name}"] = field.default
            params.append(f"{name}=default_{name}")
            stores.append(f"d[{name!r}] = {name}")
        elif field.default_factory is not dataclasses.MISSING:
            scope[f"factory_{name}"] = field.default_factory
            params.append(f"{name}=unset")
            stores.append(f"d[{name!r}] = factory_{name}() if {name} is unset else {name}")
        else:
            params.append(name)
            stores.append(f"d[{name!r}] = {name}")
    source = (f"def {cls.__name__}(*, {', '.join(params)}):\n"
              "    o = new(cls)\n    d = o.__dict__\n"
              + "".join(f"    {s}\n" for s in stores) + "    return o\n")
    exec(source, scope)  # noqa: S102 - generated from the dataclass's own fields, as dataclasses does
    return scope[cls.__name__]


def _classes() -> list[type]:
    out, stack = [], [A._Data]
    while stack:
        cls = stack.pop()
        stack.extend(cls.__subclasses__())
        if dataclasses.is_dataclass(cls) and cls.__module__ == A.__name__:
            out.append(cls)
    return out


make = SimpleNamespace(**{cls.__name__: _constructor(cls) for cls in _classes()})


def place_loc(file: str) -> Callable[[tuple], A.Loc]:
    """The Loc in `file` of a place `(line, column, end_line, end_column, ...)` (a token's tuple
    or a rule's), its end column kept only on one line: what `make.Loc` makes of it, in one call
    (the parser makes one for each node)."""
    if A.Loc._fields != ("file", "line", "col", "end_col"):  # laid out otherwise: the general way
        return lambda place: make.Loc(file=file, line=place[0], col=place[1],
                                      end_col=place[3] if place[2] == place[0] else None)
    new, cls = object.__new__, A.Loc

    def loc(place: tuple) -> A.Loc:
        line = place[0]
        o = new(cls)
        d = o.__dict__
        d["file"], d["line"], d["col"] = file, line, place[1]
        d["end_col"] = place[3] if place[2] == line else None
        return o
    return loc


def replace(node: Any, **changes: Any) -> Any:
    """`archc.ast.replace(node, **changes)` (a copy with those fields changed), without running
    the dataclass's `__init__`: the other fields keep their values, as there."""
    fields = dict(node.__dict__)
    fields.update(changes)
    copy = object.__new__(type(node))
    object.__setattr__(copy, "__dict__", fields)
    return copy
