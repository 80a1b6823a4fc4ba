; Highlights for Helix (its capture names; the first pattern that matches a node wins, so
; specific patterns come first). Copy helix/runtime into ~/.config/helix/runtime.

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
(attribute attribute: (identifier) @variable.other.member)

(param_statement name: (identifier) @constant)

(integer) @constant.numeric.integer
(float) @constant.numeric.float
(true) @constant.builtin.boolean
(false) @constant.builtin.boolean
(none) @constant.builtin

(escape_sequence) @constant.character.escape
(interpolation ["{" "}"] @punctuation.special)
(fstring) @string
(string) @string

"import" @keyword.control.import
["if" "else"] @keyword.control.conditional
"for" @keyword.control.repeat
"return" @keyword.control.return
["and" "or" "not" "in"] @keyword.operator
"block" @keyword.function
["model" "param" "input" "output" "training" "unused" "returns"] @keyword

["->" "=" "==" "!=" "<" "<=" ">" ">=" "+" "-" "*" "/" "//" "%" "**"] @operator

["(" ")" "[" "]" "{" "}"] @punctuation.bracket
["," "." ":"] @punctuation.delimiter

(identifier) @variable
