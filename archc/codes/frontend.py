"""Catalogue entries of archc/frontend: see archc.codes.

Families: SYNTAX (the text of a spec, in either language, is not a program: the DSL parser, and
the language's rules that both front ends enforce), YAML (the YAML form's own structure) and FILE
(the spec file itself: missing, unreadable, not text)."""
from archc.codes.entry import Code

# A spec that checks clean, the base of most examples.
TINY = """\
model Tiny
input x: [N, 3, 32, 32]
output y = x -> conv2d(16, 3, padding=1) -> relu
"""

TINY_YAML = """\
model: Tiny
inputs:
  x: [N, 3, 32, 32]
outputs:
  y: [x, {conv2d: [16, 3], padding: 1}, relu]
"""

CODES: list[Code] = [
    # ------------------------------------------------------------------------------ SYNTAX
    Code(
        code="E-SYNTAX-UNEXPECTED-TOKEN",
        title="A word, number or symbol where the grammar does not allow one",
        explanation="The parser read a token that cannot follow what comes before it, most often "
                    "because a ',' an operator or a bracket is missing just before it. The message "
                    "says what the parser expected there.",
        hint="check for a missing operator, ',' or bracket just before this point",
        example="""
            model Tiny
            input x: [N, 3, 32, 32]
            output y = x -> conv2d(16 3, padding=1) -> relu
        """,
        fix=TINY,
    ),
    Code(
        code="E-SYNTAX-UNEXPECTED-END",
        title="A statement ends before it is complete",
        explanation="The line (or the file) ends where the statement still needs something: the "
                    "value after '=', the 'else' of a conditional, the operand of an operator. A "
                    "newline ends a statement unless the line ends with an operator, '->' or ','.",
        hint="finish the statement on this line, or end the line with an operator or '->' to "
             "continue it on the next one",
        example="""
            model Tiny
            param wide = true
            input x: [N, 3, 32, 32]
            width = 32 if wide
            output y = x -> conv2d(width, 3, padding=1) -> relu
        """,
        fix="""
            model Tiny
            param wide = true
            input x: [N, 3, 32, 32]
            width = 32 if wide else 16
            output y = x -> conv2d(width, 3, padding=1) -> relu
        """,
    ),
    Code(
        code="E-SYNTAX-UNEXPECTED-CHARACTER",
        title="A character that is not part of the language",
        explanation="The text holds a character that starts no word, number, string or operator "
                    "of the DSL (such as ';', '!', '&', '@' or a stray '{'). Statements end at the "
                    "end of their line; the logical operators are written 'and', 'or', 'not'.",
        hint="names are made of letters, digits and '_'; operators are + - * / // % ** and "
             "comparisons; write 'and', 'or', 'not' for logic",
        example="""
            model Tiny
            input x: [N, 3, 32, 32]
            output y = x -> conv2d(16, 3, padding=1) -> relu;
        """,
        fix=TINY,
    ),
    Code(
        code="E-SYNTAX-UNTERMINATED-STRING",
        title="A string is never closed",
        explanation="A string starts with a quote that has no closing quote on the same line "
                    "(DSL strings do not span lines; a YAML quoted scalar runs to the end of the "
                    "file).",
        hint="close the string with the quote it starts with, on the same line",
        example="""
            model Tiny
            input x: [N, 3, 32, 32]
            output y = x -> conv2d(16, 3, padding=1, name="stem) -> relu
        """,
        fix="""
            model Tiny
            input x: [N, 3, 32, 32]
            output y = x -> conv2d(16, 3, padding=1, name="stem") -> relu
        """,
    ),
    Code(
        code="E-SYNTAX-UNCLOSED-BRACKET",
        title="A '(' or '[' is never closed",
        explanation="The file ends while a parenthesis or a list bracket is still open; inside "
                    "brackets newlines do not end the statement, so everything after it was read "
                    "as part of the same expression. The error points at the opening bracket.",
        hint="add the matching ')' or ']'",
        example="""
            model Tiny
            input x: [N, 3, 32, 32]
            output y = x -> conv2d(16, 3, padding=1 -> relu
        """,
        fix=TINY,
    ),
    Code(
        code="E-SYNTAX-UNMATCHED-BRACKET",
        title="A ')' or ']' closes nothing",
        explanation="A closing bracket has no opening bracket before it in the statement: one "
                    "too many, or its opener is missing.",
        hint="remove the extra bracket, or add its opening '(' or '['",
        example="""
            model Tiny
            input x: [N, 3, 32, 32]
            output y = x -> conv2d(16, 3, padding=1)) -> relu
        """,
        fix=TINY,
    ),
    Code(
        code="E-SYNTAX-RESERVED-WORD",
        title="A reserved word used as a name",
        explanation="Words of the language (model, import, param, input, output, training, block, "
                    "return, if, else, for, in, and, or, not, true, false, none) cannot name a "
                    "tensor, parameter, input, op or keyword; in the DSL the parser reads them as "
                    "the keyword.",
        hint="choose another name (a layer's name=\"...\" may be any string: quote it)",
        example="""
            model Tiny
            input in: [N, 3, 32, 32]
            output y = in -> conv2d(16, 3, padding=1) -> relu
        """,
        fix="""
            model Tiny
            input image: [N, 3, 32, 32]
            output y = image -> conv2d(16, 3, padding=1) -> relu
        """,
    ),
    Code(
        code="E-SYNTAX-OUTPUT-VALUE",
        title="An output with a quoted name has no value",
        explanation="`output y` outputs the tensor named y; a quoted name (`output \"0\" = p2`, "
                    "any text a dict key can be) names no tensor, so its value must follow.",
        hint="write output \"name\" = <tensor>",
        example="""
            model Tiny
            input x: [N, 3, 32, 32]
            y = x -> conv2d(16, 3, padding=1) -> relu
            output "0"
        """,
        fix="""
            model Tiny
            input x: [N, 3, 32, 32]
            y = x -> conv2d(16, 3, padding=1) -> relu
            output "0" = y
        """,
    ),
    Code(
        code="E-SYNTAX-PIPE-TARGET",
        title="The step after '->' is not an op or block call",
        explanation="The right side of '->' (a step of a YAML chain) is one call: an op or block "
                    "name, with or without arguments. A number, string, list or expression "
                    "there has no tensor to take.",
        hint="write the step as a name ('relu'), a call ('conv2d(64, 3)') or, in YAML, a "
             "mapping ({conv2d: [64, 3], stride: 2})",
        example="""
            model Tiny
            input x: [N, 3, 32, 32]
            output y = x -> conv2d(16, 3, padding=1) -> "relu"
        """,
        fix=TINY,
    ),
    Code(
        code="E-SYNTAX-BAD-ESCAPE",
        title="A string escape that is no character",
        explanation="A \\U escape names a code point past \\U0010FFFF, where Unicode ends, so the "
                    "string would hold no character.",
        hint="write the character itself, or a code point up to \\U0010FFFF",
        example=r"""
            model "Tiny \UFFFFFFFF"
            input x: [N, 3, 32, 32]
            output y = x -> conv2d(16, 3, padding=1) -> relu
        """,
        fix=r"""
            model "Tiny \U0001F600"
            input x: [N, 3, 32, 32]
            output y = x -> conv2d(16, 3, padding=1) -> relu
        """,
    ),
    Code(
        code="E-SYNTAX-LONE-SURROGATE",
        title="A lone surrogate, which is no character",
        explanation="Code points D800 to DFFF are halves of UTF-16 pairs, not characters: no UTF-8 "
                    "file, module name or exported model can hold one. archc refuses one written "
                    "as an escape ('\\udcff') or passed in text from the Python API.",
        hint="write the character itself (the file is UTF-8), not its UTF-16 halves",
        example=r"""
            model "Tiny \udcff"
            input x: [N, 3, 32, 32]
            output y = x -> conv2d(16, 3, padding=1) -> relu
        """,
        fix=r"""
            model "Tiny \u00ff"
            input x: [N, 3, 32, 32]
            output y = x -> conv2d(16, 3, padding=1) -> relu
        """,
    ),
    Code(
        code="E-SYNTAX-NUL-CHARACTER",
        title="A NUL character in the model name",
        explanation="The model's name is printed in summaries and written into generated code "
                    "and files, none of which can carry the NUL character ('\\0'): the system "
                    "cuts text there. (A NUL in an import path is E-IMPORT-INVALID-PATH.)",
        hint="remove the \\0",
        example=r"""
            model "Tiny\0"
            input x: [N, 3, 32, 32]
            output y = x -> conv2d(16, 3, padding=1) -> relu
        """,
        fix=TINY,
    ),
    Code(
        code="E-SYNTAX-MODEL-RETURNS",
        title="Something other than `returns dict` after the model's name",
        explanation="The `model` line may say what forward returns: `model FCN returns dict` makes it "
                    "return a dict {output name: tensor} even with one output, as torchvision's "
                    "segmentation models do (`{'out': ...}`). Nothing else may follow the name; in "
                    "YAML, `returns: dict` needs a `model:` name beside it.",
        hint="write `model NAME returns dict`, or nothing after the name",
        example="""
            model Seg returns tensors
            input x: [N, 3, 32, 32]
            output out = x -> conv2d(21, 1)
        """,
        fix="""
            model Seg returns dict
            input x: [N, 3, 32, 32]
            output out = x -> conv2d(21, 1)
        """,
    ),
    Code(
        code="E-SYNTAX-MODEL-NAMED-TWICE",
        title="Two 'model' lines",
        explanation="A spec names its model once; a second 'model' line is usually a leftover of "
                    "pasting two specs together.",
        hint="keep one 'model' line",
        example="""
            model Tiny
            input x: [N, 3, 32, 32]
            model TinyNet
            output y = x -> conv2d(16, 3, padding=1) -> relu
        """,
        fix=TINY,
    ),
    Code(
        code="E-SYNTAX-BLOCK-NO-RETURN",
        title="A block without 'return'",
        explanation="A block gives the tensors its last statement returns; without 'return' it "
                    "would give nothing to the step that uses it.",
        hint="end the block with 'return <tensor>' (YAML: 'return: <tensor>')",
        example="""
            model Tiny
            block ConvRelu(c)(x) {
              y = x -> conv2d(c, 3, padding=1) -> relu
            }
            input x: [N, 3, 32, 32]
            output y = x -> ConvRelu(16)
        """,
        fix="""
            model Tiny
            block ConvRelu(c)(x) {
              y = x -> conv2d(c, 3, padding=1) -> relu
              return y
            }
            input x: [N, 3, 32, 32]
            output y = x -> ConvRelu(16)
        """,
    ),
    Code(
        code="E-SYNTAX-BLOCK-RETURNS-TWICE",
        title="A block returns twice",
        explanation="A block has one 'return' (in YAML: one of 'return' and 'returns'); several "
                    "results are returned together.",
        hint="keep one 'return'; return several values as 'return a, b' (YAML: 'returns: [a, b]')",
        example="""
            model Tiny
            block Halves(c)(x) {
              a, b = x -> conv2d(c, 3, padding=1) -> chunk(2)
              return a
              return b
            }
            input x: [N, 3, 32, 32]
            output y = x -> Halves(16)
        """,
        fix="""
            model Tiny
            block Halves(c)(x) {
              a, b = x -> conv2d(c, 3, padding=1) -> chunk(2)
              return a, b
            }
            input x: [N, 3, 32, 32]
            p, q = x -> Halves(16)
            output y = p + q
        """,
    ),
    Code(
        code="E-SYNTAX-STATEMENT-AFTER-RETURN",
        title="A statement after a block's 'return'",
        explanation="'return' is the last statement of a block; what follows it would never "
                    "reach the result.",
        hint="move the statement before 'return', or delete it",
        example="""
            model Tiny
            block ConvRelu(c)(x) {
              y = x -> conv2d(c, 3, padding=1)
              return y
              z = y -> relu
            }
            input x: [N, 3, 32, 32]
            output y = x -> ConvRelu(16)
        """,
        fix="""
            model Tiny
            block ConvRelu(c)(x) {
              y = x -> conv2d(c, 3, padding=1)
              z = y -> relu
              return z
            }
            input x: [N, 3, 32, 32]
            output y = x -> ConvRelu(16)
        """,
    ),
    Code(
        code="E-SYNTAX-FSTRING-BRACE",
        title="An unbalanced brace in an f-string",
        explanation="In an f-string '{' opens an expression that '}' closes; a brace meant "
                    "literally is written twice ('{{', '}}').",
        hint="close the expression with '}', or double a literal brace: {{ or }}",
        example="""
            model Tiny
            param i = 1
            input x: [N, 3, 32, 32]
            output y = x -> conv2d(16, 3, padding=1, name=f"conv{i") -> relu
        """,
        fix="""
            model Tiny
            param i = 1
            input x: [N, 3, 32, 32]
            output y = x -> conv2d(16, 3, padding=1, name=f"conv{i}") -> relu
        """,
    ),
    Code(
        code="E-SYNTAX-POSITIONAL-AFTER-KEYWORD",
        title="A positional argument after a keyword argument",
        explanation="As in Python, positional arguments come first: after 'name=value' the "
                    "position of a bare value is ambiguous.",
        hint="put positional arguments first, or name this one",
        example="""
            model Tiny
            input x: [N, 3, 32, 32]
            output y = x -> conv2d(16, padding=1, 3) -> relu
        """,
        fix=TINY,
    ),
    # ------------------------------------------------------------------------------ YAML
    Code(
        code="E-YAML-SYNTAX",
        title="The file is not valid YAML",
        explanation="PyYAML cannot read the file: a bracket is not closed, indentation is "
                    "inconsistent, or a plain value contains ': ' or starts with a character "
                    "that YAML reserves ('[', '{', '*', '&', '!', '|', '>', '%', '@').",
        hint="check indentation, and quote values that contain ': ' or start with '[', '{', "
             "'*', '&'",
        lang="yaml",
        example="""
            model: Tiny
            inputs:
              x: [N, 3, 32, 32
            outputs:
              y: [x, {conv2d: [16, 3], padding: 1}, relu]
        """,
        fix=TINY_YAML,
    ),
    Code(
        code="E-YAML-TAB",
        title="A tab character in YAML indentation",
        explanation="YAML indents with spaces only; a tab where indentation is read is an error "
                    "in every YAML parser.",
        hint="indent with spaces (set the editor to insert spaces for tabs)",
        lang="yaml",
        example="model: Tiny\ninputs:\n\tx: [N, 3, 32, 32]\noutputs:\n  y: [x, relu]\n",
        fix="model: Tiny\ninputs:\n  x: [N, 3, 32, 32]\noutputs:\n  y: [x, relu]\n",
    ),
    Code(
        code="E-YAML-MULTIPLE-DOCUMENTS",
        title="Several YAML documents in one spec file",
        explanation="A spec is one YAML document; a '---' line between two mappings starts a "
                    "second one, which archc would otherwise have to ignore.",
        hint="a spec is one YAML document; remove the '---' separators (or split the file)",
        lang="yaml",
        example="""
            model: Tiny
            inputs:
              x: [N, 3, 32, 32]
            ---
            outputs:
              y: [x, {conv2d: [16, 3], padding: 1}, relu]
        """,
        fix=TINY_YAML,
    ),
    Code(
        code="E-YAML-UNKNOWN-KEY",
        title="A key that a YAML spec or block does not have",
        explanation="The top level of a YAML spec takes model, imports, params, inputs, blocks, "
                    "body, outputs and training_outputs; a block takes params, inputs, body, "
                    "return and returns. Another key is usually a misspelling, which would "
                    "otherwise silently drop its section.",
        hint="use one of the keys the message lists (check the spelling)",
        lang="yaml",
        example="""
            model: Tiny
            inputs:
              x: [N, 3, 32, 32]
            output:
              y: [x, {conv2d: [16, 3], padding: 1}, relu]
        """,
        fix=TINY_YAML,
    ),
    Code(
        code="E-YAML-DUPLICATE-KEY",
        title="A key given twice in one YAML mapping",
        explanation="In a YAML mapping each key appears once; PyYAML would keep the last value "
                    "and drop the first without a word, so archc refuses it.",
        hint="keep one of them, or rename one (each key may appear once)",
        lang="yaml",
        example="""
            model: Tiny
            inputs:
              x: [N, 3, 32, 32]
            body:
              h: [x, {conv2d: [16, 3], padding: 1}, relu]
              h: [h, {conv2d: [16, 3], padding: 1}, relu]
            outputs:
              y: h
        """,
        fix="""
            model: Tiny
            inputs:
              x: [N, 3, 32, 32]
            body:
              h1: [x, {conv2d: [16, 3], padding: 1}, relu]
              h2: [h1, {conv2d: [16, 3], padding: 1}, relu]
            outputs:
              y: h2
        """,
    ),
    Code(
        code="E-YAML-NOT-A-NAME",
        title="A YAML key or value that should be a name is not one",
        explanation="Tensor, input, parameter, block, op and keyword names are identifiers: "
                    "letters, digits and '_', not starting with a digit (a layer's name= may be "
                    "any text). A list or mapping cannot be a key.",
        hint="write a plain word of letters, digits and '_' (e.g. 'conv_1', not 'conv-1')",
        lang="yaml",
        example="""
            model: Tiny
            inputs:
              x: [N, 3, 32, 32]
            body:
              conv-1: [x, {conv2d: [16, 3], padding: 1}, relu]
            outputs:
              y: conv-1
        """,
        fix="""
            model: Tiny
            inputs:
              x: [N, 3, 32, 32]
            body:
              conv_1: [x, {conv2d: [16, 3], padding: 1}, relu]
            outputs:
              y: conv_1
        """,
    ),
    Code(
        code="E-YAML-WRONG-TYPE",
        title="A YAML value of the wrong kind (list, mapping or scalar)",
        explanation="Each part of a YAML spec has one shape: inputs, params, body, outputs and "
                    "blocks are mappings, an input's shape is a list, a call is a mapping of op "
                    "to arguments, a chain a non-empty list. Another shape has no meaning there.",
        hint="write the section in the shape the message names (docs/language.md shows both "
             "languages side by side)",
        lang="yaml",
        example="""
            model: Tiny
            inputs: [N, 3, 32, 32]
            outputs:
              y: [x, {conv2d: [16, 3], padding: 1}, relu]
        """,
        fix=TINY_YAML,
    ),
    Code(
        code="E-YAML-NESTING-TOO-DEEP",
        title="A YAML value nested too deeply",
        explanation="The YAML parser reads lists and mappings nested at most 1,000 levels deep; no "
                    "real spec nests more than a few (a deeper file is generated or hostile).",
        hint="flatten the deepest lists or mappings, e.g. into several parameters",
        lang="yaml",
        example="model: Tiny\nparams:\n  deep: " + "[" * 1000 + "]" * 1000 + "\n" + TINY_YAML[12:],
        fix="model: Tiny\nparams:\n  deep: [[[]]]\n" + TINY_YAML[12:],
    ),
    Code(
        code="E-YAML-ALIAS-CYCLE",
        title="A YAML alias that contains itself",
        explanation="An anchor (&name) used (*name) inside the value it marks makes an infinite "
                    "value, which nothing could walk or print.",
        hint="an anchor (&name) cannot be used (*name) inside what it marks",
        lang="yaml",
        example="""
            model: Tiny
            params:
              widths: &w [16, *w]
            inputs:
              x: [N, 3, 32, 32]
            outputs:
              y: [x, {conv2d: [16, 3], padding: 1}, relu]
        """,
        fix="""
            model: Tiny
            params:
              widths: &w [16, 32]
              again: *w
            inputs:
              x: [N, 3, 32, 32]
            outputs:
              y: [x, {conv2d: [16, 3], padding: 1}, relu]
        """,
    ),
    Code(
        code="E-YAML-ALIAS-EXPANSION",
        title="YAML aliases expand to too many values",
        explanation="Aliases (*name) repeat what their anchor (&name) marks, so aliases of "
                    "aliases grow exponentially (the \"billion laughs\" file). archc refuses a "
                    "document that expands past ARCHC_MAX_YAML_NODES values (default 200,000, "
                    "far above any real spec) before building it.",
        hint="use fewer aliases (a parameter and a list comprehension repeat values without "
             "them); for a spec really this large, raise ARCHC_MAX_YAML_NODES",
        lang="yaml",
        env={"ARCHC_MAX_YAML_NODES": "40"},
        example="""
            model: Tiny
            params:
              stage: &stage [16, 16, 32, 32]
              stages: [*stage, *stage, *stage, *stage]
            inputs:
              x: [N, 3, 32, 32]
            outputs:
              y: [x, {conv2d: [16, 3], padding: 1}, relu]
        """,
        fix="""
            model: Tiny
            params:
              stage: &stage [16, 16, 32, 32]
              stages: [*stage, *stage, *stage, *stage]
            inputs:
              x: [N, 3, 32, 32]
            outputs:
              y: [x, {conv2d: [16, 3], padding: 1}, relu]
        """,
        fix_env={"ARCHC_MAX_YAML_NODES": "1000"},
    ),
    # ------------------------------------------------------------------------------ FILE
    Code(
        code="E-FILE-NOT-FOUND",
        title="The spec file does not exist",
        explanation="No file has the given path (relative to the current folder on the command "
                    "line, to the importing file for an import).",
        hint="check the path (imports are relative to the importing file)",
        example=TINY,
        argv=("check", "{dir}/tiny.arch"),
        fix=TINY,
        fix_argv=("check", "{spec}"),
    ),
    Code(
        code="E-FILE-IS-DIRECTORY",
        title="The spec path names a folder",
        explanation="A spec is one file; a folder holds specs but is not one.",
        hint="name a .arch or .yaml file (the spec itself, not its folder)",
        example=TINY,
        argv=("check", "{dir}"),
        fix=TINY,
        fix_argv=("check", "{spec}"),
    ),
    Code(
        code="E-FILE-UNREADABLE",
        title="The spec file cannot be read",
        explanation="The system refused to open or read the file: no permission, a path through "
                    "something that is not a folder, or an input/output error. The message gives "
                    "the system's reason.",
        hint="check the path and its permissions",
        example=TINY,
        argv=("check", "{spec}/blocks.arch"),
        fix=TINY,
        fix_argv=("check", "{spec}"),
    ),
    Code(
        code="E-FILE-UNKNOWN-LANGUAGE",
        title="The spec's language cannot be told from its file name",
        explanation="archc reads '*.arch' files as the DSL and '*.yaml' or '*.yml' files as "
                    "YAML; for any other name it would have to guess.",
        hint="name DSL specs '*.arch' and YAML specs '*.yaml' or '*.yml' (or pass --lang)",
        example={"tiny.txt": TINY},
        fix={"tiny.arch": TINY},
    ),
    Code(
        code="E-FILE-NOT-UTF8",
        title="The spec file is not UTF-8 text",
        explanation="Spec files are UTF-8. A file saved in another encoding (Latin-1, UTF-16) or "
                    "a binary file has bytes that are not UTF-8, which archc would otherwise "
                    "read as the wrong characters.",
        hint="save it as UTF-8 from your editor, or convert it with "
             "'iconv -f <its encoding> -t UTF-8'",
        example="""
            # Tiny: a café-sized network
            model Tiny
            input x: [N, 3, 32, 32]
            output y = x -> conv2d(16, 3, padding=1) -> relu
        """,
        # the example, saved as Latin-1 by an old editor
        api='from pathlib import Path; latin1 = Path(folder, "latin1.arch"); '
            'latin1.write_bytes(Path(spec).read_text("utf-8").encode("latin-1")); '
            'archc.load(latin1)',
    ),
    Code(
        code="E-FILE-TOO-LARGE",
        title="The spec file is larger than 16 MiB",
        explanation="A spec is a text file of statements, kilobytes long; a path that names "
                    "something of 16 MiB or more (a device, a weights file, a dump) is not one, "
                    "and reading all of it could exhaust memory.",
        hint="a spec is a text file of statements; check that the path names one (not a device "
             "or a data file)",
        example=TINY,
        argv=("check", "--lang", "arch", "/dev/zero"),
        fix=TINY,
        fix_argv=("check", "{spec}"),
    ),
    Code(
        code="E-FILE-BAD-NAME",
        title="The spec path is not a valid file name",
        explanation="The path holds a character no file name can (a NUL byte, or a lone "
                    "surrogate the system cannot encode); this comes from a path built in "
                    "Python, never typed in a shell.",
        hint="remove NUL bytes and invalid characters from the path",
        example=TINY,
        api='archc.load(folder + "/model\\0.arch")',
    ),
]
