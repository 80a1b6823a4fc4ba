"""Summaries of an inferred model: a Keras-like table (text, markdown) or JSON.

Rows follow the block hierarchy: a block, repeat or sequential is one row with its totals,
followed by its children, indented; `depth` collapses everything nested deeper.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Iterator

from archc import symbolic as sy
from archc.ops.base import fmt_shape

if TYPE_CHECKING:
    from archc.ir.graph import Graph, LayerNode, Scope
    from archc.model import Model

FORMATS = ("text", "json", "markdown")


@dataclass
class Row:
    level: int
    id: str
    type: str
    shape: str
    params: int
    macs: sy.Dim
    field: str
    jump: str
    is_scope: bool


def items_in(graph: "Graph", path: tuple[str, ...]) -> list[Any]:
    """The direct children of a scope, layers and sub-scopes, in graph order."""
    out: list[Any] = []
    seen: set[tuple[str, ...]] = set()
    for node in graph.layers():
        if node.scope == path:
            out.append(node)
        elif node.scope[:len(path)] == path and len(node.scope) > len(path):
            sub = node.scope[:len(path) + 1]
            if sub not in seen and sub in graph.scopes:
                seen.add(sub)
                out.append(graph.scopes[sub])
    return out


def rows(model: "Model", depth: int | None = None) -> Iterator[Row]:
    graph, metrics = model.graph, model.metrics

    def walk(path: tuple[str, ...], level: int) -> Iterator[Row]:
        for item in items_in(graph, path):
            if hasattr(item, "op"):  # a layer
                node: LayerNode = item
                m = metrics.layers[node.id]
                if node.is_input:
                    kind = "Input"
                else:
                    label = node.op.label(node.attrs)
                    kind = node.op.title + (f" {label}" if label else "") + (" (frozen)" if node.frozen else "")
                yield Row(level, node.id, kind, fmt_shape(node.shape), m.param_count, m.macs,
                          m.field.text() if m.field else "-", m.field.jump_text() if m.field else "-", False)
            else:
                scope: Scope = item
                totals = metrics.scope_totals(graph, scope)
                out_shapes = ", ".join(fmt_shape(graph.node(o).shape) for o in scope.outputs)
                kind = scope.type_name + (f" ×{scope.args['count']}" if scope.kind == "repeat" else "")
                if totals.frozen and totals.frozen == totals.params:
                    kind += " (frozen)"
                last = graph.node(scope.outputs[0]) if scope.outputs else None
                m = metrics.layers[last.id] if last else None
                yield Row(level, scope.id, kind, out_shapes, totals.params, totals.macs,
                          m.field.text() if m and m.field else "-",
                          m.field.jump_text() if m and m.field else "-", True)
                if depth is None or level < depth:
                    yield from walk(scope.path, level + 1)

    yield from walk((), 0)


def human(n: sy.Dim, unit: str = "") -> str:
    if not isinstance(n, int):
        return sy.to_str(n)
    for factor, suffix in ((10**12, "T"), (10**9, "G"), (10**6, "M"), (10**3, "K")):
        if abs(n) >= factor:
            return f"{n / factor:.2f} {suffix}{unit}"
    return f"{n} {unit}".rstrip()


def human_bytes(n: sy.Dim) -> str:
    if not isinstance(n, int):
        return f"{sy.to_str(n)} bytes"
    for factor, suffix in ((2**30, "GiB"), (2**20, "MiB"), (2**10, "KiB")):
        if n >= factor:
            return f"{n / factor:.2f} {suffix}"
    return f"{n} bytes"


def footer(model: "Model") -> list[tuple[str, str]]:
    t = model.metrics.totals
    lines = [("Total params", f"{t.params:,} ({human_bytes(t.params * 4)})"),
             ("Trainable params", f"{t.trainable:,}"),
             ("Frozen params", f"{t.frozen:,}")]
    if t.buffers:
        lines.append(("Buffers (running statistics)", f"{t.buffers:,}"))
    lines.append(("MACs per sample", human(t.macs) if isinstance(t.macs, int) else sy.to_str(t.macs)))
    lines.append(("Activation memory per sample (float32)", human_bytes(t.activation_bytes)))
    for name, node_id in model.graph.inputs.items():
        lines.append((f"Input {name}", fmt_shape(model.graph.node(node_id).shape)))
    for name, node_id in model.graph.outputs.items():
        training = " (training)" if name in model.graph.training_outputs else ""
        lines.append((f"Output {name}{training}", fmt_shape(model.graph.node(node_id).shape)))
    constraints = model.constraints
    if constraints:
        lines.append(("Input size constraints", ", ".join(constraints)))
    if model.graph.training_outputs:
        lines.append(("Training outputs", ", ".join(model.graph.training_outputs) +
                      " (computed only in training; MACs and memory above are inference's)"))
        if model.training_constraints != constraints:
            lines.append(("Input size constraints in training", ", ".join(model.training_constraints)))
    return lines


HEADERS = ("Layer", "Type", "Output shape", "Params", "MACs", "RF", "Jump")


def _cells(row: Row, indent: str) -> list[str]:
    return [indent * row.level + row.id, row.type, row.shape, f"{row.params:,}",
            human(row.macs) if isinstance(row.macs, int) else sy.to_str(row.macs), row.field, row.jump]


def render_text(model: "Model", depth: int | None) -> str:
    table = [list(HEADERS)] + [_cells(r, "  ") for r in rows(model, depth)]
    widths = [max(len(r[c]) for r in table) for c in range(len(HEADERS))]
    right = {3, 4, 5, 6}

    def line(cells: list[str]) -> str:
        return "  ".join(c.rjust(w) if i in right else c.ljust(w)
                         for i, (c, w) in enumerate(zip(cells, widths))).rstrip()

    rule = "─" * (sum(widths) + 2 * (len(widths) - 1))
    out = [f'Model: "{model.name}"', rule, line(table[0]), rule]
    out += [line(r) for r in table[1:]]
    out.append(rule)
    label_width = max(len(k) for k, _ in footer(model))
    out += [f"{k + ':':<{label_width + 1}} {v}" for k, v in footer(model)]
    return "\n".join(out) + "\n"


def render_markdown(model: "Model", depth: int | None) -> str:
    def esc(s: str) -> str:
        return s.replace("|", "\\|")

    out = [f"### {esc(model.name)}", "", "| " + " | ".join(HEADERS) + " |",
           "|" + "|".join(["---", "---", "---", "---:", "---:", "---:", "---:"]) + "|"]
    for r in rows(model, depth):
        cells = _cells(r, "")
        cells[0] = "&nbsp;&nbsp;" * r.level + f"`{cells[0]}`"
        out.append("| " + " | ".join(esc(c) if i else c for i, c in enumerate(cells)) + " |")
    out.append("")
    out += [f"- **{esc(k)}:** {esc(v)}" for k, v in footer(model)]
    return "\n".join(out) + "\n"


def _dim(d: sy.Dim) -> Any:
    return d if isinstance(d, int) else sy.to_str(d)


def to_data(model: "Model") -> dict:
    graph, metrics = model.graph, model.metrics
    layers = []
    for node in graph.layers():
        m = metrics.layers[node.id]
        layers.append({
            "id": node.id, "op": node.op_name, "scope": ".".join(node.scope),
            "attrs": {k: _jsonable(v) for k, v in node.attrs.items()},
            "inputs": node.inputs, "tensor_names": node.tensor_names,
            "output_shape": [_dim(d) for d in node.shape],
            "params": m.param_count, "trainable": m.trainable, "frozen": m.frozen,
            "buffers": m.buffer_count,
            "param_shapes": {k: [_dim(d) for d in v] for k, v in m.params.items()},
            "macs": _dim(m.macs), "activation_bytes": _dim(m.activation_bytes),
            "receptive_field": None if m.field is None else
            ("global" if m.field.size is None else [_jsonable(x) for x in m.field.size]),
            "jump": None if m.field is None else [_jsonable(x) for x in m.field.jump],
            "line": node.loc.line if node.loc else None,
            **({"training_only": True} if node.training_only else {}),
            # a layer written in an imported block library names that file
            **({"file": node.loc.file} if node.loc and node.loc.file != graph.source_file else {}),
        })
    scopes = [{"id": s.id, "kind": s.kind, "type": s.type_name,
               "args": {k: _jsonable(v) for k, v in s.args.items()},
               "outputs": s.outputs, "params": metrics.scope_totals(graph, s).params}
              for s in graph.scopes.values()]
    t = metrics.totals
    return {
        "model": model.name, "spec": graph.source_file,
        "params": {k: _jsonable(v) for k, v in graph.params.items()},
        "inputs": {k: [_dim(d) for d in graph.node(v).shape] for k, v in graph.inputs.items()},
        "outputs": {k: [_dim(d) for d in graph.node(v).shape] for k, v in graph.outputs.items()},
        "totals": {"params": t.params, "trainable": t.trainable, "frozen": t.frozen,
                   "buffers": t.buffers, "macs_per_sample": _dim(t.macs),
                   "activation_bytes_per_sample": _dim(t.activation_bytes)},
        "constraints": model.constraints,
        "training_outputs": model.graph.training_outputs,
        "training_constraints": model.training_constraints,
        "by_op": [{"op": r.op, "family": r.family, "layers": r.layers, "params": r.params,
                   "macs": _dim(r.macs)} for r in model.by_op()],
        "conv_linear_macs": _dim(model.conv_linear_macs),
        "layers": layers, "scopes": scopes,
    }


def _jsonable(v: Any) -> Any:
    if isinstance(v, (list, tuple)):
        return [_jsonable(x) for x in v]
    if isinstance(v, sy.Expr):
        return sy.to_str(v)
    if hasattr(v, "numerator") and not isinstance(v, (int, bool)):
        return float(v)
    return v


def op_table(model: "Model") -> tuple[list[str], list[list[str]], list[str]]:
    """The per-op breakdown: headers, one row per op type, and the conv + linear subtotal row."""
    rows = model.by_op()
    total = model.metrics.totals.macs
    body = []
    for r in rows:
        share = f"{100 * r.macs / total:.1f}%" if isinstance(r.macs, int) and isinstance(total, int) and total else ""
        body.append([r.op, f"{r.layers:,}", f"{r.params:,}", _macs_text(r.macs), share])
    quoted = [x for x in rows if x.family in ("conv", "linear")]
    subtotal = ["conv + linear (as torchvision, fvcore, papers)", f"{sum(x.layers for x in quoted):,}",
                f"{sum(x.params for x in quoted):,}", _macs_text(model.conv_linear_macs), ""]
    return ["Op", "Layers", "Params", "MACs", "Share"], body, subtotal


def _macs_text(macs: sy.Dim) -> str:
    return human(macs) if isinstance(macs, int) else sy.to_str(macs)


def render_by_op_text(model: "Model") -> str:
    headers, body, subtotal = op_table(model)
    table = [headers, *body, subtotal]
    widths = [max(len(r[c]) for r in table) for c in range(len(headers))]

    def line(cells: list[str]) -> str:
        return "  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths))).rstrip()

    rule = "─" * (sum(widths) + 2 * (len(widths) - 1))
    return "\n".join([f'By op: "{model.name}"', rule, line(headers), rule, *map(line, body), rule,
                      line(subtotal)]) + "\n"


def render_by_op_markdown(model: "Model") -> str:
    headers, body, subtotal = op_table(model)
    out = ["| " + " | ".join(headers) + " |", "|---|---:|---:|---:|---:|"]
    out += ["| " + " | ".join(r) + " |" for r in body]
    out.append("| **" + subtotal[0] + "** | " + " | ".join(subtotal[1:]) + " |")
    return "\n".join(out) + "\n"


def render(model: "Model", format: str = "text", depth: int | None = None, by_op: bool = False) -> str:
    if format == "json":
        return json.dumps(to_data(model), indent=2) + "\n"
    if format == "markdown":
        return render_markdown(model, depth) + ("\n" + render_by_op_markdown(model) if by_op else "")
    if format == "text":
        return render_text(model, depth) + ("\n" + render_by_op_text(model) if by_op else "")
    raise ValueError(f"unknown format {format!r}; choose one of {', '.join(FORMATS)}")
