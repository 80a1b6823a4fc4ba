"""Diagrams of an inferred model: the graph IR and its metrics as Graphviz DOT, rendered to SVG,
PNG or PDF by Graphviz's `dot` program through the `graphviz` Python package.

What is drawn
- One node per layer, or, below `depth`, one node per collapsed block instance (the same depth
  rule as `archc summary --depth`: top-level items are level 0, scopes at level >= depth are
  collapsed). A layer shows its name, its op with key attributes (`Op.label`) and its parameter
  count; a collapsed block shows its instance name, block type, total parameters and its input
  and output shapes. Expanded blocks, repeats and sequentials are clusters.
- One edge per tensor and consumer, labelled with the tensor's inferred shape (edges between the
  same two drawn nodes carrying the same tensor are drawn once).
- Inputs and outputs are dark terminal nodes; layers are filled by op family.
- Skip edges (class `skip`): an edge that bypasses others (a U-Net's encoder→decoder concat,
  ResNet's identity shortcut: the edge's head is also reachable from its tail another way), and
  the whole short branch into a residual `add` (a projection shortcut).
- Encoder-decoder networks (a skip edge between two tensors of the same resolution, bridging a
  coarser one) are laid out as a U: one row per resolution level, so the encoder goes down, the
  decoder comes back up and the skips run straight across. `rankdir` is the reading direction:
  LR draws the U upright (encoder on the left), TB draws it on its side (encoder on top).
- Long chains are wrapped into columns (TB) or rows (LR) so that deep networks fit on a page:
  a snake whose columns alternate direction, cut where one tensor crosses (a residual unit's
  input, with its shortcut), between the units of a repeat or stage, never inside a block that
  fits in a column; a cluster running over several columns is one box per column.

The DOT text is emitted here, deterministically (the same model gives byte-identical DOT);
Graphviz's `dot` program renders it, and what dot says on stderr (e.g. that a bitmap was scaled
down) reaches the user as a `GraphvizWarning`.
"""
from __future__ import annotations

import bisect
import html
import math
import re
import shutil
import subprocess
import warnings
from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Iterable

from archc import collector
from archc.backends.report import human, items_in
from archc.errors import SpecError
from archc.ops.base import fmt_shape

if TYPE_CHECKING:
    from archc.ir.graph import Graph, LayerNode, Scope
    from archc.model import Model

FORMATS = ("dot", "svg", "png", "pdf")
RANKDIRS = ("TB", "LR")

FONT = "Helvetica,Arial,sans-serif"

# Fills by op family: Paul Tol's "light" scheme, distinct under the common colour-vision
# deficiencies and dark text reads on every one of them.
FAMILY_FILL = {
    "conv": "#77AADD",
    "pool": "#EE8866",
    "norm": "#EEDD88",
    "activation": "#44BB99",
    "linear": "#FFAABB",
    "merge": "#BBCC33",
    "resample": "#99DDFF",
    "regularization": "#DDDDDD",
    "shape": "#FFFFFF",
}
OTHER_FILL = "#F2F2F2"
BLOCK_FILL = "#E5DAF0"
TERMINAL_FILL = "#222255"
SKIP_COLOR = "#CC3311"
EDGE_COLOR = "#555555"
LABEL_COLOR = "#444444"
CLUSTER_FILLS = ("#F7F7F7", "#EDEDED")
LEGEND_ORDER = ("input", "conv", "norm", "activation", "pool", "merge", "resample",
                "regularization", "linear", "shape", "block", "output")

# wrap a chain into several columns when the longest path is longer than this many nodes
WRAP_MIN_RANKS = 20


class DiagramError(SpecError):
    """Drawing failed for a reason outside the spec (e.g. Graphviz is not installed)."""


# the catalogue code of what Graphviz says while rendering (a `GraphvizWarning`)
GRAPHVIZ_WARNING = "W-DRAW-GRAPHVIZ"


# ----------------------------------------------------------------------------- the drawn graph


@dataclass(slots=True)  # one per layer: no per-instance dict
class DNode:
    id: str  # DOT id: the layer id, the scope id, or `output:NAME`
    kind: str  # "layer" | "input" | "output" | "block"
    label: str  # HTML-like label body (already escaped)
    klass: str  # SVG class: the family, "input", "output" or "block"
    tooltip: str
    level: Any = 0  # resolution level (receptive-field jump) for the U layout
    cluster: tuple[str, ...] = ()  # path of the innermost drawn cluster
    in_level: Any = None  # the level of its (first) input, for a layer that resamples
    params: int = 0
    training: bool = False  # runs only in training (an auxiliary classifier): drawn dashed


@dataclass(slots=True)
class DEdge:
    tail: str
    head: str
    tensor: str  # the layer node id whose output this edge carries
    label: str
    skip: bool = False


@dataclass
class Cluster:
    path: tuple[str, ...]
    label: str
    tooltip: str
    items: list[Any] = field(default_factory=list)  # DNode | Cluster, in graph order


@dataclass
class Diagram:
    name: str
    nodes: dict[str, DNode]
    edges: list[DEdge]
    root: Cluster  # the top level (path ())
    families: list[str]  # legend entries present, in LEGEND_ORDER
    title: str
    u_layout: bool = False
    cluster_kinds: dict[tuple[str, ...], str] = field(default_factory=dict)  # path -> Scope.kind
    _topology: "Topology | None" = field(default=None, repr=False, compare=False)

    def topology(self) -> "Topology":
        """The drawn graph's order and neighbours, found once (skips, U layout, columns and the
        DOT text each need them)."""
        if self._topology is None:
            self._topology = _topo(self.nodes, self.edges)
        return self._topology

    def clusters(self) -> Iterable[Cluster]:
        stack = [self.root]
        while stack:
            c = stack.pop()
            if c.path:
                yield c
            stack.extend(i for i in reversed(c.items) if isinstance(i, Cluster))

    @property
    def skip_edges(self) -> list[DEdge]:
        return [e for e in self.edges if e.skip]


def _esc(text: Any) -> str:
    return html.escape(str(text), quote=True)


def _human_params(n: int) -> str:
    return f"{human(n)} params" if n >= 1000 else f"{n} param{'s' if n != 1 else ''}"


def _small(text: str, color: str = "#333333") -> str:
    return f'<FONT POINT-SIZE="9" COLOR="{color}">{text}</FONT>'


def _is_auto_name(name: str, op_name: str) -> bool:
    """Names the elaborator made up from the op (`conv2d`, `relu_2`): the op line says it all."""
    return re.fullmatch(re.escape(op_name) + r"(_\d+)?", name) is not None


def _display_name(full_id: str, cluster: tuple[str, ...]) -> str:
    prefix = ".".join(cluster) + "." if cluster else ""
    rel = full_id[len(prefix):] if full_id.startswith(prefix) else full_id
    # a repeat's instances are called 0, 1, ...: say whose
    return full_id if rel.isdigit() or not rel else rel


def _scope_type(graph: "Graph", scope: "Scope") -> str:
    if scope.kind == "repeat":
        count = scope.args.get("count")
        kids = {s.type_name for s in graph.child_scopes(scope.path)}
        if len(kids) == 1:
            return f"{count} × {next(iter(kids))}"
        return f"Repeat ×{count}"
    return scope.type_name


def build(model: "Model", depth: int | None = None) -> Diagram:
    """The drawn graph: nodes, clusters and edges at `depth`, skip edges marked."""
    graph, metrics = model.graph, model.metrics
    nodes: dict[str, DNode] = {}
    vis: dict[str, str] = {}  # layer id -> drawn node id
    families: set[str] = set()
    levels = _levels(model)

    def level_of(node_id: str) -> Any:
        return levels[node_id]

    def add_layer(node: "LayerNode", cluster: tuple[str, ...]) -> DNode:
        m = metrics.layers[node.id]
        name = _display_name(node.id, cluster)
        if node.is_input:
            label = f'<B>{_esc(name)}</B><BR/>{_small("input " + _esc(fmt_shape(node.shape)), "#FFFFFF")}'
            families.add("input")
            d = DNode(node.id, "input", label, "input", f"input {node.id}: {fmt_shape(node.shape)}",
                      level_of(node.id), cluster)
        else:
            op_line = node.op.name + (f" {node.op.label(node.attrs)}" if node.op.label(node.attrs) else "")
            if node.frozen:
                op_line += " (frozen)"
            auto = _is_auto_name(node.name, node.op.name) or node.name.isdigit()
            lines = [f"<B>{_esc(op_line)}</B>"] if auto else \
                [f"<B>{_esc(name)}</B>", _esc(op_line)]
            if m.param_count:
                lines.append(_small(_human_params(m.param_count)))
            family = node.op.family if node.op.family in FAMILY_FILL else "other"
            families.add(family)
            tip = f"{node.id}: {node.op.title} {node.op.label(node.attrs)}".rstrip() + \
                f" → {fmt_shape(node.shape)}; {m.param_count:,} params"
            d = DNode(node.id, "layer", "<BR/>".join(lines), family, tip, level_of(node.id), cluster=cluster,
                      in_level=level_of(node.inputs[0]) if node.inputs else None, params=m.param_count,
                      training=node.training_only)
        nodes[d.id] = d
        vis[node.id] = d.id
        return d

    def add_block(scope: "Scope", cluster: tuple[str, ...]) -> DNode:
        totals = metrics.scope_totals(graph, scope)
        ins = ", ".join(fmt_shape(graph.node(i).shape) for i in scope.inputs)
        outs = ", ".join(fmt_shape(graph.node(o).shape) for o in scope.outputs)
        kind = _scope_type(graph, scope)
        lines = [f"<B>{_esc(_display_name(scope.id, cluster))}</B>", _esc(kind),
                 _small(_human_params(totals.params)), _small(_esc(f"{ins} → {outs}"))]
        families.add("block")
        lvl = level_of(scope.outputs[0]) if scope.outputs else 0
        inside = graph.nodes_under(scope.path)
        d = DNode(scope.id, "block", "<BR/>".join(lines), "block",
                  f"{scope.id}: {kind}; {totals.params:,} params; {ins} → {outs}", lvl, cluster,
                  params=totals.params, training=bool(inside) and all(n.training_only for n in inside))
        nodes[d.id] = d
        for n in inside:
            vis[n.id] = d.id
        return d

    def walk(cluster: Cluster, level: int) -> None:
        for item in items_in(graph, cluster.path):
            if hasattr(item, "op"):
                cluster.items.append(add_layer(item, cluster.path))
                continue
            scope: Scope = item
            if depth is not None and level >= depth:
                cluster.items.append(add_block(scope, cluster.path))
                continue
            totals = metrics.scope_totals(graph, scope)
            kind = _scope_type(graph, scope)
            sub = Cluster(scope.path,
                          f'<B>{_esc(_display_name(scope.id, cluster.path))}</B>  {_esc(kind)}'
                          f'  {_small(_esc(_human_params(totals.params)), "#555555")}',
                          f"{scope.id}: {kind}; {totals.params:,} params")
            cluster.items.append(sub)
            walk(sub, level + 1)

    root = Cluster((), "", "")
    walk(root, 0)

    # edges: one per (tensor, drawn consumer)
    edges: list[DEdge] = []
    seen: set[tuple[str, str]] = set()
    for node in graph.layers():
        head = vis[node.id]
        for src in node.inputs:
            tail = vis[src]
            if tail == head or (src, head) in seen:
                continue
            seen.add((src, head))
            edges.append(DEdge(tail, head, src, fmt_shape(graph.node(src).shape)))
    for name, node_id in graph.outputs.items():
        out_id = f"output:{name}"
        families.add("output")
        training = name in graph.training_outputs
        what = "training output" if training else "output"
        nodes[out_id] = DNode(out_id, "output", f'<B>{_esc(name)}</B><BR/>{_small(what, "#FFFFFF")}',
                              "output", f"{what} {name}: {fmt_shape(graph.node(node_id).shape)}",
                              level_of(node_id), (), training=training)
        root.items.append(nodes[out_id])
        edges.append(DEdge(vis[node_id], out_id, node_id, fmt_shape(graph.node(node_id).shape)))

    topology = _topo(nodes, edges)
    _mark_skips(nodes, edges, graph, topology)
    t = metrics.totals
    title = f"{graph.name} · {human(t.params)} params" if t.params >= 1000 else f"{graph.name} · {t.params} params"
    if isinstance(t.macs, int):
        title += f" · {human(t.macs)} MACs"
    present = [f for f in LEGEND_ORDER if f in families] + sorted(families - set(LEGEND_ORDER))
    d = Diagram(graph.name, nodes, edges, root, present, title, _topology=topology)
    d.cluster_kinds = {c.path: graph.scopes[c.path].kind for c in d.clusters()}
    d.u_layout = _is_u_shaped(d)
    return d


def _levels(model: "Model") -> dict[str, Any]:
    """Resolution level of each layer: its receptive-field jump (input pixels between
    neighbouring outputs), inherited through non-spatial layers."""
    out: dict[str, Any] = {}
    for node in model.graph.layers():
        f = model.metrics.layers[node.id].field
        if f is not None and f.jump:
            out[node.id] = max(f.jump)
        else:
            out[node.id] = max((out[i] for i in node.inputs), default=1)
    return out


def _between(starts: Iterable[str], end: str, index: dict[str, int], succ: dict[str, list[str]],
             pred: dict[str, list[str]]) -> set[str]:
    """The nodes on some path from one of `starts` (included) to `end` (excluded), found by
    searching only the topological span between them: linear in that span, so the diagram's
    analyses stay linear for chains of local shortcuts (residual stages), where descendant sets
    of the whole graph cost O(layers²)."""
    lo, hi = min(index[s] for s in starts), index[end]
    forward: set[str] = set()
    stack = [s for s in starts if index[s] < hi]
    while stack:
        n = stack.pop()
        if n in forward:
            continue
        forward.add(n)
        stack.extend(m for m in succ[n] if index[m] < hi and m not in forward)
    backward: set[str] = set()
    stack = [p for p in pred[end] if index[p] >= lo]
    while stack:
        n = stack.pop()
        if n in backward:
            continue
        backward.add(n)
        stack.extend(m for m in pred[n] if index[m] >= lo and m not in backward)
    return forward & backward


@dataclass(slots=True)
class Topology:
    order: list[str]  # drawn node ids, topologically
    succ: dict[str, list[str]]
    pred: dict[str, list[str]]
    index: dict[str, int]  # position in `order`


def _topo(nodes: dict[str, DNode], edges: list[DEdge]) -> Topology:
    succ: dict[str, list[str]] = {n: [] for n in nodes}
    pred: dict[str, list[str]] = {n: [] for n in nodes}
    for e in edges:
        if e.head not in succ[e.tail]:
            succ[e.tail].append(e.head)
            pred[e.head].append(e.tail)
    order: list[str] = []
    indeg = {n: len(pred[n]) for n in nodes}
    ready = deque(n for n in nodes if indeg[n] == 0)
    while ready:
        n = ready.popleft()
        order.append(n)
        for s in succ[n]:
            indeg[s] -= 1
            if indeg[s] == 0:
                ready.append(s)
    return Topology(order, succ, pred, {n: i for i, n in enumerate(order)})


def _mark_skips(nodes: dict[str, DNode], edges: list[DEdge], graph: "Graph", topology: Topology) -> None:
    order, succ, pred, index = topology.order, topology.succ, topology.pred, topology.index
    skip_pairs: set[tuple[str, str]] = set()
    # an edge bypassing another way from its tail to its head through a layer with parameters
    # (not e.g. a crop that only reads the tail's size)
    for a in order:
        if len(succ[a]) < 2:
            continue
        for b in succ[a]:
            others = [c for c in succ[a] if c != b]
            if any(nodes[w].params for w in _between(others, b, index, succ, pred)):
                skip_pairs.add((a, b))
    # the shortest branch into a residual add is its shortcut (a projection, e.g. downsample)
    for m in order:
        d = nodes[m]
        if d.kind != "layer" or graph.node(m).op.name != "add" or len(pred[m]) < 2:
            continue
        branches = []
        for p in pred[m]:
            chain, cur = [], p
            while len(pred[cur]) == 1 and len(succ[cur]) == 1:
                chain.append(cur)
                cur = pred[cur][0]
            branches.append((chain, cur))
        forks = {fork for _, fork in branches}
        lengths = sorted(len(c) for c, _ in branches)
        if len(forks) != 1 or lengths[0] == lengths[1]:
            continue
        chain, fork = min(branches, key=lambda b: len(b[0]))
        path = [fork, *reversed(chain), m]
        skip_pairs.update(zip(path, path[1:]))
    for e in edges:
        e.skip = (e.tail, e.head) in skip_pairs


def _is_u_shaped(d: Diagram) -> bool:
    """A skip edge joins two tensors of the same resolution around a coarser one."""
    t = d.topology()
    for e in d.skip_edges:
        a, b = d.nodes[e.tail], d.nodes[e.head]
        if a.level != b.level:
            continue
        inside = _between(t.succ[e.tail], e.head, t.index, t.succ, t.pred)
        if any(d.nodes[w].level > a.level for w in inside):
            return True
    return False


# ----------------------------------------------------------------------------- DOT text


def _q(text: str) -> str:
    """A DOT quoted string: nothing in it can end the string or the statement."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "") + '"'


class Html(str):
    """An HTML-like label body, built from escaped text (`_esc`): written as `<...>`."""


def _attrs(pairs: Iterable[tuple[str, Any]]) -> str:
    out = []
    for k, v in pairs:
        if v is None:
            continue
        out.append(f"{k}=<{v}>" if isinstance(v, Html) else f"{k}={_q(str(v))}")
    return "[" + ", ".join(out) + "]"


def _node_style(n: DNode) -> list[tuple[str, Any]]:
    dashed = [("style", "rounded,filled,dashed")] if n.training else []
    if n.kind in ("input", "output"):
        return [("fillcolor", TERMINAL_FILL), ("fontcolor", "#FFFFFF"), ("color", TERMINAL_FILL),
                ("style", "rounded,filled,bold" + (",dashed" if n.training else "")), ("penwidth", "2")]
    if n.kind == "block":
        return [("fillcolor", BLOCK_FILL), ("color", "#6A5A8C"), ("peripheries", "2"), *dashed]
    return [("fillcolor", FAMILY_FILL.get(n.klass, OTHER_FILL)), *dashed]


def _legend(d: Diagram) -> "Html":
    cells = []
    for f in d.families:
        if f in ("input", "output"):
            cells.append(f'<TD BGCOLOR="{TERMINAL_FILL}" BORDER="1"><FONT COLOR="#FFFFFF">{f}</FONT></TD>')
        else:
            fill = BLOCK_FILL if f == "block" else FAMILY_FILL.get(f, OTHER_FILL)
            cells.append(f'<TD BGCOLOR="{fill}" BORDER="1">{_esc(f)}</TD>')
    if d.skip_edges:
        cells.append(f'<TD BORDER="0"><FONT COLOR="{SKIP_COLOR}">━ skip</FONT></TD>')
    return Html('<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="3" CELLPADDING="3">'
                f'<TR><TD COLSPAN="{len(cells)}"><B>{_esc(d.title)}</B></TD></TR>'
                f'<TR>{"".join(cells)}</TR></TABLE>')


@dataclass
class Columns:
    """A long network wrapped as a snake: column k runs forward for even k, backward for odd k,
    and the one tensor crossing each cut runs straight across to the next column."""
    column: dict[str, int]
    across: set[tuple[str, str]]  # edges joining column k to k+1 at the cut: drawn flat
    main: set[tuple[str, str]]  # the one of them per cut that pulls the columns level


# a node is about 2.4 in wide and a rank about 0.75 in tall (label, shape and spacing)
NODE_WIDTH_IN, RANK_HEIGHT_IN = 2.4, 0.75


def _columns(d: Diagram, page_ratio: float = 1.1) -> Columns | None:
    """Where to cut a long chain into columns so that the drawing is about `page_ratio` times
    as tall as wide. A cut goes between two ranks crossed by one tensor only (which may feed
    several layers: a residual unit's input feeds its first convolution and its shortcut), so
    no skip connection is cut but the one that starts at the cut; it goes through repeats,
    sequentials and blocks too tall for one column, never through a block that fits."""
    t = d.topology()
    order, succ, pred = t.order, t.succ, t.pred
    rank: dict[str, int] = {}
    for n in order:
        rank[n] = max((rank[p] + 1 for p in pred[n]), default=0)
    for n in order:  # a source other than an input (a learned parameter) sits by its consumer
        if not pred[n] and succ[n] and d.nodes[n].kind != "input":
            rank[n] = max(0, min(rank[s] for s in succ[n]) - 1)
    total = max(rank.values(), default=0) + 1
    if total < WRAP_MIN_RANKS or d.u_layout:
        return None
    # how wide a column is: side branches (a projection shortcut) and the skip edges routed
    # beside the chain widen it
    per_rank: dict[int, int] = {}
    for n in d.nodes:
        per_rank[rank[n]] = per_rank.get(rank[n], 0) + 1
    skips = sum(1 for e in d.edges if e.skip)
    width = NODE_WIDTH_IN * (sum(per_rank.values()) / total + min(1.0, skips / max(1, total / 8)) * 0.5)
    columns = max(1, round(math.sqrt(total * RANK_HEIGHT_IN / (width * page_ratio))))
    if columns < 2:
        return None
    crossing: dict[int, list[tuple[str, str]]] = {}
    for e in d.edges:
        for r in range(rank[e.tail], rank[e.head]):
            crossing.setdefault(r, []).append((e.tail, e.head))
    height = total / columns
    span: dict[tuple[str, ...], list[int]] = {}  # cluster -> [first rank, last rank]
    for n, node in d.nodes.items():
        for k in range(1, len(node.cluster) + 1):
            lo_hi = span.setdefault(node.cluster[:k], [rank[n], rank[n]])
            lo_hi[0], lo_hi[1] = min(lo_hi[0], rank[n]), max(lo_hi[1], rank[n])
    cut_through: dict[int, list[tuple[str, ...]]] = {}  # boundary -> clusters on both sides
    for path, (lo, hi) in span.items():
        for r in range(lo, hi):
            cut_through.setdefault(r, []).append(path)

    def splittable(r: int) -> bool:
        return all(d.cluster_kinds.get(c) in ("repeat", "sequential") or span[c][1] - span[c][0] + 1 > height
                   for c in cut_through.get(r, ()))

    # boundary -> preference: the fewer clusters cut the better (between stages rather than
    # inside one), then one layer on each side rather than a fan-out into branches
    cands: dict[int, tuple[int, int]] = {}
    for r, pairs in crossing.items():
        if len({t for t, _ in pairs}) == 1 and splittable(r):
            fan_out = sum(1 for _, h in pairs if rank[h] == r + 1) > 1
            cands[r] = (-len(cut_through.get(r, ())), -fan_out)
    cuts: list[int] = []
    start = 0
    ranked = sorted(cands)  # searched by bisection: the columns, and so the cuts, grow with the model

    def between(lo: float, hi: float) -> list[int]:  # candidates r with lo <= r + 1 <= hi
        return ranked[bisect.bisect_left(ranked, math.ceil(lo - 1)):bisect.bisect_right(ranked, math.floor(hi - 1))]

    while total - start > height * 1.2:
        target = start + height - 1
        window = between(start + height * 0.6, start + height * 1.3)
        if not window:  # a long block that cannot be cut: the nearest place after it
            after = ranked[bisect.bisect_right(ranked, math.floor(start + height * 0.6 - 1)):]
            window = sorted(after, key=lambda r: abs(r - target))[:1]
            if not window or total - window[0] - 1 < height * 0.3:
                break
        best = max(window, key=lambda r: (cands[r], -abs(r - target), -r))
        cuts.append(best)
        start = best + 1
    if not cuts:
        return None
    column = {n: bisect.bisect_left(cuts, rank[n]) for n in d.nodes}  # cuts below its rank
    position = {n: i for i, n in enumerate(order)}
    across: set[tuple[str, str]] = set()
    main: set[tuple[str, str]] = set()
    for c in cuts:
        flat = sorted((p for p in crossing[c] if rank[p[1]] == c + 1),
                      key=lambda p: (d.nodes[p[1]].kind == "output", position[p[1]]))
        across.update(flat)
        main.add(flat[0])
    return Columns(column, across, main)


def _common_cluster(d: Diagram, tail: str, head: str) -> tuple[str, ...]:
    a, b = d.nodes[tail].cluster, d.nodes[head].cluster
    common = 0
    while common < min(len(a), len(b)) and a[common] == b[common]:
        common += 1
    return a[:common]


def _between_clusters(d: Diagram, tail: str, head: str) -> bool:
    a, b = d.nodes[tail].cluster, d.nodes[head].cluster
    return bool(a) and bool(b) and a != b


def _u_ranks(d: Diagram) -> dict[str, int]:
    """The U layout's rank of each node: two per resolution level, so that a layer changing the
    level (pooling, strided or transposed convolution) sits between its input's row and its own."""
    index = {lv: i for i, lv in enumerate(sorted({n.level for n in d.nodes.values()}))}
    ranks = {}
    for n in d.nodes.values():
        if n.in_level is not None and n.in_level != n.level and n.in_level in index:
            ranks[n.id] = index[n.in_level] + index[n.level]
        else:
            ranks[n.id] = 2 * index[n.level]
    return ranks


def to_dot(d: Diagram, rankdir: str = "TB") -> str:
    if rankdir not in RANKDIRS:
        raise DiagramError(f"unknown reading direction rankdir={rankdir!r}",
                           hint=f"choose one of {', '.join(RANKDIRS)} (top to bottom, left to right)",
                           code="E-DRAW-UNKNOWN-RANKDIR")
    # the U layout ranks by resolution level, across the reading direction
    gv_rankdir = ({"TB": "LR", "LR": "TB"}[rankdir]) if d.u_layout else rankdir
    cols = None if d.u_layout else _columns(d)
    u_rank = _u_ranks(d) if d.u_layout else {}
    lines = [f"digraph {_q(d.name)} {{"]
    graph_attrs = [("rankdir", gv_rankdir), ("newrank", "true"), ("compound", "true"),
                   ("nodesep", "0.25" if gv_rankdir == "TB" else "0.4" if d.u_layout else "0.18"),
                   ("ranksep", "0.3" if gv_rankdir == "TB" else "0.45"),
                   ("fontname", FONT), ("fontsize", "12"), ("labelloc", "t"), ("labeljust", "l"),
                   ("bgcolor", "white"), ("pad", "0.2"), ("id", "graph:" + d.name),
                   ("label", _legend(d))]
    lines.append("  graph " + _attrs(graph_attrs) + ";")
    lines.append("  node " + _attrs([("shape", "box"), ("style", "rounded,filled"), ("fontname", FONT),
                                    ("fontsize", "11"), ("margin", "0.1,0.04"), ("color", "#444444"),
                                    ("penwidth", "1"), ("height", "0.3")]) + ";")
    lines.append("  edge " + _attrs([("fontname", FONT), ("fontsize", "8"), ("fontcolor", LABEL_COLOR),
                                    ("color", EDGE_COLOR), ("arrowsize", "0.6"), ("penwidth", "1")]) + ";")

    spread: dict[int, list[int]] = {}  # id(cluster) -> the columns its nodes lie in

    def columns_of(item: Cluster | DNode) -> list[int]:
        if cols is None:
            return [0]
        if isinstance(item, DNode):
            return [cols.column[item.id]]
        if id(item) not in spread:
            spread[id(item)] = sorted({c for i in item.items for c in columns_of(i)})
        return spread[id(item)]

    by_column: dict[int, dict[int, list[Cluster | DNode]]] = {}  # id(cluster) -> column -> items

    def items_in(cluster: Cluster, column: int | None) -> list[Cluster | DNode]:
        """A cluster's items that lie in `column` (all: None), in order; grouped once per
        cluster, since the columns grow with the model and each is emitted in turn."""
        if column is None:
            return cluster.items
        if id(cluster) not in by_column:
            table: dict[int, list[Cluster | DNode]] = {}
            for item in cluster.items:
                for c in columns_of(item):
                    table.setdefault(c, []).append(item)
            by_column[id(cluster)] = table
        return by_column[id(cluster)].get(column, [])

    def emit(cluster: Cluster, indent: str, depth_: int, column: int | None = None) -> None:
        for item in items_in(cluster, column):
            if isinstance(item, Cluster):
                # a cluster running over several columns is one box per column (dot's clusters
                # are rectangles: one box over two columns would cover what lies between)
                whole = columns_of(item)
                spans = whole if column is None else [column]
                for col in spans:
                    part = "" if len(whole) == 1 else f"#{col}"
                    label = item.label if col == whole[0] else item.label + " " + _small("(continued)", "#555555")
                    lines.append(f"{indent}subgraph {_q('cluster_' + '.'.join(item.path) + part)} {{")
                    lines.append(indent + "  graph " + _attrs([
                        ("label", Html(label)), ("tooltip", item.tooltip),
                        ("id", "cluster:" + ".".join(item.path) + part),
                        ("class", d.cluster_kinds.get(item.path, "block")),
                        ("style", "rounded,filled"), ("fillcolor", CLUSTER_FILLS[depth_ % 2]),
                        ("color", "#9A9A9A"), ("fontsize", "11"), ("labeljust", "l"), ("margin", "8")]) + ";")
                    emit(item, indent + "  ", depth_ + 1, col if len(whole) > 1 else column)
                    lines.append(f"{indent}}}")
            else:
                n: DNode = item
                lines.append(f"{indent}{_q(n.id)} " + _attrs([
                    ("id", n.id), ("class", n.klass), ("label", Html(n.label)), ("tooltip", n.tooltip),
                    *_node_style(n)]) + ";")

    if cols is None:
        emit(d.root, "  ", 0)
    else:
        # each column an invisible cluster, in reading order: dot keeps them side by side
        n_cols = max(cols.column.values()) + 1
        for k in range(n_cols):
            lines.append(f"  subgraph {_q(f'cluster_column:{k}')} {{")
            lines.append("    graph " + _attrs([("id", f"column:{k}"), ("class", "column"), ("label", ""),
                                                ("peripheries", "0"), ("margin", "4")]) + ";")
            emit(d.root, "    ", 0, k)
            lines.append("  }")
        # mincross alone may swap two columns (both orders cross as little): an invisible anchor
        # above each column, the anchors on one rank chained left to right, each tied to the top
        # of its column, makes any other order cost crossings
        order = d.topology().index
        tops = {}
        for n, k in cols.column.items():
            if k not in tops or (order[n] > order[tops[k]] if k % 2 else order[n] < order[tops[k]]):
                tops[k] = n
        for k in range(n_cols):
            lines.append(f"  {_q(f'anchor:{k}')} " + _attrs([
                ("id", f"anchor:{k}"), ("class", "anchor"), ("shape", "point"), ("style", "invis"),
                ("width", "0.01"), ("label", "")]) + ";")
        lines.append("  { rank=same; " + " ".join(_q(f"anchor:{k}") + ";" for k in range(n_cols)) + " }")
        for k in range(n_cols):
            if k + 1 < n_cols:
                lines.append(f"  {_q(f'anchor:{k}')} -> {_q(f'anchor:{k + 1}')} " + _attrs([
                    ("id", f"order:{k}"), ("class", "order"), ("style", "invis"), ("weight", "10")]) + ";")
            lines.append(f"  {_q(f'anchor:{k}')} -> {_q(tops[k])} " + _attrs([
                ("id", f"order:{k}:top"), ("class", "order"), ("style", "invis"), ("weight", "10")]) + ";")

    junctions: list[str] = []
    for e in d.edges:
        tail, head = e.tail, e.head
        attrs: list[tuple[str, Any]] = [("id", f"edge:{e.tensor}:{e.head}"),
                                        ("class", "skip" if e.skip else "flow"),
                                        ("label", e.label), ("tooltip", f"{e.tensor} → {e.head}: {e.label}")]
        if d.u_layout:
            rt, rh = u_rank[tail], u_rank[head]
            if rh < rt:  # upsampling: drawn going back up, ranked as the reverse edge
                tail, head = head, tail
                attrs.append(("dir", "back"))
            attrs.append(("minlen", str(abs(rh - rt))))
            if rh == rt and gv_rankdir == "LR":  # a short vertical flat edge: label beside it, not on it
                attrs = [("xlabel", v) if k == "label" else (k, v) for k, v in attrs]
        elif cols is not None:
            pair = (e.tail, e.head)
            if pair in cols.across:
                attrs += [("weight", "10" if pair in cols.main else "1"), ("minlen", "0")]
            elif cols.column[e.head] % 2:  # into a column running backward
                tail, head = head, tail
                attrs.append(("dir", "back"))
        if e.skip:
            attrs += [("color", SKIP_COLOR), ("fontcolor", SKIP_COLOR), ("penwidth", "1.6"),
                      ("weight", "0" if not d.u_layout else "1")]
        if ("minlen", "0") in attrs and _between_clusters(d, e.tail, e.head):
            # dot draws a flat edge between two clusters twice (a long-standing dot bug), so the
            # edge dips through a point one rank down, outside both; the first half keeps the
            # edge's id, class and label
            j = f"junction:{e.tensor}:{e.head}"
            color = SKIP_COLOR if e.skip else EDGE_COLOR
            junctions.append(f"  {_q(j)} " + _attrs([
                ("id", j), ("class", "junction"), ("shape", "point"), ("width", "0.01"), ("label", ""),
                ("color", color)]) + ";")
            first = [a for a in attrs if a[0] not in ("dir", "minlen")] + [("arrowhead", "none"), ("minlen", "1")]
            second = [("id", f"continuation:{e.tensor}:{e.head}"), ("class", "continuation"), ("color", color),
                      ("penwidth", "1.6" if e.skip else "1"), ("dir", "back"), ("minlen", "1")]
            lines.append(f"  {_q(e.tail)} -> {_q(j)} " + _attrs(first) + ";")
            lines.append(f"  {_q(e.head)} -> {_q(j)} " + _attrs(second) + ";")
            continue
        lines.append(f"  {_q(tail)} -> {_q(head)} " + _attrs(attrs) + ";")
    lines += junctions
    lines.append("}")
    return "\n".join(lines) + "\n"


@collector.paused()
def render_dot(model: "Model", depth: int | None = None, rankdir: str = "TB") -> str:
    return to_dot(build(model, depth), rankdir)


# ----------------------------------------------------------------------------- rendering


INSTALL_HINT = ("install Graphviz: `apt-get install graphviz` (Debian/Ubuntu), `brew install graphviz` "
                "(macOS), `conda install graphviz`; or write the diagram as .dot and render it elsewhere")


def find_dot() -> str | None:
    """The `dot` program, or None. (Tests replace this to simulate a machine without it.)"""
    return shutil.which("dot")


def require_dot(format: str) -> None:
    if find_dot() is None:
        raise DiagramError(f"rendering {format.upper()} needs Graphviz's `dot` program, which is not on PATH",
                           hint=INSTALL_HINT, code="E-DRAW-DOT-MISSING")


class GraphvizWarning(UserWarning):
    """Something Graphviz's `dot` said while rendering, e.g. that a drawing too large for a
    bitmap was scaled down: issued with `warnings.warn`; `archc draw` prints it with its
    catalogue code (`code`) and `hint`."""
    code = GRAPHVIZ_WARNING
    hint = ("the diagram was still drawn; a bitmap too large for Graphviz is scaled down: draw .svg or "
            ".pdf (no size limit), or fold blocks with --depth")


def _dot_messages(stderr: bytes) -> list[str]:
    """dot's messages, one per line, without its `Warning: ` / `dot: ` prefixes."""
    out = []
    for line in stderr.decode(errors="replace").splitlines():
        line = re.sub(r"^(?:Warning|dot|Error):\s*", "", line.strip())
        if line and line not in out:
            out.append(line)
    return out


def render(dot_text: str, format: str) -> bytes:
    """DOT text → SVG/PNG/PDF bytes through Graphviz's `dot` (`format` "dot" returns the text).
    What dot says on stderr is not swallowed: each message is a `GraphvizWarning`."""
    if format == "dot":
        return dot_text.encode()
    if format not in FORMATS:
        raise DiagramError(f"unknown diagram format '{format}'", hint=f"choose one of {', '.join(FORMATS)}",
                           code="E-DRAW-UNKNOWN-FORMAT")
    require_dot(format)
    try:
        proc = subprocess.run([find_dot() or "dot", f"-T{format}"], input=dot_text.encode(),
                              capture_output=True, check=False)
    except FileNotFoundError:
        raise DiagramError(f"rendering {format.upper()} needs Graphviz's `dot` program, which is not on PATH",
                           hint=INSTALL_HINT, code="E-DRAW-DOT-MISSING") from None
    messages = _dot_messages(proc.stderr)
    if proc.returncode != 0 or not proc.stdout:
        raise DiagramError("Graphviz's dot failed to render the diagram: " +
                           ("; ".join(messages) or f"exit status {proc.returncode}"),
                           hint="if dot says no formats are found, run `dot -c` as the user who installed "
                                "Graphviz; otherwise write .dot instead and report this as a bug",
                           code="E-DRAW-RENDER-FAILED")
    for message in messages:
        warnings.warn(GraphvizWarning(f"Graphviz: {message}"), stacklevel=2)
    return proc.stdout


def format_for(path: str | None, explicit: str | None) -> str:
    if explicit:
        if explicit not in FORMATS:
            raise DiagramError(f"unknown diagram format '{explicit}'", hint=f"choose one of {', '.join(FORMATS)}",
                               code="E-DRAW-UNKNOWN-FORMAT")
        return explicit
    if path:
        suffix = path.rsplit(".", 1)[-1].lower() if "." in path.rsplit("/", 1)[-1] else ""
        if suffix in FORMATS:
            return suffix
        if suffix == "gv":
            return "dot"
        raise DiagramError(f"cannot tell the diagram format from '{path}'",
                           hint=f"use a file name ending in .{', .'.join(FORMATS)}, or pass --format",
                           code="E-DRAW-UNKNOWN-FORMAT")
    return "dot"


def draw(model: "Model", format: str = "dot", depth: int | None = None, rankdir: str = "TB") -> bytes:
    """The diagram of `model` as bytes in `format` (dot, svg, png or pdf)."""
    return render(render_dot(model, depth, rankdir), format)
