"""A run of tokens parsed once, replayed after as straight-line Python (the engine's fast path).

An LALR(1) parser's actions depend on nothing but its state stack and the types of the tokens
it reads: from the same stack, the same token types shift and reduce the same way, whatever the
tokens' texts. `engine.Engine` cuts the token stream after each statement-ending newline (a
*segment*: one statement of a flat spec, one line of a block); a segment whose stack and types it
has met often enough is compiled here, by running the tables on the types alone, into a Python
function that makes the same builder calls, with the same children and places, in the same
order, as the engine's loop would, then leaves the value and place stacks as the loop would:

    def replay(b, t, values, spans):
        t0, t1, t2, t3, t4, t5 = t              # NAME = NAME -> NAME _NL
        v0 = f0(b, t2, [Tok(t2)])               # name
        v1 = f1(b, t4, [Tok(t4)])               # target
        m2 = (t2[0], t2[1], t4[2], t4[3])
        v2 = f2(b, m2, [v0, v1])                # pipe
        ...
        values.append(v3); spans.append(m3)

What the loop spends a statement on, looking up actions, pushing and popping states, following
chains of one-child rules, is done once per kind of statement instead. A segment that the tables
refuse (a syntax error) is never compiled: the loop meets it, and stops there as before.
tests/frontend/test_parse_speed.py compares replayed and looped parses.

The reduction semantics shared with the loop (lark's child filtering and places) live here too.
"""
from __future__ import annotations

from operator import itemgetter
from typing import Any, Callable

# the kinds of reduction
CALL, EXPAND1, SPLICE, PASS = range(4)
ONE_TOKEN = ((0, 1),)  # the children plan of a rule of one kept token


class Tok(tuple):
    """A token the builder keeps (a name, a number, an operator): lark Token's attributes."""
    __slots__ = ()
    line = property(itemgetter(0))
    column = property(itemgetter(1))
    end_line = property(itemgetter(2))
    end_column = property(itemgetter(3))
    type = property(itemgetter(4))
    value = property(itemgetter(5))


# A reduced rule's place, lark's `propagate_positions` meta, is a tuple whose first four items
# are (line, column, end_line, end_column): its first child's start and its last child's end (a
# token's own tuple for a rule of one token); None for a rule that matched nothing.

def filtered(children: list, plan: tuple) -> list:
    """The children a rule's builder gets: `plan` lists (child index, 0 value / 1 token / 2 a
    `_rule`'s list to splice in)."""
    out: list = []
    for i, how in plan:
        child = children[i]
        if how == 0:
            out.append(child)
        elif how == 1:
            out.append(Tok(child))
        elif out:
            out += child
        else:  # a left-recursive list: take it over, so building it stays linear
            out = child
    return out


def place(places: list) -> tuple | None:
    present = [p for p in places if p is not None]
    if not present:
        return None
    return (present[0][0], present[0][1], present[-1][2], present[-1][3])


class _Entry:
    """A stack entry while compiling: Python expressions for its value and place, and whether
    the place is known to be a tuple (a token or a rule that matched something), None, or either."""
    __slots__ = ("value", "place", "known")

    def __init__(self, value: str, place: str, known: str) -> None:
        self.value, self.place, self.known = value, place, known  # known: "tuple" "none" "either"


def compile_segment(tables: Any, stack: tuple[int, ...], types: tuple[str, ...]
                    ) -> tuple[Callable[..., None], tuple[int, ...]] | None:
    """The replay function of `types` read from state stack `stack`, and the stack it leaves;
    None where the tables refuse the tokens (`tables`: the engine's actions, passes, gotos,
    rules and chain)."""
    actions, passes, gotos, rules = tables.actions, tables.passes, tables.gotos, tables.rules
    states = list(stack)
    entries: list[_Entry | None] = [None] * (len(stack) - 1)  # the values below: read if popped
    below = 0  # how many values from below the segment its reductions take
    lines: list[str] = []
    scope: dict[str, Any] = {"Tok": Tok, "filtered": filtered, "place": place}
    names = iter(range(1 << 30))

    def pop(count: int) -> list[_Entry]:
        nonlocal below
        taken = entries[len(entries) - count:]
        del entries[len(entries) - count:]
        for k, entry in enumerate(taken):
            if entry is None:  # a value from below the segment
                depth = len(entries) + k  # its index in the stacks
                below = max(below, len(stack) - 1 - depth)
                n = next(names)
                lines.append(f"b{n} = values[{depth - (len(stack) - 1)}]; p{n} = spans[{depth - (len(stack) - 1)}]")
                taken[k] = _Entry(f"b{n}", f"p{n}", "tuple" if stack[depth + 1] in tables.placed_states else "either")
        return taken

    for i, kind in enumerate(types):
        state = states[-1]
        while True:
            code = actions[state].get(kind)
            if code is None:
                if kind not in passes[state] or len(states) < 2:
                    return None
                state = states[-1] = tables._chain(states[-2], state, kind)
                continue
            if code >= 0:  # shift
                state = code
                states.append(state)
                entries.append(_Entry(f"t{i}", f"t{i}", "tuple"))
                break
            name, size, how, plan, function, append_at = rules[~code]
            taken = pop(size)
            del states[len(states) - size:]
            n = next(names)
            if size == 1:
                meta, known = taken[0].place, taken[0].known
                children: list[str] | None = [f"Tok({taken[0].value})" if plan is ONE_TOKEN else taken[0].value]
                if plan is ONE_TOKEN:
                    plan = None
            elif size:
                first, last = taken[0], taken[-1]
                if first.known == "tuple" and last.known == "tuple":
                    lines.append(f"m{n} = ({first.place}[0], {first.place}[1], {last.place}[2], {last.place}[3])")
                    known = "tuple"
                else:
                    lines.append(f"m{n} = place([{', '.join(e.place for e in taken)}])")
                    known = "none" if all(e.known == "none" for e in taken) else "either"
                meta = f"m{n}"
                children = [e.value for e in taken]
                if append_at:  # the list grows by its item, in place
                    lines.append(f"{children[0]}.append({children[append_at]})")
                    children = None
                    listed = taken[0].value
            else:
                children, meta, known = [], "None", "none"
            if plan is not None and children is not None:
                if any(how_ == 2 for _, how_ in plan):
                    scope[f"plan{n}"] = plan
                    lines.append(f"c{n} = filtered([{', '.join(children)}], plan{n})")
                    children, listed = None, f"c{n}"
                else:
                    children = [children[j] if how_ == 0 else f"Tok({children[j]})" for j, how_ in plan]
            if how == SPLICE:
                if children is not None:
                    lines.append(f"v{n} = [{', '.join(children)}]")
                    value = f"v{n}"
                else:
                    value = listed
            else:
                scope[f"f{n}"] = function
                if children is None:  # a list known only when it runs
                    call = f"f{n}(b, {meta}, {listed})"
                    lines.append(f"v{n} = {call}" if how == CALL else
                                 f"v{n} = {call} if len({listed}) != 1 else {listed}[0]")
                elif how == CALL or len(children) != 1:
                    lines.append(f"v{n} = f{n}(b, {meta}, [{', '.join(children)}])")
                else:  # a `?rule` of one child gives the child back
                    lines.append(f"v{n} = {children[0]}")
                value = f"v{n}"
            state = gotos[states[-1]][name]
            states.append(state)
            entries.append(_Entry(value, meta, known))
    pushed = entries[len(stack) - 1 - below:]
    if None in pushed:  # cannot be: what is above the deepest value taken was taken too
        return None
    body = [f"t{i}" for i in range(len(types))]
    source = ["def replay(b, t, values, spans):", f"    {', '.join(body)}, = t"]
    source += [f"    {line}" for line in lines]
    if below:
        source.append(f"    del values[-{below}:], spans[-{below}:]")
    if pushed:
        source.append(f"    values += ({''.join(e.value + ', ' for e in pushed)})")
        source.append(f"    spans += ({''.join(e.place + ', ' for e in pushed)})")
    exec("\n".join(source) + "\n", scope)  # noqa: S102 - generated from the parse tables
    return scope["replay"], tuple(states)
