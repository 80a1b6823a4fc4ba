"""The diagram's colours and fonts, in one place: the fills by op family and the legend's order
are op-family traits in the making (they will move to archc.ops)."""
from __future__ import annotations

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
