"""The one AST that both front ends (YAML and the `.arch` DSL) produce.

Every node carries the `loc` of the source text it came from, so that any later stage can point
at the spec. Statements also carry the spec's comments as trivia (`comments`, `Comments`), so that
`archc fmt` can print them back. Two specs are the same program when their ASTs are equal after
`without_locs`, which drops both.

The language has one expression grammar for everything: numbers, model parameters, block
arguments, and tensors. A few operators mean something for tensors:

    x -> conv2d(64, 3)      pipe: call with `x` as the first input
    a + b,  a * b           residual add, elementwise multiply (squeeze-and-excitation)
    x / 255, x * 0.5        scale by a number
    concat(a, b)            a call whose positional tensor arguments are its inputs
    x if cond else y        a static choice, decided while the graph is built

The nodes are frozen standard-library dataclasses: the front ends build them only after their
own located checks, so building one validates nothing, and importing this module costs
microseconds instead of the ~100 ms pydantic spends compiling validators for every class
(the static path's cold start). pydantic validates where data comes from outside the spec
languages: the JSON Schema of the YAML form (archc.schema) describes these same nodes.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any, ClassVar, Literal, Union

_node = dataclasses.dataclass(frozen=True, kw_only=True)


class _Data:
    """The base of every AST class. `_fields`: the names of its fields, in declaration order."""
    _fields: ClassVar[tuple[str, ...]] = ()


def _trivia(default: Any = None) -> Any:
    """A field outside the program (locations, comments): not in repr."""
    if isinstance(default, list):
        return dataclasses.field(default_factory=list, repr=False)
    return dataclasses.field(default=default, repr=False)


def _list() -> Any:
    return dataclasses.field(default_factory=list)


@_node
class Loc(_Data):
    file: str
    line: int  # 1-based
    col: int  # 1-based
    end_col: int | None = None  # exclusive, same line; for the caret underline

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"


@_node
class Node(_Data):
    loc: Loc | None = _trivia()


# ----------------------------------------------------------------------------- expressions


@_node
class Num(Node):
    kind: Literal["num"] = "num"
    value: int | float


@_node
class Str(Node):
    """A quoted string literal."""
    kind: Literal["str"] = "str"
    value: str


@_node
class FString(Node):
    """`f"block{k}-{j}"`: literal text (Str) and expressions, joined as text."""
    kind: Literal["fstring"] = "fstring"
    parts: list["Expr"]


@_node
class Bool(Node):
    kind: Literal["bool"] = "bool"
    value: bool


@_node
class NoneLit(Node):
    kind: Literal["none"] = "none"


@_node
class Name(Node):
    """A reference: a parameter, a tensor, a loop index. Unbound names are symbols: `N`, `H`,
    enum words such as `same` or `bilinear`."""
    kind: Literal["name"] = "name"
    id: str


@_node
class ListExpr(Node):
    kind: Literal["list"] = "list"
    items: list["Expr"]


@_node
class CompFor(Node):
    """One `for t1, t2 in iterable if c1 if c2` clause of a comprehension: several targets unpack
    each item; the conditions (all must hold) filter before the next clause runs."""
    kind: Literal["compfor"] = "compfor"
    targets: list[str]
    iterable: "Expr"
    conditions: list["Expr"] = _list()


@_node
class ListComp(Node):
    """`[ceil(r[6] * depth) for r in table if r[0] != 0]`, `[n for t, c, n, s in setting]`,
    `[c for r, c in rows for j in range(r)]`: a list built element by element. `clauses` are the
    `for` clauses in order, as Python nests them: each later one is evaluated once for every item
    the earlier ones bind, and sees their names."""
    kind: Literal["listcomp"] = "listcomp"
    element: "Expr"
    clauses: list[CompFor]


@_node
class Attribute(Node):
    """`x.channels`, `x.shape`"""
    kind: Literal["attr"] = "attr"
    value: "Expr"
    attr: str


@_node
class Subscript(Node):
    """`x.shape[2]`, `layers[1:]`, and on tensors `x[:, :c]` (a `slice` layer)."""
    kind: Literal["subscript"] = "subscript"
    value: "Expr"
    index: "Expr"


@_node
class Slice(Node):
    """`start:stop:step` inside a subscript; each part may be left out."""
    kind: Literal["slice"] = "slice"
    start: "Expr | None" = None
    stop: "Expr | None" = None
    step: "Expr | None" = None


@_node
class Indices(Node):
    """Several subscript entries, one per axis: `x[:, :c]`."""
    kind: Literal["indices"] = "indices"
    items: list["Expr"]


UnaryOp = Literal["-", "+", "not"]
BinaryOp = Literal["+", "-", "*", "/", "//", "%", "**"]
CompareOp = Literal["==", "!=", "<", "<=", ">", ">="]


@_node
class Unary(Node):
    kind: Literal["unary"] = "unary"
    op: UnaryOp
    operand: "Expr"


@_node
class Binary(Node):
    kind: Literal["binary"] = "binary"
    op: BinaryOp
    left: "Expr"
    right: "Expr"


@_node
class Compare(Node):
    kind: Literal["compare"] = "compare"
    op: CompareOp
    left: "Expr"
    right: "Expr"


@_node
class BoolOp(Node):
    kind: Literal["boolop"] = "boolop"
    op: Literal["and", "or"]
    left: "Expr"
    right: "Expr"


@_node
class IfExpr(Node):
    kind: Literal["if"] = "if"
    test: "Expr"
    body: "Expr"
    orelse: "Expr"


@_node
class Keyword(Node):
    name: str
    value: "Expr"


@_node
class Call(Node):
    """`conv2d(64, 3, stride=2)`, `BasicBlock(out=64)`, `concat(a, b)`, `max(1, c // 4)`.

    `func` is an op, a block, or a builtin function. A bare name in pipe position
    (`x -> relu`) is a Call with no arguments.
    """
    kind: Literal["call"] = "call"
    func: str
    args: list["Expr"] = _list()
    kwargs: list[Keyword] = _list()


@_node
class Pipe(Node):
    """`source -> target`: call `target` with `source` as its first input."""
    kind: Literal["pipe"] = "pipe"
    source: "Expr"
    target: Call


Expr = Union[Num, Str, FString, Bool, NoneLit, Name, ListExpr, ListComp, Attribute, Subscript, Slice, Indices,
             Unary, Binary, Compare, BoolOp, IfExpr, Call, Pipe]

# ----------------------------------------------------------------------------- declarations


@_node
class Comments(_Data):
    """Comment trivia of a statement (not part of the program: `without_locs` drops it).

    `before`: the whole-line comments above it (and comments inside its brackets), each with its
    `#`; "" stands for a blank line (first: a blank line before the statement). `after`: its
    end-of-line comments."""
    before: list[str] = _list()
    after: list[str] = _list()


@_node
class Param(Node):
    """A model parameter or block parameter; `default is None` means required."""
    name: str
    default: Expr | None = None
    comments: Comments | None = _trivia()


@_node
class Input(Node):
    name: str
    shape: list[Expr]
    comments: Comments | None = _trivia()


@_node
class Output(Node):
    """`output logits = ...`; `training output aux = ...` is computed only in training (an
    auxiliary classifier): it has modules and parameters, but no cost or size constraint at
    inference."""
    name: str
    value: Expr
    training: bool = False
    comments: Comments | None = _trivia()


@_node
class Assign(Node):
    """`y = expr` or `a, b = Block(x)` (several targets unpack a block's several returns).
    Names are assigned once; statements may appear in any order (they are sorted by dependency)."""
    targets: list[str]
    value: Expr
    comments: Comments | None = _trivia()
    # `unused f4 = f3 -> Stage(...)`: its modules are built (state_dict, parameters) but never run
    unused: bool = False


@_node
class BlockDef(Node):
    """A parametric block: `block Name(params)(inputs) { body; return ... }`."""
    name: str
    params: list[Param] = _list()
    inputs: list[str]
    body: list[Assign] = _list()
    returns: list[Expr]
    comments: Comments | None = _trivia()  # on the header line
    return_comments: Comments | None = _trivia()
    end_comments: list[str] = _trivia([])  # before its closing brace


@_node
class Import(Node):
    """`import "path/to/blocks.arch"`: makes that file's blocks available (path relative to
    the importing file)."""
    path: str
    comments: Comments | None = _trivia()


@_node
class Spec(Node):
    name: str | None = None
    returns: str | None = None  # "dict": forward returns a dict even with one output
    imports: list[Import] = _list()
    params: list[Param] = _list()
    inputs: list[Input] = _list()
    blocks: list[BlockDef] = _list()
    body: list[Assign] = _list()
    outputs: list[Output] = _list()
    comments: Comments | None = _trivia()  # on the `model` statement
    end_comments: list[str] = _trivia([])  # after the last statement


def _finish(cls: type) -> None:
    for sub in cls.__subclasses__():
        sub._fields = tuple(f.name for f in dataclasses.fields(sub))
        _finish(sub)


_finish(_Data)


TRIVIA = frozenset({"loc", "comments", "return_comments", "end_comments"})


# ----------------------------------------------------------------------------- traversal
# The one generic walker: every stage that visits an AST's nodes uses these, so a new node class
# is walked everywhere once it is declared.

def fields(node: _Data) -> tuple[str, ...]:
    """The names of a node's fields, in declaration order (trivia included)."""
    return type(node)._fields


def children(node: Any) -> Iterator[Node]:
    """The nodes directly under `node`, in field order; trivia (locations, comments) skipped."""
    if not isinstance(node, Node):
        return
    for name in type(node)._fields:
        if name in TRIVIA:
            continue
        value = getattr(node, name)
        if isinstance(value, list):
            for item in value:
                if isinstance(item, Node):
                    yield item
        elif isinstance(value, Node):
            yield value


def walk(node: Any) -> Iterator[Node]:
    """Every node under `node`, itself included, parents before children (iteratively: a
    10,000-deep expression needs no recursion)."""
    stack = [node]
    while stack:
        current = stack.pop()
        if not isinstance(current, Node):
            continue
        yield current
        stack.extend(reversed(list(children(current))))


def replace(node: Any, **changes: Any) -> Any:
    """A copy of a node with some fields replaced."""
    return dataclasses.replace(node, **changes)


def without_locs(node: Any) -> Any:
    """A plain-data view of an AST with every `loc` and comment removed: what "the same program"
    compares."""
    if isinstance(node, _Data):
        return {"_type": type(node).__name__,
                **{k: without_locs(getattr(node, k)) for k in type(node)._fields
                   if k not in TRIVIA}}
    if isinstance(node, list):
        return [without_locs(x) for x in node]
    return node
