"""Elaboration: run a spec's AST to build the graph IR.

The spec is a tiny dataflow program. Evaluating it binds model parameters, instantiates blocks,
unrolls repeats and adds one graph node per layer. Shapes are inferred as each node is added,
because a block body may read its input's shape (`x.channels`) and conditionals may depend on
it; every other analysis runs later over the finished graph (`archc.analysis`).

Values during evaluation: int, float, bool, None, str (a quoted literal), `Word` (an unbound bare
name: a symbolic dimension or an enum word), `Expr` (a symbolic size), lists, `Tensor` (a node's
output) and `Partial` (an op or block with its attributes but no input yet: `conv2d(64, 3)`).

Errors are collected, not raised at the first: a statement that fails binds its targets to
POISON, and anything computed from POISON is skipped silently, so one mistake gives one error.
"""
from __future__ import annotations

import ast as ast_py
import contextlib
import dataclasses
import difflib
import math
import operator
import os
import time
from collections import OrderedDict
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

from archc import ast as A
from archc import provenance as pv
from archc import symbolic as sy
from archc.deep import run_deep
from archc.errors import Diagnostics, SpecError, SpecErrors, did_you_mean
from archc.ir.digraph import CycleError, DiGraph, ancestors, topological_order
from archc.ir import instances
from archc.ir.graph import Graph, LayerNode, Scope
from archc.language import (
    BUILTINS, INITIALIZERS, LAYER_OPTIONS, MAX_RANGE, SPECIAL_FORMS, TENSOR_ATTRIBUTES, ArgumentTypeError, TooLong,
)
from archc.limits import LIMITS, limit
from archc.ops import REGISTRY
from archc.ops.base import VARIADIC, AttrError, Op, Shape, ShapeError, Word, fmt_shape

META_KWARGS = tuple(LAYER_OPTIONS)
# ops after which a tensor's axes are no longer the inputs' [N, C, spatial…] (warnings only)
_LAYOUT_OPS = frozenset({"flatten", "reshape", "permute", "transpose", "parameter", "constant"})
TENSOR_ATTRS = tuple(TENSOR_ATTRIBUTES)


_NO_CONTEXT = contextlib.nullcontext()


class TWord(Word, pv.Traced):
    """An op's name passed as a block parameter (`act = relu6`), traced (code generation)."""
    __hash__ = str.__hash__

    def plain(self) -> Word:
        return Word(str.__str__(self))

    def __str__(self) -> str:
        return str.__str__(self)

    def __eq__(self, other):
        self._decide()
        return str.__eq__(self, pv.plain(other))

    def __ne__(self, other):
        self._decide()
        return str.__ne__(self, pv.plain(other))


class _Poison:
    """The value of anything computed from a failed statement."""

    def __repr__(self) -> str:
        return "POISON"


POISON = _Poison()


# Block instances nested in one another are bounded by limit("ARCHC_MAX_BLOCK_DEPTH") (see
# archc.limits), evaluation time by limit("ARCHC_MAX_EVAL_SECONDS"), checked every this many
# evaluation steps (a few milliseconds of work: the clock is not read per step).
TIME_CHECK_STEPS = 4096
# Integers the evaluator computes (literals are limited the same way by the front ends): past any
# size or count, and within what Python turns into text (its 4,300-digit limit) in messages.
MAX_INT_DIGITS = 1000
MAX_INT_BITS = 3322  # 2 ** 3322 < 10 ** 1000


class Abort(Exception):
    """Stop evaluating the current statement; its error is already recorded."""


class OutOfTime(Exception):
    """Stop elaborating: the time limit is spent (its error is already recorded)."""


@dataclass(frozen=True, slots=True)
class Tensor:
    node: str
    shape: Shape | None  # None when poisoned


@dataclass
class Partial:
    """An op or a block given its attributes, waiting for its input tensors."""
    kind: str  # "op" | "block" | "sequential"
    target: Any  # Op, BlockDef, or the sequential's list[Partial]
    args: list[Any]
    kwargs: dict[str, Any]
    loc: A.Loc | None
    meta: dict[str, Any] = field(default_factory=dict)
    kw_locs: dict[str, A.Loc | None] = field(default_factory=dict)  # where each keyword is written
    # traced elaboration: the block parameter this layer came in through (a Python expression
    # of the block's names, `norm`), and how many of `args` and which `kwargs` it brought
    origin: Any = None
    origin_args: int = 0
    origin_kwargs: tuple[str, ...] = ()

    def __str__(self) -> str:
        """As the spec would write it, roughly: `batchnorm2d(eps=0.001, momentum=0.01)`."""
        name = self.target.name if self.kind in ("op", "block") else self.kind
        args = [str(a) for a in self.args] + [f"{k}={v}" for k, v in self.kwargs.items()]
        return f"{name}({', '.join(args)})"

    def reuse_key(self, frozen: Callable[[Any], Any]) -> tuple:
        """Its part of a block instance's key (archc.ir.instances): the layers it makes depend on
        what it is, its arguments, and where it is written (their locations)."""
        target = frozen(self.target) if self.kind == "sequential" else id(self.target)
        return (Partial, self.kind, target, frozen(self.args), frozen(sorted(self.kwargs.items())),
                frozen(sorted(self.meta.items())), self.loc, tuple(sorted(self.kw_locs.items())))


def _traced_builtin(func: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
    """A built-in function on traced values: computed on the plain values, its result traced
    as the call (`max(1, c // 4)`); range() and len() decide structure."""
    builtin = BUILTINS[func]
    if func == "len":
        return pv.length(args[0]) if len(args) == 1 and not kwargs else builtin.function(*args, **kwargs)
    plain_args = [pv.plain(a) for a in args]
    plain_kwargs = {k: pv.plain(v) for k, v in kwargs.items()}
    result = builtin.function(*plain_args, **plain_kwargs)
    if func == "range":
        pv.decide(args)
        return result
    return pv.call(builtin.python, args, kwargs, result)


class Env:
    """A lexical environment: name -> value, with the statement locations for messages."""

    def __init__(self, parent: "Env | None" = None):
        self.parent = parent
        self.values: dict[str, Any] = {}

    def lookup(self, name: str) -> tuple[bool, Any]:
        env: Env | None = self
        while env is not None:
            if name in env.values:
                return True, env.values[name]
            env = env.parent
        return False, None

    def names(self) -> set[str]:
        out: set[str] = set()
        env: Env | None = self
        while env is not None:
            out |= set(env.values)
            env = env.parent
        return out

    def child(self, **values: Any) -> "Env":
        env = Env(self)
        env.values.update(values)
        return env


class _Context:
    """What shape rules may ask: facts about symbolic sizes, recorded as assumptions."""

    def __init__(self, assumptions: sy.Assumptions):
        self.assumptions = assumptions

    def require_equal(self, a, b) -> bool:
        return self.assumptions.require_equal(a, b)

    def require_positive(self, d) -> bool:
        return self.assumptions.require_positive(d)


class Elaborator:
    def __init__(self, spec: A.Spec, file: str, overrides: dict[str, Any] | None = None,
                 strict: bool = False, trace: bool = False):
        self.spec = spec
        # provenance for code generation (archc.provenance): parameters and input sizes traced,
        # every instance evaluated (a replayed one would carry its template's traces)
        self.trace = trace
        self.decision_log: list[tuple] = []  # every static choice of the current block's body
        self.local_defs: dict[str, Any] = {}  # numbers the current body names: their definitions
        self.local_params: set[str] = set()  # the current body's parameter names
        self.none_params: set[str] = set()  # the current block's parameters given `none`
        # traced: the inline repeat copy being built (where, loop variable, index, count, block
        # depth), and the enclosing ones
        self.loop: tuple | None = None
        self.loops: list[tuple | None] = []
        self.model_locals = self.local_defs
        self.file = file
        self.strict = strict  # warnings are errors
        # a string from the API or the CLI (`size="H"`) is a word, e.g. a symbolic size
        self.overrides = {k: Word(v) if isinstance(v, str) else v for k, v in (overrides or {}).items()}
        self.diag = Diagnostics()
        self.warnings: list[tuple[str, SpecError]] = []  # (the layer warned about, the warning)
        self.g = DiGraph()
        self.scopes: dict[tuple[str, ...], Scope] = {}
        self.scope_log: list[tuple[str, ...]] = []  # scope paths in creation order (pruned ones stay)
        self.templates: dict[tuple, Any] = {}  # block instances, for reuse (archc.ir.instances)
        self.repeat_copy_depth = -1  # instance depth of a block instance that is a repeat's later copy
        self.assumptions = sy.Assumptions()
        self.ctx = _Context(self.assumptions)
        self.blocks: dict[str, A.BlockDef] = {}
        self.scope_path: tuple[str, ...] = ()
        self.used_names: dict[tuple[str, ...], set[str]] = {}  # scope -> child names taken
        self.instance_stack: list[str] = []  # notes for errors inside blocks
        self._seen_errors: set[tuple] = set()
        # where names were last looked up, for did-you-mean hints on unknown names (its names are
        # listed only when a hint needs them: copying them per call made elaboration quadratic)
        self._visible_env: Env | None = None
        self._free_cache: dict[int, tuple[Any, set[str]]] = {}
        self.unknown_names: set[str] = set()  # misspellings reported; their targets aren't "unused"
        self.model_params = {p.name for p in spec.params}
        self.created: list[str] = []  # node ids in creation order (pruned ones stay listed)
        self.comprehended = 0  # items of all lists built by comprehensions and range() so far
        self.max_repeat = limit("ARCHC_MAX_REPEAT")
        self._suffixes: dict[tuple, int] = {}  # (scope, base name) -> the next suffix to try
        self.max_layers = limit("ARCHC_MAX_LAYERS")
        self.max_block_depth = limit("ARCHC_MAX_BLOCK_DEPTH")
        self.max_seconds = limit("ARCHC_MAX_EVAL_SECONDS")
        self.deadline = time.monotonic() + self.max_seconds  # reset when `run` starts
        self.steps = 0  # expressions evaluated, for the time limit's checks
        self.statement: A.Loc | None = None  # the statement being evaluated, for the time limit
        self.failed_imports: list[str] = []  # imports that could not be read (for hints)

    # ------------------------------------------------------------------ errors
    def error(self, message: str, loc: A.Loc | None, hint: str | None = None, *, code: str) -> None:
        key = (message, loc.file if loc else None, loc.line if loc else None, loc.col if loc else None)
        if key in self._seen_errors:
            return  # the same mistake in a block body, reached through every instance
        self._seen_errors.add(key)
        self.diag.add(SpecError(message, loc, hint, self._instance_notes(), code=code))

    def _instance_notes(self) -> list[str]:
        notes = [f"in {frame}" for frame in reversed(self.instance_stack)]
        if len(notes) > 12:  # deep recursion: the innermost and outermost instances
            notes = [*notes[:6], f"... {len(notes) - 12} more block instances ...", *notes[-6:]]
        return [n if len(n) <= 300 else n[:140] + " ... " + n[-140:] for n in notes]

    def fail(self, message: str, loc: A.Loc | None, hint: str | None = None, *, code: str):
        self.error(message, loc, hint, code=code)
        raise Abort()

    def warn(self, message: str, loc: A.Loc | None, hint: str | None, node_id: str, *,
             code: str) -> None:
        """A valid but suspicious spec: reported once per place (the first block instance that
        reaches it), kept while `node_id` stays in the graph (a layer of a conditional branch
        not taken is pruned, its warning with it)."""
        self.warnings.append((node_id, SpecError(message, loc, hint, self._instance_notes(), "warning",
                                                 code=code)))

    def _unknown_callable_hint(self, func: str) -> str:
        known = list(REGISTRY.names()) + list(self.blocks) + list(BUILTINS) + list(SPECIAL_FORMS)
        if self.failed_imports and not did_you_mean(func, known):
            return f"it may be a block of {' or '.join(self.failed_imports)}, whose import failed (see above)"
        return did_you_mean(func, known) or "see `archc ops` for the list of ops"

    def _unknown_keyword(self, owner: str, key: str, names: Sequence[str], what: str,
                         loc: A.Loc | None) -> None:
        """`conv2d has no attribute 'strid'`, `block Stem has no parameter 'widht'`."""
        self.error(f"{owner} has no {what} '{key}'", loc,
                   did_you_mean(key, names) or
                   (f"its {what}s are: {', '.join(names)}" if names else f"it takes no {what}s"),
                   code="E-CALL-UNKNOWN-KEYWORD")

    def _report_unknown_calls(self, expr: A.Expr, env: "Env") -> None:
        """After a statement failed, report every unknown op or block, attribute or parameter it
        names, not only the one evaluation stopped at: `x -> conv2dd(64, 3) -> relu(foo=1) ->
        batchnrm2d` gives three errors. A name the statement binds or reads as a value is left
        to evaluation. The messages are evaluation's own, so a mistake it reported already (or
        one reached again through another block instance) is not repeated."""

        def walk(e: Any, bound: frozenset) -> None:
            if isinstance(e, A.ListComp):
                walk(e.iterable, bound)
                for part in (e.element, e.condition):
                    walk(part, bound | set(e.targets))
                return
            if isinstance(e, A.Call):
                self._check_call_names(e, env, bound)
            for child in A.children(e):
                walk(child, bound)

        try:
            walk(expr, frozenset())
        except RecursionError:
            self._too_deep(expr)

    def _too_deep(self, expr: A.Expr) -> None:
        """The evaluator's stack ran out (see archc.deep): past any real expression, or a block
        recursion allowed deeper (ARCHC_MAX_BLOCK_DEPTH raised) than the stack holds."""
        depth = len(self.instance_stack)
        # the default depth is well within the stack: deeper, the raised limit is what ran out
        if depth >= LIMITS["ARCHC_MAX_BLOCK_DEPTH"].default:
            block = self.instance_stack[-1].split(" ", 1)[0]
            self.error(f"block recursion {depth:,} levels deep (block {block}) is deeper than the "
                       "evaluator's stack holds", expr.loc,
                       f"ARCHC_MAX_BLOCK_DEPTH={self.max_block_depth:,} allows more nesting than the stack "
                       "does; make the recursion shallower, e.g. a repeat(n, ...) of the block instead of "
                       "a block that uses itself n times", code="E-LIMIT-BLOCK-DEPTH")
            return
        self.error("this expression is nested too deeply to evaluate", expr.loc,
                   "split it into several statements", code="E-LIMIT-NESTING")

    def _free_names(self, expr: A.Expr | None) -> set[str]:
        """The names `expr` reads; once per expression (a block body is ordered again for every
        instance, its statements unchanged: the AST is immutable)."""
        cached = self._free_cache.get(id(expr))
        if cached is not None and cached[0] is expr:
            return cached[1]
        try:
            names = free_names(expr)
        except RecursionError:
            self._too_deep(expr)
            return set()
        self._free_cache[id(expr)] = (expr, names)  # holding expr keeps its id from being reused
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
                       code="E-CALL-UNKNOWN-OP")
            return
        for kw in call.kwargs:
            if kw.name not in names and kw.name not in META_KWARGS:
                self._unknown_keyword(owner, kw.name, names, what, kw.loc)

    # ------------------------------------------------------------------ warnings
    def _check_suspicious(self, node: LayerNode, kwargs: dict[str, Any], shapes: list[Shape]) -> None:
        """Warnings for valid but suspicious layers: a linear layer on a channels-first tensor of
        rank ≥ 4 (a flatten forgotten), a softmax over a spatial axis."""
        name = node.op.name
        if name == "linear" and len(shapes[0]) >= 4 and "axis" not in kwargs \
                and self._channels_first(node.inputs[0]):
            x = shapes[0]
            self.warn(f"linear is applied to the rank-{len(x)} tensor {fmt_shape(x)} without flatten: it "
                      f"maps the last axis ({sy.to_str(x[-1])}, a spatial size) at every other position",
                      node.loc, "flatten first (`-> flatten -> linear(...)`) or pool globally; if the last "
                      "axis is meant, say so with axis=-1 (axis=1 maps the channels at every position)",
                      node.id, code="W-SHAPE-LINEAR-FEATURE-MAP")
        elif name in ("softmax", "log_softmax") and len(shapes[0]) >= 3:
            rank = len(shapes[0])
            axis = node.attrs.dim % rank
            if axis >= 2 and self._channels_first(node.inputs[0]):
                self.warn(f"{name} over axis {node.attrs.dim} of {fmt_shape(shapes[0])}, a spatial axis: it "
                          "normalises over positions, not over the channels (classes) at each position",
                          node.loc, "normalise over the channels (classes) with dim=1 (the default); for a "
                          "distribution over positions, flatten the spatial axes first "
                          "(`-> flatten(start_dim=2) -> softmax(dim=-1)`)", node.id,
                          code="W-SHAPE-SOFTMAX-SPATIAL")

    def _channels_first(self, node_id: str) -> bool:
        """Whether a tensor still has the inputs' channels-first layout [N, C, spatial…]: no
        permute, transpose, reshape or flatten on its way from an input (following first inputs)."""
        while True:
            layer = self.g.nodes[node_id]["layer"]
            if layer.is_input:
                return True
            if not layer.inputs or layer.op.name in _LAYOUT_OPS:
                return False
            node_id = layer.inputs[0]

    # ------------------------------------------------------------------ top level
    def run(self) -> Graph:
        self.deadline = time.monotonic() + self.max_seconds
        self._load_blocks(self.spec, self.file, set())
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
                node_id = self._unique_name(decl.name, decl.loc, explicit=True)
            except Abort:
                node_id = None
            if shape is None or node_id is None:
                env.values[decl.name] = POISON
                continue
            self._add_node(LayerNode(node_id, None, {}, [], shape, decl.loc, (), tensor_names=[decl.name],
                                     tensor_scopes=[()]))
            inputs[decl.name] = node_id
            env.values[decl.name] = Tensor(node_id, shape)
        if not self.spec.inputs:
            self.error("the spec has no inputs", self.spec.loc,
                       "declare one, e.g. `input x: [N, 3, 224, 224]`", code="E-INPUT-NO-INPUTS")
        values = self._run_body(self.spec.body, env, [o.value for o in self.spec.outputs],
                                input_names=list(inputs), where="the model")
        outputs: dict[str, str] = {}
        for out, value in zip(self.spec.outputs, values):
            if value is POISON:
                continue
            if not isinstance(value, Tensor):
                self.error(f"output '{out.name}' is {_describe(value)}, not a tensor", out.loc,
                           "an output is a tensor: name one, or pipe one into a layer "
                           "(`output y = h -> linear(10)`)" if isinstance(value, Partial) else None,
                           code="E-INPUT-OUTPUT-NOT-TENSOR")
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
        inference_assumptions = self.assumptions
        if training and not self.diag.errors:
            inference_assumptions = self._training_only(outputs, training)
        warned: set[tuple] = set()
        for node_id, warning in self.warnings:
            place = (self.g.nodes[node_id]["layer"].op.name, warning.loc) if node_id in self.g else None
            if place is None or place in warned:
                continue  # its layer was pruned (a branch not taken), or warned about already
            warned.add(place)
            self.diag.add(warning.as_error() if self.strict else warning)
        self.diag.raise_if_any()
        for node_id in self.g.nodes:
            layer = self.g.nodes[node_id]["layer"]
            layer.shape = tuple(self.assumptions.simplify(d) for d in layer.shape)
        if self.trace:
            for scope in self.scopes.values():
                scope.output_shapes = [tuple(self.assumptions.simplify(d) for d in shape)
                                       for shape in scope.output_shapes]
        return Graph(self.spec.name or Path(self.file).stem, self.g, inputs, outputs, self.scopes,
                     self.assumptions, params, self.file, training, inference_assumptions)

    def _training_only(self, outputs: dict[str, str], training: list[str]) -> sy.Assumptions:
        """Mark the layers that only training outputs need (an auxiliary classifier), and find
        what the inputs must satisfy at inference, where those layers do not run."""
        loc = {o.name: o.loc for o in self.spec.outputs}
        roots = [node for name, node in outputs.items() if name not in training]
        if not roots:
            self.error("every output is a training output; inference would compute nothing",
                       loc[training[0]], "declare the model's result with `output`, not `training output`",
                       code="E-INPUT-ONLY-TRAINING-OUTPUTS")
            return self.assumptions
        needed = ancestors(self.g, roots)  # everything the inference outputs read
        extra = [n for n in self.g.nodes if n not in needed]
        for node_id in extra:
            self.g.nodes[node_id]["layer"].training_only = True
        shared = {self.g.nodes[n]["layer"].scope[:1] for n in needed}
        for node_id in extra:  # generated code runs a submodule whole: it may not be split
            scope = self.g.nodes[node_id]["layer"].scope[:1]
            if scope and scope in shared:
                self.error(f"training output {', '.join(repr(t) for t in training)} branches off inside "
                           f"'{scope[0]}', which the inference outputs also use", loc[training[0]],
                           "branch off at the model level (the layers of an inline block count as "
                           "the model's), or return the branch point from the block",
                           code="E-INPUT-TRAINING-BRANCH-IN-BLOCK")
                return self.assumptions
        fresh = sy.Assumptions()
        ctx = _Context(fresh)
        shapes: dict[str, Shape] = {}
        for node_id in self.g.nodes:  # the shape rules again, on the inference layers only
            if node_id not in needed:
                continue
            layer = self.g.nodes[node_id]["layer"]
            shapes[node_id] = layer.shape if layer.is_input else \
                layer.op.output_shape(layer.attrs, [shapes[i] for i in layer.inputs], ctx)
        return fresh

    def _load_blocks(self, spec: A.Spec, file: str, visiting: set[str],
                     roots: tuple[Path, ...] | None = None) -> None:
        """Load the blocks of `spec` and of the files it imports (recursively). An import is
        found next to the importing file, else in the search path (`import_path`, ARCHC_PATH),
        and must lie inside the top spec's folder tree or a search-path folder."""
        parse_file = _IMPORT_READER.get() or _parse_import
        if roots is None:
            roots = (_resolved_dir(Path(file).parent),) + search_path()
        for imp in spec.imports:
            path, problem, hint, code = _locate_import(imp.path, Path(file).parent, roots)
            if path is None:
                self.error(problem, imp.loc, hint, code=code)
                short = imp.path if len(imp.path) <= 80 else imp.path[:60] + "..."
                self.failed_imports.append(_shown(short))
                continue
            key = str(path)
            if key in visiting:
                self.error(f"import cycle: {imp.path} imports itself (directly or indirectly)", imp.loc,
                           code="E-IMPORT-CYCLE")
                continue
            try:
                imported = parse_file(path)
            except SpecErrors as e:
                for err in e.errors:  # a file problem (no location of its own): at the import
                    self.diag.add(err if err.loc is not None else SpecError(
                        f"import {_shown(imp.path)}: {err.message}", imp.loc, err.hint, err.notes,
                        err.severity, code=err.code))
                self.failed_imports.append(_shown(imp.path))
                continue
            self._load_blocks(imported, str(path), visiting | {key}, roots)
        for block in spec.blocks:
            if block.name in self.blocks:
                prev = self.blocks[block.name]
                self.error(f"block '{block.name}' is defined twice (first at {prev.loc})", block.loc,
                           code="E-BLOCK-DUPLICATE")
                continue
            if REGISTRY.get(block.name) or block.name in BUILTINS or block.name in SPECIAL_FORMS:
                self.error(f"block name '{block.name}' shadows a built-in op or function", block.loc,
                           "choose another name", code="E-BLOCK-SHADOWS-BUILTIN")
                continue
            for p in block.params:
                if p.name in META_KWARGS:
                    self.error(f"block {block.name}: parameter '{p.name}' has the name of a layer option "
                               f"({', '.join(META_KWARGS)}), so a call's {p.name}= would set the option, "
                               "never the parameter", p.loc or block.loc,
                               f"rename it, e.g. '{p.name}_value'", code="E-BLOCK-PARAM-RESERVED")
            self.blocks[block.name] = block

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
                value = pv.deep(pv.plain(value), A_name(p.name), frozenset({p.name}))
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
                           f" got {_describe(value)}", expr.loc, code="E-INPUT-DIM-TYPE")
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
    def _run_body(self, body: list[A.Assign], env: Env, results: list[A.Expr],
                  input_names: list[str], where: str) -> list[Any]:
        """Evaluate assignments in dependency order, then the `results` (outputs or returns), and
        give their values; report cycles, reassignment and unused names."""
        first_node = len(self.created)
        defined: dict[str, A.Assign] = {}
        for stmt in body:
            for target in stmt.targets:
                if target in defined:
                    self.error(f"'{target}' is assigned twice (first at line {defined[target].loc.line})",
                               stmt.loc, "every name is assigned once; give the new tensor a new name",
                               code="E-NAME-DUPLICATE")
                elif target in input_names or env.lookup(target)[0]:
                    self.error(f"'{target}' is already defined (an input or parameter)", stmt.loc,
                               "give the tensor a new name", code="E-NAME-DUPLICATE")
                else:
                    defined[target] = stmt
        uses_of: dict[int, set[str]] = {}
        position = {id(stmt): k for k, stmt in enumerate(body)}
        reads_only_above = True  # as specs are mostly written: then the order is the text's
        for stmt in body:
            uses = self._free_names(stmt.value)
            uses_of[id(stmt)] = uses
            for name in uses:
                source = defined.get(name)
                if source is stmt:
                    self.error(f"'{name}' is used in its own definition", stmt.loc,
                               "a tensor cannot depend on itself; name the input differently",
                               code="E-NAME-CYCLE")
                elif source is not None and position[id(source)] > position[id(stmt)]:
                    reads_only_above = False
        keys = [_position_key(stmt) for stmt in body]
        if reads_only_above and all(a <= b for a, b in zip(keys, keys[1:])):
            order = list(body)  # what the dependency order below gives for such a body
        else:
            order = self._dependency_order(body, defined, uses_of, env)
        for stmt in order:
            self._assign(stmt, env)
        values = [self._eval_guarded(expr, env) for expr in results]
        for expr, value in zip(results, values):
            if value is POISON:
                self._report_unknown_calls(expr, env)
        # unused names: assigned tensors and inputs nobody reads
        used: set[str] = set()
        for uses in uses_of.values():
            used |= uses
        for expr in results:
            used |= self._free_names(expr)
        used |= {n for bad in self.unknown_names
                 for n in difflib.get_close_matches(bad, defined.keys() | set(input_names), cutoff=0.6)}
        # `_name`: kept on purpose, though unused; a name never read is reported as unused below,
        # not as a layer of a branch not taken
        kept = [env.values[name] for name in defined
                if (name.startswith("_") or name not in used) and name in env.values]
        self._prune_untaken(first_node, values + kept)
        for name, stmt in defined.items():
            if name not in used and not name.startswith("_"):
                self.error(f"'{name}' is computed but never used in {where}", stmt.loc,
                           "use it, make it an output, or start its name with '_' to keep it anyway",
                           code="E-NAME-UNUSED")
        for name in input_names:
            if name not in used and not name.startswith("_"):
                self.error(f"input '{name}' is never used in {where}", self._input_loc(name, where),
                           "connect it, or remove it", code="E-NAME-UNUSED")
        return values

    def _dependency_order(self, body: list[A.Assign], defined: dict[str, A.Assign],
                          uses_of: dict[int, set[str]], env: Env) -> list[A.Assign]:
        """The statements in dependency order, the earliest written first among those ready;
        a cycle is reported and its statements left out (their names poisoned)."""
        deps = DiGraph()
        stmt_ids = {id(s): s for s in body}
        for stmt in body:
            deps.add_node(id(stmt))
            for name in uses_of[id(stmt)]:
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

    def _prune_untaken(self, first_node: int, values: list[Any]) -> None:
        """Statements run in order, but a conditional may read only some of them
        (`y = f(x1) if stride == 1 else g(x)`): the layers no result needs are dropped. Such a
        layer with parameters is an error, never a silent extra module in the state_dict."""
        results: list[str] = []
        for v in values:
            if v is POISON:
                return
            for t in (v if isinstance(v, tuple) else (v,)):
                if isinstance(t, Tensor):
                    results.append(t.node)
        created = self._created_since(first_node)
        if not created:
            return
        inside = set(created)
        needed = ancestors(self.g, [r for r in results if r in inside], inside)
        dead = [n for n in created if n not in needed]
        for node_id in dead:
            layer = self.g.nodes[node_id]["layer"]
            if not layer.is_input and layer.op.parameters(layer.attrs, [self.g.nodes[i]["layer"].shape
                                                                        for i in layer.inputs]):
                self.error(f"layer '{node_id}' is built but no result uses it (it is read only in a "
                           "branch not taken); its parameters would be an extra module", layer.loc,
                           "compute it inside the conditional that uses it, or split the block in two",
                           code="E-VALUE-UNTAKEN-BRANCH-LAYER")
                return
        if not dead:
            return
        emptied = {self.g.nodes[n]["layer"].scope[:k] for n in dead
                   for k in range(1, len(self.g.nodes[n]["layer"].scope) + 1)}
        self.g.remove_nodes_from(dead)
        for n in created:
            if n in self.g:
                scope = self.g.nodes[n]["layer"].scope
                emptied -= {scope[:k] for k in range(1, len(scope) + 1)}
        for path in emptied:
            self.scopes.pop(path, None)

    def _input_loc(self, name: str, where: str) -> A.Loc | None:
        for decl in self.spec.inputs:
            if decl.name == name and where == "the model":
                return decl.loc
        for block in self.blocks.values():
            if where == f"block {block.name}":
                return block.loc
        return None

    def _assign(self, stmt: A.Assign, env: Env) -> None:
        value = self._eval_guarded(stmt.value, env, stmt.loc)
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
                self.error(f"the right side gives {len(value)} tensors; unpack them: "
                           f"`{', '.join(f'{targets[0]}{k}' for k in range(len(value)))} = ...`", stmt.loc,
                           code="E-VALUE-UNPACK")
                env.values[targets[0]] = POISON
                return
            env.values[targets[0]] = value
            if isinstance(value, Tensor):
                self._bind_name(value.node, targets[0])
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
                self._bind_name(v.node, t)

    def _checks(self) -> Any:
        """Around an op's own rules: their comparisons are checks, not structural decisions
        (traced elaboration only; otherwise a shared no-op)."""
        return pv.checks_only() if self.trace else _NO_CONTEXT

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
        return pv.traced(pv.plain(value), A_name(name), value.roots, value.forward)

    def _bind_name(self, node_id: str, name: str) -> None:
        layer = self.g.nodes[node_id]["layer"]
        layer.tensor_names.append(name)
        layer.tensor_scopes.append(self.scope_path)

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
        self.steps += 1
        if not self.steps % TIME_CHECK_STEPS and time.monotonic() > self.deadline:
            self._out_of_time(e)
        method = getattr(self, "_eval_" + e.kind)
        return method(e, env)

    def _out_of_time(self, e: A.Expr) -> None:
        """The time limit is spent: an error at the statement being evaluated, and no more
        evaluation (not even of the other statements)."""
        self.error(f"evaluating the spec took more than {self.max_seconds:g} seconds; stopped in this "
                   "statement", self.statement or e.loc,
                   "a spec normally elaborates in well under a second: check the repeat counts, list sizes "
                   "and recursive blocks this statement uses; to allow more time, raise the limit with the "
                   "environment variable ARCHC_MAX_EVAL_SECONDS (seconds)", code="E-LIMIT-TIME")
        raise OutOfTime()

    def _eval_num(self, e: A.Num, env: Env) -> Any:
        return e.value

    def _eval_str(self, e: A.Str, env: Env) -> Any:
        return e.value

    def _eval_fstring(self, e: A.FString, env: Env) -> Any:
        out = []
        for part in e.parts:
            value = self.eval(part, env)
            if isinstance(value, Word):
                self._need_number(value, part, "f-string")  # reports the unknown name
            try:
                out.append(_traced_builtin("str", [value], {}) if self.trace else BUILTINS["str"].function(value))
            except TypeError as exc:
                self.fail(f"f-string: {exc}", part.loc, "an f-string shows ints and strings, e.g. "
                          "f\"layer{i + 1}\"", code="E-VALUE-TYPE")
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

    def _eval_name(self, e: A.Name, env: Env) -> Any:
        found, value = env.lookup(e.id)
        if found:
            if value is POISON:
                raise Abort()
            return value
        if self.instance_stack and e.id in self.model_params:
            block = self.instance_stack[-1].split(" ", 1)[0]
            self.fail(f"'{e.id}' is a model parameter; a block sees only its own parameters", e.loc,
                      f"add {e.id} to block {block}'s parameters and pass it in: "
                      f"{block}(..., {e.id}={e.id})", code="E-BLOCK-MODEL-PARAM")
        self._visible_env = env
        return Word(e.id)

    def _eval_list(self, e: A.ListExpr, env: Env) -> Any:
        return [self.eval(item, env) for item in e.items]

    def _eval_listcomp(self, e: A.ListComp, env: Env) -> Any:
        items = self.eval(e.iterable, env)
        if isinstance(items, Word) or not isinstance(items, (list, tuple)):
            self.fail(f"a comprehension iterates over a list, got {_describe(items)}", e.iterable.loc,
                      "e.g. [c * 2 for c in widths] or [i for i in range(4)]", code="E-VALUE-TYPE")
        self._count_items(len(items), e.loc)
        pv.decide_length(items)
        out = []
        for item in items:
            if len(e.targets) == 1:
                inner = env.child(**{e.targets[0]: item})
            else:  # [n for t, c, n, s in setting]
                if not isinstance(item, (list, tuple)) or len(item) != len(e.targets):
                    self.fail(f"{len(e.targets)} names to unpack, but an item is {_describe(item)}", e.loc,
                              f"each item of the list must be a list of {len(e.targets)} values",
                              code="E-VALUE-UNPACK")
                inner = env.child(**dict(zip(e.targets, item)))
            if e.condition is None or self._truth(self.eval(e.condition, inner), e.condition):
                out.append(self.eval(e.element, inner))
        return out

    def _count_items(self, n: int, loc: A.Loc | None) -> None:
        """Bound the work of comprehensions and range(): nested ones multiply."""
        self.comprehended += n
        if self.comprehended > MAX_RANGE * 10:
            self.fail(f"lists and comprehensions built more than {MAX_RANGE * 10:,} items in all", loc,
                      "a spec describes one network; shrink the lists", code="E-LIMIT-LIST-SIZE")

    def _eval_attr(self, e: A.Attribute, env: Env) -> Any:
        value = self.eval(e.value, env)
        if isinstance(value, Word):
            self.fail(f"unknown name '{value}'", e.value.loc, did_you_mean(value, env.names()),
                      code="E-NAME-UNKNOWN")
        if not isinstance(value, Tensor):
            self.fail(f"{_describe(value)} has no attribute '{e.attr}'", e.loc,
                      f"attributes such as .channels belong to tensors ({', '.join(TENSOR_ATTRS)})",
                      code="E-VALUE-NO-ATTRIBUTE")
        if value.shape is None:
            raise Abort()
        shape = value.shape
        spatial = list(shape[2:])
        table = {"channels": shape[1] if len(shape) > 1 else None, "shape": list(shape),
                 "rank": len(shape), "batch": shape[0], "spatial": spatial,
                 "length": shape[2] if len(shape) == 3 else None,
                 "height": shape[-2] if len(shape) >= 4 else None,
                 "width": shape[-1] if len(shape) >= 4 else None,
                 "depth": shape[2] if len(shape) == 5 else None}
        if e.attr not in table:
            self.fail(f"a tensor has no attribute '{e.attr}'", e.loc,
                      did_you_mean(e.attr, TENSOR_ATTRS) or f"tensor attributes: {', '.join(TENSOR_ATTRS)}",
                      code="E-VALUE-NO-ATTRIBUTE")
        result = table[e.attr]
        if result is None:
            self.fail(f"a tensor of shape {fmt_shape(shape)} has no '{e.attr}'", e.loc,
                      "length is the size of a rank-3 tensor's axis 2, height and width of the last two "
                      "axes of rank 4 or more, depth of a rank-5 tensor's axis 2; spatial lists them all",
                      code="E-VALUE-NO-ATTRIBUTE")
        return result

    def _eval_subscript(self, e: A.Subscript, env: Env) -> Any:
        value = self.eval(e.value, env)
        items = e.index.items if isinstance(e.index, A.Indices) else [e.index]
        entries = [self._index_entry(item, env) for item in items]
        if isinstance(value, Tensor):  # x[:, :c]: a slice layer
            return self._apply_op(REGISTRY.get("slice"), [value], [], {"index": tuple(entries)}, e.loc, {})
        if not isinstance(value, (list, tuple, str)) or isinstance(value, Word):
            self.fail(f"cannot index {_describe(value)}", e.loc,
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
        if not -len(value) <= index < len(value):
            self.fail(f"index {index} is out of range for a list of {len(value)}", e.index.loc,
                      code="E-VALUE-INDEX-OUT-OF-RANGE")
        if self.trace and isinstance(value, pv.TList) and isinstance(index, pv.TInt):
            # `setting[i]` in a loop: the item by the index's expression, not the number's
            item = value[pv.plain(index)]
            return pv.deep(pv.plain(item), ast_py.Subscript(value.expr, index.expr, ast_py.Load()),
                           pv.roots_of(item, index), pv.forward_of(item, index), _traced_layer)
        return value[index]

    def _index_entry(self, item: A.Expr, env: Env) -> int | tuple:
        """An int, or a slice as (start, stop, step) with None for the parts left out."""
        if isinstance(item, A.Slice):
            parts = []
            for part in (item.start, item.stop, item.step):
                v = None if part is None else self.eval(part, env)
                if v is not None and (isinstance(v, bool) or not isinstance(v, int)):
                    self.fail(f"a slice bound must be an int, got {_describe(v)}", part.loc,
                              code="E-VALUE-INDEX-TYPE")
                parts.append(v)
            return tuple(parts)
        v = self.eval(item, env)
        if isinstance(v, bool) or not isinstance(v, int):
            self.fail(f"an index must be an int, got {_describe(v)}", item.loc, code="E-VALUE-INDEX-TYPE")
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
        if isinstance(left, Tensor) or isinstance(right, Tensor):
            return self._tensor_binary(e, left, right, env)
        if _is_text(left) or _is_text(right):
            return self._text_binary(e, left, right)
        self._need_number(left, e.left, e.op)
        self._need_number(right, e.right, e.op)
        symbolic = isinstance(left, sy.Expr) or isinstance(right, sy.Expr)
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
            self.fail(f"'{e.op}' between {_describe(left)} and {_describe(right)} does not give an "
                      "integer size", e.loc, "symbolic sizes combine with ints only; use // for division",
                      code="E-VALUE-SYMBOLIC-ARITHMETIC")
        raise AssertionError(e.op)

    def _text_binary(self, e: A.Binary, left: Any, right: Any) -> str:
        """"block" + str(k): strings join with +, and only with strings."""
        for side, expr in ((left, e.left), (right, e.right)):
            if isinstance(side, Word):
                self._need_number(side, expr, e.op)  # reports the unknown name
        if e.op == "+" and _is_text(left) and _is_text(right):
            return left + right
        if e.op == "+":
            self.fail(f"'+' joins a string only with a string, got {_describe(left)} and {_describe(right)}",
                      e.loc, "turn the number into text with str(), e.g. \"denselayer\" + str(i + 1)",
                      code="E-VALUE-TYPE")
        self.fail(f"'{e.op}' is not defined on strings", e.loc, "strings support only + (joining)",
                  code="E-VALUE-TYPE")

    def _tensor_binary(self, e: A.Binary, left: Any, right: Any, env: Env) -> Any:
        both = isinstance(left, Tensor) and isinstance(right, Tensor)
        if both and e.op in ("+", "*"):
            op = REGISTRY.get("add" if e.op == "+" else "multiply")
            return self._apply_op(op, [left, right], [], {}, e.loc, {})
        tensor, number = (left, right) if isinstance(left, Tensor) else (right, left)
        if not both and isinstance(number, (int, float)) and not isinstance(number, bool):
            scale = REGISTRY.get("scale")
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
        self.fail(f"'{e.op}' is not defined between {_describe(left)} and {_describe(right)}", e.loc,
                  "tensors support a + b (add), a * b (multiply), and scaling by a number: x / 255, x * 0.5",
                  code="E-VALUE-TYPE")

    def _eval_compare(self, e: A.Compare, env: Env) -> Any:
        left = self.eval(e.left, env)
        right = self.eval(e.right, env)
        for side, expr in ((left, e.left), (right, e.right)):
            if isinstance(side, sy.Expr):
                self.fail(f"this condition depends on the symbolic size {sy.to_str(side)}", expr.loc,
                          "give the input a concrete size, or make the choice a block parameter",
                          code="E-VALUE-SYMBOLIC-CONDITION")
            if isinstance(side, Tensor):
                self.fail("a tensor cannot be compared; compare its sizes, e.g. x.channels", expr.loc,
                          "e.g. `y if x.channels == 64 else x -> conv2d(64, 1)`", code="E-VALUE-TYPE")
        ops = {"==": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le,
               ">": operator.gt, ">=": operator.ge}
        try:
            return ops[e.op](left, right)
        except TypeError:
            self.fail(f"cannot compare {_describe(left)} and {_describe(right)} with '{e.op}'", e.loc,
                      code="E-VALUE-TYPE")

    def _eval_boolop(self, e: A.BoolOp, env: Env) -> Any:
        left = self._truth(self.eval(e.left, env), e.left)
        if e.op == "and" and not left:
            return False
        if e.op == "or" and left:
            return True
        return self._truth(self.eval(e.right, env), e.right)

    def _eval_if(self, e: A.IfExpr, env: Env) -> Any:
        test = self._truth(self.eval(e.test, env), e.test)
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
            return A_name(e.id)  # a parameter given `none`: its name, not the value
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
            self.fail(f"unknown name '{value}'", expr.loc, did_you_mean(value, self._visible_env.names() if self._visible_env else ()),
                      code="E-NAME-UNKNOWN")
        if isinstance(value, (int, float)):
            return bool(value)
        self.fail(f"a condition must be true or false, got {_describe(value)}", expr.loc,
                  "compare values to get one, e.g. `n == 1` or `stride > 1`", code="E-VALUE-TYPE")

    def _need_number(self, value: Any, expr: A.Expr, what: str) -> None:
        if isinstance(value, Word):
            self.unknown_names.add(str(value))
            self.fail(f"unknown name '{value}'", expr.loc, did_you_mean(value, self._visible_env.names() if self._visible_env else ()),
                      code="E-NAME-UNKNOWN")
        if isinstance(value, bool) or not isinstance(value, (int, float, sy.Expr)):
            self.fail(f"'{what}' needs numbers, got {_describe(value)}", expr.loc, code="E-VALUE-TYPE")

    def _eval_pipe(self, e: A.Pipe, env: Env) -> Any:
        source = self.eval(e.source, env)
        items = list(source) if isinstance(source, (list, tuple)) else [source]
        for item in items:
            if isinstance(item, Word):
                self.unknown_names.add(str(item))
                self.fail(f"unknown name '{item}'", e.source.loc, did_you_mean(item, env.names()),
                          code="E-NAME-UNKNOWN")
            if not isinstance(item, Tensor):
                self.fail(f"the left side of '->' must be a tensor, got {_describe(item)}", e.source.loc,
                          code="E-CALL-PIPE-NOT-TENSOR")
        return self._call(e.target, env, piped=items)

    def _eval_call(self, e: A.Call, env: Env) -> Any:
        return self._call(e, env, piped=[])

    # ------------------------------------------------------------------ calls
    def _call(self, call: A.Call, env: Env, piped: list[Tensor]) -> Any:
        self._visible_env = env
        func = call.func
        found, bound = env.lookup(func)
        origin = None  # traced: the block parameter the op came in through
        given: Partial | None = None  # a layer given some arguments already: unit(128, stride=2)
        if found and isinstance(bound, Partial):
            if not call.args and not call.kwargs:
                return self._apply_partial(bound, piped, call.loc) if piped else bound
            given = bound
        elif found and isinstance(bound, str) and (bound in self.blocks or bound in REGISTRY):
            func = str(bound)  # a parameter naming a block or op: `unit(64)` with unit = BasicBlock
            origin = bound.expr if isinstance(bound, TWord) and func in REGISTRY else None
        elif found and not self._callable_name(func):
            self.fail(f"'{func}' is {_describe(bound)}, not an op or block", call.loc,
                      code="E-CALL-NOT-CALLABLE")
        # otherwise a value that shares an op's name (`param dropout = 0.5`) leaves the op callable
        if func == "repeat":
            return self._repeat(call, env, piped)
        if func in BUILTINS and func not in self.blocks:
            if piped:
                self.fail(f"'{func}' is a function on numbers, not a layer", call.loc,
                          f"use its value as a layer's argument, e.g. conv2d({func}(...), 3)",
                          code="E-CALL-NOT-A-LAYER")
            args = [self.eval(a, env) for a in call.args]
            kwargs = {k.name: self.eval(k.value, env) for k in call.kwargs}
            for a, expr in zip(args, call.args):
                if not BUILTINS[func].on_values:
                    self._need_number(a, expr, func)
                elif isinstance(a, Word):
                    self._need_number(a, expr, func)  # reports the unknown name
            try:
                if self.trace:
                    result = _traced_builtin(func, args, kwargs)
                else:
                    result = BUILTINS[func].function(*args, **kwargs)
            except ZeroDivisionError:
                self.fail(f"{func}(): division by zero", call.loc, "check the divisor argument",
                          code="E-VALUE-DIVISION-BY-ZERO")
            except TooLong as exc:
                self.fail(f"{func}(): {exc}", call.loc, "a spec describes one network; shrink the range",
                          code="E-LIMIT-LIST-SIZE")
            except OverflowError as exc:  # sqrt(10 ** 400), int(10.0 ** 300 * 10.0 ** 300)
                self.fail(f"{func}(): {exc}", call.loc, "check the arguments; sizes and rates are far "
                          "smaller than the largest float (about 1.8e308)", code="E-VALUE-FLOAT-OVERFLOW")
            except (TypeError, ValueError) as exc:
                shown = exc.message.format(_describe(exc.value)) if isinstance(exc, ArgumentTypeError) else exc
                self.fail(f"{func}(): {shown}", call.loc,
                          f"check the arguments of {func}() (built-in functions: docs/language.md)",
                          code="E-CALL-BUILTIN-ARGUMENTS")
            if isinstance(result, int) and result.bit_length() > MAX_INT_BITS:
                self._too_large(call)
            if isinstance(result, list):
                self._count_items(len(result), call.loc)
            return result
        args = [self.eval(a, env) for a in call.args]
        kwargs: dict[str, Any] = {}
        for kw in call.kwargs:
            if kw.name in kwargs:
                self.fail(f"keyword '{kw.name}' given twice", kw.loc, code="E-CALL-ARGUMENT-TWICE")
            if kw.name == "name" and isinstance(kw.value, A.Name):
                kwargs["name"] = self._layer_name(kw.value, env)
            else:
                kwargs[kw.name] = self.eval(kw.value, env)
        tensors = [a for a in args if isinstance(a, Tensor)]
        attr_args = [a for a in args if not isinstance(a, Tensor)]
        if any(isinstance(a, Tensor) for a in args[len(tensors):]) or (
                tensors and args[:len(tensors)] != tensors):
            self.fail("tensor arguments must come before attributes", call.loc,
                      f"e.g. {func}(x, y, ...) or x -> {func}(...)", code="E-CALL-ARGUMENT-ORDER")
        inputs = piped + tensors
        meta = {k: kwargs.pop(k) for k in META_KWARGS if k in kwargs}
        kw_locs = {kw.name: kw.loc for kw in call.kwargs if kw.name in kwargs}
        if given is not None:
            partial = self._extend(given, attr_args, kwargs, meta, call)
        elif func == "sequential":
            # a bare op or block name is that layer with its defaults: sequential(conv2d(8, 3), gelu)
            attr_args = [self._bare_layer(a, expr) for a, expr in zip(attr_args, call.args[len(tensors):])]
            for a, expr in zip(attr_args, call.args[len(tensors):]):
                if not isinstance(a, Partial):
                    self.fail(f"sequential takes layers such as conv2d(64, 3), got {_describe(a)}", expr.loc,
                              code="E-CALL-NOT-A-LAYER")
            if kwargs:
                self.fail(f"sequential takes no attribute '{next(iter(kwargs))}'", call.loc,
                          "sequential takes layers and the options name=, frozen=, init=, bias_init=",
                          code="E-CALL-UNKNOWN-KEYWORD")
            partial = Partial("sequential", attr_args, [], {}, call.loc, meta)
        elif func in self.blocks:
            partial = Partial("block", self.blocks[func], attr_args, kwargs, call.loc, meta, kw_locs)
        else:
            op = REGISTRY.get(func)
            if op is None:
                self.fail(f"unknown op or block '{func}'", call.loc, self._unknown_callable_hint(func),
                          code="E-CALL-UNKNOWN-OP")
            partial = Partial("op", op, attr_args, kwargs, call.loc, meta, kw_locs, origin=origin)
        if not inputs and not (partial.kind == "op" and partial.target.inputs == 0):
            return partial
        return self._apply_partial(partial, inputs, call.loc)

    def _extend(self, given: Partial, args: list[Any], kwargs: dict[str, Any], meta: dict[str, Any],
                call: A.Call) -> Partial:
        """Partial application, as functools.partial: `unit = Bottleneck(groups=32)` then
        `unit(128, stride=2)` is Bottleneck(128, stride=2, groups=32). Positional arguments
        follow the ones given before; a keyword given again replaces the earlier value."""
        if given.kind == "sequential":
            self.fail(f"'{call.func}' is a sequential; it takes no more arguments", call.loc,
                      f"pipe a tensor into it: x -> {call.func}", code="E-CALL-ARGUMENT-COUNT")
        return Partial(given.kind, given.target, [*given.args, *args], {**given.kwargs, **kwargs},
                       call.loc, {**given.meta, **meta},
                       {**given.kw_locs, **{kw.name: kw.loc for kw in call.kwargs if kw.name in kwargs}},
                       given.origin, given.origin_args, given.origin_kwargs)

    def _bare_layer(self, value: Any, expr: A.Expr) -> Any:
        if isinstance(value, str) and value in self.blocks:
            return Partial("block", self.blocks[value], [], {}, expr.loc)
        if isinstance(value, str) and value not in SPECIAL_FORMS and REGISTRY.get(value):
            return Partial("op", REGISTRY.get(value), [], {}, expr.loc)
        return value

    def _callable_name(self, func: str) -> bool:
        return func in self.blocks or func in REGISTRY or func in BUILTINS or func in SPECIAL_FORMS

    def _layer_name(self, name: A.Name, env: Env) -> str:
        """`name=conv1` is the word itself. A bare name that is also a value in scope (a block
        parameter `squeeze = 16`) is ambiguous and an error, never a quiet rename: the spec says
        `name="squeeze"` for the word or `name=str(squeeze)` for the value."""
        found, value = env.lookup(name.id)
        if found and (isinstance(value, (int, float, str, sy.Expr)) or value is None) and not isinstance(value, Word):
            self.fail(f"name={name.id} is ambiguous: '{name.id}' is also a value here ({_describe(value)})",
                      name.loc, f'write name="{name.id}" to name the layer {name.id}, or '
                      f"name=str({name.id}) to name it after the value", code="E-NAME-AMBIGUOUS-LAYER-NAME")
        return name.id

    def _apply_partial(self, p: Partial, inputs: list[Tensor], loc: A.Loc | None,
                       forced_name: str | None = None) -> Any:
        meta = dict(p.meta)
        if forced_name is not None and "name" not in meta:
            meta["name"] = forced_name
        if p.kind == "op":
            return self._apply_op(p.target, inputs, p.args, p.kwargs, p.loc or loc, meta, kw_locs=p.kw_locs,
                                  origin=p if p.origin is not None else None)
        if p.kind == "block":
            return self._apply_block(p.target, inputs, p.args, p.kwargs, p.loc or loc, meta, p.kw_locs)
        if p.kind == "sequential":
            return self._apply_sequential(p.target, inputs, p.loc or loc, meta)
        raise AssertionError(p.kind)

    def _check_inputs(self, inputs: list[Tensor]) -> None:
        if any(t.shape is None for t in inputs):
            raise Abort()

    def _apply_op(self, op: Op, inputs: list[Tensor], args: list[Any], kwargs: dict[str, Any],
                  loc: A.Loc | None, meta: dict[str, Any], default_name: str | None = None,
                  kw_locs: dict[str, A.Loc | None] | None = None, origin: Partial | None = None) -> Any:
        if self.trace:  # ops take plain true/false (a traced one is an int)
            args = [pv.plain(a) if isinstance(a, pv.TBool) else a for a in args]
            kwargs = {k: pv.plain(v) if isinstance(v, pv.TBool) else v for k, v in kwargs.items()}
        n = len(inputs)
        if op.inputs == VARIADIC and n < 2:
            self.fail(f"{op.name} needs two or more input tensors, got {n}", loc,
                      f"e.g. {op.name}(a, b) or [a, b] -> {op.name}", code="E-CALL-INPUT-COUNT")
        if op.inputs != VARIADIC and n != op.inputs:
            what = "one input tensor" if op.inputs == 1 else f"{op.inputs} input tensors"
            self.fail(f"{op.name} takes {what}, got {n}", loc,
                      f"e.g. x -> {op.name}(...)" if op.inputs == 1 else None, code="E-CALL-INPUT-COUNT")
        self._check_inputs(inputs)
        names = [at.name for at in op.attrs]
        unknown = [key for key in kwargs if key not in names]
        for key in unknown:  # every one, each where it is written
            self._unknown_keyword(op.name, key, names, "attribute", (kw_locs or {}).get(key) or loc)
        if unknown:
            raise Abort()
        shapes = [t.shape for t in inputs]
        ndim = op.ndim or (max(0, len(shapes[0]) - 2) if shapes else 0)
        try:
            with self._checks():
                attrs = op.bind(args, kwargs, ndim)
        except AttrError as exc:
            self.fail(f"{op.name} at line {loc.line if loc else '?'}: {exc.message}", loc, exc.hint,
                      code=exc.code)
        self._no_inline(meta, f"the layer {op.name}", loc)
        if op.pieces_op:
            return self._apply_pieces(op, attrs, inputs[0], loc, meta)
        frozen, init, bias_init = self._meta(meta, loc)
        node_id = self._unique_name(meta.get("name"), loc, explicit="name" in meta,
                                    default=default_name or op.name)
        try:
            with self._checks():
                shape = op.output_shape(attrs, shapes, self.ctx)
        except ShapeError as exc:
            self.error(f"{op.name} at line {loc.line if loc else '?'}: {exc.message}", loc, exc.hint,
                       code=exc.code)
            shape = None
        node = LayerNode(node_id, op, attrs, [t.node for t in inputs], shape, loc, self.scope_path,
                         frozen, init, bias_init)
        if self.trace:
            node.traced_inputs = tuple(shapes)
            if origin is not None:  # the attributes the parameter brought, by name
                names = [at.name for at in op.attrs]
                node.factory = (origin.origin, tuple(names[:origin.origin_args]) + origin.origin_kwargs)
        self._add_node(node)
        if shape is None:
            raise Abort()
        with self._checks():
            self._check_suspicious(node, kwargs, shapes)
        return Tensor(node_id, shape)

    def _apply_pieces(self, op: Op, attrs: Any, tensor: Tensor, loc: A.Loc | None,
                      meta: dict[str, Any]) -> tuple[Tensor, ...]:
        """chunk / split: one `slice` node per piece, named after the op (or `name`)."""
        try:
            with self._checks():
                pieces = op.pieces(attrs, tensor.shape, self.ctx)
        except ShapeError as exc:
            self.fail(f"{op.name} at line {loc.line if loc else '?'}: {exc.message}", loc, exc.hint,
                      code=exc.code)
        named = "name" in meta
        base = str(meta.pop("name", op.name))
        return tuple(self._apply_op(REGISTRY.get("slice"), [tensor], [], dict(piece), loc,
                                    {**meta, "name": base if k == 0 else f"{base}_{k}"} if named else meta,
                                    default_name=op.name)
                     for k, piece in enumerate(pieces))

    def _no_inline(self, meta: dict[str, Any], what: str, loc: A.Loc | None) -> None:
        if "inline" in meta:
            self.fail(f"inline= applies to block instances; {what} has no block of its own to dissolve", loc,
                      "remove inline=", code="E-CALL-INLINE-NOT-BLOCK")

    def _flag(self, meta: dict[str, Any], key: str, loc: A.Loc | None) -> bool:
        """A true/false layer option (frozen=, inline=), false when not given."""
        value = pv.plain(meta.get(key, False))
        if not isinstance(value, bool):
            self.fail(f"{key} must be true or false, got {_describe(value)}", loc, code="E-CALL-OPTION-TYPE")
        return value

    def _meta(self, meta: dict[str, Any], loc: A.Loc | None) -> tuple[bool, str | None, str | None]:
        frozen = self._flag(meta, "frozen", loc)
        inits = []
        for key in ("init", "bias_init"):
            value = meta.get(key)
            if value is not None and (not isinstance(value, str) or value not in INITIALIZERS):
                self.fail(f"{key}: unknown initializer {_describe(value)}", loc,
                          did_you_mean(str(value), list(INITIALIZERS)) or f"initializers: {', '.join(INITIALIZERS)}",
                          code="E-CALL-UNKNOWN-INITIALIZER")
            if key == "bias_init" and value is not None and INITIALIZERS[value].matrix_only:
                self.fail(f"bias_init: {value} needs a matrix; a bias is a vector", loc,
                          "use zeros, ones, normal or uniform for biases (or init= for the weights)",
                          code="E-CALL-INITIALIZER-NOT-FOR-BIAS")
            inits.append(None if value is None else str(value))
        return frozen, inits[0], inits[1]

    def _apply_block(self, block: A.BlockDef, inputs: list[Tensor], args: list[Any],
                     kwargs: dict[str, Any], loc: A.Loc | None, meta: dict[str, Any],
                     kw_locs: dict[str, A.Loc | None] | None = None) -> Any:
        if len(inputs) != len(block.inputs):
            self.fail(f"block {block.name} takes {len(block.inputs)} input tensor"
                      f"{'s' if len(block.inputs) != 1 else ''} ({', '.join(block.inputs)}), got {len(inputs)}", loc,
                      f"e.g. x -> {block.name}(...)" if len(block.inputs) == 1 else
                      f"e.g. {block.name}({', '.join(block.inputs)}, ...) or [{', '.join(block.inputs)}] -> "
                      f"{block.name}(...)", code="E-CALL-INPUT-COUNT")
        if len(args) > len(block.params):
            self.fail(f"block {block.name} takes {len(block.params)} parameter"
                      f"{'s' if len(block.params) != 1 else ''} ({', '.join(p.name for p in block.params)}), "
                      f"got {len(args)}", loc, code="E-CALL-ARGUMENT-COUNT")
        names = [p.name for p in block.params]
        values: dict[str, Any] = dict(zip(names, args))
        unknown = [key for key in kwargs if key not in names]
        for key in unknown:  # every one, each where it is written
            self._unknown_keyword(f"block {block.name}", key, names, "parameter", (kw_locs or {}).get(key) or loc)
        if unknown:
            raise Abort()
        for key, value in kwargs.items():
            if key in values:
                self.fail(f"block {block.name}: parameter '{key}' given twice", loc,
                          code="E-CALL-ARGUMENT-TWICE")
            values[key] = value
        env = Env()
        for p in block.params:
            if p.name in values:
                env.values[p.name] = values[p.name]
            elif p.default is None:
                self.fail(f"block {block.name} needs parameter '{p.name}'", loc,
                          f"e.g. {block.name}({', '.join(q.name for q in block.params if q.default is None)})",
                          code="E-CALL-MISSING-ARGUMENT")
            else:
                env.values[p.name] = self.eval(p.default, env)
        self._check_inputs(inputs)
        frozen, init, bias_init = self._meta(meta, loc)
        inline = self._flag(meta, "inline", loc)
        if len(self.instance_stack) >= self.max_block_depth:
            self.fail(f"block recursion deeper than {self.max_block_depth:,} levels (block {block.name})", loc,
                      "a block that uses itself needs a base case that stops it, e.g. "
                      "`x if n == 0 else x -> Stage(n - 1)`; if it is meant to nest this deep, raise the "
                      "limit with the environment variable ARCHC_MAX_BLOCK_DEPTH", code="E-LIMIT-BLOCK-DEPTH")
        saved = self.scope_path
        if inline:  # no submodule: the block's layers are named directly in the caller's scope
            if "name" in meta:
                self.fail("an inline block has no name of its own", loc, "drop name= or inline=true",
                          code="E-CALL-INLINE-WITH-NAME")
            instance, path = block.name, saved
        else:
            instance = self._unique_name(meta.get("name"), loc, explicit="name" in meta,
                                         default=_snake(block.name))
            path = tuple(instance.split("."))
            self._new_scope(Scope(path, "block", block.name, loc, {k: v for k, v in env.values.items()},
                                  [t.node for t in inputs], input_names=list(block.inputs),
                                  input_shapes=[t.shape for t in inputs] if self.trace else [],
                                  name_value=meta.get("name") if self.trace else None,
                                  loop=self.loop if self.trace and self.loop is not None
                                  and self.loop[4] == len(self.instance_stack) else None,
                                  defaults={p.name: p.default.value if not isinstance(p.default, A.Name)
                                            else Word(p.default.id) for p in block.params
                                            if isinstance(p.default, (A.Num, A.Bool, A.Str)) or (
                                                isinstance(p.default, A.Name) and REGISTRY.get(p.default.id))}
                                  if self.trace else {}))
        # a block's layers depend on its parameters and its inputs' shapes only: an instance like
        # an earlier one is that one's layers renamed (archc.ir.instances)
        key = None if inline or self.trace or not instances.REUSE_INSTANCES else instances.instance_key(
            block, env.values, [t.shape for t in inputs], [t.node for t in inputs])
        state = self.templates.get(key) if key is not None else None
        if key is not None and state is None:
            self.templates[key] = instances.SEEN_ONCE
        # recorded: the second of a kind, or the first when it is a repeat's later copy (the next
        # copies are likely alike); most blocks are used once, and recording them would be lost work
        record = key is not None and (state is instances.SEEN_ONCE or (
            state is None and self.repeat_copy_depth == len(self.instance_stack)))
        self.repeat_copy_depth = -1
        before = instances.Snapshot(self, inputs) if record else None
        caller_values = dict(env.values)
        if self.trace and not inline:  # inside, values are the block's own: `planes`, `in_channels`
            for p in block.params:
                value = env.values[p.name]
                env.values[p.name] = pv.deep(pv.plain(value), A_name(p.name), pv.roots_of(value),
                                             pv.forward_of(value), _traced_layer)
            inputs_seen = [Tensor(t.node, _traced_shape(name, t.shape, len(inputs)))
                           for name, t in zip(block.inputs, inputs)]
        else:
            inputs_seen = inputs
        for name, tensor in zip(block.inputs, inputs_seen):
            env.values[name] = tensor
        saved_log = self.decision_log
        saved_locals, saved_params, saved_none = self.local_defs, self.local_params, self.none_params
        if self.trace and not inline:  # a block's body makes its own choices, names its own numbers
            self.decision_log = self.scopes[path].decisions
            self.local_defs = self.scopes[path].locals
            self.local_params = {p.name for p in block.params} | {
                _channels_name(name, len(inputs)) for name in block.inputs} | set(block.inputs)
            self.none_params = {p.name for p in block.params if env.values[p.name] is None}
            saved_loops, self.loops = self.loops, []
        else:
            saved_loops = self.loops
        self.scope_path = path
        self.instance_stack.append(f"{block.name} instance '{instance}'"
                                   + (f" (used at line {loc.line})" if loc else ""))
        first_node = len(self.created)
        try:
            if isinstance(state, instances.Template) and not state.usable():
                self.templates[key] = state = instances.NOT_REUSABLE
            if isinstance(state, instances.Template) and self._within_limits(state):
                results = state.replay(self, path, inputs, Tensor)
            else:
                results = self._run_body(block.body, env, block.returns,
                                         input_names=list(block.inputs), where=f"block {block.name}")
                if before is not None:
                    recorded = instances.Template.record(self, path, inputs, results, before, Tensor)
                    self.templates[key] = recorded or instances.NOT_REUSABLE
        finally:
            self.scope_path = saved
            self.instance_stack.pop()
            self.decision_log = saved_log
            self.local_defs, self.local_params, self.none_params = saved_locals, saved_params, saved_none
            self.loops = saved_loops
        if any(r is POISON for r in results):
            raise Abort()
        for r, expr in zip(results, block.returns):
            if not isinstance(r, Tensor):
                self.fail(f"block {block.name} must return tensors, got {_describe(r)}", expr.loc,
                          code="E-BLOCK-RETURN-NOT-TENSOR")
        if not inline:
            self.scopes[path].outputs = [r.node for r in results]
        self._mark_nodes_since(first_node, frozen, init, bias_init)
        if self.trace and not inline:  # the results' sizes as the caller sees them
            names = {p.name: caller_values[p.name] for p in block.params}
            shapes = {}
            for name, t in zip(block.inputs, inputs):
                names[_channels_name(name, len(inputs))] = t.shape[1] if len(t.shape) > 1 else None
                shapes[name] = t.shape
            for local, definition in self.scopes[path].locals.items():  # in definition order
                value = pv.substitute(pv.traced(0, definition), names, shapes)
                if pv.is_traced(value):  # else names reading it are no longer expressible
                    names[local] = value
            results = [Tensor(r.node, tuple(pv.substitute(d, names, shapes) for d in r.shape))
                       for r in results]
            self.scopes[path].output_shapes = [r.shape for r in results]
        return results[0] if len(results) == 1 else tuple(results)

    def _apply_sequential(self, parts: list[Partial], inputs: list[Tensor], loc: A.Loc | None,
                          meta: dict[str, Any]) -> Any:
        self._check_inputs(inputs)
        self._no_inline(meta, "sequential", loc)
        instance = self._unique_name(meta.get("name"), loc, explicit="name" in meta, default="sequential")
        path = tuple(instance.split("."))
        self._new_scope(Scope(path, "sequential", "Sequential", loc, {}, [t.node for t in inputs]))
        saved = self.scope_path
        first_node = len(self.created)
        self.scope_path = path
        try:
            value: Any = inputs
            for index, part in enumerate(parts):
                value = self._apply_partial(part, value if isinstance(value, list) else [value], loc,
                                            forced_name=str(index))
                if isinstance(value, tuple):
                    self.fail("a layer inside sequential must give one tensor", part.loc,
                              code="E-CALL-MULTIPLE-OUTPUTS")
        finally:
            self.scope_path = saved
        self.scopes[path].outputs = [value.node] if isinstance(value, Tensor) else []
        self._mark_nodes_since(first_node, *self._meta(meta, loc))
        return value

    def _mark_nodes_since(self, first_node: int, frozen: bool, init: str | None,
                          bias_init: str | None) -> None:
        """Apply a block's, repeat's or sequential's `frozen`/`init` to every layer it created
        (the nodes added since `first_node`), without overriding a layer's own choice."""
        if not (frozen or init or bias_init):
            return
        for node_id in self._created_since(first_node):
            layer = self.g.nodes[node_id]["layer"]
            layer.frozen = layer.frozen or frozen
            layer.init = layer.init or init
            layer.bias_init = layer.bias_init or bias_init

    def _unknown_repeat_options(self, call: A.Call) -> bool:
        """Report each keyword of a repeat that is not a layer option; whether there was one."""
        unknown = [kw for kw in call.kwargs if kw.name not in META_KWARGS]
        for kw in unknown:
            self.error(f"repeat has no attribute '{kw.name}'", kw.loc,
                       did_you_mean(kw.name, META_KWARGS) or "repeat takes name=, frozen=, init=",
                       code="E-CALL-UNKNOWN-KEYWORD")
        return bool(unknown)

    def _repeat(self, call: A.Call, env: Env, piped: list[Tensor]) -> Any:
        """`repeat(n, body)`: n copies of `body` in a chain, named 0..n-1, with `i` bound to the
        copy's index while `body`'s arguments are evaluated. With inline=true there is no repeat
        module: the copies are the caller's children, named as the body names them
        (`name="block1-" + str(i)`), the loop that numbers torchvision's stages."""
        if len(call.args) != 2:
            self.fail(f"repeat takes a count and a layer or block, e.g. repeat(3, BasicBlock(64)); got "
                      f"{len(call.args)} argument{'s' if len(call.args) != 1 else ''}", call.loc,
                      "give the count, then one layer: the copies' other options are name=, frozen=, "
                      "init=, inline=", code="E-CALL-ARGUMENT-COUNT")
        count = self.eval(call.args[0], env)
        pv.decide(count)
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            self.fail(f"repeat count must be an int ≥ 1, got {_describe(count)}", call.args[0].loc,
                      code="E-CALL-REPEAT-COUNT")
        if count > self.max_repeat:
            self.fail(f"repeat count {count:,} is over the limit of {self.max_repeat:,} copies", call.args[0].loc,
                      "check the count; to build that many anyway, raise the limit with the environment "
                      "variable ARCHC_MAX_REPEAT", code="E-LIMIT-REPEAT")
        body = call.args[1]
        if self._unknown_repeat_options(call):
            raise Abort()
        meta: dict[str, Any] = {}
        for kw in call.kwargs:
            meta[kw.name] = self._layer_name(kw.value, env) \
                if kw.name == "name" and isinstance(kw.value, A.Name) else self.eval(kw.value, env)
        if not piped:
            self.fail("repeat needs an input: x -> repeat(n, ...)", call.loc,
                      "pipe a tensor into it, e.g. `y = x -> repeat(3, BasicBlock(64))`",
                      code="E-CALL-INPUT-COUNT")
        self._check_inputs(piped)
        inline = self._flag(meta, "inline", call.loc)
        meta.pop("inline", None)
        saved = self.scope_path
        if inline:
            if "name" in meta:
                self.fail("an inline repeat has no name of its own", call.loc,
                          "name the copies in the body, e.g. repeat(n, Block(name=\"block\" + str(i)), "
                          "inline=true), or drop inline=true", code="E-CALL-INLINE-WITH-NAME")
            path = saved
        else:
            instance = self._unique_name(meta.get("name"), call.loc, explicit="name" in meta, default="repeat")
            path = tuple(instance.split("."))
            self._new_scope(Scope(path, "repeat", "Repeat", call.loc, {"count": count}, [t.node for t in piped]))
        first_node = len(self.created)
        self.scope_path = path
        value: Any = piped
        # traced, an inline repeat is a loop of the enclosing class (archc.lower.codegen): its
        # index is the loop variable, and the block instances it makes say which copy they are
        loop_var = None
        if self.trace and inline:
            depth = sum(1 for marker in self.loops if marker is not None)
            loop_var = "i" if depth == 0 else f"i_{depth + 1}"
        saved_loop = self.loop
        try:
            for index in range(count):
                if isinstance(body, A.Name):  # repeat(3, relu): a bare op or block name
                    body = A.Call(func=body.id, loc=body.loc)
                index_value: Any = index
                if loop_var is not None:
                    index_value = pv.traced(index, A_name(loop_var))
                    self.loop = (call.loc, loop_var, index, count, len(self.instance_stack))
                    self.loops.append(self.loop)
                try:
                    part = self.eval(body, env.child(i=index_value))
                    if not isinstance(part, Partial):
                        self.fail(f"repeat's body must be a layer or block, got {_describe(part)}", body.loc,
                                  code="E-CALL-NOT-A-LAYER")
                    # a repeat's copies after the first are mostly alike: record the first of a kind
                    self.repeat_copy_depth = len(self.instance_stack) if index else -1
                    value = self._apply_partial(part, value if isinstance(value, list) else [value], call.loc,
                                                forced_name=None if inline else str(index))
                    self.repeat_copy_depth = -1
                    if loop_var is not None and isinstance(value, Tensor):
                        # what leaves a copy was computed with this index: pinned to it
                        value = Tensor(value.node, tuple(pv.with_constant(d, loop_var, index)
                                                         for d in value.shape))
                finally:
                    if loop_var is not None:
                        self.loops.pop()
                        self.loop = saved_loop
                if isinstance(value, tuple):
                    self.fail("a repeated block must return one tensor", body.loc,
                              "each copy feeds the next: return one tensor (merge the others, e.g. with "
                              "concat), or write the copies out", code="E-CALL-MULTIPLE-OUTPUTS")
        finally:
            self.scope_path = saved
        if not inline:
            self.scopes[path].outputs = [value.node]
        self._mark_nodes_since(first_node, *self._meta(meta, call.loc))
        return value

    # ------------------------------------------------------------------ nodes and names
    def _unique_name(self, name: Any, loc: A.Loc | None, explicit: bool, default: str = "") -> str:
        taken = self.used_names.setdefault(self.scope_path, set())
        pv.decide(name)
        if explicit:
            if isinstance(name, bool) or not isinstance(name, (str, int)):
                self.fail(f"a layer name must be a word, a string or an int, got {_describe(name)}", loc,
                          code="E-NAME-LAYER-INVALID")
            name = str(name)
            if not _valid_module_name(name):
                self.fail(f"layer name {name!r} is not a valid module name", loc,
                          "PyTorch module names are non-empty and contain no '.'; e.g. \"block1-0\"",
                          code="E-NAME-LAYER-INVALID")
            if name in TORCH_MODULE_ATTRS:
                self.fail(f"layer name '{name}' is taken: torch.nn.Module has an attribute of that name",
                          loc, f"choose another name, e.g. '{name}_'", code="E-NAME-LAYER-RESERVED")
            if name in taken:
                where = ".".join(self.scope_path) or "the model"
                self.fail(f"the name '{name}' is used twice in {where}", loc,
                          "names in one block must be unique: they become module attributes",
                          code="E-NAME-LAYER-DUPLICATE")
        else:
            base = default
            name, k = base, self._suffixes.get((self.scope_path, base), 1)
            while name in taken or name in TORCH_MODULE_ATTRS:
                name = f"{base}_{k}"
                k += 1
            self._suffixes[(self.scope_path, base)] = k  # names only get taken: no need to recount
        taken.add(name)
        return ".".join((*self.scope_path, name))

    def _within_limits(self, template: instances.Template) -> bool:
        """Whether replaying stays under the layer and list limits; else the instance is
        evaluated, so that the limit is reported where evaluation reaches it."""
        return (len(self.created) + template.size <= self.max_layers
                and self.comprehended + template.comprehended <= MAX_RANGE * 10)

    def _new_scope(self, scope: Scope) -> None:
        self.scopes[scope.path] = scope
        self.scope_log.append(scope.path)

    def _created_since(self, index: int) -> list[str]:
        """The nodes a body, block or repeat created, given len(self.created) at its start: a
        slice, so nested bodies cost their own size, not the whole graph's."""
        return [n for n in self.created[index:] if n in self.g]

    def _add_node(self, node: LayerNode) -> None:
        if len(self.created) >= self.max_layers:
            self.fail(f"the model has more than {self.max_layers:,} layers", node.loc,
                      "check repeat counts and recursive blocks; to build that many anyway, raise the "
                      "limit with the environment variable ARCHC_MAX_LAYERS", code="E-LIMIT-LAYERS")
        self.created.append(node.id)
        self.g.add_node(node.id, layer=node)
        for port, src in enumerate(node.inputs):
            self.g.add_edge(src, node.id, port=port)


# Attribute names of torch.nn.Module and nn.Sequential (and the load report archc.build attaches):
# torch refuses a submodule of one of these names, so no layer may take one. tests/test_lowering.py
# checks the list against the installed torch.
TORCH_MODULE_ATTRS = frozenset({
    "T_destination", "_apply", "_backward_hooks", "_backward_pre_hooks", "_buffers", "_call_impl",
    "_compiled_call_impl", "_forward_hooks", "_forward_hooks_always_called",
    "_forward_hooks_with_kwargs", "_forward_pre_hooks", "_forward_pre_hooks_with_kwargs",
    "_get_backward_hooks", "_get_backward_pre_hooks", "_get_item_by_idx", "_get_name",
    "_is_full_backward_hook", "_load_from_state_dict", "_load_state_dict_post_hooks",
    "_load_state_dict_pre_hooks", "_maybe_warn_non_full_backward_hook", "_modules",
    "_named_members", "_non_persistent_buffers_set", "_parameters",
    "_register_load_state_dict_pre_hook", "_register_state_dict_hook",
    "_replicate_for_data_parallel", "_save_to_state_dict", "_slow_forward", "_state_dict_hooks",
    "_state_dict_pre_hooks", "_version", "_wrapped_call_impl", "add_module", "append", "apply",
    "archc_load_report", "bfloat16", "buffers", "call_super_init", "check_inputs", "children", "compile", "cpu",
    "cuda", "double", "dump_patches", "eval", "extend", "extra_repr", "float", "forward",
    "get_buffer", "get_extra_state", "get_parameter", "get_submodule", "half", "insert", "ipu",
    "load_state_dict", "modules", "mtia", "named_buffers", "named_children", "named_modules",
    "named_parameters", "parameters", "pop", "register_backward_hook", "register_buffer",
    "register_forward_hook", "register_forward_pre_hook", "register_full_backward_hook",
    "register_full_backward_pre_hook", "register_load_state_dict_post_hook",
    "register_load_state_dict_pre_hook", "register_module", "register_parameter",
    "register_state_dict_post_hook", "register_state_dict_pre_hook", "requires_grad_",
    "set_extra_state", "set_submodule", "share_memory", "state_dict", "to", "to_empty", "train",
    "training", "type", "xpu", "zero_grad",
})


def _valid_module_name(name: str) -> bool:
    """As free as PyTorch's add_module: any text without '.', not empty; control characters and
    dunder names are refused (they could only be mistakes)."""
    return bool(name) and "." not in name and name.isprintable() and not name.startswith("__")


def _position_key(stmt: A.Assign) -> tuple[int, int]:
    return (stmt.loc.line, stmt.loc.col) if stmt.loc else (0, 0)


# names a body's numbers cannot take in generated code (archc.lower.codegen uses them)
LOCAL_NAMES_TAKEN = frozenset({"self", "torch", "nn", "F", "math", "super", "float", "int", "getattr",
                               "_make_divisible", "layers", "x", "in_channels", "max", "min", "round",
                               "abs", "len", "sum", "str", "range"})


def A_name(name: str) -> Any:
    """A Python name expression (archc.provenance)."""
    import ast as py_ast
    return py_ast.Name(name, py_ast.Load())


def _traced_layer(value: Any, expr: Any, roots: frozenset, forward: bool) -> Any:
    """A block parameter holding an op (`act = relu6`, `norm = batchnorm2d(eps=0.001)`), traced:
    layers it makes record that they come through it (archc.provenance, code generation)."""
    if isinstance(value, Word) and not isinstance(value, TWord) and REGISTRY.get(str(value)) is not None:
        word = TWord.__new__(TWord, str(value))
        word.expr, word.roots, word.forward, word.uid = expr, roots, forward, 0
        return word
    if isinstance(value, Partial) and value.kind == "op":
        return dataclasses.replace(value, origin=expr, origin_args=len(value.args),
                                   origin_kwargs=tuple(value.kwargs))
    return value


def _pure(e: Any) -> bool:
    """An expression that only computes a number (no layer, no call): safe to evaluate twice."""
    if isinstance(e, (A.Num, A.Bool, A.Name)):
        return True
    if isinstance(e, A.Unary):
        return _pure(e.operand)
    if isinstance(e, A.Binary):
        return _pure(e.left) and _pure(e.right)
    return False


def _channels_name(input_name: str, count: int) -> str:
    """The constructor argument for an input's channel count: in_channels, or x_channels when a
    block has several inputs."""
    return "in_channels" if count == 1 else f"{input_name}_channels"


def _traced_shape(input_name: str, shape: Shape, count: int) -> Shape:
    """An input's shape inside a block (traced elaboration): the channels are the argument
    `in_channels`; the other sizes are known only when the module runs (`x.shape[2]`)."""
    import ast as py_ast
    out = []
    for k, d in enumerate(shape):
        if not isinstance(d, int) or isinstance(d, bool):
            out.append(d)
        elif k == 1:
            out.append(pv.traced(pv.plain(d), A_name(_channels_name(input_name, count)), pv.roots_of(d),
                                 pv.forward_of(d)))
        else:
            size = py_ast.Subscript(py_ast.Attribute(A_name(input_name), "shape", py_ast.Load()),
                                    py_ast.Constant(k), py_ast.Load())
            out.append(pv.traced(pv.plain(d), size, pv.roots_of(d), True))
    return tuple(out)


def _snake(name: str) -> str:
    out = []
    for i, ch in enumerate(name):
        if ch.isupper() and i and (not name[i - 1].isupper() or (i + 1 < len(name) and name[i + 1].islower())):
            out.append("_")
        out.append(ch.lower())
    return "".join(out)


def _is_text(value: Any) -> bool:
    return isinstance(value, str) and not isinstance(value, Word)


def _describe(value: Any) -> str:
    if isinstance(value, Tensor):
        return f"a tensor {fmt_shape(value.shape) if value.shape else ''}".rstrip()
    if isinstance(value, Partial):
        name = value.target.name if value.kind in ("op", "block") else value.kind
        return f"the layer {name}(...) without an input"
    if isinstance(value, Word):
        return f"the unknown name '{value}'"
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "none"
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, sy.Expr):
        return f"the symbolic size {sy.to_str(value)}"
    if isinstance(value, tuple):
        return f"{len(value)} tensors"
    return str(value)


def free_names(expr: A.Expr | None) -> set[str]:
    """Names an expression reads (keyword names and literal `name=` values excluded)."""
    out: set[str] = set()

    def walk(e: Any) -> None:
        if isinstance(e, A.Name):
            out.add(e.id)
        elif isinstance(e, A.ListComp):  # its variable is bound inside, not read from outside
            walk(e.iterable)
            inner: set[str] = free_names(e.element) | free_names(e.condition)
            out.update(inner - set(e.targets))
        elif isinstance(e, A.Call):
            out.add(e.func)  # a bound Partial can be called by name
            for a in e.args:
                walk(a)
            for kw in e.kwargs:
                if not (kw.name == "name" and isinstance(kw.value, A.Name)):
                    walk(kw.value)
        else:
            for child in A.children(e):
                walk(child)

    walk(expr)
    return out



# ----------------------------------------------------------------------------- import resolution
_IMPORT_PATH: "ContextVar[tuple[Path, ...]]" = ContextVar("archc_import_path", default=())
MAX_IMPORT_PATH_CHARS = 4096


@contextmanager
def import_path(dirs: Sequence[str | Path]):
    """Within this block, imports may also come from `dirs` (the CLI's --import-path), as from
    the folders of the ARCHC_PATH environment variable."""
    token = _IMPORT_PATH.set(tuple(Path(d) for d in dirs))
    try:
        yield
    finally:
        _IMPORT_PATH.reset(token)


# Parsed imports by path, reused while the file's modification time and size stay the same: a
# block library is parsed once per process, not once per model that imports it (a third of
# loading ResNet-152 was parsing its library again). AST nodes are immutable, so sharing is safe.
_PARSED_IMPORTS: "OrderedDict[str, tuple[tuple[int, int], A.Spec]]" = OrderedDict()
_PARSED_IMPORTS_MAX = 256


def _parse_import(path: Path) -> A.Spec:
    from archc.frontend import parse_file
    key = str(path)
    try:
        st = path.stat()
        version = (st.st_mtime_ns, st.st_size)
    except (OSError, ValueError):
        return parse_file(path)  # its own error
    hit = _PARSED_IMPORTS.get(key)
    if hit is not None and hit[0] == version:
        _PARSED_IMPORTS.move_to_end(key)
        return hit[1]
    spec = parse_file(path)
    _PARSED_IMPORTS[key] = (version, spec)
    if len(_PARSED_IMPORTS) > _PARSED_IMPORTS_MAX:
        _PARSED_IMPORTS.popitem(last=False)
    return spec


_IMPORT_READER: "ContextVar[Callable[[Path], A.Spec] | None]" = ContextVar("archc_import_reader",
                                                                          default=None)


@contextmanager
def import_reader(read: Callable[[Path], A.Spec]):
    """Within this block, imported files are parsed by `read(path)` instead of
    `archc.frontend.parse_file` (same results and errors expected): the language server reads
    them from its cache and from the editor's unsaved text."""
    token = _IMPORT_READER.set(read)
    try:
        yield
    finally:
        _IMPORT_READER.reset(token)


def search_path() -> tuple[Path, ...]:
    """The folders imports may come from besides the spec's own tree: `import_path(...)`'s,
    then ARCHC_PATH's (os.pathsep-separated; empty entries are skipped, not the current folder)."""
    env = [d for d in os.environ.get("ARCHC_PATH", "").split(os.pathsep) if d.strip()]
    out: list[Path] = []
    for d in (*_IMPORT_PATH.get(), *env):
        resolved = _resolved_dir(Path(d))
        if resolved not in out:
            out.append(resolved)
    return tuple(out)


def _resolved_dir(path: Path) -> Path:
    try:
        return path.resolve()
    except (OSError, ValueError, RuntimeError):
        return path.absolute()


def _shown(text: str) -> str:
    return ascii(text) if not text.isprintable() else f"'{text}'"


def _within(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def _resolve_import(text: str, folder: Path, roots: tuple[Path, ...]
                    ) -> tuple[Path | None, str, str | None]:
    """(file, "", None) for an import that may be read, else (None, message, hint)."""
    return _locate_import(text, folder, roots)[:3]


def _locate_import(text: str, folder: Path, roots: tuple[Path, ...]
                   ) -> tuple[Path | None, str, str | None, str]:
    """(file, "", None, "") for an import that may be read, else (None, message, hint, the
    diagnostic's code)."""
    shown = _shown(text)
    hint_path = ("to import from another folder, name it with --import-path DIR or in the "
                 "ARCHC_PATH environment variable")
    if "\0" in text or any(0xD800 <= ord(c) <= 0xDFFF for c in text):
        return None, f"import path {shown} is not a valid file name", \
            "remove NUL bytes and invalid characters from the path", "E-IMPORT-INVALID-PATH"
    if len(text) > MAX_IMPORT_PATH_CHARS:
        return None, f"import path is {len(text)} characters long (the limit is " \
                     f"{MAX_IMPORT_PATH_CHARS})", "use a shorter path (with --import-path DIR)", \
            "E-IMPORT-PATH-TOO-LONG"
    candidates = [folder / text] if Path(text).is_absolute() else \
        [folder / text, *(root / text for root in roots[1:])]
    looked: list[str] = []
    for candidate in candidates:
        try:
            path = candidate.resolve()
            exists = path.exists()
        except (OSError, RuntimeError) as e:  # too long a name, a symbolic link loop
            reason = e.strerror if isinstance(e, OSError) and e.strerror else "a symbolic link loop"
            return None, f"cannot import {shown}: {reason}", \
                "check the path: each folder and file name at most 255 bytes, no link that leads " \
                "back to itself", "E-IMPORT-UNRESOLVABLE"
        if not exists:
            looked.append(str(path.parent))
            continue
        if not any(_within(path, root) for root in roots):
            return None, f"import {shown} reads '{path}', outside the spec's folder " \
                         f"'{roots[0]}' and the import search path", hint_path, "E-IMPORT-OUTSIDE-PATH"
        if path.is_dir():
            return None, f"import {shown} names a directory, not a spec file", \
                "name a .arch or .yaml file in it", "E-IMPORT-NOT-A-FILE"
        if not path.is_file():
            return None, f"import {shown} is not a regular file (a FIFO, socket or device)", \
                "import a .arch or .yaml file", "E-IMPORT-NOT-A-FILE"
        return path, "", None, ""
    return None, f"imported file {shown} does not exist (looked in {', '.join(dict.fromkeys(looked))})", \
        "check the path (relative to the importing file); " + hint_path, "E-IMPORT-NOT-FOUND"


def is_library(spec: A.Spec) -> bool:
    """A file of blocks only (no inputs, body or outputs): imported by models, not a model."""
    return bool(spec.blocks) and not (spec.inputs or spec.body or spec.outputs or spec.params)


def check_library(spec: A.Spec, file: str) -> list[str]:
    """Validate a block library as far as it can be without a model: its imports, block names
    and parameters. Returns the names of the blocks it defines (imports included)."""
    elaborator = Elaborator(spec, file)
    elaborator._load_blocks(spec, file, set())
    elaborator.diag.raise_if_any()
    return list(elaborator.blocks)


def elaborate(spec: A.Spec, file: str, overrides: dict[str, Any] | None = None, *,
              strict: bool = False, warnings: list[SpecError] | None = None, trace: bool = False) -> Graph:
    """Build the graph IR of a spec, or raise SpecErrors with every independent problem.
    Warnings (valid but suspicious layers) are appended to `warnings`; with `strict` they are
    errors. With `trace`, numbers and names carry their provenance (archc.provenance) and
    `graph.structural` lists the model parameters that decide its structure: the code
    generator's elaboration."""
    elaborator = Elaborator(spec, file, overrides, strict, trace)
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
        elaborator.diag.raise_if_any()
        raise
    except RecursionError:  # outside any one statement's evaluation (e.g. a deep block chain)
        raise SpecErrors([SpecError(f"{spec.name or 'the spec'} is nested too deeply to elaborate", None,
                                    "split long expressions into several statements",
                                    code="E-LIMIT-NESTING")]) from None
    if warnings is not None:
        warnings.extend(sorted(elaborator.diag.warnings,
                               key=lambda w: (w.loc.file, w.loc.line, w.loc.col) if w.loc else ("", 0, 0)))
    return graph
