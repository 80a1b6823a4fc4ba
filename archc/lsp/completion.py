"""Completion items for the position of a cursor, from the text around it (which need not
parse: one is usually in the middle of typing) and the document's last index.

    inside an op call's brackets     its attributes, with their defaults (`stride=` … `= 1`), the
                                     layer options, then values: names in scope
    inside a block call's brackets   the block's parameters with their defaults, then values
    after `->`, in repeat/sequential ops and blocks (with their signatures)
    elsewhere in an expression       names in scope (tensors, params), ops, blocks, functions
    at the start of a statement      the statement keywords, and names in scope

YAML works the same way on its own punctuation: `{conv2d: [64, 3], |` offers `stride: `.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from archc.frontend.comments import CodeScan
from archc.language import BUILTINS, DSL_STATEMENT_KEYWORDS, LAYER_OPTIONS, SPECIAL_FORMS, YAML_SPEC_KEYS
from archc.lsp.index import MODEL, DocumentIndex, Symbol
from archc.lsp.text import lines_of, offset_of

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_BLOCK_HEADER = re.compile(r"\bblock\s+([A-Za-z_][A-Za-z0-9_]*)\s*\(")


@dataclass
class Item:
    label: str
    kind: str  # op, block, attribute, param, tensor, input, keyword, function, option
    detail: str = ""
    documentation: str = ""
    insert_text: str | None = None
    sort: str = "5"
    data: dict = field(default_factory=dict)  # for resolving the full documentation later


@dataclass
class Context:
    prefix: str  # the identifier being typed
    call: str | None  # the op or block whose argument list holds the cursor
    given: set[str]  # keywords that call already has
    scope: str | None  # the block the cursor is in, or MODEL
    after_pipe: bool
    statement_start: bool
    in_string: bool
    yaml: bool


def context(text: str, line: int, col: int, language: str) -> Context:
    lines = lines_of(text)
    offset = offset_of(lines, min(line, len(lines) - 1), col) if lines else 0
    before = text[:offset]
    m = re.search(r"[A-Za-z_][A-Za-z0-9_]*\Z", before)
    prefix = m.group() if m else ""
    head = before[:len(before) - len(prefix)]
    if language == "yaml":
        return _yaml_context(head, prefix, lines, line)
    stack: list[tuple[str, int]] = []  # (bracket, offset)
    scan = CodeScan(head)
    for i, ch in scan:
        if ch in "([{":
            stack.append((ch, i))
        elif ch in ")]}" and stack:
            stack.pop()
    if scan.in_comment:
        return Context(prefix, None, set(), MODEL, False, False, True, False)
    scope = MODEL
    for bracket, at in stack:
        if bracket == "{":
            found = list(_BLOCK_HEADER.finditer(head, 0, at))
            if found:
                scope = found[-1].group(1)
    call, given = None, set()
    parens = [(b, at) for b, at in stack if b in "(["]
    if parens and parens[-1][0] == "(":
        at = parens[-1][1]
        name = re.search(r"([A-Za-z_][A-Za-z0-9_]*)\s*\Z", head[:at])
        if name and not re.search(r"\bblock\s+[A-Za-z_][A-Za-z0-9_]*\s*\Z", head[:at]):
            call = name.group(1)
            given = set(re.findall(r"([A-Za-z_][A-Za-z0-9_]*)\s*=(?!=)", head[at:]))
    line_head = head[head.rfind("\n") + 1:]
    after_pipe = bool(re.search(r"->\s*\Z", head))
    statement_start = not line_head.strip() and not stack_parens(stack) and not _continues(head)
    return Context(prefix, call, given, scope, after_pipe, statement_start, scan.quote is not None, False)


def stack_parens(stack: list[tuple[str, int]]) -> bool:
    return any(b in "([" for b, _ in stack)


def _continues(head: str) -> bool:
    """Whether the previous line continues onto this one (it ends with an operator)."""
    prev = head.rstrip(" \t")
    if not prev.endswith("\n"):
        return False
    prev = prev.rstrip("\n").rstrip()
    last = prev.rsplit("\n", 1)[-1].split("#", 1)[0].rstrip()
    return bool(last) and (last[-1] in ",([=+-*/%<>:." or last.endswith(("->", " if", " else", " and", " or", " not")))


def _yaml_context(head: str, prefix: str, lines: list[str], line: int) -> Context:
    line_head = head[head.rfind("\n") + 1:]
    stack: list[tuple[str, int]] = []
    quote = None
    for i, ch in enumerate(head):
        if quote:
            if ch == quote:
                quote = None
        elif ch in "\"'" and (i == 0 or head[i - 1] in " [{,:\n-"):
            quote = ch
        elif ch in "[{":
            stack.append((ch, i))
        elif ch in "]}" and stack:
            stack.pop()
    call, given = None, set()
    braces = [at for b, at in stack if b == "{"]
    if braces:
        inner = head[braces[-1] + 1:]
        m = re.match(r"\s*([A-Za-z_][A-Za-z0-9_]*)\s*:", inner)
        if m:
            call = m.group(1)
            given = set(re.findall(r"[{,]\s*([A-Za-z_][A-Za-z0-9_]*)\s*:", head[braces[-1]:]))
    elif not stack:
        # block style: `- conv2d: [64, 3]` then `  stride: 2` on the next lines
        indent = len(line_head) - len(line_head.lstrip())
        for n in range(line - 1, max(-1, line - 20), -1):
            text = lines[n] if n < len(lines) else ""
            m = re.match(r"(\s*)- ([A-Za-z_][A-Za-z0-9_]*)\s*:", text)
            if m and len(m.group(1)) + 2 == indent and line_head.strip() == "":
                call = m.group(2)
                break
            if text.strip() and len(text) - len(text.lstrip()) < indent:
                break
    statement_start = not stack and not line_head.strip()
    after_pipe = bool(re.search(r"(^|[\[,]|-)\s*\Z", line_head)) and not statement_start
    scope = MODEL
    return Context(prefix, call, given, scope, after_pipe, statement_start and not line_head, quote is not None, True)


# ----------------------------------------------------------------------------- items


def complete(project: Any, doc: Any, line: int, col: int) -> list[Item]:
    from archc.ops import REGISTRY
    ctx = context(doc.text, line, col, doc.language)
    if ctx.in_string:
        return []
    index: DocumentIndex | None = project.current_index(doc)
    if index is not None and ctx.yaml:
        ctx.scope = index.scope_at(line, col)
    blocks = project.visible_blocks(index) if index is not None else {}
    items: list[Item] = []
    sep = ": " if ctx.yaml else "="

    if ctx.call is not None:
        op = REGISTRY.get(ctx.call)
        block = blocks.get(ctx.call)
        if op is not None:
            for a in op.attrs:
                if a.name in ctx.given:
                    continue
                default = "required" if a.required else f"= {_default(a.default)}"
                items.append(Item(a.name, "attribute", default, f"{a.type.label}\n\n{a.doc}",
                                  f"{a.name}{sep}", "0" + str(op.attrs.index(a)).zfill(2)))
        elif block is not None:
            for k, p in enumerate(block.node.params):
                if p.name in ctx.given:
                    continue
                default = "required" if p.default is None else f"= {_expr(p.default)}"
                items.append(Item(p.name, "param", default, f"parameter of block `{block.name}`",
                                  f"{p.name}{sep}", "0" + str(k).zfill(2)))
        if op is not None or block is not None or ctx.call in SPECIAL_FORMS:
            takes_block_options = ctx.call in ("repeat", "sequential") or block is not None
            for option in LAYER_OPTIONS.values():
                if option.name not in ctx.given and (takes_block_options or not option.blocks_only):
                    items.append(Item(option.name, "option", "layer option", option.doc, f"{option.name}{sep}", "1"))
        if op is not None and not ctx.yaml:
            # after the attributes: values for them
            items += _scope_items(index, ctx.scope, "3")
            return _filter(items, ctx.prefix)

    if ctx.statement_start and not ctx.yaml:
        for kw, text in DSL_STATEMENT_KEYWORDS.items():
            items.append(Item(kw, "keyword", "", text, None, "0"))
        if ctx.scope is not MODEL:
            items.append(Item("return", "keyword", "", "", None, "0"))
    if ctx.statement_start and ctx.yaml:
        for key, text in YAML_SPEC_KEYS.items():
            items.append(Item(key, "keyword", "", text, f"{key}: ", "0"))
        return _filter(items, ctx.prefix)

    layers_only = ctx.after_pipe
    if not layers_only or ctx.yaml:
        items += _scope_items(index, ctx.scope, "2")
    for op in REGISTRY.ops:
        for name in (op.name, *op.aliases):
            items.append(Item(name, "op", _signature(op), op.doc.strip().splitlines()[0] if op.doc else "",
                              None, "3", {"op": op.name}))
    for name, sym in sorted(blocks.items()):
        items.append(Item(name, "block", _block_signature(sym), f"block defined in {sym.file}:{sym.span.line + 1}",
                          None, "3", {"block": name}))
    for form in SPECIAL_FORMS.values():
        items.append(Item(form.name, "function", form.signature, form.doc, None, "4"))
    if not layers_only:
        for name, builtin in sorted(BUILTINS.items()):
            items.append(Item(name, "function", builtin.signature, builtin.doc, None, "6"))
        for word in ("true", "false", "none", "if", "else", "and", "or", "not"):
            items.append(Item(word, "keyword", "", "", None, "7"))
    return _filter(items, ctx.prefix)


def _scope_items(index: DocumentIndex | None, scope: str | None, sort: str) -> list[Item]:
    if index is None:
        return []
    out = []
    seen: set[str] = set()
    for sym in index.scope_symbols(scope):
        if sym.name in seen or sym.kind == "output":
            continue
        seen.add(sym.name)
        kind = {"param": "param", "block_param": "param", "input": "input", "block_input": "input"}.get(sym.kind, "tensor")
        detail = {"param": "model param", "block_param": f"parameter of {scope}", "input": "input",
                  "block_input": f"input of {scope}", "tensor": "tensor"}.get(sym.kind, sym.kind)
        out.append(Item(sym.name, kind, detail, "", None, sort))
    return out


def _filter(items: list[Item], prefix: str) -> list[Item]:
    if not prefix:
        return items
    low = prefix.lower()
    return [i for i in items if i.label.lower().startswith(low) or low in i.label.lower()]


def _signature(op: Any) -> str:
    attrs = ", ".join(a.name if a.required else f"{a.name}={_default(a.default)}" for a in op.attrs)
    return f"{op.name}({attrs})"


def _block_signature(sym: Symbol) -> str:
    from archc.lsp.hover import _expr_text
    block = sym.node
    params = ", ".join(p.name if p.default is None else f"{p.name}={_expr_text(p.default)}" for p in block.params)
    return f"{block.name}({params})({', '.join(block.inputs)})"


def _default(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "none" if value is None else str(value)


def _expr(e: Any) -> str:
    from archc.lsp.hover import _expr_text
    return _expr_text(e)


def resolve_documentation(item_data: dict) -> str | None:
    """The full Markdown documentation of an op item (its docs/ops.md entry)."""
    from archc.ops import REGISTRY
    name = (item_data or {}).get("op")
    op = REGISTRY.get(name) if name else None
    if op is None:
        return None
    from archc.backends.docs import render_op
    return "\n".join(render_op(op)).strip()
