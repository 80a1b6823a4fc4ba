"""The op reference (docs/ops.md), generated from the op definitions so it cannot go stale:
`archc docs -o docs/ops.md`; a test compares the committed file with a fresh rendering."""
from __future__ import annotations

from archc.ops import REGISTRY
from archc.ops.base import VARIADIC, Op

FAMILY_TITLES = {
    "conv": "Convolutions", "pool": "Pooling", "linear": "Dense and reshaping",
    "shape": "Dense and reshaping", "norm": "Normalisation", "activation": "Activations",
    "regularization": "Regularisation", "resample": "Resampling, padding and cropping",
    "merge": "Merges",
}


def _inputs(op: Op) -> str:
    if op.inputs == VARIADIC:
        return "two or more tensors"
    return "one tensor" if op.inputs == 1 else f"{op.inputs} tensors"


def _default(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "none"
    return str(value)


def _esc(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _yaml_example(op: Op) -> str:
    required = [a for a in op.attrs if a.required]
    if not required:
        return f"- {op.name}"
    return f"- {{{op.name}: [{', '.join(a.name for a in required)}]}}"


def _dsl_example(op: Op) -> str:
    required = ", ".join(a.name for a in op.attrs if a.required)
    if op.inputs == VARIADIC:
        return f"{op.name}(a, b{', ' + required if required else ''})"
    if op.inputs == 2:
        return f"{op.name}(x, reference{', ' + required if required else ''})"
    return f"x -> {op.name}({required})" if required else f"x -> {op.name}"


def render_op(op: Op) -> list[str]:
    out = [f"### `{op.name}`", ""]
    if op.aliases:
        out += [f"Also spelled: {', '.join(f'`{a}`' for a in op.aliases)}.", ""]
    out += [op.doc.strip(), ""]
    out += ["| DSL | YAML step |", "|---|---|",
            f"| `{_esc(_dsl_example(op))}` | `{_esc(_yaml_example(op))}` |", ""]
    if op.attrs:
        out += ["| attribute | type | default | meaning |", "|---|---|---|---|"]
        for a in op.attrs:
            default = "required" if a.required else f"`{_default(a.default)}`"
            out.append(f"| `{a.name}` | {_esc(a.type.label)} | {default} | {_esc(a.doc)} |")
        out.append("")
    out += [f"- **inputs:** {_inputs(op)}",
            f"- **shape:** {_esc(op.shape_rule)}",
            f"- **parameters:** {_esc(op.param_rule)}",
            f"- **MACs:** {_esc(op.macs_rule)}", ""]
    return out


def render_reference() -> str:
    lines = ["# archc op reference", "",
             "Generated from the op definitions in `archc/ops/` by `archc docs -o docs/ops.md`;",
             "do not edit by hand. Every layer call also accepts `name=`, `frozen=`, `init=` and",
             "`bias_init=` (see `docs/language.md`). MACs are multiply-accumulates of the whole",
             "output tensor; summaries report them per sample.", ""]
    families: dict[str, list[Op]] = {}
    for op in REGISTRY.ops:
        families.setdefault(FAMILY_TITLES.get(op.family, op.family.title()), []).append(op)
    lines += ["## Contents", ""]
    for title, ops in families.items():
        lines.append(f"- **{title}:** " + ", ".join(f"[`{op.name}`](#{op.name})" for op in ops))
    lines.append("")
    for title, ops in families.items():
        lines += [f"## {title}", ""]
        for op in ops:
            lines += render_op(op)
    return "\n".join(lines).rstrip() + "\n"
