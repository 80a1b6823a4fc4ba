"""Assumptions on symbolic input sizes: per symbol, the residues it may take and a lower bound
(`Congruence`, `LowerBound`), facts over several symbols, exact equality decisions
(`Assumptions.require_equal`) and simplification under what is known."""
from __future__ import annotations

from math import gcd, lcm

from archc.symbolic.expr import (Dim, Floor, _add, _const, _eval_num, _floor_poly, _format, _has_floor,
                                 _make, _norm, _period, _poly_of, _substitute, _symbols_of)

_MAX_PERIOD = 1 << 12    # largest period examined exactly by require_equal
_MAX_MODULUS = 1 << 16   # largest modulus a non-single-class residue set is enumerated at


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

    def rewrites_sizes(self) -> bool:
        """Whether `simplify` can change any size (some congruence is recorded)."""
        return bool(self._classes())

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
