"""Golden numbers from outside the project, each with its source."""
from pathlib import Path

import pytest

import archc
from archc.ast import without_locs
from archc.frontend import parse_file

SPECS = Path(__file__).resolve().parents[2] / "specs"


def load(name: str, **params) -> "archc.Model":
    return archc.load(SPECS / name, params or None)


def shape_of(model, node_id):
    """A node's shape without the batch dimension."""
    return tuple(model.graph.node(node_id).shape[1:])


# (spec, total parameters, source)
TOTALS = [
    ("cifar10_lenet.arch", 62_006, "lecture notes shared/seeds/004, 'Model Summary' table"),
    ("cifar10_lenet.yaml", 62_006, "lecture notes shared/seeds/004, 'Model Summary' table"),
    ("chollet_convnet.arch", 104_202, "Chollet, Deep Learning with Python 2e, listing 8.1 (Keras summary)"),
    ("chollet_convnet.yaml", 104_202, "Chollet, Deep Learning with Python 2e, listing 8.1 (Keras summary)"),
    ("resnet18.arch", 11_689_512, "torchvision.models.resnet18 documentation: 11,689,512 params"),
    ("resnet18.yaml", 11_689_512, "torchvision.models.resnet18 documentation: 11,689,512 params"),
    ("resnet34.arch", 21_797_672, "torchvision.models.resnet34 documentation: 21,797,672 params"),
    ("resnet50.arch", 25_557_032, "torchvision.models.resnet50 documentation: 25,557,032 params"),
    ("resnet101.arch", 44_549_160, "torchvision.models.resnet101 documentation: 44,549,160 params"),
    ("resnet152.arch", 60_192_808, "torchvision.models.resnet152 documentation: 60,192,808 params"),
    ("unet_keras.arch", 1_941_105, "Keras model.summary() of the U-Net listing in shared/seeds/003"),
    ("unet_keras.yaml", 1_941_105, "Keras model.summary() of the U-Net listing in shared/seeds/003"),
]


@pytest.mark.parametrize("spec,total,source", TOTALS, ids=[t[0] for t in TOTALS])
def test_total_parameters(spec, total, source):
    model = load(spec)
    assert model.params == total, source
    assert model.trainable_params == total
    assert model.frozen_params == 0


def test_cifar10_per_layer_counts_from_seed_table():
    # shared/seeds/004: CONV 1 456, CONV 2 2416, FC 1 48120, FC 2 10164, output 850, pools 0
    model = load("cifar10_lenet.arch")
    per_layer = {n: model.layer_params(n) for n in ("conv1", "pool1", "conv2", "pool2", "fc1", "fc2", "fc3")}
    assert per_layer == {"conv1": 456, "pool1": 0, "conv2": 2416, "pool2": 0,
                         "fc1": 48120, "fc2": 10164, "fc3": 850}
    # the table's output shapes (channels last there): (28,28,6) (14,14,6) (10,10,16) (5,5,16) 120 84 10
    assert shape_of(model, "conv1") == (6, 28, 28)
    assert shape_of(model, "pool1") == (6, 14, 14)
    assert shape_of(model, "conv2") == (16, 10, 10)
    assert shape_of(model, "pool2") == (16, 5, 5)
    assert shape_of(model, "flatten") == (400,)
    assert shape_of(model, "fc1") == (120,) and shape_of(model, "fc2") == (84,) and shape_of(model, "fc3") == (10,)


def test_twenty_3x3x3_filters_have_560_parameters():
    # shared/seeds/004: "20 filters of dimension 3x3x3 ... 28 x 20 = 560 parameters"
    model = archc.loads("input x: [N, 3, 32, 32]\noutput y = x -> conv2d(20, 3)\n")
    assert model.params == 560


def test_lenet5_shape_table():
    # shared/seeds/001 and 003: C1 6@28×28, S2 6@14×14, C3 16@10×10, S4 16@5×5, C5 120@1×1, F6 84, Out 10
    model = load("lenet5.arch")
    assert shape_of(model, "x") == (1, 32, 32)
    assert shape_of(model, "c1") == (6, 28, 28)
    assert shape_of(model, "s2") == (6, 14, 14)
    assert shape_of(model, "c3") == (16, 10, 10)
    assert shape_of(model, "s4") == (16, 5, 5)
    assert shape_of(model, "c5") == (120, 1, 1)
    assert shape_of(model, "f6") == (84,)
    assert shape_of(model, "out") == (10,)
    # C5's 5×5 window over S4 sees the whole 32×32 input (receptive field 32, jump 4)
    field = model.metrics.layers["c5"].field
    assert field.size == (32, 32) and field.jump == (4, 4)


def test_alexnet_shape_table():
    # shared/seeds/003 AlexNet table: In 227×227×3, C1 96@55×55, S2 96@27×27, C3 256@27×27,
    # S4 256@13×13, C5 384@13×13, C6 384@13×13, C7 256@13×13, F8 4096, F9 4096, Out 1000
    model = load("alexnet_seeds.arch")
    expected = {"c1": (96, 55, 55), "s2": (96, 27, 27), "c3": (256, 27, 27), "s4": (256, 13, 13),
                "c5": (384, 13, 13), "c6": (384, 13, 13), "c7": (256, 13, 13),
                "f8": (4096,), "f9": (4096,), "out": (1000,)}
    assert {k: shape_of(model, k) for k in expected} == expected


# torchvision's model docs list "GFLOPS" per 224×224 image that are multiply-accumulates of the
# convolutions and linear layers: 1.81, 3.66, 4.09, 7.80, 11.51 for ResNet-18/34/50/101/152.
@pytest.mark.parametrize("spec,published", [("resnet18.arch", 1.81), ("resnet34.arch", 3.66),
                                            ("resnet50.arch", 4.09), ("resnet101.arch", 7.80),
                                            ("resnet152.arch", 11.51)])
def test_resnet_macs_match_torchvision(spec, published):
    model = load(spec)
    conv_linear = sum(model.metrics.layers[n.id].macs for n in model.graph.layers()
                      if not n.is_input and n.op.family in ("conv", "linear"))
    assert round(conv_linear / 1e9, 2) == published
    # every other op is counted too (batch norm, pooling), never silently dropped
    assert model.macs > conv_linear


def test_yaml_and_dsl_versions_give_identical_graphs():
    for stem in ("cifar10_lenet", "chollet_convnet", "resnet18", "unet_keras"):
        a, b = load(f"{stem}.arch"), load(f"{stem}.yaml")
        assert graph_signature(a) == graph_signature(b), stem
    assert without_locs(parse_file(SPECS / "cifar10_lenet.arch")) == \
        without_locs(parse_file(SPECS / "cifar10_lenet.yaml"))


def graph_signature(model):
    g = model.graph
    return ([(n.id, n.op_name, dict(n.attrs), n.shape, n.inputs, n.frozen, n.init) for n in g.layers()],
            g.inputs, g.outputs, sorted(g.scopes))


def test_unet_symbolic_size_reports_divisibility():
    model = load("unet_keras.arch", size=archc_word("H"))
    assert model.constraints == ["H % 16 == 0", "H >= 16"]
    assert str(model.graph.node("p1").shape[2]) == "H/2"
    assert [str(d) for d in model.output_shapes["mask"]] == ["N", "1", "H", "H"]
    assert model.params == 1_941_105


def archc_word(name):
    from archc.ops.base import Word
    return Word(name)


def static_state_dict(model):
    return {key: list(shape) for key, shape in model.state_dict_shapes().items()}


def torchvision_fixture(name):
    import json
    return json.loads((Path(__file__).parents[1] / "fixtures" / f"torchvision_{name}.json").read_text())


@pytest.mark.parametrize("name", ["resnet18", "resnet34", "resnet50", "resnet101", "resnet152"])
def test_resnet_state_dict_keys_and_shapes_equal_torchvision(name):
    # fixtures recorded from torchvision 0.29.1 (tests/fixtures/make_torchvision_fixtures.py)
    reference = torchvision_fixture(name)
    model = load(f"{name}.arch")
    assert static_state_dict(model) == reference["state_dict"]
    assert model.params == reference["params"]
