"""`archc import PACKAGE.MODULE:FACTORY --input x=1,3,224,224 [-o FILE]`: the CLI command.

The factory is a callable in an importable module (`torchvision.models:resnet50`) or in a Python
file (`net.py:make`), called with `--kwargs` (a JSON object); the inputs are random tensors of
the given sizes, named as given. The spec goes to FILE (written atomically: nothing is written
when the import fails) or to standard output; the constraints archc derived for symbolic input
sizes are printed on standard error. Failures are archc diagnostics (archc/codes/importer.py).
"""
from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import re
import sys
from pathlib import Path
from typing import Any

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
# Elements of the example inputs together (1 GiB of float32): far above what an import needs (a
# batch of 1 at the model's usual size), and below where the random inputs alone would exhaust a
# machine's memory (--input x=1,3,100000,100000 asked for 120 GB before the model ran).
MAX_INPUT_ELEMENTS = 2 ** 28


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("factory", metavar="PACKAGE.MODULE:FACTORY",
                   help="a callable returning the torch.nn.Module, in a module (torchvision.models:resnet50) "
                        "or a Python file (net.py:make)")
    p.add_argument("--kwargs", metavar="JSON", default=None,
                   help='keyword arguments of the factory, a JSON object: --kwargs \'{"num_classes": 10}\'')
    p.add_argument("--input", metavar="NAME=SIZES", action="append", required=True,
                   help="an example input, e.g. --input x=1,3,224,224 (repeatable, in forward's order)")
    p.add_argument("-o", "--output", metavar="FILE", help="write the spec to this file instead of stdout")
    p.add_argument("--lang", choices=("arch", "yaml"), default=None,
                   help="the spec's language (default: from FILE's suffix, else arch)")
    p.add_argument("--name", metavar="MODEL", help="the model's name (default: the module's class)")


def _error(message: str, hint: str, code: str) -> Any:
    from archc.errors import SpecError
    return SpecError(message, None, hint, code=code)


def parse_inputs(values: list[str]) -> list[tuple[str, list[int]]]:
    out = []
    for value in values:
        name, _, sizes = value.partition("=")
        name = name.strip()
        try:
            shape = [int(s) for s in sizes.split(",")]
        except ValueError:
            shape = []
        if not _NAME.match(name) or not shape or any(s < 1 for s in shape):
            raise _error(f"--input {value!r} is not NAME=SIZES", "e.g. --input x=1,3,224,224: a name, then "
                         "positive sizes separated by commas", code="E-TORCH-ARGUMENT")
        if any(name == known for known, _ in out):
            raise _error(f"--input {name} is given twice", "give each input of the forward once, in its order: "
                         "--input x=1,3,224,224 --input y=1,10", code="E-TORCH-ARGUMENT")
        out.append((name, shape))
    elements = sum(_numel(shape) for _, shape in out)
    if elements > MAX_INPUT_ELEMENTS:
        from archc.analysis.metrics import _big
        raise _error(f"the example inputs have {_big(elements)} elements, past the limit of {MAX_INPUT_ELEMENTS:,} "
                     f"({MAX_INPUT_ELEMENTS * 4 // 2 ** 30} GiB of float32)", INPUT_SIZE_HINT, code="E-TORCH-INPUT-SIZE")
    return out


INPUT_SIZE_HINT = ("an import traces one forward pass: a batch of 1 at the model's usual size is enough "
                   "(e.g. --input x=1,3,224,224); sizes that other inputs may take are derived by archc")


def _numel(shape: list[int]) -> int:
    n = 1
    for s in shape:
        n *= s
    return n


def parse_kwargs(text: str | None) -> dict:
    if text is None:
        return {}
    try:
        value = json.loads(text)
    except json.JSONDecodeError as e:
        raise _error(f"--kwargs is not JSON: {e}", '--kwargs takes a JSON object: \'{"num_classes": 10}\'',
                     code="E-TORCH-ARGUMENT") from None
    if not isinstance(value, dict):
        raise _error("--kwargs must be a JSON object", '--kwargs takes a JSON object: \'{"num_classes": 10}\'',
                     code="E-TORCH-ARGUMENT")
    return value


def load_factory(spec: str) -> Any:
    where, _, attribute = spec.rpartition(":")
    if not where or not attribute:
        raise _error(f"{spec!r} does not name a factory", "write PACKAGE.MODULE:FACTORY "
                     "(torchvision.models:resnet50) or FILE.py:FACTORY", code="E-TORCH-FACTORY")
    try:
        if where.endswith(".py"):
            path = Path(where)
            if not path.is_file():
                raise _error(f"no Python file {where}", "give the path of the file that defines the factory",
                             code="E-TORCH-FACTORY")
            loader = importlib.util.spec_from_file_location(f"archc_import_{path.stem}", path)
            module = importlib.util.module_from_spec(loader)
            sys.modules[loader.name] = module
            loader.loader.exec_module(module)
        else:
            if "" not in sys.path and str(Path.cwd()) not in sys.path:
                sys.path.insert(0, str(Path.cwd()))  # as `python -m` does: the working folder's modules
            module = importlib.import_module(where)
    except Exception as e:
        if hasattr(e, "code") and str(getattr(e, "code", "")).startswith("E-"):
            raise
        raise _error(f"cannot import {where}: {type(e).__name__}: {e}",
                     "check the module's name and that it imports in this Python", code="E-TORCH-FACTORY") from None
    factory = getattr(module, attribute, None)
    if not callable(factory):
        raise _error(f"{where} has no callable {attribute!r}", f"name a function or class defined in {where}",
                     code="E-TORCH-FACTORY")
    return factory


def run(args: argparse.Namespace) -> int:
    from archc.files import write_atomic
    from archc.importer.api import as_spec_error, import_module
    from archc.importer.trace import ImportFailure, Site, exception_frame
    inputs = parse_inputs(args.input)
    kwargs = parse_kwargs(args.kwargs)
    factory = load_factory(args.factory)
    lang = args.lang or ("yaml" if args.output and args.output.endswith((".yaml", ".yml")) else "arch")
    import torch
    try:
        try:
            module = factory(**kwargs)
        except Exception as e:
            file, line, code = exception_frame(e)
            raise ImportFailure(f"{args.factory}(**{kwargs}) raised {type(e).__name__}: {e}",
                                Site("", file, line, code), code="E-TORCH-FACTORY",
                                hint="check --kwargs against the factory's parameters") from None
        if not isinstance(module, torch.nn.Module):
            raise ImportFailure(f"{args.factory} returned a {type(module).__name__}, not a torch.nn.Module",
                                Site(""), code="E-TORCH-FACTORY", hint="name a factory that builds the model")
        generator = torch.Generator().manual_seed(0)
        try:
            tensors = [torch.randn(*shape, generator=generator) for _, shape in inputs]
        except (RuntimeError, MemoryError) as e:  # under the limit, but this machine has less free memory
            raise ImportFailure(f"the example inputs cannot be allocated: {type(e).__name__}: {e}", Site(""),
                                code="E-TORCH-INPUT-SIZE", hint=INPUT_SIZE_HINT) from None
        imported = import_module(module, tensors, name=args.name, lang=lang,
                                 input_names=[n for n, _ in inputs])
    except ImportFailure as failure:
        raise as_spec_error(failure) from None
    if args.output:
        write_atomic(args.output, imported.text)
    else:
        sys.stdout.write(imported.text)
    # what was made, on stderr (stdout may be the spec): the inputs, and what their sizes must satisfy
    shapes = "; ".join(f"{i.name}: [{', '.join(str(getattr(d, 'id', getattr(d, 'value', d))) for d in i.shape)}]"
                       for i in imported.spec.inputs)
    said = ("inputs must satisfy " + ", ".join(imported.constraints) if imported.constraints
            else "any sizes" if imported.symbolic else "the traced sizes only")
    where = f" to {args.output}" if args.output else ""
    print(f"archc: imported {args.factory}{where}: {shapes} ({said})", file=sys.stderr)
    return 0
