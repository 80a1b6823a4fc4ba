"""Catalogue entries of archc/spec: see archc.codes."""
from archc.codes import Code

CODES: list[Code] = [
]
