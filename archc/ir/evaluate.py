"""The expression evaluator: literals, names, arithmetic (exact on symbolic sizes), strings,
comparisons and conditions, comprehensions, attribute and subscript access, pipes and calls.

`Evaluator` is the lower layer of the elaborator (archc.ir.calls, archc.ir.elaborate build on
it): it shares their state because evaluation and elaboration recurse into each other (a call
evaluates a block body, whose statements are expressions). What it reads and counts is declared
on the class; calls, pipes and the tensor arithmetic that makes layers (`x + y`, `x * 0.5`,
`x[:, :16]`) go to `_call`/`_apply_op`, which the call layer provides. With `trace`, values
carry their provenance (archc.provenance) and every static choice is logged (`decision_log`).
"""
from __future__ import annotations

import ast as ast_py
import math
import operator
import time
from typing import Any, NoReturn

from archc import ast as A
from archc import provenance as pv
from archc import symbolic as sy
from archc.errors import Fix, Related, did_you_mean, did_you_mean_fixes
from archc.ir.builder import GraphBuilder
from archc.ir.report import Reporter
from archc.ir.values import (
    MAX_INT_BITS, MAX_INT_DIGITS, POISON, TIME_CHECK_STEPS, Abort, Env, OutOfTime, Tensor, describe,
    is_text, python_name, traced_builtin, traced_layer,
)
from archc.language import BUILTINS, MAX_RANGE, TENSOR_ATTRIBUTES
from archc.limits import LIMITS, limit
from archc.ops import REGISTRY
from archc.ops.base import Op, Syntax, Word, fmt_shape

TENSOR_ATTRS = tuple(TENSOR_ATTRIBUTES)


# `a + b`, `a - b`, `a * b` between tensors
_TENSOR_OPERATORS = {"+": Syntax.TENSOR_ADD, "-": Syntax.TENSOR_SUBTRACT, "*": Syntax.TENSOR_MULTIPLY}

# The types of values that need none of the evaluator's type tests: exactly these (a bool is not
# a plain number; a Num of archc.ir.numbers, a traced value of archc.provenance or a Word are
# subclasses, which take the general paths)
_SEVERAL_INDICES = (A.Indices, A.Slice)  # an index that is not one int: `x[:, :16]`, `layers[1:]`
_PLAIN_NUMBERS = frozenset({int, float})
_PLAIN_VALUES = frozenset({int, float, bool, str, type(None)})
# the operators computed on plain numbers as Python computes them (`**` is checked first)
_PLAIN_ARITHMETIC = {"+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv,
                     "//": operator.floordiv, "%": operator.mod}
# a tensor's attributes, from its shape (None: the shape has no such axis)
_SHAPE_ATTRIBUTES = {
    "channels": lambda shape: shape[1] if len(shape) > 1 else None,
    "shape": list,
    "rank": len,
    "batch": lambda shape: shape[0],
    "spatial": lambda shape: list(shape[2:]),
    "length": lambda shape: shape[2] if len(shape) == 3 else None,
    "height": lambda shape: shape[-2] if len(shape) >= 4 else None,
    "width": lambda shape: shape[-1] if len(shape) >= 4 else None,
    "depth": lambda shape: shape[2] if len(shape) == 5 else None,
}
_COMPARISONS = {"==": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le, ">": operator.gt,
                ">=": operator.ge}


class Evaluator:
    """Evaluates expressions to values (archc.ir.values); errors go to `reporter`, layers to
    `builder` (through the call layer)."""

    reporter: Reporter
    builder: GraphBuilder
    trace: bool  # provenance for code generation (archc.provenance)
    recorder: Any = None  # an archc.ir.patterns.Recorder while a block instance is recorded as a pattern
    model_params: set[str]  # the model's parameter names (a block may not read them)
    max_block_depth: int

    def __init__(self, reporter: Reporter, builder: GraphBuilder, trace: bool) -> None:
        self.reporter = reporter
        self.builder = builder
        self.trace = trace
        self.decision_log: list[tuple] = []  # traced: every static choice of the current block's body
        self.none_params: set[str] = set()  # traced: the current block's parameters given `none`
        self.unknown_names: set[str] = set()  # misspellings reported; their targets aren't "unused"
        # where names were last looked up, for did-you-mean hints on unknown names (its names are
        # listed only when a hint needs them: copying them per call made elaboration quadratic)
        self._visible_env: Env | None = None
        self.comprehended = 0  # items of all lists built by comprehensions and range() so far
        # lists that hold lists, by id (the list kept alive with it): the number of items each
        # denotes, a list nested n times counted n times. Lists are immutable in the language,
        # so a list's size is computed once, when it is built, from its items' sizes
        self._sizes: dict[int, tuple[list, int]] = {}
        # lists already placed in another list, by id (kept alive with it): placing one again copies
        # what it denotes, and that costs its size against the item budget
        self._placed: dict[int, Any] = {}
        self.max_string = limit("ARCHC_MAX_STRING")
        self.max_seconds = limit("ARCHC_MAX_EVAL_SECONDS")
        self.deadline = time.monotonic() + self.max_seconds  # reset when elaboration starts
        self.steps = 0  # expressions evaluated but names and numbers, for the time limit's checks
        self.statement: A.Loc | None = None  # the statement being evaluated, for the time limit
        self._eval_methods: dict[str, Any] = {}  # expression kind -> its _eval_ function
        # times a body read a tensor's sizes itself (`x.channels`): a block instance that read none
        # builds the same layers on inputs of other sizes (archc.ir.instances, Template.reshaped)
        self.shape_reads = 0

    # the call layer (archc.ir.calls)
    def _call(self, call: A.Call, env: Env, piped: list[Tensor]) -> Any:
        raise NotImplementedError

    def _apply_op(self, op: Op, inputs: list[Tensor], args: list[Any], kwargs: dict[str, Any],
                  loc: A.Loc | None, meta: dict[str, Any]) -> Any:
        raise NotImplementedError

    # ------------------------------------------------------------------ errors
    def error(self, message: str, loc: A.Loc | None, hint: str | None = None, *, code: str,
              fixes: list[Fix] | None = None, related: list[Related] | None = None) -> None:
        self.reporter.error(message, loc, hint, code=code, fixes=fixes, related=related)

    def fail(self, message: str, loc: A.Loc | None, hint: str | None = None, *, code: str,
             fixes: list[Fix] | None = None, related: list[Related] | None = None) -> NoReturn:
        self.reporter.fail(message, loc, hint, code=code, fixes=fixes, related=related)

    def _too_deep(self, expr: A.Expr) -> None:
        """The evaluator's stack ran out (see archc.deep): past any real expression, or a block
        recursion allowed deeper (ARCHC_MAX_BLOCK_DEPTH raised) than the stack holds."""
        depth = len(self.reporter.instance_stack)
        # the default depth is well within the stack: deeper, the raised limit is what ran out
        if depth >= LIMITS["ARCHC_MAX_BLOCK_DEPTH"].default:
            block = self.reporter.instance_stack[-1][0]
            self.error(f"block recursion {depth:,} levels deep (block {block}) is deeper than the "
                       "evaluator's stack holds", expr.loc,
                       f"ARCHC_MAX_BLOCK_DEPTH={self.max_block_depth:,} allows more nesting than the stack "
                       "does; make the recursion shallower, e.g. a repeat(n, ...) of the block instead of "
                       "a block that uses itself n times", code="E-LIMIT-BLOCK-DEPTH")
            return
        self.error("this expression is nested too deeply to evaluate", expr.loc,
                   "split it into several statements", code="E-LIMIT-NESTING")

    # ------------------------------------------------------------------ expressions
    def _eval_guarded(self, expr: A.Expr, env: Env, statement: A.Loc | None = None) -> Any:
        """A statement's value (`statement`: where the statement is written, if not where `expr`
        is), or POISON when it failed."""
        saved, self.statement = self.statement, statement or expr.loc
        try:
            return self.eval(expr, env)
        except Abort:
            return POISON
        except RecursionError:  # far past any real spec (see archc.deep): the innermost statement
            self._too_deep(expr)
            return POISON
        finally:
            self.statement = saved

    def eval(self, e: A.Expr, env: Env) -> Any:
        kind = e.kind
        if kind == "name":  # two expressions in five: looked up here (Env.lookup, inline), not dispatched
            name = e.id
            scope: Env | None = env
            while scope is not None:
                values = scope.values
                if name in values:
                    value = values[name]
                    if value is POISON:
                        raise Abort()
                    return value
                scope = scope.parent
            return self._unbound(e, env)
        if kind == "num":  # one in five
            return e.value
        # the others are the steps towards the time limit (a name or a number is work only in one)
        self.steps = steps = self.steps + 1
        if not steps % TIME_CHECK_STEPS and time.monotonic() > self.deadline:
            self._out_of_time(e)
        try:
            method = self._eval_methods[kind]
        except KeyError:  # the first expression of its kind: the class's method, looked up once
            method = self._eval_methods[kind] = getattr(type(self), "_eval_" + kind)
        return method(self, e, env)

    def _out_of_time(self, e: A.Expr) -> None:
        """The time limit is spent: an error at the statement being evaluated, and no more
        evaluation (not even of the other statements)."""
        self.error(f"evaluating the spec took more than {self.max_seconds:g} seconds; stopped in this "
                   "statement", self.statement or e.loc,
                   "a spec normally elaborates in well under a second: check the repeat counts, list sizes "
                   "and recursive blocks this statement uses; to allow more time, raise the limit with the "
                   "environment variable ARCHC_MAX_EVAL_SECONDS (seconds)", code="E-LIMIT-TIME")
        raise OutOfTime()

    def _eval_str(self, e: A.Str, env: Env) -> Any:
        return e.value

    def _eval_fstring(self, e: A.FString, env: Env) -> Any:
        out = []
        for part in e.parts:
            value = self.eval(part, env)
            if type(value) is str or type(value) is int:  # (what str() accepts, exactly: no test to pass)
                out.append(str(value))
                continue
            if isinstance(value, Word):
                self._need_number(value, part, "f-string")  # reports the unknown name
            try:
                out.append(traced_builtin("str", [value], {}) if self.trace else BUILTINS["str"].function(value))
            except TypeError as exc:
                self.fail(f"f-string: {exc}", part.loc, "an f-string shows ints and strings, e.g. "
                          "f\"layer{i + 1}\"", code="E-VALUE-TYPE")
        self._check_length(sum(map(len, out)), e.loc, "this f-string")  # (a traced piece: its text's length)
        if self.trace and pv.any_traced(out):
            text: Any = out[0] if out else ""
            for piece in out[1:]:
                text = text + piece
            return text
        return "".join(out)

    def _eval_bool(self, e: A.Bool, env: Env) -> Any:
        return e.value

    def _eval_none(self, e: A.NoneLit, env: Env) -> Any:
        return None

    def _unbound(self, e: A.Name, env: Env) -> Any:
        """A name bound nowhere (`eval` looked): a word (a symbolic size, an enum word, or a
        misspelling reported where it is used), or a model parameter read in a block."""
        if self.reporter.instance_stack and e.id in self.model_params:
            block = self.reporter.instance_stack[-1][0]
            self.fail(f"'{e.id}' is a model parameter; a block sees only its own parameters", e.loc,
                      f"add {e.id} to block {block}'s parameters and pass it in: "
                      f"{block}(..., {e.id}={e.id})", code="E-BLOCK-MODEL-PARAM")
        self._visible_env = env
        word = Word(e.id)
        word.loc = e.loc  # where it was written: a word passed down to a block is reported there too
        return word

    def _eval_list(self, e: A.ListExpr, env: Env) -> Any:
        out = [self.eval(item, env) for item in e.items]
        self._nested_cost(out, e.loc)
        return out

    def _eval_listcomp(self, e: A.ListComp, env: Env) -> Any:
        out: list = []
        self._comprehend(e, 0, env, out)
        self._nested_cost(out, e.loc)
        return out

    def denoted_size(self, value: Any) -> int:
        """The items a list denotes: its length plus what its nested lists denote, a list held
        n times counted n times (`[a for i in range(10)]` denotes 10 × a's size). Known without
        expanding shared references: each list's size is recorded when it is built."""
        if not isinstance(value, (list, tuple)):
            return 0
        known = self._sizes.get(id(value))
        if known is not None and known[0] is value:
            return known[1]
        nested = [v for v in value if isinstance(v, (list, tuple))]
        size = len(value) + sum(self.denoted_size(v) for v in nested)
        if nested:
            self._sizes[id(value)] = (value, size)
        return size

    def _nested_cost(self, out: list, loc: A.Loc | None) -> None:
        """A list that holds lists costs what they denote (counted against the item budget) from
        the second place a list is put on: twenty lines of `a2 = [a1 for i in range(10)]` would
        otherwise denote 10 ** 21 numbers for 200 items, and printing, freezing or walking it
        would never end."""
        nested = [v for v in out if isinstance(v, (list, tuple))]
        if not nested:
            return
        memo: dict[int, int] = {}
        denoted = extra = 0
        for v in nested:
            size = memo.get(id(v))
            if size is None:
                size = memo[id(v)] = self.denoted_size(v)
            denoted += size
            placed = self._placed.get(id(v))
            if placed is v:  # a copy: its items were counted where it was first placed
                extra += size
            else:  # its first place: `[[[...]]]` costs its items once, not once per level
                self._placed[id(v)] = v
        self._sizes[id(out)] = (out, len(out) + denoted)
        if extra:
            self._count_items(extra, loc, nested=len(out) + denoted)

    def _comprehend(self, e: A.ListComp, k: int, env: Env, out: list) -> None:
        """Clause k of a comprehension in `env` (the names of clauses 0..k-1 bound): Python's
        nesting, `[c for r, c in rows for j in range(r)]` runs the second clause once per row."""
        clause = e.clauses[k]
        items = self.eval(clause.iterable, env)
        if isinstance(items, Word) or not isinstance(items, (list, tuple)):
            self.fail(f"a comprehension iterates over a list, got {describe(items)}", clause.iterable.loc,
                      "e.g. [c * 2 for c in widths] or [i for i in range(4)]", code="E-VALUE-TYPE")
        self._count_items(len(items), e.loc)
        pv.decide_length(items)
        targets = clause.targets
        conditions = clause.conditions
        last = k + 1 == len(e.clauses)
        # one environment for all items, each binding its names in turn (no value holds an environment)
        inner = Env(env)
        bound = inner.values
        for item in items:
            self.steps = steps = self.steps + 1  # (a step each, as `eval` counts one: the element may be a name)
            if not steps % TIME_CHECK_STEPS and time.monotonic() > self.deadline:
                self._out_of_time(e)
            if len(targets) == 1:
                bound[targets[0]] = item
            else:  # [n for t, c, n, s in setting]
                if not isinstance(item, (list, tuple)) or len(item) != len(targets):
                    self.fail(f"{len(targets)} names to unpack, but an item is {describe(item)}", e.loc,
                              f"each item of the list must be a list of {len(targets)} values",
                              code="E-VALUE-UNPACK")
                bound.update(zip(targets, item))
            if conditions and not all(self._truth(self.eval(c, inner), c) for c in conditions):
                continue
            if last:
                out.append(self.eval(e.element, inner))
            else:
                self._comprehend(e, k + 1, inner, out)

    def _count_items(self, n: int, loc: A.Loc | None, nested: int | None = None) -> None:
        """Bound the work of comprehensions and range(): nested ones multiply. `nested`: the
        size a list of lists denotes, its nested lists counted each time they appear."""
        self.comprehended += n
        if self.comprehended > MAX_RANGE * 10 and nested is not None:
            self.fail(f"this list denotes {nested:,} items (a list nested n times counts n times), past "
                      f"the {MAX_RANGE * 10:,} items all lists may hold", loc,
                      "a spec describes one network; shrink the lists, or nest fewer copies",
                      code="E-LIMIT-LIST-SIZE")
        if self.comprehended > MAX_RANGE * 10:
            self.fail(f"lists and comprehensions built more than {MAX_RANGE * 10:,} items in all", loc,
                      "a spec describes one network; shrink the lists", code="E-LIMIT-LIST-SIZE")

    def _eval_attr(self, e: A.Attribute, env: Env) -> Any:
        value = self.eval(e.value, env)
        if isinstance(value, Word):
            self.fail(f"unknown name '{value}'", e.value.loc, did_you_mean(value, env.names()),
                      code="E-NAME-UNKNOWN", fixes=did_you_mean_fixes(value, e.value.loc, env.names()))
        if not isinstance(value, Tensor):
            self.fail(f"{describe(value)} has no attribute '{e.attr}'", e.loc,
                      f"attributes such as .channels belong to tensors ({', '.join(TENSOR_ATTRS)})",
                      code="E-VALUE-NO-ATTRIBUTE")
        if value.shape is None:
            raise Abort()
        self.shape_reads += 1
        shape = value.shape if self.recorder is None else self.recorder.shape(value)
        if e.attr not in _SHAPE_ATTRIBUTES:
            self.fail(f"a tensor has no attribute '{e.attr}'", e.loc,
                      did_you_mean(e.attr, TENSOR_ATTRS) or f"tensor attributes: {', '.join(TENSOR_ATTRS)}",
                      code="E-VALUE-NO-ATTRIBUTE", fixes=did_you_mean_fixes(e.attr, e.loc, TENSOR_ATTRS, "attribute"))
        result = _SHAPE_ATTRIBUTES[e.attr](shape)
        if result is None:
            self.fail(f"a tensor of shape {fmt_shape(shape)} has no '{e.attr}'", e.loc,
                      "length is the size of a rank-3 tensor's axis 2, height and width of the last two "
                      "axes of rank 4 or more, depth of a rank-5 tensor's axis 2; spatial lists them all",
                      code="E-VALUE-NO-ATTRIBUTE")
        return result

    def _eval_subscript(self, e: A.Subscript, env: Env) -> Any:
        value = self.eval(e.value, env)
        if type(value) is list and type(e.index) not in _SEVERAL_INDICES:
            # the common case, `widths[i]`: one index into an untraced list (as below, without the tests)
            index = self._index_entry(e.index, env)
            pv.decide(index)
            return self._list_item(value, index, e)
        items = e.index.items if isinstance(e.index, A.Indices) else [e.index]
        entries = [self._index_entry(item, env) for item in items]
        if isinstance(value, Tensor):  # x[:, :c]: a slice layer
            return self._apply_op(REGISTRY.for_syntax(Syntax.INDEX), [value], [], {"index": tuple(entries)}, e.loc, {})
        if not isinstance(value, (list, tuple, str)) or isinstance(value, Word):
            self.fail(f"cannot index {describe(value)}", e.loc,
                      "index a list or a tensor, e.g. widths[0] or x[:, :16]", code="E-VALUE-INDEX-TYPE")
        if len(entries) != 1:
            self.fail(f"a list takes one index, got {len(entries)}", e.loc,
                      "index a list of lists one level at a time: rows[1][0]", code="E-VALUE-INDEX-TYPE")
        index = entries[0]
        pv.decide(index)
        if isinstance(index, tuple):  # layers[1:]
            if index[2] == 0:
                self.fail("slice step cannot be 0", e.index.loc, code="E-VALUE-SLICE-STEP-ZERO")
            return value[slice(*index)]
        return self._list_item(value, index, e)

    def _list_item(self, value: Any, index: int, e: A.Subscript) -> Any:
        """`value[index]` (a list, tuple or string; the index decided on), or its range error."""
        if not -len(value) <= index < len(value):
            self.fail(f"index {index} is out of range for a list of {len(value)}", e.index.loc,
                      code="E-VALUE-INDEX-OUT-OF-RANGE")
        if self.trace and isinstance(value, pv.TList) and isinstance(index, pv.TInt):
            # `setting[i]` in a loop: the item by the index's expression, not the number's
            item = value[pv.plain(index)]
            return pv.deep(pv.plain(item), ast_py.Subscript(value.expr, index.expr, ast_py.Load()),
                           pv.roots_of(item, index), pv.forward_of(item, index), traced_layer)
        return value[index]

    def _index_entry(self, item: A.Expr, env: Env) -> int | tuple:
        """An int, or a slice as (start, stop, step) with None for the parts left out."""
        if isinstance(item, A.Slice):
            parts = []
            for part in (item.start, item.stop, item.step):
                v = None if part is None else self.eval(part, env)
                if v is not None and (isinstance(v, bool) or not isinstance(v, int)):
                    self.fail(f"a slice bound must be an int, got {describe(v)}", part.loc,
                              code="E-VALUE-INDEX-TYPE")
                parts.append(v)
            return tuple(parts)
        v = self.eval(item, env)
        if isinstance(v, bool) or not isinstance(v, int):
            self.fail(f"an index must be an int, got {describe(v)}", item.loc, code="E-VALUE-INDEX-TYPE")
        return v

    def _eval_slice(self, e: A.Slice, env: Env) -> Any:
        self.fail("a slice a:b is only written inside [ ]", e.loc, "e.g. x[:, :16]",
                  code="E-VALUE-SLICE-OUTSIDE-BRACKETS")

    def _eval_indices(self, e: A.Indices, env: Env) -> Any:
        self.fail("several indices are only written inside [ ]", e.loc, "e.g. x[:, :16]",
                  code="E-VALUE-SLICE-OUTSIDE-BRACKETS")

    def _eval_unary(self, e: A.Unary, env: Env) -> Any:
        value = self.eval(e.operand, env)
        if e.op == "not":
            return not self._truth(value, e.operand)
        self._need_number(value, e.operand, f"unary {e.op}")
        if e.op == "+":
            return value
        return sy.mul(-1, value) if isinstance(value, (int, sy.Expr)) else -value  # -1.0 is a float

    def _eval_binary(self, e: A.Binary, env: Env) -> Any:
        left = self.eval(e.left, env)
        right = self.eval(e.right, env)
        if type(left) in _PLAIN_NUMBERS and type(right) in _PLAIN_NUMBERS and e.op in _PLAIN_ARITHMETIC:
            # the common case: what the general path below computes for plain ints and floats (no
            # Num, bool or traced number: their types are subclasses), without its type tests
            try:
                result = _PLAIN_ARITHMETIC[e.op](left, right)
            except ZeroDivisionError:
                self.fail("division by zero", e.loc, code="E-VALUE-DIVISION-BY-ZERO")
            except OverflowError:  # 10 ** 400 / 3: past the largest float
                self._float_too_large(e)
            if type(result) is int:
                if result.bit_length() > MAX_INT_BITS:
                    self._too_large(e)
            elif math.isinf(result):  # 1e300 * 1e300: no OverflowError
                self._float_too_large(e)
            return result
        if isinstance(left, Tensor) or isinstance(right, Tensor):
            return self._tensor_binary(e, left, right, env)
        if is_text(left) or is_text(right):
            return self._text_binary(e, left, right)
        self._need_number(left, e.left, e.op)
        self._need_number(right, e.right, e.op)
        symbolic = isinstance(left, sy.Expr) or isinstance(right, sy.Expr)
        if self.recorder is not None:
            left, right = self.recorder.operands(left, right, symbolic)
        result = self._arith(e, left, right, symbolic)
        if isinstance(result, int) and result.bit_length() > MAX_INT_BITS:
            self._too_large(e)
        if isinstance(result, float) and math.isinf(result):  # 1e300 * 1e300: no OverflowError
            self._float_too_large(e)
        return result

    def _too_large(self, e: A.Expr) -> None:
        self.fail(f"integer result too large (more than {MAX_INT_DIGITS} digits)", e.loc,
                  "sizes and counts are far smaller; check the expression's operands",
                  code="E-VALUE-INT-TOO-LARGE")

    def _float_too_large(self, e: A.Binary) -> None:
        self.fail(f"'{e.op}': the result is too large for a number (over 1.8e308)", e.loc,
                  "check the operands; sizes and rates are far smaller", code="E-VALUE-FLOAT-OVERFLOW")

    def _arith(self, e: A.Binary, left: Any, right: Any, symbolic: bool) -> Any:
        try:
            if e.op == "+":
                return sy.add(left, right) if symbolic else left + right
            if e.op == "-":
                return sy.sub(left, right) if symbolic else left - right
            if e.op == "*":
                return sy.mul(left, right) if symbolic else left * right
            if e.op == "//":
                if symbolic:
                    if not isinstance(right, int) or isinstance(left, int) or right <= 0:
                        self.fail("'//' on a symbolic size needs a positive int divisor", e.loc,
                                  code="E-VALUE-SYMBOLIC-ARITHMETIC")
                    return sy.floordiv(left, right)
                return left // right
            if e.op == "/":
                if symbolic:
                    self.fail("'/' on a symbolic size is not exact; use '//' (floor division)", e.loc,
                              code="E-VALUE-SYMBOLIC-ARITHMETIC")
                return left / right
            if symbolic:
                self.fail(f"'{e.op}' is not defined on symbolic sizes", e.loc,
                          code="E-VALUE-SYMBOLIC-ARITHMETIC")
            if e.op == "%":
                return left % right
            if e.op == "**":
                if (isinstance(left, int) and isinstance(right, int) and right > 0 and abs(left) > 1
                        and (abs(left).bit_length() - 1) * right > MAX_INT_BITS):
                    self._too_large(e)  # before computing it: 10 ** 10 ** 10 would take hours
                return left ** right
        except ZeroDivisionError:
            self.fail("division by zero", e.loc, code="E-VALUE-DIVISION-BY-ZERO")
        except OverflowError:  # 10.0 ** 400, 10 ** 400 / 3: past the largest float
            self._float_too_large(e)
        except (TypeError, ValueError):  # e.g. H * 0.5: sizes stay integers
            self.fail(f"'{e.op}' between {describe(left)} and {describe(right)} does not give an "
                      "integer size", e.loc, "symbolic sizes combine with ints only; use // for division",
                      code="E-VALUE-SYMBOLIC-ARITHMETIC")
        raise AssertionError(e.op)

    def _check_length(self, n: int, loc: A.Loc | None, what: str) -> None:
        """A string's length, checked before it is built (33 lines of `s = s + s` make 64 GiB)."""
        if n > self.max_string:
            self.fail(f"{what} would make a string of {n:,} characters, past the limit of "
                      f"{self.max_string:,}", loc, "names and labels are short; to build longer strings "
                      "anyway, raise the limit with the environment variable ARCHC_MAX_STRING",
                      code="E-LIMIT-STRING-LENGTH")

    def _text_binary(self, e: A.Binary, left: Any, right: Any) -> str:
        """"block" + str(k): strings join with +, and only with strings."""
        for side, expr in ((left, e.left), (right, e.right)):
            if isinstance(side, Word):
                self._need_number(side, expr, e.op)  # reports the unknown name
        if e.op == "+" and is_text(left) and is_text(right):
            self._check_length(len(pv.plain(left)) + len(pv.plain(right)), e.loc, "'+'")
            return left + right
        if e.op == "+":
            self.fail(f"'+' joins a string only with a string, got {describe(left)} and {describe(right)}",
                      e.loc, "turn the number into text with str(), e.g. \"denselayer\" + str(i + 1)",
                      code="E-VALUE-TYPE")
        self.fail(f"'{e.op}' is not defined on strings", e.loc, "strings support only + (joining)",
                  code="E-VALUE-TYPE")

    def _tensor_binary(self, e: A.Binary, left: Any, right: Any, env: Env) -> Any:
        both = isinstance(left, Tensor) and isinstance(right, Tensor)
        if both and e.op in _TENSOR_OPERATORS:
            return self._apply_op(REGISTRY.for_syntax(_TENSOR_OPERATORS[e.op]), [left, right], [], {}, e.loc, {})
        tensor, number = (left, right) if isinstance(left, Tensor) else (right, left)
        if not both and isinstance(number, (int, float)) and not isinstance(number, bool):
            scale = REGISTRY.for_syntax(Syntax.AFFINE)
            if e.op == "*":
                return self._apply_op(scale, [tensor], [], {"factor": number}, e.loc, {})
            if e.op == "/" and tensor is left:
                if number == 0:
                    self.fail("division by zero", e.loc, code="E-VALUE-DIVISION-BY-ZERO")
                return self._apply_op(scale, [tensor], [], {"factor": 1 / number}, e.loc, {})
            if e.op == "+":
                return self._apply_op(scale, [tensor], [], {"factor": 1.0, "offset": number}, e.loc, {})
            if e.op == "-" and tensor is left:
                return self._apply_op(scale, [tensor], [], {"factor": 1.0, "offset": -number}, e.loc, {})
        self.fail(f"'{e.op}' is not defined between {describe(left)} and {describe(right)}", e.loc,
                  "tensors support a + b, a - b and a * b (broadcasting as PyTorch does), and scaling by a number: x / 255, x * 0.5",
                  code="E-VALUE-TYPE")

    def _eval_compare(self, e: A.Compare, env: Env) -> Any:
        left = self.eval(e.left, env)
        right = self.eval(e.right, env)
        if type(left) in _PLAIN_VALUES and type(right) in _PLAIN_VALUES:  # (as below, without the tests)
            try:
                return _COMPARISONS[e.op](left, right)
            except TypeError:
                self.fail(f"cannot compare {describe(left)} and {describe(right)} with '{e.op}'", e.loc,
                          code="E-VALUE-TYPE")
        for side, expr in ((left, e.left), (right, e.right)):
            if isinstance(side, sy.Expr):
                self.fail(f"this condition depends on the symbolic size {sy.to_str(side)}", expr.loc,
                          "give the input a concrete size, or make the choice a block parameter",
                          code="E-VALUE-SYMBOLIC-CONDITION")
            if isinstance(side, Tensor):
                self.fail("a tensor cannot be compared; compare its sizes, e.g. x.channels", expr.loc,
                          "e.g. `y if x.channels == 64 else x -> conv2d(64, 1)`", code="E-VALUE-TYPE")
        if self.recorder is not None:
            left, right = self.recorder.operands(left, right, False)
        try:
            return _COMPARISONS[e.op](left, right)
        except TypeError:
            self.fail(f"cannot compare {describe(left)} and {describe(right)} with '{e.op}'", e.loc,
                      code="E-VALUE-TYPE")

    def _eval_boolop(self, e: A.BoolOp, env: Env) -> Any:
        left = self._truth(self.eval(e.left, env), e.left)
        if e.op == "and" and not left:
            return False
        if e.op == "or" and left:
            return True
        return self._truth(self.eval(e.right, env), e.right)

    def _eval_if(self, e: A.IfExpr, env: Env) -> Any:
        test = self.eval(e.test, env)
        if type(test) is not bool:  # (mostly a comparison's: _truth gives a bool as it is)
            test = self._truth(test, e.test)
        if not self.trace:
            return self.eval(e.body if test else e.orelse, env)
        condition = self._condition(e.test, env)
        self.decision_log.append((e.loc, test, condition))
        value = self.eval(e.body if test else e.orelse, env)
        return self._traced_choice(e, condition, test, value, env)

    def _traced_choice(self, e: A.IfExpr, condition: Any, test: bool, value: Any, env: Env) -> Any:
        """`2 if i == 0 else 1` as the Python conditional, when both branches are plain numbers
        (evaluating the other one builds nothing) and the condition has an expression."""
        if (condition is None or not any(isinstance(n, ast_py.Name) for n in ast_py.walk(condition))
                or isinstance(value, bool)
                or not isinstance(value, (int, float)) or not (_pure(e.body) and _pure(e.orelse))):
            return value
        other = self.eval(e.orelse if test else e.body, env)
        if isinstance(other, bool) or not isinstance(other, (int, float)):
            return value
        body, orelse = (value, other) if test else (other, value)
        if pv.key(pv.expr_of(body)) == pv.key(pv.expr_of(orelse)):
            return value  # both branches alike (`1 if i == 0 else 1`): no choice to write
        return pv.traced(pv.plain(value), ast_py.IfExp(condition, pv.expr_of(body), pv.expr_of(orelse)),
                         pv.roots_of(value, other), pv.forward_of(value, other))

    _COMPARE = {"==": ast_py.Eq, "!=": ast_py.NotEq, "<": ast_py.Lt, "<=": ast_py.LtE, ">": ast_py.Gt,
                ">=": ast_py.GtE}

    def _condition(self, e: A.Expr, env: Env) -> Any:
        """A condition as a Python expression of the block's names (traced elaboration), or None
        when a part of it has no such expression (a layer compared with `none`, say)."""
        if isinstance(e, A.Compare):
            left, right = self._condition(e.left, env), self._condition(e.right, env)
            if left is None or right is None:
                return None
            op = self._COMPARE[e.op]()
            if e.op in ("==", "!=") and any(isinstance(side, ast_py.Constant) and side.value is None
                                            for side in (left, right)):
                op = ast_py.Is() if e.op == "==" else ast_py.IsNot()
            return ast_py.Compare(left, [op], [right])
        if isinstance(e, A.Name) and e.id in self.none_params and env.lookup(e.id) == (True, None):
            return python_name(e.id)  # a parameter given `none`: its name, not the value
        if isinstance(e, A.BoolOp):
            left, right = self._condition(e.left, env), self._condition(e.right, env)
            if left is None or right is None:
                return None
            return ast_py.BoolOp(ast_py.And() if e.op == "and" else ast_py.Or(), [left, right])
        if isinstance(e, A.Unary) and e.op == "not":
            operand = self._condition(e.operand, env)
            return None if operand is None else ast_py.UnaryOp(ast_py.Not(), operand)
        try:
            value = self.eval(e, env)
            return pv.expr_of(value)
        except (Abort, TypeError):
            return None

    def _truth(self, value: Any, expr: A.Expr) -> bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, Word):
            visible = self._visible_env.names() if self._visible_env else ()
            self.fail(f"unknown name '{value}'", expr.loc, did_you_mean(value, visible),
                      code="E-NAME-UNKNOWN", fixes=did_you_mean_fixes(value, expr.loc, visible))
        if isinstance(value, (int, float)):
            return bool(value)
        self.fail(f"a condition must be true or false, got {describe(value)}", expr.loc,
                  "compare values to get one, e.g. `n == 1` or `stride > 1`", code="E-VALUE-TYPE")

    def _need_number(self, value: Any, expr: A.Expr, what: str) -> None:
        if type(value) in _PLAIN_NUMBERS:  # (the common case: none of the tests below applies)
            return
        if isinstance(value, Word):
            self.unknown_names.add(str(value))
            visible = self._visible_env.names() if self._visible_env else ()
            self.fail(f"unknown name '{value}'", expr.loc, did_you_mean(value, visible),
                      code="E-NAME-UNKNOWN", fixes=did_you_mean_fixes(value, expr.loc, visible))
        if isinstance(value, bool) or not isinstance(value, (int, float, sy.Expr)):
            self.fail(f"'{what}' needs numbers, got {describe(value)}", expr.loc, code="E-VALUE-TYPE")

    def _eval_pipe(self, e: A.Pipe, env: Env) -> Any:
        source = self.eval(e.source, env)
        if type(source) is Tensor:  # the common case: one tensor (the tests below, passed)
            return self._call(e.target, env, piped=[source])
        items = list(source) if isinstance(source, (list, tuple)) else [source]
        for item in items:
            if isinstance(item, Word):
                self.unknown_names.add(str(item))
                self.fail(f"unknown name '{item}'", e.source.loc, did_you_mean(item, env.names()),
                          code="E-NAME-UNKNOWN", fixes=did_you_mean_fixes(item, e.source.loc, env.names()))
            if not isinstance(item, Tensor):
                self.fail(f"the left side of '->' must be a tensor, got {describe(item)}", e.source.loc,
                          code="E-CALL-PIPE-NOT-TENSOR")
        return self._call(e.target, env, piped=items)

    def _eval_call(self, e: A.Call, env: Env) -> Any:
        return self._call(e, env, piped=[])


def _pure(e: Any) -> bool:
    """An expression that only computes a number (no layer, no call): safe to evaluate twice."""
    if isinstance(e, (A.Num, A.Bool, A.Name)):
        return True
    if isinstance(e, A.Unary):
        return _pure(e.operand)
    if isinstance(e, A.Binary):
        return _pure(e.left) and _pure(e.right)
    return False

