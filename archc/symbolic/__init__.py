"""Exact symbolic integer sizes for static shape inference.

A dimension (`Dim`) is a plain `int` or an `Expr`: a polynomial with rational coefficients over
*atoms*, which are integer symbols (``"H"``) and floor terms ``floor(p/k)`` (`Floor`). Symbols
stand for integers, so every identity used below is one that holds for all integer values;
nothing is ever rounded silently.

Canonical forms make equal sizes compare equal: ``floor((H - 1)/2) + 1`` (1x1 conv, stride 2)
and ``floor((H + 2 - 3)/2) + 1`` (3x3 conv, stride 2, pad 1) are the same object, printed
``floor((H + 1)/2)``. Equality (`==`) is structural on the canonical form: it never claims two
different functions equal, but two equal functions written very differently may compare unequal.
`Assumptions.require_equal` decides such cases exactly (for one symbol) and records what the
input sizes must satisfy (``H % 16 == 0``, ``H >= 16``) for a network to be valid.

Only `math` is imported (no `fractions`, `dataclasses` or `typing`): this package is imported
whenever archc infers a shape, and must stay cheap to load. Rational coefficients are therefore
kept as integer numerators over one common positive denominator per expression.

The package: `expr` (atoms, polynomials, `Expr`, printing, `leading_terms`) and `assumptions`
(constraints on the symbols and deciding equalities under them).
"""
from __future__ import annotations

from archc.symbolic.assumptions import Assumptions, Congruence, LowerBound
from archc.symbolic.expr import (Dim, Expr, Floor, add, all_int, ceildiv, exact_div, floordiv, is_int, mul, prod,
                                 sub, sym, to_str)
# outside __all__ as before: the summary's display of sizes, and archc.lower.checks, which prints
# sizes and residue sets as this package does
from archc.symbolic.assumptions import _format_residues as _format_residues
from archc.symbolic.expr import _mono_key as _mono_key, leading_terms as leading_terms

__all__ = [
    "Dim", "Expr", "Floor", "Congruence", "LowerBound", "Assumptions",
    "sym", "add", "sub", "mul", "floordiv", "ceildiv", "exact_div", "prod", "is_int", "all_int", "to_str",
]
