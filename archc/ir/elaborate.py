"""Elaboration: run a spec's AST to build the graph IR.

The spec is a tiny dataflow program. Evaluating it binds model parameters, instantiates blocks,
unrolls repeats and adds one graph node per layer. Shapes are inferred as each node is added,
because a block body may read its input's shape (`x.channels`) and conditionals may depend on
it; every other analysis runs later over the finished graph (`archc.analysis`).

This module owns the statements: the model's parameters and inputs, a body's assignments in
dependency order (cycles, reassignment, unused names, layers of branches not taken), outputs,
and `elaborate()`, the entry point. The parts it builds on:
- archc.ir.values: the values (`Tensor`, `Partial`, `POISON`, `Env`, ...);
- archc.ir.evaluate: the expression evaluator; archc.ir.calls: ops, blocks, repeats, sequentials;
- archc.ir.builder: the graph, its scopes and names; archc.ir.report: errors and warnings;
- archc.ir.names: the names an expression reads, and whether one call makes its value;
- archc.loader: the imported files and their blocks; archc.ir.passes: the passes over the
  finished graph; archc.ir.lints: the warnings.

Errors are collected, not raised at the first: a statement that fails binds its targets to
POISON, and anything computed from POISON is skipped silently, so one mistake gives one error.
"""
from __future__ import annotations

import difflib
import itertools
import operator
import time
from pathlib import Path
from typing import Any

from archc import ast as A
from archc import provenance as pv
from archc import symbolic as sy
from archc.deep import run_deep
from archc.errors import Related, SpecError, SpecErrors, did_you_mean, did_you_mean_fixes
from archc.ir.builder import LOCAL_NAMES_TAKEN, GraphBuilder
from archc.ir.calls import META_KWARGS, Calls
from archc.ir.digraph import CycleError, DiGraph, topological_order
from archc.ir.graph import Graph, LayerNode
from archc.ir.names import free_names, single_call
from archc.ir.passes import assumptions_of, mark_training_only, simplify_shapes
from archc.ir.report import Reporter
from archc.ir.values import (
    POISON, Abort, Body, Env, OutOfTime, Partial, ShapeContext, Tensor, describe, python_name,
)
from archc.language import BUILTINS, SPECIAL_FORMS
from archc.limits import limit
from archc.loader import BlockLoader, search_path
from archc.ops import REGISTRY
from archc.ops.base import Shape, Word


# the names each expression reads (Elaborator._free_names), by id with the expression kept alive;
# never changed by their readers
_FREE_NAMES: dict[int, tuple[Any, set[str]]] = {}
_FREE_NAMES_KEPT = 200_000
# what _declare finds of a block body, by id with the body kept alive: the same for every instance of
# the block (its parameters and inputs are the same names), kept where declaring reported nothing
_DECLARED: dict[int, tuple] = {}
_DECLARED_KEPT = 2_000
_LAYER, _SHARES = operator.itemgetter("layer"), operator.attrgetter("shares")


class Elaborator(Calls):
    """Elaborates one spec: the statement layer over the call layer (archc.ir.calls) and the
    expression evaluator (archc.ir.evaluate); `run()` gives the graph."""

    def __init__(self, spec: A.Spec, file: str, overrides: dict[str, Any] | None = None,
                 strict: bool = False, trace: bool = False):
        # provenance for code generation (archc.provenance): parameters and input sizes traced,
        # every instance evaluated (a replayed one would carry its template's traces)
        reporter = Reporter()
        super().__init__(reporter, GraphBuilder(reporter, limit("ARCHC_MAX_LAYERS")), trace)
        self.spec = spec
        self.local_defs: dict[str, Any] = {}  # numbers the current body names: their definitions
        self.local_params: set[str] = set()  # the current body's parameter names
        self.loop: tuple | None = None
        self.loops: list[tuple | None] = []
        self.model_locals = self.local_defs
        self.file = file
        self.strict = strict  # warnings are errors
        # a string from the API or the CLI (`size="H"`) is a word, e.g. a symbolic size
        self.overrides = {k: Word(v) if isinstance(v, str) else v for k, v in (overrides or {}).items()}
        self.templates: dict[tuple, Any] = {}
        self.sized_templates: dict[tuple, Any] = {}
        self.repeat_copy_depth = -1
        # the deepest block nesting (the instance stack's length as an instance is entered) inside
        # the instances being recorded as templates, which hold their depth; -1 outside them
        self.deepest = -1
        self.recorder = None  # (archc.ir.patterns.Recorder while an instance is recorded)
        self.assumptions = sy.Assumptions()
        self.ctx = ShapeContext(self.assumptions)
        self.blocks: dict[str, A.BlockDef] = {}
        self.failed_imports: list[str] = []
        self.model_params = {p.name for p in spec.params}
        # alternative statements (one layer name, one built): statements found to build nothing any
        # result needs, skipped when the spec is elaborated again (`elaborate` does), by place
        self.skipped: frozenset = frozenset()
        self.skip_next: set[tuple] = set()
        self.unused_layers = 0  # layers `unused` statements made (built, never run)
        self.model: tuple = ()  # the model body's Body, environment, parameter values and inputs
        # archc.ir.resume: what notes the model body's state before each statement (None: nothing),
        # and how many of the graph's first layers have tuple shapes already (a resumed run's)
        self.marks: Any = None
        self.checked_shapes = 0
        self.shares_checked = 0  # the graph's first layers whose `shares` names a layer built
        self.shapes_rewritten = False
        self.max_repeat = limit("ARCHC_MAX_REPEAT")
        self.max_block_depth = limit("ARCHC_MAX_BLOCK_DEPTH")

    # ------------------------------------------------------------------ errors
    def _report_unknown_calls(self, expr: A.Expr, env: "Env") -> None:
        """After a statement failed, report every unknown op or block, attribute or parameter it
        names, not only the one evaluation stopped at: `x -> conv2dd(64, 3) -> relu(foo=1) ->
        batchnrm2d` gives three errors. A name the statement binds or reads as a value is left
        to evaluation. The messages are evaluation's own, so a mistake it reported already (or
        one reached again through another block instance) is not repeated."""

        def walk(e: Any, bound: frozenset) -> None:
            if isinstance(e, A.ListComp):
                inner = bound
                for clause in e.clauses:  # each clause sees the names of those before it
                    walk(clause.iterable, inner)
                    inner = inner | set(clause.targets)
                    for cond in clause.conditions:
                        walk(cond, inner)
                walk(e.element, inner)
                return
            if isinstance(e, A.Call):
                self._check_call_names(e, env, bound)
            for child in A.children(e):
                walk(child, bound)

        try:
            walk(expr, frozenset())
        except RecursionError:
            self._too_deep(expr)

    def _free_names(self, expr: A.Expr | None, once: bool = False) -> set[str]:
        """The names `expr` reads; once per expression (a block body is ordered again for every
        instance, its statements unchanged: the AST is immutable), and once per process for an
        imported library's (parsed once per process), unless asked `once`."""
        cached = _FREE_NAMES.get(id(expr)) if not once else None
        if cached is not None and cached[0] is expr:
            return cached[1]
        try:
            names = free_names(expr)
        except RecursionError:
            self._too_deep(expr)
            return set()
        if once:
            return names
        if len(_FREE_NAMES) >= _FREE_NAMES_KEPT:  # specs parsed again and again (an editor's edits)
            _FREE_NAMES.clear()
        _FREE_NAMES[id(expr)] = (expr, names)  # holding expr keeps its id from being reused
        return names

    def _check_call_names(self, call: A.Call, env: "Env", bound: frozenset) -> None:
        func = call.func
        if func in bound:
            return
        found, value = env.lookup(func)
        if found and isinstance(value, str) and (value in self.blocks or value in REGISTRY):
            func = str(value)
        elif found and (isinstance(value, Partial) or not self._callable_name(func)):
            return  # a layer bound to a name, or a value: evaluation says what is wrong with it
        if func == "repeat":
            self._unknown_repeat_options(call)
            return
        if func in SPECIAL_FORMS or (func in BUILTINS and func not in self.blocks):
            return
        if func in self.blocks:
            block = self.blocks[func]
            names, owner, what = [p.name for p in block.params], f"block {block.name}", "parameter"
        elif REGISTRY.get(func) is not None:
            op = REGISTRY.get(func)
            names, owner, what = [at.name for at in op.attrs], op.name, "attribute"
        else:
            self.error(f"unknown op or block '{func}'", call.loc, self._unknown_callable_hint(func),
                       code="E-CALL-UNKNOWN-OP", fixes=did_you_mean_fixes(func, call.loc, self._callables()))
            return
        op = REGISTRY.get(func) if func not in self.blocks else None
        for kw in call.kwargs:
            if kw.name not in names and kw.name not in META_KWARGS and not (op and op.attribute_for(kw.name)):
                self._unknown_keyword(owner, kw.name, names, what, kw.loc, op)

    # ------------------------------------------------------------------ top level
    def run(self) -> Graph:
        self.deadline = time.monotonic() + self.max_seconds
        env, params, inputs = self._header()
        body = Body(self.spec.body, len(self.builder.created), len(self.builder.alternatives))
        self.model = (body, env, params, inputs)
        self._declare(body, 0, env, list(inputs), self.marks, once=True)
        self._statements(body, 0, env, self.marks)
        return self._finish(body, env, params, inputs)

    def _header(self) -> tuple[Env, dict[str, Any], dict[str, str]]:
        """The blocks, the model parameters and the inputs: the model body's environment."""
        loader = BlockLoader(self.reporter.diag.add)
        loader.load(self.spec, self.file, set())
        self.blocks, self.failed_imports = loader.blocks, loader.failed_imports
        env = Env()
        params = self._bind_model_params(env)
        inputs: dict[str, str] = {}
        for decl in self.spec.inputs:
            if decl.name in env.values:
                self.error(f"input '{decl.name}' is already defined", decl.loc,
                           "give the input a name of its own, not another input's or a parameter's",
                           code="E-NAME-DUPLICATE")
                continue
            shape = self._input_shape(decl, env)
            try:  # `input forward: …`: the error is recorded; the input is unusable
                node_id = self.builder.unique_name(decl.name, decl.loc, explicit=True)
            except Abort:
                node_id = None
            if shape is None or node_id is None:
                env.values[decl.name] = POISON
                continue
            self.builder.add_node(LayerNode(node_id, None, {}, [], shape, decl.loc, (),
                                            tensor_names=[decl.name], tensor_scopes=[()]))
            inputs[decl.name] = node_id
            env.values[decl.name] = Tensor(node_id, shape)
        if not self.spec.inputs:
            self.error("the spec has no inputs", self.spec.loc,
                       "declare one, e.g. `input x: [N, 3, 224, 224]`", code="E-INPUT-NO-INPUTS")
        return env, params, inputs

    def _finish(self, body: "Body", env: Env, params: dict[str, Any], inputs: dict[str, str]) -> Graph:
        """After the model body's statements: the outputs, the passes over the finished graph,
        the warnings, and the graph (or the errors)."""
        values = self._end_body(body, env, [o.value for o in self.spec.outputs], list(inputs), "the model",
                                [o.name for o in self.spec.outputs])
        outputs: dict[str, str] = {}
        for out, value in zip(self.spec.outputs, values):
            if value is POISON:
                continue
            if not isinstance(value, Tensor):
                self.error(f"output '{out.name}' is {describe(value)}, not a tensor", out.loc,
                           "an output is a tensor: name one, or pipe one into a layer "
                           "(`output y = h -> linear(10)`)" if isinstance(value, Partial) else None,
                           code="E-INPUT-OUTPUT-NOT-TENSOR")
                continue
            if not out.name.strip():
                self.error("an output's name is empty", out.loc, "name it: any text a dict key can be, "
                           "e.g. output \"0\" = p2", code="E-NAME-OUTPUT-EMPTY")
                continue
            if out.name in outputs:
                self.error(f"output '{out.name}' is declared twice", out.loc,
                           "give each output a name of its own", code="E-NAME-DUPLICATE")
                continue
            outputs[out.name] = value.node
        if not self.spec.outputs:
            self.error("the spec has no outputs", self.spec.loc,
                       "declare one, e.g. `output logits = h -> linear(10)` or `output h`",
                       code="E-INPUT-NO-OUTPUTS")
        training = [o.name for o in self.spec.outputs if o.training and o.name in outputs]
        if not self.reporter.diag.errors and self.unused_layers:
            # layers that never run constrain no input: what the others need, their rules again
            self.assumptions = assumptions_of(self.builder, {n for n in self.builder.g.nodes
                                                             if not self.builder.layer(n).unused})
        inference_assumptions = self.assumptions
        if training and not self.reporter.diag.errors:
            inference_assumptions = mark_training_only(self.builder, outputs, training,
                                                       {o.name: o.loc for o in self.spec.outputs},
                                                       self.assumptions, self.reporter)
        for alt in self.builder.alternatives:  # made in a body whose end never came (an error)
            if not alt.resolved and self.builder.exists(".".join((*alt.scope, alt.provisional))):
                self.builder.duplicate(alt)
        # (a resumed elaboration that pruned nothing: its first layers were looked at before)
        start = 0 if body.pruned else self.shares_checked
        self.shares_checked = len(self.builder.g)
        nodes = self.builder.g.nodes
        later = list(itertools.islice(reversed(nodes.values()), len(nodes) - start))[::-1]
        # (told at C speed that no layer shares another's module, the common case: no id is empty)
        for k, node in enumerate(later if any(map(_SHARES, map(_LAYER, later))) else (), start):
            layer = node["layer"]
            if layer.shares is not None and layer.shares not in self.builder.g:
                self.error(f"the first application of shared '{layer.shares}' is in a branch not taken, and "
                           f"'{layer.id}' would call its module", layer.loc,
                           "apply a shared layer first where it is always built", code="E-SHARE-SCOPE")
                self.shares_checked = k
                break
        if self.skip_next and not self.reporter.diag.errors:
            raise _Again(self.skipped | self.skip_next)
        warned: set[tuple] = set()
        for node_id, warning in self.reporter.warnings:
            place = (self.builder.layer(node_id).op.name, warning.loc) if node_id in self.builder.g else None
            if place is None or place in warned:
                continue  # its layer was pruned (a branch not taken), or warned about already
            warned.add(place)
            self.reporter.diag.add(warning.as_error() if self.strict else warning)
        self.reporter.diag.raise_if_any()
        self.shapes_rewritten = simplify_shapes(self.builder, self.assumptions, self.trace, self.checked_shapes)
        graph = Graph(self.spec.name or Path(self.file).stem, self.builder.g, inputs, outputs,
                      self.builder.scopes, self.assumptions, params, self.file, training, inference_assumptions)
        graph.returns = self.spec.returns
        return graph

    def _bind_model_params(self, env: Env) -> dict[str, Any]:
        declared = {p.name for p in self.spec.params}
        for name in self.overrides:
            if name not in declared:
                self.error(f"no model parameter named '{name}' to set",
                           None, did_you_mean(name, declared) or
                           f"the spec's parameters are: {', '.join(sorted(declared)) or 'none'}",
                           code="E-PARAM-UNKNOWN")
        values: dict[str, Any] = {}
        first: dict[str, Any] = {}
        for p in self.spec.params:
            if p.name in first:  # the last would silently win
                where = first[p.name]
                self.error(f"model parameter '{p.name}' is declared twice"
                           + (f" (first at line {where.line})" if where else ""), p.loc,
                           "remove one declaration, or rename it", code="E-NAME-DUPLICATE")
                continue
            first[p.name] = p.loc
            if p.name in self.overrides:
                value = self.overrides[p.name]
            elif p.default is None:
                self.error(f"model parameter '{p.name}' has no value", p.loc,
                           f"give it a default (`param {p.name} = ...`) or set it: -D {p.name}=...",
                           code="E-PARAM-NO-VALUE")
                value = POISON
            else:
                value = self._eval_guarded(p.default, env, p.loc)
            if self.trace and value is not POISON:
                value = pv.deep(pv.plain(value), python_name(p.name), frozenset({p.name}))
            env.values[p.name] = value
            values[p.name] = value
        return values

    def _input_shape(self, decl: A.Input, env: Env) -> Shape | None:
        dims: list[Any] = []
        for expr in decl.shape:
            value = self._eval_guarded(expr, env)
            if value is POISON:
                return None
            if isinstance(value, Word) and not str(value).isidentifier():
                self.error(f"input '{decl.name}': a symbolic dimension must be one name such as H, "
                           f"got {str(value)!r}", expr.loc,
                           "set a parameter to an int or a single name, e.g. -D size=H or -D size=224",
                           code="E-INPUT-DIM-TYPE")
                return None
            if isinstance(value, Word):
                value = sy.sym(str(value))
            if isinstance(value, bool) or not (isinstance(value, int) or isinstance(value, sy.Expr)):
                self.error(f"input '{decl.name}': a dimension must be an int or a symbol such as N or H,"
                           f" got {describe(value)}", expr.loc, code="E-INPUT-DIM-TYPE")
                return None
            if isinstance(value, int) and pv.plain(value) < 1:  # a check, not a structural decision
                self.error(f"input '{decl.name}': dimension {value} must be ≥ 1", expr.loc,
                           code="E-INPUT-DIM-NOT-POSITIVE")
                return None
            dims.append(value)
        if len(dims) < 2:
            self.error(f"input '{decl.name}' has rank {len(dims)}; inputs are [batch, channels, ...]",
                       decl.loc, "e.g. `input x: [N, 3, 224, 224]` or `[N, 784]`", code="E-INPUT-RANK")
            return None
        return tuple(dims)

    # ------------------------------------------------------------------ statements
    def _run_body(self, body: list[A.Assign], env: Env, results: list[A.Expr], input_names: list[str],
                  where: str, result_names: list[str] = (), own_scope: bool = False) -> list[Any]:
        """Evaluate assignments in dependency order, then the `results` (outputs or returns), and
        give their values; report cycles, reassignment and unused names. `own_scope`: the scope it
        runs in is its own (a block instance's), dropped if a branch not taken held all its layers."""
        known = _DECLARED.get(id(body))
        if known is not None and known[0] is body and known[1] is results and known[2] == input_names \
                and env.values.keys() == known[3] and env.parent is None:
            state = Body(body, len(self.builder.created), len(self.builder.alternatives), own_scope, known[4])
        else:
            state = Body(body, len(self.builder.created), len(self.builder.alternatives), own_scope)
            errors = len(self.reporter.diag.errors)
            self._declare(state, 0, env, input_names)
            state.used = set().union(*map(self._free_names, results))
            if state.badly_declared is None and len(self.reporter.diag.errors) == errors and env.parent is None:
                if len(_DECLARED) >= _DECLARED_KEPT:
                    _DECLARED.clear()
                _DECLARED[id(body)] = (body, results, input_names, set(env.values),
                                       {name: getattr(state, name) for name in Body.DECLARED})
        if body:  # (a body of a return only is common: DenseNet's 58 DenseConnected)
            self._statements(state, 0, env)
        return self._end_body(state, env, results, input_names, where, result_names)

    def _declare(self, state: "Body", start: int, env: Env, input_names: list[str], marks: Any = None,
                 once: bool = False) -> None:
        """The names the statements from `start` on define and read (reassignment and reading
        itself reported), and whether the text's order is a dependency order. `once`: the body
        runs once (the model's), so the names are not kept for another time."""
        body, defined, defined_at, uses, hints, read, read_first, unread = (
            state.body, state.defined, state.defined_at, state.uses, state.hints, state.read, state.read_first,
            state.unread)
        del hints[start:]  # (archc.ir.resume cuts the others back to `start`)
        for k in range(start, len(body)):
            stmt = body[k]
            if marks is not None:
                marks.declaring(k, state)
            names = self._free_names(stmt.value, once)
            uses.append(names)
            hints.append(len(stmt.targets) == 1 and single_call(stmt.value))
            for name in names:
                if name not in read:
                    read[name] = k
                    if name in defined:
                        unread.pop(name, None)
                    else:
                        read_first[name] = k  # read before any statement defines it: a later one may
            for target in stmt.targets:
                if target in defined:
                    self.error(f"'{target}' is assigned twice (first at line {defined[target].loc.line})",
                               stmt.loc, "every name is assigned once; give the new tensor a new name",
                               code="E-NAME-DUPLICATE")
                    state.declared_badly(k)
                elif target in input_names or (target in env.values if env.parent is None else env.lookup(target)[0]):
                    self.error(f"'{target}' is already defined (an input or parameter)", stmt.loc,
                               "give the tensor a new name", code="E-NAME-DUPLICATE")
                    state.declared_badly(k)
                else:
                    defined[target] = stmt
                    defined_at[target] = k
                    if target not in read:
                        unread[target] = None
                    if target.startswith("_") or stmt.unused:
                        state.kept.append(target)
                    if stmt.unused:
                        state.idle.append(target)
            if not names.isdisjoint(stmt.targets):
                for name in names:
                    if defined.get(name) is stmt:
                        self.error(f"'{name}' is used in its own definition", stmt.loc,
                                   "a tensor cannot depend on itself; name the input differently",
                                   code="E-NAME-CYCLE")
                        state.declared_badly(k)
            loc = stmt.loc
            key = (loc.line, loc.col) if loc else (0, 0)  # (_position_key)
            if key < state.last_key:
                state.in_text_order = False
            state.last_key = key
        if marks is not None:
            marks.declaring(len(body), state)
        # as specs are mostly written, every name is read below its statement: the text's order
        state.in_text_order = state.in_text_order and not any(
            defined_at[name] > k for name, k in read_first.items() if name in defined_at)

    def _statements(self, state: "Body", start: int, env: Env, marks: Any = None) -> None:
        """Run the statements (from the `start`-th of the text's order on). `marks` (the model
        body's, archc.ir.resume) notes the state before each."""
        body, made, hints = state.body, state.made, state.hints
        if state.in_text_order:
            order = range(start, len(body))
        else:
            assert start == 0
            by_id = {id(stmt): k for k, stmt in enumerate(body)}
            order = [by_id[id(stmt)] for stmt in self._dependency_order(body, state.defined, state.uses, env)]
        created = self.builder.created
        for k in order:
            stmt = body[k]
            if marks is not None:
                marks.running(k, state, env)
            if self.skipped and _place(stmt, self.builder.scope_path) in self.skipped:
                for t in stmt.targets:  # the other alternative is built: this one never is
                    env.values[t] = POISON
                    state.skipped.add(t)
                continue
            first = len(created)
            self._assign(stmt, env, hints[k])
            made.append((stmt, first, len(created)))
            if stmt.unused:
                self._mark_unused(stmt, first, env)
        if marks is not None:
            marks.running(len(body), state, env)

    def _end_body(self, body: "Body", env: Env, results: list[A.Expr], input_names: list[str], where: str,
                  result_names: list[str]) -> list[Any]:
        """The results' values; the layers no result needs removed; unused names reported."""
        state = body
        defined, first_node = state.defined, state.first_node
        values = []
        for k, expr in enumerate(results):
            if k < len(result_names) and result_names[k].isidentifier() and single_call(expr):
                self.builder.name_hint = (self.builder.scope_path, result_names[k])  # `output logits = h -> linear(10)`
            try:
                values.append(self._eval_guarded(expr, env))
            finally:
                self.builder.name_hint = None
        for expr, value in zip(results, values):
            if value is POISON:
                self._report_unknown_calls(expr, env)
        # unused names: assigned tensors and inputs nobody reads
        # (what the statements read is state.read: a body's names, which might be many)
        used = state.used if state.used is not None else set().union(*map(self._free_names, results))
        if self.unknown_names:
            used = used | {n for bad in self.unknown_names
                     for n in difflib.get_close_matches(bad, defined.keys() | set(input_names), cutoff=0.6)}
        if state.idle:
            self._unused_not_read(state, results)
        # `_name`: kept on purpose, though unused; a name never read is reported as unused below,
        # not as a layer of a branch not taken (in the order written: each name has its own place)
        defined_at = state.defined_at
        unread = sorted(state.unread.keys() - used,
                        key=lambda name: (defined_at[name], defined[name].targets.index(name)))
        kept = [env.values[name] for name in (*unread, *state.kept) if name not in state.skipped
                and name in env.values] if unread or state.kept else []
        body.pruned = self._prune_untaken(first_node, values + kept, body.own_scope)
        if len(self.builder.alternatives) > state.alternatives_start:
            self._resolve_alternatives(state.alternatives_start, first_node, state.made)
        for name in unread:
            stmt = defined[name]
            if not name.startswith("_") and not stmt.unused and not (
                    len(stmt.targets) > 1 and _is_data(env.values.get(name, POISON), self.blocks)):
                # `r, c = row` with only c read: a settings row unpacked, as Python allows; an
                # unused tensor (a dropped layer) or layer stays an error
                self.error(f"'{name}' is computed but never used in {where}", stmt.loc,
                           "use it, make it an output, or start its name with '_' to keep it anyway",
                           code="E-NAME-UNUSED")
        for name in input_names:
            if name not in used and name not in state.read and not name.startswith("_"):
                self.error(f"input '{name}' is never used in {where}", self._input_loc(name, where),
                           "connect it, or remove it", code="E-NAME-UNUSED")
        return values

    def _resolve_alternatives(self, start: int, first_node: int, made: list[tuple[A.Assign, int, int]]) -> None:
        """A name made twice in this body (GraphBuilder.alternatives): once the branches not taken
        are pruned, one of the two must be gone. If the first is, the spec is elaborated again
        without the statement that made it, so the second takes the name."""
        here = self.builder.scope_path
        for alt in self.builder.alternatives[start:]:
            if alt.resolved or alt.scope[:len(here)] != here or alt.first_index < first_node:
                continue  # decided in a body inside, or the first was made outside this body
            alt.resolved = True
            first = self.builder.exists(".".join((*alt.scope, alt.name)))
            second = self.builder.exists(".".join((*alt.scope, alt.provisional)))
            if first and second:
                self.builder.duplicate(alt)
            elif second:
                stmt = next((s for s, a, b in made if a <= alt.first_index < b), None)
                if stmt is None:
                    self.builder.duplicate(alt)
                else:
                    self.skip_next.add(_place(stmt, here))

    def _mark_unused(self, stmt: A.Assign, start: int, env: Env) -> None:
        """`unused f4 = ...`: the layers the statement made are built, never run."""
        made = self.builder.created_since(start)
        if not made and env.values.get(stmt.targets[0]) is not POISON:
            self.error(f"'unused {stmt.targets[0]}' makes no layer of its own", stmt.loc,
                       "`unused` declares modules that are built but never run; here the right side "
                       "is a tensor computed elsewhere: drop the statement", code="E-VALUE-UNUSED-NO-LAYER")
        for node_id in made:
            self.builder.layer(node_id).unused = True
        self.unused_layers += len(made)

    def _unused_not_read(self, body: "Body", results: list[A.Expr]) -> None:
        """Nothing reads what an `unused` statement computes: it never runs."""
        idle, defined = set(body.idle), body.defined
        readers = [(stmt.loc, names) for stmt, names in zip(body.body, body.uses) if not stmt.unused] + \
            [(expr.loc, self._free_names(expr)) for expr in results]
        for loc, names in readers:
            for name in sorted(names & idle):
                self.error(f"'{name}' is declared unused: its modules are built but never run, so nothing "
                           "can read it", loc, f"drop `unused` where '{name}' is computed to run it",
                           code="E-NAME-UNUSED-READ",
                           related=[Related(defined[name].loc, "declared unused here")])

    def _dependency_order(self, body: list[A.Assign], defined: dict[str, A.Assign],
                          uses: list[set[str]], env: Env) -> list[A.Assign]:
        """The statements in dependency order, the earliest written first among those ready;
        a cycle is reported and its statements left out (their names poisoned)."""
        deps = DiGraph()
        stmt_ids = {id(s): s for s in body}
        for stmt, names in zip(body, uses):
            deps.add_node(id(stmt))
            for name in names:
                if name in defined and defined[name] is not stmt:
                    deps.add_edge(id(defined[name]), id(stmt))
        try:
            return [stmt_ids[i] for i in topological_order(deps, key=lambda i: _position_key(stmt_ids[i]))]
        except CycleError as e:
            cycle = e.cycle
            names = [stmt_ids[a].targets[0] for a, _ in cycle] + [stmt_ids[cycle[0][0]].targets[0]]
            first = stmt_ids[cycle[0][0]]
            self.error("cycle: " + " -> ".join(names), first.loc,
                       "tensors must form a directed acyclic graph; break the loop", code="E-NAME-CYCLE")
            in_cycle = {a for a, _ in cycle}
            for i in in_cycle:
                for t in stmt_ids[i].targets:
                    env.values[t] = POISON
            return [s for s in body if id(s) not in in_cycle]

    def _prune_untaken(self, first_node: int, values: list[Any], own_scope: bool = False) -> bool:
        """Statements run in order, but a conditional may read only some of them
        (`y = f(x1) if stride == 1 else g(x)`): the layers no result needs are dropped, as the
        generated class builds only the branch its condition takes."""
        results: list[str] = []
        for v in values:
            if isinstance(v, Tensor):
                results.append(v.node)
            elif v is POISON:
                return False
            elif isinstance(v, tuple):
                results += [t.node for t in v if isinstance(t, Tensor)]
        sinks = self.builder.sinks
        if sinks is not None and first_node == self.model[0].first_node and self._all_needed(sinks, results):
            return False
        created = self.builder.created_since(first_node)
        if not created:
            return False
        nodes, pred = self.builder.g.nodes, self.builder.g.pred
        # every layer is needed when each one no layer of the body reads is a result or kept unused
        # (every other reads into one of those): the common case, told at C speed; else one is dead
        unread = set(created).difference(set().union(*map(pred.__getitem__, created)), results)
        if not unread or all(nodes[n]["layer"].unused for n in unread):
            return False
        # the results' and the unused layers' ancestors among the body's: latest first, as layers are
        # made after what they read, so a layer is known needed (or not) before its inputs are visited
        needed = set(results)
        for n in reversed(created):
            if n in needed or nodes[n]["layer"].unused:
                needed.update(pred[n])
                needed.add(n)
        self.builder.remove([n for n in created if n not in needed], created, len(self.builder.scope_path) + 1 - own_scope)
        return True

    def _all_needed(self, sinks: dict[str, None], results: list[str]) -> bool:
        """Whether every layer of the model body is needed, as each reads into one that nothing
        reads (GraphBuilder.sinks, a few more maybe) and those are all results or kept: then
        nothing is pruned, found without a pass over the graph (a resumed elaboration's)."""
        roots = set(results)
        nodes = self.builder.g.nodes
        return all(n in roots or n not in nodes or nodes[n]["layer"].unused or nodes[n]["layer"].is_input
                   for n in sinks)

    def _input_loc(self, name: str, where: str) -> A.Loc | None:
        for decl in self.spec.inputs:
            if decl.name == name and where == "the model":
                return decl.loc
        for block in self.blocks.values():
            if where == f"block {block.name}":
                return block.loc
        return None

    def _assign(self, stmt: A.Assign, env: Env, hint: bool) -> None:
        if hint:  # one call makes the value (Body.hints): its module takes the tensor's name
            self.builder.name_hint = (self.builder.scope_path, stmt.targets[0])
        try:
            value = self._eval_guarded(stmt.value, env, stmt.loc)
        finally:
            self.builder.name_hint = None
        targets = stmt.targets
        if self.trace and len(targets) == 1 and value is not POISON:
            if isinstance(value, bool) and isinstance(stmt.value, (A.Compare, A.BoolOp, A.Unary)):
                condition = self._condition(stmt.value, env)  # `expand = expanded != x.channels`
                if condition is not None:
                    value = pv.traced(value, condition)
            value = self._local(targets[0], value)
        if value is POISON:
            self._report_unknown_calls(stmt.value, env)
            for t in targets:
                env.values[t] = POISON
            return
        if len(targets) == 1:
            if isinstance(value, tuple):
                n, name = len(value), targets[0]
                names = [f"{name}_{k}" for k in ((0, 1, n - 1) if n > 4 else range(n))]
                shown = ", ".join(names[:2] + ["…"] + names[2:]) if n > 4 else ", ".join(names)
                self.error(f"the right side gives {n} tensors; unpack them: `{shown} = ...`" if n > 1 else
                           "the right side gives 1 tensor in a tuple (a single piece is the whole tensor)",
                           stmt.loc, "write as many names on the left as the right side gives" if n > 1 else
                           "use the tensor itself instead of cutting it into one piece", code="E-VALUE-UNPACK")
                env.values[targets[0]] = POISON
                return
            env.values[targets[0]] = value
            if isinstance(value, Tensor):
                self.builder.bind_name(value.node, targets[0])
            return
        # several tensors from a block or chunk, or a list unpacked: `t, c, n, s = row`
        values = value if isinstance(value, (tuple, list)) else (value,)
        if len(values) != len(targets):
            self.error(f"{len(targets)} names on the left, but the right side gives {len(values)} value"
                       f"{'s' if len(values) != 1 else ''}", stmt.loc, code="E-VALUE-UNPACK")
            for t in targets:
                env.values[t] = POISON
            return
        for t, v in zip(targets, values):
            env.values[t] = v
            if isinstance(v, Tensor):
                self.builder.bind_name(v.node, t)

    def _local(self, target: str, value: Any) -> Any:
        """A number the body names (`width = int(planes * (width_per_group / 64)) * groups`),
        traced as that name, with its definition kept for the generated __init__ (trace only)."""
        if not isinstance(value, (pv.TInt, pv.TFloat, pv.TBool)) or value.forward:
            return value
        taken = self.local_defs
        name = target if target.isidentifier() else "value"
        base, k = name, 1
        while name in taken or name in LOCAL_NAMES_TAKEN or name in self.local_params:
            k += 1
            name = f"{base}_{k}"
        taken[name] = value.expr
        return pv.traced(pv.plain(value), python_name(name), value.roots, value.forward)


def _is_data(value: Any, blocks: Any) -> bool:
    """A number, symbolic size, string, truth value or none, or a list of them: a value that no
    layer hangs on (never a tensor, a layer without its input, a bare op or block name such as
    `relu`, or a poisoned value)."""
    value = pv.plain(value)
    if isinstance(value, list):
        return all(_is_data(v, blocks) for v in value)
    if isinstance(value, Word) and (str(value) in REGISTRY or str(value) in blocks):
        return False
    return value is None or isinstance(value, (bool, int, float, str, sy.Expr))


class _Again(Exception):
    """Elaborate again, skipping these statements (alternatives whose other one is built)."""

    def __init__(self, skipped: frozenset):
        self.skipped = skipped


def _place(stmt: A.Assign, scope: tuple[str, ...]) -> tuple:
    """A statement as run in one body: where it is written, and the instance."""
    loc = stmt.loc
    return (loc.file, loc.line, loc.col, scope) if loc else (id(stmt), scope)


def _position_key(stmt: A.Assign) -> tuple[int, int]:
    return (stmt.loc.line, stmt.loc.col) if stmt.loc else (0, 0)


def elaborate(spec: A.Spec, file: str, overrides: dict[str, Any] | None = None, *,
              strict: bool = False, warnings: list[SpecError] | None = None, trace: bool = False) -> Graph:
    """Build the graph IR of a spec, or raise SpecErrors with every independent problem.
    Warnings (valid but suspicious layers) are appended to `warnings`; with `strict` they are
    errors. With `trace`, numbers and names carry their provenance (archc.provenance) and
    `graph.structural` lists the model parameters that decide its structure: the code
    generator's elaboration."""
    skipped: frozenset = frozenset()
    for _attempt in range(8):  # each round skips at least one more statement; a few suffice
        elaborator = Elaborator(spec, file, overrides, strict, trace)
        elaborator.skipped = skipped
        try:
            graph = _run(elaborator, trace, overrides)
            break
        except _Again as again:
            skipped = again.skipped
        except SpecErrors as errors:
            errors.partial = _partial_graph(elaborator)  # for an editor: what did elaborate
            raise
    else:
        graph = _run(elaborator, trace, overrides)  # pragma: no cover - reports what is left as duplicates
    if warnings is not None:
        warnings.extend(sorted(elaborator.reporter.diag.warnings,
                               key=lambda w: (w.loc.file, w.loc.line, w.loc.col) if w.loc else ("", 0, 0)))
    return graph


def _partial_graph(elaborator: Elaborator) -> Graph | None:
    """The layers that elaborated, around the statements that failed (whose dependants never ran:
    a failed statement's names are POISON): what the language server shows while a line is
    broken. Layers left without a shape, and the outputs that did not elaborate, are left out
    (DiGraph.remove_nodes_from indexes every layer's successors first: asked only when some are)."""
    builder = elaborator.builder
    try:
        g = builder.g.copy_prefix(len(builder.g))  # (the elaborator's stays whole: archc.ir.resume goes on from it)
        shapeless = [n for n, d in g.nodes.items() if d["layer"].shape is None]
        if shapeless:
            g.remove_nodes_from(shapeless)
        inputs = {name: name for name in (d.name for d in elaborator.spec.inputs) if name in g}
        graph = Graph(elaborator.spec.name or Path(elaborator.file).stem, g, inputs, {},
                      dict(builder.scopes), elaborator.assumptions, {}, elaborator.file)
        graph.partial = True
        return graph
    except Exception:  # noqa: BLE001 - a partial view is a convenience: never a second error
        return None


def _run(elaborator: Elaborator, trace: bool, overrides: dict[str, Any] | None) -> Graph:
    spec = elaborator.spec
    try:
        if trace:
            with pv.recording() as decided:
                graph = run_deep(elaborator.run)
            graph.structural = frozenset(decided)
            graph.locals = elaborator.model_locals
        else:
            graph = run_deep(elaborator.run)
        graph.overrides = dict(overrides or {})
        graph.import_dirs = search_path()  # code generation elaborates the spec again, maybe elsewhere
    except OutOfTime:  # its error is recorded, with the others found so far
        elaborator.reporter.diag.raise_if_any()
        raise
    except RecursionError:  # outside any one statement's evaluation (e.g. a deep block chain)
        raise SpecErrors([SpecError(f"{spec.name or 'the spec'} is nested too deeply to elaborate", None,
                                    "split long expressions into several statements",
                                    code="E-LIMIT-NESTING")]) from None
    return graph
