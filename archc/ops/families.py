"""Op families: what the back ends show and count per family, declared with the families so no
other stage lists them. `Op.family` names one of these."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Family:
    name: str
    title: str  # the op reference's section (docs/ops.md)
    # Diagram fill (Paul Tol's "light" scheme: distinct under the common colour-vision
    # deficiencies, dark text reads on each); None: drawn in the neutral "other" fill.
    fill: str | None
    legend_rank: int  # position in the diagram's legend
    # counted in the MACs torchvision's GFLOPS, fvcore and most papers quote (convolutions and
    # fully connected layers; normalisation, pooling, activations, merges, resampling left out)
    quoted_macs: bool = False


FAMILY_LIST: tuple[Family, ...] = (
    Family("conv", "Convolutions", "#77AADD", 1, quoted_macs=True),
    Family("norm", "Normalisation", "#EEDD88", 2),
    Family("activation", "Activations", "#44BB99", 3),
    Family("pool", "Pooling", "#EE8866", 4),
    Family("merge", "Merges", "#BBCC33", 5),
    Family("resample", "Resampling, padding and cropping", "#99DDFF", 6),
    Family("regularization", "Regularisation", "#DDDDDD", 7),
    Family("linear", "Dense and reshaping", "#FFAABB", 8, quoted_macs=True),
    Family("shape", "Dense and reshaping", "#FFFFFF", 9),
    Family("reduction", "Reductions", None, 10),
    Family("tensor", "Tensor", None, 11),
)
FAMILIES: dict[str, Family] = {f.name: f for f in FAMILY_LIST}
