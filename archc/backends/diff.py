"""`archc diff A B`: what changes between two models, two specs or one spec at two settings.

    archc diff specs/resnet50.arch --a num_classes=1000 --b num_classes=10
    archc diff specs/resnet18.arch specs/resnet34.arch

Layers are matched by their module path (`layer1.0.conv1`, the node id, which is the PyTorch
name): a path in B only is added, in A only removed; a path in both is changed when its op, its
attributes, its output shape or its parameter count differ. The per-block table folds layers
into their blocks down to `depth` and gives params, MACs, output shape and activation memory in
A and B. The weights section answers the fine-tuning question: which state_dict entries of A
load into B unchanged (same key, same shape; `Model.state_dict_shapes`), which change shape,
which exist on one side only.

It reads two `Model`s (graph, metrics, state_dict shapes) and imports no torch.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Iterator

from archc import symbolic as sy
from archc.ops.base import fmt_shape

if TYPE_CHECKING:
    from archc.ir.graph import LayerNode
    from archc.model import Model

FORMATS = ("text", "markdown", "json")


@dataclass
class LayerChange:
    id: str
    status: str  # "added", "removed", "changed"
    changes: dict[str, tuple[Any, Any]] = field(default_factory=dict)  # what -> (in A, in B) as text


@dataclass
class BlockRow:
    id: str
    type_a: str | None  # None: not in A (added)
    type_b: str | None
    params: tuple[int | None, int | None]
    macs: tuple[Any, Any]
    shape: tuple[str | None, str | None]
    activation_bytes: tuple[Any, Any]
    changed: bool


@dataclass
class WeightDiff:
    transfer: list[str]  # same key, same shape: loads into B unchanged
    reshaped: list[tuple[str, tuple[int, ...], tuple[int, ...]]]  # same key, another shape
    only_a: list[str]
    only_b: list[str]
    total_a: int
    total_b: int
    # keys that load (same key and shape) into a layer of another op: (key, op in A, op in B)
    retyped: list[tuple[str, str, str]] = field(default_factory=list)
    shapes_a: dict[str, tuple[int, ...]] = field(repr=False, default_factory=dict)
    shapes_b: dict[str, tuple[int, ...]] = field(repr=False, default_factory=dict)

    def modules(self) -> tuple[list[str], list[str]]:
        """Top-level modules whose tensors all transfer, and those with at least one that does not."""
        whole: dict[str, bool] = {}
        for key in self.shapes_a:
            whole.setdefault(_top(key), True)
        for key in [*(r[0] for r in self.reshaped), *self.only_a, *self.only_b]:
            whole[_top(key)] = False
        return [m for m, ok in whole.items() if ok], [m for m, ok in whole.items() if not ok]


@dataclass
class Diff:
    a: "Model"
    b: "Model"
    label_a: str
    label_b: str
    layers: list[LayerChange]
    blocks: list[BlockRow]
    weights: WeightDiff
    depth: int

    @property
    def added(self) -> list[LayerChange]:
        return [c for c in self.layers if c.status == "added"]

    @property
    def removed(self) -> list[LayerChange]:
        return [c for c in self.layers if c.status == "removed"]

    @property
    def changed(self) -> list[LayerChange]:
        return [c for c in self.layers if c.status == "changed"]

    def headline(self) -> str:
        """One sentence: what changed and what transfers."""
        w = self.weights
        kept, touched = w.modules()
        if not w.reshaped and not w.only_a and not w.only_b:
            same = f"all {w.total_a} state_dict tensors of A load into B (the same keys and shapes)"
            return f"{len(self.layers)} layers differ, no weights; {same}" if self.layers else \
                f"no layer differs; {same}"
        changed = _ranges(touched) if touched else "no weights"
        carried = f"{len(w.transfer)} of A's {w.total_a} state_dict tensors load into B unchanged"
        if kept:
            carried += f" ({_ranges(kept)} entirely)"
        if w.only_b:
            carried += f"; {len(w.only_b)} of B's are new"
        return f"{changed} changed; {carried}"


# ------------------------------------------------------------------------------------ comparing
def compare(a: "Model", b: "Model", label_a: str = "A", label_b: str = "B", depth: int = 0) -> Diff:
    """The difference of model `a` and model `b` (layers, blocks to `depth`, weights)."""
    layers_a = {n.id: n for n in a.graph.layers() if not n.is_input}
    layers_b = {n.id: n for n in b.graph.layers() if not n.is_input}
    changes: list[LayerChange] = []
    for node_id in _union(layers_a, layers_b):
        if node_id not in layers_b:
            changes.append(LayerChange(node_id, "removed"))
        elif node_id not in layers_a:
            changes.append(LayerChange(node_id, "added"))
        else:
            differences = _layer_differences(a, b, layers_a[node_id], layers_b[node_id])
            if differences:
                changes.append(LayerChange(node_id, "changed", differences))
    touched = {c.id for c in changes}
    blocks = list(_block_rows(a, b, depth, touched))
    return Diff(a, b, label_a, label_b, changes, blocks, _weights(a, b), depth)


def _union(first: dict[str, Any], second: dict[str, Any]) -> list[str]:
    """Keys of both, A's in order, then B's new ones each after its predecessor in B."""
    order = list(first)
    position = {k: i for i, k in enumerate(order)}
    inserted: list[tuple[float, int, str]] = []
    previous = -1.0
    for i, key in enumerate(second):
        if key in position:
            previous = position[key]
        else:
            inserted.append((previous + 0.5, i, key))
    merged = [(float(i), 0, k) for i, k in enumerate(order)] + inserted
    return [k for *_, k in sorted(merged)]


def _layer_type(node: "LayerNode") -> str:
    label = node.op.label(node.attrs)
    return node.op.title + (f" {label}" if label else "")


def _layer_differences(a: "Model", b: "Model", x: "LayerNode", y: "LayerNode") -> dict[str, tuple[Any, Any]]:
    out: dict[str, tuple[Any, Any]] = {}
    if x.op_name != y.op_name:
        out["op"] = (x.op.title, y.op.title)
    else:
        for name in dict.fromkeys([*x.attrs, *y.attrs]):
            va, vb = _text(x.attrs.get(name)), _text(y.attrs.get(name))
            if va != vb:
                out[name] = (va, vb)
    shape_a, shape_b = fmt_shape(x.shape), fmt_shape(y.shape)
    if shape_a != shape_b:
        out["output"] = (shape_a, shape_b)
    pa, pb = a.metrics.layers[x.id].param_count, b.metrics.layers[y.id].param_count
    if pa != pb:
        out["params"] = (pa, pb)
    if x.frozen != y.frozen:
        out["frozen"] = (x.frozen, y.frozen)
    return out


def _text(v: Any) -> Any:
    if isinstance(v, sy.Expr):
        return sy.to_str(v)
    if isinstance(v, (list, tuple)):
        return [_text(x) for x in v]
    if v is None or isinstance(v, (bool, int, float, str)):
        return v
    return str(v)


def _items(model: "Model", depth: int) -> dict[str, tuple[str, int, Any, str, Any]]:
    """Rows of the per-block table of one model: id -> (type, params, MACs, output shape,
    activation bytes), blocks folded below `depth`. MACs and activations are inference's, as the
    model's totals count them (archc.analysis.metrics): a training-only layer or block (an
    auxiliary classifier) has its parameters and none of them, so the rows add up to the totals;
    its type says "(training)"."""
    graph, metrics = model.graph, model.metrics
    rows: dict[str, tuple[str, int, Any, str, Any]] = {}

    def walk(path: tuple[str, ...], level: int) -> None:
        for item in graph.items(path):
            if hasattr(item, "op"):
                if item.is_input:
                    continue
                m = metrics.layers[item.id]
                training = item.training_only
                rows[item.id] = (_layer_type(item) + (" (training)" if training else ""), m.param_count,
                                 0 if training else m.macs, fmt_shape(item.shape), 0 if training else m.activation_bytes)
            elif level < depth:
                walk(item.path, level + 1)
            else:
                t = metrics.scope_totals(graph, item)
                shape = ", ".join(fmt_shape(graph.node(o).shape) for o in item.outputs)
                kind = item.type_name + (f" ×{item.args['count']}" if item.kind == "repeat" else "")
                # a block is all training-only or not at all (E-INPUT-TRAINING-BRANCH-IN-BLOCK)
                inside = graph.nodes_under(item.path)
                training = bool(inside) and all(n.training_only for n in inside)
                rows[item.id] = (kind + (" (training)" if training else ""), t.params, 0 if training else t.macs,
                                 shape, 0 if training else t.activation_bytes)

    walk((), 0)
    del walk  # (a closure that calls itself is a reference cycle)
    return rows


def _block_rows(a: "Model", b: "Model", depth: int, touched: set[str]) -> Iterator[BlockRow]:
    rows_a, rows_b = _items(a, depth), _items(b, depth)
    for row_id in _union(rows_a, rows_b):
        x, y = rows_a.get(row_id), rows_b.get(row_id)
        prefix = row_id + "."
        changed = x is None or y is None or row_id in touched or any(t.startswith(prefix) for t in touched) \
            or x[1:] != y[1:]
        yield BlockRow(row_id, x and x[0], y and y[0], (x and x[1], y and y[1]), (x and x[2], y and y[2]),
                       (x and x[3], y and y[3]), (x and x[4], y and y[4]), changed)


def _weights(a: "Model", b: "Model") -> WeightDiff:
    sa, sb = a.state_dict_shapes(), b.state_dict_shapes()
    transfer = [k for k, s in sa.items() if sb.get(k) == s]
    reshaped = [(k, s, sb[k]) for k, s in sa.items() if k in sb and sb[k] != s]
    retyped = []
    for key in transfer:
        owner = key.rsplit(".", 1)[0] if "." in key else key
        if owner not in a.graph.dag.nodes or owner not in b.graph.dag.nodes:
            owner = key  # a declared parameter: the node is the key itself
        if owner in a.graph.dag.nodes and owner in b.graph.dag.nodes:
            x, y = a.graph.node(owner), b.graph.node(owner)
            if x.op_name != y.op_name:
                retyped.append((key, x.op.title, y.op.title))
    return WeightDiff(transfer, reshaped, [k for k in sa if k not in sb], [k for k in sb if k not in sa],
                      len(sa), len(sb), retyped, sa, sb)


def _key_groups(keys: list[str], every: dict[str, Any]) -> list[tuple[str, int]]:
    """`keys` (some of the state_dict `every`) as (module path, tensor count): the shortest
    module path all of whose tensors are among `keys`, or a key alone."""
    chosen = set(keys)
    counts: dict[str, list[int]] = {}  # module path -> [tensors, of them chosen]
    for key in every:
        parts = key.split(".")
        for k in range(1, len(parts)):
            c = counts.setdefault(".".join(parts[:k]), [0, 0])
            c[0] += 1
            c[1] += key in chosen
    out: dict[str, int] = {}
    for key in keys:
        parts = key.split(".")
        group = next((".".join(parts[:k]) for k in range(1, len(parts))
                      if counts[".".join(parts[:k])][0] == counts[".".join(parts[:k])][1]), key)
        out[group] = out.get(group, 0) + 1
    return list(out.items())


def _top(key: str) -> str:
    return key.split(".", 1)[0]


def _ranges(names: list[str]) -> str:
    """`layer1, layer2, layer3, layer4` as `layer1–layer4`: runs of names that differ only in a
    trailing number counting up by one."""
    import re
    out: list[list[str]] = []
    for name in names:
        m = re.fullmatch(r"(.*?)(\d+)", name)
        if out and m:
            last = re.fullmatch(r"(.*?)(\d+)", out[-1][-1])
            if last and last.group(1) == m.group(1) and int(last.group(2)) + 1 == int(m.group(2)):
                out[-1].append(name)
                continue
        out.append([name])
    return ", ".join(run[0] if len(run) == 1 else f"{run[0]}–{run[-1]}" if len(run) > 2 else ", ".join(run)
                     for run in out)


# ------------------------------------------------------------------------------------ rendering
def _delta(x: Any, y: Any) -> Any:
    """y - x; a side without the row (added or removed) counts as 0."""
    if x is None and y is None:
        return None
    return sy.sub(0 if y is None else y, 0 if x is None else x)


def _num(n: Any) -> str:
    from archc.backends.report import human, leading_text
    if n is None:
        return "—"
    return leading_text(n) if isinstance(n, sy.Expr) else human(n)


def _bytes(n: Any) -> str:
    from archc.backends.report import human_bytes
    if n is None:
        return "—"
    if isinstance(n, int) and n < 0:
        return "-" + human_bytes(-n)
    return human_bytes(n)


def _signed(n: Any, fmt=_num) -> str:
    if n is None:
        return "—"
    if isinstance(n, int):
        return "0" if n == 0 else ("+" if n > 0 else "-") + fmt(abs(n))
    return fmt(n)


def _percent(x: Any, y: Any) -> str:
    if not isinstance(x, int) or not isinstance(y, int) or x == 0 or x == y:
        return ""
    change = (y - x) / x * 100
    return f" ({change:+.1f}%)" if abs(change) >= 0.05 else f" ({change:+.1g}%)"


def _totals(d: Diff) -> list[tuple[str, str, str, str]]:
    ta, tb = d.a.metrics.totals, d.b.metrics.totals
    rows = [("params", f"{ta.params:,}", f"{tb.params:,}", _signed(tb.params - ta.params, lambda n: f"{n:,}") +
             _percent(ta.params, tb.params)),
            ("MACs per sample", _num(ta.macs), _num(tb.macs), _signed(_delta(ta.macs, tb.macs)) +
             _percent(ta.macs, tb.macs)),
            ("activations per sample (float32)", _bytes(ta.activation_bytes), _bytes(tb.activation_bytes),
             _signed(_delta(ta.activation_bytes, tb.activation_bytes), _bytes))]
    for name in dict.fromkeys([*d.a.output_shapes, *d.b.output_shapes]):
        sa, sb = d.a.output_shapes.get(name), d.b.output_shapes.get(name)
        fa, fb = (fmt_shape(s) if s is not None else "—" for s in (sa, sb))
        rows.append((f"output {name}", fa, fb, "same" if fa == fb else "changed"))
    return rows


def _change_text(c: LayerChange) -> str:
    if c.status != "changed":
        return c.status
    parts = []
    for what, (x, y) in c.changes.items():
        if what == "params":
            parts.append(f"params {x:,} → {y:,}")
        else:
            parts.append(f"{what} {_show(x)} → {_show(y)}")
    return "; ".join(parts)


def _grouped(d: Diff) -> list[tuple[str, str, str]]:
    """The layer changes as listed for people: (status, what, details), a block added or
    removed whole as one line (`added  layer1.2 (7 layers)`)."""
    whole = {"added": _whole_scopes(d.b, {c.id for c in d.added}),
             "removed": _whole_scopes(d.a, {c.id for c in d.removed})}
    out: list[tuple[str, str, str]] = []
    shown: set[str] = set()
    for c in d.layers:
        if c.status == "changed":
            out.append((c.status, c.id, _change_text(c)))
            continue
        scope = whole[c.status].get(c.id)
        if scope is None:
            out.append((c.status, c.id, ""))
        elif scope[0] not in shown:
            shown.add(scope[0])
            out.append((c.status, scope[0], f"{scope[1]} ({scope[2]} layers)"))
    return out


def _whole_scopes(model: "Model", ids: set[str]) -> dict[str, tuple[str, str, int]]:
    """For each of `ids` inside a block all of whose layers are in `ids`: the outermost such
    block (its id, type and layer count)."""
    graph = model.graph
    members: dict[tuple[str, ...], list[str]] = {}
    for node in graph.layers():
        for k in range(1, len(node.scope) + 1):
            members.setdefault(node.scope[:k], []).append(node.id)
    out: dict[str, tuple[str, str, int]] = {}
    for path, layer_ids in members.items():
        if path in graph.scopes and all(i in ids for i in layer_ids):
            scope = graph.scopes[path]
            for i in layer_ids:
                if i not in out or len(out[i][0]) > len(scope.id):
                    out[i] = (scope.id, scope.type_name, len(layer_ids))
    return out


def _show(v: Any) -> str:
    if isinstance(v, list):
        return "[" + ", ".join(_show(x) for x in v) + "]"
    if isinstance(v, bool):
        return "true" if v else "false"
    return "—" if v is None else str(v)


def _block_cells(r: BlockRow) -> list[str]:
    status = "added" if r.type_a is None else "removed" if r.type_b is None else "changed"
    kind = r.type_b if r.type_a is None else r.type_a if r.type_b is None or r.type_a == r.type_b else \
        f"{r.type_a} → {r.type_b}"
    shape = r.shape[0] or "—" if r.shape[0] == r.shape[1] or r.shape[1] is None else \
        (r.shape[1] if r.shape[0] is None else f"{r.shape[0]} → {r.shape[1]}")
    return [r.id, status, kind, _num(r.params[0]), _num(r.params[1]),
            _signed(_delta(*r.params)), _signed(_delta(*r.macs)), shape,
            _signed(_delta(*r.activation_bytes), _bytes)]


BLOCK_HEADERS = ["Block", "", "Type", "Params A", "Params B", "Δ params", "Δ MACs", "Output", "Δ activations"]


def _weight_lines(d: Diff, bullet: str = "  ", quote: str = "") -> list[str]:
    w = d.weights
    kept, _ = w.modules()
    lines = [f"{len(w.transfer)} of A's {w.total_a} state_dict tensors load into B unchanged (same key and shape)."]
    if kept:
        lines.append(f"{bullet}transfer entirely: {_ranges(kept)}")
    for key, op_a, op_b in w.retyped:
        lines.append(f"{bullet}loads by key and shape, but into another op: {quote}{key}{quote} ({op_a} → {op_b})")
    for key, sa, sb in w.reshaped:
        lines.append(f"{bullet}shape changes, does not load: {quote}{key}{quote} "
                     f"{list(sa)} → {list(sb)}")
    for what, keys, side in (("only in A (dropped)", w.only_a, w.shapes_a),
                             ("only in B (freshly initialised)", w.only_b, w.shapes_b)):
        if keys:
            groups = _key_groups(keys, side)
            shown = ", ".join(f"{quote}{g}{quote}" + (f" ({n} tensors)" if n > 1 else "") for g, n in groups[:12])
            if len(groups) > 12:
                shown += f", … ({len(keys)} tensors in all)"
            lines.append(f"{bullet}{what}: {shown}")
    return lines


def render_text(d: Diff) -> str:
    out = [f"A: {d.label_a}", f"B: {d.label_b}", "", d.headline() + ".", ""]
    totals = [("", "A", "B", "Δ")] + _totals(d)
    out += _table(totals, right={1, 2, 3}) + [""]
    n = sum(1 for node in d.a.graph.layers() if not node.is_input)
    out.append(f"Layers: {len(d.added)} added, {len(d.removed)} removed, {len(d.changed)} changed "
               f"(A has {n}).")
    listed = _grouped(d)
    for status, what, text in listed[:MAX_LAYER_LINES]:
        out.append(f"  {status:8} {what}" + (f": {text}" if text else ""))
    if len(listed) > MAX_LAYER_LINES:
        out.append(f"  … {len(listed) - MAX_LAYER_LINES} more (--format json lists them all)")
    out.append("")
    changed_rows = [r for r in d.blocks if r.changed]
    unchanged = [r.id for r in d.blocks if not r.changed]
    out.append(f"Blocks (depth {d.depth}): {len(changed_rows)} differ" +
               (f"; unchanged: {_ranges(unchanged)}" if unchanged else "") + ".")
    if changed_rows:
        out += ["  " + line for line in _table([tuple(BLOCK_HEADERS)] + [tuple(_block_cells(r)) for r in changed_rows],
                                               right={3, 4, 5, 6, 8})]
    out.append("")
    out.append("Weights: " + _weight_lines(d)[0])
    out += _weight_lines(d)[1:]
    return "\n".join(out).rstrip() + "\n"


MAX_LAYER_LINES = 40


def _table(rows: list[tuple[str, ...]], right: set[int]) -> list[str]:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = []
    for k, r in enumerate(rows):
        cells = (c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths)))
        lines.append("  ".join(cells).rstrip())
        if k == 0:
            lines.append("  ".join("─" * w for w in widths))
    return lines


def render_markdown(d: Diff) -> str:
    def esc(s: str) -> str:
        return s.replace("|", "\\|")

    def table(rows: list[tuple[str, ...]]) -> list[str]:
        head, *body = rows
        return (["| " + " | ".join(esc(c) for c in head) + " |", "|" + "---|" * len(head)] +
                ["| " + " | ".join(esc(c) for c in r) + " |" for r in body])

    out = ["### archc diff", "", f"- **A**: `{d.label_a}`", f"- **B**: `{d.label_b}`", "",
           f"**{d.headline()}.**", ""]
    out += table([("", "A", "B", "Δ")] + _totals(d)) + [""]
    out.append(f"#### Layers: {len(d.added)} added, {len(d.removed)} removed, {len(d.changed)} changed")
    out.append("")
    if d.layers:
        out += table([("Layer", "Change")] + [(f"`{what}`", f"{status}: {text}" if text else status)
                                              for status, what, text in _grouped(d)[:MAX_LAYER_LINES * 5]])
        out.append("")
    changed_rows = [r for r in d.blocks if r.changed]
    out.append(f"#### Blocks (depth {d.depth})")
    out.append("")
    if changed_rows:
        out += table([tuple(BLOCK_HEADERS)] + [tuple(_block_cells(r)) for r in changed_rows])
        out.append("")
    unchanged = [r.id for r in d.blocks if not r.changed]
    if unchanged:
        out += [f"Unchanged: {_ranges(unchanged)}", ""]
    lines = _weight_lines(d, bullet="- ", quote="`")
    out += ["#### Weights", "", lines[0], ""] + lines[1:]
    return "\n".join(out).rstrip() + "\n"


def _dim(d: Any) -> Any:
    return d if d is None or isinstance(d, int) else sy.to_str(d)


def to_data(d: Diff) -> dict[str, Any]:
    ta, tb = d.a.metrics.totals, d.b.metrics.totals
    w = d.weights
    kept, touched = w.modules()
    return {
        "a": {"label": d.label_a, "model": d.a.name, "spec": d.a.graph.source_file,
              "hyperparams": {k: _text(v) for k, v in d.a.hyperparams.items()}},
        "b": {"label": d.label_b, "model": d.b.name, "spec": d.b.graph.source_file,
              "hyperparams": {k: _text(v) for k, v in d.b.hyperparams.items()}},
        "headline": d.headline(),
        "totals": {key: {"a": _dim(getattr(ta, key)), "b": _dim(getattr(tb, key)),
                         "delta": _dim(sy.sub(getattr(tb, key), getattr(ta, key)))}
                   for key in ("params", "trainable", "buffers", "macs", "activation_bytes")},
        "outputs": {name: {"a": None if name not in d.a.output_shapes else [_dim(x) for x in d.a.output_shapes[name]],
                           "b": None if name not in d.b.output_shapes else [_dim(x) for x in d.b.output_shapes[name]]}
                    for name in dict.fromkeys([*d.a.output_shapes, *d.b.output_shapes])},
        "layers": [{"id": c.id, "status": c.status,
                    **({"changes": {k: {"a": x, "b": y} for k, (x, y) in c.changes.items()}} if c.changes else {})}
                   for c in d.layers],
        "blocks": {"depth": d.depth, "rows": [
            {"id": r.id, "changed": r.changed, "type": {"a": r.type_a, "b": r.type_b},
             "params": {"a": r.params[0], "b": r.params[1]},
             "macs": {"a": _dim(r.macs[0]), "b": _dim(r.macs[1]), "delta": _dim(_delta(*r.macs))},
             "output_shape": {"a": r.shape[0], "b": r.shape[1]},
             "activation_bytes": {"a": _dim(r.activation_bytes[0]), "b": _dim(r.activation_bytes[1]),
                                  "delta": _dim(_delta(*r.activation_bytes))}} for r in d.blocks]},
        "state_dict": {"total_a": w.total_a, "total_b": w.total_b, "transfer": w.transfer,
                       "reshaped": [{"key": k, "a": list(x), "b": list(y)} for k, x, y in w.reshaped],
                       "retyped": [{"key": k, "a": x, "b": y} for k, x, y in w.retyped],
                       "only_a": w.only_a, "only_b": w.only_b,
                       "modules_transferring": kept, "modules_changed": touched},
    }


def render(d: Diff, format: str = "text") -> str:
    if format == "json":
        return json.dumps(to_data(d), indent=2) + "\n"
    return render_markdown(d) if format == "markdown" else render_text(d)


# ------------------------------------------------------------------------------------ the command
def label(spec: str, settings: dict[str, Any]) -> str:
    text = ", ".join(f"{k}={_show(_text(v))}" for k, v in settings.items())
    return f"{spec} ({text})" if text else spec


def run(args: Any) -> int:
    """`archc diff` (its options: archc/cli.py)."""
    import sys

    from archc.errors import SpecError, SpecErrors
    from archc.files import write_atomic
    from archc.model import load
    spec_b = args.b or args.a
    shared = dict(args.define or [])
    only_a, only_b = dict(args.a_define or []), dict(args.b_define or [])
    if args.b is None and not only_a and not only_b:
        raise SpecError(f"diff of {args.a} with itself: nothing to compare", None,
                        "give a second spec (archc diff A B), or settings for one side: "
                        "--a NAME=VALUE and/or --b NAME=VALUE", code="E-DIFF-NOTHING")
    stdin: list[str] = []

    def name(spec: str) -> str:
        return "<stdin>" if spec == "-" else spec

    def load_side(spec: str, settings: dict[str, Any]) -> "Model":
        if spec != "-" and not args.lang:
            return load(spec, settings, strict=args.strict)
        from archc.frontend import read_source, sniff_language
        from archc.model import loads
        if spec == "-" and not stdin:
            stdin.append(sys.stdin.read())  # read once: both sides may be stdin (at two settings)
        text = stdin[0] if spec == "-" else read_source(spec)
        return loads(text, args.lang or sniff_language(text), settings, file="<stdin>" if spec == "-" else spec,
                     strict=args.strict)

    from archc.backends.sweep import _identity, check_names
    if args.output and args.output != "-":
        for spec in dict.fromkeys((args.a, spec_b)):
            if spec != "-" and _identity(spec) == _identity(args.output):
                raise SpecError(f"-o {args.output} is the spec {spec}: writing the diff would replace it", None,
                                "write the diff to a file of its own, e.g. -o diff.md", code="E-DIFF-OUTPUT-CLASH")

    def load_checked(side: str, spec: str, own: dict[str, Any]) -> "Model":
        settings = {**shared, **own}
        # names the spec does not declare: located at its parameters, as sweep -p reports them
        text = None
        if spec == "-":
            if not stdin:
                stdin.append(sys.stdin.read())
            text = stdin[0]
        check_names(name(spec), {f"--{side.lower()}": list(own), "-D": list(shared)}, text,
                    args.lang or (None if text is None else sniff_language(text)))
        if args.import_path:
            from archc.loader import import_path
            with import_path(args.import_path):
                return load_side(spec, settings)
        return load_side(spec, settings)

    from archc.frontend import sniff_language
    models: list[Any] = []
    errors: list[SpecError] = []
    loaded: dict[str, Any] = {}
    for side, spec, own in (("A", args.a, only_a), ("B", spec_b, only_b)):
        settings = {**shared, **own}
        same = label(name(spec), settings)
        if same in loaded:  # B is A (the same spec at the same settings): loaded, or failed, once
            models.append(loaded[same])
            continue
        try:
            loaded[same] = load_checked(side, spec, own)
        except (SpecErrors, SpecError) as e:
            # both sides are loaded, so that a spec broken on both sides reports both at once
            loaded[same] = None
            for error in e.errors if isinstance(e, SpecErrors) else [e]:
                if any(error.code == seen.code and error.message == seen.message and error.loc == seen.loc
                       for seen in errors):
                    continue  # the same spec at other settings, failing the same way (a -D name)
                error.notes.append(f"while loading {side}: {same}")
                errors.append(error)
        models.append(loaded[same])
    if errors:
        raise SpecErrors(errors)
    a, b = models
    depth = 0 if args.depth is None else args.depth
    result = compare(a, b, label(name(args.a), {**shared, **only_a}), label(name(spec_b), {**shared, **only_b}), depth)
    text = render(result, args.format)
    if args.output:
        write_atomic(args.output, text)
    else:
        sys.stdout.write(text)
    return 0
