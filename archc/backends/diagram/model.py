"""What a diagram draws: one node per layer, or per block instance folded below `depth`, the
expanded blocks as clusters, one edge per tensor and consumer, skip edges marked."""
from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Iterable

from archc.backends.diagram.analysis import Topology, find_topology, is_u_shaped, mark_skips
from archc.backends.diagram.palette import FAMILY_FILL, LEGEND_ORDER
from archc.backends.report import human, items_in
from archc.errors import SpecError
from archc.ops.base import fmt_shape

if TYPE_CHECKING:
    from archc.ir.graph import Graph, LayerNode, Scope
    from archc.model import Model


class DiagramError(SpecError):
    """Drawing failed for a reason outside the spec (e.g. Graphviz is not installed)."""


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
    _topology: Topology | None = field(default=None, repr=False, compare=False)

    def topology(self) -> Topology:
        """The drawn graph's order and neighbours, found once (skips, U layout, columns and the
        DOT text each need them)."""
        if self._topology is None:
            self._topology = find_topology(self.nodes, self.edges)
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


def esc(text: Any) -> str:
    return html.escape(str(text), quote=True)


def _human_params(n: int) -> str:
    return f"{human(n)} params" if n >= 1000 else f"{n} param{'s' if n != 1 else ''}"


def small(text: str, color: str = "#333333") -> str:
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
    if scope.shares is not None:  # another call of a shared block: its weights are the first's
        return f"{scope.type_name} = {'.'.join(scope.shares)} (shared)"
    return scope.type_name


def build(model: "Model", depth: int | None = None) -> Diagram:
    """The drawn graph: nodes, clusters and edges at `depth`, skip edges marked."""
    graph, metrics = model.graph, model.metrics
    layer_metrics = metrics.layers
    nodes: dict[str, DNode] = {}
    vis: dict[str, str] = {}  # layer id -> drawn node id
    families: set[str] = set()
    levels = _levels(model)

    def level_of(node_id: str) -> Any:
        return levels[node_id]

    def add_layer(node: "LayerNode", cluster: tuple[str, ...]) -> DNode:
        m = layer_metrics[node.id]
        name = _display_name(node.id, cluster)
        if node.is_input:
            label = f'<B>{esc(name)}</B><BR/>{small("input " + esc(fmt_shape(node.shape)), "#FFFFFF")}'
            families.add("input")
            d = DNode(node.id, "input", label, "input", f"input {node.id}: {fmt_shape(node.shape)}",
                      level_of(node.id), cluster)
        else:
            op_line = node.op.name + (f" {node.op.label(node.attrs)}" if node.op.label(node.attrs) else "")
            if node.frozen:
                op_line += " (frozen)"
            if node.unused:
                op_line += " (unused: never run)"
            if graph.shared_call(node) is not None:
                op_line += f" = {node.shares} (shared)"
            auto = _is_auto_name(node.name, node.op.name) or node.name.isdigit()
            lines = [f"<B>{esc(op_line)}</B>"] if auto else \
                [f"<B>{esc(name)}</B>", esc(op_line)]
            if m.param_count:
                lines.append(small(_human_params(m.param_count)))
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
        lines = [f"<B>{esc(_display_name(scope.id, cluster))}</B>", esc(kind),
                 small(_human_params(totals.params)), small(esc(f"{ins} → {outs}"))]
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
                          f'<B>{esc(_display_name(scope.id, cluster.path))}</B>  {esc(kind)}'
                          f'  {small(esc(_human_params(totals.params)), "#555555")}',
                          f"{scope.id}: {kind}; {totals.params:,} params")
            cluster.items.append(sub)
            walk(sub, level + 1)

    root = Cluster((), "", "")
    walk(root, 0)
    del walk  # (it calls itself through its closure: a cycle holding the model, left to the collector)

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
        nodes[out_id] = DNode(out_id, "output", f'<B>{esc(name)}</B><BR/>{small(what, "#FFFFFF")}',
                              "output", f"{what} {name}: {fmt_shape(graph.node(node_id).shape)}",
                              level_of(node_id), (), training=training)
        root.items.append(nodes[out_id])
        edges.append(DEdge(vis[node_id], out_id, node_id, fmt_shape(graph.node(node_id).shape)))

    topology = find_topology(nodes, edges)
    mark_skips(nodes, edges, graph, topology)
    t = metrics.totals
    title = f"{graph.name} · {human(t.params)} params" if t.params >= 1000 else f"{graph.name} · {t.params} params"
    if isinstance(t.macs, int):
        title += f" · {human(t.macs)} MACs"
    present = [f for f in LEGEND_ORDER if f in families] + sorted(families - set(LEGEND_ORDER))
    d = Diagram(graph.name, nodes, edges, root, present, title, _topology=topology)
    d.cluster_kinds = {c.path: graph.scopes[c.path].kind for c in d.clusters()}
    d.u_layout = is_u_shaped(d)
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
