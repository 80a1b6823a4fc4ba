"""`archc summary`'s "Connected to" column and readable symbolic MACs (`--at`), every unknown op
or attribute of a statement reported, and warnings for valid but suspicious specs (`--strict`)."""
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import archc
from archc import symbolic as sy
from archc.backends.report import rows
from archc.errors import SpecError, SpecErrors
from archc.frontend import parse_file
from archc.loader import is_library

ROOT = Path(__file__).resolve().parent.parent
SPECS = ROOT / "specs"
RESNET_BLOCKS = SPECS / "torchvision" / "blocks" / "resnet.arch"


def cli(*args, cwd=ROOT):
    return subprocess.run([sys.executable, "-m", "archc.cli", *map(str, args)], capture_output=True,
                          text=True, cwd=cwd)


def load(text: str, language: str = "arch", **kwargs):
    return archc.loads(textwrap.dedent(text), language, file="spec.arch", **kwargs)


def errors_of(text: str, language: str = "arch") -> list[SpecError]:
    with pytest.raises(SpecErrors) as info:
        load(text, language)
    return info.value.errors


def by_id(model, depth=None, at=None):
    return {r.id: r for r in rows(model, depth, at)}


@pytest.fixture(scope="module")
def resnet_hw(tmp_path_factory):
    """ResNet-50 with symbolic H and W."""
    path = tmp_path_factory.mktemp("hw") / "resnet50_hw.arch"
    # imports stay inside the spec's folder tree: the blocks go next to it
    (path.parent / "resnet.arch").write_text(RESNET_BLOCKS.read_text())
    path.write_text('model ResNet50HW\nimport "resnet.arch"\ninput x: [N, 3, H, W]\n'
                    "output logits = x -> ResNet([3, 4, 6, 3], Bottleneck, num_classes=1000, inline=true)\n")
    return path


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


# ----------------------------------------------------------------------------- symbolic MACs

def test_leading_terms_relax_floors_and_keep_the_highest_degree():
    H, W = sy.sym("H"), sy.sym("W")
    conv1 = 9408 * sy.floordiv(H + 1, 2) * sy.floordiv(W + 1, 2)
    assert sy.leading_terms(conv1) == [(2352.0, (("H", 1), ("W", 1)))]
    assert sy.leading_terms(3 * H * H + 5 * H * W + 7 * H) == [(5.0, (("H", 1), ("W", 1))), (3.0, (("H", 2),))]
    assert sy.leading_terms(12) == [(12.0, ())]


def test_symbolic_macs_show_the_leading_term(resnet_hw):
    model = archc.load(resnet_hw)
    table = by_id(model)
    assert table["conv1"].macs != 0 and not isinstance(table["conv1"].macs, int)
    text = model.summary()
    conv1 = next(line for line in text.splitlines() if line.startswith("conv1 "))
    assert "≈ 2.35 K·H·W" in conv1 and "floor" not in conv1.split("]", 1)[1]
    macs_cells = [line.split("]")[-1] for line in text.splitlines() if "≈" in line and "[N," in line]
    assert macs_cells and max(len(c.split("≈")[1].split("  ")[0]) for c in macs_cells) <= 16
    assert "MACs per sample:                        ≈ 81.68 K·H·W" in text
    assert "--at H=224 --at W=224" in text
    by_op = model.summary(by_op=True)
    assert "floor" not in by_op.split("By op:")[1]
    unet = archc.load(SPECS / "unet_keras.arch", {"size": "H"}).summary()
    assert "≈ 46.27 K·H²" in unet and "Activation memory per sample (float32): ≈ 1.63 K·H² bytes" in unet


def test_at_gives_the_exact_values_of_the_concrete_model(resnet_hw):
    symbolic = archc.load(resnet_hw)
    concrete = archc.load(SPECS / "resnet50.arch")
    at = by_id(symbolic, at={"H": 224, "W": 224})
    for row in rows(concrete):
        assert at[row.id].macs == row.macs and at[row.id].shape == row.shape, row.id
    text = symbolic.summary(at={"H": 224, "W": 224})
    assert text.split("Total params")[0] == concrete.summary().split("Total params")[0].replace(
        '"ResNet50"', '"ResNet50HW"')
    assert "MACs per sample:                        4.10 G" in text and "Evaluated at:" in text
    data = json.loads(symbolic.summary("json", at={"H": 224, "W": 224}))
    assert data["at"] == {"H": 224, "W": 224}
    assert "floor" in data["totals"]["macs_per_sample"]  # the JSON keeps the exact expression
    assert data["totals"]["at"]["macs_per_sample"] == concrete.macs
    layers = {layer["id"]: layer for layer in data["layers"]}
    assert layers["conv1"]["at"] == {"output_shape": ["N", 64, 112, 112], "macs": 118_013_952,
                                     "activation_bytes": 64 * 112 * 112 * 4}
    assert {s["id"]: s for s in data["scopes"]}["layer1"]["at"]["macs"] == concrete.metrics.scope_totals(
        concrete.graph, concrete.graph.scopes[("layer1",)]).macs


def test_at_with_one_symbol_leaves_the_other(resnet_hw):
    text = archc.load(resnet_hw).summary(at={"H": 224})
    conv1 = next(line for line in text.splitlines() if line.startswith("conv1 "))
    assert "[N, 64, 112, floor((W + 1)/2)]" in conv1 and "≈ 526.85 K·W" in conv1


def test_at_is_checked():
    unet = archc.load(SPECS / "unet_keras.arch", {"size": "H"})
    with pytest.raises(SpecError, match=r"H=100 does not meet the input size constraints: H % 16 == 0"):
        unet.summary(at={"H": 100})
    with pytest.raises(SpecError, match=r"'W' is not a symbolic input size of UNetKeras \(its symbolic sizes are H\)"):
        unet.summary(at={"W": 128})
    with pytest.raises(SpecError, match="every input size is concrete"):
        archc.load(SPECS / "unet_keras.arch").summary(at={"H": 128})


def test_cli_at(tmp_path):
    ok = cli("summary", SPECS / "unet_keras.arch", "-D", "size=H", "--at", "H=128", "--depth", "0")
    assert ok.returncode == 0 and "MACs per sample:                        758.17 M" in ok.stdout
    assert ok.stdout.split("Total")[0] == cli("summary", SPECS / "unet_keras.arch", "--depth", "0").stdout.split(
        "Total")[0]
    out = tmp_path / "summary.txt"
    bad = cli("summary", SPECS / "unet_keras.arch", "-D", "size=H", "--at", "H=100", "-o", out)
    assert bad.returncode == 1 and "does not meet the input size constraints" in bad.stderr
    assert "Traceback" not in bad.stderr and not out.exists()
    usage = cli("summary", SPECS / "unet_keras.arch", "--at", "H=big")
    assert usage.returncode == 2 and "expected SYMBOL=SIZE" in usage.stderr


# ----------------------------------------------------------------------------- every unknown name

def test_every_unknown_op_and_attribute_of_a_statement_is_reported():
    errs = errors_of("""\
        input x: [N, 3, 32, 32]
        output y = x -> conv2dd(64, 3) -> relu(foo=1) -> batchnrm2d
        """)
    assert [(e.message, e.loc.line, e.loc.col) for e in errs] == [
        ("unknown op or block 'conv2dd'", 2, 17),
        ("relu has no attribute 'foo'", 2, 40),
        ("unknown op or block 'batchnrm2d'", 2, 50)]
    assert "'conv2d'" in errs[0].hint and "it takes no attributes" == errs[1].hint
    assert "'batchnorm2d'" in errs[2].hint


def test_every_unknown_attribute_of_a_call_and_of_a_block_is_reported():
    errs = errors_of("""\
        block Stem(width=8)(x) {
          return x -> conv2d(width, 3, strid=2, paddng=1)
        }
        input x: [N, 3, 32, 32]
        a = x -> Stem(widht=4, dept=2) -> relu
        b = x -> repeat(2, Stem(8), nme=stage) -> maxpool2d(2, strde=2)
        c = x -> Stem(8)
        output y = concat(a, b, c)
        """)
    found = [(e.message, e.loc.line) for e in errs]
    assert found == [("conv2d has no attribute 'strid'", 2), ("conv2d has no attribute 'paddng'", 2),
                     ("block Stem has no parameter 'widht'", 5), ("block Stem has no parameter 'dept'", 5),
                     ("repeat has no attribute 'nme'", 6), ("maxpool2d has no attribute 'strde'", 6)], found
    hints = [e.hint for e in errs]
    assert "'stride'" in hints[0] and "'padding'" in hints[1] and "'width'" in hints[2] and "'name'" in hints[4]


def test_unknown_names_in_yaml_are_all_reported_where_written():
    errs = errors_of("""\
        model: Bad
        inputs:
          x: [N, 3, 32, 32]
        outputs:
          y: [x, {conv2dd: [64, 3]}, {conv2d: [8, 3], strid: 2, paddng: 1}]
        """, "yaml")
    assert [(e.message, e.loc.col) for e in errs] == [("unknown op or block 'conv2dd'", 11),
                                                      ("conv2d has no attribute 'strid'", 47),
                                                      ("conv2d has no attribute 'paddng'", 57)]


def test_a_mistake_in_a_block_is_reported_once_and_valid_names_are_not():
    errs = errors_of("""\
        block B(c)(x) {
          unit = conv2d(c, 3, padding=1)
          return x -> unit -> relu(inplace=true)
        }
        input x: [N, 4, 8, 8]
        output y = x -> B(8) -> B(8, name=second) -> softmax(dim=1)
        """)
    assert [e.message for e in errs] == ["relu has no attribute 'inplace'"]


def test_dependent_statements_stay_silent_but_their_own_unknown_ops_are_reported():
    errs = errors_of("""\
        input x: [N, 3, 8, 8]
        a = x -> conv2d(8, 9)
        b = a -> relu -> conv2d(4, 3)
        c = a -> linearr(3)
        output y = concat(b, c)
        """)
    assert len(errs) == 2 and "kernel 9" in errs[0].message and "linearr" in errs[1].message


# ----------------------------------------------------------------------------- warnings

SUSPICIOUS = """\
    input x: [N, 3, 32, 32]
    f = x -> conv2d(8, 3, padding=1) -> relu
    output y = f -> linear(10)
    output z = f -> softmax(dim=-1)
    """


def test_linear_on_a_feature_map_and_softmax_over_space_warn():
    model = load(SUSPICIOUS)
    assert [(w.severity, w.loc.line, w.loc.col) for w in model.warnings] == [("warning", 3, 17), ("warning", 4, 17)]
    linear, softmax = model.warnings
    assert "linear is applied to the rank-4 tensor [N, 8, 32, 32] without flatten" in linear.message
    assert "flatten" in linear.hint and "axis=-1" in linear.hint
    assert "softmax over axis -1 of [N, 8, 32, 32], a spatial axis" in softmax.message
    assert "dim=1" in softmax.hint
    assert linear.render().startswith("spec.arch:3:17: warning[W-SHAPE-LINEAR-FEATURE-MAP]: linear is applied")
    assert model.params == 8 * 3 * 9 + 8 + 32 * 10 + 10  # still a valid model


def test_strict_makes_warnings_errors():
    with pytest.raises(SpecErrors) as info:
        load(SUSPICIOUS, strict=True)
    errs = info.value.errors
    assert [e.severity for e in errs] == ["error", "error"]
    assert "without flatten" in errs[0].message and any("strict" in n for n in errs[0].notes)


@pytest.mark.parametrize("tail", [
    "-> flatten -> linear(10)",                       # flattened first
    "-> adaptive_avgpool2d(1) -> flatten -> linear(10)",
    "-> linear(10, axis=-1)",                          # the last axis, said explicitly
    "-> linear(10, axis=1)",                           # the channels at every position
    "-> permute([0, 2, 3, 1]) -> linear(10)",          # channels-last, as ConvNeXt
    "-> softmax", "-> log_softmax(dim=1)", "-> softmax(dim=-3)",
    "-> flatten(start_dim=2) -> softmax(dim=-1)",      # a distribution over positions, on purpose
    "-> flatten -> linear(10) -> softmax(dim=-1)",
])
def test_intended_uses_do_not_warn(tail):
    model = load(f"input x: [N, 3, 32, 32]\noutput y = x -> conv2d(8, 3, padding=1) {tail}\n")
    assert model.warnings == []


def test_log_softmax_over_height_and_linear_on_a_volume_warn():
    model = load("""\
        input x: [N, 3, 8, 16, 16]
        f = x -> conv3d(4, 3, padding=1)
        output a = f -> linear(5)
        output b = f -> log_softmax(dim=2)
        """)
    assert ["rank-5" in w.message or "log_softmax over axis 2" in w.message for w in model.warnings] == [True, True]


def test_a_warning_in_a_block_is_given_once_and_one_in_a_branch_not_taken_is_dropped():
    model = load("""\
        block Head(c)(x) {
          return x -> linear(c)
        }
        param flat = true
        input x: [N, 3, 8, 8]
        h = x -> Head(4) -> Head(4)
        s = x -> softmax(dim=2)
        output y = h
        output z = (x -> flatten) if flat else (s -> flatten)
        """)
    assert len(model.warnings) == 1 and model.warnings[0].loc.line == 2
    assert any("Head instance" in n for n in model.warnings[0].notes)


def test_cli_prints_warnings_and_strict_fails(tmp_path):
    spec = tmp_path / "suspicious.arch"
    spec.write_text(textwrap.dedent(SUSPICIOUS))
    check = cli("check", spec)
    assert check.returncode == 0 and "ok (" in check.stdout and "2 warnings" in check.stdout
    assert f"{spec}:3:17: warning[W-SHAPE-LINEAR-FEATURE-MAP]: linear is applied" in check.stderr and "hint: flatten first" in check.stderr
    summary = cli("summary", spec)
    assert summary.returncode == 0 and summary.stderr.count(": warning[W-SHAPE-") == 2 and "Total params" in summary.stdout
    for command in (["check"], ["summary"], ["draw", "-o", tmp_path / "d.dot"], ["compile", "-o", tmp_path / "m.py"],
                    ["export", "--onnx", tmp_path / "m.onnx"]):
        strict = cli(command[0], spec, *command[1:], "--strict")
        assert strict.returncode == 1, (command, strict.stderr)
        assert f"{spec}:3:17: error[W-SHAPE-LINEAR-FEATURE-MAP]: linear is applied" in strict.stderr and "Traceback" not in strict.stderr
        assert "2 errors" in strict.stderr
    assert not any(tmp_path.glob("d.dot")) and not any(tmp_path.glob("m.*"))
    clean = cli("check", "--strict", SPECS / "resnet18.arch")
    assert clean.returncode == 0 and clean.stderr == ""
