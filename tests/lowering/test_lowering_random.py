"""Random graphs (hypothesis): whenever the static checker accepts a spec, the built PyTorch
module runs, and every node's real shape and the parameter count equal the static ones; so the
checker never accepts a model that torch would reject (no false accepts). Specs are random
chains of convolutions, pooling, normalisation, activations, padding and resampling with
random attributes, with residual adds, subtractions, concatenations, crops and broadcast
per-channel terms between earlier tensors where the shapes may allow, and reductions; some have symbolic input sizes, run at sizes meeting the recorded
constraints."""
from __future__ import annotations

import os
import warnings

import pytest

torch = pytest.importorskip("torch")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import archc  # noqa: E402
from archc.errors import SpecErrors  # noqa: E402
from lowering_support import (concrete_sizes, example_inputs, probe_module,  # noqa: E402
                              run_recording_shapes, static_shape)

EXAMPLES = int(os.environ.get("ARCHC_RANDOM_GRAPHS", "300"))  # each takes milliseconds


def _padding(draw, allow_words: bool = True):
    choice = draw(st.integers(0, 4 if allow_words else 2))
    if choice == 0:
        return str(draw(st.integers(0, 2)))
    if choice == 1:
        return f"[[{draw(st.integers(0, 2))}, {draw(st.integers(0, 2))}], [{draw(st.integers(0, 2))}, {draw(st.integers(0, 2))}]]"
    if choice == 2:
        return "[" + ", ".join(str(draw(st.integers(0, 2))) for _ in range(2)) + "]"
    return "same" if choice == 3 else "valid"


def _layer(draw, k: int) -> str:
    """One random layer call (without its input), named l<k>."""
    kind = draw(st.sampled_from(["conv", "conv", "convT", "dw", "sep", "pool", "pool", "norm",
                                 "act", "act", "upsample", "zeropad"]))
    i = lambda lo, hi: draw(st.integers(lo, hi))  # noqa: E731
    name = f"name=l{k}"
    if kind == "conv":
        groups = draw(st.sampled_from([1, 1, 1, 2]))
        return (f"conv2d({groups * i(1, 4)}, {i(1, 4)}, stride={i(1, 3)}, padding={_padding(draw)}, "
                f"dilation={i(1, 2)}, groups={groups}, bias={draw(st.sampled_from(['true', 'false']))}, {name})")
    if kind == "convT":
        stride = i(1, 3)
        padding = draw(st.sampled_from([str(i(0, 1)), "same", "valid", f"[[{i(0, 1)}, {i(0, 1)}], [0, {i(0, 1)}]]"]))
        out_pad = i(0, stride - 1) if padding != "same" else 0
        return (f"conv_transpose2d({i(1, 4)}, {i(1, 4)}, stride={stride}, padding={padding}, "
                f"output_padding={out_pad}, {name})")
    if kind == "dw":
        return f"depthwise_conv2d({i(1, 3)}, multiplier={i(1, 2)}, stride={i(1, 2)}, padding={_padding(draw)}, {name})"
    if kind == "sep":
        return f"separable_conv2d({i(1, 4)}, {i(1, 3)}, stride={i(1, 2)}, padding={_padding(draw)}, {name})"
    if kind == "pool":
        op = draw(st.sampled_from(["maxpool2d", "avgpool2d", "minpool2d", "sumpool2d", "global_avgpool",
                                   "adaptive_avgpool2d", "adaptive_maxpool2d"]))
        if op == "global_avgpool":
            return f"global_avgpool(keepdims=true, {name})"
        if op.startswith("adaptive"):
            return f"{op}({i(1, 3)}, {name})"
        kernel = i(1, 3)
        extra = f", dilation={i(1, 2)}" if op in ("maxpool2d", "minpool2d") else ""
        if op == "avgpool2d":
            extra += f", count_include_pad={draw(st.sampled_from(['true', 'false']))}"
        return (f"{op}({kernel}, stride={i(1, 3)}, padding={_padding(draw)}, "
                f"ceil_mode={draw(st.sampled_from(['true', 'false']))}{extra}, {name})")
    if kind == "norm":
        return draw(st.sampled_from([f"batchnorm2d({name})", f"groupnorm(1, {name})", f"frozen_batchnorm2d({name})",
                                     f"instancenorm2d(affine=true, {name})",
                                     f"layernorm(axes={i(1, 3)}, affine={draw(st.sampled_from(['true', 'false']))}, {name})"]))
    if kind == "act":
        return draw(st.sampled_from([f"relu({name})", f"gelu({name})", f"leaky_relu(0.1, {name})",
                                     f"hardtanh(-2, 2, {name})", f"prelu(per_channel=true, {name})",
                                     f"dropout2d(0.3, {name})", f"softmax({name})"]))
    if kind == "upsample":
        return f"upsample({i(1, 2)}, mode={draw(st.sampled_from(['nearest', 'bilinear']))}, {name})"
    pad = draw(st.sampled_from(["zeropad2d", "zeropad2d", "reflectionpad2d", "replicationpad2d"]))
    return f"{pad}({_padding(draw, allow_words=False)}, {name})"


@st.composite
def random_specs(draw) -> str:
    symbolic = draw(st.booleans())
    h, w = ("H", "W") if symbolic else (draw(st.integers(3, 14)), draw(st.integers(3, 14)))
    lines = [f"input x: [N, {draw(st.integers(1, 4))}, {h}, {w}]"]
    tensors = ["x"]
    for k in range(draw(st.integers(1, 6))):
        if len(tensors) > 1 and draw(st.integers(0, 4)) == 0:  # a merge of two earlier tensors
            a, b = draw(st.sampled_from(tensors)), draw(st.sampled_from(tensors))
            merge = draw(st.sampled_from(["add", "concat", "crop", "multiply", "subtract", "broadcast"]))
            if merge == "broadcast":  # a per-channel term at every position: [N, C, 1, 1] + [N, C, H, W]
                op = draw(st.sampled_from(["+", "-", "*"]))
                lines.append(f"t{k} = {a} {op} ({b} -> reduce_mean(axis=[2, 3], keepdim=true, name=l{k}))")
            else:
                lines.append(f"t{k} = {merge}({a}, {b}, name=l{k})")
        else:
            src = draw(st.sampled_from(tensors[-2:]))
            lines.append(f"t{k} = {src} -> {_layer(draw, k)}")
        tensors.append(f"t{k}")
    head = draw(st.sampled_from(["", "-> global_avgpool -> linear(3, name=fc)", "-> flatten",
                                 "-> reduce_sum(axis=1, name=r)", "-> reduce_max(axis=[-1, -2], name=r)"]))
    lines.append(f"output y = {tensors[-1]} {head}")
    for t in tensors[:-1]:  # keep every tensor (the checker reports unused names)
        lines.append(f"output o_{t} = {t}")
    return "\n".join(lines) + "\n"


@settings(max_examples=EXAMPLES, deadline=None, derandomize=os.environ.get("ARCHC_RANDOM_SEED") is None,
          suppress_health_check=list(HealthCheck))
@given(text=random_specs(), near=st.integers(1, 20))
def test_accepted_random_graphs_run_with_the_static_shapes(text, near):
    try:
        model = archc.loads(text)
    except SpecErrors:
        return  # rejected statically: nothing to build
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        module = probe_module(model)
        assert sum(p.numel() for p in module.parameters()) == model.params, text
        assert sum(b.numel() for b in module.buffers()) == model.metrics.totals.buffers, text
        module.eval()
        for values in concrete_sizes(model, [{"H": near, "W": near + 3}]):
            with torch.no_grad():
                recorded, _ = run_recording_shapes(module, example_inputs(model, values))
            for node in model.graph.layers():
                if not node.is_input:
                    assert recorded[node.id] == static_shape(node.shape, values), (text, values, node.id)
