"""Diagrams of an inferred model: the graph IR and its metrics as Graphviz DOT, rendered to SVG,
PNG or PDF by Graphviz's `dot` program.

What is drawn
- By default, the deepest depth whose drawing fits about one page (`page.choose_depth`: at most
  `PAGE_NODES` boxes, counted from the scope tree without drawing); `depth="all"` draws every
  layer, a number folds blocks nested that deep.
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
  decoder comes back up and the skips run straight across, each level's layers read left to
  right; the U stands upright whatever `rankdir` says.
- Long chains are wrapped into columns (TB) or rows (LR) so that deep networks fit on a page:
  every column read top to bottom, cut where one tensor crosses (a residual unit's input, with
  its shortcut), between the units of a repeat or stage, never inside a block that fits in a
  column; that tensor runs from the bottom of its column up the gap beside it into the top of
  the next (a joint); a cluster running over several columns is one box per column.

The DOT text is emitted by archc, deterministically (the same model gives byte-identical DOT);
Graphviz's `dot` program renders it, and what dot says on stderr (e.g. that a bitmap was scaled
down) reaches the user as a `GraphvizWarning`.

The package, stage by stage: `model` builds what is drawn (`build`), `analysis` finds its order,
skips and U shape, `layout` wraps long chains into columns, `dot` writes the DOT text and
`render` runs Graphviz; `palette` holds the colours. `render_dot` and `draw` chain the stages
here, through this module's names (tests replace `render_dot` or `to_dot` on it).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from archc import collector
from archc.backends.diagram.dot import RANKDIRS, to_dot
from archc.backends.diagram.model import Diagram, DiagramError, build
from archc.backends.diagram.page import AUTO, FULL, PAGE_NODES, DepthChoice, choose_depth
from archc.backends.diagram.render import (FORMATS, GRAPHVIZ_WARNING, GraphvizWarning, find_dot, format_for,
                                           render, require_dot)

if TYPE_CHECKING:
    from archc.model import Model

__all__ = ["AUTO", "FORMATS", "FULL", "PAGE_NODES", "RANKDIRS", "GRAPHVIZ_WARNING", "DepthChoice", "Diagram",
           "DiagramError", "GraphvizWarning", "build", "choose_depth", "draw", "find_dot", "format_for", "render",
           "render_dot", "require_dot", "to_dot"]


@collector.paused()
def render_dot(model: "Model", depth: int | str | None = None, rankdir: str = "TB") -> str:
    """The DOT text at `depth`: a number (blocks nested that deep folded), "all" (every layer),
    or None / "auto" (the deepest depth that fits a page, `choose_depth`)."""
    return to_dot(build(model, choose_depth(model, depth).depth), rankdir)


def draw(model: "Model", format: str = "dot", depth: int | str | None = None, rankdir: str = "TB") -> bytes:
    """The diagram of `model` as bytes in `format` (dot, svg, png or pdf), at `depth` as in
    `render_dot`: by default the deepest depth that fits a page."""
    return render(render_dot(model, depth, rankdir), format)
