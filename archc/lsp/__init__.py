"""The archc language server (`archc lsp`): Language Server Protocol over stdio for `.arch` and
archc `.yaml` specs.

Only `server.py` knows the protocol (pygls, lsprotocol: the `lsp` extra); everything else here is
plain Python over archc's own data, testable without a client:

    text.py        positions: archc's 1-based `Loc`s -> 0-based spans; words and brackets in text
    index.py       a document's symbols from its AST: definitions and references of blocks,
                   tensors and params, call sites, statement extents
    analysis.py    the check (`archc.loads`, as `archc check` does it) with a cache of parsed
                   imports; diagnostics per file, an imported file's errors also at the import
    project.py     the open documents and what they import: blocks across files, definitions,
                   references
    hover.py       hover text: shapes, parameters, MACs, receptive field; op reference entries
    completion.py  completion items: ops, attributes with defaults, blocks, names in scope
    outline.py     document symbols and inlay hints (each statement's output shape)

Nothing in `archc` imports this package except `archc lsp`, so the static path never loads
pygls.
"""
