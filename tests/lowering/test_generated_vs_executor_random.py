"""Random specs (hypothesis), differential: whenever archc accepts a spec, the module built from
its generated source and the independent reference executor (tests/support/reference_executor.py) give
the same outputs with the same weights and inputs (float64, eval mode), and every node's
executed shape is its static shape (issue 17).

The specs use what real networks do and what the generator must translate: blocks with default
parameters, model `param`s passed into block calls (and an unused one), several instances of a
block at different arguments, chunk / split, channel slices `x[:, :c]`, reshape (channel
shuffle), conditionals on block parameters and `x.channels`, list comprehensions (of numbers and
of tensors), partial application (`unit = Block(g=2)` then `unit(16)`, and a partial passed into
another block), `repeat` with `i`, `sequential`, concat, residual adds and gates.

CI runs ARCHC_RANDOM_SPECS examples (default 250: 10–30 s on a 2-core machine); a longer run, e.g.
`ARCHC_RANDOM_SPECS=2000 pytest tests/lowering/test_generated_vs_executor_random.py`, prints the counts
(generated / accepted / compared / generator failures) at the end. A module that differs from
the executor fails the test (hypothesis shrinks it to a small spec). A module that cannot be
built or run (an AttributeError or NameError in the generated code) is a generator bug: those are
collected, reported in the summary with the smallest spec found per kind of error, and fail
`test_accepted_random_specs_build_and_run` (refusals with a diagnostic excepted); with
ARCHC_RANDOM_STRICT=1 they fail the differential test itself, so that hypothesis shrinks them.
"""
from __future__ import annotations

import os
import re
import traceback
import warnings
from collections import Counter

import pytest

torch = pytest.importorskip("torch")
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lowering_support import example_inputs, static_shape
from reference_executor import outputs_of, run_graph
from test_reference_executor import (
    RTOL,
    module_outputs,
    randomize_state,
    relative_error,
    smallest_sizes,
)

import archc
from archc.errors import SpecErrors

EXAMPLES = int(os.environ.get("ARCHC_RANDOM_SPECS", "250"))  # 0.04–0.12 s each here
STRICT = os.environ.get("ARCHC_RANDOM_STRICT") == "1"

COUNTS: Counter = Counter()
# kind of generator failure -> (count, smallest spec text, its error)
FAILURES: dict[str, tuple[int, str, str]] = {}


@pytest.fixture(scope="module", autouse=True)
def _summary(request):
    """After the module's tests: one line of counts, and per kind of generator failure the
    smallest spec's error (shown even when output is captured)."""
    yield
    lines = [(f"random specs vs executor: {COUNTS['generated']} generated, {COUNTS['accepted']} accepted, "
              f"{COUNTS['compared']} compared equal, {COUNTS['generator_failed']} generator failures "
              f"({len(FAILURES)} kinds), {COUNTS['mismatch']} mismatches")]
    for kind, (count, text, error) in sorted(FAILURES.items(), key=lambda kv: -kv[1][0]):
        lines.append(f"  {count} × {kind} (smallest spec: {len(text)} characters: {error})")
    capture = request.config.pluginmanager.getplugin("capturemanager")
    if capture is None:
        print("\n" + "\n".join(lines))
        return
    with capture.global_and_fixture_disabled():
        print("\n" + "\n".join(lines))


# ----------------------------------------------------------------------------- the generator

BLOCK_NAMES = ["B0", "B1", "B2"]


def _step(draw, j: int, t: str, lines: list[str]) -> str:
    """One statement (or a few) of a block body, from tensor `t`, in a block with parameters
    out, k, g, r; returns the name of the new tensor."""
    kind = draw(st.sampled_from(["conv", "conv", "chunk_branch", "chunk_sum", "split", "slice",
                                 "shuffle", "residual", "gate", "comprehension", "tensor_list",
                                 "repeat", "sequential", "spatial", "norm"]))
    n = f"t{j}"
    if kind == "conv":
        act = draw(st.sampled_from(["relu", "gelu", "hardswish", "silu", "sigmoid"]))
        lines.append(f"{n} = {t} -> conv2d(out, k, padding=k // 2, "
                     f"groups=g if {t}.channels % g == 0 and out % g == 0 else 1, bias=false) "
                     f"-> batchnorm2d -> {act}")
    elif kind == "chunk_branch":  # ShuffleNet's unit
        lines.append(f"u{j} = {t} if {t}.channels % 2 == 0 else {t} -> conv2d({t}.channels + 1, 1)")
        lines.append(f"a{j}, b{j} = u{j} -> chunk(2)")
        lines.append(f"{n} = concat(a{j}, b{j} -> conv2d(max(out // 2, 1), 1) -> relu)")
    elif kind == "chunk_sum":  # split attention
        lines.append(f"a{j}, b{j} = {t} -> conv2d(2 * out * r, 1, bias=false) -> chunk(2)")
        lines.append(draw(st.sampled_from([f"{n} = a{j} + b{j}", f"{n} = a{j} * (b{j} -> sigmoid)"])))
    elif kind == "split":
        lines.append(f"u{j} = {t} if {t}.channels >= 2 else {t} -> conv2d(2, 1)")
        lines.append(f"p{j}, q{j} = u{j} -> split([max(1, u{j}.channels // 3), "
                     f"u{j}.channels - max(1, u{j}.channels // 3)])")
        lines.append(draw(st.sampled_from([f"{n} = concat(q{j}, p{j})",
                                           f"{n} = concat(q{j} -> conv2d(out, 1) -> relu, p{j})"])))
    elif kind == "slice":
        lines.append(draw(st.sampled_from([
            f"{n} = {t}[:, :min(out, {t}.channels)]",
            f"{n} = {t}[:, {t}.channels // 2:]",
            f"{n} = {t}[:, ::2] if {t}.channels > 1 else {t}",
            f"{n} = concat({t}[:, :1], {t})",
        ])))
    elif kind == "shuffle":
        lines.append(f"u{j} = {t} if {t}.channels % g == 0 else {t} -> conv2d(g * out, 1)")
        lines.append(draw(st.sampled_from([
            (f"{n} = u{j} -> reshape([g, u{j}.channels // g, u{j}.height, u{j}.width]) -> transpose(1, 2) "
             f"-> reshape([u{j}.channels, u{j}.height, u{j}.width])"),
            f"{n} = u{j} -> reshape([g, -1, u{j}.height, u{j}.width]) -> transpose(1, 2) -> flatten(1, 2)",
            (f"{n} = u{j} -> reshape([u{j}.channels, u{j}.height * u{j}.width]) -> softmax(dim=-1) "
             f"-> reshape([u{j}.channels, u{j}.height, u{j}.width])"),
        ])))
    elif kind == "residual":
        lines.append(f"y{j} = {t} -> conv2d(out, 3, padding=1, bias=false) -> batchnorm2d")
        lines.append(draw(st.sampled_from([
            f"{n} = y{j} + {t} if {t}.channels == out else y{j}",
            f"{n} = (y{j} + ({t} if {t}.channels == out else {t} -> conv2d(out, 1))) -> relu",
            f"{n} = {t} + ({t} -> conv2d({t}.channels, 3, padding=1))",
        ])))
    elif kind == "gate":  # squeeze-and-excitation
        lines.append(f"{n} = {t} * ({t} -> global_avgpool(keepdims=true) -> conv2d(max({t}.channels // r, 1), 1) "
                     f"-> relu -> conv2d({t}.channels, 1) -> hardsigmoid)")
    elif kind == "comprehension":
        lines.append(f"w{j} = [out * m for m in [1, r] if m > 0]")
        lines.append(draw(st.sampled_from([f"{n} = {t} -> conv2d(sum(w{j}), 1) -> conv2d(w{j}[-1], 1)",
                                           f"{n} = {t} -> conv2d(w{j}[0] + len(w{j}), 1)"])))
    elif kind == "tensor_list":
        lines.append(f"ps{j} = [{t} -> conv2d(out * m, 1, bias=false) for m in [1, r]]")
        lines.append(f"{n} = concat(ps{j}[0], ps{j}[1])")
    elif kind == "repeat":
        lines.append(draw(st.sampled_from([
            f"{n} = {t} -> repeat(2, Inner(out, k=1 if i == 0 else 3))",
            f"{n} = {t} -> repeat(r, Inner(out + i))",
            # inline: the copies are the block's own children (a loop where they line up)
            f'{n} = {t} -> repeat(r, Inner(out, k=1 if i == 0 else 3, name="rep{j}_" + str(i)), inline=true)',
            f'{n} = {t} -> repeat(2, Inner(out + i, name=f"rep{j}-{{i}}"), inline=true)',
        ])))
    elif kind == "sequential":
        lines.append(f"{n} = {t} -> sequential(conv2d(out, 1, bias=false), batchnorm2d, relu6)")
    elif kind == "spatial":
        lines.append(draw(st.sampled_from([
            f"{n} = {t} -> conv2d(out, 3, stride=2, padding=same) -> upsample(2) -> crop({t})",
            f"{n} = {t} -> maxpool2d(2, ceil_mode=true) -> resize_like({t})",
            f"{n} = {t} -> avgpool2d(3, stride=1, padding=1, count_include_pad=false)",
        ])))
    else:
        lines.append(draw(st.sampled_from([
            f"{n} = {t} -> layernorm(axis=1)",
            f"{n} = {t} -> groupnorm(g if {t}.channels % g == 0 else 1)",
            f"{n} = {t} -> linear(out, axis=1) -> prelu(per_channel=true)",
        ])))
    return n


@st.composite
def _block(draw, name: str) -> str:
    defaults = []
    for p, values in (("k", [1, 3]), ("g", [1, 2]), ("r", [1, 2])):
        defaults.append(f"{p} = {draw(st.sampled_from(values))}")
    lines: list[str] = []
    t = "x"
    for j in range(draw(st.integers(1, 3))):
        t = _step(draw, j, t, lines)
    body = "\n".join("  " + line for line in lines)
    return f"block {name}(out, {', '.join(defaults)})(x) {{\n{body}\n  return {t}\n}}\n"


INNER = """block Inner(out, k = 3)(x) {
  return x -> conv2d(out, k, padding=k // 2, bias=false) -> batchnorm2d -> relu
}
block Twice(unit, n)(x) {
  return x -> unit(n) -> unit(n)
}
"""


def _args(draw) -> str:
    """Arguments of a block call: `out` from a model param (or a number), and some defaults
    overridden."""
    out = draw(st.sampled_from(["w", "w", "w * 2", "w // 2", "6", "w + 1"]))
    extra = []
    for p, values in (("k", ["1", "3"]), ("g", ["1", "2", "groups"]), ("r", ["1", "2"])):
        if draw(st.integers(0, 2)) == 0:
            extra.append(f"{p}={draw(st.sampled_from(values))}")
    return ", ".join([out, *extra])


@st.composite
def random_specs(draw) -> str:
    symbolic = draw(st.booleans())
    h, w = ("H", "W") if symbolic else (draw(st.integers(2, 7)), draw(st.integers(2, 7)))
    lines = ["model R",
             f"param w = {draw(st.sampled_from([4, 6, 8]))}",
             f"param groups = {draw(st.sampled_from([1, 2]))}"]
    if draw(st.booleans()):
        lines.append("param zzz = 7")  # unused: the trigger
    head = draw(st.sampled_from(["classes", "map", "both"]))
    if head != "map":
        lines.append("param num_classes = 3")
    lines.append(f"input x: [N, {draw(st.integers(1, 4))}, {h}, {w}]")
    nblocks = draw(st.integers(1, 3))
    blocks = [draw(_block(BLOCK_NAMES[b])) for b in range(nblocks)]
    body = []
    t = "x"
    partial = None
    for j in range(draw(st.integers(1, 4))):
        b = draw(st.sampled_from(BLOCK_NAMES[:nblocks]))
        form = draw(st.sampled_from(["call", "call", "pipe_kw", "partial", "repeat", "sequential",
                                     "twice", "concat"]))
        n = f"h{j}"
        if form == "call":
            body.append(f"{n} = {t} -> {b}({_args(draw)})")
        elif form == "pipe_kw":
            body.append(f"{n} = {b}({t}, {_args(draw)}, name=\"unit-{j}\")")
        elif form == "partial":
            if partial is None:
                partial = f"unit{j}"
                body.append(f"{partial} = {b}(g={draw(st.sampled_from(['2', 'groups']))})")
            body.append(f"{n} = {t} -> {partial}({draw(st.sampled_from(['w', '8', 'w * 2']))})")
        elif form == "repeat":
            body.append(f"{n} = {t} -> repeat({draw(st.integers(1, 3))}, "
                        f"{b}(w if i == 0 else w * 2, k=3 if i % 2 == 0 else 1))")
        elif form == "sequential":
            other = draw(st.sampled_from(BLOCK_NAMES[:nblocks]))
            body.append(f"{n} = {t} -> sequential({b}({_args(draw)}), {other}(w))")
        elif form == "twice":
            body.append(f"{n} = {t} -> Twice({b}(k=1), w)")
        else:
            body.append(f"{n} = concat({t} -> {b}({_args(draw)}), {t})")
        t = n
    if head == "classes":
        body.append(f"output y = {t} -> global_avgpool -> linear(num_classes)")
    elif head == "map":
        body.append(f"output y = {t}")
    else:
        body.append(f"output y = {t}")
        body.append(f"output logits = {t} -> global_avgpool -> linear(num_classes, name=fc)")
    return "\n".join(lines) + "\n\n" + INNER + "\n".join(blocks) + "\n" + "\n".join(body) + "\n"


# ----------------------------------------------------------------------------- the check


def _failure_kind(e: BaseException) -> str:
    """The error without what names the spec: an archc diagnostic by its code; otherwise the
    first line with quoted names and numbers left out (`AttributeError: 'S' object has no
    attribute 'r'` -> `AttributeError: '…' object has no attribute '…'`)."""
    text = f"{type(e).__name__}: {e}".splitlines()[0]
    code = re.search(r"error\[([A-Z0-9-]+)\]", text)
    if code:
        return f"{type(e).__name__} {code.group(1)}"
    return re.sub(r"\d+", "#", re.sub(r"'[^']*'", "'…'", text))


def _record_failure(text: str, e: BaseException) -> None:
    kind = _failure_kind(e)
    count, smallest, error = FAILURES.get(kind, (0, text, ""))
    if len(text) <= len(smallest) or not error:
        smallest, error = text, f"{type(e).__name__}: {e}".splitlines()[0]
    FAILURES[kind] = (count + 1, smallest, error)
    COUNTS["generator_failed"] += 1


def check_random_spec(text: str) -> None:
    COUNTS["generated"] += 1
    try:
        model = archc.loads(text)
    except SpecErrors:
        return
    COUNTS["accepted"] += 1
    values = smallest_sizes(model)
    xs = [x.double() for x in example_inputs(model, values)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            module = archc.build(model).double().eval()
            randomize_state(module, model)
            with torch.no_grad():
                ours = module_outputs(module, model, xs)
        except Exception as e:  # the spec was accepted: the generated code must build and run
            _record_failure(text, e)
            if STRICT:
                raise AssertionError(f"generated module failed:\n{text}\n{traceback.format_exc()}") from e
            return
    with torch.no_grad():
        computed = run_graph(model.graph, module.state_dict(), dict(zip(model.graph.inputs, xs)))
    for node in model.graph.layers():
        if node.id in computed:
            assert tuple(computed[node.id].shape) == static_shape(node.shape, values), (text, values, node.id)
    ref = outputs_of(model.graph, computed)
    for name, tensor in ours.items():
        err = relative_error(tensor, ref[name]) if tensor.shape == ref[name].shape else float("inf")
        if not err <= RTOL:
            COUNTS["mismatch"] += 1
            raise AssertionError(f"output {name} differs from the executor (relative error {err:.3g}) "
                                 f"at {values}:\n{text}")
    COUNTS["compared"] += 1


@settings(max_examples=EXAMPLES, deadline=None, derandomize=os.environ.get("ARCHC_RANDOM_SEED") is None,
          suppress_health_check=list(HealthCheck), database=None)
@given(text=random_specs())
def test_accepted_random_specs_equal_the_executor(text):
    check_random_spec(text)


# what code generation refuses with a located diagnostic, never a wrong module: a reshape to
# several sizes that only the running input gives (see test_reference_executor's symbolic_reshape)
REFUSALS = ("SpecError E-EXPORT-UNSUPPORTED-LAYER",)


def test_accepted_random_specs_build_and_run():
    """Every spec the differential test generated and archc accepted built and ran, or was
    refused by code generation with a diagnostic (runs after it, in file order)."""
    report = [f"{count} × {kind}; e.g.\n{text}" for kind, (count, text, _) in FAILURES.items()
              if not kind.startswith(REFUSALS)]
    assert not report, "generated modules that fail:\n" + "\n".join(report)
