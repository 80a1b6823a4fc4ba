"""Hover text (Markdown): what the summary table says about the thing under the cursor.

    a tensor name        its output shape (symbolic sizes kept); for a model-level statement
                         also what the statement adds: layers, parameters, MACs, receptive field
    a layer call         each layer it made (one per block instance): type, output shape,
                         parameters, MACs, receptive field; on the op's name also its reference
                         entry, rendered from the op definition as docs/ops.md renders it
    a block instance     its output shape, parameters, MACs and receptive field, per instance
    a block, a param     its signature or value; per instance, the values it took
    a keyword            the op attribute (type, default, meaning) or the block parameter

Numbers are written as `archc summary` writes them (parameters with thousands separators, MACs
with K/M/G or by their leading term when symbolic).
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

from archc import ast as A
from archc.language import BUILTINS, LAYER_OPTIONS, SPECIAL_FORMS
from archc.lsp.analysis import canonical
from archc.lsp.index import MODEL, CallSite, DocumentIndex, Statement, Symbol
from archc.lsp.text import Span

MAX_INSTANCES = 8  # instances listed in a hover; the rest are counted

@dataclass
class Hover:
    markdown: str
    span: Span | None = None


class ModelView:
    """Lookups into a model's graph by source position and by spec name (built once per model)."""

    def __init__(self, model: Any):
        self.model = model
        self.graph = model.graph

    @cached_property
    def nodes_at(self) -> dict[tuple, list]:
        out: dict[tuple, list] = {}
        for node in self.graph.layers():
            if node.loc is not None and not node.is_input:
                out.setdefault(_key(node.loc), []).append(node)
        return out

    @cached_property
    def scopes_at(self) -> dict[tuple, list]:
        out: dict[tuple, list] = {}
        for scope in self.graph.scopes.values():
            if scope.loc is not None:
                out.setdefault(_key(scope.loc), []).append(scope)
        return out

    @cached_property
    def model_tensors(self) -> dict[str, str]:
        """Model-level spec names -> node id."""
        out: dict[str, str] = {}
        for node in self.graph.layers():
            for name, scope in zip(node.tensor_names, node.tensor_scopes):
                if scope == ():
                    out.setdefault(name, node.id)
        for name, node_id in self.graph.inputs.items():
            out.setdefault(name, node_id)
        for name, node_id in self.graph.outputs.items():
            out.setdefault(name, node_id)
        return out

    @cached_property
    def block_tensors(self) -> dict[tuple[str, str], list[tuple[str, str]]]:
        """(block, name) -> [(instance path, node id)] for tensors named inside block bodies."""
        out: dict[tuple[str, str], list[tuple[str, str]]] = {}
        for node in self.graph.layers():
            for name, scope in zip(node.tensor_names, node.tensor_scopes):
                s = self.graph.scopes.get(scope)
                if s is not None and s.kind == "block":
                    out.setdefault((s.type_name, name), []).append((s.id, node.id))
        for s in self.graph.scopes.values():
            if s.kind == "block":
                for name, node_id in zip(s.input_names, s.inputs):
                    out.setdefault((s.type_name, name), []).append((s.id, node_id))
        return out

    def instances(self, block: str) -> list:
        return [s for s in self.graph.scopes.values() if s.kind == "block" and s.type_name == block]

    def node(self, node_id: str):
        return self.graph.node(node_id)

    def layer_stats(self, node_ids: list[str]) -> dict[str, Any]:
        from archc import symbolic as sy
        metrics = self.model.metrics
        params = 0
        macs: Any = 0
        for i in node_ids:
            m = metrics.layers[i]
            params += m.param_count
            if not self.node(i).training_only:
                macs = sy.add(macs, m.macs)
        return {"layers": sum(1 for i in node_ids if not self.node(i).is_input), "params": params, "macs": macs}

    def field_text(self, node_id: str) -> str:
        m = self.model.metrics.layers.get(node_id)
        if m is None or m.field is None:
            return "-"
        return f"{m.field.text()} (jump {m.field.jump_text()})"

    def statement_nodes(self, outs: list[str], reads: list[str]) -> list[str]:
        """The layers a statement adds: what its results depend on, less what its inputs do."""
        from archc.ir.digraph import ancestors
        g = self.graph.dag
        mine = ancestors(g, outs) - ancestors(g, reads)
        return [n for n in g.nodes if n in mine]  # graph (topological) order


_VIEWS: list[tuple[Any, ModelView]] = []  # the views of the last few models (their lookups, built once)


def view_of(model: Any) -> ModelView:
    for m, view in _VIEWS:
        if m is model:
            return view
    view = ModelView(model)
    _VIEWS.insert(0, (model, view))
    del _VIEWS[8:]
    return view


def _key(loc: A.Loc) -> tuple:
    return (canonical(loc.file), loc.line, loc.col)


def fmt_shape(shape: Any) -> str:
    from archc.ops.base import fmt_shape as fmt
    return fmt(shape)


def fmt_params(n: int) -> str:
    return f"{n:,}"


def fmt_macs(n: Any) -> str:
    from archc.backends.report import leading_text
    return leading_text(n)


# ----------------------------------------------------------------------------- entry point


def hover(project: Any, doc: Any, line: int, col: int) -> Hover | None:
    index = project.current_index(doc)
    if index is None or index.text != doc.text:
        return None
    model, owner = project.model_for(doc)
    view = view_of(model) if model is not None else None
    result = _hover(project, index, view, line, col)
    if result is not None and owner is not None and owner is not doc:
        result.markdown += f"\n\n---\n\n_shapes as in the model {_display(owner.path)}_"
    return result


def _hover(project: Any, index: DocumentIndex, view: ModelView | None, line: int, col: int) -> Hover | None:
    call = index.call_at(line, col, on_name=True)
    if call is not None:
        return Hover(call_hover(project, index, view, call, with_reference=True), call.func_span)
    kw = index.keyword_at(line, col)
    if kw is not None:
        text = keyword_hover(project, index, kw.site, kw.keyword.name)
        if text:
            return Hover(text, kw.span)
    occ = index.occurrence_at(line, col)
    if occ is not None:
        sym = project.resolve(index, occ)
        if sym is not None:
            return Hover(symbol_hover(project, index, view, sym), occ.span)
    site = index.import_at(line, col)
    if site is not None:
        target = project.resolve_import(index, site)
        blocks = project.index_for(target).blocks if target and project.index_for(target) else {}
        text = f"`import \"{site.node.path}\"`\n\n" + (f"{target}\n\nblocks: " + ", ".join(f"`{b}`" for b in blocks)
                                                      if target else "the file does not exist")
        return Hover(text, site.span)
    call = index.call_at(line, col)
    if call is not None:
        return Hover(call_hover(project, index, view, call, with_reference=False), call.extent)
    return None


# ----------------------------------------------------------------------------- calls


def call_hover(project: Any, index: DocumentIndex, view: ModelView | None, site: CallSite,
               with_reference: bool) -> str:
    from archc.ops import REGISTRY
    func = site.call.func
    target = _callee(project, index, site)
    op = REGISTRY.get(target) if isinstance(target, str) else None
    parts: list[str] = []
    if view is not None and site.call.loc is not None:
        key = _key(site.call.loc)
        scopes = view.scopes_at.get(key, [])
        nodes = view.nodes_at.get(key, [])
        if scopes:
            parts.append(_scopes_text(view, scopes))
        elif nodes:
            parts.append(_nodes_text(view, nodes))
        elif isinstance(target, Symbol) or func in ("repeat", "sequential"):
            stmt = _statement_result(index, view, site)
            if stmt:
                parts.append(stmt)
    elif view is None:
        parts.append("_shapes appear when the spec checks without errors_")
    if isinstance(target, Symbol):
        parts.append(block_signature(project, target))
    elif op is not None and with_reference:
        from archc.backends.docs import render_op
        parts.append("\n".join(render_op(op)).strip())
    elif op is not None:
        parts.append(f"`{op.name}`: {op.doc.strip().splitlines()[0] if op.doc else ''}")
    elif func in SPECIAL_FORMS:
        parts.append(f"`{SPECIAL_FORMS[func].signature}`: {SPECIAL_FORMS[func].doc}")
    elif func in BUILTINS:
        parts.append(f"`{BUILTINS[func].signature}`: {BUILTINS[func].doc}")
    return "\n\n---\n\n".join(p for p in parts if p)


def _callee(project: Any, index: DocumentIndex, site: CallSite) -> Any:
    """What a call calls: a block's Symbol, an op's name, or the name itself."""
    from archc.ops import REGISTRY
    func = site.call.func
    local = index.symbol(("local", index.file, site.scope, func))
    if local is None and func in project.visible_blocks(index):
        return project.visible_blocks(index)[func]
    if local is None and REGISTRY.get(func) is not None:
        return func
    return func


def _nodes_text(view: ModelView, nodes: list) -> str:
    lines = []
    for node in nodes[:MAX_INSTANCES]:
        m = view.model.metrics.layers[node.id]
        label = node.op.label(node.attrs)
        kind = node.op.title + (f" {label}" if label else "")
        lines.append(f"`{node.id}` · {kind} → `{fmt_shape(node.shape)}`  \n"
                     f"params {fmt_params(m.param_count)} · MACs {fmt_macs(m.macs)} · "
                     f"receptive field {view.field_text(node.id)}" +
                     (" · frozen" if node.frozen else "") + (" · training only" if node.training_only else ""))
    more = len(nodes) - MAX_INSTANCES
    if more > 0:
        lines.append(f"… and {more} more")
    return "\n\n".join(lines)


def _scopes_text(view: ModelView, scopes: list) -> str:
    metrics = view.model.metrics
    lines = []
    for scope in scopes[:MAX_INSTANCES]:
        totals = metrics.scope_totals(view.graph, scope)
        shapes = ", ".join(f"`{fmt_shape(view.node(o).shape)}`" for o in scope.outputs)
        kind = scope.type_name + (f" ×{scope.args['count']}" if scope.kind == "repeat" else "")
        last = scope.outputs[0] if scope.outputs else None
        lines.append(f"`{scope.id}` · {kind} → {shapes}  \n"
                     f"params {fmt_params(totals.params)} · MACs {fmt_macs(totals.macs)} · "
                     f"receptive field {view.field_text(last) if last else '-'}")
    more = len(scopes) - MAX_INSTANCES
    if more > 0:
        lines.append(f"… and {more} more instances")
    return "\n\n".join(lines)


def _statement_result(index: DocumentIndex, view: ModelView, site: CallSite) -> str:
    """For a call that makes no module of its own (an inline block): the statement's result,
    when the call is what the statement ends with."""
    st = site.statement
    if st.scope is not MODEL or st.kind not in ("assign", "output"):
        return ""
    value = st.node.value
    last = value.target if isinstance(value, A.Pipe) else value
    if last is not site.call:
        return ""
    return statement_text(index, view, st)


def statement_text(index: DocumentIndex, view: ModelView, st: Statement, shapes: bool = True) -> str:
    outs = [view.model_tensors[n] for n, _ in st.targets if n in view.model_tensors]
    if not outs:
        return ""
    reads = []
    for occ in index.occurrences:
        if not occ.is_def and occ.scope is MODEL and occ.span.within(st.extent) and occ.key[0] == "local":
            node_id = view.model_tensors.get(occ.name)
            if node_id is not None and node_id not in outs:
                reads.append(node_id)
    nodes = view.statement_nodes(outs, reads)
    stats = view.layer_stats(nodes)
    text = ", ".join(f"`{n}: {fmt_shape(view.node(view.model_tensors[n]).shape)}`"
                     for n, _ in st.targets if n in view.model_tensors)
    layers = stats["layers"]
    return (f"{text}  \n" if shapes else "") + (f"this statement: {layers} layer{'s' if layers != 1 else ''} · params "
            f"{fmt_params(stats['params'])} · MACs {fmt_macs(stats['macs'])} · receptive field "
            f"{view.field_text(outs[-1])}")


# ----------------------------------------------------------------------------- symbols


def symbol_hover(project: Any, index: DocumentIndex, view: ModelView | None, sym: Symbol) -> str:
    if sym.kind == "block":
        text = block_signature(project, sym)
        if view is not None:
            instances = view.instances(sym.name)
            if instances:
                text += f"\n\n---\n\n{len(instances)} instance{'s' if len(instances) != 1 else ''} " \
                        f"in this model:\n\n" + _scopes_text(view, instances)
        return text
    home = project.index_for(sym.file) or index
    if sym.scope is MODEL:
        if sym.kind == "param":
            value = view.graph.hyperparams.get(sym.name) if view is not None else None
            default = f" = {_expr_text(sym.node.default)}" if sym.node.default is not None else ""
            return f"```archc\nparam {sym.name}{default}\n```" + \
                (f"\n\nvalue: `{_value_text(value)}`" if view is not None and sym.name in view.graph.hyperparams else "")
        kind = {"input": "input", "output": "output", "tensor": "tensor"}[sym.kind]
        if view is None:
            return f"{kind} `{sym.name}`\n\n_shapes appear when the spec checks without errors_"
        node_id = view.model_tensors.get(sym.name)
        if node_id is None and view.graph.partial:
            return f"{kind} `{sym.name}`\n\n_no shape: this statement, or one it reads, has an error_"
        if node_id is None:
            return f"{kind} `{sym.name}`: a value, not a tensor"
        node = view.node(node_id)
        head = f"```archc\n{sym.name}: {fmt_shape(node.shape)}\n```\n{kind}"
        if node.is_input:
            return head
        st = next((s for s in home.statements if s.kind in ("assign", "output") and
                   any(n == sym.name for n, _ in s.targets) and s.scope is MODEL), None)
        label = node.op.label(node.attrs)
        head += f", the output of `{node.id}` ({node.op.title}{' ' + label if label else ''})"
        if st is not None:
            head += "\n\n" + statement_text(home, view, st, shapes=False)
        return head
    # inside a block
    block = sym.scope
    if sym.kind == "block_param":
        default = f" = {_expr_text(sym.node.default)}" if sym.node.default is not None else ""
        text = f"```archc\n{sym.name}{default}\n```\nparameter of block `{block}`" + \
            ("" if default else " (required)")
        if view is not None:
            values = [(s.id, s.args.get(sym.name)) for s in view.instances(block) if sym.name in s.args]
            if values:
                text += "\n\n" + _per_instance([(p, f"`{_value_text(v)}`") for p, v in values])
        return text
    what = "input" if sym.kind == "block_input" else "tensor"
    text = f"{what} `{sym.name}` of block `{block}`"
    if view is None:
        return text + "\n\n_shapes appear when the spec checks without errors_"
    found = block_tensor_nodes(view, home, block, sym.name)
    if not found:
        return text + ("\n\n_not computed in this model_" if view.instances(block) else
                       "\n\n_no instance of this block in this model (inline instances are not listed)_")
    shapes = {fmt_shape(view.node(n).shape) for _, n in found}
    if len(shapes) == 1:
        return f"```archc\n{sym.name}: {shapes.pop()}\n```\n{text}, in {len(found)} instance" + \
            ("s" if len(found) != 1 else "")
    return text + "\n\n" + _per_instance([(p, f"`{fmt_shape(view.node(n).shape)}`") for p, n in found])


def block_tensor_nodes(view: ModelView, home: DocumentIndex, block: str, name: str) -> list[tuple[str, str]]:
    """[(instance path, node id)] of the tensor `name` of `block`, in every instance."""
    return view.block_tensors.get((block, name), []) or _inline_tensors(view, home, block, name)


def _inline_tensors(view: ModelView, home: DocumentIndex, block: str, name: str) -> list[tuple[str, str]]:
    """Tensors a block names in its inline instances, whose names count as the caller's: layers
    bound to `name` in a scope that is no instance of another block (nor the model's own name)."""
    model_names = _model_level_names(view)
    out = []
    for node in view.graph.layers():
        for n, scope in zip(node.tensor_names, node.tensor_scopes):
            if n != name:
                continue
            owner = view.graph.scopes.get(scope)
            if owner is not None and owner.kind == "block" and owner.type_name != block:
                continue
            if scope == () and name in model_names:
                continue
            out.append((".".join(scope) or "(model)", node.id))
    return out


def _model_level_names(view: ModelView) -> set[str]:
    """The names the model's own statements bind (not those of its inline blocks)."""
    try:
        spec = view.model.spec
    except AttributeError:
        return set()
    names = {p.name for p in spec.inputs} | {o.name for o in spec.outputs}
    for stmt in spec.body:
        names.update(stmt.targets)
    return names


def _per_instance(rows: list[tuple[str, str]]) -> str:
    lines = [f"- `{path}`: {value}" for path, value in rows[:MAX_INSTANCES]]
    if len(rows) > MAX_INSTANCES:
        lines.append(f"- … and {len(rows) - MAX_INSTANCES} more")
    return "\n".join(lines)


def block_signature(project: Any, sym: Symbol) -> str:
    block: A.BlockDef = sym.node
    params = ", ".join(p.name if p.default is None else f"{p.name} = {_expr_text(p.default)}" for p in block.params)
    inputs = ", ".join(block.inputs)
    where = f"{_display(sym.file)}:{sym.span.line + 1}"
    doc = _doc_comment(block)
    return f"```archc\nblock {block.name}({params})({inputs})\n```\n" + (f"{doc}\n\n" if doc else "") + \
        f"defined in {where}"


def _doc_comment(node: Any) -> str:
    comments = getattr(node, "comments", None)
    if comments is None or not comments.before:
        return ""
    texts = []
    for c in comments.before:
        if not c:
            texts = []  # a blank line: only the paragraph right above counts
            continue
        texts.append(c.lstrip("#").strip())
    return " ".join(texts)


def _display(path: str) -> str:
    import os
    try:
        rel = os.path.relpath(path)
        return rel if not rel.startswith("..") else path
    except ValueError:
        return path


def keyword_hover(project: Any, index: DocumentIndex, site: CallSite, name: str) -> str:
    from archc.ops import REGISTRY
    if name in LAYER_OPTIONS:
        return f"`{name}=`: {LAYER_OPTIONS[name].doc}"
    target = _callee(project, index, site)
    if isinstance(target, Symbol):
        for p in target.node.params:
            if p.name == name:
                default = f" = {_expr_text(p.default)}" if p.default is not None else ""
                return f"```archc\n{name}{default}\n```\nparameter of block `{target.name}`" + \
                    ("" if default else " (required)")
        return ""
    op = REGISTRY.get(target) if isinstance(target, str) else None
    if op is None:
        return ""
    for a in op.attrs:
        if a.name == name:
            default = "required" if a.required else f"default `{_default_text(a.default)}`"
            return f"`{op.name}` attribute `{a.name}`: {a.type.label}, {default}\n\n{a.doc}"
    return ""


def _default_text(value: Any) -> str:
    """As docs/ops.md writes a default."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return "none" if value is None else str(value)


def _expr_text(e: Any) -> str:
    from archc.frontend.printer import expr_to_dsl
    try:
        return expr_to_dsl(e)
    except Exception:  # noqa: BLE001 - a display nicety only
        return "…"


def _value_text(v: Any) -> str:
    from archc import symbolic as sy
    if isinstance(v, bool):
        return "true" if v else "false"
    if v is None:
        return "none"
    if isinstance(v, sy.Expr):
        return sy.to_str(v)
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_value_text(x) for x in v) + "]"
    return str(v)
