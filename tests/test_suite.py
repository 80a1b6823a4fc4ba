"""The test suite itself: every test file imports without torch (the static install, no `torch`
extra) or is skipped with a reason, so `pytest` collects without errors there too."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_suite_collects_without_torch(tmp_path):
    # a stand-in `torch` package first on the path: importing it fails as a missing torch does
    stand_in = tmp_path / "torch"
    stand_in.mkdir()
    (stand_in / "__init__.py").write_text(
        'raise ModuleNotFoundError("No module named \'torch\' (a stand-in)", name="torch")\n')
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")]),
           "OMP_NUM_THREADS": "1"}
    done = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider"],
                          capture_output=True, text=True, cwd=ROOT, env=env, timeout=300)
    summary = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "collected" in summary and "error" not in summary, summary
    assert "ERROR" not in done.stdout, done.stdout[-4000:]
    # the files that need torch throughout are skipped, and say why
    skipped = [line for line in done.stdout.splitlines() if line.startswith("SKIPPED")]
    assert any("torch" in line for line in skipped), skipped
    # a file with static tests besides its torch ones keeps them
    assert "tests/lowering/test_codegen_classes.py::test_classes_that_differ_in_structure_say_how" in done.stdout
