"""The Python API as PyTorch users reach for it (issue 9): dir(archc), a one-line repr,
tensors by spec name, hyperparameters named apart from the parameter count, drawing and
Jupyter display, and an install hint instead of a ModuleNotFoundError without torch."""
import shutil
from pathlib import Path

import pytest

import archc
from archc.errors import SpecError

SPECS = Path(__file__).resolve().parent.parent / "specs"


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
    assert "pip install 'archc[torch]'" in info.value.hint


@pytest.mark.parametrize("call", [
    lambda: archc.load(SPECS / "resnet18.arch", "garbage"),
    lambda: archc.load(SPECS / "resnet18.arch", {1: 2}),
    lambda: archc.load(123),
    lambda: archc.loads(b"input x: [N, 3]"),
    lambda: archc.loads("input x: [N, 3]\noutput y = x", "json"),
    lambda: archc.build(SPECS / "cifar10_lenet.arch", weights=123),
    lambda: archc.build(SPECS / "cifar10_lenet.arch", weights="/nonexistent/w.pt"),
    lambda: archc.build(SPECS / "cifar10_lenet.arch", weights=SPECS / "resnet18.arch"),
], ids=["hyperparams-str", "hyperparams-int-keys", "path-int", "text-bytes", "language", "weights-int",
        "weights-missing", "weights-not-a-checkpoint"])
def test_bad_api_arguments_are_archc_errors(call):
    # issue 10: these raised TypeError, AttributeError, FileNotFoundError or UnpicklingError
    pytest.importorskip("torch")
    with pytest.raises((SpecError, archc.SpecErrors)):
        call()
