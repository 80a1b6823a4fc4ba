"""Imports (archc/loader.py, issue 10): blocks from another file, import cycles, where imports
may come from (the spec's folder tree, --import-path, ARCHC_PATH), and every import problem
located at its import statement."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

import archc
from archc.cli import main
from archc.errors import SpecErrors
from archc.loader import import_path

ROOT = Path(__file__).resolve().parents[2]
SPECS = ROOT / "specs"

BLOCK = "block Tiny(c)(x) {\n  return x -> conv2d(c, 3, padding=1) -> relu\n}\n"


def model(imports: str) -> str:
    return (f"model M\n{imports}\ninput x: [N, 3, 8, 8]\n"
            "output y = x -> Tiny(4) -> flatten -> linear(2)\n")


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out = capsys.readouterr()
    return code, out.out, out.err


# ----------------------------------------------------------------------------- import search

def test_zoo_imports_inside_the_tree_still_work(capsys):
    assert run(capsys, "check", SPECS / "resnet18.arch", SPECS / "digits_cnn.arch")[0] == 0


def outside(tmp_path: Path) -> Path:
    """A model in tmp/proj importing ../lib/tiny.arch, outside its folder tree."""
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "tiny.arch").write_text(BLOCK)
    (tmp_path / "proj").mkdir()
    path = tmp_path / "proj" / "m.arch"
    path.write_text(model('import "../lib/tiny.arch"'))
    return path


def test_an_import_outside_the_tree_is_refused_with_a_location_and_a_hint(capsys, tmp_path, monkeypatch):
    monkeypatch.delenv("ARCHC_PATH", raising=False)
    path = outside(tmp_path)
    code, _, err = run(capsys, "check", path)
    assert code == 1 and "Traceback" not in err
    assert f"{path}:2:8: error[E-IMPORT-OUTSIDE-PATH]: import '../lib/tiny.arch'" in err and "outside the spec's folder" in err
    assert "--import-path" in err and "ARCHC_PATH" in err
    etc = tmp_path / "proj" / "etc.arch"
    etc.write_text(model('import "../../../../../../../../etc/x.arch"'))
    code, _, err = run(capsys, "check", etc)
    assert code == 1 and f"{etc}:2:8:" in err
    absolute = tmp_path / "proj" / "abs.arch"
    absolute.write_text(model(f'import "{tmp_path / "lib" / "tiny.arch"}"'))
    code, _, err = run(capsys, "check", absolute)
    assert code == 1 and "outside the spec's folder" in err
    with pytest.raises(SpecErrors, match="outside the spec's folder"):
        archc.load(path)


def test_import_path_and_archc_path_allow_a_folder(capsys, tmp_path, monkeypatch):
    monkeypatch.delenv("ARCHC_PATH", raising=False)
    path = outside(tmp_path)
    for command in (["check"], ["summary"], ["compile"], ["draw"]):
        assert run(capsys, *command, path, "--import-path", tmp_path / "lib")[0] == 0, command
    # found in the search path by a path relative to it, and repeatable
    bare = tmp_path / "proj" / "bare.arch"
    bare.write_text(model('import "tiny.arch"'))
    assert run(capsys, "check", bare, "--import-path", tmp_path / "proj",
               "--import-path", tmp_path / "lib")[0] == 0
    assert run(capsys, "check", bare)[0] == 1
    monkeypatch.setenv("ARCHC_PATH", os.pathsep.join(["", str(tmp_path / "nowhere"), str(tmp_path / "lib")]))
    assert run(capsys, "check", path, bare)[0] == 0
    assert archc.load(bare).graph is not None
    monkeypatch.delenv("ARCHC_PATH")
    with import_path([tmp_path / "lib"]):  # the API's form of --import-path
        assert archc.load(path).graph is not None
    with pytest.raises(SpecErrors):
        archc.load(path)
    with pytest.raises(SystemExit) as e:  # a usage error
        main(["check", str(path), "--import-path", str(tmp_path / "missing")])
    assert e.value.code == 2 and "not a directory" in capsys.readouterr().err


def test_a_symlink_inside_the_tree_to_a_file_outside_is_refused(capsys, tmp_path, monkeypatch):
    monkeypatch.delenv("ARCHC_PATH", raising=False)
    outside(tmp_path)
    (tmp_path / "proj" / "link.arch").symlink_to(tmp_path / "lib" / "tiny.arch")
    path = tmp_path / "proj" / "l.arch"
    path.write_text(model('import "link.arch"'))
    code, _, err = run(capsys, "check", path)
    assert code == 1 and "outside the spec's folder" in err


# ----------------------------------------------------------------------------- located import errors

@pytest.mark.parametrize("name, make, message", [
    ("tiny.txt", lambda p: p.write_text(BLOCK), "cannot tell the language"),
    ("adir.arch", lambda p: p.mkdir(), "names a directory"),
    ("latin1.arch", lambda p: p.write_bytes(b"# caf\xe9\n" + BLOCK.encode()), "not UTF-8"),
    ("missing.arch", lambda p: None, "does not exist"),
    ("pipe.arch", lambda p: os.mkfifo(p), "not a regular file"),
])
def test_import_file_problems_are_located_at_the_import(capsys, tmp_path, name, make, message):
    make(tmp_path / name)
    path = tmp_path / "m.arch"
    path.write_text(model(f'import "{name}"'))
    code, _, err = run(capsys, "check", path)
    assert code == 1 and "Traceback" not in err
    assert f"{path}:2:8: error[E-" in err and message in err
    assert "hint:" in err


def test_an_over_long_import_path_is_located(capsys, tmp_path):
    for text in ("a" * 300 + ".arch", "d/" * 2100 + "x.arch"):  # one name too long; a path over the limit
        path = tmp_path / "m.arch"
        path.write_text(model(f'import "{text}"'))
        code, _, err = run(capsys, "check", path)
        assert code == 1 and "Traceback" not in err and f"{path}:2:8: error[E-IMPORT-" in err


def test_a_missing_import_names_where_it_looked_and_the_search_path(capsys, tmp_path):
    path = tmp_path / "m.arch"
    path.write_text(model('import "nowhere.arch"'))
    code, _, err = run(capsys, "check", path, "--import-path", SPECS)
    assert code == 1 and str(tmp_path) in err and str(SPECS) in err and "--import-path" in err


def test_nul_bytes_and_lone_surrogates_in_an_import_path_are_refused(tmp_path):
    from archc.loader import _resolve_import
    for text in ("a\0b.arch", "a\udc80.arch"):
        path, message, hint = _resolve_import(text, tmp_path, (tmp_path,))
        assert path is None and "not a valid file name" in message and hint


def test_imports_bring_blocks_and_report_missing_files(tmp_path):
    (tmp_path / "lib.arch").write_text("block Twice(c)(x) {\n  return x -> conv2d(c, 1) -> conv2d(c, 1)\n}\n")
    (tmp_path / "net.yaml").write_text(
        "imports: [lib.arch]\ninputs: {x: [N, 3, 4, 4]}\noutputs: {y: [x, {Twice: 5}]}\n")
    assert archc.load(tmp_path / "net.yaml").params == (3 * 5 + 5) + (5 * 5 + 5)
    (tmp_path / "bad.arch").write_text('import "nope.arch"\ninput x: [N, 3]\noutput y = x\n')
    with pytest.raises(SpecErrors) as info:
        archc.load(tmp_path / "bad.arch")
    err = info.value.errors[0]
    assert "'nope.arch' does not exist" in err.message and err.loc.line == 1


def test_import_cycle_is_reported(tmp_path):
    (tmp_path / "a.arch").write_text('import "b.arch"\ninput x: [N, 3]\noutput y = x\n')
    (tmp_path / "b.arch").write_text('import "a.arch"\n')
    with pytest.raises(SpecErrors) as info:
        archc.load(tmp_path / "a.arch")
    assert any("import cycle" in e.message for e in info.value.errors)
