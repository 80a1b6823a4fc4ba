"""Symbolic sizes: atoms (symbols, `Floor` terms), the polynomial arithmetic on them, the
canonical `Expr`, its printing and the public constructors (`sym`, `add`, `floordiv`, …)."""
from __future__ import annotations

from math import gcd, lcm

# Internally a polynomial is a pair (coeffs, den): coeffs maps a monomial to an int numerator and
# the value is sum(c * monomial) / den with den >= 1. A monomial is a tuple of (atom, exponent)
# pairs sorted by atom order; () is the constant monomial. Helpers never mutate their inputs.


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
    if type(a) is int and type(b) is int:  # the common case, before the general test
        return a + b
    if isinstance(a, int) and isinstance(b, int):
        return a + b
    return _make(*_add(_poly_of(a), _poly_of(b)))


def sub(a: Dim, b: Dim) -> Dim:
    if isinstance(a, int) and isinstance(b, int):
        return a - b
    return _make(*_add(_poly_of(a), _poly_of(b), -1))


def mul(a: Dim, b: Dim) -> Dim:
    if type(a) is int and type(b) is int:  # the common case, before the general tests
        return a * b
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
    """The product of sizes: the ints multiplied first, so that a shape with a symbolic batch
    ([N, 64, 56, 56]) scales a polynomial once, not at every axis."""
    result: Dim = 1
    symbolic = []
    for d in dims:
        if type(d) is int:
            result *= d
        else:
            symbolic.append(d)
    for d in symbolic:
        result = mul(result, d)
    return result


def is_int(d) -> bool:
    """True for a concrete size (an int, not a bool)."""
    return type(d) is int or (isinstance(d, int) and not isinstance(d, bool))


_INT_ONLY = frozenset({int})


def all_int(dims) -> bool:
    """True when every size of `dims` is a plain int (no symbolic size, no bool, no int
    subclass), tested at C speed: Python's own arithmetic then serves (sums, products in any
    order)."""
    return _INT_ONLY.issuperset(map(type, dims))


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

