"""Elaboration that resumes: a spec edited again and again (the language server's document) is
elaborated from the first top-level statement that changed, on the state the previous version's
elaboration had there, instead of from its first line.

The model body runs its statements in the text's order when every name is read below the
statement that defines it (archc.ir.elaborate), and the elaborator's state only grows as they
run: layers, scopes, names, diagnostics and bindings are appended to lists and dicts (which keep
their order). So a note of their lengths before each statement (`_Marks`) is the state there:
resuming cuts each back to its length. The elaborator's own lists and dicts are cut in place;
the graph's (nodes, edges, scopes, assumptions) are copied, so that the graph given before stays
as it was, and a layer it holds is copied before a later statement changes it (GraphBuilder.own);
names a later statement gave a layer made before (`b = a`) are logged and taken back.
What does not only grow rules a statement out as a place to resume from (`_resume_point`,
`Session._keep`): a name assigned twice after it (rebound), assumptions used after it, layers
pruned at the model's end, shapes simplified under assumptions, names made twice or containers in
the model's scope, training outputs, an attribute of the elaborator not listed in CUT or SAME.
The passes after the body run each time, over what changed where they can (GraphBuilder.sinks
for the pruning, the layers made since for the shapes). Anything else (another header, imports
that read differently, an error or a limit while resuming) is a whole elaboration. Unchanged
statements are found by identity first (archc.frontend.incremental keeps the ones an edit did not
touch), then by equality, locations included.

The block-reuse stores (archc.ir.instances' templates, archc.ir.patterns' kinds) are not cut
back but carried, whole, from one elaboration of a session to the next, resumed or not (`Reuse`):
what serves an instance is what evaluating it gives, wherever it is met, so an instance alike one
of an earlier version (DenseNet-121's features, when its one model statement is edited) replays it.
"""
from __future__ import annotations

import copy
import itertools
import operator
import time
from typing import Any

from archc import ast as A
from archc import symbolic as sy
from archc.deep import run_deep
from archc.errors import SpecError, SpecErrors
from archc.ir import instances, patterns
from archc.ir.elaborate import Body, Elaborator, _Again, _partial_graph, _run
from archc.ir.graph import Graph
from archc.ir.values import Env, ShapeContext
from archc.loader import BlockLoader, search_path


class Session:
    """Elaborations of successive versions of one spec (the language server's document): each
    reuses the previous elaboration's state up to the first top-level statement that changed."""

    def __init__(self, file: str, hyperparams: dict | None = None, strict: bool = False,
                 reuse: "Reuse | None" = None):
        self.file = file
        self.hyperparams = dict(hyperparams or {})
        self.strict = strict
        self._last: _Last | None = None  # the previous elaboration, when one can resume from it
        self.resumed_at: int | None = None  # the statement the last call resumed at (None: whole)
        # block-reuse templates and patterns, carried between elaborations (`reuse`: an earlier
        # session's, of the same file: what serves an instance does so in any session)
        self.reuse = reuse if reuse is not None else Reuse()
        self._imported: Any = None  # what the imports gave when the elaboration under way began

    def elaborate(self, spec: A.Spec, warnings: list | None = None) -> Graph:
        """Exactly what archc.ir.elaborate.elaborate(spec, file, hyperparams, strict=strict,
        warnings=warnings) returns or raises (SpecErrors with the same diagnostics, including
        `partial`)."""
        last, self._last, self.resumed_at = self._last, None, None
        # what the imports give, read before elaborating (so that the parse an elaboration reads
        # is the last one an import reader notes): an elaboration that read other blocks (an
        # imported file changed meanwhile) is not resumed from
        self._imported = _loaded(spec, self.file)
        start = _resume_point(last, spec, self._imported) if last is not None else None
        self.reuse.begin(spec, self._imported)
        outcome = None
        try:
            if start is not None:
                outcome = self._resume(last, spec, start)
                if outcome is not None:
                    self.resumed_at = start
                else:  # what a resumed elaboration that gave up changed is undone
                    self.reuse.undo()
            if outcome is None:
                outcome = self._whole(spec)
        finally:
            self.reuse.end(outcome[0] if outcome is not None else None)
        return self._result(*outcome, warnings)

    def _result(self, elaborator: Elaborator, graph: Graph | None, errors: SpecErrors | None, partial: bool,
                warnings: list | None) -> Graph:
        if errors is not None:
            if partial:
                errors.partial = _partial_graph(elaborator)
            raise errors
        if warnings is not None:
            warnings.extend(sorted(elaborator.reporter.diag.warnings,
                                   key=lambda w: (w.loc.file, w.loc.line, w.loc.col) if w.loc else ("", 0, 0)))
        return graph

    def _whole(self, spec: A.Spec) -> tuple[Elaborator, Graph | None, SpecErrors | None, bool]:
        """archc.ir.elaborate.elaborate's loop, noting the state before each statement."""
        skipped: frozenset = frozenset()
        for attempt in range(8):
            elaborator = self._elaborator(spec, carried=attempt == 0)
            elaborator.skipped = skipped
            try:
                graph = _run(elaborator, False, self.hyperparams)
                break
            except _Again as again:
                skipped = again.skipped
            except SpecErrors as errors:
                self._keep(elaborator, spec, None)
                return elaborator, None, errors, True
        else:  # pragma: no cover - as elaborate: what is left is reported as duplicates
            try:
                graph = _run(elaborator, False, self.hyperparams)
            except SpecErrors as errors:
                return elaborator, None, errors, False
        self._keep(elaborator, spec, graph)
        return elaborator, graph, None, True

    def _elaborator(self, spec: A.Spec, carried: bool) -> Elaborator:
        """A new elaborator, noting its model body's state before each statement; `carried`: with
        the block-reuse stores of the session's earlier elaborations (an elaboration again that
        skips statements, `_Again`, has stores of its own)."""
        elaborator = Elaborator(spec, self.file, self.hyperparams, self.strict)
        elaborator.marks = _Marks(elaborator)
        elaborator.builder.sinks = {}
        elaborator.builder.bind_name = _logging_binds(elaborator.builder, elaborator.marks.binds)
        if carried:
            elaborator.templates, elaborator.sized_templates = self.reuse.stores(elaborator)
        else:
            elaborator.templates, elaborator.sized_templates = _Stored(), _Stored()
        return elaborator

    def _keep(self, elaborator: Elaborator, spec: A.Spec, graph: Graph | None) -> None:
        """Keep an elaboration to resume from, if its model body ran in the text's order."""
        if elaborator.skipped or not elaborator.model:
            return
        body = elaborator.model[0]
        marks = elaborator.marks
        if not body.in_text_order or len(marks.ran) != len(body.body) + 1 or body.pruned \
                or elaborator.shapes_rewritten or any(o.training for o in spec.outputs) \
                or any(alt.scope == () for alt in elaborator.builder.alternatives) \
                or any(len(path) == 1 and scope.kind == "container" for path, scope in elaborator.builder.scopes.items()):
            return
        # the first layers known to have tuple shapes (simplify_shapes made them so, changing none)
        marks.tuples = len(elaborator.builder.g) if graph is not None else elaborator.checked_shapes
        loaded = self._imported
        if loaded is not None and loaded[0] != {name: id(block) for name, block in elaborator.blocks.items()}:
            return  # (blocks held by the elaborator and by the parses: equal ids are the same blocks)
        self._last = _Last(elaborator, spec, loaded)

    def _resume(self, last: "_Last", spec: A.Spec, start: int) -> tuple | None:
        """The elaboration of `spec` from statement `start` on, or None when it cannot resume."""
        elaborator = last.elaborator
        marks: _Marks = elaborator.marks
        try:
            _restore(elaborator, spec, start)
            body, env, params, inputs = elaborator.model
            elaborator._declare(body, start, env, list(inputs), marks, once=True)
            if not body.in_text_order or (body.badly_declared is not None and body.badly_declared >= start):
                return None  # a whole elaboration orders them, or reports the names assigned again

            def rest() -> Graph:
                elaborator._statements(body, start, env, marks)
                return elaborator._finish(body, env, dict(params), dict(inputs))
            graph = run_deep(rest)
        except SpecErrors as errors:
            self._keep(elaborator, spec, None)
            return elaborator, None, errors, True
        except Exception:  # noqa: BLE001 - (time or depth limits, _Again): a whole elaboration says what
            return None
        graph.overrides = dict(self.hyperparams)
        graph.import_dirs = search_path()
        self._keep(elaborator, spec, graph)
        return elaborator, graph, None, True


class _Last:
    """A finished elaboration to resume from: its elaborator, spec and loaded blocks."""

    def __init__(self, elaborator: Elaborator, spec: A.Spec, loaded: Any):
        self.elaborator, self.spec, self.loaded = elaborator, spec, loaded


class _Stored(dict):
    """An elaborator's block-reuse store (`templates`, `sized_templates`) that a later
    elaboration may use: a template is made relative to its instance's path as it is stored
    (`Template.usable`), from the layers as its instance made them, not as later statements or
    the passes at the end of the body left them (nor cut back by resuming)."""

    def __setitem__(self, key: Any, value: Any) -> None:
        if type(value) is instances.Template:
            value.usable()
        super().__setitem__(key, value)


class Reuse:
    """The block-reuse stores (archc.ir.instances' templates, archc.ir.patterns' kinds) carried
    from one elaboration of a session to the next, so that an instance alike one of an earlier
    version of the spec replays it. What a template or pattern serves is what evaluating the
    instance gives (their premise: a block's layers are a function of the block, its parameter
    values and its inputs' shapes), under the same limits, and provided that nothing was hidden
    from the instance that recorded it. So what an elaboration changed is kept only when that
    elaboration reported no error (an instance meeting an error reported before is not told it
    again, and may become a template that never reports it), recorded no assumption about
    symbolic sizes (a rule may rely on one recorded before, and record none itself), skipped no
    statement and made no name twice (`_Again`); otherwise the stores go back to what they were
    before it. Keys hold a block by id, and the blocks are kept alive (so that no other block
    takes the id). A block that is the same object may still build otherwise: the incremental
    parse keeps a block whose text is unchanged, but a block it calls may have been edited (or
    added, taking a name it calls), and its templates hold the layers of the old one. So the
    stores start afresh whenever the blocks the spec defines or imports, by name, are not the
    same objects as the last time: as the imports read before the elaboration give them
    (`begin`), and as the elaborator loaded them (`stores`; a library may be edited in between)."""

    MAX_ENTRIES = 20_000  # past this (many versions' numbers), the stores start afresh

    def __init__(self) -> None:
        self.templates, self.sized = _Stored(), _Stored()
        # the blocks (by name: those the spec defines and imports) the stores were made with, kept
        # alive so that no other block takes the id a key holds
        self.defined: dict[str, A.BlockDef] | None = None
        self.limits: tuple | None = None
        self._before: tuple | None = None

    def stores(self, elaborator: Elaborator) -> tuple[_Stored, _Stored]:
        """The stores for an elaboration (empty when the limits differ from the last one's, or
        when the blocks it loaded are not those the stores were made with: a library edited
        after `begin` compared what the imports gave)."""
        limits = (elaborator.builder.max_layers, elaborator.max_repeat, elaborator.max_block_depth,
                  elaborator.max_string, elaborator.strict)
        blocks = self.defined
        if limits != self.limits or blocks is None or blocks.keys() != elaborator.blocks.keys() or \
                any(blocks[name] is not block for name, block in elaborator.blocks.items()):
            self._clear()
            self.limits = limits
            self._before = ({}, {}, {})
        return self.templates, self.sized

    def begin(self, spec: A.Spec, imported: Any) -> None:
        """Before an elaboration of `spec` (`imported`: what its imports give, `_loaded`): the
        stores emptied if its blocks are not those of the last one; what to go back to (entries and
        each kind's state)."""
        if not self._same_blocks(spec, imported):
            self._clear()
            self.defined = None
        self._before = (dict(self.templates), dict(self.sized),
                        {id(v): (v, v.state()) for v in self.templates.values() if type(v) is patterns.Kind})

    def _clear(self) -> None:
        self.templates.clear()
        self.sized.clear()

    def _same_blocks(self, spec: A.Spec, imported: Any) -> bool:
        """Whether the spec defines and imports, by name, the very blocks the stores were made with
        (those are held, so an id compared is never another object's)."""
        defined = self.defined
        if defined is None:
            return False
        if imported:  # every block, the spec's own and those it imports, by id (_loaded)
            ids = imported[0]
            return defined.keys() == ids.keys() and all(id(defined[name]) == i for name, i in ids.items())
        return (defined.keys() == {block.name for block in spec.blocks}
                and all(defined[block.name] is block for block in spec.blocks))

    def undo(self) -> None:
        """The stores as they were before the elaboration under way."""
        templates, sized, kinds = self._before
        for store, entries in ((self.templates, templates), (self.sized, sized)):
            store.clear()
            dict.update(store, entries)
        for kind, state in kinds.values():
            kind.restore(state)

    def end(self, elaborator: Elaborator | None) -> None:
        """After an elaboration (`elaborator`: the one that ran to its end, None if it stopped
        inside archc): its changes kept if they can serve later ones, else undone."""
        e = elaborator
        if e is None or e.templates is not self.templates or e.reporter._seen_errors or e.skipped \
                or e.skip_next or e.builder.alternatives or e.assumptions.revision:
            self.undo()
            return
        self.defined = dict(e.blocks)  # (the stores' entries are of these blocks: `stores` saw to it)
        for store in (self.templates, self.sized):
            if len(store) > self.MAX_ENTRIES:
                store.clear()


class _Marks:
    """The model body's state before each statement, as lengths (`declaring`: the names;
    `running`: everything else)."""

    def __init__(self, elaborator: Elaborator):
        self.elaborator = elaborator
        self.declared: list[tuple] = []
        self.ran: list[tuple] = []
        self.tuples = 0  # the graph's first layers known to have tuple shapes
        # every name bound to a layer's output (GraphBuilder.bind_name): the layer, and how many
        # names it had before (a statement may name a layer made before the one resumed at)
        self.binds: list[tuple[str, int]] = []
        self._unknown: frozenset = frozenset()

    def declaring(self, k: int, body: Body) -> None:
        del self.declared[k:]
        self.declared.append((len(body.defined), len(body.read), len(body.read_first), len(body.kept),
                              len(body.idle), body.last_key, body.in_text_order, body.badly_declared))

    def running(self, k: int, body: Body, env: Env) -> None:
        e = self.elaborator
        b, r = e.builder, e.reporter
        if len(self._unknown) != len(e.unknown_names):  # (it only grows)
            self._unknown = frozenset(e.unknown_names)
        del self.ran[k:]
        self.ran.append((
            len(b.created), len(b.g.nodes), len(b.scopes), len(b.scope_log), len(b.used_names),
            len(b.used_names.get((), ())), len(b._named_at), len(b._named_index), len(b.container_members),
            len(b.alternatives), len(r.diag.errors), len(r.diag.warnings), len(r.warnings), len(r._seen_errors),
            len(env.values), self._unknown, e.steps, e.comprehended, e.shape_reads, len(e._sizes), len(e._placed),
            e.assumptions, e.assumptions.revision, e.unused_layers, len(body.made), len(self.binds)))


def _prefix(d: dict, n: int) -> dict:
    """A dict of the first n entries of `d` (a copy, then the last ones popped: a resumed
    elaboration's are mostly all)."""
    if n < len(d) // 2:
        return dict(itertools.islice(d.items(), n))
    out = d.copy()
    _cut(out, n)
    return out


def _cut(d: dict, n: int) -> None:
    """Keep the first n entries of `d` (the elaborator's own dicts: no graph holds them)."""
    for _ in range(len(d) - n):
        d.popitem()


def _restore(e: Elaborator, spec: A.Spec, k: int) -> None:
    """Cut the elaborator's state back to what it was before statement k of its model body: the
    graph's parts copied (the earlier graph keeps them), the rest cut in place."""
    body, env, _params, _inputs = e.model
    marks: _Marks = e.marks
    (created, nodes, scopes, scope_log, named_scopes, top_names, named_at, named_index, containers,
     alternatives, errors, warnings, lints, seen, bound, unknown, steps, comprehended, shape_reads,
     sizes, placed, assumptions, _revision, unused_layers, made, binds) = marks.ran[k]
    defined, read, read_first, kept, idle, last_key, in_text_order, badly_declared = marks.declared[k]
    b, r = e.builder, e.reporter
    b.shared = b.g.nodes
    b.g = b.g.copy_prefix(nodes)
    _cut_names(b, marks.binds, binds)
    _cut_sinks(b, created)
    del b.created[created:]
    b.scopes = _prefix(b.scopes, scopes)
    del b.scope_log[scope_log:]
    top = b.used_names.get(())
    _cut(b.used_names, named_scopes)
    if () in b.used_names:
        _cut_suffixes(b, list(itertools.islice(reversed(top), len(top) - top_names)))
        _cut(top, top_names)
    else:
        b._suffixes.clear()
    _cut(b._named_at, named_at)
    _cut(b._named_index, named_index)
    _cut(b.container_members, containers)
    del b.alternatives[alternatives:]
    b.scope_path, b.name_hint = (), None
    del r.diag.errors[errors:]
    del r.diag.warnings[warnings:]
    del r.warnings[lints:]
    _cut(r._seen_errors, seen)
    r.instance_stack.clear()
    _cut(env.values, bound)
    e.unknown_names = set(unknown)
    e.steps, e.comprehended, e.shape_reads = steps, comprehended, shape_reads
    _cut(e._sizes, sizes)
    _cut(e._placed, placed)
    # the assumptions are the earlier graph's too: a copy (unchanged since statement k, _resume_point)
    e.assumptions = copy.deepcopy(assumptions) if assumptions.revision else sy.Assumptions()
    e.ctx = ShapeContext(e.assumptions)
    e.unused_layers = unused_layers
    e.checked_shapes = min(nodes, marks.tuples)
    e.shares_checked = min(nodes, e.shares_checked)
    e.shapes_rewritten = False
    e.deadline = time.monotonic() + e.max_seconds
    e.spec = spec
    # names read first after k were unread at k
    for name, at in reversed(body.read.items()):
        if at < k:
            break
        if body.defined_at.get(name, k) < k:
            body.unread[name] = None
    body.body = spec.body
    for entries, n in ((body.defined, defined), (body.defined_at, defined), (body.read, read),
                       (body.read_first, read_first)):
        _cut(entries, n)
    for name in [name for name in body.unread if name not in body.defined]:  # (defined after k)
        del body.unread[name]
    del body.uses[k:]
    del body.kept[kept:]
    del body.idle[idle:]
    del body.made[made:]
    body.last_key, body.in_text_order, body.badly_declared, body.pruned = last_key, in_text_order, badly_declared, False
    del marks.declared[k:]
    del marks.ran[k:]


def _cut_suffixes(b: Any, untaken: list[str]) -> None:
    """GraphBuilder._suffixes, (scope, base name) -> the next suffix to try, must not skip a free
    name: the model scope's are lowered to the suffixes of the names `untaken` (taken after the
    statement resumed at); the other scopes' are dropped (no scope made before it takes more)."""
    suffixes = {key: k for key, k in b._suffixes.items() if key[0] == ()}
    for name in untaken:
        base, _, number = name.rpartition("_")
        if number.isdigit() and int(number) >= 1 and ((), base) in suffixes:
            suffixes[((), base)] = min(suffixes[((), base)], int(number))
    b._suffixes = suffixes


def _logging_binds(b: Any, binds: list[tuple[str, int]]) -> Any:
    """GraphBuilder.bind_name, noting each name bound in `binds` (_Marks.binds)."""
    bind, layer = b.bind_name, b.layer

    def bind_name(node_id: str, name: str, scope: tuple[str, ...] | None = None) -> None:
        binds.append((node_id, len(layer(node_id).tensor_names)))
        bind(node_id, name, scope)
    return bind_name


def _cut_names(b: Any, binds: list[tuple[str, int]], n: int) -> None:
    """The names bound after the first `n` of `binds` taken off the layers the cut graph keeps
    (copied first: the earlier graph keeps them as they are)."""
    before: dict[str, int] = {}
    nodes = b.g.nodes
    for node_id, count in itertools.islice(binds, n, None):
        if node_id in nodes and node_id not in before:
            before[node_id] = count
    for node_id, count in before.items():
        layer = b.own(node_id)
        del layer.tensor_names[count:]
        del layer.tensor_scopes[count:]
    del binds[n:]


def _cut_sinks(b: Any, created: int) -> None:
    """The builder's unread layers as they were when it had made `created` layers (a few more
    maybe: those nothing read then, those nothing reads now, and those a removal left unread)."""
    first_read = b.first_read
    read_later = []
    for node_id, at in reversed(first_read.items()):
        if at < created:
            break
        read_later.append(node_id)
    _cut(first_read, len(first_read) - len(read_later))
    nodes = b.g.nodes
    b.resinked = [(at, node_id) for at, node_id in b.resinked if at < created]
    b.sinks = {node_id: None for node_id in itertools.chain(b.sinks, read_later, (n for _, n in b.resinked))
               if node_id in nodes}


def _resume_point(last: _Last, spec: A.Spec, loaded: Any) -> int | None:
    """The first statement of `spec`'s model body that differs from the last elaboration's, if
    the last one can resume there; None: elaborate it whole."""
    old = last.spec
    if spec.name != old.name or spec.returns != old.returns or not _same(spec.blocks, old.blocks) or not all(
            _same_but_comments(getattr(spec, f), getattr(old, f)) for f in ("imports", "params", "inputs")):
        return None
    if loaded != last.loaded:
        return None  # an imported file reads differently now
    before, after = old.body, spec.body
    k = 0
    n = min(len(before), len(after))
    same = list(map(operator.is_, before[:n], after[:n]))  # (a parser that keeps the statements it did not touch)
    k = same.index(False) if False in same else n
    while k < n and before[k] == after[k]:  # (their locations too: a statement moved is changed)
        k += 1
    e = last.elaborator
    if state_names(e) != CUT | SAME:
        return None  # state this module does not know how to cut back
    body = e.model[0]
    marks: _Marks = e.marks
    ran = marks.ran[k]
    assumptions, revision = ran[21], ran[22]
    if body.badly_declared is not None and body.badly_declared >= k:
        return None  # a name assigned again after k: its binding at k is gone
    if assumptions.revision != revision:
        return None  # assumptions used after k: their state at k is gone
    return k


# Every attribute of an elaborator, its builder and its reporter, by what resuming does with it;
# an elaborator with any other is elaborated whole (and tests/elaboration/test_resume.py fails, so
# that a new one is decided here). CUT: cut back by _restore. SAME: set before the model body,
# and the same after each of its statements (changed only inside one, and put back).
CUT = frozenset({
    "_placed", "_sizes", "assumptions", "checked_shapes", "comprehended", "ctx", "deadline", "model",
    "shape_reads", "shapes_rewritten", "shares_checked", "spec", "steps", "unknown_names", "unused_layers",
    "templates", "sized_templates",  # (kept whole: what serves an instance serves it anywhere, Reuse)
    "builder._named_at", "builder._named_index", "builder._suffixes", "builder.alternatives",
    "builder.container_members", "builder.created", "builder.first_read", "builder.g", "builder.resinked",
    "builder.scope_log", "builder.scope_path", "builder.scopes", "builder.shared", "builder.sinks",
    "builder.used_names", "builder.name_hint",
    "reporter._seen_errors", "reporter.diag", "reporter.instance_stack", "reporter.warnings",
})
SAME = frozenset({
    "_eval_methods", "_visible_env", "blocks", "builder", "decision_log", "deepest", "failed_imports", "file",
    "local_defs",
    "local_params", "loop", "loops", "marks", "max_block_depth", "max_repeat", "max_seconds", "max_string", "recorder",
    "model_locals", "model_params", "none_params", "overrides", "repeat_copy_depth", "reporter", "skip_next",
    "skipped", "statement", "strict", "trace", "builder.max_layers", "builder.reporter",
    "builder.bind_name",  # (_logging_binds)
})


def state_names(e: Elaborator) -> set[str]:
    """The attributes of an elaborator, its builder (`builder.x`) and its reporter."""
    return set(vars(e)) | {f"builder.{n}" for n in vars(e.builder)} | {f"reporter.{n}" for n in vars(e.reporter)}


def _same(a: list, b: list) -> bool:
    return len(a) == len(b) and all(x is y or x == y for x, y in zip(a, b))


def _same_but_comments(a: list, b: list) -> bool:
    """Whether imports, params or inputs elaborate alike: equal but for their comments (an
    editor's note on `import "x.arch"  # why` changes nothing; one moved is changed, as the places
    of its diagnostics are)."""
    return len(a) == len(b) and all(x is y or x == y or A.replace(x, comments=None) == A.replace(y, comments=None)
                                    for x, y in zip(a, b))


def _loaded(spec: A.Spec, file: str) -> Any:
    """What a spec's imports give (blocks by identity, problems), to see whether they changed."""
    if not spec.imports:
        return None
    problems: list[SpecError] = []
    loader = BlockLoader(problems.append)
    loader.load(spec, file, set())
    return ({name: id(block) for name, block in loader.blocks.items()}, loader.failed_imports,
            [(p.message, p.loc) for p in problems])
