"""The directed graph the IR is stored in: the part of networkx's DiGraph that archc uses (nodes
with attributes in insertion order, edges with attributes, predecessors and successors), plus the
three algorithms the elaborator needs. networkx itself costs ~90 ms to import, a third of a whole
`archc check`; `Graph.nx` still gives users a networkx DiGraph, built on first use."""
from __future__ import annotations

import heapq
import itertools
from typing import Any, Callable, Container, Hashable, Iterable, Iterator

Node = Hashable


class DiGraph:
    """Predecessors are stored; successors are derived on first use (`successors`, `edges`), as
    elaboration never asks for them: adding a layer touches only its own entries, so a graph's
    earlier nodes are never changed by later ones (archc.ir.resume shares them between versions)."""

    def __init__(self) -> None:
        self.nodes: dict[Node, dict[str, Any]] = {}  # node -> its attributes, in insertion order
        self._pred: dict[Node, dict[Node, dict[str, Any]]] = {}
        self._succ_index: dict[Node, dict[Node, dict[str, Any]]] | None = None  # built on first use

    def add_node(self, node: Node, **attrs: Any) -> None:
        if node not in self.nodes:
            self.nodes[node] = {}
            self._pred[node] = {}
            if self._succ_index is not None:
                self._succ_index[node] = {}
        self.nodes[node].update(attrs)

    def add_edge(self, tail: Node, head: Node, **attrs: Any) -> None:
        self.add_node(tail)
        self.add_node(head)
        data = self._pred[head].setdefault(tail, {})
        data.update(attrs)
        if self._succ_index is not None:
            self._succ_index[tail][head] = data

    def add_layer(self, node: Node, layer: Any, inputs: list[Node]) -> None:
        """add_node(node, layer=layer) and add_edge(src, node, port=k) for the k-th of `inputs` (an
        input given twice keeps its last port), in one step: the elaborator adds thousands."""
        nodes = self.nodes
        if len(inputs) == 1 and inputs[0] in nodes and node not in nodes:  # (most layers)
            nodes[node] = {"layer": layer}
            data = {"port": 0}
            self._pred[node] = {inputs[0]: data}
            if self._succ_index is not None:
                self._succ_index[node] = {}
                self._succ_index[inputs[0]][node] = data
            return
        pred: dict[Node, dict[str, Any]] = {}
        port = 0
        for src in inputs:
            if src not in nodes:
                break
            data = pred.get(src)
            if data is None:
                pred[src] = {"port": port}
            else:
                data["port"] = port
            port += 1
        if port < len(inputs) or node in nodes:  # (never, for layers)
            self.add_node(node, layer=layer)
            for port, src in enumerate(inputs):
                self.add_edge(src, node, port=port)
            return
        nodes[node] = {"layer": layer}
        self._pred[node] = pred
        if self._succ_index is not None:
            self._succ_index[node] = {}
            for src, data in pred.items():
                self._succ_index[src][node] = data

    def _succ(self) -> dict[Node, dict[Node, dict[str, Any]]]:
        if self._succ_index is None:
            succ: dict[Node, dict[Node, dict[str, Any]]] = {n: {} for n in self.nodes}
            for head, tails in self._pred.items():
                for tail, data in tails.items():
                    succ[tail][head] = data
            self._succ_index = succ
        return self._succ_index

    def remove_nodes_from(self, nodes: Iterable[Node]) -> None:
        succ = self._succ()
        for node in nodes:
            if node not in self.nodes:
                continue
            for head in succ.pop(node):  # a new dict: another graph may share the old (copy_prefix)
                self._pred[head] = {t: d for t, d in self._pred[head].items() if t != node}
            for tail in self._pred.pop(node):
                del succ[tail][node]
            del self.nodes[node]

    def copy_prefix(self, count: int) -> "DiGraph":
        """A graph of the first `count` nodes (with the edges among them), sharing their attribute
        and edge dicts, which neither graph changes afterwards; when no node of those has an edge
        to a later one, the earlier state of a graph built node by node."""
        out = DiGraph()
        out.nodes, out._pred = _first(self.nodes, count), _first(self._pred, count)
        return out

    def predecessors(self, node: Node) -> Iterator[Node]:
        return iter(self._pred[node])

    @property
    def pred(self) -> dict[Node, dict[Node, dict[str, Any]]]:
        """node -> {predecessor: edge attributes} (networkx's `pred`, read only): for loops over
        many nodes, one dict subscript each instead of a call to `predecessors`."""
        return self._pred

    def successors(self, node: Node) -> Iterator[Node]:
        return iter(self._succ()[node])

    def in_degree(self, node: Node) -> int:
        return len(self._pred[node])

    def edges(self) -> Iterator[tuple[Node, Node, dict[str, Any]]]:
        for tail, heads in self._succ().items():
            for head, data in heads.items():
                yield tail, head, data

    def __contains__(self, node: object) -> bool:
        return node in self.nodes

    def __iter__(self) -> Iterator[Node]:
        return iter(self.nodes)

    def __len__(self) -> int:
        return len(self.nodes)

    def to_networkx(self) -> Any:
        import networkx as nx
        g = nx.DiGraph()
        for node, attrs in self.nodes.items():
            g.add_node(node, **attrs)
        for tail, head, data in self.edges():
            g.add_edge(tail, head, **data)
        return g


def _first(d: dict, n: int) -> dict:
    """A dict of the first n entries of `d` (a copy, then the last ones popped, when that is less work)."""
    if n < len(d) // 2:
        return dict(itertools.islice(d.items(), n))
    out = d.copy()
    for _ in range(len(d) - n):
        out.popitem()
    return out


def ancestors(g: DiGraph, roots: Iterable[Node], within: Container[Node] | None = None) -> set[Node]:
    """The roots and every node they read, directly or not; only through `within` when given
    (so a search inside a block costs the block's size, not the graph's)."""
    seen = set(roots)
    stack = list(seen)
    pred = g.pred
    while stack:
        for src in pred[stack.pop()]:
            if src not in seen and (within is None or src in within):
                seen.add(src)
                stack.append(src)
    return seen


class CycleError(Exception):
    def __init__(self, cycle: list[tuple[Node, Node]]):
        super().__init__("the graph has a cycle")
        self.cycle = cycle  # its edges, as networkx.find_cycle gives them


def topological_order(g: DiGraph, key: Callable[[Node], Any]) -> list[Node]:
    """The nodes in dependency order, the smallest `key` first among those ready (as networkx's
    lexicographical_topological_sort); raises CycleError with one cycle's edges."""
    indegree = {n: g.in_degree(n) for n in g}
    ready = [(key(n), i, n) for i, n in enumerate(g) if indegree[n] == 0]
    heapq.heapify(ready)
    position = {n: i for i, n in enumerate(g)}
    order: list[Node] = []
    while ready:
        _, _, n = heapq.heappop(ready)
        order.append(n)
        for s in g.successors(n):
            indegree[s] -= 1
            if indegree[s] == 0:
                heapq.heappush(ready, (key(s), position[s], s))
    if len(order) < len(g):
        raise CycleError(_a_cycle(g, {n for n in g if indegree[n] > 0}))
    return order


def _a_cycle(g: DiGraph, left: set[Node]) -> list[tuple[Node, Node]]:
    """One cycle among the nodes a topological sort could not order (each has a predecessor
    among them, so walking predecessors must come back to a node already seen)."""
    start = next(n for n in g if n in left)
    path: list[Node] = [start]
    index = {start: 0}
    while True:
        prev = next(p for p in g.predecessors(path[-1]) if p in left)
        if prev in index:
            cycle = path[index[prev]:] + [prev]
            cycle.reverse()  # along the edges' direction
            return list(zip(cycle, cycle[1:]))
        index[prev] = len(path)
        path.append(prev)
