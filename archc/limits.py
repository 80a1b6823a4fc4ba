"""Resource limits a user may raise. Each stops a typo or a hostile spec (`repeat(10 ** 9, …)`,
a YAML alias bomb, a block that calls itself) with a clear error long before it could hang or
exhaust memory, and sits far above any real network. Each is read from its environment variable
when a spec is processed (`ARCHC_MAX_REPEAT=50000 archc check big.arch`); docs/errors.md lists
them under E-LIMIT-* (a value that is not a positive number is E-LIMIT-ENV).
"""
from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class Limit:
    env: str
    default: int | float
    what: str  # what it bounds, for messages and docs


LIMITS = {limit.env: limit for limit in (
    Limit("ARCHC_MAX_REPEAT", 10_000, "copies one repeat() makes"),
    # a real network has hundreds to a few thousand layers
    Limit("ARCHC_MAX_LAYERS", 100_000, "layers in a whole model"),
    # a block that uses itself, with a count that ends it: below where the deep thread's stack
    # (archc.deep) runs out at the default
    Limit("ARCHC_MAX_BLOCK_DEPTH", 1_000, "block instances nested in one another"),
    # values a YAML file expands to through its aliases (the "billion laughs" bomb)
    Limit("ARCHC_MAX_YAML_NODES", 200_000, "values a YAML spec expands to through its aliases"),
    # names and labels are tens of characters; doubling a string 33 times would make 64 GiB
    Limit("ARCHC_MAX_STRING", 1_000_000, "characters in one string a spec builds"),
    # a spec elaborates in well under a second; 100,000 layers in seconds
    Limit("ARCHC_MAX_EVAL_SECONDS", 60.0, "seconds spent evaluating one spec"),
)}


def limit(env: str) -> int | float:
    """The limit's value: its environment variable if set (a positive number), else the default."""
    from archc.errors import SpecError, SpecErrors
    spec = LIMITS[env]
    raw = os.environ.get(env, "").strip()
    if not raw:
        return spec.default
    kind = type(spec.default)
    try:
        value = kind(raw)
    except ValueError:
        value = 0
    if not value > 0 or value != value:
        default = f"{spec.default:g}" if isinstance(spec.default, float) else f"{spec.default:,}"
        raise SpecErrors([SpecError(
            f"environment variable {env}={raw!r} is not a positive {kind.__name__}", None,
            f"set it to a positive {'number' if kind is float else 'whole number'} (the limit on "
            f"{spec.what}), or unset it for the default of {default}", code="E-LIMIT-ENV")])
    return value
