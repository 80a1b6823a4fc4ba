"""The static path's imports: checking and summarising a spec (and importing the front end)
loads no torch, networkx, pydantic, or PyYAML for a DSL spec (issue 11)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_importing_the_front_end_is_light():
    code = ("import sys, archc.frontend; "
            "bad = [m for m in ('torch', 'networkx') if m in sys.modules]; "
            "assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


def test_the_static_path_imports_only_what_it_needs():
    """`archc summary` of a DSL spec imports no torch, networkx, pydantic or PyYAML (issue 11:
    they were 60% of its start-up); a YAML spec brings in PyYAML only."""
    probe = ("import sys, archc.cli; archc.cli.main(['summary', {spec!r}, '-o', {out!r}]); "
             "print(' '.join(m for m in ('torch', 'networkx', 'pydantic', 'yaml') if m in sys.modules))")
    for spec, allowed in (("specs/resnet50.arch", ""), ("specs/cifar10_lenet.yaml", "yaml")):
        out = subprocess.run([sys.executable, "-c", probe.format(spec=spec, out=os.devnull)],
                             check=True, cwd=ROOT, capture_output=True, text=True).stdout.split()
        assert out == allowed.split(), (spec, out)


def test_static_path_never_imports_torch():
    code = ("import sys, archc; m = archc.load('specs/resnet50.arch'); m.summary(); "
            "m.summary('json'); import archc.cli; "
            "assert 'torch' not in sys.modules, 'torch imported'; print('ok')")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert proc.stdout.strip() == "ok", proc.stderr
