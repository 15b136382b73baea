"""The driver's side of a level of the hash-partitioned search, shared by
its two engines: threads on one machine (`checker.vm.parallel`) and Ray
actors on a cluster (`checker.vm.ray_search`). Where the parts live (this
process's arrays, or actors reached through Ray) is each engine's own;
what Python decides between two phases is here, once:

- `judge_events`: the states the kernels left to Python, in rank order;
  faults and escapes are expanded by the Python engine (the engine routes
  their successors), a state with no successor is judged;
- `cap_key` and `walk`: the level's violations offered in key order, up
  to the new state that passes --max-states, and where the
  single-threaded search stops (`Stop`);
- `successors_before` and `states_before`: its figures at that point;
- `restore_marks` and `replay_python`: its executed actions and covers.

A key is a successor's place in the single-threaded search's order: its
parent's rank in the level, shifted by `KEY_BITS`, plus its own place
among the parent's successors (1, 2, ...); position 0 stands for the
parent itself (a fault or a deadlock of that state). See `parallel`'s
docstring for why the result is then that search's exactly.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

import numpy as np

from checker.explore.codegen import Compiled
from checker.explore.common import check_invariant, expand_safely, terminal
from checker.explore.result import Violation
from checker.ir.interp import Fault
from checker.vm import parallel_kernel as PK

NO_KEY = 1 << 62  # past every key: no state passes the cap in this level

F = TypeVar("F")  # where an engine flags a state (a part and an index)
W = TypeVar("W")  # how an engine names a part


class Candidate(Generic[F]):
    """Something judged after a level, in key order: a violation already
    known or to work out (`judge`), and the state to flag if it is an
    invariant broken without ending the search."""

    __slots__ = ("flag", "judge", "key")

    def __init__(self, key: int, judge: Callable[[], Violation | None], flag: F | None):
        self.key = key
        self.judge = judge
        self.flag = flag


def known(v: Violation) -> Callable[[], Violation | None]:
    return lambda: v


def invariant_judge(c: Compiled, state: Callable[[], int],
                    path: Callable[[], list[int]]) -> Callable[[], Violation | None]:
    """A new state's invariant, judged when its turn comes."""
    return lambda: check_invariant(c, state(), path)


@dataclass(frozen=True)
class Stop:
    """Where the single-threaded search stops in this level: at `key`; at
    an invariant broken by the new state of that key (`new_state`), at a
    fault or deadlock of a parent (position 0), or before storing the
    state of that key (`capped`: it would pass --max-states)."""

    key: int
    new_state: bool
    capped: bool = False

    @property
    def rank(self) -> int:
        return self.key >> PK.KEY_BITS

    @property
    def pos(self) -> int:
        return self.key & ((1 << PK.KEY_BITS) - 1)


def cap_key(keys: np.ndarray, room: int) -> int:
    """The key of the new state that passes --max-states (`room`: the
    states the cap still allows; `keys`: the level's new keys, in any
    order), or NO_KEY."""
    return int(np.partition(keys, room)[room]) if room < len(keys) else NO_KEY


def walk(cands: Iterable[Candidate[F]], cap: int, offer: Callable[[Violation], bool],
         flag: Callable[[F], None]) -> Stop | None:
    """Offer the level's violations in key order, up to the key `cap`
    (`cap_key`); `flag` the states whose invariant broke without ending
    the search. Where the search stops, if it does in this level."""
    for cand in sorted(cands, key=lambda x: x.key):
        if cand.key >= cap:
            break
        v = cand.judge()
        if v is None:
            continue
        if offer(v):
            return Stop(cand.key, cand.flag is not None)
        if cand.flag is not None:
            flag(cand.flag)
    return Stop(cap, False, capped=True) if cap != NO_KEY else None


def states_before(keys: np.ndarray, key: int) -> int:
    """The level's new states the single-threaded search stored before `key`."""
    return int(np.count_nonzero(keys < key))


def successors_before(ranks: np.ndarray, nsucc: np.ndarray, rank: int, pos: int) -> int:
    """The successors of the expanded level's states (their `ranks` and
    numbers of successors) that the single-threaded search had counted
    when it stopped at (`rank`, `pos`): those of the states before that
    rank, and of that state too past position 0."""
    before = ranks <= rank if pos > 0 else ranks < rank
    return int(nsucc[before].sum())


def judge_events(c: Compiled, events: Sequence[tuple[int, int, W, int, int]],
                 path: Callable[[W, int], Callable[[], list[int]]],
                 route: Callable[[W, int, int, list[int]], None]
                 ) -> tuple[list[Candidate[F]], list[tuple[int, int]], int]:
    """The states the kernels left to Python (`events`: rank, kind, part,
    index, state; any order): a state with no successor is judged; a
    fault or an escape is expanded by the Python engine, and `route(part,
    index, key, successors)` sends its successors on (key + j + 1 is the
    j-th's). Returns the candidates, the states so expanded as (rank,
    state), for `replay_python`, and the transitions they add."""
    cands: list[Candidate[F]] = []
    expanded: list[tuple[int, int]] = []
    trans = 0
    for rank, kind, w, i, s in sorted(events, key=lambda e: e[0]):
        key = rank << PK.KEY_BITS
        if kind == PK.EV_TERMINAL:
            cands.append(Candidate(key, _terminal(c, s, path(w, i)), None))
            continue
        expanded.append((rank, s))
        try:
            succ = c.expand(s)
        except Fault:
            succ, faults = expand_safely(c, s, path(w, i))
            cands.extend(Candidate(key, known(v), None) for v in faults)  # same key: in order
            if not succ:
                continue
        if not succ:
            cands.append(Candidate(key, _terminal(c, s, path(w, i)), None))
            continue
        route(w, i, key, list(succ))
        trans += len(succ)
    return cands, expanded, trans


def _terminal(c: Compiled, s: int, path: Callable[[], list[int]]
              ) -> Callable[[], Violation | None]:
    return lambda: terminal(c, s, path)


def restore_marks(c: Compiled, fired: bytes, covered: set[int]) -> None:
    """The Python engine's executed actions and covers as they were."""
    c.fired[:] = fired
    c.runtime.covered.clear()
    c.runtime.covered.update(covered)


def replay_python(c: Compiled, expanded: Iterable[tuple[int, int]], last: int) -> None:
    """Mark, in the Python engine, the executed actions and covers of the
    states it expanded in this level up to rank `last` (`judge_events`)."""
    for rank, s in expanded:
        if rank <= last:
            try:
                c.expand(s)
            except Fault:
                expand_safely(c, s, list)
