"""The values of elaboration: what an expression of a spec evaluates to, and the evaluator's
limits and control-flow exceptions.

Values: int, float, bool, None, str (a quoted literal), `Word` (an unbound bare name: a symbolic
dimension or an enum word), `Expr` (a symbolic size), lists, `Tensor` (a node's output) and
`Partial` (an op or block with its attributes but no input yet: `conv2d(64, 3)`); `POISON` is
the value of anything computed from a failed statement. `Env` binds names to values, and
`Body` is what the statement layer (archc.ir.elaborate) knows of a body it runs. The
built-in functions themselves are declared in archc.language; `traced_builtin` applies one to
traced values (archc.provenance, code generation).
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Callable, Literal

from archc import ast as A
from archc import provenance as pv
from archc import symbolic as sy
from archc.language import BUILTINS
from archc.ops import REGISTRY
from archc.ops.base import SHOWN_CHARS, Op, Shape, Word, fmt_shape, shown  # noqa: F401 (shown: re-exported)


class TWord(Word, pv.Traced):
    """An op's name passed as a block parameter (`act = relu6`), traced (code generation)."""
    __hash__ = str.__hash__

    def plain(self) -> Word:
        return Word(str.__str__(self))

    def __str__(self) -> str:
        return str.__str__(self)

    def __eq__(self, other):
        self._decide()
        return str.__eq__(self, pv.plain(other))

    def __ne__(self, other):
        self._decide()
        return str.__ne__(self, pv.plain(other))


class _Poison:
    """The value of anything computed from a failed statement."""

    def __repr__(self) -> str:
        return "POISON"


POISON = _Poison()


# Block instances nested in one another are bounded by limit("ARCHC_MAX_BLOCK_DEPTH") (see
# archc.limits), evaluation time by limit("ARCHC_MAX_EVAL_SECONDS"), checked every this many
# evaluation steps (a few milliseconds of work: the clock is not read per step).
TIME_CHECK_STEPS = 4096
# Integers the evaluator computes (literals are limited the same way by the front ends): past any
# size or count, and within what Python turns into text (its 4,300-digit limit) in messages.
MAX_INT_DIGITS = 1000
MAX_INT_BITS = 3322  # 2 ** 3322 < 10 ** 1000


class Abort(Exception):
    """Stop evaluating the current statement; its error is already recorded."""


class OutOfTime(Exception):
    """Stop elaborating: the time limit is spent (its error is already recorded)."""


@dataclass(frozen=True, slots=True)
class Tensor:
    node: str
    shape: Shape | None  # None when poisoned


PartialKind = Literal["op", "block", "sequential"]


@dataclass
class Partial:
    """An op or a block given its attributes, waiting for its input tensors."""
    kind: PartialKind
    target: "Op | A.BlockDef | list[Partial]"  # by kind: the op, the block, the sequential's layers
    args: list[Any]
    kwargs: dict[str, Any]
    loc: A.Loc | None
    meta: dict[str, Any] = field(default_factory=dict)
    kw_locs: dict[str, A.Loc | None] = field(default_factory=dict)  # where each keyword is written
    # traced elaboration: the block parameter this layer came in through (a Python expression
    # of the block's names, `norm`), and how many of `args` and which `kwargs` it brought
    origin: Any = None
    origin_args: int = 0
    origin_kwargs: tuple[str, ...] = ()
    arg_locs: tuple = ()  # where each of `args` is written (for fixes that rewrite the call)

    def __str__(self) -> str:
        """As the spec would write it, roughly: `batchnorm2d(eps=0.001, momentum=0.01)`."""
        name = self.target.name if self.kind in ("op", "block") else self.kind
        args = [shown(a) for a in self.args] + [f"{k}={shown(v)}" for k, v in self.kwargs.items()]
        return f"{name}({', '.join(args)})"

    def reuse_key(self, frozen: Callable[[Any], Any]) -> tuple:
        """Its part of a block instance's key (archc.ir.instances): the layers it makes depend on
        what it is, its arguments, and where it is written (their locations)."""
        target = frozen(self.target) if self.kind == "sequential" else id(self.target)
        return (Partial, self.kind, target, frozen(self.args), frozen(sorted(self.kwargs.items())),
                frozen(sorted(self.meta.items())), self.loc, tuple(sorted(self.kw_locs.items())))



@dataclass(eq=False)
class Shared:
    """`shared(layer)`: one module that every application calls (weight sharing). The first
    application builds it (`owner`, its node or scope id); later ones are built as `owner@2`, …,
    checked to need the same weights, and marked as calls of the owner."""
    layer: Partial
    scope: tuple[str, ...]  # where it was made: every application must be there
    loc: A.Loc | None
    owner: str | None = None
    weights: dict | None = None  # relative layer id -> (op, parameter shapes, buffer shapes)
    uses: int = 0

    def __str__(self) -> str:
        return f"shared({self.layer})"


def traced_builtin(func: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
    """A built-in function on traced values: computed on the plain values, its result traced
    as the call (`max(1, c // 4)`); range() and len() decide structure."""
    builtin = BUILTINS[func]
    if func == "len":
        return pv.length(args[0]) if len(args) == 1 and not kwargs else builtin.function(*args, **kwargs)
    plain_args = [pv.plain(a) for a in args]
    plain_kwargs = {k: pv.plain(v) for k, v in kwargs.items()}
    result = builtin.function(*plain_args, **plain_kwargs)
    if func == "range":
        pv.decide(args)
        return result
    return pv.call(builtin.python, args, kwargs, result)


_UNBOUND = (False, None)  # Env.lookup of a name bound nowhere


class Env:
    """A lexical environment: name -> value, with the statement locations for messages."""

    __slots__ = ("parent", "values")

    def __init__(self, parent: "Env | None" = None):
        self.parent = parent
        self.values: dict[str, Any] = {}

    def lookup(self, name: str) -> tuple[bool, Any]:
        env: Env | None = self
        while env is not None:
            values = env.values
            if name in values:
                return True, values[name]
            env = env.parent
        return _UNBOUND

    def names(self) -> set[str]:
        out: set[str] = set()
        env: Env | None = self
        while env is not None:
            out |= set(env.values)
            env = env.parent
        return out

    def child(self, **values: Any) -> "Env":
        env = Env(self)
        env.values.update(values)
        return env


class Body:
    """What running one body's statements knows: the names each statement defines and reads,
    whether the text's order is a dependency order, and the layers each statement made."""

    # what Elaborator._declare finds, the same for every instance of a block (_run_body gives another's)
    DECLARED = ("defined", "defined_at", "uses", "hints", "read", "unread", "read_first", "kept", "idle",
                "in_text_order", "last_key", "used")

    def __init__(self, body: list[A.Assign], first_node: int, alternatives_start: int, own_scope: bool = False,
                 declared: dict[str, Any] | None = None):
        self.body, self.own_scope = body, own_scope
        self.first_node = first_node  # len(GraphBuilder.created) when the body began
        self.alternatives_start = alternatives_start  # len(GraphBuilder.alternatives) then
        self.badly_declared: int | None = None  # the last statement that reassigns or reads itself
        self.made: list[tuple[A.Assign, int, int]] = []  # each statement run: its layers' created indices
        self.skipped: set[str] = set()
        self.pruned = False  # the end of the body removed layers no result needs
        if declared is not None:  # (shared: never changed by their readers)
            self.__dict__.update(declared)
            return
        self.defined: dict[str, A.Assign] = {}  # name -> the statement that defines it (the first)
        self.defined_at: dict[str, int] = {}  # name -> that statement's index
        self.uses: list[set[str]] = []  # the names each statement reads
        self.hints: list[bool] = []  # whether each statement's module takes its name (one call makes it)
        self.read: dict[str, int] = {}  # name -> the first statement that reads it
        self.unread: dict[str, None] = {}  # names defined that no statement read (yet)
        self.read_first: dict[str, int] = {}  # the same, of the names read before they are defined
        self.kept: list[str] = []  # names kept though maybe never read: `_name`, `unused` statements
        self.idle: list[str] = []  # the names `unused` statements define
        self.in_text_order = True
        self.last_key: tuple[int, int] = (0, 0)
        self.used: set[str] | None = None  # the names the results read

    def declared_badly(self, k: int) -> None:
        self.badly_declared = k


class ShapeContext:
    """What shape rules may ask: facts about symbolic sizes, recorded as assumptions."""

    def __init__(self, assumptions: sy.Assumptions):
        self.assumptions = assumptions

    def require_equal(self, a, b) -> bool:
        return self.assumptions.require_equal(a, b)

    def require_positive(self, d) -> bool:
        return self.assumptions.require_positive(d)



def python_name(name: str) -> Any:
    """A Python name expression (archc.provenance)."""
    import ast as py_ast
    return py_ast.Name(name, py_ast.Load())


def traced_layer(value: Any, expr: Any, roots: frozenset, forward: bool) -> Any:
    """A block parameter holding an op (`act = relu6`, `norm = batchnorm2d(eps=0.001)`), traced:
    layers it makes record that they come through it (archc.provenance, code generation)."""
    if isinstance(value, Word) and not isinstance(value, TWord) and REGISTRY.get(str(value)) is not None:
        word = TWord.__new__(TWord, str(value))
        word.expr, word.roots, word.forward, word.uid = expr, roots, forward, 0
        return word
    if isinstance(value, Partial) and value.kind == "op":
        return dataclasses.replace(value, origin=expr, origin_args=len(value.args),
                                   origin_kwargs=tuple(value.kwargs))
    return value



def is_text(value: Any) -> bool:
    return isinstance(value, str) and not isinstance(value, Word)


def describe(value: Any) -> str:
    if isinstance(value, Tensor):
        return f"a tensor {fmt_shape(value.shape) if value.shape else ''}".rstrip()
    if isinstance(value, Partial):
        name = value.target.name if value.kind in ("op", "block") else value.kind
        return f"the layer {name}(...) without an input"
    if isinstance(value, Shared):
        return f"the shared layer {value.layer}"
    if isinstance(value, Word):
        return f"the unknown name '{value}'"
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "none"
    if isinstance(value, str):
        return shown(value)
    if isinstance(value, sy.Expr):
        return f"the symbolic size {sy.to_str(value)}"
    if isinstance(value, tuple):
        return f"{len(value)} tensors"
    return shown(value)

