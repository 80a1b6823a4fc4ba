"""The Python API as PyTorch users reach for it (issue 9): dir(archc), a one-line repr,
tensors by spec name, hyperparameters named apart from the parameter count, drawing and
Jupyter display, and an install hint instead of a ModuleNotFoundError without torch."""
import shutil
from pathlib import Path

import pytest

import archc
from archc.errors import SpecError

SPECS = Path(__file__).resolve().parents[2] / "specs"


def test_dir_lists_the_api():
    assert {"load", "loads", "build", "Model", "SpecErrors", "load_weights"} <= set(dir(archc))
    assert all(hasattr(archc, name) for name in archc.__all__)


def test_repr_is_one_line():
    model = archc.load(SPECS / "resnet18.arch", {"num_classes": 10})
    text = repr(model)
    assert "\n" not in text and len(text) < 160
    assert text.startswith("<archc.Model ResNet18: 11,181,642 params") and "logits [N, 10]" in text


def test_hyperparams_and_params_are_distinct():
    model = archc.load(SPECS / "resnet18.arch", hyperparams={"num_classes": 10})
    assert model.hyperparams == {"num_classes": 10}
    assert model.params == 11_181_642
    legacy = archc.load(SPECS / "resnet18.arch", params={"num_classes": 10})  # the earlier keyword
    assert legacy.params == model.params
    with pytest.raises(SpecError):
        archc.load(SPECS / "resnet18.arch", {"num_classes": 10}, params={"num_classes": 10})


def test_tensors_by_spec_name_and_by_module_path():
    model = archc.loads("""\
input x: [N, 3, 32, 32]
backbone = x -> conv2d(8, 3, padding=1, name=conv) -> relu -> global_avgpool
output logits = backbone -> linear(10, name=fc)
""")
    assert model.shapes["backbone"][1:] == (8,)
    assert model.shapes["logits"] == model.shapes["fc"]
    assert model.shapes["conv"][1:] == (8, 32, 32)


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")
def test_draw_and_jupyter_display(tmp_path):
    model = archc.load(SPECS / "cifar10_lenet.arch")
    svg = model.draw()
    assert svg.lstrip().startswith(b"<?xml") and b"<svg" in svg
    model.draw(tmp_path / "net.dot")
    assert (tmp_path / "net.dot").read_text().startswith("digraph")
    assert "<svg" in model._repr_svg_()
    html = model._repr_html_()
    assert "<svg" in html and "Total params" in html


def test_build_without_torch_says_how_to_install_it(monkeypatch):
    import importlib.util
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a, **k: None if name == "torch" else real(name, *a, **k))
    with pytest.raises(SpecError) as info:
        archc.build(SPECS / "cifar10_lenet.arch")
    assert "pip install -e '.[torch]' in archc's checkout" in info.value.hint
    assert info.value.code == "E-API-TORCH-MISSING"


LENET = SPECS / "cifar10_lenet.arch"


@pytest.mark.parametrize("call, code", [
    (lambda: archc.load(SPECS / "resnet18.arch", "garbage"), "E-API-HYPERPARAMS"),
    (lambda: archc.load(SPECS / "resnet18.arch", {1: 2}), "E-API-HYPERPARAMS"),
    (lambda: archc.load(LENET, {"num_classes": 3}, params={"num_classes": 3}), "E-API-ARGUMENT-CONFLICT"),
    (lambda: archc.load(123), "E-API-SPEC-TYPE"),
    (lambda: archc.loads(b"input x: [N, 3]"), "E-API-SPEC-TYPE"),
    (lambda: archc.loads(["input x: [N, 3]"]), "E-API-SPEC-TYPE"),
    (lambda: archc.loads("input x: [N, 3]\noutput y = x", "json"), "E-API-LANGUAGE"),
    (lambda: archc.build(123), "E-API-SPEC-TYPE"),
    (lambda: archc.build(archc.load(LENET), params={"num_classes": 3}), "E-API-ARGUMENT-CONFLICT"),
    (lambda: archc.build(LENET, weights=123), "E-API-WEIGHTS-TYPE"),
    (lambda: archc.build(LENET, weights="/nonexistent/w.pt"), "E-API-CHECKPOINT-NOT-FOUND"),
    (lambda: archc.build(LENET, weights=SPECS / "resnet18.arch"), "E-API-CHECKPOINT-UNREADABLE"),
    (lambda: archc.load(LENET).summary(format="html"), "E-API-SUMMARY-FORMAT"),
    (lambda: archc.loads("input x: [N, 3, H, W]\noutput y = x -> relu").summary(at={"H": 0}),
     "E-API-SIZE-NOT-POSITIVE"),
    (lambda: archc.loads("input x: [N, 3, H, W]\noutput y = x -> relu").summary(at={"Q": 2}),
     "E-CLI-UNKNOWN-SYMBOL"),
    (lambda: archc.load(LENET).draw(format="dot", rankdir="BT"), "E-DRAW-UNKNOWN-RANKDIR"),
    (lambda: archc.load(LENET).draw(format="gif"), "E-DRAW-UNKNOWN-FORMAT"),
    (lambda: archc.load(LENET).draw("net.jpeg"), "E-DRAW-UNKNOWN-FORMAT"),
], ids=["hyperparams-str", "hyperparams-int-keys", "hyperparams-and-params", "path-int", "text-bytes",
        "text-list", "language", "build-int", "build-model-with-params", "weights-int", "weights-missing",
        "weights-not-a-checkpoint", "summary-format", "summary-at-zero", "summary-at-unknown",
        "draw-rankdir", "draw-format", "draw-suffix"])
def test_bad_api_arguments_are_archc_errors_with_a_code_and_a_hint(call, code):
    # issue 10: these raised TypeError, AttributeError, FileNotFoundError, UnpicklingError or
    # ValueError; each is now archc's own error, with its catalogue code and a hint
    pytest.importorskip("torch")
    with pytest.raises(SpecError) as info:
        call()
    assert info.value.code == code and info.value.hint
    assert f"error[{code}]: " in info.value.render()


def test_an_unwritable_draw_path_is_an_os_error_with_a_code(tmp_path):
    from archc.cli import OutputError
    with pytest.raises(OutputError) as info:
        archc.load(LENET).draw(tmp_path, format="dot")  # a folder
    assert isinstance(info.value, OSError) and info.value.filename == str(tmp_path)
    assert info.value.code == "E-OUTPUT-IS-DIRECTORY" and info.value.diagnostic().hint


def test_api_load_exposes_graph_shapes_and_counts():
    model = archc.load(SPECS / "resnet18.arch", params={"num_classes": 10})
    assert model.shapes["layer2.0.conv1"][1:] == (128, 28, 28)
    assert model.params == 11_689_512 - 1000 * 513 + 10 * 513
    assert set(model.graph.nx.nodes) <= set(model.shapes)  # and the spec's tensor names
    assert model.graph.scopes[("layer2", "0")].type_name == "BasicBlock"
