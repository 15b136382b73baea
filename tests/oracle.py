"""A plain explicit-state explorer over the reference interpreter.

No generated code, no packing, no parent map tricks: lists of ints, a BFS
in the same thread and action order as the real engine, and networkx for
the spinning-forever check. The real engine must agree with it exactly.
"""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx

from checker.ir.interp import Fault, Interp
from checker.ir.nodes import TransitionSystem


@dataclass
class OracleResult:
    states: int
    transitions: int
    kind: str | None  # the first violation found, or None
    depth: int | None  # length of its trace, in steps


def explore(ts: TransitionSystem, livelock: bool = True) -> OracleResult:
    interp = Interp(ts.slots, ts.pools)
    init = tuple(ts.initial)
    seen: dict[tuple[int, ...], int] = {init: 0}
    graph: nx.DiGraph = nx.DiGraph()
    transitions = 0

    def invariant_broken(st: tuple[int, ...]) -> bool:
        try:
            return any(not interp.eval(e, st) for _, e in ts.invariants)
        except Fault:
            return True

    if invariant_broken(init):
        return OracleResult(1, 0, "invariant", 0)
    frontier = [init]
    depth = 0
    while frontier:
        nxt = []
        for st in frontier:
            succ = []
            try:
                for t in ts.threads:
                    for a in ts.actions_at(t.id, st[t.pc_slot]):
                        new = interp.step(a, st, t.pc_slot)
                        if new is not None:
                            succ.append(tuple(new))
            except Fault as f:
                return OracleResult(len(seen), transitions, f.kind, seen[st] + 1)
            if not succ:
                if any(st[t.pc_slot] for t in ts.threads if not t.daemon):
                    return OracleResult(len(seen), transitions, "deadlock", seen[st])
                try:
                    if any(not interp.eval(e, st) for _, e in ts.finals):
                        return OracleResult(len(seen), transitions, "final", seen[st])
                except Fault:
                    return OracleResult(len(seen), transitions, "final", seen[st])
                continue
            transitions += len(succ)
            for n in succ:
                graph.add_edge(st, n)
                if n not in seen:
                    seen[n] = seen[st] + 1
                    if invariant_broken(n):
                        return OracleResult(len(seen), transitions, "invariant", seen[n])
                    nxt.append(n)
        if nxt:
            depth += 1
        frontier = nxt
    daemons = any(t.daemon for t in ts.threads)
    if livelock and not daemons:
        cond = nx.condensation(graph)
        for comp in cond.nodes:
            members = cond.nodes[comp]["members"]
            if cond.out_degree(comp) == 0 and any(graph.has_edge(u, v) for u in members
                                                  for v in graph.successors(u) if v in members):
                depth_in = min(seen[m] for m in members)
                return OracleResult(len(seen), transitions, "deadlock", depth_in)
    if livelock:
        depth_in = _starving(ts, interp, graph, seen, skip_bottom=not daemons)
        if depth_in is not None:
            return OracleResult(len(seen), transitions, "starvation", depth_in)
    return OracleResult(len(seen), transitions, None, None)


def _starving(ts: TransitionSystem, interp: Interp, graph: nx.DiGraph,
              seen: dict[tuple[int, ...], int], skip_bottom: bool) -> int | None:
    """The distance to the nearest state of a fair cycle on which a thread
    that must finish stays unfinished, or None: the definition applied
    naively (every state, every thread, the steps recomputed by the
    interpreter; weak fairness, and strong for `fair` threads). Without
    daemons, bottom components are the spinning check's above."""
    def moves(st: tuple[int, ...]) -> list[tuple[int, tuple[int, ...]]]:
        out = []
        for t in ts.threads:
            for a in ts.actions_at(t.id, st[t.pc_slot]):
                try:
                    new = interp.step(a, st, t.pc_slot)
                except Fault:
                    continue
                if new is not None:
                    out.append((t.id, tuple(new)))
        return out

    cond = nx.condensation(graph)
    bottom = {m for c in cond.nodes if cond.out_degree(c) == 0
              for m in cond.nodes[c]["members"]} if skip_bottom else set()
    best: int | None = None
    for t in ts.threads:
        if t.daemon:
            continue
        todo = [{st for st in graph.nodes if st[t.pc_slot] != 0 and st not in bottom}]
        while todo:
            part = todo.pop()
            sub = graph.subgraph(part)
            for scc in nx.strongly_connected_components(sub):
                labelled = {st: moves(st) for st in scc}
                moved = {th for st in scc for th, n in labelled[st] if n in scc}
                if not moved:
                    continue
                enabled = {st: {th for th, _ in labelled[st]} for st in scc}
                strong = {st for st in scc for u in ts.threads
                          if u.fair and u.id not in moved and u.id in enabled[st]}
                if strong:
                    todo.append(set(scc) - strong)
                    continue
                if any(all(u.id in enabled[st] for st in scc) and u.id not in moved
                       for u in ts.threads):
                    continue
                near = min(seen[st] for st in scc)
                best = near if best is None else min(best, near)
    return best
