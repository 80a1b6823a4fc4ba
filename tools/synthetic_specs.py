"""Synthetic specs of a chosen number of layers, for the scaling benchmark (benchmarks/scaling.py).

    .venv/bin/python tools/synthetic_specs.py FORM LAYERS [-o FILE]     # FORM: flat, repeat, nested
    .venv/bin/python tools/synthetic_specs.py errors|commented|shared_lists|strings|dunders COUNT [-o FILE]

Three forms of the same kind of network (3×3 convolutions, batch norms, ReLUs and residual adds
on a small [N, 16, 8, 8] tensor, so that the numbers stay small and only the layer count grows):

- `flat`: every layer its own statement (`h12 = h11 -> batchnorm2d`), unnamed, so the elaborator
  names them (`conv2d_1`, `conv2d_2`, …); a residual add every four statements. The model scope
  holds every name.
- `repeat`: one residual block (conv-bn-relu-conv-bn, add, relu: 7 layers) repeated in one
  `repeat(k, …)` stage: a chain of k block instances, each its own scope (`layers.0`, …).
- `nested`: blocks nested in one another, four children and a residual add per level
  (`L0` = conv-bn-relu, `Lk` = 4 × `L(k-1)` + add), the depth growing with the size (log4), the
  model a chain of top-level blocks: many scopes of every depth.

The layer counts are approximate (within a few layers of LAYERS, or one top-level block for
`nested`); the hostile forms (`HOSTILE`, issue 24) stress the reporting and comment paths and
the value limits: `errors` (COUNT independent errors), `commented` (COUNT statements with
end-of-line comments), `shared_lists` (lists denoting 10 ** COUNT items), `strings` (2 ** COUNT
characters) and `dunders` (COUNT blocks and tensors named like reserved attributes).
`layers_of(text)` is not needed: `archc check` prints the exact count, and the
benchmark reads it from the graph.

Sizes over 10,000 repeat copies or 100,000 layers need the limits raised
(`ARCHC_MAX_REPEAT`, `ARCHC_MAX_LAYERS`; see `limits_env`).
"""
from __future__ import annotations

import argparse
import sys

FORMS = ("flat", "repeat", "nested", "errors", "commented", "shared_lists", "strings", "dunders")
CHANNELS = 16
HEADER = f"input x: [N, {CHANNELS}, 8, 8]\n"
REPEAT_BLOCK_LAYERS = 7  # conv, bn, relu, conv, bn, add, relu


def flat(layers: int) -> str:
    """`layers` statements of one layer each (a residual add closes every group of four)."""
    lines = [f"# synthetic: {layers} layers, one statement each", "model Flat", HEADER.rstrip()]
    prev, group_in = "x", "x"
    body = max(layers - 2, 1)  # the head adds two (global pool, linear)
    for i in range(1, body + 1):
        name = f"h{i}"
        kind = i % 4
        if kind == 1:
            rhs = f"{prev} -> conv2d({CHANNELS}, 3, padding=1, bias=false)"
            group_in = prev
        elif kind == 2:
            rhs = f"{prev} -> batchnorm2d"
        elif kind == 3:
            rhs = f"{prev} -> relu"
        else:
            rhs = f"{prev} + {group_in}"
        lines.append(f"{name} = {rhs}")
        prev = name
    lines.append(f"output y = {prev} -> global_avgpool -> linear(10)")
    return "\n".join(lines) + "\n"


def repeat_copies(layers: int) -> int:
    return max(1, round((layers - 3) / REPEAT_BLOCK_LAYERS))


def repeat(layers: int) -> str:
    """A residual block repeated in one stage (7 layers a copy, plus stem, pool and classifier)."""
    k = repeat_copies(layers)
    return f"""# synthetic: {k} residual blocks in one repeat ({k * REPEAT_BLOCK_LAYERS + 3} layers)
model RepeatChain
{HEADER}
block Res(c)(x) {{
  y = x -> conv2d(c, 3, padding=1, bias=false, name=conv1) -> batchnorm2d(name=bn1) -> relu(name=relu)
        -> conv2d(c, 3, padding=1, bias=false, name=conv2) -> batchnorm2d(name=bn2)
  return relu(y + x, name=relu_out)
}}

h = x -> conv2d({CHANNELS}, 3, padding=1, name=stem) -> repeat({k}, Res({CHANNELS}), name=layers)
output y = h -> global_avgpool -> linear(10, name=fc)
"""


def nested_layers(depth: int) -> int:
    """Layers of one level-`depth` block: L0 = 3, Lk = 4 L(k-1) + 1."""
    n = 3
    for _ in range(depth):
        n = 4 * n + 1
    return n


def nested_plan(layers: int) -> tuple[int, int]:
    """(depth, copies): the deepest level of which at least four fit, and how many to chain."""
    depth = 0
    while nested_layers(depth + 1) * 4 <= layers:
        depth += 1
    return depth, max(1, round((layers - 2) / nested_layers(depth)))


def nested(layers: int) -> str:
    depth, copies = nested_plan(layers)
    total = copies * nested_layers(depth) + 2
    lines = [f"# synthetic: {copies} blocks of nesting depth {depth} ({total} layers)", "model Nested",
             HEADER.rstrip(), "",
             "block L0(c)(x) {",
             "  return x -> conv2d(c, 3, padding=1, bias=false, name=conv) -> batchnorm2d(name=bn)"
             " -> relu(name=relu)",
             "}"]
    for k in range(1, depth + 1):
        lines += [f"block L{k}(c)(x) {{",
                  "  y = x -> " + " -> ".join(f"L{k - 1}(c, name=b{j})" for j in range(4)),
                  "  return y + x",
                  "}"]
    lines.append("")
    prev = "x"
    for i in range(copies):
        lines.append(f"t{i} = {prev} -> L{depth}({CHANNELS}, name=top{i})")
        prev = f"t{i}"
    lines.append(f"output y = {prev} -> global_avgpool -> linear(10, name=fc)")
    return "\n".join(lines) + "\n"


def errors(count: int) -> str:
    """`count` independent errors (a misspelt op on every line, each its own diagnostic): the
    many-errors input of the hostile-spec rounds (issue 24); error reporting is linear in it."""
    lines = ["model ManyErrors", HEADER.rstrip()]
    lines += [f"e{i} = x -> conv2dd({CHANNELS}, 3, padding=1)" for i in range(count)]
    lines += ["output x"]
    return "\n".join(lines) + "\n"


def commented(count: int) -> str:
    """`count` valid statements, each with an end-of-line comment (and a whole-line comment every
    tenth): comment attachment is linear in it (issue 24)."""
    lines = ["model Commented", HEADER.rstrip()]
    prev = "x"
    for i in range(count):
        if i % 10 == 0:
            lines.append(f"# stage {i // 10}")
        lines.append(f"h{i} = {prev} -> relu  # layer {i}")
        prev = f"h{i}"
    lines.append(f"output {prev}")
    return "\n".join(lines) + "\n"


def shared_lists(count: int) -> str:
    """`count` lines of lists that share references (`a2 = [a1 for i in range(10)]`): few items
    written, 10 ** count denoted; the last one handed to constant() (issue 24)."""
    lines = ["model SharedLists", HEADER.rstrip(), "a0 = [0 for i in range(10)]"]
    lines += [f"a{k} = [a{k - 1} for i in range(10)]" for k in range(1, count)]
    lines += [f"c = constant(a{count - 1})", "output y = x + c -> flatten -> reduce_sum(axis=1)"]
    return "\n".join(lines) + "\n"


def strings(count: int) -> str:
    """`count` doublings of a string, in the + and the f-string form alternately (2 ** count
    characters), used as a layer name (issue 24)."""
    lines = ["model Strings", HEADER.rstrip(), 's0 = "ab"']
    lines += [f"s{k} = s{k - 1} + s{k - 1}" if k % 2 else f's{k} = f"{{s{k - 1}}}{{s{k - 1}}}"'
              for k in range(1, count)]
    lines += [f"output y = x -> relu(name=s{count - 1})"]
    return "\n".join(lines) + "\n"


DUNDERS = ("__call__", "__class__", "__dict__", "__init__", "__getattr__", "__module__", "forward",
           "state_dict", "_modules")
RESERVED_TENSORS = ("__x", "children", "_parameters", "__weakref__", "eval")


def dunders(count: int) -> str:
    """`count` blocks named after Python's and torch's reserved attributes, used unnamed (their
    default module names must not be those), tensors named so too (issue 24)."""
    names = [DUNDERS[k % len(DUNDERS)] + ("" if k < len(DUNDERS) else f"_{k}") for k in range(count)]
    lines = ["model Dunders", HEADER.rstrip()]
    for name in names:
        block = name if name.isidentifier() and not name[0].isdigit() else "B"
        lines.append(f"block {block}(c)(x) {{\n  return x -> conv2d(c, 3, padding=1) -> relu\n}}")
    prev = "x"
    for k, name in enumerate(names):  # the first tensors named like reserved attributes too
        target = RESERVED_TENSORS[k] if k < len(RESERVED_TENSORS) else f"t{k}"
        lines.append(f"{target} = {prev} -> {name}({CHANNELS})")
        prev = target
    lines.append(f"output y = {prev}")
    return "\n".join(lines) + "\n"


HOSTILE = ("errors", "commented", "shared_lists", "strings", "dunders")
GENERATORS = {"flat": flat, "repeat": repeat, "nested": nested, "errors": errors, "commented": commented,
              "shared_lists": shared_lists, "strings": strings, "dunders": dunders}


def generate(form: str, layers: int) -> str:
    """The spec text (DSL) of `form` with about `layers` layers."""
    return GENERATORS[form](layers)


def limits_env(layers: int) -> dict[str, str]:
    """Environment settings that let a spec of this many layers through archc's limits (an
    empty dict below the defaults); the evaluation-time limit is raised too, so that a slow
    stage is measured rather than stopped."""
    env = {"ARCHC_MAX_EVAL_SECONDS": "100000"}
    if layers > 90_000:
        env["ARCHC_MAX_LAYERS"] = str(2 * layers)
    if repeat_copies(layers) > 10_000:
        env["ARCHC_MAX_REPEAT"] = str(2 * repeat_copies(layers))
    return env


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("form", choices=FORMS)
    parser.add_argument("layers", type=int)
    parser.add_argument("-o", "--output", help="write here (default: standard output)")
    args = parser.parse_args()
    text = generate(args.form, args.layers)
    if args.output:
        with open(args.output, "w") as f:
            f.write(text)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
