; Scopes, definitions and references for Helix.

(source_file) @local.scope
(block_definition) @local.scope
(list_comprehension) @local.scope

(parameter name: (identifier) @local.definition)
(inputs (identifier) @local.definition)
(assignment name: (identifier) @local.definition)
(unused_assignment name: (identifier) @local.definition)
(param_statement name: (identifier) @local.definition)
(input_statement name: (identifier) @local.definition)
(for_clause left: (identifier) @local.definition)

(identifier) @local.reference
