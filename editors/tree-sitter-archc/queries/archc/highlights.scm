; Highlights for Neovim (runtimepath layout: queries/archc/highlights.scm).
; Capture names that Neovim 0.7's highlighter maps to highlight groups by itself (and that
; nvim-treesitter and later Neovims map too). In Neovim a later pattern overrides an earlier one
; on the same node, so general patterns come first.

(identifier) @variable

["(" ")" "[" "]" "{" "}"] @punctuation.bracket
["," "." ":"] @punctuation.delimiter

["->" "=" "==" "!=" "<" "<=" ">" ">=" "+" "-" "*" "/" "//" "%" "**"] @operator

[
  "model" "import" "param" "input" "output" "training" "block" "return" "unused" "returns"
  "if" "else" "for" "in" "and" "or" "not"
] @keyword

(string) @string
(fstring) @string
(escape_sequence) @string.escape
(interpolation ["{" "}"] @punctuation.special)

(integer) @number
(float) @number
(true) @boolean
(false) @boolean
(none) @constant.builtin

(param_statement name: (identifier) @constant)
(parameter name: (identifier) @parameter)
(keyword_argument name: (identifier) @parameter)
(attribute attribute: (identifier) @property)

; ops: called, or applied by a pipe (`x -> relu`)
(call function: (identifier) @function)
(pipe layer: (identifier) @function)

; built-in functions on numbers and lists, and the special forms
(call function: (identifier) @function.builtin
  (#any-of? @function.builtin "min" "max" "abs" "int" "float" "round" "floor" "ceil" "sqrt"
    "log" "make_divisible" "len" "range" "sum" "str" "repeat" "sequential" "shared"))

; a block's definition and its instances (block names start with a capital letter)
(call function: (identifier) @type (#match? @type "^[A-Z]"))
(pipe layer: (identifier) @type (#match? @type "^[A-Z]"))
(block_definition name: (identifier) @type)
(model_statement name: (_) @type)
(model_statement returns: (identifier) @type.builtin)

(comment) @comment
