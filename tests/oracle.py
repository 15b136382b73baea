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
                if any(st[t.pc_slot] for t in ts.threads):
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
    if livelock:
        cond = nx.condensation(graph)
        for comp in cond.nodes:
            members = cond.nodes[comp]["members"]
            if cond.out_degree(comp) == 0 and any(graph.has_edge(u, v) for u in members
                                                  for v in graph.successors(u) if v in members):
                depth_in = min(seen[m] for m in members)
                return OracleResult(len(seen), transitions, "deadlock", depth_in)
    return OracleResult(len(seen), transitions, None, None)
