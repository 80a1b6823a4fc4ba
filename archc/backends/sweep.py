"""`archc sweep`: a spec evaluated at every point of a grid of its model parameters.

    archc sweep specs/mobilenet_v2.arch -p width=0.5,0.75,1.0 -p num_classes=10,1000

Each point is one `archc.load(spec, {width: 0.5, num_classes: 10, ...})`: its parameter count,
MACs, activation memory, training memory at a batch (where archc.analysis.training is there),
the smallest input size and the input size constraints. A point the spec refuses (a width that
breaks a concatenation, a depth of 0) is a row with its diagnostic (code and message), not a
failed command: finding where a family of networks stops being valid is what a sweep is for.

Engines: "local" runs the points in a pool of worker processes (concurrent.futures, spawned
through a fork server that has archc imported); "dask" hands them to Dask's distributed
scheduler, a LocalCluster or an existing cluster's address (the `distributed` extra), for
search spaces that outgrow one machine. Either way every result is appended to a JSON Lines
file as it arrives (`resume=`): rerunning the same sweep with the same file skips the points
already there, so an interrupted sweep goes on where it stopped.

Values are model parameter values as `-D` gives them (ints, floats, true/false, a bare word
such as H for a symbolic size); names the spec does not declare are refused before any work.
Nothing here imports torch.
"""
from __future__ import annotations

import errno
import functools
import hashlib
import io
import itertools
import json
import os
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from archc.backends.sweep_engines import (
    require_distributed,
    run_dask,
    run_local,
    threading_is_main,
)

FORMATS = ("text", "csv", "json")
ENGINES = ("local", "dask")
DEFAULT_BATCH = 32
# far above any batch that trains (and keeps the table's numbers within floating point)
MAX_BATCH = 10 ** 9
RESUME_VERSION = 1


@dataclass(frozen=True)
class Settings:
    """What every point of one sweep shares (sent to each worker with its point)."""
    spec: str
    defines: dict[str, Any] = field(default_factory=dict)
    batch: int = DEFAULT_BATCH
    at: dict[str, int] | None = None  # values of symbolic sizes at which MACs and memory are counted
    dtype: str | None = None  # training memory's options (None: training_memory's defaults)
    optimizer: str | None = None
    import_path: tuple[str, ...] = ()
    strict: bool = False  # warnings are errors: a point with one is invalid
    language: str | None = None  # "arch" or "yaml" where the suffix does not say (None: from it)
    text: str | None = None  # the spec's text where it is no file (standard input); `spec` names it

    def header(self, spec_digest: str) -> dict[str, Any]:
        """The first line of a resume file: what its results depend on besides the point."""
        return {"archc_sweep": RESUME_VERSION, "spec": self.spec, "spec_sha256": spec_digest,
                "defines": _jsonable(self.defines), "batch": self.batch, "at": self.at,
                "dtype": self.dtype, "optimizer": self.optimizer, "strict": self.strict}


# ------------------------------------------------------------------------------------ the grid
def grid(axes: dict[str, Sequence[Any]]) -> list[dict[str, Any]]:
    """Every combination of the axes' values, the last axis varying fastest."""
    names = list(axes)
    return [dict(zip(names, values)) for values in itertools.product(*(axes[n] for n in names))]


def point_key(point: dict[str, Any]) -> str:
    """A point's identity in a resume file (its settings as canonical JSON)."""
    return json.dumps(_jsonable(point), sort_keys=True)


def check_names(spec_path: str, names: dict[str, Iterable[str]], text: str | None = None,
                language: str | None = None) -> None:
    """Refuse parameter names ({option: names}) the spec does not declare, once and before any work (each point
    would otherwise report the same E-PARAM-UNKNOWN). The error points at the spec's parameter
    declarations (or its first line when it has none) and suggests the closest names."""
    from archc.ast import Loc
    from archc.errors import Related, SpecError, SpecErrors, _close, did_you_mean
    from archc.frontend import parse_file, parse_text
    from archc.loader import is_library
    spec = parse_file(spec_path, language) if text is None else parse_text(text, language or "arch", spec_path)
    if is_library(spec):
        raise SpecError(f"{spec_path} is a block library (blocks only): there is no model to sweep",
                        Loc(file=spec_path, line=1, col=1),
                        "sweep a spec with a `model` and its inputs and outputs", code="E-INPUT-NO-INPUTS")
    declared = [p.name for p in spec.params]
    errors = []
    for option, name in ((o, n) for o, given in names.items() for n in given):
        if name in declared:
            continue
        # pointed at the likeliest meant parameter's declaration, the others as notes
        close = _close(name, declared)
        primary = next((p for p in spec.params if close and p.name == close[0]),
                       spec.params[0] if spec.params else None)
        where = primary.loc if primary is not None else Loc(file=spec_path, line=1, col=1)
        errors.append(SpecError(
            f"{option} {name}: no model parameter named '{name}' to set", where,
            did_you_mean(name, declared) or
            f"the spec's parameters are: {', '.join(declared) or 'none (declare one with `param`)'}",
            related=[Related(p.loc, f"'{p.name}' is declared here") for p in spec.params
                     if p.loc and p is not primary],
            code="E-PARAM-UNKNOWN"))
    if errors:
        raise SpecErrors(errors)


# ------------------------------------------------------------------------------------ one point
def training_memory_available() -> bool:
    """Whether archc.analysis.training (the static training-memory analysis) is installed."""
    import importlib.util
    return importlib.util.find_spec("archc.analysis.training") is not None


def evaluate(settings: Settings, point: dict[str, Any]) -> dict[str, Any]:
    """One point's record (plain JSON data): its numbers, or the diagnostic that refused it. Runs
    in a worker; never raises for a spec's error."""
    from archc.errors import SpecError, SpecErrors
    started = time.perf_counter()
    record: dict[str, Any] = {"point": _jsonable(point)}
    try:
        record.update(_measure(settings, point))
        record["status"] = "ok"
    except (SpecErrors, SpecError) as e:
        errors = e.errors if isinstance(e, SpecErrors) else [e]
        first = errors[0]
        record["status"] = "invalid"
        record["error"] = {"code": first.code, "message": first.message,
                           "location": _where(first.loc), "count": len(errors)}
    except (RecursionError, MemoryError) as e:
        record["status"] = "invalid"
        record["error"] = {"code": "E-LIMIT-NESTING" if isinstance(e, RecursionError) else None,
                           "message": "the spec is nested too deeply to process" if isinstance(e, RecursionError)
                           else "out of memory", "location": None, "count": 1}
    except Exception as e:  # a bug of archc's at this point: reported in its row, the sweep goes on
        if os.environ.get("ARCHC_TRACEBACK"):
            raise
        record["status"] = "internal error"
        record["error"] = {"code": None, "message": f"internal error: {type(e).__name__}: {e}",
                           "location": None, "count": 1}
    record["seconds"] = round(time.perf_counter() - started, 4)
    return record


def _measure(settings: Settings, point: dict[str, Any]) -> dict[str, Any]:
    from archc import symbolic as sy
    from archc.backends.report import check_at
    hyperparams = {**settings.defines, **point}
    if settings.import_path:
        from archc.loader import import_path
        with import_path(settings.import_path):
            model = _load(settings, hyperparams)
    else:
        model = _load(settings, hyperparams)
    symbols = _size_symbols(model)
    at = {k: v for k, v in (settings.at or {}).items() if k in symbols} or None
    check_at(model, at)  # sizes that break this point's constraints or limits: its diagnostic

    def value(d: Any) -> Any:
        d = d.subs(at) if at and isinstance(d, sy.Expr) else d
        return d if isinstance(d, int) else sy.to_str(d)

    out: dict[str, Any] = {
        "params": model.params, "trainable": model.trainable_params,
        "macs": value(model.macs),
        "activation_bytes": value(model.metrics.totals.activation_bytes),
        "min_input_size": {s: model.smallest_size(s) for s in sorted(symbols)},
        "constraints": model.constraints,
        "warnings": sorted({w.code for w in model.warnings if w.code}),
    }
    activations = model.metrics.totals.activation_bytes
    shown = {key: text for key, text in (("macs", _leading(model.macs, at, "")),
                                         ("activation_bytes", _leading(activations, at, " bytes")))
             if text is not None}
    if shown:  # sizes left symbolic: how the table shows the expressions (their leading terms)
        out["shown"] = shown
    if training_memory_available():
        out["training_bytes"] = _training_bytes(model, settings, at)
    return out


def _leading(d: Any, at: dict[str, int] | None, unit: str) -> str | None:
    from archc import symbolic as sy
    from archc.backends.report import leading_text
    d = d.subs(at) if at and isinstance(d, sy.Expr) else d
    return None if isinstance(d, int) else leading_text(d, unit)


def _load(settings: Settings, hyperparams: dict[str, Any]) -> Any:
    from archc.model import load, loads
    if settings.text is None and settings.language is None:
        return load(settings.spec, hyperparams, strict=settings.strict)
    from archc.frontend import read_source
    text = settings.text if settings.text is not None else read_source(settings.spec)
    return loads(text, settings.language or "arch", hyperparams, file=settings.spec, strict=settings.strict)


def _training_bytes(model: Any, settings: Settings, at: dict[str, int] | None) -> int | None:
    """The peak training memory of a step at the sweep's batch (archc.analysis.training); None
    where input sizes other than the batch are symbolic and --at gives them no value."""
    from archc.analysis.training import training_memory
    from archc.errors import SpecError
    options = {k: v for k, v in (("dtype", settings.dtype), ("optimizer", settings.optimizer)) if v is not None}
    try:
        return training_memory(model, batch=settings.batch, sizes=at or {}, **options).peak
    except SpecError as e:
        if e.code == "E-TRAIN-SIZE-SYMBOLIC":
            return None
        raise


def check_training_options(dtype: str | None, optimizer: str | None) -> None:
    """Unknown dtype or optimizer names: one ValueError before the work, not one per point."""
    if (dtype is None and optimizer is None) or not training_memory_available():
        return
    from archc.analysis import training
    if dtype is not None:
        training.dtype_name(dtype)
    if optimizer is not None and optimizer not in training.OPTIMIZERS:
        raise ValueError(f"unknown optimizer {optimizer!r}: use one of {', '.join(training.OPTIMIZERS)}")


def _size_symbols(model: Any) -> set[str]:
    """The symbolic sizes of the model's inputs, the batch N aside."""
    from archc import symbolic as sy
    symbols: set[str] = set()
    for node_id in model.graph.inputs.values():
        for d in model.graph.node(node_id).shape:
            if isinstance(d, sy.Expr):
                symbols |= d.free_symbols()
    symbols.discard("N")
    return symbols


def _where(loc: Any) -> str | None:
    return None if loc is None else f"{loc.file}:{loc.line}:{loc.col}"


def _jsonable(v: Any) -> Any:
    if isinstance(v, dict):
        return {str(k): _jsonable(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_jsonable(x) for x in v]
    if v is None or isinstance(v, (bool, int, float)):
        return v
    return str(v)  # a Word (a symbolic size's name): its text


HEADER_START = b'{"archc_sweep"'  # how a resume file begins (json.dumps with sort_keys)

_NUMBER_KEYS = ("params", "trainable", "macs", "activation_bytes")


def well_formed(record: Any) -> bool:
    """Whether a line of a resume file is a record this version can show: a point, and the
    numbers of a valid one or the diagnostic of an invalid one."""
    if not isinstance(record, dict) or not isinstance(record.get("point"), dict):
        return False
    status = record.get("status")
    if status == "ok":
        return (all(isinstance(record.get(k), (int, str)) and not isinstance(record.get(k), bool)
                    for k in _NUMBER_KEYS)
                and isinstance(record.get("min_input_size", {}), dict)
                and isinstance(record.get("constraints", []), list)
                and isinstance(record.get("shown", {}), dict)
                and (record.get("training_bytes") is None or type(record.get("training_bytes")) is int))
    if status == "invalid":  # an "internal error" is run again: the bug may be fixed since
        error = record.get("error")
        return isinstance(error, dict) and isinstance(error.get("message"), str)
    return False


class ResumeFile:
    """A JSON Lines file of one sweep's results: a header line (the spec, its digest and the
    shared settings), then one record per point, appended and flushed as each arrives. A line
    cut short by an interruption is dropped when the file is opened again."""

    def __init__(self, path: str, header: dict[str, Any]):
        self.path = path
        self.header = header
        self.done: dict[str, dict[str, Any]] = {}
        self._file: Any = None

    def open(self) -> ResumeFile:
        from archc.errors import SpecError
        from archc.files import OutputError
        target = Path(self.path)
        good = b""
        if target.is_dir():
            raise OutputError(errno.EISDIR, os.strerror(errno.EISDIR), self.path)
        if target.exists():
            try:
                data = target.read_bytes()
            except OSError as e:
                raise OutputError(e.errno, e.strerror, self.path) from None
            good = data[:data.rfind(b"\n") + 1]  # an interrupted write leaves a partial last line
            head = data.lstrip()
            if not good.strip() and head and not (head.startswith(HEADER_START) or HEADER_START.startswith(head)):
                # no whole line, and not the start of a header cut short: someone else's file,
                # which dropping the "partial line" would wipe
                good = data
            lines = [line for line in good.decode("utf-8", "replace").split("\n") if line.strip()]
            if lines:
                try:
                    header = json.loads(lines[0])
                except json.JSONDecodeError:
                    header = None
                if not isinstance(header, dict) or header.get("archc_sweep") != RESUME_VERSION:
                    raise SpecError(f"--resume {self.path}: not a results file of archc sweep", None,
                                    "give a new file name, or the file an earlier `archc sweep --resume` wrote",
                                    code="E-SWEEP-RESUME-MISMATCH")
                # the spec by its content (the same file may be named by another path)
                differ = [k for k in self.header if k != "spec" and header.get(k) != self.header[k]]
                if differ:
                    said = "; ".join(f"{k}: {header.get(k)!r} there, {self.header[k]!r} now" for k in differ)
                    raise SpecError(f"--resume {self.path} holds the results of another sweep ({said})", None,
                                    "rerun with the same spec and options, or give a new file name",
                                    code="E-SWEEP-RESUME-MISMATCH")
                for line in lines[1:]:
                    try:
                        record = json.loads(line)
                    except json.JSONDecodeError:
                        continue
                    if well_formed(record):  # anything else (edited by hand, another version): run again
                        self.done[point_key(record["point"])] = record
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            if good != (target.read_bytes() if target.exists() else b""):
                target.write_bytes(good)  # drop the partial line before appending
            self._file = open(target, "a", encoding="utf-8")
            if not good.strip():
                self._write(self.header)
        except OSError as e:
            raise OutputError(e.errno, e.strerror, self.path) from None
        return self

    def _write(self, record: dict[str, Any]) -> None:
        self._file.write(json.dumps(record, sort_keys=True) + "\n")
        self._file.flush()

    def add(self, record: dict[str, Any]) -> None:
        self.done[point_key(record["point"])] = record
        self._write(record)

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


# ------------------------------------------------------------------------------------ the sweep
@dataclass
class SweepResult:
    axes: list[str]
    records: list[dict[str, Any]]  # in grid order
    settings: Settings
    evaluated: int  # points evaluated by this run (the others came from the resume file)
    training: bool  # whether records carry training memory

    @property
    def invalid(self) -> int:
        return sum(1 for r in self.records if r["status"] != "ok")


def sweep(spec: str, axes: dict[str, Sequence[Any]], *, defines: dict[str, Any] | None = None,
          batch: int = DEFAULT_BATCH, at: dict[str, int] | None = None, dtype: str | None = None,
          optimizer: str | None = None, jobs: int | None = None, engine: str = "local",
          client: Any = None, scheduler: str | None = None, resume: str | None = None,
          import_path: Sequence[str] = (), strict: bool = False, language: str | None = None,
          text: str | None = None,
          on_progress: Callable[[int, int, int], None] | None = None) -> SweepResult:
    """Evaluate `spec` (a path; or, with `text`, the name of that text) at every point of `axes`
    ({name: [values]}); see the module's docs. `language`: "arch" or "yaml" where the suffix does
    not say; `strict`: warnings make a point invalid. `on_progress(done, total, invalid)` is
    called after each point."""
    from archc.errors import SpecError
    defines = dict(defines or {})
    if isinstance(batch, bool) or not isinstance(batch, int) or not 1 <= batch <= MAX_BATCH:
        raise SpecError(f"--batch {batch}: the batch of the training memory column is a whole number "
                        f"from 1 to {MAX_BATCH:,}", None, "give the samples of one forward pass, e.g. --batch 64",
                        code="E-SWEEP-BATCH")
    both = sorted(set(axes) & set(defines))
    if both:
        raise SpecError(f"{', '.join(both)}: set by -D and swept by -p at once", None,
                        "give each parameter one way: a fixed value with -D, or values to sweep with -p",
                        code="E-SWEEP-PARAM-TWICE")
    if scheduler and engine == "local":
        engine = "dask"  # an existing cluster's address: it is the dask engine that uses one
    if engine not in ENGINES:
        raise SpecError(f"unknown sweep engine {engine!r}", None, f"use one of {', '.join(ENGINES)}",
                        code="E-SWEEP-ENGINE")
    if engine == "dask":
        require_distributed()  # before the work: one clear error
    check_names(spec, {"-p": list(axes), "-D": list(defines)}, text, language)
    check_training_options(dtype, optimizer)
    settings = Settings(spec, defines, batch, dict(at) if at else None, dtype, optimizer, tuple(map(str, import_path)),
                        strict, language, text)
    points = grid(axes)
    jobs = jobs or os.cpu_count() or 1
    digest = hashlib.sha256(text.encode() if text is not None else Path(spec).read_bytes()).hexdigest()
    log = ResumeFile(resume, settings.header(digest)).open() if resume else None
    done = dict(log.done) if log else {}
    todo = [p for p in points if point_key(p) not in done]
    invalid = sum(1 for p in points if point_key(p) in done and done[point_key(p)]["status"] != "ok")
    count = [len(points) - len(todo), invalid]

    def arrived(record: dict[str, Any]) -> None:
        done[point_key(record["point"])] = record
        if log:
            log.add(record)
        count[0] += 1
        count[1] += record["status"] != "ok"
        if on_progress:
            on_progress(count[0], len(points), count[1])

    try:
        if engine == "dask":
            run_dask(functools.partial(evaluate, settings), todo, jobs, arrived, client=client, scheduler=scheduler)
        else:
            run_local(functools.partial(evaluate, settings), todo, jobs, arrived)
    finally:
        if log:
            log.close()
    records = [done[point_key(p)] for p in points]
    training = any("training_bytes" in r for r in records)
    return SweepResult(list(axes), records, settings, len(todo), training)


# ------------------------------------------------------------------------------------ tables
def _columns(result: SweepResult) -> list[str]:
    columns = [*result.axes, "params", "MACs"]
    if result.training:
        columns.append("train memory")
    return columns + ["activations", "min size", "constraints", "status"]


def _human_cells(result: SweepResult, record: dict[str, Any]) -> list[str]:
    point = [_elide(_value_text(record["point"].get(a)), MAX_VALUE_CELL) for a in result.axes]
    if record["status"] != "ok":
        error = record["error"]
        status = f"{error['code']}: {error['message']}" if error.get("code") else error["message"]
        blanks = len(_columns(result)) - len(point) - 1
        return point + ["—"] * blanks + [_elide(status, MAX_STATUS_CELL)]
    shown = record.get("shown", {})
    cells = point + [_count_text(record["params"]), shown.get("macs") or _count_text(record["macs"])]
    if result.training:
        memory = record.get("training_bytes")
        cells.append("—" if "training_bytes" not in record else
                     "needs --at" if memory is None else _bytes_text(memory))
    cells += [shown.get("activation_bytes") or _bytes_text(record["activation_bytes"]), _sizes_text(record),
              _constraints_text(record), "ok"]
    return cells


MAX_VALUE_CELL = 32  # characters of a point's value in the text table (CSV and JSON keep it whole)
MAX_STATUS_CELL = 200


def _elide(text: str, most: int) -> str:
    return text if len(text) <= most else f"{text[:most - 24]}…{text[-8:]} ({len(text):,} chars)"


def _count_text(n: Any) -> str:
    from archc.backends.report import human
    return f"{n / 10**12:.3g} T" if isinstance(n, int) and n >= 10**15 else human(n)


def _bytes_text(n: Any) -> str:
    from archc.backends.report import human_bytes
    return f"{n / 2**30:.3g} GiB" if isinstance(n, int) and n >= 2**50 else human_bytes(n)


def _value_text(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    return "" if v is None else str(v)


def _sizes_text(record: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in record.get("min_input_size", {}).items()) or "fixed"


def _constraints_text(record: dict[str, Any]) -> str:
    return ", ".join(record.get("constraints") or []) or "none"


def render_text(result: SweepResult) -> str:
    header = _columns(result)
    rows = [_human_cells(result, r) for r in result.records]
    numeric = {"params", "MACs", "train memory", "activations"}
    widths = [max(len(header[i]), *(len(row[i]) for row in rows)) if rows else len(header[i])
              for i in range(len(header))]

    def line(cells: list[str]) -> str:
        return "  ".join(c.rjust(w) if h in numeric else c.ljust(w)
                         for c, w, h in zip(cells, widths, header)).rstrip()

    out = [line(header), line(["─" * w for w in widths])] + [line(r) for r in rows]
    out.append("")
    out.append(_footnote(result))
    return "\n".join(out) + "\n"


def _footnote(result: SweepResult) -> str:
    s = result.settings
    n = len(result.records)
    parts = [f"{n} point{'s' if n != 1 else ''}, {result.invalid} invalid"]
    if result.evaluated != len(result.records):
        parts.append(f"{len(result.records) - result.evaluated} from the resume file")
    at = f" at {', '.join(f'{k}={v}' for k, v in s.at.items())}" if s.at else ""
    parts.append(f"MACs and activations per sample{at} (float32 activations)")
    if result.training:
        parts.append(f"train memory: peak of a step at batch {s.batch} "
                     f"({s.dtype or 'float32'}, {s.optimizer or 'sgd'})")
    return "; ".join(parts) + "."


def render_csv(result: SweepResult) -> str:
    import csv
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    numbers = ["params", "trainable", "macs", *(["training_bytes"] if result.training else []), "activation_bytes"]
    writer.writerow([*result.axes, *numbers, "min_input_size", "constraints", "status", "code", "message",
                     "location"])
    for r in result.records:
        point = [_value_text(r["point"].get(a)) for a in result.axes]
        error = r.get("error") or {}
        writer.writerow(point + [r.get(k, "") for k in numbers] +
                        [_sizes_text(r) if r["status"] == "ok" else "",
                         "; ".join(r.get("constraints") or []), r["status"], error.get("code") or "",
                         error.get("message", ""), error.get("location") or ""])
    return buffer.getvalue()


def render_json(result: SweepResult) -> str:
    s = result.settings
    data = {"spec": s.spec, "axes": result.axes, "defines": _jsonable(s.defines), "batch": s.batch,
            "at": s.at, "dtype": s.dtype, "optimizer": s.optimizer, "training_memory": result.training,
            "points": result.records}
    return json.dumps(data, indent=2) + "\n"


def render(result: SweepResult, format: str = "text") -> str:
    return {"text": render_text, "csv": render_csv, "json": render_json}[format](result)


# ------------------------------------------------------------------------------------ the command
def run(args: Any) -> int:
    """`archc sweep` (its options: archc/cli.py)."""
    from archc.errors import SpecError
    from archc.files import write_atomic
    from archc.progress import Progress, step
    axes: dict[str, list[Any]] = {}
    for name, values in args.param:
        if name in axes:
            raise SpecError(f"-p {name} is given twice", None,
                            f"give all its values in one option: -p {name}=V1,V2,...", code="E-SWEEP-PARAM-TWICE")
        axes[name] = values
    _check_outputs(args.spec, (("-o", args.output), ("--plot", args.plot), ("--resume", args.resume)))
    plot_format = None
    if args.plot:
        from archc.backends import pareto
        plot_format = pareto.format_for(args.plot)
        pareto.require_matplotlib()  # before the work: one clear error, no file
    import signal
    if threading_is_main():  # `kill PID` (SIGTERM) ends a sweep as Ctrl-C does: the pool shut down
        signal.signal(signal.SIGTERM, _interrupted)
    with Progress("sweep") as progress:
        step(f"evaluating {_count(axes)} points")
        spec, text, language = args.spec, None, args.lang
        if spec == "-":  # standard input: read once, sent to the workers as text
            from archc.frontend import sniff_language
            spec, text = "<stdin>", sys.stdin.read()
            language = language or sniff_language(text)
        result = sweep(spec, axes, defines=dict(args.define or []), batch=args.batch, strict=args.strict,
                       language=language, text=text,
                       at=dict(args.at or []) or None, dtype=args.dtype, optimizer=args.optimizer,
                       jobs=args.jobs, engine=args.engine, scheduler=args.scheduler, resume=args.resume,
                       import_path=args.import_path or (),
                       on_progress=lambda done, total, bad: progress.step(
                           f"{done}/{total} points evaluated" + (f", {bad} invalid" if bad else "")))
        if args.plot:
            step("drawing the Pareto plot")
            from archc.backends import pareto
            data = pareto.plot(result, x=args.x, y=args.y, format=plot_format, better=args.y_better)
    text = render(result, args.format)
    if args.output:
        write_atomic(args.output, text)
    else:
        sys.stdout.write(text)
    if args.plot:
        write_atomic(args.plot, data)
        print(f"archc: wrote the Pareto plot to {args.plot}", file=sys.stderr)
    return 0


def _check_outputs(spec: str, outputs: Sequence[tuple[str, str | None]]) -> None:
    """Before any work: no two of -o, --plot and --resume name one file, none names the spec
    (the table would replace the spec, the plot the table), and -o and --plot can be written
    where they point (a plot that cannot be written after a long sweep lost it, with the table
    already printed)."""
    from archc.errors import SpecError
    from archc.files import STDOUT, OutputError
    seen: dict[Any, str] = {} if spec == "-" else {_identity(spec): f"the spec {spec}"}
    for option, path in outputs:
        if not path or path == STDOUT:
            continue
        key = _identity(path)
        if key in seen:
            raise SpecError(f"{option} {path} is {seen[key]}: writing it would replace that", None,
                            "give each of -o, --plot and --resume a file of its own, none of them the spec",
                            code="E-SWEEP-OUTPUT-CLASH")
        seen[key] = f"the file of {option}"
        if option == "--resume":
            continue  # read and checked when the sweep opens it
        target = Path(path)
        if target.is_dir():
            raise OutputError(errno.EISDIR, os.strerror(errno.EISDIR), path)
        parent = target.parent
        while not parent.exists() and parent != parent.parent:
            parent = parent.parent
        if not parent.is_dir():
            raise OutputError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), path)


def _identity(path: str) -> Any:
    """What names one file: its device and inode where it exists (hard links, other spellings),
    else its resolved path."""
    try:
        info = os.stat(path)
        return (info.st_dev, info.st_ino)
    except OSError:
        return os.path.realpath(path)


def _interrupted(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def _count(axes: dict[str, Sequence[Any]]) -> int:
    n = 1
    for values in axes.values():
        n *= len(values)
    return n


