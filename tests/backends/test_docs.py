"""Documentation that must not go stale: the op reference, the language reference's examples,
the README's example specs and its command table."""
from __future__ import annotations

import re
from pathlib import Path

import archc
from archc.ast import without_locs

ROOT = Path(__file__).resolve().parents[2]


def test_op_reference_is_current():
    from archc.backends.docs import render_reference
    committed = (ROOT / "docs" / "ops.md").read_text()
    assert committed == render_reference(), "run: archc docs -o docs/ops.md"


def test_language_reference_examples_are_the_same_valid_program():
    text = (ROOT / "docs" / "language.md").read_text()
    blocks = re.findall(r"```(?:yaml)?\n(.*?)```", text, re.S)
    dsl, yaml_text = blocks[:2]
    a = archc.loads(dsl, "arch")
    b = archc.loads(yaml_text, "yaml")
    assert without_locs(a.spec) == without_locs(b.spec)
    assert a.params == b.params > 0
    assert set(a.graph.outputs) == {"logits", "box"}
    # the second side-by-side pair: the tensor operations of modern networks
    modern = [(d, y) for d, y in zip(blocks, blocks[1:]) if d.startswith("model Modern") and
              y.startswith("model: Modern")]
    assert len(modern) == 1
    a, b = archc.loads(modern[0][0], "arch"), archc.loads(modern[0][1], "yaml")
    assert without_locs(a.spec) == without_locs(b.spec)
    assert a.state_dict_shapes() == b.state_dict_shapes()
    assert "stage1-0.layer_scale" in a.state_dict_shapes()


def test_readme_example_specs_are_the_zoo_files():
    readme = (ROOT / "README.md").read_text()
    for name in re.findall(r"# (specs/\S+)\n", readme):
        block = readme.split(f"# {name}\n", 1)[1].split("```", 1)[0]
        language = "yaml" if name.endswith(".yaml") else "arch"
        shown = archc.loads(block, language)
        assert without_locs(shown.spec) == without_locs(archc.load(ROOT / name).spec), name


def _subcommands():
    import argparse

    from archc.cli import build_parser
    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    return set(sub.choices)


def test_readme_command_table_lists_every_command():
    readme = (ROOT / "README.md").read_text()
    table = readme.split("## Command line", 1)[1].split("\n\n", 2)[1]
    listed = re.findall(r"^\| `archc (\w+)", table, re.M)
    assert len(listed) == len(set(listed))
    assert set(listed) == _subcommands()
    assert "| `python -m archc …` |" in table
