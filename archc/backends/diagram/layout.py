"""Where the drawn nodes go: a long chain wrapped into columns (rows when read left to right),
each read top to bottom, and the U layout's ranks by resolution level."""
from __future__ import annotations

import bisect
import math
from dataclasses import dataclass

from archc.backends.diagram.model import Diagram

# wrap a chain into several columns when the longest path is longer than this many nodes
WRAP_MIN_RANKS = 20


@dataclass
class Joint:
    """Where column `k` ends: the one tensor crossing the cut (`tail`'s output) runs down from the
    bottom of column k, up the gap beside it and into the top of column k + 1 (`edges`: the
    edges it makes there, to each layer reading it)."""
    k: int
    tail: str
    edges: list[tuple[str, str]]


@dataclass
class Columns:
    """A long network wrapped into columns, each read top to bottom, side by side from left to
    right; the tensor crossing each cut is carried by a `Joint` from one column to the next."""
    column: dict[str, int]
    joints: list[Joint]

    def joint_of(self, tail: str, head: str) -> Joint | None:
        """The joint carrying the edge `tail` → `head`, if it crosses a cut."""
        k = self.column[tail]
        if k < len(self.joints) and self.column[head] == k + 1 and self.joints[k].tail == tail:
            return self.joints[k]
        return None


# a node is about 2.4 in wide; a rank of layers about 0.9 in tall (label, shape, the edge's
# label below it), a rank holding a folded block (four lines) about 1.05 in, and each cluster
# adds its title and margins (measured on the zoo's drawings)
NODE_WIDTH_IN, RANK_HEIGHT_IN, BLOCK_RANK_HEIGHT_IN, CLUSTER_HEIGHT_IN = 2.4, 0.9, 1.05, 0.45


def columns(d: Diagram, page_ratio: float = 1.3) -> Columns | None:
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
    rank_height: dict[int, float] = {}
    for n, node in d.nodes.items():
        per_rank[rank[n]] = per_rank.get(rank[n], 0) + 1
        h = BLOCK_RANK_HEIGHT_IN if node.kind == "block" else RANK_HEIGHT_IN
        rank_height[rank[n]] = max(rank_height.get(rank[n], 0.0), h)
    skips = sum(1 for e in d.edges if e.skip)
    width = NODE_WIDTH_IN * (sum(per_rank.values()) / total + min(1.0, skips / max(1, total / 8)) * 0.5)
    tall = sum(rank_height.values()) + CLUSTER_HEIGHT_IN * len(d.cluster_kinds)
    columns = max(1, round(math.sqrt(tall / (width * page_ratio))))
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
    joints = []
    for k, c in enumerate(cuts):
        pairs = sorted((p for p in crossing[c] if column[p[1]] == k + 1), key=lambda p: position[p[1]])
        joints.append(Joint(k, crossing[c][0][0], pairs))  # one tensor crosses a cut
    return Columns(column, joints)


def u_ranks(d: Diagram) -> dict[str, int]:
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
