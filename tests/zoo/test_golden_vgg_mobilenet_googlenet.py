"""Golden numbers for the second half of the zoo (specs/), each with its source: the lecture notes'
listings (shared/seeds/), Keras' model.summary() counting rules, torchvision's published totals and
state_dict keys and shapes (tests/fixtures/torchvision_*.json), the papers' figures and tables.
Static only: nothing here imports torch."""
import json
from functools import lru_cache
from pathlib import Path

import pytest

import archc
from archc.ops.base import Word

SPECS = Path(__file__).resolve().parents[2] / "specs"
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


@lru_cache(maxsize=None)
def _load(name: str, params: tuple) -> "archc.Model":
    return archc.load(SPECS / name, dict(params) or None)


def load(name: str, **params) -> "archc.Model":
    return _load(name, tuple(sorted(params.items())))


def shape_of(model, node_id):
    """A node's shape without the batch dimension."""
    return tuple(model.graph.node(node_id).shape[1:])


def static_state_dict(model):
    return {key: list(shape) for key, shape in model.state_dict_shapes().items()}


def scope_shape(model, scope_id):
    """The shape a block instance (a submodule) returns, without the batch dimension."""
    (out,) = model.graph.scopes[tuple(scope_id.split("."))].outputs
    return shape_of(model, out)


def torchvision_fixture(name):
    # recorded from torchvision by tests/fixtures/make_torchvision_fixtures.py
    return json.loads((FIXTURES / f"torchvision_{name}.json").read_text())


def conv_linear_macs(model):
    return sum(model.metrics.layers[n.id].macs for n in model.graph.layers()
               if not n.is_input and n.op.family in ("conv", "linear"))


def conv_params(k, cin, cout, bias=True):
    """Conv2D / Conv2DTranspose parameters, Keras' and torch's count alike: k·k·cin·cout (+ cout)."""
    return k * k * cin * cout + (cout if bias else 0)


def dense_params(cin, cout):
    return cin * cout + cout


# ----------------------------------------------------------------------------- totals

# (spec, -D overrides, total parameters, source)
TOTALS = [
    ("mnist_deep_cnn.arch", {}, 1_413_834,
     "Keras model.summary() total of the shared/seeds/003 listing (arithmetic below)"),
    ("mnist_deep_cnn.yaml", {}, 1_413_834,
     "Keras model.summary() total of the shared/seeds/003 listing (arithmetic below)"),
    ("alexnet.arch", {}, 61_100_840, "torchvision.models.alexnet documentation: 61,100,840 params"),
    ("vgg11.arch", {}, 132_863_336, "torchvision.models.vgg11 documentation: 132,863,336 params"),
    ("vgg13.arch", {}, 133_047_848, "torchvision.models.vgg13 documentation: 133,047,848 params"),
    ("vgg16.arch", {}, 138_357_544, "torchvision.models.vgg16 documentation: 138,357,544 params"),
    ("vgg19.arch", {}, 143_667_240, "torchvision.models.vgg19 documentation: 143,667,240 params"),
    ("vgg16.arch", {"batch_norm": True}, 138_365_992,
     "torchvision.models.vgg16_bn documentation: 138,365,992 params"),
    ("mobilenet_v2.arch", {}, 3_504_872, "torchvision.models.mobilenet_v2 documentation: 3,504,872 params"),
    # torchvision documents 6,624,904 for GoogLeNet_Weights.IMAGENET1K_V1, i.e. the model that
    # googlenet(weights=...) returns, whose auxiliary classifiers are removed (aux_logits=False);
    # with both aux heads it has 13,004,888 (counted from torchvision 0.28's googlenet(aux_logits=True)).
    ("googlenet.arch", {}, 6_624_904, "torchvision.models.googlenet documentation: 6,624,904 params"),
    # Computed from the paper's layer list (no outside total is published for it); the sum is
    # spelled out in test_unet_original_parameters_from_the_layer_list.
    ("unet_original.arch", {}, 31_030_658, "Ronneberger et al. 2015, Fig. 1, counted layer by layer"),
    ("denoising_autoencoder.arch", {}, 74_497, "Keras' Conv2D / Conv2DTranspose formula, layer by layer"),
    ("classifier_localizer.arch", {}, 392_494, "per-layer formula (test_classifier_localizer_heads)"),
    ("classifier_localizer.yaml", {}, 392_494, "per-layer formula (test_classifier_localizer_heads)"),
]


@pytest.mark.parametrize("spec,params,total,source", TOTALS,
                         ids=[t[0] + "".join(f"-{k}={v}" for k, v in t[1].items()) for t in TOTALS])
def test_total_parameters(spec, params, total, source):
    model = load(spec, **params)
    assert model.params == total, source
    assert model.trainable_params == total
    assert model.frozen_params == 0


# ----------------------------------------------------------------------------- MNIST (Keras)


def test_mnist_deep_cnn_keras_count():
    # shared/seeds/003 "CNN for MNIST with Keras" (Géron, Hands-On ML 2e, ch. 14). Keras counts a
    # Conv2D as kernel_h·kernel_w·in_channels·filters + filters (bias), a Dense as in·units + units,
    # and MaxPooling2D, Flatten and Dropout as 0 -- the same as torch for these layers:
    #   conv 64@7×7 on 1 channel:     7·7·1·64     + 64  =     3,200
    #   conv 128@3×3 on 64:           3·3·64·128   + 128 =    73,856
    #   conv 128@3×3 on 128:          3·3·128·128  + 128 =   147,584
    #   conv 256@3×3 on 128:          3·3·128·256  + 256 =   295,168
    #   conv 256@3×3 on 256:          3·3·256·256  + 256 =   590,080
    #   dense 128 on 3·3·256 = 2,304: 2,304·128    + 128 =   295,040
    #   dense 64 on 128:              128·64       + 64  =     8,256
    #   dense 10 on 64:               64·10        + 10  =       650
    #                                                total 1,413,834
    # (the pools use Keras' default padding "valid": 28 -> 14 -> 7 -> 3, so Flatten gives 2,304)
    expected = {"conv1": conv_params(7, 1, 64), "conv2": conv_params(3, 64, 128),
                "conv3": conv_params(3, 128, 128), "conv4": conv_params(3, 128, 256),
                "conv5": conv_params(3, 256, 256), "dense1": dense_params(2304, 128),
                "dense2": dense_params(128, 64), "dense3": dense_params(64, 10)}
    assert expected == {"conv1": 3_200, "conv2": 73_856, "conv3": 147_584, "conv4": 295_168,
                        "conv5": 590_080, "dense1": 295_040, "dense2": 8_256, "dense3": 650}
    assert sum(expected.values()) == 1_413_834
    for spec in ("mnist_deep_cnn.arch", "mnist_deep_cnn.yaml"):
        model = load(spec)
        assert {n: model.layer_params(n) for n in expected} == expected
        assert shape_of(model, "conv1") == (64, 28, 28)  # padding SAME keeps 28×28
        assert shape_of(model, "pool1") == (64, 14, 14)
        assert shape_of(model, "conv3") == (128, 14, 14)
        assert shape_of(model, "pool2") == (128, 7, 7)
        assert shape_of(model, "conv5") == (256, 7, 7)
        assert shape_of(model, "pool3") == (256, 3, 3)
        assert shape_of(model, "flatten") == (2304,)
        assert shape_of(model, "softmax") == (10,)
        dropouts = [n for n in model.graph.layers() if n.op_name == "dropout"]
        assert [n.attrs["p"] for n in dropouts] == [0.5, 0.5]


# ----------------------------------------------------------------------------- YAML == DSL


def graph_signature(model):
    g = model.graph
    return ([(n.id, n.op_name, dict(n.attrs), n.shape, n.inputs, n.frozen, n.init) for n in g.layers()],
            sorted((a, b, d["port"]) for a, b, d in g.nx.edges(data=True)),
            g.inputs, g.outputs, sorted(g.scopes))


@pytest.mark.parametrize("stem", ["mnist_deep_cnn", "classifier_localizer"])
def test_yaml_and_dsl_versions_give_identical_graphs(stem):
    a, b = load(f"{stem}.arch"), load(f"{stem}.yaml")
    assert graph_signature(a) == graph_signature(b)
    assert a.params == b.params and a.macs == b.macs


# ----------------------------------------------------------------------------- torchvision


# (spec, -D overrides, fixture recorded from torchvision)
TORCHVISION = [
    ("alexnet.arch", {}, "alexnet"),
    ("vgg11.arch", {}, "vgg11"),
    ("vgg13.arch", {}, "vgg13"),
    ("vgg16.arch", {}, "vgg16"),
    ("vgg19.arch", {}, "vgg19"),
    ("vgg16.arch", {"batch_norm": True}, "vgg16_bn"),
    ("mobilenet_v2.arch", {}, "mobilenet_v2"),
    ("mobilenet_v2.arch", {"width": 0.5}, "mobilenet_v2_width0.5"),
    ("mobilenet_v2.arch", {"width": 1.4}, "mobilenet_v2_width1.4"),
    ("googlenet.arch", {}, "googlenet"),
]


@pytest.mark.parametrize("spec,params,fixture", TORCHVISION, ids=[t[2] for t in TORCHVISION])
def test_state_dict_keys_and_shapes_equal_torchvision(spec, params, fixture):
    reference = torchvision_fixture(fixture)
    model = load(spec, **params)
    ours = static_state_dict(model)
    assert list(ours) == list(reference["state_dict"])  # same keys, in the same order
    assert ours == reference["state_dict"]
    assert model.params == reference["params"]


# torchvision's model docs list "GFLOPS" per 224×224 image (weights.meta["_ops"]) that are the
# multiply-accumulates of the convolutions and linear layers.
@pytest.mark.parametrize("spec,params,published", [
    ("alexnet.arch", {}, 0.714), ("vgg11.arch", {}, 7.609), ("vgg13.arch", {}, 11.308),
    ("vgg16.arch", {}, 15.47), ("vgg19.arch", {}, 19.632), ("vgg16.arch", {"batch_norm": True}, 15.47),
    ("mobilenet_v2.arch", {}, 0.301), ("googlenet.arch", {}, 1.498)])
def test_macs_match_torchvision(spec, params, published):
    model = load(spec, **params)
    assert round(conv_linear_macs(model) / 1e9, 3) == published
    assert model.macs > conv_linear_macs(model)  # pools, batch norms, … are counted too


def test_alexnet_torchvision_shapes():
    # torchvision's AlexNet on 224×224: 55 -> 27 -> 27 -> 13 -> 13 -> 6, flattened 256·6·6 = 9,216
    model = load("alexnet.arch")
    expected = {"features.0": (64, 55, 55), "features.2": (64, 27, 27), "features.3": (192, 27, 27),
                "features.5": (192, 13, 13), "features.6": (384, 13, 13), "features.8": (256, 13, 13),
                "features.10": (256, 13, 13), "features.12": (256, 6, 6), "avgpool": (256, 6, 6),
                "flatten": (9216,), "classifier.1": (4096,), "classifier.4": (4096,),
                "classifier.6": (1000,)}
    assert {k: shape_of(model, k) for k in expected} == expected
    assert [n.op_name for n in model.graph.children(("classifier",))] == [
        "dropout", "linear", "relu", "dropout", "linear", "relu", "linear"]


def test_vgg16_shapes_and_layout():
    # Simonyan & Zisserman, Table 1, configuration D: 13 3×3 convolutions in five stages of
    # 64, 128, 256, 512, 512 filters, each stage ending in a 2×2 max pool: 224 -> 7
    model = load("vgg16.arch")
    pools = {"features.4": (64, 112, 112), "features.9": (128, 56, 56), "features.16": (256, 28, 28),
             "features.23": (512, 14, 14), "features.30": (512, 7, 7)}
    assert {k: shape_of(model, k) for k in pools} == pools
    convs = [n for n in model.graph.layers() if n.op_name == "conv2d"]
    assert len(convs) == 13 and all(n.attrs["kernel"] == (3, 3) for n in convs)
    assert shape_of(model, "flatten") == (512 * 7 * 7,)
    # one flat `features` numbering, as torchvision's nn.Sequential
    assert [n.name for n in model.graph.children(("features",))] == [str(i) for i in range(31)]


@pytest.mark.parametrize("spec,convs", [("vgg11.arch", 8), ("vgg13.arch", 10), ("vgg16.arch", 13),
                                        ("vgg19.arch", 16)])
def test_vgg_configurations_have_the_papers_weight_layers(spec, convs):
    # VGG-11/13/16/19 are named after their weight layers: convolutions + 3 fully connected
    model = load(spec)
    assert sum(n.op_name == "conv2d" for n in model.graph.layers()) == convs
    assert sum(n.op_name == "linear" for n in model.graph.layers()) == 3


def test_mobilenet_v2_table2_shapes():
    # Sandler et al. 2018, Table 2 (input 224²×3): conv 112²×32; bottlenecks t1 c16 112², t6 c24
    # 56², c32 28², c64 14², c96 14², c160 7², c320 7²; 1×1 conv 7²×1280
    model = load("mobilenet_v2.arch")
    expected = {"features.0": (32, 112, 112), "features.1": (16, 112, 112), "features.3": (24, 56, 56),
                "features.6": (32, 28, 28), "features.10": (64, 14, 14), "features.13": (96, 14, 14),
                "features.16": (160, 7, 7), "features.17": (320, 7, 7), "features.18": (1280, 7, 7),
                "flatten": (1280,), "classifier.1": (1000,)}
    assert {k: scope_shape(model, k) if k.startswith("features") else shape_of(model, k)
            for k in expected} == expected
    # expansion t = 6: the 1×1 expansion of features.2 gives 16·6 = 96 channels; the depthwise
    # 3×3 convolution has one filter per channel (groups = channels)
    assert shape_of(model, "features.2.conv.0.0") == (96, 112, 112)
    assert shape_of(model, "features.2.conv.0.2") == (96, 112, 112)
    depthwise = model.graph.node("features.2.conv.1.0")
    assert depthwise.attrs["groups"] == 96 and shape_of(model, depthwise.id) == (96, 56, 56)
    assert model.metrics.layers[depthwise.id].param_shapes == {"weight": (96, 1, 3, 3)}
    # t = 1 (features.1) has no expansion convolution
    assert [s.path[-1] for s in model.graph.child_scopes(("features", "1", "conv"))] == ["0"]
    # the shortcut is there when stride 1 keeps the channels: every block of a row but its first
    adds = sorted(int(n.id.split(".")[1]) for n in model.graph.layers() if n.op_name == "add")
    assert adds == [3, 5, 6, 8, 9, 10, 12, 13, 15, 16]
    # ReLU6 after every convolution but the linear projections: stem, 17 depthwise, 16
    # expansions (all rows but the first have t = 6), the last 1×1 convolution
    ops = [n.op_name for n in model.graph.layers()]
    assert ops.count("relu6") == 1 + 17 + 16 + 1 and "relu" not in ops


def test_mobilenet_v2_width_multiplier():
    # channels are make_divisible(c · width, 8), as torchvision's _make_divisible; the last
    # convolution keeps 1280 for width ≤ 1 (the fixtures for 0.5 and 1.4 check every shape)
    half = load("mobilenet_v2.arch", width=0.5)
    assert scope_shape(half, "features.0") == (16, 112, 112)      # 32·0.5
    assert scope_shape(half, "features.1") == (8, 112, 112)       # 16·0.5
    assert scope_shape(half, "features.3") == (16, 56, 56)        # 24·0.5 = 12 -> 16
    assert scope_shape(half, "features.18") == (1280, 7, 7)
    wide = load("mobilenet_v2.arch", width=1.4)
    assert scope_shape(wide, "features.0") == (48, 112, 112)      # 32·1.4 = 44.8 -> 48
    assert scope_shape(wide, "features.18") == (1792, 7, 7)       # 1280·1.4
    assert half.params == 1_968_680 and wide.params == 6_108_776  # torchvision 0.28, width_mult=0.5 / 1.4


def test_googlenet_table1_shapes():
    # Szegedy et al. 2015, Table 1 (output sizes, channels): conv 112²×64, max pool 56²×64,
    # conv 56²×192, max pool 28²×192, 3a 256, 3b 480, max pool 14², 4a 512, 4b 512, 4c 512,
    # 4d 528, 4e 832, max pool 7², 5a 832, 5b 1024, avg pool 1×1×1024, linear 1000
    model = load("googlenet.arch")
    expected = {"conv1": (64, 112, 112), "maxpool1": (64, 56, 56), "conv3": (192, 56, 56),
                "maxpool2": (192, 28, 28), "inception3a.concat": (256, 28, 28),
                "inception3b.concat": (480, 28, 28), "maxpool3": (480, 14, 14),
                "inception4a.concat": (512, 14, 14), "inception4b.concat": (512, 14, 14),
                "inception4c.concat": (512, 14, 14), "inception4d.concat": (528, 14, 14),
                "inception4e.concat": (832, 14, 14), "maxpool4": (832, 7, 7),
                "inception5a.concat": (832, 7, 7), "inception5b.concat": (1024, 7, 7),
                "avgpool": (1024, 1, 1), "fc": (1000,)}
    shapes = {k: shape_of(model, k) for k in expected if k in model.shapes}
    shapes.update({k: shape_of(model, f"{k}.relu") for k in ("conv1", "conv3")})
    assert shapes == expected
    # torchvision's BasicConv2d: conv without bias, batch norm with eps 0.001; pools round up
    bns = [n for n in model.graph.layers() if n.op_name == "batchnorm2d"]
    assert len(bns) == 57 and all(n.attrs["eps"] == 0.001 for n in bns)
    convs = [n for n in model.graph.layers() if n.op_name == "conv2d"]
    assert len(convs) == 57 and not any(n.attrs["bias"] for n in convs)
    pools = [n for n in model.graph.layers() if n.op_name == "maxpool2d"]
    assert len(pools) == 4 + 9 and all(n.attrs["ceil_mode"] for n in pools)
    # (ceil_mode matters above: 112 -> 56 and 56 -> 28, where floor would give 55 and 27)
    # torchvision's "5×5" branch is a 3×3 convolution
    assert model.graph.node("inception3a.branch3.1.conv").attrs["kernel"] == (3, 3)


# ----------------------------------------------------------------------------- U-Net (2015)


def unet_sizes(h):
    """The original U-Net's sizes for an h×h input by the shape formulas (valid 3×3 convolution:
    n - 2; 2×2 max pool: floor(n/2); 2×2 stride-2 up-convolution: 2n; crop: skip ≥ up), or None
    when some size would be < 1 or a skip smaller than what it is cropped to."""
    sizes, skips, n = [], [], h
    for level in range(5):
        n -= 4
        if n < 1:
            return None
        sizes.append(n)
        if level < 4:
            skips.append(n)
            n //= 2
            sizes.append(n)
    for skip in reversed(skips):
        n *= 2
        if skip < n:
            return None
        sizes.append(n)
        n -= 4
        if n < 1:
            return None
        sizes.append(n)
    return sizes


def test_unet_original_figure1_sizes():
    # Ronneberger et al. 2015, Fig. 1: 572 -> 570 -> 568, pool 284 -> 282 -> 280, 140 -> 138 -> 136,
    # 68 -> 66 -> 64, 32 -> 30 -> 28; up 56 -> 54 -> 52, 104 -> 102 -> 100, 200 -> 198 -> 196,
    # 392 -> 390 -> 388; channels 64, 128, 256, 512, 1024 down and back, 2 output maps
    model = load("unet_original.arch")
    expected = {
        "down1.conv1": (64, 570, 570), "down1.conv2": (64, 568, 568), "pool1": (64, 284, 284),
        "down2.conv1": (128, 282, 282), "down2.conv2": (128, 280, 280), "pool2": (128, 140, 140),
        "down3.conv1": (256, 138, 138), "down3.conv2": (256, 136, 136), "pool3": (256, 68, 68),
        "down4.conv1": (512, 66, 66), "down4.conv2": (512, 64, 64), "pool4": (512, 32, 32),
        "bottom.conv1": (1024, 30, 30), "bottom.conv2": (1024, 28, 28),
        "up4.upconv": (512, 56, 56), "up4.crop": (512, 56, 56), "up4.concat": (1024, 56, 56),
        "up4.conv1": (512, 54, 54), "up4.conv2": (512, 52, 52),
        "up3.upconv": (256, 104, 104), "up3.crop": (256, 104, 104), "up3.concat": (512, 104, 104),
        "up3.conv1": (256, 102, 102), "up3.conv2": (256, 100, 100),
        "up2.upconv": (128, 200, 200), "up2.crop": (128, 200, 200), "up2.concat": (256, 200, 200),
        "up2.conv1": (128, 198, 198), "up2.conv2": (128, 196, 196),
        "up1.upconv": (64, 392, 392), "up1.crop": (64, 392, 392), "up1.concat": (128, 392, 392),
        "up1.conv1": (64, 390, 390), "up1.conv2": (64, 388, 388), "head": (2, 388, 388)}
    assert {k: shape_of(model, k) for k in expected} == expected
    assert [str(d) for d in model.output_shapes["logits"]] == ["N", "2", "388", "388"]
    # the crops: 568 -> 392, 280 -> 200, 136 -> 104, 64 -> 56 (the "copy and crop" arrows)
    crops = {"up1": "down1", "up2": "down2", "up3": "down3", "up4": "down4"}
    for up, down in crops.items():
        skip, ref = model.graph.node(f"{up}.crop").inputs
        assert skip == f"{down}.relu2" and ref == f"{up}.upconv"
    assert unet_sizes(572) == [568, 284, 280, 140, 136, 68, 64, 32, 28,
                               56, 52, 104, 100, 200, 196, 392, 388]


def test_unet_original_parameters_from_the_layer_list():
    # valid 3×3 convolutions with bias, 2×2 up-convolutions with bias, a 1×1 head; no outside total
    # is published for the paper's network, so the count is the sum over its layer list
    down = [(1, 64), (64, 128), (128, 256), (256, 512), (512, 1024)]
    total = sum(conv_params(3, cin, cout) + conv_params(3, cout, cout) for cin, cout in down)
    for c in (512, 256, 128, 64):  # up-convolution 2c -> c, then 3×3 convolutions 2c -> c, c -> c
        total += conv_params(2, 2 * c, c) + conv_params(3, 2 * c, c) + conv_params(3, c, c)
    total += conv_params(1, 64, 2)
    assert total == 31_030_658 == load("unet_original.arch").params
    model = load("unet_original.arch")
    assert model.metrics.layers["up4.upconv"].param_shapes == {"weight": (1024, 512, 2, 2), "bias": (512,)}


def test_unet_original_symbolic_size_constraints():
    # With floor pooling any size ≥ 188 is valid (the crops absorb odd sizes), so archc reports the
    # minimum and no congruence; the output is 16·floor((H + 4)/16) - 188.
    model = load("unet_original.arch", size=Word("H"))
    assert model.constraints == ["H >= 188"]
    out = model.output_shapes["logits"]
    assert str(out[2]) == "16*floor((H + 4)/16) - 188" and out[2] == out[3]
    # brute force against the shape formulas
    for h in range(100, 1200):
        sizes = unet_sizes(h)
        assert (sizes is not None) == (h >= 188), h
        if sizes is not None:
            assert out[2].subs({"H": h}) == sizes[-1], h
            # the paper's tiling rule (every max pool sees an even size) is H ≡ 12 (mod 16), and
            # then the output is H - 184 (572 -> 388)
            if h % 16 == 12:
                assert sizes[-1] == h - 184
                assert all(n % 2 == 0 for n in sizes[:8:2])
    # concrete sizes agree: the smallest valid one, an odd one, the paper's
    for h in (188, 573, 572):
        assert shape_of(load("unet_original.arch", size=h), "head") == (2, unet_sizes(h)[-1], unet_sizes(h)[-1])
    with pytest.raises(archc.SpecErrors):
        archc.load(SPECS / "unet_original.arch", {"size": 187})


# ----------------------------------------------------------------------------- autoencoder


def test_denoising_autoencoder_restores_the_input_shape():
    model = load("denoising_autoencoder.arch")
    assert model.output_shapes["denoised"] == model.graph.node("x").shape
    assert shape_of(model, "enc1") == (32, 14, 14) and shape_of(model, "enc2") == (64, 7, 7)
    assert shape_of(model, "dec1") == (64, 14, 14) and shape_of(model, "dec2") == (32, 28, 28)
    # Keras' Conv2DTranspose has a kernel (k, k, filters, in_channels) and a bias (filters):
    # k·k·in·filters + filters, the Conv2D formula; torch stores the kernel as [in, out, k, k]
    expected = {"enc1": conv_params(3, 1, 32), "enc2": conv_params(3, 32, 64),
                "dec1": conv_params(3, 64, 64), "dec2": conv_params(3, 64, 32), "out": conv_params(3, 32, 1)}
    assert expected == {"enc1": 320, "enc2": 18_496, "dec1": 36_928, "dec2": 18_464, "out": 289}
    assert {n: model.layer_params(n) for n in expected} == expected
    assert sum(expected.values()) == model.params == 74_497
    assert model.metrics.layers["dec2"].param_shapes == {"weight": (64, 32, 3, 3), "bias": (32,)}
    assert model.graph.node(model.graph.outputs["denoised"]).op_name == "sigmoid"


def test_denoising_autoencoder_symbolic_size():
    # stride-2 "same" convolutions give ceil(H/2), the transposed ones double: the output is
    # 4·ceil(H/4), the input's size exactly when H % 4 == 0
    model = load("denoising_autoencoder.arch", size=Word("H"))
    assert model.constraints == []
    out = model.output_shapes["denoised"][2]
    assert str(out) == "4*floor((H + 3)/4)"
    for h in range(1, 200):
        assert out.subs({"H": h}) == 4 * -(-h // 4)
        assert (out.subs({"H": h}) == h) == (h % 4 == 0)


# ----------------------------------------------------------------------------- two heads


@pytest.mark.parametrize("spec", ["classifier_localizer.arch", "classifier_localizer.yaml"])
def test_classifier_localizer_heads(spec):
    # shared/seeds/003 "Classification and Localization": global average pooling, then
    # Dense(n_classes, softmax) and a second dense output of four units
    model = load(spec)
    assert list(model.graph.outputs) == ["class_probs", "bbox"]
    assert [tuple(s[1:]) for s in model.output_shapes.values()] == [(10,), (4,)]
    class_head, loc_head = model.graph.node("class_head"), model.graph.node("loc_head")
    assert class_head.inputs == loc_head.inputs == ["avg"]  # one backbone, two heads
    assert model.graph.node(model.graph.outputs["class_probs"]).op_name == "softmax"
    assert model.graph.outputs["bbox"] == "loc_head"  # a regression: no activation
    assert shape_of(model, "block4.relu") == (256, 16, 16) and shape_of(model, "avg") == (256,)
    backbone = sum(conv_params(3, cin, cout, bias=False) + 2 * cout  # conv without bias + batch norm
                   for cin, cout in [(3, 32), (32, 64), (64, 128), (128, 256)])
    assert backbone == 388_896
    assert model.layer_params("class_head") == dense_params(256, 10) == 2_570
    assert model.layer_params("loc_head") == dense_params(256, 4) == 1_028
    assert model.params == backbone + 2_570 + 1_028 == 392_494
    assert load(spec, num_classes=3).output_shapes["class_probs"][1] == 3


# ----------------------------------------------------------------------------- the whole zoo


def test_every_spec_checks():
    names = sorted(p.name for p in [*SPECS.glob("*.arch"), *SPECS.glob("*.yaml")])
    for name in ("mnist_deep_cnn.arch", "mnist_deep_cnn.yaml", "alexnet.arch", "vgg16.arch",
                 "mobilenet_v2.arch", "googlenet.arch", "unet_original.arch",
                 "denoising_autoencoder.arch", "classifier_localizer.arch", "classifier_localizer.yaml"):
        assert name in names
    for name in names:
        model = load(name)
        assert model.params > 0 and model.graph.outputs, name
    # the issue asks for at least four specs in both languages
    both = {p.stem for p in SPECS.glob("*.yaml")} & {p.stem for p in SPECS.glob("*.arch")}
    assert len(both) >= 4


@pytest.mark.parametrize("spec,node,size,jump", [("alexnet.arch", "features.12", 195, 32),
                                                 ("vgg16.arch", "features.30", 212, 32),
                                                 ("alexnet.arch", "avgpool", 195, 32)])
def test_receptive_fields_match_published_values(spec, node, size, jump):
    # Araujo, Norris & Sim, "Computing Receptive Fields of Convolutional Neural Networks",
    # Distill 2019, Table 1: AlexNet 195, VGG-16 212 (final feature layer). An adaptive pool that
    # keeps the size (AlexNet's 6×6 avgpool) leaves the field as it is.
    model = archc.load(SPECS / spec)
    field = model.metrics.layers[node].field
    assert field.size == (size, size) and field.jump == (jump, jump)


def test_summary_shows_ceil_mode_pooling():
    # GoogLeNet's pools round up (torchvision: ceil_mode=True); the label must say so
    model = archc.load(SPECS / "googlenet.arch")
    assert model.summary().count(", ceil") >= 4
