"""How deep a diagram draws when no depth is asked for: the deepest depth whose drawing fits
about one page.

A page is `PAGE_NODES` drawn boxes (layers, folded blocks and output terminals). Wrapped into
page-shaped columns, that many boxes fill a letter or A4 page with labels still readable when
the figure is printed at page width (about 1,500 × 2,000 px at Graphviz's 96 dpi: 8 to 10
columns of boxes side by side, 25 to 30 ranks down). The count at each depth is found from the
scope tree in one pass over the layers and scopes, without drawing: at depth d a layer is its
own box when it sits in at most d scopes, and each scope d + 1 deep is one box."""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from archc.model import Model

PAGE_NODES = 80

# what `depth` may say besides a number: every layer, or the deepest depth that fits a page
FULL, AUTO = "all", "auto"


@dataclass(frozen=True)
class DepthChoice:
    depth: int | None  # what `build` takes: None draws every layer
    auto: bool  # chosen to fit a page (no depth was asked for)
    nodes: int  # boxes drawn at that depth
    full_nodes: int  # boxes drawn with every layer
    levels: int  # the deepest nesting of scopes: depths 0 .. levels - 1 fold something

    @property
    def folded(self) -> bool:
        return self.nodes < self.full_nodes

    def note(self) -> str | None:
        """What to tell the user when blocks were folded to fit a page, else None."""
        if not (self.auto and self.folded):
            return None
        return (f"drawn to depth {self.depth} ({self.nodes} boxes of {self.full_nodes}) to fit a page; "
                f"--depth all draws every layer, --depth K picks a depth")


def node_counts(model: "Model") -> list[int]:
    """Boxes drawn at depth 0, 1, …, levels (the last is every layer), in one pass."""
    graph = model.graph
    levels = max((len(p) for p in graph.scopes), default=0)
    layers_at = [0] * (levels + 1)  # layers sitting in exactly k scopes
    for node in graph.layers():
        layers_at[min(len(node.scope), levels)] += 1
    scopes_at = [0] * (levels + 2)  # scopes k deep
    for path in graph.scopes:
        scopes_at[len(path)] += 1
    counts, layers = [], 0
    outputs = len(graph.outputs)
    for d in range(levels + 1):
        layers += layers_at[d]
        counts.append(layers + scopes_at[d + 1] + outputs)
    return counts


def choose_depth(model: "Model", depth: int | str | None = None) -> DepthChoice:
    """The depth to draw: `depth` as given (a number, or "all" for every layer), or, for None or
    "auto", the deepest depth whose drawing has at most `PAGE_NODES` boxes (depth 0 when even that
    has more: nothing can be folded further)."""
    counts = node_counts(model)
    levels = len(counts) - 1
    full = counts[-1]
    if depth == FULL:
        return DepthChoice(None, False, full, full, levels)
    if depth is None or depth == AUTO:
        fits = [d for d, n in enumerate(counts) if n <= PAGE_NODES]
        d = fits[-1] if fits else 0
        return DepthChoice(None if d >= levels else d, True, counts[d], full, levels)
    if isinstance(depth, bool) or not isinstance(depth, int):
        raise ValueError(f"diagram depth {depth!r}: a number of levels (0: top-level blocks folded), "
                         f"'{FULL}' for every layer, or '{AUTO}' (the default: the deepest depth that fits a page)")
    return DepthChoice(depth, False, counts[max(0, min(depth, levels))], full, levels)
