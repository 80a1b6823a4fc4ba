"""Generated modules beyond one eager process: torch.compile without graph breaks, torch.export,
DistributedDataParallel over two CPU processes, ONNX export (`archc export`), `archc compile`."""
from __future__ import annotations

import socket
import subprocess
import sys
import warnings

import pytest

torch = pytest.importorskip("torch")

import archc  # noqa: E402
from lowering_support import ROOT, SPECS, example_inputs, outputs_of  # noqa: E402

DATA = ROOT / "tests" / "data" / "lowering"
TWO_HEADS = DATA / "two_heads.arch"


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def cli(*args, cwd=ROOT):
    return subprocess.run([sys.executable, "-m", "archc.cli", *map(str, args)],
                          capture_output=True, text=True, cwd=cwd)


# torch.compile on CPU is slow; these two models cover the helpers (same padding computed at run
# time, center crop), several inputs, a dict of outputs, nested generated classes and
# nn.Sequential stages. The aot_eager backend skips inductor's C++ compilation; fullgraph=True
# makes any graph break an error whatever the backend.
@pytest.mark.parametrize("spec,sizes", [(TWO_HEADS, {"N": 2, "H": 13, "W": 11}),
                                        (SPECS / "resnet18.arch", {"N": 2})])
def test_torch_compile_fullgraph_has_no_graph_breaks(spec, sizes):
    import torch._dynamo
    model = archc.load(spec)
    module = archc.build(model).eval()
    inputs = example_inputs(model, sizes)
    torch._dynamo.reset()
    compiled = torch.compile(module, fullgraph=True, backend="aot_eager")
    with torch.no_grad():
        want, got = outputs_of(module(*inputs)), outputs_of(compiled(*inputs))
    for key in want:
        torch.testing.assert_close(got[key], want[key])
    explained = torch._dynamo.explain(module)(*inputs)
    assert explained.graph_break_count == 0 and explained.graph_count == 1


def test_torch_compile_with_inductor():
    """The default backend end to end (C++ code generation: about 20 s on two CPU cores, so
    once, on a small model), in eval and in train mode."""
    import torch._dynamo
    torch._dynamo.reset()
    module = archc.build(SPECS / "cifar10_lenet.arch")
    compiled = torch.compile(module, fullgraph=True)
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        torch.testing.assert_close(compiled(x), module(x))
    loss = compiled(x).log().mean()
    loss.backward()
    assert module.conv1.weight.grad is not None


def test_torch_export_with_a_dynamic_batch():
    model = archc.load(TWO_HEADS)
    module = archc.build(model).eval()
    image, meta = example_inputs(model, {"N": 3, "H": 14, "W": 18})
    batch = torch.export.Dim("batch", min=1, max=64)
    program = torch.export.export(module, (image, meta),
                                  dynamic_shapes={"image": {0: batch}, "meta": {0: batch}})
    for n in (3, 5):
        args = (torch.randn(n, 3, 14, 18), torch.randn(n, 5))
        got, want = program.module()(*args), module(*args)
        assert set(got) == {"logits", "mask"}
        for key in want:
            torch.testing.assert_close(got[key], want[key])


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_distributed_data_parallel_on_two_cpu_processes(tmp_path):
    """Two gloo processes train the built module under DDP: after the steps, every parameter
    is identical on both ranks (and has moved from its initial value)."""
    import torch.multiprocessing as mp
    from lowering_ddp_worker import train
    mp.spawn(train, args=(2, _free_port(), str(TWO_HEADS), {}, str(tmp_path)), nprocs=2, join=True)
    ranks = [torch.load(tmp_path / f"rank{r}.pt", weights_only=True) for r in (0, 1)]
    assert list(ranks[0]) == [k for k, _ in archc.build(TWO_HEADS).named_parameters()]
    for key in ranks[0]:
        torch.testing.assert_close(ranks[0][key], ranks[1][key], rtol=0, atol=0)
    torch.manual_seed(0)  # rank 0 started from these weights
    initial = dict(archc.build(TWO_HEADS).named_parameters())
    assert not torch.equal(ranks[0]["head.weight"], initial["head.weight"])


def test_onnx_export_passes_the_checker_quietly(tmp_path):
    onnx = pytest.importorskip("onnx")
    pytest.importorskip("onnxscript")
    target = tmp_path / "two_heads.onnx"
    proc = cli("export", TWO_HEADS, "--onnx", target, "--input-size", "H=20", "--input-size", "W=24")
    assert proc.returncode == 0, proc.stderr
    # torch's chatter ("torchvision is not installed", deprecations, progress lines) stays out
    assert proc.stderr == "", proc.stderr
    assert proc.stdout == f"wrote {target} (dynamic: N >= 1; H >= 2; W >= 2; traced at N=2, H=20, W=24)\n"
    graph = onnx.load(str(target))
    onnx.checker.check_model(graph, full_check=True)
    assert [i.name for i in graph.graph.input] == ["image", "meta"]
    assert [o.name for o in graph.graph.output] == ["logits", "mask"]
    assert _dims(graph.graph.input[0]) == ["N", 3, "H", "W"]
    assert _dims(graph.graph.input[1]) == ["N", 5]  # one batch for both inputs
    proc = cli("export", TWO_HEADS, "--onnx", target, "--static")
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr
    assert _dims(onnx.load(str(target)).graph.input[0]) == [1, 3, 224, 224]


def _dims(value_info) -> list:
    return [d.dim_param or d.dim_value for d in value_info.type.tensor_type.shape.dim]


# The batch, and H with the constraints archc derived (U-Net: H = 16·k; ResNet: any H >= 1),
# stay dynamic: onnxruntime runs the file at two sizes meeting them, against the module.
@pytest.mark.parametrize("spec,dims,sizes", [
    (SPECS / "unet_keras.arch", ["N", 3, "16*H_k", "16*H_k"], [(1, 32), (3, 48)]),
    (SPECS / "torchvision" / "resnet18.arch", ["N", 3, "H", "H"], [(1, 40), (2, 72)]),
])
def test_onnx_file_runs_in_onnxruntime_at_sizes_meeting_the_constraints(tmp_path, spec, dims, sizes):
    onnx = pytest.importorskip("onnx")
    ort = pytest.importorskip("onnxruntime")
    from archc.lower.export import export_onnx
    model = archc.load(spec, {"size": "H", "num_classes": 7} if "resnet" in str(spec) else {"size": "H"})
    module = archc.build(model)
    target = tmp_path / "m.onnx"
    result = export_onnx(model, target, module=module)
    assert set(result.dynamic) == {"N", "H"} and not result.fixed
    assert module.training  # given back as it was
    graph = onnx.load(str(target))
    assert _dims(graph.graph.input[0]) == dims
    session = ort.InferenceSession(str(target), providers=["CPUExecutionProvider"])
    module.eval()
    for n, h in sizes:
        assert model.graph.assumptions.satisfied_by({"N": n, "H": h})
        x = torch.randn(n, 3, h, h)
        (got,) = session.run(None, {"x": x.numpy()})
        with torch.no_grad():
            want = module(x)
        assert got.shape == tuple(want.shape) and got.shape[0] == n
        torch.testing.assert_close(torch.from_numpy(got), want, rtol=1e-4, atol=1e-4)


def test_dims_from_the_constraints():
    from archc.lower.export import DynamicSize, dynamic_plan
    plan = dynamic_plan(archc.load(SPECS / "unet_keras.arch", {"size": "H"}))
    assert plan.sizes == {"N": DynamicSize("N", 1, 0, 1), "H": DynamicSize("H", 16, 0, 1)}
    assert plan.sizes["H"].describe() == "H = 16·H_k, H_k >= 1"
    h = plan.sizes["H"].dim()  # 16 * Dim("H_k", min=1), a derived Dim
    assert h.root.__name__ == "H_k" and h.root.min == 1
    model = archc.loads("input x: [N, 3, H, W]\noutput y = x -> conv2d(4, 3, stride=2) -> conv2d(4, 3)\n")
    plan = dynamic_plan(model)
    assert plan.sizes["H"] == DynamicSize("H", 1, 0, model.graph.assumptions.lower_bounds["H"].value)
    assert plan.sizes["H"].dim().min == plan.sizes["H"].k_min >= 5


def test_missing_onnx_is_an_install_hint(monkeypatch, tmp_path, capsys):
    from archc.cli import main
    from archc.lower.export import ExportError, export_onnx
    monkeypatch.setitem(sys.modules, "onnxscript", None)  # `import onnxscript` fails as if not installed
    target = tmp_path / "l.onnx"
    assert main(["export", str(SPECS / "lenet5.arch"), "--onnx", str(target)]) == 1
    err = capsys.readouterr().err
    assert "ONNX export needs onnxscript, which is not installed" in err
    assert "pip install -e '.[onnx]' in archc's checkout" in err and "Traceback" not in err
    assert not target.exists()
    monkeypatch.setitem(sys.modules, "onnx", None)
    with pytest.raises(ExportError, match="needs onnx and onnxscript") as caught:
        export_onnx(archc.load(SPECS / "lenet5.arch"), target)
    assert ".[onnx]" in caught.value.hint and not target.exists()


def test_quiet_torch_drops_chatter_not_problems(capsys, caplog):
    import logging
    from archc.lower.export import quiet_torch
    with warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always")
        with quiet_torch():
            warnings.warn("`isinstance(treespec, LeafSpec)` is deprecated", FutureWarning)
            warnings.warn("old", DeprecationWarning)
            logging.getLogger("torch.onnx._internal.exporter._registration").warning(
                "torchvision is not installed. Skipping torchvision::nms")
            print("[torch.onnx] Run decompositions... ✅")
            warnings.warn("a real problem", UserWarning)
            logging.getLogger("torch.onnx._internal.exporter._registration").error("a real failure")
    assert [str(w.message) for w in said] == ["a real problem"]
    assert capsys.readouterr().out == ""
    assert [r.getMessage() for r in caplog.records] == ["a real failure"]


def test_export_rejects_sizes_that_break_the_constraints(tmp_path):
    proc = cli("export", SPECS / "unet_keras.arch", "-D", "size=H", "--onnx", tmp_path / "u.onnx",
               "--input-size", "H=100")
    assert proc.returncode == 1
    assert "H % 16 == 0" in proc.stderr and "H=112" in proc.stderr
    assert not (tmp_path / "u.onnx").exists()
    proc = cli("export", SPECS / "lenet5.arch", "--onnx", tmp_path / "l.onnx", "--input-size", "Q=3")
    assert proc.returncode == 1 and "Q" in proc.stderr


def test_compile_command_writes_the_file_atomically(tmp_path):
    target = tmp_path / "out" / "resnet.py"
    proc = cli("compile", SPECS / "resnet18.arch", "-D", "num_classes=7", "-o", target)
    assert proc.returncode == 0, proc.stderr
    namespace: dict = {}
    exec(compile(target.read_text(), str(target), "exec"), namespace)
    net = namespace["ResNet18"]().eval()
    assert tuple(net(torch.randn(1, 3, 32, 32)).shape) == (1, 7)
    bad = tmp_path / "bad.arch"
    bad.write_text("input x: [N, 3, 8, 8]\noutput y = x -> conv2d(4, 9)\n")
    proc = cli("compile", bad, "-o", tmp_path / "bad.py")
    assert proc.returncode == 1 and "error" in proc.stderr
    assert not (tmp_path / "bad.py").exists()
