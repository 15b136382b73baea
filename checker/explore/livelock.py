"""Runs that can never end: threads spinning forever.

After a complete search without violation, a spec whose threads can loop may
still have runs that cycle forever with some thread unfinished: a thread
spinning on `trylock_page` while the lock's holder waits for something the
spinner holds, say. Such a run ends in a *bottom* strongly connected component
of the state graph (one that no step leaves) that has at least one step
inside it. Every state in it has an unfinished thread, since a state where all
threads finished has no successor. That is the "deadlock (spinning)" verdict;
a bottom component of one state and no step is an ordinary deadlock, already
reported by the search.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components

from checker.explore.bfs import path_to
from checker.explore.codegen import Compiled
from checker.explore.common import StateGraph, where
from checker.explore.result import Violation
from checker.kinds import ViolationKind


def find_livelock(c: Compiled, parent: Mapping[int, int], graph: StateGraph) -> Violation | None:
    """A spinning run after a complete search, from the successors the search kept."""
    if graph.filler is None:
        graph.index.setdefault(c.initial, len(graph.index))
    n = graph.size()
    rows, cols = graph.rows, graph.cols
    r = np.frombuffer(rows, dtype=np.int64) if rows else np.zeros(0, dtype=np.int64)
    k = np.frombuffer(cols, dtype=np.int64) if cols else np.zeros(0, dtype=np.int64)
    labels, bad = spinning_components(r, k, n)
    if len(bad) == 0:
        return None
    graph.materialize()
    states = graph.states()
    index = graph.index
    bad_set = set(bad.tolist())
    # The earliest state of a spinning component: shortest path into it
    # (BFS parents give shortest paths; the parent map of DFS does not).
    best = None
    best_len = None
    for i, s in enumerate(states):
        if labels[i] in bad_set:
            length = len(path_to(parent, s, c.initial))
            if best_len is None or length < best_len:
                best, best_len = s, length
    assert best is not None
    comp = labels[index[best]]
    cycle = _cycle_through(c, best, lambda t: labels[index[t]] == comp)
    path = path_to(parent, best, c.initial)
    spinning = [f"{t.label} at {where(c, best, i)}"
                for i, t in enumerate(c.ts.threads) if c.pc_of(best, i) != 0]
    msg = "threads spin forever and none can finish: " + "; ".join(spinning)
    return Violation(ViolationKind.DEADLOCK, msg, None, path, cycle=cycle)


def spinning_components(r: np.ndarray, k: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """(component of each state, the bottom components with a step inside)
    of the graph of `n` states with steps `r[i] -> k[i]`."""
    matrix = csr_matrix((np.ones(len(r), dtype=np.int8), (r, k)), shape=(n, n))
    _, labels = connected_components(matrix, directed=True, connection="strong")
    leaves = labels[r] != labels[k]
    not_bottom = np.zeros(labels.max() + 1 if n else 0, dtype=bool)
    not_bottom[labels[r[leaves]]] = True
    has_inner = np.zeros_like(not_bottom)
    has_inner[labels[r[~leaves]]] = True
    return labels, np.nonzero(~not_bottom & has_inner)[0]


def _cycle_through(c: Compiled, start: int, inside: object) -> list[int]:
    """The states of a shortest cycle from `start` back to itself."""
    prev: dict[int, int] = {}
    todo = deque([start])
    while todo:
        s = todo.popleft()
        for t in c.expand(s):
            if not inside(t):  # type: ignore[operator]
                continue
            if t == start:
                out = [t]
                while s != start:
                    out.append(s)
                    s = prev[s]
                out.reverse()
                return out
            if t not in prev:
                prev[t] = s
                todo.append(t)
    raise AssertionError("bottom component without a cycle")
