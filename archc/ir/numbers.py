"""Recorded numbers (archc.ir.patterns): ints and floats that behave exactly as their plain values
and carry a function computing them from a block instance's numbers; what is decided from one is
logged as a guard (the function and the outcome) in the recording in progress."""
from __future__ import annotations

import dataclasses
import math
import operator
from contextvars import ContextVar
from typing import Any, Callable

from archc import provenance as pv
from archc.ir.values import MAX_INT_BITS, Partial


class Numbers:
    """An instance's numbers, as a pattern's functions read them: its parameter values, its
    inputs' shapes, the shapes of the layers instantiated so far (by suffix), and the scope
    arguments of the nested instances instantiated so far (by their suffix prefix)."""
    __slots__ = ("params", "inputs", "layers", "nested")

    def __init__(self, params: dict[str, Any], inputs: list[tuple], layers: dict[str, tuple]):
        self.params, self.inputs, self.layers = params, inputs, layers
        self.nested: dict[str, list[dict[str, Any]]] = {}


Fn = Callable[[Numbers], Any]

class Log:
    """What a recording logs: guards `(fn, outcome)`, and what the recorder adds in order."""
    __slots__ = ("events",)

    def __init__(self) -> None:
        self.events: list[Any] = []


# the log of the recording in progress: a context variable, so that elaborations on other threads
# (archc.deep runs each in a context of its own) never log into it
_RECORDING: ContextVar[Log | None] = ContextVar("archc_recording", default=None)


def recording(log: Log | None) -> Log | None:
    """Make `log` the recording in progress; the one it replaces."""
    previous = _RECORDING.get()
    _RECORDING.set(log)
    return previous


def _log(fn: Fn, outcome: Any) -> None:
    log = _RECORDING.get()
    if log is not None:
        log.events.append((fn, outcome))


def exact(value: Any) -> tuple:
    """What must be equal for a number to be the same one: its type and value (3 and 3.0 are not;
    a float by its text: 0.0 and -0.0 are not)."""
    return (type(value), repr(value) if type(value) is float else value)


def _same(value: "Num") -> Any:
    """The number itself, decided on: a guard that it is the same."""
    fn = value.fn
    _log(lambda n: exact(fn(n)), exact(value.p))
    return value.p


def _fn_of(value: Any) -> Fn:
    if isinstance(value, Num):
        return value.fn
    return lambda n, v=value: v


def _raw(value: Any) -> Any:
    return value.p if isinstance(value, Num) else value


class Refused(ArithmeticError):
    """A number computed for another instance that its evaluation would not have given as it was
    recorded (another type, past the evaluator's limits): that instance is evaluated instead."""


def _checked(fn: Fn, kind: type) -> Fn:
    """`fn` giving a number of the recorded type within the evaluator's limits, or raising Refused
    (a float operator accepting an int, a power that is complex, a product past 1,000 digits)."""
    if kind is int:
        def checked(n: Numbers) -> Any:
            value = fn(n)
            if type(value) is not int or value.bit_length() > MAX_INT_BITS:
                raise Refused()
            return value
        return checked

    def checked_float(n: Numbers) -> Any:
        value = fn(n)
        if type(value) is not float or math.isinf(value):
            raise Refused()
        return value
    return checked_float


def num(result: Any, fn: Fn) -> Any:
    """`result` (computed from recorded numbers) as a Num computed by `fn` for other numbers."""
    kind = type(result)
    if kind is int:
        return NumInt(result, _checked(fn, int))
    if kind is float:
        return NumFloat(result, _checked(fn, float))
    return result


def constant(value: Any) -> Any:
    """A plain int or float as a Num that is the same for every instance: the operand of a plain
    float's operator (`1.5 * a`), whose own method would take an int Num as an int."""
    return num(value, lambda n: value)


def _power(a: Any, b: Any) -> Any:
    """a ** b, refused (as the evaluator refuses it, before computing) past 1,000 digits."""
    if isinstance(a, int) and isinstance(b, int) and b > 0 and abs(a) > 1 and \
            (abs(a).bit_length() - 1) * b > MAX_INT_BITS:
        raise Refused()
    return a ** b


def _arith(op: Callable[[Any, Any], Any], reflected: bool = False) -> Callable[[Any, Any], Any]:
    def method(self: "Num", other: Any) -> Any:
        if isinstance(other, bool) or not isinstance(other, (int, float)):
            return NotImplemented
        a, b = (self.fn, _fn_of(other)) if not reflected else (_fn_of(other), self.fn)
        result = op(self.p, _raw(other)) if not reflected else op(_raw(other), self.p)
        return num(result, lambda n: op(a(n), b(n)))
    return method


def _compare(op: Callable[[Any, Any], bool]) -> Callable[[Any, Any], Any]:
    def method(self: "Num", other: Any) -> Any:
        if not isinstance(other, (int, float)):
            return NotImplemented  # (a string or a word: unequal whatever the number)
        a, b = self.fn, _fn_of(other)
        outcome = op(self.p, _raw(other))
        _log(lambda n: op(a(n), b(n)), outcome)
        return outcome
    return method


def _unary(op: Callable[..., Any]) -> Callable[..., Any]:
    def method(self: "Num", *args: Any) -> Any:
        args = tuple(_same(a) if isinstance(a, Num) else a for a in args)  # round(x, digits): they decide
        a = self.fn
        return num(op(self.p, *args), lambda n: op(a(n), *args))
    return method


class Num(pv.Traced):
    """A recorded number: `p`, the plain value; `fn`, how an instance's numbers give it."""
    p: Any
    fn: Fn

    __add__ = _arith(operator.add)
    __radd__ = _arith(operator.add, True)
    __sub__ = _arith(operator.sub)
    __rsub__ = _arith(operator.sub, True)
    __mul__ = _arith(operator.mul)
    __rmul__ = _arith(operator.mul, True)
    __truediv__ = _arith(operator.truediv)
    __rtruediv__ = _arith(operator.truediv, True)
    __floordiv__ = _arith(operator.floordiv)
    __rfloordiv__ = _arith(operator.floordiv, True)
    __mod__ = _arith(operator.mod)
    __rmod__ = _arith(operator.mod, True)
    __pow__ = _arith(_power)
    __rpow__ = _arith(_power, True)
    __eq__ = _compare(operator.eq)
    __ne__ = _compare(operator.ne)
    __lt__ = _compare(operator.lt)
    __le__ = _compare(operator.le)
    __gt__ = _compare(operator.gt)
    __ge__ = _compare(operator.ge)
    __neg__ = _unary(operator.neg)
    __abs__ = _unary(abs)
    __round__ = _unary(round)
    __floor__ = _unary(math.floor)
    __ceil__ = _unary(math.ceil)
    __trunc__ = _unary(math.trunc)

    def __pos__(self) -> "Num":
        return self

    def __bool__(self) -> bool:
        a = self.fn
        outcome = bool(self.p)
        _log(lambda n: bool(a(n)), outcome)
        return outcome

    # what turns the number into something else decides on the number itself
    def __hash__(self) -> int:
        return hash(_same(self))

    def __int__(self) -> int:
        return int(_same(self))

    def __float__(self) -> float:
        return float(_same(self))

    def __index__(self) -> int:
        return operator.index(_same(self))

    def __str__(self) -> str:
        return str(_same(self))

    def __repr__(self) -> str:
        return repr(_same(self))

    def __format__(self, spec: str) -> str:
        return format(_same(self), spec)

    def plain(self) -> Any:
        return _same(self)

    def _decide(self) -> None:  # archc.provenance.decide: a count, an index, a name
        _same(self)


class NumInt(Num, int):
    def __new__(cls, value: int, fn: Fn) -> "NumInt":
        obj = int.__new__(cls, value)
        obj.p, obj.fn = value, fn
        return obj


class NumFloat(Num, float):
    def __new__(cls, value: float, fn: Fn) -> "NumFloat":
        obj = float.__new__(cls, value)
        obj.p, obj.fn = value, fn
        return obj


_PLAIN = frozenset({int, float, bool, str, type(None)})  # (what holds no Num, told by its type)
_RECORDED = frozenset({NumInt, NumFloat})
_NUMBERS = _PLAIN | _RECORDED  # (what is no layer, told by its type)


def strip(value: Any) -> Any:
    """`value` with plain numbers, deciding nothing (for what is recomputed from its record); the
    value itself when it holds none."""
    kind = type(value)
    if kind in _PLAIN:
        return value
    if kind is NumInt or kind is NumFloat:
        return value.p
    if kind is list or kind is tuple:
        types = set(map(type, value))
        if _PLAIN.issuperset(types):  # (most lists: told without a walk)
            return value
        if _NUMBERS.issuperset(types):  # (numbers only, some recorded: no walk either)
            items = [v.p if type(v) in _RECORDED else v for v in value]
            return items if kind is list else tuple(items)
        items = [strip(v) for v in value]
        if all(map(operator.is_, items, value)):
            return value
        return items if kind is list else tuple(items)
    if kind is dict:
        types = set(map(type, value.values()))
        if _PLAIN.issuperset(types):  # (most keyword arguments: told without a walk)
            return value
        if _NUMBERS.issuperset(types):  # (numbers only, some recorded: no walk either)
            return {k: v.p if type(v) in _RECORDED else v for k, v in value.items()}
        items = {k: strip(v) for k, v in value.items()}
        return value if all(map(operator.is_, items.values(), value.values())) else items
    if kind is Partial and holds_num(value):  # a layer given as an argument: `Inner(conv2d(a, 1))`
        return dataclasses.replace(value, args=strip(value.args), kwargs=strip(value.kwargs),
                                   meta=strip(value.meta))
    return value


def in_layer(value: Any) -> bool:
    """Whether a recorded number is inside a layer given as a value (a Partial, in a list too):
    a pattern does not compute those."""
    kind = type(value)
    if kind is Partial:
        return holds_num(value)
    if kind is list or kind is tuple:
        return not _NUMBERS.issuperset(map(type, value)) and any(in_layer(v) for v in value)
    if kind is dict:
        return not _NUMBERS.issuperset(map(type, value.values())) and any(in_layer(v) for v in value.values())
    return False


def holds_num(value: Any) -> bool:
    kind = type(value)
    if kind in _PLAIN:
        return False
    if kind is NumInt or kind is NumFloat:
        return True
    if kind is list or kind is tuple or kind is dict:
        items = value.values() if kind is dict else value
        types = set(map(type, items))
        if not _RECORDED.isdisjoint(types):  # (a recorded number among them: told without a walk)
            return True
        return not _PLAIN.issuperset(types) and any(holds_num(v) for v in items)
    if kind is Partial:
        return holds_num(value.args) or holds_num(value.kwargs) or holds_num(value.meta)
    return False


def variables(value: Any, fn: Fn) -> Any:
    """A parameter's value with its numbers (in lists too) as variables read by `fn`."""
    kind = type(value)
    if kind is int:
        return NumInt(value, fn)
    if kind is float:
        return NumFloat(value, fn)
    if kind is list:
        return [variables(v, lambda n, f=fn, k=k: f(n)[k]) for k, v in enumerate(value)]
    return value


def compiled(value: Any) -> Fn | None:
    """A function giving `value` (a recorded number, or a list, tuple or dict holding some) for an
    instance's numbers, the walk over the value done once; None when it holds no recorded number."""
    if not holds_num(value):
        return None
    kind = type(value)
    if kind is NumInt or kind is NumFloat:
        return value.fn
    # a copy of the value (keys in the recorded order) with the places that hold recorded numbers
    # filled in: most places hold a constant, and a copy costs nothing per place
    fixed = dict(value) if kind is dict else list(value)
    variable = [(k, fn) for k, fn in zip(fixed.keys() if kind is dict else range(len(fixed)),
                                         map(compiled, value.values() if kind is dict else value))
                if fn is not None]

    def filled(n: Numbers) -> Any:
        out = fixed.copy()
        for k, fn in variable:
            out[k] = fn(n)
        return out
    if kind is tuple:
        return lambda n: tuple(filled(n))
    return filled
