"""Weight sharing: `tower = shared(Tower(64))` is one module that every application calls
(Keras' shared layers; a siamese network's tower, a detection head on every pyramid level).

The first application builds the module as any layer; each later one is built aside as
`tower@2`, `tower@3`, … (so shapes, MACs and diagrams see every application), checked to need
exactly the first one's weights, and marked `shares` (LayerNode.shares, Scope.shares): the
analyses count its parameters once, the code generator calls the first one's module.
"""
from __future__ import annotations

from typing import Any

from archc import ast as A
from archc.errors import Related
from archc.ir.evaluate import Evaluator
from archc.ir.values import Env, Partial, Shared, Tensor, describe


class Sharing(Evaluator):
    """A mixin of archc.ir.calls.Calls: the `shared` special form and its applications."""

    def _apply_partial(self, p: Partial, inputs: list[Tensor], loc: A.Loc | None,
                       forced_name: str | None = None) -> Any:
        raise NotImplementedError  # the call layer (archc.ir.calls)

    def _bare_layer(self, value: Any, expr: A.Expr) -> Any:
        raise NotImplementedError  # the call layer (archc.ir.calls)

    def _shared(self, call: A.Call, env: Env, piped: list[Tensor]) -> Shared:
        """`shared(Tower(64))`: a layer every application of which calls one module."""
        example = ("name it, then apply the name: `tower = shared(Tower(64))`, `a = x1 -> tower`, `b = x2 -> tower` "
                   "(YAML: `tower: {shared: [{Tower: 64}]}`)")
        if piped or len(call.args) != 1 or call.kwargs:
            self.fail("shared(...) takes one layer, without an input" if not piped else
                      "shared(...) makes a layer to apply several times; piping into it applies it once",
                      call.loc, example, code="E-SHARE-NOT-A-LAYER")
        layer = self._bare_layer(self.eval(call.args[0], env), call.args[0])
        if not isinstance(layer, Partial) or "inline" in layer.meta:
            self.fail(f"shared(...) takes a layer, block or sequential (not inline), got {describe(layer)}",
                      call.args[0].loc, example, code="E-SHARE-NOT-A-LAYER")
        return Shared(layer, self.builder.scope_path, call.loc)

    def _shared_elsewhere(self, shared: Shared, where: str, loc: A.Loc | None) -> None:
        self.reporter.fail(f"a shared layer cannot be part of a {where}: the {where} is a module of its own, "
                           "whose forward cannot call its caller's modules", loc,
                           "apply the shared layer in the body that makes it, before or after the " + where,
                           code="E-SHARE-SCOPE", related=[Related(shared.loc, "made here")] if shared.loc else [])

    def _call_shared(self, shared: Shared, call: A.Call, env: Env, piped: list[Tensor]) -> Any:
        """`x -> tower`, `tower(x)`, `[a, b] -> tower`: an application; the bare name is the
        shared layer itself."""
        args = [self.eval(a, env) for a in call.args]
        if call.kwargs or any(not isinstance(a, Tensor) for a in args):
            self.fail(f"'{call.func}' is a shared layer; it takes input tensors only", call.loc,
                      f"give arguments where it is made: {call.func} = shared({shared.layer})",
                      code="E-CALL-ARGUMENT-COUNT")
        inputs = piped + args
        return self._apply_shared(shared, inputs, call.loc) if inputs else shared

    def _apply_shared(self, shared: Shared, inputs: list[Tensor], loc: A.Loc | None) -> Any:
        here = self.builder.scope_path
        if here != shared.scope:
            where = lambda path: f"'{'.'.join(path)}'" if path else "the model"
            self.reporter.fail(f"a shared layer is applied where it is made: {where(shared.scope)}, not inside {where(here)}",
                      loc, "apply it in the body that makes it (a block, repeat or sequential is a module of "
                      "its own, whose forward cannot call its caller's modules)", code="E-SHARE-SCOPE",
                      related=[Related(shared.loc, "made here")] if shared.loc else [])
        layer = shared.layer
        if shared.owner is not None:  # a later application: built aside, then made a call of the owner
            name = f"{shared.owner.rsplit('.', 1)[-1]}@{shared.uses + 1}"
            layer = Partial(layer.kind, layer.target, layer.args, layer.kwargs, layer.loc,
                            {**layer.meta, "name": name}, layer.kw_locs, layer.origin, layer.origin_args,
                            layer.origin_kwargs)
        start, scopes_start = len(self.builder.created), len(self.builder.scope_log)
        result = self._apply_partial(layer, inputs, loc)
        prefix = ".".join(here) + "." if here else ""
        tops = {n[len(prefix):].split(".", 1)[0] for n in self.builder.created_since(start)}
        if len(tops) != 1:
            self.fail(f"shared {layer} makes {len(tops)} modules, not one", loc,
                      "share one layer, block or sequential", code="E-SHARE-NOT-A-LAYER")
        top = prefix + tops.pop()
        weights = self._weights_under(top, start)
        shared.uses += 1
        if shared.owner is None:
            shared.owner, shared.weights = top, weights
            return result
        if weights != shared.weights:
            self._weights_differ(shared, weights, inputs, loc)
        for node_id in self.builder.created_since(start):
            self.builder.layer(node_id).shares = shared.owner + node_id[len(top):]
        for path in self.builder.scope_log[scopes_start:]:
            if path in self.builder.scopes:
                self.builder.scopes[path].shares = tuple(shared.owner.split(".")) + path[len(here) + 1:]
        return result

    def _weights_under(self, top: str, start: int) -> dict[str, tuple]:
        out = {}
        for node_id in self.builder.created_since(start):
            node = self.builder.layer(node_id)
            shapes = [self.builder.layer(i).shape for i in node.inputs]
            out[node_id[len(top):]] = (node.op.name, node.op.parameters(node.attrs, shapes),
                                       node.op.buffers(node.attrs, shapes))
        return out

    def _weights_differ(self, shared: Shared, weights: dict, inputs: list[Tensor], loc: A.Loc | None) -> None:
        first = shared.weights
        detail = "its layers differ"
        for rel in list(first) + [r for r in weights if r not in first]:
            if first.get(rel) != weights.get(rel):
                where = (shared.owner + rel).rsplit(".", 1)[-1] if rel else shared.owner
                if rel in first and rel in weights and first[rel][0] == weights[rel][0]:
                    theirs = ", ".join(f"{k} {list(v)}" for k, v in {**first[rel][1], **first[rel][2]}.items())
                    ours = ", ".join(f"{k} {list(v)}" for k, v in {**weights[rel][1], **weights[rel][2]}.items())
                    detail = f"'{where}' would need {ours}; the first application made {theirs}"
                else:
                    detail = f"'{where}' differs in structure"
                break
        self.reporter.fail(f"shared '{shared.owner}' applied to {', '.join(describe(t) for t in inputs)} needs other "
                  f"weights: {detail}", loc, "every application of a shared layer must take inputs with the "
                  "sizes its weights depend on (the channels)", code="E-SHARE-MISMATCH",
                  related=[Related(shared.loc, "made here")] if shared.loc else [])
