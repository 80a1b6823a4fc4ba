; Scopes, definitions and references for Neovim (nvim-treesitter's names as of Neovim 0.7).

(source_file) @scope
(block_definition) @scope
(list_comprehension) @scope

(parameter name: (identifier) @definition.parameter)
(inputs (identifier) @definition.parameter)
(assignment name: (identifier) @definition.var)
(unused_assignment name: (identifier) @definition.var)
(param_statement name: (identifier) @definition.constant)
(input_statement name: (identifier) @definition.var)
(for_clause left: (identifier) @definition.var)

(identifier) @reference
