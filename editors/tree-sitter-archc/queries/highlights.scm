; Highlights for the tree-sitter CLI (`tree-sitter highlight`) and editors that use its standard
; capture names. The first pattern that matches a node wins, so specific patterns come first.
; Neovim: queries/archc/highlights.scm; Helix: helix/runtime/queries/archc/highlights.scm.

(comment) @comment

; a block's definition and its instances (block names start with a capital letter)
(block_definition name: (identifier) @type)
(call function: (identifier) @constructor (#match? @constructor "^[A-Z]"))
(pipe layer: (identifier) @constructor (#match? @constructor "^[A-Z]"))
(model_statement name: (_) @type)
(model_statement returns: (identifier) @type.builtin)

; built-in functions on numbers and lists, and the special forms
(call function: (identifier) @function.builtin
  (#match? @function.builtin "^(min|max|abs|int|float|round|floor|ceil|sqrt|log|make_divisible|len|range|sum|str|repeat|sequential|shared)$"))

; ops: called, or applied by a pipe (`x -> relu`)
(call function: (identifier) @function)
(pipe layer: (identifier) @function)

(parameter name: (identifier) @variable.parameter)
(keyword_argument name: (identifier) @variable.parameter)
(attribute attribute: (identifier) @property)

(param_statement name: (identifier) @constant)
(input_statement name: (identifier) @variable)
(output_statement name: (identifier) @variable)

(integer) @number
(float) @number
(true) @constant.builtin
(false) @constant.builtin
(none) @constant.builtin

(escape_sequence) @string.special
(interpolation ["{" "}"] @punctuation.special)
(fstring) @string
(string) @string

[
  "model" "import" "param" "input" "output" "training" "block" "return" "unused" "returns"
  "if" "else" "for" "in" "and" "or" "not"
] @keyword

["->" "=" "==" "!=" "<" "<=" ">" ">=" "+" "-" "*" "/" "//" "%" "**"] @operator

["(" ")" "[" "]" "{" "}"] @punctuation.bracket
["," "." ":"] @punctuation.delimiter

(identifier) @variable
