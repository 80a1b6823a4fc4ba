"""The drawn graph's structure: its topological order, the skip edges (a connection that
bypasses others, the short branch into a residual add) and whether it is U-shaped (an
encoder-decoder whose skips bridge a coarser resolution)."""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterable

if TYPE_CHECKING:
    from archc.backends.diagram.model import DEdge, Diagram, DNode
    from archc.ir.graph import Graph


def between(starts: Iterable[str], end: str, index: dict[str, int], succ: dict[str, list[str]],
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


def find_topology(nodes: dict[str, DNode], edges: list[DEdge]) -> Topology:
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


def is_residual_add(graph: "Graph", node_id: str) -> bool:
    """A layer whose shortest input branch is a shortcut: one whose op sums its inputs."""
    return graph.node(node_id).op.residual_merge


def mark_skips(nodes: dict[str, DNode], edges: list[DEdge], graph: "Graph", topology: Topology) -> None:
    order, succ, pred, index = topology.order, topology.succ, topology.pred, topology.index
    skip_pairs: set[tuple[str, str]] = set()
    # an edge bypassing another way from its tail to its head through a layer with parameters
    # (not e.g. a crop that only reads the tail's size)
    for a in order:
        if len(succ[a]) < 2:
            continue
        for b in succ[a]:
            others = [c for c in succ[a] if c != b]
            if any(nodes[w].params for w in between(others, b, index, succ, pred)):
                skip_pairs.add((a, b))
    # the shortest branch into a residual add is its shortcut (a projection, e.g. downsample)
    for m in order:
        d = nodes[m]
        if d.kind != "layer" or not is_residual_add(graph, m) or len(pred[m]) < 2:
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


def is_u_shaped(d: Diagram) -> bool:
    """A skip edge joins two tensors of the same resolution around a coarser one."""
    t = d.topology()
    for e in d.skip_edges:
        a, b = d.nodes[e.tail], d.nodes[e.head]
        if a.level != b.level:
            continue
        inside = between(t.succ[e.tail], e.head, t.index, t.succ, t.pred)
        if any(d.nodes[w].level > a.level for w in inside):
            return True
    return False
