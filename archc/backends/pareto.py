"""The Pareto plot of a sweep (`archc sweep --plot FILE.svg`): every valid point as cost (MACs)
against size (parameters or memory), the points no other point beats on both highlighted and
joined, each labelled with its settings.

Which way is better on y depends on what it measures: memory and activations are costs (lower
is better, so the front is the cheapest configurations), parameters are capacity bought with
the MACs (higher is better: the front is the configurations that get the most weights for
their compute, the usual stand-in for accuracy in a search without training). `better=`
overrides it.

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


# y axis -> which way is better by default
BETTER = {"params": "higher", "memory": "lower", "activations": "lower", "macs": "lower"}


def front(points: Sequence[tuple[float, float]], y_better: str = "lower") -> list[int]:
    """Indices of the points that no other point dominates (no worse on both axes and better on
    one): lower x is better, y as `y_better` says. In order of increasing x."""
    if y_better == "higher":
        return front([(x, -y) for x, y in points])
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
                        "pip install -e '.[plot]' in archc's checkout (matplotlib), or leave out --plot: the table "
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
        if not isinstance(value, int) or isinstance(value, bool):  # an expression, or None: sizes still symbolic
            shown = value if isinstance(value, str) else "not known"
            raise SpecError(f"the Pareto plot needs numbers, but {which} is {shown} at "
                            f"{_label(record['point'])}", None,
                            "give the symbolic sizes values with --at, e.g. --at H=224",
                            code="E-SWEEP-PLOT-SYMBOLIC")
        drawn.append(i)
        values.append(value / scale)
    return drawn, values, label


_AXIS_NAMES = {"macs": "MACs", "params": "parameters", "memory": "memory", "activations": "activations"}


def _label(point: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in point.items())


def plot(result: "SweepResult", x: str = "macs", y: str = "params", format: str = "svg",
         better: str | None = None) -> bytes:
    """The plot as bytes of `format` (svg, png or pdf); `better`: "lower" or "higher" on y
    (default: by what y measures, BETTER)."""
    require_matplotlib()
    import matplotlib
    from matplotlib.figure import Figure
    drawn, xs, x_label = axis_values(result, x)
    drawn_y, ys, y_label = axis_values(result, y)
    assert drawn == drawn_y  # the same valid records on both axes
    points = list(zip(xs, ys))
    better = better or BETTER.get(y, "lower")
    best = front(points, better)
    chosen = set(best)
    with matplotlib.rc_context({"svg.hashsalt": "archc", "font.size": 9}):
        figure = Figure(figsize=(7, 4.8), layout="constrained")
        ax = figure.subplots()
        others = [p for i, p in enumerate(points) if i not in chosen]
        if others:
            ax.scatter([p[0] for p in others], [p[1] for p in others], s=18, color="#9aa0a6",
                       label="dominated", zorder=2)
        if best:
            # the best y within a MACs budget: each front point's y holds until the next one
            ax.step([points[i][0] for i in best], [points[i][1] for i in best], where="post",
                    color="#d93025", linewidth=1, alpha=0.6, zorder=3)
            ax.scatter([points[i][0] for i in best], [points[i][1] for i in best], s=36, color="#d93025",
                       label=f"Pareto front (fewer MACs, {better} {y})" if x == "macs" else "Pareto front",
                       zorder=4)
            for i in best:
                ax.annotate(_label(result.records[drawn[i]]["point"]), points[i], textcoords="offset points",
                            xytext=(5, 4), fontsize=7, color="#5f6368")
        ax.set_xlabel(x_label)
        ax.set_ylabel(y_label)
        invalid = result.invalid
        name = Path(result.settings.spec).stem
        ax.set_title(f"{name}: {_AXIS_NAMES[y]} against {_AXIS_NAMES[x]}, {len(points)} points" +
                     (f" ({invalid} invalid, not drawn)" if invalid else ""))
        ax.grid(True, linewidth=0.4, alpha=0.5)
        if points:
            ax.legend(loc="best", frameon=False)
        buffer = io.BytesIO()
        metadata = {"Date": None} if format == "svg" else ({"CreationDate": None} if format == "pdf" else {})
        figure.savefig(buffer, format=format, metadata=metadata, dpi=150)
    return buffer.getvalue()
