"""The JSON Schema of the YAML form (`archc schema`)."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SPECS = ROOT / "specs"


def cli(*args, cwd=ROOT):
    return subprocess.run([sys.executable, "-m", "archc.cli", *map(str, args)],
                          capture_output=True, text=True, cwd=cwd)


def test_schema_is_json_schema_listing_every_op():
    from archc.ops import REGISTRY
    schema = json.loads(cli("schema").stdout)
    assert schema["$schema"].startswith("https://json-schema.org/")
    steps = schema["$defs"]["Step"]["anyOf"]
    titles = {s.get("title") for s in steps}
    assert {op.name for op in REGISTRY.ops} <= titles
    conv2d = next(s for s in steps if s.get("title") == "conv2d")
    assert {"out", "kernel", "stride", "padding", "name", "frozen", "init"} <= set(conv2d["properties"])
    from archc.frontend.yaml_loader import TOP_KEYS  # every key the YAML reader takes, and no other
    assert set(schema["properties"]) == set(TOP_KEYS)


def test_every_zoo_yaml_spec_matches_the_schema_structure():
    """The schema's top-level keys accept every YAML spec we ship (a light structural check;
    full validation is the editors' job)."""
    import yaml
    schema = json.loads(cli("schema").stdout)
    for path in SPECS.glob("*.yaml"):
        data = yaml.safe_load(path.read_text())
        assert set(data) <= set(schema["properties"]), path
        assert set(schema["required"]) <= set(data), path


def test_schema_describes_the_training_output_form_fmt_writes(tmp_path):
    """`fmt --to yaml` keeps a training output in its place among the outputs as
    `{training: value}`; the schema names that form, so an editor does not flag what fmt wrote."""
    import yaml
    spec = tmp_path / "aux.arch"
    spec.write_text("input x: [N, 3, 8, 8]\n"
                    "output y = x -> conv2d(out=4, kernel=3, padding=1)\n"
                    "training output aux = x -> conv2d(out=4, kernel=1)\n"
                    "output z = x -> conv2d(out=4, kernel=1)\n")
    written = yaml.safe_load(cli("fmt", spec, "--to", "yaml").stdout)
    assert written["outputs"]["aux"].keys() == {"training"}
    schema = json.loads(cli("schema").stdout)
    forms = schema["properties"]["outputs"]["additionalProperties"]["anyOf"]
    training = [f for f in forms if f.get("required") == ["training"]]
    assert len(training) == 1 and set(training[0]["properties"]) == {"training"}
    assert training[0]["additionalProperties"] is False
