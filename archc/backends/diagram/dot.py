"""The diagram as DOT text, emitted deterministically: the same model gives byte-identical DOT."""
from __future__ import annotations

from typing import Any, Iterable

from archc.backends.diagram.layout import columns, u_ranks
from archc.backends.diagram.model import Cluster, Diagram, DiagramError, DNode, esc, small
from archc.backends.diagram.palette import (BLOCK_FILL, CLUSTER_FILLS, EDGE_COLOR, FAMILY_FILL, FONT,
                                            LABEL_COLOR, OTHER_FILL, SKIP_COLOR, TERMINAL_FILL)

RANKDIRS = ("TB", "LR")


def quote(text: str) -> str:
    """A DOT quoted string: nothing in it can end the string or the statement."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "") + '"'


class Html(str):
    """An HTML-like label body, built from escaped text (`esc`): written as `<...>`."""


def _attrs(pairs: Iterable[tuple[str, Any]]) -> str:
    out = []
    for k, v in pairs:
        if v is None:
            continue
        out.append(f"{k}=<{v}>" if isinstance(v, Html) else f"{k}={quote(str(v))}")
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
            cells.append(f'<TD BGCOLOR="{fill}" BORDER="1">{esc(f)}</TD>')
    if d.skip_edges:
        cells.append(f'<TD BORDER="0"><FONT COLOR="{SKIP_COLOR}">━ skip</FONT></TD>')
    return Html('<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="3" CELLPADDING="3">'
                f'<TR><TD COLSPAN="{len(cells)}"><B>{esc(d.title)}</B></TD></TR>'
                f'<TR>{"".join(cells)}</TR></TABLE>')


def _between_clusters(d: Diagram, tail: str, head: str) -> bool:
    a, b = d.nodes[tail].cluster, d.nodes[head].cluster
    return bool(a) and bool(b) and a != b


def to_dot(d: Diagram, rankdir: str = "TB") -> str:
    if rankdir not in RANKDIRS:
        raise DiagramError(f"unknown reading direction rankdir={rankdir!r}",
                           hint=f"choose one of {', '.join(RANKDIRS)} (top to bottom, left to right)",
                           code="E-DRAW-UNKNOWN-RANKDIR")
    # the U layout ranks by resolution level, one row each, whatever the reading direction: the
    # encoder goes down the left, the decoder comes back up the right, the skips run across, and
    # each level's layers read left to right (on its side, a level's layers would be stacked in
    # whatever order dot's crossing minimisation leaves them)
    gv_rankdir = "TB" if d.u_layout else rankdir
    cols = None if d.u_layout else columns(d)
    u_rank = u_ranks(d) if d.u_layout else {}
    lines = [f"digraph {quote(d.name)} {{"]
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
                    label = item.label if col == whole[0] else item.label + " " + small("(continued)", "#555555")
                    lines.append(f"{indent}subgraph {quote('cluster_' + '.'.join(item.path) + part)} {{")
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
                lines.append(f"{indent}{quote(n.id)} " + _attrs([
                    ("id", n.id), ("class", n.klass), ("label", Html(n.label)), ("tooltip", n.tooltip),
                    *_node_style(n)]) + ";")

    if cols is None:
        emit(d.root, "  ", 0)
    else:
        # each column an invisible cluster, in reading order: dot keeps them side by side
        n_cols = max(cols.column.values()) + 1
        for k in range(n_cols):
            lines.append(f"  subgraph {quote(f'cluster_column:{k}')} {{")
            lines.append("    graph " + _attrs([("id", f"column:{k}"), ("class", "column"), ("label", ""),
                                                ("peripheries", "0"), ("margin", "4")]) + ";")
            emit(d.root, "    ", 0, k)
            lines.append("  }")
        # mincross alone may swap two columns (both orders cross as little): an invisible anchor
        # above each column, the anchors on one rank chained left to right, each tied to the top
        # of its column, makes any other order cost crossings. Between two anchors, on their
        # rank, the top of the joint that carries the cut tensor from one column to the next
        order = d.topology().index
        tops = {}
        for n, k in cols.column.items():
            if k not in tops or order[n] < order[tops[k]]:
                tops[k] = n
        skips = {(e.tail, e.head) for e in d.edges if e.skip}
        row = []
        for k in range(n_cols):
            lines.append(f"  {quote(f'anchor:{k}')} " + _attrs([
                ("id", f"anchor:{k}"), ("class", "anchor"), ("shape", "point"), ("style", "invis"),
                ("width", "0.01"), ("label", "")]) + ";")
            row.append(f"anchor:{k}")
            if k < len(cols.joints):
                color = SKIP_COLOR if set(cols.joints[k].edges) <= skips else EDGE_COLOR
                for end in ("in", "out"):  # in: at the top, out: below the column's bottom
                    lines.append(f"  {quote(f'joint:{k}:{end}')} " + _attrs([
                        ("id", f"joint:{k}:{end}"), ("class", "joint"), ("shape", "point"), ("width", "0.01"),
                        ("label", ""), ("color", color)]) + ";")
                row.append(f"joint:{k}:in")
        lines.append("  { rank=same; " + " ".join(quote(r) + ";" for r in row) + " }")
        for a, b in zip(row, row[1:]):
            lines.append(f"  {quote(a)} -> {quote(b)} " + _attrs([
                ("id", f"order:{a}"), ("class", "order"), ("style", "invis"), ("weight", "10")]) + ";")
        for k in range(n_cols):
            lines.append(f"  {quote(f'anchor:{k}')} -> {quote(tops[k])} " + _attrs([
                ("id", f"order:{k}:top"), ("class", "order"), ("style", "invis"), ("weight", "10")]) + ";")
        for j in cols.joints:
            # down from the column's last layer, up the gap (declared downward, drawn without an
            # arrow), and into the next column's first layers (the edges below, by their tensor)
            tail_skip = set(j.edges) <= skips
            style = [("color", SKIP_COLOR), ("penwidth", "1.6")] if tail_skip else []
            lines.append(f"  {quote(j.tail)} -> {quote(f'joint:{j.k}:out')} " + _attrs([
                ("id", f"joint:{j.k}:down"), ("class", "joint"), ("arrowhead", "none"), ("weight", "10"),
                *style]) + ";")
            lines.append(f"  {quote(f'joint:{j.k}:in')} -> {quote(f'joint:{j.k}:out')} " + _attrs([
                ("id", f"joint:{j.k}:up"), ("class", "joint"), ("dir", "none"), ("weight", "1"), *style]) + ";")

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
        elif cols is not None and cols.joint_of(e.tail, e.head) is not None:
            tail = f"joint:{cols.column[e.tail]}:in"  # the joint's last leg: into the next column
        if e.skip:
            attrs += [("color", SKIP_COLOR), ("fontcolor", SKIP_COLOR), ("penwidth", "1.6"),
                      ("weight", "0" if not d.u_layout else "1")]
        if ("minlen", "0") in attrs and _between_clusters(d, e.tail, e.head):
            # dot draws a flat edge between two clusters twice (a long-standing dot bug), so the
            # edge dips through a point one rank down, outside both; the first half keeps the
            # edge's id, class and label
            j = f"junction:{e.tensor}:{e.head}"
            color = SKIP_COLOR if e.skip else EDGE_COLOR
            junctions.append(f"  {quote(j)} " + _attrs([
                ("id", j), ("class", "junction"), ("shape", "point"), ("width", "0.01"), ("label", ""),
                ("color", color)]) + ";")
            first = [a for a in attrs if a[0] not in ("dir", "minlen")] + [("arrowhead", "none"), ("minlen", "1")]
            second = [("id", f"continuation:{e.tensor}:{e.head}"), ("class", "continuation"), ("color", color),
                      ("penwidth", "1.6" if e.skip else "1"), ("dir", "back"), ("minlen", "1")]
            lines.append(f"  {quote(e.tail)} -> {quote(j)} " + _attrs(first) + ";")
            lines.append(f"  {quote(e.head)} -> {quote(j)} " + _attrs(second) + ";")
            continue
        lines.append(f"  {quote(tail)} -> {quote(head)} " + _attrs(attrs) + ";")
    lines += junctions
    lines.append("}")
    del emit, columns_of  # (closures that call themselves are reference cycles, holding the diagram)
    return "\n".join(lines) + "\n"
