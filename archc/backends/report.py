"""Summaries of an inferred model: a Keras-like table (text, markdown) or JSON.

Rows follow the block hierarchy: a block, repeat or sequential is one row with its totals,
followed by its children, indented; `depth` collapses everything nested deeper.

"Connected to" names a row's inputs when they are not simply the row above (as Keras' column
does, without repeating the obvious chain): a residual add shows its two inputs, a block's
projection shortcut shows where it branches off. Names inside a block are relative to it (`bn3`,
`downsample` inside `layer1.0`), and a tensor that a block or stage returns is named by that
block (`layer1.0`, `layer1`), so the column stays short in ResNet-152 and the torchvision zoo.

A symbolic MACs count (sizes such as H, W) is shown by its leading term, `≈ 2.35 K·H·W`; with
`at` ({"H": 224, "W": 224}) MACs and shapes are shown exactly at those sizes.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from itertools import compress, repeat
from operator import add, itemgetter, mod
from typing import TYPE_CHECKING, Any, Iterator, Sequence

from archc import collector
from archc import symbolic as sy
from archc.ops.base import fmt_shape

if TYPE_CHECKING:
    from archc.ir.graph import Graph, Scope
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
    connected: str = ""  # inputs other than the row above ("" when it is just the row above)


def items_in(graph: "Graph", path: tuple[str, ...]) -> list[Any]:
    """The direct children of a scope, layers and sub-scopes, in graph order."""
    return graph.items(path)


def rows(model: "Model", depth: int | None = None, at: dict[str, int] | None = None) -> Iterator[Row]:
    for values in _table(model, depth, at):
        yield Row(*values)


def _table(model: "Model", depth: int | None, at: dict[str, int] | None) -> list[tuple]:
    """The rows, each as the tuple of `Row`'s fields, in one walk of the scope hierarchy (a list:
    the text formats read it by columns)."""
    from archc.ir.graph import LayerNode
    graph, metrics = model.graph, model.metrics
    index = graph.scope_index()
    scope_items = index.items  # (what graph.items reads)
    # at full depth the walk meets every layer: it sums each scope's params, frozen params and
    # MACs on its way, with no pass for all_scope_totals, when every path is a scope (no layer
    # is left unmet) and every MACs count an int (a sum in any order)
    costs, kind_of = metrics.kinds, metrics.kind_of
    summing = depth is None and sy.all_int(map(_MACS, costs)) \
        and all(sub in graph.scopes for subs in index.subpaths.values() for sub in subs)
    scope_totals = {} if summing else metrics.all_scope_totals(graph)
    any_frozen = any(map(_FROZEN, costs))
    show = _at_view(at)
    out: list[tuple] = []
    current: str | None = None  # the tensor a row without "connected to" reads

    # texts many rows share, found once: layers of a kind (metrics.kinds: alike in op, attribute
    # values and shapes) share their type, shape, params and MACs cells; a pointwise layer its
    # input's receptive field. Shapes are known by their number in metrics.layer_kinds (equal
    # shapes, one number); fields by identity first (the metrics keep them alive meanwhile), then
    # by value (equal fields in other objects).
    # by op, bound attribute values (their number in metrics.layer_kinds) and flags shown
    kind_texts: dict[tuple, str] = {}
    kinds = metrics.layer_kinds
    shape_texts = [fmt_shape(show(shape)) for shape in kinds.shapes.ids]  # by shape number
    kind_shapes, kind_of = kinds.kind_shapes, metrics.kind_of

    def shape_text(node_id: str) -> str:
        return shape_texts[kind_shapes[kind_of[node_id]]]

    field_texts: dict[int, tuple[str, str]] = {id(None): ("-", "-")}
    fields_by_value: dict[tuple, tuple[str, str]] = {}

    def kind_text(node: LayerNode, attrs_number: Any) -> str:
        op = node.op
        if op is None:
            return "Input"
        key = (op, attrs_number, node.frozen, node.unused)
        text = kind_texts.get(key)
        if text is None:
            label = op.label(node.attrs)
            text = kind_texts[key] = op.title + (f" {label}" if label else "") \
                + (" (frozen)" if node.frozen else "") + (" (unused)" if node.unused else "")
        return text

    # every layer's row but its level, name and "connected to", by node id: each kind's cells
    # and each field's texts found once, put together at C speed
    kind_cells = [(kind_text(node, attrs), shape_texts[shape], kind[2], kind[6] if at is None else show(kind[6]))
                  for node, attrs, shape, kind in zip(kinds.firsts, kinds.kind_attrs, kind_shapes, metrics.kinds)]
    fields = metrics.fields()
    field_ids = list(map(id, map(_FIRST, fields.values())))  # (in graph order, as the kinds)
    for f in dict(zip(field_ids, map(_FIRST, fields.values()))).values():  # (each field object once)
        if f is not None:
            key = (f.size, f.jump)
            texts = fields_by_value.get(key)
            if texts is None:
                texts = fields_by_value[key] = (f.text(), f.jump_text())
            field_texts[id(f)] = texts
    cells = dict(zip(fields, map(add, map(kind_cells.__getitem__, kinds.of),
                                 map(field_texts.__getitem__, field_ids))))
    for node in compress(kinds.nodes, map([node.shares is not None for node in kinds.firsts].__getitem__, kinds.of)):
        if graph.shared_call(node) is not None:  # another call of a shared layer's module
            kind, *rest = cells[node.id]
            cells[node.id] = (f"{kind} = {node.shares}", *rest)

    def scope_row(scope: Scope, level: int, link: str, params: int, frozen: int, macs: sy.Dim) -> tuple:
        kind = scope.type_name + (f" ×{scope.args['count']}" if scope.kind == "repeat" else "")
        if scope.shares is not None and (shared := graph.shared_call(scope)) is not None:
            kind += f" = {shared}"  # another call of a shared block's module
        if frozen and frozen == params:
            kind += " (frozen)"
        outputs = scope.outputs
        shapes = shape_text(outputs[0]) if len(outputs) == 1 else ", ".join(map(shape_text, outputs))
        f = fields[outputs[0]][0] if outputs else None
        return (level, scope.id, kind, shapes, params, macs if at is None else show(macs),
                *field_texts[id(f)], True, link)  # (a layer's field: its texts found)

    def walk(path: tuple[str, ...], level: int) -> tuple[int, int, sy.Dim]:
        """Appends the rows of a scope's contents; when summing, returns their params, frozen
        params and MACs."""
        nonlocal current
        params = frozen = macs = 0
        for item in scope_items.get(path, ()):
            if type(item) is LayerNode:
                node_id, inputs = item.id, item.inputs
                link = "" if len(inputs) == 1 and inputs[0] == current else _connected(graph, inputs, path, depth)
                current = node_id
                cell = cells[node_id]
                out.append((level, node_id, *cell, False, link))
                if summing:  # (its params and MACs cells are its kind's numbers)
                    params, macs = params + cell[2], macs + cell[3]
                    if any_frozen:
                        frozen += costs[kind_of[node_id]][5]
                continue
            scope: Scope = item
            outputs, inputs = scope.outputs, scope.inputs
            link = "" if len(inputs) == 1 and inputs[0] == current else _connected(graph, inputs, path, depth)
            if summing:  # (its row made once its contents are walked)
                at_row = len(out)
                out.append(())
                current = inputs[0] if len(inputs) == 1 else None
                inner = walk(scope.path, level + 1)
                out[at_row] = scope_row(scope, level, link, *inner)
                params, frozen, macs = params + inner[0], frozen + inner[1], macs + inner[2]
                continue
            totals = scope_totals.get(scope.path) or metrics.scope_totals(graph, scope)
            out.append(scope_row(scope, level, link, totals.params, totals.frozen, totals.macs))
            if depth is None or level < depth:  # expanded: its first child reads what the scope reads
                current = inputs[0] if len(inputs) == 1 else None
                walk(scope.path, level + 1)
            else:
                current = outputs[0] if len(outputs) == 1 else None
        return params, frozen, macs

    walk((), 0)
    del walk, scope_row  # walk calls itself through its closure: a cycle that kept the rows and caches
    return out


_FIRST, _FROZEN, _MACS = itemgetter(0), itemgetter(5), itemgetter(6)


def _connected(graph: "Graph", inputs: list[str], container: tuple[str, ...], depth: int | None) -> str:
    """A row's "connected to": its inputs, when they are not just the row above."""
    return ", ".join([_ref(graph, i, container, depth) for i in inputs])


def _ref(graph: "Graph", node_id: str, container: tuple[str, ...], depth: int | None) -> str:
    """How a row inside `container` names the tensor `node_id`: the row that shows it (its block,
    when `depth` hides it), or the block or stage that returns it when the row is outside that
    block; relative to `container` when inside it."""
    scope = graph.node(node_id).scope
    name: tuple[str, ...] = tuple(node_id.split("."))
    if depth is not None and len(scope) > depth:
        name = scope[:depth + 1]  # the collapsed row that holds it
    shared = 0  # the enclosing scopes the row is inside too
    for mine, rows in zip(scope, container):
        if mine != rows:
            break
        shared += 1
    if shared < len(scope):  # the outermost scope the row is not inside
        path = scope[:shared + 1]
        outer = graph.scopes.get(path)
        if outer is not None and node_id in outer.outputs:
            name = path  # what the block or stage returns: named by the block
    inside = len(name) > len(container) and name[:len(container)] == container
    return ".".join(name[len(container):] if inside else name)  # relative only within the row's block


def _at_view(at: dict[str, int] | None):
    """A size as the summary shows it: at the sizes `at` gives (exactly), else as it is."""
    if not at:
        return lambda d: d

    def show(d: Any) -> Any:
        if isinstance(d, sy.Expr):
            return d.subs(at)
        if isinstance(d, (tuple, list)):
            return type(d)(show(x) for x in d)
        return d
    return show


_SUPERSCRIPT = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")


def leading_text(d: sy.Dim, unit: str = "") -> str:
    """A symbolic count by its leading term, `≈ 2.35 K·H·W` (`unit`: " bytes" and so on); an int
    as `human` writes it."""
    if isinstance(d, int):
        return human(d, unit.strip())
    terms = sy.leading_terms(d)
    if all(not mono for _, mono in terms):  # no growth to speak of: the exact expression
        return sy.to_str(d) + unit
    parts = []
    for coef, mono in terms:
        symbols = "·".join(s + (str(e).translate(_SUPERSCRIPT) if e > 1 else "") for s, e in mono)
        mag = abs(coef)
        number = "" if mag == 1 else _number(mag) + "·"
        sign = "-" if coef < 0 else "+"
        parts.append((sign, number + symbols))
    text = ("-" if parts[0][0] == "-" else "") + parts[0][1]
    text += "".join(f" {sign} {body}" for sign, body in parts[1:])
    return f"≈ {text}{unit}"


def _number(x: float) -> str:
    for factor, suffix in ((10**12, " T"), (10**9, " G"), (10**6, " M"), (10**3, " K")):
        if x >= factor:
            return f"{x / factor:.2f}{suffix}"
    return f"{x:.0f}" if x == int(x) else f"{x:.3g}"


_DECIMAL_PREFIXES = ((10**18, "E"), (10**15, "P"), (10**12, "T"), (10**9, "G"), (10**6, "M"), (10**3, "K"))
_PAST_PREFIXES = 1000 * _DECIMAL_PREFIXES[0][0]  # (human's exponent form from here)
_BINARY_UNITS = ((2**60, "EiB"), (2**50, "PiB"), (2**40, "TiB"), (2**30, "GiB"), (2**20, "MiB"), (2**10, "KiB"))


def exponent_form(n: int) -> str:
    """A whole number of any size as `4.63e+152`: past the largest unit, and past what a float
    holds (`float(10**400)` overflows; ints have no limit here)."""
    import math
    if n == 0:
        return "0"
    exponent = int(math.floor(math.log10(abs(n))))
    mantissa = n / 10**exponent if exponent < 300 else n // 10**(exponent - 15) / 10**15
    if abs(mantissa) >= 9.995:  # rounding carries into the next power: 9.999e5 -> 1.00e+06
        mantissa, exponent = mantissa / 10, exponent + 1
    return f"{mantissa:.2f}e{exponent:+03d}"


def human(n: sy.Dim, unit: str = "") -> str:
    if not isinstance(n, int):
        return sy.to_str(n)
    magnitude = abs(n)
    if magnitude >= _PAST_PREFIXES:
        return f"{exponent_form(n)} {unit}".rstrip()
    group = (len(str(magnitude)) - 1) // 3  # of three digits: the prefix's index from the end
    if group == 0:
        return f"{n} {unit}".rstrip()
    factor, suffix = _DECIMAL_PREFIXES[-group]
    return f"{n / factor:.2f} {suffix}{unit}"


def human_bytes(n: sy.Dim) -> str:
    if not isinstance(n, int):
        return leading_text(n, " bytes")
    if n >= 1024 * _BINARY_UNITS[0][0]:
        return f"{exponent_form(n)} bytes"
    for factor, suffix in _BINARY_UNITS:
        if n >= factor:
            return f"{n / factor:.2f} {suffix}"
    return f"{n} bytes"


def check_at(model: "Model", at: dict[str, int] | None) -> dict[str, int] | None:
    """The sizes of `summary --at` (and of summary --train, sweep), checked: symbols of this
    model's inputs, positive, meeting the input size constraints, and within the activation limit
    a spec with those sizes written in meets when it loads (`--at H=10**9` is refused as
    `-D size=1000000000` is, not counted). Raises SpecError (a message in the spec's terms)."""
    if not at:
        return None
    from archc.errors import SpecError
    symbols: set[str] = set()
    for node_id in model.graph.inputs.values():
        for d in model.graph.node(node_id).shape:
            if isinstance(d, sy.Expr):
                symbols |= d.free_symbols()
    symbols.discard("N")  # the batch: MACs and memory are per sample
    for name, value in at.items():
        if name not in symbols:
            from archc.errors import did_you_mean
            known = f"its symbolic sizes are {', '.join(sorted(symbols))}" if symbols else \
                "every input size is concrete"
            raise SpecError(f"--at {name}={value}: '{name}' is not a symbolic input size of {model.name} ({known})",
                            hint=did_you_mean(name, symbols) or "a model parameter set to a name is a symbolic "
                            "size: e.g. -D size=H --at H=224", code="E-CLI-UNKNOWN-SYMBOL")
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise SpecError(f"--at {name}={value}: a size is a positive integer",
                            hint=f"e.g. at={{{name!r}: 224}}", code="E-API-SIZE-NOT-POSITIVE")
    assumptions = model.graph.inference_assumptions or model.graph.assumptions
    if not assumptions.satisfied_by(at):
        given = ", ".join(f"{k}={v}" for k, v in at.items())
        raise SpecError(f"--at {given} does not meet the input size constraints: {', '.join(model.constraints)}",
                        hint=", ".join(f"e.g. {k}={assumptions.example(k, v)}" for k, v in at.items()),
                        code="E-CLI-SIZE-CONSTRAINT")
    from archc.analysis.metrics import MAX_ACTIVATION_BYTES, _big, _bytes
    activations = model.metrics.totals.activation_bytes
    per_sample = activations.subs(at) if isinstance(activations, sy.Expr) else activations
    if isinstance(per_sample, int) and per_sample > MAX_ACTIVATION_BYTES:
        given = ", ".join(f"{k}={_big(v) if v >= 10 ** 15 else v}" for k, v in at.items())
        raise SpecError(f"the activations of one sample need {_bytes(per_sample)} at --at {given}, past the limit "
                        f"of {_bytes(MAX_ACTIVATION_BYTES)}", None,
                        "an input size is probably mistyped: give --at a smaller value", code="E-LIMIT-ACTIVATIONS")
    return dict(at)


def footer(model: "Model", at: dict[str, int] | None = None) -> list[tuple[str, str]]:
    t = model.metrics.totals
    show = _at_view(at)
    lines = [("Total params", f"{t.params:,} ({human_bytes(t.params * 4)})"),
             ("Trainable params", f"{t.trainable:,}"),
             ("Frozen params", f"{t.frozen:,}")]
    if t.buffers:
        lines.append(("Buffers (running statistics)", f"{t.buffers:,}"))
    macs = show(t.macs)
    if not isinstance(macs, int):
        assumptions = model.graph.inference_assumptions or model.graph.assumptions
        example = " ".join(f"--at {s}={assumptions.example(s, 224)}" for s in sorted(macs.free_symbols()))
        lines.append(("MACs per sample", f"{leading_text(macs)} (the leading term; {example} gives the "
                                         "exact count at a size)"))
    else:
        lines.append(("MACs per sample", human(macs)))
    lines.append(("Activation memory per sample (float32)", human_bytes(show(t.activation_bytes))))
    for name, node_id in model.graph.inputs.items():
        lines.append((f"Input {name}", fmt_shape(show(model.graph.node(node_id).shape))))
    for name, node_id in model.graph.outputs.items():
        training = " (training)" if name in model.graph.training_outputs else ""
        lines.append((f"Output {name}{training}", fmt_shape(show(model.graph.node(node_id).shape))))
    constraints = model.constraints
    if at:
        lines.append(("Evaluated at", ", ".join(f"{k}={v}" for k, v in at.items())))
    if constraints:
        lines.append(("Input size constraints", ", ".join(constraints)))
    if model.graph.training_outputs:
        lines.append(("Training outputs", ", ".join(model.graph.training_outputs) +
                      " (computed only in training; MACs and memory above are inference's)"))
        if model.training_constraints != constraints:
            lines.append(("Input size constraints in training", ", ".join(model.training_constraints)))
    return lines


HEADERS = ("Layer", "Type", "Output shape", "Params", "MACs", "RF", "Jump", "Connected to")
LEGEND = "Connected to: inputs other than the row above; inside a block, names are relative to it."


def _columns(table: list[tuple], indent: str) -> list[Sequence[str]]:
    """The rows' cells as text, column by column (each column is one pass of C-level map: rows
    repeat their params and MACs numbers, whose texts are found once; the columns that are text
    already are the transposed table's tuples)."""
    if not table:
        return [() for _ in HEADERS]
    levels, ids, kinds, shapes, params, macs, fields, jumps, _, links = zip(*table)
    # (each level's indent made once and added by operator.add: a slot wrapper such as
    # str.__add__ costs twice as much a call)
    names = list(map(add, map([indent * level for level in range(max(levels) + 1)].__getitem__, levels), ids)) \
        if indent else ids
    params_texts = {p: f"{p:,}" for p in set(params)}
    macs_texts = {m: human(m) if type(m) is int else leading_text(m) for m in set(macs)}  # (as leading_text)
    return [names, kinds, shapes, list(map(params_texts.__getitem__, params)),
            list(map(macs_texts.__getitem__, macs)), fields, jumps, links]


_RIGHT_ALIGNED = (False, False, False, True, True, True, True, False)  # the numbers' columns


def _lines(columns: list[Sequence[str]], widths: list[int]) -> list[str]:
    """The text table's lines: each row's cells padded to their columns' widths by one format
    string (one string a row: in CPU time cheaper than padding every cell and joining them),
    trailing blanks dropped (the last column, left-aligned, needs no padding)."""
    row = "  ".join([f"%{'' if right else '-'}{width}s" for width, right in zip(widths, _RIGHT_ALIGNED)][:-1])
    return list(map(str.rstrip, map(mod, repeat(row + "  %s"), zip(*columns))))


def render_text(model: "Model", depth: int | None, at: dict[str, int] | None = None) -> str:
    columns = _columns(_table(model, depth, at), "  ")
    widths = [max(len(header), max(map(len, column), default=0)) for header, column in zip(HEADERS, columns)]
    rule = "─" * (sum(widths) + 2 * (len(widths) - 1))
    out = [f'Model: "{model.name}"', rule, _lines([[header] for header in HEADERS], widths)[0], rule]
    out += _lines(columns, widths)
    out.append(rule)
    lines = footer(model, at)
    label_width = max(len(k) for k, _ in lines)
    out += [f"{k + ':':<{label_width + 1}} {v}" for k, v in lines]
    out.append(LEGEND)
    return "\n".join(out) + "\n"


def render_markdown(model: "Model", depth: int | None, at: dict[str, int] | None = None) -> str:
    def esc(s: str) -> str:
        return s.replace("|", "\\|")

    out = [f"### {esc(model.name)}", "", "| " + " | ".join(HEADERS) + " |",
           "|" + "|".join(["---", "---", "---", "---:", "---:", "---:", "---:", "---"]) + "|"]
    table = _table(model, depth, at)
    names, *cells, links = _columns(table, "")
    names = [f"{'&nbsp;&nbsp;' * row[0]}`{name}`" for row, name in zip(table, names)]
    links = [", ".join(f"`{name}`" for name in link.split(", ")) if link else "" for link in links]
    for row in zip(names, *cells, links):
        out.append("| " + " | ".join([row[0], *map(esc, row[1:])]) + " |")
    out.append("")
    out += [f"- **{esc(k)}:** {esc(v)}" for k, v in footer(model, at)]
    out += ["", f"_{LEGEND}_"]
    return "\n".join(out) + "\n"


def _dim(d: sy.Dim) -> Any:
    return d if isinstance(d, int) else sy.to_str(d)


def to_data(model: "Model", at: dict[str, int] | None = None) -> dict:
    """Everything, exact: symbolic sizes as expressions. With `at`, each layer, scope and total
    also gets its values at those sizes under "at"."""
    graph, metrics = model.graph, model.metrics
    show = _at_view(at)
    layers, table = [], metrics.layers
    for node in graph.layers():
        m = table[node.id]
        layers.append({
            "id": node.id, "op": node.op_name, "scope": ".".join(node.scope),
            "attrs": {k: _jsonable(v) for k, v in node.attrs.items()},
            "inputs": node.inputs, "tensor_names": node.tensor_names,
            "output_shape": [_dim(d) for d in node.shape],
            "params": m.param_count, "trainable": m.trainable, "frozen": m.frozen,
            "buffers": m.buffer_count,
            "param_shapes": {k: [_dim(d) for d in v] for k, v in m.param_shapes.items()},
            "macs": _dim(m.macs), "activation_bytes": _dim(m.activation_bytes),
            "receptive_field": None if m.field is None else
            ("global" if m.field.size is None else [_jsonable(x) for x in m.field.size]),
            "jump": None if m.field is None else [_jsonable(x) for x in m.field.jump],
            "line": node.loc.line if node.loc else None,
            **({"training_only": True} if node.training_only else {}),
            **({"shares": node.shares} if node.shares is not None else {}),
            **({"unused": True} if node.unused else {}),
            # a layer written in an imported block library names that file
            **({"file": node.loc.file} if node.loc and node.loc.file != graph.source_file else {}),
            **({"at": {"output_shape": [_dim(d) for d in show(node.shape)], "macs": _dim(show(m.macs)),
                       "activation_bytes": _dim(show(m.activation_bytes))}} if at else {}),
        })
    scopes = []
    for s in graph.scopes.values():
        totals = metrics.scope_totals(graph, s)
        scopes.append({"id": s.id, "kind": s.kind, "type": s.type_name,
                       "args": {k: _jsonable(v) for k, v in s.args.items()},
                       "inputs": s.inputs, "outputs": s.outputs, "params": totals.params,
                       **({"shares": ".".join(s.shares)} if s.shares is not None else {}),
                       "macs": _dim(totals.macs), **({"at": {"macs": _dim(show(totals.macs))}} if at else {})})
    t = metrics.totals
    return {
        "model": model.name, "spec": graph.source_file,
        "hyperparams": {k: _jsonable(v) for k, v in graph.hyperparams.items()},
        "params": {k: _jsonable(v) for k, v in graph.hyperparams.items()},  # deprecated: "hyperparams"
        "inputs": {k: [_dim(d) for d in graph.node(v).shape] for k, v in graph.inputs.items()},
        "outputs": {k: [_dim(d) for d in graph.node(v).shape] for k, v in graph.outputs.items()},
        "totals": {"params": t.params, "trainable": t.trainable, "frozen": t.frozen,
                   "buffers": t.buffers, "macs_per_sample": _dim(t.macs),
                   "activation_bytes_per_sample": _dim(t.activation_bytes),
                   **({"at": {"macs_per_sample": _dim(show(t.macs)),
                              "activation_bytes_per_sample": _dim(show(t.activation_bytes)),
                              "conv_linear_macs": _dim(show(model.conv_linear_macs))}} if at else {})},
        **({"at": dict(at)} if at else {}),
        "constraints": model.constraints,
        "training_outputs": model.graph.training_outputs,
        "training_constraints": model.training_constraints,
        "by_op": [{"op": r.op, "family": r.family, "layers": r.layers, "params": r.params,
                   "macs": _dim(r.macs), **({"at": {"macs": _dim(show(r.macs))}} if at else {})}
                  for r in model.by_op()],
        "conv_linear_macs": _dim(model.conv_linear_macs),
        "layers": layers, "scopes": scopes,
    }


def _jsonable(v: Any) -> Any:
    if type(v) in _JSON_PLAIN:  # most attribute values: as they are
        return v
    if isinstance(v, (list, tuple)):
        return [_jsonable(x) for x in v]
    if isinstance(v, sy.Expr):
        return sy.to_str(v)
    if hasattr(v, "numerator") and not isinstance(v, (int, bool)):
        return float(v)
    if v is None or isinstance(v, (bool, int, float, str)):
        return v
    if isinstance(v, dict):
        return {str(k): _jsonable(x) for k, x in v.items()}
    return str(v)  # a layer passed as a parameter (norm=batchnorm2d(eps=0.001)): as the spec writes it


_JSON_PLAIN = frozenset((int, float, str, bool, type(None)))


def op_table(model: "Model", at: dict[str, int] | None = None) -> tuple[list[str], list[list[str]], list[str]]:
    """The per-op breakdown: headers, one row per op type, and the conv + linear subtotal row."""
    show = _at_view(at)
    rows = model.by_op()
    total = show(model.metrics.totals.macs)
    body = []
    for r in rows:
        macs = show(r.macs)
        share = f"{100 * macs / total:.1f}%" if isinstance(macs, int) and isinstance(total, int) and total else ""
        body.append([r.op, f"{r.layers:,}", f"{r.params:,}", leading_text(macs), share])
    quoted = [x for x in rows if x.quoted]
    subtotal = ["conv + linear (as torchvision, fvcore, papers)", f"{sum(x.layers for x in quoted):,}",
                f"{sum(x.params for x in quoted):,}", leading_text(show(model.conv_linear_macs)), ""]
    return ["Op", "Layers", "Params", "MACs", "Share"], body, subtotal


def render_by_op_text(model: "Model", at: dict[str, int] | None = None) -> str:
    headers, body, subtotal = op_table(model, at)
    table = [headers, *body, subtotal]
    widths = [max(len(r[c]) for r in table) for c in range(len(headers))]

    def line(cells: list[str]) -> str:
        return "  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths))).rstrip()

    rule = "─" * (sum(widths) + 2 * (len(widths) - 1))
    return "\n".join([f'By op: "{model.name}"', rule, line(headers), rule, *map(line, body), rule,
                      line(subtotal)]) + "\n"


def render_by_op_markdown(model: "Model", at: dict[str, int] | None = None) -> str:
    headers, body, subtotal = op_table(model, at)
    out = ["| " + " | ".join(headers) + " |", "|---|---:|---:|---:|---:|"]
    out += ["| " + " | ".join(r) + " |" for r in body]
    out.append("| **" + subtotal[0] + "** | " + " | ".join(subtotal[1:]) + " |")
    return "\n".join(out) + "\n"


@collector.paused()
def render(model: "Model", format: str = "text", depth: int | None = None, by_op: bool = False,
           at: dict[str, int] | None = None) -> str:
    """The summary in `format`; `at` ({"H": 224}) evaluates symbolic sizes (SpecError if a size
    is not one of the model's or breaks its input size constraints)."""
    if format not in FORMATS:
        from archc.errors import SpecError
        raise SpecError(f"unknown summary format {format!r}", hint=f"choose one of {', '.join(FORMATS)}",
                        code="E-API-SUMMARY-FORMAT")
    at = check_at(model, at)
    if format == "json":
        return json.dumps(to_data(model, at), indent=2) + "\n"
    if format == "markdown":
        return render_markdown(model, depth, at) + ("\n" + render_by_op_markdown(model, at) if by_op else "")
    return render_text(model, depth, at) + ("\n" + render_by_op_text(model, at) if by_op else "")
