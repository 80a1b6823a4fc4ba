"""The Pareto plot of a sweep (`archc sweep --plot FILE.svg`): every valid point as cost (MACs)
against size (parameters or memory), the points no other point beats on both highlighted and
joined, each labelled with its settings.

Drawn with matplotlib (the `plot` extra), imported only here and only when a plot is asked for;
through `matplotlib.figure.Figure`, not pyplot, so no global state and no GUI backend is
touched. SVG output is reproducible (no date, fixed element ids).
"""
from __future__ import annotations

import io
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

if TYPE_CHECKING:
    from archc.backends.sweep import SweepResult

FORMATS = ("svg", "png", "pdf")
X_CHOICES = ("macs", "params")
Y_CHOICES = ("params", "memory", "activations")


def front(points: Sequence[tuple[float, float]]) -> list[int]:
    """Indices of the points that no other point dominates (smaller or equal on both axes and
    smaller on one): lower is better on both. In order of increasing x."""
    order = sorted(range(len(points)), key=lambda i: (points[i][0], points[i][1]))
    best_y = float("inf")
    chosen: list[int] = []
    for i in order:
        x, y = points[i]
        if y < best_y:
            chosen.append(i)
            best_y = y
        elif y == best_y and chosen and points[chosen[-1]] == (x, y):  # the same point twice
            chosen.append(i)
    return chosen


def format_for(path: str) -> str:
    from archc.errors import SpecError
    suffix = Path(path).suffix.lower().lstrip(".")
    if suffix not in FORMATS:
        raise SpecError(f"--plot {path}: cannot tell the image format from the suffix "
                        f"'{Path(path).suffix or '(none)'}'", None,
                        "name a .svg, .png or .pdf file, e.g. --plot pareto.svg", code="E-SWEEP-PLOT-FORMAT")
    return suffix


def require_matplotlib() -> None:
    """archc's error, not an ImportError, where matplotlib is missing."""
    try:
        import matplotlib  # noqa: F401
    except ImportError as e:
        if (getattr(e, "name", None) or "").split(".")[0] != "matplotlib":
            raise
        from archc.errors import SpecError
        raise SpecError("the Pareto plot needs matplotlib, which is not installed", None,
                        "pip install 'archc-cnn[plot]' (matplotlib), or leave out --plot: the table "
                        "has the same numbers", code="E-SWEEP-PLOT-MATPLOTLIB") from None


def axis_values(result: "SweepResult", which: str) -> tuple[list[int], list[float], str]:
    """(indices of the records drawn, their values on axis `which`, the axis label)."""
    from archc.errors import SpecError
    batch = result.settings.batch
    if which == "memory" and result.training:
        key, label, scale = "training_bytes", f"training memory at batch {batch} (GiB)", 2**30
    elif which == "memory":  # no training analysis: the forward activations a batch keeps
        key, label, scale = "activation_bytes", f"forward activations at batch {batch}, float32 (GiB)", 2**30 / batch
    elif which == "activations":
        key, label, scale = "activation_bytes", "activations per sample, float32 (MiB)", 2**20
    elif which == "params":
        key, label, scale = "params", "parameters (millions)", 10**6
    else:
        key, label, scale = "macs", "MACs per sample (billions)", 10**9
    drawn, values = [], []
    for i, record in enumerate(result.records):
        if record["status"] != "ok":
            continue
        value = record.get(key)
        if isinstance(value, str):  # an expression: sizes still symbolic
            raise SpecError(f"the Pareto plot needs numbers, but {which} is {value} at "
                            f"{_label(record['point'])}", None,
                            "give the symbolic sizes values with --at, e.g. --at H=224",
                            code="E-SWEEP-PLOT-SYMBOLIC")
        drawn.append(i)
        values.append(value / scale)
    return drawn, values, label


def _label(point: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in point.items())


def plot(result: "SweepResult", x: str = "macs", y: str = "params", format: str = "svg") -> bytes:
    """The plot as bytes of `format` (svg, png or pdf)."""
    require_matplotlib()
    import matplotlib
    from matplotlib.figure import Figure
    drawn, xs, x_label = axis_values(result, x)
    drawn_y, ys, y_label = axis_values(result, y)
    assert drawn == drawn_y  # the same valid records on both axes
    points = list(zip(xs, ys))
    best = front(points)
    with matplotlib.rc_context({"svg.hashsalt": "archc", "font.size": 9}):
        figure = Figure(figsize=(7, 4.8), layout="constrained")
        ax = figure.subplots()
        others = [p for i, p in enumerate(points) if i not in set(best)]
        if others:
            ax.scatter([p[0] for p in others], [p[1] for p in others], s=18, color="#9aa0a6",
                       label="dominated", zorder=2)
        if best:
            ax.step([points[i][0] for i in best], [points[i][1] for i in best], where="post",
                    color="#d93025", linewidth=1, alpha=0.6, zorder=3)
            ax.scatter([points[i][0] for i in best], [points[i][1] for i in best], s=36, color="#d93025",
                       label="Pareto front", zorder=4)
            for i in best:
                ax.annotate(_label(result.records[drawn[i]]["point"]), points[i], textcoords="offset points",
                            xytext=(5, 4), fontsize=7, color="#5f6368")
        ax.set_xlabel(x_label)
        ax.set_ylabel(y_label)
        invalid = result.invalid
        name = Path(result.settings.spec).stem
        ax.set_title(f"{name}: {y} vs {x}, {len(points)} points" +
                     (f" ({invalid} invalid, not drawn)" if invalid else ""))
        ax.grid(True, linewidth=0.4, alpha=0.5)
        if points:
            ax.legend(loc="best", frameon=False)
        buffer = io.BytesIO()
        metadata = {"Date": None} if format == "svg" else ({"CreationDate": None} if format == "pdf" else {})
        figure.savefig(buffer, format=format, metadata=metadata, dpi=150)
    return buffer.getvalue()
