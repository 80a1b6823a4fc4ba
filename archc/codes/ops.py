"""Catalogue entries of archc/ops: see archc.codes."""
from archc.codes import Code

CODES: list[Code] = [
]
