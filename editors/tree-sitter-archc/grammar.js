/**
 * Tree-sitter grammar for archc's `.arch` DSL.
 *
 * It follows archc/frontend/dsl.lark (the reference grammar, parsed with lark) and the newline
 * rules of archc/frontend/dsl.py's post-lexer. Statements end at a newline, which the external
 * scanner (src/scanner.c) emits only where the parser can end a statement: so a newline inside
 * ( ) or [ ], or after an operator, `->`, `,`, `=`, `if`, `else`, `and` or `or`, never ends one,
 * and the scanner also lets a statement continue when the next line starts with `->`, `else`,
 * `if`, `and`, `or`, `.`, `,` or a binary operator. Unlike lark, keywords are contextual here (a
 * highlighting grammar may accept a little more than archc does). `unused` (`unused f4 = ...`)
 * and `returns` (`model FCN returns dict`) are words only where they mean something.
 */

const PREC = {
  or: 1,
  and: 2,
  not: 3,
  compare: 4,
  pipe: 5,
  plus: 6,
  times: 7,
  unary: 8,
  power: 9,
  postfix: 10,
};

const commaSep1 = (rule) => seq(rule, repeat(seq(',', rule)));
const commaSep = (rule) => optional(seq(commaSep1(rule), optional(',')));

module.exports = grammar({
  name: 'archc',

  externals: $ => [
    $._newline,
    $._error_sentinel,
  ],

  extras: $ => [
    $.comment,
    /[ \t\f\r\n]/,
    /\\[ \t\f]*\r?\n/,
  ],

  word: $ => $.identifier,

  supertypes: $ => [
    $._statement,
    $.expression,
  ],

  rules: {
    source_file: $ => repeat(seq($._statement, $._newline)),

    _statement: $ => choice(
      $.model_statement,
      $.import_statement,
      $.param_statement,
      $.input_statement,
      $.output_statement,
      $.assignment,
      $.unused_assignment,
      $.block_definition,
    ),

    // `model ResNet18`, `model "U-Net"`, `model FCN returns dict`
    model_statement: $ => seq(
      'model',
      field('name', choice($.identifier, $.string)),
      optional(seq('returns', field('returns', $.identifier))),
    ),

    import_statement: $ => seq('import', field('path', $.string)),

    param_statement: $ => seq(
      'param',
      field('name', $.identifier),
      optional(seq('=', field('value', $.expression))),
    ),

    input_statement: $ => seq(
      'input',
      field('name', $.identifier),
      ':',
      field('shape', $.list),
    ),

    output_statement: $ => seq(
      optional('training'),
      'output',
      field('name', choice($.identifier, $.string)),
      optional(seq('=', field('value', $.expression))),
    ),

    // `h = x -> relu`, `a, b = x -> chunk(2)`; `unused = x -> relu` assigns a tensor named unused
    assignment: $ => seq(
      field('name', choice($.identifier, alias('unused', $.identifier))),
      repeat(seq(',', field('name', $.identifier))),
      '=',
      field('value', $.expression),
    ),

    // `unused f4 = f3 -> Stage(512, name=layer4)`: modules built but never run
    unused_assignment: $ => seq(
      'unused',
      field('name', $.identifier),
      '=',
      field('value', $.expression),
    ),

    // block Name(params)(inputs) { ... }
    block_definition: $ => seq(
      'block',
      field('name', $.identifier),
      field('parameters', $.parameters),
      field('inputs', $.inputs),
      field('body', $.block_body),
    ),

    parameters: $ => seq('(', commaSep($.parameter), ')'),

    parameter: $ => seq(
      field('name', $.identifier),
      optional(seq('=', field('default', $.expression))),
    ),

    inputs: $ => seq('(', commaSep($.identifier), ')'),

    // a newline right after `{` is dropped, one is implied before `}`
    block_body: $ => seq(
      '{',
      repeat(seq($._block_statement, $._newline)),
      optional($._block_statement),
      '}',
    ),

    _block_statement: $ => choice(
      $.assignment,
      $.unused_assignment,
      $.return_statement,
    ),

    return_statement: $ => seq('return', commaSep1($.expression)),

    // ------------------------------------------------------------------------- expressions

    expression: $ => choice(
      $.conditional_expression,
      $._simple_expression,
    ),

    // everything but `x if c else y` (a comprehension's iterable and filters, operands)
    _simple_expression: $ => choice(
      $.boolean_operator,
      $.not_operator,
      $.comparison_operator,
      $.pipe,
      $.binary_operator,
      $.unary_operator,
      $.attribute,
      $.subscript,
      $.call,
      $.identifier,
      $.integer,
      $.float,
      $.string,
      $.fstring,
      $.true,
      $.false,
      $.none,
      $.list,
      $.list_comprehension,
      $.parenthesized_expression,
    ),

    conditional_expression: $ => seq(
      field('consequence', $._simple_expression),
      'if',
      field('condition', $._simple_expression),
      'else',
      field('alternative', $.expression),
    ),

    boolean_operator: $ => choice(
      prec.left(PREC.or, seq(field('left', $._simple_expression), field('operator', 'or'),
        field('right', $._simple_expression))),
      prec.left(PREC.and, seq(field('left', $._simple_expression), field('operator', 'and'),
        field('right', $._simple_expression))),
    ),

    not_operator: $ => prec(PREC.not, seq('not', field('argument', $._simple_expression))),

    comparison_operator: $ => prec.left(PREC.compare, seq(
      field('left', $._simple_expression),
      field('operator', choice('==', '!=', '<', '<=', '>', '>=')),
      field('right', $._simple_expression),
    )),

    // x -> conv2d(64, 3): the right side is one call or a bare name
    pipe: $ => prec.left(PREC.pipe, seq(
      field('input', $._simple_expression),
      '->',
      field('layer', choice($.identifier, $.call)),
    )),

    binary_operator: $ => choice(
      ...[['+', PREC.plus], ['-', PREC.plus], ['*', PREC.times], ['/', PREC.times],
        ['//', PREC.times], ['%', PREC.times]].map(([op, p]) => prec.left(p, seq(
        field('left', $._simple_expression),
        field('operator', op),
        field('right', $._simple_expression),
      ))),
      prec.right(PREC.power, seq(
        field('left', $._simple_expression),
        field('operator', '**'),
        field('right', $._simple_expression),
      )),
    ),

    unary_operator: $ => prec(PREC.unary, seq(
      field('operator', choice('+', '-')),
      field('argument', $._simple_expression),
    )),

    attribute: $ => prec(PREC.postfix, seq(
      field('object', $._simple_expression),
      '.',
      field('attribute', $.identifier),
    )),

    // x[i], x[:, :c], x[:, 1:-1:2]
    subscript: $ => prec(PREC.postfix, seq(
      field('value', $._simple_expression),
      '[',
      commaSep1(field('index', choice($.expression, $.slice))),
      ']',
    )),

    slice: $ => seq(
      optional(field('start', $.expression)),
      ':',
      optional(field('stop', $.expression)),
      optional(seq(':', optional(field('step', $.expression)))),
    ),

    // only a name can be called
    call: $ => prec(PREC.postfix, seq(
      field('function', $.identifier),
      field('arguments', $.argument_list),
    )),

    argument_list: $ => seq('(', commaSep(choice($.expression, $.keyword_argument)), ')'),

    keyword_argument: $ => seq(
      field('name', $.identifier),
      '=',
      field('value', $.expression),
    ),

    list: $ => seq('[', commaSep($.expression), ']'),

    // [c for r, c in rows for j in range(r) if j > 0]
    list_comprehension: $ => seq(
      '[',
      field('body', $.expression),
      repeat1($.for_clause),
      ']',
    ),

    for_clause: $ => seq(
      'for',
      commaSep1(field('left', $.identifier)),
      'in',
      field('right', $._simple_expression),
      repeat($.if_clause),
    ),

    if_clause: $ => seq('if', $._simple_expression),

    parenthesized_expression: $ => seq('(', $.expression, ')'),

    // ------------------------------------------------------------------------- tokens

    identifier: _ => /[A-Za-z_][A-Za-z0-9_]*/,

    integer: _ => /\d(_?\d)*/,

    float: _ => token(choice(
      /(\d(_?\d)*)?\.\d(_?\d)*([eE][+-]?\d+)?/,
      /\d(_?\d)*[eE][+-]?\d+/,
    )),

    string: _ => token(choice(
      /"([^"\\\n]|\\.)*"/,
      /'([^'\\\n]|\\.)*'/,
    )),

    // f"block{k}-{j}": text with expressions in braces; {{ and }} are literal braces
    fstring: $ => choice(
      seq(
        alias('f"', '"'),
        repeat(choice(
          alias($._fstring_text_double, $.string_content),
          $.escape_sequence,
          $.interpolation,
        )),
        alias(token.immediate('"'), '"'),
      ),
      seq(
        alias("f'", "'"),
        repeat(choice(
          alias($._fstring_text_single, $.string_content),
          $.escape_sequence,
          $.interpolation,
        )),
        alias(token.immediate("'"), "'"),
      ),
    ),

    _fstring_text_double: _ => token.immediate(prec(2, /([^"\\{}\n]|\{\{|\}\})+/)),
    _fstring_text_single: _ => token.immediate(prec(2, /([^'\\{}\n]|\{\{|\}\})+/)),

    escape_sequence: _ => token.immediate(prec(2, /\\./)),

    interpolation: $ => seq(
      token.immediate('{'),
      field('expression', $.expression),
      '}',
    ),

    true: _ => choice('true', 'True'),
    false: _ => choice('false', 'False'),
    none: _ => choice('none', 'None'),

    comment: _ => token(seq('#', /[^\n]*/)),
  },
});
