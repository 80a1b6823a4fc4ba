"""`archc fmt`: canonical text that keeps comments, is a fixed point after one pass, means the same
program, translates with its comments, and can run on save (--check, --write)."""
import re
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from archc.ast import without_locs
from archc.frontend import parse_dsl, parse_file, parse_yaml, to_dsl, to_yaml
from archc.frontend.comments import scan_dsl, scan_yaml

ROOT = Path(__file__).resolve().parents[2]
SPECS = ROOT / "specs"
ZOO = sorted(p for p in SPECS.rglob("*") if p.suffix in (".arch", ".yaml"))

PRINT = {"arch": (to_dsl, parse_dsl, scan_dsl), "yaml": (to_yaml, parse_yaml, scan_yaml)}


def cli(*args, cwd=ROOT, input=None):
    return subprocess.run([sys.executable, "-m", "archc", *map(str, args)], capture_output=True,
                          text=True, cwd=cwd, input=input)


def comment_texts(text, language):
    return [c.text for c in PRINT[language][2](text)]


def test_the_zoo_is_all_there():
    names = {p.relative_to(SPECS).as_posix() for p in ZOO}
    assert {"resnet18.arch", "resnet18.yaml", "blocks/digits.arch", "torchvision/convnext_tiny.arch",
            "torchvision/blocks/efficientnet.arch"} <= names
    assert len(ZOO) > 100


@pytest.mark.parametrize("path", ZOO, ids=lambda p: p.relative_to(SPECS).as_posix())
def test_fmt_is_a_fixed_point_that_keeps_comments_and_the_program(path):
    source = path.read_text()
    own = "yaml" if path.suffix == ".yaml" else "arch"
    spec = parse_file(path)
    original = without_locs(spec)
    comments = comment_texts(source, own)
    for language in ("arch", "yaml"):  # its own language, and translated
        printer, parser, _ = PRINT[language]
        once = printer(spec)
        again = parser(once, f"<{language}>")
        assert without_locs(again) == original, language
        assert printer(again) == once, f"not a fixed point in {language}"
        assert sorted(comment_texts(once, language)) == sorted(comments), language


def test_a_library_header_then_a_blank_line_then_imports_is_a_fixed_point_in_yaml():
    """A blank line between a block library's header comment and its imports cannot be written
    back in YAML (the first import starts below `imports:`): the printer leaves it out, so fmt
    stays a fixed point (found with timm's libraries)."""
    from archc.frontend import parse_dsl, parse_yaml
    from archc.frontend.printer import to_yaml
    spec = parse_dsl('# a library\n# of blocks\n\nimport "layers.arch"\n\n'
                     "block B()(x) {\n  return x -> relu\n}\n", "lib.arch")
    once = to_yaml(spec)
    assert once.startswith("# a library\n# of blocks\nimports:\n")
    assert to_yaml(parse_yaml(once, "lib.yaml")) == once


def test_every_comment_kind_keeps_its_place_in_the_dsl():
    source = """\
# header: what this is
model Tiny  # the name

param n = 10
input x: [N, 3, 8, 8]

# a block
block Unit(c)(x) {  # its header
  # before a statement
  y = x -> conv2d(c, 3, padding=same)  # end of line
  return y -> relu
  # before the closing brace
}

a = x -> Unit(8)  # first
bb = a -> Unit(16)  # second

c = bb -> flatten
output logits = c -> linear([
  # inside brackets
  n][0])
# the end
"""
    out = to_dsl(parse_dsl(source))
    assert out == """\
# header: what this is
model Tiny  # the name

param n = 10

input x: [N, 3, 8, 8]

# a block
block Unit(c)(x) {  # its header
  # before a statement
  y = x -> conv2d(c, 3, padding=same)  # end of line
  return y -> relu
  # before the closing brace
}

a = x -> Unit(8)    # first
bb = a -> Unit(16)  # second

c = bb -> flatten

# inside brackets
output logits = c -> linear([n][0])
# the end
"""
    assert to_dsl(parse_dsl(out)) == out


def test_hashes_inside_strings_are_not_comments():
    dsl = 'model "net #1"\ninput x: [N, 4]\noutput y = x -> linear(2, name="fc#2")  # real\n'
    assert [c.text for c in scan_dsl(dsl)] == ["# real"]
    assert to_dsl(parse_dsl(dsl)).count("#") == 3
    yaml_text = ('model: "net #1"\ninputs: {x: [N, 4]}\n'
                 'outputs:\n  y: [x, {linear: 2, name: \'"fc #2"\'}]  # real\n'
                 '  z: [x, {linear: 2, name: a#b}]\n')  # (YAML: '#' after a blank only)
    assert [c.text for c in scan_yaml(yaml_text)] == ["# real"]
    out = to_yaml(parse_yaml(yaml_text))
    assert out.count("# real") == 1 and "fc #2" in out
    assert without_locs(parse_yaml(out)) == without_locs(parse_yaml(yaml_text))


def test_comments_cross_languages_both_ways():
    dsl = """\
# header
model M
input x: [N, 3, 8, 8]

# the unit
block U(c)(x) {
  # conv
  y = x -> conv2d(c, 3)  # three by three
  return y  # out
  # end of U
}

# trunk
h = x -> U(4)  # first unit
output y = h -> flatten  # logits
"""
    yaml_text = to_yaml(parse_dsl(dsl))
    assert yaml_text == """\
# header
model: M

inputs:
  x: [N, 3, 8, 8]

# the unit
blocks:
  U:
    params: {c: null}
    inputs: [x]
    # conv
    body:
      y: [x, {conv2d: [c, 3]}]  # three by three
    return: y                   # out

# end of U

# trunk
body:
  h: [x, {U: 4}]  # first unit

outputs:
  y: [h, flatten]  # logits
"""
    assert to_yaml(parse_yaml(yaml_text)) == yaml_text
    back = to_dsl(parse_yaml(yaml_text))
    assert comment_texts(back, "arch") == comment_texts(dsl, "arch")
    assert without_locs(parse_dsl(back)) == without_locs(parse_dsl(dsl))


def test_yaml_writes_every_call_in_one_style():
    old = """\
inputs: {x: [N, 3, 8, 8]}
outputs:
  y:
    - x
    - {conv2d: {out: 8, kernel: 3}, name: conv}
    - {batchnorm2d: {name: bn, eps: 0.001}}
    - {relu: {name: act}}
    - {EfficientNetish: {norm: {batchnorm2d: {eps: 0.001}}}}
"""
    out = to_yaml(parse_yaml(old))
    assert "{batchnorm2d: [], name: bn, eps: 0.001}" in out
    assert "{relu: [], name: act}" in out
    assert "{conv2d: [], out: 8, kernel: 3, name: conv}" in out
    assert "{EfficientNetish: [], norm: {batchnorm2d: [], eps: 0.001}}" in out
    assert without_locs(parse_yaml(out)) == without_locs(parse_yaml(old))
    # no call anywhere in the zoo is written the other way, {op: {keyword: ...}}
    for path in ZOO:
        assert not re.search(r"\{[A-Za-z_]\w*: \{", to_yaml(parse_file(path))), path


def test_long_statements_break_inside_brackets():
    out = to_dsl(parse_file(SPECS / "torchvision/efficientnet_v2_l.arch"))
    assert max(len(line) for line in out.splitlines() if not line.startswith("#")) <= 100
    assert "output logits = x -> EfficientNet(\n    [\n        [FusedMBConv, 1, 3, 1, 32, 32, 4],\n" in out
    assert "    norm=batchnorm2d(eps=0.001),\n" in out
    assert "eps=1e-6" in to_dsl(parse_file(SPECS / "torchvision/blocks/convnext.arch"))  # not 1e-06


# ----------------------------------------------------------------------------- command line


def test_check_lists_files_that_would_change_and_write_rewrites_them(tmp_path):
    messy = tmp_path / "messy.arch"
    messy.write_text("# keep me\ninput x:[N,4]\noutput y=x->linear(2)   # and me\n")
    messy.chmod(0o640)
    clean = tmp_path / "clean.yaml"
    clean.write_text(to_yaml(parse_file(SPECS / "cifar10_lenet.yaml")))
    before = messy.read_text()

    done = cli("fmt", "--check", messy, clean)
    assert done.returncode == 1 and done.stdout == f"would reformat {messy}\n"
    assert messy.read_text() == before  # --check changes nothing

    done = cli("fmt", "--write", messy, clean)
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"reformatted {messy}\n"
    assert messy.read_text() == "# keep me\ninput x: [N, 4]\n\noutput y = x -> linear(2)  # and me\n"
    assert stat.S_IMODE(messy.stat().st_mode) == 0o640  # permissions kept
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clean.yaml", "messy.arch"]  # no temp file
    assert cli("fmt", "--check", messy, clean).returncode == 0


def test_write_goes_through_a_symbolic_link(tmp_path):
    target = tmp_path / "real.arch"
    target.write_text("input x:[N,4]\noutput y=x->linear(2)\n")
    link = tmp_path / "link.arch"
    link.symlink_to(target)
    assert cli("fmt", "--write", link).returncode == 0
    assert link.is_symlink() and target.read_text().startswith("input x: [N, 4]\n")


def test_fmt_refuses_what_it_cannot_do(tmp_path):
    spec = tmp_path / "a.arch"
    spec.write_text("input x: [N, 4]\noutput y = x -> linear(2)\n")
    assert cli("fmt", spec, spec).returncode == 2  # printing several: say --check or --write
    done = cli("fmt", "--write", "--to", "yaml", spec)
    assert done.returncode == 2 and "keep the file's language" in done.stderr
    done = cli("fmt", "--write", "-", input="input x: [N, 4]\n")
    assert done.returncode == 2 and "standard input" in done.stderr
    broken = tmp_path / "b.arch"
    broken.write_text("input x: [N, 4]\noutput y = x -> \n")
    done = cli("fmt", "--write", broken)
    assert done.returncode == 1 and "b.arch:2" in done.stderr and "Traceback" not in done.stderr
    assert broken.read_text() == "input x: [N, 4]\noutput y = x -> \n"


def test_fmt_reads_stdin_and_translates(tmp_path):
    text = (SPECS / "cifar10_lenet.yaml").read_text()
    done = cli("fmt", "-", "--to", "arch", input=text)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("# The LeNet-style CIFAR-10 classifier")
    assert without_locs(parse_dsl(done.stdout)) == without_locs(parse_file(SPECS / "cifar10_lenet.yaml"))
    check = cli("fmt", "--check", "-", input=text)
    assert check.returncode == 1 and check.stdout == "would reformat <stdin>\n"
    formatted = cli("fmt", "-", input=text).stdout
    assert cli("fmt", "--check", "-", input=formatted).returncode == 0


def test_fmt_translates_both_ways_and_back(tmp_path):
    for spec in (SPECS / "unet_keras.arch", SPECS / "cifar10_lenet.yaml", SPECS / "torchvision/blocks/resnet.arch"):
        yaml_text = cli("fmt", spec, "--to", "yaml").stdout
        dsl_text = cli("fmt", spec, "--to", "arch").stdout
        original = archc_ast(spec)
        assert without_locs(parse_yaml(yaml_text)) == original
        assert without_locs(parse_dsl(dsl_text)) == original


def archc_ast(path):
    from archc.frontend import parse_file
    return without_locs(parse_file(path))
