"""Where each number of a class comes from (archc.provenance): a class's arguments, the model's
constructor arguments, layer factories, and one class per block definition (the structures of
a block merged under its own conditions, archc.lower.merge); class names."""
from __future__ import annotations

import ast
import builtins
import keyword
import re
from typing import Any

from archc import provenance as pv
from archc.ir.values import Partial
from archc.lower import merge as merge_mod
from archc.lower import pysrc
from archc.lower.codegen.expressions import (
    _Binder,
    _camel,
    _class_identifier,
    _folded,
    _free_names,
    _outermost,
    _renamed,
    _shared_expression,
    _unique,
    _used_locals,
    _with_locals,
)
from archc.lower.codegen.model import (
    _NO_DEFAULT,
    _RESERVED,
    Call,
    Group,
    LayerLiteral,
    Loop,
    Num,
    Seq,
    Unit,
    _FactoryRef,
    _is_number,
    _NotAFactory,
    _same_literal,
)
from archc.ops import REGISTRY
from archc.ops.base import HELPERS, Ctor, Src, Word, py


class Binding:
    """A mixin of archc.lower.codegen._Generator: this module's part of it."""

    def _next_group_id(self) -> int:
        self.group_count += 1
        return self.group_count

    def _levels(self, order: list[Unit]) -> dict[int, int]:
        """Each unit's level: above its children's, and the same for every instance of a block
        (so that they are merged together, `_merge_variants`)."""
        level = {id(u): u.height for u in order}
        for _ in range(len(order) + 1):
            changed = False
            for u in order:
                need = 1 + max((level[id(c)] for c in u.items if isinstance(c, Unit)), default=0)
                if need > level[id(u)]:
                    level[id(u)], changed = need, True
            top: dict[str, int] = {}
            for u in order:
                if u.scope is not None and u.scope.kind == "block":
                    top[u.type_name] = max(top.get(u.type_name, 0), level[id(u)])
            for u in order:
                if u.scope is not None and u.scope.kind == "block" and level[id(u)] < top[u.type_name]:
                    level[id(u)], changed = top[u.type_name], True
            if not changed:
                break
        return level

    # ------------------------------------------------------------------ one class per block
    def _merge_variants(self, groups: list[Group]) -> None:
        """The structures of one block (groups of the same type) as one class, where the
        block's own choices tell them apart (archc.lower.merge)."""
        by_type: dict[str, list[Group]] = {}
        for group in groups:
            unit = group.units[0]
            if unit.scope is not None and unit.scope.kind == "block":
                by_type.setdefault(unit.type_name, []).append(group)
        for variants in by_type.values():
            if len(variants) < 2:
                continue
            merged = self._merged(variants)
            if merged is None:
                continue
            for group in variants:
                del self.groups[group.key]
            self.groups[merged.key] = merged
            for unit in merged.units:
                unit.group = merged
                names = self._class_names_of(unit)
                unit.arg_values = [self._value_of(unit, name, names) for name in merged.idents
                                   if name not in merged.locals]

    def _merged(self, variants: list[Group]) -> Group | None:
        forms = {u.form for g in variants for u in g.units}
        if len(forms) != 1 or forms <= {"sequential"}:
            return None
        if any(isinstance(tree, Loop) for g in variants for u in g.units for _, tree in u.ctors):
            return None  # a loop's copies are not keyed by child: no merge
        idents: dict[str, str] = {}
        local_defs: dict[str, ast.expr] = {}
        for group in variants:
            if set(group.args) != {v for k, v in group.idents.items() if k not in group.locals}:
                return None  # an argument without provenance: no common signature
            for name, ident in group.idents.items():
                if idents.setdefault(name, ident) != ident:
                    return None
            for name, definition in group.locals.items():
                if pv.key(local_defs.setdefault(name, definition)) != pv.key(definition):
                    return None
        found = self._variant_conditions(variants)
        if found is None:
            return None
        conditions, decisions = found
        shared = self._shared_locals([u for g in variants for u in g.units])
        for condition in conditions:  # a condition may read a local the layers do not
            for name in _free_names(condition):
                if name in shared and name not in local_defs:
                    local_defs[name] = shared[name]
        local_defs = {n: local_defs[n] for n in shared if n in local_defs}  # definition order
        names = self._class_names_of(variants[0].units[0])
        members = [[_with_locals({k: pv.plain(v) for k, v in self._class_names_of(u).items()}, local_defs)
                    for u in g.units] for g in variants]
        if not (merge_mod.discriminates(conditions, members) and merge_mod.decisions_hold(decisions, members)):
            return None
        for condition in conditions:
            for name in _free_names(condition):
                if name not in names and name not in local_defs:
                    return None
                idents.setdefault(name, name)
        order = [n for n in names if n in idents and n not in local_defs]
        taken = set(_RESERVED) | set(HELPERS) | self.block_types | {"self"}
        if any(idents[n] in taken or not pysrc.is_plain_name(idents[n]) for n in order):
            return None
        used = dict.fromkeys(n for g in variants for n in g.locals)
        used.update(dict.fromkeys(n for c in conditions for n in _free_names(c) if n in local_defs))
        reps = [g.units[0] for g in variants]
        if (merge_mod.merged_order([[(k, ()) for k in self._ctor_keys(u)] for u in reps]) is None
                or merge_mod.merged_order([[(k, ()) for k in self._forward_keys(u)] for u in reps]) is None):
            return None  # the structures build their parts in different orders
        key = ("merged", variants[0].units[0].type_name)
        merged = Group(key, [u for g in variants for u in g.units], self._next_group_id())
        merged.variants = variants
        merged.conditions = conditions
        merged.decisions = decisions
        merged.locals = _used_locals(used, local_defs)
        merged.idents = {**{n: idents[n] for n in order}, **{n: n for n in merged.locals}}
        merged.args = [idents[n] for n in order]
        merged.defaults = self._defaults(variants[0].units[0], {n: idents[n] for n in order}, merged.args)
        return merged

    def _variant_conditions(self, variants: list[Group]) -> tuple[list[ast.expr], list[merge_mod.Decisions]] | None:
        """Each structure's choices (`x if cond else …`) that some other structure made
        differently, in the block's names, and their conjunction (the structure's condition)."""
        outcomes: list[merge_mod.Decisions] = []
        for group in variants:
            seen: merge_mod.Decisions = {}
            for unit in group.units:
                mine: merge_mod.Decisions = {}
                for _, outcome, condition in unit.scope.decisions:
                    if condition is None:
                        continue
                    key = pv.key(condition)
                    if key in mine and mine[key][0] != outcome:
                        return None  # one condition decided two ways (a loop): no single condition
                    mine[key] = (outcome, condition)
                for key, entry in mine.items():
                    if key in seen and seen[key][0] != entry[0]:
                        return None  # instances of one structure that chose differently
                    seen[key] = entry
            outcomes.append(seen)
        keys = list(dict.fromkeys(k for o in outcomes for k in o))
        deciding = [k for k in keys if len({o[k][0] for o in outcomes if k in o}) > 1]
        if not deciding:
            return None
        decisions = [{k: o[k] for k in deciding if k in o} for o in outcomes]
        if any(not d for d in decisions):
            return None
        conditions = [merge_mod.all_of([e if out else merge_mod.negated(e) for out, e in d.values()])
                      for d in decisions]
        return conditions, decisions

    def _slots(self, unit: Unit) -> list[Num]:
        """The unit's numbers: its children's constructors' (`_collect`'s order), then its
        forward lines' (`_forward_nums`)."""
        return self._ctor_slots(unit) + self._forward_nums(unit)

    def _ctor_slots(self, unit: Unit) -> list[Num]:
        out: list[Num] = []
        for _, tree in unit.ctors:
            self._collect(tree, out)
        return out

    @staticmethod
    def _forward_nums(unit: Unit) -> list[Num]:
        return [n for s in unit.stmts for n in s.nums]

    def _collect(self, tree: Any, out: list[Num]) -> None:
        if isinstance(tree, Loop):
            out += tree.nums
        elif isinstance(tree, Num):
            out.append(tree)
        elif isinstance(tree, Seq):
            for item in tree.items:
                self._collect(item, out)
        elif isinstance(tree, Call):
            if isinstance(tree.func, Unit):
                marker = tree.func.scope.loop if tree.func.scope is not None else None
                if marker is None:
                    out += [self._arg_num(v) for v in tree.func.arg_values]
                else:  # a copy written out by itself: its loop variable is its index
                    out += [self._arg_num(pv.with_constant(v, marker[1], marker[2])) for v in tree.func.arg_values]
            elif isinstance(tree.func, Num):
                out.append(tree.func)
            for a in tree.args:
                self._collect(a, out)
            for _, v in tree.kwargs:
                self._collect(v, out)

    def _arg_num(self, value: Any) -> Num:
        """What a caller passes for a class argument, as a slot: its provenance, and its value
        written as Python (a layer as its PyTorch class: `nn.Hardswish`)."""
        if isinstance(value, Partial) and value.kind == "op":
            literal = LayerLiteral(self._factory_source(value.target, value.args, value.kwargs))
            return Num(literal, _FactoryRef(value.origin) if value.origin is not None else None)
        if isinstance(value, Word) and REGISTRY.get(str(value)) is not None:
            return Num(LayerLiteral(self._factory_source(REGISTRY.get(str(value)), [], {})),
                       value if pv.is_traced(value) else None)
        return Num(pv.plain(value), value if pv.is_traced(value) else None)

    def _literal_source(self, value: Any) -> str:
        """Python for a value the spec computed: numbers, strings and lists as literals, layers as
        their PyTorch factories."""
        if isinstance(value, LayerLiteral):
            return str(value)
        if isinstance(value, (list, tuple)):
            items = [self._literal_source(v) for v in value]
            if isinstance(value, list):
                return "[" + ", ".join(items) + "]"
            return "(" + items[0] + ",)" if len(items) == 1 else "(" + ", ".join(items) + ")"
        if isinstance(value, Partial) and value.kind == "op":
            return self._factory_source(value.target, value.args, value.kwargs)
        if isinstance(value, Word) and REGISTRY.get(str(value)) is not None:
            return self._factory_source(REGISTRY.get(str(value)), [], {})
        if isinstance(value, Partial):  # a block (or a sequential) in a table: its name, as text
            return py(value.target.name if value.kind == "block" else value.kind)
        if isinstance(value, Word):
            return py(str(value))
        return py(pv.plain(value))

    def _factory_source(self, op: Any, args: list, kwargs: dict) -> str:
        """An op with some attributes, as the PyTorch layer factory a block is given
        (`nn.Hardswish`, `partial(nn.BatchNorm2d, eps=0.001, momentum=0.01)`)."""
        func, keywords = self._factory_parts(op, args, kwargs)
        if not keywords:
            return func
        return f"partial({func}, {', '.join(f'{k}={v}' for k, v in keywords.items())})"

    def _factory_parts(self, op: Any, args: list, kwargs: dict, shapes: Any = None) -> tuple[str, dict[str, str]]:
        """The class and the keyword arguments an op's lowering gives for these attributes."""
        ndim = op.ndim or 2
        shape = (1, 8) + (8,) * ndim
        with pv.checks_only():
            attrs = op.bind([pv.plain(a) for a in args], {k: pv.plain(v) for k, v in kwargs.items()}, ndim)
            low = op.lower(attrs, shapes or [shape] * max(1, op.inputs if op.inputs > 0 else 1), shape)
        if not isinstance(low.module, Ctor):
            raise _NotAFactory(op.name)
        defaults = dict(low.defaults)
        keywords = {k: py(pv.plain(v)) if not isinstance(v, (Src, Ctor)) else str.__str__(v)
                    for k, v in low.module.kwargs.items()
                    if not (k in defaults and _same_literal(pv.plain(v), defaults[k]))}
        return low.module.func, keywords

    def _slot_roles(self, unit: Unit) -> list[tuple[str, str, str, Any]]:
        """Per slot: fallback argument names, the keyword (`padding`) and qualified by the child
        (`conv1_padding`) for when the bare one is taken; the keyword the number is given to
        (or the class argument), '' if none; the constructor's default for it (`_NO_DEFAULT`)."""
        roles: list[tuple[str, str, str, Any]] = []

        def walk(tree: Any, bare: str, qualified: str, key: str = "", default: Any = _NO_DEFAULT) -> None:
            if isinstance(tree, Loop):
                roles.extend((f"{bare}_{r}", f"{qualified}_{r}", "", _NO_DEFAULT)
                             for r in ["count", "name", "start", "step", *range(len(tree.nums) - 4)])
            elif isinstance(tree, Num):
                roles.append((bare, qualified, key, default))
            elif isinstance(tree, Seq):
                for k, item in enumerate(tree.items):
                    walk(item, f"{bare}{k}", f"{qualified}{k}", key)
            elif isinstance(tree, Call):
                if isinstance(tree.func, Unit):
                    roles.extend((a, f"{qualified}_{a}", a, _NO_DEFAULT) for a in tree.func.group.args)
                elif isinstance(tree.func, Num):
                    roles.append((f"{bare}_layer", f"{qualified}_layer", "", _NO_DEFAULT))
                for k, a in enumerate(tree.args):
                    walk(a, f"{qualified}_{k}", f"{qualified}_{k}")
                for k, v in tree.kwargs:
                    walk(v, k, f"{qualified}_{k}", k, tree.defaults.get(k, _NO_DEFAULT))
        for name, tree in unit.ctors:
            child = name if name and pysrc.is_plain_name(name) else f"m{name or 'loop'}"
            walk(tree, child, child)
        del walk  # (a closure that calls itself is a reference cycle)
        for s in unit.stmts:
            label = s.node.name if s.node is not None and pysrc.is_plain_name(s.node.name) else "value"
            roles.extend((f"{label}_{k}", f"{label}_{k}", "", _NO_DEFAULT) for k in range(len(s.nums)))
        return roles

    def _bind_slots(self, group: Group) -> None:
        """The numbers of a class: each is the expression it was computed from (archc.provenance)
        where every instance computed it by the same expression of the class's own names (a
        block's parameters, its input channels); else the literal, when it is the same in every
        instance; else an argument named after its role (a size that depends on the input's
        spatial size, say, which a constructor cannot see)."""
        units = group.units
        first = units[0]
        names = self._class_names_of(first)
        local_defs = self._shared_locals(units) if names is not None else {}
        loop_vars = [tree.var for _, tree in first.ctors if isinstance(tree, Loop)]
        allowed = None if names is None else list(names) + list(local_defs) + loop_vars
        columns = list(zip(*[self._slots(u) for u in units])) if units else []
        roles = self._slot_roles(first)
        taken = set(_RESERVED) | set(HELPERS) | self.class_names | {"self"}
        binder = _Binder(taken)
        used: dict[str, None] = {}
        pending: list[tuple[int, ast.expr | None, list]] = []
        for k, col in enumerate(columns):
            expr = _shared_expression(col, allowed)
            values = [n.value for n in col]
            if expr is not None and not isinstance(expr, ast.Constant):
                for name in _free_names(expr):
                    used[name] = None
                pending.append((k, expr, values))
            else:
                pending.append((k, None, values))
        bindable = set(allowed or ()) | set(self._forward_input_vars(first))
        for s in first.stmts:  # forward expressions read the class's names too (`x[:, :c]`)
            for value in self._placeholders_in(s.template):
                reads = _free_names(value.expr)
                if reads and reads <= bindable:
                    used.update(dict.fromkeys(n for n in reads if n in (allowed or ())))
        group.locals = _used_locals(used, local_defs)
        for definition in group.locals.values():
            used.update(dict.fromkeys(_free_names(definition)))
        # the arguments: the class's own names in their order, then the others
        order = list(names) if names is not None else list(used)
        idents: dict[str, str] = {}
        for name in order:
            if name in used:
                idents[name] = binder.argument(name, [self._value_of(u, name, names) for u in units])
        sources = []
        for k, expr, values in pending:
            bare, qualified, _, _ = roles[k]
            if expr is not None:
                sources.append(pysrc.expr(_renamed(expr, idents)))
                continue
            constant = all(_same_literal(v, values[0]) for v in values)
            if constant:
                sources.append(self._literal_source(values[0]))
                continue
            sources.append(binder.argument(bare, values) or binder.argument(qualified, values)
                           or binder.argument(f"{qualified}_{k}", values))
        group.args = binder.args()
        group.slot_sources = sources
        for i, u in enumerate(units):
            u.arg_values = binder.values(i)
        group.idents = {**idents, **{name: name for name in group.locals}}
        group.defaults = self._defaults(first, idents, group.args)

    def _defaults(self, unit: Unit, idents: dict[str, str], args: list[str]) -> list[str | None]:
        """The block's literal defaults for the class's last arguments (Python allows no
        argument without a default after one with)."""
        if unit.scope is None or unit.scope.kind != "block":
            return [None] * len(args)
        by_ident = {ident: name for name, ident in idents.items()}
        out: list[str | None] = []
        for arg in reversed(args):
            name = by_ident.get(arg)
            if name not in unit.scope.defaults or (out and out[-1] is None):
                out.append(None)
            else:
                out.append(self._literal_source(unit.scope.defaults[name]))
        return list(reversed(out))

    def _shared_locals(self, units: list[Unit]) -> dict[str, ast.expr]:
        """The numbers a block's body names (`width = …`) with the same definition in every
        instance: the class defines them in __init__."""
        first = units[0].scope.locals
        return {name: d for name, d in first.items()
                if all(name in u.scope.locals and pv.key(u.scope.locals[name]) == pv.key(d) for u in units[1:])}

    def _class_names_of(self, unit: Unit) -> dict[str, Any] | None:
        """The names a class's expressions may use, with the first instance's values: a block's
        parameters and its inputs' channel counts; None for a repeat or sequential class (it
        uses its caller's names, passed on as arguments)."""
        if unit.scope is None or unit.scope.kind != "block":
            return None
        names: dict[str, Any] = {}
        count = len(unit.scope.input_names)
        for k, input_name in enumerate(unit.scope.input_names):
            shape = unit.scope.input_shapes[k] if k < len(unit.scope.input_shapes) else ()
            names["in_channels" if count == 1 else f"{input_name}_channels"] = shape[1] if len(shape) > 1 else None
        names.update(unit.scope.args)
        return names

    def _value_of(self, unit: Unit, name: str, names: dict[str, Any] | None) -> Any:
        """What an instance passes for the class argument `name`, as its caller computes it."""
        if names is not None:
            return self._class_names_of(unit).get(name)
        # a repeat's or sequential's argument: the enclosing block's (or the model's) name
        for k in range(len(unit.path) - 1, 0, -1):
            scope = self.g.scopes.get(unit.path[:k])
            if scope is not None and scope.kind == "block":
                own = self._class_names_of(self.units[unit.path[:k]]) if unit.path[:k] in self.units else None
                value = (own or {}).get(name)
                return pv.traced(pv.plain(value), ast.Name(name, ast.Load())) if value is not None else None
        value = self.g.hyperparams.get(name)
        return pv.traced(pv.plain(value), ast.Name(name, ast.Load())) if value is not None else None

    def _bind_model(self) -> None:
        """The model's numbers in terms of its parameters, and which parameters are its
        constructor's arguments: the numeric ones that some number of a module is computed
        from, unless they decide the structure (then no argument could change them faithfully)."""
        root = self.units[()]
        params = self.g.hyperparams
        exposed = {k for k, v in params.items() if _is_number(v) and pysrc.is_plain_name(k)
                   and k not in self.g.structural and k not in _RESERVED and k not in HELPERS
                   and k not in self.class_names}
        fold = {k: pv.plain(v) for k, v in params.items() if k not in exposed}
        local_defs = {k: _folded(d, fold) for k, d in self.g.locals.items()}
        used: dict[str, None] = {}
        sources = []
        for num in self._slots(root):
            expr = _shared_expression([num], list(params) + list(local_defs))
            if expr is None:
                sources.append(self._literal_source(num.value))
                continue
            expr = _folded(expr, fold)
            for name in _free_names(expr):
                used[name] = None
            sources.append(pysrc.expr(expr))
        self.model_sources = sources
        for name in self._forward_model_names(root):
            if name in exposed or name in local_defs:
                used[name] = None
        self.model_locals = _used_locals(used, local_defs)
        for definition in self.model_locals.values():
            used.update(dict.fromkeys(_free_names(definition)))
        self.model_args = {k: pv.plain(params[k]) for k in params if k in used}
        mentioned = {k for k in params if k in self.g.structural}
        for k in params:
            if k in self.model_args:
                continue
            if k in mentioned:
                self.model_fixed[k] = "it decides the structure (a count, a condition or a name); recompile the spec"
            elif isinstance(params[k], Word):
                self.model_fixed[k] = "a symbolic size, which the input gives"
            elif not _is_number(params[k]):
                self.model_fixed[k] = "not a number"
            else:
                self.model_fixed[k] = "no module depends on it (e.g. an input size)"

    def _forward_model_names(self, root: Unit) -> list[str]:
        out = []
        for s in root.stmts:
            for value in self._placeholders_in(s.template):
                out += [n for n in _free_names(value.expr)] if not value.forward else []
        return out

    def _placeholders_in(self, text: str) -> list[Any]:
        return [self.traced[m] for m in re.findall(rf"{pv.PLACEHOLDER_PREFIX}\d+_", text) if m in self.traced]

    def _name_classes(self) -> None:
        # nor Python's builtins: the generated code calls some (a block `tuple` or `isinstance` as a
        # module-level class once broke the input checks)
        taken = set(_RESERVED) | set(HELPERS) | set(keyword.kwlist) | set(dir(builtins))
        by_type: dict[str, list[Group]] = {}
        for group in self.groups.values():
            unit = group.units[0]
            if unit.scope.kind == "block":
                base = unit.type_name
            else:  # a repeat or sequential: its name (features.1 -> Sequential1, layer1 -> Layer1)
                base = _camel(unit.name) if unit.name[:1].isalpha() else unit.type_name + _camel(unit.name)
            by_type.setdefault(_class_identifier(base), []).append(group)
        self.model_class = _unique(_class_identifier(self.g.name or "Model"), taken | set(by_type))
        taken.add(self.model_class)
        for base, groups in by_type.items():
            groups.sort(key=lambda gr: (-len(gr.units), gr.id))
            main = groups[0]
            main.name = _unique(base, taken)
            named = {main.name: main}
            for k, group in enumerate(groups[1:], 2):
                name = _class_identifier(self._variant_name(base, k, group.units[0], main.units[0]))
                if name in named:  # two variants differ from the main one alike: tell them apart
                    name = _class_identifier(self._variant_name(name, k, group.units[0], named[name].units[0]))
                group.name = _unique(name, taken)
                named[group.name] = group
        self.class_names = {self.model_class} | {g.name for g in self.groups.values()}

    def _variant_name(self, base: str, k: int, unit: Unit, main_unit: Unit) -> str:
        """The name of a class whose structure differs from the block's most frequent one says
        how: the kinds of layer it has or lacks anywhere inside (InvertedResidualV3WithHardswish,
        …WithoutSqueezeExcitation), else a child it has or lacks (BasicBlockWithDownsample),
        else how many children it has (DenseBlock12), else a number."""
        kinds, main_kinds = self._kinds(unit), self._kinds(main_unit)
        extra = _outermost([t for t in kinds if t not in main_kinds], kinds)
        missing = _outermost([t for t in main_kinds if t not in kinds], main_kinds)
        if extra:
            return f"{base}With{'And'.join(extra[:2])}"
        if missing:
            return f"{base}Without{'And'.join(missing[:2])}"
        main_children = [name for name, _ in main_unit.ctors]
        children = [name for name, _ in unit.ctors]
        named_extra = [c for c in children if c not in main_children and not c.isdigit()]
        named_missing = [c for c in main_children if c not in children and not c.isdigit()]
        stems = {c.rstrip("0123456789") for c in main_children}
        if len(children) != len(main_children) and all(c.rstrip("0123456789") in stems
                                                        for c in named_extra + named_missing):
            return f"{base}{len(children)}"  # more or fewer of the same children (denselayer1…12)
        if named_extra:
            return f"{base}With{_camel(named_extra[0])}"
        if named_missing:
            return f"{base}Without{_camel(named_missing[0])}"
        return f"{base}{k}"

    def _kinds(self, unit: Unit) -> dict[str, list[frozenset]]:
        """The op titles and block types inside a unit, in order of appearance, each with, per
        place it occurs, the block types around it (SqueezeExcitation's pooling sits in a
        SqueezeExcitation)."""
        out: dict[str, list[frozenset]] = {}
        stack: list[tuple[Any, frozenset]] = [(i, frozenset()) for i in reversed(unit.items)]
        while stack:
            item, outer = stack.pop()
            if isinstance(item, Unit):
                inner = outer
                if item.scope is not None and item.scope.kind == "block":
                    out.setdefault(item.type_name, []).append(outer)
                    inner = outer | {item.type_name}
                stack.extend((i, inner) for i in reversed(item.items))
            elif item.op is not None:
                out.setdefault(item.op.title, []).append(outer)
        return out
