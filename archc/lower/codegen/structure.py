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
from archc.lower import pysrc
from archc.lower.codegen.expressions import _access, _free_names, _identifier, _unique
from archc.lower.codegen.model import (
    _RESERVED,
    INITIALIZERS,
    Call,
    Group,
    LayerLiteral,
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


class Structure:
    """Part of the generator (archc.lower.codegen._Generator): The units of a model (one per scope that becomes a submodule..."""

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
            for k in range(len(node.scope) + 1):
                path = node.scope[:k]
                if path not in self.units:
                    unit = Unit(path, self.g.scopes.get(path))
                    self.units[path] = unit
                    self.units[path[:-1]].items.append(unit)
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
        if not items or len(unit.inputs) != 1 or len(unit.outputs) != 1:
            return False
        previous = unit.inputs[0]
        for index, item in enumerate(items):
            name = item.name
            if name != str(index):
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
        for item in unit.items:
            if isinstance(item, Unit):
                unit.ctors.append((item.name, self._unit_ctor(item)))
            else:
                low = self.lowered[item.id]
                if low.module is not None:
                    unit.ctors.append((item.name, self._node_ctor(item, low, unit)))
        if unit.form in ("class", "model"):
            self._statements(unit)
            self._variables(unit)
        if unit.form != "sequential":
            unit.post = self._post_statements(unit)
        unit.signature = self._signature(unit)

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
        return Call(child, [], [])  # arguments filled in from the child's class

    def _statements(self, unit: Unit) -> None:
        for item in unit.items:
            if isinstance(item, Unit):
                unit.stmts.append(Stmt(list(item.outputs), list(item.inputs),
                                       "{m}(" + ", ".join(f"{{{k}}}" for k in range(len(item.inputs))) + ")",
                                       item.name, None))
            else:
                low = self.lowered[item.id]
                template, nums = _mask_numbers(low.call)
                unit.stmts.append(Stmt([item.id], list(item.inputs), template,
                                       item.name if low.module is not None else None, item, nums))

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
        taken = set(_RESERVED) | set(HELPERS)
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
            if isinstance(item, Unit):
                whole = not covered and self._all_frozen(item)
                if whole:
                    out.append(f"{access}.requires_grad_(False)")
                    if self._has_buffers(item):
                        owner.keep_eval.append(access)
                if item.form == "sequential":
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
            if isinstance(item, Unit):
                if item.form == "sequential":
                    self._inits(item, access, out)
            elif self.lowered[item.id].module is not None:
                out += self._node_inits(item, access)

    def _node_inits(self, node: LayerNode, access: str) -> list[str]:
        if node.op.family not in ("conv", "linear") or not (node.init or node.bias_init):
            return []
        out = []
        for key, shape in self._params(node).items():
            leaf = key.rsplit(".", 1)[-1]
            if leaf == "weight" and node.init and len(shape) >= 2:
                template = INITIALIZERS[node.init][0]
            elif leaf == "bias" and node.bias_init:
                template = INITIALIZERS[node.bias_init][1]
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
