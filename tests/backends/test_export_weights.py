"""`archc export SPEC --weights FILE`: trained weights (a state_dict that torch.save wrote, a
training checkpoint holding one, or a .safetensors file) in the ONNX file, loaded strictly: a
missing or unexpected key or another shape is E-EXPORT-WEIGHTS-MISMATCH at the spec's layer, and
no file. The reading and the rules are the API's (`archc.build(spec, weights=...)`,
`load_weights(..., strict=True)`, `export_onnx(..., weights=...)`)."""
from __future__ import annotations

import sys
import warnings

import pytest

torch = pytest.importorskip("torch")

import archc  # noqa: E402
from archc.cli import main  # noqa: E402
from archc.errors import SpecError  # noqa: E402
from archc.lower.build import load_weights, read_checkpoint  # noqa: E402

SPEC = """\
model Small
param num_classes = 10
input x: [N, 3, 16, 16]
h = x -> conv2d(8, 3, padding=1, name=conv) -> batchnorm2d(name=bn) -> relu
output y = h -> global_avgpool -> linear(num_classes, name=fc)
"""


@pytest.fixture()
def spec(tmp_path):
    path = tmp_path / "small.arch"
    path.write_text(SPEC)
    return path


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def trained(spec, **params) -> dict:
    """A state_dict unlike a fresh module's: random weights, batch-norm statistics set."""
    torch.manual_seed(1)
    state = archc.build(spec, params=params or None).state_dict()
    out = {}
    for key, value in state.items():
        if value.is_floating_point():
            value = torch.randn_like(value) + (1.5 if key.endswith("running_var") else 0)
        out[key] = value.abs() if key.endswith("running_var") else value
    return out


def export(capsys, *argv) -> tuple[int, str, str]:
    status = main(["export", *map(str, argv)])
    out, err = capsys.readouterr()
    return status, out, err


def onnx_outputs(path, x):
    ort = pytest.importorskip("onnxruntime")
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    (got,) = session.run(None, {"x": x.numpy()})
    return torch.from_numpy(got)


def reference(spec, state, x):
    module = archc.build(spec)
    module.load_state_dict(state)
    module.eval()
    with torch.no_grad():
        return module(x)


def test_a_torch_save_training_checkpoint_is_exported_with_its_weights(capsys, spec, tmp_path):
    pytest.importorskip("onnxscript")
    onnx = pytest.importorskip("onnx")
    state = trained(spec)
    checkpoint = tmp_path / "ckpt.pt"
    torch.save({"state_dict": state, "epoch": 7, "optimizer": {"lr": 0.1}}, checkpoint)
    target = tmp_path / "small.onnx"
    status, out, err = export(capsys, spec, "--onnx", target, "--weights", checkpoint)
    assert status == 0, err
    # where the weights came from is said, the checkpoint's entry included: never a silent guess
    assert f"weights: 9 tensors from {checkpoint}['state_dict']" in out, out
    assert err == ""
    # the file holds the given tensors (batch norm is folded into the conv by the exporter, so
    # the classifier's are compared by value and the whole model by its outputs)
    initializers = {i.name: onnx.numpy_helper.to_array(i) for i in onnx.load(str(target)).graph.initializer}
    fc = [v for v in initializers.values() if v.shape == (10, 8)]
    assert any(torch.equal(torch.from_numpy(v.copy()), state["fc.weight"]) for v in fc), list(initializers)
    x = torch.randn(3, 3, 16, 16)
    want = reference(spec, state, x)
    torch.testing.assert_close(onnx_outputs(target, x), want, rtol=1e-4, atol=1e-4)
    fresh = archc.build(spec).eval()
    with torch.no_grad():
        assert not torch.allclose(fresh(x), want, atol=1e-3)  # the weights made the difference


def test_a_safetensors_file_is_exported_with_its_weights(capsys, spec, tmp_path):
    pytest.importorskip("onnxscript")
    safetensors_torch = pytest.importorskip("safetensors.torch")
    state = trained(spec)
    weights = tmp_path / "small.safetensors"
    safetensors_torch.save_file(state, str(weights))
    target = tmp_path / "small.onnx"
    status, out, err = export(capsys, spec, "--onnx", target, "--weights", weights)
    assert status == 0, err
    assert f"weights: 9 tensors from {weights})" in out, out
    x = torch.randn(2, 3, 16, 16)
    torch.testing.assert_close(onnx_outputs(target, x), reference(spec, state, x), rtol=1e-4, atol=1e-4)


def test_safetensors_is_recognised_by_its_header_whatever_the_suffix(spec, tmp_path):
    safetensors_torch = pytest.importorskip("safetensors.torch")
    state = trained(spec)
    weights = tmp_path / "small.bin"
    safetensors_torch.save_file(state, str(weights))
    read = read_checkpoint(weights)
    assert set(read) == set(state) and all(torch.equal(read[k], state[k]) for k in state)
    module = archc.build(spec, weights=str(weights))  # the API reads it the same way
    assert module.archc_load_report.complete
    assert torch.equal(module.fc.weight, state["fc.weight"])


@pytest.mark.parametrize("change, says", [
    (lambda s: s.update({"fc.weight": torch.zeros(100, 8), "fc.bias": torch.zeros(100)}),
     ["2 of another shape", "fc.weight: the model expects [10, 8], the checkpoint has [100, 8]",
      "fc.bias: the model expects [10], the checkpoint has [100]", "-D num_classes=",
      "small.arch:5:35: error[E-EXPORT-WEIGHTS-MISMATCH]"]),
    (lambda s: s.pop("bn.running_mean"),
     ["1 missing", "bn.running_mean: missing from the checkpoint",
      "small.arch:4:48: error[E-EXPORT-WEIGHTS-MISMATCH]"]),
    (lambda s: s.update({"head.weight": torch.zeros(3)}),
     ["1 not in the model", "head.weight: in the checkpoint, not in the model", "error[E-EXPORT-WEIGHTS-MISMATCH]"]),
    (lambda s: s.update({"classifier.weight": s.pop("fc.weight"), "classifier.bias": s.pop("fc.bias")}),
     ["2 missing, 2 not in the model", "fc.weight: missing", "classifier.weight: in the checkpoint",
      "name the layers as the training code did (name=...)"]),
], ids=["shape", "missing", "unexpected", "renamed"])
def test_weights_that_do_not_fit_are_a_located_diagnostic_and_no_file(capsys, spec, tmp_path, change, says):
    pytest.importorskip("onnxscript")
    state = trained(spec)
    change(state)
    checkpoint = tmp_path / "bad.pt"
    torch.save(state, checkpoint)
    target = tmp_path / "out" / "small.onnx"
    status, out, err = export(capsys, spec, "--onnx", target, "--weights", checkpoint)
    assert status == 1 and out == ""
    for text in says:
        assert text in err, err
    assert "hint:" in err and "Traceback" not in err
    assert not target.exists() and not target.parent.exists()  # nothing written, not even a temporary
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.pt", "small.arch"]


def test_the_api_loads_what_fits_and_strict_loading_refuses_the_rest(spec):
    state = trained(spec)
    state["fc.weight"] = torch.zeros(100, 8)
    module = archc.build(spec, weights=state)  # transfer learning: what fits, and a report
    assert list(module.archc_load_report.skipped) == ["fc.weight"]
    model = archc.load(spec)
    fresh = archc.build(model)
    before = {k: v.clone() for k, v in fresh.state_dict().items()}
    with pytest.raises(SpecError) as caught:
        load_weights(fresh, state, strict=True, model=model)
    assert caught.value.code == "E-EXPORT-WEIGHTS-MISMATCH" and caught.value.loc.line == 5
    # refused as a whole: nothing of the checkpoint was copied in
    assert all(torch.equal(before[k], v) for k, v in fresh.state_dict().items())


def test_export_onnx_takes_weights_too(spec, tmp_path):
    pytest.importorskip("onnxscript")
    from archc.lower.export import export_onnx
    bad = trained(spec)
    del bad["conv.bias"]
    target = tmp_path / "m.onnx"
    with pytest.raises(SpecError) as caught:
        export_onnx(archc.load(spec), target, weights=bad)
    assert caught.value.code == "E-EXPORT-WEIGHTS-MISMATCH" and "conv.bias: missing" in str(caught.value)
    assert list(tmp_path.iterdir()) == [spec]
    with pytest.raises(SpecError) as caught:
        export_onnx(archc.load(spec), target, module=archc.build(spec), weights=bad)
    assert caught.value.code == "E-API-ARGUMENT-CONFLICT"


def test_a_checkpoint_with_several_state_dicts_is_refused_naming_them(capsys, spec, tmp_path):
    state = trained(spec)
    checkpoint = tmp_path / "ckpt.pt"
    torch.save({"state_dict": state, "state_dict_ema": state, "epoch": 3}, checkpoint)
    status, out, err = export(capsys, spec, "--onnx", tmp_path / "m.onnx", "--weights", checkpoint)
    assert status == 1 and "error[E-API-CHECKPOINT-AMBIGUOUS]" in err
    assert "'state_dict', 'state_dict_ema'" in err and "torch.save(torch.load(FILE)['state_dict']" in err
    # one state_dict under a name that is no common layout: named, not taken
    torch.save({"ema": state, "epoch": 3}, checkpoint)
    with pytest.raises(SpecError, match="under a name archc does not take by itself: 'ema'") as caught:
        read_checkpoint(checkpoint)
    assert caught.value.code == "E-API-CHECKPOINT-AMBIGUOUS"
    torch.save({"model_state_dict": state, "optimizer_state_dict": {"state": {}, "param_groups": []}}, checkpoint)
    assert read_checkpoint(checkpoint).entry == "model_state_dict"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ckpt.pt", "small.arch"]


def test_a_checkpoint_that_is_not_loaded_safely_is_refused(capsys, spec, tmp_path):
    checkpoint = tmp_path / "pickled.pt"
    torch.save({"conv.weight": torch.zeros(1), "hook": SpecError("x")}, checkpoint)  # an object: code
    status, _, err = export(capsys, spec, "--onnx", tmp_path / "m.onnx", "--weights", checkpoint)
    assert status == 1 and "error[E-API-CHECKPOINT-UNREADABLE]" in err and "Traceback" not in err
    status, _, err = export(capsys, spec, "--onnx", tmp_path / "m.onnx", "--weights", tmp_path / "none.pt")
    assert status == 1 and "error[E-API-CHECKPOINT-NOT-FOUND]" in err
    assert not (tmp_path / "m.onnx").exists()


def test_missing_safetensors_is_an_install_hint(capsys, monkeypatch, spec, tmp_path):
    safetensors_torch = pytest.importorskip("safetensors.torch")
    weights = tmp_path / "small.safetensors"
    safetensors_torch.save_file(trained(spec), str(weights))
    for name in [m for m in sys.modules if m.split(".")[0] == "safetensors"]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "safetensors", None)  # `import safetensors` fails
    status, _, err = export(capsys, spec, "--onnx", tmp_path / "m.onnx", "--weights", weights)
    assert status == 1 and "error[E-API-SAFETENSORS-MISSING]" in err
    assert "pip install safetensors" in err and "Traceback" not in err
    assert not (tmp_path / "m.onnx").exists()
