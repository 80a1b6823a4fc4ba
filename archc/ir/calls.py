"""Calls: an op, a block, a `sequential` or a `repeat` applied to input tensors, and the layers
and scopes they add (through the graph builder, archc.ir.builder).

`Calls` is the middle layer of the elaborator, between the expression evaluator
(archc.ir.evaluate), whose `_call`/`_apply_op` it provides, and the statements
(archc.ir.elaborate), whose `_run_body` evaluates a block instance's body. A block instance
alike an earlier one is that one's layers replayed (archc.ir.instances).
"""
from __future__ import annotations

import ast as py_ast
import contextlib
import math
from collections.abc import Sequence
from typing import Any

from archc import ast as A
from archc import provenance as pv
from archc import symbolic as sy
from archc.errors import Related, did_you_mean, did_you_mean_fixes, replacement
from archc.ir import instances, patterns
from archc.ir.arguments import keyword_only
from archc.ir.builder import snake
from archc.ir.graph import LayerNode, Scope
from archc.ir.lints import check_suspicious
from archc.ir.numbers import strip
from archc.ir.repeats import META_KWARGS, OPTIONS_TEXT, Repeats
from archc.ir.values import (MAX_INT_BITS, POISON, Abort, Env, Partial, ShapeContext, Shared, Tensor, TWord, describe,
                              python_name, traced_builtin, traced_layer)
from archc.language import BUILTINS, INITIALIZERS, MAX_RANGE, SPECIAL_FORMS, ArgumentTypeError, TooLong
from archc.ops import REGISTRY
from archc.ops.base import VARIADIC, AttrError, Op, Shape, ShapeError, Syntax, Word

_NO_CONTEXT = contextlib.nullcontext()


class Calls(Repeats):
    """Applies ops, blocks, sequentials and repeats; state shared with the statement layer
    (archc.ir.elaborate.Elaborator) is declared here."""

    blocks: dict[str, A.BlockDef]
    failed_imports: list[str]  # imports that could not be read (for hints)
    ctx: ShapeContext
    templates: dict[tuple, Any]  # block instances, for reuse (archc.ir.instances)
    sized_templates: dict[tuple, Any]  # the same by instances.sized_alike_key: sizes may differ
    repeat_copy_depth: int  # instance depth of a block instance that is a repeat's later copy
    max_repeat: int
    # traced elaboration: the current body's named numbers and parameter names, and the inline
    # repeat copy being built (where, loop variable, index, count, block depth), with the enclosing ones
    local_defs: dict[str, Any]
    local_params: set[str]
    loop: tuple | None
    loops: list[tuple | None]

    def _run_body(self, body: list[A.Assign], env: Env, results: list[A.Expr], input_names: list[str],
                  where: str, result_names: list[str] = (), own_scope: bool = False) -> list[Any]:
        raise NotImplementedError  # the statement layer (archc.ir.elaborate)

    def _callables(self) -> list[str]:
        return list(REGISTRY.names()) + list(self.blocks) + list(BUILTINS) + list(SPECIAL_FORMS)

    def _unknown_callable_hint(self, func: str) -> str:
        known = self._callables()
        if self.failed_imports and not did_you_mean(func, known):
            return f"it may be a block of {' or '.join(self.failed_imports)}, whose import failed (see above)"
        return did_you_mean(func, known) or "see `archc ops` for the list of ops"

    def _unknown_keyword(self, owner: str, key: str, names: Sequence[str], what: str,
                         loc: A.Loc | None, op: Op | None = None) -> None:
        """`conv2d has no attribute 'strid'`, `block Stem has no parameter 'widht'`; PyTorch's name
        of an attribute (`scale_factor`) is answered with archc's (`scale`)."""
        ours = op.torch_spelling(key) if op is not None else None
        if ours is not None:
            self.error(f"{owner} has no attribute '{key}': archc calls it {ours} (PyTorch's {key})", loc,
                       f"write {ours}=", code="E-CALL-UNKNOWN-KEYWORD",
                       fixes=replacement(loc, key, ours, f"rename {key}= to {ours}="))
            return
        self.error(f"{owner} has no {what} '{key}'", loc,
                   did_you_mean(key, names) or
                   (f"its {what}s are: {', '.join(names)}" if names else f"it takes no {what}s"),
                   code="E-CALL-UNKNOWN-KEYWORD", fixes=did_you_mean_fixes(key, loc, names, what))

    def _checks(self) -> Any:
        """Around an op's own rules: their comparisons are checks, not structural decisions
        (traced elaboration only; otherwise a shared no-op)."""
        return pv.checks_only() if self.trace else _NO_CONTEXT

    def _checked(self, rule: Any, *args: Any) -> Any:
        """`rule(*args)`, an op's own rule, under `_checks()` (entered only when tracing: a layer
        asks three rules)."""
        if not self.trace:
            return rule(*args)
        with pv.checks_only():
            return rule(*args)

    # ------------------------------------------------------------------ calls
    def _call(self, call: A.Call, env: Env, piped: list[Tensor]) -> Any:
        self._visible_env = env
        func = call.func
        found, bound = env.lookup(func)
        origin = None  # traced: the block parameter the op came in through
        given: Partial | None = None  # a layer given some arguments already: unit(128, stride=2)
        if found:  # (an op or block's own name is mostly not bound)
            if bound is POISON:
                raise Abort()  # its statement failed, and said so
            if isinstance(bound, Shared):
                return self._call_shared(bound, call, env, piped)
            if isinstance(bound, Partial):
                if not call.args and not call.kwargs:
                    return self._apply_partial(bound, piped, call.loc) if piped else bound
                given = bound
            elif isinstance(bound, str) and (bound in self.blocks or bound in REGISTRY):
                func = str(bound)  # a parameter naming a block or op: `unit(64)` with unit = BasicBlock
                origin = bound.expr if isinstance(bound, TWord) and func in REGISTRY else None
            elif not self._callable_name(func):
                written = getattr(bound, "loc", None) if isinstance(bound, Word) else None
                self.reporter.fail(f"'{func}' is {describe(bound)}, not an op or block", call.loc,
                                   code="E-CALL-NOT-CALLABLE",
                                   related=[Related(written, f"'{bound}' is written here")] if written else None)
        # otherwise a value that shares an op's name (`param dropout = 0.5`) leaves the op callable
        if func == "repeat":
            return self._repeat(call, env, piped)
        if func == "shared" and func not in self.blocks:
            return self._shared(call, env, piped)
        if func in BUILTINS and func not in self.blocks:
            if piped:
                op = REGISTRY.tensor_form_of(func)
                layer = op.name if op is not None else None
                self.fail(f"'{func}' is a function on numbers, not a layer", call.loc,
                          f"for |x| of a tensor write x -> {layer}" if layer else
                          f"use its value as a layer's argument, e.g. conv2d({func}(...), 3)",
                          code="E-CALL-NOT-A-LAYER",
                          fixes=replacement(call.loc, func, layer, f"use the op {layer}") if layer else [])
            args = [self.eval(a, env) for a in call.args]
            kwargs = {k.name: self.eval(k.value, env) for k in call.kwargs}
            for a, expr in zip(args, call.args):
                if not BUILTINS[func].on_values:
                    self._need_number(a, expr, func)
                elif isinstance(a, Word):
                    self._need_number(a, expr, func)  # reports the unknown name
            try:
                if self.trace:
                    result = traced_builtin(func, args, kwargs)
                elif self.recorder is not None:
                    result = self.recorder.builtin(BUILTINS[func].function, args, kwargs)
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
                shown = exc.message.format(describe(exc.value)) if isinstance(exc, ArgumentTypeError) else exc
                self.fail(f"{func}(): {shown}", call.loc,
                          f"check the arguments of {func}() (built-in functions: docs/language.md)",
                          code="E-CALL-BUILTIN-ARGUMENTS")
            if isinstance(result, int) and result.bit_length() > MAX_INT_BITS:
                self._too_large(call)
            if isinstance(result, float) and not math.isfinite(result):  # sum([1e308, 1e308])
                self.fail(f"{func}(): the result is too large for a number (over 1.8e308)", call.loc,
                          "check the arguments; sizes and rates are far smaller",
                          code="E-VALUE-FLOAT-OVERFLOW")
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
        # an op's first argument a list of tensors: its inputs (concat([a, b]) as [a, b] -> concat);
        # a block may take a list of tensors as a parameter, so only ops
        if (not piped and args and _tensor_list(args[0]) and given is None and func not in self.blocks
                and REGISTRY.get(func) is not None):
            args = [*args[0], *args[1:]]
        tensors: list[Tensor] = []
        attr_args = args
        if args and type(args[0]) is Tensor:
            tensors = [a for a in args if isinstance(a, Tensor)]
            attr_args = args[len(tensors):]
            if args[:len(tensors)] != tensors:
                self._tensors_first(func, call)
        if any(isinstance(a, Tensor) for a in attr_args):
            self._tensors_first(func, call)
        inputs = piped + tensors
        meta = {k: kwargs.pop(k) for k in META_KWARGS if k in kwargs} if kwargs else {}
        kw_locs = {kw.name: kw.loc for kw in call.kwargs if kw.name in kwargs} if kwargs else {}
        if given is None and inputs and origin is None and func not in self.blocks and func != "sequential":
            op = REGISTRY.get(func)
            if op is not None:  # the common call, `h -> conv2d(64, 3)`: applied without a Partial between
                return self._apply_op(op, inputs, attr_args, kwargs, call.loc, meta, kw_locs=kw_locs,
                                      arg_locs=tuple(a.loc for a in call.args[len(tensors):]))
        if given is not None:
            partial = self._extend(given, attr_args, kwargs, meta, call)
        elif func == "sequential":
            # a bare op or block name is that layer with its defaults: sequential(conv2d(8, 3), gelu)
            attr_args = [self._bare_layer(a, expr) for a, expr in zip(attr_args, call.args[len(tensors):])]
            for a, expr in zip(attr_args, call.args[len(tensors):]):
                if isinstance(a, Shared):
                    self._shared_elsewhere(a, "sequential", expr.loc)
                if not isinstance(a, Partial):
                    self.fail(f"sequential takes layers such as conv2d(64, 3), got {describe(a)}", expr.loc,
                              code="E-CALL-NOT-A-LAYER")
            if kwargs:
                self.fail(f"sequential takes no attribute '{next(iter(kwargs))}'", call.loc,
                          f"sequential takes layers and the options {OPTIONS_TEXT}",
                          code="E-CALL-UNKNOWN-KEYWORD")
            partial = Partial("sequential", attr_args, [], {}, call.loc, meta)
        elif func in self.blocks:
            partial = Partial("block", self.blocks[func], attr_args, kwargs, call.loc, meta, kw_locs)
        else:
            op = REGISTRY.get(func)
            if op is None:
                self.fail(f"unknown op or block '{func}'", call.loc, self._unknown_callable_hint(func),
                          code="E-CALL-UNKNOWN-OP", fixes=did_you_mean_fixes(func, call.loc, self._callables()))
            partial = Partial("op", op, attr_args, kwargs, call.loc, meta, kw_locs, origin=origin,
                              arg_locs=tuple(a.loc for a in call.args[len(tensors):]))
        if not inputs and not (partial.kind == "op" and partial.target.inputs == 0):
            return partial
        return self._apply_partial(partial, inputs, call.loc)

    def _tensors_first(self, func: str, call: A.Call) -> None:
        self.fail("tensor arguments must come before attributes", call.loc,
                  f"e.g. {func}(x, y, ...) or x -> {func}(...)", code="E-CALL-ARGUMENT-ORDER")

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
                       given.origin, given.origin_args, given.origin_kwargs,
                       (*given.arg_locs, *(None for _ in given.args[len(given.arg_locs):]),
                        *(a.loc for a in call.args)))

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
            self.fail(f"name={name.id} is ambiguous: '{name.id}' is also a value here ({describe(value)})",
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
                                  origin=p if p.origin is not None else None, arg_locs=p.arg_locs)
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
                  kw_locs: dict[str, A.Loc | None] | None = None, origin: Partial | None = None,
                  arg_locs: tuple = ()) -> Any:
        if self.trace:  # ops take plain true/false (a traced one is an int)
            args = [pv.plain(a) if isinstance(a, pv.TBool) else a for a in args]
            kwargs = {k: pv.plain(v) if isinstance(v, pv.TBool) else v for k, v in kwargs.items()}
        n = len(inputs)
        if n != op.inputs:
            if op.inputs == VARIADIC and n < 2:
                self.fail(f"{op.name} needs two or more input tensors, got {n}", loc,
                          f"e.g. {op.name}(a, b) or [a, b] -> {op.name}", code="E-CALL-INPUT-COUNT")
            if op.inputs != VARIADIC:
                what = "one input tensor" if op.inputs == 1 else f"{op.inputs} input tensors"
                self.fail(f"{op.name} takes {what}, got {n}", loc,
                          f"e.g. x -> {op.name}(...)" if op.inputs == 1 else None, code="E-CALL-INPUT-COUNT")
        shapes = [t.shape for t in inputs]
        if None in shapes:
            raise Abort()
        if kwargs and not _attribute_set(op).issuperset(kwargs):
            names = _attribute_names(op)
            unknown = [key for key in kwargs if key not in names and op.attribute_for(key) is None]
            for key in unknown:  # every one, each where it is written
                self._unknown_keyword(op.name, key, names, "attribute", (kw_locs or {}).get(key) or loc, op)
            if unknown:
                raise Abort()
            # `softmax(axis=1)`: the synonym of dim
            spelled = [(key, op.attribute_for(key)) for key in kwargs]
            twice = [name for _, name in spelled if [n for _, n in spelled].count(name) > 1]
            if twice:
                self.fail(f"{op.name}: attribute '{twice[0]}' given twice (as "
                          f"{' and '.join(k + '=' for k, n in spelled if n == twice[0])})", loc,
                          "give it once", code="E-CALL-ARGUMENT-TWICE")
            kwargs = {name: kwargs[key] for key, name in spelled}
        if self.recorder is not None:  # the op binds plain values; the pattern computes them again
            recorded = (args, kwargs)
            args, kwargs = strip(args), strip(kwargs)
        ndim = op.ndim or (max(0, len(shapes[0]) - 2) if shapes else 0)
        if op.positional is not None and len(args) > op.positional:
            keyword_only(self.reporter, op, args, shapes, arg_locs, loc)
        try:
            attrs = op.bind(args, kwargs, ndim) if not self.trace else self._checked(op.bind, args, kwargs, ndim)
        except AttrError as first:
            for exc in (first, *first.also):
                visible = self._visible_env.names() if self._visible_env and exc.unknown_name else ()
                self.error(f"{op.name} at line {loc.line if loc else '?'}: {exc.message}", loc, exc.hint,
                           code=exc.code, fixes=did_you_mean_fixes(exc.unknown_name, loc, visible) if visible else [])
            raise Abort() from None
        if meta:  # (most layers: none, or name= only)
            self._no_inline(meta, f"the layer {op.name}", loc)
            self._init_applies(op, meta, loc)
        if op.pieces_op:
            return self._apply_pieces(op, attrs, inputs[0], loc, meta)
        frozen, init, bias_init = self._meta(meta, loc) if meta else (False, None, None)
        node_id = self.builder.unique_name(meta.get("name"), loc, explicit="name" in meta,
                                           default=default_name or op.name)
        if self.recorder is not None:
            self.recorder.layer(node_id, *recorded)
        try:
            shape = op.output_shape(attrs, shapes, self.ctx) if not self.trace else \
                self._checked(op.output_shape, attrs, shapes, self.ctx)
        except ShapeError as exc:
            self.error(f"{op.name} at line {loc.line if loc else '?'}: {exc.message}", loc, exc.hint,
                       code=exc.code)
            shape = None
        node = LayerNode(node_id, op, attrs, [t.node for t in inputs], shape, loc,
                         tuple(node_id.split("."))[:-1], frozen, init, bias_init)  # in a container if dotted
        if self.trace:
            node.traced_inputs = tuple(shapes)
            if origin is not None:  # the attributes the parameter brought, by name
                names = [at.name for at in op.attrs]
                node.factory = (origin.origin, tuple(names[:origin.origin_args]) + origin.origin_kwargs)
        self.builder.add_node(node)
        if shape is None:
            raise Abort()
        if not self.trace:
            check_suspicious(node, kwargs, shapes, self.builder, self.reporter)
        else:
            self._checked(check_suspicious, node, kwargs, shapes, self.builder, self.reporter)
        return Tensor(node_id, shape)

    def _apply_pieces(self, op: Op, attrs: Any, tensor: Tensor, loc: A.Loc | None,
                      meta: dict[str, Any]) -> tuple[Tensor, ...]:
        """chunk / split: one `slice` node per piece, named after the op (or `name`)."""
        count = getattr(attrs, "chunks", None)
        if count is None:
            count = len(getattr(attrs, "sizes", None) or ())
        room = self.builder.max_layers - len(self.builder.created)
        if count > room:  # before building any piece: chunk(10 ** 6) would build them all first
            self.fail(f"{op.name} into {count:,} parts: the model has more than "
                      f"{self.builder.max_layers:,} layers", loc,
                      "check the number of parts; to build that many anyway, raise the limit with the "
                      "environment variable ARCHC_MAX_LAYERS", code="E-LIMIT-LAYERS")
        self.shape_reads += 1  # the pieces' bounds are the tensor's sizes
        if self.recorder is not None:  # (bounds a pattern does not compute)
            self.recorder.broken = True
        try:
            with self._checks():
                pieces = op.pieces(attrs, tensor.shape, self.ctx)
        except ShapeError as exc:
            self.fail(f"{op.name} at line {loc.line if loc else '?'}: {exc.message}", loc, exc.hint,
                      code=exc.code)
        named = "name" in meta
        base = str(meta.pop("name", op.name))
        return tuple(self._apply_op(REGISTRY.for_syntax(Syntax.INDEX), [tensor], [], dict(piece), loc,
                                    {**meta, "name": base if k == 0 else f"{base}_{k}"} if named else meta,
                                    default_name=op.name)
                     for k, piece in enumerate(pieces))

    def _no_inline(self, meta: dict[str, Any], what: str, loc: A.Loc | None) -> None:
        if "inline" in meta:
            self.fail(f"inline= applies to blocks, repeat and sequential; {what} has no container of its own "
                      "to dissolve", loc,
                      "remove inline=", code="E-CALL-INLINE-NOT-BLOCK")

    def _init_applies(self, op: Op, meta: dict[str, Any], loc: A.Loc | None) -> None:
        """init= / bias_init= on a layer whose op has no weights they set would be ignored: an error
        (on a block they set whatever inside has such weights)."""
        for key, target in (("init", op.init_weight), ("bias_init", op.init_bias)):
            if key in meta and target is None:
                self.fail(f"{key}= sets the initial {'bias' if key == 'bias_init' else 'weights'} of convolutions "
                          f"and linear layers; {op.name} has none", loc,
                          f"remove {key}={pv.plain(meta[key])} (on a block, {key}= applies to the layers inside "
                          "that have such weights)", code="E-CALL-INIT-NOT-APPLICABLE")

    def _flag(self, meta: dict[str, Any], key: str, loc: A.Loc | None) -> bool:
        """A true/false layer option (frozen=, inline=), false when not given."""
        value = pv.plain(meta.get(key, False))
        if not isinstance(value, bool):
            self.fail(f"{key} must be true or false, got {describe(value)}", loc, code="E-CALL-OPTION-TYPE")
        return value

    def _meta(self, meta: dict[str, Any], loc: A.Loc | None) -> tuple[bool, str | None, str | None]:
        if "frozen" not in meta and "init" not in meta and "bias_init" not in meta:
            return False, None, None  # most layers: name= at most
        frozen = self._flag(meta, "frozen", loc)
        inits = []
        for key in ("init", "bias_init"):
            value = meta.get(key)
            if value is not None and (not isinstance(value, str) or value not in INITIALIZERS):
                self.fail(f"{key}: unknown initializer {describe(value)}", loc,
                          did_you_mean(str(value), list(INITIALIZERS)) or f"initializers: {', '.join(INITIALIZERS)}",
                          code="E-CALL-UNKNOWN-INITIALIZER",
                          fixes=did_you_mean_fixes(str(value), loc, INITIALIZERS) if isinstance(value, str) else [])
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
        if len(values) == len(names) and list(values) == names:  # (every parameter given, in order)
            env.values = values
        else:  # the values given, in the parameters' order, and defaults (each sees the parameters before it)
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
        depth = len(self.reporter.instance_stack)
        if depth > self.deepest >= 0:
            self.deepest = depth
        if depth >= self.max_block_depth:
            self.fail(f"block recursion deeper than {self.max_block_depth:,} levels (block {block.name})", loc,
                      "a block that uses itself needs a base case that stops it, e.g. "
                      "`x if n == 0 else x -> Stage(n - 1)`; if it is meant to nest this deep, raise the "
                      "limit with the environment variable ARCHC_MAX_BLOCK_DEPTH", code="E-LIMIT-BLOCK-DEPTH")
        saved = self.builder.scope_path
        if inline:  # no submodule: the block's layers are named directly in the caller's scope
            self.builder.name_hint = None  # (no module for the statement's name)
            if "name" in meta:
                self.fail("an inline block has no name of its own", loc, "drop name= or inline=true",
                          code="E-CALL-INLINE-WITH-NAME")
            instance, path = block.name, saved
        else:
            instance = self.builder.unique_name(meta.get("name"), loc, explicit="name" in meta,
                                                default=snake(block.name))
            path = tuple(instance.split("."))
            self.builder.new_scope(Scope(path, "block", block.name, loc, dict(env.values) if self.recorder is None
                                         else self.recorder.scope(path, dict(env.values)),
                                         [t.node for t in inputs], input_names=list(block.inputs),
                                         input_shapes=[t.shape for t in inputs] if self.trace else [],
                                         name_value=meta.get("name") if self.trace else None,
                                         loop=self.loop if self.trace and self.loop is not None
                                         and self.loop[4] == len(self.reporter.instance_stack) else None,
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
        # an instance alike an earlier one but for its inputs' sizes (DenseNet's layers, each on more
        # channels): that one's layers, reshaped, when its body never read a size
        sized_key = instances.sized_alike_key(key) if key is not None and state is None or \
            state is instances.SEEN_ONCE else None
        sized_state = self.sized_templates.get(sized_key) if sized_key is not None else None
        if sized_key is not None and sized_state is None:
            self.sized_templates[sized_key] = instances.SEEN_ONCE
        # recorded: the second of a kind, or the first when it is a repeat's later copy (the next
        # copies are likely alike); most blocks are used once, and recording them would be lost work
        record = key is not None and (state is instances.SEEN_ONCE or sized_state is instances.SEEN_ONCE or (
            state is None and self.repeat_copy_depth == len(self.reporter.instance_stack)))
        self.repeat_copy_depth = -1
        # inside a recording (`composing`), its layers must be functions of the recorded numbers: a
        # recording grown past what a pattern is worth is dropped, and the rest is as without it
        outer = self.recorder
        if outer is not None and not outer.broken and \
                len(self.builder.created) - outer.first_node > patterns.MAX_RECORDED_LAYERS:
            outer.broken = True
        composing = outer is not None and not outer.broken
        # alike an earlier instance but for its numbers: a pattern of that kind, or recorded as one
        # (not asked where a template serves, for these sizes or reshaped: DenseNet's dense layers)
        kind = self._pattern_kind(block, env.values, inputs) if key is not None and (composing or not (
            isinstance(state, instances.Template) or isinstance(sized_state, instances.Template))) else None
        recorder = patterns.Recorder(path, inputs, len(self.builder.created)) \
            if kind is not None and kind.wants_recording() else None
        before = instances.Snapshot(self.builder, self, inputs) if record or recorder is not None else None
        caller_values = dict(env.values)
        if self.trace and not inline:  # inside, values are the block's own: `planes`, `in_channels`
            for p in block.params:
                value = env.values[p.name]
                env.values[p.name] = pv.deep(pv.plain(value), python_name(p.name), pv.roots_of(value),
                                             pv.forward_of(value), traced_layer)
            inputs_seen = [Tensor(t.node, _traced_shape(name, t.shape, len(inputs)))
                           for name, t in zip(block.inputs, inputs)]
        else:
            inputs_seen = inputs
        for name, tensor in zip(block.inputs, inputs_seen):
            env.values[name] = tensor
        saved_log = self.decision_log
        saved_locals, saved_params, saved_none = self.local_defs, self.local_params, self.none_params
        if self.trace and not inline:  # a block's body makes its own choices, names its own numbers
            self.decision_log = self.builder.scopes[path].decisions
            self.local_defs = self.builder.scopes[path].locals
            self.local_params = {p.name for p in block.params} | {
                _channels_name(name, len(inputs)) for name in block.inputs} | set(block.inputs)
            self.none_params = {p.name for p in block.params if env.values[p.name] is None}
            saved_loops, self.loops = self.loops, []
        else:
            saved_loops = self.loops
        self.builder.scope_path = path
        self.reporter.instance_stack.append((block.name, instance, loc))
        first_node = len(self.builder.created)
        try:
            made = None
            if composing:  # a pattern serving it is noted; else evaluated, or replayed (dropping the recording)
                made = self._instantiate(kind, caller_values, inputs, path, outer) if kind is not None else None
                if made is None and (isinstance(state, instances.Template)
                                     or isinstance(sized_state, instances.Template)):
                    outer.broken = True
                elif made is None:
                    state = sized_state = None
            if isinstance(state, instances.Template) and not state.usable():
                self.templates[key] = state = instances.NOT_REUSABLE
            if isinstance(sized_state, instances.Template) and not sized_state.usable():
                self.sized_templates[sized_key] = sized_state = instances.NOT_REUSABLE
            shapes = None
            if made is None and not isinstance(state, instances.Template) \
                    and isinstance(sized_state, instances.Template) and self._within_limits(sized_state):
                revision = self.assumptions.revision
                shapes = sized_state.reshaped(inputs, self.ctx)
                if shapes is not None and self.assumptions.revision == revision:  # (ints: none recorded)
                    state = sized_state
                else:
                    shapes = None
            if made is None and not composing and kind is not None and not (
                    isinstance(state, instances.Template) and self._within_limits(state)):
                made = self._instantiate(kind, caller_values, inputs, path)
            if made is not None:
                results = made
                return_exprs = [block.returns[min(k, len(block.returns) - 1)] for k in range(len(results))]
                if record:  # the next instance with these very numbers replays it (cheaper still)
                    self.templates[key] = instances.Template.record(self.builder, self, path, inputs, results,
                                                                    before) or instances.NOT_REUSABLE
            elif isinstance(state, instances.Template) and self._within_limits(state):
                results = state.replay(self.builder, self, path, inputs, shapes)
                return_exprs = [block.returns[min(k, len(block.returns) - 1)] for k in range(len(results))]
            else:
                if recorder is not None:
                    recorder.start(env.values, [p.name for p in block.params])
                    self.recorder = recorder
                try:
                    results = self._run_body(block.body, env, block.returns, input_names=list(block.inputs),
                                             where=f"block {block.name}", own_scope=not inline)
                finally:
                    if recorder is not None:
                        recorder.stop()
                        self.recorder = outer
                results, return_exprs = _spread(results, block.returns)
                recorded_apart = composing and recorder is not None  # (its layers not in the outer log)
                if recorder is not None and recorder.broken:
                    kind.unrecordable = True
                    recorder = None
                pattern = None
                if record or recorder is not None:
                    recorded = instances.Template.record(self.builder, self, path, inputs, results, before)
                    if record:
                        self.templates[key] = recorded or instances.NOT_REUSABLE
                        if sized_key is not None and not isinstance(sized_state, instances.Template):
                            self.sized_templates[sized_key] = recorded if recorded is not None \
                                and not recorded.reads_shapes else instances.NOT_REUSABLE
                    if recorder is not None and recorded is not None and recorded.usable():
                        pattern = recorder.pattern(recorded, strip(caller_values), inputs)
                        if pattern is not None:
                            kind.patterns.append(pattern)
                if recorded_apart:  # recorded in a recording of its own: the outer one computes
                    if pattern is not None:  # its layers with that pattern
                        outer.nested(path, pattern, caller_values, inputs)
                    else:
                        outer.broken = True
                if kind is not None and kind.size is None:
                    kind.size = len(self.builder.created) - first_node
        finally:
            if before is not None:
                before.close(self)
            self.builder.scope_path = saved
            self.reporter.instance_stack.pop()
            self.decision_log = saved_log
            self.local_defs, self.local_params, self.none_params = saved_locals, saved_params, saved_none
            self.loops = saved_loops
        if any(r is POISON for r in results):
            raise Abort()
        for r, expr in zip(results, return_exprs):
            if not isinstance(r, Tensor):
                self.fail(f"block {block.name} must return tensors, got {describe(r)}", expr.loc,
                          code="E-BLOCK-RETURN-NOT-TENSOR")
        if not inline and path in self.builder.scopes:  # (gone when a branch not taken held all its layers)
            self.builder.scopes[path].outputs = [r.node for r in results]
        self.builder.mark_since(first_node, frozen, init, bias_init)
        if self.trace and not inline:  # the results' sizes as the caller sees them
            names = {p.name: caller_values[p.name] for p in block.params}
            shapes = {}
            for name, t in zip(block.inputs, inputs):
                names[_channels_name(name, len(inputs))] = t.shape[1] if len(t.shape) > 1 else None
                shapes[name] = t.shape
            for local, definition in self.builder.scopes[path].locals.items():  # in definition order
                value = pv.substitute(pv.traced(0, definition), names, shapes)
                if pv.is_traced(value):  # else names reading it are no longer expressible
                    names[local] = value
            results = [Tensor(r.node, tuple(pv.substitute(d, names, shapes) for d in r.shape))
                       for r in results]
            self.builder.scopes[path].output_shapes = [r.shape for r in results]
        return results[0] if len(results) == 1 else tuple(results)

    def _apply_sequential(self, parts: list[Partial], inputs: list[Tensor], loc: A.Loc | None,
                          meta: dict[str, Any]) -> Any:
        self._check_inputs(inputs)
        saved = self.builder.scope_path
        if self._flag(meta, "inline", loc):  # no container: the children are numbered in the caller,
            self.builder.name_hint = None   # as a block that is itself an nn.Sequential names them
            if "name" in meta:
                self.fail("an inline sequential has no name of its own", loc, "drop name= or inline=true",
                          code="E-CALL-INLINE-WITH-NAME")
            path = saved
        else:
            instance = self.builder.unique_name(meta.get("name"), loc, explicit="name" in meta, default="sequential")
            path = tuple(instance.split("."))
            self.builder.new_scope(Scope(path, "sequential", "Sequential", loc, {}, [t.node for t in inputs]))
        first_node = len(self.builder.created)
        self.builder.scope_path = path
        try:
            value: Any = inputs
            for index, part in enumerate(parts):
                value = self._apply_partial(part, value if isinstance(value, list) else [value], loc,
                                            forced_name=str(index))
                if isinstance(value, tuple):
                    self.fail("a layer inside sequential must give one tensor", part.loc,
                              code="E-CALL-MULTIPLE-OUTPUTS")
        finally:
            self.builder.scope_path = saved
        if path != saved:
            self.builder.scopes[path].outputs = [value.node] if isinstance(value, Tensor) else []
        self.builder.mark_since(first_node, *self._meta(meta, loc))
        return value


    def _pattern_kind(self, block: A.BlockDef, values: dict[str, Any], inputs: list[Tensor]) -> patterns.Kind | None:
        """The pattern kind of a block instance (counted as met), or None when it has none."""
        key = patterns.kind_key(block, values, inputs)
        if key is None:
            return None
        kind = self.templates.get(key)
        if kind is None:
            kind = self.templates[key] = patterns.Kind()
        kind.seen += 1
        return kind

    def _instantiate(self, kind: patterns.Kind, values: dict[str, Any], inputs: list[Tensor],
                     path: tuple[str, ...], outer: patterns.Recorder | None = None) -> list[Tensor] | None:
        """The instance's layers from the first of its kind's patterns that serves its numbers
        (added to the graph), or None. Inside the recording `outer`, which notes the pattern."""
        for k, pattern in enumerate(kind.patterns):
            if not self._within_limits(pattern.template):
                return None
            made = pattern.instantiate(strip(values), inputs, self.ctx, self.builder)  # (plain in a recording)
            if made is not None:
                if k:  # the next instance is likeliest alike this one
                    kind.patterns.insert(0, kind.patterns.pop(k))
                if outer is not None:
                    outer.nested(path, pattern, values, inputs)
                return pattern.template.replay(self.builder, self, path, inputs, made.shapes, attrs=made.attrs,
                                               scope_args=made.scope_args)
        return None

    def _within_limits(self, template: instances.Template) -> bool:
        """Whether replaying stays under the layer, list and block depth limits (asked inside the
        instance); else it is evaluated, so that the limit is reported where evaluation reaches it."""
        return (len(self.builder.created) + template.size <= self.builder.max_layers
                and self.comprehended + template.comprehended <= MAX_RANGE * 10
                and len(self.reporter.instance_stack) - 1 + template.depth < self.max_block_depth)


_ATTRIBUTE_NAMES: dict[Op, list[str]] = {}
_ATTRIBUTE_SETS: dict[Op, frozenset[str]] = {}


def _attribute_set(op: Op) -> frozenset[str]:
    names = _ATTRIBUTE_SETS.get(op)
    if names is None:
        _attribute_names(op)
        names = _ATTRIBUTE_SETS[op]
    return names


def _attribute_names(op: Op) -> list[str]:
    """An op's attribute names, in order (found once per op: asked at every layer; as a set in
    _ATTRIBUTE_SETS)."""
    names = _ATTRIBUTE_NAMES.get(op)
    if names is None:
        names = _ATTRIBUTE_NAMES[op] = [at.name for at in op.attrs]
        _ATTRIBUTE_SETS[op] = frozenset(names)
    return names


def _channels_name(input_name: str, count: int) -> str:
    """The constructor argument for an input's channel count: in_channels, or x_channels when a
    block has several inputs."""
    return "in_channels" if count == 1 else f"{input_name}_channels"


def _traced_shape(input_name: str, shape: Shape, count: int) -> Shape:
    """An input's shape inside a block (traced elaboration): the channels are the argument
    `in_channels`; the other sizes are known only when the module runs (`x.shape[2]`)."""
    out = []
    for k, d in enumerate(shape):
        if not isinstance(d, int) or isinstance(d, bool):
            out.append(d)
        elif k == 1:
            out.append(pv.traced(pv.plain(d), python_name(_channels_name(input_name, count)), pv.roots_of(d),
                                 pv.forward_of(d)))
        else:
            size = py_ast.Subscript(py_ast.Attribute(python_name(input_name), "shape", py_ast.Load()),
                                    py_ast.Constant(k), py_ast.Load())
            out.append(pv.traced(pv.plain(d), size, pv.roots_of(d), True))
    return tuple(out)


def _spread(values: list[Any], exprs: list[A.Expr]) -> tuple[list[Any], list[A.Expr]]:
    """A block's results with those of a multi-result call spread in place (`return F(a, b)`
    where F returns two tensors returns those two), each with the expression it came from."""
    out_values: list[Any] = []
    out_exprs: list[A.Expr] = []
    for value, expr in zip(values, exprs):
        parts = list(value) if isinstance(value, tuple) and all(isinstance(t, Tensor) for t in value) else [value]
        out_values += parts
        out_exprs += [expr] * len(parts)
    return out_values, out_exprs


def _tensor_list(value: Any) -> bool:
    """A non-empty list of tensors given as a call's first argument: the call's inputs."""
    return isinstance(value, list) and bool(value) and all(isinstance(v, Tensor) for v in value)
