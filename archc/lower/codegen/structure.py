"""The units of a model (one per scope that becomes a submodule) and their code before any
number is bound: each layer's lowering, each unit's interface, children, forward statements,
variables, frozen/initialised parts, and the structural signature that groups instances."""
from __future__ import annotations

import itertools
import re
from typing import Any

from archc import provenance as pv
from archc.errors import SpecError
from archc.ir.graph import LayerNode
from archc.language import INITIALIZERS
from archc.lower import pysrc
from archc.lower.codegen.expressions import _access, _free_names, _identifier, _unique
from archc.lower.codegen.model import (
    _RESERVED,
    Call,
    DictSeq,
    Group,
    LayerLiteral,
    ListSeq,
    Loop,
    Num,
    Stmt,
    Unit,
    _ctor_tree,
    _FactoryRef,
    _mask_numbers,
    _NotAFactory,
    _tree,
)
from archc.ops.base import HELPERS, Ctor, Lowered

# Python builtins generated code may call (its checks and helpers): no variable takes one
_BUILTINS_CALLED = frozenset({"isinstance", "tuple", "list", "dict", "len", "int", "float", "bool", "str", "getattr",
                              "max", "min", "round", "abs", "sum", "range", "zip", "enumerate", "any", "all",
                              "print", "type", "super", "divmod", "reversed", "sorted", "map"})


class Structure:
    """A mixin of archc.lower.codegen._Generator: this module's part of it."""

    def _lower_nodes(self) -> None:
        for node in self.g.layers():
            self.position[node.id] = len(self.position)
            if node.is_input:
                continue
            for k in range(len(node.scope) + 1):
                self.nodes_under.setdefault(node.scope[:k], []).append(node)
            shapes = node.traced_inputs if node.traced_inputs is not None else self.g.input_shapes(node)
            try:
                with pv.placeholders() as table:
                    low = node.op.lower(node.attrs, shapes, node.shape)
                    if node.id in self.in_place:
                        low = low.in_place
            except NotImplementedError as e:  # its message in the spec's numbers, not placeholders
                message = re.sub(rf"{pv.PLACEHOLDER_PREFIX}\d+_",
                                 lambda m: str(pv.plain(table[m.group(0)])) if m.group(0) in table else "?", str(e))
                raise SpecError(f"{node.id}: {message}", node.loc, code="E-EXPORT-UNSUPPORTED-LAYER") from None
            self.traced.update(table)
            for name in low.helpers:
                if name not in HELPERS:
                    raise AssertionError(f"{node.op.name}: unknown helper {name!r}")
            self.helpers.update(low.helpers)
            self.lowered[node.id] = low
            for src in node.inputs:
                self.consumers.setdefault(src, []).append(node.id)

    # ------------------------------------------------------------------ structure
    def _build_units(self) -> None:
        root = Unit((), None, form="model")
        self.units[()] = root
        for node in self.g.layers():
            if node.is_input:
                continue
            inside_shared = False
            for k in range(len(node.scope) + 1):
                path = node.scope[:k]
                if path not in self.units:
                    unit = Unit(path, self.g.scopes.get(path))
                    self.units[path] = unit
                    self.units[path[:-1]].items.append(unit)
                    if unit.scope is not None and unit.scope.kind == "container":
                        unit.form = "container"
                        self.units[path[:-1]].containers[unit.name] = unit
                    elif unit.scope is not None and unit.scope.shares is not None:
                        unit.form = "shared"  # another call of a shared block's module: no code of its own
                if self.units[path].form == "shared":
                    inside_shared = True
                    break
            if not inside_shared:
                self.units[node.scope].items.append(node)
        for unit in self._post_order(root):
            self._interface(unit)

    def _post_order(self, unit: Unit) -> list[Unit]:
        out: list[Unit] = []
        for item in unit.items:
            if isinstance(item, Unit):
                out += self._post_order(item)
        out.append(unit)
        return out

    def _under(self, node_id: str, unit: Unit) -> bool:
        node = self.g.node(node_id)
        return not node.is_input and node.scope[:len(unit.path)] == unit.path

    def _interface(self, unit: Unit) -> None:
        """Inputs (declared first, then any outside value used inside), outputs, form, height."""
        nodes = self.nodes_under.get(unit.path, [])  # a model may have no layers (output y = x)
        if unit.form == "container":  # never called itself: its members are the parent's calls
            unit.height = 1 + max((i.height for i in unit.items if isinstance(i, Unit)), default=0)
            return
        if unit.form == "shared":  # called as its owner is, with its own tensors
            unit.inputs, unit.outputs = list(unit.scope.inputs), list(unit.scope.outputs)
            unit.input_names = list(unit.scope.input_names)
            unit.height = 1
            return
        if not unit.path:
            unit.inputs = list(self.g.inputs.values())
            unit.input_names = list(self.g.inputs)
            unit.outputs = list(dict.fromkeys(self.g.outputs.values()))
        else:
            # a block's own input names; x, or x0, x1, … for a repeat or sequential
            names = unit.scope.input_names or (
                ["x"] if len(unit.scope.inputs) == 1 else [f"x{k}" for k in range(len(unit.scope.inputs))])
            declared: dict[str, str] = {}
            for k, node_id in enumerate(unit.scope.inputs):
                declared.setdefault(node_id, names[k] if k < len(names) else "x")
            used = [i for n in nodes for i in n.inputs if not self._under(i, unit)]
            extra = [i for i in dict.fromkeys(used) if i not in declared]  # tensors passed as parameters
            unit.inputs = list(declared) + extra
            unit.input_names = list(declared.values()) + [self._outer_name(i) for i in extra]
            inner = set(n.id for n in nodes)
            outs = [o for o in unit.scope.outputs if o in inner]
            # anything used outside that is not declared (cannot happen in the language today)
            readers = {c for i in inner for c in self.consumers.get(i, []) if not self._under(c, unit)}
            outs += [i for c in sorted(readers, key=self.position.__getitem__)
                     for i in self.g.node(c).inputs if i in inner]
            outs += [o for o in self.g.outputs.values() if o in inner]
            unit.outputs = list(dict.fromkeys(outs))
        unit.height = 1 + max((i.height for i in unit.items if isinstance(i, Unit)), default=0)
        if unit.path and self._is_chain(unit):
            unit.form = "seqclass" if unit.scope.kind == "block" else "sequential"

    def _outer_name(self, node_id: str) -> str:
        names = self.g.node(node_id).tensor_names
        return names[-1] if names else "x"

    def _is_chain(self, unit: Unit) -> bool:
        """Children named 0, 1, …, each a module fed only by the previous one: an nn.Sequential."""
        items = unit.items
        if not items or len(unit.inputs) != 1 or len(unit.outputs) != 1 or (
                any(map(self._never_run, items)) and not self._never_run(unit)):
            return False
        previous = unit.inputs[0]
        # a block whose children an inline repeat makes may name them freely (torchvision's
        # AnyStage: block1-0, block1-1, …): a Sequential that registers them by name
        named = unit.scope is not None and unit.scope.kind == "block" and any(
            isinstance(i, Unit) and i.scope is not None and i.scope.loop is not None for i in items)
        for index, item in enumerate(items):
            name = item.name
            if name != str(index) and not named:
                return False
            if isinstance(item, Unit):
                if item.inputs != [previous] or len(item.outputs) != 1:
                    return False
                out = item.outputs[0]
            else:
                low = self.lowered[item.id]
                if low.module is None or low.call != "{m}({0})" or item.inputs != [previous]:
                    return False
                out = item.id
            readers = self.consumers.get(previous, [])
            inside = (all(self._under(c, item) for c in readers) if isinstance(item, Unit)
                      else all(c == item.id for c in readers))
            if index > 0 and not inside:
                return False  # the previous child's output is also read by something else
            previous = out
        return unit.outputs == [previous]

    # ------------------------------------------------------------------ per-unit code
    def _finish_unit(self, unit: Unit) -> None:
        """Constructor trees of the children, forward statements and variable names, the
        statements after construction, and the structural signature."""
        if unit.form == "shared":
            return
        for item in unit.items:
            if isinstance(item, Unit):
                if item.form != "shared":
                    unit.ctors.append((item.name, self._unit_ctor(item)))
            else:
                low = self.lowered[item.id]
                if low.module is not None and item.shares is None:
                    unit.ctors.append((item.name, self._node_ctor(item, low, unit)))
        if unit.form in ("class", "model"):
            self._statements(unit)
            self._variables(unit)
        if unit.form not in ("sequential", "container"):
            unit.post = self._post_statements(unit)
        if unit.form == "seqclass" and not unit.post:
            self._loops(unit)
        unit.signature = self._signature(unit)

    def _loops(self, unit: Unit) -> None:
        """The copies of an inline `repeat` among a Sequential class's children, as loops
        (`Loop`) where every copy is an instance of one class whose arguments are the same
        expressions of the loop variable, its input channels the previous copy's output."""
        items, ctors = unit.items, unit.ctors
        if len(items) != len(ctors):
            return
        out: list = []
        k = 0
        while k < len(items):
            run = self._loop_run(items, k)
            # one copy is a loop too when the count is an expression (a stage of depth 1)
            loop = self._loop(run, unit) if len(run) > 1 or (run and pv.is_traced(run[0].scope.loop[3])) else None
            if loop is None:
                out.append(ctors[k])
                k += 1
            else:
                out.append(("", loop))
                k += len(run)
        unit.ctors = out

    def _slot_key(self, num: Num) -> Any:
        """What a slot is, to compare copies: its expression, else its literal."""
        if num.traced is not None:
            return None if num.traced.forward else ("expr", pv.key(num.traced.expr))
        try:
            return ("literal", self._literal_source(num.value))
        except Exception:  # noqa: BLE001 - a value without a literal: not comparable
            return None

    @staticmethod
    def _loop_run(items: list, k: int) -> list[Unit]:
        first = items[k]
        if not (isinstance(first, Unit) and first.scope is not None and first.scope.loop is not None
                and first.scope.loop[2] == 0 and first.is_class):
            return []
        loc, var = first.scope.loop[:2]
        run = [first]
        for item in items[k + 1:]:
            marker = item.scope.loop if isinstance(item, Unit) and item.scope is not None else None
            if (marker is None or marker[:2] != (loc, var) or marker[2] != len(run) or not item.is_class
                    or item.group is not first.group):
                break
            run.append(item)
        return run if len(run) == pv.plain(first.scope.loop[3]) else []

    def _loop(self, run: list[Unit], unit: Unit) -> Loop | None:
        first = run[0]
        var, count = first.scope.loop[1], first.scope.loop[3]
        idents = first.group.idents
        args = first.group.args
        channel = idents.get("in_channels")
        index = args.index(channel) if channel in args else None
        outputs = [u.scope.output_shapes[0] if u.scope.output_shapes else () for u in run]
        if any(len(o) < 2 for o in outputs):
            return None

        def same(values: list) -> bool:
            keys = [self._slot_key(self._arg_num(v)) for v in values]
            return None not in keys and len(set(keys)) == 1

        names = [u.scope.name_value for u in run]
        if not all(pv.is_traced(n) for n in names) or not same(names):
            return None
        for a in range(len(args)):
            if a != index and not same([u.arg_values[a] for u in run]):
                return None
        steps = [o[1] for o in outputs]
        if not same(steps):
            return None
        # copy k takes the channels copy k - 1 gave: that copy's step, at its index
        if index is not None and not all(
                self._slot_key(self._arg_num(u.arg_values[index]))
                == self._slot_key(self._arg_num(pv.with_constant(steps[0], var, k)))
                for k, u in enumerate(run[1:])):
            return None
        nums = [Num(pv.plain(count), count if pv.is_traced(count) else None),
                Num(pv.plain(names[0]), names[0]),
                self._arg_num(first.arg_values[index]) if index is not None else Num(0),
                Num(pv.plain(steps[0]), steps[0] if pv.is_traced(steps[0]) else None)]
        nums += [self._arg_num(v) for a, v in enumerate(first.arg_values) if a != index]
        # every number of the loop is written in the class's names and this loop's variable
        # (an enclosing repeat's variable is not one: that repeat is written out copy by copy)
        names = set(self._class_names_of(unit) or ()) | set(unit.scope.locals) | {var}
        for num in nums:
            if num.traced is None:
                continue
            if num.traced.forward or not set(_free_names(num.traced.expr)) <= names:
                return None
        return Loop(var, first, index, nums)

    def _node_ctor(self, node: LayerNode, low: Lowered, unit: Unit) -> Any:
        """A layer's constructor tree; a layer that came in through a block parameter
        (`norm(name=1)`) is built by calling that parameter (`norm(out)`), with the arguments
        of the call site only."""
        tree = (_ctor_tree(low.module, dict(low.defaults)) if isinstance(low.module, Ctor)
                else _tree(pysrc.parse(low.module), dict(low.defaults), self.traced))
        if node.factory is None or not isinstance(tree, Call) or unit.scope is None or unit.scope.kind != "block":
            return tree
        expr, given = node.factory
        try:
            func, keywords = self._factory_parts(node.op, [], {k: node.attrs[k] for k in given},
                                                 [tuple(pv.plain(d) for d in s) for s in self.g.input_shapes(node)])
        except (_NotAFactory, Exception):  # noqa: BLE001 - then the module is written as it is
            return tree
        if func != tree.func:
            return tree
        literal = LayerLiteral(func if not keywords else
                               f"partial({func}, {', '.join(f'{k}={v}' for k, v in keywords.items())})")
        return Call(Num(literal, _FactoryRef(expr)), tree.args,
                    [(k, v) for k, v in tree.kwargs if k not in keywords], tree.defaults)

    def _unit_ctor(self, child: Unit) -> Any:
        if child.form == "sequential":
            return Call("nn.Sequential", [ctor for _, ctor in child.ctors], [])
        if child.form == "container" and child.type_name == "ModuleList":
            return Call("nn.ModuleList", [ListSeq([ctor for _, ctor in child.ctors])], [])
        if child.form == "container":
            return Call("nn.ModuleDict", [DictSeq([ctor for _, ctor in child.ctors],
                                                  [name for name, _ in child.ctors])], [])
        return Call(child, [], [])  # arguments filled in from the child's class

    def _calls(self, unit: Unit, prefix: str = "") -> list[tuple[str, "Unit | LayerNode"]]:
        """What the unit's forward calls, in graph order: its children, and a container child's
        members in place of the container (named by their dotted path)."""
        out: list[tuple[str, Unit | LayerNode]] = []
        for item in unit.items:
            if isinstance(item, Unit) and item.form == "container":
                out += self._calls(item, f"{prefix}{item.name}.")
            else:
                out.append((prefix + self._module_name(item), item))
        if prefix or not unit.containers:
            return out
        return sorted(out, key=lambda named: self.position[self._first_node(named[1])])

    @staticmethod
    def _module_name(item: "Unit | LayerNode") -> str:
        """The child module a call runs: its own, or for a shared layer's later application the
        first application's (in the same scope)."""
        if isinstance(item, Unit):
            return item.scope.shares[-1] if item.form == "shared" else item.name
        return item.shares.rsplit(".", 1)[-1] if item.shares is not None else item.name

    def _first_node(self, item: "Unit | LayerNode") -> str:
        return item.id if isinstance(item, LayerNode) else self.nodes_under[item.path][0].id

    def _never_run(self, item: "Unit | LayerNode") -> bool:
        """Made by an `unused` statement: constructed, never called."""
        if isinstance(item, LayerNode):
            return item.unused
        nodes = self.nodes_under.get(item.path, [])
        return bool(nodes) and all(n.unused for n in nodes)

    def _statements(self, unit: Unit) -> None:
        idle_unit = unit.path != () and self._never_run(unit)  # a class of its own, never called
        for name, item in self._calls(unit):
            if self._never_run(item) and not idle_unit:
                continue
            if isinstance(item, Unit):
                unit.stmts.append(Stmt(list(item.outputs), list(item.inputs),
                                       "{m}(" + ", ".join(f"{{{k}}}" for k in range(len(item.inputs))) + ")",
                                       name, None))
            else:
                low = self.lowered[item.id]
                template, nums = _mask_numbers(low.call)
                unit.stmts.append(Stmt([item.id], list(item.inputs), template,
                                       name if low.module is not None else None, item, nums))

    def _variables(self, unit: Unit) -> None:
        """Variable names: spec names where given; an unnamed value read only by the next line
        shares that line's variable (a chain holds at most one spec name)."""
        stmts = unit.stmts
        reads: dict[str, int] = {}
        for s in stmts:
            for r in s.reads:
                reads[r] = reads.get(r, 0) + 1
        # an input whose size a later line reads (`x.shape[2]`) keeps its variable
        input_of = dict(zip(unit.scope.input_names if unit.scope is not None else list(self.g.inputs),
                            unit.inputs))
        for s in stmts:
            for value in self._placeholders_in(s.template):
                for name in _free_names(value.expr):
                    if name in input_of:
                        reads[input_of[name]] = reads.get(input_of[name], 0) + 1
        for o in unit.outputs:
            reads[o] = reads.get(o, 0) + 1
        named: dict[str, str] = dict(zip(unit.inputs, unit.input_names))
        for s in stmts:
            for t in s.targets:
                node = self.g.node(t)
                own = [n for n, sc in zip(node.tensor_names, node.tensor_scopes) if sc == unit.path]
                if own:
                    named[t] = own[0]
        if not unit.path:
            for out_name, node_id in self.g.outputs.items():
                named.setdefault(node_id, out_name)
        elif len(unit.outputs) == 1:
            named.setdefault(unit.outputs[0], "out")
        chain: dict[str, str] = {}  # value -> chain representative

        def find(v: str) -> str:
            while chain.get(v, v) != v:
                v = chain[v]
            return v

        members: dict[str, list[str]] = {}
        values = list(unit.inputs) + [t for s in stmts for t in s.targets]
        for v in values:
            chain[v] = v
            members[v] = [v]
        for s in reversed(stmts):
            if len(s.targets) != 1 or not s.reads:
                continue
            src, dst = s.reads[0], s.targets[0]
            if reads.get(src, 0) != 1 or src not in chain:
                continue
            a, b = find(src), find(dst)
            if a == b:
                continue
            if sum(m in named for m in members[a] + members[b]) > 1:
                continue
            chain[a] = b
            members[b] += members.pop(a)
        # a variable `isinstance` or `tuple` (an input too) would hide what the generated code calls
        taken = set(_RESERVED) | set(HELPERS) | _BUILTINS_CALLED
        for v in unit.inputs:  # arguments first: their names are fixed
            rep = find(v)
            if rep not in unit.var:
                unit.var[rep] = _unique(_identifier(named[v]), taken)
        for v in values:
            rep = find(v)
            if rep not in unit.var:
                spec = [named[m] for m in members[rep] if m in named]
                default = self._default_name(members[rep][-1], unit)
                unit.var[rep] = _unique(_identifier(spec[0] if spec else default), taken)
        for v in values:
            unit.var[v] = unit.var[find(v)]

    def _default_name(self, value: str, unit: Unit) -> str:
        node = self.g.node(value)
        if node.scope == unit.path:
            return node.name
        child = node.scope[len(unit.path)]
        return child if not child.isdigit() else node.name

    def _post_statements(self, unit: Unit) -> list[str]:
        """Initializers and requires_grad_(False), after every child is constructed; also
        fills `unit.keep_eval`, the frozen parts with running statistics."""
        out: list[str] = []
        if not unit.path and self._all_frozen(unit):
            self._inits(unit, "self", out)
            unit.keep_eval = ["self"] if self._has_buffers(unit) else []
            return out + ["self.requires_grad_(False)"]
        covered = unit.path != () and self._all_frozen(unit)  # the parent freezes it whole
        self._walk_post(unit, unit, "self", covered, out)
        return out

    def _walk_post(self, owner: Unit, unit: Unit, prefix: str, covered: bool, out: list[str]) -> None:
        for item in unit.items:
            access = _access(prefix, unit, item.name)
            if (item.form == "shared") if isinstance(item, Unit) else (item.shares is not None):
                continue  # its module is the first application's, initialised and frozen there
            if isinstance(item, Unit):
                whole = not covered and self._all_frozen(item)
                if whole:
                    out.append(f"{access}.requires_grad_(False)")
                    if self._has_buffers(item):
                        owner.keep_eval.append(access)
                if item.form in ("sequential", "container"):
                    self._walk_post(owner, item, access, covered or whole, out)
                continue
            if self.lowered[item.id].module is None:
                continue
            out += self._node_inits(item, access)
            if item.frozen and not covered and self._params(item):
                out.append(f"{access}.requires_grad_(False)")
                if self._has_buffers(item):
                    owner.keep_eval.append(access)

    def _has_buffers(self, item: "Unit | LayerNode") -> bool:
        """Has running statistics (batch norm), which change in train mode."""
        nodes = [item] if isinstance(item, LayerNode) else \
            self.nodes_under.get(item.path, [])
        return any(n.op.buffers(n.attrs, self.g.input_shapes(n)) for n in nodes)

    def _inits(self, unit: Unit, prefix: str, out: list[str]) -> None:
        for item in unit.items:
            access = _access(prefix, unit, item.name)
            if (item.form == "shared") if isinstance(item, Unit) else (item.shares is not None):
                continue
            if isinstance(item, Unit):
                if item.form in ("sequential", "container"):
                    self._inits(item, access, out)
            elif self.lowered[item.id].module is not None:
                out += self._node_inits(item, access)

    def _node_inits(self, node: LayerNode, access: str) -> list[str]:
        if node.op.init_weight is None or not (node.init or node.bias_init):
            return []
        out = []
        for key, shape in self._params(node).items():
            leaf = key.rsplit(".", 1)[-1]
            if leaf == node.op.init_weight and node.init and len(shape) >= 2:
                template = INITIALIZERS[node.init].weight
            elif leaf == node.op.init_bias and node.bias_init:
                template = INITIALIZERS[node.bias_init].bias
                if template is None and node.bias_init != "default":
                    raise SpecError(f"{node.id}: bias_init={node.bias_init} needs a matrix; a bias "
                                    "is a vector", node.loc, "use zeros, normal or uniform for biases",
                                    code="E-EXPORT-UNSUPPORTED-LAYER")
            else:
                continue
            if template:
                out.append(template.format(t=f"{access}.{key}"))
        return out

    def _params(self, node: LayerNode) -> dict:
        return self.g.parameter_shapes(node)

    def _all_frozen(self, unit: Unit) -> bool:
        nodes = [n for n in self.nodes_under.get(unit.path, []) if self._params(n)]
        return bool(nodes) and all(n.frozen for n in nodes)

    # ------------------------------------------------------------------ sharing
    def _signature(self, unit: Unit) -> tuple:
        ctors = tuple((name, self._render(tree, itertools.repeat("#"), signature=True))
                      for name, tree in unit.ctors)
        forward = tuple(self._forward_text(unit, signature=True)) if unit.form in ("class", "model") else ()
        return (unit.form, len(unit.inputs), len(unit.outputs), ctors, forward, tuple(unit.post),
                tuple(unit.keep_eval))

    def _group(self, unit: Unit) -> None:
        key = (unit.scope.kind, unit.type_name if unit.scope.kind == "block" else "", unit.signature)
        group = self.groups.get(key)
        if group is None:
            group = self.groups[key] = Group(key, [], self._next_group_id())
        group.units.append(unit)
        unit.group = group
