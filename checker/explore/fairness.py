"""Starvation under fairness: a fair run that never ends and leaves a thread
unfinished forever (README, "Liveness and fairness").

The property: on every *fair* infinite run, every thread that is not a
`daemon` eventually finishes. A waiter that never gets its lock, its page or
its event never finishes, so this is "the waiter eventually gets it"; a
lost wake-up while a daemon loops alongside (the run goes on, so it is no
deadlock) breaks it too.

Fairness, per thread instance, on an infinite run:
- weak (every thread): a thread enabled in every state from some point on
  eventually takes a step; a thread that is only sometimes enabled (a
  spinner whose lock is retaken each time it is released) may starve;
- strong (`fair thread`): a thread enabled infinitely often takes steps
  infinitely often.
A step that would fault cannot be taken (the search reports the fault
itself), so it does not make its thread enabled.

The algorithm runs after a complete search, on the state graph the search
kept (the livelock pass's): its strongly connected components (scipy) hold
every infinite run; only the states of a component with a step inside are
re-expanded one action at a time to know which thread takes each step. For
each thread T that must finish, on the states where T is unfinished:
components (networkx) in which every strongly fair thread enabled somewhere
takes a step inside (else the states where it is enabled are removed and
the rest decomposed again: Emerson-Lei), and in which no thread is enabled
in every state without a step inside (weak fairness; removing states would
not help, the thread stays enabled in what is left). Such a component has a
fair run that stays in it forever: the counterexample is a lasso, a
shortest prefix from the initial state to the component's nearest state and
a cycle there, grown from a shortest cycle by detours until it is fair by
itself (each thread the cycle treats unfairly gets a detour through one of
its steps, or through a state where it is disabled).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

import networkx as nx
import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import breadth_first_order, connected_components

from checker.explore.codegen import Compiled
from checker.explore.common import StateGraph, where
from checker.explore.result import Violation
from checker.kinds import ViolationKind


@dataclass
class _Graph:
    """The states of nontrivial components, numbered as in the search's
    graph, with their steps inside their component labelled by the thread
    (its index in `ts.threads`) that takes them, and the threads enabled."""

    states: list[int]
    comp: np.ndarray
    edges: dict[int, list[Move]]  # state -> its steps inside its component
    enabled: dict[int, frozenset[int]]


# A step: (successor, thread index, action id).
Move = tuple[int, int, int]


def find_starvation(c: Compiled, graph: StateGraph, skip_bottom: bool = False
                    ) -> Violation | None:
    """A fair lasso on which some thread that must finish never does, after a
    complete search, from the steps the search kept. The prefix is a
    shortest path in the graph (a depth-first search's parent map gives
    none). `skip_bottom`: the livelock pass (`checker.explore.livelock`)
    judged the bottom components already, which are fair and would be
    reported twice."""
    must = [i for i, t in enumerate(c.ts.threads) if not t.daemon]
    if not must:
        return None
    g = _labelled(c, graph, skip_bottom)
    if g is None:
        return None
    found: list[tuple[int, set[int]]] = []  # (starved thread, fair component)
    for i in must:
        nodes = {u for u in g.edges if c.pc_of(g.states[u], i) != 0}
        found.extend((i, comp) for comp in _fair_components(c, g, nodes))
    if not found:
        return None
    return _lasso(c, graph, g, found, ViolationKind.STARVATION, _starves)


def find_no_progress(c: Compiled, graph: StateGraph) -> Violation | None:
    """A fair lasso on which a started thread with a progress label passes
    none of its progress labels (a non-progress cycle), after a complete
    search. For each such thread, its steps that pass a progress label are
    cut from the graph and the fair components of what is left, over the
    states where the thread is started and unfinished, are the non-progress
    cycles; "enabled" still counts the cut steps, so a thread that can
    always pass its label and never does is treated unfairly, not starved."""
    tindex = {t.id: i for i, t in enumerate(c.ts.threads)}
    passing = {a.id for a in c.ts.actions if a.progress}
    marked = sorted({tindex[a.thread] for a in c.ts.actions if a.progress})
    if not marked:
        return None
    g = _labelled(c, graph, skip_bottom=False)
    if g is None:
        return None
    found: list[tuple[int, _Graph, set[int]]] = []
    for i in marked:
        cut = _Graph(g.states, g.comp,
                     {u: [m for m in out if m[1] != i or m[2] not in passing]
                      for u, out in g.edges.items()}, g.enabled)
        nodes = {u for u in cut.edges if c.pc_of(g.states[u], i) != 0}
        found.extend((i, cut, comp) for comp in _fair_components(c, cut, nodes))
    if not found:
        return None
    dist, pred = _bfs(graph, c)
    thread, cut, comp = min(found, key=lambda f: (min(dist[u] for u in f[2]), f[0]))
    return _lasso(c, graph, cut, [(thread, comp)], ViolationKind.NO_PROGRESS, _no_progress,
                  (dist, pred))


def _starves(label: str, moves: bool) -> str:
    how = "moves but never finishes" if moves else "never moves"
    return f"{label} starves: on a fair run that repeats forever it {how}"


def _no_progress(label: str, moves: bool) -> str:
    how = "moves but passes" if moves else "never moves and passes"
    return (f"{label} makes no progress: on a fair run that repeats forever it {how} "
            "none of its progress labels")


def _lasso(c: Compiled, graph: StateGraph, g: _Graph, found: list[tuple[int, set[int]]],
           kind: ViolationKind, says: Callable[[str, bool], str],
           bfs: tuple[np.ndarray, np.ndarray] | None = None) -> Violation:
    """The counterexample for the (thread, fair component) pair nearest the
    initial state: a shortest prefix to its nearest state, then a cycle
    there that is fair by itself."""
    dist, pred = bfs if bfs is not None else _bfs(graph, c)
    thread, comp = min(found, key=lambda f: (min(dist[u] for u in f[1]), f[0]))
    entry = min(comp, key=lambda u: (dist[u], u))
    prefix = _prefix(pred, entry)
    cycle = _fair_cycle(c, g, comp, entry)
    states = g.states
    path = [states[u] for u in prefix]
    loop = [states[v] for v, _, _ in cycle]
    t = c.ts.threads[thread]
    movers = {th for _, th, _ in cycle}
    by = ", ".join(c.ts.threads[k].label for k in sorted(movers))
    msg = (f"{says(t.label, thread in movers)}, at {where(c, states[entry], thread)} "
           f"(the cycle's steps: {by})")
    return Violation(kind, msg, None, path, cycle=loop, cycle_actions=[a for _, _, a in cycle])


def _labelled(c: Compiled, graph: StateGraph, skip_bottom: bool) -> _Graph | None:
    """The steps inside nontrivial components of the search's graph, each
    with its thread; None if no component has a step inside (every run ends)."""
    if graph.filler is None:
        graph.index.setdefault(c.initial, len(graph.index))
    n = graph.size()
    rows, cols = graph.rows, graph.cols
    r = np.frombuffer(rows, dtype=np.int64) if rows else np.zeros(0, dtype=np.int64)
    k = np.frombuffer(cols, dtype=np.int64) if cols else np.zeros(0, dtype=np.int64)
    matrix = csr_matrix((np.ones(len(r), dtype=np.int8), (r, k)), shape=(n, n))
    _, comp = connected_components(matrix, directed=True, connection="strong")
    inner = comp[r] == comp[k]
    if not inner.any():
        return None
    live = np.zeros(comp.max() + 1, dtype=bool)
    live[comp[r[inner]]] = True
    if skip_bottom:
        leaves = np.zeros_like(live)
        leaves[comp[r[~inner]]] = True
        live &= leaves
        if not live.any():
            return None
    graph.materialize()
    states = graph.states()
    index = graph.index
    tindex = {t.id: i for i, t in enumerate(c.ts.threads)}
    edges: dict[int, list[Move]] = {}
    enabled: dict[int, frozenset[int]] = {}
    for u in np.nonzero(live[comp])[0].tolist():
        s = states[u]
        out: list[Move] = []
        en: set[int] = set()
        for a, t in c.moves(s):
            th = tindex[a.thread]
            en.add(th)
            v = index.get(t)
            if v is not None and comp[v] == comp[u]:
                out.append((v, th, a.id))
        edges[u] = out
        enabled[u] = frozenset(en)
    return _Graph(states, comp, edges, enabled)


def _fair_components(c: Compiled, g: _Graph, nodes: set[int]) -> list[set[int]]:
    """The maximal sets of `nodes`, strongly connected by steps inside
    them, on which a fair run can stay forever (Emerson-Lei)."""
    fair = {i for i, t in enumerate(c.ts.threads) if t.fair}
    out: list[set[int]] = []
    todo = [nodes]
    while todo:
        part = todo.pop()
        sub: nx.DiGraph = nx.DiGraph()
        sub.add_nodes_from(part)
        sub.add_edges_from((u, v) for u in part for v, _, _ in g.edges[u] if v in part)
        for scc in nx.strongly_connected_components(sub):
            moved = {th for u in scc for v, th, _ in g.edges[u] if v in scc}
            if not moved:
                continue  # one state, no step inside: no infinite run here
            strong = {u for u in scc if (g.enabled[u] & fair) - moved}
            if strong:
                todo.append(set(scc) - strong)
                continue
            always = frozenset.intersection(*(g.enabled[u] for u in scc))
            if always - moved:
                continue  # a thread enabled throughout never moves: unfair
            out.append(set(scc))
    return out


def _fair_cycle(c: Compiled, g: _Graph, comp: set[int], entry: int) -> list[Move]:
    """A cycle from `entry` back to it inside `comp` (its steps, the last
    one back to `entry`), fair by itself: a shortest one, with a detour for
    each thread it treats unfairly."""
    cycle = _walk(g, comp, entry, _to(entry))
    fair = {i for i, t in enumerate(c.ts.threads) if t.fair}
    for _ in range(2 * len(c.ts.threads) + 1):
        visited = [entry, *(v for v, _, _ in cycle[:-1])]
        moved = {th for _, th, _ in cycle}
        en_all = frozenset.intersection(*(g.enabled[u] for u in visited))
        en_any = frozenset.union(*(g.enabled[u] for u in visited))
        wrong = sorted((en_all - moved) | ((en_any & fair) - moved))
        if not wrong:
            return cycle
        th = wrong[0]
        if any(th == t2 for u in comp for v, t2, _ in g.edges[u] if v in comp):
            to = _walk(g, comp, entry, _by_thread(th))
        else:  # weakly fair and disabled somewhere in comp: pass there
            to = _walk(g, comp, entry, _to_disabled(g, th))
        end = to[-1][0]
        back = _walk(g, comp, end, _to(entry)) if end != entry else []
        cycle = [*cycle, *to, *back]
    raise AssertionError("a fair component without a fair cycle")


Goal = Callable[[int, int], bool]  # (successor, thread of the step) -> reached


def _to(target: int) -> Goal:
    return lambda v, th: v == target


def _by_thread(thread: int) -> Goal:
    return lambda v, th: th == thread


def _to_disabled(g: _Graph, thread: int) -> Goal:
    return lambda v, th: thread not in g.enabled[v]


def _walk(g: _Graph, comp: set[int], start: int, goal: Goal) -> list[Move]:
    """The steps of a shortest walk from `start` inside `comp` whose last
    step satisfies `goal`."""
    prev: dict[int, tuple[int, Move]] = {}  # state -> (state before, the step)
    todo = deque([start])
    seen = {start}
    while todo:
        u = todo.popleft()
        for move in g.edges[u]:
            v, th, _ = move
            if v not in comp:
                continue
            if goal(v, th):
                out = [move]
                while u != start:
                    u, step = prev[u]
                    out.append(step)
                out.reverse()
                return out
            if v not in seen:
                seen.add(v)
                prev[v] = (u, move)
                todo.append(v)
    raise AssertionError("no walk inside a strongly connected component")


def _bfs(graph: StateGraph, c: Compiled) -> tuple[np.ndarray, np.ndarray]:
    """Distance from the initial state and BFS predecessor of every state."""
    n = graph.size()
    rows, cols = graph.rows, graph.cols
    r = np.frombuffer(rows, dtype=np.int64) if rows else np.zeros(0, dtype=np.int64)
    k = np.frombuffer(cols, dtype=np.int64) if cols else np.zeros(0, dtype=np.int64)
    matrix = csr_matrix((np.ones(len(r), dtype=np.int8), (r, k)), shape=(n, n))
    root = graph.index[c.initial]
    order, pred = breadth_first_order(matrix, root, directed=True, return_predecessors=True)
    dist = np.full(n, np.iinfo(np.int64).max, dtype=np.int64)
    dist[root] = 0
    for u in order[1:].tolist():
        dist[u] = dist[pred[u]] + 1
    return dist, pred


def _prefix(pred: np.ndarray, entry: int) -> list[int]:
    out = [entry]
    while pred[out[-1]] >= 0:
        out.append(int(pred[out[-1]]))
    out.reverse()
    return out
