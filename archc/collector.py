"""Python's cycle collector, paused while archc builds big acyclic structures.

Parsing, elaboration, the analyses and every back end make millions of small objects that stay
alive until the stage ends (parse trees, the AST, the graph, a diagram's tables, generated
source lines) and are freed by reference counting. Each full collection would walk all of them
again, so the collections of one stage grow with its size times the number of collections: at
100,000 layers they were a third of `draw`'s time and made it grow as layers^1.2
(benchmarks/README.md). `paused()` works as a `with` block and as a decorator; nested uses
leave the collector as the outermost found it.
"""
from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def paused() -> Iterator[None]:
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


@contextmanager
def kept(freeze: bool) -> Iterator[None]:
    """For the command line: the collector paused, and (`freeze`: archc owns the process, a
    short-lived one) what the block made frozen (`gc.freeze`) before it runs again. Otherwise the
    first allocation after the block starts a collection of its youngest generation, which holds
    everything made while paused: a 100,000-statement spec's AST or graph took 0.5-0.9 s to walk,
    only to find no garbage. Never in a host's process (`cli.main([...])` from a test or a
    notebook): freezing keeps whatever cyclic garbage it holds then for ever."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if freeze:
            gc.freeze()
        if was_enabled:
            gc.enable()
