"""The examples run as a newcomer runs them, and do what they say."""
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("torch")
pytest.importorskip("sklearn")

ROOT = Path(__file__).resolve().parents[2]


def run_example(name, *args, tmp_path=None):
    proc = subprocess.run([sys.executable, str(ROOT / "examples" / name), *args],
                          capture_output=True, text=True, cwd=tmp_path or ROOT, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout


def number(pattern, text):
    match = re.search(pattern, text)
    assert match, f"{pattern!r} not in output:\n{text}"
    return float(match.group(1))


def test_check_and_summarise():
    out = run_example("01_check_and_summarise.py")
    assert "parameters: 11,181,642" in out
    assert "U-Net input constraints: ['H % 16 == 0', 'H >= 16']" in out
    assert "broken.arch:2:17: conv2d at line 2: kernel 5 is larger than the 3×3 input" in out


def test_compile_and_train_digits_reaches_95_percent(tmp_path):
    target = tmp_path / "digits_model.py"
    out = run_example("02_compile_and_train_digits.py", "--out", str(target), tmp_path=tmp_path)
    assert target.exists() and "class DigitsCNN(nn.Module):" in target.read_text()
    assert number(r"test accuracy: ([0-9.]+)", out) >= 0.95


def test_transfer_learning_loads_the_backbone_and_keeps_it_frozen():
    out = run_example("03_transfer_learning.py")
    assert re.search(r"18 loaded, 0 skipped, 4 missing, 2 unexpected", out)
    assert "backbone unchanged by fine-tuning: True" in out
    assert number(r"source model, digits 0-4: test accuracy ([0-9.]+)", out) >= 0.95
    assert number(r"fine-tuned model, digits 5-9: test accuracy ([0-9.]+)", out) >= 0.85


def test_denoising_autoencoder_denoises_and_writes_a_png(tmp_path):
    target = tmp_path / "grid.png"
    out = run_example("04_denoising_autoencoder.py", "--out", str(target), tmp_path=tmp_path)
    noisy = number(r"noisy ([0-9.]+)", out)
    denoised = number(r"denoised ([0-9.]+)", out)
    assert denoised < 0.6 * noisy
    data = target.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n") and b"IEND" in data[-12:]
