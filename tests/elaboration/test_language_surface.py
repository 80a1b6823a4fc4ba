"""The language surface is declared once (archc/language.py) and every stage reads it: the
elaborator accepts exactly the declared options, initialisers and built-ins, the generated code
spells each built-in as declared, and the JSON Schema, the op reference and the editor's
completion list them."""
from __future__ import annotations

import json
import math

import pytest

import archc
from archc.errors import SpecErrors
from archc.language import BUILTINS, INITIALIZERS, LAYER_OPTIONS, SPECIAL_FORMS, make_divisible

MODEL = "model M\ninput x: [1, 3, 16, 16]\n"


@pytest.mark.parametrize("name", sorted(INITIALIZERS))
def test_every_declared_initializer_is_accepted_and_generated(name: str) -> None:
    model = archc.loads(MODEL + f"output y = x -> conv2d(4, 3, init={name})\n")
    source = model.to_source()
    weight = INITIALIZERS[name].weight
    if weight:
        assert weight.split("(")[0] in source
    else:
        assert "nn.init" not in source


def test_an_undeclared_initializer_is_refused_with_the_declared_ones_named() -> None:
    with pytest.raises(SpecErrors) as caught:
        archc.loads(MODEL + "output y = x -> conv2d(4, 3, init=kaiming)\n")
    assert caught.value.errors[0].code == "E-CALL-UNKNOWN-INITIALIZER"


def test_every_layer_option_is_accepted_where_declared() -> None:
    archc.loads(MODEL + "block B()(x) {\n  return x -> conv2d(4, 3)\n}\n"
                "output y = x -> B(name=b, frozen=true, init=he_normal, bias_init=zeros) "
                "-> B(inline=true)\n")
    assert set(LAYER_OPTIONS) == {"name", "frozen", "init", "bias_init", "inline"}  # the docs' table


@pytest.mark.parametrize("name", sorted(BUILTINS))
def test_every_builtin_runs_in_the_spec_and_its_generated_spelling_exists(name: str) -> None:
    builtin = BUILTINS[name]
    namespace = {"math": math, "_make_divisible": make_divisible}
    module, _, attr = builtin.python.rpartition(".")
    assert eval(builtin.python, namespace) if not module else hasattr(namespace[module], attr)
    assert builtin.signature.startswith(name + "(")


def test_the_generated_make_divisible_computes_what_the_spec_does() -> None:
    from archc.lower.codegen.model import _MAKE_DIVISIBLE_SOURCE
    namespace: dict = {}
    exec(_MAKE_DIVISIBLE_SOURCE, namespace)
    for v in [1, 7.5, 8, 15.9, 16, 24.2, 37, 100.0, 961.3]:
        for divisor in (1, 4, 8, 16):
            assert namespace["_make_divisible"](v, divisor) == make_divisible(v, divisor), (v, divisor)


def test_the_schema_the_op_reference_and_completion_read_the_same_tables() -> None:
    from archc.backends.docs import render_reference
    from archc.schema import yaml_json_schema
    reference = render_reference()
    for name in [*LAYER_OPTIONS, *INITIALIZERS, *BUILTINS, *SPECIAL_FORMS]:
        assert f"`{name}" in reference, name
    schema = json.dumps(yaml_json_schema())
    for option in LAYER_OPTIONS.values():
        assert (option.doc in schema) != option.blocks_only, option.name
