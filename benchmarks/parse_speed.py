"""Parsing a flat spec of 10,000 and 100,000 statements (issue 23), against references measured
in the same run on the same text.

    .venv/bin/python benchmarks/parse_speed.py                 # 10k and 100k (~1 min)
    .venv/bin/python benchmarks/parse_speed.py --sizes 10000 --no-lark

Rows, each the median CPU time of --runs runs (the cycle collector paused, as `archc.load` parses):

    parse_dsl      archc's `.arch` parser as it runs (archc/frontend/engine.py on lark's tables)
    lark           lark's own parse of the same grammar then its tree transformed to the same AST
                   (dsl._parse_with_lark: the parser before the engine; one run)
    ast.parse      Python's own parser (C) on the same statements written as Python
                   (`y = x -> f(a)` as `y = x | f(a)`: the same tokens)
    tokenize       Python's tokenize module (pure Python, a loop per token) on that Python text
    fmt            `archc fmt` printing (to_dsl) of the parsed spec
    commented      parse_dsl of the `commented` form (comments on most statements) of that size

Ratios, not seconds, are what carry over between machines: parse_dsl / ast.parse, parse_dsl /
tokenize, lark / parse_dsl, and the growth of each row from 10k to 100k (10 is linear).
Results: benchmarks/results/parse_speed.json. The parser before the engine (commit 4f9997b),
with the same references in its own run:

    git archive 4f9997b archc | tar -x -C /tmp/before
    ARCHC_BENCH_SRC=/tmp/before .venv/bin/python benchmarks/parse_speed.py --no-lark \
        --json benchmarks/results/parse_speed_before.json

`--before DIR` also measures the archc package in DIR (a snapshot: `git archive REV archc | tar
-x -C DIR`), in a process of its own right after, the same rows without lark; the results hold
both, and parse_dsl now / before per size.

The language server's re-parse (archc.frontend.incremental.reparse) of a flat spec of --edit-size
statements (5,000) after an edit, against parse_dsl of the edited text in the same run:

    reparse, one-line edit near the end    a layer changed on one line, 10 lines from the end
    reparse, a line added near the start   every statement below moves a line (their locations
                                           are made again)
"""
from __future__ import annotations

import argparse
import ast
import gc
import io
import re
import statistics
import sys
import time
import tokenize

import _bench as B

sys.path.insert(0, str(B.ROOT / "tools"))
import synthetic_specs as S

from archc.collector import paused
from archc.frontend import dsl, to_dsl


def as_python(text: str) -> str:
    """The flat spec's statements as Python with the same tokens (`->` as `|`)."""
    lines = [line for line in text.splitlines() if re.match(r"h\d+ = ", line)]
    return "\n".join(line.replace(" -> ", " | ").replace("false", "False") for line in lines) + "\n"


def cpu(fn, runs: int) -> float:
    times = []
    for _ in range(runs):
        gc.collect()
        with paused():
            start = time.process_time()
            fn()
            times.append(time.process_time() - start)
    return statistics.median(times)


def lark_parse(text: str) -> None:
    dsl._parse_with_lark(text, "start", dsl._Builder("flat.arch"))


def python_tokens(text: str) -> None:
    for _ in tokenize.generate_tokens(io.StringIO(text).readline):
        pass


def measure(size: int, runs: int, with_lark: bool) -> dict:
    text = S.generate("flat", size)
    python = as_python(text)
    commented = S.generate("commented", size)
    spec = dsl.parse_dsl(text, "flat.arch")
    row = {"statements": size, "characters": len(text), "python_statements": python.count("\n"),
           "parse_dsl": cpu(lambda: dsl.parse_dsl(text, "flat.arch"), runs),
           "ast.parse": cpu(lambda: ast.parse(python), runs),
           "tokenize": cpu(lambda: python_tokens(python), runs),
           "fmt": cpu(lambda: to_dsl(spec), runs),
           "commented": cpu(lambda: dsl.parse_dsl(commented, "commented.arch"), runs)}
    if with_lark:
        assert dsl._parse_with_lark(text, "start", dsl._Builder("flat.arch")).body == spec.body
        row["lark"] = cpu(lambda: lark_parse(text), 1)
    row["parse_dsl / ast.parse"] = row["parse_dsl"] / row["ast.parse"]
    row["parse_dsl / tokenize"] = row["parse_dsl"] / row["tokenize"]
    if with_lark:
        row["lark / parse_dsl"] = row["lark"] / row["parse_dsl"]
    return row


def measure_reparse(size: int, runs: int) -> dict | None:
    """A one-line edit near the end and a line added near the start of a flat spec of `size`
    statements: reparse against parse_dsl of the edited text (None: this archc has no reparse)."""
    try:
        from archc.frontend import incremental
    except ImportError:
        return None
    text = S.generate("flat", size)
    lines = text.split("\n")
    near_end = len(lines) - 10
    edited = lines[:near_end] + [lines[near_end].replace("relu", "gelu") + " -> relu"] + lines[near_end + 1:]
    edits = {"one-line edit near the end": "\n".join(edited),
             "a line added near the start": "\n".join(lines[:5] + ["y0 = x -> relu"] + lines[5:])}
    spec = incremental.parse(text, "flat.arch")
    row: dict = {"statements": size, "parse_dsl": cpu(lambda: dsl.parse_dsl(edits["one-line edit near the end"],
                                                                           "flat.arch"), runs)}
    for name, new in edits.items():
        assert incremental.reparse(spec, text, new, "flat.arch") == dsl.parse_dsl(new, "flat.arch")
        row[f"reparse, {name}"] = cpu(lambda: incremental.reparse(spec, text, new, "flat.arch"), runs * 7)
        row[f"parse_dsl / reparse, {name}"] = row["parse_dsl"] / row[f"reparse, {name}"]
    return row


def measure_before(source: str, sizes: list[int], runs: int) -> dict:
    """The rows of the archc package in `source`, measured by this script in a process of its own."""
    import json
    import os
    import subprocess
    import tempfile
    with tempfile.TemporaryDirectory() as folder:
        out = os.path.join(folder, "before.json")
        subprocess.run([sys.executable, __file__, "--no-lark", "--runs", str(runs), "--json", out,
                        "--sizes", *map(str, sizes)],
                       env={**os.environ, "ARCHC_BENCH_SRC": source}, check=True)
        with open(out) as f:
            return json.load(f)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-lark", action="store_true", help="skip lark's own parse (17 s at 100k)")
    parser.add_argument("--json", default=None, help="default: benchmarks/results/parse_speed.json")
    parser.add_argument("--edit-size", type=int, default=5000, help="statements of the reparsed spec")
    parser.add_argument("--before", default=None, metavar="DIR", help="also measure the archc package in DIR")
    args = parser.parse_args()
    rows = []
    for size in args.sizes:
        rows.append(measure(size, args.runs, not args.no_lark))
        print(f"{size}: " + ", ".join(f"{k} {v:.3g}" for k, v in rows[-1].items() if k != "statements"),
              flush=True)
    growth = {}
    if len(rows) > 1:
        small, large = rows[0], rows[-1]
        factor = large["statements"] / small["statements"]
        growth = {key: round(large[key] / small[key] / factor * 10, 2)
                  for key in ("parse_dsl", "lark", "ast.parse", "tokenize", "fmt", "commented") if key in small and key in large}
        print("growth per 10x statements (10 = linear):", growth)
    columns = ["statements", "parse_dsl", "lark", "ast.parse", "tokenize", "fmt", "commented"]
    print(B.table(columns, [[B.fmt_seconds(r[c]) if c != "statements" and c in r else r.get(c, "-")
                             for c in columns] for r in rows]))
    results = {"machine": B.machine(), "archc_source": str(B.SRC),
               "clock": "CPU time, median of --runs (lark: one run; reparse: 7 times --runs)",
               "rows": rows, "growth_per_10x": growth}
    reparse = measure_reparse(args.edit_size, args.runs)
    if reparse is not None:
        results["reparse"] = reparse
        print(", ".join(f"{k} {v:.3g}" for k, v in reparse.items()), flush=True)
    if args.before:
        before = measure_before(args.before, args.sizes, args.runs)
        results["before"] = {"archc_source": before["archc_source"], "rows": before["rows"],
                             "growth_per_10x": before["growth_per_10x"]}
        results["parse_dsl now / before"] = {
            str(now["statements"]): now["parse_dsl"] / then["parse_dsl"] for now, then in zip(rows, before["rows"])}
        print("parse_dsl now / before:", results["parse_dsl now / before"])
    target = B.write_json("parse_speed", results, args.json)
    print(f"written {target}")


if __name__ == "__main__":
    main()
