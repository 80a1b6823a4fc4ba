"""Document symbols (the outline: blocks with their params, inputs and tensors; the model's
params, inputs, tensors and outputs) and inlay hints (each statement's output shape, so that a
spec reads like the summary table)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from archc.lsp.index import MODEL, DocumentIndex
from archc.lsp.text import Span


@dataclass
class OutlineSymbol:
    name: str
    kind: str  # block, param, input, tensor, output, model
    detail: str
    range: Span
    selection: Span
    children: list[OutlineSymbol] = field(default_factory=list)


def document_symbols(index: DocumentIndex, model: Any = None) -> list[OutlineSymbol]:
    from archc.lsp.hover import fmt_shape, view_of
    view = view_of(model) if model is not None else None

    def shape_of(name: str) -> str:
        if view is None:
            return ""
        node_id = view.model_tensors.get(name)
        return fmt_shape(view.node(node_id).shape) if node_id is not None else ""

    out: list[OutlineSymbol] = []
    for sym in index.symbols:
        if sym.scope is not MODEL:
            continue
        if sym.kind == "block":
            block = sym.node
            children = []
            for member in index.symbols:
                if member.scope == sym.name:
                    kind = {"block_param": "param", "block_input": "input"}.get(member.kind, member.kind)
                    children.append(OutlineSymbol(member.name, kind, kind, member.extent, member.span))
            detail = f"({', '.join(p.name for p in block.params)})({', '.join(block.inputs)})"
            out.append(OutlineSymbol(sym.name, "block", detail, sym.extent, sym.span, children))
        elif sym.kind == "param":
            value = view.graph.hyperparams.get(sym.name) if view is not None else None
            out.append(OutlineSymbol(sym.name, "param", f"= {value}" if value is not None else "param",
                                     sym.extent, sym.span))
        else:
            shape = shape_of(sym.name)
            out.append(OutlineSymbol(sym.name, sym.kind, shape or sym.kind, sym.extent, sym.span))
    out.sort(key=lambda s: (s.range.line, s.range.col))
    return out


@dataclass
class InlayHint:
    line: int
    col: int
    label: str
    tooltip: str = ""
    padding_left: bool = False


def inlay_hints(index: DocumentIndex, model: Any, start: int = 0, end: int | None = None) -> list[InlayHint]:
    """One hint per tensor a statement names: after the name in the DSL (`h: [N, 64, 56, 56]`,
    read as a type), at the end of the statement's line in YAML. A block's statements get the
    shapes of its instances (`[N, 64, 56, 56] | [N, 128, 28, 28] | … (4 shapes)`)."""
    from archc.lsp.hover import block_tensor_nodes, fmt_shape, view_of
    if model is None:
        return []
    view = view_of(model)
    out: list[InlayHint] = []
    for st in index.statements:
        if st.kind not in ("assign", "output", "return"):
            continue
        if st.extent.end_line < start or (end is not None and st.extent.line > end):
            continue
        if st.kind == "return":
            shapes = [[view.node(o).shape for o in s.outputs] for s in view.instances(st.scope)]
            texts = _distinct(", ".join(fmt_shape(x) for x in shapes_) for shapes_ in shapes)
            if texts:
                line = st.extent.end_line
                out.append(InlayHint(line, len(index.lines[line]), "→ " + _join(texts),
                                     f"returns, per instance of {st.scope}", True))
            continue
        for name, span in st.targets:
            if st.scope is MODEL:
                node_id = view.model_tensors.get(name)
                texts = [fmt_shape(view.node(node_id).shape)] if node_id is not None else []
            else:
                found = block_tensor_nodes(view, index, st.scope, name)
                texts = _distinct(fmt_shape(view.node(n).shape) for _, n in found)
            if not texts:
                continue
            if index.language == "yaml":  # a key is followed by its value: hint after it
                label = f"→ {_join(texts)}" if len(st.targets) == 1 else f"{name}: {_join(texts)}"
                line = st.extent.end_line
                out.append(InlayHint(line, len(index.lines[line]), label, name, True))
            else:
                out.append(InlayHint(span.end_line, span.end_col, f": {_join(texts)}", name))
    return out


def _distinct(texts: Any) -> list[str]:
    out: list[str] = []
    for t in texts:
        if t not in out:
            out.append(t)
    return out


def _join(texts: list[str]) -> str:
    if len(texts) <= 2:
        return " | ".join(texts)
    return f"{texts[0]} | {texts[1]} | … ({len(texts)} shapes)"
