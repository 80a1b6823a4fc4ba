"""Front ends: `.arch` DSL and YAML spec files -> one `archc.ast.Spec`; printers back to both."""
from __future__ import annotations

from pathlib import Path

from archc.ast import Spec
from archc.errors import SpecError, SpecErrors
from archc.frontend.dsl import parse_dsl, parse_expr

__all__ = ["parse_file", "parse_dsl", "parse_yaml", "parse_expr", "to_dsl", "to_yaml"]
from archc.frontend.yaml_loader import parse_yaml
