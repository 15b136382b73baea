"""Turn a thread's micro control-flow graph into atomic steps.

The atomicity rule (README, "What is one step"):
- a statement that reads or writes shared state (globals, pool objects),
  allocates, frees, starts a thread, or ends the thread is one step;
- statements that touch only the thread's own variables (locals, parameters,
  thread-local variables, jumps, local conditions) take no step of their own:
  they run together with the next shared statement of the same thread;
- an `atomic { }` block is one step, whatever it touches; it can run only if
  every `await` it meets holds when reached.

Fusion walks from each stable node (the thread's entry and the target of
every step) along local edges, composing them, and emits one `Action` per path
that ends with a shared edge. A cycle of local edges is cut at the node where
it closes. The guard of each composed edge becomes a `Require` in the body, so
the composed step keeps C's order of evaluation; leading ones form the guard.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

from checker.dsl.diagnostics import Span, SpecError
from checker.ir.footprint import body_footprint, touches_shared
from checker.ir.lower import MicroEdge, MicroGraph
from checker.ir.nodes import TRUE, Binary, Const, Expr, Origin, Require, Slot, Stmt

MAX_PATHS_PER_NODE = 20000


@dataclass
class FusedStep:
    src: int  # micro node
    dst: int
    guard: Expr
    body: tuple[Stmt, ...]
    origins: tuple[Origin, ...]
    visible: bool
    key: int  # index in origins of the statement the step exists for


def _visible(e: MicroEdge, slots: Sequence[Slot]) -> bool:
    if e.force_visible:
        return True
    return touches_shared(body_footprint(e.guard, e.body), slots)


def _normalize(parts: list[Stmt]) -> tuple[Expr, tuple[Stmt, ...]]:
    guard: Expr = TRUE
    i = 0
    while i < len(parts) and isinstance(parts[i], Require):
        cond = parts[i].cond  # type: ignore[attr-defined]
        guard = cond if guard == TRUE else Binary("&&", guard, cond)
        i += 1
    body = tuple(p for p in parts[i:] if not (isinstance(p, Require) and p.cond == TRUE))
    return guard, body


def fuse(g: MicroGraph, entry: int, done: int, slots: Sequence[Slot],
         all_visible: bool = False) -> tuple[list[FusedStep], list[int]]:
    """Fused steps, and the stable nodes in pc order (entry first)."""
    out = g.out_edges()
    visible = {id(e): all_visible or _visible(e, slots) for e in g.edges}
    stable = [entry]
    seen = {entry}
    work = deque([entry])
    steps: list[FusedStep] = []

    def mark(n: int) -> None:
        if n not in seen and n != done:
            seen.add(n)
            stable.append(n)
            work.append(n)

    while work:
        start = work.popleft()
        count = 0
        stack: list[tuple[int, list[Stmt], tuple[Origin, ...], bool, frozenset[int], bool,
                          int]] = [(start, [], (), False, frozenset([start]), False, -1)]
        while stack:
            node, body, origins, atomic, onpath, vis, key = stack.pop()
            for e in reversed(out.get(node, [])):
                parts = list(body)
                if e.guard != TRUE:
                    parts.append(Require(e.guard))
                parts.extend(e.body)
                origs = origins + e.origins
                in_atomic = atomic or e.region is not None or g.region_of.get(node) is not None
                dst_tagged = g.region_of.get(e.dst) is not None
                is_vis = vis or visible[id(e)]
                k = key
                if k < 0 and e.origins and (visible[id(e)] or in_atomic):
                    k = len(origins)
                finish = False
                if in_atomic:
                    if dst_tagged:
                        if e.dst in onpath:
                            raise _loop_error(origs)
                    else:
                        finish = True
                elif is_vis or e.dst == done or e.dst in onpath:
                    finish = True
                if finish:
                    guard, fbody = _normalize(parts)
                    if isinstance(guard, Const) and not guard.value:
                        continue
                    steps.append(FusedStep(start, e.dst, guard, fbody, origs, is_vis,
                                           k if k >= 0 else max(len(origs) - 1, 0)))
                    mark(e.dst)
                    count += 1
                    if count > MAX_PATHS_PER_NODE:
                        raise SpecError.at(origs[0].span if origs else Span.unknown(),
                                           "too many paths through local code here; add a step")
                else:
                    stack.append((e.dst, parts, origs, in_atomic, onpath | {e.dst}, is_vis, k))
    return steps, stable


def _loop_error(origins: tuple[Origin, ...]) -> SpecError:
    span = origins[-1].span if origins else Span.unknown()
    return SpecError.at(span, "a loop inside an atomic block (through goto or a called "
                              "procedure): an atomic block must finish in one step")
