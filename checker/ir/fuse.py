"""Turn a thread's micro control-flow graph into atomic steps.

The atomicity rule (README, "What is one step"):
- a statement that reads or writes shared state (globals, pool objects),
  allocates, frees, starts a thread, or ends the thread is one step;
- statements that touch only the thread's own variables (locals, parameters,
  thread-local variables, jumps, local conditions) take no step of their own:
  they run with the shared statement before them, up to the next shared
  statement or `await` (at the start of a thread, and where a loop of local
  statements closes, with the shared statement after them);
- an `atomic { }` block is one step, whatever it touches; it can run only if
  every `await` it meets holds when reached.

Fusion walks from each stable node (the thread's entry and the end of every
step) and emits one `Action` per path. A path takes local edges (prefix), then
one shared edge or atomic block, then local edges again (suffix) as long as
every way on is local and not an `await`. The guard of each composed edge
becomes a `Require` in the body, so the step keeps C's order of evaluation;
leading ones form the guard. A `Require` after the shared part only ever
chooses between the two arms of a local `if` (one of them always holds), so
it never blocks a step whose shared part has run.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

from checker.dsl.diagnostics import Span, SpecError
from checker.ir.footprint import body_footprint, touches_shared
from checker.ir.micro import MicroEdge, MicroGraph
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
    at: tuple[int, ...] = ()  # per statement of body: index in origins of its source
    atomic: bool = False  # runs (part of) an `atomic { }` block
    progress: bool = False  # passes a progress label


def _visible(e: MicroEdge, slots: Sequence[Slot]) -> bool:
    if e.force_visible:
        return True
    if e.exit:
        return False  # on_exit checks may read shared state; they run with the last step
    return touches_shared(body_footprint(e.guard, e.body), slots)


def _normalize(parts: list[Stmt], at: Sequence[int]
               ) -> tuple[Expr, tuple[Stmt, ...], tuple[int, ...]]:
    """(guard, body, the origin index of each statement of body)."""
    guard: Expr = TRUE
    i = 0
    while i < len(parts) and isinstance(req := parts[i], Require):
        cond = req.cond
        guard = cond if guard == TRUE else Binary("&&", guard, cond)
        i += 1
    kept = [k for k in range(i, len(parts))
            if not (isinstance(p := parts[k], Require) and p.cond == TRUE)]
    return guard, tuple(parts[k] for k in kept), tuple(at[k] for k in kept)


@dataclass
class _Path:
    node: int
    parts: list[Stmt]
    origins: tuple[Origin, ...]
    onpath: frozenset[int]
    key: int  # -1 until the path has its shared edge or atomic block
    atomic: bool  # inside an atomic block
    chose: bool = False  # took a nondeterministic alternative (either, choose)
    at: tuple[int, ...] = ()  # per part: index in origins of its statement (-1: none yet)
    # Went through an atomic block: the spec marks what the step does as one
    # indivisible operation (atomic_inc(), test_and_set_bit()), which the
    # lock analysis does not count as a data race (checker.locks).
    was_atomic: bool = False
    progress: bool = False  # took an edge that passes a progress label


def fuse(g: MicroGraph, entry: int, done: int, slots: Sequence[Slot],
         all_visible: bool = False) -> tuple[list[FusedStep], list[int]]:
    """Fused steps, and the stable nodes in pc order (entry first)."""
    out = g.out_edges()
    # In statement-by-statement mode every statement is a step; jumps (edges
    # with no statement) are not statements and still take no step.
    visible = {id(e): (all_visible and bool(e.origins) and not e.exit) or _visible(e, slots)
               for e in g.edges}

    def tagged(n: int) -> bool:
        return g.region_of.get(n) is not None

    def suffix_ends(n: int) -> bool:
        """Whether a step that has done its shared part must stop at node n."""
        if n == done or tagged(n):
            return True
        edges = out.get(n, [])
        return not edges or any(visible[id(e)] or e.blocking or e.region is not None
                                for e in edges)

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
        stack = [_Path(start, [], (), frozenset([start]), -1, False)]
        while stack:
            p = stack.pop()
            edges = out.get(p.node, [])
            if p.chose and p.key < 0 and not p.atomic and any(e.blocking for e in edges):
                # A choice commits before a blocking statement: the thread
                # chose its branch, then waits (internal choice), so the
                # choice is a step of its own.
                count += _emit(steps, start, p, mark)
                continue
            for e in reversed(edges):
                parts = list(p.parts)
                if e.guard != TRUE:
                    parts.append(Require(e.guard))
                parts.extend(e.body)
                # an edge without a statement of its own (a call's return) belongs to the last
                here = len(p.origins) if e.origins else len(p.origins) - 1
                at = p.at + (here,) * (len(parts) - len(p.parts))
                origs = p.origins + e.origins
                in_atomic = p.atomic or e.region is not None or tagged(p.node)
                key = p.key
                if key < 0 and e.origins and (visible[id(e)] or in_atomic):
                    key = len(p.origins)
                nxt = _Path(e.dst, parts, origs, p.onpath | {e.dst}, key, in_atomic,
                            p.chose or e.choice, at, p.was_atomic or in_atomic,
                            p.progress or e.progress)
                if in_atomic and tagged(e.dst):
                    if e.dst in p.onpath:
                        raise _loop_error(origs)
                    stack.append(nxt)
                    continue
                nxt.atomic = False
                shared_done = key >= 0 or visible[id(e)] or in_atomic
                if not shared_done:
                    # Prefix: local edges before the step's shared part.
                    if e.dst == done or e.dst in p.onpath:
                        count += _emit(steps, start, nxt, mark)
                    else:
                        stack.append(nxt)
                    continue
                if nxt.key < 0:
                    nxt.key = max(len(origs) - 1, 0)
                # Suffix: local edges after it, while every way on is local.
                if e.dst in p.onpath or suffix_ends(e.dst):
                    count += _emit(steps, start, nxt, mark)
                else:
                    stack.append(nxt)
            if count > MAX_PATHS_PER_NODE:
                raise SpecError.at(p.origins[0].span if p.origins else Span.unknown(),
                                   "too many paths through local code here; add a step")
    return steps, stable


def _emit(steps: list[FusedStep], start: int, p: _Path, mark: object) -> int:
    guard, body, at = _normalize(p.parts, p.at)
    if isinstance(guard, Const) and not guard.value:
        return 0
    steps.append(FusedStep(start, p.node, guard, body, p.origins, p.key >= 0,
                           p.key if p.key >= 0 else max(len(p.origins) - 1, 0), at,
                           p.was_atomic, p.progress))
    mark(p.node)  # type: ignore[operator]
    return 1


def _loop_error(origins: tuple[Origin, ...]) -> SpecError:
    span = origins[-1].span if origins else Span.unknown()
    return SpecError.at(span, "a loop inside an atomic block (through goto or a called "
                              "procedure): an atomic block must finish in one step")
