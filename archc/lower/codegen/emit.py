"""The text: constructor and forward statements, classes (merged ones too), the model class with
its input checks, the file; shape comments (`_Labels`)."""
from __future__ import annotations

import ast
import copy
import re
import textwrap
from pathlib import Path
from typing import Any, Iterator

from archc import provenance as pv
from archc import symbolic as sy
from archc.ir.builder import TORCH_MODULE_ATTRS
from archc.lower import merge as merge_mod
from archc.lower import pysrc
from archc.lower.checks import input_checks
from archc.lower.codegen.expressions import (
    _access,
    _docstring,
    _free_names,
    _literal,
    _local_lines,
    _renamed,
    _self_form,
    _shared_expression,
    _unique,
    _with_defaults,
)
from archc.lower.codegen.model import (
    _MAKE_DIVISIBLE_SOURCE,
    _PROBE_SOURCE,
    _RESERVED,
    PROBE_FUNCTION,
    Generated,
    Group,
    Loop,
    LoopSource,
    Num,
    DictSeq,
    ListSeq,
    Seq,
    Stmt,
    Text,
    Unit,
    _is_int,
    _same_literal,
)
from archc.ops.base import HELPERS, fmt_shape, py, str_literal


class Emission:
    """A mixin of archc.lower.codegen._Generator: this module's part of it."""

    # ------------------------------------------------------------------ rendering
    def _render(self, tree: Any, slots: Iterator[str], signature: bool = False) -> str:
        """One-line source of a constructor tree, its numbers taken from `slots` in order
        (`_collect`'s order). In a signature, a generated class is named by its group's id."""
        if isinstance(tree, Loop):
            if signature:
                return (f"<loop {tree.var} {tree.child.group.id} {tree.channel_index} "
                        + " ".join(self._render(n, slots, True) for n in tree.nums) + ">")
            count, name, start, update, *args = [next(slots) for _ in tree.nums]
            return LoopSource(tree, count, name, start, update, args)
        if isinstance(tree, Num):
            if signature and tree.traced is not None and not tree.traced.forward:
                return f"<{ast.unparse(tree.traced.expr)}>"
            return next(slots)
        if isinstance(tree, Text):
            return self._plain_placeholders(tree.source)
        if isinstance(tree, ListSeq):
            return "[" + ", ".join(self._render(i, slots, signature) for i in tree.items) + "]"
        if isinstance(tree, DictSeq):
            return "{" + ", ".join(f"{str_literal(k)}: {self._render(i, slots, signature)}"
                                   for k, i in zip(tree.keys, tree.items)) + "}"
        if isinstance(tree, Seq):
            items = [self._render(i, slots, signature) for i in tree.items]
            return "(" + items[0] + ",)" if len(items) == 1 else "(" + ", ".join(items) + ")"
        if isinstance(tree.func, Unit):
            child = tree.func
            if signature:
                func, parts = f"<{child.group.id}>", []
            else:
                func, parts = child.group.name, [next(slots) for _ in child.arg_values]
                defaults = child.group.defaults or [None] * len(parts)
                while parts and defaults[len(parts) - 1] is not None and parts[-1] == defaults[len(parts) - 1]:
                    parts.pop()  # the block's default
        elif isinstance(tree.func, Num):
            func, parts = self._render(tree.func, slots, signature), []
        else:
            func, parts = tree.func, []
        parts += [self._render(a, slots, signature) for a in tree.args]
        for key, value in tree.kwargs:
            text = self._render(value, slots, signature)
            if key in tree.defaults and _literal(text)[0] and _same_literal(_literal(text)[1], tree.defaults[key]):
                continue  # the constructor's default, in every instance
            parts.append(f"{key}={text}")
        return f"{func}({', '.join(parts)})"

    def _sources(self, unit: Unit) -> list[str]:
        """Source of each of the unit's numbers (`_slots`): a class's as bound (`_bind_slots`),
        the model's in terms of its arguments (`_bind_model`)."""
        if unit.is_class:
            return unit.group.slot_sources
        if not unit.path:
            return self.model_sources
        return [py(n.value) for n in self._slots(unit)]

    def _ctor_sources(self, unit: Unit) -> list[tuple[str, str]]:
        """The children's constructors."""
        slots = iter(self._sources(unit))
        return [(name, self._render(tree, slots)) for name, tree in unit.ctors]

    def _arguments(self, unit: Unit) -> list[str]:
        if unit.is_class:
            return unit.group.args
        return list(self.model_args) if not unit.path else []

    def _idents(self, unit: Unit) -> dict[str, str]:
        """Names in the unit's expressions -> the class's argument identifiers."""
        if unit.is_class:
            return unit.group.idents
        return {k: k for k in self.model_args} if not unit.path else {}

    def _stored(self, unit: Unit) -> dict[str, str]:
        """The arguments `forward` reads, each with the attribute `__init__` keeps it in."""
        sources = self._sources(unit)[len(self._ctor_slots(unit)):]
        used = {n.id for src in sources for n in ast.walk(pysrc.parse(src)) if isinstance(n, ast.Name)}
        idents = self._idents(unit)
        for s in unit.stmts:
            for value in self._placeholders_in(s.template):
                used |= {idents[n] for n in _free_names(value.expr) if n in idents}
        taken = {name for name, _ in unit.ctors} | set(TORCH_MODULE_ATTRS) | _RESERVED
        stored: dict[str, str] = {}
        local_names = list(unit.group.locals) if unit.is_class else list(self.model_locals) if not unit.path else []
        for arg in self._arguments(unit) + local_names:
            if arg in used:
                attr = arg
                while attr in taken or not pysrc.is_plain_name(attr):
                    attr += "_"
                taken.add(attr)
                stored[arg] = attr
        return stored

    def _forward_numbers(self, unit: Unit) -> list[str]:
        """Source of the numbers of the forward lines: literal, or read from `self`."""
        stored = self._stored(unit)
        return [_self_form(src, stored) for src in self._sources(unit)[len(self._ctor_slots(unit)):]]

    def _plain_placeholders(self, text: str) -> str:
        """Placeholders of traced values as their values (where no expression can be bound)."""
        return re.sub(rf"{pv.PLACEHOLDER_PREFIX}\d+_",
                      lambda m: py(pv.plain(self.traced[m.group(0)])) if m.group(0) in self.traced else m.group(0),
                      text)

    def _forward_values(self, source: str, unit: Unit, signature: bool) -> str:
        """A forward line with its traced values (`{0}[:, :_archc_v3_]`) as expressions of the
        class's arguments (read from self) and of the forward inputs' sizes (`x.shape[2]`),
        or as their values when neither explains them."""
        if pv.PLACEHOLDER_PREFIX not in source:
            return source
        if signature:  # only compared: an expression the class can write, else the value
            names = self._signature_names(unit)

            def shown(m: re.Match) -> str:
                value = self.traced.get(m.group(0))
                if value is None:
                    return m.group(0)
                if names is not None and _free_names(value.expr) <= names:
                    return f"<{ast.unparse(value.expr)}>"
                return f"<={py(pv.plain(value))}>"
            return re.sub(rf"{pv.PLACEHOLDER_PREFIX}\d+_", shown, source)
        node = pysrc.parse(source)
        idents = self._idents(unit)
        stored = {} if signature else self._stored(unit)
        inputs = self._forward_input_vars(unit)

        def swap(n: ast.Name) -> ast.AST:
            value = self.traced.get(n.id)
            if value is None:
                return n
            names = _free_names(value.expr)
            if names <= set(inputs) | set(idents) and not (
                    not value.forward and names - set(idents)):
                if signature:
                    return ast.Name(f"<{ast.unparse(value.expr)}>", ast.Load())
                expr = _renamed(value.expr, {k: stored.get(v, v) for k, v in idents.items() if k not in inputs},
                                "self")
                expr = _renamed(expr, inputs)
                return expr
            return ast.Constant(pv.plain(value))
        return pysrc.expr(pv.NameSwap(swap).visit(copy.deepcopy(node)))

    def _signature_names(self, unit: Unit) -> set[str] | None:
        """The names a block's forward may write its values in (its parameters, input channels,
        locals and inputs); None for other units (their values are literals)."""
        if unit.scope is None or unit.scope.kind != "block":
            return None
        return set(self._class_names_of(unit)) | set(unit.scope.locals) | set(unit.scope.input_names)

    def _forward_input_vars(self, unit: Unit) -> dict[str, str]:
        """The spec's names of the unit's inputs -> their forward variables."""
        names = unit.scope.input_names if unit.scope is not None else list(self.g.inputs)
        return {name: unit.var[node_id] for name, node_id in zip(names, unit.inputs) if node_id in unit.var}

    def _forward_text(self, unit: Unit, signature: bool = False) -> list[str]:
        """The forward lines (without comments), for the signature and for output."""
        lines = []
        for s, targets, source in self._forward_sources(unit, signature):
            lines.append(f"{', '.join(targets)} = {source}" if targets else source)
        return lines

    def _forward_sources(self, unit: Unit, signature: bool = False) -> Iterator[tuple[Stmt, list[str], str]]:
        numbers = iter(["#"] * len(self._forward_nums(unit)) if signature else self._forward_numbers(unit))
        for s in unit.stmts:
            module = _access("self", unit, s.module) if s.module is not None else ""
            source = s.template.format(*[unit.var[r] for r in s.reads], m=module,
                                       **{f"n{k}": next(numbers) for k in range(len(s.nums))})
            source = self._forward_values(source, unit, signature)
            targets = [unit.var[t] for t in s.targets]
            yield s, targets, source
            if self.probes and s.node is not None:
                local = s.node.id[len(".".join(unit.path)) + 1:] if unit.path else s.node.id
                yield s, [], f"{PROBE_FUNCTION}(self, {str_literal(local)}, {unit.var[s.node.id]})"

    # ------------------------------------------------------------------ the file
    def _emit(self, order: list[Unit]) -> Generated:
        root = self.units[()]
        classes: list[str] = []
        done: set[int] = set()

        def emit(group: Group) -> None:  # a class after the classes it uses
            if group.id in done:
                return
            done.add(group.id)
            for unit in group.units:
                for child in self._child_classes(unit):
                    emit(child)
            classes.append(self._class_source(group))
        for unit in order:
            if unit.is_class:
                emit(unit.group)
        del emit  # (a closure that calls itself is a reference cycle)
        classes.append(self._model_source(root))
        body = "\n\n\n".join(classes)
        helpers = [HELPERS[name] for name in sorted(self.helpers)] + self.helpers_source
        if self.probes:
            helpers.insert(0, _PROBE_SOURCE.strip("\n") + "\n")
        if "_make_divisible" in {n.id for n in ast.walk(ast.parse(body)) if isinstance(n, ast.Name)}:
            helpers.append(_MAKE_DIVISIBLE_SOURCE.strip("\n") + "\n")
        used = {n.id for n in ast.walk(ast.parse("\n\n".join([*helpers, body]))) if isinstance(n, ast.Name)}
        standard = [line for name, line in (("math", "import math"), ("partial", "from functools import partial"))
                    if name in used]
        third_party = [line for name, line in (("torch", "import torch"), ("F", "import torch.nn.functional as F"),
                                               ("nn", "from torch import nn")) if name in used]
        imports = "\n\n".join("\n".join(group) for group in (standard, third_party) if group)
        parts = [imports, *helpers, body]
        source = self._file_docstring() + "\n\n" + "\n\n\n".join(p.rstrip("\n") for p in parts) + "\n"
        return Generated(source, self.model_class, list(self.g.inputs), list(self.g.inference_outputs))

    def _child_classes(self, unit: Unit) -> Iterator[Group]:
        for item in unit.items:
            if isinstance(item, Unit):
                if item.is_class:
                    yield item.group
                else:
                    yield from self._child_classes(item)

    def _file_docstring(self) -> str:
        g = self.g
        origin = f" from {Path(g.source_file).name}" if g.source_file else ""
        ins = "; ".join(f"{n} {fmt_shape(g.node(i).shape)}" for n, i in g.inputs.items())
        outs = "; ".join(f"{n} {fmt_shape(g.node(i).shape)}" for n, i in g.outputs.items())
        returns = ("forward returns the output tensor" if not g.returns_dict
                   else "forward returns a dict {output name: tensor}")
        if g.training_outputs:
            returns += (f"; in training mode a dict of every output, {', '.join(g.training_outputs)} "
                        "included (computed only then)")
        paragraphs = [f"{self.model_class}: generated by archc{origin}. Edit the spec, not this file.",
                      f"Inputs: {ins}. Outputs: {outs}; {returns}."]
        if self.untraced:  # said, never silently: the file is right, but literal
            paragraphs.append("Its numbers are written as literals: the spec could not be elaborated "
                              "again to find where they come from.")
        constraints = g.assumptions.describe()
        if constraints:
            paragraphs.append(f"Input sizes must satisfy: {', '.join(constraints)}.")
        text = [textwrap.fill(pysrc.safe_comment(p), pysrc.LINE - 3, break_long_words=False,
                              break_on_hyphens=False) for p in paragraphs]
        return '"""' + "\n\n".join(text) + '\n"""'

    def _class_source(self, group: Group, comments: bool = True) -> str:
        if group.variants:
            return self._merged_class_source(group)
        unit = group.units[0]
        base = "nn.Sequential" if unit.form == "seqclass" else "nn.Module"
        paths = [".".join(u.path) for u in group.units]
        where = ", ".join(paths) if len(paths) <= 8 else f"{', '.join(paths[:6])}, ... ({len(paths)} in all)"
        doc = pysrc.safe_comment((f"{unit.type_name}: " if unit.scope.kind == "block" else "") + where)
        out = [f"class {group.name}({base}):", *_docstring(doc + ".", 1), ""]
        out += pysrc.signature("__init__", ["self", *_with_defaults(group)], 1)
        ctors = self._ctor_sources(unit)
        locals_ = _local_lines(group.locals, group.idents)
        positional = all(not isinstance(src, LoopSource) and name == str(k) for k, (name, src) in enumerate(ctors))
        if unit.form == "seqclass" and positional:
            call = "super().__init__(" + ", ".join(src for _, src in ctors) + ")"
            out += locals_ + pysrc.lines("", pysrc.parse(call), 2)
        elif unit.form == "seqclass":  # children registered by name, in order (and in loops)
            out += ["        super().__init__()", *locals_, *self._ctor_lines(unit, ctors)]
        else:
            out.append("        super().__init__()")
            out += locals_
            out += [f"        self.{attr} = {arg}" for arg, attr in self._stored(unit).items()]
            out += self._ctor_lines(unit, ctors)
        out += self._init_tail(unit)
        if unit.form == "class":
            out += ["", *self._forward_source(unit, group, comments)]
        return "\n".join(out)

    def _model_source(self, root: Unit) -> str:
        checks = input_checks(self.g, self._forward_input_vars(root))
        self.helpers_source += list(checks.helpers)
        out = [f"class {self.model_class}(nn.Module):",
               *_docstring(self._model_doc(), 1), ""]
        if checks:
            out += [*(f"    {line}" for line in checks.class_lines), ""]
        out += [
               *pysrc.signature("__init__", ["self", *(f"{a}={py(v)}" for a, v in self.model_args.items())], 1),
               "        super().__init__()"]
        out += _local_lines(self.model_locals, {})
        out += [f"        self.{attr} = {arg}" for arg, attr in self._stored(root).items()]
        ctors = self._ctor_sources(root)
        out += self._ctor_lines(root, ctors)
        out += self._init_tail(root)
        header, chunks = self._forward_chunks(root, None)
        checks_lines = [pysrc.INDENT * 2 + line if line else line
                        for statement in checks.forward_lines for line in statement.split("\n")]
        out += ["", *header, *checks_lines,
                *(line for _, items in chunks for line in merge_mod.render(items, 2))]
        return "\n".join(out)

    def _model_doc(self) -> str:
        """The model's docstring: its name, and each model parameter that is no constructor
        argument, with why (a parameter is never silently dropped)."""
        text = pysrc.safe_comment(self.g.name or self.model_class) + "."
        if self.model_fixed:
            notes = "; ".join(f"{pysrc.safe_comment(k)}: {why}" for k, why in self.model_fixed.items())
            text += f" Spec parameters that are not constructor arguments: {notes}."
        return text

    def _init_tail(self, unit: Unit) -> list[str]:
        """The end of `__init__` (initializers, freezing, the frozen layers' mode) and the
        `train()` override that keeps frozen layers in inference mode."""
        out: list[str] = []
        for statement in unit.post:
            out += pysrc.lines("", pysrc.parse(statement), 2)
        if unit.keep_eval:
            out.append("        self.train()  # the frozen layers' mode, see train()")
        return out + self._train_source(unit)

    def _train_source(self, unit: Unit) -> list[str]:
        """A `train` that keeps frozen layers with running statistics in eval mode: frozen
        layers do not change, batch norm included (as Keras' trainable=False)."""
        if not unit.keep_eval:
            return []
        out = ["", "    def train(self, mode=True):",
               "        # frozen layers keep their running statistics: they run as at inference"]
        if unit.keep_eval == ["self"]:
            return out + ["        return super().train(False)"]
        out.append("        super().train(mode)")
        out += [f"        {access}.eval()" for access in unit.keep_eval]
        return out + ["        return self"]

    def _ctor_lines(self, unit: Unit, ctors: list[tuple[str, str]]) -> list[str]:
        out: list[str] = []
        for name, src in ctors:
            if isinstance(src, LoopSource):
                out += self._loop_lines(unit, src)
            else:
                out += merge_mod.render(self._ctor_statement(name, src), 2)
        return out

    def _loop_lines(self, unit: Unit, src: LoopSource) -> list[str]:
        """`for i in range(count): self.add_module(name, Child(channels, ...))`, the channels
        carried from copy to copy."""
        loop = src.loop
        group = loop.child.group
        taken = set(unit.group.args) | set(unit.group.locals) | _RESERVED
        channels = _unique("channels", taken) if loop.channel_index is not None else ""
        parts = list(src.args)
        if loop.channel_index is not None:
            parts.insert(loop.channel_index, channels)
        defaults = group.defaults or [None] * len(parts)
        while parts and defaults[len(parts) - 1] is not None and parts[-1] == defaults[len(parts) - 1]:
            parts.pop()
        call = f"{group.name}({', '.join(parts)})"
        out = pysrc.lines(f"{channels} = ", pysrc.parse(src.start), 2) if channels else []
        out.append(f"        for {loop.var} in range({src.count}):")
        out += pysrc.lines("", pysrc.parse(f"self.add_module({src.name}, {call})"), 3)
        if channels:
            out += pysrc.lines(f"{channels} = ", pysrc.parse(src.update), 3)
        return out

    @staticmethod
    def _ctor_statement(name: str, src: str) -> tuple[merge_mod.Line, ...]:
        if pysrc.is_plain_name(name) and name not in _RESERVED:
            return ((f"self.{name} = ", src, "", ""),)
        if src.startswith("nn.Parameter("):  # a declared tensor: register_parameter's twin
            return (("", f"setattr(self, {str_literal(name)}, {src})", "", ""),)
        return (("", f"self.add_module({str_literal(name)}, {src})", "", ""),)

    def _forward_source(self, unit: Unit, group: Group | None, comments: bool = True) -> list[str]:
        header, chunks = self._forward_chunks(unit, group, comments)
        return header + [line for _, items in chunks for line in merge_mod.render(items, 2)]

    def _forward_chunks(self, unit: Unit, group: Group | None,
                        comments: bool = True) -> tuple[list[str], list[merge_mod.Chunk]]:
        """`def forward(...)` with its inputs' shapes, and its statements, each keyed by what it
        computes (for merging the structures of one block, archc.lower.merge)."""
        instances = group.units if group else [unit]
        labels = _Labels(self, instances, group)
        args = [unit.var[i] for i in unit.inputs]
        header = [f"    def forward(self{''.join(', ' + a for a in args)}):"]
        for k, i in enumerate(unit.inputs):
            header.append(f"        # {args[k]}: {labels.shape([u.inputs[k] for u in instances], k == 0)}")
        chunks: list[merge_mod.Chunk] = []
        training: list[str] = []  # lines of the training-only layers, run under `if self.training:`
        position = {id(s): i for i, s in enumerate(unit.stmts)}
        prefix = len(".".join(unit.path)) + 1 if unit.path else 0
        for k, (s, targets, source) in enumerate(self._forward_sources(unit)):
            comment = ""
            if comments and not source.startswith(PROBE_FUNCTION):
                idx = position[id(s)]
                comment = ", ".join(labels.shape([u.stmts[idx].targets[j] for u in instances])
                                    for j in range(len(s.targets)))
            items: list[merge_mod.Line] = []
            note = self.lowered[s.node.id].comment if s.node is not None and targets else ""
            if note:
                items.append((None, "# " + pysrc.safe_comment(note), "", ""))
            items.append((f"{', '.join(targets)} = " if targets else "", source, "", comment))
            if self._training_only(s, unit):
                training += merge_mod.render(tuple(items), 3)
                continue
            what = s.node.id[prefix:] if s.node is not None else s.module
            chunks.append(((what, "probe" if not targets else "", k if what is None else 0), tuple(items)))
        out: list[str] = []
        if not unit.path:
            if self.g.training_outputs:
                out.append("        if self.training:  # training outputs (auxiliary classifiers) too")
                out += training
                out += self._return(unit, self.g.outputs, 3)
            out += self._return(unit, self.g.inference_outputs, 2)
        elif unit.outputs:
            out.append(f"        return {', '.join(unit.var[o] for o in unit.outputs)}")
        chunks.append((("return",), tuple((None, line[8:], "", "") for line in out)))
        return header, chunks

    def _merged_class_source(self, group: Group) -> str:
        """A class for every structure of one block (see archc.lower.merge): each structure's
        lines, under its condition where the structures differ."""
        unit = group.units[0]
        reps = [g.units[0] for g in group.variants]
        saved = [u.group for u in reps]
        for u, g in zip(reps, group.variants):
            u.group = g
        try:
            stored: dict[str, str] = {}
            for u in reps:
                stored.update(self._stored(u))
            ctor_names = {name for u in reps for name, _ in u.ctors}
            for name in dict.fromkeys(n for c in group.conditions for n in sorted(_free_names(c))):
                ident = group.idents[name]
                attr = ident
                while attr in ctor_names or attr in TORCH_MODULE_ATTRS or attr in _RESERVED:
                    attr += "_"
                stored.setdefault(ident, attr)
            attrs = {k: stored[v] for k, v in group.idents.items() if v in stored}
            conditions: dict[frozenset, ast.expr] = {}

            def condition(members: frozenset) -> ast.expr:
                if members not in conditions:
                    conditions[members] = merge_mod.minimal_condition(members, group.decisions)
                return conditions[members]

            def init_condition(members: frozenset) -> ast.expr:
                return _renamed(condition(members), group.idents)

            def forward_condition(members: frozenset) -> ast.expr:
                return _renamed(condition(members), attrs, "self")
            inits = [self._ctor_chunks(u) for u in reps]
            forwards = [self._forward_chunks(u, g)[1] for u, g in zip(reps, group.variants)] \
                if unit.form == "class" else []
            header = self._forward_chunks(reps[0], group.variants[0])[0] if unit.form == "class" else []
        finally:
            for u, g in zip(reps, saved):
                u.group = g
        base = "nn.Sequential" if unit.form == "seqclass" else "nn.Module"
        paths = [".".join(u.path) for u in group.units]
        where = ", ".join(paths) if len(paths) <= 8 else f"{', '.join(paths[:6])}, ... ({len(paths)} in all)"
        doc = pysrc.safe_comment(f"{unit.type_name}: {where}")
        out = [f"class {group.name}({base}):", *_docstring(doc + ".", 1), ""]
        out += pysrc.signature("__init__", ["self", *_with_defaults(group)], 1)
        body = merge_mod.merge(inits, init_condition, 2)
        if body is None:
            raise AssertionError(f"{group.name}: structures in different orders")
        locals_ = _local_lines(group.locals, group.idents)
        if unit.form == "seqclass":
            local = _unique("layers", set(group.args) | set(group.locals))
            body = [line.replace("layers.append(", f"{local}.append(", 1) for line in body]
            out += [*locals_, f"        {local} = []", *body, f"        super().__init__(*{local})"]
        else:
            out += ["        super().__init__()", *locals_]
            out += [f"        self.{attr} = {arg}" for arg, attr in stored.items()]
            out += body
        tails = [tuple(self._init_tail(u)) for u in reps]
        out += list(tails[0]) if len(set(tails)) == 1 else []
        if unit.form == "class":
            forward = merge_mod.merge(forwards, forward_condition, 2)
            if forward is None:
                raise AssertionError(f"{group.name}: forward lines in different orders")
            out += ["", *header, *forward]
        return "\n".join(out)

    def _ctor_keys(self, unit: Unit) -> list[Any]:
        """What each constructor statement of a unit builds (`_ctor_chunks`' keys)."""
        keys: list[Any] = []
        seen: dict[Any, int] = {}
        modules = [i for i in unit.items if isinstance(i, Unit) or self.lowered[i.id].module is not None]
        for item in modules:
            if unit.form == "seqclass":
                loc = item.scope.loc if isinstance(item, Unit) else item.loc
                site = (loc.file, loc.line, loc.col) if loc else None
                seen[site] = seen.get(site, -1) + 1
                keys.append((site, seen[site]))
            else:
                keys.append((item.name,))
        return keys + [("post", statement) for statement in unit.post]

    def _forward_keys(self, unit: Unit) -> list[Any]:
        """What each forward statement of a unit computes (`_forward_chunks`' keys)."""
        prefix = len(".".join(unit.path)) + 1 if unit.path else 0
        keys: list[Any] = []
        for k, s in enumerate(unit.stmts):
            what = s.node.id[prefix:] if s.node is not None else s.module
            keys.append((what, "", k if what is None else 0))
        return keys + [("return",)]

    def _ctor_chunks(self, unit: Unit) -> list[merge_mod.Chunk]:
        """The children's constructor statements, each keyed by its child (in a Sequential
        class, by where the spec builds it: the names there are positions)."""
        chunks: list[merge_mod.Chunk] = []
        keys = self._ctor_keys(unit)
        for key, (name, src) in zip(keys, self._ctor_sources(unit)):
            if unit.form == "seqclass":
                chunks.append((key, (("", f"layers.append({src})", "", ""),)))
            else:
                chunks.append((key, self._ctor_statement(name, src)))
        for key, statement in zip(keys[len(unit.ctors):], unit.post):
            chunks.append((key, (("", statement, "", ""),)))
        return chunks

    def _return(self, unit: Unit, outs: dict[str, str], depth: int) -> list[str]:
        """One output: the tensor (unless the model `returns dict`); several: a dict by output name."""
        if len(outs) == 1 and not self.g.returns_dict:
            return ["    " * depth + f"return {unit.var[next(iter(outs.values()))]}"]
        items = ", ".join(f"{str_literal(name)}: {unit.var[i]}" for name, i in outs.items())
        return pysrc.lines("return ", pysrc.parse("{" + items + "}"), depth)

    def _training_only(self, s: Stmt, unit: Unit) -> bool:
        if unit.path or not self.g.training_outputs:
            return False  # the elaborator keeps training-only layers at the model level
        return all(self.g.node(t).training_only for t in s.targets)



class _Labels:
    """Shape comments for the forward of a class with one or more instances: a size that is the
    same in every instance is written as it is; one that varies, as the class argument it
    equals, or relative to the first input's shape [N, C, H, W] (`H/2`, `C*4`), else `?`."""

    def __init__(self, gen: Any, instances: list[Unit], group: Group | None):
        self.gen = gen
        self.idents = group.idents if group else gen._idents(instances[0])
        self.inputs = [gen.g.node(u.inputs[0]).shape if u.inputs else () for u in instances]
        rank = len(self.inputs[0]) if self.inputs else 0
        spatial = {3: ["L"], 4: ["H", "W"], 5: ["D", "H", "W"]}.get(rank, [f"S{k}" for k in range(rank - 2)])
        self.labels = ["N", "C", *spatial][:rank]
        # sizes as each instance sees them (archc.provenance): its inputs in its own names, its
        # child blocks' results as the block sees them
        self.views: list[dict[str, Any]] = []
        for u in instances:
            view: dict[str, Any] = {}
            for item in u.items:
                if isinstance(item, Unit) and item.scope is not None and item.scope.output_shapes:
                    view.update(zip(item.scope.outputs, item.scope.output_shapes))
            if u.scope is not None and u.scope.kind == "block" and u.scope.input_shapes:
                for k, (name, node_id) in enumerate(zip(u.scope.input_names, u.scope.inputs)):
                    channel = "in_channels" if len(u.scope.inputs) == 1 else f"{name}_channels"
                    shape = u.scope.input_shapes[k]
                    view.setdefault(node_id, tuple(
                        pv.traced(pv.plain(d), ast.Name(channel, ast.Load())) if j == 1 and sy.is_int(d) else d
                        for j, d in enumerate(shape)))
            self.views.append(view)

    def shape(self, value_ids: list[str], first_input: bool = False) -> str:
        shapes = [view.get(v, self.gen.g.node(v).shape) for v, view in zip(value_ids, self.views)]
        if len({len(s) for s in shapes}) != 1:
            return "?"
        rank = len(shapes[0])
        return "[" + ", ".join(self._dim([s[k] for s in shapes], k, first_input, rank)
                               for k in range(rank)) + "]"

    def _dim(self, vals: list, axis: int, first_input: bool, rank: int) -> str:
        expr = _shared_expression([Num(pv.plain(v), v if pv.is_traced(v) else None) for v in vals],
                                  self.idents.keys())
        if expr is not None and not isinstance(expr, ast.Constant):
            return pysrc.expr(_renamed(expr, self.idents)).replace(" ", "")
        vals = [pv.plain(v) for v in vals]  # the search below is by value only
        if all(v == vals[0] for v in vals):
            return sy.to_str(vals[0])
        if first_input and axis < len(self.labels):
            return self.labels[axis]
        # the same axis of the input first (W, not H, for a square input's width)
        order = list(range(len(self.labels)))
        aligned = axis - (rank - len(self.labels))  # the trailing axes match: W is the last
        order.sort(key=lambda j: j != aligned)
        for j in order:
            label = self.labels[j]
            ins = [pv.plain(s[j]) if j < len(s) else None for s in self.inputs]
            if all(v == i for v, i in zip(vals, ins)):
                return label
            for k in range(2, 65):
                if all(i is not None and sy.mul(v, k) == i for v, i in zip(vals, ins)):
                    return f"{label}/{k}"
                if all(i is not None and v == sy.mul(i, k) for v, i in zip(vals, ins)):
                    return f"{label}*{k}"
            for k in range(2, 65):
                if all(_is_int(i) and _is_int(v) and v == -(-i // k) for v, i in zip(vals, ins)):
                    return f"ceil({label}/{k})"
        return "?"
