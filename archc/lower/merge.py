"""One class per block definition: the instances of a block whose static choices differ
(`x if stride == 1 and x.channels == planes else x -> sequential(..., name=downsample)`) have
different structures, and each structure's code is generated as usual. This module merges them:
every line of every structure, in order, each under the condition of the structures that have
it, the condition being the block's own choices, in the block's own names (the fewest that tell those structures from
the others: `use_se` for the squeeze-and-excitation layer, not every choice its structure made):

    if not (stride == 1 and in_channels == planes):
        self.downsample = nn.Sequential(...)

The conditions come from the elaborator (archc.provenance: each instance records its choices
with their conditions as Python expressions of the block's parameters and input channels); a
merge is made only when the conditions, evaluated with each instance's arguments, tell every
instance's structure apart exactly (`discriminates`).
"""
from __future__ import annotations

import ast
import itertools
import math
import operator
from typing import Any, Hashable, Sequence

from archc.language import make_divisible
from archc.lower import pysrc

# One statement: (head, expression source, tail, comment), formatted by pysrc.lines at the depth
# it lands at; a head of None is a line as it is (a comment, or a `return` already indented
# relative to the body).
Line = tuple[str | None, str, str, str]
# a key (what the statements build) and its statements
Chunk = tuple[Hashable, tuple[Line, ...]]


def render(items: Sequence[Line], depth: int, comments: bool = True) -> list[str]:
    out: list[str] = []
    for head, source, tail, comment in items:
        if head is None:
            if comments or not source.lstrip().startswith("#"):
                out.append(pysrc.INDENT * depth + source)
        else:
            out += pysrc.lines(head, pysrc.parse(source), depth, tail, comment if comments else "")
    return out


def _bare(items: Sequence[Line]) -> tuple:
    """A chunk without its comments (a shape comment may differ between structures where the
    code does not: then the code is shared, uncommented)."""
    return tuple((h, s, t) for h, s, t, _ in items if not (h is None and s.lstrip().startswith("#")))


def merged_order(variants: Sequence[Sequence[Chunk]]) -> list[Hashable] | None:
    """Every key of every variant once, each variant's keys in its own order; None when the
    variants order two keys differently."""
    order: list[Hashable] = []
    for chunks in variants:
        previous = -1
        for key, _ in chunks:
            if key in order:
                previous = order.index(key)
            else:
                order.insert(previous + 1, key)
                previous += 1
    position = {k: i for i, k in enumerate(order)}
    for chunks in variants:
        keys = [position[k] for k, _ in chunks]
        if keys != sorted(keys):
            return None
    return order


def merge(variants: Sequence[Sequence[Chunk]], condition_for: Any, depth: int) -> list[str] | None:
    """The variants' lines as one body: a line every variant has alike as it is, the others
    under `if` / `elif` / `else` with the conditions of the variants that have them. None when
    the variants cannot be put in one order."""
    order = merged_order(variants)
    if order is None:
        return None
    texts = [dict(chunks) for chunks in variants]
    everyone = frozenset(range(len(variants)))
    blocks: list[tuple[Any, Any]] = []  # (None, items) or (((variants, items), ...), None)
    for key in order:
        by_text: dict[tuple, set[int]] = {}
        full: dict[tuple, set[tuple]] = {}
        for v, t in enumerate(texts):
            if key in t:
                bare = _bare(t[key])
                by_text.setdefault(bare, set()).add(v)
                full.setdefault(bare, set()).add(t[key])
        shown = {bare: next(iter(full[bare])) if len(full[bare]) == 1
                 else tuple((h, s, tl, "") for h, s, tl, c in next(iter(full[bare]))
                            if not (h is None and s.lstrip().startswith("#")))
                 for bare in by_text}
        if len(by_text) == 1 and next(iter(by_text.values())) == everyone:
            blocks.append((None, shown[next(iter(by_text))]))
            continue
        branches = tuple((frozenset(vs), shown[text]) for text, vs in by_text.items())
        # consecutive statements of the same variants go under one `if` (a branch of the
        # previous `if` whose variants are a branch here too joins that branch)
        previous = blocks[-1][0] if blocks else None
        if previous is not None and {vs for vs, _ in previous} <= {vs for vs, _ in branches}:
            before = dict(previous)
            blocks[-1] = (tuple((vs, before.get(vs, ()) + new) for vs, new in branches), None)
        elif previous is not None and {vs for vs, _ in branches} <= {vs for vs, _ in previous}:
            after = dict(branches)
            blocks[-1] = (tuple((vs, old + after.get(vs, ())) for vs, old in previous), None)
        else:
            blocks.append((branches, None))
    pad = pysrc.INDENT * depth
    out: list[str] = []
    for branches, items in blocks:
        if branches is None:
            out += render(items, depth)
            continue
        covered = frozenset().union(*(vs for vs, _ in branches))
        if (len(branches) == 2 and covered == everyone and _negative(condition_for(branches[0][0]))
                and not _negative(condition_for(branches[1][0]))):
            branches = (branches[1], branches[0])  # `if cond: … else: …` reads better than `if not`
        for k, (vs, statements) in enumerate(branches):
            if k == len(branches) - 1 and k > 0 and covered == everyone:
                out.append(f"{pad}else:")
            else:
                word = "if" if k == 0 else "elif"
                out.append(f"{pad}{word} {pysrc.expr(condition_for(vs))}:")
            out += render(statements, depth + 1)
    return out


Decisions = dict[str, tuple[bool, ast.expr]]  # a structure's choices: condition (dumped) -> (outcome, condition)


def minimal_condition(members: frozenset, decisions: Sequence[Decisions]) -> ast.expr:
    """The condition of a set of structures: the fewest of their common choices that no other
    structure made alike; else every choice of each (or-ed)."""
    others = [w for w in range(len(decisions)) if w not in members]
    first = decisions[min(members)]
    common = [(key, outcome) for key, (outcome, _) in first.items()
              if all(key in decisions[v] and decisions[v][key][0] == outcome for v in members)]

    def literal(key: str, outcome: bool) -> ast.expr:
        expr = first[key][1]
        return expr if outcome else negated(expr)

    for size in range(1, len(common) + 1):
        for combo in itertools.combinations(common, size):
            if all(any(k in decisions[w] and decisions[w][k][0] != o for k, o in combo) for w in others):
                return all_of([literal(k, o) for k, o in combo])
    return _any_of([all_of([(e if o else negated(e)) for o, e in decisions[v].values()]) for v in sorted(members)])


def _negative(condition: ast.expr) -> bool:
    return isinstance(condition, ast.UnaryOp) and isinstance(condition.op, ast.Not)


def _any_of(conditions: list[ast.expr]) -> ast.expr:
    return conditions[0] if len(conditions) == 1 else ast.BoolOp(ast.Or(), conditions)


def all_of(conditions: list[ast.expr]) -> ast.expr:
    return conditions[0] if len(conditions) == 1 else ast.BoolOp(ast.And(), conditions)


def negated(condition: ast.expr) -> ast.expr:
    if isinstance(condition, ast.UnaryOp) and isinstance(condition.op, ast.Not):
        return condition.operand
    if isinstance(condition, ast.Compare) and len(condition.ops) == 1:
        flip = {ast.Eq: ast.NotEq, ast.NotEq: ast.Eq, ast.Lt: ast.GtE, ast.GtE: ast.Lt, ast.Gt: ast.LtE,
                ast.LtE: ast.Gt, ast.Is: ast.IsNot, ast.IsNot: ast.Is}
        return ast.Compare(condition.left, [flip[type(condition.ops[0])]()], condition.comparators)
    return ast.UnaryOp(ast.Not(), condition)


# ----------------------------------------------------------------------------- checking

_OPS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
        ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod, ast.Pow: operator.pow}
_COMPARE = {ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt, ast.LtE: operator.le,
            ast.Gt: operator.gt, ast.GtE: operator.ge, ast.Is: operator.is_, ast.IsNot: operator.is_not}
_CALLS = {"min": min, "max": max, "abs": abs, "int": int, "float": float, "round": round, "len": len,
          "str": str, "sum": sum, "_make_divisible": make_divisible}


_MATH = {"floor": math.floor, "ceil": math.ceil, "sqrt": math.sqrt, "log": math.log}


class _Unknown(Exception):
    pass


def evaluate(expr: ast.expr, values: dict[str, Any]) -> Any:
    """Our own generated expression with the given names' values (conditions and arithmetic
    only: no attribute, no other call), or _Unknown."""
    if isinstance(expr, ast.Constant):
        return expr.value
    if isinstance(expr, ast.Name):
        if expr.id not in values:
            raise _Unknown(expr.id)
        return values[expr.id]
    if isinstance(expr, ast.BinOp) and type(expr.op) in _OPS:
        return _OPS[type(expr.op)](evaluate(expr.left, values), evaluate(expr.right, values))
    if isinstance(expr, ast.UnaryOp):
        operand = evaluate(expr.operand, values)
        return not operand if isinstance(expr.op, ast.Not) else -operand if isinstance(expr.op, ast.USub) else operand
    if isinstance(expr, ast.Compare) and len(expr.ops) == 1:
        return _COMPARE[type(expr.ops[0])](evaluate(expr.left, values), evaluate(expr.comparators[0], values))
    if isinstance(expr, ast.BoolOp):
        results = [evaluate(v, values) for v in expr.values]
        return all(results) if isinstance(expr.op, ast.And) else any(results)
    if isinstance(expr, ast.Subscript) and isinstance(expr.slice, ast.Constant):
        return evaluate(expr.value, values)[expr.slice.value]
    if isinstance(expr, ast.List):
        return [evaluate(e, values) for e in expr.elts]
    if isinstance(expr, ast.Call) and isinstance(expr.func, ast.Name) and expr.func.id in _CALLS:
        return _CALLS[expr.func.id](*(evaluate(a, values) for a in expr.args),
                                    **{k.arg: evaluate(k.value, values) for k in expr.keywords})
    if (isinstance(expr, ast.Call) and isinstance(expr.func, ast.Attribute) and isinstance(expr.func.value, ast.Name)
            and expr.func.value.id == "math" and expr.func.attr in _MATH and not expr.keywords):
        return _MATH[expr.func.attr](*(evaluate(a, values) for a in expr.args))
    raise _Unknown(type(expr).__name__)


def discriminates(conditions: Sequence[ast.expr], members: Sequence[Sequence[dict[str, Any]]]) -> bool:
    """Whether each variant's condition holds for exactly its own instances (`members[v]`: the
    values of the names for each instance of variant v)."""
    try:
        for v, condition in enumerate(conditions):
            for w, instances in enumerate(members):
                for values in instances:
                    if bool(evaluate(condition, values)) != (v == w):
                        return False
    except (_Unknown, ArithmeticError, TypeError, IndexError, KeyError):
        return False
    return True


def decisions_hold(decisions: Sequence[Decisions], members: Sequence[Sequence[dict[str, Any]]]) -> bool:
    """Whether each recorded choice's condition, evaluated with each instance's values, gives the
    outcome that instance's structure recorded (so that any of them can stand for it)."""
    try:
        for choices, instances in zip(decisions, members):
            for values in instances:
                for outcome, condition in choices.values():
                    if bool(evaluate(condition, values)) != outcome:
                        return False
    except (_Unknown, ArithmeticError, TypeError, IndexError, KeyError):
        return False
    return True
