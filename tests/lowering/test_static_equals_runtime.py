"""Every op, in its 1-d, 2-d and 3-d variants (and the rank-agnostic ones at ranks 3, 4 and 5):
random attribute values drawn from each attribute's declared type, on random input sizes
(small, so kernels often do not fit). Whenever the static checker accepts the layer, the built
PyTorch module must run and give every node the static shape, and the parameter and buffer
counts must match: the static rules equal PyTorch's runtime behaviour, quirks included (3-d
average pooling refuses an axis smaller than the kernel even when padded), or the spec is
rejected. A fixed seed (hypothesis `derandomize`) and a case count per op
(ARCHC_STATIC_RUNTIME_CASES, default 12) keep it reproducible and fast enough for CI."""
from __future__ import annotations

import os
import warnings

import pytest

torch = pytest.importorskip("torch")
from hypothesis import HealthCheck, Phase, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import archc  # noqa: E402
from archc.errors import SpecErrors  # noqa: E402
from archc.ops import REGISTRY  # noqa: E402
from archc.ops import base as B  # noqa: E402
from lowering_support import probe_module, run_recording_shapes  # noqa: E402

CASES = int(os.environ.get("ARCHC_STATIC_RUNTIME_CASES", "12"))
TRIED = {"cases": 0, "accepted": 0}


def _value(draw, t: B.AttrType, ndim: int) -> str:
    """Source text of a random value of attribute type `t` (mostly valid, sometimes not)."""
    i = lambda lo, hi: draw(st.integers(lo, hi))  # noqa: E731
    if isinstance(t, B.Optional):
        return "none" if draw(st.integers(0, 3)) == 0 else _value(draw, t.inner, ndim)
    if isinstance(t, B.Int):
        lo = t.min if t.min is not None else -1
        return str(i(lo, lo + 4))
    if isinstance(t, B.Ints):
        if ndim > 1 and draw(st.booleans()):
            return "[" + ", ".join(str(i(t.min, t.min + 3)) for _ in range(ndim)) + "]"
        return str(i(t.min, t.min + 3))
    if isinstance(t, B.Padding):
        c = i(0, 3)
        if c == 0:
            return draw(st.sampled_from(["same", "valid"]))
        if c == 1 and ndim:
            return "[" + ", ".join(f"[{i(0, 2)}, {i(0, 2)}]" for _ in range(ndim)) + "]"
        return str(i(0, 2))
    if isinstance(t, B.Choice):
        return draw(st.sampled_from(t.choices))
    if isinstance(t, B.BoolType):
        return draw(st.sampled_from(["true", "false"]))
    if isinstance(t, B.Float):
        lo = t.min if t.min is not None else t.above if t.above is not None else -2.0
        hi = t.max if t.max is not None else 2.0
        return repr(draw(st.sampled_from([lo, hi, (lo + hi) / 2, lo + (hi - lo) / 4])))
    if isinstance(t, B.Dims):
        return "[" + ", ".join(str(i(-1, 4)) for _ in range(i(1, ndim + 2))) + "]"
    return str(i(0, 3))


def _rank_of(op) -> int:
    """The spatial rank an op variant works on (rank-agnostic ops: drawn per case)."""
    return op.ndim


@st.composite
def _spec(draw, op) -> str:
    ndim = op.ndim or draw(st.integers(1, 3))
    sizes = [draw(st.integers(1, 7)) for _ in range(ndim)]
    channels = draw(st.sampled_from([1, 2, 3, 4, 6]))
    shape = ", ".join(str(v) for v in [2, channels, *sizes])
    parts = []
    for at in op.attrs:
        if at.name == "name":
            continue
        if at.required or draw(st.integers(0, 2)) == 0:
            parts.append(f"{at.name}={_value(draw, at.type, ndim)}")
    call = f"{op.name}({', '.join(parts)})"
    lines = [f"input x: [{shape}]"]
    if op.inputs == B.VARIADIC or op.name in ("crop", "resize_like"):
        other = draw(st.sampled_from(["x", "x -> relu", "x -> maxpool%dd(2)" % ndim, "x -> conv%dd(%d, 1)"
                                      % (ndim, draw(st.sampled_from([1, channels, 2 * channels])))]))
        lines.append(f"t = {other}")
        lines.append(f"output y = {call.replace('(', '(x, t, ', 1) if parts else call.replace('(', '(x, t', 1)}")
    elif op.inputs == 0:
        lines.append(f"p = {call}")
        lines.append("output y = x -> relu")
        lines.append("output q = p")
    else:
        lines.append(f"output y = x -> {call}")
    return "\n".join(lines) + "\n"


def _check(text: str) -> None:
    TRIED["cases"] += 1
    try:
        model = archc.loads(text)
    except SpecErrors:
        return  # rejected statically: nothing to compare
    TRIED["accepted"] += 1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        module = probe_module(model)
    assert sum(p.numel() for p in module.parameters()) == model.params, text
    # state_dict buffers (a `constant` is a non-persistent buffer: not counted)
    state = sum(v.numel() for v in module.state_dict().values())
    assert state == model.params + model.metrics.totals.buffers, text
    module.eval()
    inputs = [torch.randn(*model.graph.node(i).shape) for i in model.graph.inputs.values()]
    with torch.no_grad():
        recorded, _ = run_recording_shapes(module, inputs)
    for node in model.graph.layers():
        if not node.is_input:
            assert recorded[node.id] == tuple(node.shape), (text, node.id)


OPS = [op for op in REGISTRY.ops if op.inputs == 0 or op.attrs or op.inputs != 0]


@pytest.mark.parametrize("op", OPS, ids=lambda op: op.name)
def test_static_rule_equals_runtime(op):
    @settings(max_examples=CASES, deadline=None, derandomize=True, database=None,
              phases=[Phase.explicit, Phase.generate],  # no shrinking: failures print as drawn
             
              suppress_health_check=list(HealthCheck))
    @given(text=_spec(op))
    def run(text):
        _check(text)

    run()


def test_zz_report_case_count(capsys):
    """How many cases the sweep above tried (pytest -s shows it)."""
    with capsys.disabled():
        print(f"\nstatic = runtime: {TRIED['cases']} cases over {len(OPS)} ops, "
              f"{TRIED['accepted']} accepted and run")
    if TRIED["cases"]:
        assert TRIED["accepted"] > 0


# ----------------------------------------------------------------------------- regression cases


def _errors(text: str) -> str:
    with pytest.raises(SpecErrors) as e:
        archc.loads(text)
    return str(e.value)


@pytest.mark.parametrize("op", ["avgpool3d", "sumpool3d"])
def test_3d_average_pooling_refuses_an_axis_smaller_than_the_kernel(op):
    text = f"input x: [1, 1, 2, 5, 5]\noutput y = x -> {op}(3, stride=1, padding=1)\n"
    assert "smaller than the kernel" in _errors(text)
    with pytest.raises(RuntimeError, match="smaller than kernel"):  # as PyTorch itself
        torch.nn.AvgPool3d(3, stride=1, padding=1)(torch.zeros(1, 1, 2, 5, 5))
    # symbolic sizes: recorded as a constraint; 2-d pooling and max pooling accept the size
    model = archc.loads(f"input x: [1, 1, D, H, W]\noutput y = x -> {op}(3, padding=1)\n")
    assert "D >= 3" in model.constraints
    archc.loads("input x: [1, 1, 2, 5]\noutput y = x -> avgpool2d(3, stride=1, padding=1)\n")
    archc.loads("input x: [1, 1, 2, 5, 5]\noutput y = x -> maxpool3d(3, stride=1, padding=1)\n")


@pytest.mark.parametrize("call", ["dropout(1e309 - 1e309)", "batchnorm2d(eps=1e309 - 1e309)",
                                  "batchnorm2d(eps=1e309)", "dropout(10**400)", "scale(1e309)"])
def test_nan_and_inf_float_attributes_are_refused(call):
    text = f"input x: [1, 3, 8, 8]\noutput y = x -> {call}\n"
    message = _errors(text)
    assert "NaN" in message or "finite" in message or "too large" in message


def test_integer_attribute_too_large_for_a_float_is_described_without_its_digits():
    assert "an int of about 401 digits" in _errors("input x: [1, 3, 8, 8]\noutput y = x -> dropout(10**400)\n")


def test_a_repeated_model_param_is_an_error():
    message = _errors("param c = 4\nparam c = 8\ninput x: [1, 3, 8, 8]\noutput y = x -> conv2d(c, 3)\n")
    assert "model parameter 'c' is declared twice (first at line 1)" in message


def test_absurd_parameter_count_is_an_error_and_a_large_one_a_warning():
    message = _errors("input x: [1, 3, 32, 32]\noutput y = x -> conv2d(10**12, 3)\n")
    assert "28,000,000,000,000 parameters" in message and "past the limit" in message
    model = archc.loads("input x: [1, 3, 4, 4]\noutput y = x -> conv2d(10**9, 3, padding=1)\n")
    assert any("over 10,000,000,000 parameters" in w.message for w in model.warnings)
    with pytest.raises(SpecErrors):
        archc.loads("input x: [1, 3, 4, 4]\noutput y = x -> conv2d(10**9, 3, padding=1)\n", strict=True)


def test_absurd_activation_size_is_an_error():
    message = _errors("input x: [1, 3, 100000, 100000, 100000]\noutput y = x -> relu\n")
    assert "activations of one sample" in message and "past the limit" in message


def test_slice_index_that_is_not_a_list_is_an_error():
    assert "one entry per axis" in _errors("input x: [2, 1, 1]\noutput y = x -> slice(index=0)\n")


def test_constant_with_a_negative_size_is_an_error():
    assert "must have sizes ≥ 1" in _errors("input x: [2, 3]\np = constant(value=0, shape=[3, -1])\n"
                                             "output y = x\noutput q = p\n")
