"""`repeat(n, body)`: n copies of a layer or block in a chain, as nn.Sequential numbers them, or
inline (the copies the caller's own children). A mixin of the elaborator's call layer
(archc.ir.calls.Calls), whose `_apply_partial`, `_flag`, `_meta`, `_check_inputs` and
`_layer_name` it uses."""
from __future__ import annotations

from typing import Any

from archc import ast as A
from archc import provenance as pv
from archc.errors import did_you_mean, did_you_mean_fixes
from archc.ir.builder import snake
from archc.ir.graph import Scope
from archc.ir.sharing import Sharing
from archc.ir.values import Abort, Env, Partial, Shared, Tensor, describe, python_name
from archc.language import LAYER_OPTIONS, REPEAT_OPTIONS

META_KWARGS = tuple(LAYER_OPTIONS)

# the layer options as messages list them (archc.language declares them)
OPTIONS_TEXT = ", ".join(f"{name}=" for name in LAYER_OPTIONS)


class Repeats(Sharing):
    """`repeat` calls (declared state: archc.ir.calls.Calls)."""

    max_repeat: int
    repeat_copy_depth: int
    loop: tuple | None
    loops: list[tuple | None]

    def _is_repeat(self, body: A.Expr, env: Env) -> bool:
        """Whether a repeat's body is itself a repeat call (not a parameter named `repeat`)."""
        if not isinstance(body, A.Call) or body.func != "repeat":
            return False
        found, bound = env.lookup("repeat")
        return not found or (isinstance(bound, str) and bound == "repeat")

    def _unknown_repeat_options(self, call: A.Call) -> bool:
        """Report each keyword of a repeat that is not a layer option; whether there was one."""
        options = (*META_KWARGS, *REPEAT_OPTIONS)
        unknown = [kw for kw in call.kwargs if kw.name not in options]
        for kw in unknown:
            self.error(f"repeat has no attribute '{kw.name}'", kw.loc,
                       did_you_mean(kw.name, options) or
                       f"repeat takes the options {OPTIONS_TEXT}, {', '.join(f'{o}=' for o in REPEAT_OPTIONS)}",
                       code="E-CALL-UNKNOWN-KEYWORD", fixes=did_you_mean_fixes(kw.name, kw.loc, options))
        return bool(unknown)

    def _repeat(self, call: A.Call, env: Env, piped: list[Tensor], forced_name: str | None = None) -> Any:
        """`repeat(n, body)`: n copies of `body` in a chain, named 0..n-1, with `i` bound to the
        copy's index while `body`'s arguments are evaluated. With inline=true there is no repeat
        module: the copies are the caller's children, named as the body names them
        (`name="block1-" + str(i)`), the loop that numbers torchvision's stages. A repeat whose
        body is a repeat nests as nn.Sequential does: `repeat(4, repeat(2, conv2d(8, 3)))` is copies
        0..3, each holding copies 0..1 (`forced_name`: the outer copy's index)."""
        if len(call.args) != 2:
            self.fail(f"repeat takes a count and a layer or block, e.g. repeat(3, BasicBlock(64)); got "
                      f"{len(call.args)} argument{'s' if len(call.args) != 1 else ''}", call.loc,
                      "give the count, then one layer: the copies' other options are name=, frozen=, "
                      "init=, inline=", code="E-CALL-ARGUMENT-COUNT")
        count = self.eval(call.args[0], env)
        pv.decide(count)
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            self.fail(f"repeat count must be an int ≥ 1, got {describe(count)}", call.args[0].loc,
                      code="E-CALL-REPEAT-COUNT")
        if count > self.max_repeat:
            self.fail(f"repeat count {count:,} is over the limit of {self.max_repeat:,} copies", call.args[0].loc,
                      "check the count; to build that many anyway, raise the limit with the environment "
                      "variable ARCHC_MAX_REPEAT", code="E-LIMIT-REPEAT")
        body = call.args[1]
        if self._unknown_repeat_options(call):
            raise Abort()
        meta: dict[str, Any] = {}
        input_as = None  # the name each copy's arguments call its own input
        for kw in call.kwargs:
            if kw.name == "input_as":
                if not isinstance(kw.value, A.Name) or kw.value.id == "i":
                    self.fail("input_as= takes a name for each copy's input, e.g. input_as=t", kw.value.loc,
                              "write a plain name other than i (the copy's index)", code="E-CALL-OPTION-TYPE")
                input_as = kw.value.id
                continue
            meta[kw.name] = self._layer_name(kw.value, env) \
                if kw.name == "name" and isinstance(kw.value, A.Name) else self.eval(kw.value, env)
        if forced_name is not None and "name" not in meta:
            meta["name"] = forced_name
        if not piped:
            self.fail("repeat needs an input: x -> repeat(n, ...)", call.loc,
                      "pipe a tensor into it, e.g. `y = x -> repeat(3, BasicBlock(64))`",
                      code="E-CALL-INPUT-COUNT")
        self._check_inputs(piped)
        inline = self._flag(meta, "inline", call.loc)
        if inline:
            self.builder.name_hint = None  # no module of its own: the copies name themselves
        meta.pop("inline", None)
        saved = self.builder.scope_path
        if inline:
            if "name" in meta:
                self.fail("an inline repeat has no name of its own", call.loc,
                          "name the copies in the body, e.g. repeat(n, Block(name=\"block\" + str(i)), "
                          "inline=true), or drop inline=true", code="E-CALL-INLINE-WITH-NAME")
            path = saved
        else:
            instance = self.builder.unique_name(meta.get("name"), call.loc, explicit="name" in meta, default="repeat")
            path = tuple(instance.split("."))
            args = {"count": count} if self.recorder is None else self.recorder.scope(path, {"count": count})
            self.builder.new_scope(Scope(path, "repeat", "Repeat", call.loc, args, [t.node for t in piped]))
        first_node = len(self.builder.created)
        self.builder.scope_path = path
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
                    index_value = pv.traced(index, python_name(loop_var))
                    self.loop = (call.loc, loop_var, index, count, len(self.reporter.instance_stack))
                    self.loops.append(self.loop)
                try:
                    inputs = value if isinstance(value, list) else [value]
                    copy_env = env.child(i=index_value)
                    if input_as is not None:  # this copy's own input, not the caller's tensor
                        copy_env.values[input_as] = inputs[0] if len(inputs) == 1 else list(inputs)
                    if self._is_repeat(body, env):  # repeat(4, repeat(2, ...)): each copy a repeat
                        self.repeat_copy_depth = len(self.reporter.instance_stack) if index else -1
                        value = self._repeat(body, copy_env, inputs, forced_name=None if inline else str(index))
                    else:
                        part = self.eval(body, copy_env)
                        if isinstance(part, Shared):
                            self._shared_elsewhere(part, "repeat", body.loc)
                        if not isinstance(part, Partial):
                            self.fail(f"repeat's body must be a layer or block, got {describe(part)}",
                                      body.loc, code="E-CALL-NOT-A-LAYER")
                        # a repeat's copies after the first are mostly alike: record the first of a kind
                        self.repeat_copy_depth = len(self.reporter.instance_stack) if index else -1
                        value = self._apply_partial(part, inputs, call.loc,
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
            self.builder.scope_path = saved
        if not inline:
            self.builder.scopes[path].outputs = [value.node]
        elif _named_by_default(body) and count > 1:
            default = snake(body.id if isinstance(body, A.Name) else body.func)  # type: ignore[union-attr]
            self.reporter.warn(
                f"the copies of this inline repeat take default names ({default}, {default}_1, ...), "
                "and their state_dict keys with them", body.loc,
                f"name the copies in the body, e.g. name=\"{default}\" + str(i), or drop inline=true "
                "for a container that numbers them 0, 1, ...", value.node, code="W-NAME-INLINE-REPEAT-DEFAULT")
        self.builder.mark_since(first_node, *self._meta(meta, call.loc))
        return value


def _named_by_default(body: A.Expr) -> bool:
    """Whether a repeat's copies take the default layer names: the body names none (name=) and is
    not itself inline (whose layers take the names its body gives them)."""
    if isinstance(body, A.Name):
        return True
    return isinstance(body, A.Call) and not any(kw.name in ("name", "inline") for kw in body.kwargs)
