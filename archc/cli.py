"""The `archc` command line. Every user error is printed as `file:line:col: error: ...` with the
source line and a hint, and exits 1; output files are written only when everything succeeded."""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path
from typing import Any, Callable, Sequence

EXIT_OK, EXIT_INVALID, EXIT_USAGE = 0, 1, 2


def _parse_define(text: str) -> tuple[str, Any]:
    if "=" not in text:
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    name, raw = text.split("=", 1)
    value: Any
    lowered = raw.strip().lower()
    if lowered in ("true", "false"):
        value = lowered == "true"
    else:
        try:
            value = int(raw)
        except ValueError:
            try:
                value = float(raw)
            except ValueError:
                from archc.ops.base import Word
                value = Word(raw.strip())
    return name.strip(), value


def write_atomic(path: str, text: str | bytes) -> None:
    """Write all or nothing: a failed run never leaves a partial output file."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(text.encode() if isinstance(text, str) else text)
        umask = os.umask(0)  # mkstemp makes the file 0600; give it the mode open() would
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _emit(text: str, output: str | None) -> None:
    if output:
        write_atomic(output, text)
    else:
        sys.stdout.write(text)


def _load(args: argparse.Namespace, spec: str):
    import archc
    return archc.load(spec, dict(args.define or []))


def _library_blocks(path: str) -> list[str] | None:
    """The blocks of a block library (a file of blocks only), checked; None for a model."""
    from archc.frontend import parse_file
    from archc.ir.elaborate import check_library, is_library
    spec = parse_file(path)
    return check_library(spec, path) if is_library(spec) else None


def cmd_check(args: argparse.Namespace) -> int:
    from archc.errors import SpecErrors
    status = EXIT_OK
    for spec in args.specs:
        try:
            library = _library_blocks(spec)
            if library is not None:
                print(f"{spec}: ok (block library: {', '.join(library)})")
                continue
            model = _load(args, spec)
        except SpecErrors as e:
            print(e.render(), file=sys.stderr)
            status = EXIT_INVALID
            continue
        layers = sum(1 for n in model.graph.layers() if not n.is_input)
        extra = f"; inputs must satisfy {', '.join(model.constraints)}" if model.constraints else ""
        print(f"{spec}: ok ({layers} layers, {model.params:,} parameters{extra})")
    return status


def cmd_summary(args: argparse.Namespace) -> int:
    model = _load(args, args.spec)
    _emit(model.summary(args.format, args.depth, args.by_op), args.output)
    return EXIT_OK


def cmd_draw(args: argparse.Namespace) -> int:
    from archc.backends import diagram
    fmt = diagram.format_for(args.output, args.format)
    if fmt != "dot":
        diagram.require_dot(fmt)  # before the work: no dot, one clear error, no file
    model = _load(args, args.spec)
    data = diagram.draw(model, fmt, args.depth, args.rankdir)
    if args.output:
        write_atomic(args.output, data)
    elif fmt in ("dot", "svg"):
        sys.stdout.write(data.decode())
    else:
        sys.stdout.flush()
        sys.stdout.buffer.write(data)
    return EXIT_OK


def cmd_compile(args: argparse.Namespace) -> int:
    # code generation is text only: no torch needed to write the file
    _emit(_load(args, args.spec).to_source(), args.output)
    return EXIT_OK


def cmd_export(args: argparse.Namespace) -> int:
    model = _load(args, args.spec)
    try:
        import torch  # noqa: F401  (lazily: only this command needs it)
    except ImportError:
        print("archc: error: export needs PyTorch: pip install 'archc[torch]'", file=sys.stderr)
        return EXIT_INVALID
    from archc.lower.export import export_onnx
    sizes = export_onnx(model, args.onnx, dict(args.input_size or []), args.opset)
    shown = f" (example inputs with {', '.join(f'{k}={v}' for k, v in sizes.items())})" if sizes else ""
    print(f"wrote {args.onnx}{shown}")
    return EXIT_OK


def _parse_size(text: str) -> tuple[str, int]:
    name, _, value = text.partition("=")
    if not name.strip() or not value.strip().isdigit() or int(value) < 1:
        raise argparse.ArgumentTypeError(f"expected SYMBOL=SIZE such as H=224, got {text!r}")
    return name.strip(), int(value)


def cmd_fmt(args: argparse.Namespace) -> int:
    from archc.frontend import parse_file, to_dsl, to_yaml
    spec = parse_file(args.spec)
    target = args.to or ("yaml" if Path(args.spec).suffix in (".yaml", ".yml") else "arch")
    text = to_yaml(spec) if target == "yaml" else to_dsl(spec)
    _emit(text, args.output)
    return EXIT_OK


def cmd_schema(args: argparse.Namespace) -> int:
    import json
    from archc.schema import yaml_json_schema
    _emit(json.dumps(yaml_json_schema(), indent=2) + "\n", args.output)
    return EXIT_OK


def cmd_docs(args: argparse.Namespace) -> int:
    from archc.backends.docs import render_reference
    _emit(render_reference(), args.output)
    return EXIT_OK


def cmd_ops(args: argparse.Namespace) -> int:
    from archc.ops import REGISTRY
    for op in REGISTRY.ops:
        attrs = ", ".join(a.name if a.required else f"{a.name}={a.default!r}" for a in op.attrs)
        print(f"{op.name}({attrs})  [{op.family}]  {op.doc.splitlines()[0] if op.doc else ''}")
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="archc", description="Declarative architecture compiler for CNNs.")
    parser.add_argument("--version", action="version", version=_version())
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, fn: Callable, help: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help, description=help)
        p.set_defaults(func=fn)
        return p

    def defines(p: argparse.ArgumentParser) -> None:
        p.add_argument("-D", "--define", metavar="NAME=VALUE", type=_parse_define, action="append",
                       help="set a model parameter, e.g. -D num_classes=10 (repeatable)")

    p = command("check", cmd_check, "Validate specs: exit 0 if valid, 1 if not.")
    p.add_argument("specs", nargs="+", metavar="SPEC")
    defines(p)

    p = command("summary", cmd_summary, "Print a layer table with shapes, parameters and MACs.")
    p.add_argument("spec", metavar="SPEC")
    p.add_argument("--format", choices=("text", "json", "markdown"), default="text")
    p.add_argument("--depth", type=int, default=None, help="collapse blocks nested deeper than this")
    p.add_argument("--by-op", action="store_true",
                   help="add parameters and MACs per op type, with the conv + linear subtotal that "
                        "torchvision's GFLOPS, fvcore and papers quote (JSON always has it)")
    p.add_argument("-o", "--output", help="write to this file instead of stdout")
    defines(p)

    p = command("draw", cmd_draw, "Draw the network with Graphviz: .dot (needs nothing), .svg, .png or .pdf "
                                  "(need Graphviz's dot program).")
    p.add_argument("spec", metavar="SPEC")
    p.add_argument("-o", "--output", metavar="FILE",
                   help="output file; its suffix (.dot .svg .png .pdf) picks the format (default: DOT on stdout)")
    p.add_argument("--format", choices=("dot", "svg", "png", "pdf"), help="output format (default: from FILE)")
    p.add_argument("--depth", type=int, default=None,
                   help="draw blocks nested at this depth or deeper as one node each (0: top-level blocks; "
                        "as in summary --depth)")
    p.add_argument("--rankdir", choices=("TB", "LR"), default="TB",
                   help="reading direction: top to bottom (default) or left to right")
    defines(p)

    p = command("compile", cmd_compile, "Write the model as one standalone PyTorch file (imports torch only).")
    p.add_argument("spec", metavar="SPEC")
    p.add_argument("-o", "--output", metavar="FILE", help="write to this file instead of stdout")
    defines(p)

    p = command("export", cmd_export, "Export the model through torch's exporter (needs PyTorch).")
    p.add_argument("spec", metavar="SPEC")
    p.add_argument("--onnx", metavar="FILE", required=True, help="write ONNX to this file")
    p.add_argument("--input-size", metavar="SYMBOL=SIZE", type=_parse_size, action="append",
                   help="example size of a symbolic input size, e.g. --input-size H=256 (repeatable; "
                        "default: batch 1, others the smallest allowed size from 224 or 16)")
    p.add_argument("--opset", type=int, default=None, help="ONNX opset version (default: torch's)")
    defines(p)

    p = command("fmt", cmd_fmt, "Print a spec in canonical form, in either language.")
    p.add_argument("spec", metavar="SPEC")
    p.add_argument("--to", choices=("yaml", "arch"), help="target language (default: the spec's own)")
    p.add_argument("-o", "--output")

    p = command("schema", cmd_schema, "Print the JSON Schema of the YAML spec form (for editors).")
    p.add_argument("-o", "--output")

    command("ops", cmd_ops, "List the operations with their attributes.")

    p = command("docs", cmd_docs, "Print the op reference (Markdown), generated from the op definitions.")
    p.add_argument("-o", "--output")
    return parser


def _version() -> str:
    from archc import __version__
    return f"archc {__version__}"


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    from archc.errors import SpecError, SpecErrors
    try:
        return args.func(args)
    except SpecErrors as e:
        print(e.render(), file=sys.stderr)
        return EXIT_INVALID
    except SpecError as e:
        print(e.render(), file=sys.stderr)
        return EXIT_INVALID
    except BrokenPipeError:  # `archc ... | head`: the reader left; not an error of ours
        sys.stdout = open(os.devnull, "w")
        return EXIT_OK
    except OSError as e:
        print(f"archc: error: {e.strerror or e}: {e.filename or ''}".rstrip(": "), file=sys.stderr)
        return EXIT_INVALID
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
