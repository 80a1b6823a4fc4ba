"""The `archc` command line. Every user error is printed as `file:line:col: error[CODE]: ...` with
the source line and a hint, and exits 1; output files are written only when everything succeeded.
Errors of the command line's own (an output that cannot be written) print as
`archc: error[CODE]: ...`; usage errors (exit 2) and internal errors (bugs of archc's) carry no
code."""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any, Callable, Sequence

from archc.files import STDOUT, OutputError, write_atomic

EXIT_OK, EXIT_INVALID, EXIT_USAGE = 0, 1, 2


def _parse_define(text: str) -> tuple[str, Any]:
    if "=" not in text:
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    name, raw = text.split("=", 1)
    value: Any
    lowered = raw.strip().lower()
    if lowered in ("true", "false"):
        value = lowered == "true"
    elif len(raw.strip().lstrip("+-").replace("_", "")) > 1000 and raw.strip().lstrip("+-").replace("_", "").isdigit():
        raise argparse.ArgumentTypeError(f"{name.strip()}: an int of over 1000 digits is no size or count")
    else:
        try:
            value = int(raw)
        except ValueError:
            try:
                value = float(raw)
            except ValueError:
                from archc.ops.base import Word
                value = Word(raw.strip())
            else:
                if value in (float("inf"), float("-inf")):
                    raise argparse.ArgumentTypeError(f"{name.strip()}: {raw.strip()} is too large for a number")
    return name.strip(), value


def _import_dir(text: str) -> str:
    if not os.path.isdir(text):
        raise argparse.ArgumentTypeError(f"{text!r} is not a directory")
    return text


def _run(args: argparse.Namespace) -> int:
    """The command, with the --import-path folders allowed for imports while it runs."""
    dirs = getattr(args, "import_path", None)
    if not dirs:
        return args.func(args)
    from archc.loader import import_path
    with import_path(dirs):
        return args.func(args)


def _emit(text: str, output: str | None) -> None:
    if output:
        write_atomic(output, text)
    else:
        sys.stdout.write(text)


STDIN = "-"  # as a spec path: read the spec from standard input
STDIN_NAME = "<stdin>"  # its name in diagnostics


def _display(spec: str) -> str:
    return STDIN_NAME if spec == STDIN else spec


def _source(args: argparse.Namespace, spec: str) -> tuple[str, str, str] | None:
    """(text, language, file name) of a spec read from stdin or given `--lang`; None for a
    plain file, which archc reads itself. Stdin is read once (check may name it again)."""
    from archc.frontend import read_source, sniff_language
    lang = getattr(args, "lang", None)
    if spec == STDIN:
        if not hasattr(args, "_stdin"):
            args._stdin = sys.stdin.read()
        return args._stdin, lang or sniff_language(args._stdin), STDIN_NAME
    if lang:  # read once: a pipe (/dev/stdin, <(...)) has nothing left for a second read
        texts = args.__dict__.setdefault("_texts", {})
        if spec not in texts:
            texts[spec] = read_source(spec)
        return texts[spec], lang, spec
    return None


def _parse(args: argparse.Namespace, spec: str, text: str | None = None):
    """The AST of `spec`; `text`: its source, when the caller has read it already."""
    from archc.frontend import language_of, parse_file, parse_text
    from archc.collector import kept
    source = _source(args, spec)
    with kept(_OWN_PROCESS):  # (archc.collector.kept: the command's AST is never garbage)
        language = language_of(spec) if source is None else None
        if source is not None:
            parsed = parse_text(*source)
        elif text is not None and language is not None:
            parsed = parse_text(text, language, spec)
        else:
            parsed = parse_file(spec)
    _KEPT["parsed"] = parsed if _OWN_PROCESS else None
    return parsed


def use_color(stream: Any = None) -> bool:
    """Colour in diagnostics: only on a terminal, never with NO_COLOR set (no-color.org);
    FORCE_COLOR set (not "0") forces it."""
    stream = sys.stderr if stream is None else stream
    if os.environ.get("NO_COLOR"):
        return False
    force = os.environ.get("FORCE_COLOR")
    if force is not None and force not in ("", "0"):
        return True
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty()) and os.environ.get("TERM") != "dumb"


def _report(error: Any) -> None:
    """Print a SpecError or SpecErrors on stderr (in colour on a terminal)."""
    print(error.render(use_color(sys.stderr)), file=sys.stderr)


def _load(args: argparse.Namespace, spec: str, parsed: Any = None):
    """The model of `spec` (`parsed`: its AST, when the caller has parsed it already)."""
    from archc.collector import kept
    from archc.model import from_spec
    parsed = parsed if parsed is not None else _parse(args, spec)
    with kept(_OWN_PROCESS):  # a short-lived process: what the model holds is never garbage
        model = from_spec(parsed, _display(spec), dict(args.define or []), strict=getattr(args, "strict", False))
    _KEPT["model"] = model if _OWN_PROCESS else None
    for warning in model.warnings:  # printed, not fatal (--strict made them errors already)
        print(warning.render(use_color()) + "\n", file=sys.stderr)
    return model


def _library_blocks(args: argparse.Namespace, path: str, spec: Any) -> list[str] | None:
    """The blocks of a block library (a file of blocks only), checked; None for a model."""
    from archc.loader import check_library, is_library
    return check_library(spec, _display(path)) if is_library(spec) else None


MAX_FIX_ROUNDS = 8  # a fix can reveal the next problem (evaluation stops at an error); bounded


def _problems(args: argparse.Namespace, spec: str, text: str, language: str) -> list[Any]:
    """The errors and warnings of a spec given as text (a library's too)."""
    from archc.errors import SpecErrors
    from archc.frontend import parse_text
    from archc.model import from_spec
    try:
        parsed = parse_text(text, language, _display(spec))
        if _library_blocks(args, spec, parsed) is not None:
            return []
        return list(from_spec(parsed, _display(spec), dict(args.define or [])).warnings)
    except SpecErrors as e:
        return list(e.errors)


def _fix(args: argparse.Namespace, spec: str) -> None:
    """Apply the preferred fixes of a spec's diagnostics, round after round, and write the result
    (a file atomically; stdin's to stdout). What was fixed is listed on stderr."""
    from archc import fixes
    from archc.frontend import language_of, read_source, sniff_language
    source = _source(args, spec)
    text = source[0] if source else read_source(spec)
    language = source[1] if source else language_of(spec) or sniff_language(text)
    applied_titles: list[str] = []
    for _ in range(MAX_FIX_ROUNDS):
        text, applied = fixes.apply(text, _display(spec), fixes.preferred_fixes(_problems(args, spec, text, language)))
        if not applied:
            break
        applied_titles += [f.title for f in applied]
    for title in applied_titles:
        print(f"{_display(spec)}: fixed: {title}", file=sys.stderr)
    if spec == STDIN:
        args._stdin = text
        sys.stdout.write(text)
    elif applied_titles:
        write_atomic(spec, text)


def cmd_check(args: argparse.Namespace) -> int:
    from archc.errors import SpecErrors
    status = EXIT_OK
    for spec in args.specs:
        try:
            if args.fix:
                _fix(args, spec)
            parsed = _parse(args, spec)
            library = _library_blocks(args, spec, parsed)
            if library is not None:
                print(f"{_display(spec)}: ok (block library: {', '.join(library)})")
                continue
            model = _load(args, spec, parsed)
        except SpecErrors as e:
            _report(e)
            status = EXIT_INVALID
            continue
        layers = sum(1 for n in model.graph.layers() if not n.is_input)
        extra = f"; inputs must satisfy {', '.join(model.constraints)}" if model.constraints else ""
        n = len(model.warnings)
        extra += f"; {n} warning{'s' if n != 1 else ''}" if n else ""
        print(f"{_display(spec)}: ok ({layers:,} layer{'s' if layers != 1 else ''}, "
              f"{model.params:,} parameter{'s' if model.params != 1 else ''}{extra})",
              file=sys.stderr if args.fix and spec == STDIN else sys.stdout)  # stdout holds the fixed spec
    return status


def _train_dtype(text: str) -> str:
    from archc.analysis.training import dtype_name
    try:
        return dtype_name(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def _train_device(text: str) -> str:
    from archc.analysis.devices import device_spec
    try:
        return device_spec(text).name
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def cmd_summary(args: argparse.Namespace) -> int:
    model = _load(args, args.spec)
    if args.train:  # training memory and cost (archc/backends/training_report.py)
        if args.format == "markdown" or args.by_op or args.depth is not None:
            return _usage("summary --train prints text or JSON, one row per layer: "
                          "--format markdown, --by-op and --depth are for the layer table")
        from archc.backends import training_report
        sizes = {k: v for k, v in (args.at or [])}
        from archc.analysis.training import training_memory
        tm = training_memory(model, batch=args.batch, dtype=args.dtype, optimizer=args.optimizer,
                             accumulation=args.accumulate, checkpoint=args.checkpoint, device=args.device,
                             sizes=sizes)
        _emit(training_report.render(tm, "json" if args.format == "json" else "text"), args.output)
        return EXIT_OK
    _emit(model.summary(args.format, args.depth, args.by_op, dict(args.at or []) or None), args.output)
    return EXIT_OK


def cmd_draw(args: argparse.Namespace) -> int:
    from archc.backends import diagram
    if args.output == STDOUT:  # -o -: standard output, as without -o
        args.output = None
    fmt = diagram.format_for(args.output, args.format)
    if fmt != "dot":
        diagram.require_dot(fmt)  # before the work: no dot, one clear error, no file
    import warnings

    from archc.progress import Progress, step
    with Progress("draw"):  # a large model takes seconds: shown on a terminal
        step("elaborating the spec")
        model = _load(args, args.spec)
        with warnings.catch_warnings(record=True) as said:
            warnings.simplefilter("always", diagram.GraphvizWarning)
            step("laying out the diagram" + (f" and rendering {fmt.upper()} with Graphviz" if fmt != "dot" else ""))
            choice = diagram.choose_depth(model, args.depth)  # by default the deepest that fits a page
            data = diagram.draw(model, fmt, diagram.FULL if choice.depth is None else choice.depth, args.rankdir)
    if choice.note():
        print("archc: note: " + choice.note(), file=sys.stderr)
    for w in said:  # what Graphviz said (e.g. a bitmap scaled down) is the user's business
        if issubclass(w.category, diagram.GraphvizWarning):
            from archc.errors import SpecError
            said_by_dot = SpecError(str(w.message), None, w.category.hint, severity="warning",
                                    code=w.category.code)
            print("archc: " + said_by_dot.render(use_color(sys.stderr)), file=sys.stderr)
        else:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    if args.output:
        write_atomic(args.output, data)
    elif fmt in ("dot", "svg"):
        sys.stdout.write(data.decode())
    else:
        sys.stdout.flush()
        sys.stdout.buffer.write(data)
    return EXIT_OK


def _draw_depth(text: str) -> int | str:
    """`draw --depth`: a number, `all` (every layer) or `auto` (fit a page)."""
    if text in ("all", "auto"):
        return text
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, 'all' or 'auto', got {text!r}") from None


def cmd_compile(args: argparse.Namespace) -> int:
    # code generation is text only: no torch needed to write the file
    from archc.progress import Progress, step
    with Progress("compile"):  # a large model takes seconds: shown on a terminal
        step("elaborating the spec")
        model = _load(args, args.spec)
        step("generating the PyTorch code")
        source = model.to_source()
    _emit(source, args.output)
    return EXIT_OK


def cmd_export(args: argparse.Namespace) -> int:
    import warnings

    from archc.progress import Progress, step
    with Progress("export"):  # torch's import and exporter take seconds: steps on a terminal
        step("importing torch and the ONNX exporter")
        # lazily (only this command needs torch and onnx); before the work: one clear error, no file
        from archc.lower.export import export_onnx, require_onnx
        require_onnx()
        if args.weights is not None:
            _check_weights_path(args.weights)
        step("elaborating the spec")
        model = _load(args, args.spec)
        with warnings.catch_warnings(record=True) as said:
            warnings.simplefilter("always")
            result = export_onnx(model, args.onnx, dict(args.input_size or []), args.opset, args.static,
                                 weights=args.weights)
    for w in said:  # what torch said that is the user's business (its chatter is filtered out)
        print(f"archc: warning: {w.category.__name__}: {w.message}", file=sys.stderr)
    for symbol, why in result.fixed.items():
        if why != "static export":
            print(f"archc: note: {symbol} is fixed at {result.example[symbol]} in the file: {why}", file=sys.stderr)
    parts = []
    if result.dynamic:
        parts.append("dynamic: " + "; ".join(d.describe() for d in result.dynamic.values()))
    if result.example:
        parts.append("traced at " + ", ".join(f"{k}={v}" for k, v in result.example.items()))
    if result.weights is not None:  # where the weights came from, a checkpoint's entry included
        parts.append(f"weights: {len(result.weights.loaded)} tensors from {result.weights.source}" +
                     (f", keys without their prefix '{result.weights.stripped_prefix}'"
                      if result.weights.stripped_prefix else ""))
    print(f"wrote {args.onnx}" + (f" ({'; '.join(parts)})" if parts else ""))
    return EXIT_OK


def _check_weights_path(path: str) -> None:
    """--weights names a readable file: said before a minute of work, not after it."""
    from archc.errors import SpecError
    if not os.path.exists(path):
        raise SpecError(f"checkpoint '{path}' does not exist", None,
                        "give the path of a .pt/.pth file that torch.save wrote, or a .safetensors file",
                        code="E-API-CHECKPOINT-NOT-FOUND")
    if os.path.isdir(path):
        raise SpecError(f"checkpoint '{path}' is a folder, not a file", None,
                        "give the path of a .pt/.pth file that torch.save wrote, or a .safetensors file",
                        code="E-API-CHECKPOINT-UNREADABLE")


def _parse_size(text: str) -> tuple[str, int]:
    name, _, value = text.partition("=")
    if not name.strip() or not value.strip().isdigit() or int(value) < 1:
        raise argparse.ArgumentTypeError(f"expected SYMBOL=SIZE such as H=224, got {text!r}")
    return name.strip(), int(value)


def cmd_fmt(args: argparse.Namespace) -> int:
    """Print one spec in canonical form (or translated with --to); --check: exit 1 if some
    file is not in canonical form; --write: rewrite those in place. Comments are kept."""
    from archc.errors import SpecErrors
    from archc.frontend import language_of, read_source, to_dsl, to_yaml
    in_place = args.check or args.write
    if len(args.specs) > 1 and not in_place:
        return _usage("fmt prints one spec; give --check or --write to format several")
    if in_place and args.output:
        return _usage("fmt --check and --write work in place; -o writes one formatted copy")
    if args.write and STDIN in args.specs:
        return _usage("fmt --write rewrites files; standard input has none (formatted text "
                      "goes to stdout without --write)")
    status = EXIT_OK
    for spec in args.specs:
        try:
            own = (args.lang or language_of(spec) or "arch") if spec != STDIN else None
            source = _source(args, spec)
            text = source[0] if source is not None else read_source(spec)
            if own is None:  # stdin: its language as given or sniffed
                own = source[1] if source is not None else "arch"
            target = args.to or own
            if in_place and target != own:
                return _usage(f"fmt --check/--write keep the file's language; to translate "
                              f"{_display(spec)} into {target}, use -o FILE")
            tree = _parse(args, spec, text)
        except SpecErrors as e:
            _report(e)
            status = EXIT_INVALID
            continue
        formatted = to_yaml(tree) if target == "yaml" else to_dsl(tree)
        if not in_place:
            _emit(formatted, args.output)
        elif formatted != text:
            if args.write:
                target_path = Path(spec).resolve()  # through a symbolic link: rewrite its target
                write_atomic(str(target_path), formatted, mode=target_path.stat().st_mode)
                print(f"reformatted {spec}")
            else:
                print(f"would reformat {_display(spec)}")
                status = EXIT_INVALID
    return status


def _usage(message: str) -> int:
    print(f"archc: error: {message}", file=sys.stderr)
    return EXIT_USAGE


def cmd_schema(args: argparse.Namespace) -> int:
    import json
    from archc.schema import yaml_json_schema
    _emit(json.dumps(yaml_json_schema(), indent=2) + "\n", args.output)
    return EXIT_OK


def cmd_docs(args: argparse.Namespace) -> int:
    if args.errors:
        import functools

        from archc.backends.docs import render_error_catalogue
        from archc.codes.runner import run
        _emit(render_error_catalogue(functools.partial(run, cli=main)), args.output)
        return EXIT_OK
    from archc.backends.docs import render_reference
    _emit(render_reference(), args.output)
    return EXIT_OK


def cmd_explain(args: argparse.Namespace) -> int:
    from archc.codes import catalog, explain
    from archc.errors import did_you_mean
    try:
        sys.stdout.write(explain(args.code))
    except KeyError:
        known = did_you_mean(args.code.strip().upper(), catalog())
        return _usage(f"no diagnostic code {args.code!r}" +
                      (f"; {known}" if known else "; `archc docs --errors` lists them all"))
    return EXIT_OK


def cmd_completion(args: argparse.Namespace) -> int:
    from archc.shell_completion import script
    sys.stdout.write(script(build_parser(), args.shell))
    return EXIT_OK


def cmd_lsp(args: argparse.Namespace) -> int:
    try:
        from archc.lsp.server import serve
    except ImportError as e:
        if (getattr(e, "name", None) or "").split(".")[0] not in ("pygls", "lsprotocol"):
            raise
        return _usage("archc lsp needs the language-server extra: pip install -e '.[lsp]' in archc's checkout")
    serve()
    return EXIT_OK


def cmd_ops(args: argparse.Namespace) -> int:
    from archc.ops import REGISTRY
    for op in REGISTRY.ops:
        attrs = ", ".join(a.name if a.required else f"{a.name}={a.default!r}" for a in op.attrs)
        print(f"{op.name}({attrs})  [{op.family}]  {op.doc.splitlines()[0] if op.doc else ''}")
    return EXIT_OK


def _lazy(module: str) -> Callable[[argparse.Namespace], int]:
    """A command whose code lives in archc/backends/<module>.py, imported only when it runs."""
    def command(args: argparse.Namespace) -> int:
        import importlib
        return importlib.import_module(f"archc.backends.{module}").run(args)
    return command


def _sweep_axis(text: str) -> tuple[str, list[Any]]:
    """`sweep -p NAME=V1,V2,...`: each value as -D reads it."""
    name, sep, raw = text.partition("=")
    values = [v for v in raw.split(",") if v.strip()]
    if not sep or not name.strip() or not values:
        raise argparse.ArgumentTypeError(f"expected NAME=V1,V2,... such as width=0.5,1.0, got {text!r}")
    parsed = [_parse_define(f"{name}={v}")[1] for v in values]
    twice = next((v for k, v in enumerate(parsed) if v in parsed[:k]), None)
    if twice is not None:  # the point would be evaluated twice and listed twice
        raise argparse.ArgumentTypeError(f"{name.strip()}: the value {twice} is listed twice")
    return name.strip(), parsed


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def _block_names(text: str) -> list[str]:
    """`--checkpoint layer1,layer2`: names, none empty (an empty list checkpointed nothing, silently)."""
    names = [name.strip() for name in text.split(",")]
    if not all(names):
        raise argparse.ArgumentTypeError(f"expected block names separated by commas, e.g. layer1,layer2; got {text!r}")
    return names


def _depth(text: str) -> int:
    """`summary/diff --depth K`: 0 or more (a negative depth was taken silently as 0)."""
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected 0 or a positive integer, got {text!r}")
    return value


def cmd_import(args: argparse.Namespace) -> int:
    from archc.importer.command import run  # imports torch when it runs
    return run(args)


class _OncePerName(argparse.Action):
    """Appends (NAME, value) pairs, as action="append" does, but refuses a name given twice with
    different values: `-D width=0.5 -D width=1.0` kept the last, silently. (sweep's -p reports
    its own, E-SWEEP-PARAM-TWICE.)"""

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, pair: Any,
                 option: str | None = None) -> None:
        pairs = list(getattr(namespace, self.dest) or [])
        for name, value in pairs:
            if name == pair[0] and value != pair[1]:
                parser.error(f"{option} {name} is given twice ({value} and {pair[1]}): give it once")
        pairs.append(pair)
        setattr(namespace, self.dest, pairs)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="archc", description="Declarative architecture compiler for CNNs.")
    parser.add_argument("--version", action="version", version=_version())
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, fn: Callable, help: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help, description=help)
        p.set_defaults(func=fn)
        return p

    def lang(p: argparse.ArgumentParser) -> None:
        p.add_argument("--lang", choices=("arch", "yaml"),
                       help="the spec's language (default: from the suffix; for '-', standard "
                            "input, guessed from its first line)")

    def defines(p: argparse.ArgumentParser) -> None:  # the options of every command that loads a model
        p.add_argument("-D", "--define", metavar="NAME=VALUE", type=_parse_define, action=_OncePerName,
                       help="set a model parameter, e.g. -D num_classes=10 (repeatable)")
        lang(p)
        p.add_argument("--strict", action="store_true",
                       help="treat warnings (valid but suspicious layers) as errors: exit 1")
        p.add_argument("--import-path", metavar="DIR", type=_import_dir, action="append",
                       help="also allow imports from this folder, searched after the importing "
                            "file's own (repeatable; ARCHC_PATH adds more, os.pathsep-separated)")

    p = command("check", cmd_check, "Validate specs: exit 0 if valid, 1 if not.")
    p.add_argument("specs", nargs="+", metavar="SPEC")
    p.add_argument("--fix", action="store_true",
                   help="apply the fixes diagnostics offer where there is exactly one (a misspelt "
                        "name with one close match, ...), rewriting each file; `-` writes the fixed "
                        "spec to stdout")
    defines(p)

    p = command("summary", cmd_summary, "Print a layer table with shapes, parameters and MACs.")
    p.add_argument("spec", metavar="SPEC")
    p.add_argument("--format", choices=("text", "json", "markdown"), default="text")
    p.add_argument("--depth", type=_depth, default=None, help="collapse blocks nested deeper than this")
    p.add_argument("--by-op", action="store_true",
                   help="add parameters and MACs per op type, with the conv + linear subtotal that "
                        "torchvision's GFLOPS, fvcore and papers quote (JSON always has it)")
    p.add_argument("--at", metavar="SYMBOL=SIZE", type=_parse_size, action=_OncePerName,
                   help="show MACs and shapes exactly at this value of a symbolic size, e.g. --at H=224 "
                        "(repeatable: --at H=224 --at W=320); by default a symbolic MACs count shows its "
                        "leading term")
    train = p.add_argument_group("training memory and cost (--train)")
    train.add_argument("--train", action="store_true",
                       help="report the memory of a training step (parameters, gradients, optimizer "
                            "state, the activations autograd saves, forward and backward peaks) and its FLOPs")
    train.add_argument("--batch", type=_positive, default=1, metavar="B", help="samples per forward pass (default 1)")
    train.add_argument("--dtype", default="float32", type=_train_dtype, metavar="{float32,bfloat16,float16}",
                       help="float32, or bfloat16/float16 autocast with float32 master weights (bf16, fp16 accepted)")
    train.add_argument("--optimizer", choices=("sgd", "sgd-momentum", "adam", "adamw"), default="sgd")
    train.add_argument("--accumulate", type=_positive, default=1, metavar="K", help="micro-batches per optimizer step")
    train.add_argument("--checkpoint", type=_block_names, default=None, metavar="BLOCKS",
                       help="blocks run under torch.utils.checkpoint, comma-separated: instances (layer3) "
                            "or block names (Bottleneck)")
    train.add_argument("--device", default=None, type=_train_device, metavar="{H100,A100,L4,CPU}",
                       help="estimate time per layer and step on this device (roofline: published peaks)")
    p.add_argument("-o", "--output", help="write to this file instead of stdout")
    defines(p)

    p = command("draw", cmd_draw, "Draw the network with Graphviz: .dot (needs nothing), .svg, .png or .pdf "
                                  "(need Graphviz's dot program).")
    p.add_argument("spec", metavar="SPEC")
    p.add_argument("-o", "--output", metavar="FILE",
                   help="output file; its suffix (.dot .svg .png .pdf) picks the format (default: DOT on stdout)")
    p.add_argument("--format", choices=("dot", "svg", "png", "pdf"), help="output format (default: from FILE)")
    p.add_argument("--depth", type=_draw_depth, default=None, metavar="{K,all,auto}",
                   help="draw blocks nested at depth K or deeper as one node each (0: top-level blocks; "
                        "as in summary --depth); all: every layer; auto (default): the deepest depth whose "
                        "drawing fits about a page (at most 80 boxes)")
    p.add_argument("--rankdir", choices=("TB", "LR"), default="TB",
                   help="reading direction: top to bottom (default) or left to right")
    defines(p)

    p = command("compile", cmd_compile, "Write the model as one standalone PyTorch file (imports torch only).")
    p.add_argument("spec", metavar="SPEC")
    p.add_argument("-o", "--output", metavar="FILE", help="write to this file instead of stdout")
    defines(p)

    p = command("export", cmd_export, "Export the model to ONNX through torch's exporter, its symbolic sizes "
                                      "dynamic (needs pip install -e '.[torch,onnx]' in archc's checkout).")
    p.add_argument("spec", metavar="SPEC")
    p.add_argument("--onnx", metavar="FILE", required=True, help="write ONNX to this file")
    p.add_argument("--input-size", metavar="SYMBOL=SIZE", type=_parse_size, action=_OncePerName,
                   help="example size of a symbolic input size, e.g. --input-size H=256 (repeatable; "
                        "default: batch 2, others the smallest allowed size from 224 or 16)")
    p.add_argument("--static", action="store_true",
                   help="fix every size at its example value (default: the batch and other symbolic "
                        "sizes stay dynamic in the file, with the spec's constraints)")
    p.add_argument("--opset", type=int, default=None, help="ONNX opset version (default: torch's)")
    p.add_argument("--weights", metavar="FILE",
                   help="trained weights to export: a state_dict saved by torch.save (read with "
                        "weights_only=True; a training checkpoint holding it under 'state_dict', "
                        "'model_state_dict' or 'model' too) or a .safetensors file (needs "
                        "safetensors); every tensor must fit by name and shape, else an error and "
                        "no file (default: freshly initialised weights)")
    defines(p)

    p = command("fmt", cmd_fmt, "Format specs canonically, keeping their comments; or translate "
                                "one into the other language.")
    p.add_argument("specs", nargs="+", metavar="SPEC", help="spec files ('-': standard input)")
    p.add_argument("--to", choices=("yaml", "arch"), help="target language (default: the spec's own)")
    p.add_argument("--check", action="store_true",
                   help="change nothing; list the files that are not formatted and exit 1 if any")
    p.add_argument("--write", "-w", action="store_true",
                   help="rewrite the files that are not formatted, in place")
    p.add_argument("-o", "--output", metavar="FILE", help="write to this file instead of stdout")
    lang(p)

    p = command("schema", cmd_schema, "Print the JSON Schema of the YAML spec form (for editors).")
    p.add_argument("-o", "--output")

    command("ops", cmd_ops, "List the operations with their attributes.")

    p = command("completion", cmd_completion, "Print a shell completion script: "
                                              "source <(archc completion bash).")
    p.add_argument("shell", choices=("bash", "zsh", "fish"))

    p = command("docs", cmd_docs, "Print the op reference (Markdown), generated from the op definitions.")
    p.add_argument("--errors", action="store_true",
                   help="print the diagnostic catalogue instead (docs/errors.md): every error and "
                        "warning code with an example and its fix")
    p.add_argument("-o", "--output")

    command("lsp", cmd_lsp, "Run the language server (Language Server Protocol over stdio) for editors: "
                            "diagnostics, hover shapes, completion, definitions (needs the lsp extra: pip install -e '.[lsp]').")

    # ---- sweep and diff: archc/backends/sweep.py and diff.py (imported when run)
    p = command("sweep", _lazy("sweep"), "Evaluate a spec over a grid of its model parameters: params, MACs, "
                                         "memory, minimum input size and constraints per point, in parallel.")
    p.add_argument("spec", metavar="SPEC")
    p.add_argument("-p", "--param", metavar="NAME=V1,V2,...", type=_sweep_axis, action="append", required=True,
                   help="a model parameter and the values to sweep, comma-separated, as -D writes a value "
                        "(repeatable: the grid is every combination)")
    p.add_argument("--batch", type=_positive, default=32, help="batch size of the training-memory column (default 32)")
    p.add_argument("--dtype", type=_train_dtype, default=None, metavar="{float32,bfloat16,float16}",
                   help="the training memory column's dtype: float32 (default), or bfloat16/float16 autocast")
    p.add_argument("--optimizer", choices=("sgd", "sgd-momentum", "adam", "adamw"), default=None,
                   help="the training memory column's optimizer (default sgd)")
    p.add_argument("--at", metavar="SYMBOL=SIZE", type=_parse_size, action=_OncePerName,
                   help="count MACs and memory at this value of a symbolic input size, e.g. --at H=224")
    p.add_argument("--format", choices=("text", "csv", "json"), default="text")
    p.add_argument("-o", "--output", metavar="FILE", help="write the table to this file instead of stdout")
    p.add_argument("--plot", metavar="FILE", help="draw the Pareto plot to FILE (.svg, .png or .pdf; "
                                                  "needs the plot extra: matplotlib)")
    p.add_argument("--x", choices=("macs", "params"), default="macs", help="the plot's x axis (default: macs)")
    p.add_argument("--y", choices=("params", "memory", "activations"), default="params",
                   help="the plot's y axis (default: params; memory: training memory at --batch)")
    p.add_argument("--y-better", choices=("lower", "higher"), default=None,
                   help="which way is better on y for the Pareto front (default: higher params, "
                        "lower memory and activations)")
    p.add_argument("--jobs", "-j", type=_positive, default=None,
                   help="worker processes (default: one per CPU; 1 runs in this process)")
    p.add_argument("--engine", choices=("local", "dask"), default="local",
                   help="local: a pool of processes on this machine; dask: Dask's distributed scheduler "
                        "(the distributed extra), a LocalCluster or --scheduler's cluster")
    p.add_argument("--scheduler", metavar="ADDRESS", help="with --engine dask: an existing cluster, e.g. tcp://host:8786")
    p.add_argument("--resume", metavar="FILE.jsonl",
                   help="append each point's result to FILE as it arrives and skip points already there: "
                        "rerun the same command to finish an interrupted sweep")
    defines(p)

    p = command("diff", _lazy("diff"), "Compare two specs, or one spec at two parameter settings: layers added, "
                                       "removed and changed, cost deltas per block, which weights transfer.")
    p.add_argument("a", metavar="A", help="a spec")
    p.add_argument("b", metavar="B", nargs="?", help="the spec to compare it with (default: A again, at --b's settings)")
    p.add_argument("--a", dest="a_define", metavar="NAME=VALUE", type=_parse_define, action=_OncePerName,
                   help="set a model parameter of A only (repeatable)")
    p.add_argument("--b", dest="b_define", metavar="NAME=VALUE", type=_parse_define, action=_OncePerName,
                   help="set a model parameter of B only (repeatable)")
    p.add_argument("--format", choices=("text", "markdown", "json"), default="text")
    p.add_argument("--depth", type=_depth, default=None,
                   help="blocks nested deeper than this are one row each in the per-block table (default 0: top-level blocks)")
    p.add_argument("-o", "--output", metavar="FILE", help="write to this file instead of stdout")
    defines(p)

    p = command("import", cmd_import, "Import a PyTorch model as a spec: blocks for its module classes, "
                                      "its module names (its state_dict loads), symbolic sizes where they hold "
                                      "(needs torch).")
    from archc.importer.command import add_arguments as import_arguments
    import_arguments(p)

    p = command("explain", cmd_explain, "Explain a diagnostic code (the one in error[E-...]): what it means, "
                                        "an example and its fix.")
    p.add_argument("code", metavar="CODE", help="e.g. E-SHAPE-CONCAT")
    return parser


def _version() -> str:
    from archc import __version__
    return f"archc {__version__}"


# archc runs as its own process (the `archc` command, `python -m archc`: main() reads sys.argv), not
# called by a host with arguments (a test, a notebook), whose heap it must not freeze
_OWN_PROCESS = False
# the last spec's AST and model, kept: `entry` ends the process without freeing them one by one
_KEPT: dict[str, Any] = {}


def entry() -> None:
    """The `archc` command and `python -m archc`: main(), its output flushed, then the process
    ends at once, leaving the heap to the operating system instead of freeing what the command
    built one object at a time and tearing the interpreter down."""
    code = main()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (BrokenPipeError, ValueError):  # the reader left (`archc ... | head`), or it is closed
            pass
    os._exit(code)


def main(argv: Sequence[str] | None = None) -> int:
    global _OWN_PROCESS
    _OWN_PROCESS = argv is None
    parser = build_parser()
    args = parser.parse_args(argv)
    from archc.errors import SpecError, SpecErrors
    from archc.limits import CommandTimeout, command_budget
    try:
        with command_budget(args):  # ARCHC_MAX_SECONDS: the whole command's wall clock
            return _run(args)
    except CommandTimeout as e:
        print("archc: " + e.diagnostic().render(use_color(sys.stderr)), file=sys.stderr)
        return EXIT_INVALID
    except (SpecErrors, SpecError) as e:
        _report(e)
        return EXIT_INVALID
    except BrokenPipeError:  # `archc ... | head`: the reader left; not an error of ours
        sys.stdout = open(os.devnull, "w")
        return EXIT_OK
    except OutputError as e:  # -o, --onnx: cannot be written
        print("archc: " + e.diagnostic().render(use_color(sys.stderr)), file=sys.stderr)
        return EXIT_INVALID
    except OSError as e:  # a last resort: reading and writing report their own
        print(f"archc: error: {e.strerror or e}: {e.filename or ''}".rstrip(": ") +
              "\n  hint: check the path and its permissions", file=sys.stderr)
        return EXIT_INVALID
    except KeyboardInterrupt:
        return 130
    except RecursionError:  # the evaluator and parsers report their own; this is a last resort
        nested = SpecError("the spec is nested too deeply to process", None,
                           "split long expressions and deep lists into several statements",
                           code="E-LIMIT-NESTING")
        print("archc: " + nested.render(use_color(sys.stderr)), file=sys.stderr)
        return EXIT_INVALID
    except MemoryError:
        print("archc: error: out of memory\n"
              "  hint: check the spec's sizes, repeat counts and YAML aliases", file=sys.stderr)
        return EXIT_INVALID
    except Exception as e:  # a bug of archc's, not the user's: say so instead of a traceback
        if os.environ.get("ARCHC_TRACEBACK"):
            raise
        print(f"archc: internal error: {type(e).__name__}: {e}\n"
              "  hint: this is a bug in archc, please report it with the spec; "
              "set ARCHC_TRACEBACK=1 to see where it happened", file=sys.stderr)
        return EXIT_INVALID


if __name__ == "__main__":
    entry()
