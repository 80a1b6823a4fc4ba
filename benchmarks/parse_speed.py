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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-lark", action="store_true", help="skip lark's own parse (17 s at 100k)")
    parser.add_argument("--json", default=None, help="default: benchmarks/results/parse_speed.json")
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
    target = B.write_json("parse_speed", {"machine": B.machine(), "archc_source": str(B.SRC),
                                          "clock": "CPU time, median of --runs (lark: one run)",
                                          "rows": rows, "growth_per_10x": growth}, args.json)
    print(f"written {target}")


if __name__ == "__main__":
    main()
