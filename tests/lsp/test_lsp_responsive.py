"""The language server stays responsive whatever one document does (issue 24): each check runs in
a process of its own with a budget, a newer edit supersedes a running check, hover answers from
the last finished check, and every request the server cannot read gets a JSON-RPC error reply.

A server of its own, with a check budget of 2 s. Orderings are asserted rather than absolute
times where possible (the machine may be slow and shared); the times asserted are generous."""
from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path

import pytest

pytest_lsp = pytest.importorskip("pytest_lsp")
T = pytest.importorskip("lsprotocol.types")
ClientServerConfig, LanguageClient = pytest_lsp.ClientServerConfig, pytest_lsp.LanguageClient

sys.path.insert(0, str(Path(__file__).parent))
from test_lsp import Doc

ROOT = Path(__file__).resolve().parents[2]
BUDGET = 2.0
served = pytest.mark.asyncio(loop_scope="module")

# evaluation that takes about 10 s, made of small values (30 sums of a million items each, within
# every limit on one value): stopped by the budget
SLOW = "".join(["n0 = 1\n", *(f"n{k} = n{k - 1} % 7 + sum([i % 3 for i in range(1000000)])\n" for k in range(1, 31)),
                "input x: [1, 3, 8, 8]\ny = x -> conv2d(n30 % 4 + 1, 3)\noutput y\n"])
FAST = "input x: [1, 3, 8, 8]\ny = x -> conv2d(4, 3)\noutput y\n"


@pytest_lsp.fixture(scope="module", config=ClientServerConfig(
    server_command=[sys.executable, "-m", "archc", "lsp"]))
async def client(lsp_client: LanguageClient):
    @lsp_client.feature(T.CLIENT_REGISTER_CAPABILITY)
    def register(params: T.RegistrationParams) -> None:
        pass

    lsp_client.answers = {}
    handle = lsp_client.protocol._handle_response

    def record(msg_id, result=None, error=None):  # every response, those to raw requests too
        lsp_client.answers[msg_id] = (result, error)
        if msg_id in lsp_client.protocol._request_futures:
            handle(msg_id, result, error)

    lsp_client.protocol._handle_response = record
    await lsp_client.initialize_session(T.InitializeParams(
        capabilities=pytest_lsp.client_capabilities("visual-studio-code"), root_uri=ROOT.as_uri(),
        initialization_options={"debounce": 0, "checkSeconds": BUDGET}))
    yield
    await lsp_client.shutdown_session()


def codes(diags) -> list:
    return [d.code for d in diags]


@served
async def test_a_slow_document_delays_no_other_and_is_stopped_at_the_budget(client: LanguageClient, tmp_path):
    slow = Doc(client, tmp_path / "slow.arch", SLOW)
    start = time.monotonic()
    await asyncio.sleep(0.2)  # the slow check is running
    normal = Doc(client, tmp_path / "normal.arch", FAST)
    assert await normal.diagnostics() == []
    text = await asyncio.wait_for(normal.hover(normal.pos("y =")), BUDGET)  # while the other runs
    assert "[1, 4, 6, 6]" in text
    assert slow.uri not in client.diagnostics, "the normal document waited for the slow one"
    found = await slow.diagnostics()
    assert "E-LIMIT-TIME" in codes(found), found
    assert time.monotonic() - start < BUDGET + 6
    slow.close(), normal.close()


@served
async def test_a_newer_edit_supersedes_a_running_check(client: LanguageClient, tmp_path):
    doc = Doc(client, tmp_path / "edited.arch", SLOW)
    await asyncio.sleep(0.3)
    doc.set(FAST)
    start = time.monotonic()
    assert await doc.diagnostics() == []
    assert time.monotonic() - start < BUDGET  # not after the old check's budget
    await asyncio.sleep(BUDGET + 0.5)  # the old check would have timed out by now: nothing published
    assert list(client.diagnostics[doc.uri]) == []
    doc.close()


@served
async def test_hover_answers_from_the_last_good_check_while_a_check_runs(client: LanguageClient, tmp_path):
    doc = Doc(client, tmp_path / "hover.arch", FAST)
    assert await doc.diagnostics() == []
    doc.set(FAST + "\n" + SLOW.replace("input x", "input z").replace("y =", "w =").replace("output y", "output w"))
    start = time.monotonic()
    result = await client.text_document_hover_async(T.HoverParams(text_document=doc.ident, position=doc.pos("y =")))
    assert time.monotonic() - start < BUDGET
    assert result is not None
    assert "E-LIMIT-TIME" in codes(await doc.diagnostics())
    doc.close()


@served
async def test_completion_answers_from_the_last_good_analysis_while_a_check_runs(client: LanguageClient, tmp_path):
    """Completion reads the document's names from its parse (made on the server at once, or the
    last one that parsed), never waiting for the check that is running."""
    doc = Doc(client, tmp_path / "complete.arch", FAST)
    assert await doc.diagnostics() == []
    slow_tail = SLOW.replace("input x", "input z").replace("y =", "w =").replace("output y", "output w")

    async def names_at(line: int, character: int) -> set[str]:
        start = time.monotonic()
        result = await client.text_document_completion_async(T.CompletionParams(
            text_document=doc.ident, position=T.Position(line=line, character=character)))
        assert time.monotonic() - start < BUDGET
        items = result.items if isinstance(result, T.CompletionList) else result
        return {i.label for i in items if i.kind == T.CompletionItemKind.Variable}

    doc.set(FAST + "v = y\n" + slow_tail)  # parses; its check runs past the budget
    line = doc.text.split("\n").index("v = y")
    assert {"x", "y", "n30", "z"} <= await names_at(line, 4)
    assert "E-LIMIT-TIME" in codes(await doc.diagnostics())
    doc.set(FAST + "v = (\n" + slow_tail)  # broken: the names of the last text that parsed
    assert {"x", "y", "n30", "z"} <= await names_at(line, 4)
    assert "E-SYNTAX" in "".join(codes(await doc.diagnostics()))
    doc.close()


@served
async def test_a_large_document_does_not_stop_the_server(client: LanguageClient, tmp_path):
    lines = ["input x: [1, 3, 8, 8]"] + [f"t{i} = x -> relu()  # comment {i}" for i in range(2000)]
    big = Doc(client, tmp_path / "big.arch", "\n".join(lines) + "\noutput t0\n")
    other = Doc(client, tmp_path / "other.arch", FAST)
    formatting = asyncio.ensure_future(client.text_document_formatting_async(T.DocumentFormattingParams(
        text_document=big.ident, options=T.FormattingOptions(tab_size=2, insert_spaces=True))))
    await asyncio.sleep(0.05)
    assert await asyncio.wait_for(other.hover(other.pos("y =")), BUDGET)  # while the big one is handled
    await asyncio.wait_for(formatting, BUDGET + 5)  # answered: formatted, or stopped at the budget
    assert await big.diagnostics()  # its check came back (t1... are unused) or was stopped
    big.close(), other.close()


async def raw(client: LanguageClient, message: dict | bytes, msg_id=None, timeout: float = 10.0):
    body = message if isinstance(message, bytes) else json.dumps(message).encode()
    res = client.protocol.writer.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
    if asyncio.iscoroutine(res) or isinstance(res, asyncio.Future):
        await res
    deadline = time.monotonic() + timeout
    while msg_id not in client.answers:
        assert time.monotonic() < deadline, f"no answer to {message!r}"
        await asyncio.sleep(0.01)
    return client.answers.pop(msg_id)


@served
@pytest.mark.parametrize("name, params, code", [
    ("negative line", {"textDocument": {"uri": "file:///x.arch"}, "position": {"line": -1, "character": 0}}, -32602),
    ("wrong types", {"textDocument": {"uri": 5}, "position": {"line": "a", "character": None}}, -32602),
    ("missing position", {"textDocument": {"uri": "file:///x.arch"}}, -32602),
    ("params not an object", [1, 2], -32602),
    ("no params", None, -32602),
])
async def test_an_invalid_request_is_answered_with_an_error(client: LanguageClient, name, params, code):
    msg_id = f"bad-{name}"
    message = {"jsonrpc": "2.0", "id": msg_id, "method": "textDocument/hover"}
    if params is not None:
        message["params"] = params
    result, error = await raw(client, message, msg_id)
    assert error is not None and error.code == code, (result, error)


@served
async def test_an_unknown_method_a_request_without_method_and_bad_json_are_answered(client: LanguageClient):
    _, error = await raw(client, {"jsonrpc": "2.0", "id": 9001, "method": "archc/nothing", "params": {}}, 9001)
    assert error.code == -32601
    _, error = await raw(client, {"jsonrpc": "2.0", "id": 9002, "params": {}}, 9002)
    assert error.code == -32600
    _, error = await raw(client, b"{not json", None)
    assert error.code == -32700
    # and the server still answers
    _, error = await raw(client, {"jsonrpc": "2.0", "id": 9003, "method": "archc/nothing"}, 9003)
    assert error.code == -32601
