"""cProfile of one stage of the static pipeline on a synthetic spec (or any spec file): where the
time goes, function by function, with file:line.

    .venv/bin/python benchmarks/profile_stage.py --form repeat --layers 10000 --stage text
    .venv/bin/python benchmarks/profile_stage.py --spec specs/resnet152.arch --stage compile --top 30
    .venv/bin/python benchmarks/profile_stage.py --form flat --layers 10000 --stage check --calls 'graph.py'

Stages as in benchmarks/scaling.py (parse, elaborate, analyse, text, json, dot, compile, check);
the earlier stages run first, unprofiled. Printed: the top functions by own time and by
cumulative time, and (--calls TEXT) the call counts of functions whose file:line:name contains
TEXT, which shows an O(n²) as a call count or a per-call time that grows with n. --json writes
the rows.
"""
from __future__ import annotations

import argparse
import contextlib
import cProfile
import io
import os
import pstats
import sys
import tempfile
from pathlib import Path

import _bench as B

sys.path.insert(0, str(B.ROOT / "tools"))
import synthetic_specs as S  # noqa: E402

STAGES = ("parse", "elaborate", "analyse", "text", "json", "dot", "compile", "check")


def where(func: tuple) -> str:
    file, line, name = func
    try:
        resolved = Path(file).resolve()
        file = str(resolved.relative_to(B.SRC if resolved.is_relative_to(B.SRC) else B.ROOT))
    except ValueError:
        parts = Path(file).parts
        file = "/".join(parts[parts.index("site-packages") + 1:]) if "site-packages" in parts else file
    return f"{file}:{line}({name})"


def rows(stats: pstats.Stats, key: str, top: int) -> list[dict]:
    items = sorted(stats.stats.items(), key=lambda kv: kv[1][2 if key == "tottime" else 3], reverse=True)
    out = []
    # the main thread waiting for archc.deep's thread (whose work is in the table itself)
    items = [kv for kv in items if "_thread.lock" not in kv[0][2] and not kv[0][0].endswith("threading.py")]
    for func, (cc, nc, tt, ct, _callers) in items[:top]:
        out.append({"function": where(func), "calls": nc, "tottime": tt, "cumtime": ct})
    return out


_PROFILING = False  # set while the profiled stage runs


def _profile_deep_threads() -> list:
    """Wrap `archc.deep.run_deep` (where every module that imported it sees it) so that the
    work it runs on its own thread is profiled too; returns the list the thread profilers go to."""
    import archc.deep as deep
    original = deep.run_deep
    profilers: list = []

    def run_deep(fn, *args, **kwargs):
        if getattr(deep._state, "deep", False) or not _PROFILING:  # nested: profiled already
            return original(fn, *args, **kwargs)

        def profiled(*a, **k):
            p = cProfile.Profile()
            profilers.append(p)
            return p.runcall(fn, *a, **k)
        return original(profiled, *args, **kwargs)

    import archc.frontend.yaml_loader, archc.ir.elaborate, archc.lower.codegen, archc.model  # noqa: F401
    for name, module in list(sys.modules.items()):
        if name.startswith("archc") and getattr(module, "run_deep", None) is original:
            module.run_deep = run_deep
    deep.run_deep = run_deep
    return profilers


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--form", choices=S.FORMS)
    parser.add_argument("--layers", type=int, default=10_000)
    parser.add_argument("--spec", help="a spec file instead of a synthetic one")
    parser.add_argument("--stage", choices=STAGES, required=True)
    parser.add_argument("--top", type=int, default=20)
    parser.add_argument("--calls", action="append", default=[], help="show call counts of functions matching")
    parser.add_argument("--json", help="write the rows here")
    args = parser.parse_args()
    if not (args.form or args.spec):
        parser.error("give --form or --spec")

    tmp = tempfile.TemporaryDirectory(prefix="archc-profile-")
    if args.spec:
        path = args.spec
    else:
        path = str(Path(tmp.name) / f"{args.form}_{args.layers}.arch")
        Path(path).write_text(S.generate(args.form, args.layers))
        os.environ.update(S.limits_env(args.layers))

    from archc import cli
    from archc.analysis.metrics import analyse
    from archc.backends import diagram, report
    from archc.frontend import parse_file
    from archc.lower.codegen import generate
    from archc.model import _build

    spec = model = None
    profiler = cProfile.Profile()
    threads = _profile_deep_threads()  # elaboration runs on archc.deep's thread: profile it there too

    def run(stage: str, profile: bool):
        nonlocal spec, model
        def body():
            nonlocal spec, model
            if stage == "parse":  # both as archc.load runs them
                spec = B.as_load(lambda: parse_file(path))()
            elif stage == "elaborate":
                model = B.as_load(lambda: _build(spec, path, None))()
            elif stage == "analyse":
                model.__dict__["metrics"] = analyse(model.graph)
            elif stage == "text":
                report.render(model, "text")
            elif stage == "json":
                report.render(model, "json")
            elif stage == "dot":
                diagram.draw(model, "dot")
            elif stage == "compile":
                generate(model.graph, spec=model.spec)
            elif stage == "check":
                with contextlib.redirect_stdout(io.StringIO()):
                    cli.main(["check", path])
        global _PROFILING
        if profile:
            _PROFILING = True
            t, _ = B.timed(lambda: profiler.runcall(body))
            _PROFILING = False
        else:
            t, _ = B.timed(body)
        return t

    before = {"parse": [], "elaborate": ["parse"], "analyse": ["parse", "elaborate"], "compile": ["parse", "elaborate"],
              "check": []}.get(args.stage, ["parse", "elaborate", "analyse"])
    for s in before:
        run(s, False)
    seconds = run(args.stage, True)
    stats = pstats.Stats(profiler)
    for p in threads:
        stats.add(p)
    by_own, by_cum = rows(stats, "tottime", args.top), rows(stats, "cumtime", args.top)
    print(f"{args.stage} of {path}: {seconds:.2f} s under the profiler")
    for title, rs in (("own time", by_own), ("cumulative time", by_cum)):
        print(f"\nTop {args.top} by {title}:")
        print(B.table(["function", "calls", "own s", "cum s"],
                      [[r["function"], r["calls"], f"{r['tottime']:.3f}", f"{r['cumtime']:.3f}"] for r in rs]))
    called = []
    for pattern in args.calls:
        for func, (cc, nc, tt, ct, _c) in stats.stats.items():
            w = where(func)
            if pattern in w:
                called.append({"function": w, "calls": nc, "tottime": tt, "cumtime": ct})
    if called:
        called.sort(key=lambda r: -r["cumtime"])
        print("\nMatching functions:")
        print(B.table(["function", "calls", "own s", "cum s"],
                      [[r["function"], r["calls"], f"{r['tottime']:.3f}", f"{r['cumtime']:.3f}"] for r in called]))
    if args.json:
        B.write_json("profile", {"stage": args.stage, "spec": path, "seconds": seconds, "by_own": by_own,
                                 "by_cumulative": by_cum, "matching": called}, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
