"""A fuzz campaign against archc: random DSL token soup, random well-formed programs and
mutants of every zoo spec (specs/**/*.arch and *.yaml), each run through parse, elaborate, the
analyses (parameters, MACs, shapes, constraints), the summary (text, markdown, JSON, by-op) and,
for small models that elaborate, code generation. archc may reject any of them, but only with
its own `SpecError`/`SpecErrors`; any other exception is a crash and a case that runs past the
time limit is a hang.

    python tools/fuzz_campaign.py --minutes 10 [--seed 1] [--out fuzz-failures] [--timeout 10]

Prints how many cases it tried per generator and outcome, writes every crash or hang (one per
distinct signature: exception type and the innermost archc frame) as a reproducer file in
--out (`archc check FILE` reproduces it; a `.txt` next to it has the traceback), and exits 1 if
it found any. tests/robustness/test_fuzz.py runs the same generators under hypothesis with a fixed seed.

Each case runs in a forked child (a hang in C code, e.g. a huge `**`, cannot be interrupted by a
signal in-process) with an address-space limit, so the campaign itself survives anything.
"""
from __future__ import annotations

import argparse
import glob
import hashlib
import json
import os
import random
import re
import signal
import sys
import time
import traceback
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

ZOO = sorted(p for p in [*glob.glob(str(ROOT / "specs/**/*.arch"), recursive=True),
                         *glob.glob(str(ROOT / "specs/**/*.yaml"), recursive=True)])

# ----------------------------------------------------------------------------- vocabulary


def _ops() -> list[str]:
    from archc.ops import REGISTRY
    return sorted(REGISTRY.names())


def _builtins() -> list[str]:
    from archc.language import BUILTINS
    return sorted(BUILTINS)


OPS = _ops()
BUILTIN_NAMES = _builtins()
KEYWORDS = ["model", "import", "param", "input", "output", "training", "block", "return", "if",
            "else", "for", "in", "and", "or", "not", "true", "false", "none", "True", "None"]
OPERATORS = ["->", "+", "-", "*", "/", "//", "%", "**", "==", "!=", "<", "<=", ">", ">=", "=",
             ",", ":", ".", "(", ")", "[", "]", "{", "}", "\\\n"]
NAMES = ["x", "y", "h", "N", "C", "H", "W", "L", "D", "p", "k", "stem", "out", "relu", "block",
         "forward", "__init__", "self", "torch", "nn", "_", "a" * 40]
# numbers from ordinary to absurd; the absurd ones are what the limits are about
INTS = ["0", "1", "2", "3", "7", "16", "64", "224", "1_000", "-1", "65536", "10**9", "2**63",
        "1" + "0" * 30]
FLOATS = ["0.0", "0.5", "1e-5", "1.0", "3.14", "1e308", "1e-320", "2.5e3"]
STRINGS = ['"a"', '"relu"', "'x y'", '"\\n"', '"\\t\\\\"', '"é"', '"\\x00"', '""',
           'f"b{1}"', 'f"{x}"', 'f"{{}}"', '"../x.arch"']


def _pick(rng: random.Random, seq):
    return seq[rng.randrange(len(seq))]


# ----------------------------------------------------------------------------- generators


def gen_tokens(rng: random.Random) -> str:
    """Token soup: random DSL tokens, sometimes after a valid header, with random line breaks."""
    pools = [KEYWORDS, OPERATORS, NAMES, OPS, BUILTIN_NAMES, INTS, FLOATS, STRINGS]
    n = rng.randrange(1, 40)
    out = []
    for _ in range(n):
        out.append(_pick(rng, _pick(rng, pools)))
        out.append("\n" if rng.random() < 0.15 else " ")
    body = "".join(out)
    if rng.random() < 0.5:
        body = "model Soup\ninput x: [N, 3, 32, 32]\n" + body
    return body


def gen_expr(rng: random.Random, depth: int = 0, names: tuple[str, ...] = ("k",)) -> str:
    """A random well-formed expression (any type: ints, floats, strings, lists, calls)."""
    if depth > 3 or rng.random() < 0.35:
        kind = rng.randrange(5)
        if kind == 0:
            return _pick(rng, INTS)
        if kind == 1:
            return _pick(rng, FLOATS)
        if kind == 2:
            return _pick(rng, names)
        if kind == 3:
            return _pick(rng, STRINGS)
        return _pick(rng, ["true", "false", "none"])
    sub = lambda: gen_expr(rng, depth + 1, names)  # noqa: E731
    kind = rng.randrange(9)
    if kind == 0:
        return f"{sub()} {_pick(rng, ['+', '-', '*', '/', '//', '%', '**'])} {sub()}"
    if kind == 1:
        return f"{_pick(rng, ['-', '+', 'not '])}{sub()}"
    if kind == 2:
        return f"({sub()})"
    if kind == 3:
        return f"{sub()} if {sub()} else {sub()}"
    if kind == 4:
        return f"[{', '.join(sub() for _ in range(rng.randrange(4)))}]"
    if kind == 5:
        return f"[i * {sub()} for i in range({_pick(rng, ['0', '2', '3'])})]"
    if kind == 6:
        f = _pick(rng, BUILTIN_NAMES)
        return f"{f}({', '.join(sub() for _ in range(rng.randrange(3)))})"
    if kind == 7:
        return f"{sub()} {_pick(rng, ['==', '!=', '<', '<=', '>', '>=', 'and', 'or'])} {sub()}"
    return f"{sub()}[{_pick(rng, ['0', '-1', '1:', ':2', '::2'])}]"


VALID_LAYERS = {3: ["conv1d(8, 3, padding=1)", "relu", "batchnorm1d", "maxpool1d(2)", "dropout(0.5)",
                    "avgpool1d(2)", "gelu", "conv1d(4, 1)", "identity"],
                4: ["conv2d(8, 3, padding=1)", "relu", "batchnorm2d", "maxpool2d(2)", "dropout(0.5)",
                    "avgpool2d(2)", "sigmoid", "conv2d(4, 1)", "depthwise_conv2d(3, padding=1)",
                    "adaptive_avgpool2d(1)", "upsample(2)"],
                5: ["conv3d(4, 3, padding=1)", "relu", "batchnorm3d", "maxpool3d(2)", "avgpool3d(2)",
                    "dropout(0.1)", "conv3d(2, 1)"]}


def _layer(rng: random.Random, names: tuple[str, ...], rank: int = 4) -> str:
    if rng.random() < 0.6:
        return _pick(rng, VALID_LAYERS[rank])
    op = _pick(rng, OPS)
    args = [gen_expr(rng, 2, names) if rng.random() < 0.3 else _pick(rng, ["1", "2", "3", "8", "16"])
            for _ in range(rng.randrange(3))]
    if rng.random() < 0.2:
        args.append(f"{_pick(rng, ['stride', 'padding', 'p', 'eps', 'name', 'groups', 'dim'])}="
                    f"{gen_expr(rng, 2, names)}")
    return f"{op}({', '.join(args)})" if args or rng.random() < 0.5 else op


def gen_program(rng: random.Random) -> str:
    """A random well-formed program: params, an input of rank 3-5, chains of random layers with
    random arguments, sometimes a block (possibly calling itself), outputs."""
    rank = rng.choice([3, 4, 5])
    dims = ["N", str(rng.choice([1, 3, 8])), *[rng.choice(["H", "16", "32", "7", "1"])
                                               for _ in range(rank - 2)]]
    lines = [f"model {rng.choice(['Fuzz', 'forward', 'M_1'])}"]
    params = []
    for i in range(rng.randrange(3)):
        params.append(f"p{i}")
        lines.append(f"param p{i} = {gen_expr(rng, 1)}")
    names = tuple(params) or ("1",)
    has_block = rng.random() < 0.3
    if has_block:
        call = " -> b(k - 1)" if rng.random() < 0.3 else ""  # recursion: a base case or not
        lines.append(f"block b(k = 2)(t) {{\n  u = t -> {_layer(rng, ('k', *names), rank)}{call}\n"
                     f"  return u\n}}")
    lines.append(f"input x: [{', '.join(dims)}]")
    prev = ["x"]
    for i in range(rng.randrange(1, 6)):
        chain = " -> ".join(_layer(rng, names, rank) for _ in range(rng.randrange(1, 4)))
        src = _pick(rng, prev)
        if rng.random() < 0.15 and len(prev) > 1:
            src = f"{_pick(rng, ['add', 'concat', 'multiply'])}({_pick(rng, prev)}, {_pick(rng, prev)})"
        if has_block and i == 0:
            chain = f"b({gen_expr(rng, 2)}) -> {chain}"
        lines.append(f"h{i} = {src} -> {chain}")
        prev.append(f"h{i}")
    head = rng.choice(["", " -> flatten -> linear(10)", " -> global_avgpool -> linear(3)", ""])
    lines.append(f"output y = {prev[-1]}{head}")
    return "\n".join(lines) + "\n"


_NUM = re.compile(r"(?<![\w.])\d+(?:\.\d+)?(?![\w.])")
_IDENT = re.compile(r"\b[A-Za-z_]\w*\b")
_ODD_CHARS = ["\x00", "\ud800", "\u202e", "\t", "\r", "\\", '"', "'", "{", "}", "[", "]", ":",
              "&", "*", "!", "|", ">", "-", "#", "é", "\n", "\x0c"]


def mutate(rng: random.Random, text: str, language: str) -> str:
    """1-3 random edits of a spec: delete/duplicate/swap lines, flip characters, change a number
    to 0/-1/huge, rename an identifier (one use or all), truncate, or (YAML) add an alias."""
    for _ in range(rng.randrange(1, 4)):
        lines = text.split("\n")
        kind = rng.randrange(9)
        i = rng.randrange(len(lines))
        if kind == 0 and len(lines) > 1:
            del lines[i]
        elif kind == 1:
            lines.insert(i, lines[i])
        elif kind == 2:
            j = rng.randrange(len(lines))
            lines[i], lines[j] = lines[j], lines[i]
        elif kind == 3 and text:
            k = rng.randrange(len(text))
            text = text[:k] + _pick(rng, _ODD_CHARS) + text[k + rng.randrange(2):]
            continue
        elif kind == 4:
            nums = list(_NUM.finditer(text))
            if nums:
                m = _pick(rng, nums)
                value = float(m.group())  # an earlier mutation may have made it 1e309: inf
                new = _pick(rng, ["0", "-1", "10**9", "1" + "0" * rng.choice([12, 400, 5000]),
                                  "1e309", "0.0", "-0.5", "65536",
                                  str(int(value) + 1) if value != float("inf") else "1e308"])
                text = text[:m.start()] + new + text[m.end():]
            continue
        elif kind == 5:
            idents = sorted(set(_IDENT.findall(text)))
            if idents:
                old = _pick(rng, idents)
                new = _pick(rng, [*NAMES, *KEYWORDS, *OPS[:20], *idents, old + "_"])
                if rng.random() < 0.5:
                    text = re.sub(rf"\b{re.escape(old)}\b", new, text)
                else:
                    ms = list(re.finditer(rf"\b{re.escape(old)}\b", text))
                    m = _pick(rng, ms)
                    text = text[:m.start()] + new + text[m.end():]
            continue
        elif kind == 6:
            text = text[:rng.randrange(len(text) + 1)]
            continue
        elif kind == 7 and language == "yaml":
            lines.insert(i, _pick(rng, ["x: &a [*a]", "a: &r [1, 2]", "b: *r", "- *r", "!!python/none",
                                        "  - {conv2d: [*r]}", "- [[[[[[[[[[1]]]]]]]]]]"]))
        else:
            lines[i] = lines[i] + " " + _pick(rng, [*OPERATORS, *INTS, *STRINGS, *OPS[:10]])
        text = "\n".join(lines)
    return text


@dataclass
class Case:
    kind: str       # "tokens", "program" or "mutant"
    text: str
    language: str   # "arch" or "yaml"
    file: str       # the name errors carry; imports resolve relative to it (zoo mutants: the original)


_ZOO_TEXT: dict[str, str] = {}


def zoo_text(path: str) -> str:
    if path not in _ZOO_TEXT:
        _ZOO_TEXT[path] = Path(path).read_text(encoding="utf-8")
    return _ZOO_TEXT[path]


def gen_case(rng: random.Random, kind: str, zoo: str | None = None) -> Case:
    if kind == "tokens":
        return Case(kind, gen_tokens(rng), "arch", "<fuzz>.arch")
    if kind == "program":
        return Case(kind, gen_program(rng), "arch", "<fuzz>.arch")
    path = zoo or _pick(rng, ZOO)
    lang = "yaml" if path.endswith(".yaml") else "arch"
    return Case(kind, mutate(rng, zoo_text(path), lang), lang, path)


# ----------------------------------------------------------------------------- running a case


class Hang(BaseException):
    """A case ran past its time limit (BaseException: archc's `except Exception` can't eat it)."""


# models with more graph nodes than this skip code generation (the slowest stage; the zoo's
# own specs are compiled by the golden tests)
CODEGEN_MAX_NODES = 60


def run_case(case: Case) -> str:
    """Run the pipeline; returns "rejected" (a SpecError) or "accepted", raises anything else."""
    import archc
    from archc.errors import SpecError, SpecErrors
    try:
        model = archc.loads(case.text, case.language, file=case.file)
    except (SpecErrors, SpecError) as e:
        e.render()
        e.render(color=True)
        json.dumps([x.to_json() for x in getattr(e, "errors", [e])])
        return "rejected"
    try:
        # what `archc check` prints, then the analyses, the summaries and code generation
        layers = sum(1 for n in model.graph.layers() if not n.is_input)
        f"{layers} layers, {model.params:,} parameters, {', '.join(model.constraints)}"
        for w in model.warnings:
            w.render()
        model.macs, model.trainable_params, model.frozen_params, model.conv_linear_macs
        model.shapes, model.output_shapes, model.state_dict_shapes(), model.hyperparams
        repr(model)
        model.summary("text").encode("utf-8")
        model.summary("markdown").encode("utf-8")
        json.loads(model.summary("json"))
        model.summary(by_op=True)
        model.summary(depth=0)
        if sum(1 for _ in model.graph.layers()) <= CODEGEN_MAX_NODES:
            compile(model.to_source(), "<generated>", "exec")
    except (SpecErrors, SpecError):
        return "rejected"  # a later stage may still reject the spec with a diagnostic
    return "accepted"


def signature(exc: BaseException) -> str:
    """What tells crash classes apart: the exception type and the innermost archc frame."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__)
              if "/archc/" in f.filename.replace(os.sep, "/")]
    where = f"{Path(frames[-1].filename).name}:{frames[-1].lineno}" if frames else "?"
    return f"{type(exc).__name__}@{where}"


def run_isolated(case: Case, timeout: float = 10.0, memory_gb: float = 4.0) -> tuple[str, str]:
    """Run a case in a forked child with a CPU-time alarm and an address-space limit. Returns
    (outcome, detail): outcome "rejected", "accepted", "crash" (detail: signature, then the
    traceback) or "hang"."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report on the pipe, never return into the parent's code
        code = 0
        try:
            os.close(r)
            try:
                import resource
                limit = int(memory_gb * 2**30)
                resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
            except (ImportError, ValueError, OSError):
                pass
            sys.setrecursionlimit(max(sys.getrecursionlimit(), 1000))
            try:
                result = (run_case(case), "")
            except BaseException as e:  # noqa: BLE001 - classifying everything is the point
                result = ("crash", signature(e) + "\n" + "".join(
                    traceback.format_exception(type(e), e, e.__traceback__))[-6000:])
            os.write(w, json.dumps(result).encode())
        except BaseException:  # noqa: BLE001
            code = 3
        finally:
            os._exit(code)
    os.close(w)
    import select
    deadline = time.monotonic() + timeout
    chunks = []
    while True:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([r], [], [], left)[0]:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            os.close(r)
            return "hang", f"Hang@timeout>{timeout:g}s"
        chunk = os.read(r, 65536)
        if not chunk:  # EOF: the child closed its end (exited)
            break
        chunks.append(chunk)
    os.close(r)
    _, status = os.waitpid(pid, 0)
    if not chunks:
        sig = os.WTERMSIG(status) if os.WIFSIGNALED(status) else None
        return "crash", f"ChildDied@signal{sig}" if sig else f"ChildDied@exit{os.WEXITSTATUS(status)}"
    outcome, detail = json.loads(b"".join(chunks).decode())
    return outcome, detail


# ----------------------------------------------------------------------------- the campaign


def write_reproducer(out: Path, case: Case, outcome: str, detail: str) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    sig = detail.split("\n", 1)[0]
    digest = hashlib.sha1(case.text.encode("utf-8", "surrogatepass")).hexdigest()[:10]
    stem = re.sub(r"[^\w.@-]+", "_", f"{outcome}-{sig}-{digest}")
    suffix = ".yaml" if case.language == "yaml" else ".arch"
    spec = out / (stem + suffix)
    spec.write_bytes(case.text.encode("utf-8", "surrogatepass"))
    origin = f"mutant of {os.path.relpath(case.file, ROOT)}" if case.kind == "mutant" else case.kind
    (out / (stem + ".txt")).write_text(
        f"{outcome}: {sig}\ngenerator: {origin}\nreproduce: archc check {spec}\n"
        + ("(a zoo mutant that imports: copy it next to the original first)\n"
           if case.kind == "mutant" and "import" in case.text else "")
        + "\n" + (detail.split("\n", 1)[1] if "\n" in detail else ""), encoding="utf-8")
    return spec


def campaign(minutes: float, seed: int, out: Path, timeout: float, kinds: list[str]) -> int:
    rng = random.Random(seed)
    end = time.monotonic() + minutes * 60
    counts: dict[str, dict[str, int]] = {k: {} for k in kinds}
    seen: dict[str, Path] = {}
    n = 0
    while time.monotonic() < end:
        kind = kinds[n % len(kinds)]
        zoo = ZOO[(n // len(kinds)) % len(ZOO)] if kind == "mutant" else None  # every zoo spec in turn
        case = gen_case(rng, kind, zoo)
        outcome, detail = run_isolated(case, timeout)
        counts[kind][outcome] = counts[kind].get(outcome, 0) + 1
        n += 1
        if outcome in ("crash", "hang"):
            sig = detail.split("\n", 1)[0]
            if sig not in seen:
                seen[sig] = write_reproducer(out, case, outcome, detail)
                print(f"new {outcome}: {sig} -> {seen[sig]}", flush=True)
        if n % 500 == 0:
            print(f"... {n} cases, {len(seen)} distinct failures", flush=True)
    print(f"{n} cases in {minutes:g} min (seed {seed}):")
    for kind, c in counts.items():
        print(f"  {kind:8} {sum(c.values()):6}  " + ", ".join(f"{k} {v}" for k, v in sorted(c.items())))
    print(f"{len(seen)} distinct crash/hang signatures" + (f", reproducers in {out}" if seen else ""))
    return 1 if seen else 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--minutes", type=float, default=1.0, help="how long to run (default 1)")
    p.add_argument("--seed", type=int, default=None, help="random seed (default: from the clock)")
    p.add_argument("--out", default="fuzz-failures", help="folder for reproducers (default fuzz-failures)")
    p.add_argument("--timeout", type=float, default=10.0, help="seconds per case before it is a hang")
    p.add_argument("--kinds", default="tokens,program,mutant",
                   help="generators, comma-separated (default tokens,program,mutant)")
    args = p.parse_args(argv)
    seed = args.seed if args.seed is not None else int(time.time())
    kinds = [k for k in args.kinds.split(",") if k]
    bad = [k for k in kinds if k not in ("tokens", "program", "mutant")]
    if bad or not kinds:
        p.error(f"unknown generator {', '.join(bad) or '(none)'}: use tokens, program, mutant")
    return campaign(args.minutes, seed, Path(args.out), args.timeout, kinds)


if __name__ == "__main__":
    sys.exit(main())
