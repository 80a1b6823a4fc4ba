"""The graph under construction: layer nodes and their edges, the scopes (block instances,
repeats, sequentials) and the names of both.

`GraphBuilder` owns the DiGraph, the scopes by path, the module names taken in each scope and
the scope new layers go into (`scope_path`); the elaborator and block reuse
(archc.ir.instances) add layers and scopes only through its methods. Module names follow
PyTorch's rules (`valid_module_name`, `TORCH_MODULE_ATTRS`).
"""
from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass
from typing import Any

from archc import ast as A
from archc import provenance as pv
from archc.errors import Related, replacement
from archc.ir.digraph import DiGraph
from archc.ir.graph import LayerNode, Scope
from archc.ir.report import Reporter
from archc.ir.values import describe


@dataclass
class Alternative:
    """A layer named like one made earlier in the same scope: built as `provisional` until the
    body ends, when one of the two must be gone (a branch not taken) or it is E-NAME-LAYER-DUPLICATE."""
    scope: tuple[str, ...]
    name: str
    provisional: str
    loc: A.Loc | None
    first_loc: A.Loc | None
    first_index: int  # where the first one's layers start in GraphBuilder.created
    resolved: bool = False


class GraphBuilder:
    """Adds layers and scopes to one graph, naming them uniquely within their scope."""

    def __init__(self, reporter: Reporter, max_layers: int):
        self.reporter = reporter
        self.max_layers = max_layers
        self.g = DiGraph()
        self.scopes: dict[tuple[str, ...], Scope] = {}
        self.scope_log: list[tuple[str, ...]] = []  # scope paths in creation order (pruned ones stay)
        self.scope_path: tuple[str, ...] = ()  # where new layers and scopes go
        # scope -> child names taken (a dict: in the order taken, so that archc.ir.resume can cut it back)
        self.used_names: dict[tuple[str, ...], dict[str, None]] = {}
        self._suffixes: dict[tuple, int] = {}  # (scope, base name) -> the next suffix to try
        self._named_at: dict[tuple[tuple[str, ...], str], A.Loc] = {}  # (scope, name) -> where its layer is
        self.created: list[str] = []  # node ids in creation order (pruned ones stay listed)
        self.container_members: dict[tuple[str, ...], list[str]] = {}  # names in the order made
        self._named_index: dict[tuple[tuple[str, ...], str], int] = {}  # (scope, name) -> created index
        self.alternatives: list[Alternative] = []  # names used twice, decided when the body ends
        # `e2 = e1 -> ResBlock()`: the tensor's name, for the module the statement's one call makes
        # (taken by the next name given in that scope: the call's own module comes first)
        self.name_hint: tuple[tuple[str, ...], str] | None = None
        # an earlier graph's nodes (archc.ir.resume: a resumed elaboration starts from a copy of an
        # earlier one's first layers): a layer whose attribute dict is that graph's too is copied
        # before any change
        self.shared: dict[str, dict] | None = None
        # kept for archc.ir.resume only (None otherwise): the layers nothing reads (and maybe a few
        # that something does), when each layer was first read (len(created) then), and the
        # layers made unread again by a removal, with len(created) then
        self.sinks: dict[str, None] | None = None
        self.first_read: dict[str, int] = {}
        self.resinked: list[tuple[int, str]] = []

    def layer(self, node_id: str) -> LayerNode:
        return self.g.nodes[node_id]["layer"]

    def own(self, node_id: str) -> LayerNode:
        """The layer, to change: a copy first when an earlier graph shares it (`shared`)."""
        attributes = self.g.nodes[node_id]
        layer = attributes["layer"]
        if self.shared is not None and self.shared.get(node_id) is attributes:
            layer = dataclasses.replace(layer, tensor_names=list(layer.tensor_names),
                                        tensor_scopes=list(layer.tensor_scopes))
            self.g.nodes[node_id] = {"layer": layer}  # (the attribute dict is the earlier graph's too)
        return layer

    def __contains__(self, node_id: str) -> bool:
        return node_id in self.g

    def unique_name(self, name: Any, loc: A.Loc | None, explicit: bool, default: str = "") -> str:
        hint, self.name_hint = self.name_hint, None
        scope_path = self.scope_path
        if not explicit and hint is not None and hint[0] == scope_path and _free_module_name(hint[1]):
            default = hint[1]
        taken = self.used_names.get(scope_path)
        if taken is None:
            taken = self.used_names[scope_path] = {}
        if name is None and not explicit and type(default) is str and default not in taken and \
                _free_module_name(default):
            # the common case: a name of its own (a tensor's, or an op's first use in the scope)
            if loc is not None:
                self._named_at[(scope_path, default)] = loc
            taken[default] = None
            return ".".join((*scope_path, default)) if scope_path else default
        if name is not None:
            pv.decide(name)
        if explicit:
            if isinstance(name, bool) or not isinstance(name, (str, int)):
                self.reporter.fail(f"a layer name must be a word, a string or an int, got {describe(name)}", loc,
                                   code="E-NAME-LAYER-INVALID")
            name = str(name)
            if not _free_module_name(name):  # (the common case: none of the tests below applies)
                if "." in name and all(valid_module_name(part) for part in name.split(".")):
                    return self._in_container(name.split("."), loc)
                if not valid_module_name(name):
                    self.reporter.fail(f"layer name {name!r} is not a valid module name", loc,
                                       "PyTorch module names are non-empty and contain no '.' (a dotted name such as "
                                       "\"convs.1\" is a member of the container convs); e.g. \"block1-0\"",
                                       code="E-NAME-LAYER-INVALID")
                if name in TORCH_MODULE_ATTRS:
                    self.reporter.fail(f"layer name '{name}' is taken: torch.nn.Module has an attribute of that name",
                                       loc, f"choose another name, e.g. '{name}_'", code="E-NAME-LAYER-RESERVED",
                                       fixes=replacement(loc, name, f"{name}_", f"rename '{name}' to '{name}_'"))
            if name in taken:  # an error unless one of the two is in a branch not taken (decided later)
                provisional, k = f"{name}@alternative", 2
                while provisional in taken:
                    provisional, k = f"{name}@alternative{k}", k + 1
                self.alternatives.append(Alternative(self.scope_path, name, provisional, loc,
                                                     self._named_at.get((self.scope_path, name)),
                                                     self._named_index.get((self.scope_path, name), -1)))
                name = provisional
        else:
            base = safe_default_name(default)
            name, k = base, self._suffixes.get((self.scope_path, base), 1)
            while name in taken or name in TORCH_MODULE_ATTRS:
                name = f"{base}_{k}"
                k += 1
            self._suffixes[(self.scope_path, base)] = k  # names only get taken: no need to recount
        if loc is not None:
            self._named_at[(self.scope_path, name)] = loc
        if explicit:
            self._named_index[(self.scope_path, name)] = len(self.created)
        taken[name] = None
        return ".".join((*self.scope_path, name))

    def exists(self, node_id: str) -> bool:
        """A layer or a scope of that id is in the graph (not pruned)."""
        return node_id in self.g or tuple(node_id.split(".")) in self.scopes

    def duplicate(self, alt: Alternative) -> None:
        where = ".".join(alt.scope) or "the model"
        self.reporter.error(f"the name '{alt.name}' is used twice in {where}", alt.loc,
                            "names in one block must be unique: they become module attributes (two "
                            "statements may share one when a static condition builds only one of them)",
                            code="E-NAME-LAYER-DUPLICATE",
                            related=[Related(alt.first_loc, "first used here")] if alt.first_loc else [])

    def _in_container(self, parts: list[str], loc: A.Loc | None) -> str:
        """`name="convs.1"`: the layer `1` of the container `convs` (an nn.ModuleList, or a
        ModuleDict for other names), made at its first member and registered there; its members
        are called one at a time from the body (Res2Net's `convs.i` and `bns.i`, interleaved)."""
        saved = self.scope_path
        try:
            for part in parts[:-1]:
                path = (*self.scope_path, part)
                existing = self.scopes.get(path)
                if existing is None and part in self.used_names.get(self.scope_path, ()):
                    first = self._named_at.get((self.scope_path, part))
                    self.reporter.fail(f"'{part}' in the name {'.'.join(parts)!r} is a layer; only a container "
                                       "made by dotted names takes members", loc,
                                       f"name the container differently, e.g. '{part}s.{parts[-1]}'",
                                       code="E-NAME-LAYER-DUPLICATE",
                                       related=[Related(first, "first used here")] if first else [])
                if existing is None:
                    self.unique_name(part, loc, explicit=True)
                    self.new_scope(Scope(path, "container", "ModuleList", loc))
                elif existing.kind != "container":
                    self.reporter.fail(f"'{part}' in the name {'.'.join(parts)!r} is a {existing.type_name} "
                                       "instance; only a container made by dotted names takes more members",
                                       loc, f"name the container differently, e.g. '{part}s.{parts[-1]}'",
                                       code="E-NAME-LAYER-DUPLICATE",
                                       related=[Related(existing.loc, "made here")] if existing.loc else [])
                self.scope_path = path
            node_id = self.unique_name(parts[-1], loc, explicit=True)
            members = self.container_members.setdefault(self.scope_path, [])
            members.append(parts[-1])
            # what PyTorch holds them in: a list when they are 0, 1, … in the order made
            self.scopes[self.scope_path].type_name = (
                "ModuleList" if members == [str(k) for k in range(len(members))] else "ModuleDict")
            return node_id
        finally:
            self.scope_path = saved

    def new_scope(self, scope: Scope) -> None:
        self.scopes[scope.path] = scope
        self.scope_log.append(scope.path)

    def created_since(self, index: int) -> list[str]:
        """The nodes a body, block or repeat created, given len(self.created) at its start: a
        slice, so nested bodies cost their own size, not the whole graph's."""
        return list(filter(self.g.nodes.__contains__, self.created[index:]))  # (no Python call per layer)

    def add_node(self, node: LayerNode) -> None:
        if len(self.created) >= self.max_layers:
            self.reporter.fail(f"the model has more than {self.max_layers:,} layers", node.loc,
                               "check repeat counts and recursive blocks; to build that many anyway, raise "
                               "the limit with the environment variable ARCHC_MAX_LAYERS", code="E-LIMIT-LAYERS")
        self.g.add_layer(node.id, node, node.inputs)
        sinks = self.sinks
        if sinks is not None:
            sinks[node.id] = None
            for src in node.inputs:
                if src in sinks:
                    del sinks[src]
                    if src not in self.first_read:
                        self.first_read[src] = len(self.created)
        self.created.append(node.id)

    def bind_name(self, node_id: str, name: str, scope: tuple[str, ...] | None = None) -> None:
        """`name` (a spec's name for the tensor) is bound to the node's output in `scope` (by
        default the current one)."""
        layer = self.layer(node_id) if self.shared is None else self.own(node_id)
        layer.tensor_names.append(name)
        layer.tensor_scopes.append(self.scope_path if scope is None else scope)

    def mark_since(self, first_node: int, frozen: bool, init: str | None, bias_init: str | None) -> None:
        """Apply a block's, repeat's or sequential's `frozen`/`init` to every layer it created
        (the nodes added since `first_node`), without overriding a layer's own choice."""
        if not (frozen or init or bias_init):
            return
        for node_id in self.created_since(first_node):
            layer = self.layer(node_id)
            layer.frozen = layer.frozen or frozen
            layer.init = layer.init or init
            layer.bias_init = layer.bias_init or bias_init

    def remove(self, dead: list[str], created: list[str], outermost: int = 1) -> None:
        """Remove the layers `dead` (some of `created`, a body's layers), and the scopes of at
        least `outermost` names that no remaining layer of `created` is in: the body's own and
        those inside it, never one the body runs inside of (a repeat's or sequential's, or the
        caller's of an inline block, which may hold layers yet to come)."""
        emptied = {self.layer(n).scope[:k] for n in dead for k in range(outermost, len(self.layer(n).scope) + 1)}
        if self.sinks is not None:  # what the dead layers read may be read by nothing now
            gone, pred = set(dead), self.g.pred
            for n in dead:
                self.sinks.pop(n, None)
                for src in pred[n]:
                    if src not in gone:
                        self.sinks[src] = None
                        self.resinked.append((len(self.created), src))
        self.g.remove_nodes_from(dead)
        for n in created:
            if n in self.g:
                scope = self.layer(n).scope
                emptied -= {scope[:k] for k in range(1, len(scope) + 1)}
        for path in emptied:
            self.scopes.pop(path, None)


# Attribute names of torch.nn.Module and nn.Sequential (and the load report archc.build attaches):
# torch refuses a submodule of one of these names, so no layer may take one. tests/lowering/test_lowering.py
# checks the list against the installed torch.
TORCH_MODULE_ATTRS = frozenset({
    "T_destination", "_apply", "_backward_hooks", "_backward_pre_hooks", "_buffers", "_call_impl",
    "_compiled_call_impl", "_forward_hooks", "_forward_hooks_always_called",
    "_forward_hooks_with_kwargs", "_forward_pre_hooks", "_forward_pre_hooks_with_kwargs",
    "_get_backward_hooks", "_get_backward_pre_hooks", "_get_item_by_idx", "_get_name",
    "_is_full_backward_hook", "_load_from_state_dict", "_load_state_dict_post_hooks",
    "_load_state_dict_pre_hooks", "_maybe_warn_non_full_backward_hook", "_modules",
    "_named_members", "_non_persistent_buffers_set", "_parameters",
    "_register_load_state_dict_pre_hook", "_register_state_dict_hook",
    "_replicate_for_data_parallel", "_save_to_state_dict", "_slow_forward", "_state_dict_hooks",
    "_state_dict_pre_hooks", "_version", "_wrapped_call_impl", "add_module", "append", "apply",
    "archc_load_report", "bfloat16", "buffers", "call_super_init", "check_inputs", "children", "compile", "cpu",
    "cuda", "double", "dump_patches", "eval", "extend", "extra_repr", "float", "forward",
    "get_buffer", "get_extra_state", "get_parameter", "get_submodule", "half", "insert", "ipu",
    "load_state_dict", "modules", "mtia", "named_buffers", "named_children", "named_modules",
    "named_parameters", "parameters", "pop", "register_backward_hook", "register_buffer",
    "register_forward_hook", "register_forward_pre_hook", "register_full_backward_hook",
    "register_full_backward_pre_hook", "register_load_state_dict_post_hook",
    "register_load_state_dict_pre_hook", "register_module", "register_parameter",
    "register_state_dict_post_hook", "register_state_dict_pre_hook", "requires_grad_",
    "set_extra_state", "set_submodule", "share_memory", "state_dict", "to", "to_empty", "train",
    "training", "type", "xpu", "zero_grad",
})


def valid_module_name(name: str) -> bool:
    """As free as PyTorch's add_module: any text without '.', not empty; control characters and
    dunder names are refused (they could only be mistakes)."""
    return bool(name) and "." not in name and name.isprintable() and not name.startswith("__")


@functools.lru_cache(maxsize=4096)  # asked for every layer, of a spec's few names
def _free_module_name(name: str) -> bool:
    """A name a layer may take as given: a module name that no torch.nn.Module attribute has."""
    return name not in TORCH_MODULE_ATTRS and valid_module_name(name)


# names a body's numbers cannot take in generated code (archc.lower.codegen uses them)
LOCAL_NAMES_TAKEN = frozenset({"self", "torch", "nn", "F", "math", "super", "float", "int", "getattr",
                               "_make_divisible", "layers", "x", "in_channels", "max", "min", "round",
                               "abs", "len", "sum", "str", "range"})


def safe_default_name(name: str) -> str:
    """A name archc makes itself (after a block, an op or a tensor) that PyTorch and Python accept
    as a submodule: a dunder or other double-underscore name (`block __call__` -> `call`, which as
    `__call__` would shadow Module.__call__) loses its leading and trailing underscores, and a
    name that is not a module name at all becomes "layer". Never an error: the user did not write
    it. TORCH_MODULE_ATTRS are left to the caller, which numbers them (forward -> forward_1)."""
    name = str(name)
    if "." not in name and name.isprintable() and not name.startswith("__") and name:
        return name  # the common case: a block's or op's own name
    if name.startswith("__"):
        name = name.strip("_")
    name = "".join(c for c in name.replace(".", "_") if c.isprintable())
    return name if valid_module_name(name) else "layer"


@functools.lru_cache(maxsize=4096)  # called per block instance with the block's name
def snake(name: str) -> str:
    out = []
    for i, ch in enumerate(name):
        if ch.isupper() and i and (not name[i - 1].isupper() or (i + 1 < len(name) and name[i + 1].islower())):
            out.append("_")
        out.append(ch.lower())
    return "".join(out)

