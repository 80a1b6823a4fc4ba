"""`archc summary --train`: the training memory and cost of a model (archc.analysis.training),
as text or JSON."""
from __future__ import annotations

from typing import Any

from archc.analysis.training import TrainingMemory
from archc.backends.report import exponent_form, human_bytes


def _bytes(n: int) -> str:
    """In binary units, as summary's activations, sweep and diff print memory (and as
    torch.cuda.memory_summary does)."""
    return human_bytes(n)


def _flops(n: int) -> str:
    if n >= 1000 * 10 ** 18:
        return f"{exponent_form(n)} FLOP"
    for unit, size in (("EFLOP", 10 ** 18), ("PFLOP", 10 ** 15), ("TFLOP", 10 ** 12), ("GFLOP", 10 ** 9),
                       ("MFLOP", 10 ** 6)):
        if n >= size:
            return f"{n / size:,.2f} {unit}"
    return f"{n:,} FLOP"


def _time(seconds: float) -> str:
    return f"{seconds * 1e3:,.3f} ms" if seconds >= 1e-3 else f"{seconds * 1e6:,.1f} µs"


def render(tm: TrainingMemory, format: str = "text", layers: bool = True, top: int | None = None) -> str:
    """The report: totals, then (`layers`) one row per layer that keeps or costs something
    (`top`: only the layers that save the most)."""
    if format == "json":
        return tm.to_json()
    precision = tm.dtype if tm.dtype == "float32" else f"{tm.dtype} autocast, float32 master weights"
    lines = [f"{tm.model}: training step, batch {tm.batch}"
             + (f" × {tm.accumulation} accumulated" if tm.accumulation > 1 else "")
             + f", {precision}, {tm.optimizer}"
             + (f", checkpointed: {', '.join(tm.checkpoint)}" if tm.checkpoint else ""), ""]
    rows: list[tuple[str, str]] = [
        ("parameters", _bytes(tm.parameters)),
        ("buffers", _bytes(tm.buffers)),
        ("gradients", _bytes(tm.gradients)),
        ("optimizer state", _bytes(tm.optimizer_state)),
        ("saved activations", _bytes(tm.saved_activations) + f" (input batch {_bytes(tm.input_bytes)} included)"),
        ("peak, forward", _bytes(tm.peak_forward)),
        ("peak, backward", _bytes(tm.peak_backward)),
        ("peak, optimizer step", _bytes(tm.optimizer_step)),
        ("peak", _bytes(tm.peak)),
        ("FLOPs per step", f"{_flops(tm.step_flops)} (forward {_flops(tm.forward_flops)}, backward "
                           f"{_flops(tm.backward_flops)}"
                           + (f", recomputed {_flops(tm.recompute_flops)}" if tm.recompute_flops else "")
                           + (f"; × {tm.accumulation}" if tm.accumulation > 1 else "") + ")"),
        ("bytes moved per micro-batch", _bytes(tm.bytes_moved)),
    ]
    if tm.step_time_s is not None:
        rows.append((f"step time on {tm.device} (estimate)", _time(tm.step_time_s)))
    width = max(len(k) for k, _ in rows)
    lines += [f"  {k.ljust(width)}  {v}" for k, v in rows]
    if layers:
        lines += ["", *_layer_table(tm, top)]
    lines += ["", *(f"note: {n}" for n in tm.notes)]
    return "\n".join(lines) + "\n"


def _layer_table(tm: TrainingMemory, top: int | None) -> list[str]:
    chosen = [r for r in tm.layers if r.saved or r.params or r.forward_flops]
    if top is not None:
        chosen = sorted(chosen, key=lambda r: -r.saved)[:top]
    header = ["layer", "op", "saved", "kept for backward", "weights", "fwd FLOPs", "bwd FLOPs", "bytes moved"]
    if tm.device is not None:
        header.append(f"time ({tm.device}, est.)")
    table: list[list[str]] = [header]
    for r in chosen:
        kept = ", ".join(sorted({k["what"] for k in r.kept}))
        row = [r.id + (" (ckpt)" if r.checkpointed else ""), r.op, _bytes(r.saved) if r.saved else "-",
               kept or "-", _bytes(r.params) if r.params else "-", _flops(r.forward_flops) if r.forward_flops else "-",
               _flops(r.backward_flops) if r.backward_flops else "-", _bytes(r.bytes_moved) if r.bytes_moved else "-"]
        if tm.device is not None:
            row.append(_time(r.time_s) if r.time_s else "-")
        table.append(row)
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    return ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in table]


def summary(model: Any, *, batch: int, dtype: str = "float32", optimizer: str = "sgd", accumulation: int = 1,
            checkpoint: Any = None, device: str | None = None, format: str = "text") -> str:
    """The whole report for a loaded `archc.Model` (what `archc summary --train` prints)."""
    from archc.analysis.training import training_memory
    tm = training_memory(model, batch=batch, dtype=dtype, optimizer=optimizer, accumulation=accumulation,
                         checkpoint=checkpoint, device=device)
    return render(tm, format)
