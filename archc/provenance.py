"""Provenance: numbers and strings that remember the expression they were computed from.

Code generation elaborates a spec once more with tracing on (`elaborate(..., trace=True)`). Then
every number that comes from a model or block parameter, or from the size of a block's input,
is a `Traced` value: it behaves exactly as the plain value (an `int`, `float` or `str` subclass,
so every rule of the elaborator and the ops runs unchanged), and carries the Python expression
that computes it from the enclosing class's constructor arguments (`out * r`, `in_channels`,
`_make_divisible(c * width)`). A layer built from such values records them in its attributes, so
the generator writes `nn.Conv2d(in_channels, out * r, kernel_size=1)` from where each number
came from, never from which numbers happen to be equal.

Expressions are Python `ast` nodes over names of the enclosing class: its parameters, the
channel counts of its inputs (`in_channels`), and, for sizes only known at run time, the
forward inputs themselves (`x.shape[2]`, marked `forward`).

A value also carries `roots`: the model parameters it depends on, through every block. When
the elaborator *decides* something from a traced value (a condition, a repeat count, a list
index, a name), those parameters shape the network's structure: `decisions()` collects them,
and the generator keeps them out of the model's constructor (a changed value would need a
different structure, which only recompiling the spec gives).
"""
from __future__ import annotations

import ast
import itertools
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Iterator

# model parameters that some decision depended on (None: not recording)
_DECIDED: ContextVar[set[str] | None] = ContextVar("archc_decided", default=None)
_SUPPRESSED: ContextVar[bool] = ContextVar("archc_decisions_suppressed", default=False)

_ids = itertools.count()


class Traced:
    """Mixin: `expr` (a Python ast expression), `roots` (model parameters it depends on),
    `forward` (the expression reads a forward input: known only when the module runs)."""
    expr: ast.expr
    roots: frozenset[str]
    forward: bool

    def _decide(self) -> None:
        decided = _DECIDED.get()
        if decided is not None and not _SUPPRESSED.get():
            decided.update(self.roots)

    def plain(self) -> Any:
        raise NotImplementedError


def _init(obj: Any, expr: ast.expr, roots: frozenset[str], forward: bool) -> Any:
    obj.expr = expr
    obj.roots = roots
    obj.forward = forward
    obj.uid = next(_ids)
    return obj


def all_same(values: Any) -> bool:
    """Whether every value is the same, traces included (`(k, k)` is, `(k, j)` is not even when
    k == j here: one `kernel_size=k` would lose j)."""
    values = list(values)
    first = values[0]
    return all(v == first and _same_trace(v, first) for v in values[1:])


def _same_trace(a: Any, b: Any) -> bool:
    if isinstance(a, Traced) or isinstance(b, Traced):
        return (isinstance(a, Traced) and isinstance(b, Traced)
                and key(a.expr) == key(b.expr))
    return True


def as_float(value: Any) -> float:
    """float(value), keeping the trace of a traced number."""
    if isinstance(value, TFloat):
        return value
    if isinstance(value, Traced):
        return traced(float(value.plain()), value.expr, value.roots, value.forward)
    return float(value)


def same_trace(source: Any, items: tuple) -> tuple:
    """`items` (a list's values as a tuple), traced as the list `source` when it is traced."""
    if isinstance(source, TList):
        return _init(TTuple(items), source.expr, source.roots, source.forward)
    return items


def repacked(values: tuple) -> tuple:
    """`(padding[0], padding[1])` as the traced tuple `padding`: items that are a traced list's
    items in order (an op rebuilt the list it was given)."""
    if not values or not all(isinstance(v, Traced) and isinstance(v.expr, ast.Subscript)
                             and isinstance(v.expr.slice, ast.Constant) and v.expr.slice.value == k
                             for k, v in enumerate(values)):
        return values
    base = values[0].expr.value
    if not all(key(v.expr.value) == key(base) for v in values[1:]):
        return values
    return _init(TTuple(values), base, roots_of(*values), forward_of(*values))


def is_traced(value: Any) -> bool:
    return isinstance(value, Traced)


def expr_of(value: Any) -> ast.expr:
    """The expression of a value: its trace, or a literal."""
    if isinstance(value, Traced):
        return value.expr
    if isinstance(value, (list, tuple)):
        items = [expr_of(v) for v in value]
        return ast.List(items, ast.Load()) if isinstance(value, list) else ast.Tuple(items, ast.Load())
    if isinstance(value, (bool, int, float, str)) or value is None:
        return ast.Constant(_plain_scalar(value))
    raise TypeError(f"no expression for {type(value).__name__}")


def _plain_scalar(value: Any) -> Any:
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    return str(value)


def roots_of(*values: Any) -> frozenset[str]:
    out: frozenset[str] = frozenset()
    for v in values:
        if isinstance(v, Traced):
            out |= v.roots
        elif isinstance(v, (list, tuple)):
            out |= roots_of(*v)
    return out


def forward_of(*values: Any) -> bool:
    return any((isinstance(v, Traced) and v.forward) or (isinstance(v, (list, tuple)) and forward_of(*v))
               for v in values)


def any_traced(values: Any) -> bool:
    return any(isinstance(v, Traced) or (isinstance(v, (list, tuple)) and any_traced(v)) for v in values)


def traced(value: Any, expr: ast.expr, roots: frozenset[str] = frozenset(), forward: bool = False) -> Any:
    """`value` with the given provenance (ints, floats and strings; anything else as it is)."""
    if value is None:
        return value
    if isinstance(value, bool):
        return _init(TBool.__new__(TBool, int(value)), expr, roots, forward)
    if isinstance(value, int):
        return _init(TInt.__new__(TInt, int(value)), expr, roots, forward)
    if isinstance(value, float):
        return _init(TFloat.__new__(TFloat, float(value)), expr, roots, forward)
    if isinstance(value, str) and type(value) in (str, TStr):
        return _init(TStr.__new__(TStr, str(value)), expr, roots, forward)
    return value


def deep(value: Any, expr: ast.expr, roots: frozenset[str] = frozenset(), forward: bool = False,
         other: Any = None) -> Any:
    """A value and, for a list, each item (`row[2]`), traced; `other(value, expr, roots,
    forward)` traces what this module does not know (the elaborator's layers)."""
    if isinstance(value, list):
        items = [deep(v, ast.Subscript(expr, ast.Constant(k), ast.Load()), roots, forward, other)
                 for k, v in enumerate(value)]
        return _init(TList(items), expr, roots, forward)
    if isinstance(value, tuple):
        return tuple(deep(v, ast.Subscript(expr, ast.Constant(k), ast.Load()), roots, forward, other)
                     for k, v in enumerate(value))
    if other is not None and not isinstance(value, (bool, int, float)) and type(value) not in (str, TStr):
        return other(value, expr, roots, forward)
    return traced(value, expr, roots, forward)


# values that are never traced, nor hold a traced value: exactly these types (traced values, and
# archc.ir.numbers' recorded numbers, are instances of subclasses), asked first as the common case
_UNTRACED = frozenset({int, float, bool, str, type(None)})


def plain(value: Any) -> Any:
    """The value without its trace (lists too)."""
    if type(value) in _UNTRACED:
        return value
    if isinstance(value, Traced):
        return value.plain()
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, tuple):
        return tuple(plain(v) for v in value)
    return value


def call(func: str, args: list[Any], kwargs: dict[str, Any], result: Any) -> Any:
    """The result of a built-in function, traced when an argument is: `func(args...)`."""
    if not any_traced([*args, *kwargs.values()]):
        return result
    node = ast.Call(_func_expr(func), [expr_of(a) for a in args],
                    [ast.keyword(k, expr_of(v)) for k, v in kwargs.items()])
    values = [*args, *kwargs.values()]
    if isinstance(result, list):
        return deep(result, node, roots_of(*values), forward_of(*values))
    return traced(result, node, roots_of(*values), forward_of(*values))


def _func_expr(func: str) -> ast.expr:
    if "." in func:
        base, attr = func.rsplit(".", 1)
        return ast.Attribute(_func_expr(base), attr, ast.Load())
    return ast.Name(func, ast.Load())


def decide(value: Any) -> None:
    """The elaborator decided something from `value` (a count, an index, a name)."""
    if type(value) in _UNTRACED:
        return
    if isinstance(value, TList):
        value._decide()
    elif isinstance(value, Traced):
        value._decide()
    elif isinstance(value, (list, tuple)):
        for v in value:
            decide(v)


def decide_length(items: Any) -> None:
    """The elaborator iterates over `items`: their number decides structure."""
    if isinstance(items, TList):
        items._decide()


@contextmanager
def recording() -> Iterator[set[str]]:
    """Collect the model parameters that decisions depend on."""
    decided: set[str] = set()
    token = _DECIDED.set(decided)
    try:
        yield decided
    finally:
        _DECIDED.reset(token)


class checks_only:  # noqa: N801 - used as `with checks_only():`, around every op call (cheap)
    """Comparisons in here are checks (an op's shape rule, its lowering), not decisions."""

    def __enter__(self) -> None:
        self.token = _SUPPRESSED.set(True)

    def __exit__(self, *exc: Any) -> None:
        _SUPPRESSED.reset(self.token)


def _binop(op: ast.operator, a: Any, b: Any, result: Any) -> Any:
    if result is NotImplemented:
        return result
    node = _simplified(ast.BinOp(expr_of(a), op, expr_of(b)),
                       isinstance(result, int) and not isinstance(result, bool))
    return traced(result, node, roots_of(a, b), forward_of(a, b))


def key(node: ast.expr) -> str:
    """A node's structure as text (`ast.dump`), computed once per node: expressions share their
    operands' nodes, so a chain of sums would dump its prefix again at every step."""
    cached = getattr(node, "_archc_key", None)
    if cached is None or cached[0] != id(node):  # a copy carries its original's: not its own
        cached = (id(node), _structure(node))
        node._archc_key = cached
    return cached[1]


def _structure(node: Any) -> str:
    """What `ast.dump` tells of a node (its class, its fields in order, recursively; leaves by
    repr), for comparing: ast.dump's own recursive inner function is a reference cycle per call."""
    if isinstance(node, ast.AST):
        return f"{type(node).__name__}({', '.join([_structure(getattr(node, f, None)) for f in node._fields])})"
    if isinstance(node, list):
        return f"[{', '.join([_structure(item) for item in node])}]"
    return repr(node)


def _is_const(node: ast.expr, value: Any) -> bool:
    return (isinstance(node, ast.Constant) and not isinstance(node.value, bool)
            and type(node.value) is type(value) and node.value == value)


def _linear_terms(node: ast.expr, sign: int, terms: list, constant: list) -> None:
    """The terms of a sum (`a + b - c`) with their signs; integer constants summed apart."""
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Sub)):
        _linear_terms(node.left, sign, terms, constant)
        _linear_terms(node.right, sign if isinstance(node.op, ast.Add) else -sign, terms, constant)
    elif isinstance(node, ast.Constant) and type(node.value) is int:
        constant[0] += sign * node.value
    elif (isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult) and isinstance(node.left, ast.Constant)
          and type(node.left.value) is int):
        _linear_terms(node.right, sign * node.left.value, terms, constant)
    elif (isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult) and isinstance(node.right, ast.Constant)
          and type(node.right.value) is int):
        _linear_terms(node.left, sign * node.right.value, terms, constant)
    else:
        terms.append((sign, node))


def _collected(node: ast.BinOp) -> ast.expr:
    """A sum of integer terms with like terms collected: `c // 2 + c - c // 2` -> `c`,
    `a // 2 + a // 2` -> `2 * (a // 2)`."""
    terms: list = []
    constant = [0]
    _linear_terms(node, 1, terms, constant)
    coefficient: dict[str, int] = {}
    first: dict[str, ast.expr] = {}
    for sign, term in terms:
        key_ = key(term)
        coefficient[key_] = coefficient.get(key_, 0) + sign
        first.setdefault(key_, term)
    out: ast.expr | None = None
    for term_key, c in coefficient.items():
        if c == 0:
            continue
        term = first[term_key] if abs(c) == 1 else ast.BinOp(ast.Constant(abs(c)), ast.Mult(), first[term_key])
        if out is None:
            out = term if c > 0 else ast.UnaryOp(ast.USub(), term)
        else:
            out = ast.BinOp(out, ast.Add() if c > 0 else ast.Sub(), term)
    if out is None:
        return ast.Constant(constant[0])
    if constant[0]:
        out = ast.BinOp(out, ast.Add() if constant[0] > 0 else ast.Sub(), ast.Constant(abs(constant[0])))
    return out


def _simplified(node: ast.BinOp, integer: bool) -> ast.expr:
    """x + 0, 0 + x, x - 0, x * 1, 1 * x, x // 1 -> x (ints only: the result's type is kept);
    like terms of an integer sum collected (`integer`: the sum's value is an int, so every term
    is; collecting float terms could change rounding)."""
    if isinstance(node.op, (ast.Add, ast.Sub)) and integer:
        node = _collected(node)
        if not isinstance(node, ast.BinOp):
            return node
    left, right, op = node.left, node.right, node.op
    if isinstance(op, ast.Add) and _is_const(left, 0):
        return right
    if isinstance(op, (ast.Add, ast.Sub)) and _is_const(right, 0):
        return left
    if isinstance(op, ast.Mult) and _is_const(left, 1):
        return right
    if isinstance(op, (ast.Mult, ast.FloorDiv)) and _is_const(right, 1):
        return left
    return node


def _numeric_operand(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _arith(name: str, op: type[ast.operator], reverse: bool = False):
    base_name = f"__{name}__"

    def method(self, other):
        if not _numeric_operand(other):
            return NotImplemented
        result = getattr(self._base, base_name)(self, other)
        if result is NotImplemented:
            return result
        return _binop(op(), other, self, result) if reverse else _binop(op(), self, other, result)
    return method


def _compare(name: str):
    base_name = f"__{name}__"

    def method(self, other):
        result = getattr(self._base, base_name)(self, plain(other) if isinstance(other, Traced) else other)
        if result is not NotImplemented and (_numeric_operand(other) or isinstance(other, str)):
            self._decide()
            if isinstance(other, Traced):
                other._decide()
        return result
    return method


class _Number(Traced):
    _base: type

    __add__ = _arith("add", ast.Add)
    __radd__ = _arith("radd", ast.Add, True)
    __sub__ = _arith("sub", ast.Sub)
    __rsub__ = _arith("rsub", ast.Sub, True)
    __mul__ = _arith("mul", ast.Mult)
    __rmul__ = _arith("rmul", ast.Mult, True)
    __truediv__ = _arith("truediv", ast.Div)
    __rtruediv__ = _arith("rtruediv", ast.Div, True)
    __floordiv__ = _arith("floordiv", ast.FloorDiv)
    __rfloordiv__ = _arith("rfloordiv", ast.FloorDiv, True)
    __mod__ = _arith("mod", ast.Mod)
    __rmod__ = _arith("rmod", ast.Mod, True)
    __pow__ = _arith("pow", ast.Pow)
    __rpow__ = _arith("rpow", ast.Pow, True)
    __eq__ = _compare("eq")
    __ne__ = _compare("ne")
    __lt__ = _compare("lt")
    __le__ = _compare("le")
    __gt__ = _compare("gt")
    __ge__ = _compare("ge")

    def __neg__(self):
        return traced(self._base.__neg__(self), ast.UnaryOp(ast.USub(), self.expr), self.roots, self.forward)

    def __pos__(self):
        return self

    def __abs__(self):
        return call("abs", [self], {}, self._base.__abs__(self))

    def __bool__(self):
        self._decide()
        return self._base.__bool__(self)

    def __format__(self, spec: str) -> str:
        source = source_of(self)
        return source if source is not None and not spec else self._base.__format__(self, spec)

    def __repr__(self) -> str:
        return self._base.__repr__(self)

    def __str__(self) -> str:
        return source_of(self) or self._base.__repr__(self)


class TInt(_Number, int):
    _base = int
    __hash__ = int.__hash__

    def plain(self) -> int:
        return int.__int__(self)

    def __index__(self):
        self._decide()
        return int.__int__(self)

    def __int__(self):
        return self.plain()


class TFloat(_Number, float):
    _base = float
    __hash__ = float.__hash__

    def plain(self) -> float:
        return float.__float__(self)

    def __float__(self):
        return self.plain()


class TStr(Traced, str):
    __hash__ = str.__hash__

    def plain(self) -> str:
        return str.__str__(self)

    def __str__(self) -> str:
        return str.__str__(self)

    def __add__(self, other):
        if not isinstance(other, str):
            return NotImplemented
        return _binop(ast.Add(), self, other, str.__add__(self, other))

    def __radd__(self, other):
        if not isinstance(other, str):
            return NotImplemented
        return _binop(ast.Add(), other, self, str.__add__(other, self))

    def __eq__(self, other):
        self._decide()
        return str.__eq__(self, plain(other) if isinstance(other, Traced) else other)

    def __ne__(self, other):
        self._decide()
        return str.__ne__(self, plain(other) if isinstance(other, Traced) else other)


class TBool(Traced, int):
    """A traced true/false: an int (bool cannot be subclassed) that reads as True or False; the
    elaborator gives ops and options the plain bool."""
    __hash__ = int.__hash__

    def plain(self) -> bool:
        return int.__int__(self) != 0

    def __repr__(self) -> str:
        return repr(self.plain())

    def __str__(self) -> str:
        return source_of(self) or repr(self.plain())

    def __format__(self, spec: str) -> str:
        return source_of(self) or format(self.plain(), spec)

    def __bool__(self) -> bool:
        self._decide()
        return self.plain()

    def __eq__(self, other):
        self._decide()
        return self.plain() == plain(other)

    def __ne__(self, other):
        self._decide()
        return self.plain() != plain(other)


class TTuple(Traced, tuple):
    """A list parameter bound as a tuple attribute (`kernel = [1, 7]`): its items traced, and
    the whole (`kernel_size=kernel`)."""

    def plain(self) -> tuple:
        return tuple(plain(v) for v in self)


class TList(Traced, list):
    """A list parameter: its items are traced (`setting[2]`), and so is its length."""
    __hash__ = None  # type: ignore[assignment]

    def plain(self) -> list:
        return [plain(v) for v in self]

    def __len__(self) -> int:
        return list.__len__(self)


def length(value: Any) -> Any:
    """len() of a list, traced when the list is."""
    n = len(value)
    if isinstance(value, TList):
        return traced(n, ast.Call(ast.Name("len", ast.Load()), [value.expr], []), value.roots, value.forward)
    return n


def substitute(value: Any, names: dict[str, Any], shapes: dict[str, Any] | None = None) -> Any:
    """`value` with the names of its expression replaced by other values' expressions (a block's
    results as its caller sees them: its parameters by the caller's arguments, `x.shape[k]` by
    the caller's sizes); a name without a traced replacement makes the value plain."""
    if not isinstance(value, Traced) or isinstance(value, TList):
        return value
    swap = _Substitute(names, shapes or {})
    expr = fold_constants(swap.visit(_copy(value.expr)))
    if swap.missing:
        return value.plain()
    return traced(value.plain(), expr, roots_of(*swap.used) | value.roots, forward_of(*swap.used))


# (the transformers below are classes of their own, made once: a class made at every call was
# slow, and a reference cycle left to the collector each time)
class _Substitute(ast.NodeTransformer):
    """`substitute`'s rewrite: names and `x.shape[k]` replaced by their values' expressions;
    `missing`: one had no expression."""

    def __init__(self, names: dict[str, Any], shapes: dict[str, Any]) -> None:
        self.names, self.shapes = names, shapes
        self.missing = False
        self.used: list[Any] = []

    def _replacement(self, v: Any) -> ast.expr | None:
        if isinstance(v, Traced) or (isinstance(v, (int, float, str)) and not isinstance(v, bool)):
            self.used.append(v)
            return expr_of(v)
        self.missing = True
        return None

    def visit_Subscript(self, n: ast.Subscript) -> ast.AST:
        v, k = n.value, n.slice
        if (isinstance(v, ast.Attribute) and v.attr == "shape" and isinstance(v.value, ast.Name)
                and isinstance(k, ast.Constant) and v.value.id in self.shapes):
            dims = self.shapes[v.value.id]
            return self._replacement(dims[k.value]) if k.value < len(dims) else n
        return self.generic_visit(n)

    def visit_Name(self, n: ast.Name) -> ast.AST:
        if n.id in CALLABLE_NAMES:
            return n
        if n.id in self.names:
            return self._replacement(self.names[n.id]) or n
        self.missing = True
        return n


class NameSwap(ast.NodeTransformer):
    """Each name replaced by the node `replace(name)` gives (the name itself to keep it)."""

    def __init__(self, replace: Any) -> None:
        self.replace = replace

    def visit_Name(self, n: ast.Name) -> ast.AST:
        return self.replace(n)


_FOLDABLE_CALLS = {"min": min, "max": max, "abs": abs, "int": int, "float": float, "round": round}
_FOLDABLE_OPS = {ast.Add: lambda a, b: a + b, ast.Sub: lambda a, b: a - b, ast.Mult: lambda a, b: a * b,
                 ast.Div: lambda a, b: a / b, ast.FloorDiv: lambda a, b: a // b, ast.Mod: lambda a, b: a % b}


_FOLDABLE_COMPARES = {ast.Eq: lambda a, b: a == b, ast.NotEq: lambda a, b: a != b, ast.Lt: lambda a, b: a < b,
                      ast.LtE: lambda a, b: a <= b, ast.Gt: lambda a, b: a > b, ast.GtE: lambda a, b: a >= b}


def fold_constants(node: ast.expr) -> ast.expr:
    """Arithmetic on literals computed (`8 * 2 // 2` -> 8): what a caller passes as literals."""
    return _Fold().visit(node)


class _Fold(ast.NodeTransformer):
    """`fold_constants`' rewrite."""

    def visit_BinOp(self, n: ast.BinOp) -> ast.AST:
        self.generic_visit(n)
        f = _FOLDABLE_OPS.get(type(n.op))
        if f is not None and _number_const(n.left) and _number_const(n.right):
            try:
                return ast.Constant(f(n.left.value, n.right.value))
            except ArithmeticError:
                return n
        return _simplified(n, integer=False)  # x + 0 and the like; terms were collected already

    def visit_UnaryOp(self, n: ast.UnaryOp) -> ast.AST:
        self.generic_visit(n)
        if isinstance(n.op, ast.USub) and _number_const(n.operand):
            return ast.Constant(-n.operand.value)
        return n

    def visit_Compare(self, n: ast.Compare) -> ast.AST:
        self.generic_visit(n)
        compare = _FOLDABLE_COMPARES.get(type(n.ops[0])) if len(n.ops) == 1 else None
        if compare is not None and _number_const(n.left) and _number_const(n.comparators[0]):
            return ast.Constant(compare(n.left.value, n.comparators[0].value))
        return n

    def visit_IfExp(self, n: ast.IfExp) -> ast.AST:
        self.generic_visit(n)
        if isinstance(n.test, ast.Constant) and isinstance(n.test.value, bool):
            return n.body if n.test.value else n.orelse
        if key(n.body) == key(n.orelse):
            return n.body
        return n

    def visit_Call(self, n: ast.Call) -> ast.AST:
        self.generic_visit(n)
        f = _FOLDABLE_CALLS.get(n.func.id) if isinstance(n.func, ast.Name) else None
        if f is not None and not n.keywords and all(_number_const(a) for a in n.args):
            try:
                return ast.Constant(f(*(a.value for a in n.args)))
            except (ArithmeticError, ValueError, TypeError):
                return n
        return n


def _number_const(node: ast.expr) -> bool:
    return (isinstance(node, ast.Constant) and isinstance(node.value, (int, float))
            and not isinstance(node.value, bool))


def with_constant(value: Any, name: str, constant: int) -> Any:
    """`value` with the name `name` in its expression replaced by the number `constant` (a loop
    variable, where its copies are written out one by one)."""
    if not isinstance(value, Traced) or name not in {
            n.id for n in ast.walk(value.expr) if isinstance(n, ast.Name)}:
        return value

    expr = fold_constants(NameSwap(lambda n: ast.Constant(constant) if n.id == name else n).visit(_copy(value.expr)))
    if isinstance(value, TList):  # its items are traced again by whoever reads them
        return _init(TList(list(value)), expr, value.roots, value.forward)
    if isinstance(value, TTuple):
        return _init(TTuple(tuple(value)), expr, value.roots, value.forward)
    return traced(value.plain(), expr, value.roots, value.forward)


def _copy(node: ast.expr) -> ast.expr:
    return ast.parse(ast.unparse(node), mode="eval").body


# names an expression may call without them being arguments
CALLABLE_NAMES = frozenset({"min", "max", "abs", "int", "float", "round", "len", "sum", "str", "range",
                            "math", "_make_divisible"})


# ----------------------------------------------------------------------------- in generated text
# An op's lowering prints its attribute values with `archc.ops.base.py`; while the generator
# lowers a traced graph, a traced value prints as a placeholder name, which the generator then
# replaces with the value's expression (in __init__) or its self.… form (in forward).
_PLACEHOLDERS: ContextVar[dict[str, Any] | None] = ContextVar("archc_placeholders", default=None)
PLACEHOLDER_PREFIX = "_archc_v"


@contextmanager
def placeholders() -> Iterator[dict[str, Any]]:
    table: dict[str, Any] = {}
    token = _PLACEHOLDERS.set(table)
    try:
        yield table
    finally:
        _PLACEHOLDERS.reset(token)


def source_of(value: Any) -> str | None:
    """The placeholder a traced value prints as, inside `placeholders()`; None otherwise."""
    table = _PLACEHOLDERS.get()
    if table is None or not isinstance(value, Traced) or isinstance(value, TList):
        return None
    if isinstance(value, TTuple) and value.forward:
        return None
    name = f"{PLACEHOLDER_PREFIX}{value.uid}_"
    table[name] = value
    return name
