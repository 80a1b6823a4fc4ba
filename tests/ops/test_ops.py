"""The op library: shapes, parameters, buffers and MACs, cross-checked against real PyTorch
modules where torch is installed, plus the lecture-notes ground truth and the error messages."""
from __future__ import annotations

import warnings

from fractions import Fraction

import pytest

from archc import symbolic as sy
from archc.ops import REGISTRY
from archc.ops.families import FAMILIES
from archc.ops.base import AttrError, Op, ShapeError, Window, Word, numel
from op_cases import CASES


# ----------------------------------------------------------------------------- helpers

class Ctx:
    """A ShapeContext that records what it is asked about symbolic sizes."""

    def __init__(self):
        self.equal: list = []
        self.positive: list = []

    def require_equal(self, a, b):
        if sy.is_int(a) and sy.is_int(b):
            return a == b
        self.equal.append((a, b))
        return True

    def require_positive(self, d):
        if sy.is_int(d):
            return d >= 1
        self.positive.append(d)
        return True


def infer(name, shapes, *args, ctx=None, **kwargs):
    op = REGISTRY.get(name)
    assert op is not None, name
    ndim = op.ndim or (max(0, len(shapes[0]) - 2) if shapes else 0)
    a = op.bind(args, kwargs, ndim)
    out = op.output_shape(a, [tuple(s) for s in shapes], ctx or Ctx())
    return op, a, out


def param_count(op: Op, a, shapes) -> int:
    return sum(numel(s) for s in op.parameters(a, shapes).values())


# ----------------------------------------------------------------------------- torch cross-checks
# The cases: tests/support/op_cases.py.


def _case_id(case):
    name, shapes, args, kwargs, _ = case
    return f"{name}-{'x'.join(map(str, shapes[0]))}-{args}-{kwargs}".replace(" ", "")


@pytest.fixture(scope="module")
def torch():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    return torch


@pytest.mark.parametrize("case", CASES, ids=[_case_id(c) for c in CASES])
def test_matches_torch(case, torch):
    name, shapes, args, kwargs, build = case
    op, a, out = infer(name, shapes, *args, **kwargs)
    built = build(torch)
    forward, module = built if isinstance(built, tuple) else (built, built)
    xs = [torch.randn(*s) for s in shapes]
    if isinstance(module, torch.nn.Module):
        module.eval()
    with torch.no_grad():
        y = forward(*xs)
    assert tuple(y.shape) == out

    params = op.parameters(a, shapes)
    buffers = op.buffers(a, shapes)
    for shape in (*params.values(), *buffers.values()):
        assert all(isinstance(d, int) for d in shape)
    if isinstance(module, torch.nn.Module):
        state = module.state_dict()
        assert set(state) == set(params) | set(buffers)
        assert {k: tuple(state[k].shape) for k in params} == {k: tuple(v) for k, v in params.items()}
        assert {k: tuple(state[k].shape) for k in buffers} == {k: tuple(v) for k, v in buffers.items()}
        assert sum(p.numel() for p in module.parameters()) == param_count(op, a, shapes)
    else:
        assert params == {} and buffers == {}

    macs = op.macs(a, shapes, out)
    assert isinstance(macs, int) and macs >= 0


def test_every_op_is_cross_checked():
    # tensors a spec declares (no input) are checked through generated modules in test_tensor_ops
    checked = {REGISTRY.get(c[0]).name for c in CASES} | {"parameter", "constant"}
    assert checked == {op.name for op in REGISTRY.ops}


def test_same_padding_values_match_torch(torch):
    """padding=same with stride 1 pads exactly like torch's own padding='same'."""
    op, a, out = infer("conv2d", [(1, 1, 7, 8)], 1, (4, 3), padding="same", bias=False)
    conv = torch.nn.Conv2d(1, 1, (4, 3), padding="same", bias=False)
    x = torch.randn(1, 1, 7, 8)
    ref = torch.nn.functional.conv2d(torch.nn.functional.pad(x, (1, 1, 1, 2)), conv.weight)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch: even kernels with padding='same' copy the input
        assert torch.allclose(conv(x), ref, atol=1e-6)
    assert out == (1, 1, 7, 8)


def test_sliding_window_sizes_match_torch_on_a_grid(torch):
    """Every kernel/stride/padding/dilation/ceil_mode combination of a small grid, on every input
    size from 1 to 12: our size (or our error) agrees with torch's pooling and conv_transpose."""
    F = torch.nn.functional
    for k in (1, 2, 3, 4):
        for s in (1, 2, 3):
            for p in range(k // 2 + 2):  # k // 2 + 1: torch rejects the padding, and so do we
                for d in (1, 2):
                    for ceil in (False, True):
                        for n in range(1, 13):
                            x = torch.zeros(1, 1, n)
                            try:
                                want = F.max_pool1d(x, k, s, p, d, ceil_mode=ceil).shape[-1]
                            except RuntimeError:
                                want = None
                            try:
                                got = infer("maxpool1d", [(1, 1, n)], k, stride=s, padding=p,
                                            dilation=d, ceil_mode=ceil)[2][-1]
                            except ShapeError:
                                got = None
                            assert got == want, (k, s, p, d, ceil, n)
    w = torch.zeros(1, 1, 3)
    for s in (1, 2, 3):
        for p in (0, 1, 2):
            for op_ in range(s):
                for d in (1, 2):
                    for n in range(1, 6):
                        got = infer("conv_transpose1d", [(1, 1, n)], 1, 3, stride=s, padding=p,
                                    output_padding=op_, dilation=d)[2][-1] \
                            if (n - 1) * s - 2 * p + d * 2 + op_ + 1 >= 1 else None
                        try:
                            want = F.conv_transpose1d(torch.zeros(1, 1, n), w, None, s, p, op_, 1, d).shape[-1]
                        except RuntimeError:
                            want = None
                        assert got == want, (s, p, op_, d, n)


# ----------------------------------------------------------------------------- MACs

def test_macs_values():
    _, a, out = infer("conv2d", [(2, 4, 8, 8)], 8, 3, padding=1, groups=2)
    assert REGISTRY.get("conv2d").macs(a, [(2, 4, 8, 8)], out) == 2 * 8 * 8 * 8 * 2 * 9
    op, a, out = infer("conv_transpose2d", [(1, 4, 5, 5)], 6, 2, stride=2)
    assert op.macs(a, [(1, 4, 5, 5)], out) == 4 * 25 * 6 * 4
    op, a, out = infer("separable_conv2d", [(1, 4, 8, 8)], 6, 3, padding=1)
    assert op.macs(a, [(1, 4, 8, 8)], out) == 64 * 4 * 9 + 64 * 4 * 6
    op, a, out = infer("linear", [(3, 400)], 120)
    assert op.macs(a, [(3, 400)], out) == 3 * 400 * 120
    op, a, out = infer("maxpool2d", [(1, 3, 8, 8)], 2)
    assert op.macs(a, [(1, 3, 8, 8)], out) == 0
    op, a, out = infer("avgpool2d", [(1, 3, 8, 8)], 2)
    assert op.macs(a, [(1, 3, 8, 8)], out) == 3 * 16 * 4
    op, a, out = infer("upsample", [(1, 3, 4, 4)], 2, mode="bilinear")
    assert op.macs(a, [(1, 3, 4, 4)], out) == 3 * 64 * 4
    op, a, out = infer("upsample", [(1, 3, 4, 4)], 2)
    assert op.macs(a, [(1, 3, 4, 4)], out) == 0
    op, a, out = infer("batchnorm2d", [(1, 3, 4, 4)])
    assert op.macs(a, [(1, 3, 4, 4)], out) == 48
    op, a, out = infer("multiply", [(1, 8, 1, 1), (1, 8, 4, 4)])
    assert op.macs(a, [(1, 8, 1, 1), (1, 8, 4, 4)], out) == 128
    op, a, out = infer("add", [(1, 8, 4, 4)] * 2)
    assert op.macs(a, [(1, 8, 4, 4)] * 2, out) == 0


# ----------------------------------------------------------------------------- lecture-notes ground truth

def test_seed_twenty_3x3x3_filters():
    # /work/shared/seeds/004_8b79345f5ce77c0c.txt ("Convolutional Neural Network - 1"):
    # "In a layer, if you have 20 filters of dimension 3x3x3 each ... 28 x 20 = 560 parameters"
    op, a, _ = infer("conv2d", [(1, 3, 32, 32)], 20, 3)
    assert param_count(op, a, [(1, 3, 32, 32)]) == 560


def test_seed_cifar10_model_summary():
    # /work/shared/seeds/004_8b79345f5ce77c0c.txt, "CNN Example Image Classification using CIFAR10
    # dataset", Model Summary: CONV 1 5x5x3x6 (28, 28, 6) 456; POOL 1 (14, 14, 6); CONV 2 5x5x6x16
    # (10, 10, 16) 2416; POOL 2 (5, 5, 16); FC 1 400 -> 120 48120; FC 2 120 -> 84 10164;
    # Softmax Output 84 -> 10 850; Total 62,006.
    layers = [("conv2d", (6, 5), (1, 6, 28, 28), 456), ("maxpool2d", (2,), (1, 6, 14, 14), 0),
              ("conv2d", (16, 5), (1, 16, 10, 10), 2416), ("maxpool2d", (2,), (1, 16, 5, 5), 0),
              ("flatten", (), (1, 400), 0), ("linear", (120,), (1, 120), 48120),
              ("relu", (), (1, 120), 0), ("linear", (84,), (1, 84), 10164),
              ("linear", (10,), (1, 10), 850), ("softmax", (), (1, 10), 0)]
    shape, total = (1, 3, 32, 32), 0
    for name, args, want_shape, want_params in layers:
        op, a, out = infer(name, [shape], *args)
        assert out == want_shape, name
        assert param_count(op, a, [shape]) == want_params, name
        total += want_params
        shape = out
    assert total == 62006


# ----------------------------------------------------------------------------- errors

def _error(name, shapes, *args, ctx=None, **kwargs) -> ShapeError:
    with pytest.raises(ShapeError) as e:
        infer(name, shapes, *args, ctx=ctx, **kwargs)
    return e.value


def test_kernel_larger_than_input():
    e = _error("conv2d", [(1, 3, 3, 3)], 8, 5)
    assert e.message == "kernel 5 is larger than the 3×3 input"
    assert "padding=same" in e.hint
    e = _error("conv2d", [(1, 3, 3, 3)], 8, 7, padding=1)
    assert e.message == "kernel 7 is larger than the 3×3 input padded to 5×5"
    e = _error("conv1d", [(1, 3, 4)], 8, 3, dilation=2)
    assert e.message == "kernel 3 with dilation 2 spans 5, more than the input of length 4"
    e = _error("maxpool2d", [(1, 3, 1, 4)], 2)
    assert e.message == "kernel 2 is larger than the 1×4 input"


def test_groups_must_divide():
    assert _error("conv2d", [(1, 64, 8, 8)], 96, 3, groups=3).message == \
        "groups=3 does not divide 64 input channels"
    assert _error("conv2d", [(1, 64, 8, 8)], 30, 3, groups=4).message == \
        "groups=4 does not divide 30 output channels (out)"
    assert _error("groupnorm", [(1, 30, 8, 8)], 4).message == "groups=4 does not divide 30 channels"


def test_merge_mismatches():
    e = _error("add", [(1, 64, 8, 8), (1, 128, 8, 8)])
    assert e.message == "channels differ, 64 vs 128" and "1×1 conv" in e.hint
    assert _error("add", [(2, 8, 4, 4), (3, 8, 4, 4)]).message == "batch sizes differ, 2 vs 3"
    e = _error("concat", [(1, 64, 28, 28), (1, 32, 27, 27)])
    assert e.message == "spatial sizes differ, 28×28 vs 27×27" and "crop" in e.hint
    e = _error("add", [(1, 8, 4, 4), (1, 8, 4, 4), (1, 8, 4, 5)])
    assert e.message == "spatial sizes differ, 4×4 vs 4×5 (input 1 vs input 3)"
    assert "channels differ, 8 vs 4" in _error("multiply", [(1, 8, 4, 4), (1, 4, 1, 1)]).message
    assert _error("concat", [(1, 3, 4), (1, 3, 4)], axis=3).message.startswith("axis 3 is out of range")


def test_other_errors():
    assert "output_padding 2 must be smaller than the stride 2" in \
        _error("conv_transpose2d", [(1, 2, 4, 4)], 3, 3, stride=2, output_padding=2).message
    assert "more than half the kernel" in _error("maxpool2d", [(1, 2, 8, 8)], 2, padding=2).message
    assert "mode bilinear needs 2 spatial axes" in _error("upsample", [(1, 2, 8)], mode="bilinear").message
    assert _error("crop", [(1, 2, 8, 8), (1, 2, 9, 8)]).message.startswith("the reference 9×8 is larger")
    assert "not divisible by 7" in _error("reshape", [(1, 48)], [7, -1]).message
    assert "48 elements per sample vs 50" in _error("reshape", [(1, 48)], [5, 10]).message
    assert "rank 3" in _error("conv2d", [(1, 3, 8)], 4, 3).message
    assert _error("batchnorm2d", [(1, 3, 8)]).hint.startswith("layout is channels-first")
    assert "start_dim 3 comes after end_dim 1" in _error("flatten", [(1, 2, 3, 4)], 3, 1).message


# ----------------------------------------------------------------------------- error codes
# Every error an op raises carries its catalogue code (archc/codes/ops.py) and a hint, its own or
# the catalogue entry's; the code survives the attribute binding's rewording of the message.

_SHAPE_CODES = [
    ("conv2d", [(1, 3, 3, 3)], (8, 5), {}, "E-SHAPE-KERNEL-TOO-LARGE"),
    ("avgpool3d", [(1, 2, 2, 8, 8)], (3,), {"padding": 1}, "E-SHAPE-KERNEL-TOO-LARGE"),
    ("conv2d", [(1, 64, 8, 8)], (96, 3), {"groups": 3}, "E-SHAPE-NOT-DIVISIBLE"),
    ("groupnorm", [(1, 30, 8, 8)], (4,), {}, "E-SHAPE-NOT-DIVISIBLE"),
    ("add", [(1, 64, 8, 8), (1, 128, 8, 8)], (), {}, "E-SHAPE-ADD"),
    ("add", [(1, 64, 8, 8), (1, 64)], (), {}, "E-SHAPE-ADD"),
    ("concat", [(1, 64, 28, 28), (1, 32, 27, 27)], (), {}, "E-SHAPE-CONCAT"),
    ("concat", [(1, 3, 4), (1, 3, 4)], (), {"axis": 3}, "E-SHAPE-AXIS"),
    ("multiply", [(1, 8, 4, 4), (1, 4, 1, 1)], (), {}, "E-SHAPE-BROADCAST"),
    ("conv_transpose2d", [(1, 2, 4, 4)], (3, 3), {"stride": 2, "output_padding": 2}, "E-ATTR-RANGE"),
    ("conv_transpose2d", [(1, 2, 4, 4)], (3, 3), {"stride": 2, "padding": "same", "output_padding": 1},
     "E-ATTR-CONFLICT"),
    ("conv_transpose2d", [(1, 2, 1, 1)], (3, 4), {"padding": 2}, "E-SHAPE-PADDING-TOO-LARGE"),
    ("maxpool2d", [(1, 2, 8, 8)], (2,), {"padding": 2}, "E-ATTR-RANGE"),
    ("upsample", [(1, 2, 8)], (), {"mode": "bilinear"}, "E-SHAPE-RANK"),
    ("upsample", [(1, 2, 8, 8)], (), {"align_corners": True}, "E-ATTR-CONFLICT"),
    ("crop", [(1, 2, 8, 8), (1, 2, 9, 8)], (), {}, "E-SHAPE-CROP"),
    ("reshape", [(1, 48)], ([7, -1],), {}, "E-SHAPE-RESHAPE"),
    ("reshape", [(1, 48)], ([5, 10],), {}, "E-SHAPE-RESHAPE"),
    ("reshape", [(1, 48)], ([0, -1],), {}, "E-ATTR-RANGE"),
    ("conv2d", [(1, 3, 8)], (4, 3), {}, "E-SHAPE-RANK"),
    ("flatten", [(1, 2, 3, 4)], (3, 1), {}, "E-ATTR-CONFLICT"),
    ("flatten", [(1, 2, 3, 4)], (5,), {}, "E-SHAPE-AXIS"),
    ("linear", [(1, 8)], (4,), {"axis": 0}, "E-SHAPE-BATCH-AXIS"),
    ("linear", [(1, sy.sym("F"))], (4,), {}, "E-SHAPE-NOT-CONCRETE"),
    ("conv2d", [(1, sy.sym("C"), 8, 8)], (4, 3), {}, "E-SHAPE-NOT-CONCRETE"),
    ("softmax", [(1, 10)], (), {"dim": 2}, "E-SHAPE-AXIS"),
    ("hardtanh", [(1, 10)], (), {"min_val": 1, "max_val": -1}, "E-ATTR-CONFLICT"),
    ("layernorm", [(1, 8, 4, 4)], (), {}, "E-ATTR-REQUIRED"),
    ("layernorm", [(1, 8, 4, 4)], (), {"axis": 1, "axes": 1}, "E-ATTR-CONFLICT"),
    ("layernorm", [(1, 8, 4, 4)], (), {"axes": 4}, "E-SHAPE-BATCH-AXIS"),
    ("layernorm", [(1, 8, 4, 4)], (), {"axis": 0}, "E-SHAPE-BATCH-AXIS"),
    ("layernorm", [(1, 8, 4, 4)], (), {"axis": 9}, "E-SHAPE-AXIS"),
    ("instancenorm2d", [(1, 8, 1, 1)], (), {}, "E-SHAPE-SINGLE-POSITION"),
    ("permute", [(1, 8, 4, 4)], ([0, 2, 1],), {}, "E-SHAPE-PERMUTE"),
    ("permute", [(1, 8, 4, 4)], ([0, 2, 2, 1],), {}, "E-SHAPE-PERMUTE"),
    ("permute", [(1, 8, 4, 4)], ([1, 0, 2, 3],), {}, "E-SHAPE-BATCH-AXIS"),
    ("transpose", [(1, 8, 4, 4)], (0, 1), {}, "E-SHAPE-BATCH-AXIS"),
    ("slice", [(1, 8, 4, 4)], ([[0, 1, None]],), {}, "E-SHAPE-BATCH-AXIS"),
    ("slice", [(1, 8, 4, 4)], ([[None, None, None], [4, 12, None]],), {}, "E-SHAPE-SLICE"),
    ("slice", [(1, 8, 4, 4)], ([[None, None, None], 9],), {}, "E-SHAPE-SLICE"),
    ("chunk", [(1, 9, 4, 4)], (2,), {}, "E-SHAPE-SPLIT"),
    ("split", [(1, 9, 4, 4)], ([4, 4],), {}, "E-SHAPE-SPLIT"),
    ("chunk", [(1, 8, 4, 4)], (2,), {"axis": 0}, "E-SHAPE-BATCH-AXIS"),
    ("constant", [], (0.5,), {}, "E-ATTR-REQUIRED"),
    ("constant", [], ([1.0, 2.0],), {"shape": [3, 1, 1]}, "E-ATTR-CONFLICT"),
]


@pytest.mark.parametrize("name, shapes, args, kwargs, code", _SHAPE_CODES,
                         ids=[f"{c[0]}-{c[4]}" for c in _SHAPE_CODES])
def test_shape_errors_carry_their_code_and_a_hint(name, shapes, args, kwargs, code):
    from archc.codes import default_hint, lookup
    e = _error(name, shapes, *args, **kwargs)
    assert e.code == code and lookup(code) is not None, (e.message, e.code)
    assert e.hint or default_hint(code)


_ATTR_CODES = [
    ("conv2d", 2, (8, 1.5), {}, "E-ATTR-TYPE", "conv2d attribute 'kernel': expected int"),
    ("conv2d", 2, (8, 3), {"bias": Word("yes")}, "E-ATTR-TYPE", "the unknown name 'yes'"),
    ("zeropad2d", 2, ("same",), {}, "E-ATTR-TYPE", "expected an int"),
    ("dropout", 2, (), {"p": 1.5}, "E-ATTR-RANGE", "must be in [0.0, 1.0], got 1.5"),
    ("conv2d", 2, (0, 3), {}, "E-ATTR-RANGE", "must be ≥ 1, got 0"),
    ("dropout", 2, (), {"p": float("nan")}, "E-ATTR-NOT-FINITE", "NaN"),
    ("conv2d", 2, (8, [3, 3, 3]), {}, "E-ATTR-AXIS-COUNT", "expected 1 or 2 values"),
    ("conv2d", 2, (8, 3), {"padding": [1, 1, 1]}, "E-ATTR-AXIS-COUNT", "expected 1 or 2 paddings"),
    ("gelu", 2, (), {"approximate": "tanhh"}, "E-ATTR-CHOICE", "expected one of none, tanh"),
    ("conv2d", 2, (8, 3), {"padding": Word("sam")}, "E-ATTR-CHOICE", "expected same, valid"),
    ("conv2d", 2, (8,), {}, "E-CALL-MISSING-ARGUMENT", "conv2d needs attribute 'kernel'"),
    ("relu", 2, (0.1,), {}, "E-CALL-ARGUMENT-COUNT", "relu takes at most 0 positional"),
    ("conv2d", 2, (8, 3), {"kernel": 5}, "E-CALL-ARGUMENT-TWICE", "attribute 'kernel' given twice"),
    ("conv2d", 2, (8, 3), {"strid": 2}, "E-CALL-UNKNOWN-KEYWORD", "conv2d has no attribute 'strid'"),
]


@pytest.mark.parametrize("name, ndim, args, kwargs, code, text", _ATTR_CODES,
                         ids=[f"{c[0]}-{c[4]}" for c in _ATTR_CODES])
def test_attribute_errors_carry_their_code_and_a_hint(name, ndim, args, kwargs, code, text):
    from archc.codes import default_hint, lookup
    with pytest.raises(AttrError) as info:
        REGISTRY.get(name).bind(args, kwargs, ndim)
    e = info.value
    assert text in e.message and e.code == code and lookup(code) is not None, (e.message, e.code)
    assert e.hint or default_hint(code)


# ----------------------------------------------------------------------------- pooling rounding

def test_pool_floor_vs_ceil():
    assert infer("maxpool2d", [(1, 1, 7, 7)], 2, stride=2)[2] == (1, 1, 3, 3)
    assert infer("maxpool2d", [(1, 1, 7, 7)], 2, stride=2, ceil_mode=True)[2] == (1, 1, 4, 4)
    # the last window would start in the right padding: dropped, as in PyTorch
    assert infer("maxpool1d", [(1, 1, 5)], 2, stride=2, padding=1, ceil_mode=True)[2] == (1, 1, 3)


# ----------------------------------------------------------------------------- symbolic sizes

def test_conv_on_symbolic_size_records_minimum():
    N, H, W = sy.sym("N"), sy.sym("H"), sy.sym("W")
    ctx = Ctx()
    _, _, out = infer("conv2d", [(N, 3, H, W)], 16, 3, ctx=ctx)
    assert sy.to_str(out[2]) == sy.to_str(H - 2)
    assert [sy.to_str(d) for d in ctx.positive] == [sy.to_str(H - 2), sy.to_str(W - 2)]
    # padding=same, stride 1: the size is kept exactly
    assert infer("conv2d", [(N, 3, H, W)], 16, 3, padding="same")[2] == (N, 16, H, W)
    # stride 2: out = ceil(in / 2)
    out = infer("conv2d", [(N, 3, H, W)], 16, 3, stride=2, padding="same")[2]
    assert sy.to_str(out[2]) == sy.to_str(sy.ceildiv(H, 2))


def test_symbolic_pooling_ceil_mode():
    H = sy.sym("H")
    floor = infer("maxpool2d", [(1, 3, H, H)], 2)[2]
    assert sy.to_str(floor[2]) == sy.to_str(sy.floordiv(H, 2))
    ceil = infer("maxpool2d", [(1, 3, H, H)], 3, stride=2, padding=1, ceil_mode=True)[2]
    assert sy.to_str(ceil[2]) == sy.to_str(sy.add(sy.ceildiv(sy.sub(H, 1), 2), 1))
    e = _error("maxpool2d", [(1, 3, H, H)], 2, stride=2, padding=1, ceil_mode=True)
    assert "needs a concrete input size" in e.message


def test_symbolic_shapes_print():
    N, H, W = sy.sym("N"), sy.sym("H"), sy.sym("W")
    x = (N, 3, H, W)
    for name, args in [("conv2d", (16, 3)), ("maxpool2d", (2,)), ("conv2d", (32, 3)), ("maxpool2d", (2,))]:
        x = infer(name, [x], *args)[2]
    flat = infer("flatten", [x])[2]
    assert sy.to_str(flat[1]) == sy.to_str(sy.mul(32, sy.mul(sy.floordiv(sy.sub(sy.floordiv(sy.sub(H, 2), 2), 2), 2),
                                                            sy.floordiv(sy.sub(sy.floordiv(sy.sub(W, 2), 2), 2), 2))))
    e = _error("linear", [flat], 10)
    assert e.message.startswith("linear needs a concrete number of input features, got ")
    assert "global pooling" in e.hint
    # global pooling makes the features concrete again
    g = infer("global_avgpool", [x])[2]
    assert g == (N, 32)
    op, a, out = infer("linear", [g], 10)
    assert out == (N, 10) and param_count(op, a, [g]) == 330


def test_symbolic_sizes_agree_with_concrete_ones():
    """A symbolic size, evaluated at H = h, equals the size inferred for the concrete input h
    (conv, pooling in floor and ceil mode, transposed conv, same padding)."""
    H = sy.sym("H")
    configs = [("conv1d", (1, k), dict(stride=s, padding=p, dilation=d))
               for k in (1, 3, 4) for s in (1, 2, 3) for p in (0, 1, 2) for d in (1, 2)]
    configs += [("maxpool1d", (k,), dict(stride=s, padding=p, ceil_mode=c))
                for k in (2, 3, 4) for s in (1, 2, 3) for p in range(k // 2 + 1) for c in (False, True)]
    configs += [("conv_transpose1d", (1, k), dict(stride=s, padding=p, output_padding=s - 1))
                for k in (1, 2, 3) for s in (1, 2, 3) for p in (0, 1)]
    configs += [("conv1d", (1, k), dict(stride=s, padding="same")) for k in (1, 2, 3, 4) for s in (1, 2, 3)]
    configs += [("conv_transpose1d", (1, k), dict(stride=s, padding="same")) for k in (2, 3) for s in (1, 2)]
    for name, args, kwargs in configs:
        try:
            sym_out = infer(name, [(1, 1, H)], *args, **kwargs)[2][-1]
        except ShapeError as e:
            assert kwargs.get("ceil_mode") and "concrete input size" in e.message
            continue
        for h in range(12, 30):
            want = infer(name, [(1, 1, h)], *args, **kwargs)[2][-1]
            got = sym_out.subs({"H": h}) if not sy.is_int(sym_out) else sym_out
            assert got == want, (name, args, kwargs, h, sy.to_str(sym_out))


def test_minimum_size_recorded_by_the_inference_engine():
    A = sy.Assumptions()
    H = sy.sym("H")
    x = (1, 3, H, H)
    for name, args in [("conv2d", (8, 5)), ("maxpool2d", (2,)), ("conv2d", (8, 3))]:
        op = REGISTRY.get(name)
        a = op.bind(args, {}, 2)
        x = op.output_shape(a, [x], A)
    # 5×5 conv, 2×2 pool, 3×3 conv: floor((H-4)/2) - 2 >= 1 needs H >= 10
    assert [str(b) for b in A.lower_bounds.values()] == ["H >= 10"]
    assert sy.to_str(x[2]) == "floor(H/2) - 4"


def test_keras_unet_chain():
    """The Keras U-Net of /work/shared/seeds/003 ("Image segmentation: U-net in Keras"), op by op:
    1,941,105 parameters (Keras' model.summary() of that listing, as quoted in
    specs/unet_keras.arch); with a symbolic size H the skip concatenations need H % 16 == 0."""
    for size in (128, sy.sym("H")):
        A, total = sy.Assumptions(), 0

        def run(name, x, *args, **kwargs):
            nonlocal total
            op = REGISTRY.get(name)
            shapes = x if isinstance(x, list) else [x]
            a = op.bind(args, kwargs, op.ndim or len(shapes[0]) - 2)
            out = op.output_shape(a, shapes, A)
            total += param_count(op, a, shapes)
            return out

        def double(x, f):
            return run("conv2d", run("conv2d", x, f, 3, padding="same"), f, 3, padding="same")

        skips, x = [], run("scale", (1, 3, size, size), 1 / 255)
        for f in (16, 32, 64, 128):
            x = double(x, f)
            skips.append(x)
            x = run("maxpool2d", x, 2)
        x = double(x, 256)
        for f in (128, 64, 32, 16):
            up = run("conv_transpose2d", x, f, 2, stride=2, padding="same")
            x = double(run("concat", [up, skips.pop()]), f)
        out = run("conv2d", x, 1, 1)
        assert total == 1941105
        if size == 128:
            assert out == (1, 1, 128, 128) and A.describe() == []
        else:
            assert A.describe() == ["H % 16 == 0", "H >= 16"]


def test_symbolic_merges_and_reshape():
    N, H = sy.sym("N"), sy.sym("H")
    ctx = Ctx()
    out = infer("add", [(N, 8, H, H), (N, 8, 16, H)], ctx=ctx)[2]
    assert out == (N, 8, 16, H) and ctx.equal
    out = infer("concat", [(N, 8, H, H), (N, 4, H, H)])[2]
    assert out == (N, 12, H, H)
    ctx = Ctx()
    out = infer("reshape", [(N, 4, H)], [2, -1], ctx=ctx)[2]
    assert out[:2] == (N, 2) and ctx.equal


# ----------------------------------------------------------------------------- documentation and metadata

@pytest.mark.parametrize("op", REGISTRY.ops, ids=[op.name for op in REGISTRY.ops])
def test_every_op_is_documented(op):
    for field in ("doc", "title", "family", "shape_rule", "param_rule", "macs_rule"):
        assert isinstance(getattr(op, field), str) and getattr(op, field).strip(), field
    assert op.family in FAMILIES
    for at in op.attrs:
        assert at.doc.strip(), f"{op.name}.{at.name}"
    assert "flop" not in op.macs_rule.lower()


def test_every_op_counts_macs_for_a_valid_input():
    for case in CASES:
        name, shapes, args, kwargs, _ = case
        op, a, out = infer(name, shapes, *args, **kwargs)
        assert sy.is_int(op.macs(a, shapes, out))
    # and each op class states macs itself (no inherited default)
    for op in REGISTRY.ops:
        assert type(op).macs is not Op.macs, op.name


def test_labels():
    def label(name, *args, ndim=2, **kwargs):
        op = REGISTRY.get(name)
        return op.label(op.bind(args, kwargs, op.ndim or ndim))
    assert label("conv2d", 64, 3, stride=2) == "64, 3×3, s2"
    assert label("conv2d", 64, 3, padding=1, dilation=2, groups=32) == "64, 3×3, p1, d2, g32"
    assert label("conv2d", 64, 3, padding="same") == "64, 3×3, same"
    assert label("maxpool2d", 3, stride=2) == "3×3, s2"
    assert label("maxpool2d", 2) == "2×2"
    assert label("linear", 10) == "10"
    assert label("dropout", 0.5) == "p=0.5"
    assert label("upsample", 2, mode="bilinear") == "×2 bilinear"
    assert label("upsample") == "×2"


def test_windows():
    def window(name, shapes, *args, **kwargs):
        op, a, _ = infer(name, shapes, *args, **kwargs)
        return op.window(a, shapes)
    assert window("conv2d", [(1, 3, 9, 9)], 8, 3, stride=2, dilation=2) == Window((5, 5), (2, 2))
    assert window("maxpool2d", [(1, 3, 9, 9)], 2) == Window((2, 2), (2, 2))
    assert window("conv_transpose2d", [(1, 3, 9, 9)], 8, 4, stride=2) == Window((4, 4), (2, 2), transposed=True)
    assert window("upsample", [(1, 3, 9, 9)]) == Window((1, 1), (2, 2), transposed=True)
    assert window("global_avgpool", [(1, 3, 9, 9)]).global_
    assert window("adaptive_avgpool2d", [(1, 3, 9, 9)], 1).global_
    assert window("adaptive_avgpool2d", [(1, 3, 6, 6)], 6) == Window((1, 1), (1, 1))  # identity
    assert window("adaptive_avgpool2d", [(1, 3, 12, 12)], 3) == Window((4, 4), (4, 4))
    assert window("adaptive_maxpool1d", [(1, 3, 10)], 3) == Window((4,), (Fraction(10, 3),))
    assert window("linear", [(1, 9)], 3) is None
    assert window("flatten", [(1, 3, 9, 9)]) is None
    assert window("relu", [(1, 3, 9, 9)]) == Window((1, 1), (1, 1))


def test_registry_aliases():
    assert REGISTRY.get("dense") is REGISTRY.get("linear")
    assert REGISTRY.get("swish") is REGISTRY.get("silu")
    assert REGISTRY.get("max_pool2d") is REGISTRY.get("maxpool2d")
