"""Front ends: `.arch` DSL and YAML spec files -> one `archc.ast.Spec`; printers back to both.

    parse_file(path)            dispatch on the suffix: .arch -> DSL, .yaml/.yml -> YAML
    parse_dsl(text, file)       the DSL (grammar and precedence: dsl.lark)
    parse_yaml(text, file)      the YAML form (shapes: yaml_loader.py)
    parse_expr(text, file, line, col)   one DSL expression, located at file:line:col
    to_dsl(spec), to_yaml(spec) canonical text; parsing it gives the same program

Every user error is raised as `archc.errors.SpecErrors`.
"""
from __future__ import annotations

from pathlib import Path

from archc.ast import Spec
from archc.errors import SpecError, SpecErrors
from archc.frontend.dsl import parse_dsl, parse_expr
from archc.frontend.printer import to_dsl, to_yaml
from archc.frontend.yaml_loader import parse_yaml

__all__ = ["parse_file", "parse_dsl", "parse_yaml", "parse_expr", "to_dsl", "to_yaml"]

DSL_SUFFIXES = (".arch",)
YAML_SUFFIXES = (".yaml", ".yml")


def parse_file(path: str | Path) -> Spec:
    """Parse a spec file, choosing the front end by its suffix."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in DSL_SUFFIXES + YAML_SUFFIXES:
        raise SpecErrors([SpecError(
            f"cannot tell the language of '{path}' from its suffix '{path.suffix}'", None,
            "name DSL specs '*.arch' and YAML specs '*.yaml' or '*.yml'")])
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SpecErrors([SpecError(f"spec file '{path}' does not exist", None,
                                    "check the path (imports are relative to the importing "
                                    "file)")]) from None
    except UnicodeDecodeError as e:
        raise SpecErrors([SpecError(f"spec file '{path}' is not UTF-8 text ({e.reason})", None,
                                    "save it as UTF-8")]) from None
    except OSError as e:
        raise SpecErrors([SpecError(f"cannot read spec file '{path}': {e.strerror or e}",
                                    None, "check the path and its permissions")]) from None
    if suffix in DSL_SUFFIXES:
        return parse_dsl(text, str(path))
    return parse_yaml(text, str(path))
