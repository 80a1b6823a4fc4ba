"""Patterns: block instances alike in structure but not in their numbers.

Exact reuse (archc.ir.instances) replays an instance whose parameters and input sizes equal an
earlier one's. MobileNet's inverted residuals, EfficientNet's MBConvs (each with its own
stochastic-depth rate) and RegNet's first block of a stage differ in their numbers, not in their
structure: each would be evaluated. A pattern is such an instance's evaluation recorded once with
its numbers as variables, and instantiated for the next instance with that one's numbers.

Recording evaluates the instance as usual, with every number of its parameters and every size of
its inputs (and of the layers it makes, when the body reads them: `y.channels`) replaced by a
`Num`: an int or float that behaves exactly as the plain value and carries a function computing it
from an instance's numbers (`round(x.channels * expand_ratio)`). What the body decides from a
number (a comparison, a truth test, a list index, a repeat count, a name) is logged as a guard, the
function and the outcome; anything else that turns a Num into a plain value (str(), hash(), ...)
logs a guard that the number itself is the same. A layer's attribute values are recorded as they
are given to the op, and the op binds and shapes plain values, so the graph holds no Num.

Instantiating a pattern walks its log in order: each guard must give the recorded outcome, each
layer's attributes are computed, bound and shaped by its op's own rules (an op that refuses them
or would warn sends the instance to evaluation, which reports it). Only when every step succeeds
is anything added to the graph, as a template's replay adds it. So an instance that a pattern
serves has exactly the layers its evaluation would give; otherwise it is evaluated (and recorded,
up to MAX_PATTERNS structures of one kind: MobileNetV2's inverted residuals have three).

A nested block instance inside a recording is served by a pattern of its own kind where one
serves it: the recording notes the pattern, the nested instance's numbers as functions of the
recorded ones and where its inputs come from (a `Nested` step computes its layers, with that
pattern's guards and steps, for each later instance). Otherwise it is evaluated inside the
recording. A recording is dropped (`broken`) where it meets what it cannot express: a nested
instance that only exact reuse serves (its layers would not be functions of the recorded numbers;
it is then replayed, and the rest of the body is evaluated as usual), a chunk's pieces, a number
inside a layer given as an argument.
"""
from __future__ import annotations

import dataclasses
from typing import Any, Callable

from archc import provenance as pv
from archc.ir import instances, lints
from archc.ir.numbers import (Fn, Log, Num, NumInt, Numbers, Refused, compiled, constant, in_layer, num,
                              recording, strip, variables)
from archc.ir.values import Tensor
from archc.ops.base import AttrError, Attrs, Op, ShapeError

MAX_PATTERNS = 4  # recorded structures of one kind (block, parameter types, input ranks)
# layers of an instance worth recording (an inverted residual has 8-12, a RegNet bottleneck 13-16);
# past that it is mostly a stage of blocks, each a kind with patterns of its own, whose block count
# rarely repeats (RegNet's depths 1, 3, 6, 6): its recording grew until dropped, composing its
# blocks from patterns instead of replaying them meanwhile. Elaboration opcodes of the zoo at 40:
# RegNet-Y-400MF 9% more, Inception-v3 4% more, no spec fewer; at 24, S3D 25% more
MAX_RECORDED_LAYERS = 30
STRUCTURE = "pattern"  # the first item of a pattern kind's key in the elaborator's templates


def _skeleton(value: Any) -> Any:
    """A parameter value with its numbers left out: what must be equal for one pattern to serve."""
    kind = type(value)
    if kind is int or kind is float:
        return kind
    if isinstance(value, Num):  # (a nested instance in a recording)
        return type(value.p)
    if kind is list:
        return (list, tuple(_skeleton(v) for v in value))
    return instances.frozen(value)


def kind_key(block: Any, values: dict[str, Any], inputs: list[Tensor]) -> tuple | None:
    """The key of the instances one pattern may serve: the block, its parameters but for their
    numbers, its inputs' ranks and batch sizes (the other sizes ints) and aliasing; None where
    that cannot be told."""
    shapes = []
    for t in inputs:
        if not all(type(d) is int for d in t.shape[1:]):
            return None
        shapes.append((len(t.shape), t.shape[0]))
    nodes = [t.node for t in inputs]
    try:
        params = tuple((name, _skeleton(v)) for name, v in values.items())
    except instances.NoKey:
        return None
    return (STRUCTURE, id(block), params, tuple(shapes), tuple(nodes.index(n) for n in nodes))


class Kind:
    """What the elaborator knows of a pattern kind: how often it was met, how many layers its first
    evaluated instance made, its patterns."""
    __slots__ = ("seen", "size", "patterns", "unrecordable")

    def __init__(self) -> None:
        self.seen = 0
        self.size: int | None = None
        self.patterns: list[Pattern] = []
        self.unrecordable = False  # a recording of it was dropped: its next ones likely would be too

    def state(self) -> tuple:
        """What an elaboration changes (archc.ir.resume undoes a failed one's changes)."""
        return self.seen, self.size, list(self.patterns), self.unrecordable

    def restore(self, state: tuple) -> None:
        self.seen, self.size, patterns, self.unrecordable = state
        self.patterns[:] = patterns

    def wants_recording(self) -> bool:
        """Record the next evaluated instance: the kind is met again (most blocks are used once),
        small, and none of its recordings was dropped. Nested instances are evaluated in a
        recording, where no pattern or template serves them: lost work for a stage whose blocks
        those would serve (RegNet's stages, of different depths, each grew past
        MAX_RECORDED_LAYERS and was dropped, after evaluating two blocks that patterns serve
        outside a recording)."""
        return (self.seen > 1 and self.size is not None and self.size <= MAX_RECORDED_LAYERS
                and len(self.patterns) < MAX_PATTERNS and not self.unrecordable)


class Recorder:
    """One instance's evaluation, recorded (`start`/`stop` around it)."""

    def __init__(self, path: tuple[str, ...], inputs: list[Tensor], first_node: int):
        self.prefix = ".".join(path) + "."
        self.first_node = first_node  # layers made before the instance (GraphBuilder.created)
        self.inputs = {}
        for k, t in reversed(list(enumerate(inputs))):
            self.inputs[t.node] = k
        self.log = Log()  # guards (fn, outcome) and layers (suffix, args, kwargs), in order
        self.scope_args: dict[tuple[str, ...], dict[str, Any]] = {}
        self.nested_scopes: dict[tuple[str, ...], Fn] = {}  # the scopes of nested patterns' instances
        self.path = path
        self.depth = len(path)
        self.broken = False  # met what a pattern cannot express
        self._outer: Log | None = None

    def start(self, env_values: dict[str, Any], names: list[str]) -> None:
        """The parameters' numbers become variables; decisions on them are logged here."""
        for name in names:
            env_values[name] = variables(strip(env_values[name]), lambda n, name=name: n.params[name])
        self._outer = recording(self.log)

    def stop(self) -> None:
        recording(self._outer)

    def _source(self, tensor: Tensor) -> int | str | None:
        """Where a tensor the body reads comes from: the instance's input of that index, or its
        layer of that suffix; None (the recording broken) for anything else, which a block cannot see."""
        node = tensor.node
        if node in self.inputs:
            return self.inputs[node]
        if node.startswith(self.prefix):
            return node[len(self.prefix):]
        self.broken = True
        return None

    def shape(self, tensor: Tensor) -> tuple:
        """A tensor's shape as the body reads it: its int sizes as variables."""
        source = self._source(tensor)
        if source is None:
            return tensor.shape
        if type(source) is int:
            return tuple(NumInt(d, lambda n, k=source, j=j: n.inputs[k][j]) if type(d) is int else d
                         for j, d in enumerate(tensor.shape))
        return tuple(NumInt(d, lambda n, s=source, j=j: n.layers[s][j]) if type(d) is int else d
                     for j, d in enumerate(tensor.shape))

    def layer(self, node_id: str, args: list[Any], kwargs: dict[str, Any]) -> None:
        if not node_id.startswith(self.prefix) or in_layer(args) or in_layer(kwargs):
            self.broken = True
            return
        self.log.events.append((node_id[len(self.prefix):], args, kwargs))

    def nested(self, path: tuple[str, ...], pattern: "Pattern", values: dict[str, Any], inputs: list[Tensor]) -> None:
        """A nested instance at `path` that `pattern` served, with parameter `values` (recorded
        numbers among them) on `inputs`: its layers are computed with that pattern's steps."""
        refs = tuple(self._source(t) for t in inputs)
        if None in refs or path[:self.depth] != self.path or in_layer(values):
            self.broken = True
            return
        relative = path[self.depth:]
        prefix = ".".join(relative) + "."
        for k, scope in enumerate(pattern.template.scopes):
            self.nested_scopes[relative + scope.path] = lambda n, prefix=prefix, k=k: n.nested[prefix][k]
        params = compiled(values) or (lambda n, v=values: v)
        suffixes = tuple(layer.suffix for layer in pattern.template.layers)
        self.log.events.append(Nested(prefix, pattern, params, refs, suffixes,
                                      tuple(prefix + suffix for suffix in suffixes)))

    @staticmethod
    def operands(left: Any, right: Any, symbolic: bool) -> tuple[Any, Any]:
        """A binary operator's operands as the recording needs them: plain next to a symbolic size
        (its terms are ints; decided on), and a plain float before an int Num made a Num too (the
        float's own operator would take the Num as a plain int, and the result would be constant)."""
        if symbolic:
            return pv.plain(left), pv.plain(right)
        if type(left) is float and type(right) is NumInt:
            return constant(left), right
        return left, right

    def scope(self, path: tuple[str, ...], args: dict[str, Any]) -> dict[str, Any]:
        """A nested scope's arguments: recorded, and given plain to the graph."""
        if in_layer(args):
            self.broken = True
        self.scope_args[path[self.depth:]] = args
        return strip(args)

    def builtin(self, function: Callable[..., Any], args: list[Any], kwargs: dict[str, Any]) -> Any:
        """A built-in function applied to recorded numbers: a number computed again from them; any
        other result (a list from range(), a string) decides on the numbers given."""
        plain_args, plain_kwargs = strip(args), strip(kwargs)
        result = function(*plain_args, **plain_kwargs)
        if type(result) is int or type(result) is float:
            given_args = compiled(args) or (lambda n: plain_args)
            given_kwargs = compiled(kwargs) or (lambda n: plain_kwargs)
            return num(result, lambda n: function(*given_args(n), **given_kwargs(n)))
        pv.decide([args, list(kwargs.values())])
        return result

    def pattern(self, template: instances.Template, params: dict[str, Any], inputs: list[Tensor]) -> "Pattern | None":
        """The pattern of the instance just recorded (its template made `usable`; its parameter
        values and inputs), or None."""
        if self.broken:
            return None
        numbers = Numbers(params, [t.shape for t in inputs], {})
        records = {t.suffix: t for t in template.layers}
        shapes = {t.suffix: t.shape for t in template.layers}
        guards: list[Guard] = []
        steps: list[Guard | Layer] = []
        for event in self.log.events:
            if type(event) is Nested:
                for layer in event.pattern.template.layers:  # (its layers are made by its steps)
                    if records.pop(event.prefix + layer.suffix, None) is None:
                        return None
                steps.append(event)
                continue
            if len(event) == 2:
                guard = Guard(*event)
                (guards if _reads_no_layer(guard.fn, numbers) else steps).append(guard)
                continue
            suffix, args, kwargs = event
            record = records.pop(suffix, None)
            if record is None:  # a layer pruned (a branch not taken), or made otherwise
                return None
            in_shapes = [numbers.inputs[i] if type(i) is int else shapes[i] for i in record.inputs]
            given_args, given_kwargs = compiled(args), compiled(kwargs)
            ndim = _ndim(record.op, in_shapes)
            constant = given_args is None and given_kwargs is None
            given = None if constant else record.op.rebinder(len(args), tuple(kwargs), ndim)
            rebind = None if given is None else tuple(
                (name, coerce, fn) for (name, coerce), fn in zip(given, map(compiled, (*args, *kwargs.values())))
                if fn is not None)
            steps.append(Layer(record, given_args or (lambda n, v=args: v), given_kwargs or (lambda n, v=kwargs: v),
                               constant, tuple(kwargs), ndim, type(record.op).diagnose is not Op.diagnose, rebind))
        if records:  # a layer made without an op call (a replayed template inside)
            return None
        scope_args = []
        for s in template.scopes:
            if s.path in self.nested_scopes:
                scope_args.append(self.nested_scopes[s.path])
                continue
            args = self.scope_args.get(s.path)
            if args is None and s.args:
                return None
            scope_args.append(compiled(args) or (lambda n, args=args or {}: args))
        # the guards on the parameters and inputs alone first: a pattern that does not serve fails fast
        return Pattern(template, guards + steps, scope_args)


def _ndim(op: Any, in_shapes: list[tuple]) -> int:
    """The spatial rank an op binds its attributes for, as the elaborator gives it."""
    return op.ndim or (max(0, len(in_shapes[0]) - 2) if in_shapes else 0)


def _reads_no_layer(fn: Fn, numbers: Numbers) -> bool:
    """Whether a guard is computed from the parameters and inputs alone (`numbers` has no layers)."""
    try:
        fn(numbers)
    except KeyError:
        return False
    return True


@dataclasses.dataclass(slots=True)
class Guard:
    fn: Fn
    outcome: Any


@dataclasses.dataclass(slots=True)
class Layer:
    """A layer of a pattern: its record (op, inputs, the recorded attributes), the functions giving
    its arguments, whether they are the same for every instance (then so are its attributes, at the
    recorded spatial rank), the keywords given."""
    record: Any
    args: Fn
    kwargs: Fn
    constant: bool
    keywords: tuple[str, ...]
    ndim: int
    diagnoses: bool  # its op may warn (Op.diagnose of its own)
    # at the recorded rank, where bind fills the rest from constant defaults: each attribute given a
    # recorded number, its coerce and the function giving the number (the others are as recorded)
    rebind: tuple[tuple[str, Any, Fn], ...] | None


@dataclasses.dataclass(slots=True)
class Nested:
    """A nested instance that a pattern of its own kind serves: its path below the recorded
    instance's (`prefix`, with a final dot), that pattern, its parameter values computed from the
    recorded instance's numbers, and its inputs (an input's index, or a layer's suffix)."""
    prefix: str
    pattern: "Pattern"
    params: Fn
    inputs: tuple[Any, ...]
    suffixes: tuple[str, ...]  # its layers', below its path
    below: tuple[str, ...]  # the same layers', below the recorded instance's path


class Pattern:
    """A recorded instance: its template (layers, scopes, results, names, relative to its path),
    the steps to compute each layer's attributes for other numbers, and the guards among them."""
    __slots__ = ("template", "steps", "scope_args")

    def __init__(self, template: instances.Template, steps: list[Guard | Layer], scope_args: list[Fn]):
        self.template, self.steps, self.scope_args = template, steps, scope_args

    def instantiate(self, params: dict[str, Any], inputs: list[Tensor], ctx: Any,
                    builder: Any) -> "Instantiated | None":
        """Every layer's attributes and shape for these numbers, or None where a guard gives another
        outcome or an op refuses or would warn (the instance is then evaluated). Builds nothing."""
        return self._run(Numbers(params, [t.shape for t in inputs], {}), ctx,
                         lambda k: lints.channels_first(builder, inputs[k].node))

    def _run(self, numbers: Numbers, ctx: Any, input_channels_first: Callable[[int], bool]) -> "Instantiated | None":
        """`instantiate` for `numbers`; `input_channels_first(k)`: whether input k is still in the
        channels-first layout (asked only by a lint)."""
        shapes = numbers.layers
        attrs: dict[str, Any] = {}
        records = {}

        def channels_first(ref: Any) -> bool:  # as archc.ir.lints.channels_first
            while type(ref) is not int:
                record = records[ref]  # (a nested instance's layer: KeyError, evaluated instead)
                if not record.inputs or record.op.changes_layout:
                    return False
                ref = record.inputs[0]
            return input_channels_first(ref)
        try:
            for step in self.steps:
                kind = type(step)
                if kind is Guard:
                    if step.fn(numbers) != step.outcome:
                        return None
                    continue
                if kind is Nested:
                    inner = Numbers(step.params(numbers), [numbers.inputs[i] if type(i) is int else shapes[i]
                                                           for i in step.inputs], {})
                    made = step.pattern._run(inner, ctx, _refused)
                    if made is None:
                        return None
                    shapes.update(zip(step.below, map(made.shapes.__getitem__, step.suffixes)))
                    attrs.update(zip(step.below, map(made.attrs.__getitem__, step.suffixes)))
                    numbers.nested[step.prefix] = made.scope_args
                    continue
                record = step.record
                op = record.op
                in_shapes = [numbers.inputs[i] if type(i) is int else shapes[i] for i in record.inputs]
                ndim = _ndim(op, in_shapes)
                if step.constant and ndim == step.ndim:
                    bound = record.attrs  # (bound once: nothing in them is a number of the instance's)
                elif step.rebind is not None and ndim == step.ndim:  # (as bind's fast path would)
                    bound = Attrs(record.attrs)
                    for name, coerce, fn in step.rebind:
                        bound[name] = coerce(fn(numbers), ndim)
                else:
                    bound = op.bind(step.args(numbers), step.kwargs(numbers), ndim)
                shape = op.output_shape(bound, in_shapes, ctx)
                # (a rank is no recorded number: what the body read of it, and the nested kinds'
                # keys, hold for the recorded rank only)
                if shape is None or len(shape) != len(record.shape) or step.diagnoses and op.diagnose(
                        bound, in_shapes, step.keywords, lambda r=record: channels_first(r.inputs[0])):
                    return None
                shapes[record.suffix] = shape
                records[record.suffix] = record
                attrs[record.suffix] = bound
            scope_args = [fn(numbers) for fn in self.scope_args]
        except (AttrError, ShapeError, ArithmeticError, TypeError, ValueError, IndexError, KeyError):
            return None  # (evaluation reports it, where it is written)
        return Instantiated(attrs, shapes, scope_args)


def _refused(k: int) -> bool:
    """A nested instance's input layout, asked by a lint: not told (Refused: evaluated instead)."""
    raise Refused()


@dataclasses.dataclass(slots=True)
class Instantiated:
    attrs: dict[str, Any]
    shapes: dict[str, tuple]
    scope_args: list[dict[str, Any]]
