"""Module instances -> block definitions.

The instances of one module class are merged into one block: their statement trees are compared
position by position; where they hold different numbers (a width, a stride) the block takes a
parameter (equal vectors share one; a vector that is a constant multiple of another is written
as that parameter times the constant, ResNet's `out * 4`), and where their structure differs in
two ways (a `downsample` shortcut present in the first bottleneck of a stage only) the block
takes a flag and writes both (`... if has_downsample else x`). Instances that differ in more
ways, or in their statements, become blocks of their own (`Name`, `Name2`). A plain
nn.Sequential whose children are instances of one block becomes `repeat(n, Block(...))`, the
arguments written from the index `i` (`stride=2 if i == 0 else 1`).
"""
from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from archc import ast as A
from archc.importer.emit import REF, value_expr

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


class CannotMerge(Exception):
    pass


@dataclass
class Resolved:
    """What a child instance is in its parent: a block and its arguments."""
    block: str
    args: dict  # parameter -> value (every parameter)


@dataclass
class Param:
    name: str
    values: list  # one per instance; None: that instance does not use it
    flag: bool = False

    def default(self) -> Any:
        known = [v for v in self.values if v is not None]
        if not known:
            return None
        value, count = Counter(_hashable(v) for v in known).most_common(1)[0]
        if self.flag:
            return False if False in known else value
        return value if count * 2 > len(known) else None


def _hashable(v: Any) -> Any:
    if isinstance(v, list):
        return ("list", tuple(_hashable(x) for x in v))
    return (type(v).__name__, v) if isinstance(v, bool) else v


def _unhash(v: Any) -> Any:
    if isinstance(v, tuple) and v and v[0] == "list":
        return [_unhash(x) for x in v[1]]
    return v[1] if isinstance(v, tuple) else v


def skeleton(node: Any) -> str:
    """A tree's structure with its numbers and booleans left out: instances with equal
    skeletons differ only in constants."""
    def strip(x: Any) -> Any:
        if isinstance(x, dict):
            if x.get("_type") in ("Num", "Bool"):
                return {"_type": "Const"}
            return {k: strip(v) for k, v in x.items()}
        if isinstance(x, list):
            return [strip(v) for v in x]
        return x
    return json.dumps(strip(A.without_locs(node)), sort_keys=True, default=str)


def transform(node: Any, fn: Any) -> Any:
    """Rebuild a tree bottom-up, `fn` applied to every node (its children already rebuilt)."""
    if isinstance(node, list):
        return [transform(n, fn) for n in node]
    if not isinstance(node, A._Data):
        return node
    changes = {}
    for name in A.fields(node):
        if name in A.TRIVIA:
            continue
        value = getattr(node, name)
        if isinstance(value, (list, A._Data)):
            new = transform(value, fn)
            if new is not value:
                changes[name] = new
    if changes:
        node = A.replace(node, **changes)
    return fn(node)


class Merger:
    """Merges the trees of `n` instances into one, collecting the parameters."""

    def __init__(self, n: int, avoid: set[str], defaults: dict):
        self.n = n
        self.params: list[Param] = []
        self.avoid = set(avoid)
        self.defaults = defaults  # callee -> {keyword: default}
        self.choices = True  # whether differing forms may become a flag
        self.blocks: dict = {}  # block -> BlockParams (its parameters' names)

    def merge(self, nodes: list, members: list[int], ctx: tuple = ("", "")) -> Any:
        first = nodes[0]
        if all(isinstance(x, (A.Num, A.Bool)) for x in nodes):
            kinds = {isinstance(x, A.Bool) for x in nodes}
            values = [x.value for x in nodes]
            if len(kinds) == 1 and all(_same(v, values[0]) for v in values):
                return first
            if len(kinds) == 1:
                return self.param(values, members, ctx, flag=isinstance(first, A.Bool))
        values = [_constant(x) for x in nodes]
        if all(v is not _NOT_CONSTANT for v in values) and not all(_form(x) == _form(first) for x in nodes):
            return self.param(values, members, ctx)  # 3 here, [1, 7] there: one parameter
        if isinstance(first, list):
            if any(not isinstance(x, list) or len(x) != len(first) for x in nodes):
                raise CannotMerge("lists of different lengths")
            return [self.merge([x[k] for x in nodes], members, ctx) for k in range(len(first))]
        if not isinstance(first, A._Data):
            if all(x == first for x in nodes):
                return first
            raise CannotMerge("values differ")
        if isinstance(first, A.Call):
            nodes = self.fill_keywords(nodes)
            first = nodes[0]
        if isinstance(first, A.Pipe) and all(isinstance(x, A.Pipe) for x in nodes) and \
                not all(self.alike(first.target, x.target) for x in nodes[1:]):
            return self.choice(nodes, members, ctx)  # a pipe's step is a call, never a choice
        if all(_form(x) == _form(first) for x in nodes):
            return self.merge_fields(nodes, members, ctx)
        return self.choice(nodes, members, ctx)

    def merge_fields(self, nodes: list, members: list[int], ctx: tuple) -> Any:
        first = nodes[0]
        changes = {}
        for name in A.fields(first):
            if name in A.TRIVIA:
                continue
            value = getattr(first, name)
            if not isinstance(value, (list, A._Data)):
                continue
            sub = ctx
            if isinstance(first, A.Call):
                label = _call_label(first)
                if name == "args":
                    merged = [self.merge([x.args[k] for x in nodes], members,
                                         (label, _positional(first, k, self.blocks)))
                              for k in range(len(value))]
                    changes[name] = merged
                    continue
                sub = (label, ctx[1])
            if isinstance(first, A.Keyword):
                sub = (ctx[0], first.name)
            changes[name] = self.merge([getattr(x, name) for x in nodes], members, sub)
        node = A.replace(first, **changes) if changes else first
        if isinstance(node, A.Call):
            node = self.drop_defaults(node)
        return node

    def alike(self, a: Any, b: Any) -> bool:
        """Whether two trees merge without a flag (they differ in constants only)."""
        probe = Merger(2, set(), self.defaults)
        probe.choices = False
        probe.blocks = self.blocks
        try:
            probe.merge([a, b], [0, 1])
        except CannotMerge:
            return False
        return True

    def choice(self, nodes: list, members: list[int], ctx: tuple) -> A.Expr:
        if not self.choices:
            raise CannotMerge("different forms")
        groups: list[list[int]] = []
        for k, node in enumerate(nodes):
            for group in groups:
                if self.alike(nodes[group[0]], node):
                    group.append(k)
                    break
            else:
                groups.append([k])
        if len(groups) != 2:
            raise CannotMerge(f"{len(groups)} different forms")
        a, b = groups
        if not (isinstance(nodes[a[0]], A.Name) or isinstance(nodes[b[0]], A.Name)):
            # a flag says whether a branch is there (a shortcut's downsample); two unrelated
            # forms behind one flag would read as two blocks in one
            raise CannotMerge("two different forms")
        label = _flag_label(nodes[a[0]], nodes[b[0]])
        flag = self.param([k in a for k in range(len(nodes))], members, (label, ""), flag=True, exact=True)
        yes = self.merge([nodes[k] for k in a], [members[k] for k in a], ctx)
        no = self.merge([nodes[k] for k in b], [members[k] for k in b], ctx)
        return A.IfExpr(test=flag, body=yes, orelse=no)

    def fill_keywords(self, nodes: list) -> list:
        """Calls of one op or block: a keyword some give and others leave at its default is given
        its default where left out, so that the calls line up."""
        funcs = {x.func for x in nodes if isinstance(x, A.Call)}
        if len(funcs) != 1 or not all(isinstance(x, A.Call) for x in nodes):
            return nodes
        defaults = self.defaults.get(nodes[0].func) or {}
        order: list[str] = []
        for x in nodes:
            for k in x.kwargs:
                if k.name not in order:
                    order.append(k.name)
        if any(name not in defaults for name in order if any(name not in {k.name for k in x.kwargs} for x in nodes)):
            return nodes
        ranked = list(defaults)
        order.sort(key=lambda name: ranked.index(name) if name in ranked else len(ranked))
        out = []
        for x in nodes:
            given = {k.name: k.value for k in x.kwargs}
            out.append(A.replace(x, kwargs=[A.Keyword(name=name, value=given.get(name, value_expr(defaults.get(name))))
                                            for name in order]))
        return out

    def drop_defaults(self, call: A.Call) -> A.Call:
        defaults = self.defaults.get(call.func) or {}
        kept = [k for k in call.kwargs
                if not (k.name in defaults and isinstance(k.value, (A.Num, A.Bool, A.Name, A.NoneLit))
                        and _equal_expr(k.value, value_expr(defaults[k.name])))]
        return A.replace(call, kwargs=kept) if len(kept) != len(call.kwargs) else call

    def param(self, values: list, members: list[int], ctx: tuple, flag: bool = False, exact: bool = False) -> A.Expr:
        full: list = [None] * self.n
        for m, v in zip(members, values):
            full[m] = v
        for p in self.params:
            if p.flag == flag and _compatible(p.values, full):
                p.values = [a if a is not None else b for a, b in zip(p.values, full)]
                return A.Name(id=p.name)
        if not flag and not exact:
            scaled = self.scaled(full)
            if scaled is not None:
                return scaled
        name = self.fresh(ctx, flag)
        self.params.append(Param(name, full, flag))
        return A.Name(id=name)

    def scaled(self, full: list) -> A.Expr | None:
        """`full` as an existing parameter times (or divided by) a constant."""
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in full if v is not None):
            return None
        for p in self.params:
            pairs = [(a, b) for a, b in zip(p.values, full) if b is not None]
            if p.flag or not pairs or any(not isinstance(a, int) or isinstance(a, bool) or a == 0 for a, _ in pairs):
                continue
            if all(b % a == 0 for a, b in pairs) and len({b // a for a, b in pairs}) == 1:
                k = pairs[0][1] // pairs[0][0]
                if k > 1:
                    return A.Binary(op="*", left=A.Name(id=p.name), right=A.Num(value=k))
            if all(b and a % b == 0 for a, b in pairs) and len({a // b for a, b in pairs}) == 1:
                k = pairs[0][0] // pairs[0][1]
                if k > 1:
                    return A.Binary(op="//", left=A.Name(id=p.name), right=A.Num(value=k))
        return None

    def fresh(self, ctx: tuple, flag: bool) -> str:
        module, attr = (re.sub(r"\W", "_", c).strip("_") for c in ctx)
        if flag:
            candidates = [module or "variant"]
        else:
            candidates = [attr, f"{module}_{attr}"] if attr else [module or "value"]
        taken = {p.name for p in self.params} | self.avoid
        for base in candidates:
            if base and _IDENT.match(base) and base not in taken:
                return base
        base = next(c for c in candidates if c and _IDENT.match(c)) if any(
            c and _IDENT.match(c) for c in candidates) else "value"
        k = 2
        while f"{base}{k}" in taken:
            k += 1
        return f"{base}{k}"


_NOT_CONSTANT = object()


def _constant(node: Any) -> Any:
    """The value of a number, boolean or list of them; _NOT_CONSTANT for anything else."""
    if isinstance(node, (A.Num, A.Bool)):
        return node.value
    if isinstance(node, A.ListExpr):
        items = [_constant(i) for i in node.items]
        return _NOT_CONSTANT if any(i is _NOT_CONSTANT for i in items) else items
    return _NOT_CONSTANT


def _same(a: Any, b: Any) -> bool:
    return type(a) is type(b) and a == b


def _equal_expr(a: A.Expr, b: A.Expr) -> bool:
    return A.without_locs(a) == A.without_locs(b)


def _compatible(a: list, b: list) -> bool:
    return all(x is None or y is None or _same(x, y) for x, y in zip(a, b)) and \
        any(x is not None and y is not None for x, y in zip(a, b))


def _form(node: Any) -> Any:
    """What must be equal for two nodes to be merged field by field."""
    out: list = [type(node).__name__]
    for name in A.fields(node):
        if name in A.TRIVIA:
            continue
        value = getattr(node, name)
        if isinstance(value, list):
            out.append((name, len(value), tuple(v.name for v in value if isinstance(v, A.Keyword)),
                        tuple(v for v in value if isinstance(v, str))))
        elif not isinstance(value, A._Data):
            if isinstance(node, (A.Num, A.Bool)):
                out.append((name, type(value).__name__))
            else:
                out.append((name, value))
    return tuple(out)


def _call_label(call: A.Call) -> str:
    for k in call.kwargs:
        if k.name == "name":
            return k.value.value if isinstance(k.value, A.Str) else getattr(k.value, "id", call.func)
    return call.func


def _positional(call: A.Call, k: int, blocks: dict) -> str:
    from archc.ops import REGISTRY
    op = REGISTRY.get(call.func)
    if op is None:
        block = blocks.get(call.func)
        inputs = len(call.args) - len(block.required) if block is not None else 0
        if block is not None and 0 <= k - inputs < len(block.required):
            return block.required[k - inputs]
        return f"arg{k}"
    return op.attrs[k].name if k < len(op.attrs) else f"arg{k}"


def _names_in(node: Any) -> list[str]:
    out = []
    for n in A.walk(node):
        if isinstance(n, A.Keyword) and n.name == "name":
            out.append(n.value.value if isinstance(n.value, A.Str) else getattr(n.value, "id", ""))
    return out


def _flag_label(a: Any, b: Any) -> str:
    extra = [n for n in _names_in(a) if n not in _names_in(b)]
    if extra:
        return "has_" + extra[0].split(".")[-1]
    if isinstance(a, A.Binary) and a.op == "+":
        return "residual"
    return "variant"


# ----------------------------------------------------------------------------- repeat


def index_expr(values: list) -> A.Expr:
    """The expression of the index `i` giving values[i]."""
    i = A.Name(id="i")
    first = values[0]
    if all(_same(v, first) for v in values):
        return value_expr(first)
    rest = values[1:]
    if rest and all(_same(v, rest[0]) for v in rest):
        if isinstance(first, bool) and isinstance(rest[0], bool):
            return A.Compare(op="==" if first else "!=", left=i, right=A.Num(value=0))
        return A.IfExpr(test=A.Compare(op="==", left=i, right=A.Num(value=0)), body=value_expr(first),
                        orelse=value_expr(rest[0]))
    if all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        step = values[1] - values[0]
        if all(values[k] == first + step * k for k in range(len(values))):
            term = i if step == 1 else A.Binary(op="*", left=A.Num(value=step), right=i)
            return term if first == 0 else A.Binary(op="+", left=A.Num(value=first), right=term)
    return A.Subscript(value=value_expr(list(values)), index=i)


def as_repeat(call: A.Call, blocks: dict) -> A.Expr:
    """`sequential(B(...), B(...), ...)` of one block -> `repeat(n, B(args of i))`."""
    items = call.args
    if len(items) < 2 or not all(isinstance(x, A.Call) and x.func in blocks for x in items) or \
            len({x.func for x in items}) != 1:
        return call
    block = items[0].func
    params = blocks[block]
    per: dict[str, list] = {}
    for x in items:
        given = dict(zip(params.required, x.args))
        given.update({k.name: k.value for k in x.kwargs})
        for p in params.order:
            value = given.get(p)
            if value is None:
                value = value_expr(params.defaults.get(p))
            if not isinstance(value, (A.Num, A.Bool, A.NoneLit, A.Name, A.Str)):
                return call
            per.setdefault(p, []).append(value)
    args: list[A.Expr] = []
    kwargs: list[A.Keyword] = []
    for p in params.order:
        exprs = per[p]
        plain = [x.value if isinstance(x, (A.Num, A.Bool, A.Str)) else x for x in exprs]
        if any(isinstance(v, A._Data) for v in plain):
            if all(_equal_expr(e, exprs[0]) for e in exprs):
                expr = exprs[0]
            else:
                return call
        else:
            expr = index_expr(plain)
        if p in params.required:
            args.append(expr)
        elif not (isinstance(expr, (A.Num, A.Bool)) and _same(expr.value, params.defaults.get(p))):
            kwargs.append(A.Keyword(name=p, value=expr))
    inner = A.Call(func=block, args=args, kwargs=kwargs)
    return A.Call(func="repeat", args=[A.Num(value=len(items)), inner], kwargs=call.kwargs)


@dataclass
class BlockParams:
    order: list[str] = field(default_factory=list)
    required: list[str] = field(default_factory=list)
    defaults: dict = field(default_factory=dict)
    unread: set = field(default_factory=set)  # positions of inputs the block never reads


def resolve_refs(node: Any, resolved: dict, blocks: dict) -> Any:
    """Child references (`@layer1.0`) -> calls of their blocks with their arguments; a
    sequential of alike blocks -> repeat."""
    def fn(n: Any) -> Any:
        if isinstance(n, A.Call) and n.func.startswith(REF):
            r = resolved[n.func[len(REF):]]
            params = blocks[r.block]
            tensors = [a for k, a in enumerate(n.args) if k not in params.unread]
            args = tensors + [value_expr(r.args[p]) for p in params.required]
            kwargs = [A.Keyword(name=p, value=value_expr(r.args[p])) for p in params.order
                      if p not in params.required and r.args.get(p) is not None
                      and not _same(r.args[p], params.defaults.get(p))]
            call = A.Call(func=r.block, args=args, kwargs=kwargs + list(n.kwargs))
            if len(n.args) > 1 and len(tensors) == 1:  # one input left: piped
                return A.Pipe(source=tensors[0], target=A.replace(call, args=args[1:]))
            return call
        if isinstance(n, A.Pipe) and n.target.func == "sequential":  # a repeat needs its input
            return A.replace(n, target=as_repeat(n.target, blocks))
        return n
    return transform(node, fn)
