"""Shell completion of `archc explain CODE`: every shell's script offers the catalogue's codes
(zsh and fish with their titles); bash, run here, completes a prefix in either case."""
from __future__ import annotations

import shutil
import subprocess

import pytest

from archc.cli import build_parser
from archc.codes import catalog
from archc.shell_completion import script


def _script(shell: str) -> str:
    return script(build_parser(), shell)


@pytest.mark.skipif(not shutil.which("bash"), reason="needs bash")
def test_bash_completes_diagnostic_codes_after_explain():
    probe = _script("bash") + """
t() { COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]}-1)); COMPREPLY=(); _archc;
      printf '%s\\n' "${COMPREPLY[*]}"; }
t archc explain ""
t archc explain E-SHAPE-CONC
t archc explain e-shape-conc
t archc explain --he
"""
    done = subprocess.run(["bash", "-c", probe], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    every, prefix, lower, option = done.stdout.splitlines()
    assert every.split() == sorted(catalog())
    assert prefix.split() == ["E-SHAPE-CONCAT"] == lower.split()  # `explain` takes codes in any case
    assert option.split() == ["--help"]


@pytest.mark.parametrize("shell", ["zsh", "fish"])
def test_zsh_and_fish_offer_every_code_with_its_title(shell):
    text = _script(shell)
    for code, entry in catalog().items():
        title = " ".join(entry.title.split())
        if shell == "zsh":
            assert f"        '{code}:{title}'\n" in text.replace("'\\''", "'")
        else:
            assert f"-n '__fish_seen_subcommand_from explain' -a '{code}' -d '{title}'" \
                in text.replace("\\'", "'")
    if shell == "zsh":
        assert "'1:diagnostic code:_archc_explain_values'" in text
    if shutil.which(shell):  # a syntax check where the shell is installed
        check = subprocess.run([shell, "-n"], input=text, text=True, capture_output=True)
        assert check.returncode == 0, check.stderr


def test_other_positional_choices_keep_their_names():
    assert "'1:shell:(bash zsh fish)'" in _script("zsh")
    assert "-n '__fish_seen_subcommand_from completion' -a 'bash zsh fish'" in _script("fish")
