"""The distribution (issue 20): the package index's `archc` is an unrelated project (a
Transformer-architecture compiler whose import package is `ac`), so archc's distribution is
`archc-cnn`, installed from a checkout; the import package and the command stay `archc`. Its
license is an SPDX expression (the TOML-table form makes setuptools print deprecation warnings
on every install), and nothing a user reads says to install `archc` from the index."""
from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NAME = "archc-cnn"

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    tomllib = pytest.importorskip("tomli")


def _pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def test_the_distribution_name_is_not_the_index_s_archc() -> None:
    project = _pyproject()["project"]
    assert project["name"] == NAME
    assert project["scripts"] == {"archc": "archc.cli:entry"}  # the command keeps its name
    assert (ROOT / "archc" / "__init__.py").is_file()          # and so does the import package


def test_the_license_is_an_spdx_expression_with_its_file() -> None:
    data = _pyproject()
    project = data["project"]
    assert isinstance(project["license"], str), "a TOML table here is deprecated by setuptools"
    assert project["license"] == "MIT"
    assert project["license-files"] == ["LICENSE"]
    assert "MIT License" in (ROOT / "LICENSE").read_text()
    # license expressions (PEP 639) need setuptools 77
    backend = [r for r in data["build-system"]["requires"] if r.startswith("setuptools")]
    assert backend == ["setuptools>=77"]


# `pip install archc`, `pip install 'archc[lsp]'`, `pip install -U archc-cnn`: a name, not a path
_FROM_INDEX = re.compile(r"""pip3?\s+install\s+(?:-{1,2}[\w-]+\s+)*['"]?archc(?:-cnn)?(?![\w/.-])""")
USER_FACING = ["README.md", "editors/vscode/README.md", "editors/vscode/package.json",
               "editors/vscode/extension.js"]


@pytest.mark.parametrize("rel", USER_FACING)
def test_no_install_line_fetches_a_name_from_the_index(rel: str) -> None:
    text = (ROOT / rel).read_text()
    assert not _FROM_INDEX.findall(text), rel
    assert not re.findall(r"""['"\s]archc(?:-cnn)?\[""", text), f"{rel}: `archc[extra]` is the index's form"


def test_the_pattern_catches_index_installs_and_spares_checkouts() -> None:
    for bad in ("pip install archc", "pip install 'archc[lsp]'", "pip install -U archc-cnn",
                'pip install "archc"'):
        assert _FROM_INDEX.search(bad), bad
    for good in ("pip install -e '.[lsp]'", "pip install -e .", "pip install '/path/to/checkout[lsp]'",
                 "pip install archc/", "pip install ./archc"):
        assert not _FROM_INDEX.search(good), good


def test_the_readme_installs_from_a_checkout_with_each_extra() -> None:
    readme = (ROOT / "README.md").read_text()
    assert "pip install -e '.[" in readme and "pip install -e ." in readme
    assert f"`{NAME}`" in readme
    project = _pyproject()["project"]
    rows = {line.split("|")[1].strip(): line.split("|")[2] for line in readme.splitlines()
            if line.startswith("| ") and line.count("|") >= 4}
    for extra, requirements in [("(none)", project["dependencies"]),
                                *(("`%s`" % k, v) for k, v in project["optional-dependencies"].items())]:
        assert extra in rows, f"the README's table of extras lacks {extra}"
        for requirement in requirements:  # the row says what the extra adds
            name = re.match(r"[A-Za-z0-9_.-]+", requirement).group()
            assert name in rows[extra], f"the README's row for {extra} does not name {name}"


def test_building_the_metadata_prints_no_warning(tmp_path: Path) -> None:
    """What pip runs first on `pip install -e .`: setuptools' metadata hook, with every warning
    shown. Run on a copy, so the checkout gets no egg-info."""
    setuptools = pytest.importorskip("setuptools")
    if int(setuptools.__version__.split(".")[0]) < 77:
        pytest.skip(f"setuptools {setuptools.__version__} predates license expressions (pip's "
                    "isolated build fetches >= 77)")
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(ROOT / name, tmp_path / name)
    shutil.copytree(ROOT / "archc", tmp_path / "archc",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    (tmp_path / "meta").mkdir()
    code = ("from setuptools import build_meta as b; "
            "print(b.prepare_metadata_for_build_wheel('meta'))")
    run = subprocess.run([sys.executable, "-W", "always", "-c", code], cwd=tmp_path,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    output = run.stdout + run.stderr
    assert not re.search(r"warning|deprecat", output, re.I), output
    metadata = (tmp_path / "meta" / run.stdout.split()[-1] / "METADATA").read_text()
    headers = dict(line.split(": ", 1) for line in metadata.split("\n\n")[0].splitlines()
                   if ": " in line)
    assert headers["Name"] == NAME
    assert headers["License-Expression"] == "MIT" and "License" not in headers
