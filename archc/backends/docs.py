"""The op reference (docs/ops.md), generated from the op definitions so it cannot go stale:
`archc docs -o docs/ops.md`; a test compares the committed file with a fresh rendering."""
from __future__ import annotations

import textwrap
from typing import TYPE_CHECKING, Callable

from archc.language import BUILTINS, INITIALIZERS, LAYER_OPTIONS, SPECIAL_FORMS
from archc.ops import REGISTRY
from archc.ops.base import ATTRIBUTE_SYNONYMS, VARIADIC, Op

if TYPE_CHECKING:
    from archc.codes.entry import Code


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
            synonym = ATTRIBUTE_SYNONYMS.get(a.name)
            also = f" (also written `{synonym}=`)" if synonym and op.attribute_for(synonym) == a.name else ""
            out.append(f"| `{a.name}` | {_esc(a.type.label)} | {default} | {_esc(a.doc)}{also} |")
        out.append("")
        n = op.positional
        if n is not None and n < len(op.attrs):
            by_position = ", ".join(f"`{a.name}`" for a in op.attrs[:n])
            out.append((f"By position: {by_position} (in this order); the others by keyword only"
                        if n else "Every attribute by keyword only")
                       + (f" (PyTorch's {op.title} takes `{op.inferred_leading}` first; archc infers it from "
                          "the input)." if op.inferred_leading else "."))
            out.append("")
    out += [f"- **inputs:** {_inputs(op)}",
            f"- **shape:** {_esc(op.shape_rule)}",
            f"- **parameters:** {_esc(op.param_rule)}",
            f"- **MACs:** {_esc(op.macs_rule)}", ""]
    return out


def render_reference() -> str:
    layer_options = [o for o in LAYER_OPTIONS.values() if not o.blocks_only]
    options_text = ", ".join(f"`{o.name}=`" for o in layer_options[:-1]) + f" and `{layer_options[-1].name}=`"
    lines = ["# archc op reference", "",
             "Generated from the op definitions in `archc/ops/` by `archc docs -o docs/ops.md`;",
             f"do not edit by hand. Every layer call also accepts {options_text}",
             "(see [Layer options](#layer-options)). MACs are multiply-accumulates of the whole",
             "output tensor; summaries report them per sample.", ""]
    families: dict[str, list[Op]] = {}
    for op in REGISTRY.ops:
        families.setdefault(op.family_info.title, []).append(op)
    lines += ["## Contents", ""]
    for title, ops in families.items():
        lines.append(f"- **{title}:** " + ", ".join(f"[`{op.name}`](#{op.name})" for op in ops))
    lines += ["- **The language's own:** [Layer options](#layer-options), [Initializers](#initializers), "
              "[Built-in functions](#built-in-functions), [Special forms](#special-forms)", ""]
    for title, ops in families.items():
        lines += [f"## {title}", ""]
        for op in ops:
            lines += render_op(op)
    lines += _render_language()
    return "\n".join(lines).rstrip() + "\n"


def _render_language() -> list[str]:
    """The language surface besides the ops, from archc.language (the same tables the
    elaborator checks against and the language server completes)."""
    out = ["## Layer options", "", "| option | type | meaning |", "|---|---|---|"]
    out += [f"| `{o.name}` | {_esc(o.type)} | {_esc(o.doc)}{' (blocks, repeat and sequential only)' if o.blocks_only else ''} |"
            for o in LAYER_OPTIONS.values()]
    out += ["", "## Initializers", "", "Values of `init=` (weights) and `bias_init=` (biases).", "",
            "| initializer | meaning | weight | bias |", "|---|---|---|---|"]
    out += [f"| `{i.name}` | {_esc(i.doc)} | {_code(i.weight)} | {_code(i.bias)} |" for i in INITIALIZERS.values()]
    out += ["", "## Built-in functions", "", "| function | meaning |", "|---|---|"]
    out += [f"| `{b.signature}` | {_esc(b.doc)} |" for b in BUILTINS.values()]
    out += ["", "## Special forms", "", "| form | meaning |", "|---|---|"]
    out += [f"| `{f.signature}` | {_esc(f.doc)} |" for f in SPECIAL_FORMS.values()]
    return out + [""]


def _code(text: str | None) -> str:
    return f"`{_esc(text.replace('{t}', 't'))}`" if text else "—"


def render_error_catalogue(run_example: Callable[[Code], tuple[int, str]]) -> str:
    """docs/errors.md: every diagnostic code by family, with its meaning, the example that
    triggers it, what archc prints for it (run now by `run_example`, so it cannot go stale;
    recorded in the entry where that depends on the optional modules installed) and the fix.
    `archc docs --errors -o docs/errors.md`; a test compares the committed file."""
    from archc.codes import FAMILIES, catalog

    entries = sorted(catalog().values(), key=lambda e: (list(FAMILIES).index(e.family), e.code))
    out = ["# Diagnostic catalogue", "",
           "<!-- generated by `archc docs --errors -o docs/errors.md`; do not edit -->", "",
           "Every error and warning archc reports carries a stable code, printed with it "
           "(`model.arch:4:12: error[E-SHAPE-CONCAT]: ...`), in `summary --format json` and in "
           "the editor. `archc explain CODE` prints the entry below. `E-` codes are errors "
           "(exit 1, nothing written); `W-` codes are warnings (`--strict` makes them errors).", ""]
    families = [f for f in FAMILIES if any(e.family == f for e in entries)]
    for family in families:
        codes = [e for e in entries if e.family == family]
        out.append(f"- **{FAMILIES[family]}**: " + ", ".join(f"[{e.code}](#{e.code.lower()})" for e in codes))
    for family in families:
        out += ["", f"## {FAMILIES[family]}"]
        for e in (e for e in entries if e.family == family):
            out += ["", f"### {e.code}", "", f"**{e.title}**", "", e.explanation, ""]
            out += _files_block(e.files("example"), e.lang)
            if e.api:
                out += ["", "Run as Python (`spec` is the path of the file above):", "",
                        "```python", textwrap.dedent(e.api).strip(), "```"]
            elif e.command():
                out += ["", f"Run as: `{e.command()}`"]
            if not e.needs:
                printed = e.printed if e.printed is not None else run_example(e)[1]
                out += ["", "archc says:", "", "```text", printed.rstrip(), "```"]
            has_fix = e.fix is not None or e.command("fix") is not None
            out += ["", "Fix:" if has_fix else "Fix: " + e.hint]
            if e.fix is not None:
                out += [""] + _files_block(e.files("fix"), e.lang)
            if e.command("fix"):
                out += ["", f"Run as: `{e.command('fix')}`"]
            if has_fix:
                out += ["", f"Hint: {e.hint}"]
    return "\n".join(out) + "\n"


def _files_block(files: dict[str, str], lang: str) -> list[str]:
    out: list[str] = []
    for name, text in files.items():
        fence = "yaml" if name.endswith((".yaml", ".yml")) else ("python" if name.endswith(".py") else "text")
        if len(files) > 1:
            out += [f"`{name}`:", ""]
        out += [f"```{fence}", text.rstrip(), "```", ""]
    return out[:-1]
