"""Input checks for the generated `forward`: the sizes the spec requires, checked before the
first layer runs, so that a wrong input fails with a `ValueError` in the spec's terms

    x: H (axis 2) must satisfy H % 16 == 0, got 225

instead of torch's `Expected size 24 but got size 23` from a concatenation deep inside.

What is checked, per input in declaration order: its rank; its channels when declared as a
number (`x.shape[1] == 3`, or the 784 of `[N, 784]`: sizes that do not match the weights
otherwise fail obscurely); an axis declared with a symbolic size seen before (a square input's
`[N, 3, H, H]`, two inputs sharing the batch `N`) equal to the first axis declared so; an axis
declared as an expression (`2*H`, possible from the API) equal to its value. A batch or spatial
size declared as a number is not checked: a model with a global pool runs at other sizes too
(as torchvision's do), and users and the tests run zoo models so. Then every constraint archc
derived for inference (`graph.inference_assumptions`, else `graph.assumptions`: what `archc
summary` lists as "Input size constraints"), in `describe()` order, each symbol read from the
first input axis declared as exactly that symbol; a constraint over a symbol that no axis is
declared as (only `2*H` is) is not checked, and is listed in `InputChecks.skipped`. Training
outputs are not considered: their stricter constraints are left to torch.

The checks run only `if self.check_inputs and not _tracing(x)`: the class attribute turns them
off, and `_tracing` (torch.compiler.is_compiling() or torch.jit.is_tracing(), or an input that is
a torch.fx.Proxy) makes them vanish while torch.compile (fullgraph=True included), torch.export
(strict or not), the ONNX exporters (both), torch.jit.trace and torch.fx.symbolic_trace (which
torchvision's feature extraction uses) trace the model, where shape guards do this job. Each check is one call of the helper
`_check_input(ok, rule, got)`, defined once in the generated file.

Safety: the only spec text in the emitted code (input names, symbol names, shapes, rules) is
inside string literals made by `str_literal` (from `repr`); the forward variables come from the
caller and must be plain identifiers; sizes are emitted as ints. Expressions are printed by
`archc.lower.pysrc`, which accepts only the node types generated code uses and wraps long lines
as black does. No torch import: this module only writes source text.

The caller (archc.lower.codegen) puts `InputChecks.class_lines` in the model class body,
`forward_lines` first in its `forward`, and `helpers` among the file's helper functions; and it
must keep the names in `RESERVED` free: no forward variable may be named `_check_input` or
`_tracing` (a local of that name anywhere in forward would shadow the helper), and no submodule
of the model class `check_inputs`.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from archc import symbolic as sy
from archc.lower import pysrc
from archc.ops.base import str_literal

if TYPE_CHECKING:
    from archc.ir.graph import Graph

FLAG = "check_inputs"
CHECK_FUNCTION = "_check_input"
TRACING_FUNCTION = "_tracing"
RESERVED = frozenset({FLAG, CHECK_FUNCTION, TRACING_FUNCTION})

_TRACING_SOURCE = f'''
def {TRACING_FUNCTION}(*inputs):
    """Whether torch.compile, torch.export, torch.jit or torch.fx is tracing the model:
    shape guards check the inputs then, and the input checks stay out of the graph."""
    return (
        torch.compiler.is_compiling()
        or torch.jit.is_tracing()
        or any(isinstance(t, torch.fx.Proxy) for t in inputs)
    )
'''

_CHECK_SOURCE = f'''
def {CHECK_FUNCTION}(ok, rule, got):
    """Raise a ValueError for an input size that breaks a rule of the spec."""
    if not ok:
        raise ValueError(f"{{rule}}, got {{got}}")
'''

HELPERS = {TRACING_FUNCTION: _TRACING_SOURCE.lstrip("\n"), CHECK_FUNCTION: _CHECK_SOURCE.lstrip("\n")}

CLASS_LINE = f"{FLAG} = True  # False: forward skips its input size checks"


@dataclass(frozen=True)
class InputChecks:
    """Source text for a model class's input checks (empty lists: nothing to check).

    class_lines: for the class body (unindented), `check_inputs = True`;
    forward_lines: for the top of `forward` (unindented; one statement per entry, here the one
        guarded `if` block, its inner lines indented by 4 spaces);
    helpers: module-level functions the checks call, each a source text ending with a newline;
    checked: the rules checked, as the error messages state them (without ', got ...');
    skipped: derived constraints that are not checked (a symbol that no input axis is declared as).
    """
    class_lines: list[str] = field(default_factory=list)
    forward_lines: list[str] = field(default_factory=list)
    helpers: list[str] = field(default_factory=list)
    checked: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.forward_lines)


@dataclass(frozen=True)
class _Axis:
    """Axis `axis` of the input `name`, the forward variable `var`."""
    name: str
    var: str
    axis: int

    @property
    def source(self) -> str:
        return f"{self.var}.shape[{self.axis}]"


@dataclass(frozen=True)
class _Condition:
    """A derived constraint: its text as `describe()` states it, its symbols, and a function
    giving its Python condition from a source text per symbol."""
    text: str
    symbols: tuple[str, ...]
    source: Callable[[dict[str, str]], str]


def input_checks(graph: Graph, variables: Mapping[str, str], depth: int = 2) -> InputChecks:
    """The checks of `graph`'s inputs for the generated model class's `forward`.

    `variables`: spec input name -> its variable in forward (a plain identifier); an input not in
    it is not checked. `depth`: the indentation level (4 spaces each) at which the caller puts
    `forward_lines`; used only to wrap long lines at pysrc.LINE columns, as black would."""
    for name, var in variables.items():
        if not pysrc.is_plain_name(var) or var in RESERVED or var == "self":
            raise ValueError(f"forward variable {var!r} of input {name!r} is not a usable name")
    checks: list[tuple[str, str, str]] = []  # (condition, rule, what was received), all source text
    first: dict[str, _Axis] = {}  # symbol -> the first axis declared as exactly that symbol
    seen: dict[sy.Expr, _Axis] = {}  # symbolic size -> the first axis declared as it
    later: list[tuple[_Axis, sy.Dim]] = []  # axes declared as an expression: checked once all are known
    for name, node_id in graph.inputs.items():
        if name not in variables:
            continue
        var = variables[name]
        shape = graph.node(node_id).shape
        rank = len(shape)
        checks.append((f"{var}.dim() == {rank}",
                       f"{name}: must have shape {_shape_text(shape)} ({rank} dimensions)",
                       f"tuple({var}.shape)"))
        for axis, d in enumerate(shape):
            here = _Axis(name, var, axis)
            symbol = _bare_symbol(d)
            if isinstance(d, int):
                if axis == 1:  # channels (features of an [N, 784] input), not the batch or H, W
                    label = f"channels (axis {axis})" if rank >= 3 else f"axis {axis}"
                    checks.append((f"{here.source} == {int(d)}", f"{name}: {label} must be {int(d)}",
                                   here.source))
            elif d in seen:  # declared as an earlier axis is: the same size
                checks.append(_equal(seen[d], here, sy.to_str(d)))
            else:
                seen[d] = here
                if symbol is not None:
                    first[symbol] = here
                elif d.free_symbols() <= first.keys():
                    checks.append(_expression(here, d, first))
                else:
                    later.append((here, d))  # its symbols may be declared by a later input
    checks += [_expression(here, d, first) for here, d in later if d.free_symbols() <= first.keys()]
    assumptions = graph.inference_assumptions if graph.inference_assumptions is not None else graph.assumptions
    skipped: list[str] = []
    for cond in sorted(_conditions(assumptions), key=lambda c: c.text):
        if not set(cond.symbols) <= first.keys():
            skipped.append(cond.text)
            continue
        axes = [first[s] for s in cond.symbols]
        sources = {s: first[s].source for s in cond.symbols}
        checks.append((cond.source(sources), f"{_subjects(cond.symbols, axes)} must satisfy {cond.text}",
                       _received([a.source for a in axes])))
    if not checks:
        return InputChecks(skipped=skipped)
    body = []
    for condition, rule, got in checks:
        call = f"{CHECK_FUNCTION}({condition}, {str_literal(rule)}, {got})"
        body += [line[len(pysrc.INDENT) * depth:] for line in pysrc.statement("", call, depth + 1)]
    guard = f"if self.{FLAG} and not {TRACING_FUNCTION}({', '.join(variables[n] for n in graph.inputs if n in variables)}):"
    return InputChecks(class_lines=[CLASS_LINE], forward_lines=["\n".join([guard, *body])],
                       helpers=[HELPERS[TRACING_FUNCTION], HELPERS[CHECK_FUNCTION]],
                       checked=[rule for _, rule, _ in checks], skipped=skipped)


# ----------------------------------------------------------------------------- the constraints

def _conditions(a: sy.Assumptions) -> list[_Condition]:
    """Every constraint `a` holds, with the same text as `a.describe()` (which a test checks);
    the one place that reads Assumptions' internals (as archc.lower.export does)."""
    out = []
    for symbol, (modulus, residues) in a._allowed.items():
        if modulus > 1:
            text = (str(a.congruences[symbol]) if len(residues) == 1
                    else sy._format_residues(symbol, modulus, residues))
            out.append(_Condition(text, (symbol,), _residue_condition({((symbol, 1),): 1}, modulus, residues)))
    for symbol, bound in a.lower_bounds.items():
        out.append(_Condition(str(bound), (symbol,),
                              lambda src, s=symbol, v=bound.value: f"{src[s]} >= {int(v)}"))
    for fact in a._facts:
        out.append(_Condition(fact.text, tuple(sorted(fact.symbols)),
                              _residue_condition(fact.poly, fact.modulus, fact.residues)))
    return out


def _residue_condition(poly: dict, modulus: int, residues):
    """poly % modulus in residues, as a function of the symbols' sources."""
    def source(src: dict[str, str]) -> str:
        value = f"({_poly_source(poly, src)}) % {int(modulus)}"
        parts = []
        for lo, hi in _runs(sorted(residues)):
            parts.append(f"{value} == {lo}" if lo == hi else f"{lo} <= {value} <= {hi}")
        return " or ".join(parts)
    return source


def _runs(values: list[int]) -> list[tuple[int, int]]:
    runs: list[tuple[int, int]] = []
    for v in values:
        if runs and runs[-1][1] == v - 1:
            runs[-1] = (runs[-1][0], v)
        else:
            runs.append((v, v))
    return runs


def _poly_source(coeffs: dict, src: dict[str, str]) -> str:
    """The integer numerator of a polynomial (symbolic's representation: monomial -> int
    coefficient) as Python over the symbols' sources; floors become `//`. The text may carry
    redundant parentheses: pysrc prints it again with only the needed ones."""
    if not coeffs:
        return "0"
    text = ""
    for mono, c in sorted(coeffs.items(), key=lambda item: (-sum(e for _, e in item[0]), sy._mono_key(item[0]))):
        factors = [_atom_source(atom, src) + (f" ** {int(e)}" if e != 1 else "") for atom, e in mono]
        magnitude = abs(int(c))
        term = " * ".join(([str(magnitude)] if magnitude != 1 or not factors else []) + factors)
        if not text:
            text = f"-{term}" if c < 0 else term
        else:
            text += f" - {term}" if c < 0 else f" + {term}"
    return text


def _atom_source(atom, src: dict[str, str]) -> str:
    if isinstance(atom, str):
        return f"({src[atom]})"
    return f"(({_poly_source(atom.arg._coeffs, src)}) // {int(atom.k) * int(atom.arg._den)})"


def _expr_equal(axis_source: str, d: sy.Expr, src: dict[str, str]) -> str:
    """axis == d, d an Expr over the symbols of `src` (its value is numerator / den)."""
    numerator = _poly_source(d._coeffs, src)
    left = axis_source if d._den == 1 else f"{int(d._den)} * {axis_source}"
    return f"{left} == ({numerator})"


# ----------------------------------------------------------------------------- texts

def _bare_symbol(d) -> str | None:
    """The symbol `d` is exactly (H), else None (an int, 2*H, H + 1)."""
    if isinstance(d, sy.Expr):
        symbols = d.free_symbols()
        if len(symbols) == 1:
            (symbol,) = symbols
            if d == sy.sym(symbol):
                return symbol
    return None


def _shape_text(shape) -> str:
    return "[" + ", ".join(str(d) if isinstance(d, int) else sy.to_str(d) for d in shape) + "]"


def _locate(axis: _Axis, name: str) -> str:
    """`axis 2`, or `axis 2 of x` when the rule is stated for another input than `name`."""
    return f"axis {axis.axis}" if axis.name == name else f"axis {axis.axis} of {axis.name}"


def _equal(a: _Axis, b: _Axis, symbol: str) -> tuple[str, str, str]:
    if a.name == b.name:
        rule = f"{a.name}: axes {a.axis} and {b.axis} must be equal (both {symbol})"
    else:
        rule = f"{a.name}: axis {a.axis} and {b.name}: axis {b.axis} must be equal (both {symbol})"
    return f"{a.source} == {b.source}", rule, _received([a.source, b.source])


def _expression(here: _Axis, d: sy.Expr, first: dict[str, _Axis]) -> tuple[str, str, str]:
    """The axis `here`, declared as `d` (2*H), equals d at the sizes of the axes of its symbols."""
    where = ", ".join(f"{s}: {_locate(first[s], here.name)}" for s in sorted(d.free_symbols()))
    return (_expr_equal(here.source, d, {s: a.source for s, a in first.items()}),
            f"{here.name}: axis {here.axis} must be {sy.to_str(d)} ({where})", here.source)


def _subjects(symbols: tuple[str, ...], axes: list[_Axis]) -> str:
    """'x: H (axis 2)', 'x: H (axis 2), W (axis 3)', 'a: H (axis 2), b: W (axis 2)'."""
    parts, last = [], None
    for symbol, axis in zip(symbols, axes):
        prefix = f"{axis.name}: " if axis.name != last else ""
        parts.append(f"{prefix}{symbol} (axis {axis.axis})")
        last = axis.name
    return ", ".join(parts)


def _received(sources: list[str]) -> str:
    return sources[0] if len(sources) == 1 else "(" + ", ".join(sources) + ")"
