"""Catalogue entries of archc/backends: see archc.codes."""
from archc.codes import Code

CODES: list[Code] = [
]
