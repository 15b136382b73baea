"""Partial-order reduction in the breadth-first search (`--por`).

`checker.ir.por` says which (thread, pc) pairs have only safe steps. A state
is expanded by the steps of the first thread, in thread order, that stands
at such a pc and has a successor, if every one of those successors is new
(not yet visited); otherwise by every step (the proviso: a successor seen
before may close a cycle, and a cycle of ample steps alone could postpone
another thread's step forever). A state whose expansion faults is expanded
fully (the search's own fault path). The VM's kernel applies the same rule
(`vm.search` passes it the table), so both engines find the same states.
"""

from __future__ import annotations

from collections.abc import Callable, Container

from checker.explore.codegen import Compiled

Reducer = Callable[[int, Container[int]], list[int]]


def reducer(c: Compiled) -> Reducer | None:
    """The reduced expansion of `c`'s states, or None without --por."""
    ample, split = c.ample, c.expand_split
    if ample is None or split is None:
        return None
    threads = [(t.id, off, mask) for t, (off, mask) in zip(c.ts.threads, c.thread_pc,
                                                          strict=True)]

    def expand(s: int, seen: Container[int]) -> list[int]:
        out, ends = split(s)  # raises Fault as `c.expand` does
        start = 0
        for (tid, off, mask), end in zip(threads, ends, strict=True):
            if end > start and ((s >> off) & mask) in ample[tid]:
                chosen = out[start:end]
                return chosen if all(x not in seen for x in chosen) else out
            start = end
        return out

    return expand
