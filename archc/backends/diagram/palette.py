"""The diagram's colours and fonts, in one place. The fills of op families and their order in
the legend are the families' own (archc.ops.families); the rest are the diagram's."""
from __future__ import annotations

from archc.ops.families import FAMILY_LIST

FONT = "Helvetica,Arial,sans-serif"

FAMILY_FILL = {f.name: f.fill for f in FAMILY_LIST if f.fill is not None}
OTHER_FILL = "#F2F2F2"
BLOCK_FILL = "#E5DAF0"
TERMINAL_FILL = "#222255"
SKIP_COLOR = "#CC3311"
EDGE_COLOR = "#555555"
LABEL_COLOR = "#444444"
CLUSTER_FILLS = ("#F7F7F7", "#EDEDED")
# inputs, the op families by rank, blocks, outputs (families without a fill are "other": last)
LEGEND_ORDER = ("input", *(f.name for f in sorted(FAMILY_LIST, key=lambda f: f.legend_rank) if f.fill is not None),
                "block", "output")
