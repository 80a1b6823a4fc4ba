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


def test_onnx_export_passes_the_checker(tmp_path):
    onnx = pytest.importorskip("onnx")
    pytest.importorskip("onnxscript")
    target = tmp_path / "two_heads.onnx"
    proc = cli("export", TWO_HEADS, "--onnx", target, "--input-size", "H=20", "--input-size", "W=24")
    assert proc.returncode == 0, proc.stderr
    assert "N=1, H=20, W=24" in proc.stdout
    graph = onnx.load(str(target))
    onnx.checker.check_model(graph, full_check=True)
    assert [i.name for i in graph.graph.input] == ["image", "meta"]
    assert [o.name for o in graph.graph.output] == ["logits", "mask"]
    dims = [d.dim_value for d in graph.graph.input[0].type.tensor_type.shape.dim]
    assert dims == [1, 3, 20, 24]


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
