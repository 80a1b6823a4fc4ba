"""Elaboration resumed from the statement an edit changed (archc.ir.resume.Session) against a
whole elaboration of the same edited spec, in the same run (CPU time, medians).

    .venv/bin/python benchmarks/resume.py [--runs 9] [-o FILE]

Subjects: flat synthetic specs of 5,000 and 20,000 statements (tools/synthetic_specs.py flat)
and DenseNet-121 (specs/torchvision/densenet121.arch). The edit: the last statement's op
changed (relu -> sigmoid; DenseNet-121, whose model is one output statement: its num_classes).
Per subject, each timed call elaborates the edited spec after the original one (so every resumed
call resumes after a one-line edit), with the cycle collector paused as archc.load pauses it:
    whole        archc.ir.elaborate.elaborate(edited)
    resumed      Session.elaborate(edited), the statements' objects new from the parser
    kept         the same, with the unchanged statements' objects those of the original spec
                 (as a parser that re-parses only what an edit touches would give them)
Writes benchmarks/results/resume.json (or -o FILE).
"""
from __future__ import annotations

import argparse
import dataclasses
import gc
import statistics
import sys
import time

import _bench as B

sys.path.insert(0, str(B.ROOT / "tools"))
import synthetic_specs as S  # noqa: E402

from archc.deep import run_deep  # noqa: E402
from archc.frontend.dsl import parse_dsl  # noqa: E402
from archc.ir.elaborate import elaborate  # noqa: E402
from archc.ir.resume import Session  # noqa: E402


def subjects() -> list[tuple[str, str, str, str]]:
    """(name, file, text, edited text)"""
    out = []
    for n in (5000, 20000):
        text = S.flat(n)
        lines = text.splitlines()
        last = max(k for k, line in enumerate(lines) if line.startswith("h") and "relu" in line)
        lines[last] = lines[last].replace("relu", "sigmoid")
        out.append((f"flat {n:,}", f"flat{n}.arch", text, "\n".join(lines) + "\n"))
    path = B.ROOT / "specs" / "torchvision" / "densenet121.arch"
    text = path.read_text()
    out.append(("DenseNet-121", str(path), text, text.replace("num_classes = 1000", "num_classes = 10")))
    return out


def measure(file: str, text: str, edited: str, runs: int) -> dict[str, float]:
    original, changed = parse_dsl(text, file), parse_dsl(edited, file)
    kept = dataclasses.replace(changed, body=[a if a == b else b for a, b in zip(original.body, changed.body)]
                               + changed.body[len(original.body):])
    session = Session(file)
    times: dict[str, list[float]] = {"whole": [], "resumed": [], "kept": []}
    resumed_at = {}
    for _ in range(runs):  # alternately, so that the machine's load falls on all alike
        for mode, spec in (("whole", changed), ("resumed", changed), ("kept", kept)):
            run_deep(session.elaborate, original)
            if mode == "whole":
                def call(spec=spec):
                    return elaborate(spec, file, {})
            else:
                def call(spec=spec):
                    return session.elaborate(spec)
            gc.collect()
            start = time.process_time()
            B.as_load(lambda call=call: run_deep(call))()  # the cycle collector paused, as archc.load has it
            times[mode].append(time.process_time() - start)
            resumed_at[mode] = session.resumed_at
    return {**{mode: statistics.median(t) for mode, t in times.items()},
            "resumed_at": resumed_at["kept"], "statements": len(changed.body)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("-o", "--output")
    args = parser.parse_args()
    rows, results = [], {}
    for name, file, text, edited in subjects():
        r = measure(file, text, edited, args.runs)
        results[name] = r
        rows.append([name, r["statements"], "whole" if r["resumed_at"] is None else r["resumed_at"],
                     B.fmt_seconds(r["whole"]), B.fmt_seconds(r["resumed"]), B.fmt_seconds(r["kept"]),
                     f"{r['whole'] / r['kept']:.0f}×"])
    print(B.table(["subject", "statements", "resumed at", "whole", "resumed", "kept objects", "whole/kept"], rows))
    print("CPU time, medians of", args.runs, "; ", B.describe(B.machine()))
    B.write_json("resume", {"runs": args.runs, "machine": B.machine(), "results": results}, args.output)


if __name__ == "__main__":
    main()
