"""What the statement layer finds of a block body once (archc.ir.elaborate._DECLARED: the names
its statements define and read, its text order, the names its results read) serves every later
instance of the block, in this elaboration and the next ones of the same spec: each instance
reports and builds what it would with the facts found again. And comprehensions, which bind
their items in one environment per clause, see exactly the names Python's would."""
from __future__ import annotations

import textwrap

import pytest
from spec_helpers import errors_of, load

from archc import ast as A
from archc.errors import SpecErrors
from archc.frontend import parse_text
from archc.ir import elaborate as elaboration
from archc.ir import instances


def _outcome(spec) -> tuple:
    """Everything an elaboration gives that the declared facts decide: the layers, their scopes,
    and every diagnostic with its place and notes."""
    warnings: list = []
    try:
        graph = elaboration.elaborate(spec, "spec.arch", None, warnings=warnings)
    except SpecErrors as errors:
        return ("errors", [(e.code, e.message, e.loc, e.hint, tuple(e.notes)) for e in errors.errors])
    layers = [(n, d["layer"].op_name, d["layer"].shape, d["layer"].scope, d["layer"].unused)
              for n, d in graph.dag.nodes.items()]
    return ("graph", layers, sorted(graph.scopes), [(w.code, w.message, w.loc) for w in warnings])


class _Forgetful(dict):
    """A store of declared facts that keeps none."""

    def __setitem__(self, key, value) -> None:
        pass


# blocks whose bodies declare every kind of fact: names read before they are written (not the
# text's order), a `_kept` name, an `unused` statement, several targets; instances with other
# numbers, so each is evaluated
SPECS = {
    "clean": """
        block Unit(c, k = 1)(x) {
          z = y -> relu
          y = x -> conv2d(c, k, padding=(k - 1) // 2)
          _side = x -> conv2d(c, 1)
          unused spare = x -> conv2d(c, 3)
          a, b = [c, k]
          return z + _side if a > 0 and b > 0 else z
        }
        input x: [N, 3, 16, 16]
        output y = x -> Unit(8) -> Unit(8, 3) -> Unit(16, 3) -> Unit(16, 5)
        """,
    "unused names": """
        block Unit(c)(x, skip) {
          y = x -> conv2d(c, 1)
          lost = x -> conv2d(c, 3)
          return y
        }
        input x: [N, 3, 16, 16]
        output y = Unit(x, x, 8) -> relu
        output z = Unit(x, x, 16) -> relu
        """,
    "misspelt": """
        block Unit(c)(x) {
          width2 = c * 2
          return x -> conv2d(widht2, 1)
        }
        input x: [N, 3, 16, 16]
        output y = x -> Unit(8) -> Unit(16)
        """,
    "assigned twice": """
        block Unit(c)(x) {
          y = x -> conv2d(c, 1)
          y = x -> conv2d(c, 3)
          return y
        }
        input x: [N, 3, 16, 16]
        output y = x -> Unit(8) -> Unit(16)
        """,
    "parameter assigned": """
        block Unit(c)(x) {
          c = 4
          return x -> conv2d(c, 1)
        }
        input x: [N, 3, 16, 16]
        output y = x -> Unit(8) -> Unit(16)
        """,
    "reads itself": """
        block Unit(c)(x) {
          y = y -> conv2d(c, 1)
          return y
        }
        input x: [N, 3, 16, 16]
        output y = x -> Unit(8) -> Unit(16)
        """,
    "unused read": """
        block Unit(c)(x) {
          unused spare = x -> conv2d(c, 3)
          return spare -> relu
        }
        input x: [N, 3, 16, 16]
        output y = x -> Unit(8) -> Unit(16)
        """,
}


@pytest.mark.parametrize("reuse", [True, False], ids=["reuse", "every instance evaluated"])
@pytest.mark.parametrize("name", list(SPECS))
def test_a_body_declared_before_gives_what_declaring_it_again_gives(name, reuse, monkeypatch):
    monkeypatch.setattr(instances, "REUSE_INSTANCES", reuse)
    text = "model M\n" + textwrap.dedent(SPECS[name])
    spec = parse_text(text, "dsl", "spec.arch")
    monkeypatch.setattr(elaboration, "_DECLARED", {})
    first = _outcome(spec)  # the first instance of each block declares it, the others reuse that
    again = _outcome(spec)  # every instance reuses the first elaboration's facts
    monkeypatch.setattr(elaboration, "_DECLARED", _Forgetful())
    alone = _outcome(spec)  # each instance declares its body itself
    assert first == again == alone


def test_declared_facts_are_kept_only_for_bodies_declared_without_errors(monkeypatch):
    monkeypatch.setattr(elaboration, "_DECLARED", {})
    for name in ("clean", "unused names", "misspelt", "assigned twice", "parameter assigned", "reads itself"):
        _outcome(parse_text("model M\n" + textwrap.dedent(SPECS[name]), "dsl", "spec.arch"))
    kept = {id(entry[0]) for entry in elaboration._DECLARED.values()}
    assert len(kept) == 3  # clean, unused names, misspelt: their bodies reported nothing while declared


def test_the_time_limit_still_stops_a_body_of_plain_names(monkeypatch):
    """Names and numbers are no steps of their own (Evaluator.eval): the expressions around them
    still are, so a long evaluation made of little else is still stopped."""
    monkeypatch.setenv("ARCHC_MAX_EVAL_SECONDS", "0.05")
    errors = errors_of("""\
        block Stage(n)(x) {
          _k = sum([n for i in range(20000)])
          return x if n == 1 else x -> relu -> Stage(n - 1)
        }
        input x: [N, 3, 8, 8]
        output y = x -> Stage(900)
        """)
    assert [e.code for e in errors] == ["E-LIMIT-TIME"] and errors[0].loc.line == 2


# ------------------------------------------------------------------ comprehensions

def _widths(expr: str) -> list[int]:
    """The widths of the linear layers made from a list `expr` (a spec expression)."""
    model = load(f"""\
        block Head(widths)(x) {{
          return x -> repeat(len(widths), linear(widths[i]))
        }}
        input x: [N, 4]
        output y = x -> Head({expr})
        """)
    return [d["layer"].shape[1] for d in model.graph.dag.nodes.values() if d["layer"].op_name == "linear"]


@pytest.mark.parametrize("expr, widths", [
    ("[i + 1 for i in range(4)]", [1, 2, 3, 4]),
    ("[i * 10 + j for i in range(1, 4) for j in range(i)]", [10, 20, 21, 30, 31, 32]),
    ("[c for r, c in [[1, 5], [2, 6], [3, 7]] if r != 2]", [5, 7]),
    ("[c * j for r, c in [[1, 5], [2, 6]] for j in range(1, r + 1) if j != 0 if c > 5]", [6, 12]),
    ("[1 + i + j for i in range(2) for j in [i * 5, i * 7]]", [1, 1, 7, 9]),
    ("[i for i in [i * 2 for i in range(1, 3)] for k in range(i)]", [2, 2, 4, 4, 4, 4]),
])
def test_comprehensions_bind_their_items_as_python_does(expr, widths):
    assert _widths(expr) == widths
    assert eval(expr) == widths  # the same expression, in Python


def test_a_comprehension_name_is_not_seen_after_it():
    errors = errors_of("""\
        block Head(n)(x) {
          _widths = [i for i in range(n)]
          return x -> linear(i + 1)
        }
        input x: [N, 4]
        output y = x -> Head(3)
        """)
    assert [e.code for e in errors] == ["E-NAME-UNKNOWN"] and "'i'" in errors[0].message


def test_an_unknown_name_in_a_comprehension_suggests_its_names():
    errors = errors_of("""\
        input x: [N, 4]
        widths = [width * 2 for width in [1, 2] if widht + 1 > 0]
        output y = x -> linear(widths[0])
        """)
    assert [e.code for e in errors] == ["E-NAME-UNKNOWN"] and "'widht'" in errors[0].message
    assert "'width'" in errors[0].hint


def test_declared_facts_serve_only_a_body_seeing_the_same_names(monkeypatch):
    """Two blocks with one body (as a front end might share it), the second with a parameter
    the body assigns: its instance reports the reassignment, as declaring it alone does."""
    spec = parse_text(textwrap.dedent("""\
        model M
        block A(c)(x) {
          y = x -> conv2d(c, 1)
          return y
        }
        block B(c, y)(x) {
          return x
        }
        input x: [N, 3, 8, 8]
        output o = x -> A(8) -> B(4, 2)
        """), "dsl", "spec.arch")
    first, second = spec.blocks
    spec = A.replace(spec, blocks=[first, A.replace(second, body=first.body, returns=first.returns)])
    monkeypatch.setattr(elaboration, "_DECLARED", {})
    shared = _outcome(spec)
    monkeypatch.setattr(elaboration, "_DECLARED", _Forgetful())
    assert shared == _outcome(spec)
    assert [error[0] for error in shared[1]] == ["E-NAME-DUPLICATE"]
