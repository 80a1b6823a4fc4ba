"""Catalogue entries of archc/frontend: see archc.codes."""
from archc.codes import Code

CODES: list[Code] = [
]
