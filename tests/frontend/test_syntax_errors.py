"""Each rule that explains a syntax error (archc/frontend/syntax_errors.py) on a minimal `.arch`
text that reaches it, and no earlier rule: the rule that fires, its message, hint, code and place.
A rule without a case here fails `test_every_rule_has_a_case`."""
from __future__ import annotations

from typing import NamedTuple

import pytest

from archc.errors import SpecErrors
from archc.frontend import parse_dsl, syntax_errors


class Case(NamedTuple):
    rule: str
    text: str
    message: str
    hint: str
    code: str
    at: tuple[int, int]  # line, column


CASES = [
    Case('unterminated-string', 'input x: [1, 3, 8, 8]\noutput y = x -> relu(name="a)\n',
         'unterminated string',
         'close the string with " on the same line',
         'E-SYNTAX-UNTERMINATED-STRING', (2, 27)),
    Case('unexpected-character', 'input x: [1, 3, 8, 8]\noutput y = x -> relu;\n',
         "unexpected character ';'",
         'put each statement on its own line',
         'E-SYNTAX-UNEXPECTED-CHARACTER', (2, 21)),
    Case('pipe-target', 'input x: [1, 3, 8, 8]\noutput y = x -> 3\n',
         "expected an op or block call after '->', found number 3",
         "the right side of '->' is one call, such as 'relu' or 'conv2d(64, 3)'",
         'E-SYNTAX-PIPE-TARGET', (2, 17)),
    Case('pipe-without-input', 'input x: [1, 3, 8, 8]\noutput y = -> relu\n',
         "unexpected '->'; expected an expression",
         "'->' needs a tensor on its left, e.g. 'y = x -> relu'",
         'E-SYNTAX-UNEXPECTED-TOKEN', (2, 12)),
    Case('pipe-result-operand', 'input x: [1, 3, 8, 8]\noutput y = x -> relu + x\n',
         "unexpected '+'; expected end of line or an operator",
         "'->' binds looser than arithmetic and its right side is a single call; to use the pipe's result, "
         "parenthesise it: '(x -> f) + y'",
         'E-SYNTAX-UNEXPECTED-TOKEN', (2, 22)),
    Case('chained-comparison', 'param a = 1 < 2 < 3\n',
         "unexpected '<'; expected '->', end of line, 'and', 'if' or 'or'",
         "comparisons do not chain: write 'a < b and b < c'",
         'E-SYNTAX-UNEXPECTED-TOKEN', (1, 17)),
    Case('assign-for-compare', 'param a = 1 if a = 2 else 3\n',
         "unexpected '='; expected 'else' or an operator",
         "use '==' to compare; '=' only assigns (or names a keyword argument)",
         'E-SYNTAX-UNEXPECTED-TOKEN', (1, 18)),
    Case('return-outside-block', 'return x\n',
         "unexpected keyword 'return'; expected a name, 'block', 'import', 'input', 'model', 'output', 'param', "
         "'training' or end of file",
         "'return' is only allowed inside a block",
         'E-SYNTAX-UNEXPECTED-TOKEN', (1, 1)),
    Case('reserved-layer-name', 'input x: [1, 3, 8, 8]\noutput y = x -> relu(name=input)\n',
         "unexpected keyword 'input' in the arguments of 'relu'; expected an expression",
         '\'input\' is a reserved word; quote the layer name: name="input"',
         'E-SYNTAX-RESERVED-WORD', (2, 27)),
    Case('top-level-statement-in-block', 'block B(c)(x) {\n  param p = 1\n  return x\n}\n',
         "unexpected keyword 'param'; expected a name, 'return' or '}'",
         "'param' statements belong at the top level, outside blocks",
         'E-SYNTAX-UNEXPECTED-TOKEN', (2, 3)),
    Case('reserved-word-as-name', 'param if = 1\n',
         "unexpected keyword 'if'; expected a name",
         "'if' is a reserved word; choose another name",
         'E-SYNTAX-RESERVED-WORD', (1, 7)),
    Case('reserved-word-before', 'input x: [1, 3, 8, 8]\noutput = x\n',
         "unexpected '='; expected a name or a string",  # an output's name may be quoted text
         "'output' is a reserved word; choose another name",
         'E-SYNTAX-RESERVED-WORD', (2, 8)),
    Case('unmatched-bracket', 'param a = 1)\n',
         "unexpected ')'; expected end of line",
         "this ')' has no matching '('",
         'E-SYNTAX-UNMATCHED-BRACKET', (1, 12)),
    Case('empty-before-comma', 'param a = [1, , 2]\n',
         "unexpected ',' in a list; expected ']' or an expression",
         "something is missing before this ','",
         'E-SYNTAX-UNEXPECTED-TOKEN', (1, 15)),
    Case('unnamed-result', 'input x: [1, 3, 8, 8]\nrelu(x)\n',
         "unexpected '('; expected ',' or '='",
         "a statement must name its result, e.g. 'y = f(x)'",
         'E-SYNTAX-UNEXPECTED-TOKEN', (2, 5)),
    Case('block-one-group', 'block Head(x) {\n  return x -> relu\n}\n',
         "unexpected '{'; expected '('",
         "a block takes its parameters, then its inputs: block Head()(x) {",
         'E-SYNTAX-UNEXPECTED-TOKEN', (1, 15)),
    Case('conditional-without-else', 'param a = 1 if true\n',
         "unexpected end of line; expected 'else' or 'or'",
         "a conditional needs both branches: 'a if cond else b'",
         'E-SYNTAX-UNEXPECTED-END', (1, 20)),
    Case('unclosed-bracket', 'param a = [1, 2',
         "'[' is never closed",
         "add the matching ']'",
         'E-SYNTAX-UNCLOSED-BRACKET', (1, 11)),
    Case('bracket-still-open', 'param a = [1, 2\n  3]\n',
         "unexpected number 3 in a list; expected ']', ',' or an operator",
         "is a ']' missing? the '[' at line 1, column 11 is still open",
         'E-SYNTAX-UNEXPECTED-TOKEN', (2, 3)),
    Case('missing-comma', 'param a = [1 2]\n',
         "unexpected number 2 in a list; expected ']', ',', 'for' or an operator",
         "separate arguments and list items with ','",
         'E-SYNTAX-UNEXPECTED-TOKEN', (1, 14)),
    Case('missing-value', 'param a =\n',
         'unexpected end of line; expected an expression',
         "give a value after '='",
         'E-SYNTAX-UNEXPECTED-END', (1, 10)),
    Case('missing-operator', 'param a = 1 2\n',
         'unexpected number 2; expected end of line or an operator',
         'a statement ends with its line; is an operator missing?',
         'E-SYNTAX-UNEXPECTED-TOKEN', (1, 13)),
    Case('incomplete', 'param a = 1 +\n',
         'unexpected end of line; expected an expression',
         "this is incomplete; finish it on this line, or end the line with an operator or '->' to continue on "
         "the next one",
         'E-SYNTAX-UNEXPECTED-END', (1, 14)),
    Case('misplaced-token', 'param a = 1 :\n',
         "unexpected ':'; expected end of line",
         "check for a missing operator, ',' or bracket just before this point",
         'E-SYNTAX-UNEXPECTED-TOKEN', (1, 13)),
]

RULES = [*syntax_errors.CHARACTER_RULES, *syntax_errors.TOKEN_RULES]


def test_every_rule_has_a_case() -> None:
    names = [rule.name for rule in RULES]
    assert len(set(names)) == len(names), "two rules share a name"
    assert sorted(case.rule for case in CASES) == sorted(names)


def test_each_table_ends_with_a_rule_that_always_applies() -> None:
    for table in (syntax_errors.CHARACTER_RULES, syntax_errors.TOKEN_RULES):
        assert table[-1].applies(None)


@pytest.mark.parametrize("case", CASES, ids=[case.rule for case in CASES])
def test_rule(case: Case, monkeypatch) -> None:
    fired: list[str] = []
    first_match = syntax_errors.first_match

    def spy(rules, context):
        rule = first_match(rules, context)
        fired.append(rule.name)
        return rule

    monkeypatch.setattr(syntax_errors, "first_match", spy)
    with pytest.raises(SpecErrors) as info:
        parse_dsl(case.text, "t.arch")
    [error] = info.value.errors
    assert fired == [case.rule]
    assert (error.message, error.hint, error.code) == (case.message, case.hint, case.code)
    assert (error.loc.file, error.loc.line, error.loc.col) == ("t.arch", *case.at)


@pytest.mark.parametrize("header, hint, fixed, preferred", [
    ("block Head(x) {", "block Head()(x) {", "block Head()(x) {", True),
    ("block Head(c, x,) {", "block Head(params)(inputs) {; with no parameters: block Head()(c, x) {",
     "block Head()(c, x,) {", False),
    ("block Head(c=3, d=[1, 2]) {", "block Head(c=3, d=[1, 2])(inputs) {", None, False),
])
def test_block_with_one_bracket_group(header: str, hint: str, fixed: str | None, preferred: bool) -> None:
    """`block Name(...)` without its second group: the hint shows the whole form; plain names are
    offered as the inputs (a fix, preferred for one name only)."""
    from archc import fixes
    text = f"input x: [1, 3, 8, 8]\n{header}\n  return x\n}}\noutput y = x -> Head()\n"
    with pytest.raises(SpecErrors) as info:
        parse_dsl(text, "t.arch")
    [error] = info.value.errors
    assert error.hint == f"a block takes its parameters, then its inputs: {hint}"
    if fixed is None:
        assert error.fixes == []
        return
    [fix] = error.fixes
    assert fix.preferred is preferred
    new, applied = fixes.apply(text, "t.arch", error.fixes)
    assert applied == [fix] and new.splitlines()[1] == fixed
    if preferred:
        parse_dsl(new, "t.arch")  # parses now
