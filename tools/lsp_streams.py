"""Streams of language-server messages for fuzzing `archc lsp` (issue 24): the requests an editor
sends, valid and invalid, at random positions, mixed with edits that turn a document hostile.

    .venv/bin/python tools/lsp_streams.py [--seed 0] [--count 200] [-o FILE.jsonl]
    .venv/bin/python tools/lsp_streams.py --run [--seed 0] [--count 200]   # against a real server

A stream is a list of JSON-RPC messages (dicts) about two documents: `healthy` (a small valid
model, opened by whoever runs the stream) and `hostile` (opened by the stream, then replaced
again and again). It holds:

- requests of every feature the server has (hover, completion, definition, references,
  formatting, inlayHint, documentSymbol, codeAction, completionItem/resolve) at positions in the
  document, past its end, negative, huge (2**31, 10**12) or of the wrong type (a string, null, a
  float, a list); with parameters missing, null, a list instead of an object, or of the wrong
  shape; unknown methods; requests on documents never opened;
- notifications: `didChange` storms on the hostile document (whole-text replacements by the
  hostile generators of tools/synthetic_specs.py — shared-reference lists, string doubling, many
  errors, comment-heavy, dunder block names — and small edits at random ranges, some outside the
  text), unknown notifications, `didOpen` of documents that are not specs.

Every request has a unique id (`Request ids` below): a server must answer each exactly once, with
a result or a JSON-RPC error, and never die. `run_stream` drives a server over stdio and checks
that; tests/lsp/test_lsp_fuzz.py runs a seeded sample.
"""
from __future__ import annotations

import argparse
import json
import os
import queue
import random
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

import synthetic_specs  # noqa: E402 - next to this file

HEALTHY = "input x: [1, 3, 8, 8]\ny = x -> conv2d(4, 3) -> relu()\noutput y\n"

# hostile documents, each within the server's check budget to run out or to finish: sizes that
# make each generator's class show (a limit reached, many diagnostics, long comments)
HOSTILE_SIZES = {"errors": 400, "commented": 1500, "shared_lists": 20, "strings": 30, "dunders": 12}

POSITIONAL = ("textDocument/hover", "textDocument/completion", "textDocument/definition",
              "textDocument/references")
WHOLE_DOCUMENT = ("textDocument/documentSymbol", "textDocument/formatting", "textDocument/inlayHint",
                  "textDocument/codeAction")
UNKNOWN = ("archc/nothing", "textDocument/unknownFeature", "$/archcPrivate", "workspace/nothing", "",
           "textDocument/hover/extra")
BAD_NUMBERS: tuple[Any, ...] = (-1, -(2 ** 31), 2 ** 31, 10 ** 12, "3", None, 1.5, [], {}, True)


def hostile_documents() -> dict[str, str]:
    """Each hostile generator's document, by name."""
    docs = {name: synthetic_specs.generate(name, size) for name, size in HOSTILE_SIZES.items()}
    docs["dunders_yaml_like"] = "inputs:\n  x: [1, 3, 8, 8]\nbody:\n  __call__: [x, relu]\noutputs: [__call__]\n"
    docs["unterminated"] = "input x: [1, 3, 8, 8]\ny = x -> conv2d(4, 3\noutput y\n" + '"' * 3 + "\n" * 50
    docs["empty"] = ""
    docs["binary_like"] = "\x00\x01\ufeff\u202e" * 50
    return docs


class Streams:
    """A seeded generator of messages about `healthy_uri` and `hostile_uri`."""

    def __init__(self, seed: int, healthy_uri: str, hostile_uri: str, texts: dict[str, str] | None = None):
        self.rng = random.Random(seed)
        self.healthy, self.hostile = healthy_uri, hostile_uri
        self.texts = texts if texts is not None else hostile_documents()
        self.current = {healthy_uri: HEALTHY, hostile_uri: ""}
        self.version = 1
        self.next_id = 0
        self.seed = seed

    # ------------------------------------------------------------------ pieces
    def _id(self) -> int | str:
        self.next_id += 1
        return self.next_id if self.rng.random() < 0.7 else f"s{self.seed}-{self.next_id}"

    def _uri(self) -> Any:
        roll = self.rng.random()
        if roll < 0.45:
            return self.hostile
        if roll < 0.85:
            return self.healthy
        return self.rng.choice(["file:///never/opened.arch", "untitled:Untitled-1", "not a uri", "file://",
                                "file:///%00.arch"])

    def _position(self, uri: Any) -> Any:
        roll = self.rng.random()
        lines = self.current.get(uri, "").split("\n")
        if roll < 0.55:  # in the text
            line = self.rng.randrange(len(lines))
            return {"line": line, "character": self.rng.randrange(len(lines[line]) + 2)}
        if roll < 0.7:  # past its end
            return {"line": len(lines) + self.rng.randrange(5), "character": self.rng.randrange(1000)}
        if roll < 0.92:  # a bad number somewhere
            pos: dict[str, Any] = {"line": self.rng.randrange(len(lines)), "character": 0}
            pos[self.rng.choice(["line", "character"])] = self.rng.choice(BAD_NUMBERS)
            return pos
        return self.rng.choice([None, {}, [0, 0], "0:0", {"line": 0}, {"character": 0}])

    def _range(self, uri: Any) -> Any:
        start, end = self._position(uri), self._position(uri)
        if self.rng.random() < 0.1:
            return self.rng.choice([None, {}, {"start": start}, [start, end]])
        return {"start": start, "end": end}

    def _document(self, uri: Any) -> Any:
        if self.rng.random() < 0.05:
            return self.rng.choice([None, {}, {"uri": 5}, "uri", []])
        return {"uri": uri}

    def _params(self, method: str) -> Any:
        uri = self._uri()
        if self.rng.random() < 0.06:  # the parameters themselves wrong
            return self.rng.choice([None, [], [1, 2], "params", 0, {}])
        params: dict[str, Any] = {"textDocument": self._document(uri)}
        if method in POSITIONAL:
            params["position"] = self._position(uri)
            if method == "textDocument/references":
                params["context"] = self.rng.choice([{"includeDeclaration": True}, {"includeDeclaration": "yes"},
                                                     {}, None])
            if method == "textDocument/completion" and self.rng.random() < 0.3:
                params["context"] = {"triggerKind": self.rng.choice([1, 2, 3, 99, -1]),
                                     "triggerCharacter": self.rng.choice([">", "(", None, 5])}
        elif method == "textDocument/formatting":
            params["options"] = self.rng.choice([{"tabSize": 2, "insertSpaces": True}, {"tabSize": -3},
                                                 {"tabSize": "two", "insertSpaces": 1}, None])
        elif method in ("textDocument/inlayHint", "textDocument/codeAction"):
            params["range"] = self._range(uri)
            if method == "textDocument/codeAction":
                params["context"] = self.rng.choice([{"diagnostics": []}, {"diagnostics": [{}]}, {}, None])
        if self.rng.random() < 0.08:  # a field missing
            params.pop(self.rng.choice(list(params)))
        return params

    # ------------------------------------------------------------------ messages
    def request(self) -> dict:
        roll = self.rng.random()
        if roll < 0.06:
            method = self.rng.choice(UNKNOWN)
            message = {"jsonrpc": "2.0", "id": self._id(), "method": method, "params": {}}
        elif roll < 0.1:
            item = self.rng.choice([{"label": "conv2d", "data": {"op": "conv2d"}}, {"label": "x", "data": [1]},
                                    {"label": 5}, {}, None, {"label": "relu", "data": {"op": 5, "block": None}}])
            message = {"jsonrpc": "2.0", "id": self._id(), "method": "completionItem/resolve", "params": item}
        else:
            method = self.rng.choice(POSITIONAL + WHOLE_DOCUMENT)
            message = {"jsonrpc": "2.0", "id": self._id(), "method": method, "params": self._params(method)}
        if message["params"] is None and self.rng.random() < 0.5:
            del message["params"]
        return message

    def change(self) -> list[dict]:
        """A storm of didChange notifications on the hostile document."""
        out = []
        for _ in range(self.rng.randint(1, 6)):
            self.version += 1
            old = self.current[self.hostile]
            if self.rng.random() < 0.5:
                new = self.texts[self.rng.choice(list(self.texts))]
                change: dict[str, Any] = {"text": new}
                if self.rng.random() < 0.5:  # as a range spanning the old text
                    lines = old.split("\n")
                    change = {"range": {"start": {"line": 0, "character": 0},
                                        "end": {"line": len(lines) - 1, "character": len(lines[-1])}}, "text": new}
            else:  # a small edit somewhere (sometimes out of range)
                insert = self.rng.choice(["x", "\n", "# c\n", "(", ")", "->", "[", '"', "__call__", "\t", "é", "🙂"])
                lines = old.split("\n")
                line = self.rng.randrange(len(lines) + 2)
                char = self.rng.randrange(len(lines[line]) + 3) if line < len(lines) else self.rng.randrange(4)
                change = {"range": {"start": {"line": line, "character": char},
                                    "end": {"line": line, "character": char}}, "text": insert}
                if line < len(lines):
                    pieces = lines[line]
                    lines[line] = pieces[:char] + insert + pieces[char:]
                new = "\n".join(lines)
            self.current[self.hostile] = new
            out.append({"jsonrpc": "2.0", "method": "textDocument/didChange", "params": {
                "textDocument": {"uri": self.hostile, "version": self.version}, "contentChanges": [change]}})
        return out

    def open_hostile(self) -> dict:
        name = self.rng.choice(list(self.texts))
        self.current[self.hostile] = self.texts[name]
        self.version += 1
        return {"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"textDocument": {
            "uri": self.hostile, "languageId": "arch", "version": self.version, "text": self.texts[name]}}}

    def notification(self) -> dict:
        return self.rng.choice([
            {"jsonrpc": "2.0", "method": "archc/unknownNotification", "params": {}},
            {"jsonrpc": "2.0", "method": "$/cancelRequest", "params": {"id": self.rng.randrange(1, 1000)}},
            {"jsonrpc": "2.0", "method": "$/setTrace", "params": {"value": "off"}},
            {"jsonrpc": "2.0", "method": "textDocument/didSave", "params": {"textDocument": {"uri": self._uri()}}},
            {"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"textDocument": {
                "uri": "file:///tmp/archc-fuzz-other.yaml", "languageId": "yaml", "version": 1,
                "text": "key: value\n"}}},
        ])

    def stream(self, count: int) -> list[dict]:
        """`count` messages: the hostile document opened first, then requests, storms and
        notifications mixed."""
        out = [self.open_hostile()]
        while len(out) < count:
            roll = self.rng.random()
            if roll < 0.7:
                out.append(self.request())
            elif roll < 0.9:
                out.extend(self.change())
            else:
                out.append(self.notification())
        return out


def requests_in(messages: list[dict]) -> list[Any]:
    """The ids every message that is a request carries (each must be answered once)."""
    return [m["id"] for m in messages if "id" in m and "method" in m]


# ----------------------------------------------------------------------------- driving a server


class Connection:
    """`python -m archc lsp` in a subprocess, spoken to in raw JSON-RPC frames. Responses are
    collected by id (every one, so that a second answer to one request is seen)."""

    def __init__(self, env: dict[str, str] | None = None, cwd: str | None = None):
        self.proc = subprocess.Popen([sys.executable, "-m", "archc", "lsp"], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                     env={**os.environ, **(env or {})}, cwd=cwd)
        self.responses: dict[Any, list[tuple[float, dict]]] = {}
        self.notifications: queue.Queue = queue.Queue()
        self.lock = threading.Lock()
        self.arrived = threading.Condition(self.lock)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        out = self.proc.stdout
        assert out is not None
        while True:
            length = None
            while True:
                line = out.readline()
                if not line:
                    return
                if line in (b"\r\n", b"\n"):
                    break
                name, _, value = line.decode("ascii", "replace").partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value.strip())
            if length is None:
                continue
            message = json.loads(out.read(length))
            if "method" in message and "id" in message:  # a request of the server's: answered
                self.send({"jsonrpc": "2.0", "id": message["id"], "result": None})
            elif "method" in message:
                self.notifications.put(message)
            else:
                with self.arrived:
                    self.responses.setdefault(message.get("id"), []).append((time.monotonic(), message))
                    self.arrived.notify_all()

    def send(self, message: dict | bytes) -> None:
        body = message if isinstance(message, bytes) else json.dumps(message).encode()
        assert self.proc.stdin is not None
        self.proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.proc.stdin.flush()

    def wait(self, msg_id: Any, timeout: float) -> dict | None:
        deadline = time.monotonic() + timeout
        with self.arrived:
            while msg_id not in self.responses:
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self.arrived.wait(left)
            return self.responses[msg_id][0][1]

    def request(self, method: str, params: Any, msg_id: Any, timeout: float = 10.0) -> dict | None:
        self.send({"jsonrpc": "2.0", "id": msg_id, "method": method, "params": params})
        return self.wait(msg_id, timeout)

    def initialize(self, root: str, options: dict | None = None) -> None:
        answer = self.request("initialize", {"processId": None, "rootUri": root, "capabilities": {},
                                             "initializationOptions": options or {}}, "init", 60)
        assert answer is not None and "result" in answer, answer
        self.send({"jsonrpc": "2.0", "method": "initialized", "params": {}})

    def open(self, uri: str, text: str, version: int = 1) -> None:
        self.send({"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"textDocument": {
            "uri": uri, "languageId": "arch", "version": version, "text": text}}})

    def close(self) -> int | None:
        """Shut down and exit; the exit status (None if it had to be killed)."""
        try:
            self.request("shutdown", None, "shutdown", 10)
            self.send({"jsonrpc": "2.0", "method": "exit"})
            return self.proc.wait(10)
        except (OSError, subprocess.TimeoutExpired, ValueError):
            self.proc.kill()
            self.proc.wait()
            return None


def run_stream(seed: int, count: int, folder: Path, hover_every: int = 10,
               options: dict | None = None) -> dict:
    """Drive a fresh server with one stream; returns what was seen: `unanswered` and `twice`
    (request ids answered 0 or more than 1 times), `internal` (ids answered with -32603),
    `hover_seconds` (the healthy document's hover latencies, each sent right after an edit of the
    hostile one), `slowest` (the five requests of the stream answered last after they were sent), `alive` (the server still running before shutdown) and `exit` status."""
    healthy, hostile = (folder / "healthy.arch").as_uri(), (folder / "hostile.arch").as_uri()
    streams = Streams(seed, healthy, hostile)
    messages = streams.stream(count)
    conn = Connection(cwd=str(folder))
    hover_latencies: list[float] = []
    try:
        conn.initialize(folder.as_uri(), options or {"debounce": 0, "checkSeconds": 2})
        conn.open(healthy, HEALTHY)
        probe = 0
        since_edit = 0
        sent: dict[Any, float] = {}
        for message in messages:
            if "id" in message:
                sent[message["id"]] = time.monotonic()
            conn.send(message)
            since_edit += 1
            if message.get("method") in ("textDocument/didChange", "textDocument/didOpen") and since_edit >= hover_every:
                since_edit = 0
                probe += 1
                start = time.monotonic()
                answer = conn.request("textDocument/hover", {"textDocument": {"uri": healthy},
                                                             "position": {"line": 1, "character": 0}},
                                      f"probe-{probe}", 30)
                hover_latencies.append(time.monotonic() - start if answer is not None else float("inf"))
        ids = requests_in(messages)
        deadline = time.monotonic() + 30
        for msg_id in ids:
            conn.wait(msg_id, max(0.0, deadline - time.monotonic()))
        time.sleep(0.3)  # a second answer to any of them would have come by now
        alive = conn.proc.poll() is None
        with conn.lock:
            seen = {k: [m for _, m in v] for k, v in conn.responses.items()}
            answered_at = {k: v[0][0] for k, v in conn.responses.items()}
        methods = {m["id"]: m["method"] for m in messages if "id" in m and "method" in m}
        slowest = sorted(((answered_at[i] - sent[i], i, methods[i]) for i in ids if i in answered_at and i in sent),
                         reverse=True)[:5]
        report = {
            "seed": seed, "messages": len(messages), "requests": len(ids),
            "unanswered": [i for i in ids if i not in seen],
            "twice": [i for i in ids if len(seen.get(i, [])) > 1],
            "unexpected": [k for k in seen if k not in set(ids) and not str(k).startswith(("probe-", "init"))
                           and k is not None],
            "internal": [(i, seen[i][0]["error"].get("message")) for i in ids
                         if i in seen and seen[i][0].get("error", {}).get("code") == -32603],
            "malformed": [i for i in ids if i in seen and ("result" in seen[i][0]) == ("error" in seen[i][0])],
            "hover_seconds": hover_latencies, "alive": alive,
            "slowest": [(round(t, 3), i, method) for t, i, method in slowest],
        }
    finally:
        report_exit = conn.close()
    report["exit"] = report_exit
    return report


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--run", action="store_true", help="drive `archc lsp` with the stream and report")
    parser.add_argument("-o", "--output", help="write the stream as JSON lines (default: stdout)")
    args = parser.parse_args()
    if args.run:
        import tempfile
        with tempfile.TemporaryDirectory(prefix="archc-lsp-fuzz-") as tmp:
            report = run_stream(args.seed, args.count, Path(tmp))
        print(json.dumps(report, indent=2))
        ok = report["alive"] and not (report["unanswered"] or report["twice"] or report["internal"])
        return 0 if ok else 1
    streams = Streams(args.seed, "file:///healthy.arch", "file:///hostile.arch")
    lines = "".join(json.dumps(m) + "\n" for m in streams.stream(args.count))
    if args.output:
        Path(args.output).write_text(lines)
    else:
        sys.stdout.write(lines)
    return 0


if __name__ == "__main__":
    sys.exit(main())
