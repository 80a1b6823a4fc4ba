"""One traced module's graph -> archc statements (AST).

Each fx node becomes an archc expression: a table op (`x -> conv2d(64, 3, name=conv1)`), an
operator (`a + b`), a child block (a reference `@path` resolved once the child's block is known,
archc/importer/blocks.py) or a `sequential(...)` of a plain nn.Sequential's children. A node read
once is written inside the expression that reads it (chains `x -> conv -> bn -> relu`); a node
read more than once is named by a statement, after fx's node name (the module's attribute name
for a module call). Layers with weights or buffers carry their attribute name (`name=conv1`), so
the state_dict keys are PyTorch's; stateless ones (relu, pooling) carry none.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from archc import ast as A
from archc.importer import table as T
from archc.importer.trace import ImportFailure, Site, TensorInfo, Traced, node_site

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
REF = "@"  # a child block's call before resolution: Call(func="@" + its module path)


def reserved_words() -> frozenset:
    from archc.frontend.lexicon import KEYWORDS
    from archc.language import BUILTINS, SPECIAL_FORMS
    from archc.ops import REGISTRY
    return frozenset(KEYWORDS) | set(BUILTINS) | set(SPECIAL_FORMS) | set(REGISTRY.names()) | {
        "i", "name", "frozen", "init", "bias_init", "inline", "input_as", "N", "H", "W", "D", "L"}


def value_expr(value: Any) -> A.Expr:
    """A plain Python value as an archc expression."""
    if isinstance(value, bool):
        return A.Bool(value=value)
    if isinstance(value, (int, float)):
        return A.Num(value=value)
    if value is None:
        return A.NoneLit()
    if isinstance(value, str):
        return A.Name(id=value) if _IDENT.match(value) else A.Str(value=value)
    if isinstance(value, (list, tuple)):
        return A.ListExpr(items=[value_expr(v) for v in value])
    raise T.Unsupported(f"the value {value!r}")


def name_expr(name: str) -> A.Expr:
    """A module name: a bare word where the language allows (not a keyword: `name="block"`)."""
    from archc.frontend.lexicon import KEYWORDS
    return A.Name(id=name) if _IDENT.match(name) and name not in KEYWORDS else A.Str(value=name)


def op_call(call: T.OpCall, inputs: list[A.Expr], name: str | None = None) -> A.Expr:
    """An op with the attribute values that differ from its defaults: required ones by position
    (single-input ops), the rest by keyword; piped from its input when it has one."""
    from archc.ops import REGISTRY
    op = REGISTRY.get(call.op)
    args: list[A.Expr] = []
    kwargs: list[A.Keyword] = []
    single = len(inputs) == 1
    limit = op.positional if op.positional is not None else len(op.attrs)
    for k, attr in enumerate(op.attrs):
        if attr.name not in call.attrs:
            continue
        value = call.attrs[attr.name]
        if not attr.required and _same(value, attr.default):
            continue
        if attr.required and single and k < limit and len(args) == k:
            args.append(value_expr(value))
        else:
            kwargs.append(A.Keyword(name=attr.name, value=value_expr(value)))
    if name is not None:
        kwargs.append(A.Keyword(name="name", value=name_expr(name)))
    if single:
        return A.Pipe(source=inputs[0], target=A.Call(func=call.op, args=args, kwargs=kwargs))
    return A.Call(func=call.op, args=[*inputs, *args], kwargs=kwargs)


def _same(value: Any, default: Any) -> bool:
    if isinstance(value, bool) or isinstance(default, bool):
        return value is default or (type(value) is type(default) and value == default)
    if isinstance(default, tuple):
        default = list(default)
    return value == default or (isinstance(value, list) and value and all(v == default for v in value))


@dataclass
class Dims:
    """A non-tensor value made from tensor sizes: `x.shape` (index None), `x.size(2)` (index 2)
    or `x.shape[-2:]` (index a slice); `value` is what it was on the example inputs."""
    tensor: Any  # the fx node of the tensor
    index: Any
    value: Any
    expr: Any = None  # an archc expression of it (`x.shape[2] // 2`), where there is one


@dataclass
class Pieces:
    """A node whose value is several tensors (chunk, split, a block with several results): the
    names its parts are bound to."""
    names: list[str]
    keys: list | None = None  # a dict's keys, in order (None: by position)


@dataclass
class Body:
    """One module's statements: its inputs, the statements naming values read more than once,
    and what it returns."""
    path: str
    inputs: list[str]
    statements: list[A.Assign] = field(default_factory=list)
    returns: list[A.Expr] = field(default_factory=list)
    output_names: list[str] | None = None  # dict keys of the model's returned dict
    tuple_names: list[str] | None = None  # a named tuple's fields (InceptionOutputs)
    training: set = field(default_factory=set)  # the returns computed only in training


class Emitter:
    """Converts one traced module's graph (`Traced`) to a `Body`."""

    def __init__(self, traced: Traced, capture: Any, stateful: Any, kind_of: Any):
        self.traced = traced
        self.capture = capture
        self.stateful = stateful  # module path -> has weights or buffers
        self.kind_of = kind_of  # module path -> "op" | "sequential" | "block"
        self.exprs: dict = {}
        self.values = traced.values
        self.body = Body(traced.path, [])
        self.reserved = reserved_words()
        self.taken: set[str] = set()
        self.functions = T.functions()
        self.uses = _reads(traced.graph)
        self.current = None  # the node being converted
        self.concats: dict = {}  # (axis, parts) -> the name of their concatenation
        # a module taking a list it concatenates: that concatenation is its input
        self.list_cat = set()
        if traced.path in getattr(capture, "list_blocks", {}):
            for n in traced.graph.nodes:
                if n.op == "placeholder":
                    self.list_cat |= set(n.users)

    # -------------------------------------------------------------------- helpers for the table

    def site(self, node: Any) -> Site:
        return node_site(self.traced.path, node)

    def full(self, target: str) -> str:
        return f"{self.traced.path}.{target}" if self.traced.path else target

    def is_tensor(self, arg: Any) -> bool:
        return hasattr(arg, "op") and isinstance(self.values.get(arg), TensorInfo)

    def tensor(self, arg: Any) -> A.Expr:
        if not self.is_tensor(arg):
            raise T.Unsupported(f"{arg!r} where a tensor is expected")
        return self.exprs[arg]

    def shape_of(self, arg: Any) -> tuple:
        info = self.values.get(arg)
        if not isinstance(info, TensorInfo):
            raise T.Unsupported(f"{arg!r} is not a tensor")
        return info.shape

    def constant(self, arg: Any) -> Any:
        """A plain value: a literal, or a value computed from sizes (its example value)."""
        if hasattr(arg, "op"):
            if self.is_tensor(arg):
                raise T.Unsupported("a tensor where archc's op takes a number")
            if isinstance(self.exprs.get(arg), Dims):
                return self.exprs[arg].value
            return self.values.get(arg)
        if isinstance(arg, (list, tuple)):
            return type(arg)(self.constant(a) for a in arg)
        if isinstance(arg, slice):
            return slice(self.constant(arg.start), self.constant(arg.stop), self.constant(arg.step))
        if hasattr(arg, "is_floating_point") or type(arg).__module__.startswith("torch"):
            raise T.Unsupported(f"the value {arg!r}")
        return arg

    def op_expr(self, call: T.OpCall, inputs: list[A.Expr], name: str | None = None) -> A.Expr:
        return op_call(call, inputs, name)

    def binary(self, symbol: str, a: Any, b: Any) -> Any:
        ta, tb = self.is_tensor(a), self.is_tensor(b)
        if not ta and not tb:  # arithmetic on sizes
            va, vb = self.constant(a), self.constant(b)
            import operator
            fn = {"+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv,
                  "//": operator.floordiv, "==": operator.eq, "!=": operator.ne, "<": operator.lt,
                  "<=": operator.le, ">": operator.gt, ">=": operator.ge}[symbol]
            if symbol in ("==", "!=", "<", "<=", ">", ">="):
                return Dims(None, None, fn(va, vb))
            value = fn(va, vb)
            ea, eb = self.size_expr(a), self.size_expr(b)
            expr = A.Binary(op=symbol, left=ea, right=eb) if ea is not None and eb is not None and \
                symbol != "/" else None
            return Dims(None, None, value, expr)
        left = self.operand(a) if ta else value_expr(self.constant(a))
        right = self.operand(b) if tb else value_expr(self.constant(b))
        if symbol == "/" and not tb and not isinstance(self.constant(b), (int, float)):
            raise T.Unsupported("division by a non-number")
        if not ta and symbol in ("-", "/"):
            raise T.Unsupported(f"a number {symbol} a tensor")
        if not ta:  # 2 * x -> x * 2 (elementwise, same values)
            left, right = right, left
        return A.Binary(op=symbol, left=left, right=right)

    def size_expr(self, arg: Any) -> A.Expr | None:
        """A size as an archc expression: `t.shape[2]` for x.size(2) (naming `t` by a statement
        if it has no name), arithmetic on those, or the number itself."""
        if not hasattr(arg, "op"):
            return value_expr(arg) if isinstance(arg, int) else None
        dims = self.exprs.get(arg)
        if not isinstance(dims, Dims):
            return None
        if dims.expr is not None:
            return dims.expr
        if dims.tensor is None or not isinstance(dims.index, int):
            return None
        source = self.exprs[dims.tensor]
        if not isinstance(source, A.Name):
            self.bind(dims.tensor, source)
            source = self.exprs[dims.tensor]
        return A.Subscript(value=A.Attribute(value=source, attr="shape"), index=A.Num(value=dims.index))

    def concat(self, parts: list, axis: int, bind: bool = False) -> A.Expr:
        """concat(a, b, c) of fx nodes; where concat(a, b) was made before, concat(that, c): the
        same values, and dense connectivity reads as a chain instead of ever longer lists."""
        if len(parts) == 1:
            return self.operand(parts[0])
        key = (axis, tuple(parts))
        prefix = self.concats.get((axis, tuple(parts[:-1])))
        if prefix is not None:
            value = op_call(T.OpCall("concat", {"axis": axis}), [prefix, self.operand(parts[-1])])
        else:
            value = op_call(T.OpCall("concat", {"axis": axis}), [self.operand(p) for p in parts])
        if bind:
            name = self.fresh("features")
            self.body.statements.append(A.Assign(targets=[name], value=value))
            value = A.Name(id=name)
            self.concats[key] = value
        return value

    def operand(self, node: Any) -> A.Expr:
        """A tensor read by an operator or a merge: a chain of two or more layers is named by a
        statement first (`y = x -> conv -> bn`, then `y + s`), as one would write it."""
        value = self.exprs[node]
        if isinstance(value, A.Pipe) and isinstance(value.source, A.Pipe):
            self.bind(node, value)
            return self.exprs[node]
        return value

    def reshape(self, source: Any, sizes: list) -> A.Expr:
        if not sizes:
            raise T.Unsupported("a reshape without sizes")
        first = sizes[0]
        batch = hasattr(first, "op") and isinstance(self.exprs.get(first), Dims) and \
            self.exprs[first].index == 0 and self.exprs[first].tensor is not None
        if not batch:
            raise T.Unsupported("a reshape that does not keep the batch axis as x.size(0) (archc reshapes "
                                "each sample: write x.view(x.size(0), ...))")
        rest = []
        for s in sizes[1:]:
            expr = self.size_expr(s)
            rest.append(expr if expr is not None else value_expr(self.constant(s)))
        x = self.tensor(source)  # after the sizes, which may have named it
        return A.Pipe(source=x, target=A.Call(func="reshape", args=[A.ListExpr(items=rest)]))

    def size(self, node: Any) -> Dims:
        """x.shape, x.size(), x.size(k), x.dim()."""
        tensor = node.args[0]
        if node.op == "call_method" and node.target == "dim":
            return Dims(None, None, len(self.shape_of(tensor)))
        index = None
        if node.op == "call_method" and (len(node.args) > 1 or "dim" in node.kwargs):
            index = self.constant(node.args[1] if len(node.args) > 1 else node.kwargs["dim"])
        elif node.op == "call_function" and node.args[1] == "ndim":
            return Dims(None, None, len(self.shape_of(tensor)))
        elif node.op == "call_function" and node.args[1] != "shape":
            raise T.Unsupported(f"the attribute .{node.args[1]}")
        if index is not None and index < 0:
            index += len(self.shape_of(tensor))
        return Dims(tensor, index, self.values.get(node))

    def unsqueeze(self, source: Any, dim: int) -> A.Expr:
        if getattr(source, "op", None) == "call_function" and getattr(source.target, "__name__", "") == "getitem" \
                and self.uses.get(source, 0) == 1:
            base, index = source.args
            items = list(index) if isinstance(index, tuple) else [index]
            if self.is_tensor(base) and dim < len(items) + 1 and len(items) > dim - 1 >= 0 \
                    and dim < len(items) and isinstance(items[dim], int) \
                    and all(isinstance(i, slice) or (k == dim) for k, i in enumerate(items)):
                k = items[dim] % self.shape_of(base)[dim]
                items[dim] = slice(k, k + 1)
                return A.Subscript(value=self.exprs[base], index=self._indices(tuple(items)))
        shape = list(self.shape_of(source))
        rest = [value_expr(d) for d in shape[1:dim]] + [A.Num(value=1)] + [value_expr(d) for d in shape[dim:]]
        return A.Pipe(source=self.tensor(source), target=A.Call(func="reshape", args=[A.ListExpr(items=rest)]))

    def nothing(self) -> Dims:
        """The value of a call that computes nothing archc needs (an assertion)."""
        return Dims(None, None, None)

    def size_source(self, arg: Any) -> A.Expr | None:
        """The tensor whose spatial size `arg` is (x.shape[-2:], x.shape[2:]), or None."""
        dims = self.exprs.get(arg) if hasattr(arg, "op") else None
        if isinstance(dims, Dims) and dims.tensor is not None and isinstance(dims.index, slice):
            rank = len(self.shape_of(dims.tensor))
            covered = list(range(rank))[dims.index]
            if covered == list(range(2, rank)):
                return self.exprs[dims.tensor]
        return None

    def getitem(self, node: Any) -> Any:
        source, index = node.args
        holder = self.exprs.get(source)
        if isinstance(holder, Pieces):
            return A.Name(id=holder.names[holder.keys.index(index) if holder.keys is not None else index])
        if isinstance(holder, Dims):
            if holder.index is not None:
                raise T.Unsupported("indexing a size")
            rank = len(self.shape_of(holder.tensor))
            if isinstance(index, int):
                return Dims(holder.tensor, index % rank, self.values.get(node))
            return Dims(holder.tensor, index, self.values.get(node))
        if self.is_tensor(source):
            return A.Subscript(value=self.exprs[source], index=self._indices(index))
        raise T.Unsupported(f"indexing {source!r}")

    def _indices(self, index: Any) -> A.Expr:
        items = list(index) if isinstance(index, tuple) else [index]
        out = []
        for item in items:
            item = self.constant(item)
            if item is Ellipsis or item is None:
                raise T.Unsupported("... or None in a tensor index")
            if isinstance(item, slice):
                out.append(A.Slice(start=None if item.start is None else value_expr(item.start),
                                   stop=None if item.stop is None else value_expr(item.stop),
                                   step=None if item.step is None else value_expr(item.step)))
            elif isinstance(item, int):
                out.append(value_expr(item))
            else:
                raise T.Unsupported(f"the index {item!r}")
        return out[0] if len(out) == 1 else A.Indices(items=out)

    def pieces(self, op: str, x: A.Expr, attrs: dict, node: Any) -> Pieces:
        value = self.values.get(node)
        count = len(value)
        names = [self.fresh(f"{node.name}_{k}") for k in range(count)]
        for user in node.users:
            if user.op == "call_function" and user.target.__name__ == "getitem" and isinstance(user.args[1], int):
                names[user.args[1]] = self.fresh(user.name)
        read = {user.args[1] for user in node.users if len(user.args) > 1 and isinstance(user.args[1], int)}
        names = [n if k in read else "_" + n for k, n in enumerate(names)]
        self.body.statements.append(A.Assign(targets=names, value=op_call(T.OpCall(op, attrs), [x])))
        return Pieces(names)

    def fresh(self, base: str) -> str:
        name = re.sub(r"\W", "_", base)
        if not _IDENT.match(name):
            name = "t_" + name
        if name in self.reserved or name in self.taken:
            stem = name.rstrip("0123456789") or name
            k = 2
            while f"{stem}{k}" in self.reserved or f"{stem}{k}" in self.taken:
                k += 1
            name = f"{stem}{k}"
        self.taken.add(name)
        return name

    # -------------------------------------------------------------------- the graph

    def run(self) -> Body:
        for node in self.traced.graph.nodes:
            self.current = node
            try:
                self.node(node)
            except T.Unsupported as e:
                raise ImportFailure(f"{_what(node)} cannot be imported: {e}", self.site(node),
                                    code="E-TORCH-UNSUPPORTED") from None
        return self.body

    def node(self, node: Any) -> None:
        if node.op == "placeholder":
            name = self.fresh(node.name)
            self.body.inputs.append(name)
            self.exprs[node] = A.Name(id=name)
            return
        if node.op == "output":
            self.output(node.args[0])
            return
        if node in self.list_cat:
            self.exprs[node] = self.exprs[node.args[0]]
            self.values[node.args[0]] = self.values[node]
            return
        if node.op == "get_attr":
            self.exprs[node] = self.attribute(node)
        elif node.op == "call_module":
            self.exprs[node] = self.module_call(node)
        elif node.op == "call_function":
            entry = self.functions.get(node.target)
            if entry is None:
                raise ImportFailure(f"the function {_callable_name(node.target)} has no archc op",
                                    self.site(node), code="E-TORCH-FUNCTION")
            self.exprs[node] = entry(T.Call(self, node))
        elif node.op == "call_method":
            entry = T.METHODS.get(node.target)
            if entry is None:
                raise ImportFailure(f"the tensor method .{node.target}() has no archc op", self.site(node),
                                    code="E-TORCH-FUNCTION")
            self.exprs[node] = entry(T.Call(self, node))
        value = self.exprs[node]
        if isinstance(value, A.Node) and self.uses[node] > 1 and not isinstance(value, A.Name):
            self.bind(node, value)

    def bind(self, node: Any, value: A.Expr) -> None:
        target = node.target if node.op == "call_module" else None
        chain = isinstance(value, A.Pipe) and isinstance(value.source, A.Pipe)
        if chain:  # names no module: not after its last one (`name=bn3` would clash)
            name = self.fresh("h")
        else:
            base = target if target and _IDENT.match(target) else node.name
            if target and _drop_own_name(value, base) is value and base in _names_in(value):
                base = "h"  # the statement cannot name the module: a name of its own
            name = self.fresh(base)
        value = _drop_own_name(value, name)
        self.body.statements.append(A.Assign(targets=[name], value=value))
        self.exprs[node] = A.Name(id=name)

    def attribute(self, node: Any) -> A.Expr:
        import torch
        owner = self.traced.module
        try:
            value = owner.get_parameter(node.target)
        except AttributeError:
            value = None
        if isinstance(value, torch.nn.Parameter):
            return A.Call(func="parameter", args=[value_expr(list(value.shape))],
                          kwargs=[A.Keyword(name="name", value=name_expr(node.target))])
        raise T.Unsupported(f"the tensor attribute self.{node.target} (a buffer or constant tensor read in "
                            "forward; archc's constant() is not in the state_dict)")

    def module_call(self, node: Any) -> A.Expr:
        path = self.full(node.target)
        module = self.capture.modules[path]
        listed = getattr(self.capture, "list_blocks", {})
        if path in listed and len(node.args) == 1 and isinstance(node.args[0], (list, tuple)):
            joined = self.concat(list(node.args[0]), listed[path], bind=True)
            name = node.target if self.stateful(path) else None
            return ref_call(path, [joined], name)
        if node.kwargs or not all(self.is_tensor(a) for a in node.args):
            raise T.Unsupported(f"{type(module).__name__} called with arguments other than tensors")
        inputs = [self.exprs[a] for a in node.args]
        kind = self.kind_of(path)
        name = node.target if self.stateful(path) else None
        if self.capture.counts.get(path, 1) > 1 and self.stateful(path):
            return self.shared(node, path, inputs)
        if kind == "op":
            return self.layers(path, inputs, name)
        if kind == "sequential":
            return self.sequential(path, node.target, inputs)
        value = self.values.get(node)
        if isinstance(value, (tuple, list, dict)):  # several results: `a, b = x -> Block()`
            return self.results(node, ref_call(path, inputs, name), value)
        return ref_call(path, inputs, name)

    def results(self, node: Any, call: A.Expr, value: Any) -> Pieces:
        keys = list(value) if isinstance(value, dict) else list(range(len(value)))
        names = [self.fresh(f"{node.name}_{k}") for k in keys]
        read = set()
        for user in node.users:
            if user.op == "call_function" and getattr(user.target, "__name__", "") == "getitem" \
                    and user.args[1] in keys:
                read.add(keys.index(user.args[1]))
            else:
                raise T.Unsupported("a module's several results used other than one by one")
        names = [n if k in read else "_" + n for k, n in enumerate(names)]
        self.body.statements.append(A.Assign(targets=names, value=call))
        return Pieces(names, keys)

    def shared(self, node: Any, path: str, inputs: list[A.Expr]) -> A.Expr:
        """A module with weights applied more than once: `conv = shared(conv2d(...))` once, then
        applied by name."""
        key = ("shared", path)
        if key not in self.exprs:
            if not _IDENT.match(node.target):
                raise T.Unsupported(f"the module '{node.target}' is applied more than once under a dotted "
                                    "name (archc's shared layers are named by a statement)")
            module = self.capture.modules[path]
            if self.kind_of(path) == "op":
                layer = op_call(self.single(path), [])
            elif self.kind_of(path) == "sequential":
                layer = self.sequential(path, node.target, [])
            else:
                layer = ref_call(path, [], None)
            name = self.fresh(node.target)
            self.body.statements.append(A.Assign(targets=[name], value=A.Call(func="shared", args=[layer])))
            self.exprs[key] = name
        name = self.exprs[key]
        if len(inputs) == 1:
            return A.Pipe(source=inputs[0], target=A.Call(func=name))
        return A.Call(func=name, args=inputs)

    def layers(self, path: str, inputs: list[A.Expr], name: str | None) -> A.Expr:
        """A table module's layer (or layers: the first holds the weights and the name)."""
        calls = self.convert(path)
        if not isinstance(calls, list) and calls.op == "identity" and len(inputs) == 1 and not name:
            return inputs[0]  # nn.Identity computes nothing
        if not isinstance(calls, list):
            return op_call(calls, inputs, name)
        x = op_call(calls[0], inputs, name)
        for call in calls[1:]:
            x = op_call(call, [x])
        return x

    def single(self, path: str) -> T.OpCall:
        calls = self.convert(path)
        if isinstance(calls, list):
            if len(calls) != 1:
                raise T.Unsupported("a module of several layers applied more than once")
            return calls[0]
        return calls

    def convert(self, path: str) -> "T.OpCall | list[T.OpCall]":
        """A table module's op; what it cannot express is reported at the module itself."""
        module = self.capture.modules[path]
        try:
            return T.module_entry(module)(module)
        except T.Unsupported as e:
            site = self.site(self.current) if self.current is not None else Site(path)
            raise ImportFailure(f"the module '{path}' ({type(module).__name__}) cannot be imported: {e}",
                                Site(path, site.file, site.line, site.code), code="E-TORCH-UNSUPPORTED") from None

    def sequential(self, path: str, target: str, inputs: list[A.Expr]) -> A.Expr:
        """A plain nn.Sequential: `sequential(...)` of its children when they are numbered 0, 1, …
        (blocks.py makes a run of alike blocks a `repeat`); otherwise its children chained in the
        caller with dotted names (`features.conv0`), a container's members."""
        module = self.capture.modules[path]
        children = list(module.named_children())
        if len(inputs) > 1:
            raise T.Unsupported("an nn.Sequential called with several inputs")
        numbered = [n for n, _ in children] == [str(k) for k in range(len(children))]
        if numbered and children:
            items = [self.item(f"{path}.{n}", m) for n, m in children]
            name = target if self.stateful(path) else None
            kwargs = [A.Keyword(name="name", value=name_expr(name))] if name else []
            return A.Call(func="sequential", args=items, kwargs=kwargs) if len(inputs) == 0 else \
                A.Pipe(source=inputs[0], target=A.Call(func="sequential", args=items, kwargs=kwargs))
        if not inputs:
            raise T.Unsupported("an nn.Sequential with named children applied more than once")
        x = inputs[0]
        for n, m in children:
            child = f"{path}.{n}"
            dotted = f"{target}.{n}"
            kind = self.kind_of(child)
            name = dotted if self.stateful(child) else None
            if kind == "op":
                x = self.layers(child, [x], name)
            elif kind == "sequential":
                x = self.sequential(child, dotted, [x])
            else:
                x = ref_call(child, [x], name)
        return x

    def item(self, path: str, module: Any) -> A.Expr:
        """A child of a numbered sequential, without its input."""
        kind = self.kind_of(path)
        if kind == "op":
            calls = self.convert(path)  # an nn.Identity stays: it holds its place in the numbering
            if isinstance(calls, list):
                if len(calls) != 1:
                    raise T.Unsupported(f"{type(module).__name__}, several layers, as an item of an nn.Sequential")
                calls = calls[0]
            return op_call(calls, [A.Name(id="_")]).target
        if kind == "sequential":
            inner = self.sequential(path, "_", [A.Name(id="_")])
            if isinstance(inner, A.Pipe) and inner.target.func == "sequential":
                return A.replace(inner.target, kwargs=[])
            raise T.Unsupported("an nn.Sequential with named children inside a numbered one")
        return ref_call(path, [], None)

    def output(self, value: Any) -> None:
        if isinstance(value, dict):
            self.body.output_names = [str(k) for k in value]
            value = list(value.values())
        elif isinstance(value, tuple) and (hasattr(value, "_fields") or self.traced.output_fields):
            self.body.tuple_names = list(getattr(value, "_fields", None) or self.traced.output_fields)
        inference = getattr(self.capture, "eval_output", None) if not self.traced.path else None
        if inference is not None and isinstance(value, (list, tuple)):  # traced as in training
            self.body.training = {k for k, v in enumerate(value) if getattr(v, "name", None) != inference}
        if isinstance(value, tuple):
            value = list(value)
        elif not isinstance(value, (list, tuple)):
            value = [value]
        repeated = {v for v in value if list(value).count(v) > 1 or self.uses.get(v, 0) > 1}
        for v in value:
            if v in repeated and isinstance(self.exprs.get(v), A.Node) and not isinstance(self.exprs[v], A.Name):
                self.bind(v, self.exprs[v])
            if not self.is_tensor(v) and not isinstance(self.exprs.get(v), A.Name):
                raise ImportFailure("the forward returns something other than tensors",
                                    Site(self.traced.path), code="E-TORCH-UNSUPPORTED")
            self.body.returns.append(self.exprs[v])


def _reads(graph: Any) -> dict:
    """How many times each node is read: `torch.cat([x, x])` reads x twice (fx counts one user)."""
    counts: dict = {n: 0 for n in graph.nodes}

    def visit(value: Any) -> None:
        if isinstance(value, (list, tuple)):
            for v in value:
                visit(v)
        elif isinstance(value, dict):
            for v in value.values():
                visit(v)
        elif isinstance(value, slice):
            visit([value.start, value.stop, value.step])
        elif value in counts if hasattr(value, "op") else False:
            counts[value] += 1
    for node in graph.nodes:
        visit(node.args)
        visit(node.kwargs)
    return counts


def ref_call(path: str, inputs: list[A.Expr], name: str | None) -> A.Expr:
    kwargs = [A.Keyword(name="name", value=name_expr(name))] if name else []
    if len(inputs) == 1:
        return A.Pipe(source=inputs[0], target=A.Call(func=REF + path, kwargs=kwargs))
    return A.Call(func=REF + path, args=inputs, kwargs=kwargs)


def _drop_own_name(value: A.Expr, name: str) -> A.Expr:
    """`conv1 = x -> conv2d(..., name=conv1)`: the statement names the module already."""
    target = value.target if isinstance(value, A.Pipe) else value
    if not isinstance(target, A.Call) or target.func in ("shared",):
        return value
    if isinstance(value, A.Pipe) and not isinstance(value.source, A.Name):
        return value  # a chain: the statement names no module
    if isinstance(value, A.Call) and not all(isinstance(a, (A.Name, A.Num, A.Str, A.Bool, A.ListExpr))
                                             for a in value.args):
        return value
    kept = [k for k in target.kwargs if not (k.name == "name" and isinstance(k.value, A.Name) and k.value.id == name)]
    if len(kept) == len(target.kwargs):
        return value
    new = A.replace(target, kwargs=kept)
    return A.replace(value, target=new) if isinstance(value, A.Pipe) else new


def _names_in(value: A.Expr) -> set[str]:
    return {k.value.id for k in A.walk(value) if isinstance(k, A.Keyword) and k.name == "name"
            and isinstance(k.value, A.Name)}


def _callable_name(fn: Any) -> str:
    module = getattr(fn, "__module__", None) or ""
    name = getattr(fn, "__qualname__", None) or getattr(fn, "__name__", repr(fn))
    return f"{module}.{name}" if module else name


def _what(node: Any) -> str:
    if node.op == "call_module":
        return f"the module '{node.target}'"
    if node.op == "call_method":
        return f"the method .{node.target}()"
    if node.op == "call_function":
        return f"the call {_callable_name(node.target)}"
    return f"'{node.name}'"
