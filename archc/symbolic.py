"""Exact symbolic integer sizes for static shape inference.

A dimension (`Dim`) is a plain `int` or an `Expr`: a polynomial with rational coefficients over
*atoms*, which are integer symbols (``"H"``) and floor terms ``floor(p/k)`` (`Floor`). Symbols
stand for integers, so every identity used below is one that holds for all integer values;
nothing is ever rounded silently.

Canonical forms make equal sizes compare equal: ``floor((H - 1)/2) + 1`` (1x1 conv, stride 2)
and ``floor((H + 2 - 3)/2) + 1`` (3x3 conv, stride 2, pad 1) are the same object, printed
``floor((H + 1)/2)``. Equality (`==`) is structural on the canonical form: it never claims two
different functions equal, but two equal functions written very differently may compare unequal.
`Assumptions.require_equal` decides such cases exactly (for one symbol) and records what the
input sizes must satisfy (``H % 16 == 0``, ``H >= 16``) for a network to be valid.

Only `math` is imported (no `fractions`, `dataclasses` or `typing`): this module is imported
whenever archc infers a shape, and must stay cheap to load. Rational coefficients are therefore
kept as integer numerators over one common positive denominator per expression.
"""
from __future__ import annotations

from math import gcd, lcm

__all__ = [
    "Dim", "Expr", "Floor", "Congruence", "LowerBound", "Assumptions",
    "sym", "add", "sub", "mul", "floordiv", "ceildiv", "exact_div", "prod", "is_int", "to_str",
]

# Internally a polynomial is a pair (coeffs, den): coeffs maps a monomial to an int numerator and
# the value is sum(c * monomial) / den with den >= 1. A monomial is a tuple of (atom, exponent)
# pairs sorted by atom order; () is the constant monomial. Helpers never mutate their inputs.

_MAX_PERIOD = 1 << 12    # largest period examined exactly by require_equal
_MAX_MODULUS = 1 << 16   # largest modulus a non-single-class residue set is enumerated at


# ----------------------------------------------------------------------------- atoms

def _atom_key(atom) -> tuple:
    """Total order on atoms: symbols (by name) before floor terms."""
    return (0, atom) if type(atom) is str else atom.sort_key()


def _mono_key(mono: tuple) -> tuple:
    return tuple((_atom_key(a), e) for a, e in mono)


def _mono_mul(m1: tuple, m2: tuple) -> tuple:
    if not m1:
        return m2
    if not m2:
        return m1
    powers = dict(m1)
    for atom, e in m2:
        powers[atom] = powers.get(atom, 0) + e
    return tuple(sorted(powers.items(), key=lambda item: _atom_key(item[0])))


class Floor:
    """The atom ``floor(arg/k)``: `arg` a canonical integer-coefficient `Expr`, `k >= 2`.

    Built only by `floordiv`'s canonicalisation (which guarantees 0 <= coefficients of `arg` < k
    and no common factor with k); exposed for inspection, do not construct directly.
    """

    __slots__ = ("arg", "k", "_hash", "_key", "_period")

    def __init__(self, arg: Expr, k: int):
        self.arg = arg
        self.k = k
        self._hash = hash((arg, k))
        self._key = None
        self._period = None

    def __eq__(self, other) -> bool:
        return self is other or (type(other) is Floor and self.k == other.k and self.arg == other.arg)

    def __hash__(self) -> int:
        return self._hash

    def sort_key(self) -> tuple:
        if self._key is None:
            self._key = (1, self.arg._sort_key(), self.k)
        return self._key

    def period(self) -> int:
        """P such that, on each class S ≡ r (mod P) of every symbol S, this floor is a polynomial:
        k times the period of the floors nested in the argument."""
        if self._period is None:
            self._period = self.k * _period(self.arg._coeffs)
        return self._period

    def __str__(self) -> str:
        text = str(self.arg)
        if len(self.arg._coeffs) > 1:
            text = f"({text})"
        return f"floor({text}/{self.k})"

    def __repr__(self) -> str:
        return f"Floor({self})"

    def __reduce__(self):
        # rebuild rather than restore: cached hashes of strings differ between processes
        return Floor, (self.arg, self.k)

    def __copy__(self):
        return self

    def __deepcopy__(self, memo):
        return self


def _period(coeffs: dict) -> int:
    period = 1
    for mono in coeffs:
        for atom, _ in mono:
            if type(atom) is not str:
                period = lcm(period, atom.period())
    return period


# ----------------------------------------------------------------------------- polynomials

def _norm(coeffs: dict, den: int) -> tuple[dict, int]:
    """Divide out the common factor of all numerators and the denominator."""
    if den != 1:
        g = gcd(den, *coeffs.values())
        if g > 1:
            return {m: c // g for m, c in coeffs.items()}, den // g
    return coeffs, den


def _add(p: tuple, q: tuple, sign: int = 1) -> tuple[dict, int]:
    """p + sign*q."""
    (pc, pd), (qc, qd) = p, q
    if pd == qd:
        den, fp, fq = pd, 1, sign
    else:
        den = lcm(pd, qd)
        fp, fq = den // pd, sign * (den // qd)
    out = {m: c * fp for m, c in pc.items()} if fp != 1 else dict(pc)
    for m, c in qc.items():
        v = out.get(m, 0) + c * fq
        if v:
            out[m] = v
        else:
            out.pop(m, None)
    return _norm(out, den)


def _mul(p: tuple, q: tuple) -> tuple[dict, int]:
    (pc, pd), (qc, qd) = p, q
    out: dict = {}
    for m1, c1 in pc.items():
        for m2, c2 in qc.items():
            m = _mono_mul(m1, m2)
            v = out.get(m, 0) + c1 * c2
            if v:
                out[m] = v
            else:
                out.pop(m, None)
    return _norm(out, pd * qd)


def _scale(p: tuple, n: int) -> tuple[dict, int]:
    if n == 0:
        return {}, 1
    return _norm({m: c * n for m, c in p[0].items()}, p[1])


def _const(value: int, den: int = 1) -> tuple[dict, int]:
    return ({(): value} if value else {}), den


def _has_floor(coeffs: dict) -> bool:
    return any(type(a) is not str for mono in coeffs for a, _ in mono)


def _symbols_of(coeffs: dict) -> set:
    names = set()
    for mono in coeffs:
        for atom, _ in mono:
            if type(atom) is str:
                names.add(atom)
            else:
                names |= atom.arg.free_symbols()
    return names


def _substitute(coeffs: dict, den: int, replace) -> tuple[dict, int]:
    """Replace atoms: `replace(atom)` returns a polynomial, or None to keep the atom.
    Returns the input pair itself when nothing was replaced."""
    reps = {}
    for mono in coeffs:
        for atom, _ in mono:
            if atom not in reps:
                reps[atom] = replace(atom)
    if all(r is None for r in reps.values()):
        return coeffs, den
    total: tuple = ({}, 1)
    for mono, c in coeffs.items():
        term: tuple = ({tuple((a, e) for a, e in mono if reps[a] is None): c}, 1)
        for atom, e in mono:
            rep = reps[atom]
            if rep is not None:
                for _ in range(e):
                    term = _mul(term, rep)
        total = _add(total, term)
    return _norm(total[0], total[1] * den)


def _eval_num(coeffs: dict, values: dict) -> int:
    """The integer numerator of the polynomial at concrete symbol values (KeyError if one is
    missing); the value itself is this divided by the polynomial's den."""
    total = 0
    for mono, c in coeffs.items():
        for atom, e in mono:
            if type(atom) is str:
                v = values[atom]
            else:  # a floor argument has integer coefficients, so its numerator is its value
                v = _eval_num(atom.arg._coeffs, values) // atom.k
            c *= v if e == 1 else v ** e
        total += c
    return total


def _floor_poly(coeffs: dict, den: int, k: int) -> dict:
    """Canonical integer-coefficient polynomial equal to floor((coeffs/den) / k), k >= 1."""
    # (P/den)/k and P/(den*k) are the same rational number for every value of the symbols, so
    # their floors agree: no integrality assumption on P/den is needed.
    k *= den
    if k == 1:
        return coeffs
    # Pull out integer multiples: with c = k*q + r (0 <= r < k), floor((sum c*m)/k) =
    # sum q*m + floor((sum r*m)/k), since sum q*m is an integer (atoms are integers).
    quotient, rem = {}, {}
    for mono, c in coeffs.items():
        q, r = divmod(c, k)
        if q:
            quotient[mono] = q
        if r:
            rem[mono] = r
    r0 = rem.pop((), 0)
    if not rem:
        return quotient  # floor(r0/k) = 0 as 0 <= r0 < k
    # Common factor g of the non-constant remainders and k: with X integer,
    # floor((g*X + r0)/(g*k')) = floor((X + r0/g)/k') = floor((X + floor(r0/g))/k').
    g = gcd(k, *rem.values())
    if g > 1:
        rem = {m: c // g for m, c in rem.items()}
        k //= g
        r0 //= g
    fold = _foldable_floor(rem)
    if fold is not None:
        # Nested floors: floor((floor(q/a) + S)/k) = floor((q/a + S)/k) = floor((q + a*S)/(a*k))
        # for integer-valued S, as floor((floor(x) + S)/k) = floor((x + S)/k) for integer S, k.
        mono, inner = fold
        del rem[mono]
        if r0:
            rem[()] = r0
        arg = _add((inner.arg._coeffs, 1), _scale((rem, 1), inner.k))
        floor_part = _floor_poly(arg[0], 1, inner.k * k)
    else:
        if r0:
            rem[()] = r0
        floor_part = {((Floor(_new_expr(rem, 1), k), 1),): 1}
    return _add((quotient, 1), (floor_part, 1))[0]


def _foldable_floor(rem: dict):
    """A floor atom appearing in `rem` only as the plain term 1*floor(q/a), if any (the least in
    atom order, so that the result does not depend on construction order)."""
    best = None
    for mono, c in rem.items():
        if c == 1 and len(mono) == 1 and mono[0][1] == 1 and type(mono[0][0]) is Floor:
            atom = mono[0][0]
            elsewhere = any(a == atom for m in rem if m is not mono for a, _ in m)
            if not elsewhere and (best is None or atom.sort_key() < best[1].sort_key()):
                best = (mono, atom)
    return best


# ----------------------------------------------------------------------------- Expr

class Expr:
    """A symbolic integer size: immutable, hashable, canonical; never a plain constant
    (constant results are returned as `int`). Build with `sym` and arithmetic."""

    __slots__ = ("_coeffs", "_den", "_hash", "_key", "_symbols", "_text")

    def __init__(self, *args, **kwargs):
        raise TypeError("build symbolic sizes with sym() and arithmetic, not Expr()")

    # -- queries

    def free_symbols(self) -> frozenset[str]:
        if self._symbols is None:
            self._symbols = frozenset(_symbols_of(self._coeffs))
        return self._symbols

    def subs(self, values: dict[str, Dim]) -> Dim:
        """Substitute some or all symbols (by ints, or by sizes); an int when fully constant.
        Raises ValueError if the result is a constant that is not an integer (e.g. H/2 at H=3)."""
        if self.free_symbols() <= values.keys():
            for v in values.values():
                if not isinstance(v, int):
                    break
            else:  # fast path: plain integer evaluation
                num = _eval_num(self._coeffs, values)
                if num % self._den:
                    raise ValueError(f"{self} is not an integer at {values}: {num}/{self._den}")
                return num // self._den
        polys = {name: _poly_of(v) for name, v in values.items()}
        return _make(*_subs_poly(self._coeffs, self._den, polys))

    # -- arithmetic

    def __add__(self, other):
        return add(self, other) if isinstance(other, (int, Expr)) else NotImplemented

    __radd__ = __add__

    def __sub__(self, other):
        return sub(self, other) if isinstance(other, (int, Expr)) else NotImplemented

    def __rsub__(self, other):
        return sub(other, self) if isinstance(other, int) else NotImplemented

    def __mul__(self, other):
        return mul(self, other) if isinstance(other, (int, Expr)) else NotImplemented

    __rmul__ = __mul__

    def __floordiv__(self, k):
        return floordiv(self, k) if isinstance(k, int) else NotImplemented

    def __neg__(self):
        return _new_expr({m: -c for m, c in self._coeffs.items()}, self._den)

    def __pos__(self):
        return self

    # -- identity

    def __eq__(self, other) -> bool:
        if type(other) is Expr:
            return self is other or (self._den == other._den and self._coeffs == other._coeffs)
        if isinstance(other, int):
            return False  # an Expr is never constant
        return NotImplemented

    def __hash__(self) -> int:
        if self._hash is None:
            self._hash = hash((tuple(self._coeffs.items()), self._den))
        return self._hash

    def _sort_key(self) -> tuple:
        if self._key is None:
            self._key = (tuple((_mono_key(m), c) for m, c in self._coeffs.items()), self._den)
        return self._key

    def __str__(self) -> str:
        if self._text is None:
            self._text = _format(self._coeffs, self._den)
        return self._text

    def __repr__(self) -> str:
        return f"Expr({str(self)!r})"

    def __reduce__(self):
        # rebuild rather than restore: cached hashes of strings differ between processes
        return _new_expr, (self._coeffs, self._den)

    def __copy__(self):
        return self

    def __deepcopy__(self, memo):
        return self


Dim = int | Expr


def _new_expr(coeffs: dict, den: int) -> Expr:
    """Wrap an already normalised, non-constant polynomial; sorts its terms canonically."""
    e = object.__new__(Expr)
    if len(coeffs) > 1:
        coeffs = dict(sorted(coeffs.items(), key=lambda item: _mono_key(item[0])))
    e._coeffs = coeffs
    e._den = den
    e._hash = e._key = e._symbols = e._text = None
    return e


def _make(coeffs: dict, den: int) -> Dim:
    """The Dim for a polynomial: an int when constant (ValueError if not an integer)."""
    coeffs, den = _norm(coeffs, den)
    if not coeffs:
        return 0
    if len(coeffs) == 1 and () in coeffs:
        if den != 1:
            raise ValueError(f"symbolic arithmetic gave the non-integer constant {coeffs[()]}/{den}")
        return coeffs[()]
    return _new_expr(coeffs, den)


def _poly_of(d) -> tuple[dict, int]:
    if type(d) is Expr:
        return d._coeffs, d._den
    if isinstance(d, int):
        return _const(int(d))
    raise TypeError(f"a size must be an int or a symbolic Expr, got {type(d).__name__} {d!r}")


def _subs_poly(coeffs: dict, den: int, polys: dict) -> tuple[dict, int]:
    def replace(atom):
        if type(atom) is str:
            return polys.get(atom)
        arg = atom.arg._coeffs
        new = _subs_poly(arg, 1, polys)
        return None if new[0] is arg else (_floor_poly(new[0], new[1], atom.k), 1)
    return _substitute(coeffs, den, replace)


# ----------------------------------------------------------------------------- printing

def _format(coeffs: dict, den: int) -> str:
    """'2*H - 1', 'C*H*W', '(H + 1)/2', '-H/2', 'H - 2*floor(H/2)': higher degree first,
    constant last, rational coefficients over their common denominator."""
    items = sorted(coeffs.items(), key=lambda item: (-sum(e for _, e in item[0]), _mono_key(item[0])))
    parts = []
    for i, (mono, c) in enumerate(items):
        body = "*".join(str(a) if e == 1 else f"{a}**{e}" for a, e in mono)
        mag = abs(c)
        text = str(mag) if not body else body if mag == 1 else f"{mag}*{body}"
        if i == 0:
            parts.append("-" + text if c < 0 else text)
        else:
            parts.append((" - " if c < 0 else " + ") + text)
    text = "".join(parts)
    if den == 1:
        return text
    return f"({text})/{den}" if len(items) > 1 else f"{text}/{den}"


# ----------------------------------------------------------------------------- public functions

def sym(name: str) -> Expr:
    """The integer symbol `name` (an identifier such as 'H' or 'seq_len')."""
    if not isinstance(name, str) or not name.isidentifier():
        raise ValueError(f"a symbol name must be an identifier, got {name!r}")
    return _new_expr({((name, 1),): 1}, 1)


def add(a: Dim, b: Dim) -> Dim:
    if isinstance(a, int) and isinstance(b, int):
        return a + b
    return _make(*_add(_poly_of(a), _poly_of(b)))


def sub(a: Dim, b: Dim) -> Dim:
    if isinstance(a, int) and isinstance(b, int):
        return a - b
    return _make(*_add(_poly_of(a), _poly_of(b), -1))


def mul(a: Dim, b: Dim) -> Dim:
    if isinstance(a, int):
        if isinstance(b, int):
            return a * b
        return _make(*_scale(_poly_of(b), a))
    if isinstance(b, int):
        return _make(*_scale(_poly_of(a), b))
    return _make(*_mul(_poly_of(a), _poly_of(b)))


def _divisor(k) -> int:
    if not isinstance(k, int) or isinstance(k, bool):
        raise TypeError(f"a divisor must be an int, got {type(k).__name__} {k!r}")
    if k <= 0:
        raise ValueError(f"a divisor must be positive, got {k}")
    return k


def floordiv(a: Dim, k: int) -> Dim:
    """floor(a / k) exactly, for a positive int k."""
    if isinstance(a, int) and isinstance(k, int) and k > 0:
        return a // k
    k = _divisor(k)
    coeffs, den = _poly_of(a)
    return _make(_floor_poly(coeffs, den, k), 1)


def ceildiv(a: Dim, k: int) -> Dim:
    """ceil(a / k) exactly, for a positive int k: floordiv(a + k - 1, k) for integer a."""
    if isinstance(a, int) and isinstance(k, int) and k > 0:
        return -(-a // k)
    k = _divisor(k)
    coeffs, den = _poly_of(a)
    # a = P/den with P integer-valued: ceil(P/(den*k)) = floor((P + den*k - 1)/(den*k))
    n = den * k
    return _make(_floor_poly(_add((coeffs, 1), _const(n - 1))[0], 1, n), 1)


def exact_div(a: Dim, k: int) -> Dim:
    """a / k where the caller knows it is an integer. For an int, ValueError if k does not divide
    it; for an Expr, the rational-coefficient result (e.g. 'H/2', meant under H % 2 == 0)."""
    if not isinstance(k, int) or isinstance(k, bool):
        raise TypeError(f"a divisor must be an int, got {type(k).__name__} {k!r}")
    if k == 0:
        raise ValueError("exact_div by zero")
    if isinstance(a, int):
        q, r = divmod(a, k)
        if r:
            raise ValueError(f"{a} is not divisible by {k}")
        return q
    coeffs, den = _poly_of(a)
    if k < 0:
        coeffs, k = {m: -c for m, c in coeffs.items()}, -k
    return _make(coeffs, den * k)


def prod(dims) -> Dim:
    result: Dim = 1
    for d in dims:
        result = mul(result, d)
    return result


def is_int(d) -> bool:
    """True for a concrete size (an int, not a bool)."""
    return type(d) is int or (isinstance(d, int) and not isinstance(d, bool))


def to_str(d: Dim) -> str:
    return str(d)


def leading_terms(d: Dim) -> list[tuple[float, tuple[tuple[str, int], ...]]]:
    """How a size grows for large symbol values, for display: the terms of highest total degree
    once every floor(p/k) is read as p/k, as (coefficient, ((symbol, exponent), …)) pairs in
    canonical order. E.g. 9408*floor((H + 1)/2)*floor((W + 1)/2) (a 7×7 stride-2 convolution's
    MACs) leads with [(2352.0, (("H", 1), ("W", 1)))]. An int is its own single term. Not exact:
    evaluate with `Expr.subs` for exact values."""
    if type(d) is not Expr:
        return [(float(d), ())]

    def relax(coeffs: dict, den: int) -> tuple:
        def replace(atom):
            if type(atom) is str:
                return None
            p = relax(atom.arg._coeffs, 1)
            return _norm(p[0], p[1] * atom.k)
        return _substitute(coeffs, den, replace)

    coeffs, den = relax(d._coeffs, d._den)
    if not coeffs:
        return [(0.0, ())]
    top = max(sum(e for _, e in mono) for mono in coeffs)
    lead = [(mono, c) for mono, c in coeffs.items() if sum(e for _, e in mono) == top]
    lead.sort(key=lambda item: _mono_key(item[0]))
    return [(c / den, mono) for mono, c in lead]


# ----------------------------------------------------------------------------- constraints

class _Frozen:
    """Minimal frozen record (dataclasses costs ~10 ms to import): eq, hash, repr from fields."""

    __slots__ = ()
    _fields: tuple = ()

    def __setattr__(self, name, value):
        raise AttributeError(f"{type(self).__name__} is immutable")

    def _values(self) -> tuple:
        return tuple(getattr(self, f) for f in self._fields)

    def __eq__(self, other):
        if type(other) is not type(self):
            return NotImplemented
        return self._values() == other._values()

    def __hash__(self):
        return hash((type(self).__name__, self._values()))

    def __repr__(self):
        fields = ", ".join(f"{f}={getattr(self, f)!r}" for f in self._fields)
        return f"{type(self).__name__}({fields})"

    def __reduce__(self):  # for pickle and copy, which would otherwise set attributes
        return type(self), self._values()


class Congruence(_Frozen):
    """symbol ≡ residue (mod modulus); the residue is stored reduced to 0 <= residue < modulus."""

    __slots__ = ("symbol", "modulus", "residue")
    _fields = __slots__

    def __init__(self, symbol: str, modulus: int, residue: int):
        if type(modulus) is not int or modulus < 1:
            raise ValueError(f"a modulus must be a positive int, got {modulus!r}")
        object.__setattr__(self, "symbol", symbol)
        object.__setattr__(self, "modulus", modulus)
        object.__setattr__(self, "residue", residue % modulus)

    def holds(self, value: int) -> bool:
        return value % self.modulus == self.residue

    def __str__(self):
        return f"{self.symbol} % {self.modulus} == {self.residue}"


class LowerBound(_Frozen):
    """symbol >= value."""

    __slots__ = ("symbol", "value")
    _fields = __slots__

    def __init__(self, symbol: str, value: int):
        object.__setattr__(self, "symbol", symbol)
        object.__setattr__(self, "value", value)

    def holds(self, value: int) -> bool:
        return value >= self.value

    def __str__(self):
        return f"{self.symbol} >= {self.value}"


class _Fact:
    """A condition kept as text, checkable on concrete values: 'P % n == 0' for an integer
    polynomial P (e.g. '(H + W) % 2 == 0'), or 'S % n in {...}' for a residue set."""

    __slots__ = ("text", "symbols", "poly", "modulus", "residues")

    def __init__(self, text: str, symbols: frozenset, poly: dict, modulus: int, residues: frozenset):
        self.text, self.symbols = text, symbols
        self.poly, self.modulus, self.residues = poly, modulus, residues

    def check(self, values: dict) -> bool:
        return _eval_num(self.poly, values) % self.modulus in self.residues


def _crt(r1: int, m1: int, r2: int, m2: int):
    """x ≡ r1 (mod m1) and x ≡ r2 (mod m2) as (r, lcm), or None if incompatible."""
    g = gcd(m1, m2)
    if (r2 - r1) % g:
        return None
    n = m2 // g
    t = (r2 - r1) // g * pow(m1 // g, -1, n) % n if n > 1 else 0
    m = m1 // g * m2
    return (r1 + m1 * t) % m, m


def _divisors(n: int) -> list[int]:
    small, large = [], []
    i = 1
    while i * i <= n:
        if n % i == 0:
            small.append(i)
            if i * i != n:
                large.append(n // i)
        i += 1
    return small + large[::-1]


def _minimize(modulus: int, residues) -> tuple[int, frozenset]:
    """The same set of integers described with the smallest modulus."""
    residues = frozenset(residues)
    for d in _divisors(modulus):
        reduced = {r % d for r in residues}
        # residues lie in the preimage of `reduced`, which has len(reduced)*modulus/d elements
        if len(reduced) * (modulus // d) == len(residues):
            return d, frozenset(reduced)
    return modulus, residues


def _format_residues(symbol: str, modulus: int, residues) -> str:
    rs = sorted(residues)
    if len(rs) == 1:
        return f"{symbol} % {modulus} == {rs[0]}"
    runs, start = [], 0
    for i in range(1, len(rs) + 1):
        if i == len(rs) or rs[i] != rs[i - 1] + 1:
            a, b = rs[start], rs[i - 1]
            runs.append(f"{a}..{b}" if b - a >= 2 else ", ".join(map(str, rs[start:i])))
            start = i
    return f"{symbol} % {modulus} in {{{', '.join(runs)}}}"


def _paren(coeffs: dict) -> str:
    text = _format(coeffs, 1)
    return f"({text})" if len(coeffs) > 1 else text


class Assumptions:
    """What symbolic inputs must satisfy, accumulated while shapes are inferred.

    Per symbol, the allowed residues modulo some modulus (a `Congruence` when they form a single
    class) and a `LowerBound`; conditions tying several symbols together are kept as text in
    `other`. Methods that add facts are all-or-nothing: a False answer records nothing.
    """

    def __init__(self):
        self.congruences: dict[str, Congruence] = {}
        self.lower_bounds: dict[str, LowerBound] = {}
        self._allowed: dict[str, tuple[int, frozenset]] = {}  # symbol -> (modulus, residues)
        self._minimum: dict[str, int] = {}                    # raw bounds from require_positive
        self._facts: list[_Fact] = []
        self.revision = 0  # counts the changes: whether anything was recorded since a look

    # -- queries

    @property
    def other(self) -> list[str]:
        """Conditions that are not a single congruence or bound, as text."""
        lines = [_format_residues(s, m, rs) for s, (m, rs) in self._allowed.items() if len(rs) > 1]
        return lines + [f.text for f in self._facts]

    def describe(self) -> list[str]:
        """Sorted human-readable lines, e.g. ['H % 16 == 0', 'H >= 16', 'W % 16 == 0']."""
        lines = [str(c) for c in self.congruences.values()]
        lines += [str(b) for b in self.lower_bounds.values()]
        return sorted(lines + self.other)

    def satisfied_by(self, values: dict[str, int]) -> bool:
        """Do these concrete sizes meet every constraint? (Constraints on symbols missing from
        `values` are not checked.)"""
        for s, (m, rs) in self._allowed.items():
            if s in values and values[s] % m not in rs:
                return False
        for s, bound in self.lower_bounds.items():
            if s in values and values[s] < bound.value:
                return False
        return all(f.check(values) for f in self._facts if f.symbols <= values.keys())

    def example(self, symbol: str, near: int) -> int:
        """The smallest value >= near meeting the constraints on `symbol` alone."""
        v = self._first_allowed(symbol, max(near, self._minimum.get(symbol, near)))
        own = [f for f in self._facts if f.symbols == {symbol}]
        for _ in range(1 << 16):
            if all(f.check({symbol: v}) for f in own):
                return v
            v = self._first_allowed(symbol, v + 1)
        raise ValueError(f"no value of {symbol} near {near} meets {self.describe()}")

    def simplify(self, d: Dim) -> Dim:
        """Rewrite floor terms that the congruences make exact: under H % 16 == 0, floor(H/4)
        becomes H/4, and floor((H + 1)/2) becomes H/2 (its argument is ≡ 1 mod 2)."""
        if isinstance(d, int):
            return d
        classes = self._classes()
        if not classes:  # nothing to rewrite (most models): the same expression, not a copy
            return d
        return _make(*_simplify_poly(d._coeffs, d._den, classes))

    # -- recording

    def require_equal(self, a: Dim, b: Dim) -> bool:
        """True if a == b holds, after recording what the symbols must satisfy for it; False if
        it cannot hold (H vs H + 1, 3 vs 4, floor(H/2) vs H/2 + 1, or conflicting congruences)."""
        if type(a) is int and type(b) is int:
            return a == b
        if a == b:
            return True
        diff = _simplify_poly(*_add(_poly_of(a), _poly_of(b), -1), self._classes())
        if not diff[0]:
            return True
        if not _has_floor(diff[0]):
            # a non-zero polynomial cannot vanish on a whole residue class, so only isolated
            # values could make them equal: not a size constraint we can express
            return False
        allowed, facts = dict(self._allowed), list(self._facts)
        symbols = _symbols_of(diff[0])
        if len(symbols) == 1:
            (symbol,) = symbols
            # Exact answer: for S ≡ r (mod period) every floor is a polynomial, so equality holds
            # on a class iff the difference vanishes identically there.
            found = _agreeing_residues(diff, symbol, *allowed.get(symbol, (1, frozenset({0}))))
            if found is not None:
                period, candidates, good = found
                if not good:
                    return False
                if len(good) == len(candidates):
                    return True
                modulus, residues = _minimize(period, good)
                if len(residues) > 1:
                    # Several classes (2*floor(H/16) == floor(H/8) iff H % 16 < 8): prefer the
                    # divisibility assumption that makes every floor exact, a single congruence
                    # that implies the exact condition, when there is one.
                    relaxed_allowed, relaxed_facts = dict(allowed), list(facts)
                    needed = _relaxation_facts(diff)
                    if (needed is not None and _apply_facts(needed, relaxed_allowed, relaxed_facts)
                            and len(relaxed_facts) == len(facts)):
                        return self._commit(relaxed_allowed, relaxed_facts)
                allowed[symbol] = (modulus, residues)
                return self._commit(allowed, facts)
        # Several symbols (or no exact period): assume every floor argument divisible.
        needed = _relaxation_facts(diff)
        if needed is None or not _apply_facts(needed, allowed, facts):
            return False
        return self._commit(allowed, facts)

    def require_positive(self, d: Dim) -> bool:
        """d >= 1 must hold (an output size). For an Expr in one symbol that is non-decreasing in
        it, records the least size of the symbol that makes d >= 1 (a LowerBound, when above 1);
        False if no size up to 2**40 does. An Expr in one symbol that is not non-decreasing
        (5 - H, H - 2*floor(H/2)) is accepted, recording nothing, only if d >= 1 at every probed
        size the assumptions allow (1 … 64 and powers of 2 up to 2**40), else False: an upper
        bound cannot be recorded. Several symbols: True, nothing recorded."""
        if isinstance(d, int):
            return d >= 1
        symbols = d.free_symbols()
        if len(symbols) != 1:
            return True
        (symbol,) = symbols
        coeffs, den = d._coeffs, d._den

        def numerator(v: int) -> int:
            return _eval_num(coeffs, {symbol: v})

        probes = [*range(1, 65), *(1 << e for e in range(7, 41))]
        values = [numerator(v) for v in probes]
        if any(later < earlier for earlier, later in zip(values, values[1:])):
            # Not non-decreasing, so d >= 1 is no lower bound (e.g. a crop's 2 - H needs H <= 1,
            # and upper bounds cannot be recorded): accept only if it holds at every probed size
            # the assumptions allow.
            minimum = self._minimum.get(symbol, 1)
            modulus, residues = self._allowed.get(symbol, (1, None))
            return all(v >= den for size, v in zip(probes, values)
                       if size >= minimum and (residues is None or size % modulus in residues))
        if values[-1] < den:
            return False
        first = next(i for i, v in enumerate(values) if v >= den)  # d >= 1 <=> numerator >= den
        if first == 0:
            return True
        lo, hi = probes[first - 1], probes[first]
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if numerator(mid) >= den:
                hi = mid
            else:
                lo = mid
        self._minimum[symbol] = max(self._minimum.get(symbol, 1), hi)
        self._sync()
        return True

    # -- internals

    def _classes(self) -> dict[str, tuple[int, int]]:
        """Symbols confined to a single residue class: symbol -> (modulus, residue)."""
        return {s: (m, next(iter(rs))) for s, (m, rs) in self._allowed.items() if len(rs) == 1}

    def _first_allowed(self, symbol: str, start: int) -> int:
        modulus, residues = self._allowed.get(symbol, (1, None))
        if modulus == 1:
            return start
        return next(v for v in range(start, start + modulus) if v % modulus in residues)

    def _commit(self, allowed: dict, facts: list) -> bool:
        self._allowed = allowed
        self._facts = facts
        self._sync()
        return True

    def _sync(self) -> None:
        """Rebuild the public congruences and (class-tightened) lower bounds."""
        self.revision += 1
        self.congruences.clear()
        for s, (m, rs) in self._allowed.items():
            if len(rs) == 1:
                self.congruences[s] = Congruence(s, m, next(iter(rs)))
        self.lower_bounds.clear()
        for s, v in self._minimum.items():
            self.lower_bounds[s] = LowerBound(s, self._first_allowed(s, v))

    def __repr__(self) -> str:
        return f"Assumptions({self.describe()})"


def _simplify_poly(coeffs: dict, den: int, classes: dict) -> tuple[dict, int]:
    """Rewrite floor atoms that are exact when each symbol S in `classes` is ≡ r (mod m)."""
    if not classes:
        return coeffs, den

    def replace(atom):
        return None if type(atom) is str else _simplify_floor(atom, classes)
    return _substitute(coeffs, den, replace)


def _simplify_floor(atom: Floor, classes: dict):
    arg = atom.arg._coeffs
    inner = _simplify_poly(arg, 1, classes)
    # With S = m*S' + r, if every non-constant coefficient of inner/k is an integer (the
    # remaining atoms, S' and any floors, being integers), then inner/k = integer + c0/k for the
    # constant c0, so floor(inner/k) = (inner - (c0 mod k))/k.
    shifted_c, shifted_d = _substitute(*inner, lambda a: _shift(a, classes))
    n = shifted_d * atom.k
    if all(c % n == 0 for m, c in shifted_c.items() if m):
        rho = shifted_c.get((), 0) % n  # (c0 mod k) = rho/shifted_d
        exact = _add(inner, _const(rho, shifted_d), -1)
        return _norm(exact[0], exact[1] * atom.k)
    if inner[0] is arg:
        return None
    return _floor_poly(*inner, atom.k), 1


def _shift(atom, classes: dict):
    if type(atom) is str and atom in classes:
        m, r = classes[atom]
        return {((atom, 1),): m, **({(): r} if r else {})}, 1
    return None


def _agreeing_residues(diff: tuple, symbol: str, modulus: int, residues):
    """(period, candidate residues, residues where diff vanishes) for the one symbol of diff,
    candidates being those allowed by (modulus, residues); None if not decidable this way."""
    period = lcm(_period(diff[0]), modulus)
    if period > _MAX_PERIOD:
        return None
    candidates = [r for r in range(period) if r % modulus in residues]
    good = []
    for r in candidates:
        coeffs, _ = _simplify_poly(*diff, {symbol: (period, r)})
        if _has_floor(coeffs):
            return None
        if not coeffs:  # a polynomial vanishing on a whole class is zero
            good.append(r)
    return period, candidates, good


def _relaxation_facts(diff: tuple):
    """Replace every floor(p/k) by p/k (innermost first). If the difference then vanishes,
    return the facts [(p, k)] ('p/k is an integer') that make it so; else None."""
    facts: list = []

    def relax(coeffs: dict, den: int) -> tuple:
        def replace(atom):
            if type(atom) is str:
                return None
            p = relax(atom.arg._coeffs, 1)
            facts.append((p, atom.k))
            return _norm(p[0], p[1] * atom.k)
        return _substitute(coeffs, den, replace)

    return facts if not relax(*diff)[0] else None


def _apply_facts(needed: list, allowed: dict, facts: list) -> bool:
    """Add the facts 'p/k is an integer' to (allowed, facts), in place; False if impossible."""
    for (pc, pd), k in needed:
        # p/k = pc/(pd*k) is an integer iff pc ≡ 0 (mod pd*k)
        coeffs, n = _norm(pc, pd * k)
        if n == 1:
            continue
        symbols = _symbols_of(coeffs)
        if not symbols:
            return False  # a non-zero constant not divisible by n
        affine = len(symbols) == 1 and all(len(m) == 0 or (len(m) == 1 and m[0][1] == 1) for m in coeffs)
        if affine:
            (symbol,) = symbols
            c, d = coeffs.get(((symbol, 1),), 0), coeffs.get((), 0)
            # c*S + d ≡ 0 (mod n)  <=>  S ≡ -d/g * (c/g)^-1 (mod n/g), g = gcd(c, n) dividing d
            g = gcd(c, n)
            if d % g:
                return False
            m = n // g
            if m > 1 and not _constrain(allowed, facts, symbol, m, {-d // g * pow(c // g, -1, m) % m}):
                return False
            continue
        classes = {s: (m, next(iter(rs))) for s, (m, rs) in allowed.items() if len(rs) == 1}
        shifted = _substitute(coeffs, 1, lambda a: _shift(a, classes))[0]
        if all(c % n == 0 for c in shifted.values()):
            continue  # already implied by the congruences
        text = f"{_paren(coeffs)} % {n} == 0"
        if all(f.text != text for f in facts):
            facts.append(_Fact(text, frozenset(symbols), coeffs, n, frozenset({0})))
    return True


def _constrain(allowed: dict, facts: list, symbol: str, modulus: int, residues) -> bool:
    """Intersect the allowed residues of `symbol` with (modulus, residues); False if empty."""
    m1, r1 = allowed.get(symbol, (1, frozenset({0})))
    if len(r1) == 1 and len(residues) == 1:
        merged = _crt(next(iter(r1)), m1, next(iter(residues)), modulus)
        if merged is None:
            return False
        allowed[symbol] = (merged[1], frozenset({merged[0]}))
        return True
    m = lcm(m1, modulus)
    if m > _MAX_MODULUS:  # too large to enumerate: keep as a separate checked condition
        text = _format_residues(symbol, modulus, residues)
        facts.append(_Fact(text, frozenset({symbol}), {((symbol, 1),): 1}, modulus, frozenset(residues)))
        return True
    both = [x for x in range(m) if x % m1 in r1 and x % modulus in residues]
    if not both:
        return False
    allowed[symbol] = _minimize(m, both)
    if allowed[symbol][0] == 1:
        del allowed[symbol]  # every integer
    return True
