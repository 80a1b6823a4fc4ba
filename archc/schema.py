"""JSON Schema of the YAML spec form, exported from pydantic models, so that editors validate and
autocomplete spec files. The per-op step models are generated from the op registry: every op's
attributes appear with their types and docs, so the schema cannot drift from the ops."""
from __future__ import annotations

from typing import Any, Literal, Optional, Union

from pydantic import BaseModel, ConfigDict, Field

from archc.language import LAYER_OPTIONS
from archc.ops import REGISTRY
from archc.ops.base import Op

Scalar = Union[int, float, bool, str]

EXPRESSION = "a number, a name, or an expression string such as `out * 4` or `x -> relu`"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class YamlBlock(_Strict):
    """A parametric block: `params`, tensor `inputs`, a `body` of named tensors, and `return`."""
    params: dict[str, Optional[Scalar]] = Field(
        default_factory=dict, description="parameters with defaults; null means required")
    inputs: list[str] = Field(description="names of the block's input tensors")
    body: dict[str, Any] = Field(default_factory=dict, description="tensor name -> value (chain, call or expression)")
    return_: Any = Field(default=None, alias="return", description="the block's output: a chain, call or expression")
    returns: Optional[list[Any]] = Field(default=None, description="several outputs")


class YamlSpec(_Strict):
    """An archc model spec in YAML. Values are chains (lists: a source, then steps), calls
    (mappings whose first key is an op or block name) or expressions (strings)."""
    model: Optional[str] = Field(default=None, description="the model's name")
    returns: Optional[Literal["dict"]] = Field(
        default=None, description="dict: forward returns a dict of the outputs even with one (needs model:)")
    imports: list[str] = Field(default_factory=list, description="files whose blocks this spec uses")
    params: dict[str, Optional[Scalar]] = Field(default_factory=dict, description="model parameters")
    inputs: dict[str, list[Union[int, str]]] = Field(
        description="input tensors, channels first: [N, 3, 224, 224]; names are symbolic sizes")
    blocks: dict[str, YamlBlock] = Field(default_factory=dict)
    body: dict[str, Any] = Field(default_factory=dict, description="tensor name -> value")
    outputs: dict[str, Any] = Field(description="output name -> value")
    training_outputs: dict[str, Any] = Field(
        default_factory=dict, description="outputs computed only in training (auxiliary classifiers): "
                                          "output name -> value")


def _op_step_schema(op: Op) -> dict:
    properties: dict[str, Any] = {
        op.name: {"description": f"{op.title}: {op.doc.splitlines()[0] if op.doc else ''} "
                                 f"Value: positional attributes (list), keyword attributes (mapping), "
                                 f"one attribute (scalar) or null.",
                  "anyOf": [{"type": "array"}, {"type": "object"}, {"type": "null"},
                            {"type": ["number", "string", "boolean"]}]}}
    for attr in op.attrs:
        schema = dict(attr.type.json_schema())
        default = "required" if attr.required else f"default {attr.default!r}"
        schema["description"] = f"{attr.doc} ({attr.type.label}; {default})".strip()
        properties[attr.name] = schema
    for option in LAYER_OPTIONS.values():
        if not option.blocks_only:
            properties[option.name] = {"description": f"{option.doc} ({option.type})"}
    return {"type": "object", "title": op.name, "required": [op.name],
            "properties": properties, "additionalProperties": False}


def _step_schema() -> dict:
    block_call = {"type": "object", "title": "block call", "minProperties": 1,
                  "description": "a call of a block (first key) with its arguments"}
    named = [{"type": "string", "description": "an op or block with no arguments, e.g. relu, or " + EXPRESSION}]
    return {"anyOf": named + [_op_step_schema(op) for op in REGISTRY.ops] + [block_call]}


def yaml_json_schema() -> dict:
    schema = YamlSpec.model_json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "archc spec (YAML form)"
    defs = schema.setdefault("$defs", {})
    defs["Step"] = _step_schema()
    defs["Value"] = {"anyOf": [
        {"type": ["string", "number", "boolean"], "description": EXPRESSION},
        {"type": "array", "description": "a chain: a source tensor, then steps",
         "prefixItems": [{"description": "the source"}], "items": {"$ref": "#/$defs/Step"}},
        {"$ref": "#/$defs/Step"}]}
    value_map = {"type": "object", "additionalProperties": {"$ref": "#/$defs/Value"}}
    schema["properties"]["body"].update(value_map)
    training_output = {"type": "object", "required": ["training"], "additionalProperties": False,
                       "properties": {"training": {"$ref": "#/$defs/Value"}},
                       "description": "{training: value}: an output computed only in training, kept in "
                                      "its place among the outputs (fmt --to yaml writes this form)"}
    schema["properties"]["outputs"].update(
        {"type": "object", "additionalProperties": {"anyOf": [{"$ref": "#/$defs/Value"}, training_output]}})
    schema["properties"]["training_outputs"].update(value_map)
    block = defs["YamlBlock"]["properties"]
    block["body"].update(value_map)
    block["return"] = {"$ref": "#/$defs/Value", "description": block["return"].get("description", "")}
    block["returns"] = {"type": "array", "items": {"$ref": "#/$defs/Value"}}
    return schema
