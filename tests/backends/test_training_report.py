"""`archc summary --train` (archc/backends/training_report.py): the breakdown issue 21 asks for,
its JSON, and its errors as located diagnostics."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from archc.analysis.training import training_memory
from archc.backends.training_report import render

import archc

ROOT = Path(__file__).resolve().parents[2]


def archc_cli(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "archc", *map(str, args)], capture_output=True, text=True,
                          cwd=ROOT)


def test_resnet50_bf16_adamw_breakdown() -> None:
    done = archc_cli("summary", "--train", "--batch", "64", "--dtype", "bf16", "--optimizer", "adamw",
                     ROOT / "specs" / "resnet50.arch")
    assert done.returncode == 0, done.stderr
    text = done.stdout
    assert "batch 64, bfloat16 autocast, float32 master weights, adamw" in text
    for line in ("parameters", "gradients", "optimizer state", "saved activations", "peak, forward",
                 "peak, backward", "FLOPs per step"):
        assert f"  {line}" in text
    # 25,557,032 float32 weights (torchvision's ResNet-50): parameters, gradients, 2 Adam moments
    assert "parameters                   97.49 MiB" in text and "optimizer state              194.99 MiB" in text
    assert "layer4.2.conv3" in text  # the per-layer table


def test_json_and_device_estimate() -> None:
    done = archc_cli("summary", "--train", "--batch", "8", "--optimizer", "sgd-momentum", "--device", "A100",
                     "--format", "json", ROOT / "specs" / "resnet18.arch")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["optimizer_state"] == data["gradients"] == data["parameters"]
    assert data["device"] == "A100" and data["step_time_s"] > 0
    assert any(note.startswith("roofline time") for note in data["notes"])


def test_errors_are_diagnostics(tmp_path: Path) -> None:
    spec = tmp_path / "m.arch"
    spec.write_text("input x: [N, 3, H, W]\noutput y = x -> conv2d(4, 3)\n")
    done = archc_cli("summary", "--train", spec)
    assert done.returncode == 1 and "E-TRAIN-SIZE-SYMBOLIC" in done.stderr and "Traceback" not in done.stderr
    assert archc_cli("summary", "--train", "--at", "H=8", "--at", "W=8", spec).returncode == 0
    done = archc_cli("summary", "--train", "--checkpoint", "layer9", ROOT / "specs" / "resnet18.arch")
    assert done.returncode == 1 and "E-TRAIN-CHECKPOINT-UNKNOWN" in done.stderr and "layer4" in done.stderr
    assert archc_cli("summary", "--train", "--dtype", "int8", spec).returncode == 2  # argparse's usage error


def test_text_report_marks_checkpointed_layers() -> None:
    tm = training_memory(archc.load(ROOT / "specs" / "resnet18.arch"), batch=2, checkpoint="layer2")
    text = render(tm)
    assert "checkpointed: layer2" in text and "layer2.0.conv1 (ckpt)" in text and "recomputed" in text


def test_options_that_would_be_ignored_are_refused(capsys) -> None:
    """An empty --checkpoint list checkpointed nothing, --format markdown printed text and a
    negative --depth was depth 0, all silently: each is a usage error now, nothing printed."""
    import pytest
    from archc.cli import main
    lenet = str(ROOT / "specs" / "lenet5.arch")
    for args in (["--train", "--checkpoint", ","], ["--train", "--checkpoint", "layer1,"], ["--depth", "-1"]):
        with pytest.raises(SystemExit) as stopped:
            main(["summary", lenet, *args])
        assert stopped.value.code == 2, args
    for args in (["--format", "markdown"], ["--by-op"], ["--depth", "1"]):
        assert main(["summary", lenet, "--train", *args]) == 2, args
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "summary --train prints text or JSON" in captured.err
