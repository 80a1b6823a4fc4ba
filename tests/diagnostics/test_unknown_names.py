"""Every unknown op, block, attribute and block parameter of a statement is reported, where it
is written, with the closest name as the hint; a mistake inside a block is reported once."""
from __future__ import annotations

import textwrap

import pytest

import archc
from archc.errors import SpecError, SpecErrors


def load(text: str, language: str = "arch", **kwargs):
    return archc.loads(textwrap.dedent(text), language, file="spec.arch", **kwargs)


def errors_of(text: str, language: str = "arch") -> list[SpecError]:
    with pytest.raises(SpecErrors) as info:
        load(text, language)
    return info.value.errors


def test_every_unknown_op_and_attribute_of_a_statement_is_reported():
    errs = errors_of("""\
        input x: [N, 3, 32, 32]
        output y = x -> conv2dd(64, 3) -> relu(foo=1) -> batchnrm2d
        """)
    assert [(e.message, e.loc.line, e.loc.col) for e in errs] == [
        ("unknown op or block 'conv2dd'", 2, 17),
        ("relu has no attribute 'foo'", 2, 40),
        ("unknown op or block 'batchnrm2d'", 2, 50)]
    assert "'conv2d'" in errs[0].hint and "it takes no attributes" == errs[1].hint
    assert "'batchnorm2d'" in errs[2].hint


def test_every_unknown_attribute_of_a_call_and_of_a_block_is_reported():
    errs = errors_of("""\
        block Stem(width=8)(x) {
          return x -> conv2d(width, 3, strid=2, paddng=1)
        }
        input x: [N, 3, 32, 32]
        a = x -> Stem(widht=4, dept=2) -> relu
        b = x -> repeat(2, Stem(8), nme=stage) -> maxpool2d(2, strde=2)
        c = x -> Stem(8)
        output y = concat(a, b, c)
        """)
    found = [(e.message, e.loc.line) for e in errs]
    assert found == [("conv2d has no attribute 'strid'", 2), ("conv2d has no attribute 'paddng'", 2),
                     ("block Stem has no parameter 'widht'", 5), ("block Stem has no parameter 'dept'", 5),
                     ("repeat has no attribute 'nme'", 6), ("maxpool2d has no attribute 'strde'", 6)], found
    hints = [e.hint for e in errs]
    assert "'stride'" in hints[0] and "'padding'" in hints[1] and "'width'" in hints[2] and "'name'" in hints[4]


def test_unknown_names_in_yaml_are_all_reported_where_written():
    errs = errors_of("""\
        model: Bad
        inputs:
          x: [N, 3, 32, 32]
        outputs:
          y: [x, {conv2dd: [64, 3]}, {conv2d: [8, 3], strid: 2, paddng: 1}]
        """, "yaml")
    assert [(e.message, e.loc.col) for e in errs] == [("unknown op or block 'conv2dd'", 11),
                                                      ("conv2d has no attribute 'strid'", 47),
                                                      ("conv2d has no attribute 'paddng'", 57)]


def test_a_mistake_in_a_block_is_reported_once_and_valid_names_are_not():
    errs = errors_of("""\
        block B(c)(x) {
          unit = conv2d(c, 3, padding=1)
          return x -> unit -> relu(inplace=true)
        }
        input x: [N, 4, 8, 8]
        output y = x -> B(8) -> B(8, name=second) -> softmax(dim=1)
        """)
    assert [e.message for e in errs] == ["relu has no attribute 'inplace'"]


def test_dependent_statements_stay_silent_but_their_own_unknown_ops_are_reported():
    errs = errors_of("""\
        input x: [N, 3, 8, 8]
        a = x -> conv2d(8, 9)
        b = a -> relu -> conv2d(4, 3)
        c = a -> linearr(3)
        output y = concat(b, c)
        """)
    assert len(errs) == 2 and "kernel 9" in errs[0].message and "linearr" in errs[1].message
