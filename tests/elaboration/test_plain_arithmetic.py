"""Arithmetic and comparisons on plain numbers (the evaluator's fast path for exact ints and
floats): the values Python computes, and the same errors, at the same places, as the general path."""
from __future__ import annotations

import pytest
from spec_helpers import errors_of, load


def _width(expr: str, **hyperparams) -> int:
    """The output width of a linear layer whose width is `expr` (a spec expression)."""
    model = load(f"""\
        input x: [N, 4]
        w = {expr}
        output y = x -> linear(w)
        """, **hyperparams)
    return model.output_shapes["y"][1]


@pytest.mark.parametrize("expr, value", [
    ("7 // 2", 3), ("-7 // 2 + 10", 6), ("-7 % 3", 2), ("2 * 3 + 4 - 1", 9), ("int(7 / 2 * 4)", 14),
    ("int(2.5 * 4)", 10), ("10 - 3 * 2", 4), ("2 ** 3", 8), ("int(1.5 + 1.5)", 3),
])
def test_plain_arithmetic_computes_what_python_does(expr, value):
    assert _width(expr) == value


@pytest.mark.parametrize("expr, value", [
    ("4 if 3 < 4 else 5", 4), ("4 if 3.5 >= 4 else 5", 5), ("4 if 2 == 2.0 else 5", 4),
    ("4 if \"a\" != \"b\" else 5", 4), ("4 if true == 1 else 5", 4), ("4 if none == none else 5", 4),
])
def test_plain_comparisons_compute_what_python_does(expr, value):
    assert _width(expr) == value


def test_model_parameters_take_the_same_path_as_literals():
    model = load("""\
        param c = 3
        input x: [N, 4]
        output y = x -> linear(c * 2 // 3 + c % 2)
        """, c=9)
    assert model.output_shapes["y"][1] == 7


@pytest.mark.parametrize("expr, code, message", [
    ("8 // 0", "E-VALUE-DIVISION-BY-ZERO", "division by zero"),
    ("8 % 0", "E-VALUE-DIVISION-BY-ZERO", "division by zero"),
    ("8 / 0", "E-VALUE-DIVISION-BY-ZERO", "division by zero"),
    ("8.0 // 0.0", "E-VALUE-DIVISION-BY-ZERO", "division by zero"),
    ("1e300 * 1e300", "E-VALUE-FLOAT-OVERFLOW", "'*': the result is too large"),
    ("(10 ** 400) * 1.5", "E-VALUE-FLOAT-OVERFLOW", "'*': the result is too large"),
    ("(10 ** 900) * (10 ** 900)", "E-VALUE-INT-TOO-LARGE", "integer result too large"),
    ("4 if \"a\" < 1 else 5", "E-VALUE-TYPE", "cannot compare 'a' and 1 with '<'"),
])
def test_plain_arithmetic_errors_are_reported_where_written(expr, code, message):
    errors = errors_of(f"""\
        input x: [N, 4]
        w = {expr}
        output y = x -> linear(w)
        """)
    assert errors[0].code == code
    assert message in errors[0].message
    assert errors[0].loc.line == 2
