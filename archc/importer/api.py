"""`archc.from_torch`: a PyTorch module -> the text of an archc spec.

capture (trace.py: one forward pass, one fx graph per module) -> statements (emit.py, through the
op table table.py) -> block definitions (blocks.py) -> an `ast.Spec` printed by archc's own
formatter (so the text is `archc fmt`'s canonical form). The spec is then checked by archc itself:
it must load, and its predicted state_dict must be the module's, key for key and shape for shape;
where it loads with symbolic sizes ([N, 3, H, W]) and gives the module's outputs at a second size,
the input is written so and the constraints archc derives are printed with it.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from archc import ast as A
from archc.importer import blocks as B
from archc.importer import table as T
from archc.importer.emit import REF, Body, Emitter, reserved_words, value_expr
from archc.importer.trace import Capture, ImportFailure, Site, run_model, tensors_only, trace

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


@dataclass
class Imported:
    spec: A.Spec
    text: str
    constraints: list[str] = field(default_factory=list)
    symbolic: bool = False
    notes: list[str] = field(default_factory=list)


def from_torch(module: Any, example_inputs: Any, *, name: str | None = None, lang: str = "arch") -> str:
    """The text of an archc spec (`lang` "arch" or "yaml") describing `module`: blocks for its
    module classes, PyTorch's module names (so its state_dict loads with strict=True), and its
    input written with symbolic sizes where archc and a second trace agree it accepts others.
    Raises archc.SpecError (a located diagnostic) for what cannot be imported."""
    if lang not in ("arch", "yaml"):
        from archc.errors import SpecError
        raise SpecError(f"unknown spec language {lang!r}", None, 'use "arch" or "yaml"', code="E-API-LANGUAGE")
    try:
        return import_module(module, example_inputs, name=name, lang=lang).text
    except ImportFailure as failure:
        raise as_spec_error(failure) from None


def as_spec_error(failure: ImportFailure) -> Any:
    from archc.errors import SpecError, register_source
    site = failure.site
    loc = None
    if site.file and site.line:
        try:
            with open(site.file, encoding="utf-8") as f:
                register_source(site.file, f.read())
        except OSError:
            pass
        from archc.errors import source_line
        line = source_line(site.file, site.line) or ""
        start = len(line) - len(line.lstrip()) + 1  # the statement underlined, not its indentation
        loc = A.Loc(file=site.file, line=site.line, col=start, end_col=max(start, len(line.rstrip()) + 1))
    notes = [f"in {site.describe()}"] if site.module else []
    return SpecError(failure.message, loc, failure.hint, notes=notes, code=failure.code)


def _inputs(example_inputs: Any) -> list:
    import torch
    if isinstance(example_inputs, torch.Tensor):
        return [example_inputs]
    items = list(example_inputs)
    if not items or not all(isinstance(t, torch.Tensor) for t in items):
        raise ImportFailure("example_inputs must be a tensor or a list of tensors", Site(""), code="E-TORCH-INPUT")
    return items


def import_module(module: Any, example_inputs: Any, *, name: str | None = None, lang: str = "arch",
                  input_names: list[str] | None = None, check: bool = True) -> Imported:
    import torch
    if not isinstance(module, torch.nn.Module):
        raise ImportFailure(f"from_torch takes a torch.nn.Module, not {type(module).__name__}", Site(""),
                            code="E-TORCH-INPUT")
    inputs = _inputs(example_inputs)
    capture = _run_model(module, inputs)
    if _uncalled(capture):  # perhaps auxiliary classifiers, run by the model's forward in training
        try:
            in_training = _run_model(module, inputs, training_root=True)
        except ImportFailure:  # the auxiliary heads need a larger input: said by E-TORCH-UNCALLED
            in_training = capture
        if not _uncalled(in_training):
            capture = in_training
            capture.eval_output = _eval_output_name(module)
    _check_called(capture)
    list_blocks = {p: dim for p, call in capture.calls.items() if p and not tensors_only(call)
                   for dim in [_concatenated_list(capture, p)] if dim is not None}
    through = {p for p, call in capture.calls.items() if p and not tensors_only(call) and p not in list_blocks}
    capture.list_blocks = list_blocks
    model_name = name or _identifier(type(module).__name__, "Model")
    last_error = None
    for merge in (True, False):
        spec = Importer(capture, through, merge).spec(model_name, input_names)
        result = _finish(spec, capture, lang, check)
        if isinstance(result, Imported):
            return result
        last_error = result
    raise ImportFailure(f"archc cannot express the imported model: {last_error}", Site(""), code="E-TORCH-INEXPRESSIBLE")


# what PyTorch's CPU and CUDA allocators and Python say when memory runs out
_OUT_OF_MEMORY = re.compile(r"can't allocate memory|CUDA out of memory|OutOfMemoryError|MemoryError")


def _run_model(module: Any, inputs: list, **options: Any) -> Capture:
    """run_model, an allocation failure told as what it is (E-TORCH-INPUT-SIZE: smaller inputs),
    not as inputs of the wrong shape (E-TORCH-RUN); the module and line where it ran out kept."""
    try:
        return run_model(module, inputs, **options)
    except ImportFailure as failure:
        if failure.code != "E-TORCH-RUN" or not _OUT_OF_MEMORY.search(failure.message):
            raise
        raise ImportFailure(failure.message.replace("does not run on", "ran out of memory on", 1), failure.site,
                            code="E-TORCH-INPUT-SIZE", hint="give smaller example inputs: an import traces one "
                            "forward pass, and a batch of 1 at the model's usual size is enough "
                            "(e.g. --input x=1,3,224,224)") from None


def _concatenated_list(capture: Capture, path: str) -> int | None:
    """The axis, when the module at `path` takes one list of tensors and its forward starts by
    concatenating it (DenseNet's layers): it is then a block whose input is that concatenation,
    made by its caller. None otherwise (it is traced through)."""
    import torch
    args, kwargs = capture.calls[path]
    if kwargs or len(args) != 1 or not isinstance(args[0], (list, tuple)) or \
            not all(isinstance(t, torch.Tensor) for t in args[0]) or T.module_entry(capture.modules[path]):
        return None
    try:
        traced = trace(capture, path, set())
    except ImportFailure:
        return None
    (placeholder,) = [n for n in traced.graph.nodes if n.op == "placeholder"] or [None]
    if placeholder is None or len(placeholder.users) != 1:
        return None
    (user,) = placeholder.users
    if user.op != "call_function" or getattr(user.target, "__name__", "") not in ("cat", "concat") \
            or user.args[0] is not placeholder:
        return None
    dim = user.args[1] if len(user.args) > 1 else user.kwargs.get("dim", 0)
    return dim if isinstance(dim, int) else None


def _uncalled(capture: Capture) -> list[str]:
    state = capture.root.state_dict()
    owners = sorted({key.rsplit(".", 1)[0] if "." in key else "" for key in state})
    return [owner for owner in owners if owner and capture.counts.get(owner, 0) == 0]


def _eval_output_name(module: Any) -> str | None:
    """The fx name of what the model's forward returns in eval mode (its inference output)."""
    import torch.fx as fx

    class Tracer(fx.Tracer):
        def is_leaf_module(self, m: Any, qualname: str) -> bool:
            return True
    try:
        graph = Tracer().trace(module)
    except Exception:
        return None
    (output,) = [n for n in graph.nodes if n.op == "output"]
    value = output.args[0]
    return value.name if hasattr(value, "name") else None


def _check_called(capture: Capture) -> None:
    """Every module holding weights must run in eval mode, or in the model's forward in training
    (auxiliary classifiers: training outputs): a module that never runs has weights a spec of
    the graph would lack."""
    for owner in _uncalled(capture):
        if owner:
            raise ImportFailure(
                f"the module '{owner}' ({type(capture.modules[owner]).__name__}) holds weights but never runs "
                "in eval mode on the example inputs", Site(owner), code="E-TORCH-UNCALLED",
                hint="archc imports the graph that runs in eval mode, and auxiliary outputs the model's "
                "forward computes in training (at the example size: give one they accept); a module "
                "that runs in neither cannot be placed in it")


def _identifier(text: str, fallback: str) -> str:
    text = re.sub(r"\W", "_", text).lstrip("_")
    if not text or not _IDENT.match(text):
        return fallback
    return text[0].upper() + text[1:]


class Importer:
    """The traversal: traces each module that becomes a block, then defines the blocks from the
    deepest up."""

    def __init__(self, capture: Capture, through: set[str], merge: bool):
        self.capture = capture
        self.through = through
        self.merge_variants = merge
        state = capture.root.state_dict()
        self.holders: set[str] = set()
        for key in state:
            parts = key.split(".")
            for k in range(len(parts)):
                self.holders.add(".".join(parts[:k]))
        self.bodies: dict[str, Body] = {}
        self.children: dict[str, set[str]] = {}
        self.resolved: dict[str, B.Resolved] = {}
        self.params: dict[str, B.BlockParams] = {}
        self.defs: list[A.BlockDef] = []
        self.block_names: set[str] = set()
        from archc.ops import REGISTRY
        self.defaults: dict = {op.name: {a.name: a.default for a in op.attrs if not a.required}
                               for op in REGISTRY.ops}

    def stateful(self, path: str) -> bool:
        return path in self.holders

    def kind_of(self, path: str) -> str:
        import torch
        module = self.capture.modules[path]
        if T.module_entry(module) is not None:
            return "op"
        if type(module) is torch.nn.Sequential:
            return "sequential"
        return "block"

    def visit(self, path: str) -> None:
        traced = trace(self.capture, path, self.through)
        body = Emitter(traced, self.capture, self.stateful, self.kind_of).run()
        self.bodies[path] = body
        refs = {n.func[len(REF):] for part in [*body.statements, *body.returns] for n in A.walk(part)
                if isinstance(n, A.Call) and n.func.startswith(REF)}
        self.children[path] = refs
        for child in sorted(refs):
            if child not in self.bodies:
                if child not in self.capture.calls:
                    raise ImportFailure(f"the module '{child}' never runs", Site(child), code="E-TORCH-UNCALLED")
                self.visit(child)

    def spec(self, model_name: str, input_names: list[str] | None) -> A.Spec:
        self.visit("")
        pending: dict[str, list[str]] = {}
        for path in self.bodies:
            if path:
                module = self.capture.modules[path]
                key = f"{type(module).__module__}.{type(module).__qualname__}"
                pending.setdefault(key, []).append(path)
        while pending:
            progress = False
            for key, paths in list(pending.items()):
                if all(self.children[p] <= self.resolved.keys() for p in paths):
                    self.define(paths)
                    del pending[key]
                    progress = True
            if progress:
                continue
            for key, paths in list(pending.items()):  # a class nested in itself: the ready ones
                ready = [p for p in paths if self.children[p] <= self.resolved.keys()]
                if ready:
                    self.define(ready)
                    pending[key] = [p for p in paths if p not in ready]
                    break
        return self.model(model_name, input_names)

    def resolve(self, body: Body) -> Body:
        fix = lambda node: B.resolve_refs(node, self.resolved, self.params)  # noqa: E731
        return Body(body.path, body.inputs, [A.replace(s, value=fix(s.value)) for s in body.statements],
                    [fix(r) for r in body.returns], body.output_names, body.tuple_names, body.training)

    def define(self, paths: list[str]) -> None:
        bodies = [self.resolve(self.bodies[p]) for p in paths]
        frames: dict[Any, list[int]] = {}
        for k, body in enumerate(bodies):
            frame = (tuple(body.inputs), tuple(tuple(s.targets) for s in body.statements), len(body.returns))
            frames.setdefault(frame, []).append(k)
        base = _identifier(type(self.capture.modules[paths[0]]).__name__, "Block")
        for members in frames.values():
            if self.merge_variants:
                try:
                    self.block([paths[k] for k in members], [bodies[k] for k in members], base)
                    continue
                except B.CannotMerge:
                    pass
                groups: list[list[int]] = []  # each instance joins the first group it merges with
                for k in members:
                    for group in groups:
                        if self.mergeable([bodies[j] for j in [*group, k]]):
                            group.append(k)
                            break
                    else:
                        groups.append([k])
            else:
                by_skeleton: dict[str, list[int]] = {}
                for k in members:
                    key = B.skeleton([*bodies[k].statements, *bodies[k].returns])
                    by_skeleton.setdefault(key, []).append(k)
                groups = list(by_skeleton.values())
            for group in groups:
                self.block([paths[k] for k in group], [bodies[k] for k in group], base)

    def mergeable(self, bodies: list[Body]) -> bool:
        merger = B.Merger(len(bodies), set(), self.defaults)
        merger.blocks = self.params
        members = list(range(len(bodies)))
        try:
            for k in range(len(bodies[0].statements)):
                merger.merge([b.statements[k].value for b in bodies], members)
            for k in range(len(bodies[0].returns)):
                merger.merge([b.returns[k] for b in bodies], members)
        except B.CannotMerge:
            return False
        return True

    def block_name(self, base: str) -> str:
        reserved = reserved_words()
        name, k = base, 2
        while name in self.block_names or name in reserved:
            name, k = f"{base}{k}", k + 1
        self.block_names.add(name)
        return name

    def block(self, paths: list[str], bodies: list[Body], base: str) -> None:
        first = bodies[0]
        avoid = set(first.inputs) | {t for s in first.statements for t in s.targets} | reserved_words()
        merger = B.Merger(len(bodies), avoid, self.defaults)
        merger.blocks = self.params
        members = list(range(len(bodies)))
        statements = [A.Assign(targets=s.targets, value=merger.merge([b.statements[k].value for b in bodies], members))
                      for k, s in enumerate(first.statements)]
        returns = [merger.merge([b.returns[k] for b in bodies], members) for k in range(len(first.returns))]
        name = self.block_name(base)
        required = [p for p in merger.params if p.default() is None]
        optional = [p for p in merger.params if p.default() is not None]
        params = B.BlockParams(order=[p.name for p in required + optional], required=[p.name for p in required],
                               defaults={p.name: _unhash(p.default()) for p in optional})
        read = {n.id for part in [*statements, *returns] for n in A.walk(part) if isinstance(n, A.Name)}
        unread = {k for k, i in enumerate(first.inputs) if i not in read}
        if unread and len(unread) < len(first.inputs):  # an argument forward ignores (DLA's shortcut)
            params.unread = unread
        inputs = [i for k, i in enumerate(first.inputs) if k not in params.unread]
        self.params[name] = params
        self.defaults[name] = params.defaults
        for k, path in enumerate(paths):
            args = {}
            for p in merger.params:
                value = p.values[k]
                if value is None:
                    value = params.defaults.get(p.name, next(v for v in p.values if v is not None))
                args[p.name] = value
            self.resolved[path] = B.Resolved(name, args)
        scope = avoid | set(params.order)
        statements = [A.replace(s, value=_quote_names(s.value, scope)) for s in statements]
        returns = [_quote_names(r, scope) for r in returns]
        self.defs.append(A.BlockDef(
            name=name, params=[A.Param(name=p.name) for p in required] +
            [A.Param(name=p.name, default=value_expr(params.defaults[p.name])) for p in optional],
            inputs=inputs, body=statements, returns=returns))

    def model(self, model_name: str, input_names: list[str] | None) -> A.Spec:
        root = self.resolve(self.bodies[""])
        inputs = root.inputs
        if input_names:
            inputs = list(input_names)
            renames = dict(zip(root.inputs, inputs))
            root = _renamed(root, renames)
        specs = []
        for n, tensor in zip(inputs, self.capture.inputs):
            specs.append(A.Input(name=n, shape=[value_expr(int(d)) for d in tensor.shape]))
        taken = set(inputs) | {t for s in root.statements for t in s.targets}
        if root.output_names is not None:
            names = root.output_names
        elif root.tuple_names is not None:
            names = root.tuple_names
        elif len(root.returns) == 1:
            names = ["y"]
        else:
            names = [f"y{k}" for k in range(len(root.returns))]
        names = [n if n not in taken else n + "_" for n in names]
        scope = taken | set(names)
        outputs = [A.Output(name=n, value=_quote_names(v, scope), training=k in root.training)
                   for k, (n, v) in enumerate(zip(names, root.returns))]
        body = [A.replace(s, value=_quote_names(s.value, scope)) for s in root.statements]
        return A.Spec(name=model_name, returns="dict" if root.output_names is not None else None,
                      inputs=specs, blocks=self.defs, body=body, outputs=outputs)


def _unhash(v: Any) -> Any:
    return B._unhash(v)


def _renamed(body: Body, renames: dict) -> Body:
    def fn(n: Any) -> Any:
        if isinstance(n, A.Name) and n.id in renames:
            return A.Name(id=renames[n.id])
        return n
    return Body(body.path, [renames.get(i, i) for i in body.inputs],
                [A.replace(s, value=B.transform(s.value, fn)) for s in body.statements],
                [B.transform(r, fn) for r in body.returns], body.output_names, body.tuple_names, body.training)


def _quote_names(node: Any, scope: set[str]) -> Any:
    """`name=downsample` where `downsample` is also a value in scope: written as a string."""
    def fn(n: Any) -> Any:
        if isinstance(n, A.Keyword) and n.name == "name" and isinstance(n.value, A.Name) and n.value.id in scope:
            return A.replace(n, value=A.Str(value=n.value.id))
        return n
    return B.transform(node, fn)


# ----------------------------------------------------------------------------- checking


def _print(spec: A.Spec, lang: str) -> str:
    from archc.frontend.printer import to_dsl, to_yaml
    return to_yaml(spec) if lang == "yaml" else to_dsl(spec)


def _finish(spec: A.Spec, capture: Capture, lang: str, check: bool) -> Imported | str:
    """The spec checked by archc; with symbolic sizes where they hold. A string: why it failed."""
    from archc.model import loads
    from archc.errors import SpecError, SpecErrors
    text = _print(spec, "arch")
    try:
        model = loads(text)
    except (SpecError, SpecErrors) as e:
        return str(e).splitlines()[0]
    expected = {k: tuple(v.shape) for k, v in capture.root.state_dict().items()}
    predicted = model.state_dict_shapes()
    if predicted != expected:
        missing = [k for k in expected if k not in predicted][:3]
        extra = [k for k in predicted if k not in expected][:3]
        wrong = [k for k in expected if k in predicted and predicted[k] != expected[k]][:3]
        return f"state_dict differs: missing {missing}, unexpected {extra}, shapes {wrong}"
    result = Imported(spec, _print(spec, lang))
    symbolic = _symbolic(spec)
    if symbolic is None:
        return result
    try:
        sym_model = loads(_print(symbolic, "arch"))
    except (SpecError, SpecErrors):
        return result
    constraints = sym_model.constraints
    if check and not _confirm(sym_model, symbolic, capture):
        return result
    commented = _with_constraints(symbolic, constraints)
    return Imported(commented, _print(commented, lang), constraints, True)


_SPATIAL = {3: ["L"], 4: ["H", "W"], 5: ["D", "H", "W"]}


def _symbolic(spec: A.Spec) -> A.Spec | None:
    """The inputs with symbolic batch and spatial sizes (inputs of one spatial size share
    symbols)."""
    shapes = [[int(d.value) for d in i.shape] for i in spec.inputs]
    if any(len(s) not in (2, 3, 4, 5) for s in shapes):
        return None
    sizes: dict[tuple, list[str]] = {}
    inputs = []
    for k, (inp, shape) in enumerate(zip(spec.inputs, shapes)):
        rank = len(shape)
        if rank == 2:
            dims = [A.Name(id="N"), A.Num(value=shape[1])]
        else:
            spatial = tuple(shape[2:])
            if spatial not in sizes:
                suffix = "" if not sizes else str(len(sizes) + 1)
                sizes[spatial] = [s + suffix for s in _SPATIAL[rank]]
            dims = [A.Name(id="N"), A.Num(value=shape[1])] + [A.Name(id=s) for s in sizes[spatial]]
        inputs.append(A.replace(inp, shape=dims))
    return A.replace(spec, inputs=inputs)


def _confirm(model: Any, spec: A.Spec, capture: Capture) -> bool:
    """The second trace: the module and archc's build agree at another batch and spatial size."""
    import torch
    assumptions = model.graph.inference_assumptions or model.graph.assumptions
    try:
        args = []
        for inp, tensor in zip(spec.inputs, capture.inputs):
            shape = [2]
            for d, size in zip(inp.shape[1:], tensor.shape[1:]):
                shape.append(assumptions.example(d.id, int(size) + 1) if isinstance(d, A.Name) else int(size))
            args.append(torch.randn(*shape, generator=torch.Generator().manual_seed(7)).to(tensor.dtype))
        built = model.to_torch()
        built.load_state_dict(capture.root.state_dict(), strict=True)
        built.eval()
        with torch.no_grad():
            theirs = capture.root(*args)
            ours = built(*args)
    except Exception:
        return False
    return outputs_equal(theirs, ours, tolerance=1e-5)


def flat_outputs(value: Any) -> list:
    if isinstance(value, dict):
        return list(value.values())
    if isinstance(value, (list, tuple)):
        return list(value)
    return [value]


def outputs_equal(theirs: Any, ours: Any, tolerance: float = 0.0) -> bool:
    a, b = flat_outputs(theirs), flat_outputs(ours)
    if len(a) != len(b):
        return False
    for x, y in zip(a, b):
        if x.shape != y.shape:
            return False
        if tolerance == 0.0 and not bool((x == y).all()):
            return False
        if tolerance and float((x - y).abs().max()) > tolerance * max(1.0, float(x.abs().max())):
            return False
    return True


def _with_constraints(spec: A.Spec, constraints: list[str]) -> A.Spec:
    symbols = list(dict.fromkeys(d.id for i in spec.inputs for d in i.shape if isinstance(d, A.Name)))
    line = f"# any {', '.join(symbols)}" + (f" with {', '.join(constraints)}" if constraints else "") + \
        " (archc's analysis, confirmed by a second trace)"
    first = A.replace(spec.inputs[0], comments=A.Comments(before=[line]))
    return A.replace(spec, inputs=[first, *spec.inputs[1:]])
