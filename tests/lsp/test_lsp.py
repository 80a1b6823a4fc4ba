"""The language server (`archc lsp`), driven as an editor drives it: a real client over stdio
(pytest-lsp) talking to `python -m archc lsp`. Expected values come from archc itself (the API's
errors, `summary --format json`), never from numbers written here.

One server serves the whole module (starting one costs about a second); each test opens its own
documents and closes them."""
from __future__ import annotations

import asyncio
import json
import shutil
import sys
import time
from pathlib import Path

import pytest

import archc
from archc.errors import SpecErrors
from archc.frontend import parse_text, to_dsl
from archc.ops import REGISTRY

pytest_lsp = pytest.importorskip("pytest_lsp")  # the dev extra; pygls and lsprotocol come with it
T = pytest.importorskip("lsprotocol.types")
ClientServerConfig, LanguageClient = pytest_lsp.ClientServerConfig, pytest_lsp.LanguageClient
client_capabilities = pytest_lsp.client_capabilities

ROOT = Path(__file__).resolve().parents[2]
SPECS = ROOT / "specs"
TIMEOUT = 20.0

served = pytest.mark.asyncio(loop_scope="module")  # the tests that talk to the module's server


@pytest_lsp.fixture(scope="module", config=ClientServerConfig(
    server_command=[sys.executable, "-m", "archc", "lsp"]))
async def client(lsp_client: LanguageClient):
    @lsp_client.feature(T.CLIENT_REGISTER_CAPABILITY)
    def register(params: T.RegistrationParams) -> None:  # as an editor does: accepted
        lsp_client.registrations = [*getattr(lsp_client, "registrations", []), *params.registrations]

    await lsp_client.initialize_session(T.InitializeParams(
        capabilities=client_capabilities("visual-studio-code"), root_uri=ROOT.as_uri(),
        initialization_options={"debounce": 0}))
    yield
    await lsp_client.shutdown_session()


# ----------------------------------------------------------------------------- helpers


class Doc:
    """An open document: its text, version and the edits that change it."""

    def __init__(self, client: LanguageClient, path: Path, text: str | None = None):
        self.client, self.path = client, path
        self.uri = path.as_uri()
        self.text = path.read_text() if text is None else text
        self.version = 1
        self.ident = T.TextDocumentIdentifier(uri=self.uri)
        language = "yaml" if path.suffix in (".yaml", ".yml") else "arch"
        client.diagnostics.pop(self.uri, None)
        client.text_document_did_open(T.DidOpenTextDocumentParams(
            text_document=T.TextDocumentItem(uri=self.uri, language_id=language, version=self.version, text=self.text)))

    def set(self, text: str) -> None:
        """Replace the text with an incremental change spanning the whole old text."""
        lines = self.text.split("\n")
        whole = T.Range(start=T.Position(line=0, character=0),
                        end=T.Position(line=len(lines) - 1, character=len(lines[-1])))
        self.version += 1
        self.client.diagnostics.pop(self.uri, None)
        self.client.text_document_did_change(T.DidChangeTextDocumentParams(
            text_document=T.VersionedTextDocumentIdentifier(uri=self.uri, version=self.version),
            content_changes=[T.TextDocumentContentChangePartial(range=whole, text=text)]))
        self.text = text

    def close(self) -> None:
        self.client.text_document_did_close(T.DidCloseTextDocumentParams(text_document=self.ident))

    def pos(self, needle: str, offset: int = 0, occurrence: int = 0) -> T.Position:
        """The position of the `occurrence`-th `needle` in the text, plus `offset` characters."""
        at = -1
        for _ in range(occurrence + 1):
            at = self.text.index(needle, at + 1)
        at += offset
        line = self.text.count("\n", 0, at)
        return T.Position(line=line, character=at - (self.text.rfind("\n", 0, at) + 1))

    async def diagnostics(self, predicate=lambda d: True, uri: str | None = None) -> list[T.Diagnostic]:
        """Wait for published diagnostics (of this document, or of `uri`) that satisfy
        `predicate`."""
        uri = uri or self.uri
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            found = self.client.diagnostics.get(uri)
            if found is not None and predicate(found):
                return list(found)
            await asyncio.sleep(0.01)
        raise AssertionError(f"no diagnostics as expected for {uri}: {self.client.diagnostics.get(uri)}")

    async def hover(self, position: T.Position) -> str:
        result = await self.client.text_document_hover_async(T.HoverParams(text_document=self.ident, position=position))
        assert result is not None, f"no hover at {position}"
        return result.contents.value


def summary(path: Path) -> dict:
    return json.loads(archc.load(path).summary("json"))


def shape_text(shape: list) -> str:
    return "[" + ", ".join(str(d) for d in shape) + "]"


# ----------------------------------------------------------------------------- diagnostics


@served
async def test_a_mistake_is_reported_where_check_reports_it_and_cleared_when_fixed(client: LanguageClient):
    path = SPECS / "resnet18.arch"
    doc = Doc(client, path)
    assert await doc.diagnostics() == []  # the zoo spec is valid
    bad = doc.text.replace("x -> ResNet(", "x -> ResNte(")
    with pytest.raises(SpecErrors) as expected:  # what `archc check` says about the same text
        archc.loads(bad, "arch", file=str(path))
    want = expected.value.errors[0]
    doc.set(bad)
    found = await doc.diagnostics(lambda d: len(d) > 0)
    assert len(found) == len(expected.value.errors)
    d = found[0]
    assert d.code == want.code and d.code
    assert d.message.startswith(want.message) and want.hint and f"hint: {want.hint}" in d.message
    assert d.severity == T.DiagnosticSeverity.Error
    assert (d.range.start.line, d.range.start.character) == (want.loc.line - 1, want.loc.col - 1)
    start, end = doc.pos("ResNte"), doc.pos("ResNte", len("ResNte"))
    assert d.range.start == start and d.range.end.line == end.line and d.range.end.character >= end.character
    doc.set(doc.text.replace("ResNte(", "ResNet("))
    assert await doc.diagnostics(lambda d: not d) == []
    doc.close()


@served
async def test_fixes_are_quick_fixes_and_related_places_are_related_information(client: LanguageClient):
    path = SPECS / "resnet18.arch"
    doc = Doc(client, path)
    assert await doc.diagnostics() == []
    doc.set(doc.text.replace("x -> ResNet(", "x -> ResNte("))
    (d,) = await doc.diagnostics(lambda d: len(d) > 0)
    actions = await client.text_document_code_action_async(T.CodeActionParams(
        text_document=doc.ident, range=d.range, context=T.CodeActionContext(diagnostics=[d])))
    (action,) = [a for a in actions if a.is_preferred]
    assert action.kind == T.CodeActionKind.QuickFix and action.title == "replace 'ResNte' with 'ResNet'"
    (edit,) = action.edit.changes[doc.uri]
    assert edit.new_text == "ResNet" and edit.range.start == doc.pos("ResNte")
    assert edit.range.end == doc.pos("ResNte", len("ResNte"))
    doc.set(doc.text.replace("x -> ResNte(", "x -> ResNet(") + "\nh = x -> conv2d(4, 3, name=stem)\n"
            "output extra = h -> conv2d(4, 3, name=stem)\n")
    (d,) = await doc.diagnostics(lambda d: len(d) > 0)
    (related,) = d.related_information
    assert d.code == "E-NAME-LAYER-DUPLICATE" and related.message == "first used here"
    assert related.location.range.start == doc.pos("conv2d(4, 3, name=stem)")


@served
async def test_every_independent_error_at_once_and_warnings_as_warnings(client: LanguageClient, tmp_path):
    text = ("model Two\ninput x: [N, 3, 32, 32]\n"
            "a = x -> conv2d(8, 3, strid=2)\n"
            "b = x -> conv2dd(8, 3)\n"
            "output y = concat(a, b)\n")
    path = tmp_path / "two.arch"
    path.write_text(text)
    with pytest.raises(SpecErrors) as expected:
        archc.load(path)
    doc = Doc(client, path)
    found = await doc.diagnostics(lambda d: len(d) > 0)
    assert sorted(d.code for d in found) == sorted(e.code for e in expected.value.errors)
    assert len(found) >= 2
    warn = "model W\ninput x: [N, 3, 32, 32]\noutput y = x -> linear(10)\n"  # linear on a feature map
    model = archc.loads(warn, "arch", file=str(path))
    assert model.warnings
    doc.set(warn)
    found = await doc.diagnostics(lambda d: len(d) > 0 and all(x.severity == T.DiagnosticSeverity.Warning for x in d))
    assert [d.code for d in found] == [w.code for w in model.warnings]
    doc.close()


@served
async def test_an_error_in_an_imported_file_shows_there_and_at_the_import(client: LanguageClient, tmp_path):
    (tmp_path / "lib.arch").write_text(
        "block Stem(c)(x) {\n  return x -> conv2d(c, 3, strid=2) -> relu\n}\n")
    model = tmp_path / "model.arch"
    model.write_text('model M\nimport "lib.arch"\ninput x: [N, 3, 32, 32]\n'
                     'output y = x -> Stem(8) -> global_avgpool\n')
    with pytest.raises(SpecErrors) as expected:
        archc.load(model)
    err = expected.value.errors[0]
    assert Path(err.loc.file).name == "lib.arch"
    doc = Doc(client, model)
    lib_uri = (tmp_path / "lib.arch").resolve().as_uri()
    at_import = await doc.diagnostics(lambda d: len(d) > 0)
    assert at_import[0].range.start == doc.pos('"lib.arch"')
    assert at_import[0].code == err.code and "lib.arch" in at_import[0].message
    in_lib = await doc.diagnostics(lambda d: len(d) > 0, uri=lib_uri)
    assert in_lib[0].code == err.code and in_lib[0].message.startswith(err.message)
    assert (in_lib[0].range.start.line, in_lib[0].range.start.character) == (err.loc.line - 1, err.loc.col - 1)
    # fixing the library (open in the editor, not saved) clears both
    lib = Doc(client, tmp_path / "lib.arch")
    lib.set(lib.text.replace("strid=", "stride="))
    await doc.diagnostics(lambda d: not d)
    await doc.diagnostics(lambda d: not d, uri=lib_uri)
    lib.close()
    doc.close()


@served
async def test_positions_are_in_the_clients_utf16_units(client: LanguageClient, tmp_path):
    # "😀" is one code point (archc's columns) but two UTF-16 units (the client's)
    text = 'model U\ninput x: [N, 3, 8, 8]\noutput y = x -> conv2d(4, 3, name="😀") -> relu(foo=1)\n'
    path = tmp_path / "u.arch"
    path.write_text(text)
    with pytest.raises(SpecErrors) as expected:
        archc.load(path)
    assert expected.value.errors[0].loc.col - 1 == text.split("\n")[2].index("foo")
    doc = Doc(client, path)
    found = await doc.diagnostics(lambda d: len(d) > 0)
    line = text.split("\n")[2]
    assert found[0].range.start.character == len(line[:line.index("foo")].encode("utf-16-le")) // 2
    doc.close()


# ----------------------------------------------------------------------------- hover


@served
async def test_hover_shapes_equal_the_summary(client: LanguageClient):
    path = SPECS / "cifar10_lenet.arch"
    data = summary(path)
    layers = {layer["id"]: layer for layer in data["layers"]}
    doc = Doc(client, path)
    assert await doc.diagnostics() == []
    named = next(layer for layer in data["layers"] if "features" in layer["tensor_names"])
    text = await doc.hover(doc.pos("features", 1))
    assert f"features: {shape_text(named['output_shape'])}" in text
    text = await doc.hover(doc.pos("probs", 1))
    assert shape_text(data["outputs"]["probs"]) in text
    text = await doc.hover(doc.pos("conv2d(6", 2))  # a layer call: the layer, then the op's entry
    conv1 = layers["conv1"]
    assert shape_text(conv1["output_shape"]) in text and f"{conv1['params']:,}" in text
    assert "receptive field" in text and "### `conv2d`" in text
    text = await doc.hover(doc.pos("num_classes", 1, occurrence=1))  # a param's use
    assert f"`{data['params']['num_classes']}`" in text
    doc.close()


@served
async def test_shapes_above_a_broken_line_stay_while_typing(client: LanguageClient, tmp_path):
    # the statement being typed is wrong; what does not read it keeps its shapes, inlay hints
    # too, and what reads it says why it has none
    path = tmp_path / "typing.arch"
    text = ("model T\ninput x: [N, 3, 32, 32]\nfeatures = x -> conv2d(16, 3, padding=1) -> relu\n"
            "pooled = features -> maxpool2d(2)\nbroken = pooled -> conv2d(32, 3, stridee=2)\n"
            "output y = broken -> flatten -> linear(10)\n")
    path.write_text(text)
    doc = Doc(client, path)
    found = await doc.diagnostics(lambda ds: bool(ds))
    assert [d.code for d in found] == ["E-CALL-UNKNOWN-KEYWORD"]
    assert "features: [N, 16, 32, 32]" in await doc.hover(doc.pos("features", 1))
    assert "pooled: [N, 16, 16, 16]" in await doc.hover(doc.pos("pooled", 1))
    assert "has an error" in await doc.hover(doc.pos("broken", 1))
    hints = await client.text_document_inlay_hint_async(T.InlayHintParams(
        text_document=doc.ident, range=T.Range(start=T.Position(line=0, character=0),
                                               end=T.Position(line=6, character=0))))
    labels = " ".join(h.label if isinstance(h.label, str) else "".join(p.value for p in h.label)
                      for h in hints or [])
    assert "[N, 16, 16, 16]" in labels
    doc.close()


@served
async def test_a_library_changed_on_disk_is_seen_without_an_edit(client: LanguageClient, tmp_path):
    # another program (git, a generator) rewrites an imported file: the editor reports it
    # (workspace/didChangeWatchedFiles) and the importing document is checked again at once
    # (the server registers the watch after `initialized`, a request of its own that may still be
    # on its way when this test runs first)
    deadline = time.monotonic() + TIMEOUT
    while not any(r.method == T.WORKSPACE_DID_CHANGE_WATCHED_FILES for r in getattr(client, "registrations", [])):
        assert time.monotonic() < deadline, "the server never registered workspace/didChangeWatchedFiles"
        await asyncio.sleep(0.02)
    lib = tmp_path / "lib.arch"
    lib.write_text("block Head(c)(x) {\n  return x -> conv2d(c, 1)\n}\n")
    path = tmp_path / "model.arch"
    path.write_text('model M\nimport "lib.arch"\ninput x: [N, 3, 8, 8]\noutput y = x -> Head(4)\n')
    doc = Doc(client, path)
    assert await doc.diagnostics() == []
    lib.write_text("block Head(c)(x) {\n  return x -> conv2d(c, 1, stridee=2)\n}\n")
    client.diagnostics.pop(doc.uri, None)
    client.workspace_did_change_watched_files(T.DidChangeWatchedFilesParams(changes=[
        T.FileEvent(uri=lib.as_uri(), type=T.FileChangeType.Changed)]))
    found = await doc.diagnostics(lambda ds: bool(ds))
    assert [d.code for d in found] == ["E-CALL-UNKNOWN-KEYWORD"]
    doc.close()


@served
async def test_hover_on_a_block_instance_and_across_an_import(client: LanguageClient):
    path = SPECS / "resnet18.arch"
    data = summary(path)
    doc = Doc(client, path)
    assert await doc.diagnostics() == []
    text = await doc.hover(doc.pos("logits", 1))
    assert f"logits: {shape_text(data['outputs']['logits'])}" in text
    text = await doc.hover(doc.pos("BasicBlock", 2))  # the block's instances, as the summary has them
    for scope in (s for s in data["scopes"] if s["type"] == "BasicBlock"):
        out = next(layer for layer in data["layers"] if layer["id"] == scope["outputs"][0])
        assert f"`{scope['id']}` · BasicBlock → `{shape_text(out['output_shape'])}`" in text
        assert f"params {scope['params']:,}" in text
    # the library, opened next to the model, shows shapes as the model instantiates it
    lib = Doc(client, SPECS / "torchvision" / "blocks" / "resnet.arch")
    await lib.diagnostics()
    text = await lib.hover(lib.pos("conv1) -> batchnorm2d(name=bn1)\n        -> relu", -len("conv2d(planes, 3, stride=stride, padding=1, bias=false, name=")))
    for layer in (x for x in data["layers"] if x["id"].endswith(".conv1") and x["id"].startswith("layer")):
        assert f"`{layer['id']}`" in text and shape_text(layer["output_shape"]) in text
    lib.close()
    doc.close()


# ----------------------------------------------------------------------------- completion


@served
async def test_completion_offers_ops_blocks_names_and_attributes(client: LanguageClient):
    path = SPECS / "cifar10_lenet.arch"
    doc = Doc(client, path)
    await doc.diagnostics()
    ident = doc.ident
    result = await client.text_document_completion_async(T.CompletionParams(text_document=ident, position=doc.pos("-> relu", 3)))
    labels = {i.label for i in result.items}
    assert {op.name for op in REGISTRY.ops} <= labels
    assert {"repeat", "sequential"} <= labels
    result = await client.text_document_completion_async(T.CompletionParams(text_document=ident, position=doc.pos("conv2d(6, 5, ", 13)))
    items = {i.label: i for i in result.items}
    conv = REGISTRY.get("conv2d")
    for attr in conv.attrs:
        if not attr.required:
            assert attr.name in items, attr.name
    stride = items["stride"]
    assert stride.insert_text == "stride=" and "1" in stride.detail
    assert {"name", "frozen", "features", "x", "num_classes"} <= set(items)  # options, then values
    resolved = await client.completion_item_resolve_async(
        next(i for i in (await client.text_document_completion_async(
            T.CompletionParams(text_document=ident, position=doc.pos("-> relu", 3)))).items if i.label == "maxpool2d"))
    assert "### `maxpool2d`" in resolved.documentation.value
    doc.close()
    model = Doc(client, SPECS / "resnet18.arch")
    await model.diagnostics()
    result = await client.text_document_completion_async(T.CompletionParams(
        text_document=model.ident, position=model.pos("BasicBlock, ", len("BasicBlock, "))))
    keywords = {i.label: i for i in result.items if i.insert_text and i.insert_text.endswith("=")}
    assert "1000" in keywords["num_classes"].detail and "layers" in keywords  # ResNet's parameters
    assert {"BasicBlock", "Bottleneck", "ResNet"} <= {i.label for i in result.items}  # imported blocks
    model.close()


# ----------------------------------------------------------------------------- navigation


@served
async def test_definition_and_references_across_an_import(client: LanguageClient):
    doc = Doc(client, SPECS / "resnet18.arch")
    await doc.diagnostics()
    lib = SPECS / "torchvision" / "blocks" / "resnet.arch"
    lib_text = lib.read_text()
    ident = doc.ident
    found = await client.text_document_definition_async(T.DefinitionParams(text_document=ident, position=doc.pos("BasicBlock", 3)))
    assert len(found) == 1 and found[0].uri == lib.resolve().as_uri()
    line = lib_text.split("\n")[found[0].range.start.line]
    assert line.startswith("block BasicBlock(")
    assert line[found[0].range.start.character:found[0].range.end.character] == "BasicBlock"
    found = await client.text_document_definition_async(T.DefinitionParams(text_document=ident, position=doc.pos("num_classes=", 2)))
    line = lib_text.split("\n")[found[0].range.start.line]
    assert line.startswith("block ResNet(") and "num_classes" in line  # a keyword: the block's parameter
    found = await client.text_document_definition_async(T.DefinitionParams(text_document=ident, position=doc.pos("torchvision/", 2)))
    assert found[0].uri == lib.resolve().as_uri()  # the import's path: the file
    refs = await client.text_document_references_async(T.ReferenceParams(
        text_document=ident, position=doc.pos("ResNet(", 1), context=T.ReferenceContext(include_declaration=True)))
    assert {r.uri for r in refs} == {doc.uri, lib.resolve().as_uri()}
    refs = await client.text_document_references_async(T.ReferenceParams(
        text_document=ident, position=doc.pos("num_classes", 1),
        context=T.ReferenceContext(include_declaration=True)))
    assert len(refs) == 2 and all(r.uri == doc.uri for r in refs)  # the param and its one use
    doc.close()


@served
async def test_document_symbols_formatting_and_inlay_hints(client: LanguageClient, tmp_path):
    path = SPECS / "cifar10_lenet.arch"
    data = summary(path)
    doc = Doc(client, path)
    await doc.diagnostics()
    ident = doc.ident
    symbols = await client.text_document_document_symbol_async(T.DocumentSymbolParams(text_document=ident))
    assert [s.name for s in symbols] == ["num_classes", "x", "features", "probs"]
    whole = T.Range(start=T.Position(line=0, character=0), end=T.Position(line=len(doc.text.split("\n")), character=0))
    hints = await client.text_document_inlay_hint_async(T.InlayHintParams(text_document=ident, range=whole))
    features = next(layer for layer in data["layers"] if "features" in layer["tensor_names"])
    labels = {(h.position.line, h.position.character): h.label for h in hints}
    assert labels[(doc.pos("features").line, doc.pos("features", len("features")).character)] == \
        f": {shape_text(features['output_shape'])}"
    assert f": {shape_text(data['outputs']['probs'])}" in labels.values()
    doc.close()
    # formatting: archc fmt's text, comments kept
    messy = ("# a comment above\nmodel   Tiny\ninput x : [N,3,8,8]   # the input\n"
             "output y=x->conv2d(4,3)->relu\n")
    path = tmp_path / "messy.arch"
    path.write_text(messy)
    doc = Doc(client, path)
    await doc.diagnostics()
    edits = await client.text_document_formatting_async(T.DocumentFormattingParams(
        text_document=doc.ident, options=T.FormattingOptions(tab_size=2, insert_spaces=True)))
    assert len(edits) == 1
    assert edits[0].new_text == to_dsl(parse_text(messy, "arch", str(path)))
    assert "# a comment above" in edits[0].new_text and "# the input" in edits[0].new_text
    doc.close()


@served
async def test_yaml_specs_get_the_same_service(client: LanguageClient, tmp_path):
    path = SPECS / "cifar10_lenet.yaml"
    data = summary(path)
    doc = Doc(client, path)
    assert await doc.diagnostics() == []
    text = await doc.hover(doc.pos("features", 1))
    named = next(layer for layer in data["layers"] if "features" in layer["tensor_names"])
    assert f"features: {shape_text(named['output_shape'])}" in text
    copy = tmp_path / "net.yaml"
    shutil.copy(path, copy)
    bad = Doc(client, copy, path.read_text().replace("{conv2d: [6, 5], name: conv1}", "{conv2d: [6, 5], strid: 2}"))
    found = await bad.diagnostics(lambda d: len(d) > 0)
    assert found[0].range.start == bad.pos("strid")
    bad.close()
    doc.close()


# ----------------------------------------------------------------------------- without a client


def test_the_static_path_never_imports_the_server():
    import subprocess
    code = ("import sys, archc; archc.load('specs/resnet18.arch').summary(); import archc.cli; "
            "bad = [m for m in sys.modules if m.split('.')[0] in ('pygls', 'lsprotocol') or "
            "m.startswith('archc.lsp')]; assert not bad, bad; print('ok')")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=False)
    assert proc.stdout.strip() == "ok", proc.stderr


def _project(path: Path, text: str | None = None):
    from archc.lsp.analysis import check
    from archc.lsp.project import Project
    project = Project()
    doc = project.open(path.as_uri(), str(path), path.read_text() if text is None else text)
    project.accept(doc, check(doc.text, doc.language, doc.path, project.cache))
    return project, doc


def test_index_scopes_names_as_the_elaborator_does(tmp_path):
    from archc.lsp.index import MODEL, DocumentIndex
    text = ("model T\nparam c = 8\ninput x: [N, 3, H, W]\n"
            "block B(c, k = 3)(x) {\n  y = x -> conv2d(c, k)\n  return y\n}\n"
            "h = x -> B(c, k=1) -> repeat(2, B(c, k=i + 1))\n"
            "output o = [v for v in [h]] -> concat\n")
    index = DocumentIndex(parse_text(text, "arch", "t.arch"), text, "t.arch", "arch")
    lines = text.split("\n")

    def target(line: int, word: str, nth: int = 0):
        col = -1
        for _ in range(nth + 1):
            col = lines[line].index(word, col + 1)
        return index.occurrence_at(line, col).key

    assert target(4, "c", 1) == ("local", "t.arch", "B", "c")  # the block's own c, not the model's
    assert target(7, "c") == ("local", "t.arch", MODEL, "c")
    assert target(7, "k=") == ("member", "B", "k")  # a keyword of a block call: its parameter
    assert target(7, "B") == ("block", "B")
    assert index.scope_at(4, 3) == "B" and index.scope_at(7, 0) is MODEL
    assert not [o for o in index.occurrences if o.name in ("i", "v")]  # repeat's index, a comprehension's
    assert [s.name for s in index.scope_symbols("B")] == ["c", "k", "x", "y"]


def test_index_binds_the_names_of_every_comprehension_clause():
    from archc.lsp.index import DocumentIndex
    text = ("model T\nparam rows = [[1, 8]]\ninput x: [N, 3, H, W]\n"
            "w = [c for r, c in rows if r > 0 for j in range(r) if j < c]\n"
            "output o = x -> conv2d(sum(w), 1)\n")
    index = DocumentIndex(parse_text(text, "arch", "t.arch"), text, "t.arch", "arch")
    assert not [o for o in index.occurrences if o.name in ("r", "c", "j")]
    assert [o.name for o in index.occurrences if o.name == "rows"] == ["rows", "rows"]


def test_yaml_index_locates_keys_and_block_inputs():
    from archc.lsp.index import DocumentIndex
    path = SPECS / "cifar10_lenet.yaml"
    text = path.read_text()
    index = DocumentIndex(parse_text(text, "yaml", str(path)), text, str(path), "yaml")
    spans = {s.name: s.span for s in index.symbols}
    lines = text.split("\n")
    for name, span in spans.items():
        assert lines[span.line][span.col:span.end_col] == name
    call = index.call_at(*_find(text, "conv2d: [16"), on_name=True)
    assert call is not None and call.call.func == "conv2d"


def _find(text: str, needle: str) -> tuple[int, int]:
    at = text.index(needle)
    return text.count("\n", 0, at), at - (text.rfind("\n", 0, at) + 1)


def test_imports_are_parsed_once_until_they_change(tmp_path):
    from archc.lsp.analysis import ParseCache, check
    lib = tmp_path / "lib.arch"
    lib.write_text("block Stem(c)(x) {\n  return x -> conv2d(c, 3)\n}\n")
    model = tmp_path / "m.arch"
    text = 'model M\nimport "lib.arch"\ninput x: [N, 3, 8, 8]\noutput y = x -> Stem(4)\n'
    model.write_text(text)
    cache = ParseCache()
    first = check(text, "arch", str(model), cache)
    assert first.ok and first.imported == {str(lib.resolve())}
    misses = cache.misses
    assert check(text, "arch", str(model), cache).ok and cache.misses == misses  # cached
    cache.set_overlay(str(lib), "block Stem(c)(x) {\n  return x -> conv2d(c, 5)\n}\n")  # edited, unsaved
    again = check(text, "arch", str(model), cache)
    assert cache.misses == misses + 1 and again.model.output_shapes["y"][2:] == (4, 4)
    cache.set_overlay(str(lib), None)
    lib.write_text("block Stem(c)(x) {\n  return x -> conv2dd(c, 3)\n}\n  ")  # saved, with a mistake
    failed = check(text, "arch", str(model), cache)
    assert failed.errors and failed.errors[0].loc.file == str(lib.resolve())


def test_completion_contexts():
    from archc.lsp.completion import context
    text = "block B(c)(x) {\n  y = x -> conv2d(c, 3, str\n"
    ctx = context(text, 1, len("  y = x -> conv2d(c, 3, str"), "arch")
    assert (ctx.call, ctx.prefix, ctx.scope) == ("conv2d", "str", "B")
    ctx = context("h = x -> ", 0, 9, "arch")
    assert ctx.after_pipe and ctx.call is None and ctx.scope is None
    ctx = context('n = "abc', 0, 7, "arch")
    assert ctx.in_string
    ctx = context("body:\n  h: [x, {conv2d: [8, 3], pa", 1, 31, "yaml")
    assert (ctx.call, ctx.prefix) == ("conv2d", "pa")


def test_hover_of_a_block_tensor_lists_its_instances(tmp_path):
    from archc.lsp.hover import hover
    path = tmp_path / "t.arch"
    path.write_text("model T\ninput x: [N, 3, 32, 32]\n"
                    "block B(c, s = 1)(x) {\n  y = x -> conv2d(c, 3, stride=s, padding=1)\n  return y\n}\n"
                    "output o = x -> B(8) -> B(16, s=2)\n")
    project, doc = _project(path)
    model = doc.model
    text = hover(project, doc, 3, 2).markdown  # `y`, in two instances of different shapes
    for scope in ("b", "b_1"):
        node = f"{scope}.y"  # (the statement's one call: named after its tensor)
        assert f"`{scope}`: `[N, {model.shapes[node][1]}, {model.shapes[node][2]}" in text


# ----------------------------------------------------------------------------- the grammar


GRAMMAR = ROOT / "editors" / "vscode" / "syntaxes" / "arch.tmLanguage.json"


def _rules(node):
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _rules(value)
    elif isinstance(node, list):
        for value in node:
            yield from _rules(value)


def test_textmate_grammar_is_valid_and_its_regexes_compile():
    import re
    grammar = json.loads(GRAMMAR.read_text())
    assert grammar["scopeName"] == "source.arch" and grammar["patterns"]
    repository = grammar["repository"]
    for rule in _rules(grammar):
        for key in ("match", "begin", "end"):
            if isinstance(rule.get(key), str):
                re.compile(rule[key])  # Oniguruma syntax, kept within what Python's re reads too
        include = rule.get("include")
        if include and include.startswith("#"):
            assert include[1:] in repository, include
    keywords = re.compile(repository["declaration"]["match"])
    assert keywords.match("training output aux = x").group(1, 2, 3) == ("training", "output", "aux")
    assert re.compile(repository["block-header"]["match"]).match("block BasicBlock(planes)(x) {")
    package = json.loads((GRAMMAR.parent.parent / "package.json").read_text())
    assert package["contributes"]["grammars"][0]["scopeName"] == "source.arch"
    assert package["contributes"]["languages"][0]["extensions"] == [".arch"]


def test_textmate_grammar_tokenizes_a_zoo_spec_as_vs_code_does():
    """With VS Code's own engine (vscode-textmate + oniguruma) where `npm install` has run in
    editors/vscode; skipped elsewhere."""
    node = shutil.which("node")
    folder = GRAMMAR.parent.parent
    if node is None or not (folder / "node_modules" / "vscode-textmate").is_dir():
        pytest.skip("run `npm install` in editors/vscode to tokenize with VS Code's engine")
    import subprocess
    spec = SPECS / "torchvision" / "blocks" / "regnet.arch"
    proc = subprocess.run([node, "test/tokenize.js", str(spec)], cwd=folder, capture_output=True,
                          text=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    tokens = json.loads(proc.stdout.splitlines()[0])
    scopes = {}
    for _, text, names in tokens:
        scopes.setdefault(text.strip(), set()).update(names)
    assert "storage.type.block.arch" in scopes["block"]
    assert "keyword.control.return.arch" in scopes["return"]
    assert "keyword.operator.pipe.arch" in scopes["->"]
    assert "entity.name.function.call.arch" in scopes["conv2d"]
    assert any(name.startswith("comment.line") for name in scopes.get("#", set()))
    assert any(n.startswith("constant.numeric") for text, names in scopes.items() if text.isdigit() for n in names)
