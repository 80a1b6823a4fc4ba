"""Latency of the language server as an editor sees it: `archc lsp` in a subprocess, driven over
stdio by a client (pygls's), on several zoo specs.

    .venv/bin/python benchmarks/lsp_latency.py [--runs 15] [--debounce MS] [-o FILE]

Per spec, medians of `--runs` repetitions of:
    open        didOpen -> the first diagnostics (cold for that spec: its imports parsed once)
    edit        a change that keeps the spec valid (a comment) -> its diagnostics (none)
    mistake     a change that adds an error (an unknown op) -> the diagnostic
    fix         the change that removes it -> empty diagnostics
    hover       a hover on the output's name -> the answer (shape, parameters, MACs)
    check       the check alone, in this process (`archc.lsp.analysis.check`, imports cached):
                what the server does per edit, without the protocol and the debounce
The server's debounce (none by default; --debounce MS sets one) is included in the edit,
mistake and fix times. Prints a table; writes the numbers as JSON (default
benchmarks/results/lsp_latency.json).

Edit to diagnostics, before and after re-analysing only what an edit changes (issue 23,
archc/lsp/incremental.py and archc/lsp/live.py), in the same run: two servers, one with
`incremental: false` (every edit a whole check in a process of its own, as before) and one as it
is now (comment edits carried over; program edits checked in the server's process, resuming the
parse and elaboration of the last check), on DenseNet-121
(specs/torchvision/densenet121.arch) and a 5,000-line synthetic spec (tools/synthetic_specs.py
flat 5000), medians of --edit-runs of each edit kind (and, for the server as it is now, the CPU
time of the check it makes for the mistake and change edits, `live_cpu_ms`, measured in this
process):
    comment     a comment line added at the top (every line moves)
    eol         an end-of-line comment added in the middle
    mistake     an error statement appended (the program changes)
    undo        the mistake removed again (the text of an earlier check)
    change      a number changed in the last statement (the program changes)
After each edit the benchmark waits until the server has had time for its full check, so that
one edit's background work does not slow the next. `--only-edits` measures this part only (the
output keeps the per-spec rows of the last whole run); `--edit-specs` picks the subjects.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

SPECS = ["resnet18.arch", "resnet18.yaml", "resnet50.arch", "googlenet.arch", "unet_keras.arch",
         "mobilenet_v2.arch", "torchvision/densenet121.arch", "torchvision/efficientnet_b0.arch",
         "torchvision/convnext_tiny.arch"]


class Session:
    """A client connected to `python -m archc lsp`, waiting for diagnostics by version."""

    def __init__(self, debounce: float, options: dict | None = None):
        from lsprotocol import types as T
        from pygls.lsp.client import LanguageClient
        self.T = T
        self.client = LanguageClient("archc-lsp-latency", "1")
        self.debounce = debounce
        self.options = options or {}
        self.waiting: dict[tuple[str, int], asyncio.Future] = {}

        @self.client.feature(T.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        def diagnostics(params: T.PublishDiagnosticsParams) -> None:
            fut = self.waiting.pop((params.uri, params.version), None)
            if fut is not None and not fut.done():
                fut.set_result(list(params.diagnostics))

        @self.client.feature(T.WINDOW_LOG_MESSAGE)
        def log(params) -> None:
            pass

    async def start(self) -> None:
        T = self.T
        await self.client.start_io(sys.executable, "-m", "archc", "lsp")
        await self.client.initialize_async(T.InitializeParams(
            capabilities=T.ClientCapabilities(), root_uri=ROOT.as_uri(),
            initialization_options={"debounce": self.debounce, **self.options}))
        self.client.initialized(T.InitializedParams())

    async def stop(self) -> None:
        await self.client.shutdown_async(None)
        self.client.exit(None)
        await self.client.stop()

    def _expect(self, uri: str, version: int) -> asyncio.Future:
        fut = asyncio.get_running_loop().create_future()
        self.waiting[(uri, version)] = fut
        return fut

    async def open(self, uri: str, text: str, language: str, version: int) -> tuple[float, list]:
        T = self.T
        fut = self._expect(uri, version)
        start = time.perf_counter()
        self.client.text_document_did_open(T.DidOpenTextDocumentParams(
            text_document=T.TextDocumentItem(uri=uri, language_id=language, version=version, text=text)))
        found = await asyncio.wait_for(fut, 60)
        return time.perf_counter() - start, found

    async def change(self, uri: str, old: str, new: str, version: int) -> tuple[float, list]:
        """As an editor sends an edit: the range that changed and its new text (the texts here
        are ASCII, so code points are UTF-16 units)."""
        T = self.T
        head = 0
        while head < min(len(old), len(new)) and old[head] == new[head]:
            head += 1
        tail = 0
        while tail < min(len(old), len(new)) - head and old[len(old) - 1 - tail] == new[len(new) - 1 - tail]:
            tail += 1

        def position(offset: int) -> T.Position:
            before = old[:offset]
            return T.Position(line=before.count("\n"), character=offset - (before.rfind("\n") + 1))

        changed = T.Range(start=position(head), end=position(len(old) - tail))
        fut = self._expect(uri, version)
        start = time.perf_counter()
        self.client.text_document_did_change(T.DidChangeTextDocumentParams(
            text_document=T.VersionedTextDocumentIdentifier(uri=uri, version=version),
            content_changes=[T.TextDocumentContentChangePartial(range=changed, text=new[head:len(new) - tail])]))
        found = await asyncio.wait_for(fut, 60)
        return time.perf_counter() - start, found

    async def hover(self, uri: str, line: int, col: int) -> tuple[float, str]:
        T = self.T
        start = time.perf_counter()
        result = await self.client.text_document_hover_async(T.HoverParams(
            text_document=T.TextDocumentIdentifier(uri=uri), position=T.Position(line=line, character=col)))
        return time.perf_counter() - start, result.contents.value if result else ""

    def close(self, uri: str) -> None:
        T = self.T
        self.client.text_document_did_close(T.DidCloseTextDocumentParams(
            text_document=T.TextDocumentIdentifier(uri=uri)))


def _median_ms(values: list[float]) -> float:
    return round(statistics.median(values) * 1000, 2)


async def measure(spec: str, session: Session, runs: int) -> dict:
    from archc.frontend import parse_text
    from archc.lsp.analysis import ParseCache, check
    path = (ROOT / "specs" / spec).resolve()
    uri = path.as_uri()
    language = "yaml" if path.suffix == ".yaml" else "arch"
    text = path.read_text()
    tree = parse_text(text, language, str(path))
    inp = tree.inputs[0].name
    out = tree.outputs[0]
    comment = "# edited\n"
    typo = f"  _typo: [{inp}, {{conv2dd: [8, 1]}}]"  # an unknown op
    if language == "arch":
        mistake = text.rstrip("\n") + f"\n_typo = {inp} -> conv2dd(8, 1)\n"
    elif "\nbody:" in text:
        mistake = text.replace("\nbody:", f"\nbody:\n{typo}", 1)
    else:
        mistake = text.replace("\noutputs:", f"\nbody:\n{typo}\noutputs:", 1)
    times: dict[str, list[float]] = {"open": [], "edit": [], "mistake": [], "fix": [], "hover": [], "check": []}
    version = 0
    for run in range(runs):
        version += 1
        t, found = await session.open(uri, text, language, version)
        assert not [d for d in found if d.severity == 1], (spec, found)
        times["open"].append(t)
        current = text
        for kind, new in (("edit", comment + text), ("mistake", mistake), ("fix", text)):
            version += 1
            t, found = await session.change(uri, current, new, version)
            errors = [d for d in found if d.severity == 1]
            assert bool(errors) == (kind == "mistake"), (spec, kind, found)
            times[kind].append(t)
            current = new
        t, value = await session.hover(uri, out.loc.line - 1, out.loc.col - 1)
        assert "[" in value, (spec, value)
        times["hover"].append(t)
        session.close(uri)
    cache = ParseCache()
    check(text, language, str(path), cache)  # imports parsed once, as the server keeps them
    for _ in range(runs):
        start = time.perf_counter()
        result = check(text, language, str(path), cache)
        times["check"].append(time.perf_counter() - start)
    layers = sum(1 for n in result.model.graph.layers() if not n.is_input)
    return {"spec": spec, "layers": layers, **{k: _median_ms(v) for k, v in times.items()},
            "max_mistake_ms": round(max(times["mistake"]) * 1000, 2)}


EDIT_KINDS = ("comment", "eol", "mistake", "undo", "change")


def edit_subjects(folder: Path) -> list[tuple[str, Path]]:
    """DenseNet-121 in place (its import resolves next to it) and the synthetic spec in `folder`."""
    sys.path.insert(0, str(ROOT / "tools"))
    import synthetic_specs
    flat = folder / "flat5000.arch"
    flat.write_text(synthetic_specs.flat(5000))
    return [("densenet121", ROOT / "specs" / "torchvision" / "densenet121.arch"), ("flat5000", flat)]


def edits_of(text: str) -> dict[str, str]:
    """Each edit kind's new text, applied to `text` (the spec as on disk)."""
    lines = text.rstrip("\n").split("\n")
    middle = len(lines) // 2
    while "#" in lines[middle] or not lines[middle].strip():
        middle += 1
    eol = lines[:middle] + [lines[middle] + "  # a note"] + lines[middle + 1:]
    mistake = text.rstrip("\n") + "\n_typo = x -> conv2dd(8, 1)\n"
    last = lines[-1]
    number = next(w for w in reversed(last.replace("(", " ").replace(")", " ").replace(",", " ").split())
                  if w.isdigit())
    changed = lines[:-1] + [last[::-1].replace(number[::-1], str(int(number) + 1)[::-1], 1)[::-1]]
    return {"comment": "# edited\n" + text, "eol": "\n".join(eol) + "\n", "mistake": mistake, "undo": text,
            "change": "\n".join(changed) + "\n"}


def edit_steps(text: str) -> Iterator[tuple[str, str, str]]:
    """The edits in the order they are made, each as (kind, the text it is made on, the edited
    text): every edit but the undo is made on the spec as on disk, the undo on the mistake."""
    before = text
    for kind, new in edits_of(text).items():
        yield kind, before if kind == "undo" else text, new
        before = new


async def measure_edits(name: str, path: Path, incremental: bool, runs: int, debounce: float) -> dict:
    from archc.lsp.analysis import ParseCache, check
    text = path.read_text()
    cache = ParseCache()
    check(text, "arch", str(path), cache)
    start = time.perf_counter()
    check(text, "arch", str(path), cache)
    # the server's full check after each edit, in its process (pickling its model included)
    pause = max(0.5, 3 * (time.perf_counter() - start))
    session = Session(debounce, {"incremental": incremental, "checkSeconds": 120})
    await session.start()
    uri = path.resolve().as_uri()
    times: dict[str, list[float]] = {k: [] for k in EDIT_KINDS}
    version = 0
    try:
        for _ in range(runs):
            version += 1
            _, found = await session.open(uri, text, "arch", version)
            assert not [d for d in found if d.severity == 1], (name, found)
            await asyncio.sleep(pause)
            current = text
            for kind, base, new in edit_steps(text):
                if base != current:  # back to the spec as on disk first (not measured)
                    version += 1
                    await session.change(uri, current, base, version)
                    await asyncio.sleep(pause)
                    current = base
                version += 1
                t, found = await session.change(uri, current, new, version)
                errors = [d for d in found if d.severity == 1]
                assert bool(errors) == (kind == "mistake"), (name, kind, found)
                times[kind].append(t)
                current = new
                await asyncio.sleep(pause)
            session.close(uri)
    finally:
        await session.stop()
    row = {"spec": name, "lines": text.count("\n"), "mode": "after" if incremental else "before",
           "check_ms": round(pause / 3 * 1000, 1), **{k: _median_ms(v) for k, v in times.items()}}
    if incremental:
        row["live_cpu_ms"] = live_cpu(path, text, runs)
    return row


def live_cpu(path: Path, text: str, runs: int) -> dict[str, float]:
    """CPU time of the check the server makes for a program edit on its live thread
    (`analysis.check` with the document's live state, archc/lsp/live.py), in this process: the
    part of edit -> diagnostics that does not depend on the machine's other work. The live state
    goes through the texts the server's goes through, in the same order (each edit of
    `measure_edits`, the comment edits' full checks included, from the spec as on disk), with the
    collector held as the server holds it: what an edit costs depends on the check before it (a
    comment on an import line once sent every later edit of DenseNet-121 back to a whole
    elaboration, which alternating one edit with the original never showed)."""
    from archc.collector import paused
    from archc.lsp import live
    from archc.lsp.analysis import ParseCache, check
    cache = ParseCache()
    state = live.Live(str(path), "arch")
    check(text, "arch", str(path), cache, live=state)
    cpu: dict[str, list[float]] = {"mistake": [], "change": []}
    for _ in range(max(runs, 5)):
        current = text
        for kind, base, new in edit_steps(text):
            if base != current:
                check(base, "arch", str(path), cache, live=state)
            with paused():
                start = time.process_time()  # the elaborator's thread counts too
                check(new, "arch", str(path), cache, live=state)
                spent = time.process_time() - start
            if kind in cpu:
                cpu[kind].append(spent)
            current = new
    return {k: _median_ms(v) for k, v in cpu.items()}


async def main_async(args: argparse.Namespace) -> tuple[list[dict], list[dict]]:
    rows: list[dict] = []
    if not args.only_edits:
        session = Session(args.debounce)
        await session.start()
        try:
            for spec in args.specs:
                rows.append(await measure(spec, session, args.runs))
                print(f"  measured {spec}", file=sys.stderr)
        finally:
            await session.stop()
    edit_rows: list[dict] = []
    if args.edit_runs > 0:
        import tempfile
        with tempfile.TemporaryDirectory(prefix="archc-lsp-latency-") as tmp:
            for name, path in edit_subjects(Path(tmp)):
                if args.edit_specs and name not in args.edit_specs:
                    continue
                for incremental in (False, True):
                    edit_rows.append(await measure_edits(name, path, incremental, args.edit_runs, args.debounce))
                    print(f"  measured edits of {name} ({edit_rows[-1]['mode']})", file=sys.stderr)
    return rows, edit_rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--debounce", type=float, default=0, help="the server's debounce, ms (default 0, "
                        "as the server's own default)")
    parser.add_argument("--specs", nargs="+", default=SPECS, help="zoo specs, relative to specs/")
    parser.add_argument("--edit-runs", type=int, default=3, help="runs of each edit kind, before and after "
                        "(0: none)")
    parser.add_argument("--only-edits", action="store_true", help="measure the edits only")
    parser.add_argument("--edit-specs", nargs="+", choices=("densenet121", "flat5000"),
                        help="the edit subjects to measure (default: both)")
    parser.add_argument("-o", "--output", default=str(ROOT / "benchmarks" / "results" / "lsp_latency.json"))
    args = parser.parse_args()
    load = os.getloadavg()[0]
    rows, edit_rows = asyncio.run(main_async(args))
    if rows:
        cols = ["spec", "layers", "open", "edit", "mistake", "fix", "hover", "check"]
        print(f"archc lsp latency, ms (median of {args.runs}; debounce {args.debounce:g} ms included in "
              "edit/mistake/fix)")
        _table(rows, cols)
    if edit_rows:
        print(f"edit -> diagnostics, ms (median of {args.edit_runs}; before: every edit a whole check in a "
              "process; after: archc/lsp/incremental.py)")
        _table(edit_rows, ["spec", "lines", "mode", "check_ms", *EDIT_KINDS])
        for r in edit_rows:
            if "live_cpu_ms" in r:
                print(f"  {r['spec']}: the live thread's check, CPU ms (median): {r['live_cpu_ms']}")
    now = time.strftime("%Y-%m-%dT%H:%M:%S")
    data = {"benchmark": "lsp_latency", "unit": "ms", "runs": args.runs, "debounce_ms": args.debounce,
            "machine": {"python": platform.python_version(), "platform": platform.platform(),
                        "cpus": os.cpu_count(),
                        # other work on the machine: wall times grow with it (1-minute averages)
                        "load_average": [round(load, 2), round(os.getloadavg()[0], 2)]},
            "when": now, "specs": rows, "edit_runs": args.edit_runs, "edits_when": now, "edits": edit_rows}
    out = Path(args.output)
    if args.only_edits and out.exists():  # the per-spec rows of the last whole run stay
        kept = json.loads(out.read_text())
        data.update({k: kept[k] for k in ("runs", "when", "specs") if k in kept})
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(data, indent=2) + "\n")
    print(f"wrote {out}")


def _table(rows: list[dict], cols: list[str]) -> None:
    widths = [max(len(c), *(len(str(r[c])) for r in rows)) for c in cols]
    print("  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(cols, widths))))
    for r in rows:
        print("  ".join(str(r[c]).ljust(w) if i == 0 else str(r[c]).rjust(w)
                        for i, (c, w) in enumerate(zip(cols, widths))))


if __name__ == "__main__":
    main()
