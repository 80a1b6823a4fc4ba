"""The `.arch` language's reserved words and brackets: shared by the parser's post-lexer
(dsl.py), the explanations of its syntax errors (syntax_errors.py) and the printers."""
from __future__ import annotations

KEYWORDS = frozenset({"model", "import", "param", "input", "output", "training", "block", "return", "if",
                      "for", "in",
                      "else", "and", "or", "not", "true", "false", "none", "True", "False",
                      "None"})

OPENERS = {"(": ")", "[": "]"}  # opening bracket -> its closer
