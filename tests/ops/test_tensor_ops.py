"""The tensor ops modern CNNs need (issue 8): chunk, split and slicing, permute/transpose,
normalisation and linear layers over a chosen axis, symbolic reshape, resizing to a reference,
declared parameter and constant tensors, stochastic depth. Each is checked statically and,
lowered to PyTorch, against torch itself (those skip without torch)."""
from __future__ import annotations


import pytest

import archc
from spec_helpers import build, errors_of, load


@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch")


# ----------------------------------------------------------------------------- cutting tensors


SHUFFLE = """\
    block ShuffleUnit(groups = 2)(x) {
      a, b = x -> chunk(2)
      y = concat(a, b -> conv2d(b.channels, 1, bias=false, name=conv))
      # torchvision's channel_shuffle: view, transpose, flatten back
      return y -> reshape([groups, y.channels // groups, y.height, y.width]) -> transpose(1, 2)
               -> flatten(1, 2)
    }
    input x: [N, 8, H, W]
    output y = x -> ShuffleUnit(name=unit)
    """


def test_chunk_gives_several_tensors_and_shapes_stay_symbolic():
    model = load(SHUFFLE)
    assert model.shapes["unit.chunk"] == (archc.symbolic.sym("N"), 4, archc.symbolic.sym("H"),
                                          archc.symbolic.sym("W"))
    assert model.shapes["unit.chunk_1"][1] == 4
    assert model.output_shapes["y"][1:2] == (8,)


def test_channel_shuffle_lowered_equals_torch_at_two_sizes(torch):
    model = load(SHUFFLE)
    module = build(model)
    for h, w in ((5, 7), (8, 3)):
        x = torch.randn(2, 8, h, w)
        a, b = x.chunk(2, dim=1)
        y = torch.cat([a, module.unit.conv(b)], 1)
        expected = y.view(2, 2, 4, h, w).transpose(1, 2).reshape(2, 8, h, w)
        assert torch.equal(module(x), expected)


def test_slicing_and_split(torch):
    model = load("""\
        input x: [N, 10, 9, 9]
        a, b, c = x -> split([2, 3, 5])
        output y = concat(c[:, :, 1:-1:2, ::3], a[:, :, 1:-1:2, ::3], name=cat)
        output z = b[:, 0]
        """)
    assert model.output_shapes["y"] == (archc.symbolic.sym("N"), 7, 4, 3)
    assert model.output_shapes["z"] == (archc.symbolic.sym("N"), 9, 9)
    module = build(model)
    x = torch.randn(2, 10, 9, 9)
    out = module(x)
    assert torch.equal(out["y"], torch.cat([x[:, 5:, 1:-1:2, ::3], x[:, :2, 1:-1:2, ::3]], 1))
    assert torch.equal(out["z"], x[:, 2])


@pytest.mark.parametrize("text,message", [
    ("x[:, :20]", "reaches outside axis 1 of size 16"),
    ("x[1:]", "batch axis cannot be sliced"),
    ("x[:, 5:5]", "is empty"),
    ("x -> chunk(3)", "does not divide into 3 equal chunks"),
    ("x -> split([4, 4])", "add up to 8, but the axis has size 16"),
])
def test_cuts_that_torch_would_silently_shorten_are_errors(text, message):
    errors = errors_of(f"input x: [N, 16, 8, 8]\noutput y = {text}\n")
    assert message in errors[0].message


# ----------------------------------------------------------------------------- axes


def test_convnext_block_layernorm_over_channels_and_linear_on_the_last_axis(torch):
    model = load("""\
        block CNBlock(dim)(x) {
          y = x -> sequential(conv2d(dim, 7, padding=3, groups=dim), permute([0, 2, 3, 1]),
                              layernorm(axis=-1, eps=1e-6), linear(4 * dim), gelu, linear(dim),
                              permute([0, 3, 1, 2]), name="block")
          s = parameter([dim, 1, 1], value=1e-6, name="layer_scale")
          return x + (s * y -> stochastic_depth(0.1, name=stochastic_depth))
        }
        input x: [N, 8, H, W]
        output y = x -> conv2d(8, 1, name=stem) -> layernorm(axis=1, eps=1e-6, name=norm) -> CNBlock(8, name=cn)
        """)
    state = model.state_dict_shapes()
    assert state["cn.layer_scale"] == (8, 1, 1)
    assert state["norm.weight"] == (8,) and state["cn.block.2.weight"] == (8,)
    assert model.params == sum(int(__import__("math").prod(s)) for s in state.values())
    module = build(model)
    assert set(module.state_dict()) == set(state)
    assert torch.all(module.cn.layer_scale == 1e-6)
    x = torch.randn(2, 8, 6, 5)
    with torch.no_grad():
        h = module.stem(x)
        h = torch.nn.functional.layer_norm(h.permute(0, 2, 3, 1), (8,), module.norm.weight, module.norm.bias,
                                           1e-6).permute(0, 3, 1, 2)
        expected = h + module.cn.layer_scale * module.cn.block(h)
        assert torch.allclose(module(x), expected, atol=1e-6)


def test_layernorm_on_a_feature_map_must_say_which_axis():
    errors = errors_of("input x: [N, 8, 4, 4]\noutput y = x -> layernorm\n")
    assert "say which axis" in errors[0].message and "axis=1" in errors[0].hint


def test_symbolic_reshape_lowered(torch):
    model = load("""\
        input x: [N, 6, H, W]
        output y = x -> reshape([x.channels, 1, x.height * x.width])
        """)
    assert archc.symbolic.to_str(model.output_shapes["y"][3]) == "H*W"
    module = build(model)
    x = torch.randn(2, 6, 3, 5)
    assert torch.equal(module(x), x.reshape(2, 6, 1, 15))


def test_resize_to_a_reference_size_at_any_input_size(torch):
    model = load("""\
        input x: [N, 3, H, W]
        d = x -> conv2d(4, 3, stride=2, padding=1, name=down)
        output y = concat(resize_like(d, x, mode=bilinear), x)
        """)
    assert model.output_shapes["y"][1:] == (7, archc.symbolic.sym("H"), archc.symbolic.sym("W"))
    module = build(model)
    for h, w in ((9, 7), (16, 16)):
        assert tuple(module(torch.randn(1, 3, h, w)).shape) == (1, 7, h, w)


# ----------------------------------------------------------------------------- declared tensors


def test_constant_tensor_is_not_in_the_state_dict_and_normalises(torch):
    model = load("""\
        input x: [N, 3, H, W]
        mean = constant([0.485, 0.456, 0.406], shape=[3, 1, 1])
        inv_std = constant([[[4.0]], [[5.0]], [[6.0]]])
        output y = x * mean * inv_std
        """)
    assert model.params == 0 and model.state_dict_shapes() == {}
    module = build(model)
    assert len(module.state_dict()) == 0
    x = torch.randn(2, 3, 4, 4)
    mean = torch.tensor([0.485, 0.456, 0.406]).view(3, 1, 1)
    std = torch.tensor([4.0, 5.0, 6.0]).view(3, 1, 1)
    assert torch.allclose(module(x), x * mean * std)


def test_parameter_key_is_exactly_its_name_and_counts(torch):
    model = load("""\
        input x: [N, 4, 2, 2]
        g = parameter([4, 1, 1], value=0.5, name="gamma-1")
        output y = x * g
        """)
    assert model.state_dict_shapes() == {"gamma-1": (4, 1, 1)}
    assert model.params == 4 and model.trainable_params == 4
    module = build(model)
    assert list(module.state_dict()) == ["gamma-1"]
    assert float(module.state_dict()["gamma-1"].sum()) == 2.0


# ----------------------------------------------------------------------------- stochastic depth


def test_stochastic_depth_has_torchvision_semantics_in_training(torch):
    model = load("""\
        input x: [N, 4, 3, 3]
        output y = x -> stochastic_depth(0.5, name=sd)
        """)
    module = model.to_torch()
    x = torch.ones(64, 4, 3, 3)
    module.eval()
    assert torch.equal(module(x), x)
    module.train()
    torch.manual_seed(0)
    y = module(x)
    per_sample = y.flatten(1)
    # "row": each sample is either dropped entirely or scaled by 1 / (1 - p)
    assert set(per_sample.unique().tolist()) <= {0.0, 2.0}
    assert all(len(row.unique()) == 1 for row in per_sample)
    assert 10 < int((per_sample[:, 0] == 0).sum()) < 54
    # the same draw as torchvision.ops.stochastic_depth makes with the same seed
    torch.manual_seed(0)
    noise = torch.empty(64, 1, 1, 1).bernoulli_(0.5).div_(0.5)
    assert torch.equal(y, x * noise)


def test_broadcast_arithmetic_and_reductions_compute_what_torch_does(torch):
    """`x * scale + bias` with learnable [1, C, 1, 1] tensors, `a - b`, and reductions: the built
    module equals the same expressions in torch, at the static shapes (issue #18)."""
    model = load("""
        model Affine
        input x: [2, 4, 6, 5]
        scale = parameter([1, 4, 1, 1], value=2.0)
        bias = parameter([4, 1, 1], value=0.5)
        y = x * scale + bias
        d = y - x
        output s = d -> reduce_sum(axis=1)
        output m = d -> reduce_mean(axis=[2, 3], keepdim=true)
        output hi = y -> reduce_max([-1, -2])
        output lo = y -> reduce_min(axis=2)
    """)
    assert model.output_shapes == {"s": (2, 6, 5), "m": (2, 4, 1, 1), "hi": (2, 4), "lo": (2, 4, 5)}
    assert model.params == 8  # the scale and the bias
    x = torch.randn(2, 4, 6, 5)
    out = build(model)(x)
    y = x * 2.0 + 0.5
    d = y - x
    want = {"s": d.sum(1), "m": d.mean((2, 3), keepdim=True), "hi": y.amax((2, 3)), "lo": y.amin(2)}
    for name, tensor in want.items():
        assert torch.allclose(out[name], tensor, atol=1e-6), name


def test_an_add_whose_shapes_do_not_broadcast_keeps_the_residual_hints():
    (err,) = errors_of("""
        input x: [1, 8, 4, 4]
        output y = x + (x -> conv2d(16, 1))
    """)
    assert err.code == "E-SHAPE-ADD" and "1×1 conv" in err.hint
