"""`archc summary` (archc/backends/report.py): Keras-like rows and totals in text, JSON and
Markdown, `--depth`, the by-op table, and the "Connected to" column (zoo summaries stay readable)."""
import json
import re
import subprocess
import sys
from pathlib import Path

import archc
from archc.backends.report import rows
from archc.frontend import parse_file
from archc.loader import is_library

ROOT = Path(__file__).resolve().parents[2]
SPECS = ROOT / "specs"


def cli(*args, cwd=ROOT):
    return subprocess.run([sys.executable, "-m", "archc.cli", *map(str, args)], capture_output=True,
                          text=True, cwd=cwd)


def by_id(model, depth=None, at=None):
    return {r.id: r for r in rows(model, depth, at)}


# ----------------------------------------------------------------------------- rows, totals, formats

def test_summary_text_has_keras_like_rows_and_totals():
    proc = cli("summary", SPECS / "cifar10_lenet.arch")
    assert proc.returncode == 0
    out = proc.stdout
    row = next(line for line in out.splitlines() if line.startswith("conv1 "))
    assert "Conv2d 6, 5×5" in row and "[N, 6, 28, 28]" in row and "456" in row
    assert re.search(r"Total params:\s+62,006", out)
    assert re.search(r"MACs per sample:", out) and "FLOPs" not in out


def test_summary_depth_collapses_blocks():
    full = cli("summary", SPECS / "resnet18.arch").stdout
    shallow = cli("summary", SPECS / "resnet18.arch", "--depth", "0").stdout
    one = cli("summary", SPECS / "resnet18.arch", "--depth", "1").stdout
    assert "layer1.0.conv1" in full and "layer1.0.conv1" not in one and "layer1.0 " in one
    assert "layer1.0" not in shallow and re.search(r"^layer1\s+Repeat ×2", shallow, re.M)


def test_summary_json_is_complete_and_consistent():
    proc = cli("summary", SPECS / "resnet18.arch", "--format", "json")
    data = json.loads(proc.stdout)
    assert data["totals"]["params"] == 11_689_512
    assert sum(layer["params"] for layer in data["layers"]) == 11_689_512
    by_id = {layer["id"]: layer for layer in data["layers"]}
    assert by_id["layer2.0.downsample.0"]["param_shapes"] == {"weight": [128, 64, 1, 1]}
    assert by_id["fc"]["output_shape"] == ["N", 1000]
    assert data["outputs"] == {"logits": ["N", 1000]}


def test_summary_markdown_table():
    out = cli("summary", SPECS / "chollet_convnet.arch", "--format", "markdown").stdout
    assert out.splitlines()[2].startswith("| Layer | Type | Output shape | Params | MACs |")
    assert "**Total params:** 104,202" in out


def test_summary_by_op_and_json_file_of_imported_layers(tmp_path):
    (tmp_path / "lib.arch").write_text("block B()(x) {\n  return x -> conv2d(4, 3, name=conv)\n}\n")
    spec = tmp_path / "net.arch"
    spec.write_text('import "lib.arch"\ninput x: [N, 3, 8, 8]\n'
                    'output y = x -> B(name=b) -> batchnorm2d(name=bn) -> flatten -> linear(2, name=fc)\n')
    model = archc.load(spec)
    text = model.summary(by_op=True)
    assert "conv + linear" in text and "BatchNorm2d" in text
    rows = {r.op: r for r in model.by_op()}
    assert rows["Conv2d"].macs == 4 * 3 * 9 * 36 and rows["Linear"].macs == 144 * 2
    assert model.conv_linear_macs == 4 * 3 * 9 * 36 + 144 * 2
    data = json.loads(model.summary("json"))
    assert data["conv_linear_macs"] == model.conv_linear_macs
    by_id = {layer["id"]: layer for layer in data["layers"]}
    assert by_id["b.conv"]["file"].endswith("lib.arch")
    assert "file" not in by_id["fc"]


# ----------------------------------------------------------------------------- connected to

def test_connected_to_names_the_inputs_that_are_not_the_row_above():
    table = by_id(archc.load(SPECS / "resnet18.arch"))
    # the chain is implied
    assert table["conv1"].connected == "" and table["layer1.0.conv1"].connected == ""
    assert table["layer1"].connected == "" and table["layer1.0"].connected == ""
    # a residual add names both inputs: the block's own layer by its short name, the identity
    # shortcut by what produced it (outside the block: in full; a block's result: the block)
    assert table["layer1.0.add"].connected == "bn2, maxpool"
    assert table["layer1.1.add"].connected == "bn2, layer1.0"
    # a projection shortcut branches off the previous stage's result; the add reads it by name
    assert table["layer2.0.downsample"].connected == "layer1"
    assert table["layer2.0.downsample.0"].connected == ""  # the first row inside reads the same
    assert table["layer2.0.add"].connected == "bn2, downsample"
    assert table["layer2.0.relu_out"].connected == ""


def test_connected_to_names_collapsed_rows_at_a_depth():
    unet = by_id(archc.load(SPECS / "unet_keras.arch"), depth=0)
    assert unet["c6"].connected == "c5, c4" and unet["c9"].connected == "c8, c1"
    assert unet["c5"].connected == "" and unet["outputs"].connected == ""
    resnet = by_id(archc.load(SPECS / "resnet18.arch"), depth=0)
    assert all(r.connected == "" for r in resnet.values())  # a plain chain at depth 0


def test_connected_to_in_text_markdown_and_json():
    model = archc.load(SPECS / "resnet18.arch")
    text = model.summary()
    header = next(line for line in text.splitlines() if line.startswith("Layer "))
    assert header.rstrip().endswith("Connected to")
    row = next(line for line in text.splitlines() if line.strip().startswith("layer1.1.add "))
    assert row.endswith("bn2, layer1.0")
    assert "Connected to: inputs other than the row above" in text
    markdown = model.summary("markdown")
    assert "| Jump | Connected to |" in markdown
    assert "`layer1.1.add`" in markdown and "| `bn2`, `layer1.0` |" in markdown
    data = json.loads(model.summary("json"))
    scopes = {s["id"]: s for s in data["scopes"]}
    assert scopes["layer2.0.downsample"]["inputs"] == ["layer1.1.relu_out"]
    assert scopes["layer2"]["inputs"] == ["layer1.1.relu_out"]
    layers = {layer["id"]: layer for layer in data["layers"]}
    assert layers["layer1.1.add"]["inputs"] == ["layer1.1.bn2", "layer1.0.relu_out"]


def test_branches_of_an_inception_module_are_followable():
    table = by_id(archc.load(SPECS / "googlenet.arch"))
    assert table["inception3a.concat"].connected == "branch1, branch2, branch3, branch4"
    assert table["inception3b.branch2"].connected == "inception3a"  # a branch off the block input


def test_zoo_stays_readable_and_never_warns():
    """Every zoo spec: no warning, and the widest "Connected to" cell stays short (ResNet-152's
    at most a block path and a layer)."""
    specs = sorted([*SPECS.glob("*.arch"), *SPECS.glob("*.yaml"), *(SPECS / "torchvision").glob("*.arch")])
    widest = {}
    for spec in specs:
        if is_library(parse_file(spec)):
            continue
        model = archc.load(spec)
        assert model.warnings == [], (spec, [w.render() for w in model.warnings])
        widest[str(spec.relative_to(SPECS))] = max(len(r.connected) for r in rows(model))
    assert len(widest) >= 90
    assert max(widest.values()) <= 60, sorted(widest.items(), key=lambda kv: kv[1])[-3:]
    text = archc.load(SPECS / "resnet152.arch").summary()
    lines = text.splitlines()
    assert widest["torchvision/resnet152.arch"] <= 20
    assert max(len(line) for line in lines[:lines.index(next(x for x in lines if x.startswith("Total")))]) <= 130


def test_params_count_weights_and_hyperparams_are_the_spec_params() -> None:
    """One word, one meaning (README, "Python"): the old names still answer, with a warning."""
    import warnings
    model = archc.load(SPECS / "resnet18.arch", hyperparams={"num_classes": 10})
    summary = json.loads(model.summary("json"))
    assert summary["hyperparams"] == model.hyperparams == model.graph.hyperparams == {"num_classes": 10}
    assert summary["totals"]["params"] == model.params == 11_181_642  # torchvision resnet18(num_classes=10)
    assert model.metrics.layers["fc"].param_shapes == {"weight": (10, 512), "bias": (10,)}
    with warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always")
        assert model.graph.params == model.graph.hyperparams and summary["params"] == summary["hyperparams"]
        assert model.metrics.layers["fc"].params == model.metrics.layers["fc"].param_shapes
    assert [w.category for w in said] == [DeprecationWarning, DeprecationWarning]


def test_at_sizes_past_the_activation_limit_are_refused_as_written_sizes_are(capsys):
    """`summary --at H=10**19` printed a table of 20-digit sizes; `-D size=10000000000000000000`
    is refused when the spec loads. One check (report.check_at) now serves summary, summary
    --train and sweep."""
    from archc.cli import main
    unet = str(Path(__file__).resolve().parents[2] / "specs" / "unet_keras.arch")
    for extra in ([], ["--train"]):
        assert main(["summary", unet, "-D", "size=H", "--at", f"H={10 ** 19}", *extra]) == 1
        captured = capsys.readouterr()
        assert captured.out == "" and "E-LIMIT-ACTIVATIONS" in captured.err and "H=1e+19" in captured.err
    assert main(["summary", unet, "-D", "size=H", "--at", "H=224", "--depth", "0"]) == 0
