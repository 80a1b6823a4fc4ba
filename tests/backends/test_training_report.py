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


def _run(capsys, *argv: str) -> tuple[int, str, str]:
    from archc.cli import main
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_train_checks_at_sizes_as_plain_summary_does(capsys) -> None:
    """U-Net needs H % 16 == 0: --at H=100 was an internal ValueError ('H/8 is not an integer')
    with --train; now the located diagnostic plain summary gives."""
    unet = str(ROOT / "specs" / "unet_keras.arch")
    plain = _run(capsys, "summary", unet, "-D", "size=H", "--at", "H=100")
    train = _run(capsys, "summary", "--train", unet, "-D", "size=H", "--at", "H=100")
    assert plain[0] == train[0] == 1 and train[1] == ""
    assert "E-CLI-SIZE-CONSTRAINT" in train[2] and "H % 16 == 0" in train[2] and "internal error" not in train[2]
    assert train[2] == plain[2]
    assert _run(capsys, "summary", "--train", unet, "-D", "size=H", "--at", "H=112")[0] == 0


def test_batch_and_sizes_past_the_limits_are_refused(capsys) -> None:
    """--batch 10**400 was an internal OverflowError, --batch 10**24 printed 33929944038391111680.00
    GiB and --at H=10**80 was counted: E-TRAIN-BATCH and E-LIMIT-ACTIVATIONS now, with short numbers."""
    lenet = str(ROOT / "specs" / "lenet5.arch")
    for option, value in (("--batch", "1" + "0" * 400), ("--batch", str(10 ** 24)), ("--accumulate", str(10 ** 12))):
        code, out, err = _run(capsys, "summary", "--train", lenet, option, value)
        assert code == 1 and out == "" and "E-TRAIN-BATCH" in err and "1,000,000,000" in err, (option, err)
        assert len(err) < 400 and "internal error" not in err
    assert _run(capsys, "summary", "--train", lenet, "--batch", str(10 ** 9))[0] == 0  # the limit itself is fine
    code, out, err = _run(capsys, "summary", "--train", str(ROOT / "specs" / "unet_keras.arch"), "-D", "size=H",
                          "--at", "H=1" + "0" * 80)
    assert code == 1 and "E-LIMIT-ACTIVATIONS" in err and "H=1e+80" in err and len(err) < 400


def test_api_batch_limit() -> None:
    import pytest
    from archc.errors import SpecError
    model = archc.load(ROOT / "specs" / "lenet5.arch")
    for kwargs in ({"batch": 0}, {"batch": 10 ** 9 + 1}, {"batch": True}, {"batch": 2.0}, {"accumulation": 0}):
        with pytest.raises(SpecError) as info:
            training_memory(model, **kwargs)
        assert info.value.code == "E-TRAIN-BATCH", kwargs


def test_units_go_past_tera_and_then_to_exponent_form() -> None:
    """summary -D size=H --at H=1000000000 printed '46275000000.00 T' MACs and '1518055796623.23 GiB'."""
    from archc.backends.report import human, human_bytes
    from archc.backends.training_report import _flops
    assert human(46 * 10 ** 18) == "46.00 E" and human(3 * 10 ** 15, "MAC") == "3.00 PMAC"
    assert human(46275 * 10 ** 21) == "4.63e+25" and human(10 ** 400) == "1.00e+400"
    assert human_bytes(2 ** 40) == "1.00 TiB" and human_bytes(3 * 2 ** 50) == "3.00 PiB"
    assert human_bytes(1023 * 2 ** 60) == "1023.00 EiB" and human_bytes(1518055796623 * 2 ** 30) == "1.63e+21 bytes"
    assert human_bytes(10 ** 500) == "1.00e+500 bytes"
    assert _flops(2 * 10 ** 18) == "2.00 EFLOP" and _flops(2289136 * 10 ** 18) == "2.29e+24 FLOP"
