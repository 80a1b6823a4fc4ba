"""The YAML front end: a YAML spec -> the same `archc.ast.Spec` as the DSL.

The document is only *composed* (SafeLoader, the C one when available) into nodes that carry
their line and column; the AST is built from those nodes, so nothing is ever constructed from
tags, and every value keeps its position. Every scalar in an expression position is parsed with
the DSL's expression parser (so `same` is a name, `1e-5` a number, `"x -> relu"` a pipe), with
its locations offset to where the scalar sits in the YAML file.

Shapes (see docs in `archc/frontend/__init__.py`):
  value position (body values, `return`, `returns` items, `outputs` values):
    list -> chain (first item the source, the rest steps), mapping -> call, scalar -> expression
  argument position (call arguments, keyword values, param defaults, shape dims):
    list -> list literal, mapping -> call, scalar -> expression
  call mapping: first key = op/block name; its value: list = positional args, mapping = keyword
    args, scalar = one positional arg, null = none; the other keys are keyword args.
"""
from __future__ import annotations

import re
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from archc import ast as A
from archc.deep import run_deep
from archc.errors import Diagnostics, SpecError, SpecErrors, did_you_mean, register_source
from archc.frontend.comments import Spans, attach, scan_yaml
from archc.frontend.dsl import KEYWORDS, _check_encodable, _parse_expr
from archc.language import RETURN_KINDS, TENSOR_ATTRIBUTES, UNUSED_WORD
from archc.limits import limit

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

TOP_KEYS = ("model", "returns", "imports", "params", "inputs", "blocks", "body", "outputs", "training_outputs")
BLOCK_KEYS = ("params", "inputs", "body", "return", "returns")
_NULL_TAG = "tag:yaml.org,2002:null"
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_MODULE_WORD = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_\-]*\Z")


def parse_yaml(text: str, file: str = "<string>") -> A.Spec:
    register_source(file, text)
    _check_encodable(text, file)
    try:
        root = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as e:
        raise SpecErrors([_yaml_error(e, file, text)]) from None
    except yaml.YAMLError as e:  # pragma: no cover - unmarked errors are rare
        raise SpecErrors([SpecError(f"invalid YAML: {e}", A.Loc(file=file, line=1, col=1),
                                    "check the file's YAML syntax", code="E-YAML-SYNTAX")]) from None
    if "&" in text:  # without an anchor there is no alias: each node is its own, as large as its text
        _check_aliases(root, file)
    builder = _Builder(file)
    try:
        spec = run_deep(builder.spec, root)
    except RecursionError:
        raise SpecErrors([SpecError("the YAML is nested too deeply", A.Loc(file=file, line=1, col=1),
                                    "flatten deep lists into several entries",
                                    code="E-YAML-NESTING-TOO-DEEP")]) from None
    builder.diag.raise_if_any()
    return attach(spec, scan_yaml(text), builder.spans, text)


# Nodes the document may stand for once its aliases are expanded: a real spec has thousands; a
# "billion laughs" file (aliases of aliases) would have billions, built one by one. The limit is
# ARCHC_MAX_YAML_NODES (archc.limits, default 200,000), read each time a YAML spec is loaded.
MAX_YAML_NODES_ENV = "ARCHC_MAX_YAML_NODES"


def _check_aliases(root: Node | None, file: str) -> None:
    """Refuse a document whose aliases contain themselves (`&r [*r]`) or expand past
    ARCHC_MAX_YAML_NODES values, before anything walks it: sizes are computed once per distinct
    node."""
    if root is None:
        return
    max_nodes = limit(MAX_YAML_NODES_ENV)
    size: dict[int, int] = {}
    active: set[int] = set()  # on the current path
    stack: list[tuple[Node, bool]] = [(root, False)]

    def children(node: Node) -> list[Node]:
        if isinstance(node, SequenceNode):
            return list(node.value)
        if isinstance(node, MappingNode):
            return [n for pair in node.value for n in pair]
        return []

    def refuse(message: str, node: Node, hint: str, *, code: str) -> None:
        loc = A.Loc(file=file, line=node.start_mark.line + 1, col=node.start_mark.column + 1)
        raise SpecErrors([SpecError(message, loc, hint, code=code)])

    while stack:
        node, done = stack.pop()
        key = id(node)
        if done:
            active.discard(key)
            size[key] = 1 + sum(size[id(c)] for c in children(node))
            if size[key] > max_nodes:
                refuse(f"the YAML expands to more than {max_nodes:,} values through its aliases",
                       node, "aliases (*name) repeat what their anchor (&name) marks; use fewer of them, "
                             "or write a parameter and a list comprehension instead; if the spec "
                             "really is this large, raise the limit in the environment, e.g. "
                             f"{MAX_YAML_NODES_ENV}={int(max_nodes) * 10}",
                       code="E-YAML-ALIAS-EXPANSION")
            continue
        if key in size:
            continue
        if key in active:
            refuse("a YAML alias contains itself", node,
                   "an anchor (&name) cannot be used (*name) inside what it marks",
                   code="E-YAML-ALIAS-CYCLE")
        active.add(key)
        stack.append((node, True))
        for child in reversed(children(node)):
            if id(child) in active:
                refuse("a YAML alias contains itself", node,
                       "an anchor (&name) cannot be used (*name) inside what it marks",
                       code="E-YAML-ALIAS-CYCLE")
            if id(child) not in size:
                stack.append((child, False))


def _last_line(node: Node) -> int:
    """The 1-based line where a node's text ends (a block collection's end mark lies at what
    follows it, so look at its last item)."""
    while isinstance(node, (MappingNode, SequenceNode)) and not node.flow_style and node.value:
        last = node.value[-1]
        node = last[1] if isinstance(node, MappingNode) else last
    s, e = node.start_mark, node.end_mark
    return e.line if e.column == 0 and e.line > s.line else e.line + 1


def _yaml_error(e: yaml.MarkedYAMLError, file: str, text: str) -> SpecError:
    mark = e.problem_mark or e.context_mark
    loc = A.Loc(file=file, line=mark.line + 1, col=mark.column + 1) if mark else None
    problem = (e.problem or "invalid YAML").strip()
    context = (e.context or "").strip()
    lines = text.splitlines()
    at = ""
    if mark and mark.line < len(lines) and mark.column < len(lines[mark.line]):
        at = lines[mark.line][mark.column]
    if at == "\t":
        problem, context = "a tab character", ""
    message = f"invalid YAML: {problem}" + (f" ({context})" if context else "")
    hint = "check indentation, and quote values that contain ': ' or start with '[', '{', '*', '&'"
    code = "E-YAML-SYNTAX"
    if "tab" in problem:
        hint = "YAML indents with spaces, not tabs"
        code = "E-YAML-TAB"
    elif "expected a single document" in (e.context or ""):
        hint = "a spec is one YAML document; remove the '---' separators"
        code = "E-YAML-MULTIPLE-DOCUMENTS"
    elif "could not find expected ':'" in problem or "mapping values are not allowed" in problem:
        hint = "quote a value that contains ': ', e.g. \"x if a else b\""
    elif "nesting depth" in problem:
        hint = ("flatten the deepest lists or mappings (a real spec nests a few levels), e.g. "
                "into several parameters")
        code = "E-YAML-NESTING-TOO-DEEP"
    elif "while scanning a quoted scalar" in context and "end of stream" in problem:
        hint = "close the string with its quote"
        code = "E-SYNTAX-UNTERMINATED-STRING"
    return SpecError(message, loc, hint, code=code)


class _Builder:
    def __init__(self, file: str) -> None:
        self.file = file
        self.diag = Diagnostics()
        self.spans = Spans()  # the statements' last lines, for attaching comments

    def span(self, node: Any, knode: Node, vnode: Node | None = None) -> Any:
        self.spans.add(node.loc, _last_line(vnode if vnode is not None else knode))
        return node

    # ------------------------------------------------------------------ helpers

    def loc(self, node: Node) -> A.Loc:
        s, e = node.start_mark, node.end_mark
        end = e.column + 1 if e.line == s.line and e.column > s.column else None
        return A.Loc(file=self.file, line=s.line + 1, col=s.column + 1, end_col=end)

    def error(self, message: str, node: Node | None, hint: str | None = None, *,
              code: str) -> None:
        self.diag.error(message, self.loc(node) if node is not None else None, hint, code=code)

    @staticmethod
    def is_null(node: Node) -> bool:
        return isinstance(node, ScalarNode) and node.tag == _NULL_TAG

    @staticmethod
    def kind(node: Node) -> str:
        if isinstance(node, MappingNode):
            return "a mapping"
        if isinstance(node, SequenceNode):
            return "a list"
        return f"'{node.value}'" if node.value else "nothing"

    def pairs(self, node: MappingNode, what: str) -> list[tuple[str, Node, Node]]:
        """The entries of a mapping as (key text, key node, value node); duplicate keys and
        non-scalar keys are reported and skipped."""
        out: list[tuple[str, Node, Node]] = []
        seen: dict[str, Node] = {}
        for knode, vnode in node.value:
            if not isinstance(knode, ScalarNode):
                self.error(f"a key in {what} must be a name, not {self.kind(knode)}", knode,
                           "write the key as a plain word; a list or mapping cannot be a key "
                           "(a '?' or a '[' or '{' at the key's start makes one)",
                           code="E-YAML-NOT-A-NAME")
                continue
            key = knode.value
            if key in seen:
                first = seen[key].start_mark
                self.error(f"duplicate key '{key}' in {what}", knode,
                           f"'{key}' is already defined at line {first.line + 1}; "
                           "each key may appear once", code="E-YAML-DUPLICATE-KEY")
                continue
            seen[key] = knode
            out.append((key, knode, vnode))
        return out

    def name(self, node: Node, what: str) -> str | None:
        """A plain identifier (a key, an input name); reported if it is not one."""
        if not isinstance(node, ScalarNode) or self.is_null(node):
            self.error(f"{what} must be a name, not {self.kind(node)}", node,
                       "write a plain word of letters, digits and '_' here, e.g. 'x' or "
                       "'conv2d'", code="E-YAML-NOT-A-NAME")
            return None
        text = node.value.strip()
        if not _IDENT.match(text):
            self.error(f"{what} must be a name (letters, digits, '_'), not '{node.value}'", node,
                       "a name starts with a letter or '_' and has no spaces or punctuation; "
                       "rename it (e.g. 'conv-1' to 'conv_1')", code="E-YAML-NOT-A-NAME")
            return None
        if text in KEYWORDS:
            self.error(f"'{text}' is a reserved word and cannot be {what}", node,
                       "choose another name", code="E-SYNTAX-RESERVED-WORD")
            return None
        return text

    def text(self, node: Node, what: str) -> str | None:
        if not isinstance(node, ScalarNode) or self.is_null(node):
            self.error(f"{what} must be a string, not {self.kind(node)}", node,
                       "write it as one (quoted if need be) string on the key's line",
                       code="E-YAML-WRONG-TYPE")
            return None
        return node.value

    def expr(self, node: ScalarNode) -> A.Expr:
        """A scalar parsed as a DSL expression, with locations in the YAML file."""
        s, e = node.start_mark, node.end_mark
        quoted = node.style in ("'", '"')
        line, col = s.line + 1, s.column + 1 + (1 if quoted else 0)
        single = s.line == e.line and node.style not in ("|", ">")
        at = None if single else A.Loc(file=self.file, line=s.line + 1, col=s.column + 1)
        try:
            return _parse_expr(node.value, self.file, line, col, at)
        except SpecErrors as errs:
            for err in errs.errors:
                self.diag.add(err)
            return A.NoneLit(loc=self.loc(node))

    # ------------------------------------------------------------------ values

    def value(self, node: Node) -> A.Expr:
        """Value position: list = chain, mapping = call, scalar = expression, null = none."""
        if isinstance(node, SequenceNode):
            return self.chain(node)
        if isinstance(node, MappingNode):
            return self.call(node)
        if self.is_null(node):
            return A.NoneLit(loc=self.loc(node))
        return self.expr(node)

    def arg(self, node: Node) -> A.Expr:
        """Argument position: list = list literal, mapping = call, scalar = expression."""
        if isinstance(node, SequenceNode):
            return A.ListExpr(items=[self.arg(item) for item in node.value], loc=self.loc(node))
        if isinstance(node, MappingNode):
            return self.call(node)
        if self.is_null(node):
            return A.NoneLit(loc=self.loc(node))
        return self.expr(node)

    def chain(self, node: SequenceNode) -> A.Expr:
        items = node.value
        if not items:
            self.error("an empty list is not a value", node,
                       "a list is a chain: the source tensor, then the steps, e.g. "
                       "[x, {conv2d: [64, 3]}, relu]", code="E-YAML-WRONG-TYPE")
            return A.NoneLit(loc=self.loc(node))
        result = self.value(items[0])
        start = items[0].start_mark
        for step in items[1:]:
            target = self.step(step)
            if target is None:
                continue
            end = step.end_mark
            end_col = end.column + 1 if end.line == start.line else None
            loc = A.Loc(file=self.file, line=start.line + 1, col=start.column + 1,
                        end_col=end_col)
            result = A.Pipe(source=result, target=target, loc=loc)
        return result

    def step(self, node: Node) -> A.Call | None:
        """A chain step: `relu`, `"conv2d(64, 3)"` or a call mapping."""
        if isinstance(node, MappingNode):
            return self.call(node)
        if isinstance(node, ScalarNode) and not self.is_null(node):
            errors = len(self.diag.errors)
            expr = self.expr(node)
            if isinstance(expr, A.Name):
                return A.Call(func=expr.id, loc=expr.loc)
            if isinstance(expr, A.Call):
                return expr
            if len(self.diag.errors) > errors:
                return None  # already reported
        self.error(f"a chain step must be an op or block call, not {self.kind(node)}", node,
                   "write a step as a name ('relu'), a call ('conv2d(64, 3)') or a mapping "
                   "({conv2d: [64, 3], stride: 2})", code="E-SYNTAX-PIPE-TARGET")
        return None

    def call(self, node: MappingNode) -> A.Call:
        entries = self.pairs(node, "a call")
        if not entries:
            self.error("an empty mapping is not a call", node,
                       "write a call as {op: [positional args], keyword: value}",
                       code="E-YAML-WRONG-TYPE")
            return A.Call(func="_", loc=self.loc(node))
        (_, fnode, fvalue), rest = entries[0], entries[1:]
        func = self.name(fnode, "an op or block name") or "_"
        args: list = []
        kwargs: list[A.Keyword] = []
        if isinstance(fvalue, SequenceNode):
            args = [self.arg(item) for item in fvalue.value]
        elif isinstance(fvalue, MappingNode):
            kwargs = self.keywords(self.pairs(fvalue, f"the arguments of '{func}'"), func)
        elif not self.is_null(fvalue):
            args = [self.arg(fvalue)]
        for kw in self.keywords(rest, func):
            if any(k.name == kw.name for k in kwargs):
                self.diag.error(f"keyword argument '{kw.name}' is given twice in the call to "
                                f"'{func}'", kw.loc, "remove one of them",
                                code="E-CALL-ARGUMENT-TWICE")
                continue
            kwargs.append(kw)
        return A.Call(func=func, args=args, kwargs=kwargs, loc=self.loc(fnode))

    def keywords(self, entries: list[tuple[str, Node, Node]], func: str) -> list[A.Keyword]:
        out = []
        for _, knode, vnode in entries:
            name = self.name(knode, f"a keyword argument of '{func}'")
            if name is None:
                continue
            if name == "name" and self.is_module_word(vnode):
                value: A.Expr = A.Str(value=vnode.value, loc=self.loc(vnode))
            else:
                value = self.arg(vnode)
            out.append(A.Keyword(name=name, value=value, loc=self.loc(knode)))
        return out

    @staticmethod
    def is_module_word(node: Node) -> bool:
        """`name: block1-0`: an unquoted name without spaces that is not an identifier or a
        number is the module name as written (PyTorch allows any text without '.'; a dotted
        `convs.1` is a container's member, unless it reads a size such as `x.channels`), not the
        subtraction `block1 - 0`; so is a DSL keyword (`name: block`). Computed names keep
        spaces or quotes: `name: k + 1`."""
        if not (isinstance(node, ScalarNode) and not node.style and isinstance(node.value, str)):
            return False
        parts = node.value.split(".")
        if len(parts) > 1:  # `name: convs.1`, a container's member; `x.channels` stays a size
            return (all(_MODULE_WORD.match(p) for p in parts)
                    and not (all(_IDENT.match(p) for p in parts) and parts[-1] in TENSOR_ATTRIBUTES))
        return (_MODULE_WORD.match(node.value) is not None and not node.value.isdigit()
                and (not _IDENT.match(node.value) or node.value in KEYWORDS))

    # ------------------------------------------------------------------ sections

    def expect(self, node: Node, kind: type, what: str, hint: str) -> bool:
        if isinstance(node, kind) and not self.is_null(node):
            return True
        if self.is_null(node):
            return False  # an empty section is just empty
        shape = {MappingNode: "a mapping", SequenceNode: "a list"}[kind]
        self.error(f"{what} must be {shape}, not {self.kind(node)}", node, hint,
                   code="E-YAML-WRONG-TYPE")
        return False

    def check_keys(self, entries: list[tuple[str, Node, Node]], allowed: tuple[str, ...],
                   where: str) -> list[tuple[str, Node, Node]]:
        good = []
        for key, knode, vnode in entries:
            if key in allowed:
                good.append((key, knode, vnode))
                continue
            hint = did_you_mean(key, allowed) or ("the keys are " + ", ".join(allowed))
            self.error(f"unknown key '{key}' {where}", knode, hint, code="E-YAML-UNKNOWN-KEY")
        return good

    def spec(self, root: Node | None) -> A.Spec:
        loc = A.Loc(file=self.file, line=1, col=1)
        if root is None or self.is_null(root):
            return A.Spec(loc=loc)
        if not isinstance(root, MappingNode):
            self.error(f"a YAML spec must be a mapping, not {self.kind(root)}", root,
                       "start with keys such as 'inputs:', 'body:' and 'outputs:'",
                       code="E-YAML-WRONG-TYPE")
            return A.Spec(loc=loc)
        fields: dict[str, Any] = {}
        for key, knode, vnode in self.check_keys(self.pairs(root, "the spec"), TOP_KEYS,
                                                 "at the top level"):
            if key == "model":
                self.spans.model = (knode.start_mark.line + 1, _last_line(vnode))
                if not self.is_null(vnode):
                    fields["name"] = self.text(vnode, "the model name")
            elif key == "returns":
                kind = self.text(vnode, "what forward returns")
                if kind is not None and kind not in RETURN_KINDS:
                    self.error(f"returns: {kind!r} is not something forward can return", vnode,
                               "write `returns: dict` (forward returns a dict even with one output)",
                               code="E-SYNTAX-MODEL-RETURNS")
                elif kind is not None:
                    fields["returns"] = kind
            elif key == "imports":
                fields["imports"] = self.imports(vnode)
            elif key == "params":
                fields["params"] = self.params(vnode, "'params'")
            elif key == "inputs":
                fields["inputs"] = self.inputs(vnode)
            elif key == "blocks":
                fields["blocks"] = self.blocks(vnode)
            elif key == "body":
                fields["body"] = self.body(vnode, "'body'")
            elif key == "outputs":
                fields["outputs"] = fields.get("outputs", []) + self.outputs(vnode)
            elif key == "training_outputs":
                fields["outputs"] = fields.get("outputs", []) + [
                    A.replace(o, training=True) for o in self.outputs(vnode)]
        if fields.get("returns") and not fields.get("name"):  # the DSL says it on the `model` line
            self.error("`returns:` needs the model's name", root, "name the model, e.g. `model: FCN`",
                       code="E-SYNTAX-MODEL-RETURNS")
        return A.Spec(loc=loc, **fields)

    def imports(self, node: Node) -> list[A.Import]:
        items = node.value if isinstance(node, SequenceNode) else [node]
        if self.is_null(node):
            return []
        out = []
        for item in items:
            path = self.text(item, "an import path")
            if path is not None:
                out.append(self.span(A.Import(path=path, loc=self.loc(item)), item))
        return out

    def params(self, node: Node, what: str) -> list[A.Param]:
        if not self.expect(node, MappingNode, what, "write parameters as {name: default}; "
                                                    "null marks a required one"):
            return []
        out = []
        for _, knode, vnode in self.pairs(node, what):
            name = self.name(knode, "a parameter name")
            if name is None:
                continue
            default = None if self.is_null(vnode) else self.arg(vnode)
            out.append(self.span(A.Param(name=name, default=default, loc=self.loc(knode)), knode,
                                 vnode))
        return out

    def inputs(self, node: Node) -> list[A.Input]:
        if not self.expect(node, MappingNode, "'inputs'",
                           "write inputs as {name: [N, C, H, W]}"):
            return []
        out = []
        for _, knode, vnode in self.pairs(node, "'inputs'"):
            name = self.name(knode, "an input name")
            if name is None:
                continue
            shape: list | None = None
            if isinstance(vnode, SequenceNode):
                shape = [self.arg(item) for item in vnode.value]
            elif isinstance(vnode, ScalarNode) and not self.is_null(vnode):
                expr = self.expr(vnode)
                if isinstance(expr, A.ListExpr):
                    shape = expr.items
            if shape is None:
                self.error(f"the shape of input '{name}' must be a list, not "
                           f"{self.kind(vnode)}", vnode,
                           "write it channels first, e.g. [N, 3, 224, 224]",
                           code="E-YAML-WRONG-TYPE")
                continue
            out.append(self.span(A.Input(name=name, shape=shape, loc=self.loc(knode)), knode,
                                 vnode))
        return out

    def body(self, node: Node, what: str) -> list[A.Assign]:
        if not self.expect(node, MappingNode, what,
                           "write the body as a mapping {tensor name: value}"):
            return []
        out = []
        for key, knode, vnode in self.pairs(node, what):
            unused = key.startswith(UNUSED_WORD + " ")  # `unused f4: ...`, as the DSL writes it
            targets = [t.strip() for t in (key[len(UNUSED_WORD) + 1:] if unused else key).split(",")]
            if unused and len(targets) != 1:
                self.error(f"'{key}': one name follows '{UNUSED_WORD}'", knode,
                           f"write `{UNUSED_WORD} f4: ...` for one tensor", code="E-YAML-NOT-A-NAME")
                continue
            if not all(_IDENT.match(t) and t not in KEYWORDS for t in targets):
                self.error(f"'{key}' is not a tensor name (or several, separated by ',')", knode,
                           "names are made of letters, digits and '_', e.g. 'y' or 'a, b'",
                           code="E-YAML-NOT-A-NAME")
                continue
            if len(set(targets)) != len(targets):
                self.error(f"'{key}' names the same tensor twice", knode,
                           "give each target its own name", code="E-NAME-DUPLICATE")
                continue
            out.append(self.span(A.Assign(targets=targets, value=self.value(vnode),
                                          loc=self.loc(knode), unused=unused), knode, vnode))
        return out

    def outputs(self, node: Node) -> list[A.Output]:
        if isinstance(node, SequenceNode):  # `outputs: [a, b]`: output those tensors
            out = []
            for item in node.value:
                name = self.name(item, "an output name")
                if name is not None:
                    loc = self.loc(item)
                    out.append(self.span(A.Output(name=name, value=A.Name(id=name, loc=loc),
                                                  loc=loc), item))
            return out
        if not self.expect(node, MappingNode, "'outputs'",
                           "write outputs as {name: value}, or a list of tensor names"):
            return []
        out = []
        for _, knode, vnode in self.pairs(node, "'outputs'"):
            name = self.text(knode, "an output name")  # any text: {"0": p2} as torchvision's FPN
            # `{training: value}` (a reserved word, never an op): a training output in its place
            # among the others, as `archc fmt` writes one that the spec puts before an output
            training = (isinstance(vnode, MappingNode) and len(vnode.value) == 1
                        and isinstance(vnode.value[0][0], ScalarNode) and vnode.value[0][0].value == "training")
            if training:
                vnode = vnode.value[0][1]
            if name is not None:
                out.append(self.span(A.Output(name=name, value=self.value(vnode), training=training,
                                              loc=self.loc(knode)), knode, vnode))
        return out

    def blocks(self, node: Node) -> list[A.BlockDef]:
        if not self.expect(node, MappingNode, "'blocks'",
                           "write blocks as {BlockName: {params: ..., inputs: ..., body: ..., "
                           "return: ...}}"):
            return []
        out = []
        for _, knode, vnode in self.pairs(node, "'blocks'"):
            name = self.name(knode, "a block name")
            if name is None:
                continue
            block = self.block(name, knode, vnode)
            if block is not None:
                out.append(block)
        return out

    def block(self, name: str, knode: Node, node: Node) -> A.BlockDef | None:
        if not isinstance(node, MappingNode):
            self.error(f"block '{name}' must be a mapping, not {self.kind(node)}", node,
                       "give it 'params', 'inputs', 'body' and 'return'", code="E-YAML-WRONG-TYPE")
            return None
        where = f"in block '{name}'"
        params: list[A.Param] = []
        inputs: list[str] = []
        body: list[A.Assign] = []
        returns: list | None = None
        return_node: Node | None = None
        return_value: Node | None = None
        for key, k, v in self.check_keys(self.pairs(node, f"block '{name}'"), BLOCK_KEYS, where):
            if key == "params":
                params = self.params(v, f"the params of block '{name}'")
            elif key == "inputs":
                inputs = self.block_inputs(v, name)
            elif key == "body":
                body = self.body(v, f"the body of block '{name}'")
            elif key in ("return", "returns"):
                if return_node is not None:
                    self.error(f"block '{name}' has both 'return' and 'returns'", k,
                               "use 'return: value' for one value or 'returns: [a, b]' for "
                               "several", code="E-SYNTAX-BLOCK-RETURNS-TWICE")
                    continue
                return_node, return_value = k, v
                if key == "return":
                    returns = [self.value(v)]
                elif isinstance(v, SequenceNode):
                    returns = [self.value(item) for item in v.value]
                else:
                    self.error(f"'returns' of block '{name}' must be a list, not "
                               f"{self.kind(v)}", v, "use 'return:' for a single value",
                               code="E-YAML-WRONG-TYPE")
                    returns = []
        if returns is None:
            self.error(f"block '{name}' has no 'return'", knode,
                       "add 'return: <tensor>' (or 'returns: [a, b]' for several)",
                       code="E-SYNTAX-BLOCK-NO-RETURN")
            returns = []
        seen = {p.name for p in params}
        for i in inputs:
            if i in seen:
                self.error(f"block '{name}' already has a parameter named '{i}'", knode,
                           "inputs and parameters need distinct names",
                           code="E-NAME-DUPLICATE")
        block = A.BlockDef(name=name, params=params, inputs=inputs, body=body, returns=returns,
                           loc=self.loc(knode))
        if return_node is not None and return_value is not None:
            self.spans.returns[(block.loc.line, block.loc.col)] = (
                return_node.start_mark.line + 1, _last_line(return_value))
        return self.span(block, knode, node)

    def block_inputs(self, node: Node, block: str) -> list[str]:
        if self.is_null(node):
            return []
        items = node.value if isinstance(node, SequenceNode) else [node]
        out = []
        for item in items:
            name = self.name(item, f"an input of block '{block}'")
            if name is not None:
                if name in out:
                    self.error(f"block '{block}' has two inputs named '{name}'", item,
                               "rename one of them", code="E-NAME-DUPLICATE")
                    continue
                out.append(name)
        return out
